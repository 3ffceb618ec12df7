/* listeners: a webhook listener in the test process and the real SMTP server, for black-box
 * delivery tests (see listeners.h).
 *
 * DESIGN: the listener keeps each request in its own allocation and only a growing array of
 * pointers to them, so that a pointer handed out by listener_requests() stays valid while more
 * requests arrive. A connection's thread is joined by the accepting thread once it has ended,
 * so that a long run (thousands of daemon restarts, each with new connections) keeps a bounded
 * number of threads. */
#include "listeners.h"

#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_STEPS 32
#define MAX_REQUEST_BYTES (1 << 20)

static double now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct conn {
	struct listener *l;
	int fd;
	pthread_t thread;
	atomic_bool done;
	struct conn *next;
};

struct listener {
	int fd, port;
	pthread_t thread;
	atomic_bool stop;
	bool released;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct listener_request **req;
	int nreq, capreq;
	struct listener_step steps[MAX_STEPS];
	int nsteps;
	struct listener_step dflt;
	int held;           /* requests being held now */
	int accepted;       /* connections accepted so far */
	struct conn *conns; /* connection threads not yet joined */
};

int listener_port(const struct listener *l)
{
	return l->port;
}

void listener_script(struct listener *l, const struct listener_step *steps,
		     struct listener_step dflt)
{
	pthread_mutex_lock(&l->mu);
	l->released = false;
	l->nsteps = 0;
	for (; steps && steps->status && l->nsteps < MAX_STEPS; steps++)
		l->steps[l->nsteps++] = *steps;
	l->dflt = dflt;
	pthread_mutex_unlock(&l->mu);
}

void listener_release(struct listener *l, struct listener_step dflt)
{
	pthread_mutex_lock(&l->mu);
	l->released = true;
	l->dflt = dflt;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
}

static bool send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* True when the peer has closed (or reset) the connection. */
static bool peer_gone(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char c;

	if (poll(&p, 1, 0) <= 0)
		return false;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/* Reads more of the connection into buf (polling so that a stop is noticed). Returns false at
 * the end of the connection, on a stop, or when the buffer is full. */
static bool read_more(struct listener *l, int fd, char *buf, size_t *have)
{
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		int rc = poll(&p, 1, 100);

		if (atomic_load(&l->stop) || *have + 1 >= MAX_REQUEST_BYTES)
			return false;
		if (rc <= 0)
			continue;
		ssize_t n = recv(fd, buf + *have, MAX_REQUEST_BYTES - *have - 1, 0);
		if (n <= 0)
			return false;
		*have += (size_t)n;
		return true;
	}
}

/* Records r (taking it); returns its index, or -1 when out of memory (r is then freed). */
static int record(struct listener *l, struct listener_request *r)
{
	if (l->nreq == l->capreq) {
		int cap = l->capreq ? 2 * l->capreq : 256;
		struct listener_request **grown = realloc(l->req, (size_t)cap * sizeof(*grown));
		if (!grown) {
			free(r->head);
			free(r->body);
			free(r);
			return -1;
		}
		l->req = grown;
		l->capreq = cap;
	}
	l->req[l->nreq] = r;
	return l->nreq++;
}

/* The step answering a request to path: the first unused matching one, else the default. */
static struct listener_step pick_step(struct listener *l, const char *path)
{
	for (int i = 0; i < l->nsteps; i++) {
		struct listener_step *s = &l->steps[i];
		if (!s->used && (!s->path || !strncmp(path, s->path, strlen(s->path)))) {
			s->used = true;
			return *s;
		}
	}
	return l->dflt;
}

