/* kpi_notify: the error-budget warning and the weekly KPI report to unit heads (see
 * kpi_notify.h; docs/escalation.md, "Error budget and weekly report").
 *
 * DESIGN: one timer drives everything. When it fires for a check, what needs the calendar
 * (which is not thread-safe) is computed on the loop: the year's working days, this week's
 * Monday, the report instant, the year to date. A job then goes to the thread pool holding a
 * reference on the config; on its own read-only connection it builds the budgets and, once the
 * week's report instant has passed, the reports and worst cases of the heads not yet sent one.
 * When the job is back, the timer fires again at once to write: from a timer callback no API
 * transaction is open (the API commits its turn in a uv_check), so each unit's outbox rows and
 * its kpi_notices row go into one transaction of our own. kpi_notices (kind, unit, week) is
 * what makes a notice once a week across restarts; it is read again before writing, since the
 * job's snapshot may be older. Then the timer waits for the next check: in an hour, or right
 * after the report instant when that comes first. */
#include "kpi_notify.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "kpi.h"
#include "log.h"
#include "template.h"

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

#define START_DELAY_MS 1000      /* the first check, after start-up or a reload */
#define CHECK_EVERY_S 3600       /* between two checks */
#define RETRY_S 60               /* after a failed check */
#define BUSY_RETRY_MS 50         /* the writer is inside someone's transaction */
#define WORST_CASES 10           /* worst cases listed in a weekly report */

/* A unit whose budget warrants the warning. */
struct budget_notice {
	struct kpi_budget b;
	const struct config_person *head;
};

/* A head's weekly report: the unit's subtree year to date and its worst open cases. */
struct report_notice {
	const struct config_unit *unit;
	const struct config_person *head;
	struct kpi_report report;
	struct case_record worst[WORST_CASES];
	size_t nworst;
};

struct job {
	uv_work_t req;
	struct kpi_notify *n;
	const struct config *cfg; /* a reference: the config of the check */
	char *path;               /* the database, for the read-only connection */
	int64_t now;
	int64_t week;             /* the local day number of this week's Monday */
	bool budget, report;      /* what this check looks at */
	struct kpi_year year;     /* budget: the year so far */
	struct kpi_period ytd;    /* report: 1 January to today */
	struct budget_notice *budgets;
	size_t nbudgets;
	struct report_notice *reports;
	size_t nreports;
	bool failed;
	struct err err;
};

struct kpi_notify {
	uv_loop_t *loop;
	uv_timer_t timer;
	struct store *store;
	const struct config *cfg;
	struct job *running; /* in the thread pool */
	struct job *ready;   /* back, waiting for the timer to write it */
	bool recheck;        /* the config changed while a job ran */
	bool warned_templates;
	bool closing;
	void (*close_cb)(void *);
	void *close_arg;
};

static int64_t wall_now(void)
{
	return (int64_t)time(NULL);
}

static void on_timer(uv_timer_t *t);

static void arm_ms(struct kpi_notify *n, uint64_t ms)
{
	int rc;

	if (!n->closing && (rc = uv_timer_start(&n->timer, on_timer, ms, 0)) != 0)
		log_error("kpi notices: cannot arm the timer: %s", uv_strerror(rc));
}

/* --- the week ------------------------------------------------------------------------------ */

static int32_t monday_of(int32_t day)
{
	return day - (civil_weekday(day) + 6) % 7;
}

/* The instant of this week's report (the week of day `monday`). */
static int64_t report_instant(const struct config *cfg, int32_t monday)
{
	int offset = (cfg->escalation.kpi_report.weekday + 6) % 7; /* Monday first */
	int at = cfg->escalation.kpi_report.at_min;

	return calendar_instant_of(cfg->calendar, monday + offset, at);
}

/* "08/2024": the ISO 8601 week of the week starting on day `monday` (the year its Thursday
 * falls in), as the report's subject names it. */
static void format_week(int32_t monday, char *buf, size_t n)
{
	int32_t thursday = monday + 3;
	int y, m, d;

	civil_from_days(thursday, &y, &m, &d);
	snprintf(buf, n, "%02d/%04d", (thursday - civil_to_days(y, 1, 1)) / 7 + 1, y);
}

static bool budget_on(const struct config *cfg)
{
	return cfg->escalation.budget.enabled;
}

static bool report_on(const struct config *cfg)
{
	return cfg->escalation.kpi_report.enabled;
}

