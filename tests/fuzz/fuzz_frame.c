/* fuzz_frame.c: libFuzzer target for the frame decoder (proto/wire.c).
 *
 * The input is a byte stream as a peer would send it: frames one after the
 * other. Like session_read() in daemon/peer.c, each header is decoded, a
 * frame that is not whole ends the stream, and the body is decoded by type.
 * Each body is copied to a heap buffer of exactly its length, so that ASan
 * sees any read past it. On top of "does not crash", the target checks what
 * the decoders promise, and abort()s when a promise is broken:
 *   - HELLO: a decoded HELLO encodes back to the very same bytes;
 *   - KEEPALIVE / END-OF-RIB: accepted exactly when the body is empty;
 *   - UPDATE: when hgw_update_validate() accepts a body, iterating it yields
 *     exactly the count it returned, consumes the body to its last byte, and
 *     every item is well formed; the items rebuilt with hgw_upd_add() make a
 *     frame that validates and iterates to the same items;
 *   - NOTIFY: the text is printable, as long as announced, and the decoded
 *     fields encode back to a frame of the same length;
 *   - MEMBERS and LEASE (when wire.h has them): a validated body iterates to
 *     exactly the count validation gave, each entry well formed, and encodes
 *     back to the same bytes;
 *   - on every error, err->code names the message kind and err->text is a
 *     terminated string.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_frame: check failed at line %d: %s\n", \
		    __LINE__, #cond); \
		abort(); \
	} \
} while (0)

#ifdef HGW_MSG_MAX
#define LAST_TYPE HGW_MSG_MAX
#else
#define LAST_TYPE HGW_MSG_NOTIFY
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_err(const struct hgw_err *err, int code)
{
	CHECK(memchr(err->text, '\0', sizeof(err->text)) != NULL);
	CHECK(err->code == code);
	CHECK(hgw_notify_name(err->code, err->subcode) != NULL);
}

static void
do_hello(const uint8_t *frame, const uint8_t *body, size_t len)
{
	struct hgw_hello hello;
	struct hgw_err err;
	uint8_t *re;
	size_t n;
	unsigned i;

	memset(&err, 0, sizeof(err));
	if (hgw_hello_decode(body, len, &hello, &err) < 0) {
		check_err(&err, HGW_ERR_HELLO);
		return;
	}
	CHECK(hello.node_id != 0);
	CHECK(hello.hold_ms >= HGW_HOLD_MIN_MS && hello.hold_ms <= HGW_HOLD_MAX_MS);
	CHECK(hello.keepalive_ms >= HGW_KEEPALIVE_MIN_MS &&
	    hello.keepalive_ms <= hello.hold_ms);
	CHECK(hello.listen_port != 0);
	CHECK(hello.naddrs <= HGW_HELLO_MAX_ADDRS);
	CHECK(strlen(hello.hostname) <= HGW_HOSTNAME_MAX);
	for (i = 0; i < hello.naddrs; i++) {
		CHECK(hgw_family_len(hello.addrs[i].family) != 0);
		CHECK(!hgw_addr_is_unspec(&hello.addrs[i]));
	}
	if (hello.caps & HGW_CAP_GRACEFUL_RESTART)
		CHECK(hello.gr_restart_s >= 1 && hello.gr_restart_s <= HGW_GR_RESTART_MAX_S);
	if (hello.caps & HGW_CAP_VXLAN)
		CHECK(hello.vtep_vni != 0 && hello.vtep_vni <= 0xffffffu && hello.vtep_port != 0 &&
		    (hello.vtep_mac[0] & 1) == 0);
	/* Decoding keeps what it understood: the HELLO encodes to a frame that
	 * decodes to the same values (unknown extensions, and a capability bit
	 * without its extension, are dropped); without extensions, to the same
	 * bytes. */
	re = malloc(HGW_HDR_LEN + len + 64);
	CHECK(re != NULL);
	n = hgw_hello_encode(re, HGW_HDR_LEN + len + 64, &hello);
	CHECK(n >= HGW_HDR_LEN);
	{
		struct hgw_hello again;

		CHECK(hgw_hello_decode(re + HGW_HDR_LEN, n - HGW_HDR_LEN, &again, &err) == 0);
		CHECK(memcmp(&again, &hello, sizeof(hello)) == 0);
	}
	if (n == HGW_HDR_LEN + len && (body[15] & (HGW_CAP_GRACEFUL_RESTART | HGW_CAP_VXLAN)) == 0)
		CHECK(memcmp(re + HGW_HDR_LEN, frame + HGW_HDR_LEN, len) == 0);
	free(re);
}

static void
check_item(const struct hgw_upd_item *it)
{
	int bits = hgw_family_bits(it->prefix.family);

	CHECK(it->kind == HGW_UPD_ANNOUNCE || it->kind == HGW_UPD_WITHDRAW);
	CHECK(bits != 0);
	CHECK(it->prefix.plen <= bits);
	CHECK(it->origin != 0);
	if (it->kind == HGW_UPD_ANNOUNCE) {
		CHECK(it->gateway.family == it->prefix.family);
		CHECK(!hgw_addr_is_unspec(&it->gateway));
	} else
		CHECK(it->gateway.family == 0);
}

