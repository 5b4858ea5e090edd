/* nft.c: hgw's masquerade table and forward accept rules through libnftables,
 * and the detection of iptables-legacy rules that nftables cannot show. */
#include "nft.h"

#include <errno.h>
#include <nftables/libnftables.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"

#define CMD_MAX		16384
#define NFT_MCAST4	"224.0.0.0/4"
#define NFT_MCAST6	"ff00::/8"

struct nft {
	struct nft_ctx *ctx;
	int ndrop;			/* forward chains that would drop, last seen */
	char cmd[CMD_MAX];
};

/* Text generation. */

struct sbuf {
	char *p;
	size_t len, off;
	int bad;
};

static void __attribute__((format(printf, 2, 3)))
put(struct sbuf *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (s->bad)
		return;
	va_start(ap, fmt);
	n = vsnprintf(s->p + s->off, s->len - s->off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= s->len - s->off) {
		s->bad = 1;
		return;
	}
	s->off += (size_t)n;
}

/* "{ a, b }" of the prefixes of one family; 0 when there are none. */
static int
put_set(struct sbuf *s, const struct hgw_prefix *list, size_t n, int family)
{
	char b[HGW_ADDRSTRLEN];
	size_t i;
	int k = 0;

	for (i = 0; i < n; i++) {
		if (list[i].family != family)
			continue;
		put(s, "%s%s", k++ ? ", " : "{ ", hgw_prefix_fmt(&list[i], b, sizeof(b)));
	}
	if (k)
		put(s, " }");
	return k;
}

static int
count_family(const struct hgw_prefix *list, size_t n, int family)
{
	size_t i;
	int k = 0;

	for (i = 0; i < n; i++)
		k += list[i].family == family;
	return k;
}

static int
params_ok(const struct nft_masq_params *p)
{
	size_t i;

	if (p->ncluster > NFT_MAX_NETS || p->nown > NFT_MAX_NETS)
		return 0;
	for (i = 0; i < p->ncluster; i++)
		if (p->cluster[i].family != AF_INET && p->cluster[i].family != AF_INET6)
			return 0;
	for (i = 0; i < p->nown; i++)
		if (p->own[i].family != AF_INET && p->own[i].family != AF_INET6)
			return 0;
	return 1;
}

/* flanneld's --ip-masq, per family:
 *   cluster -> cluster: untouched (pods see each other's addresses);
 *   cluster -> anything but multicast: masqueraded (leaves the cluster);
 *   outside -> our own subnet: untouched (replies come back through us);
 *   outside -> the rest of the cluster: masqueraded (replies come back to us). */
static void
masq_family(struct sbuf *s, const struct nft_masq_params *p, int family, int *nrules)
{
	const char *f = family == AF_INET ? "ip" : "ip6";
	const char *mcast = family == AF_INET ? NFT_MCAST4 : NFT_MCAST6;

	if (count_family(p->cluster, p->ncluster, family) == 0)
		return;
	put(s, "\t\t%s saddr ", f);
	put_set(s, p->cluster, p->ncluster, family);
	put(s, " %s daddr ", f);
	put_set(s, p->cluster, p->ncluster, family);
	put(s, " return\n");
	put(s, "\t\t%s saddr ", f);
	put_set(s, p->cluster, p->ncluster, family);
	put(s, " %s daddr != %s masquerade fully-random\n", f, mcast);
	*nrules += 2;
	if (count_family(p->own, p->nown, family) > 0) {
		put(s, "\t\t%s saddr != ", f);
		put_set(s, p->cluster, p->ncluster, family);
		put(s, " %s daddr ", f);
		put_set(s, p->own, p->nown, family);
		put(s, " return\n");
		*nrules += 1;
	}
	put(s, "\t\t%s saddr != ", f);
	put_set(s, p->cluster, p->ncluster, family);
	put(s, " %s daddr ", f);
	put_set(s, p->cluster, p->ncluster, family);
	put(s, " masquerade fully-random\n");
	*nrules += 1;
}

