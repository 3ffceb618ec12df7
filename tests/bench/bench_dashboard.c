/* bench_dashboard: the dashboard's pages of a province-year (docs/dashboard.md, "How pages
 * are computed"), against a bare scan of the cases table of the same run.
 *
 * The data is bench_kpi's (kpi_dataset.h): U units (-u, default 100), N cases of 2024 (-n or
 * $BENCH_N, default 2000000). The pages are judged as of 31 December 2024 23:00 (+07:00), the
 * heaviest instant of that year: every case of the year is in the year to date.
 *   1. In this process, on a read-only connection as the thread pool has it, the thread's CPU
 *      time of what each page reads: the overview's year to date with its budget (7- and
 *      30-day windows) in one pass (kpi_report_budget_build) and its open counts
 *      (store_metrics, the families the overview shows); a unit's year to date with its 12
 *      months (kpi_report_series_build); the bare scan (the sum of one column) is the
 *      baseline.
 *   2. The real dunghand on the same database, its clock set to that instant by libfaketime
 *      (LD_PRELOAD; the phase is skipped, saying so, when the library is not installed —
 *      `make deps` installs it): the overview and the unit page of the province
 *      (/?unit=u0, /units/u0) and of a department (/?unit=u1, /units/u1), and a commune's
 *      page (/units/u99), each R times (-r, default 3) after a first view; printed are the
 *      first view's and the median answer time and daemon CPU time per page
 *      (/proc/PID/stat), and each against the bare scan. The year figures are kept ahead of
 *      reading (dashboard.refresh, default 5m; docs/dashboard.md): the daemon is first left
 *      to warm the province's two pages (as after start), so their first view is served from
 *      them, while a department's or commune's first view computes its figures (cold) and
 *      later ones are served from what it kept (warm). With -0, refresh is "0s": every view
 *      computes its figures, as before they were kept.
 * Target (issue #11): every page at most 300 ms (the median: warm). Exit status: 0, or 1 when setup or a run
 * failed (a target not met is printed, not an error). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "config.h"
#include "harness.h"
#include "http_client.h"
#include "kpi.h"
#include "kpi_dataset.h"
#include "store.h"

#define PROG "bench_dashboard"

#define AS_OF 1735660800 /* 2024-12-31T23:00:00+07:00 */
#define AS_OF_FAKETIME "@2024-12-31 16:00:00" /* the same instant in UTC */
#define MAX_RUNS 15
#define TARGET_S 0.300

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/* --- in this process ------------------------------------------------------------------- */

/* The periods of the pages as of AS_OF: the year to date, its budget year, the 12 months. */
struct pages {
	struct kpi_period ytd, months[12];
	struct kpi_year year;
};

static int pages_periods(struct config *cfg, struct pages *pg, struct err *err)
{
	char label[16];

	if (kpi_parse_period(cfg->calendar, "ytd", AS_OF, &pg->ytd, err) != 0 ||
	    kpi_budget_year(cfg->calendar, 2024, AS_OF, &pg->year, err) != 0)
		return -1;
	for (int i = 0; i < 12; i++) {
		snprintf(label, sizeof(label), "2024-%02d", i + 1);
		if (kpi_parse_period(cfg->calendar, label, AS_OF, &pg->months[i], err) != 0)
			return -1;
	}
	return 0;
}

static int stop_after_at_risk(void *ctx, enum store_metric family, const char *const labels[3],
			      int64_t value)
{
	(void)labels;
	*(int64_t *)ctx += value;
	return family > STORE_METRIC_AT_RISK;
}

/* One run of each part; t[] gets the thread's CPU seconds of: the overview's year to date
 * and budget, its open counts, a unit's year and months, the bare scan. */
enum { T_OVERVIEW, T_OPEN, T_UNIT, T_SCAN, T_MAX };

