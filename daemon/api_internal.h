/* api_internal: what the API's route handlers (api_cases.c, api_documents.c) share with its
 * core (api.c): the request context, error replies, body and query validation, JSON output of
 * instants, and the write transaction around a request. Not used outside the api files. */
#ifndef DUNGHAN_API_INTERNAL_H
#define DUNGHAN_API_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api.h"

#define API_MAX_LIMIT 500
#define API_DEFAULT_LIMIT 100
#define API_FUTURE_SLACK 300 /* seconds an event's "at" may lie in the future (clock skew) */

/* One request being handled. */
struct api_ctx {
	struct api *api;
	struct http_request *req;
	struct store *store;
	struct scheduler *sched;
	struct deliver *deliver;
	const struct config *cfg;
	struct calendar *cal;
	const char *actor; /* the token's name */
	int64_t now;
	bool kept_writes;  /* the request's writes are in the turn's open transaction */
};

/* A failure to report: status, machine code, human message, field at fault ("" = none). */
struct api_error {
	int status;
	const char *code;
	char message[400];
	char field[64];
};

/* A context for the API's rules without a request, for work the daemon does itself (the drop
 * folder): req NULL, so nothing may be replied through it. */
void api_ctx_init(struct api_ctx *x, struct api *api, const char *actor);

/* The SHA-256 of data[0..len) into out; 0, or -1 when OpenSSL fails. */
int api_sha256(struct api *api, const void *data, size_t len, unsigned char out[32]);

/* When the API started (Unix seconds), for GET /status's uptime. */
int64_t api_started_at(const struct api *api);

/* The API's own measurements since start (api.c records them; api_ops.c writes them out). */
struct metrics *api_metrics_of(const struct api *api);
/* The dashboard's KPI figures kept ahead of reading (kpi_snapshot.h); emptied on a reload. */
struct kpi_snapshot *api_snapshot_of(const struct api *api);
/* Whether a backup is being made: one at a time (api_ops.c). */
bool api_backup_running(const struct api *api);
void api_set_backup_running(struct api *api, bool running);

