/* cmd_show.c: the show commands: summary, peers, routes (streamed), fib, running-config. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "cmd.h"
#include "ctl.h"
#include "encap.h"
#include "hgwd.h"
#include "fib.h"
#include "gr.h"
#include "hostnet.h"
#include "kernel.h"
#include "lease.h"
#include "listen.h"
#include "liveness.h"
#include "log.h"
#include "peer.h"
#include "session.h"
#include "stats.h"
#include "sync.h"
#include "vxlan.h"

#define ROUTES_PER_CALL 256

static const char *
fmt_age(uint64_t ms, char *buf, size_t len)
{
	uint64_t s = ms / 1000;

	if (s >= 86400)
		snprintf(buf, len, "%llud%02lluh%02llum", (unsigned long long)(s / 86400),
		    (unsigned long long)(s % 86400 / 3600), (unsigned long long)(s % 3600 / 60));
	else
		snprintf(buf, len, "%02llu:%02llu:%02llu", (unsigned long long)(s / 3600),
		    (unsigned long long)(s % 3600 / 60), (unsigned long long)(s % 60));
	return buf;
}

static json_object *
jstr_or_null(const char *s)
{
	return s != NULL && s[0] ? json_object_new_string(s) : NULL;
}

/* show summary */

int
cmd_show_summary(struct cmd_ctx *x, const struct cmd_args *a)
{
	struct hgwd *d = x->d;
	struct stats c;		/* the same numbers as /metrics and systemd's STATUS */
	int npeers, nest, ncfg;
	char nb[16], a4[HGW_ADDRSTRLEN], a6[HGW_ADDRSTRLEN], pb[HGW_ADDRSTRLEN], age[32];
	uint64_t up = now_ms() - d->start_ms;
	const struct kernel_stats *ks = kernel_stats(d->kernel);
	struct hgw_prefix leased[2];
	struct listen_stats ls;
	struct hostnet_status hs;
	struct liveness_stats lv;
	int nleased;
	size_t i;

	if (stats_collect(d, &c) < 0)
		return cmd_fail(x, CTL_ERR_RUNTIME, "%% Out of memory");
	npeers = (int)c.npeers;
	nest = (int)c.nestablished;
	ncfg = (int)c.nconfigured;
	stats_free(&c);
	listen_get_stats(d, &ls);
	nleased = leases_own(d, leased, 2);
	hostnet_status(d->hostnet, &hs);
	liveness_stats(d, &lv);
	hgw_nodeid_fmt(d->node_id, nb, sizeof(nb));
	hgw_addr_fmt(&d->addr4, a4, sizeof(a4));
	hgw_addr_fmt(&d->addr6, a6, sizeof(a6));
	if (cmd_arg(a, "json")) {
		json_object *o = json_object_new_object(), *nets = json_object_new_array();
		json_object *peers = json_object_new_object(), *routes = json_object_new_object();
		json_object *kern = json_object_new_object();

		json_object_object_add(o, "nodeId", json_object_new_string(nb));
		json_object_object_add(o, "hostname", json_object_new_string(d->cfg.hostname));
		json_object_object_add(o, "interface", json_object_new_string(d->cfg.ifname));
		json_object_object_add(o, "address", d->addr4.family ? json_object_new_string(a4) : NULL);
		json_object_object_add(o, "address6", d->addr6.family ? json_object_new_string(a6) : NULL);
		json_object_object_add(o, "listenPort", json_object_new_int(d->listen_port));
		for (i = 0; i < d->cfg.nnetworks; i++)
			json_object_array_add(nets, json_object_new_string(
			    hgw_prefix_fmt(&d->cfg.networks[i], pb, sizeof(pb))));
		json_object_object_add(o, "networks", nets);
		nets = json_object_new_array();
		for (i = 0; i < (size_t)nleased; i++)
			json_object_array_add(nets, json_object_new_string(
			    hgw_prefix_fmt(&leased[i], pb, sizeof(pb))));
		json_object_object_add(o, "leased", nets);
		json_object_object_add(peers, "configured", json_object_new_int(ncfg));
		json_object_object_add(peers, "total", json_object_new_int(npeers));
		json_object_object_add(peers, "established", json_object_new_int(nest));
		json_object_object_add(o, "peers", peers);
		json_object_object_add(routes, "prefixes", json_object_new_int64((int64_t)d->rib.count));
		json_object_object_add(routes, "paths", json_object_new_int64((int64_t)d->rib.npaths));
		json_object_object_add(routes, "local", json_object_new_int64((int64_t)c.local));
		json_object_object_add(routes, "learned", json_object_new_int64((int64_t)c.learned));
		json_object_object_add(routes, "installed", json_object_new_int64((int64_t)c.installed));
		json_object_object_add(routes, "failed", json_object_new_int64((int64_t)c.failed));
		json_object_object_add(routes, "conflicts", json_object_new_int64((int64_t)d->rib.nconflicts));
		json_object_object_add(routes, "ribBytes", json_object_new_int64((int64_t)rib_memory(&d->rib)));
		json_object_object_add(o, "routes", routes);
		json_object_object_add(kern, "enabled", json_object_new_boolean(d->cfg.kernel_on));
		json_object_object_add(kern, "protocol", json_object_new_int(d->cfg.kernel_proto));
		json_object_object_add(kern, "table", json_object_new_int64(d->cfg.kernel_table));
		json_object_object_add(kern, "metric", json_object_new_int64(d->cfg.kernel_metric));
		json_object_object_add(kern, "batches", json_object_new_int64((int64_t)ks->batches));
		json_object_object_add(kern, "writes", json_object_new_int64((int64_t)ks->ops));
		json_object_object_add(kern, "errors", json_object_new_int64((int64_t)ks->errors));
		json_object_object_add(kern, "overruns", json_object_new_int64((int64_t)ks->overruns));
		json_object_object_add(o, "kernel", kern);
		json_object_object_add(o, "initialSyncDone", json_object_new_boolean(sync_done(d->sync)));
		{
			json_object *lim = json_object_new_object();

			json_object_object_add(lim, "maxFrame", json_object_new_int(HGW_MAX_FRAME));
			json_object_object_add(lim, "handshakes", json_object_new_int(ls.pending_max));
			json_object_object_add(lim, "acceptsPerSecond", json_object_new_int(ls.rate));
			json_object_object_add(lim, "acceptBurst", json_object_new_int(ls.burst));
			json_object_object_add(lim, "outputBytes", json_object_new_int(HGW_SESSION_OUTPUT_MAX));
			json_object_object_add(lim, "connectionsRefused", json_object_new_int64((int64_t)ls.refused));
			json_object_object_add(lim, "members", json_object_new_int64(d->cfg.limits.members));
			json_object_object_add(lim, "membersPerSender",
			    json_object_new_int64(d->cfg.limits.members_per_sender));
			json_object_object_add(lim, "memberDialsPerSecond",
			    json_object_new_int64(d->cfg.limits.dial_rate));
			json_object_object_add(lim, "memberDialBurst", json_object_new_int64(d->cfg.limits.dial_burst));
			json_object_object_add(lim, "outputBudget", json_object_new_int64((int64_t)budget_total()));
			json_object_object_add(lim, "outputQueued", json_object_new_int64((int64_t)budget_used()));
			json_object_object_add(lim, "sessionsPerSource",
			    json_object_new_int64(d->cfg.limits.sessions_per_source));
			json_object_object_add(o, "limits", lim);
		}
		{	/* host networking */
			json_object *hn = json_object_new_object();

			json_object_object_add(o, "interfaceAuto", json_object_new_boolean(hs.ifauto));
			json_object_object_add(o, "interfaceUp", json_object_new_boolean(kernel_if_up(d->kernel)));
			json_object_object_add(o, "carrier", json_object_new_boolean(kernel_if_carrier(d->kernel)));
			json_object_object_add(hn, "ipMasq", json_object_new_boolean(hs.ipmasq));
			json_object_object_add(hn, "masqInstalled", json_object_new_boolean(hs.masq_installed));
			json_object_object_add(hn, "forwardAcceptChains", json_object_new_int(hs.forward_chains));
			json_object_object_add(hn, "forwardIp", hs.forward4 < 0 ? NULL :
			    json_object_new_boolean(hs.forward4));
			json_object_object_add(hn, "forwardIpv6", hs.forward6 < 0 ? NULL :
			    json_object_new_boolean(hs.forward6));
			json_object_object_add(hn, "repairs", json_object_new_int64((int64_t)hs.repairs));
			json_object_object_add(hn, "legacyIptables", hs.legacy[0] ?
			    json_object_new_string(hs.legacy) : NULL);
			json_object_object_add(o, "hostnet", hn);
		}
		json_object_object_add(o, "uptimeMs", json_object_new_int64((int64_t)up));
		json_object_object_add(o, "logSuppressed", json_object_new_int64((int64_t)log_suppressed()));
		{
			json_object *kd = json_object_new_object();

			json_object_object_add(kd, "enabled", json_object_new_boolean(lv.enabled));
			json_object_object_add(kd, "sent", json_object_new_int64((int64_t)lv.sent));
			json_object_object_add(kd, "heard", json_object_new_int64((int64_t)lv.heard));
			json_object_object_add(kd, "renewed", json_object_new_int64((int64_t)lv.renewed));
			json_object_object_add(kd, "skipped", json_object_new_int64((int64_t)lv.skipped));
			json_object_object_add(o, "keepaliveDatagrams", kd);
		}
		ctl_json(x->c, o);
		return CTL_OK;
	}
	ctl_printf(x->c, "hgwd node %s, host %s, up %s", nb, d->cfg.hostname[0] ? d->cfg.hostname : "-",
	    fmt_age(up, age, sizeof(age)));
	ctl_printf(x->c, "Interface %s, gateway %s%s%s, listening on port %u", d->cfg.ifname,
	    d->addr4.family ? a4 : "-", d->addr6.family ? " and " : "", d->addr6.family ? a6 : "",
	    d->listen_port);
	for (i = 0; i < d->cfg.nnetworks; i++)
		ctl_printf(x->c, "Network %s", hgw_prefix_fmt(&d->cfg.networks[i], pb, sizeof(pb)));
	for (i = 0; i < (size_t)nleased; i++)
		ctl_printf(x->c, "Network %s (leased)", hgw_prefix_fmt(&leased[i], pb, sizeof(pb)));
	ctl_printf(x->c, "Peers: %d configured, %d known, %d established", ncfg, npeers, nest);
	ctl_printf(x->c, "Routes: %zu prefixes, %zu paths, %zu local, %zu learned, %zu installed, %zu failed, %zu in conflict",
	    d->rib.count, d->rib.npaths, c.local, c.learned, c.installed, c.failed, d->rib.nconflicts);
	if (d->cfg.kernel_on)
		ctl_printf(x->c, "Kernel: protocol %u, table %u, metric %u; %llu writes in %llu batches, %llu errors",
		    d->cfg.kernel_proto, d->cfg.kernel_table, d->cfg.kernel_metric,
		    (unsigned long long)ks->ops, (unsigned long long)ks->batches,
		    (unsigned long long)ks->errors);
	else
		ctl_printf(x->c, "Kernel: off");
	ctl_printf(x->c, "Initial sync: %s", sync_done(d->sync) ? "done" : "in progress");
	ctl_printf(x->c, "Log lines left out (repeats, rate limits, below the level): %llu",
	    (unsigned long long)log_suppressed());
	/* host networking */
	ctl_printf(x->c, "interface: %s%s, %s, carrier %s", d->cfg.ifname[0] ? d->cfg.ifname : "-",
	    hs.ifauto ? " (auto)" : "", kernel_if_up(d->kernel) ? "up" : "down",
	    kernel_if_carrier(d->kernel) ? "on" : "off");
	if (lv.enabled)
		ctl_printf(x->c, "keepalive datagrams: on; %llu sent, %llu heard, %llu hold times renewed, "
		    "%llu not needed (stream acknowledged)",
		    (unsigned long long)lv.sent, (unsigned long long)lv.heard, (unsigned long long)lv.renewed,
		    (unsigned long long)lv.skipped);
	else
		ctl_printf(x->c, "keepalive datagrams: off%s", d->tls != NULL ? " (TLS)" : "");
	ctl_printf(x->c, "forward ip: %s", hs.forward4 < 0 ? "unknown" : hs.forward4 ? "on" : "off");
	if (hs.need6)
		ctl_printf(x->c, "forward ipv6: %s", hs.forward6 < 0 ? "unknown" : hs.forward6 ? "on" : "off");
	ctl_printf(x->c, "ip-masq: %s%s; forward accept rules in %d chain(s); %llu repairs",
	    hs.ipmasq ? "on" : "off", hs.ipmasq && !hs.masq_installed ? " (not installed)" : "",
	    hs.forward_chains, (unsigned long long)hs.repairs);
	if (hs.legacy[0])
		ctl_printf(x->c, "Warning: %s", hs.legacy);
	ctl_printf(x->c, "Limits: %d handshakes at once, %d accepts/s (bursts of %d), %d bytes of output a peer; %llu connections refused",
	    ls.pending_max, ls.rate, ls.burst, HGW_SESSION_OUTPUT_MAX,
	    (unsigned long long)ls.refused);
	ctl_printf(x->c, "Limits: %u learned members (%u per peer), member dials %u/s (bursts of %u), "
	    "output budget %zu bytes (%zu queued), %u sessions per address",
	    d->cfg.limits.members, d->cfg.limits.members_per_sender, d->cfg.limits.dial_rate,
	    d->cfg.limits.dial_burst, budget_total(), budget_used(), d->cfg.limits.sessions_per_source);
	return CTL_OK;
}

