/* dashboard_units: the overview of a unit subtree (/) and one unit's page (/units/{id}) —
 * where each unit stands against its on-time target this year, its error budget, and the cases
 * that need action today (docs/dashboard.md).
 *
 * DESIGN: a page is one job. The loop thread parses the periods (they need the calendar); the
 * thread pool reads the year to date and the error budget's windows in one pass over the cases
 * (kpi_report_budget_build; a unit's page: the year and its 12 months,
 * kpi_report_series_build), and counts open items per unit from one snapshot
 * (store_metrics, stopped after the families it needs); the loop thread writes the page, since
 * working time left and local instants need the calendar again. Every figure of a unit's row
 * covers its whole subtree, as the budget does: a head answers for the units below.
 *
 * The year figures (the pass over the cases: 1.4 s for a province of 2 000 000 cases) are kept
 * ahead of reading (kpi_snapshot.h): a view serves the kept entry of its (unit, page) when
 * there is one of today, and when it is older than dashboard.refresh also queues one
 * recomputation in the background (stale-while-revalidate); only a view without an entry
 * computes them itself, and publishes them. The lists to act on and the open counts are read
 * live on every view (0.05 s). A timer of api.c calls dashboard_warm, so that the top unit's
 * pages are kept even before the first view. */
#include "dashboard_internal.h"
#include "dashboard.h"
#include "dashboard_svg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpi.h"
#include "kpi_snapshot.h"
#include "log.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MONTHS KPI_SNAPSHOT_MONTHS
#define SOON_DAYS 3 /* "sắp đến hạn": due within this many working days */

#define TR(vi, en) dashboard_tr(lang, vi, en)

/* Open items of one unit (its own), as /metrics counts them. */
struct open_counts {
	int64_t cases, at_risk, overdue;
	int64_t assignments, assignments_overdue;
};

/* The first root of the config: the overview's default. NULL when there is none. */
static const struct config_unit *first_root(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->nunits; i++)
		if (!cfg->units[i].parent)
			return &cfg->units[i];
	return NULL;
}

/* --- the year figures, kept ahead of reading ------------------------------------------- */

/* Fills the periods of f for page as of x->now and takes a reference to x->cfg (loop thread:
 * the periods need the calendar). Returns 0, or -1 with err. */
static int figures_init(struct api_ctx *x, enum kpi_snapshot_page page, struct kpi_figures *f,
			struct err *err)
{
	char label[16];
	int y, m, d;

	memset(f, 0, sizeof(*f));
	f->page = page;
	f->computed_at = x->now;
	f->day = calendar_day_of(x->cal, x->now);
	civil_from_days(f->day, &y, &m, &d);
	if (kpi_parse_period(x->cal, "ytd", x->now, &f->ytd, err) != 0)
		return -1;
	if (page == KPI_SNAPSHOT_OVERVIEW) {
		if (kpi_budget_year(x->cal, y, x->now, &f->year, err) != 0)
			return -1;
	} else {
		/* The last twelve months, this one (to today) last. */
		for (int i = 0; i < MONTHS; i++) {
			int mm = m - (MONTHS - 1 - i), yy = y;

			while (mm < 1) {
				mm += 12;
				yy--;
			}
			snprintf(label, sizeof(label), "%04d-%02d", yy, mm);
			if (kpi_parse_period(x->cal, label, x->now, &f->months[i], err) != 0)
				return -1;
		}
	}
	f->cfg = config_ref(x->cfg);
	return 0;
}

/* Computes the figures of f (periods filled) for the subtree of unit: the one pass over the
 * year's cases. Thread pool. Returns 0 or -1 with err. */
static int figures_build(struct store *ro, const char *unit, struct kpi_figures *f,
			 struct err *err)
{
	if (f->page == KPI_SNAPSHOT_OVERVIEW)
		return kpi_report_budget_build(ro, f->cfg, unit, &f->ytd, KPI_PORTAL, &f->year,
					       &f->report, &f->budgets, &f->nbudgets, err);
	return kpi_report_series_build(ro, f->cfg, unit, &f->ytd, KPI_PORTAL, &f->report,
				       f->months, MONTHS, f->monthly, err);
}

/* A recomputation in the background: no request; publishes on success. */
struct refresh_job {
	struct api_job job;
	struct kpi_snapshot *snap;
	char unit[CASE_ID_MAX + 1];
	enum kpi_snapshot_page page;
	uint64_t generation;
	struct kpi_figures f;
	bool ok;
	char message[sizeof(((struct err *)0)->msg)];
};

static int refresh_run(struct api_job *job, struct store *ro, struct api_error *e)
{
	struct refresh_job *r = (struct refresh_job *)job;
	struct err err;

	(void)e;
	r->ok = figures_build(ro, r->unit, &r->f, &err) == 0;
	if (!r->ok)
		snprintf(r->message, sizeof(r->message), "%s", err.msg);
	return 0;
}

static void refresh_reply(struct api_job *job, struct api_ctx *x)
{
	struct refresh_job *r = (struct refresh_job *)job;

	if (!r->ok)
		log_warn("dashboard: cannot recompute the figures of %s: %s", r->unit, r->message);
	else if (kpi_snapshot_put(r->snap, r->unit, r->page, r->generation, &r->f, x->now) != 0)
		log_warn("dashboard: cannot keep the figures of %s: out of memory", r->unit);
}

