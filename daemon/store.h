/* store: the SQLite database — opening it safely (exclusive lock, WAL, synchronous=FULL),
 * applying the embedded migrations, and every SQL statement dunghan runs. No other module
 * holds SQL. Statements are prepared once and bound; errors map to a small status enum. */
#ifndef DUNGHAN_STORE_H
#define DUNGHAN_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "case.h"
#include "config.h"
#include "document.h"
#include "err.h"
#include "migrations.h"

enum store_status {
	STORE_OK = 0,
	STORE_NOT_FOUND = -1,
	STORE_CONFLICT = -2, /* a uniqueness or state conflict */
	STORE_BUSY = -3,     /* the database stayed locked past busy_timeout */
	STORE_LOCKED = -4,   /* another dunghand holds the database's lock file */
	STORE_TOO_NEW = -5,  /* the schema is newer than this binary */
	STORE_ERROR = -6,    /* anything else: I/O, corruption, a failed migration */
	STORE_FULL = -7,     /* the disk or database.max_size is full: nothing was written */
};

struct store_options {
	const struct migration *migrations; /* NULL: the ones embedded in the binary */
	size_t nmigrations;
	int64_t busy_timeout_ms; /* how long opening and migrating wait for another's lock */
};

/* How long a statement waits for a lock another process holds once the store is the loop's
 * (store_enter_loop), at most (busy_timeout_ms if shorter). */
#define STORE_LOOP_BUSY_MS 50

struct store;

/* Process-wide SQLite settings, for main() before any thread or database: allocations are not
 * counted (the counts are never read, and counting takes a global mutex each time). */
void store_global_init(void);

/* Opens (creating parent directory and file, mode 0600) the database at path as the single
 * writer: takes the exclusive lock "<path>.lock", sets the PRAGMAs, applies pending
 * migrations, each in its own transaction. opts may be NULL. Returns NULL and sets *status
 * and err on failure; nothing is left open. */
struct store *store_open(const char *path, const struct store_options *opts,
			 enum store_status *status, struct err *err);

/* From now on the store's statements run on the loop: they wait STORE_LOOP_BUSY_MS at most for
 * a lock another process holds (an operator's sqlite3 shell left in a transaction), so that
 * /healthz, every read and the timers do not wait with them. Until then (opening, migrating,
 * the start-up writes) they wait busy_timeout_ms. */
void store_enter_loop(struct store *st);

/* Opens the database at path read-only, for reports off the loop thread and for dunghanctl
 * --db: no lock file, no migrations (STORE_TOO_NEW or STORE_ERROR "older schema" when its
 * version is not this binary's), query_only. Only the read functions below may be used on it.
 * Each thread needs its own. Returns NULL with *status and err on failure. */
struct store *store_open_readonly(const char *path, enum store_status *status, struct err *err);

/* Moves the WAL's checkpoints (copying its pages into the database file, and syncing both)
 * from inside the writer's COMMIT to a thread with a connection of its own, which checkpoints
 * (PASSIVE: never waiting for the writer, nor making it wait) once a commit leaves `frames`
 * frames or more in the WAL. Without it, SQLite checkpoints inside a COMMIT every 10 000
 * frames. For dunghand's store (dunghanctl's offline commands need none). Returns STORE_OK, or
 * STORE_ERROR with err. */
enum store_status store_start_checkpointer(struct store *st, int frames, struct err *err);

/* Finalizes every statement, closes the database, releases the lock. NULL is a no-op. */
void store_close(struct store *st);

/* Caps the database file at max_bytes (PRAGMA max_page_count; 0: no cap but the disk's). A cap
 * below the current size is allowed: writes that would grow the file then fail STORE_FULL
 * while reads go on. Returns STORE_OK or an error. */
enum store_status store_set_max_size(struct store *st, int64_t max_bytes, struct err *err);

/* The path the database was opened with (for read-only connections to the same file); NULL
 * for a read-only store. */
const char *store_path(const struct store *st);

/* The schema version (PRAGMA user_version) of the open database. */
int store_schema_version(struct store *st);

/* The number of migrations this binary knows, i.e. the version store_open brings a database to. */
int store_latest_version(void);

/* Upserts units, people and procedures from cfg and marks those no longer in cfg inactive,
 * in one transaction. */