/* Holds a request as step s says (mu held). Returns false when it is never to be answered. */
static bool hold(struct listener *l, int fd, struct listener_step *s)
{
	l->held++;
	pthread_cond_broadcast(&l->cv);
	while (!atomic_load(&l->stop) && !(s->hold == 1 && l->released)) {
		pthread_mutex_unlock(&l->mu);
		bool gone = peer_gone(fd);
		pthread_mutex_lock(&l->mu);
		if (gone)
			break;
		struct timespec ts = harness_deadline_in(50);
		pthread_cond_timedwait(&l->cv, &l->mu, &ts);
	}
	l->held--;
	if (s->hold == 1 && l->released && !atomic_load(&l->stop)) {
		*s = l->dflt; /* released: answered as the listener now answers */
		return true;
	}
	return false;
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	struct listener *l = c->l;
	int fd = c->fd;
	char *buf = malloc(MAX_REQUEST_BYTES);
	size_t have = 0;

	if (!buf)
		goto out;
	for (;;) {
		char *end;
		while (!(end = memmem(buf, have, "\r\n\r\n", 4)))
			if (!read_more(l, fd, buf, &have))
				goto out;
		size_t head_len = (size_t)(end - buf) + 4, clen = 0;
		char save = buf[head_len];
		buf[head_len] = '\0';
		const char *cl = strcasestr(buf, "\r\nContent-Length:");
		if (cl)
			clen = strtoul(cl + 17, NULL, 10);
		buf[head_len] = save;
		if (clen >= MAX_REQUEST_BYTES - head_len)
			goto out;
		while (have < head_len + clen)
			if (!read_more(l, fd, buf, &have))
				goto out;

		struct listener_request *r = calloc(1, sizeof(*r));
		if (!r)
			goto out;
		buf[head_len - 2] = '\0';
		sscanf(buf, "%15s %599s", r->method, r->path);
		const char *line1 = strstr(buf, "\r\n");
		r->head = strdup(line1 ? line1 + 2 : "");
		r->body = malloc(clen + 1);
		if (!r->head || !r->body) {
			free(r->head);
			free(r->body);
			free(r);
			goto out;
		}
		memcpy(r->body, buf + head_len, clen);
		r->body[clen] = '\0';
		r->body_len = clen;
		r->at = now_real();
		memmove(buf, buf + head_len + clen, have - head_len - clen);
		have -= head_len + clen;

		pthread_mutex_lock(&l->mu);
		int idx = record(l, r);
		struct listener_step s = pick_step(l, idx >= 0 ? l->req[idx]->path : "");
		pthread_cond_broadcast(&l->cv);
		if (s.hold == 3) { /* the request was read; the connection goes without an answer */
			pthread_mutex_unlock(&l->mu);
			goto out;
		}
		if (s.hold && !hold(l, fd, &s)) {
			pthread_mutex_unlock(&l->mu);
			goto out;
		}
		const char *body = s.body ? s.body : "ok";
		char head[1024];
		int n = snprintf(head, sizeof(head),
				 "HTTP/1.1 %d X\r\nContent-Type: text/plain\r\n"
				 "Content-Length: %zu\r\n%s\r\n",
				 s.status, strlen(body), s.headers ? s.headers : "");
		if (idx >= 0) {
			l->req[idx]->answered = now_real();
			l->req[idx]->status = s.status;
		}
		pthread_mutex_unlock(&l->mu);
		if (n < 0 || (size_t)n >= sizeof(head) || !send_all(fd, head, (size_t)n) ||
		    !send_all(fd, body, strlen(body)))
			goto out;
	}
out:
	free(buf);
	close(fd);
	atomic_store(&c->done, true);
	return NULL;
}

/* Joins the connection threads that have ended (all of them with all = true). */
static void reap(struct listener *l, bool all)
{
	pthread_mutex_lock(&l->mu);
	struct conn **p = &l->conns;
	while (*p) {
		struct conn *c = *p;
		if (all || atomic_load(&c->done)) {
			*p = c->next;
			pthread_mutex_unlock(&l->mu);
			pthread_join(c->thread, NULL);
			free(c);
			pthread_mutex_lock(&l->mu);
			p = &l->conns; /* the list may have changed meanwhile */
		} else {
			p = &c->next;
		}
	}
	pthread_mutex_unlock(&l->mu);
}

static void *accept_main(void *arg)
{
	struct listener *l = arg;

	while (!atomic_load(&l->stop)) {
		struct pollfd p = { l->fd, POLLIN, 0 };
		if (poll(&p, 1, 100) <= 0)
			continue;
		int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		reap(l, false);
		struct conn *c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->l = l;
		c->fd = fd;
		atomic_init(&c->done, false);
		pthread_mutex_lock(&l->mu);
		l->accepted++;
		if (pthread_create(&c->thread, NULL, conn_main, c) == 0) {
			c->next = l->conns;
			l->conns = c;
		} else {
			close(fd);
			free(c);
		}
		pthread_mutex_unlock(&l->mu);
	}
	return NULL;
}

struct listener *listener_new(struct err *err)
{
	return listener_new_on(0, err);
}

