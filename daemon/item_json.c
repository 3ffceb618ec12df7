/* item_json: see item_json.h. The field order of each object is the API's documented one
 * (docs/api.md). */
#include "item_json.h"

json_t *item_json_time(struct calendar *cal, int64_t t)
{
	char buf[64];

	if (t == TIME_NONE)
		return json_null();
	calendar_format(cal, t, buf, sizeof(buf));
	return json_string(buf);
}

json_t *item_json_optional(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

#define T(t) item_json_time(cal, (t))
#define OPT(s) item_json_optional(s)

json_t *item_json_case(const struct config *cfg, struct calendar *cal,
		       const struct case_record *c)
{
	const struct config_procedure *p = config_procedure(cfg, c->procedure);
	const struct config_unit *u = config_unit(cfg, c->unit);
	const char *outcome = case_outcome_name(c->outcome);

	return json_pack("{s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:b, s:s, s:b, s:b, s:s,"
			 " s:o, s:b, s:b, s:o, s:o, s:o, s:I, s:o, s:o, s:I, s:o, s:o}",
			 "code", c->code, "procedure", c->procedure,
			 "procedure_name", OPT(p ? p->name : NULL), "unit", c->unit,
			 "unit_name", OPT(u ? u->name : NULL), "handler", OPT(c->handler),
			 "applicant", OPT(c->applicant), "received_at", T(c->received_at),
			 "due_at", T(c->due_at), "due_given", c->due_given,
			 "online", case_online_name(c->online), "paid_online", c->paid_online,
			 "digitized", c->digitized, "status", case_status_name(c->status),
			 "outcome", outcome ? json_string(outcome) : json_null(), "late", c->late,
			 "extended", c->extended, "paused_at", T(c->paused_at),
			 "completed_at", T(c->completed_at), "ended_at", T(c->ended_at),
			 "version", (json_int_t)c->version, "created_at", T(c->created_at),
			 "updated_at", T(c->updated_at), "fee", (json_int_t)c->fee,
			 "rating", c->rating ? json_integer(c->rating) : json_null(),
			 "rated_at", T(c->rated_at));
}

json_t *item_json_document(const struct config *cfg, struct calendar *cal,
			   const struct document_record *d)
{
	const struct config_unit *u = d->lead_unit[0] ? config_unit(cfg, d->lead_unit) : NULL;

	return json_pack("{s:I, s:s, s:I, s:o, s:o, s:o, s:o, s:s, s:s, s:s, s:o, s:o, s:o, s:o,"
			 " s:s, s:o, s:I, s:o, s:o}",
			 "id", (json_int_t)d->id, "book", d->book, "incoming_no",
			 (json_int_t)d->incoming_no, "symbol", OPT(d->symbol), "doc_date",
			 OPT(d->doc_date), "issuer", OPT(d->issuer), "type", OPT(d->type),
			 "summary", d->summary, "urgency", document_urgency_name(d->urgency),
			 "confidentiality", document_secrecy_name(d->confidentiality),
			 "received_at", T(d->received_at), "due_at", T(d->due_at),
			 "lead_unit", OPT(d->lead_unit), "lead_unit_name", OPT(u ? u->name : NULL),
			 "status", document_status_name(d->status), "done_at", T(d->done_at),
			 "version", (json_int_t)d->version, "created_at", T(d->created_at),
			 "updated_at", T(d->updated_at));
}

json_t *item_json_assignment(const struct config *cfg, struct calendar *cal,
			     const struct assignment_record *a)
{
	const struct config_unit *u = config_unit(cfg, a->unit);

	return json_pack("{s:I, s:o, s:o, s:o, s:s, s:o, s:s, s:o, s:s, s:o, s:s, s:o, s:{s:I, s:I,"
			 " s:I}, s:I, s:o, s:o}",
			 "id", (json_int_t)a->id,
			 "document", a->document_id ? json_integer(a->document_id) : json_null(),
			 "direction", OPT(a->direction),
			 "parent", a->parent_id ? json_integer(a->parent_id) : json_null(),
			 "unit", a->unit, "unit_name", OPT(u ? u->name : NULL),
			 "role", assignment_role_name(a->role), "assignee", OPT(a->assignee),
			 "title", a->title, "due_at", T(a->due_at),
			 "status", assignment_status_name(a->status), "done_at", T(a->done_at),
			 "children", "total", (json_int_t)a->children_total, "done",
			 (json_int_t)a->children_done, "overdue", (json_int_t)a->children_overdue,
			 "version", (json_int_t)a->version, "created_at", T(a->created_at),
			 "updated_at", T(a->updated_at));
}

json_t *item_json_alert(struct calendar *cal, const struct store_alert *a)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:o, s:I, s:o, s:o, s:o, s:b, s:o, s:o}",
			 "id", (json_int_t)a->id, "item_kind", a->item_kind,
			 "item", a->item_key ? a->item_key : "", "rule", a->rule_id,
			 "due_at", T(a->due_at), "occurrence", (json_int_t)a->occurrence,
			 "fire_at", T(a->fire_at), "fired_at", T(a->fired_at),
			 "unit", OPT(a->unit), "urgent", a->urgent,
			 "acknowledged_at", T(a->acknowledged_at),
			 "acknowledged_by", OPT(a->acknowledged_by));
}

json_t *item_json_event(struct calendar *cal, const struct store_event *ev)
{
	json_t *data = json_loads(ev->data, 0, NULL);

	return json_pack("{s:I, s:s, s:o, s:s, s:o, s:o}", "id", (json_int_t)ev->id, "type",
			 ev->type, "at", T(ev->at), "actor", ev->actor, "data",
			 data ? data : json_object(), "due_at", T(ev->due_at));
}