enum store_status store_sync_config(struct store *st, const struct config *cfg, int64_t now,
				    struct err *err);

/* Counts of active units, people and procedures (for status lines and tests). */
enum store_status store_count_active(struct store *st, int64_t *units, int64_t *people,
				     int64_t *procedures, struct err *err);

/* Group commit: the loop opens one write transaction, runs the writes of a loop turn, then
 * commits. store_commit returning STORE_OK means every write since store_begin is durable.
 * Within it, each request runs inside a savepoint: released when the request succeeded,
 * rolled back to when it failed, so one bad request never spoils the others of its turn. */
enum store_status store_begin(struct store *st, struct err *err);
enum store_status store_commit(struct store *st, struct err *err);
void store_rollback(struct store *st);
bool store_in_transaction(struct store *st);

/* The open transaction stays open past its owner's turn of the loop (the API's group, grown
 * while the last group's sync runs): whoever needs the connection next — store_begin, or
 * store_yield before a check of store_in_transaction — first has release(arg) end it, by a
 * commit or a rollback. The hold ends with the transaction. */
void store_hold(struct store *st, void (*release)(void *arg), void *arg);
/* Has a held transaction ended now (see store_hold); nothing when none is held. */
void store_yield(struct store *st);
/* Rows the connection has inserted, updated or deleted since it opened (a measure of a
 * transaction's size: the difference of two readings). */
int64_t store_changes(struct store *st);

/* Where a commit ended in the WAL: the WAL's generation (it starts again from its beginning once
 * a checkpoint has copied all of it into the database) and its length in frames then. */
struct store_wal_mark {
	uint64_t generation;
	int64_t frames;
};

/* A group commit that does not wait for the disk: the commit reaches every connection at once,
 * and the disk with a later fdatasync(2) of the "<path>-wal" file (wal_sync.h), which the
 * caller must wait for before it tells anyone the commit is durable, then report with
 * store_wal_synced. mark: where the commit ended. Failures as store_commit's. */
enum store_status store_commit_unsynced(struct store *st, struct store_wal_mark *mark,
					struct err *err);
/* Where the last commit on the connection ended. */
void store_wal_end(const struct store *st, struct store_wal_mark *mark);
/* A sync of the WAL that began after the commit that ended at mark has succeeded. */
void store_wal_synced(struct store *st, const struct store_wal_mark *mark);
/* True when the commit that ended at mark is among those store_cut_wal kept. */
bool store_wal_mark_kept(const struct store_wal_mark *mark, const struct store_wal_mark *kept);
/* A sync of the WAL failed: the disk may not have the unsynced commits, and the kernel no
 * longer says which (a later fsync succeeds for pages it dropped). So they are cut out of the
 * WAL and every connection is made to read it again. durable: the last commit known to be on
 * the disk (synced, or copied into the database by a checkpoint that completed). kept: the
 * last commit the WAL keeps — past durable when a checkpoint that did not complete may have
 * copied some of the commits after it into the database, which the WAL must then replay:
 * whether those reach the disk is unknown. The connection's view is then wrong: the process
 * must end at once, without store_close (its checkpoint would look for frames that are gone),
 * and a restart finds exactly the commits kept. Returns STORE_OK, or STORE_ERROR with err
 * (then nothing is known to be cut). */
enum store_status store_cut_wal(struct store *st, struct store_wal_mark *durable,
				struct store_wal_mark *kept, struct err *err);
enum store_status store_savepoint(struct store *st, struct err *err);
enum store_status store_release(struct store *st, struct err *err);
void store_rollback_to_savepoint(struct store *st);

/* --- items ------------------------------------------------------------------------------ */

/* Filters of the list queries; a NULL/TIME_NONE/0 field does not filter. Results come ordered
 * by (due_at, id), after the cursor when has_cursor, at most limit rows. */
struct store_filter {
	const char *unit;       /* the unit and its whole subtree */
	const char *status;
	bool overdue;           /* open and due_at < now */
	int64_t now;
	int64_t due_before;     /* due_at < due_before */
	int64_t due_after;      /* due_at >= due_after */
	const char *q;          /* prefix: case code or applicant; document symbol */
	int64_t document_id;    /* assignments of a document (top level only) */
	int64_t parent_id;      /* sub-assignments of an assignment */
	bool at_risk;           /* cases: open, with an alert fired */
	bool has_cursor;
	int64_t cursor_due;
	int64_t cursor_id;
	int limit;
};

