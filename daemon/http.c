/* http: the HTTP/1.1 server (contract and design in http.h). Implements RFC 9112 message syntax
 * (through llhttp, every lenient flag off), persistence and pipelining, and RFC 9110 status
 * codes, Date and Expect: 100-continue. Request bodies need Content-Length: chunked ones get
 * 411; Content-Length with Transfer-Encoding, or Content-Length twice, gets 400 (smuggling).
 *
 * DESIGN. Each connection owns one read buffer, one llhttp parser and one timer. The parser's
 * on_message_complete pauses it, so the read loop hands each request to the application
 * between two llhttp_execute() calls, never from inside one, and can stop with unparsed bytes
 * kept in the buffer when the pipeline is full (reading stops until answers are written). The
 * connection keeps its requests in an answer queue in request order; an answer waits in its
 * request until every earlier one has been written. Fairness: a connection hands out at most
 * max_turn_requests requests, and turn_budget_us of on_request's time, per loop iteration
 * (srv->turn, advanced by the server's uv_check after each poll phase); past that it goes on
 * the server's resume list with its bytes still buffered and unread, and the server's uv_idle,
 * which runs before the next poll phase and keeps that poll from blocking, parses it again.
 * Requests handed out from the idle callback or a write callback join that iteration's group
 * commit like any other (the application commits in uv_check, after the poll phase); the idle
 * handle stays active one pass after any request is handed out, so that this poll does not
 * block with their answers waiting for the commit. Closing is one of two paths:
 * conn_close() (abrupt: the handles close, waiting requests become aborted) or, after a last
 * response, uv_shutdown() and a short lingering read that discards what the client still sends,
 * so the client reads our answer instead of a reset. Memory of a connection is freed only when
 * both of its handles have closed; the server's memory only when its listener and every
 * connection have. */
#include "http.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <llhttp.h>

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

#define HTTP_READ_BUF (16 * 1024)
/* Connections over max_connections are answered 503; past this many being answered at once,
 * further ones are closed without a word, so a flood cannot grow memory. */
#define HTTP_MAX_REJECTING 64

enum conn_phase { PHASE_IDLE, PHASE_HEADERS, PHASE_BODY };
enum conn_timer { TIMER_NONE, TIMER_HEADER, TIMER_BODY, TIMER_IDLE, TIMER_LINGER };
enum conn_count { COUNT_NONE, COUNT_ACTIVE, COUNT_REJECTING };
enum req_state { REQ_PARSING, REQ_WAITING, REQ_ANSWERED };

/* One serialized response, alive until its write callback. The Connection header and the blank
 * line are added when it is written: only then is it known whether it is the last one. */
struct http_out {
	uv_write_t wr;
	struct http_conn *conn;
	size_t head_len;
	size_t body_len;
	size_t size; /* bytes held, for max_pipeline_bytes */
	char data[]; /* head_len bytes of head, then body_len bytes of body */
};

struct http_hdr {
	size_t name; /* offsets into the request's text */
	size_t value;
};

struct http_request {
	struct http_conn *conn;    /* NULL once the connection is gone: the request is aborted */
	struct http_request *next; /* in the connection's answer queue */
	enum req_state state;
	struct http_out *out;      /* the answer, while earlier requests are not written yet */
	void *data;
	uint8_t method;
	uint8_t minor;
	bool keep_alive;
	bool head;
	bool want_continue;        /* owes the client a 100 Continue */
	bool url_done;
	char *text;                /* URL, then header names and values, each NUL-terminated */
	size_t text_len;
	size_t text_cap;
	size_t tok;                /* where the token being received starts in text */
	size_t name;               /* the header whose value is being received */
	size_t path;               /* offsets of path and query in text, set with the headers */
	size_t query;
	struct http_hdr *hdrs;
	size_t nhdrs;
	size_t hdrs_cap;
	char *body;
	size_t body_len;
	size_t body_cap;
	size_t bytes;              /* memory held, for max_pipeline_bytes */
	char peer[64];
};

struct http_conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_shutdown_t shutdown;
	struct http_server *srv;
	struct http_conn *prev;
	struct http_conn *next;
	llhttp_t parser;
	char *rbuf;                /* bytes [roff, rlen) are read but not parsed yet */
	size_t roff;
	size_t rlen;
	struct http_request *cur;  /* being received */
	struct http_request *done; /* received, about to be handed to the application */
	struct http_request *qhead; /* handed out and not written yet, in request order */
	struct http_request *qtail;
	unsigned nqueue;
	unsigned nwrites;
	size_t inflight_bytes;     /* held by the queue and by pending writes */
	size_t hdr_bytes;          /* bytes of the current request's head received so far */
	struct http_out *final;    /* an error answer that ends the connection, after the queue */
	enum conn_phase phase;
	enum conn_timer timer_kind;
	enum conn_count counted;
	int closes_pending;
	/* A parser callback cannot fail the connection itself (the parser is running): it leaves
	 * the status to answer here and makes llhttp_execute() return an error. */
	int fail_status;
	const char *fail_code;
	char fail_msg[160];
	bool parsing;              /* inside conn_parse(): do not re-enter */
	bool reading;
	bool no_more;              /* no further request is read on this connection */
	bool eof;                  /* the client has shut down its side */
	bool shutting_down;        /* uv_shutdown() issued after the last response */
	bool lingering;            /* discarding input until EOF or the linger timeout */
	bool closed;               /* uv_close() issued */
	bool deferred;             /* on the server's resume list */
	struct http_conn *dnext;   /* the resume list, in the order the connections went on it */
	struct http_conn *dprev;
	uint64_t turn;             /* the turn turn_requests and turn_ns count in */
	unsigned turn_requests;    /* handed out in that turn */
	uint64_t turn_ns;          /* the time on_request took for them */
	char peer[64];
};

struct http_server {
	uv_tcp_t listener;
	/* Accepting again after a connection could not be set up for want of memory: libuv stops
	 * polling the listener until uv_accept() takes the connection it holds. */
	uv_timer_t accept_retry;
	bool retry_closed;
	uv_idle_t resume;          /* active while a connection waits on the resume list */
	uv_check_t turn_end;       /* advances turn after each poll phase (unreferenced) */
	uv_loop_t *loop;
	struct http_config cfg;    /* defaults applied; body_limits points at limits */
	struct http_body_limit *limits;
	llhttp_settings_t settings;
	struct http_conn *conns;   /* every connection not yet freed */
	struct http_conn *dhead;   /* the resume list: connections past their turn's budget */
	struct http_conn *dtail;
	unsigned ndeferred;
	bool handed_out;           /* a request was handed out since the last resume pass */
	uint64_t turn;
	unsigned nconns;
	unsigned nactive;
	unsigned nrejecting;
	http_stop_cb stop_cb;
	void *stop_arg;
	bool stopping;
	bool freeing;
	bool listener_closing;
	bool listener_closed;
	bool resume_closed;
	bool turn_end_closed;
	bool done;
	time_t date_sec;
	char date[80]; /* "Sun, 06 Nov 1994 08:49:37 GMT"; sized for any int fields */
};

static void conn_arm_timer(struct http_conn *c, enum conn_timer kind);
static void conn_close(struct http_conn *c);
static void conn_on_timer(uv_timer_t *t);
static void conn_fail(struct http_conn *c, int status, const char *code, const char *msg);
static void conn_flush(struct http_conn *c);
static void conn_update(struct http_conn *c);
static void conn_parse(struct http_conn *c);
static void server_on_resume(uv_idle_t *h);
static void server_maybe_done(struct http_server *srv);

