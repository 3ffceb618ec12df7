/* test_http: the HTTP/1.1 server (daemon/http.c) over real loopback sockets. The server runs on
 * its own uv loop in a thread, with a small application whose behaviour each test picks (answer
 * at once, from a uv_check in reverse order, from a timer, or hold until told); the test thread
 * is the client (tests/support/http_client). Cross-thread waits use a condition variable with a
 * deadline, never a sleep; every test ends with the loop closed (uv_loop_close() == 0). */
#include <criterion/criterion.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "harness.h"
#include "http.h"
#include "http_client.h"

#define WAIT_MS 5000

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

enum app_mode {
	APP_ECHO,    /* answers each request at once */
	APP_REVERSE, /* holds requests; a uv_check answers them last to first once batch are held */
	APP_LATER,   /* holds requests; the next tick of a uv_timer answers them */
	APP_HOLD,    /* holds requests until the test sends CMD_ANSWER */
};

enum { CMD_STOP = 1, CMD_ANSWER = 2, CMD_FINISH = 4, CMD_FREE = 8 };

struct fx {
	uv_loop_t loop;
	uv_async_t wake;
	uv_timer_t tick;
	uv_check_t check;
	pthread_t thread;
	bool thread_started;
	struct http_config cfg;
	struct http_server *srv;  /* loop thread only */
	enum app_mode mode;
	size_t batch;
	struct http_request *held[256];
	size_t nheld;
	bool stop_issued;
	const char *loop_error;   /* a check that failed on the loop thread, reported by fx_fini */

	/* shared with the test thread, under mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool ready;
	int port;
	struct err new_err;
	bool wake_open;
	unsigned commands;
	unsigned requests;        /* handed to the application */
	unsigned aborted_answered; /* held requests found aborted and answered */
	unsigned conns;           /* http_server_connections(), published by the tick */
	int bad_respond_rc;
	unsigned bad_responds;    /* answers to /bad-header given */
	bool stopped;             /* the stop callback ran */
	bool gate_entered;        /* a request to /gate holds the loop thread ... */
	bool gate_open;           /* ... until the test sets this */
	unsigned b_position;      /* how many requests were handed out up to and with /b */
	unsigned held_b;          /* requests to /hold... handed out (and held, in any mode) */
	unsigned held_b_at_a_end; /* held_b when /a63 was handed out */
	bool loop_done;
	int loop_close_rc;
};

static struct fx FX;

static void fx_signal(struct fx *fx)
{
	pthread_cond_broadcast(&fx->cv);
}

/* ---- the application, on the loop thread ---- */

static void app_answer(struct fx *fx, struct http_request *req)
{
	struct http_header hdr = { "X-Echo-Peer", http_request_peer(req) };
	struct http_header bad = { "Content-Length", "5" };
	const char *path = http_request_path(req), *xt = http_request_header(req, "x-test");
	char body[512];
	size_t blen;
	const char *b = http_request_body(req, &blen);
	int n, rc;

	if (http_request_is_aborted(req)) {
		http_respond(req, 200, NULL, NULL, 0, NULL, 0);
		return;
	}
	if (strcmp(path, "/bad-header") == 0) {
		rc = http_respond(req, 200, NULL, "hello", 5, &bad, 1);
		pthread_mutex_lock(&fx->mu);
		fx->bad_respond_rc = rc;
		fx->bad_responds++;
		fx_signal(fx);
		pthread_mutex_unlock(&fx->mu);
		return;
	}
	if (strcmp(path, "/size") == 0 || strncmp(path, "/api/", 5) == 0)
		n = snprintf(body, sizeof(body), "%zu", blen);
	else
		n = snprintf(body, sizeof(body), "%s %s ?%s x-test=%s body=%.*s",
			     http_request_method(req), path, http_request_query(req),
			     xt ? xt : "-", (int)(blen < 200 ? blen : 200), b);
	http_respond(req, 200, "text/plain", body, (size_t)n, &hdr, 1);
}

static void app_answer_held(struct fx *fx, bool reverse)
{
	size_t i, n = fx->nheld;

	fx->nheld = 0;
	for (i = 0; i < n; i++)
		app_answer(fx, fx->held[reverse ? n - 1 - i : i]);
}

/* Keeps the loop thread busy for ms milliseconds of wall time. */
static void app_work_ms(int ms)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	do
		clock_gettime(CLOCK_MONOTONIC, &now);
	while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 < ms);
}

static void app_on_request(struct http_request *req, void *ctx)
{
	struct fx *fx = ctx;

	struct timespec until = harness_deadline_in(WAIT_MS);
	const char *path = http_request_path(req);

	pthread_mutex_lock(&fx->mu);
	fx->requests++;
	if (strcmp(path, "/b") == 0)
		fx->b_position = fx->requests;
	if (strncmp(path, "/hold", 5) == 0)
		fx->held_b++;
	if (strcmp(path, "/a63") == 0)
		fx->held_b_at_a_end = fx->held_b;
	if (strcmp(path, "/gate") == 0) {
		/* Holds the loop inside this read callback while the test sends elsewhere. */
		fx->gate_entered = true;
		fx_signal(fx);
		while (!fx->gate_open &&
		       pthread_cond_timedwait(&fx->cv, &fx->mu, &until) != ETIMEDOUT)
			;
	}
	fx_signal(fx);
	pthread_mutex_unlock(&fx->mu);
	if (strcmp(http_request_query(req), "work") == 0)
		app_work_ms(3); /* a request that costs the loop time, like a large list */
	if (fx->mode == APP_ECHO && strncmp(path, "/hold", 5) != 0) {
		app_answer(fx, req);
		return;
	}
	if (fx->nheld == sizeof(fx->held) / sizeof(fx->held[0])) {
		fx->loop_error = "too many held requests";
		http_respond(req, 500, NULL, NULL, 0, NULL, 0);
		return;
	}
	fx->held[fx->nheld++] = req;
}

/* Like a group commit: answers what this loop iteration gathered, after the poll phase. */
static void app_on_check(uv_check_t *h)
{
	struct fx *fx = container_of(h, struct fx, check);

	if (fx->mode == APP_REVERSE && fx->nheld >= fx->batch)
		app_answer_held(fx, true);
}

static void app_on_tick(uv_timer_t *t)
{
	struct fx *fx = container_of(t, struct fx, tick);
	size_t i, j;
	unsigned aborted = 0, conns;

	if (fx->mode == APP_LATER)
		app_answer_held(fx, false);
	/* A held request whose connection died must still be answered (that frees it). */
	for (i = j = 0; i < fx->nheld; i++) {
		if (http_request_is_aborted(fx->held[i])) {
			http_respond(fx->held[i], 200, NULL, NULL, 0, NULL, 0);
			aborted++;
		} else {
			fx->held[j++] = fx->held[i];
		}
	}
	fx->nheld = j;
	conns = fx->srv ? http_server_connections(fx->srv) : 0;
	pthread_mutex_lock(&fx->mu);
	fx->aborted_answered += aborted;
	if (aborted || conns != fx->conns) {
		fx->conns = conns;
		fx_signal(fx);
	}
	pthread_mutex_unlock(&fx->mu);
}

