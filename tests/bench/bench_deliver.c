/* bench_deliver: how fast dunghand empties its outbox — webhooks to a local HTTP listener and
 * e-mail to a local SMTP server — against a bare libcurl multi loop sending the same requests
 * with the same concurrency, on one thread (the yardstick: the daemon runs libcurl on
 * threads of its own beside its loop, so the CPU a message, printed beside the rates, is the
 * like-for-like comparison).
 *
 * The webhook listener is the project's own HTTP server (daemon/http.h) on a libuv loop of its
 * own in a thread of this program: it answers every request 200 "ok" at once and counts them.
 * The SMTP server is aiosmtpd (Debian python3-aiosmtpd: /usr/bin/python3 -m aiosmtpd, handler
 * aiosmtpd.handlers.Sink, which discards), started as a child process.
 *
 * Two phases, each on a fresh temporary directory and database (tests/support/api_fixture.h:
 * the example office, log level warn), with a round-the-clock calendar, `delivery: { enabled =
 * true; }`, a slack channel "bench-hook" at http://127.0.0.1:PORT/hook with max_connections = C
 * (-c, default 16) and an smtp e-mail transport to aiosmtpd (tls "none", max_connections = E,
 * -e, default 4, the default of the setting):
 *   1. webhooks: dunghand is started once to create and migrate the database and stopped; N
 *      outbox rows (channel 'chat', recipient "bench-hook", a Vietnamese chat line, pending,
 *      not_before 0) are written straight into SQLite; dunghand is started again and a
 *      read-only connection asks every 20 ms whether a row is still 'pending' or 'sending'
 *      until none is (all sent, or dead). The rate is N over the time from the listener's first
 *      request to the poll that saw the last row done (so it includes the commit of the
 *      outcomes).
 *   2. e-mail: the same with M rows (channel 'email', address a@example.gov.vn, recipient
 *      "binh.lt" of the example, subject, text and HTML bodies), timed from READY=1.
 * Before each daemon phase, the baseline sends the same N requests (the same body and headers,
 * built by webhook.c as the daemon does) or the same M messages (built by mail.c) from this
 * process with a plain curl_multi_perform + curl_multi_poll loop: a new easy handle per
 * message, at most C (E) of them in the multi handle at once, and the connection limits the
 * daemon gives libcurl (DELIVER_MAX_CONNECTIONS to a host and in all, 32 kept idle). The
 * daemon claims up to DELIVER_MAX_INFLIGHT (128) rows and runs at most C (E) of them at once
 * (the channel's max_connections), so both sides have the same concurrency: min(C, 64)
 * connections to the listener, min(E, 64) to the SMTP server.
 *
 * Printed: messages/s of the baseline and of the daemon, their ratio, the CPU time a message of
 * the daemon and of the baseline loop's thread (CLOCK_THREAD_CPUTIME_ID; the listener runs in
 * another thread) with their ratio, the listener's thread's CPU in each webhook run (its share
 * of a core says whether it set the pace), and whether the target is met. On a machine shared with
 * other work the rates follow the load; the CPU times much less. The webhook phase runs -r
 * rounds (default 3), the bare loop and the daemon alternately, each round printing its ratio:
 * on this 2-core machine one pair of runs gave anything from 0.45 to 0.79 in the same minutes,
 * so the target is judged on the median.
 * Target (the issue): the daemon's webhook rate >= 70% of the bare loop's.
 *
 * Sizes: -n N -m M, default 2000 and 200 (a quick run); the sizes are
 * `bench_deliver -n 20000 -m 2000`. -m 0 skips the e-mail phase, as does a missing aiosmtpd
 * (said so in the output). The dunghand under test is $DUNGHAND, else the build tree's;
 * measure a build without sanitizers.
 * Exit status: 0, or 1 when a run failed (setup, a message not sent, a baseline transfer that
 * failed, dunghand not stopping cleanly). */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "bench_util.h"
#include "api_fixture.h"
#include "bench_median.h"
#include "curl_uv.h"
#include "deliver.h"
#include "err.h"
#include "harness.h"
#include "http.h"
#include "mail.h"
#include "webhook.h"

#define PROG "bench_deliver"

#define CHANNEL_ID "bench-hook"
#define FROM "Đúng Hạn <dunghan@example.gov.vn>"
#define FROM_ADDR "dunghan@example.gov.vn"
#define TO_ADDR "a@example.gov.vn"
#define TO_PERSON "binh.lt" /* Lê Thị Bình, of the example office */
#define TO_NAME "Lê Thị Bình"
#define UTC_OFFSET (7 * 3600) /* Asia/Ho_Chi_Minh */
#define TIMEOUT_MS 30000L     /* the daemon's defaults: delivery.timeout, connect_timeout */
#define CONNECT_TIMEOUT_MS 10000L
#define POLL_MS 20
#define RUN_BOUND_S 600.0
#define SMTPD_BOUND_MS 15000
#define PYTHON "/usr/bin/python3"

struct options {
	size_t n, m;
	size_t rounds; /* webhook runs of each side, alternating; the target uses their median */
	unsigned chat_cap, smtp_cap;
	const char *log_level;
};

