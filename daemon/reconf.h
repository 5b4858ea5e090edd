/* reconf.h: applying a new configuration (from a reload or the shell):
 * each module's *_reconfigure takes the difference; a change that cannot
 * be made (a port in use, a bad key) leaves the running one as it was. */
#ifndef HGW_RECONF_H
#define HGW_RECONF_H

#include <stddef.h>

struct hgwd;
struct config;
struct kernel_params;

/* The kernel parameters a configuration asks for. */
void kernel_params_from_config(const struct config *c, struct kernel_params *p);

int reconf_apply(struct hgwd *d, const struct config *nc, char *err, size_t errlen);
/* Re-reads d->cfg_path and applies it. */
int reconf_reload(struct hgwd *d, char *err, size_t errlen);

#endif
