/* soak: the real dunghand under sustained mixed load for SOAK_SECONDS (default 60; `make test`
 * runs 60 s of it after the gcc build's tests, `make soak MINUTES=n` longer), issue #10 "Load and
 * soak", docs/testing.md "Soak". 256 connections: 224
 * well-behaved keep-alive clients (cases created one by one and in batches, events, lists, single
 * items, event logs, /healthz, now and then /kpi, and a few deliberately bad requests with their
 * exact 4xx) and 32 abusive ones (slowloris heads, bodies beyond the limits, trickled bodies,
 * silent and half-sent connections, pipelining without reading, oversized heads, bad framing).
 *
 * DESIGN. One thread per connection with blocking sockets (http_client): each client's state is
 * its own and its code reads as the protocol it follows; the threads spend their time blocked or
 * pacing (a think time between requests, the stall of an abusive client: deliberate, not a wait
 * for an event), so the test's own CPU stays small beside the daemon's. A sampler thread reads
 * the daemon's VmRSS, open descriptors and CPU time each second; a prober thread times GET /healthz
 * on a dedicated connection ten times a second (the loop lag). The checks come after the run:
 * every well-behaved request answered as expected, every abusive cycle ended with its expected
 * status or a close, RSS and descriptors flat (mean of the last quarter against the second),
 * /healthz p99 under 50 ms, every acknowledged case in the database, and a clean stop. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "api_fixture.h"

#define WELL_BEHAVED 224
#define ABUSIVE_PER_KIND 4 /* times AB_COUNT kinds: 32; with the well-behaved, 256 connections */
#define THINK_MIN_MS 100   /* a well-behaved client's pause between two requests */
#define THINK_MAX_MS 900
#define ANSWER_BOUND_MS API_BOUND_MS /* a well-behaved request unanswered by then has failed */
#define PROBE_EVERY_MS 100
#define HEALTHZ_P99_MS 50.0
#define RSS_GROWTH 0.20              /* allowed growth of the mean RSS, last quarter on second */
#define RSS_GROWTH_KIB (16 * 1024)   /* ... or this much, whichever is larger */
#define FD_GROWTH 32.0
#define OWN_CASES 32                 /* the cases a client remembers to add events to */
#define BATCH_LINES 10
#define FAILURES_SHOWN 4000          /* bytes of failure text kept for the report */

/* Short limits so that every abusive client meets its limit several times a minute. The server
 * also closes a client that stalls reading its answers after idle_timeout. */
#define HEADER_TIMEOUT_S 5
#define BODY_TIMEOUT_S 5
#define IDLE_TIMEOUT_S 8
#define TEXT_OF(x) #x
#define SETTING(name, value) name " = " TEXT_OF(value) "; "
#define SERVER_SETTINGS                                                                          \
	SETTING("header_timeout", HEADER_TIMEOUT_S)                                              \
	SETTING("body_timeout", BODY_TIMEOUT_S) SETTING("idle_timeout", IDLE_TIMEOUT_S)
/* What the pipelining client asks for, 200 times: a page of 100 cases, about 1.3 ms of the
 * loop's time each once the database has them (docs/testing.md, "Soak": what it found). */
#define PIPELINED_PATH "/api/v1/cases?limit=100"
#define LINGER_MS 2000 /* HTTP_DEFAULT_LINGER_TIMEOUT_MS: the server drains, then closes */

#define TOKEN_WRITE "Authorization: Bearer " API_MOTCUA
#define TOKEN_READ "Authorization: Bearer " API_BAOCAO
#define HOST "Host: 127.0.0.1\r\n"

enum op { OP_CREATE, OP_BATCH, OP_EVENT, OP_GET, OP_LIST, OP_EVENTS, OP_HEALTHZ, OP_KPI,
	  OP_BAD, OP_COUNT };
static const char *const op_names[OP_COUNT] = { "create", "batch", "event", "get", "list",
						"events", "healthz", "kpi", "bad (4xx)" };
/* Out of 1000 picks: what a well-behaved client does next. */
static const int op_weights[OP_COUNT] = { 200, 40, 200, 150, 150, 80, 100, 5, 75 };

enum abuse { AB_SLOWLORIS, AB_HUGE_BODY, AB_TRICKLE, AB_SILENT, AB_HALF_NO_READ, AB_PIPELINE,
	     AB_HUGE_HEAD, AB_FRAMING, AB_COUNT };
static const char *const abuse_names[AB_COUNT] = {
	"slowloris head (a byte / 2 s)", "Content-Length beyond the limit",
	"body trickled (64 B / 250 ms)", "connect, send nothing", "half a request, no reading",
	"pipelining, never reading", "head beyond header_bytes", "chunked, CL+TE, garbage"
};

enum outcome { OUT_STATUS, OUT_CLOSED, OUT_BAD, OUT_CUT };

struct probe {
	int64_t at_ms; /* since the start */
	int64_t us;    /* the round trip of GET /healthz, -1 when it failed */
};

struct sample {
	int64_t at_ms;
	long rss_kib;
	int fds;
	double cpu_s;       /* the daemon's user + system time so far */
	double runq_s;      /* how long its loop thread waited for a CPU so far (schedstat) */
	long long requests; /* well-behaved answers so far */
};

struct soak {
	int port;
	pid_t pid;
	int seconds;
	int64_t start_ms;
	int64_t deadline_ms;
	atomic_llong ops[OP_COUNT];
	atomic_llong op_us[OP_COUNT];     /* the answers' round trips, summed */
	atomic_llong op_max_us[OP_COUNT]; /* and the longest */
	atomic_llong requests;
	atomic_llong wb_failures;
	atomic_llong acked_cases;
	atomic_llong server_closes;
	atomic_llong ab[AB_COUNT][4]; /* per enum outcome */
	atomic_llong piped_answers;   /* answers the pipelining clients found when they read */
	pthread_mutex_t lock;
	char failures[FAILURES_SHOWN];
	size_t failures_len;
	struct probe *probes; /* written by the prober only, read after it is joined */
	size_t nprobes, probes_cap;
	struct sample *samples; /* the same for the sampler */
	size_t nsamples, samples_cap;
	atomic_bool done;
};

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t now_ms(void)
{
	return now_us() / 1000;
}

static int64_t left_ms(const struct soak *s)
{
	return s->deadline_ms - now_ms();
}

