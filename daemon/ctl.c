/* ctl.c: the control socket server: connections, credentials, line protocol, streaming output. */
#include "ctl.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <json-c/json.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cmd.h"
#include "cmdtree.h"
#include "hgwd.h"
#include "log.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

#define CTL_LOWAT	(64 * 1024)	/* refill below this */
#define CTL_HIWAT	(256 * 1024)	/* stop generating above this */
#define CTL_MAX_LINE	4096
#define CTL_MAX_CONNS	64

struct ctl_conn {
	TAILQ_ENTRY(ctl_conn) entry;
	struct ctl *ctl;
	struct bufferevent *bev;
	uid_t uid;
	gid_t gid;
	int priv;
	unsigned mode;
	ctl_gen_fn gen;
	void *gen_state;
	void (*gen_free)(void *);
};

struct ctl {
	struct hgwd *d;
	struct evconnlistener *l;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	gid_t gid;
	int nconns;
	TAILQ_HEAD(, ctl_conn) conns;
};

static void conn_read(struct bufferevent *bev, void *arg);
static void conn_write(struct bufferevent *bev, void *arg);
static void conn_event(struct bufferevent *bev, short what, void *arg);

void
ctl_line(struct ctl_conn *c, int code, const char *text)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	int last = code < 1000 || code >= 8000;

	evbuffer_add_printf(out, "%04d%c%s\n", code, last ? ' ' : '-', text);
}

void
ctl_printf(struct ctl_conn *c, const char *fmt, ...)
{
	char buf[4096], *p, *nl;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (p = buf; ; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL) {
			if (*p)
				ctl_line(c, CTL_DATA, p);
			break;
		}
		*nl = '\0';
		ctl_line(c, CTL_DATA, p);
	}
}

void
ctl_json(struct ctl_conn *c, struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
	struct evbuffer *out = bufferevent_get_output(c->bev);

	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);

		evbuffer_add_printf(out, "%04d-%.*s\n", CTL_DATA, (int)n, s);
		s += n + (nl != NULL);
	}
	json_object_put(o);
}

size_t
ctl_pending(const struct ctl_conn *c)
{
	return evbuffer_get_length(bufferevent_get_output(c->bev));
}

unsigned
ctl_mode(const struct ctl_conn *c)
{
	return c->mode;
}

void
ctl_set_mode(struct ctl_conn *c, unsigned mode)
{
	c->mode = mode;
}

int
ctl_privileged(const struct ctl_conn *c)
{
	return c->priv;
}

int
ctl_root(const struct ctl_conn *c)
{
	return c->uid == 0 || c->uid == geteuid();
}

void
ctl_stream(struct ctl_conn *c, ctl_gen_fn fn, void *state, void (*free_fn)(void *))
{
	c->gen = fn;
	c->gen_state = state;
	c->gen_free = free_fn;
}

static void
conn_free(struct ctl_conn *c)
{
	if (c->gen_free && c->gen_state)
		c->gen_free(c->gen_state);
	TAILQ_REMOVE(&c->ctl->conns, c, entry);
	c->ctl->nconns--;
	bufferevent_free(c->bev);
	free(c);
}

/* Runs the generator while the client has room; 1 when it finished. */
static int
run_gen(struct ctl_conn *c)
{
	while (c->gen != NULL && ctl_pending(c) < CTL_HIWAT) {
		if (c->gen(c, c->gen_state) == 0) {
			if (c->gen_free)
				c->gen_free(c->gen_state);
			c->gen = NULL;
			c->gen_state = NULL;
			c->gen_free = NULL;
			ctl_line(c, CTL_OK, "ok");
			return 1;
		}
	}
	return c->gen == NULL;
}

static void
run_line(struct ctl_conn *c, char *line)
{
	struct ctl *ctl = c->ctl;
	char msg[512];
	int code;

	msg[0] = '\0';
	code = cmd_run(ctl->d, c, line, msg, sizeof(msg));
	if (code == CMD_STREAMING) {
		if (!run_gen(c))
			bufferevent_disable(c->bev, EV_READ);
		return;
	}
	ctl_line(c, code, msg[0] ? msg : code == CTL_OK ? "ok" : "error");
}

