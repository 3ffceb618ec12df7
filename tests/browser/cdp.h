/* cdp: just enough of the Chrome DevTools Protocol to drive Debian's headless Chromium from a
 * Criterion test, over --remote-debugging-pipe (the browser reads commands from its fd 3 and
 * writes answers and events to its fd 4, each message JSON ended by a NUL): one page target in
 * a flattened session, commands answered in order, and the events a test needs kept on the
 * way — every URL the page asked for (Network.requestWillBeSent) and each finished load.
 * Every wait is bounded; functions return -1 with err on failure (no Criterion here). */
#ifndef DUNGHAN_TEST_CDP_H
#define DUNGHAN_TEST_CDP_H

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "err.h"

#define CDP_BOUND_MS 20000

struct cdp {
	pid_t pid;
	int to, from;     /* our ends of the browser's fd 3 and fd 4 */
	char *buf;        /* bytes read and not yet taken */
	size_t len, cap;
	int next_id;
	char session[128];
	json_t *requests; /* the URLs the page asked for, in order */
	int loads;        /* Page.loadEventFired seen */
};

static inline int64_t cdp_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The first of the usual names of Debian's Chromium that exists, or NULL. */
static inline const char *cdp_chromium(void)
{
	static const char *const names[] = { "/usr/bin/chromium", "/usr/bin/chromium-browser",
					     "/usr/bin/google-chrome", NULL };
	const char *env = getenv("CHROMIUM");

	if (env && *env && access(env, X_OK) == 0)
		return env;
	for (int i = 0; names[i]; i++)
		if (access(names[i], X_OK) == 0)
			return names[i];
	return NULL;
}

/* Starts the browser headless with a profile in dir (its log in dir/chromium.log), with every
 * host name but 127.0.0.1 unresolvable, so that nothing can reach out. */
static inline int cdp_start(struct cdp *c, const char *chromium, const char *dir, struct err *err)
{
	int cmd[2], out[2];
	char profile[600], log[600];

	memset(c, 0, sizeof(*c));
	c->to = c->from = -1;
	c->next_id = 1;
	snprintf(profile, sizeof(profile), "--user-data-dir=%s/profile", dir);
	snprintf(log, sizeof(log), "%s/chromium.log", dir);
	if (!(c->requests = json_array()) || pipe(cmd) != 0 || pipe(out) != 0)
		return err_set(err, NULL, "cannot make the pipes: %s", strerror(errno));
	c->pid = fork();
	if (c->pid < 0)
		return err_set(err, NULL, "fork: %s", strerror(errno));
	if (c->pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		char *const argv[] = {
			(char *)chromium, "--headless=new", "--no-sandbox", "--disable-gpu",
			"--remote-debugging-pipe", profile, "--no-first-run",
			"--no-default-browser-check", "--disable-extensions",
			"--disable-background-networking", "--disable-component-update",
			"--disable-sync", "--disable-default-apps", "--mute-audio",
			"--hide-scrollbars",
			"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "about:blank",
			NULL
		};

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (dup2(cmd[0], 3) < 0 || dup2(out[1], 4) < 0)
			_exit(127);
		for (int i = 5; i < 1024; i++)
			close(i);
		execv(chromium, argv);
		_exit(127);
	}
	close(cmd[0]);
	close(out[1]);
	c->to = cmd[1];
	c->from = out[0];
	fcntl(c->to, F_SETFD, FD_CLOEXEC);
	fcntl(c->from, F_SETFD, FD_CLOEXEC);
	return 0;
}

/* Handles one message that is not the answer waited for. */
static inline void cdp_event(struct cdp *c, json_t *m)
{
	const char *method = json_string_value(json_object_get(m, "method"));

	if (!method)
		return;
	if (!strcmp(method, "Network.requestWillBeSent")) {
		json_t *url = json_object_get(json_object_get(json_object_get(m, "params"),
							      "request"), "url");
		if (json_is_string(url))
			json_array_append(c->requests, url);
	} else if (!strcmp(method, "Page.loadEventFired")) {
		c->loads++;
	}
}

/* Reads messages until one has id (0: until deadline_ms passes, or `until` loads are seen),
 * handling the events met on the way. Returns the message with id (new reference) or NULL. */
