/* hostnet.c: the host networking state machine: masquerade and forward
 * accept rules (nft.c) applied once the initial sync is done, updated with our
 * subnets, repaired on a timer, removed on shutdown or kept for a restart; the
 * forwarding sysctls; "interface auto"; subnet.env's MTU. */
#include "hostnet.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fib.h"
#include "hgwd.h"
#include "identity.h"
#include "kernel.h"
#include "lease.h"
#include "log.h"
#include "nft.h"
#include "origin.h"
#include "subnetenv.h"
#include "sync.h"
#include "util.h"

#define SYSCTL_FWD4	"/proc/sys/net/ipv4/ip_forward"
#define SYSCTL_FWD6	"/proc/sys/net/ipv6/conf/all/forwarding"
#define RETRY_MS	30000	/* after a failed nft transaction */

struct hostnet {
	struct hgwd *d;
	struct nft *nft;
	struct event *timer;
	int started, stopped;
	struct nft_masq_params cur;	/* what is installed */
	int cur_masq;			/* cur's masquerade is wanted */
	int masq_installed, fwd_installed;
	uint64_t retry_at;
	int fwd[2];			/* last read sysctls */
	uint64_t repairs;
	char legacy[320];
	int truncated_logged;
};

/* Sysctls. */

static int
read_flag(const char *path)
{
	char b[8];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	return b[0] != '0';
}

static int
write_flag(const char *path)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ok;

	if (fd < 0)
		return -1;
	ok = write(fd, "1\n", 2) == 2;
	close(fd);
	return ok ? 0 : -1;
}

static int
need6(const struct hgwd *d)
{
	struct hgw_prefix own[2];
	size_t i;
	int n, k;

	for (i = 0; i < d->cfg.nclusters; i++)
		if (d->cfg.clusters[i].family == AF_INET6)
			return 1;
	for (i = 0; i < d->cfg.nnetworks; i++)
		if (d->cfg.networks[i].family == AF_INET6)
			return 1;
	n = leases_own(d, own, 2);
	for (k = 0; k < n; k++)
		if (own[k].family == AF_INET6)
			return 1;
	return 0;
}

static void
check_forwarding(struct hostnet *h)
{
	static const char *paths[2] = { SYSCTL_FWD4, SYSCTL_FWD6 };
	static const char *names[2] = { "net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding" };
	static const char *fams[2] = { "IPv4", "IPv6" };
	int i, v;

	for (i = 0; i < 2; i++) {
		if (i == 1 && !need6(h->d)) {
			h->fwd[1] = read_flag(paths[1]);
			continue;
		}
		v = read_flag(paths[i]);
		if (v == 0 && h->d->cfg.ip_forward) {
			if (write_flag(paths[i]) == 0) {
				log_info("ip-forward enable: turned %s on", names[i]);
				v = read_flag(paths[i]);
			} else if (h->fwd[i] != 0)
				log_warn("ip-forward enable: cannot turn %s on", names[i]);
		}
		if (v == 0 && h->fwd[i] != 0)
			log_warnx("%s forwarding is off (%s = 0): containers here and on other hosts cannot reach each other; set it, or use 'ip-forward enable'",
			    fams[i], names[i]);
		else if (v == 1 && h->fwd[i] == 0)
			log_info("%s forwarding is on", fams[i]);
		h->fwd[i] = v;
	}
}

/* interface auto. */

int
hostnet_auto_ifname(const struct config *c, char out[IFNAMSIZ])
{
	if (kernel_route_ifname(NULL, out) == 0)
		return 0;
	if (c->nneighbors > 0 && kernel_route_ifname(&c->neighbors[0].addr, out) == 0)
		return 0;
	return -1;
}

/* Re-homes the LAN interface when "interface auto" now gives another one. */
static void
check_ifname(struct hostnet *h)
{
	struct hgwd *d = h->d;
	struct kernel_params op, np;
	char name[IFNAMSIZ];

	if (!d->cfg.ifauto || hostnet_auto_ifname(&d->cfg, name) < 0 ||
	    strcmp(name, d->cfg.ifname) == 0)
		return;
	log_info("interface auto: the LAN interface is now %s (was %s)", name,
	    d->cfg.ifname[0] ? d->cfg.ifname : "none");
	op = *kernel_params(d->kernel);
	np = op;
	snprintf(np.ifname, sizeof(np.ifname), "%s", name);
	snprintf(d->cfg.ifname, sizeof(d->cfg.ifname), "%s", name);
	kernel_set_params(d->kernel, &np);
	fib_params_changed(d->fib, &op);
	identity_link_changed(d);
	subnetenv_update(d);	/* the MTU may differ */
}

