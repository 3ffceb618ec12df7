/* Tests of calendar (working days, office hours, arithmetic, parsing) and of the tz reader it
 * stands on. Expected values are worked out by hand from the office hours 07:30-11:30 and
 * 13:00-17:00, Monday to Friday, in Asia/Ho_Chi_Minh, and from the 2024 official schedule. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calendar.h"
#include "tz.h"

#define MON_FRI 0x3e /* bits 1..5 */
#define DAY8H 28800

/* --- helpers --- */

static int32_t D(const char *ymd)
{
	int32_t day;
	struct err err;

	cr_assert_eq(civil_parse_date(ymd, &day, &err), 0, "%s: %s", ymd, err.msg);
	return day;
}

static int64_t T(const char *rfc3339)
{
	int64_t t;
	struct err err;

	cr_assert_eq(calendar_parse_rfc3339(rfc3339, &t, &err), 0, "%s: %s", rfc3339, err.msg);
	return t;
}

static struct calendar_config office_config(void)
{
	struct calendar_config cfg = {
		.timezone = "Asia/Ho_Chi_Minh",
		.week_mask = MON_FRI,
		.periods = { { 7 * 60 + 30, 11 * 60 + 30 }, { 13 * 60, 17 * 60 } },
		.nperiods = 2,
		.statutory_holidays = true,
	};
	return cfg;
}

/* The 2024 schedule of HOLIDAYS.md, with 2024 marked official. */
static struct calendar_exception ex2024[16];
static const int official2024[] = { 2024 };

static struct calendar_config config_2024(void)
{
	struct calendar_config cfg = office_config();
	size_t n = 0;
	struct {
		const char *day;
		enum calendar_day_kind kind;
		const char *reason;
	} src[] = {
		{ "2024-01-01", CALENDAR_OFF, "Tết Dương lịch" },
		{ "2024-02-08", CALENDAR_OFF, "Tết Giáp Thìn" },
		{ "2024-02-09", CALENDAR_OFF, "Tết Giáp Thìn" },
		{ "2024-02-12", CALENDAR_OFF, "Tết Giáp Thìn" },
		{ "2024-02-13", CALENDAR_OFF, "Tết Giáp Thìn" },
		{ "2024-02-14", CALENDAR_OFF, "Tết Giáp Thìn" },
		{ "2024-04-18", CALENDAR_OFF, "Giỗ Tổ Hùng Vương" },
		{ "2024-04-29", CALENDAR_OFF, "Hoán đổi" },
		{ "2024-04-30", CALENDAR_OFF, "Ngày Chiến thắng" },
		{ "2024-05-01", CALENDAR_OFF, "Quốc tế Lao động" },
		{ "2024-05-04", CALENDAR_WORK, "Làm bù 29/4" },
		{ "2024-09-02", CALENDAR_OFF, "Quốc khánh" },
		{ "2024-09-03", CALENDAR_OFF, NULL },
	};

	for (size_t i = 0; i < sizeof(src) / sizeof(src[0]); i++)
		ex2024[n++] = (struct calendar_exception){ D(src[i].day), src[i].kind,
							   src[i].reason };
	cfg.exceptions = ex2024;
	cfg.nexceptions = n;
	cfg.official_years = official2024;
	cfg.nofficial_years = 1;
	return cfg;
}

static struct calendar *make(const struct calendar_config *cfg)
{
	struct err err;
	struct calendar *cal = calendar_new(cfg, &err);

	cr_assert_not_null(cal, "calendar_new: %s (%s)", err.msg, err.field);
	return cal;
}

static void expect_add(struct calendar *cal, const char *start, int64_t seconds, const char *want)
{
	char buf[64];

	calendar_format(cal, calendar_add(cal, T(start), seconds), buf, sizeof(buf));
	cr_expect_str_eq(buf, want, "%s %+lld s: got %s, want %s", start, (long long)seconds, buf,
			 want);
}

static void expect_new_fails(const struct calendar_config *cfg, const char *field)
{
	struct err err;
	struct calendar *cal = calendar_new(cfg, &err);

	cr_expect_null(cal);
	cr_expect_str_eq(err.field, field, "field %s (%s), want %s", err.field, err.msg, field);
	calendar_free(cal);
}

/* --- arithmetic with the 2024 official schedule --- */

Test(calendar, tet_2024_official_schedule)
{
	struct calendar_config cfg = config_2024();
	struct calendar *cal = make(&cfg);

	/* Wed 7/2 10:00; Thu 8 to Wed 14 off; Thu 15, Fri 16, Mon 19. */
	expect_add(cal, "2024-02-07T10:00:00+07:00", 3 * DAY8H, "2024-02-19T10:00:00+07:00");
	expect_add(cal, "2024-02-19T10:00:00+07:00", -3 * DAY8H, "2024-02-07T10:00:00+07:00");
	cr_expect_eq(calendar_between(cal, T("2024-02-07T10:00:00+07:00"),
				      T("2024-02-19T10:00:00+07:00")), 3 * DAY8H);
	cr_expect_not(calendar_is_working_day(cal, D("2024-02-08")));
	cr_expect_not(calendar_is_working_day(cal, D("2024-02-14")));
	cr_expect(calendar_is_working_day(cal, D("2024-02-15")));
	calendar_free(cal);
}

Test(calendar, lunch_break_and_period_ends)
{
	struct calendar_config cfg = config_2024();
	struct calendar *cal = make(&cfg);

	/* Tuesday 5 March 2024. */
	expect_add(cal, "2024-03-05T11:00:00+07:00", 3600, "2024-03-05T13:30:00+07:00");
	expect_add(cal, "2024-03-05T10:30:00+07:00", 3600, "2024-03-05T11:30:00+07:00");
	expect_add(cal, "2024-03-05T16:00:00+07:00", 3600, "2024-03-05T17:00:00+07:00");
	expect_add(cal, "2024-03-05T07:30:00+07:00", DAY8H, "2024-03-05T17:00:00+07:00");
	expect_add(cal, "2024-03-05T07:30:00+07:00", DAY8H / 2, "2024-03-05T11:30:00+07:00");
	expect_add(cal, "2024-03-05T09:00:00+07:00", DAY8H / 2, "2024-03-05T14:30:00+07:00");
	expect_add(cal, "2024-03-05T11:30:00+07:00", 60, "2024-03-05T13:01:00+07:00");
	cr_expect_eq(calendar_between(cal, T("2024-03-05T11:45:00+07:00"),
				      T("2024-03-05T12:30:00+07:00")), 0);
	cr_expect_eq(calendar_between(cal, T("2024-03-05T11:00:00+07:00"),
				      T("2024-03-05T13:30:00+07:00")), 3600);
	calendar_free(cal);
}

