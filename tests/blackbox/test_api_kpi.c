/* The KPI endpoints against the real dunghand (docs/api.md, "KPIs"; docs/kpi.md): the figures of
 * a generated two-year dataset — several thousand cases on a three-level unit tree, created by
 * batch and moved by events (completed early, exactly at due_at, on the due date, late; paused
 * and resumed both ways, paused while overdue; rescheduled; withdrawn; rejected; returned;
 * rated), with documents and assignments — compared, count by count and rate by rate, with what
 * the test computes by walking its own list of what it did, for several periods and both bases;
 * the CSV parsed back; the error budget of a year built at a known pace; a directive's cascade;
 * bad queries; and reports running through reloads and a stop.
 *
 * The calendar is round the clock (every day 00:00-24:00, no holidays), so that working time is
 * wall-clock time and the test can follow every due instant itself; the periods are local dates
 * of Asia/Ho_Chi_Minh (UTC+7) either way. Every instant lies in 2023-11 .. 2026-01, in the past. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_fixture.h"
#include "calendar.h"

static struct api_t t;

static void teardown(void)
{
	api_t_teardown(&t);
}

TestSuite(kpi, .fini = teardown, .timeout = 240);

#define HOUR 3600
#define DAY 86400
#define NONE INT64_MIN
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* --- the office ------------------------------------------------------------------------------- */

#define TARGETS                                                                                  \
	"targets = (\n"                                                                          \
	"  { level = \"province\"; on_time = 97.0; },\n"                                         \
	"  { level = \"department\"; on_time = 97.0; online = 80.0; online_payment = 30.0;\n"    \
	"    satisfaction = 94.0; digitized = 90.0; inspection = 70.0; },\n"                     \
	"  { level = \"commune\"; on_time = 97.0; online = 30.0; online_payment = 15.0; }\n"     \
	");\n"

/* The example's units, and three more under the province: a department, a commune with cases
 * and a commune without any, whose name needs quoting in CSV. */
static const char *const office_edits[] = {
	"level = \"commune-section\"; parent = \"xa-tan-phu\"; head = \"binh.lt\"; }",
	"level = \"commune-section\"; parent = \"xa-tan-phu\"; head = \"binh.lt\"; },\n"
	"  { id = \"so-tp\"; name = \"Sở Tư pháp\"; level = \"department\";"
	" parent = \"ubnd-tinh\"; },\n"
	"  { id = \"xa-an-binh\"; name = \"UBND xã An Bình\"; level = \"commune\";"
	" parent = \"ubnd-tinh\"; },\n"
	"  { id = \"xa-moi\"; name = \"UBND xã Mới, \\\"thí điểm\\\"\"; level = \"commune\";"
	" parent = \"ubnd-tinh\"; }",
	NULL
};

struct unit {
	const char *id, *level, *parent, *name;
};

/* In config order. */
static const struct unit units[] = {
	{ "ubnd-tinh", "province", NULL, "UBND tỉnh Đồng Nai" },
	{ "vp", "office", "ubnd-tinh", "Văn phòng UBND tỉnh" },
	{ "hctc", "department", "vp", "Phòng Hành chính - Tổ chức" },
	{ "kstt", "department", "vp", "Phòng Kiểm soát thủ tục hành chính" },
	{ "ttphvhcc", "center", "vp", "Trung tâm Phục vụ hành chính công tỉnh" },
	{ "cttdt", "center", "vp", "Cổng thông tin điện tử tỉnh" },
	{ "xa-tan-phu", "commune", "ubnd-tinh", "UBND xã Tân Phú" },
	{ "xa-tu-phap-tan-phu", "commune-section", "xa-tan-phu",
	  "Bộ phận Tư pháp - Hộ tịch xã Tân Phú" },
	{ "so-tp", "department", "ubnd-tinh", "Sở Tư pháp" },
	{ "xa-an-binh", "commune", "ubnd-tinh", "UBND xã An Bình" },
	{ "xa-moi", "commune", "ubnd-tinh", "UBND xã Mới, \"thí điểm\"" },
};
#define NUNITS N(units)

struct target {
	const char *level;
	double on_time, online, online_payment, satisfaction, digitized, inspection;
};

static const struct target targets[] = {
	{ "province", 97.0, -1, -1, -1, -1, -1 },
	{ "department", 97.0, 80.0, 30.0, 94.0, 90.0, 70.0 },
	{ "commune", 97.0, 30.0, 15.0, -1, -1, -1 },
};

static int unit_index(const char *id)
{
	for (size_t i = 0; i < NUNITS; i++)
		if (!strcmp(units[i].id, id))
			return (int)i;
	cr_assert_fail("no unit %s", id);
	return -1;
}

static const struct target *target_of(const char *level)
{
	for (size_t i = 0; i < N(targets); i++)
		if (!strcmp(targets[i].level, level))
			return &targets[i];
	return NULL;
}

static void start(const char *log_level)
{
	struct api_options o = { .extra = TARGETS, .calendar = API_RTC_CALENDAR,
				 .office_edits = office_edits, .log_level = log_level };
	api_t_start(&t, &o);
}

/* --- time and chance -------------------------------------------------------------------------- */

/* Local time (UTC+7) as Unix seconds. */
static int64_t local_at(int y, int mo, int d, int h, int mi)
{
	return (int64_t)civil_to_days(y, mo, d) * DAY + h * HOUR + mi * 60 - 7 * HOUR;
}

