/* spool: the drop folder (import.spool_dir). The one-stop system's exports land there; each
 * complete file (its size and mtime unchanged for import.settle; hidden, *.part and *.tmp files
 * are left alone) is moved to processing/, imported all-or-nothing like `dunghanctl import`
 * (a validation pass, then the pass that commits, in chunks between which requests are served;
 * docs/import.md says what can still part it), then moved to done/, or to failed/ with a
 * FILE.errors.txt beside it listing every error with its line. Watched with uv_fs_event plus a
 * periodic scan (import.scan_interval). Cases are created by the actor "spool". */
#ifndef DUNGHAN_SPOOL_H
#define DUNGHAN_SPOOL_H

#include <uv.h>

#include "api.h"
#include "config.h"
#include "err.h"

struct spool;

/* Starts watching cfg->import.spool_dir (creating it and its subfolders, mode 0750) on loop;
 * cases are created through api (borrowed) in transactions of the spool's own, each begun and
 * finished within one of its callbacks. Files left in processing/ by a stop or a crash are
 * imported first (again from their start: rows already imported are recognised by their
 * codes). Without a spool_dir it does nothing until a reload sets one. Returns NULL with err
 * on failure (e.g. the folder cannot be created). cfg is borrowed until the next
 * spool_set_config. */
struct spool *spool_new(uv_loop_t *loop, struct api *api, const struct config *cfg,
			struct err *err);

/* The configuration to use from now on (a new spool_dir is watched from now on; a file being
 * imported is started over with it, since the old configuration may be freed after this
 * returns). */
void spool_set_config(struct spool *sp, const struct config *cfg);

/* Stops watching and importing at once (imports stop between chunks: a file being imported
 * stays in processing/ and is imported at the next start); the api is not used after this
 * returns. cb(arg) runs once every handle is closed, after which sp is freed. */
void spool_close(struct spool *sp, void (*cb)(void *arg), void *arg);

#endif