Test(calendar, starts_outside_office_hours)
{
	struct calendar_config cfg = config_2024();
	struct calendar *cal = make(&cfg);

	expect_add(cal, "2024-03-05T06:00:00+07:00", 3600, "2024-03-05T08:30:00+07:00");
	expect_add(cal, "2024-03-05T12:00:00+07:00", 3600, "2024-03-05T14:00:00+07:00");
	expect_add(cal, "2024-03-05T17:00:00+07:00", 3600, "2024-03-06T08:30:00+07:00");
	expect_add(cal, "2024-03-05T18:00:00+07:00", 3600, "2024-03-06T08:30:00+07:00");
	expect_add(cal, "2024-03-09T10:00:00+07:00", 3600, "2024-03-11T08:30:00+07:00"); /* Sat */
	expect_add(cal, "2024-04-18T09:00:00+07:00", 3600, "2024-04-19T08:30:00+07:00"); /* Hùng */
	/* Zero: the next opening, or the instant itself inside office hours. */
	expect_add(cal, "2024-03-05T18:00:00+07:00", 0, "2024-03-06T07:30:00+07:00");
	expect_add(cal, "2024-03-05T12:00:00+07:00", 0, "2024-03-05T13:00:00+07:00");
	expect_add(cal, "2024-03-05T11:30:00+07:00", 0, "2024-03-05T13:00:00+07:00");
	expect_add(cal, "2024-03-05T07:30:00+07:00", 0, "2024-03-05T07:30:00+07:00");
	cr_expect_eq(calendar_next_open(cal, T("2024-03-05T09:15:00+07:00")),
		     T("2024-03-05T09:15:00+07:00"));
	cr_expect_eq(calendar_next_open(cal, T("2024-03-08T17:00:00+07:00")),
		     T("2024-03-11T07:30:00+07:00"));
	calendar_free(cal);
}

Test(calendar, weekend_and_negative)
{
	struct calendar_config cfg = config_2024();
	struct calendar *cal = make(&cfg);

	/* Fri 8 March 16:00 + 2 h: one hour on Friday, one on Monday. */
	expect_add(cal, "2024-03-08T16:00:00+07:00", 7200, "2024-03-11T08:30:00+07:00");
	expect_add(cal, "2024-03-11T08:30:00+07:00", -7200, "2024-03-08T16:00:00+07:00");
	expect_add(cal, "2024-03-11T07:30:00+07:00", -3600, "2024-03-08T16:00:00+07:00");
	/* Backward to a period start gives that start, not the end of the one before. */
	expect_add(cal, "2024-03-05T14:00:00+07:00", -3600, "2024-03-05T13:00:00+07:00");
	expect_add(cal, "2024-03-05T14:00:00+07:00", -7200, "2024-03-05T10:30:00+07:00");
	/* From a Sunday evening backward: Friday's office time. */
	expect_add(cal, "2024-03-10T20:00:00+07:00", -1800, "2024-03-08T16:30:00+07:00");
	cr_expect_eq(calendar_between(cal, T("2024-03-08T16:00:00+07:00"),
				      T("2024-03-11T08:30:00+07:00")), 7200);
	cr_expect_eq(calendar_between(cal, T("2024-03-11T08:30:00+07:00"),
				      T("2024-03-08T16:00:00+07:00")), -7200);
	calendar_free(cal);
}

Test(calendar, swapped_and_make_up_days_2024)
{
	struct calendar_config cfg = config_2024();
	struct calendar *cal = make(&cfg);

	/* Fri 26/4 + 1 day: Mon 29/4 (swapped), 30/4 and 1/5 are off. */
	expect_add(cal, "2024-04-26T10:00:00+07:00", DAY8H, "2024-05-02T10:00:00+07:00");
	/* Fri 3/5 + 1 day: Saturday 4/5 is the make-up working day. */
	expect_add(cal, "2024-05-03T10:00:00+07:00", DAY8H, "2024-05-04T10:00:00+07:00");
	expect_add(cal, "2024-05-04T16:00:00+07:00", 7200, "2024-05-06T08:30:00+07:00");
	cr_expect(calendar_is_working_day(cal, D("2024-05-04")));
	cr_expect_not(calendar_is_working_day(cal, D("2024-05-05")));
	cr_expect_not(calendar_is_working_day(cal, D("2024-04-29")));
	cr_expect(calendar_is_working_day(cal, D("2024-04-26")));
	/* Quốc khánh 2024: Mon 2/9 and Tue 3/9. */
	expect_add(cal, "2024-08-30T10:00:00+07:00", DAY8H, "2024-09-04T10:00:00+07:00");
	calendar_free(cal);
}

Test(calendar, year_end)
{
	struct calendar_config cfg = config_2024();
	struct calendar *cal = make(&cfg);

	/* 2025 has no schedule here: the statutory 1/1 applies. */
	expect_add(cal, "2024-12-31T10:00:00+07:00", DAY8H, "2025-01-02T10:00:00+07:00");
	expect_add(cal, "2024-12-31T16:00:00+07:00", 7200, "2025-01-02T08:30:00+07:00");
	expect_add(cal, "2025-01-02T08:30:00+07:00", -7200, "2024-12-31T16:00:00+07:00");
	cr_expect_eq(calendar_between(cal, T("2024-12-31T10:00:00+07:00"),
				      T("2025-01-02T10:00:00+07:00")), DAY8H);
	/* A whole year: 2025 by the statutory rule has 261 weekdays and 11 days off on them (10
	 * holidays, and Monday 3/2 for Tết's Saturday 1/2): 250 working days. */
	cr_expect_eq(calendar_between(cal, T("2025-01-01T00:00:00+07:00"),
				      T("2026-01-01T00:00:00+07:00")), 250 * (int64_t)DAY8H);
	calendar_free(cal);
}