static int64_t local_day(int64_t t0)
{
	int64_t s = t0 + 7 * HOUR;
	return s >= 0 ? s / DAY : -((-s + DAY - 1) / DAY);
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

/* Uniform in [lo, hi]. */
static int64_t rnd_range(int64_t lo, int64_t hi)
{
	cr_assert_leq(lo, hi);
	return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static char *instant(int64_t t0, char *buf)
{
	api_format_instant(buf, 32, t0);
	return buf;
}

/* --- the cases and what happens to them ------------------------------------------------------- */

enum { ST_OPEN, ST_PAUSED, ST_COMPLETED, ST_RETURNED, ST_WITHDRAWN, ST_REJECTED };
enum { OUT_NONE, OUT_EARLY, OUT_ON_TIME, OUT_LATE };
static const char *const outcome_names[] = { NULL, "early", "on_time", "late" };

struct tevent {
	char body[200];
	int64_t due;       /* the case's due_at after it */
	int outcome;       /* the case's outcome after it */
};

#define MAX_EVENTS 6

/* A case as the test made it, and as the daemon should hold it after its events. */
struct tcase {
	char code[40];
	int unit;
	bool restart;          /* procedure 1.004873 (restart, 3 days), else 1.004222 (continue) */
	int64_t received, due; /* due: the current appointment */
	int64_t due0;          /* the appointment given on create */
	int online;            /* 0 none, 1 partial, 2 full */
	bool paid, digitized;
	int64_t fee;
	int status;
	bool late;             /* rescheduled */
	int64_t paused_at, remaining;
	int64_t completed;
	int outcome;
	int rating;
	int64_t rated_at;
	struct tevent ev[MAX_EVENTS];
	int nev;
};

static struct tevent *add_event(struct tcase *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static struct tevent *add_event(struct tcase *c, const char *fmt, ...)
{
	va_list ap;
	struct tevent *e;

	cr_assert_lt(c->nev, MAX_EVENTS);
	e = &c->ev[c->nev++];
	va_start(ap, fmt);
	vsnprintf(e->body, sizeof(e->body), fmt, ap);
	va_end(ap);
	return e;
}

static void record(struct tcase *c, struct tevent *e)
{
	e->due = c->due;
	e->outcome = c->outcome;
}

/* The rules of case.c, in wall-clock time. */
static void pause_case(struct tcase *c, int64_t at)
{
	char b[32];
	struct tevent *e = add_event(c, "{\"type\":\"pause\",\"at\":\"%s\","
				     "\"reason\":\"Yêu cầu bổ sung\"}", instant(at, b));
	c->paused_at = at;
	c->remaining = c->due - at;
	c->status = ST_PAUSED;
	record(c, e);
}

static void resume_case(struct tcase *c, int64_t at)
{
	char b[32];
	struct tevent *e = add_event(c, "{\"type\":\"resume\",\"at\":\"%s\"}", instant(at, b));
	if (c->remaining > 0)
		c->due = at + c->remaining;
	/* A restart: the full time again, never less than was left. */
	if (c->restart && at + 3 * DAY > c->due)
		c->due = at + 3 * DAY;
	c->paused_at = NONE;
	c->remaining = 0;
	c->status = ST_OPEN;
	record(c, e);
}

static void complete_case(struct tcase *c, int64_t at)
{
	char b[32];
	struct tevent *e = add_event(c, "{\"type\":\"complete\",\"at\":\"%s\"}", instant(at, b));
	c->completed = at;
	c->status = ST_COMPLETED;
	if (c->late || at > c->due)
		c->outcome = OUT_LATE;
	else if (local_day(at) < local_day(c->due))
		c->outcome = OUT_EARLY;
	else
		c->outcome = OUT_ON_TIME;
	record(c, e);
}

static void reschedule_case(struct tcase *c, int64_t at, int64_t due)
{
	char b[32], d[32];
	struct tevent *e = add_event(c, "{\"type\":\"reschedule\",\"at\":\"%s\",\"due_at\":\"%s\","
				     "\"apology\":\"Văn bản xin lỗi (mẫu 04)\"}",
				     instant(at, b), instant(due, d));
	c->due = due;
	c->late = true;
	record(c, e);
}

static void end_case(struct tcase *c, int64_t at, bool withdraw)
{
	char b[32];
	struct tevent *e = add_event(c, "{\"type\":\"%s\",\"at\":\"%s\","
				     "\"reason\":\"Theo đề nghị\"}",
				     withdraw ? "withdraw" : "reject", instant(at, b));
	c->status = withdraw ? ST_WITHDRAWN : ST_REJECTED;
	record(c, e);
}

static void return_case(struct tcase *c, int64_t at)
{
	char b[32];
	struct tevent *e = add_event(c, "{\"type\":\"return\",\"at\":\"%s\"}", instant(at, b));
	c->status = ST_RETURNED;
	record(c, e);
}

static void rate_case(struct tcase *c, int64_t at, int rating)
{
	char b[32];
	struct tevent *e = add_event(c, "{\"type\":\"rate\",\"at\":\"%s\",\"rating\":%d}",
				     instant(at, b), rating);
	c->rating = rating;
	c->rated_at = at;
	record(c, e);
}

/* The units that get cases (xa-moi never does). */
static const char *const case_units[] = {
	"hctc", "kstt", "ttphvhcc", "cttdt", "xa-tan-phu", "xa-tu-phap-tan-phu", "so-tp",
	"xa-an-binh", "vp", "ubnd-tinh", "hctc", "ttphvhcc", "xa-tan-phu", "xa-an-binh",
};

static void init_case(struct tcase *c, int i, const char *unit, int64_t received, int64_t due)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->code, sizeof(c->code), "000.00.21.H19-%06d-%04d", 240000 + i / 10000,
		 i % 10000);
	c->unit = unit_index(unit);
	c->received = received;
	c->due = c->due0 = due;
	c->paused_at = c->completed = c->rated_at = NONE;
}

/* A case received between 2023-11-01 and 2025-10-31, and one of the fates of the edge
 * cases. */
static void plan_case(struct tcase *c, int i)
{
	int64_t received = rnd_range(local_at(2023, 11, 1, 0, 0), local_at(2025, 10, 31, 0, 0));
	int fate;

	init_case(c, i, case_units[rnd() % N(case_units)], received,
		  received + rnd_range(DAY / 2, 20 * DAY));
	c->restart = rnd() % 3 == 0;
	c->online = (int)(rnd() % 3);
	c->paid = rnd() % 2;
	c->digitized = rnd() % 4 != 0;
	c->fee = rnd() % 3 ? 0 : 1000 * rnd_range(5, 500);
	fate = (int)(rnd() % 100);
	if (fate < 33) {
		complete_case(c, rnd_range(c->received + 1, c->due - 1));
	} else if (fate < 41) {
		complete_case(c, c->due); /* exactly at due_at: on time */
	} else if (fate < 46) {
		int64_t day_start = (local_day(c->due) * DAY) - 7 * HOUR;
		complete_case(c, rnd_range(day_start > c->received ? day_start : c->received + 1,
					   c->due)); /* on the due date */
	} else if (fate < 58) {
		complete_case(c, c->due + rnd_range(1, 15 * DAY));
	} else if (fate < 66) {
		int64_t p = rnd_range(c->received + 1, c->due - 1), r;
		int sub = (int)(rnd() % 4);
		pause_case(c, p);
		if (sub > 0) {
			resume_case(c, r = p + rnd_range(HOUR, 10 * DAY));
			if (sub == 2)
				complete_case(c, rnd_range(r + 1, c->due + 5 * DAY));
		}
	} else if (fate < 69) {
		int64_t p = c->due + rnd_range(HOUR, 5 * DAY); /* paused while overdue */
		pause_case(c, p);
		if (rnd() % 2)
			resume_case(c, p + rnd_range(HOUR, 3 * DAY));
	} else if (fate < 75) {
		int64_t at = rnd_range(c->received + 1, c->due + 3 * DAY);
		reschedule_case(c, at, c->due + rnd_range(DAY, 20 * DAY));
		if (rnd() % 2)
			complete_case(c, rnd_range(at + 1, c->due + 2 * DAY));
	} else if (fate < 78) {
		end_case(c, rnd_range(c->received + 1, c->due + 10 * DAY), true);
	} else if (fate < 81) {
		end_case(c, rnd_range(c->received + 1, c->due + 10 * DAY), false);
	}
	if (c->status == ST_COMPLETED) {
		int64_t at = c->completed;
		if (rnd() % 5 == 0)
			return_case(c, at += rnd_range(HOUR, 3 * DAY));
		if (rnd() % 5 < 2)
			rate_case(c, at + rnd_range(HOUR, 20 * DAY), 1 + (int)(rnd() % 5));
	}
}

static char *case_line(const struct tcase *c, char *buf, size_t n)
{
	static const char *const online[] = { "none", "partial", "full" };
	char r[32], d[32];
	int len = snprintf(buf, n,
		 "{\"code\":\"%s\",\"procedure\":\"%s\",\"unit\":\"%s\",\"received_at\":\"%s\","
		 "\"due_at\":\"%s\",\"online\":\"%s\",\"paid_online\":%s,\"digitized\":%s,"
		 "\"fee\":%lld}\n",
		 c->code, c->restart ? "1.004873" : "1.004222", units[c->unit].id,
		 instant(c->received, r), instant(c->due0, d), online[c->online],
		 c->paid ? "true" : "false", c->digitized ? "true" : "false", (long long)c->fee);
	cr_assert(len > 0 && (size_t)len < n);
	return buf;
}

/* --- sending ---------------------------------------------------------------------------------- */

#define BATCH 1000
#define PIPELINE 48

static const char *const write_headers[] = { "Authorization: Bearer " API_MOTCUA,
					     "Content-Type: application/json", NULL };

static struct http_client *connect_daemon(void)
{
	struct err e = { 0 };
	struct http_client *c = api_connect(&t.f, 30000, &e);

	cr_assert(c, "connecting: %s", e.msg);
	return c;
}

/* Creates the cases with POST /cases:batch, BATCH lines a request. */
static void create_cases(const struct tcase *cs, size_t n)
{
	char *body = malloc(BATCH * 400), line[400];

	cr_assert(body);
	for (size_t i = 0; i < n; i += BATCH) {
		size_t len = 0, k = n - i < BATCH ? n - i : BATCH;
		for (size_t j = 0; j < k; j++) {
			size_t l = strlen(case_line(&cs[i + j], line, sizeof(line)));
			memcpy(body + len, line, l);
			len += l;
		}
		json_t *j = api_t_call(&t, "POST", "/api/v1/cases:batch", API_MOTCUA,
				       "application/x-ndjson", body, len, 200);
		api_t_expect_int(j, "created", (int64_t)k);
		api_t_expect_int(j, "failed", 0);
	}
	free(body);
}

struct sent {
	const struct tcase *c;
	const struct tevent *ev;
};

/* Sends the events of batch pipelined on conn, then reads and checks every answer: 201 with the
 * due_at and outcome the test worked out. */
static void flush_events(struct http_client *conn, const struct sent *batch, size_t n)
{
	struct http_client_response resp = { 0 };
	struct err e = { 0 };
	char path[120];

	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/api/v1/cases/%s/events", batch[i].c->code);
		const char *body = batch[i].ev->body;
		cr_assert_eq(http_client_send_request(conn, "POST", path, write_headers, body,
						      strlen(body), &e),
			     0, "sending %s: %s", path, e.msg);
	}
	for (size_t i = 0; i < n; i++) {
		const struct tevent *ev = batch[i].ev;
		const char *code = batch[i].c->code;
		cr_assert_eq(http_client_read_response(conn, &resp, &e), 0, "reading: %s", e.msg);
		cr_assert_eq(resp.status, 201, "%s %s → %d: %s", code, ev->body, resp.status,
			     resp.body);
		json_t *j = json_loadb(resp.body, resp.body_len, 0, NULL);
		cr_assert(j, "not JSON: %s", resp.body);
		cr_assert_eq(api_parse_instant(api_str(j, "case.due_at")), ev->due,
			     "%s after %s: due_at %s", code, ev->body, api_str(j, "case.due_at"));
		const char *outcome = api_str(j, "case.outcome");
		if (outcome_names[ev->outcome])
			cr_assert(outcome && !strcmp(outcome, outcome_names[ev->outcome]),
				  "%s after %s: outcome %s, expected %s", code, ev->body,
				  outcome ? outcome : "null", outcome_names[ev->outcome]);
		else
			cr_assert(api_is_null(j, "case.outcome"), "%s: outcome %s", code, outcome);
		json_decref(j);
	}
	http_client_response_free(&resp);
}

