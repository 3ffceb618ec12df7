/* The crash loop (issue #10): the real dunghand with delivery on — e-mail to a real SMTP server
 * (aiosmtpd), chat to a webhook listener in this process — under a mixed stream of writes from
 * several connections, killed with SIGKILL at random moments and at moments chosen to hit
 * commits (right after a burst of writes) and deliveries (right after a receiver got a message,
 * or while it holds one), restarted, and after the cycles checked:
 *   - every acknowledged write is there with its exact content (each case and its events, each
 *     document, as the 2xx answers gave them), and nothing is there that nobody sent;
 *   - PRAGMA integrity_check is ok after every kill (past the hundredth, quick_check after
 *     nine kills in ten) and at the end;
 *   - no (item, rule, deadline, occurrence) alert twice, and no overdue open item without its
 *     alert;
 *   - every outbox row sent and received at least once, each repeat with the row's own
 *     Message-ID / Idempotency-Key, distinct rows with distinct ones, nothing received that no
 *     row explains, nothing "sent" that never arrived.
 *
 * CRASH_CYCLES (default 20) sets the number of kills, CRASH_SEED the seed of the choices (printed;
 * the timing is the machine's, so a seed repeats the choices, not the interleaving). The summary
 * printed at the end gives the figures docs/testing.md ("Crash loop") reports.
 *
 * DESIGN: each client thread owns its items, so it knows each one's state exactly while its
 * writes are answered; a write without an answer (the daemon was killed) puts the item in doubt
 * until a read says what was kept, and each case's events carry expected_version, so that a lost
 * or invented write shows at once as a version mismatch. The threads record failures instead
 * of asserting; the test prints every failure and asserts there were none. */
#include <criterion/criterion.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api_fixture.h"
#include "listeners.h"

#define NCLIENTS 4
#define DEFAULT_CYCLES 20
#define CLIENT_TIMEOUT_MS 20000 /* an answer slower than this from a live daemon is a failure */
#define DOWN_BOUND_MS 30000     /* the longest a client waits for the daemon to come back */
#define EVENT_BOUND_MS 4000     /* the longest the driver waits for a chosen moment to kill */
#define SETTLE_BOUND_MS 90000   /* after the last restart: alerts caught up, the outbox sent */
#define MAX_FAILURES_SHOWN 60

#define TEMPLATES DUNGHAN_SOURCE_DIR "/config/templates"
#define JSON_SECRET "crash-loop-secret-0123456789abcdef"

/* Rules that fire within seconds of a case's due instant ("hot" cases are due 3 to 8 s after
 * they are registered), with a repeat so that occurrences pile up while a case stays open. */
#define RULES                                                                                    \
	"escalation: {\n"                                                                        \
	"  templates = \"" TEMPLATES "\";\n"                                                     \
	"  link_base = \"https://dunghan.dongnai.gov.vn\";\n"                                    \
	"  cases = (\n"                                                                          \
	"    { id = \"soon\"; when = \"-2s\"; notify = [\"handler\"]; },\n"                      \
	"    { id = \"due\"; when = \"due\"; notify = [\"head\", \"channel:t-slack\"]; },\n"     \
	"    { id = \"late\"; when = \"+1s\"; notify = [\"handler\", \"channel:t-json\"];\n"     \
	"      repeat = \"2s\"; urgent = true; }\n"                                              \
	"  );\n"                                                                                 \
	"  documents = (\n"                                                                      \
	"    { id = \"doc-due\"; when = \"due\"; notify = [\"head\", \"channel:t-slack\"]; }\n"  \
	"  );\n"                                                                                 \
	"};\n"

/* Fast retries, and no message ever dead: every row must end sent. */
#define DELIVERY                                                                                 \
	"enabled = true; backoff_base = \"1s\"; backoff_cap = \"2s\"; max_attempts = 1000; "    \
	"max_age = \"1d\"; timeout = \"5s\"; connect_timeout = \"1s\";"

/* The example office's units this test files items in, and the people of each (handlers). */
static const struct {
	const char *id;
	const char *people[3];
} units[] = {
	{ "hctc", { "phong.tv", NULL } },
	{ "kstt", { "lan.ptn", NULL } },
	{ "ttphvhcc", { "dung.lq", "tuan.hm", NULL } },
	{ "xa-tu-phap-tan-phu", { "binh.lt", NULL } },
};
#define NUNITS (sizeof(units) / sizeof(units[0]))

static const char *const applicants[] = {
	"Nguyễn Văn An", "Trần Thị Bích Ngọc", "Lê Hoàng Phúc", "Phạm Thị Thu Hà",
	"Võ Minh Đức",   "Đặng Thị Hồng Nhung", "Bùi Quang Huy", "Hồ Thị Mỹ Linh",
};
#define NAPPLICANTS (int)(sizeof(applicants) / sizeof(applicants[0]))
static const char *const issuers[] = { "Sở Nội vụ", "Sở Tư pháp", "UBND tỉnh Đồng Nai",
				       "Sở Tài nguyên và Môi trường" };
static const char *const urgencies[] = { "normal", "urgent", "very_urgent", "flash" };

/* ============================================================================================
 * What the run knows. */

enum kstate {
	K_KNOWN,  /* its status and version are known */
	K_DOUBT,  /* a write went unanswered since: read it before anything else */
	K_ABSENT, /* a read found no such case: register it (again) */
};

struct kase {
	char code[40];
	char *body;          /* the create request (a batch line is one too) */
	bool hot;            /* due a few seconds after it was registered */
	bool exists;         /* an answer said it is stored */
	bool seen;           /* a read found it stored */
	enum kstate state;
	json_t *last;        /* the case as the last answered write gave it; NULL: none */
	int64_t last_event;  /* that write's event id; 0: the create */
	json_t *events;      /* the events answered, in order */
	json_t *unanswered;  /* the types of the events sent without an answer */
	char status[16];
	int64_t version, due;
};

struct doc {
	char symbol[40];
	char *body;
	bool hot;
	json_t *answer; /* the document the 201 gave; NULL: unanswered */
};

struct counts {
	long cases, batch_lines, events, docs; /* writes acknowledged */
	long unanswered;                       /* requests without an answer */
};

struct client {
	int idx;
	uint64_t rng;
	struct http_client *conn;
	unsigned conn_epoch;
	unsigned serial;      /* for codes and symbols */
	struct kase *cases;
	size_t ncases, capcases;
	size_t *doubt;        /* indexes of cases in doubt or absent */
	size_t ndoubt, capdoubt;
	size_t *hot;          /* indexes of hot cases not known to be closed */
	size_t nhot, caphot;
	struct doc *docs;
	size_t ndocs, capdocs;
	struct counts n;
	pthread_t thread;
	bool started;
};

enum mode {
	KILL_RANDOM,
	KILL_BURST_SENT,
	KILL_BURST_ANSWERED,
	KILL_WEBHOOK_RECEIVED,
	KILL_WEBHOOK_HELD,
	KILL_SMTP_RECEIVED,
	KILL_SMTP_HELD,
	NMODES
};

static const char *const mode_names[NMODES] = {
	"at a random moment",
	"right after a burst of writes was sent",
	"right after the first answer to a burst (a commit)",
	"right after the webhook listener received a request",
	"while the webhook listener held a request",
	"right after the SMTP server accepted a message",
	"while the SMTP server held a message's DATA",
};

static struct run {
	struct api_fixture f;
	struct harness wh; /* the test's own directory: the SMTP spool, the json secret */
	bool wh_ready;
	struct listener *listener;
	struct smtp_server *smtp;
	char smtp_hold[600];
	uint64_t seed, rng;
	int cycles;

	pthread_mutex_t mu; /* guards what follows */
	pthread_cond_t cv;
	int port;       /* the daemon's port now */
	bool up;        /* the daemon serves */
	unsigned epoch; /* kills so far: a request whose epoch moved was cut by a kill */
	atomic_bool stop;
	char *failures;
	size_t failures_len;
	int nfailures;