int
nft_masq_ruleset(const struct nft_masq_params *p, char *buf, size_t len, int *nrules)
{
	struct sbuf s = { buf, len, 0, 0 };
	int n = 0;

	if (len == 0 || !params_ok(p))
		return -1;
	/* add + delete + define: one transaction, whether or not it existed. */
	put(&s, "add table %s %s\n", NFT_TABLE_FAMILY, NFT_TABLE);
	put(&s, "delete table %s %s\n", NFT_TABLE_FAMILY, NFT_TABLE);
	put(&s, "table %s %s {\n", NFT_TABLE_FAMILY, NFT_TABLE);
	put(&s, "\tchain %s {\n", NFT_MASQ_CHAIN);
	put(&s, "\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
	masq_family(&s, p, AF_INET, &n);
	masq_family(&s, p, AF_INET6, &n);
	put(&s, "\t}\n}\n");
	if (s.bad)
		return -1;
	if (nrules)
		*nrules = n;
	return (int)s.off;
}

int
nft_forward_rules(const struct nft_chain_ref *c, const struct nft_masq_params *p,
    char *buf, size_t len, int *nrules)
{
	struct sbuf s = { buf, len, 0, 0 };
	static const int fams[2] = { AF_INET, AF_INET6 };
	static const char *dirs[2] = { "saddr", "daddr" };
	int n = 0, i, k;

	if (len == 0 || !params_ok(p))
		return -1;
	buf[0] = '\0';
	for (i = 0; i < 2; i++) {
		const char *f = fams[i] == AF_INET ? "ip" : "ip6";

		if (strcmp(c->family, "inet") != 0 && strcmp(c->family, f) != 0)
			continue;
		if (count_family(p->cluster, p->ncluster, fams[i]) == 0)
			continue;
		/* Inserted at the top, the daddr rule last so it ends up first:
		 * the order does not matter, both accept. */
		for (k = 0; k < 2; k++) {
			put(&s, "insert rule %s %s %s %s %s ", c->family, c->table, c->chain, f, dirs[k]);
			put_set(&s, p->cluster, p->ncluster, fams[i]);
			put(&s, " counter accept comment \"%s\"\n", NFT_FORWARD_TAG);
			n++;
		}
	}
	if (s.bad)
		return -1;
	if (nrules)
		*nrules = n;
	return (int)s.off;
}

/* Listing parser. */

static int
name_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.'))
			return 0;
	return 1;
}

/* Walks a listing line by line, tracking the table and chain; fn sees each
 * line inside a chain. */
static void
walk(const char *text, void (*fn)(void *arg, const struct nft_chain_ref *c,
    const char *line), void *arg)
{
	struct nft_chain_ref cur;
	char line[1024];
	const char *p = text, *nl;
	int in_chain = 0;

	memset(&cur, 0, sizeof(cur));
	while (p && *p) {
		size_t l;
		char *t;

		nl = strchr(p, '\n');
		l = nl ? (size_t)(nl - p) : strlen(p);
		if (l >= sizeof(line))
			l = sizeof(line) - 1;
		memcpy(line, p, l);
		line[l] = '\0';
		p = nl ? nl + 1 : NULL;
		for (t = line; *t == ' ' || *t == '\t'; t++)
			;
		if (strncmp(t, "table ", 6) == 0) {
			memset(&cur, 0, sizeof(cur));
			if (sscanf(t, "table %7s %63s", cur.family, cur.table) != 2)
				memset(&cur, 0, sizeof(cur));
			in_chain = 0;
		} else if (strncmp(t, "chain ", 6) == 0) {
			in_chain = sscanf(t, "chain %63s", cur.chain) == 1 && cur.table[0];
		} else if (strcmp(t, "}") == 0) {
			in_chain = 0;
		} else if (in_chain && name_ok(cur.family) && name_ok(cur.table) &&
		    name_ok(cur.chain)) {
			fn(arg, &cur, t);
		}
	}
}

struct drop_walk {
	struct nft_chain_ref *out;
	int max, n, drop_only;
};