struct listener *listener_new_on(int port, struct err *err)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons((uint16_t)port) };
	socklen_t len = sizeof(a);
	struct listener *l = calloc(1, sizeof(*l));

	if (!l) {
		err_set(err, NULL, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
	atomic_init(&l->stop, false);
	l->dflt = (struct listener_step){ .status = 200 };
	l->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l->fd < 0 || bind(l->fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(l->fd, 128) != 0 || getsockname(l->fd, (struct sockaddr *)&a, &len) != 0) {
		err_set(err, NULL, "the listener cannot listen on 127.0.0.1: %s", strerror(errno));
		goto fail;
	}
	l->port = ntohs(a.sin_port);
	if (pthread_create(&l->thread, NULL, accept_main, l) != 0) {
		err_set(err, NULL, "the listener cannot start its thread");
		goto fail;
	}
	return l;
fail:
	if (l->fd >= 0)
		close(l->fd);
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	free(l);
	return NULL;
}

void listener_free(struct listener *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->mu);
	atomic_store(&l->stop, true);
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
	pthread_join(l->thread, NULL);
	reap(l, true);
	close(l->fd);
	for (int i = 0; i < l->nreq; i++) {
		free(l->req[i]->head);
		free(l->req[i]->body);
		free(l->req[i]);
	}
	free(l->req);
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

int listener_count(struct listener *l, bool held)
{
	pthread_mutex_lock(&l->mu);
	int n = held ? l->held : l->nreq;
	pthread_mutex_unlock(&l->mu);
	return n;
}

int listener_connections(struct listener *l)
{
	pthread_mutex_lock(&l->mu);
	int n = l->accepted;
	pthread_mutex_unlock(&l->mu);
	return n;
}

bool listener_wait(struct listener *l, int n, bool held, int timeout_ms)
{
	struct timespec until = harness_deadline_in(timeout_ms > 0 ? timeout_ms : 0);
	bool ok;

	pthread_mutex_lock(&l->mu);
	while (!(ok = (held ? l->held : l->nreq) >= n))
		if (pthread_cond_timedwait(&l->cv, &l->mu, &until) == ETIMEDOUT) {
			ok = (held ? l->held : l->nreq) >= n;
			break;
		}
	pthread_mutex_unlock(&l->mu);
	return ok;
}

int listener_requests(struct listener *l, const char *prefix, const struct listener_request **out,
		      int max)
{
	size_t plen = strlen(prefix);
	int k = 0;

	pthread_mutex_lock(&l->mu);
	for (int i = 0; i < l->nreq; i++)
		if (!strncmp(l->req[i]->path, prefix, plen)) {
			if (k < max)
				out[k] = l->req[i];
			k++;
		}
	pthread_mutex_unlock(&l->mu);
	return k;
}

char *listener_header(const char *head, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = head; p && *p;) {
		const char *eol = strstr(p, "\r\n");
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len > n && !strncasecmp(p, name, n) && p[n] == ':') {
			const char *v = p + n + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			return strndup(v, len - (size_t)(v - p));
		}
		p = eol ? eol + 2 : NULL;
	}
	return NULL;
}

/* --- the SMTP server ----------------------------------------------------------------------- */

#define SMTP_SCRIPT DUNGHAN_SOURCE_DIR "/tests/support/smtp_server.py"
#define PYTHON "/usr/bin/python3"

struct smtp_server {
	struct harness_proc proc;
	char dir[600];
	int count; /* messages known to be there */
};

const char *smtp_server_dir(const struct smtp_server *s)
{
	return s->dir;
}

