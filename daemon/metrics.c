/* metrics: dunghand's own counters and histograms, and the Prometheus text format (see
 * metrics.h).
 *
 * DESIGN: the loop-lag timer is one-shot and re-armed from its own callback, so each firing
 * measures one interval: uv_now() when it runs minus uv_now() when it was armed plus the
 * interval. Both readings come from the loop's clock, which libuv updates once per turn, so the
 * lag is exactly how long the turn that should have run the timer came late — the time the loop
 * spent blocked in a callback. Histogram buckets are stored per bucket and made cumulative only
 * when written. */
#include "metrics.h"

#include <stdlib.h>
#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A sync of the WAL takes tenths of a millisecond on an SSD, tens on a disk; a group commit
 * (its frames written, not synced) less: one set of buckets for both. */
static const double commit_bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
					0.1, 0.25, 0.5, 1, 2.5 };
/* The loop should never be late by more than a few milliseconds. */
static const double lag_bounds[] = { 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
				     5, 10 };

#define MAX_BOUNDS 12

struct histogram {
	const double *bounds;
	size_t nbounds;
	uint64_t counts[MAX_BOUNDS + 1]; /* per bucket; the last one is +Inf */
	uint64_t count;
	double sum;
};

struct request_series {
	const char *route;
	int status;
	uint64_t n;
};

struct metrics {
	uv_loop_t *loop;
	uv_timer_t lag_timer;
	uint64_t armed_at; /* uv_now() when the lag timer was armed */
	uint64_t started;  /* uv_hrtime() at start */
	struct histogram commit, wal_sync, lag;
	struct request_series requests[METRICS_MAX_REQUEST_SERIES];
	size_t nrequests;
	void (*close_cb)(void *);
	void *close_arg;
};

static void observe(struct histogram *h, double v)
{
	size_t i = 0;

	while (i < h->nbounds && v > h->bounds[i])
		i++;
	h->counts[i]++;
	h->count++;
	h->sum += v;
}

static void on_lag_timer(uv_timer_t *t)
{
	struct metrics *m = t->data;
	uint64_t now = uv_now(m->loop), due = m->armed_at + METRICS_LAG_INTERVAL_MS;

	observe(&m->lag, now > due ? (double)(now - due) / 1000.0 : 0.0);
	m->armed_at = now;
	uv_timer_start(&m->lag_timer, on_lag_timer, METRICS_LAG_INTERVAL_MS, 0);
}

struct metrics *metrics_new(uv_loop_t *loop, struct err *err)
{
	struct metrics *m = calloc(1, sizeof(*m));
	int rc;

	if (!m) {
		err_set(err, NULL, "out of memory");
		return NULL;
	}
	m->loop = loop;
	m->started = uv_hrtime();
	m->commit = (struct histogram){ .bounds = commit_bounds, .nbounds = N(commit_bounds) };
	m->wal_sync = (struct histogram){ .bounds = commit_bounds, .nbounds = N(commit_bounds) };
	m->lag = (struct histogram){ .bounds = lag_bounds, .nbounds = N(lag_bounds) };
	if ((rc = uv_timer_init(loop, &m->lag_timer)) != 0) {
		err_set(err, NULL, "cannot create the loop-lag timer: %s", uv_strerror(rc));
		free(m);
		return NULL;
	}
	m->lag_timer.data = m;
	m->armed_at = uv_now(loop);
	/* Cannot fail on an initialised timer with a callback. */
	uv_timer_start(&m->lag_timer, on_lag_timer, METRICS_LAG_INTERVAL_MS, 0);
	return m;
}

static void on_closed(uv_handle_t *h)
{
	struct metrics *m = h->data;
	void (*cb)(void *) = m->close_cb;
	void *arg = m->close_arg;

	free(m);
	if (cb)
		cb(arg);
}

void metrics_close(struct metrics *m, void (*cb)(void *arg), void *arg)
{
	m->close_cb = cb;
	m->close_arg = arg;
	uv_close((uv_handle_t *)&m->lag_timer, on_closed);
}