/* ---- responses ---- */

const char *http_status_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Range Not Satisfiable";
	case 417: return "Expectation Failed";
	case 422: return "Unprocessable Content";
	case 425: return "Too Early";
	case 426: return "Upgrade Required";
	case 428: return "Precondition Required";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	case 507: return "Insufficient Storage";
	default: return "";
	}
}

/* The IMF-fixdate of now, recomputed once a second; by hand because strftime's names follow
 * the locale. */
static const char *server_date(struct http_server *srv)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t now = time(NULL);
	struct tm tm;

	if (now == srv->date_sec && srv->date[0])
		return srv->date;
	if (!gmtime_r(&now, &tm))
		return srv->date;
	snprintf(srv->date, sizeof(srv->date), "%s, %02d %s %04d %02d:%02d:%02d GMT",
		 days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900,
		 tm.tm_hour, tm.tm_min, tm.tm_sec);
	srv->date_sec = now;
	return srv->date;
}

static bool is_tchar(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static bool is_token(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!is_tchar((unsigned char)*s))
			return false;
	return true;
}

/* Field values may hold any visible byte, SP and HTAB; CR and LF would split the response. */
static bool is_field_value(const char *s)
{
	if (!s)
		return false;
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return false;
	}
	return true;
}

static bool response_valid(int status, const char *content_type, const void *body, size_t len,
			   const struct http_header *headers, size_t nheaders)
{
	static const char *const reserved[] = { "content-length", "transfer-encoding", "connection",
						"date", "content-type", "keep-alive", "upgrade" };
	size_t i, j;

	if (status < 200 || status > 599 || (len && !body) || (nheaders && !headers))
		return false;
	if (content_type && !is_field_value(content_type))
		return false;
	for (i = 0; i < nheaders; i++) {
		if (!is_token(headers[i].name) || !is_field_value(headers[i].value))
			return false;
		for (j = 0; j < sizeof(reserved) / sizeof(reserved[0]); j++)
			if (strcasecmp(headers[i].name, reserved[j]) == 0)
				return false;
	}
	return true;
}

/* Appends s to the head being built; the capacity was computed beforehand. */
static void put(char *buf, size_t cap, size_t *pos, const char *s)
{
	size_t n = strlen(s);

	if (*pos + n > cap)
		n = cap - *pos;
	memcpy(buf + *pos, s, n);
	*pos += n;
}

/* v in decimal, at the end of buf (n >= 21 bytes): the status line and Content-Length of every
 * response, written without snprintf (two of them cost 2 000 instructions a response). */
static const char *decimal(char *buf, size_t n, size_t v)
{
	char *p = buf + n;

	*--p = '\0';
	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	return p;
}

/* Serializes a response (without the Connection line and the final CRLF). NULL on ENOMEM. */
static struct http_out *out_build(struct http_server *srv, bool head, int status,
				  const char *content_type, const void *body, size_t len,
				  const struct http_header *headers, size_t nheaders)
{
	bool bodiless = status == 204 || status == 304 || status < 200;
	size_t cap = 128, pos = 0, body_len, i;
	struct http_out *out;
	char line[96];

	if (content_type)
		cap += strlen("Content-Type: \r\n") + strlen(content_type);
	for (i = 0; i < nheaders; i++)
		cap += strlen(headers[i].name) + strlen(headers[i].value) + 4;
	body_len = head || bodiless ? 0 : len;
	out = malloc(sizeof(*out) + cap + body_len);
	if (!out)
		return NULL;
	put(out->data, cap, &pos, "HTTP/1.1 ");
	put(out->data, cap, &pos, decimal(line, sizeof(line), (size_t)status));
	put(out->data, cap, &pos, " ");
	put(out->data, cap, &pos, http_status_reason(status));
	put(out->data, cap, &pos, "\r\n");
	if (status >= 200) {
		put(out->data, cap, &pos, "Date: ");
		put(out->data, cap, &pos, server_date(srv));
		put(out->data, cap, &pos, "\r\n");
	}
	if (content_type) {
		put(out->data, cap, &pos, "Content-Type: ");
		put(out->data, cap, &pos, content_type);
		put(out->data, cap, &pos, "\r\n");
	}
	for (i = 0; i < nheaders; i++) {
		put(out->data, cap, &pos, headers[i].name);
		put(out->data, cap, &pos, ": ");
		put(out->data, cap, &pos, headers[i].value);
		put(out->data, cap, &pos, "\r\n");
	}
	if (!bodiless) {
		/* For HEAD: the length the body would have had (RFC 9110 8.6). */
		put(out->data, cap, &pos, "Content-Length: ");
		put(out->data, cap, &pos, decimal(line, sizeof(line), len));
		put(out->data, cap, &pos, "\r\n");
	}
	if (body_len)
		memcpy(out->data + pos, body, body_len);
	out->conn = NULL;
	out->head_len = pos;
	out->body_len = body_len;
	out->size = sizeof(*out) + cap + body_len;
	return out;
}

/* {"error":{"code":"…","message":"…"}} with both strings escaped; malloc'd, NULL on ENOMEM. */
static char *json_error_body(const char *code, const char *message, size_t *len)
{
	const char *parts[2] = { code ? code : "", message ? message : "" };
	size_t cap = 48, pos = 0, i;
	const char *s;
	char *buf;

	for (i = 0; i < 2; i++)
		cap += 6 * strlen(parts[i]);
	buf = malloc(cap);
	if (!buf)
		return NULL;
	for (i = 0; i < 2; i++) {
		pos += (size_t)snprintf(buf + pos, cap - pos, "%s",
					i == 0 ? "{\"error\":{\"code\":\"" : "\",\"message\":\"");
		for (s = parts[i]; *s; s++) {
			unsigned char ch = (unsigned char)*s;
			if (ch == '"' || ch == '\\') {
				buf[pos++] = '\\';
				buf[pos++] = (char)ch;
			} else if (ch < 0x20) {
				pos += (size_t)snprintf(buf + pos, cap - pos, "\\u%04x", ch);
			} else {
				buf[pos++] = (char)ch;
			}
		}
	}
	pos += (size_t)snprintf(buf + pos, cap - pos, "\"}}");
	*len = pos;
	return buf;
}

static struct http_out *out_build_error(struct http_server *srv, bool head, int status,
					const char *code, const char *message)
{
	struct http_out *out;
	size_t len;
	char *body = json_error_body(code, message, &len);

	if (!body)
		return NULL;
	out = out_build(srv, head, status, "application/json", body, len, NULL, 0);
	free(body);
	return out;
}

/* ---- requests ---- */

static void req_free(struct http_request *req)
{
	if (!req)
		return;
	free(req->text);
	free(req->hdrs);
	free(req->body);
	free(req->out);
	free(req);
}

const char *http_request_method(const struct http_request *req)
{
	return llhttp_method_name((llhttp_method_t)req->method);
}

const char *http_request_path(const struct http_request *req)
{
	return req->text + req->path;
}

const char *http_request_query(const struct http_request *req)
{
	return req->text + req->query;
}

const char *http_request_header(const struct http_request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nhdrs; i++)
		if (strcasecmp(req->text + req->hdrs[i].name, name) == 0)
			return req->text + req->hdrs[i].value;
	return NULL;
}

