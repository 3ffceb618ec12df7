/* The one-stop cases API against the real dunghand (docs/api.md, "One-stop cases"): creating
 * with due dates computed in working time (the example calendar, 07:30-11:30 and 13:00-17:00,
 * Monday to Friday, the official 2024-2026 schedules), idempotent creation, reading and
 * searching, every event and every illegal one, versions, the event log and the batch endpoint.
 * Expected instants were worked out by hand; the arithmetic is in the comments. */
#include <criterion/criterion.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

TestSuite(cases, .init = setup, .fini = teardown, .timeout = 180);

/* Creates a case with motcua's token and expects 201; more: further JSON members or NULL.
 * Returns the case (kept until teardown). */
static json_t *create(const char *code, const char *procedure, const char *unit,
		      const char *received_at, const char *more)
{
	json_t *j = api_t_reqf(&t, "POST", "/api/v1/cases", API_MOTCUA, 201,
			       "{\"code\": \"%s\", \"procedure\": \"%s\", \"unit\": \"%s\", "
			       "\"received_at\": \"%s\"%s%s}",
			       code, procedure, unit, received_at, more ? ", " : "", more ? more : "");
	cr_assert(json_is_object(j), "POST /api/v1/cases: not a JSON object");
	return api_t_keep(&t, json_incref(j));
}