/* show peers */

static const char *
peer_state(const struct peer *p)
{
	if (p->gr_until_ms != 0 && !peer_is_up(p))
		return "restarting";	/* its paths kept stale (gr.c) */
	return hgw_state_name(peer_fsm_state(p));
}

static json_object *
peer_json(const struct peer *p, const char *mode)
{
	json_object *o = json_object_new_object();
	const struct session *s = peer_session(p);
	uint64_t now = now_ms();
	char nb[16];

	json_object_object_add(o, "address", json_object_new_string(p->name));
	json_object_object_add(o, "port", json_object_new_int(p->port));
	json_object_object_add(o, "configured", json_object_new_boolean(p->configured));
	json_object_object_add(o, "state", json_object_new_string(peer_state(p)));
	json_object_object_add(o, "nodeId", p->node_id ?
	    json_object_new_string(hgw_nodeid_fmt(p->node_id, nb, sizeof(nb))) : NULL);
	json_object_object_add(o, "hostname", jstr_or_null(p->hostname));
	json_object_object_add(o, "direction", s ? json_object_new_string(session_outbound(s) ?
	    "outbound" : "inbound") : NULL);
	json_object_object_add(o, "uptimeMs", s ? json_object_new_int64((int64_t)(now - session_established_ms(s))) : NULL);
	json_object_object_add(o, "downtimeMs", s ? NULL : json_object_new_int64((int64_t)(now - p->down_since_ms)));
	json_object_object_add(o, "holdTimeMs", s ? json_object_new_int64(session_hold_ms(s)) : NULL);
	json_object_object_add(o, "keepaliveMs", s ? json_object_new_int64(session_keepalive_ms(s)) : NULL);
	json_object_object_add(o, "eorReceived", json_object_new_boolean(p->eor_received));
	json_object_object_add(o, "prefixesReceived", json_object_new_int64((int64_t)p->pfx_received));
	json_object_object_add(o, "prefixesAccepted", json_object_new_int64(p->pfx_accepted));
	json_object_object_add(o, "prefixesRefused", json_object_new_int64((int64_t)p->pfx_refused));
	json_object_object_add(o, "lastRefused", jstr_or_null(p->last_refused));
	json_object_object_add(o, "messagesIn", json_object_new_int64((int64_t)p->st.msgs_in));
	json_object_object_add(o, "messagesOut", json_object_new_int64((int64_t)p->st.msgs_out));
	json_object_object_add(o, "updatesIn", json_object_new_int64((int64_t)p->updates_in));
	json_object_object_add(o, "updatesOut", json_object_new_int64((int64_t)p->updates_out));
	json_object_object_add(o, "notificationsIn", json_object_new_int64((int64_t)p->st.notify_in));
	json_object_object_add(o, "notificationsOut", json_object_new_int64((int64_t)p->st.notify_out));
	json_object_object_add(o, "errors", json_object_new_int64((int64_t)p->st.errors));
	json_object_object_add(o, "flaps", json_object_new_int64((int64_t)p->flaps));
	json_object_object_add(o, "lastError", jstr_or_null(p->last_error));
	json_object_object_add(o, "encap", json_object_new_string(mode));
	json_object_object_add(o, "restartTimeS", p->gr_restart_s ?
	    json_object_new_int(p->gr_restart_s) : NULL);
	json_object_object_add(o, "restarting", json_object_new_boolean(p->gr_until_ms != 0));
	json_object_object_add(o, "staleRoutes", json_object_new_int64(p->gr_until_ms ? p->gr_stale : 0));
	json_object_object_add(o, "restartLeftMs", p->gr_until_ms ?
	    json_object_new_int64((int64_t)gr_left_ms(p)) : NULL);
	if (s == NULL && (p->configured || p->learned) && p->retry_at_ms > now)
		json_object_object_add(o, "connectRetryMs",
		    json_object_new_int64((int64_t)(p->retry_at_ms - now)));
	return o;
}

