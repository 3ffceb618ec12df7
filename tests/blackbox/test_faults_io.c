/* I/O faults under the real dunghand (issue #10): writes and fsyncs of its database failing with
 * EIO or ENOSPC on commit, and the file turning read-only, injected by the faultfs shim
 * (tests/support/faultfs.c) preloaded into the daemon. Each scenario checks that nothing is
 * acknowledged that was not committed (503 with a clear error, the rows absent after a restart),
 * that reads go on, and that writes work again once the fault is gone. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api_fixture.h"

static struct api_t t;
static char fault_dir[64];

static void teardown(void)
{
	char path[128];

	api_t_teardown(&t);
	if (!fault_dir[0])
		return;
	snprintf(path, sizeof(path), "%s/on", fault_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/log", fault_dir);
	unlink(path);
	rmdir(fault_dir);
}

static void setup(void)
{
	snprintf(fault_dir, sizeof(fault_dir), "/tmp/faultfs.XXXXXX");
	cr_assert_not_null(mkdtemp(fault_dir));
}

TestSuite(faults_io, .init = setup, .fini = teardown);

static const char *fault_path(const char *name)
{
	static char path[2][128];
	static int next;
	char *p = path[next++ % 2];

	snprintf(p, sizeof(path[0]), "%s/%s", fault_dir, name);
	return p;
}

/* Preloads faultfs into the daemon started next: calls (FAULTFS_CALLS) on the files matching
 * glob fail with error while the trigger file exists. Criterion runs each test in its own
 * process, so the environment set here ends with the test. */
static void preload(const char *glob, const char *calls, const char *error)
{
	cr_assert_eq(setenv("LD_PRELOAD", FAULTFS_LIBRARY, 1), 0);
	cr_assert_eq(setenv("FAULTFS_MATCH", glob, 1), 0);
	cr_assert_eq(setenv("FAULTFS_CALLS", calls, 1), 0);
	cr_assert_eq(setenv("FAULTFS_ERRNO", error, 1), 0);
	cr_assert_eq(setenv("FAULTFS_TRIGGER", fault_path("on"), 1), 0);
	cr_assert_eq(setenv("FAULTFS_LOG", fault_path("log"), 1), 0);
}

static void fault(bool on)
{
	FILE *f;

	if (!on) {
		cr_assert_eq(unlink(fault_path("on")), 0);
		return;
	}
	cr_assert_not_null(f = fopen(fault_path("on"), "w"));
	cr_assert_eq(fclose(f), 0);
}

static int create(const char *code, struct api_reply *r)
{
	struct err e = { 0 };
	int rc = api_jsonf(&t.f, "POST", "/api/v1/cases", API_MOTCUA, r, &e,
			   "{\"code\": \"%s\", \"procedure\": \"1.004873\", \"unit\": "
			   "\"xa-tu-phap-tan-phu\", \"applicant\": \"Nguyễn Văn A\", "
			   "\"received_at\": \"2024-02-07T10:00:00+07:00\"}", code);
	cr_assert_eq(rc, 0, "no answer: %s", e.msg);
	return r->status;
}

static int64_t cases_named(const char *code)
{
	struct err e = { 0 };
	char sql[200];
	int64_t v;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM cases WHERE code = '%s'", code);
	v = api_db_int(&t.f, sql, &e);
	cr_assert_geq(v, 0, "%s: %s", sql, e.msg);
	return v;
}

/* The faults the shim injected so far (its log), "" when none. */
static char *injected(void)
{
	char *log = harness_read(fault_path("log"));

	return log ? log : strdup("");
}

/* The scenario every I/O fault on commit shares: a case before the fault, one refused during it
 * (503 saying nothing was kept, the daemon's log saying why), reads during it, the same request
 * accepted after it, and a kill -9 and restart that shows exactly the acknowledged cases. */