Test(calendar, list_2024_official)
{
	struct calendar_config cfg = config_2024();
	struct calendar *cal = make(&cfg);
	struct calendar_exception out[32];
	static const struct {
		const char *day;
		enum calendar_day_kind kind;
		const char *reason;
	} want[] = {
		{ "2024-01-01", CALENDAR_OFF, "Tết Dương lịch" },
		{ "2024-02-08", CALENDAR_OFF, "Tết Giáp Thìn" },
		{ "2024-02-09", CALENDAR_OFF, "Tết Giáp Thìn" },
		{ "2024-02-12", CALENDAR_OFF, "Tết Giáp Thìn" },
		{ "2024-02-13", CALENDAR_OFF, "Tết Giáp Thìn" },
		{ "2024-02-14", CALENDAR_OFF, "Tết Giáp Thìn" },
		{ "2024-04-18", CALENDAR_OFF, "Giỗ Tổ Hùng Vương" },
		{ "2024-04-29", CALENDAR_OFF, "Hoán đổi" },
		{ "2024-04-30", CALENDAR_OFF, "Ngày Chiến thắng" },
		{ "2024-05-01", CALENDAR_OFF, "Quốc tế Lao động" },
		{ "2024-05-04", CALENDAR_WORK, "Làm bù 29/4" },
		{ "2024-09-02", CALENDAR_OFF, "Quốc khánh" },
		{ "2024-09-03", CALENDAR_OFF, "Ngày nghỉ" },
	};
	size_t n = calendar_list(cal, 2024, NULL, 0);

	cr_assert_eq(n, 13);
	cr_assert_eq(calendar_list(cal, 2024, out, 32), 13);
	for (size_t i = 0; i < n; i++) {
		cr_expect_eq(out[i].day, D(want[i].day), "entry %zu", i);
		cr_expect_eq(out[i].kind, want[i].kind, "entry %zu", i);
		cr_expect_str_eq(out[i].reason, want[i].reason, "entry %zu", i);
	}
	/* A short buffer gets the first entries and the total. */
	cr_expect_eq(calendar_list(cal, 2024, out, 2), 13);
	cr_expect_eq(out[1].day, D("2024-02-08"));
	calendar_free(cal);
}

/* --- the statutory rule --- */

struct list_want {
	const char *day;
	const char *reason;
};

static void expect_list(struct calendar *cal, int year, const struct list_want *want, size_t n)
{
	struct calendar_exception out[40];
	size_t got = calendar_list(cal, year, out, 40);

	cr_expect_eq(got, n, "%d: %zu entries, want %zu", year, got, n);
	for (size_t i = 0; i < n && i < got; i++) {
		char buf[11];
		int y, m, d;

		civil_from_days(out[i].day, &y, &m, &d);
		snprintf(buf, sizeof(buf), "%04d-%02d-%02d", y, m, d);
		cr_expect_str_eq(buf, want[i].day, "%d entry %zu", year, i);
		cr_expect_eq(out[i].kind, CALENDAR_OFF, "%d entry %zu", year, i);
		cr_expect_str_eq(out[i].reason, want[i].reason, "%d entry %zu (%s)", year, i, buf);
	}
}

Test(statutory, year_2026_hung_on_sunday)
{
	struct calendar_config cfg = office_config();
	struct calendar *cal = make(&cfg);
	static const struct list_want want[] = {
		{ "2026-01-01", "Tết Dương lịch" },
		{ "2026-02-16", "Tết Nguyên đán" }, /* Tết is Tue 17/2: 16/2 is the 30th */
		{ "2026-02-17", "Tết Nguyên đán" },
		{ "2026-02-18", "Tết Nguyên đán" },
		{ "2026-02-19", "Tết Nguyên đán" },
		{ "2026-02-20", "Tết Nguyên đán" },
		{ "2026-04-27", "Nghỉ bù Giỗ Tổ Hùng Vương" }, /* 10/3 lunar: Sun 26/4 */
		{ "2026-04-30", "Ngày Chiến thắng 30/4" },
		{ "2026-05-01", "Quốc tế Lao động 1/5" },
		{ "2026-09-01", "Quốc khánh 2/9" },
		{ "2026-09-02", "Quốc khánh 2/9" },
	};

	expect_list(cal, 2026, want, sizeof(want) / sizeof(want[0]));
	cr_expect_not(calendar_is_working_day(cal, D("2026-04-27")));
	cr_expect_not(calendar_is_working_day(cal, D("2026-04-26")));
	cr_expect(calendar_is_working_day(cal, D("2026-04-28")));
	expect_add(cal, "2026-04-24T10:00:00+07:00", DAY8H, "2026-04-28T10:00:00+07:00");
	expect_add(cal, "2026-02-13T10:00:00+07:00", DAY8H, "2026-02-23T10:00:00+07:00");
	calendar_free(cal);
}

Test(statutory, year_2022_weekend_holidays)
{
	struct calendar_config cfg = office_config();
	struct calendar *cal = make(&cfg);
	static const struct list_want want[] = {
		{ "2022-01-03", "Nghỉ bù Tết Dương lịch" }, /* 1/1 was a Saturday */
		{ "2022-01-31", "Tết Nguyên đán" },
		{ "2022-02-01", "Tết Nguyên đán" },
		{ "2022-02-02", "Tết Nguyên đán" },
		{ "2022-02-03", "Tết Nguyên đán" },
		{ "2022-02-04", "Tết Nguyên đán" },
		{ "2022-04-11", "Nghỉ bù Giỗ Tổ Hùng Vương" }, /* Sunday 10/4 */
		{ "2022-05-02", "Nghỉ bù Ngày Chiến thắng 30/4" }, /* Saturday 30/4 */
		{ "2022-05-03", "Nghỉ bù Quốc tế Lao động 1/5" }, /* Sunday 1/5 */
		{ "2022-09-01", "Quốc khánh 2/9" },
		{ "2022-09-02", "Quốc khánh 2/9" },
	};

	expect_list(cal, 2022, want, sizeof(want) / sizeof(want[0]));
	expect_add(cal, "2022-04-29T10:00:00+07:00", DAY8H, "2022-05-04T10:00:00+07:00");
	calendar_free(cal);
}

