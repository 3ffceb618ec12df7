/* The wall clock moving under the real dunghand (issue #10): libfaketime, preloaded into the
 * daemon, reads an offset from a file on every call (FAKETIME_TIMESTAMP_FILE, FAKETIME_NO_CACHE),
 * so the test steps the daemon's clock forward and back while it runs, as an administrator's
 * `date -s` or a large NTP step would. The monotonic clock (libuv's timers) is left alone, as a
 * real step leaves it. Checked (docs/escalation.md, "When rules fire"): the alerts due by the new
 * time fire once; a step back fires nothing twice and loses nothing; a daemon stopped for a day
 * collapses its catch-up into one alert per item, the most severe (docs/escalation.md).
 *
 * Round-the-clock calendar: working time is wall-clock time. The scheduler notices a step at
 * its next wake-up (at most 60 s); the test wakes it at once with a control case registered
 * already due, which then proves, by its own alert, that it has looked at the new time. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api_fixture.h"

static struct api_t t;
static char clock_file[64];
static int64_t offset; /* the daemon's clock minus the real one, seconds */

static void teardown(void)
{
	api_t_teardown(&t);
	if (clock_file[0])
		unlink(clock_file);
}

static void setup(void)
{
	int fd;

	if (FAULTS_SANITIZED)
		cr_skip_test("libfaketime is preloaded, which the sanitizers' runtime does not "
			     "allow: run in the gcc build");
	if (!*FAKETIME_LIBRARY || access(FAKETIME_LIBRARY, R_OK) != 0)
		cr_skip_test("libfaketime is not installed (Debian package faketime)");
	snprintf(clock_file, sizeof(clock_file), "/tmp/faketime.XXXXXX");
	cr_assert_geq(fd = mkstemp(clock_file), 0);
	close(fd);
}

TestSuite(faults_clock, .init = setup, .fini = teardown, .timeout = 60);

/* Sets the daemon's clock to the real one plus by seconds. */
static void step_clock(int64_t by)
{
	FILE *f = fopen(clock_file, "w");

	cr_assert_not_null(f);
	fprintf(f, "%+lld\n", (long long)by);
	cr_assert_eq(fclose(f), 0);
	offset = by;
}

/* The daemon's now. */
static int64_t daemon_now(void)
{
	return (int64_t)time(NULL) + offset;
}

static void start(void)
{
	struct api_options o = {
		.calendar = API_RTC_CALENDAR,
		.log_level = "warn",
		.extra = "escalation: {\n  templates = \"" DUNGHAN_SOURCE_DIR "/config/templates\";\n"
			 "  cases = (\n"
			 "    { id = \"soon\"; when = \"-2h\"; notify = [\"handler\"]; },\n"
			 "    { id = \"due\"; when = \"due\"; notify = [\"handler\"]; },\n"
			 "    { id = \"late\"; when = \"+1h\"; notify = [\"head\"];\n"
			 "      repeat = \"1h\"; }\n"
			 "  );\n};\n",
	};

	step_clock(0);
	cr_assert_eq(setenv("LD_PRELOAD", FAKETIME_LIBRARY, 1), 0);
	cr_assert_eq(setenv("FAKETIME_TIMESTAMP_FILE", clock_file, 1), 0);
	cr_assert_eq(setenv("FAKETIME_NO_CACHE", "1", 1), 0);
	cr_assert_eq(setenv("FAKETIME_DONT_FAKE_MONOTONIC", "1", 1), 0);
	api_t_start(&t, &o);
}

/* Waits (bounded) until the case has n alerts; returns them. */
static json_t *wait_alerts(const char *code, size_t n)
{
	for (int waited = 0;; waited += 20) {
		json_t *a = api_t_case_alerts(&t, code);
		if (json_array_size(a) >= n)
			return a;
		cr_assert_lt(waited, API_BOUND_MS, "%s: %zu alerts, expected %zu: %s", code,
			     json_array_size(a), n, json_dumps(a, JSON_COMPACT));
		api_sleep_ms(20);
	}
}

/* Registers a control case already past its "due" rule and waits for that alert: that wakes
 * the scheduler at once (a rule instant already past, whatever the clock did), which then
 * handles everything due by the daemon's now. On its own the scheduler notices a step at its
 * next wake-up, at most 60 s later (docs/escalation.md): too long for a test. */
static void control(const char *code)
{
	int64_t now = daemon_now();

	api_t_create_case(&t, code, now - 60, now - 1);
	wait_alerts(code, 1);
}

