/* wire.c: encoders and validating decoders for hgw session frames (PROTOCOL.md). */
#include "wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int
seterr(struct hgw_err *err, int code, int sub, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL) {
		err->code = (uint8_t)code;
		err->subcode = (uint8_t)sub;
		va_start(ap, fmt);
		vsnprintf(err->text, sizeof(err->text), fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Wire family codes are 4 and 6, independent of the host's AF_ numbers. */
static int
wire_family(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 6 : 0;
}

static int
host_family(int wire)
{
	return wire == 4 ? AF_INET : wire == 6 ? AF_INET6 : 0;
}

const char *
hgw_msg_type_name(int type)
{
	switch (type) {
	case HGW_MSG_HELLO:	return "HELLO";
	case HGW_MSG_KEEPALIVE:	return "KEEPALIVE";
	case HGW_MSG_UPDATE:	return "UPDATE";
	case HGW_MSG_EOR:	return "END-OF-RIB";
	case HGW_MSG_NOTIFY:	return "NOTIFY";
	case HGW_MSG_MEMBERS:	return "MEMBERS";
	case HGW_MSG_LEASE:	return "LEASE";
	}
	return "unknown";
}

const char *
hgw_notify_name(int code, int subcode)
{
	switch (code) {
	case HGW_ERR_HEADER:
		switch (subcode) {
		case HGW_HDR_BAD_VERSION:	return "header error/bad version";
		case HGW_HDR_BAD_LENGTH:	return "header error/bad length";
		case HGW_HDR_BAD_TYPE:		return "header error/bad type";
		case HGW_HDR_BAD_RESERVED:	return "header error/reserved bits set";
		}
		return "header error";
	case HGW_ERR_HELLO:
		switch (subcode) {
		case HGW_HELLO_MALFORMED:	return "hello error/malformed";
		case HGW_HELLO_BAD_NODE_ID:	return "hello error/bad node id";
		case HGW_HELLO_BAD_HOLD:	return "hello error/unacceptable hold time";
		case HGW_HELLO_BAD_ADDRESS:	return "hello error/bad address";
		case HGW_HELLO_DUP_NODE_ID:	return "hello error/duplicate node id";
		}
		return "hello error";
	case HGW_ERR_UPDATE:
		switch (subcode) {
		case HGW_UPD_MALFORMED:		return "update error/malformed";
		case HGW_UPD_BAD_FAMILY:	return "update error/bad family";
		case HGW_UPD_BAD_PREFIX_LEN:	return "update error/bad prefix length";
		case HGW_UPD_BAD_GATEWAY:	return "update error/bad gateway";
		case HGW_UPD_BAD_SECTION:	return "update error/bad section";
		}
		return "update error";
	case HGW_ERR_HOLD:
		return "hold timer expired";
	case HGW_ERR_FSM:
		return "unexpected message";
	case HGW_ERR_CEASE:
		switch (subcode) {
		case HGW_CEASE_SHUTDOWN:	return "cease/shutdown";
		case HGW_CEASE_COLLISION:	return "cease/connection collision";
		case HGW_CEASE_DECONFIGURED:	return "cease/neighbor deconfigured";
		case HGW_CEASE_ADMIN_RESET:	return "cease/administrative reset";
		case HGW_CEASE_MAX_PREFIXES:	return "cease/maximum prefixes reached";
		case HGW_CEASE_RESOURCES:	return "cease/out of resources";
		case HGW_CEASE_REFUSED:		return "cease/connection refused";
		case HGW_CEASE_RESTARTING:	return "cease/restarting";
		}
		return "cease";
	case HGW_ERR_NOTIFY:
		return "malformed notify";
	case HGW_ERR_GOSSIP:
		switch (subcode) {
		case HGW_GOSSIP_MALFORMED:	return "gossip error/malformed";
		case HGW_GOSSIP_BAD_FAMILY:	return "gossip error/bad family";
		case HGW_GOSSIP_BAD_VALUE:	return "gossip error/bad value";
		}
		return "gossip error";
	}
	return "unknown error";
}

int
hgw_hdr_decode(const uint8_t *buf, size_t len, size_t max_frame,
    struct hgw_hdr *h, struct hgw_err *err)
{
	if (len < HGW_HDR_LEN)
		return 0;
	if (max_frame == 0 || max_frame > HGW_MAX_FRAME)
		max_frame = HGW_MAX_FRAME;
	h->version = buf[0];
	h->type = buf[1];
	h->length = get32(buf + 4);
	if (h->version != HGW_PROTO_VERSION)
		return seterr(err, HGW_ERR_HEADER, HGW_HDR_BAD_VERSION,
		    "unsupported version %u", h->version);
	if (get16(buf + 2) != 0)
		return seterr(err, HGW_ERR_HEADER, HGW_HDR_BAD_RESERVED,
		    "reserved header bits set");
	if (h->length < HGW_HDR_LEN || h->length > max_frame)
		return seterr(err, HGW_ERR_HEADER, HGW_HDR_BAD_LENGTH,
		    "frame length %u outside %u..%zu", h->length, HGW_HDR_LEN,
		    max_frame);
	if (h->type < HGW_MSG_HELLO || h->type > HGW_MSG_MAX)
		return seterr(err, HGW_ERR_HEADER, HGW_HDR_BAD_TYPE,
		    "unknown message type %u", h->type);
	return 1;
}

void
hgw_hdr_encode(uint8_t *buf, int type, uint32_t length)
{
	buf[0] = HGW_PROTO_VERSION;
	buf[1] = (uint8_t)type;
	put16(buf + 2, 0);
	put32(buf + 4, length);
}

static int
hostname_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'))
			return 0;
	}
	return 1;
}

