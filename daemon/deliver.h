/* deliver: sends what escalation put in the outbox — e-mail over SMTP (or as .eml files) and
 * chat messages by webhook — through libcurl on the loop, never blocking it. Rows move
 * pending → sending → sent, back to pending with an exponential, jittered backoff, or to dead;
 * every attempt is recorded. Delivery is at least once: a row left `sending` by a crash is sent
 * again, with the same Message-ID / Idempotency-Key so receivers can drop the repeat. */
#ifndef DUNGHAN_DELIVER_H
#define DUNGHAN_DELIVER_H

#include <uv.h>

#include "config.h"
#include "err.h"
#include "store.h"
#include "wal_sync.h"

/* Rows claimed and not yet recorded: being sent, queued behind their channel's
 * max_connections, or ended with the outcome not yet written. The window keeps the channels'
 * queues fed between turns; it also bounds what a crash can make go out twice, and what one
 * channel that never answers can hold up (its rows wait in its queue, each for a timeout). */
#define DELIVER_MAX_INFLIGHT 128
#define DELIVER_BATCH 64           /* outcomes that bring a turn at once */
#define DELIVER_FLUSH_MS 5         /* the longest an outcome waits for its turn */
#define DELIVER_MAX_CONNECTIONS 64 /* open to all servers at once (libcurl's limits) */
#define DELIVER_POLL_MS 1000       /* the outbox is looked at least this often */

struct deliver;

/* Creates the sender on loop over store (borrowed): requeues rows a crash left `sending` and
 * starts looking at the outbox. curl_global_init must have been called. NULL with err on
 * failure. */
struct deliver *deliver_new(uv_loop_t *loop, struct store *store, const struct config *cfg,
			    struct err *err);

/* The configuration to use for the next attempts (transfers in flight keep theirs). */
void deliver_set_config(struct deliver *d, const struct config *cfg);

/* Looks at the outbox on the next loop turn (a row was added or retried). */
void deliver_poke(struct deliver *d);

/* From now on (w not NULL) the outcomes' commits do not wait for the disk: w syncs them off
 * the loop (wal_sync.h). A power cut before that sync loses the record of a send, and the
 * message goes again with the same identity, as after a crash mid-send: delivery is at least
 * once. NULL: every commit synced again (before w is closed). */
void deliver_use_wal_sync(struct deliver *d, struct wal_sync *w);

/* Stops sending: transfers in flight are aborted (their rows stay `sending` and go back to
 * `pending` at the next start), every handle is closed, then cb(arg) runs and d is freed. */
void deliver_close(struct deliver *d, void (*cb)(void *arg), void *arg);

#endif
