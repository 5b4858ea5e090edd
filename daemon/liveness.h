/* liveness.h: what a flap of our LAN link does to the sessions. */
#ifndef HGW_LIVENESS_H
#define HGW_LIVENESS_H

struct hgwd;

/* The LAN interface changed (main.c's kernel link callback): when it is
 * usable again (admin up and carrier) after it was not, every established
 * session is kicked (session_kick): a fresh hold time and a KEEPALIVE. */
void liveness_link_changed(struct hgwd *d);

#endif
