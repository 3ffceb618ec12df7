/* item_json: see item_json.h. The field order of each object is the API's documented one
 * (docs/api.md). */
#include "item_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	return json_pack("{s:I, s:s, s:s, s:s, s:o, s:I, s:o, s:o, s:o, s:b, s:o, s:o, s:o}",
			 "id", (json_int_t)a->id, "item_kind", a->item_kind,
			 "item", a->item_key ? a->item_key : "", "rule", a->rule_id,
			 "due_at", T(a->due_at), "occurrence", (json_int_t)a->occurrence,
			 "fire_at", T(a->fire_at), "fired_at", T(a->fired_at),
			 "unit", OPT(a->unit), "urgent", a->urgent,
			 "acknowledged_at", T(a->acknowledged_at),
			 "acknowledged_by", OPT(a->acknowledged_by),
			 "acknowledged_note", OPT(a->acknowledged_note));
}

json_t *item_json_event(struct calendar *cal, const struct store_event *ev)
{
	json_t *data = json_loads(ev->data, 0, NULL);

	return json_pack("{s:I, s:s, s:o, s:s, s:o, s:o}", "id", (json_int_t)ev->id, "type",
			 ev->type, "at", T(ev->at), "actor", ev->actor, "data",
			 data ? data : json_object(), "due_at", T(ev->due_at));
}

/* --- JSON text without a tree ------------------------------------------------------------ */

static bool text_room(struct item_text *t, size_t n)
{
	size_t cap;
	char *s;

	if (t->oom)
		return false;
	if (t->len + n + 1 <= t->cap)
		return true;
	/* a case's answer (about 650 bytes) in one allocation */
	cap = t->cap ? t->cap : 1024;
	while (cap < t->len + n + 1)
		cap *= 2;
	if (!(s = realloc(t->s, cap))) {
		t->oom = true;
		return false;
	}
	t->s = s;
	t->cap = cap;
	return true;
}

void item_text_raw(struct item_text *t, const char *s, size_t n)
{
	if (!text_room(t, n))
		return;
	memcpy(t->s + t->len, s, n);
	t->len += n;
	t->s[t->len] = '\0';
}

/* Whether a byte of the word w is below 0x20, '"' or '\\' (exact: never a false alarm), by the
 * usual bit tricks on eight bytes at once: answers' names and applicants are long, and a byte
 * by byte scan cost 8 000 instructions a case. */
static bool word_needs_escape(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');

	return (((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((b - ones) & ~b)) & highs;
}

/* The length of the longest prefix of s[0..n) that needs no escape. */
static size_t plain_prefix(const char *s, size_t n)
{
	size_t i = 0;
	uint64_t w;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		if (word_needs_escape(w))
			break;
	}
	while (i < n && (unsigned char)s[i] >= 0x20 && s[i] != '"' && s[i] != '\\')
		i++;
	return i;
}

void item_text_str(struct item_text *t, const char *s, size_t n)
{
	size_t from = 0, i = 0;
	char esc[8];

	/* Most strings have nothing to escape: one reservation and one copy for them. */
	i = plain_prefix(s, n);
	if (i == n) {
		char *p;

		if (!text_room(t, n + 2))
			return;
		p = t->s + t->len;
		p[0] = '"';
		memcpy(p + 1, s, n);
		p[n + 1] = '"';
		p[n + 2] = '\0';
		t->len += n + 2;
		return;
	}
	item_text_raw(t, "\"", 1);
	for (;;) {
		/* the plain run first: most strings have nothing to escape */
		while (i < n && (unsigned char)s[i] >= 0x20 && s[i] != '"' && s[i] != '\\')
			i++;
		if (i == n)
			break;
		unsigned char c = (unsigned char)s[i];
		const char *e = NULL;
		switch (c) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\b': e = "\\b"; break;
		case '\f': e = "\\f"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		default:
			/* jansson's spelling of the other control characters: \u001F */
			snprintf(esc, sizeof(esc), "\\u%04X", (unsigned)c);
			e = esc;
		}
		item_text_raw(t, s + from, i - from);
		item_text_lit(t, e);
		from = ++i;
	}
	item_text_raw(t, s + from, n - from);
	item_text_raw(t, "\"", 1);
}

void item_text_int(struct item_text *t, int64_t v)
{
	char buf[24];
	char *p = buf + sizeof(buf);
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	item_text_raw(t, p, (size_t)(buf + sizeof(buf) - p));
}

int item_text_scalar(struct item_text *t, json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		item_text_str(t, json_string_value(v), json_string_length(v));
		return 0;
	case JSON_INTEGER:
		item_text_int(t, json_integer_value(v));
		return 0;
	case JSON_TRUE:
		item_text_lit(t, "true");
		return 0;
	case JSON_FALSE:
		item_text_lit(t, "false");
		return 0;
	case JSON_NULL:
		item_text_lit(t, "null");
		return 0;
	default:
		return -1;
	}
}

