/* api_kpi: the KPI routes of the API (docs/api.md, "KPIs"): the figures per unit and period,
 * the error budget and a directive's cascade, computed in the thread pool on read-only
 * connections (api_job_queue), and the inspections units make of their subordinate units.
 *
 * DESIGN: everything that needs the calendar (periods, working days of a year, instants in the
 * answer) happens on the loop thread, before or after the job; a job's run() only reads the
 * database and the job's own config reference, and builds as much of the answer as it can. */
#include "api_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kpi.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define YEAR_MIN 2000
#define YEAR_MAX 2100

/* --- output helpers ------------------------------------------------------------------------- */

/* A figure rounded to one decimal (as the CSV prints it), or null for no data. */
static json_t *figure(double v)
{
	return kpi_no_data(v) ? json_null() : json_real(round(v * 10.0) / 10.0);
}

/* A target in percent, or null when the level has none for that figure. */
static json_t *target_value(double v)
{
	return v < 0 ? json_null() : json_real(round(v * 10.0) / 10.0);
}

static void format_day(int32_t day, char *buf, size_t n)
{
	int y, m, d;

	civil_from_days(day, &y, &m, &d);
	snprintf(buf, n, "%04d-%02d-%02d", y, m, d);
}

/* The unit a report is about by default: the config's first root. NULL when there is none. */
static const char *default_unit(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->nunits; i++)
		if (!cfg->units[i].parent)
			return cfg->units[i].id;
	return NULL;
}

/* Checks the unit parameter (default: the first root) into buf; 0 or -1 with e. */
static int query_unit(struct api_ctx *x, const char *value, char *buf, size_t n,
		      struct api_error *e)
{
	if (!value)
		value = default_unit(x->cfg);
	if (!value)
		return api_fail(e, 422, "unknown_reference", "unit",
				"the configuration has no units");
	if (api_query_unit(x, "unit", value, e) != 0)
		return -1;
	snprintf(buf, n, "%s", value);
	return 0;
}

/* s without the blanks around it (in place). */
static char *trim(char *s)
{
	char *end;

	s += strspn(s, " \t");
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return s;
}

/* Whether the client asks for CSV in Accept: text/csv listed, not with q=0, before any
 * application/json. */
static bool accepts_csv(struct api_ctx *x)
{
	const char *header = http_request_header(x->req, "accept");
	char buf[512], *range, *save;

	if (!header)
		return false;
	snprintf(buf, sizeof(buf), "%s", header);
	for (range = strtok_r(buf, ",", &save); range; range = strtok_r(NULL, ",", &save)) {
		char *psave, *type = strtok_r(range, ";", &psave), *param;
		double q = 1.0;

		if (!type)
			continue;
		type = trim(type);
		while ((param = strtok_r(NULL, ";", &psave))) {
			param = trim(param);
			if ((param[0] == 'q' || param[0] == 'Q') && param[1] == '=')
				q = strtod(param + 2, NULL);
		}
		if (!strcasecmp(type, "application/json"))
			return false;
		if (!strcasecmp(type, "text/csv") && q > 0)
			return true;
	}
	return false;
}

/* --- GET /api/v1/kpi ------------------------------------------------------------------------ */

struct kpi_job {
	struct api_job job;
	char unit[CASE_ID_MAX + 1];
	struct kpi_period period;
	enum kpi_basis basis;
	bool csv;
	json_t *json;   /* the answer, built in the thread pool */
	char *text;     /* or the CSV */
	size_t len;
};

static json_t *items_json(const struct store_item_counts *c)
{
	return json_pack("{s:I, s:I, s:I, s:I}", "due", (json_int_t)c->due, "done_on_time",
			 (json_int_t)c->done_on_time, "done_late", (json_int_t)c->done_late,
			 "open_overdue", (json_int_t)c->open_overdue);
}