static void refused_then_recovered(const char *calls, const char *error, const char *message,
				   const char *logged)
{
	struct api_reply r = { 0 };
	struct err e = { 0 };
	char *log;

	preload("*/var/dunghan.db*", calls, error);
	api_t_start(&t, NULL);
	cr_assert_eq(create("IO-1", &r), 201, "%s", r.resp.body);

	fault(true);
	cr_assert_eq(create("IO-2", &r), 503, "%s", r.resp.body);
	cr_assert_str_eq(api_str(r.json, "error.code"), "unavailable");
	cr_assert(strstr(api_str(r.json, "error.message"), message), "%s", r.resp.body);
	log = injected();
	cr_assert(*log, "the shim injected nothing: the test did not test");
	free(log);
	/* Still failing: refused again, the same way. Reads and health go on. */
	cr_assert_eq(create("IO-LOST", &r), 503, "%s", r.resp.body);
	json_t *one = api_t_req(&t, "GET", "/api/v1/cases/IO-1", API_BAOCAO, NULL, 200);
	api_t_expect_str(one, "code", "IO-1");
	api_t_req(&t, "GET", "/api/v1/cases?limit=5", API_BAOCAO, NULL, 200);
	api_t_req(&t, "GET", "/healthz", NULL, NULL, 200);
	api_t_req(&t, "GET", "/api/v1/cases/IO-2", API_BAOCAO, NULL, 404);
	cr_assert(harness_file_wait(t.f.proc.stderr_path, logged, API_BOUND_MS),
		  "the daemon's log does not say \"%s\"", logged);

	/* The fault gone, the daemon recovers by itself: the same request succeeds. */
	fault(false);
	cr_assert_eq(create("IO-2", &r), 201, "%s", r.resp.body);
	cr_assert_eq(create("IO-3", &r), 201, "%s", r.resp.body);
	api_reply_free(&r);

	cr_assert_eq(api_fixture_crash(&t.f, &e), 0, "%s", e.msg);
	cr_assert_eq(unsetenv("LD_PRELOAD"), 0);
	cr_assert_eq(api_fixture_restart(&t.f, &e), 0, "%s", e.msg);
	cr_assert_eq(cases_named("IO-1"), 1);
	cr_assert_eq(cases_named("IO-2"), 1);
	cr_assert_eq(cases_named("IO-3"), 1);
	cr_assert_eq(cases_named("IO-LOST"), 0, "refused with 503, yet kept");
	cr_assert_eq(api_db_int(&t.f, "SELECT count(*) FROM cases", &e), 3);
	cr_assert_eq(api_db_int(&t.f, "SELECT count(*) FROM events", &e), 3,
		     "one create event per acknowledged case, none of the refused ones");
	api_t_stop(&t);
}

Test(faults_io, eio_writing_the_wal_refuses_the_commit)
{
	refused_then_recovered("pwrite", "EIO", "nothing of it was kept",
			       "commit failed: disk I/O error (Input/output error)");
}


/* Both the client and the log are told the database is full. */
Test(faults_io, enospc_writing_the_wal_is_a_full_database)
{
	refused_then_recovered("pwrite", "ENOSPC", "the database is full (the disk or "
			       "database.max_size_mb); nothing of the change was kept",
			       "the database is full");
}

/* The file system turned read-only under the running daemon (a remount, a failing disk): every
 * write and opening for writing fails with EROFS. */
Test(faults_io, file_system_read_only_while_running)
{
	refused_then_recovered("write,pwrite,fsync,open", "EROFS", "nothing of it was kept",
			       "commit failed: disk I/O error (Read-only file system)");
}

/* A commit reaches the WAL at once and the disk with the sync thread's fdatasync (api.c), whose
 * answers wait for it. When it fails, the kernel no longer says what reached the disk (a later
 * fsync succeeds for pages it dropped), so the commits it should have covered are cut out of
 * the WAL, their requests answered 503, and the daemon exits 1 at once for systemd to restart.
 * The cut must hold: an fsync that failed after the WAL frames were written leaves the commit
 * frame in the file (the kernel's page cache has it), and WAL recovery would bring a refused
 * case back (docs/testing.md, "Fault injection", finding 1). The restart finds exactly the
 * acknowledged cases, and takes the refused ones again. `together` requests go at once, so
 * that several commits wait for the failing sync. */
