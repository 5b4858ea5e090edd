/* test_wire.c: unit tests for proto/wire.c: every frame type, checked against PROTOCOL.md. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

static struct hgw_addr
A(const char *s)
{
	struct hgw_addr a;

	assert_int_equal(hgw_addr_parse(s, &a), 0);
	return a;
}

static struct hgw_prefix
P(const char *s)
{
	struct hgw_prefix p;

	assert_int_equal(hgw_prefix_parse(s, &p, NULL), 0);
	return p;
}

static void
wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Asserts a decoder failed with this NOTIFY code and subcode. */
#define assert_err(rc, err, c, s) do {					\
	assert_int_equal((rc), -1);					\
	assert_int_equal((err).code, (c));				\
	assert_int_equal((err).subcode, (s));				\
	assert_true((err).text[0] != '\0');				\
} while (0)

/* Deterministic PRNG (xorshift32) for the mutation loops. */
static uint32_t rng_state;

static uint32_t
rnd(void)
{
	uint32_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	rng_state = x;
	return x;
}

/* ---------------------------------------------------------------- header */

static void
test_hdr_encode_layout(void **state)
{
	uint8_t buf[8];
	static const uint8_t want[8] = { 1, 3, 0, 0, 0x00, 0x01, 0x02, 0x03 };

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	hgw_hdr_encode(buf, HGW_MSG_UPDATE, 0x010203);
	assert_memory_equal(buf, want, 8);
}

static void
test_hdr_short(void **state)
{
	uint8_t buf[8];
	struct hgw_hdr h;
	struct hgw_err err;
	size_t n;

	(void)state;
	/* even a header that is already wrong needs all 8 bytes first */
	memset(buf, 0xff, sizeof(buf));
	for (n = 0; n < HGW_HDR_LEN; n++)
		assert_int_equal(hgw_hdr_decode(buf, n, HGW_MAX_FRAME, &h, &err), 0);
	hgw_hdr_encode(buf, HGW_MSG_KEEPALIVE, 8);
	for (n = 0; n < HGW_HDR_LEN; n++)
		assert_int_equal(hgw_hdr_decode(buf, n, HGW_MAX_FRAME, &h, &err), 0);
	assert_int_equal(hgw_hdr_decode(buf, 8, HGW_MAX_FRAME, &h, &err), 1);
	assert_int_equal(h.version, 1);
	assert_int_equal(h.type, HGW_MSG_KEEPALIVE);
	assert_int_equal(h.length, 8);
}

static void
test_hdr_types(void **state)
{
	uint8_t buf[16];
	struct hgw_hdr h;
	struct hgw_err err;
	int t;

	(void)state;
	for (t = 0; t < 256; t++) {
		int rc;

		hgw_hdr_encode(buf, t, 100);
		memset(&err, 0, sizeof(err));
		rc = hgw_hdr_decode(buf, sizeof(buf), HGW_MAX_FRAME, &h, &err);
		if (t >= HGW_MSG_HELLO && t <= HGW_MSG_MAX) {
			assert_int_equal(rc, 1);
			assert_int_equal(h.type, t);
			assert_int_equal(h.length, 100);
		} else {
			assert_err(rc, err, HGW_ERR_HEADER, HGW_HDR_BAD_TYPE);
		}
	}
	assert_int_equal(HGW_MSG_HELLO, 1);
	assert_int_equal(HGW_MSG_KEEPALIVE, 2);
	assert_int_equal(HGW_MSG_UPDATE, 3);
	assert_int_equal(HGW_MSG_EOR, 4);
	assert_int_equal(HGW_MSG_NOTIFY, 5);
}

static void
test_hdr_version(void **state)
{
	uint8_t buf[8];
	struct hgw_hdr h;
	struct hgw_err err;
	static const uint8_t bad[] = { 0, 2, 3, 0x81, 255 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad); i++) {
		hgw_hdr_encode(buf, HGW_MSG_KEEPALIVE, 8);
		buf[0] = bad[i];
		assert_err(hgw_hdr_decode(buf, 8, HGW_MAX_FRAME, &h, &err), err,
		    HGW_ERR_HEADER, HGW_HDR_BAD_VERSION);
	}
}

static void
test_hdr_reserved(void **state)
{
	uint8_t buf[8];
	struct hgw_hdr h;
	struct hgw_err err;
	int bit;

	(void)state;
	for (bit = 0; bit < 16; bit++) {
		hgw_hdr_encode(buf, HGW_MSG_KEEPALIVE, 8);
		wr16(buf + 2, (uint16_t)(1u << bit));
		assert_err(hgw_hdr_decode(buf, 8, HGW_MAX_FRAME, &h, &err), err,
		    HGW_ERR_HEADER, HGW_HDR_BAD_RESERVED);
	}
}

static void
test_hdr_length(void **state)
{
	static const struct {
		uint32_t length;
		size_t max;
		int ok;
	} cases[] = {
		{ 0, HGW_MAX_FRAME, 0 },
		{ 1, HGW_MAX_FRAME, 0 },
		{ 7, HGW_MAX_FRAME, 0 },
		{ 8, HGW_MAX_FRAME, 1 },
		{ 9, HGW_MAX_FRAME, 1 },
		{ 65535, HGW_MAX_FRAME, 1 },
		{ 65536, HGW_MAX_FRAME, 1 },
		{ 65537, HGW_MAX_FRAME, 0 },
		{ 0x01000008, HGW_MAX_FRAME, 0 },
		{ 0xffffffff, HGW_MAX_FRAME, 0 },
		/* a lower limit of the implementation's own */
		{ 4096, 4096, 1 },
		{ 4097, 4096, 0 },
		{ 8, 4096, 1 },
		{ 7, 4096, 0 },
		{ 100, 99, 0 },
		{ 8, 8, 1 },
		{ 9, 8, 0 },
		/* never above the hard maximum, whatever the caller asks for */
		{ 65536, 1u << 20, 1 },
		{ 65537, 1u << 20, 0 },
		{ 1u << 20, 1u << 20, 0 },
	};
	uint8_t buf[8];
	struct hgw_hdr h;
	struct hgw_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;

		hgw_hdr_encode(buf, HGW_MSG_UPDATE, cases[i].length);
		memset(&err, 0, sizeof(err));
		rc = hgw_hdr_decode(buf, 8, cases[i].max, &h, &err);
		if (cases[i].ok) {
			if (rc != 1)
				fail_msg("length %u max %zu refused", cases[i].length,
				    cases[i].max);
			assert_int_equal(h.length, cases[i].length);
		} else {
			if (rc != -1)
				fail_msg("length %u max %zu accepted", cases[i].length,
				    cases[i].max);
			assert_err(rc, err, HGW_ERR_HEADER, HGW_HDR_BAD_LENGTH);
		}
	}
	/* err may be NULL */
	hgw_hdr_encode(buf, HGW_MSG_UPDATE, 3);
	assert_int_equal(hgw_hdr_decode(buf, 8, HGW_MAX_FRAME, &h, NULL), -1);
}

/* ----------------------------------------------------- KEEPALIVE, END-OF-RIB */

static void
test_empty_frames(void **state)
{
	uint8_t buf[16];
	struct hgw_hdr h;
	struct hgw_err err;
	static const uint8_t ka[8] = { 1, 2, 0, 0, 0, 0, 0, 8 };
	static const uint8_t eor[8] = { 1, 4, 0, 0, 0, 0, 0, 8 };

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(hgw_keepalive_encode(buf, sizeof(buf)), 8);
	assert_memory_equal(buf, ka, 8);
	assert_int_equal(buf[8], 0xee);	/* nothing past the frame */
	assert_int_equal(hgw_hdr_decode(buf, 8, HGW_MAX_FRAME, &h, &err), 1);
	assert_int_equal(h.type, HGW_MSG_KEEPALIVE);
	assert_int_equal(hgw_empty_decode(h.type, h.length - HGW_HDR_LEN, &err), 0);

	assert_int_equal(hgw_eor_encode(buf, 8), 8);
	assert_memory_equal(buf, eor, 8);
	assert_int_equal(hgw_hdr_decode(buf, 8, HGW_MAX_FRAME, &h, &err), 1);
	assert_int_equal(h.type, HGW_MSG_EOR);
	assert_int_equal(hgw_empty_decode(h.type, 0, &err), 0);

	/* too small a buffer */
	assert_int_equal(hgw_keepalive_encode(buf, 7), 0);
	assert_int_equal(hgw_eor_encode(buf, 0), 0);

	/* a body is a header error / bad length */
	assert_err(hgw_empty_decode(HGW_MSG_KEEPALIVE, 1, &err), err,
	    HGW_ERR_HEADER, HGW_HDR_BAD_LENGTH);
	assert_err(hgw_empty_decode(HGW_MSG_EOR, 65528, &err), err,
	    HGW_ERR_HEADER, HGW_HDR_BAD_LENGTH);
	assert_int_equal(hgw_empty_decode(HGW_MSG_EOR, 4, NULL), -1);
}

/* ------------------------------------------------------------------ HELLO */

static void
sample_hello(struct hgw_hello *h)
{
	memset(h, 0, sizeof(*h));
	h->node_id = 0x0a000001;
	h->hold_ms = 9000;
	h->keepalive_ms = 3000;
	h->caps = HGW_CAP_IPV4 | HGW_CAP_IPV6;
	h->listen_port = 7179;
	h->naddrs = 2;
	h->addrs[0] = A("192.0.2.1");
	h->addrs[1] = A("2001:db8::1");
	strcpy(h->hostname, "r1");
}

static void
assert_hello_equal(const struct hgw_hello *a, const struct hgw_hello *b)
{
	unsigned i;

	assert_int_equal(a->node_id, b->node_id);
	assert_int_equal(a->hold_ms, b->hold_ms);
	assert_int_equal(a->keepalive_ms, b->keepalive_ms);
	assert_int_equal(a->caps, b->caps);
	assert_int_equal(a->listen_port, b->listen_port);
	assert_int_equal(a->naddrs, b->naddrs);
	for (i = 0; i < a->naddrs; i++)
		assert_int_equal(hgw_addr_cmp(&a->addrs[i], &b->addrs[i]), 0);
	assert_string_equal(a->hostname, b->hostname);
}

