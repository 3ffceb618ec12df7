/* deliver: the outbox's sender (see deliver.h).
 *
 * DESIGN: delivery works in turns, each one transaction on the timer: it records the outcomes
 * of the transfers that ended since the last turn (an attempt row and the outbox row's new
 * state each, a few statements for all), reads the next due rows and starts them, then
 * commits. The rows being sent are claimed in memory (d->out, d->done), not in the database: a
 * claim written as `sending` cost a row rewrite and two index changes a message (a third of
 * SQLite's work), and told a restart nothing that `pending` does not. Each message is built —
 * mail.c for e-mail, webhook.c for chat — and handed to a curl_thread (SMTP; HTTPS), whose
 * curl_uv runs at most a channel's max_connections at once and queues the rest, or to the
 * thread pool (the .eml file transport, which fsyncs). Completions only keep their outcome and ask for a turn:
 * at once when a batch has gathered (or few transfers are left in flight), else within
 * DELIVER_FLUSH_MS. So a commit (and its fsync) serves dozens of messages, and the window of
 * claimed rows keeps curl's queues fed between turns.
 * A crash before an outcome is committed leaves its row `pending`: it is sent again after the
 * restart, with the same identity. A row is claimed only from `pending` and never while this
 * process has a transfer or an unwritten outcome for it, and its outcome is written before
 * (or in the same transaction as) any later claim, so a row the database says is `sent` is
 * never sent again. Should a commit fail, the outcomes are kept for the next turn. */
#include "deliver.h"

#include <curl/curl.h>
#include <jansson.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "curl_uv.h"
#include "log.h"
#include "mail.h"
#include "path.h"
#include "curl_thread.h"
#include "webhook.h"

#define EXCERPT_MAX 512
#define REPLY_MAX (EXCERPT_MAX + 160)
#define SPARE_HANDLES DELIVER_MAX_INFLIGHT /* idle easy handles kept for the next webhooks */

struct transfer;

/* Transfers in one state, oldest first. */
struct transfer_list {
	struct transfer *head, *tail;
	unsigned n;
};

struct deliver {
	uv_loop_t *loop;
	uv_timer_t timer;
	struct store *store;
	const struct config *cfg;
	struct curl_thread *web;   /* webhooks, on a thread of their own */
	struct curl_thread *smtp;  /* e-mail, on a thread of its own (curl_thread.h says why) */
	struct wal_sync *sync;     /* syncs the outcomes' commits off the loop, or NULL */
	struct transfer_list out;  /* claimed, not ended: in a curl_thread or the thread pool */
	struct transfer_list done; /* ended, outcome not yet written */
	bool closing;
	uint64_t rng;      /* xorshift state for the backoff's jitter */
	void (*close_cb)(void *);
	void *close_arg;
	int closed_parts;  /* the timer and the two curl_threads: 3 when all are closed */
	unsigned files;    /* file writes in the thread pool, which cannot be aborted */
	CURL *spare[SPARE_HANDLES]; /* easy handles of ended webhooks, set up again for the next */
	unsigned nspare;
	/* Claims: every row claimed is at or before (last_due, last_id) in the claim's order
	 * (due, id), or in `claimed`, the ids of d->out and d->done that a rescan leaves out. A
	 * turn claims after that point; a row that became due behind it (added with an early
	 * not_before, retried by hand, skipped) is found by a rescan, at most DELIVER_POLL_MS
	 * later (or at once after deliver_poke). */
	int64_t last_due, last_id;
	uint64_t rescan_at;  /* uv_now of the next rescan */
	int64_t *claimed;
	size_t nclaimed_max;
	struct store_outcome *outcomes; /* what a turn writes, d->done's */
	size_t noutcomes_max;
	unsigned retrying; /* of the outcomes this turn wrote, rows due again (back to pending) */
	struct transfer *idle; /* ended transfers kept for the next messages (next-linked) */
	unsigned nidle;
	char salt[24];     /* this installation's, mixed into every Message-ID */
};

