/* kpi: the QĐ 194/QĐ-UBND figures and the error budget of a unit subtree (see kpi.h and
 * docs/kpi.md). Pure arithmetic over the counts the store gives per unit.
 *
 * DESIGN: the store counts per unit in one pass over the period's items (one pass over the
 * cases for all the periods a page needs: a year and its months, a year and the budget's
 * windows); this module places those counts on the config's unit tree (depth first, config
 * order among siblings) and sums subtrees. Report and budget run in the thread pool, so nothing here touches the calendar:
 * kpi_parse_period and kpi_budget_year do that part on the loop thread beforehand. */
#include "kpi.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE SIZE_MAX
#define DAY 86400

/* --- periods -------------------------------------------------------------------------------- */

/* Reads exactly n decimal digits of s into *v. */
static bool digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (s[i] - '0');
	}
	return true;
}

static void format_day(int32_t day, char *buf, size_t n)
{
	int y, m, d;

	civil_from_days(day, &y, &m, &d);
	snprintf(buf, n, "%04d-%02d-%02d", y, m, d);
}

/* "YYYY-MM-DD..YYYY-MM-DD" of p's days (years of four digits). */
static void range_label(struct kpi_period *p)
{
	char a[16], b[16];

	format_day(p->first_day, a, sizeof(a));
	format_day(p->last_day, b, sizeof(b));
	memcpy(p->label, a, 10);
	memcpy(p->label + 10, "..", 2);
	memcpy(p->label + 12, b, 10);
	p->label[22] = '\0';
}

/* Fills p's day range from s, without the instants. */
static int parse_days(struct calendar *cal, const char *s, int64_t now, struct kpi_period *p,
		      struct err *err)
{
	size_t len = strlen(s);
	int y, q, m;

	if (strcmp(s, "ytd") == 0) {
		int32_t today = calendar_day_of(cal, now);
		int d;

		civil_from_days(today, &y, &m, &d);
		p->first_day = civil_to_days(y, 1, 1);
		p->last_day = today;
		range_label(p);
		return 0;
	}
	if (len >= 4 && !digits(s, 4, &y))
		goto malformed;
	if (len >= 4 && (y < 1970 || y > 9999))
		return err_set(err, "period", "period \"%.40s\": the year must be 1970 to 9999", s);
	if (len == 4) {
		p->first_day = civil_to_days(y, 1, 1);
		p->last_day = civil_to_days(y + 1, 1, 1) - 1;
	} else if (len == 7 && s[4] == '-' && s[5] == 'Q') {
		if (!digits(s + 6, 1, &q))
			goto malformed;
		if (q < 1 || q > 4)
			return err_set(err, "period",
				       "period \"%.40s\": the quarter must be Q1 to Q4", s);
		p->first_day = civil_to_days(y, 3 * q - 2, 1);
		p->last_day = q == 4 ? civil_to_days(y + 1, 1, 1) - 1
				     : civil_to_days(y, 3 * q + 1, 1) - 1;
	} else if (len == 7 && s[4] == '-') {
		if (!digits(s + 5, 2, &m))
			goto malformed;
		if (m < 1 || m > 12)
			return err_set(err, "period",
				       "period \"%.40s\": the month must be 01 to 12", s);
		p->first_day = civil_to_days(y, m, 1);
		p->last_day = m == 12 ? civil_to_days(y + 1, 1, 1) - 1
				      : civil_to_days(y, m + 1, 1) - 1;
	} else if (len == 22 && memcmp(s + 10, "..", 2) == 0) {
		char a[11], b[11];
		struct err e;
		int yb;

		memcpy(a, s, 10);
		a[10] = '\0';
		memcpy(b, s + 12, 10);
		b[10] = '\0';
		if (civil_parse_date(a, &p->first_day, &e) != 0 ||
		    civil_parse_date(b, &p->last_day, &e) != 0)
			return err_set(err, "period", "period \"%.40s\": %s", s, e.msg);
		if (!digits(b, 4, &yb) || yb < 1970) /* the first year was checked above */
			return err_set(err, "period",
				       "period \"%.40s\": the year must be 1970 to 9999", s);
		if (p->last_day < p->first_day)
			return err_set(err, "period", "period \"%.40s\" ends before it starts", s);
	} else {
		goto malformed;
	}
	snprintf(p->label, sizeof(p->label), "%s", s);
	return 0;
malformed:
	return err_set(err, "period",
		       "period \"%.40s\" is not YYYY, YYYY-Qn, YYYY-MM, ytd or "
		       "YYYY-MM-DD..YYYY-MM-DD", s);
}

