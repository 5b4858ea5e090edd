/* encap.c: encap vxlan: the VXLAN device follows the configuration and the
 * LAN interface; our VTEP goes into the HELLO (a peer listener's hook); each
 * peer's VTEP (VNI, port, MAC from its HELLO, its address as the underlay)
 * is recorded for fib.c, which asks vxlan.h per route. */
#include "encap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fib.h"
#include "hgwd.h"
#include "kernel.h"
#include "log.h"
#include "peer.h"
#include "session.h"
#include "vxlan.h"

/* Our VTEP as the HELLO carries it; 0 when encapsulation is off. */
static int
our_vtep(const struct hgwd *d, uint32_t *vni, uint16_t *port, uint8_t mac[6])
{
	if (!d->cfg.encap_vxlan || !vxlan_running(d->vxlan))
		return 0;
	*vni = vxlan_params(d->vxlan)->vni;
	*port = vxlan_params(d->vxlan)->port;
	memcpy(mac, vxlan_params(d->vxlan)->mac, 6);
	return 1;
}

static void
on_hello(void *arg, struct hgw_hello *h)
{
	struct hgwd *d = arg;

	if (our_vtep(d, &h->vtep_vni, &h->vtep_port, h->vtep_mac))
		h->caps |= HGW_CAP_VXLAN;
}

static void
on_up(void *arg, struct peer *p)
{
	struct hgwd *d = arg;
	const struct session *s = peer_session(p);
	const struct hgw_hello *h = s ? session_hello(s) : NULL;
	uint32_t vni;
	uint16_t port;
	uint8_t mac[6];
	char mb[24];

	if (h == NULL || !our_vtep(d, &vni, &port, mac))
		return;
	if (!(h->caps & HGW_CAP_VXLAN) || h->vtep_vni != vni || h->vtep_port != port) {
		if (!(h->caps & HGW_CAP_VXLAN))
			log_info("peer %s: no VXLAN endpoint; only on-link routes to it", p->name);
		else
			log_warnx("peer %s: VXLAN VNI %u port %u, ours %u port %u; only on-link routes to it",
			    p->name, h->vtep_vni, h->vtep_port, vni, port);
		if (vxlan_remote_del(d->vxlan, p->node_id))	/* it had one before */
			fib_reevaluate_all(d->fib);
		return;
	}
	/* Its address (where its session is) is its underlay address. Kept
	 * after it goes down: its routes may outlive the session (graceful
	 * restart), and a new HELLO replaces it. */
	switch (vxlan_remote_set(d->vxlan, p->node_id, h->vtep_mac, &p->addr)) {
	case 1:
		log_info("peer %s: VXLAN endpoint %s at %s", p->name,
		    vxlan_mac_fmt(h->vtep_mac, mb, sizeof(mb)), p->name);
		fib_reevaluate_all(d->fib);
		break;
	case -1:
		log_warnx("peer %s: out of memory for its VXLAN endpoint", p->name);
		break;
	}
}

static void update(struct hgwd *d, int reset);

int
encap_init(struct hgwd *d)
{
	struct peer_listener l = {
		.name = "encap",
		.up = on_up,
		.hello = on_hello,
		.arg = d,
	};

	if ((d->vxlan = vxlan_new()) == NULL)
		return -1;
	if (peer_subscribe(d, &l) < 0) {
		vxlan_free(d->vxlan);
		d->vxlan = NULL;
		return -1;
	}
	update(d, 0);		/* before any session: nothing to reset */
	return 0;
}

void
encap_update(struct hgwd *d)
{
	update(d, 1);
}