size_t http_request_header_count(const struct http_request *req)
{
	return req->nhdrs;
}

bool http_request_header_at(const struct http_request *req, size_t i, const char **name,
			    const char **value)
{
	if (i >= req->nhdrs)
		return false;
	*name = req->text + req->hdrs[i].name;
	*value = req->text + req->hdrs[i].value;
	return true;
}

const char *http_request_body(const struct http_request *req, size_t *len)
{
	*len = req->body_len;
	return req->body ? req->body : "";
}

const char *http_request_peer(const struct http_request *req)
{
	return req->peer;
}

int http_request_minor_version(const struct http_request *req)
{
	return req->minor;
}

void http_request_set_data(struct http_request *req, void *data)
{
	req->data = data;
}

void *http_request_data(const struct http_request *req)
{
	return req->data;
}

bool http_request_is_aborted(const struct http_request *req)
{
	return req->conn == NULL;
}

int http_respond(struct http_request *req, int status, const char *content_type,
		 const void *body, size_t len, const struct http_header *headers,
		 size_t nheaders)
{
	struct http_conn *c = req->conn;
	int rc = 0;

	if (!c) {
		/* The connection is gone: the answer has nowhere to go. */
		req_free(req);
		return 0;
	}
	if (response_valid(status, content_type, body, len, headers, nheaders)) {
		req->out = out_build(c->srv, req->head, status, content_type, body, len, headers,
				     nheaders);
	} else {
		rc = UV_EINVAL;
		req->out = out_build_error(c->srv, req->head, 500, "internal_error",
					   "the server built an invalid response");
	}
	if (!req->out) {
		/* Later answers cannot overtake a missing one: the connection has to go. */
		conn_close(c);
		req_free(req);
		return UV_ENOMEM;
	}
	if (c->srv->cfg.on_response)
		c->srv->cfg.on_response(req, rc == 0 ? status : 500, c->srv->cfg.ctx);
	req->state = REQ_ANSWERED;
	req->bytes += req->out->size;
	c->inflight_bytes += req->out->size;
	/* Writes only: reading resumes from the write callback, so the application is never
	 * re-entered from this call. */
	conn_flush(c);
	conn_update(c);
	return rc;
}

int http_respond_error(struct http_request *req, int status, const char *code,
		       const char *message)
{
	size_t len;
	char *body;
	int rc;

	if (status < 400 || status > 599)
		return http_respond(req, -1, NULL, NULL, 0, NULL, 0);
	body = json_error_body(code, message, &len);
	if (!body) {
		if (req->conn)
			conn_close(req->conn);
		req_free(req);
		return UV_ENOMEM;
	}
	rc = http_respond(req, status, "application/json", body, len, NULL, 0);
	free(body);
	return rc;
}

/* ---- parser callbacks: they never close the connection, see fail_status ---- */