static void refresh_free(struct api_job *job)
{
	struct refresh_job *r = (struct refresh_job *)job;

	kpi_snapshot_done(r->snap, r->unit, r->page, r->generation);
	kpi_snapshot_figures_clear(&r->f);
	free(r);
}

/* Queues the recomputation of (unit, page) as of x->now, unless one is in flight. */
static void refresh_queue(struct api_ctx *x, const char *unit, enum kpi_snapshot_page page)
{
	struct kpi_snapshot *s = api_snapshot_of(x->api);
	struct api_ctx bg = *x;
	struct refresh_job *r;
	uint64_t generation;
	struct err err;

	if (!kpi_snapshot_claim(s, unit, page, &generation))
		return;
	if (!(r = calloc(1, sizeof(*r)))) {
		kpi_snapshot_done(s, unit, page, generation);
		log_warn("dashboard: cannot recompute the figures of %s: out of memory", unit);
		return;
	}
	r->snap = s;
	snprintf(r->unit, sizeof(r->unit), "%s", unit);
	r->page = page;
	r->generation = generation;
	r->job = (struct api_job){ .run = refresh_run, .reply = refresh_reply,
				   .free = refresh_free };
	if (figures_init(x, page, &r->f, &err) != 0) {
		log_warn("dashboard: cannot recompute the figures of %s: %s", unit, err.msg);
		refresh_free(&r->job);
		return;
	}
	kpi_snapshot_count_recomputation(s);
	bg.req = NULL; /* the daemon's own work: nothing to answer */
	api_job_queue(&bg, &r->job);
}

/* The year figures of a page's job: a held entry of the snapshot, or computed by the job. */
struct kept {
	char unit[CASE_ID_MAX + 1];
	struct kpi_snapshot_entry *entry; /* held; NULL: the job computes own */
	struct kpi_figures own;
	const struct kpi_figures *f;      /* what the page shows (set by kept_run) */
	bool publish;                     /* own goes into the snapshot after the reply */
	bool claimed;                     /* the key's recomputation is this job's */
	enum kpi_snapshot_page page;
	uint64_t generation;
	struct kpi_snapshot *snap;
};

/* Looks (unit, page) up in the snapshot on the loop thread: takes the entry, queues its
 * recomputation when stale, or readies own to be computed. Returns 0 or -1 with err. */
static int kept_start(struct api_ctx *x, struct kept *k, enum kpi_snapshot_page page,
		      const char *unit, struct err *err)
{
	struct kpi_snapshot *s = api_snapshot_of(x->api);
	int64_t refresh = x->cfg->dashboard.refresh_ms / 1000;
	enum kpi_snapshot_state state;

	snprintf(k->unit, sizeof(k->unit), "%s", unit);
	if (figures_init(x, page, &k->own, err) != 0)
		return -1;
	kpi_snapshot_prune(s, x->now);
	state = kpi_snapshot_get(s, unit, page, x->now, k->own.day, refresh, &k->entry);
	if (k->entry)
		kpi_snapshot_figures_clear(&k->own);
	if (state == KPI_SNAPSHOT_STALE)
		refresh_queue(x, unit, page);
	k->publish = state == KPI_SNAPSHOT_MISSING && refresh > 0;
	k->generation = kpi_snapshot_generation(s);
	k->page = page;
	k->snap = s;
	/* Computing them, the view is the key's recomputation: the warming skips it meanwhile. */
	if (k->publish)
		k->claimed = kpi_snapshot_claim(s, unit, page, &k->generation);
	return 0;
}

/* The figures for the page (thread pool): the entry's, or own computed now. */
static int kept_run(struct kept *k, struct store *ro, struct err *err)
{
	if (!k->entry && figures_build(ro, k->unit, &k->own, err) != 0)
		return -1;
	k->f = k->entry ? kpi_snapshot_entry_figures(k->entry) : &k->own;
	return 0;
}

/* After the page is written (loop thread): publishes own when the job computed it. */
static void kept_publish(struct api_ctx *x, struct kept *k)
{
	if (k->publish && kpi_snapshot_put(api_snapshot_of(x->api), k->unit, k->page,
					   k->generation, &k->own, x->now) != 0)
		log_warn("dashboard: cannot keep the figures of %s: out of memory", k->unit);
	k->f = NULL;
}

static void kept_free(struct kept *k)
{
	if (k->claimed)
		kpi_snapshot_done(k->snap, k->unit, k->page, k->generation);
	kpi_snapshot_release(k->entry);
	kpi_snapshot_figures_clear(&k->own);
}

void dashboard_warm(struct api_ctx *x)
{
	static const enum kpi_snapshot_page pages[] = { KPI_SNAPSHOT_OVERVIEW, KPI_SNAPSHOT_UNIT };
	struct kpi_snapshot *s = api_snapshot_of(x->api);
	int64_t refresh = x->cfg->dashboard.refresh_ms / 1000;
	const struct config_unit *top = first_root(x->cfg);
	int32_t day = calendar_day_of(x->cal, x->now);

	if (!x->cfg->dashboard.enabled || refresh <= 0 || !top)
		return;
	kpi_snapshot_prune(s, x->now);
	for (size_t i = 0; i < N(pages); i++) {
		/* Looked at without counting as a view. */
		if (kpi_snapshot_peek(s, top->id, pages[i], x->now, day, refresh) !=
		    KPI_SNAPSHOT_FRESH)
			refresh_queue(x, top->id, pages[i]);
	}
}

