/* Escalation against the real dunghand (docs/escalation.md): rules firing in order with their
 * occurrences, the outbox rows each alert writes (recipients by tier, channels, subjects),
 * pause/resume and reschedule re-arming, acknowledgement, holding outside office hours,
 * digests, tier fallback, closed cases, catch-up collapse, ?at_risk=true, bad requests on the
 * new endpoints and config errors of bad rules.
 *
 * Most tests use a round-the-clock calendar (every day, 00:00-24:00, no holidays), so that
 * working time is wall-clock time and a rule can fire seconds from now: "-4s" is 4 s before
 * due, "1m" is 60 s. Every wait is on an event, polled with a bound; a "never alerts" claim is
 * checked only after a later alert of a control case proves that its instant has passed.
 *
 * The fixture copies the example's office: long.nk (leader of the vp departments) reads
 * digests, hctc and xa-tan-phu have chat channels. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <stdarg.h>
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

TestSuite(escalation, .fini = teardown, .timeout = 240);

#define TEMPLATES DUNGHAN_SOURCE_DIR "/config/templates"
#define LINK_BASE "https://dunghan.dongnai.gov.vn"

/* The example's people and their addresses. */
static const char *email_of(const char *person)
{
	static const char *const people[][2] = {
		{ "hung.ns", "hung.ns@dongnai.gov.vn" },   { "long.nk", "long.nk@dongnai.gov.vn" },
		{ "phong.tv", "phong.tv@dongnai.gov.vn" }, { "lan.ptn", "lan.ptn@dongnai.gov.vn" },
		{ "dung.lq", "dung.lq@dongnai.gov.vn" },   { "khoa.nd", "khoa.nd@dongnai.gov.vn" },
		{ "hoa.tt", "hoa.tt@tanphu.dongnai.gov.vn" },
		{ "binh.lt", "binh.lt@tanphu.dongnai.gov.vn" },
		{ "tuan.hm", "tuan.hm@dongnai.gov.vn" },
	};
	for (size_t i = 0; i < sizeof(people) / sizeof(people[0]); i++)
		if (!strcmp(people[i][0], person))
			return people[i][1];
	return NULL;
}

/* Starts dunghand with calendar (NULL: the fixture's office calendar), the escalation settings
 * `settings` and the case rules `rules`, and the office edits (NULL-ended pairs or NULL). */
static void start(const char *calendar, const char *settings, const char *rules,
		  const char *const *edits)
{
	char *cases;

	cr_assert_geq(asprintf(&cases, "cases = (\n%s\n  );", rules), 0);
	api_t_start_escalation(&t, calendar, LINK_BASE, settings, cases, edits);
	free(cases);
}

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* "000.00.21.H19-250101-00NN": codes of the national shape. */
static const char *code(char *buf, size_t n, int i)
{
	snprintf(buf, n, "000.00.21.H19-250101-%04d", i);
	return buf;
}

/* Registers a case received at `received` and due at `due` (given, so authoritative); handler
 * NULL: none. Returns the due instant the daemon stored. */
static int64_t create(const char *c, const char *unit, const char *handler, int64_t received,
		      int64_t due)
{
	char r[40], d[40], h[80] = "null";

	api_format_instant(r, sizeof(r), received);
	api_format_instant(d, sizeof(d), due);
	if (handler)
		snprintf(h, sizeof(h), "\"%s\"", handler);
	json_t *j = api_t_reqf(&t, "POST", "/api/v1/cases", API_MOTCUA, 201,
			       "{\"code\": \"%s\", \"procedure\": \"1.004222\", \"unit\": \"%s\", "
			       "\"handler\": %s, \"applicant\": \"Nguyễn Văn A\", \"received_at\": "
			       "\"%s\", \"due_at\": \"%s\"}",
			       c, unit, h, r, d);
	int64_t stored = api_parse_instant(api_str(j, "due_at"));
	cr_assert_eq(stored, due, "%s: due_at %s, expected %s", c, api_str(j, "due_at"), d);
	return stored;
}

/* Posts an event (JSON members) to a case and expects 201; returns the case's due_at. */
static int64_t event(const char *c, const char *members)
{
	char path[200];

	snprintf(path, sizeof(path), "/api/v1/cases/%s/events", c);
	json_t *j = api_t_reqf(&t, "POST", path, API_MOTCUA, 201, "{%s}", members);
	return api_parse_instant(api_str(j, "case.due_at"));
}

/* Waits until the case has at least n alerts, at most until wall-clock instant `by` (+ 10 s
 * of slack for a loaded machine). Returns its alerts. */
static json_t *wait_alerts(const char *c, size_t n, int64_t by)
{
	json_t *a;

	for (;;) {
		a = api_t_case_alerts(&t, c);
		if (json_array_size(a) >= n)
			return a;
		cr_assert(now_s() <= by + 10, "%s: %zu alerts by %lld, expected %zu: %s", c,
			  json_array_size(a), (long long)by + 10, n, json_dumps(a, JSON_COMPACT));
		api_sleep_ms(50);
	}
}

/* Expects alert a to be occurrence occ of rule for case c with deadline due, due to fire at
 * fire_at (not checked when 0), written at most max_delay seconds after it (a catch-up alert
 * is written whenever the item is looked at). */
static void expect_alert_d(json_t *a, const char *c, const char *rule, int64_t occ, int64_t due,
			   int64_t fire_at, int64_t max_delay)
{
	char *dump = json_dumps(a, JSON_COMPACT);

	cr_assert(json_is_object(a), "no alert");
	cr_assert(api_int(a, "id") > 0, "alert id: %s", dump);
	api_t_expect_str(a, "item_kind", "case");
	api_t_expect_str(a, "item", c);
	cr_assert(api_str(a, "rule") && !strcmp(api_str(a, "rule"), rule),
		  "%s: rule %s, expected %s: %s", c, api_str(a, "rule"), rule, dump);
	cr_assert_eq(api_int(a, "occurrence"), occ, "%s rule %s: occurrence %lld, expected %lld: %s",
		     c, rule, (long long)api_int(a, "occurrence"), (long long)occ, dump);
	cr_assert_eq(api_parse_instant(api_str(a, "due_at")), due, "%s rule %s: due_at: %s", c, rule,
		     dump);
	int64_t fire = api_parse_instant(api_str(a, "fire_at"));
	int64_t fired = api_parse_instant(api_str(a, "fired_at"));
	if (fire_at)
		cr_assert_eq(fire, fire_at, "%s rule %s: fire_at, expected %lld: %s", c, rule,
			     (long long)fire_at, dump);
	cr_assert(fired >= fire && fired <= fire + max_delay,
		  "%s rule %s: fired_at not within %lld s after fire_at: %s", c, rule,
		  (long long)max_delay, dump);
	cr_assert(api_is_null(a, "acknowledged_at") && api_is_null(a, "acknowledged_by"),
		  "%s rule %s: acknowledged: %s", c, rule, dump);
	free(dump);
}

/* An alert written on time: within 5 s of its instant. */
#define expect_alert(a, c, rule, occ, due, fire_at) expect_alert_d(a, c, rule, occ, due, fire_at, 5)
/* A catch-up alert. */
#define CATCH_UP (1000LL * 86400)

/* The whole outbox (admin), oldest first. */
static json_t *outbox(const char *query)
{
	char path[300];

	snprintf(path, sizeof(path), "/api/v1/outbox%s%s", query ? "?" : "", query ? query : "");
	return api_t_all(&t, path, "outbox", API_ADMIN);
}

/* The rows of alert id in box (a new array, kept). */
static json_t *rows_of(json_t *box, int64_t alert)
{
	json_t *out = api_t_keep(&t, json_array()), *row;
	size_t i;

	json_array_foreach (box, i, row)
		if (api_int(row, "alert") == alert)
			json_array_append(out, row);
	return out;
}

static bool starts_with(const char *s, const char *prefix)
{
	return s && !strncmp(s, prefix, strlen(prefix));
}