/* Row callbacks of the list queries; a non-zero return stops the listing. */
typedef int (*store_case_cb)(void *ctx, const struct case_record *c);
typedef int (*store_document_cb)(void *ctx, const struct document_record *d);
typedef int (*store_assignment_cb)(void *ctx, const struct assignment_record *a);

/* Reads the case with this code into *c and its create hash into hash (may be NULL).
 * STORE_NOT_FOUND when there is none. */
enum store_status store_case_get(struct store *st, const char *code, struct case_record *c,
				 unsigned char hash[32], struct err *err);
enum store_status store_case_get_id(struct store *st, int64_t id, struct case_record *c,
				    struct err *err);
/* Inserts c (its id is set); STORE_CONFLICT when the code exists. */
enum store_status store_case_insert(struct store *st, struct case_record *c,
				    const unsigned char hash[32], struct err *err);
/* Writes every mutable field of c, by id. */
enum store_status store_case_update(struct store *st, const struct case_record *c,
				    struct err *err);
enum store_status store_case_list(struct store *st, const struct store_filter *f,
				  store_case_cb cb, void *ctx, struct err *err);

enum store_status store_document_get(struct store *st, int64_t id, struct document_record *d,
				     struct err *err);
/* Inserts d (id set). When d->incoming_no is 0 the next number of its book and year is taken.
 * STORE_CONFLICT when a given number is already used in the book and year. */
enum store_status store_document_insert(struct store *st, struct document_record *d,
					struct err *err);
enum store_status store_document_update(struct store *st, const struct document_record *d,
					struct err *err);
enum store_status store_document_list(struct store *st, const struct store_filter *f,
				      store_document_cb cb, void *ctx, struct err *err);

/* now is used for the children's overdue count. */
enum store_status store_assignment_get(struct store *st, int64_t id, int64_t now,
				       struct assignment_record *a, struct err *err);
enum store_status store_assignment_insert(struct store *st, struct assignment_record *a,
					  struct err *err);
enum store_status store_assignment_update(struct store *st, const struct assignment_record *a,
					  struct err *err);
enum store_status store_assignment_list(struct store *st, const struct store_filter *f,
					store_assignment_cb cb, void *ctx, struct err *err);

/* Whether unit `descendant` lies strictly below unit `ancestor` in the unit tree. */
enum store_status store_unit_is_below(struct store *st, const char *descendant,
				      const char *ancestor, bool *below, struct err *err);

/* --- escalation: watch, alerts, outbox ------------------------------------------------- */

/* For an open item: the deadline its rules are armed for, when the next fires, and up to when
 * firings have been handled. */
struct store_watch {
	const char *item_kind;
	int64_t item_id;
	int64_t due_at;
	int64_t next_fire_at;  /* TIME_NONE: nothing to fire */
	int64_t checked_until; /* TIME_NONE: nothing handled yet */
};
typedef int (*store_watch_cb)(void *ctx, const struct store_watch *w);

enum store_status store_watch_get(struct store *st, const char *kind, int64_t id,
				  struct store_watch *w, struct err *err);
enum store_status store_watch_put(struct store *st, const struct store_watch *w, struct err *err);
enum store_status store_watch_delete(struct store *st, const char *kind, int64_t id,
				     struct err *err);
/* The rows with next_fire_at <= now, earliest first, at most limit. */
enum store_status store_watch_due(struct store *st, int64_t now, int limit, store_watch_cb cb,
				  void *ctx, struct err *err);
/* MIN(next_fire_at), TIME_NONE when nothing is armed. */
enum store_status store_watch_next(struct store *st, int64_t *next, struct err *err);

struct store_alert {
	int64_t id;
	const char *item_kind;
	int64_t item_id;
	const char *rule_id;
	int64_t due_at;
	int64_t occurrence;
	int64_t fire_at;
	int64_t fired_at;
	const char *unit;
	bool urgent;
	int64_t acknowledged_at; /* TIME_NONE when not */
	const char *acknowledged_by;
	const char *acknowledged_note; /* read only; NULL when none */
	const char *item_key;    /* read only: the case code, or the id as text */
};
typedef int (*store_alert_cb)(void *ctx, const struct store_alert *a);