static inline json_t *cdp_read(struct cdp *c, int id, int loads, int64_t deadline_ms,
			       struct err *err)
{
	for (;;) {
		char *nul;

		while (c->len && (nul = memchr(c->buf, '\0', c->len))) {
			size_t n = (size_t)(nul - c->buf);
			json_t *m = json_loadb(c->buf, n, 0, NULL);

			memmove(c->buf, nul + 1, c->len - n - 1);
			c->len -= n + 1;
			if (!m)
				continue;
			if (id && json_integer_value(json_object_get(m, "id")) == id)
				return m;
			cdp_event(c, m);
			json_decref(m);
		}
		if (!id && c->loads >= loads)
			return NULL;
		int64_t left = deadline_ms - cdp_ms();
		struct pollfd p = { c->from, POLLIN, 0 };
		if (left <= 0) {
			err_set(err, NULL, "the browser did not answer within the bound");
			return NULL;
		}
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		if (c->len + 65536 > c->cap) {
			size_t cap = c->cap ? 2 * c->cap : 1 << 20;
			char *grown = realloc(c->buf, cap);

			if (!grown) {
				err_set(err, NULL, "out of memory");
				return NULL;
			}
			c->buf = grown;
			c->cap = cap;
		}
		ssize_t r = read(c->from, c->buf + c->len, c->cap - c->len);
		if (r <= 0) {
			err_set(err, NULL, "the browser closed its pipe (see chromium.log)");
			return NULL;
		}
		c->len += (size_t)r;
	}
}

/* Sends method with params (stolen; NULL: none), in the page's session when session is true,
 * and returns the answer's result (new reference), or NULL with err (the browser's error). */
static inline json_t *cdp_call(struct cdp *c, bool session, const char *method, json_t *params,
			       struct err *err)
{
	int id = c->next_id++;
	json_t *m = json_pack("{s:i, s:s, s:o}", "id", id, "method", method, "params",
			      params ? params : json_object());
	char *text;
	json_t *answer, *result;

	if (!m)
		return err_set(err, NULL, "out of memory"), NULL;
	if (session)
		json_object_set_new(m, "sessionId", json_string(c->session));
	text = json_dumps(m, JSON_COMPACT);
	json_decref(m);
	if (!text)
		return err_set(err, NULL, "out of memory"), NULL;
	size_t len = strlen(text) + 1, done = 0; /* the NUL ends the message */
	while (done < len) {
		ssize_t w = write(c->to, text + done, len - done);
		if (w <= 0) {
			free(text);
			err_set(err, NULL, "%s: cannot write to the browser: %s", method,
				strerror(errno));
			return NULL;
		}
		done += (size_t)w;
	}
	free(text);
	if (!(answer = cdp_read(c, id, 0, cdp_ms() + CDP_BOUND_MS, err)))
		return NULL;
	if (json_object_get(answer, "error")) {
		char *e = json_dumps(json_object_get(answer, "error"), JSON_COMPACT);
		err_set(err, NULL, "%s: %s", method, e ? e : "error");
		free(e);
		json_decref(answer);
		return NULL;
	}
	result = json_incref(json_object_get(answer, "result"));
	json_decref(answer);
	return result ? result : json_object();
}

/* Opens a page and attaches to it; the Network and Page domains on. */
static inline int cdp_open_page(struct cdp *c, struct err *err)
{
	json_t *r = cdp_call(c, false, "Target.createTarget",
			     json_pack("{s:s}", "url", "about:blank"), err);
	const char *target, *session;

	if (!r)
		return -1;
	target = json_string_value(json_object_get(r, "targetId"));
	json_t *a = NULL;

	if (target)
		a = cdp_call(c, false, "Target.attachToTarget",
			     json_pack("{s:s, s:b}", "targetId", target, "flatten", 1), err);
	json_decref(r);
	if (!a)
		return -1;
	session = json_string_value(json_object_get(a, "sessionId"));
	snprintf(c->session, sizeof(c->session), "%s", session ? session : "");
	json_decref(a);
	if (!c->session[0])
		return err_set(err, NULL, "no session");
	json_t *x = cdp_call(c, true, "Network.enable", NULL, err);
	json_t *y = x ? cdp_call(c, true, "Page.enable", NULL, err) : NULL;
	json_decref(x);
	json_decref(y);
	return y ? 0 : -1;
}

/* Goes to url and waits for its load event. */
static inline int cdp_navigate(struct cdp *c, const char *url, struct err *err)
{
	int loads = c->loads + 1;
	json_t *r = cdp_call(c, true, "Page.navigate", json_pack("{s:s}", "url", url), err);

	if (!r)
		return -1;
	json_decref(r);
	cdp_read(c, 0, loads, cdp_ms() + CDP_BOUND_MS, err);
	return c->loads >= loads ? 0 : -1;
}

