/* wire.h: the hgw session protocol on the wire (see PROTOCOL.md): frame header,
 * HELLO, KEEPALIVE, UPDATE, END-OF-RIB, NOTIFY encoders and validating decoders.
 * Pure code: callers own every buffer; nothing here allocates or does I/O. */
#ifndef HGW_WIRE_H
#define HGW_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define HGW_PROTO_VERSION	1
#define HGW_DEFAULT_PORT	7179
#define HGW_HDR_LEN		8
#define HGW_MAX_FRAME		65536	/* header included */
#define HGW_HELLO_MAX_ADDRS	4
#define HGW_HOSTNAME_MAX	64
#define HGW_NOTIFY_TEXT_MAX	255

/* Hold time limits, milliseconds. */
#define HGW_HOLD_MIN_MS		300
#define HGW_HOLD_MAX_MS		3600000
#define HGW_KEEPALIVE_MIN_MS	100

enum hgw_msg_type {
	HGW_MSG_HELLO = 1,
	HGW_MSG_KEEPALIVE = 2,
	HGW_MSG_UPDATE = 3,
	HGW_MSG_EOR = 4,
	HGW_MSG_NOTIFY = 5,
	HGW_MSG_MEMBERS = 6,	/* only to peers announcing HGW_CAP_MEMBERS */
	HGW_MSG_LEASE = 7,	/* only to peers announcing HGW_CAP_LEASES */
};
#define HGW_MSG_MAX HGW_MSG_LEASE

/* Capability bits announced in HELLO. */
#define HGW_CAP_IPV4		0x00000001u
#define HGW_CAP_IPV6		0x00000002u
#define HGW_CAP_MEMBERS		0x00000004u
#define HGW_CAP_LEASES		0x00000008u
#define HGW_CAP_GRACEFUL_RESTART 0x00000010u	/* HELLO carries HGW_HELLO_EXT_GR */
#define HGW_CAP_VXLAN		0x00000020u	/* HELLO carries HGW_HELLO_EXT_VTEP */
#define HGW_CAP_KA_DGRAM	0x00000040u	/* sends and believes keepalive datagrams */
#define HGW_CAP_KNOWN		(HGW_CAP_IPV4 | HGW_CAP_IPV6 | HGW_CAP_MEMBERS | HGW_CAP_LEASES | \
	HGW_CAP_GRACEFUL_RESTART | HGW_CAP_VXLAN | HGW_CAP_KA_DGRAM)

/* HELLO extensions after the hostname: type (1), length (1), value. An
 * unknown type is skipped; a known one must have its exact length. */
enum hgw_hello_ext {
	HGW_HELLO_EXT_GR = 1,		/* restart time s (2), flags (1) */
	HGW_HELLO_EXT_VTEP = 2,		/* VNI (4), UDP port (2), MAC (6) */
	HGW_HELLO_EXT_MEMBERS = 3,	/* established sessions of the sender (2) */
};
#define HGW_GR_F_RESTARTED	0x01	/* this node restarted and kept its routes */
#define HGW_GR_RESTART_MAX_S	3600

/* NOTIFY codes and subcodes. */
enum hgw_notify_code {
	HGW_ERR_HEADER = 1,	/* sub: hgw_err_header */
	HGW_ERR_HELLO = 2,	/* sub: hgw_err_hello */
	HGW_ERR_UPDATE = 3,	/* sub: hgw_err_update */
	HGW_ERR_HOLD = 4,	/* hold timer expired */
	HGW_ERR_FSM = 5,	/* message not allowed in this state */
	HGW_ERR_CEASE = 6,	/* sub: hgw_err_cease */
	HGW_ERR_NOTIFY = 7,	/* malformed NOTIFY (never sent, only logged) */
	HGW_ERR_GOSSIP = 8,	/* malformed MEMBERS or LEASE; sub: hgw_err_gossip */
};

enum hgw_err_gossip {
	HGW_GOSSIP_MALFORMED = 1,
	HGW_GOSSIP_BAD_FAMILY = 2,
	HGW_GOSSIP_BAD_VALUE = 3,
};