/* Expects the rows of alert a to be exactly want ("email:PERSON" or "chat:CHANNEL", in any
 * order: the spec orders no rows within an alert), each with a subject starting with prefix and
 * naming case c, in status `status`, not before `not_before` (0: the row's created_at, i.e.
 * not held). */
static void expect_rows(json_t *box, json_t *a, const char *c, const char *prefix,
			const char *status, int64_t not_before, const char *const want[])
{
	json_t *rows = rows_of(box, api_int(a, "id")), *row;
	char *dump = json_dumps(rows, JSON_COMPACT | JSON_INDENT(0));
	size_t n = 0, i;

	while (want[n])
		n++;
	cr_assert_eq(json_array_size(rows), n, "%s rule %s: %zu outbox rows, expected %zu: %s", c,
		     api_str(a, "rule"), json_array_size(rows), n, dump);
	for (size_t k = 0; k < n; k++) {
		bool found = false;
		json_array_foreach (rows, i, row) {
			char key[200];
			snprintf(key, sizeof(key), "%s:%s", api_str(row, "channel"),
				 api_str(row, "recipient"));
			found = found || !strcmp(key, want[k]);
		}
		cr_assert(found, "%s rule %s: no row %s among %s", c, api_str(a, "rule"), want[k],
			  dump);
	}
	json_array_foreach (rows, i, row) {
		const char *ch = api_str(row, "channel"), *to = api_str(row, "recipient");
		const char *subject = api_str(row, "subject"), *text = api_str(row, "body_text");
		int64_t created = api_parse_instant(api_str(row, "created_at"));

		cr_assert(starts_with(subject, prefix) && strstr(subject, c),
			  "%s rule %s: subject \"%s\" does not start with \"%s\" or lacks the code",
			  c, api_str(a, "rule"), subject, prefix);
		cr_assert(text && strstr(text, c), "%s: body_text lacks the code: %s", c, dump);
		api_t_expect_str(row, "status", status);
		cr_assert(created >= api_parse_instant(api_str(a, "fired_at")) &&
				  created <= api_parse_instant(api_str(a, "fired_at")) + 2,
			  "%s: created_at far from the alert's fired_at: %s", c, dump);
		cr_assert_eq(api_parse_instant(api_str(row, "not_before")),
			     not_before ? not_before : created, "%s: not_before of %s:%s: %s", c, ch,
			     to, dump);
		if (!strcmp(ch, "email")) {
			api_t_expect_str(row, "address", email_of(to));
			cr_assert(api_str(row, "body_html") && strstr(api_str(row, "body_html"), c),
				  "%s: email without an HTML body naming the case: %s", c, dump);
		} else {
			cr_assert(!strcmp(ch, "chat"), "channel %s", ch);
			cr_assert(api_is_null(row, "address"), "%s: a chat row with an address: %s", c,
				  dump);
			cr_assert(text && !strcmp(subject, text),
				  "%s: a chat row's subject and body_text differ: %s", c, dump);
		}
	}
	free(dump);
}

/* The subject of the first row of alert a with recipient `to`. */
static const char *subject_to(json_t *box, json_t *a, const char *to)
{
	json_t *rows = rows_of(box, api_int(a, "id")), *row;
	size_t i;

	json_array_foreach (rows, i, row)
		if (!strcmp(api_str(row, "recipient"), to))
			return api_str(row, "subject");
	cr_assert_fail("alert %lld has no row for %s", (long long)api_int(a, "id"), to);
	return NULL;
}

static const char *const UNIT_CHANNEL[] = {
	/* the unit Tư pháp - Hộ tịch xã Tân Phú gets a chat channel */
	"head = \"binh.lt\"; }", "head = \"binh.lt\"; channels = [\"tuphap-tanphu\"]; }", NULL
};

/* 1. A case through its rules: 50%, -4s, due, +2s repeating every minute. */
Test(escalation, case_through_its_rules)
{
	char c[40];

	start(API_RTC_CALENDAR, NULL,
	      "{ id = \"half\"; when = \"50%\"; notify = [\"handler\"]; },\n"
	      "{ id = \"soon\"; when = \"-4s\"; notify = [\"handler\", \"head\"]; },\n"
	      "{ id = \"due\"; when = \"due\"; notify = [\"head\", \"leader\", \"channel:hctc-group\"];"
	      " channels = [\"email\", \"chat\"]; },\n"
	      "{ id = \"late\"; when = \"+2s\"; notify = [\"head\", \"leader\"]; repeat = \"5s\";"
	      " urgent = true; }",
	      UNIT_CHANNEL);
	code(c, sizeof(c), 1);
	int64_t t0 = now_s(), due = create(c, "xa-tu-phap-tan-phu", "tuan.hm", t0, t0 + 12);

	/* half at t0+6, soon at t0+8, due at t0+12, late at t0+14, t0+19, t0+24... */
	json_t *a = wait_alerts(c, 5, t0 + 19);
	expect_alert(json_array_get(a, 0), c, "half", 0, due, t0 + 6);
	expect_alert(json_array_get(a, 1), c, "soon", 0, due, t0 + 8);
	expect_alert(json_array_get(a, 2), c, "due", 0, due, t0 + 12);
	expect_alert(json_array_get(a, 3), c, "late", 0, due, t0 + 14);
	expect_alert(json_array_get(a, 4), c, "late", 1, due, t0 + 19);
	for (size_t i = 5; i < json_array_size(a); i++)
		expect_alert(json_array_get(a, i), c, "late", (int64_t)i - 3, due,
			     t0 + 14 + 5 * ((int64_t)i - 3));
	for (size_t i = 0; i < 5; i++) {
		api_t_expect_str(json_array_get(a, i), "unit", "xa-tu-phap-tan-phu");
		api_t_expect_bool(json_array_get(a, i), "urgent", i >= 3);
	}

	/* handler tuan.hm; head of xa-tu-phap-tan-phu binh.lt; leader: head of its parent
	 * xa-tan-phu, hoa.tt; the chat channels: the tier's and the unit's. */
	json_t *box = outbox(NULL);
	expect_rows(box, json_array_get(a, 0), c, "[Nhắc việc] ", "pending", 0,
		    (const char *const[]){ "email:tuan.hm", NULL });
	expect_rows(box, json_array_get(a, 1), c, "[Sắp đến hạn] ", "pending", 0,
		    (const char *const[]){ "email:tuan.hm", "email:binh.lt", NULL });
	expect_rows(box, json_array_get(a, 2), c, "[Đến hạn] ", "pending", 0,
		    (const char *const[]){ "email:binh.lt", "email:hoa.tt", "chat:hctc-group",
					   "chat:tuphap-tanphu", NULL });
	expect_rows(box, json_array_get(a, 3), c, "[QUÁ HẠN] ", "pending", 0,
		    (const char *const[]){ "email:binh.lt", "email:hoa.tt", NULL });
	expect_rows(box, json_array_get(a, 4), c, "[QUÁ HẠN] ", "pending", 0,
		    (const char *const[]){ "email:binh.lt", "email:hoa.tt", NULL });
	json_t *row;
	size_t i;
	a = api_t_case_alerts(&t, c);
	json_array_foreach (box, i, row) {
		bool known = false;
		for (size_t k = 0; k < json_array_size(a); k++)
			known = known || api_int(row, "alert") == api_int(json_array_get(a, k), "id");
		cr_assert(known, "a row of no alert of the case: %s", json_dumps(row, JSON_COMPACT));
	}

	/* The subjects in full (docs/templates.md): the time left rounds up and the time overdue
	 * down, and anything under a minute shows as 1 phút; due_time is the due's HH:MM. */
	char want[300], hhmm[40];
	const char *s = subject_to(box, json_array_get(a, 0), "tuan.hm");
	snprintf(want, sizeof(want), "[Nhắc việc] Hồ sơ %s đã dùng ", c);
	cr_assert(starts_with(s, want) && strstr(s, "% thời gian giải quyết"), "half: %s", s);
	snprintf(want, sizeof(want), "[Sắp đến hạn] Hồ sơ %s còn 1 phút làm việc", c);
	cr_assert_str_eq(subject_to(box, json_array_get(a, 1), "binh.lt"), want);
	api_format_instant(hhmm, sizeof(hhmm), due);
	snprintf(want, sizeof(want), "[Đến hạn] Hồ sơ %s phải trả kết quả lúc %.5s hôm nay", c,
		 hhmm + 11);
	cr_assert_str_eq(subject_to(box, json_array_get(a, 2), "binh.lt"), want);
	snprintf(want, sizeof(want), "[QUÁ HẠN] Hồ sơ %s đã quá hạn 1 phút làm việc", c);
	cr_assert_str_eq(subject_to(box, json_array_get(a, 3), "hoa.tt"), want);
	cr_assert_str_eq(subject_to(box, json_array_get(a, 4), "hoa.tt"), want);

	/* Links: <link_base>/cases/<code> in the bodies. */
	char link[200];
	snprintf(link, sizeof(link), LINK_BASE "/cases/%s", c);
	json_array_foreach (box, i, row)
		if (!strcmp(api_str(row, "channel"), "email"))
			cr_assert(strstr(api_str(row, "body_text"), link), "no %s in: %s", link,
				  api_str(row, "body_text"));

	/* The list's filters: rule, unit (subtree), since (fired at or after). */
	json_t *f = api_t_all(&t, "/api/v1/alerts?rule=late", "alerts", API_BAOCAO);
	cr_assert_geq(json_array_size(f), 2);
	json_array_foreach (f, i, row)
		api_t_expect_str(row, "rule", "late");
	f = api_t_all(&t, "/api/v1/alerts?unit=xa-tan-phu&limit=1", "alerts", API_BAOCAO);
	cr_assert_geq(json_array_size(f), 5, "unit=xa-tan-phu holds its sub-unit's alerts");
	f = api_t_all(&t, "/api/v1/alerts?unit=vp", "alerts", API_BAOCAO);
	cr_assert_eq(json_array_size(f), 0, "%s", json_dumps(f, JSON_COMPACT));
	char *since = api_url_encode(api_str(json_array_get(a, 3), "fired_at")), q[200];
	snprintf(q, sizeof(q), "/api/v1/alerts?since=%s", since);
	free(since);
	f = api_t_all(&t, q, "alerts", API_BAOCAO);
	int64_t from = api_parse_instant(api_str(json_array_get(a, 3), "fired_at"));
	/* (repeats go on meanwhile: f may hold later ones too) */
	json_array_foreach (f, i, row)
		cr_assert(api_parse_instant(api_str(row, "fired_at")) >= from, "?since: %s",
			  json_dumps(row, JSON_COMPACT));
	for (size_t k = 0; k < json_array_size(a); k++) {
		json_t *x = json_array_get(a, k);
		bool in = false;
		json_array_foreach (f, i, row)
			in = in || api_int(row, "id") == api_int(x, "id");
		cr_assert_eq(in, api_parse_instant(api_str(x, "fired_at")) >= from, "?since: %s",
			     json_dumps(x, JSON_COMPACT));
	}
}