int item_text_object(struct item_text *t, json_t *obj)
{
	size_t start = t->len;
	const char *key;
	json_t *v;
	bool first = true;

	if (!json_is_object(obj))
		return -1;
	item_text_raw(t, "{", 1);
	json_object_foreach(obj, key, v) {
		if (!first)
			item_text_raw(t, ",", 1);
		item_text_str(t, key, strlen(key));
		item_text_raw(t, ":", 1);
		if (item_text_scalar(t, v) != 0) {
			t->len = start;
			if (t->s)
				t->s[start] = '\0';
			return -1;
		}
		first = false;
	}
	item_text_raw(t, "}", 1);
	return 0;
}

/* A key literal with its punctuation, e.g. KEY(",\"due_at\":"): its length is known here. */
#define KEY(lit) (lit), sizeof(lit) - 1

static void text_key(struct item_text *t, const char *key, size_t klen)
{
	item_text_raw(t, key, klen);
}

static void text_opt(struct item_text *t, const char *key, size_t klen, const char *s)
{
	text_key(t, key, klen);
	if (s && *s)
		item_text_str(t, s, strlen(s));
	else
		item_text_lit(t, "null");
}

static void text_bool(struct item_text *t, const char *key, size_t klen, bool b)
{
	text_key(t, key, klen);
	item_text_lit(t, b ? "true" : "false");
}

/* The last instant formatted, so that a case's equal instants (created_at and updated_at of a
 * new case) are formatted once. */
struct last_time {
	int64_t t;
	char text[64];
};

static void text_time(struct item_text *t, const char *key, size_t klen, struct calendar *cal,
		      int64_t v, struct last_time *last)
{
	if (v == TIME_NONE) {
		text_opt(t, key, klen, NULL);
		return;
	}
	if (v != last->t || !last->text[0]) {
		calendar_format(cal, v, last->text, sizeof(last->text));
		last->t = v;
	}
	text_opt(t, key, klen, last->text);
}

void item_text_case(struct item_text *t, const struct config *cfg, struct calendar *cal,
		    const struct case_record *c)
{
	const struct config_procedure *p = config_procedure(cfg, c->procedure);
	const struct config_unit *u = config_unit(cfg, c->unit);
	struct last_time last = { 0 };

	text_key(t, KEY("{\"code\":"));
	item_text_str(t, c->code, strlen(c->code));
	text_key(t, KEY(",\"procedure\":"));
	item_text_str(t, c->procedure, strlen(c->procedure));
	text_opt(t, KEY(",\"procedure_name\":"), p ? p->name : NULL);
	text_key(t, KEY(",\"unit\":"));
	item_text_str(t, c->unit, strlen(c->unit));
	text_opt(t, KEY(",\"unit_name\":"), u ? u->name : NULL);
	text_opt(t, KEY(",\"handler\":"), c->handler);
	text_opt(t, KEY(",\"applicant\":"), c->applicant);
	text_time(t, KEY(",\"received_at\":"), cal, c->received_at, &last);
	text_time(t, KEY(",\"due_at\":"), cal, c->due_at, &last);
	text_bool(t, KEY(",\"due_given\":"), c->due_given);
	text_opt(t, KEY(",\"online\":"), case_online_name(c->online));
	text_bool(t, KEY(",\"paid_online\":"), c->paid_online);
	text_bool(t, KEY(",\"digitized\":"), c->digitized);
	text_opt(t, KEY(",\"status\":"), case_status_name(c->status));
	text_opt(t, KEY(",\"outcome\":"), case_outcome_name(c->outcome));
	text_bool(t, KEY(",\"late\":"), c->late);
	text_bool(t, KEY(",\"extended\":"), c->extended);
	text_time(t, KEY(",\"paused_at\":"), cal, c->paused_at, &last);
	text_time(t, KEY(",\"completed_at\":"), cal, c->completed_at, &last);
	text_time(t, KEY(",\"ended_at\":"), cal, c->ended_at, &last);
	text_key(t, KEY(",\"version\":"));
	item_text_int(t, c->version);
	text_time(t, KEY(",\"created_at\":"), cal, c->created_at, &last);
	text_time(t, KEY(",\"updated_at\":"), cal, c->updated_at, &last);
	text_key(t, KEY(",\"fee\":"));
	item_text_int(t, c->fee);
	text_key(t, KEY(",\"rating\":"));
	if (c->rating)
		item_text_int(t, c->rating);
	else
		item_text_lit(t, "null");
	text_time(t, KEY(",\"rated_at\":"), cal, c->rated_at, &last);
	item_text_raw(t, "}", 1);
}

char *item_text_take(struct item_text *t, size_t *len)
{
	char *s = t->oom ? NULL : t->s;

	if (!s && !t->oom)
		s = calloc(1, 1);
	if (t->oom)
		free(t->s);
	*len = s ? t->len : 0;
	*t = (struct item_text){ 0 };
	return s;
}

void item_text_free(struct item_text *t)
{
	free(t->s);
	*t = (struct item_text){ 0 };
}
