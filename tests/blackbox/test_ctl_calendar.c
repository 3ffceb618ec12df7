/* dunghanctl calendar: the real binary on the example config (with the official 2024-2026
 * schedules), exact output, and bad arguments answered with exit 2 and what was expected. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define EXAMPLE DUNGHAN_SOURCE_DIR "/config/dunghan.conf.example"

static struct harness h;

static void setup(void)
{
	cr_assert_eq(harness_init(&h), 0);
}

static void teardown(void)
{
	harness_close(&h);
}

TestSuite(ctl_calendar, .init = setup, .fini = teardown, .timeout = 60);

/* Runs dunghanctl -c EXAMPLE args..., returns the exit status and the output in *out. */
static int ctl(char **out, const char *a1, const char *a2, const char *a3, const char *a4)
{
	char *argv[] = { (char *)harness_dunghanctl(), "-c", EXAMPLE, (char *)a1, (char *)a2,
			 (char *)a3, (char *)a4, NULL };
	struct harness_proc p;
	int rc;

	cr_assert_eq(harness_spawn(&h, &p, argv, NULL, "ctl.log"), 0);
	rc = harness_wait(&p, 10000);
	*out = harness_read(p.stderr_path);
	cr_assert_not_null(*out);
	cr_assert_eq(truncate(p.stderr_path, 0), 0);
	return rc;
}

static void expect(const char *expected, const char *a1, const char *a2, const char *a3,
		   const char *a4)
{
	char *out;
	int rc = ctl(&out, a1, a2, a3, a4);

	cr_assert_eq(rc, 0, "exit %d: %s", rc, out);
	cr_assert_str_eq(out, expected);
	free(out);
}

static void expect_usage(const char *message, const char *a1, const char *a2, const char *a3,
			 const char *a4)
{
	char *out;
	int rc = ctl(&out, a1, a2, a3, a4);

	cr_assert_eq(rc, 2, "exit %d: %s", rc, out);
	cr_assert(strstr(out, message), "expected \"%s\" in: %s", message, out);
	free(out);
}

Test(ctl_calendar, add_across_tet_2024)
{
	expect("2024-02-19T10:00:00+07:00\n", "calendar", "add", "2024-02-07T10:00:00+07:00", "3d");
}

Test(ctl_calendar, add_units)
{
	/* Friday 16:00 + 4h: 1 h on Friday, 3 h on Monday from 07:30 with no lunch crossed. */
	expect("2024-03-11T10:30:00+07:00\n", "calendar", "add", "2024-03-08T16:00:00+07:00", "4h");
	expect("2024-03-08T17:00:00+07:00\n", "calendar", "add", "2024-03-08T16:00:00+07:00", "60m");
	expect("2024-03-08T16:00:30+07:00\n", "calendar", "add", "2024-03-08T16:00:00+07:00", "30s");
	/* Half a day from 07:30 ends at the lunch break, exactly. */
	expect("2024-03-11T11:30:00+07:00\n", "calendar", "add", "2024-03-11T07:30:00+07:00", "0.5d");
	/* Backward: one working day before Monday 10:00 is Friday 10:00. */
	expect("2024-03-08T10:00:00+07:00\n", "calendar", "add", "2024-03-11T10:00:00+07:00", "-1d");
	/* Given in UTC, printed in the calendar's zone. */
	expect("2024-02-19T10:00:00+07:00\n", "calendar", "add", "2024-02-07T03:00:00Z", "3d");
}

Test(ctl_calendar, add_over_swapped_day_and_make_up_saturday_2024)
{
	/* Fri 26/4 15:00 + 1d: Mon 29/4, Tue 30/4, Wed 1/5 off; Thu 2/5 15:00. */
	expect("2024-05-02T15:00:00+07:00\n", "calendar", "add", "2024-04-26T15:00:00+07:00", "1d");
	/* Fri 3/5 15:00 + 1d: Saturday 4/5 is a make-up working day. */
	expect("2024-05-04T15:00:00+07:00\n", "calendar", "add", "2024-05-03T15:00:00+07:00", "1d");
}

Test(ctl_calendar, between)
{
	expect("86400\n", "calendar", "between", "2024-02-07T10:00:00+07:00",
	       "2024-02-19T10:00:00+07:00");
	expect("-86400\n", "calendar", "between", "2024-02-19T10:00:00+07:00",
	       "2024-02-07T10:00:00+07:00");
	expect("0\n", "calendar", "between", "2024-02-10T08:00:00+07:00",
	       "2024-02-14T17:00:00+07:00");
}

Test(ctl_calendar, list_2024_is_the_official_schedule)
{
	expect("2024-01-01 off Tết Dương lịch\n"
	       "2024-02-08 off Tết Nguyên đán Giáp Thìn\n"
	       "2024-02-09 off Tết Nguyên đán Giáp Thìn\n"
	       "2024-02-12 off Tết Nguyên đán Giáp Thìn\n"
	       "2024-02-13 off Tết Nguyên đán Giáp Thìn\n"
	       "2024-02-14 off Tết Nguyên đán Giáp Thìn\n"
	       "2024-04-18 off Giỗ Tổ Hùng Vương\n"
	       "2024-04-29 off Nghỉ hoán đổi (làm bù thứ Bảy 04/5)\n"
	       "2024-04-30 off Ngày Chiến thắng 30/4\n"
	       "2024-05-01 off Quốc tế Lao động 1/5\n"
	       "2024-05-04 work Làm bù cho thứ Hai 29/4\n"
	       "2024-09-02 off Quốc khánh 2/9\n"
	       "2024-09-03 off Quốc khánh (ngày liền kề)\n",
	       "calendar", "list", "2024", NULL);
}

