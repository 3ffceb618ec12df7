/* api_status: GET /api/v1/status — the daemon's version, uptime and the counts an operator
 * looks at first. Placeholder until built. */
#include "api_internal.h"

void api_status(struct api_ctx *x)
{
	struct api_error e;

	api_fail(&e, 503, "unavailable", NULL, "status is not available in this build");
	api_reply_error(x, &e);
}
