/* store: SQLite access for the single writer on the loop thread (see store.h).
 *
 * DESIGN: the lock file is separate from the database because SQLite's own POSIX locks are
 * per process and dropped when any descriptor of the file closes; flock(2) on a file SQLite
 * never touches is independent of them. WAL with synchronous=FULL makes a returned COMMIT
 * durable across a power cut; readers on other connections see snapshots and never block the
 * writer. */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

enum stmt_id {
	STMT_UNIT_DEACTIVATE,
	STMT_UNIT_UPSERT,
	STMT_PERSON_DEACTIVATE,
	STMT_PERSON_UPSERT,
	STMT_PROCEDURE_DEACTIVATE,
	STMT_PROCEDURE_UPSERT,
	STMT_COUNT_ACTIVE,
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_MAX
};

static const char *const stmt_sql[STMT_MAX] = {
	[STMT_UNIT_DEACTIVATE] = "UPDATE units SET active = 0, updated_at = ?1 WHERE active = 1",
	[STMT_UNIT_UPSERT] =
		"INSERT INTO units (id, name, level, parent_id, head_id, email, active, updated_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7) "
		"ON CONFLICT (id) DO UPDATE SET name = excluded.name, level = excluded.level, "
		"parent_id = excluded.parent_id, head_id = excluded.head_id, email = excluded.email, "
		"active = 1, updated_at = excluded.updated_at",
	[STMT_PERSON_DEACTIVATE] = "UPDATE people SET active = 0, updated_at = ?1 WHERE active = 1",
	[STMT_PERSON_UPSERT] =
		"INSERT INTO people (id, name, title, email, unit_id, active, updated_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6) "
		"ON CONFLICT (id) DO UPDATE SET name = excluded.name, title = excluded.title, "
		"email = excluded.email, unit_id = excluded.unit_id, active = 1, "
		"updated_at = excluded.updated_at",
	[STMT_PROCEDURE_DEACTIVATE] =
		"UPDATE procedures SET active = 0, updated_at = ?1 WHERE active = 1",
	[STMT_PROCEDURE_UPSERT] =
		"INSERT INTO procedures (code, name, days, on_resume, active, updated_at) "
		"VALUES (?1, ?2, ?3, ?4, 1, ?5) "
		"ON CONFLICT (code) DO UPDATE SET name = excluded.name, days = excluded.days, "
		"on_resume = excluded.on_resume, active = 1, updated_at = excluded.updated_at",
	[STMT_COUNT_ACTIVE] = "SELECT (SELECT count(*) FROM units WHERE active = 1), "
			      "(SELECT count(*) FROM people WHERE active = 1), "
			      "(SELECT count(*) FROM procedures WHERE active = 1)",
	[STMT_BEGIN] = "BEGIN IMMEDIATE",
	[STMT_COMMIT] = "COMMIT",
	[STMT_ROLLBACK] = "ROLLBACK",
};

struct store {
	sqlite3 *db;
	int lock_fd;
	sqlite3_stmt *stmt[STMT_MAX];
};

static enum store_status status_of(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return STORE_OK;
	case SQLITE_CONSTRAINT:
		return STORE_CONFLICT;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return STORE_BUSY;
	default:
		return STORE_ERROR;
	}
}

static enum store_status db_error(struct store *st, int rc, struct err *err, const char *what)
{
	err_set(err, NULL, "%s: %s", what, st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
	return status_of(rc);
}

/* Creates every missing directory of path's parent, like mkdir -p. */
static int make_parent_dirs(const char *path, struct err *err)
{
	char buf[4096];
	size_t n = strlen(path);

	if (n >= sizeof(buf))
		return err_set(err, "database.path", "path is too long");
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0750) != 0 && errno != EEXIST)
			return err_set(err, "database.path", "cannot create directory %s: %s", buf,
				       strerror(errno));
		*p = '/';
	}
	return 0;
}

static int take_lock(struct store *st, const char *path, enum store_status *status,
		     struct err *err)
{
	char lock_path[4200];