/* One measured run. */
struct rate {
	size_t messages;
	size_t failed;  /* baseline: transfers that failed; daemon: rows not sent (dead, missing) */
	double seconds;
	double cpu_s;   /* CPU seconds over the run: the daemon's, or the baseline loop's thread */
	double wire_s;  /* daemon, webhooks: the listener's first to last request */
	size_t received; /* webhooks: requests the listener answered during the run */
	double listener_cpu_s; /* webhooks: the listener's thread's CPU seconds; < 0: unknown */
	size_t body_bytes; /* webhooks: their bodies' bytes */
	bool ok;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* This thread's CPU time: the baseline loop's, without the listener's thread. */
static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* --- the messages -------------------------------------------------------------------------- */

/* Message i (1-based: the outbox row id) — the same text for the daemon and the baseline. */
static void chat_text(char *buf, size_t n, size_t i)
{
	snprintf(buf, n,
		 "[QUÁ HẠN] Hồ sơ 000.00.21.H19-240222-%05zu (Đăng ký khai sinh) — Phòng Tư pháp, "
		 "cán bộ Lê Thị Bình — quá hạn 2 giờ làm việc (hạn 10:00 thứ Hai, 19/02/2024).",
		 i);
}

static void mail_subject(char *buf, size_t n, size_t i)
{
	snprintf(buf, n, "[QUÁ HẠN] Hồ sơ 000.00.21.H19-240222-%05zu — Đăng ký khai sinh", i);
}

static void mail_text(char *buf, size_t n, size_t i)
{
	snprintf(buf, n,
		 "Kính gửi Bà Lê Thị Bình,\n\n"
		 "Hồ sơ 000.00.21.H19-240222-%05zu (Đăng ký khai sinh) của Phòng Tư pháp đã quá hạn "
		 "2 giờ làm việc (hạn 10:00 thứ Hai, 19/02/2024).\n"
		 "Đề nghị Bà khẩn trương xử lý và cập nhật kết quả trên hệ thống.\n\n"
		 "Đúng Hạn — hệ thống nhắc hạn xử lý hồ sơ\n",
		 i);
}

static void mail_html(char *buf, size_t n, size_t i)
{
	snprintf(buf, n,
		 "<p>Kính gửi Bà Lê Thị Bình,</p>\n"
		 "<p>Hồ sơ <b>000.00.21.H19-240222-%05zu</b> (Đăng ký khai sinh) của Phòng Tư pháp "
		 "đã <b>quá hạn 2 giờ làm việc</b> (hạn 10:00 thứ Hai, 19/02/2024).</p>\n"
		 "<p>Đề nghị Bà khẩn trương xử lý và cập nhật kết quả trên hệ thống.</p>\n"
		 "<p>Đúng Hạn — hệ thống nhắc hạn xử lý hồ sơ</p>\n",
		 i);
}

/* --- the webhook listener ------------------------------------------------------------------ */

struct listener {
	uv_loop_t loop;
	uv_async_t stop;
	struct http_server *srv;
	pthread_t thread;
	int port;
	atomic_size_t requests;    /* answered since the last listener_reset */
	atomic_size_t unexpected;  /* not POST /hook with a body */
	atomic_size_t body_bytes;  /* of every request body: the baseline's and the daemon's
	                            * requests must add up to the same */
	atomic_uint_fast64_t first_ns, last_ns; /* CLOCK_MONOTONIC; 0: none yet */
};

static void on_hook(struct http_request *req, void *ctx)
{
	struct listener *l = ctx;
	size_t len = 0;
	uint64_t now = mono_ns(), zero = 0;

	http_request_body(req, &len);
	if (strcmp(http_request_method(req), "POST") != 0 ||
	    strcmp(http_request_path(req), "/hook") != 0 || len == 0)
		atomic_fetch_add(&l->unexpected, 1);
	atomic_compare_exchange_strong(&l->first_ns, &zero, now);
	atomic_store(&l->last_ns, now);
	atomic_fetch_add(&l->requests, 1);
	atomic_fetch_add(&l->body_bytes, len);
	http_respond(req, 200, "text/plain", "ok", 2, NULL, 0);
}

static void on_stop(uv_async_t *a)
{
	struct listener *l = a->data;

	http_server_free(l->srv);
	l->srv = NULL;
	uv_close((uv_handle_t *)a, NULL);
}

static void *listener_main(void *arg)
{
	struct listener *l = arg;

	uv_run(&l->loop, UV_RUN_DEFAULT);
	return NULL;
}

static void listener_reset(struct listener *l)
{
	atomic_store(&l->requests, 0);
	atomic_store(&l->unexpected, 0);
	atomic_store(&l->body_bytes, 0);
	atomic_store(&l->first_ns, 0);
	atomic_store(&l->last_ns, 0);
}

/* Creates the loop and the server here, then hands both to the thread. Returns 0 or -1. */
static int listener_start(struct listener *l)
{
	struct http_config hc = { .listen = "127.0.0.1:0", .on_request = on_hook, .ctx = l };
	struct err e = { 0 };

	memset(l, 0, sizeof(*l));
	listener_reset(l);
	if (uv_loop_init(&l->loop) != 0)
		return -1;
	if (!(l->srv = http_server_new(&l->loop, &hc, &e))) {
		fprintf(stderr, "bench_deliver: listener: %s\n", e.msg);
		uv_run(&l->loop, UV_RUN_DEFAULT);
		uv_loop_close(&l->loop);
		return -1;
	}
	l->port = http_server_port(l->srv);
	l->stop.data = l;
	if (uv_async_init(&l->loop, &l->stop, on_stop) != 0 ||
	    pthread_create(&l->thread, NULL, listener_main, l) != 0) {
		fprintf(stderr, "bench_deliver: cannot start the listener\n");
		return -1;
	}
	return 0;
}

/* CPU seconds the listener's thread has used, -1 when unknown. */
static double listener_cpu_s(const struct listener *l)
{
	clockid_t id;
	struct timespec ts;

	if (pthread_getcpuclockid(l->thread, &id) != 0 || clock_gettime(id, &ts) != 0)
		return -1;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void listener_stop(struct listener *l)
{
	uv_async_send(&l->stop);
	pthread_join(l->thread, NULL);
	uv_loop_close(&l->loop);
}

/* --- aiosmtpd ------------------------------------------------------------------------------- */

static bool can_connect(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	if (fd < 0)
		return false;
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/* Whether aiosmtpd (with its Sink handler) can be imported at all. */
static bool aiosmtpd_available(void)
{
	return access(PYTHON, X_OK) == 0 &&
	       system(PYTHON " -c 'import aiosmtpd.handlers as h; h.Sink' >/dev/null 2>&1") == 0;
}

/* Starts aiosmtpd on a free port and waits until it accepts connections. Returns the port, or
 * -1 (the process, if any, is killed). */
static int smtpd_start(struct harness *h, struct harness_proc *p)
{
	char listen[64];
	int port = harness_free_port();

	if (port <= 0)
		return -1;
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	char *argv[] = { PYTHON, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink", "-l",
			 listen, NULL };
	if (harness_spawn(h, p, argv, NULL, "aiosmtpd.log") != 0) {
		fprintf(stderr, "bench_deliver: cannot start aiosmtpd\n");
		return -1;
	}
	for (int waited = 0; waited < SMTPD_BOUND_MS; waited += 50) {
		if (can_connect(port))
			return port;
		if (harness_wait(p, 0) >= 0) {
			fprintf(stderr, "bench_deliver: aiosmtpd exited (log in %s)\n", p->stderr_path);
			return -1;
		}
		sleep_ms(50);
	}
	fprintf(stderr, "bench_deliver: aiosmtpd not listening after %d ms (log in %s)\n",
		SMTPD_BOUND_MS, p->stderr_path);
	harness_kill(p);
	return -1;
}

static void smtpd_stop(struct harness_proc *p)
{
	harness_signal(p, SIGTERM);
	if (harness_wait(p, 5000) < 0)
		harness_kill(p);
}

/* --- the baseline: a bare curl multi loop -------------------------------------------------- */

struct bare {
	struct webhook_request req;  /* webhooks */
	char *data;                  /* e-mail */
	size_t len, sent;
	struct curl_slist *list;     /* headers or recipients */
	char excerpt[512];
	size_t excerpt_len;
	char errbuf[CURL_ERROR_SIZE];
};

static void bare_free(struct bare *b)
{
	if (!b)
		return;
	webhook_request_free(&b->req);
	free(b->data);
	curl_slist_free_all(b->list);
	free(b);
}

static size_t bare_write(char *buf, size_t size, size_t n, void *arg)
{
	struct bare *b = arg;
	size_t total = size * n, room = sizeof(b->excerpt) - 1 - b->excerpt_len;

	if (room > total)
		room = total;
	memcpy(b->excerpt + b->excerpt_len, buf, room);
	b->excerpt_len += room;
	b->excerpt[b->excerpt_len] = '\0';
	return total;
}

static size_t bare_read(char *buf, size_t size, size_t n, void *arg)
{
	struct bare *b = arg;
	size_t left = b->len - b->sent, want = size * n;

	if (want > left)
		want = left;
	memcpy(buf, b->data + b->sent, want);
	b->sent += want;
	return want;
}

static CURL *bare_easy(struct bare *b)
{
	CURL *e = curl_easy_init();

	if (!e)
		return NULL;
	curl_easy_setopt(e, CURLOPT_PRIVATE, b);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, b->errbuf);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, bare_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, b);
	return e;
}

/* The webhook request of outbox row i, as deliver.c builds it for a slack channel. */
static CURL *bare_webhook(const char *url, size_t i, struct err *e)
{
	struct bare *b = calloc(1, sizeof(*b));
	char text[600], key[64];
	struct webhook_channel wc = { WEBHOOK_SLACK, url, NULL, NULL, NULL, NULL };
	CURL *easy;

	if (!b) {
		err_set(e, NULL, "out of memory");
		return NULL;
	}
	chat_text(text, sizeof(text), i);
	snprintf(key, sizeof(key), "dunghan-outbox-%zu", i);
	struct webhook_message m = { .text = text, .idempotency_key = key, .event = "alert",
				     .rule = "digest", .severity = "warning", .kind = "case",
				     .code = "", .summary = "" };
	if (webhook_build(&wc, &m, (int64_t)time(NULL), &b->req, e) != 0 || !(easy = bare_easy(b))) {
		bare_free(b);
		return NULL;
	}
	for (size_t k = 0; k < b->req.nheaders; k++)
		b->list = curl_slist_append(b->list, b->req.headers[k]);
	curl_easy_setopt(easy, CURLOPT_URL, b->req.url);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, b->list);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDS, b->req.body);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long)b->req.body_len);
	return easy;
}