struct smtp_server *smtp_server_start(struct harness *h, const char *name, int port,
				      const char *const *args, struct err *err)
{
	struct smtp_server *s = calloc(1, sizeof(*s));
	char *argv[32], portbuf[16], ready[700], logname[100], logpath[700];
	size_t n = 0;

	if (!s) {
		err_set(err, NULL, "out of memory");
		return NULL;
	}
	s->proc.pid = -1;
	s->proc.pidfd = -1;
	harness_path(h, name, s->dir, sizeof(s->dir));
	if (mkdir(s->dir, 0700) != 0 && errno != EEXIST) {
		err_set(err, NULL, "mkdir %s: %s", s->dir, strerror(errno));
		goto fail;
	}
	snprintf(ready, sizeof(ready), "%s/ready", s->dir);
	unlink(ready);
	snprintf(portbuf, sizeof(portbuf), "%d", port);
	snprintf(logname, sizeof(logname), "%s.log", name);
	harness_path(h, logname, logpath, sizeof(logpath));
	argv[n++] = PYTHON;
	argv[n++] = SMTP_SCRIPT;
	argv[n++] = "--port";
	argv[n++] = portbuf;
	argv[n++] = "--dir";
	argv[n++] = s->dir;
	for (size_t i = 0; args && args[i] && n < 30; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	if (harness_spawn(h, &s->proc, argv, NULL, logname) != 0) {
		err_set(err, NULL, "cannot start %s", PYTHON);
		goto fail;
	}
	/* The script writes ready once it listens; polled, each check bounded by the total. */
	for (int waited = 0; access(ready, F_OK) != 0; waited += 20) {
		if (waited >= SMTP_SERVER_BOUND_MS || harness_wait(&s->proc, 20) >= 0) {
			char *log = harness_read(logpath);
			err_set(err, NULL, "the SMTP server %s in %d ms: %.300s",
				waited >= SMTP_SERVER_BOUND_MS ? "did not start" : "exited", waited,
				log ? log : "");
			free(log);
			goto fail;
		}
	}
	return s;
fail:
	smtp_server_stop(s);
	return NULL;
}

void smtp_server_stop(struct smtp_server *s)
{
	if (!s)
		return;
	if (s->proc.pid > 0)
		harness_kill(&s->proc);
	free(s);
}

static void message_path(const struct smtp_server *s, int i, const char *ext, char *buf, size_t n)
{
	snprintf(buf, n, "%s/msg-%04d.%s", s->dir, i, ext);
}

int smtp_server_count(struct smtp_server *s)
{
	char path[700];

	for (;;) {
		message_path(s, s->count + 1, "json", path, sizeof(path));
		if (access(path, F_OK) != 0)
			return s->count;
		s->count++;
	}
}

bool smtp_server_wait(struct smtp_server *s, int n, int timeout_ms)
{
	struct timespec step = { 0, 5 * 1000000L };

	for (int waited = 0; smtp_server_count(s) < n; waited += 5) {
		if (waited >= timeout_ms)
			return false;
		nanosleep(&step, NULL);
	}
	return true;
}

json_t *smtp_server_message(struct smtp_server *s, int i, struct err *err)
{
	char path[700];
	char *text, *eml;
	json_t *j;

	message_path(s, i, "json", path, sizeof(path));
	if (!(text = harness_read(path))) {
		err_set(err, NULL, "no message %d in %s", i, s->dir);
		return NULL;
	}
	j = json_loads(text, 0, NULL);
	free(text);
	if (!json_is_object(j)) {
		err_set(err, NULL, "%s is not a JSON object", path);
		json_decref(j);
		return NULL;
	}
	const char *eml_path = json_string_value(json_object_get(j, "eml"));
	if (!eml_path || !(eml = harness_read(eml_path))) {
		err_set(err, NULL, "no message file for %s", path);
		json_decref(j);
		return NULL;
	}
	json_object_set_new(j, "data", json_stringn(eml, strlen(eml)));
	free(eml);
	return j;
}

json_t *smtp_server_messages(struct smtp_server *s, int from, struct err *err)
{
	int n = smtp_server_count(s);
	json_t *all = json_array();

	if (!all) {
		err_set(err, NULL, "out of memory");
		return NULL;
	}
	for (int i = from + 1; i <= n; i++) {
		json_t *j = smtp_server_message(s, i, err);
		if (!j || json_array_append_new(all, j) != 0) {
			json_decref(all);
			return NULL;
		}
	}
	return all;
}

char *smtp_header(const char *msg, const char *name)
{
	const char *end = strstr(msg, "\r\n\r\n");
	size_t n = strlen(name);

	if (!end)
		end = msg + strlen(msg);
	for (const char *p = msg; p && p < end;) {
		if (!strncasecmp(p, name, n) && p[n] == ':') {
			char *out = malloc(strlen(p) + 1);
			size_t k = 0;
			const char *v = p + n + 1;
			if (!out)
				return NULL;
			while (*v == ' ')
				v++;
			/* Unfolding: a line break followed by white space continues the value. */
			for (; *v; v++) {
				if (v[0] == '\r' && v[1] == '\n') {
					if (v[2] == ' ' || v[2] == '\t') {
						v++;
						continue;
					}
					break;
				}
				out[k++] = *v;
			}
			out[k] = '\0';
			return out;
		}
		p = strstr(p, "\r\n");
		p = p ? p + 2 : NULL;
	}
	return NULL;
}
