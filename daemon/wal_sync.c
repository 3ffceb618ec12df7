/* wal_sync: fdatasync(2) of the -wal file on a thread, results handed to the loop through a
 * uv_async_t (see wal_sync.h). */
#include "wal_sync.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Marks kept of the asks not yet covered: when more are out, a sync reports an older mark
 * than it covers, which only makes a failed sync's cut keep less. */
#define WAL_SYNC_MARKS 64

struct wal_sync {
	uv_async_t done;
	int fd;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	/* under lock */
	uint64_t asked;   /* the highest ticket asked for */
	uint64_t covered; /* the highest ticket a finished sync covered */
	uint64_t failed;  /* the ticket of the sync that failed, 0: none */
	int error;
	bool stop;
	double times[WAL_SYNC_TIMES]; /* seconds each sync took since the last report */
	unsigned ntimes;
	/* the loop's own */
	struct {
		uint64_t ticket;
		struct store_wal_mark mark;
	} asks[WAL_SYNC_MARKS]; /* the last ones asked, a ring: older ones need no mark */
	uint64_t tickets;
	uint64_t reported;
	bool closing;
	bool failure_reported;
	wal_sync_cb cb;
	void *arg;
	void (*observe)(void *arg, double seconds);
	void *observe_arg;
	void (*closed)(void *arg);
	void *closed_arg;
};

static void *run(void *arg)
{
	struct wal_sync *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->stop && !w->failed && w->asked == w->covered)
			pthread_cond_wait(&w->wake, &w->lock);
		if (w->stop || w->failed)
			break;
		uint64_t ticket = w->asked;
		pthread_mutex_unlock(&w->lock);
		uint64_t start = uv_hrtime();
		int rc, error;
		while ((rc = fdatasync(w->fd)) != 0 && errno == EINTR)
			;
		error = rc == 0 ? 0 : errno;
		double took = (double)(uv_hrtime() - start) / 1e9;
		pthread_mutex_lock(&w->lock);
		if (w->ntimes < WAL_SYNC_TIMES)
			w->times[w->ntimes++] = took;
		if (rc == 0) {
			w->covered = ticket;
		} else {
			w->failed = ticket;
			w->error = error;
		}
		uv_async_send(&w->done);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* The mark asked with the latest ticket up to covered still in the ring, or NULL. */
static const struct store_wal_mark *mark_of(const struct wal_sync *w, uint64_t covered)
{
	for (uint64_t t = covered; t > 0 && t + WAL_SYNC_MARKS > w->tickets; t--) {
		size_t i = (size_t)(t % WAL_SYNC_MARKS);
		if (w->asks[i].ticket == t)
			return &w->asks[i].mark;
	}
	return NULL;
}

/* Reports what the thread did; closing: from wal_sync_close, a failure only. */
static void report(struct wal_sync *w, bool closing)
{
	double times[WAL_SYNC_TIMES];
	uint64_t covered, failed;
	unsigned ntimes;
	int error;

	pthread_mutex_lock(&w->lock);
	covered = w->covered;
	failed = w->failed;
	error = w->error;
	ntimes = w->ntimes;
	memcpy(times, w->times, ntimes * sizeof(times[0]));
	w->ntimes = 0;
	pthread_mutex_unlock(&w->lock);
	for (unsigned i = 0; i < ntimes && w->observe && !closing; i++)
		w->observe(w->observe_arg, times[i]);
	if (!closing && covered > w->reported) {
		w->reported = covered;
		w->cb(w->arg, covered, mark_of(w, covered), 0);
	}
	/* The callback may have closed w, which reported any failure then. */
	if (failed && !w->failure_reported && (closing || !w->closing)) {
		w->failure_reported = true;
		w->cb(w->arg, failed, NULL, error);
	}
}

static void on_done(uv_async_t *h)
{
	report(h->data, false);
}

static void stop_thread(struct wal_sync *w)
{
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
}

static void free_memory(struct wal_sync *w)
{
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	close(w->fd);
	free(w);
}

struct wal_sync *wal_sync_new(uv_loop_t *loop, const char *path, wal_sync_cb cb, void *arg,
			      struct err *err)
{
	struct wal_sync *w = calloc(1, sizeof(*w));
	int rc;

	if (!w) {
		err_set(err, NULL, "out of memory");
		return NULL;
	}
	w->cb = cb;
	w->arg = arg;
	if ((w->fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
		err_set(err, NULL, "cannot open %s to sync it: %s", path, strerror(errno));
		free(w);
		return NULL;
	}
	if (pthread_mutex_init(&w->lock, NULL) != 0) {
		err_set(err, NULL, "cannot create the WAL sync's lock");
		close(w->fd);
		free(w);
		return NULL;
	}
	if (pthread_cond_init(&w->wake, NULL) != 0) {
		err_set(err, NULL, "cannot create the WAL sync's condition");
		pthread_mutex_destroy(&w->lock);
		close(w->fd);
		free(w);
		return NULL;
	}
	/* The thread first: it waits for an ask, and no ask comes before the handle is made. */
	if ((rc = pthread_create(&w->thread, NULL, run, w)) != 0) {
		err_set(err, NULL, "cannot start the WAL sync's thread: %s", strerror(rc));
		free_memory(w);
		return NULL;
	}
	if ((rc = uv_async_init(loop, &w->done, on_done)) != 0) {
		err_set(err, NULL, "cannot create the WAL sync's handle: %s", uv_strerror(rc));
		stop_thread(w);
		free_memory(w);
		return NULL;
	}
	w->done.data = w;
	return w;
}

uint64_t wal_sync_ask(struct wal_sync *w, const struct store_wal_mark *mark)
{
	size_t i = (size_t)((w->tickets + 1) % WAL_SYNC_MARKS);

	w->asks[i].ticket = w->tickets + 1;
	w->asks[i].mark = *mark;
	pthread_mutex_lock(&w->lock);
	w->asked = ++w->tickets;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	return w->tickets;
}

void wal_sync_observe(struct wal_sync *w, void (*observe)(void *arg, double seconds),
		      void *arg)
{
	w->observe = observe;
	w->observe_arg = arg;
}

uint64_t wal_sync_last(const struct wal_sync *w)
{
	return w->tickets;
}

static void on_closed(uv_handle_t *h)
{
	struct wal_sync *w = h->data;
	void (*closed)(void *) = w->closed;
	void *arg = w->closed_arg;

	free_memory(w);
	if (closed)
		closed(arg);
}

void wal_sync_close(struct wal_sync *w, void (*closed)(void *arg), void *arg)
{
	w->closing = true;
	stop_thread(w);
	report(w, true);
	w->closed = closed;
	w->closed_arg = arg;
	uv_close((uv_handle_t *)&w->done, on_closed);
}
