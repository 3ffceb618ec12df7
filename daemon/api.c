/* api: the core of the HTTP JSON API (see api.h) — authentication, routing, validation of
 * bodies and queries, JSON errors, and the group commit.
 *
 * DESIGN: a write opens the loop turn's transaction on first use and runs inside a savepoint
 * of its own; its answer is queued. The uv_check callback, which libuv runs right after the
 * turn's I/O callbacks, commits once without waiting for the disk and asks the WAL's sync
 * thread (wal_sync.h) for a sync; the answers go out when a sync that began after the commit
 * has ended, while the loop already runs the next turn (whose commit the next sync takes) — or
 * 503 to all of them when the commit fails, with nothing of them kept. While a sync runs and
 * more requests are ready, the commit waits (turn_can_wait): the transaction stays open into
 * the next turns, which join it, and is committed when the loop runs out of ready I/O, when the
 * sync ends, or when another writer begins (store_hold). Answers of reads are
 * queued behind an open transaction or an unsynced commit too, so that no client ever sees
 * data that is not yet durable. A failed sync cuts the unsynced commits out of the WAL
 * (store_cut_wal), answers 503 to theirs and ends the daemon (api_on_fatal): after a failed
 * fsync the kernel no longer says what reached the disk, so no later sync could. */
#include "api_internal.h"
#include "item_json.h"
#include "json_flat.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dashboard.h"
#include "kpi_snapshot.h"
#include "log.h"
#include "metrics.h"
#include "wal_sync.h"

struct pending {
	struct http_request *req;
	int status;
	const char *type; /* static */
	char *body;
	size_t len;
	struct http_header *headers; /* copies, in one allocation with their text */
	size_t nheaders;
	/* The commit the answer waits for (0: the turn's, not yet committed) and where it ended
	 * in the WAL. */
	uint64_t ticket;
	struct store_wal_mark mark;
	struct pending *next;
};

struct api {
	uv_loop_t *loop;
	uv_check_t commit;
	struct store *store;
	struct scheduler *sched;
	struct deliver *deliver;
	const struct config *cfg;
	struct pending *head, *tail; /* in commit order; the turn's own (ticket 0) last */
	struct wal_sync *sync;       /* NULL: every commit waits for its own sync */
	uint64_t committed, durable; /* tickets of the API's last commit, and of the last synced */
	void (*fatal)(void *arg);
	void *fatal_arg;
	/* The turn's transaction has requests' writes: if it is gone before the commit (SQLite
	 * rolls a transaction back by itself after some I/O and disk-full errors), so are they. */
	bool turn_writes;
	int64_t turn_changes; /* store_changes when the turn's transaction began */
	int64_t started_at;
	bool stopping;
	unsigned jobs; /* api_job_queue'd and not yet answered: the close waits for them */
	struct metrics *metrics;
	bool backup_running;
	int open_handles; /* the commit handle, the warming and metrics timers */
	bool closing;
	void (*close_cb)(void *);
	void *close_arg;
	/* SHA-256 fetched once: OpenSSL 3's one-shot SHA256() fetches the algorithm on every
	 * call, 0.7 µs against 0.2 µs for a create hash this way. */
	EVP_MD *sha256;
	EVP_MD_CTX *sha256_ctx;
	struct kpi_snapshot *snapshot; /* the dashboard's KPI figures kept ahead of reading */
	uv_timer_t warm;               /* keeps them computed (dashboard_warm) */
};

int api_sha256(struct api *api, const void *data, size_t len, unsigned char out[32])
{
	if (EVP_DigestInit_ex2(api->sha256_ctx, api->sha256, NULL) != 1 ||
	    EVP_DigestUpdate(api->sha256_ctx, data, len) != 1 ||
	    EVP_DigestFinal_ex(api->sha256_ctx, out, NULL) != 1)
		return -1;
	return 0;
}

/* --- errors and replies ----------------------------------------------------------------- */

int api_fail(struct api_error *e, int status, const char *code, const char *field,
	     const char *fmt, ...)
{
	va_list ap;

	e->status = status;
	e->code = code;
	snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return -1;
}

static char *dump(json_t *body, size_t *len)
{
	char *text = json_dumps(body, JSON_COMPACT | ITEM_JSON_REALS);

	*len = text ? strlen(text) : 0;
	return text;
}

/* h[0..n) and their text in one allocation, or NULL (out of memory, or n == 0). */
static struct http_header *copy_headers(const struct http_header *h, size_t n)
{
	size_t size = n * sizeof(*h);
	struct http_header *copy;
	char *text;

	for (size_t i = 0; i < n; i++)
		size += strlen(h[i].name) + strlen(h[i].value) + 2;
	if (!n || !(copy = malloc(size)))
		return NULL;
	text = (char *)(copy + n);
	for (size_t i = 0; i < n; i++) {
		size_t nl = strlen(h[i].name) + 1, vl = strlen(h[i].value) + 1;
		copy[i].name = memcpy(text, h[i].name, nl);
		copy[i].value = memcpy(text + nl, h[i].value, vl);
		text += nl + vl;
	}
	return copy;
}

/* The ticket of the last commit on the connection (the API's, delivery's) an answer may show. */
static uint64_t last_commit(const struct api *api)
{
	return api->sync ? wal_sync_last(api->sync) : api->committed;
}

static void settle_turn(struct api *api, bool committed, uint64_t ticket,
			const struct store_wal_mark *mark, const char *why);
static void finish_close(struct api *api);

#define NOT_KEPT "the change could not be saved; nothing of it was kept; retry"
#define FULL_NOT_KEPT "the database is full (the disk or database.max_size_mb); nothing of " \
		      "the change was kept"

/* An answer that cannot wait for the commit (no memory to queue or encode it) while the turn's
 * transaction is open: its write would be committed after a 503 that says it was not. So the
 * turn is given up as a failed commit is: rolled back, every waiting answer a 503. */
static void abandon_turn(struct api *api, struct http_request *req, const char *why)
{
	store_rollback(api->store);
	api->turn_writes = false;
	settle_turn(api, false, 0, NULL, NOT_KEPT);
	http_respond_error(req, 503, "unavailable", why);
}

#define NO_MEMORY_NOT_KEPT "out of memory; nothing of the change was kept; retry"

void api_reply_body(struct api_ctx *x, int status, const char *type, char *body, size_t len,
		    const struct http_header *headers, size_t nheaders)
{
	struct api *api = x->api;
	struct pending *p;

	if (!body && x->kept_writes && store_in_transaction(api->store)) {
		abandon_turn(api, x->req, NO_MEMORY_NOT_KEPT);
		return;
	}
	if (!body) {
		http_respond_error(x->req, 500, "internal", "cannot encode the answer");
		return;
	}
	bool in_turn = store_in_transaction(api->store);
	if (!in_turn && api->durable >= last_commit(api)) {
		http_respond(x->req, status, type, body, len, headers, nheaders);
		free(body);
		return;
	}
	p = malloc(sizeof(*p));
	if (p)
		*p = (struct pending){ .req = x->req, .status = status, .type = type,
				       .body = body, .len = len };
	/* A read between two turns waits for the commits it may have seen. */
	if (p && !in_turn) {
		p->ticket = last_commit(api);
		store_wal_end(api->store, &p->mark);
	}
	if (p && nheaders) {
		p->headers = copy_headers(headers, nheaders);
		p->nheaders = nheaders;
	}
	if (!p || (nheaders && !p->headers)) {
		free(p);
		free(body);
		if (in_turn)
			abandon_turn(api, x->req, NO_MEMORY_NOT_KEPT);
		else
			http_respond_error(x->req, 503, "unavailable", "out of memory; retry");
		return;
	}
	if (api->tail)
		api->tail->next = p;
	else
		api->head = p;
	api->tail = p;
}

