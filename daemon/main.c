/* main.c: hgwd's entry point: options, daemonizing once up, the pid file,
 * start-up in dependency order, signals, and the clean stop. Nobody calls
 * it: it builds the kernel's callback (route events to fib, link events to
 * fib and identity) and hands every later change to the modules. */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"
#include "ctl.h"
#include "fib.h"
#include "gr.h"
#include "hgwd.h"
#include "http.h"
#include "identity.h"
#include "encap.h"
#include "hostnet.h"
#include "kernel.h"
#include "lease.h"
#include "leaseroute.h"
#include "listen.h"
#include "leave.h"
#include "liveness.h"
#include "log.h"
#include "members.h"
#include "notify.h"
#include "origin.h"
#include "peer.h"
#include "reconf.h"
#include "sync.h"
#include "tls.h"

#define DEFAULT_SOCK "/run/hgw/hgwd.sock"
#define DEFAULT_CONFIG SYSCONFDIR "/hgw/hgwd.conf"

static const char *pidfile;
static int ready_fd = -1;		/* -d: tells the waiting parent we are up */

static void __attribute__((noreturn))
usage(FILE *out, int code)
{
	fprintf(out, "usage: hgwd [-ndvVh] [-f FILE] [-s SOCKET] [-p PIDFILE]\n"
	    "  -f, --config FILE     configuration file (default " DEFAULT_CONFIG ")\n"
	    "  -s, --socket SOCKET   control socket (default " DEFAULT_SOCK ")\n"
	    "  -p, --pidfile FILE    write the daemon's pid there; refuse to start if\n"
	    "                        it names a running hgwd\n"
	    "  -n, --check           check the configuration, print it normalized, exit\n"
	    "  -d, --daemon          run in the background once up, log to syslog\n"
	    "  -v, --verbose         debug logging of everything\n"
	    "  -V, --version         print the version and exit\n"
	    "  -h, --help            print this help and exit\n");
	exit(code);
}

/* Kernel events: routes to the fib; the LAN interface to the fib (on-link
 * verdicts, resync) and then to identity (our addresses). */
static void
on_kernel_link(void *arg, int resync)
{
	struct hgwd *d = arg;

	fib_on_link(d->fib, resync);
	identity_link_changed(d);
	encap_update(d);	/* the VXLAN device follows the LAN address and MTU */
	liveness_link_changed(d);	/* our link back: kick every session */
}

static void
on_kernel_route(void *arg, int add, const struct hgw_prefix *p, const struct hgw_addr *gw,
    uint32_t metric)
{
	struct hgwd *d = arg;

	fib_on_route(d->fib, add, p, gw, metric);
}

static void
on_kernel_overrun(void *arg)
{
	struct hgwd *d = arg;

	fib_on_overrun(d->fib);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct hgwd *d = arg;
	char err[256];

	if (sig == SIGHUP) {
		log_info("SIGHUP: reloading %s", d->cfg_path);
		notify_reloading(d);
		reconf_reload(d, err, sizeof(err));
		notify_ready(d);
		return;
	}
	if (sig == SIGUSR2)
		d->leaving = 1;
	log_notice("%s: %s", sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "SIGUSR2",
	    d->leaving || !d->cfg.gr_on ? "shutting down: leaving the mesh" :
	    "stopping to restart: routes stay in the kernel, peers keep ours");
	d->stopping = 1;
	event_base_loopbreak(d->base);
}

/* The parent of -d: waits until the child says it is up ("R") or ends,
 * and prints the child's errors ("E<text>"). Returns the exit code. */
static int
wait_ready(int fd, pid_t pid)
{
	char buf[4096], line[1100];
	size_t ll = 0;
	ssize_t n;
	int ready = 0, said = 0, st;

	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		ssize_t i;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				if (ll < sizeof(line) - 1)
					line[ll++] = buf[i];
				continue;
			}
			line[ll] = '\0';
			ll = 0;
			if (strcmp(line, "R") == 0)
				ready = 1;
			else if (line[0] == 'E') {
				fprintf(stderr, "hgwd: %s\n", line + 1);
				said = 1;
			}
		}
	}
	if (ready)
		return 0;
	if (waitpid(pid, &st, 0) < 0) {
		fprintf(stderr, "hgwd: the daemon ended before it was up\n");
		return 1;
	}
	if (!said)
		fprintf(stderr, "hgwd: the daemon ended before it was up (%s %d)\n",
		    WIFEXITED(st) ? "exit status" : "signal",
		    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	return WIFEXITED(st) && WEXITSTATUS(st) != 0 ? WEXITSTATUS(st) : 1;
}

