/* SMTP and webhook outages under the real dunghand (issue #10), beyond test_delivery.c (which
 * has a server down then up, 550 for a recipient, 451 at DATA, a refused login, an untrusted
 * certificate, webhook 5xx/4xx/429 and a listener that never answers): an SMTP greeting of 421,
 * 554 at DATA, an answer to DATA after the timeout, the connection lost after DATA; a webhook
 * answering 503 with Retry-After, closing before its answer, down then up, refusing until dead
 * then retried; TLS handshakes with something that does not speak TLS, and a certificate
 * nobody trusts (openssl s_server). Each checks what docs/delivery.md says:
 * every attempt logged with its outcome, retries until delivered or dead, nothing lost, a
 * repeat carrying the same Message-ID / Idempotency-Key.
 *
 * As in test_delivery.c: a round-the-clock calendar and a case two days overdue, whose rule
 * fires at once; backoff of at most 1-2 s. Every wait polls with a bound. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api_fixture.h"
#include "listeners.h"

#define FAST_DELIVERY                                                                            \
	"enabled = true; backoff_base = \"1s\"; backoff_cap = \"2s\"; max_attempts = 4; "       \
	"timeout = \"2s\"; connect_timeout = \"1s\";"
#define EMAIL_RULE "{ id = \"late\"; when = \"+1d\"; notify = [\"head\"]; }"
#define CHAT_RULE "{ id = \"late\"; when = \"+1d\"; notify = [\"channel:t-out\"]; }"
#define HEAD_ADDRESS "phong.tv@dongnai.gov.vn"

static struct api_t t;
static struct harness wh; /* the SMTP server's spool */
static struct listener *L;
static struct smtp_server *S;
static int smtp_port_;

static void teardown(void)
{
	api_t_teardown(&t);
	listener_free(L);
	L = NULL;
	smtp_server_stop(S);
	S = NULL;
	if (wh.dir[0])
		harness_close(&wh);
	memset(&wh, 0, sizeof(wh));
}

TestSuite(faults_delivery, .fini = teardown, .timeout = 120);

static void start(const char *rule, const char *email, const char *channel_url,
		  const char *delivery)
{
	char *extra, channels[400] = "";

	if (channel_url)
		snprintf(channels, sizeof(channels),
			 "  { id = \"t-out\"; type = \"slack\"; url = \"%s\"; }", channel_url);
	cr_assert_geq(asprintf(&extra,
			       "escalation: {\n  templates = \"" DUNGHAN_SOURCE_DIR
			       "/config/templates\";\n  cases = (\n%s\n  );\n};\n",
			       rule),
		      0);
	struct api_options o = { .extra = extra, .calendar = API_RTC_CALENDAR,
				 .delivery = delivery ? delivery : FAST_DELIVERY, .email = email,
				 .channels = channel_url ? channels : NULL };
	api_t_start(&t, &o);
	free(extra);
}

static void smtp_start(const char *const *args)
{
	struct err e = { 0 };

	smtp_port_ = harness_free_port();
	wh.notify_fd = -1;
	cr_assert_eq(harness_init(&wh), 0);
	S = smtp_server_start(&wh, "smtp", smtp_port_, args, &e);
	cr_assert(S, "%s", e.msg);
}

static const char *smtp_plain(void)
{
	static char cfg[300];

	snprintf(cfg, sizeof(cfg),
		 "transport = \"smtp\"; url = \"smtp://127.0.0.1:%d\"; tls = \"none\"; "
		 "from = \"Đúng Hạn <dunghan@dongnai.gov.vn>\";",
		 smtp_port_);
	return cfg;
}

/* A case of hctc (head phong.tv) two days overdue: its "+1d" rule fires at once, writing one
 * outbox row; returns its id. */
