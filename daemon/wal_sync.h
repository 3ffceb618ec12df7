/* wal_sync: makes the WAL durable off the loop — fdatasync(2) of the -wal file on a thread of
 * its own — so that the loop runs the next group of requests while the disk takes the last
 * group's commit (store_commit_unsynced). Each sync that ends is reported on the loop with
 * the highest ticket it covers.
 *
 * DESIGN. A sync covers what was written to the file before it began: a ticket asked for
 * after a commit is covered by the first sync that begins after the ask. The thread runs one
 * sync at a time; tickets asked for while one runs are all covered by the next. After a failed
 * sync the thread syncs no more: the kernel may have dropped the pages it could not write, so
 * no later sync can vouch for them (the caller cuts the WAL back and ends the process). */
#ifndef DUNGHAN_WAL_SYNC_H
#define DUNGHAN_WAL_SYNC_H

#include <stdint.h>
#include <uv.h>

#include "err.h"
#include "store.h"

struct wal_sync;

/* Called on the loop: every ticket up to covered is on the disk (error 0), and with it the
 * WAL up to mark (the mark asked with the last of them the sync knows; NULL: none); or the sync
 * that should have covered covered failed with errno error (then never again). */
typedef void (*wal_sync_cb)(void *arg, uint64_t covered, const struct store_wal_mark *mark,
			    int error);

/* Opens path (the -wal file, which must exist) and starts the thread. Returns NULL with err. */
struct wal_sync *wal_sync_new(uv_loop_t *loop, const char *path, wal_sync_cb cb, void *arg,
			      struct err *err);

/* Asks for a sync covering everything written to the file so far, which a commit that ended
 * at mark (store_commit_unsynced) has just written. Returns its ticket: 1, 2, … in the order
 * asked (on the loop). */
uint64_t wal_sync_ask(struct wal_sync *w, const struct store_wal_mark *mark);

/* Has the time each sync took handed to observe(arg, seconds) on the loop, just before the
 * report of what it covered (for the metrics: the disk's share of every write's latency). At
 * most WAL_SYNC_TIMES syncs are timed between two reports; the loop takes the reports
 * between its turns, so that bound is not reached in practice. */
#define WAL_SYNC_TIMES 64
void wal_sync_observe(struct wal_sync *w, void (*observe)(void *arg, double seconds),
		      void *arg);

/* The last ticket wal_sync_ask returned (0: none yet). */
uint64_t wal_sync_last(const struct wal_sync *w);

/* Stops the thread once the sync it runs has ended (what is asked and not begun is left) and
 * frees w once its handle is closed, then calls closed(arg) (NULL: none). A failure not yet
 * reported is reported from within (the callback with error); no callback after this. */
void wal_sync_close(struct wal_sync *w, void (*closed)(void *arg), void *arg);

#endif
