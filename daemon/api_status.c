/* api_status: GET /api/v1/status — the daemon's version, uptime and the counts an operator
 * looks at first (open, overdue and at-risk items, the outbox), for `dunghanctl status` and
 * monitoring. One indexed count query (store_counts); no request body, scope read. */
#include "api_internal.h"

void api_status(struct api_ctx *x)
{
	static const char *const allowed[] = { "as_of", NULL };
	int64_t started = api_started_at(x->api), as_of = x->now;
	const char *v[1];
	struct store_counts c;
	struct api_error e;
	struct err err;
	char buf[256];

	/* as_of: the overdue counts as they will be then (dunghanctl --now). */
	if (api_query_values(x, allowed, v, buf, sizeof(buf), &e) != 0 ||
	    (v[0] && api_query_instant("as_of", v[0], &as_of, &e) != 0)) {
		api_reply_error(x, &e);
		return;
	}
	if (store_counts(x->store, as_of, &c, &err) != STORE_OK) {
		api_fail(&e, 503, "unavailable", NULL, "%s", err.msg);
		api_reply_error(x, &e);
		return;
	}
	api_reply(x, 200,
		  json_pack("{s:s, s:o, s:I, s:{s:I, s:I, s:I}, s:{s:I, s:I, s:I}, s:I, s:{s:I, s:I}}",
			    "version", DUNGHAN_VERSION, "started_at", api_time(x, started),
			    "uptime_s", (json_int_t)(x->now > started ? x->now - started : 0),
			    "open", "cases", (json_int_t)c.open_cases, "documents",
			    (json_int_t)c.open_documents, "assignments", (json_int_t)c.open_assignments,
			    "overdue", "cases", (json_int_t)c.overdue_cases, "documents",
			    (json_int_t)c.overdue_documents, "assignments",
			    (json_int_t)c.overdue_assignments, "at_risk_cases",
			    (json_int_t)c.at_risk_cases, "outbox", "pending",
			    (json_int_t)c.outbox_pending, "dead", (json_int_t)c.outbox_dead));
}