static int64_t one_message(void)
{
	int64_t now = (int64_t)time(NULL);
	char r[40], d[40];

	api_format_instant(r, sizeof(r), now - 4 * 86400);
	api_format_instant(d, sizeof(d), now - 2 * 86400);
	api_t_reqf(&t, "POST", "/api/v1/cases", API_MOTCUA, 201,
		   "{\"code\": \"000.00.21.H19-250101-0001\", \"procedure\": \"1.004222\", "
		   "\"unit\": \"hctc\", \"handler\": \"phong.tv\", \"received_at\": \"%s\", "
		   "\"due_at\": \"%s\"}", r, d);
	for (int waited = 0;; waited += 50) {
		json_t *box = api_t_all(&t, "/api/v1/outbox", "outbox", API_ADMIN);
		if (json_array_size(box) >= 1) {
			cr_assert_eq(json_array_size(box), 1, "%s", json_dumps(box, JSON_COMPACT));
			return api_int(json_array_get(box, 0), "id");
		}
		cr_assert_lt(waited, API_BOUND_MS, "no outbox row");
		api_sleep_ms(50);
	}
}

/* Waits until outbox row id has status; returns the row. */
static json_t *wait_status(int64_t id, const char *status, int timeout_ms)
{
	char path[80];

	snprintf(path, sizeof(path), "/api/v1/outbox/%lld", (long long)id);
	for (int waited = 0;; waited += 50) {
		json_t *box = api_t_all(&t, "/api/v1/outbox", "outbox", API_ADMIN), *row;
		size_t i;
		json_array_foreach (box, i, row)
			if (api_int(row, "id") == id && !strcmp(api_str(row, "status"), status))
				return row;
		cr_assert_lt(waited, timeout_ms, "outbox %lld not %s after %d ms: %s", (long long)id,
			     status, timeout_ms, json_dumps(box, JSON_COMPACT));
		api_sleep_ms(50);
	}
}

/* The attempts of row id, in order: [attempt, outcome, curl code (-1: none), reply]. */
static json_t *attempts(int64_t id)
{
	struct err e = { 0 };
	char sql[200];
	json_t *a;

	snprintf(sql, sizeof(sql),
		 "SELECT attempt, outcome, coalesce(curl_code, -1), coalesce(reply, '') FROM "
		 "delivery_attempts WHERE outbox_id = %lld ORDER BY id", (long long)id);
	a = api_db_query(&t.f, sql, &e);
	cr_assert(a, "%s", e.msg);
	return api_t_keep(&t, a);
}

/* Expects attempt i (0-based) of a to have the outcome, curl code (-2: any) and a reply
 * containing reply (NULL: any). */
static void expect_attempt(json_t *a, size_t i, const char *outcome, int curl, const char *reply)
{
	json_t *at = json_array_get(a, i);
	char *all = json_dumps(a, JSON_COMPACT);

	cr_assert(at, "no attempt %zu: %s", i + 1, all);
	cr_assert_eq(json_integer_value(json_array_get(at, 0)), (json_int_t)i + 1, "%s", all);
	cr_assert_str_eq(json_string_value(json_array_get(at, 1)), outcome, "%s", all);
	if (curl != -2)
		cr_assert_eq(json_integer_value(json_array_get(at, 2)), curl, "%s", all);
	if (reply)
		cr_assert(strstr(json_string_value(json_array_get(at, 3)), reply), "%s", all);
	free(all);
}

/* The messages the SMTP server accepted, and the Message-ID of the i-th (a new string). */
static json_t *messages(void)
{
	struct err e = { 0 };
	json_t *m = smtp_server_messages(S, 0, &e);

	cr_assert(m, "%s", e.msg);
	return api_t_keep(&t, m);
}

static char *message_id(json_t *msgs, size_t i)
{
	char *id = smtp_header(api_str(json_array_get(msgs, i), "data"), "Message-ID");

	cr_assert_not_null(id, "message %zu has no Message-ID", i);
	return id;
}

/* --- SMTP --------------------------------------------------------------------------------- */

