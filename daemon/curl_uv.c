/* curl_uv: libcurl's multi-socket API on a libuv loop (see curl_uv.h). Follows curl's
 * docs/examples/multi-uv.c; libcurl's man pages CURLMOPT_SOCKETFUNCTION, CURLMOPT_TIMERFUNCTION,
 * curl_multi_socket_action, curl_multi_assign, CURLOPT_OPENSOCKETFUNCTION and
 * CURLOPT_CLOSESOCKETFUNCTION are the contract this file relies on.
 *
 * DESIGN. Sockets. Every socket libcurl asks us to watch has a struct curl_uv_sock holding its
 * uv_poll_t; libcurl keeps a pointer to it (curl_multi_assign) while it watches the socket, and
 * curl_uv keeps every live one in a list keyed by descriptor. Two kinds:
 *  - connection sockets, which curl_uv creates in the open-socket callback (so each gets its
 *    record, and its poll handle is initialized before libcurl even connects). CURL_POLL_REMOVE
 *    only stops polling: the connection may go idle in libcurl's cache and be watched again by a
 *    later transfer (found again by descriptor). libcurl closes them through the close-socket
 *    callback, which stops the poll handle (so epoll forgets the fd at once) and uv_close()s it;
 *    the descriptor itself is closed in the handle's close callback. So libuv never polls a
 *    closed fd, and the fd number stays taken (cannot be reused by a new socket) for as long as a
 *    poll handle refers to it. We chose this over dup(): no second descriptor, and libcurl's
 *    close is only delayed to the end of the loop iteration.
 *  - sockets libcurl opens and closes itself (the threaded resolver's wake-up socketpair): on
 *    CURL_POLL_REMOVE, which libcurl sends before closing them, the poll handle is stopped and
 *    closed; curl_uv never closes those descriptors.
 * Each record also remembers the socket's inode: should libcurl ever close a connection socket
 * without the callback, a later socket with the same number is told apart from the stale record,
 * which is dropped without closing anything.
 *
 * Transfers. A struct curl_uv_xfer (CURLOPT_PRIVATE) follows each submitted easy handle: queued
 * in its pool, then active (in the multi handle), then finished, and is freed just before its
 * done callback runs. Completions are collected by curl_uv_drain after every
 * curl_multi_socket_action (freeing pool slots and starting queued transfers) and the done
 * callbacks run after the drain, outside any libcurl call, so they may submit or close.
 * curl_uv_close only flags and arms the timer: the teardown runs in the timer callback, outside
 * any caller's stack. */
#include "curl_uv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

struct curl_uv_xfer;

struct curl_uv_list {
	struct curl_uv_xfer *head, *tail;
};

struct curl_uv_xfer {
	struct curl_uv_xfer *prev, *next; /* in a pool queue, c->active or c->finished */
	CURL *easy;
	struct curl_uv_pool *pool;        /* NULL: no pool, or finished */
	curl_uv_done_cb done;
	void *arg;
	CURLcode result;
};

struct curl_uv_pool {
	struct curl_uv_pool *prev, *next;
	struct curl_uv_list queue; /* waiting for a slot, oldest first */
	unsigned cap;              /* 0: none */
	unsigned inflight;
	char key[];
};

struct curl_uv_sock {
	uv_poll_t poll;
	struct curl_uv *c;
	struct curl_uv_sock *prev, *next; /* in c->socks until retired */
	curl_socket_t fd;
	dev_t dev;
	ino_t ino;
	bool owned;    /* opened by curl_uv: closed by us once the poll handle is closed */
	bool close_fd; /* set at retirement: close fd in the close callback */
	/* What the poll handle watches (UV_READABLE, UV_WRITABLE; 0: stopped). A connection
	 * libcurl stops watching (CURL_POLL_REMOVE: it idles in the cache) stays polled, parked:
	 * libuv's every uv_poll_start and uv_poll_stop costs epoll_ctl calls, two for each
	 * message on a reused connection otherwise. The next transfer on it asks for the same
	 * events and costs none; an event while parked (the server closed it) stops the poll. */
	int events;
	bool parked;
};

