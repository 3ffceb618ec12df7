/* wal_vfs: gathers the WAL's frame writes into one write per commit (see wal_vfs.h); every
 * other file is the system VFS's own object, opened into the memory SQLite gives us. */
#include "wal_vfs.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The unix VFS writes at most 128 KiB - 1 in one call (seekAndWrite masks the length with
 * 0x1ffff and reports a longer write as a full disk): 31 frames of 4 KiB pages. A commit of
 * more is written in several pieces. */
#define WAL_BUFFER_BYTES (126 * 1024)

struct wal_file {
	sqlite3_file base;      /* pMethods = &wal_methods */
	sqlite3_file *real;     /* the system VFS's file, in the memory after this struct */
	unsigned char *buf;     /* allocated on the first write */
	size_t len;             /* bytes gathered */
	sqlite3_int64 start;    /* the file offset of buf[0] */
	bool defer_sync;        /* wal_vfs_defer_syncs: a sync only writes out what is held */
	uint64_t generation;    /* WAL headers written: the WAL started again from its beginning */
	bool header_unsynced;   /* a header written since the last real sync */
};

static sqlite3_vfs *base_vfs(sqlite3_vfs *vfs)
{
	return vfs->pAppData;
}

/* Writes what is gathered, and forgets it whatever the outcome. Only a write of SQLite's
 * (buffer full, a write elsewhere) or its sync of the file flushes (reads take held frames from
 * memory), and SQLite fails the whole transaction when either fails: a failed write puts its
 * pager in its error state, a failed sync fails the COMMIT, both roll back. The frames are then
 * garbage, and must go: kept, a later write would put a refused commit, commit frame and all,
 * into the file, where a crash before anything overwrote it would bring it back. */
static int flush(struct wal_file *f)
{
	int rc = SQLITE_OK;

	if (f->len)
		rc = f->real->pMethods->xWrite(f->real, f->buf, (int)f->len, f->start);
	f->len = 0;
	return rc;
}

static int wal_close(sqlite3_file *file)
{
	struct wal_file *f = (struct wal_file *)file;
	int rc = flush(f), rc2 = f->real->pMethods->xClose(f->real);

	free(f->buf);
	f->buf = NULL;
	return rc != SQLITE_OK ? rc : rc2;
}

/* From the file and, where they overlap, the frames still gathered: a read needs no write, so
 * reads go on while the disk refuses writes. */
static int wal_read(sqlite3_file *file, void *out, int amt, sqlite3_int64 off)
{
	struct wal_file *f = (struct wal_file *)file;
	sqlite3_int64 end = off + amt, held_end = f->start + (sqlite3_int64)f->len, lo, hi;
	int rc;

	if (!f->len || end <= f->start || off >= held_end)
		return f->real->pMethods->xRead(f->real, out, amt, off);
	lo = off > f->start ? off : f->start;
	hi = end < held_end ? end : held_end;
	rc = SQLITE_OK;
	if (lo > off || hi < end) {
		rc = f->real->pMethods->xRead(f->real, out, amt, off);
		if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ)
			return rc;
	}
	memcpy((unsigned char *)out + (lo - off), f->buf + (lo - f->start), (size_t)(hi - lo));
	/* A read past the file's end is short unless the gathered frames reach its end. */
	return rc == SQLITE_IOERR_SHORT_READ && hi < end ? rc : SQLITE_OK;
}

static int wal_write(sqlite3_file *file, const void *data, int amt, sqlite3_int64 off)
{
	struct wal_file *f = (struct wal_file *)file;
	size_t n = (size_t)amt;
	int rc;

	if (off == 0) {
		f->generation++;
		f->header_unsynced = true;
	}
	if (f->len && (off != f->start + (sqlite3_int64)f->len || f->len + n > WAL_BUFFER_BYTES)) {
		if ((rc = flush(f)) != SQLITE_OK)
			return rc;
	}
	if (!f->buf && !(f->buf = malloc(WAL_BUFFER_BYTES)))
		return f->real->pMethods->xWrite(f->real, data, amt, off);
	if (n > WAL_BUFFER_BYTES)
		return f->real->pMethods->xWrite(f->real, data, amt, off);
	if (!f->len)
		f->start = off;
	memcpy(f->buf + f->len, data, n);
	f->len += n;
	return SQLITE_OK;
}

static int wal_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	struct wal_file *f = (struct wal_file *)file;
	int rc = flush(f);

	return rc != SQLITE_OK ? rc : f->real->pMethods->xTruncate(f->real, size);
}

