/* tls.c: TLS 1.3 for sessions: PSK or mutual certificates, key file checks, peer naming. */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "addr.h"
#include "config.h"
#include "util.h"

#define PSK_IDENTITY	"hgw-mesh"
#define PSK_MIN		16
#define PSK_MAX		64

struct tls {
	SSL_CTX *client, *server;
	int psk;
	unsigned char key[PSK_MAX];
	size_t keylen;
};

static int tls_index = -1;	/* SSL ex_data slot pointing at struct tls */

/* Secrets must not be readable by anyone but their owner. */
static int
check_private(const char *path, char *err, size_t errlen)
{
	struct stat st;
	char mode[16];

	if (stat(path, &st) < 0)
		return errf(err, errlen, "%s: %s", path, strerror(errno));
	if (st.st_mode & 077) {
		snprintf(mode, sizeof(mode), "%04o", (unsigned)(st.st_mode & 07777));
		return errf(err, errlen,
		    "%s is readable by others than its owner (mode %s): refusing it; chmod 600 it",
		    path, mode);
	}
	return 0;
}

static int
read_psk(struct tls *t, const char *path, char *err, size_t errlen)
{
	char line[2 * PSK_MAX + 8];
	FILE *f;
	size_t n, i;

	if (check_private(path, err, errlen) < 0)
		return -1;
	if ((f = fopen(path, "r")) == NULL)
		return errf(err, errlen, "%s: %s", path, strerror(errno));
	if (fgets(line, sizeof(line), f) == NULL) {
		fclose(f);
		return errf(err, errlen, "%s: empty", path);
	}
	fclose(f);
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	if (n % 2 != 0 || n / 2 < PSK_MIN || n / 2 > PSK_MAX)
		return errf(err, errlen,
		    "%s: expected one line of 32 to 128 hex digits (make one with: openssl rand -hex 32)",
		    path);
	for (i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(line + 2 * i, "%2x", &v) != 1 ||
		    !strchr("0123456789abcdefABCDEF", line[2 * i]) ||
		    !strchr("0123456789abcdefABCDEF", line[2 * i + 1]))
			return errf(err, errlen, "%s: not hex digits", path);
		t->key[i] = (unsigned char)v;
	}
	t->keylen = n / 2;
	return 0;
}

static SSL_SESSION *
psk_session(struct tls *t, SSL *ssl)
{
	const SSL_CIPHER *cipher;
	SSL_SESSION *sess;
	static const unsigned char aes128gcmsha256[] = { 0x13, 0x01 };

	if ((cipher = SSL_CIPHER_find(ssl, aes128gcmsha256)) == NULL ||
	    (sess = SSL_SESSION_new()) == NULL)
		return NULL;
	if (!SSL_SESSION_set1_master_key(sess, t->key, t->keylen) ||
	    !SSL_SESSION_set_cipher(sess, cipher) ||
	    !SSL_SESSION_set_protocol_version(sess, TLS1_3_VERSION)) {
		SSL_SESSION_free(sess);
		return NULL;
	}
	return sess;
}

static int
psk_use(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen,
    SSL_SESSION **sessp)
{
	struct tls *t = SSL_get_ex_data(ssl, tls_index);

	*sessp = t ? psk_session(t, ssl) : NULL;
	*id = (const unsigned char *)PSK_IDENTITY;
	*idlen = strlen(PSK_IDENTITY);
	return *sessp != NULL;
}

static int
psk_find(SSL *ssl, const unsigned char *id, size_t idlen, SSL_SESSION **sessp)
{
	struct tls *t = SSL_get_ex_data(ssl, tls_index);

	*sessp = NULL;
	if (t == NULL || idlen != strlen(PSK_IDENTITY) ||
	    memcmp(id, PSK_IDENTITY, idlen) != 0)
		return 1;	/* unknown identity: the handshake fails */
	*sessp = psk_session(t, ssl);
	return *sessp != NULL;
}

static SSL_CTX *
new_ctx(int server)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());

	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	return ctx;
}

static int
certs(SSL_CTX *ctx, const struct config *c, char *err, size_t errlen)
{
	char e[256];

	if (SSL_CTX_use_certificate_chain_file(ctx, c->tls_cert) != 1) {
		ERR_error_string_n(ERR_get_error(), e, sizeof(e));
		return errf(err, errlen, "tls cert %s: %s", c->tls_cert, e);
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, c->tls_key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		ERR_error_string_n(ERR_get_error(), e, sizeof(e));
		return errf(err, errlen, "tls key %s: %s", c->tls_key, e);
	}
	if (SSL_CTX_load_verify_locations(ctx, c->tls_ca, NULL) != 1) {
		ERR_error_string_n(ERR_get_error(), e, sizeof(e));
		return errf(err, errlen, "tls ca %s: %s", c->tls_ca, e);
	}
	if (c->tls_crl[0]) {
		/* Revoked mesh certificates: checked for the peer's own certificate. */
		X509_STORE *st = SSL_CTX_get_cert_store(ctx);
		X509_LOOKUP *lu = X509_STORE_add_lookup(st, X509_LOOKUP_file());

		if (lu == NULL || X509_load_crl_file(lu, c->tls_crl, X509_FILETYPE_PEM) <= 0) {
			ERR_error_string_n(ERR_get_error(), e, sizeof(e));
			return errf(err, errlen, "tls crl %s: %s", c->tls_crl, e);
		}
		X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK);
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_verify_depth(ctx, 4);
	return 0;
}

