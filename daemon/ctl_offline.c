/* ctl_offline: the API's read endpoints over a read-only database for dunghanctl --db (see
 * ctl_offline.h).
 *
 * DESIGN: the commands are written once, against the API's paths and JSON; this file is the
 * second backend behind them. It builds the objects field for field as api_cases.c,
 * api_documents.c, api_alerts.c and api_status.c do (docs/api.md is the contract both follow),
 * and pages the same way (want + 1 rows, cursor "due.id" or the last id), so that
 * `--format json` prints the same text online and offline. */
#include "ctl_offline.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_core.h"
#include "ctl_view.h"
#include "item_json.h"
#include "store.h"

#define DEFAULT_LIMIT 100
#define MAX_LIMIT 500
#define MAX_PARAMS 12

struct answer {
	struct ctl *ctl;
	long status;
	json_t *json;
};

static void fail(struct answer *a, long status, const char *code, const char *field,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void fail(struct answer *a, long status, const char *code, const char *field,
		 const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	a->status = status;
	json_decref(a->json);
	a->json = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg);
	if (field && a->json)
		json_object_set_new(json_object_get(a->json, "error"), "field", json_string(field));
}

/* --- the query ------------------------------------------------------------------------------ */

struct query {
	char names[MAX_PARAMS][24];
	char values[MAX_PARAMS][512];
	int n;
};

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
		: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* name=value pairs, percent-decoded ('+' is a space); -1 on anything else. */
static int parse_query(const char *s, struct query *q)
{
	q->n = 0;
	while (s && *s) {
		const char *amp = strchr(s, '&'), *eq = strchr(s, '=');
		size_t len = amp ? (size_t)(amp - s) : strlen(s), k = 0;

		if (!eq || eq > s + len || (size_t)(eq - s) >= sizeof(q->names[0]) ||
		    q->n == MAX_PARAMS)
			return -1;
		memcpy(q->names[q->n], s, (size_t)(eq - s));
		q->names[q->n][eq - s] = '\0';
		for (const char *p = eq + 1; p < s + len; p++) {
			if (k + 1 >= sizeof(q->values[0]))
				return -1;
			if (*p == '%') {
				if (p + 2 >= s + len || hexval(p[1]) < 0 || hexval(p[2]) < 0)
					return -1;
				q->values[q->n][k++] = (char)(hexval(p[1]) * 16 + hexval(p[2]));
				p += 2;
			} else {
				q->values[q->n][k++] = *p == '+' ? ' ' : *p;
			}
		}
		q->values[q->n][k] = '\0';
		q->n++;
		s += len + (amp ? 1 : 0);
	}
	return 0;
}

static const char *qget(const struct query *q, const char *name)
{
	for (int i = 0; i < q->n; i++)
		if (strcmp(q->names[i], name) == 0)
			return q->values[i];
	return NULL;
}

/* --- JSON as the API writes it ----------------------------------------------------------- */

static json_t *case_json(struct ctl *ctl, const struct case_record *c)
{
	return item_json_case(ctl->cfg, ctl->cfg->calendar, c);
}

static json_t *document_json(struct ctl *ctl, const struct document_record *d)
{
	return item_json_document(ctl->cfg, ctl->cfg->calendar, d);
}

static json_t *assignment_json(struct ctl *ctl, const struct assignment_record *a)
{
	return item_json_assignment(ctl->cfg, ctl->cfg->calendar, a);
}

static json_t *alert_json(struct ctl *ctl, const struct store_alert *a)
{
	return item_json_alert(ctl->cfg->calendar, a);
}

static json_t *event_json(struct ctl *ctl, const struct store_event *ev)
{
	return item_json_event(ctl->cfg->calendar, ev);
}

/* --- pages ------------------------------------------------------------------------------- */

struct page {
	struct ctl *ctl;
	json_t *items;
	int want;
	bool more;
	int64_t last_due, last_id;
};

static int page_add(struct page *pg, json_t *item, int64_t due, int64_t id)
{
	if ((int)json_array_size(pg->items) == pg->want) {
		json_decref(item);
		pg->more = true;
		return 1;
	}
	json_array_append_new(pg->items, item);
	pg->last_due = due;
	pg->last_id = id;
	return 0;
}