/* 421 at the greeting, twice (a relay overloaded or going down): retried, then delivered once. */
Test(faults_delivery, smtp_greeting_421_is_retried)
{
	smtp_start((const char *const[]){ "--greet-421", "2", NULL });
	start(EMAIL_RULE, smtp_plain(), NULL, NULL);
	int64_t id = one_message();
	wait_status(id, "sent", 20000);
	json_t *a = attempts(id);
	cr_assert_eq(json_array_size(a), 3, "%s", json_dumps(a, JSON_COMPACT));
	expect_attempt(a, 0, "retryable", -2, "421");
	expect_attempt(a, 1, "retryable", -2, "421");
	expect_attempt(a, 2, "ok", 0, "250");
	cr_assert_eq(json_array_size(messages()), 1);
	api_t_stop(&t);
}

/* 554 at DATA (the message refused for good): dead after one attempt, nothing delivered, the
 * reason in last_error; the dead letter stays for an operator (GET ?status=dead). */
Test(faults_delivery, smtp_554_at_data_is_dead)
{
	smtp_start((const char *const[]){ "--reject-data", "1", NULL });
	start(EMAIL_RULE, smtp_plain(), NULL, NULL);
	int64_t id = one_message();
	json_t *row = wait_status(id, "dead", 20000);
	json_t *a = attempts(id);
	cr_assert_eq(json_array_size(a), 1, "%s", json_dumps(a, JSON_COMPACT));
	expect_attempt(a, 0, "permanent", -2, "554");
	cr_assert(strstr(api_str(row, "last_error"), "554"), "%s", json_dumps(row, JSON_COMPACT));
	json_t *dead = api_t_req(&t, "GET", "/api/v1/outbox?status=dead", API_ADMIN, NULL, 200);
	cr_assert_eq(json_array_size(json_object_get(dead, "outbox")), 1);
	cr_assert_eq(json_array_size(messages()), 0);
	api_t_stop(&t);
}

/* The answer to DATA comes after the attempt's timeout (2 s): the attempt times out (curl 28,
 * retryable) though the server kept the message; the retry delivers it again with the same
 * Message-ID, so that the receiver can drop the repeat. libcurl waits for that answer
 * blocking (finding 3 of docs/testing.md, "Fault injection"): on the SMTP thread, so the loop
 * answers /healthz meanwhile, asked every millisecond, each within 1 s (on the loop it took the
 * whole 1.9 s; the bound leaves room for a loaded CI machine, far below the freeze);
 * and the timed-out connection is not reused, so the retry is the second and last attempt. */
Test(faults_delivery, smtp_answer_after_the_timeout_is_retried)
{
	smtp_start((const char *const[]){ "--slow-data", "1", "--slow-seconds", "4", NULL });
	start(EMAIL_RULE, smtp_plain(), NULL, NULL);
	int64_t id = one_message();
	double worst = 0;
	int asked = 0;
	struct timespec t0, a0, a1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* Until the retry's message arrives (the first one lands at once, its answer 4 s late). */
	for (; smtp_server_count(S) < 2; asked++) {
		clock_gettime(CLOCK_MONOTONIC, &a0);
		cr_assert_lt(a0.tv_sec - t0.tv_sec, 20, "no retry within 20 s");
		api_t_req(&t, "GET", "/healthz", NULL, NULL, 200);
		clock_gettime(CLOCK_MONOTONIC, &a1);
		double ms = (double)(a1.tv_sec - a0.tv_sec) * 1e3 + (a1.tv_nsec - a0.tv_nsec) / 1e6;
		if (ms > worst)
			worst = ms;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL); /* pacing, not waiting */
	}
	cr_log_info("%d /healthz, the slowest %.1f ms, while the SMTP answer was late", asked,
		    worst);
	cr_assert_gt(asked, 10, "the slow answer was not waited for (%d requests)", asked);
	cr_assert_lt(worst, 1000.0, "/healthz took %.0f ms while the SMTP answer was late", worst);
	wait_status(id, "sent", 20000);
	json_t *a = attempts(id);
	cr_assert_eq(json_array_size(a), 2, "%s", json_dumps(a, JSON_COMPACT));
	expect_attempt(a, 0, "retryable", 28, NULL);
	expect_attempt(a, 1, "ok", 0, "250");
	json_t *m = messages();
	cr_assert_eq(json_array_size(m), 2, "the slow answer's message and the retry's");
	char *first = message_id(m, 0), *second = message_id(m, 1);
	cr_assert_str_eq(first, second, "a repeat carries the row's Message-ID");
	free(first);
	free(second);
	api_t_stop(&t);
}

