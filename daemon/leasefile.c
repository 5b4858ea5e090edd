/* leasefile.c: the lease state file: "node-id ID" (identity.c's) and one
 * "lease PREFIX CLAIM-MS" line per family, written atomically (util.c's
 * file_write_atomic, no symlink followed) and read back at start. */
#include "leasefile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "nodeid.h"
#include "util.h"

int
leasefile_write(const char *path, uint32_t node_id, const struct hgw_prefix *p,
    const uint64_t *claim_ms, int n, char *err, size_t errlen)
{
	char text[512], pb[HGW_ADDRSTRLEN], nb[16];
	size_t off;
	int i;

	off = (size_t)snprintf(text, sizeof(text), "# hgwd lease state: the subnets this node owns\n"
	    "node-id %s\n", hgw_nodeid_fmt(node_id, nb, sizeof(nb)));
	for (i = 0; i < n && i < 2; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, "lease %s %llu\n",
		    hgw_prefix_fmt(&p[i], pb, sizeof(pb)), (unsigned long long)claim_ms[i]);
	return file_write_atomic(path, text, strlen(text), 0644, 0, 1, err, errlen);
}

int
leasefile_read(const char *path,
    void (*fn)(void *arg, const struct hgw_prefix *p, uint64_t claim_ms), void *arg)
{
	FILE *f = fopen(path, "r");
	char line[256];
	int lineno = 0;

	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		log_warn("lease: cannot read %s", path);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char pfx[64];	/* %63s */
		unsigned long long ms;
		struct hgw_prefix p;

		lineno++;
		if (line[0] == '#' || line[0] == '\n' || strncmp(line, "node-id ", 8) == 0)
			continue;	/* node-id: identity.c's */
		if (sscanf(line, "lease %63s %llu", pfx, &ms) != 2 ||
		    hgw_prefix_parse(pfx, &p, NULL) < 0) {
			log_warnx("%s:%d: not a lease line; ignored", path, lineno);
			continue;
		}
		fn(arg, &p, (uint64_t)ms);
	}
	fclose(f);
	return 0;
}
