/* curl_thread: libcurl transfers on a thread with its own loop and curl_uv (see curl_thread.h).
 * Lifecycle: the loop, the curl_uv and the thread's async handle are made before the thread
 * starts (uv_thread_create orders those writes before the thread's reads); close sets `stop`,
 * the thread closes its curl_uv (aborting what is out, each reported back) and its async
 * handle, its loop runs dry, it says `stopped`, and the loop thread joins it. */
#include "curl_thread.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct job {
	struct job *next;
	struct curl_thread *s;
	CURL *easy;
	char *pool;
	unsigned pool_cap;
	long timeout_ms;
	void *arg;
	CURLcode result;
};

/* A FIFO of jobs. */
struct queue {
	struct job *head, *tail;
};

struct curl_thread {
	/* The loop thread's side. */
	uv_loop_t *loop;
	uv_async_t back; /* the thread has outcomes (or has stopped) */
	curl_thread_done_cb done;
	void (*close_cb)(void *);
	void *close_arg;
	bool closing;
	/* The thread's side. */
	uv_thread_t thread;
	uv_loop_t tloop;
	uv_async_t wake; /* there are jobs (or stop) */
	struct curl_uv *curl;
	bool curl_closing;
	/* Shared, under lock. */
	uv_mutex_t lock;
	struct queue inbox;  /* handed over, not yet submitted to curl_uv */
	struct queue outbox; /* ended, not yet reported */
	bool stop;
	bool stopped;
	atomic_bool quit; /* stop, for the progress callback inside libcurl's blocking wait */
};

static void push(struct queue *q, struct job *j)
{
	j->next = NULL;
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
}

static struct job *take_all(struct queue *q)
{
	struct job *j = q->head;

	q->head = q->tail = NULL;
	return j;
}

/* --- the thread ---------------------------------------------------------------------------- */

static void post(struct curl_thread *s, struct job *j)
{
	uv_mutex_lock(&s->lock);
	push(&s->outbox, j);
	uv_mutex_unlock(&s->lock);
	uv_async_send(&s->back);
}

/* libcurl calls this inside its blocking wait for the answer to the end of DATA too (about
 * once a second), the one place the thread can act while blocked. A transfer near its timeout
 * is most likely waiting for a late answer: its connection must not be reused, or the next
 * message would read that late "250" as the answer to its own commands ("DATA failed: 250");
 * libcurl decides about reuse after that wait, so the flag set here still counts. When
 * stopping, the transfer is cut short rather than waited for. */
static int on_progress(void *arg, curl_off_t dlt, curl_off_t dln, curl_off_t ult,
		       curl_off_t uln)
{
	struct job *j = arg;
	long margin = j->timeout_ms / 2 < 1000 ? j->timeout_ms / 2 : 1000;
	curl_off_t spent_us = 0;
	bool quit = atomic_load(&j->s->quit);

	(void)dlt, (void)dln, (void)ult, (void)uln;
	if (quit || (curl_easy_getinfo(j->easy, CURLINFO_TOTAL_TIME_T, &spent_us) == CURLE_OK &&
		     spent_us / 1000 >= j->timeout_ms - margin))
		curl_easy_setopt(j->easy, CURLOPT_FORBID_REUSE, 1L);
	return quit ? 1 : 0;
}

static void on_transfer_done(CURL *easy, CURLcode result, void *arg)
{
	struct job *j = arg;

	j->easy = easy;
	j->result = result;
	post(j->s, j);
}

static void on_curl_closed(struct curl_uv *c, void *arg)
{
	struct curl_thread *s = arg;

	(void)c;
	uv_close((uv_handle_t *)&s->wake, NULL); /* the last handle: the thread's loop ends */
}

