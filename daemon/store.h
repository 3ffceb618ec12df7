/* store: the SQLite database — opening it safely (exclusive lock, WAL, synchronous=FULL),
 * applying the embedded migrations, and every SQL statement dunghan runs. No other module
 * holds SQL. Statements are prepared once and bound; errors map to a small status enum. */
#ifndef DUNGHAN_STORE_H
#define DUNGHAN_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
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
};

struct store_options {
	const struct migration *migrations; /* NULL: the ones embedded in the binary */
	size_t nmigrations;
	int64_t busy_timeout_ms;            /* 0: 5000 */
};

struct store;

/* Opens (creating parent directory and file, mode 0600) the database at path as the single
 * writer: takes the exclusive lock "<path>.lock", sets the PRAGMAs, applies pending
 * migrations, each in its own transaction. opts may be NULL. Returns NULL and sets *status
 * and err on failure; nothing is left open. */
struct store *store_open(const char *path, const struct store_options *opts,
			 enum store_status *status, struct err *err);

/* Finalizes every statement, closes the database, releases the lock. NULL is a no-op. */
void store_close(struct store *st);

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
 * commits. store_commit returning STORE_OK means every write since store_begin is durable. */
enum store_status store_begin(struct store *st, struct err *err);
enum store_status store_commit(struct store *st, struct err *err);
void store_rollback(struct store *st);

#endif