static int
cmp_peer(const void *a, const void *b)
{
	return hgw_addr_cmp(&(*(struct peer *const *)a)->addr, &(*(struct peer *const *)b)->addr);
}

static void
peer_detail(struct ctl_conn *c, const struct peer *p, const char *mode)
{
	const struct session *s = peer_session(p);
	char nb[16], age[32];
	uint64_t now = now_ms();

	ctl_printf(c, "Peer %s, port %u, %s, state %s", p->name, p->port,
	    p->configured ? "configured" : "dynamic (it dialled us)", peer_state(p));
	if (p->node_id)
		ctl_printf(c, "  Node id %s, hostname %s", hgw_nodeid_fmt(p->node_id, nb, sizeof(nb)),
		    p->hostname[0] ? p->hostname : "-");
	if (s)
		ctl_printf(c, "  Up for %s, %s, hold time %u ms, keepalive %u ms, END-OF-RIB %s",
		    fmt_age(now - session_established_ms(s), age, sizeof(age)),
		    session_outbound(s) ? "outbound" : "inbound", session_hold_ms(s), session_keepalive_ms(s),
		    p->eor_received ? "received" : "not yet received");
	else
		ctl_printf(c, "  Down for %s%s", fmt_age(now - p->down_since_ms, age, sizeof(age)),
		    p->configured ? ", re-dialling with back-off" : "");
	if (p->gr_until_ms != 0)
		ctl_printf(c, "  Restarting: %u stale route%s kept, %.1f s of its restart time (%u s) left",
		    p->gr_stale, p->gr_stale == 1 ? "" : "s", gr_left_ms(p) / 1000.0, p->gr_restart_s);
	else if (p->gr_restart_s)
		ctl_printf(c, "  Graceful restart: restart time %u s", p->gr_restart_s);
	ctl_printf(c, "  Prefixes: %llu received, %u accepted, %llu refused%s%s",
	    (unsigned long long)p->pfx_received, p->pfx_accepted,
	    (unsigned long long)p->pfx_refused, p->last_refused[0] ? "; last refused " : "",
	    p->last_refused);
	ctl_printf(c, "  Messages: %llu in, %llu out; updates %llu in, %llu out; notifications %llu in, %llu out",
	    (unsigned long long)p->st.msgs_in, (unsigned long long)p->st.msgs_out,
	    (unsigned long long)p->updates_in, (unsigned long long)p->updates_out,
	    (unsigned long long)p->st.notify_in, (unsigned long long)p->st.notify_out);
	ctl_printf(c, "  Errors %llu, flaps %llu, last error: %s", (unsigned long long)p->st.errors,
	    (unsigned long long)p->flaps, p->last_error[0] ? p->last_error : "none");
	if (p->d->cfg.encap_vxlan) {
		const struct hgw_hello *h = s ? session_hello(s) : NULL;
		char mb[24];

		if (h != NULL && (h->caps & HGW_CAP_VXLAN))
			ctl_printf(c, "  Routes to it: %s; its VXLAN endpoint: MAC %s, VNI %u, port %u",
			    mode, vxlan_mac_fmt(h->vtep_mac, mb, sizeof(mb)),
			    h->vtep_vni, h->vtep_port);
		else
			ctl_printf(c, "  Routes to it: %s; no VXLAN endpoint", mode);
	}
}

