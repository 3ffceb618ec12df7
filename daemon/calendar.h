/* calendar: working time in a Vietnamese office. Which days are worked (week, official
 * schedules, statutory holidays solar and lunar, make-up days), which hours (office periods),
 * and arithmetic on instants counted in office time, interpreted in an IANA time zone read
 * from the system's zoneinfo database.
 *
 * Instants are UTC Unix seconds (int64_t). A "day number" is the count of civil days since
 * 1970-01-01 (negative before), as returned by civil_to_days(). */
#ifndef DUNGHAN_CALENDAR_H
#define DUNGHAN_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define CALENDAR_MAX_PERIODS 8

/* An absent instant (a null column, a field not given). */
#define TIME_NONE INT64_MIN

enum calendar_day_kind {
	CALENDAR_OFF,  /* a day not worked (holiday, swapped day off, compensatory day) */
	CALENDAR_WORK, /* a make-up working day (a non-week day that is worked) */
};

struct calendar_exception {
	int32_t day;           /* day number */
	enum calendar_day_kind kind;
	const char *reason;    /* may be NULL; borrowed, copied by calendar_new */
};

struct calendar_period {
	int start_min; /* minutes after local midnight, 0..1439 */
	int end_min;   /* exclusive, start_min < end_min <= 1440 */
};

struct calendar_config {
	const char *timezone;     /* IANA name, e.g. "Asia/Ho_Chi_Minh" */
	const char *zoneinfo_dir; /* NULL: $TZDIR, else /usr/share/zoneinfo */
	unsigned week_mask;       /* bit w set when weekday w is worked; w = 0 Sunday .. 6 Saturday */
	struct calendar_period periods[CALENDAR_MAX_PERIODS]; /* sorted, not overlapping */
	size_t nperiods;          /* >= 1 */
	bool statutory_holidays;  /* generate Labour Code holidays for years without a schedule */
	const struct calendar_exception *exceptions; /* days_off, make_up_days, included schedules */
	size_t nexceptions;
	const int *official_years; /* years for which an official schedule is loaded: for these, */
	size_t nofficial_years;    /* no statutory day is generated, the schedule is the truth */
	/* Called once per year, the first time a year without an official schedule is computed
	 * from the statutory rule (may be NULL). Called on the thread that builds the year. */
	void (*on_statutory_year)(void *ctx, int year);
	void *ctx;
};

struct calendar;

/* Builds a calendar from cfg (nothing of cfg is kept after return). Loads the time zone.
 * Returns NULL and fills err (field "calendar.<setting>") on a bad config or unknown zone. */
struct calendar *calendar_new(const struct calendar_config *cfg, struct err *err);

/* Frees cal and its cached year tables. NULL is a no-op. */
void calendar_free(struct calendar *cal);

/* Office seconds in one full working day (e.g. 8 h = 28800 for 07:30-11:30, 13:00-17:00). */
int64_t calendar_day_seconds(const struct calendar *cal);

/* The earliest instant at which `seconds` of office time have elapsed since start. A start
 * outside office hours counts from the next office period; a result that lands exactly on the
 * end of a period is that end. seconds == 0 gives calendar_next_open(start).
 * Negative seconds count backward: the latest instant r <= start with between(r, start) ==
 * -seconds (a result landing on a period start is that start).
 * Year tables are built lazily and cached; safe to call from several threads at once. */
int64_t calendar_add(struct calendar *cal, int64_t start, int64_t seconds);

/* The end of the working day in which t counts: the end of the last office period of the day of
 * calendar_next_open(t). "By the end of the working day" deadlines (same-day procedures,
 * flash documents) are this. */
int64_t calendar_end_of_day(struct calendar *cal, int64_t t);

/* Office seconds in [a, b); negative (-between(b, a)) when b < a. */
int64_t calendar_between(struct calendar *cal, int64_t a, int64_t b);

/* Whether the civil day (day number, local) is a working day. */
bool calendar_is_working_day(struct calendar *cal, int32_t day);

/* t itself when t is inside an office period, else the start of the next one. */
int64_t calendar_next_open(struct calendar *cal, int64_t t);

/* The local civil day number of instant t. */
int32_t calendar_day_of(struct calendar *cal, int64_t t);

/* The instant of local time hh:mm on civil day `day` (first occurrence if ambiguous). */
int64_t calendar_instant_of(struct calendar *cal, int32_t day, int minute_of_day);

/* Offset of the zone from UTC at t, in seconds (+25200 for Asia/Ho_Chi_Minh today). */
int calendar_utc_offset(struct calendar *cal, int64_t t);

/* The exceptions of `year` (weekdays not worked, non-week days worked, statutory ones
 * included, with reasons), sorted by day. Writes up to cap entries into out, returns the total
 * count (call with cap 0 to size). Reasons point into cal and live as long as it. */
size_t calendar_list(struct calendar *cal, int year, struct calendar_exception *out, size_t cap);

/* Formats t as RFC 3339 in the calendar's zone, e.g. "2024-02-19T10:00:00+07:00".
 * buf needs at least 26 bytes; returns the length written. */
size_t calendar_format(struct calendar *cal, int64_t t, char *buf, size_t n);

/* --- pure helpers (no calendar needed) --- */

/* Civil date <-> day number (proleptic Gregorian). */
int32_t civil_to_days(int y, int m, int d);
void civil_from_days(int32_t day, int *y, int *m, int *d);
/* Weekday of a day number: 0 Sunday .. 6 Saturday. */
int civil_weekday(int32_t day);

/* Parses a strict "YYYY-MM-DD" that exists. Returns 0 or -1 (err filled, field NULL). */
int civil_parse_date(const char *s, int32_t *day, struct err *err);

/* Parses RFC 3339 "YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)" (an offset is required; fractions
 * are truncated). Returns 0 or -1 (err filled). */
int calendar_parse_rfc3339(const char *s, int64_t *out, struct err *err);

/* The years whose days the calendar knows (lunar.h): an instant given as input lies in them. */
#define CALENDAR_FIRST_YEAR 1900
#define CALENDAR_LAST_YEAR 2199

/* calendar_parse_rfc3339 for an instant given as input (the API, an import, the command line):
 * a year outside CALENDAR_FIRST_YEAR..CALENDAR_LAST_YEAR, a typo such as 0024 or 2204, is
 * refused too. Returns 0 or -1 (err filled). */
int calendar_parse_given(const char *s, int64_t *out, struct err *err);

/* Parses a working-time duration: a decimal number and a unit, "3d", "0.5d", "4h", "90m",
 * "30s", optionally signed ("-1d", "+2h"); d means day_seconds. Rounds to the nearest second.
 * Returns 0 or -1 (err filled). */
int calendar_parse_duration(const char *s, int64_t day_seconds, int64_t *out, struct err *err);

#endif
