/* http_client: the blocking test client (see http_client.h). A non-blocking socket and poll(2)
 * with one deadline per call; received bytes accumulate in one buffer from which responses are
 * cut, so pipelined responses and bytes after a response are kept for the next read. */
#include "http_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Caps, so a broken server makes a test fail rather than exhaust memory. */
#define CLIENT_MAX_HEAD (1024 * 1024)
#define CLIENT_MAX_BUFFER (256 * 1024 * 1024)

struct http_client {
	int fd;
	int timeout_ms;
	char hostport[300]; /* for the Host header */
	char *buf;          /* received, not consumed: [off, len) */
	size_t off;
	size_t len;
	size_t cap;
	bool eof;           /* the server closed (EOF or reset) */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t deadline(const struct http_client *c)
{
	return now_ms() + c->timeout_ms;
}

/* Waits for events on fd until the deadline: 1 ready, 0 timeout, -1 error. */
static int wait_fd(int fd, short events, int64_t until)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int64_t left;
	int rc;

	for (;;) {
		left = until - now_ms();
		if (left < 0)
			left = 0;
		rc = poll(&pfd, 1, (int)left);
		if (rc >= 0 || errno != EINTR)
			return rc > 0 ? 1 : rc;
	}
}

struct http_client *http_client_connect(const char *host, int port, int timeout_ms,
					struct err *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL, *ai;
	struct http_client *c = NULL;
	char port_s[16];
	int fd = -1, rc, one = 1, soerr;
	socklen_t slen;
	int64_t until;

	err_clear(err);
	c = calloc(1, sizeof(*c));
	if (!c) {
		err_set(err, NULL, "out of memory");
		goto fail;
	}
	c->fd = -1;
	http_client_set_timeout(c, timeout_ms);
	snprintf(c->hostport, sizeof(c->hostport), strchr(host, ':') ? "[%s]:%d" : "%s:%d", host,
		 port);
	snprintf(port_s, sizeof(port_s), "%d", port);
	rc = getaddrinfo(host, port_s, &hints, &res);
	if (rc != 0) {
		err_set(err, NULL, "%s: %s", host, gai_strerror(rc));
		goto fail;
	}
	until = deadline(c);
	err_set(err, NULL, "%s: no address", c->hostport);
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			err_set(err, NULL, "socket: %s", strerror(errno));
			continue;
		}
		rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
		if (rc < 0 && errno == EINPROGRESS) {
			rc = wait_fd(fd, POLLOUT, until);
			if (rc == 0) {
				err_set(err, NULL, "connect to %s: timed out", c->hostport);
				close(fd);
				fd = -1;
				continue;
			}
			soerr = 0;
			slen = sizeof(soerr);
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen);
			errno = soerr;
			rc = soerr ? -1 : 0;
		}
		if (rc == 0)
			break;
		err_set(err, NULL, "connect to %s: %s", c->hostport, strerror(errno));
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		goto fail;
	err_clear(err);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	freeaddrinfo(res);
	return c;

fail:
	if (res)
		freeaddrinfo(res);
	free(c);
	return NULL;
}

void http_client_free(struct http_client *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	free(c);
}

void http_client_abort(struct http_client *c)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (!c)
		return;
	if (c->fd >= 0)
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	http_client_free(c);
}

void http_client_set_timeout(struct http_client *c, int timeout_ms)
{
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : HTTP_CLIENT_DEFAULT_TIMEOUT_MS;
}

int http_client_fd(const struct http_client *c)
{
	return c->fd;
}

int http_client_send(struct http_client *c, const void *buf, size_t len, struct err *err)
{
	const char *p = buf;
	int64_t until = deadline(c);
	ssize_t n;

	while (len > 0) {
		n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(c->fd, POLLOUT, until) <= 0)
				return err_set(err, NULL, "send: timed out with %zu bytes left", len);
			continue;
		}
		return err_set(err, NULL, "send: %s", strerror(errno));
	}
	return 0;
}

int http_client_send_str(struct http_client *c, const char *s, struct err *err)
{
	return http_client_send(c, s, strlen(s), err);
}

static bool has_header(const char *const *headers, const char *name)
{
	size_t n = strlen(name);

	for (; headers && *headers; headers++)
		if (strncasecmp(*headers, name, n) == 0 && (*headers)[n] == ':')
			return true;
	return false;
}