struct curl_uv {
	uv_loop_t *loop;
	CURLM *multi;            /* NULL once torn down */
	uv_timer_t timer;        /* libcurl's timeout; then the teardown */
	uv_idle_t soon;          /* libcurl's timeout of 0 ms: acted on in this loop iteration */
	struct curl_uv_sock *socks;
	struct curl_uv_pool *pools;
	struct curl_uv_list active, finished;
	unsigned ninflight, nqueued;
	unsigned nhandles;       /* initialized handles whose close callback has not run */
	bool closing;
	curl_uv_close_cb close_cb;
	void *close_arg;
	void (*on_error)(const char *msg, void *ctx);
	void *error_ctx;
};

static void curl_uv_on_timer(uv_timer_t *t);

__attribute__((format(printf, 2, 3)))
static void curl_uv_report(struct curl_uv *c, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!c->on_error)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->on_error(msg, c->error_ctx);
}

/* ---- lists ---- */

static void curl_uv_list_push(struct curl_uv_list *l, struct curl_uv_xfer *x)
{
	x->next = NULL;
	x->prev = l->tail;
	if (l->tail)
		l->tail->next = x;
	else
		l->head = x;
	l->tail = x;
}

static void curl_uv_list_unlink(struct curl_uv_list *l, struct curl_uv_xfer *x)
{
	if (x->prev)
		x->prev->next = x->next;
	else
		l->head = x->next;
	if (x->next)
		x->next->prev = x->prev;
	else
		l->tail = x->prev;
	x->prev = x->next = NULL;
}

static struct curl_uv_xfer *curl_uv_list_shift(struct curl_uv_list *l)
{
	struct curl_uv_xfer *x = l->head;

	if (x)
		curl_uv_list_unlink(l, x);
	return x;
}

/* ---- the end: every handle closed ---- */

static void curl_uv_handle_gone(struct curl_uv *c)
{
	c->nhandles--;
	if (c->nhandles > 0 || !c->closing)
		return;
	if (c->close_cb)
		c->close_cb(c, c->close_arg);
	free(c);
}

/* ---- sockets ---- */

static void curl_uv_on_sock_closed(uv_handle_t *h)
{
	struct curl_uv_sock *s = container_of((uv_poll_t *)h, struct curl_uv_sock, poll);
	struct curl_uv *c = s->c;

	if (s->close_fd && close(s->fd) != 0)
		curl_uv_report(c, "close(%d): %s", (int)s->fd, strerror(errno));
	free(s);
	curl_uv_handle_gone(c);
}

/* Stops watching s now (epoll forgets the fd before this returns) and closes its handle; the
 * record is freed, and the fd closed when close_fd, in the close callback. */
static void curl_uv_sock_retire(struct curl_uv *c, struct curl_uv_sock *s, bool close_fd)
{
	int rc = uv_poll_stop(&s->poll);

	if (rc < 0)
		curl_uv_report(c, "uv_poll_stop: %s", uv_strerror(rc));
	if (s->prev)
		s->prev->next = s->next;
	else
		c->socks = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
	s->close_fd = close_fd;
	uv_close((uv_handle_t *)&s->poll, curl_uv_on_sock_closed);
}

/* True when fd is still the very socket s was made for. */
static bool curl_uv_sock_same(const struct curl_uv_sock *s, curl_socket_t fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino;
}

/* The live record of fd, or NULL. A record whose fd number now names another socket is stale
 * (libcurl closed it behind our back): it is retired, leaving the fd alone. */
static struct curl_uv_sock *curl_uv_sock_find(struct curl_uv *c, curl_socket_t fd)
{
	struct curl_uv_sock *s;

	for (s = c->socks; s; s = s->next)
		if (s->fd == fd)
			break;
	if (!s || curl_uv_sock_same(s, fd))
		return s;
	curl_uv_sock_retire(c, s, false);
	return NULL;
}

/* A record with an initialized (stopped) poll handle for fd, or NULL (reported). */
static struct curl_uv_sock *curl_uv_sock_new(struct curl_uv *c, curl_socket_t fd, bool owned)
{
	struct curl_uv_sock *s, *next;
	struct stat st;
	int rc;

