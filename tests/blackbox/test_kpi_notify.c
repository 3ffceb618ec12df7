/* Black-box tests of the KPI notices (docs/escalation.md, "Error budget and weekly report"):
 * the real dunghand with the example office, cases created through the API, and the outbox
 * read back through GET /api/v1/outbox (delivery is off, so every row stays there). The budget
 * warning goes once a week per unit and the weekly report once a week per head, across reloads
 * and restarts; the figures in the messages are the ones the test's cases make.
 *
 * Every wait is on the daemon's own word: each check ends with the log line "kpi notices:
 * checked", and the tests wait for the n-th one with a bound. The dates in the messages are
 * computed here in Asia/Ho_Chi_Minh, which has kept +07:00 since 1975. */
#include <criterion/criterion.h>
#include <signal.h>
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

TestSuite(kpi_notify, .fini = teardown, .timeout = 120);

#define TEMPLATES DUNGHAN_SOURCE_DIR "/config/templates"
#define ZONE (7 * 3600)
#define DAY 86400
#define CHECKED "kpi notices: checked"
#define PLACEHOLDER "  # kpi_report here\n"

/* The message templates are loaded only with escalation rules (config.c): one assignment rule
 * that no test crosses gives them, and writes nothing of its own. */
#define RULE "  assignments = ( { id = \"task-late\"; when = \"+1d\"; notify = [\"head\"]; } );\n"
#define TARGETS                                                                                  \
	"targets = ( { level = \"department\"; on_time = 97.0; online = 80.0; },\n"               \
	"  { level = \"commune-section\"; on_time = 97.0; } );\n"

/* Round-the-clock working time: a case's share of time used, and the working time left or
 * overdue, are wall-clock time whatever day the tests run. */

static const char *const weekdays[7] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* Starts the daemon with these settings inside escalation: { }, and the targets; calendar as
 * in struct api_options. */