/* Sends every case's events, in rounds (a case's n-th event in round n), each round pipelined
 * PIPELINE requests at a time so that group commit shares the syncs. */
static void send_events(const struct tcase *cs, size_t n)
{
	struct http_client *conn = connect_daemon();
	struct sent batch[PIPELINE];

	for (int round = 0; round < MAX_EVENTS; round++) {
		size_t nb = 0;
		for (size_t i = 0; i < n; i++) {
			if (cs[i].nev <= round)
				continue;
			batch[nb++] = (struct sent){ &cs[i], &cs[i].ev[round] };
			if (nb == PIPELINE) {
				flush_events(conn, batch, nb);
				nb = 0;
			}
		}
		if (nb)
			flush_events(conn, batch, nb);
	}
	http_client_free(conn);
}

/* --- documents and assignments ---------------------------------------------------------------- */

struct titem {
	int unit;
	int64_t received, due, done; /* done NONE: open */
};

/* Done early, exactly at due_at, late, or not at all. */
static int64_t plan_done(int64_t start, int64_t due)
{
	int fate = (int)(rnd() % 10);

	if (fate < 4)
		return rnd_range(start + 1, due - 1);
	if (fate < 5)
		return due;
	if (fate < 8)
		return due + rnd_range(1, 10 * DAY);
	return NONE;
}

static void create_documents(struct titem *d, size_t n)
{
	char r[32], u[32], at[32];

	for (size_t i = 0; i < n; i++) {
		d[i].unit = unit_index(case_units[rnd() % N(case_units)]);
		d[i].received = rnd_range(local_at(2023, 12, 1, 0, 0), local_at(2025, 10, 1, 0, 0));
		d[i].due = d[i].received + rnd_range(HOUR, 15 * DAY);
		d[i].done = plan_done(d[i].received, d[i].due);
		json_t *j = api_t_reqf(&t, "POST", "/api/v1/documents", API_VANTHU, 201,
				       "{\"summary\":\"Văn bản %zu\",\"received_at\":\"%s\","
				       "\"due_at\":\"%s\",\"lead_unit\":\"%s\"}", i,
				       instant(d[i].received, r), instant(d[i].due, u),
				       units[d[i].unit].id);
		long long id = (long long)api_int(j, "id");
		if (d[i].done == NONE)
			continue;
		char path[80];
		snprintf(path, sizeof(path), "/api/v1/documents/%lld/events", id);
		api_t_reqf(&t, "POST", path, API_VANTHU, 201,
			   "{\"type\":\"complete\",\"at\":\"%s\"}", instant(d[i].done, at));
	}
}

static void create_assignments(struct titem *a, size_t n)
{
	char u[32], at[32];

	for (size_t i = 0; i < n; i++) {
		a[i].unit = unit_index(case_units[rnd() % N(case_units)]);
		a[i].due = rnd_range(local_at(2024, 1, 1, 0, 0), local_at(2025, 10, 31, 0, 0));
		a[i].done = plan_done(a[i].due - 20 * DAY, a[i].due);
		json_t *j = api_t_reqf(&t, "POST", "/api/v1/assignments", API_VANTHU, 201,
				       "{\"unit\":\"%s\",\"direction\":\"Chỉ đạo %zu\","
				       "\"due_at\":\"%s\"}", units[a[i].unit].id, i,
				       instant(a[i].due, u));
		long long id = (long long)api_int(j, "id");
		if (a[i].done == NONE)
			continue;
		char path[80];
		snprintf(path, sizeof(path), "/api/v1/assignments/%lld/events", id);
		api_t_reqf(&t, "POST", path, API_VANTHU, 201, "{\"type\":\"done\",\"at\":\"%s\"}",
			   instant(a[i].done, at));
	}
}

/* --- the expected figures, by walking the lists ----------------------------------------------- */

enum {
	F_RECEIVED, F_CARRIED, F_EARLY, F_ON_TIME, F_LATE, F_OPEN_WITHIN, F_OPEN_OVERDUE, F_ONLINE,
	F_WITH_FEE, F_PAID_ONLINE, F_DIGITIZED, F_RATED, F_SATISFIED, F_SUBORDINATES, F_INSPECTED,
	F_DOCUMENTS, /* due, done_on_time, done_late, open_overdue */
	F_ASSIGNMENTS = F_DOCUMENTS + 4,
	NFIELDS = F_ASSIGNMENTS + 4
};

static const char *const field_paths[NFIELDS] = {
	"counts.received", "counts.carried", "counts.early", "counts.on_time", "counts.late",
	"counts.open_within", "counts.open_overdue", "counts.online", "counts.with_fee",
	"counts.paid_online", "counts.digitized", "counts.rated", "counts.satisfied",
	"counts.subordinates", "counts.inspected", "counts.documents.due",
	"counts.documents.done_on_time", "counts.documents.done_late",
	"counts.documents.open_overdue", "counts.assignments.due",
	"counts.assignments.done_on_time", "counts.assignments.done_late",
	"counts.assignments.open_overdue",
};

struct exp {
	int64_t v[NFIELDS];
};

struct dataset {
	const struct tcase *cases;
	size_t ncases;
	const struct titem *documents, *assignments;
	size_t ndocuments, nassignments;
};

/* What docs/kpi.md defines, case by case, for the period [from, end). */
static void expect_cases(const struct dataset *ds, int64_t from, int64_t end, struct exp *per)
{
	for (size_t i = 0; i < ds->ncases; i++) {
		const struct tcase *c = &ds->cases[i];
		int64_t *v = per[c->unit].v;

		if (c->rated_at != NONE && c->rated_at >= from && c->rated_at < end) {
			v[F_RATED]++;
			v[F_SATISFIED] += c->rating >= 4;
		}
		if (c->status == ST_WITHDRAWN || c->status == ST_REJECTED)
			continue;
		if (c->received >= end || (c->completed != NONE && c->completed < from))
			continue;
		bool in = c->received >= from;
		v[in ? F_RECEIVED : F_CARRIED]++;
		if (c->completed != NONE && c->completed < end) {
			v[c->outcome == OUT_EARLY     ? F_EARLY
			  : c->outcome == OUT_ON_TIME ? F_ON_TIME
						      : F_LATE]++;
		} else {
			bool paused_with_time = c->status == ST_PAUSED && c->paused_at < end &&
						c->remaining > 0;
			bool within = !c->late && (c->due >= end || paused_with_time);
			v[within ? F_OPEN_WITHIN : F_OPEN_OVERDUE]++;
		}
		if (in) {
			v[F_ONLINE] += c->online != 0;
			v[F_WITH_FEE] += c->fee > 0;
			v[F_PAID_ONLINE] += c->fee > 0 && c->paid;
			v[F_DIGITIZED] += c->digitized;
		}
	}
}

