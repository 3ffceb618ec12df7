/* bench_scheduler: the deadline engine under a burst — many open cases, a large share of them
 * crossing a rule in the same second — and the daemon's memory against the number of open items.
 *
 * For each run, a temporary directory gets a config with a round-the-clock calendar (seven days,
 * office_hours "00:00-24:00", no statutory holidays, so that any second of the day is working
 * time), one unit with a head, one procedure and one case rule, `due` notifying the head by
 * e-mail. dunghand is started once to create and migrate the database, and stopped; then N open
 * cases and their watch rows are written straight into SQLite in transactions of 100000 rows
 * (as the daemon would have left them: watch.next_fire_at = the due instant), of which K, spread
 * evenly, are due at T = the daemon's start + W seconds (-w, default 15) and the others a year
 * later. dunghand is started again; after READY=1 and one answered GET /healthz its VmRSS is read
 * from /proc/<pid>/status. Then GET /healthz is sent in a loop on a kept-alive connection (1 ms
 * between an answer and the next request), timing each answer, while a separate read-only
 * SQLite connection counts the alerts every 5 ms, until K alerts are written (or 600 s pass).
 *
 * Printed: the setup time; the time from T until all K alerts were written (the timer fires
 * within the second after T: the daemon sleeps in whole seconds) and from the first alert seen
 * to the last; the p50, p99 and maximum latency of GET /healthz sent from T to the last alert,
 * as measured and corrected for coordinated omission (a prober that waits out a stall of L ms
 * also stands for the requests a client sending every 1 ms would have sent meanwhile); the
 * daemon's CPU time per alert; VmRSS at READY and after the burst, and the peak (VmHWM). A
 * baseline run does the same with B open cases (-b, default 1000) of which K x B / N cross (at
 * least 1), and the RSS of the two runs is compared.
 * Targets (the issue): /healthz p99 (corrected) < 50 ms during the burst; VmRSS at READY with N
 * open cases within 16 MiB of that with B (the figure after the burst is shown beside it).
 *
 * Sizes: -n N -k K, default 20000 and 2000 (a quick run); the sizes are
 * `bench_scheduler -n 1000000 -k 100000`. The dunghand under test is $DUNGHAND, else the build
 * tree's; measure a build without sanitizers.
 * Exit status: 0, or 1 when a run failed (setup, alerts missing, dunghand not stopping cleanly). */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "err.h"
#include "harness.h"
#include "http_client.h"

#define PROG "bench_scheduler"

#define READY_BOUND_MS 60000
#define STOP_BOUND_MS 60000
#define BURST_BOUND_S 600
#define COUNT_EVERY_MS 5
#define POLL_GAP_US 1000
#define PROBE_TIMEOUT_MS 300000 /* a stalled loop is measured, not failed */
#define ROWS_PER_COMMIT 100000
#define YEAR_S (365 * 86400)

struct options {
	size_t n, k, baseline;
	int wait_s;
	const char *log_level;
};

/* What one run measured. */
struct result {
	size_t n, k;
	double setup_s;            /* creating, migrating and filling the database */
	double db_mib;             /* its size */
	double ready_s;            /* from spawn to READY=1 */
	long rss_ready_kib, rss_after_kib, hwm_kib;
	double first_s, all_s;     /* from T to the first alert seen, to all k */
	size_t alerts, outbox;
	size_t samples, burst_samples;
	double p50_ms, p99_ms, max_ms;             /* during the burst */
	double cp50_ms, cp99_ms;                   /* the same, corrected for coordinated omission */
	double all_p50_ms, all_p99_ms, all_max_ms; /* the whole run */
	double cpu_s;              /* dunghand's CPU seconds from T to the last alert */
	bool ok;
};