/* Rules. */

static void
add_net(struct hostnet *h, struct hgw_prefix *list, size_t *n, const struct hgw_prefix *p)
{
	char b[HGW_ADDRSTRLEN];

	if (*n < NFT_MAX_NETS) {
		list[(*n)++] = *p;
		return;
	}
	if (!h->truncated_logged++)
		log_warnx("hostnet: more than %d networks; %s and later are left out of the nftables rules",
		    NFT_MAX_NETS, hgw_prefix_fmt(p, b, sizeof(b)));
}

static void
gather(struct hostnet *h, struct nft_masq_params *p)
{
	struct hgwd *d = h->d;
	struct hgw_prefix own[2];
	size_t i;
	int n, k;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < d->cfg.nclusters; i++)
		add_net(h, p->cluster, &p->ncluster, &d->cfg.clusters[i]);
	for (i = 0; i < d->cfg.nnetworks; i++)
		add_net(h, p->own, &p->nown, &d->cfg.networks[i]);
	n = leases_own(d, own, 2);
	for (k = 0; k < n; k++)
		add_net(h, p->own, &p->nown, &own[k]);
}

static void
check_legacy(struct hostnet *h)
{
	char msg[sizeof(h->legacy)];

	nft_legacy_conflicts(msg, sizeof(msg));
	if (strcmp(msg, h->legacy) != 0 && msg[0])
		log_warnx("hostnet: %s", msg);
	snprintf(h->legacy, sizeof(h->legacy), "%s", msg);
}

/* Installs what p and the configuration want, removes what they do not. */
static int
apply(struct hostnet *h, const struct nft_masq_params *p)
{
	int want_masq = config_ipmasq(&h->d->cfg) && p->ncluster > 0, rc = 0;

	if (h->nft == NULL)
		return -1;

	if (want_masq) {
		h->masq_installed = nft_masq_apply(h->nft, p) == 0;
		rc |= h->masq_installed ? 0 : -1;
	} else if (h->masq_installed || !h->cur_masq) {
		if (nft_masq_remove(h->nft) == 0)
			h->masq_installed = 0;
	}
	if (p->ncluster > 0) {
		h->fwd_installed = nft_forward_apply(h->nft, p) == 0;
		rc |= h->fwd_installed ? 0 : -1;
	} else if (h->fwd_installed && nft_forward_remove(h->nft) == 0)
		h->fwd_installed = 0;
	h->cur = *p;
	h->cur_masq = want_masq;
	h->retry_at = rc < 0 ? now_ms() + RETRY_MS : 0;
	return rc;
}

static void
log_applied(struct hostnet *h)
{
	char b[HGW_ADDRSTRLEN * 2 + 8];
	size_t i, off = 0;

	b[0] = '\0';
	for (i = 0; i < h->cur.ncluster && off < sizeof(b) - 1; i++) {
		char pb[HGW_ADDRSTRLEN];
		int w = snprintf(b + off, sizeof(b) - off, "%s%s", i ? " " : "",
		    hgw_prefix_fmt(&h->cur.cluster[i], pb, sizeof(pb)));

		if (w < 0 || (size_t)w >= sizeof(b) - off)
			break;
		off += (size_t)w;
	}
	log_info("hostnet: masquerade %s%s, forward accept rules in %d dropping chain(s), cluster %s",
	    h->masq_installed ? "on (table " NFT_TABLE_FAMILY " " NFT_TABLE ")" : "off",
	    h->cur_masq && !h->masq_installed ? " (failed)" : "",
	    h->fwd_installed ? nft_forward_nchains(h->nft) : 0, b[0] ? b : "-");
}

void
hostnet_update(struct hostnet *h)
{
	struct nft_masq_params p;
	int want_masq;

	if (h == NULL || !h->started || h->stopped || h->nft == NULL)
		return;
	gather(h, &p);
	want_masq = config_ipmasq(&h->d->cfg) && p.ncluster > 0;
	if (memcmp(&p, &h->cur, sizeof(p)) == 0 && want_masq == h->cur_masq &&
	    (h->retry_at == 0 || now_ms() < h->retry_at))
		return;
	apply(h, &p);
	log_applied(h);
}

void
hostnet_start(struct hostnet *h)
{
	struct nft_masq_params p;

	if (h == NULL || h->started)
		return;
	h->started = 1;
	if (h->nft == NULL)
		return;
	check_legacy(h);
	gather(h, &p);
	apply(h, &p);
	log_applied(h);
}