/* Documents and assignments: due in the period, done by due_at, late, open past due. */
static void expect_items(const struct titem *it, size_t n, int64_t from, int64_t end, int base,
			 struct exp *per)
{
	for (size_t i = 0; i < n; i++) {
		const struct titem *x = &it[i];
		int64_t *v = per[x->unit].v + base;
		bool open_at_end = x->done == NONE || x->done >= end;

		if (x->due >= end || (x->due < from && !open_at_end))
			continue;
		if (x->due >= from) {
			v[0]++;
			if (!open_at_end)
				v[x->done <= x->due ? 1 : 2]++;
		}
		v[3] += open_at_end;
	}
}

static void expect_all(const struct dataset *ds, int64_t from, int64_t end, struct exp *per)
{
	memset(per, 0, NUNITS * sizeof(*per));
	for (size_t i = 0; i < NUNITS; i++)
		for (size_t c = 0; c < NUNITS; c++)
			per[i].v[F_SUBORDINATES] +=
				units[c].parent && !strcmp(units[c].parent, units[i].id);
	expect_cases(ds, from, end, per);
	expect_items(ds->documents, ds->ndocuments, from, end, F_DOCUMENTS, per);
	expect_items(ds->assignments, ds->nassignments, from, end, F_ASSIGNMENTS, per);
}

/* The subtree of root, depth first in config order. */
static size_t subtree(int root, int depth, int *order, int *depths, size_t n)
{
	order[n] = root;
	depths[n++] = depth;
	for (size_t c = 0; c < NUNITS; c++)
		if (units[c].parent && !strcmp(units[c].parent, units[root].id))
			n = subtree((int)c, depth + 1, order, depths, n);
	return n;
}

static double exact_rate(int64_t num, int64_t den)
{
	return 100.0 * (double)num / (double)den;
}

/* A rate as the API prints it: one decimal, or null without data. */
static void expect_rate(json_t *row, const char *what, const char *path, int64_t num,
			int64_t den)
{
	json_t *v = api_get(row, path);

	if (den == 0) {
		cr_assert(json_is_null(v), "%s: %s should be null (no data)", what, path);
		return;
	}
	double want = round(exact_rate(num, den) * 10.0) / 10.0;
	cr_assert(json_is_real(v) && json_real_value(v) == want,
		  "%s: %s = %s, expected %.1f (%lld/%lld)", what, path,
		  v ? json_dumps(v, JSON_ENCODE_ANY) : "absent", want, (long long)num,
		  (long long)den);
}

static void expect_target_value(json_t *row, const char *what, const char *path, double want)
{
	json_t *v = api_get(row, path);

	if (want < 0)
		cr_assert(json_is_null(v), "%s: %s should be null", what, path);
	else
		cr_assert(json_is_number(v) && json_number_value(v) == want,
			  "%s: %s, expected %.1f", what, path, want);
}

/* Every count, rate, target and below_target of one row. */
static void expect_row(json_t *row, const char *what, const struct exp *e, const char *level,
		       bool finished)
{
	const int64_t *v = e->v;
	const struct target *tg = target_of(level);
	int64_t num = v[F_EARLY] + v[F_ON_TIME] + (finished ? 0 : v[F_OPEN_WITHIN]);
	int64_t den = finished ? v[F_EARLY] + v[F_ON_TIME] + v[F_LATE]
			       : v[F_RECEIVED] + v[F_CARRIED];

	cr_assert(json_is_object(row), "%s: no row", what);
	for (int f = 0; f < NFIELDS; f++)
		cr_assert_eq(api_int(row, field_paths[f]), v[f], "%s: %s = %lld, expected %lld",
			     what, field_paths[f], (long long)api_int(row, field_paths[f]),
			     (long long)v[f]);
	expect_rate(row, what, "rates.on_time", num, den);
	expect_rate(row, what, "rates.online", v[F_ONLINE], v[F_RECEIVED]);
	expect_rate(row, what, "rates.online_payment", v[F_PAID_ONLINE], v[F_WITH_FEE]);
	expect_rate(row, what, "rates.digitized", v[F_DIGITIZED], v[F_RECEIVED]);
	expect_rate(row, what, "rates.satisfaction", v[F_SATISFIED], v[F_RATED]);
	expect_rate(row, what, "rates.inspection", v[F_INSPECTED], v[F_SUBORDINATES]);
	expect_rate(row, what, "rates.documents_on_time", v[F_DOCUMENTS + 1], v[F_DOCUMENTS]);
	expect_rate(row, what, "rates.assignments_on_time", v[F_ASSIGNMENTS + 1], v[F_ASSIGNMENTS]);
	if (!tg) {
		cr_assert(api_is_null(row, "targets"), "%s: targets should be null", what);
	} else {
		api_t_expect_str(row, "targets.level", tg->level);
		expect_target_value(row, what, "targets.on_time", tg->on_time);
		expect_target_value(row, what, "targets.online", tg->online);
		expect_target_value(row, what, "targets.online_payment", tg->online_payment);
		expect_target_value(row, what, "targets.satisfaction", tg->satisfaction);
		expect_target_value(row, what, "targets.digitized", tg->digitized);
		expect_target_value(row, what, "targets.inspection", tg->inspection);
	}
	bool below = tg && tg->on_time >= 0 && den > 0 && exact_rate(num, den) < tg->on_time;
	api_t_expect_bool(row, "below_target", below);
}

struct period {
	const char *query, *from, *to; /* the parameter, and its first and last dates */
	int64_t start, end;            /* [start, end): local midnights */
	const char *label;             /* NULL: the query */
};

/* GET /kpi for root, period and basis; compares every row and the total with the list's. */
static void check_report(const struct dataset *ds, const char *root, const struct period *p,
			 const char *basis)
{
	struct exp per[NUNITS], total = { { 0 } };
	int order[NUNITS], depths[NUNITS];
	size_t n = subtree(unit_index(root), 0, order, depths, 0);
	char path[200], what[300];
	int64_t end = p->end < (int64_t)time(NULL) ? p->end : (int64_t)time(NULL);

	expect_all(ds, p->start, end, per);
	snprintf(path, sizeof(path), "/api/v1/kpi?unit=%s&period=%s&basis=%s", root, p->query,
		 basis);
	json_t *j = api_t_req(&t, "GET", path, API_BAOCAO, NULL, 200);
	api_t_expect_str(j, "unit", root);
	api_t_expect_str(j, "basis", basis);
	api_t_expect_str(j, "period.label", p->label ? p->label : p->query);
	api_t_expect_str(j, "period.from", p->from);
	api_t_expect_str(j, "period.to", p->to);
	json_t *rows = json_object_get(j, "rows");
	cr_assert_eq(json_array_size(rows), n, "%s: %zu rows, expected %zu", path,
		     json_array_size(rows), n);
	for (size_t k = 0; k < n; k++) {
		const struct unit *u = &units[order[k]];
		json_t *row = json_array_get(rows, k);
		int len = snprintf(what, sizeof(what), "%s row %s", path, u->id);
		cr_assert_lt(len, (int)sizeof(what));
		api_t_expect_str(row, "unit", u->id);
		api_t_expect_str(row, "name", u->name);
		api_t_expect_str(row, "level", u->level);
		api_t_expect_int(row, "depth", depths[k]);
		expect_row(row, what, &per[order[k]], u->level, !strcmp(basis, "finished"));
		for (int f = 0; f < NFIELDS; f++)
			total.v[f] += per[order[k]].v[f];
	}
	cr_assert_lt(snprintf(what, sizeof(what), "%s total", path), (int)sizeof(what));
	json_t *tot = json_object_get(j, "total");
	cr_assert_null(json_object_get(tot, "unit"), "%s: the total names a unit", what);
	expect_row(tot, what, &total, units[unit_index(root)].level, !strcmp(basis, "finished"));
	char *rate = json_dumps(api_get(tot, "rates.on_time"), JSON_ENCODE_ANY);

	cr_log_info("%s: received %lld, carried %lld, early %lld, on time %lld, late %lld, "
		    "open %lld + %lld overdue, rated %lld, documents due %lld, assignments due "
		    "%lld; on-time rate %s", path, (long long)total.v[F_RECEIVED],
		    (long long)total.v[F_CARRIED], (long long)total.v[F_EARLY],
		    (long long)total.v[F_ON_TIME], (long long)total.v[F_LATE],
		    (long long)total.v[F_OPEN_WITHIN], (long long)total.v[F_OPEN_OVERDUE],
		    (long long)total.v[F_RATED], (long long)total.v[F_DOCUMENTS],
		    (long long)total.v[F_ASSIGNMENTS], rate);
	free(rate);
}

