/* bench_import: how fast `dunghanctl import` brings the one-stop system's CSV export into a real
 * dunghand, and that neither process's memory follows the file's size.
 *
 * For N rows (default 1000000; BENCH_N or -n N) and N / 5: starts a fresh dunghand (temporary
 * directory and database, the example office; tests/support/api_fixture.h), writes a CSV of that
 * many rows in the one-stop system's Vietnamese dialect (BOM, dd/mm/yyyy dates, an empty
 * "Ngày hẹn trả" so that the daemon computes it; rows in the order the cases were received, as
 * the system exports them, or with -r round-robin over 28 days), and runs dunghanctl import on
 * it the default
 * way: a dry-run pass, then the atomic one. Prints rows/s over the whole command, the peak
 * RSS of dunghanctl (wait4) and of dunghand (VmHWM), and the CPU per row of each (rusage and
 * /proc/PID/stat: the figure to compare on a shared machine). With -k (BENCH_KEEP_GOING=1) the import is
 * --continue-on-error, one pass.
 * Target: >= 100 000 rows/s; both RSS flat in file size.
 * Exit status: 0, or 1 when an import failed or dunghand did not stop cleanly. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "api_fixture.h"

struct result {
	size_t rows;
	double seconds;
	long ctl_rss_kb, daemon_rss_kb;
	double ctl_cpu, daemon_cpu; /* CPU seconds of each process during the import */
	int64_t stored;
};

/* The CSV of n rows at path, written as it goes. */
static int write_csv(const char *path, size_t n, bool ordered)
{
	static const char *const units[] = { "ttphvhcc", "hctc", "kstt", "xa-tu-phap-tan-phu" };
	static const char *const procs[] = { "1.004873", "1.004222", "2.000815", "3.000333" };
	FILE *fp = fopen(path, "w");

	if (!fp)
		return -1;
	fputs("\xef\xbb\xbfMã hồ sơ,Thủ tục,Đơn vị,Người nộp,Ngày tiếp nhận,Ngày hẹn trả\r\n", fp);
	for (size_t i = 0; i < n; i++) {
		/* In order: 36 000 a day, 60 a minute, over 28 days for a million rows. */
		size_t day = ordered ? 1 + i / 36000 % 28 : 1 + i % 28;
		size_t hour = ordered ? 7 + i % 36000 / 3600 : 7 + i % 10;
		size_t minute = ordered ? i % 3600 / 60 : i % 60;

		fprintf(fp, "000.00.21.H19-%06zu-%04zu,%s,%s,Nguyễn Văn %zu,%02zu/03/2024 %02zu:%02zu,\r\n",
			240301 + i / 10000, i % 10000, procs[i % 4], units[(i / 4) % 4], i, day, hour,
			minute);
	}
	return fclose(fp) == 0 ? 0 : -1;
}

/* VmHWM of pid in kB, or -1. */
static long peak_rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!(fp = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	fclose(fp);
	return kb;
}

