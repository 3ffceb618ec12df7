/* scheduler: the deadline engine (see scheduler.h).
 *
 * DESIGN: memory does not grow with open items — the only state besides the database is one
 * timer. Each watch row says when an item's next rule fires and up to when firings have been
 * handled (checked_until). When the timer fires, due rows are taken in chunks of
 * SCHEDULER_CHUNK, each chunk one transaction: for each item, the most severe firing since
 * checked_until becomes one alert (so downtime collapses into one message per item), its
 * outbox rows are rendered, and the watch moves on to the next firing. Alerts are unique per
 * (item, rule, deadline, occurrence): a crash between the commit and anything else can never
 * send twice, and a commit that did not happen leaves the watch where it was. */
#include "scheduler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "log.h"
#include "template.h"

#define LOGGED_GAPS 256 /* (unit, tier) pairs already reported empty */

struct scheduler {
	uv_loop_t *loop;
	uv_timer_t timer;
	struct store *store;
	const struct config *cfg;
	int64_t armed_at; /* the instant the timer is armed for, TIME_NONE when not */
	uint64_t logged_gaps[LOGGED_GAPS]; /* hashes of (unit, tier) reported with nobody */
	size_t nlogged_gaps;
	void (*close_cb)(void *);
	void *close_arg;
};

/* What the engine needs of any item. */
struct tracked {
	const char *kind;       /* "case", "document", "assignment" */
	enum escalation_kind rules;
	enum template_item item;
	int64_t id;
	bool open;
	bool clock_stopped;     /* a paused case */
	struct escalation_item times;
	const char *unit;
	const char *procedure;  /* cases */
	const char *handler;    /* person id or "" */
	const char *code;       /* case code, document symbol (or number), an assignment's source
	                         * document's symbol ("" without one: see load()) */
	const char *key;        /* what links and logs name it by: the code, an assignment's id */
	const char *title;      /* procedure name, document summary, assignment title */
	const char *issuer;     /* documents: the issuing body */
	const char *applicant;
	bool extended;
	bool is_new;            /* created in the open transaction: nothing of it acknowledged */
	char keybuf[32];
};

static int64_t wall_now(void)
{
	return (int64_t)time(NULL);
}

/* --- arming --------------------------------------------------------------------------- */

static void on_timer(uv_timer_t *t);

/* The next digest instant after `after`: digest_at on the next working day. */
static int64_t next_digest(const struct config *cfg, int64_t after)
{
	struct calendar *cal = cfg->calendar;
	int32_t day = calendar_day_of(cal, after);

	for (int i = 0; i < 400; i++, day++) {
		int64_t t = calendar_instant_of(cal, day, cfg->escalation.digest_at_min);
		if (t > after && calendar_is_working_day(cal, day))
			return t;
	}
	return TIME_NONE;
}

/* Arms the timer for `at` (TIME_NONE: only the periodic wake-up) unless it is armed earlier. */
static void arm(struct scheduler *s, int64_t at, bool force)
{
	int64_t now = wall_now();
	uint64_t ms;

	/* An instant already past fires at once even when the timer is armed for an earlier
	 * one: after the wall clock stepped forward, that timer may still be a minute away. */
	if (!force && s->armed_at != TIME_NONE && at != TIME_NONE && at >= s->armed_at && at > now)
		return;
	if (at == TIME_NONE || at > now + SCHEDULER_MAX_SLEEP_MS / 1000)
		at = now + SCHEDULER_MAX_SLEEP_MS / 1000;
	/* Never 0: libuv 1.44 runs a 0 ms timer re-armed from its own callback again before any
	 * I/O, so a long burst of alerts would starve the HTTP server. */
	ms = at <= now ? 1 : (uint64_t)(at - now) * 1000;
	s->armed_at = at;
	uv_timer_start(&s->timer, on_timer, ms, 0);
}

static int tracked_use(struct scheduler *s, const struct tracked *it, bool *use,
		       struct err *err);

/* Writes the item's watch: its next firing after `after`. */
static int put_watch(struct scheduler *s, const struct tracked *it, int64_t checked_until,
		     struct err *err)
{
	const struct config *cfg = s->cfg;
	size_t n = cfg->escalation.nrules[it->rules];
	bool use[64] = { false };
	struct escalation_fire next;
	struct store_watch w = { it->kind, it->id, it->times.due_at, TIME_NONE, checked_until };

	if (n > 64)
		n = 64;
	if (tracked_use(s, it, use, err) != 0)
		return -1;
	if (!it->clock_stopped &&
	    escalation_next(cfg->calendar, cfg->escalation.rules[it->rules], n, use, &it->times,
			    checked_until, &next))
		w.next_fire_at = next.at;
	if (store_watch_put(s->store, &w, err) != STORE_OK)
		return -1;
	if (w.next_fire_at != TIME_NONE)
		arm(s, w.next_fire_at, false);
	return 0;
}

/* Which rules apply to the item: unit and procedure filters, and repeating rules already
 * acknowledged for this deadline. */