/* --- the overview ------------------------------------------------------------------------ */

struct overview_job {
	struct dashboard_job d;
	struct kept kept;
	struct open_counts *open; /* per report row */
};

/* The report row of unit id, or -1. Configs hold hundreds of units: a linear look-up. */
static long row_of(const struct kpi_report *r, const char *id)
{
	for (size_t i = 0; id && i < r->nrows; i++)
		if (!strcmp(r->rows[i].unit->id, id))
			return (long)i;
	return -1;
}

static int on_metric(void *ctx, enum store_metric family, const char *const labels[3],
		     int64_t value)
{
	struct overview_job *k = ctx;
	long i;

	if (family > STORE_METRIC_AT_RISK)
		return 1; /* the rest (alerts, outbox, deliveries) is not shown here */
	if (family == STORE_METRIC_AT_RISK) {
		if ((i = row_of(&k->kept.f->report, labels[0])) >= 0)
			k->open[i].at_risk += value;
		return 0;
	}
	if ((i = row_of(&k->kept.f->report, labels[1])) < 0 || !labels[0])
		return 0;
	if (!strcmp(labels[0], "case"))
		*(family == STORE_METRIC_OPEN ? &k->open[i].cases : &k->open[i].overdue) += value;
	else if (!strcmp(labels[0], "assignment"))
		*(family == STORE_METRIC_OPEN ? &k->open[i].assignments
					      : &k->open[i].assignments_overdue) += value;
	return 0;
}

static int overview_run(struct api_job *job, struct store *ro, struct api_error *e)
{
	struct overview_job *k = (struct overview_job *)job;
	struct err err;

	(void)e;
	if (kept_run(&k->kept, ro, &err) != 0)
		return dashboard_job_failed(&k->d, &err);
	if (!(k->open = calloc(k->kept.f->report.nrows ? k->kept.f->report.nrows : 1,
			       sizeof(*k->open)))) {
		err_set(&err, NULL, "out of memory");
		return dashboard_job_failed(&k->d, &err);
	}
	if (store_metrics(ro, job->now, on_metric, k, &err) != STORE_OK)
		return dashboard_job_failed(&k->d, &err);
	return 0;
}

/* The open counts of row i and the rows below it. */
static struct open_counts open_subtree(const struct overview_job *k, size_t i)
{
	const struct kpi_report *r = &k->kept.f->report;
	struct open_counts s = { 0, 0, 0, 0, 0 };

	for (size_t j = i; j < r->nrows && (j == i || r->rows[j].depth > r->rows[i].depth); j++) {
		s.cases += k->open[j].cases;
		s.at_risk += k->open[j].at_risk;
		s.overdue += k->open[j].overdue;
		s.assignments += k->open[j].assignments;
		s.assignments_overdue += k->open[j].assignments_overdue;
	}
	return s;
}

/* One figure of a row's list: label, then the value (markup written by the caller). */
static void figure_start(struct dashboard_html *h, const char *label, bool bad)
{
	dashboard_html_rawf(h, "<div><dt>%s</dt><dd%s>", label, bad ? " class=\"bad\"" : "");
}

static void figure_count(struct dashboard_html *h, const char *label, int64_t v, bool alarm)
{
	figure_start(h, label, alarm && v > 0);
	dashboard_html_rawf(h, "%lld</dd></div>", (long long)v);
}

/* The budget left: the late cases still allowed this year (whole ones), or the overspend. */
static void figure_budget(struct dashboard_html *h, enum template_lang lang,
			  const struct kpi_budget *b)
{
	figure_start(h, TR("Ngân sách trễ hạn còn", "Error budget left"),
		     b && !kpi_no_data(b->remaining) && b->remaining < 0);
	if (!b || kpi_no_data(b->remaining)) {
		dashboard_html_raw(h, "—</dd></div>");
		return;
	}
	if (b->remaining >= 0)
		dashboard_html_rawf(h, "%.0f %s", floor(b->remaining), TR("hồ sơ", "cases"));
	else
		dashboard_html_rawf(h, "%s %.0f %s", TR("vượt", "over by"), ceil(-b->remaining),
				    TR("hồ sơ", "cases"));
	if (!kpi_no_data(b->remaining_percent)) {
		dashboard_html_raw(h, " (");
		dashboard_percent(h, lang, b->remaining_percent);
		dashboard_html_raw(h, ")");
	}
	dashboard_html_raw(h, "</dd></div>");
}

/* "chỉ tiêu 97%" beside a bar, or nothing without a target. */
static void target_note(struct dashboard_html *h, enum template_lang lang,
			const struct config_target *t)
{
	if (!t || t->on_time < 0)
		return;
	dashboard_html_rawf(h, "<span class=\"target\">%s ", TR("chỉ tiêu", "target"));
	dashboard_percent(h, lang, t->on_time);
	dashboard_html_raw(h, "</span>");
}