/* A graceful stop while the SMTP server holds its answer to DATA (the timeout is 30 s, and
 * libcurl waits for that answer blocking on the SMTP thread): the daemon stops within a few
 * seconds, exit 0, the row still `pending` and no attempt recorded; restarted, it sends the
 * message again with the same Message-ID. */
Test(faults_delivery, smtp_stop_while_the_answer_is_held)
{
	char hold[600];
	struct err e = { 0 };
	struct timespec a0, a1;

	smtp_port_ = harness_free_port();
	wh.notify_fd = -1;
	cr_assert_eq(harness_init(&wh), 0);
	snprintf(hold, sizeof(hold), "%s/smtp-hold", wh.dir);
	cr_assert_eq(harness_write(&wh, "smtp-hold", "hold"), 0);
	const char *const args[] = { "--hold", hold, NULL };
	S = smtp_server_start(&wh, "smtp", smtp_port_, args, &e);
	cr_assert(S, "%s", e.msg);
	start(EMAIL_RULE, smtp_plain(), NULL,
	      "enabled = true; backoff_base = \"1s\"; backoff_cap = \"2s\"; max_attempts = 4; "
	      "timeout = \"30s\"; connect_timeout = \"1s\";");
	int64_t id = one_message();
	cr_assert(smtp_server_wait(S, 1, API_BOUND_MS), "the SMTP server got no message");
	clock_gettime(CLOCK_MONOTONIC, &a0);
	cr_assert_eq(api_fixture_stop(&t.f, &e), 0, "%s", e.msg);
	clock_gettime(CLOCK_MONOTONIC, &a1);
	double ms = (double)(a1.tv_sec - a0.tv_sec) * 1e3 + (a1.tv_nsec - a0.tv_nsec) / 1e6;
	cr_log_info("stopped in %.0f ms with the SMTP answer held", ms);
	cr_assert_lt(ms, 5000.0, "the stop waited %.0f ms for the held SMTP answer", ms);
	cr_assert_eq(api_db_int(&t.f, "SELECT count(*) FROM outbox WHERE status = 'pending'", &e),
		     1, "%s", e.msg);
	cr_assert_eq(api_db_int(&t.f, "SELECT count(*) FROM delivery_attempts", &e), 0, "%s",
		     e.msg);
	unlink(hold);
	cr_assert_eq(api_fixture_restart(&t.f, &e), 0, "%s", e.msg);
	wait_status(id, "sent", 20000);
	json_t *a = attempts(id);
	cr_assert_eq(json_array_size(a), 1, "%s", json_dumps(a, JSON_COMPACT));
	expect_attempt(a, 0, "ok", 0, "250");
	json_t *m = messages();
	cr_assert_eq(json_array_size(m), 2, "the held message and the one sent after the restart");
	char *first = message_id(m, 0), *second = message_id(m, 1);
	cr_assert_str_eq(first, second, "a repeat carries the row's Message-ID");
	free(first);
	free(second);
	api_t_stop(&t);
}

/* The connection is lost after DATA, before the answer: retryable, delivered again with the
 * same Message-ID. */
