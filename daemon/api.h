/* api: the HTTP JSON API under /api/v1 (docs/api.md) — bearer-token auth with scopes, routing,
 * strict request validation, and group commit: the writes of one loop turn share one SQLite
 * transaction committed in a uv_check callback, and their answers are sent only once a sync of
 * the WAL has put that commit on the disk (a failed commit answers 503 to every request of the
 * turn). */
#ifndef DUNGHAN_API_H
#define DUNGHAN_API_H

#include <jansson.h>
#include <uv.h>

#include "config.h"
#include "deliver.h"
#include "err.h"
#include "http.h"
#include "scheduler.h"
#include "store.h"

struct api;

/* Creates the API on loop over store, sched and deliver (borrowed) with cfg (borrowed; see
 * api_set_config). Returns NULL and fills err on failure. */
struct api *api_new(uv_loop_t *loop, struct store *store, struct scheduler *sched,
		    struct deliver *deliver, const struct config *cfg, struct err *err);

/* The configuration to use from now on (after a reload); the old one may be freed after this
 * returns, since nothing of it is kept across loop turns. */
void api_set_config(struct api *api, const struct config *cfg);

/* The http_request_cb to give the HTTP server, with the api as ctx. */
void api_handle(struct http_request *req, void *api);

/* The http_response_cb to give the HTTP server beside it: counts every answer by route template
 * and status for GET /metrics. */
void api_on_response(const struct http_request *req, int status, void *api);

/* Creates the cases of an NDJSON text (one API case object a line, as POST /cases:batch takes)
 * on behalf of actor, for the drop folder. Runs inside the caller's own write transaction
 * (store_begin done by the caller, from a libuv callback of its own, never from a request); a
 * line is checked fully before anything of it is written, so a bad line writes nothing. Returns
 * the same JSON as the batch endpoint's answer (new reference; "failed" > 0 tells the caller
 * to roll back for all-or-nothing), or NULL with err when the database failed in the middle
 * of a line's writes: the caller must roll back. */
json_t *api_import_cases(struct api *api, const char *ndjson, size_t len, const char *actor,
			 struct err *err);

/* From now on, answer new requests 503 (the daemon is stopping); requests already taken are
 * finished and committed. */
void api_stop_accepting(struct api *api);

/* Commits what is pending, answers it once synced, and closes the API's handles; cb(arg) runs
 * from the close callback, after which api is freed. */
void api_close(struct api *api, void (*cb)(void *arg), void *arg);

/* cb(arg) is called when a sync of the WAL failed: the API has cut the commits it did not
 * cover out of the WAL and answered every waiting request; the process must end at once,
 * without closing the store (store_cut_wal). */
void api_on_fatal(struct api *api, void (*cb)(void *arg), void *arg);

#endif
