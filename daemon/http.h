/* http: the daemon's HTTP/1.1 server (RFC 9110, RFC 9112) on libuv, parsing with llhttp.
 * Keep-alive and pipelining, responses strictly in request order even when the application
 * answers out of order or in a later loop iteration; Content-Length bodies only; every limit
 * (header and body size, timeouts, connections) comes from struct http_config.
 *
 * DESIGN. The application gets each complete request through on_request, in request order,
 * and answers it exactly once with http_respond() or http_respond_error(), now or later (after
 * a group commit, from a uv_check callback, ...). Answers are queued per connection and written
 * in request order. Up to max_pipeline requests of one connection may wait for their answers;
 * beyond that, or beyond max_pipeline_bytes, the server stops reading that connection until
 * answers are written. So that one pipelining client cannot hold the loop, the requests of one
 * connection handed out in one loop iteration stop at max_turn_requests, or once on_request has
 * spent turn_budget_us on them (always one at least); the rest stay buffered, unread, and are
 * taken up in a later iteration, before that one's poll phase (a
 * uv_idle of the server), so other connections are served in between. A request that breaks a
 * rule (size, time, smuggling, malformed) gets a JSON error
 * {"error":{"code":...,"message":...}} after the answers that precede it, then the connection
 * is closed (lingering: the server shuts down its side and discards what the client
 * still sends, for at most linger_timeout_ms, so the client reads the error before any reset).
 *
 * OWNERSHIP. A request handed to on_request belongs to the application until it answers it,
 * even when the connection is gone meanwhile (client reset, http_server_free): the request then
 * stays valid, http_request_is_aborted() turns true, and the answer is dropped. The server never
 * frees a request the application holds, and a request never points at a freed connection or
 * server. So every request must be answered exactly once, and never touched after that.
 * Everything runs on the loop thread; no function here is thread-safe. libuv writes with
 * write(2): the process must ignore SIGPIPE, or a client that resets kills it. */
#ifndef DUNGHAN_HTTP_H
#define DUNGHAN_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "err.h"

#define HTTP_DEFAULT_BACKLOG 511
#define HTTP_DEFAULT_MAX_HEADER_BYTES (16u * 1024)
#define HTTP_DEFAULT_MAX_BODY_BYTES (1024u * 1024)
#define HTTP_DEFAULT_HEADER_TIMEOUT_MS 10000
#define HTTP_DEFAULT_BODY_TIMEOUT_MS 30000
#define HTTP_DEFAULT_IDLE_TIMEOUT_MS 60000
#define HTTP_DEFAULT_LINGER_TIMEOUT_MS 2000
#define HTTP_DEFAULT_MAX_CONNECTIONS 1024
#define HTTP_DEFAULT_MAX_PIPELINE 64
#define HTTP_DEFAULT_MAX_PIPELINE_BYTES (1024u * 1024)
#define HTTP_DEFAULT_MAX_TURN_REQUESTS 16
#define HTTP_DEFAULT_TURN_BUDGET_US 1000

struct http_server;
struct http_request;

/* Called on the loop thread for each complete request, in the order requests arrive on each
 * connection. The callee owns req until it answers it (see OWNERSHIP above). */
typedef void (*http_request_cb)(struct http_request *req, void *ctx);

/* Called on the loop thread for every answer as it is queued for writing, with its status (the
 * 500 sent instead of an invalid answer; nothing for an aborted request, whose answer is
 * dropped). req is the request the application answered, still valid during the call, or NULL
 * for an error the server sends on its own (malformed or too large request, timeout, too many
 * connections, stopping). For counters: it must not answer, free or keep req. */
typedef void (*http_response_cb)(const struct http_request *req, int status, void *ctx);

/* Called once, from a libuv close callback, when a stopped server has closed every handle;
 * srv is freed as soon as the callback returns. */
typedef void (*http_stop_cb)(struct http_server *srv, void *arg);

/* A larger (or smaller) body limit for the paths that start with path_prefix. */
struct http_body_limit {
	const char *path_prefix; /* compared with the raw request path; longest match wins */
	size_t max_bytes;
};

/* A zero field takes the default in brackets. Nothing of cfg is kept after http_server_new. */
struct http_config {
	const char *listen;          /* "127.0.0.1:8686", "[::1]:8686"; IP literals only; port 0
	                              * takes a free port (see http_server_port) */
	int backlog;                 /* listen(2) backlog [511] */
	size_t max_header_bytes;     /* request line and header fields [16 KiB]: 431 (414 when the
	                              * request line alone is too long) */
	size_t max_body_bytes;       /* Content-Length above it: 413 [1 MiB] */
	const struct http_body_limit *body_limits; /* per-path overrides of max_body_bytes */
	size_t nbody_limits;
	uint64_t header_timeout_ms;  /* first byte of a request to the end of its headers: 408 [10 s] */
	uint64_t body_timeout_ms;    /* end of the headers to the end of the body: 408 [30 s] */
	uint64_t idle_timeout_ms;    /* a connection with no request in progress, and nothing waiting
	                              * for the application, is closed after this [60 s]; also the
	                              * longest a client may stall reading our responses */
	uint64_t linger_timeout_ms;  /* how long to drain a client after the last response [2 s] */
	unsigned max_connections;    /* further connections get 503 and are closed [1024] */
	unsigned max_pipeline;       /* requests of one connection waiting for answers or being
	                              * written before reading pauses [64] */
	size_t max_pipeline_bytes;   /* the same, counted in request and response bytes [1 MiB] */
	unsigned max_turn_requests;  /* requests of one connection handed to on_request in one loop
	                              * iteration; the rest wait for a later one [16] */
	uint64_t turn_budget_us;     /* the same, counted in the time on_request takes for them: the
	                              * first request of an iteration always goes, the next ones
	                              * while the sum is below this [1000 us] */
	http_request_cb on_request;  /* required */
	http_response_cb on_response; /* optional (NULL: none) */
	void *ctx;                   /* passed to on_request and on_response */
};