static double wall_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* A "VmXXX:" figure of /proc/<pid>/status in KiB, or -1. */
static long proc_status_kib(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* p50, p99 and max of v[0..n) (sorted in place); zeros when n == 0. */
static void percentiles(double *v, size_t n, double *p50, double *p99, double *max)
{
	*p50 = *p99 = *max = 0;
	if (!n)
		return;
	qsort(v, n, sizeof(*v), cmp_double);
	*p50 = v[n / 2];
	*p99 = v[n * 99 / 100];
	*max = v[n - 1];
}

/* The single integer answer of a prepared count, or -1. */
static int64_t count_rows(sqlite3 *db, sqlite3_stmt *s)
{
	int64_t v = -1;

	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	else
		fprintf(stderr, "bench_scheduler: count: %s\n", sqlite3_errmsg(db));
	sqlite3_reset(s);
	return v;
}

/* The alert counter: a thread with its own read-only connection, so that a stalled /healthz
 * does not delay the count. Its results are read after pthread_join. */
struct counter {
	const char *db;
	size_t k;
	double deadline;          /* wall clock */
	atomic_bool stop;         /* set by the prober when it gives up */
	atomic_bool finished;     /* set by the thread as it ends */
	int64_t alerts;
	double first_at, done_at; /* wall clock when seen; -1: not seen */
	bool failed;
};

static void *count_alerts(void *arg)
{
	struct counter *ct = arg;
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;

	if (sqlite3_open_v2(ct->db, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(db, 5000) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM alerts", -1, &s, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench_scheduler: read-only %s: %s\n", ct->db, sqlite3_errmsg(db));
		ct->failed = true;
		goto out;
	}
	while (!atomic_load(&ct->stop)) {
		int64_t v = count_rows(db, s);
		double now = wall_s();

		if (v < 0) {
			ct->failed = true;
			break;
		}
		ct->alerts = v;
		if (v > 0 && ct->first_at < 0)
			ct->first_at = now;
		if ((size_t)v >= ct->k) {
			ct->done_at = now;
			break;
		}
		if (now > ct->deadline) {
			fprintf(stderr, "bench_scheduler: only %lld of %zu alerts after %d s\n",
				(long long)v, ct->k, BURST_BOUND_S);
			break;
		}
		sleep_us(COUNT_EVERY_MS * 1000);
	}
out:
	sqlite3_finalize(s);
	sqlite3_close(db);
	atomic_store(&ct->finished, true);
	return NULL;
}

struct sample {
	double at; /* wall clock when sent, seconds */
	double ms; /* latency */
};

/* p50 and p99 of the samples sent in [from, to] as a client sending every POLL_GAP_US would have
 * seen them: the one prober waits while the daemon stalls, so a stall of L ms also stands for
 * the requests that would have arrived during it, L - gap, L - 2 gap, ... (HdrHistogram's
 * correction for coordinated omission). Returns 0 or -1 (out of memory). */
static int corrected_percentiles(const struct sample *s, size_t n, double from, double to,
				 double *p50, double *p99)
{
	const double gap = POLL_GAP_US / 1000.0;
	size_t cap = 0, m = 0;
	double *v, max;

	for (size_t i = 0; i < n; i++)
		if (s[i].at >= from && s[i].at <= to)
			cap += 1 + (s[i].ms > gap ? (size_t)(s[i].ms / gap) : 0);
	if (!(v = malloc((cap ? cap : 1) * sizeof(*v))))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i].at < from || s[i].at > to)
			continue;
		v[m++] = s[i].ms;
		for (double l = s[i].ms - gap; l > gap && m < cap; l -= gap)
			v[m++] = l;
	}
	percentiles(v, m, p50, p99, &max);
	free(v);
	return 0;
}