/* The unit's own head when that person can be mailed. */
static const struct config_person *mailable_head(const struct config *cfg,
						 const struct config_unit *u)
{
	const struct config_person *p = u->head ? config_person(cfg, u->head) : NULL;

	return p && p->email ? p : NULL;
}

/* --- the job (thread pool) ----------------------------------------------------------------- */

static void job_free(struct job *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->nreports; i++)
		kpi_report_free(&j->reports[i].report);
	free(j->reports);
	free(j->budgets);
	free(j->path);
	config_unref(j->cfg);
	free(j);
}

static int collect_budgets(struct job *j, struct store *st)
{
	const struct config *cfg = j->cfg;
	struct kpi_budget *b = NULL;
	size_t nb = 0;
	int rc = -1;

	if (kpi_budget_build(st, cfg, NULL, &j->year, &b, &nb, &j->err) != 0)
		return -1;
	if (!(j->budgets = calloc(nb ? nb : 1, sizeof(*j->budgets)))) {
		err_set(&j->err, NULL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nb; i++) {
		const struct config_person *head = mailable_head(cfg, b[i].unit);
		bool sent = false;

		if (!head || !kpi_budget_alarming(&b[i], cfg->escalation.budget.burn_rate,
						  cfg->escalation.budget.remaining_below))
			continue;
		if (store_kpi_notice_get(st, "budget", b[i].unit->id, j->week, &sent, &j->err) !=
		    STORE_OK)
			goto out;
		if (!sent)
			j->budgets[j->nbudgets++] = (struct budget_notice){ b[i], head };
	}
	rc = 0;
out:
	free(b);
	return rc;
}

static int take_case(void *ctx, const struct case_record *c)
{
	struct report_notice *r = ctx;

	if (r->nworst < WORST_CASES)
		r->worst[r->nworst++] = *c;
	return r->nworst == WORST_CASES;
}

/* The open overdue cases of the unit's subtree, most overdue first, then the ones at risk
 * (an alert fired), nearest due first. */
static int collect_worst(struct job *j, struct store *st, struct report_notice *r)
{
	struct store_filter f = { .unit = r->unit->id, .overdue = true, .now = j->now,
				  .due_before = TIME_NONE, .due_after = TIME_NONE,
				  .limit = WORST_CASES };

	if (store_case_list(st, &f, take_case, r, &j->err) != STORE_OK)
		return -1;
	if (r->nworst == WORST_CASES)
		return 0;
	f = (struct store_filter){ .unit = r->unit->id, .at_risk = true, .now = j->now,
				   .due_before = TIME_NONE, .due_after = j->now,
				   .limit = (int)(WORST_CASES - r->nworst) };
	return store_case_list(st, &f, take_case, r, &j->err) == STORE_OK ? 0 : -1;
}

static int collect_reports(struct job *j, struct store *st)
{
	const struct config *cfg = j->cfg;

	if (!(j->reports = calloc(cfg->nunits ? cfg->nunits : 1, sizeof(*j->reports))))
		return err_set(&j->err, NULL, "out of memory");
	for (size_t i = 0; i < cfg->nunits; i++) {
		const struct config_unit *u = &cfg->units[i];
		const struct config_person *head = mailable_head(cfg, u);
		struct report_notice *r = &j->reports[j->nreports];
		bool sent = false;

		if (!head)
			continue;
		if (store_kpi_notice_get(st, "report", u->id, j->week, &sent, &j->err) != STORE_OK)
			return -1;
		if (sent)
			continue;
		r->unit = u;
		r->head = head;
		if (kpi_report_build(st, cfg, u->id, &j->ytd, KPI_PORTAL, &r->report, &j->err) != 0)
			return -1;
		j->nreports++; /* from here job_free frees the report */
		if (collect_worst(j, st, r) != 0)
			return -1;
	}
	return 0;
}

static void work(uv_work_t *req)
{
	struct job *j = container_of(req, struct job, req);
	enum store_status status;
	struct store *st = store_open_readonly(j->path, &status, &j->err);

	if (!st || (j->budget && collect_budgets(j, st) != 0) ||
	    (j->report && collect_reports(j, st) != 0))
		j->failed = true;
	store_close(st);
}

/* --- the check (loop) ---------------------------------------------------------------------- */

static void finish_close(struct kpi_notify *n);

static void after_work(uv_work_t *req, int status)
{
	struct job *j = container_of(req, struct job, req);
	struct kpi_notify *n = j->n;

	n->running = NULL;
	if (n->closing || status != 0) {
		job_free(j);
		if (n->closing)
			finish_close(n);
		return;
	}
	if (j->failed) {
		log_error("kpi notices: check failed: %s; next try in %d s", j->err.msg, RETRY_S);
		job_free(j);
		arm_ms(n, n->recheck ? START_DELAY_MS : (uint64_t)RETRY_S * 1000);
		n->recheck = false;
		return;
	}
	n->ready = j;
	arm_ms(n, 0); /* write from a timer callback, where no API transaction is open */
}

/* Queues a check with the current config. Returns 0, or -1 with err. */
static int start_check(struct kpi_notify *n, int64_t now, struct err *err)
{
	const struct config *cfg = n->cfg;
	struct calendar *cal = cfg->calendar;
	int32_t today = calendar_day_of(cal, now), monday = monday_of(today);
	struct job *j = calloc(1, sizeof(*j));
	int y, m, d, rc;

	if (!j || !(j->path = strdup(store_path(n->store)))) {
		free(j);
		return err_set(err, NULL, "out of memory");
	}
	j->n = n;
	j->cfg = config_ref(cfg);
	j->now = now;
	j->week = monday;
	j->budget = budget_on(cfg);
	j->report = report_on(cfg) && now >= report_instant(cfg, monday);
	civil_from_days(today, &y, &m, &d);
	if ((j->budget && kpi_budget_year(cal, y, now, &j->year, err) != 0) ||
	    (j->report && kpi_parse_period(cal, "ytd", now, &j->ytd, err) != 0)) {
		job_free(j);
		return -1;
	}
	if ((rc = uv_queue_work(n->loop, &j->req, work, after_work)) != 0) {
		job_free(j);
		return err_set(err, NULL, "cannot queue the check: %s", uv_strerror(rc));
	}
	n->running = j;
	return 0;
}

/* The next check: in an hour, or right after the next report instant if that is sooner. */
static void arm_next(struct kpi_notify *n, int64_t now)
{
	const struct config *cfg = n->cfg;
	int64_t next = now + CHECK_EVERY_S;

	if (n->recheck) {
		n->recheck = false;
		arm_ms(n, START_DELAY_MS);
		return;
	}
	if (report_on(cfg)) {
		int32_t monday = monday_of(calendar_day_of(cfg->calendar, now));
		int64_t at = report_instant(cfg, monday);

		if (at <= now)
			at = report_instant(cfg, monday + 7);
		if (at + 1 < next)
			next = at + 1;
	}
	arm_ms(n, next > now ? (uint64_t)(next - now) * 1000 : 1);
}

static void check(struct kpi_notify *n)
{
	const struct config *cfg = n->cfg;
	int64_t now = wall_now();
	struct err err;

	if (!budget_on(cfg) && !report_on(cfg))
		return; /* nothing to do until a reload turns one on */
	if (!cfg->escalation.template_set) {
		if (!n->warned_templates)
			log_warn("kpi notices: escalation.budget and escalation.kpi_report need "
				 "the message templates, which are not loaded: none is sent");
		n->warned_templates = true;
		arm_next(n, now);
		return;
	}
	if (start_check(n, now, &err) != 0) {
		log_error("kpi notices: %s; next try in %d s", err.msg, RETRY_S);
		arm_ms(n, (uint64_t)RETRY_S * 1000);
	}
}

/* --- messages ------------------------------------------------------------------------------ */

/* A rate or target in percent with one decimal ("96,2%"); "" for no data or no target. */
static const char *percent(double v, enum template_lang lang, char *buf, size_t n)
{
	if (kpi_no_data(v) || v < 0 || template_format_percent(v, 1, lang, buf, n) < 0)
		buf[0] = '\0';
	return buf;
}

/* A plain number with one decimal, truncated like a percentage ("2,5"), or "" for no data:
 * the percentage format without its % sign, so that the two always agree. */
static const char *decimal(double v, enum template_lang lang, char *buf, size_t n)
{
	size_t len;

	if (kpi_no_data(v) || template_format_percent(v, 1, lang, buf, n) < 0) {
		buf[0] = '\0';
		return buf;
	}
	len = strlen(buf);
	if (len > 0 && buf[len - 1] == '%')
		buf[len - 1] = '\0';
	return buf;
}

/* A number of cases with one decimal, rounded ("14,4"): the allowance and what is left of it
 * read as amounts, so that allowed - used = remaining holds in the text as it does in figures. */
static const char *cases(double v, enum template_lang lang, char *buf, size_t n)
{
	return decimal(kpi_no_data(v) ? v : floor(v * 10.0 + 0.5) / 10.0, lang, buf, n);
}

static const char *integer(int64_t v, char *buf, size_t n)
{
	snprintf(buf, n, "%lld", (long long)v);
	return buf;
}

/* The name of the top of the unit tree above u: the office that signs the messages. */
static const char *office_name(const struct config *cfg, const struct config_unit *u)
{
	u = config_root_of(cfg, u);
	return u ? u->name : "";
}

/* What every KPI message carries. */
struct common {
	char date[16], salutation[400];
	int64_t not_before;
};

static void common_of(const struct config *cfg, const struct config_person *to, int64_t figures_at,
		      int64_t now, struct common *c)
{
	enum template_lang lang = template_set_lang(cfg->escalation.template_set);

	template_format_date(cfg->calendar, figures_at, c->date, sizeof(c->date));
	template_format_salutation(to->title, to->name, lang, c->salutation, sizeof(c->salutation));
	c->not_before = cfg->escalation.hold_outside_office_hours
				? calendar_next_open(cfg->calendar, now) : now;
}

/* Renders the e-mail parts of kind and writes the row to person `to`. */
static int write_email(struct store *st, const struct config *cfg, enum template_kind kind,
		       const struct template_vars *tv, const struct config_person *to,
		       const struct common *c, int64_t now, struct err *err)
{
	const struct template_set *set = cfg->escalation.template_set;
	char *subject = NULL, *text = NULL, *html = NULL;
	int rc = -1;

	if (template_render(set, kind, TEMPLATE_SUBJECT, tv, &subject, err) ||
	    template_render(set, kind, TEMPLATE_TEXT, tv, &text, err) ||
	    template_render(set, kind, TEMPLATE_HTML, tv, &html, err))
		goto out;
	/* Never "held": a digest keeps only rows of alerts, and these have none. */
	struct store_outbox o = {
		.channel = "email", .recipient = to->id, .address = to->email, .subject = subject,
		.body_text = text, .body_html = html, .status = "pending",
		.not_before = c->not_before, .created_at = now,
	};
	rc = store_outbox_insert(st, &o, err) == STORE_OK ? 0 : -1;
out:
	free(subject);
	free(text);
	free(html);
	return rc;
}

/* The budget warning's chat line to each of the unit's channels, with the facts json
 * channels carry (docs/webhooks.md). Their payload knows only item kinds: the warning is
 * about the unit's cases, so kind "case" with the unit's id as the code. */
static int write_chat(struct store *st, const struct config *cfg, const struct template_vars *tv,
		      const struct config_unit *u, const struct common *c, int64_t now,
		      struct err *err)
{
	char *line = NULL, *facts = NULL;
	json_t *j = NULL;
	int rc = -1;

	if (!u->nchannels)
		return 0;
	if (template_render(cfg->escalation.template_set, TEMPLATE_KPI_BUDGET, TEMPLATE_CHAT, tv,
			    &line, err) != 0)
		return -1;
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:n, s:n, s:n}", "rule", "budget",
		      "severity", "warning", "kind", "case", "code", u->id, "summary", line, "unit",
		      "id", u->id, "name", u->name, "handler", "due_at", "link");
	if (!j || !(facts = json_dumps(j, JSON_COMPACT))) {
		err_set(err, NULL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < u->nchannels; i++) {
		struct store_outbox o = {
			.channel = "chat", .recipient = u->channels[i], .subject = line,
			.body_text = line, .status = "pending", .not_before = c->not_before,
			.created_at = now, .facts = facts,
		};
		if (store_outbox_insert(st, &o, err) != STORE_OK)
			goto out;
	}
	rc = 0;
out:
	json_decref(j);
	free(facts);
	free(line);
	return rc;
}

