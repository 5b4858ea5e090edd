/* util.c: monotonic time, the fixed-size object pool, growable arrays, socket
 * addresses and atomic file writes. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

void
hgw_addr_to_sockaddr(const struct hgw_addr *a, uint16_t port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a->bytes, 4);
		*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, a->bytes, 16);
		*len = sizeof(*sin6);
	}
}

int
hgw_addr_from_sockaddr(const struct sockaddr *sa, struct hgw_addr *a, uint16_t *port)
{
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		a->family = AF_INET;
		memcpy(a->bytes, &sin->sin_addr, 4);
		*port = ntohs(sin->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		a->family = AF_INET6;
		memcpy(a->bytes, &sin6->sin6_addr, 16);
		*port = ntohs(sin6->sin6_port);
		return 0;
	}
	return -1;
}

int
file_write_atomic(const char *path, const char *text, size_t len, mode_t mode,
    int backup, int mkdir_parent, char *err, size_t errlen)
{
	char dir[4096], tmp[300], bak[300];
	const char *base, *slash = strrchr(path, '/');
	int dfd = -1, fd = -1, i;
	struct timespec ts;

	if (slash == NULL) {
		snprintf(dir, sizeof(dir), ".");
		base = path;
	} else if (slash == path) {
		snprintf(dir, sizeof(dir), "/");
		base = slash + 1;
	} else {
		if ((size_t)(slash - path) >= sizeof(dir)) {
			snprintf(err, errlen, "%s: path too long", path);
			return -1;
		}
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
		base = slash + 1;
	}
	if (base[0] == '\0' || strlen(base) > 200) {
		snprintf(err, errlen, "%s: not a file name", path);
		return -1;
	}
	if (mkdir_parent && mkdir(dir, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	/* A name nobody can have planted: created here, exclusively. */
	clock_gettime(CLOCK_REALTIME, &ts);
	for (i = 0; i < 16 && fd < 0; i++) {
		snprintf(tmp, sizeof(tmp), ".%s.%ld.%lx%x", base, (long)getpid(),
		    (unsigned long)ts.tv_nsec, i);
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		snprintf(err, errlen, "%s/%s: %s", dir, tmp, strerror(errno));
		close(dfd);
		return -1;
	}
	if (fchmod(fd, mode) < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		unlinkat(dfd, tmp, 0);
		close(dfd);
		return -1;
	}
	close(fd);
	if (backup) {
		snprintf(bak, sizeof(bak), "%s.bak", base);
		unlinkat(dfd, bak, 0);
		linkat(dfd, base, dfd, bak, 0);	/* none yet: nothing to keep */
	}
	if (renameat(dfd, tmp, dfd, base) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlinkat(dfd, tmp, 0);
		close(dfd);
		return -1;
	}
	fsync(dfd);
	close(dfd);
	return 0;
}

int
errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}