static int tracked_use(struct scheduler *s, const struct tracked *it, bool *use, struct err *err)
{
	const struct config *cfg = s->cfg;
	const struct escalation_rule *rules = cfg->escalation.rules[it->rules];
	size_t n = cfg->escalation.nrules[it->rules];

	for (size_t i = 0; i < n && i < 64; i++) {
		const struct escalation_rule *r = &rules[i];
		bool ok = r->nunits == 0, acked = false;

		for (size_t k = 0; k < r->nunits && !ok && it->unit; k++) {
			/* the unit or one of its ancestors is listed */
			const struct config_unit *u = config_unit(cfg, it->unit);
			for (size_t depth = 0; u && depth <= cfg->nunits && !ok; depth++) {
				ok = strcmp(u->id, r->units[k]) == 0;
				u = u->parent ? config_unit(cfg, u->parent) : NULL;
			}
		}
		if (ok && r->nprocedures) {
			ok = false;
			for (size_t k = 0; k < r->nprocedures && it->procedure; k++)
				ok = ok || strcmp(r->procedures[k], it->procedure) == 0;
		}
		/* a new case's alerts cannot exist yet: no query per repeating rule for it */
		if (ok && r->repeat > 0 && !it->is_new) {
			if (store_alert_acked(s->store, it->kind, it->id, r->id, it->times.due_at, &acked,
					      err) != STORE_OK)
				return -1;
			ok = !acked;
		}
		use[i] = ok;
	}
	return 0;
}

static int track(struct scheduler *s, const struct tracked *it, struct err *err)
{
	struct store_watch w;
	enum store_status st;

	if (!it->open)
		return store_watch_delete(s->store, it->kind, it->id, err) == STORE_OK ? 0 : -1;
	st = store_watch_get(s->store, it->kind, it->id, &w, err);
	if (st != STORE_OK && st != STORE_NOT_FOUND)
		return -1;
	/* The same deadline keeps what already fired; a new one re-arms every rule. */
	return put_watch(s, it, st == STORE_OK && w.due_at == it->times.due_at ? w.checked_until
									       : TIME_NONE, err);
}

static void from_case(struct tracked *it, const struct case_record *c, const struct config *cfg)
{
	const struct config_procedure *p = config_procedure(cfg, c->procedure);

	*it = (struct tracked){
		.kind = "case", .rules = ESCALATION_CASES, .item = TEMPLATE_ITEM_CASE, .id = c->id,
		.open = case_is_open(c->status),
		.clock_stopped = c->status == CASE_PAUSED,
		.times = { c->received_at, c->due_at, c->paused_total },
		.unit = c->unit, .procedure = c->procedure, .handler = c->handler, .code = c->code,
		.key = c->code, .title = p ? p->name : c->procedure, .applicant = c->applicant,
		.issuer = "",
		.extended = c->extended,
	};
}

static void from_document(struct tracked *it, const struct document_record *d)
{
	*it = (struct tracked){
		.kind = "document", .rules = ESCALATION_DOCUMENTS, .item = TEMPLATE_ITEM_DOCUMENT,
		.id = d->id,
		.open = d->status != DOCUMENT_DONE, .times = { d->received_at, d->due_at, 0 },
		.unit = d->lead_unit[0] ? d->lead_unit : NULL, .handler = "", .title = d->summary,
		.applicant = "", .issuer = d->issuer,
	};
	if (d->symbol[0]) {
		it->code = d->symbol;
	} else {
		snprintf(it->keybuf, sizeof(it->keybuf), "%lld", (long long)d->id);
		it->code = it->keybuf;
	}
	it->key = it->code;
}

static void from_assignment(struct tracked *it, const struct assignment_record *a)
{
	*it = (struct tracked){
		.kind = "assignment", .rules = ESCALATION_ASSIGNMENTS,
		.item = TEMPLATE_ITEM_ASSIGNMENT, .id = a->id,
		.open = a->status == ASSIGNMENT_OPEN, .times = { a->created_at, a->due_at, 0 },
		.unit = a->unit, .handler = a->assignee, .code = "", .title = a->title,
		.applicant = "", .issuer = "",
	};
	snprintf(it->keybuf, sizeof(it->keybuf), "%lld", (long long)a->id);
	it->key = it->keybuf;
}

int scheduler_track_case(struct scheduler *s, const struct case_record *c, int64_t now,
			 struct err *err)
{
	struct tracked it;

	(void)now;
	from_case(&it, c, s->cfg);
	return track(s, &it, err);
}

int scheduler_track_new_case(struct scheduler *s, const struct case_record *c, struct err *err)
{
	struct tracked it;

	from_case(&it, c, s->cfg);
	it.is_new = true;
	return it.open ? put_watch(s, &it, TIME_NONE, err) : 0;
}

int scheduler_track_document(struct scheduler *s, const struct document_record *d, int64_t now,
			     struct err *err)
{
	struct tracked it;

	(void)now;
	from_document(&it, d);
	return track(s, &it, err);
}

int scheduler_track_assignment(struct scheduler *s, const struct assignment_record *a,
			       int64_t now, struct err *err)
{
	struct tracked it;

	(void)now;
	from_assignment(&it, a);
	return track(s, &it, err);
}

/* --- recipients ------------------------------------------------------------------------ */

#define MAX_RECIPIENTS 32

struct recipients {
	const struct config_person *people[MAX_RECIPIENTS];
	size_t npeople;
	const char *channels[MAX_RECIPIENTS];
	size_t nchannels;
};

static void add_person(struct recipients *r, const struct config_person *p)
{
	for (size_t i = 0; i < r->npeople; i++)
		if (r->people[i] == p)
			return;
	if (r->npeople < MAX_RECIPIENTS)
		r->people[r->npeople++] = p;
}