static json_t *counts_json(const struct kpi_counts *k)
{
	const struct store_case_counts *c = &k->cases;
	json_t *j = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			      "received", (json_int_t)c->received, "carried",
			      (json_int_t)c->carried, "early", (json_int_t)c->early, "on_time",
			      (json_int_t)c->on_time, "late", (json_int_t)c->late, "open_within",
			      (json_int_t)c->open_within, "open_overdue",
			      (json_int_t)c->open_overdue, "online", (json_int_t)c->online,
			      "with_fee", (json_int_t)c->with_fee, "paid_online",
			      (json_int_t)c->paid_online, "digitized", (json_int_t)c->digitized);

	if (j && (json_object_set_new(j, "rated", json_integer(k->rated)) ||
		  json_object_set_new(j, "satisfied", json_integer(k->satisfied)) ||
		  json_object_set_new(j, "subordinates", json_integer(k->subordinates)) ||
		  json_object_set_new(j, "inspected", json_integer(k->inspected)) ||
		  json_object_set_new(j, "documents", items_json(&k->documents)) ||
		  json_object_set_new(j, "assignments", items_json(&k->assignments)))) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static json_t *rates_json(const struct kpi_rates *r)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "on_time", figure(r->on_time),
			 "online", figure(r->online), "online_payment", figure(r->online_payment),
			 "digitized", figure(r->digitized), "satisfaction", figure(r->satisfaction),
			 "inspection", figure(r->inspection), "documents_on_time",
			 figure(r->documents_on_time), "assignments_on_time",
			 figure(r->assignments_on_time));
}

static json_t *targets_json(const struct config_target *t)
{
	if (!t)
		return json_null();
	return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "level", t->level, "on_time",
			 target_value(t->on_time), "online", target_value(t->online),
			 "online_payment", target_value(t->online_payment), "satisfaction",
			 target_value(t->satisfaction), "digitized", target_value(t->digitized),
			 "inspection", target_value(t->inspection));
}

