/* POST /api/v1/cases:batch?dry_run=true and ?atomic=true against the real dunghand: a dry run
 * answers exactly what a real run would (references, codes repeated in the batch) and leaves
 * the database as it was; an atomic batch with a failed line keeps none of its lines, one
 * without keeps all; query parameters are checked. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_fixture.h"

static struct api_t t;

static void setup(void)
{
	api_t_start(&t, NULL);
}

static void teardown(void)
{
	api_t_teardown(&t);
}

TestSuite(batch_modes, .init = setup, .fini = teardown, .timeout = 120);

#define LINE(code, unit)                                                                         \
	"{\"code\":\"" code "\",\"procedure\":\"1.004873\",\"unit\":\"" unit "\","                 \
	"\"received_at\":\"2024-02-07T10:00:00+07:00\"}\n"

/* Two new cases, the first again (existing), the first with other data (conflict), and an
 * unknown unit. */
static const char mixed[] =
	LINE("M-1", "kstt") LINE("M-2", "hctc") LINE("M-1", "kstt") LINE("M-1", "hctc")
	LINE("M-3", "khong-co");

static json_t *batch(const char *query, const char *body, int status)
{
	char path[200];

	snprintf(path, sizeof(path), "/api/v1/cases:batch%s", query);
	return api_t_call(&t, "POST", path, API_MOTCUA, "application/x-ndjson", body,
			  strlen(body), status);
}

static void expect_line(json_t *j, size_t i, int status, const char *code_or_error)
{
	char p[64];
	json_t *r = api_get(j, (snprintf(p, sizeof(p), "results.%zu", i), p));

	cr_assert(r, "no results[%zu]: %s", i, t.r.resp.body);
	api_t_expect_int(r, "line", (int64_t)i + 1);
	api_t_expect_int(r, "status", status);
	if (status < 300)
		api_t_expect_str(r, "code", code_or_error);
	else
		api_t_expect_str(r, "error.code", code_or_error);
}

static void expect_mixed_results(json_t *j)
{
	api_t_expect_int(j, "created", 2);
	api_t_expect_int(j, "existing", 1);
	api_t_expect_int(j, "failed", 2);
	cr_assert_eq(json_array_size(json_object_get(j, "results")), 5, "%s", t.r.resp.body);
	expect_line(j, 0, 201, "M-1");
	expect_line(j, 1, 201, "M-2");
	expect_line(j, 2, 200, "M-1");
	expect_line(j, 3, 409, "conflict");
	expect_line(j, 4, 422, "unknown_reference");
	api_t_expect_str(j, "results.4.error.field", "unit");
}

static void expect_absent(const char *code)
{
	char path[100];

	snprintf(path, sizeof(path), "/api/v1/cases/%s", code);
	api_t_req(&t, "GET", path, API_BAOCAO, NULL, 404);
}

Test(batch_modes, dry_run_answers_as_a_real_run_and_changes_nothing)
{
	struct api_db_state before;
	json_t *j;

	api_t_state(&t, &before);
	j = batch("?dry_run=true", mixed, 200);
	expect_mixed_results(j);
	api_t_expect_bool(j, "dry_run", true);
	api_t_expect_bool(j, "atomic", false);
	api_t_expect_bool(j, "rolled_back", true);
	api_t_unchanged(&t, &before);
	expect_absent("M-1");
	expect_absent("M-2");

	/* The real run answers the same, and keeps its good lines. */
	j = batch("?dry_run=false", mixed, 200);
	expect_mixed_results(j);
	api_t_expect_bool(j, "dry_run", false);
	api_t_expect_bool(j, "rolled_back", false);
	api_t_req(&t, "GET", "/api/v1/cases/M-2", API_BAOCAO, NULL, 200);

	/* A dry run over what exists: existing lines say 200, nothing changes. */
	api_t_state(&t, &before);
	j = batch("?dry_run=true", LINE("M-1", "kstt") LINE("M-4", "kstt"), 200);
	api_t_expect_int(j, "created", 1);
	api_t_expect_int(j, "existing", 1);
	expect_line(j, 0, 200, "M-1");
	expect_line(j, 1, 201, "M-4");
	api_t_unchanged(&t, &before);
	expect_absent("M-4");
	api_t_stop(&t);
}