int kpi_parse_period(struct calendar *cal, const char *s, int64_t now, struct kpi_period *p,
		     struct err *err)
{
	memset(p, 0, sizeof(*p));
	if (!s)
		return err_set(err, "period", "no period given");
	if (parse_days(cal, s, now, p, err) != 0)
		return -1;
	if (p->first_day > calendar_day_of(cal, now))
		return err_set(err, "period", "period \"%.40s\" has not begun", s);
	p->from = calendar_instant_of(cal, p->first_day, 0);
	p->to = calendar_instant_of(cal, p->last_day + 1, 0);
	p->end = now < p->to ? now : p->to;
	return 0;
}

int kpi_parse_basis(const char *s)
{
	if (s && strcmp(s, "portal") == 0)
		return KPI_PORTAL;
	if (s && strcmp(s, "finished") == 0)
		return KPI_FINISHED;
	return -1;
}

int kpi_budget_year(struct calendar *cal, int year, int64_t now, struct kpi_year *y,
		    struct err *err)
{
	int64_t day_seconds = calendar_day_seconds(cal);
	struct kpi_period *p = &y->period;

	memset(y, 0, sizeof(*y));
	if (year < 1970 || year > 9999)
		return err_set(err, "year", "year %d is not 1970 to 9999", year);
	y->year = year;
	p->first_day = civil_to_days(year, 1, 1);
	p->last_day = civil_to_days(year + 1, 1, 1) - 1;
	p->from = calendar_instant_of(cal, p->first_day, 0);
	p->to = calendar_instant_of(cal, p->last_day + 1, 0);
	if (now < p->from)
		return err_set(err, "year", "year %d has not begun", year);
	p->end = now < p->to ? now : p->to;
	snprintf(p->label, sizeof(p->label), "%d", year);
	y->elapsed_days = (double)calendar_between(cal, p->from, p->end) / (double)day_seconds;
	y->total_days = (double)calendar_between(cal, p->from, p->to) / (double)day_seconds;
	return 0;
}

/* --- the unit tree ------------------------------------------------------------------------ */

struct slot {
	const char *id;
	size_t unit; /* index in cfg->units */
};

/* The config's units as a tree, and the subtree a report covers, depth first. */
struct tree {
	const struct config *cfg;
	struct slot *index;   /* cfg->nunits, sorted by id */
	size_t *parent;       /* per unit: its parent's index, NONE for a root */
	size_t *first, *next; /* per unit: first child, next sibling (config order) */
	size_t *order;        /* the subtree's units, depth first */
	int *depth;           /* per position in order */
	size_t norder;
	size_t *pos;          /* per unit: its position in order, NONE outside the subtree */
};

static int slot_cmp(const void *a, const void *b)
{
	return strcmp(((const struct slot *)a)->id, ((const struct slot *)b)->id);
}

/* The index in cfg->units of unit id, NONE when the config has none. */
static size_t tree_find(const struct tree *t, const char *id)
{
	struct slot key = { .id = id }, *hit;

	if (!id)
		return NONE;
	hit = bsearch(&key, t->index, t->cfg->nunits, sizeof(key), slot_cmp);
	return hit ? hit->unit : NONE;
}

/* The position in the report of unit id, NONE when outside the subtree or unknown. */
static size_t tree_pos(const struct tree *t, const char *id)
{
	size_t u = tree_find(t, id);

	return u == NONE ? NONE : t->pos[u];
}

static void tree_walk(struct tree *t, size_t u, int depth)
{
	t->pos[u] = t->norder;
	t->depth[t->norder] = depth;
	t->order[t->norder++] = u;
	for (size_t c = t->first[u]; c != NONE; c = t->next[c])
		tree_walk(t, c, depth + 1);
}

static void tree_free(struct tree *t)
{
	free(t->index);
	free(t->parent);
	free(t->first);
	free(t->next);
	free(t->order);
	free(t->depth);
	free(t->pos);
	memset(t, 0, sizeof(*t));
}

/* Builds the tree of cfg and the subtree of root (NULL: every root). */
static int tree_build(struct tree *t, const struct config *cfg, const char *root,
		      struct err *err)
{
	size_t n = cfg->nunits, r;