/* Waits for the next load (after something the page itself started, e.g. a form sent). */
static inline int cdp_wait_load(struct cdp *c, int loads, struct err *err)
{
	cdp_read(c, 0, loads, cdp_ms() + CDP_BOUND_MS, err);
	return c->loads >= loads ? 0 : -1;
}

/* The value of a JavaScript expression as a new string (a string result), or NULL with err. */
static inline char *cdp_eval(struct cdp *c, const char *expression, struct err *err)
{
	json_t *r = cdp_call(c, true, "Runtime.evaluate",
			     json_pack("{s:s, s:b}", "expression", expression, "returnByValue", 1),
			     err);
	json_t *v = json_object_get(json_object_get(r, "result"), "value");
	char *s = json_is_string(v) ? strdup(json_string_value(v)) : NULL;

	if (r && !s)
		err_set(err, NULL, "%s: not a string", expression);
	json_decref(r);
	return s;
}

/* The page's viewport: width x height CSS pixels, a phone's (touch, mobile) or not. */
static inline int cdp_viewport(struct cdp *c, int width, int height, bool mobile,
			       struct err *err)
{
	json_t *r = cdp_call(c, true, "Emulation.setDeviceMetricsOverride",
			     json_pack("{s:i, s:i, s:i, s:b}", "width", width, "height", height,
				       "deviceScaleFactor", 1, "mobile", mobile),
			     err);

	json_decref(r);
	return r ? 0 : -1;
}

/* A PNG of the whole page at the viewport's width, written to path. */
static inline int cdp_screenshot(struct cdp *c, int width, const char *path, struct err *err)
{
	json_t *m = cdp_call(c, true, "Page.getLayoutMetrics", NULL, err);
	double height = json_number_value(
		json_object_get(json_object_get(m, "cssContentSize"), "height"));
	json_t *r;
	const char *b64;
	unsigned char *png;
	size_t n;
	int len, pad = 0, rc = -1;
	FILE *f;

	json_decref(m);
	if (!m)
		return -1;
	if (height < 1)
		height = 1;
	r = cdp_call(c, true, "Page.captureScreenshot",
		     json_pack("{s:s, s:b, s:{s:i, s:i, s:i, s:f, s:i}}", "format", "png",
			       "captureBeyondViewport", 1, "clip", "x", 0, "y", 0, "width", width,
			       "height", height, "scale", 1),
		     err);
	if (!r)
		return -1;
	b64 = json_string_value(json_object_get(r, "data"));
	n = b64 ? strlen(b64) : 0;
	if (!n || !(png = malloc(n))) {
		json_decref(r);
		return err_set(err, NULL, "no screenshot data");
	}
	len = EVP_DecodeBlock(png, (const unsigned char *)b64, (int)n);
	while (n && b64[n - 1] == '=' && pad < 2) {
		pad++;
		n--;
	}
	if (len < 0 || !(f = fopen(path, "wb"))) {
		err_set(err, NULL, "cannot write %s", path);
	} else {
		rc = fwrite(png, 1, (size_t)(len - pad), f) == (size_t)(len - pad) ? 0 : -1;
		if (fclose(f) != 0 || rc != 0)
			rc = err_set(err, NULL, "cannot write %s", path);
	}
	free(png);
	json_decref(r);
	return rc;
}

/* Asks the browser to close, then waits for it (killing it past the bound). */
static inline void cdp_close(struct cdp *c)
{
	struct err err;

	if (c->pid > 0) {
		json_decref(cdp_call(c, false, "Browser.close", NULL, &err));
		for (int64_t until = cdp_ms() + 5000; cdp_ms() < until;) {
			if (waitpid(c->pid, NULL, WNOHANG) == c->pid) {
				c->pid = 0;
				break;
			}
			struct timespec ts = { 0, 20 * 1000000 };
			nanosleep(&ts, NULL);
		}
		if (c->pid > 0) {
			kill(c->pid, SIGKILL);
			waitpid(c->pid, NULL, 0);
		}
	}
	if (c->to >= 0)
		close(c->to);
	if (c->from >= 0)
		close(c->from);
	free(c->buf);
	json_decref(c->requests);
	memset(c, 0, sizeof(*c));
	c->to = c->from = -1;
}

#endif