/* One message being sent, then its outcome until it is written. */
struct transfer {
	struct deliver *d;
	struct transfer *prev, *next; /* in d->out, then d->done */
	int64_t outbox_id;
	int64_t attempt;    /* 1-based number of this attempt */
	int64_t round_base; /* attempts made before the last manual retry */
	int64_t created_at; /* or the last manual retry: where max_age counts from */
	int64_t started_at;
	bool webhook;
	enum webhook_type type;
	char *data;         /* the e-mail */
	size_t len, sent;
	struct webhook_request req;
	struct curl_slist *list; /* recipients (SMTP) or headers (HTTP) */
	char excerpt[EXCERPT_MAX];
	size_t excerpt_len;
	char retry_after[64];
	char errbuf[CURL_ERROR_SIZE];
	char *dir;          /* file transport */
	char name[64];
	int file_rc;
	char file_err[512];
	uv_work_t work;
	/* The outcome, once ended. */
	enum webhook_outcome outcome;
	int64_t retry_at, finished_at;
	long curl_code;
	char reply[REPLY_MAX];
};

static int64_t wall_now(void)
{
	return (int64_t)time(NULL);
}

static void on_timer(uv_timer_t *h);
static void part_closed(struct deliver *d);

static void list_push(struct transfer_list *l, struct transfer *t)
{
	t->next = NULL;
	t->prev = l->tail;
	if (l->tail)
		l->tail->next = t;
	else
		l->head = t;
	l->tail = t;
	l->n++;
}

static void list_unlink(struct transfer_list *l, struct transfer *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		l->head = t->next;
	if (t->next)
		t->next->prev = t->prev;
	else
		l->tail = t->prev;
	t->prev = t->next = NULL;
	l->n--;
}

static void arm(struct deliver *d, uint64_t ms)
{
	if (!d->closing && uv_timer_start(&d->timer, on_timer, ms, 0) != 0)
		log_error("deliver: cannot arm the delivery timer");
}

/* A turn within ms: an earlier one already armed stays. */
static void arm_within(struct deliver *d, uint64_t ms)
{
	if (uv_is_active((uv_handle_t *)&d->timer) && uv_timer_get_due_in(&d->timer) <= ms)
		return;
	arm(d, ms);
}

/* A transfer's own allocations go; the struct itself (1.4 kB: malloc's slow path, not its
 * per-thread cache) is kept for the next message, up to the window. */
static void transfer_free(struct transfer *t)
{
	struct deliver *d;

	if (!t)
		return;
	d = t->d;
	free(t->data);
	free(t->dir);
	webhook_request_free(&t->req);
	curl_slist_free_all(t->list);
	if (d->closing || d->nidle >= DELIVER_MAX_INFLIGHT) {
		free(t);
		return;
	}
	t->next = d->idle;
	d->idle = t;
	d->nidle++;
}

static struct transfer *transfer_new(struct deliver *d)
{
	struct transfer *t = d->idle;

	if (!t)
		return malloc(sizeof(*t));
	d->idle = t->next;
	d->nidle--;
	return t;
}

/* An easy handle: a spare one of an ended webhook (every option the next transfer uses is set
 * again: only libcurl's allocations are saved), or a new one. */
static CURL *easy_get(struct deliver *d)
{
	return d->nspare ? d->spare[--d->nspare] : curl_easy_init();
}

static void easy_put(struct deliver *d, CURL *e, bool reusable)
{
	if (reusable && d->nspare < SPARE_HANDLES && !d->closing)
		d->spare[d->nspare++] = e;
	else
		curl_easy_cleanup(e);
}

/* --- outcomes ------------------------------------------------------------------------------ */

/* Full jitter: a uniform delay in [0, min(cap, base × 2^(attempt-1))]. */
static int64_t backoff_ms(struct deliver *d, int64_t attempt)
{
	int64_t cap = d->cfg->delivery.backoff_cap_ms, ceiling = d->cfg->delivery.backoff_base_ms;

	for (int64_t i = 1; i < attempt && ceiling < cap; i++)
		ceiling *= 2;
	if (ceiling > cap)
		ceiling = cap;
	d->rng ^= d->rng << 13;
	d->rng ^= d->rng >> 7;
	d->rng ^= d->rng << 17;
	return ceiling > 0 ? (int64_t)(d->rng % (uint64_t)(ceiling + 1)) : 0;
}

static const char *outcome_name(enum webhook_outcome o)
{
	return o == WEBHOOK_OK ? "ok" : o == WEBHOOK_PERMANENT ? "permanent" : "retryable";
}

