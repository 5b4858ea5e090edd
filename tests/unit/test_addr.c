/* test_addr.c: unit tests for proto/addr.c: addresses, prefixes, numbers and durations. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "addr.h"

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
	const char *why = NULL;

	if (hgw_prefix_parse(s, &p, &why) != 0)
		fail_msg("prefix %s refused: %s", s, why);
	return p;
}

static void
test_family_len(void **state)
{
	(void)state;
	assert_int_equal(hgw_family_len(AF_INET), 4);
	assert_int_equal(hgw_family_len(AF_INET6), 16);
	assert_int_equal(hgw_family_len(0), 0);
	assert_int_equal(hgw_family_len(4), 0);
	assert_int_equal(hgw_family_len(6), 0);
	assert_int_equal(hgw_family_bits(AF_INET), 32);
	assert_int_equal(hgw_family_bits(AF_INET6), 128);
	assert_int_equal(hgw_family_bits(0), 0);
}

static void
test_addr_v4(void **state)
{
	struct hgw_addr a;
	char buf[HGW_ADDRSTRLEN];
	static const uint8_t want[4] = { 192, 0, 2, 1 };
	static const uint8_t zero[16];

	(void)state;
	assert_int_equal(hgw_addr_parse("192.0.2.1", &a), 0);
	assert_int_equal(a.family, AF_INET);
	assert_memory_equal(a.bytes, want, 4);
	/* the rest of the array is zeroed, so whole-struct compares work */
	assert_memory_equal(a.bytes + 4, zero, 12);
	assert_string_equal(hgw_addr_fmt(&a, buf, sizeof(buf)), "192.0.2.1");
	assert_false(hgw_addr_is_unspec(&a));

	a = A("0.0.0.0");
	assert_true(hgw_addr_is_unspec(&a));
	a = A("255.255.255.255");
	assert_string_equal(hgw_addr_fmt(&a, buf, sizeof(buf)), "255.255.255.255");
	assert_false(hgw_addr_is_unspec(&a));
}

static void
test_addr_v6(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "2001:db8::1", "2001:db8::1" },
		{ "2001:DB8:0:0:0:0:0:1", "2001:db8::1" },
		{ "::1", "::1" },
		{ "::", "::" },
		{ "fe80::1:2", "fe80::1:2" },
		{ "::ffff:192.0.2.1", "::ffff:192.0.2.1" },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
	};
	struct hgw_addr a, b;
	char buf[HGW_ADDRSTRLEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(hgw_addr_parse(cases[i].in, &a), 0);
		assert_int_equal(a.family, AF_INET6);
		assert_string_equal(hgw_addr_fmt(&a, buf, sizeof(buf)), cases[i].out);
		/* format then parse gives the same address back */
		assert_int_equal(hgw_addr_parse(buf, &b), 0);
		assert_int_equal(hgw_addr_cmp(&a, &b), 0);
	}
	a = A("2001:db8::1");
	assert_int_equal(a.bytes[0], 0x20);
	assert_int_equal(a.bytes[1], 0x01);
	assert_int_equal(a.bytes[2], 0x0d);
	assert_int_equal(a.bytes[3], 0xb8);
	assert_int_equal(a.bytes[15], 0x01);
	assert_false(hgw_addr_is_unspec(&a));
	a = A("::");
	assert_true(hgw_addr_is_unspec(&a));
}

static void
test_addr_bad(void **state)
{
	static const char *bad[] = {
		"", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.4/24", " 1.2.3.4",
		"1.2.3.4 ", "a.b.c.d", "01.2.3.4", "2001:db8::1::2", "2001:db8:::1",
		"fe80::1%eth0", "12345::", "::g", ":", "localhost",
	};
	struct hgw_addr a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&a, 0xaa, sizeof(a));
		if (hgw_addr_parse(bad[i], &a) != -1)
			fail_msg("address \"%s\" accepted", bad[i]);
		/* a refused parse leaves an unset address */
		assert_int_equal(a.family, 0);
		assert_true(hgw_addr_is_unspec(&a));
	}
	assert_int_equal(hgw_addr_parse(NULL, &a), -1);
}

