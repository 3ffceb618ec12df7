/* lunar: the Vietnamese lunisolar calendar, computed astronomically (new moons and solar terms)
 * for a given time zone — UTC+7 for Vietnam, which is why some years differ from China's
 * (UTC+8), e.g. Tết 2007 and 2030. Valid at least for solar years 1900–2199. */
#ifndef DUNGHAN_LUNAR_H
#define DUNGHAN_LUNAR_H

#include <stdbool.h>

#define LUNAR_VN_TZ_HOURS 7.0

struct lunar_date {
	int day;   /* 1..30 */
	int month; /* 1..12 */
	int year;  /* the lunar year, numbered like the solar year in which it mostly falls */
	bool leap; /* a leap (nhuận) month */
};

/* Lunar date of the solar (Gregorian) date y-m-d in time zone tz_hours. Returns 0, or -1 for a
 * date outside the supported range or one that does not exist. */
int lunar_from_solar(int y, int m, int d, double tz_hours, struct lunar_date *out);

/* Solar date of a lunar date. Returns 0, or -1 when that lunar date does not exist (a leap
 * month the year lacks, day 30 of a 29-day month) or is out of range. */
int lunar_to_solar(const struct lunar_date *ld, double tz_hours, int *y, int *m, int *d);

#endif