	memset(t, 0, sizeof(*t));
	t->cfg = cfg;
	t->index = calloc(n ? n : 1, sizeof(*t->index));
	t->parent = calloc(n ? n : 1, sizeof(size_t));
	t->first = calloc(n ? n : 1, sizeof(size_t));
	t->next = calloc(n ? n : 1, sizeof(size_t));
	t->order = calloc(n ? n : 1, sizeof(size_t));
	t->depth = calloc(n ? n : 1, sizeof(int));
	t->pos = calloc(n ? n : 1, sizeof(size_t));
	if (!t->index || !t->parent || !t->first || !t->next || !t->order || !t->depth ||
	    !t->pos) {
		err_set(err, NULL, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		t->index[i] = (struct slot){ cfg->units[i].id, i };
		t->first[i] = t->next[i] = t->pos[i] = NONE;
	}
	qsort(t->index, n, sizeof(*t->index), slot_cmp);
	/* Backwards, so that pushing each child in front leaves siblings in config order. */
	for (size_t i = n; i-- > 0;) {
		t->parent[i] = tree_find(t, cfg->units[i].parent);
		if (t->parent[i] != NONE) {
			t->next[i] = t->first[t->parent[i]];
			t->first[t->parent[i]] = i;
		}
	}
	if (root) {
		if ((r = tree_find(t, root)) == NONE) {
			err_set(err, "unit", "unknown unit \"%s\"", root);
			goto fail;
		}
		tree_walk(t, r, 0);
	} else {
		for (size_t i = 0; i < n; i++)
			if (t->parent[i] == NONE)
				tree_walk(t, i, 0);
	}
	return 0;
fail:
	tree_free(t);
	return -1;
}

/* --- counts and rates --------------------------------------------------------------------- */

static void add_cases(struct store_case_counts *a, const struct store_case_counts *b)
{
	a->received += b->received;
	a->carried += b->carried;
	a->early += b->early;
	a->on_time += b->on_time;
	a->late += b->late;
	a->open_within += b->open_within;
	a->open_overdue += b->open_overdue;
	a->online += b->online;
	a->with_fee += b->with_fee;
	a->paid_online += b->paid_online;
	a->digitized += b->digitized;
	a->due += b->due;
	a->due_late += b->due_late;
}

static void add_items(struct store_item_counts *a, const struct store_item_counts *b)
{
	a->due += b->due;
	a->done_on_time += b->done_on_time;
	a->done_late += b->done_late;
	a->open_overdue += b->open_overdue;
}

static void add_counts(struct kpi_counts *a, const struct kpi_counts *b)
{
	add_cases(&a->cases, &b->cases);
	a->rated += b->rated;
	a->satisfied += b->satisfied;
	a->subordinates += b->subordinates;
	a->inspected += b->inspected;
	add_items(&a->documents, &b->documents);
	add_items(&a->assignments, &b->assignments);
}

static double rate(int64_t num, int64_t den)
{
	return den > 0 ? 100.0 * (double)num / (double)den : KPI_NO_DATA;
}

void kpi_rates_of(const struct kpi_counts *c, enum kpi_basis basis, struct kpi_rates *out)
{
	const struct store_case_counts *k = &c->cases;

	if (basis == KPI_FINISHED)
		out->on_time = rate(k->early + k->on_time, k->early + k->on_time + k->late);
	else
		out->on_time = rate(k->early + k->on_time + k->open_within,
				    k->received + k->carried);
	out->online = rate(k->online, k->received);
	out->online_payment = rate(k->paid_online, k->with_fee);
	out->digitized = rate(k->digitized, k->received);
	out->satisfaction = rate(c->satisfied, c->rated);
	out->inspection = rate(c->inspected, c->subordinates);
	out->documents_on_time = rate(c->documents.done_on_time, c->documents.due);
	out->assignments_on_time = rate(c->assignments.done_on_time, c->assignments.due);
}

/* --- the report --------------------------------------------------------------------------- */

struct collect {
	const struct tree *t;
	struct kpi_row *rows;
};

/* The case pass: the report's period into rows when there are rows, and each other period
 * per unit of the tree into extra[k * norder + position], k counting those periods from 0. */
struct case_collect {
	const struct tree *t;
	struct kpi_row *rows;            /* NULL: no report */
	struct store_case_counts *extra; /* the other periods */
};

static int on_period_cases(void *ctx, size_t period, const struct store_case_counts *c)
{
	struct case_collect *k = ctx;
	size_t i = tree_pos(k->t, c->unit);

	if (i == NONE)
		return 0;
	if (k->rows) {
		if (period == 0) {
			add_cases(&k->rows[i].counts.cases, c);
			return 0;
		}
		period--;
	}
	add_cases(&k->extra[period * k->t->norder + i], c);
	return 0;
}

/* One pass over the cases for period p into rows (when not NULL) and for the n periods q into
 * *extra (n x t->norder counts, malloc'd here; NULL when n is 0). */
static int case_pass(struct store *st, const struct tree *t, const struct kpi_period *p,
		     struct kpi_row *rows, const struct store_period *q, size_t n,
		     struct store_case_counts **extra, struct err *err)
{
	struct store_period sp[STORE_KPI_PERIODS_MAX];
	struct case_collect k = { t, rows, NULL };
	const char **units = NULL;
	size_t m = 0;
	int rc = -1;