static int wal_sync(sqlite3_file *file, int flags)
{
	struct wal_file *f = (struct wal_file *)file;
	int rc = flush(f);

	/* A new header is synced before any frame follows it, deferred or not: SQLite relies on
	 * that order after a restart of the WAL (its "syncHeader"), lest a power cut leave new
	 * frames behind an old header. */
	if (rc != SQLITE_OK || (f->defer_sync && !f->header_unsynced))
		return rc;
	rc = f->real->pMethods->xSync(f->real, flags);
	if (rc == SQLITE_OK)
		f->header_unsynced = false;
	return rc;
}

static int wal_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
	struct wal_file *f = (struct wal_file *)file;
	int rc = f->real->pMethods->xFileSize(f->real, size);

	if (rc == SQLITE_OK && f->len && f->start + (sqlite3_int64)f->len > *size)
		*size = f->start + (sqlite3_int64)f->len;
	return rc;
}

static int wal_lock(sqlite3_file *file, int level)
{
	struct wal_file *f = (struct wal_file *)file;

	return f->real->pMethods->xLock(f->real, level);
}

static int wal_unlock(sqlite3_file *file, int level)
{
	struct wal_file *f = (struct wal_file *)file;

	return f->real->pMethods->xUnlock(f->real, level);
}

static int wal_check_lock(sqlite3_file *file, int *out)
{
	struct wal_file *f = (struct wal_file *)file;

	return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int wal_file_control(sqlite3_file *file, int op, void *arg)
{
	struct wal_file *f = (struct wal_file *)file;

	return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int wal_sector_size(sqlite3_file *file)
{
	struct wal_file *f = (struct wal_file *)file;

	return f->real->pMethods->xSectorSize(f->real);
}

static int wal_device(sqlite3_file *file)
{
	struct wal_file *f = (struct wal_file *)file;

	return f->real->pMethods->xDeviceCharacteristics(f->real);
}

/* A -wal file has no shared memory and is not memory-mapped by SQLite; these only pass on. */
static int wal_shm_map(sqlite3_file *file, int page, int size, int extend, void volatile **out)
{
	struct wal_file *f = (struct wal_file *)file;

	if (f->real->pMethods->iVersion < 2)
		return SQLITE_IOERR;
	return f->real->pMethods->xShmMap(f->real, page, size, extend, out);
}

static int wal_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
	struct wal_file *f = (struct wal_file *)file;

	if (f->real->pMethods->iVersion < 2)
		return SQLITE_IOERR;
	return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

static void wal_shm_barrier(sqlite3_file *file)
{
	struct wal_file *f = (struct wal_file *)file;

	if (f->real->pMethods->iVersion >= 2)
		f->real->pMethods->xShmBarrier(f->real);
}

static int wal_shm_unmap(sqlite3_file *file, int delete_flag)
{
	struct wal_file *f = (struct wal_file *)file;

	if (f->real->pMethods->iVersion < 2)
		return SQLITE_OK;
	return f->real->pMethods->xShmUnmap(f->real, delete_flag);
}

static int wal_fetch(sqlite3_file *file, sqlite3_int64 off, int amt, void **out)
{
	struct wal_file *f = (struct wal_file *)file;
	int rc = flush(f);

	*out = NULL;
	if (rc != SQLITE_OK || f->real->pMethods->iVersion < 3)
		return rc;
	return f->real->pMethods->xFetch(f->real, off, amt, out);
}

static int wal_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
	struct wal_file *f = (struct wal_file *)file;

	if (f->real->pMethods->iVersion < 3)
		return SQLITE_OK;
	return f->real->pMethods->xUnfetch(f->real, off, p);
}

static const sqlite3_io_methods wal_methods = {
	.iVersion = 3,
	.xClose = wal_close,
	.xRead = wal_read,
	.xWrite = wal_write,
	.xTruncate = wal_truncate,
	.xSync = wal_sync,
	.xFileSize = wal_file_size,
	.xLock = wal_lock,
	.xUnlock = wal_unlock,
	.xCheckReservedLock = wal_check_lock,
	.xFileControl = wal_file_control,
	.xSectorSize = wal_sector_size,
	.xDeviceCharacteristics = wal_device,
	.xShmMap = wal_shm_map,
	.xShmLock = wal_shm_lock,
	.xShmBarrier = wal_shm_barrier,
	.xShmUnmap = wal_shm_unmap,
	.xFetch = wal_fetch,
	.xUnfetch = wal_unfetch,
};

static int vfs_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
		    int *out_flags)
{
	sqlite3_vfs *base = base_vfs(vfs);
	struct wal_file *f = (struct wal_file *)file;
	int rc;

	/* Anything but a WAL is the system's file itself, in the same memory. */
	if (!(flags & SQLITE_OPEN_WAL))
		return base->xOpen(base, name, file, flags, out_flags);
	memset(f, 0, sizeof(*f));
	f->real = (sqlite3_file *)(f + 1);
	rc = base->xOpen(base, name, f->real, flags, out_flags);
	if (rc != SQLITE_OK) {
		/* SQLite closes a file only when it has methods: the system's may have been set. */
		if (f->real->pMethods)
			f->real->pMethods->xClose(f->real);
		f->base.pMethods = NULL;
		return rc;
	}
	f->base.pMethods = &wal_methods;
	return SQLITE_OK;
}

