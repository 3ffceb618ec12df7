/* api_kpi: the KPI routes of the API (docs/api.md, "KPIs"): figures per unit and period, the
 * error budget, a directive's cascade, and inspections. Placeholder until built. */
#include "api_internal.h"

static void not_yet(struct api_ctx *x)
{
	struct api_error e;

	api_fail(&e, 503, "unavailable", NULL, "KPIs are not available in this build");
	api_reply_error(x, &e);
}

void api_kpi(struct api_ctx *x) { not_yet(x); }
void api_kpi_budget(struct api_ctx *x) { not_yet(x); }
void api_directive_cascade(struct api_ctx *x, int64_t id) { (void)id; not_yet(x); }
void api_inspections_create(struct api_ctx *x) { not_yet(x); }
void api_inspections_list(struct api_ctx *x) { not_yet(x); }