static int parts_run(struct store *ro, sqlite3 *raw, sqlite3_stmt *scan, struct config *cfg,
		     const struct pages *pg, double t[T_MAX], struct err *err)
{
	struct kpi_report r = { 0 }, u = { 0 };
	struct kpi_budget *b = NULL;
	double monthly[12], a;
	size_t nb = 0;
	int64_t open = 0;
	int rc = -1;

	a = bench_thread_cpu_s();
	if (kpi_report_budget_build(ro, cfg, "u0", &pg->ytd, KPI_PORTAL, &pg->year, &r, &b, &nb,
				    err) != 0)
		goto out;
	t[T_OVERVIEW] = bench_thread_cpu_s() - a;
	a = bench_thread_cpu_s();
	if (store_metrics(ro, AS_OF, stop_after_at_risk, &open, err) != STORE_OK)
		goto out;
	t[T_OPEN] = bench_thread_cpu_s() - a;
	a = bench_thread_cpu_s();
	if (kpi_report_series_build(ro, cfg, "u0", &pg->ytd, KPI_PORTAL, &u, pg->months, 12,
				    monthly, err) != 0)
		goto out;
	t[T_UNIT] = bench_thread_cpu_s() - a;
	a = bench_thread_cpu_s();
	if (sqlite3_step(scan) != SQLITE_ROW) {
		err_set(err, NULL, "scan: %s", sqlite3_errmsg(raw));
		goto out;
	}
	sqlite3_reset(scan);
	t[T_SCAN] = bench_thread_cpu_s() - a;
	rc = 0;
out:
	kpi_report_free(&r);
	kpi_report_free(&u);
	free(b);
	return rc;
}

/* --- through dunghand ------------------------------------------------------------------ */

static const char *faketime_lib(void)
{
	static const char *const paths[] = {
		"/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
		"/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
		"/usr/lib/faketime/libfaketime.so.1",
	};
	const char *env = getenv("BENCH_FAKETIME");

	if (env && *env)
		return access(env, R_OK) == 0 ? env : NULL;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (access(paths[i], R_OK) == 0)
			return paths[i];
	return NULL;
}