void api_reply(struct api_ctx *x, int status, json_t *body)
{
	size_t len;
	char *text = dump(body, &len);

	json_decref(body);
	api_reply_body(x, status, "application/json", text, len, NULL, 0);
}

void api_reply_error(struct api_ctx *x, const struct api_error *e)
{
	json_t *err = json_pack("{s:s, s:s}", "code", e->code, "message", e->message);

	if (err && e->field[0])
		json_object_set_new(err, "field", json_string(e->field));
	api_reply(x, e->status, json_pack("{s:o}", "error", err));
}

static void reply_fail(struct api_ctx *x, int status, const char *code, const char *field,
		       const char *message)
{
	struct api_error e;

	api_fail(&e, status, code, field, "%s", message);
	api_reply_error(x, &e);
}

/* --- group commit ----------------------------------------------------------------------- */

static void free_pending(struct pending *p)
{
	free(p->body);
	free(p->headers);
	free(p);
}

/* The turn's own answers (ticket 0): once committed, waiting for the sync of commit ticket,
 * which ended at mark; or each a 503 saying why. Answers of reads queued behind them (a
 * transaction SQLite rolled back by itself ends the turn early) keep their place. */
static void settle_turn(struct api *api, bool committed, uint64_t ticket,
			const struct store_wal_mark *mark, const char *why)
{
	struct pending **link = &api->head, *p;

	api->tail = NULL;
	while ((p = *link)) {
		if (p->ticket == 0 && committed) {
			p->ticket = ticket;
			p->mark = *mark;
		} else if (p->ticket == 0) {
			*link = p->next;
			http_respond_error(p->req, 503, "unavailable", why);
			free_pending(p);
			continue;
		}
		api->tail = p;
		link = &p->next;
	}
}

/* Sends every answer whose commit is on the disk, in order. */
static void send_durable(struct api *api)
{
	struct pending *p;

	while ((p = api->head) && p->ticket != 0 && p->ticket <= api->durable) {
		api->head = p->next;
		if (!api->head)
			api->tail = NULL;
		/* What the client is told is kept must never be cut back (store_cut_wal). */
		store_wal_synced(api->store, &p->mark);
		http_respond(p->req, p->status, p->type, p->body, p->len, p->headers, p->nheaders);
		free_pending(p);
	}
}

static void commit_turn(struct api *api)
{
	enum store_status status = STORE_OK;
	struct store_wal_mark mark = { 0 };
	bool committed = false;
	struct err err;

	if (store_in_transaction(api->store)) {
		uint64_t start = uv_hrtime();
		status = api->sync ? store_commit_unsynced(api->store, &mark, &err)
				   : store_commit(api->store, &err);
		metrics_observe_commit(api->metrics, (double)(uv_hrtime() - start) / 1e9);
		if (status != STORE_OK)
			log_error("api: commit failed: %s", err.msg);
		committed = status == STORE_OK;
	} else if (api->turn_writes) {
		status = STORE_ERROR;
		log_error("api: the turn's transaction was rolled back after a database error");
	}
	api->turn_writes = false;
	if (committed && api->sync)
		api->committed = wal_sync_ask(api->sync, &mark);
	else if (committed)
		api->durable = ++api->committed;
	settle_turn(api, status == STORE_OK, api->committed, &mark,
		    status == STORE_FULL ? FULL_NOT_KEPT : NOT_KEPT);
	send_durable(api);
}

#define SYNC_NOT_KEPT "the disk failed to save the change; nothing of it was kept; dunghand " \
		      "stops and must be restarted"
#define SYNC_UNKNOWN "the disk failed while saving the change, which may or may not have been " \
		     "kept: look before you retry; dunghand stops and must be restarted"

/* The sync thread's report (wal_sync_cb). */
static void on_synced(void *arg, uint64_t covered, const struct store_wal_mark *synced,
		      int error)
{
	struct api *api = arg;
	struct store_wal_mark durable, kept;
	struct pending *p;
	bool cut;
	struct err err;

	if (!error) {
		api->durable = covered;
		if (synced) /* delivery's commits too, which no answer waits for */
			store_wal_synced(api->store, synced);
		send_durable(api);
		/* A turn held for this sync (turn_can_wait) is committed now: the thread syncs it
		 * next. */
		store_yield(api->store);
		if (api->closing && api->jobs == 0 && api->durable >= last_commit(api))
			finish_close(api);
		return;
	}
	log_error("database: syncing the WAL failed: %s; the commits it should have made durable "
		  "are cut back, and dunghand stops", strerror(error));
	cut = store_cut_wal(api->store, &durable, &kept, &err) == STORE_OK;
	if (!cut)
		log_error("database: %s", err.msg);
	store_rollback(api->store);
	api->turn_writes = false;
	while ((p = api->head)) {
		api->head = p->next;
		if (p->ticket != 0 && (p->ticket <= api->durable ||
				       (cut && store_wal_mark_kept(&p->mark, &durable))))
			http_respond(p->req, p->status, p->type, p->body, p->len, p->headers, p->nheaders);
		else if (p->ticket != 0 && (!cut || store_wal_mark_kept(&p->mark, &kept)))
			http_respond_error(p->req, 503, "unavailable", SYNC_UNKNOWN);
		else
			http_respond_error(p->req, 503, "unavailable", SYNC_NOT_KEPT);
		free_pending(p);
	}
	api->tail = NULL;
	if (api->fatal)
		api->fatal(api->fatal_arg);
}

/* Opens the turn's transaction, or joins it. One that SQLite rolled back by itself since
 * took the writes of this turn's earlier requests with it: they are answered 503 first. */
static int join_turn(struct api_ctx *x, struct api_error *e)
{
	struct api *api = x->api;
	struct err err;

	if (store_in_transaction(x->store)) {
		api->turn_writes = true;
		return 0;
	}
	if (api->turn_writes) {
		log_error("api: the turn's transaction was rolled back after a database error");
		settle_turn(api, false, 0, NULL, NOT_KEPT);
		api->turn_writes = false;
	}
	switch (store_begin(x->store, &err)) {
	case STORE_OK:
		break;
	case STORE_BUSY:
		/* Waited for STORE_LOOP_BUSY_MS at most: the loop does not stop for it. */
		return api_fail(e, 503, "unavailable", NULL,
				"the database is locked by another process; retry");
	default:
		return api_fail(e, 503, "unavailable", NULL, "%s", err.msg);
	}
	api->turn_writes = true;
	api->turn_changes = store_changes(x->store);
	return 0;
}

/* Rows a held transaction may have changed, at most: its commit runs on the loop, in one
 * piece (about 2 700 new cases). */
#define TURN_MAX_CHANGES 8192

/* Whether the turn's commit can wait for the next loop turn: while a sync runs, a commit now
 * would wait for the next sync anyway, as would one made when that sync ends. Holding the
 * transaction open meanwhile gathers the requests of several turns into one commit, which
 * writes each hot page of the indexes once instead of once a turn (docs/performance.md). It
 * is held only while the loop has more I/O to handle at once, so that a loop with nothing
 * else to do commits without waiting; and never at the close. */
static bool turn_can_wait(struct api *api)
{
	struct pollfd ready = { .fd = uv_backend_fd(api->loop), .events = POLLIN };

	return api->sync && !api->closing && api->turn_writes &&
	       store_changes(api->store) - api->turn_changes < TURN_MAX_CHANGES &&
	       store_in_transaction(api->store) &&
	       wal_sync_last(api->sync) > api->durable && ready.fd >= 0 &&
	       poll(&ready, 1, 0) == 1;
}

static void release_turn(void *arg)
{
	commit_turn(arg);
}

static void on_check(uv_check_t *h)
{
	struct api *api = h->data;

	if (turn_can_wait(api)) {
		store_hold(api->store, release_turn, api);
		return;
	}
	commit_turn(api);
}