static void
test_addr_fmt_edge(void **state)
{
	struct hgw_addr a;
	char buf[HGW_ADDRSTRLEN], small[4];

	(void)state;
	memset(&a, 0, sizeof(a));
	assert_string_equal(hgw_addr_fmt(&a, buf, sizeof(buf)), "none");
	a.family = 99;
	assert_string_equal(hgw_addr_fmt(&a, buf, sizeof(buf)), "none");
	/* too small a buffer gives "?" rather than a truncated address */
	a = A("192.0.2.1");
	assert_string_equal(hgw_addr_fmt(&a, small, sizeof(small)), "?");
}

static void
test_addr_cmp(void **state)
{
	struct hgw_addr a, b, c, v6;

	(void)state;
	a = A("10.0.0.1");
	b = A("10.0.0.2");
	c = A("10.0.0.1");
	v6 = A("::1");
	assert_true(hgw_addr_cmp(&a, &b) < 0);
	assert_true(hgw_addr_cmp(&b, &a) > 0);
	assert_int_equal(hgw_addr_cmp(&a, &c), 0);
	/* AF_INET sorts before AF_INET6, whatever the bytes */
	assert_true(hgw_addr_cmp(&b, &v6) < 0);
	assert_true(hgw_addr_cmp(&v6, &a) > 0);
	/* bytes past the family length do not matter */
	c.bytes[10] = 0x55;
	assert_int_equal(hgw_addr_cmp(&a, &c), 0);
	a = A("9.255.255.255");
	b = A("10.0.0.0");
	assert_true(hgw_addr_cmp(&a, &b) < 0);
}