/* --- CSV -------------------------------------------------------------------------------------- */

/* Parses RFC 4180 text into an array of records (arrays of strings); every record must end
 * with CRLF, quotes only around whole fields. */
static json_t *parse_csv(const char *s, size_t n)
{
	json_t *rows = api_t_keep(&t, json_array()), *row = json_array();
	char *field = malloc(n + 1);
	size_t i = 0;

	cr_assert(field && row);
	while (i < n) {
		size_t fl = 0;
		if (s[i] == '"') {
			for (i++;; i++) {
				cr_assert_lt(i, n, "an unterminated quoted field");
				if (s[i] == '"' && i + 1 < n && s[i + 1] == '"')
					field[fl++] = s[i++];
				else if (s[i] == '"')
					break;
				else
					field[fl++] = s[i];
			}
			i++;
		} else {
			for (; i < n && s[i] != ',' && s[i] != '\r' && s[i] != '\n'; i++) {
				cr_assert_neq(s[i], '"', "a bare quote at byte %zu", i);
				field[fl++] = s[i];
			}
		}
		json_array_append_new(row, json_stringn(field, fl));
		cr_assert_lt(i, n, "the last record does not end with CRLF");
		if (s[i] == ',') {
			i++;
			continue;
		}
		cr_assert(s[i] == '\r' && i + 1 < n && s[i + 1] == '\n',
			  "a record does not end with CRLF at byte %zu", i);
		i += 2;
		json_array_append_new(rows, row);
		row = json_array();
	}
	json_decref(row);
	free(field);
	return rows;
}

static size_t column(json_t *header, const char *name)
{
	for (size_t i = 0; i < json_array_size(header); i++)
		if (!strcmp(json_string_value(json_array_get(header, i)), name))
			return i;
	cr_assert_fail("no column \"%s\" in the CSV header", name);
	return 0;
}

static const char *cell(json_t *rows, size_t r, json_t *header, const char *name)
{
	return json_string_value(json_array_get(json_array_get(rows, r), column(header, name)));
}

static void expect_cell_int(json_t *rows, size_t r, json_t *header, const char *name,
			    int64_t want)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", (long long)want);
	cr_assert_str_eq(cell(rows, r, header, name), buf, "CSV row %zu, %s", r, name);
}

/* One decimal with a dot, "" without data. */
static void expect_cell_rate(json_t *rows, size_t r, json_t *header, const char *name,
			     int64_t num, int64_t den)
{
	char buf[32] = "";

	if (den) {
		long long tenths = llround(exact_rate(num, den) * 10.0);
		snprintf(buf, sizeof(buf), "%lld.%lld", tenths / 10, tenths % 10);
	}
	cr_assert_str_eq(cell(rows, r, header, name), buf, "CSV row %zu, %s", r, name);
}

static void check_csv(const struct dataset *ds, const struct period *p, bool by_accept)
{
	struct exp per[NUNITS], total = { { 0 } };
	int order[NUNITS], depths[NUNITS];
	size_t n = subtree(0, 0, order, depths, 0);
	static const char *const accept[] = { "Accept: text/csv", NULL };
	char path[200], disposition[200];
	struct err e = { 0 };

	expect_all(ds, p->start, p->end, per);
	snprintf(path, sizeof(path), "/api/v1/kpi?unit=ubnd-tinh&period=%s%s", p->query,
		 by_accept ? "" : "&format=csv");
	cr_assert_eq(api_call(&t.f, "GET", path, API_BAOCAO, NULL, NULL, 0,
			      by_accept ? accept : NULL, &t.r, &e), 0, "%s: %s", path, e.msg);
	cr_assert_eq(t.r.status, 200, "%s → %d: %s", path, t.r.status, t.r.resp.body);
	cr_assert_str_eq(http_client_header(&t.r.resp, "Content-Type"), "text/csv; charset=utf-8");
	snprintf(disposition, sizeof(disposition), "attachment; filename=\"kpi-ubnd-tinh-%s.csv\"",
		 p->query);
	cr_assert_str_eq(http_client_header(&t.r.resp, "Content-Disposition"), disposition);

	const char *body = t.r.resp.body;
	size_t len = t.r.resp.body_len;
	cr_assert(len > 3 && !memcmp(body, "\xef\xbb\xbf", 3), "the CSV does not start with a BOM");
	json_t *rows = parse_csv(body + 3, len - 3);
	cr_assert_eq(json_array_size(rows), n + 2, "%zu records, expected a header, %zu units and "
		     "the total", json_array_size(rows), n);
	json_t *header = json_array_get(rows, 0);
	/* The Vietnamese headers of the issue, exactly. */
	static const char *const names[] = { "Đơn vị", "Tiếp nhận", "Đúng hạn", "Trễ hạn",
					     "Tỷ lệ đúng hạn (%)" };
	for (size_t i = 0; i < N(names); i++)
		column(header, names[i]);
	for (size_t k = 0; k <= n; k++) {
		const struct exp *x = k < n ? &per[order[k]] : &total;
		const int64_t *v = x->v;
		size_t r = k + 1;
		if (k < n) {
			cr_assert_str_eq(cell(rows, r, header, "Đơn vị"), units[order[k]].name);
			for (int f = 0; f < NFIELDS; f++)
				total.v[f] += v[f];
		} else {
			cr_assert_str_eq(cell(rows, r, header, "Đơn vị"), "Tổng cộng");
		}
		expect_cell_int(rows, r, header, "Tiếp nhận", v[F_RECEIVED]);
		expect_cell_int(rows, r, header, "Kỳ trước chuyển sang", v[F_CARRIED]);
		expect_cell_int(rows, r, header, "Trước hạn", v[F_EARLY]);
		expect_cell_int(rows, r, header, "Đúng hạn", v[F_ON_TIME]);
		expect_cell_int(rows, r, header, "Trễ hạn", v[F_LATE]);
		expect_cell_int(rows, r, header, "Đang xử lý trong hạn", v[F_OPEN_WITHIN]);
		expect_cell_int(rows, r, header, "Đang xử lý quá hạn", v[F_OPEN_OVERDUE]);
		expect_cell_rate(rows, r, header, "Tỷ lệ đúng hạn (%)",
				 v[F_EARLY] + v[F_ON_TIME] + v[F_OPEN_WITHIN],
				 v[F_RECEIVED] + v[F_CARRIED]);
		expect_cell_rate(rows, r, header, "Nộp trực tuyến (%)", v[F_ONLINE], v[F_RECEIVED]);
		expect_cell_rate(rows, r, header, "Hài lòng (%)", v[F_SATISFIED], v[F_RATED]);
	}
}

/* --- the figures ------------------------------------------------------------------------------ */

#define NCASES 5000

