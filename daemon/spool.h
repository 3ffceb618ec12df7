/* spool: the drop folder (import.spool_dir). The one-stop system's exports land there; each
 * complete file (renamed into place, or unchanged for import.settle) is moved to processing/,
 * imported all-or-nothing like `dunghanctl import`, then moved to done/, or to failed/ with a
 * FILE.errors.txt beside it. Watched with uv_fs_event plus a periodic scan. */
#ifndef DUNGHAN_SPOOL_H
#define DUNGHAN_SPOOL_H

#include <uv.h>

#include "api.h"
#include "config.h"
#include "err.h"

struct spool;

/* Starts watching cfg->import.spool_dir (creating it and its subfolders, mode 0750) on loop;
 * cases are created through api (borrowed). Without a spool_dir it does nothing until a reload
 * sets one. Returns NULL with err on failure (e.g. the folder cannot be created). */
struct spool *spool_new(uv_loop_t *loop, struct api *api, const struct config *cfg,
			struct err *err);

/* The configuration to use from now on (a new spool_dir is watched from now on). */
void spool_set_config(struct spool *sp, const struct config *cfg);

/* Stops watching; a file being imported is finished first. cb(arg) runs once every handle is
 * closed, after which sp is freed. */
void spool_close(struct spool *sp, void (*cb)(void *arg), void *arg);

#endif
