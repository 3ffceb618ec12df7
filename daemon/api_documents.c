/* api_documents: the routes of incoming documents and of the assignments they (or leaders'
 * directions) create, with the cascade of sub-assignments down the unit tree (docs/api.md).
 * The rules are in document.c; this file validates, looks references up, stores and answers. */
#include "api_internal.h"
#include "item_json.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const urgency_choices[] = { "normal", "urgent", "very_urgent", "flash", NULL };
static const char *const secrecy_choices[] = { "normal", "confidential", "secret", "top_secret",
					       NULL };
static const char *const role_choices[] = { "lead", "support", NULL };

static int reference(struct api_ctx *x, const char *field, const char *id, bool person,
		     struct api_error *e)
{
	if (!id || (person ? config_person(x->cfg, id) != NULL : config_unit(x->cfg, id) != NULL))
		return 0;
	return api_fail(e, 422, "unknown_reference", field, "no %s has id \"%s\"",
			person ? "person" : "unit", id);
}

static void copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

/* The body of a POST: parsed, checked against fields, or NULL with the error answered. */
static json_t *read_body(struct api_ctx *x, const struct api_field *fields, size_t n)
{
	struct api_error e;
	size_t len;
	const char *data = http_request_body(x->req, &len);
	json_t *body = api_parse_body(x, data, len, &e);

	if (body && api_check_fields(x, body, fields, n, &e) != 0) {
		json_decref(body);
		body = NULL;
	}
	if (!body)
		api_reply_error(x, &e);
	return body;
}

/* --- documents -------------------------------------------------------------------------- */

static json_t *document_json(struct api_ctx *x, const struct document_record *d)
{
	return item_json_document(x->cfg, x->cal, d);
}

static const struct api_field document_fields[] = {
	{ "book", API_ID, false, DOCUMENT_ID_MAX, NULL },
	{ "incoming_no", API_INT, false, 0, NULL },
	{ "symbol", API_STRING, false, DOCUMENT_SHORT_MAX, NULL },
	{ "doc_date", API_DATE, false, 0, NULL },
	{ "issuer", API_STRING, false, DOCUMENT_SHORT_MAX, NULL },
	{ "type", API_STRING, false, DOCUMENT_SHORT_MAX, NULL },
	{ "summary", API_STRING, true, DOCUMENT_TEXT_MAX, NULL },
	{ "urgency", API_ENUM, false, 0, urgency_choices },
	{ "confidentiality", API_ENUM, false, 0, secrecy_choices },
	{ "received_at", API_INSTANT, false, 0, NULL },
	{ "due_at", API_INSTANT, false, 0, NULL },
	{ "lead_unit", API_ID, false, DOCUMENT_ID_MAX, NULL },
};

