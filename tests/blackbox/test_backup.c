/* POST /api/v1/backup of the real dunghand: a copy made with SQLite's online backup API while a
 * thread keeps creating cases opens read-only, passes PRAGMA integrity_check, is one file of mode
 * 0600 under <database dir>/backups/, and holds every case acknowledged before the backup was
 * asked for; one backup at a time (409); admin only; bad input changes nothing. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <pthread.h>
#include <regex.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api_fixture.h"
#include "store.h"

static struct api_t t;

static void teardown(void)
{
	api_t_teardown(&t);
}

TestSuite(backup, .fini = teardown, .timeout = 180);

#define ADMIN_HEADER "Authorization: Bearer " API_ADMIN
#define PRELOAD 10000 /* cases, so that a copy takes long enough to overlap other requests */

/* The directory backups go to: beside the database. */
static void backups_dir(char *buf, size_t n)
{
	const char *slash = strrchr(t.f.db, '/');

	snprintf(buf, n, "%.*s/backups", (int)(slash - t.f.db), t.f.db);
}

/* Files in the backups directory (-1 when it does not exist). */
static int count_backups(void)
{
	char dir[700];
	struct dirent *d;
	DIR *dp;
	int n = 0;

	backups_dir(dir, sizeof(dir));
	if (!(dp = opendir(dir)))
		return -1;
	while ((d = readdir(dp)))
		n += d->d_name[0] != '.';
	closedir(dp);
	return n;
}

/* Cases P-000000 ... one NDJSON batch. */
static void preload(int n)
{
	size_t cap = (size_t)n * 160 + 1, len = 0;
	char *body = malloc(cap);

	cr_assert(body);
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(body + len, cap - len,
					"{\"code\":\"P-%06d\",\"procedure\":\"1.004873\","
					"\"unit\":\"kstt\","
					"\"applicant\":\"Nguyễn Văn An %d\"}\n", i, i);
	json_t *j = api_t_call(&t, "POST", "/api/v1/cases:batch", API_MOTCUA,
			       "application/x-ndjson", body, len, 200);
	api_t_expect_int(j, "created", n);
	free(body);
}

/* The single integer answer of sql on db. */
static int64_t db_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int64_t v = -1;

	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK, "%s: %s", sql,
		     sqlite3_errmsg(db));
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static const char *db_text(sqlite3 *db, const char *sql, char *buf, size_t n)
{
	sqlite3_stmt *s = NULL;

	buf[0] = '\0';
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK, "%s: %s", sql,
		     sqlite3_errmsg(db));
	if (sqlite3_step(s) == SQLITE_ROW)
		snprintf(buf, n, "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return buf;
}

/* Checks the answer of a backup and the file it names; returns the file's path in path. */
static void expect_backup_file(json_t *j, char *path, size_t n)
{
	const char *file = api_str(j, "file");
	char dir[700], side[800];
	regex_t re;
	struct stat sb;

	backups_dir(dir, sizeof(dir));
	cr_assert(file && !strncmp(file, dir, strlen(dir)) && file[strlen(dir)] == '/',
		  "the copy %s is not under %s", file ? file : "(none)", dir);
	cr_assert_eq(regcomp(&re, "^dunghan-[0-9]{8}-[0-9]{6}(-[0-9]+)?\\.db$", REG_EXTENDED), 0);
	cr_assert_eq(regexec(&re, file + strlen(dir) + 1, 0, NULL, 0), 0, "a bad name: %s", file);
	regfree(&re);
	cr_assert_eq(stat(file, &sb), 0, "%s: no such file", file);
	cr_assert_eq(sb.st_mode & 0777, 0600, "%s has mode %o", file, sb.st_mode & 0777);
	cr_assert_eq((int64_t)sb.st_size, api_int(j, "bytes"), "bytes");
	cr_assert_gt(api_int(j, "pages"), 0);
	/* One self-contained file: nothing beside it. */
	static const char *const sides[] = { "-wal", "-shm", "-journal", ".partial" };
	for (size_t i = 0; i < 4; i++) {
		snprintf(side, sizeof(side), "%s%s", file, sides[i]);
		cr_assert_neq(stat(side, &sb), 0, "%s is left behind", side);
	}
	snprintf(path, n, "%s", file);
}

/* Opens the copy read-only and checks it as a restore would. */
static sqlite3 *open_copy(const char *path)
{
	sqlite3 *db = NULL;
	char buf[64];

	cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	cr_assert_str_eq(db_text(db, "PRAGMA integrity_check", buf, sizeof(buf)), "ok");
	cr_assert_str_eq(db_text(db, "PRAGMA journal_mode", buf, sizeof(buf)), "delete");
	cr_assert_eq(db_int(db, "PRAGMA user_version"), store_latest_version());
	return db;
}

