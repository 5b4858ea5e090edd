/* util.h: small helpers shared by the daemon: monotonic time, a fixed-size
 * object pool for the RIB's millions of small objects, growable arrays. */
#ifndef HGW_UTIL_H
#define HGW_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "addr.h"

uint64_t now_ms(void);		/* monotonic milliseconds */

/* A pool of equal-sized objects carved from 64 KiB slabs: no per-object
 * malloc header, freed objects reused first. Memory returns to the system
 * only with pool_destroy. */
struct pool {
	size_t size;
	void *free_list;
	char *slab_next, *slab_end;
	void **slabs;
	size_t nslabs, slabs_cap;
	size_t in_use;
};
void pool_init(struct pool *p, size_t size);
void *pool_get(struct pool *p);		/* zeroed; NULL when out of memory */
void pool_put(struct pool *p, void *obj);
void pool_destroy(struct pool *p);
size_t pool_bytes(const struct pool *p);	/* memory held, slabs included */

/* Formats an error message into err (errlen bytes); returns -1, for
 * "return errf(err, errlen, ...)" in the parsers. */
int errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Grows *arr so it holds at least n elements of size sz; 0 or -1. */
int grow_array(void **arr, size_t *cap, size_t n, size_t sz);

/* Socket addresses to and from our addresses. from: 0, or -1 for another family. */
void hgw_addr_to_sockaddr(const struct hgw_addr *a, uint16_t port, struct sockaddr_storage *ss,
    socklen_t *len);
int hgw_addr_from_sockaddr(const struct sockaddr *sa, struct hgw_addr *a, uint16_t *port);

/* Replaces path with text, atomically and without following symbolic
 * links: a temporary file created exclusively (O_EXCL|O_NOFOLLOW) in the
 * directory, opened once, synced, then renamed over path. With backup, the
 * previous file is kept as path.bak. mkdir_parent creates one missing level
 * (like /run/flannel). 0, or -1 with err set. */
int file_write_atomic(const char *path, const char *text, size_t len, mode_t mode,
    int backup, int mkdir_parent, char *err, size_t errlen);

#endif
