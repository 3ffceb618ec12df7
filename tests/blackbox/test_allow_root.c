/* The real dunghand refuses to run as root (effective user id 0) unless --allow-root is given
 * (issue #10, "Security checks"): exit status 2, a message naming the flag, and nothing
 * created. --check-config stays allowed. These tests need root, as CI has; elsewhere they skip.
 * Every other test starts dunghand through harness_spawn(), which passes the flag under root. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api_fixture.h"

static struct api_fixture f;

static void setup(void)
{
	struct err err;

	if (geteuid() != 0)
		cr_skip_test("needs root: the refusal only happens for euid 0");
	/* A database made and the daemon stopped again: the office is valid, the flag passed by
	 * the harness works. */
	cr_assert_eq(api_fixture_start(&f, NULL, &err), 0, "%s", err.msg);
	cr_assert_eq(api_fixture_stop(&f, &err), 0, "%s", err.msg);
}

static void teardown(void)
{
	if (!f.h.dir[0])
		return; /* skipped */
	harness_kill(&f.proc);
	api_fixture_close(&f);
}

TestSuite(allow_root, .init = setup, .fini = teardown, .timeout = 60);

/* Runs dunghand with exactly argv[1..]; returns its exit status, *log its output. */
static int run_exact(char *const argv[], const char *log_name, char **log)
{
	struct harness_proc p;
	int rc;

	cr_assert_eq(harness_spawn_exact(&f.h, &p, argv, NULL, log_name), 0);
	rc = harness_wait(&p, API_BOUND_MS);
	if (rc < 0)
		harness_kill(&p);
	*log = harness_read(p.stderr_path);
	cr_assert_not_null(*log);
	return rc;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

Test(allow_root, refused_without_the_flag_and_nothing_created)
{
	char *argv[] = { (char *)harness_dunghand(), "-c", f.conf, NULL };
	char wal[640];
	char *log;

	/* Without its database, a start would create one: the refusal must not. */
	snprintf(wal, sizeof(wal), "%s-wal", f.db);
	cr_assert_eq(unlink(f.db), 0);
	unlink(wal);
	cr_assert_eq(run_exact(argv, "refused.log", &log), 2);
	cr_assert_str_eq(log, "dunghand: refusing to run as root (effective user id 0): run it as an "
			      "unprivileged user (the packaged unit uses \"dunghan\"), or pass "
			      "--allow-root to run as root anyway\n");
	cr_assert(!exists(f.db), "the refused start created %s", f.db);
	free(log);
}

Test(allow_root, the_flag_starts_it)
{
	char *argv[] = { (char *)harness_dunghand(), "--allow-root", "-c", f.conf, NULL };
	struct err err;
	size_t from = f.h.received_len;

	cr_assert_eq(harness_spawn_exact(&f.h, &f.proc, argv, NULL, "dunghand.log"), 0);
	f.running = true;
	cr_assert(harness_notify_wait(&f.h, "READY=1", &from, API_BOUND_MS), "no READY=1");
	cr_assert_eq(api_fixture_stop(&f, &err), 0, "%s", err.msg);
}

Test(allow_root, check_config_needs_no_flag)
{
	char *argv[] = { (char *)harness_dunghand(), "--check-config", "-c", f.conf, NULL };
	char *log;

	cr_assert_eq(run_exact(argv, "check.log", &log), 0, "%s", log);
	cr_assert_str_eq(log, "ok\n");
	free(log);
}
