/* cmd_show_mesh.c: show leases and show members: the mesh's subnet leases
 * and its members, read through lease.c's and peer.c's accessors. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "ctl.h"
#include "hgwd.h"
#include "lease.h"
#include "peer.h"
#include "util.h"

#define MAX_EVENTS 64

int
cmd_show_leases(struct cmd_ctx *x, const struct cmd_args *a)
{
	struct hgwd *d = x->d;
	char pb[HGW_ADDRSTRLEN], nb[16], tb[32];
	const char *events[MAX_EVENTS];
	size_t i, n = leases_count(d), nev = leases_events(d, events, MAX_EVENTS);
	struct lease_info li;
	struct hgw_prefix mine;
	const char *unsaved = leases_unsaved(d), *last_refused;
	uint64_t nrefused = leases_refused(d, &last_refused);
	int fi;

	if (cmd_arg(a, "json")) {
		json_object *o = json_object_new_object(), *arr = json_object_new_array();
		json_object *ev = json_object_new_array(), *nets = json_object_new_object();

		for (fi = 0; fi < 2; fi++) {
			int fam = fi ? AF_INET6 : AF_INET;
			const char *err = leases_error(d, fam);
			json_object *j;

			if (!d->cfg.lease_len[fi])
				continue;
			j = json_object_new_object();
			json_object_object_add(j, "clusterNetwork", json_object_new_string(
			    hgw_prefix_fmt(&d->cfg.lease_net[fi], pb, sizeof(pb))));
			json_object_object_add(j, "subnetLength", json_object_new_int(d->cfg.lease_len[fi]));
			json_object_object_add(j, "lease", leases_mine(d, fam, &mine) == 0 ?
			    json_object_new_string(hgw_prefix_fmt(&mine, pb, sizeof(pb))) : NULL);
			json_object_object_add(j, "error", err[0] ? json_object_new_string(err) : NULL);
			json_object_object_add(nets, fi ? "ipv6" : "ipv4", j);
		}
		json_object_object_add(o, "nodeId", json_object_new_string(
		    hgw_nodeid_fmt(d->node_id, nb, sizeof(nb))));
		json_object_object_add(o, "families", nets);
		for (i = 0; i < n && leases_get(d, i, &li) == 0; i++) {
			json_object *e = json_object_new_object();

			json_object_object_add(e, "subnet", json_object_new_string(
			    hgw_prefix_fmt(&li.prefix, pb, sizeof(pb))));
			json_object_object_add(e, "owner", json_object_new_string(
			    hgw_nodeid_fmt(li.owner, nb, sizeof(nb))));
			json_object_object_add(e, "claimedAtMs", json_object_new_int64((int64_t)li.claim_ms));
			json_object_object_add(e, "state", json_object_new_string(lease_state_str(li.state)));
			json_object_object_add(e, "expiresInMs", li.state == LEASE_RESERVED ?
			    json_object_new_int64((int64_t)li.expires_ms) : NULL);
			json_object_array_add(arr, e);
		}
		json_object_object_add(o, "leases", arr);
		json_object_object_add(o, "leaseHoldS", json_object_new_int64(d->cfg.lease_hold_s));
		json_object_object_add(o, "stateSaved", json_object_new_boolean(unsaved == NULL));
		json_object_object_add(o, "saveError", unsaved != NULL ? json_object_new_string(unsaved) : NULL);
		json_object_object_add(o, "refused", json_object_new_int64((int64_t)nrefused));
		json_object_object_add(o, "lastRefused", last_refused[0] ?
		    json_object_new_string(last_refused) : NULL);
		for (i = 0; i < nev; i++)
			json_object_array_add(ev, json_object_new_string(events[i]));
		json_object_object_add(o, "events", ev);
		ctl_json(x->c, o);
		return CTL_OK;
	}
	for (fi = 0; fi < 2; fi++) {
		int fam = fi ? AF_INET6 : AF_INET, have;
		const char *err = leases_error(d, fam);

		if (!d->cfg.lease_len[fi])
			continue;
		have = leases_mine(d, fam, &mine) == 0;
		ctl_printf(x->c, "Cluster network %s, /%u per node: %s%s",
		    hgw_prefix_fmt(&d->cfg.lease_net[fi], pb, sizeof(pb)), d->cfg.lease_len[fi],
		    have ? "this node leases " : "no lease: ",
		    have ? hgw_prefix_fmt(&mine, tb, sizeof(tb)) :
		    err[0] ? err : "waiting for the initial sync");
	}
	if (unsaved != NULL)
		ctl_printf(x->c, "State file not saved (retrying): %s", unsaved);
	if (nrefused > 0)
		ctl_printf(x->c, "Refused claims and releases: %llu, the last: %s",
		    (unsigned long long)nrefused, last_refused);
	ctl_printf(x->c, "%-24s %-15s %-10s %s", "Subnet", "Owner", "State", "Claimed");
	for (i = 0; i < n && leases_get(d, i, &li) == 0; i++) {
		time_t t = (time_t)(li.claim_ms / 1000);
		struct tm tm;
		char when[32], extra[48] = "";

		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (li.state == LEASE_RESERVED && li.expires_ms)
			snprintf(extra, sizeof(extra), ", reserved for %llu s more",
			    (unsigned long long)(li.expires_ms / 1000));
		ctl_printf(x->c, "%-24s %-15s %-10s %s%s", hgw_prefix_fmt(&li.prefix, pb, sizeof(pb)),
		    hgw_nodeid_fmt(li.owner, nb, sizeof(nb)), lease_state_str(li.state), when, extra);
	}
	if (nev > 0)
		ctl_printf(x->c, "Recent events:");
	for (i = 0; i < nev; i++)
		ctl_printf(x->c, "  %s", events[i]);
	return CTL_OK;
}

/* show members */

