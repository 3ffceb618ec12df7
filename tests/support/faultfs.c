/* faultfs: an LD_PRELOAD shim for the fault-injection tests (tests/blackbox/test_faults_io.c)
 * that makes the real dunghand's file system fail under it — write/pwrite/fsync returning EIO or
 * ENOSPC, opening for writing refused as on a read-only file — for the files whose path matches
 * a glob, while a trigger file exists or after N calls. Built as libfaultfs.so, not linked into
 * anything.
 *
 * DESIGN: SQLite's unix VFS reaches the C library through its own table of system calls, but
 * libsqlite3.so resolves those symbols through the PLT, so a preloaded definition takes them.
 * An SQLite test VFS would need code in the daemon to register it; the shim needs none, and it
 * sees exactly the calls the real binary makes (WAL frames, the commit's fsync, the checkpoint).
 * The settings are read once, from the environment:
 *   FAULTFS_MATCH    fnmatch(3) glob of the file's path (/proc/self/fd/N for an open file);
 *                    unset: the shim does nothing
 *   FAULTFS_CALLS    which calls fail, a comma list of write, pwrite, fsync, open (default
 *                    "write,pwrite,fsync"); open fails only opens for writing
 *   FAULTFS_ERRNO    EIO (default), ENOSPC, EROFS or EACCES; or none: the calls do not fail
 *                    (with FAULTFS_DELAY_MS: a slow disk)
 *   FAULTFS_TRIGGER  a path: calls fail only while it exists (unset: always)
 *   FAULTFS_AFTER    let this many matching calls through first (default 0)
 *   FAULTFS_DELAY_MS hold each matching call this long first (default 0), as a slow disk
 *                    does: the window in which a test stops the daemon mid-sync
 *   FAULTFS_LOG      a file to which each injected failure appends "call path", and each
 *                    delay "slow call path" as it begins
 * There is no state but the settings and one counter, both process-wide by nature: the shim
 * stands for the kernel, which is shared by every thread too. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

enum faultfs_call { FAULTFS_WRITE = 1, FAULTFS_PWRITE = 2, FAULTFS_FSYNC = 4, FAULTFS_OPEN = 8 };

static struct {
	char match[PATH_MAX];
	char trigger[PATH_MAX];
	char log[PATH_MAX];
	unsigned calls;
	int error; /* 0: none, the calls are only delayed */
	long after;
	long delay_ms;
	atomic_long seen;
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*pwrite)(int, const void *, size_t, off_t);
	ssize_t (*pwrite64)(int, const void *, size_t, off64_t);
	int (*fsync)(int);
	int (*fdatasync)(int);
	int (*open)(const char *, int, ...);
	int (*open64)(const char *, int, ...);
	int (*openat)(int, const char *, int, ...);
	int (*openat64)(int, const char *, int, ...);
} faultfs;

static pthread_once_t faultfs_once = PTHREAD_ONCE_INIT;

static void faultfs_copy(char *dst, const char *name)
{
	const char *v = getenv(name);

	snprintf(dst, PATH_MAX, "%s", v ? v : "");
}