/* Someone flushed or deleted our rules: put them back. */
static void
repair(struct hostnet *h)
{
	int m, f;

	if (h->retry_at != 0 || h->nft == NULL)
		return;		/* hostnet_update retries failures */
	m = h->cur_masq ? nft_masq_check(h->nft, &h->cur) : 1;
	f = h->cur.ncluster > 0 ? nft_forward_check(h->nft, &h->cur) : 1;
	if (m == 1 && f == 1)
		return;
	if (m == 0)
		log_info("hostnet: table " NFT_TABLE_FAMILY " " NFT_TABLE " was removed or altered; reinstalling it");
	if (f == 0)
		log_info("hostnet: forward accept rules are missing in a dropping chain; adding them");
	h->repairs++;
	if (m == 0)
		h->masq_installed = nft_masq_apply(h->nft, &h->cur) == 0;
	if (f == 0)
		h->fwd_installed = nft_forward_apply(h->nft, &h->cur) == 0;
	if (!h->masq_installed && h->cur_masq)
		h->retry_at = now_ms() + RETRY_MS;
	if (f == 0)
		check_legacy(h);
}

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	struct hostnet *h = arg;
	struct hgwd *d = h->d;
	struct timeval tv = { HOSTNET_REPAIR_MS / 1000, (HOSTNET_REPAIR_MS % 1000) * 1000 };

	check_ifname(h);
	check_forwarding(h);
	subnetenv_update(d);	/* FLANNEL_MTU follows the interface */
	if (h->started) {
		hostnet_update(h);
		repair(h);
	}
	evtimer_add(h->timer, &tv);
}

static void
on_sync_done(void *arg, const char *why)
{
	hostnet_start(arg);
}

static void
on_origin_changed(void *arg)
{
	struct hostnet *h = arg;

	subnetenv_update(h->d);
	if (h->started)
		hostnet_update(h);
}

struct hostnet *
hostnet_new(struct hgwd *d)
{
	struct hostnet *h = calloc(1, sizeof(*h));
	struct timeval now = { 0, 0 };

	if (h == NULL)
		return NULL;
	h->d = d;
	h->fwd[0] = h->fwd[1] = -2;	/* unknown: the first read logs */
	if ((h->timer = evtimer_new(d->base, tick, h)) == NULL) {
		free(h);
		return NULL;
	}
	if ((h->nft = nft_new()) == NULL)
		log_warnx("hostnet: no nftables context: no masquerade or forward rules");
	/* Installed once the initial sync is over (our lease is known then);
	 * re-applied whenever our subnets change. */
	if (sync_on_done(d->sync, on_sync_done, h) < 0 ||
	    origin_subscribe(d, on_origin_changed, h) < 0) {
		hostnet_free(h);
		return NULL;
	}
	evtimer_add(h->timer, &now);
	return h;
}

void
hostnet_stop(struct hostnet *h, int keep)
{
	if (h == NULL || h->stopped)
		return;
	h->stopped = 1;
	evtimer_del(h->timer);
	if (h->nft == NULL)
		return;
	if (keep) {
		if (h->masq_installed || h->fwd_installed)
			log_info("hostnet: keeping the masquerade table and forward rules for the next hgwd");
		return;
	}
	if (nft_masq_remove(h->nft) == 0 && h->masq_installed)
		log_info("hostnet: removed table " NFT_TABLE_FAMILY " " NFT_TABLE);
	if (nft_forward_remove(h->nft) == 0 && h->fwd_installed)
		log_info("hostnet: removed the forward accept rules");
	h->masq_installed = h->fwd_installed = 0;
}

void
hostnet_free(struct hostnet *h)
{
	if (h == NULL)
		return;
	if (h->timer)
		event_free(h->timer);
	nft_free(h->nft);
	free(h);
}

void
hostnet_status(const struct hostnet *h, struct hostnet_status *st)
{
	const struct hgwd *d;

	memset(st, 0, sizeof(*st));
	st->forward4 = st->forward6 = -1;
	if (h == NULL)
		return;
	d = h->d;
	snprintf(st->ifname, sizeof(st->ifname), "%s", d->cfg.ifname);
	st->ifauto = d->cfg.ifauto;
	st->ipmasq = config_ipmasq(&d->cfg);
	st->masq_installed = h->masq_installed;
	st->forward_chains = h->fwd_installed && h->nft ? nft_forward_nchains(h->nft) : 0;
	st->forward4 = h->fwd[0] < -1 ? -1 : h->fwd[0];
	st->forward6 = h->fwd[1] < -1 ? -1 : h->fwd[1];
	st->need6 = need6(d);
	st->started = h->started;
	st->repairs = h->repairs;
	snprintf(st->legacy, sizeof(st->legacy), "%s", h->legacy);
}
