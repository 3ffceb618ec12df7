/* Tests of template: the formatting helpers (instants, working time in words, percentages,
 * salutations, links), the shipped templates of config/templates/ against the examples of
 * MESSAGES.md, the template syntax (substitution, escaping, sections, rows) and the errors
 * caught at load and at render. Every expected string is written out by hand: instants in
 * Asia/Ho_Chi_Minh (+07:00), durations in 8-hour office days (07:30-11:30, 13:00-17:00). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "calendar.h"
#include "template.h"

#ifndef DUNGHAN_SOURCE_DIR
#error "DUNGHAN_SOURCE_DIR must name the source tree (the build passes it)"
#endif
#define SHIPPED DUNGHAN_SOURCE_DIR "/config/templates"

#define MON_FRI 0x3e /* bits 1..5 */
#define HOUR 3600
#define DAY8H (8 * HOUR)

#define CODE "000.00.21.H19-240222-0001"
#define LINK "https://…/cases/" CODE

static struct calendar *cal;

static void setup(void)
{
	struct calendar_config cfg = {
		.timezone = "Asia/Ho_Chi_Minh",
		.week_mask = MON_FRI,
		.periods = { { 7 * 60 + 30, 11 * 60 + 30 }, { 13 * 60, 17 * 60 } },
		.nperiods = 2,
		.statutory_holidays = true,
	};
	struct err err;

	cal = calendar_new(&cfg, &err);
	cr_assert_not_null(cal, "calendar_new: %s (%s)", err.msg, err.field);
	cr_assert_eq(calendar_day_seconds(cal), DAY8H);
}

static void teardown(void)
{
	calendar_free(cal);
	cal = NULL;
}

TestSuite(template_format, .init = setup, .fini = teardown);
TestSuite(template_shipped, .init = setup, .fini = teardown);
TestSuite(template_syntax);
TestSuite(template_errors);

/* --- helpers --- */

static int64_t T(const char *rfc3339)
{
	int64_t t;
	struct err err;

	cr_assert_eq(calendar_parse_rfc3339(rfc3339, &t, &err), 0, "%s: %s", rfc3339, err.msg);
	return t;
}

static void expect_instant(const char *rfc3339, enum template_lang lang, const char *want)
{
	char buf[TEMPLATE_INSTANT_MAX];
	int n = template_format_instant(cal, T(rfc3339), lang, buf, sizeof(buf));

	cr_expect_str_eq(buf, want, "%s", rfc3339);
	cr_expect_eq(n, (int)strlen(want), "%s: length %d", rfc3339, n);
}

static void expect_duration(int64_t s, enum template_round round, enum template_lang lang,
			    const char *want)
{
	char buf[TEMPLATE_DURATION_MAX];
	int n = template_format_duration(s, DAY8H, round, lang, buf, sizeof(buf));

	cr_expect_str_eq(buf, want, "%lld s", (long long)s);
	cr_expect_eq(n, (int)strlen(want), "%lld s: length %d", (long long)s, n);
}

static void expect_percent(double p, int decimals, enum template_lang lang, const char *want)
{
	char buf[TEMPLATE_PERCENT_MAX];
	int n = template_format_percent(p, decimals, lang, buf, sizeof(buf));

	cr_expect_str_eq(buf, want, "%g (%d decimals)", p, decimals);
	cr_expect_eq(n, (int)strlen(want));
}

static struct template_set *load(const char *dir, const char *lang)
{
	struct err err;
	struct template_set *set = template_set_load(dir, lang, &err);

	cr_assert_not_null(set, "template_set_load(%s, %s): %s", dir, lang, err.msg);
	return set;
}

/* Renders and expects success; the caller frees the result. */
static char *render(const struct template_set *set, enum template_kind kind,
		    enum template_part part, const struct template_vars *vars)
{
	struct err err;
	char *out = (char *)"not cleared";
	int rc = template_render(set, kind, part, vars, &out, &err);

	cr_assert_eq(rc, 0, "render %s part %d: %s", template_kind_name(kind), (int)part, err.msg);
	cr_assert_not_null(out);
	return out;
}

static void expect_render(const struct template_set *set, enum template_kind kind,
			  enum template_part part, const struct template_vars *vars,
			  const char *want)
{
	char *got = render(set, kind, part, vars);

	cr_expect_str_eq(got, want, "%s part %d", template_kind_name(kind), (int)part);
	free(got);
}