	snprintf(lock_path, sizeof(lock_path), "%s.lock", path);
	st->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (st->lock_fd < 0) {
		*status = STORE_ERROR;
		return err_set(err, "database.path", "cannot open lock file %s: %s", lock_path,
			       strerror(errno));
	}
	if (flock(st->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		*status = errno == EWOULDBLOCK ? STORE_LOCKED : STORE_ERROR;
		return err_set(err, "database.path",
			       *status == STORE_LOCKED
				       ? "database %s is in use by another dunghand (lock %s is held)"
				       : "cannot lock database %s: %s",
			       path, *status == STORE_LOCKED ? lock_path : strerror(errno));
	}
	return 0;
}

static int exec_sql(struct store *st, const char *sql, struct err *err, const char *what)
{
	char *msg = NULL;
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		err_set(err, NULL, "%s: %s", what, msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return rc;
	}
	return SQLITE_OK;
}

static int read_user_version(struct store *st, int *version)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL);

	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		*version = sqlite3_column_int(s, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	return rc;
}

/* Each migration runs in its own transaction together with its user_version bump, so a
 * failing one leaves the database at the version before it. */
static enum store_status migrate(struct store *st, const struct migration *list, size_t n,
				 struct err *err)
{
	char sql[64];
	int version, rc;

	if ((rc = read_user_version(st, &version)) != SQLITE_OK)
		return db_error(st, rc, err, "cannot read the schema version");
	if (version < 0 || (size_t)version > n) {
		err_set(err, "database.path",
			"the database has schema version %d but this dunghand knows only versions up "
			"to %zu: it was written by a newer release; upgrade dunghand or restore a "
			"backup", version, n);
		return STORE_TOO_NEW;
	}
	for (size_t i = (size_t)version; i < n; i++) {
		char what[200];

		snprintf(what, sizeof(what), "migration %s failed", list[i].name);
		if ((rc = exec_sql(st, "BEGIN IMMEDIATE", err, what)) != SQLITE_OK)
			return status_of(rc);
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %zu", i + 1);
		if ((rc = exec_sql(st, list[i].sql, err, what)) != SQLITE_OK ||
		    (rc = exec_sql(st, sql, err, what)) != SQLITE_OK ||
		    (rc = exec_sql(st, "COMMIT", err, what)) != SQLITE_OK) {
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			return STORE_ERROR;
		}
	}
	return STORE_OK;
}

struct store *store_open(const char *path, const struct store_options *opts,
			 enum store_status *status, struct err *err)
{
	const struct migration *list = opts && opts->migrations ? opts->migrations : migrations;
	size_t n = opts && opts->migrations ? opts->nmigrations : migrations_count;
	int64_t busy = opts && opts->busy_timeout_ms ? opts->busy_timeout_ms : 5000;
	struct store *st = calloc(1, sizeof(*st));
	enum store_status s = STORE_ERROR;
	char pragma[64];
	int fd, rc;

	err_clear(err);
	if (!st) {
		err_set(err, NULL, "out of memory");
		goto fail;
	}
	st->lock_fd = -1;
	if (make_parent_dirs(path, err) != 0 || take_lock(st, path, &s, err) != 0)
		goto fail;
	/* Create the file ourselves so that it, and the -wal and -shm files SQLite derives
	 * from it, are private to the daemon's user. */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_set(err, "database.path", "cannot open %s: %s", path, strerror(errno));
		s = STORE_ERROR;
		goto fail;
	}
	close(fd);
	rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		s = db_error(st, rc, err, "cannot open the database");
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	snprintf(pragma, sizeof(pragma), "PRAGMA busy_timeout = %lld", (long long)busy);
	if ((rc = exec_sql(st, pragma, err, "cannot configure the database")) != SQLITE_OK ||
	    (rc = exec_sql(st, "PRAGMA journal_mode = WAL", err,
			   "cannot switch the database to WAL")) != SQLITE_OK ||
	    (rc = exec_sql(st, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON", err,
			   "cannot configure the database")) != SQLITE_OK) {
		s = status_of(rc);
		goto fail;
	}
	if ((s = migrate(st, list, n, err)) != STORE_OK)
		goto fail;
	for (int i = 0; i < STMT_MAX; i++) {
		if (!stmt_sql[i])
			continue;
		rc = sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					&st->stmt[i], NULL);
		/* A test may open with its own short migration list: statements on tables it
		 * lacks are simply not available. */
		if (rc != SQLITE_OK && list == migrations) {
			s = db_error(st, rc, err, "cannot prepare a statement");
			goto fail;
		}
	}
	*status = STORE_OK;
	return st;
fail:
	*status = s;
	store_close(st);
	return NULL;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	for (int i = 0; i < STMT_MAX; i++)
		sqlite3_finalize(st->stmt[i]);
	if (st->db)
		sqlite3_close_v2(st->db);
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	free(st);
}

