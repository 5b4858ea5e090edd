/* http.h: the metrics and health endpoints (`http listen ADDRESS [port N]`):
 * /metrics in the Prometheus text format, /healthz and /readyz. */
#ifndef HGW_HTTP_H
#define HGW_HTTP_H

#include <stddef.h>

struct hgwd;

/* Listens on every configured address (none: nothing). 0, or -1 with err. */
int http_start(struct hgwd *d, char *err, size_t errlen);
/* The http listen statements changed: listen on the new set (on none, with
 * an error logged, when one of them cannot be opened). */
void http_config_changed(struct hgwd *d);
void http_stop(struct hgwd *d);

#endif