	*extra = NULL;
	if (n + (rows != NULL) > STORE_KPI_PERIODS_MAX)
		return err_set(err, "period", "at most %d periods at once", STORE_KPI_PERIODS_MAX);
	/* A subtree of at most half the units may hold few of the cases: the store then reads
	 * only theirs. */
	if ((n && !(k.extra = calloc(n * (t->norder ? t->norder : 1), sizeof(*k.extra)))) ||
	    (2 * t->norder <= t->cfg->nunits &&
	     !(units = calloc(t->norder ? t->norder : 1, sizeof(*units))))) {
		err_set(err, NULL, "out of memory");
		goto out;
	}
	for (size_t i = 0; units && i < t->norder; i++)
		units[i] = t->cfg->units[t->order[i]].id;
	if (rows)
		sp[m++] = (struct store_period){ p->from, p->end };
	for (size_t i = 0; i < n; i++)
		sp[m++] = q[i];
	if (m && store_kpi_cases_periods(st, sp, m, units, t->norder, on_period_cases, &k,
					 err) != STORE_OK)
		goto out;
	*extra = k.extra;
	k.extra = NULL;
	rc = 0;
out:
	free(units);
	free(k.extra);
	return rc;
}

static int on_ratings(void *ctx, const char *unit, int64_t rated, int64_t satisfied)
{
	struct collect *k = ctx;
	size_t i = tree_pos(k->t, unit);

	if (i != NONE) {
		k->rows[i].counts.rated += rated;
		k->rows[i].counts.satisfied += satisfied;
	}
	return 0;
}

static int on_documents(void *ctx, const struct store_item_counts *c)
{
	struct collect *k = ctx;
	size_t i = tree_pos(k->t, c->unit);

	if (i != NONE)
		add_items(&k->rows[i].counts.documents, c);
	return 0;
}

static int on_assignments(void *ctx, const struct store_item_counts *c)
{
	struct collect *k = ctx;
	size_t i = tree_pos(k->t, c->unit);

	if (i != NONE)
		add_items(&k->rows[i].counts.assignments, c);
	return 0;
}

/* Counts a pair only when the inspected unit is a direct child of the inspecting one. */
static int on_inspection(void *ctx, const char *unit, const char *inspected)
{
	struct collect *k = ctx;
	size_t i = tree_pos(k->t, unit), child = tree_find(k->t, inspected);

	if (i != NONE && child != NONE && k->t->parent[child] == k->t->order[i])
		k->rows[i].counts.inspected++;
	return 0;
}

bool kpi_below_target(const struct config_target *t, double on_time)
{
	return t && t->on_time >= 0 && !kpi_no_data(on_time) && on_time < t->on_time;
}

/* The total row's target: the root's, or with several roots the level they share. */
static const struct config_target *total_target(const struct config *cfg, const struct tree *t)
{
	const char *level = NULL;

	for (size_t i = 0; i < t->norder; i++) {
		if (t->depth[i] != 0)
			continue;
		const char *l = cfg->units[t->order[i]].level;
		if (level && (!l || strcmp(level, l) != 0))
			return NULL;
		level = l;
	}
	return level ? config_target(cfg, level) : NULL;
}

/* The on-time rate on basis of each of the n periods of extra (case_pass's layout, norder
 * units each), over all the units, into out. */
static void series_rates(const struct store_case_counts *extra, size_t n, size_t norder,
			 enum kpi_basis basis, double *out)
{
	struct kpi_counts sum;
	struct kpi_rates rates;

	for (size_t i = 0; i < n; i++) {
		memset(&sum, 0, sizeof(sum));
		for (size_t u = 0; u < norder; u++)
			add_cases(&sum.cases, &extra[i * norder + u]);
		kpi_rates_of(&sum, basis, &rates);
		out[i] = rates.on_time;
	}
}

/* The store's periods of n kpi periods; -1 with err when there are too many for one pass. */
static int store_periods(const struct kpi_period *p, size_t n, struct store_period *out,
			 struct err *err)
{
	if (n > STORE_KPI_PERIODS_MAX)
		return err_set(err, "period", "at most %d periods at once", STORE_KPI_PERIODS_MAX);
	for (size_t i = 0; i < n; i++)
		out[i] = (struct store_period){ p[i].from, p[i].end };
	return 0;
}

/* kpi_report_build, with the case counts of the n periods q per unit from the same pass into
 * *extra (see case_pass; the caller frees it). */
static int report_build(struct store *st, const struct config *cfg, const char *root,
			const struct kpi_period *p, enum kpi_basis basis, struct kpi_report *out,
			const struct store_period *q, size_t n, struct store_case_counts **extra,
			struct err *err)
{
	struct tree t;
	struct collect k;
	char from_date[16], to_date[16];

