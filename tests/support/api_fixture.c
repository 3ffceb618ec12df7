/* api_fixture: the real dunghand with the example office, for API tests (see api_fixture.h). */
#include "api_fixture.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EXAMPLE DUNGHAN_SOURCE_DIR "/config/dunghan.conf.example"
#define HOLIDAYS DUNGHAN_SOURCE_DIR "/config/holidays/"

/* The example's units, people, procedures and tokens: everything from "units = (" on. */
static char *example_office(struct err *err)
{
	char *text = harness_read(EXAMPLE);
	char *start;

	if (!text) {
		err_set(err, NULL, "cannot read %s", EXAMPLE);
		return NULL;
	}
	start = strstr(text, "\nunits = (");
	if (!start) {
		free(text);
		err_set(err, NULL, "%s has no \"units = (\" line", EXAMPLE);
		return NULL;
	}
	memmove(text, start + 1, strlen(start + 1) + 1);
	return text;
}

/* Applies the {old, new, ..., NULL} pairs of edits to *text (malloc'd, replaced). */
static int edit_office(char **text, const char *const *edits, struct err *err)
{
	for (size_t i = 0; edits && edits[i]; i += 2) {
		const char *old = edits[i], *rep = edits[i + 1] ? edits[i + 1] : "";
		char *at = strstr(*text, old), *next;
		size_t before;

		if (!at)
			return err_set(err, NULL, "office_edits: \"%.200s\" is not in %s", old, EXAMPLE);
		before = (size_t)(at - *text);
		if (asprintf(&next, "%.*s%s%s", (int)before, *text, rep, at + strlen(old)) < 0)
			return err_set(err, NULL, "out of memory");
		free(*text);
		*text = next;
		if (!edits[i + 1])
			break;
	}
	return 0;
}