static void
test_prefix_roundtrip(void **state)
{
	static const struct {
		const char *in, *out;
		int family, plen;
	} cases[] = {
		{ "10.0.0.0/8", "10.0.0.0/8", AF_INET, 8 },
		{ "192.0.2.0/24", "192.0.2.0/24", AF_INET, 24 },
		{ "192.0.2.128/25", "192.0.2.128/25", AF_INET, 25 },
		{ "192.0.2.1/32", "192.0.2.1/32", AF_INET, 32 },
		{ "0.0.0.0/0", "0.0.0.0/0", AF_INET, 0 },
		{ "172.16.0.0/12", "172.16.0.0/12", AF_INET, 12 },
		{ "10.0.0.0/7", "10.0.0.0/7", AF_INET, 7 },
		{ "2001:db8::/32", "2001:db8::/32", AF_INET6, 32 },
		{ "2001:DB8:1::/48", "2001:db8:1::/48", AF_INET6, 48 },
		{ "2001:db8::1/128", "2001:db8::1/128", AF_INET6, 128 },
		{ "::/0", "::/0", AF_INET6, 0 },
		{ "fd00::/7", "fc00::/7", -1, 0 },	/* host bit: refused below */
		{ "fe80::/10", "fe80::/10", AF_INET6, 10 },
		{ "2001:db8:8000::/33", "2001:db8:8000::/33", AF_INET6, 33 },
	};
	struct hgw_prefix p, q;
	char buf[HGW_ADDRSTRLEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = NULL;
		int rc = hgw_prefix_parse(cases[i].in, &p, &why);

		if (cases[i].family < 0) {
			assert_int_equal(rc, -1);
			assert_string_equal(why, "host bits set");
			continue;
		}
		if (rc != 0)
			fail_msg("%s refused: %s", cases[i].in, why);
		assert_int_equal(p.family, cases[i].family);
		assert_int_equal(p.plen, cases[i].plen);
		assert_false(hgw_prefix_host_bits_set(&p));
		assert_string_equal(hgw_prefix_fmt(&p, buf, sizeof(buf)), cases[i].out);
		assert_int_equal(hgw_prefix_parse(buf, &q, NULL), 0);
		assert_true(hgw_prefix_eq(&p, &q));
		assert_int_equal(hgw_prefix_cmp(&p, &q), 0);
		assert_int_equal(hgw_prefix_hash(&p), hgw_prefix_hash(&q));
	}
	p = P("192.0.2.128/25");
	assert_int_equal(p.bytes[0], 192);
	assert_int_equal(p.bytes[3], 128);
	/* the longest text there is fits HGW_ADDRSTRLEN */
	p = P("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
	assert_string_equal(hgw_prefix_fmt(&p, buf, sizeof(buf)),
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
}

static void
test_prefix_bad(void **state)
{
	static const struct {
		const char *in, *why;
	} cases[] = {
		{ "10.0.0.0", "expected ADDRESS/LENGTH" },
		{ "", "expected ADDRESS/LENGTH" },
		{ "10.0.0.0/", "bad prefix length" },
		{ "10.0.0.0/33", "bad prefix length" },
		{ "10.0.0.0/-1", "bad prefix length" },
		{ "10.0.0.0/+8", "bad prefix length" },
		{ "10.0.0.0/ 8", "bad prefix length" },
		{ "10.0.0.0/8 ", "bad prefix length" },
		{ "10.0.0.0/8/8", "bad prefix length" },
		{ "10.0.0.0/0x8", "bad prefix length" },
		{ "10.0.0.0/99999999999999999999999", "bad prefix length" },
		{ "2001:db8::/129", "bad prefix length" },
		{ "/8", "bad address" },
		{ "10.0.0/8", "bad address" },
		{ "300.0.0.0/8", "bad address" },
		{ "2001:db8:::/32", "bad address" },
		{ "10.0.0.1/24", "host bits set" },
		{ "11.0.0.0/7", "host bits set" },
		{ "192.0.2.129/25", "host bits set" },
		{ "192.0.2.1/31", "host bits set" },
		{ "1.0.0.0/0", "host bits set" },
		{ "2001:db8::1/64", "host bits set" },
		{ "2001:db8::/16", "host bits set" },
		{ "::1/127", "host bits set" },
		{ "1111111111111111111111111111111111111111111111111111111111/8",
		    "address too long" },
	};
	struct hgw_prefix p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = NULL;

		if (hgw_prefix_parse(cases[i].in, &p, &why) != -1)
			fail_msg("prefix \"%s\" accepted", cases[i].in);
		assert_non_null(why);
		if (strcmp(why, cases[i].why) != 0)
			fail_msg("prefix \"%s\": \"%s\", expected \"%s\"",
			    cases[i].in, why, cases[i].why);
		/* a NULL why is allowed */
		assert_int_equal(hgw_prefix_parse(cases[i].in, &p, NULL), -1);
	}
	assert_int_equal(hgw_prefix_parse(NULL, &p, NULL), -1);
}

static void
test_prefix_host_bits(void **state)
{
	struct hgw_prefix p;
	int plen, bit;

	(void)state;
	/* Walk every length and every bit of an IPv4 and an IPv6 prefix: a bit
	 * set at or past plen is a host bit, one before it is not. */
	for (plen = 0; plen <= 32; plen++) {
		for (bit = 0; bit < 32; bit++) {
			memset(&p, 0, sizeof(p));
			p.family = AF_INET;
			p.plen = (uint8_t)plen;
			p.bytes[bit / 8] = (uint8_t)(0x80 >> (bit % 8));
			assert_int_equal(hgw_prefix_host_bits_set(&p), bit >= plen);
			hgw_prefix_mask(&p);
			assert_false(hgw_prefix_host_bits_set(&p));
			assert_int_equal(p.bytes[bit / 8] != 0, bit < plen);
		}
	}
	for (plen = 0; plen <= 128; plen++) {
		for (bit = 0; bit < 128; bit++) {
			memset(&p, 0, sizeof(p));
			p.family = AF_INET6;
			p.plen = (uint8_t)plen;
			p.bytes[bit / 8] = (uint8_t)(0x80 >> (bit % 8));
			assert_int_equal(hgw_prefix_host_bits_set(&p), bit >= plen);
			hgw_prefix_mask(&p);
			assert_false(hgw_prefix_host_bits_set(&p));
			assert_int_equal(p.bytes[bit / 8] != 0, bit < plen);
		}
	}
	/* mask keeps the network part intact */
	memset(&p, 0xff, sizeof(p));
	p.family = AF_INET;
	p.plen = 20;
	hgw_prefix_mask(&p);
	assert_int_equal(p.bytes[0], 0xff);
	assert_int_equal(p.bytes[1], 0xff);
	assert_int_equal(p.bytes[2], 0xf0);
	assert_int_equal(p.bytes[3], 0x00);
	{
		char buf[HGW_ADDRSTRLEN];

		assert_string_equal(hgw_prefix_fmt(&p, buf, sizeof(buf)),
		    "255.255.240.0/20");
	}
}

static void
test_prefix_contains(void **state)
{
	static const struct {
		const char *outer, *inner;
		int contains, overlaps;
	} cases[] = {
		{ "10.0.0.0/8", "10.1.0.0/16", 1, 1 },
		{ "10.1.0.0/16", "10.0.0.0/8", 0, 1 },
		{ "10.0.0.0/8", "10.0.0.0/8", 1, 1 },
		{ "10.0.0.0/8", "11.0.0.0/8", 0, 0 },
		{ "10.0.0.0/8", "11.0.0.0/16", 0, 0 },
		{ "0.0.0.0/0", "192.0.2.1/32", 1, 1 },
		{ "192.0.2.0/25", "192.0.2.128/25", 0, 0 },
		{ "192.0.2.0/24", "192.0.2.128/25", 1, 1 },
		{ "192.0.2.0/23", "192.0.3.0/24", 1, 1 },
		{ "192.0.2.0/24", "192.0.3.0/24", 0, 0 },
		{ "192.0.2.0/31", "192.0.2.1/32", 1, 1 },
		{ "192.0.2.0/32", "192.0.2.1/32", 0, 0 },
		{ "2001:db8::/32", "2001:db8:1::/48", 1, 1 },
		{ "2001:db8:1::/48", "2001:db8::/32", 0, 1 },
		{ "2001:db8::/32", "2001:db9::/32", 0, 0 },
		{ "2001:db8::/31", "2001:db9::/32", 1, 1 },
		{ "::/0", "2001:db8::1/128", 1, 1 },
		{ "2001:db8::/127", "2001:db8::1/128", 1, 1 },
		{ "2001:db8::/128", "2001:db8::1/128", 0, 0 },
		/* never across families */
		{ "0.0.0.0/0", "::/0", 0, 0 },
		{ "::/0", "10.0.0.0/8", 0, 0 },
	};
	struct hgw_prefix o, in;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		o = P(cases[i].outer);
		in = P(cases[i].inner);
		if (hgw_prefix_contains(&o, &in) != cases[i].contains)
			fail_msg("contains(%s, %s) != %d", cases[i].outer,
			    cases[i].inner, cases[i].contains);
		assert_int_equal(hgw_prefix_overlaps(&o, &in), cases[i].overlaps);
		assert_int_equal(hgw_prefix_overlaps(&in, &o), cases[i].overlaps);
	}
}

