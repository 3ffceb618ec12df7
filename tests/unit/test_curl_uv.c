/* test_curl_uv: libcurl on libuv (daemon/curl_uv.c) against the project's HTTP server over real
 * loopback sockets. Server and transport share one uv loop on the test thread, so everything is
 * single-threaded and deterministic: the test runs the loop until a condition holds (with a
 * deadline), then asserts libuv-style counters. The server application answers by path:
 *   /echo   200 "echo:<body>"        /fail   500 "boom"
 *   /slow   held, answered ~30 ms later by the tick timer (counts concurrency per X-Pool)
 *   /never  held until the fixture tears down
 * Every test ends with curl_uv closed, the server freed, every handle closed,
 * uv_loop_close() == 0, and as many open descriptors as before it started. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <uv.h>

#include "curl_uv.h"
#include "http.h"

#define WAIT_MS 10000
#define MAX_JOBS 128
#define MAX_HELD 256
#define MAX_PEERS 256
#define NPOOLS 3 /* X-Pool a, b, none */

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

struct fx;

struct job {
	struct fx *fx;
	int id;
	struct curl_slist *hdrs;
	char resp[256];
	size_t rlen;
	bool done;
	CURLcode result;
	long code;
	void (*then)(struct job *j); /* runs inside the done callback */
};

struct held {
	struct http_request *req;
	uint64_t due; /* 0: never */
	int pool;
	int seq;
};

struct fx {
	uv_loop_t loop;
	uv_timer_t tick;
	struct http_server *srv;
	int port;
	struct curl_uv *cu;
	struct curl_uv_config cfg;
	bool cu_close_issued, cu_closed;
	int fds_before;

	struct held held[MAX_HELD];
	size_t nheld;
	unsigned requests;
	unsigned cur[NPOOLS], max[NPOOLS];
	int order[NPOOLS][MAX_JOBS];
	unsigned norder[NPOOLS];
	char peers[MAX_PEERS][64];
	unsigned npeers;

	struct job jobs[MAX_JOBS];
	unsigned ndone;
	bool in_submit, in_close; /* a done callback seen while set is a bug */
	bool sync_done;
	bool ended;
	unsigned curl_errors;
};

static struct fx FX;

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the DIR's own descriptor */
}

/* ---- the server application ---- */

static int pool_index(const char *name)
{
	if (name && strcmp(name, "a") == 0)
		return 0;
	if (name && strcmp(name, "b") == 0)
		return 1;
	return 2;
}

static void note_peer(struct fx *fx, const char *peer)
{
	unsigned i;

	for (i = 0; i < fx->npeers; i++)
		if (strcmp(fx->peers[i], peer) == 0)
			return;
	if (fx->npeers < MAX_PEERS)
		snprintf(fx->peers[fx->npeers++], sizeof(fx->peers[0]), "%s", peer);
}

static void answer_held(struct fx *fx, size_t i)
{
	struct held *h = &fx->held[i];
	char body[64];
	int n;

	if (h->due) {
		fx->cur[h->pool]--;
		n = snprintf(body, sizeof(body), "slow:%d", h->seq);
		http_respond(h->req, 200, "text/plain", body, (size_t)n, NULL, 0);
	} else {
		http_respond(h->req, 200, NULL, NULL, 0, NULL, 0);
	}
	fx->held[i] = fx->held[--fx->nheld];
}

static void app_on_request(struct http_request *req, void *ctx)
{
	struct fx *fx = ctx;
	const char *path = http_request_path(req), *seq = http_request_header(req, "x-seq");
	char body[300];
	size_t blen;
	const char *b = http_request_body(req, &blen);
	struct held *h;
	int n;

	fx->requests++;
	note_peer(fx, http_request_peer(req));
	if (strcmp(path, "/echo") == 0) {
		n = snprintf(body, sizeof(body), "echo:%.*s", (int)(blen < 200 ? blen : 200), b);
		http_respond(req, 200, "text/plain", body, (size_t)n, NULL, 0);
		return;
	}
	if (strcmp(path, "/fail") == 0) {
		http_respond(req, 500, "text/plain", "boom", 4, NULL, 0);
		return;
	}
	if ((strcmp(path, "/slow") != 0 && strcmp(path, "/never") != 0) || fx->nheld == MAX_HELD) {
		http_respond(req, 404, NULL, NULL, 0, NULL, 0);
		return;
	}
	h = &fx->held[fx->nheld++];
	h->req = req;
	h->seq = seq ? atoi(seq) : -1;
	h->pool = pool_index(http_request_header(req, "x-pool"));
	h->due = 0;
	if (strcmp(path, "/slow") == 0) {
		h->due = uv_now(&fx->loop) + 30;
		if (++fx->cur[h->pool] > fx->max[h->pool])
			fx->max[h->pool] = fx->cur[h->pool];
		if (fx->norder[h->pool] < MAX_JOBS)
			fx->order[h->pool][fx->norder[h->pool]++] = h->seq;
	}
}

