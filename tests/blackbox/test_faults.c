/* Faults the real dunghand must survive without acknowledging what it did not keep: the database
 * reaching its size limit (database.max_size_mb, set by a reload, as a full disk would) — writes
 * answer 503 with a clear error, reads go on, nothing partial is kept, and writes work again
 * once there is room — and the database held by another process past busy_timeout. */
#include <criterion/criterion.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_fixture.h"

static struct api_t t;

static void teardown(void)
{
	api_t_teardown(&t);
}

TestSuite(faults, .fini = teardown);

/* Replaces the database line of the fixture's config and reloads, waiting for READY=1. */
static void reload_database(const char *settings)
{
	char *text = harness_read(t.f.conf), *at, *end, *next;
	size_t from = strlen(t.f.h.received);
	FILE *f;

	cr_assert_not_null(text);
	at = strstr(text, "database: {");
	cr_assert_not_null(at);
	end = strstr(at, "};");
	cr_assert(asprintf(&next, "%.*sdatabase: { path = \"%s\"; %s %s", (int)(at - text), text,
			   t.f.db, settings, end) > 0);
	cr_assert_not_null(f = fopen(t.f.conf, "w"));
	fputs(next, f);
	cr_assert_eq(fclose(f), 0);
	free(next);
	free(text);
	harness_signal(&t.f.proc, SIGHUP);
	cr_assert(harness_notify_wait(&t.f.h, "READY=1", &from, API_BOUND_MS), "no READY after the "
		  "reload:\n%s", t.f.h.received);
}

static int create(int i, struct api_reply *r)
{
	struct err e = { 0 };
	int rc = api_jsonf(&t.f, "POST", "/api/v1/cases", API_MOTCUA, r, &e,
			   "{\"code\": \"FULL-%05d\", \"procedure\": \"1.004873\", \"unit\": "
			   "\"xa-tu-phap-tan-phu\", \"applicant\": \"%0200d\", "
			   "\"received_at\": \"2024-02-07T10:00:00+07:00\"}", i, i);
	cr_assert_eq(rc, 0, "no answer: %s", e.msg);
	return r->status;
}

static int64_t db_int(const char *sql)
{
	struct err e = { 0 };
	int64_t v = api_db_int(&t.f, sql, &e);

	cr_assert_geq(v, 0, "%s: %s", sql, e.msg);
	return v;
}

Test(faults, full_database_refuses_writes_keeps_reads_and_recovers)
{
	struct api_reply r = { 0 };
	int acked = 0, i;

	api_t_start(&t, NULL);
	for (i = 0; i < 20; i++)
		cr_assert_eq(create(i, &r), 201);
	acked = 20;
	/* A cap at the current size: the next pages cannot be added, as on a full disk. */
	reload_database("max_size_mb = 1;");
	for (; i < 20000; i++) {
		int status = create(i, &r);
		if (status == 201) {
			acked++;
			continue;
		}
		cr_assert_eq(status, 503, "%d: %s", status, r.resp.body);
		cr_assert_str_eq(api_str(r.json, "error.code"), "unavailable");
		cr_assert(strstr(api_str(r.json, "error.message"), "the database is full"), "%s",
			  r.resp.body);
		break;
	}
	cr_assert_lt(i, 20000, "the database never filled up");
	/* Nothing of the refused request, every acknowledged one. */
	cr_assert_eq(db_int("SELECT count(*) FROM cases"), acked);
	cr_assert_eq(db_int("SELECT count(*) FROM events WHERE type = 'create'"), acked);
	/* Still full: the next writes are refused the same way; reads answer. */
	cr_assert_eq(create(i, &r), 503, "%s", r.resp.body);
	api_t_req(&t, "GET", "/api/v1/cases/FULL-00000", API_BAOCAO, NULL, 200);
	json_t *page = api_t_req(&t, "GET", "/api/v1/cases?limit=5", API_BAOCAO, NULL, 200);
	cr_assert_eq(json_array_size(json_object_get(page, "cases")), 5);
	api_t_req(&t, "GET", "/healthz", NULL, NULL, 200);
	/* Room again (the limit lifted): the same request now succeeds, nothing was lost. */
	reload_database("");
	cr_assert_eq(create(i, &r), 201, "%s", r.resp.body);
	cr_assert_eq(db_int("SELECT count(*) FROM cases"), acked + 1);
	cr_assert_eq(db_int("SELECT count(*) FROM cases WHERE code = 'FULL-00000'"), 1);
	api_reply_free(&r);
	api_t_stop(&t);
}