static void
test_prefix_contains_addr(void **state)
{
	struct hgw_prefix p;
	struct hgw_addr a;

	(void)state;
	p = P("192.0.2.0/24");
	a = A("192.0.2.0");
	assert_true(hgw_prefix_contains_addr(&p, &a));
	a = A("192.0.2.255");
	assert_true(hgw_prefix_contains_addr(&p, &a));
	a = A("192.0.3.0");
	assert_false(hgw_prefix_contains_addr(&p, &a));
	a = A("192.0.1.255");
	assert_false(hgw_prefix_contains_addr(&p, &a));
	a = A("::ffff:192.0.2.1");	/* mapped is another family */
	assert_false(hgw_prefix_contains_addr(&p, &a));

	p = P("192.0.2.64/26");
	a = A("192.0.2.127");
	assert_true(hgw_prefix_contains_addr(&p, &a));
	a = A("192.0.2.128");
	assert_false(hgw_prefix_contains_addr(&p, &a));
	a = A("192.0.2.63");
	assert_false(hgw_prefix_contains_addr(&p, &a));

	p = P("0.0.0.0/0");
	a = A("203.0.113.9");
	assert_true(hgw_prefix_contains_addr(&p, &a));
	a = A("::1");
	assert_false(hgw_prefix_contains_addr(&p, &a));

	p = P("2001:db8:0:1::/64");
	a = A("2001:db8:0:1:ffff:ffff:ffff:ffff");
	assert_true(hgw_prefix_contains_addr(&p, &a));
	a = A("2001:db8:0:2::");
	assert_false(hgw_prefix_contains_addr(&p, &a));
	p = P("2001:db8::1/128");
	a = A("2001:db8::1");
	assert_true(hgw_prefix_contains_addr(&p, &a));
	a = A("2001:db8::2");
	assert_false(hgw_prefix_contains_addr(&p, &a));
}