/* Writes the warning unless this week's was; returns 1 when written, 0 when it was, -1 with
 * err. */
static int write_budget(struct kpi_notify *n, const struct job *j, const struct budget_notice *bn,
			int64_t now, struct err *err)
{
	const struct config *cfg = j->cfg;
	const struct kpi_budget *b = &bn->b;
	enum template_lang lang = template_set_lang(cfg->escalation.template_set);
	bool burning = !kpi_no_data(b->burn_7d) && b->burn_7d > cfg->escalation.budget.burn_rate;
	/* The unit has a target (it would not alarm without one): remaining is a real figure. */
	bool over = b->remaining < 0;
	bool low = b->allowed > 0 ? b->remaining_percent < cfg->escalation.budget.remaining_below
				  : b->used > 0;
	struct common c;
	char year[24], target[32], counted[24], projected[32], allowed[32], used[24], left[32];
	char over_by[32], left_pct[32], rate[32], burn7[32], late7[24], due7[24], burn30[32];
	char late30[24], due30[24], burn_thr[32], left_thr[32];
	bool sent = false;

	if (store_kpi_notice_get(n->store, "budget", b->unit->id, j->week, &sent, err) != STORE_OK)
		return -1;
	if (sent)
		return 0;
	common_of(cfg, bn->head, j->now, now, &c);
	integer(j->year.year, year, sizeof(year));
	percent(b->target, lang, target, sizeof(target));
	integer(b->counted, counted, sizeof(counted));
	integer((int64_t)llround(b->projected), projected, sizeof(projected));
	cases(b->allowed, lang, allowed, sizeof(allowed));
	integer(b->used, used, sizeof(used));
	cases(over ? KPI_NO_DATA : b->remaining, lang, left, sizeof(left));
	cases(over ? -b->remaining : KPI_NO_DATA, lang, over_by, sizeof(over_by));
	percent(over ? KPI_NO_DATA : b->remaining_percent, lang, left_pct, sizeof(left_pct));
	percent(b->projected_rate, lang, rate, sizeof(rate));
	decimal(b->burn_7d, lang, burn7, sizeof(burn7));
	integer(b->late_7d, late7, sizeof(late7));
	integer(b->due_7d, due7, sizeof(due7));
	decimal(b->burn_30d, lang, burn30, sizeof(burn30));
	integer(b->late_30d, late30, sizeof(late30));
	integer(b->due_30d, due30, sizeof(due30));
	decimal(cfg->escalation.budget.burn_rate, lang, burn_thr, sizeof(burn_thr));
	percent(cfg->escalation.budget.remaining_below, lang, left_thr, sizeof(left_thr));
	const struct template_var v[] = {
		{ "unit", b->unit->name }, { "recipient_salutation", c.salutation },
		{ "office_name", office_name(cfg, b->unit) }, { "date", c.date }, { "year", year },
		{ "target", target }, { "counted", counted }, { "projected", projected },
		{ "budget_allowed", allowed }, { "budget_used", used },
		{ "budget_remaining", left }, { "budget_over", over_by },
		{ "remaining_percent", left_pct },
		{ "projected_rate", rate }, { "burn_7d", burn7 }, { "late_7d", late7 },
		{ "due_7d", due7 }, { "burn_30d", burn30 }, { "late_30d", late30 },
		{ "due_30d", due30 }, { "burn_alarm", burning ? "1" : "" },
		{ "low_budget", low ? "1" : "" }, { "burn_threshold", burn_thr },
		{ "remaining_threshold", left_thr },
	};
	const struct template_vars tv = { v, sizeof(v) / sizeof(v[0]), NULL, 0 };

	if (write_email(n->store, cfg, TEMPLATE_KPI_BUDGET, &tv, bn->head, &c, now, err) != 0 ||
	    (cfg->escalation.budget.chat &&
	     write_chat(n->store, cfg, &tv, b->unit, &c, now, err) != 0) ||
	    store_kpi_notice_put(n->store, "budget", b->unit->id, j->week, now, err) != STORE_OK)
		return -1;
	log_info("kpi notices: budget warning for %s to %s (used %lld of %.1f, 7-day burn %s)",
		 b->unit->id, bn->head->id, (long long)b->used, b->allowed, burn7[0] ? burn7 : "-");
	return 1;
}