/* t's attempt and its row's next state. */
static void outcome_of(struct deliver *d, const struct transfer *t, struct store_outcome *o)
{
	*o = (struct store_outcome){
		.attempt = { .outbox_id = t->outbox_id, .attempt = t->attempt,
			     .started_at = t->started_at, .finished_at = t->finished_at,
			     .curl_code = t->curl_code, .reply = t->reply,
			     .outcome = outcome_name(t->outcome) },
		.status = "sent", .next_attempt_at = TIME_NONE,
		.last_error = t->outcome == WEBHOOK_OK ? NULL : t->reply,
	};
	if (t->outcome == WEBHOOK_PERMANENT) {
		o->status = "dead";
	} else if (t->outcome == WEBHOOK_RETRYABLE) {
		bool too_old = (t->finished_at - t->created_at) * 1000 >=
			       d->cfg->delivery.max_age_ms;
		if (t->attempt - t->round_base >= d->cfg->delivery.max_attempts || too_old) {
			o->status = "dead";
		} else {
			o->status = "pending";
			o->next_attempt_at = t->finished_at +
					     (backoff_ms(d, t->attempt) + 999) / 1000;
			if (t->retry_at > o->next_attempt_at)
				o->next_attempt_at = t->retry_at;
		}
	}
	if (t->outcome != WEBHOOK_OK)
		log_warn("deliver: outbox %lld attempt %lld: %s%s", (long long)t->outbox_id,
			 (long long)t->attempt, t->reply,
			 strcmp(o->status, "dead") == 0 ? "; given up (dead)" : "; will retry");
}

/* Writes every kept outcome inside the caller's transaction; the transfers stay in d->done
 * until that commits (forget_done). False when the database refused (nothing of it written). */
static bool write_done(struct deliver *d)
{
	struct err err;
	size_t n = 0;

	d->retrying = 0;
	if (!d->done.n)
		return true;
	if (d->done.n > d->noutcomes_max) {
		struct store_outcome *o = realloc(d->outcomes, d->done.n * sizeof(*o));
		if (!o) {
			err_set(&err, NULL, "out of memory");
			goto fail;
		}
		d->outcomes = o;
		d->noutcomes_max = d->done.n;
	}
	for (struct transfer *t = d->done.head; t; t = t->next) {
		outcome_of(d, t, &d->outcomes[n]);
		d->retrying += strcmp(d->outcomes[n++].status, "pending") == 0;
	}
	if (store_savepoint(d->store, &err) != STORE_OK)
		goto fail;
	if (store_outbox_finish_many(d->store, d->outcomes, n, &err) != STORE_OK) {
		store_rollback_to_savepoint(d->store);
		goto fail;
	}
	if (store_release(d->store, &err) == STORE_OK)
		return true;
fail:
	log_error("deliver: cannot record %u outcomes: %s", d->done.n, err.msg);
	return false;
}

/* The outcomes written are committed (or joined a transaction someone else commits). */
static void forget_done(struct deliver *d, unsigned n)
{
	struct transfer *t;

	while (n-- && (t = d->done.head)) {
		list_unlink(&d->done, t);
		transfer_free(t);
	}
}

/* t has ended: its outcome waits for the next turn, which comes at once when a batch has
 * gathered or few transfers are left to keep the channels busy, else within DELIVER_FLUSH_MS. */
static void ended(struct transfer *t, enum webhook_outcome outcome, int64_t retry_at,
		  long curl_code, const char *reply)
{
	struct deliver *d = t->d;

	t->outcome = outcome;
	t->retry_at = retry_at;
	t->curl_code = curl_code;
	t->finished_at = wall_now();
	snprintf(t->reply, sizeof(t->reply), "%s", reply ? reply : "failed");
	list_unlink(&d->out, t);
	list_push(&d->done, t);
	if (d->closing)
		return;
	bool soon = d->done.n >= DELIVER_BATCH || d->out.n < DELIVER_BATCH / 2;
	arm_within(d, soon ? 0 : DELIVER_FLUSH_MS);
}

/* t ended without an outcome to record (shutting down): its row stays `pending`. */
static void dropped(struct transfer *t)
{
	list_unlink(&t->d->out, t);
	transfer_free(t);
}

/* --- curl callbacks ------------------------------------------------------------------------ */

static size_t read_body(char *buf, size_t size, size_t n, void *arg)
{
	struct transfer *t = arg;
	size_t left = t->len - t->sent, want = size * n;

	if (want > left)
		want = left;
	memcpy(buf, t->data + t->sent, want);
	t->sent += want;
	return want;
}

/* Keeps a bounded excerpt of the answer, for the attempts log. */
static size_t keep_excerpt(char *buf, size_t size, size_t n, void *arg)
{
	struct transfer *t = arg;
	size_t total = size * n, room = sizeof(t->excerpt) - 1 - t->excerpt_len;

	if (room > total)
		room = total;
	memcpy(t->excerpt + t->excerpt_len, buf, room);
	t->excerpt_len += room;
	t->excerpt[t->excerpt_len] = '\0';
	return total;
}

