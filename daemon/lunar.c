/* lunar: the Vietnamese lunisolar calendar (see lunar.h), after Ho Ngoc Duc's astronomical
 * algorithm: new moons from Meeus' series, the sun's longitude, month 11 is the one holding
 * the winter solstice, and in a 13-month year the leap month is the first without a major
 * solar term (zhongqi). Everything is a pure function of the date and the zone's offset.
 *
 * DESIGN: dates are handled as Julian day numbers (JDN, integer days, noon-based), as in the
 * published algorithm. The module converts civil dates to JDN itself rather than reusing
 * calendar.c, which depends on this module. k counts new moons from the one of 1900-01-01. */
#include "lunar.h"

#include <math.h>
#include <stdint.h>

/* JDN of 1900-01-01 and of 2199-12-31 bound the solar dates we answer for. */
#define LUNAR_JDN_MIN 2415021L
#define LUNAR_JDN_MAX 2524593L
#define LUNAR_SYNODIC 29.530588853
/* The first new moon after 1900-01-01 00:00 UT, in Julian days (from Meeus' k = 0 term). */
#define LUNAR_EPOCH_NM 2415021.076998695

static const double lunar_pi = 3.14159265358979323846;

/* floor() for the algorithm's INT(): all its quantities are positive or small. */
static long lunar_int(double x)
{
	return (long)floor(x);
}

static long lunar_jdn_from_date(int y, int m, int d)
{
	long a = (14 - m) / 12;
	long yy = (long)y + 4800 - a;
	long mm = m + 12 * a - 3;

	return d + (153 * mm + 2) / 5 + 365 * yy + yy / 4 - yy / 100 + yy / 400 - 32045;
}

static void lunar_date_from_jdn(long jd, int *y, int *m, int *d)
{
	long a = jd + 32044;
	long b = (4 * a + 3) / 146097;
	long c = a - b * 146097 / 4;
	long dd = (4 * c + 3) / 1461;
	long e = c - 1461 * dd / 4;
	long mm = (5 * e + 2) / 153;

	*d = (int)(e - (153 * mm + 2) / 5 + 1);
	*m = (int)(mm + 3 - 12 * (mm / 10));
	*y = (int)(b * 100 + dd - 4800 + mm / 10);
}

static bool lunar_date_valid(int y, int m, int d)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	if (m < 1 || m > 12 || d < 1)
		return false;
	return d <= mdays[m - 1] + (m == 2 ? leap : 0);
}

/* Julian day (fractional, UT) of the k-th new moon after the one of January 1900 (Meeus,
 * "Astronomical Algorithms", low-precision series with Ho Ngoc Duc's delta-T). */
static double lunar_new_moon(long k)
{
	double t = (double)k / 1236.85;
	double t2 = t * t;
	double t3 = t2 * t;
	double dr = lunar_pi / 180;
	double jd1, m, mpr, f, c1, deltat;

	jd1 = 2415020.75933 + 29.53058868 * (double)k + 0.0001178 * t2 - 0.000000155 * t3;
	jd1 += 0.00033 * sin((166.56 + 132.87 * t - 0.009173 * t2) * dr);
	m = 359.2242 + 29.10535608 * (double)k - 0.0000333 * t2 - 0.00000347 * t3;
	mpr = 306.0253 + 385.81691806 * (double)k + 0.0107306 * t2 + 0.00001236 * t3;
	f = 21.2964 + 390.67050646 * (double)k - 0.0016528 * t2 - 0.00000239 * t3;
	c1 = (0.1734 - 0.000393 * t) * sin(m * dr) + 0.0021 * sin(2 * dr * m);
	c1 = c1 - 0.4068 * sin(mpr * dr) + 0.0161 * sin(dr * 2 * mpr);
	c1 = c1 - 0.0004 * sin(dr * 3 * mpr);
	c1 = c1 + 0.0104 * sin(dr * 2 * f) - 0.0051 * sin(dr * (m + mpr));
	c1 = c1 - 0.0074 * sin(dr * (m - mpr)) + 0.0004 * sin(dr * (2 * f + m));
	c1 = c1 - 0.0004 * sin(dr * (2 * f - m)) - 0.0006 * sin(dr * (2 * f + mpr));
	c1 = c1 + 0.0010 * sin(dr * (2 * f - mpr)) + 0.0005 * sin(dr * (2 * mpr + m));
	if (t < -11)
		deltat = 0.001 + 0.000839 * t + 0.0002261 * t2 - 0.00000845 * t3 -
			 0.000000081 * t * t3;
	else
		deltat = -0.000278 + 0.000265 * t + 0.000262 * t2;
	return jd1 + c1 - deltat;
}