/* 2. Pausing stops the clock: no alert while paused; resuming moves due_at and re-arms every
 * rule for it; a reschedule re-arms them again for the new deadline. */
Test(escalation, pause_resume_and_reschedule_rearm)
{
	char p[40], q[40];

	start(API_RTC_CALENDAR, NULL,
	      "{ id = \"soon\"; when = \"-10s\"; notify = [\"handler\"]; },\n"
	      "{ id = \"due\"; when = \"due\"; notify = [\"head\"]; }",
	      NULL);
	code(p, sizeof(p), 1);
	code(q, sizeof(q), 2);
	int64_t t0 = now_s();
	int64_t due_p = create(p, "kstt", "lan.ptn", t0, t0 + 15);
	event(p, "\"type\": \"pause\", \"reason\": \"Yêu cầu bổ sung giấy tờ\"");
	int64_t due_q = create(q, "kstt", "lan.ptn", t0, t0 + 17);

	/* Q's due alert (t0+17) proves that P's instants (t0+5, t0+15) have passed. */
	json_t *aq = wait_alerts(q, 2, t0 + 17);
	expect_alert(json_array_get(aq, 0), q, "soon", 0, due_q, t0 + 7);
	expect_alert(json_array_get(aq, 1), q, "due", 0, due_q, t0 + 17);
	json_t *ap = api_t_case_alerts(&t, p);
	cr_assert_eq(json_array_size(ap), 0, "a paused case alerted: %s",
		     json_dumps(ap, JSON_COMPACT));

	/* 1.004222 continues: due_at = resume + what was left when paused. */
	int64_t due1 = event(p, "\"type\": \"resume\"");
	cr_assert(due1 > due_p, "resume did not move due_at");
	ap = wait_alerts(p, 2, due1);
	cr_assert_eq(json_array_size(ap), 2, "%s", json_dumps(ap, JSON_COMPACT));
	expect_alert(json_array_get(ap, 0), p, "soon", 0, due1, due1 - 10);
	expect_alert(json_array_get(ap, 1), p, "due", 0, due1, due1);

	/* A later deadline: both rules fire again for it. */
	char d2[40], body[300];
	int64_t want2 = now_s() + 13;
	api_format_instant(d2, sizeof(d2), want2);
	snprintf(body, sizeof(body),
		 "\"type\": \"reschedule\", \"due_at\": \"%s\", \"apology\": \"Xin lỗi ông/bà\"", d2);
	int64_t due2 = event(p, body);
	cr_assert_eq(due2, want2);
	ap = wait_alerts(p, 4, due2);
	cr_assert_eq(json_array_size(ap), 4, "%s", json_dumps(ap, JSON_COMPACT));
	expect_alert(json_array_get(ap, 2), p, "soon", 0, due2, due2 - 10);
	expect_alert(json_array_get(ap, 3), p, "due", 0, due2, due2);
	json_t *box = outbox(NULL);
	expect_rows(box, json_array_get(ap, 2), p, "[Sắp đến hạn] ", "pending", 0,
		    (const char *const[]){ "email:lan.ptn", NULL });
	expect_rows(box, json_array_get(ap, 3), p, "[Đến hạn] ", "pending", 0,
		    (const char *const[]){ "email:lan.ptn", NULL });
}

/* 3. Acknowledging a repeating alert stops its repeats for that deadline; a second ack is 409,
 * an unknown alert 404; a new deadline fires again. */