int api_write_begin(struct api_ctx *x, struct api_error *e)
{
	struct err err;

	if (join_turn(x, e) != 0)
		return -1;
	if (store_savepoint(x->store, &err) != STORE_OK)
		return api_fail(e, 503, "unavailable", NULL, "the database is busy; retry");
	return 0;
}

void api_write_end(struct api_ctx *x, bool ok)
{
	struct err err;

	if (!ok) {
		store_rollback_to_savepoint(x->store);
		return;
	}
	if (store_release(x->store, &err) != STORE_OK) {
		log_error("api: %s", err.msg);
		store_rollback_to_savepoint(x->store);
		return;
	}
	x->kept_writes = true;
}

int api_write_join(struct api_ctx *x, struct api_error *e)
{
	return join_turn(x, e);
}

void api_write_kept(struct api_ctx *x)
{
	x->kept_writes = true;
}

void api_write_abandon(struct api_ctx *x, const struct api_error *e)
{
	log_error("api: a write failed after it began (%s); the turn is rolled back", e->message);
	abandon_turn(x->api, x->req, e->message);
}

void api_ctx_init(struct api_ctx *x, struct api *api, const char *actor)
{
	*x = (struct api_ctx){ .api = api, .store = api->store, .sched = api->sched,
			       .deliver = api->deliver, .cfg = api->cfg, .cal = api->cfg->calendar,
			       .actor = actor, .now = (int64_t)time(NULL) };
}

int64_t api_started_at(const struct api *api)
{
	return api->started_at;
}

struct kpi_snapshot *api_snapshot_of(const struct api *api)
{
	return api->snapshot;
}

struct metrics *api_metrics_of(const struct api *api)
{
	return api->metrics;
}

bool api_backup_running(const struct api *api)
{
	return api->backup_running;
}

void api_set_backup_running(struct api *api, bool running)
{
	api->backup_running = running;
}

/* --- bodies ----------------------------------------------------------------------------- */

/* "application/json", optionally with parameters. */
static bool media_type_is(const char *value, const char *type)
{
	size_t n = strlen(type);

	if (!value || strncasecmp(value, type, n) != 0)
		return false;
	return value[n] == '\0' || value[n] == ';' || value[n] == ' ';
}

json_t *api_parse_body(struct api_ctx *x, const char *data, size_t len, struct api_error *e)
{
	json_error_t jerr;
	json_t *obj;

	if (!media_type_is(http_request_header(x->req, "content-type"), "application/json")) {
		api_fail(e, 415, "unsupported_media_type", NULL,
			 "the body must be JSON with Content-Type: application/json");
		return NULL;
	}
	/* A plain object is read without jansson's lexer; anything else, and every error, by it. */
	obj = json_flat_load(data, len);
	if (!obj)
		obj = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!obj) {
		api_fail(e, 400, "bad_json", NULL, "malformed JSON at line %d, column %d: %s",
			 jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(obj)) {
		json_decref(obj);
		api_fail(e, 400, "bad_json", NULL, "the body must be a JSON object");
		return NULL;
	}
	return obj;
}

static bool is_ident(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '.' || *s == '_' || *s == '-'))
			return false;
	return true;
}

static int check_field(struct api_ctx *x, const struct api_field *f, json_t *v, struct api_error *e)
{
	struct err err;
	int64_t t;
	int32_t day;
	const char *s;

	switch (f->type) {
	case API_BOOL:
		if (!json_is_boolean(v))
			return api_fail(e, 400, "invalid_field", f->name, "%s: expected true or false",
					f->name);
		return 0;
	case API_INT:
		if (!json_is_integer(v) || json_integer_value(v) < 1)
			return api_fail(e, 400, "invalid_field", f->name,
					"%s: expected a positive whole number", f->name);
		return 0;
	case API_AMOUNT:
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 1000000000000000LL)
			return api_fail(e, 400, "invalid_field", f->name,
					"%s: expected a whole number from 0 to 10^15", f->name);
		return 0;
	default:
		break;
	}
	if (!json_is_string(v))
		return api_fail(e, 400, "invalid_field", f->name, "%s: expected a string", f->name);
	s = json_string_value(v);
	if (json_string_length(v) != strlen(s))
		return api_fail(e, 400, "invalid_field", f->name, "%s: contains a NUL character",
				f->name);
	switch (f->type) {
	case API_STRING:
		if (!*s)
			return api_fail(e, 400, "invalid_field", f->name, "%s: must not be empty", f->name);
		break;
	case API_ID:
		if (!is_ident(s))
			return api_fail(e, 400, "invalid_field", f->name,
					"%s: \"%.80s\" may only hold letters, digits, '.', '_' and '-'",
					f->name, s);
		break;
	case API_INSTANT:
		if (calendar_parse_given(s, &t, &err) != 0)
			return api_fail(e, 400, "invalid_field", f->name,
					"%s: expected an RFC 3339 instant like "
					"2024-02-07T10:00:00+07:00 (%s)", f->name, err.msg);
		break;
	case API_DATE:
		if (civil_parse_date(s, &day, &err) != 0)
			return api_fail(e, 400, "invalid_field", f->name,
					"%s: expected a date like 2024-02-20 (%s)", f->name, err.msg);
		break;
	case API_ENUM: {
		const char *const *c = f->choices;
		while (*c && strcmp(*c, s) != 0)
			c++;
		if (!*c) {
			char allowed[200] = "";
			for (c = f->choices; *c; c++)
				snprintf(allowed + strlen(allowed), sizeof(allowed) - strlen(allowed),
					 "%s%s", c == f->choices ? "" : ", ", *c);
			return api_fail(e, 400, "invalid_field", f->name, "%s: \"%.80s\" is not one of %s",
					f->name, s, allowed);
		}
		break;
	}
	default:
		break;
	}
	if (f->max && strlen(s) > f->max)
		return api_fail(e, 400, "invalid_field", f->name, "%s: longer than %zu bytes", f->name,
				f->max);
	(void)x;
	return 0;
}

int api_check_fields(struct api_ctx *x, json_t *obj, const struct api_field *fields, size_t n,
		     struct api_error *e)
{
	/* Each field's value as met in the one walk over the object (keys are unique: the readers
	 * refuse duplicates), instead of a hash lookup per field afterwards. */
	json_t *vals[API_FIELDS_MAX] = { NULL };
	const char *key;
	json_t *v;

	if (n > API_FIELDS_MAX)
		return api_fail(e, 500, "internal", NULL, "too many fields to check");
	json_object_foreach(obj, key, v) {
		size_t i = 0;
		while (i < n && strcmp(fields[i].name, key) != 0)
			i++;
		if (i < n)
			vals[i] = v;
		else if (x->cfg->server.strict_fields)
			return api_fail(e, 400, "unknown_field", key, "unknown field \"%.60s\"", key);
	}
	for (size_t i = 0; i < n; i++) {
		v = vals[i];
		if (!v || json_is_null(v)) {
			if (fields[i].required)
				return api_fail(e, 400, "missing_field", fields[i].name,
						"%s is required", fields[i].name);
			continue;
		}
		if (check_field(x, &fields[i], v, e) != 0)
			return -1;
	}
	return 0;
}

const char *api_str(json_t *obj, const char *name)
{
	return json_string_value(json_object_get(obj, name));
}

int64_t api_instant(json_t *obj, const char *name, int64_t def)
{
	const char *s = api_str(obj, name);
	int64_t t;

	if (!s || calendar_parse_rfc3339(s, &t, NULL) != 0)
		return def;
	return t;
}

bool api_bool(json_t *obj, const char *name)
{
	return json_is_true(json_object_get(obj, name));
}

int64_t api_int(json_t *obj, const char *name, int64_t def)
{
	json_t *v = json_object_get(obj, name);
	return json_is_integer(v) ? json_integer_value(v) : def;
}