	/* fd was just handed out by the kernel: any record of that number is stale. */
	for (s = c->socks; s; s = next) {
		next = s->next;
		if (s->fd == fd)
			curl_uv_sock_retire(c, s, false);
	}
	if (fstat(fd, &st) != 0) {
		curl_uv_report(c, "fstat(%d): %s", (int)fd, strerror(errno));
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		curl_uv_report(c, "out of memory for a socket");
		return NULL;
	}
	rc = uv_poll_init_socket(c->loop, &s->poll, fd);
	if (rc < 0) {
		curl_uv_report(c, "uv_poll_init_socket(%d): %s", (int)fd, uv_strerror(rc));
		free(s);
		return NULL;
	}
	c->nhandles++;
	s->c = c;
	s->fd = fd;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->owned = owned;
	s->next = c->socks;
	if (c->socks)
		c->socks->prev = s;
	c->socks = s;
	return s;
}

/* CURLOPT_OPENSOCKETFUNCTION: a connection socket, with its record. */
static curl_socket_t curl_uv_on_open_socket(void *clientp, curlsocktype purpose,
					    struct curl_sockaddr *addr)
{
	struct curl_uv *c = clientp;
	curl_socket_t fd;

	(void)purpose;
	fd = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
	if (fd < 0)
		return CURL_SOCKET_BAD;
	if (!curl_uv_sock_new(c, fd, true)) {
		close(fd);
		return CURL_SOCKET_BAD;
	}
	return fd;
}

/* CURLOPT_CLOSESOCKETFUNCTION: libcurl is done with fd (it sent CURL_POLL_REMOVE first). */
static int curl_uv_on_close_socket(void *clientp, curl_socket_t fd)
{
	struct curl_uv *c = clientp;
	struct curl_uv_sock *s = curl_uv_sock_find(c, fd);

	if (s && s->owned) {
		curl_uv_sock_retire(c, s, true);
		return 0;
	}
	if (s)
		curl_uv_sock_retire(c, s, false);
	if (close(fd) != 0) {
		curl_uv_report(c, "close(%d): %s", (int)fd, strerror(errno));
		return 1;
	}
	return 0;
}

/* ---- transfers ---- */

static void curl_uv_finish(struct curl_uv *c, struct curl_uv_xfer *x, CURLcode result)
{
	x->pool = NULL;
	x->result = result;
	curl_uv_list_push(&c->finished, x);
}

static CURLMcode curl_uv_start(struct curl_uv *c, struct curl_uv_xfer *x)
{
	CURLMcode mc = curl_multi_add_handle(c->multi, x->easy);

	if (mc != CURLM_OK)
		return mc;
	curl_uv_list_push(&c->active, x);
	c->ninflight++;
	if (x->pool)
		x->pool->inflight++;
	return CURLM_OK;
}

static struct curl_uv_pool *curl_uv_pool_get(struct curl_uv *c, const char *key)
{
	struct curl_uv_pool *p;
	size_t len = strlen(key);

	for (p = c->pools; p; p = p->next)
		if (strcmp(p->key, key) == 0)
			return p;
	p = calloc(1, sizeof(*p) + len + 1);
	if (!p)
		return NULL;
	memcpy(p->key, key, len + 1);
	p->next = c->pools;
	if (c->pools)
		c->pools->prev = p;
	c->pools = p;
	return p;
}

static void curl_uv_pool_free(struct curl_uv *c, struct curl_uv_pool *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		c->pools = p->next;
	if (p->next)
		p->next->prev = p->prev;
	free(p);
}

/* Starts what p's cap allows, oldest first; frees p once it has nothing left. */
static void curl_uv_pool_pump(struct curl_uv *c, struct curl_uv_pool *p)
{
	struct curl_uv_xfer *x;
	CURLMcode mc;

	while (p->queue.head && (p->cap == 0 || p->inflight < p->cap)) {
		x = curl_uv_list_shift(&p->queue);
		c->nqueued--;
		mc = curl_uv_start(c, x);
		if (mc != CURLM_OK) {
			curl_uv_report(c, "curl_multi_add_handle: %s", curl_multi_strerror(mc));
			curl_uv_finish(c, x, mc == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY
								  : CURLE_FAILED_INIT);
		}
	}
	if (!p->inflight && !p->queue.head)
		curl_uv_pool_free(c, p);
}

