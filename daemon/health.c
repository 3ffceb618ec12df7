/* health: the watchdog and STATUS= of dunghand (see health.h). The counts scan whole tables, too
 * slow for the loop with millions of cases, so a worker counts on its own read-only connection,
 * one count at a time; the loop only formats the line. */
#include "health.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "log.h"

struct health {
	uv_loop_t *loop;
	struct store *store;
	uv_timer_t watchdog, counter;
	bool watchdog_on;
	bool unhealthy;        /* the last watchdog check failed (logged once) */
	uv_work_t work;
	bool working;
	struct store *reader;  /* used by the worker only; opened there on first use */
	struct store_counts fresh; /* written by the worker */
	enum store_status fresh_status;
	struct err fresh_err;
	struct store_counts counts;
	bool have_counts;
	char head[256];
	int open_handles;
	bool closing;
	void (*close_cb)(void *);
	void *close_arg;
};

static void send_status(struct health *h)
{
	const struct store_counts *c = &h->counts;

	if (!h->have_counts) {
		sd_notifyf(0, "STATUS=%s", h->head);
		return;
	}
	sd_notifyf(0,
		   "STATUS=%s; open: %lld cases, %lld documents, %lld assignments; overdue: %lld; "
		   "at risk: %lld; outbox: %lld pending, %lld dead",
		   h->head, (long long)c->open_cases, (long long)c->open_documents,
		   (long long)c->open_assignments,
		   (long long)c->overdue_cases + c->overdue_documents + c->overdue_assignments,
		   (long long)c->at_risk_cases, (long long)c->outbox_pending,
		   (long long)c->outbox_dead);
}

void health_set_status(struct health *h, const char *head)
{
	snprintf(h->head, sizeof(h->head), "%s", head);
	send_status(h);
}

bool health_counts(const struct health *h, struct store_counts *out)
{
	if (!h->have_counts)
		return false;
	*out = h->counts;
	return true;
}

static void on_watchdog(uv_timer_t *t)
{
	struct health *h = t->data;

	/* A loop that turns but whose database is gone is not healthy: let systemd restart it. */
	if (store_schema_version(h->store) <= 0) {
		if (!h->unhealthy)
			log_error("health: the database does not answer; withholding the watchdog ping");
		h->unhealthy = true;
		return;
	}
	if (h->unhealthy)
		log_info("health: the database answers again");
	h->unhealthy = false;
	sd_notify(0, "WATCHDOG=1");
}

static void count_work(uv_work_t *w)
{
	struct health *h = w->data;
	const char *path = store_path(h->store);

	if (!h->reader && path)
		h->reader = store_open_readonly(path, &h->fresh_status, &h->fresh_err);
	if (!h->reader) {
		if (!path) {
			h->fresh_status = STORE_ERROR;
			err_set(&h->fresh_err, NULL, "no database path");
		}
		return;
	}
	h->fresh_status = store_counts(h->reader, (int64_t)time(NULL), &h->fresh, &h->fresh_err);
	if (h->fresh_status != STORE_OK) {
		/* A fresh connection next time: this one may be the problem. */
		store_close(h->reader);
		h->reader = NULL;
	}
}

static void finish_close(struct health *h);

static void count_done(uv_work_t *w, int status)
{
	struct health *h = w->data;

	h->working = false;
	if (status == 0 && h->fresh_status == STORE_OK) {
		h->counts = h->fresh;
		h->have_counts = true;
		if (!h->closing)
			send_status(h);
	} else if (status == 0) {
		log_warn("health: cannot count the open items: %s", h->fresh_err.msg);
	}
	if (h->closing)
		finish_close(h);
}

static void on_count(uv_timer_t *t)
{
	struct health *h = t->data;

	if (h->working)
		return;
	h->work.data = h;
	if (uv_queue_work(h->loop, &h->work, count_work, count_done) == 0)
		h->working = true;
}

struct health *health_new(uv_loop_t *loop, struct store *store, uint64_t watchdog_usec,
			  struct err *err)
{
	struct health *h = calloc(1, sizeof(*h));
	int rc;

	if (!h) {
		err_set(err, NULL, "out of memory");
		return NULL;
	}
	h->loop = loop;
	h->store = store;
	if ((rc = uv_timer_init(loop, &h->counter)) != 0) {
		err_set(err, NULL, "cannot create the status timer: %s", uv_strerror(rc));
		free(h);
		return NULL;
	}
	h->counter.data = h;
	h->open_handles = 1;
	/* The first count soon after start, then once a minute. */
	uv_timer_start(&h->counter, on_count, 1000, HEALTH_COUNT_INTERVAL_MS);
	if (watchdog_usec > 0) {
		uint64_t ms = watchdog_usec / 2000 ? watchdog_usec / 2000 : 1;
		if ((rc = uv_timer_init(loop, &h->watchdog)) != 0) {
			err_set(err, NULL, "cannot create the watchdog timer: %s", uv_strerror(rc));
			health_close(h, NULL, NULL);
			return NULL;
		}
		h->watchdog.data = h;
		h->open_handles++;
		h->watchdog_on = true;
		uv_timer_start(&h->watchdog, on_watchdog, 0, ms);
		log_debug("watchdog: pinging systemd every %llu ms", (unsigned long long)ms);
	}
	return h;
}

static void finish_close(struct health *h)
{
	void (*cb)(void *) = h->close_cb;
	void *arg = h->close_arg;

	if (h->open_handles > 0 || h->working)
		return;
	store_close(h->reader);
	free(h);
	if (cb)
		cb(arg);
}

static void on_closed(uv_handle_t *handle)
{
	struct health *h = handle->data;

	h->open_handles--;
	finish_close(h);
}

void health_close(struct health *h, void (*cb)(void *arg), void *arg)
{
	h->closing = true;
	h->close_cb = cb;
	h->close_arg = arg;
	uv_close((uv_handle_t *)&h->counter, on_closed);
	if (h->watchdog_on)
		uv_close((uv_handle_t *)&h->watchdog, on_closed);
}