int
cmd_show_peers(struct cmd_ctx *x, const struct cmd_args *a)
{
	struct hgwd *d = x->d;
	const char *which = cmd_arg(a, "PEER");
	struct peer *p, **list = NULL;
	const char **mode;
	size_t n = 0, cap = 0, i;
	struct hgw_addr want;
	char nb[16], age[32];
	uint64_t now = now_ms();

	if (which != NULL && hgw_addr_parse(which, &want) < 0)
		return cmd_fail(x, CTL_ERR_VALUE, "%% Invalid address '%s'", which);
	TAILQ_FOREACH(p, &d->peers, entry) {
		if (which != NULL && hgw_addr_cmp(&p->addr, &want) != 0)
			continue;
		if (grow_array((void **)&list, &cap, n + 1, sizeof(*list)) < 0)
			break;
		list[n++] = p;
	}
	if (which != NULL && n == 0) {
		free(list);
		return cmd_fail(x, CTL_ERR_NOTFOUND, "%% No such peer: %s", which);
	}
	if (n > 1)
		qsort(list, n, sizeof(*list), cmp_peer);
	if ((mode = calloc(n + 1, sizeof(*mode))) == NULL) {
		free(list);
		return cmd_fail(x, CTL_ERR_RUNTIME, "%% Out of memory");
	}
	encap_peer_modes(d, list, n, mode);
	if (cmd_arg(a, "json")) {
		json_object *o = json_object_new_object(), *peers = json_object_new_object();

		json_object_object_add(o, "nodeId", json_object_new_string(
		    hgw_nodeid_fmt(d->node_id, nb, sizeof(nb))));
		for (i = 0; i < n; i++)
			json_object_object_add(peers, list[i]->name, peer_json(list[i], mode[i]));
		json_object_object_add(o, "peers", peers);
		free(list);
		free(mode);
		ctl_json(x->c, o);
		return CTL_OK;
	}
	if (cmd_arg(a, "detail") || which != NULL) {
		for (i = 0; i < n; i++)
			peer_detail(x->c, list[i], mode[i]);
		free(list);
		free(mode);
		return CTL_OK;
	}
	ctl_printf(x->c, "%-24s %-15s %-12s %-10s %6s %6s %6s %8s %8s%s", "Peer", "Node id",
	    "State", "Up/Down", "Hold", "Rcvd", "Acc", "MsgIn", "MsgOut",
	    d->cfg.encap_vxlan ? "  Routes" : "");
	for (i = 0; i < n; i++) {
		const struct session *s;

		p = list[i];
		s = peer_session(p);
		ctl_printf(x->c, "%-24s %-15s %-12s %-10s %6.1f %6llu %6u %8llu %8llu%s%s", p->name,
		    p->node_id ? hgw_nodeid_fmt(p->node_id, nb, sizeof(nb)) : "-", peer_state(p),
		    fmt_age(now - (s ? session_established_ms(s) : p->down_since_ms), age, sizeof(age)),
		    s ? session_hold_ms(s) / 1000.0 : 0.0, (unsigned long long)p->pfx_received,
		    p->pfx_accepted, (unsigned long long)p->st.msgs_in, (unsigned long long)p->st.msgs_out,
		    d->cfg.encap_vxlan ? "  " : "", d->cfg.encap_vxlan ? mode[i] : "");
	}
	for (i = 0; i < n; i++)
		if (list[i]->gr_until_ms != 0)
			ctl_printf(x->c, "%s restarting: %u stale route%s, %.1f s left", list[i]->name,
			    list[i]->gr_stale, list[i]->gr_stale == 1 ? "" : "s", gr_left_ms(list[i]) / 1000.0);
	ctl_printf(x->c, "Total: %zu peer%s", n, n == 1 ? "" : "s");
	free(list);
	free(mode);
	return CTL_OK;
}