/* --- the weekly report's rows ------------------------------------------------------------- */

#define ROW_FIELDS 30 /* of a unit's row; a case's has 9 */

/* The text of one row's cells; the row's template_vars point into it. */
struct report_cells {
	char depth[8], indent[40], received[24], carried[24], counted[24], finished[24];
	char late[24], within[24], overdue[24];
	char rate[6][32], target[6][32];
	char due_at[TEMPLATE_INSTANT_MAX], overdue_by[TEMPLATE_DURATION_MAX];
	char left[TEMPLATE_DURATION_MAX], link[1024];
	struct template_var v[ROW_FIELDS];
};

static void set(struct report_cells *c, size_t *n, const char *name, const char *value)
{
	if (*n < ROW_FIELDS)
		c->v[(*n)++] = (struct template_var){ name, value };
}

static bool below(double rate, double target)
{
	return !kpi_no_data(rate) && target >= 0 && rate < target;
}

static void unit_row(const struct kpi_row *r, bool total, enum template_lang lang,
		     struct report_cells *c, struct template_row *row)
{
	const struct config_target *t = r->target;
	const double rates[6] = { r->rates.on_time, r->rates.online, r->rates.online_payment,
				  r->rates.digitized, r->rates.satisfaction, r->rates.inspection };
	const double targets[6] = { t ? t->on_time : -1, t ? t->online : -1,
				    t ? t->online_payment : -1, t ? t->digitized : -1,
				    t ? t->satisfaction : -1, t ? t->inspection : -1 };
	static const char *const names[6][3] = {
		{ "on_time_rate", "on_time_target", "on_time_below" },
		{ "online_rate", "online_target", "online_below" },
		{ "payment_rate", "payment_target", "payment_below" },
		{ "digitized_rate", "digitized_target", "digitized_below" },
		{ "satisfaction_rate", "satisfaction_target", "satisfaction_below" },
		{ "inspection_rate", "inspection_target", "inspection_below" },
	};
	const struct store_case_counts *k = &r->counts.cases;
	int depth = total ? 0 : r->depth;
	size_t n = 0;