	*extra = NULL;
	memset(out, 0, sizeof(*out));
	err_clear(err);
	if (tree_build(&t, cfg, root, err) != 0)
		return -1;
	out->period = *p;
	out->basis = basis;
	out->nrows = t.norder;
	if (!(out->rows = calloc(t.norder ? t.norder : 1, sizeof(*out->rows)))) {
		err_set(err, NULL, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < t.norder; i++) {
		struct kpi_row *r = &out->rows[i];

		r->unit = &cfg->units[t.order[i]];
		r->depth = t.depth[i];
		r->target = config_target(cfg, r->unit->level);
		for (size_t c = t.first[t.order[i]]; c != NONE; c = t.next[c])
			r->counts.subordinates++;
	}
	k = (struct collect){ &t, out->rows };
	format_day(p->first_day, from_date, sizeof(from_date));
	format_day(p->last_day, to_date, sizeof(to_date));
	if (case_pass(st, &t, p, out->rows, q, n, extra, err) != 0 ||
	    store_kpi_ratings(st, p->from, p->end, (int)cfg->kpi.satisfied_rating, on_ratings, &k,
			      err) != STORE_OK ||
	    store_kpi_documents(st, p->from, p->end, on_documents, &k, err) != STORE_OK ||
	    store_kpi_assignments(st, p->from, p->end, on_assignments, &k, err) != STORE_OK ||
	    store_kpi_inspections(st, from_date, to_date, on_inspection, &k, err) != STORE_OK)
		goto fail;
	for (size_t i = 0; i < out->nrows; i++) {
		struct kpi_row *r = &out->rows[i];

		kpi_rates_of(&r->counts, basis, &r->rates);
		r->below_target = kpi_below_target(r->target, r->rates.on_time);
		add_counts(&out->total.counts, &r->counts);
	}
	out->total.target = total_target(cfg, &t);
	kpi_rates_of(&out->total.counts, basis, &out->total.rates);
	out->total.below_target = kpi_below_target(out->total.target, out->total.rates.on_time);
	tree_free(&t);
	return 0;
fail:
	free(*extra);
	*extra = NULL;
	tree_free(&t);
	kpi_report_free(out);
	return -1;
}

int kpi_report_build(struct store *st, const struct config *cfg, const char *root,
		     const struct kpi_period *p, enum kpi_basis basis, struct kpi_report *out,
		     struct err *err)
{
	struct store_case_counts *none;