enum hgw_err_header {
	HGW_HDR_BAD_VERSION = 1,
	HGW_HDR_BAD_LENGTH = 2,
	HGW_HDR_BAD_TYPE = 3,
	HGW_HDR_BAD_RESERVED = 4,
};

enum hgw_err_hello {
	HGW_HELLO_MALFORMED = 1,
	HGW_HELLO_BAD_NODE_ID = 2,
	HGW_HELLO_BAD_HOLD = 3,
	HGW_HELLO_BAD_ADDRESS = 4,
	HGW_HELLO_DUP_NODE_ID = 5,
};

enum hgw_err_update {
	HGW_UPD_MALFORMED = 1,
	HGW_UPD_BAD_FAMILY = 2,
	HGW_UPD_BAD_PREFIX_LEN = 3,
	HGW_UPD_BAD_GATEWAY = 4,
	HGW_UPD_BAD_SECTION = 5,
};

enum hgw_err_cease {
	HGW_CEASE_SHUTDOWN = 1,
	HGW_CEASE_COLLISION = 2,
	HGW_CEASE_DECONFIGURED = 3,
	HGW_CEASE_ADMIN_RESET = 4,
	HGW_CEASE_MAX_PREFIXES = 5,
	HGW_CEASE_RESOURCES = 6,
	HGW_CEASE_REFUSED = 7,
	HGW_CEASE_RESTARTING = 8,	/* graceful restart: keep my paths stale for my restart time */
};

/* A decode error: the NOTIFY to send and a human text for the log. */
struct hgw_err {
	uint8_t code;
	uint8_t subcode;
	char text[128];
};

struct hgw_hdr {
	uint8_t version;
	uint8_t type;
	uint32_t length;	/* whole frame, header included */
};

struct hgw_hello {
	uint32_t node_id;
	uint32_t hold_ms;
	uint32_t keepalive_ms;
	uint32_t caps;
	uint16_t listen_port;
	uint8_t naddrs;
	struct hgw_addr addrs[HGW_HELLO_MAX_ADDRS];
	char hostname[HGW_HOSTNAME_MAX + 1];
	/* extensions: present when caps has the bit */
	uint16_t gr_restart_s;		/* HGW_CAP_GRACEFUL_RESTART: 1..3600 */
	uint8_t gr_flags;		/* HGW_GR_F_* */
	uint32_t vtep_vni;		/* HGW_CAP_VXLAN: 1..16777215 */
	uint16_t vtep_port;
	uint8_t vtep_mac[6];
	/* HGW_CAP_MEMBERS: the sender's established sessions when it sent
	 * this HELLO (0: it is joining; its first peers introduce it) */
	uint16_t members_up;
	uint8_t members_up_known;	/* 0: no extension (an older node); sent with 1 */
};

struct hgw_notify {
	uint8_t code;
	uint8_t subcode;
	char text[HGW_NOTIFY_TEXT_MAX + 1];
};

const char *hgw_msg_type_name(int type);
const char *hgw_notify_name(int code, int subcode);

/* Header: returns 1 and fills *h when the header is complete and acceptable,
 * 0 when fewer than HGW_HDR_LEN bytes are given, -1 with *err on a bad header
 * (bad version, reserved bits, a length below the header or above max_frame,
 * an unknown type). max_frame is at most HGW_MAX_FRAME. */
int hgw_hdr_decode(const uint8_t *buf, size_t len, size_t max_frame,
    struct hgw_hdr *h, struct hgw_err *err);
void hgw_hdr_encode(uint8_t *buf, int type, uint32_t length);

/* Encoders return the frame length, or 0 when buf is too small. */
size_t hgw_hello_encode(uint8_t *buf, size_t cap, const struct hgw_hello *hello);
size_t hgw_keepalive_encode(uint8_t *buf, size_t cap);
size_t hgw_eor_encode(uint8_t *buf, size_t cap);
size_t hgw_notify_encode(uint8_t *buf, size_t cap, int code, int subcode,
    const char *text);

/* Decoders take the body (the frame past its header). 0 or -1 with *err. */
int hgw_hello_decode(const uint8_t *body, size_t len, struct hgw_hello *hello,
    struct hgw_err *err);
int hgw_empty_decode(int type, size_t len, struct hgw_err *err);
int hgw_notify_decode(const uint8_t *body, size_t len, struct hgw_notify *n,
    struct hgw_err *err);

