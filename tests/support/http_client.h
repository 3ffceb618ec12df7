/* http_client: a small blocking HTTP/1.1 client for tests, over real TCP sockets. It sends raw
 * bytes (for malformed requests) or whole requests, reads one response at a time (Content-Length,
 * chunked, or until close) and keeps what follows for the next one (keep-alive, pipelining).
 * Every wait is bounded by the client's timeout (poll(2)), so a test fails instead of hanging.
 * Errors: functions return -1 and fill err; one client is used by one thread at a time. */
#ifndef DUNGHAN_TEST_HTTP_CLIENT_H
#define DUNGHAN_TEST_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define HTTP_CLIENT_DEFAULT_TIMEOUT_MS 5000

struct http_client;

struct http_client_header {
	const char *name;  /* as received; point into the response's storage */
	const char *value; /* without surrounding whitespace */
};

/* One response. Zero it before the first read; http_client_response_free() releases it (and
 * a read frees what the struct held before). */
struct http_client_response {
	int status;                         /* e.g. 200 */
	int minor;                          /* HTTP/1.<minor> */
	const char *reason;
	struct http_client_header *headers; /* in arrival order */
	size_t nheaders;
	char *body;                         /* body_len bytes then a NUL; never NULL after a read */
	size_t body_len;
	int interim;                        /* 1xx responses read (and skipped) before this one */
	bool until_close;                   /* no length: the body ran until the server closed */
	char *storage;                      /* private */
};

/* Connects to host (an IP literal or a name) and port within timeout_ms (<= 0: the default,
 * which then also applies to every later call). NULL and err on failure. */
struct http_client *http_client_connect(const char *host, int port, int timeout_ms,
					struct err *err);

/* Closes the socket (FIN) and frees c. NULL is a no-op. */
void http_client_free(struct http_client *c);

/* Closes with a reset (SO_LINGER 0), as a client that vanishes, and frees c. NULL: no-op. */
void http_client_abort(struct http_client *c);

/* Timeout of each later call, in milliseconds (<= 0: the default). */
void http_client_set_timeout(struct http_client *c, int timeout_ms);

/* The socket, for tests that need a system call of their own. */
int http_client_fd(const struct http_client *c);

/* Sends len raw bytes, all of them or fails (a reset by the server is an error). */
int http_client_send(struct http_client *c, const void *buf, size_t len, struct err *err);

/* Sends the NUL-terminated string s. */
int http_client_send_str(struct http_client *c, const char *s, struct err *err);

/* Sends "METHOD path HTTP/1.1" with headers (NULL-terminated "Name: value" strings, may be
 * NULL), adding Host unless given, and Content-Length: len when body is not NULL and neither
 * Content-Length nor Transfer-Encoding is given. */
int http_client_send_request(struct http_client *c, const char *method, const char *path,
			     const char *const *headers, const void *body, size_t len,
			     struct err *err);

/* Flags of http_client_read_response_ex(). */
#define HTTP_CLIENT_HEAD 0x1    /* the answer to a HEAD: headers only, whatever the length says */
#define HTTP_CLIENT_INTERIM 0x2 /* return a 1xx response instead of skipping it */

/* Reads the next response (skipping 1xx ones, counted in resp->interim). resp must be zeroed
 * or hold an earlier response, which is freed first (so one struct serves a loop). */
int http_client_read_response(struct http_client *c, struct http_client_response *resp,
			      struct err *err);

/* The same for the answer to a HEAD request. */
int http_client_read_head_response(struct http_client *c, struct http_client_response *resp,
				   struct err *err);

/* The same with HTTP_CLIENT_* flags. */
int http_client_read_response_ex(struct http_client *c, struct http_client_response *resp,
				 unsigned flags, struct err *err);

/* http_client_send_request() then http_client_read_response() (or the HEAD variant). */
int http_client_request(struct http_client *c, const char *method, const char *path,
			const char *const *headers, const void *body, size_t len,
			struct http_client_response *resp, struct err *err);

/* Reads everything until the server closes (EOF or reset): *out (malloc'd, NUL-terminated,
 * may be empty) and *len, including bytes already buffered. -1 on timeout. */
int http_client_read_until_close(struct http_client *c, char **out, size_t *len,
				 struct err *err);

/* Waits for the server to close the connection: 0 when it closed (EOF or reset) without
 * sending anything more; -1 on timeout or when bytes arrived. */
int http_client_wait_closed(struct http_client *c, struct err *err);

/* Shuts down the sending side (the server reads EOF). */
int http_client_shutdown_write(struct http_client *c, struct err *err);

/* The first header named name (case-insensitive), or NULL. */
const char *http_client_header(const struct http_client_response *resp, const char *name);

/* Releases what resp holds and zeroes it. */
void http_client_response_free(struct http_client_response *resp);

#endif