static void
daemonize(void)
{
	pid_t pid;
	int fd, p[2];

	if (pipe2(p, O_CLOEXEC) < 0) {
		fprintf(stderr, "hgwd: pipe: %s\n", strerror(errno));
		exit(1);
	}
	if ((pid = fork()) < 0) {
		fprintf(stderr, "hgwd: fork: %s\n", strerror(errno));
		exit(1);
	}
	if (pid > 0) {
		close(p[1]);
		_exit(wait_ready(p[0], pid));
	}
	close(p[0]);
	ready_fd = p[1];
	log_set_err_fd(ready_fd);
	setsid();
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

static void
pidfile_remove(void)
{
	char buf[32];
	FILE *f;

	if (pidfile == NULL || (f = fopen(pidfile, "r")) == NULL)
		return;
	/* Only our own: a second hgwd refused at start must not remove it. */
	if (fgets(buf, sizeof(buf), f) != NULL && atol(buf) == (long)getpid())
		unlink(pidfile);
	fclose(f);
}

/* Refuses a pid file naming a running hgwd; writes ours. */
static void
pidfile_write(const char *path)
{
	char buf[64], comm[64];
	FILE *f;
	long pid = 0;
	int fd, n;

	if ((f = fopen(path, "r")) != NULL) {
		if (fgets(buf, sizeof(buf), f) != NULL)
			pid = atol(buf);
		fclose(f);
	}
	if (pid > 0 && pid != (long)getpid() && (kill((pid_t)pid, 0) == 0 || errno == EPERM)) {
		snprintf(buf, sizeof(buf), "/proc/%ld/comm", pid);
		if ((f = fopen(buf, "r")) != NULL) {
			if (fgets(comm, sizeof(comm), f) != NULL && strncmp(comm, "hgwd", 4) == 0)
				fatalx("pid file %s: hgwd is already running as pid %ld", path, pid);
			fclose(f);
		}
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0 ||
	    write(fd, buf, (size_t)n) != n) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		fatalx("pid file %s: %s", path, strerror(e));
	}
	close(fd);
	pidfile = path;
	atexit(pidfile_remove);
}

/* The loop runs: the control socket answers. Tell whoever waits. */
static void
on_loop_started(evutil_socket_t fd, short what, void *arg)
{
	struct hgwd *d = arg;

	if (ready_fd >= 0) {
		log_set_err_fd(-1);
		if (write(ready_fd, "R\n", 2) != 2)
			log_warn("cannot tell the parent process that we are up");
		close(ready_fd);
		ready_fd = -1;
	}
	notify_ready(d);
}

