/* bench_median: the median of a benchmark's repeated runs, for the benches that judge a target
 * on several runs rather than one (bench_ingest -k, bench_deliver -r). */
#ifndef DUNGHAN_BENCH_MEDIAN_H
#define DUNGHAN_BENCH_MEDIAN_H

#include <stddef.h>

/* The median of v[0..n) (n >= 1; sorts v in place). */
static inline double bench_median(double *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
			double t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#endif
