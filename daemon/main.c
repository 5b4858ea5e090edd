/* main.c: hgwd's entry point: options, start-up, signals, reload and applying
 * configuration changes, clean stop. */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "ctl.h"
#include "hgwd.h"
#include "hostnet.h"
#include "kernel.h"
#include "lease.h"
#include "log.h"
#include "members.h"
#include "peer.h"
#include "tls.h"

#define DEFAULT_SOCK "/run/hgw/hgwd.sock"

void fib_kernel_cb(struct fib *f, struct kernel_cb *cb);

static void
usage(void)
{
	fprintf(stderr, "usage: hgwd -f FILE [-s SOCKET] [-n] [-d] [-v]\n"
	    "  -f FILE    configuration file\n"
	    "  -s SOCKET  control socket (default " DEFAULT_SOCK ")\n"
	    "  -n         check the configuration, print it normalized, exit\n"
	    "  -d         run in the background, log to syslog\n"
	    "  -v         verbose: debug logging of everything\n");
	exit(2);
}

uint32_t
hgwd_now_ds(const struct hgwd *d)
{
	return (uint32_t)((now_ms() - d->start_ms) / 100) & 0x3fffffffu;
}

static void
kparams(const struct config *c, struct kernel_params *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->ifname, sizeof(p->ifname), "%s", c->ifname);
	/* hostint: interface auto: the default route's (or the first neighbor's). */
	if (c->ifauto && hostnet_auto_ifname(c, p->ifname) < 0)
		p->ifname[0] = '\0';
	p->proto = c->kernel_proto;
	p->table = c->kernel_table;
	p->metric = c->kernel_metric;
}

/* Our node id and advertised gateways, from the config or the interface. */
static int
identity(struct hgwd *d, const struct config *c, uint32_t *id, struct hgw_addr *a4,
    struct hgw_addr *a6)
{
	struct hgw_addr ifa;

	memset(a4, 0, sizeof(*a4));
	memset(a6, 0, sizeof(*a6));
	/* Keep the addresses in use while the interface has them: another
	 * address added later must not move our gateway or node id. */
	if (c->address4.family)
		*a4 = c->address4;
	else if (d->addr4.family && !c->address4.family && kernel_if_has(d->kernel, &d->addr4))
		*a4 = d->addr4;
	else
		kernel_if_addr(d->kernel, AF_INET, a4);
	if (c->address6.family)
		*a6 = c->address6;
	else if (d->addr6.family && kernel_if_has(d->kernel, &d->addr6))
		*a6 = d->addr6;
	else
		kernel_if_addr(d->kernel, AF_INET6, a6);
	/* The node id is the interface's own IPv4 address, whatever gateway
	 * is advertised; the configured address only when the interface has none. */
	memset(&ifa, 0, sizeof(ifa));
	ifa.family = AF_INET;
	ifa.bytes[0] = (uint8_t)(d->node_id >> 24);
	ifa.bytes[1] = (uint8_t)(d->node_id >> 16);
	ifa.bytes[2] = (uint8_t)(d->node_id >> 8);
	ifa.bytes[3] = (uint8_t)d->node_id;
	if (c->node_id)
		*id = c->node_id;
	else if (d->node_id != 0 && kernel_if_has(d->kernel, &ifa))
		*id = d->node_id;
	else if (kernel_if_addr(d->kernel, AF_INET, &ifa) == 0 || (ifa = *a4).family)
		*id = (uint32_t)ifa.bytes[0] << 24 | (uint32_t)ifa.bytes[1] << 16 |
		    (uint32_t)ifa.bytes[2] << 8 | ifa.bytes[3];
	else
		*id = 0;
	return *id != 0 ? 0 : -1;
}

static const struct hgw_addr *
own_gw(const struct hgwd *d, int family)
{
	static struct hgw_addr unspec4 = { AF_INET, { 0 } }, unspec6 = { AF_INET6, { 0 } };
	const struct hgw_addr *a = family == AF_INET ? &d->addr4 : &d->addr6;

	if (a->family)
		return a;
	return family == AF_INET ? &unspec4 : &unspec6;
}