static size_t keep_header(char *buf, size_t size, size_t n, void *arg)
{
	struct transfer *t = arg;
	size_t total = size * n;

	if (total > 12 && strncasecmp(buf, "Retry-After:", 12) == 0) {
		size_t len = total - 12;
		const char *v = buf + 12;
		while (len && (*v == ' ' || *v == '\t'))
			v++, len--;
		while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
			len--;
		if (len >= sizeof(t->retry_after))
			len = sizeof(t->retry_after) - 1;
		memcpy(t->retry_after, v, len);
		t->retry_after[len] = '\0';
	}
	return total;
}

static void on_curl_done(CURL *easy, CURLcode result, void *arg)
{
	struct transfer *t = arg;
	struct deliver *d = t->d;
	long status = 0;
	char reply[REPLY_MAX];
	enum webhook_outcome outcome;
	int64_t retry_at = 0;

	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	/* Only a webhook's handle comes back for reuse: SMTP handles carry other options. */
	easy_put(d, easy, t->webhook);
	if (d->closing) {
		dropped(t); /* the row stays `pending`: sent again after the restart */
		return;
	}
	if (t->webhook) {
		if (result != CURLE_OK) {
			outcome = WEBHOOK_RETRYABLE;
			snprintf(reply, sizeof(reply), "curl %d: %s", result,
				 t->errbuf[0] ? t->errbuf : curl_easy_strerror(result));
		} else {
			outcome = (enum webhook_outcome)webhook_classify_response(
				t->type, status, t->retry_after[0] ? t->retry_after : NULL, t->excerpt,
				t->excerpt_len, wall_now(), &retry_at);
			/* wall_now() is the start of the second the answer came in: a wait counted
			 * from it could end up to a second early. */
			if (retry_at > 0)
				retry_at++;
			snprintf(reply, sizeof(reply), "HTTP %ld: %s", status, t->excerpt);
		}
	} else {
		/* SMTP: a 5xx reply to the recipient or the message is permanent; anything else
		 * (a connection, a 4xx, a refused login: the config is fixed and reloaded) is worth
		 * another try. */
		outcome = result == CURLE_OK ? WEBHOOK_OK
			  : result != CURLE_LOGIN_DENIED && status >= 500 && status < 600
				  ? WEBHOOK_PERMANENT : WEBHOOK_RETRYABLE;
		if (result == CURLE_OK)
			snprintf(reply, sizeof(reply), "SMTP %ld", status);
		else
			snprintf(reply, sizeof(reply), "SMTP %ld, curl %d: %s", status, result,
				 t->errbuf[0] ? t->errbuf : curl_easy_strerror(result));
	}
	ended(t, outcome, retry_at, result, reply);
}

/* --- building transfers ------------------------------------------------------------------- */

/* A handle with what every transfer sets; webhooks may get a spare one back (easy_get). */
static CURL *easy_common(struct transfer *t, const struct config *cfg, bool webhook)
{
	CURL *e = webhook ? easy_get(t->d) : curl_easy_init();

	if (!e)
		return NULL;
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)cfg->delivery.timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->delivery.connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, keep_excerpt);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
	return e;
}

static const char *display_name(const char *from, char *name, size_t n, char *addr, size_t an)
{
	char *pn = NULL, *pa = NULL;

	name[0] = addr[0] = '\0';
	if (mail_address_parse(from, &pn, &pa, NULL) == 0) {
		snprintf(name, n, "%s", pn ? pn : "");
		snprintf(addr, an, "%s", pa ? pa : "");
	}
	free(pn);
	free(pa);
	return addr;
}

static void file_work(uv_work_t *w)
{
	struct transfer *t = w->data;
	struct err err;

	t->file_rc = mail_write_file(t->dir, t->name, t->data, t->len, &err);
	if (t->file_rc != 0)
		snprintf(t->file_err, sizeof(t->file_err), "%s", err.msg);
}

static void file_done(uv_work_t *w, int status)
{
	struct transfer *t = w->data;
	struct deliver *d = t->d;

	if (d->closing)
		dropped(t);
	else if (status == 0 && t->file_rc == 0)
		ended(t, WEBHOOK_OK, 0, 0, "written to a file");
	else
		ended(t, WEBHOOK_RETRYABLE, 0, 0, status ? "the file write was cancelled"
							 : t->file_err);
	d->files--;
	if (d->closing)
		part_closed(d);
}