/* The e-mail of outbox row i, as deliver.c builds and sends it. */
static CURL *bare_mail(const char *url, size_t i, struct err *e)
{
	struct bare *b = calloc(1, sizeof(*b));
	char subject[300], text[1200], html[1400], id[64];
	struct mail_address to = { TO_NAME, TO_ADDR };
	CURL *easy;

	if (!b) {
		err_set(e, NULL, "out of memory");
		return NULL;
	}
	mail_subject(subject, sizeof(subject), i);
	mail_text(text, sizeof(text), i);
	mail_html(html, sizeof(html), i);
	snprintf(id, sizeof(id), "outbox-%zu", i);
	struct mail_message m = { .from = { "Đúng Hạn", FROM_ADDR }, .to = &to, .nto = 1,
				  .subject = subject, .text = text, .html = html,
				  .date = (int64_t)time(NULL), .utc_offset = UTC_OFFSET, .id = id };
	if (mail_build(&m, &b->data, &b->len, e) != 0 || !(easy = bare_easy(b))) {
		bare_free(b);
		return NULL;
	}
	b->list = curl_slist_append(NULL, "<" TO_ADDR ">");
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_MAIL_FROM, "<" FROM_ADDR ">");
	curl_easy_setopt(easy, CURLOPT_MAIL_RCPT, b->list);
	curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(easy, CURLOPT_READFUNCTION, bare_read);
	curl_easy_setopt(easy, CURLOPT_READDATA, b);
	curl_easy_setopt(easy, CURLOPT_USE_SSL, (long)CURLUSESSL_NONE);
	return easy;
}