static void
conn_read(struct bufferevent *bev, void *arg)
{
	struct ctl_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	while (c->gen == NULL) {
		size_t n;
		char *line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF);

		if (line == NULL) {
			if (evbuffer_get_length(in) > CTL_MAX_LINE) {
				evbuffer_drain(in, evbuffer_get_length(in));
				ctl_line(c, CTL_ERR_TOOLONG, "% Line too long");
			}
			return;
		}
		if (n > 0 && line[n - 1] == '\r')
			line[n - 1] = '\0';
		if (n > CTL_MAX_LINE)
			ctl_line(c, CTL_ERR_TOOLONG, "% Line too long");
		else
			run_line(c, line);
		free(line);
	}
}

static void
conn_write(struct bufferevent *bev, void *arg)
{
	struct ctl_conn *c = arg;

	if (c->gen == NULL)
		return;
	if (run_gen(c)) {
		bufferevent_enable(bev, EV_READ);
		conn_read(bev, c);	/* lines that waited */
	}
}

static void
conn_event(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_free(arg);
}

/* Root, the daemon's own user, or a member of the socket file's group, by
 * primary or supplementary group (SO_PEERGROUPS), may run everything. */
static int
privileged(struct ctl *ctl, int fd, const struct ucred *cred)
{
	gid_t groups[256];
	socklen_t glen = sizeof(groups);
	struct stat st;
	gid_t sock_gid = stat(ctl->path, &st) == 0 ? st.st_gid : ctl->gid;
	size_t i;

	if (cred->uid == 0 || cred->uid == geteuid() || cred->gid == sock_gid)
		return 1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen) == 0)
		for (i = 0; i < glen / sizeof(groups[0]); i++)
			if (groups[i] == sock_gid)
				return 1;
	return 0;
}

static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
    void *arg)
{
	struct ctl *ctl = arg;
	struct ctl_conn *c;
	struct ucred cred;
	socklen_t clen = sizeof(cred);

	if (ctl->nconns >= CTL_MAX_CONNS) {
		log_warnx("control: too many connections, refusing one");
		close(fd);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0) {
		log_warn("control: SO_PEERCRED");
		close(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	c->ctl = ctl;
	c->uid = cred.uid;
	c->gid = cred.gid;
	c->priv = privileged(ctl, fd, &cred);
	c->mode = CMD_MODE_VIEW;
	c->bev = bufferevent_socket_new(ctl->d->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		close(fd);
		free(c);
		return;
	}
	TAILQ_INSERT_TAIL(&ctl->conns, c, entry);
	ctl->nconns++;
	bufferevent_setcb(c->bev, conn_read, conn_write, conn_event, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, CTL_LOWAT, 0);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static int
mkdir_parent(const char *path)
{
	char buf[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *dir;

	snprintf(buf, sizeof(buf), "%s", path);
	dir = dirname(buf);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

int
ctl_open(struct hgwd *d, const char *path)
{
	struct ctl *ctl;
	struct sockaddr_un sun;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("control socket path %s is too long", path);
		return -1;
	}
	if ((ctl = calloc(1, sizeof(*ctl))) == NULL)
		return -1;
	TAILQ_INIT(&ctl->conns);
	ctl->d = d;
	ctl->gid = getegid();
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (mkdir_parent(path) < 0) {
		log_warn("control: cannot create the folder of %s", path);
		goto fail;
	}
	/* A socket file that answers belongs to a running daemon. */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0) {
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			close(fd);
			log_warnx("control: another hgwd answers on %s", path);
			goto fail;
		}
		close(fd);
	}
	unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		log_warn("control: cannot bind %s", path);
		if (fd >= 0)
			close(fd);
		goto fail;
	}
	if (chmod(path, 0660) < 0)
		log_warn("control: chmod %s", path);
	ctl->l = evconnlistener_new(d->base, on_accept, ctl, LEV_OPT_CLOSE_ON_FREE |
	    LEV_OPT_CLOSE_ON_EXEC, 16, fd);
	if (ctl->l == NULL) {
		close(fd);
		unlink(path);
		goto fail;
	}
	d->ctl = ctl;
	return 0;
fail:
	free(ctl);
	return -1;
}

void
ctl_close(struct hgwd *d)
{
	struct ctl *ctl = d->ctl;
	struct ctl_conn *c;

	if (ctl == NULL)
		return;
	while ((c = TAILQ_FIRST(&ctl->conns)) != NULL)
		conn_free(c);
	evconnlistener_free(ctl->l);
	unlink(ctl->path);
	free(ctl);
	d->ctl = NULL;
}
