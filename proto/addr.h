/* addr.h: IPv4/IPv6 addresses and prefixes for hgw: parse, print, compare, hash and check. Pure code. */
#ifndef HGW_ADDR_H
#define HGW_ADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Large enough for any address or prefix we print, "ffff:...:ffff/128". */
#define HGW_ADDRSTRLEN 48

struct hgw_addr {
	uint8_t family;		/* AF_INET or AF_INET6; 0 when unset */
	uint8_t bytes[16];
};

struct hgw_prefix {
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t plen;
	uint8_t bytes[16];	/* bits past plen are zero unless parsed loosely */
};

int hgw_family_len(int family);		/* 4, 16, or 0 for an unknown family */
int hgw_family_bits(int family);	/* 32, 128, or 0 */

int hgw_addr_parse(const char *s, struct hgw_addr *a);
const char *hgw_addr_fmt(const struct hgw_addr *a, char *buf, size_t len);
int hgw_addr_cmp(const struct hgw_addr *a, const struct hgw_addr *b);
int hgw_addr_is_unspec(const struct hgw_addr *a);

/* "A.B.C.D/N" or "X::Y/N". Returns 0, or -1 with *why set to a short reason.
 * Host bits past the length are an error ("host bits set"). */
int hgw_prefix_parse(const char *s, struct hgw_prefix *p, const char **why);
const char *hgw_prefix_fmt(const struct hgw_prefix *p, char *buf, size_t len);
int hgw_prefix_cmp(const struct hgw_prefix *a, const struct hgw_prefix *b);
int hgw_prefix_eq(const struct hgw_prefix *a, const struct hgw_prefix *b);
uint32_t hgw_prefix_hash(const struct hgw_prefix *p);
int hgw_prefix_host_bits_set(const struct hgw_prefix *p);
void hgw_prefix_mask(struct hgw_prefix *p);	/* clear host bits */
int hgw_prefix_contains_addr(const struct hgw_prefix *p, const struct hgw_addr *a);
int hgw_prefix_contains(const struct hgw_prefix *outer, const struct hgw_prefix *inner);
int hgw_prefix_overlaps(const struct hgw_prefix *a, const struct hgw_prefix *b);

/* Why a prefix can never be a container route: default, loopback, link-local,
 * multicast, unspecified. NULL when none applies. */
const char *hgw_prefix_special(const struct hgw_prefix *p);

/* Parse a duration in seconds with up to one decimal ("1", "0.5", "2.25" is refused). */
int hgw_parse_seconds_ms(const char *s, uint32_t min_ms, uint32_t max_ms, uint32_t *out_ms);
/* Print milliseconds as seconds the way the config writes them ("1", "0.5"). */
const char *hgw_fmt_seconds_ms(uint32_t ms, char *buf, size_t len);
/* Parse an unsigned decimal number within [min, max]. */
int hgw_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out);

/* Node ids are 32-bit numbers written as dotted quads, like BGP router ids. */
int hgw_nodeid_parse(const char *s, uint32_t *id);
/* A node id as the IPv4 address it reads as, and back (a must be IPv4). */
void hgw_nodeid_to_addr(uint32_t id, struct hgw_addr *a);
uint32_t hgw_addr_to_nodeid(const struct hgw_addr *a);
const char *hgw_nodeid_fmt(uint32_t id, char *buf, size_t len);

#endif