int http_client_send_request(struct http_client *c, const char *method, const char *path,
			     const char *const *headers, const void *body, size_t len,
			     struct err *err)
{
	size_t cap = strlen(method) + strlen(path) + sizeof(c->hostport) + 128, pos = 0;
	const char *const *h;
	char *msg;
	int rc;

	for (h = headers; h && *h; h++)
		cap += strlen(*h) + 2;
	if (body)
		cap += len;
	msg = malloc(cap);
	if (!msg)
		return err_set(err, NULL, "out of memory");
	pos += (size_t)snprintf(msg + pos, cap - pos, "%s %s HTTP/1.1\r\n", method, path);
	if (!has_header(headers, "host"))
		pos += (size_t)snprintf(msg + pos, cap - pos, "Host: %s\r\n", c->hostport);
	for (h = headers; h && *h; h++)
		pos += (size_t)snprintf(msg + pos, cap - pos, "%s\r\n", *h);
	if (body && !has_header(headers, "content-length") &&
	    !has_header(headers, "transfer-encoding"))
		pos += (size_t)snprintf(msg + pos, cap - pos, "Content-Length: %zu\r\n", len);
	pos += (size_t)snprintf(msg + pos, cap - pos, "\r\n");
	if (body && len) {
		memcpy(msg + pos, body, len);
		pos += len;
	}
	/* One send: pipelining tests rely on requests leaving together. */
	rc = http_client_send(c, msg, pos, err);
	free(msg);
	return rc;
}

