/* config.c: parsing and checking hgwd's configuration text (config_write.c
 * prints it). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "util.h"

#define MAX_WORDS 16

void
config_init(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->listen_port = HGW_DEFAULT_PORT;
	c->keepalive_ms = CFG_DEFAULT_KEEPALIVE_MS;
	c->hold_ms = CFG_DEFAULT_HOLD_MS;
	c->startup_ms = CFG_DEFAULT_STARTUP_MS;
	c->giveup_ms = CFG_DEFAULT_GIVEUP_MS;
	c->gr_on = 1;
	c->gr_restart_s = CFG_DEFAULT_GR_RESTART_S;
	c->kernel_on = 1;
	c->kernel_proto = CFG_DEFAULT_PROTO;
	c->kernel_table = CFG_DEFAULT_TABLE;
	c->kernel_metric = CFG_DEFAULT_METRIC;
	c->lease_hold_s = CFG_DEFAULT_LEASE_HOLD_S;
	c->log_level = -1;
	c->ifauto = 1;
	c->ipmasq = CFG_IPMASQ_DEFAULT;
	snprintf(c->lease_file, sizeof(c->lease_file), "%s", CFG_DEFAULT_LEASE_FILE);
	snprintf(c->subnet_env, sizeof(c->subnet_env), "%s", CFG_DEFAULT_SUBNET_ENV);
	c->vxlan_vni = CFG_DEFAULT_VXLAN_VNI;
	c->vxlan_port = CFG_DEFAULT_VXLAN_PORT;
	config_limits_init(&c->limits);
}

void
config_free(struct config *c)
{
	free(c->networks);
	free(c->neighbors);
	free(c->clusters);
	free(c->allows);
	free(c->meshnets);
	free(c->static_hosts);
	c->static_hosts = NULL;
	c->nstatic_hosts = c->static_hosts_cap = 0;
	c->meshnets = NULL;
	c->nmeshnets = c->meshnets_cap = 0;
	c->networks = NULL;
	c->neighbors = NULL;
	c->clusters = NULL;
	c->allows = NULL;
	c->nnetworks = c->networks_cap = 0;
	c->nneighbors = c->neighbors_cap = 0;
	c->nclusters = c->clusters_cap = 0;
	c->nallows = c->allows_cap = 0;
}

static int
copy_list(void **dst, size_t *cap, const void *src, size_t n, size_t sz)
{
	*dst = NULL;
	*cap = 0;
	if (n == 0)
		return 0;
	if (grow_array(dst, cap, n, sz) < 0)
		return -1;
	memcpy(*dst, src, n * sz);
	return 0;
}

int
config_copy(struct config *dst, const struct config *src)
{
	*dst = *src;
	dst->networks = NULL;
	dst->neighbors = NULL;
	dst->clusters = NULL;
	dst->allows = NULL;
	dst->meshnets = NULL;
	dst->static_hosts = NULL;
	if (copy_list((void **)&dst->static_hosts, &dst->static_hosts_cap, src->static_hosts,
	    src->nstatic_hosts, sizeof(*dst->static_hosts)) < 0 ||
	    copy_list((void **)&dst->networks, &dst->networks_cap, src->networks,
	    src->nnetworks, sizeof(*dst->networks)) < 0 ||
	    copy_list((void **)&dst->neighbors, &dst->neighbors_cap, src->neighbors,
	    src->nneighbors, sizeof(*dst->neighbors)) < 0 ||
	    copy_list((void **)&dst->clusters, &dst->clusters_cap, src->clusters,
	    src->nclusters, sizeof(*dst->clusters)) < 0 ||
	    copy_list((void **)&dst->allows, &dst->allows_cap, src->allows,
	    src->nallows, sizeof(*dst->allows)) < 0 ||
	    copy_list((void **)&dst->meshnets, &dst->meshnets_cap, src->meshnets,
	    src->nmeshnets, sizeof(*dst->meshnets)) < 0) {
		config_free(dst);
		return -1;
	}
	return 0;
}

/* Splits a line into words, dropping a trailing "!" or "#" comment. */
static int
split(char *line, char **w, int max)
{
	int n = 0;
	char *p = line;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p == '\0' || *p == '!' || *p == '#')
			break;
		if (n == max)
			return -1;
		w[n++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			p++;
		if (*p)
			*p++ = '\0';
	}
	return n;
}

int
config_ipmasq(const struct config *c)
{
	if (c->ipmasq == CFG_IPMASQ_DEFAULT)
		return c->nclusters > 0;
	return c->ipmasq;
}

int
config_has_network(const struct config *c, const struct hgw_prefix *p)
{
	size_t i;

	for (i = 0; i < c->nnetworks; i++)
		if (hgw_prefix_eq(&c->networks[i], p))
			return 1;
	return 0;
}