static void on_tick(uv_timer_t *t)
{
	struct fx *fx = container_of(t, struct fx, tick);
	uint64_t now = uv_now(&fx->loop);
	size_t i;

	for (i = 0; i < fx->nheld;) {
		if (fx->held[i].due && fx->held[i].due <= now)
			answer_held(fx, i); /* moves the last one into i */
		else
			i++;
	}
}

/* ---- the client side ---- */

static void on_curl_error(const char *msg, void *ctx)
{
	struct fx *fx = ctx;

	fprintf(stderr, "curl_uv: %s\n", msg);
	fx->curl_errors++;
}

static size_t on_write(char *p, size_t size, size_t n, void *ud)
{
	struct job *j = ud;
	size_t len = size * n, room = sizeof(j->resp) - 1 - j->rlen;

	memcpy(j->resp + j->rlen, p, len < room ? len : room);
	j->rlen += len < room ? len : room;
	j->resp[j->rlen] = '\0';
	return len;
}

static void on_done(CURL *easy, CURLcode result, void *arg)
{
	struct job *j = arg;
	struct fx *fx = j->fx;

	if (fx->in_submit || fx->in_close)
		fx->sync_done = true;
	cr_assert_not(j->done, "job %d completed twice", j->id);
	j->done = true;
	j->result = result;
	cr_assert_eq(curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &j->code), CURLE_OK);
	curl_slist_free_all(j->hdrs);
	j->hdrs = NULL;
	curl_easy_cleanup(easy);
	fx->ndone++;
	if (j->then)
		j->then(j);
}

/* An easy handle for job id: a POST of body to path on the server (or to url when given). */
static CURL *job_easy(struct fx *fx, int id, const char *url, const char *path, const char *body,
		      const char *pool)
{
	struct job *j = &fx->jobs[id];
	char buf[256];
	CURL *easy = curl_easy_init();

	cr_assert_not_null(easy);
	memset(j, 0, sizeof(*j));
	j->fx = fx;
	j->id = id;
	if (!url) {
		snprintf(buf, sizeof(buf), "http://127.0.0.1:%d%s", fx->port, path);
		url = buf;
	}
	cr_assert_eq(curl_easy_setopt(easy, CURLOPT_URL, url), CURLE_OK);
	cr_assert_eq(curl_easy_setopt(easy, CURLOPT_COPYPOSTFIELDS, body), CURLE_OK);
	cr_assert_eq(curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_write), CURLE_OK);
	cr_assert_eq(curl_easy_setopt(easy, CURLOPT_WRITEDATA, (void *)j), CURLE_OK);
	cr_assert_eq(curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 8000L), CURLE_OK);
	snprintf(buf, sizeof(buf), "X-Seq: %d", id);
	j->hdrs = curl_slist_append(j->hdrs, buf);
	snprintf(buf, sizeof(buf), "X-Pool: %s", pool ? pool : "-");
	j->hdrs = curl_slist_append(j->hdrs, buf);
	j->hdrs = curl_slist_append(j->hdrs, "Expect:");
	cr_assert_not_null(j->hdrs);
	cr_assert_eq(curl_easy_setopt(easy, CURLOPT_HTTPHEADER, j->hdrs), CURLE_OK);
	return easy;
}

static void submit_ok(struct fx *fx, CURL *easy, int id, const char *pool, unsigned cap)
{
	struct err err;
	int rc;

	fx->in_submit = true;
	rc = curl_uv_submit(fx->cu, easy, pool, cap, on_done, &fx->jobs[id], &err);
	fx->in_submit = false;
	cr_assert_eq(rc, 0, "submit %d: %s", id, err.msg);
}

