/* dashboard_items: a case's timeline (/cases/{code}) — its events, pauses, the alerts its
 * deadline set off and to whom they went, and how their delivery fared — and the open
 * directives with their cascade down the unit levels (/documents). See docs/dashboard.md.
 *
 * DESIGN: as for the unit pages, the thread pool reads (copying what it keeps, since the
 * store's strings live only for a callback) and the loop thread writes the page. */
#include "dashboard_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpi.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define ALERTS_MAX 200     /* alerts shown on a case's page */
#define SENT_MAX 20        /* messages shown per alert */
#define DIRECTIVES_MAX 100 /* open directives shown */
#define DIRECTIVES_SCAN 5000

#define TR(vi, en) dashboard_tr(lang, vi, en)

/* A copy of s, or NULL (for NULL, or out of memory: *oom then set). */
static char *copy(const char *s, bool *oom)
{
	char *c;

	if (!s)
		return NULL;
	if (!(c = strdup(s)))
		*oom = true;
	return c;
}

/* --- a case's timeline ----------------------------------------------------------------- */

struct event_row {
	int64_t at;
	char *type, *actor, *data;
};

struct sent_row {
	char *channel, *recipient, *status, *last_error;
	int64_t attempts;
};

struct alert_row {
	int64_t id, fired_at, due_at, acknowledged_at;
	bool urgent;
	char *rule, *acknowledged_by;
	struct sent_row sent[SENT_MAX];
	size_t nsent;
};

struct case_job {
	struct dashboard_job d;
	char code[CASE_ID_MAX + 1];
	bool found;
	struct case_record c;
	struct event_row *events;
	size_t nevents, cap_events;
	struct alert_row *alerts;
	size_t nalerts;
	bool oom;
};

static int take_event(void *ctx, const struct store_event *e)
{
	struct case_job *k = ctx;
	struct event_row *grown;

	if (k->nevents == k->cap_events) {
		size_t cap = k->cap_events ? 2 * k->cap_events : 16;

		if (!(grown = realloc(k->events, cap * sizeof(*grown)))) {
			k->oom = true;
			return 1;
		}
		k->events = grown;
		k->cap_events = cap;
	}
	k->events[k->nevents++] = (struct event_row){ e->at, copy(e->type, &k->oom),
						      copy(e->actor, &k->oom),
						      copy(e->data, &k->oom) };
	return k->oom;
}

static int take_alert(void *ctx, const struct store_alert *a)
{
	struct case_job *k = ctx;
	struct alert_row *r = &k->alerts[k->nalerts++];

	*r = (struct alert_row){ .id = a->id, .fired_at = a->fired_at, .due_at = a->due_at,
				 .acknowledged_at = a->acknowledged_at, .urgent = a->urgent,
				 .rule = copy(a->rule_id, &k->oom),
				 .acknowledged_by = copy(a->acknowledged_by, &k->oom) };
	return k->oom || k->nalerts == ALERTS_MAX;
}

