/* Tests of the lunar module against published Vietnamese lunar calendars (Ho Ngoc Duc's
 * tables) and, for the years where the two differ, the Chinese calendar (UTC+8). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "lunar.h"

static void expect_solar(int day, int month, int year, bool leap, double tz, const char *want)
{
	struct lunar_date ld = { .day = day, .month = month, .year = year, .leap = leap };
	int y = 0, m = 0, d = 0;
	char got[16];

	cr_assert_eq(lunar_to_solar(&ld, tz, &y, &m, &d), 0, "%d/%d%s/%d has no solar date", day,
		     month, leap ? " leap" : "", year);
	snprintf(got, sizeof(got), "%04d-%02d-%02d", y, m, d);
	cr_expect_str_eq(got, want, "%d/%d%s/%d (UTC%+g): got %s, want %s", day, month,
			 leap ? " leap" : "", year, tz, got, want);
}

static void expect_lunar(int y, int m, int d, int lday, int lmonth, int lyear, bool leap)
{
	struct lunar_date ld;

	cr_assert_eq(lunar_from_solar(y, m, d, LUNAR_VN_TZ_HOURS, &ld), 0, "%04d-%02d-%02d", y, m,
		     d);
	cr_expect(ld.day == lday && ld.month == lmonth && ld.year == lyear && ld.leap == leap,
		  "%04d-%02d-%02d: got %d/%d%s/%d, want %d/%d%s/%d", y, m, d, ld.day, ld.month,
		  ld.leap ? " leap" : "", ld.year, lday, lmonth, leap ? " leap" : "", lyear);
}

Test(lunar, tet_vietnam)
{
	static const struct {
		int year;
		const char *date;
	} tet[] = {
		{ 1900, "1900-01-31" }, { 1945, "1945-02-13" }, { 1954, "1954-02-03" },
		{ 1968, "1968-01-29" }, { 1975, "1975-02-11" }, { 1985, "1985-01-21" },
		{ 1990, "1990-01-27" }, { 2000, "2000-02-05" }, { 2001, "2001-01-24" },
		{ 2007, "2007-02-17" }, { 2010, "2010-02-14" }, { 2015, "2015-02-19" },
		{ 2020, "2020-01-25" }, { 2021, "2021-02-12" }, { 2022, "2022-02-01" },
		{ 2023, "2023-01-22" }, { 2024, "2024-02-10" }, { 2025, "2025-01-29" },
		{ 2026, "2026-02-17" }, { 2027, "2027-02-06" }, { 2030, "2030-02-02" },
		{ 2050, "2050-01-23" },
	};

	for (size_t i = 0; i < sizeof(tet) / sizeof(tet[0]); i++)
		expect_solar(1, 1, tet[i].year, false, LUNAR_VN_TZ_HOURS, tet[i].date);
}

Test(lunar, tet_china_differs)
{
	/* The same astronomy at UTC+8: a new moon between 16:00 and 17:00 UT falls on the next
	 * day in China. 1985 differs by a month: the Vietnamese leap month came earlier. */
	expect_solar(1, 1, 1968, false, 8.0, "1968-01-30");
	expect_solar(1, 1, 1985, false, 8.0, "1985-02-20");
	expect_solar(1, 1, 2007, false, 8.0, "2007-02-18");
	expect_solar(1, 1, 2030, false, 8.0, "2030-02-03");
	expect_solar(1, 1, 2024, false, 8.0, "2024-02-10");
}

Test(lunar, hung_kings_day)
{
	expect_solar(10, 3, 2020, false, LUNAR_VN_TZ_HOURS, "2020-04-02");
	expect_solar(10, 3, 2022, false, LUNAR_VN_TZ_HOURS, "2022-04-10");
	expect_solar(10, 3, 2023, false, LUNAR_VN_TZ_HOURS, "2023-04-29");
	expect_solar(10, 3, 2024, false, LUNAR_VN_TZ_HOURS, "2024-04-18");
	expect_solar(10, 3, 2025, false, LUNAR_VN_TZ_HOURS, "2025-04-07");
	expect_solar(10, 3, 2026, false, LUNAR_VN_TZ_HOURS, "2026-04-26");
	expect_solar(10, 3, 2027, false, LUNAR_VN_TZ_HOURS, "2027-04-16");
}

Test(lunar, leap_months)
{
	/* 2020 leap 4, 2023 leap 2, 2025 leap 6: first day of each leap month. */
	expect_solar(1, 4, 2020, true, LUNAR_VN_TZ_HOURS, "2020-05-23");
	expect_solar(1, 2, 2023, true, LUNAR_VN_TZ_HOURS, "2023-03-22");
	expect_solar(1, 6, 2025, true, LUNAR_VN_TZ_HOURS, "2025-07-25");
	expect_solar(1, 6, 2025, false, LUNAR_VN_TZ_HOURS, "2025-06-25");
	expect_solar(1, 7, 2025, false, LUNAR_VN_TZ_HOURS, "2025-08-23");
	expect_lunar(2020, 5, 23, 1, 4, 2020, true);
	expect_lunar(2020, 5, 22, 30, 4, 2020, false);
	expect_lunar(2023, 3, 22, 1, 2, 2023, true);
	expect_lunar(2023, 3, 21, 30, 2, 2023, false);
	expect_lunar(2025, 7, 25, 1, 6, 2025, true);
	expect_lunar(2025, 8, 22, 29, 6, 2025, true);
	/* Vietnam's 1985 had leap month 2 (China's leap month was the 10th of 1984). */
	expect_solar(1, 2, 1985, true, LUNAR_VN_TZ_HOURS, "1985-03-21");
	expect_solar(1, 10, 1984, true, 8.0, "1984-11-23");
}

