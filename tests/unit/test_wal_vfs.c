/* wal_vfs: a commit's WAL frames reach the file in one write, and what a commit returned is in
 * the file for any later reader (a crash right after it included); what was not committed is
 * not. Real SQLite files; write(2) calls counted from /proc/self/io. */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "wal_vfs.h"

static struct harness h;
static char db[600];

static void setup(void)
{
	struct err e;

	cr_assert_eq(harness_init(&h), 0);
	harness_path(&h, "wal.db", db, sizeof(db));
	cr_assert_eq(wal_vfs_register(&e), 0, "%s", e.msg);
}

static void teardown(void)
{
	harness_close(&h);
}

TestSuite(wal_vfs, .init = setup, .fini = teardown);

static sqlite3 *open_db(const char *vfs)
{
	sqlite3 *d = NULL;

	cr_assert_eq(sqlite3_open_v2(db, &d, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs),
		     SQLITE_OK);
	cr_assert_eq(sqlite3_exec(d, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
				  "PRAGMA wal_autocheckpoint = 0; "
				  "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)",
				  NULL, NULL, NULL),
		     SQLITE_OK, "%s", sqlite3_errmsg(d));
	return d;
}

static void exec_ok(sqlite3 *d, const char *sql)
{
	cr_assert_eq(sqlite3_exec(d, sql, NULL, NULL, NULL), SQLITE_OK, "%s: %s", sql,
		     sqlite3_errmsg(d));
}

static long long one_int(sqlite3 *d, const char *sql)
{
	sqlite3_stmt *s = NULL;
	long long v;

	cr_assert_eq(sqlite3_prepare_v2(d, sql, -1, &s, NULL), SQLITE_OK, "%s", sqlite3_errmsg(d));
	cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* write(2)-family calls of this process so far. */
static long long write_calls(void)
{
	FILE *f = fopen("/proc/self/io", "r");
	char key[64];
	long long v, calls = -1;

	cr_assert_not_null(f);
	while (fscanf(f, "%63s %lld", key, &v) == 2)
		if (strcmp(key, "syscw:") == 0)
			calls = v;
	fclose(f);
	cr_assert_geq(calls, 0);
	return calls;
}

/* Inserts n rows of `bytes` characters each in one transaction. */
static void insert_rows(sqlite3 *d, int n, int bytes)
{
	char sql[200];

	snprintf(sql, sizeof(sql),
		 "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < %d) "
		 "INSERT INTO t (v) SELECT printf('%%0%dd', i) FROM k",
		 n, bytes);
	exec_ok(d, "BEGIN");
	exec_ok(d, sql);
	exec_ok(d, "COMMIT");
}

Test(wal_vfs, a_commit_is_one_write)
{
	sqlite3 *d = open_db(WAL_VFS_NAME);
	sqlite3 *plain;
	long long before, ours, theirs;

	insert_rows(d, 1, 10); /* the WAL's header is written by the first commit */
	before = write_calls();
	insert_rows(d, 40, 400); /* 16 000 bytes: five pages, five frames */
	ours = write_calls() - before;
	sqlite3_close(d);

	/* The same commit through the system's VFS: a header and a page per frame. */
	plain = open_db(NULL);
	before = write_calls();
	insert_rows(plain, 40, 400);
	theirs = write_calls() - before;
	sqlite3_close(plain);

	cr_expect_eq(ours, 1, "%lld writes for one commit through wal_vfs", ours);
	cr_expect_geq(theirs, 10, "%lld writes through the system's VFS", theirs);
}

Test(wal_vfs, a_commit_larger_than_the_buffer_comes_back_whole)
{
	sqlite3 *d = open_db(WAL_VFS_NAME);

	insert_rows(d, 2000, 300); /* ≈ 600 kB: several buffers' worth */
	sqlite3_close(d);
	d = open_db(NULL);
	cr_expect_eq(one_int(d, "SELECT count(*) FROM t"), 2000);
	cr_expect_eq(one_int(d, "SELECT sum(CAST(v AS INTEGER)) FROM t"), 2000 * 2001 / 2);
	cr_expect_eq(one_int(d, "SELECT count(*) FROM pragma_integrity_check "
				"WHERE integrity_check <> 'ok'"), 0);
	sqlite3_close(d);
}

/* A child commits, then a second transaction that it never commits, and dies without closing
 * anything (as kill -9 would leave it): a reader finds the first, none of the second. */
Test(wal_vfs, what_was_committed_survives_a_crash_and_nothing_else)
{
	pid_t pid = fork();
	int status;

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		sqlite3 *d = NULL;

		if (sqlite3_open_v2(db, &d, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
				    WAL_VFS_NAME) != SQLITE_OK ||
		    sqlite3_exec(d, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
				 "PRAGMA cache_size = 10; "
				 "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); "
				 "BEGIN; INSERT INTO t (v) VALUES ('kept'); COMMIT; "
				 "BEGIN; WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
				 "FROM k WHERE i < 3000) INSERT INTO t (v) "
				 "SELECT printf('%0300d', i) FROM k;",
				 NULL, NULL, NULL) != SQLITE_OK)
			_exit(3);
		_exit(0); /* the second transaction spilled pages, unsynced: never committed */
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child failed: %d", status);
	sqlite3 *d = open_db(NULL);
	cr_expect_eq(one_int(d, "SELECT count(*) FROM t"), 1);
	cr_expect_eq(one_int(d, "SELECT count(*) FROM t WHERE v = 'kept'"), 1);
	cr_expect_eq(one_int(d, "SELECT count(*) FROM pragma_integrity_check "
				"WHERE integrity_check <> 'ok'"), 0);
	sqlite3_close(d);
}