	/* clients[NCLIENTS] holds the items of the driver's bursts */
	struct client clients[NCLIENTS + 1];
	int modes[NMODES];
	int fallbacks;   /* chosen moments that did not come within EVENT_BOUND_MS */
	int full_checks; /* kills followed by integrity_check (the others by quick_check) */
} R = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static void failure(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void failure(const char *fmt, ...)
{
	char line[1500];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&R.mu);
	bool shown = ++R.nfailures <= MAX_FAILURES_SHOWN;
	if (shown) {
		size_t n = strlen(line);
		char *grown = realloc(R.failures, R.failures_len + n + 4);
		if (grown) {
			R.failures = grown;
			memcpy(R.failures + R.failures_len, "- ", 2);
			memcpy(R.failures + R.failures_len + 2, line, n);
			R.failures_len += n + 2;
			R.failures[R.failures_len++] = '\n';
			R.failures[R.failures_len] = '\0';
		}
	}
	pthread_mutex_unlock(&R.mu);
	if (shown)
		fprintf(stderr, "crash loop: FAILURE: %s\n", line);
}

/* splitmix64: a small PRNG per thread, seeded from the run's seed. */
static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int rnd_in(uint64_t *s, int lo, int hi)
{
	return lo + (int)(rnd(s) % (uint64_t)(hi - lo + 1));
}

static bool chance(uint64_t *s, int percent)
{
	return (int)(rnd(s) % 100) < percent;
}

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

static double now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool stopping(void)
{
	return atomic_load(&R.stop);
}

static void *grow(void *p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return p;
	size_t cap2 = *cap ? 2 * *cap : 64;
	void *q = realloc(p, cap2 * size);
	cr_assert(q, "out of memory");
	memset((char *)q + *cap * size, 0, (cap2 - *cap) * size);
	*cap = cap2;
	return q;
}

/* ============================================================================================
 * Requests. */

/* Sends one request for client c on its connection, first waiting until the daemon serves.
 * Returns 0 with the answer in r, or -1: no answer, and the request may or may not have been
 * applied. No answer while no kill happened is a failure. */
static int call(struct client *c, const char *method, const char *path, const char *token,
		const char *ctype, const char *body, struct api_reply *r)
{
	struct err e = { 0 };
	unsigned epoch;
	bool up;
	int port;

	pthread_mutex_lock(&R.mu);
	for (int waited = 0; !R.up && !stopping() && waited < DOWN_BOUND_MS; waited += 100) {
		struct timespec ts = harness_deadline_in(100);
		pthread_cond_timedwait(&R.cv, &R.mu, &ts);
	}
	port = R.port;
	epoch = R.epoch;
	up = R.up;
	pthread_mutex_unlock(&R.mu);
	if (!up) {
		if (!stopping())
			failure("client %d: the daemon was not back within %d ms", c->idx,
				DOWN_BOUND_MS);
		return -1;
	}
	if (c->conn && c->conn_epoch != epoch) {
		http_client_free(c->conn);
		c->conn = NULL;
	}
	if (!c->conn)
		c->conn_epoch = epoch;
	if (api_call_conn(&c->conn, port, CLIENT_TIMEOUT_MS, method, path, token, ctype, body,
			  body ? strlen(body) : 0, NULL, r, &e) == 0)
		return 0;
	pthread_mutex_lock(&R.mu);
	bool killed = R.epoch != epoch;
	pthread_mutex_unlock(&R.mu);
	if (!killed)
		failure("client %d: %s %s: no answer from a daemon that was not killed: %s", c->idx,
			method, path, e.msg);
	c->n.unanswered++;
	return -1;
}

static char *dump(json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	return s ? s : strdup("(null)");
}

/* ============================================================================================
 * Cases. */

static void mark_doubt(struct client *c, size_t i, enum kstate state)
{
	struct kase *k = &c->cases[i];

	if (k->state == K_KNOWN) {
		c->doubt = grow(c->doubt, &c->capdoubt, c->ndoubt, sizeof(*c->doubt));
		c->doubt[c->ndoubt++] = i;
	}
	k->state = state;
}

/* The state of k from the case JSON cj (an answer or a read). */
static void take_state(struct kase *k, json_t *cj)
{
	const char *status = api_str(cj, "status");

	snprintf(k->status, sizeof(k->status), "%s", status ? status : "?");
	k->version = api_int(cj, "version");
	k->due = api_parse_instant(api_str(cj, "due_at"));
	k->state = K_KNOWN;
}

/* One of the people of unit (a handler for its cases). */
static const char *pick_handler(uint64_t *g, const char *unit)
{
	size_t u = 0;
	int np = 0;

	while (u < NUNITS - 1 && strcmp(units[u].id, unit ? unit : ""))
		u++;
	while (units[u].people[np])
		np++;
	return units[u].people[rnd_in(g, 0, np - 1)];
}

/* A new case of client c: its create request (hot: due 3 to 8 s from now; batch lines always
 * give due_at). Returns its index. */
static size_t new_case(struct client *c, bool hot, bool batch)
{
	uint64_t *g = &c->rng;
	int64_t now = now_s();
	char received[40], due[40];
	size_t u = (size_t)rnd_in(g, 0, NUNITS - 1);

	c->cases = grow(c->cases, &c->capcases, c->ncases, sizeof(*c->cases));
	struct kase *k = &c->cases[c->ncases];
	memset(k, 0, sizeof(*k));
	snprintf(k->code, sizeof(k->code), "CL%d-%06u", c->idx, ++c->serial);
	k->hot = hot;
	k->state = K_KNOWN;
	if (hot) {
		c->hot = grow(c->hot, &c->caphot, c->nhot, sizeof(*c->hot));
		c->hot[c->nhot++] = c->ncases;
	}
	k->events = json_array();
	k->unanswered = json_array();
	api_format_instant(received, sizeof(received), now - rnd_in(g, 60, hot ? 600 : 3600));
	json_t *b = json_object();
	json_object_set_new(b, "code", json_string(k->code));
	json_object_set_new(b, "procedure", json_string(chance(g, 60) ? "1.004222" : "1.004873"));
	json_object_set_new(b, "unit", json_string(units[u].id));
	if (chance(g, 80))
		json_object_set_new(b, "handler", json_string(pick_handler(g, units[u].id)));
	json_object_set_new(b, "applicant", json_string(applicants[rnd_in(g, 0, NAPPLICANTS - 1)]));
	json_object_set_new(b, "received_at", json_string(received));
	if (hot)
		api_format_instant(due, sizeof(due), now + rnd_in(g, 3, 8));
	else
		api_format_instant(due, sizeof(due), now + 86400 * rnd_in(g, 2, 20));
	if (hot || batch || chance(g, 50))
		json_object_set_new(b, "due_at", json_string(due));
	static const char *const online[] = { "none", "partial", "full" };
	json_object_set_new(b, "online", json_string(online[rnd_in(g, 0, 2)]));
	json_object_set_new(b, "paid_online", json_boolean(chance(g, 30)));
	json_object_set_new(b, "digitized", json_boolean(chance(g, 60)));
	k->body = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	cr_assert(k->body);
	return c->ncases++;
}

/* The answer to a create of case i (POST /cases, or a retry of it). */
static void case_answered(struct client *c, size_t i, const struct api_reply *r)
{
	struct kase *k = &c->cases[i];
	const char *code = api_str(r->json, "code");

	if ((r->status != 201 && r->status != 200) || !code || strcmp(code, k->code)) {
		failure("case %s: POST /cases answered %d: %.400s", k->code, r->status,
			r->resp.body);
		k->state = K_KNOWN; /* given up: never exists, never gets events */
		return;
	}
	k->exists = true;
	json_decref(k->last);
	k->last = json_incref(r->json);
	k->last_event = 0;
	take_state(k, r->json);
	c->n.cases++;
}

static void case_unanswered(struct client *c, size_t i)
{
	mark_doubt(c, i, K_DOUBT);
}

static void create_case(struct client *c, size_t i)
{
	struct api_reply r = { 0 };

	if (call(c, "POST", "/api/v1/cases", API_MOTCUA, "application/json", c->cases[i].body,
		 &r) == 0)
		case_answered(c, i, &r);
	else
		case_unanswered(c, i);
	api_reply_free(&r);
}

/* The NDJSON body of the batch of cases first..first+n-1. */
static char *batch_body(struct client *c, size_t first, size_t n)
{
	size_t len = 0;
	for (size_t j = 0; j < n; j++)
		len += strlen(c->cases[first + j].body) + 1;
	char *body = malloc(len + 1), *p = body;
	cr_assert(body);
	for (size_t j = 0; j < n; j++) {
		size_t l = strlen(c->cases[first + j].body);
		memcpy(p, c->cases[first + j].body, l);
		p[l] = '\n';
		p += l + 1;
	}
	*p = '\0';
	return body;
}