/* Runs dunghanctl import on csv against f; its exit status, with *rss_kb. */
static int run_import(struct api_fixture *f, const char *csv, bool keep_going, long *rss_kb,
		      double *cpu, const char *log)
{
	char url[64];
	struct rusage ru;
	int status;
	pid_t pid;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", f->port);
	fflush(NULL);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		int out = open("/dev/null", O_WRONLY), err = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		char *argv[] = { (char *)harness_dunghanctl(), "-c", f->conf, "--url", url, "import",
				 (char *)csv, keep_going ? "--continue-on-error" : NULL, NULL };
		if (out < 0 || err < 0)
			_exit(126);
		dup2(out, 1);
		dup2(err, 2);
		setenv("DUNGHAN_TOKEN", API_MOTCUA, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	/* The child is bounded by its own timeouts (curl's, the daemon's); it ends by itself. */
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			return -1;
	*rss_kb = ru.ru_maxrss;
	*cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int bench(size_t n, bool keep_going, bool ordered, struct result *res)
{
	struct api_fixture f;
	char csv[700], log[700];
	struct err err;
	double t0;
	int rc = -1, st;

	memset(res, 0, sizeof(*res));
	res->rows = n;
	if (api_fixture_start(&f, NULL, &err) != 0) {
		fprintf(stderr, "bench_import: starting dunghand: %s\n", err.msg);
		goto out;
	}
	harness_path(&f.h, "export.csv", csv, sizeof(csv));
	harness_path(&f.h, "import.log", log, sizeof(log));
	if (write_csv(csv, n, ordered) != 0) {
		fprintf(stderr, "bench_import: cannot write %s\n", csv);
		goto out;
	}
	double cpu0 = harness_cpu_seconds(f.proc.pid);
	t0 = bench_mono_s();
	st = run_import(&f, csv, keep_going, &res->ctl_rss_kb, &res->ctl_cpu, log);
	res->seconds = bench_mono_s() - t0;
	res->daemon_cpu = harness_cpu_seconds(f.proc.pid) - cpu0;
	if (st != 0) {
		char *text = harness_read(log);
		fprintf(stderr, "bench_import: dunghanctl import exited %d: %.600s\n", st,
			text ? text : "");
		free(text);
		goto out;
	}
	res->daemon_rss_kb = peak_rss_kb(f.proc.pid);
	res->stored = api_db_int(&f, "SELECT count(*) FROM cases", &err);
	if (res->stored != (int64_t)n) {
		fprintf(stderr, "bench_import: %lld cases stored, expected %zu\n",
			(long long)res->stored, n);
		goto out;
	}
	if (api_fixture_stop(&f, &err) != 0) {
		fprintf(stderr, "bench_import: stopping dunghand: %s\n", err.msg);
		goto out;
	}
	rc = 0;
out:
	api_fixture_close(&f);
	return rc;
}

static void print(const struct result *r)
{
	printf("%9zu rows  %7.1f s  %8.0f rows/s  dunghanctl peak RSS %6ld kB  dunghand peak RSS "
	       "%7ld kB\n", r->rows, r->seconds, (double)r->rows / r->seconds, r->ctl_rss_kb,
	       r->daemon_rss_kb);
	printf("%9s CPU per row: dunghanctl %.1f us, dunghand %.1f us\n", "",
	       1e6 * r->ctl_cpu / (double)r->rows, 1e6 * r->daemon_cpu / (double)r->rows);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	const char *env = getenv("BENCH_N"), *kg = getenv("BENCH_KEEP_GOING");
	size_t n = env ? strtoull(env, NULL, 10) : 1000000;
	bool keep_going = kg && *kg == '1', ordered = true;
	struct result small, big;
	int opt;

	while ((opt = getopt(argc, argv, "n:kr")) != -1) {
		if (opt == 'n')
			n = strtoull(optarg, NULL, 10);
		else if (opt == 'k')
			keep_going = true;
		else if (opt == 'r')
			ordered = false;
		else {
			fprintf(stderr, "usage: bench_import [-n ROWS] [-k] [-r]\n");
			return 2;
		}
	}
	if (n < 5) {
		fprintf(stderr, "bench_import: at least 5 rows\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	printf("dunghanctl import, %s: CSV rows (received %s) through POST /api/v1/cases:batch\n",
	       keep_going ? "--continue-on-error (one pass)" : "all or nothing (dry run, then atomic)",
	       ordered ? "in time order" : "round-robin over 28 days");
	if (bench(n / 5, keep_going, ordered, &small) != 0)
		return 1;
	print(&small);
	if (bench(n, keep_going, ordered, &big) != 0)
		return 1;
	print(&big);
	printf("RSS growth for %zux the rows: dunghanctl %+ld kB, dunghand %+ld kB\n", n / (n / 5),
	       big.ctl_rss_kb - small.ctl_rss_kb, big.daemon_rss_kb - small.daemon_rss_kb);
	printf("target >= 100000 rows/s: %s\n",
	       (double)big.rows / big.seconds >= 100000 ? "met" : "NOT met");
	return 0;
}
