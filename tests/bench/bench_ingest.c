/* bench_ingest: how fast dunghand takes in one-stop cases, against what SQLite alone can do.
 *
 * Starts the real dunghand (temporary directory and database, the example office; see
 * tests/support/api_fixture.h) and registers N cases (default 200000; -n N or BENCH_N):
 *   1. one POST /api/v1/cases per case, over C kept-alive connections (default 32, -c C), one
 *      blocking client per thread;
 *   2. on a fresh daemon, POST /api/v1/cases:batch with B lines per request (default 1000, -b B)
 *      over the same number of connections.
 * Each prints acknowledged cases per second (a 2xx is only sent after the commit), the p50,
 * p99 and maximum latency of one request, and dunghand's CPU per case; -S or -B runs one
 * phase only. Then the same rows are inserted straight into SQLite (WAL, synchronous=FULL,
 * a table with the daemon's case columns and a unique index on code), one thread, committing
 * every 1, 32 and B rows, and once more with an event row per case as the daemon writes; each
 * raw run stops after N rows or 10 s. Ratios compare the API with the raw runs of the same
 * commit size: single POSTs (group-committed by the daemon, at most C per commit) against
 * 32-row commits, batches against B-row commits.
 * Targets: >= 20000 single POSTs/s; the batch path within 2x of raw SQLite (ratio >= 0.5).
 * Exit status: 0, or 1 when a request failed or dunghand did not stop cleanly. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api_fixture.h"

#define RAW_SECONDS 10.0

struct run {
	struct api_fixture *f;
	size_t n;          /* cases */
	size_t batch;      /* lines per request; 0: single POSTs */
	size_t requests;   /* n, or ceil(n / batch) */
	atomic_size_t next; /* the next request to send */
	atomic_size_t acked; /* cases acknowledged */
	atomic_size_t failed; /* requests that failed */
	uint64_t *latency_ns; /* per request */
	char first_error[512];
	pthread_mutex_t lock;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One case line (no newline) for case number i. */
static int case_json(char *buf, size_t n, const char *prefix, size_t i)
{
	static const char *const units[] = { "ttphvhcc", "hctc", "kstt", "xa-tu-phap-tan-phu" };
	static const char *const procs[] = { "1.004873", "1.004222", "2.000815", "3.000333" };

	return snprintf(buf, n,
			"{\"code\":\"%s-%08zu\",\"procedure\":\"%s\",\"unit\":\"%s\","
			"\"applicant\":\"Nguyễn Văn %zu\",\"received_at\":\"2024-03-%02zuT%02zu:%02zu:00+07:00\","
			"\"online\":\"full\",\"paid_online\":true}",
			prefix, i, procs[i % 4], units[(i / 4) % 4], i, 1 + i % 28, 7 + i % 10, i % 60);
}

