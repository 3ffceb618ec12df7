/* health: what systemd sees of dunghand — the watchdog ping, sent only while the loop turns and
 * the database answers, and the STATUS= line with open items, overdue and the outbox backlog,
 * counted off the loop (thread pool, read-only connection) once a minute. */
#ifndef DUNGHAN_HEALTH_H
#define DUNGHAN_HEALTH_H

#include <stdint.h>
#include <uv.h>

#include "err.h"
#include "store.h"

#define HEALTH_COUNT_INTERVAL_MS 60000

struct health;

/* Starts on loop over store (borrowed; counts are read on a read-only connection to
 * store_path(store)). watchdog_usec is systemd's WatchdogSec (0: no watchdog): pings go out at
 * half of it, each only after the database answered a trivial query. Returns NULL with err. */
struct health *health_new(uv_loop_t *loop, struct store *store, uint64_t watchdog_usec,
			  struct err *err);

/* The head of the STATUS= line ("serving on 127.0.0.1:8686: ..."); the latest counts follow it.
 * Sends STATUS= now. */
void health_set_status(struct health *h, const char *head);

/* The latest counts (zero until the first count finished); false before that. */
bool health_counts(const struct health *h, struct store_counts *out);

/* Stops the timers, waits for a count in flight, closes the handles; cb(arg) runs after, and h
 * is freed. */
void health_close(struct health *h, void (*cb)(void *arg), void *arg);

#endif