/* Submits a POST of body to path as job id. */
static void post(struct fx *fx, int id, const char *path, const char *body, const char *pool,
		 unsigned cap)
{
	submit_ok(fx, job_easy(fx, id, NULL, path, body, pool), id, pool, cap);
}

/* Runs the loop until *n >= want, or the deadline. */
static bool run_until_count(struct fx *fx, const unsigned *n, unsigned want)
{
	uint64_t until = uv_hrtime() / 1000000 + WAIT_MS;

	while (*n < want && uv_hrtime() / 1000000 < until)
		uv_run(&fx->loop, UV_RUN_ONCE);
	return *n >= want;
}

static bool run_until_flag(struct fx *fx, const bool *flag)
{
	uint64_t until = uv_hrtime() / 1000000 + WAIT_MS;

	while (!*flag && uv_hrtime() / 1000000 < until)
		uv_run(&fx->loop, UV_RUN_ONCE);
	return *flag;
}

static void on_cu_closed(struct curl_uv *c, void *arg)
{
	struct fx *fx = arg;

	(void)c;
	fx->cu_closed = true;
	fx->cu = NULL;
}

static void close_cu(struct fx *fx)
{
	fx->in_close = true;
	cr_assert_eq(curl_uv_close(fx->cu, on_cu_closed, fx), 0);
	fx->in_close = false;
	fx->cu_close_issued = true;
}

/* ---- fixture ---- */

static void fx_start_cu(struct fx *fx)
{
	struct err err;

	fx->cfg.on_error = on_curl_error;
	fx->cfg.error_ctx = fx;
	fx->cu = curl_uv_new(&fx->loop, &fx->cfg, &err);
	cr_assert_not_null(fx->cu, "curl_uv_new: %s", err.msg);
}

static void fx_init(void)
{
	struct fx *fx = &FX;
	struct http_config hc = { 0 };
	struct err err;

	signal(SIGPIPE, SIG_IGN);
	memset(fx, 0, sizeof(*fx));
	cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
	/* libuv keeps a process-wide pipe from its first loop on: open it before counting. */
	cr_assert_eq(uv_loop_init(&fx->loop), 0);
	cr_assert_eq(uv_loop_close(&fx->loop), 0);
	fx->fds_before = count_fds();
	cr_assert_eq(uv_loop_init(&fx->loop), 0);
	cr_assert_eq(uv_timer_init(&fx->loop, &fx->tick), 0);
	cr_assert_eq(uv_timer_start(&fx->tick, on_tick, 5, 5), 0);
	hc.listen = "127.0.0.1:0";
	hc.on_request = app_on_request;
	hc.ctx = fx;
	fx->srv = http_server_new(&fx->loop, &hc, &err);
	cr_assert_not_null(fx->srv, "http_server_new: %s", err.msg);
	fx->port = http_server_port(fx->srv);
	cr_assert_gt(fx->port, 0);
}

/* Closes curl_uv and the server, runs the loop dry and checks the end state. Called at the end
 * of every test body (Criterion does not count a failed assertion in .fini as a failure), and
 * by fx_fini after a test that stopped early. */
static void fx_end(struct fx *fx)
{
	unsigned i;

	fx->ended = true;
	if (fx->cu && !fx->cu_close_issued)
		close_cu(fx);
	if (fx->cu_close_issued)
		cr_assert(run_until_flag(fx, &fx->cu_closed), "curl_uv did not finish closing");
	if (fx->srv)
		http_server_free(fx->srv);
	fx->srv = NULL;
	while (fx->nheld)
		answer_held(fx, 0); /* aborted by now: answering frees them */
	uv_close((uv_handle_t *)&fx->tick, NULL);
	cr_assert_eq(uv_run(&fx->loop, UV_RUN_DEFAULT), 0);
	cr_assert_eq(uv_loop_close(&fx->loop), 0, "a handle is still open");
	for (i = 0; i < MAX_JOBS; i++) {
		curl_slist_free_all(fx->jobs[i].hdrs); /* jobs never submitted, if any */
		fx->jobs[i].hdrs = NULL;
	}
	cr_assert_eq(count_fds(), fx->fds_before, "descriptors: %d before, %d after",
		     fx->fds_before, count_fds());
	cr_assert_eq(fx->curl_errors, 0, "curl_uv reported errors");
	cr_assert_not(fx->sync_done, "a done callback ran inside submit or close");
}

