/* api_alerts: the escalation routes of the API — the alerts rules have fired (list,
 * acknowledge, which stops a repeating rule's repeats for that deadline) and the outbox of
 * messages waiting for delivery (operators only). See docs/api.md, "Alerts". */
#include "api_internal.h"
#include "item_json.h"

#include <stdlib.h>
#include <string.h>

struct alert_page {
	struct api_ctx *x;
	json_t *items;
	int want;
	int64_t last_id;
	bool more;
};

static json_t *alert_json(struct api_ctx *x, const struct store_alert *a)
{
	return item_json_alert(x->cal, a);
}

static int collect_alert(void *ctx, const struct store_alert *a)
{
	struct alert_page *pg = ctx;

	if ((int)json_array_size(pg->items) == pg->want) {
		pg->more = true;
		return 1;
	}
	json_array_append_new(pg->items, alert_json(pg->x, a));
	pg->last_id = a->id;
	return 0;
}

static void reply_page(struct api_ctx *x, const char *key, json_t *items, bool more,
		       int64_t last_id)
{
	char cursor[32];

	snprintf(cursor, sizeof(cursor), "%lld", (long long)last_id);
	api_reply(x, 200, json_pack("{s:o, s:o}", key, items, "next_cursor",
				    more ? json_string(cursor) : json_null()));
}

/* The page of a list: limit and cursor, both optional. */
static int parse_page(const char *limit, const char *cursor, int *want, int64_t *after,
		      struct api_error *e)
{
	*want = API_DEFAULT_LIMIT;
	*after = 0;
	if (limit && api_query_limit("limit", limit, want, e) != 0)
		return -1;
	return cursor ? api_query_after_id("cursor", cursor, after, e) : 0;
}

/* item=case:CODE, document:ID or assignment:ID */
static int parse_item(struct api_ctx *x, const char *v, struct store_alert_filter *f,
		      struct api_error *e)
{
	struct case_record c;
	struct err err;
	char *end;