/*
 * UPDATE: a list of sections, each announcing or withdrawing prefixes of one
 * family from one origin node; an announce section carries one gateway.
 */
enum hgw_upd_kind {
	HGW_UPD_ANNOUNCE = 1,
	HGW_UPD_WITHDRAW = 2,
};

struct hgw_upd_item {
	uint8_t kind;		/* HGW_UPD_ANNOUNCE or HGW_UPD_WITHDRAW */
	uint32_t origin;
	struct hgw_addr gateway;	/* announce only */
	struct hgw_prefix prefix;	/* host bits as sent; policy checks them */
};

/* Checks a whole UPDATE body before anything of it is applied. Returns the
 * number of prefixes it holds, or -1 with *err. */
long hgw_update_validate(const uint8_t *body, size_t len, struct hgw_err *err);

/* Walks an UPDATE body that hgw_update_validate accepted. */
struct hgw_upd_iter {
	const uint8_t *p, *end;
	uint8_t kind, family;
	uint16_t left;
	uint32_t origin;
	struct hgw_addr gateway;
};
void hgw_update_iter_init(struct hgw_upd_iter *it, const uint8_t *body, size_t len);
int hgw_update_next(struct hgw_upd_iter *it, struct hgw_upd_item *item); /* 1, or 0 at the end */

/* Builds UPDATE frames of at most cap bytes. Add items in any order: a new
 * section starts whenever kind, family, origin or gateway changes. */
struct hgw_upd_builder {
	uint8_t *buf;
	size_t cap, len;
	size_t sec_off;		/* 0 when no section is open */
	uint16_t sec_count;
	uint8_t sec_kind, sec_family;
	uint32_t sec_origin;
	struct hgw_addr sec_gateway;
	unsigned nitems;
};
void hgw_upd_begin(struct hgw_upd_builder *b, uint8_t *buf, size_t cap);
/* 0 when added, -1 when the frame is full (finish it and begin another) or
 * the item is invalid. */
int hgw_upd_add(struct hgw_upd_builder *b, const struct hgw_upd_item *item);
/* The frame's length, or 0 when it holds no item. */
size_t hgw_upd_finish(struct hgw_upd_builder *b);

/*
 * MEMBERS: the nodes a node holds sessions with ("up") or just lost ("down"),
 * so that a node that knows one seed learns and dials the rest.
 */
#define HGW_MEMBER_UP	1
#define HGW_MEMBER_DOWN	2

struct hgw_member {
	uint8_t op;
	uint16_t port;
	uint32_t node_id;
	struct hgw_addr addr;
};

/* Encodes members from *first on while they fit in cap; advances *first.
 * Returns the frame length, 0 when none fits. */
size_t hgw_members_encode(uint8_t *buf, size_t cap, const struct hgw_member *m, size_t n,
    size_t *first);
long hgw_members_validate(const uint8_t *body, size_t len, struct hgw_err *err);
/* Walks a validated body: *off starts at 0; 1 per member, 0 at the end. */
int hgw_members_next(const uint8_t *body, size_t len, size_t *off, struct hgw_member *m);

/*
 * LEASE: subnet claims of the cluster network, each with its owner and the
 * time (Unix ms) of the claim, so the older claim wins everywhere.
 */
#define HGW_LEASE_CLAIM		1
#define HGW_LEASE_RELEASE	2
#define HGW_LEASE_F_ACTIVE	0x01	/* the sender holds a session with the owner */
#define HGW_LEASE_F_SETTLED	0x02	/* the sender is the owner and its lease has settled */

struct hgw_lease {
	uint8_t op;
	uint8_t flags;
	uint32_t owner;
	uint64_t claim_ms;
	uint32_t unseen_ms;	/* how long the sender has not seen the owner live (0: active) */
	struct hgw_prefix prefix;
};

size_t hgw_leases_encode(uint8_t *buf, size_t cap, const struct hgw_lease *l, size_t n,
    size_t *first);
long hgw_leases_validate(const uint8_t *body, size_t len, struct hgw_err *err);
int hgw_leases_next(const uint8_t *body, size_t len, size_t *off, struct hgw_lease *l);

#endif
