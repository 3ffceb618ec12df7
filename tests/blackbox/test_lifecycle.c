/* The real dunghand: start-up, readiness, the lock against a second instance, reload on SIGHUP
 * (valid and broken files), graceful stop on SIGTERM, the systemd watchdog, and the command
 * line. Each test runs the binary with a temporary config and database. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "http_client.h"

#define BOUND_MS 10000

static struct harness h;
static struct harness_proc proc;
static char conf[600], db[600];
static int port;

static void setup(void)
{
	cr_assert_eq(harness_init(&h), 0);
	harness_path(&h, "dunghan.conf", conf, sizeof(conf));
	harness_path(&h, "var/dunghan.db", db, sizeof(db));
	port = 0; /* the kernel picks it as dunghand binds; STATUS= says which */
	memset(&proc, 0, sizeof(proc));
	proc.pidfd = -1;
}

static void teardown(void)
{
	harness_kill(&proc);
	harness_close(&h);
}

TestSuite(lifecycle, .init = setup, .fini = teardown, .timeout = 60);

/* A small office; `level` and `extra_unit` vary between tests. */
static void write_config(const char *level, bool extra_unit)
{
	char text[4096];

	snprintf(text, sizeof(text),
		 "server: { listen = \"127.0.0.1:%d\"; };\n"
		 "database: { path = \"%s\"; };\n"
		 "log: { level = \"%s\"; };\n"
		 "units = ( { id = \"vp\"; name = \"Văn phòng UBND tỉnh\"; level = \"office\"; head = \"long.nk\"; }%s );\n"
		 "people = ( { id = \"long.nk\"; name = \"Nguyễn Kim Long\"; unit = \"vp\"; } );\n"
		 "procedures = ( { code = \"1.004873\"; name = \"Cấp Giấy xác nhận tình trạng hôn nhân\"; days = 3; } );\n",
		 port, db, level,
		 extra_unit ? ",\n  { id = \"hctc\"; name = \"Phòng Hành chính - Tổ chức\"; level = \"department\"; parent = \"vp\"; }"
			    : "");
	cr_assert_eq(harness_write(&h, "dunghan.conf", text), 0);
}

static void start(struct harness_proc *p, const char *log, const char *const env[])
{
	char *argv[] = { (char *)harness_dunghand(), "-c", conf, NULL };
	cr_assert_eq(harness_spawn(&h, p, argv, env, log), 0);
}

static char *log_text(const struct harness_proc *p)
{
	char *t = harness_read(p->stderr_path);
	cr_assert_not_null(t);
	return t;
}

static void assert_clean_log(const struct harness_proc *p)
{
	char *t = log_text(p);
	cr_assert_null(strstr(t, "Sanitizer"), "sanitizer report:\n%s", t);
	cr_assert_null(strstr(t, "runtime error"), "sanitizer report:\n%s", t);
	free(t);
}

static void stop_and_expect_zero(void)
{
	harness_signal(&proc, SIGTERM);
	int rc = harness_wait(&proc, BOUND_MS);
	char *t = log_text(&proc);
	cr_assert_eq(rc, 0, "exit status %d; log:\n%s", rc, t);
	free(t);
	assert_clean_log(&proc);
}

