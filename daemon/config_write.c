/* config_write.c: printing the configuration in its canonical form (show
 * running-config, hgwd -n) and saving it (write memory). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "util.h"

static int
cmp_prefix(const void *a, const void *b)
{
	return hgw_prefix_cmp(a, b);
}

static int
cmp_neighbor(const void *a, const void *b)
{
	return hgw_addr_cmp(&((const struct cfg_neighbor *)a)->addr,
	    &((const struct cfg_neighbor *)b)->addr);
}

static void
write_prefixes(FILE *f, const char *kw, const struct hgw_prefix *list, size_t n)
{
	struct hgw_prefix *sorted;
	char buf[HGW_ADDRSTRLEN];
	size_t i;

	if (n == 0 || (sorted = malloc(n * sizeof(*sorted))) == NULL)
		return;
	memcpy(sorted, list, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_prefix);
	for (i = 0; i < n; i++)
		fprintf(f, " %s %s\n", kw, hgw_prefix_fmt(&sorted[i], buf, sizeof(buf)));
	free(sorted);
}

static void
write_clusters(FILE *f, const struct config *c)
{
	struct hgw_prefix *sorted;
	char buf[HGW_ADDRSTRLEN];
	size_t i;

	if (c->nclusters == 0 || (sorted = malloc(c->nclusters * sizeof(*sorted))) == NULL)
		return;
	memcpy(sorted, c->clusters, c->nclusters * sizeof(*sorted));
	qsort(sorted, c->nclusters, sizeof(*sorted), cmp_prefix);
	for (i = 0; i < c->nclusters; i++) {
		int fi = sorted[i].family == AF_INET ? 0 : 1;

		fprintf(f, " cluster-network %s", hgw_prefix_fmt(&sorted[i], buf, sizeof(buf)));
		if (c->lease_len[fi] && hgw_prefix_eq(&c->lease_net[fi], &sorted[i]))
			fprintf(f, " subnet-length %u", c->lease_len[fi]);
		fprintf(f, "\n");
	}
	free(sorted);
}

void
config_write(const struct config *c, FILE *f)
{
	char buf[HGW_ADDRSTRLEN], b2[16];
	struct cfg_neighbor *nbrs = NULL;
	size_t i;

	if (c->hostname[0])
		fprintf(f, "hostname %s\n!\n", c->hostname);
	if (c->log_dest != LOG_DEST_DEFAULT) {
		fprintf(f, "log %s", c->log_dest == LOG_DEST_SYSLOG ? "syslog" :
		    c->log_dest == LOG_DEST_STDERR ? "stderr" : "file");
		if (c->log_dest == LOG_DEST_FILE)
			fprintf(f, " %s", c->log_file);
		if (c->log_level >= 0)
			fprintf(f, " %s", log_level_name(c->log_level));
		fprintf(f, "\n");
	}
	for (i = 0; i < c->nhttp; i++) {
		fprintf(f, "http listen %s", hgw_addr_fmt(&c->http[i].addr, buf, sizeof(buf)));
		if (c->http[i].port != CFG_DEFAULT_HTTP_PORT)
			fprintf(f, " port %u", c->http[i].port);
		fprintf(f, "\n");
	}
	if (c->log_dest != LOG_DEST_DEFAULT || c->nhttp > 0)
		fprintf(f, "!\n");
	if (!c->router)
		return;
	fprintf(f, "router hgw\n");
	if (!c->ifauto && c->ifname[0])
		fprintf(f, " interface %s\n", c->ifname);
	if (c->node_id)
		fprintf(f, " node-id %s\n", hgw_nodeid_fmt(c->node_id, buf, sizeof(buf)));
	if (c->address4.family)
		fprintf(f, " address %s\n", hgw_addr_fmt(&c->address4, buf, sizeof(buf)));
	if (c->address6.family)
		fprintf(f, " address %s\n", hgw_addr_fmt(&c->address6, buf, sizeof(buf)));
	if (c->listen_port != HGW_DEFAULT_PORT)
		fprintf(f, " listen port %u\n", c->listen_port);
	write_clusters(f, c);
	if (c->lease_hold_s != CFG_DEFAULT_LEASE_HOLD_S)
		fprintf(f, " lease-hold %u\n", c->lease_hold_s);
	if (strcmp(c->lease_file, CFG_DEFAULT_LEASE_FILE) != 0)
		fprintf(f, " lease-file %s\n", c->lease_file);
	if (strcmp(c->subnet_env, CFG_DEFAULT_SUBNET_ENV) != 0)
		fprintf(f, " subnet-env %s\n", c->subnet_env);
	if (c->ipmasq == 0 && c->nclusters > 0)
		fprintf(f, " no ip-masq\n");
	else if (c->ipmasq == 1 && c->nclusters == 0)
		fprintf(f, " ip-masq\n");	/* not the default: kept (config_check refuses it) */
	if (c->ip_forward)
		fprintf(f, " ip-forward enable\n");
	if (c->discovery)
		fprintf(f, " discovery multicast\n");
	write_prefixes(f, "network", c->networks, c->nnetworks);
	if (c->nneighbors && (nbrs = malloc(c->nneighbors * sizeof(*nbrs))) != NULL) {
		memcpy(nbrs, c->neighbors, c->nneighbors * sizeof(*nbrs));
		qsort(nbrs, c->nneighbors, sizeof(*nbrs), cmp_neighbor);
		for (i = 0; i < c->nneighbors; i++) {
			fprintf(f, " neighbor %s", hgw_addr_fmt(&nbrs[i].addr, buf, sizeof(buf)));
			if (nbrs[i].port != HGW_DEFAULT_PORT)
				fprintf(f, " port %u", nbrs[i].port);
			if (nbrs[i].max_prefixes)
				fprintf(f, " max-prefixes %u", nbrs[i].max_prefixes);
			if (nbrs[i].third_party)
				fprintf(f, " allow-third-party-gateway");
			fprintf(f, "\n");
		}
		free(nbrs);
	}
	write_prefixes(f, "allow", c->allows, c->nallows);
	if (c->encap_vxlan) {
		fprintf(f, " encap vxlan");
		if (c->vxlan_vni != CFG_DEFAULT_VXLAN_VNI)
			fprintf(f, " vni %u", c->vxlan_vni);
		if (c->vxlan_port != CFG_DEFAULT_VXLAN_PORT)
			fprintf(f, " port %u", c->vxlan_port);
		fprintf(f, "\n");
	}
	write_prefixes(f, "mesh-network", c->meshnets, c->nmeshnets);
	if (c->max_prefixes)
		fprintf(f, " max-prefixes %u\n", c->max_prefixes);
	config_limits_write(c, f);
	if (c->secret_file[0])
		fprintf(f, " secret-file %s\n", c->secret_file);
	if (c->tls_cert[0])
		fprintf(f, " tls ca %s cert %s key %s%s%s\n", c->tls_ca, c->tls_cert, c->tls_key,
		    c->tls_crl[0] ? " crl " : "", c->tls_crl);
	if (c->keepalive_ms != CFG_DEFAULT_KEEPALIVE_MS || c->hold_ms != CFG_DEFAULT_HOLD_MS) {
		fprintf(f, " timers keepalive %s", hgw_fmt_seconds_ms(c->keepalive_ms, b2, sizeof(b2)));
		fprintf(f, " hold %s\n", hgw_fmt_seconds_ms(c->hold_ms, b2, sizeof(b2)));
	}
	if (c->startup_ms != CFG_DEFAULT_STARTUP_MS)
		fprintf(f, " timers startup %s\n", hgw_fmt_seconds_ms(c->startup_ms, b2, sizeof(b2)));
	if (c->giveup_ms != CFG_DEFAULT_GIVEUP_MS)
		fprintf(f, " timers giveup %s\n", hgw_fmt_seconds_ms(c->giveup_ms, b2, sizeof(b2)));
	if (!c->gr_on)
		fprintf(f, " no graceful-restart\n");
	else if (c->gr_restart_s != CFG_DEFAULT_GR_RESTART_S)
		fprintf(f, " graceful-restart restart-time %u\n", c->gr_restart_s);
	/* The settings are kept while off: they say which routes are ours. */
	if (c->kernel_proto != CFG_DEFAULT_PROTO || c->kernel_proto_name[0] ||
	    c->kernel_table != CFG_DEFAULT_TABLE || c->kernel_metric != CFG_DEFAULT_METRIC) {
		if (c->kernel_proto_name[0])
			fprintf(f, " kernel protocol %s", c->kernel_proto_name);
		else
			fprintf(f, " kernel protocol %u", c->kernel_proto);
		fprintf(f, " table %u metric %u\n", c->kernel_table, c->kernel_metric);
	}
	if (!c->kernel_on)
		fprintf(f, " kernel off\n");
	fprintf(f, "!\n");
}

int
config_save(const struct config *c, const char *path, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	struct stat st;
	mode_t mode = stat(path, &st) == 0 ? st.st_mode & 07777 : 0644;
	FILE *f = open_memstream(&buf, &len);
	int r;

	if (f == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	fprintf(f, "! hgwd configuration, written by 'write memory'\n");
	config_write(c, f);
	if (fclose(f) != 0) {
		free(buf);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	r = file_write_atomic(path, buf, len, mode, 1, 0, err, errlen);
	free(buf);
	return r;
}