static void sync_fails(size_t together)
{
	static const char *const headers[] = { "Authorization: Bearer " API_MOTCUA,
					       "Content-Type: application/json", NULL };
	struct api_reply r = { 0 }, replies[8] = { { 0 } };
	char bodies[8][300];
	const char *texts[8];
	struct err e = { 0 };
	char *log;
	int status;

	cr_assert_leq(together, 8);
	preload("*/var/dunghan.db*", "fsync", "EIO");
	api_t_start(&t, NULL);
	cr_assert_eq(create("SYNC-1", &r), 201, "%s", r.resp.body);
	fault(true);
	for (size_t i = 0; i < together; i++) {
		snprintf(bodies[i], sizeof(bodies[i]),
			 "{\"code\": \"SYNC-LOST-%zu\", \"procedure\": \"1.004873\", \"unit\": "
			 "\"xa-tu-phap-tan-phu\", \"applicant\": \"Nguyễn Văn A\", "
			 "\"received_at\": \"2024-02-07T10:00:00+07:00\"}", i);
		texts[i] = bodies[i];
	}
	/* The daemon may end before it reads the last ones: no answer is no acknowledgement; but
	 * the first it read waited for the sync, and is told. */
	api_fan_out(&t.f, together, "POST", "/api/v1/cases", headers, texts, replies, &e);
	size_t refused = 0;
	for (size_t i = 0; i < together; i++) {
		refused += replies[i].status == 503;
		cr_assert(replies[i].status == 503 || replies[i].status == 0,
			  "request %zu was answered %d: %s", i, replies[i].status,
			  replies[i].resp.body ? replies[i].resp.body : "");
		if (replies[i].status == 503)
			cr_assert(strstr(api_str(replies[i].json, "error.message"),
					 "nothing of it was kept"), "%s", replies[i].resp.body);
		api_reply_free(&replies[i]);
	}
	cr_assert_geq(refused, 1, "no request was answered 503");
	status = api_fixture_exited(&t.f, &e);
	cr_assert_eq(status, 1, "dunghand did not exit 1 after the failed sync (%d): %s", status,
		     e.msg);
	log = api_fixture_log(&t.f);
	cr_assert(strstr(log, "syncing the WAL failed: Input/output error"), "%s", log);
	free(log);
	log = injected();
	cr_assert(*log, "the shim injected nothing: the test did not test");
	free(log);

	fault(false);
	cr_assert_eq(unsetenv("LD_PRELOAD"), 0);
	cr_assert_eq(api_fixture_restart(&t.f, &e), 0, "%s", e.msg);
	cr_assert_eq(cases_named("SYNC-1"), 1);
	cr_assert_eq(api_db_int(&t.f, "SELECT count(*) FROM cases", &e), 1,
		     "a case answered 503 \"nothing of it was kept\" is in the database after the "
		     "restart");
	cr_assert_eq(api_db_int(&t.f, "SELECT count(*) FROM events", &e), 1);
	cr_assert_eq(create("SYNC-LOST-0", &r), 201, "%s", r.resp.body);
	api_reply_free(&r);
	api_t_stop(&t);
}

Test(faults_io, eio_on_the_wal_sync_cuts_the_commit_and_stops)
{
	sync_fails(1);
}

Test(faults_io, eio_on_the_wal_sync_cuts_every_commit_it_covered)
{
	sync_fails(8);
}

/* Starts dunghand on the stopped fixture's config and database with the shim refusing to open
 * the database file for writing with error, and expects it to exit non-zero at once, its log
 * naming the file and saying why (want). */