/* Inserts a unless the same (item, rule, due_at, occurrence) exists: *inserted tells. */
enum store_status store_alert_insert(struct store *st, struct store_alert *a, bool *inserted,
				     struct err *err);
/* Whether an alert of this rule for this deadline was acknowledged. */
enum store_status store_alert_acked(struct store *st, const char *kind, int64_t id,
				    const char *rule, int64_t due_at, bool *acked, struct err *err);
/* Acknowledges alert id, with a note or NULL (once: STORE_CONFLICT when already). */
enum store_status store_alert_ack(struct store *st, int64_t id, int64_t at, const char *by,
				  const char *note, struct err *err);

struct store_alert_filter {
	const char *item_kind; /* with item_id: one item's alerts */
	int64_t item_id;
	const char *unit;      /* the unit and its subtree */
	const char *rule;
	int64_t since;         /* fired_at >= since; TIME_NONE: any */
	int acknowledged;      /* -1 any, 0 not, 1 only acknowledged */
	int64_t after_id;      /* keyset: id > after_id */
	int limit;
};
enum store_status store_alert_list(struct store *st, const struct store_alert_filter *f,
				   store_alert_cb cb, void *ctx, struct err *err);
enum store_status store_alert_get(struct store *st, int64_t id, store_alert_cb cb, void *ctx,
				  struct err *err);

struct store_outbox {
	int64_t id;
	int64_t alert_id; /* 0 for a digest */
	const char *channel;
	const char *recipient;
	const char *address;
	const char *subject;
	const char *body_text;
	const char *body_html;
	const char *status;
	int64_t not_before;
	int64_t created_at;
	const char *facts;       /* JSON: rule, severity, kind, code, summary, unit, handler,
	                          * due_at, link; NULL when none */
	int64_t attempts;        /* read only */
	int64_t next_attempt_at; /* read only; TIME_NONE: not_before */
	const char *last_error;  /* read only */
	int64_t retried_attempts; /* read only: attempts made before the last manual retry */
	int64_t retried_at;      /* read only: TIME_NONE when never retried by hand */
};
typedef int (*store_outbox_cb)(void *ctx, const struct store_outbox *o);

enum store_status store_outbox_insert(struct store *st, struct store_outbox *o, struct err *err);
struct store_outbox_filter {
	const char *status;
	const char *channel;
	const char *recipient;
	int64_t after_id;
	int limit;
};
enum store_status store_outbox_list(struct store *st, const struct store_outbox_filter *f,
				    store_outbox_cb cb, void *ctx, struct err *err);
/* The rows written for alert alert_id, first to last, at most limit. */
enum store_status store_outbox_of_alert(struct store *st, int64_t alert_id, int limit,
					store_outbox_cb cb, void *ctx, struct err *err);
/* The held (digest) rows of recipient, oldest first; then store_outbox_digested marks every
 * held row of recipient up to max_id as digested. */
enum store_status store_outbox_held(struct store *st, const char *recipient, store_outbox_cb cb,
				    void *ctx, struct err *err);
enum store_status store_outbox_digested(struct store *st, const char *recipient, int64_t max_id,
					struct err *err);
/* Recipients with held rows. */
typedef int (*store_name_cb)(void *ctx, const char *name);
enum store_status store_outbox_held_recipients(struct store *st, store_name_cb cb, void *ctx,
					       struct err *err);

/* --- delivery ---------------------------------------------------------------------------- */

/* Rows left `sending` (by a version that marked the rows it sent) go back to `pending`. */
enum store_status store_outbox_requeue(struct store *st, struct err *err);
struct store_outbox_due {
	int64_t now;
	int limit;
	bool with_email;           /* e-mail rows too */
	int64_t after_due, after_id; /* only rows after this (due, id); INT64_MIN twice: all */
	const int64_t *skip;       /* and not these ids */
	size_t nskip;
};
/* Pending rows due for an attempt (due = coalesce(next_attempt_at, not_before) <= q->now),
 * in the order of (due, id), at most q->limit. Nothing is written: the caller keeps what it
 * claims in memory (a row stays `pending` until its outcome is written) and says what to leave
 * out: every row up to (after_due, after_id) in that order, at no cost, and the ids in skip,
 * at about 2 500 instructions each (a row of json_each). */
