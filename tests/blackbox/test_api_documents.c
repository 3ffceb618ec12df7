/* Incoming documents and assignments against the real dunghand (docs/api.md, "Incoming
 * documents" and "Assignments"; the `documents` settings of docs/configuration.md): incoming
 * numbers per book and year, due dates from urgency in working time, events and illegal ones,
 * assignments from a document, from a direction and split into sub-assignments, children
 * counts, and the lists. Instants were worked out by hand on the example calendar (07:30-11:30,
 * 13:00-17:00, Monday to Friday, the official 2024-2026 schedules). */
#include <criterion/criterion.h>
#include <stdarg.h>
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

TestSuite(documents, .init = setup, .fini = teardown, .timeout = 120);

static void finish(void)
{
	api_t_stop(&t);
}

/* POSTs the JSON body (printf format) to path with vanthu's token, expects status, returns the
 * answer (kept until teardown). */
static json_t *post(const char *path, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static json_t *post(const char *path, int status, const char *fmt, ...)
{
	va_list ap;
	char *body;

	va_start(ap, fmt);
	cr_assert_geq(vasprintf(&body, fmt, ap), 0);
	va_end(ap);
	json_t *j = api_t_req(&t, "POST", path, API_VANTHU, body, status);
	free(body);
	return api_t_keep(&t, json_incref(j));
}

static json_t *get(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_t *get(const char *fmt, ...)
{
	va_list ap;
	char *path;

	va_start(ap, fmt);
	cr_assert_geq(vasprintf(&path, fmt, ap), 0);
	va_end(ap);
	json_t *j = api_t_req(&t, "GET", path, API_BAOCAO, NULL, 200);
	free(path);
	return api_t_keep(&t, json_incref(j));
}

/* Creates a document; returns it. */
static json_t *document(const char *members)
{
	json_t *d = post("/api/v1/documents", 201, "{%s}", members);
	cr_assert(json_is_integer(json_object_get(d, "id")), "no id: %s", json_dumps(d, 0));
	return d;
}

/* Expects the array `key` of page to hold items whose `field` (a string member, or the id when
 * field is NULL: then want holds decimal ids) are want, in order (NULL-ended). */
static void expect_items(json_t *page, const char *key, const char *field, const char *const want[])
{
	json_t *items = json_object_get(page, key);
	size_t n = 0;
	char buf[32];

	while (want[n])
		n++;
	cr_assert(json_is_array(items), "no %s array: %s", key, json_dumps(page, JSON_COMPACT));
	cr_assert_eq(json_array_size(items), n, "%zu %s, expected %zu: %s", json_array_size(items),
		     key, n, json_dumps(page, JSON_COMPACT));
	for (size_t i = 0; i < n; i++) {
		json_t *it = json_array_get(items, i);
		const char *got = field ? api_str(it, field) : NULL;
		if (!field) {
			snprintf(buf, sizeof(buf), "%lld", (long long)api_int(it, "id"));
			got = buf;
		}
		cr_assert(got && !strcmp(got, want[i]), "%s[%zu].%s is %s, expected %s", key, i,
			  field ? field : "id", got ? got : "(none)", want[i]);
	}
}

#define SUMMARY_506 "V/v khẩn trương triển khai các nhiệm vụ cải cách hành chính năm 2024"
#define DOC_506                                                                                  \
	"\"symbol\": \"506/SNV-TT\", \"doc_date\": \"2024-02-20\", \"issuer\": \"Sở Nội vụ\", "  \
	"\"type\": \"Công văn\", \"summary\": \"" SUMMARY_506 "\", \"urgency\": \"urgent\", "   \
	"\"received_at\": \"2024-02-21T08:00:00+07:00\", \"lead_unit\": \"hctc\""

/* ---- documents --------------------------------------------------------------------------- */

Test(documents, create_the_spec_example)
{
	struct api_db_state before, after;

	api_t_state(&t, &before);
	json_t *d = document(DOC_506);
	api_t_state(&t, &after);
	cr_assert_neq(before.hash, after.hash, "the 201 came before the commit");
	api_t_expect_str(d, "book", "den"); /* documents.default_book's default */
	api_t_expect_int(d, "incoming_no", 1);
	api_t_expect_str(d, "symbol", "506/SNV-TT");
	api_t_expect_str(d, "doc_date", "2024-02-20");
	api_t_expect_str(d, "issuer", "Sở Nội vụ");
	api_t_expect_str(d, "type", "Công văn");
	api_t_expect_str(d, "summary", SUMMARY_506);
	api_t_expect_str(d, "urgency", "urgent");
	api_t_expect_str(d, "confidentiality", "normal");
	api_t_expect_str(d, "received_at", "2024-02-21T08:00:00+07:00");
	/* urgent defaults to 3d: Wed 21/2 08:00 -> Thu 22 (1d), Fri 23 (2d), Mon 26/2 08:00. */
	api_t_expect_str(d, "due_at", "2024-02-26T08:00:00+07:00");
	api_t_expect_str(d, "lead_unit", "hctc");
	api_t_expect_str(d, "status", "registered");
	api_t_expect_int(d, "version", 1);
	cr_assert(api_parse_instant(api_str(d, "created_at")) != INT64_MIN);
	cr_assert(api_parse_instant(api_str(d, "updated_at")) != INT64_MIN);

	char path[64];
	snprintf(path, sizeof(path), "/api/v1/documents/%lld", (long long)api_int(d, "id"));
	json_t *got = api_t_req(&t, "GET", path, API_BAOCAO, NULL, 200);
	cr_assert(json_equal(got, d), "GET %s: %s\nvs %s", path, t.r.resp.body,
		  json_dumps(d, JSON_COMPACT));
	api_t_req(&t, "GET", "/api/v1/documents/999", API_BAOCAO, NULL, 404);
	api_t_expect_error(&t, 404, "not_found", NULL);

	/* Only summary is required; nullable fields answer null. */
	d = document("\"summary\": \"V/v báo cáo\", \"received_at\": \"2024-02-22T09:00:00+07:00\"");
	api_t_expect_str(d, "symbol", NULL);
	api_t_expect_str(d, "doc_date", NULL);
	api_t_expect_str(d, "issuer", NULL);
	api_t_expect_str(d, "type", NULL);
	api_t_expect_str(d, "lead_unit", NULL);
	api_t_expect_str(d, "urgency", "normal");
	api_t_expect_int(d, "incoming_no", 2);
	finish();
}

Test(documents, incoming_numbers_run_per_book_and_year)
{
	struct api_db_state before;

	api_t_expect_int(document("\"summary\": \"a\", \"received_at\": \"2024-02-21T08:00:00+07:00\""),
			 "incoming_no", 1);
	api_t_expect_int(document("\"summary\": \"b\", \"received_at\": \"2024-06-03T09:00:00+07:00\""),
			 "incoming_no", 2);
	api_t_expect_int(document("\"summary\": \"c\", \"received_at\": \"2025-01-02T09:00:00+07:00\""),
			 "incoming_no", 1);
	/* 17:30Z on 31/12/2024 is 00:30 on 1/1/2025 in the calendar's zone: the 2025 book. */
	json_t *d = document("\"summary\": \"d\", \"received_at\": \"2024-12-31T17:30:00Z\"");
	api_t_expect_int(d, "incoming_no", 2);
	api_t_expect_str(d, "received_at", "2025-01-01T00:30:00+07:00");
	/* Another book counts on its own. */
	d = document("\"summary\": \"e\", \"book\": \"mat\", \"received_at\": "
		     "\"2024-03-01T08:00:00+07:00\"");
	api_t_expect_str(d, "book", "mat");
	api_t_expect_int(d, "incoming_no", 1);

	/* A number already used in the book and year. */
	api_t_state(&t, &before);
	post("/api/v1/documents", 409, "{\"summary\": \"f\", \"incoming_no\": 2, \"received_at\": "
				       "\"2024-07-01T08:00:00+07:00\"}");
	api_t_expect_error(&t, 409, "conflict", NULL);
	post("/api/v1/documents", 409, "{\"summary\": \"f\", \"incoming_no\": 1, \"book\": \"mat\", "
				       "\"received_at\": \"2024-07-01T08:00:00+07:00\"}");
	api_t_expect_error(&t, 409, "conflict", NULL);
	api_t_unchanged(&t, &before);

	/* The same number in another book or year is free; a given number is kept, and the next
	 * one follows the highest. */
	api_t_expect_int(document("\"summary\": \"g\", \"incoming_no\": 2, \"book\": \"mat\", "
				  "\"received_at\": \"2024-07-01T08:00:00+07:00\""),
			 "incoming_no", 2);
	api_t_expect_int(document("\"summary\": \"h\", \"incoming_no\": 1, \"received_at\": "
				  "\"2026-01-05T08:00:00+07:00\""),
			 "incoming_no", 1);
	api_t_expect_int(document("\"summary\": \"i\", \"incoming_no\": 10, \"received_at\": "
				  "\"2024-07-02T08:00:00+07:00\""),
			 "incoming_no", 10);
	api_t_expect_int(document("\"summary\": \"j\", \"received_at\": \"2024-07-03T08:00:00+07:00\""),
			 "incoming_no", 11);
	finish();
}

struct urgency_row {
	const char *urgency, *due_at, *why;
};

/* All received Wednesday 21/2/2024 08:00. */
static void expect_urgency_due(const struct urgency_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char members[200];
		snprintf(members, sizeof(members),
			 "\"summary\": \"%s\", \"urgency\": \"%s\", \"received_at\": "
			 "\"2024-02-21T08:00:00+07:00\"",
			 rows[i].urgency, rows[i].urgency);
		json_t *d = document(members);
		const char *due = api_str(d, "due_at");
		cr_expect(due && !strcmp(due, rows[i].due_at), "%s (%s): due_at %s, expected %s",
			  rows[i].urgency, rows[i].why, due ? due : "(none)", rows[i].due_at);
	}
}

Test(documents, due_at_from_urgency_defaults)
{
	/* docs/configuration.md: normal 10d, urgent 3d, very_urgent 1d, flash 0d. */
	static const struct urgency_row rows[] = {
		/* 22, 23, 26, 27, 28, 29/2, 1, 4, 5, 6/3 at 08:00. */
		{ "normal", "2024-03-06T08:00:00+07:00", "10 working days" },
		{ "urgent", "2024-02-26T08:00:00+07:00", "3 working days over a weekend" },
		{ "very_urgent", "2024-02-22T08:00:00+07:00", "1 working day" },
		{ "flash", "2024-02-21T17:00:00+07:00", "0d: the end of that working day" },
	};
	expect_urgency_due(rows, sizeof(rows) / sizeof(rows[0]));

	/* A given due_at is kept (answered in +07:00). */
	json_t *d = document("\"summary\": \"x\", \"urgency\": \"flash\", \"received_at\": "
			     "\"2024-02-21T08:00:00+07:00\", \"due_at\": \"2024-02-21T03:00:00Z\"");
	api_t_expect_str(d, "due_at", "2024-02-21T10:00:00+07:00");
	finish();
}

Test(documents, due_at_and_book_from_the_config)
{
	/* The example config's documents section, with another default book. */
	api_t_teardown(&t);
	api_t_start(&t, &(struct api_options){
				.extra = "documents: { default_book = \"vbden\"; urgency_due = { "
					 "normal = \"10d\"; urgent = \"1d\"; very_urgent = \"4h\"; "
					 "flash = \"0d\"; }; };\n" });
	static const struct urgency_row rows[] = {
		{ "normal", "2024-03-06T08:00:00+07:00", "10d" },
		{ "urgent", "2024-02-22T08:00:00+07:00", "1d" },
		/* 08:00-11:30 3.5h + 13:00-13:30 0.5h. */
		{ "very_urgent", "2024-02-21T13:30:00+07:00", "4h across the lunch break" },
		{ "flash", "2024-02-21T17:00:00+07:00", "0d" },
	};
	expect_urgency_due(rows, sizeof(rows) / sizeof(rows[0]));
	json_t *d = document("\"summary\": \"y\", \"received_at\": \"2024-02-21T08:00:00+07:00\"");
	api_t_expect_str(d, "book", "vbden");
	finish();
}

/* A, B, C, D of the list tests. */
static void seed_documents(void)
{
	/* A: urgent, hctc, due 26/2 08:00 (overdue). */
	document(DOC_506);
	/* B: vp, due 2099. */
	document("\"symbol\": \"464/VP-HCTC\", \"summary\": \"V/v tăng cường kỷ luật\", "
		 "\"received_at\": \"2024-02-21T09:00:00+07:00\", \"lead_unit\": \"vp\", "
		 "\"due_at\": \"2099-01-01T17:00:00+07:00\"");
	/* C: xa-tan-phu, normal: Fri 1/3 09:00 + 10d = 15/3 09:00; done below. */
	document("\"symbol\": \"12/UBND-KT\", \"summary\": \"V/v kinh tế\", \"received_at\": "
		 "\"2024-03-01T09:00:00+07:00\", \"lead_unit\": \"xa-tan-phu\"");
	/* D: no lead unit, very_urgent: 21/2 10:00 + 1d = 22/2 10:00 (overdue). */
	document("\"symbol\": \"507/SNV-TT\", \"summary\": \"V/v hỏa tốc\", \"urgency\": "
		 "\"very_urgent\", \"received_at\": \"2024-02-21T10:00:00+07:00\"");
	post("/api/v1/documents/3/events", 201, "{\"type\": \"complete\"}");
}

Test(documents, lists_and_filters)
{
	seed_documents();
	/* By due_at: D 22/2 10:00, A 26/2 08:00, C 15/3 09:00, B 2099. */
	expect_items(get("/api/v1/documents"), "documents", "symbol",
		     (const char *[]){ "507/SNV-TT", "506/SNV-TT", "12/UBND-KT", "464/VP-HCTC", NULL });
	api_t_expect_str(get("/api/v1/documents/3"), "due_at", "2024-03-15T09:00:00+07:00");
	expect_items(get("/api/v1/documents?unit=vp"), "documents", "symbol",
		     (const char *[]){ "506/SNV-TT", "464/VP-HCTC", NULL });
	expect_items(get("/api/v1/documents?unit=ubnd-tinh"), "documents", "symbol",
		     (const char *[]){ "506/SNV-TT", "12/UBND-KT", "464/VP-HCTC", NULL });
	expect_items(get("/api/v1/documents?status=done"), "documents", "symbol",
		     (const char *[]){ "12/UBND-KT", NULL });
	expect_items(get("/api/v1/documents?status=registered"), "documents", "symbol",
		     (const char *[]){ "507/SNV-TT", "506/SNV-TT", "464/VP-HCTC", NULL });
	expect_items(get("/api/v1/documents?overdue=true"), "documents", "symbol",
		     (const char *[]){ "507/SNV-TT", "506/SNV-TT", NULL });
	expect_items(get("/api/v1/documents?q=50"), "documents", "symbol",
		     (const char *[]){ "507/SNV-TT", "506/SNV-TT", NULL });
	expect_items(get("/api/v1/documents?q=506%%2F"), "documents", "symbol",
		     (const char *[]){ "506/SNV-TT", NULL });
	expect_items(get("/api/v1/documents?q=SNV"), "documents", "symbol", (const char *[]){ NULL });
	expect_items(get("/api/v1/documents?due_before=2024-02-26T08:00:00%%2B07:00"), "documents",
		     "symbol", (const char *[]){ "507/SNV-TT", NULL });
	expect_items(get("/api/v1/documents?due_after=2024-02-26T01:00:00Z"), "documents", "symbol",
		     (const char *[]){ "506/SNV-TT", "12/UBND-KT", "464/VP-HCTC", NULL });

	/* Pages of one, walked with the cursor. */
	json_t *page = get("/api/v1/documents?limit=3");
	cr_assert_eq(json_array_size(json_object_get(page, "documents")), 3);
	const char *cursor = api_str(page, "next_cursor");
	cr_assert_not_null(cursor, "4 documents, limit 3: a next_cursor");
	char *enc = api_url_encode(cursor);
	page = get("/api/v1/documents?limit=3&cursor=%s", enc);
	free(enc);
	expect_items(page, "documents", "symbol", (const char *[]){ "464/VP-HCTC", NULL });
	cr_assert(api_is_null(page, "next_cursor"));
	finish();
}

Test(documents, events_and_illegal_ones)
{
	struct api_db_state before;

	document(DOC_506);
	json_t *j = post("/api/v1/documents/1/events", 201,
			 "{\"type\": \"forward\", \"unit\": \"kstt\"}");
	api_t_expect_str(j, "document.status", "in_progress");
	api_t_expect_str(j, "document.lead_unit", "kstt");
	api_t_expect_int(j, "document.version", 2);
	api_t_expect_str(j, "event.type", "forward");
	api_t_expect_str(j, "event.actor", "vanthu");

	post("/api/v1/documents/1/events", 422, "{\"type\": \"forward\", \"unit\": \"phong-ma\"}");
	api_t_expect_error(&t, 422, "unknown_reference", "unit");
	post("/api/v1/documents/1/events", 400, "{\"type\": \"forward\"}");
	api_t_expect_error(&t, 400, "missing_field", "unit");

	j = post("/api/v1/documents/1/events", 201,
		 "{\"type\": \"reschedule\", \"due_at\": \"2024-03-01T17:00:00+07:00\", \"reason\": "
		 "\"Chờ ý kiến các sở\"}");
	api_t_expect_str(j, "document.due_at", "2024-03-01T17:00:00+07:00");
	api_t_expect_str(j, "document.status", "in_progress");
	post("/api/v1/documents/1/events", 400,
	     "{\"type\": \"reschedule\", \"due_at\": \"2024-03-08T17:00:00+07:00\"}");
	api_t_expect_error(&t, 400, "missing_field", "reason");

	j = post("/api/v1/documents/1/events", 201, "{\"type\": \"note\", \"text\": \"Đã báo cáo\"}");
	api_t_expect_str(j, "document.status", "in_progress");

	/* reopen is only from done. */
	api_t_state(&t, &before);
	post("/api/v1/documents/1/events", 409, "{\"type\": \"reopen\", \"reason\": \"x\"}");
	api_t_expect_error(&t, 409, "illegal_transition", NULL);
	api_t_unchanged(&t, &before);

	j = post("/api/v1/documents/1/events", 201, "{\"type\": \"complete\"}");
	api_t_expect_str(j, "document.status", "done");

	/* Nothing but reopen and note from done. */
	api_t_state(&t, &before);
	static const char *const from_done[] = {
		"{\"type\": \"complete\"}",
		"{\"type\": \"forward\", \"unit\": \"hctc\"}",
		"{\"type\": \"reschedule\", \"due_at\": \"2024-04-01T17:00:00+07:00\", \"reason\": \"x\"}",
	};
	for (size_t i = 0; i < 3; i++) {
		api_t_req(&t, "POST", "/api/v1/documents/1/events", API_VANTHU, from_done[i], 409);
		api_t_expect_error(&t, 409, "illegal_transition", NULL);
	}
	api_t_unchanged(&t, &before);
	post("/api/v1/documents/1/events", 400, "{\"type\": \"reopen\"}");
	api_t_expect_error(&t, 400, "missing_field", "reason");
	post("/api/v1/documents/1/events", 201, "{\"type\": \"note\", \"text\": \"Lưu\"}");
	j = post("/api/v1/documents/1/events", 201,
		 "{\"type\": \"reopen\", \"reason\": \"Bổ sung báo cáo\"}");
	api_t_expect_str(j, "document.status", "in_progress");

	/* A registered document completes directly. */
	document("\"summary\": \"z\", \"received_at\": \"2024-02-22T08:00:00+07:00\"");
	j = post("/api/v1/documents/2/events", 201, "{\"type\": \"complete\"}");
	api_t_expect_str(j, "document.status", "done");

	post("/api/v1/documents/77/events", 404, "{\"type\": \"note\", \"text\": \"x\"}");
	api_t_expect_error(&t, 404, "not_found", NULL);

	/* The log, oldest first, by vanthu. */
	j = get("/api/v1/documents/1/events");
	json_t *events = json_object_get(j, "events");
	static const char *const types[] = { "forward", "reschedule", "note", "complete", "note",
					     "reopen" };
	size_t n = json_array_size(events), skip = 0;
	if (n && !strcmp(api_str(json_array_get(events, 0), "type"), "create"))
		skip = 1; /* the spec lists a create event for cases; allowed here too */
	cr_assert_eq(n - skip, 6, "%s", t.r.resp.body);
	for (size_t i = 0; i < 6; i++) {
		api_t_expect_str(json_array_get(events, i + skip), "type", types[i]);
		api_t_expect_str(json_array_get(events, i + skip), "actor", "vanthu");
	}
	api_t_expect_str(json_array_get(events, 1 + skip), "due_at", "2024-03-01T17:00:00+07:00");
	finish();
}

/* ---- assignments ------------------------------------------------------------------------- */

Test(documents, assignments_from_a_document)
{
	document(DOC_506);
	json_t *a = post("/api/v1/documents/1/assignments", 201,
			 "{\"unit\": \"hctc\", \"role\": \"lead\", \"assignee\": \"phong.tv\", "
			 "\"title\": \"Tăng cường kiểm tra công vụ, cải cách hành chính\", "
			 "\"due_at\": \"2024-03-15T17:00:00+07:00\"}");
	api_t_expect_int(a, "document", 1);
	api_t_expect_str(a, "direction", NULL);
	api_t_expect_str(a, "parent", NULL);
	api_t_expect_str(a, "unit", "hctc");
	api_t_expect_str(a, "role", "lead");
	api_t_expect_str(a, "assignee", "phong.tv");
	api_t_expect_str(a, "title", "Tăng cường kiểm tra công vụ, cải cách hành chính");
	api_t_expect_str(a, "due_at", "2024-03-15T17:00:00+07:00");
	api_t_expect_str(a, "status", "open");
	api_t_expect_str(a, "done_at", NULL);
	api_t_expect_int(a, "children.total", 0);
	api_t_expect_int(a, "children.done", 0);
	api_t_expect_int(a, "children.overdue", 0);
	api_t_expect_int(a, "version", 1);
	int64_t first = api_int(a, "id");

	/* Defaults: role lead, the document's summary and due_at (26/2 08:00), no assignee. */
	a = post("/api/v1/documents/1/assignments", 201, "{\"unit\": \"kstt\", \"role\": \"support\"}");
	api_t_expect_str(a, "role", "support");
	api_t_expect_str(a, "title", SUMMARY_506);
	api_t_expect_str(a, "due_at", "2024-02-26T08:00:00+07:00");
	api_t_expect_str(a, "assignee", NULL);
	a = post("/api/v1/documents/1/assignments", 201, "{\"unit\": \"cttdt\"}");
	api_t_expect_str(a, "role", "lead");

	post("/api/v1/documents/1/assignments", 422, "{\"unit\": \"hctc\", \"assignee\": \"ma.vt\"}");
	api_t_expect_error(&t, 422, "unknown_reference", "assignee");
	post("/api/v1/documents/1/assignments", 400, "{\"role\": \"lead\"}");
	api_t_expect_error(&t, 400, "missing_field", "unit");
	post("/api/v1/documents/9/assignments", 404, "{\"unit\": \"hctc\"}");
	api_t_expect_error(&t, 404, "not_found", NULL);

	/* The document's assignments, by due_at: kstt 26/2, cttdt 26/2 (created later), hctc. */
	json_t *list = get("/api/v1/documents/1/assignments");
	expect_items(list, "assignments", "unit", (const char *[]){ "kstt", "cttdt", "hctc", NULL });
	json_t *one = get("/api/v1/assignments/%lld", (long long)first);
	api_t_expect_str(one, "title", "Tăng cường kiểm tra công vụ, cải cách hành chính");
	api_t_req(&t, "GET", "/api/v1/assignments/999", API_BAOCAO, NULL, 404);
	api_t_expect_error(&t, 404, "not_found", NULL);
	finish();
}

Test(documents, assignments_from_a_direction)
{
	json_t *a = post("/api/v1/assignments", 201,
			 "{\"direction\": \"Ý kiến chỉ đạo của Chủ tịch UBND tỉnh tại cuộc họp ngày "
			 "5/3/2024\", \"unit\": \"vp\", \"assignee\": \"long.nk\", \"title\": \"Rà "
			 "soát thủ tục hành chính\", \"due_at\": \"2024-03-29T17:00:00+07:00\"}");
	api_t_expect_str(a, "document", NULL);
	api_t_expect_str(a, "direction",
			 "Ý kiến chỉ đạo của Chủ tịch UBND tỉnh tại cuộc họp ngày 5/3/2024");
	api_t_expect_str(a, "parent", NULL);
	api_t_expect_str(a, "unit", "vp");
	api_t_expect_str(a, "role", "lead");
	api_t_expect_str(a, "assignee", "long.nk");
	api_t_expect_str(a, "due_at", "2024-03-29T17:00:00+07:00");
	api_t_expect_str(a, "status", "open");
	api_t_expect_int(a, "children.total", 0);

	struct api_db_state before;
	api_t_state(&t, &before);
	post("/api/v1/assignments", 400,
	     "{\"direction\": \"Chỉ đạo\", \"unit\": \"vp\", \"title\": \"Rà soát\"}");
	api_t_expect_error(&t, 400, "missing_field", "due_at");
	post("/api/v1/assignments", 400,
	     "{\"unit\": \"vp\", \"title\": \"Rà soát\", \"due_at\": \"2024-03-29T17:00:00+07:00\"}");
	api_t_expect_error(&t, 400, "missing_field", "direction");
	post("/api/v1/assignments", 422,
	     "{\"direction\": \"Chỉ đạo\", \"unit\": \"phong-ma\", \"title\": \"Rà soát\", "
	     "\"due_at\": \"2024-03-29T17:00:00+07:00\"}");
	api_t_expect_error(&t, 422, "unknown_reference", "unit");
	post("/api/v1/assignments", 400,
	     "{\"direction\": \"Chỉ đạo\", \"unit\": \"vp\", \"title\": \"Rà soát\", "
	     "\"due_at\": \"2024-03-29T17:00:00\"}");
	api_t_expect_error(&t, 400, "invalid_field", "due_at");
	api_t_unchanged(&t, &before);
	finish();
}

Test(documents, sub_assignments_and_children_counts)
{
	struct api_db_state before;
	char path[80];

	document("\"summary\": \"V/v kế hoạch năm\", \"received_at\": \"2024-02-21T08:00:00+07:00\", "
		 "\"due_at\": \"2099-12-31T17:00:00+07:00\"");
	json_t *p = post("/api/v1/documents/1/assignments", 201, "{\"unit\": \"vp\"}");
	api_t_expect_str(p, "due_at", "2099-12-31T17:00:00+07:00");
	long long pid = (long long)api_int(p, "id");
	snprintf(path, sizeof(path), "/api/v1/assignments/%lld/assignments", pid);

	/* c1: hctc, the parent's due_at by default; done below. */
	json_t *c1 = post(path, 201, "{\"unit\": \"hctc\", \"assignee\": \"phong.tv\"}");
	api_t_expect_int(c1, "parent", pid);
	api_t_expect_str(c1, "due_at", "2099-12-31T17:00:00+07:00");
	api_t_expect_str(c1, "unit", "hctc");
	/* c2: kstt, past due and open: overdue. */
	json_t *c2 = post(path, 201, "{\"unit\": \"kstt\", \"due_at\": \"2024-03-01T17:00:00+07:00\"}");
	/* c3: ttphvhcc, due before the parent, open. */
	json_t *c3 = post(path, 201, "{\"unit\": \"ttphvhcc\", \"due_at\": "
				     "\"2099-06-30T17:00:00+07:00\"}");
	/* c4: cttdt, past due but done: not overdue. */
	json_t *c4 = post(path, 201, "{\"unit\": \"cttdt\", \"due_at\": \"2024-03-01T17:00:00+07:00\"}");
	(void)c3;

	/* Not below vp: vp itself, its parent, a sibling subtree; a due_at after the parent's. */
	api_t_state(&t, &before);
	static const char *const not_below[] = { "vp", "ubnd-tinh", "xa-tan-phu",
						 "xa-tu-phap-tan-phu" };
	for (size_t i = 0; i < 4; i++) {
		post(path, 422, "{\"unit\": \"%s\"}", not_below[i]);
		cr_assert_eq(t.r.status, 422);
		api_t_expect_str(t.r.json, "error.field", "unit");
	}
	post(path, 400, "{\"unit\": \"hctc\", \"due_at\": \"2100-01-01T07:30:00+07:00\"}");
	api_t_expect_error(&t, 400, "invalid_field", "due_at");
	/* Nor rescheduled after it; and a stale expected_version changes nothing. */
	char events[80];
	snprintf(events, sizeof(events), "/api/v1/assignments/%lld/events",
		 (long long)api_int(c3, "id"));
	post(events, 400, "{\"type\": \"reschedule\", \"due_at\": \"2100-01-01T07:30:00+07:00\", "
			  "\"reason\": \"Chờ số liệu\"}");
	api_t_expect_error(&t, 400, "invalid_field", "due_at");
	post(events, 409, "{\"type\": \"note\", \"text\": \"x\", \"expected_version\": 7}");
	api_t_expect_error(&t, 409, "version_mismatch", NULL);
	post("/api/v1/documents/1/events", 409, "{\"type\": \"note\", \"text\": \"x\", "
						  "\"expected_version\": 7}");
	api_t_expect_error(&t, 409, "version_mismatch", NULL);
	/* hctc has no sub-units: nothing can be split from c1. */
	snprintf(path, sizeof(path), "/api/v1/assignments/%lld/assignments",
		 (long long)api_int(c1, "id"));
	post(path, 422, "{\"unit\": \"hctc\"}");
	api_t_expect_str(t.r.json, "error.field", "unit");
	post("/api/v1/assignments/999/assignments", 404, "{\"unit\": \"hctc\"}");
	api_t_unchanged(&t, &before);

	snprintf(path, sizeof(path), "/api/v1/assignments/%lld/events", (long long)api_int(c1, "id"));
	post(path, 201, "{\"type\": \"done\"}");
	snprintf(path, sizeof(path), "/api/v1/assignments/%lld/events", (long long)api_int(c4, "id"));
	post(path, 201, "{\"type\": \"done\"}");

	json_t *got = get("/api/v1/assignments/%lld", pid);
	api_t_expect_int(got, "children.total", 4);
	api_t_expect_int(got, "children.done", 2);
	api_t_expect_int(got, "children.overdue", 1);
	api_t_expect_str(got, "status", "open");

	/* The sub-assignments, by due_at then creation: c2, c4 (1/3/2024), c3, c1. */
	json_t *subs = get("/api/v1/assignments/%lld/assignments", pid);
	expect_items(subs, "assignments", "unit",
		     (const char *[]){ "kstt", "cttdt", "ttphvhcc", "hctc", NULL });

	/* The unit subtree, status and overdue filters of GET /api/v1/assignments. */
	/* The parent (vp) and c1 (hctc) share a due_at: the parent was created first. */
	expect_items(get("/api/v1/assignments?unit=vp"), "assignments", "unit",
		     (const char *[]){ "kstt", "cttdt", "ttphvhcc", "vp", "hctc", NULL });
	expect_items(get("/api/v1/assignments?unit=hctc"), "assignments", "unit",
		     (const char *[]){ "hctc", NULL });
	expect_items(get("/api/v1/assignments?status=done"), "assignments", "unit",
		     (const char *[]){ "cttdt", "hctc", NULL });
	expect_items(get("/api/v1/assignments?overdue=true"), "assignments", "unit",
		     (const char *[]){ "kstt", NULL });
	expect_items(get("/api/v1/assignments?due_before=2099-01-01T00:00:00Z"), "assignments",
		     "unit", (const char *[]){ "kstt", "cttdt", NULL });

	/* The parent is not moved before an open sub-assignment (c3); done ones (c1) do not hold
	 * it back. */
	char msg[96];
	snprintf(path, sizeof(path), "/api/v1/assignments/%lld/events", pid);
	api_t_state(&t, &before);
	post(path, 400, "{\"type\": \"reschedule\", \"due_at\": \"2099-06-30T16:59:59+07:00\", "
			"\"reason\": \"Rút ngắn\"}");
	api_t_expect_error(&t, 400, "invalid_field", "due_at");
	snprintf(msg, sizeof(msg),
		 "due_at: sub-assignment %lld is due after it; reschedule that one first",
		 (long long)api_int(c3, "id"));
	api_t_expect_str(t.r.json, "error.message", msg);
	api_t_unchanged(&t, &before);
	json_t *moved = post(path, 201, "{\"type\": \"reschedule\", \"due_at\": "
					"\"2099-06-30T17:00:00+07:00\", \"reason\": \"Rút ngắn\"}");
	api_t_expect_str(moved, "assignment.due_at", "2099-06-30T17:00:00+07:00");
	(void)c2;
	finish();
}

Test(documents, assignment_events_and_illegal_ones)
{
	struct api_db_state before;

	json_t *a = post("/api/v1/assignments", 201,
			 "{\"direction\": \"Chỉ đạo\", \"unit\": \"hctc\", \"title\": \"Rà soát\", "
			 "\"due_at\": \"2099-03-29T17:00:00+07:00\"}");
	long long id = (long long)api_int(a, "id");
	char path[80];
	snprintf(path, sizeof(path), "/api/v1/assignments/%lld/events", id);

	json_t *j = post(path, 201, "{\"type\": \"reassign\", \"assignee\": \"phong.tv\"}");
	api_t_expect_str(j, "assignment.assignee", "phong.tv");
	api_t_expect_str(j, "assignment.status", "open");
	api_t_expect_int(j, "assignment.version", 2);
	api_t_expect_str(j, "event.type", "reassign");
	api_t_expect_str(j, "event.actor", "vanthu");
	post(path, 422, "{\"type\": \"reassign\", \"assignee\": \"ma.vt\"}");
	api_t_expect_error(&t, 422, "unknown_reference", "assignee");
	post(path, 400, "{\"type\": \"reassign\"}");
	api_t_expect_error(&t, 400, "missing_field", "assignee");

	j = post(path, 201, "{\"type\": \"reschedule\", \"due_at\": \"2099-04-30T17:00:00+07:00\", "
			    "\"reason\": \"Chờ số liệu\"}");
	api_t_expect_str(j, "assignment.due_at", "2099-04-30T17:00:00+07:00");
	api_t_expect_str(j, "event.due_at", "2099-04-30T17:00:00+07:00");
	post(path, 400, "{\"type\": \"reschedule\", \"due_at\": \"2099-05-30T17:00:00+07:00\"}");
	api_t_expect_error(&t, 400, "missing_field", "reason");

	api_t_state(&t, &before);
	post(path, 409, "{\"type\": \"reopen\", \"reason\": \"x\"}");
	api_t_expect_error(&t, 409, "illegal_transition", NULL);
	api_t_unchanged(&t, &before);

	j = post(path, 201, "{\"type\": \"done\"}");
	api_t_expect_str(j, "assignment.status", "done");
	cr_assert(api_parse_instant(api_str(j, "assignment.done_at")) != INT64_MIN, "done_at");
	api_t_expect_int(j, "assignment.version", 4);

	api_t_state(&t, &before);
	static const char *const from_done[] = {
		"{\"type\": \"done\"}",
		"{\"type\": \"reassign\", \"assignee\": \"phong.tv\"}",
		"{\"type\": \"reschedule\", \"due_at\": \"2099-06-30T17:00:00+07:00\", \"reason\": \"x\"}",
	};
	for (size_t i = 0; i < 3; i++) {
		api_t_req(&t, "POST", path, API_VANTHU, from_done[i], 409);
		api_t_expect_error(&t, 409, "illegal_transition", NULL);
	}
	post(path, 400, "{\"type\": \"reopen\"}");
	api_t_expect_error(&t, 400, "missing_field", "reason");
	post(path, 400, "{\"type\": \"finish\"}");
	api_t_expect_error(&t, 400, "invalid_field", "type");
	api_t_unchanged(&t, &before);

	j = post(path, 201, "{\"type\": \"note\", \"text\": \"Đã hoàn thành\"}");
	api_t_expect_str(j, "assignment.status", "done");
	j = post(path, 201, "{\"type\": \"reopen\", \"reason\": \"Báo cáo chưa đạt\"}");
	api_t_expect_str(j, "assignment.status", "open");
	api_t_expect_str(j, "assignment.done_at", NULL);

	post("/api/v1/assignments/999/events", 404, "{\"type\": \"done\"}");
	api_t_expect_error(&t, 404, "not_found", NULL);

	j = get("/api/v1/assignments/%lld/events", id);
	json_t *events = json_object_get(j, "events");
	static const char *const types[] = { "reassign", "reschedule", "done", "note", "reopen" };
	size_t n = json_array_size(events), skip = 0;
	if (n && !strcmp(api_str(json_array_get(events, 0), "type"), "create"))
		skip = 1;
	cr_assert_eq(n - skip, 5, "%s", t.r.resp.body);
	for (size_t i = 0; i < 5; i++)
		api_t_expect_str(json_array_get(events, i + skip), "type", types[i]);
	finish();
}

Test(documents, simultaneous_documents_get_distinct_numbers)
{
	enum { N = 24 };
	static const char *const headers[] = { "Authorization: Bearer " API_VANTHU,
					       "Content-Type: application/json", NULL };
	const char *bodies[N];
	struct api_reply r[N] = { 0 };
	struct err e = { 0 };
	bool seen[N + 1] = { false };

	for (size_t i = 0; i < N; i++)
		bodies[i] = "{\"summary\": \"V/v đồng thời\", \"received_at\": "
			    "\"2024-05-06T08:00:00+07:00\"}";
	cr_assert_eq(api_fan_out(&t.f, N, "POST", "/api/v1/documents", headers, bodies, r, &e), 0,
		     "%s", e.msg);
	for (size_t i = 0; i < N; i++) {
		cr_assert_eq(r[i].status, 201, "%zu: %d %s", i, r[i].status, r[i].resp.body);
		int64_t no = api_int(r[i].json, "incoming_no");
		cr_assert(no >= 1 && no <= N && !seen[no], "incoming_no %lld twice or out of 1..%d",
			  (long long)no, N);
		seen[no] = true;
		api_reply_free(&r[i]);
	}
	finish();
}