static int
same_item(const struct hgw_upd_item *a, const struct hgw_upd_item *b)
{
	return a->kind == b->kind && a->origin == b->origin &&
	    hgw_prefix_eq(&a->prefix, &b->prefix) &&
	    (a->kind == HGW_UPD_WITHDRAW || hgw_addr_cmp(&a->gateway, &b->gateway) == 0);
}

static void
do_update(const uint8_t *body, size_t len)
{
	struct hgw_upd_iter it, it2;
	struct hgw_upd_item item, item2;
	struct hgw_upd_builder b;
	struct hgw_err err;
	uint8_t *rebuilt;
	size_t rlen;
	long n, count = 0;

	memset(&err, 0, sizeof(err));
	n = hgw_update_validate(body, len, &err);
	if (n < 0) {
		CHECK(n == -1);
		check_err(&err, HGW_ERR_UPDATE);
		return;
	}
	CHECK(n > 0);

	/* The rebuilt frame is never larger than the original one: adjacent
	 * sections with the same key merge, nothing grows. */
	rebuilt = malloc(HGW_HDR_LEN + len);
	CHECK(rebuilt != NULL);
	hgw_upd_begin(&b, rebuilt, HGW_HDR_LEN + len);

	hgw_update_iter_init(&it, body, len);
	while (hgw_update_next(&it, &item)) {
		count++;
		CHECK(count <= n);
		check_item(&item);
		if (hgw_upd_add(&b, &item) != 0) {
			fprintf(stderr, "fuzz_frame: item %ld of a valid UPDATE "
			    "does not fit a frame as large as its own\n", count);
			abort();
		}
	}
	if (count != n) {
		fprintf(stderr, "fuzz_frame: hgw_update_validate said %ld prefixes, "
		    "iteration gave %ld\n", n, count);
		abort();
	}
	CHECK(it.p == it.end);
	CHECK(hgw_update_next(&it, &item) == 0);	/* stays at the end */

	rlen = hgw_upd_finish(&b);
	CHECK(rlen >= HGW_HDR_LEN && rlen <= HGW_HDR_LEN + len);
	CHECK(hgw_update_validate(rebuilt + HGW_HDR_LEN, rlen - HGW_HDR_LEN, NULL) == n);
	hgw_update_iter_init(&it, body, len);
	hgw_update_iter_init(&it2, rebuilt + HGW_HDR_LEN, rlen - HGW_HDR_LEN);
	while (hgw_update_next(&it, &item)) {
		CHECK(hgw_update_next(&it2, &item2) == 1);
		CHECK(same_item(&item, &item2));
	}
	CHECK(hgw_update_next(&it2, &item2) == 0);
	free(rebuilt);
}

static void
do_notify(const uint8_t *body, size_t len)
{
	struct hgw_notify nt;
	struct hgw_err err;
	uint8_t buf[HGW_HDR_LEN + 3 + HGW_NOTIFY_TEXT_MAX];
	size_t i, tlen;

	memset(&err, 0, sizeof(err));
	if (hgw_notify_decode(body, len, &nt, &err) < 0) {
		check_err(&err, HGW_ERR_NOTIFY);
		return;
	}
	tlen = strlen(nt.text);
	CHECK(tlen == len - 3);
	for (i = 0; i < tlen; i++)
		CHECK(nt.text[i] >= 0x20 && nt.text[i] < 0x7f);
	CHECK(hgw_notify_name(nt.code, nt.subcode) != NULL);
	CHECK(hgw_notify_encode(buf, sizeof(buf), nt.code, nt.subcode, nt.text) ==
	    HGW_HDR_LEN + len);
}

/* MEMBERS and LEASE (gossip): in the tree once wire.h declares them. */
#ifdef HGW_MEMBER_UP
static void
do_members(const uint8_t *frame, const uint8_t *body, size_t len)
{
	struct hgw_member *all, m;
	struct hgw_err err;
	uint8_t *re;
	size_t off = 0, first = 0;
	long n, count = 0;

	memset(&err, 0, sizeof(err));
	if ((n = hgw_members_validate(body, len, &err)) < 0) {
		CHECK(n == -1);
		check_err(&err, HGW_ERR_GOSSIP);
		return;
	}
	CHECK(n > 0);
	all = calloc((size_t)n, sizeof(*all));
	CHECK(all != NULL);
	while (hgw_members_next(body, len, &off, &m)) {
		CHECK(count < n);
		CHECK(m.op == HGW_MEMBER_UP || m.op == HGW_MEMBER_DOWN);
		CHECK(hgw_family_len(m.addr.family) != 0);
		CHECK(m.port != 0 && m.node_id != 0);
		all[count++] = m;
	}
	CHECK(count == n);
	CHECK(off == len);
	/* And back to the same bytes. */
	re = malloc(HGW_HDR_LEN + len);
	CHECK(re != NULL);
	CHECK(hgw_members_encode(re, HGW_HDR_LEN + len, all, (size_t)n, &first) ==
	    HGW_HDR_LEN + len);
	CHECK(first == (size_t)n);
	CHECK(memcmp(re, frame, HGW_HDR_LEN + len) == 0);
	free(re);
	free(all);
}
#endif