/* Gives easy back to the caller: nothing of it points at c any more. */
static void curl_uv_detach(struct curl_uv *c, CURL *easy)
{
	if (curl_easy_setopt(easy, CURLOPT_PRIVATE, (void *)NULL) != CURLE_OK ||
	    curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, (curl_opensocket_callback)NULL) !=
		    CURLE_OK ||
	    curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, (void *)NULL) != CURLE_OK ||
	    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, (curl_closesocket_callback)NULL) !=
		    CURLE_OK ||
	    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, (void *)NULL) != CURLE_OK)
		curl_uv_report(c, "curl_easy_setopt failed while detaching a transfer");
}

/* Runs the done callbacks of finished transfers, oldest first. Called outside any libcurl call;
 * a callback may submit (appending to the lists) or close. */
static void curl_uv_flush(struct curl_uv *c)
{
	struct curl_uv_xfer *x;
	curl_uv_done_cb done;
	CURL *easy;
	CURLcode result;
	void *arg;

	while ((x = curl_uv_list_shift(&c->finished))) {
		easy = x->easy;
		done = x->done;
		arg = x->arg;
		result = x->result;
		free(x);
		curl_uv_detach(c, easy);
		done(easy, result, arg);
	}
}

/* Collects every completed transfer (freeing its pool slot, which may start queued ones), then
 * runs their done callbacks. */
static void curl_uv_drain(struct curl_uv *c)
{
	struct curl_uv_xfer *x;
	struct curl_uv_pool *p;
	CURLMsg *msg;
	CURLMcode mc;
	CURLcode result;
	CURL *easy;
	char *priv;
	int left;

	while (c->multi && (msg = curl_multi_info_read(c->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		/* msg dies with curl_multi_remove_handle: copy first. */
		easy = msg->easy_handle;
		result = msg->data.result;
		priv = NULL;
		if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv) != CURLE_OK || !priv) {
			curl_uv_report(c, "a finished transfer without its record");
			continue;
		}
		x = (struct curl_uv_xfer *)(void *)priv;
		mc = curl_multi_remove_handle(c->multi, easy);
		if (mc != CURLM_OK)
			curl_uv_report(c, "curl_multi_remove_handle: %s", curl_multi_strerror(mc));
		curl_uv_list_unlink(&c->active, x);
		c->ninflight--;
		p = x->pool;
		curl_uv_finish(c, x, result);
		if (p) {
			p->inflight--;
			curl_uv_pool_pump(c, p);
		}
	}
	curl_uv_flush(c);
}

static void curl_uv_action(struct curl_uv *c, curl_socket_t fd, int flags)
{
	int running;
	CURLMcode mc = curl_multi_socket_action(c->multi, fd, flags, &running);

	if (mc != CURLM_OK)
		curl_uv_report(c, "curl_multi_socket_action: %s", curl_multi_strerror(mc));
	curl_uv_drain(c);
}

/* ---- libuv and libcurl callbacks ---- */

static void curl_uv_on_poll(uv_poll_t *h, int status, int events)
{
	struct curl_uv_sock *s = container_of(h, struct curl_uv_sock, poll);
	struct curl_uv *c = s->c;
	int flags = 0;

	if (c->closing)
		return;
	if (s->parked) {
		/* libcurl does not watch it: not told, it finds the connection dead at its reuse */
		int rc = uv_poll_stop(&s->poll);
		if (rc < 0)
			curl_uv_report(c, "uv_poll_stop: %s", uv_strerror(rc));
		s->events = 0;
		s->parked = false;
		return;
	}
	/* On an error libuv has stopped the handle; libcurl sees the error on its next I/O. */
	if (status < 0) {
		s->events = 0;
		flags = CURL_CSELECT_ERR;
	} else {
		if (events & UV_READABLE)
			flags |= CURL_CSELECT_IN;
		if (events & UV_WRITABLE)
			flags |= CURL_CSELECT_OUT;
	}
	curl_uv_action(c, s->fd, flags);
}