void api_documents_create(struct api_ctx *x)
{
	struct document_record d = { 0 };
	struct api_error e;
	struct err err;
	json_t *body = read_body(x, document_fields, N(document_fields)), *ev = NULL;
	int y, m, dd, rc = -1;

	if (!body)
		return;
	if (reference(x, "lead_unit", api_str(body, "lead_unit"), false, &e) != 0)
		goto reply;
	copy(d.book, sizeof(d.book),
	     api_str(body, "book") ? api_str(body, "book") : x->cfg->documents.default_book);
	d.incoming_no = api_int(body, "incoming_no", 0);
	copy(d.symbol, sizeof(d.symbol), api_str(body, "symbol"));
	copy(d.doc_date, sizeof(d.doc_date), api_str(body, "doc_date"));
	copy(d.issuer, sizeof(d.issuer), api_str(body, "issuer"));
	copy(d.type, sizeof(d.type), api_str(body, "type"));
	copy(d.summary, sizeof(d.summary), api_str(body, "summary"));
	d.urgency = api_str(body, "urgency")
			    ? (enum document_urgency)document_urgency_parse(api_str(body, "urgency"))
			    : DOCUMENT_NORMAL;
	d.confidentiality = api_str(body, "confidentiality")
				    ? (enum document_secrecy)document_secrecy_parse(
					      api_str(body, "confidentiality"))
				    : DOCUMENT_OPEN;
	d.received_at = api_instant(body, "received_at", x->now);
	if (d.received_at > x->now + API_FUTURE_SLACK) {
		api_fail(&e, 400, "invalid_field", "received_at",
			 "received_at: a document cannot arrive in the future");
		goto reply;
	}
	civil_from_days(calendar_day_of(x->cal, d.received_at), &y, &m, &dd);
	d.year = y;
	d.due_at = api_instant(body, "due_at", TIME_NONE);
	if (d.due_at == TIME_NONE)
		d.due_at = document_due(x->cal, d.received_at, x->cfg->documents.urgency_due[d.urgency]);
	else if (d.due_at <= d.received_at) {
		api_fail(&e, 400, "invalid_field", "due_at", "due_at: must be after received_at");
		goto reply;
	}
	copy(d.lead_unit, sizeof(d.lead_unit), api_str(body, "lead_unit"));
	d.status = DOCUMENT_REGISTERED;
	d.done_at = TIME_NONE;
	d.version = 1;
	d.created_at = d.updated_at = x->now;
	if (api_write_begin(x, &e) != 0)
		goto reply;
	switch (store_document_insert(x->store, &d, &err)) {
	case STORE_OK:
		if (scheduler_track_document(x->sched, &d, x->now, &err) != 0) {
			api_track_failed(&e, &err);
			break;
		}
		rc = api_record_event(x, "document", d.id, "create", d.received_at, body, d.due_at,
				      NULL, &e);
		break;
	case STORE_CONFLICT:
		api_fail(&e, 409, "conflict", "incoming_no",
			 "incoming number %lld is already used in book \"%s\" for %d",
			 (long long)d.incoming_no, d.book, d.year);
		break;
	default:
		api_fail(&e, 503, "unavailable", NULL, "%s", err.msg);
	}
	api_write_end(x, rc == 0);
	json_decref(ev);
reply:
	json_decref(body);
	if (rc == 0)
		api_reply(x, 201, document_json(x, &d));
	else
		api_reply_error(x, &e);
}

static int load_document(struct api_ctx *x, int64_t id, struct document_record *d,
			 struct api_error *e)
{
	struct err err;

	switch (store_document_get(x->store, id, d, &err)) {
	case STORE_OK:
		return 0;
	case STORE_NOT_FOUND:
		return api_fail(e, 404, "not_found", NULL, "no document has id %lld", (long long)id);
	default:
		return api_fail(e, 503, "unavailable", NULL, "%s", err.msg);
	}
}

void api_documents_get(struct api_ctx *x, int64_t id)
{
	struct document_record d;
	struct api_error e;

	if (load_document(x, id, &d, &e) != 0)
		api_reply_error(x, &e);
	else
		api_reply(x, 200, document_json(x, &d));
}

static int collect_document(void *ctx, const struct document_record *d)
{
	struct api_page *pg = ctx;

	return api_page_add(pg, document_json(pg->x, d), d->due_at, d->id);
}

static const char *const list_params[] = { "unit", "status", "overdue", "due_before",
					   "due_after", "q", "limit", "cursor", "as_of", NULL };

void api_documents_list(struct api_ctx *x)
{
	struct api_page pg;
	struct store_filter f;
	struct api_error e;
	struct err err;
	char buf[4096];

	if (api_parse_list_query(x, list_params, document_status_parse, &f, buf, sizeof(buf), &e)) {
		api_reply_error(x, &e);
		return;
	}
	api_page_init(&pg, x, &f);
	if (store_document_list(x->store, &f, collect_document, &pg, &err) != STORE_OK) {
		json_decref(pg.items);
		api_fail(&e, 503, "unavailable", NULL, "%s", err.msg);
		api_reply_error(x, &e);
		return;
	}
	api_page_reply(&pg, "documents");
}

static const char *const document_event_choices[] = { "forward", "complete", "reopen",
						      "reschedule", "note", NULL };
static const struct api_field ev_unit[] = { { "unit", API_ID, true, DOCUMENT_ID_MAX, NULL } };
static const struct api_field ev_reason[] = { { "reason", API_STRING, true, 2000, NULL } };
static const struct api_field ev_reschedule[] = { { "due_at", API_INSTANT, true, 0, NULL },
						  { "reason", API_STRING, true, 2000, NULL } };
static const struct api_field ev_note[] = { { "text", API_STRING, true, 4000, NULL } };
static const struct api_field ev_assignee[] = { { "assignee", API_ID, true, DOCUMENT_ID_MAX, NULL } };

