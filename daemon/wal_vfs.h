/* wal_vfs: an SQLite VFS over the system's that writes a commit's WAL frames to the file in one
 * write instead of two per frame (a 24-byte header, then the page), since each write(2) costs
 * the kernel a page-cache walk and, for a header, a whole page's bookkeeping.
 *
 * DESIGN. Writes to a -wal file that follow one another are gathered in a buffer and written
 * when SQLite syncs the file (every commit: the store runs synchronous=FULL; a commit whose
 * sync is deferred, wal_vfs_defer_syncs, still writes its frames there), truncates or
 * closes it, writes elsewhere in it, or when the buffer is full; reads and sizes see them
 * where they are. Nothing reaches the wal-index before that sync, so no reader can look for
 * frames that are still buffered. A failed write is reported at that point (by xSync, or the
 * xWrite that flushed), which fails SQLite's whole transaction; its frames are dropped with
 * it. Every other file, and every other call, goes straight to the system's VFS. */
#ifndef DUNGHAN_WAL_VFS_H
#define DUNGHAN_WAL_VFS_H

#include "err.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

/* The name to pass to sqlite3_open_v2(), after wal_vfs_register() succeeded. */
#define WAL_VFS_NAME "dunghan-wal"

/* Registers the VFS with SQLite (not as the default), once per process: later calls only return
 * the first one's outcome. Thread-safe. Returns 0, or -1 with err. */
int wal_vfs_register(struct err *err);

/* While on, SQLite's syncs of db's WAL write out the frames held and stop there: a commit
 * reaches the file, and every connection's view, but not the disk, which the caller then makes
 * durable itself with fdatasync(2) of the -wal file (wal_sync.h). Off, syncs are the system's.
 * Returns 0, or -1 when db's WAL is not open through this VFS. */
int wal_vfs_defer_syncs(sqlite3 *db, bool on);

/* How many times db's connection wrote a WAL header, which SQLite does when the WAL starts
 * again from its beginning (every frame before was copied into the database and synced); 0
 * when the WAL is not open through this VFS. */
uint64_t wal_vfs_generation(sqlite3 *db);

#endif