/* An e-mail: built by mail.c, then sent by SMTP or written as a file. */
static int send_email(struct transfer *t, const struct store_outbox *o, struct err *err)
{
	const struct config *cfg = t->d->cfg;
	char from_name[300], from_addr[300], id[64];
	struct mail_address to = { NULL, o->address };
	struct mail_message m = {
		.to = &to, .nto = 1, .subject = o->subject, .text = o->body_text, .html = o->body_html,
		.date = wall_now(), .utc_offset = calendar_utc_offset(cfg->calendar, wall_now()),
		.id = id, .id_salt = t->d->salt,
	};
	const struct config_person *p = config_person(cfg, o->recipient);
	CURL *e;

	display_name(cfg->email.from, from_name, sizeof(from_name), from_addr, sizeof(from_addr));
	m.from = (struct mail_address){ from_name[0] ? from_name : NULL, from_addr };
	to.name = p ? p->name : NULL;
	snprintf(id, sizeof(id), "outbox-%lld", (long long)o->id);
	if (mail_build(&m, &t->data, &t->len, err) != 0)
		return -1;
	if (strcmp(cfg->email.transport, "file") == 0) {
		if (!(t->dir = strdup(cfg->email.dir)))
			return err_set(err, NULL, "out of memory");
		snprintf(t->name, sizeof(t->name), "%s", id);
		t->work.data = t;
		if (uv_queue_work(t->d->loop, &t->work, file_work, file_done) != 0)
			return err_set(err, NULL, "cannot queue the file write");
		t->d->files++;
		return 0;
	}
	if (!(e = easy_common(t, cfg, false)))
		return err_set(err, NULL, "out of memory");
	char rcpt[320];
	snprintf(rcpt, sizeof(rcpt), "<%s>", o->address);
	t->list = curl_slist_append(NULL, rcpt);
	char mail_from[320];
	snprintf(mail_from, sizeof(mail_from), "<%s>", from_addr);
	curl_easy_setopt(e, CURLOPT_URL, cfg->email.url);
	curl_easy_setopt(e, CURLOPT_MAIL_FROM, mail_from);
	curl_easy_setopt(e, CURLOPT_MAIL_RCPT, t->list);
	curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(e, CURLOPT_READFUNCTION, read_body);
	curl_easy_setopt(e, CURLOPT_READDATA, t);
	curl_easy_setopt(e, CURLOPT_USE_SSL, cfg->email.tls_required ? (long)CURLUSESSL_ALL
								     : (long)CURLUSESSL_NONE);
	if (cfg->email.ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, cfg->email.ca_file);
	if (cfg->email.username) {
		curl_easy_setopt(e, CURLOPT_USERNAME, cfg->email.username);
		curl_easy_setopt(e, CURLOPT_PASSWORD, cfg->email.password);
	}
	if (curl_thread_submit(t->d->smtp, e, "smtp", (unsigned)cfg->email.max_connections,
			       (long)cfg->delivery.timeout_ms, t, err) != 0) {
		curl_easy_cleanup(e);
		return -1;
	}
	return 0;
}

static const char *fact(json_t *facts, const char *key)
{
	return json_string_value(json_object_get(facts, key));
}

static struct webhook_party party(json_t *facts, const char *key)
{
	json_t *p = json_object_get(facts, key);

	return (struct webhook_party){ fact(p, "id"), fact(p, "name") };
}