static const struct api_event_spec document_events[DOCUMENT_EV_COUNT] = {
	[DOCUMENT_EV_FORWARD] = { ev_unit, 1 },
	[DOCUMENT_EV_COMPLETE] = { NULL, 0 },
	[DOCUMENT_EV_REOPEN] = { ev_reason, 1 },
	[DOCUMENT_EV_RESCHEDULE] = { ev_reschedule, 2 },
	[DOCUMENT_EV_NOTE] = { ev_note, 1 },
};

void api_documents_event(struct api_ctx *x, int64_t id)
{
	struct document_event ev = { 0 };
	struct document_record d;
	struct api_error e;
	struct err err;
	json_t *body, *data = NULL, *event = NULL;
	int rc = -1;

	ev.type = api_read_event(x, document_event_choices, document_event_parse, document_events,
			     &body, &ev.at);
	if (ev.type < 0)
		return;
	ev.unit = api_str(body, "unit");
	ev.due_at = api_instant(body, "due_at", TIME_NONE);
	if (reference(x, "unit", ev.unit, false, &e) != 0 || api_write_begin(x, &e) != 0)
		goto reply;
	if (load_document(x, id, &d, &e) != 0 || api_check_version(body, d.version, &e) != 0)
		goto end;
	if (document_apply(&d, &ev, x->now, &err) != 0) {
		api_rule_error(&e, &err);
		goto end;
	}
	if (store_document_update(x->store, &d, &err) != STORE_OK) {
		api_fail(&e, 503, "unavailable", NULL, "%s", err.msg);
		goto end;
	}
	if (scheduler_track_document(x->sched, &d, x->now, &err) != 0) {
		api_track_failed(&e, &err);
		goto end;
	}
	data = api_event_data(body);
	rc = api_record_event(x, "document", d.id, document_event_name(ev.type), ev.at, data,
			      d.due_at, &event, &e);
end:
	api_write_end(x, rc == 0);
reply:
	json_decref(body);
	json_decref(data);
	if (rc == 0)
		api_reply(x, 201, json_pack("{s:o, s:o}", "document", document_json(x, &d), "event",
					    event));
	else
		api_reply_error(x, &e);
}

void api_documents_events(struct api_ctx *x, int64_t id)
{
	struct document_record d;
	struct api_error e;

	if (load_document(x, id, &d, &e) != 0)
		api_reply_error(x, &e);
	else
		api_list_events(x, "document", d.id);
}

/* --- assignments ------------------------------------------------------------------------ */

static json_t *assignment_json(struct api_ctx *x, const struct assignment_record *a)
{
	return item_json_assignment(x->cfg, x->cal, a);
}

static int load_assignment(struct api_ctx *x, int64_t id, struct assignment_record *a,
			   struct api_error *e)
{
	struct err err;

	switch (store_assignment_get(x->store, id, x->now, a, &err)) {
	case STORE_OK:
		return 0;
	case STORE_NOT_FOUND:
		return api_fail(e, 404, "not_found", NULL, "no assignment has id %lld", (long long)id);
	default:
		return api_fail(e, 503, "unavailable", NULL, "%s", err.msg);
	}
}

static const struct api_field assignment_fields[] = {
	{ "unit", API_ID, true, DOCUMENT_ID_MAX, NULL },
	{ "role", API_ENUM, false, 0, role_choices },
	{ "assignee", API_ID, false, DOCUMENT_ID_MAX, NULL },
	{ "title", API_STRING, false, DOCUMENT_TEXT_MAX, NULL },
	{ "due_at", API_INSTANT, false, 0, NULL },
	{ "direction", API_STRING, false, DOCUMENT_TEXT_MAX, NULL },
};

