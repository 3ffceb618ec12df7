/* spool: see spool.h. Placeholder: the drop folder is not watched yet. */
#include "spool.h"

#include <stdlib.h>

struct spool {
	int unused;
};

struct spool *spool_new(uv_loop_t *loop, struct api *api, const struct config *cfg,
			struct err *err)
{
	struct spool *sp = calloc(1, sizeof(*sp));

	(void)loop, (void)api, (void)cfg;
	if (!sp)
		err_set(err, NULL, "out of memory");
	return sp;
}

void spool_set_config(struct spool *sp, const struct config *cfg)
{
	(void)sp, (void)cfg;
}

void spool_close(struct spool *sp, void (*cb)(void *arg), void *arg)
{
	free(sp);
	if (cb)
		cb(arg);
}
