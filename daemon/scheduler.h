/* scheduler: the deadline engine. It keeps, for every open item, the instant its next
 * escalation rule fires (the `watch` table, maintained in the same transaction as every change
 * of the item), sleeps on one uv_timer armed at the earliest of them, and when rules fire
 * writes their alerts and outbox messages — rendered for each recipient — in one transaction.
 * Digest readers get their held messages once a working day at escalation.digest_at. */
#ifndef DUNGHAN_SCHEDULER_H
#define DUNGHAN_SCHEDULER_H

#include <stdint.h>
#include <uv.h>

#include "case.h"
#include "config.h"
#include "document.h"
#include "err.h"
#include "store.h"

#define SCHEDULER_CHUNK 250          /* watch rows handled per transaction (a commit each);
                                      * small enough that requests wait < 50 ms meanwhile */
#define SCHEDULER_MAX_SLEEP_MS 60000 /* wake at least this often, to notice clock changes */

struct scheduler;

/* Creates the scheduler on loop over store (borrowed) and arms it. now_fn (NULL: time(2)) gives
 * the wall clock in seconds, so that tests can run the rules of another day. */
struct scheduler *scheduler_new(uv_loop_t *loop, struct store *store, const struct config *cfg,
				struct err *err);

/* The configuration to use from now on (rules, people, templates). */
void scheduler_set_config(struct scheduler *s, const struct config *cfg);

/* After a change of an item, inside the caller's write transaction: arms the item's rules for
 * its (possibly new) deadline, or removes its watch when it is closed or its clock stopped.
 * A new deadline re-arms every rule; the same deadline keeps what already fired.
 * Returns 0, or -1 with err (the caller rolls back). */
int scheduler_track_case(struct scheduler *s, const struct case_record *c, int64_t now,
			 struct err *err);
int scheduler_track_document(struct scheduler *s, const struct document_record *d, int64_t now,
			     struct err *err);
int scheduler_track_assignment(struct scheduler *s, const struct assignment_record *a,
			       int64_t now, struct err *err);
/* The same for a case just inserted, which has no watch and no alerts yet (no lookup of either:
 * case ids are never reused, since cases are never deleted). */
int scheduler_track_new_case(struct scheduler *s, const struct case_record *c, struct err *err);

/* Stops the timer and closes the handle; cb(arg) runs from the close callback, after which s is
 * freed. */
void scheduler_close(struct scheduler *s, void (*cb)(void *arg), void *arg);

#endif
