/* ctl_http: dunghanctl's HTTP client for the daemon's API — libcurl's easy interface (a
 * command line may block; the daemon never uses this), one kept-alive connection for all the
 * requests of a command (pages of a list, chunks of an import), a bearer token, and bounded
 * answers. */
#ifndef DUNGHAN_CTL_HTTP_H
#define DUNGHAN_CTL_HTTP_H

#include <stddef.h>

#include "err.h"

#define CTL_HTTP_MAX_ANSWER ((size_t)256 * 1024 * 1024) /* a longer answer is an error */

struct ctl_http;

/* One answer: the status and the body (NUL-terminated, malloc'd; the caller frees body). */
struct ctl_http_answer {
	long status;
	char *body;
	size_t len;
};

/* A client for base (e.g. "http://127.0.0.1:8686", no trailing slash) sending token (NULL:
 * none; copied) as a bearer token. NULL with err when curl cannot be set up. */
struct ctl_http *ctl_http_new(const char *base, const char *token, struct err *err);

/* Frees h and closes its connection. NULL is a no-op. */
void ctl_http_free(struct ctl_http *h);

/* The base address h was made with. */
const char *ctl_http_base(const struct ctl_http *h);

/* Sends method base+path (path from "/", query included) with body (NULL: none) of len bytes
 * and content_type, and reads the answer into *a (zeroed first). Returns 0 when an answer came
 * (whatever its status), -1 with err when none did (refused, timed out, too long). */
int ctl_http_request(struct ctl_http *h, const char *method, const char *path,
		     const char *content_type, const char *body, size_t len,
		     struct ctl_http_answer *a, struct err *err);

#endif