/* show routes: streamed over a sorted snapshot of the prefixes. */

struct routes_state {
	struct hgwd *d;
	struct hgw_prefix *pfx;
	size_t n, i;
	int json, first;
	char *held;		/* JSON: last line of the previous entry, awaiting its comma */
};

static json_object *
route_json(struct hgwd *d, const struct rib_entry *e)
{
	json_object *o = json_object_new_object(), *paths = json_object_new_array();
	const struct rib_path *p, *best = rib_best(e);
	char buf[HGW_ADDRSTRLEN], reason[160], nb[16];
	enum fib_state st = fib_state(d, e, reason, sizeof(reason));
	uint32_t now = hgwd_now_ds(d);

	json_object_object_add(o, "prefix", json_object_new_string(
	    hgw_prefix_fmt(&e->pfx, buf, sizeof(buf))));
	json_object_object_add(o, "family", json_object_new_string(
	    e->pfx.family == AF_INET ? "ipv4" : "ipv6"));
	json_object_object_add(o, "installed", json_object_new_boolean(st == FIB_ST_INSTALLED));
	json_object_object_add(o, "fib", json_object_new_string(fib_state_str(st)));
	json_object_object_add(o, "reason", st == FIB_ST_INSTALLED ? NULL : jstr_or_null(reason));
	json_object_object_add(o, "conflict", json_object_new_boolean((e->flags & RIB_E_CONFLICT) != 0));
	json_object_object_add(o, "kernelGateway", e->fib_nh ?
	    json_object_new_string(hgw_addr_fmt(&e->fib_nh->addr, buf, sizeof(buf))) : NULL);
	json_object_object_add(o, "encap", e->fib_nh == NULL ? NULL :
	    json_object_new_string(e->flags & RIB_E_VXLAN ? "vxlan" : "direct"));
	for (p = e->paths; p != NULL; p = p->next) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "origin", json_object_new_string(
		    hgw_nodeid_fmt(p->origin, nb, sizeof(nb))));
		json_object_object_add(j, "gateway", json_object_new_string(
		    hgw_addr_fmt(&p->nh->addr, buf, sizeof(buf))));
		json_object_object_add(j, "peer", p->peer ? json_object_new_string(p->peer->name) : NULL);
		json_object_object_add(j, "local", json_object_new_boolean(p->peer == NULL));
		json_object_object_add(j, "best", json_object_new_boolean(p == best));
		json_object_object_add(j, "stale", json_object_new_boolean((p->flags & RIB_PATH_STALE) != 0));
		json_object_object_add(j, "ageMs", json_object_new_int64((int64_t)((now - p->since_ds) & 0x3fffffffu) * 100));
		json_object_array_add(paths, j);
	}
	json_object_object_add(o, "paths", paths);
	return o;
}

static void
route_text(struct ctl_conn *c, struct hgwd *d, const struct rib_entry *e)
{
	const struct rib_path *p, *best = rib_best(e);
	char pb[HGW_ADDRSTRLEN], gb[HGW_ADDRSTRLEN], ob[16], age[32], reason[160];
	enum fib_state st = fib_state(d, e, reason, sizeof(reason));
	const char *state = fib_state_str(st);
	uint32_t now = hgwd_now_ds(d);
	int first = 1;

	hgw_prefix_fmt(&e->pfx, pb, sizeof(pb));
	if (e->paths == NULL)
		ctl_printf(c, "   %-24s %-24s %-15s %-15s %-9s %s", pb, "-", "-", "-", "-", state);
	for (p = e->paths; p != NULL; p = p->next) {
		char codes[4] = "   ";

		codes[0] = p == best ? '*' : ' ';
		codes[1] = p == best && st == FIB_ST_INSTALLED ? '>' :
		    p->peer == NULL ? 'L' : ' ';
		codes[2] = (e->flags & RIB_E_CONFLICT) ? 'C' : ' ';
		ctl_printf(c, "%s%-24s %-24s %-15s %-15s %-9s %s%s%s%s", codes, first ? pb : "",
		    hgw_addr_fmt(&p->nh->addr, gb, sizeof(gb)),
		    hgw_nodeid_fmt(p->origin, ob, sizeof(ob)), p->peer ? p->peer->name : "local",
		    fmt_age((uint64_t)((now - p->since_ds) & 0x3fffffffu) * 100, age, sizeof(age)),
		    p == best ? state : "", p == best && reason[0] && st != FIB_ST_LOCAL ? ": " : "",
		    p == best && st != FIB_ST_LOCAL ? reason : "",
		    p != best || st != FIB_ST_INSTALLED || !d->cfg.encap_vxlan ? "" :
		    e->flags & RIB_E_VXLAN ? " vxlan" : " direct");
		first = 0;
	}
}