static void add_channel(struct recipients *r, const char *id)
{
	for (size_t i = 0; i < r->nchannels; i++)
		if (strcmp(r->channels[i], id) == 0)
			return;
	if (r->nchannels < MAX_RECIPIENTS)
		r->channels[r->nchannels++] = id;
}

/* The head of the unit, or of the first ancestor that has one (a tier with nobody in it falls
 * back to the next tier up). */
static const struct config_person *head_from(const struct config *cfg, const char *unit,
					     bool skip_first)
{
	const struct config_unit *u = unit ? config_unit(cfg, unit) : NULL;

	for (size_t depth = 0; u && depth <= cfg->nunits; depth++) {
		if (!(skip_first && depth == 0) && u->head) {
			const struct config_person *p = config_person(cfg, u->head);
			if (p)
				return p;
		}
		u = u->parent ? config_unit(cfg, u->parent) : NULL;
	}
	return NULL;
}

/* Logs once per unit and tier that nobody could be found to warn. */
static void log_gap(struct scheduler *s, const struct escalation_rule *rule,
		    const struct tracked *it, const char *tier)
{
	const char *unit = it->unit ? it->unit : "";
	uint64_t h = 1469598103934665603ULL; /* FNV-1a of "unit\0tier" */

	for (const char *p = unit;; p++) {
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
		if (!*p)
			break;
	}
	for (const char *p = tier; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	for (size_t i = 0; i < s->nlogged_gaps; i++)
		if (s->logged_gaps[i] == h)
			return;
	if (s->nlogged_gaps < LOGGED_GAPS)
		s->logged_gaps[s->nlogged_gaps++] = h;
	log_warn("escalation: nobody to warn in tier %s for unit %s (rule %s of %s %s); "
		 "give the unit or one above it a head", tier, *unit ? unit : "(none)", rule->id,
		 it->kind, it->key);
}

static void resolve(struct scheduler *s, const struct escalation_rule *rule,
		    const struct tracked *it, struct recipients *r)
{
	const struct config *cfg = s->cfg;

	for (size_t i = 0; i < rule->nnotify; i++) {
		const char *tier = rule->notify[i];
		const struct config_person *p = NULL;

		if (strncmp(tier, "person:", 7) == 0) {
			p = config_person(cfg, tier + 7);
		} else if (strncmp(tier, "channel:", 8) == 0) {
			add_channel(r, tier + 8);
			continue;
		} else if (strcmp(tier, "handler") == 0) {
			p = it->handler && *it->handler ? config_person(cfg, it->handler) : NULL;
			if (!p)
				p = head_from(cfg, it->unit, false);
		} else if (strcmp(tier, "head") == 0) {
			p = head_from(cfg, it->unit, false);
		} else if (strcmp(tier, "leader") == 0) {
			p = head_from(cfg, it->unit, true);
			if (!p)
				p = head_from(cfg, it->unit, false);
		}
		if (p)
			add_person(r, p);
		else
			log_gap(s, rule, it, tier);
	}
	if (rule->channels & ESCALATION_CHAT) {
		const struct config_unit *u = it->unit ? config_unit(cfg, it->unit) : NULL;
		for (size_t i = 0; u && i < u->nchannels; i++)
			add_channel(r, u->channels[i]);
	}
}

/* --- rendering ---------------------------------------------------------------------------- */

/* How long after the deadline a `due` rule's message may still say "at 10:00 today": rules
 * fire a few seconds after their instant and instants are shown to the minute, so within the
 * deadline's first minute that is still true. */
#define DUE_GRACE 60

/* Whether a message of rule r about it, delivered at `at`, is read after the deadline: it then
 * says the item is overdue whatever the rule's phase (a message held past the deadline, or an
 * item registered already late). */
static bool read_late(const struct tracked *it, const struct escalation_rule *r, int64_t at)
{
	return at >= it->times.due_at + (r->when == ESCALATION_DUE ? DUE_GRACE : 0);
}

/* The text of rule r's message: by the rule's phase — before or at the due, or after it — and
 * by the item's kind; `late` (read_late) is the after phase whatever the rule. */
static enum template_kind template_of(const struct tracked *it, const struct escalation_rule *r,
				      bool late)
{
	bool after = late || r->when == ESCALATION_AFTER;

	if (it->rules == ESCALATION_DOCUMENTS)
		return after ? TEMPLATE_DOCUMENT_OVERDUE : TEMPLATE_DOCUMENT_DUE;
	if (it->rules == ESCALATION_ASSIGNMENTS)
		return after ? TEMPLATE_ASSIGNMENT_OVERDUE : TEMPLATE_ASSIGNMENT_DUE;
	if (after)
		return TEMPLATE_OVERDUE;
	switch (r->when) {
	case ESCALATION_PERCENT:
		return TEMPLATE_PERCENT;
	case ESCALATION_BEFORE:
		return TEMPLATE_BEFORE;
	case ESCALATION_DUE:
		return TEMPLATE_DUE;
	default:
		return TEMPLATE_OVERDUE;
	}
}

struct message_vars {
	char received[TEMPLATE_INSTANT_MAX], due[TEMPLATE_INSTANT_MAX], due_time[16];
	char left[TEMPLATE_DURATION_MAX], overdue[TEMPLATE_DURATION_MAX];
	char percent[TEMPLATE_PERCENT_MAX], link[1024], salutation[400];
	struct template_var v[24];
	size_t n;
};

static void set_var(struct message_vars *m, const char *name, const char *value)
{
	if (m->n < sizeof(m->v) / sizeof(m->v[0]))
		m->v[m->n++] = (struct template_var){ name, value };
}

/* The name of the top of the unit tree above unit: the office that signs the messages. */
static const char *root_name(const struct config *cfg, const char *unit)
{
	const struct config_unit *u = config_root_of(cfg, unit ? config_unit(cfg, unit) : NULL);

	return u ? u->name : "";
}

/* The values of a message about it read at `at` (the instant it is delivered: what is left,
 * overdue or used is that of the moment it is read), to person `to` (NULL: a chat line). */
static void fill_vars(const struct config *cfg, const struct tracked *it, int64_t at,
		      const struct config_person *to, struct message_vars *m)
{
	struct calendar *cal = cfg->calendar;
	const struct template_set *set = cfg->escalation.template_set;
	enum template_lang lang = template_set_lang(set);
	const struct config_unit *u = it->unit ? config_unit(cfg, it->unit) : NULL;
	const struct config_person *h = it->handler && *it->handler ? config_person(cfg, it->handler)
								   : NULL;
	int64_t left = calendar_between(cal, at, it->times.due_at);
	int64_t allotted = calendar_between(cal, it->times.start, it->times.due_at) -
			   it->times.paused_total;
	int64_t used = calendar_between(cal, it->times.start, at) - it->times.paused_total;
	bool today = calendar_day_of(cal, at) == calendar_day_of(cal, it->times.due_at);
	static const char *const collections[] = { "cases", "documents", "assignments" };

	m->n = 0;
	template_format_instant(cal, it->times.start, lang, m->received, sizeof(m->received));
	template_format_instant(cal, it->times.due_at, lang, m->due, sizeof(m->due));
	template_format_clock(cal, it->times.due_at, m->due_time, sizeof(m->due_time));
	/* Nothing left (at the due, or read after it) is no "còn 0 phút": the templates then say
	 * the item is due or overdue. */
	m->left[0] = '\0';
	if (left > 0)
		template_format_duration(left, calendar_day_seconds(cal), TEMPLATE_ROUND_UP, lang,
					 m->left, sizeof(m->left));
	/* Past the deadline with no working time since (read after office hours): no "0 phút",
	 * the templates then name the deadline instead. */
	m->overdue[0] = '\0';
	if (left < 0)
		template_format_duration(-left, calendar_day_seconds(cal), TEMPLATE_ROUND_DOWN, lang,
					 m->overdue, sizeof(m->overdue));
	template_format_percent(allotted > 0 ? 100.0 * (double)used / (double)allotted : 100.0, 0,
				lang, m->percent, sizeof(m->percent));
	m->link[0] = '\0';
	if (cfg->escalation.link_base)
		template_format_link(cfg->escalation.link_base, collections[it->rules], it->key,
				     m->link, sizeof(m->link));
	m->salutation[0] = '\0';
	if (to)
		template_format_salutation(to->title, to->name, lang, m->salutation,
					   sizeof(m->salutation));
	set_var(m, "item_kind", template_item_noun(it->item, lang));
	set_var(m, "code", it->code);
	set_var(m, "title", it->title);
	set_var(m, "applicant", it->applicant);
	set_var(m, "issuer", it->issuer);
	set_var(m, "unit", u ? u->name : "");
	set_var(m, "handler", h ? h->name : "");
	set_var(m, "recipient_salutation", m->salutation);
	set_var(m, "received_at", m->received);
	set_var(m, "due_at", m->due);
	set_var(m, "due_time", m->due_time);
	set_var(m, "due_today", today ? "1" : "");
	set_var(m, "left", m->left);
	set_var(m, "overdue_by", m->overdue);
	set_var(m, "overdue", at >= it->times.due_at ? "1" : "");
	set_var(m, "percent_used", m->percent);
	set_var(m, "extended", it->extended ? "1" : "");
	set_var(m, "link", m->link);
	set_var(m, "office_name", root_name(cfg, it->unit));
}

static int render(const struct config *cfg, enum template_kind kind, enum template_part part,
		  const struct message_vars *m, char **out, struct err *err)
{
	const struct template_vars vars = { m->v, m->n, NULL, 0 };

	return template_render(cfg->escalation.template_set, kind, part, &vars, out, err);
}

static const char *severity_of(const struct escalation_rule *r)
{
	switch (r->when) {
	case ESCALATION_PERCENT:
		return "info";
	case ESCALATION_BEFORE:
		return "warning";
	case ESCALATION_DUE:
		return "due";
	default:
		return "overdue";
	}
}

/* What the message is about, as JSON for payloads that carry more than text (json chat
 * channels, docs/webhooks.md); frozen with the alert like the text. Caller frees. */
static char *facts_of(const struct config *cfg, const struct tracked *it,
		      const struct escalation_rule *rule, const struct message_vars *m)
{
	const struct config_unit *u = it->unit ? config_unit(cfg, it->unit) : NULL;
	const struct config_person *h = it->handler && *it->handler ? config_person(cfg, it->handler)
								   : NULL;
	char due[64];
	json_t *j;
	char *text;

	calendar_format(cfg->calendar, it->times.due_at, due, sizeof(due));
	j = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:o, s:o, s:s, s:o}", "rule", rule->id,
		      "severity", severity_of(rule), "kind", it->kind, "code", it->key,
		      "summary", it->title,
		      "unit", u ? json_pack("{s:s, s:s}", "id", u->id, "name", u->name) : json_null(),
		      "handler", h ? json_pack("{s:s, s:s}", "id", h->id, "name", h->name)
				   : json_null(),
		      "due_at", due, "link", m->link[0] ? json_string(m->link) : json_null());
	text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return text;
}

