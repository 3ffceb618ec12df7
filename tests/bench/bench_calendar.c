/* bench_calendar: speed of calendar_add and calendar_between (prefix sums over per-year tables)
 * against a naive reference that walks the time line minute by minute, on the same random
 * instants and durations over a year (fixed seed). Exits 1 if the two ever disagree.
 *
 * Usage: bench_calendar [fast-ops [naive-ops]]   (defaults 2000000 and 2000) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "calendar.h"

#define DAY8H 28800

struct bench_case {
	int64_t a;
	int64_t b; /* add: the duration; between: the end */
};

static uint64_t bench_rng(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t bench_floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* The naive reference: one step per local minute (office periods are whole minutes and the
 * zone's offset is a whole number of minutes, so a minute is all office time or none). */
struct naive {
	struct calendar *cal;
	const struct calendar_period *periods;
	size_t nperiods;
	int32_t cached_day;
	bool cached_working;
};

/* Office seconds from t to the end of its minute (0 when that minute is not office time),
 * and that end in *next. */
static int64_t naive_minute(struct naive *n, int64_t t, int64_t *next)
{
	int64_t local = t + calendar_utc_offset(n->cal, t);
	int64_t day = bench_floor_div(local, 86400);
	int64_t sec = local - day * 86400;
	int minute = (int)(sec / 60);
	bool office = false;

	*next = t + (60 - sec % 60);
	if ((int32_t)day != n->cached_day) {
		n->cached_day = (int32_t)day;
		n->cached_working = calendar_is_working_day(n->cal, (int32_t)day);
	}
	if (!n->cached_working)
		return 0;
	for (size_t p = 0; p < n->nperiods; p++)
		if (minute >= n->periods[p].start_min && minute < n->periods[p].end_min)
			office = true;
	return office ? *next - t : 0;
}

static int64_t naive_add(struct naive *n, int64_t t, int64_t seconds)
{
	while (seconds > 0) {
		int64_t next, avail = naive_minute(n, t, &next);

		if (avail >= seconds)
			return t + seconds;
		seconds -= avail;
		t = next;
	}
	return t;
}

static int64_t naive_between(struct naive *n, int64_t a, int64_t b)
{
	int64_t sum = 0;

	while (a < b) {
		int64_t next, avail = naive_minute(n, a, &next);

		if (next > b) {
			if (avail)
				sum += b - a;
			break;
		}
		sum += avail;
		a = next;
	}
	return sum;
}

static void bench_report(const char *what, long fast_ops, double fast_s, long naive_ops,
			 double naive_s)
{
	double fast = (double)fast_ops / fast_s, slow = (double)naive_ops / naive_s;

	printf("%-17s prefix-sum: %.0f ops/s  naive: %.0f ops/s  ratio: %.0f\n", what, fast, slow,
	       fast / slow);
}

int main(int argc, char **argv)
{
	struct calendar_config cfg = {
		.timezone = "Asia/Ho_Chi_Minh",
		.week_mask = 0x3e,
		.periods = { { 7 * 60 + 30, 11 * 60 + 30 }, { 13 * 60, 17 * 60 } },
		.nperiods = 2,
		.statutory_holidays = true,
	};
	long nfast = argc > 1 ? atol(argv[1]) : 2000000;
	long nslow = argc > 2 ? atol(argv[2]) : 2000;
	struct bench_case *cases = NULL;
	struct naive nv;
	struct calendar *cal = NULL;
	struct err err;
	uint64_t seed = 20240207;
	int64_t year_start, year_len, check = 0;
	long ncases = 1 << 16, mismatches = 0;
	double t0, fast_s, slow_s;
	int rc = 1;

	if (nfast < 1 || nslow < 1 || nslow > ncases) {
		fprintf(stderr, "usage: %s [fast-ops [naive-ops <= %ld]]\n", argv[0], ncases);
		return 2;
	}
	cal = calendar_new(&cfg, &err);
	if (!cal) {
		fprintf(stderr, "calendar_new: %s (%s)\n", err.msg, err.field);
		goto out;
	}
	cases = malloc((size_t)ncases * sizeof(*cases));
	if (!cases) {
		fprintf(stderr, "out of memory\n");
		goto out;
	}
	nv = (struct naive){ cal, cfg.periods, cfg.nperiods, INT32_MIN, false };
	year_start = calendar_instant_of(cal, civil_to_days(2025, 1, 1), 0);
	year_len = calendar_instant_of(cal, civil_to_days(2026, 1, 1), 0) - year_start;

	/* calendar_add: instants over 2025, durations up to 10 working days. */
	for (long i = 0; i < ncases; i++) {
		cases[i].a = year_start + (int64_t)(bench_rng(&seed) % (uint64_t)year_len);
		cases[i].b = 1 + (int64_t)(bench_rng(&seed) % (10 * DAY8H));
	}
	calendar_add(cal, year_start, 400 * DAY8H); /* build the tables outside the timing */
	t0 = bench_now();
	for (long i = 0; i < nfast; i++) {
		const struct bench_case *c = &cases[i & (ncases - 1)];

		check += calendar_add(cal, c->a, c->b);
	}
	fast_s = bench_now() - t0;
	t0 = bench_now();
	for (long i = 0; i < nslow; i++)
		check -= naive_add(&nv, cases[i].a, cases[i].b);
	slow_s = bench_now() - t0;
	for (long i = 0; i < nslow; i++) {
		int64_t f = calendar_add(cal, cases[i].a, cases[i].b);
		int64_t s = naive_add(&nv, cases[i].a, cases[i].b);

		if (f != s && mismatches++ < 5)
			fprintf(stderr, "add(%lld, %lld): prefix-sum %lld, naive %lld\n",
				(long long)cases[i].a, (long long)cases[i].b, (long long)f,
				(long long)s);
	}
	bench_report("calendar_add", nfast, fast_s, nslow, slow_s);

	/* calendar_between: pairs over 2025, up to two weeks apart. */
	for (long i = 0; i < ncases; i++) {
		cases[i].a = year_start + (int64_t)(bench_rng(&seed) % (uint64_t)year_len);
		cases[i].b = cases[i].a + (int64_t)(bench_rng(&seed) % (14 * 86400));
	}
	t0 = bench_now();
	for (long i = 0; i < nfast; i++) {
		const struct bench_case *c = &cases[i & (ncases - 1)];

		check += calendar_between(cal, c->a, c->b);
	}
	fast_s = bench_now() - t0;
	t0 = bench_now();
	for (long i = 0; i < nslow; i++)
		check -= naive_between(&nv, cases[i].a, cases[i].b);
	slow_s = bench_now() - t0;
	for (long i = 0; i < nslow; i++) {
		int64_t f = calendar_between(cal, cases[i].a, cases[i].b);
		int64_t s = naive_between(&nv, cases[i].a, cases[i].b);

		if (f != s && mismatches++ < 10)
			fprintf(stderr, "between(%lld, %lld): prefix-sum %lld, naive %lld\n",
				(long long)cases[i].a, (long long)cases[i].b, (long long)f,
				(long long)s);
	}
	bench_report("calendar_between", nfast, fast_s, nslow, slow_s);

	printf("checked %ld add and %ld between results against the naive walk: %s "
	       "(checksum %lld)\n",
	       nslow, nslow, mismatches ? "MISMATCH" : "all agree", (long long)check);
	rc = mismatches ? 1 : 0;

out:
	free(cases);
	calendar_free(cal);
	return rc;
}
