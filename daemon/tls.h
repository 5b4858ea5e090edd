/* tls.h: the session transport's TLS 1.3 (openssl, through libevent's
 * bufferevent_openssl): an external pre-shared key (secret-file) or mutual
 * certificates (tls ca/cert/key) whose SAN must name the peer's node id. */
#ifndef HGW_TLS_H
#define HGW_TLS_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct tls;
struct event_base;
struct bufferevent;

/* Builds the TLS context the config asks for: *out stays NULL when the
 * config has neither secret-file nor tls (plain TCP). 0, or -1 with err. */
int tls_load(const struct config *c, struct tls **out, char *err, size_t errlen);
void tls_free(struct tls *t);
const char *tls_mode(const struct tls *t);	/* "psk", "certificates", or "none" */

/* A bufferevent speaking TLS on fd (connecting or accepting). */
struct bufferevent *tls_bufferevent(struct tls *t, struct event_base *base, int fd,
    int server);
/* Why the handshake or the connection failed, for logs and show peers. */
const char *tls_last_error(struct bufferevent *bev, char *buf, size_t len);
/* With certificates: does the peer's certificate name node_id? 0, or -1 with why. */
int tls_check_node(struct tls *t, struct bufferevent *bev, uint32_t node_id, char *why,
    size_t len);

#endif