/* The sun's apparent longitude in radians, [0, 2pi), at Julian day jdn (UT). */
static double lunar_sun_longitude(double jdn)
{
	double t = (jdn - 2451545.0) / 36525;
	double t2 = t * t;
	double dr = lunar_pi / 180;
	double m, l0, dl, l;

	m = 357.52910 + 35999.05030 * t - 0.0001559 * t2 - 0.00000048 * t * t2;
	l0 = 280.46645 + 36000.76983 * t + 0.0003032 * t2;
	dl = (1.914600 - 0.004817 * t - 0.000014 * t2) * sin(dr * m);
	dl = dl + (0.019993 - 0.000101 * t) * sin(dr * 2 * m) + 0.000290 * sin(dr * 3 * m);
	l = (l0 + dl) * dr;
	l = l - lunar_pi * 2 * floor(l / (lunar_pi * 2));
	return l;
}

/* Local day (JDN) on which the k-th new moon falls in zone tz. */
static long lunar_new_moon_day(long k, double tz)
{
	return lunar_int(lunar_new_moon(k) + 0.5 + tz / 24);
}

/* Which of the 12 major solar terms (0..11, 30 degrees each) the sun is in at the start of
 * local day jdn: a month with no change of this value has no zhongqi. */
static int lunar_sun_term(long jdn, double tz)
{
	return (int)lunar_int(lunar_sun_longitude((double)jdn - 0.5 - tz / 24) / lunar_pi * 6);
}

/* JDN of the first day of lunar month 11 of solar year y: the month holding the solstice. */
static long lunar_month11(int y, double tz)
{
	long off = lunar_jdn_from_date(y, 12, 31) - LUNAR_JDN_MIN;
	long k = lunar_int((double)off / LUNAR_SYNODIC);
	long nm = lunar_new_moon_day(k, tz);

	/* Past 270 degrees (term 9) at the start of that month: the solstice came before it. */
	if (lunar_sun_term(nm, tz) >= 9)
		nm = lunar_new_moon_day(k - 1, tz);
	return nm;
}

/* In the 13-month year starting at month 11 a11, the offset (in months from a11) of the leap
 * month: the first month during which the sun enters no new major term. */
static int lunar_leap_offset(long a11, double tz)
{
	long k = lunar_int(((double)a11 - LUNAR_EPOCH_NM) / LUNAR_SYNODIC + 0.5);
	int i = 1;
	int last;
	int arc = lunar_sun_term(lunar_new_moon_day(k + i, tz), tz);

	do {
		last = arc;
		i++;
		arc = lunar_sun_term(lunar_new_moon_day(k + i, tz), tz);
	} while (arc != last && i < 14);
	return i - 1;
}

/* Offsets outside a day, or NaN, make no sense for a zone. */
static bool lunar_tz_valid(double tz)
{
	return tz >= -14.0 && tz <= 14.0;
}