Test(faults, database_held_by_another_process)
{
	struct api_reply r = { 0 };
	sqlite3 *other = NULL;

	api_t_start(&t, NULL);
	reload_database("busy_timeout = 0.3;");
	cr_assert_eq(create(1, &r), 201);
	/* Another process takes the write lock and keeps it past busy_timeout. */
	cr_assert_eq(sqlite3_open(t.f.db, &other), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	cr_assert_eq(create(2, &r), 503, "%s", r.resp.body);
	cr_assert_str_eq(api_str(r.json, "error.code"), "unavailable");
	api_t_req(&t, "GET", "/api/v1/cases/FULL-00001", API_BAOCAO, NULL, 200);
	cr_assert_eq(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(other);
	/* The lock gone, the refused request was not kept and may be sent again. */
	cr_assert_eq(db_int("SELECT count(*) FROM cases WHERE code = 'FULL-00002'"), 0);
	cr_assert_eq(create(2, &r), 201, "%s", r.resp.body);
	api_reply_free(&r);
	api_t_stop(&t);
}

/* Puts settings first in the server section of the fixture's config as the test began (orig,
 * read by the first call) and reloads, waiting for READY=1 and the reload's log line. */
static void reload_server(char **orig, const char *settings)
{
	char *text, *at, *next;
	size_t from = strlen(t.f.h.received), skip = strlen("server: {");
	FILE *f;

	if (!*orig)
		cr_assert_not_null(*orig = harness_read(t.f.conf));
	text = *orig;
	cr_assert_not_null(at = strstr(text, "server: {"));
	cr_assert(asprintf(&next, "%.*sserver: { %s%s", (int)(at - text), text, settings,
			   at + skip) > 0);
	cr_assert_not_null(f = fopen(t.f.conf, "w"));
	fputs(next, f);
	cr_assert_eq(fclose(f), 0);
	free(next);
	harness_signal(&t.f.proc, SIGHUP);
	cr_assert(harness_notify_wait(&t.f.h, "READY=1", &from, API_BOUND_MS), "no READY after the "
		  "reload:\n%s", t.f.h.received);
	char *log = harness_read(t.f.proc.stderr_path);
	cr_assert(log && !strstr(log, "still running on the previous"), "a reload failed: %s", log);
	free(log);
}

/* A reload's server limits hold for the next requests (only listen waits for a restart). */
Test(faults, a_reload_applies_the_http_limits)
{
	char body[3200], *orig = NULL;
	struct err e = { 0 };

	api_t_start(&t, NULL);
	/* A case of 3 000 bytes or so: JSON allows that much blank space. */
	snprintf(body, sizeof(body),
		 "{\"code\": \"BIG-1\", \"procedure\": \"1.004873\", \"unit\": \"hctc\", "
		 "\"received_at\": \"2024-02-07T10:00:00+07:00\"%*s}", 2900, "");
	cr_assert_gt(strlen(body), 3000);
	api_t_req(&t, "POST", "/api/v1/cases", API_MOTCUA, body, 201);
	reload_server(&orig, "body_bytes = 2048;");
	api_t_req(&t, "POST", "/api/v1/cases", API_MOTCUA, body, 413);
	api_t_expect_error(&t, 413, "body_too_large", NULL);
	reload_server(&orig, "body_bytes = 4096; header_bytes = 1024;");
	/* The same body again: the case exists with the same data. */
	api_t_req(&t, "POST", "/api/v1/cases", API_MOTCUA, body, 200);
	char big_header[1100];
	snprintf(big_header, sizeof(big_header), "X-Long: %01080d", 0);
	const char *const headers[] = { big_header, NULL };
	cr_assert_eq(api_call(&t.f, "GET", "/healthz", NULL, NULL, NULL, 0, headers, &t.r, &e), 0,
		     "%s", e.msg);
	cr_assert_eq(t.r.status, 431, "%s", t.r.resp.body);
	free(orig);
	api_t_stop(&t);
}

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The loop does not stop for another process's lock, however long busy_timeout is: a write
 * is refused, /readyz says why and /healthz answers, each long before busy_timeout (30 s);
 * delivery and the scheduler go on trying. Before, each waited busy_timeout on the loop. */
Test(faults, a_lock_held_elsewhere_does_not_stop_the_loop, .timeout = 120)
{
	struct api_reply r = { 0 };
	sqlite3 *other = NULL;
	double t0;

	api_t_start(&t, NULL);
	reload_database("busy_timeout = 30;");
	cr_assert_eq(sqlite3_open(t.f.db, &other), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	t0 = mono_now();
	cr_assert_eq(create(3, &r), 503, "%s", r.resp.body);
	cr_assert_str_eq(api_str(r.json, "error.message"),
			 "the database is locked by another process; retry");
	api_t_req(&t, "GET", "/readyz", NULL, NULL, 503);
	api_t_expect_error(&t, 503, "not_ready", "database");
	api_t_req(&t, "GET", "/healthz", NULL, NULL, 200);
	api_t_req(&t, "GET", "/api/v1/cases/FULL-00001", API_BAOCAO, NULL, 404);
	cr_assert_lt(mono_now() - t0, 10.0, "the loop waited for the lock");
	cr_assert_eq(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(other);
	cr_assert_eq(create(3, &r), 201, "%s", r.resp.body);
	api_t_req(&t, "GET", "/readyz", NULL, NULL, 200);
	api_reply_free(&r);
	api_t_stop(&t);
}