static void page_reply(struct answer *a, struct page *pg, const char *key, bool by_id)
{
	char cursor[48];

	if (by_id)
		snprintf(cursor, sizeof(cursor), "%lld", (long long)pg->last_id);
	else
		snprintf(cursor, sizeof(cursor), "%lld.%lld", (long long)pg->last_due,
			 (long long)pg->last_id);
	a->status = 200;
	a->json = json_pack("{s:o, s:o}", key, pg->items, "next_cursor",
			    pg->more ? json_string(cursor) : json_null());
}

static int collect_case(void *ctx, const struct case_record *c)
{
	struct page *pg = ctx;
	return page_add(pg, case_json(pg->ctl, c), c->due_at, c->id);
}

static int collect_document(void *ctx, const struct document_record *d)
{
	struct page *pg = ctx;
	return page_add(pg, document_json(pg->ctl, d), d->due_at, d->id);
}

static int collect_assignment(void *ctx, const struct assignment_record *x)
{
	struct page *pg = ctx;
	return page_add(pg, assignment_json(pg->ctl, x), x->due_at, x->id);
}

static int collect_alert(void *ctx, const struct store_alert *al)
{
	struct page *pg = ctx;
	return page_add(pg, alert_json(pg->ctl, al), 0, al->id);
}

static int collect_event(void *ctx, const struct store_event *ev)
{
	struct page *pg = ctx;
	json_array_append_new(pg->items, event_json(pg->ctl, ev));
	return 0;
}

static int limit_of(struct answer *a, const struct query *q, int *limit)
{
	const char *v = qget(q, "limit");
	char *end;

	*limit = DEFAULT_LIMIT;
	if (!v)
		return 0;
	long n = strtol(v, &end, 10);
	if (*end || end == v || n < 1 || n > MAX_LIMIT) {
		fail(a, 400, "invalid_query", "limit", "limit: expected a whole number from 1 to %d",
		     MAX_LIMIT);
		return -1;
	}
	*limit = (int)n;
	return 0;
}

/* The filters of the item lists, checked as the API checks them. */
static int item_filter(struct answer *a, const struct query *q, int (*status_parse)(const char *),
		       struct store_filter *f)
{
	static const char *const known[] = { "unit", "status", "overdue", "at_risk", "due_before",
					     "due_after", "q", "limit", "cursor", "as_of", NULL };
	const char *v;

	memset(f, 0, sizeof(*f));
	f->now = a->ctl->now;
	f->due_before = f->due_after = TIME_NONE;
	for (int i = 0; i < q->n; i++) {
		size_t k = 0;
		while (known[k] && strcmp(known[k], q->names[i]) != 0)
			k++;
		if (!known[k]) {
			fail(a, 400, "invalid_query", q->names[i], "unknown query parameter \"%s\"",
			     q->names[i]);
			return -1;
		}
	}
	if ((v = qget(q, "unit"))) {
		if (!config_unit(a->ctl->cfg, v)) {
			fail(a, 422, "unknown_reference", "unit", "no unit has id \"%.64s\"", v);
			return -1;
		}
		f->unit = v;
	}
	if ((v = qget(q, "status"))) {
		if (status_parse(v) < 0) {
			fail(a, 400, "invalid_query", "status", "unknown status \"%.40s\"", v);
			return -1;
		}
		f->status = v;
	}
	f->overdue = (v = qget(q, "overdue")) && strcmp(v, "true") == 0;
	f->at_risk = (v = qget(q, "at_risk")) && strcmp(v, "true") == 0;
	if ((v = qget(q, "due_before")))
		f->due_before = ctl_instant(v);
	if ((v = qget(q, "due_after")))
		f->due_after = ctl_instant(v);
	if ((v = qget(q, "as_of")))
		f->now = ctl_instant(v);
	f->q = qget(q, "q");
	if ((v = qget(q, "cursor"))) {
		long long due, id;
		int used = 0;
		if (sscanf(v, "%lld.%lld%n", &due, &id, &used) != 2 || (size_t)used != strlen(v)) {
			fail(a, 400, "invalid_query", "cursor", "cursor: not a cursor this server gave");
			return -1;
		}
		f->has_cursor = true;
		f->cursor_due = due;
		f->cursor_id = id;
	}
	return limit_of(a, q, &f->limit);
}

static bool store_failed(struct answer *a, enum store_status st, const struct err *err)
{
	if (st == STORE_OK)
		return false;
	fail(a, 503, "unavailable", NULL, "%s", err->msg);
	return true;
}

/* --- the endpoints ---------------------------------------------------------------------- */

