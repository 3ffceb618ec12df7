/* Escalation across restarts (docs/escalation.md, "When rules fire"): a SIGTERM between two
 * rules, with the second's instant passing while the daemon is down, and a kill -9 while a
 * few thousand alerts of the same second are being written. After the restart every rule fires
 * once: none twice, none missing, and every alert has all of its outbox rows.
 *
 * Round-the-clock calendar: working time is wall-clock time. Waiting for an instant while the
 * daemon is down is waiting for the clock, not hoping that something happened. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_fixture.h"

static struct api_t t;

static void teardown(void)
{
	api_t_teardown(&t);
}

TestSuite(escalation_restart, .fini = teardown, .timeout = 240);

static void start(const char *rules)
{
	char *extra;

	cr_assert_geq(asprintf(&extra,
			       "escalation: {\n  templates = \"" DUNGHAN_SOURCE_DIR
			       "/config/templates\";\n  cases = (\n%s\n  );\n};\n",
			       rules),
		      0);
	struct api_options o = { .extra = extra, .calendar = API_RTC_CALENDAR, .log_level = "warn" };
	api_t_start(&t, &o);
	free(extra);
}

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

static void restart(void)
{
	struct err e = { 0 };
	cr_assert_eq(api_fixture_restart(&t.f, &e), 0, "restarting dunghand: %s", e.msg);
}

static json_t *wait_alerts(const char *code, size_t n, int64_t by)
{
	for (;;) {
		json_t *a = api_t_case_alerts(&t, code);
		if (json_array_size(a) >= n)
			return a;
		cr_assert(now_s() <= by + 10, "%s: %zu alerts by %lld, expected %zu: %s", code,
			  json_array_size(a), (long long)by + 10, n, json_dumps(a, JSON_COMPACT));
		api_sleep_ms(50);
	}
}

/* Expects the case's alerts to be exactly these rules, each occurrence 0, in this order. */
static void expect_rules(const char *code, const char *const rules[])
{
	json_t *a = api_t_case_alerts(&t, code);
	size_t n = 0;

	while (rules[n])
		n++;
	cr_assert_eq(json_array_size(a), n, "%s: %zu alerts, expected %zu: %s", code,
		     json_array_size(a), n, json_dumps(a, JSON_COMPACT));
	for (size_t i = 0; i < n; i++) {
		api_t_expect_str(json_array_get(a, i), "rule", rules[i]);
		api_t_expect_int(json_array_get(a, i), "occurrence", 0);
	}
}

static void wait_until(int64_t instant)
{
	while (now_s() <= instant)
		api_sleep_ms(100);
}

/* SIGTERM between two rules. S1 fired "soon" before the stop; its "due" passes while the
 * daemon is down and fires once at the restart. S2 crossed both while down: one alert, "due".
 * S3's rules all come after the restart and fire on time. */
Test(escalation_restart, sigterm_between_rules)
{
	start("{ id = \"soon\"; when = \"-6s\"; notify = [\"handler\"]; },\n"
	      "{ id = \"due\"; when = \"due\"; notify = [\"head\"]; }");
	int64_t t0 = now_s();
	api_t_create_case(&t, "000.00.21.H19-250101-0001", t0, t0 + 8);
	api_t_create_case(&t, "000.00.21.H19-250101-0002", t0, t0 + 12);
	api_t_create_case(&t, "000.00.21.H19-250101-0003", t0, t0 + 40);
	wait_alerts("000.00.21.H19-250101-0001", 1, t0 + 2);
	api_t_stop(&t);
	cr_assert(now_s() < t0 + 6, "stopped too late for S2's first rule (t0+6)");

	wait_until(t0 + 13);
	restart();
	json_t *a1 = wait_alerts("000.00.21.H19-250101-0001", 2, now_s());
	json_t *a2 = wait_alerts("000.00.21.H19-250101-0002", 1, now_s());
	(void)a1;
	(void)a2;
	/* S3's soon (t0+34) proves the restarted scheduler works, and that S1 and S2 had time
	 * to fire again if they were going to. */
	wait_alerts("000.00.21.H19-250101-0003", 1, t0 + 34);
	expect_rules("000.00.21.H19-250101-0001", (const char *const[]){ "soon", "due", NULL });
	expect_rules("000.00.21.H19-250101-0002", (const char *const[]){ "due", NULL });
	wait_alerts("000.00.21.H19-250101-0003", 2, t0 + 40);
	expect_rules("000.00.21.H19-250101-0003", (const char *const[]){ "soon", "due", NULL });

	/* one row per recipient and alert: tuan.hm for soon, binh.lt for due */
	json_t *box = api_t_all(&t, "/api/v1/outbox", "outbox", API_ADMIN);
	cr_assert_eq(json_array_size(box), 5, "%s", json_dumps(box, JSON_COMPACT));
	api_t_stop(&t);
}

#define MANY 3000
#define ROWS_PER_ALERT 4 /* tuan.hm, binh.lt, channel:hctc-group, the unit's tuphap-tanphu */

/* kill -9 while the alerts of MANY cases due at the same second are written (in chunks of
 * 500, one transaction each): after the restart every case has exactly one alert of the rule,
 * and every alert all of its rows. */