Test(escalation, acknowledge_stops_repeats)
{
	char a[40], b[40], path[100];

	start(API_RTC_CALENDAR, NULL,
	      "{ id = \"late\"; when = \"+1s\"; notify = [\"head\"]; repeat = \"10s\"; urgent = true; }",
	      NULL);
	code(a, sizeof(a), 1);
	code(b, sizeof(b), 2);
	int64_t t0 = now_s();
	int64_t due_a = create(a, "hctc", NULL, t0, t0 + 2);
	int64_t due_b = create(b, "hctc", NULL, t0, t0 + 2);

	json_t *aa = wait_alerts(a, 1, t0 + 3);
	expect_alert(json_array_get(aa, 0), a, "late", 0, due_a, t0 + 3);
	int64_t id = api_int(json_array_get(aa, 0), "id");
	snprintf(path, sizeof(path), "/api/v1/alerts/%lld/ack", (long long)id);

	/* read scope may not acknowledge */
	api_t_req(&t, "POST", path, API_BAOCAO, "{}", 403);
	api_t_expect_error(&t, 403, "forbidden", NULL);

	json_t *j = api_t_req(&t, "POST", path, API_MOTCUA, "{\"note\": \"Đã nhắc cán bộ\"}", 200);
	api_t_expect_int(j, "id", id);
	api_t_expect_str(j, "rule", "late");
	api_t_expect_str(j, "acknowledged_by", "motcua");
	api_t_expect_str(j, "acknowledged_note", "Đã nhắc cán bộ");
	int64_t at = api_parse_instant(api_str(j, "acknowledged_at"));
	cr_assert(at >= t0 && at <= now_s(), "acknowledged_at: %s", t.r.resp.body);

	api_t_req(&t, "POST", path, API_VANTHU, NULL, 409);
	api_t_expect_error(&t, 409, "conflict", NULL);
	api_t_req(&t, "POST", "/api/v1/alerts/987654/ack", API_MOTCUA, NULL, 404);
	api_t_expect_error(&t, 404, "not_found", NULL);

	/* B's second occurrence (t0+13) proves A's would have fired by now. */
	json_t *ab = wait_alerts(b, 2, t0 + 13);
	expect_alert(json_array_get(ab, 0), b, "late", 0, due_b, t0 + 3);
	expect_alert(json_array_get(ab, 1), b, "late", 1, due_b, t0 + 13);
	aa = api_t_case_alerts(&t, a);
	cr_assert_eq(json_array_size(aa), 1, "repeats after the ack: %s",
		     json_dumps(aa, JSON_COMPACT));
	api_t_expect_str(json_array_get(aa, 0), "acknowledged_by", "motcua");
	api_t_expect_str(json_array_get(aa, 0), "acknowledged_note", "Đã nhắc cán bộ");

	/* acknowledged=true lists A's alert only; false B's two. */
	json_t *acked = api_t_all(&t, "/api/v1/alerts?acknowledged=true", "alerts", API_BAOCAO);
	cr_assert_eq(json_array_size(acked), 1);
	api_t_expect_int(json_array_get(acked, 0), "id", id);
	json_t *open = api_t_all(&t, "/api/v1/alerts?acknowledged=false", "alerts", API_BAOCAO);
	cr_assert_geq(json_array_size(open), 2, "%s", json_dumps(open, JSON_COMPACT));
	json_t *al;
	size_t i;
	json_array_foreach (open, i, al)
		api_t_expect_str(al, "item", b);

	/* A new deadline is a new generation: the rule fires for it. */
	char d[40], body[300];
	int64_t want = now_s() + 2;
	api_format_instant(d, sizeof(d), want);
	snprintf(body, sizeof(body),
		 "\"type\": \"reschedule\", \"due_at\": \"%s\", \"apology\": \"Xin lỗi ông/bà\"", d);
	int64_t due2 = event(a, body);
	aa = wait_alerts(a, 2, due2 + 1);
	expect_alert(json_array_get(aa, 1), a, "late", 0, due2, due2 + 1);
}

/* 4. Holding: with the office calendar (07:30-11:30, 13:00-17:00, Monday to Friday, official
 * holidays) a message written outside office hours waits for the next office period; inside,
 * it may go at once. The expectation is the real dunghanctl's `calendar add CREATED 0s` (the
 * next open instant) on the same config, CREATED being the row's created_at. */
static void expect_held_rows(bool hold)
{
	char c[40];

	code(c, sizeof(c), 1);
	/* Received and due in 2024: the overdue rule's instant passed long ago; it fires at
	 * once on creation (catch-up). */
	json_t *j = api_t_req(&t, "POST", "/api/v1/cases", API_MOTCUA,
			      "{\"code\": \"000.00.21.H19-250101-0001\", \"procedure\": \"1.004222\", "
			      "\"unit\": \"hctc\", \"received_at\": \"2024-03-04T08:00:00+07:00\", "
			      "\"due_at\": \"2024-03-05T08:00:00+07:00\"}",
			      201);
	(void)j;
	json_t *a = wait_alerts(c, 1, now_s());
	cr_assert_eq(json_array_size(a), 1, "%s", json_dumps(a, JSON_COMPACT));
	api_t_expect_str(json_array_get(a, 0), "rule", "late");

	json_t *box = outbox(NULL), *row;
	size_t i;
	/* phong.tv, the tier's channel and hctc's own (example: hctc-chat) */
	expect_rows(box, json_array_get(a, 0), c, "[QUÁ HẠN] ", "pending",
		    api_parse_instant(api_str(json_array_get(box, 0), "not_before")),
		    (const char *const[]){ "email:phong.tv", "chat:hctc-group", "chat:hctc-chat",
					   NULL });
	cr_assert_eq(json_array_size(box), 3, "%s", json_dumps(box, JSON_COMPACT));
	json_array_foreach (box, i, row) {
		const char *created = api_str(row, "created_at");
		int64_t cr = api_parse_instant(created);
		char *out = NULL;
		struct err e = { 0 };

		cr_assert(cr >= now_s() - 10 && cr <= now_s(), "created_at %s is not now", created);
		int rc = api_fixture_ctl(&t.f, (const char *const[]){ "calendar", "add", created, "0s",
								    NULL },
					 &out, &e);
		cr_assert_eq(rc, 0, "dunghanctl calendar add %s 0s: %d %s %s", created, rc, e.msg,
			     out ? out : "");
		out[strcspn(out, "\n")] = '\0';
		int64_t open = api_parse_instant(out);
		cr_assert(open != INT64_MIN, "dunghanctl: %s", out);
		cr_log_info("created_at %s, next open instant %s (%s office hours)", created, out,
			    open == cr ? "inside" : "outside");
		cr_assert_eq(api_parse_instant(api_str(row, "not_before")), hold ? open : cr,
			     "%s row: not_before %s, created_at %s, next office instant %s (hold %d)",
			     api_str(row, "channel"), api_str(row, "not_before"), created, out, hold);
		api_t_expect_str(row, "status", "pending");
		free(out);
	}
}

#define HOLD_RULES                                                                               \
	"{ id = \"late\"; when = \"+1d\"; notify = [\"head\", \"channel:hctc-group\"];"           \
	" channels = [\"email\", \"chat\"]; }"

Test(escalation, held_until_office_hours)
{
	start(NULL, "hold_outside_office_hours = true;", HOLD_RULES, NULL);
	expect_held_rows(true);
}

Test(escalation, not_held_when_hold_is_off)
{
	start(NULL, "hold_outside_office_hours = false;", HOLD_RULES, NULL);
	expect_held_rows(false);
}

/* 5. Digest readers: their e-mails are held and, at digest_at on a working day, replaced by one
 * digest; urgent rules reach them at once; someone else's e-mails are not held. Held messages
 * written after today's digest wait for tomorrow's. digest_at is set to the next whole minute at
 * least 20 s away, so that the first rows are seen held before it. */