int api_fail(struct api_error *e, int status, const char *code, const char *field,
	     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Answers with e as {"error":{...}}. */
void api_reply_error(struct api_ctx *x, const struct api_error *e);
/* Answers with body (stolen: decref'd here). Queued behind the turn's commit when a write
 * transaction is open. */
void api_reply(struct api_ctx *x, int status, json_t *body);
/* The same for a body that is not JSON: body (malloc'd, len bytes) is stolen; type is a static
 * string; headers[0..nheaders) (copied) are sent beside it. A NULL body (it could not be
 * built) answers 500, or, when the request's writes are in the turn's open transaction, gives
 * up the turn's writes, so that nothing is kept behind an error. */
void api_reply_body(struct api_ctx *x, int status, const char *type, char *body, size_t len,
		    const struct http_header *headers, size_t nheaders);

/* The write transaction of a request: api_write_begin opens (or joins) the turn's transaction
 * and a savepoint; api_write_end releases it (ok) or rolls it back (failed). */
int api_write_begin(struct api_ctx *x, struct api_error *e);
void api_write_end(struct api_ctx *x, bool ok);

/* The same for a request that has checked everything before its first write, so that only the
 * database can fail it afterwards (api_cases_create): api_write_join joins the turn's
 * transaction without a savepoint of its own — inside one, SQLite copies every page the
 * request changes that the turn changed before to a statement journal, several writes a
 * request. api_write_kept marks the request's writes done; a failure after the first write
 * goes to api_write_abandon, which gives up the whole turn as a failed commit does: rolled
 * back, every waiting answer a 503, and e answered to this request. */
int api_write_join(struct api_ctx *x, struct api_error *e);
void api_write_kept(struct api_ctx *x);
void api_write_abandon(struct api_ctx *x, const struct api_error *e);

/* --- request bodies --- */

enum api_field_type {
	API_STRING, /* any non-empty UTF-8 string up to max bytes */
	API_ID,     /* an identifier: letters, digits, '.', '_', '-' (also case codes) */
	API_INSTANT,
	API_DATE,
	API_BOOL,
	API_INT,    /* a positive integer */
	API_AMOUNT, /* a whole number from 0 to 10^15 (money in VND) */
	API_ENUM,   /* one of choices */
};

struct api_field {
	const char *name;
	enum api_field_type type;
	bool required;
	size_t max;                 /* strings: maximum bytes */
	const char *const *choices; /* API_ENUM: NULL-terminated */
};

/* Parses a JSON object body (checks Content-Type). Returns a new reference or NULL with e. */
json_t *api_parse_body(struct api_ctx *x, const char *data, size_t len, struct api_error *e);
/* Checks obj against fields (at most API_FIELDS_MAX): unknown fields (when strict), missing
 * required ones, types and formats. null counts as absent. Returns 0 or -1 with e. */
#define API_FIELDS_MAX 32
int api_check_fields(struct api_ctx *x, json_t *obj, const struct api_field *fields, size_t n,
		     struct api_error *e);
/* Values of checked fields: NULL / def when absent or null. */
const char *api_str(json_t *obj, const char *name);
int64_t api_instant(json_t *obj, const char *name, int64_t def);
bool api_bool(json_t *obj, const char *name);
int64_t api_int(json_t *obj, const char *name, int64_t def);
/* An event's "at": default now; not more than API_FUTURE_SLACK in the future. */
int api_event_at(struct api_ctx *x, json_t *obj, int64_t *at, struct api_error *e);

/* An event body's allowed fields depend on its type: specs[type] lists the type's own fields,
 * beside type, at and expected_version. */
struct api_event_spec {
	const struct api_field *fields;
	size_t n;
};
/* Parses and checks an event body; returns its type (parsed with parse from types) with *body
 * (new reference) and *at, or -1 with the error answered. */
int api_read_event(struct api_ctx *x, const char *const *types, int (*parse)(const char *),
		   const struct api_event_spec *specs, json_t **body, int64_t *at);
/* 409 version_mismatch when the body's expected_version is given and differs. */
int api_check_version(json_t *body, int64_t version, struct api_error *e);
/* The body minus type, at and expected_version: what the event row keeps (new reference). */
json_t *api_event_data(json_t *body);
/* A rule's refusal: 409 illegal_transition for field "type", else 400 invalid_field. */
void api_rule_error(struct api_error *e, const struct err *err);

/* --- queries --- */

/* Percent-decodes s[0..n) ('+' is a space) into out (cap bytes with the NUL); -1 on a bad
 * escape, an encoded NUL or no room. */
int api_url_decode(const char *s, size_t n, char *out, size_t cap);

/* Splits the query into name=value pairs: values[i] is the percent-decoded value (in buf) of
 * names[i] (NULL-ended), NULL when absent, the last one when repeated. An unknown name, a bad
 * escape or invalid UTF-8 is 400 invalid_query naming the parameter. Returns 0 or -1 with e. */
int api_query_values(struct api_ctx *x, const char *const *names, const char **values,
		     char *buf, size_t bufsize, struct api_error *e);
/* Checks one query value: a configured unit (422 unknown_reference), a limit from 1 to
 * API_MAX_LIMIT, the id cursor of lists ordered by id (400 invalid_query). 0 or -1 with e. */
int api_query_unit(struct api_ctx *x, const char *name, const char *value, struct api_error *e);
int api_query_limit(const char *name, const char *value, int *limit, struct api_error *e);
int api_query_after_id(const char *name, const char *value, int64_t *after, struct api_error *e);
/* An RFC 3339 instant in a query value. A '+' left unencoded in the URL has been decoded to a
 * space (api_url_decode, as forms do), so "…T10:00:00 07:00" is read as "…T10:00:00+07:00":
 * the space can mean nothing else there. 400 invalid_query naming the parameter. */
int api_query_instant(const char *name, const char *value, int64_t *t, struct api_error *e);

/* Parses the query string into f (unit, status, overdue, due_before, due_after, q, limit,
 * cursor); allowed = the parameter names this endpoint takes. status_parse checks status. */
int api_parse_list_query(struct api_ctx *x, const char *const *allowed,
			 int (*status_parse)(const char *), struct store_filter *f, char *buf,
			 size_t bufsize, struct api_error *e);
/* A page of a list being collected. The store is asked for want + 1 rows, so that a full page
 * knows whether another follows and a last page is never empty. */
struct api_page {
	struct api_ctx *x;
	json_t *items;
	int want;
	bool more;
	int64_t last_due, last_id;
};
/* Starts a page for filter f (raises f->limit by one for the look-ahead row). */
void api_page_init(struct api_page *pg, struct api_ctx *x, struct store_filter *f);
/* Adds item (stolen) of due_at/id; returns non-zero (stop listing) past the page's end. */
int api_page_add(struct api_page *pg, json_t *item, int64_t due_at, int64_t id);
/* Answers 200 {"<key>": items, "next_cursor": ... or null}. */
void api_page_reply(struct api_page *pg, const char *key);

/* --- output --- */

/* An instant as RFC 3339 in the calendar's zone, or JSON null for TIME_NONE. */
json_t *api_time(struct api_ctx *x, int64_t t);
/* A string or JSON null for "" / NULL. */
json_t *api_optional(const char *s);

/* Appends an event row for an item: 0, or -1 with e. data is the request body minus type, at
 * and expected_version (borrowed). When out is not NULL, *out is the event's JSON (new ref). */
int api_record_event(struct api_ctx *x, const char *kind, int64_t item_id, const char *type,
		     int64_t at, json_t *data, int64_t due_at, json_t **out, struct api_error *e);
/* GET .../events of an item. */
void api_list_events(struct api_ctx *x, const char *kind, int64_t item_id);

/* 503 unavailable from a scheduler failure (err) while re-arming an item. */
int api_track_failed(struct api_error *e, const struct err *err);

/* --- work in the thread pool --- */

/* A report computed off the loop thread (reports over a year must never block it). The handler
 * checks the request on the loop thread, fills run, reply and free of a job it allocated
 * (struct api_job as a member of its own struct) and calls api_job_queue, which takes the job
 * over. run() is called in the thread pool with a read-only connection to the database,
 * opened and closed around it there; it may read job->cfg (unit tree, targets, settings) but
 * not its calendar, which is not thread-safe; it returns 0, or -1 with e (the error answered).
 * Then, on the loop thread, reply() answers through x, whose cfg and cal are the job's; free()
 * releases the job last. The job keeps its config alive across a reload, and api_close waits
 * for every job queued. A job queued with x->req NULL is the daemon's own work (the
 * dashboard's recomputations): reply() gets x with req NULL, and a failure answers no one. */
struct api_job {
	int (*run)(struct api_job *job, struct store *ro, struct api_error *e);
	void (*reply)(struct api_job *job, struct api_ctx *x);
	void (*free)(struct api_job *job);
	const struct config *cfg; /* set by api_job_queue: a reference, dropped before free() */
	int64_t now;              /* the request's now */
	/* private to api.c */
	uv_work_t work;
	struct api *api;
	struct http_request *req;
	const char *db_path;
	int rc;
	struct api_error error;
};
/* Queues job; on failure answers 503 and frees it at once. */
void api_job_queue(struct api_ctx *x, struct api_job *job);

/* --- route handlers (api_cases.c, api_documents.c, api_alerts.c) --- */

void api_alerts_list(struct api_ctx *x);
void api_alerts_ack(struct api_ctx *x, int64_t id);
void api_outbox_list(struct api_ctx *x);
void api_outbox_retry(struct api_ctx *x, int64_t id);

/* GET /api/v1/status (api_status.c). */
void api_status(struct api_ctx *x);

/* Operations (api_ops.c): GET /metrics (the token, when server.metrics_token asks for one, is
 * checked by api.c), GET /readyz (no token), POST /api/v1/backup (scope admin). */
void api_metrics(struct api_ctx *x);
void api_readyz(struct api_ctx *x);
void api_backup(struct api_ctx *x);

/* KPIs (api_kpi.c): figures are computed in the thread pool on read-only connections. */
void api_kpi(struct api_ctx *x);
void api_kpi_budget(struct api_ctx *x);
void api_directive_cascade(struct api_ctx *x, int64_t id);
void api_inspections_create(struct api_ctx *x);
void api_inspections_list(struct api_ctx *x);

void api_cases_create(struct api_ctx *x);
void api_cases_batch(struct api_ctx *x);
void api_cases_get(struct api_ctx *x, const char *code);
void api_cases_list(struct api_ctx *x);
void api_cases_event(struct api_ctx *x, const char *code);
void api_cases_events(struct api_ctx *x, const char *code);

void api_documents_create(struct api_ctx *x);
void api_documents_get(struct api_ctx *x, int64_t id);
void api_documents_list(struct api_ctx *x);
void api_documents_event(struct api_ctx *x, int64_t id);
void api_documents_events(struct api_ctx *x, int64_t id);
/* Assignments: document_id or parent_id (0 = none) says where a new one comes from. */
void api_assignments_create(struct api_ctx *x, int64_t document_id, int64_t parent_id);
void api_assignments_get(struct api_ctx *x, int64_t id);
void api_assignments_list(struct api_ctx *x, int64_t document_id, int64_t parent_id);
void api_assignments_event(struct api_ctx *x, int64_t id);
void api_assignments_events(struct api_ctx *x, int64_t id);

#endif