enum store_status store_outbox_claim(struct store *st, const struct store_outbox_due *q,
				     store_outbox_cb cb, void *ctx, struct err *err);
/* The earliest instant after now a pending row (e-mail rows only when with_email) becomes due,
 * TIME_NONE when none. (Rows due by now are the claim's, or claimed.) */
enum store_status store_outbox_next_due(struct store *st, int64_t now, bool with_email,
					int64_t *next, struct err *err);

struct store_attempt {
	int64_t outbox_id;
	int64_t attempt;
	int64_t started_at, finished_at;
	const char *outcome; /* "ok", "retryable", "permanent" */
	int64_t curl_code;
	const char *reply;
};
/* The outcome of an attempt: the attempt, and where its outbox row goes. */
struct store_outcome {
	struct store_attempt attempt;
	const char *status;      /* "sent", "pending" (again) or "dead" */
	int64_t next_attempt_at; /* pending: when; TIME_NONE otherwise */
	const char *last_error;  /* NULL when sent */
};
/* Records n attempts and moves their rows (attempts + 1, the status, next_attempt_at,
 * last_error, and sent_at = finished_at when sent), with a few statements for many rows. On an
 * error part of it may be written: call it inside a savepoint. */
enum store_status store_outbox_finish_many(struct store *st, const struct store_outcome *o,
					   size_t n, struct err *err);
/* A dead row back to pending for a new round of attempts (attempt numbers go on from where they
 * were); STORE_NOT_FOUND when no dead row has that id. */
enum store_status store_outbox_retry(struct store *st, int64_t id, int64_t now, struct err *err);
/* The attempts of one outbox row, first to last. */
enum store_status store_outbox_attempts(struct store *st, int64_t outbox_id,
					void (*cb)(void *ctx, const struct store_attempt *a),
					void *ctx, struct err *err);

/* A fact the scheduler keeps across restarts (*value unchanged when absent). */
enum store_status store_state_get(struct store *st, const char *key, int64_t *value,
				  struct err *err);
enum store_status store_state_put(struct store *st, const char *key, int64_t value,
				  struct err *err);

/* What an operator looks at first (dunghanctl status, STATUS=, metrics). */
struct store_counts {
	int64_t open_cases, open_documents, open_assignments;
	int64_t overdue_cases, overdue_documents, overdue_assignments; /* open, due_at < now */
	int64_t at_risk_cases;  /* open, not overdue, with an alert fired */
	int64_t outbox_pending; /* pending, held or sending */
	int64_t outbox_dead;
};
enum store_status store_counts(struct store *st, int64_t now, struct store_counts *c,
			       struct err *err);

/* --- KPIs (read-only connections; docs/kpi.md has the definitions) ------------------------ */

/* One unit's case counts for the period [from, end): end is the period's end, or now when
 * that is earlier. Withdrawn and rejected cases are never counted. */
struct store_case_counts {
	const char *unit;
	int64_t received;        /* received_at in [from, end) */
	int64_t carried;         /* received before from, not completed before from */
	int64_t early, on_time, late; /* completed_at in [from, end), by outcome */
	int64_t open_within;     /* not completed before end, within its deadline at end */
	int64_t open_overdue;    /* not completed before end, overdue at end */
	int64_t online;          /* received in the period with online != none */
	int64_t with_fee;        /* received in the period with fee > 0 */
	int64_t paid_online;     /* of those, paid online */
	int64_t digitized;       /* received in the period and digitised */
	int64_t due;             /* due_at in [from, end) (the error budget's windows) */
	int64_t due_late;        /* of those, completed late, rescheduled, or open at end (a
	                          * case paused with time left is not) */
};
typedef int (*store_case_counts_cb)(void *ctx, const struct store_case_counts *c);
/* One row per unit that has cases in the period (in no particular order). Within deadline at
 * end: not rescheduled (late = 0), and due_at >= end, or paused before end with time left.
 * The deadlines (due, due_late) count whatever the case's receipt and completion. */
