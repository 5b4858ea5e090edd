/* util.h: small helpers shared by the daemon: monotonic time, a fixed-size
 * object pool for the RIB's millions of small objects, growable arrays. */
#ifndef HGW_UTIL_H
#define HGW_UTIL_H

#include <stddef.h>
#include <stdint.h>

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

/* Grows *arr so it holds at least n elements of size sz; 0 or -1. */
int grow_array(void **arr, size_t *cap, size_t n, size_t sz);

#endif