static int send_chat(struct transfer *t, const struct store_outbox *o, struct err *err)
{
	const struct config *cfg = t->d->cfg;
	const struct config_channel *ch = config_channel(cfg, o->recipient);
	json_t *facts = NULL;
	struct webhook_channel wc;
	struct webhook_message m;
	char key[64];
	CURL *e;
	int rc = -1;

	if (!ch) {
		err_set(err, "channel", "no channel has id \"%s\" any more", o->recipient);
		goto out;
	}
	if (webhook_type_parse(ch->type, &t->type, err) != 0)
		goto out;
	wc = (struct webhook_channel){ t->type, ch->url, ch->chat_id, ch->token, ch->api_base,
				       ch->secret };
	snprintf(key, sizeof(key), "dunghan-outbox-%lld", (long long)o->id);
	/* What the message is about was frozen with the alert (scheduler.c); only the json
	 * payload carries more than the text. */
	if (t->type == WEBHOOK_JSON && o->facts)
		facts = json_loads(o->facts, 0, NULL);
	m = (struct webhook_message){
		.text = o->body_text, .idempotency_key = key, .event = "alert",
		.rule = fact(facts, "rule") ? fact(facts, "rule") : "",
		.severity = fact(facts, "severity") ? fact(facts, "severity") : "warning",
		.kind = fact(facts, "kind") ? fact(facts, "kind") : "case",
		.code = fact(facts, "code") ? fact(facts, "code") : "",
		.summary = fact(facts, "summary"), .unit = party(facts, "unit"),
		.handler = party(facts, "handler"), .due_at = fact(facts, "due_at"),
		.link = fact(facts, "link"),
	};
	if (webhook_build(&wc, &m, wall_now(), &t->req, err) != 0)
		goto out;
	for (size_t i = 0; i < t->req.nheaders; i++) {
		struct curl_slist *h = curl_slist_append(t->list, t->req.headers[i]);
		if (!h) {
			err_set(err, NULL, "out of memory");
			goto out;
		}
		t->list = h;
	}
	if (!(e = easy_common(t, cfg, true))) {
		err_set(err, NULL, "out of memory");
		goto out;
	}
	t->webhook = true;
	curl_easy_setopt(e, CURLOPT_URL, t->req.url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->list);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->req.body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)t->req.body_len);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, keep_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
	if (curl_thread_submit(t->d->web, e, ch->id, (unsigned)ch->max_connections,
			       (long)cfg->delivery.timeout_ms, t, err) != 0) {
		curl_easy_cleanup(e);
		goto out;
	}
	rc = 0;
out:
	json_decref(facts);
	return rc;
}

/* --- the timer ----------------------------------------------------------------------------- */

struct claimed {
	struct deliver *d;
	int n;
};

/* Whether row id is claimed already. The claim never reads a row being sent (it lies at or
 * before the last claim, or a rescan leaves it out), but a row this turn's outcomes put back to
 * `pending` can lie after it, due again at once, while that outcome is not yet committed. */
static bool claimed(const struct deliver *d, int64_t id)
{
	if (!d->retrying)
		return false;
	for (const struct transfer *t = d->done.head; t; t = t->next)
		if (t->outbox_id == id)
			return true;
	return false;
}

/* The rows claimed: being sent, or ended with the outcome not yet committed. */
static size_t claimed_ids(struct deliver *d)
{
	size_t n = 0;

	for (struct transfer *t = d->out.head; t; t = t->next)
		d->claimed[n++] = t->outbox_id;
	for (struct transfer *t = d->done.head; t; t = t->next)
		d->claimed[n++] = t->outbox_id;
	return n;
}

static int start_one(void *ctx, const struct store_outbox *o)
{
	struct claimed *c = ctx;
	struct deliver *d = c->d;
	struct transfer *t;
	struct err err;
	int rc;

	c->n++;
	if (claimed(d, o->id))
		return 0;
	if (!(t = transfer_new(d))) /* cleared by the assignment below */
		return 0; /* stays `pending`: found by the next rescan */
	int64_t due = o->next_attempt_at != TIME_NONE ? o->next_attempt_at : o->not_before;
	if (due > d->last_due || (due == d->last_due && o->id > d->last_id)) {
		d->last_due = due;
		d->last_id = o->id;
	}
	*t = (struct transfer){ .d = d, .outbox_id = o->id, .attempt = o->attempts + 1,
				.round_base = o->retried_attempts,
				.created_at = o->retried_at != TIME_NONE ? o->retried_at : o->created_at,
				.started_at = wall_now() };
	list_push(&d->out, t);
	err_clear(&err);
	if (strcmp(o->channel, "email") == 0)
		rc = send_email(t, o, &err);
	else
		rc = send_chat(t, o, &err);
	if (rc != 0) {
		/* The message itself cannot be built (a removed channel, a bad address): retrying
		 * the same bytes would fail the same way. */
		ended(t, WEBHOOK_PERMANENT, 0, 0, err.msg);
	}
	return 0;
}

/* Starts up to room due rows that are not claimed yet: those after the last claim, and at a
 * rescan those before it that are not claimed. */
static enum store_status claim(struct deliver *d, int64_t now, int room, bool with_email,
			       struct claimed *c, struct err *err)
{
	struct store_outbox_due q = { .now = now, .limit = room, .with_email = with_email,
				      .after_due = d->last_due, .after_id = d->last_id };
	size_t want = d->out.n + d->done.n;