	snprintf(c->depth, sizeof(c->depth), "%d", depth);
	snprintf(c->indent, sizeof(c->indent), "%*s", depth > 8 ? 16 : 2 * depth, "");
	integer(k->received, c->received, sizeof(c->received));
	integer(k->carried, c->carried, sizeof(c->carried));
	integer(k->received + k->carried, c->counted, sizeof(c->counted));
	integer(k->early + k->on_time, c->finished, sizeof(c->finished));
	integer(k->late, c->late, sizeof(c->late));
	integer(k->open_within, c->within, sizeof(c->within));
	integer(k->open_overdue, c->overdue, sizeof(c->overdue));
	set(c, &n, "unit_row", "1");
	set(c, &n, "total", total ? "1" : "");
	set(c, &n, "unit", r->unit ? r->unit->name : "");
	set(c, &n, "depth", c->depth);
	set(c, &n, "indent", c->indent);
	set(c, &n, "received", c->received);
	set(c, &n, "carried", c->carried);
	set(c, &n, "counted", c->counted);
	set(c, &n, "finished_on_time", c->finished);
	set(c, &n, "late", c->late);
	set(c, &n, "open_within", c->within);
	set(c, &n, "open_overdue", c->overdue);
	for (int i = 0; i < 6; i++) {
		set(c, &n, names[i][0], percent(rates[i], lang, c->rate[i], sizeof(c->rate[i])));
		set(c, &n, names[i][1], percent(targets[i], lang, c->target[i],
						 sizeof(c->target[i])));
		set(c, &n, names[i][2], below(rates[i], targets[i]) ? "1" : "");
	}
	*row = (struct template_row){ c->v, n };
}

