/* util.c: monotonic time, the fixed-size object pool, growable arrays. */
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLAB_SIZE 65536

uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
pool_init(struct pool *p, size_t size)
{
	memset(p, 0, sizeof(*p));
	if (size < sizeof(void *))
		size = sizeof(void *);
	p->size = (size + 7) & ~(size_t)7;
}

void *
pool_get(struct pool *p)
{
	void *obj;

	if (p->free_list != NULL) {
		obj = p->free_list;
		p->free_list = *(void **)obj;
	} else {
		if (p->slab_next == NULL || p->slab_next + p->size > p->slab_end) {
			char *slab;

			if (grow_array((void **)&p->slabs, &p->slabs_cap,
			    p->nslabs + 1, sizeof(void *)) < 0)
				return NULL;
			if ((slab = malloc(SLAB_SIZE)) == NULL)
				return NULL;
			p->slabs[p->nslabs++] = slab;
			p->slab_next = slab;
			p->slab_end = slab + SLAB_SIZE;
		}
		obj = p->slab_next;
		p->slab_next += p->size;
	}
	memset(obj, 0, p->size);
	p->in_use++;
	return obj;
}

void
pool_put(struct pool *p, void *obj)
{
	if (obj == NULL)
		return;
	*(void **)obj = p->free_list;
	p->free_list = obj;
	p->in_use--;
}

void
pool_destroy(struct pool *p)
{
	size_t i;

	for (i = 0; i < p->nslabs; i++)
		free(p->slabs[i]);
	free(p->slabs);
	memset(p, 0, sizeof(*p));
}

size_t
pool_bytes(const struct pool *p)
{
	return p->nslabs * (size_t)SLAB_SIZE;
}

int
grow_array(void **arr, size_t *cap, size_t n, size_t sz)
{
	size_t ncap;
	void *na;

	if (n <= *cap)
		return 0;
	ncap = *cap ? *cap : 16;
	while (ncap < n)
		ncap *= 2;
	if ((na = realloc(*arr, ncap * sz)) == NULL)
		return -1;
	*arr = na;
	*cap = ncap;
	return 0;
}