static int write_config(struct harness *h, int port, const char *db, const char *log_level)
{
	char *text;
	int rc;

	if (asprintf(&text,
		     "# written by tests/bench/bench_scheduler.c\n"
		     "server: { listen = \"127.0.0.1:%d\"; };\n"
		     "database: { path = \"%s\"; };\n"
		     "log: { level = \"%s\"; };\n"
		     "calendar: {\n"
		     "  timezone = \"Asia/Ho_Chi_Minh\";\n"
		     "  week = [\"sun\", \"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\"];\n"
		     "  office_hours = [\"00:00-24:00\"];\n"
		     "  statutory_holidays = false;\n"
		     "};\n"
		     "escalation: {\n"
		     "  templates = \"" DUNGHAN_SOURCE_DIR "/config/templates\";\n"
		     "  cases = ( { id = \"due\"; when = \"due\"; notify = [\"head\"]; } );\n"
		     "};\n"
		     "units = ( { id = \"bench\"; name = \"Phòng thử tải\"; level = \"office\"; "
		     "head = \"head.bench\"; } );\n"
		     "people = ( { id = \"head.bench\"; name = \"Nguyễn Văn Trưởng\"; title = \"Ông\"; "
		     "email = \"head.bench@example.org\"; unit = \"bench\"; } );\n"
		     "procedures = ( { code = \"B.001\"; name = \"Thủ tục thử tải\"; days = 5; "
		     "on_resume = \"continue\"; } );\n",
		     port, db, log_level) < 0)
		return -1;
	rc = harness_write(h, "dunghan.conf", text);
	free(text);
	return rc;
}

/* Starts dunghand -c conf and waits for the next READY=1 after *notify_pos. */
static int start_daemon(struct harness *h, struct harness_proc *p, const char *conf,
			size_t *notify_pos, double *ready_s)
{
	char *argv[] = { (char *)harness_dunghand(), "-c", (char *)conf, NULL };
	double t0 = bench_mono_s();

	if (harness_spawn(h, p, argv, NULL, "dunghand.log") != 0) {
		fprintf(stderr, "bench_scheduler: cannot start %s\n", argv[0]);
		return -1;
	}
	if (!harness_notify_wait(h, "READY=1", notify_pos, READY_BOUND_MS)) {
		fprintf(stderr, "bench_scheduler: no READY=1 within %d ms (log in %s)\n",
			READY_BOUND_MS, p->stderr_path);
		harness_kill(p);
		return -1;
	}
	if (ready_s)
		*ready_s = bench_mono_s() - t0;
	return 0;
}

/* SIGTERM, then expects exit status 0 and a log without sanitizer reports. */
static int stop_daemon(struct harness_proc *p)
{
	harness_signal(p, SIGTERM);
	int rc = harness_wait(p, STOP_BOUND_MS);
	char *log = harness_read(p->stderr_path);
	bool san = log && (strstr(log, "Sanitizer") || strstr(log, "runtime error"));

	free(log);
	if (rc != 0 || san) {
		fprintf(stderr, "bench_scheduler: dunghand %s (log in %s)\n",
			rc != 0 ? "did not exit with status 0" : "reported a sanitizer error",
			p->stderr_path);
		if (rc < 0)
			harness_kill(p);
		return -1;
	}
	return 0;
}

static int exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "bench_scheduler: %s: %s\n", sql, msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* Whether case i (1-based) of n is one of the k that cross: k spread evenly. */
static bool crosses(size_t i, size_t n, size_t k)
{
	return (i * k) / n != ((i - 1) * k) / n;
}

/* Writes n open cases and their watch rows; the crossing ones are due at `soon` for now (moved
 * to T by arm_crossing), the others a year after. */
