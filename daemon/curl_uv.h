/* curl_uv: libcurl's multi-socket API driven by a libuv loop, so that e-mail (SMTP) and webhooks
 * (HTTPS) go out without ever blocking the loop. The model is curl's docs/examples/multi-uv.c:
 * one uv_poll_t per socket attached with curl_multi_assign, one uv_timer_t for
 * CURLMOPT_TIMERFUNCTION (and a uv_idle_t for its 0 ms timeouts, which multi-uv.c turns into
 * 1 ms: every new transfer asks for one); hardened: every return value checked,
 * CURL_CSELECT_ERR on a poll error, completions drained after every curl_multi_socket_action.
 *
 * DESIGN. One multi handle lives as long as the curl_uv, so connections (and TLS sessions) are
 * reused between transfers, within CURLMOPT_MAX_HOST_CONNECTIONS / MAX_TOTAL_CONNECTIONS.
 * Above libcurl's own limits, each transfer names a pool (the caller's key, e.g. a channel id)
 * with a cap: never more than cap transfers of one pool are in libcurl at once; the others wait
 * in that pool's FIFO queue and start as earlier ones finish.
 * A socket is never closed under libuv's feet: curl_uv opens connection sockets itself
 * (CURLOPT_OPENSOCKETFUNCTION) and libcurl closes them through CURLOPT_CLOSESOCKETFUNCTION, which
 * only stops and uv_close()s the socket's poll handle; the descriptor is closed by that handle's
 * close callback, so the fd outlives every libuv use of it and its number cannot be reused by a
 * new socket while a poll handle still refers to it. See curl_uv.c for the details.
 *
 * Name lookups must not block the loop: curl_uv_new refuses a libcurl without an asynchronous
 * resolver (CURL_VERSION_ASYNCHDNS: Debian's libcurl4-openssl-dev has the threaded one).
 * Everything runs on the loop thread; nothing here is thread-safe. */
#ifndef DUNGHAN_CURL_UV_H
#define DUNGHAN_CURL_UV_H

#include <curl/curl.h>
#include <uv.h>

#include "err.h"

#define CURL_UV_DEFAULT_MAX_HOST_CONNECTIONS 8
#define CURL_UV_DEFAULT_MAX_TOTAL_CONNECTIONS 64
#define CURL_UV_DEFAULT_MAX_IDLE_CONNECTIONS 32
#define CURL_UV_MAX_CONNECTIONS 65536 /* upper bound of each of the three settings */

struct curl_uv;

/* A zero field takes the default in brackets. Nothing of cfg is kept after curl_uv_new. */
struct curl_uv_config {
	long max_host_connections;  /* CURLMOPT_MAX_HOST_CONNECTIONS: connections to one host; more
	                             * transfers wait inside libcurl [8] */
	long max_total_connections; /* CURLMOPT_MAX_TOTAL_CONNECTIONS [64] */
	long max_idle_connections;  /* CURLMOPT_MAXCONNECTS: connections kept open for reuse [32] */
	/* Optional: told about failures that happen in callbacks, where no caller's struct err
	 * exists (a uv_poll_start or curl_multi_socket_action that failed). msg is only valid
	 * during the call. */
	void (*on_error)(const char *msg, void *ctx);
	void *error_ctx;
};

/* The end of a transfer, called on the loop thread from a libuv callback: never from within
 * curl_uv_submit or curl_uv_close. result is libcurl's (CURLE_OK also for an HTTP 500: read
 * CURLINFO_RESPONSE_CODE), or CURLE_ABORTED_BY_CALLBACK when curl_uv_close cut the transfer
 * short or it never left its pool queue, or CURLE_OUT_OF_MEMORY / CURLE_FAILED_INIT when a
 * queued transfer could not be handed to libcurl (reported through on_error). easy is the caller's again, detached from curl_uv: the callee
 * cleans it up (curl_easy_cleanup) along with whatever it attached (header lists, buffers).
 * The callee may call curl_uv_submit and curl_uv_close. */
typedef void (*curl_uv_done_cb)(CURL *easy, CURLcode result, void *arg);

/* Called once, from a libuv close callback, when curl_uv_close has finished: every done callback
 * has run and every handle is closed; c is freed as soon as cb returns. */
typedef void (*curl_uv_close_cb)(struct curl_uv *c, void *arg);

/* Creates a transport on loop (cfg may be NULL: all defaults). The process must have called
 * curl_global_init(CURL_GLOBAL_DEFAULT) before (main's job: it is not thread-safe) and call
 * curl_global_cleanup() after the curl_uv is closed. Returns NULL and fills err (field names the
 * setting at fault) on a bad setting, a libcurl without asynchronous name lookups, or no memory. */
struct curl_uv *curl_uv_new(uv_loop_t *loop, const struct curl_uv_config *cfg, struct err *err);

/* Starts easy (URL, method, body etc. already set by the caller), or queues it when pool already
 * has pool_cap transfers in flight or others queued (FIFO). pool (copied) NULL means no per-pool
 * cap; pool_cap 0 means no cap; a pool's cap is the one given by its latest submit (a raised
 * cap starts queued transfers as that pool's next transfer ends). Set CURLOPT_TIMEOUT_MS: a
 * transfer to a silent peer otherwise holds its pool slot forever. curl_uv sets
 * CURLOPT_PRIVATE, CURLOPT_NOSIGNAL and the open/close socket callbacks of easy (and clears them
 * before done): the caller must not touch them. easy must not be submitted twice.
 * On 0, easy belongs to curl_uv until done(easy, result, arg) runs, from a later loop callback.
 * On -1 (closing, easy already in a multi handle, called from inside a libcurl callback, no
 * memory) err is filled, done will not be called, and easy stays the caller's. */
int curl_uv_submit(struct curl_uv *c, CURL *easy, const char *pool, unsigned pool_cap,
		   curl_uv_done_cb done, void *arg, struct err *err);

/* Shuts down. This call only arms the timer; from its callback (a later loop callback, never
 * inside this call) every transfer in flight or queued ends with CURLE_ABORTED_BY_CALLBACK, the
 * multi handle is cleaned up (closing the idle connections), and once every handle is closed
 * cb(c, arg) runs, so the loop can then close. Submits fail from this call on. May be called
 * from anywhere on the loop thread, a done callback or a libcurl callback included. Returns 0,
 * or UV_EALREADY when already closing (cb will not be called twice), UV_EINVAL for a NULL c.
 * cb may be NULL.
 * Note: libcurl 7.x waits for a name lookup still running in its resolver thread when that
 * transfer is removed, so a shutdown during a slow DNS query lasts as long as the query. */
int curl_uv_close(struct curl_uv *c, curl_uv_close_cb cb, void *arg);

/* Transfers handed to libcurl and not finished (including those libcurl itself holds back under
 * its connection limits). */
unsigned curl_uv_inflight(const struct curl_uv *c);

/* Transfers waiting in a pool queue for their pool's cap. */
unsigned curl_uv_queued(const struct curl_uv *c);

#endif
