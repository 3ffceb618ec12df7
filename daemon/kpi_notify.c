/* kpi_notify: see kpi_notify.h. Placeholder: no checks run yet. */
#include "kpi_notify.h"

#include <stdlib.h>

struct kpi_notify {
	int unused;
};

struct kpi_notify *kpi_notify_new(uv_loop_t *loop, struct store *store, const struct config *cfg,
				  struct err *err)
{
	struct kpi_notify *n = calloc(1, sizeof(*n));

	(void)loop, (void)store, (void)cfg;
	if (!n)
		err_set(err, NULL, "out of memory");
	return n;
}

void kpi_notify_set_config(struct kpi_notify *n, const struct config *cfg)
{
	(void)n, (void)cfg;
}

void kpi_notify_close(struct kpi_notify *n, void (*cb)(void *arg), void *arg)
{
	free(n);
	if (cb)
		cb(arg);
}