Test(statutory, year_2027_tet_over_weekend)
{
	struct calendar_config cfg = office_config();
	struct calendar *cal = make(&cfg);
	static const struct list_want want[] = {
		{ "2027-01-01", "Tết Dương lịch" },
		{ "2027-02-05", "Tết Nguyên đán" }, /* Tết is Sat 6/2 */
		{ "2027-02-08", "Tết Nguyên đán" },
		{ "2027-02-09", "Tết Nguyên đán" },
		{ "2027-02-10", "Nghỉ bù Tết Nguyên đán" }, /* for Saturday 6/2 */
		{ "2027-02-11", "Nghỉ bù Tết Nguyên đán" }, /* for Sunday 7/2 */
		{ "2027-04-16", "Giỗ Tổ Hùng Vương" },
		{ "2027-04-30", "Ngày Chiến thắng 30/4" },
		{ "2027-05-03", "Nghỉ bù Quốc tế Lao động 1/5" }, /* Saturday 1/5 */
		{ "2027-09-01", "Quốc khánh 2/9" },
		{ "2027-09-02", "Quốc khánh 2/9" },
	};

	expect_list(cal, 2027, want, sizeof(want) / sizeof(want[0]));
	expect_add(cal, "2027-02-04T10:00:00+07:00", DAY8H, "2027-02-12T10:00:00+07:00");
	calendar_free(cal);
}

Test(statutory, explicit_exceptions_win)
{
	struct calendar_config cfg = office_config();
	struct calendar_exception ex[] = {
		{ D("2026-04-30"), CALENDAR_WORK, "Trực" }, /* a statutory weekday, worked */
		{ D("2026-03-02"), CALENDAR_OFF, NULL },    /* an extra day off */
		{ D("2026-03-02"), CALENDAR_OFF, "twice" }, /* listed twice: harmless */
		{ D("2026-03-07"), CALENDAR_WORK, NULL },   /* a Saturday worked */
	};
	struct calendar *cal;
	struct calendar_exception out[20];
	size_t n;

	cfg.exceptions = ex;
	cfg.nexceptions = 4;
	cal = make(&cfg);
	cr_expect(calendar_is_working_day(cal, D("2026-04-30")));
	cr_expect_not(calendar_is_working_day(cal, D("2026-03-02")));
	cr_expect(calendar_is_working_day(cal, D("2026-03-07")));
	n = calendar_list(cal, 2026, out, 20);
	cr_assert_eq(n, 12); /* 11 statutory - 30/4 + 2/3 + 7/3 */
	cr_expect_eq(out[6].day, D("2026-03-02"));
	cr_expect_str_eq(out[6].reason, "Ngày nghỉ");
	cr_expect_eq(out[7].day, D("2026-03-07"));
	cr_expect_eq(out[7].kind, CALENDAR_WORK);
	cr_expect_str_eq(out[7].reason, "Ngày làm bù");
	cr_expect_eq(out[9].day, D("2026-05-01"));
	calendar_free(cal);
}

Test(statutory, disabled_and_official_years)
{
	struct calendar_config cfg = office_config();
	static const int official[] = { 2027, 2026 };
	struct calendar *cal;

	cfg.statutory_holidays = false;
	cal = make(&cfg);
	cr_expect(calendar_is_working_day(cal, D("2026-04-30")));
	cr_expect_eq(calendar_list(cal, 2026, NULL, 0), 0);
	calendar_free(cal);

	cfg.statutory_holidays = true;
	cfg.official_years = official;
	cfg.nofficial_years = 2;
	cal = make(&cfg);
	cr_expect(calendar_is_working_day(cal, D("2026-04-30")));
	cr_expect_eq(calendar_list(cal, 2026, NULL, 0), 0);
	cr_expect_not(calendar_is_working_day(cal, D("2025-04-30")));
	calendar_free(cal);
}

struct year_counter {
	pthread_mutex_t lock;
	int calls[400];
	int total;
};

static void count_year(void *ctx, int year)
{
	struct year_counter *c = ctx;

	pthread_mutex_lock(&c->lock);
	c->calls[year - 1900]++;
	c->total++;
	pthread_mutex_unlock(&c->lock);
}

Test(statutory, callback_once_per_year)
{
	struct calendar_config cfg = config_2024();
	struct year_counter c = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct calendar *cal;

	cfg.on_statutory_year = count_year;
	cfg.ctx = &c;
	cal = make(&cfg);
	cr_expect_eq(c.total, 0);
	calendar_is_working_day(cal, D("2026-04-27"));
	calendar_is_working_day(cal, D("2026-04-28"));
	calendar_list(cal, 2026, NULL, 0);
	calendar_add(cal, T("2024-12-30T10:00:00+07:00"), 20 * DAY8H); /* 2024 and 2025 */
	calendar_add(cal, T("2025-06-30T10:00:00+07:00"), -20 * DAY8H);
	calendar_between(cal, T("2024-06-01T00:00:00Z"), T("2026-06-01T00:00:00Z"));
	cr_expect_eq(c.calls[2024 - 1900], 0, "2024 is official");
	cr_expect_eq(c.calls[2025 - 1900], 1);
	cr_expect_eq(c.calls[2026 - 1900], 1);
	cr_expect_eq(c.total, 2);
	calendar_free(cal);
}

/* --- other calendars --- */

Test(calendar, round_the_clock)
{
	struct calendar_config cfg = {
		.timezone = "Asia/Ho_Chi_Minh",
		.week_mask = 0x7f,
		.periods = { { 0, 1440 } },
		.nperiods = 1,
	};
	struct calendar *cal = make(&cfg);
	int64_t t = T("2024-02-10T23:59:30+07:00");

	cr_expect_eq(calendar_day_seconds(cal), 86400);
	cr_expect_eq(calendar_add(cal, t, 60), t + 60);
	cr_expect_eq(calendar_add(cal, t, -86400 * 3), t - 86400 * 3);
	cr_expect_eq(calendar_add(cal, t, 0), t);
	cr_expect_eq(calendar_between(cal, t, t + 1000003), 1000003);
	cr_expect_eq(calendar_between(cal, t + 5, t), -5);
	cr_expect_eq(calendar_next_open(cal, t), t);
	/* Landing exactly on midnight. */
	expect_add(cal, "2024-02-10T23:59:30+07:00", 30, "2024-02-11T00:00:00+07:00");
	calendar_free(cal);
}