Test(kpi, figures_of_a_generated_dataset)
{
	static struct tcase cases[NCASES];
	static struct titem documents[60], assignments[60];
	struct dataset ds = { cases, NCASES, documents, assignments, N(documents), N(assignments) };
	int64_t now = (int64_t)time(NULL);
	int y, m, d;
	char ytd_from[16], ytd_to[16];

	start(NULL);
	for (int i = 0; i < NCASES; i++)
		plan_case(&cases[i], i);
	create_cases(cases, NCASES);
	send_events(cases, NCASES);
	create_documents(documents, N(documents));
	create_assignments(assignments, N(assignments));

	civil_from_days((int32_t)local_day(now), &y, &m, &d);
	snprintf(ytd_from, sizeof(ytd_from), "%04d-01-01", y);
	snprintf(ytd_to, sizeof(ytd_to), "%04d-%02d-%02d", y, m, d);
	char ytd_label[40];
	snprintf(ytd_label, sizeof(ytd_label), "%s..%s", ytd_from, ytd_to);
	const struct period periods[] = {
		{ "2024", "2024-01-01", "2024-12-31", local_at(2024, 1, 1, 0, 0),
		  local_at(2025, 1, 1, 0, 0), NULL },
		{ "2024-Q2", "2024-04-01", "2024-06-30", local_at(2024, 4, 1, 0, 0),
		  local_at(2024, 7, 1, 0, 0), NULL },
		{ "2025-03", "2025-03-01", "2025-03-31", local_at(2025, 3, 1, 0, 0),
		  local_at(2025, 4, 1, 0, 0), NULL },
		{ "2024-11-15..2025-02-10", "2024-11-15", "2025-02-10",
		  local_at(2024, 11, 15, 0, 0), local_at(2025, 2, 11, 0, 0), NULL },
		{ "2025", "2025-01-01", "2025-12-31", local_at(2025, 1, 1, 0, 0),
		  local_at(2026, 1, 1, 0, 0), NULL },
		/* Open cases are judged now: none of them is due near now. */
		{ "ytd", ytd_from, ytd_to, local_at(y, 1, 1, 0, 0), local_at(y, m, d, 0, 0) + DAY,
		  ytd_label },
	};
	for (size_t i = 0; i < N(periods); i++) {
		check_report(&ds, "ubnd-tinh", &periods[i], "portal");
		check_report(&ds, "ubnd-tinh", &periods[i], "finished");
	}
	check_report(&ds, "vp", &periods[0], "portal");
	check_report(&ds, "xa-tan-phu", &periods[3], "finished");

	/* A unit without cases: zero counts, and null rates rather than a division by zero. */
	json_t *j = api_t_req(&t, "GET", "/api/v1/kpi?unit=xa-moi&period=2024", API_BAOCAO, NULL,
			      200);
	cr_assert_eq(json_array_size(json_object_get(j, "rows")), 1);
	api_t_expect_int(j, "rows.0.counts.received", 0);
	cr_assert(api_is_null(j, "rows.0.rates.on_time") && api_is_null(j, "total.rates.on_time") &&
		  api_is_null(j, "rows.0.rates.online") &&
		  api_is_null(j, "rows.0.rates.satisfaction"));
	api_t_expect_bool(j, "rows.0.below_target", false);

	/* The defaults: the first root, the year to date, the portal basis, JSON. */
	j = api_t_req(&t, "GET", "/api/v1/kpi", API_BAOCAO, NULL, 200);
	api_t_expect_str(j, "unit", "ubnd-tinh");
	api_t_expect_str(j, "basis", "portal");
	api_t_expect_str(j, "period.from", ytd_from);
	api_t_expect_str(j, "period.to", ytd_to);

	check_csv(&ds, &periods[0], false);
	check_csv(&ds, &periods[1], true);
	/* format=json wins over Accept. */
	static const char *const accept[] = { "Accept: text/csv", NULL };
	struct err e = { 0 };
	cr_assert_eq(api_call(&t.f, "GET", "/api/v1/kpi?period=2024&format=json", API_BAOCAO, NULL,
			      NULL, 0, accept, &t.r, &e), 0, "%s", e.msg);
	cr_assert(t.r.status == 200 && t.r.json && json_object_get(t.r.json, "rows"));
	api_t_stop(&t);
}

/* --- the error budget ------------------------------------------------------------------------- */

/* A rate as kpi.c computes it, rounded as the API prints it. */
static void expect_figure(json_t *j, const char *path, double v)
{
	json_t *got = api_get(j, path);
	double want = round(v * 10.0) / 10.0;

	cr_assert(json_is_real(got) && json_real_value(got) == want, "%s = %s, expected %.1f", path,
		  got ? json_dumps(got, JSON_ENCODE_ANY) : "absent", want);
}

/* Overspent by exactly one case: 100 cases of 2024 at xa-an-binh (target 97 %, so 3 may be
 * late), 4 late. The remaining -1 is a figure like any other, not "no data". */
Test(kpi, budget_overspent_by_one_case)
{
	static struct tcase cs[100];
	size_t n = 0;

	start(NULL);
	for (int i = 0; i < 100; i++) {
		int64_t r = local_at(2024, 3, 4, 8, 0) + (int64_t)i * 60;
		init_case(&cs[n], (int)n, "xa-an-binh", r, r + 5 * DAY);
		complete_case(&cs[n], i < 96 ? r + DAY : r + 7 * DAY);
		n++;
	}
	create_cases(cs, n);
	send_events(cs, n);
	json_t *j = api_t_req(&t, "GET", "/api/v1/kpi/budget?unit=xa-an-binh&year=2024", API_BAOCAO,
			      NULL, 200);
	json_t *b = json_array_get(json_object_get(j, "units"), 0);
	api_t_expect_int(b, "counted", 100);
	api_t_expect_int(b, "used", 4);
	expect_figure(b, "allowed", 3.0);
	expect_figure(b, "remaining", -1.0);
	expect_figure(b, "remaining_percent", -100.0 / 3.0);
}

/* 2024 at xa-an-binh (target 97 %), at a known pace: 329 cases counted (2 carried from 2023),
 * 25 of them late or overdue; 10 deadlines in the last 7 days of the year (3 missed) and 30 in
 * its last 30 days (6 missed). */
Test(kpi, budget_of_a_year_at_a_known_pace)
{
	static struct tcase cs[400];
	size_t n = 0;
	int i;

	start(NULL);
#define NEXT(recv, due) (init_case(&cs[n], (int)n, "xa-an-binh", (recv), (due)), &cs[n++])
	for (i = 0; i < 2; i++) /* carried over from 2023, finished late in January */
		complete_case(NEXT(local_at(2023, 12, 20, 10, i), local_at(2024, 1, 5, 10, 0)),
			      local_at(2024, 1, 10, 9, 0));
	for (i = 0; i < 280; i++) { /* early, due before December */
		int64_t r = local_at(2024, 1, 2, 8, 0) + (int64_t)i * 26 * HOUR;
		complete_case(NEXT(r, r + 5 * DAY), r + 2 * DAY);
	}
	for (i = 0; i < 12; i++) { /* late */
		int64_t r = local_at(2024, 3, 1, 9, 0) + (int64_t)i * 10 * DAY;
		complete_case(NEXT(r, r + 5 * DAY), r + 7 * DAY);
	}
	for (i = 0; i < 5; i++) { /* never finished: overdue */
		int64_t r = local_at(2024, 6, 1, 9, 0) + (int64_t)i * 7 * DAY;
		NEXT(r, r + 5 * DAY);
	}
	for (i = 0; i < 10; i++) { /* due 26-30 December: 7 early, 2 late, 1 open */
		struct tcase *c = NEXT(local_at(2024, 12, 18 + i % 5, 9, 0),
				       local_at(2024, 12, 26 + i % 5, 10, 0));
		if (i < 7)
			complete_case(c, c->received + DAY);
		else if (i < 9)
			complete_case(c, c->due + 2 * HOUR);
	}
	for (i = 0; i < 20; i++) { /* due 5-20 December: 17 early, 3 late */
		struct tcase *c = NEXT(local_at(2024, 11, 28, 9, i),
				       local_at(2024, 12, 5 + i % 16, 10, 0));
		complete_case(c, i < 17 ? c->received + DAY : c->due + DAY);
	}
#undef NEXT
	create_cases(cs, n);
	send_events(cs, n);

	json_t *j = api_t_req(&t, "GET", "/api/v1/kpi/budget?unit=xa-an-binh&year=2024", API_BAOCAO,
			      NULL, 200);
	api_t_expect_str(j, "unit", "xa-an-binh");
	api_t_expect_int(j, "year", 2024);
	cr_assert_eq(json_array_size(json_object_get(j, "units")), 1);
	json_t *b = json_array_get(json_object_get(j, "units"), 0);
	api_t_expect_str(b, "unit", "xa-an-binh");
	api_t_expect_str(b, "name", "UBND xã An Bình");
	api_t_expect_int(b, "counted", 329);
	api_t_expect_int(b, "used", 25);
	api_t_expect_int(b, "due_7d", 10);
	api_t_expect_int(b, "late_7d", 3);
	api_t_expect_int(b, "due_30d", 30);
	api_t_expect_int(b, "late_30d", 6);
	/* A past year is over: projected = counted. */
	double allowed = 329.0 * (100.0 - 97.0) / 100.0, remaining = allowed - 25.0;
	expect_figure(b, "target", 97.0);
	expect_figure(b, "projected", 329.0);
	expect_figure(b, "allowed", allowed);            /* 9.9 */
	expect_figure(b, "remaining", remaining);        /* -15.1 */
	expect_figure(b, "remaining_percent", remaining / allowed * 100.0); /* -153.3 */
	expect_figure(b, "projected_rate", 100.0 * (329.0 - 25.0) / 329.0); /* 92.4 */
	expect_figure(b, "burn_7d", (3.0 / 10.0) / ((100.0 - 97.0) / 100.0)); /* 10.0 */
	expect_figure(b, "burn_30d", (6.0 / 30.0) / ((100.0 - 97.0) / 100.0)); /* 6.7 */
	cr_assert_eq(json_real_value(json_object_get(b, "projected_rate")), 92.4);
	cr_assert_eq(json_real_value(json_object_get(b, "burn_7d")), 10.0);

	/* The province answers for its subtree: the same figures; the office, without a target
	 * and without cases, has no data. */
	j = api_t_req(&t, "GET", "/api/v1/kpi/budget?year=2024", API_BAOCAO, NULL, 200);
	api_t_expect_str(j, "unit", "ubnd-tinh");
	cr_assert_eq(json_array_size(json_object_get(j, "units")), NUNITS);
	b = json_array_get(json_object_get(j, "units"), 0);
	api_t_expect_str(b, "unit", "ubnd-tinh");
	api_t_expect_int(b, "depth", 0);
	api_t_expect_int(b, "counted", 329);
	api_t_expect_int(b, "used", 25);
	expect_figure(b, "remaining", remaining);
	b = json_array_get(json_object_get(j, "units"), 1);
	api_t_expect_str(b, "unit", "vp");
	api_t_expect_int(b, "depth", 1);
	api_t_expect_int(b, "counted", 0);
	cr_assert(api_is_null(b, "target") && api_is_null(b, "allowed") &&
		  api_is_null(b, "remaining") && api_is_null(b, "remaining_percent") &&
		  api_is_null(b, "projected_rate") && api_is_null(b, "burn_7d") &&
		  api_is_null(b, "burn_30d"), "vp: %s", json_dumps(b, 0));

	/* This year, by default: the 6 cases still open were carried in, and are overdue. */
	int y, m, d;
	civil_from_days((int32_t)local_day((int64_t)time(NULL)), &y, &m, &d);
	j = api_t_req(&t, "GET", "/api/v1/kpi/budget?unit=xa-an-binh", API_BAOCAO, NULL, 200);
	api_t_expect_int(j, "year", y);
	api_t_expect_int(j, "units.0.counted", 6);
	api_t_expect_int(j, "units.0.used", 6);
	api_t_stop(&t);
}

