/* gr.h: graceful restart of peers: the paths of a peer that restarts or
 * crashes stay, stale, for its restart time while its host shows signs of
 * life (gr.c, a peer listener). Our own side of a restart (NOTIFY
 * restarting, routes left in the kernel and adopted at the next start) is
 * main.c's stop and fib.c's start. */
#ifndef HGW_GR_H
#define HGW_GR_H

#include <stdint.h>

struct hgwd;
struct peer;

int gr_init(struct hgwd *d);		/* subscribes to peers; 0 or -1 */
void gr_free(struct hgwd *d);
/* Time left of p's restart (0: not restarting). */
uint64_t gr_left_ms(const struct peer *p);

#endif
