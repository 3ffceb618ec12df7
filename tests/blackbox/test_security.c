/* test_security: issue #10 "Security checks" against the real dunghand. Tokens never reach the
 * log: at log level debug, every token of the example office and a wrong one go to every kind
 * of endpoint — answered, refused (401, 403) and rejected (400, 404, 415, 422), in well-formed
 * requests and in ones the HTTP layer refuses (408, 431, smuggling), in the path, the query and
 * other header schemes — before and after a reload, a refused reload and the stop; then the whole
 * log is searched for each token's plain value (their SHA-256 are in the config by design).
 * Files are private: the database, its -wal and -shm and its lock file are 0600
 * (docs/operations.md, "The database"), a backup 0600 in a 0700 directory, the drop folder's
 * directories 0750 (docs/import.md) and the error list it writes 0600. The daemon runs with
 * umask 022, a usual login umask, so that each mode is the daemon's own doing. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api_fixture.h"

#define WRONG_TOKEN "motcua-dev-token-but-wrong"

/* The token classes of the example office: what each may do (docs/api.md). */
enum cls { C_WRITE, C_READ, C_ADMIN, C_WRONG, C_COUNT };

static const struct token {
	const char *value;
	enum cls cls;
} tokens[] = {
	{ API_MOTCUA, C_WRITE }, { API_VANTHU, C_WRITE }, { API_BAOCAO, C_READ },
	{ API_ADMIN, C_ADMIN },  { WRONG_TOKEN, C_WRONG },
};
#define NTOKENS (sizeof(tokens) / sizeof(tokens[0]))

/* One request and its status for each class. In path and body, {n} stands for a number unique
 * to the token and the round, so that every create is new. */
struct req {
	const char *method, *path, *ctype, *body;
	int want[C_COUNT];
};

#define JSON "application/json"
#define CASE_BODY "{\"code\": \"SEC-{n}\", \"procedure\": \"1.004873\", \"unit\": \"ttphvhcc\"}"

static const struct req reqs[] = {
	{ "GET", "/healthz", NULL, NULL, { 200, 200, 200, 200 } },
	{ "GET", "/readyz", NULL, NULL, { 200, 200, 200, 200 } },
	{ "GET", "/metrics", NULL, NULL, { 200, 200, 200, 200 } },
	{ "GET", "/api/v1/status", NULL, NULL, { 200, 200, 200, 401 } },
	{ "GET", "/api/v1/cases?limit=5", NULL, NULL, { 200, 200, 200, 401 } },
	{ "GET", "/api/v1/cases?limit=0", NULL, NULL, { 400, 400, 400, 401 } },
	{ "GET", "/api/v1/cases/SEC-NO-SUCH", NULL, NULL, { 404, 404, 404, 401 } },
	{ "POST", "/api/v1/cases", JSON, CASE_BODY, { 201, 403, 201, 401 } },
	{ "POST", "/api/v1/cases", JSON, CASE_BODY, { 200, 403, 200, 401 } }, /* idempotent */
	{ "POST", "/api/v1/cases", JSON, "{\"code\": \"SEC-{n}\", \"procedure\": ",
	  { 400, 403, 400, 401 } },
	{ "POST", "/api/v1/cases", JSON,
	  "{\"code\": \"SEC-U{n}\", \"procedure\": \"1.004873\", \"unit\": \"khong-co\"}",
	  { 422, 403, 422, 401 } },
	{ "POST", "/api/v1/cases", "text/plain", CASE_BODY, { 415, 403, 415, 401 } },
	{ "POST", "/api/v1/cases:batch", "application/x-ndjson",
	  "{\"code\": \"SEC-B{n}\", \"procedure\": \"1.004222\", \"unit\": \"hctc\"}\n",
	  { 200, 403, 200, 401 } },
	{ "POST", "/api/v1/cases/SEC-{n}/events", JSON, "{\"type\": \"note\", \"text\": \"x\"}",
	  { 201, 403, 201, 401 } },
	{ "GET", "/api/v1/cases/SEC-BASE/events", NULL, NULL, { 200, 200, 200, 401 } },
	{ "POST", "/api/v1/documents", JSON,
	  "{\"summary\": \"V/v kiểm tra {n}\", \"issuer\": \"Sở Nội vụ\", "
	  "\"lead_unit\": \"hctc\"}",
	  { 201, 403, 201, 401 } },
	{ "GET", "/api/v1/documents", NULL, NULL, { 200, 200, 200, 401 } },
	{ "GET", "/api/v1/assignments", NULL, NULL, { 200, 200, 200, 401 } },
	{ "GET", "/api/v1/alerts", NULL, NULL, { 200, 200, 200, 401 } },
	{ "GET", "/api/v1/outbox", NULL, NULL, { 403, 403, 200, 401 } },
	{ "GET", "/api/v1/kpi?unit=vp", NULL, NULL, { 200, 200, 200, 401 } },
	{ "GET", "/api/v1/kpi?period=someday", NULL, NULL, { 400, 400, 400, 401 } },
	{ "GET", "/api/v1/kpi/budget", NULL, NULL, { 200, 200, 200, 401 } },
	{ "POST", "/api/v1/inspections", JSON,
	  "{\"unit\": \"vp\", \"inspected_unit\": \"hctc\", \"date\": \"2099-01-01\"}",
	  { 400, 403, 400, 401 } },
	{ "POST", "/api/v1/backup", NULL, NULL, { 403, 403, 200, 401 } },
};
#define NREQS (sizeof(reqs) / sizeof(reqs[0]))

