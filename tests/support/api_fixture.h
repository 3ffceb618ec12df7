/* api_fixture: what the black-box API tests and the ingest benchmark share — the real dunghand
 * started on a free loopback port with a temporary database and a config that copies the
 * example's units, people, procedures and tokens (config/dunghan.conf.example) with the official
 * 2024-2026 holiday schedules; JSON requests with a token on a kept-alive connection; raw
 * connections for malformed requests; and a read-only look at the SQLite file to check that a
 * rejected request changed nothing.
 *
 * Nothing here uses Criterion (the benchmark links it too): functions return -1 and fill err,
 * and the tests assert. Every wait is bounded (API_BOUND_MS or the client's timeout). */
#ifndef DUNGHAN_API_FIXTURE_H
#define DUNGHAN_API_FIXTURE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "harness.h"
#include "http_client.h"

/* The example config's tokens (docs/api.md) and the names recorded as actors. */
#define API_MOTCUA "motcua-dev-token"   /* read, write; actor "motcua" */
#define API_VANTHU "vanthu-dev-token"   /* read, write; actor "vanthu" */
#define API_BAOCAO "baocao-dev-token"   /* read; actor "baocao" */
#define API_ADMIN "admin-dev-token"     /* admin; actor "quantri" */

#define API_BOUND_MS 10000

struct api_options {
	const char *server;    /* settings added inside server: { }, e.g. "header_timeout = 0.3;" */
	const char *extra;     /* text added to the config at top level (other sections), or NULL */
	const char *log_level; /* NULL: "info" */
	const char *delivery;  /* settings inside delivery: { }; NULL: "enabled = false;" (the
	                        * outbox fills, nothing is sent: tests that read it see it still) */
	/* The settings inside calendar: { } (replacing the default: the example's calendar with
	 * absolute paths to the 2024-2026 schedules), e.g. "week = [\"mon\"]; ...", or NULL. */
	const char *calendar;
	/* Edits of the example's office (units, people, procedures, tokens): a NULL-ended list of
	 * pairs {old, new, old, new, ..., NULL}; each old text must occur and its first occurrence
	 * is replaced by new (e.g. a person's `unit = "hctc"; }` by `unit = "hctc"; notify =
	 * "digest"; }`). NULL: the office as it is. */
	const char *const *office_edits;
	/* The settings inside email: { } (e.g. "transport = \"smtp\"; url = ...;"), or NULL: no
	 * email section. */
	const char *email;
	/* Channel definitions added at the head of the office's channels list, without a trailing
	 * comma (e.g. "{ id = \"t-slack\"; type = \"slack\"; url = \"http://127.0.0.1:P/s\"; }"),
	 * or NULL. */
	const char *channels;
};

/* The settings inside calendar: { } of a round-the-clock office (every day, 00:00-24:00, no
 * holidays): working time is wall-clock time, so that a rule can fire seconds from now. */
#define API_RTC_CALENDAR                                                                         \
	"  timezone = \"Asia/Ho_Chi_Minh\";\n"                                                   \
	"  week = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\", \"sun\"];\n"         \
	"  office_hours = [\"00:00-24:00\"];\n"                                                  \
	"  statutory_holidays = false;\n"                                                        \
	"  include = [];\n"

struct api_fixture {
	struct harness h;
	struct harness_proc proc;
	int port;
	char conf[600];
	char db[600];
	bool running;
	struct http_client *conn; /* the kept-alive connection of api_call(), or NULL */
};

/* One answer. api_reply_free() releases it; a zeroed reply may be freed. */
struct api_reply {
	int status;
	json_t *json;                     /* the parsed body, NULL when it is not JSON */
	struct http_client_response resp; /* headers and the raw body */
};

/* Zeroes f, creates the temporary directory, writes dunghan.conf and starts dunghand -c it,
 * waiting for READY=1 at most API_BOUND_MS. o may be NULL. On failure err says why (with the
 * daemon's log) and api_fixture_close() must still be called. */
int api_fixture_start(struct api_fixture *f, const struct api_options *o, struct err *err);