Test(ctl_calendar, list_2025_is_the_official_schedule)
{
	expect("2025-01-01 off Tết Dương lịch\n"
	       "2025-01-27 off Tết Nguyên đán Ất Tỵ\n"
	       "2025-01-28 off Tết Nguyên đán Ất Tỵ\n"
	       "2025-01-29 off Tết Nguyên đán Ất Tỵ\n"
	       "2025-01-30 off Tết Nguyên đán Ất Tỵ\n"
	       "2025-01-31 off Tết Nguyên đán Ất Tỵ\n"
	       "2025-04-07 off Giỗ Tổ Hùng Vương\n"
	       "2025-04-26 work Làm bù cho thứ Sáu 02/5\n"
	       "2025-04-30 off Ngày Chiến thắng 30/4\n"
	       "2025-05-01 off Quốc tế Lao động 1/5\n"
	       "2025-05-02 off Nghỉ hoán đổi (làm bù thứ Bảy 26/4)\n"
	       "2025-09-01 off Quốc khánh (ngày liền kề)\n"
	       "2025-09-02 off Quốc khánh 2/9\n",
	       "calendar", "list", "2025", NULL);
}

Test(ctl_calendar, list_2026_is_the_official_schedule)
{
	expect("2026-01-01 off Tết Dương lịch\n"
	       "2026-01-02 off Nghỉ hoán đổi (làm bù thứ Bảy 10/01)\n"
	       "2026-01-10 work Làm bù cho thứ Sáu 02/01\n"
	       "2026-02-16 off Tết Nguyên đán Bính Ngọ\n"
	       "2026-02-17 off Tết Nguyên đán Bính Ngọ\n"
	       "2026-02-18 off Tết Nguyên đán Bính Ngọ\n"
	       "2026-02-19 off Tết Nguyên đán Bính Ngọ\n"
	       "2026-02-20 off Tết Nguyên đán Bính Ngọ\n"
	       "2026-04-27 off Nghỉ bù Giỗ Tổ Hùng Vương (10/3 âm lịch là Chủ nhật 26/4)\n"
	       "2026-04-30 off Ngày Chiến thắng 30/4\n"
	       "2026-05-01 off Quốc tế Lao động 1/5\n"
	       "2026-08-22 work Làm bù cho thứ Hai 31/8\n"
	       "2026-08-31 off Nghỉ hoán đổi (làm bù thứ Bảy 22/8)\n"
	       "2026-09-01 off Quốc khánh (ngày liền kề)\n"
	       "2026-09-02 off Quốc khánh 2/9\n",
	       "calendar", "list", "2026", NULL);
}

Test(ctl_calendar, lunar)
{
	expect("1/1/2024\n", "calendar", "lunar", "2024-02-10", NULL);
	expect("10/3/2026\n", "calendar", "lunar", "2026-04-26", NULL);
	expect("1/2/2023 nhuận\n", "calendar", "lunar", "2023-03-22", NULL);
	expect("1/1/2007\n", "calendar", "lunar", "2007-02-17", NULL);
}

Test(ctl_calendar, bad_arguments)
{
	expect_usage("START \"2024-02-07\" is not an RFC 3339 instant", "calendar", "add",
		     "2024-02-07", "3d");
	expect_usage("DURATION \"3 days\" is not a working time like 3d", "calendar", "add",
		     "2024-02-07T10:00:00+07:00", "3 days");
	expect_usage("B \"tomorrow\" is not an RFC 3339 instant", "calendar", "between",
		     "2024-02-07T10:00:00+07:00", "tomorrow");
	expect_usage("YEAR \"24\" is not a year from 1900 to 2199", "calendar", "list", "24", NULL);
	expect_usage("\"2023-02-29\" is not a date like 2024-02-10", "calendar", "lunar",
		     "2023-02-29", NULL);
	expect_usage("\"calendar add\" expects START DURATION", "calendar", "add",
		     "2024-02-07T10:00:00+07:00", NULL);
	expect_usage("unknown command \"calendar sub\"", "calendar", "sub", "x", NULL);
}

Test(ctl_calendar, bad_config_exits_1)
{
	char path[600], *out;
	struct harness_proc p;

	cr_assert_eq(harness_write(&h, "bad.conf", "calendar: { week = [\"funday\"]; };\n"), 0);
	char *argv[] = { (char *)harness_dunghanctl(), "-c", (char *)harness_path(&h, "bad.conf", path, sizeof(path)),
			 "calendar", "list", "2024", NULL };
	cr_assert_eq(harness_spawn(&h, &p, argv, NULL, "ctl.log"), 0);
	cr_assert_eq(harness_wait(&p, 10000), 1);
	out = harness_read(p.stderr_path);
	cr_assert(strstr(out, ":1: calendar.week: unknown weekday \"funday\""), "%s", out);
	free(out);
}
