/* dashboard: the pages for unit heads that dunghand serves itself (docs/dashboard.md) — where
 * each unit stands against its on-time target and what needs action today — as server-written
 * HTML with SVG charts, in Vietnamese or English, read-only, behind a read-scope token given
 * once on a login page (kept in a cookie) or as a bearer header. */
#ifndef DUNGHAN_DASHBOARD_H
#define DUNGHAN_DASHBOARD_H

#include <stdbool.h>

#include "api_internal.h"

/* How the API recognises a token: given an Authorization header value ("Bearer <token>"),
 * the configured token whose SHA-256 is that of the token, or NULL (api.c's, so that tokens
 * are matched in one place). */
typedef const struct config_token *(*dashboard_token_fn)(const struct config *cfg,
							  const char *authorization);

/* Whether path belongs to the dashboard: anything but /api/v1 and what is below it, /healthz,
 * /readyz and /metrics. */
bool dashboard_path(const char *path);

/* The label of path (a dashboard path) in GET /metrics' request counts: the page's template
 * ("/units/{id}"…), or "dashboard" for any other path, so that a client cannot make series
 * without end. Static storage. */
const char *dashboard_route(const char *path);

/* Answers the request of x (a dashboard path, with dashboard.enabled), now or from a job in
 * the thread pool; token_of checks tokens. Never blocks the loop on the database. */
void dashboard_handle(struct api_ctx *x, dashboard_token_fn token_of);

/* Keeps the top unit's overview and unit page figures computed ahead of reading: queues their
 * recomputation in the thread pool when they are missing or older than dashboard.refresh
 * (nothing when the dashboard is off or refresh is 0), and drops entries unasked for in a day.
 * x has no request (x->req NULL): api.c's timer calls it after start and every minute. */
void dashboard_warm(struct api_ctx *x);

#endif