/* SIGTERM, then expects exit status 0 within API_BOUND_MS and a log without "Sanitizer" or
 * "runtime error". Returns 0, or -1 with err. */
int api_fixture_stop(struct api_fixture *f, struct err *err);

/* Starts dunghand again on the same config and database, after api_fixture_stop() or
 * api_fixture_crash(), waiting for its READY=1 at most API_BOUND_MS. Returns 0 or -1 with err. */
int api_fixture_restart(struct api_fixture *f, struct err *err);

/* kill -9: SIGKILL, then reaps the daemon (at most API_BOUND_MS). Returns 0 or -1 with err. */
int api_fixture_crash(struct api_fixture *f, struct err *err);

/* Waits at most API_BOUND_MS for the daemon to end by itself and reaps it. Returns its exit
 * status (128 + signal when killed), or -1 with err when it still runs (then killed). */
int api_fixture_exited(struct api_fixture *f, struct err *err);

/* Runs dunghanctl -c <the fixture's config> args... (NULL-ended); *out (malloc'd, the caller
 * frees it) gets its output (stdout and stderr). Returns the exit status, or -1 with err. */
int api_fixture_ctl(struct api_fixture *f, const char *const *args, char **out,
		    struct err *err);

/* Writes the config api_fixture_start() would write for o (in a temporary directory removed
 * afterwards) and runs `dunghand --check-config -c` on it; *out (malloc'd, the caller frees it)
 * gets its output. Returns the exit status, or -1 with err. */
int api_check_config(const struct api_options *o, char **out, struct err *err);

/* Kills the daemon if it still runs, closes the connection, removes the directory. */
void api_fixture_close(struct api_fixture *f);

/* The daemon's log so far (malloc'd; "" when unreadable). */
char *api_fixture_log(const struct api_fixture *f);

/* A new connection to the daemon (the caller frees it), with timeout_ms (<= 0: the default). */
struct http_client *api_connect(const struct api_fixture *f, int timeout_ms, struct err *err);

/* Sends one request on the fixture's kept-alive connection (30 s timeout; reconnecting when the
 * server closed it) and reads the answer into *r (freed first). token NULL: no Authorization; content_type NULL:
 * no Content-Type; body NULL: no body. extra_headers: NULL-ended "Name: value" or NULL.
 * Returns 0 when an answer was read (whatever its status), -1 with err otherwise. */
int api_call(struct api_fixture *f, const char *method, const char *path, const char *token,
	     const char *content_type, const char *body, size_t len,
	     const char *const *extra_headers, struct api_reply *r, struct err *err);

/* api_call() on a connection of the caller's, for tests with several client threads: *conn
 * (NULL: a new one to 127.0.0.1:port is made, with timeout_ms; <= 0: the default) is kept
 * alive, and freed and set to NULL when the server asks to close it or on an error. Unlike
 * api_call(), a request whose sending failed is not sent again on a new connection: a crash
 * test must know each request that the daemon may have seen. Returns 0 when an answer was read,
 * -1 with err otherwise. */
int api_call_conn(struct http_client **conn, int port, int timeout_ms, const char *method,
		  const char *path, const char *token, const char *content_type, const char *body,
		  size_t len, const char *const *extra_headers, struct api_reply *r,
		  struct err *err);

/* api_call() with Content-Type: application/json and the JSON text json (NULL: no body). */
int api_json(struct api_fixture *f, const char *method, const char *path, const char *token,
	     const char *json, struct api_reply *r, struct err *err);

