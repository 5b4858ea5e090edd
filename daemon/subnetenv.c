/* subnetenv.c: flannel's subnet.env, from the daemon's subnets, written
 * atomically without following symlinks. */
#include "subnetenv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hgwd.h"
#include "kernel.h"
#include "vxlan.h"
#include "lease.h"
#include "log.h"

#define ENV_MAX 1024

/* The first address of a subnet with its length: flannel's FLANNEL_SUBNET. */
static const char *
first_host(const struct hgw_prefix *p, char *buf, size_t len)
{
	struct hgw_prefix q = *p;
	int last = hgw_family_len(p->family) - 1;

	q.bytes[last] |= 1;
	hgw_prefix_fmt(&q, buf, len);
	return buf;
}

static int
append(char *buf, size_t len, size_t *off, const char *key, const char *val)
{
	int n = snprintf(buf + *off, len - *off, "%s=%s\n", key, val);

	if (n < 0 || (size_t)n >= len - *off)
		return -1;
	*off += (size_t)n;
	return 0;
}

int
subnetenv_text(const struct subnetenv *e, char *buf, size_t len)
{
	static const char *keys[2][2] = {
		{ "FLANNEL_NETWORK", "FLANNEL_SUBNET" },
		{ "FLANNEL_IPV6_NETWORK", "FLANNEL_IPV6_SUBNET" },
	};
	char a[HGW_ADDRSTRLEN], m[16];
	size_t off = 0;
	int fi;

	if (len == 0)
		return -1;
	buf[0] = '\0';
	for (fi = 0; fi < 2; fi++) {
		if (!e->subnet[fi].family)
			continue;
		if (append(buf, len, &off, keys[fi][0], hgw_prefix_fmt(e->network[fi].family ?
		    &e->network[fi] : &e->subnet[fi], a, sizeof(a))) < 0 ||
		    append(buf, len, &off, keys[fi][1], first_host(&e->subnet[fi], a, sizeof(a))) < 0)
			return -1;
	}
	if (off == 0)
		return 0;
	snprintf(m, sizeof(m), "%u", e->mtu ? e->mtu : 1500);
	if (append(buf, len, &off, "FLANNEL_MTU", m) < 0 ||
	    append(buf, len, &off, "FLANNEL_IPMASQ", e->ipmasq ? "true" : "false") < 0)
		return -1;
	return (int)off;
}

/* Is the file already exactly text? (no rewrite, no inotify noise) */
static int
same_contents(const char *path, const char *text, size_t len)
{
	char cur[ENV_MAX + 1];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, cur, sizeof(cur));
	close(fd);
	return n == (ssize_t)len && memcmp(cur, text, len) == 0;
}

static int
write_file(const char *path, const char *text, size_t len)
{
	char dir[CFG_PATH_MAX], tmp[CFG_PATH_MAX + 32], *slash;
	const char *base = path;
	unsigned seed = (unsigned)getpid() ^ (unsigned)time(NULL), i;
	int fd = -1;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -1;
	if ((slash = strrchr(dir, '/')) != NULL) {
		base = path + (slash - dir) + 1;
		if (slash != dir) {
			*slash = '\0';
			mkdir(dir, 0755);	/* one level, like /run/flannel */
		} else
			strcpy(dir, "/");
	} else
		strcpy(dir, ".");
	for (i = 0; i < 100 && fd < 0; i++) {
		seed = seed * 1103515245u + 12345u;
		if (snprintf(tmp, sizeof(tmp), "%s/.%s.%08x", strcmp(dir, "/") == 0 ? "" : dir,
		    base, seed) >= (int)sizeof(tmp)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 && errno != EEXIST)
			return -1;
	}
	if (fd < 0)
		return -1;
	if (fchmod(fd, 0644) < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) < 0) {
		int e = errno;

		close(fd);
		unlink(tmp);
		errno = e;
		return -1;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		int e = errno;

		unlink(tmp);
		errno = e;
		return -1;
	}
	return 0;
}

int
subnetenv_write(const struct subnetenv *e, int remove_empty)
{
	char text[ENV_MAX];
	int n = subnetenv_text(e, text, sizeof(text));

	if (n < 0) {
		log_warnx("subnet.env: the values do not fit in %zu bytes", sizeof(text));
		return -1;
	}
	if (n == 0) {
		/* No subnet (any more): no stale subnet for the CNI plugin. */
		if (remove_empty && unlink(e->path) < 0 && errno != ENOENT) {
			log_warn("subnet.env: cannot remove %s", e->path);
			return -1;
		}
		return 0;
	}
	if (same_contents(e->path, text, (size_t)n))
		return 0;
	if (write_file(e->path, text, (size_t)n) < 0) {
		log_warn("subnet.env: cannot write %s", e->path);
		return -1;
	}
	return 0;
}

/* The cluster network holding p (FLANNEL_NETWORK), or NULL. */
static const struct hgw_prefix *
network_of(const struct config *c, const struct hgw_prefix *p)
{
	size_t i;

	for (i = 0; i < c->nclusters; i++)
		if (hgw_prefix_contains(&c->clusters[i], p))
			return &c->clusters[i];
	return NULL;
}

void
subnetenv_update(struct hgwd *d)
{
	struct subnetenv e;
	struct hgw_prefix own[2];
	size_t i;
	int n, k, fi;

	if (d->kernel == NULL)
		return;
	memset(&e, 0, sizeof(e));
	e.path = d->cfg.subnet_env;
	/* With encap vxlan every pod gets the device's MTU, on-link pairs too
	 * (a pod cannot know which path its peer is on), as flannel does. */
	e.mtu = vxlan_running(d->vxlan) ? vxlan_mtu(d->vxlan) : kernel_if_mtu(d->kernel);
	e.ipmasq = config_ipmasq(&d->cfg);
	n = leases_own(d, own, 2);
	for (k = 0; k < n; k++) {
		fi = own[k].family == AF_INET ? 0 : 1;
		e.subnet[fi] = own[k];
		e.network[fi] = d->cfg.lease_net[fi];
	}
	/* Static hosts: the first configured network of each family, when a
	 * cluster-network holds it (flannel's FLANNEL_NETWORK); without one
	 * this is no flannel setup and the file is left alone. */
	for (i = 0; i < d->cfg.nnetworks; i++) {
		const struct hgw_prefix *net = network_of(&d->cfg, &d->cfg.networks[i]);

		fi = d->cfg.networks[i].family == AF_INET ? 0 : 1;
		if (e.subnet[fi].family || net == NULL)
			continue;
		e.subnet[fi] = d->cfg.networks[i];
		e.network[fi] = *net;
	}
	if (!e.subnet[0].family && !e.subnet[1].family && !d->cfg.lease_len[0] &&
	    !d->cfg.lease_len[1])
		return;		/* neither leases nor networks: not ours to touch */
	subnetenv_write(&e, 1);
}