static void case_row(const struct config *cfg, const struct case_record *k, int64_t at,
		     struct report_cells *c, struct template_row *row)
{
	struct calendar *cal = cfg->calendar;
	enum template_lang lang = template_set_lang(cfg->escalation.template_set);
	const struct config_procedure *p = config_procedure(cfg, k->procedure);
	const struct config_unit *u = config_unit(cfg, k->unit);
	const struct config_person *h = k->handler[0] ? config_person(cfg, k->handler) : NULL;
	int64_t left = calendar_between(cal, at, k->due_at);
	size_t n = 0;

	template_format_instant(cal, k->due_at, lang, c->due_at, sizeof(c->due_at));
	c->overdue_by[0] = c->left[0] = c->link[0] = '\0';
	/* overdue_by only for an overdue case: the template picks its words by it */
	if (k->due_at <= at)
		template_format_duration(left < 0 ? -left : 0, calendar_day_seconds(cal),
					 TEMPLATE_ROUND_DOWN, lang, c->overdue_by,
					 sizeof(c->overdue_by));
	else
		template_format_duration(left, calendar_day_seconds(cal), TEMPLATE_ROUND_UP, lang,
					 c->left, sizeof(c->left));
	if (cfg->escalation.link_base)
		template_format_link(cfg->escalation.link_base, "cases", k->code, c->link,
				     sizeof(c->link));
	set(c, &n, "case_row", "1");
	set(c, &n, "code", k->code);
	set(c, &n, "title", p ? p->name : k->procedure);
	set(c, &n, "unit", u ? u->name : k->unit);
	set(c, &n, "handler", h ? h->name : "");
	set(c, &n, "due_at", c->due_at);
	set(c, &n, "overdue_by", c->overdue_by);
	set(c, &n, "left", c->left);
	set(c, &n, "link", c->link);
	*row = (struct template_row){ c->v, n };
}