size_t
hgw_hello_encode(uint8_t *buf, size_t cap, const struct hgw_hello *hello)
{
	size_t hlen = strnlen(hello->hostname, HGW_HOSTNAME_MAX), off, need;
	unsigned i;

	if (hello->naddrs > HGW_HELLO_MAX_ADDRS)
		return 0;
	need = HGW_HDR_LEN + 20 + hlen;
	for (i = 0; i < hello->naddrs; i++)
		need += 1 + (size_t)hgw_family_len(hello->addrs[i].family);
	if (hello->caps & HGW_CAP_GRACEFUL_RESTART)
		need += 2 + 3;
	if (hello->caps & HGW_CAP_VXLAN)
		need += 2 + 12;
	if ((hello->caps & HGW_CAP_MEMBERS) && hello->members_up_known)
		need += 2 + 2;
	if (need > cap)
		return 0;
	off = HGW_HDR_LEN;
	put32(buf + off, hello->node_id);
	put32(buf + off + 4, hello->hold_ms);
	put32(buf + off + 8, hello->keepalive_ms);
	put32(buf + off + 12, hello->caps);
	put16(buf + off + 16, hello->listen_port);
	buf[off + 18] = hello->naddrs;
	buf[off + 19] = (uint8_t)hlen;
	off += 20;
	for (i = 0; i < hello->naddrs; i++) {
		int alen = hgw_family_len(hello->addrs[i].family);

		if (alen == 0)
			return 0;
		buf[off++] = (uint8_t)wire_family(hello->addrs[i].family);
		memcpy(buf + off, hello->addrs[i].bytes, alen);
		off += alen;
	}
	memcpy(buf + off, hello->hostname, hlen);
	off += hlen;
	if (hello->caps & HGW_CAP_GRACEFUL_RESTART) {
		buf[off] = HGW_HELLO_EXT_GR;
		buf[off + 1] = 3;
		put16(buf + off + 2, hello->gr_restart_s);
		buf[off + 4] = hello->gr_flags;
		off += 5;
	}
	if (hello->caps & HGW_CAP_VXLAN) {
		buf[off] = HGW_HELLO_EXT_VTEP;
		buf[off + 1] = 12;
		put32(buf + off + 2, hello->vtep_vni);
		put16(buf + off + 6, hello->vtep_port);
		memcpy(buf + off + 8, hello->vtep_mac, 6);
		off += 14;
	}
	if ((hello->caps & HGW_CAP_MEMBERS) && hello->members_up_known) {
		buf[off] = HGW_HELLO_EXT_MEMBERS;
		buf[off + 1] = 2;
		put16(buf + off + 2, hello->members_up);
		off += 4;
	}
	hgw_hdr_encode(buf, HGW_MSG_HELLO, (uint32_t)off);
	return off;
}