static void batch_answered(struct client *c, size_t first, size_t n, const struct api_reply *r)
{
	json_t *results = api_get(r->json, "results");

	if (r->status != 200 || json_array_size(results) != n) {
		failure("batch of %s..: answered %d: %.400s", c->cases[first].code, r->status,
			r->resp.body);
		for (size_t j = 0; j < n; j++)
			mark_doubt(c, first + j, K_DOUBT);
		return;
	}
	for (size_t j = 0; j < n; j++) {
		struct kase *k = &c->cases[first + j];
		json_t *res = json_array_get(results, j);
		int64_t status = api_int(res, "status");
		const char *code = api_str(res, "code");
		if ((status != 201 && status != 200) || !code || strcmp(code, k->code)) {
			char *d = dump(res);
			failure("case %s: batch line %zu answered %s", k->code, j + 1, d);
			free(d);
			mark_doubt(c, first + j, K_DOUBT);
			continue;
		}
		/* A batch answers codes only: the state is the one a new case has. */
		k->exists = true;
		k->state = K_KNOWN;
		snprintf(k->status, sizeof(k->status), "received");
		k->version = 1;
		json_t *b = json_loads(k->body, 0, NULL);
		k->due = api_parse_instant(api_str(b, "due_at"));
		json_decref(b);
		c->n.batch_lines++;
	}
}

static void batch_unanswered(struct client *c, size_t first, size_t n)
{
	for (size_t j = 0; j < n; j++)
		case_unanswered(c, first + j);
}

/* Reads case i back after an unanswered write: what was kept decides what comes next. */
static void read_case(struct client *c, size_t i)
{
	struct kase *k = &c->cases[i];
	struct api_reply r = { 0 };
	char path[100];

	snprintf(path, sizeof(path), "/api/v1/cases/%s", k->code);
	if (call(c, "GET", path, API_BAOCAO, NULL, NULL, &r) != 0)
		goto out;
	if (r.status == 200 && r.json) {
		k->seen = true;
		take_state(k, r.json);
	} else if (r.status == 404) {
		if (k->exists || k->seen)
			failure("case %s: %s before, now 404", k->code,
				k->exists ? "acknowledged" : "read");
		k->state = K_ABSENT;
	} else {
		failure("GET %s answered %d: %.300s", path, r.status, r.resp.body);
	}
out:
	api_reply_free(&r);
}

/* Sends an event of a type the case's status allows, with expected_version. */
static void case_event(struct client *c, size_t i, const char *forced)
{
	struct kase *k = &c->cases[i];
	uint64_t *g = &c->rng;
	const char *type = forced;
	char path[100];
	int p = rnd_in(g, 0, 99);

	if (!type) {
		if (!strcmp(k->status, "received") || !strcmp(k->status, "in_progress"))
			type = p < 25 ? "assign" : p < 45 ? "pause" : p < 75 ? "complete" : "note";
		else if (!strcmp(k->status, "paused"))
			type = p < 70 ? "resume" : "note";
		else if (!strcmp(k->status, "completed"))
			type = p < 50 ? "return" : "note";
		else
			type = "note";
	}
	json_t *b = json_pack("{s:s, s:I}", "type", type, "expected_version",
			      (json_int_t)k->version);
	if (!strcmp(type, "assign")) {
		json_t *cj = json_loads(k->body, 0, NULL);
		const char *handler = pick_handler(g, api_str(cj, "unit"));
		json_object_set_new(b, "handler", json_string(handler));
		json_decref(cj);
	} else if (!strcmp(type, "pause")) {
		json_object_set_new(b, "reason", json_string("Yêu cầu bổ sung giấy tờ tùy thân"));
	} else if (!strcmp(type, "note")) {
		char text[120];
		snprintf(text, sizeof(text), "Đã gọi điện cho công dân, lần %u", ++c->serial);
		json_object_set_new(b, "text", json_string(text));
	}
	char *body = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	cr_assert(body);
	snprintf(path, sizeof(path), "/api/v1/cases/%s/events", k->code);

	struct api_reply r = { 0 };
	if (call(c, "POST", path, API_MOTCUA, "application/json", body, &r) != 0) {
		json_array_append_new(k->unanswered, json_string(type));
		mark_doubt(c, i, K_DOUBT);
		goto out;
	}
	json_t *ev = api_get(r.json, "event"), *cj = api_get(r.json, "case");
	if (r.status != 201 || !ev || !cj) {
		failure("case %s (%s, version %lld, known): %s answered %d: %.400s", k->code,
			k->status, (long long)k->version, body, r.status, r.resp.body);
		mark_doubt(c, i, K_DOUBT);
		goto out;
	}
	if (api_int(cj, "version") != k->version + 1)
		failure("case %s: %s moved version %lld to %lld", k->code, type,
			(long long)k->version, (long long)api_int(cj, "version"));
	json_array_append(k->events, ev);
	json_decref(k->last);
	k->last = json_incref(cj);
	k->last_event = api_int(ev, "id");
	take_state(k, cj);
	c->n.events++;
out:
	free(body);
	api_reply_free(&r);
}

static bool is_open(const struct kase *k)
{
	return !strcmp(k->status, "received") || !strcmp(k->status, "in_progress");
}

/* ============================================================================================
 * Documents. */

static size_t new_doc(struct client *c, bool hot)
{
	uint64_t *g = &c->rng;
	int64_t now = now_s(), received = now - rnd_in(g, 60, 3600);
	char r[40], d[40], date[40], summary[200];

	c->docs = grow(c->docs, &c->capdocs, c->ndocs, sizeof(*c->docs));
	struct doc *doc = &c->docs[c->ndocs];
	memset(doc, 0, sizeof(*doc));
	snprintf(doc->symbol, sizeof(doc->symbol), "%u/CL%d-SNV", ++c->serial, c->idx);
	doc->hot = hot;
	api_format_instant(r, sizeof(r), received);
	api_format_instant(date, sizeof(date), received - 86400);
	date[10] = '\0';
	snprintf(summary, sizeof(summary),
		 "V/v khẩn trương triển khai nhiệm vụ cải cách hành chính, đợt %u", c->serial);
	json_t *b = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "symbol", doc->symbol,
			      "doc_date", date, "issuer", issuers[rnd_in(g, 0, 3)], "type",
			      "Công văn", "summary", summary, "urgency", urgencies[rnd_in(g, 0, 3)],
			      "received_at", r, "lead_unit", units[rnd_in(g, 0, NUNITS - 1)].id);
	if (hot) {
		api_format_instant(d, sizeof(d), now + rnd_in(g, 3, 8));
		json_object_set_new(b, "due_at", json_string(d));
	}
	doc->body = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	cr_assert(doc->body);
	return c->ndocs++;
}

static void doc_answered(struct client *c, size_t i, const struct api_reply *r)
{
	struct doc *d = &c->docs[i];
	const char *symbol = api_str(r->json, "symbol");

	if (r->status != 201 || !symbol || strcmp(symbol, d->symbol)) {
		failure("document %s: POST /documents answered %d: %.400s", d->symbol, r->status,
			r->resp.body);
		return;
	}
	d->answer = json_incref(r->json);
	c->n.docs++;
}

static void create_doc(struct client *c, size_t i)
{
	struct api_reply r = { 0 };

	/* Not sent again when unanswered: a document create is not idempotent. */
	if (call(c, "POST", "/api/v1/documents", API_VANTHU, "application/json", c->docs[i].body,
		 &r) == 0)
		doc_answered(c, i, &r);
	api_reply_free(&r);
}

/* ============================================================================================
 * The clients. */

/* An open hot case of c overdue by 4 s or more (its "late" rule has fired, and repeated), or
 * SIZE_MAX. Every hot case is looked at until it is closed: one left open would repeat its
 * alerts every 2 s for the rest of a long run. */
static size_t overdue_hot(struct client *c)
{
	int64_t now = now_s();
	size_t found = SIZE_MAX;

	for (size_t j = 0; j < c->nhot;) {
		struct kase *k = &c->cases[c->hot[j]];
		bool known = k->state == K_KNOWN;
		if (known && (!(k->exists || k->seen) ||
			      (!is_open(k) && strcmp(k->status, "paused")))) {
			c->hot[j] = c->hot[--c->nhot]; /* closed, or never stored */
			continue;
		}
		if (found == SIZE_MAX && known && is_open(k) && k->due + 4 <= now)
			found = c->hot[j];
		j++;
	}
	return found;
}