/* A row; the total row (no unit) has no unit, name, level or depth. */
static json_t *row_json(const struct kpi_row *r)
{
	json_t *j = json_pack("{s:o, s:o, s:o, s:b}", "counts", counts_json(&r->counts), "rates",
			      rates_json(&r->rates), "targets", targets_json(r->target),
			      "below_target", r->below_target);

	if (j && r->unit &&
	    (json_object_set_new(j, "unit", json_string(r->unit->id)) ||
	     json_object_set_new(j, "name", json_string(r->unit->name)) ||
	     json_object_set_new(j, "level", api_optional(r->unit->level)) ||
	     json_object_set_new(j, "depth", json_integer(r->depth)))) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static json_t *report_json(const struct kpi_report *r, const char *unit)
{
	char from[16], to[16];
	json_t *rows = json_array();

	for (size_t i = 0; rows && i < r->nrows; i++)
		if (json_array_append_new(rows, row_json(&r->rows[i])) != 0) {
			json_decref(rows);
			return NULL;
		}
	format_day(r->period.first_day, from, sizeof(from));
	format_day(r->period.last_day, to, sizeof(to));
	return json_pack("{s:s, s:{s:s, s:s, s:s}, s:s, s:o, s:o}", "unit", unit, "period", "label",
			 r->period.label, "from", from, "to", to, "basis",
			 r->basis == KPI_FINISHED ? "finished" : "portal", "rows", rows, "total",
			 row_json(&r->total));
}

static int kpi_run(struct api_job *job, struct store *ro, struct api_error *e)
{
	struct kpi_job *k = (struct kpi_job *)job;
	struct kpi_report r;
	struct err err;
	int rc = 0;

	if (kpi_report_build(ro, job->cfg, k->unit, &k->period, k->basis, &r, &err) != 0)
		return api_fail(e, 503, "unavailable", NULL, "cannot compute the figures: %s",
				err.msg);
	if (k->csv)
		k->text = kpi_report_csv(&r, job->cfg->escalation.language, &k->len);
	else
		k->json = report_json(&r, k->unit);
	if (!k->text && !k->json)
		rc = api_fail(e, 503, "unavailable", NULL, "out of memory");
	kpi_report_free(&r);
	return rc;
}

static void kpi_reply(struct api_job *job, struct api_ctx *x)
{
	struct kpi_job *k = (struct kpi_job *)job;
	char disposition[160];

	if (!k->csv) {
		api_reply(x, 200, k->json);
		k->json = NULL;
		return;
	}
	snprintf(disposition, sizeof(disposition), "attachment; filename=\"kpi-%s-%s.csv\"",
		 k->unit, k->period.label);
	api_reply_body(x, 200, "text/csv; charset=utf-8", k->text, k->len,
		       &(struct http_header){ "Content-Disposition", disposition }, 1);
	k->text = NULL;
}

static void kpi_free(struct api_job *job)
{
	struct kpi_job *k = (struct kpi_job *)job;

	json_decref(k->json);
	free(k->text);
	free(k);
}

void api_kpi(struct api_ctx *x)
{
	static const char *const names[] = { "unit", "period", "basis", "format", NULL };
	const char *v[N(names)];
	struct kpi_job *k = calloc(1, sizeof(*k));
	struct api_error e;
	struct err err;
	char buf[1024];
	int basis;

	if (!k) {
		api_fail(&e, 503, "unavailable", NULL, "out of memory");
		goto fail;
	}
	if (api_query_values(x, names, v, buf, sizeof(buf), &e) != 0 ||
	    query_unit(x, v[0], k->unit, sizeof(k->unit), &e) != 0)
		goto fail;
	if (kpi_parse_period(x->cal, v[1] ? v[1] : "ytd", x->now, &k->period, &err) != 0) {
		api_fail(&e, 400, "invalid_query", "period", "%s", err.msg);
		goto fail;
	}
	if ((basis = kpi_parse_basis(v[2] ? v[2] : "portal")) < 0) {
		api_fail(&e, 400, "invalid_query", "basis",
			 "basis: \"%.40s\" is not portal or finished", v[2]);
		goto fail;
	}
	k->basis = (enum kpi_basis)basis;
	if (v[3] && strcmp(v[3], "json") && strcmp(v[3], "csv")) {
		api_fail(&e, 400, "invalid_query", "format", "format: \"%.40s\" is not json or csv",
			 v[3]);
		goto fail;
	}
	k->csv = v[3] ? strcmp(v[3], "csv") == 0 : accepts_csv(x);
	k->job = (struct api_job){ .run = kpi_run, .reply = kpi_reply, .free = kpi_free };
	api_job_queue(x, &k->job);
	return;
fail:
	free(k);
	api_reply_error(x, &e);
}

/* --- GET /api/v1/kpi/budget ------------------------------------------------------------------ */

struct budget_job {
	struct api_job job;
	char unit[CASE_ID_MAX + 1];
	struct kpi_year year;
	json_t *json;
};

static json_t *budget_json(const struct kpi_budget *b)
{
	json_t *j = json_pack("{s:s, s:s, s:i, s:o, s:I, s:o, s:o, s:I, s:o, s:o, s:o}", "unit",
			      b->unit->id, "name", b->unit->name, "depth", b->depth, "target",
			      figure(b->target), "counted", (json_int_t)b->counted, "projected",
			      figure(b->projected), "allowed", figure(b->allowed), "used",
			      (json_int_t)b->used, "remaining", figure(b->remaining),
			      "remaining_percent", figure(b->remaining_percent), "projected_rate",
			      figure(b->projected_rate));

	if (j && (json_object_set_new(j, "burn_7d", figure(b->burn_7d)) ||
		  json_object_set_new(j, "burn_30d", figure(b->burn_30d)) ||
		  json_object_set_new(j, "due_7d", json_integer(b->due_7d)) ||
		  json_object_set_new(j, "late_7d", json_integer(b->late_7d)) ||
		  json_object_set_new(j, "due_30d", json_integer(b->due_30d)) ||
		  json_object_set_new(j, "late_30d", json_integer(b->late_30d)))) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static int budget_run(struct api_job *job, struct store *ro, struct api_error *e)
{
	struct budget_job *k = (struct budget_job *)job;
	struct kpi_budget *b;
	size_t n;
	struct err err;
	json_t *units;

	if (kpi_budget_build(ro, job->cfg, k->unit, &k->year, &b, &n, &err) != 0)
		return api_fail(e, 503, "unavailable", NULL, "cannot compute the budget: %s",
				err.msg);
	units = json_array();
	for (size_t i = 0; units && i < n; i++)
		if (json_array_append_new(units, budget_json(&b[i])) != 0) {
			json_decref(units);
			units = NULL;
		}
	free(b);
	k->json = json_pack("{s:s, s:i, s:o}", "unit", k->unit, "year", k->year.year, "units",
			    units);
	if (!k->json)
		return api_fail(e, 503, "unavailable", NULL, "out of memory");
	return 0;
}

static void budget_reply(struct api_job *job, struct api_ctx *x)
{
	struct budget_job *k = (struct budget_job *)job;

	api_reply(x, 200, k->json);
	k->json = NULL;
}

static void budget_free(struct api_job *job)
{
	struct budget_job *k = (struct budget_job *)job;

	json_decref(k->json);
	free(k);
}

void api_kpi_budget(struct api_ctx *x)
{
	static const char *const names[] = { "unit", "year", NULL };
	const char *v[N(names)];
	struct budget_job *k = calloc(1, sizeof(*k));
	struct api_error e;
	struct err err;
	char buf[512], *end;
	int y, m, d;
	long year;

	if (!k) {
		api_fail(&e, 503, "unavailable", NULL, "out of memory");
		goto fail;
	}
	if (api_query_values(x, names, v, buf, sizeof(buf), &e) != 0 ||
	    query_unit(x, v[0], k->unit, sizeof(k->unit), &e) != 0)
		goto fail;
	civil_from_days(calendar_day_of(x->cal, x->now), &y, &m, &d);
	year = y;
	if (v[1]) {
		year = strtol(v[1], &end, 10);
		if (*end || end == v[1] || v[1][0] < '0' || v[1][0] > '9' || year < YEAR_MIN ||
		    year > YEAR_MAX) {
			api_fail(&e, 400, "invalid_query", "year",
				 "year: expected a year from %d to %d", YEAR_MIN, YEAR_MAX);
			goto fail;
		}
	}
	/* The working days of the year need the calendar: here, not in the thread pool. */
	if (kpi_budget_year(x->cal, (int)year, x->now, &k->year, &err) != 0) {
		api_fail(&e, 400, "invalid_query", "year", "%s", err.msg);
		goto fail;
	}
	k->job = (struct api_job){ .run = budget_run, .reply = budget_reply, .free = budget_free };
	api_job_queue(x, &k->job);
	return;
fail:
	free(k);
	api_reply_error(x, &e);
}

/* --- GET /api/v1/directives/{id}/cascade ------------------------------------------------------ */

struct cascade_job {
	struct api_job job;
	int64_t id;
	struct assignment_record directive;
	struct kpi_cascade cascade;
};

static int cascade_run(struct api_job *job, struct store *ro, struct api_error *e)
{
	struct cascade_job *k = (struct cascade_job *)job;
	struct err err;

	switch (store_assignment_get(ro, k->id, job->now, &k->directive, &err)) {
	case STORE_OK:
		break;
	case STORE_NOT_FOUND:
		return api_fail(e, 404, "not_found", NULL, "no assignment has id %lld",
				(long long)k->id);
	default:
		return api_fail(e, 503, "unavailable", NULL, "%s", err.msg);
	}
	if (k->directive.parent_id)
		return api_fail(e, 409, "conflict", NULL,
				"assignment %lld is a sub-assignment of %lld: a cascade starts at "
				"a top-level assignment", (long long)k->id,
				(long long)k->directive.parent_id);
	if (kpi_cascade_build(ro, job->cfg, k->id, job->now, &k->cascade, &err) != 0)
		return api_fail(e, 503, "unavailable", NULL, "%s", err.msg);
	return 0;
}

static json_t *cascade_counts_json(const struct kpi_cascade_counts *c)
{
	return json_pack("{s:I, s:I, s:I, s:I}", "total", (json_int_t)c->done + c->open, "done",
			 (json_int_t)c->done, "open", (json_int_t)c->open, "overdue",
			 (json_int_t)c->overdue);
}

static void cascade_reply(struct api_job *job, struct api_ctx *x)
{
	struct cascade_job *k = (struct cascade_job *)job;
	const struct assignment_record *a = &k->directive;
	const struct kpi_cascade *cc = &k->cascade;
	json_t *depths = json_array(), *levels = json_array(), *j;

	for (size_t i = 0; depths && i < cc->ndepths; i++) {
		json_t *c = cascade_counts_json(&cc->depths[i]);
		if (c)
			json_object_set_new(c, "depth", json_integer((json_int_t)i + 1));
		json_array_append_new(depths, c);
	}
	for (size_t i = 0; levels && i < cc->nlevels; i++) {
		json_t *c = cascade_counts_json(&cc->levels[i].c);
		if (c)
			json_object_set_new(c, "level", api_optional(cc->levels[i].level));
		json_array_append_new(levels, c);
	}
	j = json_pack("{s:{s:I, s:o, s:o, s:s, s:s, s:o, s:s}, s:o, s:o, s:o}", "directive", "id",
		      (json_int_t)a->id, "document",
		      a->document_id ? json_integer(a->document_id) : json_null(), "direction",
		      api_optional(a->direction), "title", a->title, "unit", a->unit, "due_at",
		      api_time(x, a->due_at), "status", assignment_status_name(a->status), "levels",
		      depths, "by_unit_level", levels, "total", cascade_counts_json(&cc->total));
	if (!j) {
		struct api_error e;
		api_fail(&e, 503, "unavailable", NULL, "out of memory");
		api_reply_error(x, &e);
		return;
	}
	api_reply(x, 200, j);
}

static void cascade_free(struct api_job *job)
{
	struct cascade_job *k = (struct cascade_job *)job;

	kpi_cascade_free(&k->cascade);
	free(k);
}

void api_directive_cascade(struct api_ctx *x, int64_t id)
{
	struct cascade_job *k = calloc(1, sizeof(*k));
	struct api_error e;
	char buf[64];
	const char *none[] = { NULL }, *v[1];

	if (!k) {
		api_fail(&e, 503, "unavailable", NULL, "out of memory");
		api_reply_error(x, &e);
		return;
	}
	if (api_query_values(x, none, v, buf, sizeof(buf), &e) != 0) {
		free(k);
		api_reply_error(x, &e);
		return;
	}
	k->id = id;
	k->job = (struct api_job){ .run = cascade_run, .reply = cascade_reply,
				   .free = cascade_free };
	api_job_queue(x, &k->job);
}

/* --- inspections ------------------------------------------------------------------------------ */

static json_t *inspection_json(struct api_ctx *x, const struct store_inspection *i)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:o, s:s, s:o}", "id", (json_int_t)i->id, "unit",
			 i->unit, "inspected_unit", i->inspected_unit, "date", i->on_date, "note",
			 api_optional(i->note), "actor", i->actor, "created_at",
			 api_time(x, i->created_at));
}

