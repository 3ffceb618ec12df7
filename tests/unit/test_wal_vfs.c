/* wal_vfs: a commit's WAL frames reach the file in one write, and what a commit returned is in
 * the file for any later reader (a crash right after it included); what was not committed is
 * not. Real SQLite files; write(2) calls counted from /proc/self/io. */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdbool.h>
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

/* --- a failing write ------------------------------------------------------------------------ */

/* The system's VFS with writes to -wal files failing (SQLITE_FULL, as ENOSPC gives) once
 * wal_writes_left more have gone through (-1: none fails); registered as the default before
 * wal_vfs, which then wraps it. */
static int wal_writes_left = -1;

struct faulty_file {
	sqlite3_file base;
	sqlite3_file *real;
	bool wal;
};

static sqlite3_vfs *system_vfs;
static sqlite3_io_methods faulty_methods;

#define REAL(f) (((struct faulty_file *)(f))->real)

static int faulty_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 off)
{
	if (((struct faulty_file *)f)->wal && wal_writes_left >= 0) {
		if (wal_writes_left == 0)
			return SQLITE_FULL;
		wal_writes_left--;
	}
	return REAL(f)->pMethods->xWrite(REAL(f), b, n, off);
}

/* Every other method passes straight on. */
static int faulty_close(sqlite3_file *f) { return REAL(f)->pMethods->xClose(REAL(f)); }
static int faulty_read(sqlite3_file *f, void *b, int n, sqlite3_int64 off)
{
	return REAL(f)->pMethods->xRead(REAL(f), b, n, off);
}
static int faulty_truncate(sqlite3_file *f, sqlite3_int64 n)
{
	return REAL(f)->pMethods->xTruncate(REAL(f), n);
}
static int wal_syncs; /* syncs of -wal files that reached the system's VFS */
static int faulty_sync(sqlite3_file *f, int fl)
{
	if (((struct faulty_file *)f)->wal)
		wal_syncs++;
	return REAL(f)->pMethods->xSync(REAL(f), fl);
}
static int faulty_size(sqlite3_file *f, sqlite3_int64 *n)
{
	return REAL(f)->pMethods->xFileSize(REAL(f), n);
}
static int faulty_lock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xLock(REAL(f), l); }
static int faulty_unlock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xUnlock(REAL(f), l); }
static int faulty_reserved(sqlite3_file *f, int *o)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), o);
}
static int faulty_control(sqlite3_file *f, int op, void *a)
{
	return REAL(f)->pMethods->xFileControl(REAL(f), op, a);
}
static int faulty_sector(sqlite3_file *f) { return REAL(f)->pMethods->xSectorSize(REAL(f)); }
static int faulty_device(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int faulty_shm_map(sqlite3_file *f, int p, int s, int e, void volatile **o)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), p, s, e, o);
}
static int faulty_shm_lock(sqlite3_file *f, int o, int n, int fl)
{
	return REAL(f)->pMethods->xShmLock(REAL(f), o, n, fl);
}
static void faulty_shm_barrier(sqlite3_file *f) { REAL(f)->pMethods->xShmBarrier(REAL(f)); }
static int faulty_shm_unmap(sqlite3_file *f, int d)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), d);
}
static int faulty_fetch(sqlite3_file *f, sqlite3_int64 o, int n, void **p)
{
	return REAL(f)->pMethods->xFetch(REAL(f), o, n, p);
}
static int faulty_unfetch(sqlite3_file *f, sqlite3_int64 o, void *p)
{
	return REAL(f)->pMethods->xUnfetch(REAL(f), o, p);
}

static int faulty_open(sqlite3_vfs *v, const char *name, sqlite3_file *f, int flags, int *out)
{
	struct faulty_file *p = (struct faulty_file *)f;
	int rc;

	(void)v;
	memset(p, 0, sizeof(*p));
	p->real = (sqlite3_file *)(p + 1);
	p->wal = (flags & SQLITE_OPEN_WAL) != 0;
	rc = system_vfs->xOpen(system_vfs, name, p->real, flags, out);
	if (rc != SQLITE_OK) {
		if (p->real->pMethods)
			p->real->pMethods->xClose(p->real);
		return rc;
	}
	p->base.pMethods = &faulty_methods;
	return SQLITE_OK;
}

static void faulty_setup(void)
{
	static sqlite3_vfs faulty;
	struct err e;

	cr_assert_eq(harness_init(&h), 0);
	harness_path(&h, "wal.db", db, sizeof(db));
	system_vfs = sqlite3_vfs_find("unix");
	cr_assert_not_null(system_vfs);
	faulty_methods = (sqlite3_io_methods){
		3, faulty_close, faulty_read, faulty_write, faulty_truncate, faulty_sync,
		faulty_size, faulty_lock, faulty_unlock, faulty_reserved, faulty_control,
		faulty_sector, faulty_device, faulty_shm_map, faulty_shm_lock, faulty_shm_barrier,
		faulty_shm_unmap, faulty_fetch, faulty_unfetch
	};
	faulty = *system_vfs;
	faulty.zName = "faulty";
	faulty.szOsFile = (int)sizeof(struct faulty_file) + system_vfs->szOsFile;
	faulty.xOpen = faulty_open;
	faulty.pNext = NULL;
	cr_assert_eq(sqlite3_vfs_register(&faulty, 1), SQLITE_OK);
	cr_assert_eq(wal_vfs_register(&e), 0, "%s", e.msg);
}