/* Sends count messages (ids 1..count) with at most cap in the multi handle at once. */
static int baseline(bool email, const char *url, size_t count, unsigned cap, struct rate *r)
{
	CURLM *multi = curl_multi_init();
	CURL **slots = calloc(cap, sizeof(*slots)); /* the transfers in the multi handle */
	size_t next = 1, done = 0, active = 0;
	struct err e = { 0 };
	int rc = -1;

	memset(r, 0, sizeof(*r));
	r->messages = count;
	r->cpu_s = -1;
	double cpu0 = bench_thread_cpu_s();
	if (!multi || !slots ||
	    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS,
			      (long)DELIVER_MAX_CONNECTIONS) != CURLM_OK ||
	    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
			      (long)DELIVER_MAX_CONNECTIONS) != CURLM_OK ||
	    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS,
			      (long)CURL_UV_DEFAULT_MAX_IDLE_CONNECTIONS) != CURLM_OK) {
		fprintf(stderr, "bench_deliver: cannot set up a curl multi handle\n");
		goto out;
	}
	double t0 = bench_mono_s(), bound = t0 + RUN_BOUND_S;
	while (done < count) {
		while (active < cap && next <= count) {
			CURL *easy = email ? bare_mail(url, next, &e) : bare_webhook(url, next, &e);
			if (!easy) {
				fprintf(stderr, "bench_deliver: baseline message %zu: %s\n", next, e.msg);
				goto out;
			}
			if (curl_multi_add_handle(multi, easy) != CURLM_OK) {
				fprintf(stderr, "bench_deliver: curl_multi_add_handle failed\n");
				char *b = NULL;
				curl_easy_getinfo(easy, CURLINFO_PRIVATE, &b);
				curl_easy_cleanup(easy);
				bare_free((struct bare *)b);
				goto out;
			}
			for (unsigned k = 0; k < cap; k++)
				if (!slots[k]) {
					slots[k] = easy;
					break;
				}
			next++;
			active++;
		}
		int running, left;
		if (curl_multi_perform(multi, &running) != CURLM_OK) {
			fprintf(stderr, "bench_deliver: curl_multi_perform failed\n");
			goto out;
		}
		size_t finished = 0;
		CURLMsg *msg;
		while ((msg = curl_multi_info_read(multi, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			CURL *easy = msg->easy_handle;
			CURLcode result = msg->data.result;
			char *pv = NULL;
			long status = 0;

			curl_easy_getinfo(easy, CURLINFO_PRIVATE, &pv);
			struct bare *b = (struct bare *)pv;
			curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
			if (result != CURLE_OK || (!email && status != 200) || (email && status != 250)) {
				if (!r->failed)
					fprintf(stderr, "bench_deliver: baseline: curl %d (%s), status %ld\n",
						result, b && b->errbuf[0] ? b->errbuf
									  : curl_easy_strerror(result),
						status);
				r->failed++;
			}
			curl_multi_remove_handle(multi, easy);
			curl_easy_cleanup(easy);
			bare_free(b);
			for (unsigned k = 0; k < cap; k++)
				if (slots[k] == easy) {
					slots[k] = NULL;
					break;
				}
			active--;
			done++;
			finished++;
		}
		if (done >= count)
			break;
		if (bench_mono_s() > bound) {
			fprintf(stderr, "bench_deliver: baseline: %zu of %zu after %.0f s\n", done, count,
				RUN_BOUND_S);
			goto out;
		}
		if (!finished && curl_multi_poll(multi, NULL, 0, 1000, NULL) != CURLM_OK) {
			fprintf(stderr, "bench_deliver: curl_multi_poll failed\n");
			goto out;
		}
	}
	r->seconds = bench_mono_s() - t0;
	r->cpu_s = bench_thread_cpu_s() - cpu0;
	rc = r->failed ? -1 : 0;
out:
	/* On failure: drop what is still in the multi handle. */
	for (unsigned k = 0; slots && k < cap; k++) {
		char *b = NULL;
		if (!slots[k])
			continue;
		curl_easy_getinfo(slots[k], CURLINFO_PRIVATE, &b);
		curl_multi_remove_handle(multi, slots[k]);
		curl_easy_cleanup(slots[k]);
		bare_free((struct bare *)b);
	}
	free(slots);
	if (multi)
		curl_multi_cleanup(multi);
	r->ok = rc == 0;
	return rc;
}

/* --- the daemon ---------------------------------------------------------------------------- */

static int exec_sql(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "bench_deliver: %s: %s\n", sql, msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* Writes count pending outbox rows (ids 1..count) into the stopped daemon's database. */
static int fill(const char *path, bool email, size_t count)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	char subject[300], text[1200], html[1400];
	int64_t now = (int64_t)time(NULL);
	int rc = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench_deliver: %s: %s\n", path, sqlite3_errmsg(db));
		goto out;
	}
	if (exec_sql(db, "PRAGMA synchronous = OFF; BEGIN") != 0)
		goto out;
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO outbox (id, alert_id, channel, recipient, address, subject, "
			       "body_text, body_html, status, not_before, created_at) VALUES (?1, NULL, "
			       "?2, ?3, ?4, ?5, ?6, ?7, 'pending', 0, ?8)",
			       -1, &s, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench_deliver: prepare: %s\n", sqlite3_errmsg(db));
		goto out;
	}
	for (size_t i = 1; i <= count; i++) {
		sqlite3_bind_int64(s, 1, (int64_t)i);
		sqlite3_bind_int64(s, 8, now);
		if (email) {
			mail_subject(subject, sizeof(subject), i);
			mail_text(text, sizeof(text), i);
			mail_html(html, sizeof(html), i);
			sqlite3_bind_text(s, 2, "email", -1, SQLITE_STATIC);
			sqlite3_bind_text(s, 3, TO_PERSON, -1, SQLITE_STATIC);
			sqlite3_bind_text(s, 4, TO_ADDR, -1, SQLITE_STATIC);
			sqlite3_bind_text(s, 5, subject, -1, SQLITE_STATIC);
			sqlite3_bind_text(s, 6, text, -1, SQLITE_STATIC);
			sqlite3_bind_text(s, 7, html, -1, SQLITE_STATIC);
		} else {
			chat_text(text, sizeof(text), i);
			sqlite3_bind_text(s, 2, "chat", -1, SQLITE_STATIC);
			sqlite3_bind_text(s, 3, CHANNEL_ID, -1, SQLITE_STATIC);
			sqlite3_bind_null(s, 4);
			/* The summary line, as escalation writes it for a chat row. */
			sqlite3_bind_text(s, 5, "Đăng ký khai sinh", -1, SQLITE_STATIC);
			sqlite3_bind_text(s, 6, text, -1, SQLITE_STATIC);
			sqlite3_bind_null(s, 7);
		}
		if (sqlite3_step(s) != SQLITE_DONE) {
			fprintf(stderr, "bench_deliver: insert %zu: %s\n", i, sqlite3_errmsg(db));
			goto out;
		}
		sqlite3_reset(s);
	}
	rc = exec_sql(db, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE)");
out:
	sqlite3_finalize(s);
	sqlite3_close(db);
	return rc;
}