static const struct api_field inspection_fields[] = {
	{ "unit", API_ID, true, CASE_ID_MAX, NULL },
	{ "inspected_unit", API_ID, true, CASE_ID_MAX, NULL },
	{ "date", API_DATE, true, 0, NULL },
	{ "note", API_STRING, false, 2000, NULL },
};

/* The references and the date of a checked body; 0 or -1 with e. */
static int check_inspection(struct api_ctx *x, json_t *body, struct api_error *e)
{
	const char *unit = api_str(body, "unit"), *inspected = api_str(body, "inspected_unit");
	const struct config_unit *u;
	int32_t day;

	if (!config_unit(x->cfg, unit))
		return api_fail(e, 422, "unknown_reference", "unit", "no unit has id \"%s\"", unit);
	if (!(u = config_unit(x->cfg, inspected)))
		return api_fail(e, 422, "unknown_reference", "inspected_unit",
				"no unit has id \"%s\"", inspected);
	if (!u->parent || strcmp(u->parent, unit) != 0)
		return api_fail(e, 400, "invalid_field", "inspected_unit",
				"inspected_unit: %s is not directly below %s in the unit tree",
				inspected, unit);
	civil_parse_date(api_str(body, "date"), &day, NULL);
	if (day > calendar_day_of(x->cal, x->now))
		return api_fail(e, 400, "invalid_field", "date",
				"date: an inspection cannot be recorded before it happens");
	return 0;
}