TestSuite(wal_vfs_faults, .init = faulty_setup, .fini = teardown);

/* The one integer a query returns, or -1: for a forked child, which must not assert. */
static long long child_int(sqlite3 *d, const char *sql)
{
	sqlite3_stmt *s = NULL;
	long long v = -1;

	if (sqlite3_prepare_v2(d, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* A transaction spills pages to the WAL; while the disk refuses writes its statements still
 * read them back and its COMMIT fails (SQLite rolls it back). The next commit gets just the
 * writes it needs: it is kept, and the refused one never comes back, after a crash too (held,
 * the refused frames would take one of those writes, the next commit's would fail, and a
 * crash would replay them). */
Test(wal_vfs_faults, a_refused_write_fails_the_commit_and_reads_go_on)
{
	pid_t pid = fork();
	int status;

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		sqlite3 *d = NULL;
		const long long updated = 2000LL * 2001 / 2 + 7 * 2000;

		if (sqlite3_open_v2(db, &d, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
				    WAL_VFS_NAME) != SQLITE_OK ||
		    sqlite3_exec(d, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
				 "PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = 20; "
				 "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); "
				 "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k "
				 "WHERE i < 2000) INSERT INTO t SELECT i, printf('%0300d', i) FROM k; "
				 "PRAGMA wal_checkpoint(TRUNCATE); "
				 "BEGIN; UPDATE t SET v = printf('%0300d', id + 7);",
				 NULL, NULL, NULL) != SQLITE_OK)
			_exit(3);
		wal_writes_left = 0;
		if (child_int(d, "SELECT sum(CAST(v AS INTEGER)) FROM t") != updated)
			_exit(4);
		if (sqlite3_exec(d, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
			_exit(5);
		/* Two writes: the WAL starts again (its header, synced on its own), then the next
		 * commit's frames. */
		wal_writes_left = 2;
		if (!sqlite3_get_autocommit(d)) /* SQLite rolls a commit that failed back */
			_exit(6);
		if (sqlite3_exec(d, "INSERT INTO t (id, v) VALUES (5000, '1')", NULL, NULL, NULL) !=
		    SQLITE_OK)
			_exit(7);
		_exit(0); /* as kill -9 would: nothing closed */
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "the child died: %d", status);
	cr_assert_eq(WEXITSTATUS(status), 0, "the child stopped at step %d", WEXITSTATUS(status));
	sqlite3 *d = NULL;
	cr_assert_eq(sqlite3_open_v2(db, &d, SQLITE_OPEN_READONLY, "unix"), SQLITE_OK);
	cr_expect_eq(one_int(d, "SELECT count(*) FROM t"), 2001);
	cr_expect_eq(one_int(d, "SELECT sum(CAST(v AS INTEGER)) FROM t"), 2000 * 2001 / 2 + 1);
	cr_expect_eq(one_int(d, "SELECT count(*) FROM pragma_integrity_check "
				"WHERE integrity_check <> 'ok'"), 0);
	sqlite3_close(d);
}

/* With syncs deferred (store_commit_unsynced), a commit's frames reach the file, where another
 * connection reads them, and no sync reaches the disk; but the header of a WAL started again
 * is synced before the frames that follow it, as SQLite requires ("syncHeader"), and counts
 * a new generation. */
Test(wal_vfs_faults, deferred_syncs_skip_commits_but_not_a_new_header)
{
	sqlite3 *d = NULL, *other = NULL;
	uint64_t generation;
	int before;

	cr_assert_eq(sqlite3_open_v2(db, &d, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
				     WAL_VFS_NAME), SQLITE_OK);
	exec_ok(d, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
		   "PRAGMA wal_autocheckpoint = 0; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
	before = wal_syncs;
	exec_ok(d, "INSERT INTO t (v) VALUES ('synced')");
	cr_assert_eq(wal_syncs, before + 1, "a commit is synced when nothing defers it");

	cr_assert_eq(wal_vfs_defer_syncs(d, true), 0);
	generation = wal_vfs_generation(d);
	before = wal_syncs;
	exec_ok(d, "INSERT INTO t (v) VALUES ('deferred')");
	cr_assert_eq(wal_syncs, before, "a deferred commit was synced");
	cr_assert_eq(sqlite3_open_v2(db, &other, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	cr_assert_eq(one_int(other, "SELECT count(*) FROM t"), 2, "the frames are not in the file");

	exec_ok(other, "PRAGMA wal_checkpoint(TRUNCATE)");
	before = wal_syncs;
	exec_ok(d, "INSERT INTO t (v) VALUES ('after a restart')");
	cr_assert_eq(wal_vfs_generation(d), generation + 1);
	cr_assert_eq(wal_syncs, before + 1, "the new header was not synced before its frames");
	before = wal_syncs;
	exec_ok(d, "INSERT INTO t (v) VALUES ('deferred again')");
	cr_assert_eq(wal_syncs, before);
	cr_assert_eq(one_int(other, "SELECT count(*) FROM t"), 4);
	sqlite3_close(other);
	cr_assert_eq(wal_vfs_defer_syncs(d, false), 0);
	sqlite3_close(d);
}
