/* listeners: the receiving ends of dunghan's delivery in black-box tests — an HTTP listener in
 * the test process that records every webhook request and answers it from a script, and the
 * real SMTP server (tests/support/smtp_server.py on aiosmtpd, run by the Debian /usr/bin/python3)
 * with the messages it accepted read back from its spool.
 *
 * Nothing here uses Criterion: functions return -1 (or NULL) and fill err; the tests assert.
 * Every wait is bounded by the caller's timeout. A listener may be used from any thread, an SMTP
 * server from one at a time. */
#ifndef DUNGHAN_LISTENERS_H
#define DUNGHAN_LISTENERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "harness.h"

/* --- the webhook listener ------------------------------------------------------------------
 * One thread accepts; one thread per connection serves its keep-alive requests. Each request
 * is recorded, then answered by the first unused step of the script whose path prefix matches,
 * else by the default answer. A step may hold its answer until listener_release(), or forever
 * (the client gives up), or close the connection without answering. */

struct listener_step {
	const char *path;    /* prefix; NULL: any */
	int status;          /* 0 ends a script */
	const char *headers; /* extra header lines, each ending in \r\n; or NULL */
	const char *body;    /* NULL: "ok" */
	int hold;            /* 1: until listener_release(); 2: never (the peer gives up);
	                      * 3: the connection is closed at once, without an answer */
	bool used;
};

/* One request as received. Requests live until listener_free(), at a fixed address. */
struct listener_request {
	char method[16];
	char path[600];
	char *head;      /* the header lines as received */
	char *body;      /* body_len bytes then a NUL */
	size_t body_len;
	double at;       /* when the request was read (CLOCK_REALTIME seconds) */
	double answered; /* when the answer was written (0: none) */
	int status;      /* the answer's status (0: none) */
};

struct listener;

/* Binds 127.0.0.1 on a port the kernel picks and starts serving; every request is answered
 * 200 "ok" until a script says otherwise. NULL with err on failure. */
struct listener *listener_new(struct err *err);

/* The same on a given port (a receiver coming up where the daemon already sends). */
struct listener *listener_new_on(int port, struct err *err);

/* Stops serving (held answers are dropped), joins every thread and frees l. NULL: no-op. */
void listener_free(struct listener *l);

int listener_port(const struct listener *l);

/* Replaces the script: steps (ended by a step with status 0; NULL: none) and the default; a
 * step that holds holds again after an earlier listener_release(). */
void listener_script(struct listener *l, const struct listener_step *steps,
		     struct listener_step dflt);

/* Answers every held (hold = 1) request, and everything after, as dflt says. */
void listener_release(struct listener *l, struct listener_step dflt);

/* The number of requests received so far (held: of requests being held now). */
int listener_count(struct listener *l, bool held);

/* The number of connections accepted so far. */
int listener_connections(struct listener *l);

/* Waits until listener_count(l, held) >= n, at most timeout_ms. Returns true when it is. */
bool listener_wait(struct listener *l, int n, bool held, int timeout_ms);

/* The requests whose path starts with prefix ("" : all), in arrival order, into out[] (at most
 * max). Returns how many matched (which may exceed max). */
int listener_requests(struct listener *l, const char *prefix, const struct listener_request **out,
		      int max);

/* The value of header name in head (header lines as received, CRLF-separated): a new string,
 * or NULL when absent. */
char *listener_header(const char *head, const char *name);

/* --- the SMTP server ----------------------------------------------------------------------- */

#define SMTP_SERVER_BOUND_MS 10000

struct smtp_server;

/* Starts smtp_server.py on 127.0.0.1:port with its spool in h's directory under name (created),
 * its output in name.log there, and args (NULL-ended options of smtp_server.py, or NULL); waits
 * until it listens, at most SMTP_SERVER_BOUND_MS. NULL with err (and the log) on failure. */
struct smtp_server *smtp_server_start(struct harness *h, const char *name, int port,
				      const char *const *args, struct err *err);

/* Kills the server (SIGKILL, reaped) and frees s. NULL: no-op. */
void smtp_server_stop(struct smtp_server *s);

/* The spool directory: msg-NNNN.eml and msg-NNNN.json per accepted message (docs in the
 * script). */
const char *smtp_server_dir(const struct smtp_server *s);

/* How many messages the server has accepted so far (the .json of each appears last). */
int smtp_server_count(struct smtp_server *s);

/* Waits until smtp_server_count(s) >= n, at most timeout_ms. Returns true when it is. */
bool smtp_server_wait(struct smtp_server *s, int n, int timeout_ms);

/* The i-th message accepted (from 1): a new .json metadata object (mail_from, rcpt_tos, tls,
 * login, eml) with "data": the raw message. NULL when there is none (err says so) or on an
 * error (err says which). */
json_t *smtp_server_message(struct smtp_server *s, int i, struct err *err);

/* Messages from the from-th on (0: all), in order: a new array of smtp_server_message()'s
 * objects. NULL with err. */
json_t *smtp_server_messages(struct smtp_server *s, int from, struct err *err);

/* The unfolded value of header name in the header block of the message msg (a new string), or
 * NULL when absent. */
char *smtp_header(const char *msg, const char *name);

#endif