static void curl_uv_on_timer(uv_timer_t *t)
{
	struct curl_uv *c = container_of(t, struct curl_uv, timer);

	curl_uv_action(c, CURL_SOCKET_TIMEOUT, 0);
}

static void curl_uv_on_soon(uv_idle_t *h)
{
	struct curl_uv *c = container_of(h, struct curl_uv, soon);
	int rc = uv_idle_stop(h);

	if (rc < 0)
		curl_uv_report(c, "uv_idle_stop: %s", uv_strerror(rc));
	if (!c->closing)
		curl_uv_action(c, CURL_SOCKET_TIMEOUT, 0);
}

/* CURLMOPT_TIMERFUNCTION. multi-uv.c turns 0 ms into a 1 ms timer, because a 0 ms uv timer
 * started from a timer callback runs in the same pass and could starve the loop; but every new
 * transfer asks for 0 ms, and a millisecond per hand-off capped webhooks at a few thousand a
 * second. An idle handle runs in this iteration's idle phase (or the next one's, when started
 * from it or later), never inside the caller's stack, and keeps the poll from blocking. */
static int curl_uv_on_timer_set(CURLM *multi, long timeout_ms, void *userp)
{
	struct curl_uv *c = userp;
	int rc;

	(void)multi;
	if (c->closing) /* the timer now belongs to the teardown */
		return 0;
	if (timeout_ms < 0) {
		rc = uv_timer_stop(&c->timer);
		if (rc == 0)
			rc = uv_idle_stop(&c->soon);
	} else if (timeout_ms == 0) {
		rc = uv_timer_stop(&c->timer);
		if (rc == 0)
			rc = uv_idle_start(&c->soon, curl_uv_on_soon);
	} else {
		rc = uv_idle_stop(&c->soon);
		if (rc == 0)
			rc = uv_timer_start(&c->timer, curl_uv_on_timer, (uint64_t)timeout_ms, 0);
	}
	if (rc < 0) {
		curl_uv_report(c, "curl timer: %s", uv_strerror(rc));
		return -1;
	}
	return 0;
}

/* CURLMOPT_SOCKETFUNCTION. */
static int curl_uv_on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct curl_uv *c = userp;
	struct curl_uv_sock *s = socketp;
	CURLMcode mc;
	int events = 0, rc;

	(void)easy;
	if (!s)
		s = curl_uv_sock_find(c, fd);
	if (what == CURL_POLL_REMOVE) {
		if (!s)
			return 0;
		if (!s->owned) {
			curl_uv_sock_retire(c, s, false); /* libcurl closes it right after */
			return 0;
		}
		/* A connection: it may idle in libcurl's cache and be watched again later. */
		s->parked = s->events != 0;
		return 0;
	}
	if (c->closing)
		return 0;
	if (!s) {
		s = curl_uv_sock_new(c, fd, false);
		if (!s)
			return -1;
	}
	if (s != socketp) {
		mc = curl_multi_assign(c->multi, fd, s);
		if (mc != CURLM_OK) {
			curl_uv_report(c, "curl_multi_assign: %s", curl_multi_strerror(mc));
			return -1;
		}
	}
	if (what & CURL_POLL_IN)
		events |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		events |= UV_WRITABLE;
	s->parked = false;
	if (events == s->events && uv_is_active((uv_handle_t *)&s->poll))
		return 0;
	rc = events ? uv_poll_start(&s->poll, events, curl_uv_on_poll) : uv_poll_stop(&s->poll);
	if (rc < 0) {
		s->events = 0;
		curl_uv_report(c, "uv_poll_start(%d): %s", (int)fd, uv_strerror(rc));
		return -1;
	}
	s->events = events;
	return 0;
}

/* ---- the public functions ---- */

static void curl_uv_on_timer_closed(uv_handle_t *h)
{
	curl_uv_handle_gone(container_of((uv_timer_t *)h, struct curl_uv, timer));
}

static void curl_uv_on_soon_closed(uv_handle_t *h)
{
	curl_uv_handle_gone(container_of((uv_idle_t *)h, struct curl_uv, soon));
}