static void
test_hello_layout(void **state)
{
	static const uint8_t want[] = {
		1, 1, 0, 0, 0, 0, 0, 52,
		10, 0, 0, 1,			/* node id */
		0, 0, 0x23, 0x28,		/* hold 9000 */
		0, 0, 0x0b, 0xb8,		/* keepalive 3000 */
		0, 0, 0, 3,			/* caps */
		0x1c, 0x0b,			/* port 7179 */
		2, 2,				/* address count, hostname length */
		4, 192, 0, 2, 1,
		6, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		'r', '1',
	};
	struct hgw_hello h, d;
	struct hgw_err err;
	uint8_t buf[128];
	size_t n, cap;

	(void)state;
	sample_hello(&h);
	memset(buf, 0xee, sizeof(buf));
	n = hgw_hello_encode(buf, sizeof(buf), &h);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(buf[n], 0xee);
	assert_int_equal(hgw_hello_decode(buf + 8, n - 8, &d, &err), 0);
	assert_hello_equal(&h, &d);

	/* a buffer one byte short, or anything shorter, gives 0 */
	for (cap = 0; cap < sizeof(want); cap++)
		assert_int_equal(hgw_hello_encode(buf, cap, &h), 0);
	assert_int_equal(hgw_hello_encode(buf, sizeof(want), &h), sizeof(want));
}

static void
test_hello_roundtrips(void **state)
{
	struct hgw_hello h, d;
	struct hgw_err err;
	struct hgw_hdr hdr;
	uint8_t buf[256];
	size_t n;
	unsigned i;

	(void)state;
	/* smallest: no address, no hostname, limits at their minimum */
	memset(&h, 0, sizeof(h));
	h.node_id = 1;
	h.hold_ms = HGW_HOLD_MIN_MS;
	h.keepalive_ms = HGW_KEEPALIVE_MIN_MS;
	h.listen_port = 1;
	n = hgw_hello_encode(buf, sizeof(buf), &h);
	assert_int_equal(n, 28);
	assert_int_equal(hgw_hdr_decode(buf, n, HGW_MAX_FRAME, &hdr, &err), 1);
	assert_int_equal(hdr.type, HGW_MSG_HELLO);
	assert_int_equal(hdr.length, 28);
	assert_int_equal(hgw_hello_decode(buf + 8, n - 8, &d, &err), 0);
	assert_hello_equal(&h, &d);
	assert_string_equal(d.hostname, "");

	/* largest: four IPv6 addresses and a 64-byte hostname, limits at max */
	memset(&h, 0, sizeof(h));
	h.node_id = 0xffffffff;
	h.hold_ms = HGW_HOLD_MAX_MS;
	h.keepalive_ms = HGW_HOLD_MAX_MS;
	h.caps = HGW_CAP_IPV6;
	h.listen_port = 65535;
	h.naddrs = HGW_HELLO_MAX_ADDRS;
	for (i = 0; i < HGW_HELLO_MAX_ADDRS; i++) {
		h.addrs[i] = A("2001:db8::1");
		h.addrs[i].bytes[15] = (uint8_t)(i + 1);
	}
	for (i = 0; i < HGW_HOSTNAME_MAX; i++)
		h.hostname[i] = "abcXYZ019.-_"[i % 12];
	n = hgw_hello_encode(buf, sizeof(buf), &h);
	assert_int_equal(n, 8 + 20 + 4 * 17 + 64);
	assert_int_equal(hgw_hello_decode(buf + 8, n - 8, &d, &err), 0);
	assert_hello_equal(&h, &d);
	assert_int_equal(strlen(d.hostname), 64);

	/* IPv4 only, one address */
	sample_hello(&h);
	h.naddrs = 1;
	h.caps = HGW_CAP_IPV4;
	strcpy(h.hostname, "gw-3.lab_net");
	n = hgw_hello_encode(buf, sizeof(buf), &h);
	assert_int_equal(n, 8 + 20 + 5 + 12);
	assert_int_equal(hgw_hello_decode(buf + 8, n - 8, &d, &err), 0);
	assert_hello_equal(&h, &d);
}

static void
test_hello_encode_refuses(void **state)
{
	struct hgw_hello h;
	uint8_t buf[256];

	(void)state;
	sample_hello(&h);
	h.naddrs = HGW_HELLO_MAX_ADDRS + 1;
	assert_int_equal(hgw_hello_encode(buf, sizeof(buf), &h), 0);
	sample_hello(&h);
	h.addrs[1].family = 0;
	assert_int_equal(hgw_hello_encode(buf, sizeof(buf), &h), 0);
}

/* A valid HELLO body (sample_hello) to break one field at a time. */
static size_t
hello_body(uint8_t *body, size_t cap)
{
	struct hgw_hello h;
	uint8_t buf[256];
	size_t n;

	sample_hello(&h);
	n = hgw_hello_encode(buf, sizeof(buf), &h);
	assert_true(n > 8 && n - 8 <= cap);
	memcpy(body, buf + 8, n - 8);
	return n - 8;
}

static void
test_hello_short(void **state)
{
	uint8_t body[128];
	struct hgw_hello d;
	struct hgw_err err;
	size_t len, n;

	(void)state;
	len = hello_body(body, sizeof(body));
	assert_int_equal(len, 44);
	assert_int_equal(hgw_hello_decode(body, len, &d, &err), 0);
	/* every truncation is malformed, and so is every extra byte */
	for (n = 0; n < len; n++) {
		uint8_t *copy = malloc(n ? n : 1);

		memcpy(copy, body, n);
		assert_err(hgw_hello_decode(copy, n, &d, &err), err,
		    HGW_ERR_HELLO, HGW_HELLO_MALFORMED);
		free(copy);
	}
	body[len] = 'x';	/* a valid hostname character, still trailing */
	assert_err(hgw_hello_decode(body, len + 1, &d, &err), err,
	    HGW_ERR_HELLO, HGW_HELLO_MALFORMED);
	body[len] = 0;
	assert_err(hgw_hello_decode(body, len + 1, &d, &err), err,
	    HGW_ERR_HELLO, HGW_HELLO_MALFORMED);
}

static void
test_hello_fields(void **state)
{
	static const struct {
		const char *what;
		size_t off;	/* in the body */
		int width;	/* 1, 2 or 4 */
		uint32_t value;
		int code, sub;	/* 0: accepted */
	} cases[] = {
		{ "node id 0", 0, 4, 0, HGW_ERR_HELLO, HGW_HELLO_BAD_NODE_ID },
		{ "node id 1", 0, 4, 1, 0, 0 },
		{ "node id max", 0, 4, 0xffffffff, 0, 0 },
		{ "hold 0", 4, 4, 0, HGW_ERR_HELLO, HGW_HELLO_BAD_HOLD },
		{ "hold 299", 4, 4, 299, HGW_ERR_HELLO, HGW_HELLO_BAD_HOLD },
		{ "hold 3600001", 4, 4, 3600001, HGW_ERR_HELLO, HGW_HELLO_BAD_HOLD },
		{ "hold max u32", 4, 4, 0xffffffff, HGW_ERR_HELLO, HGW_HELLO_BAD_HOLD },
		{ "hold 3600000", 4, 4, 3600000, 0, 0 },
		{ "hold = keepalive", 4, 4, 3000, 0, 0 },
		{ "hold < keepalive", 4, 4, 2999, HGW_ERR_HELLO, HGW_HELLO_BAD_HOLD },
		{ "keepalive 0", 8, 4, 0, HGW_ERR_HELLO, HGW_HELLO_BAD_HOLD },
		{ "keepalive 99", 8, 4, 99, HGW_ERR_HELLO, HGW_HELLO_BAD_HOLD },
		{ "keepalive 100", 8, 4, 100, 0, 0 },
		{ "keepalive = hold", 8, 4, 9000, 0, 0 },
		{ "keepalive > hold", 8, 4, 9001, HGW_ERR_HELLO, HGW_HELLO_BAD_HOLD },
		{ "unknown caps ignored", 12, 4, 0xfffffffc, 0, 0 },
		{ "all caps", 12, 4, 0xffffffff, 0, 0 },
		{ "no caps", 12, 4, 0, 0, 0 },
		{ "port 0", 16, 2, 0, HGW_ERR_HELLO, HGW_HELLO_MALFORMED },
		{ "port 65535", 16, 2, 65535, 0, 0 },
		{ "5 addresses", 18, 1, 5, HGW_ERR_HELLO, HGW_HELLO_MALFORMED },
		{ "255 addresses", 18, 1, 255, HGW_ERR_HELLO, HGW_HELLO_MALFORMED },
		/* a third entry where the hostname is: 'r' is no family */
		{ "3 addresses, 2 given", 18, 1, 3, HGW_ERR_HELLO, HGW_HELLO_BAD_ADDRESS },
		{ "1 address, 2 given", 18, 1, 1, HGW_ERR_HELLO, HGW_HELLO_MALFORMED },
		{ "hostname 65", 19, 1, 65, HGW_ERR_HELLO, HGW_HELLO_MALFORMED },
		{ "hostname 255", 19, 1, 255, HGW_ERR_HELLO, HGW_HELLO_MALFORMED },
		{ "hostname 3, 2 given", 19, 1, 3, HGW_ERR_HELLO, HGW_HELLO_MALFORMED },
		{ "hostname 1, 2 given", 19, 1, 1, HGW_ERR_HELLO, HGW_HELLO_MALFORMED },
		{ "family 0", 20, 1, 0, HGW_ERR_HELLO, HGW_HELLO_BAD_ADDRESS },
		{ "family AF_INET", 20, 1, AF_INET, HGW_ERR_HELLO, HGW_HELLO_BAD_ADDRESS },
		{ "family AF_INET6", 25, 1, AF_INET6, HGW_ERR_HELLO, HGW_HELLO_BAD_ADDRESS },
		{ "family 5", 20, 1, 5, HGW_ERR_HELLO, HGW_HELLO_BAD_ADDRESS },
		{ "family 255", 25, 1, 255, HGW_ERR_HELLO, HGW_HELLO_BAD_ADDRESS },
		/* 6 -> 4 leaves 12 bytes of address as hostname: bad length */
		{ "family 6 as 4", 25, 1, 4, HGW_ERR_HELLO, HGW_HELLO_MALFORMED },
		{ "v4 0.0.0.0", 21, 4, 0, HGW_ERR_HELLO, HGW_HELLO_BAD_ADDRESS },
		{ "v4 0.0.0.1", 21, 4, 1, 0, 0 },
		{ "hostname space", 42, 1, ' ', HGW_ERR_HELLO, HGW_HELLO_MALFORMED },
		{ "hostname NUL", 42, 1, 0, HGW_ERR_HELLO, HGW_HELLO_MALFORMED },
		{ "hostname slash", 43, 1, '/', HGW_ERR_HELLO, HGW_HELLO_MALFORMED },
		{ "hostname at", 43, 1, '@', HGW_ERR_HELLO, HGW_HELLO_MALFORMED },
		{ "hostname colon", 43, 1, ':', HGW_ERR_HELLO, HGW_HELLO_MALFORMED },
		{ "hostname newline", 43, 1, '\n', HGW_ERR_HELLO, HGW_HELLO_MALFORMED },
		{ "hostname 0x80", 42, 1, 0x80, HGW_ERR_HELLO, HGW_HELLO_MALFORMED },
		{ "hostname 0xff", 43, 1, 0xff, HGW_ERR_HELLO, HGW_HELLO_MALFORMED },
		{ "hostname dot", 42, 1, '.', 0, 0 },
		{ "hostname dash", 42, 1, '-', 0, 0 },
		{ "hostname underscore", 43, 1, '_', 0, 0 },
		{ "hostname Z", 43, 1, 'Z', 0, 0 },
		{ "hostname 9", 43, 1, '9', 0, 0 },
	};
	uint8_t body[128];
	struct hgw_hello d;
	struct hgw_err err;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;

		len = hello_body(body, sizeof(body));
		if (cases[i].width == 4)
			wr32(body + cases[i].off, cases[i].value);
		else if (cases[i].width == 2)
			wr16(body + cases[i].off, (uint16_t)cases[i].value);
		else
			body[cases[i].off] = (uint8_t)cases[i].value;
		memset(&err, 0, sizeof(err));
		rc = hgw_hello_decode(body, len, &d, &err);
		if (cases[i].code == 0) {
			if (rc != 0)
				fail_msg("%s: refused (%s)", cases[i].what, err.text);
			continue;
		}
		if (rc != -1 || err.code != cases[i].code || err.subcode != cases[i].sub)
			fail_msg("%s: rc %d code %u/%u (%s), expected %d/%d",
			    cases[i].what, rc, err.code, err.subcode, err.text,
			    cases[i].code, cases[i].sub);
	}
	/* the unknown capability bits do not get in the way of the known ones */
	len = hello_body(body, sizeof(body));
	wr32(body + 12, 0xfffffffd);
	assert_int_equal(hgw_hello_decode(body, len, &d, &err), 0);
	/* (graceful restart and VXLAN need their HELLO extension: without
	 * it the bit is not the capability) */
	assert_int_equal(d.caps & HGW_CAP_KNOWN, HGW_CAP_KNOWN & 0xfffffffd &
	    ~(HGW_CAP_GRACEFUL_RESTART | HGW_CAP_VXLAN));
	/* err may be NULL */
	wr32(body, 0);
	assert_int_equal(hgw_hello_decode(body, len, &d, NULL), -1);
}