static void
update(struct hgwd *d, int reset)
{
	struct vxlan_params np;
	uint32_t ovni = 0, nvni = 0;
	uint16_t oport = 0, nport = 0;
	uint8_t omac[6] = { 0 }, nmac[6] = { 0 };
	int was = our_vtep(d, &ovni, &oport, omac), was_index = vxlan_ifindex(d->vxlan);
	char err[64];

	if (d->vxlan == NULL)
		return;
	if (!d->cfg.encap_vxlan) {
		if (vxlan_running(d->vxlan)) {
			vxlan_stop(d->vxlan, 0);
			fib_reevaluate_all(d->fib);
		}
	} else {
		memset(&np, 0, sizeof(np));
		np.lan_ifindex = kernel_ifindex(d->kernel);
		np.lan_mtu = kernel_if_mtu(d->kernel);
		if (kernel_if_addr(d->kernel, AF_INET, &np.local) < 0)
			kernel_if_addr(d->kernel, AF_INET6, &np.local);
		np.vni = d->cfg.vxlan_vni;
		np.port = d->cfg.vxlan_port;
		vxlan_mac_for(d->node_id, np.mac);
		if (np.lan_ifindex == 0 || np.local.family == 0) {
			if (vxlan_running(d->vxlan)) {
				vxlan_stop(d->vxlan, 0);
				fib_reevaluate_all(d->fib);
			}
		} else if (vxlan_start(d->vxlan, &np) < 0 || vxlan_ifindex(d->vxlan) != was_index) {
			fib_reevaluate_all(d->fib);
		}
	}
	/* The peers learn our VTEP from our HELLO: a change needs new sessions. */
	if (reset && (our_vtep(d, &nvni, &nport, nmac) != was || nvni != ovni ||
	    nport != oport || memcmp(nmac, omac, 6) != 0)) {
		log_info("our VXLAN endpoint %s: resetting the sessions",
		    !was ? "is up" : vxlan_running(d->vxlan) ? "changed" : "went");
		peers_reset(d, NULL, err, sizeof(err));
	}
}

/* One walk of the RIB for all of a show's peers: each route installed
 * through its best path counts for that path's peer, found by a binary
 * search of the peers sorted by pointer. */
struct mode_peer {
	const struct peer *p;
	size_t i;		/* in the caller's list */
};

struct mode_count {
	const struct mode_peer *by_ptr;
	size_t n;
	unsigned *direct, *vxlan;
};

static int
cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const struct mode_peer *)a)->p;
	uintptr_t y = (uintptr_t)((const struct mode_peer *)b)->p;

	return x < y ? -1 : x > y;
}

static void
count_mode(void *arg, struct rib_entry *e)
{
	struct mode_count *m = arg;
	const struct rib_path *b = rib_best(e);
	struct mode_peer key, *hit;

	if (b == NULL || b->peer == NULL || e->fib_nh == NULL || e->fib_nh != b->nh)
		return;
	key.p = b->peer;
	if ((hit = bsearch(&key, m->by_ptr, m->n, sizeof(key), cmp_ptr)) == NULL)
		return;
	if (e->flags & RIB_E_VXLAN)
		m->vxlan[hit->i]++;
	else
		m->direct[hit->i]++;
}

void
encap_peer_modes(struct hgwd *d, struct peer *const *list, size_t n, const char **out)
{
	struct mode_count m = { NULL, n, NULL, NULL };
	struct mode_peer *by_ptr;
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = "none";
	if (n == 0 || fib_held(d->fib) == 0)
		return;		/* no route in the kernel: no walk of the RIB */
	by_ptr = calloc(n, sizeof(*by_ptr));
	m.direct = calloc(n, sizeof(unsigned));
	m.vxlan = calloc(n, sizeof(unsigned));
	if (by_ptr != NULL && m.direct != NULL && m.vxlan != NULL) {
		for (i = 0; i < n; i++) {
			by_ptr[i].p = list[i];
			by_ptr[i].i = i;
		}
		qsort(by_ptr, n, sizeof(*by_ptr), cmp_ptr);
		m.by_ptr = by_ptr;
		rib_foreach(&d->rib, count_mode, &m);
		for (i = 0; i < n; i++)
			out[i] = m.direct[i] && m.vxlan[i] ? "mixed" : m.vxlan[i] ? "vxlan" :
			    m.direct[i] ? "direct" : "none";
	}
	free(by_ptr);
	free(m.direct);
	free(m.vxlan);
}

void
encap_stop(struct hgwd *d, int keep)
{
	vxlan_stop(d->vxlan, keep);
}

void
encap_free(struct hgwd *d)
{
	vxlan_free(d->vxlan);
	d->vxlan = NULL;
}