/* The daemon's CPU seconds so far (utime + stime of /proc/PID/stat), or -1. */
static double proc_cpu_s(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (!(f = fopen(path, "r")))
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces: fields count from the last ')'. */
	if (!(p = strrchr(buf, ')')) ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

struct page {
	const char *path, *what;
	double wall[MAX_RUNS], cpu[MAX_RUNS];
	double first_wall, first_cpu; /* the first view */
};

/* The sample of metric name (no labels) in GET /metrics on c, or -1. */
static long daemon_metric(struct http_client *c, const char *name)
{
	struct http_client_response resp = { 0 };
	char needle[160];
	const char *at;
	long v = -1;
	struct err err;

	snprintf(needle, sizeof(needle), "\n%s ", name);
	if (http_client_request(c, "GET", "/metrics", NULL, NULL, 0, &resp, &err) == 0 &&
	    resp.status == 200 && (at = strstr(resp.body, needle)))
		v = atol(at + strlen(needle));
	http_client_response_free(&resp);
	return v;
}

static int daemon_pages(struct harness *h, const char *config_body, const char *db_path,
			int runs, double scan_s, bool afresh, bool *met)
{
	static const char kept[] =
		"server: { listen = \"127.0.0.1:0\"; };\ndashboard: { enabled = true; };\n"
		"tokens = ( { name = \"baocao\"; scopes = [\"read\"]; sha256 = "
		"\"932ea5ac7ec8716320390085aba5ab683dd54614c5066f417fb71b92c9c2617c\"; } );\n";
	static const char computed[] =
		"server: { listen = \"127.0.0.1:0\"; };\n"
		"dashboard: { enabled = true; refresh = \"0s\"; };\n"
		"tokens = ( { name = \"baocao\"; scopes = [\"read\"]; sha256 = "
		"\"932ea5ac7ec8716320390085aba5ab683dd54614c5066f417fb71b92c9c2617c\"; } );\n";
	const char *const headers[] = { "Authorization: Bearer baocao-dev-token",
					"Accept: text/html", NULL };
	struct page pages[] = { { "/?unit=u0", "overview of the province", { 0 }, { 0 }, 0, 0 },
				{ "/units/u0", "the province's unit page", { 0 }, { 0 }, 0, 0 },
				{ "/?unit=u1", "overview of a department", { 0 }, { 0 }, 0, 0 },
				{ "/units/u1", "a department's unit page", { 0 }, { 0 }, 0, 0 },
				{ "/units/u99", "a commune's unit page", { 0 }, { 0 }, 0, 0 } };
	const char *lib = faketime_lib();
	struct harness_proc proc = { 0 };
	struct http_client_response resp = { 0 };
	struct http_client *c = NULL;
	char conf[600], preload[700], *text = NULL;
	const char *at;
	size_t from = 0;
	struct err err;
	int rc = -1, port;

	if (!lib) {
		printf("through dunghand: skipped: libfaketime is not installed (make deps), and "
		       "the pages need the daemon's clock at the end of 2024\n");
		return 0;
	}
	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", lib);
	const char *const env[] = { preload, "FAKETIME=" AS_OF_FAKETIME, "TZ=UTC",
				    "FAKETIME_DONT_FAKE_MONOTONIC=1", "FAKETIME_NO_CACHE=1",
				    NULL };
	if (asprintf(&text, "%s%s", config_body, afresh ? computed : kept) < 0 ||
	    harness_write(h, "dashboard.conf", text) != 0)
		goto out;
	harness_path(h, "dashboard.conf", conf, sizeof(conf));
	char *const argv[] = { (char *)harness_dunghand(), "-c", conf, "-d", (char *)db_path,
			       NULL };
	if (harness_spawn(h, &proc, argv, env, "dashboard.log") != 0 ||
	    !harness_notify_wait(h, "READY=1", &from, 60000) ||
	    !(at = strstr(h->received, "STATUS=serving on 127.0.0.1:"))) {
		fprintf(stderr, "bench_dashboard: dunghand did not start (see its log)\n");
		goto out;
	}
	port = atoi(at + strlen("STATUS=serving on 127.0.0.1:"));
	if (!(c = http_client_connect("127.0.0.1", port, 120000, &err)))
		goto out;
	/* As after start: the province's two pages warmed in the thread pool. */
	double w0 = bench_mono_s();
	while (!afresh && daemon_metric(c, "dunghan_dashboard_snapshot_entries") < 2) {
		if (bench_mono_s() - w0 > 600) {
			fprintf(stderr, "bench_dashboard: the province's pages were not warmed\n");
			goto out;
		}
		usleep(20000);
	}
	if (!afresh)
		printf("warming the province's two pages after start: %.2f s\n", bench_mono_s() - w0);
	for (size_t p = 0; p < sizeof(pages) / sizeof(pages[0]); p++) {
		for (int i = 0; i <= runs; i++) {
			double a = bench_mono_s(), ca = proc_cpu_s(proc.pid);

			if (http_client_request(c, "GET", pages[p].path, headers, NULL, 0, &resp,
						&err) != 0 || resp.status != 200) {
				fprintf(stderr, "bench_dashboard: GET %s: %s\n", pages[p].path,
					resp.status ? "not 200" : err.msg);
				goto out;
			}
			if (i == 0 && p == 0 && !strstr(resp.body, "Năm 2024 đến hôm nay")) {
				fprintf(stderr, "bench_dashboard: the overview is not of 2024: the "
						"daemon's clock was not set by %s\n", lib);
				goto out;
			}
			if (i > 0) {
				pages[p].wall[i - 1] = bench_mono_s() - a;
				pages[p].cpu[i - 1] = proc_cpu_s(proc.pid) - ca;
			} else {
				pages[p].first_wall = bench_mono_s() - a;
				pages[p].first_cpu = proc_cpu_s(proc.pid) - ca;
			}
		}
	}
	printf("through dunghand (as of 2024-12-31 23:00, libfaketime), refresh %s: the first "
	       "view, then the median of %d:\n", afresh ? "\"0s\" (figures computed on every view)"
						 : "\"5m\" (figures kept)", runs);
	for (size_t p = 0; p < sizeof(pages) / sizeof(pages[0]); p++) {
		double w = median(pages[p].wall, runs), cpu = median(pages[p].cpu, runs);

		printf("  GET %-10s %-26s first %7.1f ms (CPU %6.0f ms); then %7.1f ms "
		       "(CPU %6.0f ms), %5.2f x the scan\n",
		       pages[p].path, pages[p].what, pages[p].first_wall * 1e3,
		       pages[p].first_cpu * 1e3, w * 1e3, cpu * 1e3, w / scan_s);
		*met = *met && w <= TARGET_S;
	}
	rc = 0;
out:
	http_client_response_free(&resp);
	http_client_free(c);
	if (proc.pid > 0) {
		harness_signal(&proc, SIGTERM);
		if (harness_wait(&proc, 30000) != 0) {
			fprintf(stderr, "bench_dashboard: dunghand did not stop cleanly\n");
			rc = -1;
		}
	}
	free(text);
	return rc;
}

int main(int argc, char **argv)
{
	static const char *const names[T_MAX] = {
		"overview: year to date + budget, one pass",
		"overview: open counts (store_metrics)",
		"unit page: year to date + 12 months, one pass",
		"baseline: a bare scan of the cases table",
	};
	size_t n = 2000000, units = 100;
	int runs = 3, opt, status = 1;
	const char *env = getenv("BENCH_N");
	double t[T_MAX][MAX_RUNS], med[T_MAX];
	char db_path[600], *text = NULL;
	struct config *cfg = NULL;
	struct store *ro = NULL;
	sqlite3 *raw = NULL;
	sqlite3_stmt *scan = NULL;
	enum store_status ss;
	struct pages pg;
	struct harness h;
	struct err err;
	bool met = true, afresh = false;

	if (env && *env)
		n = bench_parse_size(PROG, env, "BENCH_N", false);
	while ((opt = getopt(argc, argv, "n:u:r:0h")) != -1) {
		switch (opt) {
		case '0': afresh = true; break;
		case 'n': n = bench_parse_size(PROG, optarg, "-n", false); break;
		case 'u': units = bench_parse_size(PROG, optarg, "-u", false); break;
		case 'r': runs = (int)bench_parse_size(PROG, optarg, "-r", false); break;
		default:
			fprintf(opt == 'h' ? stdout : stderr,
				"Usage: bench_dashboard [-n CASES] [-u UNITS] [-r RUNS] [-0]\n"
				"  -n  cases in the year (default 2000000, or $BENCH_N)\n"
				"  -u  units (default 100)\n"
				"  -r  timed runs after a warm-up (default 3, at most %d)\n"
				"  -0  dashboard.refresh \"0s\": figures computed on every view\n",
				MAX_RUNS);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (runs > MAX_RUNS || units < 2 || units > 100000) {
		fprintf(stderr, "bench_dashboard: at most %d runs; 2 to 100000 units\n", MAX_RUNS);
		return 2;
	}
	if (harness_init(&h) != 0) {
		fprintf(stderr, "bench_dashboard: cannot make a temporary directory\n");
		return 1;
	}
	printf("bench_dashboard: %zu cases of 2024 over %zu units, as of 2024-12-31 23:00, "
	       "%d runs each\n", n, units, runs);
	double t0 = bench_mono_s();
	if (kpi_dataset_make(&h, "bench_dashboard", n, units, &text, &cfg, db_path, sizeof(db_path)) != 0)
		goto out;
	printf("setup (config, migrations, %zu cases in one transaction): %.2f s\n", n,
	       bench_mono_s() - t0);

	if (pages_periods(cfg, &pg, &err) != 0 ||
	    !(ro = store_open_readonly(db_path, &ss, &err))) {
		fprintf(stderr, "bench_dashboard: %s\n", err.msg);
		goto out;
	}
	if (sqlite3_open_v2(db_path, &raw, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_exec(raw, "PRAGMA cache_size = -8192", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(raw, "SELECT sum(received_at) FROM cases NOT INDEXED", -1, &scan,
			       NULL) != SQLITE_OK) {
		fprintf(stderr, "bench_dashboard: scan: %s\n", sqlite3_errmsg(raw));
		goto out;
	}
	/* Run 0 warms the page cache and is not counted. */
	for (int i = 0; i <= runs; i++) {
		double one[T_MAX];

		if (parts_run(ro, raw, scan, cfg, &pg, one, &err) != 0) {
			fprintf(stderr, "bench_dashboard: %s\n", err.msg);
			goto out;
		}
		for (int k = 0; i > 0 && k < T_MAX; k++)
			t[k][i - 1] = one[k];
	}
	printf("in this process (thread CPU time, median of %d):\n", runs);
	for (int k = 0; k < T_MAX; k++) {
		med[k] = median(t[k], runs);
		printf("  %-50s %8.1f ms\n", names[k], med[k] * 1e3);
	}
	printf("  overview's reads together: %.1f ms (%.2f x the scan); unit page's: %.1f ms "
	       "(%.2f x)\n", (med[T_OVERVIEW] + med[T_OPEN]) * 1e3,
	       (med[T_OVERVIEW] + med[T_OPEN]) / med[T_SCAN], med[T_UNIT] * 1e3,
	       med[T_UNIT] / med[T_SCAN]);
	if (daemon_pages(&h, text, db_path, runs, med[T_SCAN], afresh, &met) != 0)
		goto out;
	printf("target: every page at most %.0f ms: %s\n", TARGET_S * 1e3,
	       met ? "met" : "NOT MET");
	status = 0;
out:
	sqlite3_finalize(scan);
	sqlite3_close(raw);
	store_close(ro);
	config_free(cfg);
	free(text);
	harness_close(&h);
	return status;
}