struct curl_uv *curl_uv_new(uv_loop_t *loop, const struct curl_uv_config *cfg, struct err *err)
{
	static const struct curl_uv_config defaults;
	const curl_version_info_data *info;
	struct curl_uv *c = NULL;
	long host, total, idle;
	CURLMcode mc;
	int rc;

	err_clear(err);
	if (!cfg)
		cfg = &defaults;
	host = cfg->max_host_connections ? cfg->max_host_connections
					 : CURL_UV_DEFAULT_MAX_HOST_CONNECTIONS;
	total = cfg->max_total_connections ? cfg->max_total_connections
					   : CURL_UV_DEFAULT_MAX_TOTAL_CONNECTIONS;
	idle = cfg->max_idle_connections ? cfg->max_idle_connections
					 : CURL_UV_DEFAULT_MAX_IDLE_CONNECTIONS;
	if (host < 0 || host > CURL_UV_MAX_CONNECTIONS) {
		err_set(err, "max_host_connections", "must be 1..%d", CURL_UV_MAX_CONNECTIONS);
		goto fail;
	}
	if (total < 0 || total > CURL_UV_MAX_CONNECTIONS) {
		err_set(err, "max_total_connections", "must be 1..%d", CURL_UV_MAX_CONNECTIONS);
		goto fail;
	}
	if (idle < 0 || idle > CURL_UV_MAX_CONNECTIONS) {
		err_set(err, "max_idle_connections", "must be 1..%d", CURL_UV_MAX_CONNECTIONS);
		goto fail;
	}
	info = curl_version_info(CURLVERSION_NOW);
	if (!info || !(info->features & CURL_VERSION_ASYNCHDNS)) {
		err_set(err, NULL, "libcurl %s has no asynchronous resolver: name lookups would "
			"block the loop", info ? info->version : "?");
		goto fail;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		err_set(err, NULL, "out of memory");
		goto fail;
	}
	c->loop = loop;
	c->on_error = cfg->on_error;
	c->error_ctx = cfg->error_ctx;
	c->multi = curl_multi_init();
	if (!c->multi) {
		err_set(err, NULL, "curl_multi_init failed (was curl_global_init called?)");
		goto fail;
	}
	if ((mc = curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, curl_uv_on_socket)) ||
	    (mc = curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c)) ||
	    (mc = curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, curl_uv_on_timer_set)) ||
	    (mc = curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c)) ||
	    (mc = curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, host)) ||
	    (mc = curl_multi_setopt(c->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, total)) ||
	    (mc = curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, idle))) {
		err_set(err, NULL, "curl_multi_setopt: %s", curl_multi_strerror(mc));
		goto fail;
	}
	rc = uv_timer_init(loop, &c->timer);
	if (rc < 0) {
		err_set(err, NULL, "uv_timer_init: %s", uv_strerror(rc));
		goto fail;
	}
	c->nhandles = 1;
	rc = uv_idle_init(loop, &c->soon);
	if (rc < 0) {
		/* The timer is initialized: it must be closed, and c freed from its callback. */
		err_set(err, NULL, "uv_idle_init: %s", uv_strerror(rc));
		curl_multi_cleanup(c->multi);
		c->multi = NULL;
		c->closing = true;
		uv_close((uv_handle_t *)&c->timer, curl_uv_on_timer_closed);
		return NULL;
	}
	c->nhandles = 2;
	return c;
fail:
	if (c && c->multi)
		curl_multi_cleanup(c->multi);
	free(c);
	return NULL;
}