int
tls_load(const struct config *c, struct tls **out, char *err, size_t errlen)
{
	struct tls *t;

	*out = NULL;
	if (!c->secret_file[0] && !c->tls_cert[0])
		return 0;
	if (tls_index < 0)
		tls_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return errf(err, errlen, "out of memory");
	t->client = new_ctx(0);
	t->server = new_ctx(1);
	if (t->client == NULL || t->server == NULL) {
		tls_free(t);
		return errf(err, errlen, "cannot create a TLS context");
	}
	if (c->secret_file[0]) {
		t->psk = 1;
		if (read_psk(t, c->secret_file, err, errlen) < 0) {
			tls_free(t);
			return -1;
		}
		/* The PSK is bound to SHA-256: offer only suites of that hash,
		 * or the server picks a SHA-384 suite and ignores the key. */
		SSL_CTX_set_ciphersuites(t->client, "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256");
		SSL_CTX_set_ciphersuites(t->server, "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256");
		SSL_CTX_set_psk_use_session_callback(t->client, psk_use);
		SSL_CTX_set_psk_find_session_callback(t->server, psk_find);
		/* PSK only: no certificates anywhere. */
		SSL_CTX_set_verify(t->client, SSL_VERIFY_NONE, NULL);
	} else {
		if (check_private(c->tls_key, err, errlen) < 0 ||
		    certs(t->client, c, err, errlen) < 0 || certs(t->server, c, err, errlen) < 0) {
			tls_free(t);
			return -1;
		}
	}
	*out = t;
	return 0;
}

void
tls_free(struct tls *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->client);
	SSL_CTX_free(t->server);
	OPENSSL_cleanse(t->key, sizeof(t->key));
	free(t);
}

const char *
tls_mode(const struct tls *t)
{
	return t == NULL ? "none" : t->psk ? "psk" : "certificates";
}

struct bufferevent *
tls_bufferevent(struct tls *t, struct event_base *base, int fd, int server)
{
	SSL *ssl = SSL_new(server ? t->server : t->client);
	struct bufferevent *bev;

	if (ssl == NULL)
		return NULL;
	SSL_set_ex_data(ssl, tls_index, t);
	bev = bufferevent_openssl_socket_new(base, fd, ssl, server ?
	    BUFFEREVENT_SSL_ACCEPTING : BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

const char *
tls_last_error(struct bufferevent *bev, char *buf, size_t len)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	unsigned long e;
	long v;

	buf[0] = '\0';
	if (ssl != NULL && (v = SSL_get_verify_result(ssl)) != X509_V_OK) {
		snprintf(buf, len, "TLS: certificate verification failed: %s",
		    X509_verify_cert_error_string(v));
		return buf;
	}
	if ((e = bufferevent_get_openssl_error(bev)) != 0) {
		char es[200];

		if (ERR_GET_LIB(e) == 0) {
			/* Not openssl's: the TCP connection failed under it. */
			while (bufferevent_get_openssl_error(bev) != 0)
				;
			return NULL;
		}
		ERR_error_string_n(e, es, sizeof(es));
		snprintf(buf, len, "TLS handshake failed: %s", es);
		while (bufferevent_get_openssl_error(bev) != 0)
			;
		return buf;
	}
	return NULL;
}

int
tls_check_node(struct tls *t, struct bufferevent *bev, uint32_t node_id, char *why,
    size_t len)
{
	SSL *ssl;
	X509 *cert;
	GENERAL_NAMES *names;
	char want[16];
	int i, ok = 0;
	uint32_t be = htonl(node_id);

	if (t == NULL || t->psk)
		return 0;
	hgw_nodeid_fmt(node_id, want, sizeof(want));
	if ((ssl = bufferevent_openssl_get_ssl(bev)) == NULL ||
	    (cert = SSL_get1_peer_certificate(ssl)) == NULL) {
		snprintf(why, len, "no peer certificate");
		return -1;
	}
	/* A mesh certificate serves both ends: without an extended key usage,
	 * or with serverAuth and clientAuth (a user's or a code-signing
	 * certificate of a shared CA is not a mesh node). */
	if ((X509_get_extension_flags(cert) & EXFLAG_XKUSAGE) &&
	    (X509_get_extended_key_usage(cert) & (XKU_SSL_SERVER | XKU_SSL_CLIENT)) !=
	    (XKU_SSL_SERVER | XKU_SSL_CLIENT)) {
		X509_free(cert);
		snprintf(why, len, "the peer's certificate is not for serverAuth and clientAuth "
		    "(extended key usage)");
		return -1;
	}
	names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (i = 0; names != NULL && i < sk_GENERAL_NAME_num(names) && !ok; i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);

		if (gn->type == GEN_IPADD && ASN1_STRING_length(gn->d.iPAddress) == 4)
			ok = memcmp(ASN1_STRING_get0_data(gn->d.iPAddress), &be, 4) == 0;
		else if (gn->type == GEN_DNS)
			ok = (size_t)ASN1_STRING_length(gn->d.dNSName) == strlen(want) &&
			    memcmp(ASN1_STRING_get0_data(gn->d.dNSName), want, strlen(want)) == 0;
	}
	GENERAL_NAMES_free(names);
	X509_free(cert);
	if (!ok) {
		snprintf(why, len, "the peer's certificate does not name its node id %s", want);
		return -1;
	}
	return 0;
}