int api_event_at(struct api_ctx *x, json_t *obj, int64_t *at, struct api_error *e)
{
	*at = api_instant(obj, "at", x->now);
	if (*at > x->now + API_FUTURE_SLACK)
		return api_fail(e, 400, "invalid_field", "at", "at: the event is in the future");
	return 0;
}

int api_read_event(struct api_ctx *x, const char *const *types, int (*parse)(const char *),
		   const struct api_event_spec *specs, json_t **body, int64_t *at)
{
	struct api_field fields[8] = {
		{ "type", API_ENUM, true, 0, types },
		{ "at", API_INSTANT, false, 0, NULL },
		{ "expected_version", API_INT, false, 0, NULL },
	};
	struct api_error e;
	size_t len, n = 3;
	const char *data = http_request_body(x->req, &len);
	int type = -1;

	*body = api_parse_body(x, data, len, &e);
	if (!*body)
		goto fail;
	if (json_is_string(json_object_get(*body, "type")))
		type = parse(api_str(*body, "type"));
	if (type >= 0 && specs[type].n) {
		memcpy(fields + n, specs[type].fields, specs[type].n * sizeof(fields[0]));
		n += specs[type].n;
	}
	if (api_check_fields(x, *body, fields, n, &e) != 0 || api_event_at(x, *body, at, &e) != 0)
		goto fail;
	return type;
fail:
	json_decref(*body);
	*body = NULL;
	api_reply_error(x, &e);
	return -1;
}

int api_check_version(json_t *body, int64_t version, struct api_error *e)
{
	if (json_object_get(body, "expected_version") && api_int(body, "expected_version", 0) != version)
		return api_fail(e, 409, "version_mismatch", "expected_version",
				"the item is at version %lld, not %lld", (long long)version,
				(long long)api_int(body, "expected_version", 0));
	return 0;
}

json_t *api_event_data(json_t *body)
{
	json_t *data = json_deep_copy(body);

	json_object_del(data, "type");
	json_object_del(data, "at");
	json_object_del(data, "expected_version");
	return data;
}

void api_rule_error(struct api_error *e, const struct err *err)
{
	if (strcmp(err->field, "type") == 0)
		api_fail(e, 409, "illegal_transition", "type", "%s", err->msg);
	else
		api_fail(e, 400, "invalid_field", err->field, "%s", err->msg);
}

