/* subnetenv.h: flannel's subnet.env for the flannel CNI plugin: our subnets
 * (leased, or the first static network of each family), the LAN interface's
 * MTU and whether hgwd masquerades, written atomically. */
#ifndef HGW_SUBNETENV_H
#define HGW_SUBNETENV_H

#include <stddef.h>

#include "addr.h"

struct hgwd;

struct subnetenv {
	const char *path;
	struct hgw_prefix network[2];	/* [0] IPv4, [1] IPv6; family 0: none */
	struct hgw_prefix subnet[2];	/* family 0: none */
	unsigned mtu;			/* 0: 1500 */
	int ipmasq;
};

/* The file's text, in flanneld's order. -1 when it does not fit, 0 when there
 * is no subnet (nothing to write), else its length. */
int subnetenv_text(const struct subnetenv *e, char *buf, size_t len);
/* Writes it (a temporary file in the same directory, created O_EXCL|O_NOFOLLOW,
 * fsync, rename): never follows a symlink planted at the path or the temp
 * name. Unchanged contents are not rewritten. No subnet: removes the file
 * when remove_empty is set. 0 or -1 (logged). */
int subnetenv_write(const struct subnetenv *e, int remove_empty);
/* Gathers the values from the daemon (leases, static networks, MTU, ip-masq)
 * and writes the file when they differ from it. Called on lease changes, on
 * config changes and on hostnet's timer (an MTU change is seen within it). */
void subnetenv_update(struct hgwd *d);

#endif