const struct cfg_neighbor *
config_find_neighbor(const struct config *c, const struct hgw_addr *a)
{
	size_t i;

	for (i = 0; i < c->nneighbors; i++)
		if (hgw_addr_cmp(&c->neighbors[i].addr, a) == 0)
			return &c->neighbors[i];
	return NULL;
}

static int
st_network(struct config *c, int neg, char **w, int n, char *err, size_t errlen)
{
	struct hgw_prefix p;
	const char *why;
	char buf[HGW_ADDRSTRLEN], other[HGW_ADDRSTRLEN];
	size_t i;

	if (n != 2)
		return errf(err, errlen, "usage: %snetwork PREFIX", neg ? "no " : "");
	if (hgw_prefix_parse(w[1], &p, &why) < 0) {
		if (strcmp(why, "host bits set") == 0) {
			struct hgw_prefix m = p;

			hgw_prefix_mask(&m);
			return errf(err, errlen,
			    "network %s has host bits set (did you mean %s?)",
			    w[1], hgw_prefix_fmt(&m, buf, sizeof(buf)));
		}
		return errf(err, errlen, "network %s: %s", w[1], why);
	}
	for (i = 0; i < c->nnetworks; i++)
		if (hgw_prefix_eq(&c->networks[i], &p))
			break;
	if (neg) {
		if (i == c->nnetworks)
			return errf(err, errlen, "network %s is not configured", w[1]);
		memmove(&c->networks[i], &c->networks[i + 1],
		    (c->nnetworks - i - 1) * sizeof(p));
		c->nnetworks--;
		return 0;
	}
	if (i < c->nnetworks)
		return 0;	/* already there */
	if ((why = hgw_prefix_special(&p)) != NULL)
		return errf(err, errlen, "network %s: %s cannot be a container network",
		    w[1], why);
	for (i = 0; i < c->nnetworks; i++)
		if (hgw_prefix_overlaps(&c->networks[i], &p))
			return errf(err, errlen, "network %s overlaps network %s",
			    w[1], hgw_prefix_fmt(&c->networks[i], other, sizeof(other)));
	if (grow_array((void **)&c->networks, &c->networks_cap, c->nnetworks + 1,
	    sizeof(p)) < 0)
		return errf(err, errlen, "out of memory");
	c->networks[c->nnetworks++] = p;
	return 0;
}

static int
st_neighbor(struct config *c, int neg, char **w, int n, char *err, size_t errlen)
{
	struct hgw_addr a;
	unsigned long port = HGW_DEFAULT_PORT, maxp = 0;
	int third = 0, k;
	size_t i;

	if (n < 2 || (neg && n != 2))
		return errf(err, errlen, "usage: %sneighbor ADDRESS%s", neg ? "no " : "",
		    neg ? "" : " [port N] [max-prefixes N] [allow-third-party-gateway]");
	if (hgw_addr_parse(w[1], &a) < 0)
		return errf(err, errlen, "neighbor %s: not an IPv4 or IPv6 address", w[1]);
	if (hgw_addr_is_unspec(&a))
		return errf(err, errlen, "neighbor %s: unspecified address", w[1]);
	if ((a.family == AF_INET && a.bytes[0] >= 224) ||
	    (a.family == AF_INET6 && a.bytes[0] == 0xff))
		return errf(err, errlen, "neighbor %s: multicast or broadcast address", w[1]);
	for (k = 2; k < n; k++) {
		if (strcmp(w[k], "port") == 0 && k + 1 < n) {
			if (hgw_parse_uint(w[++k], 1, 65535, &port) < 0)
				return errf(err, errlen, "neighbor: port '%s' is not 1..65535", w[k]);
		} else if (strcmp(w[k], "max-prefixes") == 0 && k + 1 < n) {
			if (hgw_parse_uint(w[++k], 1, 0xffffffffUL, &maxp) < 0)
				return errf(err, errlen,
				    "neighbor: max-prefixes '%s' is not 1..4294967295", w[k]);
		} else if (strcmp(w[k], "allow-third-party-gateway") == 0)
			third = 1;
		else
			return errf(err, errlen, "neighbor: unknown or incomplete option '%s'", w[k]);
	}
	for (i = 0; i < c->nneighbors; i++)
		if (hgw_addr_cmp(&c->neighbors[i].addr, &a) == 0)
			break;
	if (neg) {
		if (i == c->nneighbors)
			return errf(err, errlen, "neighbor %s is not configured", w[1]);
		memmove(&c->neighbors[i], &c->neighbors[i + 1],
		    (c->nneighbors - i - 1) * sizeof(c->neighbors[0]));
		c->nneighbors--;
		return 0;
	}
	if (i == c->nneighbors) {
		if (grow_array((void **)&c->neighbors, &c->neighbors_cap,
		    c->nneighbors + 1, sizeof(c->neighbors[0])) < 0)
			return errf(err, errlen, "out of memory");
		c->nneighbors++;
	}
	c->neighbors[i].addr = a;
	c->neighbors[i].port = (uint16_t)port;
	c->neighbors[i].max_prefixes = (uint32_t)maxp;
	c->neighbors[i].third_party = third;
	return 0;
}

