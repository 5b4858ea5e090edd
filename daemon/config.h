/* config.h: hgwd's configuration: the FRR-like text grammar shared by the
 * config file and the shell's configure mode, normalized printing, defaults. */
#ifndef HGW_CONFIG_H
#define HGW_CONFIG_H

#include <net/if.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "wire.h"

#define CFG_DEFAULT_KEEPALIVE_MS	1000
#define CFG_DEFAULT_HOLD_MS		3000
#define CFG_DEFAULT_STARTUP_MS		5000
#define CFG_DEFAULT_GIVEUP_MS		30000
#define CFG_DEFAULT_GR_RESTART_S	120	/* graceful-restart restart-time */
#define CFG_DEFAULT_PROTO		77
#define CFG_DEFAULT_TABLE		254
#define CFG_DEFAULT_METRIC		20
#define CFG_DEFAULT_LEASE_HOLD_S	86400
#define CFG_DEFAULT_LEASE_FILE		LOCALSTATEDIR "/lib/hgw/lease"
#define CFG_DEFAULT_SUBNET_ENV		"/run/flannel/subnet.env"
#define CFG_DEFAULT_VXLAN_VNI		1
#define CFG_DEFAULT_VXLAN_PORT		4789
/* limits ...: what peers can make us hold (PROTOCOL.md, Security) */
#define CFG_DEFAULT_MEMBERS		256	/* learned members not yet in session */
#define CFG_DEFAULT_MEMBERS_PER_SENDER	64	/* ... of them from one peer */
#define CFG_MEMBERS_MAX			4096
#define CFG_DEFAULT_DIAL_RATE		50	/* new member dials a second ... */
#define CFG_DEFAULT_DIAL_BURST		64	/* ... and at once (a sender's list) */
#define CFG_DIAL_RATE_MAX		1000
#define CFG_DEFAULT_OUTPUT_BUDGET	(32ull * 1024 * 1024)	/* queued for all peers */
#define CFG_OUTPUT_BUDGET_MIN		(1ull * 1024 * 1024)
#define CFG_OUTPUT_BUDGET_MAX		(4ull * 1024 * 1024 * 1024)
#define CFG_DEFAULT_SESSIONS_PER_SOURCE	3	/* peer.h's PEER_MAX_SESSIONS */

#define CFG_PATH_MAX	1024
#define CFG_HTTP_MAX		4	/* http listen statements */
#define CFG_DEFAULT_HTTP_PORT	9179
#define CFG_PROTO_NAME_MAX	32
/* iproute2's protocol names: kernel protocol NAME */
#define CFG_RT_PROTOS		"/etc/iproute2/rt_protos"
#define CFG_RT_PROTOS_DIR	"/etc/iproute2/rt_protos.d"
#define CFG_RT_PROTOS_USR	"/usr/share/iproute2/rt_protos"

struct cfg_http {
	struct hgw_addr addr;
	uint16_t port;
};
#define CFG_IPMASQ_DEFAULT	(-1)	/* on when a cluster-network is set */

struct cfg_neighbor {
	struct hgw_addr addr;
	uint16_t port;
	uint32_t max_prefixes;		/* 0: the global limit */
	int third_party;		/* allow-third-party-gateway */
};

struct cfg_limits {
	uint32_t members, members_per_sender;
	uint32_t dial_rate, dial_burst;
	uint64_t output_budget;		/* bytes */
	uint32_t sessions_per_source;
};