/* A response header the application adds. The server writes Date, Content-Type (from the
 * content_type argument), Content-Length and Connection itself: those names are refused here. */
struct http_header {
	const char *name;  /* an RFC 9110 token */
	const char *value; /* no CR, LF or NUL */
};

/* Creates a server on loop and starts listening on cfg->listen. Returns NULL and fills err
 * (field "http.<setting>") on a bad config or when the address cannot be bound; in the latter
 * case the listener handle is already closing and is freed by the loop's next run, so run the
 * loop before uv_loop_close() as after any shutdown. */
struct http_server *http_server_new(uv_loop_t *loop, const struct http_config *cfg,
				    struct err *err);

/* Takes cfg's limits and timeouts (max_header_bytes, max_body_bytes, body_limits,
 * header_timeout_ms, body_timeout_ms, idle_timeout_ms, max_connections; a zero field its
 * default) for what starts from now on: a body being read and timers already running keep
 * theirs; a head being read is held to the new header limit. The rest of cfg is ignored. Returns 0, UV_EINVAL for a body
 * limit whose prefix does not start with '/', or UV_ENOMEM (the old limits stay). */
int http_server_set_limits(struct http_server *srv, const struct http_config *cfg);

/* The bound TCP port (useful with port 0), or a negative libuv error code. */
int http_server_port(const struct http_server *srv);

/* Open connections, counting those being rejected or closed. */
unsigned http_server_connections(const struct http_server *srv);

/* Graceful stop: stops accepting, closes idle connections, answers a request still being
 * received with 503 (requests of a pipeline not handed out yet get no answer, the connection
 * closing after the answers owed), lets every request the application holds be answered and
 * written, then closes every handle and calls cb(srv, arg) from a close callback (never from
 * this call), and frees srv after cb returns. Returns 0, or UV_EALREADY when already stopping or
 * freed (cb will then not be called). It waits as long as the application holds requests: to
 * bound it, call http_server_free() after a timeout of your own. cb may be NULL. */
int http_server_stop(struct http_server *srv, http_stop_cb cb, void *arg);

/* Immediate stop: closes the listener and every connection now; requests the application holds
 * become aborted (still to be answered). srv is freed by a close callback, so run the loop
 * until it has no more handles. A stop in progress still calls its cb. NULL is a no-op; so is a
 * call from within the stop cb. */
void http_server_free(struct http_server *srv);

/* The request method, e.g. "GET" (static storage). */
const char *http_request_method(const struct http_request *req);

/* The raw (percent-encoded) path, without query or fragment; always starts with '/', or is "*"
 * (OPTIONS *). The absolute form "http://host/p" gives "/p". */
const char *http_request_path(const struct http_request *req);

/* The raw query string after '?', "" when none. */
const char *http_request_query(const struct http_request *req);

/* The value of the first header named name (case-insensitive), without surrounding
 * whitespace, or NULL when absent. */
const char *http_request_header(const struct http_request *req, const char *name);

/* Headers in arrival order: header i's name and value, or false when i is out of range. */
size_t http_request_header_count(const struct http_request *req);
bool http_request_header_at(const struct http_request *req, size_t i, const char **name,
			    const char **value);

/* The body (*len bytes, then a NUL not counted in *len); "" with *len 0 when none. */
const char *http_request_body(const struct http_request *req, size_t *len);

/* The client's address, "192.0.2.7:51324" or "[2001:db8::7]:51324". */
const char *http_request_peer(const struct http_request *req);

/* HTTP minor version of the request: 0 or 1. */
int http_request_minor_version(const struct http_request *req);

/* The application's slot; NULL until set. */
void http_request_set_data(struct http_request *req, void *data);
void *http_request_data(const struct http_request *req);

/* True when the connection is gone: the answer will be dropped (but is still required). */
bool http_request_is_aborted(const struct http_request *req);

/* Answers req and gives it back: req must not be used after this call, whatever it returns.
 * status is 200..599; content_type may be NULL (no Content-Type); body (copied) may be NULL
 * when len is 0; headers[0..nheaders) are extra response headers (copied). The response
 * carries Content-Length (not for 204 and 304); a HEAD request gets the headers only.
 * Returns 0; UV_EINVAL when status or a header is invalid (a 500 error is sent instead);
 * UV_ENOMEM when the response cannot be built (the connection is then closed). Never calls
 * on_request before returning. */
int http_respond(struct http_request *req, int status, const char *content_type,
		 const void *body, size_t len, const struct http_header *headers,
		 size_t nheaders);

/* Answers req with a JSON error {"error":{"code":code,"message":message}} (both escaped),
 * status 400..599. Same contract as http_respond. */
int http_respond_error(struct http_request *req, int status, const char *code,
		       const char *message);

/* The standard reason phrase of status ("Not Found"), "" for an unknown code. */
const char *http_status_reason(int status);

#endif
