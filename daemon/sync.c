/* sync.c: the initial-sync barrier: locks per configured neighbour, a
 * start-up timer, and the subscribers that run once when both allow it. */
#include "sync.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

struct sync_sub {
	sync_done_fn fn;
	void *arg;
};

struct sync {
	struct event *timer;
	const void **locks;
	size_t nlocks, locks_cap;
	struct sync_sub *subs;
	size_t nsubs, subs_cap;
	int started, done;
};

static void
finish(struct sync *s, const char *why)
{
	size_t i;

	if (s->done)
		return;
	s->done = 1;
	if (s->timer != NULL)
		evtimer_del(s->timer);
	s->nlocks = 0;
	log_info("initial sync over (%s)", why);
	for (i = 0; i < s->nsubs; i++)
		s->subs[i].fn(s->subs[i].arg, why);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	finish(arg, "startup timer ran out");
}

struct sync *
sync_new(struct event_base *base)
{
	struct sync *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	if ((s->timer = evtimer_new(base, timer_cb, s)) == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

void
sync_free(struct sync *s)
{
	if (s == NULL)
		return;
	event_free(s->timer);
	free(s->locks);
	free(s->subs);
	free(s);
}

int
sync_lock(struct sync *s, const void *key)
{
	size_t i;

	if (s->done)
		return 0;
	for (i = 0; i < s->nlocks; i++)
		if (s->locks[i] == key)
			return 0;
	if (grow_array((void **)&s->locks, &s->locks_cap, s->nlocks + 1, sizeof(*s->locks)) < 0)
		return -1;
	s->locks[s->nlocks++] = key;
	return 0;
}

void
sync_unlock(struct sync *s, const void *key, const char *why)
{
	size_t i;

	for (i = 0; i < s->nlocks; i++)
		if (s->locks[i] == key) {
			s->locks[i] = s->locks[--s->nlocks];
			if (s->nlocks == 0 && s->started)
				finish(s, why);
			return;
		}
}

void
sync_start(struct sync *s, uint32_t startup_ms)
{
	struct timeval tv = { startup_ms / 1000, (startup_ms % 1000) * 1000 };

	if (s->started || s->done)
		return;
	s->started = 1;
	if (s->nlocks == 0) {
		finish(s, "no neighbors to wait for");
		return;
	}
	evtimer_add(s->timer, &tv);
}

int
sync_done(const struct sync *s)
{
	return s->done;
}

size_t
sync_locks(const struct sync *s)
{
	return s->nlocks;
}

int
sync_on_done(struct sync *s, sync_done_fn fn, void *arg)
{
	if (s->done) {
		fn(arg, "already over");
		return 0;
	}
	if (grow_array((void **)&s->subs, &s->subs_cap, s->nsubs + 1, sizeof(*s->subs)) < 0)
		return -1;
	s->subs[s->nsubs].fn = fn;
	s->subs[s->nsubs].arg = arg;
	s->nsubs++;
	return 0;
}