static void
drop_line(void *arg, const struct nft_chain_ref *c, const char *line)
{
	struct drop_walk *w = arg;

	if (strstr(line, "hook forward") == NULL ||
	    (w->drop_only && strstr(line, "policy drop") == NULL))
		return;
	if (strcmp(c->family, NFT_TABLE_FAMILY) == 0 && strcmp(c->table, NFT_TABLE) == 0)
		return;
	if (strcmp(c->family, "ip") != 0 && strcmp(c->family, "ip6") != 0 &&
	    strcmp(c->family, "inet") != 0)
		return;
	if (w->n < w->max)
		w->out[w->n++] = *c;
}

static int
forward_chains(const char *listing, struct nft_chain_ref *out, int max, int drop_only)
{
	struct drop_walk w = { out, max, 0, drop_only };

	walk(listing, drop_line, &w);
	return w.n;
}

int
nft_parse_drop_chains(const char *listing, struct nft_chain_ref *out, int max)
{
	return forward_chains(listing, out, max, 1);
}

/* Running commands. */

struct nft *
nft_new(void)
{
	struct nft *n = calloc(1, sizeof(*n));

	if (n == NULL)
		return NULL;
	if ((n->ctx = nft_ctx_new(NFT_CTX_DEFAULT)) == NULL) {
		free(n);
		return NULL;
	}
	nft_ctx_buffer_output(n->ctx);
	nft_ctx_buffer_error(n->ctx);
	return n;
}

void
nft_free(struct nft *n)
{
	if (n == NULL)
		return;
	nft_ctx_free(n->ctx);
	free(n);
}

/* Runs one buffer (one transaction). 0, or -1 with the error text in *err. */
static int
run(struct nft *n, const char *cmd, int handles, const char **out, const char **err)
{
	int r;

	nft_ctx_output_set_flags(n->ctx, handles ? NFT_CTX_OUTPUT_HANDLE : 0);
	r = nft_run_cmd_from_buffer(n->ctx, cmd);
	if (out)
		*out = nft_ctx_get_output_buffer(n->ctx);
	*err = nft_ctx_get_error_buffer(n->ctx);
	return r == 0 ? 0 : -1;
}

static void
log_nft_err(const char *what, const char *err)
{
	char one[256];
	size_t l = strcspn(err ? err : "", "\n");

	if (l >= sizeof(one))
		l = sizeof(one) - 1;
	memcpy(one, err ? err : "", l);
	one[l] = '\0';
	log_warnx("nft: %s: %s", what, one[0] ? one : "failed");
}

int
nft_masq_apply(struct nft *n, const struct nft_masq_params *p)
{
	const char *err;

	if (nft_masq_ruleset(p, n->cmd, sizeof(n->cmd), NULL) < 0) {
		log_warnx("nft: the masquerade rules do not fit");
		return -1;
	}
	if (run(n, n->cmd, 0, NULL, &err) < 0) {
		log_nft_err("cannot install table " NFT_TABLE_FAMILY " " NFT_TABLE, err);
		return -1;
	}
	return 0;
}

int
nft_masq_remove(struct nft *n)
{
	const char *err;

	/* add first: deleting what is not there is an error. */
	if (run(n, "add table " NFT_TABLE_FAMILY " " NFT_TABLE "\n"
	    "delete table " NFT_TABLE_FAMILY " " NFT_TABLE "\n", 0, NULL, &err) < 0) {
		log_nft_err("cannot remove table " NFT_TABLE_FAMILY " " NFT_TABLE, err);
		return -1;
	}
	return 0;
}

struct count_walk {
	const char *chain, *tag;
	int n, hooked;
};

static void
count_line(void *arg, const struct nft_chain_ref *c, const char *line)
{
	struct count_walk *w = arg;

	if (w->chain && strcmp(c->chain, w->chain) != 0)
		return;
	if (strstr(line, "hook postrouting") != NULL && strstr(line, "type nat") != NULL)
		w->hooked = 1;
	else if (w->tag == NULL && (strstr(line, " return") != NULL ||
	    strstr(line, " masquerade") != NULL))
		w->n++;
	else if (w->tag != NULL && strstr(line, w->tag) != NULL)
		w->n++;
}

static int
missing(const char *err)
{
	return err && (strstr(err, "No such file or directory") != NULL ||
	    strstr(err, "does not exist") != NULL);
}