static void fail(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct run *r, const char *fmt, ...)
{
	va_list ap;

	atomic_fetch_add(&r->failed, 1);
	pthread_mutex_lock(&r->lock);
	if (!r->first_error[0]) {
		va_start(ap, fmt);
		vsnprintf(r->first_error, sizeof(r->first_error), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&r->lock);
}

static void *worker(void *arg)
{
	struct run *r = arg;
	struct http_client_response resp = { 0 };
	struct http_client *c = NULL;
	struct err e = { 0 };
	size_t cap = (r->batch ? r->batch : 1) * 320 + 64;
	char *body = malloc(cap);
	static const char *const json[] = { "Authorization: Bearer " API_MOTCUA,
					    "Content-Type: application/json", NULL };
	static const char *const ndjson[] = { "Authorization: Bearer " API_MOTCUA,
					      "Content-Type: application/x-ndjson", NULL };

	if (!body) {
		fail(r, "out of memory");
		return NULL;
	}
	for (;;) {
		size_t k = atomic_fetch_add(&r->next, 1), len = 0, lines = 1;
		if (k >= r->requests)
			break;
		if (!c && !(c = api_connect(r->f, 60000, &e))) {
			fail(r, "connect: %s", e.msg);
			continue;
		}
		if (r->batch) {
			size_t from = k * r->batch, to = from + r->batch < r->n ? from + r->batch : r->n;
			lines = to - from;
			for (size_t i = from; i < to; i++) {
				len += (size_t)case_json(body + len, cap - len, "BATCH", i);
				body[len++] = '\n';
			}
		} else {
			len = (size_t)case_json(body, cap, "POST", k);
		}
		uint64_t t0 = now_ns();
		int rc = http_client_request(c, "POST", r->batch ? "/api/v1/cases:batch" : "/api/v1/cases",
					     r->batch ? ndjson : json, body, len, &resp, &e);
		r->latency_ns[k] = now_ns() - t0;
		if (rc != 0) {
			fail(r, "request %zu: %s", k, e.msg);
			http_client_free(c);
			c = NULL;
			continue;
		}
		if (r->batch) {
			json_t *j = json_loadb(resp.body, resp.body_len, 0, NULL);
			json_t *created = j ? json_object_get(j, "created") : NULL;
			if (resp.status != 200 || !json_is_integer(created) ||
			    (size_t)json_integer_value(created) != lines)
				fail(r, "batch %zu: %d %.300s", k, resp.status, resp.body);
			else
				atomic_fetch_add(&r->acked, lines);
			if (j)
				json_decref(j);
		} else if (resp.status != 201) {
			fail(r, "case %zu: %d %.300s", k, resp.status, resp.body);
		} else {
			atomic_fetch_add(&r->acked, 1);
		}
		const char *conn = http_client_header(&resp, "Connection");
		if (conn && !strcasecmp(conn, "close")) {
			http_client_free(c);
			c = NULL;
		}
	}
	http_client_response_free(&resp);
	http_client_free(c);
	free(body);
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Runs one API phase on a fresh dunghand; returns acknowledged cases per second, or -1. */
static double api_phase(const char *label, size_t n, size_t batch, size_t conns, int *bad)
{
	struct api_fixture f;
	struct run r = { .f = &f, .n = n, .batch = batch };
	struct err e = { 0 };
	pthread_t *th = calloc(conns, sizeof(*th));
	double rate = -1;

	pthread_mutex_init(&r.lock, NULL);
	r.requests = batch ? (n + batch - 1) / batch : n;
	r.latency_ns = calloc(r.requests, sizeof(*r.latency_ns));
	if (!th || !r.latency_ns) {
		fprintf(stderr, "%s: out of memory\n", label);
		*bad = 1;
		goto out;
	}
	if (api_fixture_start(&f, &(struct api_options){ .log_level = "warn" }, &e) != 0) {
		fprintf(stderr, "%s: %s\n", label, e.msg);
		*bad = 1;
		api_fixture_close(&f);
		goto out;
	}
	double cpu0 = harness_cpu_seconds(f.proc.pid);
	uint64_t t0 = now_ns();
	for (size_t i = 0; i < conns; i++)
		pthread_create(&th[i], NULL, worker, &r);
	for (size_t i = 0; i < conns; i++)
		pthread_join(th[i], NULL);
	double s = (double)(now_ns() - t0) / 1e9;
	size_t acked = atomic_load(&r.acked), failed = atomic_load(&r.failed);
	double cpu = harness_cpu_seconds(f.proc.pid) - cpu0;

	qsort(r.latency_ns, r.requests, sizeof(*r.latency_ns), cmp_u64);
	rate = (double)acked / s;
	printf("%-42s %9zu cases in %7.2f s = %9.0f cases/s; per request p50 %7.2f ms, p99 %7.2f "
	       "ms, max %7.2f ms\n",
	       label, acked, s, rate, (double)r.latency_ns[r.requests / 2] / 1e6,
	       (double)r.latency_ns[r.requests * 99 / 100] / 1e6,
	       (double)r.latency_ns[r.requests - 1] / 1e6);
	printf("  dunghand used %.2f CPU-seconds (%.0f%% of one core; %.1f us per case); the "
	       "clients share the same %ld cores\n",
	       cpu, 100 * cpu / s, acked ? 1e6 * cpu / (double)acked : 0, sysconf(_SC_NPROCESSORS_ONLN));
	if (failed) {
		printf("  %zu requests FAILED; first: %s\n", failed, r.first_error);
		*bad = 1;
	}
	if (api_fixture_stop(&f, &e) != 0) {
		printf("  dunghand did not stop cleanly: %s\n", e.msg);
		*bad = 1;
	}
	api_fixture_close(&f);
out:
	pthread_mutex_destroy(&r.lock);
	free(r.latency_ns);
	free(th);
	return rate;
}

/* ---- raw SQLite --------------------------------------------------------------------------- */

static const char raw_schema[] =
	"PRAGMA journal_mode = WAL;"
	"PRAGMA synchronous = FULL;"
	"CREATE TABLE cases (id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE, procedure TEXT NOT "
	"NULL, unit_id TEXT NOT NULL, handler_id TEXT, applicant TEXT, received_at INTEGER NOT "
	"NULL, due_at INTEGER NOT NULL, due_given INTEGER NOT NULL, online TEXT NOT NULL, "
	"paid_online INTEGER NOT NULL, digitized INTEGER NOT NULL, status TEXT NOT NULL, outcome "
	"TEXT, late INTEGER NOT NULL DEFAULT 0, paused_at INTEGER, remaining INTEGER, completed_at "
	"INTEGER, ended_at INTEGER, version INTEGER NOT NULL, create_hash BLOB NOT NULL, created_at "
	"INTEGER NOT NULL, updated_at INTEGER NOT NULL) STRICT;"
	"CREATE INDEX cases_due ON cases (due_at, id);"
	"CREATE TABLE events (id INTEGER PRIMARY KEY, item_kind TEXT NOT NULL, item_id INTEGER NOT "
	"NULL, type TEXT NOT NULL, at INTEGER NOT NULL, actor TEXT NOT NULL, data TEXT NOT NULL, "
	"due_at INTEGER, recorded_at INTEGER NOT NULL) STRICT;"
	"CREATE INDEX events_item ON events (item_kind, item_id, id);";

/* Inserts up to n rows committing every `batch`, for at most RAW_SECONDS; returns rows/s. */
static double raw_phase(const char *dir, size_t n, size_t batch, bool events, int *bad)
{
	char path[700], label[80];
	sqlite3 *db = NULL;
	sqlite3_stmt *ins = NULL, *ev = NULL;
	unsigned char hash[32] = { 0 };
	double rate = -1;
	size_t done = 0;

	snprintf(path, sizeof(path), "%s/raw-%zu-%d.db", dir, batch, events);
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, raw_schema, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "INSERT INTO cases (code, procedure, unit_id, applicant, received_at, "
			       "due_at, due_given, online, paid_online, digitized, status, version, "
			       "create_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 0, "
			       "'full', 1, 0, 'received', 1, ?, ?, ?)",
			       -1, &ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "INSERT INTO events (item_kind, item_id, type, at, actor, data, due_at, "
			       "recorded_at) VALUES ('case', ?, 'create', ?, 'motcua', ?, ?, ?)",
			       -1, &ev, NULL) != SQLITE_OK) {
		fprintf(stderr, "raw sqlite: %s\n", sqlite3_errmsg(db));
		*bad = 1;
		goto out;
	}
	uint64_t t0 = now_ns();
	double s = 0;
	char code[40], applicant[40], data[160];
	while (done < n && s < RAW_SECONDS) {
		if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
			break;
		for (size_t k = 0; k < batch && done < n; k++, done++) {
			int64_t at = 1709258400 + (int64_t)done, due = at + 3 * 86400;
			snprintf(code, sizeof(code), "RAW-%08zu", done);
			snprintf(applicant, sizeof(applicant), "Nguyễn Văn %zu", done);
			hash[0] = (unsigned char)done;
			hash[1] = (unsigned char)(done >> 8);
			hash[2] = (unsigned char)(done >> 16);
			sqlite3_bind_text(ins, 1, code, -1, SQLITE_STATIC);
			sqlite3_bind_text(ins, 2, "1.004873", -1, SQLITE_STATIC);
			sqlite3_bind_text(ins, 3, "ttphvhcc", -1, SQLITE_STATIC);
			sqlite3_bind_text(ins, 4, applicant, -1, SQLITE_STATIC);
			sqlite3_bind_int64(ins, 5, at);
			sqlite3_bind_int64(ins, 6, due);
			sqlite3_bind_blob(ins, 7, hash, sizeof(hash), SQLITE_STATIC);
			sqlite3_bind_int64(ins, 8, at);
			sqlite3_bind_int64(ins, 9, at);
			if (sqlite3_step(ins) != SQLITE_DONE)
				goto fail;
			sqlite3_reset(ins);
			if (events) {
				snprintf(data, sizeof(data),
					 "{\"code\":\"%s\",\"procedure\":\"1.004873\",\"unit\":"
					 "\"ttphvhcc\"}",
					 code);
				sqlite3_bind_int64(ev, 1, sqlite3_last_insert_rowid(db));
				sqlite3_bind_int64(ev, 2, at);
				sqlite3_bind_text(ev, 3, data, -1, SQLITE_STATIC);
				sqlite3_bind_int64(ev, 4, due);
				sqlite3_bind_int64(ev, 5, at);
				if (sqlite3_step(ev) != SQLITE_DONE)
					goto fail;
				sqlite3_reset(ev);
			}
		}
		if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			goto fail;
		s = (double)(now_ns() - t0) / 1e9;
	}
	rate = (double)done / s;
	snprintf(label, sizeof(label), "raw SQLite, %zu row%s/commit%s", batch, batch == 1 ? "" : "s",
		 events ? " + event rows" : "");
	printf("%-42s %9zu cases in %7.2f s = %9.0f cases/s\n", label, done, s, rate);
	goto out;
fail:
	fprintf(stderr, "raw sqlite: %s\n", sqlite3_errmsg(db));
	*bad = 1;
out:
	sqlite3_finalize(ins);
	sqlite3_finalize(ev);
	sqlite3_close(db);
	return rate;
}