static void on_wake(uv_async_t *h)
{
	struct curl_thread *s = h->data;
	struct job *j, *next;
	struct err err;
	bool stop;

	uv_mutex_lock(&s->lock);
	j = take_all(&s->inbox);
	stop = s->stop;
	uv_mutex_unlock(&s->lock);
	for (; j; j = next) {
		next = j->next;
		curl_easy_setopt(j->easy, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(j->easy, CURLOPT_XFERINFODATA, j);
		curl_easy_setopt(j->easy, CURLOPT_NOPROGRESS, 0L);
		/* A reused handle may carry on_progress's verdict on its last transfer. */
		curl_easy_setopt(j->easy, CURLOPT_FORBID_REUSE, 0L);
		if (curl_uv_submit(s->curl, j->easy, j->pool, j->pool_cap, on_transfer_done, j,
				   &err) != 0) {
			j->result = CURLE_FAILED_INIT;
			post(s, j);
		}
	}
	if (stop && !s->curl_closing) {
		s->curl_closing = true;
		if (curl_uv_close(s->curl, on_curl_closed, s) != 0)
			uv_close((uv_handle_t *)&s->wake, NULL);
	}
}

static void thread_main(void *arg)
{
	struct curl_thread *s = arg;

	uv_run(&s->tloop, UV_RUN_DEFAULT);
	uv_mutex_lock(&s->lock);
	s->stopped = true;
	uv_mutex_unlock(&s->lock);
	uv_async_send(&s->back);
}

/* --- the loop thread ----------------------------------------------------------------------- */

static void on_back_closed(uv_handle_t *h)
{
	struct curl_thread *s = h->data;
	void (*cb)(void *) = s->close_cb;
	void *arg = s->close_arg;

	uv_loop_close(&s->tloop);
	uv_mutex_destroy(&s->lock);
	free(s);
	if (cb)
		cb(arg);
}

/* Runs done for every transfer the thread has ended; returns whether the thread stopped. */
static bool report_ended(struct curl_thread *s)
{
	struct job *j, *next;
	bool stopped;

	uv_mutex_lock(&s->lock);
	j = take_all(&s->outbox);
	stopped = s->stopped;
	uv_mutex_unlock(&s->lock);
	for (; j; j = next) {
		next = j->next;
		s->done(j->easy, j->result, j->arg);
		free(j->pool);
		free(j);
	}
	return stopped;
}

void curl_thread_flush(struct curl_thread *s)
{
	report_ended(s);
}

static void on_back(uv_async_t *h)
{
	struct curl_thread *s = h->data;
	bool stopped = report_ended(s);

	if (stopped && !uv_is_closing((uv_handle_t *)&s->back)) {
		uv_thread_join(&s->thread);
		uv_close((uv_handle_t *)&s->back, on_back_closed);
	}
}

static void on_back_failed(uv_handle_t *h)
{
	free(h->data);
}

struct curl_thread *curl_thread_new(uv_loop_t *loop, const struct curl_uv_config *cfg,
				    curl_thread_done_cb done, struct err *err)
{
	struct curl_thread *s = calloc(1, sizeof(*s));
	int rc, step = 0;

	if (!s) {
		err_set(err, NULL, "out of memory");
		return NULL;
	}
	s->loop = loop;
	s->done = done;
	if ((rc = uv_mutex_init(&s->lock)) != 0)
		goto fail;
	step = 1;
	if ((rc = uv_loop_init(&s->tloop)) != 0)
		goto fail;
	step = 2;
	if (!(s->curl = curl_uv_new(&s->tloop, cfg, err)))
		goto fail_err;
	step = 3;
	if ((rc = uv_async_init(&s->tloop, &s->wake, on_wake)) != 0)
		goto fail;
	s->wake.data = s;
	step = 4;
	if ((rc = uv_async_init(loop, &s->back, on_back)) != 0)
		goto fail;
	s->back.data = s;
	step = 5;
	if ((rc = uv_thread_create(&s->thread, thread_main, s)) != 0)
		goto fail;
	return s;
fail:
	err_set(err, NULL, "cannot start a libcurl thread: %s", uv_strerror(rc));
fail_err:
	/* Nothing ran on either loop yet: closing and running the thread's loop here only
	 * finishes its handles' close callbacks. */
	if (step >= 5)
		uv_close((uv_handle_t *)&s->back, on_back_failed); /* frees s */
	if (step >= 4)
		uv_close((uv_handle_t *)&s->wake, NULL);
	if (step >= 3)
		curl_uv_close(s->curl, NULL, NULL);
	if (step >= 2) {
		uv_run(&s->tloop, UV_RUN_DEFAULT);
		uv_loop_close(&s->tloop);
	}
	if (step >= 1)
		uv_mutex_destroy(&s->lock);
	if (step < 5)
		free(s);
	return NULL;
}

int curl_thread_submit(struct curl_thread *s, CURL *easy, const char *pool, unsigned pool_cap,
		       long timeout_ms, void *arg, struct err *err)
{
	struct job *j;

	if (s->closing)
		return err_set(err, NULL, "the libcurl thread is stopping");
	if (!(j = calloc(1, sizeof(*j))) || (pool && !(j->pool = strdup(pool)))) {
		free(j);
		return err_set(err, NULL, "out of memory");
	}
	j->s = s;
	j->easy = easy;
	j->pool_cap = pool_cap;
	j->timeout_ms = timeout_ms;
	j->arg = arg;
	uv_mutex_lock(&s->lock);
	push(&s->inbox, j);
	uv_mutex_unlock(&s->lock);
	uv_async_send(&s->wake);
	return 0;
}

void curl_thread_close(struct curl_thread *s, void (*cb)(void *arg), void *arg)
{
	s->closing = true;
	s->close_cb = cb;
	s->close_arg = arg;
	atomic_store(&s->quit, true);
	uv_mutex_lock(&s->lock);
	s->stop = true;
	uv_mutex_unlock(&s->lock);
	uv_async_send(&s->wake);
}