Test(calendar, other_week_and_periods)
{
	/* A Monday-Saturday week with three periods. */
	struct calendar_config cfg = {
		.timezone = "Asia/Ho_Chi_Minh",
		.week_mask = 0x7e,
		.periods = { { 8 * 60, 10 * 60 }, { 10 * 60, 12 * 60 }, { 14 * 60, 15 * 60 } },
		.nperiods = 3,
	};
	struct calendar *cal = make(&cfg);

	cr_expect_eq(calendar_day_seconds(cal), 5 * 3600);
	expect_add(cal, "2024-03-09T11:00:00+07:00", 3 * 3600, "2024-03-11T09:00:00+07:00");
	expect_add(cal, "2024-03-09T09:00:00+07:00", 3600, "2024-03-09T10:00:00+07:00");
	calendar_free(cal);
}

Test(calendar, days_instants_format)
{
	struct calendar_config cfg = office_config();
	struct calendar *cal = make(&cfg);
	char buf[64];

	cr_expect_eq(calendar_day_of(cal, T("2024-02-07T16:59:59Z")), D("2024-02-07"));
	cr_expect_eq(calendar_day_of(cal, T("2024-02-07T17:00:00Z")), D("2024-02-08"));
	cr_expect_eq(calendar_instant_of(cal, D("2024-02-07"), 600), 1707274800);
	cr_expect_eq(calendar_utc_offset(cal, 1707274800), 25200);
	cr_expect_eq(calendar_format(cal, 1707274800, buf, sizeof(buf)), 25);
	cr_expect_str_eq(buf, "2024-02-07T10:00:00+07:00");
	cr_expect_eq(calendar_format(cal, 1707274800, buf, 11), 10);
	cr_expect_str_eq(buf, "2024-02-07");
	/* 1912-06-01: +07:00 already (PLMT ended on 1911-05-01). */
	calendar_format(cal, T("1912-06-01T00:00:00Z"), buf, sizeof(buf));
	cr_expect_str_eq(buf, "1912-06-01T07:00:00+07:00");
	/* 1950: +08:00 (1947-1955). */
	calendar_format(cal, T("1950-01-01T00:00:00Z"), buf, sizeof(buf));
	cr_expect_str_eq(buf, "1950-01-01T08:00:00+08:00");
	calendar_free(cal);
}

/* calendar_format writes its digits itself: it must give what the printf spelling of the same
 * fields gives, for zones east and west of UTC (St John's: -03:30 / -02:30), at every second
 * of the day, and at the clamped ends of years 0000 and 9999. */
static void expect_format_like_printf(struct calendar *cal, int64_t t)
{
	const int64_t lo = -62167219200LL + 86400, hi = 253402300799LL - 86400;
	int64_t c = t < lo ? lo : t > hi ? hi : t;
	int offm = calendar_utc_offset(cal, c) / 60;
	time_t local = (time_t)(c + (int64_t)offm * 60);
	struct tm tm;
	char want[64], got[64];

	cr_assert_not_null(gmtime_r(&local, &tm));
	snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, offm < 0 ? '-' : '+',
		 abs(offm) / 60, abs(offm) % 60);
	cr_assert_eq(calendar_format(cal, t, got, sizeof(got)), strlen(want), "%lld",
		     (long long)t);
	cr_assert_str_eq(got, want, "%lld", (long long)t);
}

Test(calendar, format_matches_printf)
{
	static const char *const zones[] = { "Asia/Ho_Chi_Minh", "America/St_Johns", "UTC" };
	uint64_t x = 88172645463325252ULL;

	for (size_t z = 0; z < 3; z++) {
		struct calendar_config cfg = office_config();
		struct calendar *cal;

		cfg.timezone = zones[z];
		cal = make(&cfg);
		expect_format_like_printf(cal, INT64_MIN / 2);
		expect_format_like_printf(cal, INT64_MAX / 2);
		expect_format_like_printf(cal, -62167219200LL);
		expect_format_like_printf(cal, 253402300799LL);
		for (int64_t s = 0; s < 86400; s += 7)
			expect_format_like_printf(cal, 1707264000 + s);
		for (int i = 0; i < 20000; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			expect_format_like_printf(cal,
						  (int64_t)(x % 320000000000ULL) - 62000000000LL);
		}
		calendar_free(cal);
	}
}

Test(calendar, zone_change_1975)
{
	/* South Vietnam moved from +08 to +07 at 1975-06-13 00:00 (clock back to 23:00 on the
	 * 12th), so Thursday 12 June 1975 had 25 hours. */
	struct calendar_config cfg = {
		.timezone = "Asia/Ho_Chi_Minh",
		.week_mask = 0x7f,
		.periods = { { 0, 1440 } },
		.nperiods = 1,
	};
	struct calendar *cal = make(&cfg);

	cr_expect_eq(calendar_utc_offset(cal, T("1975-06-12T15:59:59Z")), 28800);
	cr_expect_eq(calendar_utc_offset(cal, T("1975-06-12T16:00:00Z")), 25200);
	/* 23:30 happened twice: the first is at +08. */
	cr_expect_eq(calendar_instant_of(cal, D("1975-06-12"), 23 * 60 + 30),
		     T("1975-06-12T15:30:00Z"));
	cr_expect_eq(calendar_between(cal, T("1975-06-11T16:00:00Z"), T("1975-06-12T17:00:00Z")),
		     25 * 3600);
	cr_expect_eq(calendar_day_of(cal, T("1975-06-12T16:30:00Z")), D("1975-06-12"));
	cr_expect_eq(calendar_day_of(cal, T("1975-06-12T17:00:00Z")), D("1975-06-13"));
	calendar_free(cal);
}

Test(calendar, saturation)
{
	struct calendar_config cfg = office_config();
	struct calendar *cal = make(&cfg);

	cr_expect_eq(calendar_add(cal, 0, INT64_MAX), INT64_MAX);
	cr_expect_eq(calendar_add(cal, 0, INT64_MIN), INT64_MIN);
	cr_expect_eq(calendar_add(cal, INT64_MAX, 1), INT64_MAX);
	cr_expect_eq(calendar_add(cal, INT64_MIN, -1), INT64_MIN);
	cr_expect_eq(calendar_next_open(cal, INT64_MAX), INT64_MAX);
	/* Before 1900 nothing is known: office time starts with the first period of 1900
	 * (Tuesday 2 January, 1 January being a holiday). */
	cr_expect_eq(calendar_add(cal, T("1850-05-05T00:00:00+07:00"), 3600),
		     calendar_instant_of(cal, D("1900-01-02"), 8 * 60 + 30));
	cr_expect_eq(calendar_between(cal, INT64_MIN, INT64_MAX),
		     calendar_between(cal, T("1899-01-01T00:00:00Z"), T("2201-01-01T00:00:00Z")));
	cr_expect_gt(calendar_between(cal, INT64_MIN, INT64_MAX), 0);
	cr_expect_eq(calendar_day_of(cal, T("2400-03-01T00:00:00+07:00")), D("2400-03-01"));
	calendar_day_of(cal, INT64_MIN);
	calendar_day_of(cal, INT64_MAX);
	/* Past the tables only the week applies: Saturday 6 January 2300, Monday 1 January. */
	cr_expect_not(calendar_is_working_day(cal, D("2300-01-06")));
	cr_expect(calendar_is_working_day(cal, D("2300-01-01")));
	cr_expect_eq(calendar_list(cal, 1500, NULL, 0), 0);
	calendar_free(cal);
}