static void client_step(struct client *c)
{
	uint64_t *g = &c->rng;

	if (c->ndoubt) {
		size_t i = c->doubt[c->ndoubt - 1];
		struct kase *k = &c->cases[i];
		if (k->state == K_ABSENT)
			create_case(c, i);
		else
			read_case(c, i);
		if (c->cases[i].state == K_KNOWN)
			c->ndoubt--;
		return;
	}
	/* Overdue cases get completed, so that their repeats stop. */
	size_t late = overdue_hot(c);
	if (late != SIZE_MAX && chance(g, 10)) {
		case_event(c, late, "complete");
		return;
	}
	int p = rnd_in(g, 0, 99);
	if (p < 30) {
		create_case(c, new_case(c, chance(g, 20), false));
	} else if (p < 40) {
		size_t n = (size_t)rnd_in(g, 2, 4), first = c->ncases;
		for (size_t j = 0; j < n; j++)
			new_case(c, false, true);
		char *body = batch_body(c, first, n);
		struct api_reply r = { 0 };
		if (call(c, "POST", "/api/v1/cases:batch", API_MOTCUA, "application/x-ndjson", body,
			 &r) == 0)
			batch_answered(c, first, n, &r);
		else
			batch_unanswered(c, first, n);
		api_reply_free(&r);
		free(body);
	} else if (p < 55) {
		create_doc(c, new_doc(c, chance(g, 20)));
	} else {
		/* An event on one of the latest cases, which are the likeliest to be open. */
		size_t span = c->ncases < 64 ? c->ncases : 64;
		size_t i = span ? c->ncases - 1 - (size_t)rnd_in(g, 0, (int)span - 1) : 0;
		struct kase *k = span ? &c->cases[i] : NULL;
		if (k && k->state == K_KNOWN && (k->exists || k->seen))
			case_event(c, i, NULL);
		else
			create_case(c, new_case(c, chance(g, 20), false));
	}
}

static void *client_main(void *arg)
{
	struct client *c = arg;

	while (!stopping()) {
		client_step(c);
		/* The pace of a busy office, not a wait for an event. */
		api_sleep_ms(rnd_in(&c->rng, 5, 30));
	}
	http_client_free(c->conn);
	c->conn = NULL;
	return NULL;
}

static void stop_clients(void)
{
	pthread_mutex_lock(&R.mu);
	atomic_store(&R.stop, true);
	pthread_cond_broadcast(&R.cv);
	pthread_mutex_unlock(&R.mu);
	for (int i = 0; i < NCLIENTS; i++)
		if (R.clients[i].started) {
			pthread_join(R.clients[i].thread, NULL);
			R.clients[i].started = false;
		}
}

/* ============================================================================================
 * The driver: kills and restarts. */

/* PRAGMA integrity_check, or with quick its quick_check, which skips comparing the indexes
 * with their tables: the full check takes seconds once a long run's file is large. */
static void check_integrity(const char *when, bool quick)
{
	const char *pragma = quick ? "quick_check" : "integrity_check";
	char sql[40];
	struct err e = { 0 };

	snprintf(sql, sizeof(sql), "PRAGMA %s", pragma);
	json_t *rows = api_db_query(&R.f, sql, &e);
	const char *first = json_string_value(json_array_get(json_array_get(rows, 0), 0));

	if (!rows) {
		failure("%s: PRAGMA %s: %s", when, pragma, e.msg);
	} else if (json_array_size(rows) != 1 || !first || strcmp(first, "ok")) {
		char *d = dump(rows);
		failure("%s: PRAGMA %s: %.1000s", when, pragma, d);
		free(d);
	}
	json_decref(rows);
}

static void kill_daemon(void)
{
	struct err e = { 0 };

	pthread_mutex_lock(&R.mu);
	R.up = false;
	R.epoch++;
	pthread_mutex_unlock(&R.mu);
	cr_assert_eq(api_fixture_crash(&R.f, &e), 0, "kill -9: %s", e.msg);
}

static void restart_daemon(void)
{
	struct err e = { 0 };

	cr_assert_eq(api_fixture_restart(&R.f, &e), 0, "restarting dunghand: %s", e.msg);
	pthread_mutex_lock(&R.mu);
	R.port = R.f.port;
	R.up = true;
	pthread_cond_broadcast(&R.cv);
	pthread_mutex_unlock(&R.mu);
}

/* One request of a burst: a case, a batch of cases or a document of the driver's own. */
struct burst_req {
	struct http_client *conn;
	int kind; /* 0 case, 1 batch, 2 document */
	size_t first, n;
	char *body;
};

/* A burst of writes on new connections, each sent before any answer is read, then the kill:
 * at once (answered = false: somewhere inside the loop turn that takes them and commits) or as
 * soon as the first answer arrives (the commit has returned, the other answers are leaving).
 * Every answer that still arrives is an acknowledgement. */
static void burst_and_kill(bool answered)
{
	struct client *c = &R.clients[NCLIENTS];
	struct burst_req q[8];
	int n = rnd_in(&R.rng, 3, 8);
	char auth_m[100], auth_v[100];

	snprintf(auth_m, sizeof(auth_m), "Authorization: Bearer %s", API_MOTCUA);
	snprintf(auth_v, sizeof(auth_v), "Authorization: Bearer %s", API_VANTHU);
	memset(q, 0, sizeof(q));
	for (int j = 0; j < n; j++) {
		struct err e = { 0 };
		const char *path, *h[3] = { auth_m, "Content-Type: application/json", NULL };
		q[j].kind = rnd_in(&c->rng, 0, 2);
		if (q[j].kind == 0) {
			q[j].first = new_case(c, false, false);
			q[j].n = 1;
			q[j].body = strdup(c->cases[q[j].first].body);
			path = "/api/v1/cases";
		} else if (q[j].kind == 1) {
			q[j].n = (size_t)rnd_in(&c->rng, 2, 3);
			q[j].first = c->ncases;
			for (size_t k = 0; k < q[j].n; k++)
				new_case(c, false, true);
			q[j].body = batch_body(c, q[j].first, q[j].n);
			path = "/api/v1/cases:batch";
			h[1] = "Content-Type: application/x-ndjson";
		} else {
			q[j].first = new_doc(c, false);
			q[j].body = strdup(c->docs[q[j].first].body);
			path = "/api/v1/documents";
			h[0] = auth_v;
		}
		cr_assert(q[j].body);
		q[j].conn = api_connect(&R.f, 5000, &e);
		if (q[j].conn && http_client_send_request(q[j].conn, "POST", path, h, q[j].body,
							  strlen(q[j].body), &e) != 0) {
			http_client_free(q[j].conn);
			q[j].conn = NULL;
		}
		if (!q[j].conn)
			failure("burst: %s: %s", path, e.msg);
	}
	if (answered) {
		struct pollfd p[8];
		for (int j = 0; j < n; j++)
			p[j] = (struct pollfd){ .fd = q[j].conn ? http_client_fd(q[j].conn) : -1,
						.events = POLLIN };
		if (poll(p, (nfds_t)n, EVENT_BOUND_MS) <= 0)
			R.fallbacks++;
	} else {
		struct timespec ts = { 0, (long)rnd_in(&R.rng, 0, 3000) * 1000L };
		nanosleep(&ts, NULL);
	}
	kill_daemon();
	for (int j = 0; j < n; j++) {
		struct api_reply r = { 0 };
		struct err e = { 0 };
		bool got = q[j].conn && http_client_read_response(q[j].conn, &r.resp, &e) == 0;
		if (got) {
			r.status = r.resp.status;
			r.json = json_loadb(r.resp.body, r.resp.body_len, 0, NULL);
		}
		if (q[j].kind == 0)
			got ? case_answered(c, q[j].first, &r) : case_unanswered(c, q[j].first);
		else if (q[j].kind == 1)
			got ? batch_answered(c, q[j].first, q[j].n, &r)
			    : batch_unanswered(c, q[j].first, q[j].n);
		else if (got)
			doc_answered(c, q[j].first, &r);
		if (!got)
			c->n.unanswered++;
		api_reply_free(&r);
		http_client_free(q[j].conn);
		free(q[j].body);
	}
}

static enum mode pick_mode(void)
{
	static const int weight[NMODES] = { 28, 12, 12, 14, 10, 14, 10 };
	int p = rnd_in(&R.rng, 0, 99);