/* The on-time rate with its bar, and the words "below target" when it is. */
static void rate_bar(struct dashboard_html *h, enum template_lang lang, double rate,
		     const struct config_target *t, bool below)
{
	char title[200], value[TEMPLATE_PERCENT_MAX] = "—", target[TEMPLATE_PERCENT_MAX] = "";

	if (!kpi_no_data(rate))
		template_format_percent(rate, 1, lang, value, sizeof(value));
	if (t && t->on_time >= 0)
		template_format_percent(t->on_time, 1, lang, target, sizeof(target));
	snprintf(title, sizeof(title), "%s %s%s%s", TR("Tỷ lệ đúng hạn", "On-time rate"), value,
		 *target ? TR(", chỉ tiêu ", ", target ") : "", target);
	dashboard_html_raw(h, "<div class=\"rate\"><span class=\"value\">");
	dashboard_html_text(h, value);
	dashboard_html_raw(h, "</span>");
	dashboard_svg_bar(h, rate, t && t->on_time >= 0 ? t->on_time : -1, below, title);
	target_note(h, lang, t);
	dashboard_html_raw(h, "</div>");
}

static void overview_row(struct dashboard_html *h, enum template_lang lang,
			 const struct overview_job *k, size_t i)
{
	const struct kpi_figures *f = k->kept.f;
	const struct kpi_row *row = &f->report.rows[i];
	const struct kpi_budget *b = i < f->nbudgets ? &f->budgets[i] : NULL;
	struct open_counts o = open_subtree(k, i);
	struct kpi_counts c;
	struct kpi_rates rates;
	bool below, children = i + 1 < f->report.nrows && f->report.rows[i + 1].depth > row->depth;
	char path[CASE_ID_MAX + 16];

	kpi_report_subtree(&f->report, i, &c);
	kpi_rates_of(&c, KPI_PORTAL, &rates);
	below = kpi_below_target(row->target, rates.on_time);
	dashboard_html_rawf(h, "<li class=\"unit d%d%s\" id=\"unit-",
			    row->depth > 4 ? 4 : row->depth,
			    below ? " below" : kpi_no_data(rates.on_time) ? " nodata" : "");
	dashboard_html_text(h, row->unit->id);
	dashboard_html_raw(h, "\"><div><a class=\"name\" ");
	if (template_format_link("", "units", row->unit->id, path, sizeof(path)) > 0)
		dashboard_href(h, lang, path);
	dashboard_html_raw(h, ">");
	dashboard_html_text(h, row->unit->name);
	dashboard_html_raw(h, "</a>");
	if (below)
		dashboard_html_rawf(h, "<span class=\"flag below\">%s</span>",
				    TR("Dưới chỉ tiêu", "Below target"));
	else if (row->target && row->target->on_time >= 0 && !kpi_no_data(rates.on_time))
		dashboard_html_rawf(h, "<span class=\"flag ok\">%s</span>",
				    TR("Đạt chỉ tiêu", "Meets target"));
	dashboard_html_raw(h, "<div class=\"level\">");
	dashboard_html_text(h, row->unit->level);
	if (children && i != 0) {
		snprintf(path, sizeof(path), "/?unit=%s", row->unit->id);
		dashboard_html_raw(h, " · <a ");
		dashboard_href(h, lang, path);
		dashboard_html_rawf(h, ">%s</a>", TR("các đơn vị trực thuộc", "units below"));
	}
	dashboard_html_raw(h, "</div></div>");
	rate_bar(h, lang, rates.on_time, row->target, below);
	dashboard_html_raw(h, "<dl class=\"figures\">");
	figure_budget(h, lang, b);
	figure_start(h, TR("Dự báo cuối năm", "Projected year end"),
		     b && kpi_below_target(row->target, b->projected_rate));
	dashboard_percent(h, lang, b ? b->projected_rate : KPI_NO_DATA);
	dashboard_html_raw(h, "</dd></div>");
	figure_count(h, TR("Hồ sơ đang xử lý", "Open cases"), o.cases, false);
	figure_count(h, TR("Có cảnh báo", "At risk"), o.at_risk, false);
	figure_count(h, TR("Hồ sơ quá hạn", "Overdue cases"), o.overdue, true);
	figure_count(h, TR("Nhiệm vụ đang mở", "Open assignments"), o.assignments, false);
	figure_count(h, TR("Nhiệm vụ quá hạn", "Overdue assignments"), o.assignments_overdue,
		     true);
	dashboard_html_raw(h, "</dl></li>\n");
}

