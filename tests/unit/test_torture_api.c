/* Allocation-failure torture of a JSON body through the whole request path (issue #10): the
 * daemon runs in this process (tests/fuzz/fuzz_daemon.c: the example office, a temporary
 * database, delivery off) and a POST /api/v1/cases goes through HTTP, authentication, jansson,
 * the case's validation (procedure, unit, dates, the due date in working time) and the store,
 * every allocation of the exchange failed in turn (tests/support/torture.c, loose: SQLite's
 * caches grow from run to run). What each run must show:
 *   201           the case is in the database;
 *   503 or 500   it is not (nothing of a refused write is kept);
 *   another 4xx   only when jansson made up a syntax error (#362), else a failed allocation was
 *                 blamed on the request;
 *   no answer     in doubt: either.
 * The daemon must never crash, and must answer the next request as if nothing happened. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calendar.h"
#include "config.h"
#include "fuzz_daemon.h"
#include "torture.h"

static int serial; /* each run registers a new code */
static int refused; /* runs answered 500 */

/* How many cases of that code the database holds (a read-only connection of the test's). */
static int64_t stored(const char *code)
{
	const struct config *cfg = fuzz_office_config();
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t n = -1;

	if (sqlite3_open_v2(cfg->database.path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM cases WHERE code = ?1", -1, &s, NULL) ==
		    SQLITE_OK &&
	    sqlite3_bind_text(s, 1, code, -1, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	cr_assert_geq(n, 0, "cannot read the database");
	return n;
}

static int run_create(struct torture_out *o)
{
	char code[40], at[40], body[600], req[1200], answer[2048] = "", line[300];
	int status = 0, len, blen;
	size_t got;

	torture_pause();
	snprintf(code, sizeof(code), "000.00.21.H19-240207-%04d", ++serial % 10000);
	cr_assert_gt(calendar_format(fuzz_office_config()->calendar, (int64_t)time(NULL) - 3600,
				     at, sizeof(at)), 0);
	blen = snprintf(body, sizeof(body),
			"{\"code\": \"%s\", \"procedure\": \"1.004873\", \"unit\": "
			"\"xa-tu-phap-tan-phu\", \"applicant\": \"Nguyễn Văn A\", \"handler\": "
			"\"tuan.hm\", \"online\": \"full\", \"received_at\": \"%s\"}",
			code, at);
	len = snprintf(req, sizeof(req),
		       "POST /api/v1/cases HTTP/1.1\r\nHost: torture\r\n"
		       "Authorization: Bearer motcua-dev-token\r\nContent-Type: application/json\r\n"
		       "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
		       blen, body);
	/* Armed from the connection's accept on (a failed allocation there once left the server
	 * deaf for good: finding 5 of docs/testing.md, "Fault injection"). */
	torture_resume();
	got = fuzz_daemon_exchange_answer(req, (size_t)len, answer, sizeof(answer) - 1, NULL);
	torture_pause();
	if (got)
		sscanf(answer, "HTTP/1.1 %d", &status);
	int64_t n = stored(code);
	if (status == 201) {
		cr_assert_eq(n, 1, "%s answered 201 but is not stored", code);
		torture_out_add(o, "201", 3);
	} else if (status == 503) {
		cr_assert_eq(n, 0, "%s answered 503 but is stored: %.300s", code, answer);
	} else if (status == 500) {
		/* no memory before the request reached a write (http.c, "out of memory") */
		cr_assert_eq(n, 0, "%s answered 500 but is stored: %.300s", code, answer);
		refused++;
	} else if (status) {
		const char *b = strstr(answer, "\r\n\r\n");
		cr_assert(torture_failed_in_loadb(), "a failed allocation answered %d: %.300s",
			  status, b ? b + 4 : answer);
		cr_assert_eq(n, 0);
		o->jansson = true;
	}
	if (status != 201) {
		const char *b = strstr(answer, "\r\n\r\n");
		snprintf(line, sizeof(line), "%d %.280s", status, status && b ? b + 4 : "no answer");
		torture_out_error(o, line);
	}
	torture_resume();
	return status == 201 ? 0 : -1;
}

static void setup(void)
{
	if (!TORTURE_SANITIZED)
		fuzz_daemon_start();
}

TestSuite(torture_api, .init = setup, .timeout = 280);

Test(torture_api, create_case)
{
	struct torture_out *o;

	torture_run("POST /api/v1/cases", run_create, true);
	cr_log_info("%d runs answered 500", refused);
	/* And the daemon goes on as if nothing had happened. */
	cr_assert_not_null(o = calloc(1, sizeof(*o)));
	cr_assert_eq(run_create(o), 0, "after the torture: %s", o->error);
	free(o);
}