static void start(const char *settings, const char *calendar)
{
	char *extra;

	cr_assert_geq(asprintf(&extra,
			       "escalation: {\n  templates = \"" TEMPLATES "\";\n"
			       "  hold_outside_office_hours = false;\n" RULE "%s" PLACEHOLDER "};\n"
			       TARGETS, settings),
		      0);
	struct api_options o = { .extra = extra, .calendar = calendar };
	api_t_start(&t, &o);
	free(extra);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* Waits until the daemon has logged its n-th finished check (the log outlives restarts). */
static void wait_checks(size_t n)
{
	int64_t by = now_s() + API_BOUND_MS / 1000;

	for (;;) {
		char *log = api_fixture_log(&t.f);
		size_t got = count(log, CHECKED);

		if (got >= n) {
			cr_assert_eq(got, n, "%zu checks, expected %zu:\n%s", got, n, log);
			free(log);
			return;
		}
		cr_assert(now_s() <= by, "check %zu not logged within %d ms:\n%s", n, API_BOUND_MS,
			  log);
		free(log);
		api_sleep_ms(50);
	}
}

/* SIGHUP after putting `text` in the placeholder of the config file (NULL: as it is); returns
 * when the daemon says it has reloaded. */
static void reload(const char *text)
{
	char *conf = harness_read(t.f.conf), *at, *next;

	cr_assert_not_null(conf);
	if (text) {
		cr_assert_not_null(at = strstr(conf, PLACEHOLDER));
		cr_assert_geq(asprintf(&next, "%.*s%s%s", (int)(at - conf), conf, text,
				       at + strlen(PLACEHOLDER)), 0);
		cr_assert_eq(harness_write(&t.f.h, "dunghan.conf", next), 0);
		free(next);
	}
	free(conf);
	size_t from = t.f.h.received_len;
	harness_signal(&t.f.proc, SIGHUP);
	/* Taking the reload's READY=1 in here keeps a later restart from mistaking it for its own. */
	cr_assert(harness_notify_wait(&t.f.h, "RELOADING=1", &from, API_BOUND_MS));
	cr_assert(harness_notify_wait(&t.f.h, "READY=1", &from, API_BOUND_MS));
}

static void restart(void)
{
	struct err e = { 0 };

	api_t_stop(&t);
	cr_assert_eq(api_fixture_restart(&t.f, &e), 0, "restarting dunghand: %s", e.msg);
}

/* A case of procedure 1.004222 (Đăng ký thường trú, no handler) received and due at these
 * instants. */
static void create(const char *code, const char *unit, int64_t received, int64_t due)
{
	char r[40], d[40];

	api_format_instant(r, sizeof(r), received);
	api_format_instant(d, sizeof(d), due);
	api_t_reqf(&t, "POST", "/api/v1/cases", API_MOTCUA, 201,
		   "{\"code\": \"%s\", \"procedure\": \"1.004222\", \"unit\": \"%s\", "
		   "\"received_at\": \"%s\", \"due_at\": \"%s\"}", code, unit, r, d);
}

/* The outbox rows of the KPI notices (those without an alert), oldest first. */
static json_t *notices(void)
{
	json_t *all = api_t_all(&t, "/api/v1/outbox?limit=500", "outbox", API_ADMIN);
	json_t *out = api_t_keep(&t, json_array());
	size_t i;
	json_t *row;

	json_array_foreach (all, i, row)
		if (api_is_null(row, "alert"))
			json_array_append(out, row);
	return out;
}

/* The row of recipient among rows; asserts there is exactly one. */
static json_t *row_of(json_t *rows, const char *recipient)
{
	json_t *found = NULL, *row;
	size_t i;

	json_array_foreach (rows, i, row) {
		const char *r = api_str(row, "recipient");
		if (r && !strcmp(r, recipient)) {
			cr_assert_null(found, "two rows for %s: %s", recipient,
				       json_dumps(rows, JSON_COMPACT));
			found = row;
		}
	}
	cr_assert_not_null(found, "no row for %s: %s", recipient, json_dumps(rows, JSON_COMPACT));
	return found;
}

#define expect_in(text, needle)                                                                  \
	cr_assert(strstr((text), (needle)) != NULL, "missing:\n%s\n--- in:\n%s", (needle), (text))

/* --- local dates --------------------------------------------------------------------------- */

static struct tm local_tm(int64_t at)
{
	time_t l = (time_t)(at + ZONE);
	struct tm tm;

	gmtime_r(&l, &tm);
	return tm;
}

static void local_date(int64_t at, char *buf, size_t n)
{
	struct tm tm = local_tm(at);

	snprintf(buf, n, "%02d/%02d/%04d", tm.tm_mday, tm.tm_mon + 1, tm.tm_year + 1900);
}

/* "10:00 thứ Hai, 19/02/2024" */
static void local_instant(int64_t at, char *buf, size_t n)
{
	static const char *const vi[7] = { "Chủ nhật", "thứ Hai", "thứ Ba", "thứ Tư",
					   "thứ Năm", "thứ Sáu", "thứ Bảy" };
	struct tm tm = local_tm(at);

	snprintf(buf, n, "%02d:%02d %s, %02d/%02d/%04d", tm.tm_hour, tm.tm_min, vi[tm.tm_wday],
		 tm.tm_mday, tm.tm_mon + 1, tm.tm_year + 1900);
}

/* The start of 1 January of the local year of instant at. */
static int64_t year_start(int64_t at)
{
	struct tm tm = local_tm(at);

	return (at + ZONE) / DAY * DAY - (int64_t)tm.tm_yday * DAY - ZONE;
}

/* "48/2026": the ISO week of the local date of instant at, as the report's subject names it. */
static void iso_week(int64_t at, char *buf, size_t n)
{
	int64_t day = (at + ZONE) / DAY;
	int wday = local_tm(at).tm_wday;
	int64_t thursday = day - (wday + 6) % 7 + 3;
	struct tm tm = local_tm(thursday * DAY - ZONE + 12 * 3600);

	snprintf(buf, n, "%02d/%04d", tm.tm_yday / 7 + 1, tm.tm_year + 1900);
}

/* --- the error budget ------------------------------------------------------------------------ */

/* Phòng Hành chính - Tổ chức (a department: on-time target 97%) has three cases received three
 * days ago and due yesterday, still open: all three deadlines of the last 7 days missed, a
 * burn of 1 / 3% = 33.3. The commune section's two cases are due in five days: within budget.
 * Phòng Kiểm soát TTHC has no case, the other units no on-time target. One warning, to the
 * head of hctc by e-mail and to the unit's chat group (budget.chat), and no other — after a
 * reload and after a restart too. */
Test(kpi_notify, budget_warning_once_a_week)
{
	start("  budget = { chat = true; };\n", NULL);
	wait_checks(1); /* the start-up check, before any case */
	cr_assert_eq(json_array_size(notices()), 0);

	int64_t t0 = now_s();
	create("000.00.21.H19-240301-0001", "hctc", t0 - 3 * DAY, t0 - DAY);
	create("000.00.21.H19-240301-0002", "hctc", t0 - 3 * DAY, t0 - DAY + 60);
	create("000.00.21.H19-240301-0003", "hctc", t0 - 3 * DAY, t0 - DAY + 120);
	create("000.00.21.H19-240301-0004", "xa-tu-phap-tan-phu", t0 - 60, t0 + 5 * DAY);
	create("000.00.21.H19-240301-0005", "xa-tu-phap-tan-phu", t0 - 60, t0 + 5 * DAY);
	reload(NULL); /* a reload checks again at once */
	wait_checks(2);

	json_t *rows = notices();
	cr_assert_eq(json_array_size(rows), 2, "%s", json_dumps(rows, JSON_COMPACT));
	json_t *mail = row_of(rows, "phong.tv"), *chat = row_of(rows, "hctc-chat");
	const char *subject = "[Cảnh báo chỉ tiêu] Phòng Hành chính - Tổ chức: tỷ lệ đúng hạn dự "
			      "kiến cuối năm 0% (chỉ tiêu 97%)";
	api_t_expect_str(mail, "channel", "email");
	api_t_expect_str(mail, "address", "phong.tv@dongnai.gov.vn");
	api_t_expect_str(mail, "status", "pending");
	api_t_expect_str(mail, "subject", subject);
	const char *text = api_str(mail, "body_text");
	cr_assert_not_null(text);
	expect_in(text, "Kính gửi: Ông Trần Văn Phong,\n\nTỷ lệ giải quyết hồ sơ đúng hạn năm ");
	expect_in(text, " của Phòng Hành chính - Tổ chức có nguy cơ không đạt chỉ tiêu 97% (Quyết "
			"định 194/QĐ-UBND).\nNếu giữ tốc độ hiện nay, tỷ lệ đúng hạn cuối năm dự kiến "
			"là 0%.\nTrong 7 ngày qua, 3/3 hồ sơ đến hạn bị trễ hạn, bằng 33,3 lần mức chỉ "
			"tiêu cho phép (ngưỡng cảnh báo: 2 lần).\n");
	expect_in(text, "- Hồ sơ phải giải quyết: 3; dự kiến cả năm: ");
	expect_in(text, "- Đã trễ hạn (kể cả hồ sơ đang quá hạn): 3\n");
	expect_in(text, "- 7 ngày qua: 3/3 hồ sơ đến hạn bị trễ, bằng 33,3 lần mức cho phép\n"
			"- 30 ngày qua: 3/3 hồ sơ đến hạn bị trễ, bằng 33,3 lần mức cho phép\n"
			"- Tỷ lệ đúng hạn dự kiến cuối năm: 0%\n");
	expect_in(api_str(mail, "body_html"), "<strong>CẢNH BÁO CHỈ TIÊU: tỷ lệ đúng hạn dự kiến "
					      "cuối năm 0% (chỉ tiêu 97%)</strong>");
	api_t_expect_str(chat, "channel", "chat");
	const char *line = api_str(chat, "body_text");
	cr_assert_not_null(line);
	expect_in(line, "[Cảnh báo chỉ tiêu] Phòng Hành chính - Tổ chức: tỷ lệ đúng hạn dự kiến "
			"cuối năm 0% (chỉ tiêu 97%) — 7 ngày qua 3/3 hồ sơ đến hạn bị trễ; đã trễ hạn "
			"3/");
	api_t_expect_str(chat, "subject", line);

	reload(NULL);
	wait_checks(3);
	cr_assert_eq(json_array_size(notices()), 2);
	restart();
	wait_checks(4);
	rows = notices();
	cr_assert_eq(json_array_size(rows), 2, "after the restart: %s",
		     json_dumps(rows, JSON_COMPACT));
	cr_assert_eq(api_db_int(&t.f, "SELECT count(*) FROM kpi_notices WHERE kind = 'budget' AND "
				      "unit_id = 'hctc'", NULL), 1);
	cr_assert_eq(api_db_int(&t.f, "SELECT count(*) FROM kpi_notices", NULL), 1);
	char *log = api_fixture_log(&t.f);
	cr_assert_eq(count(log, "kpi notices: budget warning for hctc to phong.tv"), 1, "%s", log);
	free(log);
	api_t_stop(&t); /* a clean exit: no sanitizer report, no leak */
}

/* --- the weekly report ----------------------------------------------------------------------- */

/* The report is turned on by a reload, for today's weekday at 00:00 — an instant already
 * past, so the check right after the reload sends this week's report to each of the eight heads.
 * Phòng Hành chính - Tổ chức has one case overdue by a day, two within their deadline (one of
 * them at risk: the "half" rule fired, a day is left) and one finished before it: an on-time
 * rate (portal) of 3 / 4 = 75%, below the 97% target; no case was submitted online (0%, below
 * 80%). The worst cases: the overdue one, then the one at risk. A restart in the same week
 * sends nothing again. */
Test(kpi_notify, weekly_report_once_a_week)
{
	const char *heads[] = { "hung.ns", "long.nk", "phong.tv", "lan.ptn", "dung.lq",
				"khoa.nd", "hoa.tt", "binh.lt" };
	int64_t t0 = now_s();
	int64_t received[4] = { t0 - 2 * DAY, t0 - 60, t0 - 3 * DAY, t0 - 3 * DAY };
	char *setting, week[64], today[64], from[64], due_a[96], due_d[96], *expect;
	int nreceived = 0, ncarried = 0;

	start("  cases = ( { id = \"half\"; when = \"50%\"; notify = [\"head\"]; } );\n",
	      API_RTC_CALENDAR);
	create("000.00.21.H19-240302-0001", "hctc", received[0], t0 - DAY);     /* overdue */
	create("000.00.21.H19-240302-0002", "hctc", received[1], t0 + 5 * DAY); /* within */
	create("000.00.21.H19-240302-0003", "hctc", received[2], t0 + DAY);     /* finished */
	create("000.00.21.H19-240302-0004", "hctc", received[3], t0 + DAY);     /* at risk */
	api_t_req(&t, "POST", "/api/v1/cases/000.00.21.H19-240302-0003/events", API_MOTCUA,
		  "{\"type\": \"complete\"}", 201);
	cr_assert_geq(asprintf(&setting, "  kpi_report = { day = \"%s\"; at = \"00:00\"; };\n",
			       weekdays[local_tm(t0).tm_wday]), 0);
	reload(setting);
	free(setting);
	wait_checks(1);
	cr_assert_lt(now_s() - t0, 50, "too slow for the minutes in the expected texts");

	json_t *rows = notices();
	cr_assert_eq(json_array_size(rows), 8, "%s", json_dumps(rows, JSON_COMPACT));
	for (size_t i = 0; i < 8; i++)
		api_t_expect_str(row_of(rows, heads[i]), "channel", "email");

	for (int i = 0; i < 4; i++) {
		if (received[i] < year_start(t0))
			ncarried++;
		else
			nreceived++;
	}
	iso_week(t0, week, sizeof(week));
	local_date(t0, today, sizeof(today));
	local_date(year_start(t0), from, sizeof(from));
	local_instant(t0 - DAY, due_a, sizeof(due_a));
	local_instant(t0 + DAY, due_d, sizeof(due_d));
	json_t *hctc = row_of(rows, "phong.tv");
	cr_assert_geq(asprintf(&expect, "[Báo cáo tuần %s] Tình hình giải quyết hồ sơ của Phòng "
				       "Hành chính - Tổ chức", week), 0);
	api_t_expect_str(hctc, "subject", expect);
	free(expect);
	const char *text = api_str(hctc, "body_text");
	cr_assert_not_null(text);
	cr_assert_geq(asprintf(&expect,
			       "Kính gửi: Ông Trần Văn Phong,\n"
			       "\n"
			       "Báo cáo tuần %s: tình hình giải quyết hồ sơ của Phòng Hành chính - Tổ "
			       "chức từ %s đến %s, so với chỉ tiêu năm (Quyết định 194/QĐ-UBND).\n"
			       "Tỷ lệ đúng hạn: 75%% (chỉ tiêu 97%%) — DƯỚI CHỈ TIÊU; 1 hồ sơ đang quá "
			       "hạn.\n"
			       "\n"
			       "- Phòng Hành chính - Tổ chức\n"
			       "  Tỷ lệ đúng hạn: 75%% (chỉ tiêu 97%%) — DƯỚI CHỈ TIÊU\n"
			       "  Hồ sơ: 4 (tiếp nhận %d, kỳ trước chuyển sang %d); đúng hạn 1, trễ "
			       "hạn 0, đang giải quyết trong hạn 2, đang quá hạn 1\n"
			       "  Nộp trực tuyến: 0%% (chỉ tiêu 80%%) — dưới chỉ tiêu; thanh toán trực "
			       "tuyến: chưa có số liệu\n"
			       "  Số hóa: 0%%; hài lòng: chưa có số liệu; kiểm tra đơn vị trực thuộc: "
			       "chưa có số liệu\n"
			       "\n"
			       "Hồ sơ cần ưu tiên xử lý (2):\n"
			       "\n"
			       "- Hồ sơ 000.00.21.H19-240302-0001 — Đăng ký thường trú\n"
			       "  Phòng Hành chính - Tổ chức. Hạn trả kết quả: %s.\n"
			       "  Tình trạng: QUÁ HẠN 1 ngày làm việc.\n"
			       "\n"
			       "- Hồ sơ 000.00.21.H19-240302-0004 — Đăng ký thường trú\n"
			       "  Phòng Hành chính - Tổ chức. Hạn trả kết quả: %s.\n"
			       "  Tình trạng: còn 1 ngày làm việc.\n"
			       "\n"
			       "Đề nghị chỉ đạo giải quyết dứt điểm các hồ sơ quá hạn, ưu tiên các hồ "
			       "sơ sắp đến hạn, và có\n",
			       week, from, today, nreceived, ncarried, due_a, due_d), 0);
	cr_assert(!strncmp(text, expect, strlen(expect)), "expected:\n%s\n--- got:\n%s", expect,
		  text);
	free(expect);

	/* The office above it: its own row, its four departments and centres, and the total. */
	const char *vp = api_str(row_of(rows, "long.nk"), "body_text");
	cr_assert_not_null(vp);
	expect_in(vp, "Tỷ lệ đúng hạn: 75%; 1 hồ sơ đang quá hạn.\n\n- Văn phòng UBND tỉnh\n"
		      "  Tỷ lệ đúng hạn: chưa có số liệu\n");
	expect_in(vp, "\n  - Phòng Hành chính - Tổ chức\n    Tỷ lệ đúng hạn: 75% (chỉ tiêu 97%) — "
		      "DƯỚI CHỈ TIÊU\n");
	expect_in(vp, "\n  - Phòng Kiểm soát thủ tục hành chính\n    Tỷ lệ đúng hạn: chưa có số "
		      "liệu (chỉ tiêu 97%)\n");
	expect_in(vp, "\n- Tổng cộng\n  Tỷ lệ đúng hạn: 75%\n");
	expect_in(vp, "Hồ sơ cần ưu tiên xử lý (2):\n\n- Hồ sơ 000.00.21.H19-240302-0001 — ");
	/* A commune with no case at all. */
	const char *tanphu = api_str(row_of(rows, "hoa.tt"), "body_text");
	cr_assert_not_null(tanphu);
	expect_in(tanphu, "Tỷ lệ đúng hạn: chưa có số liệu; 0 hồ sơ đang quá hạn.\n");
	expect_in(tanphu, "\nKhông có hồ sơ quá hạn hoặc có nguy cơ quá hạn.\n");

	restart();
	wait_checks(2);
	rows = notices();
	cr_assert_eq(json_array_size(rows), 8, "after the restart: %s",
		     json_dumps(rows, JSON_COMPACT));
	cr_assert_eq(api_db_int(&t.f, "SELECT count(*) FROM kpi_notices WHERE kind = 'report'",
				NULL), 8);
	api_t_stop(&t);
}

/* A daemon started after this week's instant sends the report at start-up, in English with
 * escalation.language = "en". */
Test(kpi_notify, weekly_report_at_start_in_english)
{
	char *settings, week[64], *subject;

	cr_assert_geq(asprintf(&settings, "  language = \"en\";\n  kpi_report = { day = \"%s\"; "
					  "at = \"00:00\"; };\n",
			       weekdays[local_tm(now_s()).tm_wday]), 0);
	start(settings, NULL);
	free(settings);
	wait_checks(1);
	iso_week(now_s(), week, sizeof(week));
	json_t *rows = notices();
	cr_assert_eq(json_array_size(rows), 8, "%s", json_dumps(rows, JSON_COMPACT));
	cr_assert_geq(asprintf(&subject, "[Weekly report %s] Case handling at Trung tâm Phục vụ "
					 "hành chính công tỉnh", week), 0);
	api_t_expect_str(row_of(rows, "dung.lq"), "subject", subject);
	free(subject);
	expect_in(api_str(row_of(rows, "dung.lq"), "body_text"),
		  "Dear Mr Lê Quốc Dũng,\n\nWeekly report ");
	expect_in(api_str(row_of(rows, "dung.lq"), "body_text"),
		  "On-time rate: no data; 0 cases overdue.\n");
	api_t_stop(&t);
}

/* --- configuration --------------------------------------------------------------------------- */

static void expect_config_error(const char *settings, const char *setting, const char *words)
{
	char *extra, *out = NULL;
	struct err e = { 0 };

	cr_assert_geq(asprintf(&extra, "escalation: {\n  templates = \"" TEMPLATES "\";\n" RULE
				       "%s\n};\n", settings), 0);
	struct api_options o = { .extra = extra };
	int rc = api_check_config(&o, &out, &e);
	cr_assert_eq(rc, 1, "%s\n→ exit %d (%s), expected 1: %s", settings, rc, e.msg,
		     out ? out : "");
	cr_assert(strstr(out, setting), "%s\n→ the error does not name %s: %s", settings, setting,
		  out);
	cr_assert(strstr(out, words), "%s\n→ the error does not say \"%s\": %s", settings, words,
		  out);
	cr_assert(strstr(out, "dunghan.conf:"), "no file:line in: %s", out);
	free(out);
	free(extra);
}

Test(kpi_notify, config_errors)
{
	char *out = NULL;
	struct err e = { 0 };
	struct api_options good = {
		.extra = "escalation: { templates = \"" TEMPLATES "\";\n" RULE
			 "  budget = { burn_rate = 1.5; remaining_below = 25.0; chat = true; };\n"
			 "  kpi_report = { day = \"fri\"; at = \"16:30\"; };\n};\n" TARGETS,
	};
	int rc = api_check_config(&good, &out, &e);

	cr_assert_eq(rc, 0, "good settings: exit %d (%s): %s", rc, e.msg, out ? out : "");
	free(out);
	expect_config_error("kpi_report = { day = \"friday\"; };", "escalation.kpi_report.day",
			    "\"friday\"");
	expect_config_error("kpi_report = { at = \"25:00\"; };", "escalation.kpi_report.at",
			    "\"25:00\"");
	expect_config_error("kpi_report = { at = \"8h\"; };", "escalation.kpi_report.at", "\"8h\"");
	expect_config_error("budget = { burn_rate = 0.0; };", "escalation.budget.burn_rate",
			    "0 is out of range [0.1, 100]");
	expect_config_error("budget = { burn_rate = 500.0; };", "escalation.budget.burn_rate",
			    "500 is out of range [0.1, 100]");
	expect_config_error("budget = { remaining_below = 120.0; };",
			    "escalation.budget.remaining_below", "120 is out of range [0, 100]");
	expect_config_error("budget = true;", "escalation.budget", "group");
}
