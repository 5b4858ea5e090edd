/* addr.c: IPv4/IPv6 addresses and prefixes: parse, print, compare, hash and check. Pure code. */
#include "addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
hgw_family_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

int
hgw_family_bits(int family)
{
	return hgw_family_len(family) * 8;
}

int
hgw_addr_parse(const char *s, struct hgw_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (s == NULL)
		return -1;
	if (strchr(s, ':') != NULL) {
		if (inet_pton(AF_INET6, s, a->bytes) != 1)
			return -1;
		a->family = AF_INET6;
		return 0;
	}
	if (inet_pton(AF_INET, s, a->bytes) != 1)
		return -1;
	a->family = AF_INET;
	return 0;
}

const char *
hgw_addr_fmt(const struct hgw_addr *a, char *buf, size_t len)
{
	if (a->family != AF_INET && a->family != AF_INET6) {
		snprintf(buf, len, "none");
		return buf;
	}
	if (inet_ntop(a->family, a->bytes, buf, len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

int
hgw_addr_cmp(const struct hgw_addr *a, const struct hgw_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->bytes, b->bytes, hgw_family_len(a->family));
}

int
hgw_addr_is_unspec(const struct hgw_addr *a)
{
	static const uint8_t zero[16];

	return hgw_family_len(a->family) == 0 ||
	    memcmp(a->bytes, zero, hgw_family_len(a->family)) == 0;
}

int
hgw_prefix_host_bits_set(const struct hgw_prefix *p)
{
	int bytes = hgw_family_len(p->family), i;

	for (i = p->plen / 8; i < bytes; i++) {
		uint8_t keep = 0;

		if (i == p->plen / 8 && p->plen % 8)
			keep = (uint8_t)(0xff << (8 - p->plen % 8));
		if (p->bytes[i] & ~keep)
			return 1;
	}
	return 0;
}

void
hgw_prefix_mask(struct hgw_prefix *p)
{
	int i;

	for (i = p->plen / 8; i < 16; i++) {
		if (i == p->plen / 8 && p->plen % 8)
			p->bytes[i] &= (uint8_t)(0xff << (8 - p->plen % 8));
		else
			p->bytes[i] = 0;
	}
}

int
hgw_prefix_parse(const char *s, struct hgw_prefix *p, const char **why)
{
	char buf[HGW_ADDRSTRLEN + 8];
	const char *slash;
	struct hgw_addr a;
	unsigned long plen;
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	memset(p, 0, sizeof(*p));
	if (s == NULL || (slash = strchr(s, '/')) == NULL) {
		*why = "expected ADDRESS/LENGTH";
		return -1;
	}
	if ((size_t)(slash - s) >= sizeof(buf)) {
		*why = "address too long";
		return -1;
	}
	memcpy(buf, s, slash - s);
	buf[slash - s] = '\0';
	if (hgw_addr_parse(buf, &a) < 0) {
		*why = "bad address";
		return -1;
	}
	if (hgw_parse_uint(slash + 1, 0, hgw_family_bits(a.family), &plen) < 0) {
		*why = "bad prefix length";
		return -1;
	}
	p->family = a.family;
	p->plen = (uint8_t)plen;
	memcpy(p->bytes, a.bytes, sizeof(p->bytes));
	if (hgw_prefix_host_bits_set(p)) {
		*why = "host bits set";
		return -1;
	}
	return 0;
}

const char *
hgw_prefix_fmt(const struct hgw_prefix *p, char *buf, size_t len)
{
	struct hgw_addr a;
	char tmp[HGW_ADDRSTRLEN];

	a.family = p->family;
	memcpy(a.bytes, p->bytes, sizeof(a.bytes));
	snprintf(buf, len, "%s/%u", hgw_addr_fmt(&a, tmp, sizeof(tmp)), p->plen);
	return buf;
}

int
hgw_prefix_cmp(const struct hgw_prefix *a, const struct hgw_prefix *b)
{
	int c;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	c = memcmp(a->bytes, b->bytes, hgw_family_len(a->family));
	if (c != 0)
		return c;
	return a->plen < b->plen ? -1 : a->plen > b->plen ? 1 : 0;
}

int
hgw_prefix_eq(const struct hgw_prefix *a, const struct hgw_prefix *b)
{
	return a->family == b->family && a->plen == b->plen &&
	    memcmp(a->bytes, b->bytes, hgw_family_len(a->family)) == 0;
}

uint32_t
hgw_prefix_hash(const struct hgw_prefix *p)
{
	/* FNV-1a over the significant bytes, then a final mix so that
	 * consecutive /24s spread over a power-of-two table. */
	uint32_t h = 2166136261u;
	int n = hgw_family_len(p->family), i;

	h = (h ^ p->family) * 16777619u;
	h = (h ^ p->plen) * 16777619u;
	for (i = 0; i < n; i++)
		h = (h ^ p->bytes[i]) * 16777619u;
	h ^= h >> 16;
	h *= 0x7feb352du;
	h ^= h >> 15;
	h *= 0x846ca68bu;
	h ^= h >> 16;
	return h;
}

static int
bits_equal(const uint8_t *a, const uint8_t *b, int bits)
{
	int full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full) != 0)
		return 0;
	if (rest) {
		uint8_t m = (uint8_t)(0xff << (8 - rest));

		return (a[full] & m) == (b[full] & m);
	}
	return 1;
}