static void
test_prefix_special(void **state)
{
	static const struct {
		const char *p, *why;	/* why NULL: an ordinary prefix */
	} cases[] = {
		{ "0.0.0.0/0", "default route" },
		{ "::/0", "default route" },
		{ "0.0.0.0/8", "unspecified network" },
		{ "0.1.2.0/24", "unspecified network" },
		{ "127.0.0.0/8", "loopback" },
		{ "127.0.0.1/32", "loopback" },
		{ "126.0.0.0/7", "loopback" },		/* covers 127/8 */
		{ "169.254.0.0/16", "link-local" },
		{ "169.254.10.0/24", "link-local" },
		{ "224.0.0.0/4", "multicast" },
		{ "239.1.2.0/24", "multicast" },
		{ "240.0.0.0/4", "reserved" },
		{ "255.255.255.255/32", "reserved" },
		{ "::/8", "unspecified, loopback or mapped" },
		{ "::1/128", "unspecified, loopback or mapped" },
		{ "::ffff:0.0.0.0/96", "unspecified, loopback or mapped" },
		{ "fe80::/10", "link-local" },
		{ "fe80::/64", "link-local" },
		{ "febf:ffff::/32", "link-local" },
		{ "ff00::/8", "multicast" },
		{ "ff02::1/128", "multicast" },
		{ "10.0.0.0/8", NULL },
		{ "1.0.0.0/8", NULL },
		{ "126.0.0.0/8", NULL },
		{ "128.0.0.0/8", NULL },
		{ "169.253.0.0/16", NULL },
		{ "169.255.0.0/16", NULL },
		{ "192.0.2.0/24", NULL },
		{ "223.255.255.0/24", NULL },
		{ "100::/64", NULL },
		{ "2001:db8::/32", NULL },
		{ "fc00::/7", NULL },
		{ "fec0::/10", NULL },
		{ "fe40::/10", NULL },
		{ "feff::/16", NULL },
	};
	struct hgw_prefix p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got;

		p = P(cases[i].p);
		got = hgw_prefix_special(&p);
		if (cases[i].why == NULL && got != NULL)
			fail_msg("%s: special \"%s\"", cases[i].p, got);
		if (cases[i].why != NULL &&
		    (got == NULL || strcmp(got, cases[i].why) != 0))
			fail_msg("%s: \"%s\", expected \"%s\"", cases[i].p,
			    got ? got : "(null)", cases[i].why);
	}
}

