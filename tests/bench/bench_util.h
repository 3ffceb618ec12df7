/* bench_util: what every benchmark program needs alike: its clocks and its numeric options.
 * Header-only, as the benches are single files linked with the test support library. */
#ifndef DUNGHAN_BENCH_UTIL_H
#define DUNGHAN_BENCH_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Monotonic wall time in seconds. */
static inline double bench_mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of the calling thread in seconds. */
static inline double bench_thread_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A count given on the command line: a whole number up to 10^8, 0 only when zero_ok. A bad
 * one is a usage error of prog (exit 2), naming the option (what) and the text. */
static inline size_t bench_parse_size(const char *prog, const char *s, const char *what,
				      bool zero_ok)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || !*s || *s == '-' || (v == 0 && !zero_ok) || v > 100000000ULL) {
		fprintf(stderr, "%s: %s: expected a %s integer, got \"%s\"\n", prog, what,
			zero_ok ? "non-negative" : "positive", s);
		exit(2);
	}
	return (size_t)v;
}

#endif