	if (strncmp(v, "case:", 5) == 0 && v[5] && strlen(v + 5) <= CASE_ID_MAX &&
	    strspn(v + 5, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
		    strlen(v + 5)) {
		/* like an unknown unit= filter: a reference to nothing */
		if (store_case_get(x->store, v + 5, &c, NULL, &err) != STORE_OK)
			return api_fail(e, 422, "unknown_reference", "item", "no case has code \"%.64s\"",
					v + 5);
		f->item_kind = "case";
		f->item_id = c.id;
		return 0;
	}
	if (strncmp(v, "document:", 9) == 0 || strncmp(v, "assignment:", 11) == 0) {
		const char *id = strchr(v, ':') + 1;
		f->item_kind = v[0] == 'd' ? "document" : "assignment";
		f->item_id = strtoll(id, &end, 10);
		if (!*end && end != id && f->item_id > 0)
			return 0;
	}
	return api_fail(e, 400, "invalid_query", "item",
			"item: expected case:CODE, document:ID or assignment:ID");
}

void api_alerts_list(struct api_ctx *x)
{
	enum { ITEM, UNIT, RULE, SINCE, ACKNOWLEDGED, LIMIT, CURSOR };
	static const char *const allowed[] = { "item", "unit", "rule", "since", "acknowledged",
					       "limit", "cursor", NULL };
	struct store_alert_filter f = { .since = TIME_NONE, .acknowledged = -1 };
	struct alert_page pg = { x, NULL, 0, 0, false };
	const char *v[sizeof(allowed) / sizeof(allowed[0])];
	char buf[4096];
	struct api_error e;
	struct err err;

	if (api_query_values(x, allowed, v, buf, sizeof(buf), &e) != 0 ||
	    parse_page(v[LIMIT], v[CURSOR], &f.limit, &f.after_id, &e) != 0 ||
	    (v[ITEM] && parse_item(x, v[ITEM], &f, &e) != 0) ||
	    (v[UNIT] && api_query_unit(x, "unit", v[UNIT], &e) != 0))
		goto fail;
	f.unit = v[UNIT];
	f.rule = v[RULE];
	if (v[SINCE] && api_query_instant("since", v[SINCE], &f.since, &e) != 0)
		goto fail;
	if (v[ACKNOWLEDGED]) {
		if (strcmp(v[ACKNOWLEDGED], "true") && strcmp(v[ACKNOWLEDGED], "false")) {
			api_fail(&e, 400, "invalid_query", "acknowledged",
				 "acknowledged: expected true or false");
			goto fail;
		}
		f.acknowledged = strcmp(v[ACKNOWLEDGED], "true") == 0;
	}
	pg.want = f.limit;
	f.limit++;
	pg.items = json_array();
	if (store_alert_list(x->store, &f, collect_alert, &pg, &err) != STORE_OK) {
		json_decref(pg.items);
		api_fail(&e, 503, "unavailable", NULL, "%s", err.msg);
		goto fail;
	}
	reply_page(x, "alerts", pg.items, pg.more, pg.last_id);
	return;
fail:
	api_reply_error(x, &e);
}

static int keep_alert(void *ctx, const struct store_alert *a)
{
	struct api_ctx *x = ((void **)ctx)[0];
	json_t **out = ((void **)ctx)[1];

	*out = alert_json(x, a);
	return 1;
}

/* Re-arms the item of an acknowledged alert: its repeating rule is now off for this deadline. */
static int rearm(struct api_ctx *x, const json_t *alert, struct err *err)
{
	const char *kind = json_string_value(json_object_get(alert, "item_kind"));
	const char *key = json_string_value(json_object_get(alert, "item"));
	struct case_record c;
	struct document_record d;
	struct assignment_record a;
	int64_t id = strtoll(key, NULL, 10);

	if (strcmp(kind, "case") == 0)
		return store_case_get(x->store, key, &c, NULL, err) == STORE_OK
			       ? scheduler_track_case(x->sched, &c, x->now, err) : -1;
	if (strcmp(kind, "document") == 0)
		return store_document_get(x->store, id, &d, err) == STORE_OK
			       ? scheduler_track_document(x->sched, &d, x->now, err) : -1;
	return store_assignment_get(x->store, id, x->now, &a, err) == STORE_OK
		       ? scheduler_track_assignment(x->sched, &a, x->now, err) : -1;
}

void api_alerts_ack(struct api_ctx *x, int64_t id)
{
	static const struct api_field fields[] = { { "note", API_STRING, false, 2000, NULL } };
	json_t *out = NULL, *body = NULL;
	void *ctx[2] = { x, &out };
	struct api_error e;
	struct err err;
	size_t len;
	int rc = -1;

	http_request_body(x->req, &len);
	if (len) {
		body = api_parse_body(x, http_request_body(x->req, &len), len, &e);
		if (!body || api_check_fields(x, body, fields, 1, &e) != 0) {
			json_decref(body);
			api_reply_error(x, &e);
			return;
		}
	}
	if (api_write_begin(x, &e) != 0) {
		json_decref(body);
		api_reply_error(x, &e);
		return;
	}
	switch (store_alert_ack(x->store, id, x->now, x->actor, api_str(body, "note"), &err)) {
	case STORE_OK:
		if (store_alert_get(x->store, id, keep_alert, ctx, &err) != STORE_OK || !out)
			api_fail(&e, 503, "unavailable", NULL, "cannot read the alert back");
		else if (rearm(x, out, &err) != 0)
			api_track_failed(&e, &err);
		else
			rc = 0;
		break;
	case STORE_CONFLICT:
		if (store_alert_get(x->store, id, keep_alert, ctx, &err) == STORE_NOT_FOUND)
			api_fail(&e, 404, "not_found", NULL, "no alert has id %lld", (long long)id);
		else
			api_fail(&e, 409, "conflict", NULL, "the alert was already acknowledged");
		break;
	default:
		api_fail(&e, 503, "unavailable", NULL, "%s", err.msg);
	}
	api_write_end(x, rc == 0);
	json_decref(body);
	if (rc == 0) {
		api_reply(x, 200, out);
	} else {
		json_decref(out);
		api_reply_error(x, &e);
	}
}

struct outbox_page {
	struct api_ctx *x;
	json_t *items;
	int want;
	int64_t last_id;
	bool more;
};

static int collect_outbox(void *ctx, const struct store_outbox *o)
{
	struct outbox_page *pg = ctx;

	if ((int)json_array_size(pg->items) == pg->want) {
		pg->more = true;
		return 1;
	}
	json_array_append_new(pg->items,
		json_pack("{s:I, s:o, s:s, s:s, s:o, s:s, s:s, s:o, s:s, s:o, s:o, s:I, s:o, s:o}",
			  "id", (json_int_t)o->id,
			  "alert", o->alert_id ? json_integer(o->alert_id) : json_null(),
			  "channel", o->channel, "recipient", o->recipient,
			  "address", api_optional(o->address), "subject", o->subject,
			  "body_text", o->body_text, "body_html", api_optional(o->body_html),
			  "status", o->status, "not_before", api_time(pg->x, o->not_before),
			  "created_at", api_time(pg->x, o->created_at),
			  "attempts", (json_int_t)o->attempts,
			  "next_attempt_at", api_time(pg->x, o->next_attempt_at),
			  "last_error", api_optional(o->last_error)));
	pg->last_id = o->id;
	return 0;
}

void api_outbox_list(struct api_ctx *x)
{
	enum { STATUS, CHANNEL, RECIPIENT, LIMIT, CURSOR };
	static const char *const allowed[] = { "status", "channel", "recipient", "limit", "cursor",
					       NULL };
	static const char *const statuses[] = { "pending", "held", "digested", "sending", "sent",
						"failed", "dead", NULL };
	struct store_outbox_filter f = { 0 };
	struct outbox_page pg = { x, NULL, 0, 0, false };
	const char *v[sizeof(allowed) / sizeof(allowed[0])];
	char buf[4096];
	struct api_error e;
	struct err err;

	if (api_query_values(x, allowed, v, buf, sizeof(buf), &e) != 0 ||
	    parse_page(v[LIMIT], v[CURSOR], &f.limit, &f.after_id, &e) != 0)
		goto fail;
	if (v[STATUS]) {
		size_t k = 0;
		while (statuses[k] && strcmp(statuses[k], v[STATUS]) != 0)
			k++;
		if (!statuses[k]) {
			api_fail(&e, 400, "invalid_query", "status", "unknown status \"%.40s\"",
				 v[STATUS]);
			goto fail;
		}
		f.status = v[STATUS];
	}
	if (v[CHANNEL] && strcmp(v[CHANNEL], "email") && strcmp(v[CHANNEL], "chat")) {
		api_fail(&e, 400, "invalid_query", "channel", "channel: email or chat");
		goto fail;
	}
	f.channel = v[CHANNEL];
	f.recipient = v[RECIPIENT];
	pg.want = f.limit;
	f.limit++;
	pg.items = json_array();
	if (store_outbox_list(x->store, &f, collect_outbox, &pg, &err) != STORE_OK) {
		json_decref(pg.items);
		api_fail(&e, 503, "unavailable", NULL, "%s", err.msg);
		goto fail;
	}
	reply_page(x, "outbox", pg.items, pg.more, pg.last_id);
	return;
fail:
	api_reply_error(x, &e);
}

void api_outbox_retry(struct api_ctx *x, int64_t id)
{
	struct api_error e;
	struct err err;
	int rc = -1;

	if (api_write_begin(x, &e) != 0) {
		api_reply_error(x, &e);
		return;
	}
	switch (store_outbox_retry(x->store, id, x->now, &err)) {
	case STORE_OK:
		rc = 0;
		break;
	case STORE_NOT_FOUND:
		api_fail(&e, 404, "not_found", NULL, "no dead outbox row has id %lld", (long long)id);
		break;
	default:
		api_fail(&e, 503, "unavailable", NULL, "%s", err.msg);
	}
	api_write_end(x, rc == 0);
	if (rc != 0) {
		api_reply_error(x, &e);
		return;
	}
	deliver_poke(x->deliver);
	api_reply(x, 200, json_pack("{s:I, s:s}", "id", (json_int_t)id, "status", "pending"));
}