static void
test_prefix_cmp_hash(void **state)
{
	/* Sorted order: family, then address bytes, then length. */
	static const char *sorted[] = {
		"0.0.0.0/0", "10.0.0.0/8", "10.0.0.0/16", "10.0.0.0/24",
		"10.0.1.0/24", "10.1.0.0/16", "192.0.2.0/24", "192.0.2.0/25",
		"192.0.2.128/25", "255.255.255.255/32",
		"::/0", "2001:db8::/32", "2001:db8::/64", "2001:db8::1/128",
		"fe80::/10",
	};
	enum { N = sizeof(sorted) / sizeof(sorted[0]) };
	struct hgw_prefix p[N], q;
	size_t i, j;
	int distinct = 0;

	(void)state;
	for (i = 0; i < N; i++)
		p[i] = P(sorted[i]);
	for (i = 0; i < N; i++) {
		for (j = 0; j < N; j++) {
			int c = hgw_prefix_cmp(&p[i], &p[j]);

			if ((i < j && c >= 0) || (i > j && c <= 0) ||
			    (i == j && c != 0))
				fail_msg("cmp(%s, %s) = %d", sorted[i],
				    sorted[j], c);
			/* eq agrees with cmp */
			assert_int_equal(hgw_prefix_eq(&p[i], &p[j]), i == j);
			if (i != j && hgw_prefix_hash(&p[i]) != hgw_prefix_hash(&p[j]))
				distinct++;
		}
	}
	/* distinct prefixes hash differently here (no collisions in this set) */
	assert_int_equal(distinct, N * (N - 1));

	/* Equal prefixes hash equal, also when bytes past the family differ
	 * (a struct filled by hand rather than by parse). */
	q = P("10.0.0.0/8");
	memset(&q, 0, sizeof(q));
	q.family = AF_INET;
	q.plen = 8;
	q.bytes[0] = 10;
	q.bytes[9] = 0x77;
	assert_true(hgw_prefix_eq(&q, &p[1]));
	assert_int_equal(hgw_prefix_cmp(&q, &p[1]), 0);
	assert_int_equal(hgw_prefix_hash(&q), hgw_prefix_hash(&p[1]));

	/* same bytes, other family: not equal */
	memset(&q, 0, sizeof(q));
	q.family = AF_INET6;
	assert_false(hgw_prefix_eq(&q, &p[0]));
	assert_true(hgw_prefix_cmp(&p[0], &q) < 0);
	assert_true(hgw_prefix_cmp(&q, &p[0]) > 0);
	/* same bytes, other length: not equal */
	q = p[1];
	q.plen = 9;
	assert_false(hgw_prefix_eq(&q, &p[1]));
	/* host bits count: 10.0.0.1/24 (built by hand) is not 10.0.0.0/24 */
	q = p[3];
	q.bytes[3] = 1;
	assert_false(hgw_prefix_eq(&q, &p[3]));
	assert_true(hgw_prefix_cmp(&q, &p[3]) > 0);
}

static void
test_prefix_hash_spread(void **state)
{
	/* Consecutive /24s spread over a power-of-two table: 4096 of them in
	 * 256 buckets, every bucket used and none badly overloaded. */
	unsigned counts[256] = { 0 };
	struct hgw_prefix p;
	unsigned i, max = 0;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.family = AF_INET;
	p.plen = 24;
	for (i = 0; i < 4096; i++) {
		p.bytes[0] = 10;
		p.bytes[1] = (uint8_t)(i >> 8);
		p.bytes[2] = (uint8_t)i;
		counts[hgw_prefix_hash(&p) & 255]++;
	}
	for (i = 0; i < 256; i++) {
		assert_true(counts[i] > 0);
		if (counts[i] > max)
			max = counts[i];
	}
	assert_true(max <= 40);	/* mean 16 */
}