/* --- a directive's cascade -------------------------------------------------------------------- */

static int64_t post_id(const char *path, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int64_t post_id(const char *path, const char *fmt, ...)
{
	va_list ap;
	char *body;

	va_start(ap, fmt);
	cr_assert_geq(vasprintf(&body, fmt, ap), 0);
	va_end(ap);
	json_t *j = api_t_req(&t, "POST", path, API_VANTHU, body, 201);
	free(body);
	int64_t id = api_int(j, "id");
	cr_assert_gt(id, 0);
	return id;
}

static int64_t sub_assignment(int64_t parent, const char *unit, int64_t due)
{
	char path[80], d[32];

	snprintf(path, sizeof(path), "/api/v1/assignments/%lld/assignments", (long long)parent);
	return post_id(path, "{\"unit\":\"%s\",\"due_at\":\"%s\"}", unit, instant(due, d));
}

static void done(int64_t id)
{
	char path[80];

	snprintf(path, sizeof(path), "/api/v1/assignments/%lld/events", (long long)id);
	api_t_req(&t, "POST", path, API_VANTHU, "{\"type\":\"done\"}", 201);
}

static void expect_counts(json_t *j, const char *what, int64_t done_, int64_t open,
			  int64_t overdue)
{
	cr_assert(json_is_object(j), "%s: absent", what);
	cr_assert(api_int(j, "done") == done_ && api_int(j, "open") == open &&
		  api_int(j, "overdue") == overdue && api_int(j, "total") == done_ + open,
		  "%s: %s, expected done %lld, open %lld, overdue %lld", what, json_dumps(j, 0),
		  (long long)done_, (long long)open, (long long)overdue);
}

Test(kpi, cascade_of_a_directive)
{
	int64_t now = (int64_t)time(NULL);
	char due[32];

	start(NULL);
	int64_t top = post_id("/api/v1/assignments", "{\"unit\":\"ubnd-tinh\",\"direction\":"
			      "\"Chỉ thị về cải cách hành chính\",\"due_at\":\"%s\"}",
			      instant(now + 30 * DAY, due));
	int64_t b1 = sub_assignment(top, "vp", now + 20 * DAY);
	int64_t b2 = sub_assignment(top, "xa-tan-phu", now - 2 * DAY);    /* overdue */
	int64_t b3 = sub_assignment(top, "so-tp", now - 5 * DAY);         /* done */
	int64_t c1 = sub_assignment(b1, "hctc", now - DAY);               /* overdue */
	int64_t c2 = sub_assignment(b1, "kstt", now + 5 * DAY);           /* done */
	sub_assignment(b1, "ttphvhcc", now + 10 * DAY);                    /* open */
	sub_assignment(b2, "xa-tu-phap-tan-phu", now - 3 * DAY);          /* overdue */
	done(b3);
	done(c2);
	(void)c1;

	char path[80];
	snprintf(path, sizeof(path), "/api/v1/directives/%lld/cascade", (long long)top);
	json_t *j = api_t_req(&t, "GET", path, API_BAOCAO, NULL, 200);
	api_t_expect_int(j, "directive.id", top);
	api_t_expect_str(j, "directive.title", "Chỉ thị về cải cách hành chính");
	api_t_expect_str(j, "directive.unit", "ubnd-tinh");
	api_t_expect_str(j, "directive.status", "open");
	cr_assert_eq(api_parse_instant(api_str(j, "directive.due_at")), now + 30 * DAY);
	json_t *levels = json_object_get(j, "levels");
	cr_assert_eq(json_array_size(levels), 2, "%s", json_dumps(levels, 0));
	api_t_expect_int(j, "levels.0.depth", 1);
	expect_counts(api_get(j, "levels.0"), "depth 1", 1, 2, 1);
	api_t_expect_int(j, "levels.1.depth", 2);
	expect_counts(api_get(j, "levels.1"), "depth 2", 1, 3, 2);
	/* By unit level, in the order the levels first appear in the config. */
	static const struct {
		const char *level;
		int64_t done, open, overdue;
	} by_level[] = {
		{ "office", 0, 1, 0 },     { "department", 2, 1, 1 }, { "center", 0, 1, 0 },
		{ "commune", 0, 1, 1 },    { "commune-section", 0, 1, 1 },
	};
	json_t *bl = json_object_get(j, "by_unit_level");
	cr_assert_eq(json_array_size(bl), N(by_level), "%s", json_dumps(bl, 0));
	for (size_t i = 0; i < N(by_level); i++) {
		json_t *x = json_array_get(bl, i);
		api_t_expect_str(x, "level", by_level[i].level);
		expect_counts(x, by_level[i].level, by_level[i].done, by_level[i].open,
			      by_level[i].overdue);
	}
	expect_counts(json_object_get(j, "total"), "total", 2, 5, 3);

	/* A sub-assignment is no directive; an unknown id is not found. */
	snprintf(path, sizeof(path), "/api/v1/directives/%lld/cascade", (long long)b1);
	api_t_req(&t, "GET", path, API_BAOCAO, NULL, 409);
	api_t_expect_error(&t, 409, "conflict", NULL);
	api_t_req(&t, "GET", "/api/v1/directives/999999/cascade", API_BAOCAO, NULL, 404);
	api_t_expect_error(&t, 404, "not_found", NULL);

	/* A document's assignment without sub-assignments: nothing below it. */
	int64_t doc = post_id("/api/v1/documents", "{\"summary\":\"V/v kiểm tra công vụ\","
			      "\"due_at\":\"%s\"}", instant(now + 10 * DAY, due));
	snprintf(path, sizeof(path), "/api/v1/documents/%lld/assignments", (long long)doc);
	int64_t lone = post_id(path, "{\"unit\":\"hctc\"}");
	snprintf(path, sizeof(path), "/api/v1/directives/%lld/cascade", (long long)lone);
	j = api_t_req(&t, "GET", path, API_BAOCAO, NULL, 200);
	api_t_expect_int(j, "directive.document", doc);
	cr_assert_eq(json_array_size(json_object_get(j, "levels")), 0);
	cr_assert_eq(json_array_size(json_object_get(j, "by_unit_level")), 0);
	expect_counts(json_object_get(j, "total"), "total", 0, 0, 0);
	api_t_stop(&t);
}

/* --- bad queries ------------------------------------------------------------------------------ */

Test(kpi, bad_queries)
{
	static const struct {
		const char *path;
		int status;
		const char *code, *field;
	} bad[] = {
		{ "/api/v1/kpi?bogus=1", 400, "invalid_query", "bogus" },
		{ "/api/v1/kpi?period=2024&Period=2024", 400, "invalid_query", "Period" },
		{ "/api/v1/kpi?period=2024-13", 400, "invalid_query", "period" },
		{ "/api/v1/kpi?period=2024-Q5", 400, "invalid_query", "period" },
		{ "/api/v1/kpi?period=last-year", 400, "invalid_query", "period" },
		{ "/api/v1/kpi?period=", 400, "invalid_query", "period" },
		{ "/api/v1/kpi?period=2024-02-30..2024-03-31", 400, "invalid_query", "period" },
		{ "/api/v1/kpi?period=2024-03-31..2024-03-01", 400, "invalid_query", "period" },
		{ "/api/v1/kpi?period=2099", 400, "invalid_query", "period" },
		{ "/api/v1/kpi?basis=weird", 400, "invalid_query", "basis" },
		{ "/api/v1/kpi?basis=", 400, "invalid_query", "basis" },
		{ "/api/v1/kpi?format=xml", 400, "invalid_query", "format" },
		{ "/api/v1/kpi?unit=nope", 422, "unknown_reference", "unit" },
		{ "/api/v1/kpi?unit=", 422, "unknown_reference", "unit" },
		{ "/api/v1/kpi?unit=%ZZ", 400, "invalid_query", "unit" },
		{ "/api/v1/kpi?unit=%FF", 400, "invalid_query", "unit" },
		{ "/api/v1/kpi?unit", 400, "invalid_query", NULL },
		{ "/api/v1/kpi/budget?year=1999", 400, "invalid_query", "year" },
		{ "/api/v1/kpi/budget?year=2101", 400, "invalid_query", "year" },
		{ "/api/v1/kpi/budget?year=20x4", 400, "invalid_query", "year" },
		{ "/api/v1/kpi/budget?year=-2024", 400, "invalid_query", "year" },
		{ "/api/v1/kpi/budget?year=2099", 400, "invalid_query", "year" },
		{ "/api/v1/kpi/budget?unit=nope", 422, "unknown_reference", "unit" },
		{ "/api/v1/kpi/budget?period=2024", 400, "invalid_query", "period" },
		{ "/api/v1/directives/1/cascade?x=1", 400, "invalid_query", "x" },
		{ "/api/v1/directives/1/cascade", 404, "not_found", NULL },
		{ "/api/v1/directives/0/cascade", 404, "not_found", NULL },
		{ "/api/v1/directives/abc/cascade", 404, "not_found", NULL },
		{ "/api/v1/kpi/other", 404, "not_found", NULL },
	};
	struct api_db_state before;

	start(NULL);
	api_t_state(&t, &before);
	for (size_t i = 0; i < N(bad); i++) {
		api_t_req(&t, "GET", bad[i].path, API_BAOCAO, NULL, bad[i].status);
		api_t_expect_error(&t, bad[i].status, bad[i].code, bad[i].field);
	}
	api_t_req(&t, "POST", "/api/v1/kpi", API_MOTCUA, "{}", 405);
	api_t_req(&t, "GET", "/api/v1/kpi", NULL, NULL, 401);
	api_t_req(&t, "GET", "/api/v1/kpi/budget", NULL, NULL, 401);
	api_t_unchanged(&t, &before);
	api_t_stop(&t);
}

/* --- reports through reloads and a stop ------------------------------------------------------- */

static size_t count_in_log(const char *needle)
{
	char *log = api_fixture_log(&t.f);
	size_t n = 0;

	for (const char *p = log; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	free(log);
	return n;
}

/* Waits (bounded, polling the log) until needle occurs want times. */
static void wait_log(const char *needle, size_t want)
{
	for (int i = 0; i < API_BOUND_MS && count_in_log(needle) < want; i++)
		api_sleep_ms(1);
	cr_assert_geq(count_in_log(needle), want, "the log never showed \"%s\" %zu times",
		      needle, want);
}

static const char *const report_paths[] = {
	"/api/v1/kpi?period=2024", "/api/v1/kpi?period=2024&format=csv",
	"/api/v1/kpi/budget?year=2024", "/api/v1/kpi?unit=vp&period=2025&basis=finished",
};

/* Sends nconn × per requests of report_paths on nconn connections, calls between() once they
 * are on their way, then reads and checks every answer. */
static void reports(size_t nconn, size_t per, void (*between)(void))
{
	static const char *const headers[] = { "Authorization: Bearer " API_BAOCAO, NULL };
	struct http_client *c[16];
	struct http_client_response resp = { 0 };
	struct err e = { 0 };

	cr_assert_leq(nconn, N(c));
	for (size_t i = 0; i < nconn; i++) {
		c[i] = connect_daemon();
		for (size_t k = 0; k < per; k++) {
			const char *path = report_paths[(i + k) % N(report_paths)];
			int rc = http_client_send_request(c[i], "GET", path, headers, NULL, 0, &e);
			cr_assert_eq(rc, 0, "%s", e.msg);
		}
	}
	between();
	for (size_t i = 0; i < nconn; i++) {
		for (size_t k = 0; k < per; k++) {
			const char *path = report_paths[(i + k) % N(report_paths)];
			cr_assert_eq(http_client_read_response(c[i], &resp, &e), 0, "%s: %s", path,
				     e.msg);
			cr_assert_eq(resp.status, 200, "%s → %d: %s", path, resp.status, resp.body);
			const char *whole = strstr(path, "csv") ? "Tổng cộng"
					    : strstr(path, "budget") ? "\"units\""
								     : "\"total\"";
			cr_assert(strstr(resp.body, whole), "%s: %s", path, resp.body);
		}
		http_client_free(c[i]);
	}
	http_client_response_free(&resp);
}

static void reload(void)
{
	harness_signal(&t.f.proc, SIGHUP);
}

static size_t queued_before;

/* Every report of the batch taken (and queued), then the stop. */
static void stop_when_queued(void)
{
	wait_log("api: report queued", queued_before + 8);
	harness_signal(&t.f.proc, SIGTERM);
}

Test(kpi, reports_through_reloads_and_a_stop)
{
	static struct tcase cs[4000];

	start("debug");
	for (int i = 0; i < (int)N(cs); i++)
		plan_case(&cs[i], i);
	create_cases(cs, N(cs));
	for (int round = 1; round <= 5; round++) {
		size_t at = t.f.h.received_len;
		reports(4, 4, reload);
		/* Reading the notifications also keeps the daemon's sd_notify from blocking on a
		 * full socket queue. */
		cr_assert(harness_notify_wait(&t.f.h, "RELOADING=1", &at, API_BOUND_MS));
		cr_assert(harness_notify_wait(&t.f.h, "READY=1", &at, API_BOUND_MS));
		wait_log("reload: configuration reloaded", (size_t)round);
	}
	/* A stop with reports in flight answers them before the daemon exits. */
	queued_before = count_in_log("api: report queued");
	reports(8, 1, stop_when_queued);
	/* The daemon exits by itself, cleanly (a second SIGTERM would find the default action). */
	int rc = harness_wait(&t.f.proc, API_BOUND_MS);
	t.f.running = false;
	char *log = api_fixture_log(&t.f);
	cr_assert_eq(rc, 0, "exit status %d; log: %.2000s", rc, log);
	cr_assert_null(strstr(log, "Sanitizer"), "%s", log);
	cr_assert_null(strstr(log, "runtime error"), "%s", log);
	const char *stop = strstr(log, "stop: SIGTERM received");
	size_t after = 0;
	for (const char *p = stop; p && (p = strstr(p, "api: report answered")); p++)
		after++;
	cr_log_info("%zu of 8 reports were answered after the stop began", after);
	cr_assert_geq(after, 1, "no report was in flight when the stop began");
	free(log);
}