#define DEFAULT_CALENDAR                                                                         \
	"  timezone = \"Asia/Ho_Chi_Minh\";\n"                                                    \
	"  week = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"];\n"                               \
	"  office_hours = [\"07:30-11:30\", \"13:00-17:00\"];\n"                                   \
	"  statutory_holidays = true;\n"                                                          \
	"  include = [\"" HOLIDAYS "vn-2024.conf\", \"" HOLIDAYS "vn-2025.conf\", \"" HOLIDAYS      \
	"vn-2026.conf\"];\n"

static int write_config(struct api_fixture *f, const struct api_options *o, struct err *err)
{
	char *office = example_office(err);
	char *text = NULL;
	int rc = -1;

	if (!office)
		return -1;
	if (o && o->office_edits && edit_office(&office, o->office_edits, err) != 0)
		goto out;
	/* Chat channels the tests name beside the example's, on a loopback port nobody serves. */
	static const char *const test_channels[] = {
		"channels = (\n",
		"channels = (\n"
		"  { id = \"hctc-group\"; type = \"slack\"; url = \"http://127.0.0.1:9/hctc-group\"; },\n"
		"  { id = \"tuphap-tanphu\"; type = \"slack\"; url = \"http://127.0.0.1:9/tuphap\"; },\n"
		"  { id = \"g\"; type = \"google_chat\"; url = \"http://127.0.0.1:9/g\"; },\n",
		NULL
	};
	if (edit_office(&office, test_channels, err) != 0)
		goto out;
	if (o && o->channels) {
		char *head = NULL;
		if (asprintf(&head, "channels = (\n%s,\n", o->channels) < 0) {
			err_set(err, NULL, "out of memory");
			goto out;
		}
		const char *const more[] = { "channels = (\n", head, NULL };
		int edited = edit_office(&office, more, err);
		free(head);
		if (edited != 0)
			goto out;
	}
	if (asprintf(&text,
		     "# written by tests/support/api_fixture.c\n"
		     "server: { listen = \"127.0.0.1:%d\"; %s };\n"
		     "database: { path = \"%s\"; };\n"
		     "log: { level = \"%s\"; };\n"
		     "calendar: {\n%s\n};\n"
		     "delivery: { %s };\n"
		     "%s%s%s"
		     "%s\n%s",
		     f->port, o && o->server ? o->server : "", f->db,
		     o && o->log_level ? o->log_level : "info",
		     o && o->calendar ? o->calendar : DEFAULT_CALENDAR,
		     o && o->delivery ? o->delivery : "enabled = false;",
		     o && o->email ? "email: { " : "", o && o->email ? o->email : "",
		     o && o->email ? " };\n" : "", o && o->extra ? o->extra : "", office) < 0) {
		text = NULL;
		err_set(err, NULL, "out of memory");
		goto out;
	}
	if (harness_write(&f->h, "dunghan.conf", text) != 0) {
		err_set(err, NULL, "cannot write %s", f->conf);
		goto out;
	}
	rc = 0;
out:
	free(office);
	free(text);
	return rc;
}

char *api_fixture_log(const struct api_fixture *f)
{
	char *t = f->proc.stderr_path[0] ? harness_read(f->proc.stderr_path) : NULL;
	return t ? t : strdup("");
}

/* The port from the daemon's latest "STATUS=serving on 127.0.0.1:PORT" after position from. */
static int read_port(struct api_fixture *f, size_t from, struct err *err)
{
	const char *needle = "STATUS=serving on 127.0.0.1:", *at = NULL, *p;

	for (p = f->h.received + from; (p = strstr(p, needle)); p++)
		at = p;
	if (!at || (f->port = atoi(at + strlen(needle))) <= 0)
		return err_set(err, NULL, "the daemon did not say its port (STATUS=serving on ...)");
	return 0;
}

int api_fixture_start(struct api_fixture *f, const struct api_options *o, struct err *err)
{
	memset(f, 0, sizeof(*f));
	f->proc.pidfd = -1;
	f->h.notify_fd = -1;
	if (harness_init(&f->h) != 0)
		return err_set(err, NULL, "harness_init failed");
	harness_path(&f->h, "dunghan.conf", f->conf, sizeof(f->conf));
	harness_path(&f->h, "var/dunghan.db", f->db, sizeof(f->db));
	/* Port 0: the kernel picks a free port as the daemon binds it, and the daemon says which
	 * in its STATUS. (Choosing a free port first and binding it later races with the other
	 * tests running at the same time.) */
	f->port = 0;
	if (write_config(f, o, err) != 0)
		return -1;

	char *argv[] = { (char *)harness_dunghand(), "-c", f->conf, NULL };
	if (harness_spawn(&f->h, &f->proc, argv, NULL, "dunghand.log") != 0)
		return err_set(err, NULL, "cannot start %s", argv[0]);
	f->running = true;
	size_t from = 0;
	if (!harness_notify_wait(&f->h, "READY=1", &from, API_BOUND_MS)) {
		char *log = api_fixture_log(f);
		err_set(err, NULL, "no READY=1 within %d ms; log:\n%.400s", API_BOUND_MS, log);
		free(log);
		return -1;
	}
	return read_port(f, 0, err);
}

int api_fixture_stop(struct api_fixture *f, struct err *err)
{
	char *log;
	int rc;

	http_client_free(f->conn);
	f->conn = NULL;
	if (!f->running)
		return err_set(err, NULL, "dunghand is not running");
	harness_signal(&f->proc, SIGTERM);
	rc = harness_wait(&f->proc, API_BOUND_MS);
	f->running = false;
	log = api_fixture_log(f);
	if (rc != 0) {
		size_t n = strlen(log);
		err_set(err, NULL, "exit status %d; end of log:\n%s", rc, log + (n > 400 ? n - 400 : 0));
		free(log);
		return -1;
	}
	const char *san = strstr(log, "Sanitizer");
	if (!san)
		san = strstr(log, "runtime error");
	if (san) {
		err_set(err, NULL, "sanitizer report:\n%.450s", san);
		free(log);
		return -1;
	}
	free(log);
	return 0;
}

int api_fixture_restart(struct api_fixture *f, struct err *err)
{
	size_t from, from_before_restart;

	if (f->running)
		return err_set(err, NULL, "dunghand is still running");
	/* A restart reads only what the new daemon says, and the notify buffer drops what does not
	 * fit: after many restarts (the crash loop makes thousands) it is emptied first. */
	if (f->h.received_len > sizeof(f->h.received) / 2) {
		f->h.received_len = 0;
		f->h.received[0] = '\0';
	}
	from = from_before_restart = f->h.received_len;
	http_client_free(f->conn);
	f->conn = NULL;
	char *argv[] = { (char *)harness_dunghand(), "-c", f->conf, NULL };
	if (harness_spawn(&f->h, &f->proc, argv, NULL, "dunghand.log") != 0)
		return err_set(err, NULL, "cannot start %s", argv[0]);
	f->running = true;
	if (!harness_notify_wait(&f->h, "READY=1", &from, API_BOUND_MS)) {
		char *log = api_fixture_log(f);
		size_t n = strlen(log);
		err_set(err, NULL, "no READY=1 within %d ms after the restart; end of log:\n%s",
			API_BOUND_MS, log + (n > 400 ? n - 400 : 0));
		free(log);
		return -1;
	}
	return read_port(f, from_before_restart, err);
}

int api_fixture_crash(struct api_fixture *f, struct err *err)
{
	int rc;

	if (!f->running)
		return err_set(err, NULL, "dunghand is not running");
	harness_signal(&f->proc, SIGKILL);
	rc = harness_wait(&f->proc, API_BOUND_MS);
	f->running = false;
	http_client_free(f->conn);
	f->conn = NULL;
	if (rc != 128 + SIGKILL)
		return err_set(err, NULL, "after SIGKILL: exit status %d, expected %d", rc,
			       128 + SIGKILL);
	return 0;
}

int api_fixture_exited(struct api_fixture *f, struct err *err)
{
	int rc;

	if (!f->running)
		return err_set(err, NULL, "dunghand is not running");
	rc = harness_wait(&f->proc, API_BOUND_MS);
	if (rc < 0) {
		harness_kill(&f->proc);
		err_set(err, NULL, "dunghand still runs after %d ms", API_BOUND_MS);
	}
	f->running = false;
	http_client_free(f->conn);
	f->conn = NULL;
	return rc;
}

/* Runs argv with its output into h's dir/log_name (emptied first); *out gets it. */
static int run_tool(struct harness *h, char *const argv[], const char *log_name, char **out,
		    struct err *err)
{
	struct harness_proc p;
	char path[600];
	int rc;

	*out = NULL;
	harness_path(h, log_name, path, sizeof(path));
	if (harness_write(h, log_name, "") != 0)
		return err_set(err, NULL, "cannot write %s", path);
	if (harness_spawn(h, &p, argv, NULL, log_name) != 0)
		return err_set(err, NULL, "cannot start %s", argv[0]);
	rc = harness_wait(&p, API_BOUND_MS);
	if (rc < 0) {
		harness_kill(&p);
		return err_set(err, NULL, "%s did not exit within %d ms", argv[0], API_BOUND_MS);
	}
	*out = harness_read(path);
	if (!*out)
		*out = strdup("");
	return rc;
}

int api_fixture_ctl(struct api_fixture *f, const char *const *args, char **out,
		    struct err *err)
{
	char *argv[40];
	size_t n = 0;

	argv[n++] = (char *)harness_dunghanctl();
	argv[n++] = "-c";
	argv[n++] = f->conf;
	for (size_t i = 0; args && args[i] && n < 39; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	return run_tool(&f->h, argv, "dunghanctl.log", out, err);
}

int api_check_config(const struct api_options *o, char **out, struct err *err)
{
	struct api_fixture f;
	int rc = -1;

	*out = NULL;
	memset(&f, 0, sizeof(f));
	f.proc.pidfd = -1;
	f.h.notify_fd = -1;
	if (harness_init(&f.h) != 0)
		return err_set(err, NULL, "harness_init failed");
	harness_path(&f.h, "dunghan.conf", f.conf, sizeof(f.conf));
	harness_path(&f.h, "var/dunghan.db", f.db, sizeof(f.db));
	f.port = harness_free_port();
	if (f.port <= 0) {
		err_set(err, NULL, "no free port");
	} else if (write_config(&f, o, err) == 0) {
		char *argv[] = { (char *)harness_dunghand(), "--check-config", "-c", f.conf, NULL };
		rc = run_tool(&f.h, argv, "check.log", out, err);
	}
	harness_close(&f.h);
	return rc;
}

void api_fixture_close(struct api_fixture *f)
{
	http_client_free(f->conn);
	f->conn = NULL;
	harness_kill(&f->proc);
	f->running = false;
	harness_close(&f->h);
}

struct http_client *api_connect(const struct api_fixture *f, int timeout_ms, struct err *err)
{
	return http_client_connect("127.0.0.1", f->port, timeout_ms, err);
}

void api_reply_free(struct api_reply *r)
{
	if (r->json)
		json_decref(r->json);
	http_client_response_free(&r->resp);
	memset(r, 0, sizeof(*r));
}

static bool wants_close(const struct http_client_response *resp)
{
	const char *conn = http_client_header(resp, "Connection");
	return resp->until_close || (conn && strcasecmp(conn, "close") == 0);
}

/* The headers of a request into headers[] (at most 40, NULL-ended); auth and ctype hold the
 * text of the first two. */
static void request_headers(const char **headers, char auth[300], char ctype[300],
			    const char *token, const char *content_type,
			    const char *const *extra_headers)
{
	size_t n = 0;

	if (token) {
		snprintf(auth, 300, "Authorization: Bearer %s", token);
		headers[n++] = auth;
	}
	if (content_type) {
		snprintf(ctype, 300, "Content-Type: %s", content_type);
		headers[n++] = ctype;
	}
	for (size_t i = 0; extra_headers && extra_headers[i] && n < 39; i++)
		headers[n++] = extra_headers[i];
	headers[n] = NULL;
}

/* Reads the answer on *conn into r, freeing the connection (*conn = NULL) on an error or when
 * the server closes it. */
static int read_answer(struct http_client **conn, struct api_reply *r, struct err *err)
{
	if (http_client_read_response(*conn, &r->resp, err) != 0) {
		http_client_free(*conn);
		*conn = NULL;
		return -1;
	}
	r->status = r->resp.status;
	if (r->resp.body_len)
		r->json = json_loadb(r->resp.body, r->resp.body_len, 0, NULL);
	if (wants_close(&r->resp)) {
		http_client_free(*conn);
		*conn = NULL;
	}
	return 0;
}

int api_call(struct api_fixture *f, const char *method, const char *path, const char *token,
	     const char *content_type, const char *body, size_t len,
	     const char *const *extra_headers, struct api_reply *r, struct err *err)
{
	const char *headers[40];
	char auth[300], ctype[300];
	bool fresh;

	api_reply_free(r);
	request_headers(headers, auth, ctype, token, content_type, extra_headers);
	for (int attempt = 0;; attempt++) {
		fresh = f->conn == NULL;
		if (fresh && !(f->conn = api_connect(f, 30000, err)))
			return -1;
		if (http_client_send_request(f->conn, method, path, headers, body, body ? len : 0,
					     err) == 0)
			break;
		/* A kept-alive connection the server closed meanwhile: once more on a new one. */
		http_client_free(f->conn);
		f->conn = NULL;
		if (fresh || attempt > 0)
			return -1;
	}
	return read_answer(&f->conn, r, err);
}

int api_call_conn(struct http_client **conn, int port, int timeout_ms, const char *method,
		  const char *path, const char *token, const char *content_type, const char *body,
		  size_t len, const char *const *extra_headers, struct api_reply *r,
		  struct err *err)
{
	const char *headers[40];
	char auth[300], ctype[300];

	api_reply_free(r);
	request_headers(headers, auth, ctype, token, content_type, extra_headers);
	if (!*conn && !(*conn = http_client_connect("127.0.0.1", port, timeout_ms, err)))
		return -1;
	if (http_client_send_request(*conn, method, path, headers, body, body ? len : 0, err) != 0) {
		http_client_free(*conn);
		*conn = NULL;
		return -1;
	}
	return read_answer(conn, r, err);
}

int api_json(struct api_fixture *f, const char *method, const char *path, const char *token,
	     const char *json, struct api_reply *r, struct err *err)
{
	return api_call(f, method, path, token, json ? "application/json" : NULL, json,
			json ? strlen(json) : 0, NULL, r, err);
}

int api_jsonf(struct api_fixture *f, const char *method, const char *path, const char *token,
	      struct api_reply *r, struct err *err, const char *fmt, ...)
{
	va_list ap;
	char *body;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&body, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return err_set(err, NULL, "out of memory");
	rc = api_json(f, method, path, token, body, r, err);
	free(body);
	return rc;
}

json_t *api_get(json_t *json, const char *path)
{
	char key[256];
	const char *p = path;

	while (json && *p) {
		size_t k = strcspn(p, ".");
		if (k >= sizeof(key))
			return NULL;
		memcpy(key, p, k);
		key[k] = '\0';
		if (json_is_object(json)) {
			json = json_object_get(json, key);
		} else if (json_is_array(json)) {
			char *end;
			unsigned long i = strtoul(key, &end, 10);
			json = *end ? NULL : json_array_get(json, i);
		} else {
			return NULL;
		}
		p += k;
		if (*p == '.')
			p++;
	}
	return json;
}

const char *api_str(json_t *json, const char *path)
{
	return json_string_value(api_get(json, path));
}

int64_t api_int(json_t *json, const char *path)
{
	json_t *v = api_get(json, path);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : INT64_MIN;
}

bool api_is_null(json_t *json, const char *path)
{
	return json_is_null(api_get(json, path));
}

/* --- the database, read-only --------------------------------------------------------------- */

static bool background_table(const char *name)
{
	static const char *const skip[] = { "outbox", "notif", "remind", "escalat", "job", "mail",
					    "sms", "alert", "watch" };
	if (!strcmp(name, "units") || !strcmp(name, "people") || !strcmp(name, "procedures"))
		return true;
	/* The scheduler's and the sender's own bookmarks (last digest day, Message-ID salt) are
	 * written on their clock, e.g. at the scheduler's first tick after start-up. */
	if (!strcmp(name, "scheduler_state"))
		return true;
	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (strstr(name, skip[i]))
			return true;
	return false;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 1099511628211ull;
	}
	return h;
}

static int open_ro(const struct api_fixture *f, sqlite3 **db, struct err *err)
{
	if (sqlite3_open_v2(f->db, db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		err_set(err, NULL, "open %s: %s", f->db, *db ? sqlite3_errmsg(*db) : "no memory");
		sqlite3_close(*db);
		*db = NULL;
		return -1;
	}
	sqlite3_busy_timeout(*db, 5000);
	return 0;
}

static int hash_table(sqlite3 *db, const char *name, uint64_t *h, int64_t *rows, struct err *err)
{
	sqlite3_stmt *s = NULL;
	char *sql = sqlite3_mprintf("SELECT * FROM \"%w\"", name);
	int rc;

	*rows = 0;
	if (!sql || sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
		err_set(err, NULL, "%s: %s", name, sqlite3_errmsg(db));
		sqlite3_free(sql);
		return -1;
	}
	sqlite3_free(sql);
	*h = fnv(*h, name, strlen(name) + 1);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int ncol = sqlite3_column_count(s);
		(*rows)++;
		for (int i = 0; i < ncol; i++) {
			int type = sqlite3_column_type(s, i);
			*h = fnv(*h, &type, sizeof(type));
			if (type == SQLITE_NULL)
				continue;
			const void *v = type == SQLITE_BLOB ? sqlite3_column_blob(s, i)
							    : (const void *)sqlite3_column_text(s, i);
			*h = fnv(*h, v, (size_t)sqlite3_column_bytes(s, i));
		}
	}
	if (rc != SQLITE_DONE) {
		err_set(err, NULL, "%s: %s", name, sqlite3_errmsg(db));
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	return 0;
}

int api_db_state(const struct api_fixture *f, struct api_db_state *st, struct err *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	size_t used = 0;
	int rc = -1, step;

	memset(st, 0, sizeof(*st));
	st->hash = 14695981039346656037ull;
	if (open_ro(f, &db, err) != 0)
		return -1;
	/* One read transaction: every table is seen at the same commit. */
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT "
			       "LIKE 'sqlite_%' ORDER BY name",
			       -1, &s, NULL) != SQLITE_OK) {
		err_set(err, NULL, "schema: %s", sqlite3_errmsg(db));
		goto out;
	}
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(s, 0);
		int64_t rows;
		if (background_table(name))
			continue;
		if (hash_table(db, name, &st->hash, &rows, err) != 0)
			goto out;
		if (used < sizeof(st->summary))
			used += (size_t)snprintf(st->summary + used, sizeof(st->summary) - used,
						 "%s%s=%lld", used ? " " : "", name, (long long)rows);
	}
	if (step != SQLITE_DONE) {
		err_set(err, NULL, "schema: %s", sqlite3_errmsg(db));
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	sqlite3_close(db);
	return rc;
}