/* The one integer s answers, with status bound to ?1 when not NULL; -1 on error (said). */
static int64_t count_status(sqlite3 *db, sqlite3_stmt *s, const char *status)
{
	int64_t v = -1;

	if (status)
		sqlite3_bind_text(s, 1, status, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	else
		fprintf(stderr, "bench_deliver: count: %s\n", sqlite3_errmsg(db));
	sqlite3_reset(s);
	return v;
}

static int64_t db_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* One daemon phase: count rows of one kind, from the start to all sent. */
static int daemon_run(const struct options *o, bool email, int hook_port, int smtp_port,
		      struct listener *l, struct rate *r)
{
	size_t count = email ? o->m : o->n;
	char channel[300], extra[400];
	struct api_fixture f;
	struct err e = { 0 };
	sqlite3 *ro = NULL;
	sqlite3_stmt *cnt = NULL, *left = NULL;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	r->messages = count;
	r->cpu_s = -1;
	snprintf(channel, sizeof(channel),
		 "channels = (\n  { id = \"" CHANNEL_ID "\"; type = \"slack\"; "
		 "url = \"http://127.0.0.1:%d/hook\"; max_connections = %u; },\n",
		 hook_port, o->chat_cap);
	/* Without an SMTP server (webhook phase, no aiosmtpd) the port is one nobody serves. */
	snprintf(extra, sizeof(extra),
		 "email: { transport = \"smtp\"; url = \"smtp://127.0.0.1:%d\"; tls = \"none\"; "
		 "from = \"" FROM "\"; max_connections = %u; };\n",
		 smtp_port > 0 ? smtp_port : 9, o->smtp_cap);
	const char *const edits[] = { "channels = (\n", channel, NULL };
	struct api_options ao = {
		.log_level = o->log_level,
		.delivery = "enabled = true;",
		.calendar = "  timezone = \"Asia/Ho_Chi_Minh\";\n"
			    "  week = [\"sun\", \"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\"];\n"
			    "  office_hours = [\"00:00-24:00\"];\n"
			    "  statutory_holidays = false;\n",
		.extra = extra,
		.office_edits = edits,
	};

	/* The database: migrated by the daemon itself, then filled offline. */
	if (api_fixture_start(&f, &ao, &e) != 0 || api_fixture_stop(&f, &e) != 0) {
		fprintf(stderr, "bench_deliver: preparing the database: %s\n", e.msg);
		goto out;
	}
	if (fill(f.db, email, count) != 0)
		goto out;

	listener_reset(l);
	double spawned = bench_mono_s();
	if (api_fixture_restart(&f, &e) != 0) {
		fprintf(stderr, "bench_deliver: %s\n", e.msg);
		goto out;
	}
	double ready = bench_mono_s(), cpu0 = harness_cpu_seconds(f.proc.pid);
	if (sqlite3_open_v2(f.db, &ro, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(ro, 5000) != SQLITE_OK ||
	    sqlite3_prepare_v2(ro, "SELECT count(*) FROM outbox WHERE status = ?1", -1, &cnt,
			       NULL) != SQLITE_OK ||
	    /* Each test on its own, so that each reads its partial index (migration 0012): one
	     * on status IN (…) reads the whole table. */
	    sqlite3_prepare_v2(ro, "SELECT EXISTS (SELECT 1 FROM outbox WHERE status = 'pending') "
			       "OR EXISTS (SELECT 1 FROM outbox WHERE status = 'sending')", -1,
			       &left, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench_deliver: read-only %s: %s\n", f.db, sqlite3_errmsg(ro));
		goto out;
	}
	int64_t sent = 0, dead = 0, pending, sending;
	double done_at = -1;
	/* The poll asks whether any row is left, which stops at the first: counting what is left
	 * read up to every row each time, on the CPUs the daemon runs on (a third of a core at
	 * the start of 150 000 webhooks, taken from the daemon's side of the comparison). */
	for (;;) {
		pending = count_status(ro, left, NULL);
		if (pending < 0)
			goto out;
		if (pending == 0) {
			done_at = bench_mono_s();
			break;
		}
		if (bench_mono_s() - ready > RUN_BOUND_S) {
			pending = count_status(ro, cnt, "pending");
			sending = count_status(ro, cnt, "sending");
			fprintf(stderr, "bench_deliver: %lld of %zu not sent after %.0f s\n",
				(long long)(pending + sending), count, RUN_BOUND_S);
			break;
		}
		sleep_ms(POLL_MS);
	}
	sent = count_status(ro, cnt, "sent");
	dead = count_status(ro, cnt, "dead");
	if (sent < 0 || dead < 0)
		goto out;
	double cpu1 = harness_cpu_seconds(f.proc.pid);
	r->cpu_s = cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1;
	r->received = atomic_load(&l->requests);
	r->body_bytes = atomic_load(&l->body_bytes);
	uint64_t first = atomic_load(&l->first_ns), last = atomic_load(&l->last_ns);
	/* Webhooks: from the first request (the daemon sends READY=1 just before its loop runs,
	 * so the first request may arrive before we have read READY=1); e-mail: from READY=1. */
	double start = ready;
	if (!email && first) {
		if ((double)first / 1e9 < start)
			start = (double)first / 1e9;
		r->wire_s = (double)(last - first) / 1e9;
	}
	r->failed = count - (size_t)(sent > 0 ? sent : 0);
	if (done_at >= 0)
		r->seconds = done_at - start;
	int64_t attempts = db_int(ro, "SELECT count(*) FROM delivery_attempts");
	if (dead > 0) {
		sqlite3_stmt *s = NULL;
		if (sqlite3_prepare_v2(ro, "SELECT last_error FROM outbox WHERE status = 'dead' LIMIT 1",
				       -1, &s, NULL) == SQLITE_OK &&
		    sqlite3_step(s) == SQLITE_ROW)
			fprintf(stderr, "bench_deliver: %lld rows dead, e.g.: %s\n", (long long)dead,
				(const char *)sqlite3_column_text(s, 0));
		sqlite3_finalize(s);
	}
	if (attempts != (int64_t)count)
		fprintf(stderr, "bench_deliver: %lld delivery attempts for %zu rows\n",
			(long long)attempts, count);
	if (!email && r->received != count)
		fprintf(stderr, "bench_deliver: the listener answered %zu requests for %zu rows\n",
			r->received, count);
	if (atomic_load(&l->unexpected))
		fprintf(stderr, "bench_deliver: %zu unexpected requests at the listener\n",
			(size_t)atomic_load(&l->unexpected));
	if (getenv("BENCH_VERBOSE"))
		fprintf(stderr, "bench_deliver: start to READY %.3f s\n", ready - spawned);
	rc = done_at >= 0 && r->failed == 0 ? 0 : -1;
out:
	sqlite3_finalize(cnt);
	sqlite3_finalize(left);
	sqlite3_close(ro);
	if (f.running && api_fixture_stop(&f, &e) != 0) {
		fprintf(stderr, "bench_deliver: stopping dunghand: %s\n", e.msg);
		rc = -1;
	}
	api_fixture_close(&f);
	r->ok = rc == 0;
	return rc;
}

/* --- output -------------------------------------------------------------------------------- */

static double per_s(const struct rate *r)
{
	return r->ok && r->seconds > 0 ? (double)r->messages / r->seconds : 0;
}

static void print_rate(const char *label, const char *cpu_who, const struct rate *r)
{
	if (!r->ok) {
		printf("  %-9s FAILED (%zu of %zu not sent)\n", label, r->failed, r->messages);
		return;
	}
	printf("  %-9s %7zu messages in %7.3f s: %8.0f messages/s", label, r->messages, r->seconds,
	       per_s(r));
	if (r->cpu_s >= 0)
		printf("; %s %.2f CPU-s (%.0f us per message)", cpu_who, r->cpu_s,
		       1e6 * r->cpu_s / (double)r->messages);
	printf("\n");
	if (r->wire_s > 0)
		printf("  %-9s (the listener's first to last request: %.3f s, %.0f requests/s)\n", "",
		       r->wire_s, (double)(r->received > 1 ? r->received - 1 : 1) / r->wire_s);
	/* Whether the listener, not the sender, set the pace: its share of a core. */
	if (r->listener_cpu_s > 0 && r->received > 0 && r->seconds > 0)
		printf("  %-9s (the listener's thread: %.2f CPU-s, %.1f us a request, %.0f %% of a "
		       "core over the run)\n", "", r->listener_cpu_s,
		       1e6 * r->listener_cpu_s / (double)r->received,
		       100 * r->listener_cpu_s / r->seconds);
}

#define BENCH_MAX_ROUNDS 9

int main(int argc, char **argv)
{
	struct options o = { .n = 2000, .m = 200, .rounds = 3, .chat_cap = 16, .smtp_cap = 4,
			     .log_level = "warn" };
	double round_ratio[BENCH_MAX_ROUNDS];
	struct rate hook_base = { 0 }, hook_daemon = { 0 }, mail_base = { 0 }, mail_daemon = { 0 };
	struct listener l;
	int opt, bad = 0;

	while ((opt = getopt(argc, argv, "n:m:r:c:e:l:h")) != -1) {
		switch (opt) {
		case 'n': o.n = bench_parse_size(PROG, optarg, "-n", false); break;
		case 'r': o.rounds = bench_parse_size(PROG, optarg, "-r", false); break;
		case 'm': o.m = bench_parse_size(PROG, optarg, "-m", true); break;
		case 'c': o.chat_cap = (unsigned)bench_parse_size(PROG, optarg, "-c", false); break;
		case 'e': o.smtp_cap = (unsigned)bench_parse_size(PROG, optarg, "-e", false); break;
		case 'l': o.log_level = optarg; break;
		default:
			fprintf(opt == 'h' ? stdout : stderr,
				"Usage: bench_deliver [-n WEBHOOKS] [-m EMAILS] [-r ROUNDS] "
				"[-c CHAN_CONNS] [-e SMTP_CONNS] [-l LEVEL]\n"
				"  -n  webhook messages (default 2000; the issue: 20000)\n"
				"  -r  webhook runs of each side, alternating (default 3, at most 9): "
				"the target uses the median ratio\n"
				"  -m  e-mails (default 200; the issue: 2000; 0 skips the e-mail phase)\n"
				"  -c  the channel's max_connections = the baseline's webhooks at once "
				"(default 16; 1..100)\n"
				"  -e  email.max_connections = the baseline's e-mails at once (default 4; "
				"1..100)\n"
				"  -l  dunghand's log level (default warn)\n"
				"The issue's sizes: bench_deliver -n 20000 -m 2000\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (o.rounds > BENCH_MAX_ROUNDS) {
		fprintf(stderr, "bench_deliver: -r: at most %d rounds\n", BENCH_MAX_ROUNDS);
		return 2;
	}
	if (o.chat_cap > 100 || o.smtp_cap > 100) {
		fprintf(stderr, "bench_deliver: -c and -e: at most 100 (the settings' bound)\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "bench_deliver: curl_global_init failed\n");
		return 1;
	}
	if (listener_start(&l) != 0)
		return 1;
	unsigned chat_conns = o.chat_cap < DELIVER_MAX_CONNECTIONS ? o.chat_cap
								   : DELIVER_MAX_CONNECTIONS;
	unsigned smtp_conns = o.smtp_cap < DELIVER_MAX_CONNECTIONS ? o.smtp_cap
								   : DELIVER_MAX_CONNECTIONS;
	printf("bench_deliver: %zu webhooks, %zu e-mails; dunghand %s\n", o.n, o.m,
	       harness_dunghand());
	printf("concurrency, the same for both: webhooks max_connections = %u (%u transfers at "
	       "once, %u connections: libcurl's per-host limit %d), e-mail max_connections = %u "
	       "(%u connections); the daemon's DELIVER_MAX_INFLIGHT = %d (claimed rows)\n",
	       o.chat_cap, o.chat_cap, chat_conns, DELIVER_MAX_CONNECTIONS, o.smtp_cap,
	       smtp_conns, DELIVER_MAX_INFLIGHT);
	fflush(stdout);

	/* Webhooks. */
	char url[100];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", l.port);
	printf("\nwebhooks (slack type, to this program's HTTP listener on 127.0.0.1:%d), %zu "
	       "round%s:\n", l.port, o.rounds, o.rounds == 1 ? "" : "s");
	for (size_t r = 0; r < o.rounds; r++) {
		listener_reset(&l);
		double lc0 = listener_cpu_s(&l);
		if (baseline(false, url, o.n, o.chat_cap, &hook_base) != 0)
			bad = 1;
		hook_base.listener_cpu_s = lc0 >= 0 ? listener_cpu_s(&l) - lc0 : -1;
		if (hook_base.ok && atomic_load(&l.requests) != o.n) {
			fprintf(stderr, "bench_deliver: the listener answered %zu baseline requests "
				"for %zu\n", (size_t)atomic_load(&l.requests), o.n);
			bad = 1;
		}
		hook_base.received = atomic_load(&l.requests);
		hook_base.body_bytes = atomic_load(&l.body_bytes);
		print_rate("bare loop", "its thread", &hook_base);
		fflush(stdout);
		lc0 = listener_cpu_s(&l);
		if (daemon_run(&o, false, l.port, -1, &l, &hook_daemon) != 0)
			bad = 1;
		hook_daemon.listener_cpu_s = lc0 >= 0 ? listener_cpu_s(&l) - lc0 : -1;
		print_rate("dunghand", "dunghand", &hook_daemon);
		if (hook_base.ok && hook_daemon.ok &&
		    hook_base.body_bytes != hook_daemon.body_bytes)
			printf("  note: the bodies differ: %zu bytes from the bare loop, %zu from "
			       "dunghand\n", hook_base.body_bytes, hook_daemon.body_bytes);
		round_ratio[r] = hook_base.ok && hook_daemon.ok && per_s(&hook_base) > 0
				 ? per_s(&hook_daemon) / per_s(&hook_base) : 0;
		printf("  round %zu: ratio %.2f\n", r + 1, round_ratio[r]);
		fflush(stdout);
	}

	/* E-mail. */
	bool mail_skipped = o.m == 0;
	if (o.m > 0 && !aiosmtpd_available()) {
		printf("\ne-mail: SKIPPED: %s -m aiosmtpd is not available (Debian python3-aiosmtpd)\n",
		       PYTHON);
		mail_skipped = true;
	} else if (o.m > 0) {
		struct harness h = { .notify_fd = -1 };
		struct harness_proc p = { .pid = 0, .pidfd = -1 };
		int sport = -1;

		if (harness_init(&h) != 0 || (sport = smtpd_start(&h, &p)) < 0) {
			bad = 1;
		} else {
			snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", sport);
			printf("\ne-mail (SMTP, to aiosmtpd on 127.0.0.1:%d, handler Sink):\n", sport);
			if (baseline(true, url, o.m, o.smtp_cap, &mail_base) != 0)
				bad = 1;
			print_rate("bare loop", "its thread", &mail_base);
			fflush(stdout);
			if (daemon_run(&o, true, l.port, sport, &l, &mail_daemon) != 0)
				bad = 1;
			print_rate("dunghand", "dunghand", &mail_daemon);
			smtpd_stop(&p);
		}
		harness_close(&h);
	}
	listener_stop(&l);
	curl_global_cleanup();

	double hook_ratio = bench_median(round_ratio, o.rounds);
	printf("\nratios (dunghand / bare loop):\n");
	printf("  webhooks: %.2f, the median of %zu alternating rounds (the last: %.0f / %.0f "
	       "messages/s)\n", hook_ratio, o.rounds, per_s(&hook_daemon), per_s(&hook_base));
	if (hook_base.ok && hook_daemon.ok && hook_base.cpu_s > 0 && hook_daemon.cpu_s >= 0)
		printf("  webhooks, CPU time a message, the last round: %.2f (dunghand %.1f us / "
		       "the bare loop's thread %.1f us; both sides also load the listener's thread)\n",
		       hook_daemon.cpu_s / hook_base.cpu_s,
		       1e6 * hook_daemon.cpu_s / (double)hook_daemon.messages,
		       1e6 * hook_base.cpu_s / (double)hook_base.messages);
	if (!mail_skipped)
		printf("  e-mail:   %.2f (%.0f / %.0f messages/s)\n",
		       per_s(&mail_base) > 0 ? per_s(&mail_daemon) / per_s(&mail_base) : 0,
		       per_s(&mail_daemon), per_s(&mail_base));
	printf("target:\n");
	printf("  webhook rate >= 70%% of the bare loop's: %s (%.0f%%)\n",
	       hook_daemon.ok && hook_base.ok && hook_ratio >= 0.70 ? "met" : "NOT MET",
	       100.0 * hook_ratio);
	return bad;
}