/* Writes the report unless this week's was; returns 1 when written, 0 when it was, -1 with
 * err. */
static int write_report(struct kpi_notify *n, const struct job *j, const struct report_notice *rn,
			int64_t now, struct err *err)
{
	const struct config *cfg = j->cfg;
	const struct kpi_report *r = &rn->report;
	enum template_lang lang = template_set_lang(cfg->escalation.template_set);
	bool with_total = r->nrows > 1; /* a single unit's row is its total */
	size_t nrows = r->nrows + (with_total ? 1 : 0) + rn->nworst, k = 0;
	struct report_cells *cells = calloc(nrows ? nrows : 1, sizeof(*cells));
	struct template_row *rows = calloc(nrows ? nrows : 1, sizeof(*rows));
	const struct kpi_row *total = r->nrows == 1 ? &r->rows[0] : &r->total;
	char week[16], from[16], rate[32], target[32], overdue[24], worst[8];
	struct common c;
	bool sent = false;
	int rc = -1;

	if (!cells || !rows) {
		err_set(err, NULL, "out of memory");
		goto out;
	}
	if (store_kpi_notice_get(n->store, "report", rn->unit->id, j->week, &sent, err) != STORE_OK)
		goto out;
	if (sent) {
		rc = 0;
		goto out;
	}
	for (size_t i = 0; i < r->nrows; i++, k++)
		unit_row(&r->rows[i], false, lang, &cells[k], &rows[k]);
	if (with_total) {
		unit_row(&r->total, true, lang, &cells[k], &rows[k]);
		k++;
	}
	for (size_t i = 0; i < rn->nworst; i++, k++)
		case_row(cfg, &rn->worst[i], j->now, &cells[k], &rows[k]);
	common_of(cfg, rn->head, j->now, now, &c);
	format_week((int32_t)j->week, week, sizeof(week));
	template_format_date(cfg->calendar, j->ytd.from, from, sizeof(from));
	snprintf(worst, sizeof(worst), "%zu", rn->nworst);
	percent(total->rates.on_time, lang, rate, sizeof(rate));
	percent(total->target ? total->target->on_time : -1, lang, target, sizeof(target));
	integer(total->counts.cases.open_overdue, overdue, sizeof(overdue));
	const struct template_var v[] = {
		{ "unit", rn->unit->name }, { "recipient_salutation", c.salutation },
		{ "office_name", office_name(cfg, rn->unit) }, { "date", c.date },
		{ "week", week }, { "period_from", from }, { "period_to", c.date },
		{ "on_time_rate", rate }, { "on_time_target", target },
		{ "on_time_below", total->below_target ? "1" : "" }, { "open_overdue", overdue },
		{ "worst_count", rn->nworst ? worst : "" },
	};
	const struct template_vars tv = { v, sizeof(v) / sizeof(v[0]), rows, nrows };

	if (write_email(n->store, cfg, TEMPLATE_KPI_REPORT, &tv, rn->head, &c, now, err) != 0 ||
	    store_kpi_notice_put(n->store, "report", rn->unit->id, j->week, now, err) != STORE_OK)
		goto out;
	log_info("kpi notices: weekly report %s for %s to %s", week, rn->unit->id, rn->head->id);
	rc = 1;
out:
	free(cells);
	free(rows);
	return rc;
}

/* --- writing (loop) ------------------------------------------------------------------------ */

/* Ends the savepoint of one unit's writes (rc: the write's result). A unit whose message
 * cannot be written is logged and left for the next check, without holding the others back.
 * Returns -1 only when the transaction itself failed. */