/* Where a new assignment comes from fills in its defaults and limits. */
static int assignment_origin(struct api_ctx *x, json_t *body, int64_t document_id,
			     int64_t parent_id, struct assignment_record *a, struct api_error *e)
{
	if (document_id) {
		struct document_record d;
		if (load_document(x, document_id, &d, e) != 0)
			return -1;
		a->document_id = d.id;
		if (!a->title[0])
			copy(a->title, sizeof(a->title), d.summary);
		if (a->due_at == TIME_NONE)
			a->due_at = d.due_at;
	} else if (parent_id) {
		struct assignment_record p;
		struct err err;
		bool below = false;

		if (load_assignment(x, parent_id, &p, e) != 0)
			return -1;
		if (store_unit_is_below(x->store, a->unit, p.unit, &below, &err) != STORE_OK)
			return api_fail(e, 503, "unavailable", NULL, "%s", err.msg);
		if (!below)
			return api_fail(e, 422, "unknown_reference", "unit",
					"unit \"%s\" is not below \"%s\", which holds the parent "
					"assignment", a->unit, p.unit);
		if (p.status != ASSIGNMENT_OPEN)
			return api_fail(e, 409, "illegal_transition", NULL,
					"the parent assignment is done");
		a->parent_id = p.id;
		a->document_id = p.document_id;
		if (!a->title[0])
			copy(a->title, sizeof(a->title), p.title);
		if (a->due_at == TIME_NONE)
			a->due_at = p.due_at;
		else if (a->due_at > p.due_at)
			return api_fail(e, 400, "invalid_field", "due_at",
					"due_at: a sub-assignment cannot be due after its parent");
	} else {
		if (!api_str(body, "direction"))
			return api_fail(e, 400, "missing_field", "direction",
					"direction is required for an assignment without a document");
		copy(a->direction, sizeof(a->direction), api_str(body, "direction"));
		if (!a->title[0])
			copy(a->title, sizeof(a->title), a->direction);
		if (a->due_at == TIME_NONE)
			return api_fail(e, 400, "missing_field", "due_at",
					"due_at is required for an assignment without a document");
	}
	if ((document_id || parent_id) && api_str(body, "direction"))
		return api_fail(e, 400, "unknown_field", "direction",
				"direction is only for assignments without a document");
	return 0;
}

void api_assignments_create(struct api_ctx *x, int64_t document_id, int64_t parent_id)
{
	struct assignment_record a = { 0 };
	struct api_error e;
	struct err err;
	json_t *body = read_body(x, assignment_fields, N(assignment_fields)), *ev = NULL;
	int rc = -1;

	if (!body)
		return;
	if (reference(x, "unit", api_str(body, "unit"), false, &e) != 0 ||
	    reference(x, "assignee", api_str(body, "assignee"), true, &e) != 0)
		goto reply;
	copy(a.unit, sizeof(a.unit), api_str(body, "unit"));
	copy(a.assignee, sizeof(a.assignee), api_str(body, "assignee"));
	copy(a.title, sizeof(a.title), api_str(body, "title"));
	a.role = api_str(body, "role") ? (enum assignment_role)assignment_role_parse(api_str(body, "role"))
				       : ASSIGNMENT_LEAD;
	a.due_at = api_instant(body, "due_at", TIME_NONE);
	a.status = ASSIGNMENT_OPEN;
	a.done_at = TIME_NONE;
	a.version = 1;
	a.created_at = a.updated_at = x->now;
	if (api_write_begin(x, &e) != 0)
		goto reply;
	if (assignment_origin(x, body, document_id, parent_id, &a, &e) == 0) {
		if (store_assignment_insert(x->store, &a, &err) != STORE_OK)
			api_fail(&e, 503, "unavailable", NULL, "%s", err.msg);
		else if (scheduler_track_assignment(x->sched, &a, x->now, &err) != 0)
			api_track_failed(&e, &err);
		else
			rc = api_record_event(x, "assignment", a.id, "create", x->now, body, a.due_at,
					      NULL, &e);
	}
	api_write_end(x, rc == 0);
	json_decref(ev);
reply:
	json_decref(body);
	if (rc == 0)
		api_reply(x, 201, assignment_json(x, &a));
	else
		api_reply_error(x, &e);
}

void api_assignments_get(struct api_ctx *x, int64_t id)
{
	struct assignment_record a;
	struct api_error e;

	if (load_assignment(x, id, &a, &e) != 0)
		api_reply_error(x, &e);
	else
		api_reply(x, 200, assignment_json(x, &a));
}

static int collect_assignment(void *ctx, const struct assignment_record *a)
{
	struct api_page *pg = ctx;

	return api_page_add(pg, assignment_json(pg->x, a), a->due_at, a->id);
}

void api_assignments_list(struct api_ctx *x, int64_t document_id, int64_t parent_id)
{
	static const char *const params[] = { "unit", "status", "overdue", "due_before",
					      "due_after", "limit", "cursor", "as_of", NULL };
	struct api_page pg;
	struct store_filter f;
	struct api_error e;
	struct err err;
	char buf[4096];

	if (api_parse_list_query(x, params, assignment_status_parse, &f, buf, sizeof(buf), &e))
		goto fail;
	if (document_id) {
		struct document_record d;
		if (load_document(x, document_id, &d, &e) != 0)
			goto fail;
	} else if (parent_id) {
		struct assignment_record a;
		if (load_assignment(x, parent_id, &a, &e) != 0)
			goto fail;
	}
	f.document_id = document_id;
	f.parent_id = parent_id;
	api_page_init(&pg, x, &f);
	if (store_assignment_list(x->store, &f, collect_assignment, &pg, &err) != STORE_OK) {
		json_decref(pg.items);
		api_fail(&e, 503, "unavailable", NULL, "%s", err.msg);
		goto fail;
	}
	api_page_reply(&pg, "assignments");
	return;
fail:
	api_reply_error(x, &e);
}