	for (int m = 0; m < NMODES; m++) {
		if (p < weight[m])
			return (enum mode)m;
		p -= weight[m];
	}
	return KILL_RANDOM;
}

/* Runs one cycle: lets the clients write, kills the daemon in the given way, checks the file,
 * restarts it. */
static void cycle(int number, enum mode mode)
{
	/* The clients write for a while first: the random part of every moment. A random kill
	 * may come at once, while the restarted daemon catches up on missed rules and requeues
	 * what was being sent. */
	api_sleep_ms(rnd_in(&R.rng, mode == KILL_RANDOM ? 0 : 100, 1500));
	switch (mode) {
	case KILL_RANDOM:
		kill_daemon();
		break;
	case KILL_BURST_SENT:
	case KILL_BURST_ANSWERED:
		burst_and_kill(mode == KILL_BURST_ANSWERED);
		break;
	case KILL_WEBHOOK_RECEIVED: {
		int n = listener_count(R.listener, false);
		if (!listener_wait(R.listener, n + 1, false, EVENT_BOUND_MS))
			R.fallbacks++;
		kill_daemon();
		break;
	}
	case KILL_WEBHOOK_HELD:
		listener_script(R.listener,
				(struct listener_step[]){ { .status = 200, .hold = 1 }, { 0 } },
				(struct listener_step){ .status = 200 });
		if (!listener_wait(R.listener, 1, true, EVENT_BOUND_MS))
			R.fallbacks++;
		kill_daemon();
		listener_script(R.listener, NULL, (struct listener_step){ .status = 200 });
		break;
	case KILL_SMTP_RECEIVED:
	case KILL_SMTP_HELD: {
		if (mode == KILL_SMTP_HELD)
			cr_assert_eq(harness_write(&R.wh, "smtp-hold", "hold"), 0);
		int n = smtp_server_count(R.smtp);
		if (!smtp_server_wait(R.smtp, n + 1, EVENT_BOUND_MS))
			R.fallbacks++;
		kill_daemon();
		unlink(R.smtp_hold);
		break;
	}
	case NMODES:
		break;
	}
	R.modes[mode]++;
	/* The full check after each of the first 100 kills and every tenth after. */
	bool full = number <= 100 || number % 10 == 0;
	check_integrity("after kill -9", !full);
	R.full_checks += full;
	/* Down for a while now and then: the clients meet a closed port. */
	if (chance(&R.rng, 25))
		api_sleep_ms(rnd_in(&R.rng, 50, 500));
	restart_daemon();
}

/* ============================================================================================
 * The checks. */

/* GET path (read token) into r; the status, or -1 without an answer (a failure). */
static int get(const char *path, struct api_reply *r)
{
	struct err e = { 0 };

	if (api_call(&R.f, "GET", path, API_BAOCAO, NULL, NULL, 0, NULL, r, &e) != 0) {
		failure("GET %s: no answer: %s", path, e.msg);
		return -1;
	}
	return r->status;
}

/* Compares the members of the create request with the case as stored: those no event of this
 * test changes. */
static void expect_created_as_sent(const struct kase *k, json_t *cj, bool due_unchanged,
				   bool handler_unchanged)
{
	json_t *b = json_loads(k->body, 0, NULL);
	const char *key;
	json_t *want;

	json_object_foreach (b, key, want) {
		if ((!strcmp(key, "due_at") && !due_unchanged) ||
		    (!strcmp(key, "handler") && !handler_unchanged))
			continue;
		json_t *got = json_object_get(cj, key);
		if (!got || !json_equal(got, want)) {
			char *g = dump(got), *w = dump(want);
			failure("case %s: %s is %s, sent %s", k->code, key, g, w);
			free(g);
			free(w);
		}
	}
	json_decref(b);
}

static bool has_type(json_t *events, const char *type)
{
	json_t *e;
	size_t i;
	json_array_foreach (events, i, e)
		if (!strcmp(json_string_value(json_is_string(e) ? e : json_object_get(e, "type")),
			    type))
			return true;
	return false;
}

struct tally {
	long unanswered_kept, unanswered_absent; /* unanswered creates found kept / not kept */
	long unanswered_events_kept, unanswered_events;
	long docs_unanswered_kept, docs_unanswered;
	long closing;
};

/* Every case of client c as stored: acknowledged ones present, with exactly the events and
 * content answered; events nobody acknowledged only where a request went unanswered. Fills
 * live[] with each present case (code → the case JSON). */
static void verify_cases(struct client *c, json_t *live, struct tally *t)
{
	for (size_t i = 0; i < c->ncases; i++) {
		struct kase *k = &c->cases[i];
		struct api_reply r = { 0 }, re = { 0 };
		char path[120];

		snprintf(path, sizeof(path), "/api/v1/cases/%s", k->code);
		int st = get(path, &r);
		if (st == 404) {
			if (k->exists || k->seen)
				failure("case %s: %s, but not stored (404)", k->code,
					k->exists ? "acknowledged" : "seen by a read");
			else
				t->unanswered_absent++;
			goto next;
		}
		if (st != 200 || !r.json) {
			if (st >= 0)
				failure("GET %s answered %d: %.300s", path, st, r.resp.body);
			goto next;
		}
		if (!k->exists)
			t->unanswered_kept++;
		json_object_set(live, k->code, r.json);
		snprintf(path, sizeof(path), "/api/v1/cases/%s/events", k->code);
		if (get(path, &re) != 200) {
			failure("GET %s answered %d: %.300s", path, re.status, re.resp.body);
			goto next;
		}
		json_t *stored = api_get(re.json, "events");
		size_t n = json_array_size(stored);
		const char *t0 = api_str(stored, "0.type");
		if (!n || !t0 || strcmp(t0, "create")) {
			char *d = dump(stored);
			failure("case %s: its events do not begin with create: %.600s", k->code, d);
			free(d);
			goto next;
		}
		if (api_int(r.json, "version") != (int64_t)n)
			failure("case %s: version %lld with %zu events", k->code,
				(long long)api_int(r.json, "version"), n);
		/* Each acknowledged event there, as answered, in order. */
		size_t at = 1;
		json_t *a;
		size_t ai;
		json_array_foreach (k->events, ai, a) {
			int64_t id = api_int(a, "id");
			size_t j = at;
			while (j < n && api_int(json_array_get(stored, j), "id") != id)
				j++;
			if (j == n) {
				char *d = dump(a);
				failure("case %s: the acknowledged event %s is not stored", k->code,
					d);
				free(d);
				continue;
			}
			if (!json_equal(json_array_get(stored, j), a)) {
				char *w = dump(a), *g = dump(json_array_get(stored, j));
				failure("case %s: event %lld answered %s, stored %s", k->code,
					(long long)id, w, g);
				free(w);
				free(g);
			}
			/* Between two acknowledged events: only unanswered ones. */
			t->unanswered_events_kept += (long)(j - at);
			at = j + 1;
		}
		t->unanswered_events_kept += (long)(n - at);
		t->unanswered_events += (long)json_array_size(k->unanswered);
		/* What nobody acknowledged must be what went unanswered. */
		json_t *left = json_deep_copy(k->unanswered);
		for (size_t j = 1; j < n; j++) {
			json_t *e = json_array_get(stored, j);
			int64_t id = api_int(e, "id");
			bool acked = false;
			json_array_foreach (k->events, ai, a)
				acked = acked || api_int(a, "id") == id;
			if (acked)
				continue;
			size_t m = 0;
			const char *type = api_str(e, "type");
			while (m < json_array_size(left) &&
			       strcmp(json_string_value(json_array_get(left, m)), type ? type : ""))
				m++;
			if (m == json_array_size(left)) {
				char *d = dump(e);
				failure("case %s: an event nobody sent is stored: %s", k->code, d);
				free(d);
			} else {
				json_array_remove(left, m);
			}
		}
		json_decref(left);
		/* The case as the last answered write gave it, when nothing came after that. */
		int64_t last_id = api_int(json_array_get(stored, n - 1), "id");
		if (k->last && ((k->last_event == 0 && n == 1) || last_id == k->last_event) &&
		    !json_equal(k->last, r.json)) {
			char *w = dump(k->last), *g = dump(r.json);
			failure("case %s: answered %s, stored %s", k->code, w, g);
			free(w);
			free(g);
		}
		bool moved = has_type(k->events, "pause") || has_type(k->unanswered, "pause");
		bool assigned = has_type(k->events, "assign") || has_type(k->unanswered, "assign");
		expect_created_as_sent(k, r.json, !moved, !assigned);
next:
		api_reply_free(&r);
		api_reply_free(&re);
	}
}