static void fx_fini(void)
{
	if (!FX.ended)
		fx_end(&FX);
	curl_global_cleanup();
}

TestSuite(curl_uv, .init = fx_init, .fini = fx_fini, .timeout = 60);

/* ---- tests ---- */

Test(curl_uv, hundred_concurrent_posts_complete_with_their_bodies)
{
	struct fx *fx = &FX;
	char body[32], want[40];
	int i;

	fx->cfg.max_host_connections = 8;
	fx_start_cu(fx);
	for (i = 0; i < 100; i++) {
		snprintf(body, sizeof(body), "message-%d", i);
		post(fx, i, "/echo", body, NULL, 0);
	}
	cr_assert_eq(fx->ndone, 0);
	cr_assert_eq(curl_uv_inflight(fx->cu), 100);
	cr_assert(run_until_count(fx, &fx->ndone, 100), "%u of 100 done", fx->ndone);
	for (i = 0; i < 100; i++) {
		snprintf(want, sizeof(want), "echo:message-%d", i);
		cr_assert_eq(fx->jobs[i].result, CURLE_OK, "job %d: %s", i,
			     curl_easy_strerror(fx->jobs[i].result));
		cr_assert_eq(fx->jobs[i].code, 200);
		cr_assert_str_eq(fx->jobs[i].resp, want);
	}
	cr_assert_eq(curl_uv_inflight(fx->cu), 0);
	cr_assert_eq(fx->requests, 100);
	/* CURLMOPT_MAX_HOST_CONNECTIONS holds: connections are shared. */
	cr_assert_leq(fx->npeers, 8, "%u connections for 100 requests", fx->npeers);
	cr_assert_not(fx->sync_done);
	fx_end(fx);
}

Test(curl_uv, server_error_is_a_completed_transfer)
{
	struct fx *fx = &FX;

	fx_start_cu(fx);
	post(fx, 0, "/fail", "x", NULL, 0);
	cr_assert(run_until_count(fx, &fx->ndone, 1));
	cr_assert_eq(fx->jobs[0].result, CURLE_OK);
	cr_assert_eq(fx->jobs[0].code, 500);
	cr_assert_str_eq(fx->jobs[0].resp, "boom");
	fx_end(fx);
}

Test(curl_uv, pool_cap_holds_and_queues_in_order)
{
	struct fx *fx = &FX;
	unsigned i;

	fx_start_cu(fx);
	for (i = 0; i < 10; i++)
		post(fx, (int)i, "/slow", "a", "a", 2);
	for (i = 10; i < 16; i++)
		post(fx, (int)i, "/slow", "b", "b", 3);
	cr_assert_eq(curl_uv_inflight(fx->cu), 5);
	cr_assert_eq(curl_uv_queued(fx->cu), 11);
	cr_assert(run_until_count(fx, &fx->ndone, 16), "%u of 16 done", fx->ndone);
	for (i = 0; i < 16; i++) {
		cr_assert_eq(fx->jobs[i].result, CURLE_OK);
		cr_assert_eq(fx->jobs[i].code, 200);
	}
	/* Seen from the server: never more than the cap at once, and the cap was reached. */
	cr_assert_eq(fx->max[0], 2);
	cr_assert_eq(fx->max[1], 3);
	/* FIFO: with cap 2, requests reach the server in submit order but for the pair that
	 * starts together. */
	cr_assert_eq(fx->norder[0], 10);
	for (i = 0; i < 10; i++)
		cr_assert_leq(abs(fx->order[0][i] - (int)i), 1, "pool a order: #%u is %d", i,
			      fx->order[0][i]);
	cr_assert_eq(curl_uv_queued(fx->cu), 0);
	cr_assert_eq(curl_uv_inflight(fx->cu), 0);
	fx_end(fx);
}

static void chain_next(struct job *j)
{
	struct fx *fx = j->fx;

	if (j->id + 1 < 10) {
		post(fx, j->id + 1, "/echo", "again", "chain", 1);
		fx->jobs[j->id + 1].then = chain_next;
	}
}