/* A list of prefixes under one keyword: cluster-network, allow. */
static int
st_prefix_list(struct hgw_prefix **list, size_t *n, size_t *cap, int neg, char **w,
    int nw, char *err, size_t errlen)
{
	struct hgw_prefix p;
	const char *why;
	size_t i;

	if (nw != 2)
		return errf(err, errlen, "usage: %s%s PREFIX", neg ? "no " : "", w[0]);
	if (hgw_prefix_parse(w[1], &p, &why) < 0)
		return errf(err, errlen, "%s %s: %s", w[0], w[1], why);
	for (i = 0; i < *n; i++)
		if (hgw_prefix_eq(&(*list)[i], &p))
			break;
	if (neg) {
		if (i == *n)
			return errf(err, errlen, "%s %s is not configured", w[0], w[1]);
		memmove(&(*list)[i], &(*list)[i + 1], (*n - i - 1) * sizeof(p));
		(*n)--;
		return 0;
	}
	if (i < *n)
		return 0;
	if (grow_array((void **)list, cap, *n + 1, sizeof(p)) < 0)
		return errf(err, errlen, "out of memory");
	(*list)[(*n)++] = p;
	return 0;
}

/* "encap none", "encap vxlan [vni N] [port P]" (options in any order) */
static int
st_encap(struct config *c, int neg, char **w, int n, char *err, size_t errlen)
{
	unsigned long vni = CFG_DEFAULT_VXLAN_VNI, port = CFG_DEFAULT_VXLAN_PORT;
	int k;

	if (neg || (n == 2 && strcmp(w[1], "none") == 0)) {
		if (neg && n != 1)
			goto usage;
		c->encap_vxlan = 0;
		c->vxlan_vni = CFG_DEFAULT_VXLAN_VNI;
		c->vxlan_port = CFG_DEFAULT_VXLAN_PORT;
		return 0;
	}
	if (n < 2 || strcmp(w[1], "vxlan") != 0)
		goto usage;
	for (k = 2; k < n; k += 2) {
		if (k + 1 >= n)
			goto usage;
		if (strcmp(w[k], "vni") == 0) {
			if (hgw_parse_uint(w[k + 1], 1, 16777215, &vni) < 0)
				return errf(err, errlen, "encap vxlan: vni '%s' is not 1..16777215",
				    w[k + 1]);
		} else if (strcmp(w[k], "port") == 0) {
			if (hgw_parse_uint(w[k + 1], 1, 65535, &port) < 0)
				return errf(err, errlen, "encap vxlan: port '%s' is not 1..65535",
				    w[k + 1]);
		} else
			goto usage;
	}
	c->encap_vxlan = 1;
	c->vxlan_vni = (uint32_t)vni;
	c->vxlan_port = (uint16_t)port;
	return 0;
usage:
	return errf(err, errlen, "usage: encap none | encap vxlan [vni N] [port P]");
}

/* "cluster-network P [subnet-length N]": accepted prefixes lie inside P;
 * with subnet-length, this node leases a subnet of that length from P. */
static int
st_cluster(struct config *c, int neg, char **w, int n, char *err, size_t errlen)
{
	struct hgw_prefix p;
	unsigned long len = 0;
	const char *why;
	int fi;

	if (n != 2 && !(n == 4 && strcmp(w[2], "subnet-length") == 0))
		return errf(err, errlen, "usage: %scluster-network PREFIX [subnet-length N]",
		    neg ? "no " : "");
	if (hgw_prefix_parse(w[1], &p, &why) < 0)
		return errf(err, errlen, "cluster-network %s: %s", w[1], why);
	fi = p.family == AF_INET ? 0 : 1;
	if (n == 4 && (hgw_parse_uint(w[3], (unsigned long)p.plen + 1,
	    (unsigned long)hgw_family_bits(p.family), &len) < 0 ||
	    len - p.plen > 24))
		return errf(err, errlen,
		    "cluster-network %s: subnet-length '%s' must be longer than /%u, at most /%d and at most 24 bits more",
		    w[1], w[3], p.plen, hgw_family_bits(p.family));
	if (st_prefix_list(&c->clusters, &c->nclusters, &c->clusters_cap, neg, w, 2,
	    err, errlen) < 0)
		return -1;
	if (neg) {
		if (c->lease_len[fi] && hgw_prefix_eq(&c->lease_net[fi], &p))
			c->lease_len[fi] = 0;
		return 0;
	}
	if (len) {
		if (c->lease_len[fi] && !hgw_prefix_eq(&c->lease_net[fi], &p))
			return errf(err, errlen,
			    "cluster-network %s: only one %s cluster network can have a subnet-length",
			    w[1], fi ? "IPv6" : "IPv4");
		c->lease_net[fi] = p;
		c->lease_len[fi] = (uint8_t)len;
	} else if (c->lease_len[fi] && hgw_prefix_eq(&c->lease_net[fi], &p))
		c->lease_len[fi] = 0;
	return 0;
}