static void
add_local(struct hgwd *d, const struct hgw_prefix *p)
{
	rib_announce(&d->rib, p, NULL, d->node_id, own_gw(d, p->family), hgwd_now_ds(d));
}

static void
del_local(struct hgwd *d, const struct hgw_prefix *p, uint32_t origin)
{
	rib_withdraw(&d->rib, p, NULL, origin);
}

void
hgwd_add_own(struct hgwd *d, const struct hgw_prefix *p)
{
	add_local(d, p);
	peers_announce(d, p, 0);
	peers_flush(d);
}

void
hgwd_del_own(struct hgwd *d, const struct hgw_prefix *p)
{
	del_local(d, p, d->node_id);
	peers_announce(d, p, 1);
	peers_flush(d);
}

/* Every network we own: configured ones, then leased ones. */
static size_t
own_networks(struct hgwd *d, struct hgw_prefix *out, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < d->cfg.nnetworks && n < max; i++)
		out[n++] = d->cfg.networks[i];
	if (n + 2 <= max)
		n += (size_t)leases_own(d, out + n, 2);
	return n;
}

/* The interface's addresses changed: adopt new gateways and node id. */
void
hgwd_link_changed(struct hgwd *d)
{
	struct hgw_addr a4, a6;
	struct hgw_prefix own[258];
	uint32_t id;
	size_t i, n;
	char nb[16], ab[HGW_ADDRSTRLEN];

	if (identity(d, &d->cfg, &id, &a4, &a6) < 0)
		return;		/* keep what we had until an address comes back */
	if (id == d->node_id && hgw_addr_cmp(&a4, &d->addr4) == 0 &&
	    hgw_addr_cmp(&a6, &d->addr6) == 0)
		return;
	n = own_networks(d, own, sizeof(own) / sizeof(own[0]));
	for (i = 0; i < n; i++)
		del_local(d, &own[i], d->node_id);
	d->addr4 = a4;
	d->addr6 = a6;
	if (id != d->node_id) {
		char err[64];

		log_info("node id is now %s", hgw_nodeid_fmt(id, nb, sizeof(nb)));
		d->node_id = id;
		peers_reset(d, NULL, err, sizeof(err));
	}
	for (i = 0; i < n; i++) {
		add_local(d, &own[i]);
		peers_announce(d, &own[i], 0);
	}
	peers_flush(d);
	log_info("advertising gateway %s%s%s", a4.family ? hgw_addr_fmt(&a4, ab, sizeof(ab)) : "-",
	    a6.family ? " and " : "", a6.family ? hgw_addr_fmt(&a6, nb, sizeof(nb)) : "");
}