	return report_build(st, cfg, root, p, basis, out, NULL, 0, &none, err);
}

int kpi_report_series_build(struct store *st, const struct config *cfg, const char *root,
			    const struct kpi_period *p, enum kpi_basis basis,
			    struct kpi_report *out, const struct kpi_period *periods, size_t n,
			    double *series, struct err *err)
{
	struct store_period q[STORE_KPI_PERIODS_MAX];
	struct store_case_counts *extra;

	memset(out, 0, sizeof(*out));
	if (store_periods(periods, n, q, err) != 0 ||
	    report_build(st, cfg, root, p, basis, out, q, n, &extra, err) != 0)
		return -1;
	series_rates(extra, n, out->nrows, basis, series);
	free(extra);
	return 0;
}

void kpi_report_free(struct kpi_report *r)
{
	if (!r)
		return;
	free(r->rows);
	r->rows = NULL;
	r->nrows = 0;
}

void kpi_report_subtree(const struct kpi_report *r, size_t i, struct kpi_counts *out)
{
	memset(out, 0, sizeof(*out));
	if (i >= r->nrows)
		return;
	add_counts(out, &r->rows[i].counts);
	for (size_t j = i + 1; j < r->nrows && r->rows[j].depth > r->rows[i].depth; j++)
		add_counts(out, &r->rows[j].counts);
}

int kpi_on_time_series(struct store *st, const struct config *cfg, const char *root,
		       const struct kpi_period *periods, size_t n, enum kpi_basis basis,
		       double *out, struct err *err)
{
	struct store_period q[STORE_KPI_PERIODS_MAX];
	struct store_case_counts *extra;
	struct tree t;
	int rc;

	err_clear(err);
	if (n == 0)
		return 0;
	if (store_periods(periods, n, q, err) != 0 || tree_build(&t, cfg, root, err) != 0)
		return -1;
	rc = case_pass(st, &t, NULL, NULL, q, n, &extra, err);
	if (rc == 0)
		series_rates(extra, n, t.norder, basis, out);
	free(extra);
	tree_free(&t);
	return rc;
}

/* --- the error budget --------------------------------------------------------------------- */

/* Late share of the deadlines in a window over the share the target allows. */
static double burn(int64_t due, int64_t late, double target)
{
	if (due <= 0 || kpi_no_data(target) || target >= 100.0)
		return KPI_NO_DATA;
	return ((double)late / (double)due) / ((100.0 - target) / 100.0);
}

/* The figures that need no target; those that do start as no data. */
static void budget_figures(struct kpi_budget *b, const struct kpi_year *y)
{
	b->projected = y->elapsed_days > 0
			       ? (double)b->counted * y->total_days / y->elapsed_days
			       : (double)b->counted;
	b->projected_rate = rate(b->counted - b->used, b->counted);
	b->target = b->allowed = b->remaining = b->remaining_percent = KPI_NO_DATA;
	b->burn_7d = b->burn_30d = KPI_NO_DATA;
}

/* The budget's windows: [end - 7 days, end) and [end - 30 days, end), in plain days. */
static void budget_windows(const struct kpi_year *y, struct store_period w[2])
{
	w[0] = (struct store_period){ y->period.end - 7 * DAY, y->period.end };
	w[1] = (struct store_period){ y->period.end - 30 * DAY, y->period.end };
}

/* Completes the budgets b of the tree's units, which hold each unit's own counted, used and
 * window counts (from case_pass's counts in the budget's order: year, 7 days, 30 days). */
static void budget_fill(struct kpi_budget *b, const struct tree *t, const struct config *cfg,
			const struct kpi_year *y, const struct store_case_counts *w7,
			const struct store_case_counts *w30)
{
	for (size_t i = 0; i < t->norder; i++) {
		b[i].due_7d = w7[i].due;
		b[i].late_7d = w7[i].due_late;
		b[i].due_30d = w30[i].due;
		b[i].late_30d = w30[i].due_late;
	}
	/* Children come after their parent depth first: summing backwards rolls each subtree
	 * up before its root is added to its own parent. */
	for (size_t i = t->norder; i-- > 0;) {
		size_t up = t->parent[t->order[i]];

		if (t->depth[i] == 0 || up == NONE)
			continue;
		struct kpi_budget *to = &b[t->pos[up]], *from = &b[i];
		to->counted += from->counted;
		to->used += from->used;
		to->due_7d += from->due_7d;
		to->late_7d += from->late_7d;
		to->due_30d += from->due_30d;
		to->late_30d += from->late_30d;
	}
	for (size_t i = 0; i < t->norder; i++) {
		const struct config_unit *u = &cfg->units[t->order[i]];
		const struct config_target *tg = config_target(cfg, u->level);

		b[i].unit = u;
		b[i].depth = t->depth[i];
		budget_figures(&b[i], y);
		if (!tg || tg->on_time < 0)
			continue;
		b[i].target = tg->on_time;
		b[i].allowed = b[i].projected * (100.0 - tg->on_time) / 100.0;
		b[i].remaining = b[i].allowed - (double)b[i].used;
		if (b[i].allowed > 0)
			b[i].remaining_percent = b[i].remaining / b[i].allowed * 100.0;
		b[i].burn_7d = burn(b[i].due_7d, b[i].late_7d, tg->on_time);
		b[i].burn_30d = burn(b[i].due_30d, b[i].late_30d, tg->on_time);
	}
}

int kpi_budget_build(struct store *st, const struct config *cfg, const char *root,
		     const struct kpi_year *y, struct kpi_budget **out, size_t *nout,
		     struct err *err)
{
	struct store_period q[3] = { { y->period.from, y->period.end } };
	struct store_case_counts *extra = NULL;
	struct kpi_budget *b = NULL;
	struct tree t;

	*out = NULL;
	*nout = 0;
	err_clear(err);
	if (tree_build(&t, cfg, root, err) != 0)
		return -1;
	budget_windows(y, q + 1);
	if (!(b = calloc(t.norder ? t.norder : 1, sizeof(*b)))) {
		err_set(err, NULL, "out of memory");
		goto fail;
	}
	if (case_pass(st, &t, NULL, NULL, q, 3, &extra, err) != 0)
		goto fail;
	for (size_t i = 0; i < t.norder; i++) {
		b[i].counted = extra[i].received + extra[i].carried;
		b[i].used = extra[i].late + extra[i].open_overdue;
	}
	budget_fill(b, &t, cfg, y, extra + t.norder, extra + 2 * t.norder);
	*out = b;
	*nout = t.norder;
	free(extra);
	tree_free(&t);
	return 0;
fail:
	free(b);
	tree_free(&t);
	return -1;
}

int kpi_report_budget_build(struct store *st, const struct config *cfg, const char *root,
			    const struct kpi_period *p, enum kpi_basis basis,
			    const struct kpi_year *y, struct kpi_report *r,
			    struct kpi_budget **out, size_t *nout, struct err *err)
{
	struct store_period q[2];
	struct store_case_counts *extra = NULL;
	struct kpi_budget *b = NULL;
	struct tree t;