void api_inspections_create(struct api_ctx *x)
{
	struct api_error e;
	struct err err;
	size_t len;
	const char *data = http_request_body(x->req, &len);
	json_t *body = api_parse_body(x, data, len, &e);
	struct store_inspection i;
	int rc = -1;

	if (!body)
		goto reply;
	if (api_check_fields(x, body, inspection_fields, N(inspection_fields), &e) != 0 ||
	    check_inspection(x, body, &e) != 0)
		goto reply;
	i = (struct store_inspection){ .unit = api_str(body, "unit"),
				       .inspected_unit = api_str(body, "inspected_unit"),
				       .on_date = api_str(body, "date"),
				       .note = api_str(body, "note"), .actor = x->actor,
				       .created_at = x->now };
	if (api_write_begin(x, &e) != 0)
		goto reply;
	if (store_inspection_insert(x->store, &i, &err) != STORE_OK)
		api_fail(&e, 503, "unavailable", NULL, "%s", err.msg);
	else
		rc = 0;
	api_write_end(x, rc == 0);
reply:
	if (rc == 0)
		api_reply(x, 201, inspection_json(x, &i));
	else
		api_reply_error(x, &e);
	json_decref(body);
}

struct inspection_page {
	struct api_ctx *x;
	json_t *items;
	int want;
	bool more;
	int64_t last_id;
};