Test(batch_modes, atomic_batch_keeps_all_or_nothing)
{
	struct api_db_state before;
	json_t *j;

	api_t_state(&t, &before);
	j = batch("?atomic=true", mixed, 200);
	expect_mixed_results(j);
	api_t_expect_bool(j, "atomic", true);
	api_t_expect_bool(j, "dry_run", false);
	api_t_expect_bool(j, "rolled_back", true);
	api_t_unchanged(&t, &before);
	expect_absent("M-1");
	expect_absent("M-2");

	/* A line of broken JSON fails the whole batch too. */
	j = batch("?atomic=true", LINE("A-1", "kstt") "{\"code\":\n", 200);
	api_t_expect_int(j, "created", 1);
	api_t_expect_int(j, "failed", 1);
	expect_line(j, 1, 400, "bad_json");
	api_t_expect_bool(j, "rolled_back", true);
	api_t_unchanged(&t, &before);

	/* Every line good: every line kept. */
	j = batch("?atomic=true", LINE("A-1", "kstt") LINE("A-2", "hctc") LINE("A-1", "kstt"), 200);
	api_t_expect_int(j, "created", 2);
	api_t_expect_int(j, "existing", 1);
	api_t_expect_int(j, "failed", 0);
	api_t_expect_bool(j, "rolled_back", false);
	j = api_t_req(&t, "GET", "/api/v1/cases/A-2", API_BAOCAO, NULL, 200);
	api_t_expect_str(j, "unit", "hctc");
	api_t_expect_str(j, "due_at", "2024-02-19T10:00:00+07:00");

	/* Both at once: a dry run of an atomic batch. */
	api_t_state(&t, &before);
	j = batch("?atomic=true&dry_run=true", LINE("A-3", "kstt"), 200);
	api_t_expect_int(j, "created", 1);
	api_t_expect_bool(j, "rolled_back", true);
	api_t_unchanged(&t, &before);
	api_t_stop(&t);
}

Test(batch_modes, query_parameters_are_checked)
{
	struct api_db_state before;

	api_t_state(&t, &before);
	batch("?dryrun=true", mixed, 400);
	api_t_expect_error(&t, 400, "invalid_query", "dryrun");
	batch("?dry_run=yes", mixed, 400);
	api_t_expect_error(&t, 400, "invalid_query", "dry_run");
	batch("?atomic=1", mixed, 400);
	api_t_expect_error(&t, 400, "invalid_query", "atomic");
	batch("?atomic", mixed, 400);
	api_t_expect_error(&t, 400, "invalid_query", NULL);
	api_t_unchanged(&t, &before);
	api_t_stop(&t);
}

Test(batch_modes, a_rolled_back_batch_spares_the_other_writes_of_its_turn)
{
	/* Sent together so that the daemon handles them in the same loop turns (one transaction):
	 * each atomic batch is its own savepoint, so the failed one takes nothing of the other. */
	static const char *const headers[] = { "Authorization: Bearer " API_MOTCUA,
					       "Content-Type: application/x-ndjson", NULL };
	const char *const bodies[] = {
		LINE("T-1", "kstt") LINE("T-2", "khong-co"),
		LINE("T-3", "kstt") LINE("T-4", "hctc"),
		LINE("T-5", "khong-co") LINE("T-6", "kstt"),
		NULL,
	};
	struct api_reply replies[3] = { 0 };
	struct err e = { 0 };

	cr_assert_eq(api_fan_out(&t.f, 3, "POST", "/api/v1/cases:batch?atomic=true", headers, bodies,
				 replies, &e), 0, "%s", e.msg);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(replies[i].status, 200, "%d: %s", i, replies[i].resp.body);
		api_t_expect_bool(replies[i].json, "rolled_back", i != 1);
		api_reply_free(&replies[i]);
	}
	expect_absent("T-1");
	expect_absent("T-6");
	api_t_req(&t, "GET", "/api/v1/cases/T-3", API_BAOCAO, NULL, 200);
	api_t_req(&t, "GET", "/api/v1/cases/T-4", API_BAOCAO, NULL, 200);
	api_t_stop(&t);
}