static void
emit_json_entry(struct routes_state *st, struct ctl_conn *c, const char *key, json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
	char line[1024];
	int first = 1;

	if (st->held != NULL) {
		snprintf(line, sizeof(line), "%s,", st->held);
		ctl_line(c, CTL_DATA, line);
		free(st->held);
		st->held = NULL;
	}
	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);

		if (first)
			snprintf(line, sizeof(line), "    \"%s\": %.*s", key, (int)n, s);
		else
			snprintf(line, sizeof(line), "    %.*s", (int)n, s);
		first = 0;
		s += n + (nl != NULL);
		if (*s == '\0')
			st->held = strdup(line);
		else
			ctl_line(c, CTL_DATA, line);
	}
}

static int
routes_gen(struct ctl_conn *c, void *arg)
{
	struct routes_state *st = arg;
	size_t k;

	if (st->first) {
		st->first = 0;
		if (st->json) {
			ctl_line(c, CTL_DATA, "{");
			ctl_line(c, CTL_DATA, "  \"routes\": {");
		} else {
			ctl_printf(c, "Codes: * best, > installed, L local, C conflict");
			ctl_printf(c, "   %-24s %-24s %-15s %-15s %-9s %s", "Prefix", "Gateway",
			    "Origin", "Peer", "Age", "FIB");
		}
	}
	for (k = 0; k < ROUTES_PER_CALL && st->i < st->n; st->i++) {
		struct rib_entry *e = rib_lookup(&st->d->rib, &st->pfx[st->i]);
		char pb[HGW_ADDRSTRLEN];

		if (e == NULL)
			continue;	/* gone since the snapshot */
		k++;
		if (st->json) {
			json_object *o = route_json(st->d, e);

			emit_json_entry(st, c, hgw_prefix_fmt(&e->pfx, pb, sizeof(pb)), o);
			json_object_put(o);
		} else
			route_text(c, st->d, e);
	}
	if (st->i < st->n)
		return 1;
	if (st->json) {
		if (st->held != NULL)
			ctl_line(c, CTL_DATA, st->held);
		ctl_line(c, CTL_DATA, "  }");
		ctl_line(c, CTL_DATA, "}");
	}
	return 0;
}

static void
routes_free(void *arg)
{
	struct routes_state *st = arg;

	free(st->pfx);
	free(st->held);
	free(st);
}

int
cmd_show_routes(struct cmd_ctx *x, const struct cmd_args *a)
{
	struct hgwd *d = x->d;
	const char *which = cmd_arg(a, "ROUTE");
	struct routes_state *st = calloc(1, sizeof(*st));

	if (st == NULL)
		return cmd_fail(x, CTL_ERR_RUNTIME, "%% Out of memory");
	st->d = d;
	st->json = cmd_arg(a, "json") != NULL;
	st->first = 1;
	if (which != NULL) {
		const char *why;

		if ((st->pfx = malloc(sizeof(*st->pfx))) == NULL ||
		    hgw_prefix_parse(which, st->pfx, &why) < 0) {
			routes_free(st);
			return cmd_fail(x, CTL_ERR_VALUE, "%% Invalid prefix '%s'", which);
		}
		if (rib_lookup(&d->rib, st->pfx) == NULL) {
			routes_free(st);
			return cmd_fail(x, CTL_ERR_NOTFOUND, "%% No route for %s", which);
		}
		st->n = 1;
	} else
		st->pfx = rib_snapshot(&d->rib, &st->n);
	ctl_stream(x->c, routes_gen, st, routes_free);
	return CMD_STREAMING;
}

/* show fib: what the kernel holds for our protocol, against the RIB. */

struct fib_row {
	struct hgw_prefix pfx;
	struct hgw_addr gw;
	uint32_t metric;
	int vx;			/* through the VXLAN device */
};

struct fib_dump {
	struct fib_row *rows;
	size_t n, cap;
	const struct kernel *k;	/* NULL: not a kernel dump */
	int vx_index;
};

static void
fib_collect(void *arg, const struct hgw_prefix *p, const struct hgw_addr *gw, uint32_t metric)
{
	struct fib_dump *fd = arg;

	if (grow_array((void **)&fd->rows, &fd->cap, fd->n + 1, sizeof(*fd->rows)) < 0)
		return;
	fd->rows[fd->n].pfx = *p;
	fd->rows[fd->n].gw = *gw;
	fd->rows[fd->n].metric = metric;
	fd->rows[fd->n].vx = fd->k != NULL && fd->vx_index != 0 &&
	    kernel_route_oif(fd->k) == fd->vx_index;
	fd->n++;
}

static uint32_t cmp_row_metric;	/* ours sorts first among a prefix's routes */

static int
cmp_row(const void *a, const void *b)
{
	const struct fib_row *x = a, *y = b;
	int c = hgw_prefix_cmp(&x->pfx, &y->pfx);

	if (c != 0)
		return c;
	if ((x->metric == cmp_row_metric) != (y->metric == cmp_row_metric))
		return x->metric == cmp_row_metric ? -1 : 1;
	return x->metric < y->metric ? -1 : x->metric > y->metric;
}

/* How a kernel route compares with the RIB's wish. */
enum fib_diff { FIB_DIFF_OK, FIB_DIFF_MISSING, FIB_DIFF_STALE_METRIC, FIB_DIFF_EXTRA, FIB_DIFF_DIFFERENT };
static const char *const fib_diff_names[] = { "ok", "missing", "stale-metric", "extra", "different" };

/* The RIB's wish for p: its best path's gateway when it should be installed. */
static const struct nexthop *
rib_wish(struct hgwd *d, const struct hgw_prefix *p)
{
	struct rib_entry *e = rib_lookup(&d->rib, p);
	char reason[160];

	if (e == NULL || rib_best(e) == NULL || rib_best(e)->peer == NULL)
		return NULL;
	if (fib_state(d, e, reason, sizeof(reason)) == FIB_ST_NOT_INSTALLED)
		return NULL;
	return rib_best(e)->nh;
}