Test(curl_uv, connection_is_reused_and_done_may_submit)
{
	struct fx *fx = &FX;
	int i;

	fx_start_cu(fx);
	post(fx, 0, "/echo", "again", "chain", 1);
	fx->jobs[0].then = chain_next; /* each done submits the next */
	cr_assert(run_until_count(fx, &fx->ndone, 10), "%u of 10 done", fx->ndone);
	for (i = 0; i < 10; i++) {
		cr_assert_eq(fx->jobs[i].result, CURLE_OK);
		cr_assert_str_eq(fx->jobs[i].resp, "echo:again");
	}
	cr_assert_eq(fx->requests, 10);
	cr_assert_eq(fx->npeers, 1, "%u connections for 10 sequential requests", fx->npeers);
	fx_end(fx);
}

Test(curl_uv, timeout_against_a_silent_server)
{
	struct fx *fx = &FX;
	CURL *easy;

	fx_start_cu(fx);
	easy = job_easy(fx, 0, NULL, "/never", "x", NULL);
	cr_assert_eq(curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 200L), CURLE_OK);
	submit_ok(fx, easy, 0, NULL, 0);
	cr_assert(run_until_count(fx, &fx->ndone, 1));
	cr_assert_eq(fx->jobs[0].result, CURLE_OPERATION_TIMEDOUT, "%s",
		     curl_easy_strerror(fx->jobs[0].result));
	cr_assert_eq(fx->requests, 1);
	fx_end(fx);
}