static void overview_reply(struct api_job *job, struct api_ctx *x)
{
	struct overview_job *k = (struct overview_job *)job;
	enum template_lang lang = k->d.lang;
	const struct config_unit *u = config_unit(job->cfg, k->kept.unit);
	const struct kpi_figures *f = k->kept.f;
	struct dashboard_html *h;
	char self[CASE_ID_MAX + 16], title[400];
	size_t below = 0;

	if (k->d.status) {
		dashboard_error(x, lang, k->d.status, k->d.message);
		return;
	}
	if (!(h = dashboard_html_new())) {
		dashboard_error(x, lang, 503, "out of memory");
		return;
	}
	snprintf(self, sizeof(self), "/?unit=%s", k->kept.unit);
	snprintf(title, sizeof(title), "%s — %s", TR("Tổng quan", "Overview"), u ? u->name : "");
	dashboard_page_begin(h, lang, title, self, true);
	dashboard_html_raw(h, "<h1>");
	dashboard_html_text(h, title);
	dashboard_html_raw(h, "</h1><p class=\"lead\">");
	for (size_t i = 0; i < f->report.nrows; i++) {
		struct kpi_counts c;
		struct kpi_rates r;

		kpi_report_subtree(&f->report, i, &c);
		kpi_rates_of(&c, KPI_PORTAL, &r);
		below += kpi_below_target(f->report.rows[i].target, r.on_time);
	}
	if (lang == TEMPLATE_EN)
		dashboard_html_textf(h, "%d to date: the on-time rate (as the public-service "
					"portal counts it) of each unit with the units below it. "
					"%zu of %zu units below target.",
				     f->year.year, below, f->report.nrows);
	else
		dashboard_html_textf(h, "Năm %d đến hôm nay: tỷ lệ giải quyết đúng hạn (cách tính "
					"của Cổng dịch vụ công) của mỗi đơn vị gồm cả các đơn vị "
					"trực thuộc. %zu/%zu đơn vị dưới chỉ tiêu.",
				     f->year.year, below, f->report.nrows);
	dashboard_html_raw(h, "</p><ul class=\"units\">\n");
	for (size_t i = 0; i < f->report.nrows; i++)
		overview_row(h, lang, k, i);
	dashboard_html_raw(h, "</ul>");
	dashboard_page_end_kept(h, x, lang, f->computed_at);
	dashboard_send(x, 200, h);
	kept_publish(x, &k->kept);
}

static void overview_free(struct api_job *job)
{
	struct overview_job *k = (struct overview_job *)job;

	kept_free(&k->kept);
	free(k->open);
	free(k);
}

void dashboard_overview(struct api_ctx *x)
{
	static const char *const names[] = { "unit", "lang", NULL };
	const char *v[N(names)];
	char buf[512], message[160];
	enum template_lang lang;
	const struct config_unit *u;
	struct overview_job *k;
	struct err err;

	if (dashboard_query(x, names, v, buf, sizeof(buf), &lang) != 0)
		return;
	u = v[0] ? config_unit(x->cfg, v[0]) : first_root(x->cfg);
	if (!u) {
		snprintf(message, sizeof(message), v[0] ? "unit: no unit has id \"%.64s\""
							: "the configuration has no units", v[0]);
		dashboard_error(x, lang, v[0] ? 404 : 200, message);
		return;
	}
	if (!(k = calloc(1, sizeof(*k)))) {
		dashboard_error(x, lang, 503, "out of memory");
		return;
	}
	k->d.lang = lang;
	k->d.job = (struct api_job){ .run = overview_run, .reply = overview_reply,
				     .free = overview_free };
	if (kept_start(x, &k->kept, KPI_SNAPSHOT_OVERVIEW, u->id, &err) != 0) {
		overview_free(&k->d.job);
		dashboard_error(x, lang, 503, err.msg);
		return;
	}
	api_job_queue(x, &k->d.job);
}

/* --- one unit ---------------------------------------------------------------------------- */

struct case_list {
	struct case_record *rows;
	size_t n;
	bool more; /* the store had more than DASHBOARD_LIST_MAX */
};

struct unit_job {
	struct dashboard_job d;
	struct kept kept;
	int64_t soon_until;
	struct case_list overdue, soon;
};

static int take_case(void *ctx, const struct case_record *c)
{
	struct case_list *l = ctx;

	if (l->n == DASHBOARD_LIST_MAX) {
		l->more = true;
		return 1;
	}
	l->rows[l->n++] = *c;
	return 0;
}

