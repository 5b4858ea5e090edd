/* reconf.c: a new configuration, applied as the difference, module by
 * module; nothing is changed when a step that can fail fails first. */
#include "reconf.h"

#include <stdio.h>
#include <string.h>

#include "encap.h"
#include "fib.h"
#include "hgwd.h"
#include "http.h"
#include "hostnet.h"
#include "identity.h"
#include "kernel.h"
#include "lease.h"
#include "listen.h"
#include "liveness.h"
#include "log.h"
#include "members.h"
#include "origin.h"
#include "peer.h"
#include "subnetenv.h"
#include "tls.h"

void
kernel_params_from_config(const struct config *c, struct kernel_params *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->ifname, sizeof(p->ifname), "%s", c->ifname);
	/* interface auto: the default route's (or the first neighbor's). */
	if (c->ifauto && hostnet_auto_ifname(c, p->ifname) < 0)
		p->ifname[0] = '\0';
	p->proto = c->kernel_proto;
	p->table = c->kernel_table;
	p->metric = c->kernel_metric;
}

/* The mesh transport: a new key or certificates resets every session. */
static int
tls_reconfigure(struct hgwd *d, const struct config *nc, char *err, size_t errlen)
{
	struct tls *nt;
	char e2[64];

	if (strcmp(nc->secret_file, d->cfg.secret_file) == 0 &&
	    strcmp(nc->tls_ca, d->cfg.tls_ca) == 0 && strcmp(nc->tls_cert, d->cfg.tls_cert) == 0 &&
	    strcmp(nc->tls_key, d->cfg.tls_key) == 0 && strcmp(nc->tls_crl, d->cfg.tls_crl) == 0)
		return 0;
	if (tls_load(nc, &nt, err, errlen) < 0)
		return -1;
	tls_free(d->tls);
	d->tls = nt;
	log_info("mesh transport is now %s; resetting every session",
	    nt ? (strcmp(tls_mode(nt), "psk") == 0 ? "TLS 1.3 with a pre-shared key" :
	    "TLS 1.3 with certificates") : "plain TCP (unauthenticated)");
	peers_reset(d, NULL, e2, sizeof(e2));
	return 0;
}

/* The log's destination or level changed. */
static void
log_reconfigure(const struct config *old, const struct config *nc)
{
	char e2[256];

	if (old->log_dest == nc->log_dest && old->log_level == nc->log_level &&
	    strcmp(old->log_file, nc->log_file) == 0)
		return;
	if (log_set_dest(nc->log_dest, nc->log_file, nc->log_level, e2, sizeof(e2)) < 0)
		log_err("%s; logging stays where it was", e2);
}

int
reconf_apply(struct hgwd *d, const struct config *nc, char *err, size_t errlen)
{
	struct config old;
	struct kernel_params op, np;
	struct hgw_addr a4, a6;
	uint32_t id;
	uint16_t old_port = d->listen_port;

	kernel_params_from_config(&d->cfg, &op);
	kernel_params_from_config(nc, &np);
	/* The interface in use is the kernel's (interface auto may have moved
	 * since); auto finding nothing now keeps it. */
	snprintf(op.ifname, sizeof(op.ifname), "%s", kernel_params(d->kernel)->ifname);
	if (nc->ifauto && np.ifname[0] == '\0')
		snprintf(np.ifname, sizeof(np.ifname), "%s", d->cfg.ifname);
	if (strcmp(op.ifname, np.ifname) != 0)
		kernel_set_params(d->kernel, &np);
	if (identity_resolve(d, nc, &id, &a4, &a6) < 0) {
		kernel_set_params(d->kernel, &op);
		snprintf(err, errlen, "no node id: %s has no IPv4 address and no node-id is set",
		    nc->ifname);
		return -1;
	}
	if (tls_reconfigure(d, nc, err, errlen) < 0) {
		kernel_set_params(d->kernel, &op);
		return -1;
	}
	old = d->cfg;
	if (config_copy(&d->cfg, nc) < 0) {
		d->cfg = old;
		kernel_set_params(d->kernel, &op);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (d->cfg.ifauto)	/* the interface auto chose */
		snprintf(d->cfg.ifname, sizeof(d->cfg.ifname), "%s", np.ifname);
	if (listen_reconfigure(d, err, errlen) < 0) {
		config_free(&d->cfg);
		d->cfg = old;
		kernel_set_params(d->kernel, &op);
		return -1;
	}
	liveness_reconfigure(d, old_port);
	origin_reconfigure(d, &old);
	identity_apply(d, id, &a4, &a6);
	if (op.proto != np.proto || op.table != np.table || op.metric != np.metric ||
	    strcmp(op.ifname, np.ifname) != 0 || old.kernel_on != nc->kernel_on) {
		log_info("kernel settings changed: rewriting our routes");
		kernel_set_params(d->kernel, &np);
		fib_params_changed(d->fib, &op);
	}
	encap_update(d);
	peers_reconfigure(d);
	leases_reconfigure(d);
	members_reconfigure(d, &old);
	log_reconfigure(&old, &d->cfg);
	http_config_changed(d);
	subnetenv_update(d);
	hostnet_update(d->hostnet);	/* cluster networks, ip-masq */
	config_free(&old);
	return 0;
}

int
reconf_reload(struct hgwd *d, char *err, size_t errlen)
{
	struct config nc;

	if (config_load(d->cfg_path, &nc, err, errlen) < 0) {
		log_err("reload: %s; keeping the running configuration", err);
		return -1;
	}
	if (reconf_apply(d, &nc, err, errlen) < 0) {
		log_err("reload: %s; keeping the running configuration", err);
		config_free(&nc);
		return -1;
	}
	config_free(&nc);
	log_info("configuration reloaded from %s", d->cfg_path);
	return 0;
}