static void refused_at_start(const char *error, const char *want)
{
	struct harness_proc p;
	char *argv[] = { (char *)harness_dunghand(), "-c", t.f.conf, NULL };
	char *log;
	int rc;

	api_t_start(&t, NULL);
	api_t_stop(&t);
	preload("*/var/dunghan.db", "open", error);
	fault(true);
	cr_assert_eq(harness_spawn(&t.f.h, &p, argv, NULL, "refused.log"), 0);
	rc = harness_wait(&p, API_BOUND_MS);
	if (rc < 0)
		harness_kill(&p);
	cr_assert_gt(rc, 0, "dunghand did not refuse to start on a read-only database (%d)", rc);
	log = harness_read(p.stderr_path);
	cr_assert_not_null(log);
	cr_assert(strstr(log, t.f.db) && strstr(log, want), "the log does not name the file and "
		  "say \"%s\":\n%s", want, log);
	free(log);
}

/* The database file read-only when the daemon starts (chmod 0400; the tests run as root, for
 * whom the mode does not matter, so the shim refuses opening it for writing with EACCES as the
 * kernel would for another user): the daemon refuses to start and says why, which is what an
 * operator wants rather than a daemon that takes requests it can only refuse. */
Test(faults_io, read_only_database_file_at_start)
{
	refused_at_start("EACCES", "Permission denied");
}

/* The same on a file system mounted read-only. */
Test(faults_io, read_only_file_system_at_start)
{
	refused_at_start("EROFS", "Read-only file system");
}

/* Expects the daemon, told to stop, to exit with exit_status and no sanitizer report; then
 * starts it again without the shim. */
static void restarted_after_exit(int exit_status)
{
	struct err e = { 0 };
	int status = api_fixture_exited(&t.f, &e);
	char *log;

	cr_assert_eq(status, exit_status, "dunghand's exit status: %d (%s)", status, e.msg);
	log = api_fixture_log(&t.f);
	cr_assert_null(strstr(log, "Sanitizer"), "%s", log);
	cr_assert_null(strstr(log, "runtime error"), "%s", log);
	free(log);
	fault(false);
	cr_assert_eq(unsetenv("LD_PRELOAD"), 0);
	cr_assert_eq(api_fixture_restart(&t.f, &e), 0, "%s", e.msg);
}

/* Requests sent from a thread while the test stops the daemon under them. */
struct fan {
	struct api_fixture *f;
	size_t n;
	char bodies[4][300];
	const char *texts[4];
	struct api_reply replies[4];
	struct err e;
};

static void *fan_run(void *arg)
{
	static const char *const headers[] = { "Authorization: Bearer " API_MOTCUA,
					       "Content-Type: application/json", NULL };
	struct fan *fan = arg;

	api_fan_out(fan->f, fan->n, "POST", "/api/v1/cases", headers, fan->texts, fan->replies,
		    &fan->e);
	return NULL;
}

/* SIGTERM while the sync thread's fdatasync of the WAL is slow (FAULTFS_DELAY_MS), then
 * failing with error ("none": not failing). Four cases are sent at once once the disk is slow
 * and the stop comes while their sync runs. Each answer is the one status want, or none (a
 * request the daemon had not read when it stopped); the daemon exits with exit_status and
 * says nothing of sanitizers; after a restart, the cases answered 201 are there and no other. */