enum store_status store_kpi_cases(struct store *st, int64_t from, int64_t end,
				  store_case_counts_cb cb, void *ctx, struct err *err);

/* A period [from, end) of store_kpi_cases_periods. */
struct store_period {
	int64_t from, end;
};
#define STORE_KPI_PERIODS_MAX 64
typedef int (*store_period_counts_cb)(void *ctx, size_t period,
				      const struct store_case_counts *c);
/* The counts of store_kpi_cases for each of the n periods p (1 to STORE_KPI_PERIODS_MAX, in
 * any order, overlapping or not) in one pass over the cases that matter to any of them: a row
 * per period (its index in p) and unit that has cases in it, in no particular order. units
 * (nunits ids), when not NULL, are the units the caller wants: the pass may read only theirs
 * (when they hold few of the cases), and rows of other units may come as well. A non-zero
 * return of cb stops the rows. */
enum store_status store_kpi_cases_periods(struct store *st, const struct store_period *p,
					  size_t n, const char *const *units, size_t nunits,
					  store_period_counts_cb cb, void *ctx, struct err *err);

/* Ratings given in [from, end) per unit: rated, and satisfied (rating >= satisfied_rating). */
typedef int (*store_rating_cb)(void *ctx, const char *unit, int64_t rated, int64_t satisfied);
enum store_status store_kpi_ratings(struct store *st, int64_t from, int64_t end,
				    int satisfied_rating, store_rating_cb cb, void *ctx,
				    struct err *err);

/* Documents (by lead unit) or assignments (by unit) per unit for the period [from, end). */
struct store_item_counts {
	const char *unit;
	int64_t due;          /* due_at in [from, end) */
	int64_t done_on_time; /* of those, done at or before due_at (and before end) */
	int64_t done_late;    /* of those, done after due_at (and before end) */
	int64_t open_overdue; /* open now (or done after end) with due_at < end */
};
typedef int (*store_item_counts_cb)(void *ctx, const struct store_item_counts *c);
enum store_status store_kpi_documents(struct store *st, int64_t from, int64_t end,
				      store_item_counts_cb cb, void *ctx, struct err *err);
enum store_status store_kpi_assignments(struct store *st, int64_t from, int64_t end,
					store_item_counts_cb cb, void *ctx, struct err *err);

/* An inspection: unit inspected one of its subordinate units on a local date "YYYY-MM-DD". */
struct store_inspection {
	int64_t id;
	const char *unit;
	const char *inspected_unit;
	const char *on_date;
	const char *note; /* or NULL */
	const char *actor;
	int64_t created_at;
};
typedef int (*store_inspection_cb)(void *ctx, const struct store_inspection *i);
enum store_status store_inspection_insert(struct store *st, struct store_inspection *i,
					  struct err *err);
/* Inspections with on_date in [from_date, to_date] (inclusive), by unit when unit is not NULL
 * (that unit's own inspections only), in the order recorded (by id), after after_id, at most
 * limit. */
enum store_status store_inspection_list(struct store *st, const char *unit, const char *from_date,
					const char *to_date, int64_t after_id, int limit,
					store_inspection_cb cb, void *ctx, struct err *err);
/* The distinct (unit, inspected unit) pairs with on_date in [from_date, to_date]. */
typedef int (*store_pair_cb)(void *ctx, const char *unit, const char *inspected_unit);
enum store_status store_kpi_inspections(struct store *st, const char *from_date,
					const char *to_date, store_pair_cb cb, void *ctx,
					struct err *err);

/* The cases of status ("received", "in_progress"…) in the subtree of unit with due_at in
 * [from, end) (from may be TIME_NONE: since ever), by due_at then id, at most limit: the
 * dashboard's lists of overdue and due-soon cases. late: -1 all of them, 0 those never
 * rescheduled, 1 only those rescheduled after lateness (late = 1, overdue whatever their
 * due_at). */
enum store_status store_kpi_due(struct store *st, const char *unit, const char *status,
				int64_t from, int64_t end, int late, int limit, store_case_cb cb,
				void *ctx, struct err *err);

/* The open sub-assignment of parent_id due last (child_id 0 when it has none open). */
enum store_status store_assignment_latest_child(struct store *st, int64_t parent_id,
					       int64_t *child_id, int64_t *due_at, struct err *err);
