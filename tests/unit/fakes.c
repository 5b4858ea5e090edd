/* fakes.c: peer.c's functions as the unit tests of origin.c and lease.c see
 * them (recording, no sockets), and helpers shared by those tests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "fakes.h"
#include "log.h"

struct fake_peers fake_peers;

void
fake_peers_reset(void)
{
	memset(&fake_peers, 0, sizeof(fake_peers));
}

void
fake_peer_init(struct peer *p, struct hgwd *d, uint32_t node_id, uint32_t caps)
{
	memset(p, 0, sizeof(*p));
	p->d = d;
	p->node_id = node_id;
	p->caps = caps;
	hgw_nodeid_to_addr(node_id, &p->addr);
	hgw_addr_fmt(&p->addr, p->name, sizeof(p->name));
}

static int
up_index(const struct peer *p)
{
	int i;

	for (i = 0; i < fake_peers.nup; i++)
		if (fake_peers.up[i] == p)
			return i;
	return -1;
}

void
fake_peer_up(struct peer *p)
{
	int i;

	if (up_index(p) < 0) {
		if (fake_peers.nup >= FAKE_MAX_UP)
			fail_msg("fake: more than %d peers up", FAKE_MAX_UP);
		fake_peers.up[fake_peers.nup++] = p;
	}
	for (i = 0; i < fake_peers.nlisteners; i++)
		if (fake_peers.listeners[i].up != NULL)
			fake_peers.listeners[i].up(fake_peers.listeners[i].arg, p);
}

void
fake_peer_down(struct peer *p, enum peer_down_reason why)
{
	int i = up_index(p);

	if (i >= 0) {
		fake_peers.up[i] = fake_peers.up[--fake_peers.nup];
	}
	for (i = 0; i < fake_peers.nlisteners; i++)
		if (fake_peers.listeners[i].down != NULL)
			fake_peers.listeners[i].down(fake_peers.listeners[i].arg, p, why);
}

void
fake_peer_frame(struct peer *p, uint8_t type, const uint8_t *body, size_t len)
{
	int i, n = 0;

	for (i = 0; i < fake_peers.nlisteners; i++)
		if (fake_peers.listeners[i].msg_type == type && fake_peers.listeners[i].frame != NULL) {
			fake_peers.listeners[i].frame(fake_peers.listeners[i].arg, p, body, len);
			n++;
		}
	if (n == 0)
		fail_msg("fake: no listener for frames of type %u", type);
}

const struct peer_listener *
fake_listener(const char *name)
{
	int i;

	for (i = 0; i < fake_peers.nlisteners; i++)
		if (strcmp(fake_peers.listeners[i].name, name) == 0)
			return &fake_peers.listeners[i];
	return NULL;
}

/* peer.h, as the modules above peer.c use it. */

int
peer_subscribe(struct hgwd *d, const struct peer_listener *l)
{
	if (fake_peers.nlisteners >= PEER_MAX_LISTENERS)
		return -1;
	fake_peers.listeners[fake_peers.nlisteners++] = *l;
	return 0;
}

int
peer_is_up(const struct peer *p)
{
	return up_index(p) >= 0;
}

int
peer_has_cap(const struct peer *p, uint32_t cap)
{
	return peer_is_up(p) && (p->caps & cap) == cap;
}

struct peer *
peer_by_node(struct hgwd *d, uint32_t node_id)
{
	int i;

	for (i = 0; i < fake_peers.nup; i++)
		if (fake_peers.up[i]->node_id == node_id)
			return fake_peers.up[i];
	return NULL;
}

void
peer_foreach_up(struct hgwd *d, void (*fn)(void *arg, struct peer *p), void *arg)
{
	struct peer *up[FAKE_MAX_UP];
	int i, n = fake_peers.nup;

	memcpy(up, fake_peers.up, sizeof(up));
	for (i = 0; i < n; i++)
		fn(arg, up[i]);
}

/* Records a LEASE frame (header included), decoded. */
void
peer_send(struct peer *p, const uint8_t *buf, size_t len)
{
	struct hgw_hdr h;
	struct hgw_err err;
	struct fake_frame *f;
	size_t off = 0;

	if (!peer_is_up(p))
		fail_msg("fake: peer_send to a peer that is not up");
	if (hgw_hdr_decode(buf, len, HGW_MAX_FRAME, &h, &err) != 1 || h.type != HGW_MSG_LEASE ||
	    h.length != len || hgw_leases_validate(buf + HGW_HDR_LEN, len - HGW_HDR_LEN, &err) < 0) {
		fake_peers.bad_sends++;
		return;
	}
	if (fake_peers.nframes >= FAKE_MAX_FRAMES)
		fail_msg("fake: more than %d frames sent", FAKE_MAX_FRAMES);
	f = &fake_peers.frames[fake_peers.nframes++];
	memset(f, 0, sizeof(*f));
	f->to = p;
	while (f->n < FAKE_MAX_LEASES &&
	    hgw_leases_next(buf + HGW_HDR_LEN, len - HGW_HDR_LEN, &off, &f->ls[f->n]))
		f->n++;
}

static void
record(struct peer *to, const struct hgw_upd_item *it)
{
	if (fake_peers.nitems >= FAKE_MAX_ITEMS)
		fail_msg("fake: more than %d UPDATE items queued", FAKE_MAX_ITEMS);
	fake_peers.items[fake_peers.nitems].to = to;
	fake_peers.items[fake_peers.nitems].it = *it;
	fake_peers.nitems++;
}

void
peer_queue(struct peer *p, const struct hgw_upd_item *it)
{
	record(p, it);
}

void
peers_queue(struct hgwd *d, const struct hgw_upd_item *it)
{
	record(NULL, it);
}

void
peers_flush(struct hgwd *d)
{
	fake_peers.flushes++;
}

/* Helpers. */

struct hgw_addr
fake_addr(const char *s)
{
	struct hgw_addr a;

	if (hgw_addr_parse(s, &a) != 0)
		fail_msg("address %s refused", s);
	return a;
}

struct hgw_prefix
fake_prefix(const char *s)
{
	struct hgw_prefix p;
	const char *why = NULL;

	if (hgw_prefix_parse(s, &p, &why) != 0)
		fail_msg("prefix %s refused: %s", s, why);
	return p;
}

struct log_count {
	const char *text;
	int n;
};

static void
count_line(void *arg, const struct log_line *l)
{
	struct log_count *c = arg;

	if (strstr(l->text, c->text) != NULL)
		c->n++;
}

int
fake_log_count(const char *text)
{
	struct log_count c = { text, 0 };

	log_ring_foreach(count_line, &c);
	return c.n;
}
