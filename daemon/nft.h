/* nft.h: hgw's packet filter rules through libnftables: the masquerade of
 * container traffic leaving the cluster network (flanneld's --ip-masq) in a
 * table of our own, accept rules in the host's forward chains that would drop
 * cluster traffic, and detection of iptables-legacy rules we cannot see into.
 *
 * Our table: "table inet hgw", chain "postrouting" (nat, srcnat priority).
 * The accept rules carry the comment NFT_FORWARD_TAG; nothing else in the
 * host's tables is ever touched. */
#ifndef HGW_NFT_H
#define HGW_NFT_H

#include <stddef.h>

#include "addr.h"

#define NFT_TABLE_FAMILY	"inet"
#define NFT_TABLE		"hgw"
#define NFT_MASQ_CHAIN		"postrouting"
#define NFT_FORWARD_TAG		"hgw-forward"
#define NFT_MAX_NETS		16
#define NFT_MAX_CHAINS		8

struct nft;

struct nft_masq_params {
	struct hgw_prefix cluster[NFT_MAX_NETS];	/* cluster networks, both families */
	size_t ncluster;
	struct hgw_prefix own[NFT_MAX_NETS];	/* this node's container subnets */
	size_t nown;
};

/* A base chain on the forward hook that would drop (policy drop). */
struct nft_chain_ref {
	char family[8];		/* ip, ip6 or inet */
	char table[64];
	char chain[64];
};

struct nft *nft_new(void);
void nft_free(struct nft *n);

/* Pure text generation (unit-tested). Length written, or -1 when it does not
 * fit or a prefix is not IPv4/IPv6. nft_masq_ruleset writes one transaction
 * that replaces our table; *nrules (if not NULL) gets how many rules it has. */
int nft_masq_ruleset(const struct nft_masq_params *p, char *buf, size_t len, int *nrules);
/* The accept rules for chain c (insert at the top), for the families it sees. */
int nft_forward_rules(const struct nft_chain_ref *c, const struct nft_masq_params *p,
    char *buf, size_t len, int *nrules);
/* Parses `nft list chains` output: the forward-hook base chains with policy drop
 * (our own table excluded). Returns how many, at most max. */
int nft_parse_drop_chains(const char *listing, struct nft_chain_ref *out, int max);

/* Replaces our table in one transaction (idempotent). 0 or -1 (logged). */
int nft_masq_apply(struct nft *n, const struct nft_masq_params *p);
int nft_masq_remove(struct nft *n);		/* 0 also when it was not there */
/* 1: our table holds exactly the rules p gives; 0: missing or altered; -1: error. */
int nft_masq_check(struct nft *n, const struct nft_masq_params *p);

/* Accept rules for the cluster networks in every forward chain that would
 * drop, replacing ours there (one transaction). 0 or -1 (logged). */
int nft_forward_apply(struct nft *n, const struct nft_masq_params *p);
int nft_forward_remove(struct nft *n);		/* every rule tagged NFT_FORWARD_TAG */
/* 1: every drop chain holds our rules; 0: some are missing; -1: error. */
int nft_forward_check(struct nft *n, const struct nft_masq_params *p);
/* How many forward chains would drop (after the last apply or check). */
int nft_forward_nchains(const struct nft *n);

/* iptables-legacy: tables in use (/proc/net/ip{,6}_tables_names), and with
 * iptables-legacy-save, a POSTROUTING MASQUERADE or a FORWARD policy DROP.
 * 1 with a description in msg, 0 none. Never changes anything. */
int nft_legacy_conflicts(char *msg, size_t len);

#endif