int
main(int argc, char **argv)
{
	struct hgwd d;
	const char *cfg_path = DEFAULT_CONFIG, *sock = DEFAULT_SOCK, *pidpath = NULL;
	int ch, check = 0, bg = 0, verbose = 0, sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR2 };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "socket", required_argument, NULL, 's' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "check", no_argument, NULL, 'n' },
		{ "daemon", no_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char err[512], nb[16], a4[HGW_ADDRSTRLEN], a6[HGW_ADDRSTRLEN];
	struct kernel_params kp;
	struct kernel_cb kcb;
	size_t i;

	while ((ch = getopt_long(argc, argv, "f:s:p:ndvVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f': cfg_path = optarg; break;
		case 's': sock = optarg; break;
		case 'p': pidpath = optarg; break;
		case 'n': check = 1; break;
		case 'd': bg = 1; break;
		case 'v': verbose = 1; break;
		case 'V':
			printf("hgwd %s\n", PACKAGE_VERSION);
			return 0;
		case 'h': usage(stdout, 0);
		default: usage(stderr, 2);
		}
	}
	if (optind != argc)
		usage(stderr, 2);
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
	if (d.cfg.log_dest != LOG_DEST_DEFAULT &&
	    log_set_dest(d.cfg.log_dest, d.cfg.log_file, d.cfg.log_level, err, sizeof(err)) < 0)
		fatalx("%s", err);
	if (pidpath != NULL)
		pidfile_write(pidpath);
	signal(SIGPIPE, SIG_IGN);
	d.cfg_path = cfg_path;
	d.sock_path = sock;
	d.start_ms = now_ms();
	d.backoff_seed = (uint32_t)getpid() ^ (uint32_t)d.start_ms;
	TAILQ_INIT(&d.peers);
	if ((d.base = event_base_new()) == NULL)
		fatalx("cannot create the event loop");
	/* Lower modules first: each subscribes to the ones below it. */
	if ((d.sync = sync_new(d.base)) == NULL || rib_init(&d.rib, fib_schedule, NULL) < 0 ||
	    (d.fib = fib_new(&d)) == NULL || origin_init(&d) < 0 || listen_init(&d) < 0)
		fatalx("out of memory");
	d.rib.dirty_arg = d.fib;
	kernel_params_from_config(&d.cfg, &kp);
	memset(&kcb, 0, sizeof(kcb));
	kcb.route = on_kernel_route;
	kcb.link = on_kernel_link;
	kcb.overrun = on_kernel_overrun;
	kcb.arg = &d;
	if ((d.kernel = kernel_open(d.base, &kp, &kcb)) == NULL)
		fatalx("cannot open the kernel's netlink interface");
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
	if (identity_resolve(&d, &d.cfg, &d.node_id, &d.addr4, &d.addr6) < 0)
		fatalx("no node id: %s has no IPv4 address and the configuration sets no node-id",
		    d.cfg.ifname);
	if (tls_load(&d.cfg, &d.tls, err, sizeof(err)) < 0)
		fatalx("%s", err);
	if (cmd_init(&d) < 0)
		fatalx("out of memory");
	if (ctl_open(&d, sock) < 0)
		fatalx("cannot open the control socket %s", sock);
	if (listen_open(&d, d.cfg.listen_port) < 0 ||
	    listen_verify(&d, d.cfg.listen_port, err, sizeof(err)) < 0)
		fatalx("%s", err);
	if (liveness_init(&d) < 0)	/* keepalive datagrams on the mesh port */
		fatalx("out of memory");
	if (http_start(&d, err, sizeof(err)) < 0)
		fatalx("%s", err);
	if (notify_init(&d) < 0)
		fatalx("out of memory");
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		d.sig_ev[i] = evsignal_new(d.base, sigs[i], on_signal, &d);
		event_add(d.sig_ev[i], NULL);
	}
	log_notice("hgwd %s starting: node %s, interface %s, gateway %s%s%s, port %u",
	    PACKAGE_VERSION, hgw_nodeid_fmt(d.node_id, nb, sizeof(nb)), d.cfg.ifname,
	    d.addr4.family ? hgw_addr_fmt(&d.addr4, a4, sizeof(a4)) : "-",
	    d.addr6.family ? " and " : "", d.addr6.family ? hgw_addr_fmt(&d.addr6, a6, sizeof(a6)) : "",
	    d.listen_port);
	if (d.tls == NULL)
		log_notice("the mesh is unauthenticated: any host on the LAN can announce routes (see secret-file and tls)");
	else
		log_info("the mesh is authenticated: TLS 1.3 with %s",
		    strcmp(tls_mode(d.tls), "psk") == 0 ? "a pre-shared key" : "certificates");
	/* The fib subscribes to the end of the sync first: its sweep runs
	 * before the leases claim. */
	if (fib_start(d.fib) < 0 || gr_init(&d) < 0 || members_init(&d) < 0 ||
	    leases_init(&d) < 0 || leaseroute_init(&d) < 0 || encap_init(&d) < 0)
		fatalx("out of memory");
	/* Host networking subscribes last: it installs its rules once the
	 * leases are claimed, and follows our subnets from then on. */
	if ((d.hostnet = hostnet_new(&d)) == NULL)
		fatalx("out of memory");
	origin_reconfigure(&d, NULL);
	members_start(&d);
	peers_reconfigure(&d);		/* takes a sync lock per configured neighbor */
	sync_start(d.sync, d.cfg.startup_ms);
	if (event_base_once(d.base, -1, EV_TIMEOUT, on_loop_started, &d, NULL) < 0)
		fatalx("cannot schedule the start");
	event_base_dispatch(d.base);
	notify_stopping(&d);

	/* Clean stop, and give the NOTIFYs a moment to leave. Leaving (the
	 * shutdown command, SIGUSR2, or no graceful-restart): tell the peers,
	 * take our routes out of the kernel and our rules out of nftables. A
	 * restart (SIGTERM, SIGINT): NOTIFY restarting, routes, rules, lease
	 * and subnet.env stay for the next hgwd, which adopts them. */
	d.stopping = 1;
	if (d.leaving || !d.cfg.gr_on) {
		leave_tell_peers(&d);	/* also those in their handshake, or not yet dialled */
		peers_shutdown(&d, HGW_CEASE_SHUTDOWN);
		fib_shutdown(d.fib);
		encap_stop(&d, 0);	/* the VXLAN device and its entries go */
		hostnet_stop(d.hostnet, 0);	/* no masquerade or accept rules left */
	} else {
		peers_shutdown(&d, HGW_CEASE_RESTARTING);
		log_info("kernel: leaving our routes in place for the next hgwd");
		encap_stop(&d, 1);	/* kept: the next hgwd adopts the device and entries */
		hostnet_stop(d.hostnet, 1);
	}
	if (d.nclosing > 0) {
		struct timeval tv = { 1, 0 };

		event_base_loopexit(d.base, &tv);
		event_base_dispatch(d.base);
	}
	ctl_close(&d);
	http_stop(&d);
	notify_free(&d);
	members_free(&d);
	gr_free(&d);
	listen_free(&d);
	peers_free(&d);
	liveness_free();
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		event_free(d.sig_ev[i]);
	leases_free(&d);
	origin_free(&d);
	hostnet_free(d.hostnet);
	fib_free(d.fib);
	encap_free(&d);
	sync_free(d.sync);
	tls_free(d.tls);
	kernel_close(d.kernel);
	rib_destroy(&d.rib);
	cmd_free(&d);
	config_free(&d.cfg);
	event_base_free(d.base);
	log_notice("stopped");
	return 0;
}