static void
test_hello_v6_unspec(void **state)
{
	struct hgw_hello h, d;
	struct hgw_err err;
	uint8_t buf[128];
	size_t n;

	(void)state;
	sample_hello(&h);
	h.addrs[1] = A("::");
	n = hgw_hello_encode(buf, sizeof(buf), &h);
	assert_true(n > 0);
	assert_err(hgw_hello_decode(buf + 8, n - 8, &d, &err), err,
	    HGW_ERR_HELLO, HGW_HELLO_BAD_ADDRESS);
	h.addrs[1] = A("::1");
	n = hgw_hello_encode(buf, sizeof(buf), &h);
	assert_int_equal(hgw_hello_decode(buf + 8, n - 8, &d, &err), 0);
	assert_int_equal(d.addrs[1].family, AF_INET6);
	assert_int_equal(d.addrs[1].bytes[15], 1);

	/* five real addresses on the wire, count 5 */
	{
		uint8_t body[128];
		size_t off = 20;
		int i;

		memset(body, 0, sizeof(body));
		wr32(body, 1);
		wr32(body + 4, 9000);
		wr32(body + 8, 3000);
		wr16(body + 16, 7179);
		body[18] = 5;
		body[19] = 0;
		for (i = 0; i < 5; i++) {
			body[off] = 4;
			wr32(body + off + 1, 0xc0000201 + (uint32_t)i);
			off += 5;
		}
		assert_err(hgw_hello_decode(body, off, &d, &err), err,
		    HGW_ERR_HELLO, HGW_HELLO_MALFORMED);
		body[18] = 4;	/* four of them and a 5-byte hostname: fine */
		body[19] = 5;
		memcpy(body + 40, "abcde", 5);
		assert_int_equal(hgw_hello_decode(body, off, &d, &err), 0);
		assert_int_equal(d.naddrs, 4);
		assert_string_equal(d.hostname, "abcde");
	}
}

/* ----------------------------------------------------------------- NOTIFY */

static void
test_notify_roundtrip(void **state)
{
	static const uint8_t want[] = {
		1, 5, 0, 0, 0, 0, 0, 16, 6, 2, 5, 'h', 'e', 'l', 'l', 'o',
	};
	uint8_t buf[300];
	char text[300];
	struct hgw_notify n;
	struct hgw_hdr h;
	struct hgw_err err;
	size_t len;

	(void)state;
	len = hgw_notify_encode(buf, sizeof(buf), HGW_ERR_CEASE,
	    HGW_CEASE_COLLISION, "hello");
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(hgw_hdr_decode(buf, len, HGW_MAX_FRAME, &h, &err), 1);
	assert_int_equal(h.type, HGW_MSG_NOTIFY);
	assert_int_equal(h.length, len);
	assert_int_equal(hgw_notify_decode(buf + 8, len - 8, &n, &err), 0);
	assert_int_equal(n.code, HGW_ERR_CEASE);
	assert_int_equal(n.subcode, HGW_CEASE_COLLISION);
	assert_string_equal(n.text, "hello");

	/* no text: NULL or "" */
	len = hgw_notify_encode(buf, sizeof(buf), HGW_ERR_HOLD, 0, NULL);
	assert_int_equal(len, 11);
	assert_int_equal(hgw_notify_decode(buf + 8, len - 8, &n, &err), 0);
	assert_int_equal(n.code, HGW_ERR_HOLD);
	assert_int_equal(n.subcode, 0);
	assert_string_equal(n.text, "");
	assert_int_equal(hgw_notify_encode(buf, sizeof(buf), HGW_ERR_FSM, 0, ""), 11);

	/* 255 bytes of text fit; longer is cut to 255 */
	memset(text, 'a', sizeof(text));
	text[255] = '\0';
	len = hgw_notify_encode(buf, sizeof(buf), HGW_ERR_UPDATE, 3, text);
	assert_int_equal(len, 8 + 3 + 255);
	assert_int_equal(hgw_notify_decode(buf + 8, len - 8, &n, &err), 0);
	assert_string_equal(n.text, text);
	text[255] = 'b';
	text[299] = '\0';
	len = hgw_notify_encode(buf, sizeof(buf), HGW_ERR_UPDATE, 3, text);
	assert_int_equal(len, 8 + 3 + 255);
	assert_int_equal(buf[10], 255);
	assert_int_equal(hgw_notify_decode(buf + 8, len - 8, &n, &err), 0);
	assert_int_equal(strlen(n.text), 255);
	assert_int_equal(n.text[254], 'a');

	/* too small a buffer */
	assert_int_equal(hgw_notify_encode(buf, 15, HGW_ERR_CEASE, 1, "hello"), 0);
	assert_int_equal(hgw_notify_encode(buf, 16, HGW_ERR_CEASE, 1, "hello"), 16);
	assert_int_equal(hgw_notify_encode(buf, 10, HGW_ERR_CEASE, 1, NULL), 0);
}

static void
test_notify_sanitise(void **state)
{
	static const uint8_t body[] = {
		3, 1, 12, 'o', 'k', 0x00, 0x1f, ' ', '~', 0x7f, 0x80, 0xff, '\n',
		'\t', 'z',
	};
	struct hgw_notify n;
	struct hgw_err err;
	uint8_t all[3 + 255];
	int i;

	(void)state;
	assert_int_equal(hgw_notify_decode(body, sizeof(body), &n, &err), 0);
	assert_int_equal(n.code, 3);
	assert_int_equal(n.subcode, 1);
	assert_string_equal(n.text, "ok?? ~?????z");

	/* every byte value: printable ASCII kept, everything else '?' */
	all[0] = 6;
	all[1] = 1;
	all[2] = 255;
	for (i = 0; i < 255; i++)
		all[3 + i] = (uint8_t)(i + 1);
	assert_int_equal(hgw_notify_decode(all, sizeof(all), &n, &err), 0);
	assert_int_equal(strlen(n.text), 255);
	for (i = 0; i < 255; i++) {
		int c = i + 1;

		assert_int_equal(n.text[i], c >= 0x20 && c <= 0x7e ? c : '?');
	}
}