/* The same with a printf format for the body. */
int api_jsonf(struct api_fixture *f, const char *method, const char *path, const char *token,
	      struct api_reply *r, struct err *err, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

void api_reply_free(struct api_reply *r);

/* The value at a dotted path ("case.due_at", "error.code", "results.2.status") of json, or NULL.
 * Array elements are addressed by their decimal index. */
json_t *api_get(json_t *json, const char *path);
/* The string at path, or NULL when absent or not a string. */
const char *api_str(json_t *json, const char *path);
/* The integer at path, or INT64_MIN when absent or not an integer. */
int64_t api_int(json_t *json, const char *path);
/* True when path exists and holds JSON null. */
bool api_is_null(json_t *json, const char *path);

/* What the database holds, for "a rejected request changes nothing": a hash of every row of
 * every table except the ones synced from config (units, people, procedures) and the ones the
 * daemon's background work writes on its own clock (escalation: watch, alerts, outbox; any name
 * with notif, remind, escalat, job, mail, sms; scheduler_state), and a summary "table=rows ..." of the same
 * tables. */
struct api_db_state {
	uint64_t hash;
	char summary[2048];
};

/* Reads the state through a read-only connection. Returns 0 or -1 with err. */
int api_db_state(const struct api_fixture *f, struct api_db_state *s, struct err *err);

/* The single integer answer of sql (read-only), or -1 with err (e.g. no such table). */
int64_t api_db_int(const struct api_fixture *f, const char *sql, struct err *err);

/* Every row of sql (read-only) as a new array of arrays, a value per column (integer, real,
 * string, or null; a blob as a string), or NULL with err. */
json_t *api_db_query(const struct api_fixture *f, const char *sql, struct err *err);

/* Seconds since the epoch of an RFC 3339 instant with an offset or Z, or INT64_MIN. */
int64_t api_parse_instant(const char *s);

/* now + delta_s as "YYYY-MM-DDTHH:MM:SS+07:00" into buf. */
void api_instant_from_now(char *buf, size_t n, int64_t delta_s);

/* The instant t (seconds since the epoch) as "YYYY-MM-DDTHH:MM:SS+07:00" into buf. */
void api_format_instant(char *buf, size_t n, int64_t t);

/* Sleeps ms milliseconds: between two polls of a bounded wait, never to hope that an event
 * has happened. */
void api_sleep_ms(int ms);

/* Sends n requests at once, one per new connection (bodies[i], NULL-ended headers), before
 * reading any answer, so that the daemon sees them in the same loop turns; then reads every
 * answer into replies[i] (zeroed by the caller, freed with api_reply_free). Returns 0 when every
 * answer was read, -1 with err otherwise. */
int api_fan_out(const struct api_fixture *f, size_t n, const char *method, const char *path,
		const char *const *headers, const char *const bodies[], struct api_reply replies[],
		struct err *err);

/* Percent-encodes every byte of s but the unreserved ones (RFC 3986), for query values.
 * Returns a malloc'd string. */
char *api_url_encode(const char *s);

/* --- Criterion glue ------------------------------------------------------------------------
 * For test files that include <criterion/criterion.h> before this header. Each helper asserts,
 * and its message names the request and shows the answer. Values kept with api_t_keep() live
 * until api_t_teardown(). */
#ifdef CRITERION_H_
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct api_t {
	struct api_fixture f;
	struct api_reply r;
	json_t *kept;
	char last[300]; /* "METHOD path" of the last request */
};

static inline void api_t_start(struct api_t *t, const struct api_options *o)
{
	struct err e = { 0 };
	int rc = api_fixture_start(&t->f, o, &e);

	t->kept = json_array();
	cr_assert_eq(rc, 0, "starting dunghand: %s", e.msg);
}

/* Starts dunghand with an escalation section of the shipped templates, link_base, `settings`
 * and `rules` (the section's rule lists, e.g. "cases = ( ... );"), with calendar (NULL: the
 * fixture's office calendar) and the office edits (NULL-ended pairs, or NULL). */
static inline void api_t_start_escalation(struct api_t *t, const char *calendar,
					  const char *link_base, const char *settings,
					  const char *rules, const char *const *edits)
{
	char *extra;

	cr_assert_geq(asprintf(&extra,
			       "escalation: {\n  templates = \"" DUNGHAN_SOURCE_DIR
			       "/config/templates\";\n  link_base = \"%s\";\n  %s\n  %s\n};\n",
			       link_base, settings ? settings : "", rules),
		      0);
	struct api_options o = { .extra = extra, .calendar = calendar, .office_edits = edits };
	api_t_start(t, &o);
	free(extra);
}

/* Stops the daemon and expects a clean exit 0. */
static inline void api_t_stop(struct api_t *t)
{
	struct err e = { 0 };
	cr_assert_eq(api_fixture_stop(&t->f, &e), 0, "stopping dunghand: %s", e.msg);
}

static inline void api_t_teardown(struct api_t *t)
{
	api_reply_free(&t->r);
	if (t->kept)
		json_decref(t->kept);
	t->kept = NULL;
	api_fixture_close(&t->f);
}

/* Keeps v (a new reference, or NULL) until teardown; returns it. */
static inline json_t *api_t_keep(struct api_t *t, json_t *v)
{
	if (v)
		json_array_append_new(t->kept, v);
	return v;
}

/* Sends a request and expects status; returns the parsed answer (valid until the next request). */
static inline json_t *api_t_call(struct api_t *t, const char *method, const char *path,
				 const char *token, const char *content_type, const char *body,
				 size_t len, int status)
{
	struct err e = { 0 };
	int rc;

	snprintf(t->last, sizeof(t->last), "%s %s", method, path);
	rc = api_call(&t->f, method, path, token, content_type, body, len, NULL, &t->r, &e);
	cr_assert_eq(rc, 0, "%s: no answer: %s", t->last, e.msg);
	cr_assert_eq(t->r.status, status, "%s %.300s\n→ %d, expected %d: %.800s", t->last,
		     body ? body : "", t->r.status, status, t->r.resp.body);
	const char *ctype = http_client_header(&t->r.resp, "Content-Type");
	cr_assert(ctype && !strncmp(ctype, "application/json", 16),
		  "%s → %d with Content-Type %s", t->last, status, ctype ? ctype : "(none)");
	cr_assert(t->r.json, "%s → %d: the body is not JSON: %.300s", t->last, status,
		  t->r.resp.body);
	return t->r.json;
}

/* The same with a JSON body (NULL: none). */
static inline json_t *api_t_req(struct api_t *t, const char *method, const char *path,
				const char *token, const char *json, int status)
{
	return api_t_call(t, method, path, token, json ? "application/json" : NULL, json,
			  json ? strlen(json) : 0, status);
}

/* The same with a printf format for the JSON body. */
static inline json_t *api_t_reqf(struct api_t *t, const char *method, const char *path,
				 const char *token, int status, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
static inline json_t *api_t_reqf(struct api_t *t, const char *method, const char *path,
				 const char *token, int status, const char *fmt, ...)
{
	va_list ap;
	char *body;
	json_t *j;

	va_start(ap, fmt);
	cr_assert_geq(vasprintf(&body, fmt, ap), 0);
	va_end(ap);
	j = api_t_req(t, method, path, token, body, status);
	free(body);
	return j;
}

/* Expects the last answer to be the error {status, code, field}; field NULL: not checked. */
static inline void api_t_expect_error(struct api_t *t, int status, const char *code,
				      const char *field)
{
	json_t *j = t->r.json;
	const char *got = api_str(j, "error.code"), *msg = api_str(j, "error.message");

	cr_assert_eq(t->r.status, status, "%s → %d, expected %d: %.600s", t->last, t->r.status,
		     status, t->r.resp.body);
	cr_assert(got && !strcmp(got, code), "%s: error.code %s, expected %s: %.600s", t->last,
		  got ? got : "(none)", code, t->r.resp.body);
	cr_assert(msg && *msg, "%s: no error.message: %.600s", t->last, t->r.resp.body);
	if (field) {
		const char *f = api_str(j, "error.field");
		cr_assert(f && !strcmp(f, field), "%s: error.field %s, expected %s: %.600s",
			  t->last, f ? f : "(none)", field, t->r.resp.body);
	}
}

/* Expects the string at path of j to be want (NULL: JSON null). */
#define api_t_expect_str(j, path, want)                                                          \
	do {                                                                                     \
		json_t *j_ = (j);                                                                \
		const char *w_ = (want), *g_ = api_str(j_, path);                                \
		if (!w_)                                                                         \
			cr_assert(api_is_null(j_, path), "%s: expected null, got %s", path,      \
				  g_ ? g_ : "(not a string)");                                   \
		else                                                                             \
			cr_assert(g_ && !strcmp(g_, w_), "%s: got %s, expected %s", path,         \
				  g_ ? g_ : "(absent or not a string)", w_);                      \
	} while (0)

#define api_t_expect_int(j, path, want)                                                          \
	do {                                                                                     \
		int64_t g_ = api_int((j), path), w_ = (want);                                    \
		cr_assert_eq(g_, w_, "%s: got %lld, expected %lld", path, (long long)g_,         \
			     (long long)w_);                                                     \
	} while (0)

#define api_t_expect_bool(j, path, want)                                                         \
	do {                                                                                     \
		json_t *v_ = api_get((j), path);                                                 \
		cr_assert(json_is_boolean(v_) && json_is_true(v_) == (want),                     \
			  "%s: expected %s", path, (want) ? "true" : "false");                   \
	} while (0)

/* Every item of a paged list: GET path (with or without a query) with token, following
 * next_cursor, the items under key. Returns a new array, kept until teardown. */
static inline json_t *api_t_all(struct api_t *t, const char *path, const char *key,
				const char *token)
{
	json_t *all = api_t_keep(t, json_array());
	char *cursor = NULL, page[2000];

	for (int guard = 0; guard < 10000; guard++) {
		if (cursor)
			snprintf(page, sizeof(page), "%s%scursor=%s", path,
				 strchr(path, '?') ? "&" : "?", cursor);
		else
			snprintf(page, sizeof(page), "%s", path);
		free(cursor);
		cursor = NULL;
		json_t *j = api_t_req(t, "GET", page, token, NULL, 200);
		json_t *items = json_object_get(j, key), *next = json_object_get(j, "next_cursor");
		cr_assert(json_is_array(items), "%s: no array %s: %.300s", page, key, t->r.resp.body);
		cr_assert(next, "%s: no next_cursor member", page);
		json_array_extend(all, items);
		if (json_is_null(next))
			break;
		cr_assert(json_is_string(next), "%s: next_cursor is neither null nor a string", page);
		cursor = api_url_encode(json_string_value(next));
	}
	free(cursor);
	return all;
}

/* Every alert of the case with code, oldest first (a new array, kept until teardown). */
static inline json_t *api_t_case_alerts(struct api_t *t, const char *code)
{
	char path[200];

	snprintf(path, sizeof(path), "/api/v1/alerts?item=case:%s", code);
	return api_t_all(t, path, "alerts", API_BAOCAO);
}

/* Registers a case of procedure 1.004222 at xa-tu-phap-tan-phu (handler tuan.hm) received at
 * received and due at due, both given: the case the escalation tests arm their rules on. */
static inline void api_t_create_case(struct api_t *t, const char *code, int64_t received,
				     int64_t due)
{
	char r[40], d[40];

	api_format_instant(r, sizeof(r), received);
	api_format_instant(d, sizeof(d), due);
	api_t_reqf(t, "POST", "/api/v1/cases", API_MOTCUA, 201,
		   "{\"code\": \"%s\", \"procedure\": \"1.004222\", "
		   "\"unit\": \"xa-tu-phap-tan-phu\", \"handler\": \"tuan.hm\", "
		   "\"received_at\": \"%s\", \"due_at\": \"%s\"}",
		   code, r, d);
}

static inline void api_t_state(struct api_t *t, struct api_db_state *s)
{
	struct err e = { 0 };
	cr_assert_eq(api_db_state(&t->f, s, &e), 0, "reading the database: %s", e.msg);
}

/* Expects the database to be as in before. */
static inline void api_t_unchanged(struct api_t *t, const struct api_db_state *before)
{
	struct api_db_state now;

	api_t_state(t, &now);
	cr_assert(now.hash == before->hash && !strcmp(now.summary, before->summary),
		  "%s changed the database: before {%s}, after {%s}", t->last, before->summary,
		  now.summary);
}
#endif /* CRITERION_H_ */

#endif