Test(escalation, digest_readers)
{
	char x[40], x2[40], y[40], z[40], settings[100];
	int64_t t0 = now_s();
	int64_t local = t0 + 7 * 3600, digest = (local + 20 + 59) / 60 * 60;

	if (digest / 86400 != local / 86400)
		cr_skip_test("too close to midnight for a digest later today");
	snprintf(settings, sizeof(settings), "digest_at = \"%02d:%02d\";",
		 (int)(digest % 86400 / 3600), (int)(digest % 3600 / 60));
	digest -= 7 * 3600;
	start(API_RTC_CALENDAR, settings,
	      "{ id = \"warn\"; when = \"due\"; notify = [\"handler\"]; },\n"
	      "{ id = \"late\"; when = \"+3s\"; notify = [\"handler\"]; urgent = true; }",
	      (const char *const[]){ "unit = \"xa-tu-phap-tan-phu\"; }",
				     "unit = \"xa-tu-phap-tan-phu\"; notify = \"digest\"; }", NULL });
	code(x, sizeof(x), 1);
	code(x2, sizeof(x2), 2);
	t0 = now_s();
	create(x, "xa-tu-phap-tan-phu", "binh.lt", t0, t0 + 2);
	create(x2, "xa-tu-phap-tan-phu", "tuan.hm", t0, t0 + 2);

	json_t *ax = wait_alerts(x, 2, t0 + 5);
	json_t *ax2 = wait_alerts(x2, 2, t0 + 5);
	cr_assert(now_s() < digest, "the alerts came after digest_at");
	json_t *box = outbox(NULL);
	expect_rows(box, json_array_get(ax, 0), x, "[Đến hạn] ", "held", 0,
		    (const char *const[]){ "email:binh.lt", NULL });
	expect_rows(box, json_array_get(ax, 1), x, "[QUÁ HẠN] ", "pending", 0,
		    (const char *const[]){ "email:binh.lt", NULL });
	expect_rows(box, json_array_get(ax2, 0), x2, "[Đến hạn] ", "pending", 0,
		    (const char *const[]){ "email:tuan.hm", NULL });
	int64_t held_id = api_int(json_array_get(rows_of(box, api_int(json_array_get(ax, 0), "id")), 0),
				  "id");
	char held_subject[400];
	snprintf(held_subject, sizeof(held_subject), "%s",
		 subject_to(box, json_array_get(ax, 0), "binh.lt"));

	/* At digest_at: one digest row (alert null) for binh.lt; the held row is digested. */
	json_t *digests = NULL, *row;
	size_t i;
	for (;;) {
		box = outbox("recipient=binh.lt");
		digests = api_t_keep(&t, json_array());
		json_array_foreach (box, i, row)
			if (api_is_null(row, "alert"))
				json_array_append(digests, row);
		if (json_array_size(digests) > 0)
			break;
		cr_assert(now_s() <= digest + 10, "no digest by digest_at + 10 s: %s",
			  json_dumps(box, JSON_COMPACT));
		api_sleep_ms(100);
	}
	cr_assert_eq(json_array_size(digests), 1, "%s", json_dumps(digests, JSON_COMPACT));
	row = json_array_get(digests, 0);
	api_t_expect_str(row, "channel", "email");
	api_t_expect_str(row, "address", "binh.lt@tanphu.dongnai.gov.vn");
	api_t_expect_str(row, "status", "pending");
	cr_assert(starts_with(api_str(row, "subject"), "[Tổng hợp "), "digest subject %s",
		  api_str(row, "subject"));
	cr_assert(strstr(api_str(row, "body_text"), x), "the digest does not list %s: %s", x,
		  api_str(row, "body_text"));
	/* digest.subject: "… {{due_soon_count}} hồ sơ sắp đến hạn, {{overdue_count}} hồ sơ quá hạn" */
	cr_assert(!strstr(api_str(row, "subject"), " , ") && !strstr(api_str(row, "subject"), ":  "),
		  "digest subject with empty counts: %s", api_str(row, "subject"));
	json_array_foreach (box, i, row) {
		if (api_int(row, "id") == held_id)
			api_t_expect_str(row, "status", "digested");
		else if (!api_is_null(row, "alert"))
			api_t_expect_str(row, "status", "pending"); /* the urgent one */
	}
	(void)held_subject;

	/* After today's digest, a new held message waits for tomorrow's: Z's later alert proves
	 * that the scheduler ran after Y's. */
	code(y, sizeof(y), 3);
	code(z, sizeof(z), 4);
	t0 = now_s();
	create(y, "xa-tu-phap-tan-phu", "binh.lt", t0, t0 + 2);
	create(z, "xa-tu-phap-tan-phu", "tuan.hm", t0, t0 + 6);
	json_t *ay = wait_alerts(y, 1, t0 + 2);
	wait_alerts(z, 1, t0 + 6);
	box = outbox(NULL);
	expect_rows(box, json_array_get(ay, 0), y, "[Đến hạn] ", "held", 0,
		    (const char *const[]){ "email:binh.lt", NULL });
	size_t ndigests = 0;
	json_array_foreach (box, i, row)
		ndigests += api_is_null(row, "alert");
	cr_assert_eq(ndigests, 1, "a second digest on the same day: %s",
		     json_dumps(box, JSON_COMPACT));
}

/* 6. Tier fallback: no handler → the unit's head; a unit without a head → its parent's head;
 * leader: the head of the nearest ancestor that has one. xa-tan-phu loses its head here. The
 * rules are urgent, so that long.nk (a digest reader) gets his at once too. */
Test(escalation, tier_fallback)
{
	char k[40], k2[40], x[40], xt[40];

	start(API_RTC_CALENDAR, NULL,
	      "{ id = \"to-handler\"; when = \"-4s\"; notify = [\"handler\"]; urgent = true; },\n"
	      "{ id = \"to-head\"; when = \"-2s\"; notify = [\"head\"]; urgent = true; },\n"
	      "{ id = \"to-leader\"; when = \"due\"; notify = [\"leader\"]; urgent = true; }",
	      (const char *const[]){ "parent = \"ubnd-tinh\";\n    head = \"hoa.tt\";",
				     "parent = \"ubnd-tinh\";", NULL });
	code(k, sizeof(k), 1);
	code(k2, sizeof(k2), 2);
	code(x, sizeof(x), 3);
	code(xt, sizeof(xt), 4);
	int64_t t0 = now_s();
	create(k, "kstt", NULL, t0, t0 + 6);
	create(k2, "kstt", "tuan.hm", t0, t0 + 6);
	create(x, "xa-tan-phu", NULL, t0, t0 + 6);
	create(xt, "xa-tu-phap-tan-phu", NULL, t0, t0 + 6);

	struct {
		const char *code, *handler, *head, *leader;
	} want[] = {
		/* kstt: head lan.ptn, parent vp (long.nk) */
		{ k, "email:lan.ptn", "email:lan.ptn", "email:long.nk" },
		{ k2, "email:tuan.hm", "email:lan.ptn", "email:long.nk" },
		/* xa-tan-phu: no head; parent ubnd-tinh (hung.ns) */
		{ x, "email:hung.ns", "email:hung.ns", "email:hung.ns" },
		/* xa-tu-phap-tan-phu: head binh.lt; parent xa-tan-phu has none → ubnd-tinh */
		{ xt, "email:binh.lt", "email:binh.lt", "email:hung.ns" },
	};
	for (size_t i = 0; i < 4; i++)
		wait_alerts(want[i].code, 3, t0 + 6);
	json_t *box = outbox(NULL);
	for (size_t i = 0; i < 4; i++) {
		json_t *a = api_t_case_alerts(&t, want[i].code);
		cr_assert_eq(json_array_size(a), 3, "%s", json_dumps(a, JSON_COMPACT));
		api_t_expect_str(json_array_get(a, 0), "rule", "to-handler");
		api_t_expect_str(json_array_get(a, 1), "rule", "to-head");
		api_t_expect_str(json_array_get(a, 2), "rule", "to-leader");
		expect_rows(box, json_array_get(a, 0), want[i].code, "[Sắp đến hạn] ", "pending", 0,
			    (const char *const[]){ want[i].handler, NULL });
		expect_rows(box, json_array_get(a, 1), want[i].code, "[Sắp đến hạn] ", "pending", 0,
			    (const char *const[]){ want[i].head, NULL });
		expect_rows(box, json_array_get(a, 2), want[i].code, "[Đến hạn] ", "pending", 0,
			    (const char *const[]){ want[i].leader, NULL });
	}
}

/* 7. A closed case never alerts: completed, rejected and withdrawn before their first rule;
 * the control case's later alert proves their instants have passed. */