int64_t api_db_int(const struct api_fixture *f, const char *sql, struct err *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t v = -1;

	if (open_ro(f, &db, err) != 0)
		return -1;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
		err_set(err, NULL, "%s: %s", sql, sqlite3_errmsg(db));
		goto out;
	}
	if (sqlite3_step(s) != SQLITE_ROW) {
		err_set(err, NULL, "%s: no row (%s)", sql, sqlite3_errmsg(db));
		goto out;
	}
	v = sqlite3_column_int64(s, 0);
out:
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

json_t *api_db_query(const struct api_fixture *f, const char *sql, struct err *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	json_t *rows = NULL;
	int step;

	if (open_ro(f, &db, err) != 0)
		return NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
		err_set(err, NULL, "%s: %s", sql, sqlite3_errmsg(db));
		goto out;
	}
	rows = json_array();
	while (rows && (step = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *row = json_array();
		for (int i = 0; row && i < sqlite3_column_count(s); i++) {
			json_t *v;
			switch (sqlite3_column_type(s, i)) {
			case SQLITE_INTEGER:
				v = json_integer(sqlite3_column_int64(s, i));
				break;
			case SQLITE_FLOAT:
				v = json_real(sqlite3_column_double(s, i));
				break;
			case SQLITE_NULL:
				v = json_null();
				break;
			default:
				v = json_stringn((const char *)sqlite3_column_text(s, i),
						 (size_t)sqlite3_column_bytes(s, i));
				break;
			}
			if (!v || json_array_append_new(row, v) != 0) {
				json_decref(row);
				row = NULL;
			}
		}
		if (!row || json_array_append_new(rows, row) != 0) {
			err_set(err, NULL, "%s: out of memory", sql);
			json_decref(rows);
			rows = NULL;
			goto out;
		}
	}
	if (!rows) {
		err_set(err, NULL, "out of memory");
	} else if (step != SQLITE_DONE) {
		err_set(err, NULL, "%s: %s", sql, sqlite3_errmsg(db));
		json_decref(rows);
		rows = NULL;
	}
out:
	sqlite3_finalize(s);
	sqlite3_close(db);
	return rows;
}