static void fx_close_handles(struct fx *fx)
{
	pthread_mutex_lock(&fx->mu);
	fx->wake_open = false;
	pthread_mutex_unlock(&fx->mu);
	uv_close((uv_handle_t *)&fx->wake, NULL);
	uv_close((uv_handle_t *)&fx->tick, NULL);
	uv_close((uv_handle_t *)&fx->check, NULL);
}

static void app_on_stopped(struct http_server *srv, void *arg)
{
	struct fx *fx = arg;

	fx->srv = NULL;
	app_answer_held(fx, false); /* all aborted by now: this frees them */
	pthread_mutex_lock(&fx->mu);
	fx->stopped = true;
	fx->conns = 0;
	fx_signal(fx);
	pthread_mutex_unlock(&fx->mu);
	fx_close_handles(fx);
}

static void app_on_wake(uv_async_t *a)
{
	struct fx *fx = container_of(a, struct fx, wake);
	unsigned cmd;

	pthread_mutex_lock(&fx->mu);
	cmd = fx->commands;
	fx->commands = 0;
	pthread_mutex_unlock(&fx->mu);
	if (cmd & (CMD_ANSWER | CMD_FINISH))
		app_answer_held(fx, false);
	if (cmd & CMD_FINISH)
		fx->mode = APP_ECHO;
	if ((cmd & (CMD_STOP | CMD_FINISH)) && fx->srv && !fx->stop_issued) {
		fx->stop_issued = true;
		if (http_server_stop(fx->srv, app_on_stopped, fx) != 0)
			fx->loop_error = "http_server_stop failed";
		else if (http_server_stop(fx->srv, app_on_stopped, fx) != UV_EALREADY)
			fx->loop_error = "a second http_server_stop did not fail";
	}
	if ((cmd & CMD_FREE) && fx->srv) {
		http_server_free(fx->srv);
		app_answer_held(fx, false); /* aborted now: answering frees them */
		if (fx->stop_issued)
			return; /* the stop callback still comes, and finishes the loop */
		fx->srv = NULL;
		pthread_mutex_lock(&fx->mu);
		fx->stopped = true;
		fx_signal(fx);
		pthread_mutex_unlock(&fx->mu);
		fx_close_handles(fx);
	}
}

static void *fx_loop_main(void *arg)
{
	struct fx *fx = arg;
	struct err err;
	int rc;

	if (uv_loop_init(&fx->loop) != 0)
		abort();
	uv_async_init(&fx->loop, &fx->wake, app_on_wake);
	uv_timer_init(&fx->loop, &fx->tick);
	uv_timer_start(&fx->tick, app_on_tick, 5, 5);
	uv_check_init(&fx->loop, &fx->check);
	uv_check_start(&fx->check, app_on_check);
	fx->srv = http_server_new(&fx->loop, &fx->cfg, &err);
	pthread_mutex_lock(&fx->mu);
	fx->port = fx->srv ? http_server_port(fx->srv) : -1;
	fx->new_err = err;
	fx->wake_open = true;
	fx->ready = true;
	fx_signal(fx);
	pthread_mutex_unlock(&fx->mu);
	if (!fx->srv)
		fx_close_handles(fx);
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	rc = uv_loop_close(&fx->loop);
	pthread_mutex_lock(&fx->mu);
	fx->loop_close_rc = rc;
	fx->loop_done = true;
	fx_signal(fx);
	pthread_mutex_unlock(&fx->mu);
	return NULL;
}

/* ---- the test thread's side ---- */