/* Pacing: a client's think time or deliberate stall, cut short at the end of the run. */
static void pause_ms(const struct soak *s, int64_t ms)
{
	int64_t left = left_ms(s);

	api_sleep_ms((int)(ms < left ? ms : left > 0 ? left : 0));
}

static uint64_t rnd(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *state = x;
}

static int rnd_between(uint64_t *state, int lo, int hi)
{
	return lo + (int)(rnd(state) % (uint64_t)(hi - lo + 1));
}

/* Counts a failure in *count (NULL: counted elsewhere) and keeps its text for the report. */
static void record_failure(struct soak *s, atomic_llong *count, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void record_failure(struct soak *s, atomic_llong *count, const char *fmt, ...)
{
	va_list ap;

	if (count)
		atomic_fetch_add(count, 1);
	pthread_mutex_lock(&s->lock);
	if (s->failures_len + 2 < sizeof(s->failures)) {
		va_start(ap, fmt);
		size_t room = sizeof(s->failures) - s->failures_len - 1;
		int n = vsnprintf(s->failures + s->failures_len, room, fmt, ap);
		va_end(ap);
		if (n > 0) {
			s->failures_len += (size_t)n;
			if (s->failures_len > sizeof(s->failures) - 2)
				s->failures_len = sizeof(s->failures) - 2;
			s->failures[s->failures_len++] = '\n';
			s->failures[s->failures_len] = '\0';
		}
	}
	pthread_mutex_unlock(&s->lock);
}

/* --- well-behaved clients ------------------------------------------------------------------ */

/* Valid (unit, handler, procedure) triples of the example office. */
static const char *const office[][3] = {
	{ "xa-tu-phap-tan-phu", "binh.lt", "1.004873" },
	{ "ttphvhcc", "tuan.hm", "1.004222" },
	{ "ttphvhcc", "dung.lq", "3.000333" },
	{ "hctc", "phong.tv", "2.000815" },
	{ "xa-tan-phu", "hoa.tt", "1.001193" },
};
#define OFFICE_N (sizeof(office) / sizeof(office[0]))

#define wb_fail(w, ...) record_failure((w)->s, &(w)->s->wb_failures, __VA_ARGS__)

enum own_state { OWN_RECEIVED, OWN_IN_PROGRESS, OWN_COMPLETED };

struct own_case {
	char code[48];
	unsigned where; /* index into office */
	enum own_state state;
};

struct wb {
	struct soak *s;
	int id;
	uint64_t rng;
	struct http_client *conn;
	struct http_client_response resp;
	json_t *json;
	unsigned seq;
	unsigned nown;
	struct own_case own[OWN_CASES];
	char what[200]; /* "METHOD path" of the request in progress */
	int64_t took_us; /* the round trip of the last request */
};

/* One request on the client's kept-alive connection (a new one when it has none). Returns the
 * answer's status, or -1 when none came (a failure recorded). A server closing the connection
 * after a good answer is counted, not failed; the next request opens a new one. */
static int wb_call(struct wb *w, const char *method, const char *path, const char *auth,
		   const char *ctype, const char *body)
{
	const char *headers[3];
	char ct[80];
	struct err e = { 0 };
	size_t n = 0;
	const char *conn;
	int rc;

	snprintf(w->what, sizeof(w->what), "client %d: %s %s", w->id, method, path);
	if (auth)
		headers[n++] = auth;
	if (ctype) {
		snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
		headers[n++] = ct;
	}
	headers[n] = NULL;
	if (!w->conn &&
	    !(w->conn = http_client_connect("127.0.0.1", w->s->port, ANSWER_BOUND_MS, &e))) {
		wb_fail(w, "%s: cannot connect: %s", w->what, e.msg);
		return -1;
	}
	w->took_us = now_us();
	rc = http_client_request(w->conn, method, path, headers, body, body ? strlen(body) : 0,
				 &w->resp, &e);
	w->took_us = now_us() - w->took_us;
	if (rc != 0) {
		wb_fail(w, "%s: no answer: %s", w->what, e.msg);
		http_client_free(w->conn);
		w->conn = NULL;
		return -1;
	}
	atomic_fetch_add(&w->s->requests, 1);
	conn = http_client_header(&w->resp, "Connection");
	if (w->resp.until_close || (conn && !strcasecmp(conn, "close"))) {
		atomic_fetch_add(&w->s->server_closes, 1);
		http_client_free(w->conn);
		w->conn = NULL;
	}
	if (w->json)
		json_decref(w->json);
	w->json = json_loadb(w->resp.body, w->resp.body_len, 0, NULL);
	return w->resp.status;
}

/* Checks the answer of the last wb_call: status want and, for an error, error.code code. */
static bool wb_expect(struct wb *w, int status, int want, const char *code)
{
	const char *got = code ? api_str(w->json, "error.code") : NULL;

	if (status < 0)
		return false;
	if (status != want || (code && (!got || strcmp(got, code) != 0))) {
		wb_fail(w, "%s → %d, expected %d%s%s: %.300s", w->what, status, want,
			code ? " " : "", code ? code : "", w->resp.body);
		return false;
	}
	return true;
}

/* Counts a request of kind op answered as expected, with its round trip. */
static void wb_done(struct wb *w, enum op op)
{
	long long us = w->took_us, max = atomic_load(&w->s->op_max_us[op]);

	atomic_fetch_add(&w->s->ops[op], 1);
	atomic_fetch_add(&w->s->op_us[op], us);
	while (us > max && !atomic_compare_exchange_weak(&w->s->op_max_us[op], &max, us))
		;
}

static void wb_create(struct wb *w)
{
	char body[400];
	struct own_case *c = &w->own[w->nown % OWN_CASES];
	unsigned where = (unsigned)(rnd(&w->rng) % OFFICE_N);
	int st;

	snprintf(c->code, sizeof(c->code), "SOAK-%03d-%06u", w->id, w->seq++);
	snprintf(body, sizeof(body),
		 "{\"code\": \"%s\", \"procedure\": \"%s\", \"unit\": \"%s\", "
		 "\"applicant\": \"Nguyễn Văn An\", \"online\": \"full\", "
		 "\"paid_online\": true}",
		 c->code, office[where][2], office[where][0]);
	st = wb_call(w, "POST", "/api/v1/cases", TOKEN_WRITE, "application/json", body);
	if (wb_expect(w, st, 201, NULL)) {
		wb_done(w, OP_CREATE);
		c->where = where;
		c->state = OWN_RECEIVED;
		w->nown++;
		atomic_fetch_add(&w->s->acked_cases, 1);
	}
}

static void wb_batch(struct wb *w)
{
	char body[BATCH_LINES * 260], *p = body;
	unsigned batch = w->seq++;
	int st;

	for (int i = 0; i < BATCH_LINES; i++) {
		unsigned where = (unsigned)(rnd(&w->rng) % OFFICE_N);
		p += snprintf(p, sizeof(body) - (size_t)(p - body),
			      "{\"code\": \"SOAK-%03d-%06u-%02d\", \"procedure\": \"%s\", "
			      "\"unit\": \"%s\", \"applicant\": \"Trần Thị Bình\"}\n",
			      w->id, batch, i, office[where][2], office[where][0]);
	}
	st = wb_call(w, "POST", "/api/v1/cases:batch", TOKEN_WRITE, "application/x-ndjson", body);
	if (!wb_expect(w, st, 200, NULL))
		return;
	if (api_int(w->json, "created") != BATCH_LINES || api_int(w->json, "failed") != 0) {
		wb_fail(w, "%s: not every line created: %.300s", w->what, w->resp.body);
		return;
	}
	wb_done(w, OP_BATCH);
	atomic_fetch_add(&w->s->acked_cases, BATCH_LINES);
}

static struct own_case *wb_pick_own(struct wb *w)
{
	unsigned n = w->nown < OWN_CASES ? w->nown : OWN_CASES;

	return n ? &w->own[rnd(&w->rng) % n] : NULL;
}

/* assign a new case, then notes, and now and then complete one. */
static void wb_event(struct wb *w)
{
	struct own_case *c = wb_pick_own(w);
	char path[120], body[200];
	enum own_state next = c->state;
	int st;

	snprintf(path, sizeof(path), "/api/v1/cases/%s/events", c->code);
	if (c->state == OWN_RECEIVED) {
		snprintf(body, sizeof(body), "{\"type\": \"assign\", \"handler\": \"%s\"}",
			 office[c->where][1]);
		next = OWN_IN_PROGRESS;
	} else if (c->state == OWN_IN_PROGRESS && rnd(&w->rng) % 5 == 0) {
		snprintf(body, sizeof(body), "{\"type\": \"complete\"}");
		next = OWN_COMPLETED;
	} else {
		snprintf(body, sizeof(body),
			 "{\"type\": \"note\", \"text\": \"Đã liên hệ người nộp (%u)\"}",
			 w->seq++);
	}
	st = wb_call(w, "POST", path, TOKEN_WRITE, "application/json", body);
	if (wb_expect(w, st, 201, NULL)) {
		wb_done(w, OP_EVENT);
		c->state = next;
	}
}

static void wb_get(struct wb *w, bool events)
{
	struct own_case *c = wb_pick_own(w);
	char path[120];
	int st;

	snprintf(path, sizeof(path), "/api/v1/cases/%s%s", c->code, events ? "/events" : "");
	st = wb_call(w, "GET", path, TOKEN_READ, NULL, NULL);
	if (!wb_expect(w, st, 200, NULL))
		return;
	if (events ? !json_is_array(api_get(w->json, "events"))
		   : !api_str(w->json, "code") || strcmp(api_str(w->json, "code"), c->code) != 0) {
		wb_fail(w, "%s: not the case asked for: %.300s", w->what, w->resp.body);
		return;
	}
	wb_done(w, events ? OP_EVENTS : OP_GET);
}

static void wb_list(struct wb *w)
{
	static const char *const units[] = { "vp", "ttphvhcc", "xa-tan-phu", "ubnd-tinh" };
	char path[120];
	int st;

	snprintf(path, sizeof(path), "/api/v1/cases?unit=%s&limit=20%s",
		 units[rnd(&w->rng) % 4], rnd(&w->rng) % 2 ? "&status=received" : "");
	st = wb_call(w, "GET", path, TOKEN_READ, NULL, NULL);
	if (!wb_expect(w, st, 200, NULL))
		return;
	if (!json_is_array(api_get(w->json, "cases"))) {
		wb_fail(w, "%s: no cases array: %.300s", w->what, w->resp.body);
		return;
	}
	wb_done(w, OP_LIST);
}

/* A well-behaved client makes mistakes too: each must get its exact 4xx (and keep its
 * connection: a close would be counted in server_closes). */
static void wb_bad(struct wb *w)
{
	char body[300];
	int st;

	switch (rnd(&w->rng) % 4) {
	case 0:
		st = wb_call(w, "GET", "/api/v1/cases/SOAK-NO-SUCH-CASE", TOKEN_READ, NULL, NULL);
		if (wb_expect(w, st, 404, "not_found"))
			wb_done(w, OP_BAD);
		break;
	case 1:
		snprintf(body, sizeof(body),
			 "{\"code\": \"SOAK-%03d-x%06u\", \"procedure\": \"1.004873\", "
			 "\"unit\": \"ttphvhcc\", \"colour\": \"blue\"}", w->id, w->seq++);
		st = wb_call(w, "POST", "/api/v1/cases", TOKEN_WRITE, "application/json", body);
		if (wb_expect(w, st, 400, "unknown_field"))
			wb_done(w, OP_BAD);
		break;
	case 2:
		st = wb_call(w, "GET", "/api/v1/cases?limit=5",
			     "Authorization: Bearer motcua-dev-token-wrong", NULL, NULL);
		if (wb_expect(w, st, 401, "unauthorized"))
			wb_done(w, OP_BAD);
		break;
	default:
		snprintf(body, sizeof(body),
			 "{\"code\": \"SOAK-%03d-r%06u\", \"procedure\": \"1.004873\", "
			 "\"unit\": \"ttphvhcc\"}", w->id, w->seq++);
		st = wb_call(w, "POST", "/api/v1/cases", TOKEN_READ, "application/json", body);
		if (wb_expect(w, st, 403, "forbidden"))
			wb_done(w, OP_BAD);
		break;
	}
}

static enum op wb_pick(struct wb *w)
{
	int r = (int)(rnd(&w->rng) % 1000), acc = 0;

	if (w->nown == 0)
		return OP_CREATE;
	for (int op = 0; op < OP_COUNT; op++) {
		acc += op_weights[op];
		if (r < acc)
			return (enum op)op;
	}
	return OP_HEALTHZ;
}

static void *well_behaved(void *arg)
{
	struct wb *w = arg;
	int st;

	/* Spread the first requests over the first think time. */
	pause_ms(w->s, rnd_between(&w->rng, 0, THINK_MAX_MS));
	while (left_ms(w->s) > 0) {
		switch (wb_pick(w)) {
		case OP_CREATE: wb_create(w); break;
		case OP_BATCH: wb_batch(w); break;
		case OP_EVENT: wb_event(w); break;
		case OP_GET: wb_get(w, false); break;
		case OP_EVENTS: wb_get(w, true); break;
		case OP_LIST: wb_list(w); break;
		case OP_KPI:
			st = wb_call(w, "GET", "/api/v1/kpi?unit=vp", TOKEN_READ, NULL, NULL);
			if (wb_expect(w, st, 200, NULL))
				wb_done(w, OP_KPI);
			break;
		case OP_BAD: wb_bad(w); break;
		default:
			st = wb_call(w, "GET", "/healthz", NULL, NULL, NULL);
			if (wb_expect(w, st, 200, NULL))
				wb_done(w, OP_HEALTHZ);
			break;
		}
		pause_ms(w->s, rnd_between(&w->rng, THINK_MIN_MS, THINK_MAX_MS));
	}
	http_client_free(w->conn);
	http_client_response_free(&w->resp);
	if (w->json)
		json_decref(w->json);
	return NULL;
}

/* --- abusive clients ----------------------------------------------------------------------- */

struct abuser {
	struct soak *s;
	int id;
	enum abuse kind;
	unsigned cycle;
	char why[400]; /* what went wrong in an OUT_BAD cycle */
};

static enum outcome ab_bad(struct abuser *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static enum outcome ab_bad(struct abuser *a, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(a->why, sizeof(a->why), "abusive client %d (%s), cycle %u: ", a->id,
			 abuse_names[a->kind], a->cycle);

	va_start(ap, fmt);
	vsnprintf(a->why + n, sizeof(a->why) - (size_t)n, fmt, ap);
	va_end(ap);
	return OUT_BAD;
}

/* The client's timeout for a wait that may last bound_ms, cut at the end of the run (0 then). */
static int ab_bound(const struct abuser *a, int64_t bound_ms)
{
	int64_t left = left_ms(a->s);

	return (int)(left <= 0 ? 0 : bound_ms < left ? bound_ms : left);
}

/* Reads the answer the server owes c: status want with error.code code, then the close that
 * follows an error. Both within bound_ms. A close without an answer is OUT_CLOSED. */
static enum outcome ab_answer(struct abuser *a, struct http_client *c, int want,
			      const char *code, int64_t bound_ms)
{
	struct http_client_response resp = { 0 };
	struct err e = { 0 };
	int64_t started = now_ms();
	int t = ab_bound(a, bound_ms);
	enum outcome out = OUT_STATUS;
	json_t *j = NULL;
	const char *got;

	if (t <= 0)
		return OUT_CUT;
	http_client_set_timeout(c, t);
	if (http_client_read_response(c, &resp, &e) != 0) {
		if (strstr(e.msg, "closed before a response"))
			return OUT_CLOSED;
		if (left_ms(a->s) <= 0)
			return OUT_CUT;
		return ab_bad(a, "no answer within %" PRId64 " ms: %s", now_ms() - started, e.msg);
	}
	j = json_loadb(resp.body, resp.body_len, 0, NULL);
	got = api_str(j, "error.code");
	if (resp.status != want || !got || strcmp(got, code) != 0) {
		out = ab_bad(a, "%d %.200s, expected %d %s", resp.status, resp.body, want, code);
		goto out;
	}
	if ((t = ab_bound(a, LINGER_MS + 3000)) <= 0) {
		out = OUT_CUT;
		goto out;
	}
	http_client_set_timeout(c, t);
	if (http_client_wait_closed(c, &e) != 0 && left_ms(a->s) > 0)
		out = ab_bad(a, "%d then no close within %d ms", want, t);
out:
	if (j)
		json_decref(j);
	http_client_response_free(&resp);
	return out;
}

/* Sends prefix, then chunk bytes of piece every interval_ms (piece over and over) until the
 * server answers or closes, then reads the answer (want/code) within bound_ms of the start. */
static enum outcome ab_dribble(struct abuser *a, struct http_client *c, const char *prefix,
			       const char *piece, size_t chunk, int interval_ms, int want,
			       const char *code, int64_t bound_ms)
{
	struct err e = { 0 };
	int64_t started = now_ms();
	size_t off = 0, plen = strlen(piece);

	http_client_set_timeout(c, 2000);
	if (http_client_send_str(c, prefix, &e) != 0)
		return ab_bad(a, "sending the start: %s", e.msg);
	for (;;) {
		struct pollfd p = { .fd = http_client_fd(c), .events = POLLIN };
		int t = ab_bound(a, interval_ms);

		if (t <= 0)
			return OUT_CUT;
		if (now_ms() - started > bound_ms)
			return ab_bad(a, "still no answer after %" PRId64 " ms",
				      now_ms() - started);
		if (poll(&p, 1, t) > 0)
			break; /* the answer, or the close */
		if (off + chunk > plen)
			off = 0;
		if (http_client_send(c, piece + off, chunk, &e) != 0)
			break; /* the server is gone from this connection: read what it said */
		off += chunk;
	}
	return ab_answer(a, c, want, code, bound_ms - (now_ms() - started));
}

static enum outcome ab_slowloris(struct abuser *a, struct http_client *c)
{
	return ab_dribble(a, c, "GET /api/v1/cases HTTP/1.1\r\n" HOST TOKEN_READ "\r\n",
			  "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", 1, 2000,
			  408, "request_timeout", HEADER_TIMEOUT_S * 1000 + 4000);
}

static enum outcome ab_trickle(struct abuser *a, struct http_client *c)
{
	static const char piece[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

	return ab_dribble(a, c,
			  "POST /api/v1/cases HTTP/1.1\r\n" HOST TOKEN_WRITE "\r\n"
			  "Content-Type: application/json\r\nContent-Length: 200000\r\n\r\n",
			  piece, 64, 250, 408, "request_timeout", BODY_TIMEOUT_S * 1000 + 4000);
}

/* A Content-Length beyond server.body_bytes (1 MiB) or, for the batch, batch_body_bytes
 * (32 MiB), and the first 256 KiB of that body: 413 as soon as the head is read. */
static enum outcome ab_huge_body(struct abuser *a, struct http_client *c)
{
	static const char single[] = "POST /api/v1/cases HTTP/1.1\r\n" HOST TOKEN_WRITE "\r\n"
				     "Content-Type: application/json\r\n"
				     "Content-Length: 67108864\r\n\r\n";
	static const char batch[] = "POST /api/v1/cases:batch HTTP/1.1\r\n" HOST TOKEN_WRITE "\r\n"
				    "Content-Type: application/x-ndjson\r\n"
				    "Content-Length: 50331648\r\n\r\n";
	size_t n = 256 * 1024;
	char *body = malloc(n);
	struct err e = { 0 };

	if (!body)
		return ab_bad(a, "out of memory");
	memset(body, '{', n);
	http_client_set_timeout(c, 2000);
	if (http_client_send_str(c, a->cycle % 2 ? batch : single, &e) != 0) {
		free(body);
		return ab_bad(a, "sending the head: %s", e.msg);
	}
	(void)http_client_send(c, body, n, &e); /* the server may stop reading: it has answered */
	free(body);
	return ab_answer(a, c, 413, "body_too_large", 5000);
}

static enum outcome ab_silent(struct abuser *a, struct http_client *c)
{
	struct err e = { 0 };
	int64_t started = now_ms();
	int t = ab_bound(a, IDLE_TIMEOUT_S * 1000 + 4000);

	if (t <= 0)
		return OUT_CUT;
	http_client_set_timeout(c, t);
	if (http_client_wait_closed(c, &e) == 0)
		return OUT_CLOSED;
	if (left_ms(a->s) <= 0)
		return OUT_CUT;
	return ab_bad(a, "a silent connection not closed after %" PRId64 " ms: %s",
		      now_ms() - started, e.msg);
}

/* Half a request (the head and part of the body, or part of the head), then nothing: no more
 * bytes and no reading until the server must have given up; then its 408 is read. */
static enum outcome ab_half_no_read(struct abuser *a, struct http_client *c)
{
	static const char half_body[] = "POST /api/v1/cases HTTP/1.1\r\n" HOST TOKEN_WRITE "\r\n"
					"Content-Type: application/json\r\n"
					"Content-Length: 300\r\n\r\n"
					"{\"code\": \"SOAK-HALF\", \"procedure\": ";
	static const char half_head[] = "POST /api/v1/cases HTTP/1.1\r\n" HOST "Content-Le";
	bool body = a->cycle % 2 == 0;
	struct err e = { 0 };

	http_client_set_timeout(c, 2000);
	if (http_client_send_str(c, body ? half_body : half_head, &e) != 0)
		return ab_bad(a, "sending: %s", e.msg);
	pause_ms(a->s, (body ? BODY_TIMEOUT_S : HEADER_TIMEOUT_S) * 1000 + 1000);
	if (left_ms(a->s) <= 0)
		return OUT_CUT;
	return ab_answer(a, c, 408, "request_timeout", 3000);
}

/* 200 pipelined list requests of up to 100 cases each (60 kB once the database has them), and
 * no reading: once the kernel's buffers are full (a few megabytes on loopback) the server's
 * writes stall, its own limits (max_pipeline, max_pipeline_bytes) stop it reading, and it must
 * close the stalled connection after idle_timeout. What had arrived is then read: only 200s,
 * then the close. (A receive buffer shrunk with SO_RCVBUF after connect would make the reading
 * itself crawl: a window below the MSS is only probed by TCP's persist timer.) */
static enum outcome ab_pipeline(struct abuser *a, struct http_client *c)
{
	static const char req[] = "GET " PIPELINED_PATH " HTTP/1.1\r\n" HOST TOKEN_READ "\r\n\r\n";
	size_t n = 200, len = n * (sizeof(req) - 1), got_len = 0;
	char *buf = malloc(len), *got = NULL;
	int t;
	long long answers = 0, oks = 0;
	struct err e = { 0 };
	enum outcome out = OUT_CLOSED;

	if (!buf)
		return ab_bad(a, "out of memory");
	for (size_t i = 0; i < n; i++)
		memcpy(buf + i * (sizeof(req) - 1), req, sizeof(req) - 1);
	http_client_set_timeout(c, 1000);
	/* This may stall part-way: the server stopped reading. */
	(void)http_client_send(c, buf, len, &e);
	free(buf);
	pause_ms(a->s, IDLE_TIMEOUT_S * 1000 + 2000);
	if ((t = ab_bound(a, 10000)) <= 0)
		return OUT_CUT;
	http_client_set_timeout(c, t);
	if (http_client_read_until_close(c, &got, &got_len, &e) != 0) {
		if (left_ms(a->s) <= 0)
			return OUT_CUT;
		return ab_bad(a, "a client stalled for %d s is still connected: %s",
			      IDLE_TIMEOUT_S + 2, e.msg);
	}
	for (const char *p = got; (p = strstr(p, "HTTP/1.1 ")); p += 9) {
		answers++;
		oks += strncmp(p, "HTTP/1.1 200 ", 13) == 0;
	}
	if (oks != answers)
		out = ab_bad(a, "%lld answers, %lld of them 200: %.200s", answers, oks, got);
	atomic_fetch_add(&a->s->piped_answers, answers);
	free(got);
	return out;
}

static enum outcome ab_huge_head(struct abuser *a, struct http_client *c)
{
	size_t pad = 20000;
	char *req = malloc(pad + 200);
	struct err e = { 0 };
	int n;

	if (!req)
		return ab_bad(a, "out of memory");
	n = snprintf(req, 200, "GET /api/v1/cases HTTP/1.1\r\n" HOST TOKEN_READ "\r\nX-Pad: ");
	memset(req + n, 'p', pad);
	memcpy(req + n + pad, "\r\n\r\n", 5);
	http_client_set_timeout(c, 2000);
	(void)http_client_send_str(c, req, &e); /* the server may answer before the end */
	free(req);
	return ab_answer(a, c, 431, "header_too_large", 5000);
}

static enum outcome ab_framing(struct abuser *a, struct http_client *c)
{
	static const char chunked[] = "POST /api/v1/cases HTTP/1.1\r\n" HOST TOKEN_WRITE "\r\n"
				      "Content-Type: application/json\r\n"
				      "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n";
	static const char smuggle[] = "POST /api/v1/cases HTTP/1.1\r\n" HOST TOKEN_WRITE "\r\n"
				      "Content-Type: application/json\r\nContent-Length: 2\r\n"
				      "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n";
	static const char garbage[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"
				      " not HTTP\r\n\r\n";
	struct err e = { 0 };
	unsigned which = a->cycle % 3;

	http_client_set_timeout(c, 2000);
	if (http_client_send_str(c, which == 0 ? chunked : which == 1 ? smuggle : garbage, &e) != 0)
		return ab_bad(a, "sending: %s", e.msg);
	return which == 0 ? ab_answer(a, c, 411, "length_required", 5000)
			  : ab_answer(a, c, 400, "bad_request", 5000);
}

static void *abusive(void *arg)
{
	struct abuser *a = arg;
	struct soak *s = a->s;

	pause_ms(s, a->id * 97 % 1000);
	while (left_ms(s) > 0) {
		struct err e = { 0 };
		struct http_client *c = http_client_connect("127.0.0.1", s->port, 5000, &e);
		enum outcome out;

		a->cycle++;
		if (!c) {
			out = ab_bad(a, "cannot connect: %s", e.msg);
		} else {
			switch (a->kind) {
			case AB_SLOWLORIS: out = ab_slowloris(a, c); break;
			case AB_HUGE_BODY: out = ab_huge_body(a, c); break;
			case AB_TRICKLE: out = ab_trickle(a, c); break;
			case AB_SILENT: out = ab_silent(a, c); break;
			case AB_HALF_NO_READ: out = ab_half_no_read(a, c); break;
			case AB_PIPELINE: out = ab_pipeline(a, c); break;
			case AB_HUGE_HEAD: out = ab_huge_head(a, c); break;
			default: out = ab_framing(a, c); break;
			}
			http_client_abort(c); /* vanishes: no FIN, a reset */
		}
		atomic_fetch_add(&s->ab[a->kind][out], 1);
		if (out == OUT_BAD)
			record_failure(s, NULL, "%s", a->why);
		pause_ms(s, 250); /* the quick kinds would otherwise spin */
	}
	return NULL;
}

/* --- probes and samples -------------------------------------------------------------------- */

static void *prober(void *arg)
{
	struct soak *s = arg;
	struct http_client *c = NULL;
	struct http_client_response resp = { 0 };
	int64_t next = now_ms();

	while (!atomic_load(&s->done)) {
		struct err e = { 0 };
		struct probe p = { .at_ms = now_ms() - s->start_ms, .us = -1 };
		int64_t t0 = now_us();

		if (!c)
			c = http_client_connect("127.0.0.1", s->port, ANSWER_BOUND_MS, &e);
		if (c && http_client_request(c, "GET", "/healthz", NULL, NULL, 0, &resp, &e) == 0 &&
		    resp.status == 200) {
			p.us = now_us() - t0;
		} else {
			http_client_free(c);
			c = NULL;
		}
		if (s->nprobes < s->probes_cap)
			s->probes[s->nprobes++] = p;
		next += PROBE_EVERY_MS;
		int64_t wait = next - now_ms();
		if (wait > 0)
			api_sleep_ms((int)wait);
	}
	http_client_free(c);
	http_client_response_free(&resp);
	return NULL;
}

static long read_rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static int count_fds(pid_t pid)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if (!(dir = opendir(path)))
		return -1;
	while ((d = readdir(dir)))
		n += d->d_name[0] != '.';
	closedir(dir);
	return n;
}

/* The daemon's user + system CPU seconds (fields 14 and 15 of /proc/PID/stat). */
static double read_cpu_s(pid_t pid)
{
	char path[64], text[1024];
	unsigned long long ut = 0, st = 0;
	size_t n;
	FILE *f;
	char *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	p = strrchr(text, ')'); /* the command name may hold spaces */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
			 &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* The time the daemon's main (loop) thread spent runnable but waiting for a CPU: the second
 * field of /proc/PID/schedstat, in nanoseconds. A slow /healthz with a growing wait is the
 * machine's doing, not the daemon's. */
static double read_runq_s(pid_t pid)
{
	char path[64];
	unsigned long long run = 0, wait = 0;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	n = fscanf(f, "%llu %llu", &run, &wait);
	fclose(f);
	return n == 2 ? (double)wait / 1e9 : -1;
}

static void *sampler(void *arg)
{
	struct soak *s = arg;
	int64_t next = now_ms();

	while (!atomic_load(&s->done)) {
		struct sample x = { .at_ms = now_ms() - s->start_ms,
				    .rss_kib = read_rss_kib(s->pid),
				    .fds = count_fds(s->pid),
				    .cpu_s = read_cpu_s(s->pid),
				    .runq_s = read_runq_s(s->pid),
				    .requests = atomic_load(&s->requests) };

		if (s->nsamples < s->samples_cap)
			s->samples[s->nsamples++] = x;
		next += 1000;
		int64_t wait = next - now_ms();
		if (wait > 0)
			api_sleep_ms((int)wait);
	}
	return NULL;
}

/* --- the run ------------------------------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile (0..1) of the n sorted values v, in ms. */
static double quantile_ms(const int64_t *v, size_t n, double q)
{
	size_t i = (size_t)(q * (double)(n - 1) + 0.5);

	return n ? (double)v[i < n ? i : n - 1] / 1000.0 : 0;
}

/* Mean RSS and descriptors over samples [from, to). */
static void means(const struct soak *s, size_t from, size_t to, double *rss, double *fds)
{
	double r = 0, f = 0;

	for (size_t i = from; i < to; i++) {
		r += (double)s->samples[i].rss_kib;
		f += s->samples[i].fds;
	}
	*rss = to > from ? r / (double)(to - from) : 0;
	*fds = to > from ? f / (double)(to - from) : 0;
}

/* One line per 5 s: the sample at its end, the daemon's CPU and the well-behaved requests per
 * second over it, and the /healthz times within it. */
static void print_curves(const struct soak *s)
{
	int64_t *win = malloc(sizeof(int64_t) * (s->nprobes + 1));
	size_t p = 0;

	printf("soak: %5s %9s %5s %6s %9s %8s %11s %11s\n", "t (s)", "RSS (MiB)", "fds", "CPU %",
	       "run queue", "req/s", "healthz p50", "healthz max");
	for (size_t i = 4; win && i < s->nsamples; i += 5) {
		const struct sample *x = &s->samples[i];
		const struct sample *prev = &s->samples[i >= 5 ? i - 5 : 0];
		double dt = (double)(x->at_ms - prev->at_ms) / 1000.0;
		size_t n = 0;

		while (p < s->nprobes && s->probes[p].at_ms <= x->at_ms) {
			if (s->probes[p].us >= 0)
				win[n++] = s->probes[p].us;
			p++;
		}
		qsort(win, n, sizeof(*win), cmp_i64);
		printf("soak: %5.0f %9.1f %5d %6.1f %6.0f ms %8.0f %8.2f ms %8.2f ms\n",
		       (double)x->at_ms / 1000.0, (double)x->rss_kib / 1024.0, x->fds,
		       dt > 0 ? 100.0 * (x->cpu_s - prev->cpu_s) / dt : 0,
		       1000.0 * (x->runq_s - prev->runq_s),
		       dt > 0 ? (double)(x->requests - prev->requests) / dt : 0,
		       quantile_ms(win, n, 0.5), n ? (double)win[n - 1] / 1000.0 : 0);
	}
	free(win);
}

/* When each /healthz slower than the p99 bound was asked, to line them up with what the
 * clients were doing then (the first 20). */
static void print_slow_probes(const struct soak *s)
{
	int shown = 0;

	for (size_t i = 0; i < s->nprobes && shown < 20; i++)
		if (s->probes[i].us > (int64_t)(HEALTHZ_P99_MS * 1000)) {
			const struct probe *p = &s->probes[i];

			printf("soak: slow /healthz at t = %.1f s: %.1f ms\n",
			       (double)p->at_ms / 1000.0, (double)p->us / 1000.0);
			shown++;
		}
}

/* The daemon's own view (GET /metrics): its group-commit and loop-lag histograms, one line each
 * ("<= bound: count" per bucket), to tell a slow /healthz caused inside the daemon from one
 * caused by a busy machine. */
static void print_daemon_histograms(struct api_fixture *f)
{
	static const char *const families[] = { "dunghan_commit_seconds",
						 "dunghan_loop_lag_seconds" };
	struct api_reply r = { 0 };
	struct err e = { 0 };

	if (api_call(f, "GET", "/metrics", NULL, NULL, NULL, 0, NULL, &r, &e) != 0) {
		printf("soak: GET /metrics: %s\n", e.msg);
		return;
	}
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		size_t n = strlen(families[i]);
		const char *line = r.resp.body;

		printf("soak: %s:", families[i] + 8);
		for (; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
			const char *le = strstr(line, "_bucket{le=\"");
			int len = (int)strcspn(line, "\n");

			if (strncmp(line, families[i], n) != 0)
				continue;
			if (le && le < line + len) {
				const char *end = strchr(le + 12, '"');
				printf(" <=%.*s:%.*s", (int)(end - le - 12), le + 12,
				       (int)strcspn(end + 3, "\n"), end + 3);
			} else if (!strncmp(line + n, "_count ", 7)) {
				printf(" count %.*s", len - (int)n - 7, line + n + 7);
			}
		}
		printf("\n");
	}
	api_reply_free(&r);
}

static int soak_seconds(void)
{
	const char *env = getenv("SOAK_SECONDS");
	char *end;
	long v;

	if (!env || !*env)
		return 60;
	v = strtol(env, &end, 10);
	cr_assert(!*end && v >= 8 && v <= 7 * 24 * 3600,
		  "SOAK_SECONDS=%s: expected a whole number of seconds, 8 or more", env);
	return (int)v;
}

static struct api_t t;

static void teardown(void)
{
	api_t_teardown(&t);
}

TestSuite(soak, .fini = teardown);

/* Runs every client thread until the deadline, with the sampler and the prober. */
static void run_clients(struct soak *s, struct wb *wbs, struct abuser *abs)
{
	pthread_t threads[WELL_BEHAVED + AB_COUNT * ABUSIVE_PER_KIND], probe_thread, sample_thread;
	pthread_attr_t attr;
	size_t n = 0;

	/* Small stacks: 260 threads that each hold a few kilobytes. */
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	cr_assert_eq(pthread_create(&sample_thread, &attr, sampler, s), 0);
	cr_assert_eq(pthread_create(&probe_thread, &attr, prober, s), 0);
	for (int i = 0; i < WELL_BEHAVED; i++) {
		wbs[i] = (struct wb){ .s = s, .id = i,
				      .rng = 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1) };
		cr_assert_eq(pthread_create(&threads[n++], &attr, well_behaved, &wbs[i]), 0);
	}
	for (int i = 0; i < AB_COUNT * ABUSIVE_PER_KIND; i++) {
		abs[i] = (struct abuser){ .s = s, .id = i, .kind = (enum abuse)(i % AB_COUNT) };
		cr_assert_eq(pthread_create(&threads[n++], &attr, abusive, &abs[i]), 0);
	}
	pthread_attr_destroy(&attr);
	for (size_t i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
	atomic_store(&s->done, true);
	pthread_join(probe_thread, NULL);
	pthread_join(sample_thread, NULL);
}

/* What the checks look at, computed once the clients are joined. */
struct summary {
	int64_t ran_ms;
	size_t probe_failures;
	double p50, p99, max;             /* /healthz, ms */
	double rss2, rss4, fds2, fds4;    /* means of the second and the last quarter (KiB) */
	double daemon_cpu_s, own_cpu_s;
};

static void summarize(const struct soak *s, struct summary *m)
{
	int64_t *lat = malloc(sizeof(int64_t) * (s->nprobes + 1));
	size_t nlat = 0, n = s->nsamples, q = n / 4;
	struct rusage self;

	cr_assert(lat);
	m->ran_ms = now_ms() - s->start_ms;
	m->probe_failures = 0;
	for (size_t i = 0; i < s->nprobes; i++) {
		if (s->probes[i].us < 0)
			m->probe_failures++;
		else
			lat[nlat++] = s->probes[i].us;
	}
	qsort(lat, nlat, sizeof(*lat), cmp_i64);
	m->p50 = quantile_ms(lat, nlat, 0.50);
	m->p99 = quantile_ms(lat, nlat, 0.99);
	m->max = nlat ? (double)lat[nlat - 1] / 1000.0 : 0;
	free(lat);
	means(s, q, 2 * q, &m->rss2, &m->fds2);
	means(s, 3 * q, n, &m->rss4, &m->fds4);
	m->daemon_cpu_s = n ? s->samples[n - 1].cpu_s - s->samples[0].cpu_s : 0;
	getrusage(RUSAGE_SELF, &self);
	m->own_cpu_s = (double)(self.ru_utime.tv_sec + self.ru_stime.tv_sec) +
		       (double)(self.ru_utime.tv_usec + self.ru_stime.tv_usec) / 1e6;
}

/* The figures, whatever the checks say (docs/testing.md, "Soak", shows one run's). */
static void report(const struct soak *s, const struct summary *m, struct api_fixture *f)
{
	long long total = 0;
	double secs = (double)m->ran_ms / 1000.0;

	printf("soak: %d s (clients joined after %.1f s), %d well-behaved and %d abusive "
	       "connections\n", s->seconds, secs, WELL_BEHAVED, AB_COUNT * ABUSIVE_PER_KIND);
	print_curves(s);
	for (int i = 0; i < OP_COUNT; i++) {
		long long n_op = atomic_load(&s->ops[i]);

		total += n_op;
		printf("soak: well-behaved %-10s %8lld answered as expected, mean %7.2f ms, "
		       "max %7.1f ms\n", op_names[i], n_op,
		       n_op ? (double)atomic_load(&s->op_us[i]) / (double)n_op / 1000.0 : 0,
		       (double)atomic_load(&s->op_max_us[i]) / 1000.0);
	}
	printf("soak: well-behaved total %lld, failed %lld, closed by the server %lld; cases "
	       "acknowledged %lld\n", total, (long long)atomic_load(&s->wb_failures),
	       (long long)atomic_load(&s->server_closes), (long long)atomic_load(&s->acked_cases));
	for (int k = 0; k < AB_COUNT; k++)
		printf("soak: abusive %-34s status %4lld  closed %4lld  bad %lld  cut %lld\n",
		       abuse_names[k], (long long)atomic_load(&s->ab[k][OUT_STATUS]),
		       (long long)atomic_load(&s->ab[k][OUT_CLOSED]),
		       (long long)atomic_load(&s->ab[k][OUT_BAD]),
		       (long long)atomic_load(&s->ab[k][OUT_CUT]));
	printf("soak: pipelined answers read after the stall: %lld\n",
	       (long long)atomic_load(&s->piped_answers));
	printf("soak: /healthz %zu probes: p50 %.2f ms, p99 %.2f ms, max %.2f ms, %zu failed\n",
	       s->nprobes, m->p50, m->p99, m->max, m->probe_failures);
	printf("soak: RSS mean 2nd quarter %.1f MiB, last quarter %.1f MiB; fds %.1f, %.1f\n",
	       m->rss2 / 1024, m->rss4 / 1024, m->fds2, m->fds4);
	printf("soak: CPU: the daemon %.1f s (%.0f %% of a core), the test's clients %.1f s "
	       "(%.0f %%)\n", m->daemon_cpu_s, secs > 0 ? 100.0 * m->daemon_cpu_s / secs : 0,
	       m->own_cpu_s, secs > 0 ? 100.0 * m->own_cpu_s / secs : 0);
	print_daemon_histograms(f);
	print_slow_probes(s);
	fflush(stdout);
}

Test(soak, mixed_load_with_abusive_clients_stays_flat)
{
	struct api_options o = { .server = SERVER_SETTINGS };
	struct soak *s = calloc(1, sizeof(*s));
	struct wb *wbs = calloc(WELL_BEHAVED, sizeof(*wbs));
	struct abuser *abs = calloc(AB_COUNT * ABUSIVE_PER_KIND, sizeof(*abs));
	struct summary m;
	struct err e = { 0 };

	cr_assert(s && wbs && abs);
	s->seconds = soak_seconds();
	s->probes_cap = (size_t)s->seconds * (1000 / PROBE_EVERY_MS) + 200;
	s->samples_cap = (size_t)s->seconds + 60;
	s->probes = calloc(s->probes_cap, sizeof(*s->probes));
	s->samples = calloc(s->samples_cap, sizeof(*s->samples));
	cr_assert(s->probes && s->samples);
	pthread_mutex_init(&s->lock, NULL);

	api_t_start(&t, &o);
	s->port = t.f.port;
	s->pid = t.f.proc.pid;
	s->start_ms = now_ms();
	s->deadline_ms = s->start_ms + (int64_t)s->seconds * 1000;
	run_clients(s, wbs, abs);
	summarize(s, &m);
	report(s, &m, &t.f);

	cr_expect_eq(atomic_load(&s->wb_failures), 0, "%lld well-behaved requests failed",
		     (long long)atomic_load(&s->wb_failures));
	for (int k = 0; k < AB_COUNT; k++) {
		long long completed = atomic_load(&s->ab[k][OUT_STATUS]) +
				      atomic_load(&s->ab[k][OUT_CLOSED]);

		cr_expect_eq(atomic_load(&s->ab[k][OUT_BAD]), 0, "abusive %s: %lld bad cycles",
			     abuse_names[k], (long long)atomic_load(&s->ab[k][OUT_BAD]));
		cr_expect_gt(completed, 0, "abusive %s: no cycle completed", abuse_names[k]);
	}
	cr_expect(s->failures_len == 0, "failures:\n%s", s->failures);
	cr_expect_eq(m.probe_failures, 0, "%zu /healthz probes got no answer", m.probe_failures);
	cr_expect_lt(m.p99, HEALTHZ_P99_MS, "/healthz p99 %.2f ms, at most %.0f ms allowed",
		     m.p99, HEALTHZ_P99_MS);
	cr_assert_geq(s->nsamples, 8, "only %zu samples", s->nsamples);
	double rss_allowed = m.rss2 * RSS_GROWTH;
	if (rss_allowed < RSS_GROWTH_KIB)
		rss_allowed = RSS_GROWTH_KIB;
	cr_expect_leq(m.rss4, m.rss2 + rss_allowed,
		      "RSS grew: %.1f MiB in the second quarter, %.1f MiB in the last "
		      "(+%.1f allowed)", m.rss2 / 1024, m.rss4 / 1024, rss_allowed / 1024);
	cr_expect_leq(m.fds4, m.fds2 + FD_GROWTH,
		      "descriptors grew: %.1f in the second quarter, %.1f in the last", m.fds2,
		      m.fds4);

	cr_assert_eq(api_fixture_stop(&t.f, &e), 0, "stopping dunghand after the soak: %s", e.msg);
	int64_t stored = api_db_int(&t.f, "SELECT count(*) FROM cases", &e);
	cr_expect_eq(stored, atomic_load(&s->acked_cases),
		     "%lld cases acknowledged, %lld in the database %s",
		     (long long)atomic_load(&s->acked_cases), (long long)stored, e.msg);

	pthread_mutex_destroy(&s->lock);
	free(s->probes);
	free(s->samples);
	free(s);
	free(wbs);
	free(abs);
}