/* The outbox rows of one alert: an e-mail per person (held for digest readers unless urgent),
 * a chat line per channel. */
static int write_messages(struct scheduler *s, const struct tracked *it,
			  const struct escalation_rule *rule, int64_t alert_id, int64_t now,
			  struct err *err)
{
	const struct config *cfg = s->cfg;
	enum template_kind kind;
	int64_t not_before = cfg->escalation.hold_outside_office_hours
				     ? calendar_next_open(cfg->calendar, now) : now;
	struct recipients r = { 0 };
	struct message_vars m;
	int rc = -1;

	resolve(s, rule, it, &r);
	for (size_t i = 0; i < r.npeople && (rule->channels & ESCALATION_EMAIL); i++) {
		const struct config_person *p = r.people[i];
		char *subject = NULL, *text = NULL, *html = NULL;
		bool held = p->digest && !rule->urgent;
		int64_t at = held ? now : not_before; /* when it is read: written for then */

		if (!p->email) {
			log_warn("escalation: %s has no e-mail address; rule %s of %s %lld not mailed",
				 p->id, rule->id, it->kind, (long long)it->id);
			continue;
		}
		kind = template_of(it, rule, read_late(it, rule, at));
		fill_vars(cfg, it, at, p, &m);
		if (render(cfg, kind, TEMPLATE_SUBJECT, &m, &subject, err) == 0 &&
		    render(cfg, kind, TEMPLATE_TEXT, &m, &text, err) == 0 &&
		    render(cfg, kind, TEMPLATE_HTML, &m, &html, err) == 0) {
			struct store_outbox o = {
				.alert_id = alert_id, .channel = "email", .recipient = p->id,
				.address = p->email, .subject = subject, .body_text = text,
				.body_html = html, .status = held ? "held" : "pending",
				.not_before = held ? now : not_before, .created_at = now,
			};
			rc = store_outbox_insert(s->store, &o, err) == STORE_OK ? 0 : -1;
		} else {
			rc = -1;
		}
		free(subject);
		free(text);
		free(html);
		if (rc != 0)
			return -1;
	}
	for (size_t i = 0; i < r.nchannels; i++) {
		char *line = NULL, *facts;

		kind = template_of(it, rule, read_late(it, rule, not_before));
		fill_vars(cfg, it, not_before, NULL, &m);
		if (render(cfg, kind, TEMPLATE_CHAT, &m, &line, err) != 0)
			return -1;
		if (!(facts = facts_of(cfg, it, rule, &m))) {
			free(line);
			return err_set(err, NULL, "out of memory");
		}
		struct store_outbox o = {
			.alert_id = alert_id, .channel = "chat", .recipient = r.channels[i],
			.subject = line, .body_text = line, .status = "pending",
			.not_before = not_before, .created_at = now, .facts = facts,
		};
		rc = store_outbox_insert(s->store, &o, err) == STORE_OK ? 0 : -1;
		free(line);
		free(facts);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* --- firing ---------------------------------------------------------------------------- */

/* An assignment's `code` is its source document's symbol (docs/templates.md), read into d;
 * an assignment given by a leader's direction, or whose document has no symbol, has none. */
static int assignment_source(struct scheduler *s, const struct assignment_record *a,
			     struct document_record *d, struct tracked *it, struct err *err)
{
	enum store_status st;

	if (a->document_id <= 0)
		return 0;
	st = store_document_get(s->store, a->document_id, d, err);
	if (st == STORE_OK)
		it->code = d->symbol;
	return st == STORE_OK || st == STORE_NOT_FOUND ? 0 : -1;
}

static int load(struct scheduler *s, const char *kind, int64_t id, struct tracked *it,
		struct case_record *c, struct document_record *d, struct assignment_record *a,
		int64_t now, struct err *err)
{
	enum store_status st;

	if (strcmp(kind, "case") == 0) {
		if ((st = store_case_get_id(s->store, id, c, err)) == STORE_OK)
			from_case(it, c, s->cfg);
	} else if (strcmp(kind, "document") == 0) {
		if ((st = store_document_get(s->store, id, d, err)) == STORE_OK)
			from_document(it, d);
	} else {
		if ((st = store_assignment_get(s->store, id, now, a, err)) == STORE_OK) {
			from_assignment(it, a);
			if (assignment_source(s, a, d, it, err) != 0)
				return -1;
		}
	}
	if (st == STORE_NOT_FOUND) {
		it->kind = kind;
		it->id = id;
		it->open = false;
		return 0;
	}
	return st == STORE_OK ? 0 : -1;
}

static int fire_item(struct scheduler *s, const struct store_watch *w, int64_t now,
		     struct err *err)
{
	const struct config *cfg = s->cfg;
	struct case_record c;
	struct document_record d;
	struct assignment_record a;
	struct tracked it;
	bool use[64] = { false };
	struct escalation_fire f;
	size_t n;

	if (load(s, w->item_kind, w->item_id, &it, &c, &d, &a, now, err) != 0)
		return -1;
	if (!it.open || it.times.due_at != w->due_at)
		return track(s, &it, err); /* changed behind the watch's back: re-arm */
	n = cfg->escalation.nrules[it.rules];
	if (n > 64)
		n = 64;
	if (tracked_use(s, &it, use, err) != 0)
		return -1;
	if (!it.clock_stopped &&
	    escalation_latest(cfg->calendar, cfg->escalation.rules[it.rules], n, use, &it.times,
			      w->checked_until, now, &f)) {
		const struct escalation_rule *rule = &cfg->escalation.rules[it.rules][f.rule];
		struct store_alert al = {
			.item_kind = it.kind, .item_id = it.id, .rule_id = rule->id,
			.due_at = it.times.due_at, .occurrence = f.occurrence, .fire_at = f.at,
			.fired_at = now, .unit = it.unit, .urgent = rule->urgent,
		};
		bool inserted = false;

		if (store_alert_insert(s->store, &al, &inserted, err) != STORE_OK)
			return -1;
		if (inserted && write_messages(s, &it, rule, al.id, now, err) != 0)
			return -1;
		if (inserted)
			log_info("escalation: %s %s: rule %s fired", it.kind, it.key, rule->id);
	}
	return put_watch(s, &it, now, err);
}

struct chunk {
	struct store_watch rows[SCHEDULER_CHUNK];
	char kinds[SCHEDULER_CHUNK][16];
	int n;
};

static int collect_due(void *ctx, const struct store_watch *w)
{
	struct chunk *c = ctx;

	snprintf(c->kinds[c->n], sizeof(c->kinds[0]), "%s", w->item_kind);
	c->rows[c->n] = *w;
	c->rows[c->n].item_kind = c->kinds[c->n];
	c->n++;
	return 0;
}

/* Sends each digest reader one message listing what was held for them. */
static int write_digests(struct scheduler *s, int64_t now, struct err *err);

static void on_timer(uv_timer_t *t)
{
	struct scheduler *s = t->data;
	int64_t now = wall_now(), next = TIME_NONE;
	struct chunk *c = calloc(1, sizeof(*c));
	struct err err;
	bool failed = false;

	s->armed_at = TIME_NONE;
	if (!c || store_begin(s->store, &err) != STORE_OK) {
		log_error("scheduler: cannot start: %s", c ? err.msg : "out of memory");
		free(c);
		arm(s, now + 1, true);
		return;
	}
	if (store_watch_due(s->store, now, SCHEDULER_CHUNK, collect_due, c, &err) != STORE_OK)
		failed = true;
	for (int i = 0; i < c->n && !failed; i++) {
		if (store_savepoint(s->store, &err) != STORE_OK) {
			failed = true;
			break;
		}
		if (fire_item(s, &c->rows[i], now, &err) != 0) {
			/* One item's failure must not hold the others back: skip it for a while. */
			log_error("scheduler: %s %lld: %s", c->rows[i].item_kind,
				  (long long)c->rows[i].item_id, err.msg);
			store_rollback_to_savepoint(s->store);
			struct store_watch later = c->rows[i];
			later.next_fire_at = now + 60;
			store_watch_put(s->store, &later, &err);
		} else if (store_release(s->store, &err) != STORE_OK) {
			failed = true;
		}
	}
	if (!failed && s->cfg->escalation.template_set && write_digests(s, now, &err) != 0)
		log_error("scheduler: digests: %s", err.msg);
	if (failed) {
		log_error("scheduler: %s", err.msg);
		store_rollback(s->store);
	} else if (store_commit(s->store, &err) != STORE_OK) {
		log_error("scheduler: commit failed: %s", err.msg);
	}
	if (store_watch_next(s->store, &next, &err) != STORE_OK)
		next = now + 1;
	if (c->n == SCHEDULER_CHUNK)
		next = now; /* more are due: yield to the loop, then go on */
	free(c);
	if (s->cfg->escalation.template_set) {
		int64_t digest = next_digest(s->cfg, now);
		if (digest != TIME_NONE && (next == TIME_NONE || digest < next))
			next = digest;
	}
	arm(s, next, true);
}

/* --- digests ------------------------------------------------------------------------------ */

#define DIGEST_MAX_ROWS 200
#define DIGEST_ROW_VARS 20

/* One item of a digest, with the variables of its row. The values point into the row itself
 * (m's buffers, the records it was loaded into), so rows never move once filled: the digest
 * orders pointers to them. */
struct digest_row {
	char kind[16];
	int64_t item_id;
	bool overdue;
	char unit[80];
	struct message_vars m;
	struct template_var cells[DIGEST_ROW_VARS];
	struct template_row row;
	struct tracked it;
	struct case_record c;
	struct document_record d;
	struct assignment_record a;
};

struct digest {
	struct scheduler *s;
	int64_t now;
	struct digest_row *rows;
	size_t n;
	int64_t max_id;
	int failed;
	struct err *err;
};

static int note_alert(void *ctx, const struct store_alert *al)
{
	struct digest_row *r = ctx;

	snprintf(r->kind, sizeof(r->kind), "%s", al->item_kind);
	r->item_id = al->item_id;
	return 1;
}

/* A held message becomes a row for its item (one row per item, whatever its alerts). */
static int collect_held(void *ctx, const struct store_outbox *o)
{
	struct digest *d = ctx;
	struct digest_row *r;

	if (o->id > d->max_id)
		d->max_id = o->id;
	if (d->n == DIGEST_MAX_ROWS || !o->alert_id)
		return 0; /* still marked digested: the digest shows the first DIGEST_MAX_ROWS */
	r = &d->rows[d->n];
	memset(r, 0, sizeof(*r));
	if (store_alert_get(d->s->store, o->alert_id, note_alert, r, d->err) != STORE_OK)
		return 0;
	for (size_t i = 0; i < d->n; i++)
		if (d->rows[i].item_id == r->item_id && strcmp(d->rows[i].kind, r->kind) == 0)
			return 0;
	if (load(d->s, r->kind, r->item_id, &r->it, &r->c, &r->d, &r->a, d->now, d->err) != 0 ||
	    !r->it.open)
		return 0;
	fill_vars(d->s->cfg, &r->it, d->now, NULL, &r->m);
	r->overdue = r->it.times.due_at <= d->now;
	snprintf(r->unit, sizeof(r->unit), "%s", r->it.unit ? r->it.unit : "");
	d->n++;
	return 0;
}

/* A row in the digest's order: the rows stay where they are, as their template values point
 * into them. */
struct row_ref {
	struct digest_row *row;
};

/* Rows grouped by unit, overdue ones first within a unit, then by due instant. */
static int compare_rows(const void *pa, const void *pb)
{
	const struct digest_row *a = ((const struct row_ref *)pa)->row;
	const struct digest_row *b = ((const struct row_ref *)pb)->row;
	int c = strcmp(a->unit, b->unit);

	if (c)
		return c;
	if (a->overdue != b->overdue)
		return a->overdue ? -1 : 1;
	return a->it.times.due_at < b->it.times.due_at ? -1 : a->it.times.due_at > b->it.times.due_at;
}

/* The variables of a row: those of the item, less what only whole messages carry, plus the
 * flag that names its kind (case_row, document_row, assignment_row) for the templates' words. */
static void row_vars(struct digest_row *r)
{
	static const char *const keep[] = { "item_kind", "code", "title", "applicant", "unit",
					    "handler", "due_at", "left", "overdue_by",
					    "percent_used", "extended", "link", "overdue" };
	static const char *const flags[TEMPLATE_ITEM_COUNT] = { "case_row", "document_row",
								 "assignment_row" };
	size_t n = 0;

	for (size_t i = 0; i < r->m.n; i++)
		for (size_t k = 0; k < sizeof(keep) / sizeof(keep[0]) && n < DIGEST_ROW_VARS - 1; k++)
			if (strcmp(r->m.v[i].name, keep[k]) == 0)
				r->cells[n++] = r->m.v[i];
	/* overdue_by shows only for overdue items: the template picks the words by `overdue` */
	for (size_t i = 0; i < n; i++)
		if (!r->overdue && (strcmp(r->cells[i].name, "overdue_by") == 0 ||
				    strcmp(r->cells[i].name, "overdue") == 0))
			r->cells[i].value = "";
	r->cells[n++] = (struct template_var){ flags[r->it.item], "1" };
	r->row = (struct template_row){ r->cells, n };
}

/* The figures of a digest's message: counts by status and kind, in numbers and in words. */
struct digest_counts {
	char soon[24], late[24], late_cases[24];
	char soon_items[128], late_items[128];
};

static void count_rows(const struct row_ref *order, size_t n, enum template_lang lang,
		       struct digest_counts *dc)
{
	size_t soon[TEMPLATE_ITEM_COUNT] = { 0 }, late[TEMPLATE_ITEM_COUNT] = { 0 };
	size_t nsoon = 0, nlate = 0;
	enum template_item first = n ? order[0].row->it.item : TEMPLATE_ITEM_CASE;

	for (size_t i = 0; i < n; i++) {
		const struct digest_row *r = order[i].row;

		if (r->it.item < first)
			first = r->it.item;
		if (r->overdue) {
			late[r->it.item]++;
			nlate++;
		} else {
			soon[r->it.item]++;
			nsoon++;
		}
	}
	snprintf(dc->soon, sizeof(dc->soon), "%zu", nsoon);
	snprintf(dc->late, sizeof(dc->late), "%zu", nlate);
	dc->late_cases[0] = '\0';
	if (late[TEMPLATE_ITEM_CASE])
		snprintf(dc->late_cases, sizeof(dc->late_cases), "%zu", late[TEMPLATE_ITEM_CASE]);
	/* "0 …" names the digest's first kind: "1 văn bản sắp đến hạn, 0 văn bản quá hạn" */
	template_format_item_counts(soon, first, lang, dc->soon_items, sizeof(dc->soon_items));
	template_format_item_counts(late, first, lang, dc->late_items, sizeof(dc->late_items));
}

static int send_digest(struct scheduler *s, const char *recipient, int64_t now, struct err *err)
{
	const struct config *cfg = s->cfg;
	const struct config_person *p = config_person(cfg, recipient);
	struct digest d = { .s = s, .now = now, .err = err };
	struct row_ref *order = NULL;
	struct template_row *rows = NULL;
	char *subject = NULL, *text = NULL, *html = NULL;
	int rc = -1;

	if (!(d.rows = calloc(DIGEST_MAX_ROWS, sizeof(*d.rows))) ||
	    !(order = calloc(DIGEST_MAX_ROWS, sizeof(*order))) ||
	    !(rows = calloc(DIGEST_MAX_ROWS, sizeof(*rows)))) {
		err_set(err, NULL, "out of memory");
		goto out;
	}
	if (store_outbox_held(s->store, recipient, collect_held, &d, err) != STORE_OK)
		goto out;
	if (p && p->email && d.n) {
		const struct template_set *set = cfg->escalation.template_set;
		enum template_lang lang = template_set_lang(set);
		const struct config_unit *u = config_unit(cfg, p->unit);
		char date[32], salutation[400], link[1024] = "";
		struct digest_counts dc;

		/* Pointers are sorted, not rows: a row's values point into the row itself. */
		for (size_t i = 0; i < d.n; i++)
			order[i].row = &d.rows[i];
		qsort(order, d.n, sizeof(*order), compare_rows);
		for (size_t i = 0; i < d.n; i++) {
			row_vars(order[i].row);
			rows[i] = order[i].row->row;
		}
		count_rows(order, d.n, lang, &dc);
		template_format_date(cfg->calendar, now, date, sizeof(date));
		template_format_salutation(p->title, p->name, lang, salutation, sizeof(salutation));
		/* the unit's list: its dashboard page, with the cases to act on (docs/dashboard.md) */
		if (cfg->escalation.link_base && u)
			template_format_link(cfg->escalation.link_base, "units", u->id, link,
					     sizeof(link));
		const struct template_var v[] = {
			{ "date", date }, { "unit", u ? u->name : "" },
			{ "recipient_salutation", salutation }, { "due_soon_count", dc.soon },
			{ "overdue_count", dc.late }, { "due_soon_items", dc.soon_items },
			{ "overdue_items", dc.late_items }, { "overdue_cases", dc.late_cases },
			{ "link", link }, { "office_name", root_name(cfg, p->unit) },
		};
		struct template_vars tv = { v, sizeof(v) / sizeof(v[0]), rows, d.n };
		if (template_render(set, TEMPLATE_DIGEST, TEMPLATE_SUBJECT, &tv, &subject, err) ||
		    template_render(set, TEMPLATE_DIGEST, TEMPLATE_TEXT, &tv, &text, err) ||
		    template_render(set, TEMPLATE_DIGEST, TEMPLATE_HTML, &tv, &html, err))
			goto out;
		struct store_outbox o = {
			.channel = "email", .recipient = p->id, .address = p->email, .subject = subject,
			.body_text = text, .body_html = html, .status = "pending", .not_before = now,
			.created_at = now,
		};
		if (store_outbox_insert(s->store, &o, err) != STORE_OK)
			goto out;
	}
	rc = store_outbox_digested(s->store, recipient, d.max_id, err) == STORE_OK ? 0 : -1;
out:
	free(subject);
	free(text);
	free(html);
	free(rows);
	free(order);
	free(d.rows);
	return rc;
}

struct digest_readers {
	char *names[1000];
	size_t n;
};

static int collect_reader(void *ctx, const char *name)
{
	struct digest_readers *r = ctx;

	if (r->n < sizeof(r->names) / sizeof(r->names[0]))
		r->names[r->n++] = strdup(name);
	return 0;
}

static int write_digests(struct scheduler *s, int64_t now, struct err *err)
{
	const struct config *cfg = s->cfg;
	struct calendar *cal = cfg->calendar;
	int32_t today = calendar_day_of(cal, now);
	struct digest_readers readers = { 0 };
	int64_t last = INT32_MIN;
	int rc = 0;

	/* Digests go out once a working day, at or after digest_at; the day of the last one is
	 * kept in the database, so a restart neither repeats nor skips it. */
	if (!calendar_is_working_day(cal, today) ||
	    now < calendar_instant_of(cal, today, cfg->escalation.digest_at_min))
		return 0;
	if (store_state_get(s->store, "last_digest_day", &last, err) != STORE_OK)
		return -1;
	if (last >= today)
		return 0;
	if (store_outbox_held_recipients(s->store, collect_reader, &readers, err) != STORE_OK)
		return -1;
	for (size_t i = 0; i < readers.n && rc == 0; i++)
		rc = send_digest(s, readers.names[i], now, err);
	if (rc == 0 && store_state_put(s->store, "last_digest_day", today, err) != STORE_OK)
		rc = -1;
	for (size_t i = 0; i < readers.n; i++)
		free(readers.names[i]);
	return rc;
}

/* --- lifecycle ----------------------------------------------------------------------------- */

struct scheduler *scheduler_new(uv_loop_t *loop, struct store *store, const struct config *cfg,
				struct err *err)
{
	struct scheduler *s = calloc(1, sizeof(*s));
	int rc;

	if (!s) {
		err_set(err, NULL, "out of memory");
		return NULL;
	}
	s->loop = loop;
	s->store = store;
	s->cfg = cfg;
	s->armed_at = TIME_NONE;
	if ((rc = uv_timer_init(loop, &s->timer)) != 0) {
		err_set(err, NULL, "cannot create the scheduler's timer: %s", uv_strerror(rc));
		free(s);
		return NULL;
	}
	s->timer.data = s;
	arm(s, wall_now(), true); /* catch up at once with whatever came due while stopped */
	return s;
}

void scheduler_set_config(struct scheduler *s, const struct config *cfg)
{
	s->cfg = cfg;
	arm(s, wall_now(), true);
}

static void on_closed(uv_handle_t *h)
{
	struct scheduler *s = h->data;
	void (*cb)(void *) = s->close_cb;
	void *arg = s->close_arg;

	free(s);
	if (cb)
		cb(arg);
}

void scheduler_close(struct scheduler *s, void (*cb)(void *arg), void *arg)
{
	s->close_cb = cb;
	s->close_arg = arg;
	uv_timer_stop(&s->timer);
	uv_close((uv_handle_t *)&s->timer, on_closed);
}