/* "24h", "30m", "90s" or plain seconds. */
static int
parse_duration(const char *s, uint32_t *out)
{
	char buf[32];
	size_t n = strlen(s);
	unsigned long v, mul = 1;

	if (n == 0 || n >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	switch (buf[n - 1]) {
	case 'h': mul = 3600; buf[n - 1] = '\0'; break;
	case 'm': mul = 60; buf[n - 1] = '\0'; break;
	case 's': buf[n - 1] = '\0'; break;
	}
	if (hgw_parse_uint(buf, 1, 0xffffffffUL / mul, &v) < 0 || v * mul > 365UL * 86400)
		return -1;
	*out = (uint32_t)(v * mul);
	return 0;
}

static int
st_path(char *dst, const char *kw, const char *path, char *err, size_t errlen)
{
	if (strlen(path) >= CFG_PATH_MAX)
		return errf(err, errlen, "%s: path too long", kw);
	if (path[0] != '/')
		return errf(err, errlen, "%s: '%s' is not an absolute path", kw, path);
	strcpy(dst, path);
	return 0;
}

static int
st_tls(struct config *c, char **w, int n, char *err, size_t errlen)
{
	char ca[CFG_PATH_MAX] = "", cert[CFG_PATH_MAX] = "", key[CFG_PATH_MAX] = "";
	char crl[CFG_PATH_MAX] = "";
	int k;

	for (k = 1; k + 1 < n; k += 2) {
		char *dst = strcmp(w[k], "ca") == 0 ? ca : strcmp(w[k], "cert") == 0 ? cert :
		    strcmp(w[k], "key") == 0 ? key : strcmp(w[k], "crl") == 0 ? crl : NULL;

		if (dst == NULL)
			return errf(err, errlen, "tls: unknown option '%s'", w[k]);
		if (st_path(dst, w[k], w[k + 1], err, errlen) < 0)
			return -1;
	}
	if (k != n || !ca[0] || !cert[0] || !key[0])
		return errf(err, errlen, "usage: tls ca FILE cert FILE key FILE [crl FILE]");
	strcpy(c->tls_crl, crl);
	strcpy(c->tls_ca, ca);
	strcpy(c->tls_cert, cert);
	strcpy(c->tls_key, key);
	return 0;
}

static int
st_timers(struct config *c, char **w, int n, char *err, size_t errlen)
{
	uint32_t ka = c->keepalive_ms, hold = c->hold_ms, startup = c->startup_ms;
	uint32_t giveup = c->giveup_ms;
	int i;

	if (n < 3 || n % 2 == 0)
		return errf(err, errlen,
		    "usage: timers keepalive SECONDS hold SECONDS | timers startup SECONDS | timers giveup SECONDS");
	for (i = 1; i + 1 < n; i += 2) {
		uint32_t *dst;
		uint32_t min;

		if (strcmp(w[i], "keepalive") == 0) {
			dst = &ka;
			min = HGW_KEEPALIVE_MIN_MS;
		} else if (strcmp(w[i], "hold") == 0) {
			dst = &hold;
			min = HGW_HOLD_MIN_MS;
		} else if (strcmp(w[i], "startup") == 0) {
			dst = &startup;
			min = 0;
		} else if (strcmp(w[i], "giveup") == 0) {
			dst = &giveup;
			min = 1000;
		} else
			return errf(err, errlen, "timers: unknown timer '%s'", w[i]);
		if (hgw_parse_seconds_ms(w[i + 1], min, 3600000, dst) < 0)
			return errf(err, errlen,
			    "timers %s: '%s' is not a number of seconds from %u.%u to 3600 with at most one decimal",
			    w[i], w[i + 1], min / 1000, (min % 1000) / 100);
	}
	if (ka >= hold)
		return errf(err, errlen, "timers: keepalive must be less than hold");
	c->keepalive_ms = ka;
	c->hold_ms = hold;
	c->startup_ms = startup;
	c->giveup_ms = giveup;
	return 0;
}

static int
st_kernel(struct config *c, char **w, int n, char *err, size_t errlen)
{
	unsigned long v;
	int i;

	if (n == 2 && strcmp(w[1], "off") == 0) {
		c->kernel_on = 0;
		return 0;
	}
	if (n == 2 && strcmp(w[1], "on") == 0) {
		c->kernel_on = 1;
		return 0;
	}
	if (n < 3 || n % 2 == 0)
		return errf(err, errlen,
		    "usage: kernel [protocol N] [table N] [metric N] | kernel off");
	for (i = 1; i + 1 < n; i += 2) {
		if (strcmp(w[i], "protocol") == 0) {
			int pr;

			if (w[i + 1][0] >= '0' && w[i + 1][0] <= '9') {
				if (hgw_parse_uint(w[i + 1], 5, 255, &v) < 0)
					return errf(err, errlen,
					    "kernel protocol '%s' is not 5..255 (0..4 belong to the kernel)",
					    w[i + 1]);
				c->kernel_proto = (uint8_t)v;
				c->kernel_proto_name[0] = '\0';
				continue;
			}
			if (strlen(w[i + 1]) >= CFG_PROTO_NAME_MAX ||
			    (pr = config_proto_lookup(w[i + 1])) < 0)
				return errf(err, errlen,
				    "kernel protocol '%s': not a number nor a name in "
				    CFG_RT_PROTOS " or " CFG_RT_PROTOS_DIR "/*.conf", w[i + 1]);
			if (pr < 5)
				return errf(err, errlen,
				    "kernel protocol '%s' is not 5..255 (0..4 belong to the kernel)",
				    w[i + 1]);
			c->kernel_proto = (uint8_t)pr;
			strcpy(c->kernel_proto_name, w[i + 1]);
		} else if (strcmp(w[i], "table") == 0) {
			if (hgw_parse_uint(w[i + 1], 1, 0xffffffffUL, &v) < 0 ||
			    v == 255)
				return errf(err, errlen,
				    "kernel table '%s' is not 1..4294967295 (255 is the local table)",
				    w[i + 1]);
			c->kernel_table = (uint32_t)v;
		} else if (strcmp(w[i], "metric") == 0) {
			if (hgw_parse_uint(w[i + 1], 0, 0xffffffffUL, &v) < 0)
				return errf(err, errlen, "kernel metric '%s' is not a number",
				    w[i + 1]);
			c->kernel_metric = (uint32_t)v;
		} else
			return errf(err, errlen, "kernel: unknown option '%s'", w[i]);
	}
	c->kernel_on = 1;
	return 0;
}

static int
st_address(struct config *c, int neg, char **w, int n, char *err, size_t errlen)
{
	struct hgw_addr a;

	if (n != 2)
		return errf(err, errlen, "usage: %saddress ADDRESS", neg ? "no " : "");
	if (hgw_addr_parse(w[1], &a) < 0 || hgw_addr_is_unspec(&a))
		return errf(err, errlen, "address %s: not an IPv4 or IPv6 address", w[1]);
	if (neg) {
		struct hgw_addr *cur = a.family == AF_INET ? &c->address4 : &c->address6;

		if (hgw_addr_cmp(cur, &a) != 0)
			return errf(err, errlen, "address %s is not configured", w[1]);
		memset(cur, 0, sizeof(*cur));
		return 0;
	}
	if (a.family == AF_INET)
		c->address4 = a;
	else
		c->address6 = a;
	return 0;
}

/* "log syslog|stderr|file PATH [LEVEL]", "no log" */
static int
st_log(struct config *c, int neg, char **w, int n, char *err, size_t errlen)
{
	int k = 2, dest, level = -1;

	if (neg) {
		if (n != 1)
			return errf(err, errlen, "usage: no log");
		c->log_dest = LOG_DEST_DEFAULT;
		c->log_file[0] = '\0';
		c->log_level = -1;
		return 0;
	}
	if (n < 2)
		goto usage;
	if (strcmp(w[1], "syslog") == 0)
		dest = LOG_DEST_SYSLOG;
	else if (strcmp(w[1], "stderr") == 0)
		dest = LOG_DEST_STDERR;
	else if (strcmp(w[1], "file") == 0) {
		dest = LOG_DEST_FILE;
		if (n < 3)
			goto usage;
		k = 3;
	} else
		goto usage;
	if (n > k + 1)
		goto usage;
	if (n == k + 1 && (level = log_level_parse(w[k])) < 0)
		return errf(err, errlen,
		    "log: level '%s' is not one of emerg, alert, crit, err, warning, notice, info, debug",
		    w[k]);
	if (dest == LOG_DEST_FILE && st_path(c->log_file, "log file", w[2], err, errlen) < 0)
		return -1;
	if (dest != LOG_DEST_FILE)
		c->log_file[0] = '\0';
	c->log_dest = dest;
	c->log_level = level;
	return 0;
usage:
	return errf(err, errlen, "usage: log syslog|stderr|file PATH [emerg|alert|crit|err|warning|notice|info|debug]");
}

/* "http listen ADDRESS [port N]", "no http listen ADDRESS [port N]" */
static int
st_http(struct config *c, int neg, char **w, int n, char *err, size_t errlen)
{
	struct cfg_http h;
	unsigned long port = CFG_DEFAULT_HTTP_PORT;
	size_t i;

	if ((n != 3 && n != 5) || strcmp(w[1], "listen") != 0 ||
	    (n == 5 && strcmp(w[3], "port") != 0))
		return errf(err, errlen, "usage: %shttp listen ADDRESS [port N]", neg ? "no " : "");
	memset(&h, 0, sizeof(h));
	if (hgw_addr_parse(w[2], &h.addr) < 0)
		return errf(err, errlen, "http listen %s: not an IPv4 or IPv6 address", w[2]);
	if (n == 5 && hgw_parse_uint(w[4], 1, 65535, &port) < 0)
		return errf(err, errlen, "http listen: port '%s' is not 1..65535", w[4]);
	h.port = (uint16_t)port;
	for (i = 0; i < c->nhttp; i++)
		if (hgw_addr_cmp(&c->http[i].addr, &h.addr) == 0 && c->http[i].port == h.port)
			break;
	if (neg) {
		if (i == c->nhttp)
			return errf(err, errlen, "http listen %s port %u is not configured", w[2], h.port);
		memmove(&c->http[i], &c->http[i + 1], (c->nhttp - i - 1) * sizeof(h));
		c->nhttp--;
		return 0;
	}
	if (i < c->nhttp)
		return 0;
	if (c->nhttp == CFG_HTTP_MAX)
		return errf(err, errlen, "http listen: at most %d addresses", CFG_HTTP_MAX);
	c->http[c->nhttp++] = h;
	return 0;
}

static int
router_statement(struct config *c, char **w, int n, char *err, size_t errlen)
{
	int neg = 0;
	unsigned long v;

	if (strcmp(w[0], "no") == 0) {
		neg = 1;
		w++;
		n--;
		if (n == 0)
			return errf(err, errlen, "'no' needs a statement");
	}
	if (strcmp(w[0], "network") == 0)
		return st_network(c, neg, w, n, err, errlen);
	if (strcmp(w[0], "neighbor") == 0)
		return st_neighbor(c, neg, w, n, err, errlen);
	if (strcmp(w[0], "address") == 0)
		return st_address(c, neg, w, n, err, errlen);
	if (strcmp(w[0], "cluster-network") == 0)
		return st_cluster(c, neg, w, n, err, errlen);
	if (strcmp(w[0], "allow") == 0)
		return st_prefix_list(&c->allows, &c->nallows, &c->allows_cap, neg, w, n,
		    err, errlen);
	if (strcmp(w[0], "mesh-network") == 0)
		return st_prefix_list(&c->meshnets, &c->nmeshnets, &c->meshnets_cap, neg, w, n,
		    err, errlen);
	if (strcmp(w[0], "encap") == 0)
		return st_encap(c, neg, w, n, err, errlen);
	if (strcmp(w[0], "limits") == 0 || strcmp(w[0], "static-hosts") == 0)
		return config_limits_statement(c, neg, w, n, err, errlen);
	if (neg && strcmp(w[0], "max-prefixes") == 0) {
		c->max_prefixes = 0;
		return 0;
	}
	if (neg && (strcmp(w[0], "ip-masq") == 0 || strcmp(w[0], "ipmasq") == 0) && n == 1) {
		c->ipmasq = 0;
		return 0;
	}
	if (neg && strcmp(w[0], "ip-forward") == 0 && n <= 2 &&
	    (n == 1 || strcmp(w[1], "enable") == 0)) {
		c->ip_forward = 0;
		return 0;
	}
	if (neg && strcmp(w[0], "graceful-restart") == 0 && n == 1) {
		c->gr_on = 0;
		c->gr_restart_s = CFG_DEFAULT_GR_RESTART_S;
		return 0;
	}
	if (neg && strcmp(w[0], "discovery") == 0) {
		c->discovery = 0;
		return 0;
	}
	if (neg && strcmp(w[0], "secret-file") == 0) {
		c->secret_file[0] = '\0';
		return 0;
	}
	if (neg && strcmp(w[0], "tls") == 0) {
		c->tls_ca[0] = c->tls_cert[0] = c->tls_key[0] = c->tls_crl[0] = '\0';
		return 0;
	}
	if (neg && strcmp(w[0], "node-id") == 0 && n <= 2) {
		c->node_id = 0;
		return 0;
	}
	if (neg && strcmp(w[0], "timers") == 0 && n == 1) {
		c->keepalive_ms = CFG_DEFAULT_KEEPALIVE_MS;
		c->hold_ms = CFG_DEFAULT_HOLD_MS;
		c->startup_ms = CFG_DEFAULT_STARTUP_MS;
		c->giveup_ms = CFG_DEFAULT_GIVEUP_MS;
		return 0;
	}
	if (neg)
		return errf(err, errlen, "'no %s' is not a statement", w[0]);
	if (strcmp(w[0], "interface") == 0) {
		if (n != 2)
			return errf(err, errlen, "usage: interface (IFNAME|auto)");
		if (strcmp(w[1], "auto") == 0) {
			c->ifauto = 1;
			c->ifname[0] = '\0';
			return 0;
		}
		if (strlen(w[1]) >= IFNAMSIZ || strchr(w[1], '/') != NULL)
			return errf(err, errlen, "interface '%s': not a valid interface name", w[1]);
		strcpy(c->ifname, w[1]);
		c->ifauto = 0;
		return 0;
	}
	if (strcmp(w[0], "node-id") == 0) {
		if (n != 2 || hgw_nodeid_parse(w[1], &c->node_id) < 0)
			return errf(err, errlen, "usage: node-id A.B.C.D (not 0.0.0.0)");
		return 0;
	}
	if (strcmp(w[0], "listen") == 0) {
		if (n != 3 || strcmp(w[1], "port") != 0 ||
		    hgw_parse_uint(w[2], 1, 65535, &v) < 0)
			return errf(err, errlen, "usage: listen port 1..65535");
		c->listen_port = (uint16_t)v;
		return 0;
	}
	if (strcmp(w[0], "timers") == 0)
		return st_timers(c, w, n, err, errlen);
	if (strcmp(w[0], "max-prefixes") == 0) {
		if (n != 2 || hgw_parse_uint(w[1], 1, 0xffffffffUL, &v) < 0)
			return errf(err, errlen, "usage: max-prefixes 1..4294967295");
		c->max_prefixes = (uint32_t)v;
		return 0;
	}
	if (strcmp(w[0], "secret-file") == 0) {
		if (n != 2)
			return errf(err, errlen, "usage: secret-file PATH");
		return st_path(c->secret_file, "secret-file", w[1], err, errlen);
	}
	if (strcmp(w[0], "tls") == 0)
		return st_tls(c, w, n, err, errlen);
	if (strcmp(w[0], "lease-hold") == 0) {
		if (n != 2 || parse_duration(w[1], &c->lease_hold_s) < 0)
			return errf(err, errlen, "usage: lease-hold TIME (seconds, or with s, m or h; at most a year)");
		return 0;
	}
	if (strcmp(w[0], "lease-file") == 0) {
		if (n != 2)
			return errf(err, errlen, "usage: lease-file PATH");
		return st_path(c->lease_file, "lease-file", w[1], err, errlen);
	}
	if (strcmp(w[0], "subnet-env") == 0) {
		if (n != 2)
			return errf(err, errlen, "usage: subnet-env PATH");
		return st_path(c->subnet_env, "subnet-env", w[1], err, errlen);
	}
	/* "ipmasq" is the older spelling of "ip-masq". */
	if ((strcmp(w[0], "ip-masq") == 0 || strcmp(w[0], "ipmasq") == 0) && n == 1) {
		c->ipmasq = 1;
		return 0;
	}
	if (strcmp(w[0], "ip-masq") == 0 || strcmp(w[0], "ipmasq") == 0)
		return errf(err, errlen, "usage: [no] ip-masq");
	if (strcmp(w[0], "ip-forward") == 0) {
		if (n != 2 || strcmp(w[1], "enable") != 0)
			return errf(err, errlen, "usage: ip-forward enable");
		c->ip_forward = 1;
		return 0;
	}
	if (strcmp(w[0], "discovery") == 0) {
		if (n != 2 || strcmp(w[1], "multicast") != 0)
			return errf(err, errlen, "usage: discovery multicast");
		c->discovery = 1;
		return 0;
	}
	if (strcmp(w[0], "kernel") == 0)
		return st_kernel(c, w, n, err, errlen);
	if (strcmp(w[0], "graceful-restart") == 0) {
		if (n == 1) {
			c->gr_on = 1;
			return 0;
		}
		if (n != 3 || strcmp(w[1], "restart-time") != 0)
			return errf(err, errlen, "usage: graceful-restart [restart-time SECONDS]");
		if (hgw_parse_uint(w[2], 1, HGW_GR_RESTART_MAX_S, &v) < 0)
			return errf(err, errlen,
			    "graceful-restart restart-time: '%s' is not a number of seconds from 1 to %u",
			    w[2], HGW_GR_RESTART_MAX_S);
		c->gr_on = 1;
		c->gr_restart_s = (uint16_t)v;
		return 0;
	}
	return errf(err, errlen, "unknown statement '%s' in router hgw", w[0]);
}

static int
hostname_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > HGW_HOSTNAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.' ||
		    s[i] == '_'))
			return 0;
	return 1;
}