static int fill(const char *path, size_t n, size_t k, int64_t start)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *c = NULL, *w = NULL;
	char code[40], applicant[48];
	int rc = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench_scheduler: %s: %s\n", path, sqlite3_errmsg(db));
		goto out;
	}
	if (exec(db, "PRAGMA synchronous = OFF; PRAGMA cache_size = -262144") != 0)
		goto out;
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO cases (id, code, procedure, unit_id, handler_id, applicant, "
			       "received_at, due_at, due_given, online, paid_online, digitized, status, "
			       "version, create_hash, created_at, updated_at) VALUES (?1, ?2, 'B.001', "
			       "'bench', NULL, ?3, ?4, ?5, 0, 'none', 0, 0, 'received', 1, zeroblob(32), "
			       "?4, ?4)",
			       -1, &c, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "INSERT INTO watch (item_kind, item_id, due_at, next_fire_at, "
			       "checked_until) VALUES ('case', ?1, ?2, ?2, NULL)",
			       -1, &w, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench_scheduler: prepare: %s\n", sqlite3_errmsg(db));
		goto out;
	}
	for (size_t i = 1; i <= n; i++) {
		int64_t due = crosses(i, n, k) ? start + 3600 : start + YEAR_S + (int64_t)(i % 86400);

		if ((i - 1) % ROWS_PER_COMMIT == 0 && exec(db, "BEGIN") != 0)
			goto out;
		snprintf(code, sizeof(code), "000.00.99.H99-240101-%07zu", i);
		snprintf(applicant, sizeof(applicant), "Nguyễn Văn %zu", i);
		sqlite3_bind_int64(c, 1, (int64_t)i);
		sqlite3_bind_text(c, 2, code, -1, SQLITE_STATIC);
		sqlite3_bind_text(c, 3, applicant, -1, SQLITE_STATIC);
		sqlite3_bind_int64(c, 4, start - 86400 + (int64_t)(i % 3600));
		sqlite3_bind_int64(c, 5, due);
		sqlite3_bind_int64(w, 1, (int64_t)i);
		sqlite3_bind_int64(w, 2, due);
		if (sqlite3_step(c) != SQLITE_DONE || sqlite3_step(w) != SQLITE_DONE) {
			fprintf(stderr, "bench_scheduler: insert case %zu: %s\n", i, sqlite3_errmsg(db));
			goto out;
		}
		sqlite3_reset(c);
		sqlite3_reset(w);
		if ((i % ROWS_PER_COMMIT == 0 || i == n) && exec(db, "COMMIT") != 0)
			goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(c);
	sqlite3_finalize(w);
	if (db && rc == 0)
		rc = exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	sqlite3_close(db);
	return rc;
}

/* Moves the crossing cases' due (and their watch) from `soon` to t. */
static int arm_crossing(const char *path, int64_t soon, int64_t t)
{
	sqlite3 *db = NULL;
	char sql[400];
	int rc = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench_scheduler: %s: %s\n", path, sqlite3_errmsg(db));
		goto out;
	}
	snprintf(sql, sizeof(sql),
		 "PRAGMA synchronous = OFF; PRAGMA cache_size = -262144; BEGIN; "
		 "UPDATE cases SET due_at = %lld WHERE due_at = %lld; "
		 "UPDATE watch SET due_at = %lld, next_fire_at = %lld WHERE due_at = %lld; COMMIT; "
		 "PRAGMA wal_checkpoint(TRUNCATE)",
		 (long long)t, (long long)soon, (long long)t, (long long)t, (long long)soon);
	rc = exec(db, sql);
out:
	sqlite3_close(db);
	return rc;
}