struct missing_ctx {
	struct hgwd *d;
	struct fib_dump *fd;
	struct fib_dump missing;
};

static void
find_missing(void *arg, struct rib_entry *e)
{
	struct missing_ctx *m = arg;
	const struct nexthop *w = rib_wish(m->d, &e->pfx);
	struct fib_row key;

	if (w == NULL)
		return;
	key.pfx = e->pfx;
	key.metric = kernel_effective_metric(e->pfx.family, m->d->cfg.kernel_metric);
	if (m->fd->n && bsearch(&key, m->fd->rows, m->fd->n, sizeof(key), cmp_row) != NULL)
		return;
	fib_collect(&m->missing, &e->pfx, &w->addr, m->d->cfg.kernel_metric);
}

/* show fib's VXLAN part: the device and the neighbour and FDB entries
 * hgwd holds on it (one FDB entry per MAC). */
struct vx_list {
	json_object *nbrs, *fdb;
	struct ctl_conn *c;
	uint8_t (*macs)[6];
	size_t nmacs, cap;
};

static void
vx_entry(void *arg, const struct hgw_addr *gw, const uint8_t mac[6], const struct hgw_addr *dst,
    uint32_t refs)
{
	struct vx_list *l = arg;
	char gb[HGW_ADDRSTRLEN], db[HGW_ADDRSTRLEN], mb[24];
	size_t i;

	hgw_addr_fmt(gw, gb, sizeof(gb));
	hgw_addr_fmt(dst, db, sizeof(db));
	vxlan_mac_fmt(mac, mb, sizeof(mb));
	if (l->nbrs != NULL) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "address", json_object_new_string(gb));
		json_object_object_add(j, "mac", json_object_new_string(mb));
		json_object_object_add(j, "routes", json_object_new_int64(refs));
		json_object_array_add(l->nbrs, j);
	} else
		ctl_printf(l->c, "  neighbor %-24s lladdr %s (%u route%s)", gb, mb, refs,
		    refs == 1 ? "" : "s");
	for (i = 0; i < l->nmacs; i++)
		if (memcmp(l->macs[i], mac, 6) == 0)
			return;
	if (grow_array((void **)&l->macs, &l->cap, l->nmacs + 1, sizeof(*l->macs)) < 0)
		return;
	memcpy(l->macs[l->nmacs++], mac, 6);
	if (l->fdb != NULL) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "mac", json_object_new_string(mb));
		json_object_object_add(j, "dst", json_object_new_string(db));
		json_object_array_add(l->fdb, j);
	} else
		ctl_printf(l->c, "  fdb      %-24s dst %s", mb, db);
}

static json_object *
fib_vxlan_json(struct hgwd *d)
{
	const struct vxlan_params *vp;
	struct vx_list l = { NULL, NULL, NULL, NULL, 0, 0 };
	json_object *o;
	char ab[HGW_ADDRSTRLEN], mb[24];

	if (!vxlan_running(d->vxlan))
		return NULL;
	vp = vxlan_params(d->vxlan);
	o = json_object_new_object();
	l.nbrs = json_object_new_array();
	l.fdb = json_object_new_array();
	vxlan_foreach(d->vxlan, vx_entry, &l);
	free(l.macs);
	json_object_object_add(o, "device", json_object_new_string(VXLAN_IFNAME));
	json_object_object_add(o, "vni", json_object_new_int64(vp->vni));
	json_object_object_add(o, "port", json_object_new_int(vp->port));
	json_object_object_add(o, "mtu", json_object_new_int64(vxlan_mtu(d->vxlan)));
	json_object_object_add(o, "local", json_object_new_string(hgw_addr_fmt(&vp->local, ab, sizeof(ab))));
	json_object_object_add(o, "mac", json_object_new_string(vxlan_mac_fmt(vp->mac, mb, sizeof(mb))));
	json_object_object_add(o, "neighbors", l.nbrs);
	json_object_object_add(o, "fdb", l.fdb);
	return o;
}

static void
fib_vxlan_text(struct ctl_conn *c, struct hgwd *d)
{
	const struct vxlan_params *vp;
	struct vx_list l = { NULL, NULL, c, NULL, 0, 0 };
	char ab[HGW_ADDRSTRLEN], mb[24];

	if (!vxlan_running(d->vxlan))
		return;
	vp = vxlan_params(d->vxlan);
	ctl_printf(c, "VXLAN device %s: VNI %u, port %u, MTU %u, local %s, MAC %s", VXLAN_IFNAME,
	    vp->vni, vp->port, vxlan_mtu(d->vxlan), hgw_addr_fmt(&vp->local, ab, sizeof(ab)),
	    vxlan_mac_fmt(vp->mac, mb, sizeof(mb)));
	vxlan_foreach(d->vxlan, vx_entry, &l);
	free(l.macs);
}