int lunar_from_solar(int y, int m, int d, double tz, struct lunar_date *out)
{
	long jd, k, month_start, a11, b11, diff;
	int lyear, lmonth;
	bool leap = false;

	if (!out)
		return -1;
	*out = (struct lunar_date){ 0 };
	if (!lunar_tz_valid(tz) || !lunar_date_valid(y, m, d))
		return -1;
	jd = lunar_jdn_from_date(y, m, d);
	if (jd < LUNAR_JDN_MIN || jd > LUNAR_JDN_MAX)
		return -1;

	/* k estimated from the mean month can be one off either way near a new moon; the
	 * published code only steps back once, which gives "day 0" on 2054-05-07. */
	k = lunar_int(((double)jd - LUNAR_EPOCH_NM) / LUNAR_SYNODIC) + 1;
	month_start = lunar_new_moon_day(k, tz);
	while (month_start > jd)
		month_start = lunar_new_moon_day(--k, tz);
	a11 = lunar_month11(y, tz);
	b11 = a11;
	if (a11 >= month_start) {
		lyear = y;
		a11 = lunar_month11(y - 1, tz);
	} else {
		lyear = y + 1;
		b11 = lunar_month11(y + 1, tz);
	}
	diff = lunar_int((double)(month_start - a11) / 29);
	lmonth = (int)diff + 11;
	if (b11 - a11 > 365) {
		int leap_diff = lunar_leap_offset(a11, tz);

		if (diff >= leap_diff) {
			lmonth = (int)diff + 10;
			leap = diff == leap_diff;
		}
	}
	if (lmonth > 12)
		lmonth -= 12;
	/* Months 11 and 12 (and a leap 11 or 12) before the new year belong to the old one. */
	if (lmonth >= 11 && diff < 4)
		lyear -= 1;

	out->day = (int)(jd - month_start + 1);
	out->month = lmonth;
	out->year = lyear;
	out->leap = leap;
	return 0;
}

int lunar_to_solar(const struct lunar_date *ld, double tz, int *y, int *m, int *d)
{
	long a11, b11, k, start, next, jd;
	int off, sy, sm, sd;
	struct lunar_date check;

	*y = *m = *d = 0;
	if (!ld || !lunar_tz_valid(tz) || ld->month < 1 || ld->month > 12 || ld->day < 1 ||
	    ld->day > 30 || ld->year < 1899 || ld->year > 2200)
		return -1;
	if (ld->month < 11) {
		a11 = lunar_month11(ld->year - 1, tz);
		b11 = lunar_month11(ld->year, tz);
	} else {
		a11 = lunar_month11(ld->year, tz);
		b11 = lunar_month11(ld->year + 1, tz);
	}
	k = lunar_int(0.5 + ((double)a11 - LUNAR_EPOCH_NM) / LUNAR_SYNODIC);
	off = ld->month - 11;
	if (off < 0)
		off += 12;
	if (b11 - a11 > 365) {
		int leap_off = lunar_leap_offset(a11, tz);
		int leap_month = leap_off - 2;

		if (leap_month < 0)
			leap_month += 12;
		if (ld->leap && ld->month != leap_month)
			return -1;
		if (ld->leap || off >= leap_off)
			off += 1;
	} else if (ld->leap) {
		return -1;
	}
	start = lunar_new_moon_day(k + off, tz);
	next = lunar_new_moon_day(k + off + 1, tz);
	if (ld->day > next - start)
		return -1;
	jd = start + ld->day - 1;
	if (jd < LUNAR_JDN_MIN || jd > LUNAR_JDN_MAX)
		return -1;
	lunar_date_from_jdn(jd, &sy, &sm, &sd);

	/* The inverse must give the date back; if not (a boundary case of the approximate
	 * series), better to refuse than to answer a different lunar date. */
	if (lunar_from_solar(sy, sm, sd, tz, &check) != 0 || check.day != ld->day ||
	    check.month != ld->month || check.year != ld->year || check.leap != ld->leap)
		return -1;
	*y = sy;
	*m = sm;
	*d = sd;
	return 0;
}