Test(lifecycle, ready_status_and_graceful_stop)
{
	size_t at = 0;

	write_config("info", false);
	start(&proc, "dunghand.log", NULL);
	cr_assert(harness_notify_wait(&h, "READY=1", &at, BOUND_MS), "no READY=1; log: %s",
		  harness_read(proc.stderr_path));
	cr_assert(harness_notify_wait(&h, "STATUS=serving on 127.0.0.1:", NULL, BOUND_MS));
	cr_assert(strstr(h.received, ": 1 units, 1 people, 1 procedures; log level info"), "%s",
		  h.received);
	int bound = atoi(strstr(h.received, "STATUS=serving on 127.0.0.1:") + 28);
	cr_assert_gt(bound, 0, "the bound port is reported: %s", h.received);

	/* Serving: the health check answers without a token. */
	struct err err;
	struct http_client *c = http_client_connect("127.0.0.1", bound, BOUND_MS, &err);
	struct http_client_response resp = { 0 };
	cr_assert_not_null(c, "%s", err.msg);
	cr_assert_eq(http_client_request(c, "GET", "/healthz", NULL, NULL, 0, &resp, &err), 0, "%s",
		     err.msg);
	cr_assert_eq(resp.status, 200);
	cr_assert_str_eq(resp.body, "{\"status\":\"ok\"}");
	http_client_response_free(&resp);
	http_client_free(c);
	stop_and_expect_zero();
	cr_assert(harness_notify_wait(&h, "STOPPING=1", &at, 0));
	cr_assert(harness_file_wait(proc.stderr_path, "stop: done", 0));

	/* The database was created, private, and migrated. */
	sqlite3 *raw;
	sqlite3_stmt *s;
	cr_assert_eq(sqlite3_open_v2(db, &raw, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(raw, "SELECT name FROM units WHERE id = 'vp'", -1, &s, NULL),
		     SQLITE_OK);
	cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
	cr_assert_str_eq((const char *)sqlite3_column_text(s, 0), "Văn phòng UBND tỉnh");
	sqlite3_finalize(s);
	sqlite3_close(raw);
}

Test(lifecycle, second_instance_on_same_database_exits_1)
{
	struct harness_proc second;

	write_config("info", false);
	start(&proc, "first.log", NULL);
	cr_assert(harness_notify_wait(&h, "READY=1", NULL, BOUND_MS));
	start(&second, "second.log", NULL);
	int rc = harness_wait(&second, BOUND_MS);
	char *t = log_text(&second);
	cr_assert_eq(rc, 1, "exit %d; log: %s", rc, t);
	cr_assert(strstr(t, "is in use by another dunghand"), "%s", t);
	free(t);
	stop_and_expect_zero();
}

/* A port already taken: dunghand says so and exits 1, having stopped what it had started —
 * the mail thread included, which once posted to a loop already closed and aborted the
 * process (9 starts in 10). Five starts, each must end cleanly. */
Test(lifecycle, port_in_use_exits_1_cleanly)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int holder = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert(holder >= 0);
	cr_assert_eq(bind(holder, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(holder, 1), 0);
	cr_assert_eq(getsockname(holder, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	write_config("info", false);
	char *base = harness_read(conf), text[8192];
	cr_assert_not_null(base);
	snprintf(text, sizeof(text), "%semail: { transport = \"smtp\"; url = \"smtp://127.0.0.1:1\"; "
		 "tls = \"none\"; from = \"dunghan@example.gov.vn\"; };\n", base);
	free(base);
	cr_assert_eq(harness_write(&h, "dunghan.conf", text), 0);
	for (int i = 0; i < 5; i++) {
		struct harness_proc p = { .pidfd = -1 };
		char log[32];

		snprintf(log, sizeof(log), "start%d.log", i);
		start(&p, log, NULL);
		int rc = harness_wait(&p, BOUND_MS);
		char *t = log_text(&p);
		cr_assert_eq(rc, 1, "start %d: exit status %d; log:\n%s", i, rc, t);
		cr_assert(strstr(t, "address already in use"), "%s", t);
		free(t);
		assert_clean_log(&p);
	}
	close(holder);
}

Test(lifecycle, sighup_with_valid_edit_applies_it)
{
	size_t at = 0;

	write_config("error", false);
	start(&proc, "dunghand.log", NULL);
	cr_assert(harness_notify_wait(&h, "READY=1", &at, BOUND_MS));
	write_config("info", true);
	harness_signal(&proc, SIGHUP);
	cr_assert(harness_notify_wait(&h, "RELOADING=1", &at, BOUND_MS));
	cr_assert(harness_notify_wait(&h, "MONOTONIC_USEC=", &at, BOUND_MS));
	cr_assert(harness_notify_wait(&h, "STATUS=serving on", &at, BOUND_MS));
	cr_assert(strstr(h.received + at, ": 2 units, 1 people, 1 procedures; log level info"),
		  "%s", h.received);
	cr_assert(harness_notify_wait(&h, "READY=1", &at, BOUND_MS));
	/* The first start logged at level error only; the reload's info line shows the new level. */
	char *t = log_text(&proc);
	cr_assert_null(strstr(t, "started"), "info lines before the reload: %s", t);
	cr_assert(strstr(t, "reload: configuration reloaded from"), "%s", t);
	free(t);
	stop_and_expect_zero();
}

Test(lifecycle, sighup_with_broken_file_keeps_old_config)
{
	size_t at = 0;

	write_config("info", false);
	start(&proc, "dunghand.log", NULL);
	cr_assert(harness_notify_wait(&h, "READY=1", &at, BOUND_MS));
	cr_assert_eq(harness_write(&h, "dunghan.conf", "log: { level = \"loud\"; };\n"), 0);
	harness_signal(&proc, SIGHUP);
	cr_assert(harness_notify_wait(&h, "RELOADING=1", &at, BOUND_MS));
	cr_assert(harness_notify_wait(&h, "READY=1", &at, BOUND_MS));
	cr_assert(harness_file_wait(proc.stderr_path, "still running on the previous one", BOUND_MS));
	char *t = log_text(&proc);
	cr_assert(strstr(t, "log.level: \"loud\" is not one of"), "%s", t);
	free(t);
	/* Still alive and still answering signals: a valid file reloads again. */
	write_config("info", true);
	harness_signal(&proc, SIGHUP);
	cr_assert(harness_notify_wait(&h, "2 units", &at, BOUND_MS));
	cr_assert(harness_notify_wait(&h, "READY=1", &at, BOUND_MS));
	stop_and_expect_zero();
	/* No holiday file: this year follows the statutory rule, which is logged once (at the
	 * start), not again by each reload's new calendar. */
	t = log_text(&proc);
	const char *first = strstr(t, "no official holiday schedule is loaded for");
	cr_assert(first, "%s", t);
	cr_assert_null(strstr(first + 1, "no official holiday schedule is loaded for"), "%s", t);
	free(t);
}

Test(lifecycle, watchdog_pings)
{
	static const char *const env[] = { "WATCHDOG_USEC=200000", NULL };
	size_t at = 0;

	write_config("info", false);
	start(&proc, "dunghand.log", env);
	cr_assert(harness_notify_wait(&h, "READY=1", &at, BOUND_MS));
	cr_assert(harness_notify_wait(&h, "WATCHDOG=1", &at, BOUND_MS));
	cr_assert(harness_notify_wait(&h, "WATCHDOG=1", &at, BOUND_MS), "pings repeat");
	stop_and_expect_zero();
}

Test(lifecycle, newer_database_is_refused)
{
	sqlite3 *raw;

	write_config("info", false);
	start(&proc, "first.log", NULL);
	cr_assert(harness_notify_wait(&h, "READY=1", NULL, BOUND_MS));
	stop_and_expect_zero();
	cr_assert_eq(sqlite3_open_v2(db, &raw, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(raw, "PRAGMA user_version = 999", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(raw);
	start(&proc, "second.log", NULL);
	int rc = harness_wait(&proc, BOUND_MS);
	char *t = log_text(&proc);
	cr_assert_eq(rc, 1);
	cr_assert(strstr(t, "the database has schema version 999"), "%s", t);
	free(t);
}

Test(lifecycle, bad_config_at_start_exits_1)
{
	cr_assert_eq(harness_write(&h, "dunghan.conf", "units = ( { id = \"vp\"; } );\n"), 0);
	start(&proc, "dunghand.log", NULL);
	int rc = harness_wait(&proc, BOUND_MS);
	char *t = log_text(&proc);
	cr_assert_eq(rc, 1);
	cr_assert(strstr(t, "units[0].name: required setting is missing"), "%s", t);
	free(t);
}

/* Runs dunghand with argv, returns its exit status, its output in *out. */
static int run_cli(char *const argv[], char **out)
{
	struct harness_proc p;
	cr_assert_eq(harness_spawn(&h, &p, argv, NULL, "cli.log"), 0);
	int rc = harness_wait(&p, BOUND_MS);
	*out = log_text(&p);
	cr_assert_eq(truncate(p.stderr_path, 0), 0);
	return rc;
}

Test(lifecycle, command_line)
{
	char *out;

	write_config("info", false);
	char *check[] = { (char *)harness_dunghand(), "--check-config", "-c", conf, NULL };
	cr_assert_eq(run_cli(check, &out), 0);
	cr_assert_str_eq(out, "ok\n");
	free(out);

	cr_assert_eq(harness_write(&h, "dunghan.conf", "server: { listen = \"127.0.0.1\"; };\n"), 0);
	cr_assert_eq(run_cli(check, &out), 1);
	cr_assert(strstr(out, ":1: server.listen: \"127.0.0.1\" is not an address"), "%s", out);
	free(out);

	char *version[] = { (char *)harness_dunghand(), "--version", NULL };
	cr_assert_eq(run_cli(version, &out), 0);
	cr_assert(strncmp(out, "dunghand ", 9) == 0, "%s", out);
	free(out);

	char *unknown[] = { (char *)harness_dunghand(), "--frobnicate", NULL };
	cr_assert_eq(run_cli(unknown, &out), 2);
	cr_assert(strstr(out, "Usage: dunghand"), "%s", out);
	free(out);

	char *extra[] = { (char *)harness_dunghand(), "stray", NULL };
	cr_assert_eq(run_cli(extra, &out), 2);
	cr_assert(strstr(out, "unexpected argument \"stray\""), "%s", out);
	free(out);
}
