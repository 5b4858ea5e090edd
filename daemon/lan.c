/* lan.c: overlap and containment checks against the LAN interface's subnets. */
#include "lan.h"

#include "kernel.h"

#define LAN_MAX_SUBNETS 32

int
kernel_lan_overlaps(const struct kernel *k, const struct hgw_prefix *p, struct hgw_prefix *which)
{
	struct hgw_prefix nets[LAN_MAX_SUBNETS];
	int i, n = kernel_if_subnets(k, nets, LAN_MAX_SUBNETS);

	for (i = 0; i < n; i++)
		if (hgw_prefix_overlaps(&nets[i], p)) {
			if (which != NULL)
				*which = nets[i];
			return 1;
		}
	return 0;
}

int
kernel_lan_contains(const struct kernel *k, const struct hgw_addr *a)
{
	struct hgw_prefix nets[LAN_MAX_SUBNETS];
	int i, n = kernel_if_subnets(k, nets, LAN_MAX_SUBNETS);

	for (i = 0; i < n; i++)
		if (hgw_prefix_contains_addr(&nets[i], a))
			return 1;
	return 0;
}