static void faultfs_init(void)
{
	const char *calls = getenv("FAULTFS_CALLS"), *error = getenv("FAULTFS_ERRNO");
	const char *after = getenv("FAULTFS_AFTER"), *delay = getenv("FAULTFS_DELAY_MS");
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = { { "write", FAULTFS_WRITE }, { "pwrite", FAULTFS_PWRITE },
		      { "fsync", FAULTFS_FSYNC }, { "open", FAULTFS_OPEN } };

	faultfs.write = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	faultfs.pwrite = (ssize_t(*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
	faultfs.pwrite64 =
		(ssize_t(*)(int, const void *, size_t, off64_t))dlsym(RTLD_NEXT, "pwrite64");
	faultfs.fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	faultfs.fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	faultfs.open = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
	faultfs.open64 = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open64");
	faultfs.openat = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat");
	faultfs.openat64 = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat64");
	faultfs_copy(faultfs.match, "FAULTFS_MATCH");
	faultfs_copy(faultfs.trigger, "FAULTFS_TRIGGER");
	faultfs_copy(faultfs.log, "FAULTFS_LOG");
	faultfs.calls = calls ? 0 : FAULTFS_WRITE | FAULTFS_PWRITE | FAULTFS_FSYNC;
	while (calls && *calls) {
		size_t n = strcspn(calls, ",");
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strlen(names[i].name) == n && !strncmp(calls, names[i].name, n))
				faultfs.calls |= names[i].bit;
		calls += n + (calls[n] == ',');
	}
	faultfs.error = EIO;
	if (error && !strcmp(error, "ENOSPC"))
		faultfs.error = ENOSPC;
	else if (error && !strcmp(error, "EROFS"))
		faultfs.error = EROFS;
	else if (error && !strcmp(error, "EACCES"))
		faultfs.error = EACCES;
	else if (error && !strcmp(error, "none"))
		faultfs.error = 0;
	faultfs.after = after ? strtol(after, NULL, 10) : 0;
	faultfs.delay_ms = delay ? strtol(delay, NULL, 10) : 0;
}

static void faultfs_note(const char *call, const char *path)
{
	char line[PATH_MAX + 32];
	int fd, n;

	if (!faultfs.log[0])
		return;
	fd = faultfs.open(faultfs.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	n = snprintf(line, sizeof(line), "%s %s\n", call, path);
	if (n > 0 && faultfs.write(fd, line, (size_t)n) < 0)
		n = 0;
	close(fd);
}

/* Whether this call on path fails now; sets errno when it does. */
static bool faultfs_fails(enum faultfs_call call, const char *name, const char *path)
{
	struct stat st;

	if (!faultfs.match[0] || !(faultfs.calls & call) || fnmatch(faultfs.match, path, 0))
		return false;
	if (faultfs.trigger[0] && stat(faultfs.trigger, &st) != 0)
		return false;
	if (atomic_fetch_add(&faultfs.seen, 1) < faultfs.after)
		return false;
	if (faultfs.delay_ms > 0) {
		char slow[32];
		struct timespec ts = { faultfs.delay_ms / 1000, faultfs.delay_ms % 1000 * 1000000 };

		snprintf(slow, sizeof(slow), "slow %s", name);
		faultfs_note(slow, path);
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
	if (!faultfs.error)
		return false;
	faultfs_note(name, path);
	errno = faultfs.error;
	return true;
}

static bool faultfs_fd_fails(enum faultfs_call call, const char *name, int fd)
{
	char link[64], path[PATH_MAX];
	ssize_t n;
	int saved = errno;

	pthread_once(&faultfs_once, faultfs_init);
	if (!faultfs.match[0] || !(faultfs.calls & call))
		return false;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0) {
		errno = saved;
		return false;
	}
	path[n] = '\0';
	if (faultfs_fails(call, name, path))
		return true;
	errno = saved;
	return false;
}

static bool faultfs_open_fails(int flags, const char *path)
{
	int saved = errno;

	pthread_once(&faultfs_once, faultfs_init);
	if ((flags & O_ACCMODE) == O_RDONLY || !path)
		return false;
	if (faultfs_fails(FAULTFS_OPEN, "open", path))
		return true;
	errno = saved;
	return false;
}

ssize_t write(int fd, const void *buf, size_t n)
{
	if (faultfs_fd_fails(FAULTFS_WRITE, "write", fd))
		return -1;
	return faultfs.write(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	if (faultfs_fd_fails(FAULTFS_PWRITE, "pwrite", fd))
		return -1;
	return faultfs.pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	if (faultfs_fd_fails(FAULTFS_PWRITE, "pwrite64", fd))
		return -1;
	return faultfs.pwrite64(fd, buf, n, off);
}

int fsync(int fd)
{
	if (faultfs_fd_fails(FAULTFS_FSYNC, "fsync", fd))
		return -1;
	return faultfs.fsync(fd);
}

int fdatasync(int fd)
{
	if (faultfs_fd_fails(FAULTFS_FSYNC, "fdatasync", fd))
		return -1;
	return faultfs.fdatasync(fd);
}

/* The mode argument exists only with O_CREAT or O_TMPFILE; reading it otherwise is harmless on
 * the ABIs this runs on, and passing it on unused is what the C library does. */
#define FAULTFS_MODE(flags, last)                                                               \
	mode_t mode = 0;                                                                         \
	if ((flags) & (O_CREAT | __O_TMPFILE)) {                                                 \
		va_list ap;                                                                      \
		va_start(ap, last);                                                              \
		mode = (mode_t)va_arg(ap, int);                                                  \
		va_end(ap);                                                                      \
	}

int open(const char *path, int flags, ...)
{
	FAULTFS_MODE(flags, flags);
	if (faultfs_open_fails(flags, path))
		return -1;
	return faultfs.open(path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	FAULTFS_MODE(flags, flags);
	if (faultfs_open_fails(flags, path))
		return -1;
	return faultfs.open64(path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	FAULTFS_MODE(flags, flags);
	if (faultfs_open_fails(flags, path))
		return -1;
	return faultfs.openat(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	FAULTFS_MODE(flags, flags);
	if (faultfs_open_fails(flags, path))
		return -1;
	return faultfs.openat64(dirfd, path, flags, mode);
}