/* --- property: add and between are inverse --- */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

Test(property, add_between_inverse)
{
	struct calendar_config cfg = config_2024();
	struct calendar *cal = make(&cfg);
	const int64_t from = T("2022-06-01T00:00:00+07:00"), to = T("2028-01-01T00:00:00+07:00");
	uint64_t seed = 0x9e3779b97f4a7c15ULL;

	for (int i = 0; i < 50000; i++) {
		int64_t s = from + (int64_t)(rng_next(&seed) % (uint64_t)(to - from));
		int64_t d = (int64_t)(rng_next(&seed) % (uint64_t)(40 * DAY8H + 1));
		int64_t r, b;

		if (i % 7 == 0) /* whole minutes, as people write them */
			s -= s % 60;
		r = calendar_add(cal, s, d);
		b = calendar_add(cal, s, -d);
		cr_assert_eq(calendar_between(cal, s, r), d, "start %lld + %lld", (long long)s,
			     (long long)d);
		cr_assert_eq(calendar_between(cal, b, s), d, "start %lld - %lld", (long long)s,
			     (long long)d);
		cr_assert_geq(r, s);
		cr_assert_leq(b, s);
		if (d > 0)
			cr_assert_eq(calendar_add(cal, r, -d), calendar_next_open(cal, s));
	}
	for (int i = 0; i < 20000; i++) {
		int64_t a = from + (int64_t)(rng_next(&seed) % (uint64_t)(to - from));
		int64_t b = a + (int64_t)(rng_next(&seed) % (60 * 86400));
		int64_t w = calendar_between(cal, a, b);
		int64_t r = calendar_add(cal, a, w);

		/* The earliest instant reaching b's office time: at or before b, none in between
		 * (for 0, add gives the next opening, which may come after b). */
		if (w > 0)
			cr_assert_leq(r, b);
		else
			cr_assert_eq(r, calendar_next_open(cal, a));
		cr_assert_eq(calendar_between(cal, r, b), 0);
		cr_assert_eq(calendar_between(cal, a, r), w);
	}
	calendar_free(cal);
}

/* --- threads --- */

struct thread_arg {
	struct calendar *cal;
	uint64_t seed;
	int64_t from;
	int64_t sum;
};

static void *worker(void *p)
{
	struct thread_arg *a = p;

	for (int i = 0; i < 20000; i++) {
		int64_t s = a->from + (int64_t)(rng_next(&a->seed) % (40LL * 365 * 86400));
		int64_t d = (int64_t)(rng_next(&a->seed) % (uint64_t)(30 * DAY8H));

		a->sum += calendar_add(a->cal, s, d) % 1000003;
	}
	return NULL;
}