static void
test_notify_malformed(void **state)
{
	uint8_t body[300];
	struct hgw_notify n;
	struct hgw_err err;
	size_t len;

	(void)state;
	memset(body, 'x', sizeof(body));
	body[0] = 6;
	body[1] = 1;
	body[2] = 4;
	for (len = 0; len < 300; len++) {
		int rc = hgw_notify_decode(body, len, &n, &err);

		if (len == 7) {
			assert_int_equal(rc, 0);
			assert_string_equal(n.text, "xxxx");
		} else {
			assert_err(rc, err, HGW_ERR_NOTIFY, 0);
		}
	}
	body[2] = 255;
	assert_int_equal(hgw_notify_decode(body, 258, &n, &err), 0);
	assert_err(hgw_notify_decode(body, 257, &n, &err), err, HGW_ERR_NOTIFY, 0);
	assert_err(hgw_notify_decode(body, 259, &n, &err), err, HGW_ERR_NOTIFY, 0);
	assert_int_equal(hgw_notify_decode(body, 2, &n, NULL), -1);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(hgw_msg_type_name(HGW_MSG_HELLO), "HELLO");
	assert_string_equal(hgw_msg_type_name(HGW_MSG_KEEPALIVE), "KEEPALIVE");
	assert_string_equal(hgw_msg_type_name(HGW_MSG_UPDATE), "UPDATE");
	assert_string_equal(hgw_msg_type_name(HGW_MSG_EOR), "END-OF-RIB");
	assert_string_equal(hgw_msg_type_name(HGW_MSG_NOTIFY), "NOTIFY");
	assert_string_equal(hgw_msg_type_name(0), "unknown");
	assert_string_equal(hgw_msg_type_name(HGW_MSG_MEMBERS), "MEMBERS");
	assert_string_equal(hgw_msg_type_name(HGW_MSG_LEASE), "LEASE");
	assert_string_equal(hgw_msg_type_name(8), "unknown");
	assert_string_equal(hgw_notify_name(HGW_ERR_HEADER, HGW_HDR_BAD_LENGTH),
	    "header error/bad length");
	assert_string_equal(hgw_notify_name(HGW_ERR_HELLO, HGW_HELLO_DUP_NODE_ID),
	    "hello error/duplicate node id");
	assert_string_equal(hgw_notify_name(HGW_ERR_UPDATE, HGW_UPD_BAD_GATEWAY),
	    "update error/bad gateway");
	assert_string_equal(hgw_notify_name(HGW_ERR_UPDATE, 99), "update error");
	assert_string_equal(hgw_notify_name(HGW_ERR_HOLD, 0), "hold timer expired");
	assert_string_equal(hgw_notify_name(HGW_ERR_FSM, 0), "unexpected message");
	assert_string_equal(hgw_notify_name(HGW_ERR_CEASE, HGW_CEASE_COLLISION),
	    "cease/connection collision");
	assert_string_equal(hgw_notify_name(HGW_ERR_CEASE, HGW_CEASE_REFUSED),
	    "cease/connection refused");
	assert_string_equal(hgw_notify_name(HGW_ERR_CEASE, HGW_CEASE_RESTARTING),
	    "cease/restarting");
	assert_string_equal(hgw_notify_name(0, 0), "unknown error");
	/* the numbers PROTOCOL.md gives */
	assert_int_equal(HGW_ERR_HEADER, 1);
	assert_int_equal(HGW_ERR_HELLO, 2);
	assert_int_equal(HGW_ERR_UPDATE, 3);
	assert_int_equal(HGW_ERR_HOLD, 4);
	assert_int_equal(HGW_ERR_FSM, 5);
	assert_int_equal(HGW_ERR_CEASE, 6);
	assert_int_equal(HGW_HDR_BAD_RESERVED, 4);
	assert_int_equal(HGW_HELLO_DUP_NODE_ID, 5);
	assert_int_equal(HGW_UPD_BAD_SECTION, 5);
	assert_int_equal(HGW_CEASE_REFUSED, 7);
	assert_int_equal(HGW_CEASE_RESTARTING, 8);
}

/* ----------------------------------------------------------------- UPDATE */

static struct hgw_upd_item
announce(const char *prefix, const char *gw, uint32_t origin)
{
	struct hgw_upd_item it;

	memset(&it, 0, sizeof(it));
	it.kind = HGW_UPD_ANNOUNCE;
	it.origin = origin;
	it.gateway = A(gw);
	it.prefix = P(prefix);
	return it;
}

static struct hgw_upd_item
withdraw(const char *prefix, uint32_t origin)
{
	struct hgw_upd_item it;

	memset(&it, 0, sizeof(it));
	it.kind = HGW_UPD_WITHDRAW;
	it.origin = origin;
	it.prefix = P(prefix);
	return it;
}

/* Compares what the iterator gave with what was added: withdraws carry no
 * gateway on the wire, so theirs comes back unset. */
static void
assert_item_equal(const struct hgw_upd_item *got, const struct hgw_upd_item *want)
{
	char a[HGW_ADDRSTRLEN], b[HGW_ADDRSTRLEN];

	assert_int_equal(got->kind, want->kind);
	assert_int_equal(got->origin, want->origin);
	if (!hgw_prefix_eq(&got->prefix, &want->prefix))
		fail_msg("prefix %s, expected %s",
		    hgw_prefix_fmt(&got->prefix, a, sizeof(a)),
		    hgw_prefix_fmt(&want->prefix, b, sizeof(b)));
	if (want->kind == HGW_UPD_ANNOUNCE) {
		assert_int_equal(got->gateway.family, want->prefix.family);
		assert_int_equal(hgw_addr_cmp(&got->gateway, &want->gateway), 0);
	} else {
		assert_int_equal(got->gateway.family, 0);
	}
}

/* Counts the sections of a valid body by walking it as PROTOCOL.md says,
 * independently of the iterator. */
static int
count_sections(const uint8_t *body, size_t len)
{
	size_t off = 0;
	int n = 0;

	while (off < len) {
		unsigned count = (unsigned)body[off + 2] << 8 | body[off + 3];
		int alen = body[off + 1] == 4 ? 4 : 16;

		off += 8 + (body[off] == HGW_UPD_ANNOUNCE ? (size_t)alen : 0);
		while (count--)
			off += 1 + (size_t)(body[off] + 7) / 8;
		n++;
	}
	assert_int_equal(off, len);
	return n;
}

/* Builds one frame of items, checks header, validate, iterator and sections. */
static size_t
build_check(const struct hgw_upd_item *items, size_t n, int sections,
    uint8_t *buf, size_t cap)
{
	struct hgw_upd_builder b;
	struct hgw_upd_iter it;
	struct hgw_upd_item got;
	struct hgw_hdr h;
	struct hgw_err err;
	size_t i, len;

	hgw_upd_begin(&b, buf, cap);
	for (i = 0; i < n; i++)
		if (hgw_upd_add(&b, &items[i]) != 0)
			fail_msg("item %zu refused", i);
	len = hgw_upd_finish(&b);
	assert_true(len > HGW_HDR_LEN);
	assert_int_equal(hgw_hdr_decode(buf, len, HGW_MAX_FRAME, &h, &err), 1);
	assert_int_equal(h.type, HGW_MSG_UPDATE);
	assert_int_equal(h.length, len);
	assert_int_equal(hgw_update_validate(buf + 8, len - 8, &err), (long)n);
	hgw_update_iter_init(&it, buf + 8, len - 8);
	for (i = 0; i < n; i++) {
		assert_int_equal(hgw_update_next(&it, &got), 1);
		assert_item_equal(&got, &items[i]);
	}
	assert_int_equal(hgw_update_next(&it, &got), 0);
	assert_int_equal(hgw_update_next(&it, &got), 0);
	if (sections > 0)
		assert_int_equal(count_sections(buf + 8, len - 8), sections);
	return len;
}

static void
test_update_layout(void **state)
{
	static const uint8_t want[] = {
		1, 3, 0, 0, 0, 0, 0, 41,
		/* announce, family 4, count 2, origin 10.0.0.1, gateway 192.0.2.1 */
		1, 4, 0, 2, 10, 0, 0, 1, 192, 0, 2, 1,
		16, 10, 1,
		25, 192, 0, 2, 128,
		/* withdraw, family 6, count 1, origin 10.0.0.2, no gateway */
		2, 6, 0, 1, 10, 0, 0, 2,
		32, 0x20, 0x01, 0x0d, 0xb8,
	};
	struct hgw_upd_item items[3];
	uint8_t buf[128];
	size_t len;

	(void)state;
	items[0] = announce("10.1.0.0/16", "192.0.2.1", 0x0a000001);
	items[1] = announce("192.0.2.128/25", "192.0.2.1", 0x0a000001);
	items[2] = withdraw("2001:db8::/32", 0x0a000002);
	memset(buf, 0xee, sizeof(buf));
	len = build_check(items, 3, 2, buf, sizeof(buf));
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(buf[len], 0xee);
}

static void
test_update_mixed(void **state)
{
	struct hgw_upd_item items[16];
	uint8_t buf[1024];
	size_t n = 0;

	(void)state;
	items[n++] = announce("10.1.0.0/16", "192.0.2.1", 1);
	items[n++] = announce("10.2.0.0/16", "192.0.2.1", 1);
	items[n++] = withdraw("10.3.0.0/16", 1);			/* kind */
	items[n++] = withdraw("10.4.0.0/24", 1);
	items[n++] = announce("2001:db8:1::/48", "2001:db8::1", 1);	/* family */
	items[n++] = announce("2001:db8:2::/48", "2001:db8::1", 1);
	items[n++] = announce("2001:db8:3::/48", "2001:db8::2", 1);	/* gateway */
	items[n++] = announce("2001:db8:4::/48", "2001:db8::2", 2);	/* origin */
	items[n++] = withdraw("2001:db8:5::/64", 2);			/* kind */
	items[n++] = withdraw("192.0.2.0/24", 2);			/* family */
	items[n++] = withdraw("198.51.100.0/24", 3);			/* origin */
	items[n++] = announce("0.0.0.0/0", "192.0.2.9", 3);		/* kind */
	items[n++] = announce("203.0.113.7/32", "192.0.2.9", 3);
	items[n++] = announce("::/0", "fe80::1", 3);			/* family */
	items[n++] = announce("2001:db8::1/128", "fe80::1", 3);
	items[n++] = announce("10.9.0.0/16", "192.0.2.1", 1);		/* back again */
	build_check(items, n, 11, buf, sizeof(buf));
}

static void
test_update_sections(void **state)
{
	struct hgw_upd_item items[4];
	uint8_t buf[256];

	(void)state;
	/* the same section as long as nothing changes */
	items[0] = announce("10.1.0.0/16", "192.0.2.1", 7);
	items[1] = announce("10.2.0.0/16", "192.0.2.1", 7);
	items[2] = announce("10.3.0.0/16", "192.0.2.1", 7);
	items[3] = announce("10.4.0.0/16", "192.0.2.1", 7);
	build_check(items, 4, 1, buf, sizeof(buf));
	/* one gateway change: two sections */
	items[2] = announce("10.3.0.0/16", "192.0.2.2", 7);
	items[3] = announce("10.4.0.0/16", "192.0.2.2", 7);
	build_check(items, 4, 2, buf, sizeof(buf));
	/* origin change only */
	items[2] = announce("10.3.0.0/16", "192.0.2.1", 8);
	items[3] = announce("10.4.0.0/16", "192.0.2.1", 8);
	build_check(items, 4, 2, buf, sizeof(buf));
	/* kind change only */
	items[2] = withdraw("10.3.0.0/16", 7);
	items[3] = withdraw("10.4.0.0/16", 7);
	build_check(items, 4, 2, buf, sizeof(buf));
	/* alternating: four sections */
	items[1] = withdraw("10.2.0.0/16", 7);
	items[2] = announce("10.3.0.0/16", "192.0.2.1", 7);
	items[3] = withdraw("10.4.0.0/16", 7);
	build_check(items, 4, 4, buf, sizeof(buf));
	/* withdraws with different gateways in the item still share a section */
	items[0] = withdraw("10.1.0.0/16", 7);
	items[1] = withdraw("10.2.0.0/16", 7);
	items[1].gateway = A("192.0.2.77");
	items[2] = withdraw("10.3.0.0/16", 7);
	items[2].gateway = A("2001:db8::5");
	items[3] = withdraw("10.4.0.0/16", 7);
	build_check(items, 4, 1, buf, sizeof(buf));
}