/* The sub-assignments below assignment root, depth first (depth 1 = its direct children). */
struct store_tree_node {
	int64_t id;
	int64_t parent_id;
	int depth;
	const char *unit;
	bool done;
	int64_t due_at;
	int64_t done_at; /* TIME_NONE when open */
};
typedef int (*store_tree_cb)(void *ctx, const struct store_tree_node *n);
enum store_status store_assignment_tree(struct store *st, int64_t root, store_tree_cb cb,
					void *ctx, struct err *err);
/* Top-level assignments (of a document or a direction) created in [from, end) whose unit is
 * in unit's subtree (unit NULL: all), oldest first, at most limit. */
enum store_status store_directive_list(struct store *st, const char *unit, int64_t from,
				       int64_t end, int limit, store_assignment_cb cb, void *ctx,
				       struct err *err);

/* KPI notices sent (kind "budget" or "report", per unit and week): *sent tells whether one
 * was; store_kpi_notice_put records one (in the caller's transaction). */
enum store_status store_kpi_notice_get(struct store *st, const char *kind, const char *unit,
				       int64_t week, bool *sent, struct err *err);
enum store_status store_kpi_notice_put(struct store *st, const char *kind, const char *unit,
				       int64_t week, int64_t now, struct err *err);

/* --- operations: /metrics and backups ---------------------------------------------------- */

/* The families of GET /metrics the database answers; labels[0..2] of each row, in order, and
 * NULL where a family has fewer (or a document has no lead unit). */
enum store_metric {
	STORE_METRIC_OPEN,       /* open items: kind, unit, status */
	STORE_METRIC_OVERDUE,    /* open items past due_at (paused cases are not): kind, unit */
	STORE_METRIC_AT_RISK,    /* open cases not overdue with an alert fired: unit */
	STORE_METRIC_ALERTS,     /* alerts ever fired: rule */
	STORE_METRIC_OUTBOX,     /* outbox rows: channel, status */
	STORE_METRIC_DELIVERIES, /* delivery attempts: channel, outcome */
};
typedef int (*store_metric_cb)(void *ctx, enum store_metric family, const char *const labels[3],
			       int64_t value);
/* Every count of every family, from one snapshot, families in the order above. Scans the open
 * items and the alerts, outbox and attempts tables: for read-only connections off the loop. */
enum store_status store_metrics(struct store *st, int64_t now, store_metric_cb cb, void *ctx,
				struct err *err);

struct store_backup_info {
	int64_t bytes; /* size of the copy */
	int64_t pages; /* database pages copied */
};
/* Copies the database at src_path to dest_path with SQLite's online backup API, on connections
 * of its own (src read-only; any schema version, so a database can be saved before an upgrade):
 * blocking, for a worker thread or dunghanctl. The copy is one consistent snapshot taken while
 * writers go on; it is written as "<dest_path>.partial" (mode 0600), made a self-contained
 * rollback-journal file, checked with PRAGMA integrity_check, fsync'd, renamed to dest_path,
 * and the directory fsync'd. STORE_CONFLICT when dest_path (or the .partial) exists; nothing
 * is left behind on failure. Fills *info. */
enum store_status store_backup(const char *src_path, const char *dest_path,
			       struct store_backup_info *info, struct err *err);

/* --- the event log ---------------------------------------------------------------------- */

struct store_event {
	int64_t id;
	const char *item_kind; /* "case", "document", "assignment" */
	int64_t item_id;
	const char *type;
	int64_t at;
	const char *actor;
	const char *data;      /* a JSON object */
	int64_t due_at;        /* the item's due_at after the event, TIME_NONE for none */
	int64_t recorded_at;
};
typedef int (*store_event_cb)(void *ctx, const struct store_event *e);

/* Appends e (its id is set). */
enum store_status store_event_append(struct store *st, struct store_event *e, struct err *err);
/* The events of one item, oldest first. */
/* The instant of item's latest event other than a note or a rating (TIME_NONE: none). */
enum store_status store_event_last_at(struct store *st, const char *item_kind, int64_t item_id,
				     int64_t *at, struct err *err);
enum store_status store_event_list(struct store *st, const char *item_kind, int64_t item_id,
				   store_event_cb cb, void *ctx, struct err *err);

#endif