static void stopped_during_a_slow_sync(const char *error, int want, int exit_status)
{
	struct api_reply r = { 0 };
	struct fan fan = { .f = &t.f, .n = 4 };
	pthread_t thread;
	size_t answered = 0, kept = 0;

	preload("*/var/dunghan.db-wal", "fsync", error);
	cr_assert_eq(setenv("FAULTFS_DELAY_MS", "400", 1), 0);
	api_t_start(&t, NULL);
	cr_assert_eq(create("SLOW-0", &r), 201, "%s", r.resp.body);
	api_reply_free(&r);
	for (size_t i = 0; i < fan.n; i++) {
		snprintf(fan.bodies[i], sizeof(fan.bodies[i]),
			 "{\"code\": \"SLOW-%zu\", \"procedure\": \"1.004873\", \"unit\": "
			 "\"xa-tu-phap-tan-phu\", \"applicant\": \"Nguyễn Văn A\", "
			 "\"received_at\": \"2024-02-07T10:00:00+07:00\"}", i + 1);
		fan.texts[i] = fan.bodies[i];
	}
	fault(true);
	cr_assert_eq(pthread_create(&thread, NULL, fan_run, &fan), 0);
	cr_assert(harness_file_wait(fault_path("log"), "slow fdatasync", API_BOUND_MS),
		  "no sync of the WAL began after the requests");
	harness_signal(&t.f.proc, SIGTERM);
	cr_assert_eq(pthread_join(thread, NULL), 0);
	restarted_after_exit(exit_status);
	for (size_t i = 0; i < fan.n; i++) {
		int got = fan.replies[i].status;
		const char *body = fan.replies[i].resp.body ? fan.replies[i].resp.body : "";
		char code[16];

		cr_assert(got == want || got == 0, "SLOW-%zu was answered %d: %s", i + 1, got,
			  body);
		if (got == 503)
			cr_assert(strstr(api_str(fan.replies[i].json, "error.message"),
					 "nothing of it was kept"), "%s", body);
		snprintf(code, sizeof(code), "SLOW-%zu", i + 1);
		if (got)
			cr_assert_eq(cases_named(code), got == 201, "%s, answered %d, is %s the "
				     "database after the restart", code, got,
				     got == 201 ? "not in" : "in");
		answered += got != 0;
		kept += cases_named(code) == 1;
		api_reply_free(&fan.replies[i]);
	}
	cr_assert_geq(answered, 1, "no request was answered: the stop did not wait for the sync");
	if (want != 201)
		cr_assert_eq(kept, 0, "a case of the failed sync is in the database");
	cr_assert_eq(cases_named("SLOW-0"), 1);
	api_t_stop(&t);
}

/* The stop waits for the sync under way, answers what it made durable, and exits 0. */
Test(faults_io, stop_during_a_slow_wal_sync_answers_and_exits_0)
{
	stopped_during_a_slow_sync("none", 201, 0);
}

/* The sync under way at the stop fails: its commits are cut, their requests told so, exit 1. */
Test(faults_io, wal_sync_failing_during_the_stop_cuts_and_exits_1)
{
	stopped_during_a_slow_sync("EIO", 503, 1);
}

/* Clients creating cases one after the other, each on its kept-alive connection, until told
 * to stop (or, until_no_answer, until a request gets no answer: the daemon has stopped). Case
 * "<prefix>-<id>-<n>" is received at `received` and due at `due` (NULL: computed). Each request's
 * answer is recorded for the checks after a restart. */
#define CREATOR_MAX 4096

struct creator {
	int port;
	int id;
	const char *prefix, *received, *due;
	const volatile bool *stop;
	bool until_no_answer;
	atomic_size_t *acked; /* shared: 201s so far, for the test to wait on */
	size_t n;             /* requests made */
	short status[CREATOR_MAX];
	bool not_kept[CREATOR_MAX]; /* a 503 saying that nothing of it was kept */
};

static void *creator_run(void *arg)
{
	struct creator *c = arg;
	struct http_client *conn = NULL;
	char body[400], due[80] = "";

	if (c->due)
		snprintf(due, sizeof(due), ", \"due_at\": \"%s\"", c->due);
	while (!*c->stop && c->n < CREATOR_MAX) {
		struct api_reply r = { 0 };
		struct err e = { 0 };
		int n = snprintf(body, sizeof(body),
				 "{\"code\": \"%s-%d-%zu\", \"procedure\": \"1.004222\", \"unit\": "
				 "\"xa-tu-phap-tan-phu\", \"handler\": \"tuan.hm\", \"received_at\": "
				 "\"%s\"%s}", c->prefix, c->id, c->n, c->received, due);

		api_call_conn(&conn, c->port, API_BOUND_MS, "POST", "/api/v1/cases", API_MOTCUA,
			      "application/json", body, (size_t)n, NULL, &r, &e);
		c->status[c->n] = (short)r.status;
		c->not_kept[c->n] = r.status == 503 && r.resp.body &&
				    strstr(r.resp.body, "nothing of it was kept");
		if (r.status == 201)
			atomic_fetch_add(c->acked, 1);
		api_reply_free(&r);
		if (!c->status[c->n++] && c->until_no_answer)
			break;
	}
	http_client_free(conn);
	return NULL;
}

