/* calendar: working time in a Vietnamese office (see calendar.h): which days are worked, which
 * hours, and arithmetic on instants counted in office seconds, in the calendar's time zone.
 *
 * DESIGN: office time is a non-decreasing function W(t), the office seconds elapsed since
 * local midnight of 1 January 1900. Each year has a table, built on first use and never
 * changed after: the UTC instant of every local midnight and the office seconds before each
 * day (a prefix sum). between(a, b) is W(b) - W(a), and add(t, s) inverts W with a binary
 * search in the prefix sums: O(log days), plus a step per whole year crossed.
 *
 * Tables cover CAL_YEAR_MIN..CAL_YEAR_MAX (1900-2199, the lunar module's range). Outside it
 * there is no office time: W is 0 before and constant after, so an add whose result would
 * fall outside saturates to INT64_MIN / INT64_MAX, and a start before 1900 counts from the
 * first office period of 1900.
 *
 * The memory of every table is reserved by calendar_new (calloc: untouched pages cost nothing),
 * so building one cannot fail halfway through an arithmetic call. A mutex serialises building;
 * a per-year flag stored with release and loaded with acquire publishes a table, so the read
 * path takes no lock.
 *
 * A day on which the UTC offset does not change is "regular": its periods are its midnight
 * plus fixed seconds. On a day with a transition (a DST change, Vietnam's switch of 1975) each
 * period boundary goes through the zone, and the day counts the real elapsed seconds. */
#include "calendar.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lunar.h"
#include "tz.h"

#define CAL_YEAR_MIN 1900
#define CAL_YEAR_MAX 2199
#define CAL_NYEARS (CAL_YEAR_MAX - CAL_YEAR_MIN + 1)
#define CAL_MAX_DAYS 366

enum {
	CAL_WORKED = 1,    /* office periods are worked on this day */
	CAL_IRREGULAR = 2, /* the UTC offset changes during this day */
};

enum { CAL_EXPL_NONE, CAL_EXPL_OFF, CAL_EXPL_WORK };

struct cal_year {
	int32_t first_day;                      /* day number of 1 January */
	int32_t ndays;
	int64_t total;                          /* office seconds in the year */
	int64_t midnight[CAL_MAX_DAYS + 1];     /* UTC of each local 00:00, then next 1 January */
	int32_t prefix[CAL_MAX_DAYS + 1];       /* office seconds before day i */
	uint8_t flags[CAL_MAX_DAYS];
	const char *reason[CAL_MAX_DAYS];       /* why the day is special; NULL for most */
};

struct cal_exc {
	int32_t day;
	enum calendar_day_kind kind;
	char *reason; /* owned, never NULL */
	size_t order; /* position in the config: the first of duplicates wins */
};

struct calendar {
	struct tz *tz;
	unsigned week_mask;
	size_t nperiods;
	int32_t pstart[CALENDAR_MAX_PERIODS]; /* seconds after local midnight */
	int32_t pend[CALENDAR_MAX_PERIODS];
	int64_t day_seconds;
	bool statutory;
	struct cal_exc *exc; /* sorted by day, one per day */
	size_t nexc;
	int *official;       /* sorted */
	size_t nofficial;
	void (*on_statutory_year)(void *ctx, int year);
	void *ctx;
	int32_t year_first[CAL_NYEARS + 1]; /* day number of 1 January of each year, and after */
	int64_t range_start, range_end;     /* UTC of local 1900-01-01 00:00 and 2200-01-01 00:00 */
	bool lock_ok;
	pthread_mutex_t lock;
	atomic_uchar ready[CAL_NYEARS];
	struct cal_year *years; /* CAL_NYEARS, filled lazily */
};

/* Statutory holidays (Labour Code 2019, art. 112) and their compensatory days (art. 111(3)). */
enum { CAL_H_NEW_YEAR, CAL_H_TET, CAL_H_HUNG, CAL_H_VICTORY, CAL_H_LABOUR, CAL_H_NATIONAL };

static const char *const cal_holiday_name[] = {
	[CAL_H_NEW_YEAR] = "Tết Dương lịch",
	[CAL_H_TET] = "Tết Nguyên đán",
	[CAL_H_HUNG] = "Giỗ Tổ Hùng Vương",
	[CAL_H_VICTORY] = "Ngày Chiến thắng 30/4",
	[CAL_H_LABOUR] = "Quốc tế Lao động 1/5",
	[CAL_H_NATIONAL] = "Quốc khánh 2/9",
};

static const char *const cal_comp_name[] = {
	[CAL_H_NEW_YEAR] = "Nghỉ bù Tết Dương lịch",
	[CAL_H_TET] = "Nghỉ bù Tết Nguyên đán",
	[CAL_H_HUNG] = "Nghỉ bù Giỗ Tổ Hùng Vương",
	[CAL_H_VICTORY] = "Nghỉ bù Ngày Chiến thắng 30/4",
	[CAL_H_LABOUR] = "Nghỉ bù Quốc tế Lao động 1/5",
	[CAL_H_NATIONAL] = "Nghỉ bù Quốc khánh 2/9",
};

