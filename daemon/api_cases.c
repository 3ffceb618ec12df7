/* api_cases: the one-stop case routes of the API (docs/api.md, "One-stop cases"): create
 * (idempotent on code), batch create from NDJSON, read, search, events. The rules themselves
 * are in case.c; this file validates, looks references up, stores and answers. */
#include "api_internal.h"
#include "item_json.h"
#include "json_flat.h"

#include <stdlib.h>
#include <string.h>

#define BATCH_MAX_LINES 10000

static const char *const online_choices[] = { "none", "partial", "full", NULL };

static const struct api_field create_fields[] = {
	{ "code", API_ID, true, CASE_ID_MAX, NULL },
	{ "procedure", API_ID, true, CASE_ID_MAX, NULL },
	{ "unit", API_ID, true, CASE_ID_MAX, NULL },
	{ "handler", API_ID, false, CASE_ID_MAX, NULL },
	{ "applicant", API_STRING, false, CASE_TEXT_MAX, NULL },
	{ "received_at", API_INSTANT, false, 0, NULL },
	{ "due_at", API_INSTANT, false, 0, NULL },
	{ "online", API_ENUM, false, 0, online_choices },
	{ "paid_online", API_BOOL, false, 0, NULL },
	{ "digitized", API_BOOL, false, 0, NULL },
	{ "fee", API_AMOUNT, false, 0, NULL },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static json_t *case_json(struct api_ctx *x, const struct case_record *c)
{
	return item_json_case(x->cfg, x->cal, c);
}

/* The facts of a configured procedure that the case rules use (NULL: a procedure removed from
 * the configuration since; nothing to extend, restart from zero days). */
static struct case_procedure case_rules_of(const struct config_procedure *p)
{
	struct case_procedure r = { 0 };

	if (p) {
		r.days = p->days;
		r.extended_days = p->extended_days;
		r.cutoff_min = p->cutoff_min;
		r.resume_continue = strcmp(p->on_resume, "continue") == 0;
	}
	return r;
}

/* References must exist in the running configuration: 422 names the field. */
static int check_person(struct api_ctx *x, const char *field, const char *id, struct api_error *e)
{
	if (id && !config_person(x->cfg, id))
		return api_fail(e, 422, "unknown_reference", field, "no person has id \"%s\"", id);
	return 0;
}

static int check_unit(struct api_ctx *x, const char *field, const char *id, struct api_error *e)
{
	if (id && !config_unit(x->cfg, id))
		return api_fail(e, 422, "unknown_reference", field, "no unit has id \"%s\"", id);
	return 0;
}

/* The canonical text through a jansson tree, for bodies holding arrays, objects or reals (only
 * possible with server.strict_fields off). */
static int hash_tree(struct api *api, json_t *body, unsigned char hash[32])
{
	json_t *canon = json_object();
	const char *key;
	json_t *v;
	char *text;
	int rc;

	if (!canon)
		return -1;
	json_object_foreach(body, key, v) {
		if (json_is_null(v))
			continue;
		if (strcmp(key, "received_at") == 0 || strcmp(key, "due_at") == 0)
			json_object_set_new(canon, key, json_integer(api_instant(body, key, 0)));
		else
			json_object_set(canon, key, v);
	}
	text = json_dumps(canon, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(canon);
	if (!text)
		return -1;
	rc = api_sha256(api, text, strlen(text), hash);
	free(text);
	return rc;
}

#define HASH_KEYS 32

/* The SHA-256 of the request as it was meant: instants as numbers, nulls dropped, keys sorted,
 * so that a retry with the same content in another spelling is recognised. The text hashed is
 * json_dumps(canonical object, JSON_COMPACT | JSON_SORT_KEYS), as the stored hashes were made;
 * for a body of scalars (every valid create) it is written here without building that object. */
static int create_hash(struct api *api, json_t *body, unsigned char hash[32])
{
	const char *keys[HASH_KEYS], *key;
	json_t *vals[HASH_KEYS], *v;
	struct item_text t = { 0 };
	size_t n = 0, len, i;
	char *text;
	int rc;

	json_object_foreach(body, key, v) {
		if (json_is_null(v))
			continue;
		if (n == HASH_KEYS || json_is_object(v) || json_is_array(v) || json_is_real(v))
			return hash_tree(api, body, hash);
		for (i = n; i > 0 && strcmp(keys[i - 1], key) > 0; i--) {
			keys[i] = keys[i - 1];
			vals[i] = vals[i - 1];
		}
		keys[i] = key;
		vals[i] = v;
		n++;
	}
	item_text_raw(&t, "{", 1);
	for (i = 0; i < n; i++) {
		if (i)
			item_text_raw(&t, ",", 1);
		item_text_str(&t, keys[i], strlen(keys[i]));
		item_text_raw(&t, ":", 1);
		if (strcmp(keys[i], "received_at") == 0 || strcmp(keys[i], "due_at") == 0)
			item_text_int(&t, api_instant(body, keys[i], 0));
		else
			item_text_scalar(&t, vals[i]);
	}
	item_text_raw(&t, "}", 1);
	if (!(text = item_text_take(&t, &len)))
		return -1;
	rc = api_sha256(api, text, len, hash);
	free(text);
	return rc;
}

/* s (NULL: "") into buf of n bytes, cut to fit as snprintf would; without snprintf's format
 * machinery, five of them a case cost 3 000 instructions. */
static void copy_text(char *buf, size_t n, const char *s)
{
	size_t len = s ? strlen(s) : 0;

	if (len >= n)
		len = n - 1;
	memcpy(buf, s ? s : "", len);
	buf[len] = '\0';
}

/* Validates body and looks its code up, writing nothing: everything that can refuse a create
 * is checked here, so that the writes after it fail only when the database does. *status is
 * 201 with *c the new case to write (id 0), or 200 with *c the stored case of the same
 * content; or returns -1 with e (409 when the code holds other content). */
static int check_case(struct api_ctx *x, json_t *body, struct case_record *c,
		      unsigned char hash[32], int *status, struct api_error *e)
{
	const struct config_procedure *proc;
	struct case_procedure rules;
	unsigned char stored_hash[32];
	struct err err;
	const char *code, *unit, *handler, *online;

	if (api_check_fields(x, body, create_fields, N(create_fields), e) != 0)
		return -1;
	/* each a hash lookup in body: once */
	code = api_str(body, "code");
	unit = api_str(body, "unit");
	handler = api_str(body, "handler");
	online = api_str(body, "online");
	proc = config_procedure(x->cfg, api_str(body, "procedure"));
	if (!proc)
		return api_fail(e, 422, "unknown_reference", "procedure",
				"no procedure has code \"%s\"", api_str(body, "procedure"));
	if (check_unit(x, "unit", unit, e) != 0 || check_person(x, "handler", handler, e) != 0)
		return -1;
	if (!config_case_code_ok(x->cfg, code))
		return api_fail(e, 400, "invalid_field", "code",
				"code: \"%s\" does not have the shape of a case code (cases.code_pattern)",
				code);
	if (create_hash(x->api, body, hash) != 0)
		return api_fail(e, 500, "internal", NULL, "out of memory");

	memset(c, 0, sizeof(*c));
	switch (store_case_get(x->store, code, c, stored_hash, &err)) {
	case STORE_OK:
		if (memcmp(hash, stored_hash, 32) != 0)
			return api_fail(e, 409, "conflict", "code",
					"a case with code \"%s\" exists with different data",
					c->code);
		*status = 200;
		return 0;
	case STORE_NOT_FOUND:
		break;
	default:
		return api_fail(e, 503, "unavailable", NULL, "%s", err.msg);
	}

	copy_text(c->code, sizeof(c->code), code);
	copy_text(c->procedure, sizeof(c->procedure), proc->code);
	copy_text(c->unit, sizeof(c->unit), unit);
	copy_text(c->handler, sizeof(c->handler), handler);
	copy_text(c->applicant, sizeof(c->applicant), api_str(body, "applicant"));
	c->received_at = api_instant(body, "received_at", x->now);
	if (c->received_at > x->now + API_FUTURE_SLACK)
		return api_fail(e, 400, "invalid_field", "received_at",
				"received_at: the case cannot be received in the future");
	c->due_at = api_instant(body, "due_at", TIME_NONE);
	c->due_given = c->due_at != TIME_NONE;
	rules = case_rules_of(proc);
	if (!c->due_given)
		c->due_at = case_due(x->cal, c->received_at, &rules);
	else if (c->due_at <= c->received_at)
		return api_fail(e, 400, "invalid_field", "due_at",
				"due_at: the appointment must be after received_at");
	c->online = online ? (enum case_online)case_online_parse(online) : CASE_ONLINE_NONE;
	c->paid_online = api_bool(body, "paid_online");
	c->digitized = api_bool(body, "digitized");
	c->fee = api_int(body, "fee", 0);
	c->status = CASE_RECEIVED;
	c->paused_at = c->completed_at = c->ended_at = c->rated_at = TIME_NONE;
	c->version = 1;
	c->created_at = c->updated_at = x->now;
	*status = 201;
	return 0;
}

/* Writes the new case c that check_case accepted (its id is set): the row, its deadline watch
 * and its create event. -1 with e (503) only when the database fails; what was written of it
 * then stays until the caller rolls back. */
static int write_case(struct api_ctx *x, json_t *body, struct case_record *c,
		      const unsigned char hash[32], struct api_error *e)
{
	struct err err;

	switch (store_case_insert(x->store, c, hash, &err)) {
	case STORE_OK:
		break;
	case STORE_CONFLICT:
		return api_fail(e, 409, "conflict", "code", "a case with code \"%s\" exists",
				c->code);
	default:
		return api_fail(e, 503, "unavailable", NULL, "%s", err.msg);
	}
	if (scheduler_track_new_case(x->sched, c, &err) != 0)
		return api_track_failed(e, &err);
	return api_record_event(x, "case", c->id, "create", c->received_at, body, c->due_at, NULL,
				e);
}

void api_cases_create(struct api_ctx *x)
{
	struct api_error e;
	size_t len;
	const char *data = http_request_body(x->req, &len);
	json_t *body = api_parse_body(x, data, len, &e);
	struct case_record c;
	unsigned char hash[32];
	struct item_text t = { 0 };
	char *text;
	int status = 0, rc;

	if (!body) {
		api_reply_error(x, &e);
		return;
	}
	if (api_write_join(x, &e) != 0) {
		json_decref(body);
		api_reply_error(x, &e);
		return;
	}
	rc = check_case(x, body, &c, hash, &status, &e);
	if (rc == 0 && status == 201) {
		if (write_case(x, body, &c, hash, &e) != 0) {
			json_decref(body);
			api_write_abandon(x, &e);
			return;
		}
		api_write_kept(x);
	}
	json_decref(body);
	if (rc != 0) {
		api_reply_error(x, &e);
		return;
	}
	item_text_case(&t, x->cfg, x->cal, &c);
	text = item_text_take(&t, &len);
	api_reply_body(x, status, "application/json", text, len, NULL, 0);
}

/* The codes a dry run has taken so far, with their create hashes: none of them reaches the
 * database, so a code repeated later in the batch is met here, as a real run meets the earlier
 * line's row. Open addressing over a power of two at least twice the batch's lines. */
struct seen_code {
	char code[CASE_ID_MAX + 1]; /* "" = a free slot */
	unsigned char hash[32];
};

struct seen {
	struct seen_code *slot;
	size_t mask;
};

static int seen_init(struct seen *s, size_t lines)
{
	size_t cap = 16;

	while (cap < 2 * lines)
		cap *= 2;
	s->slot = calloc(cap, sizeof(*s->slot));
	s->mask = cap - 1;
	return s->slot ? 0 : -1;
}

/* The slot of code: its entry, or the free slot where it belongs. */
static struct seen_code *seen_find(struct seen *s, const char *code)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (const char *p = code; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	for (i = (size_t)h & s->mask; s->slot[i].code[0]; i = (i + 1) & s->mask)
		if (strcmp(s->slot[i].code, code) == 0)
			break;
	return &s->slot[i];
}

/* In a dry run, a new case c whose code an earlier line took: 200 for the same content, 409 for
 * other; a code not seen yet is taken. */
static int seen_check(struct seen *s, const struct case_record *c, const unsigned char hash[32],
		      int *status, struct api_error *e)
{
	struct seen_code *slot = seen_find(s, c->code);

	if (!slot->code[0]) {
		memcpy(slot->code, c->code, sizeof(slot->code));
		memcpy(slot->hash, hash, 32);
		return 0;
	}
	if (memcmp(slot->hash, hash, 32) != 0)
		return api_fail(e, 409, "conflict", "code",
				"a case with code \"%s\" exists with different data", c->code);
	*status = 200;
	return 0;
}

/* What batch_lines found: counts and the "results" array's elements as JSON text. */
struct batch {
	struct item_text results;
	int64_t created, existing, failed;
};

static void batch_result(struct batch *b, int line, int status, const char *code,
			 const struct api_error *e)
{
	struct item_text *t = &b->results;

	if (b->results.len)
		item_text_raw(t, ",", 1);
	item_text_lit(t, "{\"line\":");
	item_text_int(t, line);
	item_text_lit(t, ",\"status\":");
	item_text_int(t, status);
	if (code) {
		item_text_lit(t, ",\"code\":");
		item_text_str(t, code, strlen(code));
	} else {
		item_text_lit(t, ",\"error\":{\"code\":");
		item_text_str(t, e->code, strlen(e->code));
		item_text_lit(t, ",\"message\":");
		item_text_str(t, e->message, strlen(e->message));
		if (e->field[0]) {
			item_text_lit(t, ",\"field\":");
			item_text_str(t, e->field, strlen(e->field));
		}
		item_text_raw(t, "}", 1);
	}
	item_text_raw(t, "}", 1);
}

/* Creates the case of each NDJSON line of data[0..len) inside whatever transaction or savepoint
 * is open, into b (zeroed by the caller). A line that fails its checks writes nothing, so a line
 * needs no savepoint of its own; a dry run (seen not NULL: the codes it took) writes nothing at
 * all. Returns 0, or -1 with e when the database failed in the middle of a line's writes (or
 * memory ran out): the caller must then roll back the whole batch. */
static int batch_lines(struct api_ctx *x, const char *data, size_t len, struct seen *seen,
		       struct batch *b, struct api_error *fatal)
{
	const char *p = data, *end = data + len;
	struct api_error e;

	for (int line = 1; p < end; line++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		json_error_t jerr;
		json_t *body;
		struct case_record c;
		unsigned char hash[32];
		int status = 0, rc = -1;

		if (n && p[n - 1] == '\r')
			n--;
		if (n == 0) {
			p = nl ? nl + 1 : end;
			continue;
		}
		body = json_flat_load(p, n);
		if (!body)
			body = json_loadb(p, n, JSON_REJECT_DUPLICATES, &jerr);
		if (!body)
			api_fail(&e, 400, "bad_json", NULL, "malformed JSON at column %d: %s", jerr.column,
				 jerr.text);
		else if (!json_is_object(body))
			api_fail(&e, 400, "bad_json", NULL, "each line must be a JSON object");
		else
			rc = check_case(x, body, &c, hash, &status, &e);
		if (rc == 0 && status == 201 && seen)
			rc = seen_check(seen, &c, hash, &status, &e);
		else if (rc == 0 && status == 201 && write_case(x, body, &c, hash, &e) != 0) {
			json_decref(body);
			*fatal = e;
			return -1;
		}
		json_decref(body);
		if (rc == 0) {
			batch_result(b, line, status, c.code, NULL);
			status == 201 ? b->created++ : b->existing++;
		} else {
			batch_result(b, line, e.status, NULL, &e);
			b->failed++;
		}
		p = nl ? nl + 1 : end;
	}
	if (b->results.oom)
		return api_fail(fatal, 503, "unavailable", NULL, "out of memory");
	return 0;
}

/* The answer {"created", "existing", "failed", "results"} and then `tail` (JSON members, each
 * with a leading comma, or ""); NULL when out of memory. b's results are consumed. */
static char *batch_answer(struct batch *b, const char *tail, size_t *len)
{
	struct item_text t = { 0 };

	item_text_lit(&t, "{\"created\":");
	item_text_int(&t, b->created);
	item_text_lit(&t, ",\"existing\":");
	item_text_int(&t, b->existing);
	item_text_lit(&t, ",\"failed\":");
	item_text_int(&t, b->failed);
	item_text_lit(&t, ",\"results\":[");
	if (b->results.len)
		item_text_raw(&t, b->results.s, b->results.len);
	item_text_lit(&t, "]");
	item_text_lit(&t, tail);
	item_text_lit(&t, "}");
	item_text_free(&b->results);
	return item_text_take(&t, len);
}

/* A boolean query parameter: absent is false. Returns 0 or -1 with e. */
static int query_bool(const char *name, const char *value, bool *out, struct api_error *e)
{
	*out = value && strcmp(value, "true") == 0;
	if (value && !*out && strcmp(value, "false") != 0)
		return api_fail(e, 400, "invalid_query", name, "%s: expected true or false", name);
	return 0;
}

/* DESIGN: an atomic batch runs in a savepoint of its own (api_write_begin), so that a failed
 * line rolls every line back at once; its lines write nothing until their checks have passed,
 * so they need no savepoints of their own, and neither does a batch that is not atomic
 * (api_write_join: a savepoint makes SQLite copy every page the batch changes that the turn
 * changed before it). A dry run writes nothing:
 * every line is checked exactly as a real run checks it (references, stored codes, and codes
 * repeated within the batch, met in a table of the codes it took instead of in the database),
 * so it costs what the checks cost. */
void api_cases_batch(struct api_ctx *x)
{
	static const char *const params[] = { "dry_run", "atomic", NULL };
	const char *type = http_request_header(x->req, "content-type"), *values[2];
	size_t len, lines = 0, text_len;
	const char *data = http_request_body(x->req, &len), *end = data + len;
	bool dry_run, atomic, keep;
	struct batch b = { 0 };
	struct seen seen = { 0 };
	struct api_error e;
	char buf[256], tail[80];
	char *text;
	int rc;

	if (api_query_values(x, params, values, buf, sizeof(buf), &e) != 0 ||
	    query_bool("dry_run", values[0], &dry_run, &e) != 0 ||
	    query_bool("atomic", values[1], &atomic, &e) != 0)
		goto fail;
	if (!type || (strncasecmp(type, "application/x-ndjson", 20) != 0 ||
		      (type[20] && type[20] != ';'))) {
		api_fail(&e, 415, "unsupported_media_type", NULL,
			 "the body must be NDJSON with Content-Type: application/x-ndjson");
		goto fail;
	}
	for (const char *q = data; q < end; q++)
		lines += *q == '\n';
	lines += len && end[-1] != '\n';
	if (lines > BATCH_MAX_LINES) {
		api_fail(&e, 413, "too_many_lines", NULL, "a batch holds at most %d lines",
			 BATCH_MAX_LINES);
		goto fail;
	}
	if (dry_run) {
		if (seen_init(&seen, lines) != 0) {
			api_fail(&e, 503, "unavailable", NULL, "out of memory");
			goto fail;
		}
		rc = batch_lines(x, data, len, &seen, &b, &e);
		free(seen.slot);
		keep = false;
	} else if (atomic) {
		if (api_write_begin(x, &e) != 0)
			goto fail;
		rc = batch_lines(x, data, len, NULL, &b, &e);
		keep = rc == 0 && b.failed == 0;
		api_write_end(x, keep);
	} else {
		/* Each line is checked before it writes: only the database can fail the batch
		 * after its first write, and then the turn is given up. */
		if (api_write_join(x, &e) != 0)
			goto fail;
		if (batch_lines(x, data, len, NULL, &b, &e) != 0) {
			item_text_free(&b.results);
			api_write_abandon(x, &e);
			return;
		}
		api_write_kept(x);
		rc = 0;
		keep = true;
	}
	if (rc != 0) {
		item_text_free(&b.results);
		goto fail;
	}
	snprintf(tail, sizeof(tail), ",\"dry_run\":%s,\"atomic\":%s,\"rolled_back\":%s",
		 dry_run ? "true" : "false", atomic ? "true" : "false", keep ? "false" : "true");
	text = batch_answer(&b, tail, &text_len);
	api_reply_body(x, 200, "application/json", text, text_len, NULL, 0);
	return;

fail:
	api_reply_error(x, &e);
}

json_t *api_import_cases(struct api *api, const char *ndjson, size_t len, const char *actor,
			 struct err *err)
{
	struct api_ctx x;
	struct batch b = { 0 };
	struct api_error e;
	json_t *answer = NULL;
	json_error_t jerr;
	size_t text_len;
	char *text;

	api_ctx_init(&x, api, actor);
	if (!store_in_transaction(x.store)) {
		err_set(err, NULL, "api_import_cases: no write transaction is open");
		return NULL;
	}
	if (batch_lines(&x, ndjson, len, NULL, &b, &e) != 0) {
		item_text_free(&b.results);
		err_set(err, NULL, "%s", e.message);
		return NULL;
	}
	text = batch_answer(&b, "", &text_len);
	if (text)
		answer = json_loadb(text, text_len, 0, &jerr);
	free(text);
	if (!answer)
		err_set(err, NULL, "out of memory");
	return answer;
}

static int load_case(struct api_ctx *x, const char *code, struct case_record *c,
		     struct api_error *e)
{
	struct err err;

	switch (store_case_get(x->store, code, c, NULL, &err)) {
	case STORE_OK:
		return 0;
	case STORE_NOT_FOUND:
		return api_fail(e, 404, "not_found", NULL, "no case has code \"%s\"", code);
	default:
		return api_fail(e, 503, "unavailable", NULL, "%s", err.msg);
	}
}

void api_cases_get(struct api_ctx *x, const char *code)
{
	struct case_record c;
	struct api_error e;

	if (load_case(x, code, &c, &e) != 0)
		api_reply_error(x, &e);
	else
		api_reply(x, 200, case_json(x, &c));
}

static int collect_case(void *ctx, const struct case_record *c)
{
	struct api_page *pg = ctx;

	return api_page_add(pg, case_json(pg->x, c), c->due_at, c->id);
}

void api_cases_list(struct api_ctx *x)
{
	static const char *const allowed[] = { "unit", "status", "overdue", "due_before",
					       "due_after", "q", "limit", "cursor", "at_risk",
					       "as_of", NULL };
	struct api_page pg;
	struct store_filter f;
	struct api_error e;
	struct err err;
	char buf[4096];

	if (api_parse_list_query(x, allowed, case_status_parse, &f, buf, sizeof(buf), &e) != 0) {
		api_reply_error(x, &e);
		return;
	}
	api_page_init(&pg, x, &f);
	if (store_case_list(x->store, &f, collect_case, &pg, &err) != STORE_OK) {
		json_decref(pg.items);
		api_fail(&e, 503, "unavailable", NULL, "%s", err.msg);
		api_reply_error(x, &e);
		return;
	}
	api_page_reply(&pg, "cases");
}

/* The fields of each event type, beside type, at and expected_version. */
static const struct api_field ev_assign[] = { { "handler", API_ID, true, CASE_ID_MAX, NULL } };
static const struct api_field ev_transfer[] = { { "unit", API_ID, true, CASE_ID_MAX, NULL },
						{ "handler", API_ID, false, CASE_ID_MAX, NULL } };
static const struct api_field ev_reason_required[] = { { "reason", API_STRING, true, 2000, NULL } };
static const struct api_field ev_reason_optional[] = { { "reason", API_STRING, false, 2000, NULL } };
static const struct api_field ev_reschedule[] = { { "due_at", API_INSTANT, true, 0, NULL },
						  { "apology", API_STRING, true, 4000, NULL } };
static const struct api_field ev_note[] = { { "text", API_STRING, true, 4000, NULL } };
static const struct api_field ev_rate[] = { { "rating", API_INT, true, 0, NULL },
					    { "comment", API_STRING, false, 4000, NULL } };

static const struct api_event_spec event_fields[CASE_EV_COUNT] = {
	[CASE_EV_ASSIGN] = { ev_assign, N(ev_assign) },
	[CASE_EV_TRANSFER] = { ev_transfer, N(ev_transfer) },
	[CASE_EV_PAUSE] = { ev_reason_required, 1 },
	[CASE_EV_RESUME] = { NULL, 0 },
	[CASE_EV_COMPLETE] = { NULL, 0 },
	[CASE_EV_RETURN] = { NULL, 0 },
	[CASE_EV_WITHDRAW] = { ev_reason_optional, 1 },
	[CASE_EV_REJECT] = { ev_reason_required, 1 },
	[CASE_EV_RESCHEDULE] = { ev_reschedule, N(ev_reschedule) },
	[CASE_EV_NOTE] = { ev_note, N(ev_note) },
	[CASE_EV_EXTEND] = { ev_reason_required, 1 },
	[CASE_EV_RATE] = { ev_rate, N(ev_rate) },
};

static const char *const case_event_choices[] = {
	"assign", "transfer", "pause", "resume", "complete", "return", "withdraw", "reject",
	"reschedule", "note", "extend", "rate", NULL,
};

void api_cases_event(struct api_ctx *x, const char *code)
{
	const struct config_procedure *proc;
	struct case_procedure rules;
	struct case_record c;
	struct case_event ev = { 0 };
	struct api_error e;
	struct err err;
	json_t *body, *data = NULL, *event = NULL;
	int type, rc = -1;

	type = api_read_event(x, case_event_choices, case_event_parse, event_fields, &body, &ev.at);
	if (type < 0)
		return;
	ev.type = (enum case_event_type)type;
	ev.handler = api_str(body, "handler");
	ev.unit = api_str(body, "unit");
	ev.due_at = api_instant(body, "due_at", TIME_NONE);
	ev.rating = api_int(body, "rating", 0) > 5 ? 6 : (int)api_int(body, "rating", 0);
	if (check_person(x, "handler", ev.handler, &e) != 0 || check_unit(x, "unit", ev.unit, &e) != 0)
		goto reply;
	if (api_write_begin(x, &e) != 0)
		goto reply;
	if (load_case(x, code, &c, &e) != 0 || api_check_version(body, c.version, &e) != 0)
		goto end;
	proc = config_procedure(x->cfg, c.procedure);
	if (!proc && (ev.type == CASE_EV_RESUME || ev.type == CASE_EV_EXTEND)) {
		api_fail(&e, 409, "conflict", "type",
			 "the case's procedure %s is no longer configured", c.procedure);
		goto end;
	}
	rules = case_rules_of(proc);
	/* A case's history is one line: a pause dated inside an earlier pause, or a completion
	 * inside one, would count the same time twice or judge at an instant the case was not in
	 * that state. Notes and ratings, which move no clock, may be dated freely (a rating from
	 * the portal may arrive after the return). */
	if (ev.type != CASE_EV_NOTE && ev.type != CASE_EV_RATE) {
		int64_t last;
		char when[40];

		if (store_event_last_at(x->store, "case", c.id, &last, &err) != STORE_OK) {
			api_fail(&e, 503, "unavailable", NULL, "%s", err.msg);
			goto end;
		}
		if (last != TIME_NONE && ev.at < last) {
			calendar_format(x->cal, last, when, sizeof(when));
			api_fail(&e, 400, "invalid_field", "at",
				 "at: the event is before the case's last one (%s)", when);
			goto end;
		}
	}
	if (case_apply(&c, &ev, &rules, x->cal, x->now, &err) != 0) {
		api_rule_error(&e, &err);
		goto end;
	}
	if (store_case_update(x->store, &c, &err) != STORE_OK) {
		api_fail(&e, 503, "unavailable", NULL, "%s", err.msg);
		goto end;
	}
	if (scheduler_track_case(x->sched, &c, x->now, &err) != 0) {
		api_track_failed(&e, &err);
		goto end;
	}
	data = api_event_data(body);
	rc = api_record_event(x, "case", c.id, case_event_name(ev.type), ev.at, data, c.due_at, &event,
			      &e);
end:
	api_write_end(x, rc == 0);
reply:
	json_decref(body);
	json_decref(data);
	if (rc != 0)
		api_reply_error(x, &e);
	else
		api_reply(x, 201, json_pack("{s:o, s:o}", "case", case_json(x, &c), "event", event));
}

void api_cases_events(struct api_ctx *x, const char *code)
{
	struct case_record c;
	struct api_error e;

	if (load_case(x, code, &c, &e) != 0)
		api_reply_error(x, &e);
	else
		api_list_events(x, "case", c.id);
}