/* Expects a render to fail, with err.msg containing `needle`. */
static void expect_render_fails(const struct template_set *set, enum template_kind kind,
				enum template_part part, const struct template_vars *vars,
				const char *needle)
{
	struct err err;
	char *out = (char *)"not cleared";

	cr_expect_eq(template_render(set, kind, part, vars, &out, &err), -1);
	cr_expect_null(out);
	cr_expect(strstr(err.msg, needle) != NULL, "error \"%s\" lacks \"%s\"", err.msg, needle);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* The values of the MESSAGES.md example: case 000.00.21.H19-240222-0001, birth registration,
 * received Wednesday 7 February 2024 10:00, due Monday 19 February 10:00. */
struct example {
	char salutation[128], received[TEMPLATE_INSTANT_MAX], due[TEMPLATE_INSTANT_MAX];
	char due_time[16], left[TEMPLATE_DURATION_MAX], overdue[TEMPLATE_DURATION_MAX];
	char used[TEMPLATE_PERCENT_MAX], link[256];
};

static void example_values(struct example *ex, enum template_lang lang)
{
	int64_t due = T("2024-02-19T10:00:00+07:00");

	cr_assert(template_format_salutation("Bà", "Lê Thị Bình", lang, ex->salutation,
					     sizeof(ex->salutation)) > 0);
	cr_assert(template_format_instant(cal, T("2024-02-07T10:00:00+07:00"), lang, ex->received,
					  sizeof(ex->received)) > 0);
	cr_assert(template_format_instant(cal, due, lang, ex->due, sizeof(ex->due)) > 0);
	cr_assert(template_format_clock(cal, due, ex->due_time, sizeof(ex->due_time)) > 0);
	cr_assert(template_format_duration(DAY8H, DAY8H, TEMPLATE_ROUND_UP, lang, ex->left,
					   sizeof(ex->left)) > 0);
	/* Two hours after the due: 10:00-11:30 and 13:00-13:30 on the same Monday. */
	cr_assert(template_format_duration(calendar_between(cal, due, T("2024-02-19T13:30:00+07:00")),
					   DAY8H, TEMPLATE_ROUND_DOWN, lang, ex->overdue,
					   sizeof(ex->overdue)) > 0);
	cr_assert(template_format_percent(87.4, 0, lang, ex->used, sizeof(ex->used)) > 0);
	cr_assert(template_format_link("https://…", "cases", CODE, ex->link, sizeof(ex->link)) > 0);
}

/* --- formatting: instants --- */

Test(template_format, instant_every_weekday_vi)
{
	expect_instant("2024-02-19T10:00:00+07:00", TEMPLATE_VI, "10:00 thứ Hai, 19/02/2024");
	expect_instant("2024-02-20T07:30:00+07:00", TEMPLATE_VI, "07:30 thứ Ba, 20/02/2024");
	expect_instant("2024-02-21T13:05:00+07:00", TEMPLATE_VI, "13:05 thứ Tư, 21/02/2024");
	expect_instant("2024-02-22T17:00:00+07:00", TEMPLATE_VI, "17:00 thứ Năm, 22/02/2024");
	expect_instant("2024-02-23T00:00:00+07:00", TEMPLATE_VI, "00:00 thứ Sáu, 23/02/2024");
	expect_instant("2024-02-24T09:15:00+07:00", TEMPLATE_VI, "09:15 thứ Bảy, 24/02/2024");
	expect_instant("2024-02-25T23:59:00+07:00", TEMPLATE_VI, "23:59 Chủ nhật, 25/02/2024");
	expect_instant("2024-02-29T08:00:00+07:00", TEMPLATE_VI, "08:00 thứ Năm, 29/02/2024");
}

Test(template_format, instant_year_ends_and_zone)
{
	/* Given in UTC, shown in +07:00: the year turns at 17:00Z. Seconds are dropped. */
	expect_instant("2024-12-31T16:59:59Z", TEMPLATE_VI, "23:59 thứ Ba, 31/12/2024");
	expect_instant("2024-12-31T17:00:00Z", TEMPLATE_VI, "00:00 thứ Tư, 01/01/2025");
	expect_instant("2023-12-31T10:00:00+07:00", TEMPLATE_VI, "10:00 Chủ nhật, 31/12/2023");
	expect_instant("2022-01-01T00:00:00+07:00", TEMPLATE_VI, "00:00 thứ Bảy, 01/01/2022");
	expect_instant("2025-12-31T23:59:00+07:00", TEMPLATE_VI, "23:59 thứ Tư, 31/12/2025");
	/* Saigon kept +08:00 until 13 June 1975: the zone's offset at t is used, not today's. */
	expect_instant("1970-01-01T00:00:00Z", TEMPLATE_VI, "08:00 thứ Năm, 01/01/1970");
}

Test(template_format, instant_en)
{
	expect_instant("2024-02-19T10:00:00+07:00", TEMPLATE_EN, "10:00 Monday, 19/02/2024");
	expect_instant("2024-02-25T23:59:00+07:00", TEMPLATE_EN, "23:59 Sunday, 25/02/2024");
	expect_instant("2024-12-31T17:00:00Z", TEMPLATE_EN, "00:00 Wednesday, 01/01/2025");
	expect_instant("2024-02-24T09:15:00+07:00", TEMPLATE_EN, "09:15 Saturday, 24/02/2024");
}

Test(template_format, date_and_clock)
{
	char buf[TEMPLATE_INSTANT_MAX];

	cr_expect_eq(template_format_date(cal, T("2024-02-19T10:00:00+07:00"), buf, sizeof(buf)), 10);
	cr_expect_str_eq(buf, "19/02/2024");
	cr_expect_eq(template_format_date(cal, T("2024-12-31T17:00:00Z"), buf, sizeof(buf)), 10);
	cr_expect_str_eq(buf, "01/01/2025");
	cr_expect_eq(template_format_clock(cal, T("2024-02-19T03:05:00Z"), buf, sizeof(buf)), 5);
	cr_expect_str_eq(buf, "10:05");
}

Test(template_format, instant_refusals)
{
	char buf[TEMPLATE_INSTANT_MAX] = "junk";
	char small[10] = "junk";

	cr_expect_eq(template_format_instant(cal, TIME_NONE, TEMPLATE_VI, buf, sizeof(buf)), -1);
	cr_expect_str_eq(buf, "");
	cr_expect_eq(template_format_instant(cal, T("2024-02-19T10:00:00+07:00"), TEMPLATE_VI, small,
					     sizeof(small)), -1);
	cr_expect_str_eq(small, "");
	cr_expect_eq(template_format_instant(cal, INT64_MAX, TEMPLATE_EN, buf, sizeof(buf)), -1);
	cr_expect_eq(template_format_date(cal, TIME_NONE, buf, sizeof(buf)), -1);
}

/* --- formatting: working time --- */

Test(template_format, duration_vi)
{
	expect_duration(0, TEMPLATE_ROUND_UP, TEMPLATE_VI, "0 phút làm việc");
	expect_duration(45 * 60, TEMPLATE_ROUND_UP, TEMPLATE_VI, "45 phút làm việc");
	expect_duration(3 * HOUR + 30 * 60, TEMPLATE_ROUND_UP, TEMPLATE_VI,
			"3 giờ 30 phút làm việc");
	expect_duration(DAY8H + 2 * HOUR, TEMPLATE_ROUND_UP, TEMPLATE_VI, "1 ngày 2 giờ làm việc");
	expect_duration(2 * DAY8H, TEMPLATE_ROUND_UP, TEMPLATE_VI, "2 ngày làm việc");
	expect_duration(DAY8H, TEMPLATE_ROUND_UP, TEMPLATE_VI, "1 ngày làm việc");
	expect_duration(DAY8H + 30 * 60, TEMPLATE_ROUND_UP, TEMPLATE_VI, "1 ngày 30 phút làm việc");
	expect_duration(DAY8H + 2 * HOUR + 3 * 60, TEMPLATE_ROUND_DOWN, TEMPLATE_VI,
			"1 ngày 2 giờ 3 phút làm việc");
	expect_duration(12 * DAY8H + 7 * HOUR + 59 * 60, TEMPLATE_ROUND_DOWN, TEMPLATE_VI,
			"12 ngày 7 giờ 59 phút làm việc");
}

Test(template_format, duration_overdue_and_rounding)
{
	/* Overdue amounts come in as they are or negated (calendar_between(now, due) < 0). */
	expect_duration(2 * HOUR, TEMPLATE_ROUND_DOWN, TEMPLATE_VI, "2 giờ làm việc");
	expect_duration(-2 * HOUR, TEMPLATE_ROUND_DOWN, TEMPLATE_VI, "2 giờ làm việc");
	expect_duration(-2 * DAY8H, TEMPLATE_ROUND_DOWN, TEMPLATE_VI, "2 ngày làm việc");
	/* An alert a few seconds late: overdue rounds down, time left rounds up. */
	expect_duration(2 * HOUR + 5, TEMPLATE_ROUND_DOWN, TEMPLATE_VI, "2 giờ làm việc");
	expect_duration(2 * HOUR + 5, TEMPLATE_ROUND_UP, TEMPLATE_VI, "2 giờ 1 phút làm việc");
	expect_duration(DAY8H - 5, TEMPLATE_ROUND_UP, TEMPLATE_VI, "1 ngày làm việc");
	expect_duration(DAY8H - 5, TEMPLATE_ROUND_DOWN, TEMPLATE_VI, "7 giờ 59 phút làm việc");
	/* Never "0 minutes" while some time is left or overdue. */
	expect_duration(30, TEMPLATE_ROUND_DOWN, TEMPLATE_VI, "1 phút làm việc");
	expect_duration(1, TEMPLATE_ROUND_UP, TEMPLATE_VI, "1 phút làm việc");
	expect_duration(-59, TEMPLATE_ROUND_DOWN, TEMPLATE_VI, "1 phút làm việc");
}

Test(template_format, duration_en)
{
	expect_duration(0, TEMPLATE_ROUND_UP, TEMPLATE_EN, "0 working minutes");
	expect_duration(60, TEMPLATE_ROUND_UP, TEMPLATE_EN, "1 working minute");
	expect_duration(45 * 60, TEMPLATE_ROUND_UP, TEMPLATE_EN, "45 working minutes");
	expect_duration(3 * HOUR + 30 * 60, TEMPLATE_ROUND_UP, TEMPLATE_EN,
			"3 working hours 30 minutes");
	expect_duration(HOUR + 60, TEMPLATE_ROUND_UP, TEMPLATE_EN, "1 working hour 1 minute");
	expect_duration(DAY8H + 2 * HOUR, TEMPLATE_ROUND_UP, TEMPLATE_EN, "1 working day 2 hours");
	expect_duration(2 * DAY8H, TEMPLATE_ROUND_UP, TEMPLATE_EN, "2 working days");
	expect_duration(DAY8H, TEMPLATE_ROUND_UP, TEMPLATE_EN, "1 working day");
	expect_duration(-2 * HOUR, TEMPLATE_ROUND_DOWN, TEMPLATE_EN, "2 working hours");
	expect_duration(2 * DAY8H + HOUR + 60, TEMPLATE_ROUND_DOWN, TEMPLATE_EN,
			"2 working days 1 hour 1 minute");
}

Test(template_format, duration_other_day_length_and_refusals)
{
	char buf[TEMPLATE_DURATION_MAX] = "junk";
	char small[8] = "junk";

	/* A 4-hour office day: 10 hours are 2 days 2 hours. */
	cr_expect_gt(template_format_duration(10 * HOUR, 4 * HOUR, TEMPLATE_ROUND_UP, TEMPLATE_VI,
					      buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, "2 ngày 2 giờ làm việc");
	cr_expect_eq(template_format_duration(60, 0, TEMPLATE_ROUND_UP, TEMPLATE_VI, buf,
					      sizeof(buf)), -1);
	cr_expect_str_eq(buf, "");
	cr_expect_eq(template_format_duration(60, 90, TEMPLATE_ROUND_UP, TEMPLATE_VI, buf,
					      sizeof(buf)), -1);
	cr_expect_eq(template_format_duration(INT64_MIN, DAY8H, TEMPLATE_ROUND_UP, TEMPLATE_VI, buf,
					      sizeof(buf)), -1);
	cr_expect_eq(template_format_duration(DAY8H, DAY8H, TEMPLATE_ROUND_UP, TEMPLATE_VI, small,
					      sizeof(small)), -1);
	cr_expect_str_eq(small, "");
}

/* --- formatting: percentages, salutations, links --- */

Test(template_format, percent)
{
	expect_percent(96.2, 1, TEMPLATE_VI, "96,2%");
	expect_percent(96.2, 1, TEMPLATE_EN, "96.2%");
	expect_percent(97, 1, TEMPLATE_VI, "97%");
	expect_percent(96.96, 1, TEMPLATE_VI, "96,9%"); /* below a 97% target: never "97%" */
	expect_percent(87.4, 0, TEMPLATE_VI, "87%");
	expect_percent(86.99, 0, TEMPLATE_VI, "86%");
	expect_percent(50, 0, TEMPLATE_VI, "50%");
	expect_percent(0, 2, TEMPLATE_VI, "0%");
	expect_percent(120.5, 0, TEMPLATE_EN, "120%");
	expect_percent(12.345, 2, TEMPLATE_VI, "12,34%");
	expect_percent(12.305, 3, TEMPLATE_EN, "12.305%");
	expect_percent(-3.5, 1, TEMPLATE_VI, "-3,5%");
	/* Negative: cut toward lower values too, never to a better-looking one. */
	expect_percent(-479.45, 1, TEMPLATE_VI, "-479,5%");
	expect_percent(-33.33, 1, TEMPLATE_EN, "-33.4%");
	expect_percent(-0.04, 1, TEMPLATE_VI, "-0,1%");
	expect_percent(0.05, 1, TEMPLATE_VI, "0%");

	char buf[TEMPLATE_PERCENT_MAX];
	cr_expect_eq(template_format_percent(NAN, 1, TEMPLATE_VI, buf, sizeof(buf)), -1);
	cr_expect_eq(template_format_percent(INFINITY, 1, TEMPLATE_VI, buf, sizeof(buf)), -1);
	cr_expect_eq(template_format_percent(50, 4, TEMPLATE_VI, buf, sizeof(buf)), -1);
}

Test(template_format, salutation)
{
	char buf[128];

	cr_expect_gt(template_format_salutation("Bà", "Lê Thị Bình", TEMPLATE_VI, buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, "Bà Lê Thị Bình");
	cr_expect_gt(template_format_salutation("Ông", "Trần Văn Phong", TEMPLATE_VI, buf,
						sizeof(buf)), 0);
	cr_expect_str_eq(buf, "Ông Trần Văn Phong");
	cr_expect_gt(template_format_salutation(NULL, "Ngô Đăng Khoa", TEMPLATE_VI, buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, "Ông/Bà Ngô Đăng Khoa");
	cr_expect_gt(template_format_salutation("", "Ngô Đăng Khoa", TEMPLATE_VI, buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, "Ông/Bà Ngô Đăng Khoa");
	cr_expect_gt(template_format_salutation("Bà", "Lê Thị Bình", TEMPLATE_EN, buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, "Ms Lê Thị Bình");
	cr_expect_gt(template_format_salutation("Ông", "Trần Văn Phong", TEMPLATE_EN, buf,
						sizeof(buf)), 0);
	cr_expect_str_eq(buf, "Mr Trần Văn Phong");
	cr_expect_gt(template_format_salutation(NULL, "Ngô Đăng Khoa", TEMPLATE_EN, buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, "Ngô Đăng Khoa");
	cr_expect_eq(template_format_salutation("Bà", NULL, TEMPLATE_VI, buf, sizeof(buf)), -1);
	cr_expect_eq(template_format_salutation("Bà", "", TEMPLATE_VI, buf, sizeof(buf)), -1);
}

Test(template_format, link)
{
	char buf[128];
	char small[20];

	cr_expect_gt(template_format_link("https://…", "cases", CODE, buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, LINK);
	cr_expect_gt(template_format_link("https://dunghan.example/", "documents", "506/SNV-TT", buf,
					  sizeof(buf)), 0);
	cr_expect_str_eq(buf, "https://dunghan.example/documents/506%2FSNV-TT");
	cr_expect_gt(template_format_link("https://x//", "cases", "a b?Đ", buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, "https://x/cases/a%20b%3F%C4%90");
	cr_expect_eq(template_format_link("https://dunghan.example", "cases", CODE, small,
					  sizeof(small)), -1);
	cr_expect_str_eq(small, "");
	cr_expect_eq(template_format_link("https://x", "cases", "", buf, sizeof(buf)), -1);
}

/* --- the shipped templates --- */

Test(template_shipped, both_languages_load)
{
	struct template_set *vi = load(SHIPPED, "vi");
	struct template_set *en = load(SHIPPED, "en");

	cr_expect_eq(template_set_lang(vi), TEMPLATE_VI);
	cr_expect_eq(template_set_lang(en), TEMPLATE_EN);
	template_set_free(vi);
	template_set_free(en);
}

Test(template_shipped, vietnamese_subjects_of_messages_md)
{
	struct template_set *set = load(SHIPPED, "vi");
	struct example ex;

	example_values(&ex, TEMPLATE_VI);
	{
		const struct template_var v[] = { { "code", CODE }, { "percent_used", "50%" } };
		const struct template_vars vars = { v, 2, NULL, 0 };
		expect_render(set, TEMPLATE_PERCENT, TEMPLATE_SUBJECT, &vars,
			      "[Nhắc việc] Hồ sơ 000.00.21.H19-240222-0001 đã dùng 50% thời gian "
			      "giải quyết");
	}
	{
		const struct template_var v[] = { { "code", CODE }, { "left", ex.left } };
		const struct template_vars vars = { v, 2, NULL, 0 };
		expect_render(set, TEMPLATE_BEFORE, TEMPLATE_SUBJECT, &vars,
			      "[Sắp đến hạn] Hồ sơ 000.00.21.H19-240222-0001 còn 1 ngày làm việc");
	}
	{
		const struct template_var v[] = { { "code", CODE }, { "due_time", ex.due_time },
						  { "due_today", "1" } };
		const struct template_vars vars = { v, 3, NULL, 0 };
		expect_render(set, TEMPLATE_DUE, TEMPLATE_SUBJECT, &vars,
			      "[Đến hạn] Hồ sơ 000.00.21.H19-240222-0001 phải trả kết quả lúc 10:00 "
			      "hôm nay");
	}
	{
		const struct template_var v[] = { { "code", CODE }, { "overdue_by", ex.overdue } };
		const struct template_vars vars = { v, 2, NULL, 0 };
		expect_render(set, TEMPLATE_OVERDUE, TEMPLATE_SUBJECT, &vars,
			      "[QUÁ HẠN] Hồ sơ 000.00.21.H19-240222-0001 đã quá hạn 2 giờ làm việc");
	}
	{
		const struct template_var v[] = {
			{ "code", "506/SNV-TT" },
			{ "title", "V/v khẩn trương triển khai các nhiệm vụ cải cách hành chính "
				   "năm 2024" },
		};
		const struct template_vars vars = { v, 2, NULL, 0 };
		expect_render(set, TEMPLATE_DOCUMENT_DUE, TEMPLATE_SUBJECT, &vars,
			      "[Văn bản sắp đến hạn] 506/SNV-TT — V/v khẩn trương triển khai các "
			      "nhiệm vụ cải cách hành chính năm 2024");
	}
	{
		const struct template_var v[] = {
			{ "unit", "Phòng Hành chính - Tổ chức" },
			{ "title", "triển khai Văn bản 506/SNV-TT" },
		};
		const struct template_vars vars = { v, 2, NULL, 0 };
		expect_render(set, TEMPLATE_ASSIGNMENT_OVERDUE, TEMPLATE_SUBJECT, &vars,
			      "[Nhiệm vụ quá hạn] Phòng Hành chính - Tổ chức: triển khai Văn bản "
			      "506/SNV-TT");
	}
	{
		char date[16];

		cr_assert_eq(template_format_date(cal, T("2024-02-19T07:00:00+07:00"), date,
						  sizeof(date)), 10);
		const struct template_var v[] = {
			{ "date", date },
			{ "unit", "Phòng Hành chính - Tổ chức" },
			{ "due_soon_items", "3 hồ sơ" },
			{ "overdue_items", "1 hồ sơ" },
		};
		const struct template_vars vars = { v, 4, NULL, 0 };
		expect_render(set, TEMPLATE_DIGEST, TEMPLATE_SUBJECT, &vars,
			      "[Tổng hợp 19/02/2024] Phòng Hành chính - Tổ chức: 3 hồ sơ sắp đến hạn, "
			      "1 hồ sơ quá hạn");
	}
	template_set_free(set);
}

/* The variables of the example case, for body and chat renders. */
#define EXAMPLE_VARS(ex)                                                                           \
	{ "recipient_salutation", (ex).salutation }, { "code", CODE },                             \
		{ "title", "Đăng ký khai sinh" }, { "applicant", "Nguyễn Văn A" },                 \
		{ "unit", "Phòng Tư pháp" }, { "handler", "Lê Thị Bình" },                         \
		{ "received_at", (ex).received }, { "due_at", (ex).due },                          \
		{ "due_time", (ex).due_time }, { "percent_used", (ex).used },                      \
		{ "link", (ex).link }, { "office_name", "Văn phòng UBND tỉnh" }

Test(template_shipped, before_body_of_messages_md)
{
	struct template_set *set = load(SHIPPED, "vi");
	struct example ex;

	example_values(&ex, TEMPLATE_VI);
	const struct template_var v[] = { EXAMPLE_VARS(ex), { "left", ex.left } };
	const struct template_vars vars = { v, sizeof(v) / sizeof(v[0]), NULL, 0 };

	expect_render(set, TEMPLATE_BEFORE, TEMPLATE_TEXT, &vars,
		      "Kính gửi: Bà Lê Thị Bình,\n"
		      "\n"
		      "Hồ sơ 000.00.21.H19-240222-0001 — Đăng ký khai sinh\n"
		      "Người nộp: Nguyễn Văn A\n"
		      "Đơn vị xử lý: Phòng Tư pháp; cán bộ xử lý: Lê Thị Bình\n"
		      "Tiếp nhận: 10:00 thứ Tư, 07/02/2024 — Hạn trả kết quả: 10:00 thứ Hai, "
		      "19/02/2024\n"
		      "Tình trạng: còn 1 ngày làm việc (đã dùng 87% thời gian giải quyết).\n"
		      "\n"
		      "Đề nghị khẩn trương giải quyết để trả kết quả đúng hạn. Trường hợp không thể "
		      "trả kết quả\n"
		      "đúng hạn, đơn vị lập văn bản xin lỗi và đề nghị gia hạn thời gian giải quyết "
		      "(mẫu số 04,\n"
		      "Thông tư 03/2025/TT-VPCP) gửi người nộp trước ngày hẹn trả.\n"
		      "\n"
		      "Xem hồ sơ: https://…/cases/000.00.21.H19-240222-0001\n"
		      "\n"
		      "—\n"
		      "Thư được gửi tự động từ hệ thống Đúng Hạn của Văn phòng UBND tỉnh. Vui lòng "
		      "không trả lời thư này.\n");
	template_set_free(set);
}

Test(template_shipped, before_body_sections)
{
	struct template_set *set = load(SHIPPED, "vi");
	struct example ex;
	char *out;

	example_values(&ex, TEMPLATE_VI);
	/* Extended, no applicant, no handler. */
	const struct template_var v[] = {
		{ "recipient_salutation", "Ông/Bà Ngô Đăng Khoa" }, { "code", CODE },
		{ "title", "Đăng ký khai sinh" }, { "unit", "Phòng Tư pháp" },
		{ "received_at", ex.received }, { "due_at", ex.due }, { "left", ex.left },
		{ "percent_used", ex.used }, { "extended", "1" }, { "applicant", "" },
	};
	const struct template_vars vars = { v, sizeof(v) / sizeof(v[0]), NULL, 0 };

	out = render(set, TEMPLATE_BEFORE, TEMPLATE_TEXT, &vars);
	cr_expect(strstr(out, "Kính gửi: Ông/Bà Ngô Đăng Khoa,\n\nHồ sơ 000.00.21.H19-240222-0001 "
			      "— Đăng ký khai sinh\nĐơn vị xử lý: Phòng Tư pháp\nTiếp nhận: ") != NULL,
		  "%s", out);
	cr_expect(strstr(out, "Tình trạng: còn 1 ngày làm việc (đã dùng 87% thời gian giải quyết; "
			      "đã gia hạn do cần xác minh).\n") != NULL, "%s", out);
	cr_expect_null(strstr(out, "Người nộp"));
	cr_expect_null(strstr(out, "cán bộ xử lý"));
	free(out);
	template_set_free(set);
}

Test(template_shipped, overdue_chat_of_messages_md)
{
	struct template_set *set = load(SHIPPED, "vi");
	struct example ex;

	example_values(&ex, TEMPLATE_VI);
	const struct template_var v[] = { EXAMPLE_VARS(ex), { "overdue_by", ex.overdue } };
	const struct template_vars vars = { v, sizeof(v) / sizeof(v[0]), NULL, 0 };

	expect_render(set, TEMPLATE_OVERDUE, TEMPLATE_CHAT, &vars,
		      "[QUÁ HẠN] Hồ sơ 000.00.21.H19-240222-0001 (Đăng ký khai sinh) — Phòng Tư "
		      "pháp, cán bộ Lê Thị Bình — quá hạn 2 giờ làm việc (hạn 10:00 thứ Hai, "
		      "19/02/2024).");
	template_set_free(set);
}

Test(template_shipped, english_overdue)
{
	struct template_set *set = load(SHIPPED, "en");
	struct example ex;
	char *out;

	example_values(&ex, TEMPLATE_EN);
	const struct template_var v[] = { EXAMPLE_VARS(ex), { "overdue_by", ex.overdue } };
	const struct template_vars vars = { v, sizeof(v) / sizeof(v[0]), NULL, 0 };

	expect_render(set, TEMPLATE_OVERDUE, TEMPLATE_SUBJECT, &vars,
		      "[Overdue] Case 000.00.21.H19-240222-0001 is 2 working hours overdue");
	expect_render(set, TEMPLATE_OVERDUE, TEMPLATE_CHAT, &vars,
		      "[Overdue] Case 000.00.21.H19-240222-0001 (Đăng ký khai sinh) — Phòng Tư "
		      "pháp, officer Lê Thị Bình — 2 working hours overdue (due 10:00 Monday, "
		      "19/02/2024).");
	out = render(set, TEMPLATE_OVERDUE, TEMPLATE_TEXT, &vars);
	cr_expect(strncmp(out, "Dear Ms Lê Thị Bình,\n\nCase 000.00.21.H19-240222-0001 — Đăng ký "
			       "khai sinh\nApplicant: Nguyễn Văn A\n", 95) == 0, "%s", out);
	cr_expect(strstr(out, "\nStatus: OVERDUE by 2 working hours.\n") != NULL, "%s", out);
	free(out);
	template_set_free(set);
}

Test(template_shipped, html_escapes_values)
{
	struct template_set *set = load(SHIPPED, "vi");
	struct example ex;
	char *html, *text;

	example_values(&ex, TEMPLATE_VI);
	const struct template_var v[] = {
		{ "recipient_salutation", ex.salutation }, { "code", CODE },
		{ "title", "Đăng ký khai sinh & kết hôn" },
		{ "applicant", "<script>alert('x')</script>" }, { "unit", "Phòng \"Tư pháp\"" },
		{ "received_at", ex.received }, { "due_at", ex.due }, { "overdue_by", ex.overdue },
		{ "link", ex.link }, { "office_name", "Văn phòng UBND tỉnh" },
	};
	const struct template_vars vars = { v, sizeof(v) / sizeof(v[0]), NULL, 0 };

	html = render(set, TEMPLATE_OVERDUE, TEMPLATE_HTML, &vars);
	cr_expect_null(strstr(html, "<script>"), "%s", html);
	cr_expect(strstr(html, "<strong>Người nộp:</strong> &lt;script&gt;alert(&#39;x&#39;)"
			       "&lt;/script&gt;<br>") != NULL, "%s", html);
	cr_expect(strstr(html, "Đăng ký khai sinh &amp; kết hôn") != NULL);
	cr_expect(strstr(html, "Phòng &quot;Tư pháp&quot;") != NULL);
	/* Red status box for an overdue case, with the status in words too. */
	cr_expect(strstr(html, "border-left:6px solid #c62828") != NULL);
	cr_expect(strstr(html, "<strong>QUÁ HẠN 2 giờ làm việc</strong>") != NULL, "%s", html);
	cr_expect(strstr(html, "<a href=\"" LINK "\"") != NULL);
	cr_expect_null(strstr(html, "{{"));
	cr_expect_null(strstr(html, "<img"));
	/* Plain text carries the value as it is. */
	text = render(set, TEMPLATE_OVERDUE, TEMPLATE_TEXT, &vars);
	cr_expect(strstr(text, "Người nộp: <script>alert('x')</script>\n") != NULL, "%s", text);
	free(html);
	free(text);
	template_set_free(set);
}

Test(template_shipped, before_html_is_amber)
{
	struct template_set *set = load(SHIPPED, "vi");
	struct example ex;
	char *html;

	example_values(&ex, TEMPLATE_VI);
	const struct template_var v[] = { EXAMPLE_VARS(ex), { "left", ex.left } };
	const struct template_vars vars = { v, sizeof(v) / sizeof(v[0]), NULL, 0 };

	html = render(set, TEMPLATE_BEFORE, TEMPLATE_HTML, &vars);
	cr_expect(strstr(html, "border-left:6px solid #e09b00") != NULL);
	cr_expect_null(strstr(html, "#c62828"));
	cr_expect(strstr(html, "<strong>SẮP ĐẾN HẠN: còn 1 ngày làm việc</strong>") != NULL, "%s",
		  html);
	cr_expect(strstr(html, "<meta name=\"viewport\"") != NULL);
	cr_expect(strstr(html, "max-width:600px") != NULL);
	free(html);
	template_set_free(set);
}

/* The three rows of the digest tests: Monday 19 February 2024 at 13:30. */
static void digest_rows(struct template_row rows[3], struct template_var cells[3][9],
			char links[3][128])
{
	static const char *const codes[3] = { CODE, "000.00.21.H19-240215-0003",
					      "000.00.21.H19-240216-0007" };

	for (int i = 0; i < 3; i++)
		cr_assert_gt(template_format_link("https://…", "cases", codes[i], links[i], 128), 0);
	/* Due at 10:00 today: 1.5 h + 0.5 h overdue. */
	cells[0][0] = (struct template_var){ "code", codes[0] };
	cells[0][1] = (struct template_var){ "title", "Đăng ký khai sinh" };
	cells[0][2] = (struct template_var){ "handler", "Lê Thị Bình" };
	cells[0][3] = (struct template_var){ "due_at", "10:00 thứ Hai, 19/02/2024" };
	cells[0][4] = (struct template_var){ "overdue_by", "2 giờ làm việc" };
	cells[0][5] = (struct template_var){ "link", links[0] };
	cells[0][6] = (struct template_var){ "left", NULL };
	/* Due Tuesday 17:00: 3.5 h + 8 h left. */
	cells[1][0] = (struct template_var){ "code", codes[1] };
	cells[1][1] = (struct template_var){ "title", "Đăng ký thường trú" };
	cells[1][2] = (struct template_var){ "handler", "Hoàng Minh Tuấn" };
	cells[1][3] = (struct template_var){ "due_at", "17:00 thứ Ba, 20/02/2024" };
	cells[1][4] = (struct template_var){ "left", "1 ngày 3 giờ 30 phút làm việc" };
	cells[1][5] = (struct template_var){ "link", links[1] };
	cells[1][6] = (struct template_var){ "overdue_by", "" };
	/* Due Wednesday 10:00, no officer yet: 3.5 h + 8 h + 2.5 h left. */
	cells[2][0] = (struct template_var){ "code", codes[2] };
	cells[2][1] = (struct template_var){ "title", "Thủ tục cấp Giấy xác nhận tình trạng hôn nhân" };
	cells[2][2] = (struct template_var){ "handler", NULL };
	cells[2][3] = (struct template_var){ "due_at", "10:00 thứ Tư, 21/02/2024" };
	cells[2][4] = (struct template_var){ "left", "1 ngày 6 giờ làm việc" };
	cells[2][5] = (struct template_var){ "link", links[2] };
	cells[2][6] = (struct template_var){ "extended", "" };
	for (int i = 0; i < 3; i++) {
		cells[i][7] = (struct template_var){ "case_row", "1" };
		cells[i][8] = (struct template_var){ "overdue", i == 0 ? "1" : "" };
		rows[i] = (struct template_row){ cells[i], 9 };
	}
}

#define DIGEST_VARS                                                                                \
	{ "recipient_salutation", "Ông Trần Văn Phong" },                                          \
		{ "unit", "Phòng Hành chính - Tổ chức" }, { "date", "19/02/2024" },                \
		{ "due_soon_count", "2" }, { "overdue_count", "1" },                               \
		{ "due_soon_items", "2 hồ sơ" }, { "overdue_items", "1 hồ sơ" },                   \
		{ "overdue_cases", "1" }, { "link", "https://…/units/hctc" },                       \
		{ "office_name", "Văn phòng UBND tỉnh" }

Test(template_shipped, digest_with_three_rows)
{
	struct template_set *set = load(SHIPPED, "vi");
	struct template_row rows[3];
	struct template_var cells[3][9];
	char links[3][128];
	char *html;

	digest_rows(rows, cells, links);
	const struct template_var v[] = { DIGEST_VARS };
	const struct template_vars vars = { v, sizeof(v) / sizeof(v[0]), rows, 3 };

	expect_render(set, TEMPLATE_DIGEST, TEMPLATE_TEXT, &vars,
		      "Kính gửi: Ông Trần Văn Phong,\n"
		      "\n"
		      "Tình hình giải quyết công việc của Phòng Hành chính - Tổ chức ngày 19/02/2024:\n"
		      "2 hồ sơ sắp đến hạn, 1 hồ sơ quá hạn.\n"
		      "\n"
		      "- Hồ sơ 000.00.21.H19-240222-0001 — Đăng ký khai sinh\n"
		      "  Cán bộ xử lý: Lê Thị Bình. Hạn trả kết quả: 10:00 thứ Hai, 19/02/2024.\n"
		      "  Tình trạng: QUÁ HẠN 2 giờ làm việc.\n"
		      "  https://…/cases/000.00.21.H19-240222-0001\n"
		      "\n"
		      "- Hồ sơ 000.00.21.H19-240215-0003 — Đăng ký thường trú\n"
		      "  Cán bộ xử lý: Hoàng Minh Tuấn. Hạn trả kết quả: 17:00 thứ Ba, 20/02/2024.\n"
		      "  Tình trạng: còn 1 ngày 3 giờ 30 phút làm việc.\n"
		      "  https://…/cases/000.00.21.H19-240215-0003\n"
		      "\n"
		      "- Hồ sơ 000.00.21.H19-240216-0007 — Thủ tục cấp Giấy xác nhận tình trạng hôn "
		      "nhân\n"
		      "  Hạn trả kết quả: 10:00 thứ Tư, 21/02/2024.\n"
		      "  Tình trạng: còn 1 ngày 6 giờ làm việc.\n"
		      "  https://…/cases/000.00.21.H19-240216-0007\n"
		      "\n"
		      "Đề nghị ưu tiên giải quyết các việc quá hạn và sắp đến hạn.\n"
		      "Hồ sơ quá hạn phải có văn bản xin lỗi và đề nghị gia hạn thời gian giải quyết "
		      "(mẫu số 04,\n"
		      "Thông tư 03/2025/TT-VPCP) gửi người nộp.\n"
		      "\n"
		      "Xem danh sách: https://…/units/hctc\n"
		      "\n"
		      "—\n"
		      "Thư được gửi tự động từ hệ thống Đúng Hạn của Văn phòng UBND tỉnh. Vui lòng "
		      "không trả lời thư này.\n");

	html = render(set, TEMPLATE_DIGEST, TEMPLATE_HTML, &vars);
	cr_expect_eq(count(html, "<tr>"), 4, "a header and 3 rows:\n%s", html); /* header + 3 */
	cr_expect_eq(count(html, "QUÁ HẠN 2 giờ làm việc"), 1);
	cr_expect_eq(count(html, "<strong style=\"color:#c62828;\">"), 1);
	cr_expect_eq(count(html, "<strong style=\"color:#5c3b00;\">còn "), 2);
	cr_expect_eq(count(html, "Cán bộ xử lý: "), 2);
	cr_expect_null(strstr(html, "Không có việc"));
	cr_expect(strstr(html, "<a href=\"https://…/cases/000.00.21.H19-240216-0007\"") != NULL);
	free(html);
	template_set_free(set);
}

Test(template_shipped, digest_without_rows)
{
	struct template_set *set = load(SHIPPED, "vi");
	const struct template_var v[] = { DIGEST_VARS };
	const struct template_vars vars = { v, sizeof(v) / sizeof(v[0]), NULL, 0 };
	char *text = render(set, TEMPLATE_DIGEST, TEMPLATE_TEXT, &vars);
	char *html = render(set, TEMPLATE_DIGEST, TEMPLATE_HTML, &vars);

	cr_expect(strstr(text, "1 hồ sơ quá hạn.\n\nKhông có việc sắp đến hạn hoặc quá hạn.\n\n"
			       "Đề nghị") != NULL, "%s", text);
	cr_expect_eq(count(html, "<tr>"), 2);
	cr_expect(strstr(html, "Không có việc sắp đến hạn hoặc quá hạn.") != NULL);
	free(text);
	free(html);
	template_set_free(set);
}

/* Every part of every kind renders with every variable given, leaving no tag behind. */
Test(template_shipped, every_part_renders)
{
	static const char *const langs[] = { "vi", "en" };

	for (int l = 0; l < 2; l++) {
		struct template_set *set = load(SHIPPED, langs[l]);
		struct template_row rows[3];
		struct template_var cells[3][9];
		char links[3][128];

		digest_rows(rows, cells, links);
		for (int k = 0; k < TEMPLATE_KIND_COUNT; k++) {
			const char *all[] = { "item_kind", "code", "title", "applicant", "issuer",
					      "unit", "handler", "recipient_salutation",
					      "received_at", "due_at", "due_time", "left",
					      "overdue_by", "percent_used", "extended", "link",
					      "office_name", "date", "due_soon_count",
					      "overdue_count", "due_today", "overdue",
					      "due_soon_items", "overdue_items", "overdue_cases" };
			struct template_var v[32];
			size_t nv = 0;

			/* Every kind is given every name, as the scheduler does. */
			for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
				v[nv++] = (struct template_var){ all[i], "x" };
			struct template_vars vars = { v, nv, k == TEMPLATE_DIGEST ? rows : NULL,
						      k == TEMPLATE_DIGEST ? 3 : 0 };
			for (int part = 0; part < TEMPLATE_PART_COUNT; part++) {
				char *out = render(set, (enum template_kind)k,
						   (enum template_part)part, &vars);

				cr_expect_null(strstr(out, "{{"), "%s/%s part %d: %s", langs[l],
					       template_kind_name(k), part, out);
				cr_expect_null(strstr(out, "}}"));
				if (part == TEMPLATE_SUBJECT || part == TEMPLATE_CHAT)
					cr_expect_null(strpbrk(out, "\r\n"));
				free(out);
			}
		}
		template_set_free(set);
	}
}

/* --- the KPI notices (kpi_budget, kpi_report) --- */

/* The error budget of Phòng Hành chính - Tổ chức on Monday 19 February 2024: 120 cases so far,
 * 840 projected, 25.2 late ones allowed at 97%, 10 used; 5 of the 30 cases due in the last 7
 * days were late, 8 of 97 in the last 30. */
#define BUDGET_VARS                                                                                \
	{ "recipient_salutation", "Ông Trần Văn Phong" },                                          \
		{ "unit", "Phòng Hành chính - Tổ chức" }, { "office_name", "Văn phòng UBND tỉnh" }, \
		{ "date", "19/02/2024" }, { "year", "2024" }, { "target", "97%" },                 \
		{ "counted", "120" }, { "projected", "840" }, { "budget_allowed", "25,2" },        \
		{ "budget_used", "10" }, { "projected_rate", "91,6%" }, { "late_7d", "5" },        \
		{ "due_7d", "30" }, { "late_30d", "8" }, { "due_30d", "97" },                      \
		{ "burn_30d", "2,7" }, { "burn_threshold", "2" }, { "remaining_threshold", "20%" }

#define BUDGET_ADVICE                                                                              \
	"Đề nghị chỉ đạo rà soát ngay các hồ sơ đang quá hạn và sắp đến hạn, "                     \
	"ưu tiên giải quyết; xác\n"                                                                \
	"định nguyên nhân trễ hạn và bố trí, điều chuyển cán bộ khi cần để bảo đảm "               \
	"chỉ tiêu cuối năm. Hồ\n"                                                                  \
	"sơ quá hạn phải có văn bản xin lỗi và đề nghị gia hạn thời gian giải quyết "              \
	"(mẫu số 04, Thông tư\n"                                                                   \
	"03/2025/TT-VPCP) gửi người nộp.\n"                                                        \
	"\n"                                                                                       \
	"—\n"                                                                                      \
	"Thư được gửi tự động từ hệ thống Đúng Hạn của Văn phòng UBND tỉnh. "                      \
	"Vui lòng không trả lời thư này.\n"

Test(template_shipped, kpi_budget_burning)
{
	struct template_set *set = load(SHIPPED, "vi");
	const struct template_var v[] = {
		BUDGET_VARS, { "budget_remaining", "15,2" }, { "remaining_percent", "60,3%" },
		{ "budget_over", "" }, { "burn_7d", "5,5" }, { "burn_alarm", "1" },
		{ "low_budget", "" },
	};
	const struct template_vars vars = { v, sizeof(v) / sizeof(v[0]), NULL, 0 };
	char *html;

	/* MESSAGES.md's example subject, with this unit's projected rate. */
	expect_render(set, TEMPLATE_KPI_BUDGET, TEMPLATE_SUBJECT, &vars,
		      "[Cảnh báo chỉ tiêu] Phòng Hành chính - Tổ chức: tỷ lệ đúng hạn dự kiến cuối "
		      "năm 91,6% (chỉ tiêu 97%)");
	expect_render(set, TEMPLATE_KPI_BUDGET, TEMPLATE_TEXT, &vars,
		      "Kính gửi: Ông Trần Văn Phong,\n"
		      "\n"
		      "Tỷ lệ giải quyết hồ sơ đúng hạn năm 2024 của Phòng Hành chính - Tổ chức có nguy "
		      "cơ không đạt chỉ tiêu 97% (Quyết định 194/QĐ-UBND).\n"
		      "Nếu giữ tốc độ hiện nay, tỷ lệ đúng hạn cuối năm dự kiến là 91,6%.\n"
		      "Trong 7 ngày qua, 5/30 hồ sơ đến hạn bị trễ hạn, bằng 5,5 lần mức chỉ tiêu cho "
		      "phép (ngưỡng cảnh báo: 2 lần).\n"
		      "\n"
		      "Số liệu từ 01/01/2024 đến 19/02/2024, gồm cả các đơn vị trực thuộc:\n"
		      "- Hồ sơ phải giải quyết: 120; dự kiến cả năm: 840\n"
		      "- Số hồ sơ được phép trễ hạn cả năm theo chỉ tiêu: 25,2\n"
		      "- Đã trễ hạn (kể cả hồ sơ đang quá hạn): 10\n"
		      "- Còn được phép trễ hạn: 15,2 hồ sơ (60,3%)\n"
		      "- 7 ngày qua: 5/30 hồ sơ đến hạn bị trễ, bằng 5,5 lần mức cho phép\n"
		      "- 30 ngày qua: 8/97 hồ sơ đến hạn bị trễ, bằng 2,7 lần mức cho phép\n"
		      "- Tỷ lệ đúng hạn dự kiến cuối năm: 91,6%\n"
		      "\n" BUDGET_ADVICE);
	expect_render(set, TEMPLATE_KPI_BUDGET, TEMPLATE_CHAT, &vars,
		      "[Cảnh báo chỉ tiêu] Phòng Hành chính - Tổ chức: tỷ lệ đúng hạn dự kiến cuối "
		      "năm 91,6% (chỉ tiêu 97%) — 7 ngày qua 5/30 hồ sơ đến hạn bị trễ; đã trễ hạn "
		      "10/25,2 hồ sơ được phép trễ cả năm.");
	html = render(set, TEMPLATE_KPI_BUDGET, TEMPLATE_HTML, &vars);
	cr_expect(strstr(html, "border-left:6px solid #c62828") != NULL);
	cr_expect(strstr(html, "<strong>CẢNH BÁO CHỈ TIÊU: tỷ lệ đúng hạn dự kiến cuối năm 91,6% "
			       "(chỉ tiêu 97%)</strong>\n<br>7 ngày qua: 5/30 hồ sơ đến hạn bị trễ "
			       "hạn, bằng 5,5 lần mức chỉ tiêu cho phép (ngưỡng cảnh báo: 2 lần).\n"
			       "</div>") != NULL, "%s", html);
	cr_expect(strstr(html, "<strong>Còn được phép trễ hạn:</strong> 15,2 hồ sơ (60,3%)<br>") !=
		  NULL, "%s", html);
	cr_expect_null(strstr(html, "Đã vượt"));
	cr_expect_null(strstr(html, "{{"));
	free(html);
	template_set_free(set);
}

Test(template_shipped, kpi_budget_over_without_deadlines)
{
	struct template_set *set = load(SHIPPED, "vi");
	const struct template_var v[] = {
		BUDGET_VARS, { "budget_remaining", "" }, { "remaining_percent", "" },
		{ "budget_over", "2,9" }, { "burn_7d", "" }, { "burn_alarm", "" },
		{ "low_budget", "1" },
	};
	const struct template_vars vars = { v, sizeof(v) / sizeof(v[0]), NULL, 0 };
	char *text = render(set, TEMPLATE_KPI_BUDGET, TEMPLATE_TEXT, &vars);

	cr_expect(strstr(text, "dự kiến là 91,6%.\nSố hồ sơ trễ hạn đã vượt số được phép trễ hạn "
			       "của cả năm.\n\nSố liệu từ") != NULL, "%s", text);
	cr_expect(strstr(text, "- Đã trễ hạn (kể cả hồ sơ đang quá hạn): 10\n- Đã vượt số được "
			       "phép: 2,9 hồ sơ\n- 7 ngày qua: không có hồ sơ đến hạn\n") != NULL,
		  "%s", text);
	cr_expect_null(strstr(text, "Còn được phép"));
	cr_expect_null(strstr(text, "Trong 7 ngày qua"));
	free(text);
	template_set_free(set);
}

Test(template_shipped, kpi_budget_english)
{
	struct template_set *set = load(SHIPPED, "en");
	const struct template_var v[] = {
		BUDGET_VARS, { "budget_remaining", "15,2" }, { "remaining_percent", "60.3%" },
		{ "burn_7d", "5.5" }, { "burn_alarm", "1" },
	};
	const struct template_vars vars = { v, sizeof(v) / sizeof(v[0]), NULL, 0 };
	char *text = render(set, TEMPLATE_KPI_BUDGET, TEMPLATE_TEXT, &vars);

	expect_render(set, TEMPLATE_KPI_BUDGET, TEMPLATE_SUBJECT, &vars,
		      "[KPI warning] Phòng Hành chính - Tổ chức: projected year-end on-time rate 91,6% "
		      "(target 97%)");
	cr_expect(strstr(text, "In the last 7 days, 5 of 30 cases due were late: 5.5 times the "
			       "share the target allows (warning threshold: 2 times).\n") != NULL,
		  "%s", text);
	free(text);
	template_set_free(set);
}

/* A unit's row of the weekly report: every field, as kpi_notify gives them. */
#define KPI_UNIT(name, depth, indent, total, rec, car, cnt, fin, late, within, over)              \
	{ "unit_row", "1" }, { "total", total }, { "unit", name }, { "depth", depth },             \
		{ "indent", indent }, { "received", rec }, { "carried", car }, { "counted", cnt },  \
		{ "finished_on_time", fin }, { "late", late }, { "open_within", within },          \
		{ "open_overdue", over }
#define KPI_RATE(f, rate, target, below)                                                           \
	{ f "_rate", rate }, { f "_target", target }, { f "_below", below }

/* The week of Monday 19 February 2024 for Văn phòng UBND tỉnh and the unit below it. */
struct report_rows {
	struct template_row rows[5];
};

static void report_rows(struct report_rows *r)
{
	static const struct template_var vp[] = {
		KPI_UNIT("Văn phòng UBND tỉnh", "0", "", "", "2", "0", "2", "1", "0", "1", "0"),
		KPI_RATE("on_time", "100%", "", ""), KPI_RATE("online", "50%", "", ""),
		KPI_RATE("payment", "", "", ""), KPI_RATE("digitized", "100%", "", ""),
		KPI_RATE("satisfaction", "", "", ""), KPI_RATE("inspection", "", "", ""),
	};
	static const struct template_var hctc[] = {
		KPI_UNIT("Phòng Hành chính - Tổ chức", "1", "  ", "", "10", "2", "12", "8", "2", "1",
			 "1"),
		KPI_RATE("on_time", "75%", "97%", "1"), KPI_RATE("online", "60%", "80%", "1"),
		KPI_RATE("payment", "100%", "30%", ""), KPI_RATE("digitized", "90%", "90%", ""),
		KPI_RATE("satisfaction", "", "94%", ""), KPI_RATE("inspection", "", "", ""),
	};
	static const struct template_var total[] = {
		KPI_UNIT("", "0", "", "1", "12", "2", "14", "9", "2", "2", "1"),
		KPI_RATE("on_time", "78,5%", "", ""), KPI_RATE("online", "58,3%", "", ""),
		KPI_RATE("payment", "100%", "", ""), KPI_RATE("digitized", "91,6%", "", ""),
		KPI_RATE("satisfaction", "", "", ""), KPI_RATE("inspection", "", "", ""),
	};
	static const struct template_var late[] = {
		{ "case_row", "1" }, { "code", CODE }, { "title", "Đăng ký khai sinh" },
		{ "unit", "Phòng Hành chính - Tổ chức" }, { "handler", "Lê Thị Bình" },
		{ "due_at", "10:00 thứ Hai, 19/02/2024" }, { "overdue_by", "2 giờ làm việc" },
		{ "left", "" }, { "link", LINK },
	};
	static const struct template_var soon[] = {
		{ "case_row", "1" }, { "code", "000.00.21.H19-240215-0003" },
		{ "title", "Đăng ký thường trú" }, { "unit", "Phòng Hành chính - Tổ chức" },
		{ "handler", "" }, { "due_at", "17:00 thứ Ba, 20/02/2024" }, { "overdue_by", "" },
		{ "left", "1 ngày 3 giờ 30 phút làm việc" }, { "link", "" },
	};
	r->rows[0] = (struct template_row){ vp, sizeof(vp) / sizeof(vp[0]) };
	r->rows[1] = (struct template_row){ hctc, sizeof(hctc) / sizeof(hctc[0]) };
	r->rows[2] = (struct template_row){ total, sizeof(total) / sizeof(total[0]) };
	r->rows[3] = (struct template_row){ late, sizeof(late) / sizeof(late[0]) };
	r->rows[4] = (struct template_row){ soon, sizeof(soon) / sizeof(soon[0]) };
	cr_assert_eq(r->rows[0].nvars, 30);
}

#define REPORT_VARS(worst)                                                                         \
	{ "recipient_salutation", "Ông Nguyễn Kim Long" }, { "unit", "Văn phòng UBND tỉnh" },       \
		{ "office_name", "UBND tỉnh Đồng Nai" }, { "date", "19/02/2024" },                 \
		{ "week", "08/2024" }, { "period_from", "01/01/2024" },                            \
		{ "period_to", "19/02/2024" }, { "on_time_rate", "78,5%" },                        \
		{ "on_time_target", "" }, { "on_time_below", "" }, { "open_overdue", "1" },        \
		{ "worst_count", worst }

Test(template_shipped, kpi_report_with_worst_cases)
{
	struct template_set *set = load(SHIPPED, "vi");
	struct report_rows r;
	char *html;

	report_rows(&r);
	const struct template_var v[] = { REPORT_VARS("2") };
	const struct template_vars vars = { v, sizeof(v) / sizeof(v[0]), r.rows, 5 };

	/* MESSAGES.md's example subject. */
	expect_render(set, TEMPLATE_KPI_REPORT, TEMPLATE_SUBJECT, &vars,
		      "[Báo cáo tuần 08/2024] Tình hình giải quyết hồ sơ của Văn phòng UBND tỉnh");
	expect_render(set, TEMPLATE_KPI_REPORT, TEMPLATE_TEXT, &vars,
		      "Kính gửi: Ông Nguyễn Kim Long,\n"
		      "\n"
		      "Báo cáo tuần 08/2024: tình hình giải quyết hồ sơ của Văn phòng UBND tỉnh từ "
		      "01/01/2024 đến 19/02/2024, so với chỉ tiêu năm (Quyết định 194/QĐ-UBND).\n"
		      "Tỷ lệ đúng hạn: 78,5%; 1 hồ sơ đang quá hạn.\n"
		      "\n"
		      "- Văn phòng UBND tỉnh\n"
		      "  Tỷ lệ đúng hạn: 100%\n"
		      "  Hồ sơ: 2 (tiếp nhận 2, kỳ trước chuyển sang 0); đúng hạn 1, trễ hạn 0, đang "
		      "giải quyết trong hạn 1, đang quá hạn 0\n"
		      "  Nộp trực tuyến: 50%; thanh toán trực tuyến: chưa có số liệu\n"
		      "  Số hóa: 100%; hài lòng: chưa có số liệu; kiểm tra đơn vị trực thuộc: chưa có "
		      "số liệu\n"
		      "\n"
		      "  - Phòng Hành chính - Tổ chức\n"
		      "    Tỷ lệ đúng hạn: 75% (chỉ tiêu 97%) — DƯỚI CHỈ TIÊU\n"
		      "    Hồ sơ: 12 (tiếp nhận 10, kỳ trước chuyển sang 2); đúng hạn 8, trễ hạn 2, "
		      "đang giải quyết trong hạn 1, đang quá hạn 1\n"
		      "    Nộp trực tuyến: 60% (chỉ tiêu 80%) — dưới chỉ tiêu; thanh toán trực tuyến: "
		      "100% (chỉ tiêu 30%)\n"
		      "    Số hóa: 90% (chỉ tiêu 90%); hài lòng: chưa có số liệu (chỉ tiêu 94%); kiểm "
		      "tra đơn vị trực thuộc: chưa có số liệu\n"
		      "\n"
		      "- Tổng cộng\n"
		      "  Tỷ lệ đúng hạn: 78,5%\n"
		      "  Hồ sơ: 14 (tiếp nhận 12, kỳ trước chuyển sang 2); đúng hạn 9, trễ hạn 2, đang "
		      "giải quyết trong hạn 2, đang quá hạn 1\n"
		      "  Nộp trực tuyến: 58,3%; thanh toán trực tuyến: 100%\n"
		      "  Số hóa: 91,6%; hài lòng: chưa có số liệu; kiểm tra đơn vị trực thuộc: chưa có "
		      "số liệu\n"
		      "\n"
		      "Hồ sơ cần ưu tiên xử lý (2):\n"
		      "\n"
		      "- Hồ sơ 000.00.21.H19-240222-0001 — Đăng ký khai sinh\n"
		      "  Phòng Hành chính - Tổ chức, cán bộ xử lý: Lê Thị Bình. Hạn trả kết quả: 10:00 "
		      "thứ Hai, 19/02/2024.\n"
		      "  Tình trạng: QUÁ HẠN 2 giờ làm việc.\n"
		      "  https://…/cases/000.00.21.H19-240222-0001\n"
		      "\n"
		      "- Hồ sơ 000.00.21.H19-240215-0003 — Đăng ký thường trú\n"
		      "  Phòng Hành chính - Tổ chức. Hạn trả kết quả: 17:00 thứ Ba, 20/02/2024.\n"
		      "  Tình trạng: còn 1 ngày 3 giờ 30 phút làm việc.\n"
		      "\n"
		      "Đề nghị chỉ đạo giải quyết dứt điểm các hồ sơ quá hạn, ưu tiên các hồ sơ sắp "
		      "đến hạn, và có\n"
		      "biện pháp nâng các chỉ tiêu chưa đạt. Hồ sơ quá hạn phải có văn bản xin lỗi và "
		      "đề nghị gia hạn\n"
		      "thời gian giải quyết (mẫu số 04, Thông tư 03/2025/TT-VPCP) gửi người nộp.\n"
		      "\n"
		      "—\n"
		      "Thư được gửi tự động từ hệ thống Đúng Hạn của UBND tỉnh Đồng Nai. Vui lòng không "
		      "trả lời thư này.\n");
	expect_render(set, TEMPLATE_KPI_REPORT, TEMPLATE_CHAT, &vars,
		      "[Báo cáo tuần 08/2024] Văn phòng UBND tỉnh: tỷ lệ đúng hạn từ 01/01/2024 78,5%; "
		      "1 hồ sơ đang quá hạn.");
	html = render(set, TEMPLATE_KPI_REPORT, TEMPLATE_HTML, &vars);
	/* Two tables: a header and 3 unit rows, a header and 2 cases. */
	cr_expect_eq(count(html, "<tr>"), 7, "%s", html);
	cr_expect_eq(count(html, "<div style=\"margin-left:1em;\">Phòng Hành chính - Tổ chức</div>"),
		     1, "%s", html);
	cr_expect_eq(count(html, "<div style=\"margin-left:0em;\"><strong>Tổng cộng</strong></div>"),
		     1);
	cr_expect_eq(count(html, "<strong style=\"color:#c62828;\">DƯỚI CHỈ TIÊU</strong>"), 1);
	cr_expect_eq(count(html, "<strong style=\"color:#c62828;\">dưới chỉ tiêu</strong>"), 1);
	cr_expect_eq(count(html, "<strong style=\"color:#c62828;\">QUÁ HẠN 2 giờ làm việc</strong>"),
		     1);
	cr_expect(strstr(html, "<a href=\"" LINK "\"") != NULL);
	cr_expect(strstr(html, "<strong>000.00.21.H19-240215-0003</strong>") != NULL);
	cr_expect_null(strstr(html, "Không có hồ sơ quá hạn"));
	free(html);
	template_set_free(set);
}

Test(template_shipped, kpi_report_without_worst_cases)
{
	struct template_set *set = load(SHIPPED, "vi");
	struct report_rows r;
	char *text, *html;

	report_rows(&r);
	const struct template_var v[] = { REPORT_VARS("") };
	/* Only the leaf's row: a single unit's report has no total row. */
	const struct template_vars vars = { v, sizeof(v) / sizeof(v[0]), r.rows + 1, 1 };

	text = render(set, TEMPLATE_KPI_REPORT, TEMPLATE_TEXT, &vars);
	cr_expect(strstr(text, "tra đơn vị trực thuộc: chưa có số liệu\n\nKhông có hồ sơ quá hạn "
			       "hoặc có nguy cơ quá hạn.\n\nĐề nghị chỉ đạo") != NULL, "%s", text);
	cr_expect_null(strstr(text, "Tổng cộng"));
	cr_expect_null(strstr(text, "Hồ sơ cần ưu tiên"));
	html = render(set, TEMPLATE_KPI_REPORT, TEMPLATE_HTML, &vars);
	cr_expect_eq(count(html, "<tr>"), 2, "%s", html);
	cr_expect(strstr(html, "Không có hồ sơ quá hạn hoặc có nguy cơ quá hạn.") != NULL);
	free(text);
	free(html);
	template_set_free(set);
}

Test(template_shipped, kpi_report_english)
{
	struct template_set *set = load(SHIPPED, "en");
	struct report_rows r;
	char *text;

	report_rows(&r);
	const struct template_var v[] = { REPORT_VARS("2") };
	const struct template_vars vars = { v, sizeof(v) / sizeof(v[0]), r.rows, 5 };

	expect_render(set, TEMPLATE_KPI_REPORT, TEMPLATE_SUBJECT, &vars,
		      "[Weekly report 08/2024] Case handling at Văn phòng UBND tỉnh");
	text = render(set, TEMPLATE_KPI_REPORT, TEMPLATE_TEXT, &vars);
	cr_expect(strstr(text, "\n  - Phòng Hành chính - Tổ chức\n    On-time rate: 75% (target "
			       "97%) — BELOW TARGET\n") != NULL, "%s", text);
	cr_expect(strstr(text, "- Case 000.00.21.H19-240215-0003 — Đăng ký thường trú\n  Phòng Hành "
			       "chính - Tổ chức. Result due: 17:00 thứ Ba, 20/02/2024.\n  Status: 1 "
			       "ngày 3 giờ 30 phút làm việc left.\n") != NULL, "%s", text);
	free(text);
	template_set_free(set);
}

/* --- template sets written by the tests --- */

static const char *const suffixes[TEMPLATE_PART_COUNT] = { ".subject", ".txt", ".html", ".chat" };

struct tmpset {
	char dir[64];
};

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fwrite(text, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

/* A "vi" set whose every file holds "x", then the given files (name, text; NULL-ended). */
static void make_set(struct tmpset *ts, const char *const *files)
{
	char path[256];

	snprintf(ts->dir, sizeof(ts->dir), "/tmp/dunghan-template-XXXXXX");
	cr_assert_not_null(mkdtemp(ts->dir));
	snprintf(path, sizeof(path), "%s/vi", ts->dir);
	cr_assert_eq(mkdir(path, 0700), 0);
	for (int k = 0; k < TEMPLATE_KIND_COUNT; k++)
		for (int p = 0; p < TEMPLATE_PART_COUNT; p++) {
			snprintf(path, sizeof(path), "%s/vi/%s%s", ts->dir, template_kind_name(k),
				 suffixes[p]);
			write_file(path, "x", 1);
		}
	for (; files && files[0]; files += 2) {
		snprintf(path, sizeof(path), "%s/vi/%s", ts->dir, files[0]);
		write_file(path, files[1], strlen(files[1]));
	}
}

static void remove_set(struct tmpset *ts)
{
	char path[256];

	for (int k = 0; k < TEMPLATE_KIND_COUNT; k++)
		for (int p = 0; p < TEMPLATE_PART_COUNT; p++) {
			snprintf(path, sizeof(path), "%s/vi/%s%s", ts->dir, template_kind_name(k),
				 suffixes[p]);
			unlink(path);
		}
	snprintf(path, sizeof(path), "%s/vi", ts->dir);
	rmdir(path);
	rmdir(ts->dir);
}

/* Loads a set made of `files` and expects success. */
static struct template_set *load_files(const char *const *files)
{
	struct tmpset ts;
	struct template_set *set;
	struct err err;

	make_set(&ts, files);
	set = template_set_load(ts.dir, "vi", &err);
	remove_set(&ts);
	cr_assert_not_null(set, "%s", err.msg);
	return set;
}

/* Expects loading `files` to fail with a message containing each of the needles. */
static void expect_load_fails(const char *const *files, const char *needle1, const char *needle2)
{
	struct tmpset ts;
	struct template_set *set;
	struct err err;

	make_set(&ts, files);
	set = template_set_load(ts.dir, "vi", &err);
	remove_set(&ts);
	cr_expect_null(set);
	template_set_free(set);
	cr_expect(strstr(err.msg, needle1) != NULL, "\"%s\" lacks \"%s\"", err.msg, needle1);
	if (needle2)
		cr_expect(strstr(err.msg, needle2) != NULL, "\"%s\" lacks \"%s\"", err.msg, needle2);
}

/* --- syntax --- */

Test(template_syntax, substitution_and_sections)
{
	const char *const files[] = {
		"before.txt", "[{{ code }}]{{#handler}} cán bộ {{handler}}{{/handler}}"
			      "{{^handler}} chưa phân công{{/handler}}{{! a comment }}.\n",
		NULL,
	};
	struct template_set *set = load_files(files);
	const struct template_var with[] = { { "code", "A<1>" }, { "handler", "Lê Thị Bình" } };
	const struct template_var without[] = { { "code", "A<1>" }, { "handler", "" } };
	const struct template_var nullv[] = { { "code", "A<1>" }, { "handler", NULL } };
	const struct template_vars v1 = { with, 2, NULL, 0 };
	const struct template_vars v2 = { without, 2, NULL, 0 };
	const struct template_vars v3 = { nullv, 2, NULL, 0 };
	const struct template_vars v4 = { with, 1, NULL, 0 }; /* handler not given at all */

	expect_render(set, TEMPLATE_BEFORE, TEMPLATE_TEXT, &v1, "[A<1>] cán bộ Lê Thị Bình.\n");
	expect_render(set, TEMPLATE_BEFORE, TEMPLATE_TEXT, &v2, "[A<1>] chưa phân công.\n");
	expect_render(set, TEMPLATE_BEFORE, TEMPLATE_TEXT, &v3, "[A<1>] chưa phân công.\n");
	expect_render(set, TEMPLATE_BEFORE, TEMPLATE_TEXT, &v4, "[A<1>] chưa phân công.\n");
	expect_render(set, TEMPLATE_BEFORE, TEMPLATE_TEXT, NULL, "[] chưa phân công.\n");
	template_set_free(set);
}

Test(template_syntax, standalone_lines_vanish)
{
	const char *const files[] = {
		"before.txt", "a\n"
			      "{{#extended}}\n"
			      "  extended {{code}}\n"
			      "{{/extended}}\n"
			      "  {{^extended}}  \n"
			      "not extended\n"
			      "{{/extended}}\r\n"
			      "\t{{! comment line }}\n"
			      "b {{#code}}\n"
			      "c\n"
			      "{{/code}}",
		NULL,
	};
	struct template_set *set = load_files(files);
	const struct template_var on[] = { { "extended", "1" }, { "code", "X" } };
	const struct template_vars v_on = { on, 2, NULL, 0 };
	const struct template_vars v_off = { on + 1, 1, NULL, 0 };

	/* "b {{#code}}" shares its line with text: only whole-line tags vanish. */
	expect_render(set, TEMPLATE_BEFORE, TEMPLATE_TEXT, &v_on, "a\n  extended X\nb \nc\n");
	expect_render(set, TEMPLATE_BEFORE, TEMPLATE_TEXT, &v_off, "a\nnot extended\nb \nc\n");
	template_set_free(set);
}

Test(template_syntax, html_escaping_only_in_html)
{
	const char *const files[] = {
		"before.html", "<p title=\"{{title}}\">{{title}}</p>",
		"before.txt", "{{title}}",
		"before.subject", "{{title}}\n",
		NULL,
	};
	struct template_set *set = load_files(files);
	const struct template_var v[] = { { "title", "<b>\"Tom\" & 'Jerry'</b>" } };
	const struct template_vars vars = { v, 1, NULL, 0 };

	expect_render(set, TEMPLATE_BEFORE, TEMPLATE_HTML, &vars,
		      "<p title=\"&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;\">"
		      "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;</p>");
	expect_render(set, TEMPLATE_BEFORE, TEMPLATE_TEXT, &vars, "<b>\"Tom\" & 'Jerry'</b>");
	/* The subject file's final newline is not part of the subject. */
	expect_render(set, TEMPLATE_BEFORE, TEMPLATE_SUBJECT, &vars, "<b>\"Tom\" & 'Jerry'</b>");
	template_set_free(set);
}

Test(template_syntax, rows_hide_message_variables)
{
	const char *const files[] = {
		"digest.txt", "{{link}}|{{#items}}{{code}}={{link}},{{unit}};{{/items}}|{{link}}"
			      "{{^items}}none{{/items}}",
		NULL,
	};
	struct template_set *set = load_files(files);
	const struct template_var r1[] = { { "code", "A" }, { "link", "/a" }, { "unit", "U1" } };
	const struct template_var r2[] = { { "code", "B" }, { "link", "/b" } };
	const struct template_var r3[] = { { "code", "C" }, { "link", "/c" }, { "unit", NULL } };
	const struct template_row rows[] = { { r1, 3 }, { r2, 2 }, { r3, 3 } };
	const struct template_var v[] = { { "link", "/list" }, { "unit", "Unit" } };
	const struct template_vars vars = { v, 2, rows, 3 };
	const struct template_vars empty = { v, 2, NULL, 0 };

	/* A row field a row does not give falls back to the message's variable of that name;
	 * one given as NULL is empty. */
	expect_render(set, TEMPLATE_DIGEST, TEMPLATE_TEXT, &vars,
		      "/list|A=/a,U1;B=/b,Unit;C=/c,;|/list");
	expect_render(set, TEMPLATE_DIGEST, TEMPLATE_TEXT, &empty, "/list||/listnone");
	template_set_free(set);
}

/* --- errors at load --- */

Test(template_errors, unknown_variable_names_file_and_line)
{
	const char *const files[] = {
		"overdue.txt", "Kính gửi: {{recipient_salutation}},\n\nHồ sơ {{code}}\n"
			       "Cán bộ: {{handlr}}\n",
		NULL,
	};

	expect_load_fails(files, "/vi/overdue.txt:4: unknown variable 'handlr'",
			  "overdue templates know: item_kind, code,");
}

Test(template_errors, variable_of_another_kind)
{
	const char *const left[] = { "overdue.subject", "còn {{left}}", NULL };
	const char *const count[] = { "before.chat", "{{overdue_count}}", NULL };
	const char *const row[] = { "digest.txt", "{{#items}}{{code}}{{/items}} {{code}}", NULL };
	const char *const list[] = { "before.txt", "{{#items}}x{{/items}}", NULL };

	expect_load_fails(left, "overdue.subject:1: unknown variable 'left'", NULL);
	expect_load_fails(count, "before.chat:1: unknown variable 'overdue_count'", NULL);
	expect_load_fails(row, "digest.txt:1: variable 'code' is a row field", NULL);
	expect_load_fails(list, "before.txt:1: unknown variable 'items'", NULL);
}

Test(template_errors, unterminated_and_mismatched_sections)
{
	const char *const open[] = { "due.txt", "a\n\n{{#handler}}\nb\n", NULL };
	const char *const wrong[] = { "due.txt", "{{#handler}}\n{{#code}}\n{{/handler}}\n", NULL };
	const char *const stray[] = { "due.html", "a {{/code}}", NULL };
	const char *const tag[] = { "due.txt", "a\nb {{code\n", NULL };

	expect_load_fails(open, "due.txt:3: section 'handler' is not closed", NULL);
	expect_load_fails(wrong, "due.txt:3: '{{/handler}}' does not close section 'code' opened "
				 "on line 2", NULL);
	expect_load_fails(stray, "due.html:1: '{{/code}}' closes no open section", NULL);
	expect_load_fails(tag, "due.txt:2: unterminated tag", NULL);
}

Test(template_errors, bad_tags_and_depth)
{
	const char *const triple[] = { "due.txt", "{{{code}}}", NULL };
	const char *const empty[] = { "due.txt", "{{ }}", NULL };
	const char *const upper[] = { "due.txt", "{{Code}}", NULL };
	const char *const deep[] = {
		"before.txt", "{{#code}}{{#title}}{{#unit}}{{#handler}}{{#link}}x"
			      "{{/link}}{{/handler}}{{/unit}}{{/title}}{{/code}}",
		NULL,
	};
	const char *const nested[] = { "digest.txt", "{{#items}}{{#items}}{{/items}}{{/items}}",
				       NULL };
	const char *const bare[] = { "digest.html", "{{items}}", NULL };

	expect_load_fails(triple, "due.txt:1: bad tag", NULL);
	expect_load_fails(empty, "due.txt:1: bad tag", NULL);
	expect_load_fails(upper, "due.txt:1: bad tag '{{Code}}'", NULL);
	expect_load_fails(deep, "before.txt:1: section 'link' nested more than 4 deep", NULL);
	expect_load_fails(nested, "digest.txt:1: section 'items' inside itself", NULL);
	expect_load_fails(bare, "digest.html:1: 'items' is a list", NULL);
}

Test(template_errors, one_line_parts)
{
	const char *const subject[] = { "percent.subject", "[Nhắc việc]\nHồ sơ {{code}}\n", NULL };
	const char *const chat[] = { "percent.chat", "a\r\nb", NULL };
	const char *const ok[] = { "percent.subject", "[Nhắc việc] {{code}}\r\n", NULL };

	expect_load_fails(subject, "percent.subject:1: a subject must be one line", NULL);
	expect_load_fails(chat, "percent.chat:1: a chat message must be one line", NULL);
	template_set_free(load_files(ok));
}

Test(template_errors, files_language_and_encoding)
{
	struct err err;
	const char *const latin1[] = { "due.txt", "ok\nPh\xf2ng\n", NULL };
	expect_load_fails(latin1, "due.txt:2: invalid UTF-8", NULL);
	cr_expect_null(template_set_load(SHIPPED, "fr", &err));
	cr_expect(strstr(err.msg, "unknown language \"fr\"") != NULL, "%s", err.msg);
	cr_expect_str_eq(err.field, "language");
	cr_expect_null(template_set_load("/nonexistent/dunghan", "vi", &err));
	cr_expect(strstr(err.msg, "/nonexistent/dunghan/vi/percent.subject: No such file") != NULL,
		  "%s", err.msg);
	cr_expect_str_eq(err.field, "vi/percent.subject");
}

Test(template_errors, missing_and_oversized_file)
{
	struct tmpset ts;
	struct err err;
	char path[256];
	char *big;

	make_set(&ts, NULL);
	snprintf(path, sizeof(path), "%s/vi/digest.chat", ts.dir);
	cr_assert_eq(unlink(path), 0);
	cr_expect_null(template_set_load(ts.dir, "vi", &err));
	cr_expect(strstr(err.msg, "vi/digest.chat: No such file or directory") != NULL, "%s",
		  err.msg);
	big = malloc(TEMPLATE_MAX_FILE + 1);
	cr_assert_not_null(big);
	memset(big, 'a', TEMPLATE_MAX_FILE + 1);
	write_file(path, big, TEMPLATE_MAX_FILE + 1);
	free(big);
	cr_expect_null(template_set_load(ts.dir, "vi", &err));
	cr_expect(strstr(err.msg, "digest.chat: larger than 65536 bytes") != NULL, "%s", err.msg);
	remove_set(&ts);
}

/* --- errors at render --- */

Test(template_errors, line_break_in_subject_or_chat_refused)
{
	struct template_set *set = load(SHIPPED, "vi");
	const struct template_var v[] = {
		{ "code", CODE }, { "title", "Đăng ký khai sinh\r\nBcc: attacker@example.com" },
		{ "unit", "Phòng Tư pháp" }, { "overdue_by", "2 giờ làm việc" },
	};
	const struct template_vars vars = { v, sizeof(v) / sizeof(v[0]), NULL, 0 };
	const struct template_vars vars_doc = { v, 3, NULL, 0 }; /* without overdue_by */
	const struct template_var lf[] = { { "code", "000\nBcc: x" }, { "overdue_by", "2 giờ" } };
	const struct template_vars vars_lf = { lf, 2, NULL, 0 };
	struct err err;
	char *out;

	expect_render_fails(set, TEMPLATE_DOCUMENT_DUE, TEMPLATE_SUBJECT, &vars_doc,
			    "value of 'title' holds a line break: refused in a subject");
	expect_render_fails(set, TEMPLATE_OVERDUE, TEMPLATE_SUBJECT, &vars_lf,
			    "value of 'code' holds a line break");
	expect_render_fails(set, TEMPLATE_OVERDUE, TEMPLATE_CHAT, &vars,
			    "refused in a chat message");
	cr_expect_eq(template_render(set, TEMPLATE_OVERDUE, TEMPLATE_SUBJECT, &vars_lf, &out, &err),
		     -1);
	cr_expect_str_eq(err.field, "code");
	/* A body may hold line breaks. */
	out = render(set, TEMPLATE_OVERDUE, TEMPLATE_TEXT, &vars);
	cr_expect(strstr(out, "Đăng ký khai sinh\r\nBcc: attacker@example.com") != NULL);
	free(out);
	template_set_free(set);
}

Test(template_errors, caller_mistakes)
{
	struct template_set *set = load(SHIPPED, "vi");
	const struct template_var typo[] = { { "cdoe", CODE } };
	const struct template_var twice[] = { { "code", "A" }, { "code", "B" } };
	const struct template_var other[] = { { "left", "1 ngày" }, { "due_soon_count", "3" } };
	const struct template_var row_typo[] = { { "handlr", "x" } };
	const struct template_row rows[] = { { row_typo, 1 } };
	const struct template_var ok[] = { { "code", CODE } };
	const struct template_row ok_rows[] = { { ok, 1 } };
	const struct template_vars v1 = { typo, 1, NULL, 0 };
	const struct template_vars v2 = { twice, 2, NULL, 0 };
	const struct template_vars v3 = { other, 2, NULL, 0 };
	const struct template_vars v4 = { NULL, 0, rows, 1 };
	const struct template_vars v5 = { NULL, 0, ok_rows, 1 };

	expect_render_fails(set, TEMPLATE_OVERDUE, TEMPLATE_TEXT, &v1,
			    "unknown variable 'cdoe' given to overdue");
	expect_render_fails(set, TEMPLATE_OVERDUE, TEMPLATE_TEXT, &v2, "'code' given twice");
	/* A variable of another kind is accepted and unused: one set of values fits every kind. */
	expect_render(set, TEMPLATE_OVERDUE, TEMPLATE_SUBJECT, &v3,
		      "[QUÁ HẠN] Hồ sơ  đã quá hạn trả kết quả lúc ");
	expect_render_fails(set, TEMPLATE_DIGEST, TEMPLATE_TEXT, &v4,
			    "row 1: 'handlr' is not a row field");
	expect_render_fails(set, TEMPLATE_BEFORE, TEMPLATE_TEXT, &v5, "rows given to before");
	expect_render_fails(set, TEMPLATE_KIND_COUNT, TEMPLATE_TEXT, NULL, "bad arguments");
	template_set_free(set);
}

Test(template_errors, output_is_bounded)
{
	const char *const files[] = { "before.txt", "{{title}}{{title}}", NULL };
	struct template_set *set = load_files(files);
	size_t n = TEMPLATE_MAX_OUTPUT / 2 + 1;
	char *big = malloc(n + 1);
	char *out;

	cr_assert_not_null(big);
	memset(big, 'a', n);
	big[n] = '\0';
	const struct template_var v[] = { { "title", big } };
	const struct template_vars vars = { v, 1, NULL, 0 };

	expect_render_fails(set, TEMPLATE_BEFORE, TEMPLATE_TEXT, &vars,
			    "rendered message longer than 1048576 bytes");
	big[n - 2] = '\0'; /* twice this fits */
	out = render(set, TEMPLATE_BEFORE, TEMPLATE_TEXT, &vars);
	cr_expect_eq(strlen(out), 2 * (n - 2));
	free(out);
	free(big);
	template_set_free(set);
}

Test(template_errors, kpi_row_fields)
{
	const char *const outside[] = { "kpi_report.txt", "{{on_time_below}} {{late}}", NULL };
	const char *const digest[] = { "digest.txt", "{{#items}}{{unit_row}}{{/items}}", NULL };
	const char *const budget[] = { "kpi_budget.txt", "{{#items}}x{{/items}}", NULL };
	const char *const report_only[] = { "kpi_report.txt", "{{#items}}{{applicant}}{{/items}}",
					    NULL };

	/* on_time_below is a message variable of kpi_report too (the total); late only a row's. */
	expect_load_fails(outside, "kpi_report.txt:1: variable 'late' is a row field", NULL);
	expect_load_fails(digest, "digest.txt:1: unknown variable 'unit_row'", NULL);
	expect_load_fails(budget, "kpi_budget.txt:1: unknown variable 'items'", NULL);
	expect_load_fails(report_only, "kpi_report.txt:1: unknown variable 'applicant'",
			  "kpi_report templates know: unit, recipient_salutation");
}

Test(template_errors, kpi_rows_at_render)
{
	struct template_set *set = load(SHIPPED, "vi");
	const struct template_var digest_field[] = { { "percent_used", "50%" } };
	const struct template_var report_field[] = { { "unit_row", "1" } };
	const struct template_row r1[] = { { digest_field, 1 } };
	const struct template_row r2[] = { { report_field, 1 } };
	const struct template_vars v1 = { NULL, 0, r1, 1 };
	const struct template_vars v2 = { NULL, 0, r2, 1 };

	expect_render_fails(set, TEMPLATE_KPI_REPORT, TEMPLATE_TEXT, &v1,
			    "row 1: 'percent_used' is not a row field");
	expect_render_fails(set, TEMPLATE_DIGEST, TEMPLATE_TEXT, &v2,
			    "row 1: 'unit_row' is not a row field");
	expect_render_fails(set, TEMPLATE_KPI_BUDGET, TEMPLATE_TEXT, &v2,
			    "rows given to kpi_budget");
	template_set_free(set);
}

/* --- item nouns and counts; the texts of every phase of every kind --- */

Test(template_format, item_nouns_and_counts)
{
	const size_t mixed[TEMPLATE_ITEM_COUNT] = { 2, 1, 0 }, none[TEMPLATE_ITEM_COUNT] = { 0 };
	const size_t one_each[TEMPLATE_ITEM_COUNT] = { 1, 1, 1 };
	char buf[128];

	cr_expect_str_eq(template_item_noun(TEMPLATE_ITEM_CASE, TEMPLATE_VI), "Hồ sơ");
	cr_expect_str_eq(template_item_noun(TEMPLATE_ITEM_DOCUMENT, TEMPLATE_VI), "Văn bản");
	cr_expect_str_eq(template_item_noun(TEMPLATE_ITEM_ASSIGNMENT, TEMPLATE_VI), "Nhiệm vụ");
	cr_expect_str_eq(template_item_noun(TEMPLATE_ITEM_CASE, TEMPLATE_EN), "Case");
	cr_expect_str_eq(template_item_noun(TEMPLATE_ITEM_ASSIGNMENT, TEMPLATE_EN), "Assignment");
	cr_expect_null(template_item_noun(TEMPLATE_ITEM_COUNT, TEMPLATE_VI));

	cr_expect_gt(template_format_item_counts(mixed, TEMPLATE_ITEM_CASE, TEMPLATE_VI, buf,
						 sizeof(buf)), 0);
	cr_expect_str_eq(buf, "2 hồ sơ, 1 văn bản");
	template_format_item_counts(mixed, TEMPLATE_ITEM_CASE, TEMPLATE_EN, buf, sizeof(buf));
	cr_expect_str_eq(buf, "2 cases, 1 document");
	template_format_item_counts(one_each, TEMPLATE_ITEM_CASE, TEMPLATE_EN, buf, sizeof(buf));
	cr_expect_str_eq(buf, "1 case, 1 document, 1 assignment");
	template_format_item_counts(none, TEMPLATE_ITEM_DOCUMENT, TEMPLATE_VI, buf, sizeof(buf));
	cr_expect_str_eq(buf, "0 văn bản");
	template_format_item_counts(none, TEMPLATE_ITEM_CASE, TEMPLATE_EN, buf, sizeof(buf));
	cr_expect_str_eq(buf, "0 cases");
	cr_expect_eq(template_format_item_counts(mixed, TEMPLATE_ITEM_CASE, TEMPLATE_VI, buf, 8), -1);
	cr_expect_str_eq(buf, "");
}

/* The values of document 506/SNV-TT of Sở Nội vụ, due Monday 19 February 2024 17:00. */
#define DOC_VARS(lang)                                                                             \
	{ "recipient_salutation", "Ông Trần Văn Phong" }, { "code", "506/SNV-TT" },                \
		{ "title", "V/v khẩn trương triển khai các nhiệm vụ cải cách hành chính năm 2024" }, \
		{ "issuer", "Sở Nội vụ" }, { "unit", "Phòng Hành chính - Tổ chức" },               \
		{ "received_at", (lang) ? "08:00 Monday, 05/02/2024" : "08:00 thứ Hai, 05/02/2024" }, \
		{ "due_at", (lang) ? "17:00 Monday, 19/02/2024" : "17:00 thứ Hai, 19/02/2024" },    \
		{ "link", "https://…/documents/506%2FSNV-TT" },                                     \
		{ "office_name", "Văn phòng UBND tỉnh" }

/* A document past its deadline has its own text, with its issuer; with no working time since
 * the deadline (read after office hours) it says so without "0 phút". */
Test(template_shipped, document_overdue)
{
	struct template_set *vi = load(SHIPPED, "vi"), *en = load(SHIPPED, "en");
	const struct template_var v[] = { DOC_VARS(0), { "overdue_by", "1 ngày làm việc" },
					  { "overdue", "1" } };
	const struct template_var z[] = { DOC_VARS(0), { "overdue_by", "" }, { "overdue", "1" } };
	const struct template_var e[] = { DOC_VARS(1), { "overdue_by", "1 working day" },
					  { "overdue", "1" } };
	const struct template_vars vv = { v, sizeof(v) / sizeof(v[0]), NULL, 0 };
	const struct template_vars vz = { z, sizeof(z) / sizeof(z[0]), NULL, 0 };
	const struct template_vars ve = { e, sizeof(e) / sizeof(e[0]), NULL, 0 };
	char *text = render(vi, TEMPLATE_DOCUMENT_OVERDUE, TEMPLATE_TEXT, &vv);
	char *html = render(vi, TEMPLATE_DOCUMENT_OVERDUE, TEMPLATE_HTML, &vv);

	expect_render(vi, TEMPLATE_DOCUMENT_OVERDUE, TEMPLATE_SUBJECT, &vv,
		      "[Văn bản quá hạn] 506/SNV-TT — V/v khẩn trương triển khai các nhiệm vụ cải "
		      "cách hành chính năm 2024");
	cr_expect(strstr(text, "Văn bản 506/SNV-TT của Sở Nội vụ\n"
			       "Trích yếu: V/v khẩn trương triển khai các nhiệm vụ cải cách hành "
			       "chính năm 2024\n"
			       "Đơn vị chủ trì: Phòng Hành chính - Tổ chức\n"
			       "Ngày đến: 08:00 thứ Hai, 05/02/2024 — Hạn xử lý: 17:00 thứ Hai, "
			       "19/02/2024\n"
			       "Tình trạng: đã quá hạn 1 ngày làm việc.\n") != NULL, "%s", text);
	cr_expect(strstr(html, "#c62828") && strstr(html, "QUÁ HẠN 1 ngày làm việc"), "%s", html);
	expect_render(vi, TEMPLATE_DOCUMENT_OVERDUE, TEMPLATE_CHAT, &vv,
		      "[Văn bản quá hạn] 506/SNV-TT — V/v khẩn trương triển khai các nhiệm vụ cải "
		      "cách hành chính năm 2024 — Phòng Hành chính - Tổ chức — đã quá hạn 1 ngày làm "
		      "việc (hạn 17:00 thứ Hai, 19/02/2024).");
	expect_render(vi, TEMPLATE_DOCUMENT_OVERDUE, TEMPLATE_CHAT, &vz,
		      "[Văn bản quá hạn] 506/SNV-TT — V/v khẩn trương triển khai các nhiệm vụ cải "
		      "cách hành chính năm 2024 — Phòng Hành chính - Tổ chức — đã quá hạn (hạn 17:00 "
		      "thứ Hai, 19/02/2024).");
	expect_render(en, TEMPLATE_DOCUMENT_OVERDUE, TEMPLATE_SUBJECT, &ve,
		      "[Document overdue] 506/SNV-TT — V/v khẩn trương triển khai các nhiệm vụ cải "
		      "cách hành chính năm 2024");
	expect_render(en, TEMPLATE_DOCUMENT_OVERDUE, TEMPLATE_CHAT, &ve,
		      "[Document overdue] 506/SNV-TT — V/v khẩn trương triển khai các nhiệm vụ cải "
		      "cách hành chính năm 2024 — Phòng Hành chính - Tổ chức — 1 working day overdue "
		      "(due 17:00 Monday, 19/02/2024).");
	free(text);
	free(html);
	template_set_free(vi);
	template_set_free(en);
}

/* An assignment before its deadline is "sắp đến hạn", not overdue; its code is the source
 * document's symbol. */
Test(template_shipped, assignment_due)
{
	struct template_set *vi = load(SHIPPED, "vi"), *en = load(SHIPPED, "en");
	const struct template_var v[] = {
		{ "recipient_salutation", "Ông Hoàng Minh Tuấn" }, { "code", "506/SNV-TT" },
		{ "title", "Rà soát thủ tục hành chính" }, { "unit", "Phòng Hành chính - Tổ chức" },
		{ "handler", "Hoàng Minh Tuấn" }, { "received_at", "08:00 thứ Hai, 05/02/2024" },
		{ "due_at", "17:00 thứ Hai, 19/02/2024" }, { "left", "1 ngày làm việc" },
	};
	const struct template_vars vars = { v, sizeof(v) / sizeof(v[0]), NULL, 0 };
	char *text = render(vi, TEMPLATE_ASSIGNMENT_DUE, TEMPLATE_TEXT, &vars);

	expect_render(vi, TEMPLATE_ASSIGNMENT_DUE, TEMPLATE_SUBJECT, &vars,
		      "[Nhiệm vụ sắp đến hạn] Phòng Hành chính - Tổ chức: Rà soát thủ tục hành chính");
	expect_render(vi, TEMPLATE_ASSIGNMENT_DUE, TEMPLATE_CHAT, &vars,
		      "[Nhiệm vụ sắp đến hạn] Phòng Hành chính - Tổ chức: Rà soát thủ tục hành chính "
		      "— còn 1 ngày làm việc (hạn 17:00 thứ Hai, 19/02/2024).");
	cr_expect(strstr(text, "Nhiệm vụ: Rà soát thủ tục hành chính\n"
			       "Văn bản giao nhiệm vụ: 506/SNV-TT\n"
			       "Đơn vị chủ trì: Phòng Hành chính - Tổ chức; người thực hiện: Hoàng "
			       "Minh Tuấn\n"
			       "Ngày giao: 08:00 thứ Hai, 05/02/2024 — Hạn hoàn thành: 17:00 thứ "
			       "Hai, 19/02/2024\n"
			       "Tình trạng: còn 1 ngày làm việc.\n") != NULL, "%s", text);
	expect_render(en, TEMPLATE_ASSIGNMENT_DUE, TEMPLATE_SUBJECT, &vars,
		      "[Task due soon] Phòng Hành chính - Tổ chức: Rà soát thủ tục hành chính");
	free(text);
	template_set_free(vi);
	template_set_free(en);
}

/* Read after the deadline with no working time since: the deadline instead of "0 phút"; the
 * due text says "hôm nay" only on the deadline's own day. */
Test(template_shipped, overdue_without_working_time_and_due_on_another_day)
{
	struct template_set *vi = load(SHIPPED, "vi"), *en = load(SHIPPED, "en");
	const struct template_var z[] = {
		{ "code", CODE }, { "title", "Đăng ký khai sinh" }, { "unit", "Phòng Tư pháp" },
		{ "due_at", "17:00 thứ Ba, 17/03/2026" }, { "due_time", "17:00" },
		{ "overdue_by", "" }, { "overdue", "1" },
	};
	const struct template_var ze[] = {
		{ "code", CODE }, { "title", "Đăng ký khai sinh" }, { "unit", "Phòng Tư pháp" },
		{ "due_at", "17:00 Tuesday, 17/03/2026" }, { "overdue_by", "" }, { "overdue", "1" },
	};
	const struct template_vars vz = { z, sizeof(z) / sizeof(z[0]), NULL, 0 };
	const struct template_vars vze = { ze, sizeof(ze) / sizeof(ze[0]), NULL, 0 };
	char *text = render(vi, TEMPLATE_OVERDUE, TEMPLATE_TEXT, &vz);

	expect_render(vi, TEMPLATE_OVERDUE, TEMPLATE_SUBJECT, &vz,
		      "[QUÁ HẠN] Hồ sơ " CODE " đã quá hạn trả kết quả lúc 17:00 thứ Ba, 17/03/2026");
	expect_render(vi, TEMPLATE_OVERDUE, TEMPLATE_CHAT, &vz,
		      "[QUÁ HẠN] Hồ sơ " CODE " (Đăng ký khai sinh) — Phòng Tư pháp — đã quá hạn "
		      "(hạn 17:00 thứ Ba, 17/03/2026).");
	cr_expect(strstr(text, "Tình trạng: QUÁ HẠN (hạn trả kết quả 17:00 thứ Ba, 17/03/2026).\n"),
		  "%s", text);
	expect_render(en, TEMPLATE_OVERDUE, TEMPLATE_SUBJECT, &vze,
		      "[Overdue] Case " CODE " is past its deadline of 17:00 Tuesday, 17/03/2026");
	/* due_today not given: the full instant */
	expect_render(vi, TEMPLATE_DUE, TEMPLATE_SUBJECT, &vz,
		      "[Đến hạn] Hồ sơ " CODE " phải trả kết quả lúc 17:00 thứ Ba, 17/03/2026");
	free(text);
	template_set_free(vi);
	template_set_free(en);
}

/* A digest of every kind names each as itself, counts them by kind, and keeps the apology
 * form for overdue cases only. */
Test(template_shipped, digest_of_every_kind)
{
	static const char *const langs[2] = { "vi", "en" };
	static const char *const want[2] = {
		"Tình hình giải quyết công việc của Phòng Hành chính - Tổ chức ngày 19/02/2024:\n"
		"1 văn bản, 1 nhiệm vụ sắp đến hạn, 1 văn bản quá hạn.\n"
		"\n"
		"- Văn bản 12/UBND-VP — V/v báo cáo\n"
		"  Hạn xử lý: D1.\n"
		"  Tình trạng: QUÁ HẠN.\n"
		"  L1\n"
		"\n"
		"- Văn bản 506/SNV-TT — V/v cải cách hành chính\n"
		"  Hạn xử lý: D2.\n"
		"  Tình trạng: còn 2 giờ làm việc.\n"
		"  L2\n"
		"\n"
		"- Nhiệm vụ: Rà soát thủ tục (Văn bản 506/SNV-TT)\n"
		"  Người thực hiện: Hoàng Minh Tuấn. Hạn hoàn thành: D3.\n"
		"  Tình trạng: còn 1 ngày làm việc.\n"
		"  L3\n"
		"\n"
		"Đề nghị ưu tiên giải quyết các việc quá hạn và sắp đến hạn.\n"
		"\n"
		"Xem danh sách: https://…/units/hctc\n",
		"Work of Phòng Hành chính - Tổ chức on 19/02/2024: 1 document, 1 assignment due soon, "
		"1 document overdue.\n"
		"\n"
		"- Document 12/UBND-VP — V/v báo cáo\n"
		"  Handling deadline: D1.\n"
		"  Status: OVERDUE.\n"
		"  L1\n"
		"\n"
		"- Document 506/SNV-TT — V/v cải cách hành chính\n"
		"  Handling deadline: D2.\n"
		"  Status: 2 giờ làm việc left.\n"
		"  L2\n"
		"\n"
		"- Task: Rà soát thủ tục (document 506/SNV-TT)\n"
		"  Assignee: Hoàng Minh Tuấn. Deadline: D3.\n"
		"  Status: 1 ngày làm việc left.\n"
		"  L3\n"
		"\n"
		"Please give priority to what is overdue and what is due soon.\n"
		"\n"
		"Open the list: https://…/units/hctc\n",
	};
	const struct template_var r0[] = { { "document_row", "1" }, { "code", "12/UBND-VP" },
					   { "title", "V/v báo cáo" }, { "due_at", "D1" },
					   { "overdue", "1" }, { "overdue_by", "" }, { "link", "L1" } };
	const struct template_var r1[] = { { "document_row", "1" }, { "code", "506/SNV-TT" },
					   { "title", "V/v cải cách hành chính" }, { "due_at", "D2" },
					   { "left", "2 giờ làm việc" }, { "link", "L2" } };
	const struct template_var r2[] = { { "assignment_row", "1" }, { "code", "506/SNV-TT" },
					   { "title", "Rà soát thủ tục" },
					   { "handler", "Hoàng Minh Tuấn" }, { "due_at", "D3" },
					   { "left", "1 ngày làm việc" }, { "link", "L3" } };
	const struct template_row rows[3] = { { r0, 7 }, { r1, 6 }, { r2, 7 } };

	for (int l = 0; l < 2; l++) {
		struct template_set *set = load(SHIPPED, langs[l]);
		const struct template_var v[] = {
			{ "recipient_salutation", "Ông Trần Văn Phong" },
			{ "unit", "Phòng Hành chính - Tổ chức" }, { "date", "19/02/2024" },
			{ "due_soon_items", l ? "1 document, 1 assignment" : "1 văn bản, 1 nhiệm vụ" },
			{ "overdue_items", l ? "1 document" : "1 văn bản" },
			{ "link", "https://…/units/hctc" },
		};
		const struct template_vars vars = { v, sizeof(v) / sizeof(v[0]), rows, 3 };
		char *text = render(set, TEMPLATE_DIGEST, TEMPLATE_TEXT, &vars);
		char *html = render(set, TEMPLATE_DIGEST, TEMPLATE_HTML, &vars);

		cr_expect(strstr(text, want[l]) != NULL, "%s:\n%s", langs[l], text);
		cr_expect_null(strstr(text, l ? "Case" : "Hồ sơ"), "%s", text);
		cr_expect_eq(count(html, "<tr>"), 4, "%s", html);
		cr_expect_eq(count(html, l ? "Document <a href" : "Văn bản <a href"), 2, "%s", html);
		free(text);
		free(html);
		template_set_free(set);
	}
}