	if (uv_now(d->loop) < d->rescan_at)
		return store_outbox_claim(d->store, &q, start_one, c, err);
	d->rescan_at = uv_now(d->loop) + DELIVER_POLL_MS;
	if (want > d->nclaimed_max) {
		int64_t *ids = realloc(d->claimed, want * sizeof(*ids));
		if (!ids) {
			err_set(err, NULL, "out of memory");
			return STORE_ERROR;
		}
		d->claimed = ids;
		d->nclaimed_max = want;
	}
	q.after_due = q.after_id = INT64_MIN;
	q.skip = d->claimed;
	q.nskip = claimed_ids(d);
	return store_outbox_claim(d->store, &q, start_one, c, err);
}

/* The turn's commit: its sync off the loop when there is a syncer, as the API's are. */
static enum store_status commit(struct deliver *d, struct err *err)
{
	struct store_wal_mark mark;
	enum store_status s;

	if (!d->sync)
		return store_commit(d->store, err);
	if ((s = store_commit_unsynced(d->store, &mark, err)) == STORE_OK)
		wal_sync_ask(d->sync, &mark);
	return s;
}

/* A turn: the outcomes kept so far, the claim of what is due as far as the window allows, and
 * one commit for both. */
static void on_timer(uv_timer_t *h)
{
	struct deliver *d = h->data;
	struct claimed c = { d, 0 };
	int64_t next = TIME_NONE, now = wall_now();
	bool wrote, enabled = d->cfg->delivery.enabled;
	bool with_email = d->cfg->email.transport != NULL;
	unsigned written = 0;
	int room = 0;
	struct err err;

	if (d->closing)
		return;
	if (!enabled && !d->done.n) {
		arm(d, DELIVER_POLL_MS);
		return;
	}
	/* Someone else's transaction is open (the API's turn, say): its outcome would not be ours
	 * to see, and outcomes forgotten before a commit that then failed would be sent again.
	 * One held open across turns is ended now; otherwise back in the next loop iteration,
	 * after it has committed. */
	store_yield(d->store);
	if (store_in_transaction(d->store)) {
		arm(d, 0);
		return;
	}
	if (store_begin(d->store, &err) != STORE_OK) {
		log_error("deliver: %s", err.msg);
		arm(d, DELIVER_POLL_MS);
		return;
	}
	if ((wrote = write_done(d)))
		written = d->done.n;
	if (enabled)
		room = DELIVER_MAX_INFLIGHT - (int)(d->out.n + d->done.n - written);
	/* Without a transport, e-mail waits in the outbox rather than failing. */
	if (room > 0 && claim(d, now, room, with_email, &c, &err) != STORE_OK)
		log_error("deliver: %s", err.msg);
	if (commit(d, &err) != STORE_OK) {
		/* The outcomes are undone and written again next time; the transfers just started
		 * stay claimed in memory. */
		log_error("deliver: %s", err.msg);
		arm(d, DELIVER_POLL_MS);
		return;
	}
	forget_done(d, written);
	if (d->done.n) {
		/* Messages that could not be built, or outcomes the database refused. */
		arm(d, wrote ? 0 : DELIVER_POLL_MS);
		return;
	}
	if (!enabled || room <= 0 || c.n == room) {
		/* The window is full or more may be due: the next outcome brings a turn. */
		arm(d, DELIVER_POLL_MS);
		return;
	}
	if (store_outbox_next_due(d->store, now, with_email, &next, &err) != STORE_OK ||
	    next == TIME_NONE || next > now + DELIVER_POLL_MS / 1000)
		arm(d, DELIVER_POLL_MS);
	else
		arm(d, next <= now ? 1 : (uint64_t)(next - now) * 1000);
}

/* --- lifecycle ----------------------------------------------------------------------------- */

void deliver_use_wal_sync(struct deliver *d, struct wal_sync *w)
{
	d->sync = w;
}

static void on_curl_error(const char *msg, void *ctx)
{
	(void)ctx;
	log_error("deliver: %s", msg);
}

struct deliver *deliver_new(uv_loop_t *loop, struct store *store, const struct config *cfg,
			    struct err *err)
{
	struct deliver *d = calloc(1, sizeof(*d));
	/* Per-channel caps (max_connections) govern concurrency, not libcurl's per-host default. */
	struct curl_uv_config cc = { .max_host_connections = DELIVER_MAX_CONNECTIONS,
				     .max_total_connections = DELIVER_MAX_CONNECTIONS,
				     .on_error = on_curl_error };
	int rc;