struct config {
	char hostname[HGW_HOSTNAME_MAX + 1];
	int router;			/* a "router hgw" block exists */
	int router_line;		/* its line, for whole-config errors */
	char ifname[IFNAMSIZ];		/* with ifauto: filled in by the daemon */
	int ifauto;			/* interface auto (the default): see hostnet.h */
	struct hgw_addr address4, address6;	/* advertised next hops; unset: from the interface */
	uint32_t node_id;		/* 0: the interface's IPv4 address */
	uint16_t listen_port;
	struct hgw_prefix *networks;
	size_t nnetworks, networks_cap;
	struct cfg_neighbor *neighbors;
	size_t nneighbors, neighbors_cap;
	uint32_t keepalive_ms, hold_ms, startup_ms;
	uint32_t giveup_ms;		/* a silent learned member is forgotten after this */
	int gr_on;			/* graceful-restart (the default); 0: no graceful-restart */
	uint16_t gr_restart_s;		/* its restart time, 1..3600 s */
	struct hgw_prefix *clusters;	/* cluster-network: accepted prefixes lie inside */
	size_t nclusters, clusters_cap;
	struct hgw_prefix *allows;	/* allow: sources accepted besides the LAN */
	size_t nallows, allows_cap;
	uint32_t max_prefixes;		/* per peer; 0: no limit */
	struct hgw_prefix *static_hosts;	/* static-hosts: may announce without a lease */
	size_t nstatic_hosts, static_hosts_cap;
	struct cfg_limits limits;
	/* encap vxlan [vni N] [port P]: VXLAN to gateways that are not on-link */
	int encap_vxlan;
	uint32_t vxlan_vni;
	uint16_t vxlan_port;
	struct hgw_prefix *meshnets;	/* mesh-network: members beyond the LAN (with encap vxlan) */
	size_t nmeshnets, meshnets_cap;
	/* Leases: "cluster-network P subnet-length N" per family ([0] IPv4, [1] IPv6). */
	struct hgw_prefix lease_net[2];
	uint8_t lease_len[2];		/* 0: no leasing in that family */
	uint32_t lease_hold_s;
	char lease_file[CFG_PATH_MAX];
	char subnet_env[CFG_PATH_MAX];
	int ipmasq;			/* ip-masq: CFG_IPMASQ_DEFAULT, 0 or 1; see config_ipmasq() */
	int ip_forward;			/* ip-forward enable: turn the sysctls on */
	int discovery;			/* discovery multicast */
	char secret_file[CFG_PATH_MAX];	/* TLS 1.3 with an external pre-shared key */
	char tls_ca[CFG_PATH_MAX], tls_cert[CFG_PATH_MAX], tls_key[CFG_PATH_MAX];
	char tls_crl[CFG_PATH_MAX];	/* "": no revocation list */
	int kernel_on;
	uint8_t kernel_proto;
	char kernel_proto_name[CFG_PROTO_NAME_MAX];	/* as written; "": a number */
	uint32_t kernel_table, kernel_metric;
	/* log syslog|stderr|file PATH [LEVEL]: one destination, the last wins */
	int log_dest;			/* enum log_dest; 0: stderr, syslog with -d */
	char log_file[CFG_PATH_MAX];
	int log_level;			/* LOG_EMERG..LOG_DEBUG; -1: not given */
	/* http listen ADDRESS [port N]: metrics and health endpoints */
	struct cfg_http http[CFG_HTTP_MAX];
	size_t nhttp;
};

enum cfg_ctx {
	CFG_CTX_TOP,
	CFG_CTX_ROUTER,
};

void config_init(struct config *c);
void config_free(struct config *c);
int config_copy(struct config *dst, const struct config *src);

/* Reads a whole file. On error, err holds "FILE:LINE: message". */
int config_load(const char *path, struct config *c, char *err, size_t errlen);
/* Applies one statement in context *ctx (which it may change). The file
 * parser and the shell's configure mode both come here. 0, or -1 with err. */
int config_statement(struct config *c, enum cfg_ctx *ctx, const char *line,
    int lineno, char *err, size_t errlen);
/* Checks that need the whole configuration. 0, or -1 with err. */
int config_check(const struct config *c, char *err, size_t errlen);
/* Writes the configuration normalized: defaults left out, sorted lists. */
void config_write(const struct config *c, FILE *f);
/* Writes c to path atomically (the previous file kept as path.bak), with a
 * header line; 0, or -1 with err set. */
int config_save(const struct config *c, const char *path, char *err, size_t errlen);

/* config_limits.c: "limits ..." and "static-hosts PREFIX" (router_statement
 * passes them on); their defaults; printing them. */
void config_limits_init(struct cfg_limits *l);
int config_limits_statement(struct config *c, int neg, char **w, int n, char *err,
    size_t errlen);
void config_limits_write(const struct config *c, FILE *f);
/* Is a (a session's source) inside a static-hosts prefix? */
int config_static_host(const struct config *c, const struct hgw_addr *a);

/* A route protocol name (iproute2's rt_protos files, then the built-in
 * "hgw" = 77) as its number 0..255; -1 when unknown. */
int config_proto_lookup(const char *name);

/* Does hgwd masquerade (ip-masq, and FLANNEL_IPMASQ=true)? */
int config_ipmasq(const struct config *c);
int config_has_network(const struct config *c, const struct hgw_prefix *p);
const struct cfg_neighbor *config_find_neighbor(const struct config *c,
    const struct hgw_addr *a);

#endif