static void
test_update_all_lengths(void **state)
{
	/* every prefix length of both families, with host bits kept as sent */
	struct hgw_upd_item items[33 + 129];
	uint8_t buf[4096];
	size_t n = 0;
	int l, i;

	(void)state;
	for (l = 0; l <= 32; l++) {
		struct hgw_upd_item *it = &items[n++];

		memset(it, 0, sizeof(*it));
		it->kind = l % 2 ? HGW_UPD_ANNOUNCE : HGW_UPD_WITHDRAW;
		it->origin = 0x01020304;
		if (it->kind == HGW_UPD_ANNOUNCE)
			it->gateway = A("198.51.100.1");
		it->prefix.family = AF_INET;
		it->prefix.plen = (uint8_t)l;
		for (i = 0; i < (l + 7) / 8; i++)
			it->prefix.bytes[i] = (uint8_t)(0xa5 + i);
	}
	for (l = 0; l <= 128; l++) {
		struct hgw_upd_item *it = &items[n++];

		memset(it, 0, sizeof(*it));
		it->kind = HGW_UPD_ANNOUNCE;
		it->origin = 0xfffffffe;
		it->gateway = A("2001:db8::99");
		it->prefix.family = AF_INET6;
		it->prefix.plen = (uint8_t)l;
		for (i = 0; i < (l + 7) / 8; i++)
			it->prefix.bytes[i] = (uint8_t)(0x5a ^ (i * 17));
	}
	build_check(items, n, 33 + 1, buf, sizeof(buf));
}

static void
test_update_builder_refuses(void **state)
{
	struct hgw_upd_builder b;
	struct hgw_upd_item it;
	uint8_t buf[256];

	(void)state;
	hgw_upd_begin(&b, buf, sizeof(buf));
	/* nothing added: no frame */
	assert_int_equal(hgw_upd_finish(&b), 0);

	it = announce("10.0.0.0/8", "192.0.2.1", 0);
	assert_int_equal(hgw_upd_add(&b, &it), -1);		/* origin 0 */
	it = announce("10.0.0.0/8", "192.0.2.1", 1);
	it.kind = 0;
	assert_int_equal(hgw_upd_add(&b, &it), -1);		/* kind */
	it.kind = 3;
	assert_int_equal(hgw_upd_add(&b, &it), -1);
	it = announce("10.0.0.0/8", "192.0.2.1", 1);
	it.prefix.plen = 33;
	assert_int_equal(hgw_upd_add(&b, &it), -1);		/* length */
	it = announce("2001:db8::/32", "2001:db8::1", 1);
	it.prefix.plen = 129;
	assert_int_equal(hgw_upd_add(&b, &it), -1);
	it = withdraw("10.0.0.0/8", 1);
	it.prefix.family = 0;
	assert_int_equal(hgw_upd_add(&b, &it), -1);		/* family */
	it.prefix.family = 4;					/* wire code, not AF_ */
	assert_int_equal(hgw_upd_add(&b, &it), -1);
	it = announce("10.0.0.0/8", "2001:db8::1", 1);
	assert_int_equal(hgw_upd_add(&b, &it), -1);		/* gateway family */
	it = announce("10.0.0.0/8", "192.0.2.1", 1);
	it.gateway.family = 0;
	assert_int_equal(hgw_upd_add(&b, &it), -1);
	/* an announce the receiver would refuse (bad gateway) is not built */
	it = announce("10.0.0.0/8", "0.0.0.0", 1);
	assert_int_equal(hgw_upd_add(&b, &it), -1);
	it = announce("2001:db8::/32", "::", 1);
	assert_int_equal(hgw_upd_add(&b, &it), -1);
	/* none of that left anything behind */
	assert_int_equal(hgw_upd_finish(&b), 0);
	assert_int_equal(b.len, HGW_HDR_LEN);

	/* the edges that are fine */
	it = announce("10.0.0.1/32", "0.0.0.1", 1);
	assert_int_equal(hgw_upd_add(&b, &it), 0);
	it = withdraw("::/0", 0xffffffff);
	assert_int_equal(hgw_upd_add(&b, &it), 0);
	assert_int_equal(hgw_upd_finish(&b), 8 + 8 + 4 + 5 + 8 + 1);
}

static void
test_update_frame_full(void **state)
{
	struct hgw_upd_builder b;
	struct hgw_upd_item it;
	struct hgw_upd_iter iter;
	struct hgw_err err;
	uint8_t buf[64];
	size_t len;

	(void)state;
	/* room for one section with one /24 (8 + 8 + 4 + 4 = 24) */
	hgw_upd_begin(&b, buf, 24);
	it = announce("10.0.1.0/24", "192.0.2.1", 1);
	assert_int_equal(hgw_upd_add(&b, &it), 0);
	it = announce("10.0.2.0/24", "192.0.2.1", 1);
	assert_int_equal(hgw_upd_add(&b, &it), -1);	/* 4 more do not fit */
	assert_int_equal(hgw_upd_add(&b, &it), -1);	/* and still do not */
	len = hgw_upd_finish(&b);
	assert_int_equal(len, 24);
	assert_int_equal(buf[7], 24);
	assert_int_equal(hgw_update_validate(buf + 8, len - 8, &err), 1);
	/* begin again (after sending the first): the refused item goes there */
	hgw_upd_begin(&b, buf, 24);
	assert_int_equal(hgw_upd_add(&b, &it), 0);
	assert_int_equal(hgw_upd_finish(&b), 24);
	assert_int_equal(hgw_update_validate(buf + 8, 16, &err), 1);
	{
		struct hgw_upd_item got;

		hgw_update_iter_init(&iter, buf + 8, 16);
		assert_int_equal(hgw_update_next(&iter, &got), 1);
		assert_item_equal(&got, &it);
		assert_int_equal(hgw_update_next(&iter, &got), 0);
	}
	/* finish also readies the same builder for the next frame */
	it = announce("10.0.3.0/24", "192.0.2.1", 1);
	assert_int_equal(hgw_upd_add(&b, &it), 0);
	assert_int_equal(hgw_upd_finish(&b), 24);
	assert_int_equal(buf[8 + 12 + 3], 3);

	/* a new section needs its header: after one /24 (24 bytes), a change
	 * of gateway needs 8 + 4 + 4 more, so 39 bytes are one short, while
	 * another /24 of the same section (4 bytes) still fits */
	hgw_upd_begin(&b, buf, 39);
	it = announce("10.0.1.0/24", "192.0.2.1", 1);
	assert_int_equal(hgw_upd_add(&b, &it), 0);
	it = announce("10.0.2.0/24", "192.0.2.2", 1);
	assert_int_equal(hgw_upd_add(&b, &it), -1);
	it = announce("10.0.2.0/24", "192.0.2.1", 1);	/* same section fits */
	assert_int_equal(hgw_upd_add(&b, &it), 0);
	assert_int_equal(hgw_upd_finish(&b), 28);
	hgw_upd_begin(&b, buf, 40);
	it = announce("10.0.1.0/24", "192.0.2.1", 1);
	assert_int_equal(hgw_upd_add(&b, &it), 0);
	it = announce("10.0.2.0/24", "192.0.2.2", 1);
	assert_int_equal(hgw_upd_add(&b, &it), 0);
	assert_int_equal(hgw_upd_finish(&b), 40);
	assert_int_equal(hgw_update_validate(buf + 8, 32, &err), 2);

	/* a buffer smaller than a header holds nothing */
	hgw_upd_begin(&b, buf, 4);
	assert_int_equal(hgw_upd_add(&b, &it), -1);
	assert_int_equal(hgw_upd_finish(&b), 0);
}

static void
test_update_full_of_24s(void **state)
{
	struct hgw_upd_builder b;
	struct hgw_upd_item it, got;
	struct hgw_upd_iter iter;
	struct hgw_err err;
	struct hgw_hdr h;
	uint8_t *buf = malloc(HGW_MAX_FRAME + 4096);
	unsigned n = 0, i;
	size_t len;

	(void)state;
	assert_non_null(buf);
	/* a buffer bigger than the maximum still makes frames of at most 65536 */
	hgw_upd_begin(&b, buf, HGW_MAX_FRAME + 4096);
	it = announce("10.0.0.0/24", "192.0.2.1", 0x0a000001);
	for (;;) {
		it.prefix.bytes[1] = (uint8_t)(n >> 8);
		it.prefix.bytes[2] = (uint8_t)n;
		if (hgw_upd_add(&b, &it) != 0)
			break;
		n++;
	}
	/* (65536 - 8 header - 8 section - 4 gateway) / 4 */
	assert_int_equal(n, 16379);
	len = hgw_upd_finish(&b);
	assert_int_equal(len, HGW_MAX_FRAME);
	assert_int_equal(hgw_hdr_decode(buf, len, HGW_MAX_FRAME, &h, &err), 1);
	assert_int_equal(h.length, HGW_MAX_FRAME);
	assert_int_equal(hgw_update_validate(buf + 8, len - 8, &err), 16379);
	assert_int_equal(count_sections(buf + 8, len - 8), 1);
	hgw_update_iter_init(&iter, buf + 8, len - 8);
	for (i = 0; i < n; i++) {
		assert_int_equal(hgw_update_next(&iter, &got), 1);
		assert_int_equal(got.kind, HGW_UPD_ANNOUNCE);
		assert_int_equal(got.origin, 0x0a000001);
		assert_int_equal(got.prefix.family, AF_INET);
		assert_int_equal(got.prefix.plen, 24);
		assert_int_equal(got.prefix.bytes[0], 10);
		assert_int_equal(got.prefix.bytes[1], (i >> 8) & 0xff);
		assert_int_equal(got.prefix.bytes[2], i & 0xff);
		assert_int_equal(got.prefix.bytes[3], 0);
		assert_int_equal(hgw_addr_cmp(&got.gateway, &it.gateway), 0);
	}
	assert_int_equal(hgw_update_next(&iter, &got), 0);
	/* a frame one byte over the limit is refused by the header check */
	buf[6] = 0x00;
	buf[5] = 0x01;
	buf[7] = 0x01;
	assert_err(hgw_hdr_decode(buf, 8, HGW_MAX_FRAME, &h, &err), err,
	    HGW_ERR_HEADER, HGW_HDR_BAD_LENGTH);
	free(buf);
}