	*out = NULL;
	*nout = 0;
	memset(r, 0, sizeof(*r));
	err_clear(err);
	if (p->from != y->period.from || p->end != y->period.end)
		return err_set(err, "period", "the report period is not the budget's year to date");
	budget_windows(y, q);
	if (report_build(st, cfg, root, p, basis, r, q, 2, &extra, err) != 0)
		return -1;
	if (tree_build(&t, cfg, root, err) != 0)
		goto fail;
	if (!(b = calloc(t.norder ? t.norder : 1, sizeof(*b)))) {
		err_set(err, NULL, "out of memory");
		tree_free(&t);
		goto fail;
	}
	for (size_t i = 0; i < t.norder; i++) {
		const struct store_case_counts *c = &r->rows[i].counts.cases;

		b[i].counted = c->received + c->carried;
		b[i].used = c->late + c->open_overdue;
	}
	budget_fill(b, &t, cfg, y, extra, extra + t.norder);
	tree_free(&t);
	free(extra);
	*out = b;
	*nout = r->nrows;
	return 0;
fail:
	free(extra);
	kpi_report_free(r);
	return -1;
}

bool kpi_budget_alarming(const struct kpi_budget *b, double burn_rate, double remaining_below)
{
	if (kpi_no_data(b->target))
		return false;
	if (!kpi_no_data(b->burn_7d) && b->burn_7d > burn_rate)
		return true;
	if (b->allowed > 0)
		return b->remaining_percent < remaining_below;
	return b->used > 0;
}

/* --- a directive's cascade ----------------------------------------------------------------- */

struct cascade_collect {
	const struct config *cfg;
	struct kpi_cascade *c;
	int64_t now;
	bool oom;
};

static void count_node(struct kpi_cascade_counts *c, const struct store_tree_node *n, int64_t now)
{
	if (n->done) {
		c->done++;
		return;
	}
	c->open++;
	if (n->due_at < now)
		c->overdue++;
}

/* The counts of a unit's level, added when new; NULL when out of memory. */
static struct kpi_cascade_counts *level_of(struct cascade_collect *k, const char *unit)
{
	const struct config *cfg = k->cfg;
	const struct config_unit *u = config_unit(cfg, unit);
	const char *level = u ? u->level : NULL;
	size_t rank = cfg->nunits;
	struct kpi_cascade *c = k->c;
	struct kpi_cascade_level *grown;

	for (size_t i = 0; i < c->nlevels; i++)
		if (c->levels[i].level == level ||
		    (level && c->levels[i].level && !strcmp(c->levels[i].level, level)))
			return &c->levels[i].c;
	for (size_t i = 0; level && i < cfg->nunits; i++)
		if (cfg->units[i].level && !strcmp(cfg->units[i].level, level)) {
			rank = i;
			break;
		}
	if (!(grown = realloc(c->levels, (c->nlevels + 1) * sizeof(*grown))))
		return NULL;
	c->levels = grown;
	c->levels[c->nlevels] = (struct kpi_cascade_level){ level, rank, { 0, 0, 0 } };
	return &c->levels[c->nlevels++].c;
}

static int on_node(void *ctx, const struct store_tree_node *n)
{
	struct cascade_collect *k = ctx;
	struct kpi_cascade *c = k->c;
	struct kpi_cascade_counts *lc;

	if (n->depth < 1)
		return 0;
	if ((size_t)n->depth > c->ndepths) {
		size_t depth = (size_t)n->depth;
		struct kpi_cascade_counts *grown = realloc(c->depths, depth * sizeof(*grown));

		if (!grown)
			goto oom;
		memset(grown + c->ndepths, 0, (depth - c->ndepths) * sizeof(*grown));
		c->depths = grown;
		c->ndepths = depth;
	}
	if (!(lc = level_of(k, n->unit)))
		goto oom;
	count_node(&c->depths[n->depth - 1], n, k->now);
	count_node(lc, n, k->now);
	count_node(&c->total, n, k->now);
	return 0;
oom:
	k->oom = true;
	return 1;
}

static int level_cmp(const void *a, const void *b)
{
	const struct kpi_cascade_level *x = a, *y = b;

	return x->rank < y->rank ? -1 : x->rank > y->rank;
}

int kpi_cascade_build(struct store *st, const struct config *cfg, int64_t root, int64_t now,
		      struct kpi_cascade *out, struct err *err)
{
	struct cascade_collect k = { cfg, out, now, false };