/* Every document: an acknowledged one stored once, as answered; an unanswered one at most once;
 * none stored that nobody sent. */
static void verify_docs(json_t *live_docs, struct tally *t)
{
	struct err e = { 0 };
	json_t *rows = api_db_query(&R.f, "SELECT symbol, count(*), min(id) FROM documents "
					  "GROUP BY symbol",
				    &e);
	json_t *by_symbol = json_object(), *row, *sent = json_object();
	size_t i;

	cr_assert(rows, "%s", e.msg);
	json_array_foreach (rows, i, row) {
		const char *symbol = json_string_value(json_array_get(row, 0));
		if (json_integer_value(json_array_get(row, 1)) != 1)
			failure("document %s is stored %lld times", symbol ? symbol : "(null)",
				(long long)json_integer_value(json_array_get(row, 1)));
		json_object_set(by_symbol, symbol ? symbol : "", json_array_get(row, 2));
	}
	for (int ci = 0; ci <= NCLIENTS; ci++) {
		struct client *c = &R.clients[ci];
		for (size_t di = 0; di < c->ndocs; di++) {
			struct doc *d = &c->docs[di];
			json_t *id = json_object_get(by_symbol, d->symbol);
			json_object_set_new(sent, d->symbol, json_true());
			if (!d->answer) {
				t->docs_unanswered++;
				t->docs_unanswered_kept += id != NULL;
			} else if (!id) {
				failure("document %s: acknowledged (id %lld), not stored",
					d->symbol, (long long)api_int(d->answer, "id"));
				continue;
			} else if (json_integer_value(id) != api_int(d->answer, "id")) {
				failure("document %s: acknowledged as id %lld, stored as %lld",
					d->symbol, (long long)api_int(d->answer, "id"),
					(long long)json_integer_value(id));
			}
			if (!id)
				continue;
			struct api_reply r = { 0 };
			char path[100];
			snprintf(path, sizeof(path), "/api/v1/documents/%lld",
				 (long long)json_integer_value(id));
			if (get(path, &r) == 200 && r.json) {
				json_object_set(live_docs, d->symbol, r.json);
				if (d->answer && !json_equal(d->answer, r.json)) {
					char *w = dump(d->answer), *g = dump(r.json);
					failure("document %s: answered %s, stored %s", d->symbol, w,
						g);
					free(w);
					free(g);
				}
			} else {
				failure("GET %s answered %d: %.300s", path, r.status, r.resp.body);
			}
			api_reply_free(&r);
		}
	}
	const char *symbol;
	json_t *v;
	json_object_foreach (by_symbol, symbol, v)
		if (!json_object_get(sent, symbol))
			failure("document %s is stored, and nobody sent it", symbol);
	json_decref(sent);
	json_decref(by_symbol);
	json_decref(rows);
}

/* No case stored that nobody sent. */
static void verify_no_stray_cases(void)
{
	struct err e = { 0 };
	json_t *rows = api_db_query(&R.f, "SELECT code FROM cases", &e), *row;
	json_t *sent = json_object();
	size_t i;

	cr_assert(rows, "%s", e.msg);
	for (int ci = 0; ci <= NCLIENTS; ci++)
		for (size_t k = 0; k < R.clients[ci].ncases; k++)
			json_object_set_new(sent, R.clients[ci].cases[k].code, json_true());
	json_array_foreach (rows, i, row) {
		const char *code = json_string_value(json_array_get(row, 0));
		if (!code || !json_object_get(sent, code))
			failure("case %s is stored, and nobody sent it", code ? code : "(null)");
	}
	json_decref(sent);
	json_decref(rows);
}

/* Every open item overdue by more than its last rule has its alert for its deadline (catch-up
 * after the restarts included): the "late" alert of a case, the "doc-due" alert of a document.
 * Waits at most SETTLE_BOUND_MS for the scheduler. */
static void verify_no_missed_alert(json_t *live, json_t *live_docs)
{
	int64_t now = now_s();
	json_t *want = json_object();
	const char *key;
	json_t *v;

	json_object_foreach (live, key, v) {
		const char *status = api_str(v, "status");
		int64_t due = api_parse_instant(api_str(v, "due_at"));
		if (status && (!strcmp(status, "received") || !strcmp(status, "in_progress")) &&
		    due + 1 + 2 < now)
			json_object_set_new(want, key, json_string("case"));
	}
	json_object_foreach (live_docs, key, v) {
		const char *status = api_str(v, "status");
		int64_t due = api_parse_instant(api_str(v, "due_at"));
		if (status && strcmp(status, "done") && due + 2 < now) {
			char id[32];
			snprintf(id, sizeof(id), "%lld", (long long)api_int(v, "id"));
			json_object_set_new(want, id, json_string(key));
		}
	}
	double until = now_mono() + SETTLE_BOUND_MS / 1000.0;
	for (;;) {
		struct err e = { 0 };
		json_t *rows = api_db_query(
			&R.f,
			"SELECT c.code FROM alerts a JOIN cases c ON a.item_kind = 'case' AND "
			"a.item_id = c.id AND a.due_at = c.due_at WHERE a.rule_id = 'late' "
			"UNION SELECT CAST(d.id AS TEXT) FROM alerts a JOIN documents d ON "
			"a.item_kind = 'document' AND a.item_id = d.id AND a.due_at = d.due_at "
			"WHERE a.rule_id = 'doc-due'",
			&e),
		       *row;
		size_t i;
		cr_assert(rows, "%s", e.msg);
		json_array_foreach (rows, i, row)
			json_object_del(want, json_string_value(json_array_get(row, 0)));
		json_decref(rows);
		if (!json_object_size(want) || now_mono() > until)
			break;
		api_sleep_ms(100);
	}
	json_object_foreach (want, key, v)
		failure("%s %s: open and overdue, and no alert for its deadline after %d s",
			strcmp(json_string_value(v), "case") ? "document" : "case",
			strcmp(json_string_value(v), "case") ? json_string_value(v) : key,
			SETTLE_BOUND_MS / 1000);
	json_decref(want);
}

/* POST path with a complete event (expected_version version); counts it in t. */
static void complete(const char *path, int64_t version, struct tally *t)
{
	struct api_reply r = { 0 };
	struct err e = { 0 };

	if (api_jsonf(&R.f, "POST", path, API_MOTCUA, &r, &e,
		      "{\"type\": \"complete\", \"expected_version\": %lld}",
		      (long long)version) != 0)
		failure("POST %s: no answer: %s", path, e.msg);
	else if (r.status != 201)
		failure("POST %s: answered %d: %.300s", path, r.status, r.resp.body);
	else
		t->closing++;
	api_reply_free(&r);
}

/* Completes every open case and document due before a minute from now, so that no alert comes
 * after the outbox is judged. */
static void close_open_items(json_t *live, json_t *live_docs, struct tally *t)
{
	int64_t soon = now_s() + 60;
	const char *key;
	char path[120];
	json_t *v;

	json_object_foreach (live, key, v) {
		const char *status = api_str(v, "status");
		if (status && (!strcmp(status, "received") || !strcmp(status, "in_progress")) &&
		    api_parse_instant(api_str(v, "due_at")) <= soon) {
			snprintf(path, sizeof(path), "/api/v1/cases/%s/events", key);
			complete(path, api_int(v, "version"), t);
		}
	}
	json_object_foreach (live_docs, key, v) {
		const char *status = api_str(v, "status");
		if (status && strcmp(status, "done") &&
		    api_parse_instant(api_str(v, "due_at")) <= soon) {
			snprintf(path, sizeof(path), "/api/v1/documents/%lld/events",
				 (long long)api_int(v, "id"));
			complete(path, api_int(v, "version"), t);
		}
	}
}

/* Waits until every outbox row is sent (bounded). */
static void wait_outbox_sent(void)
{
	double until = now_mono() + SETTLE_BOUND_MS / 1000.0;
	struct err e = { 0 };
	int64_t left;

	while ((left = api_db_int(&R.f, "SELECT count(*) FROM outbox WHERE status <> 'sent'",
				  &e)) != 0) {
		cr_assert_geq(left, 0, "%s", e.msg);
		if (now_mono() > until) {
			json_t *rows = api_db_query(
				&R.f,
				"SELECT id, channel, recipient, status, attempts, last_error FROM "
				"outbox WHERE status <> 'sent' LIMIT 20",
				&e);
			char *d = dump(rows);
			failure("%lld outbox rows not sent %d s after the last restart: %.1200s",
				(long long)left, SETTLE_BOUND_MS / 1000, d);
			free(d);
			json_decref(rows);
			return;
		}
		api_sleep_ms(100);
	}
}