Test(curl_uv, refused_connection)
{
	struct fx *fx = &FX;
	struct sockaddr_in sa = { 0 };
	socklen_t len = sizeof(sa);
	char url[64];
	int fd;

	/* A bound socket that does not listen: its port is ours and refuses connections. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(fd, 0);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/echo", ntohs(sa.sin_port));
	fx_start_cu(fx);
	submit_ok(fx, job_easy(fx, 0, url, NULL, "x", NULL), 0, NULL, 0);
	cr_assert(run_until_count(fx, &fx->ndone, 1));
	close(fd);
	cr_assert_eq(fx->jobs[0].result, CURLE_COULDNT_CONNECT, "%s",
		     curl_easy_strerror(fx->jobs[0].result));
	fx_end(fx);
}

/* A name libcurl must look up (this machine's own, when it maps to 127.0.0.1; libcurl answers
 * "localhost" itself). The threaded resolver wakes libcurl through a socketpair that libcurl
 * opens and closes itself: its poll handle must be dropped on CURL_POLL_REMOVE without closing
 * the fd, and the connection socket that often gets the same fd number right after must work. */
Test(curl_uv, host_name_goes_through_the_resolver)
{
	struct fx *fx = &FX;
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *ai = NULL;
	char host[256] = "localhost", url[300];
	const struct sockaddr_in *sin;

	if (gethostname(host, sizeof(host)) == 0 && getaddrinfo(host, NULL, &hints, &ai) == 0) {
		sin = (const struct sockaddr_in *)(const void *)ai->ai_addr;
		if (sin->sin_addr.s_addr != htonl(INADDR_LOOPBACK))
			snprintf(host, sizeof(host), "localhost");
		freeaddrinfo(ai);
	} else {
		snprintf(host, sizeof(host), "localhost");
	}
	fx_start_cu(fx);
	snprintf(url, sizeof(url), "http://%s:%d/echo", host, fx->port);
	submit_ok(fx, job_easy(fx, 0, url, NULL, "named", NULL), 0, NULL, 0);
	cr_assert(run_until_count(fx, &fx->ndone, 1));
	cr_assert_eq(fx->jobs[0].result, CURLE_OK, "%s: %s", host,
		     curl_easy_strerror(fx->jobs[0].result));
	cr_assert_str_eq(fx->jobs[0].resp, "echo:named");
	fx_end(fx);
}

Test(curl_uv, completion_never_runs_inside_submit)
{
	struct fx *fx = &FX;
	struct err err;
	CURL *easy;

	fx_start_cu(fx);
	/* Fails at libcurl's first step, which must still come from a later loop callback. */
	submit_ok(fx, job_easy(fx, 0, "nope://127.0.0.1/", NULL, "x", NULL), 0, NULL, 0);
	cr_assert_eq(fx->ndone, 0);
	cr_assert(run_until_count(fx, &fx->ndone, 1));
	cr_assert_eq(fx->jobs[0].result, CURLE_UNSUPPORTED_PROTOCOL);
	cr_assert_not(fx->sync_done);
	/* A handle already in flight is refused and stays the caller's. */
	easy = job_easy(fx, 1, NULL, "/never", "x", NULL);
	submit_ok(fx, easy, 1, NULL, 0);
	cr_assert_eq(curl_uv_submit(fx->cu, easy, NULL, 0, on_done, &fx->jobs[1], &err), -1);
	cr_assert(strstr(err.msg, "curl_multi_add_handle") != NULL, "%s", err.msg);
	fx_end(fx);
}

Test(curl_uv, close_with_transfers_in_flight_and_queued)
{
	struct fx *fx = &FX;
	struct err err;
	CURL *easy;
	int i;

	fx_start_cu(fx);
	for (i = 0; i < 4; i++)
		post(fx, i, "/never", "x", "a", 2);
	for (i = 4; i < 6; i++)
		post(fx, i, "/never", "x", NULL, 0);
	cr_assert_eq(curl_uv_inflight(fx->cu), 4);
	cr_assert_eq(curl_uv_queued(fx->cu), 2);
	cr_assert(run_until_count(fx, &fx->requests, 4), "server saw %u", fx->requests);
	close_cu(fx);
	cr_assert_eq(fx->ndone, 0, "done ran inside curl_uv_close");
	cr_assert_eq(curl_uv_close(fx->cu, on_cu_closed, fx), UV_EALREADY);
	easy = job_easy(fx, 6, NULL, "/echo", "late", NULL);
	cr_assert_eq(curl_uv_submit(fx->cu, easy, NULL, 0, on_done, &fx->jobs[6], &err), -1);
	curl_easy_cleanup(easy);
	cr_assert(run_until_flag(fx, &fx->cu_closed));
	cr_assert_eq(fx->ndone, 6);
	for (i = 0; i < 6; i++)
		cr_assert_eq(fx->jobs[i].result, CURLE_ABORTED_BY_CALLBACK, "job %d: %s", i,
			     curl_easy_strerror(fx->jobs[i].result));
	cr_assert_not(fx->sync_done);
	/* fx_fini checks uv_loop_close() == 0 and that no descriptor is left open. */
	fx_end(fx);
}

static void close_from_done(struct job *j)
{
	close_cu(j->fx);
}

Test(curl_uv, done_may_close)
{
	struct fx *fx = &FX;

	fx_start_cu(fx);
	post(fx, 0, "/never", "x", NULL, 0);
	cr_assert(run_until_count(fx, &fx->requests, 1));
	post(fx, 1, "/echo", "bye", NULL, 0);
	fx->jobs[1].then = close_from_done;
	cr_assert(run_until_flag(fx, &fx->cu_closed));
	cr_assert_eq(fx->jobs[1].result, CURLE_OK);
	cr_assert_str_eq(fx->jobs[1].resp, "echo:bye");
	cr_assert_eq(fx->jobs[0].result, CURLE_ABORTED_BY_CALLBACK);
	cr_assert_eq(fx->ndone, 2);
	fx_end(fx);
}

Test(curl_uv, server_going_away_fails_the_transfer)
{
	struct fx *fx = &FX;

	fx_start_cu(fx);
	post(fx, 0, "/never", "x", NULL, 0);
	cr_assert(run_until_count(fx, &fx->requests, 1));
	http_server_free(fx->srv);
	fx->srv = NULL;
	while (fx->nheld)
		answer_held(fx, 0);
	cr_assert(run_until_count(fx, &fx->ndone, 1));
	cr_assert(fx->jobs[0].result == CURLE_GOT_NOTHING || fx->jobs[0].result == CURLE_RECV_ERROR,
		  "%s", curl_easy_strerror(fx->jobs[0].result));
	fx_end(fx);
}

Test(curl_uv, bad_config_is_refused)
{
	struct fx *fx = &FX;
	struct curl_uv_config cfg = { .max_total_connections = -1 };
	struct err err;

	cr_assert_null(curl_uv_new(&fx->loop, &cfg, &err));
	cr_assert_str_eq(err.field, "max_total_connections");
	fx_end(fx);
}