	memset(out, 0, sizeof(*out));
	err_clear(err);
	if (store_assignment_tree(st, root, on_node, &k, err) != STORE_OK)
		return -1;
	if (k.oom)
		return err_set(err, NULL, "out of memory");
	if (out->nlevels > 1)
		qsort(out->levels, out->nlevels, sizeof(*out->levels), level_cmp);
	return 0;
}

void kpi_cascade_free(struct kpi_cascade *c)
{
	if (!c)
		return;
	free(c->depths);
	free(c->levels);
	memset(c, 0, sizeof(*c));
}

/* --- CSV ---------------------------------------------------------------------------------- */

enum { NCOLUMNS = 19 };

static const char *const headers_vi[NCOLUMNS] = {
	"Mã đơn vị", "Đơn vị", "Tiếp nhận", "Kỳ trước chuyển sang", "Trước hạn", "Đúng hạn",
	"Trễ hạn", "Đang xử lý trong hạn", "Đang xử lý quá hạn", "Tỷ lệ đúng hạn (%)",
	"Chỉ tiêu đúng hạn (%)", "Đạt chỉ tiêu", "Nộp trực tuyến (%)",
	"Thanh toán trực tuyến (%)", "Số hóa (%)", "Hài lòng (%)", "Kiểm tra nội bộ (%)",
	"Văn bản đúng hạn (%)", "Nhiệm vụ đúng hạn (%)",
};

static const char *const headers_en[NCOLUMNS] = {
	"Unit ID", "Unit", "Received", "Carried over", "Early", "On time", "Late",
	"Open within deadline", "Open overdue", "On-time rate (%)", "On-time target (%)",
	"Meets target", "Online submission (%)", "Online payment (%)", "Digitised (%)",
	"Satisfaction (%)", "Inspection coverage (%)", "Documents on time (%)",
	"Assignments on time (%)",
};

/* RFC 4180: quoted when it holds a separator, a quote or a line break; quotes doubled. */
static void csv_field(FILE *f, const char *s, bool last)
{
	if (strpbrk(s, ",\"\r\n")) {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else {
		fputs(s, f);
	}
	fputs(last ? "\r\n" : ",", f);
}

/* One decimal with a dot whatever the locale; "" for no data. */
static const char *percent(double v, char *buf, size_t n)
{
	long long tenths;

	if (kpi_no_data(v))
		return "";
	tenths = llround(v * 10.0);
	snprintf(buf, n, "%s%lld.%lld", tenths < 0 ? "-" : "", llabs(tenths) / 10,
		 llabs(tenths) % 10);
	return buf;
}

static void csv_row(FILE *f, const struct kpi_row *r, bool vi)
{
	const struct store_case_counts *c = &r->counts.cases;
	const int64_t counts[] = { c->received, c->carried, c->early, c->on_time, c->late,
				   c->open_within, c->open_overdue };
	bool has_target = r->target && r->target->on_time >= 0;
	const double rates[] = { r->rates.online, r->rates.online_payment, r->rates.digitized,
				 r->rates.satisfaction, r->rates.inspection,
				 r->rates.documents_on_time, r->rates.assignments_on_time };
	const size_t nrates = sizeof(rates) / sizeof(rates[0]);
	const char *meets = "";
	char buf[32];

	csv_field(f, r->unit ? r->unit->id : "", false);
	csv_field(f, r->unit ? r->unit->name : vi ? "Tổng cộng" : "Total", false);
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		fprintf(f, "%lld,", (long long)counts[i]);
	csv_field(f, percent(r->rates.on_time, buf, sizeof(buf)), false);
	csv_field(f, percent(has_target ? r->target->on_time : KPI_NO_DATA, buf, sizeof(buf)),
		  false);
	if (has_target && !kpi_no_data(r->rates.on_time))
		meets = r->below_target ? (vi ? "Không" : "no") : (vi ? "Có" : "yes");
	csv_field(f, meets, false);
	for (size_t i = 0; i < nrates; i++)
		csv_field(f, percent(rates[i], buf, sizeof(buf)), i == nrates - 1);
}

char *kpi_report_csv(const struct kpi_report *r, const char *language, size_t *len)
{
	bool vi = !language || strcmp(language, "en") != 0;
	const char *const *h = vi ? headers_vi : headers_en;
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);

	*len = 0;
	if (!f)
		return NULL;
	fputs("\xef\xbb\xbf", f); /* a BOM, so that Excel reads UTF-8 */
	for (int i = 0; i < NCOLUMNS; i++)
		csv_field(f, h[i], i == NCOLUMNS - 1);
	for (size_t i = 0; i < r->nrows; i++)
		csv_row(f, &r->rows[i], vi);
	csv_row(f, &r->total, vi);
	if (ferror(f)) {
		fclose(f);
		free(text);
		return NULL;
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	*len = n;
	return text;
}