int
nft_masq_check(struct nft *n, const struct nft_masq_params *p)
{
	struct count_walk w = { NFT_MASQ_CHAIN, NULL, 0, 0 };
	const char *out, *err;
	int want;

	if (nft_masq_ruleset(p, n->cmd, sizeof(n->cmd), &want) < 0)
		return -1;
	if (run(n, "list table " NFT_TABLE_FAMILY " " NFT_TABLE, 0, &out, &err) < 0) {
		if (missing(err))
			return 0;
		log_nft_err("cannot list table " NFT_TABLE_FAMILY " " NFT_TABLE, err);
		return -1;
	}
	walk(out, count_line, &w);
	return w.hooked && w.n == want;
}

/* The forward chains that would drop, now. -1 on error. */
static int
drop_chains(struct nft *n, struct nft_chain_ref *out, int max)
{
	const char *list, *err;
	char *copy;
	int k;

	if (run(n, "list chains", 0, &list, &err) < 0) {
		log_nft_err("cannot list chains", err);
		return -1;
	}
	if ((copy = strdup(list ? list : "")) == NULL)
		return -1;
	k = nft_parse_drop_chains(copy, out, max);
	free(copy);
	return k;
}

struct handle_walk {
	struct sbuf *s;
	int n;
};

static void
handle_line(void *arg, const struct nft_chain_ref *c, const char *line)
{
	struct handle_walk *w = arg;
	const char *h;
	unsigned long handle;

	if (strstr(line, "comment \"" NFT_FORWARD_TAG "\"") == NULL ||
	    (h = strstr(line, "# handle ")) == NULL || sscanf(h, "# handle %lu", &handle) != 1)
		return;
	put(w->s, "delete rule %s %s %s handle %lu\n", c->family, c->table, c->chain, handle);
	w->n++;
}

/* Appends to s a delete for each tagged rule in every forward-hook chain.
 * Returns how many, or -1. */
static int
delete_tagged(struct nft *n, struct sbuf *s)
{
	struct nft_chain_ref all[NFT_MAX_CHAINS * 2];
	struct handle_walk hw = { s, 0 };
	const char *out, *err;
	char cmd[256], *copy;
	int k, i;

	/* Every forward-hook chain, whatever its policy: ours may have been
	 * added while it dropped. */
	if (run(n, "list chains", 0, &out, &err) < 0) {
		log_nft_err("cannot list chains", err);
		return -1;
	}
	if ((copy = strdup(out ? out : "")) == NULL)
		return -1;
	k = forward_chains(copy, all, (int)(sizeof(all) / sizeof(all[0])), 0);
	free(copy);
	for (i = 0; i < k; i++) {
		if (snprintf(cmd, sizeof(cmd), "list chain %s %s %s", all[i].family, all[i].table,
		    all[i].chain) >= (int)sizeof(cmd))
			continue;
		if (run(n, cmd, 1, &out, &err) < 0)
			continue;	/* it went meanwhile */
		if ((copy = strdup(out ? out : "")) == NULL)
			return -1;
		walk(copy, handle_line, &hw);
		free(copy);
	}
	return hw.n;
}

int
nft_forward_apply(struct nft *n, const struct nft_masq_params *p)
{
	struct nft_chain_ref drop[NFT_MAX_CHAINS];
	struct sbuf s = { n->cmd, sizeof(n->cmd), 0, 0 };
	const char *err;
	int k, i, len, ndel;

	if ((k = drop_chains(n, drop, NFT_MAX_CHAINS)) < 0)
		return -1;
	n->ndrop = k;
	n->cmd[0] = '\0';
	if ((ndel = delete_tagged(n, &s)) < 0)
		return -1;
	for (i = 0; i < k; i++) {
		if ((len = nft_forward_rules(&drop[i], p, s.p + s.off, s.len - s.off, NULL)) < 0) {
			log_warnx("nft: the forward rules do not fit");
			return -1;
		}
		s.off += (size_t)len;
	}
	if (s.bad) {
		log_warnx("nft: the forward rules do not fit");
		return -1;
	}
	if (s.off == 0)
		return 0;
	if (run(n, n->cmd, 0, NULL, &err) < 0) {
		log_nft_err("cannot add the forward accept rules", err);
		return -1;
	}
	return 0;
}