static struct api_t t;
static char spool_base[64];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void teardown(void)
{
	api_t_teardown(&t);
	if (spool_base[0])
		nftw(spool_base, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	spool_base[0] = '\0';
}

TestSuite(security, .fini = teardown, .timeout = 120);

/* Sends one request with "Authorization: Bearer token" and expects status. */
static void call(const char *method, const char *path, const char *token, const char *ctype,
		 const char *body, int status)
{
	char auth[200];
	const char *headers[] = { auth, NULL };
	struct err e = { 0 };
	int rc;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	rc = api_call(&t.f, method, path, NULL, ctype, body, body ? strlen(body) : 0, headers, &t.r,
		      &e);
	cr_assert_eq(rc, 0, "%s %s (token %s): no answer: %s", method, path, token, e.msg);
	cr_assert_eq(t.r.status, status, "%s %s (token %s) → %d, expected %d: %.300s", method,
		     path, token, t.r.status, status, t.r.resp.body);
}

/* text with every {n} replaced by n, into buf. */
static const char *fill(char *buf, size_t size, const char *text, int n)
{
	size_t used = 0;

	for (const char *p = text; *p && used + 12 < size; p++) {
		if (!strncmp(p, "{n}", 3)) {
			used += (size_t)snprintf(buf + used, size - used, "%d", n);
			p += 2;
		} else {
			buf[used++] = *p;
		}
	}
	buf[used] = '\0';
	return buf;
}

/* Every request of the table with every token; round makes the created items new. */
static void every_endpoint(int round)
{
	for (size_t k = 0; k < NTOKENS; k++)
		for (size_t i = 0; i < NREQS; i++) {
			const struct req *q = &reqs[i];
			int n = round * 100 + (int)k;
			char path[200], body[400];

			call(q->method, fill(path, sizeof(path), q->path, n), tokens[k].value,
			     q->ctype, q->body ? fill(body, sizeof(body), q->body, n) : NULL,
			     q->want[tokens[k].cls]);
		}
}

/* Sends the request printf(fmt, ...) as raw bytes on a new connection and expects an answer
 * with status. */
static void raw(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void raw(int status, const char *fmt, ...)
{
	struct http_client *c;
	struct http_client_response resp = { 0 };
	struct err e = { 0 };
	char *req;
	va_list ap;

	va_start(ap, fmt);
	cr_assert_geq(vasprintf(&req, fmt, ap), 0);
	va_end(ap);
	c = api_connect(&t.f, 5000, &e);
	cr_assert_not_null(c, "connect: %s", e.msg);
	(void)http_client_send_str(c, req, &e); /* the server may answer before the end */
	cr_assert_eq(http_client_read_response(c, &resp, &e), 0, "%.60s...: no answer: %s", req,
		     e.msg);
	cr_assert_eq(resp.status, status, "%.60s... → %d, expected %d: %.300s", req,
		     resp.status, status, resp.body);
	http_client_response_free(&resp);
	http_client_free(c);
	free(req);
}

#define HEAD(line) line "\r\nHost: 127.0.0.1\r\n"

/* The token where a client should not put it, and in requests the HTTP layer refuses. */
static void misplaced(const char *token)
{
	char path[300], pad[20001];

	snprintf(path, sizeof(path), "/api/v1/cases/%s", token);
	call("GET", path, API_BAOCAO, NULL, NULL, 404);
	snprintf(path, sizeof(path), "/api/v1/cases?token=%s", token);
	call("GET", path, API_BAOCAO, NULL, NULL, 400);
	snprintf(path, sizeof(path), "/%s", token);
	call("GET", path, API_BAOCAO, NULL, NULL, 404);

	memset(pad, 'p', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	raw(401, HEAD("GET /api/v1/cases HTTP/1.1") "Authorization: Basic %s\r\n\r\n", token);
	raw(401, HEAD("GET /api/v1/cases HTTP/1.1") "Authorization: %s\r\nX-Api-Key: %s\r\n\r\n",
	    token, token);
	raw(431, HEAD("GET /api/v1/cases HTTP/1.1") "Authorization: Bearer %s\r\nX-Pad: %s\r\n\r\n",
	    token, pad);
	raw(400,
	    HEAD("POST /api/v1/cases HTTP/1.1") "Authorization: Bearer %s\r\n"
	    "Content-Type: application/json\r\nContent-Length: 2\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
	    token);
	/* A head never finished (header_timeout is 0.3 s here): 408. */
	raw(408, HEAD("GET /api/v1/cases HTTP/1.1") "Authorization: Bearer %s\r\n", token);
}

/* Sends SIGHUP and waits for the daemon's READY=1 after its RELOADING=1. */
static void reload(size_t *from)
{
	harness_signal(&t.f.proc, SIGHUP);
	cr_assert(harness_notify_wait(&t.f.h, "RELOADING=1", from, API_BOUND_MS),
		  "no RELOADING=1 after SIGHUP");
	cr_assert(harness_notify_wait(&t.f.h, "READY=1", from, API_BOUND_MS),
		  "no READY=1 after the reload");
}

/* Replaces the first occurrence of old in the fixture's config by rep. */
static void edit_config(const char *old, const char *rep)
{
	char *text = harness_read(t.f.conf), *at, *next = NULL;

	cr_assert_not_null(text);
	at = strstr(text, old);
	cr_assert_not_null(at, "\"%s\" is not in the config", old);
	cr_assert_geq(asprintf(&next, "%.*s%s%s", (int)(at - text), text, rep, at + strlen(old)),
		      0);
	cr_assert_eq(harness_write(&t.f.h, "dunghan.conf", next), 0);
	free(text);
	free(next);
}

Test(security, tokens_never_reach_the_log)
{
	struct api_options o = { .log_level = "debug", .server = "header_timeout = 0.3;" };
	static const char motcua_sha[] =
		"50b9c7302d7af511ffaa3f45ad94ae66593c11e002022aebb43a5724511a9eb9";
	struct err e = { 0 };
	size_t from = 0;
	char *log;

	api_t_start(&t, &o);
	call("POST", "/api/v1/cases", API_ADMIN, JSON,
	     "{\"code\": \"SEC-BASE\", \"procedure\": \"1.004873\", \"unit\": \"ttphvhcc\"}", 201);
	every_endpoint(1);
	for (size_t k = 0; k < NTOKENS; k++)
		misplaced(tokens[k].value);

	/* A reload, then one the daemon refuses (a token's hash is not hex): it keeps running on
	 * the configuration it had, tokens and all. */
	from = t.f.h.received_len;
	reload(&from);
	every_endpoint(2);
	edit_config(motcua_sha, "not-a-sha256");
	reload(&from);
	call("GET", "/api/v1/cases?limit=1", API_MOTCUA, NULL, NULL, 200);
	edit_config("not-a-sha256", motcua_sha);
	reload(&from);
	every_endpoint(3);

	cr_assert_eq(api_fixture_stop(&t.f, &e), 0, "stopping: %s", e.msg);
	log = api_fixture_log(&t.f);
	cr_assert(strstr(log, "debug: "), "no debug line: was the level applied? log:\n%.2000s",
		  log);
	cr_assert(strstr(log, "reload: the new configuration is invalid"),
		  "the broken config was not refused; log:\n%.3000s", log);
	for (size_t k = 0; k < NTOKENS; k++) {
		const char *at = strstr(log, tokens[k].value);

		if (at) {
			const char *line = at;

			while (line > log && line[-1] != '\n')
				line--;
			cr_assert_fail("the log holds the token %s:\n%.*s", tokens[k].value,
				       (int)strcspn(line, "\n"), line);
		}
	}
	free(log);
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0, "%s does not exist", path);
	return st.st_mode & 07777;
}

#define expect_mode(path, want)                                                                  \
	do {                                                                                     \
		const char *p_ = (path);                                                         \
		mode_t m_ = mode_of(p_), w_ = (want);                                            \
		cr_expect_eq(m_, w_, "%s: mode %04o, expected %04o", p_, (unsigned)m_,           \
			     (unsigned)w_);                                                      \
	} while (0)

/* Waits (bounded) until path exists. */
static void wait_for(const char *path)
{
	struct stat st;

	for (int waited = 0; stat(path, &st) != 0; waited += 20) {
		if (waited > API_BOUND_MS) {
			char *log = api_fixture_log(&t.f);
			cr_assert_fail("%s did not appear within %d ms; log:\n%s", path,
				       API_BOUND_MS, log);
		}
		api_sleep_ms(20);
	}
}

Test(security, database_backup_and_drop_folder_files_are_private)
{
	char extra[400], path[700], dest[700], spool[200];
	struct api_options o = { .extra = extra };
	const char *file;
	FILE *f;

	umask(022);
	strcpy(spool_base, "/tmp/dunghan-sec-XXXXXX");
	cr_assert_not_null(mkdtemp(spool_base));
	snprintf(spool, sizeof(spool), "%s/spool", spool_base); /* the daemon creates it */
	snprintf(extra, sizeof(extra),
		 "import: { spool_dir = \"%s\"; settle = \"0.2s\"; scan_interval = \"1s\"; };",
		 spool);
	api_t_start(&t, &o);
	api_t_req(&t, "POST", "/api/v1/cases", API_MOTCUA, fill(path, sizeof(path), CASE_BODY, 1),
		  201);

	/* The database and what SQLite and the daemon keep beside it, while it runs. */
	expect_mode(t.f.db, 0600);
	snprintf(path, sizeof(path), "%s-wal", t.f.db);
	expect_mode(path, 0600);
	snprintf(path, sizeof(path), "%s-shm", t.f.db);
	expect_mode(path, 0600);
	snprintf(path, sizeof(path), "%s.lock", t.f.db);
	expect_mode(path, 0600);

	/* A backup, and the directory made for it. */
	file = api_str(api_t_req(&t, "POST", "/api/v1/backup", API_ADMIN, NULL, 200), "file");
	cr_assert_not_null(file, "no file in %s", t.r.resp.body);
	expect_mode(file, 0600);
	snprintf(path, sizeof(path), "%s", file);
	*strrchr(path, '/') = '\0';
	expect_mode(path, 0700);

	/* The drop folder: its directories as docs/import.md says, and the error list of a file
	 * it refused (the file itself is the depositor's, moved as it was). */
	expect_mode(spool, 0750);
	for (const char *const *sub = (const char *const[]){ "processing", "done", "failed", NULL };
	     *sub; sub++) {
		snprintf(path, sizeof(path), "%s/%s", spool, *sub);
		expect_mode(path, 0750);
	}
	snprintf(path, sizeof(path), "%s/bad.csv.tmp", spool);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("Mã hồ sơ;Thủ tục;Đơn vị;Ngày tiếp nhận\n"
	      "SEC-2;1.004873;khong-co;07/02/2024 10:00\n", f);
	cr_assert_eq(fclose(f), 0);
	snprintf(dest, sizeof(dest), "%s/bad.csv", spool);
	cr_assert_eq(rename(path, dest), 0);
	snprintf(path, sizeof(path), "%s/failed/bad.csv.errors.txt", spool);
	wait_for(path);
	cr_expect_eq(mode_of(path), 0600,
		     "%s: mode %04o, expected 0600 (issue #10: spool files are private; the mode "
		     "must not follow the umask)", path, (unsigned)mode_of(path));
	api_t_stop(&t);
}