int
config_statement(struct config *c, enum cfg_ctx *ctx, const char *line,
    int lineno, char *err, size_t errlen)
{
	char buf[1024];
	char *w[MAX_WORDS];
	size_t len;
	int n;

	/* Indentation and the line's end do not count: config_write indents
	 * and ends lines, and what it writes must read back. */
	while (*line == ' ' || *line == '\t')
		line++;
	len = strlen(line);
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	if (len >= sizeof(buf))
		return errf(err, errlen, "line too long");
	memcpy(buf, line, len);
	buf[len] = '\0';
	if ((n = split(buf, w, MAX_WORDS)) < 0)
		return errf(err, errlen, "too many words");
	if (n == 0)
		return 0;
	if (strcmp(w[0], "hostname") == 0) {
		if (n != 2 || !hostname_ok(w[1]))
			return errf(err, errlen,
			    "usage: hostname NAME (1..64 of letters, digits, '.', '-', '_')");
		strcpy(c->hostname, w[1]);
		*ctx = CFG_CTX_TOP;
		return 0;
	}
	if (strcmp(w[0], "router") == 0) {
		if (n != 2 || strcmp(w[1], "hgw") != 0)
			return errf(err, errlen, "usage: router hgw");
		c->router = 1;
		if (c->router_line == 0)
			c->router_line = lineno;
		*ctx = CFG_CTX_ROUTER;
		return 0;
	}
	/* Statements of the daemon, not of the routing process: anywhere,
	 * and they end a router block as hostname does. */
	if (strcmp(w[0], "log") == 0 || (n >= 2 && strcmp(w[0], "no") == 0 &&
	    strcmp(w[1], "log") == 0)) {
		*ctx = CFG_CTX_TOP;
		return w[0][0] == 'n' ? st_log(c, 1, w + 1, n - 1, err, errlen) :
		    st_log(c, 0, w, n, err, errlen);
	}
	if (strcmp(w[0], "http") == 0 || (n >= 2 && strcmp(w[0], "no") == 0 &&
	    strcmp(w[1], "http") == 0)) {
		*ctx = CFG_CTX_TOP;
		return w[0][0] == 'n' ? st_http(c, 1, w + 1, n - 1, err, errlen) :
		    st_http(c, 0, w, n, err, errlen);
	}
	if (strcmp(w[0], "exit") == 0 || strcmp(w[0], "end") == 0) {
		*ctx = CFG_CTX_TOP;
		return 0;
	}
	if (*ctx != CFG_CTX_ROUTER)
		return errf(err, errlen, "'%s' belongs inside 'router hgw'", w[0]);
	return router_statement(c, w, n, err, errlen);
}