/* The extensions after the hostname. */
static int
hello_ext_decode(const uint8_t *p, size_t len, struct hgw_hello *hello, struct hgw_err *err)
{
	size_t off = 0;
	uint32_t seen = 0;

	while (off < len) {
		uint8_t type, elen;

		if (len - off < 2)
			return seterr(err, HGW_ERR_HELLO, HGW_HELLO_MALFORMED,
			    "truncated HELLO extension");
		type = p[off];
		elen = p[off + 1];
		off += 2;
		if (elen > len - off)
			return seterr(err, HGW_ERR_HELLO, HGW_HELLO_MALFORMED,
			    "HELLO extension %u of %u bytes overruns the frame", type, elen);
		if (type == HGW_HELLO_EXT_GR || type == HGW_HELLO_EXT_VTEP ||
		    type == HGW_HELLO_EXT_MEMBERS) {
			if (seen & (1u << type))
				return seterr(err, HGW_ERR_HELLO, HGW_HELLO_MALFORMED,
				    "HELLO extension %u twice", type);
			seen |= 1u << type;
		}
		switch (type) {
		case HGW_HELLO_EXT_GR:
			if (elen != 3)
				return seterr(err, HGW_ERR_HELLO, HGW_HELLO_MALFORMED,
				    "graceful-restart extension of %u bytes, not 3", elen);
			hello->gr_restart_s = get16(p + off);
			hello->gr_flags = p[off + 2];
			if (hello->gr_restart_s == 0 || hello->gr_restart_s > HGW_GR_RESTART_MAX_S)
				return seterr(err, HGW_ERR_HELLO, HGW_HELLO_MALFORMED,
				    "restart time %u s outside 1..%u", hello->gr_restart_s,
				    HGW_GR_RESTART_MAX_S);
			break;
		case HGW_HELLO_EXT_VTEP:
			if (elen != 12)
				return seterr(err, HGW_ERR_HELLO, HGW_HELLO_MALFORMED,
				    "VTEP extension of %u bytes, not 12", elen);
			hello->vtep_vni = get32(p + off);
			hello->vtep_port = get16(p + off + 4);
			memcpy(hello->vtep_mac, p + off + 6, 6);
			if (hello->vtep_vni == 0 || hello->vtep_vni > 0xffffffu || hello->vtep_port == 0)
				return seterr(err, HGW_ERR_HELLO, HGW_HELLO_MALFORMED,
				    "VTEP VNI %u or port %u out of range", hello->vtep_vni,
				    hello->vtep_port);
			if ((hello->vtep_mac[0] & 1) != 0)
				return seterr(err, HGW_ERR_HELLO, HGW_HELLO_MALFORMED,
				    "VTEP MAC is a multicast address");
			break;
		case HGW_HELLO_EXT_MEMBERS:
			if (elen != 2)
				return seterr(err, HGW_ERR_HELLO, HGW_HELLO_MALFORMED,
				    "members extension of %u bytes, not 2", elen);
			hello->members_up = get16(p + off);
			break;
		default:
			break;	/* a later version's: skipped */
		}
		off += elen;
	}
	/* A capability bit without its values is not that capability, and
	 * values without the bit are ignored. */
	if (!(seen & (1u << HGW_HELLO_EXT_GR)) || !(hello->caps & HGW_CAP_GRACEFUL_RESTART)) {
		hello->caps &= ~HGW_CAP_GRACEFUL_RESTART;
		hello->gr_restart_s = 0;
		hello->gr_flags = 0;
	}
	if (!(seen & (1u << HGW_HELLO_EXT_VTEP)) || !(hello->caps & HGW_CAP_VXLAN)) {
		hello->caps &= ~HGW_CAP_VXLAN;
		hello->vtep_vni = 0;
		hello->vtep_port = 0;
		memset(hello->vtep_mac, 0, sizeof(hello->vtep_mac));
	}
	/* Without it (an older node) MEMBERS still holds: how many sessions
	 * the sender has is then unknown. */
	if ((seen & (1u << HGW_HELLO_EXT_MEMBERS)) && (hello->caps & HGW_CAP_MEMBERS))
		hello->members_up_known = 1;
	else
		hello->members_up = 0;
	return 0;
}

int
hgw_hello_decode(const uint8_t *body, size_t len, struct hgw_hello *hello,
    struct hgw_err *err)
{
	size_t off = 20, hlen;
	unsigned i;