static struct creator creators[16];
static pthread_t creator_threads[16];
static atomic_size_t creators_acked;
static volatile bool creators_stop;

static void creators_start(const char *prefix, const char *received, const char *due,
			   bool until_no_answer)
{
	atomic_store(&creators_acked, 0);
	creators_stop = false;
	for (int i = 0; i < 16; i++) {
		creators[i] = (struct creator){ .port = t.f.port, .id = i, .prefix = prefix,
						.received = received, .due = due,
						.stop = &creators_stop,
						.until_no_answer = until_no_answer,
						.acked = &creators_acked };
		cr_assert_eq(pthread_create(&creator_threads[i], NULL, creator_run, &creators[i]),
			     0);
	}
}

/* Waits for every client to end (stopping them first unless they end by themselves). */
static void creators_join(bool stop)
{
	if (stop)
		creators_stop = true;
	for (int i = 0; i < 16; i++)
		cr_assert_eq(pthread_join(creator_threads[i], NULL), 0);
}

/* After a restart: each case answered 201 is there; each answered 503 said that nothing of it
 * was kept and is not there; no other answer came (0: none, in doubt). Returns the 201s. */
static size_t creators_check(void)
{
	size_t acked = 0;
	char code[64];

	for (int i = 0; i < 16; i++)
		for (size_t k = 0; k < creators[i].n; k++) {
			int got = creators[i].status[k];

			snprintf(code, sizeof(code), "%s-%d-%zu", creators[i].prefix, i, k);
			cr_assert(got == 201 || got == 503 || got == 0, "%s was answered %d", code,
				  got);
			if (got == 503)
				cr_assert(creators[i].not_kept[k], "%s: a 503 that does not say "
					  "nothing of it was kept", code);
			if (got)
				cr_assert_eq(cases_named(code), got == 201, "%s, answered %d, is %s "
					     "the database", code, got, got == 201 ? "not in" : "in");
			acked += got == 201;
		}
	return acked;
}

/* Sixteen clients on a disk whose every fdatasync of the WAL takes 150 ms: the API holds its
 * turns open while a sync runs (api.c, turn_can_wait), so the SIGTERM finds held turns and
 * their requests waiting. The stop commits what is held, waits for its sync and answers; the
 * daemon exits 0; after the restart every case answered 201 is there. */
Test(faults_io, stop_while_turns_are_held_on_a_slow_disk)
{
	preload("*/var/dunghan.db-wal", "fsync", "none");
	cr_assert_eq(setenv("FAULTFS_DELAY_MS", "150", 1), 0);
	api_t_start(&t, NULL);
	fault(true);
	creators_start("STOP", "2024-02-07T10:00:00+07:00", NULL, true);
	for (int ms = 0; atomic_load(&creators_acked) < 48 && ms < API_BOUND_MS; ms += 10)
		api_sleep_ms(10);
	cr_assert_geq(atomic_load(&creators_acked), 48, "the clients got no answers");
	harness_signal(&t.f.proc, SIGTERM);
	restarted_after_exit(0);
	creators_join(true);
	cr_assert_geq(creators_check(), 48);
	api_t_stop(&t);
}

/* A configuration reload (SIGHUP) while sixteen clients write: the signal arrives in the middle
 * of the loop's I/O, when a turn's transaction may be open, and the reload's own transaction
 * (the units, people and procedures written again) must not fail for it. Every one of twenty
 * reloads is done, none logs "still running on the previous configuration", nothing is
 * logged as an error, and the writes go on. */