/* The rest of the VFS is the system's, called with its own object. */
static int vfs_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	return base_vfs(vfs)->xDelete(base_vfs(vfs), name, sync_dir);
}

static int vfs_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	return base_vfs(vfs)->xAccess(base_vfs(vfs), name, flags, out);
}

static int vfs_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	return base_vfs(vfs)->xFullPathname(base_vfs(vfs), name, n, out);
}

static void *vfs_dl_open(sqlite3_vfs *vfs, const char *name)
{
	return base_vfs(vfs)->xDlOpen(base_vfs(vfs), name);
}

static void vfs_dl_error(sqlite3_vfs *vfs, int n, char *out)
{
	base_vfs(vfs)->xDlError(base_vfs(vfs), n, out);
}

static void (*vfs_dl_sym(sqlite3_vfs *vfs, void *lib, const char *sym))(void)
{
	return base_vfs(vfs)->xDlSym(base_vfs(vfs), lib, sym);
}

static void vfs_dl_close(sqlite3_vfs *vfs, void *lib)
{
	base_vfs(vfs)->xDlClose(base_vfs(vfs), lib);
}

static int vfs_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	return base_vfs(vfs)->xRandomness(base_vfs(vfs), n, out);
}

static int vfs_sleep(sqlite3_vfs *vfs, int us)
{
	return base_vfs(vfs)->xSleep(base_vfs(vfs), us);
}

static int vfs_current_time(sqlite3_vfs *vfs, double *out)
{
	return base_vfs(vfs)->xCurrentTime(base_vfs(vfs), out);
}

static int vfs_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	return base_vfs(vfs)->xGetLastError(base_vfs(vfs), n, out);
}

static int vfs_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	return base_vfs(vfs)->xCurrentTimeInt64(base_vfs(vfs), out);
}

/* SQLite keeps a pointer to the registered object for the life of the process, so it is one
 * object per process, filled in once (pthread_once) and never changed after. */
static sqlite3_vfs wal_vfs;
static int registered_rc;
static pthread_once_t register_once = PTHREAD_ONCE_INIT;

static void register_vfs(void)
{
	sqlite3_vfs *base = sqlite3_vfs_find(NULL);

	if (!base || base->iVersion < 2) {
		registered_rc = SQLITE_ERROR;
		return;
	}
	wal_vfs = (sqlite3_vfs){
		.iVersion = 2,
		.szOsFile = (int)sizeof(struct wal_file) + base->szOsFile,
		.mxPathname = base->mxPathname,
		.zName = WAL_VFS_NAME,
		.pAppData = base,
		.xOpen = vfs_open,
		.xDelete = vfs_delete,
		.xAccess = vfs_access,
		.xFullPathname = vfs_full_pathname,
		.xDlOpen = vfs_dl_open,
		.xDlError = vfs_dl_error,
		.xDlSym = vfs_dl_sym,
		.xDlClose = vfs_dl_close,
		.xRandomness = vfs_randomness,
		.xSleep = vfs_sleep,
		.xCurrentTime = vfs_current_time,
		.xGetLastError = vfs_last_error,
		.xCurrentTimeInt64 = vfs_current_time64,
	};
	registered_rc = sqlite3_vfs_register(&wal_vfs, 0);
}

static struct wal_file *wal_of(sqlite3 *db)
{
	sqlite3_file *file = NULL;

	if (sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &file) != SQLITE_OK ||
	    !file || file->pMethods != &wal_methods)
		return NULL;
	return (struct wal_file *)file;
}

int wal_vfs_defer_syncs(sqlite3 *db, bool on)
{
	struct wal_file *f = wal_of(db);

	if (!f)
		return -1;
	f->defer_sync = on;
	return 0;
}

uint64_t wal_vfs_generation(sqlite3 *db)
{
	struct wal_file *f = wal_of(db);

	return f ? f->generation : 0;
}

int wal_vfs_register(struct err *err)
{
	pthread_once(&register_once, register_vfs);
	if (registered_rc != SQLITE_OK) {
		err_set(err, NULL, "cannot set up the database's WAL writer: %s",
			sqlite3_errstr(registered_rc));
		return -1;
	}
	return 0;
}
