/* Store: opening safely (lock, mode, PRAGMAs), migrations (fresh, idempotent, too new,
 * failing), and the config sync (upsert, inactive never deleted). Real SQLite files. */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "harness.h"
#include "store.h"

static struct harness h;
static char db[600];

static void setup(void)
{
	cr_assert_eq(harness_init(&h), 0);
	harness_path(&h, "nested/dir/dunghan.db", db, sizeof(db));
}

static void teardown(void)
{
	harness_close(&h);
}

TestSuite(store, .init = setup, .fini = teardown);

/* Runs one query returning one integer on a separate raw connection. */
static long long query_int(const char *sql)
{
	sqlite3 *raw = NULL;
	sqlite3_stmt *s = NULL;
	long long v = -1;

	cr_assert_eq(sqlite3_open_v2(db, &raw, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(raw, sql, -1, &s, NULL), SQLITE_OK, "%s", sqlite3_errmsg(raw));
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(raw);
	return v;
}

static void exec_raw(const char *sql)
{
	sqlite3 *raw = NULL;
	cr_assert_eq(sqlite3_open_v2(db, &raw, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(raw, sql, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(raw));
	sqlite3_close(raw);
}

static struct store *open_ok(void)
{
	enum store_status status;
	struct err err;
	struct store *st = store_open(db, NULL, &status, &err);

	cr_assert_not_null(st, "%s", err.msg);
	cr_assert_eq(status, STORE_OK);
	return st;
}

Test(store, fresh_database_reaches_latest_version)
{
	struct store *st = open_ok();
	struct stat sb;

	cr_assert_eq(store_schema_version(st), store_latest_version());
	cr_assert_geq(store_latest_version(), 1);
	cr_assert_eq(stat(db, &sb), 0, "the parent directories and the file are created");
	cr_assert_eq(sb.st_mode & 0777, 0600);
	store_close(st);
	cr_assert_eq(query_int("PRAGMA user_version"), store_latest_version());
	cr_assert_eq(query_int("SELECT count(*) FROM sqlite_schema WHERE name = 'units'"), 1);
}

Test(store, pragmas)
{
	struct store *st = open_ok();

	store_close(st);
	cr_assert_eq(query_int("SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);
}

Test(store, reopening_is_a_no_op)
{
	struct store *st = open_ok();
	store_close(st);
	exec_raw("INSERT INTO units (id, name, level, active, updated_at) "
		 "VALUES ('vp', 'Văn phòng', 'office', 1, 1)");
	st = open_ok();
	cr_assert_eq(store_schema_version(st), store_latest_version());
	store_close(st);
	cr_assert_eq(query_int("SELECT count(*) FROM units"), 1);
}

Test(store, newer_database_is_refused)
{
	char sql[64];
	enum store_status status;
	struct err err;
	struct store *st = open_ok();

	store_close(st);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", store_latest_version() + 1);
	exec_raw(sql);
	st = store_open(db, NULL, &status, &err);
	cr_assert_null(st);
	cr_assert_eq(status, STORE_TOO_NEW);
	cr_assert(strstr(err.msg, "written by a newer release"), "%s", err.msg);
	cr_assert_eq(query_int("PRAGMA user_version"), store_latest_version() + 1, "left untouched");
}

Test(store, failing_migration_leaves_previous_version)
{
	static const struct migration list[] = {
		{ "0001_a.sql", "CREATE TABLE a (x INTEGER);" },
		{ "0002_b.sql", "CREATE TABLE b (x INTEGER); INSERT INTO b VALUES (1);" },
		{ "0003_bad.sql", "CREATE TABLE c (x INTEGER); INSERT INTO no_such_table VALUES (1);" },
	};
	struct store_options opts = { .migrations = list, .nmigrations = 3 };
	enum store_status status;
	struct err err;
	struct store *st = store_open(db, &opts, &status, &err);

	cr_assert_null(st);
	cr_assert_eq(status, STORE_ERROR);
	cr_assert(strstr(err.msg, "migration 0003_bad.sql failed: no such table: no_such_table"),
		  "%s", err.msg);
	cr_assert_eq(query_int("PRAGMA user_version"), 2);
	cr_assert_eq(query_int("SELECT count(*) FROM b"), 1);
	cr_assert_eq(query_int("SELECT count(*) FROM sqlite_schema WHERE name = 'c'"), 0,
		     "the failed migration's first statement was rolled back");

	/* With the fault repaired, the next start picks up where it stopped. */
	static const struct migration fixed[] = {
		{ "0001_a.sql", "CREATE TABLE a (x INTEGER);" },
		{ "0002_b.sql", "CREATE TABLE b (x INTEGER); INSERT INTO b VALUES (1);" },
		{ "0003_c.sql", "CREATE TABLE c (x INTEGER);" },
	};
	opts.migrations = fixed;
	st = store_open(db, &opts, &status, &err);
	cr_assert_not_null(st, "%s", err.msg);
	cr_assert_eq(store_schema_version(st), 3);
	store_close(st);
	cr_assert_eq(query_int("SELECT count(*) FROM b"), 1, "0002 did not run twice");
}

Test(store, second_writer_is_refused)
{
	enum store_status status;
	struct err err;
	struct store *st = open_ok();
	struct store *second = store_open(db, NULL, &status, &err);

	cr_assert_null(second);
	cr_assert_eq(status, STORE_LOCKED);
	cr_assert(strstr(err.msg, "is in use by another dunghand"), "%s", err.msg);
	store_close(st);
	second = open_ok();
	store_close(second);
}

static struct config *load(const char *name, const char *text)
{
	char path[600];
	char *errors = NULL;
	struct config *cfg;

	cr_assert_eq(harness_write(&h, name, text), 0);
	cfg = config_load(harness_path(&h, name, path, sizeof(path)), NULL, NULL, &errors);
	cr_assert_not_null(cfg, "%s", errors ? errors : "");
	return cfg;
}

Test(store, sync_config_upserts_and_deactivates)
{
	struct config *one = load("one.conf",
		"units = ( { id = \"vp\"; name = \"Văn phòng\"; level = \"office\"; head = \"long\"; },\n"
		"  { id = \"hctc\"; name = \"Phòng HCTC\"; level = \"department\"; parent = \"vp\"; } );\n"
		"people = ( { id = \"long\"; name = \"Nguyễn Kim Long\"; unit = \"vp\"; },\n"
		"  { id = \"binh\"; name = \"Lê Thị Bình\"; title = \"Bà\"; unit = \"hctc\"; } );\n"
		"procedures = ( { code = \"1.004873\"; name = \"Xác nhận tình trạng hôn nhân\"; days = 3; } );\n");
	struct config *two = load("two.conf",
		"units = ( { id = \"vp\"; name = \"Văn phòng UBND tỉnh\"; level = \"office\"; } );\n"
		"people = ( { id = \"long\"; name = \"Nguyễn Kim Long\"; unit = \"vp\"; } );\n");
	int64_t units, people, procedures;
	struct err err;
	struct store *st = open_ok();

	cr_assert_eq(store_sync_config(st, one, 1000, &err), STORE_OK, "%s", err.msg);
	cr_assert_eq(store_count_active(st, &units, &people, &procedures, &err), STORE_OK);
	cr_assert_eq(units, 2);
	cr_assert_eq(people, 2);
	cr_assert_eq(procedures, 1);
	cr_assert_eq(store_sync_config(st, two, 2000, &err), STORE_OK, "%s", err.msg);
	cr_assert_eq(store_count_active(st, &units, &people, &procedures, &err), STORE_OK);
	cr_assert_eq(units, 1);
	cr_assert_eq(people, 1);
	cr_assert_eq(procedures, 0);
	store_close(st);
	cr_assert_eq(query_int("SELECT count(*) FROM units"), 2, "removed units are kept");
	cr_assert_eq(query_int("SELECT active FROM units WHERE id = 'hctc'"), 0);
	cr_assert_eq(query_int("SELECT count(*) FROM units WHERE id = 'vp' AND "
			       "name = 'Văn phòng UBND tỉnh' AND head_id IS NULL"), 1);
	cr_assert_eq(query_int("SELECT count(*) FROM procedures WHERE active = 0"), 1);
	config_free(one);
	config_free(two);
}

/* Size in bytes of the file at path, or -1. */
static long long file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

/* Commits `commits` transactions of five 3 000-byte events each through the store. */
static void commit_events(struct store *st, int commits)
{
	static char data[3100];
	struct err err;

	memset(data, 'x', sizeof(data) - 1);
	memcpy(data, "{\"t\":\"", 6);
	memcpy(data + 3000, "\"}", 3);
	for (int k = 0; k < commits; k++) {
		cr_assert_eq(store_begin(st, &err), STORE_OK, "%s", err.msg);
		for (int i = 0; i < 5; i++) {
			struct store_event ev = { .item_kind = "case", .item_id = k * 5 + i + 1,
						  .type = "note", .at = 1700000000, .actor = "test",
						  .data = data, .due_at = TIME_NONE,
						  .recorded_at = 1700000000 };
			cr_assert_eq(store_event_append(st, &ev, &err), STORE_OK, "%s", err.msg);
		}
		cr_assert_eq(store_commit(st, &err), STORE_OK, "%s", err.msg);
	}
}

/* The WAL's pages reach the database file by a checkpoint only: none while the WAL is short
 * of SQLite's own 10 000 frames, and one on the checkpointer's thread once a commit leaves
 * more than its threshold. */
Test(store, the_checkpointer_copies_the_wal_once_it_is_long)
{
	struct store *st = open_ok();
	long long before;
	struct err err;

	commit_events(st, 20); /* about 100 frames */
	before = file_size(db);
	commit_events(st, 20);
	cr_assert_eq(file_size(db), before, "a checkpoint ran inside a commit");
	cr_assert_eq(store_start_checkpointer(st, 150, &err), STORE_OK, "%s", err.msg);
	commit_events(st, 1);
	for (int waited = 0; file_size(db) == before && waited < 5000; waited += 5)
		nanosleep(&(struct timespec){ .tv_nsec = 5000000 }, NULL);
	cr_expect_gt(file_size(db), before, "no checkpoint after 5 s");
	store_close(st);
	cr_expect_eq(query_int("SELECT count(*) FROM events"), 205);
}

/* Under commits that never stop, a PASSIVE checkpoint never catches up with the last frames,
 * and SQLite starts the WAL again only once one has: the WAL grew as long as the writes went
 * on. The checkpointer's RESTART past four times its threshold keeps it short: after 2 000
 * commits of 15 kB of events each (30 MB written), the -wal file holds a small part of that. */
Test(store, the_wal_stays_short_under_steady_commits)
{
	struct store *st = open_ok();
	char wal[700];
	struct err err;
	int commits = 0;
	time_t start = time(NULL);

	snprintf(wal, sizeof(wal), "%s-wal", db);
	cr_assert_eq(store_start_checkpointer(st, 20, &err), STORE_OK, "%s", err.msg);
	/* 2 000 commits, or what 20 s allow on a slow disk (each commit is an fsync). */
	while (commits < 2000 && time(NULL) - start < 20) {
		commit_events(st, 1);
		commits++;
	}
	long long written = (long long)commits * 15000, size = file_size(wal);
	cr_expect_lt(size, written / 2, "the -wal file is %lld bytes after %d commits (%lld bytes "
		     "of events)", size, commits, written);
	store_close(st);
	cr_expect_eq(query_int("SELECT count(*) FROM events"), 5LL * commits);
}

/* --- commits that wait for a sync of their own (store_commit_unsynced) -------------------- */

/* Five events in a commit of store_commit_unsynced; *mark: where it ended. */
static bool commit_unsynced(struct store *st, int first_id, struct store_wal_mark *mark)
{
	struct err err;

	if (store_begin(st, &err) != STORE_OK)
		return false;
	for (int i = 0; i < 5; i++) {
		struct store_event ev = { .item_kind = "case", .item_id = first_id + i,
					  .type = "note", .at = 1700000000, .actor = "test",
					  .data = "{}", .due_at = TIME_NONE,
					  .recorded_at = 1700000000 };
		if (store_event_append(st, &ev, &err) != STORE_OK)
			return false;
	}
	return store_commit_unsynced(st, mark, &err) == STORE_OK;
}

/* What a daemon does when a sync fails, in a child process (after store_cut_wal the store's
 * connection must not be used, and the process ends): commit 10 events synced, then
 * unsynced commits of 5 events as `scenario` says, the cut; exits 0 when the marks kept are
 * the ones expected. The parent then counts what a restart finds. */
enum scenario { NONE_SYNCED, FIRST_SYNCED, FIRST_CHECKPOINTED, EMPTY_COMMIT_BETWEEN };

static void cut_in_child(enum scenario scenario)
{
	pid_t pid = fork();
	int status;

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		enum store_status s;
		struct err err;
		struct store *st = store_open(db, NULL, &s, &err);
		struct store_wal_mark first, second, durable, kept;
		sqlite3 *raw = NULL;
		int log = -1, copied = -1;
		bool ok;

		if (!st)
			_exit(10);
		commit_events(st, 2);
		if (!commit_unsynced(st, 100, &first))
			_exit(11);
		if (scenario == FIRST_SYNCED)
			store_wal_synced(st, &first);
		/* A synced commit that changed nothing syncs nothing (the scheduler's, delivery's
		 * idle turns). */
		if (scenario == EMPTY_COMMIT_BETWEEN &&
		    (store_begin(st, &err) != STORE_OK || store_commit(st, &err) != STORE_OK))
			_exit(16);
		if (scenario == FIRST_CHECKPOINTED &&
		    (sqlite3_open_v2(db, &raw, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
		     sqlite3_exec(raw, "SELECT count(*) FROM events", NULL, NULL, NULL) !=
			     SQLITE_OK ||
		     sqlite3_wal_checkpoint_v2(raw, "main", SQLITE_CHECKPOINT_PASSIVE, &log,
					       &copied) != SQLITE_OK || copied != log))
			_exit(12);
		sqlite3_close(raw);
		if (!commit_unsynced(st, 200, &second))
			_exit(13);
		if (store_cut_wal(st, &durable, &kept, &err) != STORE_OK)
			_exit(14);
		ok = store_wal_mark_kept(&first, &durable) ==
			     (scenario == FIRST_SYNCED || scenario == FIRST_CHECKPOINTED) &&
		     durable.generation == kept.generation && durable.frames == kept.frames &&
		     !store_wal_mark_kept(&second, &kept);
		_exit(ok ? 0 : 15);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child failed: status %d",
		  WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	cr_assert_eq(query_int("SELECT count(*) FROM pragma_integrity_check "
			       "WHERE integrity_check = 'ok'"), 1, "the database is damaged");
}

/* A sync that fails leaves the disk's content unknown: the unsynced commits are cut out of the
 * WAL, and a restart finds only the synced ones. */
Test(store, a_failed_sync_cuts_the_unsynced_commits_back)
{
	cut_in_child(NONE_SYNCED);
	cr_expect_eq(query_int("SELECT count(*) FROM events"), 10);
	cr_expect_eq(query_int("SELECT count(*) FROM events WHERE item_id >= 100"), 0);
}

/* A commit a sync covered may have been acknowledged: the cut keeps it. */
Test(store, the_cut_keeps_what_a_sync_covered)
{
	cut_in_child(FIRST_SYNCED);
	cr_expect_eq(query_int("SELECT count(*) FROM events"), 15);
	cr_expect_eq(query_int("SELECT count(*) FROM events WHERE item_id >= 200"), 0);
}

/* A checkpoint syncs the WAL before it copies it into the database, and the next commit then
 * starts the WAL again: what it copied is on the disk, and stays. */
Test(store, the_cut_keeps_what_a_checkpoint_copied)
{
	cut_in_child(FIRST_CHECKPOINTED);
	cr_expect_eq(query_int("SELECT count(*) FROM events"), 15);
	cr_expect_eq(query_int("SELECT count(*) FROM events WHERE item_id >= 200"), 0);
}

/* An empty commit in between, synced as the scheduler's are, wrote nothing and synced nothing:
 * the unsynced commit before it is still cut. */
Test(store, an_empty_synced_commit_vouches_for_nothing)
{
	cut_in_child(EMPTY_COMMIT_BETWEEN);
	cr_expect_eq(query_int("SELECT count(*) FROM events"), 10);
}

/* --- a transaction held open across loop turns (store_hold) -------------------------------- */

struct holder {
	struct store *st;
	int released;
	bool commit; /* the release commits; else it rolls back */
};

static void release_held(void *arg)
{
	struct holder *held = arg;
	struct err err;

	held->released++;
	if (held->commit)
		cr_assert_eq(store_commit(held->st, &err), STORE_OK, "%s", err.msg);
	else
		store_rollback(held->st);
}

static void append_note(struct store *st, int64_t item_id)
{
	struct store_event ev = { .item_kind = "case", .item_id = item_id, .type = "note",
				  .at = 1700000000, .actor = "test", .data = "{}",
				  .due_at = TIME_NONE, .recorded_at = 1700000000 };
	struct err err;

	cr_assert_eq(store_event_append(st, &ev, &err), STORE_OK, "%s", err.msg);
}

/* Another writer's store_begin has the holder end its transaction first, once; the writer's
 * own transaction then begins and commits; both writes are kept. */
Test(store, a_held_transaction_is_released_before_another_begins)
{
	struct store *st = open_ok();
	struct holder held = { .st = st, .commit = true };
	struct err err;

	cr_assert_eq(store_begin(st, &err), STORE_OK, "%s", err.msg);
	append_note(st, 1);
	store_hold(st, release_held, &held);
	cr_assert(store_in_transaction(st), "the held transaction must stay open");
	cr_assert_eq(query_int("SELECT count(*) FROM events"), 0, "nothing committed yet");

	cr_assert_eq(store_begin(st, &err), STORE_OK, "%s", err.msg);
	cr_assert_eq(held.released, 1);
	cr_assert_eq(query_int("SELECT count(*) FROM events"), 1, "the held write was committed");
	append_note(st, 2);
	cr_assert_eq(store_commit(st, &err), STORE_OK, "%s", err.msg);
	/* The hold ended with its transaction: a later begin releases nothing. */
	cr_assert_eq(store_begin(st, &err), STORE_OK, "%s", err.msg);
	store_rollback(st);
	cr_assert_eq(held.released, 1);
	store_close(st);
	cr_assert_eq(query_int("SELECT count(*) FROM events"), 2);
}

/* store_yield ends a held transaction (here by a rollback: its write is gone) and does nothing
 * without one; a hold ended by the owner's own commit or rollback is not released later. */
Test(store, yield_releases_only_a_transaction_still_held)
{
	struct store *st = open_ok();
	struct holder held = { .st = st, .commit = false };
	struct err err;

	store_yield(st);
	cr_assert_eq(held.released, 0);
	cr_assert_eq(store_begin(st, &err), STORE_OK, "%s", err.msg);
	append_note(st, 1);
	store_hold(st, release_held, &held);
	store_yield(st);
	cr_assert_eq(held.released, 1);
	cr_assert_not(store_in_transaction(st));
	store_yield(st);
	cr_assert_eq(held.released, 1);

	cr_assert_eq(store_begin(st, &err), STORE_OK, "%s", err.msg);
	append_note(st, 2);
	store_hold(st, release_held, &held);
	cr_assert_eq(store_commit(st, &err), STORE_OK, "%s", err.msg);
	store_yield(st);
	cr_assert_eq(store_begin(st, &err), STORE_OK, "%s", err.msg);
	store_rollback(st);
	cr_assert_eq(held.released, 1, "a hold outlived its transaction");
	store_close(st);
	cr_assert_eq(query_int("SELECT count(*) FROM events"), 1);
}