Test(faults_delivery, smtp_connection_lost_after_data_is_retried)
{
	smtp_start((const char *const[]){ "--drop-data", "1", NULL });
	start(EMAIL_RULE, smtp_plain(), NULL, NULL);
	int64_t id = one_message();
	wait_status(id, "sent", 20000);
	json_t *a = attempts(id);
	cr_assert_eq(json_array_size(a), 2, "%s", json_dumps(a, JSON_COMPACT));
	expect_attempt(a, 0, "retryable", -2, NULL);
	expect_attempt(a, 1, "ok", 0, "250");
	json_t *m = messages();
	cr_assert_eq(json_array_size(m), 2);
	char *first = message_id(m, 0), *second = message_id(m, 1);
	cr_assert_str_eq(first, second);
	free(first);
	free(second);
	api_t_stop(&t);
}

/* --- webhooks ----------------------------------------------------------------------------- */

static void listener_start(const struct listener_step *steps)
{
	struct err e = { 0 };

	L = listener_new(&e);
	cr_assert(L, "%s", e.msg);
	listener_script(L, steps, (struct listener_step){ .status = 200 });
}

static const char *listener_url(void)
{
	static char url[100];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/out", listener_port(L));
	return url;
}

/* Both requests of one row: the same body and Idempotency-Key. */
static void expect_same_request(void)
{
	const struct listener_request *r[4];

	cr_assert_eq(listener_requests(L, "/out", r, 4), 2);
	char *k0 = listener_header(r[0]->head, "Idempotency-Key");
	char *k1 = listener_header(r[1]->head, "Idempotency-Key");
	cr_assert(k0 && k1 && !strcmp(k0, k1), "Idempotency-Key %s then %s", k0, k1);
	cr_assert_str_eq(r[0]->body, r[1]->body);
	free(k0);
	free(k1);
}

/* 503 with Retry-After: 2 (a receiver in maintenance): the retry waits at least that long. */
Test(faults_delivery, webhook_503_retry_after)
{
	listener_start((struct listener_step[]){ { "/out", 503, "Retry-After: 2\r\n", "maint", 0,
						   0 },
						 { 0 } });
	start(CHAT_RULE, NULL, listener_url(), NULL);
	int64_t id = one_message();
	wait_status(id, "sent", 20000);
	json_t *a = attempts(id);
	cr_assert_eq(json_array_size(a), 2, "%s", json_dumps(a, JSON_COMPACT));
	expect_attempt(a, 0, "retryable", 0, "503");
	expect_attempt(a, 1, "ok", 0, "200");
	const struct listener_request *r[4];
	cr_assert_eq(listener_requests(L, "/out", r, 4), 2);
	cr_assert_geq(r[1]->at - r[0]->answered, 1.95, "Retry-After: 2, the retry came after "
		      "%.2f s", r[1]->at - r[0]->answered);
	expect_same_request();
	api_t_stop(&t);
}

/* The receiver closes the connection after reading the request, before answering (curl 52,
 * "empty reply"): retried with the same Idempotency-Key, delivered. */
Test(faults_delivery, webhook_closed_before_the_answer)
{
	listener_start((struct listener_step[]){ { "/out", 200, NULL, NULL, 3, 0 }, { 0 } });
	start(CHAT_RULE, NULL, listener_url(), NULL);
	int64_t id = one_message();
	wait_status(id, "sent", 20000);
	json_t *a = attempts(id);
	cr_assert_eq(json_array_size(a), 2, "%s", json_dumps(a, JSON_COMPACT));
	expect_attempt(a, 0, "retryable", 52, NULL);
	expect_attempt(a, 1, "ok", 0, "200");
	expect_same_request();
	api_t_stop(&t);
}

/* Waits until row id has at least n attempts; returns them. */
static json_t *wait_attempts(int64_t id, size_t n)
{
	for (int waited = 0;; waited += 50) {
		json_t *a = attempts(id);
		if (json_array_size(a) >= n)
			return a;
		cr_assert_lt(waited, 20000, "%zu attempts, expected %zu: %s", json_array_size(a), n,
			     json_dumps(a, JSON_COMPACT));
		api_sleep_ms(50);
	}
}