int
config_check(const struct config *c, char *err, size_t errlen)
{
	if (!c->router)
		return errf(err, errlen, "no 'router hgw' block");
	if (config_ipmasq(c) && c->nclusters == 0)
		return errf(err, errlen, "ip-masq needs a cluster-network (what is not masqueraded)");
	if (c->secret_file[0] && c->tls_cert[0])
		return errf(err, errlen, "use either secret-file or tls, not both");
	if (c->nmeshnets > 0 && !c->encap_vxlan)
		return errf(err, errlen, "mesh-network needs encap vxlan (members beyond the LAN are reached through it)");
	if (c->nclusters > 0) {
		size_t i, j;
		char b[HGW_ADDRSTRLEN];

		for (i = 0; i < c->nnetworks; i++) {
			for (j = 0; j < c->nclusters; j++)
				if (hgw_prefix_contains(&c->clusters[j], &c->networks[i]))
					break;
			if (j == c->nclusters)
				return errf(err, errlen, "network %s is outside every cluster-network",
				    hgw_prefix_fmt(&c->networks[i], b, sizeof(b)));
		}
	}
	return 0;
}

int
config_load(const char *path, struct config *c, char *err, size_t errlen)
{
	FILE *f;
	char line[1100], msg[256];
	enum cfg_ctx ctx = CFG_CTX_TOP;
	int lineno = 0;

	config_init(c);
	if ((f = fopen(path, "r")) == NULL)
		return errf(err, errlen, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			fclose(f);
			config_free(c);
			return errf(err, errlen, "%s:%d: line too long", path, lineno);
		}
		if (config_statement(c, &ctx, line, lineno, msg, sizeof(msg)) < 0) {
			fclose(f);
			config_free(c);
			return errf(err, errlen, "%s:%d: %s", path, lineno, msg);
		}
	}
	if (ferror(f)) {
		fclose(f);
		config_free(c);
		return errf(err, errlen, "%s: read error", path);
	}
	fclose(f);
	if (config_check(c, msg, sizeof(msg)) < 0) {
		config_free(c);
		return errf(err, errlen, "%s:%d: %s", path,
		    c->router_line ? c->router_line : lineno, msg);
	}
	return 0;
}