	if (!d) {
		err_set(err, NULL, "out of memory");
		return NULL;
	}
	d->loop = loop;
	d->store = store;
	d->cfg = cfg;
	d->last_due = d->last_id = INT64_MIN;
	d->rng = (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid() ^ 0x9e3779b97f4a7c15ULL;
	if (cfg->email.transport && strcmp(cfg->email.transport, "file") == 0 &&
	    path_make_dirs(cfg->email.dir, 0750, err) != 0) {
		free(d);
		return NULL;
	}
	/* A salt made once per database: a new installation's outbox 1 must not reuse the
	 * Message-ID of another's, which a receiver would drop as a repeat. */
	int64_t salt = 0;
	if (store_begin(store, err) != STORE_OK || store_outbox_requeue(store, err) != STORE_OK ||
	    store_state_get(store, "message_id_salt", &salt, err) != STORE_OK ||
	    (salt == 0 && store_state_put(store, "message_id_salt",
					  salt = (int64_t)(d->rng >> 1) | 1, err) != STORE_OK) ||
	    store_commit(store, err) != STORE_OK) {
		store_rollback(store);
		free(d);
		return NULL;
	}
	snprintf(d->salt, sizeof(d->salt), "%llx", (unsigned long long)salt);
	if (!(d->web = curl_thread_new(loop, &cc, on_curl_done, err))) {
		free(d);
		return NULL;
	}
	if (!(d->smtp = curl_thread_new(loop, &cc, on_curl_done, err))) {
		curl_thread_close(d->web, NULL, NULL);
		free(d);
		return NULL;
	}
	if ((rc = uv_timer_init(loop, &d->timer)) != 0) {
		err_set(err, NULL, "cannot create the delivery timer: %s", uv_strerror(rc));
		curl_thread_close(d->web, NULL, NULL);
		curl_thread_close(d->smtp, NULL, NULL);
		free(d);
		return NULL;
	}
	d->timer.data = d;
	if (!cfg->email.transport)
		log_warn("deliver: no e-mail transport is configured (email section): e-mail alerts "
			 "wait in the outbox");
	uv_timer_start(&d->timer, on_timer, 0, 0);
	return d;
}

void deliver_set_config(struct deliver *d, const struct config *cfg)
{
	d->cfg = cfg;
	d->rescan_at = 0; /* e-mail rows may be wanted now, behind the last claim */
	arm(d, 0);
}

void deliver_poke(struct deliver *d)
{
	d->rescan_at = 0;
	arm(d, 0);
}

/* d goes once the timer and the curl_threads are closed and no file write is left in
 * the pool. */
static void part_closed(struct deliver *d)
{
	if (d->closed_parts < 3 || d->files)
		return;
	void (*cb)(void *) = d->close_cb;
	void *arg = d->close_arg;
	free(d->claimed);
	free(d->outcomes);
	while (d->idle) {
		struct transfer *t = d->idle;
		d->idle = t->next;
		free(t);
	}
	free(d);
	if (cb)
		cb(arg);
}

static void on_timer_closed(uv_handle_t *h)
{
	struct deliver *d = h->data;

	d->closed_parts++;
	part_closed(d);
}

static void on_thread_closed(void *arg)
{
	struct deliver *d = arg;

	d->closed_parts++;
	part_closed(d);
}


/* Writes what ended before the close, so that those messages are not sent again. */
static void write_last(struct deliver *d)
{
	bool own;
	struct err err;

	if (!d->done.n)
		return;
	store_yield(d->store);
	own = !store_in_transaction(d->store);
	if (own && store_begin(d->store, &err) != STORE_OK) {
		log_error("deliver: %s", err.msg);
		return;
	}
	if (!write_done(d)) {
		if (own)
			store_rollback(d->store);
		return;
	}
	if (own && store_commit(d->store, &err) != STORE_OK)
		log_error("deliver: %s", err.msg);
}

void deliver_close(struct deliver *d, void (*cb)(void *arg), void *arg)
{
	/* Outcomes the threads have and have not told yet: written with the others, not sent
	 * again after the restart. */
	curl_thread_flush(d->web);
	curl_thread_flush(d->smtp);
	write_last(d);
	forget_done(d, d->done.n);
	while (d->nspare)
		curl_easy_cleanup(d->spare[--d->nspare]);
	d->closing = true;
	d->close_cb = cb;
	d->close_arg = arg;
	uv_timer_stop(&d->timer);
	uv_close((uv_handle_t *)&d->timer, on_timer_closed);
	curl_thread_close(d->smtp, on_thread_closed, d);
	curl_thread_close(d->web, on_thread_closed, d);
}