static int parse_error(struct http_conn *c, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int parse_error(struct http_conn *c, int status, const char *code, const char *fmt, ...)
{
	va_list ap;

	c->fail_status = status;
	c->fail_code = code;
	va_start(ap, fmt);
	vsnprintf(c->fail_msg, sizeof(c->fail_msg), fmt, ap);
	va_end(ap);
	return -1;
}

static int req_append(struct http_conn *c, const char *at, size_t len)
{
	struct http_request *req = c->cur;
	size_t cap;
	char *text;

	if (!req)
		return -1;
	if (req->text_len + len + 1 > req->text_cap) {
		cap = req->text_cap ? req->text_cap : 256;
		while (cap < req->text_len + len + 1)
			cap *= 2;
		text = realloc(req->text, cap);
		if (!text)
			return parse_error(c, 500, "internal_error", "out of memory");
		req->text = text;
		req->text_cap = cap;
	}
	memcpy(req->text + req->text_len, at, len);
	req->text_len += len;
	req->text[req->text_len] = '\0';
	return 0;
}

/* Ends the token being received with a NUL; returns its offset, or -1. */
static long req_end_token(struct http_conn *c)
{
	struct http_request *req = c->cur;
	size_t start;

	if (!req || req_append(c, "", 0) < 0)
		return -1;
	start = req->tok;
	req->text_len++; /* keep the NUL that req_append wrote */
	req->tok = req->text_len;
	return (long)start;
}


static int on_message_begin(llhttp_t *p)
{
	struct http_conn *c = p->data;
	struct http_request *req;

	if (c->cur)
		return -1;
	req = calloc(1, sizeof(*req));
	if (!req)
		return parse_error(c, 500, "internal_error", "out of memory");
	req->conn = c;
	req->state = REQ_PARSING;
	memcpy(req->peer, c->peer, sizeof(req->peer));
	c->cur = req;
	c->phase = PHASE_HEADERS;
	conn_arm_timer(c, TIMER_HEADER); /* from the first byte of each request */
	return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t len)
{
	return req_append(p->data, at, len) < 0 ? HPE_USER : 0;
}

static int on_url_complete(llhttp_t *p)
{
	struct http_conn *c = p->data;

	if (req_end_token(c) < 0)
		return -1;
	c->cur->url_done = true;
	return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
	return req_append(p->data, at, len) < 0 ? HPE_USER : 0;
}

static int on_header_field_complete(llhttp_t *p)
{
	struct http_conn *c = p->data;
	long name = req_end_token(c);

	if (name < 0)
		return -1;
	c->cur->name = (size_t)name;
	return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
	return req_append(p->data, at, len) < 0 ? HPE_USER : 0;
}

static int on_header_value_complete(llhttp_t *p)
{
	struct http_conn *c = p->data;
	struct http_request *req = c->cur;
	struct http_hdr *hdrs;
	long value;
	size_t cap;

	if (!req)
		return -1;
	/* llhttp strips leading whitespace but keeps trailing (RFC 9110 5.5: not part of it). */
	while (req->text_len > req->tok &&
	       (req->text[req->text_len - 1] == ' ' || req->text[req->text_len - 1] == '\t'))
		req->text[--req->text_len] = '\0';
	value = req_end_token(c);
	if (value < 0)
		return -1;
	if (req->nhdrs == req->hdrs_cap) {
		cap = req->hdrs_cap ? req->hdrs_cap * 2 : 16;
		hdrs = realloc(req->hdrs, cap * sizeof(*hdrs));
		if (!hdrs)
			return parse_error(c, 500, "internal_error", "out of memory");
		req->hdrs = hdrs;
		req->hdrs_cap = cap;
	}
	req->hdrs[req->nhdrs].name = req->name;
	req->hdrs[req->nhdrs].value = (size_t)value;
	req->nhdrs++;
	return 0;
}

/* Splits the request target (RFC 9112 3.2) into path and query, in place. */
static int req_split_url(struct http_request *req)
{
	char *url = req->text, *path, *s;

	if (!url)
		return -1;
	if (strcmp(url, "*") == 0) {
		if (req->method != HTTP_OPTIONS)
			return -1;
		path = url;
	} else if (strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0) {
		/* absolute-form: the path starts after the authority; a missing path is "/", written
		 * over the authority's last byte, which nothing uses. */
		s = strstr(url, "://") + 3;
		path = s + strcspn(s, "/?#");
		if (path == s)
			return -1;
		if (*path != '/')
			*--path = '/';
	} else if (url[0] == '/') {
		path = url;
	} else {
		return -1;
	}
	s = strchr(path, '#');
	if (s)
		*s = '\0';
	s = strchr(path, '?');
	if (s) {
		*s = '\0';
		req->query = (size_t)(s + 1 - req->text);
	} else {
		req->query = (size_t)(path + strlen(path) - req->text);
	}
	req->path = (size_t)(path - req->text);
	return 0;
}

static size_t server_body_limit(const struct http_server *srv, const char *path)
{
	size_t limit = srv->cfg.max_body_bytes, best = 0, i, n;

	for (i = 0; i < srv->cfg.nbody_limits; i++) {
		n = strlen(srv->limits[i].path_prefix);
		if (n > best && strncmp(path, srv->limits[i].path_prefix, n) == 0) {
			best = n;
			limit = srv->limits[i].max_bytes;
		}
	}
	return limit;
}

static int on_headers_complete(llhttp_t *p)
{
	struct http_conn *c = p->data;
	struct http_request *req = c->cur;
	const char *expect;
	size_t limit, i, hosts = 0;

	if (!req)
		return -1;
	c->phase = PHASE_BODY;
	req->method = llhttp_get_method(p);
	req->head = req->method == HTTP_HEAD;
	if (llhttp_get_http_major(p) != 1 || llhttp_get_http_minor(p) > 1)
		return parse_error(c, 505, "http_version_not_supported",
				   "only HTTP/1.0 and HTTP/1.1 are supported");
	req->minor = llhttp_get_http_minor(p);
	if (req->method == HTTP_CONNECT)
		return parse_error(c, 400, "bad_request", "CONNECT is not supported");
	if (req_split_url(req) < 0)
		return parse_error(c, 400, "bad_request", "invalid request target");
	for (i = 0; i < req->nhdrs; i++)
		hosts += strcasecmp(req->text + req->hdrs[i].name, "host") == 0;
	if (hosts > 1 || (req->minor == 1 && hosts == 0))
		return parse_error(c, 400, "bad_request",
				   "an HTTP/1.1 request needs exactly one Host header");
	if (p->flags & F_CHUNKED)
		return parse_error(c, 411, "length_required",
				   "chunked request bodies are not supported: send Content-Length");
	if (p->flags & F_TRANSFER_ENCODING)
		return parse_error(c, 400, "bad_request", "unsupported Transfer-Encoding");
	limit = server_body_limit(c->srv, http_request_path(req));
	if (p->content_length > limit)
		return parse_error(c, 413, "body_too_large",
				   "request body of %llu bytes exceeds the limit of %zu bytes",
				   (unsigned long long)p->content_length, limit);
	expect = http_request_header(req, "expect");
	if (expect) {
		if (strcasecmp(expect, "100-continue") != 0)
			return parse_error(c, 417, "expectation_failed",
					   "only the 100-continue expectation is supported");
		req->want_continue = req->minor == 1 && p->content_length > 0;
	}
	/* HTTP/1.0 keep-alive is not offered: one request per connection. */
	req->keep_alive = req->minor == 1 && llhttp_should_keep_alive(p);
	if (p->content_length > 0) {
		req->body = malloc((size_t)p->content_length + 1);
		if (!req->body)
			return parse_error(c, 500, "internal_error", "out of memory");
		req->body_cap = (size_t)p->content_length;
		conn_arm_timer(c, TIMER_BODY);
	}
	return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
	struct http_conn *c = p->data;
	struct http_request *req = c->cur;

	if (!req || len > req->body_cap - req->body_len)
		return HPE_USER;
	memcpy(req->body + req->body_len, at, len);
	req->body_len += len;
	return 0;
}

static int on_message_complete(llhttp_t *p)
{
	struct http_conn *c = p->data;
	struct http_request *req = c->cur;

	if (!req)
		return -1;
	if (req->body)
		req->body[req->body_len] = '\0';
	req->bytes = sizeof(*req) + req->text_cap + req->hdrs_cap * sizeof(struct http_hdr) +
		     (req->body ? req->body_cap + 1 : 0);
	c->cur = NULL;
	c->done = req;
	c->phase = PHASE_IDLE;
	/* Pause, so that conn_parse() hands the request out between two llhttp_execute(). */
	return HPE_PAUSED;
}

/* ---- connections ---- */

static bool conn_can_parse(const struct http_conn *c)
{
	const struct http_config *cfg = &c->srv->cfg;

	return !c->closed && !c->no_more && c->nqueue + c->nwrites < cfg->max_pipeline &&
	       c->inflight_bytes < cfg->max_pipeline_bytes;
}

static void conn_arm_timer(struct http_conn *c, enum conn_timer kind)
{
	const struct http_config *cfg = &c->srv->cfg;
	uint64_t ms = 0;

	c->timer_kind = kind;
	switch (kind) {
	case TIMER_NONE:
		uv_timer_stop(&c->timer);
		return;
	case TIMER_HEADER: ms = cfg->header_timeout_ms; break;
	case TIMER_BODY: ms = cfg->body_timeout_ms; break;
	case TIMER_IDLE: ms = cfg->idle_timeout_ms; break;
	case TIMER_LINGER: ms = cfg->linger_timeout_ms; break;
	}
	uv_timer_start(&c->timer, conn_on_timer, ms, 0);
}

/* The timer follows the state; a header or body deadline is set when its phase begins and is
 * not pushed back by later bytes (a slow client gets no more time by trickling). */
static void conn_update_timer(struct http_conn *c)
{
	enum conn_timer want;

	if (c->lingering)
		want = TIMER_LINGER;
	else if (!c->no_more && c->phase == PHASE_HEADERS)
		want = TIMER_HEADER;
	else if (!c->no_more && c->phase == PHASE_BODY && c->cur && c->cur->body_cap)
		want = TIMER_BODY;
	else if (c->nqueue > 0)
		want = TIMER_NONE; /* the application is working: its time is its own */
	else
		want = TIMER_IDLE;
	if (want != c->timer_kind)
		conn_arm_timer(c, want);
}

static void conn_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct http_conn *c = container_of((uv_tcp_t *)h, struct http_conn, tcp);

	(void)hint; /* the buffer is the connection's own, of a fixed size */
	/* Reading runs only once the buffer is parsed; an empty buffer makes libuv report
	 * UV_ENOBUFS, which closes the connection, should that ever break. */
	if (c->rlen != 0 && !c->lingering)
		*buf = uv_buf_init(NULL, 0);
	else
		*buf = uv_buf_init(c->rbuf, HTTP_READ_BUF);
}

static void conn_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct http_conn *c = container_of((uv_tcp_t *)s, struct http_conn, tcp);

	(void)buf; /* always c->rbuf (conn_alloc) */
	if (c->closed || nread == 0)
		return;
	if (nread > 0) {
		if (c->lingering)
			return; /* what the client sends after our last response is discarded */
		c->roff = 0;
		c->rlen = (size_t)nread;
		conn_parse(c);
		return;
	}
	if (nread != UV_EOF || c->lingering) {
		conn_close(c);
		return;
	}
	/* The client shut down its side: a request half received can never complete, but those
	 * already received are still answered (a client may half-close after its requests). */
	uv_read_stop(s);
	c->reading = false;
	c->eof = true;
	c->no_more = true;
	req_free(c->cur);
	c->cur = NULL;
	c->phase = PHASE_IDLE;
	if (!c->qhead && !c->final && c->nwrites == 0) {
		conn_close(c);
		return;
	}
	conn_update(c);
}