/* --- a writer creating cases W-000000, W-000001, ... on its own connection ------------------- */

struct writer {
	struct api_fixture *f;
	pthread_t thread;
	atomic_int acked;   /* cases W-0 .. W-(acked-1) were answered 201 */
	atomic_bool stop;
	char error[800];
};

static void *write_cases(void *arg)
{
	struct writer *w = arg;
	static const char *const headers[] = { "Authorization: Bearer " API_MOTCUA,
					       "Content-Type: application/json", NULL };
	struct http_client_response resp = { 0 };
	struct err e = { 0 };
	struct http_client *c = api_connect(w->f, 0, &e);
	char body[300];

	if (!c) {
		snprintf(w->error, sizeof(w->error), "connect: %s", e.msg);
		return NULL;
	}
	for (int i = 0; !atomic_load(&w->stop); i++) {
		int n = snprintf(body, sizeof(body),
				 "{\"code\":\"W-%06d\",\"procedure\":\"1.004873\","
				 "\"unit\":\"hctc\"}", i);
		if (http_client_request(c, "POST", "/api/v1/cases", headers, body, (size_t)n, &resp,
					&e) != 0 || resp.status != 201) {
			snprintf(w->error, sizeof(w->error), "W-%06d: %s %d %.200s", i, e.msg,
				 resp.status, resp.body ? resp.body : "");
			break;
		}
		atomic_store(&w->acked, i + 1);
	}
	http_client_response_free(&resp);
	http_client_free(c);
	return NULL;
}

/* --- tests --------------------------------------------------------------------------------- */

Test(backup, a_copy_under_write_load_holds_every_acknowledged_case)
{
	struct writer w = { .f = &t.f };
	char path[800], sql[200];
	int before, after;

	api_t_start(&t, NULL);
	preload(PRELOAD);
	cr_assert_eq(pthread_create(&w.thread, NULL, write_cases, &w), 0);
	/* The load is on once the writer has been answered a few times. */
	for (int waited = 0; atomic_load(&w.acked) < 20 && !w.error[0]; waited += 10) {
		cr_assert_lt(waited, API_BOUND_MS, "the writer made no progress");
		api_sleep_ms(10);
	}
	before = atomic_load(&w.acked);
	json_t *j = api_t_req(&t, "POST", "/api/v1/backup", API_ADMIN, NULL, 200);
	after = atomic_load(&w.acked);
	/* And it goes on after the copy: the daemon never stopped writing. */
	for (int waited = 0; atomic_load(&w.acked) < after + 5 && !w.error[0]; waited += 10) {
		cr_assert_lt(waited, API_BOUND_MS, "the writer stalled after the backup");
		api_sleep_ms(10);
	}
	atomic_store(&w.stop, true);
	pthread_join(w.thread, NULL);
	cr_assert_str_empty(w.error, "the writer failed: %s", w.error);

	expect_backup_file(j, path, sizeof(path));
	sqlite3 *db = open_copy(path);
	cr_assert_eq(db_int(db, "SELECT count(*) FROM cases WHERE code LIKE 'P-%'"), PRELOAD);
	/* Every case acknowledged before the backup was asked for, in order, and nothing that
	 * was not yet written when it finished (at most the one request in flight). */
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM cases WHERE code >= 'W-000000' AND code < 'W-%06d'", before);
	cr_assert_eq(db_int(db, sql), before);
	int64_t copied = db_int(db, "SELECT count(*) FROM cases WHERE code LIKE 'W-%'");
	cr_assert(copied >= before && copied <= after + 1,
		  "the copy holds %lld W cases; %d were acknowledged before, %d after",
		  (long long)copied, before, after);
	/* Each case came with its event and its watch row: the copy is one snapshot. */
	cr_assert_eq(db_int(db, "SELECT count(*) FROM events WHERE item_kind = 'case'"),
		     PRELOAD + copied);
	sqlite3_close(db);
	api_t_stop(&t);
}