Test(lunar, solar_to_lunar)
{
	expect_lunar(2024, 2, 10, 1, 1, 2024, false);
	expect_lunar(2024, 2, 9, 30, 12, 2023, false); /* Tết Giáp Thìn had a 30th */
	expect_lunar(2025, 1, 28, 29, 12, 2024, false); /* Tết Ất Tỵ had none */
	expect_lunar(2024, 9, 17, 15, 8, 2024, false);  /* Mid-Autumn 2024 */
	expect_lunar(2025, 10, 6, 15, 8, 2025, false);  /* Mid-Autumn 2025 */
	expect_lunar(2023, 6, 22, 5, 5, 2023, false);   /* Đoan Ngọ 2023 */
	expect_lunar(2024, 1, 1, 20, 11, 2023, false);
	expect_lunar(1900, 1, 1, 1, 12, 1899, false);
	expect_lunar(2199, 12, 31, 14, 11, 2199, false);
}

Test(lunar, round_trips)
{
	static const struct {
		int y, m, d;
	} days[] = { { 2024, 2, 9 },  { 2024, 4, 18 }, { 2025, 7, 24 }, { 2025, 7, 25 },
		     { 2033, 12, 22 }, { 1985, 1, 20 }, { 1968, 1, 29 }, { 2000, 2, 29 },
		     { 2054, 5, 7 },   { 2062, 4, 9 } };

	for (size_t i = 0; i < sizeof(days) / sizeof(days[0]); i++) {
		struct lunar_date ld;
		int y, m, d;

		cr_assert_eq(lunar_from_solar(days[i].y, days[i].m, days[i].d, 7.0, &ld), 0);
		cr_expect(ld.day >= 1 && ld.day <= 30, "%04d-%02d-%02d: day %d", days[i].y,
			  days[i].m, days[i].d, ld.day);
		cr_assert_eq(lunar_to_solar(&ld, 7.0, &y, &m, &d), 0);
		cr_expect(y == days[i].y && m == days[i].m && d == days[i].d,
			  "%04d-%02d-%02d -> %d/%d/%d -> %04d-%02d-%02d", days[i].y, days[i].m,
			  days[i].d, ld.day, ld.month, ld.year, y, m, d);
	}
}

Test(lunar, invalid_dates)
{
	struct lunar_date ld;
	int y, m, d;

	cr_expect_eq(lunar_from_solar(2023, 2, 29, 7.0, &ld), -1);
	cr_expect_eq(lunar_from_solar(2024, 13, 1, 7.0, &ld), -1);
	cr_expect_eq(lunar_from_solar(2024, 4, 31, 7.0, &ld), -1);
	cr_expect_eq(lunar_from_solar(2024, 1, 0, 7.0, &ld), -1);
	cr_expect_eq(lunar_from_solar(1899, 12, 31, 7.0, &ld), -1);
	cr_expect_eq(lunar_from_solar(2200, 1, 1, 7.0, &ld), -1);
	cr_expect_eq(lunar_from_solar(2024, 1, 1, NAN, &ld), -1);
	cr_expect_eq(lunar_from_solar(2024, 1, 1, 7.0, NULL), -1);

	ld = (struct lunar_date){ .day = 30, .month = 1, .year = 2024 }; /* month 1 has 29 days */
	cr_expect_eq(lunar_to_solar(&ld, 7.0, &y, &m, &d), -1);
	ld = (struct lunar_date){ .day = 30, .month = 12, .year = 2024 };
	cr_expect_eq(lunar_to_solar(&ld, 7.0, &y, &m, &d), -1);
	ld = (struct lunar_date){ .day = 1, .month = 3, .year = 2023, .leap = true };
	cr_expect_eq(lunar_to_solar(&ld, 7.0, &y, &m, &d), -1);
	ld = (struct lunar_date){ .day = 1, .month = 2, .year = 2024, .leap = true };
	cr_expect_eq(lunar_to_solar(&ld, 7.0, &y, &m, &d), -1);
	ld = (struct lunar_date){ .day = 0, .month = 1, .year = 2024 };
	cr_expect_eq(lunar_to_solar(&ld, 7.0, &y, &m, &d), -1);
	ld = (struct lunar_date){ .day = 31, .month = 1, .year = 2024 };
	cr_expect_eq(lunar_to_solar(&ld, 7.0, &y, &m, &d), -1);
	ld = (struct lunar_date){ .day = 1, .month = 13, .year = 2024 };
	cr_expect_eq(lunar_to_solar(&ld, 7.0, &y, &m, &d), -1);
	ld = (struct lunar_date){ .day = 1, .month = 1, .year = 3000 };
	cr_expect_eq(lunar_to_solar(&ld, 7.0, &y, &m, &d), -1);
	cr_expect_eq(lunar_to_solar(NULL, 7.0, &y, &m, &d), -1);
	/* 29/1/2024 does exist. */
	expect_solar(29, 1, 2024, false, 7.0, "2024-03-09");
}