static void conn_update_reading(struct http_conn *c)
{
	bool want = !c->eof &&
		    (c->lingering || (conn_can_parse(c) && c->roff == c->rlen));
	int rc;

	if (want == c->reading)
		return;
	if (want) {
		rc = uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_on_read);
		if (rc < 0) {
			conn_close(c);
			return;
		}
	} else {
		uv_read_stop((uv_stream_t *)&c->tcp);
	}
	c->reading = want;
}

static void conn_on_shutdown(uv_shutdown_t *sr, int status)
{
	struct http_conn *c = container_of(sr, struct http_conn, shutdown);

	if (c->closed)
		return;
	if (status < 0 || c->eof) {
		conn_close(c);
		return;
	}
	c->lingering = true;
	conn_update(c);
}

/* After the last response: shut our side down (libuv waits for the pending writes), then
 * linger. */
static void conn_maybe_finish(struct http_conn *c)
{
	int rc;

	if (c->closed || c->shutting_down || !c->no_more || c->qhead || c->final || c->done ||
	    c->cur)
		return;
	if (c->eof && c->nwrites == 0) {
		conn_close(c);
		return;
	}
	c->shutting_down = true;
	rc = uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, conn_on_shutdown);
	if (rc < 0)
		conn_close(c);
}

static void conn_update(struct http_conn *c)
{
	if (c->closed)
		return;
	conn_maybe_finish(c);
	if (c->closed)
		return;
	conn_update_reading(c);
	if (c->closed)
		return;
	conn_update_timer(c);
}

static void conn_on_write(uv_write_t *wr, int status)
{
	struct http_out *out = container_of(wr, struct http_out, wr);
	struct http_conn *c = out->conn;

	c->nwrites--;
	c->inflight_bytes -= out->size;
	free(out);
	if (c->closed)
		return;
	if (status < 0) {
		conn_close(c);
		return;
	}
	if (c->timer_kind == TIMER_IDLE)
		conn_arm_timer(c, TIMER_IDLE); /* the client reads: not stalled */
	conn_parse(c); /* room in the pipeline: resume a paused connection */
}

static void conn_write(struct http_conn *c, struct http_out *out, bool last)
{
	static const char crlf[] = "\r\n";
	static const char close_crlf[] = "Connection: close\r\n\r\n";
	uv_buf_t bufs[3];
	unsigned n = 0;
	int rc;

	bufs[n++] = uv_buf_init(out->data, (unsigned)out->head_len);
	if (last)
		bufs[n++] = uv_buf_init((char *)close_crlf, sizeof(close_crlf) - 1);
	else
		bufs[n++] = uv_buf_init((char *)crlf, sizeof(crlf) - 1);
	if (out->body_len)
		bufs[n++] = uv_buf_init(out->data + out->head_len, (unsigned)out->body_len);
	out->conn = c;
	c->nwrites++;
	c->inflight_bytes += out->size;
	rc = uv_write(&out->wr, (uv_stream_t *)&c->tcp, bufs, n, conn_on_write);
	if (rc < 0) {
		c->nwrites--;
		c->inflight_bytes -= out->size;
		free(out);
		conn_close(c);
	}
}

/* A 100 Continue is owed to a request whose body is awaited, once every earlier answer is on
 * its way (an interim response must not overtake them). */
static void conn_send_continue(struct http_conn *c)
{
	struct http_out *out;

	if (c->closed || c->no_more || !c->cur || !c->cur->want_continue || c->qhead || c->final)
		return;
	c->cur->want_continue = false;
	out = out_build(c->srv, false, 100, NULL, NULL, 0, NULL, 0);
	if (!out) {
		conn_close(c);
		return;
	}
	conn_write(c, out, false);
}

/* Writes the answers at the head of the queue, in order, then the final error if any. */
static void conn_flush(struct http_conn *c)
{
	struct http_request *req;
	struct http_out *out;
	bool last;

	while (!c->closed && c->qhead && c->qhead->state == REQ_ANSWERED) {
		req = c->qhead;
		c->qhead = req->next;
		if (!c->qhead)
			c->qtail = NULL;
		c->nqueue--;
		c->inflight_bytes -= req->bytes;
		out = req->out;
		req->out = NULL;
		req_free(req);
		last = c->no_more && !c->qhead && !c->final;
		conn_write(c, out, last);
	}
	if (!c->closed && !c->qhead && c->final) {
		out = c->final;
		c->final = NULL;
		conn_write(c, out, true);
	}
	conn_send_continue(c);
}

/* Ends the connection with an error answer, after the answers still owed. */
static void conn_fail(struct http_conn *c, int status, const char *code, const char *msg)
{
	bool head = c->cur && c->cur->head;

	if (c->closed)
		return;
	req_free(c->cur);
	c->cur = NULL;
	c->phase = PHASE_IDLE;
	c->no_more = true;
	if (!c->final && !c->shutting_down) {
		c->final = out_build_error(c->srv, head, status, code, msg);
		if (!c->final) {
			conn_close(c);
			return;
		}
		if (c->srv->cfg.on_response)
			c->srv->cfg.on_response(NULL, status, c->srv->cfg.ctx);
	}
	conn_flush(c);
	conn_update(c);
}

static void conn_on_timer(uv_timer_t *t)
{
	struct http_conn *c = container_of(t, struct http_conn, timer);
	enum conn_timer kind = c->timer_kind;

	c->timer_kind = TIMER_NONE;
	switch (kind) {
	case TIMER_HEADER:
		conn_fail(c, 408, "request_timeout", "request headers not received in time");
		break;
	case TIMER_BODY:
		conn_fail(c, 408, "request_timeout", "request body not received in time");
		break;
	case TIMER_IDLE:
	case TIMER_LINGER:
		conn_close(c);
		break;
	case TIMER_NONE:
		break;
	}
}

/* Whether c may hand out another request in this turn; a new turn starts its count afresh. */
static bool conn_turn_left(struct http_conn *c)
{
	const struct http_config *cfg = &c->srv->cfg;

	if (c->turn != c->srv->turn) {
		c->turn = c->srv->turn;
		c->turn_requests = 0;
		c->turn_ns = 0;
	}
	return c->turn_requests < cfg->max_turn_requests &&
	       c->turn_ns < cfg->turn_budget_us * 1000;
}

static void conn_undefer(struct http_conn *c)
{
	struct http_server *srv = c->srv;

	if (!c->deferred)
		return;
	if (c->dprev)
		c->dprev->dnext = c->dnext;
	else
		srv->dhead = c->dnext;
	if (c->dnext)
		c->dnext->dprev = c->dprev;
	else
		srv->dtail = c->dprev;
	c->dnext = c->dprev = NULL;
	c->deferred = false;
	srv->ndeferred--;
}

/* Puts c, whose turn's budget is spent, on the resume list; reading stays stopped meanwhile,
 * as its buffer is not parsed through. Without the idle handle (the server is closing) the
 * bytes are simply never parsed, as for any connection of a stopping server. */