static void
test_update_many_frames(void **state)
{
	/* 40000 withdraws of /32 in 1400-byte frames, refilled on -1 */
	struct hgw_upd_builder b;
	struct hgw_upd_item it, got;
	struct hgw_upd_iter iter;
	struct hgw_err err;
	uint8_t buf[1400];
	unsigned added = 0, seen = 0, frames = 0;
	size_t len;

	(void)state;
	it = withdraw("10.0.0.0/32", 5);
	hgw_upd_begin(&b, buf, sizeof(buf));
	while (added < 40000) {
		it.prefix.bytes[1] = (uint8_t)(added >> 16);
		it.prefix.bytes[2] = (uint8_t)(added >> 8);
		it.prefix.bytes[3] = (uint8_t)added;
		if (hgw_upd_add(&b, &it) == 0) {
			added++;
			if (added < 40000)
				continue;
		}
		len = hgw_upd_finish(&b);
		assert_true(len > 8 && len <= sizeof(buf));
		/* full frames: 8 + 8 + 5 n <= 1400 gives n = 276 */
		if (added < 40000)
			assert_int_equal(len, 8 + 8 + 276 * 5);
		assert_int_equal(hgw_update_validate(buf + 8, len - 8, &err),
		    (long)(len - 16) / 5);
		hgw_update_iter_init(&iter, buf + 8, len - 8);
		while (hgw_update_next(&iter, &got)) {
			uint32_t v = (uint32_t)got.prefix.bytes[1] << 16 |
			    (uint32_t)got.prefix.bytes[2] << 8 | got.prefix.bytes[3];

			assert_int_equal(v, seen);
			assert_int_equal(got.kind, HGW_UPD_WITHDRAW);
			seen++;
		}
		frames++;
		hgw_upd_begin(&b, buf, sizeof(buf));
	}
	assert_int_equal(seen, 40000);
	assert_int_equal(frames, (40000 + 275) / 276);
}

/* Body fragments for validate. */
struct vcase {
	const char *what;
	uint8_t body[48];
	size_t len;
	long count;		/* >= 0: accepted with this count */
	int sub;		/* else: HGW_ERR_UPDATE / sub */
};