/* The receiver is down (connection refused, curl 7), then comes up: delivered once, nothing
 * lost. */
Test(faults_delivery, webhook_down_then_up)
{
	struct err e = { 0 };
	int port = harness_free_port();
	char url[100];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/out", port);
	start(CHAT_RULE, NULL, url, NULL);
	int64_t id = one_message();
	json_t *a = wait_attempts(id, 2);
	expect_attempt(a, 0, "retryable", 7, NULL);
	expect_attempt(a, 1, "retryable", 7, NULL);
	cr_assert_not_null(L = listener_new_on(port, &e), "%s", e.msg);
	wait_status(id, "sent", 20000);
	a = attempts(id);
	expect_attempt(a, json_array_size(a) - 1, "ok", 0, "200");
	const struct listener_request *r[4];
	cr_assert_eq(listener_requests(L, "/out", r, 4), 1);
	api_t_stop(&t);
}

/* Nobody listens for every attempt: dead after max_attempts (3), each attempt logged, the row
 * kept dead with its last error; once the receiver is up, POST .../retry delivers it. */
Test(faults_delivery, webhook_refused_until_dead_then_retried)
{
	struct err e = { 0 };
	int port = harness_free_port();
	char url[100], path[80];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/out", port);
	start(CHAT_RULE, NULL, url,
	      "enabled = true; backoff_base = \"1s\"; backoff_cap = \"1s\"; max_attempts = 3; "
	      "timeout = \"2s\"; connect_timeout = \"1s\";");
	int64_t id = one_message();
	json_t *row = wait_status(id, "dead", 20000);
	json_t *a = attempts(id);
	cr_assert_eq(json_array_size(a), 3, "%s", json_dumps(a, JSON_COMPACT));
	for (size_t i = 0; i < 3; i++)
		expect_attempt(a, i, "retryable", 7, NULL);
	cr_assert(api_str(row, "last_error") && *api_str(row, "last_error"), "%s",
		  json_dumps(row, JSON_COMPACT));
	cr_assert_not_null(L = listener_new_on(port, &e), "%s", e.msg);
	snprintf(path, sizeof(path), "/api/v1/outbox/%lld/retry", (long long)id);
	api_t_req(&t, "POST", path, API_ADMIN, NULL, 200);
	wait_status(id, "sent", 20000);
	a = attempts(id);
	cr_assert_eq(json_array_size(a), 4, "%s", json_dumps(a, JSON_COMPACT));
	expect_attempt(a, 3, "ok", 0, "200");
	api_t_stop(&t);
}

/* --- TLS ---------------------------------------------------------------------------------- */

/* A TLS handshake with a server that does not speak TLS (it greets "220 ..." in clear): the
 * webhook (https://) and the e-mail (smtps://) attempts fail in the handshake (curl 35),
 * retryable, until dead; nothing reaches anyone in clear. */