static void fx_init(void)
{
	/* As in dunghand's main: a write to a connection the peer reset must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	memset(&FX, 0, sizeof(FX));
	pthread_mutex_init(&FX.mu, NULL);
	pthread_cond_init(&FX.cv, NULL);
	FX.cfg.listen = "127.0.0.1:0";
	FX.cfg.on_request = app_on_request;
	FX.cfg.ctx = &FX;
	FX.mode = APP_ECHO;
	FX.batch = 1;
	FX.loop_close_rc = -1;
}

/* Waits until *field >= n (a counter of FX, read under the lock). */
static bool fx_wait_count(const unsigned *field, unsigned n)
{
	struct timespec until = harness_deadline_in(WAIT_MS);
	bool ok;

	pthread_mutex_lock(&FX.mu);
	while (*field < n && pthread_cond_timedwait(&FX.cv, &FX.mu, &until) != ETIMEDOUT)
		;
	ok = *field >= n;
	pthread_mutex_unlock(&FX.mu);
	return ok;
}

/* Reads a field shared with the loop thread. */
static int fx_count(const void *field)
{
	int v;

	pthread_mutex_lock(&FX.mu);
	v = *(const int *)field;
	pthread_mutex_unlock(&FX.mu);
	return v;
}

static bool fx_flag(const bool *flag)
{
	bool v;

	pthread_mutex_lock(&FX.mu);
	v = *flag;
	pthread_mutex_unlock(&FX.mu);
	return v;
}

static bool fx_wait_flag(const bool *flag)
{
	struct timespec until = harness_deadline_in(WAIT_MS);
	bool ok;

	pthread_mutex_lock(&FX.mu);
	while (!*flag && pthread_cond_timedwait(&FX.cv, &FX.mu, &until) != ETIMEDOUT)
		;
	ok = *flag;
	pthread_mutex_unlock(&FX.mu);
	return ok;
}

static bool fx_wait_conns_at_most(unsigned n)
{
	struct timespec until = harness_deadline_in(WAIT_MS);
	bool ok;

	pthread_mutex_lock(&FX.mu);
	while (FX.conns > n && pthread_cond_timedwait(&FX.cv, &FX.mu, &until) != ETIMEDOUT)
		;
	ok = FX.conns <= n;
	pthread_mutex_unlock(&FX.mu);
	return ok;
}

static void fx_command(unsigned cmd)
{
	pthread_mutex_lock(&FX.mu);
	if (FX.wake_open) {
		FX.commands |= cmd;
		uv_async_send(&FX.wake);
	}
	pthread_mutex_unlock(&FX.mu);
}

/* Starts the server thread with FX.cfg and FX.mode; returns the port. */
static int fx_start(void)
{
	cr_assert_eq(pthread_create(&FX.thread, NULL, fx_loop_main, &FX), 0);
	FX.thread_started = true;
	cr_assert(fx_wait_flag(&FX.ready), "server thread did not start");
	cr_assert_gt(FX.port, 0, "http_server_new: %s", FX.new_err.msg);
	return FX.port;
}

/* Stops the server (answering what is held), joins the thread, checks the loop closed. */
static void fx_fini(void)
{
	if (!FX.thread_started)
		return;
	fx_command(CMD_FINISH);
	cr_assert(fx_wait_flag(&FX.loop_done), "the loop did not finish");
	pthread_join(FX.thread, NULL);
	FX.thread_started = false;
	cr_assert_eq(FX.loop_close_rc, 0, "uv_loop_close: %s", uv_strerror(FX.loop_close_rc));
	cr_assert_null(FX.loop_error, "on the loop thread: %s", FX.loop_error);
}

static struct http_client *connect_ok(int port)
{
	struct err err;
	struct http_client *c = http_client_connect("127.0.0.1", port, WAIT_MS, &err);

	cr_assert_not_null(c, "connect: %s", err.msg);
	return c;
}

static void send_ok(struct http_client *c, const char *raw)
{
	struct err err;

	cr_assert_eq(http_client_send_str(c, raw, &err), 0, "send: %s", err.msg);
}

static void read_ok(struct http_client *c, struct http_client_response *resp)
{
	struct err err;

	cr_assert_eq(http_client_read_response(c, resp, &err), 0, "read: %s", err.msg);
}

static void closed_ok(struct http_client *c)
{
	struct err err;

	cr_assert_eq(http_client_wait_closed(c, &err), 0, "expected close: %s", err.msg);
}

/* Reads an error answer: status, JSON code, Connection: close, then the close itself. */
static void expect_error_and_close(struct http_client *c, int status, const char *code)
{
	struct http_client_response resp = { 0 };
	char want[128];
	const char *conn;

	read_ok(c, &resp);
	cr_assert_eq(resp.status, status, "status %d, body %s", resp.status, resp.body);
	snprintf(want, sizeof(want), "{\"error\":{\"code\":\"%s\",\"message\":\"", code);
	cr_assert(strncmp(resp.body, want, strlen(want)) == 0, "body %s", resp.body);
	cr_assert_str_eq(http_client_header(&resp, "content-type"), "application/json");
	conn = http_client_header(&resp, "connection");
	cr_assert(conn && strcmp(conn, "close") == 0, "no Connection: close");
	http_client_response_free(&resp);
	closed_ok(c);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

TestSuite(http, .init = fx_init, .fini = fx_fini, .timeout = 30);

/* ---- plain requests ---- */

Test(http, get_answers_with_body_and_length)
{
	int port = fx_start();
	struct http_client *c = connect_ok(port);
	struct http_client_response resp = { 0 };
	const char *hdrs[] = { "X-Test:  abc  ", NULL };
	struct err err;
	char cl[32];

	cr_assert_eq(http_client_request(c, "GET", "/hello?x=1&y", hdrs, NULL, 0, &resp, &err), 0,
		     "%s", err.msg);
	cr_assert_eq(resp.status, 200);
	cr_assert_eq(resp.minor, 1);
	cr_assert_str_eq(resp.reason, "OK");
	cr_assert_str_eq(resp.body, "GET /hello ?x=1&y x-test=abc body=");
	snprintf(cl, sizeof(cl), "%zu", resp.body_len);
	cr_assert_str_eq(http_client_header(&resp, "content-length"), cl);
	cr_assert_str_eq(http_client_header(&resp, "content-type"), "text/plain");
	cr_assert_not_null(http_client_header(&resp, "date"));
	cr_assert_null(http_client_header(&resp, "connection"));
	cr_assert(strncmp(http_client_header(&resp, "x-echo-peer"), "127.0.0.1:", 10) == 0);
	http_client_response_free(&resp);
	http_client_free(c);
}

Test(http, post_body_is_delivered)
{
	int port = fx_start();
	struct http_client *c = connect_ok(port);
	struct http_client_response resp = { 0 };
	struct err err;

	cr_assert_eq(http_client_request(c, "POST", "/p", NULL, "{\"a\":1}", 7, &resp, &err), 0,
		     "%s", err.msg);
	cr_assert_eq(resp.status, 200);
	cr_assert_str_eq(resp.body, "POST /p ? x-test=- body={\"a\":1}");
	http_client_response_free(&resp);
	http_client_free(c);
}

Test(http, keep_alive_reuses_the_connection)
{
	int port = fx_start();
	struct http_client *c = connect_ok(port);
	struct http_client_response resp = { 0 };
	struct err err;
	char peer[64] = "";
	int i;

	for (i = 0; i < 5; i++) {
		cr_assert_eq(http_client_request(c, "GET", "/k", NULL, NULL, 0, &resp, &err), 0,
			     "request %d: %s", i, err.msg);
		cr_assert_eq(resp.status, 200);
		if (i == 0)
			snprintf(peer, sizeof(peer), "%s", http_client_header(&resp, "x-echo-peer"));
		cr_assert_str_eq(http_client_header(&resp, "x-echo-peer"), peer);
		http_client_response_free(&resp);
	}
	cr_assert_eq(fx_count(&FX.requests), 5);
	http_client_free(c);
}

Test(http, head_gets_length_without_body)
{
	int port = fx_start();
	struct http_client *c = connect_ok(port);
	struct http_client_response resp = { 0 };
	struct err err;
	char cl[32];

	cr_assert_eq(http_client_request(c, "HEAD", "/h", NULL, NULL, 0, &resp, &err), 0, "%s",
		     err.msg);
	cr_assert_eq(resp.status, 200);
	cr_assert_eq(resp.body_len, 0);
	snprintf(cl, sizeof(cl), "%zu", strlen("HEAD /h ? x-test=- body="));
	cr_assert_str_eq(http_client_header(&resp, "content-length"), cl);
	http_client_response_free(&resp);
	/* No body bytes were sent: the next response on the connection parses cleanly. */
	cr_assert_eq(http_client_request(c, "GET", "/g", NULL, NULL, 0, &resp, &err), 0, "%s",
		     err.msg);
	cr_assert_str_eq(resp.body, "GET /g ? x-test=- body=");
	http_client_response_free(&resp);
	http_client_free(c);
}

Test(http, absolute_form_and_fragment)
{
	int port = fx_start();
	struct http_client *c = connect_ok(port);
	struct http_client_response resp = { 0 };

	send_ok(c, "GET http://example.org/a/b?q=1 HTTP/1.1\r\nHost: example.org\r\n\r\n"
		   "GET http://example.org HTTP/1.1\r\nHost: example.org\r\n\r\n");
	read_ok(c, &resp);
	cr_assert_str_eq(resp.body, "GET /a/b ?q=1 x-test=- body=");
	read_ok(c, &resp);
	cr_assert_str_eq(resp.body, "GET / ? x-test=- body=");
	http_client_response_free(&resp);
	http_client_free(c);
}

Test(http, http10_closes_after_response)
{
	int port = fx_start();
	struct http_client *c = connect_ok(port);
	struct http_client_response resp = { 0 };

	send_ok(c, "GET /old HTTP/1.0\r\n\r\n");
	read_ok(c, &resp);
	cr_assert_eq(resp.status, 200);
	cr_assert_str_eq(http_client_header(&resp, "connection"), "close");
	http_client_response_free(&resp);
	closed_ok(c);
	http_client_free(c);
}

Test(http, connection_close_ends_after_response_and_ignores_the_rest)
{
	int port = fx_start();
	struct http_client *c = connect_ok(port);
	struct http_client_response resp = { 0 };

	send_ok(c, "GET /1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
		   "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
	read_ok(c, &resp);
	cr_assert_str_eq(resp.body, "GET /1 ? x-test=- body=");
	cr_assert_str_eq(http_client_header(&resp, "connection"), "close");
	http_client_response_free(&resp);
	closed_ok(c);
	cr_assert_eq(fx_count(&FX.requests), 1);
	http_client_free(c);
}

Test(http, ipv6_listener)
{
	struct http_client *c;
	struct http_client_response resp = { 0 };
	struct err err;
	uv_loop_t probe;
	uv_tcp_t t;
	struct sockaddr_in6 a;
	int rc;

	/* Skip where the host has no IPv6 loopback. */
	uv_loop_init(&probe);
	uv_tcp_init(&probe, &t);
	uv_ip6_addr("::1", 0, &a);
	rc = uv_tcp_bind(&t, (const struct sockaddr *)&a, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&t, 1, NULL);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(&probe, UV_RUN_DEFAULT);
	uv_loop_close(&probe);
	if (rc != 0)
		cr_skip_test("no IPv6 loopback: %s", uv_strerror(rc));

	FX.cfg.listen = "[::1]:0";
	c = http_client_connect("::1", fx_start(), WAIT_MS, &err);
	cr_assert_not_null(c, "%s", err.msg);
	cr_assert_eq(http_client_request(c, "GET", "/six", NULL, NULL, 0, &resp, &err), 0, "%s",
		     err.msg);
	cr_assert_eq(resp.status, 200);
	cr_assert(strncmp(http_client_header(&resp, "x-echo-peer"), "[::1]:", 6) == 0);
	http_client_response_free(&resp);
	http_client_free(c);
}

/* ---- asynchronous answers and ordering ---- */

Test(http, pipelined_answers_come_in_request_order)
{
	int port;
	struct http_client *c;
	struct http_client_response resp = { 0 };
	char want[64];
	int i;

	FX.mode = APP_REVERSE;
	FX.batch = 3;
	port = fx_start();
	c = connect_ok(port);
	send_ok(c, "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
		   "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n"
		   "GET /3 HTTP/1.1\r\nHost: a\r\n\r\n");
	for (i = 1; i <= 3; i++) {
		read_ok(c, &resp);
		snprintf(want, sizeof(want), "GET /%d ? x-test=- body=", i);
		cr_assert_str_eq(resp.body, want);
	}
	http_client_response_free(&resp);
	http_client_free(c);
}

Test(http, answer_from_a_later_loop_iteration)
{
	int port;
	struct http_client *c;
	struct http_client_response resp = { 0 };
	struct err err;

	FX.mode = APP_LATER;
	port = fx_start();
	c = connect_ok(port);
	cr_assert_eq(http_client_request(c, "POST", "/later", NULL, "x", 1, &resp, &err), 0,
		     "%s", err.msg);
	cr_assert_eq(resp.status, 200);
	cr_assert_str_eq(resp.body, "POST /later ? x-test=- body=x");
	cr_assert_eq(http_client_request(c, "GET", "/again", NULL, NULL, 0, &resp, &err), 0,
		     "%s", err.msg);
	cr_assert_str_eq(resp.body, "GET /again ? x-test=- body=");
	http_client_response_free(&resp);
	http_client_free(c);
}

Test(http, deep_pipeline_pauses_reading_and_keeps_order)
{
	enum { N = 200 };
	int port, i;
	struct http_client *c;
	struct http_client_response resp = { 0 };
	char *all, *p, want[64];

	FX.mode = APP_REVERSE;
	FX.cfg.max_pipeline = 4;
	port = fx_start();
	c = connect_ok(port);
	all = malloc(N * 64);
	cr_assert_not_null(all);
	p = all;
	for (i = 0; i < N; i++)
		p += sprintf(p, "POST /%d HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nab", i);
	send_ok(c, all);
	free(all);
	for (i = 0; i < N; i++) {
		read_ok(c, &resp);
		snprintf(want, sizeof(want), "POST /%d ? x-test=- body=ab", i);
		cr_assert_str_eq(resp.body, want);
	}
	http_client_response_free(&resp);
	http_client_free(c);
}

/* A client pipelining 64 requests gets HTTP_DEFAULT_MAX_TURN_REQUESTS (16) of them handed out
 * per loop iteration (the time budget is out of the way here). Its first request holds the loop
 * until another connection's request is in the server's socket: that one is handed out in the
 * next iteration's poll phase, after the pipeline's 16 of the first iteration and 16 of the next
 * (from the write callbacks or the idle callback): 35th with the two warm-up requests, where it
 * used to be 67th. Every answer still comes in request order. */
Test(http, pipeline_yields_to_other_connections)
{
	enum { N = 64 };
	int port, i;
	struct http_client *a, *b;
	struct http_client_response resp = { 0 };
	char *all, *p, want[64];

	FX.cfg.turn_budget_us = 60 * 1000000; /* the gate holds the loop for a while */
	port = fx_start();
	a = connect_ok(port);
	b = connect_ok(port);
	/* Both accepted and idle before the pipeline starts. */
	send_ok(a, "GET /warm-a HTTP/1.1\r\nHost: a\r\n\r\n");
	read_ok(a, &resp);
	send_ok(b, "GET /warm-b HTTP/1.1\r\nHost: a\r\n\r\n");
	read_ok(b, &resp);
	all = malloc(N * 48);
	cr_assert_not_null(all);
	p = all + sprintf(all, "GET /gate HTTP/1.1\r\nHost: a\r\n\r\n");
	for (i = 1; i < N; i++)
		p += sprintf(p, "GET /%d HTTP/1.1\r\nHost: a\r\n\r\n", i);
	send_ok(a, all);
	free(all);
	cr_assert(fx_wait_flag(&FX.gate_entered), "the pipeline's first request never came");
	send_ok(b, "GET /b HTTP/1.1\r\nHost: a\r\n\r\n");
	pthread_mutex_lock(&FX.mu);
	FX.gate_open = true;
	fx_signal(&FX);
	pthread_mutex_unlock(&FX.mu);
	read_ok(b, &resp);
	cr_assert_str_eq(resp.body, "GET /b ? x-test=- body=");
	cr_assert_eq(fx_count(&FX.b_position), 2 + 2 * HTTP_DEFAULT_MAX_TURN_REQUESTS + 1,
		     "/b was handed out %dth", fx_count(&FX.b_position));
	read_ok(a, &resp);
	cr_assert_str_eq(resp.body, "GET /gate ? x-test=- body=");
	for (i = 1; i < N; i++) {
		read_ok(a, &resp);
		snprintf(want, sizeof(want), "GET /%d ? x-test=- body=", i);
		cr_assert_str_eq(resp.body, want);
	}
	cr_assert_eq(fx_count(&FX.requests), 2 + N + 1);
	http_client_response_free(&resp);
	http_client_free(a);
	http_client_free(b);
}

Test(http, pipeline_byte_bound_keeps_order)
{
	enum { N = 50 };
	int port, i;
	struct http_client *c;
	struct http_client_response resp = { 0 };
	char *all, *p, want[64];

	FX.mode = APP_REVERSE;
	FX.cfg.max_pipeline_bytes = 1; /* one request at a time */
	port = fx_start();
	c = connect_ok(port);
	all = malloc(N * 64);
	cr_assert_not_null(all);
	p = all;
	for (i = 0; i < N; i++)
		p += sprintf(p, "GET /%d HTTP/1.1\r\nHost: a\r\n\r\n", i);
	send_ok(c, all);
	free(all);
	for (i = 0; i < N; i++) {
		read_ok(c, &resp);
		snprintf(want, sizeof(want), "GET /%d ? x-test=- body=", i);
		cr_assert_str_eq(resp.body, want);
	}
	http_client_response_free(&resp);
	http_client_free(c);
}

Test(http, expect_100_continue)
{
	int port = fx_start();
	struct http_client *c = connect_ok(port);
	struct http_client_response resp = { 0 };
	struct err err;

	send_ok(c, "PUT /e HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
	cr_assert_eq(http_client_read_response_ex(c, &resp, HTTP_CLIENT_INTERIM, &err), 0, "%s",
		     err.msg);
	cr_assert_eq(resp.status, 100);
	send_ok(c, "hello");
	read_ok(c, &resp);
	cr_assert_eq(resp.status, 200);
	cr_assert_str_eq(resp.body, "PUT /e ? x-test=- body=hello");
	http_client_response_free(&resp);
	http_client_free(c);
}

Test(http, invalid_response_header_becomes_500)
{
	int port = fx_start();
	struct http_client *c = connect_ok(port);
	struct http_client_response resp = { 0 };
	struct err err;

	cr_assert_eq(http_client_request(c, "GET", "/bad-header", NULL, NULL, 0, &resp, &err), 0,
		     "%s", err.msg);
	cr_assert_eq(resp.status, 500);
	cr_assert(fx_wait_count(&FX.bad_responds, 1));
	cr_assert_eq(fx_count(&FX.bad_respond_rc), UV_EINVAL);
	/* the connection is still usable */
	cr_assert_eq(http_client_request(c, "GET", "/ok", NULL, NULL, 0, &resp, &err), 0, "%s",
		     err.msg);
	cr_assert_eq(resp.status, 200);
	http_client_response_free(&resp);
	http_client_free(c);
}

/* ---- limits and malformed requests ---- */

Test(http, header_too_large_gets_431)
{
	int port;
	struct http_client *c;
	char big[3000];

	FX.cfg.max_header_bytes = 1024;
	port = fx_start();
	c = connect_ok(port);
	memset(big, 'v', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	send_ok(c, "GET / HTTP/1.1\r\nHost: a\r\nX-Big: ");
	send_ok(c, big);
	expect_error_and_close(c, 431, "header_too_large");
	http_client_free(c);
}

Test(http, long_request_line_gets_414)
{
	int port;
	struct http_client *c;
	char big[3000];

	FX.cfg.max_header_bytes = 1024;
	port = fx_start();
	c = connect_ok(port);
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	send_ok(c, "GET /");
	send_ok(c, big);
	expect_error_and_close(c, 414, "uri_too_long");
	http_client_free(c);
}

Test(http, header_at_the_limit_passes)
{
	int port;
	struct http_client *c;
	struct http_client_response resp = { 0 };
	char req[1024 + 1];
	const char *head = "GET /fit HTTP/1.1\r\nHost: a\r\nX-Pad: ";
	size_t n = strlen(head);

	FX.cfg.max_header_bytes = 1024;
	port = fx_start();
	c = connect_ok(port);
	/* exactly 1024 bytes up to and including the blank line */
	memcpy(req, head, n);
	memset(req + n, 'p', 1024 - n - 4);
	memcpy(req + 1024 - 4, "\r\n\r\n", 5);
	cr_assert_eq(strlen(req), 1024);
	send_ok(c, req);
	read_ok(c, &resp);
	cr_assert_eq(resp.status, 200);
	http_client_response_free(&resp);
	http_client_free(c);
}

Test(http, body_too_large_gets_413)
{
	int port;
	struct http_client *c;

	FX.cfg.max_body_bytes = 1000;
	port = fx_start();
	c = connect_ok(port);
	send_ok(c, "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n");
	expect_error_and_close(c, 413, "body_too_large");
	cr_assert_eq(fx_count(&FX.requests), 0);
	http_client_free(c);
}

Test(http, per_path_body_limit)
{
	static const struct http_body_limit limits[] = {
		{ "/api/v1/cases:batch", 5000 },
		{ "/api/v1/tiny", 2 },
	};
	int port;
	struct http_client *c;
	struct http_client_response resp = { 0 };
	struct err err;
	char *body = malloc(3000);

	cr_assert_not_null(body);
	memset(body, 'b', 3000);
	FX.cfg.max_body_bytes = 1000;
	FX.cfg.body_limits = limits;
	FX.cfg.nbody_limits = 2;
	port = fx_start();
	c = connect_ok(port);
	cr_assert_eq(http_client_request(c, "POST", "/api/v1/cases:batch", NULL, body, 3000, &resp,
					 &err),
		     0, "%s", err.msg);
	cr_assert_eq(resp.status, 200);
	cr_assert_str_eq(resp.body, "3000");
	http_client_response_free(&resp);
	cr_assert_eq(http_client_request(c, "POST", "/api/v1/tiny", NULL, "ab", 2, &resp, &err), 0,
		     "%s", err.msg);
	cr_assert_eq(resp.status, 200);
	http_client_response_free(&resp);
	cr_assert_eq(http_client_send_request(c, "POST", "/api/v1/cases", NULL, body, 3000, &err),
		     0, "%s", err.msg);
	expect_error_and_close(c, 413, "body_too_large");
	http_client_free(c);
	free(body);
}

Test(http, chunked_body_gets_411)
{
	int port = fx_start();
	struct http_client *c = connect_ok(port);

	send_ok(c, "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		   "5\r\nhello\r\n0\r\n\r\n");
	expect_error_and_close(c, 411, "length_required");
	http_client_free(c);
}

Test(http, content_length_with_transfer_encoding_gets_400)
{
	int port = fx_start();
	struct http_client *c = connect_ok(port);

	send_ok(c, "POST /s HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
		   "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n");
	expect_error_and_close(c, 400, "bad_request");
	cr_assert_eq(fx_count(&FX.requests), 0);
	http_client_free(c);
}

Test(http, duplicate_content_length_gets_400)
{
	int port = fx_start();
	struct http_client *c = connect_ok(port);

	send_ok(c, "POST /d HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n"
		   "abc");
	expect_error_and_close(c, 400, "bad_request");
	cr_assert_eq(fx_count(&FX.requests), 0);
	http_client_free(c);
}

Test(http, garbage_gets_400)
{
	int port = fx_start();
	struct http_client *c = connect_ok(port);

	send_ok(c, "\x16\x03\x01 this is not http\r\n\r\n");
	expect_error_and_close(c, 400, "bad_request");
	http_client_free(c);
}

Test(http, missing_host_gets_400)
{
	int port = fx_start();
	struct http_client *c = connect_ok(port);

	send_ok(c, "GET / HTTP/1.1\r\n\r\n");
	expect_error_and_close(c, 400, "bad_request");
	http_client_free(c);
}

Test(http, error_comes_after_earlier_answers)
{
	int port;
	struct http_client *c;
	struct http_client_response resp = { 0 };

	FX.mode = APP_LATER;
	port = fx_start();
	c = connect_ok(port);
	send_ok(c, "GET /first HTTP/1.1\r\nHost: a\r\n\r\n"
		   "POST /bad HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
	read_ok(c, &resp);
	cr_assert_eq(resp.status, 200);
	cr_assert_str_eq(resp.body, "GET /first ? x-test=- body=");
	cr_assert_null(http_client_header(&resp, "connection"));
	http_client_response_free(&resp);
	expect_error_and_close(c, 411, "length_required");
	http_client_free(c);
}

/* ---- timeouts ---- */

Test(http, header_timeout_gets_408)
{
	int port;
	struct http_client *c;
	int64_t t0;

	FX.cfg.header_timeout_ms = 200;
	port = fx_start();
	c = connect_ok(port);
	t0 = mono_ms();
	send_ok(c, "GET /slow HTTP/1.1\r\nHost: a\r\n");
	expect_error_and_close(c, 408, "request_timeout");
	cr_assert_geq(mono_ms() - t0, 150);
	http_client_free(c);
}

Test(http, body_timeout_gets_408)
{
	int port;
	struct http_client *c;

	FX.cfg.body_timeout_ms = 200;
	port = fx_start();
	c = connect_ok(port);
	send_ok(c, "POST /slow HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
	expect_error_and_close(c, 408, "request_timeout");
	cr_assert_eq(fx_count(&FX.requests), 0);
	http_client_free(c);
}

Test(http, idle_connection_is_closed)
{
	int port;
	struct http_client *c;
	struct http_client_response resp = { 0 };
	struct err err;
	int64_t t0;

	FX.cfg.idle_timeout_ms = 200;
	port = fx_start();
	c = connect_ok(port);
	cr_assert_eq(http_client_request(c, "GET", "/", NULL, NULL, 0, &resp, &err), 0, "%s",
		     err.msg);
	http_client_response_free(&resp);
	t0 = mono_ms();
	closed_ok(c);
	cr_assert_geq(mono_ms() - t0, 150);
	http_client_free(c);
}

Test(http, idle_timeout_does_not_cut_a_waiting_request)
{
	int port;
	struct http_client *c;
	struct http_client_response resp = { 0 };
	struct err err;

	FX.mode = APP_HOLD;
	FX.cfg.idle_timeout_ms = 100;
	port = fx_start();
	c = connect_ok(port);
	cr_assert_eq(http_client_send_request(c, "GET", "/wait", NULL, NULL, 0, &err), 0);
	cr_assert(fx_wait_count(&FX.requests, 1));
	/* several idle periods pass while the application works */
	http_client_set_timeout(c, 400);
	cr_assert_eq(http_client_read_response(c, &resp, &err), -1);
	fx_command(CMD_ANSWER);
	http_client_set_timeout(c, WAIT_MS);
	read_ok(c, &resp);
	cr_assert_eq(resp.status, 200);
	http_client_response_free(&resp);
	http_client_free(c);
}

/* ---- connections ---- */

Test(http, over_max_connections_gets_503)
{
	int port;
	struct http_client *a, *b, *c;
	struct http_client_response resp = { 0 };
	struct err err;

	FX.cfg.max_connections = 2;
	port = fx_start();
	a = connect_ok(port);
	b = connect_ok(port);
	cr_assert_eq(http_client_request(a, "GET", "/a", NULL, NULL, 0, &resp, &err), 0, "%s",
		     err.msg);
	cr_assert_eq(http_client_request(b, "GET", "/b", NULL, NULL, 0, &resp, &err), 0, "%s",
		     err.msg);
	http_client_response_free(&resp);
	c = connect_ok(port);
	cr_assert_eq(http_client_send_request(c, "GET", "/c", NULL, NULL, 0, &err), 0, "%s",
		     err.msg);
	expect_error_and_close(c, 503, "too_many_connections");
	http_client_free(c);
	/* the first two still work */
	cr_assert_eq(http_client_request(a, "GET", "/a2", NULL, NULL, 0, &resp, &err), 0, "%s",
		     err.msg);
	cr_assert_eq(resp.status, 200);
	http_client_response_free(&resp);
	http_client_free(a);
	http_client_free(b);
}

Test(http, client_reset_before_answer_aborts_the_request)
{
	int port;
	struct http_client *c;
	struct err err;

	FX.mode = APP_HOLD;
	port = fx_start();
	c = connect_ok(port);
	cr_assert_eq(http_client_send_request(c, "POST", "/gone", NULL, "data", 4, &err), 0);
	cr_assert(fx_wait_count(&FX.requests, 1));
	http_client_abort(c);
	/* the tick answers it once aborted; the answer is dropped */
	cr_assert(fx_wait_count(&FX.aborted_answered, 1), "request never seen aborted");
	cr_assert(fx_wait_conns_at_most(0));
}

Test(http, client_close_before_answer_is_harmless)
{
	int port;
	struct http_client *c;
	struct err err;

	FX.mode = APP_HOLD;
	port = fx_start();
	c = connect_ok(port);
	cr_assert_eq(http_client_send_request(c, "GET", "/1", NULL, NULL, 0, &err), 0);
	cr_assert_eq(http_client_send_request(c, "GET", "/2", NULL, NULL, 0, &err), 0);
	cr_assert(fx_wait_count(&FX.requests, 2));
	http_client_free(c);
	fx_command(CMD_ANSWER);
	cr_assert(fx_wait_conns_at_most(0), "connection not closed");
}

Test(http, half_closed_client_still_gets_its_answers)
{
	int port;
	struct http_client *c;
	struct http_client_response resp = { 0 };
	struct err err;

	FX.mode = APP_LATER;
	port = fx_start();
	c = connect_ok(port);
	send_ok(c, "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
	cr_assert_eq(http_client_shutdown_write(c, &err), 0);
	read_ok(c, &resp);
	cr_assert_str_eq(resp.body, "GET /1 ? x-test=- body=");
	read_ok(c, &resp);
	cr_assert_str_eq(resp.body, "GET /2 ? x-test=- body=");
	http_client_response_free(&resp);
	closed_ok(c);
	http_client_free(c);
}

/* ---- stopping ---- */

Test(http, graceful_stop_drains_in_flight_request)
{
	int port;
	struct http_client *busy, *idle, *late;
	struct http_client_response resp = { 0 };
	struct err err;

	FX.mode = APP_HOLD;
	port = fx_start();
	busy = connect_ok(port);
	idle = connect_ok(port);
	cr_assert(fx_wait_count(&FX.conns, 2));
	cr_assert_eq(http_client_send_request(busy, "GET", "/busy", NULL, NULL, 0, &err), 0);
	cr_assert(fx_wait_count(&FX.requests, 1));
	fx_command(CMD_STOP);
	closed_ok(idle); /* idle connections go at once */
	late = http_client_connect("127.0.0.1", port, WAIT_MS, &err);
	cr_assert_null(late, "still accepting after stop");
	cr_assert(!fx_flag(&FX.stopped));
	fx_command(CMD_ANSWER); /* the application answers in a later iteration */
	read_ok(busy, &resp);
	cr_assert_eq(resp.status, 200);
	cr_assert_str_eq(resp.body, "GET /busy ? x-test=- body=");
	cr_assert_str_eq(http_client_header(&resp, "connection"), "close");
	http_client_response_free(&resp);
	closed_ok(busy);
	cr_assert(fx_wait_flag(&FX.loop_done));
	cr_assert(FX.stopped);
	cr_assert_eq(FX.loop_close_rc, 0);
	http_client_free(busy);
	http_client_free(idle);
}

/* The turn's budget is also loop time: requests that take 3 ms each go one per iteration
 * (turn_budget_us 1000), so the other connection's request is handed out after two of them, one
 * per iteration, however many max_turn_requests would allow. */
Test(http, pipeline_turn_budget_counts_loop_time)
{
	enum { N = 16 };
	int port, i;
	struct http_client *a, *b;
	struct http_client_response resp = { 0 };
	char *all, *p, want[64];

	port = fx_start();
	a = connect_ok(port);
	b = connect_ok(port);
	cr_assert(fx_wait_count(&FX.conns, 2));
	all = malloc(N * 48);
	cr_assert_not_null(all);
	p = all + sprintf(all, "GET /gate?work HTTP/1.1\r\nHost: a\r\n\r\n");
	for (i = 1; i < N; i++)
		p += sprintf(p, "GET /%d?work HTTP/1.1\r\nHost: a\r\n\r\n", i);
	send_ok(a, all);
	free(all);
	cr_assert(fx_wait_flag(&FX.gate_entered), "the pipeline's first request never came");
	send_ok(b, "GET /b HTTP/1.1\r\nHost: a\r\n\r\n");
	pthread_mutex_lock(&FX.mu);
	FX.gate_open = true;
	fx_signal(&FX);
	pthread_mutex_unlock(&FX.mu);
	read_ok(b, &resp);
	cr_assert_str_eq(resp.body, "GET /b ? x-test=- body=");
	cr_assert_eq(fx_count(&FX.b_position), 3, "/b was handed out %dth",
		     fx_count(&FX.b_position));
	for (i = 0; i < N; i++) {
		read_ok(a, &resp);
		if (i == 0)
			snprintf(want, sizeof(want), "GET /gate ?work x-test=- body=");
		else
			snprintf(want, sizeof(want), "GET /%d ?work x-test=- body=", i);
		cr_assert_str_eq(resp.body, want);
	}
	http_client_response_free(&resp);
	http_client_free(a);
	http_client_free(b);
}

/* Two pipelines waiting their turn share the iterations: one whose answers are written (its
 * write callbacks hand out its next requests too) must not keep the other, whose answers are
 * held and which only the idle callback takes up, from its turns. With 2 requests per turn, the
 * held pipeline of 32 has had half of its requests handed out by the time the other's 64th is
 * (all of them, in practice). */
Test(http, pipelines_share_the_turns)
{
	enum { N = 64, M = 32 };
	struct http_client *a, *b;
	char *all, *p;
	int port, i;

	FX.cfg.max_turn_requests = 2;
	FX.cfg.turn_budget_us = 60 * 1000000; /* the gate holds the loop for a while */
	port = fx_start();
	a = connect_ok(port);
	b = connect_ok(port);
	cr_assert(fx_wait_count(&FX.conns, 2));
	all = malloc(N * 48);
	cr_assert_not_null(all);
	p = all + sprintf(all, "GET /gate HTTP/1.1\r\nHost: a\r\n\r\n");
	for (i = 1; i < N; i++)
		p += sprintf(p, "GET /a%d HTTP/1.1\r\nHost: a\r\n\r\n", i);
	send_ok(a, all);
	cr_assert(fx_wait_flag(&FX.gate_entered), "the pipeline's first request never came");
	p = all;
	for (i = 0; i < M; i++)
		p += sprintf(p, "GET /hold%d HTTP/1.1\r\nHost: a\r\n\r\n", i);
	send_ok(b, all);
	free(all);
	pthread_mutex_lock(&FX.mu);
	FX.gate_open = true;
	fx_signal(&FX);
	pthread_mutex_unlock(&FX.mu);
	cr_assert(fx_wait_count(&FX.requests, N + M), "%d of %d requests handed out",
		  fx_count(&FX.requests), N + M);
	cr_assert_geq(fx_count(&FX.held_b_at_a_end), M / 2, "%d of the held pipeline's requests "
		      "handed out when the other one's last was", fx_count(&FX.held_b_at_a_end));
	http_client_free(a);
	http_client_free(b);
}

/* A stop while a pipeline waits for its turn: the requests handed out are answered in order,
 * those still buffered get nothing, the server closes the connection and stops. */
Test(http, graceful_stop_with_a_pipeline_waiting_its_turn)
{
	enum { N = 64 };
	struct http_client *a;
	struct err err;
	char *all, *p, *next, *rest, want[48];
	size_t len;
	int port, i, answered, got = 0;

	port = fx_start();
	a = connect_ok(port);
	all = malloc(N * 48);
	cr_assert_not_null(all);
	p = all + sprintf(all, "GET /gate HTTP/1.1\r\nHost: a\r\n\r\n");
	for (i = 1; i < N; i++)
		p += sprintf(p, "GET /%d HTTP/1.1\r\nHost: a\r\n\r\n", i);
	send_ok(a, all);
	free(all);
	cr_assert(fx_wait_flag(&FX.gate_entered), "the pipeline's first request never came");
	fx_command(CMD_STOP); /* taken up after the pipeline's first turn */
	pthread_mutex_lock(&FX.mu);
	FX.gate_open = true;
	fx_signal(&FX);
	pthread_mutex_unlock(&FX.mu);
	cr_assert_eq(http_client_read_until_close(a, &rest, &len, &err), 0, "%s", err.msg);
	answered = fx_count(&FX.requests);
	cr_assert(answered >= 1 && answered < N, "%d requests handed out", answered);
	for (p = strstr(rest, "HTTP/1.1 200 OK\r\n"); p; p = next) {
		const char *body;

		next = strstr(p + 1, "HTTP/1.1 200 OK\r\n");
		if (got == 0)
			snprintf(want, sizeof(want), "GET /gate ? x-test=- body=");
		else
			snprintf(want, sizeof(want), "GET /%d ? x-test=- body=", got);
		body = strstr(p, want);
		cr_assert(body && (!next || body < next), "answer %d is not to its request", got);
		got++;
	}
	cr_assert_eq(got, answered);
	free(rest);
	http_client_free(a);
	cr_assert(fx_wait_flag(&FX.loop_done), "the server did not stop");
	cr_assert(fx_flag(&FX.stopped));
}

Test(http, graceful_stop_answers_a_partial_request_with_503)
{
	int port;
	struct http_client *c;

	port = fx_start();
	c = connect_ok(port);
	send_ok(c, "POST /partial HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nabc");
	cr_assert(fx_wait_count(&FX.conns, 1));
	fx_command(CMD_STOP);
	expect_error_and_close(c, 503, "shutting_down");
	cr_assert(fx_wait_flag(&FX.loop_done));
	cr_assert_eq(FX.loop_close_rc, 0);
	http_client_free(c);
}

Test(http, free_aborts_held_requests)
{
	int port;
	struct http_client *c;
	struct err err;
	char *rest;
	size_t len;

	FX.mode = APP_HOLD;
	port = fx_start();
	c = connect_ok(port);
	cr_assert_eq(http_client_send_request(c, "GET", "/held", NULL, NULL, 0, &err), 0);
	cr_assert(fx_wait_count(&FX.requests, 1));
	fx_command(CMD_FREE);
	cr_assert_eq(http_client_read_until_close(c, &rest, &len, &err), 0, "%s", err.msg);
	cr_assert_eq(len, 0);
	free(rest);
	cr_assert(fx_wait_flag(&FX.loop_done));
	cr_assert_eq(FX.loop_close_rc, 0);
	http_client_free(c);
}

Test(http, free_during_graceful_stop_cuts_it_short)
{
	int port;
	struct http_client *c;
	struct err err;

	FX.mode = APP_HOLD;
	port = fx_start();
	c = connect_ok(port);
	cr_assert_eq(http_client_send_request(c, "GET", "/held", NULL, NULL, 0, &err), 0);
	cr_assert(fx_wait_count(&FX.requests, 1));
	fx_command(CMD_STOP);
	fx_command(CMD_FREE);
	cr_assert(fx_wait_flag(&FX.loop_done));
	cr_assert(FX.stopped, "the stop callback did not run");
	cr_assert_eq(FX.loop_close_rc, 0);
	http_client_free(c);
}

/* ---- creation errors (no thread: the loop runs here) ---- */

static void noop_request(struct http_request *req, void *ctx)
{
	http_respond(req, 204, NULL, NULL, 0, NULL, 0);
}

static void expect_new_fails(const char *listen, const char *field)
{
	struct http_config cfg = { .listen = listen, .on_request = noop_request };
	struct err err;
	uv_loop_t loop;

	cr_assert_eq(uv_loop_init(&loop), 0);
	cr_assert_null(http_server_new(&loop, &cfg, &err), "%s accepted", listen);
	cr_assert_str_eq(err.field, field, "%s: field %s (%s)", listen, err.field, err.msg);
	cr_assert_neq(err.msg[0], '\0');
	uv_run(&loop, UV_RUN_DEFAULT);
	cr_assert_eq(uv_loop_close(&loop), 0);
}

Test(http_new, rejects_bad_addresses)
{
	expect_new_fails("nonsense", "http.listen");
	expect_new_fails("localhost:80", "http.listen");
	expect_new_fails("127.0.0.1", "http.listen");
	expect_new_fails("127.0.0.1:99999", "http.listen");
	expect_new_fails("127.0.0.1:-1", "http.listen");
	expect_new_fails("::1:80", "http.listen");
	expect_new_fails("[::1]80", "http.listen");
	expect_new_fails("[zz]:80", "http.listen");
	expect_new_fails("", "http.listen");
}

Test(http_new, address_in_use_fails_and_loop_closes)
{
	struct http_config cfg = { .listen = "127.0.0.1:0", .on_request = noop_request };
	struct http_server *srv;
	struct err err;
	uv_loop_t loop;
	char addr[64];

	cr_assert_eq(uv_loop_init(&loop), 0);
	srv = http_server_new(&loop, &cfg, &err);
	cr_assert_not_null(srv, "%s", err.msg);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", http_server_port(srv));
	cfg.listen = addr;
	cr_assert_null(http_server_new(&loop, &cfg, &err));
	cr_assert_str_eq(err.field, "http.listen");
	http_server_free(srv);
	http_server_free(NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	cr_assert_eq(uv_loop_close(&loop), 0);
}

static void count_stop(struct http_server *srv, void *arg)
{
	(*(int *)arg)++;
}

Test(http_new, stop_without_connections_calls_back_later)
{
	struct http_config cfg = { .listen = "127.0.0.1:0", .on_request = noop_request };
	struct http_server *srv;
	struct err err;
	uv_loop_t loop;
	int stopped = 0;

	cr_assert_eq(uv_loop_init(&loop), 0);
	srv = http_server_new(&loop, &cfg, &err);
	cr_assert_not_null(srv, "%s", err.msg);
	cr_assert_eq(http_server_stop(srv, count_stop, &stopped), 0);
	cr_assert_eq(stopped, 0, "stop callback called synchronously");
	uv_run(&loop, UV_RUN_DEFAULT);
	cr_assert_eq(stopped, 1);
	cr_assert_eq(uv_loop_close(&loop), 0);
}

Test(http_new, status_reasons)
{
	cr_assert_str_eq(http_status_reason(404), "Not Found");
	cr_assert_str_eq(http_status_reason(431), "Request Header Fields Too Large");
	cr_assert_str_eq(http_status_reason(299), "");
}