Test(escalation, closed_case_never_alerts)
{
	char a[40], r[40], w[40], c[40];

	start(API_RTC_CALENDAR, NULL,
	      "{ id = \"soon\"; when = \"-3s\"; notify = [\"handler\"]; },\n"
	      "{ id = \"due\"; when = \"due\"; notify = [\"head\"]; }",
	      NULL);
	code(a, sizeof(a), 1);
	code(r, sizeof(r), 2);
	code(w, sizeof(w), 3);
	code(c, sizeof(c), 4);
	int64_t t0 = now_s();
	create(a, "hctc", "phong.tv", t0, t0 + 5);
	create(r, "hctc", "phong.tv", t0, t0 + 5);
	create(w, "hctc", "phong.tv", t0, t0 + 5);
	event(a, "\"type\": \"complete\"");
	event(r, "\"type\": \"reject\", \"reason\": \"Không đủ điều kiện\"");
	event(w, "\"type\": \"withdraw\", \"reason\": \"Người nộp rút hồ sơ\"");
	int64_t due_c = create(c, "hctc", "phong.tv", t0, t0 + 7);

	json_t *ac = wait_alerts(c, 2, t0 + 7);
	expect_alert(json_array_get(ac, 1), c, "due", 0, due_c, t0 + 7);
	const char *closed[] = { a, r, w };
	for (size_t i = 0; i < 3; i++) {
		json_t *x = api_t_case_alerts(&t, closed[i]);
		cr_assert_eq(json_array_size(x), 0, "closed %s alerted: %s", closed[i],
			     json_dumps(x, JSON_COMPACT));
	}
	json_t *all = api_t_all(&t, "/api/v1/alerts", "alerts", API_BAOCAO);
	cr_assert_eq(json_array_size(all), 2, "%s", json_dumps(all, JSON_COMPACT));
	cr_assert_eq(json_array_size(outbox(NULL)), 2);
}

/* 9. Catch-up: a case registered after all its rules' instants yields one alert, the most
 * severe (the latest instant; on a tie the rule listed last), not one per rule. */
Test(escalation, catch_up_collapses)
{
	char l1[40], l2[40], l3[40], tie[40];

	start(API_RTC_CALENDAR, NULL,
	      "{ id = \"half\"; when = \"50%\"; notify = [\"handler\"]; procedures = [\"1.004222\"]; },\n"
	      "{ id = \"soon\"; when = \"-10s\"; notify = [\"handler\"]; procedures = [\"1.004222\"]; },\n"
	      "{ id = \"due\"; when = \"due\"; notify = [\"handler\", \"head\"]; procedures = [\"1.004222\"]; },\n"
	      "{ id = \"late\"; when = \"+5s\"; notify = [\"head\", \"leader\"]; repeat = \"1m\";"
	      " urgent = true; procedures = [\"1.004222\"]; },\n"
	      "{ id = \"at-due\"; when = \"due\"; notify = [\"handler\"]; procedures = [\"1.013831\"]; },\n"
	      "{ id = \"full\"; when = \"100%\"; notify = [\"head\"]; procedures = [\"1.013831\"]; }",
	      NULL);
	code(l1, sizeof(l1), 1);
	code(l2, sizeof(l2), 2);
	code(l3, sizeof(l3), 3);
	code(tie, sizeof(tie), 4);
	int64_t t0 = now_s();
	int64_t due1 = create(l1, "hctc", "phong.tv", t0 - 1000, t0 - 500);
	int64_t due2 = create(l2, "hctc", "phong.tv", t0 - 100, t0 - 20);
	int64_t due3 = create(l3, "hctc", "phong.tv", t0 - 40, t0 + 30);
	char r[40], d[40];
	api_format_instant(r, sizeof(r), t0 - 100);
	api_format_instant(d, sizeof(d), t0 - 50);
	api_t_reqf(&t, "POST", "/api/v1/cases", API_MOTCUA, 201,
		   "{\"code\": \"%s\", \"procedure\": \"1.013831\", \"unit\": \"hctc\", "
		   "\"received_at\": \"%s\", \"due_at\": \"%s\"}", tie, r, d);

	/* l1: overdue 500 s: the latest firing is occurrence k of late, k = floor((now -
	 * (due+5)) / 60) at the moment it fired. */
	json_t *a = wait_alerts(l1, 1, t0);
	json_t *first = json_array_get(a, 0);
	int64_t fired = api_parse_instant(api_str(first, "fired_at"));
	int64_t k = (fired - (due1 + 5)) / 60;
	expect_alert_d(first, l1, "late", k, due1, due1 + 5 + 60 * k, 60);
	cr_assert(json_array_size(a) == 1 ||
			  (json_array_size(a) == 2 &&
			   api_int(json_array_get(a, 1), "occurrence") == k + 1),
		  "more than one catch-up alert: %s", json_dumps(a, JSON_COMPACT));

	a = wait_alerts(l2, 1, t0);
	expect_alert_d(json_array_get(a, 0), l2, "late", 0, due2, due2 + 5, CATCH_UP);
	cr_assert_eq(json_array_size(a), 1, "%s", json_dumps(a, JSON_COMPACT));

	/* l3: only half (t0-5) has passed; soon comes at t0+20. */
	a = wait_alerts(l3, 1, t0);
	expect_alert_d(json_array_get(a, 0), l3, "half", 0, due3, t0 - 5, CATCH_UP);

	/* tie: at-due and full (100%) both at due: the one listed last. */
	a = wait_alerts(tie, 1, t0);
	expect_alert_d(json_array_get(a, 0), tie, "full", 0, t0 - 50, t0 - 50, CATCH_UP);

	/* l3's "soon" (t0+20) proves the scheduler has run since: still one alert each. */
	a = wait_alerts(l3, 2, t0 + 20);
	expect_alert(json_array_get(a, 1), l3, "soon", 0, due3, t0 + 20);
	cr_assert_eq(json_array_size(api_t_case_alerts(&t, l2)), 1);
	cr_assert_eq(json_array_size(api_t_case_alerts(&t, tie)), 1);
	json_t *box = outbox(NULL);
	expect_rows(box, json_array_get(api_t_case_alerts(&t, l2), 0), l2, "[QUÁ HẠN] ", "pending",
		    0, (const char *const[]){ "email:phong.tv", "email:long.nk", NULL });
}

/* 10. ?at_risk=true: exactly the open cases with at least one alert. */
Test(escalation, at_risk_lists_open_cases_with_alerts)
{
	char a[40], b[40], c[40], d[40], e[40];

	start(API_RTC_CALENDAR, NULL, "{ id = \"due\"; when = \"due\"; notify = [\"head\"]; }", NULL);
	code(a, sizeof(a), 1);
	code(b, sizeof(b), 2);
	code(c, sizeof(c), 3);
	code(d, sizeof(d), 4);
	code(e, sizeof(e), 5);
	int64_t t0 = now_s();
	create(a, "xa-tu-phap-tan-phu", NULL, t0 - 100, t0 - 10);
	create(b, "xa-tu-phap-tan-phu", NULL, t0, t0 + 3600);
	create(c, "hctc", NULL, t0 - 100, t0 - 10);
	create(d, "hctc", NULL, t0 - 100, t0 - 10);
	create(e, "kstt", NULL, t0 - 100, t0 - 10);
	const char *alerted[] = { a, c, d, e };
	for (size_t i = 0; i < 4; i++)
		wait_alerts(alerted[i], 1, t0);
	event(c, "\"type\": \"complete\"");
	event(d, "\"type\": \"withdraw\", \"reason\": \"Người nộp rút hồ sơ\"");

	json_t *page = api_t_all(&t, "/api/v1/cases?at_risk=true", "cases", API_BAOCAO);
	cr_assert_eq(json_array_size(page), 2, "%s", json_dumps(page, JSON_COMPACT));
	/* ordered by due_at, then creation */
	api_t_expect_str(json_array_get(page, 0), "code", a);
	api_t_expect_str(json_array_get(page, 1), "code", e);
	page = api_t_all(&t, "/api/v1/cases?at_risk=true&unit=xa-tan-phu", "cases", API_BAOCAO);
	cr_assert_eq(json_array_size(page), 1, "%s", json_dumps(page, JSON_COMPACT));
	api_t_expect_str(json_array_get(page, 0), "code", a);
	page = api_t_all(&t, "/api/v1/cases?at_risk=false", "cases", API_BAOCAO);
	cr_assert_eq(json_array_size(page), 5, "at_risk=false filters nothing: %s",
		     json_dumps(page, JSON_COMPACT));
	api_t_req(&t, "GET", "/api/v1/cases?at_risk=yes", API_BAOCAO, NULL, 400);
	api_t_expect_error(&t, 400, "invalid_query", "at_risk");
}