Test(faults_io, sighup_under_write_load_reloads_every_time)
{
	size_t from = 0, before;
	int reloaded = 0;
	char *log, *p;

	api_t_start(&t, NULL);
	creators_start("HUP", "2024-02-07T10:00:00+07:00", NULL, false);
	for (int i = 0; i < 20; i++) {
		before = atomic_load(&creators_acked);
		for (int ms = 0; atomic_load(&creators_acked) < before + 16 && ms < API_BOUND_MS;
		     ms += 5)
			api_sleep_ms(5);
		harness_signal(&t.f.proc, SIGHUP);
		cr_assert(harness_notify_wait(&t.f.h, "RELOADING=1", &from, API_BOUND_MS));
		cr_assert(harness_notify_wait(&t.f.h, "READY=1", &from, API_BOUND_MS));
	}
	creators_join(true);
	log = api_fixture_log(&t.f);
	for (p = log; (p = strstr(p, "reload: configuration reloaded")); p++)
		reloaded++;
	cr_assert_null(strstr(log, "still running on the previous"), "%s", log);
	cr_assert_null(strstr(log, " error: "), "%s", log);
	cr_assert_eq(reloaded, 20);
	free(log);
	for (int i = 0; i < 16; i++)
		for (size_t k = 0; k < creators[i].n; k++)
			cr_assert_eq(creators[i].status[k], 201, "HUP-%d-%zu answered %d", i, k,
				     creators[i].status[k]);
	api_t_stop(&t);
}

/* Sixteen clients at once on a slow disk (every fdatasync of the WAL 20 ms): while a sync runs
 * and more requests are ready, the API holds its transaction open across loop turns to commit
 * them together (api.c, turn_can_wait). Every case created is already due, so the scheduler's
 * timer fires between those turns over and over, and its own transaction must begin all the
 * same (store_begin has the held one committed first): for two seconds of creates, every
 * create is acknowledged and kept, every case gets its "due" alert, and the daemon logs no
 * error (without the release, "scheduler: cannot start: cannot begin a transaction"). */
Test(faults_io, the_scheduler_writes_between_turns_held_on_a_slow_disk)
{
	struct api_options o = {
		.calendar = API_RTC_CALENDAR,
		.extra = "escalation: {\n  templates = \"" DUNGHAN_SOURCE_DIR
			 "/config/templates\";\n  cases = (\n    { id = \"due\"; when = \"due\"; "
			 "notify = [\"handler\"]; }\n  );\n};\n",
	};
	char due[40], received[40];
	struct err e = { 0 };
	size_t created;
	int64_t alerted = -1, t0;
	char *log;

	preload("*/var/dunghan.db-wal", "fsync", "none");
	cr_assert_eq(setenv("FAULTFS_DELAY_MS", "20", 1), 0);
	api_t_start(&t, &o);
	t0 = (int64_t)time(NULL);
	api_format_instant(received, sizeof(received), t0 - 120);
	api_format_instant(due, sizeof(due), t0 - 60);
	fault(true);
	creators_start("HELD", received, due, false);
	while ((int64_t)time(NULL) <= t0 + 2)
		api_sleep_ms(100);
	creators_join(true);
	created = atomic_load(&creators_acked);
	for (int i = 0; i < 16; i++)
		for (size_t k = 0; k < creators[i].n; k++)
			cr_assert_eq(creators[i].status[k], 201, "HELD-%d-%zu answered %d", i, k,
				     creators[i].status[k]);
	for (int64_t by = (int64_t)time(NULL) + 10; (int64_t)time(NULL) <= by;) {
		alerted = api_db_int(&t.f, "SELECT count(DISTINCT item_id) FROM alerts WHERE "
				     "item_kind = 'case' AND rule_id = 'due'", &e);
		if (alerted == (int64_t)created)
			break;
		api_sleep_ms(100);
	}
	cr_assert_eq(alerted, (int64_t)created, "%lld of %zu overdue cases were alerted",
		     (long long)alerted, created);
	log = api_fixture_log(&t.f);
	cr_assert_null(strstr(log, " error: "), "%s", log);
	free(log);
	fault(false);
	api_t_stop(&t);
	cr_assert_eq(api_db_int(&t.f, "SELECT count(*) FROM cases WHERE code LIKE 'HELD-%'", &e),
		     (int64_t)created);
}