Test(escalation_restart, kill9_while_writing_alerts)
{
	char *extra;
	cr_assert_geq(
		asprintf(&extra,
			 "escalation: {\n  templates = \"" DUNGHAN_SOURCE_DIR "/config/templates\";\n"
			 "  cases = ( { id = \"due\"; when = \"due\"; notify = [\"handler\", \"head\","
			 " \"channel:hctc-group\"]; channels = [\"email\", \"chat\"]; } );\n};\n"),
		0);
	struct api_options o = {
		.extra = extra, .calendar = API_RTC_CALENDAR, .log_level = "warn",
		.office_edits = (const char *const[]){
			"head = \"binh.lt\"; }", "head = \"binh.lt\"; channels = [\"tuphap-tanphu\"]; }",
			NULL },
	};
	api_t_start(&t, &o);
	free(extra);

	/* One batch of MANY cases, all due at t0+due_in. */
	size_t cap = (size_t)MANY * 300, len = 0;
	char *body = malloc(cap), r[40], d[40];
	int64_t t0 = now_s(), due = t0 + 6;
	api_format_instant(r, sizeof(r), t0);
	api_format_instant(d, sizeof(d), due);
	for (int i = 0; i < MANY; i++)
		len += (size_t)snprintf(body + len, cap - len,
					"{\"code\": \"000.00.21.H19-250101-%04d\", \"procedure\": "
					"\"1.004222\", \"unit\": \"xa-tu-phap-tan-phu\", \"handler\": "
					"\"tuan.hm\", \"received_at\": \"%s\", \"due_at\": \"%s\"}\n",
					i + 1, r, d);
	json_t *j = api_t_call(&t, "POST", "/api/v1/cases:batch", API_MOTCUA, "application/x-ndjson",
			       body, len, 200);
	free(body);
	api_t_expect_int(j, "created", MANY);
	cr_assert(now_s() < due, "creating %d cases took past their due instant", MANY);

	/* The first alerts: kill at once. The API is not asked (the daemon answers between its
	 * chunks at best): a read-only look at the database sees the first commit. */
	struct err e = { 0 };
	for (;;) {
		int64_t n = api_db_int(&t.f, "SELECT count(*) FROM alerts", &e);
		cr_assert_geq(n, 0, "%s", e.msg);
		if (n > 0)
			break;
		cr_assert(now_s() <= due + 10, "no alert by due + 10 s");
	}
	cr_assert_eq(api_fixture_crash(&t.f, &e), 0, "kill -9: %s", e.msg);

	/* What the crash left: whole alerts only. */
	int64_t alerts = api_db_int(&t.f, "SELECT count(*) FROM alerts", &e);
	cr_assert_geq(alerts, 1, "%s", e.msg);
	int64_t partial = api_db_int(&t.f,
				     "SELECT count(*) FROM alerts a WHERE (SELECT count(*) FROM "
				     "outbox o WHERE o.alert_id = a.id) <> " "4",
				     &e);
	cr_assert_eq(partial, 0, "alerts without their %d rows after kill -9 (%s)", ROWS_PER_ALERT,
		     e.msg);
	cr_log_info("kill -9 after %lld of %d alerts", (long long)alerts, MANY);

	restart();
	json_t *all;
	for (;;) {
		all = api_t_all(&t, "/api/v1/alerts?rule=due&limit=500", "alerts", API_BAOCAO);
		if (json_array_size(all) >= MANY)
			break;
		cr_assert(now_s() <= due + 60, "%zu alerts of %d a minute after due",
			  json_array_size(all), MANY);
		api_sleep_ms(100);
	}
	cr_assert_eq(json_array_size(all), MANY, "%zu alerts for %d cases", json_array_size(all),
		     MANY);
	static bool seen[MANY + 1];
	memset(seen, 0, sizeof(seen));
	json_t *al;
	size_t i;
	json_array_foreach (all, i, al) {
		const char *code = api_str(al, "item");
		int n = code ? atoi(code + strlen(code) - 4) : 0;
		cr_assert(n >= 1 && n <= MANY, "alert of %s", code ? code : "(none)");
		cr_assert(!seen[n], "two alerts for %s", code);
		seen[n] = true;
		api_t_expect_int(al, "occurrence", 0);
		cr_assert_eq(api_parse_instant(api_str(al, "due_at")), due);
		cr_assert_eq(api_parse_instant(api_str(al, "fire_at")), due);
	}

	/* Every alert has its rows, no row is twice. */
	json_t *box = api_t_all(&t, "/api/v1/outbox?limit=500", "outbox", API_ADMIN);
	cr_assert_eq(json_array_size(box), (size_t)MANY * ROWS_PER_ALERT, "%zu rows",
		     json_array_size(box));
	int64_t uneven = api_db_int(&t.f,
				    "SELECT count(*) FROM (SELECT alert_id, count(*) n, "
				    "count(DISTINCT channel || ':' || recipient) k FROM outbox "
				    "GROUP BY alert_id) WHERE n <> 4 OR k <> 4",
				    &e);
	cr_assert_eq(uneven, 0, "alerts whose rows are not exactly the %d recipients (%s)",
		     ROWS_PER_ALERT, e.msg);
	api_t_stop(&t);
}