/* Posts an event to a case with token and expects status; returns the answer (kept). */
static json_t *event_as(const char *token, const char *code, int status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static json_t *event_as(const char *token, const char *code, int status, const char *fmt, ...)
{
	char path[200], *body;
	va_list ap;

	snprintf(path, sizeof(path), "/api/v1/cases/%s/events", code);
	va_start(ap, fmt);
	cr_assert_geq(vasprintf(&body, fmt, ap), 0);
	va_end(ap);
	json_t *j = api_t_req(&t, "POST", path, token, body, status);
	free(body);
	return api_t_keep(&t, json_incref(j));
}

#define event(code, status, ...) event_as(API_MOTCUA, code, status, __VA_ARGS__)

static json_t *get_case(const char *code)
{
	char path[200];

	snprintf(path, sizeof(path), "/api/v1/cases/%s", code);
	return api_t_keep(&t, json_incref(api_t_req(&t, "GET", path, API_BAOCAO, NULL, 200)));
}

/* GET /api/v1/cases?query with the read-only token; returns the answer (kept). */
static json_t *list(const char *query)
{
	char path[1200];

	snprintf(path, sizeof(path), "/api/v1/cases%s%s", query && *query ? "?" : "",
		 query ? query : "");
	json_t *j = api_t_req(&t, "GET", path, API_BAOCAO, NULL, 200);
	cr_assert(json_is_array(json_object_get(j, "cases")), "%s: no cases array: %s", path,
		  t.r.resp.body);
	cr_assert(json_object_get(j, "next_cursor"), "%s: no next_cursor member", path);
	return api_t_keep(&t, json_incref(j));
}

/* Expects the page's cases to have exactly these codes, in this order (NULL-ended). */
static void expect_codes(json_t *page, const char *query, const char *const codes[])
{
	json_t *cases = json_object_get(page, "cases");
	size_t n = 0;

	while (codes[n])
		n++;
	cr_assert_eq(json_array_size(cases), n, "?%s: %zu cases, expected %zu: %s", query,
		     json_array_size(cases), n, json_dumps(page, JSON_COMPACT));
	for (size_t i = 0; i < n; i++) {
		const char *got = api_str(json_array_get(cases, i), "code");
		cr_assert(got && !strcmp(got, codes[i]), "?%s: [%zu] is %s, expected %s", query, i,
			  got ? got : "(none)", codes[i]);
	}
}

/* The same, in any order. */
static void expect_code_set(json_t *page, const char *query, const char *const codes[])
{
	json_t *cases = json_object_get(page, "cases");
	size_t n = 0;

	while (codes[n])
		n++;
	cr_assert_eq(json_array_size(cases), n, "?%s: %zu cases, expected %zu: %s", query,
		     json_array_size(cases), n, json_dumps(page, JSON_COMPACT));
	for (size_t i = 0; i < n; i++) {
		bool found = false;
		for (size_t k = 0; k < n; k++) {
			const char *got = api_str(json_array_get(cases, k), "code");
			found = found || (got && !strcmp(got, codes[i]));
		}
		cr_assert(found, "?%s: %s is missing", query, codes[i]);
	}
}

static void finish(void)
{
	api_t_stop(&t);
}

/* ------------------------------------------------------------------------------------------ */

/* The spec's own example: 1.004873 (3 days = 24 office hours) received Wednesday 7/2/2024
 * 10:00. 7/2 10:00-11:30 1.5h + 13:00-17:00 4h = 5.5h; 8/2 to 14/2 is Tết Giáp Thìn (8, 9, 12,
 * 13, 14 off, 10-11 the weekend); 15/2 8h (13.5h); 16/2 8h (21.5h); Mon 19/2 07:30 + 2.5h =
 * 10:00 (24h). */
Test(cases, create_answers_201_with_the_spec_example)
{
	struct api_db_state before, after;

	api_t_state(&t, &before);
	json_t *c = create("000.00.21.H19-240207-0001", "1.004873", "xa-tu-phap-tan-phu",
			   "2024-02-07T10:00:00+07:00",
			   "\"handler\": \"binh.lt\", \"applicant\": \"Nguyễn Văn A\", "
			   "\"online\": \"full\", \"paid_online\": true");
	/* 2xx only after the commit: the rows are there when the answer is. */
	api_t_state(&t, &after);
	cr_assert_neq(before.hash, after.hash, "the 201 came before the case was in the database");

	api_t_expect_str(c, "code", "000.00.21.H19-240207-0001");
	api_t_expect_str(c, "procedure", "1.004873");
	api_t_expect_str(c, "procedure_name", "Thủ tục cấp Giấy xác nhận tình trạng hôn nhân");
	api_t_expect_str(c, "unit", "xa-tu-phap-tan-phu");
	api_t_expect_str(c, "unit_name", "Bộ phận Tư pháp - Hộ tịch xã Tân Phú");
	api_t_expect_str(c, "handler", "binh.lt");
	api_t_expect_str(c, "applicant", "Nguyễn Văn A");
	api_t_expect_str(c, "received_at", "2024-02-07T10:00:00+07:00");
	api_t_expect_str(c, "due_at", "2024-02-19T10:00:00+07:00");
	api_t_expect_str(c, "online", "full");
	api_t_expect_bool(c, "paid_online", true);
	api_t_expect_bool(c, "digitized", false);
	api_t_expect_str(c, "status", "received");
	api_t_expect_str(c, "outcome", NULL);
	api_t_expect_bool(c, "late", false);
	api_t_expect_str(c, "paused_at", NULL);
	api_t_expect_str(c, "completed_at", NULL);
	api_t_expect_str(c, "ended_at", NULL);
	api_t_expect_int(c, "version", 1);
	cr_assert(api_parse_instant(api_str(c, "created_at")) != INT64_MIN, "created_at");
	cr_assert(api_parse_instant(api_str(c, "updated_at")) != INT64_MIN, "updated_at");
	cr_assert(strstr(api_str(c, "created_at"), "+07:00"), "created_at in the calendar's zone");

	/* Defaults. */
	c = create("000.00.21.H19-240207-0009", "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00",
		   NULL);
	api_t_expect_str(c, "handler", NULL);
	api_t_expect_str(c, "applicant", NULL);
	api_t_expect_str(c, "online", "none");
	api_t_expect_bool(c, "paid_online", false);
	api_t_expect_bool(c, "digitized", false);
	finish();
}

struct due_case {
	const char *code, *procedure, *received_at, *due_at, *why;
};

Test(cases, due_at_is_counted_in_working_time)
{
	static const struct due_case rows[] = {
		/* 7 days = 56h from Wed 7/2 14:00: 7/2 3h; Tết 8-14/2; 15, 16, 19, 20, 21, 22/2
		 * 48h (51h); 23/2 07:30-11:30 4h + 13:00-14:00 1h = 56h. */
		{ "D-1.004222", "1.004222", "2024-02-07T14:00:00+07:00", "2024-02-23T14:00:00+07:00",
		  "7 days across Tết 2024" },
		/* 0.5 day = 4h from Fri 8/3 16:00: 1h on Friday, then Mon 11/3 07:30 + 3h. */
		{ "D-2.000815", "2.000815", "2024-03-08T16:00:00+07:00", "2024-03-11T10:30:00+07:00",
		  "half a day over a weekend" },
		/* days = 0: the end of that working day; 1.001193 has cutoff 15:00 in the example:
		 * received after it (or outside office hours), the end of the next working day. */
		{ "D-1.001193", "1.001193", "2024-03-08T09:00:00+07:00", "2024-03-08T17:00:00+07:00",
		  "days = 0" },
		{ "D-cutoff-at", "1.001193", "2024-03-08T15:00:00+07:00", "2024-03-08T17:00:00+07:00",
		  "days = 0, received at the cutoff (not after it)" },
		{ "D-cutoff-after", "1.001193", "2024-03-08T15:30:00+07:00",
		  "2024-03-11T17:00:00+07:00", "days = 0, received after the cutoff on a Friday" },
		{ "D-0-evening", "1.001193", "2024-03-07T18:00:00+07:00", "2024-03-08T17:00:00+07:00",
		  "days = 0, received after office hours" },
		{ "D-0-saturday", "1.001193", "2024-03-09T10:00:00+07:00", "2024-03-11T17:00:00+07:00",
		  "days = 0, received on a Saturday" },
		{ "D-0-tet", "1.001193", "2024-02-08T10:00:00+07:00", "2024-02-15T17:00:00+07:00",
		  "days = 0, received on a Tết day off" },
		/* Received Friday 8/3 18:00, after hours: counting starts Mon 11/3 07:30; 24h end
		 * exactly at Wed 13/3 17:00, which is that end, not Thursday morning. */
		{ "D-after-hours", "1.004873", "2024-03-08T18:00:00+07:00", "2024-03-13T17:00:00+07:00",
		  "received after office hours" },
		/* An instant given in UTC: 03:00Z = Wed 24/4 10:00; Thu 25 (1d), Fri 26 (2d), 29/4,
		 * 30/4, 1/5 off, Thu 2/5 10:00 (3d). */
		{ "D-utc", "1.004873", "2024-04-24T03:00:00Z", "2024-05-02T10:00:00+07:00",
		  "received_at in UTC, across 29/4-1/5" },
		/* Thu 2/5 10:00: Fri 3/5 (1d), Saturday 4/5 is a make-up working day (2d),
		 * Mon 6/5 10:00 (3d). */
		{ "D-make-up", "1.004873", "2024-05-02T10:00:00+07:00", "2024-05-06T10:00:00+07:00",
		  "across the make-up Saturday 4/5/2024" },
		/* 10 days from Wed 28/8 15:00: 29, 30/8 (2d); 2-3/9 off; 4, 5, 6, 9, 10, 11, 12, 13/9
		 * (10d) at 15:00. */
		{ "D-3.000333", "3.000333", "2024-08-28T15:00:00+07:00", "2024-09-13T15:00:00+07:00",
		  "10 days across Quốc khánh 2024" },
		/* 8 days from Mon 30/12/2024 10:00: 31/12 (1d); 1/1 off; 2, 3, 6, 7, 8, 9, 10/1 (8d). */
		{ "D-1.013831", "1.013831", "2024-12-30T10:00:00+07:00", "2025-01-10T10:00:00+07:00",
		  "8 days across the new year 2025" },
		/* 3 days from Fri 24/1/2025 15:00: 27-31/1 Tết Ất Tỵ; 3, 4, 5/2 at 15:00. */
		{ "D-tet-2025", "1.004873", "2025-01-24T15:00:00+07:00", "2025-02-05T15:00:00+07:00",
		  "across Tết 2025" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		json_t *c = create(rows[i].code, rows[i].procedure, "ttphvhcc", rows[i].received_at,
				   NULL);
		const char *due = api_str(c, "due_at");
		cr_expect(due && !strcmp(due, rows[i].due_at), "%s (%s): due_at %s, expected %s",
			  rows[i].code, rows[i].why, due ? due : "(none)", rows[i].due_at);
	}
	finish();
}

Test(cases, given_due_at_is_authoritative)
{
	/* 3 working days would give 19/2 10:00; the given instant is kept, answered in +07:00. */
	json_t *c = create("G-1", "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00",
			   "\"due_at\": \"2024-02-20T08:00:00Z\"");
	api_t_expect_str(c, "due_at", "2024-02-20T15:00:00+07:00");
	/* Even outside office hours or on a day off. */
	c = create("G-2", "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00",
		   "\"due_at\": \"2024-02-10T20:00:00+07:00\"");
	api_t_expect_str(c, "due_at", "2024-02-10T20:00:00+07:00");
	c = get_case("G-1");
	api_t_expect_str(c, "due_at", "2024-02-20T15:00:00+07:00");
	finish();
}

Test(cases, code_characters_and_length)
{
	/* 1-64 characters: letters, digits, '.', '-', '_'. */
	static const char code64[] = "AZaz09.-_0123456789012345678901234567890123456789012345678901234";
	cr_assert_eq(strlen(code64), 64);
	json_t *c = create(code64, "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00",
			   "\"online\": \"partial\", \"digitized\": true");
	api_t_expect_str(c, "code", code64);
	api_t_expect_str(c, "online", "partial");
	api_t_expect_bool(c, "digitized", true);
	c = create("X", "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00", NULL);
	api_t_expect_str(get_case(code64), "code", code64);
	finish();
}

Test(cases, received_at_and_at_default_to_now)
{
	char now_s[40];

	api_instant_from_now(now_s, sizeof(now_s), 0);
	json_t *c = api_t_keep(&t, json_incref(api_t_req(
					    &t, "POST", "/api/v1/cases", API_MOTCUA,
					    "{\"code\": \"NOW-1\", \"procedure\": \"1.004873\", "
					    "\"unit\": \"ttphvhcc\"}",
					    201)));
	int64_t now = api_parse_instant(now_s), rec = api_parse_instant(api_str(c, "received_at"));
	cr_assert(rec >= now - 60 && rec <= now + 60, "received_at %s, now %s",
		  api_str(c, "received_at"), now_s);
	/* 3 working days ahead: a later date, so completing now is early. */
	int64_t due = api_parse_instant(api_str(c, "due_at"));
	cr_assert(due >= rec + 3 * 86400, "due_at %s for received_at %s", api_str(c, "due_at"),
		  api_str(c, "received_at"));
	json_t *j = event("NOW-1", 201, "{\"type\": \"complete\"}");
	api_t_expect_str(j, "case.outcome", "early");
	int64_t done = api_parse_instant(api_str(j, "case.completed_at"));
	cr_assert(done >= now - 60 && done <= now + 60, "completed_at %s",
		  api_str(j, "case.completed_at"));
	finish();
}

Test(cases, content_type_with_charset_is_json)
{
	static const char body[] = "{\"code\": \"CT-1\", \"procedure\": \"1.004873\", \"unit\": "
				   "\"ttphvhcc\", \"received_at\": \"2024-02-07T10:00:00+07:00\"}";
	json_t *c = api_t_call(&t, "POST", "/api/v1/cases", API_MOTCUA,
			       "application/json; charset=utf-8", body, strlen(body), 201);
	api_t_expect_str(c, "due_at", "2024-02-19T10:00:00+07:00");
	finish();
}

Test(cases, create_is_idempotent_on_code)
{
	static const char body[] =
		"{\"code\": \"000.00.21.H19-240207-0001\", \"procedure\": \"1.004873\", \"unit\": "
		"\"xa-tu-phap-tan-phu\", \"handler\": \"binh.lt\", \"applicant\": \"Nguyễn Văn A\", "
		"\"received_at\": \"2024-02-07T10:00:00+07:00\", \"online\": \"full\", "
		"\"paid_online\": true}";
	struct api_db_state before;

	json_t *first = api_t_keep(&t, json_incref(api_t_req(&t, "POST", "/api/v1/cases",
							      API_MOTCUA, body, 201)));
	api_t_state(&t, &before);
	json_t *again = api_t_req(&t, "POST", "/api/v1/cases", API_MOTCUA, body, 200);
	cr_assert(json_equal(first, again), "the same body again: %s\nvs first %s",
		  json_dumps(again, JSON_COMPACT), json_dumps(first, JSON_COMPACT));
	api_t_unchanged(&t, &before);

	/* The same code with another applicant. */
	api_t_req(&t, "POST", "/api/v1/cases", API_MOTCUA,
		  "{\"code\": \"000.00.21.H19-240207-0001\", \"procedure\": \"1.004873\", \"unit\": "
		  "\"xa-tu-phap-tan-phu\", \"handler\": \"binh.lt\", \"applicant\": \"Nguyễn Văn B\", "
		  "\"received_at\": \"2024-02-07T10:00:00+07:00\", \"online\": \"full\", "
		  "\"paid_online\": true}",
		  409);
	api_t_expect_error(&t, 409, "conflict", NULL);
	api_t_unchanged(&t, &before);
	/* The stored case is the first one. */
	json_t *c = get_case("000.00.21.H19-240207-0001");
	api_t_expect_str(c, "applicant", "Nguyễn Văn A");
	api_t_expect_int(c, "version", 1);
	finish();
}

/* The stored create hash is the SHA-256 of the canonical request text as jansson writes it
 * (instants as numbers, nulls dropped, keys sorted, compact): databases written by earlier
 * versions keep recognising a retry. */
Test(cases, create_hash_is_the_canonical_jansson_text)
{
	static const char body[] =
		"{\"unit\": \"xa-tu-phap-tan-phu\", \"code\": \"000.00.21.H19-240207-0009\", "
		"\"procedure\": \"1.004873\", \"handler\": null, \"fee\": 50000, "
		"\"applicant\": \"Nguy\\u1ec5n \\\"B\u00e9\\\" \\\\ \\t/\", \"digitized\": false, "
		"\"received_at\": \"2024-02-07T10:00:00+07:00\", "
		"\"due_at\": \"2024-02-20T03:00:00Z\"}";
	json_t *in = json_loads(body, 0, NULL), *canon = json_object(), *v;
	const char *key;
	unsigned char digest[SHA256_DIGEST_LENGTH];
	char hex[2 * SHA256_DIGEST_LENGTH + 1], *text;
	struct err err;

	cr_assert_not_null(in);
	json_object_foreach(in, key, v) {
		if (json_is_null(v))
			continue;
		if (strcmp(key, "received_at") == 0 || strcmp(key, "due_at") == 0)
			json_object_set_new(canon, key,
					    json_integer(api_parse_instant(json_string_value(v))));
		else
			json_object_set(canon, key, v);
	}
	text = json_dumps(canon, JSON_COMPACT | JSON_SORT_KEYS);
	SHA256((const unsigned char *)text, strlen(text), digest);
	for (size_t i = 0; i < sizeof(digest); i++)
		snprintf(hex + 2 * i, 3, "%02X", digest[i]);
	api_t_req(&t, "POST", "/api/v1/cases", API_MOTCUA, body, 201);
	json_t *rows = api_db_query(&t.f, "SELECT hex(create_hash) FROM cases WHERE code = "
				    "'000.00.21.H19-240207-0009'", &err);
	cr_assert_not_null(rows, "%s", err.msg);
	cr_assert_str_eq(json_string_value(json_array_get(json_array_get(rows, 0), 0)), hex,
			 "hash of %s", text);
	json_decref(rows);
	json_decref(canon);
	json_decref(in);
	free(text);
	finish();
}

Test(cases, get_one_and_unknown)
{
	json_t *made = create("000.00.21.H19-240207-0001", "1.004873", "xa-tu-phap-tan-phu",
			      "2024-02-07T10:00:00+07:00", "\"applicant\": \"Nguyễn Văn A\"");
	json_t *got = get_case("000.00.21.H19-240207-0001");
	cr_assert(json_equal(made, got), "GET differs from the create answer: %s vs %s",
		  json_dumps(got, JSON_COMPACT), json_dumps(made, JSON_COMPACT));
	api_t_req(&t, "GET", "/api/v1/cases/000.00.21.H19-240207-0002", API_BAOCAO, NULL, 404);
	api_t_expect_error(&t, 404, "not_found", NULL);
	finish();
}

/* ---- search ------------------------------------------------------------------------------ */

#define C1 "000.00.21.H19-240207-0001" /* ttphvhcc, received, due 19/2 10:00, overdue */
#define C2 "000.00.21.H19-240207-0002" /* ttphvhcc, in_progress, due 23/2 14:00, overdue */
#define C3 "000.00.21.H19-240308-0001" /* hctc, completed, due 11/3 10:30 */
#define C4 "000.00.21.H19-240308-0002" /* kstt, paused, due 8/3 17:00 when paused */
#define C5 "000.47.33.H19-240502-0001" /* xa-tu-phap-tan-phu, received, due 6/5 10:00, overdue */
#define C6 "000.47.33.H19-240503-0001" /* xa-tan-phu, received, due 31/12/2099 */
#define C7 "000.00.21.H19-240828-0001" /* vp, received, due 13/9 15:00, overdue */

static void seed(void)
{
	create(C1, "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00",
	       "\"applicant\": \"Nguyễn Văn A\"");
	create(C2, "1.004222", "ttphvhcc", "2024-02-07T14:00:00+07:00",
	       "\"applicant\": \"Trần Thị B\"");
	event(C2, 201, "{\"type\": \"assign\", \"handler\": \"tuan.hm\", \"at\": "
		       "\"2024-02-15T08:00:00+07:00\"}");
	create(C3, "2.000815", "hctc", "2024-03-08T16:00:00+07:00",
	       "\"applicant\": \"Nguyễn Thị C\"");
	event(C3, 201, "{\"type\": \"complete\", \"at\": \"2024-03-11T09:00:00+07:00\"}");
	create(C4, "1.001193", "kstt", "2024-03-08T09:00:00+07:00", "\"applicant\": \"Lê Văn D\"");
	event(C4, 201, "{\"type\": \"pause\", \"reason\": \"Yêu cầu bổ sung\", \"at\": "
		       "\"2024-03-08T10:00:00+07:00\"}");
	create(C5, "1.004873", "xa-tu-phap-tan-phu", "2024-05-02T10:00:00+07:00",
	       "\"handler\": \"binh.lt\", \"applicant\": \"Nguyễn Văn E\"");
	create(C6, "1.004873", "xa-tan-phu", "2024-05-03T10:00:00+07:00",
	       "\"applicant\": \"Phạm F\", \"due_at\": \"2099-12-31T17:00:00+07:00\"");
	create(C7, "3.000333", "vp", "2024-08-28T15:00:00+07:00", NULL);
}

Test(cases, list_by_unit_takes_the_subtree)
{
	seed();
	expect_code_set(list("unit=vp"), "unit=vp", (const char *[]){ C1, C2, C3, C4, C7, NULL });
	expect_codes(list("unit=xa-tan-phu"), "unit=xa-tan-phu", (const char *[]){ C5, C6, NULL });
	expect_codes(list("unit=xa-tu-phap-tan-phu"), "unit=xa-tu-phap-tan-phu",
		     (const char *[]){ C5, NULL });
	expect_codes(list("unit=hctc"), "unit=hctc", (const char *[]){ C3, NULL });
	expect_codes(list("unit=cttdt"), "unit=cttdt", (const char *[]){ NULL });
	expect_code_set(list("unit=ubnd-tinh"), "unit=ubnd-tinh",
			(const char *[]){ C1, C2, C3, C4, C5, C6, C7, NULL });
	expect_code_set(list(""), "", (const char *[]){ C1, C2, C3, C4, C5, C6, C7, NULL });
	cr_assert(api_is_null(list(""), "next_cursor"), "7 cases fit the default limit of 100");
	finish();
}

Test(cases, list_by_status_in_due_order)
{
	seed();
	/* Ordered by due_at: C1 19/2, C5 6/5, C7 13/9, C6 2099. */
	expect_codes(list("status=received"), "status=received",
		     (const char *[]){ C1, C5, C7, C6, NULL });
	expect_codes(list("status=in_progress"), "status=in_progress", (const char *[]){ C2, NULL });
	expect_codes(list("status=completed"), "status=completed", (const char *[]){ C3, NULL });
	expect_codes(list("status=paused"), "status=paused", (const char *[]){ C4, NULL });
	expect_codes(list("status=returned"), "status=returned", (const char *[]){ NULL });
	expect_codes(list("status=received&unit=xa-tan-phu"), "status=received&unit=xa-tan-phu",
		     (const char *[]){ C5, C6, NULL });
	finish();
}

Test(cases, list_overdue_is_open_and_past_due)
{
	seed();
	/* Open = received or in_progress; C3 is completed, C4 paused, C6 due in 2099. */
	expect_codes(list("overdue=true"), "overdue=true", (const char *[]){ C1, C2, C5, C7, NULL });
	expect_codes(list("overdue=true&unit=vp"), "overdue=true&unit=vp",
		     (const char *[]){ C1, C2, C7, NULL });
	expect_codes(list("overdue=true&status=in_progress"), "overdue=true&status=in_progress",
		     (const char *[]){ C2, NULL });
	finish();
}

Test(cases, list_by_due_range)
{
	seed();
	/* due_after is inclusive (>=), due_before exclusive (<). 2024-03-11T03:30:00Z is C3's
	 * 10:30+07:00 and 2024-09-13T08:00:00Z is C7's 15:00+07:00. */
	expect_codes(list("due_after=2024-03-11T03:30:00Z&due_before=2024-09-13T08:00:00Z"),
		     "due_after=C3&due_before=C7", (const char *[]){ C3, C5, NULL });
	/* C2 is due exactly at due_before: excluded. The offset's '+' is percent-encoded. */
	expect_codes(list("due_before=2024-02-23T14:00:00%2B07:00"), "due_before=C2",
		     (const char *[]){ C1, NULL });
	expect_codes(list("due_after=2024-09-13T15:00:00%2B07:00"), "due_after=C7",
		     (const char *[]){ C7, C6, NULL });
	expect_codes(list("due_after=2024-09-13T15:00:01%2B07:00"), "due_after=C7+1s",
		     (const char *[]){ C6, NULL });
	/* Left unencoded, as people type it (a URL's '+' decodes to a space): the same. */
	expect_codes(list("due_before=2024-02-23T14:00:00+07:00"), "due_before=C2 with +",
		     (const char *[]){ C1, NULL });
	expect_codes(list("due_after=2024-09-13T15:00:00+07:00"), "due_after=C7 with +",
		     (const char *[]){ C7, C6, NULL });
	finish();
}

Test(cases, list_by_prefix_of_code_or_applicant)
{
	seed();
	expect_codes(list("q=000.47"), "q=000.47", (const char *[]){ C5, C6, NULL });
	expect_code_set(list("q=000.00.21.H19-2403"), "q=000.00.21.H19-2403",
			(const char *[]){ C3, C4, NULL });
	expect_codes(list("q=000.00.21.H19-240207-0002"), "q=C2", (const char *[]){ C2, NULL });
	/* "Nguyễn" percent-encoded in UTF-8: C1 (Nguyễn Văn A), C3 (Nguyễn Thị C), C5. */
	expect_codes(list("q=Nguy%E1%BB%85n"), "q=Nguyễn", (const char *[]){ C1, C3, C5, NULL });
	expect_codes(list("q=Nguy%E1%BB%85n%20V%C4%83n"), "q=Nguyễn Văn",
		     (const char *[]){ C1, C5, NULL });
	expect_codes(list("q=Tr%E1%BA%A7n"), "q=Trần", (const char *[]){ C2, NULL });
	/* A prefix, not a substring. */
	expect_codes(list("q=V%C4%83n"), "q=Văn", (const char *[]){ NULL });
	expect_codes(list("q=H19-2402"), "q=H19-2402", (const char *[]){ NULL });
	finish();
}

/* Walks every page of ?query with limit; returns the codes seen, in order, as a JSON array. */
static json_t *walk(const char *query, int limit, int *pages)
{
	json_t *codes = api_t_keep(&t, json_array());
	char q[1000];
	char *cursor = NULL;

	*pages = 0;
	for (;;) {
		int n = snprintf(q, sizeof(q), "%s%slimit=%d", query, *query ? "&" : "", limit);
		if (cursor) {
			char *enc = api_url_encode(cursor);
			snprintf(q + n, sizeof(q) - (size_t)n, "&cursor=%s", enc);
			free(enc);
			free(cursor);
			cursor = NULL;
		}
		json_t *page = list(q);
		json_t *cases = json_object_get(page, "cases");
		(*pages)++;
		cr_assert_leq(*pages, 100, "the pages never end");
		cr_assert_leq(json_array_size(cases), (size_t)limit, "?%s: more than limit", q);
		for (size_t i = 0; i < json_array_size(cases); i++)
			json_array_append_new(codes,
					      json_string(api_str(json_array_get(cases, i), "code")));
		const char *next = api_str(page, "next_cursor");
		if (!next) {
			cr_assert(api_is_null(page, "next_cursor"), "?%s: next_cursor", q);
			break;
		}
		cr_assert_eq(json_array_size(cases), (size_t)limit,
			     "?%s: a short page with a next_cursor", q);
		cursor = strdup(next);
	}
	return codes;
}

/* Without a unit the list merges each status's cases in due order (store.c, STMT_CASE_LIST):
 * statuses interleave, and every page size gives the one order. */
Test(cases, list_without_unit_merges_the_statuses_in_due_order)
{
	static const char *const expected[] = { C1, C2, C4, C3, C5, C7, C6 };
	static const int limits[] = { 1, 2, 3, 100 };
	int pages;

	seed();
	for (size_t l = 0; l < sizeof(limits) / sizeof(limits[0]); l++) {
		json_t *codes = walk("", limits[l], &pages);
		cr_assert_eq(json_array_size(codes), 7, "limit=%d: %zu cases", limits[l],
			     json_array_size(codes));
		for (size_t i = 0; i < 7; i++) {
			const char *got = json_string_value(json_array_get(codes, i));
			cr_assert(got && !strcmp(got, expected[i]),
				  "limit=%d: [%zu] %s, expected %s", limits[l], i,
				  got ? got : "(none)", expected[i]);
		}
	}
	expect_codes(list("status=withdrawn"), "status=withdrawn", (const char *[]){ NULL });
	expect_codes(list("q=000.47"), "q=000.47", (const char *[]){ C5, C6, NULL });
	finish();
}

Test(cases, pagination_walks_every_page_once)
{
	/* Seven cases share one due_at: creation order decides between them, and the cursor must
	 * carry it. Created in an order that is neither alphabetical nor reversed. */
	static const char *const same[] = { "P-07", "P-03", "P-10", "P-01", "P-05", "P-09", "P-02" };
	static const char *const expected[] = { "P-04", "P-07", "P-03", "P-10", "P-01",
						"P-05", "P-09", "P-02", "P-08", "P-06" };
	char more[100];
	int pages;

	create("P-06", "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00",
	       "\"due_at\": \"2024-07-31T17:00:00+07:00\"");
	for (size_t i = 0; i < 7; i++)
		create(same[i], "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00",
		       "\"due_at\": \"2024-06-28T17:00:00+07:00\"");
	create("P-04", "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00",
	       "\"due_at\": \"2024-06-28T16:59:59+07:00\"");
	snprintf(more, sizeof(more), "\"due_at\": \"%s\"", "2024-07-01T07:30:00+07:00");
	create("P-08", "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00", more);

	static const int limits[] = { 1, 3, 5, 10, 500 };
	static const int npages[] = { 10, 4, 2, 1, 1 };
	for (size_t l = 0; l < sizeof(limits) / sizeof(limits[0]); l++) {
		json_t *codes = walk("unit=ttphvhcc", limits[l], &pages);
		cr_assert_eq(json_array_size(codes), 10, "limit=%d: %zu cases", limits[l],
			     json_array_size(codes));
		for (size_t i = 0; i < 10; i++) {
			const char *got = json_string_value(json_array_get(codes, i));
			cr_assert(got && !strcmp(got, expected[i]), "limit=%d: [%zu] %s, expected %s",
				  limits[l], i, got ? got : "(none)", expected[i]);
		}
		/* "when more remain": exactly 5 + 5 is two pages, the second without a cursor. */
		cr_assert_eq(pages, npages[l], "limit=%d: %d pages, expected %d", limits[l], pages,
			     npages[l]);
	}
	/* The default limit is 100: all ten on one page. */
	json_t *page = list("unit=ttphvhcc");
	cr_assert_eq(json_array_size(json_object_get(page, "cases")), 10);

	/* 150 more (kstt): the default page holds 100 and has a cursor. */
	char *body = malloc(150 * 200), *p = body;
	for (int i = 0; i < 150; i++)
		p += sprintf(p, "{\"code\":\"L-%03d\",\"procedure\":\"1.004873\",\"unit\":"
				"\"kstt\",\"received_at\":\"2024-02-07T10:00:00+07:00\"}\n", i);
	json_t *b = api_t_call(&t, "POST", "/api/v1/cases:batch", API_MOTCUA,
			       "application/x-ndjson", body, (size_t)(p - body), 200);
	free(body);
	api_t_expect_int(b, "created", 150);
	page = list("unit=kstt");
	cr_assert_eq(json_array_size(json_object_get(page, "cases")), 100);
	cr_assert_not_null(api_str(page, "next_cursor"), "100 of 150: a next_cursor");
	json_t *all = walk("unit=kstt", 500, &pages);
	cr_assert_eq(json_array_size(all), 150);
	cr_assert_eq(pages, 1);
	finish();
}

/* ---- events ------------------------------------------------------------------------------ */

Test(cases, assign_sets_the_handler)
{
	create("A-1", "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00", NULL);
	json_t *j = event("A-1", 201, "{\"type\": \"assign\", \"handler\": \"tuan.hm\", \"at\": "
				      "\"2024-02-07T11:00:00+07:00\"}");
	api_t_expect_str(j, "case.status", "in_progress");
	api_t_expect_str(j, "case.handler", "tuan.hm");
	api_t_expect_int(j, "case.version", 2);
	api_t_expect_str(j, "case.due_at", "2024-02-19T10:00:00+07:00");
	api_t_expect_str(j, "event.type", "assign");
	api_t_expect_str(j, "event.at", "2024-02-07T11:00:00+07:00");
	api_t_expect_str(j, "event.actor", "motcua");
	api_t_expect_str(j, "event.due_at", "2024-02-19T10:00:00+07:00");
	api_t_expect_str(j, "event.data.handler", "tuan.hm");
	cr_assert(json_is_integer(api_get(j, "event.id")), "event.id");
	/* The answer is what is stored. */
	cr_assert(json_equal(api_get(j, "case"), get_case("A-1")));

	/* Reassigning an in-progress case. */
	j = event("A-1", 201, "{\"type\": \"assign\", \"handler\": \"dung.lq\", \"at\": "
			      "\"2024-02-07T13:00:00+07:00\"}");
	api_t_expect_str(j, "case.handler", "dung.lq");
	api_t_expect_int(j, "case.version", 3);

	/* A paused case stays paused. */
	event("A-1", 201, "{\"type\": \"pause\", \"reason\": \"Yêu cầu bổ sung\", \"at\": "
			  "\"2024-02-07T14:00:00+07:00\"}");
	j = event("A-1", 201, "{\"type\": \"assign\", \"handler\": \"tuan.hm\", \"at\": "
			      "\"2024-02-07T15:00:00+07:00\"}");
	api_t_expect_str(j, "case.status", "paused");
	api_t_expect_str(j, "case.handler", "tuan.hm");
	api_t_expect_int(j, "case.version", 5);
	finish();
}

Test(cases, transfer_moves_the_case)
{
	create("T-1", "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00",
	       "\"handler\": \"dung.lq\"");
	json_t *j = event("T-1", 201, "{\"type\": \"transfer\", \"unit\": \"hctc\", \"handler\": "
				      "\"phong.tv\", \"at\": \"2024-02-07T11:00:00+07:00\"}");
	api_t_expect_str(j, "case.status", "in_progress");
	api_t_expect_str(j, "case.unit", "hctc");
	api_t_expect_str(j, "case.unit_name", "Phòng Hành chính - Tổ chức");
	api_t_expect_str(j, "case.handler", "phong.tv");
	api_t_expect_int(j, "case.version", 2);
	api_t_expect_str(j, "case.due_at", "2024-02-19T10:00:00+07:00");
	api_t_expect_str(j, "event.type", "transfer");
	/* It is found under its new unit only. */
	expect_codes(list("unit=hctc"), "unit=hctc", (const char *[]){ "T-1", NULL });
	expect_codes(list("unit=ttphvhcc"), "unit=ttphvhcc", (const char *[]){ NULL });

	/* A paused case stays paused; the handler is optional. */
	event("T-1", 201, "{\"type\": \"pause\", \"reason\": \"Yêu cầu bổ sung\", \"at\": "
			  "\"2024-02-07T14:00:00+07:00\"}");
	j = event("T-1", 201, "{\"type\": \"transfer\", \"unit\": \"kstt\", \"at\": "
			      "\"2024-02-07T15:00:00+07:00\"}");
	api_t_expect_str(j, "case.status", "paused");
	api_t_expect_str(j, "case.unit", "kstt");
	/* Unknown unit: 422. */
	event("T-1", 422, "{\"type\": \"transfer\", \"unit\": \"phong-ma\", \"at\": "
			  "\"2024-02-07T16:00:00+07:00\"}");
	api_t_expect_error(&t, 422, "unknown_reference", "unit");
	finish();
}

Test(cases, pause_and_resume_restart)
{
	/* 1.004873 is a "restart" procedure (3 days). Received Wed 7/2 10:00, due Mon 19/2 10:00
	 * (see create_answers_201_with_the_spec_example). Paused Thu 15/2 09:00; resumed
	 * Fri 16/2 14:00: the full 24 office hours again from 16/2 14:00:
	 *   Fri 16/2 14:00-17:00 = 3h; Mon 19/2 8h (11h); Tue 20/2 8h (19h);
	 *   Wed 21/2 07:30-11:30 4h (23h) + 13:00-14:00 1h (24h) -> 2024-02-21T14:00+07:00. */
	create("R-1", "1.004873", "xa-tu-phap-tan-phu", "2024-02-07T10:00:00+07:00", NULL);
	json_t *j = event("R-1", 201, "{\"type\": \"pause\", \"at\": \"2024-02-15T09:00:00+07:00\", "
				      "\"reason\": \"Yêu cầu bổ sung giấy tờ tùy thân\"}");
	api_t_expect_str(j, "case.status", "paused");
	api_t_expect_str(j, "case.paused_at", "2024-02-15T09:00:00+07:00");
	api_t_expect_str(j, "event.data.reason", "Yêu cầu bổ sung giấy tờ tùy thân");
	api_t_expect_int(j, "case.version", 2);

	j = event("R-1", 201, "{\"type\": \"resume\", \"at\": \"2024-02-16T14:00:00+07:00\"}");
	api_t_expect_str(j, "case.status", "in_progress");
	api_t_expect_str(j, "case.paused_at", NULL);
	api_t_expect_str(j, "case.due_at", "2024-02-21T14:00:00+07:00");
	api_t_expect_str(j, "event.due_at", "2024-02-21T14:00:00+07:00");
	api_t_expect_int(j, "case.version", 3);

	/* Resumed on a Saturday: the clock starts Monday 19/2 07:30; 24h = 19, 20, 21/2 whole
	 * days, ending exactly at Wed 21/2 17:00. */
	create("R-2", "1.004873", "xa-tu-phap-tan-phu", "2024-02-07T10:00:00+07:00", NULL);
	event("R-2", 201, "{\"type\": \"pause\", \"at\": \"2024-02-15T09:00:00+07:00\", "
			  "\"reason\": \"Yêu cầu bổ sung\"}");
	j = event("R-2", 201, "{\"type\": \"resume\", \"at\": \"2024-02-17T09:00:00+07:00\"}");
	api_t_expect_str(j, "case.due_at", "2024-02-21T17:00:00+07:00");

	/* 2.000815 (0.5 day, restart by default): received Fri 8/3 16:00, due Mon 11/3 10:30;
	 * paused 11/3 09:00, resumed 11/3 15:00: 4h again = 15:00-17:00 2h + Tue 12/3 07:30 + 2h
	 * = 09:30. */
	create("R-3", "2.000815", "hctc", "2024-03-08T16:00:00+07:00", NULL);
	event("R-3", 201, "{\"type\": \"pause\", \"at\": \"2024-03-11T09:00:00+07:00\", "
			  "\"reason\": \"Yêu cầu bổ sung\"}");
	j = event("R-3", 201, "{\"type\": \"resume\", \"at\": \"2024-03-11T15:00:00+07:00\"}");
	api_t_expect_str(j, "case.due_at", "2024-03-12T09:30:00+07:00");

	/* 1.001193 (days = 0, restart by default): resumed Mon 11/3 09:00, due the end of that
	 * working day. */
	create("R-4", "1.001193", "hctc", "2024-03-08T09:00:00+07:00", NULL);
	event("R-4", 201, "{\"type\": \"pause\", \"at\": \"2024-03-08T10:00:00+07:00\", "
			  "\"reason\": \"Yêu cầu bổ sung\"}");
	j = event("R-4", 201, "{\"type\": \"resume\", \"at\": \"2024-03-11T09:00:00+07:00\"}");
	api_t_expect_str(j, "case.due_at", "2024-03-11T17:00:00+07:00");

	/* A case paused straight from received. Completed on the new due date before due_at:
	 * on_time (it would have been late against the first due_at). */
	j = event("R-1", 201, "{\"type\": \"complete\", \"at\": \"2024-02-21T11:00:00+07:00\"}");
	api_t_expect_str(j, "case.outcome", "on_time");
	finish();
}

Test(cases, pause_and_resume_continue)
{
	/* 1.004222 is a "continue" procedure (7 days = 56h). Received Wed 7/2 14:00, due Fri
	 * 23/2 14:00. Paused Mon 19/2 10:00 after using 7/2 14:00-17:00 3h + (Tết 8-14/2) 15/2 8h
	 * + 16/2 8h + 19/2 07:30-10:00 2.5h = 21.5h; left: 56 - 21.5 = 34.5h. Resumed Mon 26/2
	 * 08:30: 26/2 08:30-11:30 3h + 13:00-17:00 4h = 7h (27.5h left); 27, 28, 29/2 24h (3.5h
	 * left); Fri 1/3 07:30 + 3.5h = 11:00 -> 2024-03-01T11:00+07:00. */
	create("K-1", "1.004222", "ttphvhcc", "2024-02-07T14:00:00+07:00", NULL);
	event("K-1", 201, "{\"type\": \"assign\", \"handler\": \"tuan.hm\", \"at\": "
			  "\"2024-02-08T08:00:00+07:00\"}");
	json_t *j = event("K-1", 201, "{\"type\": \"pause\", \"at\": \"2024-02-19T10:00:00+07:00\", "
				      "\"reason\": \"Yêu cầu bổ sung sổ hộ khẩu\"}");
	api_t_expect_str(j, "case.status", "paused");
	api_t_expect_str(j, "case.paused_at", "2024-02-19T10:00:00+07:00");
	j = event("K-1", 201, "{\"type\": \"resume\", \"at\": \"2024-02-26T08:30:00+07:00\"}");
	api_t_expect_str(j, "case.status", "in_progress");
	api_t_expect_str(j, "case.paused_at", NULL);
	api_t_expect_str(j, "case.due_at", "2024-03-01T11:00:00+07:00");
	api_t_expect_str(j, "event.due_at", "2024-03-01T11:00:00+07:00");
	json_t *c = get_case("K-1");
	api_t_expect_str(c, "due_at", "2024-03-01T11:00:00+07:00");
	api_t_expect_int(c, "version", 4);

	/* Paused and resumed on the same day: received Mon 4/3 08:00, due Wed 13/3 08:00;
	 * paused 10:00 (2h used, 54h left), resumed 14:00: Mon 14:00-17:00 3h (51h left),
	 * Tue 5 to Tue 12/3 6 x 8h (3h left), Wed 13/3 07:30 + 3h = 10:30 — the due moved by the
	 * 2.5 office hours of the pause (10:00-11:30, 13:00-14:00). */
	create("K-2", "1.004222", "ttphvhcc", "2024-03-04T08:00:00+07:00", NULL);
	api_t_expect_str(get_case("K-2"), "due_at", "2024-03-13T08:00:00+07:00");
	event("K-2", 201, "{\"type\": \"pause\", \"at\": \"2024-03-04T10:00:00+07:00\", "
			  "\"reason\": \"Yêu cầu bổ sung\"}");
	j = event("K-2", 201, "{\"type\": \"resume\", \"at\": \"2024-03-04T14:00:00+07:00\"}");
	api_t_expect_str(j, "case.due_at", "2024-03-13T10:30:00+07:00");
	finish();
}

struct outcome_row {
	const char *code, *at, *outcome, *why;
};

Test(cases, complete_sets_the_outcome)
{
	/* Every case: 1.004873 received 7/2 10:00, due Mon 19/2/2024 10:00+07:00. */
	static const struct outcome_row rows[] = {
		{ "O-early", "2024-02-16T16:00:00+07:00", "early", "the working day before" },
		{ "O-sunday", "2024-02-18T23:59:59+07:00", "early", "the last second of the day before" },
		{ "O-dawn", "2024-02-18T17:30:00Z", "on_time", "00:30+07:00 on the due date (UTC date is the 18th)" },
		{ "O-morning", "2024-02-19T07:00:00+07:00", "on_time", "the due date, before office hours" },
		{ "O-exact", "2024-02-19T10:00:00+07:00", "on_time", "exactly at due_at" },
		{ "O-late", "2024-02-19T10:00:01+07:00", "late", "one second after due_at" },
		{ "O-later", "2024-02-20T08:00:00+07:00", "late", "the next day" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		create(rows[i].code, "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00", NULL);
		json_t *j = event(rows[i].code, 201, "{\"type\": \"complete\", \"at\": \"%s\"}",
				  rows[i].at);
		const char *o = api_str(j, "case.outcome");
		cr_expect(o && !strcmp(o, rows[i].outcome), "%s (%s): outcome %s, expected %s",
			  rows[i].code, rows[i].why, o ? o : "(none)", rows[i].outcome);
		api_t_expect_str(j, "case.status", "completed");
		api_t_expect_bool(j, "case.late", false);
		api_t_expect_str(j, "case.ended_at", NULL);
		/* completed_at is the event's instant, in the calendar's zone. */
		const char *at = api_str(j, "case.completed_at");
		cr_expect(at && api_parse_instant(at) == api_parse_instant(rows[i].at) &&
				  strstr(at, "+07:00"),
			  "%s: completed_at %s for at %s", rows[i].code, at ? at : "(none)",
			  rows[i].at);
	}
	/* The due date is the date in the calendar's zone: due 19/2 20:00Z = 20/2 03:00+07:00,
	 * so completing on 19/2 (+07:00) is early, although both are 19/2 in UTC. */
	create("O-zone", "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00",
	       "\"due_at\": \"2024-02-19T20:00:00Z\"");
	json_t *z = event("O-zone", 201, "{\"type\": \"complete\", \"at\": "
					 "\"2024-02-19T18:00:00+07:00\"}");
	api_t_expect_str(z, "case.outcome", "early");
	create("O-zone2", "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00",
	       "\"due_at\": \"2024-02-19T20:00:00Z\"");
	z = event("O-zone2", 201, "{\"type\": \"complete\", \"at\": "
				  "\"2024-02-20T02:00:00+07:00\"}");
	api_t_expect_str(z, "case.outcome", "on_time");

	/* From received straight to completed, and from in_progress. */
	create("O-progress", "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00", NULL);
	event("O-progress", 201, "{\"type\": \"assign\", \"handler\": \"dung.lq\", \"at\": "
				 "\"2024-02-07T11:00:00+07:00\"}");
	json_t *j = event("O-progress", 201, "{\"type\": \"complete\", \"at\": "
					     "\"2024-02-15T09:00:00+07:00\"}");
	api_t_expect_str(j, "case.outcome", "early");
	finish();
}

Test(cases, return_withdraw_reject_end_the_case)
{
	create("E-1", "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00", NULL);
	event("E-1", 201, "{\"type\": \"complete\", \"at\": \"2024-02-16T09:00:00+07:00\"}");
	json_t *j = event("E-1", 201, "{\"type\": \"return\", \"at\": \"2024-02-16T10:00:00+07:00\"}");
	api_t_expect_str(j, "case.status", "returned");
	api_t_expect_str(j, "case.outcome", "early");
	api_t_expect_str(j, "case.completed_at", "2024-02-16T09:00:00+07:00");
	api_t_expect_str(j, "case.ended_at", "2024-02-16T10:00:00+07:00");
	api_t_expect_int(j, "case.version", 3);

	create("E-2", "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00", NULL);
	event("E-2", 201, "{\"type\": \"pause\", \"reason\": \"Yêu cầu bổ sung\", \"at\": "
			  "\"2024-02-15T09:00:00+07:00\"}");
	j = event("E-2", 201, "{\"type\": \"withdraw\", \"reason\": \"Công dân rút hồ sơ\", \"at\": "
			      "\"2024-02-16T09:00:00+07:00\"}");
	api_t_expect_str(j, "case.status", "withdrawn");
	api_t_expect_str(j, "case.ended_at", "2024-02-16T09:00:00+07:00");
	api_t_expect_str(j, "case.outcome", NULL);
	api_t_expect_str(j, "case.completed_at", NULL);

	/* withdraw's reason is optional. */
	create("E-3", "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00", NULL);
	j = event("E-3", 201, "{\"type\": \"withdraw\", \"at\": \"2024-02-08T09:00:00+07:00\"}");
	api_t_expect_str(j, "case.status", "withdrawn");

	/* reject's is required. */
	create("E-4", "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00", NULL);
	event("E-4", 201, "{\"type\": \"assign\", \"handler\": \"tuan.hm\", \"at\": "
			  "\"2024-02-07T11:00:00+07:00\"}");
	struct api_db_state before;
	api_t_state(&t, &before);
	event("E-4", 400, "{\"type\": \"reject\", \"at\": \"2024-02-15T09:00:00+07:00\"}");
	api_t_expect_error(&t, 400, "missing_field", "reason");
	api_t_unchanged(&t, &before);
	j = event("E-4", 201, "{\"type\": \"reject\", \"reason\": \"Hồ sơ không đủ điều kiện\", "
			      "\"at\": \"2024-02-15T09:00:00+07:00\"}");
	api_t_expect_str(j, "case.status", "rejected");
	api_t_expect_str(j, "case.ended_at", "2024-02-15T09:00:00+07:00");
	api_t_expect_str(j, "case.outcome", NULL);
	finish();
}

Test(cases, reschedule_keeps_the_case_late)
{
	/* Due 19/2 10:00; rescheduled (form 04) to 22/2 10:00, then completed 20/2 09:00, before
	 * the new due_at: still late. */
	create("S-1", "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00", NULL);
	json_t *j = event("S-1", 201,
			  "{\"type\": \"reschedule\", \"at\": \"2024-02-19T09:00:00+07:00\", "
			  "\"due_at\": \"2024-02-22T10:00:00+07:00\", \"apology\": \"Văn bản xin "
			  "lỗi và đề nghị gia hạn thời gian giải quyết (Mẫu 04)\"}");
	api_t_expect_str(j, "case.due_at", "2024-02-22T10:00:00+07:00");
	api_t_expect_bool(j, "case.late", true);
	api_t_expect_str(j, "case.status", "received");
	api_t_expect_str(j, "event.due_at", "2024-02-22T10:00:00+07:00");
	api_t_expect_int(j, "case.version", 2);

	/* The new due_at must be later than the current one. */
	struct api_db_state before;
	api_t_state(&t, &before);
	event("S-1", 400, "{\"type\": \"reschedule\", \"at\": \"2024-02-19T09:30:00+07:00\", "
			  "\"due_at\": \"2024-02-22T10:00:00+07:00\", \"apology\": \"Mẫu 04\"}");
	api_t_expect_error(&t, 400, "invalid_field", "due_at");
	event("S-1", 400, "{\"type\": \"reschedule\", \"at\": \"2024-02-19T09:30:00+07:00\", "
			  "\"due_at\": \"2024-02-21T10:00:00+07:00\", \"apology\": \"Mẫu 04\"}");
	api_t_expect_error(&t, 400, "invalid_field", "due_at");
	event("S-1", 400, "{\"type\": \"reschedule\", \"at\": \"2024-02-19T09:30:00+07:00\", "
			  "\"due_at\": \"2024-02-26T10:00:00+07:00\"}");
	api_t_expect_error(&t, 400, "missing_field", "apology");
	api_t_unchanged(&t, &before);

	j = event("S-1", 201, "{\"type\": \"complete\", \"at\": \"2024-02-20T09:00:00+07:00\"}");
	api_t_expect_str(j, "case.outcome", "late");
	api_t_expect_bool(j, "case.late", true);

	/* A paused case may be rescheduled and stays paused. */
	create("S-2", "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00", NULL);
	event("S-2", 201, "{\"type\": \"pause\", \"reason\": \"Yêu cầu bổ sung\", \"at\": "
			  "\"2024-02-15T09:00:00+07:00\"}");
	j = event("S-2", 201, "{\"type\": \"reschedule\", \"at\": \"2024-02-15T10:00:00+07:00\", "
			      "\"due_at\": \"2024-03-01T10:00:00+07:00\", \"apology\": \"Mẫu 04\"}");
	api_t_expect_str(j, "case.status", "paused");
	api_t_expect_bool(j, "case.late", true);
	finish();
}

/* The codes of the cases GET /api/v1/cases?overdue=true lists, comma-separated, in order. */
static void expect_list(const char *query, const char *want)
{
	char path[200], got[200] = "";

	snprintf(path, sizeof(path), "/api/v1/cases?%s", query);
	json_t *all = api_t_all(&t, path, "cases", API_BAOCAO);
	for (size_t i = 0; i < json_array_size(all); i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? "," : "",
			 api_str(json_array_get(all, i), "code"));
	cr_assert_str_eq(got, want, "%s lists \"%s\", expected \"%s\"", query, got, want);
}

/* The overdue list of the province, of a subtree and of a unit, whole and a case a page. */
static void expect_overdue_list(const char *want, const char *want_ttphvhcc)
{
	expect_list("overdue=true", want);
	expect_list("overdue=true&limit=1", want);
	expect_list("overdue=true&unit=vp", want);
	expect_list("overdue=true&unit=ttphvhcc&limit=1", want_ttphvhcc);
}

/* "It stays late in every figure": a case rescheduled to a date still ahead is listed by
 * overdue=true, counted overdue by /api/v1/status and by /metrics (the dashboard's count),
 * and not counted at risk; a case due ahead that was never late is none of these. */
Test(cases, a_rescheduled_case_stays_overdue_in_lists_and_counts)
{
	char received[40], due[40], later[40], more[120];
	struct err e = { 0 };

	api_format_instant(received, sizeof(received), (int64_t)time(NULL) - 20 * 86400);
	api_format_instant(due, sizeof(due), (int64_t)time(NULL) - 2 * 86400);
	api_format_instant(later, sizeof(later), (int64_t)time(NULL) + 30 * 86400);
	snprintf(more, sizeof(more), "\"due_at\": \"%s\"", due);
	create("R-LATE", "1.004873", "ttphvhcc", received, more);
	snprintf(more, sizeof(more), "\"due_at\": \"%s\"", later);
	create("R-AHEAD", "1.004873", "ttphvhcc", received, more);
	api_format_instant(due, sizeof(due), (int64_t)time(NULL) - 3 * 86400);
	snprintf(more, sizeof(more), "\"due_at\": \"%s\"", due);
	create("R-PAST", "1.004873", "kstt", received, more);
	expect_overdue_list("R-PAST,R-LATE", "R-LATE");
	event("R-LATE", 201, "{\"type\": \"reschedule\", \"due_at\": \"%s\", \"apology\": "
			     "\"Văn bản xin lỗi và hẹn lại ngày trả kết quả (Mẫu 04)\"}", later);

	/* Now due after now, at R-AHEAD's instant (before it: created first), after R-PAST. */
	expect_overdue_list("R-PAST,R-LATE", "R-LATE");
	expect_list("unit=ttphvhcc", "R-LATE,R-AHEAD");
	json_t *status = api_t_req(&t, "GET", "/api/v1/status", API_BAOCAO, NULL, 200);
	api_t_expect_int(status, "open.cases", 3);
	api_t_expect_int(status, "overdue.cases", 2);
	api_t_expect_int(status, "at_risk_cases", 0);
	cr_assert_eq(api_call(&t.f, "GET", "/metrics", NULL, NULL, NULL, 0, NULL, &t.r, &e), 0,
		     "%s", e.msg);
	cr_assert(strstr(t.r.resp.body,
			 "\ndunghan_overdue_items{kind=\"case\",unit=\"ttphvhcc\"} 1\n"),
		  "%s", t.r.resp.body);
	finish();
}

/* A case's events come in time order: a pause dated inside an earlier pause would count the
 * same time twice, a completion dated inside one judge the case at an instant it was paused.
 * Notes may be dated freely. Nothing changes on a refusal. */
Test(cases, events_are_not_dated_before_the_last_one)
{
	struct api_db_state before;

	create("O-1", "1.004222", "ttphvhcc", "2024-03-04T10:00:00+07:00", NULL);
	event("O-1", 201, "{\"type\": \"pause\", \"at\": \"2024-03-05T10:00:00+07:00\", "
			  "\"reason\": \"Bổ sung giấy tờ\"}");
	json_t *j = event("O-1", 201, "{\"type\": \"resume\", \"at\": "
				      "\"2024-03-08T09:00:00+07:00\"}");
	const char *due = api_str(j, "case.due_at");
	cr_assert_not_null(due);
	char *due_then = strdup(due);
	api_t_state(&t, &before);
	static const char *const earlier[] = {
		"{\"type\": \"pause\", \"at\": \"2024-03-06T10:00:00+07:00\", \"reason\": \"x\"}",
		"{\"type\": \"complete\", \"at\": \"2024-03-06T10:00:00+07:00\"}",
		"{\"type\": \"withdraw\", \"at\": \"2024-03-08T08:59:59+07:00\"}",
	};
	for (size_t i = 0; i < 3; i++) {
		event("O-1", 400, "%s", earlier[i]);
		api_t_expect_error(&t, 400, "invalid_field", "at");
		api_t_expect_str(t.r.json, "error.message",
				 "at: the event is before the case's last one "
				 "(2024-03-08T09:00:00+07:00)");
	}
	api_t_unchanged(&t, &before);
	event("O-1", 201, "{\"type\": \"note\", \"text\": \"Ghi chú muộn\", \"at\": "
			  "\"2024-03-06T10:00:00+07:00\"}");
	j = event("O-1", 201, "{\"type\": \"complete\", \"at\": \"2024-03-08T09:00:00+07:00\"}");
	api_t_expect_str(j, "case.due_at", due_then);
	free(due_then);
	/* A rating moves no clock: the portal's may come dated before the return. */
	event("O-1", 201, "{\"type\": \"return\", \"at\": \"2024-03-08T11:00:00+07:00\"}");
	j = event("O-1", 201, "{\"type\": \"rate\", \"rating\": 5, \"at\": "
			      "\"2024-03-08T10:00:00+07:00\"}");
	api_t_expect_int(j, "case.rating", 5);
	finish();
}

Test(cases, note_is_allowed_in_any_status)
{
	create("N-1", "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00", NULL);
	json_t *j = event("N-1", 201, "{\"type\": \"note\", \"text\": \"Đã gọi điện cho công dân\", "
				      "\"at\": \"2024-02-07T11:00:00+07:00\"}");
	api_t_expect_str(j, "case.status", "received");
	api_t_expect_str(j, "event.type", "note");
	api_t_expect_str(j, "event.data.text", "Đã gọi điện cho công dân");
	event("N-1", 400, "{\"type\": \"note\", \"at\": \"2024-02-07T11:00:00+07:00\"}");
	api_t_expect_error(&t, 400, "missing_field", "text");

	event("N-1", 201, "{\"type\": \"complete\", \"at\": \"2024-02-16T09:00:00+07:00\"}");
	event("N-1", 201, "{\"type\": \"return\", \"at\": \"2024-02-16T10:00:00+07:00\"}");
	j = event("N-1", 201, "{\"type\": \"note\", \"text\": \"Công dân đã nhận kết quả\", \"at\": "
			      "\"2024-02-16T11:00:00+07:00\"}");
	api_t_expect_str(j, "case.status", "returned");
	api_t_expect_str(j, "case.outcome", "early");

	create("N-2", "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00", NULL);
	event("N-2", 201, "{\"type\": \"withdraw\", \"at\": \"2024-02-08T09:00:00+07:00\"}");
	j = event("N-2", 201, "{\"type\": \"note\", \"text\": \"Lưu hồ sơ\", \"at\": "
			      "\"2024-02-08T10:00:00+07:00\"}");
	api_t_expect_str(j, "case.status", "withdrawn");
	finish();
}

Test(cases, extend_grants_the_legal_maximum)
{
	/* 1.004873: days 3, extended_days 23. Received Wed 7/2 10:00, due 19/2 10:00. 23 working
	 * days from 7/2 10:00: 15, 16, 19-23, 26-29/2, 1/3, 4-8/3, 11-15/3 (22), Mon 18/3 (23)
	 * -> 2024-03-18T10:00. */
	create("X-1", "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00", NULL);
	api_t_expect_bool(get_case("X-1"), "extended", false);
	event("X-1", 400, "{\"type\": \"extend\", \"at\": \"2024-02-15T09:00:00+07:00\"}");
	api_t_expect_error(&t, 400, "missing_field", "reason");
	json_t *j = event("X-1", 201, "{\"type\": \"extend\", \"at\": \"2024-02-15T09:00:00+07:00\", "
				      "\"reason\": \"Cần xác minh tại nơi cư trú trước đây\"}");
	api_t_expect_str(j, "case.due_at", "2024-03-18T10:00:00+07:00");
	api_t_expect_bool(j, "case.extended", true);
	api_t_expect_bool(j, "case.late", false);
	api_t_expect_str(j, "case.status", "received");
	api_t_expect_str(j, "event.due_at", "2024-03-18T10:00:00+07:00");
	api_t_expect_int(j, "case.version", 2);

	/* Once per case. */
	struct api_db_state before;
	api_t_state(&t, &before);
	event("X-1", 409, "{\"type\": \"extend\", \"at\": \"2024-02-16T09:00:00+07:00\", "
			  "\"reason\": \"Lần hai\"}");
	api_t_expect_error(&t, 409, "illegal_transition", NULL);
	api_t_unchanged(&t, &before);
	/* Completed on the extended due date: on time, not late. */
	j = event("X-1", 201, "{\"type\": \"complete\", \"at\": \"2024-03-18T09:00:00+07:00\"}");
	api_t_expect_str(j, "case.outcome", "on_time");
	api_t_expect_bool(j, "case.late", false);

	/* Only before due_at; only for procedures with extended_days; not when paused. */
	create("X-2", "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00", NULL);
	create("X-3", "1.004222", "ttphvhcc", "2024-02-07T14:00:00+07:00", NULL);
	create("X-4", "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00", NULL);
	event("X-4", 201, "{\"type\": \"pause\", \"reason\": \"Bổ sung\", \"at\": "
			  "\"2024-02-15T09:00:00+07:00\"}");
	api_t_state(&t, &before);
	event("X-2", 409, "{\"type\": \"extend\", \"at\": \"2024-02-19T10:00:01+07:00\", "
			  "\"reason\": \"Quá hạn\"}");
	api_t_expect_error(&t, 409, "illegal_transition", NULL);
	event("X-3", 409, "{\"type\": \"extend\", \"at\": \"2024-02-15T09:00:00+07:00\", "
			  "\"reason\": \"Không có thời hạn gia hạn\"}");
	api_t_expect_error(&t, 409, "illegal_transition", NULL);
	event("X-4", 409, "{\"type\": \"extend\", \"at\": \"2024-02-15T10:00:00+07:00\", "
			  "\"reason\": \"Đang tạm dừng\"}");
	api_t_expect_error(&t, 409, "illegal_transition", NULL);
	api_t_unchanged(&t, &before);

	/* Paused time is still excluded: X-4 paused 15/2 09:00, resumed 16/2 14:00 (11.5 office
	 * hours: 15/2 09:00-11:30 2.5h + 13:00-17:00 4h, 16/2 07:30-11:30 4h + 13:00-14:00 1h);
	 * extended on 20/2: 18/3 10:00 + 11.5h = 18/3 10:00-11:30 1.5h + 13:00-17:00 4h, 19/3
	 * 07:30-11:30 4h + 13:00-15:00 2h -> 2024-03-19T15:00. */
	event("X-4", 201, "{\"type\": \"resume\", \"at\": \"2024-02-16T14:00:00+07:00\"}");
	j = event("X-4", 201, "{\"type\": \"extend\", \"at\": \"2024-02-20T09:00:00+07:00\", "
			      "\"reason\": \"Cần xác minh\"}");
	api_t_expect_str(j, "case.due_at", "2024-03-19T15:00:00+07:00");
	api_t_expect_str(j, "case.status", "in_progress");
	finish();
}

Test(cases, code_pattern_when_set)
{
	api_t_teardown(&t);
	api_t_start(&t, &(struct api_options){
				.extra = "cases: { code_pattern = \"^[0-9A-Z]{3}\\\\.[0-9A-Z]{2}"
					 "\\\\.[0-9A-Z]{2}\\\\.H[0-9]{2}-[0-9]{6}-[0-9]{4}$\"; };\n" });
	create("000.00.21.H19-240207-0001", "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00",
	       NULL);
	struct api_db_state before;
	api_t_state(&t, &before);
	api_t_req(&t, "POST", "/api/v1/cases", API_MOTCUA,
		  "{\"code\": \"000.00.21.H19-240207-01\", \"procedure\": \"1.004873\", "
		  "\"unit\": \"ttphvhcc\", \"received_at\": \"2024-02-07T10:00:00+07:00\"}",
		  400);
	api_t_expect_error(&t, 400, "invalid_field", "code");
	api_t_req(&t, "POST", "/api/v1/cases", API_MOTCUA,
		  "{\"code\": \"A-1\", \"procedure\": \"1.004873\", \"unit\": \"ttphvhcc\"}", 400);
	api_t_expect_error(&t, 400, "invalid_field", "code");
	api_t_unchanged(&t, &before);
	finish();
}

/* Bodies of every state event, valid in themselves, at 20/3/2024 (after every setup event). */
static const char *const state_events[] = {
	"{\"type\": \"assign\", \"handler\": \"tuan.hm\", \"at\": \"2024-03-20T09:00:00+07:00\"}",
	"{\"type\": \"transfer\", \"unit\": \"hctc\", \"at\": \"2024-03-20T09:00:00+07:00\"}",
	"{\"type\": \"pause\", \"reason\": \"Bổ sung\", \"at\": \"2024-03-20T09:00:00+07:00\"}",
	"{\"type\": \"resume\", \"at\": \"2024-03-20T09:00:00+07:00\"}",
	"{\"type\": \"complete\", \"at\": \"2024-03-20T09:00:00+07:00\"}",
	"{\"type\": \"return\", \"at\": \"2024-03-20T09:00:00+07:00\"}",
	"{\"type\": \"withdraw\", \"reason\": \"Rút\", \"at\": \"2024-03-20T09:00:00+07:00\"}",
	"{\"type\": \"reject\", \"reason\": \"Từ chối\", \"at\": \"2024-03-20T09:00:00+07:00\"}",
	("{\"type\": \"reschedule\", \"due_at\": \"2030-01-01T10:00:00+07:00\", \"apology\": "
	 "\"Mẫu 04\", \"at\": \"2024-03-20T09:00:00+07:00\"}"),
};
enum { ASSIGN, TRANSFER, PAUSE, RESUME, COMPLETE, RETURN, WITHDRAW, REJECT, RESCHEDULE, NSTATE };

/* Expects every event of illegal (indexes into state_events, -1-ended) to be 409
 * illegal_transition on code, leaving the database as it was. */
static void expect_illegal(const char *code, const int illegal[])
{
	struct api_db_state before;
	char path[200];

	snprintf(path, sizeof(path), "/api/v1/cases/%s/events", code);
	api_t_state(&t, &before);
	for (size_t i = 0; illegal[i] >= 0; i++) {
		api_t_req(&t, "POST", path, API_MOTCUA, state_events[illegal[i]], 409);
		api_t_expect_error(&t, 409, "illegal_transition", NULL);
	}
	api_t_unchanged(&t, &before);
}

Test(cases, illegal_transitions_are_409)
{
	create("I-received", "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00", NULL);
	expect_illegal("I-received", (const int[]){ RESUME, RETURN, -1 });

	create("I-progress", "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00", NULL);
	event("I-progress", 201, "{\"type\": \"assign\", \"handler\": \"tuan.hm\", \"at\": "
				 "\"2024-02-07T11:00:00+07:00\"}");
	expect_illegal("I-progress", (const int[]){ RESUME, RETURN, -1 });

	create("I-paused", "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00", NULL);
	event("I-paused", 201, "{\"type\": \"pause\", \"reason\": \"Bổ sung\", \"at\": "
			       "\"2024-02-07T11:00:00+07:00\"}");
	expect_illegal("I-paused", (const int[]){ PAUSE, COMPLETE, RETURN, -1 });

	create("I-completed", "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00", NULL);
	event("I-completed", 201, "{\"type\": \"complete\", \"at\": \"2024-02-07T11:00:00+07:00\"}");
	expect_illegal("I-completed", (const int[]){ ASSIGN, TRANSFER, PAUSE, RESUME, COMPLETE,
						     WITHDRAW, REJECT, RESCHEDULE, -1 });

	create("I-returned", "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00", NULL);
	event("I-returned", 201, "{\"type\": \"complete\", \"at\": \"2024-02-07T11:00:00+07:00\"}");
	event("I-returned", 201, "{\"type\": \"return\", \"at\": \"2024-02-07T13:00:00+07:00\"}");
	expect_illegal("I-returned", (const int[]){ ASSIGN, TRANSFER, PAUSE, RESUME, COMPLETE,
						    RETURN, WITHDRAW, REJECT, RESCHEDULE, -1 });

	create("I-withdrawn", "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00", NULL);
	event("I-withdrawn", 201, "{\"type\": \"withdraw\", \"at\": \"2024-02-07T11:00:00+07:00\"}");
	expect_illegal("I-withdrawn", (const int[]){ ASSIGN, TRANSFER, PAUSE, RESUME, COMPLETE,
						     RETURN, WITHDRAW, REJECT, RESCHEDULE, -1 });

	create("I-rejected", "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00", NULL);
	event("I-rejected", 201, "{\"type\": \"reject\", \"reason\": \"Không đủ điều kiện\", "
				 "\"at\": \"2024-02-07T11:00:00+07:00\"}");
	expect_illegal("I-rejected", (const int[]){ ASSIGN, TRANSFER, PAUSE, RESUME, COMPLETE,
						    RETURN, WITHDRAW, REJECT, RESCHEDULE, -1 });

	/* The versions did not move. */
	api_t_expect_int(get_case("I-returned"), "version", 3);
	api_t_expect_int(get_case("I-paused"), "version", 2);
	finish();
}

Test(cases, expected_version_is_checked)
{
	struct api_db_state before;

	create("V-1", "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00", NULL);
	api_t_state(&t, &before);
	event("V-1", 409, "{\"type\": \"assign\", \"handler\": \"tuan.hm\", \"expected_version\": 2, "
			  "\"at\": \"2024-02-07T11:00:00+07:00\"}");
	api_t_expect_error(&t, 409, "version_mismatch", NULL);
	api_t_unchanged(&t, &before);
	json_t *j = event("V-1", 201, "{\"type\": \"assign\", \"handler\": \"tuan.hm\", "
				      "\"expected_version\": 1, \"at\": \"2024-02-07T11:00:00+07:00\"}");
	api_t_expect_int(j, "case.version", 2);
	api_t_state(&t, &before);
	event("V-1", 409, "{\"type\": \"pause\", \"reason\": \"Bổ sung\", \"expected_version\": 1, "
			  "\"at\": \"2024-02-07T13:00:00+07:00\"}");
	api_t_expect_error(&t, 409, "version_mismatch", NULL);
	api_t_unchanged(&t, &before);
	j = event("V-1", 201, "{\"type\": \"pause\", \"reason\": \"Bổ sung\", \"expected_version\": 2, "
			      "\"at\": \"2024-02-07T13:00:00+07:00\"}");
	api_t_expect_int(j, "case.version", 3);
	finish();
}

Test(cases, event_at_is_bounded)
{
	struct api_db_state before;
	char soon[40], later[40];

	create("W-1", "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00", NULL);
	api_t_state(&t, &before);
	/* Before received_at. */
	event("W-1", 400, "{\"type\": \"assign\", \"handler\": \"tuan.hm\", \"at\": "
			  "\"2024-02-07T09:59:59+07:00\"}");
	api_t_expect_error(&t, 400, "invalid_field", "at");
	/* More than 5 minutes in the future. */
	api_instant_from_now(later, sizeof(later), 600);
	event("W-1", 400, "{\"type\": \"assign\", \"handler\": \"tuan.hm\", \"at\": \"%s\"}", later);
	api_t_expect_error(&t, 400, "invalid_field", "at");
	api_t_unchanged(&t, &before);
	/* At received_at, and a minute ahead of now, are fine; no `at` means now. */
	event("W-1", 201, "{\"type\": \"note\", \"text\": \"a\", \"at\": "
			  "\"2024-02-07T10:00:00+07:00\"}");
	api_instant_from_now(soon, sizeof(soon), 60);
	event("W-1", 201, "{\"type\": \"note\", \"text\": \"b\", \"at\": \"%s\"}", soon);
	json_t *j = event("W-1", 201, "{\"type\": \"assign\", \"handler\": \"tuan.hm\"}");
	int64_t at = api_parse_instant(api_str(j, "event.at"));
	api_instant_from_now(soon, sizeof(soon), 0);
	int64_t now = api_parse_instant(soon);
	cr_assert(at >= now - 60 && at <= now + 1, "default at %s is not now (%s)",
		  api_str(j, "event.at"), soon);
	finish();
}

Test(cases, events_list_the_history)
{
	/* Created by motcua, assigned by vanthu, paused by the admin token (actor quantri),
	 * resumed (restart: due 21/2 14:00, see pause_and_resume_restart), completed, returned. */
	create("H-1", "1.004873", "xa-tu-phap-tan-phu", "2024-02-07T10:00:00+07:00", NULL);
	event_as(API_VANTHU, "H-1", 201, "{\"type\": \"assign\", \"handler\": \"binh.lt\", \"at\": "
					 "\"2024-02-07T11:00:00+07:00\"}");
	event_as(API_ADMIN, "H-1", 201, "{\"type\": \"pause\", \"at\": "
					"\"2024-02-15T09:00:00+07:00\", \"reason\": \"Bổ sung\"}");
	event("H-1", 201, "{\"type\": \"resume\", \"at\": \"2024-02-16T14:00:00+07:00\"}");
	event("H-1", 201, "{\"type\": \"complete\", \"at\": \"2024-02-21T15:00:00+07:00\"}");
	event("H-1", 201, "{\"type\": \"return\", \"at\": \"2024-02-22T08:00:00+07:00\"}");

	json_t *j = api_t_req(&t, "GET", "/api/v1/cases/H-1/events", API_BAOCAO, NULL, 200);
	json_t *events = json_object_get(j, "events");
	static const struct {
		const char *type, *actor, *at, *due_at;
	} want[] = {
		{ "create", "motcua", "2024-02-07T10:00:00+07:00", "2024-02-19T10:00:00+07:00" },
		{ "assign", "vanthu", "2024-02-07T11:00:00+07:00", "2024-02-19T10:00:00+07:00" },
		{ "pause", "quantri", "2024-02-15T09:00:00+07:00", NULL /* not stated while paused */ },
		{ "resume", "motcua", "2024-02-16T14:00:00+07:00", "2024-02-21T14:00:00+07:00" },
		{ "complete", "motcua", "2024-02-21T15:00:00+07:00", "2024-02-21T14:00:00+07:00" },
		{ "return", "motcua", "2024-02-22T08:00:00+07:00", "2024-02-21T14:00:00+07:00" },
	};
	cr_assert_eq(json_array_size(events), 6, "%s", t.r.resp.body);
	int64_t last_id = INT64_MIN;
	for (size_t i = 0; i < 6; i++) {
		json_t *e = json_array_get(events, i);
		api_t_expect_str(e, "type", want[i].type);
		api_t_expect_str(e, "actor", want[i].actor);
		if (i > 0) /* create's at is received_at or the moment of creation */
			api_t_expect_str(e, "at", want[i].at);
		if (want[i].due_at)
			api_t_expect_str(e, "due_at", want[i].due_at);
		cr_assert(json_is_object(json_object_get(e, "data")), "events[%zu].data", i);
		int64_t id = api_int(e, "id");
		cr_assert_gt(id, last_id, "events[%zu].id %lld not increasing", i, (long long)id);
		last_id = id;
	}
	api_t_expect_str(json_array_get(events, 1), "data.handler", "binh.lt");
	api_t_expect_str(json_array_get(events, 2), "data.reason", "Bổ sung");
	/* Completed 21/2 15:00, an hour after the resumed due_at: late. */
	api_t_expect_str(get_case("H-1"), "outcome", "late");
	api_t_req(&t, "GET", "/api/v1/cases/H-404/events", API_BAOCAO, NULL, 404);
	api_t_expect_error(&t, 404, "not_found", NULL);
	finish();
}

/* ---- batch ------------------------------------------------------------------------------- */

static json_t *batch(const char *body, size_t len, int status)
{
	return api_t_call(&t, "POST", "/api/v1/cases:batch", API_MOTCUA, "application/x-ndjson",
			  body, len, status);
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

Test(cases, batch_answers_per_line)
{
	static const char first[] =
		"{\"code\":\"000.00.21.H19-240207-0001\",\"procedure\":\"1.004873\",\"unit\":\"xa-tu-phap-tan-phu\",\"received_at\":\"2024-02-07T10:00:00+07:00\"}\n"
		"{\"code\":\"000.00.21.H19-240207-0002\",\"procedure\":\"1.004222\",\"unit\":\"ttphvhcc\",\"received_at\":\"2024-02-07T14:00:00+07:00\"}\n"
		"{\"code\":\"000.00.21.H19-240207-0003\",\"procedure\":\"1.004222\",\"unit\":\"phong-ma\",\"received_at\":\"2024-02-07T14:00:00+07:00\"}\n";
	json_t *j = batch(first, strlen(first), 200);
	api_t_expect_int(j, "created", 2);
	api_t_expect_int(j, "existing", 0);
	api_t_expect_int(j, "failed", 1);
	cr_assert_eq(json_array_size(json_object_get(j, "results")), 3);
	expect_line(j, 0, 201, "000.00.21.H19-240207-0001");
	expect_line(j, 1, 201, "000.00.21.H19-240207-0002");
	expect_line(j, 2, 422, "unknown_reference");
	api_t_expect_str(api_get(j, "results.2"), "error.field", "unit");

	api_t_expect_str(get_case("000.00.21.H19-240207-0001"), "due_at",
			 "2024-02-19T10:00:00+07:00");
	api_t_expect_str(get_case("000.00.21.H19-240207-0002"), "due_at",
			 "2024-02-23T14:00:00+07:00");
	api_t_req(&t, "GET", "/api/v1/cases/000.00.21.H19-240207-0003", API_BAOCAO, NULL, 404);

	/* The same line again (existing), a changed one (conflict), broken JSON, a new one, an
	 * unknown field; no newline after the last line. */
	static const char second[] =
		"{\"code\":\"000.00.21.H19-240207-0001\",\"procedure\":\"1.004873\",\"unit\":\"xa-tu-phap-tan-phu\",\"received_at\":\"2024-02-07T10:00:00+07:00\"}\n"
		"{\"code\":\"000.00.21.H19-240207-0002\",\"procedure\":\"1.004222\",\"unit\":\"hctc\",\"received_at\":\"2024-02-07T14:00:00+07:00\"}\n"
		"{\"code\":\"000.00.21.H19-240207-0004\",\n"
		"{\"code\":\"000.00.21.H19-240207-0005\",\"procedure\":\"2.000815\",\"unit\":\"kstt\",\"received_at\":\"2024-03-08T16:00:00+07:00\"}\n"
		"{\"code\":\"000.00.21.H19-240207-0006\",\"procedure\":\"2.000815\",\"unit\":\"kstt\",\"colour\":\"red\"}";
	j = batch(second, strlen(second), 200);
	api_t_expect_int(j, "created", 1);
	api_t_expect_int(j, "existing", 1);
	api_t_expect_int(j, "failed", 3);
	cr_assert_eq(json_array_size(json_object_get(j, "results")), 5, "%s", t.r.resp.body);
	expect_line(j, 0, 200, "000.00.21.H19-240207-0001");
	expect_line(j, 1, 409, "conflict");
	expect_line(j, 2, 400, "bad_json");
	expect_line(j, 3, 201, "000.00.21.H19-240207-0005");
	expect_line(j, 4, 400, "unknown_field");
	api_t_expect_str(get_case("000.00.21.H19-240207-0005"), "due_at",
			 "2024-03-11T10:30:00+07:00");
	api_t_expect_str(get_case("000.00.21.H19-240207-0002"), "unit", "ttphvhcc");

	/* The same code twice in one batch: the second line finds the first; a third line with
	 * the same code and other data conflicts. */
	static const char dup[] =
		"{\"code\":\"DUP-1\",\"procedure\":\"1.004873\",\"unit\":\"kstt\",\"received_at\":\"2024-02-07T10:00:00+07:00\"}\n"
		"{\"code\":\"DUP-1\",\"procedure\":\"1.004873\",\"unit\":\"kstt\",\"received_at\":\"2024-02-07T10:00:00+07:00\"}\n"
		"{\"code\":\"DUP-1\",\"procedure\":\"1.004873\",\"unit\":\"hctc\",\"received_at\":\"2024-02-07T10:00:00+07:00\"}\n";
	j = batch(dup, strlen(dup), 200);
	api_t_expect_int(j, "created", 1);
	api_t_expect_int(j, "existing", 1);
	api_t_expect_int(j, "failed", 1);
	expect_line(j, 0, 201, "DUP-1");
	expect_line(j, 1, 200, "DUP-1");
	expect_line(j, 2, 409, "conflict");
	api_t_expect_str(get_case("DUP-1"), "unit", "kstt");

	/* Empty lines are skipped: two cases, two results. */
	static const char third[] =
		"{\"code\":\"E-1\",\"procedure\":\"1.004873\",\"unit\":\"kstt\",\"received_at\":\"2024-02-07T10:00:00+07:00\"}\n"
		"\n"
		"{\"code\":\"E-2\",\"procedure\":\"1.004873\",\"unit\":\"kstt\",\"received_at\":\"2024-02-07T10:00:00+07:00\"}\n\n";
	j = batch(third, strlen(third), 200);
	api_t_expect_int(j, "created", 2);
	api_t_expect_int(j, "failed", 0);
	cr_assert_eq(json_array_size(json_object_get(j, "results")), 2, "%s", t.r.resp.body);
	api_t_expect_str(j, "results.1.code", "E-2");
	finish();
}

/* n lines of new cases B-<prefix>-<i>. */
static char *batch_lines(const char *prefix, size_t n, size_t *len)
{
	size_t cap = n * 200 + 1, pos = 0;
	char *body = malloc(cap);

	cr_assert_not_null(body);
	for (size_t i = 0; i < n; i++)
		pos += (size_t)snprintf(body + pos, cap - pos,
					"{\"code\":\"B-%s-%05zu\",\"procedure\":\"1.004873\",\"unit\":"
					"\"ttphvhcc\",\"received_at\":\"2024-02-07T10:00:00+07:00\"}\n",
					prefix, i);
	*len = pos;
	return body;
}

Test(cases, batch_of_10000_lines_is_the_limit)
{
	struct api_db_state before;
	size_t len;
	char *body;

	/* Beyond 10 000 lines: 413 too_many_lines, nothing stored. */
	body = batch_lines("over", 10001, &len);
	api_t_state(&t, &before);
	batch(body, len, 413);
	free(body);
	api_t_expect_error(&t, 413, "too_many_lines", NULL);
	api_t_unchanged(&t, &before);

	body = batch_lines("max", 10000, &len);
	json_t *j = batch(body, len, 200);
	free(body);
	api_t_expect_int(j, "created", 10000);
	api_t_expect_int(j, "existing", 0);
	api_t_expect_int(j, "failed", 0);
	cr_assert_eq(json_array_size(json_object_get(j, "results")), 10000);
	expect_line(j, 9999, 201, "B-max-09999");
	api_t_expect_str(get_case("B-max-04321"), "due_at", "2024-02-19T10:00:00+07:00");
	finish();
}

/* ---- tokens ------------------------------------------------------------------------------ */

Test(cases, scopes_and_actors)
{
	/* read may GET, not POST; admin may do everything and is recorded by its name. */
	api_t_reqf(&t, "POST", "/api/v1/cases", API_ADMIN, 201,
		   "{\"code\": \"Q-1\", \"procedure\": \"1.004873\", \"unit\": \"ttphvhcc\", "
		   "\"received_at\": \"2024-02-07T10:00:00+07:00\"}");
	api_t_req(&t, "GET", "/api/v1/cases/Q-1", API_ADMIN, NULL, 200);
	api_t_req(&t, "GET", "/api/v1/cases/Q-1", API_VANTHU, NULL, 200);
	api_t_req(&t, "GET", "/api/v1/cases/Q-1", API_MOTCUA, NULL, 200);
	json_t *j = api_t_req(&t, "GET", "/api/v1/cases/Q-1/events", API_BAOCAO, NULL, 200);
	api_t_expect_str(j, "events.0.type", "create");
	api_t_expect_str(j, "events.0.actor", "quantri");
	api_t_req(&t, "POST", "/api/v1/cases/Q-1/events", API_BAOCAO,
		  "{\"type\": \"note\", \"text\": \"x\"}", 403);
	api_t_expect_error(&t, 403, "forbidden", NULL);
	/* /healthz needs no token. */
	j = api_t_req(&t, "GET", "/healthz", NULL, NULL, 200);
	api_t_expect_str(j, "status", "ok");
	finish();
}

/* ---- simultaneous requests (one group commit) ---------------------------------------------- */

#define FAN 24
static const char *const post_json[] = { "Authorization: Bearer " API_MOTCUA,
					 "Content-Type: application/json", NULL };

/* Counts the replies with each status; expects all to be among the given ones. */
static void count_statuses(struct api_reply *r, size_t n, int s1, size_t *n1, int s2, size_t *n2)
{
	*n1 = *n2 = 0;
	for (size_t i = 0; i < n; i++) {
		if (r[i].status == s1)
			(*n1)++;
		else if (r[i].status == s2)
			(*n2)++;
		else
			cr_assert_fail("reply %zu: %d %s", i, r[i].status, r[i].resp.body);
	}
}

Test(cases, simultaneous_creates_of_one_code)
{
	static const char same[] = "{\"code\": \"SIM-1\", \"procedure\": \"1.004873\", \"unit\": "
				   "\"ttphvhcc\", \"received_at\": \"2024-02-07T10:00:00+07:00\"}";
	const char *bodies[FAN];
	struct api_reply r[FAN] = { 0 };
	struct err e = { 0 };
	size_t created, existing;

	/* The same body FAN times at once: one 201, the others 200 with the same case. */
	for (size_t i = 0; i < FAN; i++)
		bodies[i] = same;
	cr_assert_eq(api_fan_out(&t.f, FAN, "POST", "/api/v1/cases", post_json, bodies, r, &e), 0,
		     "%s", e.msg);
	count_statuses(r, FAN, 201, &created, 200, &existing);
	cr_assert_eq(created, 1, "%zu answers 201 for one code", created);
	for (size_t i = 0; i < FAN; i++) {
		api_t_expect_int(r[i].json, "version", 1);
		api_reply_free(&r[i]);
	}

	/* FAN different bodies for one new code at once: one 201, the others 409 conflict. */
	char *owned[FAN];
	for (size_t i = 0; i < FAN; i++) {
		cr_assert_geq(asprintf(&owned[i],
				       "{\"code\": \"SIM-2\", \"procedure\": \"1.004873\", \"unit\": "
				       "\"ttphvhcc\", \"applicant\": \"Người %zu\", \"received_at\": "
				       "\"2024-02-07T10:00:00+07:00\"}",
				       i),
			      0);
		bodies[i] = owned[i];
	}
	cr_assert_eq(api_fan_out(&t.f, FAN, "POST", "/api/v1/cases", post_json, bodies, r, &e), 0,
		     "%s", e.msg);
	size_t conflicts;
	count_statuses(r, FAN, 201, &created, 409, &conflicts);
	cr_assert_eq(created, 1, "%zu answers 201 for one code", created);
	const char *winner = NULL;
	for (size_t i = 0; i < FAN; i++) {
		if (r[i].status == 201)
			winner = api_str(r[i].json, "applicant");
		else
			api_t_expect_str(r[i].json, "error.code", "conflict");
	}
	api_t_expect_str(get_case("SIM-2"), "applicant", winner);
	struct err de = { 0 };
	int64_t rows = api_db_int(&t.f, "SELECT count(*) FROM cases WHERE code LIKE 'SIM-%'", &de);
	cr_assert_eq(rows, 2, "cases rows: %lld %s", (long long)rows, de.msg);
	for (size_t i = 0; i < FAN; i++) {
		api_reply_free(&r[i]);
		free(owned[i]);
	}
	finish();
}

Test(cases, simultaneous_events_with_expected_version)
{
	const char *bodies[FAN];
	char *owned[FAN];
	struct api_reply r[FAN] = { 0 };
	struct err e = { 0 };
	size_t ok, stale;

	create("SIM-3", "1.004873", "ttphvhcc", "2024-02-07T10:00:00+07:00", NULL);
	/* FAN assigns, each expecting version 1: exactly one wins. */
	for (size_t i = 0; i < FAN; i++) {
		cr_assert_geq(asprintf(&owned[i],
				       "{\"type\": \"assign\", \"handler\": \"%s\", \"expected_version\": "
				       "1, \"at\": \"2024-02-07T11:00:00+07:00\"}",
				       i % 2 ? "tuan.hm" : "dung.lq"),
			      0);
		bodies[i] = owned[i];
	}
	cr_assert_eq(api_fan_out(&t.f, FAN, "POST", "/api/v1/cases/SIM-3/events", post_json, bodies,
				 r, &e),
		     0, "%s", e.msg);
	count_statuses(r, FAN, 201, &ok, 409, &stale);
	cr_assert_eq(ok, 1, "%zu events accepted with expected_version 1", ok);
	for (size_t i = 0; i < FAN; i++) {
		if (r[i].status == 409)
			api_t_expect_str(r[i].json, "error.code", "version_mismatch");
		api_reply_free(&r[i]);
		free(owned[i]);
	}
	api_t_expect_int(get_case("SIM-3"), "version", 2);

	/* FAN notes without expected_version: all accepted, versions 3..FAN+2, each once. */
	for (size_t i = 0; i < FAN; i++)
		bodies[i] = "{\"type\": \"note\", \"text\": \"đồng thời\", \"at\": "
			    "\"2024-02-07T12:00:00+07:00\"}";
	cr_assert_eq(api_fan_out(&t.f, FAN, "POST", "/api/v1/cases/SIM-3/events", post_json, bodies,
				 r, &e),
		     0, "%s", e.msg);
	json_t *events = api_t_keep(&t, json_incref(api_t_req(&t, "GET", "/api/v1/cases/SIM-3/events",
							      API_BAOCAO, NULL, 200)));
	cr_assert_eq(json_array_size(json_object_get(events, "events")), 2 + FAN);
	for (size_t i = 0; i < FAN; i++) {
		cr_assert_eq(r[i].status, 201, "note %zu: %d %s", i, r[i].status, r[i].resp.body);
		api_reply_free(&r[i]);
	}
	finish();
}