static int by_due(const void *a, const void *b)
{
	const struct case_record *x = a, *y = b;

	if (x->due_at != y->due_at)
		return x->due_at < y->due_at ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Adds to l (room for 2 x DASHBOARD_LIST_MAX, holding at most DASHBOARD_LIST_MAX) the running
 * cases (received or in progress) of the subtree due in [from, end) — late as store_kpi_due
 * takes it — the soonest first: the first of each status, merged, at most DASHBOARD_LIST_MAX
 * with l->more when there were others. Paused cases are left out: their clock stands. part
 * has room for DASHBOARD_LIST_MAX. */
static int running_cases(struct unit_job *k, struct store *ro, int64_t from, int64_t end,
			 int late, struct case_list *l, struct case_list *part, struct err *err)
{
	static const char *const running[] = { "received", "in_progress" };

	for (size_t i = 0; i < N(running); i++) {
		part->n = 0;
		part->more = false;
		if (store_kpi_due(ro, k->kept.unit, running[i], from, end, late,
				  DASHBOARD_LIST_MAX + 1, take_case, part, err) != STORE_OK)
			return -1;
		memcpy(l->rows + l->n, part->rows, part->n * sizeof(*part->rows));
		l->n += part->n;
		l->more |= part->more;
		qsort(l->rows, l->n, sizeof(*l->rows), by_due);
		if (l->n > DASHBOARD_LIST_MAX) {
			l->n = DASHBOARD_LIST_MAX;
			l->more = true;
		}
	}
	return 0;
}

/* The cases of the subtree that need action: overdue (the longest overdue first; then those
 * rescheduled after lateness, overdue in every figure whatever their new date), and due before
 * soon_until (the soonest first; never rescheduled ones, listed as overdue). */
static int list_cases(struct unit_job *k, struct store *ro, struct err *err)
{
	struct case_list part = { 0 };
	int rc = -1;

	k->overdue.rows = calloc(2 * DASHBOARD_LIST_MAX, sizeof(struct case_record));
	k->soon.rows = calloc(2 * DASHBOARD_LIST_MAX, sizeof(struct case_record));
	part.rows = calloc(DASHBOARD_LIST_MAX, sizeof(struct case_record));
	if (!k->overdue.rows || !k->soon.rows || !part.rows)
		err_set(err, NULL, "out of memory");
	else if (running_cases(k, ro, TIME_NONE, k->d.job.now, -1, &k->overdue, &part, err) == 0 &&
		 running_cases(k, ro, k->d.job.now, INT64_MAX, 1, &k->overdue, &part, err) == 0 &&
		 running_cases(k, ro, k->d.job.now, k->soon_until, 0, &k->soon, &part, err) == 0)
		rc = 0;
	free(part.rows);
	return rc;
}

static int unit_run(struct api_job *job, struct store *ro, struct api_error *e)
{
	struct unit_job *k = (struct unit_job *)job;
	struct err err;

	(void)e;
	if (kept_run(&k->kept, ro, &err) != 0 || list_cases(k, ro, &err) != 0)
		return dashboard_job_failed(&k->d, &err);
	return 0;
}

/* One row of the table of QĐ 194 figures: the result against the target (negative: none). */
static void target_row(struct dashboard_html *h, enum template_lang lang, const char *label,
		       double value, double target)
{
	dashboard_html_rawf(h,
			    "<tr><td data-label=\"\">%s</td><td class=\"num\" data-label=\"%s\">",
			    label, TR("Kết quả", "Result"));
	dashboard_percent(h, lang, value);
	dashboard_html_rawf(h, "</td><td class=\"num\" data-label=\"%s\">",
			    TR("Chỉ tiêu", "Target"));
	dashboard_percent(h, lang, target < 0 ? KPI_NO_DATA : target);
	dashboard_html_rawf(h, "</td><td data-label=\"%s\">", TR("Đánh giá", "Standing"));
	if (target < 0 || kpi_no_data(value))
		dashboard_html_raw(h, "—");
	else if (value < target)
		dashboard_html_rawf(h, "<span class=\"flag below\">%s</span>",
				    TR("Chưa đạt", "Below target"));
	else
		dashboard_html_rawf(h, "<span class=\"flag ok\">%s</span>", TR("Đạt", "Met"));
	dashboard_html_raw(h, "</td></tr>\n");
}

static void targets_table(struct dashboard_html *h, enum template_lang lang,
			  const struct kpi_row *total)
{
	const struct config_target *t = total->target;
	struct kpi_rates finished;

	kpi_rates_of(&total->counts, KPI_FINISHED, &finished);
	dashboard_html_rawf(h,
			    "<h2>%s</h2><table class=\"list\"><thead><tr><th>%s</th>"
			    "<th class=\"num\">%s</th><th class=\"num\">%s</th><th>%s</th></tr>"
			    "</thead><tbody>\n",
			    TR("Các chỉ tiêu năm (QĐ 194)", "The year's targets (QĐ 194)"),
			    TR("Chỉ tiêu", "Figure"), TR("Kết quả", "Result"),
			    TR("Mục tiêu", "Target"), TR("Đánh giá", "Standing"));
	target_row(h, lang, TR("Giải quyết đúng hạn (cổng DVC)", "On time (portal)"),
		   total->rates.on_time, t ? t->on_time : -1);
	target_row(h, lang, TR("Giải quyết đúng hạn (đã xong)", "On time (finished)"),
		   finished.on_time, t ? t->on_time : -1);
	target_row(h, lang, TR("Nộp trực tuyến", "Online submission"), total->rates.online,
		   t ? t->online : -1);
	target_row(h, lang, TR("Thanh toán trực tuyến", "Online payment"),
		   total->rates.online_payment, t ? t->online_payment : -1);
	target_row(h, lang, TR("Số hóa hồ sơ", "Digitised"), total->rates.digitized,
		   t ? t->digitized : -1);
	target_row(h, lang, TR("Mức độ hài lòng", "Satisfaction"), total->rates.satisfaction,
		   t ? t->satisfaction : -1);
	target_row(h, lang, TR("Kiểm tra nội bộ", "Inspections"), total->rates.inspection,
		   t ? t->inspection : -1);
	target_row(h, lang, TR("Văn bản đúng hạn", "Documents on time"),
		   total->rates.documents_on_time, -1);
	target_row(h, lang, TR("Nhiệm vụ đúng hạn", "Assignments on time"),
		   total->rates.assignments_on_time, -1);
	dashboard_html_raw(h, "</tbody></table>\n");
}

static void chart(struct dashboard_html *h, enum template_lang lang, const struct kpi_figures *k,
		  const struct config_target *t)
{
	struct dashboard_svg_point points[MONTHS];
	char labels[MONTHS][16], values[MONTHS][TEMPLATE_PERCENT_MAX], target[64] = "";
	char tl[TEMPLATE_PERCENT_MAX] = "";
	double goal = t && t->on_time >= 0 ? t->on_time : -1;

	for (size_t i = 0; i < MONTHS; i++) {
		int y, m, d;

		civil_from_days(k->months[i].first_day, &y, &m, &d);
		snprintf(labels[i], sizeof(labels[i]), "%02d/%02d", m, y % 100);
		if (kpi_no_data(k->monthly[i]) ||
		    template_format_percent(k->monthly[i], 1, lang, values[i],
					    sizeof(values[i])) < 0)
			snprintf(values[i], sizeof(values[i]), "%s",
				 TR("không có số liệu", "no data"));
		points[i] = (struct dashboard_svg_point){ labels[i], k->monthly[i], values[i] };
	}
	if (goal >= 0 && template_format_percent(goal, 1, lang, tl, sizeof(tl)) > 0)
		snprintf(target, sizeof(target), "%s %s", TR("Chỉ tiêu", "Target"), tl);
	struct dashboard_svg_chart c = {
		.title = TR("Tỷ lệ giải quyết đúng hạn theo tháng, 12 tháng gần nhất",
			    "On-time rate by month, the last 12 months"),
		.desc = *target ? target : NULL,
		.points = points,
		.npoints = MONTHS,
		.target = goal,
		.target_label = target,
	};
	dashboard_html_rawf(h, "<h2>%s</h2>", c.title);
	dashboard_svg_line_chart(h, &c);
	/* The same figures as a table: for screen readers, and to read off exactly. */
	dashboard_html_rawf(h, "<table class=\"months\"><thead><tr><th>%s</th>"
			       "<th class=\"num\">%s</th></tr></thead><tbody>",
			    TR("Tháng", "Month"), TR("Đúng hạn", "On time"));
	for (size_t i = 0; i < MONTHS; i++) {
		dashboard_html_rawf(h, "<tr><td data-label=\"\">%s</td><td class=\"num\" "
				       "data-label=\"%s\">",
				    k->months[i].label, TR("Đúng hạn", "On time"));
		dashboard_percent(h, lang, k->monthly[i]);
		dashboard_html_raw(h, "</td></tr>");
	}
	dashboard_html_raw(h, "</tbody></table>\n");
}

/* The working time between now and a case's due: left, or over when past. */
static void time_left(struct dashboard_html *h, struct api_ctx *x, enum template_lang lang,
		      int64_t due)
{
	int64_t day = calendar_day_seconds(x->cal);
	bool over = due < x->now;
	int64_t s = over ? calendar_between(x->cal, due, x->now)
			 : calendar_between(x->cal, x->now, due);
	char buf[TEMPLATE_DURATION_MAX];

	if (template_format_duration(s, day, over ? TEMPLATE_ROUND_DOWN : TEMPLATE_ROUND_UP, lang,
				     buf, sizeof(buf)) < 0)
		snprintf(buf, sizeof(buf), "—");
	dashboard_html_rawf(h, "<span class=\"%s\">%s ", over ? "bad" : "ok",
			    over ? TR("quá", "over by") : TR("còn", "left:"));
	dashboard_html_text(h, buf);
	dashboard_html_raw(h, "</span>");
}

static void case_rows(struct dashboard_html *h, struct api_ctx *x, enum template_lang lang,
		      const struct case_list *l, const char *title, const char *none)
{
	dashboard_html_rawf(h, "<h2>%s (%zu%s)</h2>", title, l->n, l->more ? "+" : "");
	if (!l->n) {
		dashboard_html_rawf(h, "<p class=\"hint\">%s</p>", none);
		return;
	}
	dashboard_html_rawf(h,
			    "<table class=\"list cases\"><thead><tr><th>%s</th><th>%s</th>"
			    "<th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>\n",
			    TR("Mã hồ sơ", "Case"), TR("Thủ tục", "Procedure"),
			    TR("Người xử lý", "Handler"), TR("Hạn trả", "Due"),
			    TR("Thời gian làm việc", "Working time"));
	for (size_t i = 0; i < l->n; i++) {
		const struct case_record *c = &l->rows[i];
		const struct config_procedure *p = config_procedure(x->cfg, c->procedure);
		const struct config_person *who = c->handler[0] ? config_person(x->cfg, c->handler)
								 : NULL;
		char path[3 * CASE_ID_MAX + 16];

		dashboard_html_rawf(h, "<tr><td data-label=\"%s\"><a ", TR("Mã hồ sơ", "Case"));
		if (template_format_link("", "cases", c->code, path, sizeof(path)) > 0)
			dashboard_href(h, lang, path);
		dashboard_html_raw(h, ">");
		dashboard_html_text(h, c->code);
		dashboard_html_rawf(h, "</a></td><td data-label=\"%s\">",
				    TR("Thủ tục", "Procedure"));
		dashboard_html_text(h, p ? p->name : c->procedure);
		dashboard_html_rawf(h, "</td><td data-label=\"%s\">", TR("Người xử lý", "Handler"));
		dashboard_html_text(h, who ? who->name : c->handler[0] ? c->handler : "—");
		dashboard_html_rawf(h, "</td><td data-label=\"%s\">", TR("Hạn trả", "Due"));
		dashboard_instant(h, x, lang, c->due_at);
		dashboard_html_rawf(h, "</td><td data-label=\"%s\">",
				    TR("Thời gian làm việc", "Working time"));
		time_left(h, x, lang, c->due_at);
		dashboard_html_raw(h, "</td></tr>\n");
	}
	dashboard_html_raw(h, "</tbody></table>\n");
	if (l->more)
		dashboard_html_rawf(h, "<p class=\"hint\">%s</p>",
				    TR("Chỉ hiện 50 hồ sơ khẩn cấp nhất.",
				       "Only the 50 most urgent cases are shown."));
}

static void unit_reply(struct api_job *job, struct api_ctx *x)
{
	struct unit_job *k = (struct unit_job *)job;
	enum template_lang lang = k->d.lang;
	const struct config_unit *u = config_unit(job->cfg, k->kept.unit);
	const struct kpi_figures *f = k->kept.f;
	const struct kpi_row *total = &f->report.total;
	const struct config_unit *parent = u && u->parent ? config_unit(job->cfg, u->parent) : NULL;
	struct dashboard_html *h;
	char self[CASE_ID_MAX + 16], path[CASE_ID_MAX + 16];

	if (k->d.status) {
		dashboard_error(x, lang, k->d.status, k->d.message);
		return;
	}
	if (!u || !(h = dashboard_html_new())) {
		dashboard_error(x, lang, 503, "out of memory");
		return;
	}
	snprintf(self, sizeof(self), "/units/%s", k->kept.unit);
	dashboard_page_begin(h, lang, u->name, self, true);
	dashboard_html_raw(h, "<h1>");
	dashboard_html_text(h, u->name);
	dashboard_html_raw(h, "</h1><p class=\"lead\">");
	dashboard_html_text(h, u->level);
	if (parent) {
		dashboard_html_rawf(h, " · %s <a ", TR("thuộc", "part of"));
		if (template_format_link("", "units", parent->id, path, sizeof(path)) > 0)
			dashboard_href(h, lang, path);
		dashboard_html_raw(h, ">");
		dashboard_html_text(h, parent->name);
		dashboard_html_raw(h, "</a>");
	}
	if (f->report.nrows > 1) {
		snprintf(path, sizeof(path), "/?unit=%s", k->kept.unit);
		dashboard_html_raw(h, " · <a ");
		dashboard_href(h, lang, path);
		dashboard_html_rawf(h, ">%s</a>",
				    TR("các đơn vị trực thuộc", "the units below"));
	}
	dashboard_html_rawf(h, "</p><p>%s</p>",
			    TR("Năm nay đến hôm nay, gồm cả các đơn vị trực thuộc.",
			       "This year to date, with the units below."));
	rate_bar(h, lang, total->rates.on_time, total->target, total->below_target);
	chart(h, lang, f, total->target);
	targets_table(h, lang, total);
	case_rows(h, x, lang, &k->overdue, TR("Quá hạn", "Overdue"),
		  TR("Không có hồ sơ quá hạn.", "No case is overdue."));
	case_rows(h, x, lang, &k->soon,
		  TR("Sắp đến hạn (trong 3 ngày làm việc)", "Due soon (within 3 working days)"),
		  TR("Không có hồ sơ sắp đến hạn.", "No case is due soon."));
	dashboard_page_end_kept(h, x, lang, f->computed_at);
	dashboard_send(x, 200, h);
	kept_publish(x, &k->kept);
}

static void unit_free(struct api_job *job)
{
	struct unit_job *k = (struct unit_job *)job;

	kept_free(&k->kept);
	free(k->overdue.rows);
	free(k->soon.rows);
	free(k);
}

void dashboard_unit(struct api_ctx *x, const char *unit)
{
	static const char *const names[] = { "lang", NULL };
	const char *v[N(names)];
	char buf[64], message[160];
	enum template_lang lang;
	struct unit_job *k;
	struct err err;

	if (dashboard_query(x, names, v, buf, sizeof(buf), &lang) != 0)
		return;
	if (!config_unit(x->cfg, unit)) {
		snprintf(message, sizeof(message), "%s \"%s\"",
			 TR("Không có đơn vị", "No unit has id"), unit);
		dashboard_error(x, lang, 404, message);
		return;
	}
	if (!(k = calloc(1, sizeof(*k)))) {
		dashboard_error(x, lang, 503, "out of memory");
		return;
	}
	k->d.lang = lang;
	k->d.job = (struct api_job){ .run = unit_run, .reply = unit_reply, .free = unit_free };
	if (kept_start(x, &k->kept, KPI_SNAPSHOT_UNIT, unit, &err) != 0) {
		unit_free(&k->d.job);
		dashboard_error(x, lang, 503, err.msg);
		return;
	}
	k->soon_until = calendar_add(x->cal, x->now, SOON_DAYS * calendar_day_seconds(x->cal));
	api_job_queue(x, &k->d.job);
}