/* --- queries ---------------------------------------------------------------------------- */

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int api_url_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '%') {
			if (i + 2 >= n)
				return -1;
			int hi = hex_value(s[i + 1]), lo = hi >= 0 ? hex_value(s[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi * 16 + lo);
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (o + 1 >= cap || c == '\0')
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

static int name_index(const char *const *names, const char *name)
{
	for (int i = 0; names[i]; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

int api_query_values(struct api_ctx *x, const char *const *names, const char **values,
		     char *buf, size_t bufsize, struct api_error *e)
{
	const char *q = http_request_query(x->req);
	size_t used = 0;

	for (int i = 0; names[i]; i++)
		values[i] = NULL;
	while (*q) {
		const char *amp = strchr(q, '&'), *eq;
		size_t n = amp ? (size_t)(amp - q) : strlen(q);
		char name[32], *value = buf + used;
		int i;

		eq = memchr(q, '=', n);
		if (n == 0) {
			q += amp ? 1 : 0;
			continue;
		}
		if (!eq || (size_t)(eq - q) >= sizeof(name))
			return api_fail(e, 400, "invalid_query", NULL,
					"expected name=value parameters in the query");
		memcpy(name, q, (size_t)(eq - q));
		name[eq - q] = '\0';
		if ((i = name_index(names, name)) < 0)
			return api_fail(e, 400, "invalid_query", name,
					"unknown query parameter \"%s\"", name);
		/* Which of two would be meant cannot be known: neither is taken. */
		if (values[i])
			return api_fail(e, 400, "invalid_query", name, "%s: given twice", name);
		if (api_url_decode(eq + 1, n - (size_t)(eq - q) - 1, value, bufsize - used) != 0)
			return api_fail(e, 400, "invalid_query", name, "%s: bad percent-encoding",
					name);
		used += strlen(value) + 1;
		json_t *check = json_string(value);
		if (!check)
			return api_fail(e, 400, "invalid_query", name, "%s: not valid UTF-8", name);
		json_decref(check);
		values[i] = value;
		q += n + (amp ? 1 : 0);
	}
	return 0;
}

int api_query_unit(struct api_ctx *x, const char *name, const char *value, struct api_error *e)
{
	if (!config_unit(x->cfg, value))
		return api_fail(e, 422, "unknown_reference", name, "no unit has id \"%.64s\"",
				value);
	return 0;
}

int api_query_instant(const char *name, const char *value, int64_t *t, struct api_error *e)
{
	char text[64];
	size_t n = strlen(value);

	if (n < sizeof(text)) {
		memcpy(text, value, n + 1);
		/* "hh:mm:ss[.frac] HH:MM": the offset's sign, decoded from an unencoded '+'. */
		if (n > 6 && text[n - 6] == ' ' && text[n - 3] == ':')
			text[n - 6] = '+';
		if (calendar_parse_given(text, t, NULL) == 0)
			return 0;
	}
	return api_fail(e, 400, "invalid_query", name,
			"%s: expected an RFC 3339 instant like 2024-02-07T10:00:00+07:00 (in a "
			"URL, its + may also be written %%2B)", name);
}

int api_query_limit(const char *name, const char *value, int *limit, struct api_error *e)
{
	char *end;
	long v = strtol(value, &end, 10);

	if (*end || end == value || v < 1 || v > API_MAX_LIMIT)
		return api_fail(e, 400, "invalid_query", name,
				"%s: expected a whole number from 1 to %d", name, API_MAX_LIMIT);
	*limit = (int)v;
	return 0;
}

/* The cursor of the lists ordered by (due_at, id): "<due>.<id>". */
static int parse_due_cursor(const char *name, const char *value, int64_t *due, int64_t *id,
			    struct api_error *e)
{
	long long d, i;
	int consumed = 0;

	if (sscanf(value, "%lld.%lld%n", &d, &i, &consumed) != 2 ||
	    (size_t)consumed != strlen(value) || i < 0)
		return api_fail(e, 400, "invalid_query", name, "%s: not a cursor this server gave",
				name);
	*due = d;
	*id = i;
	return 0;
}

int api_query_after_id(const char *name, const char *value, int64_t *after, struct api_error *e)
{
	char *end;
	long long v = strtoll(value, &end, 10);

	if (*end || end == value || v < 0 || !(value[0] >= '0' && value[0] <= '9'))
		return api_fail(e, 400, "invalid_query", name, "%s: not a cursor this server gave",
				name);
	*after = v;
	return 0;
}

int api_parse_list_query(struct api_ctx *x, const char *const *allowed,
			 int (*status_parse)(const char *), struct store_filter *f, char *buf,
			 size_t bufsize, struct api_error *e)
{
	const char *values[32];
	size_t n = 0;

	memset(f, 0, sizeof(*f));
	f->now = x->now;
	f->due_before = f->due_after = TIME_NONE;
	f->limit = API_DEFAULT_LIMIT;
	while (allowed[n])
		n++;
	if (n >= sizeof(values) / sizeof(values[0]))
		return api_fail(e, 500, "internal", NULL, "too many query parameters");
	if (api_query_values(x, allowed, values, buf, bufsize, e) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *name = allowed[i], *value = values[i];

		if (!value)
			continue;
		if (strcmp(name, "unit") == 0) {
			if (api_query_unit(x, name, value, e) != 0)
				return -1;
			f->unit = value;
		} else if (strcmp(name, "status") == 0) {
			if (status_parse(value) < 0)
				return api_fail(e, 400, "invalid_query", name,
						"unknown status \"%.40s\"", value);
			f->status = value;
		} else if (strcmp(name, "overdue") == 0 || strcmp(name, "at_risk") == 0) {
			if (strcmp(value, "true") && strcmp(value, "false"))
				return api_fail(e, 400, "invalid_query", name,
						"%s: expected true or false", name);
			*(name[0] == 'o' ? &f->overdue : &f->at_risk) = strcmp(value, "true") == 0;
		} else if (strcmp(name, "due_before") == 0 || strcmp(name, "due_after") == 0) {
			int64_t t;
			if (api_query_instant(name, value, &t, e) != 0)
				return -1;
			*(name[4] == 'b' ? &f->due_before : &f->due_after) = t;
		} else if (strcmp(name, "as_of") == 0) {
			/* "What will be overdue on Monday morning?" */
			if (api_query_instant(name, value, &f->now, e) != 0)
				return -1;
		} else if (strcmp(name, "q") == 0) {
			if (!*value)
				return api_fail(e, 400, "invalid_query", name,
						"q: must not be empty");
			f->q = value;
		} else if (strcmp(name, "limit") == 0) {
			if (api_query_limit(name, value, &f->limit, e) != 0)
				return -1;
		} else if (strcmp(name, "cursor") == 0) {
			if (parse_due_cursor(name, value, &f->cursor_due, &f->cursor_id, e) != 0)
				return -1;
			f->has_cursor = true;
		}
	}
	return 0;
}

void api_page_init(struct api_page *pg, struct api_ctx *x, struct store_filter *f)
{
	*pg = (struct api_page){ .x = x, .items = json_array(), .want = f->limit };
	f->limit++;
}

int api_page_add(struct api_page *pg, json_t *item, int64_t due_at, int64_t id)
{
	if ((int)json_array_size(pg->items) == pg->want) {
		json_decref(item);
		pg->more = true;
		return 1;
	}
	json_array_append_new(pg->items, item);
	pg->last_due = due_at;
	pg->last_id = id;
	return 0;
}

void api_page_reply(struct api_page *pg, const char *key)
{
	json_t *cursor = json_null();

	if (pg->more) {
		char buf[48];
		snprintf(buf, sizeof(buf), "%lld.%lld", (long long)pg->last_due, (long long)pg->last_id);
		cursor = json_string(buf);
	}
	api_reply(pg->x, 200, json_pack("{s:o, s:o}", key, pg->items, "next_cursor", cursor));
}

/* --- output ----------------------------------------------------------------------------- */

json_t *api_time(struct api_ctx *x, int64_t t)
{
	return item_json_time(x->cal, t);
}

json_t *api_optional(const char *s)
{
	return item_json_optional(s);
}

static json_t *event_json(struct api_ctx *x, const struct store_event *ev)
{
	return item_json_event(x->cal, ev);
}

int api_record_event(struct api_ctx *x, const char *kind, int64_t item_id, const char *type,
		     int64_t at, json_t *data, int64_t due_at, json_t **out, struct api_error *e)
{
	/* Objects keep their insertion order: the request's own order is kept as it came. A flat
	 * object (every create, most events) is written without jansson's encoder, byte for byte
	 * the same. */
	struct item_text t = { 0 };
	size_t len;
	char *text = item_text_object(&t, data) == 0 ? item_text_take(&t, &len)
						       : json_dumps(data, JSON_COMPACT);
	struct store_event ev = {
		.item_kind = kind, .item_id = item_id, .type = type, .at = at, .actor = x->actor,
		.data = text, .due_at = due_at, .recorded_at = x->now,
	};
	struct err err;
	int rc = -1;

	if (!text)
		return api_fail(e, 500, "internal", NULL, "cannot encode the event");
	if (store_event_append(x->store, &ev, &err) != STORE_OK) {
		api_fail(e, 503, "unavailable", NULL, "cannot record the event: %s", err.msg);
	} else {
		rc = 0;
		if (out)
			*out = event_json(x, &ev);
	}
	free(text);
	return rc;
}

struct event_list {
	struct api_ctx *x;
	json_t *items;
};

static int collect_event(void *ctx, const struct store_event *ev)
{
	struct event_list *l = ctx;
	json_array_append_new(l->items, event_json(l->x, ev));
	return 0;
}

void api_list_events(struct api_ctx *x, const char *kind, int64_t item_id)
{
	struct event_list l = { x, json_array() };
	struct err err;

	if (store_event_list(x->store, kind, item_id, collect_event, &l, &err) != STORE_OK) {
		json_decref(l.items);
		reply_fail(x, 503, "unavailable", NULL, "cannot read the events");
		return;
	}
	api_reply(x, 200, json_pack("{s:o}", "events", l.items));
}

/* --- work in the thread pool ------------------------------------------------------------ */

#define API_WARM_INTERVAL_MS 60000

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

static void finish_close(struct api *api);

static void job_work(uv_work_t *w)
{
	struct api_job *job = container_of(w, struct api_job, work);
	enum store_status status;
	struct err err;
	struct store *ro = store_open_readonly(job->db_path, &status, &err);

	if (!ro) {
		job->rc = api_fail(&job->error, 503, "unavailable", NULL,
				   "cannot read the database: %s", err.msg);
		return;
	}
	job->rc = job->run(job, ro, &job->error);
	store_close(ro);
}

static void job_done(uv_work_t *w, int status)
{
	struct api_job *job = container_of(w, struct api_job, work);
	struct api *api = job->api;
	struct api_ctx x;

	api_ctx_init(&x, api, NULL);
	x.req = job->req;
	/* The configuration the request was checked against, even if a reload replaced it. */
	x.cfg = job->cfg;
	x.cal = job->cfg->calendar;
	x.now = job->now;
	if (status != 0)
		api_fail(&job->error, 503, "unavailable", NULL, "the report was cancelled: %s",
			 uv_strerror(status));
	if (status != 0 || job->rc != 0) {
		if (x.req) /* a job of the daemon's own (no request) has no one to answer */
			api_reply_error(&x, &job->error);
	} else {
		job->reply(job, &x);
	}
	config_unref(job->cfg);
	job->free(job);
	api->jobs--;
	log_debug("api: report answered (%u in flight)", api->jobs);
	if (api->jobs == 0 && api->closing && api->durable >= last_commit(api))
		finish_close(api);
}

void api_job_queue(struct api_ctx *x, struct api_job *job)
{
	struct api *api = x->api;
	struct api_error e;
	int rc;

	job->api = api;
	job->req = x->req;
	job->now = x->now;
	job->rc = 0;
	job->db_path = store_path(api->store);
	if (!job->db_path) {
		api_fail(&e, 503, "unavailable", NULL, "reports need the daemon's database");
		goto fail;
	}
	job->cfg = config_ref(x->cfg);
	if ((rc = uv_queue_work(api->loop, &job->work, job_work, job_done)) != 0) {
		config_unref(job->cfg);
		api_fail(&e, 503, "unavailable", NULL, "cannot start the report: %s",
			 uv_strerror(rc));
		goto fail;
	}
	api->jobs++;
	log_debug("api: report queued (%u in flight)", api->jobs);
	return;
fail:
	job->free(job);
	if (x->req)
		api_reply_error(x, &e);
}

/* --- authentication ----------------------------------------------------------------------- */

/* The token of an "Authorization: Bearer <token>" header, or NULL. */
static const char *bearer_token(const char *header)
{
	if (!header || strncasecmp(header, "Bearer ", 7) != 0)
		return NULL;
	header += 7;
	while (*header == ' ')
		header++;
	return *header ? header : NULL;
}

/* The configured token whose SHA-256 is digest, compared in constant time against every
 * configured token so that timing tells nothing about which (or whether one) matched. */
static const struct config_token *token_of_digest(const struct config *cfg,
						  const unsigned char digest[SHA256_DIGEST_LENGTH])
{
	const struct config_token *found = NULL;

	for (size_t i = 0; i < cfg->ntokens; i++)
		if (CRYPTO_memcmp(digest, cfg->tokens[i].sha256, SHA256_DIGEST_LENGTH) == 0)
			found = &cfg->tokens[i];
	return found;
}

/* The token of a request, hashed through the api's fetched SHA-256 (the one-shot SHA256()
 * fetches the algorithm at every call: 5 800 against 2 000 instructions a request). */
static const struct config_token *authenticate_checked(struct api *api, const char *header,
						       bool *no_memory)
{
	const char *token = bearer_token(header);
	unsigned char digest[SHA256_DIGEST_LENGTH];

	*no_memory = false;
	if (!token)
		return NULL;
	if (api_sha256(api, token, strlen(token), digest) != 0) {
		*no_memory = true;
		return NULL;
	}
	return token_of_digest(api->cfg, digest);
}

/* The same for the dashboard (dashboard_token_fn), where no memory is no token. */
static const struct config_token *authenticate(const struct config *cfg, const char *header)
{
	const char *token = bearer_token(header);
	unsigned char digest[SHA256_DIGEST_LENGTH];

	/* SHA256() fails without memory (OpenSSL 3 allocates a context), leaving digest as the
	 * stack was: maybe the digest of the last request's token. */
	if (!token || !SHA256((const unsigned char *)token, strlen(token), digest))
		return NULL;
	return token_of_digest(cfg, digest);
}

/* --- routing ---------------------------------------------------------------------------- */

enum route_kind {
	R_CASES, R_CASES_BATCH, R_CASE, R_CASE_EVENTS,
	R_DOCUMENTS, R_DOCUMENT, R_DOCUMENT_EVENTS, R_DOCUMENT_ASSIGNMENTS,
	R_ASSIGNMENTS, R_ASSIGNMENT, R_ASSIGNMENT_EVENTS, R_ASSIGNMENT_ASSIGNMENTS,
	R_ALERTS, R_ALERT_ACK, R_OUTBOX, R_OUTBOX_RETRY,
	R_STATUS, R_KPI, R_KPI_BUDGET, R_DIRECTIVE_CASCADE, R_INSPECTIONS,
	R_BACKUP, R_METRICS, R_READYZ,
	R_NONE
};

/* Each route's template: the label of GET /metrics' request counts, never the raw path, so that
 * a client cannot make series without end. */
static const char *const route_templates[R_NONE + 1] = {
	[R_CASES] = "/api/v1/cases",
	[R_CASES_BATCH] = "/api/v1/cases:batch",
	[R_CASE] = "/api/v1/cases/{code}",
	[R_CASE_EVENTS] = "/api/v1/cases/{code}/events",
	[R_DOCUMENTS] = "/api/v1/documents",
	[R_DOCUMENT] = "/api/v1/documents/{id}",
	[R_DOCUMENT_EVENTS] = "/api/v1/documents/{id}/events",
	[R_DOCUMENT_ASSIGNMENTS] = "/api/v1/documents/{id}/assignments",
	[R_ASSIGNMENTS] = "/api/v1/assignments",
	[R_ASSIGNMENT] = "/api/v1/assignments/{id}",
	[R_ASSIGNMENT_EVENTS] = "/api/v1/assignments/{id}/events",
	[R_ASSIGNMENT_ASSIGNMENTS] = "/api/v1/assignments/{id}/assignments",
	[R_ALERTS] = "/api/v1/alerts",
	[R_ALERT_ACK] = "/api/v1/alerts/{id}/ack",
	[R_OUTBOX] = "/api/v1/outbox",
	[R_OUTBOX_RETRY] = "/api/v1/outbox/{id}/retry",
	[R_STATUS] = "/api/v1/status",
	[R_KPI] = "/api/v1/kpi",
	[R_KPI_BUDGET] = "/api/v1/kpi/budget",
	[R_DIRECTIVE_CASCADE] = "/api/v1/directives/{id}/cascade",
	[R_INSPECTIONS] = "/api/v1/inspections",
	[R_BACKUP] = "/api/v1/backup",
	[R_METRICS] = "/metrics",
	[R_READYZ] = "/readyz",
	[R_NONE] = "other",
};

struct route {
	enum route_kind kind;
	char key[CASE_ID_MAX + 1]; /* {code} */
	int64_t id;                /* {id} */
};

/* Splits "/api/v1/<a>[/<b>[/<c>]]". */
static void match_route(const char *path, struct route *r)
{
	static const char prefix[] = "/api/v1/";
	char seg[3][80];
	int n = 0;
	const char *p;

	r->kind = R_NONE;
	if (strcmp(path, "/metrics") == 0 || strcmp(path, "/readyz") == 0) {
		r->kind = path[1] == 'm' ? R_METRICS : R_READYZ;
		return;
	}
	if (strncmp(path, prefix, sizeof(prefix) - 1) != 0)
		return;
	p = path + sizeof(prefix) - 1;
	while (*p && n < 3) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (len == 0 || len >= sizeof(seg[0]))
			return;
		memcpy(seg[n], p, len);
		seg[n++][len] = '\0';
		p += len + (slash ? 1 : 0);
		if (slash && !*p)
			return; /* a trailing slash */
	}
	if (*p || n == 0)
		return; /* more than three segments, or "/api/v1/" alone */
	if (strcmp(seg[0], "cases") == 0) {
		if (n == 1)
			r->kind = R_CASES;
		else if (is_ident(seg[1]) && strlen(seg[1]) <= CASE_ID_MAX) {
			memcpy(r->key, seg[1], strlen(seg[1]) + 1);
			r->kind = n == 2 ? R_CASE : strcmp(seg[2], "events") == 0 ? R_CASE_EVENTS : R_NONE;
		}
		return;
	}
	if (strcmp(seg[0], "cases:batch") == 0 && n == 1) {
		r->kind = R_CASES_BATCH;
		return;
	}
	if (n == 1 && strcmp(seg[0], "status") == 0) {
		r->kind = R_STATUS;
		return;
	}
	if (n == 1 && strcmp(seg[0], "inspections") == 0) {
		r->kind = R_INSPECTIONS;
		return;
	}
	if (n == 1 && strcmp(seg[0], "backup") == 0) {
		r->kind = R_BACKUP;
		return;
	}
	if (strcmp(seg[0], "kpi") == 0) {
		if (n == 1)
			r->kind = R_KPI;
		else if (n == 2 && strcmp(seg[1], "budget") == 0)
			r->kind = R_KPI_BUDGET;
		return;
	}
	if (strcmp(seg[0], "directives") == 0) {
		char *dend;
		long long did = n == 3 ? strtoll(seg[1], &dend, 10) : 0;
		if (n == 3 && !*dend && seg[1][0] >= '1' && seg[1][0] <= '9' && did > 0 &&
		    strcmp(seg[2], "cascade") == 0) {
			r->id = did;
			r->kind = R_DIRECTIVE_CASCADE;
		}
		return;
	}
	if (strcmp(seg[0], "outbox") == 0) {
		char *oend;
		long long oid = n >= 2 ? strtoll(seg[1], &oend, 10) : 0;
		if (n == 1)
			r->kind = R_OUTBOX;
		else if (n == 3 && !*oend && seg[1][0] >= '1' && seg[1][0] <= '9' && oid > 0 &&
			 strcmp(seg[2], "retry") == 0) {
			r->id = oid;
			r->kind = R_OUTBOX_RETRY;
		}
		return;
	}
	if (strcmp(seg[0], "alerts") == 0) {
		char *aend;
		long long aid;
		if (n == 1) {
			r->kind = R_ALERTS;
			return;
		}
		aid = strtoll(seg[1], &aend, 10);
		if (n == 3 && !*aend && seg[1][0] >= '1' && seg[1][0] <= '9' && aid > 0 &&
		    strcmp(seg[2], "ack") == 0) {
			r->id = aid;
			r->kind = R_ALERT_ACK;
		}
		return;
	}
	bool documents = strcmp(seg[0], "documents") == 0;
	if (!documents && strcmp(seg[0], "assignments") != 0)
		return;
	if (n == 1) {
		r->kind = documents ? R_DOCUMENTS : R_ASSIGNMENTS;
		return;
	}
	char *end;
	long long id = strtoll(seg[1], &end, 10);
	if (*end || seg[1][0] < '1' || seg[1][0] > '9' || id <= 0)
		return;
	r->id = id;
	if (n == 2)
		r->kind = documents ? R_DOCUMENT : R_ASSIGNMENT;
	else if (strcmp(seg[2], "events") == 0)
		r->kind = documents ? R_DOCUMENT_EVENTS : R_ASSIGNMENT_EVENTS;
	else if (strcmp(seg[2], "assignments") == 0)
		r->kind = documents ? R_DOCUMENT_ASSIGNMENTS : R_ASSIGNMENT_ASSIGNMENTS;
}

/* The methods each route allows: GET, POST or both. */
static const char *allowed_methods(enum route_kind k)
{
	switch (k) {
	case R_CASES_BATCH:
	case R_ALERT_ACK:
	case R_OUTBOX_RETRY:
	case R_BACKUP:
		return "POST";
	case R_METRICS:
	case R_READYZ:
		return "GET, HEAD";
	case R_ALERTS:
	case R_OUTBOX:
	case R_STATUS:
	case R_KPI:
	case R_KPI_BUDGET:
	case R_DIRECTIVE_CASCADE:
	case R_CASE:
	case R_DOCUMENT:
	case R_ASSIGNMENT:
		return "GET";
	default:
		return "GET, POST";
	}
}

static void dispatch(struct api_ctx *x, const struct route *r, bool post)
{
	switch (r->kind) {
	case R_CASES: post ? api_cases_create(x) : api_cases_list(x); break;
	case R_CASES_BATCH: api_cases_batch(x); break;
	case R_CASE: api_cases_get(x, r->key); break;
	case R_CASE_EVENTS: post ? api_cases_event(x, r->key) : api_cases_events(x, r->key); break;
	case R_DOCUMENTS: post ? api_documents_create(x) : api_documents_list(x); break;
	case R_DOCUMENT: api_documents_get(x, r->id); break;
	case R_DOCUMENT_EVENTS:
		post ? api_documents_event(x, r->id) : api_documents_events(x, r->id);
		break;
	case R_DOCUMENT_ASSIGNMENTS:
		post ? api_assignments_create(x, r->id, 0) : api_assignments_list(x, r->id, 0);
		break;
	case R_ASSIGNMENTS: post ? api_assignments_create(x, 0, 0) : api_assignments_list(x, 0, 0); break;
	case R_ASSIGNMENT: api_assignments_get(x, r->id); break;
	case R_ASSIGNMENT_EVENTS:
		post ? api_assignments_event(x, r->id) : api_assignments_events(x, r->id);
		break;
	case R_ASSIGNMENT_ASSIGNMENTS:
		post ? api_assignments_create(x, 0, r->id) : api_assignments_list(x, 0, r->id);
		break;
	case R_ALERTS: api_alerts_list(x); break;
	case R_ALERT_ACK: api_alerts_ack(x, r->id); break;
	case R_OUTBOX: api_outbox_list(x); break;
	case R_OUTBOX_RETRY: api_outbox_retry(x, r->id); break;
	case R_STATUS: api_status(x); break;
	case R_KPI: api_kpi(x); break;
	case R_KPI_BUDGET: api_kpi_budget(x); break;
	case R_DIRECTIVE_CASCADE: api_directive_cascade(x, r->id); break;
	case R_INSPECTIONS: post ? api_inspections_create(x) : api_inspections_list(x); break;
	case R_BACKUP: api_backup(x); break;
	case R_METRICS: api_metrics(x); break;
	case R_READYZ: api_readyz(x); break;
	case R_NONE:
		break;
	}
}

void api_handle(struct http_request *req, void *ctx)
{
	static const char ok[] = "{\"status\":\"ok\"}";
	struct api *api = ctx;
	const char *method = http_request_method(req);
	const char *path = http_request_path(req);
	const struct config_token *token;
	bool no_memory;
	struct route route;
	bool get, post;

	if (strcmp(path, "/healthz") == 0) {
		if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
			static const char body[] =
				"{\"error\":{\"code\":\"method_not_allowed\",\"message\":\"use GET\"}}";
			const struct http_header allow = { "Allow", "GET, HEAD" };
			http_respond(req, 405, "application/json", body, sizeof(body) - 1, &allow, 1);
		} else if (api->stopping) {
			http_respond_error(req, 503, "unavailable", "dunghand is stopping");
		} else {
			http_respond(req, 200, "application/json", ok, sizeof(ok) - 1, NULL, 0);
		}
		return;
	}
	struct api_ctx x;

	api_ctx_init(&x, api, NULL);
	x.req = req;
	match_route(path, &route);
	if (route.kind == R_NONE) {
		/* The dashboard's pages: the paths that are not the API's or the probes'. */
		if (api->cfg->dashboard.enabled && dashboard_path(path) && !api->stopping)
			dashboard_handle(&x, authenticate);
		else if (api->cfg->dashboard.enabled && dashboard_path(path))
			reply_fail(&x, 503, "unavailable", NULL, "dunghand is stopping");
		else
			reply_fail(&x, 404, "not_found", NULL, "no such endpoint");
		return;
	}
	get = strcmp(method, "GET") == 0;
	post = strcmp(method, "POST") == 0;
	const char *allow = allowed_methods(route.kind);
	/* HEAD is a GET whose body the server leaves out, where a probe may use it. */
	if (strcmp(method, "HEAD") == 0 && strstr(allow, "HEAD"))
		get = true;
	if (!(get && strstr(allow, "GET")) && !(post && strstr(allow, "POST"))) {
		char body[200];
		int n = snprintf(body, sizeof(body),
				 "{\"error\":{\"code\":\"method_not_allowed\",\"message\":\"use %s\"}}",
				 allow);
		const struct http_header h = { "Allow", allow };
		http_respond(req, 405, "application/json", body, (size_t)n, &h, 1);
		return;
	}
	if (api->stopping) {
		reply_fail(&x, 503, "unavailable", NULL, "dunghand is stopping");
		return;
	}
	/* Probes and scrapers: readiness never needs a token, metrics only when configured. */
	if (route.kind == R_READYZ ||
	    (route.kind == R_METRICS && !api->cfg->server.metrics_token)) {
		dispatch(&x, &route, false);
		return;
	}
	token = authenticate_checked(api, http_request_header(req, "authorization"), &no_memory);
	if (no_memory) {
		reply_fail(&x, 503, "unavailable", NULL, "out of memory; retry");
		return;
	}
	if (!token) {
		const struct http_header h = { "WWW-Authenticate", "Bearer realm=\"dunghan\"" };
		static const char body[] = "{\"error\":{\"code\":\"unauthorized\",\"message\":"
					   "\"a valid token is required: Authorization: Bearer <token>\"}}";
		http_respond(req, 401, "application/json", body, sizeof(body) - 1, &h, 1);
		return;
	}
	if (route.kind == R_METRICS) {
		if (!(token->scopes & CONFIG_SCOPE_ADMIN) &&
		    strcmp(token->name, api->cfg->server.metrics_token) != 0) {
			reply_fail(&x, 403, "forbidden", NULL,
				   "metrics need the token server.metrics_token names (or scope "
				   "admin)");
			return;
		}
		dispatch(&x, &route, false);
		return;
	}
	/* The outbox holds whole messages about people, a backup the whole database: operators
	 * only. */
	bool admin = route.kind == R_OUTBOX || route.kind == R_OUTBOX_RETRY ||
		     route.kind == R_BACKUP;
	unsigned need = admin ? CONFIG_SCOPE_ADMIN
		      : post ? CONFIG_SCOPE_WRITE : CONFIG_SCOPE_READ;
	if (!(token->scopes & (need | CONFIG_SCOPE_ADMIN))) {
		reply_fail(&x, 403, "forbidden", NULL,
			   route.kind == R_BACKUP ? "a backup needs scope admin"
			   : admin ? "the outbox needs scope admin"
			   : post ? "this token may not make changes (scope write needed)"
				  : "this token may not read (scope read needed)");
		return;
	}
	x.actor = token->name;
	dispatch(&x, &route, post);
}

void api_on_response(const struct http_request *req, int status, void *ctx)
{
	struct api *api = ctx;
	const char *route = "rejected"; /* the HTTP server's own answer: no request was taken */
	struct route r;

	if (req) {
		const char *path = http_request_path(req);
		if (strcmp(path, "/healthz") == 0) {
			route = "/healthz";
		} else {
			match_route(path, &r);
			route = route_templates[r.kind];
			if (r.kind == R_NONE && api->cfg->dashboard.enabled && dashboard_path(path))
				route = dashboard_route(path);
		}
	}
	metrics_count_request(api->metrics, route, status);
}

/* --- lifecycle -------------------------------------------------------------------------- */

static void api_free_memory(struct api *api);


static void on_handle_gone(void *arg);

/* The time of each sync of the WAL, for the metrics (wal_sync_observe). */
static void observe_wal_sync(void *metrics, double seconds)
{
	metrics_observe_wal_sync(metrics, seconds);
}

/* Closes the sync thread and its handle, one of api's: the last handle gone frees api. */
static void close_sync(struct api *api)
{
	if (!api->sync)
		return;
	if (api->deliver)
		deliver_use_wal_sync(api->deliver, NULL);
	api->open_handles++;
	wal_sync_close(api->sync, on_handle_gone, api);
	api->sync = NULL;
}

static void api_free_memory(struct api *api)
{
	EVP_MD_CTX_free(api->sha256_ctx);
	EVP_MD_free(api->sha256);
	kpi_snapshot_free(api->snapshot);
	free(api);
}

static void on_handle_gone(void *arg)
{
	struct api *api = arg;
	void (*cb)(void *) = api->close_cb;
	void *cb_arg = api->close_arg;

	if (--api->open_handles > 0)
		return;
	api_free_memory(api);
	if (cb)
		cb(cb_arg);
}

static void on_closed(uv_handle_t *h)
{
	on_handle_gone(h->data);
}

/* After start and every minute: the dashboard's top pages computed ahead of the first view. */
static void on_warm(uv_timer_t *t)
{
	struct api *api = t->data;
	struct api_ctx x;

	if (api->stopping || api->closing)
		return;
	api_ctx_init(&x, api, NULL);
	dashboard_warm(&x);
}

int api_track_failed(struct api_error *e, const struct err *err)
{
	return api_fail(e, 503, "unavailable", NULL, "cannot arm the deadline rules: %s", err->msg);
}

struct api *api_new(uv_loop_t *loop, struct store *store, struct scheduler *sched,
		    struct deliver *deliver, const struct config *cfg, struct err *err)
{
	struct api *api = calloc(1, sizeof(*api));
	int rc;

	if (!api) {
		err_set(err, NULL, "out of memory");
		return NULL;
	}
	api->loop = loop;
	api->store = store;
	api->sched = sched;
	api->deliver = deliver;
	api->cfg = cfg;
	api->started_at = (int64_t)time(NULL);
	if (!(api->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) ||
	    !(api->sha256_ctx = EVP_MD_CTX_new())) {
		err_set(err, NULL, "cannot set up SHA-256 (OpenSSL)");
		api_free_memory(api);
		return NULL;
	}
	if (!(api->snapshot = kpi_snapshot_new())) {
		err_set(err, NULL, "out of memory");
		api_free_memory(api);
		return NULL;
	}
	if (store_path(store)) {
		char wal[4096];
		snprintf(wal, sizeof(wal), "%s-wal", store_path(store));
		if (!(api->sync = wal_sync_new(loop, wal, on_synced, api, err))) {
			api_free_memory(api);
			return NULL;
		}
		if (deliver)
			deliver_use_wal_sync(deliver, api->sync);
	}
	if (!(api->metrics = metrics_new(loop, err))) {
		if (!api->sync) {
			api_free_memory(api);
			return NULL;
		}
		close_sync(api); /* frees api, its last handle */
		return NULL;
	}
	if (api->sync)
		wal_sync_observe(api->sync, observe_wal_sync, api->metrics);
	api->open_handles = 1;
	if ((rc = uv_check_init(loop, &api->commit)) != 0) {
		err_set(err, NULL, "cannot create the commit handle: %s", uv_strerror(rc));
		close_sync(api);
		metrics_close(api->metrics, on_handle_gone, api);
		return NULL;
	}
	api->commit.data = api;
	api->open_handles++;
	if ((rc = uv_timer_init(loop, &api->warm)) != 0) {
		err_set(err, NULL, "cannot create the warming timer: %s", uv_strerror(rc));
		close_sync(api);
		uv_close((uv_handle_t *)&api->commit, on_closed);
		metrics_close(api->metrics, on_handle_gone, api);
		return NULL;
	}
	api->warm.data = api;
	api->open_handles++;
	if ((rc = uv_check_start(&api->commit, on_check)) != 0 ||
	    (rc = uv_timer_start(&api->warm, on_warm, 0, API_WARM_INTERVAL_MS)) != 0) {
		err_set(err, NULL, "cannot start the commit handle or the warming timer: %s",
			uv_strerror(rc));
		/* the handles are initialised: they must be closed, then api freed (on_closed) */
		close_sync(api);
		uv_close((uv_handle_t *)&api->warm, on_closed);
		uv_close((uv_handle_t *)&api->commit, on_closed);
		metrics_close(api->metrics, on_handle_gone, api);
		return NULL;
	}
	uv_unref((uv_handle_t *)&api->warm); /* it alone must not keep the loop running */
	return api;
}

void api_set_config(struct api *api, const struct config *cfg)
{
	int rc;

	api->cfg = cfg;
	/* The dashboard's figures depend on the targets and the units: dropped, and the top
	 * unit's warmed again at once rather than at the next tick. */
	kpi_snapshot_clear(api->snapshot);
	if ((rc = uv_timer_start(&api->warm, on_warm, 0, API_WARM_INTERVAL_MS)) != 0)
		log_warn("api: cannot restart the dashboard's warming: %s", uv_strerror(rc));
}

void api_stop_accepting(struct api *api)
{
	api->stopping = true;
}

static void finish_close(struct api *api)
{
	close_sync(api);
	uv_close((uv_handle_t *)&api->warm, on_closed);
	uv_close((uv_handle_t *)&api->commit, on_closed);
	metrics_close(api->metrics, on_handle_gone, api);
}

void api_close(struct api *api, void (*cb)(void *arg), void *arg)
{
	commit_turn(api);
	api->close_cb = cb;
	api->close_arg = arg;
	api->closing = true;
	/* Delivery closes right after this (main.c), and its last outcomes are synced in its
	 * close: it must not ask this sync thread again, nor be reached once freed. */
	if (api->deliver)
		deliver_use_wal_sync(api->deliver, NULL);
	api->deliver = NULL;
	/* A report in the thread pool still answers through the api, and the last commits wait
	 * for their sync (delivery's too): the last of them closes. */
	if (api->jobs == 0 && api->durable >= last_commit(api))
		finish_close(api);
}

void api_on_fatal(struct api *api, void (*cb)(void *arg), void *arg)
{
	api->fatal = cb;
	api->fatal_arg = arg;
}
