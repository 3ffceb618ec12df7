/* metrics: what dunghand measures of itself since it started, for GET /metrics — HTTP answers by
 * route and status, the latency of the API's group commit and of the WAL's syncs, how late the
 * loop runs a timer —
 * and the Prometheus text exposition format 0.0.4 every series is written in (docs/operations.md,
 * "Metrics"). Everything here runs on the loop thread, except the writers of the format, which
 * only touch the FILE they are given. */
#ifndef DUNGHAN_METRICS_H
#define DUNGHAN_METRICS_H

#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "err.h"

#define METRICS_LAG_INTERVAL_MS 1000
#define METRICS_MAX_REQUEST_SERIES 1024 /* (route, status) pairs counted; more are dropped */

struct metrics;

/* Starts measuring on loop: a timer every METRICS_LAG_INTERVAL_MS records how late it fires.
 * Returns NULL with err. */
struct metrics *metrics_new(uv_loop_t *loop, struct err *err);

/* Stops the timer; cb(arg) runs from its close callback, after which m is freed. */
void metrics_close(struct metrics *m, void (*cb)(void *arg), void *arg);

/* Counts one answer: route is a fixed template with static storage ("/api/v1/cases/{code}"),
 * never a raw path, so the number of series stays bounded. */
void metrics_count_request(struct metrics *m, const char *route, int status);

/* Records one group commit that took seconds. */
void metrics_observe_commit(struct metrics *m, double seconds);

/* Records one fdatasync of the WAL (the sync thread's, wal_sync.h) that took seconds. */
void metrics_observe_wal_sync(struct metrics *m, double seconds);

/* Writes the families measured here (requests, commit and loop-lag histograms, uptime) with
 * their HELP and TYPE lines. Returns 0, or -1 when out fails. */
int metrics_write(const struct metrics *m, FILE *out);

/* --- the text format, for series measured elsewhere (the database's counts) --- */

/* The HELP and TYPE lines of family name; type is "gauge", "counter" or "histogram". */
void metrics_write_family(FILE *out, const char *name, const char *type, const char *help);

/* One sample: name{label="value",...} value. labels holds nlabels (name, value) pairs; a value
 * is escaped as the format requires (\\, \" and \n); NULL is written as "". */
void metrics_write_sample(FILE *out, const char *name, const char *const *labels, int nlabels,
			  int64_t value);

#endif