int
cmd_show_fib(struct cmd_ctx *x, const struct cmd_args *a)
{
	struct hgwd *d = x->d;
	struct fib_dump fd = { NULL, 0, 0, d->kernel, vxlan_ifindex(d->vxlan) };
	struct missing_ctx m;
	int json = cmd_arg(a, "json") != NULL;
	json_object *o = NULL, *routes = NULL;
	size_t i, diffs = 0;
	char pb[HGW_ADDRSTRLEN], gb[HGW_ADDRSTRLEN], wb[HGW_ADDRSTRLEN];

	if (!d->cfg.kernel_on) {
		if (json) {
			o = json_object_new_object();
			json_object_object_add(o, "enabled", json_object_new_boolean(0));
			json_object_object_add(o, "protocol", json_object_new_int(d->cfg.kernel_proto));
			json_object_object_add(o, "table", json_object_new_int64(d->cfg.kernel_table));
			json_object_object_add(o, "interface", json_object_new_string(d->cfg.ifname));
			json_object_object_add(o, "routes", json_object_new_object());
			json_object_object_add(o, "differences", json_object_new_int(0));
			json_object_object_add(o, "vxlan", fib_vxlan_json(d));
			ctl_json(x->c, o);
		} else
			ctl_printf(x->c, "Kernel routes are off (kernel off): hgwd writes none");
		return CTL_OK;
	}
	if (kernel_dump(d->kernel, fib_collect, &fd) < 0) {
		free(fd.rows);
		return cmd_fail(x, CTL_ERR_RUNTIME, "%% Cannot read the kernel's routes");
	}
	cmp_row_metric = d->cfg.kernel_metric;
	if (fd.n > 1)
		qsort(fd.rows, fd.n, sizeof(*fd.rows), cmp_row);
	memset(&m, 0, sizeof(m));
	m.d = d;
	m.fd = &fd;
	rib_foreach(&d->rib, find_missing, &m);
	if (json) {
		o = json_object_new_object();
		routes = json_object_new_object();
		json_object_object_add(o, "protocol", json_object_new_int(d->cfg.kernel_proto));
		json_object_object_add(o, "table", json_object_new_int64(d->cfg.kernel_table));
		json_object_object_add(o, "interface", json_object_new_string(d->cfg.ifname));
		json_object_object_add(o, "enabled", json_object_new_boolean(1));
	} else
		ctl_printf(x->c, "Kernel routes of protocol %u in table %u (%s: differs from the RIB)",
		    d->cfg.kernel_proto, d->cfg.kernel_table, "!");
	for (i = 0; i < fd.n + m.missing.n; i++) {
		int missing = i >= fd.n;
		struct fib_row *r = missing ? &m.missing.rows[i - fd.n] : &fd.rows[i];
		const struct nexthop *w = missing ? NULL : rib_wish(d, &r->pfx);
		enum fib_diff st;
		const char *status;

		if (missing)
			st = FIB_DIFF_MISSING;
		else if (r->metric != d->cfg.kernel_metric &&
		    r->metric != kernel_effective_metric(r->pfx.family, d->cfg.kernel_metric))
			st = FIB_DIFF_STALE_METRIC;
		else if (w == NULL)
			st = FIB_DIFF_EXTRA;
		else if (hgw_addr_cmp(&w->addr, &r->gw) != 0)
			st = FIB_DIFF_DIFFERENT;
		else
			st = FIB_DIFF_OK;
		status = fib_diff_names[st];
		diffs += st != FIB_DIFF_OK;
		hgw_prefix_fmt(&r->pfx, pb, sizeof(pb));
		hgw_addr_fmt(&r->gw, gb, sizeof(gb));
		if (json) {
			json_object *j = json_object_new_object();

			json_object_object_add(j, "prefix", json_object_new_string(pb));
			json_object_object_add(j, "gateway", missing ? NULL : json_object_new_string(gb));
			json_object_object_add(j, "metric", missing ? NULL : json_object_new_int64(r->metric));
			json_object_object_add(j, "ribGateway", missing ? json_object_new_string(gb) :
			    w ? json_object_new_string(hgw_addr_fmt(&w->addr, wb, sizeof(wb))) : NULL);
			json_object_object_add(j, "status", json_object_new_string(status));
			json_object_object_add(j, "encap", missing ? NULL :
			    json_object_new_string(r->vx ? "vxlan" : "direct"));
			/* A prefix the kernel holds twice (another metric): the
			 * second is keyed "PREFIX metric N", so nothing is lost. */
			if (json_object_object_get_ex(routes, pb, NULL)) {
				char key[HGW_ADDRSTRLEN + 24];

				snprintf(key, sizeof(key), "%s metric %u", pb, r->metric);
				json_object_object_add(routes, key, j);
			} else
				json_object_object_add(routes, pb, j);
		} else
			ctl_printf(x->c, "%c %-24s via %-24s metric %-6u %s%s", st != FIB_DIFF_OK ? '!' : ' ',
			    pb, missing ? "-" : gb, r->metric, r->vx ? "dev " VXLAN_IFNAME " onlink " : "",
			    st == FIB_DIFF_OK ? "" : missing ? "missing (the RIB wants it)" : status);
	}
	if (json) {
		json_object_object_add(o, "routes", routes);
		json_object_object_add(o, "differences", json_object_new_int64((int64_t)diffs));
		json_object_object_add(o, "vxlan", fib_vxlan_json(d));
		ctl_json(x->c, o);
	} else {
		ctl_printf(x->c, "Total: %zu in the kernel, %zu difference%s", fd.n, diffs,
		    diffs == 1 ? "" : "s");
		fib_vxlan_text(x->c, d);
	}
	free(fd.rows);
	free(m.missing.rows);
	return CTL_OK;
}

int
cmd_show_running(struct cmd_ctx *x, const struct cmd_args *a)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return cmd_fail(x, CTL_ERR_RUNTIME, "%% Out of memory");
	config_write(&x->d->cfg, f);
	fclose(f);
	{
		char *line, *save = NULL;
		json_object *o = NULL, *lines = NULL;

		if (cmd_arg(a, "json")) {
			o = json_object_new_object();
			lines = json_object_new_array();
		}
		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			if (lines)
				json_object_array_add(lines, json_object_new_string(line));
			else
				ctl_line(x->c, CTL_DATA, line);
		}
		if (o) {
			json_object_object_add(o, "path", json_object_new_string(x->d->cfg_path));
			json_object_object_add(o, "lines", lines);
			ctl_json(x->c, o);
		}
	}
	free(buf);
	return CTL_OK;
}

int
cmd_show_version(struct cmd_ctx *x, const struct cmd_args *a)
{
	if (cmd_arg(a, "json")) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "version", json_object_new_string(PACKAGE_VERSION));
		json_object_object_add(o, "protocolVersion", json_object_new_int(HGW_PROTO_VERSION));
		ctl_json(x->c, o);
		return CTL_OK;
	}
	ctl_printf(x->c, "hgwd %s, protocol version %d", PACKAGE_VERSION, HGW_PROTO_VERSION);
	return CTL_OK;
}