static void get_status(struct answer *a, const struct query *q)
{
	const char *as_of = qget(q, "as_of");
	struct store_counts c;
	struct err err;

	if (store_failed(a, store_counts(a->ctl->store, as_of ? ctl_instant(as_of) : a->ctl->now,
					 &c, &err), &err))
		return;
	a->status = 200;
	a->json = json_pack("{s:s, s:n, s:n, s:{s:I, s:I, s:I}, s:{s:I, s:I, s:I}, s:I, s:{s:I, s:I}}",
			    "version", DUNGHAN_VERSION, "started_at", "uptime_s", "open", "cases",
			    (json_int_t)c.open_cases, "documents", (json_int_t)c.open_documents,
			    "assignments", (json_int_t)c.open_assignments, "overdue", "cases",
			    (json_int_t)c.overdue_cases, "documents", (json_int_t)c.overdue_documents,
			    "assignments", (json_int_t)c.overdue_assignments, "at_risk_cases",
			    (json_int_t)c.at_risk_cases, "outbox", "pending",
			    (json_int_t)c.outbox_pending, "dead", (json_int_t)c.outbox_dead);
}

static void list_items(struct answer *a, const char *kind, const struct query *q,
		       int64_t document_id, int64_t parent_id)
{
	struct page pg = { .ctl = a->ctl };
	struct store_filter f;
	enum store_status st;
	struct err err;
	bool cases = strcmp(kind, "cases") == 0, docs = strcmp(kind, "documents") == 0;

	if (item_filter(a, q, cases ? case_status_parse : docs ? document_status_parse
							   : assignment_status_parse, &f) != 0)
		return;
	f.document_id = document_id;
	f.parent_id = parent_id;
	pg.want = f.limit++;
	pg.items = json_array();
	if (cases)
		st = store_case_list(a->ctl->store, &f, collect_case, &pg, &err);
	else if (docs)
		st = store_document_list(a->ctl->store, &f, collect_document, &pg, &err);
	else
		st = store_assignment_list(a->ctl->store, &f, collect_assignment, &pg, &err);
	if (store_failed(a, st, &err)) {
		json_decref(pg.items);
		return;
	}
	page_reply(a, &pg, kind, false);
}

static void list_events(struct answer *a, const char *kind, int64_t id)
{
	struct page pg = { .ctl = a->ctl, .items = json_array() };
	struct err err;

	if (store_failed(a, store_event_list(a->ctl->store, kind, id, collect_event, &pg, &err),
			 &err)) {
		json_decref(pg.items);
		return;
	}
	a->status = 200;
	a->json = json_pack("{s:o}", "events", pg.items);
}

static void list_alerts(struct answer *a, const struct query *q)
{
	struct store_alert_filter f = { .since = TIME_NONE, .acknowledged = -1 };
	struct page pg = { .ctl = a->ctl };
	struct case_record c;
	struct err err;
	const char *v;
	char *end;

	if (limit_of(a, q, &f.limit) != 0)
		return;
	if ((v = qget(q, "cursor")))
		f.after_id = strtoll(v, &end, 10);
	if ((v = qget(q, "item"))) {
		if (strncmp(v, "case:", 5) == 0) {
			if (store_case_get(a->ctl->store, v + 5, &c, NULL, &err) != STORE_OK) {
				fail(a, 422, "unknown_reference", "item", "no case has code \"%.64s\"",
				     v + 5);
				return;
			}
			f.item_kind = "case";
			f.item_id = c.id;
		} else if (strncmp(v, "document:", 9) == 0 || strncmp(v, "assignment:", 11) == 0) {
			f.item_kind = v[0] == 'd' ? "document" : "assignment";
			f.item_id = strtoll(strchr(v, ':') + 1, &end, 10);
		} else {
			fail(a, 400, "invalid_query", "item",
			     "item: expected case:CODE, document:ID or assignment:ID");
			return;
		}
	}
	if ((v = qget(q, "unit"))) {
		if (!config_unit(a->ctl->cfg, v)) {
			fail(a, 422, "unknown_reference", "unit", "no unit has id \"%.64s\"", v);
			return;
		}
		f.unit = v;
	}
	f.rule = qget(q, "rule");
	if ((v = qget(q, "since")))
		f.since = ctl_instant(v);
	if ((v = qget(q, "acknowledged")))
		f.acknowledged = strcmp(v, "true") == 0;
	pg.want = f.limit++;
	pg.items = json_array();
	if (store_failed(a, store_alert_list(a->ctl->store, &f, collect_alert, &pg, &err), &err)) {
		json_decref(pg.items);
		return;
	}
	page_reply(a, &pg, "alerts", true);
}