	memset(hello, 0, sizeof(*hello));
	if (len < 20)
		return seterr(err, HGW_ERR_HELLO, HGW_HELLO_MALFORMED,
		    "HELLO of %zu bytes is shorter than 20", len);
	hello->node_id = get32(body);
	hello->hold_ms = get32(body + 4);
	hello->keepalive_ms = get32(body + 8);
	hello->caps = get32(body + 12);
	hello->listen_port = get16(body + 16);
	hello->naddrs = body[18];
	hlen = body[19];
	if (hello->node_id == 0)
		return seterr(err, HGW_ERR_HELLO, HGW_HELLO_BAD_NODE_ID,
		    "node id 0.0.0.0");
	if (hello->hold_ms < HGW_HOLD_MIN_MS || hello->hold_ms > HGW_HOLD_MAX_MS)
		return seterr(err, HGW_ERR_HELLO, HGW_HELLO_BAD_HOLD,
		    "hold time %u ms outside %u..%u", hello->hold_ms,
		    HGW_HOLD_MIN_MS, HGW_HOLD_MAX_MS);
	if (hello->keepalive_ms < HGW_KEEPALIVE_MIN_MS ||
	    hello->keepalive_ms > hello->hold_ms)
		return seterr(err, HGW_ERR_HELLO, HGW_HELLO_BAD_HOLD,
		    "keepalive %u ms outside %u..hold", hello->keepalive_ms,
		    HGW_KEEPALIVE_MIN_MS);
	if (hello->listen_port == 0)
		return seterr(err, HGW_ERR_HELLO, HGW_HELLO_MALFORMED,
		    "listen port 0");
	if (hello->naddrs > HGW_HELLO_MAX_ADDRS)
		return seterr(err, HGW_ERR_HELLO, HGW_HELLO_MALFORMED,
		    "%u addresses, at most %u", hello->naddrs, HGW_HELLO_MAX_ADDRS);
	if (hlen > HGW_HOSTNAME_MAX)
		return seterr(err, HGW_ERR_HELLO, HGW_HELLO_MALFORMED,
		    "hostname of %zu bytes", hlen);
	for (i = 0; i < hello->naddrs; i++) {
		int fam, alen;

		if (off >= len)
			return seterr(err, HGW_ERR_HELLO, HGW_HELLO_MALFORMED,
			    "truncated address list");
		fam = host_family(body[off]);
		alen = hgw_family_len(fam);
		if (alen == 0)
			return seterr(err, HGW_ERR_HELLO, HGW_HELLO_BAD_ADDRESS,
			    "address family %u", body[off]);
		if (off + 1 + alen > len)
			return seterr(err, HGW_ERR_HELLO, HGW_HELLO_MALFORMED,
			    "truncated address");
		hello->addrs[i].family = (uint8_t)fam;
		memcpy(hello->addrs[i].bytes, body + off + 1, alen);
		if (hgw_addr_is_unspec(&hello->addrs[i]))
			return seterr(err, HGW_ERR_HELLO, HGW_HELLO_BAD_ADDRESS,
			    "unspecified address");
		off += 1 + alen;
	}
	if (off + hlen > len)
		return seterr(err, HGW_ERR_HELLO, HGW_HELLO_MALFORMED,
		    "HELLO length %zu, expected at least %zu", len, off + hlen);
	if (!hostname_ok((const char *)body + off, hlen))
		return seterr(err, HGW_ERR_HELLO, HGW_HELLO_MALFORMED,
		    "hostname has characters outside [A-Za-z0-9._-]");
	memcpy(hello->hostname, body + off, hlen);
	hello->hostname[hlen] = '\0';
	return hello_ext_decode(body + off + hlen, len - off - hlen, hello, err);
}

size_t
hgw_keepalive_encode(uint8_t *buf, size_t cap)
{
	if (cap < HGW_HDR_LEN)
		return 0;
	hgw_hdr_encode(buf, HGW_MSG_KEEPALIVE, HGW_HDR_LEN);
	return HGW_HDR_LEN;
}

size_t
hgw_eor_encode(uint8_t *buf, size_t cap)
{
	if (cap < HGW_HDR_LEN)
		return 0;
	hgw_hdr_encode(buf, HGW_MSG_EOR, HGW_HDR_LEN);
	return HGW_HDR_LEN;
}