void metrics_count_request(struct metrics *m, const char *route, int status)
{
	size_t i;

	for (i = 0; i < m->nrequests; i++)
		if (m->requests[i].status == status && strcmp(m->requests[i].route, route) == 0)
			break;
	if (i == m->nrequests) {
		/* Routes are fixed templates and statuses few: the table never fills in practice,
		 * and a full one must not grow memory. */
		if (m->nrequests == METRICS_MAX_REQUEST_SERIES)
			return;
		m->requests[m->nrequests++] = (struct request_series){ route, status, 0 };
	}
	m->requests[i].n++;
}

void metrics_observe_commit(struct metrics *m, double seconds)
{
	observe(&m->commit, seconds);
}

void metrics_observe_wal_sync(struct metrics *m, double seconds)
{
	observe(&m->wal_sync, seconds);
}

/* --- the text format ---------------------------------------------------------------------- */

void metrics_write_family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void write_escaped(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', out);
		if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

static void write_labels(FILE *out, const char *const *labels, int nlabels)
{
	if (nlabels == 0)
		return;
	fputc('{', out);
	for (int i = 0; i < nlabels; i++) {
		fprintf(out, "%s%s=\"", i ? "," : "", labels[2 * i]);
		write_escaped(out, labels[2 * i + 1]);
		fputc('"', out);
	}
	fputc('}', out);
}

void metrics_write_sample(FILE *out, const char *name, const char *const *labels, int nlabels,
			  int64_t value)
{
	fputs(name, out);
	write_labels(out, labels, nlabels);
	fprintf(out, " %lld\n", (long long)value);
}

static void write_histogram(FILE *out, const char *name, const char *help,
			    const struct histogram *h)
{
	uint64_t cumulative = 0;
	char bound[32];

	metrics_write_family(out, name, "histogram", help);
	for (size_t i = 0; i <= h->nbounds; i++) {
		cumulative += h->counts[i];
		if (i < h->nbounds)
			snprintf(bound, sizeof(bound), "%g", h->bounds[i]);
		else
			snprintf(bound, sizeof(bound), "+Inf");
		fprintf(out, "%s_bucket{le=\"%s\"} %llu\n", name, bound,
			(unsigned long long)cumulative);
	}
	fprintf(out, "%s_sum %.9g\n%s_count %llu\n", name, h->sum, name,
		(unsigned long long)h->count);
}

static int by_route_status(const void *a, const void *b)
{
	const struct request_series *x = a, *y = b;
	int c = strcmp(x->route, y->route);

	return c ? c : (x->status > y->status) - (x->status < y->status);
}

int metrics_write(const struct metrics *m, FILE *out)
{
	struct request_series *sorted = NULL;

	/* Sorted, so that two scrapes list the series in the same order. */
	if (m->nrequests && !(sorted = malloc(m->nrequests * sizeof(*sorted))))
		return -1;
	if (sorted) {
		memcpy(sorted, m->requests, m->nrequests * sizeof(*sorted));
		qsort(sorted, m->nrequests, sizeof(*sorted), by_route_status);
	}
	metrics_write_family(out, "dunghan_http_requests_total", "counter",
			     "HTTP answers since start, by route template and status.");
	for (size_t i = 0; i < m->nrequests; i++) {
		char status[16];
		snprintf(status, sizeof(status), "%d", sorted[i].status);
		const char *labels[] = { "route", sorted[i].route, "status", status };
		metrics_write_sample(out, "dunghan_http_requests_total", labels, 2,
				     (int64_t)sorted[i].n);
	}
	free(sorted);
	write_histogram(out, "dunghan_commit_seconds",
			"Time of each group commit of the API (its COMMIT writing the WAL; the fsync "
			"that follows is the sync thread's), in seconds.",
			&m->commit);
	write_histogram(out, "dunghan_wal_sync_seconds",
			"Time of each fdatasync of the WAL by the sync thread, which every write's "
			"answer waits for: the disk's pace, in seconds.",
			&m->wal_sync);
	write_histogram(out, "dunghan_loop_lag_seconds",
			"How late the event loop ran a timer due every second, in seconds.",
			&m->lag);
	metrics_write_family(out, "dunghan_uptime_seconds", "gauge",
			     "Seconds since dunghand started.");
	fprintf(out, "dunghan_uptime_seconds %.3f\n",
		(double)(uv_hrtime() - m->started) / 1e9);
	return ferror(out) ? -1 : 0;
}
