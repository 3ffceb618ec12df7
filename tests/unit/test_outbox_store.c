/* The sender's outbox statements (store.h, "delivery"): the claim, a read that seeks past the
 * last row claimed or leaves out the ids it is given, and the outcomes written many a statement
 * (more than one batch, rows sent in two seconds, retries and dead letters among them). Real
 * SQLite file, exact values. */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "store.h"

static struct harness h;
static char db[600];
static struct store *st;

static void exec_raw(const char *sql)
{
	sqlite3 *raw = NULL;

	cr_assert_eq(sqlite3_open_v2(db, &raw, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(raw, sql, NULL, NULL, NULL), SQLITE_OK, "%s",
		     sqlite3_errmsg(raw));
	sqlite3_close(raw);
}

static long long query_int(const char *sql)
{
	sqlite3 *raw = NULL;
	sqlite3_stmt *s = NULL;
	long long v = -1;

	cr_assert_eq(sqlite3_open_v2(db, &raw, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(raw, sql, -1, &s, NULL), SQLITE_OK, "%s",
		     sqlite3_errmsg(raw));
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(raw);
	return v;
}

/* n pending chat rows due at `due`, ids from first on. */
static void rows(int first, int n, int due)
{
	char sql[400];

	for (int i = first; i < first + n; i++) {
		snprintf(sql, sizeof(sql),
			 "INSERT INTO outbox (id, channel, recipient, subject, body_text, status, "
			 "not_before, created_at) "
			 "VALUES (%d, 'chat', 'c', 's', 't', 'pending', %d, 0)",
			 i, due);
		exec_raw(sql);
	}
}

static void setup(void)
{
	enum store_status status;
	struct err err;

	cr_assert_eq(harness_init(&h), 0);
	harness_path(&h, "dunghan.db", db, sizeof(db));
	st = store_open(db, NULL, &status, &err);
	cr_assert_not_null(st, "%s", err.msg);
	store_close(st); /* created and migrated; rows go in through a raw connection */
	rows(1, 40, 100);
	rows(41, 5, 200);
	st = store_open(db, NULL, &status, &err);
	cr_assert_not_null(st, "%s", err.msg);
}

static void teardown(void)
{
	store_close(st);
	harness_close(&h);
}

TestSuite(outbox_store, .init = setup, .fini = teardown);

struct got {
	int64_t id[64];
	int n;
};

static int keep(void *ctx, const struct store_outbox *o)
{
	struct got *g = ctx;

	cr_assert_str_eq(o->status, "pending");
	g->id[g->n++] = o->id;
	return 0;
}

static struct got claim(int64_t now, int limit, int64_t after_due, int64_t after_id,
			const int64_t *skip, size_t nskip)
{
	struct store_outbox_due q = { .now = now, .limit = limit, .with_email = true,
				      .after_due = after_due, .after_id = after_id,
				      .skip = skip, .nskip = nskip };
	struct got g = { .n = 0 };
	struct err err;

	cr_assert_eq(store_outbox_claim(st, &q, keep, &g, &err), STORE_OK, "%s", err.msg);
	return g;
}

static void expect_ids(const struct got *g, int first, int n)
{
	cr_assert_eq(g->n, n, "%d rows, not %d", g->n, n);
	for (int i = 0; i < n; i++)
		cr_assert_eq(g->id[i], first + i, "row %d is %lld, not %d", i, (long long)g->id[i],
			     first + i);
}

Test(outbox_store, claim_from_the_start_in_due_order)
{
	struct got g = claim(1000, 10, INT64_MIN, INT64_MIN, NULL, 0);

	expect_ids(&g, 1, 10);
	g = claim(150, 64, INT64_MIN, INT64_MIN, NULL, 0);
	expect_ids(&g, 1, 40); /* the rows due at 200 are not due at 150 */
}

Test(outbox_store, claim_after_the_last_row_claimed)
{
	/* the rest of second 100, then second 200, in one call */
	struct got g = claim(1000, 35, 100, 10, NULL, 0);

	expect_ids(&g, 11, 35);
	g = claim(1000, 64, 200, 45, NULL, 0);
	cr_assert_eq(g.n, 0);
	g = claim(1000, 3, 100, 40, NULL, 0);
	expect_ids(&g, 41, 3);
	/* nothing written: the same rows are still there to claim */
	cr_assert_eq(query_int("SELECT count(*) FROM outbox WHERE status = 'pending'"), 45);
}

Test(outbox_store, claim_leaves_out_the_ids_given)
{
	int64_t skip[12];

	for (int i = 0; i < 12; i++)
		skip[i] = i + 1;
	struct got g = claim(1000, 5, INT64_MIN, INT64_MIN, skip, 12);
	expect_ids(&g, 13, 5);
	skip[0] = 41; /* row 1 back in, 41 out */
	g = claim(1000, 64, 100, 38, skip, 12);
	cr_assert_eq(g.n, 6, "%d", g.n);
	cr_assert_eq(g.id[0], 39);
	cr_assert_eq(g.id[1], 40);
	cr_assert_eq(g.id[2], 42);
	cr_assert_eq(g.id[5], 45);
}

Test(outbox_store, outcomes_of_a_turn)
{
	/* 45 outcomes, more than two statements' worth: 1..20 sent in second 1000, 21..38 sent in
	 * 1001, 39..42 back to pending, 43..45 dead */
	struct store_outcome o[45];
	char reply[45][32];
	struct err err;

	for (int i = 0; i < 45; i++) {
		int id = i + 1;
		bool sent = id <= 38, retry = id >= 39 && id <= 42;
		snprintf(reply[i], sizeof(reply[i]), "HTTP %d: r%d", sent ? 200 : 503, id);
		o[i] = (struct store_outcome){
			.attempt = { .outbox_id = id, .attempt = 1, .started_at = 990,
				     .finished_at = id <= 20 ? 1000 : 1001,
				     .outcome = sent ? "ok" : retry ? "retryable" : "permanent",
				     .curl_code = 0, .reply = reply[i] },
			.status = sent ? "sent" : retry ? "pending" : "dead",
			.next_attempt_at = retry ? 2000 + id : TIME_NONE,
			.last_error = sent ? NULL : reply[i],
		};
	}
	cr_assert_eq(store_begin(st, &err), STORE_OK, "%s", err.msg);
	cr_assert_eq(store_outbox_finish_many(st, o, 45, &err), STORE_OK, "%s", err.msg);
	cr_assert_eq(store_commit(st, &err), STORE_OK, "%s", err.msg);

	cr_assert_eq(query_int("SELECT count(*) FROM delivery_attempts"), 45);
	cr_assert_eq(query_int("SELECT count(*) FROM delivery_attempts WHERE outcome = 'ok'"), 38);
	cr_assert_eq(query_int("SELECT count(*) FROM delivery_attempts WHERE attempt = 1 AND "
			       "started_at = 990 AND curl_code = 0 AND reply = 'HTTP ' || "
			       "CASE WHEN outbox_id <= 38 THEN 200 ELSE 503 END || ': r' || "
			       "outbox_id"), 45);
	cr_assert_eq(query_int("SELECT count(*) FROM outbox WHERE attempts = 1"), 45);
	cr_assert_eq(query_int("SELECT count(*) FROM outbox WHERE status = 'sent' AND "
			       "sent_at = 1000 AND id <= 20 AND last_error IS NULL AND "
			       "next_attempt_at IS NULL"), 20);
	cr_assert_eq(query_int("SELECT count(*) FROM outbox WHERE status = 'sent' AND "
			       "sent_at = 1001 AND id BETWEEN 21 AND 38"), 18);
	cr_assert_eq(query_int("SELECT count(*) FROM outbox WHERE status = 'pending' AND "
			       "next_attempt_at = 2000 + id AND sent_at IS NULL AND "
			       "last_error = 'HTTP 503: r' || id"), 4);
	cr_assert_eq(query_int("SELECT count(*) FROM outbox WHERE status = 'dead' AND "
			       "id >= 43 AND sent_at IS NULL"), 3);
	/* the retried rows are due again at their time, after the last claim's point too */
	struct got g = claim(2040, 64, 200, 45, NULL, 0);
	cr_assert_eq(g.n, 2, "%d", g.n);
	cr_assert_eq(g.id[0], 39);
	cr_assert_eq(g.id[1], 40);
}

Test(outbox_store, nothing_of_a_failed_turn_is_written)
{
	struct store_outcome o[20];
	struct err err;

	for (int i = 0; i < 20; i++)
		o[i] = (struct store_outcome){
			.attempt = { .outbox_id = i + 1, .attempt = 1, .started_at = 1,
				     .finished_at = 2, .outcome = "ok", .reply = "HTTP 200: ok" },
			.status = "sent", .next_attempt_at = TIME_NONE,
		};
	o[17].attempt.outbox_id = 999; /* no such row: the attempts' foreign key refuses */
	cr_assert_eq(store_begin(st, &err), STORE_OK, "%s", err.msg);
	cr_assert_eq(store_savepoint(st, &err), STORE_OK, "%s", err.msg);
	cr_assert_neq(store_outbox_finish_many(st, o, 20, &err), STORE_OK);
	cr_assert(err.msg[0], "the error says what failed");
	store_rollback_to_savepoint(st);
	cr_assert_eq(store_commit(st, &err), STORE_OK, "%s", err.msg);
	cr_assert_eq(query_int("SELECT count(*) FROM delivery_attempts"), 0);
	cr_assert_eq(query_int("SELECT count(*) FROM outbox WHERE status = 'pending'"), 45);
}