static void
test_update_validate(void **state)
{
	static const struct vcase cases[] = {
		{ "empty body", { 0 }, 0, -1, HGW_UPD_MALFORMED },
		{ "1-byte section header", { 2 }, 1, -1, HGW_UPD_MALFORMED },
		{ "7-byte section header", { 2, 4, 0, 1, 0, 0, 0 }, 7, -1,
		    HGW_UPD_MALFORMED },
		{ "header only, count 1", { 2, 4, 0, 1, 0, 0, 0, 1 }, 8, -1,
		    HGW_UPD_MALFORMED },
		{ "ok withdraw", { 2, 4, 0, 1, 0, 0, 0, 1, 8, 10 }, 10, 1, 0 },
		{ "ok withdraw /0", { 2, 4, 0, 1, 0, 0, 0, 1, 0 }, 9, 1, 0 },
		{ "ok announce", { 1, 4, 0, 1, 0, 0, 0, 1, 192, 0, 2, 1, 8, 10 },
		    14, 1, 0 },
		{ "kind 0", { 0, 4, 0, 1, 0, 0, 0, 1, 8, 10 }, 10, -1,
		    HGW_UPD_BAD_SECTION },
		{ "kind 3", { 3, 4, 0, 1, 0, 0, 0, 1, 8, 10 }, 10, -1,
		    HGW_UPD_BAD_SECTION },
		{ "kind 255", { 255, 4, 0, 1, 0, 0, 0, 1, 8, 10 }, 10, -1,
		    HGW_UPD_BAD_SECTION },
		{ "family 0", { 2, 0, 0, 1, 0, 0, 0, 1, 8, 10 }, 10, -1,
		    HGW_UPD_BAD_FAMILY },
		{ "family 5", { 2, 5, 0, 1, 0, 0, 0, 1, 8, 10 }, 10, -1,
		    HGW_UPD_BAD_FAMILY },
		{ "family AF_INET", { 2, AF_INET, 0, 1, 0, 0, 0, 1, 8, 10 }, 10,
		    -1, HGW_UPD_BAD_FAMILY },
		{ "family AF_INET6", { 2, AF_INET6, 0, 1, 0, 0, 0, 1, 8, 10 }, 10,
		    -1, HGW_UPD_BAD_FAMILY },
		{ "count 0", { 2, 4, 0, 0, 0, 0, 0, 1 }, 8, -1, HGW_UPD_BAD_SECTION },
		{ "count 0 then data", { 2, 4, 0, 0, 0, 0, 0, 1, 8, 10 }, 10, -1,
		    HGW_UPD_BAD_SECTION },
		{ "origin 0", { 2, 4, 0, 1, 0, 0, 0, 0, 8, 10 }, 10, -1,
		    HGW_UPD_BAD_SECTION },
		{ "announce origin 0", { 1, 4, 0, 1, 0, 0, 0, 0, 192, 0, 2, 1, 8,
		    10 }, 14, -1, HGW_UPD_BAD_SECTION },
		{ "v4 /32", { 2, 4, 0, 1, 0, 0, 0, 1, 32, 1, 2, 3, 4 }, 13, 1, 0 },
		{ "v4 /33", { 2, 4, 0, 1, 0, 0, 0, 1, 33, 1, 2, 3, 4, 5 }, 14, -1,
		    HGW_UPD_BAD_PREFIX_LEN },
		{ "v4 /255", { 2, 4, 0, 1, 0, 0, 0, 1, 255 }, 9, -1,
		    HGW_UPD_BAD_PREFIX_LEN },
		{ "v6 /128", { 2, 6, 0, 1, 0, 0, 0, 1, 128, 0x20, 1, 0xd, 0xb8, 0,
		    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, 25, 1, 0 },
		{ "v6 /129", { 2, 6, 0, 1, 0, 0, 0, 1, 129, 0x20, 1, 0xd, 0xb8, 0,
		    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0 }, 26, -1,
		    HGW_UPD_BAD_PREFIX_LEN },
		{ "v4 /40",
		    { 2, 4, 0, 1, 0, 0, 0, 1, 40, 1, 2, 3, 4, 5 }, 14, -1,
		    HGW_UPD_BAD_PREFIX_LEN },
		{ "truncated v4 gateway", { 1, 4, 0, 1, 0, 0, 0, 1, 192, 0, 2 },
		    11, -1, HGW_UPD_MALFORMED },
		{ "truncated v6 gateway", { 1, 6, 0, 1, 0, 0, 0, 1, 0x20, 1, 0xd,
		    0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, 23, -1,
		    HGW_UPD_MALFORMED },
		{ "gateway, no prefix", { 1, 4, 0, 1, 0, 0, 0, 1, 192, 0, 2, 1 },
		    12, -1, HGW_UPD_MALFORMED },
		{ "unspecified v4 gateway", { 1, 4, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0,
		    8, 10 }, 14, -1, HGW_UPD_BAD_GATEWAY },
		{ "unspecified v6 gateway", { 1, 6, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0,
		    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, 25, -1,
		    HGW_UPD_BAD_GATEWAY },
		{ "truncated prefix", { 2, 4, 0, 1, 0, 0, 0, 1, 24, 10, 0 }, 11,
		    -1, HGW_UPD_MALFORMED },
		{ "truncated prefix, 1 of 4", { 2, 4, 0, 1, 0, 0, 0, 1, 25, 10, 0,
		    0 }, 12, -1, HGW_UPD_MALFORMED },
		{ "section ends early", { 2, 4, 0, 3, 0, 0, 0, 1, 8, 10, 8, 11 },
		    12, -1, HGW_UPD_MALFORMED },
		{ "count 3 of 3", { 2, 4, 0, 3, 0, 0, 0, 1, 8, 10, 8, 11, 8, 12 },
		    14, 3, 0 },
		{ "two sections", { 2, 4, 0, 1, 0, 0, 0, 1, 8, 10,
		    1, 4, 0, 2, 0, 0, 0, 2, 1, 1, 1, 1, 16, 10, 1, 0 },
		    26, 3, 0 },
		{ "good section, bad second", { 2, 4, 0, 1, 0, 0, 0, 1, 8, 10,
		    1, 4, 0, 2, 0, 0, 0, 2, 1, 1, 1, 1, 16, 10, 1, 33 },
		    26, -1, HGW_UPD_BAD_PREFIX_LEN },
		{ "good section, second cut short", { 2, 4, 0, 1, 0, 0, 0, 1, 8, 10,
		    1, 4, 0, 2, 0, 0, 0, 2, 1, 1, 1, 1, 16, 10, 1 },
		    25, -1, HGW_UPD_MALFORMED },
		{ "good section, trailing bytes", { 2, 4, 0, 1, 0, 0, 0, 1, 8, 10,
		    2, 4, 0 }, 13, -1, HGW_UPD_MALFORMED },
		{ "good section, trailing zero", { 2, 4, 0, 1, 0, 0, 0, 1, 8, 10,
		    0 }, 11, -1, HGW_UPD_MALFORMED },
		{ "good section, second count 0", { 2, 4, 0, 1, 0, 0, 0, 1, 8, 10,
		    2, 4, 0, 0, 0, 0, 0, 1 }, 18, -1, HGW_UPD_BAD_SECTION },
		{ "count 256 cut short", { 2, 4, 1, 0, 0, 0, 0, 1, 8, 10 }, 10, -1,
		    HGW_UPD_MALFORMED },
	};
	struct hgw_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct vcase *c = &cases[i];
		/* an exact-size copy, so that a read past the end is caught */
		uint8_t *body = malloc(c->len ? c->len : 1);
		long rc;

		assert_non_null(body);
		memcpy(body, c->body, c->len);
		memset(&err, 0, sizeof(err));
		rc = hgw_update_validate(body, c->len, &err);
		if (c->count >= 0) {
			if (rc != c->count)
				fail_msg("%s: %ld (%s), expected %ld", c->what, rc,
				    err.text, c->count);
		} else if (rc != -1 || err.code != HGW_ERR_UPDATE ||
		    err.subcode != c->sub) {
			fail_msg("%s: rc %ld code %u/%u (%s), expected 3/%d",
			    c->what, rc, err.code, err.subcode, err.text, c->sub);
		}
		/* err may be NULL */
		assert_int_equal(hgw_update_validate(body, c->len, NULL), rc);
		free(body);
	}
}

static void
test_update_iter_values(void **state)
{
	/* the "two sections" body of test_update_validate, read back */
	static const uint8_t body[] = {
		2, 4, 0, 1, 0, 0, 0, 1, 8, 10,
		1, 4, 0, 2, 0, 0, 0, 2, 1, 1, 1, 1, 16, 10, 1, 0,
		1, 6, 0, 1, 0xff, 0xff, 0xff, 0xff,
		0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7,
		12, 0x20, 0x1f,		/* host bits past /12 kept as sent */
	};
	struct hgw_upd_iter it;
	struct hgw_upd_item got;
	struct hgw_err err;
	char buf[HGW_ADDRSTRLEN];

	(void)state;
	assert_int_equal(hgw_update_validate(body, sizeof(body), &err), 4);
	hgw_update_iter_init(&it, body, sizeof(body));

	assert_int_equal(hgw_update_next(&it, &got), 1);
	assert_int_equal(got.kind, HGW_UPD_WITHDRAW);
	assert_int_equal(got.origin, 1);
	assert_int_equal(got.gateway.family, 0);
	assert_string_equal(hgw_prefix_fmt(&got.prefix, buf, sizeof(buf)), "10.0.0.0/8");

	assert_int_equal(hgw_update_next(&it, &got), 1);
	assert_int_equal(got.kind, HGW_UPD_ANNOUNCE);
	assert_int_equal(got.origin, 2);
	assert_string_equal(hgw_addr_fmt(&got.gateway, buf, sizeof(buf)), "1.1.1.1");
	assert_string_equal(hgw_prefix_fmt(&got.prefix, buf, sizeof(buf)), "10.1.0.0/16");

	assert_int_equal(hgw_update_next(&it, &got), 1);
	assert_string_equal(hgw_prefix_fmt(&got.prefix, buf, sizeof(buf)), "0.0.0.0/0");
	assert_string_equal(hgw_addr_fmt(&got.gateway, buf, sizeof(buf)), "1.1.1.1");

	assert_int_equal(hgw_update_next(&it, &got), 1);
	assert_int_equal(got.kind, HGW_UPD_ANNOUNCE);
	assert_int_equal(got.origin, 0xffffffff);
	assert_string_equal(hgw_addr_fmt(&got.gateway, buf, sizeof(buf)), "fe80::7");
	assert_int_equal(got.prefix.family, AF_INET6);
	assert_int_equal(got.prefix.plen, 12);
	assert_int_equal(got.prefix.bytes[0], 0x20);
	assert_int_equal(got.prefix.bytes[1], 0x1f);
	assert_true(hgw_prefix_host_bits_set(&got.prefix));

	assert_int_equal(hgw_update_next(&it, &got), 0);
}

/* Checks one item from an accepted body against the rules validate promised. */
static void
check_item(const struct hgw_upd_item *it)
{
	int bits = hgw_family_bits(it->prefix.family);

	assert_true(it->kind == HGW_UPD_ANNOUNCE || it->kind == HGW_UPD_WITHDRAW);
	assert_true(bits == 32 || bits == 128);
	assert_true(it->prefix.plen <= bits);
	assert_true(it->origin != 0);
	if (it->kind == HGW_UPD_ANNOUNCE) {
		assert_int_equal(it->gateway.family, it->prefix.family);
		assert_false(hgw_addr_is_unspec(&it->gateway));
	} else {
		assert_int_equal(it->gateway.family, 0);
	}
}

/* Seeds for the mutation loop: valid bodies of a few shapes. */
static size_t
seed_body(int which, uint8_t *buf, size_t cap)
{
	struct hgw_upd_builder b;
	struct hgw_upd_item it;
	size_t len;
	int i;

	hgw_upd_begin(&b, buf, cap);
	switch (which) {
	case 0:
		it = announce("10.0.0.0/24", "192.0.2.1", 1);
		for (i = 0; i < 6; i++) {
			it.prefix.bytes[2] = (uint8_t)i;
			assert_int_equal(hgw_upd_add(&b, &it), 0);
		}
		break;
	case 1:
		it = withdraw("2001:db8::/48", 2);
		assert_int_equal(hgw_upd_add(&b, &it), 0);
		it = announce("2001:db8:1::/64", "2001:db8::1", 2);
		assert_int_equal(hgw_upd_add(&b, &it), 0);
		it = announce("2001:db8:2::/127", "2001:db8::1", 3);
		assert_int_equal(hgw_upd_add(&b, &it), 0);
		break;
	default:
		it = announce("0.0.0.0/0", "10.0.0.1", 9);
		assert_int_equal(hgw_upd_add(&b, &it), 0);
		it = withdraw("192.0.2.0/25", 9);
		assert_int_equal(hgw_upd_add(&b, &it), 0);
		it = announce("::/0", "fe80::1", 9);
		assert_int_equal(hgw_upd_add(&b, &it), 0);
		it = withdraw("10.0.0.1/32", 10);
		assert_int_equal(hgw_upd_add(&b, &it), 0);
		it = announce("2001:db8::/33", "2001:db8::2", 10);
		assert_int_equal(hgw_upd_add(&b, &it), 0);
		break;
	}
	len = hgw_upd_finish(&b);
	assert_true(len > 8);
	return len - 8;
}

static void
test_update_mutations(void **state)
{
	uint8_t seeds[3][512], frame[1024];
	size_t seedlen[3];
	unsigned iter, accepted = 0, refused = 0;
	int s;

	(void)state;
	for (s = 0; s < 3; s++) {
		uint8_t tmp[520];

		seedlen[s] = seed_body(s, tmp, sizeof(tmp));
		memcpy(seeds[s], tmp + 8, seedlen[s]);
	}
	rng_state = 0x9e3779b9;
	for (iter = 0; iter < 20000; iter++) {
		uint8_t work[600];
		size_t len;
		uint8_t *body;
		struct hgw_err err;
		long n;
		int k, nmut;

		s = (int)(rnd() % 3);
		len = seedlen[s];
		memcpy(work, seeds[s], len);
		nmut = 1 + (int)(rnd() % 4);
		for (k = 0; k < nmut; k++) {
			switch (rnd() % 6) {
			case 0:		/* flip a bit */
				if (len)
					work[rnd() % len] ^= (uint8_t)(1u << (rnd() % 8));
				break;
			case 1:		/* a random byte */
				if (len)
					work[rnd() % len] = (uint8_t)rnd();
				break;
			case 2:		/* a small number, where counts and lengths live */
				if (len)
					work[rnd() % len] = (uint8_t)(rnd() % 8);
				break;
			case 3:		/* truncate */
				len = rnd() % (len + 1);
				break;
			case 4:		/* append random bytes */
				{
					size_t add = 1 + rnd() % 24;

					while (add-- && len < sizeof(work))
						work[len++] = (uint8_t)rnd();
				}
				break;
			default:	/* duplicate a slice onto the end */
				if (len) {
					size_t from = rnd() % len, cnt = 1 + rnd() % 16;

					while (cnt-- && from < len && len < sizeof(work))
						work[len++] = work[from++];
				}
				break;
			}
		}
		/* an exact-size heap copy: valgrind and ASan see any overread */
		body = malloc(len ? len : 1);
		assert_non_null(body);
		memcpy(body, work, len);
		memset(&err, 0, sizeof(err));
		n = hgw_update_validate(body, len, &err);
		if (n < 0) {
			assert_int_equal(n, -1);
			assert_int_equal(err.code, HGW_ERR_UPDATE);
			assert_true(err.subcode >= HGW_UPD_MALFORMED &&
			    err.subcode <= HGW_UPD_BAD_SECTION);
			refused++;
		} else {
			struct hgw_upd_iter it;
			struct hgw_upd_item item, *items;
			struct hgw_upd_builder b;
			long got = 0, i;
			size_t flen;

			assert_true(n >= 1);
			items = malloc((size_t)n * sizeof(*items));
			assert_non_null(items);
			hgw_update_iter_init(&it, body, len);
			while (hgw_update_next(&it, &item)) {
				assert_true(got < n);
				check_item(&item);
				items[got++] = item;
			}
			assert_int_equal(got, n);
			/* what was accepted encodes again to the same items */
			hgw_upd_begin(&b, frame, sizeof(frame));
			for (i = 0; i < n; i++)
				assert_int_equal(hgw_upd_add(&b, &items[i]), 0);
			flen = hgw_upd_finish(&b);
			assert_int_equal(hgw_update_validate(frame + 8, flen - 8, &err), n);
			hgw_update_iter_init(&it, frame + 8, flen - 8);
			for (i = 0; i < n; i++) {
				assert_int_equal(hgw_update_next(&it, &item), 1);
				assert_item_equal(&item, &items[i]);
			}
			free(items);
			accepted++;
		}
		free(body);
	}
	/* both outcomes were exercised plenty */
	assert_true(accepted > 1000);
	assert_true(refused > 1000);
}

/* The HELLO the extension tests start from. */
static void
ext_hello(struct hgw_hello *h)
{
	memset(h, 0, sizeof(*h));
	h->node_id = 0x0a3c060a;
	h->hold_ms = 9000;
	h->keepalive_ms = 3000;
	h->listen_port = 7179;
}

static void
test_hello_extensions(void **state)
{
	struct hgw_hello h, back;
	struct hgw_err err;
	uint8_t buf[256], tmp[256];
	size_t len, base;
	static const uint8_t mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };

	(void)state;
	ext_hello(&h);
	snprintf(h.hostname, sizeof(h.hostname), "h0");
	base = hgw_hello_encode(buf, sizeof(buf), &h) - 8;
	/* both extensions round-trip */
	h.caps = HGW_CAP_IPV4 | HGW_CAP_GRACEFUL_RESTART | HGW_CAP_VXLAN;
	h.gr_restart_s = 120;
	h.gr_flags = HGW_GR_F_RESTARTED;
	h.vtep_vni = 4096;
	h.vtep_port = 4789;
	memcpy(h.vtep_mac, mac, 6);
	len = hgw_hello_encode(buf, sizeof(buf), &h) - 8;
	assert_int_equal(len, base + 5 + 14);
	assert_int_equal(hgw_hello_decode(buf + 8, len, &back, &err), 0);
	assert_memory_equal(&back, &h, sizeof(h));
	/* an unknown extension is skipped */
	memcpy(tmp, buf + 8, len);
	tmp[len] = 99;
	tmp[len + 1] = 2;
	tmp[len + 2] = tmp[len + 3] = 0xee;
	assert_int_equal(hgw_hello_decode(tmp, len + 4, &back, &err), 0);
	assert_memory_equal(&back, &h, sizeof(h));
	/* a truncated one, or one overrunning the frame, is refused */
	assert_int_equal(hgw_hello_decode(tmp, len + 1, &back, &err), -1);
	assert_int_equal(err.subcode, HGW_HELLO_MALFORMED);
	assert_int_equal(hgw_hello_decode(tmp, len + 3, &back, &err), -1);
	/* a known one of the wrong length, twice, or out of range is refused */
	memcpy(tmp, buf + 8, len);
	tmp[base + 1] = 4;
	assert_int_equal(hgw_hello_decode(tmp, len, &back, &err), -1);
	memcpy(tmp, buf + 8, base + 5);
	memcpy(tmp + base + 5, buf + 8 + base, 5);
	assert_int_equal(hgw_hello_decode(tmp, base + 10, &back, &err), -1);
	memcpy(tmp, buf + 8, len);
	tmp[base + 2] = tmp[base + 3] = 0;	/* restart time 0 */
	assert_int_equal(hgw_hello_decode(tmp, len, &back, &err), -1);
	memcpy(tmp, buf + 8, len);
	tmp[base + 5 + 8] |= 1;			/* multicast MAC */
	assert_int_equal(hgw_hello_decode(tmp, len, &back, &err), -1);
	/* a capability bit without its extension is not the capability */
	h.caps = HGW_CAP_IPV4;
	len = hgw_hello_encode(buf, sizeof(buf), &h) - 8;
	assert_int_equal(len, base);
	buf[8 + 12 + 3] |= (uint8_t)(HGW_CAP_GRACEFUL_RESTART | HGW_CAP_VXLAN);
	assert_int_equal(hgw_hello_decode(buf + 8, len, &back, &err), 0);
	assert_int_equal(back.caps, HGW_CAP_IPV4);
	assert_int_equal(back.gr_restart_s, 0);
	assert_int_equal(back.vtep_vni, 0);
}

/* Extension 3: the sender's member sessions, with capability bit 2. */
static void
test_hello_members_extension(void **state)
{
	struct hgw_hello h, back;
	struct hgw_err err;
	uint8_t buf[256], tmp[256];
	size_t len, base;

	(void)state;
	ext_hello(&h);
	h.caps = HGW_CAP_IPV4 | HGW_CAP_MEMBERS;
	/* without the value (an older node): no extension, unknown count */
	base = hgw_hello_encode(buf, sizeof(buf), &h) - 8;
	assert_int_equal(hgw_hello_decode(buf + 8, base, &back, &err), 0);
	assert_int_equal(back.caps, HGW_CAP_IPV4 | HGW_CAP_MEMBERS);
	assert_int_equal(back.members_up_known, 0);
	/* 0 (joining) and a count round-trip, 4 bytes on the wire */
	h.members_up_known = 1;
	len = hgw_hello_encode(buf, sizeof(buf), &h) - 8;
	assert_int_equal(len, base + 4);
	assert_int_equal(buf[8 + base], HGW_HELLO_EXT_MEMBERS);
	assert_int_equal(buf[8 + base + 1], 2);
	assert_int_equal(hgw_hello_decode(buf + 8, len, &back, &err), 0);
	assert_memory_equal(&back, &h, sizeof(h));
	h.members_up = 513;
	len = hgw_hello_encode(buf, sizeof(buf), &h) - 8;
	assert_int_equal(buf[8 + base + 2], 2);
	assert_int_equal(buf[8 + base + 3], 1);
	assert_int_equal(hgw_hello_decode(buf + 8, len, &back, &err), 0);
	assert_int_equal(back.members_up, 513);
	assert_int_equal(back.members_up_known, 1);
	/* another length, or twice, is malformed */
	memcpy(tmp, buf + 8, len);
	tmp[base + 1] = 3;
	tmp[len] = 0;
	assert_int_equal(hgw_hello_decode(tmp, len + 1, &back, &err), -1);
	assert_int_equal(err.subcode, HGW_HELLO_MALFORMED);
	memcpy(tmp, buf + 8, len);
	memcpy(tmp + len, buf + 8 + base, 4);
	assert_int_equal(hgw_hello_decode(tmp, len + 4, &back, &err), -1);
	/* without capability bit 2 it is ignored, and not sent */
	buf[8 + 12 + 3] &= (uint8_t)~HGW_CAP_MEMBERS;
	assert_int_equal(hgw_hello_decode(buf + 8, len, &back, &err), 0);
	assert_int_equal(back.members_up_known, 0);
	assert_int_equal(back.members_up, 0);
	h.caps = HGW_CAP_IPV4;
	assert_int_equal(hgw_hello_encode(buf, sizeof(buf), &h) - 8, base);
}

static void
test_hello_notify_mutations(void **state)
{
	uint8_t hello[128], notify[64];
	size_t hlen, nlen;
	unsigned iter;

	(void)state;
	hlen = hello_body(hello, sizeof(hello));
	nlen = hgw_notify_encode(notify, sizeof(notify), HGW_ERR_CEASE, 1, "bye now") - 8;
	memmove(notify, notify + 8, nlen);
	rng_state = 12345;
	for (iter = 0; iter < 20000; iter++) {
		int which = (int)(rnd() % 2);
		const uint8_t *src = which ? notify : hello;
		size_t len = which ? nlen : hlen, pos;
		uint8_t work[160], *body;
		struct hgw_err err;
		int k;

		memcpy(work, src, len);
		for (k = 1 + (int)(rnd() % 3); k > 0; k--) {
			switch (rnd() % 4) {
			case 0:
				work[rnd() % len] ^= (uint8_t)(1u << (rnd() % 8));
				break;
			case 1:
				pos = rnd() % len;
				work[pos] = (uint8_t)rnd();
				break;
			case 2:
				len = rnd() % (len + 1);
				if (len == 0)
					len = 1;
				break;
			default:
				if (len + 8 <= sizeof(work))
					for (pos = 0; pos < 8; pos++)
						work[len++] = (uint8_t)rnd();
				break;
			}
		}
		body = malloc(len);
		assert_non_null(body);
		memcpy(body, work, len);
		if (which) {
			struct hgw_notify n;

			if (hgw_notify_decode(body, len, &n, &err) == 0) {
				assert_int_equal(len, 3u + body[2]);
				assert_int_equal(strlen(n.text), body[2]);
			} else {
				assert_int_equal(err.code, HGW_ERR_NOTIFY);
			}
		} else {
			struct hgw_hello h, again;
			uint8_t re[160];
			size_t relen;

			if (hgw_hello_decode(body, len, &h, &err) == 0) {
				/* an accepted HELLO is within the rules and
				 * encodes back to the same bytes */
				assert_true(h.node_id != 0);
				assert_true(h.hold_ms >= HGW_HOLD_MIN_MS &&
				    h.hold_ms <= HGW_HOLD_MAX_MS);
				assert_true(h.keepalive_ms >= HGW_KEEPALIVE_MIN_MS &&
				    h.keepalive_ms <= h.hold_ms);
				assert_true(h.listen_port != 0);
				assert_true(h.naddrs <= HGW_HELLO_MAX_ADDRS);
				/* ... and encodes to a HELLO that decodes to the
				 * same values (unknown extensions are dropped) */
				relen = hgw_hello_encode(re, sizeof(re), &h);
				assert_true(relen >= 8);
				assert_int_equal(hgw_hello_decode(re + 8, relen - 8, &again,
				    &err), 0);
				assert_memory_equal(&again, &h, sizeof(h));
			} else {
				assert_int_equal(err.code, HGW_ERR_HELLO);
			}
		}
		free(body);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdr_encode_layout),
		cmocka_unit_test(test_hdr_short),
		cmocka_unit_test(test_hdr_types),
		cmocka_unit_test(test_hdr_version),
		cmocka_unit_test(test_hdr_reserved),
		cmocka_unit_test(test_hdr_length),
		cmocka_unit_test(test_empty_frames),
		cmocka_unit_test(test_hello_layout),
		cmocka_unit_test(test_hello_roundtrips),
		cmocka_unit_test(test_hello_encode_refuses),
		cmocka_unit_test(test_hello_short),
		cmocka_unit_test(test_hello_fields),
		cmocka_unit_test(test_hello_v6_unspec),
		cmocka_unit_test(test_notify_roundtrip),
		cmocka_unit_test(test_notify_sanitise),
		cmocka_unit_test(test_notify_malformed),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_update_layout),
		cmocka_unit_test(test_update_mixed),
		cmocka_unit_test(test_update_sections),
		cmocka_unit_test(test_update_all_lengths),
		cmocka_unit_test(test_update_builder_refuses),
		cmocka_unit_test(test_update_frame_full),
		cmocka_unit_test(test_update_full_of_24s),
		cmocka_unit_test(test_update_many_frames),
		cmocka_unit_test(test_update_validate),
		cmocka_unit_test(test_update_iter_values),
		cmocka_unit_test(test_update_mutations),
		cmocka_unit_test(test_hello_extensions),
		cmocka_unit_test(test_hello_members_extension),
		cmocka_unit_test(test_hello_notify_mutations),
	};

	return cmocka_run_group_tests(tests, 0, NULL);
}