/* --- instants ------------------------------------------------------------------------------ */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

int64_t api_parse_instant(const char *s)
{
	int y, mo, d, h, mi, sec, n = 0;
	int oh = 0, om = 0, sign = 1;

	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
	    n != 19)
		return INT64_MIN;
	s += n;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			;
	if (*s == 'Z' && s[1] == '\0') {
		/* UTC */
	} else if ((*s == '+' || *s == '-') && sscanf(s + 1, "%2d:%2d%n", &oh, &om, &n) == 2 &&
		   s[1 + n] == '\0') {
		sign = *s == '-' ? -1 : 1;
	} else {
		return INT64_MIN;
	}
	return days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec -
	       sign * (oh * 3600 + om * 60);
}

void api_instant_from_now(char *buf, size_t n, int64_t delta_s)
{
	time_t t = time(NULL) + (time_t)delta_s + 7 * 3600;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%S+07:00", &tm);
}

void api_format_instant(char *buf, size_t n, int64_t t)
{
	time_t local = (time_t)(t + 7 * 3600);
	struct tm tm;

	gmtime_r(&local, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%S+07:00", &tm);
}

void api_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}

char *api_url_encode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = malloc(strlen(s) * 3 + 1), *o = out;

	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p)) {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}

int api_fan_out(const struct api_fixture *f, size_t n, const char *method, const char *path,
		const char *const *headers, const char *const bodies[], struct api_reply replies[],
		struct err *err)
{
	struct http_client **c = calloc(n, sizeof(*c));
	int rc = -1;

	if (!c)
		return err_set(err, NULL, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (!(c[i] = api_connect(f, 10000, err)))
			goto out;
	for (size_t i = 0; i < n; i++)
		if (http_client_send_request(c[i], method, path, headers, bodies[i],
					     bodies[i] ? strlen(bodies[i]) : 0, err) != 0)
			goto out;
	for (size_t i = 0; i < n; i++) {
		api_reply_free(&replies[i]);
		if (http_client_read_response(c[i], &replies[i].resp, err) != 0)
			goto out;
		replies[i].status = replies[i].resp.status;
		if (replies[i].resp.body_len)
			replies[i].json = json_loadb(replies[i].resp.body, replies[i].resp.body_len,
						     0, NULL);
	}
	rc = 0;
out:
	for (size_t i = 0; i < n; i++)
		http_client_free(c[i]);
	free(c);
	return rc;
}