Test(calendar, concurrent_first_use)
{
	struct calendar_config cfg = office_config();
	struct year_counter c = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct calendar *cal, *ref;
	struct thread_arg args[4];
	pthread_t th[4];
	const int64_t from = T("1995-01-01T00:00:00Z");

	cfg.on_statutory_year = count_year;
	cfg.ctx = &c;
	cal = make(&cfg);
	for (int i = 0; i < 4; i++) {
		args[i] = (struct thread_arg){ cal, 12345, from, 0 }; /* the same work in each */
		cr_assert_eq(pthread_create(&th[i], NULL, worker, &args[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (int y = 0; y < 400; y++)
		cr_assert_leq(c.calls[y], 1, "year %d built %d times", 1900 + y, c.calls[y]);
	cfg.on_statutory_year = NULL;
	ref = make(&cfg);
	{
		struct thread_arg one = { ref, 12345, from, 0 };

		worker(&one);
		for (int i = 0; i < 4; i++)
			cr_expect_eq(args[i].sum, one.sum);
	}
	calendar_free(ref);
	calendar_free(cal);
}

/* --- validation --- */

Test(validation, config_errors)
{
	struct calendar_config cfg = office_config();
	struct calendar_exception ex[] = {
		{ D("2024-05-04"), CALENDAR_WORK, NULL },
		{ D("2024-05-04"), CALENDAR_OFF, NULL },
	};

	cfg.nperiods = 0;
	expect_new_fails(&cfg, "calendar.office_hours");
	cfg.nperiods = 9;
	expect_new_fails(&cfg, "calendar.office_hours");
	cfg = office_config();
	cfg.periods[1] = (struct calendar_period){ 11 * 60, 17 * 60 }; /* overlaps */
	expect_new_fails(&cfg, "calendar.office_hours");
	cfg.periods[1] = (struct calendar_period){ 6 * 60, 7 * 60 }; /* not sorted */
	expect_new_fails(&cfg, "calendar.office_hours");
	cfg.periods[1] = (struct calendar_period){ 13 * 60, 13 * 60 }; /* empty */
	expect_new_fails(&cfg, "calendar.office_hours");
	cfg.periods[1] = (struct calendar_period){ 13 * 60, 1441 };
	expect_new_fails(&cfg, "calendar.office_hours");
	cfg.periods[1] = (struct calendar_period){ -5, 60 };
	expect_new_fails(&cfg, "calendar.office_hours");
	cfg = office_config();
	cfg.week_mask = 0;
	expect_new_fails(&cfg, "calendar.week");
	cfg.week_mask = 0x80;
	expect_new_fails(&cfg, "calendar.week");
	cfg = office_config();
	cfg.timezone = "Asia/Atlantis";
	expect_new_fails(&cfg, "calendar.timezone");
	cfg.timezone = "../../../etc/passwd";
	expect_new_fails(&cfg, "calendar.timezone");
	cfg.timezone = "/etc/localtime";
	expect_new_fails(&cfg, "calendar.timezone");
	cfg.timezone = NULL;
	expect_new_fails(&cfg, "calendar.timezone");
	cfg.timezone = "Asia";
	expect_new_fails(&cfg, "calendar.timezone");
	cfg = office_config();
	cfg.zoneinfo_dir = "/nonexistent";
	expect_new_fails(&cfg, "calendar.timezone");
	cfg = office_config();
	cfg.exceptions = ex;
	cfg.nexceptions = 2;
	expect_new_fails(&cfg, "calendar.make_up_days");
	calendar_free(NULL);
}

/* --- parsing --- */

Test(parse, dates)
{
	int32_t day = -1;
	struct err err;

	cr_expect_eq(civil_parse_date("1970-01-01", &day, &err), 0);
	cr_expect_eq(day, 0);
	cr_expect_eq(civil_parse_date("2024-02-29", &day, &err), 0);
	cr_expect_eq(day, 19782);
	cr_expect_eq(civil_parse_date("1969-12-31", &day, &err), 0);
	cr_expect_eq(day, -1);
	cr_expect_eq(civil_weekday(D("2024-02-10")), 6); /* Tết Giáp Thìn, a Saturday */
	cr_expect_eq(civil_weekday(D("1969-12-28")), 0);
	cr_expect_eq(civil_to_days(2000, 3, 1), 11017);
	{
		int y, m, d;

		civil_from_days(-719468, &y, &m, &d);
		cr_expect(y == 0 && m == 3 && d == 1);
		civil_from_days(D("2199-12-31"), &y, &m, &d);
		cr_expect(y == 2199 && m == 12 && d == 31);
	}
	static const char *bad[] = { "2023-02-29", "2024-13-01", "2024-00-10", "2024-04-31",
				     "2024-2-07", "2024-02-07x", "2024-02-07T10:00", " 2024-02-07",
				     "", "24-02-07", "2024/02/07" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(civil_parse_date(bad[i], &day, &err), -1, "%s", bad[i]);
		cr_expect_neq(err.msg[0], '\0');
	}
	cr_expect_eq(civil_parse_date(NULL, &day, &err), -1);
}

Test(parse, rfc3339)
{
	int64_t t;
	struct err err;

	cr_expect_eq(T("2024-02-07T10:00:00+07:00"), 1707274800);
	cr_expect_eq(T("2024-02-07T03:00:00Z"), 1707274800);
	cr_expect_eq(T("2024-02-07T03:00:00.999999Z"), 1707274800);
	cr_expect_eq(T("2024-02-06T22:30:00-04:30"), 1707274800);
	cr_expect_eq(T("2024-02-07t03:00:00z"), 1707274800);
	cr_expect_eq(T("1970-01-01T00:00:00Z"), 0);
	cr_expect_eq(T("1969-12-31T23:59:59Z"), -1);
	cr_expect_eq(T("2016-12-31T23:59:60Z"), 1483228800); /* leap second: the next one */
	static const char *bad[] = { "2024-02-07T10:00:00", "2024-02-07 10:00:00+07:00",
				     "2024-02-07T10:00+07:00", "2024-02-07T24:00:00Z",
				     "2024-02-30T10:00:00Z", "2024-02-07T10:00:00+0700",
				     "2024-02-07T10:00:00+07", "2024-02-07T10:00:00.Z",
				     "2024-02-07T10:00:00Zjunk", "garbage", "", "2024-02-07" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(calendar_parse_rfc3339(bad[i], &t, &err), -1, "%s", bad[i]);
		cr_expect_neq(err.msg[0], '\0');
	}
	calendar_parse_rfc3339("garbage", &t, &err);
	cr_expect_not_null(strstr(err.msg, "expected RFC 3339"), "%s", err.msg);
	calendar_parse_rfc3339("2024-02-07T10:00:00", &t, &err);
	cr_expect_not_null(strstr(err.msg, "offset"), "%s", err.msg);
}

Test(parse, durations)
{
	static const struct {
		const char *s;
		int64_t want;
	} ok[] = {
		{ "3d", 3 * DAY8H }, { "0.5d", 14400 }, { "4h", 14400 },  { "90m", 5400 },
		{ "30s", 30 },       { "-1d", -DAY8H }, { "+2h", 7200 },  { "1.5h", 5400 },
		{ "0d", 0 },         { "0.25d", 7200 }, { "0.0001h", 0 }, { "0.0002h", 1 },
		{ "2.5s", 3 },       { "-2.5s", -3 },   { "40d", 40 * DAY8H },
		{ "9223372036854775807s", INT64_MAX },
	};
	static const char *bad[] = { "", "3", "d", "3x", "1e5d", "3d ", " 3d", "3 d", "3.d",
				     ".5d", "--3d", "3dd", "99999999999999999999s",
				     "9223372036854775807m", "1.0000000001h", "3D" };
	int64_t v;
	struct err err;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cr_expect_eq(calendar_parse_duration(ok[i].s, DAY8H, &v, &err), 0, "%s: %s",
			     ok[i].s, err.msg);
		cr_expect_eq(v, ok[i].want, "%s: %lld", ok[i].s, (long long)v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(calendar_parse_duration(bad[i], DAY8H, &v, &err), -1, "%s", bad[i]);
		cr_expect_neq(err.msg[0], '\0');
	}
	cr_expect_eq(calendar_parse_duration(NULL, DAY8H, &v, &err), -1);
}

/* --- tz --- */

static size_t put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
	return 4;
}

/* A TZif file: one data block (v1: 32-bit) or a minimal v1 block then a 64-bit one. */
static size_t tzif(unsigned char *buf, char version, const int64_t *times, const uint8_t *idx,
		   size_t n, const int32_t *offs, size_t ntypes, const char *footer)
{
	size_t len = 0;

	for (int pass = version ? 0 : 1; pass < 2; pass++) {
		int tsize = pass == 0 ? 4 : (version ? 8 : 4);
		size_t tn = pass == 0 ? 0 : n, ty = pass == 0 ? 1 : ntypes;

		memcpy(buf + len, "TZif", 4);
		buf[len + 4] = (unsigned char)version;
		memset(buf + len + 5, 0, 15);
		len += 20;
		len += put32(buf + len, 0);
		len += put32(buf + len, 0);
		len += put32(buf + len, 0);
		len += put32(buf + len, (uint32_t)tn);
		len += put32(buf + len, (uint32_t)ty);
		len += put32(buf + len, 4);
		for (size_t i = 0; i < tn; i++) {
			if (tsize == 8) {
				len += put32(buf + len, (uint32_t)((uint64_t)times[i] >> 32));
				len += put32(buf + len, (uint32_t)times[i]);
			} else {
				len += put32(buf + len, (uint32_t)times[i]);
			}
		}
		for (size_t i = 0; i < tn; i++)
			buf[len++] = idx[i];
		for (size_t i = 0; i < ty; i++) {
			len += put32(buf + len, (uint32_t)offs[i]);
			buf[len++] = 0;
			buf[len++] = 0;
		}
		memcpy(buf + len, "XYZ", 4);
		len += 4;
	}
	if (version) {
		buf[len++] = '\n';
		memcpy(buf + len, footer, strlen(footer));
		len += strlen(footer);
		buf[len++] = '\n';
	}
	return len;
}

Test(tz, parse_v1_and_footers)
{
	unsigned char buf[512];
	struct err err;
	struct tz *z;
	const int64_t times[] = { -1000000, 1000000 };
	const uint8_t idx[] = { 1, 0 };
	const int32_t offs[] = { 25200, 28800 };
	size_t len;

	len = tzif(buf, 0, times, idx, 2, offs, 2, NULL);
	z = tz_parse(buf, len, &err);
	cr_assert_not_null(z, "%s", err.msg);
	cr_expect_eq(tz_offset_at(z, -2000000), 25200); /* type 0 before the first transition */
	cr_expect_eq(tz_offset_at(z, 0), 28800);
	cr_expect_eq(tz_offset_at(z, 1000000), 25200);
	cr_expect_eq(tz_offset_at(z, INT64_MAX), 25200);
	tz_free(z);

	len = tzif(buf, '2', NULL, NULL, 0, offs, 1, "<+07>-7");
	z = tz_parse(buf, len, &err);
	cr_assert_not_null(z, "%s", err.msg);
	cr_expect_eq(tz_offset_at(z, 4102444800LL), 25200);
	cr_expect_eq(tz_to_utc(z, 25200), 0);
	tz_free(z);

	/* US rules in a footer: 2100-03-14 is the second Sunday of March. */
	{
		const int32_t ny[] = { -18000 };

		len = tzif(buf, '3', NULL, NULL, 0, ny, 1, "EST5EDT,M3.2.0,M11.1.0");
		z = tz_parse(buf, len, &err);
		cr_assert_not_null(z, "%s", err.msg);
		cr_expect_eq(tz_offset_at(z, T("2100-03-14T06:59:59Z")), -18000);
		cr_expect_eq(tz_offset_at(z, T("2100-03-14T07:00:00Z")), -14400);
		cr_expect_eq(tz_offset_at(z, T("2100-11-07T05:59:59Z")), -14400);
		cr_expect_eq(tz_offset_at(z, T("2100-11-07T06:00:00Z")), -18000);
		/* 02:30 does not exist that morning: it reads as 03:30 EDT. */
		cr_expect_eq(tz_to_utc(z, T("2100-03-14T02:30:00Z")), T("2100-03-14T07:30:00Z"));
		/* 01:30 on 7 November happens twice: the first, EDT. */
		cr_expect_eq(tz_to_utc(z, T("2100-11-07T01:30:00Z")), T("2100-11-07T05:30:00Z"));
		tz_free(z);
	}
	{
		static const char *bad[] = { "EST", "<+07>", "<+7>-7", "EST5EDT,M3.2.0",
					     "EST5EDT,M13.2.0,M11.1.0", "EST5EDT,J0,J365",
					     "EST5EDT,M3.2.0,M11.1.0/200", "EST25" };
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			len = tzif(buf, '2', NULL, NULL, 0, offs, 1, bad[i]);
			z = tz_parse(buf, len, &err);
			cr_expect_null(z, "footer %s accepted", bad[i]);
			tz_free(z);
		}
	}
	cr_expect_null(tz_parse("TZif", 4, &err));
	{
		static const char junk[] = "nothing of the sort, really, no TZif in here at all";

		cr_expect_null(tz_parse(junk, sizeof(junk) - 1, &err));
	}
	len = tzif(buf, '2', times, idx, 2, offs, 2, "<+07>-7");
	cr_expect_null(tz_parse(buf, len - 5, &err)); /* truncated footer */
	cr_expect_null(tz_parse(buf, 60, &err));
}

Test(tz, system_zones)
{
	struct err err;
	struct tz *z = tz_load(NULL, "Australia/Sydney", &err);

	cr_assert_not_null(z, "%s", err.msg);
	cr_expect_eq(tz_offset_at(z, T("2150-01-15T00:00:00Z")), 39600); /* summer */
	cr_expect_eq(tz_offset_at(z, T("2150-07-15T00:00:00Z")), 36000);
	tz_free(z);
	z = tz_load(NULL, "America/New_York", &err);
	cr_assert_not_null(z, "%s", err.msg);
	cr_expect_eq(tz_offset_at(z, T("2024-07-01T00:00:00Z")), -14400);
	cr_expect_eq(tz_offset_at(z, T("2024-01-15T00:00:00Z")), -18000);
	cr_expect_eq(tz_to_utc(z, T("2024-03-10T02:30:00Z")), T("2024-03-10T07:30:00Z"));
	cr_expect_eq(tz_to_utc(z, T("2024-11-03T01:30:00Z")), T("2024-11-03T05:30:00Z"));
	tz_free(z);
	z = tz_load(NULL, "UTC", &err);
	cr_assert_not_null(z, "%s", err.msg);
	cr_expect_eq(tz_offset_at(z, 0), 0);
	tz_free(z);
	static const char *bad[] = { "", "/etc/passwd", "../etc/passwd", "Asia/../Asia/Saigon",
				     "Asia//Saigon", "Asia/", "Asia/Ho Chi Minh", "Asia/.",
				     "Asia", "zone.tab" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		z = tz_load(NULL, bad[i], &err);
		cr_expect_null(z, "%s accepted", bad[i]);
		tz_free(z);
	}
	cr_expect_null(tz_load(NULL, NULL, &err));
}