int store_schema_version(struct store *st)
{
	int version = -1;

	if (read_user_version(st, &version) != SQLITE_OK)
		return -1;
	return version;
}

int store_latest_version(void)
{
	return (int)migrations_count;
}

/* Binds a string or NULL. */
static int bind_text(sqlite3_stmt *s, int i, const char *v)
{
	return v ? sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(s, i);
}

/* Steps a statement that returns no rows, then resets it. */
static int run(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

static int run_now(struct store *st, enum stmt_id id, int64_t now)
{
	sqlite3_bind_int64(st->stmt[id], 1, now);
	return run(st->stmt[id]);
}

enum store_status store_sync_config(struct store *st, const struct config *cfg, int64_t now,
				    struct err *err)
{
	enum store_status s;
	int rc;

	if ((s = store_begin(st, err)) != STORE_OK)
		return s;
	if ((rc = run_now(st, STMT_UNIT_DEACTIVATE, now)) != SQLITE_OK ||
	    (rc = run_now(st, STMT_PERSON_DEACTIVATE, now)) != SQLITE_OK ||
	    (rc = run_now(st, STMT_PROCEDURE_DEACTIVATE, now)) != SQLITE_OK)
		goto fail;
	for (size_t i = 0; i < cfg->nunits; i++) {
		const struct config_unit *u = &cfg->units[i];
		sqlite3_stmt *q = st->stmt[STMT_UNIT_UPSERT];
		bind_text(q, 1, u->id);
		bind_text(q, 2, u->name);
		bind_text(q, 3, u->level);
		bind_text(q, 4, u->parent);
		bind_text(q, 5, u->head);
		bind_text(q, 6, u->email);
		sqlite3_bind_int64(q, 7, now);
		if ((rc = run(q)) != SQLITE_OK)
			goto fail;
	}
	for (size_t i = 0; i < cfg->npeople; i++) {
		const struct config_person *p = &cfg->people[i];
		sqlite3_stmt *q = st->stmt[STMT_PERSON_UPSERT];
		bind_text(q, 1, p->id);
		bind_text(q, 2, p->name);
		bind_text(q, 3, p->title);
		bind_text(q, 4, p->email);
		bind_text(q, 5, p->unit);
		sqlite3_bind_int64(q, 6, now);
		if ((rc = run(q)) != SQLITE_OK)
			goto fail;
	}
	for (size_t i = 0; i < cfg->nprocedures; i++) {
		const struct config_procedure *p = &cfg->procedures[i];
		sqlite3_stmt *q = st->stmt[STMT_PROCEDURE_UPSERT];
		bind_text(q, 1, p->code);
		bind_text(q, 2, p->name);
		sqlite3_bind_double(q, 3, p->days);
		bind_text(q, 4, p->on_resume);
		sqlite3_bind_int64(q, 5, now);
		if ((rc = run(q)) != SQLITE_OK)
			goto fail;
	}
	return store_commit(st, err);
fail:
	s = db_error(st, rc, err, "cannot store units, people and procedures from the config");
	store_rollback(st);
	return s;
}

enum store_status store_count_active(struct store *st, int64_t *units, int64_t *people,
				     int64_t *procedures, struct err *err)
{
	sqlite3_stmt *q = st->stmt[STMT_COUNT_ACTIVE];
	int rc = sqlite3_step(q);

	*units = *people = *procedures = 0;
	if (rc != SQLITE_ROW) {
		sqlite3_reset(q);
		return db_error(st, rc, err, "cannot count units");
	}
	*units = sqlite3_column_int64(q, 0);
	*people = sqlite3_column_int64(q, 1);
	*procedures = sqlite3_column_int64(q, 2);
	sqlite3_reset(q);
	return STORE_OK;
}

enum store_status store_begin(struct store *st, struct err *err)
{
	int rc = run(st->stmt[STMT_BEGIN]);

	return rc == SQLITE_OK ? STORE_OK : db_error(st, rc, err, "cannot begin a transaction");
}

enum store_status store_commit(struct store *st, struct err *err)
{
	int rc = run(st->stmt[STMT_COMMIT]);

	if (rc == SQLITE_OK)
		return STORE_OK;
	db_error(st, rc, err, "commit failed");
	store_rollback(st);
	return status_of(rc) == STORE_OK ? STORE_ERROR : status_of(rc);
}

void store_rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		run(st->stmt[STMT_ROLLBACK]);
}