static const char *const assignment_event_choices[] = { "done", "reopen", "reassign",
							"reschedule", "note", NULL };
static const struct api_event_spec assignment_events[ASSIGNMENT_EV_COUNT] = {
	[ASSIGNMENT_EV_DONE] = { NULL, 0 },
	[ASSIGNMENT_EV_REOPEN] = { ev_reason, 1 },
	[ASSIGNMENT_EV_REASSIGN] = { ev_assignee, 1 },
	[ASSIGNMENT_EV_RESCHEDULE] = { ev_reschedule, 2 },
	[ASSIGNMENT_EV_NOTE] = { ev_note, 1 },
};

void api_assignments_event(struct api_ctx *x, int64_t id)
{
	struct document_event ev = { 0 };
	struct assignment_record a;
	struct api_error e;
	struct err err;
	json_t *body, *data = NULL, *event = NULL;
	int rc = -1;

	ev.type = api_read_event(x, assignment_event_choices, assignment_event_parse, assignment_events,
			     &body, &ev.at);
	if (ev.type < 0)
		return;
	ev.assignee = api_str(body, "assignee");
	ev.due_at = api_instant(body, "due_at", TIME_NONE);
	if (reference(x, "assignee", ev.assignee, true, &e) != 0 || api_write_begin(x, &e) != 0)
		goto reply;
	if (load_assignment(x, id, &a, &e) != 0 || api_check_version(body, a.version, &e) != 0)
		goto end;
	if (assignment_apply(&a, &ev, x->now, &err) != 0) {
		api_rule_error(&e, &err);
		goto end;
	}
	/* As at its creation: a sub-assignment is not due after its parent. */
	if (ev.type == ASSIGNMENT_EV_RESCHEDULE && a.parent_id) {
		struct assignment_record parent;

		if (load_assignment(x, a.parent_id, &parent, &e) != 0)
			goto end;
		if (a.due_at > parent.due_at) {
			api_fail(&e, 400, "invalid_field", "due_at",
				 "due_at: a sub-assignment cannot be due after its parent");
			goto end;
		}
	}
	/* Nor may a parent be moved before one of its open sub-assignments. */
	if (ev.type == ASSIGNMENT_EV_RESCHEDULE) {
		int64_t child_id, child_due;

		if (store_assignment_latest_child(x->store, a.id, &child_id, &child_due, &err) !=
		    STORE_OK) {
			api_fail(&e, 503, "unavailable", NULL, "%s", err.msg);
			goto end;
		}
		if (child_id && a.due_at < child_due) {
			api_fail(&e, 400, "invalid_field", "due_at",
				 "due_at: sub-assignment %" PRId64 " is due after it; reschedule "
				 "that one first",
				 child_id);
			goto end;
		}
	}
	if (store_assignment_update(x->store, &a, &err) != STORE_OK) {
		api_fail(&e, 503, "unavailable", NULL, "%s", err.msg);
		goto end;
	}
	if (scheduler_track_assignment(x->sched, &a, x->now, &err) != 0) {
		api_track_failed(&e, &err);
		goto end;
	}
	data = api_event_data(body);
	rc = api_record_event(x, "assignment", a.id, assignment_event_name(ev.type), ev.at, data,
			      a.due_at, &event, &e);
end:
	api_write_end(x, rc == 0);
reply:
	json_decref(body);
	json_decref(data);
	if (rc == 0)
		api_reply(x, 201, json_pack("{s:o, s:o}", "assignment", assignment_json(x, &a), "event",
					    event));
	else
		api_reply_error(x, &e);
}

void api_assignments_events(struct api_ctx *x, int64_t id)
{
	struct assignment_record a;
	struct api_error e;

	if (load_assignment(x, id, &a, &e) != 0)
		api_reply_error(x, &e);
	else
		api_list_events(x, "assignment", a.id);
}