static int collect_inspection(void *ctx, const struct store_inspection *i)
{
	struct inspection_page *pg = ctx;

	if ((int)json_array_size(pg->items) == pg->want) {
		pg->more = true;
		return 1;
	}
	json_array_append_new(pg->items, inspection_json(pg->x, i));
	pg->last_id = i->id;
	return 0;
}

/* A date parameter into out ("YYYY-MM-DD"); 0 or -1 with e. */
static int query_date(const char *name, const char *value, char *out, struct api_error *e)
{
	int32_t day;

	if (civil_parse_date(value, &day, NULL) != 0)
		return api_fail(e, 400, "invalid_query", name,
				"%s: expected a date like 2024-02-20", name);
	format_day(day, out, 11);
	return 0;
}

void api_inspections_list(struct api_ctx *x)
{
	static const char *const names[] = { "unit", "from", "to", "limit", "cursor", NULL };
	const char *v[N(names)];
	char buf[1024], from[11] = "0001-01-01", to[11] = "9999-12-31", cursor[32];
	struct inspection_page pg = { x, NULL, API_DEFAULT_LIMIT, false, 0 };
	int64_t after = 0;
	struct api_error e;
	struct err err;

	if (api_query_values(x, names, v, buf, sizeof(buf), &e) != 0 ||
	    (v[0] && api_query_unit(x, "unit", v[0], &e) != 0) ||
	    (v[1] && query_date("from", v[1], from, &e) != 0) ||
	    (v[2] && query_date("to", v[2], to, &e) != 0) ||
	    (v[3] && api_query_limit("limit", v[3], &pg.want, &e) != 0) ||
	    (v[4] && api_query_after_id("cursor", v[4], &after, &e) != 0))
		goto fail;
	if (strcmp(from, to) > 0) {
		api_fail(&e, 400, "invalid_query", "to", "to: %s is before from (%s)", to, from);
		goto fail;
	}
	if (!(pg.items = json_array())) {
		api_fail(&e, 503, "unavailable", NULL, "out of memory");
		goto fail;
	}
	if (store_inspection_list(x->store, v[0], from, to, after, pg.want + 1, collect_inspection,
				  &pg, &err) != STORE_OK) {
		json_decref(pg.items);
		api_fail(&e, 503, "unavailable", NULL, "%s", err.msg);
		goto fail;
	}
	snprintf(cursor, sizeof(cursor), "%lld", (long long)pg.last_id);
	api_reply(x, 200, json_pack("{s:o, s:o}", "inspections", pg.items, "next_cursor",
				    pg.more ? json_string(cursor) : json_null()));
	return;
fail:
	api_reply_error(x, &e);
}