static void conn_defer(struct http_conn *c)
{
	struct http_server *srv = c->srv;

	if (c->deferred || srv->listener_closing)
		return;
	if (!srv->dhead && uv_idle_start(&srv->resume, server_on_resume) < 0)
		return; /* cannot fail for an initialized handle that is not closing */
	c->deferred = true;
	srv->ndeferred++;
	c->dprev = srv->dtail;
	c->dnext = NULL;
	if (srv->dtail)
		srv->dtail->dnext = c;
	else
		srv->dhead = c;
	srv->dtail = c;
}

static void server_on_turn_end(uv_check_t *h)
{
	struct http_server *srv = container_of(h, struct http_server, turn_end);

	srv->turn++;
}

/* Each connection on the resume list when the pass begins parses again, in list order; one that
 * spends its budget goes back at the tail. One whose budget of this turn is already spent (by
 * write callbacks, which libuv may run before the idle phase) just goes back at the tail, so
 * that it cannot keep those behind it waiting. The handle stops once the list is empty and no
 * request was handed out since the last pass (conn_dispatch starts it again): the poll after
 * a request handed out must not block, or its answer would wait for a timer to be committed. */
static void server_on_resume(uv_idle_t *h)
{
	struct http_server *srv = container_of(h, struct http_server, resume);
	bool busy = srv->handed_out;
	struct http_conn *c;
	unsigned n;

	srv->handed_out = false;
	for (n = srv->ndeferred; n > 0 && (c = srv->dhead); n--) {
		conn_undefer(c);
		if (conn_turn_left(c))
			conn_parse(c);
		else
			conn_defer(c);
	}
	if (!srv->dhead && !busy && !srv->handed_out)
		uv_idle_stop(h);
}

/* Hands the request just received to the application, and queues it for its answer. */
static void conn_dispatch(struct http_conn *c)
{
	struct http_request *req = c->done;
	uint64_t start;

	c->done = NULL;
	if (!req)
		return;
	req->state = REQ_WAITING;
	if (c->qtail)
		c->qtail->next = req;
	else
		c->qhead = req;
	c->qtail = req;
	c->nqueue++;
	c->turn_requests++;
	c->inflight_bytes += req->bytes;
	if (!req->keep_alive)
		c->no_more = true;
	/* Handed out in the pending or idle phase (a write callback, the resume list), an answer
	 * that waits for the application's uv_check (a group commit) must not wait for the poll
	 * of this iteration to time out: the idle handle keeps that poll from blocking. */
	c->srv->handed_out = true;
	if (!c->srv->listener_closing)
		uv_idle_start(&c->srv->resume, server_on_resume);
	start = uv_hrtime();
	c->srv->cfg.on_request(req, c->srv->cfg.ctx);
	/* c stays allocated even if on_request closed it: it is freed by a close callback. */
	c->turn_ns += uv_hrtime() - start;
}

/* Parses what the buffer holds while the pipeline has room, handing out each request. */
static void conn_parse(struct http_conn *c)
{
	const struct http_config *cfg = &c->srv->cfg;
	enum llhttp_errno e;
	const char *p;
	size_t n, used;
	bool in_head;
	char msg[160];

	if (c->parsing || c->closed)
		return;
	c->parsing = true;
	while (conn_can_parse(c) && c->roff < c->rlen) {
		if (!conn_turn_left(c)) {
			conn_defer(c);
			break;
		}
		p = c->rbuf + c->roff;
		n = c->rlen - c->roff;
		/* A head is fed no more than its budget, so max_header_bytes counts raw bytes,
		 * whitespace included. */
		in_head = c->phase != PHASE_BODY;
		if (in_head) {
			/* A limit lowered by a reload may be below what a head already took: it
			 * then gets its 431 below. */
			size_t room = c->hdr_bytes < cfg->max_header_bytes
					      ? cfg->max_header_bytes - c->hdr_bytes : 0;
			if (n > room)
				n = room;
		}
		e = llhttp_execute(&c->parser, p, n);
		used = n;
		if (e != HPE_OK) {
			const char *pos = llhttp_get_error_pos(&c->parser);
			used = pos >= p && pos <= p + n ? (size_t)(pos - p) : 0;
		}
		c->roff += used;
		if (in_head)
			c->hdr_bytes += used;
		if (e == HPE_OK) {
			conn_send_continue(c);
			if (c->phase != PHASE_BODY && c->hdr_bytes >= cfg->max_header_bytes) {
				if (c->cur && !c->cur->url_done) {
					snprintf(msg, sizeof(msg),
						 "request line exceeds %zu bytes",
						 cfg->max_header_bytes);
					conn_fail(c, 414, "uri_too_long", msg);
				} else {
					snprintf(msg, sizeof(msg), "request head exceeds %zu bytes",
						 cfg->max_header_bytes);
					conn_fail(c, 431, "header_too_large", msg);
				}
			}
		} else if (e == HPE_PAUSED) {
			llhttp_resume(&c->parser);
			c->hdr_bytes = 0;
			conn_dispatch(c);
		} else if (e == HPE_PAUSED_UPGRADE) {
			/* Upgrade is not offered: the request was answered as a plain one (RFC 9110
			 * 7.8), and the connection goes on speaking HTTP/1.1. */
			llhttp_resume_after_upgrade(&c->parser);
		} else if (c->fail_status) {
			conn_fail(c, c->fail_status, c->fail_code, c->fail_msg);
		} else {
			snprintf(msg, sizeof(msg), "malformed request: %s",
				 llhttp_get_error_reason(&c->parser));
			conn_fail(c, 400, "bad_request", msg);
		}
	}
	if (c->roff == c->rlen || c->no_more)
		c->roff = c->rlen = 0;
	c->parsing = false;
	conn_update(c);
}

static void conn_on_close(uv_handle_t *h)
{
	struct http_conn *c = h->type == UV_TCP
				      ? container_of((uv_tcp_t *)h, struct http_conn, tcp)
				      : container_of((uv_timer_t *)h, struct http_conn, timer);
	struct http_server *srv = c->srv;

	if (--c->closes_pending > 0)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	srv->nconns--;
	if (c->counted == COUNT_ACTIVE)
		srv->nactive--;
	else if (c->counted == COUNT_REJECTING)
		srv->nrejecting--;
	free(c->rbuf);
	free(c);
	server_maybe_done(srv);
}

/* Abrupt close: pending writes are cancelled, requests the application holds are aborted. */
static void conn_close(struct http_conn *c)
{
	struct http_request *req, *next;

	if (c->closed)
		return;
	c->closed = true;
	conn_undefer(c);
	for (req = c->qhead; req; req = next) {
		next = req->next;
		if (req->state == REQ_ANSWERED) {
			req_free(req);
		} else {
			req->conn = NULL;
			req->next = NULL;
		}
	}
	c->qhead = c->qtail = NULL;
	c->nqueue = 0;
	req_free(c->cur);
	c->cur = NULL;
	req_free(c->done);
	c->done = NULL;
	free(c->final);
	c->final = NULL;
	if (c->reading)
		uv_read_stop((uv_stream_t *)&c->tcp);
	c->reading = false;
	uv_timer_stop(&c->timer);
	c->closes_pending = 2;
	uv_close((uv_handle_t *)&c->tcp, conn_on_close);
	uv_close((uv_handle_t *)&c->timer, conn_on_close);
}

/* Graceful stop of one connection (see http_server_stop). */
static void conn_stop(struct http_conn *c)
{
	if (c->closed)
		return;
	if (c->phase != PHASE_IDLE && !c->no_more) {
		conn_fail(c, 503, "shutting_down", "the server is shutting down");
		return;
	}
	c->no_more = true;
	if (!c->qhead && !c->final && c->nwrites == 0 && !c->shutting_down) {
		conn_close(c);
		return;
	}
	conn_update(c);
}