/* Expects the case's alerts to be exactly these rules and occurrences, in order. */
static void expect_alerts(const char *code, const char *const rules[], const int occ[])
{
	json_t *a = api_t_case_alerts(&t, code);
	size_t n = 0;

	while (rules[n])
		n++;
	cr_assert_eq(json_array_size(a), n, "%s: %zu alerts, expected %zu: %s", code,
		     json_array_size(a), n, json_dumps(a, JSON_COMPACT));
	for (size_t i = 0; i < n; i++) {
		api_t_expect_str(json_array_get(a, i), "rule", rules[i]);
		api_t_expect_int(json_array_get(a, i), "occurrence", occ[i]);
	}
}

#define RULES(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define OCC(...) ((const int[]){ __VA_ARGS__ })

#define NONE ((const char *const[]){ NULL })

/* A step forward of 3 h over A's "soon" (due - 2h) and "due", a step back to the real time,
 * then forward again past A's "late" and B's rules. Each step forward crosses several rules of
 * an item at once: they collapse into the most severe (docs/escalation.md, "Catch-up"). */
Test(faults_clock, forward_and_back)
{
	int64_t t0;

	start();
	t0 = daemon_now();
	api_t_create_case(&t, "CLOCK-A", t0, t0 + 3 * 3600 - 600); /* soon +50m, due +2h50m, late +3h50m, ... */
	api_t_create_case(&t, "CLOCK-B", t0, t0 + 6 * 3600);       /* soon +4h, due +6h */
	control("CLOCK-C0");
	expect_alerts("CLOCK-A", NONE, NULL);
	expect_alerts("CLOCK-B", NONE, NULL);

	/* Forward 3 h: A's soon and due came, one alert (due); nothing of B's. */
	step_clock(3 * 3600);
	control("CLOCK-C1");
	expect_alerts("CLOCK-A", RULES("due"), OCC(0));
	expect_alerts("CLOCK-B", NONE, NULL);

	/* Back to the real time: nothing fires again, nothing new. */
	step_clock(0);
	control("CLOCK-C2");
	expect_alerts("CLOCK-A", RULES("due"), OCC(0));
	expect_alerts("CLOCK-B", NONE, NULL);
	expect_alerts("CLOCK-C0", RULES("due", "late"), OCC(0, 2)); /* +1h, +2h, +3h as one */
	expect_alerts("CLOCK-C1", RULES("due"), OCC(0));

	/* Forward 6 h 10 m: A's "late" (+3h50m, repeating hourly: +4h50m, +5h50m) collapses into
	 * one alert, its latest occurrence; B's soon and due into its due; nothing was lost to the
	 * step back. */
	step_clock(6 * 3600 + 600);
	control("CLOCK-C3");
	expect_alerts("CLOCK-A", RULES("due", "late"), OCC(0, 2));
	expect_alerts("CLOCK-B", RULES("due"), OCC(0));
	/* The control cases too, each overdue by some hours: one "late", the latest occurrence. */
	expect_alerts("CLOCK-C0", RULES("due", "late", "late"), OCC(0, 2, 5));
	expect_alerts("CLOCK-C1", RULES("due", "late"), OCC(0, 2));
	expect_alerts("CLOCK-C2", RULES("due", "late"), OCC(0, 5));
	expect_alerts("CLOCK-C3", RULES("due"), OCC(0));
	api_t_stop(&t);
}

/* Stopped for a day: at start-up every rule of D came due, and five occurrences of its
 * "late" rule: one alert, the most severe (the latest instant), and one message. */
Test(faults_clock, stopped_for_a_day)
{
	struct err e = { 0 };
	int64_t t0;

	start();
	t0 = daemon_now();
	api_t_create_case(&t, "DAY-D", t0, t0 + 18 * 3600 + 1800); /* soon +16h30m, due +18h30m, late +19h30m */
	api_t_create_case(&t, "DAY-E", t0, t0 + 48 * 3600);        /* nothing by +24h */
	control("DAY-C0");
	api_t_stop(&t);

	step_clock(24 * 3600); /* late occurrences at +19h30m .. +23h30m: 0 to 4 */
	cr_assert_eq(api_fixture_restart(&t.f, &e), 0, "%s", e.msg);
	wait_alerts("DAY-D", 1);
	control("DAY-C1");
	expect_alerts("DAY-D", RULES("late"), OCC(4));
	expect_alerts("DAY-E", NONE, NULL);
	/* the control case of before the stop, overdue by a day: 23 hourly "late" as one */
	expect_alerts("DAY-C0", RULES("due", "late"), OCC(0, 23));
	/* one message for the one alert: the head of the unit */
	cr_assert_eq(api_db_int(&t.f, "SELECT count(*) FROM outbox o JOIN alerts a ON a.id = "
				"o.alert_id JOIN cases c ON c.id = a.item_id AND a.item_kind = "
				"'case' WHERE c.code = 'DAY-D'", &e), 1, "%s", e.msg);
	api_t_stop(&t);
}