/* Bad requests on the new endpoints. */
Test(escalation, bad_requests)
{
	start(API_RTC_CALENDAR, NULL, "{ id = \"due\"; when = \"due\"; notify = [\"head\"]; }", NULL);
	create("000.00.21.H19-250101-0001", "hctc", NULL, now_s(), now_s() + 3600);

	static const struct {
		const char *path, *field;
	} bad[] = {
		{ "/api/v1/alerts?foo=1", "foo" },
		{ "/api/v1/alerts?item=bogus", "item" },
		{ "/api/v1/alerts?item=case", "item" },
		{ "/api/v1/alerts?item=document:abc", "item" },
		{ "/api/v1/alerts?item=document:0", "item" },
		{ "/api/v1/alerts?item=assignment:-1", "item" },
		{ "/api/v1/alerts?item=assignment:1x", "item" },
		{ "/api/v1/alerts?item=folder:1", "item" },
		{ "/api/v1/alerts?acknowledged=yes", "acknowledged" },
		{ "/api/v1/alerts?since=yesterday", "since" },
		{ "/api/v1/alerts?limit=0", "limit" },
		{ "/api/v1/alerts?limit=501", "limit" },
		{ "/api/v1/alerts?cursor=abc", "cursor" },
		{ "/api/v1/alerts?rule=%C3%28", "rule" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		api_t_req(&t, "GET", bad[i].path, API_BAOCAO, NULL, 400);
		api_t_expect_error(&t, 400, "invalid_query", bad[i].field);
	}
	api_t_req(&t, "GET", "/api/v1/alerts?unit=nowhere", API_BAOCAO, NULL, 422);
	api_t_expect_error(&t, 422, "unknown_reference", "unit");
	/* Good filters answer 200 (nothing has fired yet). */
	json_t *j = api_t_req(&t, "GET",
			      "/api/v1/alerts?item=case:000.00.21.H19-250101-0001&unit=vp&rule=due&"
			      "since=2024-02-07T10:00:00%2B07:00&acknowledged=false&limit=500",
			      API_BAOCAO, NULL, 200);
	cr_assert_eq(json_array_size(json_object_get(j, "alerts")), 0);
	cr_assert(api_is_null(j, "next_cursor"));

	/* the outbox: admin only */
	api_t_req(&t, "GET", "/api/v1/outbox", API_BAOCAO, NULL, 403);
	api_t_expect_error(&t, 403, "forbidden", NULL);
	api_t_req(&t, "GET", "/api/v1/outbox", API_MOTCUA, NULL, 403);
	api_t_expect_error(&t, 403, "forbidden", NULL);
	api_t_req(&t, "GET", "/api/v1/outbox", NULL, NULL, 401);
	api_t_req(&t, "GET", "/api/v1/outbox?status=queued", API_ADMIN, NULL, 400);
	api_t_expect_error(&t, 400, "invalid_query", "status");
	api_t_req(&t, "GET", "/api/v1/outbox?channel=sms", API_ADMIN, NULL, 400);
	api_t_expect_error(&t, 400, "invalid_query", "channel");
	api_t_req(&t, "GET", "/api/v1/outbox?alert=1", API_ADMIN, NULL, 400);
	api_t_expect_error(&t, 400, "invalid_query", "alert");
	api_t_req(&t, "GET", "/api/v1/outbox?limit=0", API_ADMIN, NULL, 400);
	api_t_expect_error(&t, 400, "invalid_query", "limit");
	api_t_req(&t, "GET", "/api/v1/outbox?recipient=%FF", API_ADMIN, NULL, 400);
	api_t_expect_error(&t, 400, "invalid_query", "recipient");
	static const char *const statuses[] = { "pending", "held", "digested", "sending",
						"sent", "failed", "dead" };
	for (size_t i = 0; i < 7; i++) {
		char path[100];
		snprintf(path, sizeof(path), "/api/v1/outbox?status=%s&channel=chat&recipient=x",
			 statuses[i]);
		api_t_req(&t, "GET", path, API_ADMIN, NULL, 200);
	}

	/* acknowledging */
	api_t_req(&t, "POST", "/api/v1/alerts/1/ack", API_BAOCAO, NULL, 403);
	api_t_expect_error(&t, 403, "forbidden", NULL);
	api_t_req(&t, "POST", "/api/v1/alerts/1/ack", API_MOTCUA, NULL, 404);
	api_t_expect_error(&t, 404, "not_found", NULL);
	api_t_req(&t, "POST", "/api/v1/alerts/abc/ack", API_MOTCUA, NULL, 404);
	api_t_req(&t, "POST", "/api/v1/alerts/1/ack", API_MOTCUA, "{\"note\": 5}", 400);
	api_t_expect_error(&t, 400, "invalid_field", "note");
	api_t_req(&t, "POST", "/api/v1/alerts/1/ack", API_MOTCUA, "{\"why\": \"x\"}", 400);
	api_t_expect_error(&t, 400, "unknown_field", "why");
	api_t_req(&t, "POST", "/api/v1/alerts/1/ack", API_MOTCUA, "[1]", 400);
	api_t_expect_error(&t, 400, "bad_json", NULL);
	api_t_req(&t, "GET", "/api/v1/alerts/1/ack", API_MOTCUA, NULL, 405);
	api_t_req(&t, "POST", "/api/v1/alerts", API_MOTCUA, "{}", 405);
	api_t_req(&t, "POST", "/api/v1/outbox", API_ADMIN, "{}", 405);
}

/* An empty case code is a malformed item (a code has 1 to 64 characters), not an unknown one:
 * 400 like the other malformed items. (docs/escalation.md says only "bad item: 400"; an
 * unknown but well-formed code answers 404 not_found, which the spec does not settle.) */
Test(escalation, alerts_item_with_an_empty_code)
{
	start(API_RTC_CALENDAR, NULL, "{ id = \"due\"; when = \"due\"; notify = [\"head\"]; }", NULL);
	api_t_req(&t, "GET", "/api/v1/alerts?item=case:", API_BAOCAO, NULL, 400);
	api_t_expect_error(&t, 400, "invalid_query", "item");
}

/* Documents and assignments have their own rules: a document's unit is its lead unit, an
 * assignment's handler its assignee. */
Test(escalation, documents_and_assignments)
{
	start(API_RTC_CALENDAR, NULL, "{ id = \"due\"; when = \"due\"; notify = [\"head\"]; }\n  );\n"
	      "  documents = ( { id = \"doc-due\"; when = \"-2s\"; notify = [\"head\"]; } );\n"
	      "  assignments = ( { id = \"task-late\"; when = \"+1s\"; notify = [\"handler\","
	      " \"leader\"]; urgent = true; }",
	      NULL);
	char d[40], path[100];
	int64_t t0 = now_s();
	api_format_instant(d, sizeof(d), t0 + 3);
	json_t *doc = api_t_reqf(&t, "POST", "/api/v1/documents", API_VANTHU, 201,
				 "{\"symbol\": \"506/SNV-TT\", \"summary\": \"V/v cải cách hành chính\", "
				 "\"lead_unit\": \"kstt\", \"due_at\": \"%s\"}", d);
	int64_t doc_id = api_int(doc, "id");
	json_t *asg = api_t_reqf(&t, "POST", "/api/v1/assignments", API_VANTHU, 201,
				 "{\"direction\": \"Chỉ đạo của Chủ tịch\", \"unit\": \"hctc\", "
				 "\"assignee\": \"tuan.hm\", \"title\": \"Rà soát thủ tục\", "
				 "\"due_at\": \"%s\"}", d);
	int64_t asg_id = api_int(asg, "id");

	json_t *a;
	snprintf(path, sizeof(path), "/api/v1/alerts?item=document:%lld", (long long)doc_id);
	while (json_array_size(a = api_t_all(&t, path, "alerts", API_BAOCAO)) < 1) {
		cr_assert(now_s() <= t0 + 11, "no document alert");
		api_sleep_ms(50);
	}
	cr_assert_eq(json_array_size(a), 1, "%s", json_dumps(a, JSON_COMPACT));
	char id[24];
	snprintf(id, sizeof(id), "%lld", (long long)doc_id);
	api_t_expect_str(json_array_get(a, 0), "item_kind", "document");
	api_t_expect_str(json_array_get(a, 0), "item", id);
	api_t_expect_str(json_array_get(a, 0), "rule", "doc-due");
	api_t_expect_str(json_array_get(a, 0), "unit", "kstt");
	cr_assert_eq(api_parse_instant(api_str(json_array_get(a, 0), "fire_at")), t0 + 1);
	int64_t doc_alert = api_int(json_array_get(a, 0), "id");

	snprintf(path, sizeof(path), "/api/v1/alerts?item=assignment:%lld", (long long)asg_id);
	while (json_array_size(a = api_t_all(&t, path, "alerts", API_BAOCAO)) < 1) {
		cr_assert(now_s() <= t0 + 14, "no assignment alert");
		api_sleep_ms(50);
	}
	cr_assert_eq(json_array_size(a), 1, "%s", json_dumps(a, JSON_COMPACT));
	snprintf(id, sizeof(id), "%lld", (long long)asg_id);
	api_t_expect_str(json_array_get(a, 0), "item_kind", "assignment");
	api_t_expect_str(json_array_get(a, 0), "item", id);
	api_t_expect_str(json_array_get(a, 0), "rule", "task-late");
	api_t_expect_str(json_array_get(a, 0), "unit", "hctc");
	cr_assert_eq(api_parse_instant(api_str(json_array_get(a, 0), "fire_at")), t0 + 4);
	int64_t asg_alert = api_int(json_array_get(a, 0), "id");

	json_t *box = outbox(NULL), *row;
	size_t i, ndoc = 0, nasg = 0;
	json_array_foreach (box, i, row) {
		const char *subject = api_str(row, "subject");
		if (api_int(row, "alert") == doc_alert) {
			ndoc++;
			api_t_expect_str(row, "recipient", "lan.ptn"); /* head of kstt */
			cr_assert(starts_with(subject, "[Văn bản sắp đến hạn] 506/SNV-TT"), "%s", subject);
		} else if (api_int(row, "alert") == asg_alert) {
			nasg++;
			/* the assignee, then the head of hctc's parent vp: long.nk (urgent: at once) */
			cr_assert(!strcmp(api_str(row, "recipient"), "tuan.hm") ||
					  !strcmp(api_str(row, "recipient"), "long.nk"),
				  "%s", json_dumps(row, JSON_COMPACT));
			api_t_expect_str(row, "status", "pending");
			cr_assert(starts_with(subject, "[Nhiệm vụ quá hạn] Phòng Hành chính - Tổ chức: "
						       "Rà soát thủ tục"), "%s", subject);
		}
	}
	cr_assert_eq(ndoc, 1, "%s", json_dumps(box, JSON_COMPACT));
	cr_assert_eq(nasg, 2, "%s", json_dumps(box, JSON_COMPACT));
}

/* Config errors of bad rules: `dunghand --check-config` exits 1 naming the setting. */
static void expect_config_error(const char *rules, const char *setting, const char *words)
{
	char *extra, *out = NULL;
	struct err e = { 0 };

	cr_assert_geq(asprintf(&extra,
			       "escalation: {\n  templates = \"" TEMPLATES "\";\n  %s\n};\n", rules),
		      0);
	struct api_options o = { .extra = extra, .calendar = API_RTC_CALENDAR };
	int rc = api_check_config(&o, &out, &e);
	cr_assert_eq(rc, 1, "%s\n→ exit %d (%s), expected 1: %s", rules, rc, e.msg, out ? out : "");
	cr_assert(strstr(out, setting), "%s\n→ the error does not name %s: %s", rules, setting, out);
	cr_assert(strstr(out, words), "%s\n→ the error does not say \"%s\": %s", rules, words, out);
	cr_assert(strstr(out, "dunghan.conf:"), "no file:line in: %s", out);
	free(out);
	free(extra);
}

Test(escalation, config_errors)
{
	char *out = NULL;
	struct err e = { 0 };

	/* the good rules of these tests pass */
	struct api_options good = {
		.calendar = API_RTC_CALENDAR,
		.extra = "escalation: { templates = \"" TEMPLATES "\"; digest_at = \"07:30\";\n"
			 "  cases = ( { id = \"half\"; when = \"50%\"; notify = [\"handler\"]; },\n"
			 "    { id = \"x\"; when = \"+1d\"; notify = [\"person:hung.ns\", "
			 "\"channel:g\"]; channels = [\"email\", \"chat\"]; repeat = \"1d\"; "
			 "urgent = true; units = [\"vp\"]; procedures = [\"1.004222\"]; } );\n"
			 "  documents = ( { id = \"d\"; when = \"-1d\"; notify = [\"head\"]; "
			 "units = [\"vp\"]; } );\n"
			 "  assignments = ( { id = \"a\"; when = \"due\"; notify = [\"handler\"]; } );\n"
			 "};\n",
	};
	int rc = api_check_config(&good, &out, &e);
	cr_assert_eq(rc, 0, "good rules: exit %d (%s): %s", rc, e.msg, out ? out : "");
	free(out);

	expect_config_error("cases = ( { id = \"a\"; when = \"due\"; notify = [\"boss\"]; } );",
			    "escalation.cases[0].notify", "boss");
	expect_config_error("cases = ( { id = \"a\"; when = \"50\"; notify = [\"head\"]; } );",
			    "escalation.cases[0].when", "\"50\"");
	expect_config_error("cases = ( { id = \"a\"; when = \"-1x\"; notify = [\"head\"]; } );",
			    "escalation.cases[0].when", "\"-1x\"");
	expect_config_error("cases = ( { id = \"a\"; when = \"+-1d\"; notify = [\"head\"]; } );",
			    "escalation.cases[0].when", "\"+-1d\"");
	expect_config_error("cases = ( { id = \"a\"; when = \"0%\"; notify = [\"head\"]; } );",
			    "escalation.cases[0].when", "\"0%\"");
	expect_config_error("cases = ( { id = \"a\"; when = \"101%\"; notify = [\"head\"]; } );",
			    "escalation.cases[0].when", "\"101%\"");
	expect_config_error("cases = ( { id = \"a\"; when = \"due\"; notify = [\"head\"]; },\n"
			    "  { id = \"a\"; when = \"+1d\"; notify = [\"head\"]; } );",
			    "escalation.cases[1].id", "duplicate");
	expect_config_error("documents = ( { id = \"d\"; when = \"due\"; notify = [\"head\"]; "
			    "procedures = [\"1.004222\"]; } );",
			    "escalation.documents[0].procedures", "unknown");
	expect_config_error("cases = ( { id = \"a\"; when = \"due\"; notify = [\"person:nobody\"]; } );",
			    "escalation.cases[0].notify", "nobody");
	expect_config_error("cases = ( { id = \"a\"; when = \"due\"; notify = [\"head\"]; "
			    "units = [\"nowhere\"]; } );",
			    "escalation.cases[0].units", "nowhere");
	expect_config_error("cases = ( { id = \"a\"; when = \"due\"; notify = [\"head\"]; "
			    "procedures = [\"9.999999\"]; } );",
			    "escalation.cases[0].procedures", "9.999999");
	expect_config_error("cases = ( { id = \"a\"; when = \"due\"; notify = [\"head\"]; "
			    "channels = [\"sms\"]; } );",
			    "escalation.cases[0].channels", "sms");
	expect_config_error("cases = ( { id = \"a\"; when = \"due\"; notify = []; } );",
			    "escalation.cases[0].notify", "tier");
	expect_config_error("cases = ( { id = \"a\"; when = \"due\"; notify = [\"head\"]; "
			    "repeat = \"soon\"; } );",
			    "escalation.cases[0].repeat", "soon");
	expect_config_error("digest_at = \"25:00\"; cases = ( { id = \"a\"; when = \"due\"; "
			    "notify = [\"head\"]; } );",
			    "escalation.digest_at", "25:00");
}
