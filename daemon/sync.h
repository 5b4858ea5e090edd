/* sync.h: the initial-sync barrier, modelled on BIRD's graceful-restart
 * locks: one lock per configured neighbour, released at its first
 * END-OF-RIB or when it is deconfigured, and a start-up timer. When the last
 * lock goes (or the timer runs out) the sync is done and every subscriber
 * runs once, in the order they subscribed: fib.c sweeps stale routes,
 * lease.c claims. sync.c knows none of them. */
#ifndef HGW_SYNC_H
#define HGW_SYNC_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct sync;

typedef void (*sync_done_fn)(void *arg, const char *why);

struct sync *sync_new(struct event_base *base);
void sync_free(struct sync *s);
/* Takes a lock for key (a configured neighbour); a second lock of the same
 * key is one lock. No effect once the sync is done. 0 or -1. */
int sync_lock(struct sync *s, const void *key);
/* Releases key's lock, if held; the last one ends the sync. */
void sync_unlock(struct sync *s, const void *key, const char *why);
/* Starts the start-up timer; with no lock held, the sync is done at once. */
void sync_start(struct sync *s, uint32_t startup_ms);
int sync_done(const struct sync *s);
size_t sync_locks(const struct sync *s);	/* locks still held */
/* fn(arg, why) once the sync is done (at once, when it already is). */
int sync_on_done(struct sync *s, sync_done_fn fn, void *arg);

#endif