int
hgw_prefix_contains_addr(const struct hgw_prefix *p, const struct hgw_addr *a)
{
	return p->family == a->family && bits_equal(p->bytes, a->bytes, p->plen);
}

int
hgw_prefix_contains(const struct hgw_prefix *outer, const struct hgw_prefix *inner)
{
	return outer->family == inner->family && outer->plen <= inner->plen &&
	    bits_equal(outer->bytes, inner->bytes, outer->plen);
}

int
hgw_prefix_overlaps(const struct hgw_prefix *a, const struct hgw_prefix *b)
{
	return hgw_prefix_contains(a, b) || hgw_prefix_contains(b, a);
}

const char *
hgw_prefix_special(const struct hgw_prefix *p)
{
	/* Every special network is at most 16 bits long: two prefixes overlap
	 * when their first min(length) bits agree. Bytes, not strings: this
	 * runs for every announced prefix. */
	static const struct {
		uint8_t family, plen;
		uint16_t top;		/* first two bytes */
		const char *why;
	} nets[] = {
		{ AF_INET, 8, 0x0000, "unspecified network" },
		{ AF_INET, 8, 0x7f00, "loopback" },
		{ AF_INET, 16, 0xa9fe, "link-local" },
		{ AF_INET, 4, 0xe000, "multicast" },
		{ AF_INET, 4, 0xf000, "reserved" },
		{ AF_INET6, 8, 0x0000, "unspecified, loopback or mapped" },
		{ AF_INET6, 10, 0xfe80, "link-local" },
		{ AF_INET6, 8, 0xff00, "multicast" },
	};
	uint16_t top = (uint16_t)(p->bytes[0] << 8 | p->bytes[1]);
	size_t i;

	if (p->plen == 0)
		return "default route";
	for (i = 0; i < sizeof(nets) / sizeof(nets[0]); i++) {
		int m = nets[i].plen < p->plen ? nets[i].plen : p->plen;
		uint16_t mask = (uint16_t)(0xffffu << (16 - m));

		if (nets[i].family == p->family && ((top ^ nets[i].top) & mask) == 0)
			return nets[i].why;
	}
	return NULL;
}

int
hgw_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
hgw_parse_seconds_ms(const char *s, uint32_t min_ms, uint32_t max_ms, uint32_t *out_ms)
{
	const char *dot;
	unsigned long whole, tenth = 0;
	char buf[16];
	uint64_t ms;

	if (s == NULL || strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	dot = strchr(buf, '.');
	if (dot != NULL) {
		if (dot[1] < '0' || dot[1] > '9' || dot[2] != '\0')
			return -1;
		tenth = (unsigned long)(dot[1] - '0');
		buf[dot - buf] = '\0';
	}
	if (hgw_parse_uint(buf, 0, 86400, &whole) < 0)
		return -1;
	ms = (uint64_t)whole * 1000 + tenth * 100;
	if (ms < min_ms || ms > max_ms)
		return -1;
	*out_ms = (uint32_t)ms;
	return 0;
}

const char *
hgw_fmt_seconds_ms(uint32_t ms, char *buf, size_t len)
{
	if (ms % 1000 == 0)
		snprintf(buf, len, "%u", ms / 1000);
	else if (ms % 100 == 0)
		snprintf(buf, len, "%u.%u", ms / 1000, (ms % 1000) / 100);
	else
		snprintf(buf, len, "%u.%03u", ms / 1000, ms % 1000);
	return buf;
}

int
hgw_nodeid_parse(const char *s, uint32_t *id)
{
	struct in_addr in;

	if (s == NULL || inet_pton(AF_INET, s, &in) != 1)
		return -1;
	*id = ntohl(in.s_addr);
	return *id == 0 ? -1 : 0;
}

const char *
hgw_nodeid_fmt(uint32_t id, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", id >> 24, (id >> 16) & 0xff,
	    (id >> 8) & 0xff, id & 0xff);
	return buf;
}

void
hgw_nodeid_to_addr(uint32_t id, struct hgw_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	a->bytes[0] = (uint8_t)(id >> 24);
	a->bytes[1] = (uint8_t)(id >> 16);
	a->bytes[2] = (uint8_t)(id >> 8);
	a->bytes[3] = (uint8_t)id;
}

uint32_t
hgw_addr_to_nodeid(const struct hgw_addr *a)
{
	return (uint32_t)a->bytes[0] << 24 | (uint32_t)a->bytes[1] << 16 |
	    (uint32_t)a->bytes[2] << 8 | a->bytes[3];
}