static const char *
member_state(const struct peer *p)
{
	if (peer_is_up(p))
		return "alive";
	if (p->configured)
		return "dialling (seed)";
	return "dialling";
}

int
cmd_show_members(struct cmd_ctx *x, const struct cmd_args *a)
{
	struct hgwd *d = x->d;
	struct peer *p;
	char nb[16], ab[HGW_ADDRSTRLEN];
	uint64_t now = now_ms();
	int n = 1;

	if (cmd_arg(a, "json")) {
		json_object *o = json_object_new_object(), *arr = json_object_new_array(), *me;

		me = json_object_new_object();
		json_object_object_add(me, "nodeId", json_object_new_string(
		    hgw_nodeid_fmt(d->node_id, nb, sizeof(nb))));
		json_object_object_add(me, "address", json_object_new_string(
		    hgw_addr_fmt(d->addr4.family ? &d->addr4 : &d->addr6, ab, sizeof(ab))));
		json_object_object_add(me, "port", json_object_new_int(d->listen_port));
		json_object_object_add(me, "state", json_object_new_string("self"));
		json_object_object_add(me, "source", json_object_new_string("self"));
		json_object_array_add(arr, me);
		TAILQ_FOREACH(p, &d->peers, entry) {
			json_object *m;

			if (!p->configured && !p->learned && !peer_has_cap(p, HGW_CAP_MEMBERS))
				continue;
			m = json_object_new_object();
			json_object_object_add(m, "nodeId", p->node_id ? json_object_new_string(
			    hgw_nodeid_fmt(p->node_id, nb, sizeof(nb))) : NULL);
			json_object_object_add(m, "address", json_object_new_string(p->name));
			json_object_object_add(m, "port", json_object_new_int(p->remote_port ?
			    p->remote_port : p->port));
			json_object_object_add(m, "state", json_object_new_string(member_state(p)));
			json_object_object_add(m, "source", json_object_new_string(p->configured ?
			    "config" : p->learned_how[0] ? p->learned_how : "dialled us"));
			json_object_object_add(m, "giveUpInMs", !peer_is_up(p) && p->learned &&
			    p->giveup_at_ms > now ? json_object_new_int64((int64_t)(p->giveup_at_ms - now)) : NULL);
			json_object_array_add(arr, m);
		}
		json_object_object_add(o, "members", arr);
		json_object_object_add(o, "discovery", json_object_new_boolean(d->cfg.discovery));
		ctl_json(x->c, o);
		return CTL_OK;
	}
	ctl_printf(x->c, "%-15s %-24s %-6s %-16s %s", "Node id", "Address", "Port", "State", "Source");
	ctl_printf(x->c, "%-15s %-24s %-6u %-16s %s", hgw_nodeid_fmt(d->node_id, nb, sizeof(nb)),
	    hgw_addr_fmt(d->addr4.family ? &d->addr4 : &d->addr6, ab, sizeof(ab)), d->listen_port,
	    "self", "-");
	TAILQ_FOREACH(p, &d->peers, entry) {
		if (!p->configured && !p->learned && !peer_has_cap(p, HGW_CAP_MEMBERS))
			continue;
		ctl_printf(x->c, "%-15s %-24s %-6u %-16s %s", p->node_id ?
		    hgw_nodeid_fmt(p->node_id, nb, sizeof(nb)) : "-", p->name,
		    p->remote_port ? p->remote_port : p->port, member_state(p),
		    p->configured ? "config" : p->learned_how[0] ? p->learned_how : "dialled us");
		n++;
	}
	ctl_printf(x->c, "Total: %d member%s%s", n, n == 1 ? "" : "s",
	    d->cfg.discovery ? "; discovery by multicast beacon is on" : "");
	return CTL_OK;
}