int
hgw_empty_decode(int type, size_t len, struct hgw_err *err)
{
	if (len != 0)
		return seterr(err, HGW_ERR_HEADER, HGW_HDR_BAD_LENGTH,
		    "%s with a body of %zu bytes", hgw_msg_type_name(type), len);
	return 0;
}

size_t
hgw_notify_encode(uint8_t *buf, size_t cap, int code, int subcode, const char *text)
{
	size_t tlen = text ? strnlen(text, HGW_NOTIFY_TEXT_MAX) : 0;
	size_t len = HGW_HDR_LEN + 3 + tlen;

	if (len > cap)
		return 0;
	buf[HGW_HDR_LEN] = (uint8_t)code;
	buf[HGW_HDR_LEN + 1] = (uint8_t)subcode;
	buf[HGW_HDR_LEN + 2] = (uint8_t)tlen;
	if (tlen)
		memcpy(buf + HGW_HDR_LEN + 3, text, tlen);
	hgw_hdr_encode(buf, HGW_MSG_NOTIFY, (uint32_t)len);
	return len;
}

int
hgw_notify_decode(const uint8_t *body, size_t len, struct hgw_notify *n,
    struct hgw_err *err)
{
	size_t i, tlen;

	memset(n, 0, sizeof(*n));
	if (len < 3 || len != 3u + body[2])
		return seterr(err, HGW_ERR_NOTIFY, 0, "malformed NOTIFY");
	n->code = body[0];
	n->subcode = body[1];
	tlen = body[2];
	/* The text goes to logs: keep printable ASCII only. */
	for (i = 0; i < tlen; i++) {
		uint8_t c = body[3 + i];

		n->text[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	n->text[tlen] = '\0';
	return 0;
}

/* UPDATE section header: kind, family, count (2), origin (4). */
#define SEC_HDR_LEN 8

static int
prefix_bytes(int plen)
{
	return (plen + 7) / 8;
}

long
hgw_update_validate(const uint8_t *body, size_t len, struct hgw_err *err)
{
	size_t off = 0;
	long total = 0;

	if (len == 0)
		return seterr(err, HGW_ERR_UPDATE, HGW_UPD_MALFORMED,
		    "empty UPDATE");
	while (off < len) {
		unsigned kind, fam, count, i;
		int alen, bits;

		if (len - off < SEC_HDR_LEN)
			return seterr(err, HGW_ERR_UPDATE, HGW_UPD_MALFORMED,
			    "truncated section header at byte %zu", off);
		kind = body[off];
		fam = host_family(body[off + 1]);
		count = get16(body + off + 2);
		if (kind != HGW_UPD_ANNOUNCE && kind != HGW_UPD_WITHDRAW)
			return seterr(err, HGW_ERR_UPDATE, HGW_UPD_BAD_SECTION,
			    "unknown section kind %u", kind);
		if (fam == 0)
			return seterr(err, HGW_ERR_UPDATE, HGW_UPD_BAD_FAMILY,
			    "unknown family %u", body[off + 1]);
		if (count == 0)
			return seterr(err, HGW_ERR_UPDATE, HGW_UPD_BAD_SECTION,
			    "empty section");
		if (get32(body + off + 4) == 0)
			return seterr(err, HGW_ERR_UPDATE, HGW_UPD_BAD_SECTION,
			    "origin node id 0.0.0.0");
		off += SEC_HDR_LEN;
		alen = hgw_family_len(fam);
		bits = alen * 8;
		if (kind == HGW_UPD_ANNOUNCE) {
			struct hgw_addr gw;

			if (len - off < (size_t)alen)
				return seterr(err, HGW_ERR_UPDATE,
				    HGW_UPD_MALFORMED, "truncated gateway");
			gw.family = (uint8_t)fam;
			memcpy(gw.bytes, body + off, alen);
			if (hgw_addr_is_unspec(&gw))
				return seterr(err, HGW_ERR_UPDATE,
				    HGW_UPD_BAD_GATEWAY, "unspecified gateway");
			off += alen;
		}
		for (i = 0; i < count; i++) {
			unsigned plen;

			if (off >= len)
				return seterr(err, HGW_ERR_UPDATE,
				    HGW_UPD_MALFORMED,
				    "section ends after %u of %u prefixes", i,
				    count);
			plen = body[off];
			if (plen > (unsigned)bits)
				return seterr(err, HGW_ERR_UPDATE,
				    HGW_UPD_BAD_PREFIX_LEN,
				    "prefix length %u for a %d-bit family",
				    plen, bits);
			if (len - off - 1 < (size_t)prefix_bytes(plen))
				return seterr(err, HGW_ERR_UPDATE,
				    HGW_UPD_MALFORMED, "truncated prefix");
			off += 1 + prefix_bytes(plen);
		}
		total += count;
	}
	return total;
}

void
hgw_update_iter_init(struct hgw_upd_iter *it, const uint8_t *body, size_t len)
{
	memset(it, 0, sizeof(*it));
	it->p = body;
	it->end = body + len;
}

int
hgw_update_next(struct hgw_upd_iter *it, struct hgw_upd_item *item)
{
	int alen, nb;

	while (it->left == 0) {
		if (it->end - it->p < SEC_HDR_LEN)
			return 0;
		it->kind = it->p[0];
		it->family = (uint8_t)host_family(it->p[1]);
		it->left = get16(it->p + 2);
		it->origin = get32(it->p + 4);
		it->p += SEC_HDR_LEN;
		memset(&it->gateway, 0, sizeof(it->gateway));
		if (it->kind == HGW_UPD_ANNOUNCE) {
			alen = hgw_family_len(it->family);
			it->gateway.family = it->family;
			memcpy(it->gateway.bytes, it->p, alen);
			it->p += alen;
		}
	}
	memset(item, 0, sizeof(*item));
	item->kind = it->kind;
	item->origin = it->origin;
	item->gateway = it->gateway;
	item->prefix.family = it->family;
	item->prefix.plen = it->p[0];
	nb = prefix_bytes(it->p[0]);
	memcpy(item->prefix.bytes, it->p + 1, nb);
	it->p += 1 + nb;
	it->left--;
	return 1;
}

void
hgw_upd_begin(struct hgw_upd_builder *b, uint8_t *buf, size_t cap)
{
	memset(b, 0, sizeof(*b));
	b->buf = buf;
	b->cap = cap > HGW_MAX_FRAME ? HGW_MAX_FRAME : cap;
	b->len = HGW_HDR_LEN;
}

static void
close_section(struct hgw_upd_builder *b)
{
	if (b->sec_off != 0)
		put16(b->buf + b->sec_off + 2, b->sec_count);
	b->sec_off = 0;
	b->sec_count = 0;
}

int
hgw_upd_add(struct hgw_upd_builder *b, const struct hgw_upd_item *it)
{
	int fam = it->prefix.family, alen = hgw_family_len(fam);
	int nb = prefix_bytes(it->prefix.plen);
	int same;
	size_t need;

	if (alen == 0 || it->prefix.plen > alen * 8 || it->origin == 0 ||
	    (it->kind != HGW_UPD_ANNOUNCE && it->kind != HGW_UPD_WITHDRAW))
		return -1;
	if (it->kind == HGW_UPD_ANNOUNCE && (it->gateway.family != fam ||
	    hgw_addr_is_unspec(&it->gateway)))
		return -1;
	same = b->sec_off != 0 && b->sec_kind == it->kind &&
	    b->sec_family == fam && b->sec_origin == it->origin &&
	    b->sec_count < UINT16_MAX &&
	    (it->kind == HGW_UPD_WITHDRAW ||
	    hgw_addr_cmp(&b->sec_gateway, &it->gateway) == 0);
	need = 1 + (size_t)nb;
	if (!same)
		need += SEC_HDR_LEN + (it->kind == HGW_UPD_ANNOUNCE ? alen : 0);
	if (b->len + need > b->cap)
		return -1;
	if (!same) {
		close_section(b);
		b->sec_off = b->len;
		b->sec_kind = it->kind;
		b->sec_family = (uint8_t)fam;
		b->sec_origin = it->origin;
		b->sec_gateway = it->gateway;
		b->buf[b->len] = it->kind;
		b->buf[b->len + 1] = (uint8_t)wire_family(fam);
		put16(b->buf + b->len + 2, 0);
		put32(b->buf + b->len + 4, it->origin);
		b->len += SEC_HDR_LEN;
		if (it->kind == HGW_UPD_ANNOUNCE) {
			memcpy(b->buf + b->len, it->gateway.bytes, alen);
			b->len += alen;
		}
	}
	b->buf[b->len] = it->prefix.plen;
	memcpy(b->buf + b->len + 1, it->prefix.bytes, nb);
	b->len += 1 + nb;
	b->sec_count++;
	b->nitems++;
	return 0;
}

size_t
hgw_upd_finish(struct hgw_upd_builder *b)
{
	size_t len;

	close_section(b);
	if (b->nitems == 0)
		return 0;
	hgw_hdr_encode(b->buf, HGW_MSG_UPDATE, (uint32_t)b->len);
	len = b->len;
	b->len = HGW_HDR_LEN;
	b->nitems = 0;
	return len;
}

/* MEMBERS entries: op, family, port (2), node id (4), address (4 or 16). */
#define MEMBER_HDR 8

size_t
hgw_members_encode(uint8_t *buf, size_t cap, const struct hgw_member *m, size_t n,
    size_t *first)
{
	size_t off = HGW_HDR_LEN;

	if (cap > HGW_MAX_FRAME)
		cap = HGW_MAX_FRAME;
	while (*first < n) {
		const struct hgw_member *e = &m[*first];
		int alen = hgw_family_len(e->addr.family);

		if (alen == 0) {
			(*first)++;	/* nothing to say about it */
			continue;
		}
		if (off + MEMBER_HDR + (size_t)alen > cap)
			break;
		buf[off] = e->op;
		buf[off + 1] = (uint8_t)wire_family(e->addr.family);
		put16(buf + off + 2, e->port);
		put32(buf + off + 4, e->node_id);
		memcpy(buf + off + MEMBER_HDR, e->addr.bytes, alen);
		off += MEMBER_HDR + (size_t)alen;
		(*first)++;
	}
	if (off == HGW_HDR_LEN)
		return 0;
	hgw_hdr_encode(buf, HGW_MSG_MEMBERS, (uint32_t)off);
	return off;
}

long
hgw_members_validate(const uint8_t *body, size_t len, struct hgw_err *err)
{
	size_t off = 0;
	long n = 0;

	if (len == 0)
		return seterr(err, HGW_ERR_GOSSIP, HGW_GOSSIP_MALFORMED, "empty MEMBERS");
	while (off < len) {
		int fam, alen;

		if (len - off < MEMBER_HDR)
			return seterr(err, HGW_ERR_GOSSIP, HGW_GOSSIP_MALFORMED,
			    "truncated member at byte %zu", off);
		if (body[off] != HGW_MEMBER_UP && body[off] != HGW_MEMBER_DOWN)
			return seterr(err, HGW_ERR_GOSSIP, HGW_GOSSIP_BAD_VALUE,
			    "unknown member op %u", body[off]);
		fam = host_family(body[off + 1]);
		if ((alen = hgw_family_len(fam)) == 0)
			return seterr(err, HGW_ERR_GOSSIP, HGW_GOSSIP_BAD_FAMILY,
			    "unknown family %u", body[off + 1]);
		if (get16(body + off + 2) == 0 || get32(body + off + 4) == 0)
			return seterr(err, HGW_ERR_GOSSIP, HGW_GOSSIP_BAD_VALUE,
			    "member with port 0 or node id 0.0.0.0");
		if (len - off - MEMBER_HDR < (size_t)alen)
			return seterr(err, HGW_ERR_GOSSIP, HGW_GOSSIP_MALFORMED,
			    "truncated member address");
		off += MEMBER_HDR + (size_t)alen;
		n++;
	}
	return n;
}

int
hgw_members_next(const uint8_t *body, size_t len, size_t *off, struct hgw_member *m)
{
	int alen;

	if (*off + MEMBER_HDR > len)
		return 0;
	memset(m, 0, sizeof(*m));
	m->op = body[*off];
	m->addr.family = (uint8_t)host_family(body[*off + 1]);
	m->port = get16(body + *off + 2);
	m->node_id = get32(body + *off + 4);
	alen = hgw_family_len(m->addr.family);
	memcpy(m->addr.bytes, body + *off + MEMBER_HDR, alen);
	*off += MEMBER_HDR + (size_t)alen;
	return 1;
}

/* LEASE entries: op, flags, family, length, owner (4), claim time (8),
 * unseen for (4), the prefix's address in full (4 or 16). */
#define LEASE_HDR 20

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

size_t
hgw_leases_encode(uint8_t *buf, size_t cap, const struct hgw_lease *l, size_t n,
    size_t *first)
{
	size_t off = HGW_HDR_LEN;

	if (cap > HGW_MAX_FRAME)
		cap = HGW_MAX_FRAME;
	while (*first < n) {
		const struct hgw_lease *e = &l[*first];
		int alen = hgw_family_len(e->prefix.family);

		if (alen == 0) {
			(*first)++;
			continue;
		}
		if (off + LEASE_HDR + (size_t)alen > cap)
			break;
		buf[off] = e->op;
		buf[off + 1] = e->flags;
		buf[off + 2] = (uint8_t)wire_family(e->prefix.family);
		buf[off + 3] = e->prefix.plen;
		put32(buf + off + 4, e->owner);
		put64(buf + off + 8, e->claim_ms);
		put32(buf + off + 16, e->unseen_ms);
		memcpy(buf + off + LEASE_HDR, e->prefix.bytes, alen);
		off += LEASE_HDR + (size_t)alen;
		(*first)++;
	}
	if (off == HGW_HDR_LEN)
		return 0;
	hgw_hdr_encode(buf, HGW_MSG_LEASE, (uint32_t)off);
	return off;
}

long
hgw_leases_validate(const uint8_t *body, size_t len, struct hgw_err *err)
{
	size_t off = 0;
	long n = 0;

	if (len == 0)
		return seterr(err, HGW_ERR_GOSSIP, HGW_GOSSIP_MALFORMED, "empty LEASE");
	while (off < len) {
		struct hgw_prefix p;
		int alen;

		if (len - off < LEASE_HDR)
			return seterr(err, HGW_ERR_GOSSIP, HGW_GOSSIP_MALFORMED,
			    "truncated lease at byte %zu", off);
		if (body[off] != HGW_LEASE_CLAIM && body[off] != HGW_LEASE_RELEASE)
			return seterr(err, HGW_ERR_GOSSIP, HGW_GOSSIP_BAD_VALUE,
			    "unknown lease op %u", body[off]);
		memset(&p, 0, sizeof(p));
		p.family = (uint8_t)host_family(body[off + 2]);
		if ((alen = hgw_family_len(p.family)) == 0)
			return seterr(err, HGW_ERR_GOSSIP, HGW_GOSSIP_BAD_FAMILY,
			    "unknown family %u", body[off + 2]);
		p.plen = body[off + 3];
		if (p.plen == 0 || p.plen > alen * 8 || get32(body + off + 4) == 0)
			return seterr(err, HGW_ERR_GOSSIP, HGW_GOSSIP_BAD_VALUE,
			    "lease with prefix length %u or owner 0.0.0.0", p.plen);
		if (len - off - LEASE_HDR < (size_t)alen)
			return seterr(err, HGW_ERR_GOSSIP, HGW_GOSSIP_MALFORMED,
			    "truncated lease prefix");
		memcpy(p.bytes, body + off + LEASE_HDR, alen);
		if (hgw_prefix_host_bits_set(&p))
			return seterr(err, HGW_ERR_GOSSIP, HGW_GOSSIP_BAD_VALUE,
			    "lease prefix with host bits set");
		off += LEASE_HDR + (size_t)alen;
		n++;
	}
	return n;
}

int
hgw_leases_next(const uint8_t *body, size_t len, size_t *off, struct hgw_lease *l)
{
	int alen;

	if (*off + LEASE_HDR > len)
		return 0;
	memset(l, 0, sizeof(*l));
	l->op = body[*off];
	l->flags = body[*off + 1];
	l->prefix.family = (uint8_t)host_family(body[*off + 2]);
	l->prefix.plen = body[*off + 3];
	l->owner = get32(body + *off + 4);
	l->claim_ms = get64(body + *off + 8);
	l->unseen_ms = get32(body + *off + 16);
	alen = hgw_family_len(l->prefix.family);
	memcpy(l->prefix.bytes, body + *off + LEASE_HDR, alen);
	*off += LEASE_HDR + (size_t)alen;
	return 1;
}