struct delivery_tally {
	long rows, email_rows, chat_rows, smtp_messages, webhook_requests;
	long rows_repeated, repeats;
};

/* What each outbox row became at the receivers. */
struct received {
	int64_t id;
	char channel[8];
	char recipient[40];
	char address[120];
	int count;
	char *key; /* the first Message-ID / Idempotency-Key */
};

static int by_id(const void *a, const void *b)
{
	const struct received *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

static struct received *find_row(struct received *rows, size_t n, int64_t id)
{
	struct received key = { .id = id };
	return bsearch(&key, rows, n, sizeof(*rows), by_id);
}

/* One receipt of row id with identity key; what is received must be a row's, every repeat of a
 * row with its first identity. */
static void receipt(struct received *rows, size_t n, int64_t id, const char *key, const char *what)
{
	struct received *row = find_row(rows, n, id);

	if (!row) {
		failure("%s with %s: no outbox row %lld", what, key, (long long)id);
		return;
	}
	if (row->count++ == 0) {
		row->key = strdup(key);
		cr_assert(row->key);
	} else if (strcmp(row->key, key)) {
		failure("outbox %lld: a repeat carried %s, the first %s", (long long)id, key,
			row->key);
	}
}

static void verify_delivery(struct delivery_tally *dt)
{
	struct err e = { 0 };
	json_t *rows = api_db_query(&R.f,
				    "SELECT id, channel, recipient, coalesce(address, ''), status "
				    "FROM outbox ORDER BY id",
				    &e),
	       *row;
	size_t n = json_array_size(rows), i;

	cr_assert(rows, "%s", e.msg);
	struct received *got = calloc(n ? n : 1, sizeof(*got));
	cr_assert(got);
	json_array_foreach (rows, i, row) {
		got[i].id = json_integer_value(json_array_get(row, 0));
		snprintf(got[i].channel, sizeof(got[i].channel), "%s",
			 json_string_value(json_array_get(row, 1)));
		snprintf(got[i].recipient, sizeof(got[i].recipient), "%s",
			 json_string_value(json_array_get(row, 2)));
		snprintf(got[i].address, sizeof(got[i].address), "%s",
			 json_string_value(json_array_get(row, 3)));
		const char *status = json_string_value(json_array_get(row, 4));
		if (strcmp(status, "sent"))
			failure("outbox %lld is %s at the end", (long long)got[i].id, status);
		if (!strcmp(got[i].channel, "email"))
			dt->email_rows++;
		else
			dt->chat_rows++;
	}
	dt->rows = (long)n;

	/* E-mail: the row is in the Message-ID, <outbox-ID.HASH@dunghan.DOMAIN>. */
	int nmsg = smtp_server_count(R.smtp);
	for (int k = 1; k <= nmsg; k++) {
		json_t *m = smtp_server_message(R.smtp, k, &e);
		cr_assert(m, "%s", e.msg);
		char *mid = smtp_header(api_str(m, "data"), "Message-ID");
		const char *rcpt = api_str(m, "rcpt_tos.0");
		long long id = -1;
		if (!mid || sscanf(mid, "<outbox-%lld.", &id) != 1) {
			failure("an e-mail without a dunghan Message-ID: %s", mid ? mid : "(none)");
		} else {
			struct received *r = find_row(got, n, id);
			if (r && (strcmp(r->channel, "email") || !rcpt || strcmp(rcpt, r->address)))
				failure("an e-mail %s to %s, for outbox %lld (%s to %s)", mid,
					rcpt ? rcpt : "(none)", id, r->channel, r->address);
			receipt(got, n, id, mid, "an e-mail");
		}
		free(mid);
		json_decref(m);
	}
	dt->smtp_messages = nmsg;

	/* Webhooks: Idempotency-Key dunghan-outbox-ID; the path says the channel. */
	int nreq = listener_requests(R.listener, "", NULL, 0);
	const struct listener_request **req = calloc((size_t)nreq + 1, sizeof(*req));
	cr_assert(req);
	listener_requests(R.listener, "", req, nreq);
	for (int j = 0; j < nreq; j++) {
		char *key = listener_header(req[j]->head, "Idempotency-Key");
		long long id = -1;
		if (!key || sscanf(key, "dunghan-outbox-%lld", &id) != 1) {
			failure("a webhook request to %s without a dunghan Idempotency-Key: %s",
				req[j]->path, key ? key : "(none)");
			free(key);
			continue;
		}
		struct received *r = find_row(got, n, id);
		const char *want = !strncmp(req[j]->path, "/slack/", 7) ? "t-slack"
				   : !strncmp(req[j]->path, "/json/", 6) ? "t-json"
									  : "?";
		if (r && (strcmp(r->channel, "chat") || strcmp(r->recipient, want)))
			failure("a webhook request to %s for outbox %lld (%s to %s)", req[j]->path,
				id, r->channel, r->recipient);
		receipt(got, n, id, key, "a webhook request");
		free(key);
	}
	dt->webhook_requests = nreq;
	free(req);

	/* Each row received at least once; identities distinct between rows. */
	json_t *keys = json_object();
	for (size_t k = 0; k < n; k++) {
		if (!got[k].count) {
			failure("outbox %lld (%s to %s) is sent and was never received",
				(long long)got[k].id, got[k].channel, got[k].recipient);
			continue;
		}
		if (got[k].count > 1) {
			dt->rows_repeated++;
			dt->repeats += got[k].count - 1;
		}
		json_t *other = json_object_get(keys, got[k].key);
		if (other)
			failure("outbox %lld and %lld carried the same identity %s",
				(long long)json_integer_value(other), (long long)got[k].id,
				got[k].key);
		json_object_set_new(keys, got[k].key, json_integer(got[k].id));
		free(got[k].key);
	}
	json_decref(keys);
	free(got);
	json_decref(rows);
}

static void verify_alerts(long *alerts, long *repeats)
{
	struct err e = { 0 };
	json_t *dup = api_db_query(
		&R.f,
		"SELECT item_kind, item_id, rule_id, due_at, occurrence, count(*) FROM alerts "
		"GROUP BY 1, 2, 3, 4, 5 HAVING count(*) > 1",
		&e);

	cr_assert(dup, "%s", e.msg);
	if (json_array_size(dup)) {
		char *d = dump(dup);
		failure("%zu alerts exist twice (item_kind, item_id, rule, due_at, occurrence, "
			"count): %.1000s",
			json_array_size(dup), d);
		free(d);
	}
	json_decref(dup);
	*alerts = (long)api_db_int(&R.f, "SELECT count(*) FROM alerts", &e);
	*repeats = (long)api_db_int(&R.f, "SELECT count(*) FROM alerts WHERE occurrence > 0", &e);
}

/* ============================================================================================
 * The test. */

static void teardown(void)
{
	stop_clients();
	if (R.f.h.dir[0])
		api_fixture_close(&R.f);
	listener_free(R.listener);
	R.listener = NULL;
	smtp_server_stop(R.smtp);
	R.smtp = NULL;
	for (int ci = 0; ci <= NCLIENTS; ci++) {
		struct client *c = &R.clients[ci];
		for (size_t i = 0; i < c->ncases; i++) {
			free(c->cases[i].body);
			json_decref(c->cases[i].last);
			json_decref(c->cases[i].events);
			json_decref(c->cases[i].unanswered);
		}
		for (size_t i = 0; i < c->ndocs; i++) {
			free(c->docs[i].body);
			json_decref(c->docs[i].answer);
		}
		free(c->cases);
		free(c->docs);
		free(c->doubt);
		free(c->hot);
		http_client_free(c->conn);
	}
	free(R.failures);
	if (R.wh_ready)
		harness_close(&R.wh);
	memset(&R, 0, sizeof(R));
}

TestSuite(crash, .fini = teardown);

static int cycles_wanted(void)
{
	const char *s = getenv("CRASH_CYCLES");
	char *end;
	long n = s ? strtol(s, &end, 10) : DEFAULT_CYCLES;

	cr_assert(!s || (*s && !*end && n >= 1 && n <= 1000000),
		  "CRASH_CYCLES=%s: expected a number of cycles from 1 to 1000000", s);
	return (int)n;
}

static uint64_t seed_wanted(void)
{
	const char *s = getenv("CRASH_SEED");
	char *end;

	if (s) {
		unsigned long long v = strtoull(s, &end, 10);
		cr_assert(*s && !*end, "CRASH_SEED=%s: expected a decimal number", s);
		return v;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000000007ULL ^ (uint64_t)ts.tv_nsec ^
		(uint64_t)getpid() << 20) %
	       1000000000ULL;
}

static void start_all(void)
{
	struct err e = { 0 };
	char email[300], channels[1600];

	R.wh.notify_fd = -1;
	cr_assert_eq(harness_init(&R.wh), 0, "harness_init");
	R.wh_ready = true;
	cr_assert_eq(harness_write(&R.wh, "json-secret", JSON_SECRET), 0);
	harness_path(&R.wh, "smtp-hold", R.smtp_hold, sizeof(R.smtp_hold));
	R.listener = listener_new(&e);
	cr_assert(R.listener, "%s", e.msg);
	int smtp_port = harness_free_port();
	cr_assert_gt(smtp_port, 0, "no free port");
	R.smtp = smtp_server_start(&R.wh, "smtp", smtp_port,
				   (const char *const[]){ "--hold", R.smtp_hold, NULL }, &e);
	cr_assert(R.smtp, "%s", e.msg);
	snprintf(email, sizeof(email),
		 "transport = \"smtp\"; url = \"smtp://127.0.0.1:%d\"; tls = \"none\"; "
		 "from = \"Đúng Hạn <dunghan@dongnai.gov.vn>\";",
		 smtp_port);
	char secret[700];
	harness_path(&R.wh, "json-secret", secret, sizeof(secret));
	snprintf(channels, sizeof(channels),
		 "  { id = \"t-slack\"; type = \"slack\";\n"
		 "    url = \"http://127.0.0.1:%d/slack/hook\"; },\n"
		 "  { id = \"t-json\"; type = \"json\";\n"
		 "    url = \"http://127.0.0.1:%d/json/dunghan\"; secret_file = \"%s\"; }",
		 listener_port(R.listener), listener_port(R.listener), secret);
	struct api_options o = { .extra = RULES,
				 .calendar = API_RTC_CALENDAR,
				 .delivery = DELIVERY,
				 .email = email,
				 .channels = channels,
				 .log_level = "warn" };
	cr_assert_eq(api_fixture_start(&R.f, &o, &e), 0, "starting dunghand: %s", e.msg);
	R.port = R.f.port;
	R.up = true;
	atomic_store(&R.stop, false);
	for (int i = 0; i <= NCLIENTS; i++) {
		R.clients[i].idx = i;
		R.clients[i].rng = R.seed * 1000003ULL + (uint64_t)i * 0x9e3779b97f4a7c15ULL;
	}
	for (int i = 0; i < NCLIENTS; i++) {
		cr_assert_eq(pthread_create(&R.clients[i].thread, NULL, client_main, &R.clients[i]),
			     0);
		R.clients[i].started = true;
	}
}

Test(crash, loop)
{
	double t0 = now_mono();

	R.cycles = cycles_wanted();
	R.seed = seed_wanted();
	R.rng = R.seed;
	fprintf(stderr, "crash loop: seed %llu (CRASH_SEED=%llu repeats the choices), %d cycles\n",
		(unsigned long long)R.seed, (unsigned long long)R.seed, R.cycles);
	start_all();
	for (int i = 1; i <= R.cycles; i++) {
		enum mode mode = pick_mode();
		cycle(i, mode);
		long acked = 0;
		for (int ci = 0; ci <= NCLIENTS; ci++) {
			struct counts *n = &R.clients[ci].n;
			acked += n->cases + n->batch_lines + n->events + n->docs;
		}
		struct err e = { 0 };
		int64_t backlog = api_db_int(&R.f, "SELECT count(*) FROM outbox WHERE status IN "
						   "('pending', 'sending')", &e);
		fprintf(stderr, "crash loop: cycle %d/%d: killed %s (%.1f s, about %ld writes "
				"acknowledged, %lld messages waiting)\n",
			i, R.cycles, mode_names[mode], now_mono() - t0, acked, (long long)backlog);
	}
	stop_clients();
	double t_writes = now_mono() - t0;

	/* After the last restart, with no more writes: what was acknowledged is there. */
	struct tally t = { 0 };
	json_t *live = json_object(), *live_docs = json_object();
	for (int ci = 0; ci <= NCLIENTS; ci++)
		verify_cases(&R.clients[ci], live, &t);
	verify_docs(live_docs, &t);
	verify_no_stray_cases();
	verify_no_missed_alert(live, live_docs);
	close_open_items(live, live_docs, &t);
	json_decref(live);
	json_decref(live_docs);
	wait_outbox_sent();
	struct err e = { 0 };
	cr_assert_eq(api_fixture_stop(&R.f, &e), 0, "stopping dunghand: %s", e.msg);

	/* The file, with the daemon stopped. */
	check_integrity("at the end", false);
	long alerts = 0, alert_repeats = 0;
	verify_alerts(&alerts, &alert_repeats);
	struct delivery_tally dt = { 0 };
	verify_delivery(&dt);

	struct counts sum = { 0 };
	for (int ci = 0; ci <= NCLIENTS; ci++) {
		struct counts *n = &R.clients[ci].n;
		sum.cases += n->cases;
		sum.batch_lines += n->batch_lines;
		sum.events += n->events;
		sum.docs += n->docs;
		sum.unanswered += n->unanswered;
	}
	fprintf(stderr,
		"crash loop: summary: seed %llu, %d cycles in %.0f s (+%.0f s of checks): %s\n"
		"crash loop:   kills: %d at random, %d after a burst was sent, %d at a burst's "
		"first answer, %d after a webhook arrived, %d with a webhook held, %d after an "
		"e-mail arrived, %d with an e-mail held (%d chosen moments did not come within "
		"%d s)\n"
		"crash loop:   writes acknowledged: %ld (%ld cases, %ld batch lines, %ld case "
		"events, %ld documents), then %ld closing events\n"
		"crash loop:   requests without an answer: %ld; their creates: %ld kept, %ld not; "
		"their case events: %ld sent, %ld kept; their documents: %ld sent, %ld kept\n"
		"crash loop:   file checks: integrity_check after %d kills and at the end, "
		"quick_check after the other %d\n"
		"crash loop:   alerts: %ld (%ld repeat occurrences)\n"
		"crash loop:   messages: %ld outbox rows (%ld e-mail, %ld chat); received %ld "
		"e-mails and %ld webhook requests; %ld rows delivered more than once (%ld "
		"repeats)\n",
		(unsigned long long)R.seed, R.cycles, t_writes, now_mono() - t0 - t_writes,
		R.nfailures ? "FAILED, see the failures above"
			    : "0 acknowledged writes lost or changed, 0 alerts twice, 0 missed, 0 "
			      "messages lost, every repeat with its row's Message-ID / "
			      "Idempotency-Key, the file ok after every kill",
		R.modes[KILL_RANDOM], R.modes[KILL_BURST_SENT], R.modes[KILL_BURST_ANSWERED],
		R.modes[KILL_WEBHOOK_RECEIVED], R.modes[KILL_WEBHOOK_HELD],
		R.modes[KILL_SMTP_RECEIVED], R.modes[KILL_SMTP_HELD], R.fallbacks,
		EVENT_BOUND_MS / 1000, sum.cases + sum.batch_lines + sum.events + sum.docs,
		sum.cases, sum.batch_lines, sum.events, sum.docs, t.closing, sum.unanswered,
		t.unanswered_kept, t.unanswered_absent, t.unanswered_events,
		t.unanswered_events_kept, t.docs_unanswered, t.docs_unanswered_kept, R.full_checks,
		R.cycles - R.full_checks, alerts, alert_repeats, dt.rows, dt.email_rows,
		dt.chat_rows, dt.smtp_messages, dt.webhook_requests, dt.rows_repeated, dt.repeats);
	cr_assert_eq(R.nfailures, 0, "%d failures (seed %llu; the first %d):\n%s", R.nfailures,
		     (unsigned long long)R.seed, MAX_FAILURES_SHOWN,
		     R.failures ? R.failures : "");
}