static size_t parse_size(const char *s, const char *what)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v == 0) {
		fprintf(stderr, "bench_ingest: %s: expected a positive integer, got \"%s\"\n", what, s);
		exit(2);
	}
	return (size_t)v;
}

int main(int argc, char **argv)
{
	size_t n = 200000, conns = 32, batch = 1000;
	bool raw = true, do_single = true, do_batch = true;
	int bad = 0, opt;
	const char *env = getenv("BENCH_N");
	struct harness h;

	if (env && *env)
		n = parse_size(env, "BENCH_N");
	while ((opt = getopt(argc, argv, "n:c:b:RSBh")) != -1) {
		switch (opt) {
		case 'n': n = parse_size(optarg, "-n"); break;
		case 'c': conns = parse_size(optarg, "-c"); break;
		case 'b': batch = parse_size(optarg, "-b"); break;
		case 'R': raw = false; break;
		case 'S': do_batch = false; break;
		case 'B': do_single = false; break;
		default:
			fprintf(opt == 'h' ? stdout : stderr,
				"Usage: bench_ingest [-n CASES] [-c CONNECTIONS] [-b LINES] [-R] "
				"[-S | -B]\n"
				"  -n  cases per phase (default 200000, or $BENCH_N)\n"
				"  -c  concurrent kept-alive connections (default 32)\n"
				"  -b  lines per POST /api/v1/cases:batch (default 1000, at most 10000)\n"
				"  -R  skip the raw SQLite baseline\n"
				"  -S  single POSTs only; -B  batches only (to profile a path)\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (batch > 10000) {
		fprintf(stderr, "bench_ingest: -b: at most 10000 lines per batch\n");
		return 2;
	}
	printf("bench_ingest: %zu cases per phase, %zu connections, batches of %zu; dunghand %s\n",
	       n, conns, batch, harness_dunghand());

	char label[80];
	snprintf(label, sizeof(label), "POST /cases x%zu conns", conns);
	double single = do_single ? api_phase(label, n, 0, conns, &bad) : -1;
	snprintf(label, sizeof(label), "POST /cases:batch of %zu x%zu", batch, conns);
	double batched = do_batch ? api_phase(label, n, batch, conns, &bad) : -1;
	if (!raw)
		return bad;

	if (harness_init(&h) != 0) {
		fprintf(stderr, "bench_ingest: cannot make a temporary directory\n");
		return 1;
	}
	double raw1 = raw_phase(h.dir, n, 1, false, &bad);
	double raw32 = raw_phase(h.dir, n, 32, false, &bad);
	double rawb = raw_phase(h.dir, n, batch, false, &bad);
	double raw32e = raw_phase(h.dir, n, 32, true, &bad);
	double rawbe = raw_phase(h.dir, n, batch, true, &bad);
	harness_close(&h);

	printf("\nratios (API / raw SQLite with the same commit size):\n");
	if (single > 0 && raw32 > 0)
		printf("  single POSTs / raw 32 rows/commit:              %6.3f (with event rows %6.3f); "
		       "/ raw 1 row/commit %6.2f\n",
		       single / raw32, raw32e > 0 ? single / raw32e : 0, raw1 > 0 ? single / raw1 : 0);
	if (batched > 0 && rawb > 0)
		printf("  batch / raw %zu rows/commit:                   %6.3f (with event rows %6.3f)\n",
		       batch, batched / rawb, rawbe > 0 ? batched / rawbe : 0);
	printf("targets:\n");
	printf("  single POSTs >= 20000 cases/s:                  %s (%.0f)\n",
	       single >= 20000 ? "met" : "NOT MET", single);
	printf("  batch within 2x of raw SQLite (ratio >= 0.5):   %s (%.3f)\n",
	       batched > 0 && rawb > 0 && batched / rawb >= 0.5 ? "met" : "NOT MET",
	       rawb > 0 ? batched / rawb : 0);
	return bad;
}