/* Receives more bytes into the buffer: 1 got some, 0 the server closed, -1 timeout or error. */
static int fill(struct http_client *c, int64_t until, struct err *err)
{
	size_t cap;
	ssize_t n;
	char *b;
	int rc;

	if (c->eof)
		return 0;
	if (c->off > 0 && c->off == c->len)
		c->off = c->len = 0;
	if (c->len == c->cap) {
		if (c->off > 0) {
			memmove(c->buf, c->buf + c->off, c->len - c->off);
			c->len -= c->off;
			c->off = 0;
		} else {
			cap = c->cap ? c->cap * 2 : 16384;
			if (cap > CLIENT_MAX_BUFFER)
				return err_set(err, NULL, "response larger than %d bytes",
					       CLIENT_MAX_BUFFER);
			b = realloc(c->buf, cap);
			if (!b)
				return err_set(err, NULL, "out of memory");
			c->buf = b;
			c->cap = cap;
		}
	}
	for (;;) {
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (n > 0) {
			c->len += (size_t)n;
			return 1;
		}
		if (n == 0 || (n < 0 && errno == ECONNRESET)) {
			c->eof = true;
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return err_set(err, NULL, "recv: %s", strerror(errno));
		rc = wait_fd(c->fd, POLLIN, until);
		if (rc < 0)
			return err_set(err, NULL, "poll: %s", strerror(errno));
		if (rc == 0)
			return err_set(err, NULL, "timed out after %d ms waiting for the server",
				       c->timeout_ms);
	}
}

/* Where needle starts in the unread bytes, or NULL. */
static char *find(const struct http_client *c, const char *needle)
{
	if (c->len == c->off)
		return NULL;
	return memmem(c->buf + c->off, c->len - c->off, needle, strlen(needle));
}

/* Makes at least n bytes available past off: 1, 0 when the server closed first, -1. */
static int need(struct http_client *c, size_t n, int64_t until, struct err *err)
{
	int rc;

	while (c->len - c->off < n) {
		rc = fill(c, until, err);
		if (rc <= 0)
			return rc;
	}
	return 1;
}

void http_client_response_free(struct http_client_response *resp)
{
	free(resp->headers);
	free(resp->body);
	free(resp->storage);
	memset(resp, 0, sizeof(*resp));
}

const char *http_client_header(const struct http_client_response *resp, const char *name)
{
	size_t i;

	for (i = 0; i < resp->nheaders; i++)
		if (strcasecmp(resp->headers[i].name, name) == 0)
			return resp->headers[i].value;
	return NULL;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

/* Parses a head (status line and fields, CRLF-separated, NUL-terminated) into resp. */
static int parse_head(char *head, struct http_client_response *resp, struct err *err)
{
	char *line, *next, *colon;
	size_t cap = 0;
	int n = 0;
	struct http_client_header *h;

	next = strstr(head, "\r\n");
	*next = '\0';
	next += 2;
	if (sscanf(head, "HTTP/1.%1d %3d%n", &resp->minor, &resp->status, &n) < 2 ||
	    (head[n] != ' ' && head[n] != '\0'))
		return err_set(err, NULL, "bad status line \"%.80s\"", head);
	resp->reason = head[n] ? head + n + 1 : head + n;
	for (line = next; *line; line = next) {
		next = strstr(line, "\r\n");
		if (!next)
			return err_set(err, NULL, "header line without CRLF");
		*next = '\0';
		next += 2;
		colon = strchr(line, ':');
		if (!colon || colon == line || line[0] == ' ' || line[0] == '\t')
			return err_set(err, NULL, "bad header line \"%.80s\"", line);
		*colon = '\0';
		if (resp->nheaders == cap) {
			cap = cap ? cap * 2 : 16;
			h = realloc(resp->headers, cap * sizeof(*h));
			if (!h)
				return err_set(err, NULL, "out of memory");
			resp->headers = h;
		}
		resp->headers[resp->nheaders].name = line;
		resp->headers[resp->nheaders].value = trim(colon + 1);
		resp->nheaders++;
	}
	return 0;
}

/* Appends the chunked body at off to resp (trailers are read and dropped). */
static int read_chunked(struct http_client *c, struct http_client_response *resp, int64_t until,
			struct err *err)
{
	size_t size, cap = 0;
	char *line_end, *end, *b;
	int rc;

	for (;;) {
		while (!(line_end = find(c, "\r\n"))) {
			rc = fill(c, until, err);
			if (rc <= 0)
				return rc < 0 ? -1 : err_set(err, NULL, "closed inside a chunk");
		}
		size = strtoul(c->buf + c->off, &end, 16);
		if (end == c->buf + c->off)
			return err_set(err, NULL, "bad chunk size");
		c->off = (size_t)(line_end + 2 - c->buf);
		if (size == 0)
			break;
		rc = need(c, size + 2, until, err);
		if (rc <= 0)
			return rc < 0 ? -1 : err_set(err, NULL, "closed inside a chunk");
		if (resp->body_len + size + 1 > cap) {
			cap = (resp->body_len + size + 1) * 2;
			b = realloc(resp->body, cap);
			if (!b)
				return err_set(err, NULL, "out of memory");
			resp->body = b;
		}
		memcpy(resp->body + resp->body_len, c->buf + c->off, size);
		resp->body_len += size;
		c->off += size + 2;
	}
	/* trailer fields, up to the empty line */
	for (;;) {
		while (!(line_end = find(c, "\r\n"))) {
			rc = fill(c, until, err);
			if (rc <= 0)
				return rc < 0 ? -1 : err_set(err, NULL, "closed inside trailers");
		}
		size = (size_t)(line_end - (c->buf + c->off));
		c->off += size + 2;
		if (size == 0)
			return 0;
	}
}

int http_client_read_response_ex(struct http_client *c, struct http_client_response *resp,
				 unsigned flags, struct err *err)
{
	bool head = flags & HTTP_CLIENT_HEAD;
	int64_t until = deadline(c);
	int interim = 0, rc;
	char *end, *b;
	const char *cl, *te;
	size_t hlen, len;

	http_client_response_free(resp);
	for (;;) {
		/* the head: up to the empty line */
		while (!(end = find(c, "\r\n\r\n"))) {
			if (c->len - c->off > CLIENT_MAX_HEAD)
				return err_set(err, NULL, "response head over %d bytes",
					       CLIENT_MAX_HEAD);
			rc = fill(c, until, err);
			if (rc < 0)
				return -1;
			if (rc == 0)
				return err_set(err, NULL,
					       c->len > c->off
						       ? "connection closed inside a response head"
						       : "connection closed before a response");
		}
		hlen = (size_t)(end + 4 - (c->buf + c->off));
		free(resp->storage);
		free(resp->headers);
		resp->headers = NULL;
		resp->nheaders = 0;
		resp->storage = malloc(hlen + 1);
		if (!resp->storage)
			return err_set(err, NULL, "out of memory");
		memcpy(resp->storage, c->buf + c->off, hlen - 2); /* keeps one CRLF at the end */
		resp->storage[hlen - 2] = '\0';
		c->off += hlen;
		if (parse_head(resp->storage, resp, err) < 0)
			return -1;
		if (resp->status >= 200 || (flags & HTTP_CLIENT_INTERIM))
			break;
		interim++;
	}
	resp->interim = interim;
	cl = http_client_header(resp, "content-length");
	te = http_client_header(resp, "transfer-encoding");
	if (head || resp->status < 200 || resp->status == 204 || resp->status == 304) {
		len = 0;
	} else if (te) {
		if (strcasecmp(te, "chunked") != 0)
			return err_set(err, NULL, "unsupported Transfer-Encoding \"%s\"", te);
		rc = read_chunked(c, resp, until, err);
		if (rc < 0)
			return -1;
		goto done;
	} else if (cl) {
		char *stop;
		unsigned long long v = strtoull(cl, &stop, 10);
		if (stop == cl || *stop || v > CLIENT_MAX_BUFFER)
			return err_set(err, NULL, "bad Content-Length \"%s\"", cl);
		len = (size_t)v;
	} else {
		/* the body runs until the server closes */
		resp->until_close = true;
		do {
			rc = fill(c, until, err);
			if (rc < 0)
				return -1;
		} while (rc > 0);
		len = c->len - c->off;
	}
	rc = need(c, len, until, err);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return err_set(err, NULL, "connection closed after %zu of %zu body bytes",
			       c->len - c->off, len);
	resp->body = malloc(len + 1);
	if (!resp->body)
		return err_set(err, NULL, "out of memory");
	memcpy(resp->body, c->buf + c->off, len);
	resp->body_len = len;
	c->off += len;
done:
	if (!resp->body) {
		resp->body = malloc(1);
		if (!resp->body)
			return err_set(err, NULL, "out of memory");
	}
	b = resp->body;
	b[resp->body_len] = '\0';
	return 0;
}

int http_client_read_response(struct http_client *c, struct http_client_response *resp,
			      struct err *err)
{
	return http_client_read_response_ex(c, resp, 0, err);
}

int http_client_read_head_response(struct http_client *c, struct http_client_response *resp,
				   struct err *err)
{
	return http_client_read_response_ex(c, resp, HTTP_CLIENT_HEAD, err);
}

int http_client_request(struct http_client *c, const char *method, const char *path,
			const char *const *headers, const void *body, size_t len,
			struct http_client_response *resp, struct err *err)
{
	if (http_client_send_request(c, method, path, headers, body, len, err) < 0)
		return -1;
	return http_client_read_response_ex(c, resp, strcmp(method, "HEAD") == 0 ? HTTP_CLIENT_HEAD : 0,
					    err);
}

int http_client_read_until_close(struct http_client *c, char **out, size_t *len,
				 struct err *err)
{
	int64_t until = deadline(c);
	int rc;

	*out = NULL;
	*len = 0;
	do {
		rc = fill(c, until, err);
		if (rc < 0)
			return -1;
	} while (rc > 0);
	*len = c->len - c->off;
	*out = malloc(*len + 1);
	if (!*out)
		return err_set(err, NULL, "out of memory");
	if (*len)
		memcpy(*out, c->buf + c->off, *len);
	(*out)[*len] = '\0';
	c->off = c->len;
	return 0;
}

int http_client_wait_closed(struct http_client *c, struct err *err)
{
	int64_t until = deadline(c);
	int rc;

	if (c->len > c->off)
		return err_set(err, NULL, "%zu unread bytes before close", c->len - c->off);
	rc = fill(c, until, err);
	if (rc < 0)
		return -1;
	if (rc > 0)
		return err_set(err, NULL, "%zu unexpected bytes instead of close: \"%.60s\"",
			       c->len - c->off, c->buf + c->off);
	return 0;
}

int http_client_shutdown_write(struct http_client *c, struct err *err)
{
	if (shutdown(c->fd, SHUT_WR) < 0)
		return err_set(err, NULL, "shutdown: %s", strerror(errno));
	return 0;
}