static void format_peer(const struct sockaddr_storage *ss, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
		uv_ip6_name(a, ip, sizeof(ip));
		snprintf(buf, size, "[%s]:%u", ip, (unsigned)ntohs(a->sin6_port));
	} else if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
		uv_ip4_name(a, ip, sizeof(ip));
		snprintf(buf, size, "%s:%u", ip, (unsigned)ntohs(a->sin_port));
	} else {
		snprintf(buf, size, "?");
	}
}

static void server_on_connection(uv_stream_t *l, int status);

static void server_on_accept_retry(uv_timer_t *t)
{
	struct http_server *srv = container_of(t, struct http_server, accept_retry);

	server_on_connection((uv_stream_t *)&srv->listener, 0);
}

static void server_on_connection(uv_stream_t *l, int status)
{
	struct http_server *srv = container_of((uv_tcp_t *)l, struct http_server, listener);
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	struct http_conn *c;

	if (status < 0 || srv->stopping || srv->freeing)
		return;
	/* Without memory the connection stays where libuv holds it, and libuv accepts nothing
	 * else until uv_accept() takes it: try again shortly. */
	c = calloc(1, sizeof(*c));
	if (!c || uv_tcp_init(srv->loop, &c->tcp) < 0) {
		free(c);
		uv_timer_start(&srv->accept_retry, server_on_accept_retry, 100, 0);
		return;
	}
	uv_timer_init(srv->loop, &c->timer);
	c->srv = srv;
	c->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = c;
	srv->conns = c;
	srv->nconns++;
	c->rbuf = malloc(HTTP_READ_BUF);
	if (uv_accept(l, (uv_stream_t *)&c->tcp) < 0 || !c->rbuf) { /* accepted, then closed */
		conn_close(c);
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1); /* pipelined answers are separate small writes */
	memset(&ss, 0, sizeof(ss));
	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0)
		format_peer(&ss, c->peer, sizeof(c->peer));
	else
		snprintf(c->peer, sizeof(c->peer), "?");
	llhttp_init(&c->parser, HTTP_REQUEST, &srv->settings);
	c->parser.data = c;
	if (srv->nactive >= srv->cfg.max_connections) {
		if (srv->nrejecting >= HTTP_MAX_REJECTING) {
			conn_close(c);
			return;
		}
		c->counted = COUNT_REJECTING;
		srv->nrejecting++;
		conn_fail(c, 503, "too_many_connections", "too many connections, retry later");
		return;
	}
	c->counted = COUNT_ACTIVE;
	srv->nactive++;
	conn_update(c);
}

/* ---- the server ---- */

static int parse_listen(const char *s, struct sockaddr_storage *ss, struct err *err)
{
	char host[INET6_ADDRSTRLEN + 16];
	const char *port_s, *end;
	size_t hlen;
	bool v6;
	long port;
	char *stop;

	if (!s || !*s)
		return err_set(err, "http.listen", "no listen address");
	if (s[0] == '[') {
		end = strchr(s, ']');
		if (!end || end[1] != ':')
			return err_set(err, "http.listen", "\"%s\": expected [IPv6]:port", s);
		hlen = (size_t)(end - s - 1);
		memcpy(host, s + 1, hlen < sizeof(host) ? hlen : 0);
		port_s = end + 2;
		v6 = true;
	} else {
		end = strrchr(s, ':');
		if (!end || memchr(s, ':', (size_t)(end - s)))
			return err_set(err, "http.listen",
				       "\"%s\": expected IPv4:port or [IPv6]:port", s);
		hlen = (size_t)(end - s);
		memcpy(host, s, hlen < sizeof(host) ? hlen : 0);
		port_s = end + 1;
		v6 = false;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return err_set(err, "http.listen", "\"%s\": bad host", s);
	host[hlen] = '\0';
	if (*port_s < '0' || *port_s > '9')
		return err_set(err, "http.listen", "\"%s\": bad port", s);
	port = strtol(port_s, &stop, 10);
	if (*stop || port < 0 || port > 65535)
		return err_set(err, "http.listen", "\"%s\": bad port", s);
	memset(ss, 0, sizeof(*ss));
	if (v6 ? uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)ss)
	       : uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss))
		return err_set(err, "http.listen", "\"%s\": \"%s\" is not an IP%s address", s, host,
			       v6 ? "v6" : "v4");
	return 0;
}

static void free_body_limits(struct http_body_limit *limits, size_t n)
{
	if (limits)
		for (size_t i = 0; i < n; i++)
			free((char *)limits[i].path_prefix);
	free(limits);
}

/* A copy of cfg's body limits into *out (NULL when none); -1 when out of memory. */
static int copy_body_limits(const struct http_config *cfg, struct http_body_limit **out)
{
	struct http_body_limit *l = NULL;
	size_t i;

	*out = NULL;
	if (!cfg->nbody_limits)
		return 0;
	if (!(l = calloc(cfg->nbody_limits, sizeof(*l))))
		return -1;
	for (i = 0; i < cfg->nbody_limits; i++) {
		l[i].max_bytes = cfg->body_limits[i].max_bytes;
		if (!(l[i].path_prefix = strdup(cfg->body_limits[i].path_prefix))) {
			free_body_limits(l, i);
			return -1;
		}
	}
	*out = l;
	return 0;
}

static void server_release(struct http_server *srv)
{
	free_body_limits(srv->limits, srv->cfg.nbody_limits);
	free(srv);
}

static void server_maybe_done(struct http_server *srv)
{
	if (srv->done || !(srv->stopping || srv->freeing) || !srv->listener_closed ||
	    !srv->retry_closed || !srv->resume_closed || !srv->turn_end_closed || srv->conns)
		return;
	srv->done = true;
	if (srv->stop_cb)
		srv->stop_cb(srv, srv->stop_arg);
	server_release(srv);
}

static void server_on_listener_close(uv_handle_t *h)
{
	struct http_server *srv = container_of((uv_tcp_t *)h, struct http_server, listener);

	srv->listener_closed = true;
	server_maybe_done(srv);
}

static void server_on_retry_close(uv_handle_t *h)
{
	struct http_server *srv = container_of((uv_timer_t *)h, struct http_server, accept_retry);

	srv->retry_closed = true;
	server_maybe_done(srv);
}

static void server_on_resume_close(uv_handle_t *h)
{
	struct http_server *srv = container_of((uv_idle_t *)h, struct http_server, resume);

	srv->resume_closed = true;
	server_maybe_done(srv);
}

static void server_on_turn_end_close(uv_handle_t *h)
{
	struct http_server *srv = container_of((uv_check_t *)h, struct http_server, turn_end);

	srv->turn_end_closed = true;
	server_maybe_done(srv);
}

/* Closes the server's own handles: the listener, the accept retry timer, the resume idle and
 * the turn check. */
static void server_close_listener(struct http_server *srv)
{
	if (srv->listener_closing)
		return;
	srv->listener_closing = true;
	uv_close((uv_handle_t *)&srv->accept_retry, server_on_retry_close);
	uv_close((uv_handle_t *)&srv->listener, server_on_listener_close);
	if (!srv->resume_closed)
		uv_close((uv_handle_t *)&srv->resume, server_on_resume_close);
	if (!srv->turn_end_closed)
		uv_close((uv_handle_t *)&srv->turn_end, server_on_turn_end_close);
}