static int end_savepoint(struct kpi_notify *n, int rc, const char *what, const char *unit,
			 size_t *written, struct err *err)
{
	if (rc < 0) {
		log_error("kpi notices: %s for %s: %s", what, unit, err->msg);
		store_rollback_to_savepoint(n->store);
		return 0;
	}
	*written += (size_t)rc;
	return store_release(n->store, err) == STORE_OK ? 0 : -1;
}

static void write_ready(struct kpi_notify *n)
{
	struct job *j = n->ready;
	int64_t now = wall_now();
	struct err err;
	bool failed = false;
	size_t budgets = 0, reports = 0;

	store_yield(n->store); /* a turn held open across loop turns ends now */
	if (store_in_transaction(n->store)) { /* someone's turn is still open: come back */
		arm_ms(n, BUSY_RETRY_MS);
		return;
	}
	n->ready = NULL;
	if (store_begin(n->store, &err) != STORE_OK) {
		log_error("kpi notices: cannot write: %s; next try in %d s", err.msg, RETRY_S);
		job_free(j);
		arm_ms(n, (uint64_t)RETRY_S * 1000);
		return;
	}
	for (size_t i = 0; i < j->nbudgets && !failed; i++) {
		const struct budget_notice *b = &j->budgets[i];

		failed = store_savepoint(n->store, &err) != STORE_OK ||
			 end_savepoint(n, write_budget(n, j, b, now, &err), "budget warning",
				       b->b.unit->id, &budgets, &err) != 0;
	}
	for (size_t i = 0; i < j->nreports && !failed; i++) {
		const struct report_notice *r = &j->reports[i];

		failed = store_savepoint(n->store, &err) != STORE_OK ||
			 end_savepoint(n, write_report(n, j, r, now, &err), "weekly report",
				       r->unit->id, &reports, &err) != 0;
	}
	if (failed) {
		log_error("kpi notices: %s", err.msg);
		store_rollback(n->store);
	} else if (store_commit(n->store, &err) != STORE_OK) {
		log_error("kpi notices: commit failed: %s", err.msg);
		failed = true;
	}
	if (!failed)
		log_info("kpi notices: checked: %zu budget warning(s) and %zu weekly report(s) "
			 "written", budgets, reports);
	job_free(j);
	if (failed)
		arm_ms(n, (uint64_t)RETRY_S * 1000);
	else
		arm_next(n, now);
}

static void on_timer(uv_timer_t *t)
{
	struct kpi_notify *n = t->data;

	if (n->ready)
		write_ready(n);
	else if (!n->running)
		check(n);
}

/* --- lifecycle ----------------------------------------------------------------------------- */

struct kpi_notify *kpi_notify_new(uv_loop_t *loop, struct store *store, const struct config *cfg,
				  struct err *err)
{
	struct kpi_notify *n = calloc(1, sizeof(*n));
	int rc;

	if (!n) {
		err_set(err, NULL, "out of memory");
		return NULL;
	}
	n->loop = loop;
	n->store = store;
	n->cfg = cfg;
	if ((rc = uv_timer_init(loop, &n->timer)) != 0) {
		err_set(err, NULL, "cannot create the KPI notices' timer: %s", uv_strerror(rc));
		free(n);
		return NULL;
	}
	n->timer.data = n;
	arm_ms(n, START_DELAY_MS); /* not at once: start-up stays fast */
	return n;
}

void kpi_notify_set_config(struct kpi_notify *n, const struct config *cfg)
{
	n->cfg = cfg;
	n->warned_templates = false;
	if (n->running || n->ready)
		n->recheck = true; /* after the write of the job in flight */
	else
		arm_ms(n, START_DELAY_MS);
}

static void on_closed(uv_handle_t *h)
{
	struct kpi_notify *n = h->data;
	void (*cb)(void *) = n->close_cb;
	void *arg = n->close_arg;

	free(n);
	if (cb)
		cb(arg);
}

static void finish_close(struct kpi_notify *n)
{
	uv_close((uv_handle_t *)&n->timer, on_closed);
}

void kpi_notify_close(struct kpi_notify *n, void (*cb)(void *arg), void *arg)
{
	n->closing = true;
	n->close_cb = cb;
	n->close_arg = arg;
	uv_timer_stop(&n->timer);
	job_free(n->ready);
	n->ready = NULL;
	if (n->running) {
		/* after_work finishes the close; a job not yet started is cancelled */
		uv_cancel((uv_req_t *)&n->running->req);
		return;
	}
	finish_close(n);
}
