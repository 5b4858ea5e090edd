/* main.c: hgwd's entry point: options, start-up in dependency order,
 * signals, and the clean stop. Nobody calls it: it builds the kernel's
 * callback (route events to fib, link events to fib and identity) and
 * hands every later change to the modules. */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "ctl.h"
#include "fib.h"
#include "hgwd.h"
#include "identity.h"
#include "kernel.h"
#include "lease.h"
#include "listen.h"
#include "log.h"
#include "members.h"
#include "origin.h"
#include "peer.h"
#include "reconf.h"
#include "sync.h"
#include "tls.h"

#define DEFAULT_SOCK "/run/hgw/hgwd.sock"

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

/* Kernel events: routes to the fib; the LAN interface to the fib (on-link
 * verdicts, resync) and then to identity (our addresses). */
static void
on_kernel_link(void *arg, int resync)
{
	struct hgwd *d = arg;

	fib_on_link(d->fib, resync);
	identity_link_changed(d);
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
		reconf_reload(d, err, sizeof(err));
		return;
	}
	log_info("%s: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	d->stopping = 1;
	event_base_loopbreak(d->base);
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
	if (listen_open(&d, d.cfg.listen_port) < 0)
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
	/* The fib subscribes to the end of the sync first: its sweep runs
	 * before the leases claim. */
	if (fib_start(d.fib) < 0 || members_init(&d) < 0 || leases_init(&d) < 0)
		fatalx("out of memory");
	origin_reconfigure(&d, NULL);
	members_start(&d);
	peers_reconfigure(&d);		/* takes a sync lock per configured neighbor */
	sync_start(d.sync, d.cfg.startup_ms);
	event_base_dispatch(d.base);

	/* Clean stop: tell the peers, take our routes out of the kernel, and
	 * give the NOTIFYs a moment to leave. */
	d.stopping = 1;
	peers_shutdown(&d);
	fib_shutdown(d.fib);
	if (d.nclosing > 0) {
		struct timeval tv = { 1, 0 };

		event_base_loopexit(d.base, &tv);
		event_base_dispatch(d.base);
	}
	ctl_close(&d);
	members_free(&d);
	listen_free(&d);
	peers_free(&d);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		event_free(d.sig_ev[i]);
	leases_free(&d);
	origin_free(&d);
	fib_free(d.fib);
	sync_free(d.sync);
	tls_free(d.tls);
	kernel_close(d.kernel);
	rib_destroy(&d.rib);
	cmd_free(&d);
	config_free(&d.cfg);
	event_base_free(d.base);
	log_info("stopped");
	return 0;
}