static void get_case(struct answer *a, const char *code, bool events)
{
	struct case_record c;
	struct err err;
	enum store_status st = store_case_get(a->ctl->store, code, &c, NULL, &err);

	if (st == STORE_NOT_FOUND)
		fail(a, 404, "not_found", NULL, "no case has code \"%s\"", code);
	else if (store_failed(a, st, &err))
		return;
	else if (events)
		list_events(a, "case", c.id);
	else {
		a->status = 200;
		a->json = case_json(a->ctl, &c);
	}
}

/* GET /documents/ID[/events|/assignments] and /assignments/ID[/...]. */
static void get_numbered(struct answer *a, bool doc, int64_t id, const char *sub,
			 const struct query *q)
{
	struct document_record d;
	struct assignment_record x;
	struct err err;
	enum store_status st = doc ? store_document_get(a->ctl->store, id, &d, &err)
				   : store_assignment_get(a->ctl->store, id, a->ctl->now, &x, &err);

	if (st == STORE_NOT_FOUND) {
		fail(a, 404, "not_found", NULL, "no %s has id %lld", doc ? "document" : "assignment",
		     (long long)id);
		return;
	}
	if (store_failed(a, st, &err))
		return;
	if (!sub) {
		a->status = 200;
		a->json = doc ? document_json(a->ctl, &d) : assignment_json(a->ctl, &x);
	} else if (strcmp(sub, "events") == 0) {
		list_events(a, doc ? "document" : "assignment", id);
	} else if (strcmp(sub, "assignments") == 0) {
		list_items(a, "assignments", q, doc ? id : 0, doc ? 0 : id);
	} else {
		fail(a, 404, "not_found", NULL, "no such endpoint");
	}
}

static int open_store(struct ctl *ctl, struct err *err)
{
	enum store_status st;
	struct err e;

	if (ctl->store)
		return 0;
	ctl->store = store_open_readonly(ctl->db_path, &st, &e);
	if (!ctl->store)
		return err_set(err, NULL, "cannot read the database %s: %s", ctl->db_path, e.msg);
	return 0;
}

int ctl_offline_get(struct ctl *ctl, const char *path, long *status, json_t **answer,
		    struct err *err)
{
	struct answer a = { .ctl = ctl };
	char route[512], *seg[4] = { 0 }, *save = NULL, *s, *end;
	const char *qs = strchr(path, '?');
	struct query q;
	int n = 0;

	*answer = NULL;
	if (open_store(ctl, err) != 0)
		return -1;
	snprintf(route, sizeof(route), "%.*s", qs ? (int)(qs - path) : (int)strlen(path), path);
	if (strncmp(route, "/api/v1/", 8) != 0 || parse_query(qs ? qs + 1 : NULL, &q) != 0) {
		fail(&a, 400, "invalid_query", NULL, "%s cannot be read from the database", path);
		goto out;
	}
	for (s = strtok_r(route + 8, "/", &save); s && n < 4; s = strtok_r(NULL, "/", &save))
		seg[n++] = s;
	bool numbered = n >= 2 && (strcmp(seg[0], "documents") == 0 ||
				   strcmp(seg[0], "assignments") == 0);
	long long id = numbered ? strtoll(seg[1], &end, 10) : 0;
	if (n == 1 && strcmp(seg[0], "status") == 0)
		get_status(&a, &q);
	else if (n == 1 && strcmp(seg[0], "alerts") == 0)
		list_alerts(&a, &q);
	else if (n == 1 && (strcmp(seg[0], "cases") == 0 || strcmp(seg[0], "documents") == 0 ||
			    strcmp(seg[0], "assignments") == 0))
		list_items(&a, seg[0], &q, 0, 0);
	else if ((n == 2 || (n == 3 && strcmp(seg[2], "events") == 0)) &&
		 strcmp(seg[0], "cases") == 0)
		get_case(&a, seg[1], n == 3);
	else if (numbered && n <= 3 && !*end && id > 0)
		get_numbered(&a, seg[0][0] == 'd', id, n == 3 ? seg[2] : NULL, &q);
	else
		fail(&a, 404, "not_found", NULL, "GET %s is not available with --db", path);
out:
	if (!a.json)
		return err_set(err, NULL, "out of memory");
	*status = a.status;
	*answer = a.json;
	return 0;
}