int curl_uv_submit(struct curl_uv *c, CURL *easy, const char *pool, unsigned pool_cap,
		   curl_uv_done_cb done, void *arg, struct err *err)
{
	struct curl_uv_xfer *x = NULL;
	struct curl_uv_pool *p = NULL;
	CURLMcode mc;
	CURLcode ec;

	err_clear(err);
	if (!c || !easy || !done)
		return err_set(err, NULL, "curl_uv_submit: a transport, a handle and a callback "
			       "are required");
	if (c->closing)
		return err_set(err, NULL, "the HTTP/SMTP transport is shutting down");
	x = calloc(1, sizeof(*x));
	if (!x) {
		err_set(err, NULL, "out of memory");
		goto fail;
	}
	x->easy = easy;
	x->done = done;
	x->arg = arg;
	if ((ec = curl_easy_setopt(easy, CURLOPT_PRIVATE, (void *)x)) ||
	    (ec = curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L)) ||
	    (ec = curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, curl_uv_on_open_socket)) ||
	    (ec = curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, (void *)c)) ||
	    (ec = curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, curl_uv_on_close_socket)) ||
	    (ec = curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, (void *)c))) {
		err_set(err, NULL, "curl_easy_setopt: %s", curl_easy_strerror(ec));
		goto fail;
	}
	if (pool) {
		p = curl_uv_pool_get(c, pool);
		if (!p) {
			err_set(err, NULL, "out of memory");
			goto fail;
		}
		p->cap = pool_cap;
		x->pool = p;
		if (p->queue.head || (p->cap && p->inflight >= p->cap)) {
			curl_uv_list_push(&p->queue, x);
			c->nqueued++;
			return 0;
		}
	}
	/* libcurl only arms its timer here: the transfer moves (and may end) in a later callback. */
	mc = curl_uv_start(c, x);
	if (mc != CURLM_OK) {
		err_set(err, NULL, "curl_multi_add_handle: %s", curl_multi_strerror(mc));
		goto fail;
	}
	return 0;
fail:
	if (p && !p->inflight && !p->queue.head)
		curl_uv_pool_free(c, p);
	if (x)
		curl_uv_detach(c, easy);
	free(x);
	return -1;
}

/* The timer callback armed by curl_uv_close: ends every transfer, cleans up the multi handle,
 * closes every handle. */
static void curl_uv_on_close_timer(uv_timer_t *t)
{
	struct curl_uv *c = container_of(t, struct curl_uv, timer);
	struct curl_uv_xfer *x;
	struct curl_uv_pool *p;
	struct curl_uv_sock *s;
	CURLMcode mc;

	while ((x = curl_uv_list_shift(&c->active))) {
		mc = curl_multi_remove_handle(c->multi, x->easy);
		if (mc != CURLM_OK)
			curl_uv_report(c, "curl_multi_remove_handle: %s", curl_multi_strerror(mc));
		c->ninflight--;
		curl_uv_finish(c, x, CURLE_ABORTED_BY_CALLBACK);
	}
	while ((p = c->pools)) {
		while ((x = curl_uv_list_shift(&p->queue))) {
			c->nqueued--;
			curl_uv_finish(c, x, CURLE_ABORTED_BY_CALLBACK);
		}
		curl_uv_pool_free(c, p);
	}
	/* Closes the cached connections, through curl_uv_on_close_socket. */
	mc = curl_multi_cleanup(c->multi);
	if (mc != CURLM_OK)
		curl_uv_report(c, "curl_multi_cleanup: %s", curl_multi_strerror(mc));
	c->multi = NULL;
	/* Whatever libcurl left: a connection socket still open is ours to close. */
	while ((s = c->socks))
		curl_uv_sock_retire(c, s, s->owned && curl_uv_sock_same(s, s->fd));
	curl_uv_flush(c);
	uv_close((uv_handle_t *)&c->soon, curl_uv_on_soon_closed);
	uv_close((uv_handle_t *)&c->timer, curl_uv_on_timer_closed);
}

int curl_uv_close(struct curl_uv *c, curl_uv_close_cb cb, void *arg)
{
	int rc;

	if (!c)
		return UV_EINVAL;
	if (c->closing)
		return UV_EALREADY;
	rc = uv_timer_start(&c->timer, curl_uv_on_close_timer, 0, 0);
	if (rc < 0)
		return rc;
	c->closing = true;
	c->close_cb = cb;
	c->close_arg = arg;
	return 0;
}

unsigned curl_uv_inflight(const struct curl_uv *c)
{
	return c->ninflight;
}

unsigned curl_uv_queued(const struct curl_uv *c)
{
	return c->nqueued;
}