#ifdef HGW_LEASE_CLAIM
static void
do_leases(const uint8_t *frame, const uint8_t *body, size_t len)
{
	struct hgw_lease *all, l;
	struct hgw_err err;
	uint8_t *re;
	size_t off = 0, first = 0;
	long n, count = 0;

	memset(&err, 0, sizeof(err));
	if ((n = hgw_leases_validate(body, len, &err)) < 0) {
		CHECK(n == -1);
		check_err(&err, HGW_ERR_GOSSIP);
		return;
	}
	CHECK(n > 0);
	all = calloc((size_t)n, sizeof(*all));
	CHECK(all != NULL);
	while (hgw_leases_next(body, len, &off, &l)) {
		CHECK(count < n);
		CHECK(l.op == HGW_LEASE_CLAIM || l.op == HGW_LEASE_RELEASE);
		CHECK(hgw_family_len(l.prefix.family) != 0);
		CHECK(l.prefix.plen >= 1 && l.prefix.plen <= hgw_family_bits(l.prefix.family));
		CHECK(!hgw_prefix_host_bits_set(&l.prefix));
		CHECK(l.owner != 0);
		all[count++] = l;
	}
	CHECK(count == n);
	CHECK(off == len);
	re = malloc(HGW_HDR_LEN + len);
	CHECK(re != NULL);
	CHECK(hgw_leases_encode(re, HGW_HDR_LEN + len, all, (size_t)n, &first) ==
	    HGW_HDR_LEN + len);
	CHECK(first == (size_t)n);
	CHECK(memcmp(re, frame, HGW_HDR_LEN + len) == 0);
	free(re);
	free(all);
}
#endif

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	/* A header needs all of its bytes. */
	{
		struct hgw_hdr h;
		struct hgw_err err;

		CHECK(hgw_hdr_decode(data, size < HGW_HDR_LEN ? size : HGW_HDR_LEN - 1,
		    HGW_MAX_FRAME, &h, &err) == 0);
	}
	while (size - off >= HGW_HDR_LEN) {
		struct hgw_hdr h;
		struct hgw_err err;
		uint8_t *body;
		size_t len;
		int r;

		memset(&err, 0, sizeof(err));
		r = hgw_hdr_decode(data + off, size - off, HGW_MAX_FRAME, &h, &err);
		CHECK(hgw_msg_type_name(data[off + 1]) != NULL);
		if (r < 0) {
			CHECK(r == -1);
			check_err(&err, HGW_ERR_HEADER);
			break;			/* the daemon closes the session */
		}
		CHECK(r == 1);
		CHECK(h.version == HGW_PROTO_VERSION);
		CHECK(h.length >= HGW_HDR_LEN && h.length <= HGW_MAX_FRAME);
		CHECK(h.type >= HGW_MSG_HELLO && h.type <= LAST_TYPE);
		/* A lower maximum frame size (the daemon may set one) is exact. */
		{
			struct hgw_hdr h2;

			CHECK(hgw_hdr_decode(data + off, HGW_HDR_LEN, h.length, &h2,
			    &err) == 1 && h2.length == h.length);
			if (h.length > HGW_HDR_LEN) {
				CHECK(hgw_hdr_decode(data + off, HGW_HDR_LEN,
				    h.length - 1, &h2, &err) == -1);
				CHECK(err.subcode == HGW_HDR_BAD_LENGTH);
			}
		}
		if (h.length > size - off)
			break;			/* waits for the rest */
		len = h.length - HGW_HDR_LEN;
		body = malloc(len);
		CHECK(body != NULL || len == 0);
		if (len)
			memcpy(body, data + off + HGW_HDR_LEN, len);
		switch (h.type) {
		case HGW_MSG_HELLO:
			do_hello(data + off, body, len);
			break;
		case HGW_MSG_KEEPALIVE:
		case HGW_MSG_EOR:
			memset(&err, 0, sizeof(err));
			r = hgw_empty_decode(h.type, len, &err);
			CHECK(r == (len == 0 ? 0 : -1));
			if (r < 0)
				check_err(&err, HGW_ERR_HEADER);
			break;
		case HGW_MSG_UPDATE:
			do_update(body, len);
			break;
		case HGW_MSG_NOTIFY:
			do_notify(body, len);
			break;
#ifdef HGW_MEMBER_UP
		case HGW_MSG_MEMBERS:
			do_members(data + off, body, len);
			break;
#endif
#ifdef HGW_LEASE_CLAIM
		case HGW_MSG_LEASE:
			do_leases(data + off, body, len);
			break;
#endif
		default:
			fprintf(stderr, "fuzz_frame: hgw_hdr_decode accepts type %u, "
			    "which fuzz_frame.c does not know\n", h.type);
			abort();
		}
		free(body);
		off += h.length;
	}
	return 0;
}
