/* http.c: metrics and health over HTTP with libevent's evhttp. /metrics in
 * the Prometheus text exposition format 0.0.4, from one stats snapshot (the
 * numbers of show summary/peers json); /healthz answers while the event loop
 * runs; /readyz once the initial sync is over and, with leases, a lease is
 * held, else 503 with the reason. Off until an `http listen` statement. */
#include "http.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsm.h"
#include "hgwd.h"
#include "log.h"
#include "stats.h"
#include "wire.h"

#define HTTP_TIMEOUT_S		10
#define HTTP_MAX_HEADERS	8192

struct http {
	struct hgwd *d;
	struct evhttp *eh;
	struct cfg_http bound[CFG_HTTP_MAX];
	size_t nbound;
};

/* A label value: backslash, quote and newline escaped. */
static const char *
label(const char *in, char *buf, size_t len)
{
	size_t o = 0;

	for (; *in && o + 2 < len; in++) {
		if (*in == '\\' || *in == '"' || *in == '\n') {
			buf[o++] = '\\';
			buf[o++] = *in == '\n' ? 'n' : *in;
		} else
			buf[o++] = *in;
	}
	buf[o] = '\0';
	return buf;
}

static void
family(struct evbuffer *b, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
per_peer(struct evbuffer *b, const struct stats *s, const char *name, const char *type,
    const char *help, int which)
{
	size_t i;
	char lb[2 * HGW_ADDRSTRLEN];

	family(b, name, type, help);
	for (i = 0; i < s->npeers; i++) {
		const struct stats_peer *p = &s->peers[i];
		unsigned long long v = which == 0 ? p->flaps : which == 1 ? p->pfx_received :
		    which == 2 ? p->pfx_accepted : which == 3 ? p->pfx_refused :
		    which == 4 ? (unsigned long long)(strcmp(p->state, "established") == 0) :
		    p->errors;

		evbuffer_add_printf(b, "%s{peer=\"%s\"} %llu\n", name,
		    label(p->name, lb, sizeof(lb)), v);
	}
}

static void
metrics(struct http *h, struct evbuffer *b)
{
	struct stats s;
	size_t i;
	int prio;
	char vb[64];

	if (stats_collect(h->d, &s) < 0)
		return;
	family(b, "hgw_build_info", "gauge", "hgwd's version and protocol version; always 1.");
	evbuffer_add_printf(b, "hgw_build_info{version=\"%s\",protocol=\"%d\"} 1\n",
	    label(PACKAGE_VERSION, vb, sizeof(vb)), HGW_PROTO_VERSION);
	family(b, "hgw_uptime_seconds", "gauge", "Seconds since hgwd started.");
	evbuffer_add_printf(b, "hgw_uptime_seconds %llu.%03llu\n",
	    (unsigned long long)(s.uptime_ms / 1000), (unsigned long long)(s.uptime_ms % 1000));
	family(b, "hgw_peers", "gauge", "Peers by session state (as in show peers).");
	for (i = 0; i < s.nstates; i++)
		evbuffer_add_printf(b, "hgw_peers{state=\"%s\"} %zu\n", s.state_names[i], s.by_state[i]);
	family(b, "hgw_peers_configured", "gauge", "Peers configured as neighbors.");
	evbuffer_add_printf(b, "hgw_peers_configured %zu\n", s.nconfigured);
	per_peer(b, &s, "hgw_peer_up", "gauge", "1 when the peer's session is established.", 4);
	per_peer(b, &s, "hgw_peer_session_flaps_total", "counter",
	    "Established sessions of the peer that went down.", 0);
	per_peer(b, &s, "hgw_peer_prefixes_received_total", "counter",
	    "Prefixes the peer announced.", 1);
	per_peer(b, &s, "hgw_peer_prefixes_accepted", "gauge",
	    "Prefixes of the peer in the RIB now.", 2);
	per_peer(b, &s, "hgw_peer_prefixes_refused_total", "counter",
	    "Prefixes of the peer refused by policy.", 3);
	per_peer(b, &s, "hgw_peer_errors_total", "counter", "Session errors with the peer.", 5);
	family(b, "hgw_rib_prefixes", "gauge", "Prefixes in the RIB.");
	evbuffer_add_printf(b, "hgw_rib_prefixes %zu\n", s.prefixes);
	family(b, "hgw_rib_paths", "gauge", "Paths in the RIB.");
	evbuffer_add_printf(b, "hgw_rib_paths %zu\n", s.paths);
	family(b, "hgw_rib_routes", "gauge", "RIB prefixes with a best path, by origin.");
	evbuffer_add_printf(b, "hgw_rib_routes{origin=\"local\"} %zu\n", s.local);
	evbuffer_add_printf(b, "hgw_rib_routes{origin=\"learned\"} %zu\n", s.learned);
	family(b, "hgw_rib_conflicts", "gauge", "Prefixes announced by more than one origin.");
	evbuffer_add_printf(b, "hgw_rib_conflicts %zu\n", s.conflicts);
	family(b, "hgw_fib_routes_installed", "gauge", "Routes installed in the kernel.");
	evbuffer_add_printf(b, "hgw_fib_routes_installed %zu\n", s.installed);
	family(b, "hgw_fib_routes_failed", "gauge", "Learned routes the kernel refused or that cannot be installed.");
	evbuffer_add_printf(b, "hgw_fib_routes_failed %zu\n", s.failed);
	family(b, "hgw_fib_enabled", "gauge", "1 unless kernel off.");
	evbuffer_add_printf(b, "hgw_fib_enabled %d\n", s.kernel_on);
	family(b, "hgw_fib_writes_total", "counter", "Route writes sent to the kernel.");
	evbuffer_add_printf(b, "hgw_fib_writes_total %llu\n", (unsigned long long)s.kernel_writes);
	family(b, "hgw_fib_write_errors_total", "counter", "Route writes the kernel refused.");
	evbuffer_add_printf(b, "hgw_fib_write_errors_total %llu\n", (unsigned long long)s.kernel_errors);
	family(b, "hgw_kernel_resyncs_total", "counter", "Full comparisons of the RIB with the kernel's table.");
	evbuffer_add_printf(b, "hgw_kernel_resyncs_total %llu\n", (unsigned long long)s.resyncs);
	family(b, "hgw_kernel_overruns_total", "counter", "Netlink event losses (each forces a resync).");
	evbuffer_add_printf(b, "hgw_kernel_overruns_total %llu\n", (unsigned long long)s.kernel_overruns);
	family(b, "hgw_initial_sync_done", "gauge", "1 once the initial sync is over.");
	evbuffer_add_printf(b, "hgw_initial_sync_done %d\n", s.sync_done);
	family(b, "hgw_lease_configured", "gauge", "1 when this node leases a subnet in the family.");
	evbuffer_add_printf(b, "hgw_lease_configured{family=\"ipv4\"} %d\n", s.lease_wanted[0]);
	evbuffer_add_printf(b, "hgw_lease_configured{family=\"ipv6\"} %d\n", s.lease_wanted[1]);
	family(b, "hgw_lease_held", "gauge", "1 when this node holds its lease in the family.");
	evbuffer_add_printf(b, "hgw_lease_held{family=\"ipv4\"} %d\n", s.lease_held[0]);
	evbuffer_add_printf(b, "hgw_lease_held{family=\"ipv6\"} %d\n", s.lease_held[1]);
	family(b, "hgw_connections_refused_total", "counter",
	    "Inbound connections refused (strangers, rate and handshake limits).");
	evbuffer_add_printf(b, "hgw_connections_refused_total %llu\n", (unsigned long long)s.refused);
	family(b, "hgw_log_lines_total", "counter", "Log lines by severity.");
	for (prio = LOG_ERR; prio <= LOG_DEBUG; prio++)
		evbuffer_add_printf(b, "hgw_log_lines_total{level=\"%s\"} %llu\n", log_level_name(prio),
		    (unsigned long long)log_lines_total(prio));
	family(b, "hgw_log_lines_suppressed_total", "counter",
	    "Log lines left out: a peer's repeated failures, and lines below the configured level.");
	evbuffer_add_printf(b, "hgw_log_lines_suppressed_total %llu\n",
	    (unsigned long long)s.log_suppressed);
	stats_free(&s);
}

static void
reply(struct evhttp_request *req, int code, const char *reason, const char *ctype,
    struct evbuffer *b)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
	evhttp_send_reply(req, code, reason, b);
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct http *h = arg;
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	const char *path = u ? evhttp_uri_get_path(u) : NULL;
	struct evbuffer *b = evbuffer_new();
	const char *text = "text/plain; charset=utf-8";

	if (b == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	if (path == NULL)
		path = "";
	if (strcmp(path, "/metrics") == 0) {
		metrics(h, b);
		reply(req, HTTP_OK, "OK", "text/plain; version=0.0.4; charset=utf-8", b);
	} else if (strcmp(path, "/healthz") == 0) {
		evbuffer_add_printf(b, "ok\n");
		reply(req, HTTP_OK, "OK", text, b);
	} else if (strcmp(path, "/readyz") == 0) {
		struct stats s;
		char why[160];
		const char *r;

		if (stats_collect(h->d, &s) < 0) {
			evbuffer_add_printf(b, "out of memory\n");
			reply(req, HTTP_SERVUNAVAIL, "Service Unavailable", text, b);
		} else if ((r = stats_not_ready(&s, why, sizeof(why))) != NULL) {
			evbuffer_add_printf(b, "not ready: %s\n", r);
			reply(req, HTTP_SERVUNAVAIL, "Service Unavailable", text, b);
		} else {
			evbuffer_add_printf(b, "ready\n");
			reply(req, HTTP_OK, "OK", text, b);
		}
		stats_free(&s);
	} else {
		evbuffer_add_printf(b, "not found: /metrics, /healthz and /readyz are served here\n");
		reply(req, HTTP_NOTFOUND, "Not Found", text, b);
	}
	evbuffer_free(b);
}

/* A server on every address of c's http statements, or NULL with err. */
static struct evhttp *
open_all(struct http *h, const struct config *c, char *err, size_t errlen)
{
	struct evhttp *eh;
	char ab[HGW_ADDRSTRLEN];
	size_t i;

	if ((eh = evhttp_new(h->d->base)) == NULL) {
		snprintf(err, errlen, "http: out of memory");
		return NULL;
	}
	evhttp_set_allowed_methods(eh, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_timeout(eh, HTTP_TIMEOUT_S);
	evhttp_set_max_headers_size(eh, HTTP_MAX_HEADERS);
	evhttp_set_max_body_size(eh, 0);
	evhttp_set_gencb(eh, on_request, h);
	for (i = 0; i < c->nhttp; i++) {
		hgw_addr_fmt(&c->http[i].addr, ab, sizeof(ab));
		if (evhttp_bind_socket_with_handle(eh, ab, c->http[i].port) == NULL) {
			snprintf(err, errlen, "http listen %s port %u: cannot listen (%s)", ab,
			    c->http[i].port, evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
			evhttp_free(eh);
			return NULL;
		}
		log_info("http: serving /metrics, /healthz and /readyz on %s%s%s port %u",
		    c->http[i].addr.family == AF_INET6 ? "[" : "", ab,
		    c->http[i].addr.family == AF_INET6 ? "]" : "", c->http[i].port);
	}
	return eh;
}

int
http_start(struct hgwd *d, char *err, size_t errlen)
{
	struct http *h;

	if ((h = calloc(1, sizeof(*h))) == NULL) {
		snprintf(err, errlen, "http: out of memory");
		return -1;
	}
	h->d = d;
	d->http = h;
	if (d->cfg.nhttp == 0)
		return 0;
	if ((h->eh = open_all(h, &d->cfg, err, errlen)) == NULL)
		return -1;
	memcpy(h->bound, d->cfg.http, d->cfg.nhttp * sizeof(h->bound[0]));
	h->nbound = d->cfg.nhttp;
	return 0;
}

void
http_config_changed(struct hgwd *d)
{
	struct http *h = d->http;
	struct evhttp *eh = NULL;
	char err[256];

	if (h == NULL || (h->nbound == d->cfg.nhttp &&
	    memcmp(h->bound, d->cfg.http, h->nbound * sizeof(h->bound[0])) == 0))
		return;
	/* The old server goes first: the new one may reuse its address. */
	if (h->eh != NULL)
		evhttp_free(h->eh);
	h->eh = NULL;
	h->nbound = 0;
	if (d->cfg.nhttp > 0 && (eh = open_all(h, &d->cfg, err, sizeof(err))) == NULL) {
		log_err("%s: no metrics or health endpoint until the next change", err);
		return;
	}
	if (d->cfg.nhttp == 0)
		log_info("http: no longer serving metrics");
	h->eh = eh;
	memcpy(h->bound, d->cfg.http, d->cfg.nhttp * sizeof(h->bound[0]));
	h->nbound = d->cfg.nhttp;
}

void
http_stop(struct hgwd *d)
{
	struct http *h = d->http;

	if (h == NULL)
		return;
	if (h->eh != NULL)
		evhttp_free(h->eh);
	free(h);
	d->http = NULL;
}