static void
test_parse_uint(void **state)
{
	unsigned long v;

	(void)state;
	v = 99;
	assert_int_equal(hgw_parse_uint("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(hgw_parse_uint("10", 0, 10, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(hgw_parse_uint("5", 5, 5, &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(hgw_parse_uint("007", 0, 10, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(hgw_parse_uint("65535", 1, 65535, &v), 0);
	assert_int_equal(v, 65535);
	assert_int_equal(hgw_parse_uint("4294967295", 0, 4294967295ul, &v), 0);
	assert_int_equal(v, 4294967295ul);

	v = 42;
	assert_int_equal(hgw_parse_uint("11", 0, 10, &v), -1);
	assert_int_equal(hgw_parse_uint("4", 5, 10, &v), -1);
	assert_int_equal(hgw_parse_uint("65536", 1, 65535, &v), -1);
	assert_int_equal(hgw_parse_uint("4294967296", 0, 4294967295ul, &v), -1);
	assert_int_equal(hgw_parse_uint("99999999999999999999999999", 0,
	    (unsigned long)-1, &v), -1);
	assert_int_equal(hgw_parse_uint("", 0, 10, &v), -1);
	assert_int_equal(hgw_parse_uint("-1", 0, 10, &v), -1);
	assert_int_equal(hgw_parse_uint("+1", 0, 10, &v), -1);
	assert_int_equal(hgw_parse_uint(" 1", 0, 10, &v), -1);
	assert_int_equal(hgw_parse_uint("1 ", 0, 10, &v), -1);
	assert_int_equal(hgw_parse_uint("1x", 0, 10, &v), -1);
	assert_int_equal(hgw_parse_uint("0x1", 0, 10, &v), -1);
	assert_int_equal(hgw_parse_uint("1.0", 0, 10, &v), -1);
	assert_int_equal(hgw_parse_uint("abc", 0, 10, &v), -1);
	assert_int_equal(hgw_parse_uint(NULL, 0, 10, &v), -1);
	/* a refused parse leaves *out alone */
	assert_int_equal(v, 42);
}

static void
test_parse_seconds(void **state)
{
	static const struct {
		const char *s;
		uint32_t ms;
	} good[] = {
		{ "1", 1000 },
		{ "0.5", 500 },
		{ "0.1", 100 },
		{ "1.0", 1000 },
		{ "2.5", 2500 },
		{ "30", 30000 },
		{ "90.9", 90900 },
		{ "3600", 3600000 },
		{ "0", 0 },
		{ "0.0", 0 },
		{ "86400", 86400000 },
	};
	static const char *bad[] = {
		"0.05", "2.25", "1.", ".5", "abc", "", "1.5.", "1..5", "1.a",
		"-1", "+1", " 1", "1 ", "1s", "1e3", "0x10", "1,5", "86401",
		"100000", "99999999999999999999", "0.5 ",
		"000000000000000001",	/* 18 characters: too long */
	};
	uint32_t ms;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ms = 12345;
		if (hgw_parse_seconds_ms(good[i].s, 0, UINT32_MAX, &ms) != 0)
			fail_msg("\"%s\" refused", good[i].s);
		assert_int_equal(ms, good[i].ms);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ms = 12345;
		if (hgw_parse_seconds_ms(bad[i], 0, UINT32_MAX, &ms) != -1)
			fail_msg("\"%s\" accepted as %u ms", bad[i], ms);
		assert_int_equal(ms, 12345);
	}
	assert_int_equal(hgw_parse_seconds_ms(NULL, 0, UINT32_MAX, &ms), -1);

	/* limits are inclusive and in milliseconds */
	assert_int_equal(hgw_parse_seconds_ms("0.3", 300, 3600000, &ms), 0);
	assert_int_equal(ms, 300);
	assert_int_equal(hgw_parse_seconds_ms("0.2", 300, 3600000, &ms), -1);
	assert_int_equal(hgw_parse_seconds_ms("3600", 300, 3600000, &ms), 0);
	assert_int_equal(ms, 3600000);
	assert_int_equal(hgw_parse_seconds_ms("3600.1", 300, 3600000, &ms), -1);
	assert_int_equal(hgw_parse_seconds_ms("0", 1, 1000, &ms), -1);
	assert_int_equal(hgw_parse_seconds_ms("1", 1, 1000, &ms), 0);
	assert_int_equal(ms, 1000);
	assert_int_equal(hgw_parse_seconds_ms("1.1", 1, 1000, &ms), -1);
	assert_int_equal(hgw_parse_seconds_ms("86400.9", 0, UINT32_MAX, &ms), 0);
	assert_int_equal(ms, 86400900);
}

static void
test_fmt_seconds(void **state)
{
	static const struct {
		uint32_t ms;
		const char *s;
	} cases[] = {
		{ 0, "0" },
		{ 1000, "1" },
		{ 500, "0.5" },
		{ 100, "0.1" },
		{ 2500, "2.5" },
		{ 30000, "30" },
		{ 3600000, "3600" },
		{ 1050, "1.050" },
		{ 1, "0.001" },
		{ 999, "0.999" },
		{ 4294967295u, "4294967.295" },
	};
	char buf[32];
	size_t i;
	uint32_t ms, back;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(hgw_fmt_seconds_ms(cases[i].ms, buf,
		    sizeof(buf)), cases[i].s);
	/* whatever parse accepts prints back to something parse reads the same */
	for (ms = 0; ms <= 100000; ms += 100) {
		hgw_fmt_seconds_ms(ms, buf, sizeof(buf));
		back = 1;
		if (hgw_parse_seconds_ms(buf, 0, UINT32_MAX, &back) != 0 || back != ms)
			fail_msg("%u ms printed as \"%s\" reads back as %u", ms,
			    buf, back);
	}
}

static void
test_nodeid_addr(void **state)
{
	struct hgw_addr a, b;
	char buf[HGW_ADDRSTRLEN];

	(void)state;
	hgw_nodeid_to_addr(0x0a3c060bu, &a);
	assert_int_equal(a.family, AF_INET);
	assert_string_equal(hgw_addr_fmt(&a, buf, sizeof(buf)), "10.60.6.11");
	assert_int_equal(hgw_addr_to_nodeid(&a), 0x0a3c060bu);
	assert_int_equal(hgw_addr_parse("255.0.128.1", &b), 0);
	assert_int_equal(hgw_addr_to_nodeid(&b), 0xff008001u);
}

static void
test_nodeid(void **state)
{
	static const struct {
		const char *s;
		uint32_t id;
	} good[] = {
		{ "10.0.0.1", 0x0a000001u },
		{ "0.0.0.1", 1 },
		{ "255.255.255.255", 0xffffffffu },
		{ "192.0.2.254", 0xc00002feu },
		{ "1.0.0.0", 0x01000000u },
	};
	static const char *bad[] = {
		"0.0.0.0", "", "1", "1.2.3", "1.2.3.4.5", "256.1.1.1", "::1",
		"10.0.0.1/32", " 10.0.0.1", "4294967295", "a.b.c.d",
	};
	char buf[16];
	uint32_t id, back;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		id = 0;
		assert_int_equal(hgw_nodeid_parse(good[i].s, &id), 0);
		assert_int_equal(id, good[i].id);
		assert_string_equal(hgw_nodeid_fmt(id, buf, sizeof(buf)), good[i].s);
		assert_int_equal(hgw_nodeid_parse(buf, &back), 0);
		assert_int_equal(back, id);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (hgw_nodeid_parse(bad[i], &id) != -1)
			fail_msg("node id \"%s\" accepted", bad[i]);
	assert_int_equal(hgw_nodeid_parse(NULL, &id), -1);
	/* id 0 still formats */
	assert_string_equal(hgw_nodeid_fmt(0, buf, sizeof(buf)), "0.0.0.0");
	/* the longest fits the documented 16 bytes */
	assert_string_equal(hgw_nodeid_fmt(0xfffefdfc, buf, sizeof(buf)),
	    "255.254.253.252");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_family_len),
		cmocka_unit_test(test_addr_v4),
		cmocka_unit_test(test_addr_v6),
		cmocka_unit_test(test_addr_bad),
		cmocka_unit_test(test_addr_fmt_edge),
		cmocka_unit_test(test_addr_cmp),
		cmocka_unit_test(test_prefix_roundtrip),
		cmocka_unit_test(test_prefix_bad),
		cmocka_unit_test(test_prefix_host_bits),
		cmocka_unit_test(test_prefix_contains),
		cmocka_unit_test(test_prefix_contains_addr),
		cmocka_unit_test(test_prefix_special),
		cmocka_unit_test(test_prefix_cmp_hash),
		cmocka_unit_test(test_prefix_hash_spread),
		cmocka_unit_test(test_parse_uint),
		cmocka_unit_test(test_parse_seconds),
		cmocka_unit_test(test_fmt_seconds),
		cmocka_unit_test(test_nodeid),
		cmocka_unit_test(test_nodeid_addr),
	};

	return cmocka_run_group_tests(tests, 0, NULL);
}
