/* wal_sync: the WAL's syncs on a thread of their own, reported on the loop — each ticket
 * covered once a sync that began after it was asked for has ended, in order, and a file that
 * is not there refused with its name. A real file on the real disk. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "harness.h"
#include "wal_sync.h"

static struct harness h;

TestSuite(wal_sync);

struct seen {
	uint64_t covered[64];
	int errors[64];
	size_t n;
	bool closed;
	size_t timed;   /* syncs observed (wal_sync_observe) */
	double longest; /* seconds */
};

static void on_timed(void *arg, double seconds)
{
	struct seen *s = arg;

	s->timed++;
	if (seconds > s->longest)
		s->longest = seconds;
}

static void on_synced(void *arg, uint64_t covered, const struct store_wal_mark *mark, int error)
{
	struct seen *s = arg;

	/* Each ticket t was asked with the mark {1, t}. */
	cr_assert(mark && mark->generation == 1 && (uint64_t)mark->frames == covered,
		  "ticket %llu reported without its own mark", (unsigned long long)covered);
	if (s->n < 64) {
		s->covered[s->n] = covered;
		s->errors[s->n] = error;
		s->n++;
	}
}

static void on_closed(void *arg)
{
	((struct seen *)arg)->closed = true;
}

/* Runs the loop until the last report covers ticket, at most 10 s. */
static void run_until(uv_loop_t *loop, struct seen *s, uint64_t ticket)
{
	uint64_t deadline = uv_hrtime() + 10000000000ULL;

	while ((s->n == 0 || s->covered[s->n - 1] < ticket) && uv_hrtime() < deadline)
		uv_run(loop, UV_RUN_ONCE);
	cr_assert(s->n > 0 && s->covered[s->n - 1] >= ticket, "ticket %llu not covered in 10 s",
		  (unsigned long long)ticket);
}

Test(wal_sync, every_ticket_is_covered_in_order)
{
	char path[600];
	struct seen s = { 0 };
	struct err err = { 0 };
	struct wal_sync *w;
	uv_loop_t loop;

	cr_assert_eq(harness_init(&h), 0);
	cr_assert_eq(harness_write(&h, "db-wal", "frames"), 0);
	harness_path(&h, "db-wal", path, sizeof(path));
	cr_assert_eq(uv_loop_init(&loop), 0);
	cr_assert_not_null(w = wal_sync_new(&loop, path, on_synced, &s, &err), "%s", err.msg);
	wal_sync_observe(w, on_timed, &s);
	cr_assert_eq(wal_sync_ask(w, &(struct store_wal_mark){ 1, 1 }), 1);
	run_until(&loop, &s, 1);
	cr_assert_eq(s.n, 1);
	cr_assert_eq(s.covered[0], 1);
	/* The sync was timed, and its time handed over before its report. */
	cr_assert_eq(s.timed, 1);
	cr_assert(s.longest > 0 && s.longest < 10, "a sync took %f s", s.longest);
	/* Asked while one sync may run: the next covers them all, never one twice. */
	for (uint64_t t = 2; t <= 40; t++)
		cr_assert_eq(wal_sync_ask(w, &(struct store_wal_mark){ 1, (int64_t)t }), t);
	cr_assert_eq(wal_sync_last(w), 40);
	run_until(&loop, &s, 40);
	for (size_t i = 0; i < s.n; i++) {
		cr_assert_eq(s.errors[i], 0);
		if (i > 0)
			cr_assert_gt(s.covered[i], s.covered[i - 1], "ticket %llu reported twice",
				     (unsigned long long)s.covered[i]);
	}
	cr_assert_eq(s.covered[s.n - 1], 40);
	/* One time a sync: at least one a report, at most one a ticket after the first. */
	cr_assert(s.timed >= s.n && s.timed <= 40, "%zu syncs timed for %zu reports", s.timed,
		  s.n);
	wal_sync_close(w, on_closed, &s);
	uv_run(&loop, UV_RUN_DEFAULT);
	cr_assert(s.closed);
	cr_assert_eq(uv_loop_close(&loop), 0);
	harness_close(&h);
}

Test(wal_sync, a_missing_file_is_refused_by_name)
{
	struct seen s = { 0 };
	struct err err = { 0 };
	uv_loop_t loop;

	cr_assert_eq(uv_loop_init(&loop), 0);
	cr_assert_null(wal_sync_new(&loop, "/nonexistent/dunghan.db-wal", on_synced, &s, &err));
	cr_assert(strstr(err.msg, "/nonexistent/dunghan.db-wal") &&
		  strstr(err.msg, "No such file or directory"), "%s", err.msg);
	cr_assert_eq(uv_loop_close(&loop), 0);
}
