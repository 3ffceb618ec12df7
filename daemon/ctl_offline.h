/* ctl_offline: dunghanctl --db — the API's read endpoints answered from the database file opened
 * read-only (store_open_readonly), with the JSON the daemon would give, so that every list and
 * show command works the same with the daemon stopped (a broken server, a copy of the file).
 * Paths: status, cases (list, one, events), documents and assignments (list, one, events,
 * assignments), alerts. */
#ifndef DUNGHAN_CTL_OFFLINE_H
#define DUNGHAN_CTL_OFFLINE_H

#include <jansson.h>

#include "err.h"

struct ctl;

/* Answers GET path (from "/api/v1/", with its query) from ctl->db_path, opening it on first use
 * into ctl->store. Returns 0 with *status and *answer (new reference: the API's JSON, or
 * {"error": {...}} when *status is not 2xx), or -1 with err when the database cannot be read. */
int ctl_offline_get(struct ctl *ctl, const char *path, long *status, json_t **answer,
		    struct err *err);

#endif