/* The zero fields of c take their defaults (http.h). */
static void config_defaults(struct http_config *c)
{
#define DEFAULT(field, value) \
	if (!c->field) \
		c->field = (value)
	DEFAULT(backlog, HTTP_DEFAULT_BACKLOG);
	DEFAULT(max_header_bytes, HTTP_DEFAULT_MAX_HEADER_BYTES);
	DEFAULT(max_body_bytes, HTTP_DEFAULT_MAX_BODY_BYTES);
	DEFAULT(header_timeout_ms, HTTP_DEFAULT_HEADER_TIMEOUT_MS);
	DEFAULT(body_timeout_ms, HTTP_DEFAULT_BODY_TIMEOUT_MS);
	DEFAULT(idle_timeout_ms, HTTP_DEFAULT_IDLE_TIMEOUT_MS);
	DEFAULT(linger_timeout_ms, HTTP_DEFAULT_LINGER_TIMEOUT_MS);
	DEFAULT(max_connections, HTTP_DEFAULT_MAX_CONNECTIONS);
	DEFAULT(max_pipeline, HTTP_DEFAULT_MAX_PIPELINE);
	DEFAULT(max_pipeline_bytes, HTTP_DEFAULT_MAX_PIPELINE_BYTES);
	DEFAULT(max_turn_requests, HTTP_DEFAULT_MAX_TURN_REQUESTS);
	DEFAULT(turn_budget_us, HTTP_DEFAULT_TURN_BUDGET_US);
#undef DEFAULT
}

struct http_server *http_server_new(uv_loop_t *loop, const struct http_config *cfg,
				    struct err *err)
{
	struct http_server *srv = NULL;
	struct sockaddr_storage addr;
	size_t i;
	int rc;

	err_clear(err);
	if (!loop || !cfg || !cfg->on_request) {
		err_set(err, NULL, "http_server_new: loop, cfg and cfg->on_request are required");
		return NULL;
	}
	if (parse_listen(cfg->listen, &addr, err) < 0)
		return NULL;
	if (cfg->backlog < 0) {
		err_set(err, "http.backlog", "backlog must not be negative");
		return NULL;
	}
	if (cfg->nbody_limits && !cfg->body_limits) {
		err_set(err, "http.body_limits", "nbody_limits without body_limits");
		return NULL;
	}
	for (i = 0; i < cfg->nbody_limits; i++) {
		if (!cfg->body_limits[i].path_prefix || cfg->body_limits[i].path_prefix[0] != '/') {
			err_set(err, "http.body_limits", "path prefix %zu must start with '/'", i);
			return NULL;
		}
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		goto nomem;
	srv->cfg = *cfg;
	srv->cfg.listen = NULL; /* not kept */
	if (copy_body_limits(cfg, &srv->limits) != 0) {
		srv->cfg.nbody_limits = 0;
		goto nomem;
	}
	srv->cfg.body_limits = srv->limits;
	config_defaults(&srv->cfg);

	llhttp_settings_init(&srv->settings);
	srv->settings.on_message_begin = on_message_begin;
	srv->settings.on_url = on_url;
	srv->settings.on_url_complete = on_url_complete;
	srv->settings.on_header_field = on_header_field;
	srv->settings.on_header_field_complete = on_header_field_complete;
	srv->settings.on_header_value = on_header_value;
	srv->settings.on_header_value_complete = on_header_value_complete;
	srv->settings.on_headers_complete = on_headers_complete;
	srv->settings.on_body = on_body;
	srv->settings.on_message_complete = on_message_complete;

	srv->loop = loop;
	rc = uv_tcp_init(loop, &srv->listener);
	if (rc < 0) {
		err_set(err, "http.listen", "cannot create a socket: %s", uv_strerror(rc));
		server_release(srv);
		return NULL;
	}
	uv_timer_init(loop, &srv->accept_retry); /* cannot fail; closed with the listener */
	/* Neither init can fail (they only fill the handle); a handle never opened needs no close. */
	rc = uv_idle_init(loop, &srv->resume);
	srv->resume_closed = rc < 0;
	srv->turn_end_closed = true;
	if (rc == 0 && (rc = uv_check_init(loop, &srv->turn_end)) == 0) {
		srv->turn_end_closed = false;
		rc = uv_check_start(&srv->turn_end, server_on_turn_end);
		uv_unref((uv_handle_t *)&srv->turn_end); /* it never keeps the loop alive */
	}
	if (rc == 0)
		rc = uv_tcp_bind(&srv->listener, (const struct sockaddr *)&addr, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&srv->listener, srv->cfg.backlog,
			       server_on_connection);
	if (rc < 0) {
		err_set(err, "http.listen", "cannot listen on %s: %s", cfg->listen,
			uv_strerror(rc));
		/* The handle is in the loop: it is freed by its close callback. */
		srv->freeing = true;
		server_close_listener(srv);
		return NULL;
	}
	return srv;

nomem:
	err_set(err, NULL, "out of memory");
	if (srv)
		server_release(srv);
	return NULL;
}

int http_server_set_limits(struct http_server *srv, const struct http_config *cfg)
{
	struct http_body_limit *limits;
	struct http_config next = srv->cfg;

	for (size_t i = 0; i < cfg->nbody_limits; i++)
		if (!cfg->body_limits || !cfg->body_limits[i].path_prefix ||
		    cfg->body_limits[i].path_prefix[0] != '/')
			return UV_EINVAL;
	if (copy_body_limits(cfg, &limits) != 0)
		return UV_ENOMEM;
	next.max_header_bytes = cfg->max_header_bytes;
	next.max_body_bytes = cfg->max_body_bytes;
	next.header_timeout_ms = cfg->header_timeout_ms;
	next.body_timeout_ms = cfg->body_timeout_ms;
	next.idle_timeout_ms = cfg->idle_timeout_ms;
	next.max_connections = cfg->max_connections;
	next.body_limits = limits;
	next.nbody_limits = cfg->nbody_limits;
	config_defaults(&next);
	free_body_limits(srv->limits, srv->cfg.nbody_limits);
	srv->limits = limits;
	srv->cfg = next;
	return 0;
}

int http_server_port(const struct http_server *srv)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss), rc;

	rc = uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&ss, &len);
	if (rc < 0)
		return rc;
	if (ss.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)&ss)->sin_port);
}

unsigned http_server_connections(const struct http_server *srv)
{
	return srv->nconns;
}

int http_server_stop(struct http_server *srv, http_stop_cb cb, void *arg)
{
	struct http_conn *c, *next;

	if (!srv || srv->stopping || srv->freeing)
		return UV_EALREADY;
	srv->stopping = true;
	srv->stop_cb = cb;
	srv->stop_arg = arg;
	server_close_listener(srv);
	for (c = srv->conns; c; c = next) {
		next = c->next;
		conn_stop(c);
	}
	return 0;
}

void http_server_free(struct http_server *srv)
{
	struct http_conn *c, *next;

	if (!srv || srv->done || srv->freeing)
		return;
	srv->freeing = true;
	server_close_listener(srv);
	for (c = srv->conns; c; c = next) {
		next = c->next;
		conn_close(c);
	}
}