/* One run: n open cases, k of them crossing the rule at the same second. */
static int run(const struct options *o, size_t n, size_t k, struct result *r)
{
	struct harness h;
	struct harness_proc p = { .pid = 0, .pidfd = -1 };
	char conf[600], db[600];
	size_t pos = 0, cap = 1 << 16, ns = 0;
	struct sample *samples = malloc(cap * sizeof(*samples));
	double *ms = NULL;
	sqlite3 *ro = NULL;
	sqlite3_stmt *count_outbox = NULL;
	struct http_client *c = NULL;
	struct http_client_response resp = { 0 };
	struct err e = { 0 };
	bool running = false;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	r->n = n;
	r->k = k;
	r->first_s = r->all_s = -1;
	h.notify_fd = -1;
	if (!samples || harness_init(&h) != 0) {
		fprintf(stderr, "bench_scheduler: cannot make a temporary directory\n");
		free(samples);
		return -1;
	}
	harness_path(&h, "dunghan.conf", conf, sizeof(conf));
	harness_path(&h, "dunghan.db", db, sizeof(db));
	int port = harness_free_port();
	if (port <= 0 || write_config(&h, port, db, o->log_level) != 0) {
		fprintf(stderr, "bench_scheduler: cannot write the config\n");
		goto out;
	}

	/* The database: migrated by the daemon itself, then filled offline. */
	double t0 = bench_mono_s();
	if (start_daemon(&h, &p, conf, &pos, NULL) != 0)
		goto out;
	running = true;
	if (stop_daemon(&p) != 0)
		goto out;
	running = false;
	int64_t start = (int64_t)time(NULL), soon = start + 3600;
	if (fill(db, n, k, start) != 0)
		goto out;
	int64_t t = (int64_t)time(NULL) + o->wait_s;
	if (arm_crossing(db, soon, t) != 0)
		goto out;
	struct stat sb;
	r->db_mib = stat(db, &sb) == 0 ? (double)sb.st_size / 1048576.0 : 0;
	r->setup_s = bench_mono_s() - t0;
	if ((double)t < wall_s() + 5) {
		fprintf(stderr, "bench_scheduler: -w %d s is too short: setting T took too long\n",
			o->wait_s);
		goto out;
	}

	/* The run. */
	if (start_daemon(&h, &p, conf, &pos, &r->ready_s) != 0)
		goto out;
	running = true;
	if (!(c = http_client_connect("127.0.0.1", port, PROBE_TIMEOUT_MS, &e)) ||
	    http_client_request(c, "GET", "/healthz", NULL, NULL, 0, &resp, &e) != 0 ||
	    resp.status != 200) {
		fprintf(stderr, "bench_scheduler: GET /healthz: %s\n", e.msg[0] ? e.msg : resp.reason);
		goto out;
	}
	r->rss_ready_kib = proc_status_kib(p.pid, "VmRSS");
	if (sqlite3_open_v2(db, &ro, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(ro, 5000) != SQLITE_OK ||
	    sqlite3_prepare_v2(ro, "SELECT count(*) FROM outbox", -1, &count_outbox, NULL) !=
		    SQLITE_OK) {
		fprintf(stderr, "bench_scheduler: read-only %s: %s\n", db, sqlite3_errmsg(ro));
		goto out;
	}

	struct counter ct = { .db = db, .k = k, .deadline = (double)t + BURST_BOUND_S,
			      .first_at = -1, .done_at = -1 };
	pthread_t counter;
	double cpu0 = -1;

	atomic_init(&ct.stop, false);
	atomic_init(&ct.finished, false);
	if (pthread_create(&counter, NULL, count_alerts, &ct) != 0) {
		fprintf(stderr, "bench_scheduler: cannot start the counting thread\n");
		goto out;
	}
	bool probe_failed = false;
	while (!atomic_load(&ct.finished)) {
		double now = wall_s();
		if (cpu0 < 0 && now >= (double)t)
			cpu0 = harness_cpu_seconds(p.pid);
		double a = bench_mono_s();
		if (http_client_request(c, "GET", "/healthz", NULL, NULL, 0, &resp, &e) != 0 ||
		    resp.status != 200) {
			fprintf(stderr, "bench_scheduler: GET /healthz: %s\n",
				e.msg[0] ? e.msg : resp.reason);
			probe_failed = true;
			break;
		}
		if (ns == cap) {
			struct sample *more = realloc(samples, 2 * cap * sizeof(*samples));
			if (!more) {
				probe_failed = true;
				break;
			}
			samples = more;
			cap *= 2;
		}
		samples[ns++] = (struct sample){ now, (bench_mono_s() - a) * 1000.0 };
		const char *conn = http_client_header(&resp, "Connection");
		if (conn && !strcasecmp(conn, "close")) {
			http_client_free(c);
			if (!(c = http_client_connect("127.0.0.1", port, PROBE_TIMEOUT_MS, &e))) {
				fprintf(stderr, "bench_scheduler: reconnect: %s\n", e.msg);
				probe_failed = true;
				break;
			}
		}
		sleep_us(POLL_GAP_US);
	}
	atomic_store(&ct.stop, true);
	pthread_join(counter, NULL);
	if (probe_failed || ct.failed)
		goto out;
	double first_at = ct.first_at, done_at = ct.done_at;
	int64_t alerts = ct.alerts;
	r->cpu_s = cpu0 >= 0 ? harness_cpu_seconds(p.pid) - cpu0 : -1;
	r->rss_after_kib = proc_status_kib(p.pid, "VmRSS");
	r->hwm_kib = proc_status_kib(p.pid, "VmHWM");
	r->alerts = (size_t)(alerts > 0 ? alerts : 0);
	int64_t outbox = count_rows(ro, count_outbox);
	r->outbox = (size_t)(outbox > 0 ? outbox : 0);
	r->first_s = first_at >= 0 ? first_at - (double)t : -1;
	r->all_s = done_at >= 0 ? done_at - (double)t : -1;

	/* Latencies: during the burst (from T, or the first alert seen if earlier, to the last),
	 * as measured and corrected, and over the whole run. */
	if (!(ms = malloc((ns ? ns : 1) * sizeof(*ms))))
		goto out;
	double from = first_at >= 0 && first_at < (double)t ? first_at : (double)t;
	double to = done_at >= 0 ? done_at : wall_s();
	size_t nb = 0;
	for (size_t i = 0; i < ns; i++)
		if (samples[i].at >= from && samples[i].at <= to)
			ms[nb++] = samples[i].ms;
	r->burst_samples = nb;
	percentiles(ms, nb, &r->p50_ms, &r->p99_ms, &r->max_ms);
	if (corrected_percentiles(samples, ns, from, to, &r->cp50_ms, &r->cp99_ms) != 0)
		goto out;
	for (size_t i = 0; i < ns; i++)
		ms[i] = samples[i].ms;
	r->samples = ns;
	percentiles(ms, ns, &r->all_p50_ms, &r->all_p99_ms, &r->all_max_ms);
	rc = done_at >= 0 && r->outbox >= k ? 0 : -1;
	if (done_at >= 0 && r->outbox < k)
		fprintf(stderr, "bench_scheduler: %zu alerts but only %zu outbox rows\n", r->alerts,
			r->outbox);
out:
	http_client_response_free(&resp);
	http_client_free(c);
	sqlite3_finalize(count_outbox);
	sqlite3_close(ro);
	if (running && stop_daemon(&p) != 0)
		rc = -1;
	harness_kill(&p);
	harness_close(&h);
	free(samples);
	free(ms);
	r->ok = rc == 0;
	return rc;
}

static void print_result(const char *label, const struct result *r)
{
	printf("%-9s %8zu open cases, %7zu crossing: database %.1f MiB written in %.1f s; READY "
	       "in %.2f s\n",
	       label, r->n, r->k, r->db_mib, r->setup_s, r->ready_s);
	if (r->all_s >= 0 && r->all_s - r->first_s >= COUNT_EVERY_MS / 1000.0)
		printf("  alerts: first seen %.2f s after T, all %zu written %.2f s after T (from the "
		       "first to the last %.2f s, %.0f alerts/s); %zu outbox rows\n",
		       r->first_s, r->alerts, r->all_s, r->all_s - r->first_s,
		       (double)r->alerts / (r->all_s - r->first_s), r->outbox);
	else if (r->all_s >= 0)
		printf("  alerts: all %zu written %.2f s after T (all seen at once, within %d ms); %zu "
		       "outbox rows\n",
		       r->alerts, r->all_s, COUNT_EVERY_MS, r->outbox);
	else
		printf("  alerts: only %zu of %zu written\n", r->alerts, r->k);
	printf("  GET /healthz from T to the last alert: %zu answers, p50 %.2f ms, p99 %.2f ms, "
	       "max %.2f ms;\n    corrected for coordinated omission (a request every %.0f ms): "
	       "p50 %.2f ms, p99 %.2f ms\n    (whole run: %zu answers, p99 %.2f ms, max %.2f ms)\n",
	       r->burst_samples, r->p50_ms, r->p99_ms, r->max_ms, POLL_GAP_US / 1000.0, r->cp50_ms,
	       r->cp99_ms, r->samples, r->all_p99_ms, r->all_max_ms);
	if (r->cpu_s >= 0 && r->alerts)
		printf("  dunghand used %.2f CPU-seconds from T (%.1f us per alert)\n", r->cpu_s,
		       1e6 * r->cpu_s / (double)r->alerts);
	printf("  VmRSS at READY %.1f MiB, after the burst %.1f MiB; peak (VmHWM) %.1f MiB\n",
	       (double)r->rss_ready_kib / 1024.0, (double)r->rss_after_kib / 1024.0,
	       (double)r->hwm_kib / 1024.0);
}

int main(int argc, char **argv)
{
	struct options o = { .n = 20000, .k = 2000, .baseline = 1000, .wait_s = 15,
			     .log_level = "warn" };
	struct result big, base;
	int opt, bad = 0;

	while ((opt = getopt(argc, argv, "n:k:b:w:l:h")) != -1) {
		switch (opt) {
		case 'n': o.n = bench_parse_size(PROG, optarg, "-n", false); break;
		case 'k': o.k = bench_parse_size(PROG, optarg, "-k", false); break;
		case 'b': o.baseline = bench_parse_size(PROG, optarg, "-b", false); break;
		case 'w': o.wait_s = (int)bench_parse_size(PROG, optarg, "-w", false); break;
		case 'l': o.log_level = optarg; break;
		default:
			fprintf(opt == 'h' ? stdout : stderr,
				"Usage: bench_scheduler [-n CASES] [-k CROSSING] [-b BASELINE] [-w SECONDS] "
				"[-l LEVEL]\n"
				"  -n  open cases (default 20000; the issue: 1000000)\n"
				"  -k  of them crossing the rule in the same second (default 2000; the "
				"issue: 100000)\n"
				"  -b  open cases of the RSS baseline run (default 1000)\n"
				"  -w  seconds from the daemon's start to the crossing (default 15)\n"
				"  -l  dunghand's log level (default warn; info logs a line per alert)\n"
				"The issue's sizes: bench_scheduler -n 1000000 -k 100000\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (o.k > o.n) {
		fprintf(stderr, "bench_scheduler: -k %zu: more crossing cases than open ones (%zu)\n",
			o.k, o.n);
		return 2;
	}
	if (o.wait_s < 10) {
		fprintf(stderr, "bench_scheduler: -w: at least 10 seconds\n");
		return 2;
	}
	size_t base_k = o.k * o.baseline / o.n;
	if (base_k == 0)
		base_k = 1;
	if (base_k > o.baseline)
		base_k = o.baseline;
	printf("bench_scheduler: %zu open cases, %zu crossing \"due\" in the same second; baseline "
	       "%zu cases (%zu crossing); dunghand %s\n",
	       o.n, o.k, o.baseline, base_k, harness_dunghand());
	fflush(stdout);

	if (run(&o, o.baseline, base_k, &base) != 0)
		bad = 1;
	print_result("baseline", &base);
	fflush(stdout);
	if (run(&o, o.n, o.k, &big) != 0)
		bad = 1;
	print_result("run", &big);

	double d_ready = (double)(big.rss_ready_kib - base.rss_ready_kib) / 1024.0;
	double d_after = (double)(big.rss_after_kib - base.rss_after_kib) / 1024.0;
	printf("\nratios (%zu against %zu open cases):\n", o.n, o.baseline);
	printf("  VmRSS at READY:        %+8.1f MiB (x%.2f)\n", d_ready,
	       base.rss_ready_kib > 0 ? (double)big.rss_ready_kib / (double)base.rss_ready_kib : 0);
	printf("  VmRSS after the burst: %+8.1f MiB (x%.2f)\n", d_after,
	       base.rss_after_kib > 0 ? (double)big.rss_after_kib / (double)base.rss_after_kib : 0);
	printf("targets:\n");
	printf("  /healthz p99 during the burst < 50 ms:          %s (%.2f ms; corrected %.2f ms)\n",
	       big.ok && big.burst_samples && big.cp99_ms < 50 ? "met" : "NOT MET", big.p99_ms,
	       big.cp99_ms);
	printf("  VmRSS at READY within 16 MiB of the baseline:   %s (%+.1f MiB)\n",
	       big.ok && base.ok && d_ready <= 16 && d_ready >= -16 ? "met" : "NOT MET", d_ready);
	printf("  (after the burst:                                %s, %+.1f MiB)\n",
	       big.ok && base.ok && d_after <= 16 && d_after >= -16 ? "within" : "beyond", d_after);
	return bad;
}