int
nft_forward_remove(struct nft *n)
{
	struct sbuf s = { n->cmd, sizeof(n->cmd), 0, 0 };
	const char *err;
	int k;

	n->cmd[0] = '\0';
	if ((k = delete_tagged(n, &s)) < 0)
		return -1;
	if (s.bad) {
		log_warnx("nft: too many forward rules to remove at once");
		return -1;
	}
	if (k == 0)
		return 0;
	if (run(n, n->cmd, 0, NULL, &err) < 0) {
		log_nft_err("cannot remove the forward accept rules", err);
		return -1;
	}
	return 0;
}

int
nft_forward_check(struct nft *n, const struct nft_masq_params *p)
{
	struct nft_chain_ref drop[NFT_MAX_CHAINS];
	const char *out, *err;
	char cmd[256], *copy;
	int k, i, want;

	if ((k = drop_chains(n, drop, NFT_MAX_CHAINS)) < 0)
		return -1;
	n->ndrop = k;
	for (i = 0; i < k; i++) {
		struct count_walk w = { NULL, "comment \"" NFT_FORWARD_TAG "\"", 0, 0 };

		if (nft_forward_rules(&drop[i], p, n->cmd, sizeof(n->cmd), &want) < 0)
			return -1;
		if (snprintf(cmd, sizeof(cmd), "list chain %s %s %s", drop[i].family,
		    drop[i].table, drop[i].chain) >= (int)sizeof(cmd))
			return -1;
		if (run(n, cmd, 0, &out, &err) < 0)
			return 0;
		if ((copy = strdup(out ? out : "")) == NULL)
			return -1;
		walk(copy, count_line, &w);
		free(copy);
		if (w.n != want)
			return 0;
	}
	return 1;
}

int
nft_forward_nchains(const struct nft *n)
{
	return n->ndrop;
}

/* iptables-legacy. */

static int
read_names(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "r");
	char line[64];
	size_t off = 0;

	out[0] = '\0';
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '\0')
			continue;
		if (off + strlen(line) + 2 < len) {
			off += (size_t)snprintf(out + off, len - off, "%s%s", off ? " " : "", line);
		}
	}
	fclose(f);
	return off > 0;
}

/* Scans `iptables-legacy-save` style output for what would fight us. */
static int
scan_save(const char *prog, char *what, size_t len)
{
	char cmd[128], line[512];
	FILE *f;
	int hit = 0;

	what[0] = '\0';
	if (snprintf(cmd, sizeof(cmd), "%s 2>/dev/null", prog) >= (int)sizeof(cmd) ||
	    (f = popen(cmd, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, ":FORWARD DROP", 13) == 0 && !strstr(what, "FORWARD")) {
			strncat(what, " FORWARD policy DROP;", len - strlen(what) - 1);
			hit = 1;
		} else if (strncmp(line, "-A POSTROUTING", 14) == 0 && strstr(line, "MASQUERADE") &&
		    !strstr(what, "MASQUERADE")) {
			strncat(what, " a POSTROUTING MASQUERADE rule;", len - strlen(what) - 1);
			hit = 1;
		}
	}
	pclose(f);
	return hit;
}

int
nft_legacy_conflicts(char *msg, size_t len)
{
	char t4[128], t6[128], w4[160], w6[160];
	int has4 = read_names("/proc/net/ip_tables_names", t4, sizeof(t4));
	int has6 = read_names("/proc/net/ip6_tables_names", t6, sizeof(t6));

	if (len)
		msg[0] = '\0';
	if (!has4 && !has6)
		return 0;
	w4[0] = w6[0] = '\0';
	if (has4)
		scan_save("iptables-legacy-save", w4, sizeof(w4));
	if (has6)
		scan_save("ip6tables-legacy-save", w6, sizeof(w6));
	snprintf(msg, len, "iptables-legacy tables in use (IPv4: %s; IPv6: %s)%s%s%s%s; "
	    "they run besides hgw's nftables rules and are left alone",
	    has4 ? t4 : "none", has6 ? t6 : "none",
	    w4[0] ? "; IPv4 has" : "", w4, w6[0] ? "; IPv6 has" : "", w6);
	return 1;
}