static int by_fired(const void *a, const void *b)
{
	const struct alert_row *x = a, *y = b;

	if (x->fired_at != y->fired_at)
		return x->fired_at < y->fired_at ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

struct sent {
	struct alert_row *a;
	bool oom;
};

static int take_sent(void *ctx, const struct store_outbox *o)
{
	struct sent *s = ctx;

	if (s->a->nsent < SENT_MAX)
		s->a->sent[s->a->nsent++] = (struct sent_row){
			copy(o->channel, &s->oom), copy(o->recipient, &s->oom),
			copy(o->status, &s->oom), copy(o->last_error, &s->oom), o->attempts };
	return s->oom;
}

/* The messages of each alert. */
static int find_sent(struct case_job *k, struct store *ro, struct err *err)
{
	for (size_t i = 0; i < k->nalerts; i++) {
		struct sent s = { &k->alerts[i], false };

		if (store_outbox_of_alert(ro, s.a->id, SENT_MAX, take_sent, &s, err) != STORE_OK)
			return -1;
		if (s.oom)
			return err_set(err, NULL, "out of memory");
	}
	return 0;
}

static int case_run(struct api_job *job, struct store *ro, struct api_error *e)
{
	struct case_job *k = (struct case_job *)job;
	struct err err;
	enum store_status st;

	(void)e;
	st = store_case_get(ro, k->code, &k->c, NULL, &err);
	if (st == STORE_NOT_FOUND)
		return 0;
	if (st != STORE_OK)
		return dashboard_job_failed(&k->d, &err);
	k->found = true;
	struct store_alert_filter f = { .item_kind = "case", .item_id = k->c.id,
					.since = TIME_NONE, .acknowledged = -1,
					.limit = ALERTS_MAX };
	if (!(k->alerts = calloc(ALERTS_MAX, sizeof(*k->alerts)))) {
		err_set(&err, NULL, "out of memory");
		return dashboard_job_failed(&k->d, &err);
	}
	if (store_event_list(ro, "case", k->c.id, take_event, k, &err) != STORE_OK ||
	    store_alert_list(ro, &f, take_alert, k, &err) != STORE_OK)
		return dashboard_job_failed(&k->d, &err);
	if (k->oom) {
		err_set(&err, NULL, "out of memory");
		return dashboard_job_failed(&k->d, &err);
	}
	qsort(k->alerts, k->nalerts, sizeof(*k->alerts), by_fired);
	if (find_sent(k, ro, &err) != 0)
		return dashboard_job_failed(&k->d, &err);
	return 0;
}

static const char *event_words(enum template_lang lang, const char *type)
{
	static const char *const words[][3] = {
		{ "create", "Tiếp nhận hồ sơ", "Received" },
		{ "assign", "Phân công xử lý", "Assigned" },
		{ "transfer", "Chuyển xử lý", "Transferred" },
		{ "pause", "Tạm dừng, yêu cầu bổ sung", "Paused for the applicant" },
		{ "resume", "Tiếp tục (đã bổ sung)", "Resumed" },
		{ "complete", "Có kết quả", "Completed" },
		{ "return", "Trả kết quả", "Result returned" },
		{ "withdraw", "Rút hồ sơ", "Withdrawn" },
		{ "reject", "Từ chối", "Rejected" },
		{ "reschedule", "Xin lỗi và hẹn lại ngày trả", "Apology and new appointment" },
		{ "note", "Ghi chú", "Note" },
		{ "extend", "Gia hạn", "Extended" },
		{ "rate", "Đánh giá mức độ hài lòng", "Rated" },
	};

	for (size_t i = 0; i < N(words); i++)
		if (!strcmp(words[i][0], type))
			return lang == TEMPLATE_EN ? words[i][2] : words[i][1];
	return type;
}

static const char *status_words(enum template_lang lang, enum case_status s)
{
	static const char *const vi[] = { "Đã tiếp nhận", "Đang xử lý", "Tạm dừng",
					  "Đã có kết quả", "Đã trả kết quả", "Đã rút",
					  "Từ chối" };
	static const char *const en[] = { "Received", "In progress", "Paused", "Completed",
					  "Returned", "Withdrawn", "Rejected" };

	if ((unsigned)s >= N(vi))
		return "?";
	return lang == TEMPLATE_EN ? en[s] : vi[s];
}

static const char *delivery_words(enum template_lang lang, const char *status)
{
	static const char *const words[][3] = {
		{ "pending", "đang chờ gửi", "waiting to be sent" },
		{ "held", "chờ giờ hành chính hoặc bản tổng hợp", "held for office hours or the "
								     "digest" },
		{ "sending", "đang gửi", "being sent" },
		{ "sent", "đã gửi", "sent" },
		{ "dead", "không gửi được", "could not be sent" },
		{ "digested", "đã gửi trong bản tổng hợp", "sent in the digest" },
	};

	for (size_t i = 0; status && i < N(words); i++)
		if (!strcmp(words[i][0], status))
			return lang == TEMPLATE_EN ? words[i][2] : words[i][1];
	return status ? status : "?";
}

static void fact(struct dashboard_html *h, const char *label)
{
	dashboard_html_rawf(h, "<dt>%s</dt><dd>", label);
}

/* An event's data as "name: value" pairs. */
static void event_data(struct dashboard_html *h, const char *data)
{
	json_t *j = data ? json_loads(data, 0, NULL) : NULL;
	const char *key;
	json_t *v;
	bool first = true;

	if (!json_is_object(j) || !json_object_size(j)) {
		json_decref(j);
		return;
	}
	dashboard_html_raw(h, "<div class=\"data\">");
	json_object_foreach(j, key, v) {
		char *text = json_is_string(v) ? strdup(json_string_value(v))
					       : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		dashboard_html_raw(h, first ? "" : " · ");
		dashboard_html_text(h, key);
		dashboard_html_raw(h, ": ");
		dashboard_html_text(h, text ? text : "?");
		free(text);
		first = false;
	}
	dashboard_html_raw(h, "</div>");
	json_decref(j);
}

/* The name of a person id, or the id. */
static const char *person_name(const struct config *cfg, const char *id)
{
	const struct config_person *p = id ? config_person(cfg, id) : NULL;

	return p ? p->name : id;
}

static void case_facts(struct dashboard_html *h, struct api_ctx *x, enum template_lang lang,
		       const struct case_record *c)
{
	const struct config_procedure *p = config_procedure(x->cfg, c->procedure);
	const struct config_unit *u = config_unit(x->cfg, c->unit);
	char path[CASE_ID_MAX + 16], buf[TEMPLATE_DURATION_MAX];
	int64_t day = calendar_day_seconds(x->cal);

	dashboard_html_raw(h, "<dl class=\"facts\">");
	fact(h, TR("Thủ tục", "Procedure"));
	dashboard_html_text(h, p ? p->name : c->procedure);
	dashboard_html_raw(h, " (");
	dashboard_html_text(h, c->procedure);
	dashboard_html_raw(h, ")</dd>");
	fact(h, TR("Đơn vị", "Unit"));
	dashboard_html_raw(h, "<a ");
	if (template_format_link("", "units", c->unit, path, sizeof(path)) > 0)
		dashboard_href(h, lang, path);
	dashboard_html_raw(h, ">");
	dashboard_html_text(h, u ? u->name : c->unit);
	dashboard_html_raw(h, "</a></dd>");
	fact(h, TR("Người xử lý", "Handler"));
	dashboard_html_text(h, c->handler[0] ? person_name(x->cfg, c->handler) : "—");
	dashboard_html_raw(h, "</dd>");
	fact(h, TR("Người nộp", "Applicant"));
	dashboard_html_text(h, c->applicant[0] ? c->applicant : "—");
	dashboard_html_raw(h, "</dd>");
	fact(h, TR("Tiếp nhận", "Received"));
	dashboard_instant(h, x, lang, c->received_at);
	dashboard_html_raw(h, "</dd>");
	fact(h, TR("Hẹn trả", "Due"));
	dashboard_instant(h, x, lang, c->due_at);
	dashboard_html_raw(h, "</dd>");
	fact(h, TR("Trạng thái", "Status"));
	dashboard_html_text(h, status_words(lang, c->status));
	if (c->outcome == CASE_EARLY || c->outcome == CASE_ON_TIME)
		dashboard_html_rawf(h, " · <span class=\"ok\">%s</span>",
				    c->outcome == CASE_EARLY ? TR("trước hạn", "early")
							     : TR("đúng hạn", "on time"));
	else if (c->outcome == CASE_LATE || c->late)
		dashboard_html_rawf(h, " · <span class=\"flag below\">%s</span>",
				    TR("trễ hạn", "late"));
	dashboard_html_raw(h, "</dd>");
	if (c->status == CASE_PAUSED) {
		fact(h, TR("Tạm dừng", "Paused"));
		dashboard_html_rawf(h, "%s ", TR("từ", "since"));
		dashboard_instant(h, x, lang, c->paused_at);
		if (template_format_duration(c->remaining, day, TEMPLATE_ROUND_UP, lang, buf,
					     sizeof(buf)) > 0) {
			dashboard_html_rawf(h, ", %s ", TR("còn", "with"));
			dashboard_html_text(h, buf);
			dashboard_html_raw(h, lang == TEMPLATE_EN ? " left" : "");
		}
		dashboard_html_raw(h, "</dd>");
	} else if (case_is_open(c->status)) {
		bool over = c->due_at < x->now;
		int64_t s = over ? calendar_between(x->cal, c->due_at, x->now)
				 : calendar_between(x->cal, x->now, c->due_at);

		fact(h, over ? TR("Quá hạn", "Overdue by") : TR("Còn lại", "Left"));
		if (template_format_duration(s, day, over ? TEMPLATE_ROUND_DOWN : TEMPLATE_ROUND_UP,
					     lang, buf, sizeof(buf)) > 0) {
			dashboard_html_rawf(h, "<span class=\"%s\">", over ? "bad" : "ok");
			dashboard_html_text(h, buf);
			dashboard_html_raw(h, "</span>");
		}
		dashboard_html_raw(h, "</dd>");
	}
	dashboard_html_raw(h, "</dl>\n");
}

static void alert_item(struct dashboard_html *h, struct api_ctx *x, enum template_lang lang,
		       const struct alert_row *a)
{
	dashboard_html_raw(h, "<li class=\"alert\"><div class=\"when\">");
	dashboard_instant(h, x, lang, a->fired_at);
	dashboard_html_rawf(h, "</div><div class=\"what\">%s ",
			    TR("Cảnh báo theo quy tắc", "Alert by rule"));
	dashboard_html_text(h, a->rule);
	if (a->urgent)
		dashboard_html_rawf(h, " <span class=\"flag below\">%s</span>",
				    TR("khẩn", "urgent"));
	dashboard_html_raw(h, "</div>");
	if (a->acknowledged_at != TIME_NONE) {
		dashboard_html_rawf(h, "<div>%s ", TR("Đã xác nhận bởi", "Acknowledged by"));
		dashboard_html_text(h, person_name(x->cfg, a->acknowledged_by));
		dashboard_html_raw(h, ", ");
		dashboard_instant(h, x, lang, a->acknowledged_at);
		dashboard_html_raw(h, "</div>");
	}
	if (!a->nsent)
		dashboard_html_rawf(h, "<div class=\"hint\">%s</div>",
				    TR("Không có tin nhắn nào.", "No message was written."));
	for (size_t i = 0; i < a->nsent; i++) {
		const struct sent_row *s = &a->sent[i];

		dashboard_html_raw(h, "<div>→ ");
		dashboard_html_text(h, person_name(x->cfg, s->recipient));
		dashboard_html_raw(h, " (");
		dashboard_html_text(h, s->channel);
		dashboard_html_raw(h, "): ");
		dashboard_html_text(h, delivery_words(lang, s->status));
		if (s->attempts > 1)
			dashboard_html_rawf(h, ", %lld %s", (long long)s->attempts,
					    TR("lần gửi", "attempts"));
		if (s->last_error && strcmp(s->status ? s->status : "", "sent") != 0) {
			dashboard_html_raw(h, " — ");
			dashboard_html_text(h, s->last_error);
		}
		dashboard_html_raw(h, "</div>");
	}
	dashboard_html_raw(h, "</li>\n");
}

static void case_reply(struct api_job *job, struct api_ctx *x)
{
	struct case_job *k = (struct case_job *)job;
	enum template_lang lang = k->d.lang;
	struct dashboard_html *h;
	char self[CASE_ID_MAX + 16], message[200];
	size_t e = 0, a = 0;

	if (k->d.status) {
		dashboard_error(x, lang, k->d.status, k->d.message);
		return;
	}
	if (!k->found) {
		snprintf(message, sizeof(message), "%s \"%s\"",
			 TR("Không có hồ sơ mã", "No case has code"), k->code);
		dashboard_error(x, lang, 404, message);
		return;
	}
	if (!(h = dashboard_html_new())) {
		dashboard_error(x, lang, 503, "out of memory");
		return;
	}
	snprintf(self, sizeof(self), "/cases/%s", k->code);
	dashboard_page_begin(h, lang, k->c.code, self, true);
	dashboard_html_rawf(h, "<h1>%s ", TR("Hồ sơ", "Case"));
	dashboard_html_text(h, k->c.code);
	dashboard_html_raw(h, "</h1>");
	case_facts(h, x, lang, &k->c);
	dashboard_html_rawf(h, "<h2>%s</h2><ol class=\"timeline\">\n",
			    TR("Diễn biến", "Timeline"));
	/* Events and alerts in time order; an event before an alert of the same second. */
	while (e < k->nevents || a < k->nalerts) {
		if (a == k->nalerts ||
		    (e < k->nevents && k->events[e].at <= k->alerts[a].fired_at)) {
			const struct event_row *ev = &k->events[e++];

			dashboard_html_raw(h, "<li><div class=\"when\">");
			dashboard_instant(h, x, lang, ev->at);
			dashboard_html_raw(h, "</div><div class=\"what\">");
			dashboard_html_text(h, event_words(lang, ev->type));
			dashboard_html_raw(h, "</div><div class=\"hint\">");
			dashboard_html_text(h, ev->actor);
			dashboard_html_raw(h, "</div>");
			/* What a creation says is in the facts above. */
			if (strcmp(ev->type, "create") != 0)
				event_data(h, ev->data);
			dashboard_html_raw(h, "</li>\n");
		} else {
			alert_item(h, x, lang, &k->alerts[a++]);
		}
	}
	dashboard_html_raw(h, "</ol>");
	dashboard_page_end(h, x, lang);
	dashboard_send(x, 200, h);
}

static void case_free(struct api_job *job)
{
	struct case_job *k = (struct case_job *)job;

	for (size_t i = 0; i < k->nevents; i++) {
		free(k->events[i].type);
		free(k->events[i].actor);
		free(k->events[i].data);
	}
	for (size_t i = 0; i < k->nalerts; i++) {
		struct alert_row *r = &k->alerts[i];

		free(r->rule);
		free(r->acknowledged_by);
		for (size_t j = 0; j < r->nsent; j++) {
			free(r->sent[j].channel);
			free(r->sent[j].recipient);
			free(r->sent[j].status);
			free(r->sent[j].last_error);
		}
	}
	free(k->events);
	free(k->alerts);
	free(k);
}

void dashboard_case(struct api_ctx *x, const char *code)
{
	static const char *const names[] = { "lang", NULL };
	const char *v[N(names)];
	char buf[64];
	enum template_lang lang;
	struct case_job *k;

	if (dashboard_query(x, names, v, buf, sizeof(buf), &lang) != 0)
		return;
	if (!(k = calloc(1, sizeof(*k)))) {
		dashboard_error(x, lang, 503, "out of memory");
		return;
	}
	k->d.lang = lang;
	snprintf(k->code, sizeof(k->code), "%s", code);
	k->d.job = (struct api_job){ .run = case_run, .reply = case_reply, .free = case_free };
	api_job_queue(x, &k->d.job);
}

/* --- directives and their cascade ------------------------------------------------------ */

struct directive {
	struct assignment_record a;
	char symbol[DOCUMENT_SHORT_MAX + 1]; /* of its document, "" when none */
	struct kpi_cascade cascade;
};

struct documents_job {
	struct dashboard_job d;
	char unit[CASE_ID_MAX + 1]; /* "" = every unit */
	struct directive *rows;
	size_t n;
	bool more;
};

static int take_directive(void *ctx, const struct assignment_record *a)
{
	struct documents_job *k = ctx;

	if (a->status != ASSIGNMENT_OPEN)
		return 0;
	if (k->n == DIRECTIVES_MAX) {
		k->more = true;
		return 1;
	}
	k->rows[k->n++].a = *a;
	return 0;
}

static int documents_run(struct api_job *job, struct store *ro, struct api_error *e)
{
	struct documents_job *k = (struct documents_job *)job;
	struct document_record doc;
	struct err err;

	(void)e;
	if (!(k->rows = calloc(DIRECTIVES_MAX, sizeof(*k->rows)))) {
		err_set(&err, NULL, "out of memory");
		return dashboard_job_failed(&k->d, &err);
	}
	/* Oldest first: those are the ones most behind. */
	if (store_directive_list(ro, k->unit[0] ? k->unit : NULL, 0, job->now + 1,
				 DIRECTIVES_SCAN, take_directive, k, &err) != STORE_OK)
		return dashboard_job_failed(&k->d, &err);
	for (size_t i = 0; i < k->n; i++) {
		struct directive *r = &k->rows[i];

		if (r->a.document_id) {
			enum store_status st = store_document_get(ro, r->a.document_id, &doc, &err);

			if (st == STORE_OK)
				snprintf(r->symbol, sizeof(r->symbol), "%s", doc.symbol);
			else if (st != STORE_NOT_FOUND)
				return dashboard_job_failed(&k->d, &err);
		}
		if (kpi_cascade_build(ro, job->cfg, r->a.id, job->now, &r->cascade, &err) != 0)
			return dashboard_job_failed(&k->d, &err);
	}
	return 0;
}

static void cascade_cells(struct dashboard_html *h, enum template_lang lang,
			  const struct kpi_cascade_counts *c)
{
	dashboard_html_rawf(h,
			    "<td class=\"num\" data-label=\"%s\">%lld</td>"
			    "<td class=\"num\" data-label=\"%s\">%lld</td>"
			    "<td class=\"num\" data-label=\"%s\">%lld</td>"
			    "<td class=\"num%s\" data-label=\"%s\">%lld</td></tr>\n",
			    TR("Tổng", "Total"), (long long)c->done + c->open,
			    TR("Đã xong", "Done"), (long long)c->done, TR("Đang làm", "Open"),
			    (long long)c->open, c->overdue ? " bad" : "", TR("Quá hạn", "Overdue"),
			    (long long)c->overdue);
}

static void directive_block(struct dashboard_html *h, struct api_ctx *x,
			    enum template_lang lang, const struct directive *r)
{
	const struct config_unit *u = config_unit(x->cfg, r->a.unit);
	const struct kpi_cascade *c = &r->cascade;

	dashboard_html_rawf(h, "<section class=\"directive\" id=\"directive-%lld\"><h2>",
			    (long long)r->a.id);
	dashboard_html_text(h, r->a.title);
	dashboard_html_raw(h, "</h2><p>");
	if (r->symbol[0]) {
		dashboard_html_rawf(h, "%s ", TR("Văn bản", "Document"));
		dashboard_html_text(h, r->symbol);
		dashboard_html_raw(h, " · ");
	} else if (r->a.direction[0]) {
		dashboard_html_rawf(h, "%s: ", TR("Ý kiến chỉ đạo", "Direction"));
		dashboard_html_text(h, r->a.direction);
		dashboard_html_raw(h, " · ");
	}
	dashboard_html_rawf(h, "%s ", TR("Chủ trì", "Lead"));
	dashboard_html_text(h, u ? u->name : r->a.unit);
	dashboard_html_rawf(h, " · %s ", TR("hạn", "due"));
	dashboard_instant(h, x, lang, r->a.due_at);
	if (r->a.due_at < x->now)
		dashboard_html_rawf(h, " <span class=\"flag below\">%s</span>",
				    TR("Quá hạn", "Overdue"));
	dashboard_html_raw(h, "</p>");
	if (!c->nlevels) {
		dashboard_html_rawf(h, "<p class=\"hint\">%s</p></section>\n",
				    TR("Chưa giao tiếp xuống cấp dưới.",
				       "Not yet passed down to the units below."));
		return;
	}
	dashboard_html_rawf(h,
			    "<table class=\"list cascade\"><thead><tr><th>%s</th>"
			    "<th class=\"num\">%s</th><th class=\"num\">%s</th>"
			    "<th class=\"num\">%s</th><th class=\"num\">%s</th></tr></thead>"
			    "<tbody>\n",
			    TR("Cấp thực hiện", "Level"), TR("Tổng", "Total"),
			    TR("Đã xong", "Done"), TR("Đang làm", "Open"),
			    TR("Quá hạn", "Overdue"));
	for (size_t i = 0; i < c->nlevels; i++) {
		dashboard_html_rawf(h, "<tr><td data-label=\"%s\">", TR("Cấp", "Level"));
		dashboard_html_text(h, c->levels[i].level ? c->levels[i].level
							  : TR("(đơn vị đã bỏ)", "(unit removed)"));
		dashboard_html_raw(h, "</td>");
		cascade_cells(h, lang, &c->levels[i].c);
	}
	dashboard_html_rawf(h, "<tr class=\"total\"><td data-label=\"\">%s</td>",
			    TR("Cộng", "All levels"));
	cascade_cells(h, lang, &c->total);
	dashboard_html_raw(h, "</tbody></table></section>\n");
}

static void documents_reply(struct api_job *job, struct api_ctx *x)
{
	struct documents_job *k = (struct documents_job *)job;
	enum template_lang lang = k->d.lang;
	struct dashboard_html *h;
	char self[CASE_ID_MAX + 32];

	if (k->d.status) {
		dashboard_error(x, lang, k->d.status, k->d.message);
		return;
	}
	if (!(h = dashboard_html_new())) {
		dashboard_error(x, lang, 503, "out of memory");
		return;
	}
	snprintf(self, sizeof(self), k->unit[0] ? "/documents?unit=%s" : "/documents", k->unit);
	dashboard_page_begin(h, lang, TR("Chỉ đạo, nhiệm vụ đang mở", "Open directives"), self,
			     true);
	dashboard_html_rawf(h, "<h1>%s (%zu%s)</h1><p class=\"lead\">%s</p>\n",
			    TR("Chỉ đạo, nhiệm vụ đang mở", "Open directives"), k->n,
			    k->more ? "+" : "",
			    TR("Mỗi nhiệm vụ và việc giao tiếp xuống từng cấp: đã xong, đang làm, "
			       "quá hạn. Nhiệm vụ giao lâu nhất ở trên.",
			       "Each directive and how it was passed down, level by level: done, "
			       "open, overdue. The oldest first."));
	if (!k->n)
		dashboard_html_rawf(h, "<p class=\"hint\">%s</p>",
				    TR("Không có nhiệm vụ nào đang mở.", "No directive is open."));
	for (size_t i = 0; i < k->n; i++)
		directive_block(h, x, lang, &k->rows[i]);
	dashboard_page_end(h, x, lang);
	dashboard_send(x, 200, h);
}

static void documents_free(struct api_job *job)
{
	struct documents_job *k = (struct documents_job *)job;

	for (size_t i = 0; i < k->n; i++)
		kpi_cascade_free(&k->rows[i].cascade);
	free(k->rows);
	free(k);
}

void dashboard_documents(struct api_ctx *x)
{
	static const char *const names[] = { "unit", "lang", NULL };
	const char *v[N(names)];
	char buf[512], message[160];
	enum template_lang lang;
	struct documents_job *k;

	if (dashboard_query(x, names, v, buf, sizeof(buf), &lang) != 0)
		return;
	if (v[0] && !config_unit(x->cfg, v[0])) {
		snprintf(message, sizeof(message), "unit: no unit has id \"%.64s\"", v[0]);
		dashboard_error(x, lang, 404, message);
		return;
	}
	if (!(k = calloc(1, sizeof(*k)))) {
		dashboard_error(x, lang, 503, "out of memory");
		return;
	}
	k->d.lang = lang;
	snprintf(k->unit, sizeof(k->unit), "%s", v[0] ? v[0] : "");
	k->d.job = (struct api_job){ .run = documents_run, .reply = documents_reply,
				     .free = documents_free };
	api_job_queue(x, &k->d.job);
}