Test(faults_delivery, tls_handshake_with_a_plain_server)
{
	char url[100], email[300];

	smtp_start(NULL);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/out", smtp_port_);
	snprintf(email, sizeof(email),
		 "transport = \"smtp\"; url = \"smtps://127.0.0.1:%d\"; tls = \"required\"; "
		 "from = \"Đúng Hạn <dunghan@dongnai.gov.vn>\";",
		 smtp_port_);
	start("{ id = \"late\"; when = \"+1d\"; notify = [\"head\", \"channel:t-out\"]; }", email,
	      url,
	      "enabled = true; backoff_base = \"1s\"; backoff_cap = \"1s\"; max_attempts = 2; "
	      "timeout = \"2s\"; connect_timeout = \"1s\";");
	int64_t now = (int64_t)time(NULL);
	char r[40], d[40];
	api_format_instant(r, sizeof(r), now - 4 * 86400);
	api_format_instant(d, sizeof(d), now - 2 * 86400);
	api_t_reqf(&t, "POST", "/api/v1/cases", API_MOTCUA, 201,
		   "{\"code\": \"000.00.21.H19-250101-0001\", \"procedure\": \"1.004222\", "
		   "\"unit\": \"hctc\", \"handler\": \"phong.tv\", \"received_at\": \"%s\", "
		   "\"due_at\": \"%s\"}", r, d);
	json_t *box;
	for (int waited = 0;; waited += 50) {
		box = api_t_all(&t, "/api/v1/outbox", "outbox", API_ADMIN);
		if (json_array_size(box) >= 2)
			break;
		cr_assert_lt(waited, API_BOUND_MS, "%s", json_dumps(box, JSON_COMPACT));
		api_sleep_ms(50);
	}
	for (size_t i = 0; i < 2; i++) {
		int64_t id = api_int(json_array_get(box, i), "id");
		wait_status(id, "dead", 20000);
		json_t *a = attempts(id);
		cr_assert_eq(json_array_size(a), 2, "%s", json_dumps(a, JSON_COMPACT));
		expect_attempt(a, 0, "retryable", 35, NULL);
		expect_attempt(a, 1, "retryable", 35, NULL);
	}
	cr_assert_eq(json_array_size(messages()), 0);
	api_t_stop(&t);
}

/* Runs argv in the test's directory and waits for its exit (bounded); expects status 0. */
static void run_tool(char *const argv[], const char *log)
{
	struct harness_proc p;
	int rc;

	cr_assert_eq(harness_spawn(&wh, &p, argv, NULL, log), 0);
	rc = harness_wait(&p, 30000);
	if (rc < 0)
		harness_kill(&p);
	cr_assert_eq(rc, 0, "%s exited %d", argv[0], rc);
}

/* A receiver behind a certificate nobody trusts (self-signed, made now, served by
 * `openssl s_server`): verification fails (curl 60), retryable, until dead; the certificate is
 * never accepted, whatever the attempt. */
Test(faults_delivery, webhook_untrusted_certificate)
{
	char cert[600], key[600], url[100], accept[16];
	struct harness_proc server;
	int port = harness_free_port();

	wh.notify_fd = -1;
	cr_assert_eq(harness_init(&wh), 0);
	harness_path(&wh, "cert.pem", cert, sizeof(cert));
	harness_path(&wh, "key.pem", key, sizeof(key));
	run_tool((char *const[]){ "/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048",
				  "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj",
				  "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", NULL },
		 "openssl-req.log");
	snprintf(accept, sizeof(accept), "%d", port);
	cr_assert_eq(harness_spawn(&wh, &server,
				   (char *const[]){ "/usr/bin/openssl", "s_server", "-quiet",
						    "-accept", accept, "-cert", cert, "-key", key,
						    "-www", NULL },
				   NULL, "s_server.log"),
		     0);
	/* listening: a connection succeeds (bounded) */
	for (int waited = 0;; waited += 50) {
		struct err e = { 0 };
		struct http_client *c = http_client_connect("127.0.0.1", port, 500, &e);
		if (c) {
			http_client_free(c);
			break;
		}
		cr_assert_lt(waited, 10000, "openssl s_server does not listen: %s", e.msg);
		api_sleep_ms(50);
	}
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/out", port);
	start(CHAT_RULE, NULL, url,
	      "enabled = true; backoff_base = \"1s\"; backoff_cap = \"1s\"; max_attempts = 2; "
	      "timeout = \"2s\"; connect_timeout = \"1s\";");
	int64_t id = one_message();
	wait_status(id, "dead", 20000);
	json_t *a = attempts(id);
	cr_assert_eq(json_array_size(a), 2, "%s", json_dumps(a, JSON_COMPACT));
	expect_attempt(a, 0, "retryable", 60, NULL);
	expect_attempt(a, 1, "retryable", 60, NULL);
	api_t_stop(&t);
	harness_kill(&server);
}
