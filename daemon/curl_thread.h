/* curl_thread: runs libcurl transfers on a thread of their own, with its own uv loop and
 * curl_uv. Delivery has two: e-mail's, because libcurl (7.88 at least, curl/curl#8555) waits for
 * the answer to the end of DATA blocking, even under the multi interface (on the daemon's loop a
 * slow relay froze the API, acknowledgements and alerts for up to delivery.timeout per message);
 * and webhooks', so that libcurl's half of a message's work runs beside the loop's half (the
 * outbox's rows in SQLite) instead of after it.
 *
 * DESIGN. The loop thread builds an easy handle and hands it over (curl_thread_submit): it goes
 * into a mutex-protected inbox and a uv_async_t wakes the thread, which submits it to its
 * curl_uv. When the transfer ends, the handle and its result go into an outbox and another
 * uv_async_t wakes the loop thread, which calls done. Each side drains whole queues (libuv
 * coalesces async sends). The thread touches nothing but the handles it was given and what
 * their callbacks were set up with; the store stays with the loop thread. */
#ifndef DUNGHAN_CURL_THREAD_H
#define DUNGHAN_CURL_THREAD_H

#include <curl/curl.h>
#include <uv.h>

#include "curl_uv.h"
#include "err.h"

struct curl_thread;

/* The end of a transfer, on the loop thread from a libuv callback (never from within
 * curl_thread_submit): as curl_uv_done_cb. easy is the caller's again. */
typedef void (*curl_thread_done_cb)(CURL *easy, CURLcode result, void *arg);

/* Starts the thread; done reports on loop. cfg as for curl_uv_new (its on_error is called on
 * the thread and must be thread-safe: log.h is). NULL with err on failure. */
struct curl_thread *curl_thread_new(uv_loop_t *loop, const struct curl_uv_config *cfg,
				    curl_thread_done_cb done, struct err *err);

/* Hands easy over (set up as for curl_uv_submit, pool and pool_cap as there; timeout_ms is
 * its CURLOPT_TIMEOUT_MS). The thread sets CURLOPT_XFERINFOFUNCTION, XFERINFODATA and
 * NOPROGRESS (the caller must not): a transfer within min(1 s, timeout/2) of its timeout gets
 * CURLOPT_FORBID_REUSE, so a connection whose answer may still come is not reused. From 0 on,
 * the thread owns easy and whatever its callbacks reach until done(easy, result, arg) runs; a
 * handle the thread's curl_uv refuses comes back with CURLE_FAILED_INIT. -1 with err when
 * closing or out of memory: easy stays the caller's and done will not be called. */
int curl_thread_submit(struct curl_thread *s, CURL *easy, const char *pool, unsigned pool_cap,
		       long timeout_ms, void *arg, struct err *err);

/* Runs done (on the loop thread, now) for every transfer that has ended and waits to be
 * reported: a close should not lose the outcome of a message the receiver has had. */
void curl_thread_flush(struct curl_thread *s);

/* Stops: every transfer still out ends with CURLE_ABORTED_BY_CALLBACK (done runs for each),
 * one waiting inside libcurl for an answer within about a second (its progress callback), the
 * thread is joined, then cb(arg) runs from a later loop callback and s is freed. (Not bounded
 * by us: libcurl 7.88's cleanup sends QUIT on each idle cached connection and waits for the
 * reply up to its server response timeout, 120 s, so a relay that stopped answering can hold
 * the stop that long; systemd's stop timeout then ends it. Nothing is lost either way.) */
void curl_thread_close(struct curl_thread *s, void (*cb)(void *arg), void *arg);

#endif