Test(backup, one_backup_at_a_time)
{
	static const char *const headers[] = { ADMIN_HEADER, NULL };
	const char *bodies[2] = { NULL, NULL };
	struct api_reply r[2] = { 0 };
	struct err e = { 0 };
	char path[800];

	api_t_start(&t, NULL);
	preload(PRELOAD);
	/* Both requests reach the daemon before either is answered: the second finds the first
	 * copying (which takes far longer than the two requests' distance). */
	cr_assert_eq(api_fan_out(&t.f, 2, "POST", "/api/v1/backup", headers, bodies, r, &e), 0,
		     "%s", e.msg);
	int ok = r[0].status == 200 ? 0 : 1, busy = 1 - ok;
	cr_assert(r[ok].status == 200 && r[busy].status == 409, "statuses %d and %d: %s / %s",
		  r[0].status, r[1].status, r[0].resp.body, r[1].resp.body);
	cr_assert_str_eq(api_str(r[busy].json, "error.code"), "conflict");
	expect_backup_file(r[ok].json, path, sizeof(path));
	cr_assert_eq(count_backups(), 1);
	/* Once answered, the next one runs, into a file of its own even within the same second. */
	json_t *j = api_t_req(&t, "POST", "/api/v1/backup", API_ADMIN, "{}", 200);
	cr_assert_str_neq(api_str(j, "file"), path);
	expect_backup_file(j, path, sizeof(path));
	cr_assert_eq(count_backups(), 2);
	sqlite3_close(open_copy(path));
	api_reply_free(&r[0]);
	api_reply_free(&r[1]);
	api_t_stop(&t);
}

Test(backup, operators_only_and_bad_input_is_refused)
{
	api_t_start(&t, NULL);
	api_t_req(&t, "POST", "/api/v1/backup", NULL, NULL, 401);
	api_t_expect_error(&t, 401, "unauthorized", NULL);
	api_t_req(&t, "POST", "/api/v1/backup", API_MOTCUA, NULL, 403);
	api_t_expect_error(&t, 403, "forbidden", NULL);
	api_t_req(&t, "POST", "/api/v1/backup", API_BAOCAO, NULL, 403);
	api_t_req(&t, "GET", "/api/v1/backup", API_ADMIN, NULL, 405);
	api_t_expect_error(&t, 405, "method_not_allowed", NULL);
	api_t_req(&t, "POST", "/api/v1/backup", API_ADMIN, "{\"file\": \"/etc/passwd\"}", 400);
	api_t_expect_error(&t, 400, "unknown_field", "file");
	api_t_req(&t, "POST", "/api/v1/backup", API_ADMIN, "[1]", 400);
	api_t_expect_error(&t, 400, "bad_json", NULL);
	api_t_call(&t, "POST", "/api/v1/backup", API_ADMIN, "text/plain", "now", 3, 415);
	api_t_req(&t, "POST", "/api/v1/backup?to=x", API_ADMIN, NULL, 400);
	api_t_expect_error(&t, 400, "invalid_query", "to");
	cr_assert_eq(count_backups(), -1, "a refused request made the backups directory");
	api_t_stop(&t);
}

Test(backup, the_offline_function_copies_a_database_and_never_overwrites)
{
	char copy[800], path[900];
	struct store_backup_info info;
	struct err e = { 0 };
	struct stat sb;

	api_t_start(&t, NULL);
	preload(100);
	api_t_stop(&t);
	/* What `dunghanctl backup FILE --db PATH` calls, with the daemon stopped. */
	harness_path(&t.f.h, "offline.db", copy, sizeof(copy));
	cr_assert_eq(store_backup(t.f.db, copy, &info, &e), STORE_OK, "%s", e.msg);
	cr_assert_eq(stat(copy, &sb), 0);
	cr_assert_eq(info.bytes, (int64_t)sb.st_size);
	cr_assert_eq(sb.st_mode & 0777, 0600);
	sqlite3 *db = open_copy(copy);
	cr_assert_eq(db_int(db, "SELECT count(*) FROM cases"), 100);
	sqlite3_close(db);
	cr_assert_eq(store_backup(t.f.db, copy, &info, &e), STORE_CONFLICT);
	cr_assert(strstr(e.msg, "exists already"), "%s", e.msg);
	harness_path(&t.f.h, "no-such.db", path, sizeof(path));
	harness_path(&t.f.h, "copy-of-nothing.db", copy, sizeof(copy));
	cr_assert_neq(store_backup(path, copy, &info, &e), STORE_OK);
	cr_assert(strstr(e.msg, path), "the error names the database: %s", e.msg);
	cr_assert_neq(stat(copy, &sb), 0, "a failed backup leaves nothing");
	snprintf(path, sizeof(path), "%s.partial", copy);
	cr_assert_neq(stat(path, &sb), 0, "a failed backup leaves nothing");
}