#define CAL_DEFAULT_OFF "Ngày nghỉ"
#define CAL_DEFAULT_WORK "Ngày làm bù"

/* --- civil dates --- */

static int64_t cal_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static bool cal_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int cal_month_days(int y, int m)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return mdays[m - 1] + (m == 2 && cal_leap(y));
}

/* H. Hinnant's days_from_civil, in 64 bits so that no int year overflows. */
static int64_t cal_days64(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = cal_floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int32_t civil_to_days(int y, int m, int d)
{
	return (int32_t)cal_days64(y, m, d);
}

void civil_from_days(int32_t day, int *y, int *m, int *d)
{
	int64_t z = (int64_t)day + 719468;
	int64_t era = cal_floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int mm = (int)(mp < 10 ? mp + 3 : mp - 9);

	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = mm;
	*y = (int)(yoe + era * 400 + (mm <= 2));
}

int civil_weekday(int32_t day)
{
	return (int)((day % 7 + 11) % 7); /* day 0, 1970-01-01, was a Thursday */
}

/* --- configuration --- */

static int cal_exc_cmp(const void *a, const void *b)
{
	const struct cal_exc *x = a, *y = b;

	if (x->day != y->day)
		return x->day < y->day ? -1 : 1;
	if (x->kind != y->kind)
		return (int)x->kind - (int)y->kind;
	return (x->order > y->order) - (x->order < y->order);
}

static int cal_int_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Index of the first exception on or after day. */
static size_t cal_exc_lower(const struct calendar *cal, int32_t day)
{
	size_t lo = 0, hi = cal->nexc;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cal->exc[mid].day < day)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool cal_is_official(const struct calendar *cal, int year)
{
	return cal->nofficial &&
	       bsearch(&year, cal->official, cal->nofficial, sizeof(int), cal_int_cmp) != NULL;
}

static bool cal_week_day(const struct calendar *cal, int32_t day)
{
	return cal->week_mask >> civil_weekday(day) & 1;
}

static int cal_check_periods(const struct calendar_config *cfg, struct err *err)
{
	if (cfg->nperiods < 1 || cfg->nperiods > CALENDAR_MAX_PERIODS)
		return err_set(err, "calendar.office_hours",
			       "office hours need 1 to %d periods, got %zu", CALENDAR_MAX_PERIODS,
			       cfg->nperiods);
	for (size_t p = 0; p < cfg->nperiods; p++) {
		const struct calendar_period *q = &cfg->periods[p];

		if (q->start_min < 0 || q->start_min >= q->end_min || q->end_min > 1440)
			return err_set(err, "calendar.office_hours",
				       "office period %zu (%d-%d min) must have "
				       "0 <= start < end <= 24:00",
				       p + 1, q->start_min, q->end_min);
		if (p > 0 && q->start_min < cfg->periods[p - 1].end_min)
			return err_set(err, "calendar.office_hours",
				       "office periods must be sorted and not overlap "
				       "(period %zu starts before period %zu ends)",
				       p + 1, p);
	}
	return 0;
}

/* Copies, sorts and merges the exceptions; a day both off and worked is a config error. */
static int cal_copy_exceptions(struct calendar *cal, const struct calendar_config *cfg,
			       struct err *err)
{
	size_t n = 0;

	if (!cfg->nexceptions)
		return 0;
	if (!cfg->exceptions)
		return err_set(err, "calendar.days_off", "exception list missing");
	cal->exc = calloc(cfg->nexceptions, sizeof(*cal->exc));
	if (!cal->exc)
		return err_set(err, "calendar.days_off", "out of memory");
	for (size_t i = 0; i < cfg->nexceptions; i++) {
		const struct calendar_exception *e = &cfg->exceptions[i];
		const char *r = e->reason;

		if (e->kind != CALENDAR_OFF && e->kind != CALENDAR_WORK)
			return err_set(err, "calendar.days_off", "bad exception kind %d",
				       (int)e->kind);
		if (!r || !*r)
			r = e->kind == CALENDAR_OFF ? CAL_DEFAULT_OFF : CAL_DEFAULT_WORK;
		cal->exc[i].day = e->day;
		cal->exc[i].kind = e->kind;
		cal->exc[i].order = i;
		cal->exc[i].reason = strdup(r);
		cal->nexc = i + 1;
		if (!cal->exc[i].reason)
			return err_set(err, "calendar.days_off", "out of memory");
	}
	qsort(cal->exc, cal->nexc, sizeof(*cal->exc), cal_exc_cmp);
	for (size_t i = 0; i < cal->nexc; i++) {
		if (n > 0 && cal->exc[n - 1].day == cal->exc[i].day) {
			int y, m, d;

			if (cal->exc[n - 1].kind != cal->exc[i].kind) {
				civil_from_days(cal->exc[i].day, &y, &m, &d);
				return err_set(err, "calendar.make_up_days",
					       "%04d-%02d-%02d is both a day off and a make-up "
					       "working day", y, m, d);
			}
			free(cal->exc[i].reason); /* the same day listed twice: keep the first */
			cal->exc[i].reason = NULL;
			continue;
		}
		cal->exc[n++] = cal->exc[i];
	}
	cal->nexc = n;
	return 0;
}

struct calendar *calendar_new(const struct calendar_config *cfg, struct err *err)
{
	struct calendar *cal = NULL;
	struct err zerr;

	err_clear(err);
	if (!cfg) {
		err_set(err, "calendar", "no calendar configuration");
		goto fail;
	}
	if (!cfg->timezone || !*cfg->timezone) {
		err_set(err, "calendar.timezone",
			"a time zone is required (e.g. Asia/Ho_Chi_Minh)");
		goto fail;
	}
	if (cal_check_periods(cfg, err) != 0)
		goto fail;
	if (cfg->week_mask == 0 || cfg->week_mask > 0x7f) {
		err_set(err, "calendar.week",
			"working week must name at least one day (mask 0x%x)", cfg->week_mask);
		goto fail;
	}
	if (cfg->nofficial_years && !cfg->official_years) {
		err_set(err, "calendar.official_years", "official year list missing");
		goto fail;
	}
	cal = calloc(1, sizeof(*cal));
	if (!cal) {
		err_set(err, "calendar", "out of memory");
		goto fail;
	}
	cal->week_mask = cfg->week_mask;
	cal->nperiods = cfg->nperiods;
	for (size_t p = 0; p < cfg->nperiods; p++) {
		cal->pstart[p] = cfg->periods[p].start_min * 60;
		cal->pend[p] = cfg->periods[p].end_min * 60;
		cal->day_seconds += cal->pend[p] - cal->pstart[p];
	}
	cal->statutory = cfg->statutory_holidays;
	cal->on_statutory_year = cfg->on_statutory_year;
	cal->ctx = cfg->ctx;
	if (cal_copy_exceptions(cal, cfg, err) != 0)
		goto fail;
	if (cfg->nofficial_years) {
		cal->official = malloc(cfg->nofficial_years * sizeof(int));
		if (!cal->official) {
			err_set(err, "calendar", "out of memory");
			goto fail;
		}
		memcpy(cal->official, cfg->official_years, cfg->nofficial_years * sizeof(int));
		cal->nofficial = cfg->nofficial_years;
		qsort(cal->official, cal->nofficial, sizeof(int), cal_int_cmp);
	}
	cal->tz = tz_load(cfg->zoneinfo_dir, cfg->timezone, &zerr);
	if (!cal->tz) {
		err_set(err, "calendar.timezone", "%s", zerr.msg);
		goto fail;
	}
	cal->years = calloc(CAL_NYEARS, sizeof(*cal->years));
	if (!cal->years) {
		err_set(err, "calendar", "out of memory");
		goto fail;
	}
	if (pthread_mutex_init(&cal->lock, NULL) != 0) {
		err_set(err, "calendar", "cannot create a mutex");
		goto fail;
	}
	cal->lock_ok = true;
	for (int k = 0; k <= CAL_NYEARS; k++)
		cal->year_first[k] = civil_to_days(CAL_YEAR_MIN + k, 1, 1);
	for (int k = 0; k < CAL_NYEARS; k++)
		atomic_init(&cal->ready[k], 0);
	cal->range_start = tz_to_utc(cal->tz, (int64_t)cal->year_first[0] * 86400);
	cal->range_end = tz_to_utc(cal->tz, (int64_t)cal->year_first[CAL_NYEARS] * 86400);
	return cal;

fail:
	calendar_free(cal);
	return NULL;
}

void calendar_free(struct calendar *cal)
{
	if (!cal)
		return;
	for (size_t i = 0; i < cal->nexc; i++)
		free(cal->exc[i].reason);
	free(cal->exc);
	free(cal->official);
	tz_free(cal->tz);
	free(cal->years);
	if (cal->lock_ok)
		pthread_mutex_destroy(&cal->lock);
	free(cal);
}

int64_t calendar_day_seconds(const struct calendar *cal)
{
	return cal->day_seconds;
}

/* --- year tables --- */

struct cal_holiday {
	int32_t day;
	int name;
};

/* Adds the statutory holidays of year y and their compensatory days to stat (indexed by day
 * of the year; NULL = none), for a year without an official schedule. expl holds the explicit
 * exceptions: a make-up working day cancels a holiday, and no day is taken as compensation
 * unless it would have been worked. */
static void cal_statutory(const struct calendar *cal, int year, const struct cal_year *y,
			  const uint8_t *expl, const char **stat)
{
	struct cal_holiday h[12];
	bool holiday[CAL_MAX_DAYS] = { false };
	bool taken[12] = { false };
	size_t n = 0;
	struct lunar_date ld;
	int ly, lm, lday;

	h[n++] = (struct cal_holiday){ civil_to_days(year, 1, 1), CAL_H_NEW_YEAR };
	ld = (struct lunar_date){ .day = 1, .month = 1, .year = year, .leap = false };
	if (lunar_to_solar(&ld, LUNAR_VN_TZ_HOURS, &ly, &lm, &lday) == 0) {
		int32_t tet = civil_to_days(ly, lm, lday);

		/* The last day of the old year and the first four of the new one. */
		for (int k = -1; k <= 3; k++)
			h[n++] = (struct cal_holiday){ tet + k, CAL_H_TET };
	}
	ld = (struct lunar_date){ .day = 10, .month = 3, .year = year, .leap = false };
	if (lunar_to_solar(&ld, LUNAR_VN_TZ_HOURS, &ly, &lm, &lday) == 0)
		h[n++] = (struct cal_holiday){ civil_to_days(ly, lm, lday), CAL_H_HUNG };
	h[n++] = (struct cal_holiday){ civil_to_days(year, 4, 30), CAL_H_VICTORY };
	h[n++] = (struct cal_holiday){ civil_to_days(year, 5, 1), CAL_H_LABOUR };
	/* 2/9 and one adjacent day chosen each year; 1/9 is the usual choice. */
	h[n++] = (struct cal_holiday){ civil_to_days(year, 9, 1), CAL_H_NATIONAL };
	h[n++] = (struct cal_holiday){ civil_to_days(year, 9, 2), CAL_H_NATIONAL };

	/* Hùng Kings' day can fall late in April: keep the list in date order. */
	for (size_t i = 1; i < n; i++) {
		struct cal_holiday x = h[i];
		size_t j = i;

		for (; j > 0 && h[j - 1].day > x.day; j--)
			h[j] = h[j - 1];
		h[j] = x;
	}
	for (size_t k = 0; k < n; k++) {
		int32_t i = h[k].day - y->first_day;

		if (i < 0 || i >= y->ndays || expl[i] == CAL_EXPL_WORK || holiday[i])
			continue;
		holiday[i] = true;
		stat[i] = cal_holiday_name[h[k].name];
		taken[k] = true;
	}
	/* A holiday on a weekly day off moves to the next working day that is no holiday. */
	for (size_t k = 0; k < n; k++) {
		int32_t i = h[k].day - y->first_day;

		if (!taken[k] || cal_week_day(cal, h[k].day))
			continue;
		for (int32_t j = i + 1; j < y->ndays; j++) {
			int32_t day = y->first_day + j;
			bool works = expl[j] == CAL_EXPL_WORK ||
				     (expl[j] == CAL_EXPL_NONE && cal_week_day(cal, day));

			if (works && !holiday[j] && !stat[j]) {
				stat[j] = cal_comp_name[h[k].name];
				break;
			}
		}
	}
}

/* The UTC bounds of the office periods of day i of y. */
static void cal_bounds(const struct calendar *cal, const struct cal_year *y, int32_t i,
		       int64_t *bs, int64_t *be)
{
	int64_t m = y->midnight[i];
	int64_t local0, lo, hi;

	if (!(y->flags[i] & CAL_IRREGULAR)) {
		for (size_t p = 0; p < cal->nperiods; p++) {
			bs[p] = m + cal->pstart[p];
			be[p] = m + cal->pend[p];
		}
		return;
	}
	local0 = (int64_t)(y->first_day + i) * 86400;
	lo = m;
	hi = y->midnight[i + 1];
	for (size_t p = 0; p < cal->nperiods; p++) {
		int64_t s = tz_to_utc(cal->tz, local0 + cal->pstart[p]);
		int64_t e = tz_to_utc(cal->tz, local0 + cal->pend[p]);

		/* Keep the bounds inside the day and in order whatever the clock did. */
		s = s < lo ? lo : s > hi ? hi : s;
		e = e < s ? s : e > hi ? hi : e;
		bs[p] = s;
		be[p] = e;
		lo = e;
	}
}

/* Fills y for year: midnights, which days are worked and why, prefix sums. Returns whether the
 * statutory rule was applied. Runs under cal->lock. */
static bool cal_year_build(const struct calendar *cal, int year, struct cal_year *y)
{
	uint8_t expl[CAL_MAX_DAYS] = { 0 };
	const char *stat[CAL_MAX_DAYS] = { NULL };
	int k = year - CAL_YEAR_MIN;
	bool statutory = false;
	size_t e;

	y->first_day = cal->year_first[k];
	y->ndays = cal->year_first[k + 1] - y->first_day;
	for (int32_t i = 0; i <= y->ndays; i++)
		y->midnight[i] = tz_to_utc(cal->tz, (int64_t)(y->first_day + i) * 86400);
	for (e = cal_exc_lower(cal, y->first_day);
	     e < cal->nexc && cal->exc[e].day < y->first_day + y->ndays; e++) {
		int32_t i = cal->exc[e].day - y->first_day;

		expl[i] = cal->exc[e].kind == CALENDAR_OFF ? CAL_EXPL_OFF : CAL_EXPL_WORK;
		y->reason[i] = cal->exc[e].reason;
	}
	if (cal->statutory && !cal_is_official(cal, year)) {
		cal_statutory(cal, year, y, expl, stat);
		statutory = true;
	}
	y->prefix[0] = 0;
	for (int32_t i = 0; i < y->ndays; i++) {
		int32_t day = y->first_day + i;
		bool worked;
		int64_t secs = 0;

		if (expl[i] != CAL_EXPL_NONE) {
			worked = expl[i] == CAL_EXPL_WORK;
		} else {
			worked = !stat[i] && cal_week_day(cal, day);
			y->reason[i] = stat[i];
		}
		y->flags[i] = worked ? CAL_WORKED : 0;
		if (y->midnight[i + 1] - y->midnight[i] != 86400 ||
		    tz_offset_at(cal->tz, y->midnight[i]) !=
			    tz_offset_at(cal->tz, y->midnight[i + 1] - 1))
			y->flags[i] |= CAL_IRREGULAR;
		if (worked && (y->flags[i] & CAL_IRREGULAR)) {
			int64_t bs[CALENDAR_MAX_PERIODS], be[CALENDAR_MAX_PERIODS];

			cal_bounds(cal, y, i, bs, be);
			for (size_t p = 0; p < cal->nperiods; p++)
				secs += be[p] - bs[p];
		} else if (worked) {
			secs = cal->day_seconds;
		}
		y->prefix[i + 1] = (int32_t)(y->prefix[i] + secs);
	}
	y->total = y->prefix[y->ndays];
	return statutory;
}

static struct cal_year *cal_year_slow(struct calendar *cal, int k)
{
	bool statutory = false;

	pthread_mutex_lock(&cal->lock);
	if (!atomic_load_explicit(&cal->ready[k], memory_order_relaxed)) {
		statutory = cal_year_build(cal, CAL_YEAR_MIN + k, &cal->years[k]);
		atomic_store_explicit(&cal->ready[k], 1, memory_order_release);
	}
	pthread_mutex_unlock(&cal->lock);
	/* Outside the lock, so that the callback may use the calendar. */
	if (statutory && cal->on_statutory_year)
		cal->on_statutory_year(cal->ctx, CAL_YEAR_MIN + k);
	return &cal->years[k];
}

/* The table of year index k (0 = CAL_YEAR_MIN), built if needed. */
static inline const struct cal_year *cal_year(struct calendar *cal, int k)
{
	if (atomic_load_explicit(&cal->ready[k], memory_order_acquire))
		return &cal->years[k];
	return cal_year_slow(cal, k);
}

/* Year index holding day number `day`, clamped to the table range. */
static int cal_year_index(const struct calendar *cal, int64_t day)
{
	int64_t k = (day - cal->year_first[0]) * 400 / 146097;

	if (k < 0)
		k = 0;
	if (k > CAL_NYEARS - 1)
		k = CAL_NYEARS - 1;
	while (k > 0 && day < cal->year_first[k])
		k--;
	while (k < CAL_NYEARS - 1 && day >= cal->year_first[k + 1])
		k++;
	return (int)k;
}

/* The table and day index of the local day holding t; t must be in [range_start, range_end). */
static const struct cal_year *cal_locate(struct calendar *cal, int64_t t, int *kp, int32_t *ip)
{
	int64_t guess = cal_floor_div(t, 86400); /* the UTC day: the local one is within 2 */
	int k = cal_year_index(cal, guess);
	const struct cal_year *y = cal_year(cal, k);
	int64_t i = guess - y->first_day;

	if (i < 0)
		i = 0;
	if (i >= y->ndays)
		i = y->ndays - 1;
	for (;;) {
		if (t < y->midnight[i]) {
			if (i > 0) {
				i--;
			} else {
				y = cal_year(cal, --k);
				i = y->ndays - 1;
			}
		} else if (t >= y->midnight[i + 1]) {
			if (i + 1 < y->ndays) {
				i++;
			} else {
				y = cal_year(cal, ++k);
				i = 0;
			}
		} else {
			break;
		}
	}
	*kp = k;
	*ip = (int32_t)i;
	return y;
}

/* Office seconds of day i of y elapsed before t (t within the day). */
static int64_t cal_in_day(const struct calendar *cal, const struct cal_year *y, int32_t i,
			  int64_t t)
{
	int64_t bs[CALENDAR_MAX_PERIODS], be[CALENDAR_MAX_PERIODS];
	int64_t w = 0;

	if (!(y->flags[i] & CAL_WORKED))
		return 0;
	cal_bounds(cal, y, i, bs, be);
	for (size_t p = 0; p < cal->nperiods && t > bs[p]; p++)
		w += (t < be[p] ? t : be[p]) - bs[p];
	return w;
}

/* W(t) as a year index and the office seconds since that year began, saturated to the range. */
static const struct cal_year *cal_pos(struct calendar *cal, int64_t t, int *kp, int64_t *wp)
{
	const struct cal_year *y;
	int32_t i;

	if (t < cal->range_start) {
		*kp = 0;
		*wp = 0;
		return cal_year(cal, 0);
	}
	if (t >= cal->range_end) {
		*kp = CAL_NYEARS - 1;
		y = cal_year(cal, *kp);
		*wp = y->total;
		return y;
	}
	y = cal_locate(cal, t, kp, &i);
	*wp = y->prefix[i] + cal_in_day(cal, y, i, t);
	return y;
}

/* The first day i of y with prefix[i + 1] > w (strict) or >= w. */
static int32_t cal_day_after(const struct cal_year *y, int64_t w, bool strict)
{
	int32_t lo = 0, hi = y->ndays - 1;

	while (lo < hi) {
		int32_t mid = lo + (hi - lo) / 2;

		if (strict ? y->prefix[mid + 1] > w : y->prefix[mid + 1] >= w)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* The earliest instant with W = w, for 0 < w <= y->total: a landing on the end of a period
 * is that end. */
static int64_t cal_find_first(const struct calendar *cal, const struct cal_year *y, int64_t w)
{
	int64_t bs[CALENDAR_MAX_PERIODS], be[CALENDAR_MAX_PERIODS];
	int32_t i = cal_day_after(y, w, false);
	int64_t r = w - y->prefix[i];

	cal_bounds(cal, y, i, bs, be);
	for (size_t p = 0; p < cal->nperiods; p++) {
		if (r <= be[p] - bs[p])
			return bs[p] + r;
		r -= be[p] - bs[p];
	}
	return be[cal->nperiods - 1];
}

/* The latest instant with W = w, for 0 <= w < y->total: the start of the next office time
 * when w is reached at the end of a period. */
static int64_t cal_find_last(const struct calendar *cal, const struct cal_year *y, int64_t w)
{
	int64_t bs[CALENDAR_MAX_PERIODS], be[CALENDAR_MAX_PERIODS];
	int32_t i = cal_day_after(y, w, true);
	int64_t r = w - y->prefix[i];

	cal_bounds(cal, y, i, bs, be);
	for (size_t p = 0; p < cal->nperiods; p++) {
		if (r < be[p] - bs[p])
			return bs[p] + r;
		r -= be[p] - bs[p];
	}
	return be[cal->nperiods - 1];
}

/* --- arithmetic --- */

int64_t calendar_next_open(struct calendar *cal, int64_t t)
{
	const struct cal_year *y;
	int k;
	int64_t w;

	if (t >= cal->range_end)
		return INT64_MAX;
	y = cal_pos(cal, t, &k, &w);
	while (w >= y->total) {
		if (++k == CAL_NYEARS)
			return INT64_MAX;
		y = cal_year(cal, k);
		w = 0;
	}
	return cal_find_last(cal, y, w);
}

int64_t calendar_add(struct calendar *cal, int64_t start, int64_t seconds)
{
	const struct cal_year *y;
	int k;
	int64_t w, rem;

	if (seconds == 0)
		return calendar_next_open(cal, start);
	y = cal_pos(cal, start, &k, &w);
	if (seconds > 0) {
		rem = seconds;
		while (rem > y->total - w) {
			rem -= y->total - w;
			if (++k == CAL_NYEARS)
				return INT64_MAX;
			y = cal_year(cal, k);
			w = 0;
		}
		return cal_find_first(cal, y, w + rem);
	}
	rem = seconds == INT64_MIN ? INT64_MAX : -seconds;
	while (rem > w) {
		rem -= w;
		if (--k < 0)
			return INT64_MIN;
		y = cal_year(cal, k);
		w = y->total;
	}
	return cal_find_last(cal, y, w - rem);
}

int64_t calendar_between(struct calendar *cal, int64_t a, int64_t b)
{
	const struct cal_year *ya;
	int ka, kb;
	int64_t wa, wb, sum;

	if (a == b)
		return 0;
	if (b < a)
		return -calendar_between(cal, b, a);
	ya = cal_pos(cal, a, &ka, &wa);
	cal_pos(cal, b, &kb, &wb);
	if (ka == kb)
		return wb - wa;
	sum = ya->total - wa + wb;
	for (int k = ka + 1; k < kb; k++)
		sum += cal_year(cal, k)->total;
	return sum;
}

/* --- days and instants --- */

int64_t calendar_end_of_day(struct calendar *cal, int64_t t)
{
	int64_t open = calendar_next_open(cal, t);
	int64_t midnight = calendar_instant_of(cal, calendar_day_of(cal, open), 0);

	/* The office time left in that day, added: lands exactly on the last period's end. */
	return calendar_add(cal, open, calendar_day_seconds(cal) - calendar_between(cal, midnight, open));
}

bool calendar_is_working_day(struct calendar *cal, int32_t day)
{
	size_t e;

	if (day >= cal->year_first[0] && day < cal->year_first[CAL_NYEARS]) {
		int k = cal_year_index(cal, day);
		const struct cal_year *y = cal_year(cal, k);

		return y->flags[day - y->first_day] & CAL_WORKED;
	}
	/* Outside the tables only the week and the explicit exceptions apply. */
	e = cal_exc_lower(cal, day);
	if (e < cal->nexc && cal->exc[e].day == day)
		return cal->exc[e].kind == CALENDAR_WORK;
	return cal_week_day(cal, day);
}

int32_t calendar_day_of(struct calendar *cal, int64_t t)
{
	/* Day numbers of int32 cover +-5.8 million years; clamp t to well inside that. */
	const int64_t lim = (int64_t)INT32_MAX * 86400 - 2 * 86400;
	int64_t d;

	if (t >= cal->range_start && t < cal->range_end) {
		int k;
		int32_t i;
		const struct cal_year *y = cal_locate(cal, t, &k, &i);

		return y->first_day + i;
	}
	if (t > lim)
		t = lim;
	if (t < -lim)
		t = -lim;
	d = cal_floor_div(t + tz_offset_at(cal->tz, t), 86400);
	return (int32_t)d;
}

int64_t calendar_instant_of(struct calendar *cal, int32_t day, int minute_of_day)
{
	return tz_to_utc(cal->tz, (int64_t)day * 86400 + (int64_t)minute_of_day * 60);
}

int calendar_utc_offset(struct calendar *cal, int64_t t)
{
	return tz_offset_at(cal->tz, t);
}

size_t calendar_list(struct calendar *cal, int year, struct calendar_exception *out, size_t cap)
{
	size_t n = 0;

	if (year >= CAL_YEAR_MIN && year <= CAL_YEAR_MAX) {
		const struct cal_year *y = cal_year(cal, year - CAL_YEAR_MIN);

		for (int32_t i = 0; i < y->ndays; i++) {
			int32_t day = y->first_day + i;
			bool worked = y->flags[i] & CAL_WORKED;

			if (worked == cal_week_day(cal, day))
				continue;
			if (n < cap) {
				out[n].day = day;
				out[n].kind = worked ? CALENDAR_WORK : CALENDAR_OFF;
				out[n].reason = y->reason[i] ? y->reason[i] :
					       worked ? CAL_DEFAULT_WORK : CAL_DEFAULT_OFF;
			}
			n++;
		}
		return n;
	}
	{
		int32_t first = civil_to_days(year, 1, 1), end = civil_to_days(year + 1, 1, 1);

		for (size_t e = cal_exc_lower(cal, first); e < cal->nexc; e++) {
			const struct cal_exc *x = &cal->exc[e];

			if (x->day >= end)
				break;
			if ((x->kind == CALENDAR_WORK) == cal_week_day(cal, x->day))
				continue;
			if (n < cap) {
				out[n].day = x->day;
				out[n].kind = x->kind;
				out[n].reason = x->reason;
			}
			n++;
		}
	}
	return n;
}

/* Two decimal digits of v (0-99) at p. */
static char *cal_put2(char *p, int v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
	return p + 2;
}

/* Written digit by digit: every answer carries several instants, and snprintf cost about 3 500
 * instructions each (docs/performance.md, "Ingest"). */
size_t calendar_format(struct calendar *cal, int64_t t, char *buf, size_t n)
{
	/* Years 0000-9999 are what the format can write: clamp to them. */
	const int64_t lo = -62167219200LL + 86400, hi = 253402300799LL - 86400;
	char text[32], *p = text;
	int off, offm, y, m, d, s;
	int64_t local, day;
	size_t len;

	if (!buf || n == 0)
		return 0;
	if (t < lo)
		t = lo;
	if (t > hi)
		t = hi;
	off = tz_offset_at(cal->tz, t);
	offm = off / 60; /* RFC 3339 offsets have no seconds: drop them (LMT only) */
	local = t + (int64_t)offm * 60;
	day = cal_floor_div(local, 86400);
	s = (int)(local - day * 86400);
	civil_from_days((int32_t)day, &y, &m, &d);
	p = cal_put2(p, y / 100);
	p = cal_put2(p, y % 100);
	*p++ = '-';
	p = cal_put2(p, m);
	*p++ = '-';
	p = cal_put2(p, d);
	*p++ = 'T';
	p = cal_put2(p, s / 3600);
	*p++ = ':';
	p = cal_put2(p, s / 60 % 60);
	*p++ = ':';
	p = cal_put2(p, s % 60);
	*p++ = offm < 0 ? '-' : '+';
	p = cal_put2(p, abs(offm) / 60);
	*p++ = ':';
	p = cal_put2(p, abs(offm) % 60);
	len = (size_t)(p - text);
	if (len >= n)
		len = n - 1;
	memcpy(buf, text, len);
	buf[len] = '\0';
	return len;
}

/* --- parsing --- */

static bool cal_digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* "YYYY-MM-DD" at s (not necessarily terminated there) into y, m, d, checking it exists. */
static int cal_parse_ymd(const char *s, int *y, int *m, int *d)
{
	if (!cal_digits(s, 4, y) || s[4] != '-' || !cal_digits(s + 5, 2, m) || s[7] != '-' ||
	    !cal_digits(s + 8, 2, d))
		return -1;
	if (*m < 1 || *m > 12 || *d < 1 || *d > cal_month_days(*y, *m))
		return -2;
	return 0;
}

int civil_parse_date(const char *s, int32_t *day, struct err *err)
{
	int y, m, d, r;

	*day = 0;
	if (!s || strnlen(s, 11) != 10 || (r = cal_parse_ymd(s, &y, &m, &d)) == -1)
		return err_set(err, NULL, "invalid date \"%.64s\": expected YYYY-MM-DD",
			       s ? s : "");
	if (r != 0)
		return err_set(err, NULL, "invalid date \"%.64s\": no such day", s);
	*day = civil_to_days(y, m, d);
	return 0;
}

int calendar_parse_rfc3339(const char *s, int64_t *out, struct err *err)
{
	const char *why = "expected RFC 3339 like 2024-02-07T10:00:00+07:00";
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0, r;
	const char *p;

	*out = 0;
	if (!s || strnlen(s, 19) < 19 || (r = cal_parse_ymd(s, &y, &mo, &d)) == -1 ||
	    (s[10] != 'T' && s[10] != 't') || !cal_digits(s + 11, 2, &h) || s[13] != ':' ||
	    !cal_digits(s + 14, 2, &mi) || s[16] != ':' || !cal_digits(s + 17, 2, &sec))
		goto fail;
	if (r != 0 || h > 23 || mi > 59 || sec > 60) {
		why = "no such date or time";
		goto fail;
	}
	p = s + 19;
	if (*p == '.') {
		/* Fractions of a second are allowed and dropped. */
		why = "digits expected after \".\"";
		if (*++p < '0' || *p > '9')
			goto fail;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		why = "UTC offset must be Z or +HH:MM";
		sign = *p == '-' ? -1 : 1;
		if (!cal_digits(p + 1, 2, &oh) || p[3] != ':' || !cal_digits(p + 4, 2, &om) ||
		    oh > 23 || om > 59)
			goto fail;
		p += 6;
	} else {
		why = "a UTC offset (Z or +07:00) is required";
		goto fail;
	}
	if (*p) {
		why = "unexpected text after it";
		goto fail;
	}
	/* A leap second (:60) becomes the next second, as with timegm(). */
	*out = cal_days64(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	       (int64_t)sign * (oh * 3600 + om * 60);
	return 0;

fail:
	return err_set(err, NULL, "invalid timestamp \"%.64s\": %s", s ? s : "", why);
}

int calendar_parse_given(const char *s, int64_t *out, struct err *err)
{
	int y = 0;

	if (calendar_parse_rfc3339(s, out, err) != 0)
		return -1;
	/* Parsed: the text begins with its four digits of year. */
	cal_digits(s, 4, &y);
	if (y < CALENDAR_FIRST_YEAR || y > CALENDAR_LAST_YEAR)
		return err_set(err, NULL, "invalid timestamp \"%.64s\": the year must be %d to %d", s,
			       CALENDAR_FIRST_YEAR, CALENDAR_LAST_YEAR);
	return 0;
}

int calendar_parse_duration(const char *s, int64_t day_seconds, int64_t *out, struct err *err)
{
	static const char expect[] =
		"expected a number and a unit d, h, m or s, e.g. 3d, 0.5d, 4h, 90m";
	const int64_t billion = 1000000000;
	const char *p = s;
	int64_t ip = 0, frac = 0, unit, total;
	int nd = 0, nf = 0;
	bool neg = false;

	*out = 0;
	if (!s || !*s)
		return err_set(err, NULL, "empty duration: %s", expect);
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	for (; *p >= '0' && *p <= '9'; p++, nd++) {
		if (ip > (INT64_MAX - (*p - '0')) / 10)
			return err_set(err, NULL, "duration \"%.64s\" is too large", s);
		ip = ip * 10 + (*p - '0');
	}
	if (nd == 0)
		return err_set(err, NULL, "invalid duration \"%.64s\": %s", s, expect);
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, nf++) {
			if (nf == 9)
				return err_set(err, NULL,
					       "invalid duration \"%.64s\": at most 9 decimals", s);
			frac = frac * 10 + (*p - '0');
		}
		if (nf == 0)
			return err_set(err, NULL, "invalid duration \"%.64s\": %s", s, expect);
		for (int i = nf; i < 9; i++)
			frac *= 10; /* now in billionths */
	}
	switch (*p) {
	case 'd':
		unit = day_seconds;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'm':
		unit = 60;
		break;
	case 's':
		unit = 1;
		break;
	default:
		return err_set(err, NULL, "invalid duration \"%.64s\": %s", s, expect);
	}
	if (p[1] != '\0')
		return err_set(err, NULL, "invalid duration \"%.64s\": %s", s, expect);
	if (unit <= 0)
		return err_set(err, NULL,
			       "invalid duration \"%.64s\": a working day has no office time", s);
	if (ip > INT64_MAX / unit)
		return err_set(err, NULL, "duration \"%.64s\" is too large", s);
	total = ip * unit;
	if (frac) {
		/* frac * unit / 1e9 rounded, without overflow: split unit at 1e9. */
		int64_t uq = unit / billion, ur = unit % billion;
		int64_t part;

		if (uq && frac > INT64_MAX / uq)
			return err_set(err, NULL, "duration \"%.64s\" is too large", s);
		part = frac * uq + (frac * ur + billion / 2) / billion;
		if (total > INT64_MAX - part)
			return err_set(err, NULL, "duration \"%.64s\" is too large", s);
		total += part;
	}
	*out = neg ? -total : total;
	return 0;
}