int
hgwd_apply_config(struct hgwd *d, const struct config *nc, char *err, size_t errlen)
{
	struct config old;
	struct kernel_params op, np;
	struct hgw_addr a4, a6;
	uint32_t id, old_id;
	size_t i;
	int ident_changed;
	char pb[HGW_ADDRSTRLEN];

	kparams(&d->cfg, &op);
	kparams(nc, &np);
	/* hostint: the interface in use is the kernel's (interface auto may have
	 * moved since); auto finding nothing now keeps it. */
	snprintf(op.ifname, sizeof(op.ifname), "%s", kernel_params(d->kernel)->ifname);
	if (nc->ifauto && np.ifname[0] == '\0')
		snprintf(np.ifname, sizeof(np.ifname), "%s", d->cfg.ifname);
	if (strcmp(op.ifname, np.ifname) != 0)
		kernel_set_params(d->kernel, &np);
	if (identity(d, nc, &id, &a4, &a6) < 0) {
		kernel_set_params(d->kernel, &op);
		snprintf(err, errlen, "no node id: %s has no IPv4 address and no node-id is set",
		    nc->ifname);
		return -1;
	}
	if (strcmp(nc->secret_file, d->cfg.secret_file) != 0 ||
	    strcmp(nc->tls_ca, d->cfg.tls_ca) != 0 || strcmp(nc->tls_cert, d->cfg.tls_cert) != 0 ||
	    strcmp(nc->tls_key, d->cfg.tls_key) != 0) {
		struct tls *nt;
		char e2[64];

		if (tls_load(nc, &nt, err, errlen) < 0) {
			kernel_set_params(d->kernel, &op);
			return -1;
		}
		tls_free(d->tls);
		d->tls = nt;
		log_info("mesh transport is now %s; resetting every session",
		    nt ? (strcmp(tls_mode(nt), "psk") == 0 ? "TLS 1.3 with a pre-shared key" :
		    "TLS 1.3 with certificates") : "plain TCP (unauthenticated)");
		peers_reset(d, NULL, e2, sizeof(e2));
	}
	if (nc->listen_port != d->listen_port && peers_listen(d, nc->listen_port) < 0) {
		kernel_set_params(d->kernel, &op);
		snprintf(err, errlen, "cannot listen on port %u", nc->listen_port);
		peers_listen(d, d->cfg.listen_port);
		return -1;
	}
	old = d->cfg;
	if (config_copy(&d->cfg, nc) < 0) {
		d->cfg = old;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (d->cfg.ifauto)	/* hostint: the interface auto chose */
		snprintf(d->cfg.ifname, sizeof(d->cfg.ifname), "%s", np.ifname);
	ident_changed = id != d->node_id || hgw_addr_cmp(&a4, &d->addr4) != 0 ||
	    hgw_addr_cmp(&a6, &d->addr6) != 0;
	old_id = d->node_id;
	/* Networks: withdraw the removed, announce the new. */
	for (i = 0; i < old.nnetworks; i++) {
		if (ident_changed || !config_has_network(nc, &old.networks[i])) {
			del_local(d, &old.networks[i], d->node_id);
			if (!config_has_network(nc, &old.networks[i])) {
				log_info("network %s removed: withdrawing it",
				    hgw_prefix_fmt(&old.networks[i], pb, sizeof(pb)));
				peers_announce(d, &old.networks[i], 1);
			}
		}
	}
	if (ident_changed) {
		d->addr4 = a4;
		d->addr6 = a6;
		if (id != d->node_id) {
			char e2[64];

			d->node_id = id;
			peers_reset(d, NULL, e2, sizeof(e2));
		}
	}
	for (i = 0; i < nc->nnetworks; i++) {
		int is_new = !config_has_network(&old, &nc->networks[i]);

		if (is_new || ident_changed) {
			add_local(d, &nc->networks[i]);
			peers_announce(d, &nc->networks[i], 0);
			if (is_new)
				log_info("network %s added: announcing it",
				    hgw_prefix_fmt(&nc->networks[i], pb, sizeof(pb)));
		}
	}
	peers_flush(d);
	if (op.proto != np.proto || op.table != np.table || op.metric != np.metric ||
	    strcmp(op.ifname, np.ifname) != 0 || old.kernel_on != nc->kernel_on) {
		log_info("kernel settings changed: rewriting our routes");
		kernel_set_params(d->kernel, &np);
		fib_params_changed(d->fib, &op);
	}
	if (ident_changed) {
		struct hgw_prefix leased[2];
		int k, nl = leases_own(d, leased, 2);

		for (k = 0; k < nl; k++) {
			del_local(d, &leased[k], old_id);
			hgwd_add_own(d, &leased[k]);
		}
	}
	peers_sync_config(d);
	leases_config_changed(d);
	members_config_changed(d);
	hostnet_update(d->hostnet);	/* hostint: cluster networks, ip-masq */
	config_free(&old);
	return 0;
}

int
hgwd_reload(struct hgwd *d, char *err, size_t errlen)
{
	struct config nc;

	if (config_load(d->cfg_path, &nc, err, errlen) < 0) {
		log_warnx("reload: %s; keeping the running configuration", err);
		return -1;
	}
	if (hgwd_apply_config(d, &nc, err, errlen) < 0) {
		log_warnx("reload: %s; keeping the running configuration", err);
		config_free(&nc);
		return -1;
	}
	config_free(&nc);
	log_info("configuration reloaded from %s", d->cfg_path);
	return 0;
}

int
hgwd_write_config(struct hgwd *d, char *err, size_t errlen)
{
	char tmp[4096], bak[4096];
	struct stat st;
	mode_t mode = stat(d->cfg_path, &st) == 0 ? st.st_mode & 07777 : 0644;
	FILE *f;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", d->cfg_path) >= (int)sizeof(tmp) ||
	    snprintf(bak, sizeof(bak), "%s.bak", d->cfg_path) >= (int)sizeof(bak)) {
		snprintf(err, errlen, "path too long");
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 ||
	    fchmod(fd, mode) < 0 ||
	    (f = fdopen(fd, "w")) == NULL) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fprintf(f, "! hgwd configuration, written by 'write memory'\n");
	config_write(&d->cfg, f);
	if (fflush(f) != 0 || fsync(fd) != 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		fclose(f);
		unlink(tmp);
		return -1;
	}
	fclose(f);
	/* Keep the previous file as .bak, then replace atomically. */
	unlink(bak);
	if (link(d->cfg_path, bak) < 0 && errno != ENOENT)
		log_warn("write memory: cannot keep a backup as %s", bak);
	if (rename(tmp, d->cfg_path) < 0) {
		snprintf(err, errlen, "%s: %s", d->cfg_path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	log_info("configuration written to %s", d->cfg_path);
	return 0;
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct hgwd *d = arg;
	char err[256];

	if (sig == SIGHUP) {
		log_info("SIGHUP: reloading %s", d->cfg_path);
		hgwd_reload(d, err, sizeof(err));
		return;
	}
	log_info("%s: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	d->stopping = 1;
	event_base_loopbreak(d->base);
}

/* Take the hard limit of file descriptors, and keep the connections allowed
 * in their handshake well below it. */
static void
raise_fd_limit(struct hgwd *d)
{
	struct rlimit rl;

	d->pending_max = 1024;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)d->pending_max > rl.rlim_cur / 4)
		d->pending_max = (int)(rl.rlim_cur / 4);
}

static void
daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		fatalx("fork: %s", strerror(errno));
	if (pid > 0)
		_exit(0);
	setsid();
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

int
main(int argc, char **argv)
{
	struct hgwd d;
	const char *cfg_path = NULL, *sock = DEFAULT_SOCK;
	int ch, check = 0, bg = 0, verbose = 0, sigs[] = { SIGTERM, SIGINT, SIGHUP };
	char err[512], nb[16], a4[HGW_ADDRSTRLEN], a6[HGW_ADDRSTRLEN];
	struct kernel_params kp;
	struct kernel_cb kcb;
	size_t i;

	while ((ch = getopt(argc, argv, "f:s:ndvh")) != -1) {
		switch (ch) {
		case 'f': cfg_path = optarg; break;
		case 's': sock = optarg; break;
		case 'n': check = 1; break;
		case 'd': bg = 1; break;
		case 'v': verbose = 1; break;
		default: usage();
		}
	}
	if (cfg_path == NULL || optind != argc)
		usage();
	memset(&d, 0, sizeof(d));
	if (config_load(cfg_path, &d.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (check) {
		config_write(&d.cfg, stdout);
		config_free(&d.cfg);
		return 0;
	}
	if (bg)
		daemonize();
	log_init("hgwd", bg, verbose);
	signal(SIGPIPE, SIG_IGN);
	d.cfg_path = cfg_path;
	d.sock_path = sock;
	d.start_ms = now_ms();
	d.backoff_seed = (uint32_t)getpid() ^ (uint32_t)d.start_ms;
	TAILQ_INIT(&d.peers);
	if ((d.base = event_base_new()) == NULL)
		fatalx("cannot create the event loop");
	if (rib_init(&d.rib, fib_schedule, NULL) < 0 || (d.fib = fib_new(&d)) == NULL)
		fatalx("out of memory");
	d.rib.dirty_arg = d.fib;
	kparams(&d.cfg, &kp);
	memset(&kcb, 0, sizeof(kcb));
	fib_kernel_cb(d.fib, &kcb);
	if ((d.kernel = kernel_open(d.base, &kp, &kcb)) == NULL)
		fatalx("cannot open the kernel's netlink interface");
	/* hostint: interface auto */
	if (d.cfg.ifauto) {
		if (kp.ifname[0] == '\0')
			fatalx("interface auto: no default route and no route to a neighbor; name the interface");
		snprintf(d.cfg.ifname, sizeof(d.cfg.ifname), "%s", kp.ifname);
		log_info("interface auto: %s (the %s)", kp.ifname,
		    d.cfg.nneighbors ? "default route's, or the first neighbor's route's" :
		    "default route's");
	}
	if (kernel_ifindex(d.kernel) == 0)
		log_warnx("interface %s does not exist (yet): routes wait for it", d.cfg.ifname);
	if (identity(&d, &d.cfg, &d.node_id, &d.addr4, &d.addr6) < 0)
		fatalx("no node id: %s has no IPv4 address and the configuration sets no node-id",
		    d.cfg.ifname);
	if (tls_load(&d.cfg, &d.tls, err, sizeof(err)) < 0)
		fatalx("%s", err);
	if (cmd_init(&d) < 0)
		fatalx("out of memory");
	if (ctl_open(&d, sock) < 0)
		fatalx("cannot open the control socket %s", sock);
	if (peers_listen(&d, d.cfg.listen_port) < 0)
		fatalx("cannot listen on port %u", d.cfg.listen_port);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		d.sig_ev[i] = evsignal_new(d.base, sigs[i], on_signal, &d);
		event_add(d.sig_ev[i], NULL);
	}
	log_info("hgwd %s starting: node %s, interface %s, gateway %s%s%s, port %u",
	    PACKAGE_VERSION, hgw_nodeid_fmt(d.node_id, nb, sizeof(nb)), d.cfg.ifname,
	    d.addr4.family ? hgw_addr_fmt(&d.addr4, a4, sizeof(a4)) : "-",
	    d.addr6.family ? " and " : "", d.addr6.family ? hgw_addr_fmt(&d.addr6, a6, sizeof(a6)) : "",
	    d.listen_port);
	if (d.tls == NULL)
		log_info("the mesh is unauthenticated: any host on the LAN can announce routes (see secret-file and tls)");
	else
		log_info("the mesh is authenticated: TLS 1.3 with %s",
		    strcmp(tls_mode(d.tls), "psk") == 0 ? "a pre-shared key" : "certificates");
	d.accept_tokens = 1000;
	raise_fd_limit(&d);
	d.accept_last_ms = now_ms();
	for (i = 0; i < d.cfg.nnetworks; i++)
		add_local(&d, &d.cfg.networks[i]);
	if (leases_init(&d) < 0)
		fatalx("out of memory");
	members_start(&d);
	peers_sync_config(&d);
	fib_start(d.fib);
	/* hostint: host networking; it starts itself once fib_sync_done(). */
	if ((d.hostnet = hostnet_new(&d)) == NULL)
		fatalx("out of memory");
	event_base_dispatch(d.base);

	/* Clean stop: tell the peers, take our routes out of the kernel, and
	 * give the NOTIFYs a moment to leave. */
	d.stopping = 1;
	peers_shutdown(&d);
	fib_shutdown(d.fib);
	/* hostint: SIGTERM is a shutdown today; a graceful restart passes keep=1. */
	hostnet_stop(d.hostnet, 0);
	if (d.nclosing > 0) {
		struct timeval tv = { 1, 0 };

		event_base_loopexit(d.base, &tv);
		event_base_dispatch(d.base);
	}
	ctl_close(&d);
	members_stop(&d);
	free(d.members);
	peers_unlisten(&d);
	peers_free(&d);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		event_free(d.sig_ev[i]);
	leases_free(&d);
	hostnet_free(d.hostnet);	/* hostint */
	fib_free(d.fib);
	tls_free(d.tls);
	kernel_close(d.kernel);
	rib_destroy(&d.rib);
	cmd_free(&d);
	config_free(&d.cfg);
	event_base_free(d.base);
	log_info("stopped");
	return 0;
}
