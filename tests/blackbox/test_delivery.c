/* Delivery against the real dunghand and real servers (deliver.c, mail.c, webhook.c, curl_uv.c):
 * e-mail through a real SMTP server (aiosmtpd, tests/support/smtp_server.py, run by the Debian
 * /usr/bin/python3) — content, recipients, MIME, Vietnamese subjects, STARTTLS with a
 * certificate made at test time and AUTH, a server down then up, 550 and 451 answers — and the
 * file transport; webhooks to an HTTP listener in this process — the exact bodies of each type,
 * the json signature, 500/400/429/timeouts, Retry-After; kill -9 while messages are in flight;
 * POST /api/v1/outbox/{id}/retry; max_attempts, max_age and not_before.
 *
 * Alerts come quickly as in test_escalation_api.c: a round-the-clock calendar and a case
 * registered with its due date in the past, which fires its rule at once (catch-up); its outbox
 * rows are claimed by the sender within about a second. Every wait polls with a bound. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api_fixture.h"
#include "listeners.h"

#define TEMPLATES DUNGHAN_SOURCE_DIR "/config/templates"
#define LINK_BASE "https://dunghan.dongnai.gov.vn"
#define FROM_ADDR "dunghan@dongnai.gov.vn"
#define TG_TOKEN "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
#define JSON_SECRET "motcua-secret-2024-0123456789abcdef"

/* Fast retries for tests: the backoff's ceiling is 1 s, then 2 s. */
#define FAST_DELIVERY                                                                            \
	"enabled = true; backoff_base = \"1s\"; backoff_cap = \"2s\"; max_attempts = 4; "       \
	"timeout = \"2s\"; connect_timeout = \"1s\";"

static struct api_t t;
static void expect_alive(void);
static struct harness wh; /* the test's own directory: SMTP spools, certificates, secrets */
static bool wh_ready;

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

static double now_real(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *wpath(const char *name)
{
	static char buf[8][600];
	static int k;
	k = (k + 1) % 8;
	return harness_path(&wh, name, buf[k], sizeof(buf[k]));
}

static void work_init(void)
{
	if (!wh_ready) {
		wh.notify_fd = -1;
		cr_assert_eq(harness_init(&wh), 0, "harness_init for the test's directory");
		wh_ready = true;
	}
}

/* ============================================================================================
 * The webhook listener and the SMTP server (tests/support/listeners.h). */

static struct listener *L;
static struct smtp_server *S[2];

static void listener_start(void)
{
	struct err e = { 0 };

	L = listener_new(&e);
	cr_assert(L, "%s", e.msg);
}

static void listener_stop(void)
{
	listener_free(L);
	L = NULL;
}

/* Waits until at least n requests (or, with held, n held requests) arrived; bounded, and
 * failing at once when dunghand died. */
static void wait_requests(int n, bool held, int timeout_ms)
{
	for (int waited = 0; !listener_wait(L, n, held, 50); waited += 50) {
		expect_alive();
		if (waited >= timeout_ms) {
			char *log = api_fixture_log(&t.f);
			size_t ln = strlen(log);
			cr_assert_fail("the listener got %d %srequests in %d ms, expected %d; daemon log:\n%s",
				       listener_count(L, held), held ? "held " : "", timeout_ms, n,
				       log + (ln > 1500 ? ln - 1500 : 0));
		}
	}
}

/* Requests whose path starts with prefix, in arrival order, into out[] (at most max). */
static int requests_to(const char *prefix, const struct listener_request **out, int max)
{
	int n = listener_requests(L, prefix, out, max);
	return n < max ? n : max;
}

static void smtp_start(struct smtp_server **s, const char *name, int port,
		       const char *const *args)
{
	struct err e = { 0 };

	work_init();
	*s = smtp_server_start(&wh, name, port, args, &e);
	cr_assert(*s, "%s", e.msg);
}

static void smtp_stop(struct smtp_server **s)
{
	smtp_server_stop(*s);
	*s = NULL;
}

/* The messages the server accepted so far (a new array of the .json metadata objects, each
 * with "data": the raw message), in order, kept until teardown. */
static json_t *smtp_messages(struct smtp_server *const *s)
{
	struct err e = { 0 };
	json_t *all = smtp_server_messages(*s, 0, &e);

	cr_assert(all, "%s", e.msg);
	return api_t_keep(&t, all);
}

/* ============================================================================================
 * The daemon. */

struct setup {
	const char *rules;     /* the cases rules (escalation.cases) */
	const char *channels;  /* channel definitions added to the channels list, or NULL */
	const char *email;     /* the settings inside email: { }, or NULL: no email section */
	const char *delivery;  /* NULL: FAST_DELIVERY */
	const char *calendar;  /* NULL: API_RTC_CALENDAR */
	const char *const *edits; /* more office edits, NULL-ended pairs, or NULL */
};

static void start(const struct setup *s)
{
	char *extra;

	cr_assert_geq(asprintf(&extra,
			       "escalation: {\n  templates = \"" TEMPLATES "\";\n"
			       "  link_base = \"" LINK_BASE "\";\n  cases = (\n%s\n  );\n};\n",
			       s->rules),
		      0);
	struct api_options o = { .extra = extra,
				 .calendar = s->calendar ? s->calendar : API_RTC_CALENDAR,
				 .delivery = s->delivery ? s->delivery : FAST_DELIVERY,
				 .office_edits = s->edits,
				 .email = s->email,
				 .channels = s->channels };
	api_t_start(&t, &o);
	free(extra);
}

static void teardown(void)
{
	api_t_teardown(&t);
	listener_stop();
	for (int i = 0; i < 2; i++)
		smtp_stop(&S[i]);
	if (wh_ready)
		harness_close(&wh);
	wh_ready = false;
}

TestSuite(delivery, .fini = teardown, .timeout = 180);

static const char *code(char *buf, size_t n, int i)
{
	snprintf(buf, n, "000.00.21.H19-250101-%04d", i);
	return buf;
}

/* Registers a case of procedure proc in unit, handler, received and due as given. */
static void create_case(const char *c, const char *proc, const char *unit, const char *handler,
			int64_t received, int64_t due)
{
	char r[40], d[40], h[80] = "null";

	api_format_instant(r, sizeof(r), received);
	api_format_instant(d, sizeof(d), due);
	if (handler)
		snprintf(h, sizeof(h), "\"%s\"", handler);
	api_t_reqf(&t, "POST", "/api/v1/cases", API_MOTCUA, 201,
		   "{\"code\": \"%s\", \"procedure\": \"%s\", \"unit\": \"%s\", \"handler\": %s, "
		   "\"applicant\": \"Nguyễn Văn A\", \"received_at\": \"%s\", \"due_at\": \"%s\"}",
		   c, proc, unit, h, r, d);
}

/* A case of hctc (head phong.tv, leader long.nk) handled by phong.tv, overdue by 2 days:
 * every rule whose instant is up to +1d has passed, and it fires at once. */
static void overdue_case(const char *c)
{
	int64_t t0 = now_s();
	create_case(c, "1.004222", "hctc", "phong.tv", t0 - 4 * 86400, t0 - 2 * 86400);
}

/* Fails at once, with the end of its log, when dunghand has died (rather than on the next
 * refused connection). */
static void expect_alive(void)
{
	if (!t.f.running)
		return;
	int rc = harness_wait(&t.f.proc, 0);
	if (rc >= 0) {
		t.f.running = false;
		char *log = api_fixture_log(&t.f);
		size_t n = strlen(log);
		cr_assert_fail("dunghand died: exit status %d%s; end of log:\n%s", rc,
			       rc == 128 + 11 ? " (SIGSEGV)" : rc == 128 + 6 ? " (SIGABRT)" : "",
			       log + (n > 1500 ? n - 1500 : 0));
	}
}

/* The whole outbox (admin), oldest first. */
static json_t *outbox(void)
{
	expect_alive();
	return api_t_all(&t, "/api/v1/outbox", "outbox", API_ADMIN);
}

static json_t *row_by(json_t *box, const char *channel, const char *recipient)
{
	json_t *row;
	size_t i;
	json_array_foreach (box, i, row)
		if (!strcmp(api_str(row, "channel"), channel) &&
		    !strcmp(api_str(row, "recipient"), recipient))
			return row;
	return NULL;
}

static json_t *row_id(int64_t id)
{
	json_t *box = outbox(), *row;
	size_t i;
	json_array_foreach (box, i, row)
		if (api_int(row, "id") == id)
			return row;
	return NULL;
}

/* Waits until the outbox has at least n rows; returns it. */
static json_t *wait_rows(size_t n)
{
	for (int i = 0;; i++) {
		json_t *box = outbox();
		if (json_array_size(box) >= n)
			return box;
		cr_assert(i < 200, "%zu outbox rows after 10 s, expected %zu: %s",
			  json_array_size(box), n, json_dumps(box, JSON_COMPACT));
		api_sleep_ms(50);
	}
}

static char *daemon_log_tail(void)
{
	char *log = api_fixture_log(&t.f);
	size_t n = strlen(log);
	if (n > 2000)
		memmove(log, log + n - 2000, 2001);
	return log;
}

/* Waits until outbox row id has status, at most timeout_ms; returns the row. */
static json_t *wait_status(int64_t id, const char *status, int timeout_ms)
{
	double until = now_real() + timeout_ms / 1000.0;
	for (;;) {
		json_t *row = row_id(id);
		cr_assert(row, "no outbox row %lld", (long long)id);
		if (!strcmp(api_str(row, "status"), status))
			return row;
		if (now_real() > until)
			cr_assert_fail("outbox %lld: status %s after %d ms, expected %s: %s\nlog:\n%s",
				       (long long)id, api_str(row, "status"), timeout_ms, status,
				       json_dumps(row, JSON_COMPACT), daemon_log_tail());
		api_sleep_ms(50);
	}
}

/* --- delivery_attempts, read-only -------------------------------------------------------- */

struct attempt {
	int64_t attempt, started, finished, curl_code;
	char outcome[16];
	char reply[1024];
};

static int attempts_of(int64_t outbox_id, struct attempt *a, int max)
{
	expect_alive();
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int n = 0;

	cr_assert_eq(sqlite3_open_v2(t.f.db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	cr_assert_eq(sqlite3_prepare_v2(db,
					"SELECT attempt, started_at, finished_at, outcome, "
					"coalesce(curl_code, -1), coalesce(reply, '') FROM "
					"delivery_attempts WHERE outbox_id = ?1 ORDER BY id",
					-1, &s, NULL),
		     SQLITE_OK, "%s", sqlite3_errmsg(db));
	sqlite3_bind_int64(s, 1, outbox_id);
	while (sqlite3_step(s) == SQLITE_ROW && n < max) {
		a[n].attempt = sqlite3_column_int64(s, 0);
		a[n].started = sqlite3_column_int64(s, 1);
		a[n].finished = sqlite3_column_int64(s, 2);
		snprintf(a[n].outcome, sizeof(a[n].outcome), "%s", sqlite3_column_text(s, 3));
		a[n].curl_code = sqlite3_column_int64(s, 4);
		snprintf(a[n].reply, sizeof(a[n].reply), "%s", sqlite3_column_text(s, 5));
		n++;
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

static char *attempts_dump(int64_t id)
{
	struct attempt a[64];
	int n = attempts_of(id, a, 64);
	char *out = calloc(1, 8192);
	size_t used = 0;
	for (int i = 0; i < n && used < 8000; i++)
		used += (size_t)snprintf(out + used, 8192 - used,
					 "#%lld %s curl %lld [%lld..%lld] %.150s\n",
					 (long long)a[i].attempt, a[i].outcome,
					 (long long)a[i].curl_code, (long long)a[i].started,
					 (long long)a[i].finished, a[i].reply);
	return out;
}

/* Waits until outbox row id has at least n attempts logged. */
static int wait_attempts(int64_t id, int n, struct attempt *a, int max, int timeout_ms)
{
	double until = now_real() + timeout_ms / 1000.0;
	for (;;) {
		int got = attempts_of(id, a, max);
		if (got >= n)
			return got;
		if (now_real() > until)
			cr_assert_fail("outbox %lld: %d attempts after %d ms, expected %d:\n%s\nlog:\n%s",
				       (long long)id, got, timeout_ms, n, attempts_dump(id),
				       daemon_log_tail());
		api_sleep_ms(50);
	}
}

/* ============================================================================================
 * Messages: RFC 5322 headers, RFC 2047 encoded words, MIME parts, base64. */

/* Decodes base64 (whitespace ignored) into a new buffer; *len its size. NULL when invalid. */
static unsigned char *b64_decode(const char *in, size_t in_len, size_t *len)
{
	char *clean = malloc(in_len + 1);
	size_t k = 0, pad = 0;
	for (size_t i = 0; i < in_len; i++)
		if (!strchr(" \t\r\n", in[i]))
			clean[k++] = in[i];
	clean[k] = '\0';
	if (k % 4 != 0) {
		free(clean);
		return NULL;
	}
	for (size_t i = k; i > 0 && clean[i - 1] == '='; i--)
		pad++;
	unsigned char *out = malloc(k / 4 * 3 + 1);
	int n = k ? EVP_DecodeBlock(out, (const unsigned char *)clean, (int)k) : 0;
	free(clean);
	if (n < 0 || (size_t)n < pad) {
		free(out);
		return NULL;
	}
	*len = (size_t)n - pad;
	out[*len] = '\0';
	return out;
}

/* Decodes the RFC 2047 encoded words of a header value (B and Q, UTF-8); whitespace between two
 * encoded words is dropped. A new string, or NULL when an encoded word is malformed. */
static char *rfc2047_decode(const char *v)
{
	char *out = malloc(strlen(v) * 2 + 1);
	size_t k = 0;
	bool last_encoded = false;

	while (*v) {
		const char *ws = v;
		while (*v == ' ' || *v == '\t')
			v++;
		if (!strncmp(v, "=?", 2)) {
			const char *q1 = strchr(v + 2, '?');
			if (!q1 || !q1[1] || q1[2] != '?')
				goto bad;
			const char *text = q1 + 3, *endw = strstr(text, "?=");
			if (!endw || strncasecmp(v + 2, "UTF-8", (size_t)(q1 - v - 2)) ||
			    q1 - v - 2 != 5)
				goto bad;
			if (!last_encoded)
				for (const char *w = ws; w < v; w++)
					out[k++] = *w;
			if (q1[1] == 'B' || q1[1] == 'b') {
				size_t len;
				unsigned char *d = b64_decode(text, (size_t)(endw - text), &len);
				if (!d)
					goto bad;
				memcpy(out + k, d, len);
				k += len;
				free(d);
			} else if (q1[1] == 'Q' || q1[1] == 'q') {
				for (const char *c = text; c < endw; c++) {
					if (*c == '_') {
						out[k++] = ' ';
					} else if (*c == '=' && c + 2 < endw) {
						unsigned x;
						sscanf(c + 1, "%2x", &x);
						out[k++] = (char)x;
						c += 2;
					} else {
						out[k++] = *c;
					}
				}
			} else {
				goto bad;
			}
			v = endw + 2;
			last_encoded = true;
		} else {
			for (const char *w = ws; w < v; w++)
				out[k++] = *w;
			while (*v && *v != ' ' && *v != '\t')
				out[k++] = *v++;
			last_encoded = false;
		}
	}
	out[k] = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

/* text with every line break made CRLF (canonical form). */
static char *crlf(const char *s)
{
	char *out = malloc(strlen(s) * 2 + 1);
	size_t k = 0;
	for (; *s; s++) {
		if (*s == '\r') {
			out[k++] = '\r';
			out[k++] = '\n';
			if (s[1] == '\n')
				s++;
		} else if (*s == '\n') {
			out[k++] = '\r';
			out[k++] = '\n';
		} else {
			out[k++] = *s;
		}
	}
	out[k] = '\0';
	return out;
}

struct part {
	char *ctype, *cte;
	char *body; /* decoded */
	size_t len;
};

/* Splits a message into its MIME leaf parts (one for a single-part message). Returns the
 * count; asserts on a malformed message. */
static int mime_parts(const char *msg, struct part *parts, int max)
{
	const char *body = strstr(msg, "\r\n\r\n");
	cr_assert(body, "no header/body separator");
	body += 4;
	char *ctype = smtp_header(msg, "Content-Type");
	cr_assert(ctype, "no Content-Type");
	if (strncasecmp(ctype, "multipart/", 10) != 0) {
		char *cte = smtp_header(msg, "Content-Transfer-Encoding");
		parts[0] = (struct part){ ctype, cte, NULL, 0 };
		if (cte && !strcasecmp(cte, "base64")) {
			parts[0].body = (char *)b64_decode(body, strlen(body), &parts[0].len);
			cr_assert(parts[0].body, "the base64 body does not decode");
		} else {
			parts[0].body = strdup(body);
			parts[0].len = strlen(body);
		}
		return 1;
	}
	const char *b = strcasestr(ctype, "boundary=");
	cr_assert(b, "multipart without boundary: %s", ctype);
	b += 9;
	char boundary[200];
	if (*b == '"')
		sscanf(b + 1, "%199[^\"]", boundary);
	else
		sscanf(b, "%199[^; ]", boundary);
	char delim[210], closing[212];
	snprintf(delim, sizeof(delim), "\r\n--%s\r\n", boundary);
	snprintf(closing, sizeof(closing), "\r\n--%s--", boundary);
	/* the first delimiter may start the body */
	char *work;
	cr_assert_geq(asprintf(&work, "\r\n%s", body), 0);
	cr_assert(strstr(work, closing), "no closing boundary --%s--", boundary);
	int n = 0;
	char *p = strstr(work, delim);
	cr_assert(p, "no boundary line --%s", boundary);
	while (p && n < max) {
		char *start = p + strlen(delim);
		char *next = strstr(start, delim);
		char *stop = next ? next : strstr(start, closing);
		cr_assert(stop, "part %d is not terminated", n);
		char *part = strndup(start, (size_t)(stop - start));
		char *hb = strstr(part, "\r\n\r\n");
		cr_assert(hb, "part %d has no header/body separator", n);
		parts[n].ctype = smtp_header(part, "Content-Type");
		parts[n].cte = smtp_header(part, "Content-Transfer-Encoding");
		if (parts[n].cte && !strcasecmp(parts[n].cte, "base64")) {
			parts[n].body = (char *)b64_decode(hb + 4, strlen(hb + 4), &parts[n].len);
			cr_assert(parts[n].body, "part %d: the base64 does not decode", n);
		} else {
			parts[n].body = strdup(hb + 4);
			parts[n].len = strlen(hb + 4);
		}
		free(part);
		n++;
		p = next;
	}
	free(work);
	free(ctype);
	return n;
}

/* Checks one e-mail against its outbox row: headers, encoded words, MIME structure, bodies. */
static void check_email(const char *msg, json_t *row, const char *person_name)
{
	char *dump = json_dumps(row, JSON_COMPACT);
	int64_t id = api_int(row, "id");

	/* every line ends in CRLF; header lines at most 78 octets */
	const char *hend = strstr(msg, "\r\n\r\n");
	cr_assert(hend, "no end of headers");
	for (const char *p = msg; *p;) {
		const char *eol = strstr(p, "\r\n");
		cr_assert(eol, "a line without CRLF at the end: %.80s", p);
		cr_assert(!memchr(p, '\n', (size_t)(eol - p)), "a bare LF in: %.80s", p);
		if (p < hend)
			cr_assert_leq(eol - p, 78, "header line longer than 78: %.*s", (int)(eol - p), p);
		cr_assert_leq(eol - p, 998, "line longer than 998");
		p = eol + 2;
	}
	/* Subject: decodes exactly to the outbox row's subject */
	char *raw = smtp_header(msg, "Subject");
	cr_assert(raw, "no Subject");
	char *subject = rfc2047_decode(raw);
	cr_assert(subject, "Subject: malformed encoded word: %s", raw);
	cr_assert_str_eq(subject, api_str(row, "subject"), "Subject decodes to \"%s\", row %s",
			 subject, dump);
	/* From and To */
	char *from = smtp_header(msg, "From"), *to = smtp_header(msg, "To");
	cr_assert(from && to, "From/To missing");
	char *from_d = rfc2047_decode(from), *to_d = rfc2047_decode(to);
	cr_assert_str_eq(from_d, "Đúng Hạn <" FROM_ADDR ">", "From: %s", from);
	char want_to[400];
	snprintf(want_to, sizeof(want_to), "%s <%s>", person_name, api_str(row, "address"));
	cr_assert_str_eq(to_d, want_to, "To: %s → %s", to, to_d);
	/* Message-ID derived from the outbox id */
	char *mid = smtp_header(msg, "Message-ID");
	char prefix[80];
	snprintf(prefix, sizeof(prefix), "<outbox-%lld.", (long long)id);
	cr_assert(mid && !strncmp(mid, prefix, strlen(prefix)) &&
			  strlen(mid) == strlen(prefix) + 16 + strlen("@dunghan.dongnai.gov.vn>") &&
			  !strcmp(mid + strlen(prefix) + 16, "@dunghan.dongnai.gov.vn>"),
		  "Message-ID %s, expected %s<16 hex>@dunghan.dongnai.gov.vn>", mid, prefix);
	char *date = smtp_header(msg, "Date"), *mime = smtp_header(msg, "MIME-Version");
	char *auto_sub = smtp_header(msg, "Auto-Submitted");
	cr_assert(date && strlen(date) >= 29 && strstr(date, "+0700"), "Date: %s", date);
	cr_assert(mime && !strcmp(mime, "1.0"), "MIME-Version: %s", mime);
	cr_assert(auto_sub && !strcmp(auto_sub, "auto-generated"), "Auto-Submitted: %s", auto_sub);
	/* multipart/alternative: text/plain then text/html, UTF-8, base64, decoding to the row */
	struct part parts[4] = { 0 };
	int n = mime_parts(msg, parts, 4);
	char *ctype = smtp_header(msg, "Content-Type");
	cr_assert(!strncasecmp(ctype, "multipart/alternative;", 22), "Content-Type: %s", ctype);
	cr_assert_eq(n, 2, "%d MIME parts, expected 2", n);
	char *text = crlf(api_str(row, "body_text")), *html = crlf(api_str(row, "body_html"));
	cr_assert(!strncasecmp(parts[0].ctype, "text/plain", 10) &&
			  strcasestr(parts[0].ctype, "charset=UTF-8"),
		  "part 1: %s", parts[0].ctype);
	cr_assert(!strncasecmp(parts[1].ctype, "text/html", 9) &&
			  strcasestr(parts[1].ctype, "charset=UTF-8"),
		  "part 2: %s", parts[1].ctype);
	cr_assert(parts[0].cte && !strcasecmp(parts[0].cte, "base64"), "part 1 encoding");
	cr_assert(parts[1].cte && !strcasecmp(parts[1].cte, "base64"), "part 2 encoding");
	cr_assert(parts[0].len == strlen(text) && !memcmp(parts[0].body, text, parts[0].len),
		  "text part decodes to:\n%s\nexpected:\n%s", parts[0].body, text);
	cr_assert(parts[1].len == strlen(html) && !memcmp(parts[1].body, html, parts[1].len),
		  "html part decodes to:\n%s\nexpected:\n%s", parts[1].body, html);
	for (int i = 0; i < n; i++) {
		free(parts[i].ctype);
		free(parts[i].cte);
		free(parts[i].body);
	}
	free(text), free(html), free(ctype), free(date), free(mime), free(auto_sub), free(mid);
	free(from), free(to), free(from_d), free(to_d), free(raw), free(subject), free(dump);
}

static const char *person_name(const char *id)
{
	static const char *const names[][2] = {
		{ "phong.tv", "Trần Văn Phong" }, { "long.nk", "Nguyễn Kim Long" },
		{ "hung.ns", "Nguyễn Sơn Hùng" }, { "hoa.tt", "Trịnh Thị Hòa" },
		{ "binh.lt", "Lê Thị Bình" },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(names[i][0], id))
			return names[i][1];
	return NULL;
}

/* The message of smtp whose envelope goes to address, or NULL. */
static json_t *message_to(json_t *msgs, const char *address)
{
	json_t *m;
	size_t i;
	json_array_foreach (msgs, i, m) {
		json_t *r = json_object_get(m, "rcpt_tos");
		if (json_array_size(r) == 1 && !strcmp(json_string_value(json_array_get(r, 0)), address))
			return m;
	}
	return NULL;
}

/* ============================================================================================
 * E-mail by SMTP. */

#define EMAIL_RULES                                                                              \
	"{ id = \"late\"; when = \"+1d\"; notify = [\"head\", \"leader\"]; urgent = true; }"

static char email_cfg[600];

static const char *smtp_plain(int port)
{
	snprintf(email_cfg, sizeof(email_cfg),
		 "transport = \"smtp\"; url = \"smtp://127.0.0.1:%d\"; tls = \"none\"; "
		 "from = \"Đúng Hạn <" FROM_ADDR ">\";",
		 port);
	return email_cfg;
}

/* The two e-mail rows of an overdue hctc case: phong.tv (head) and long.nk (leader). */
static void two_email_rows(int64_t *phong, int64_t *long_nk)
{
	char c[40];
	overdue_case(code(c, sizeof(c), 1));
	json_t *box = wait_rows(2);
	cr_assert_eq(json_array_size(box), 2, "%s", json_dumps(box, JSON_COMPACT));
	json_t *a = row_by(box, "email", "phong.tv"), *b = row_by(box, "email", "long.nk");
	cr_assert(a && b, "rows: %s", json_dumps(box, JSON_COMPACT));
	*phong = api_int(a, "id");
	*long_nk = api_int(b, "id");
}

/* 1. Messages arrive with the right envelope, the Vietnamese subject decoding exactly, a valid
 * multipart body; each attempt is logged. */
Test(delivery, email_smtp_content)
{
	int port = harness_free_port();
	smtp_start(&S[0], "smtp", port, NULL);
	start(&(struct setup){ .rules = EMAIL_RULES, .email = smtp_plain(port) });
	int64_t a, b;
	two_email_rows(&a, &b);
	json_t *ra = wait_status(a, "sent", 15000), *rb = wait_status(b, "sent", 15000);
	json_t *msgs = smtp_messages(&S[0]);
	cr_assert_eq(json_array_size(msgs), 2, "%zu messages", json_array_size(msgs));
	json_t *rows[2] = { ra, rb };
	const char *who[2] = { "phong.tv", "long.nk" };
	for (int i = 0; i < 2; i++) {
		const char *addr = api_str(rows[i], "address");
		json_t *m = message_to(msgs, addr);
		cr_assert(m, "no message to %s: %s", addr, json_dumps(msgs, JSON_COMPACT));
		api_t_expect_str(m, "mail_from", FROM_ADDR);
		check_email(api_str(m, "data"), rows[i], person_name(who[i]));
		struct attempt at[8];
		int n = attempts_of(api_int(rows[i], "id"), at, 8);
		cr_assert_eq(n, 1, "attempts:\n%s", attempts_dump(api_int(rows[i], "id")));
		cr_assert_eq(at[0].attempt, 1);
		cr_assert_str_eq(at[0].outcome, "ok");
		cr_assert_eq(at[0].curl_code, 0);
		cr_assert(strstr(at[0].reply, "250"), "reply %s", at[0].reply);
		cr_assert(at[0].started <= at[0].finished && at[0].finished <= now_s());
		api_t_expect_int(rows[i], "attempts", 1);
	}
	api_t_stop(&t);
}

/* 2. The SMTP server is down at first: the message waits (pending, attempts counted, connection
 * errors logged as retryable), then is delivered once the server is up. */
Test(delivery, email_smtp_down_then_up)
{
	int port = harness_free_port();
	start(&(struct setup){ .rules = "{ id = \"late\"; when = \"+1d\"; notify = [\"head\"]; }",
			       .email = smtp_plain(port) });
	char c[40];
	overdue_case(code(c, sizeof(c), 1));
	json_t *box = wait_rows(1);
	int64_t id = api_int(json_array_get(box, 0), "id");
	struct attempt at[16];
	wait_attempts(id, 2, at, 16, 15000);
	cr_assert_str_eq(at[0].outcome, "retryable", "%s", attempts_dump(id));
	cr_assert_eq(at[0].curl_code, 7, "connection refused is curl 7: %s", attempts_dump(id));
	json_t *row = row_id(id);
	cr_assert(!strcmp(api_str(row, "status"), "pending") || !strcmp(api_str(row, "status"), "sending"),
		  "%s", json_dumps(row, JSON_COMPACT));
	smtp_start(&S[0], "smtp", port, NULL);
	row = wait_status(id, "sent", 15000);
	int n = attempts_of(id, at, 16);
	cr_assert_str_eq(at[n - 1].outcome, "ok", "%s", attempts_dump(id));
	for (int i = 0; i < n; i++)
		cr_assert_eq(at[i].attempt, i + 1, "attempt numbers: %s", attempts_dump(id));
	api_t_expect_int(row, "attempts", n);
	json_t *msgs = smtp_messages(&S[0]);
	cr_assert_eq(json_array_size(msgs), 1);
	check_email(api_str(json_array_get(msgs, 0), "data"), row, person_name("phong.tv"));
	api_t_stop(&t);
}

/* 3. A 550 for a recipient: that message is dead at once (one attempt, permanent); the other
 * recipient's message is sent. */
Test(delivery, email_rejected_recipient_is_dead)
{
	int port = harness_free_port();
	smtp_start(&S[0], "smtp", port,
		   (const char *const[]){ "--reject", "phong.tv@dongnai.gov.vn", NULL });
	start(&(struct setup){ .rules = EMAIL_RULES, .email = smtp_plain(port) });
	int64_t a, b;
	two_email_rows(&a, &b);
	json_t *ra = wait_status(a, "dead", 15000);
	wait_status(b, "sent", 15000);
	struct attempt at[8];
	int n = attempts_of(a, at, 8);
	cr_assert_eq(n, 1, "a 550 is given up at once:\n%s", attempts_dump(a));
	cr_assert_str_eq(at[0].outcome, "permanent");
	cr_assert(strstr(at[0].reply, "550"), "reply: %s", at[0].reply);
	cr_assert(api_str(ra, "last_error") && strstr(api_str(ra, "last_error"), "550"),
		  "last_error: %s", json_dumps(ra, JSON_COMPACT));
	json_t *msgs = smtp_messages(&S[0]);
	cr_assert_eq(json_array_size(msgs), 1);
	cr_assert(message_to(msgs, "long.nk@dongnai.gov.vn"));
	api_t_stop(&t);
}

/* 4. 451 at DATA twice, then accepted: retried, three attempts. */
Test(delivery, email_tempfail_is_retried)
{
	int port = harness_free_port();
	smtp_start(&S[0], "smtp", port, (const char *const[]){ "--tempfail-data", "2", NULL });
	start(&(struct setup){ .rules = "{ id = \"late\"; when = \"+1d\"; notify = [\"head\"]; }",
			       .email = smtp_plain(port) });
	char c[40];
	overdue_case(code(c, sizeof(c), 1));
	int64_t id = api_int(json_array_get(wait_rows(1), 0), "id");
	wait_status(id, "sent", 20000);
	struct attempt at[8];
	int n = attempts_of(id, at, 8);
	cr_assert_eq(n, 3, "%s", attempts_dump(id));
	cr_assert(!strcmp(at[0].outcome, "retryable") && !strcmp(at[1].outcome, "retryable") &&
			  !strcmp(at[2].outcome, "ok"),
		  "%s", attempts_dump(id));
	cr_assert(strstr(at[0].reply, "451"), "%s", attempts_dump(id));
	cr_assert_eq(json_array_size(smtp_messages(&S[0])), 1);
	api_t_stop(&t);
}

/* A self-signed certificate for 127.0.0.1 made now with the openssl CLI. */
static void make_cert(void)
{
	char *out = NULL;
	struct harness_proc p;
	work_init();
	char *argv[] = { "/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
			 "-keyout", (char *)wpath("key.pem"), "-out", (char *)wpath("cert.pem"),
			 "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
			 "subjectAltName=IP:127.0.0.1,DNS:localhost", NULL };
	cr_assert_eq(harness_spawn(&wh, &p, argv, NULL, "openssl.log"), 0);
	int rc = harness_wait(&p, 30000);
	out = harness_read(wpath("openssl.log"));
	cr_assert_eq(rc, 0, "openssl req: %s", out ? out : "");
	free(out);
}

static const char *smtp_tls(int port, const char *password_file)
{
	snprintf(email_cfg, sizeof(email_cfg),
		 "transport = \"smtp\"; url = \"smtp://127.0.0.1:%d\"; tls = \"required\"; "
		 "ca_file = \"%s\"; username = \"dunghan\"; password_file = \"%s\"; "
		 "from = \"Đúng Hạn <" FROM_ADDR ">\";",
		 port, wpath("cert.pem"), password_file);
	return email_cfg;
}

/* 5. STARTTLS verified against a certificate made at test time, then AUTH: delivered, and the
 * server saw TLS and the login. */
Test(delivery, email_starttls_and_auth)
{
	make_cert();
	cr_assert_eq(harness_write(&wh, "smtp-password", "S3cret-mật-khẩu"), 0);
	int port = harness_free_port();
	smtp_start(&S[0], "smtp", port,
		   (const char *const[]){ "--cert", wpath("cert.pem"), "--key", wpath("key.pem"),
					  "--auth", "dunghan:S3cret-mật-khẩu", NULL });
	start(&(struct setup){ .rules = EMAIL_RULES,
			       .email = smtp_tls(port, wpath("smtp-password")) });
	int64_t a, b;
	two_email_rows(&a, &b);
	json_t *ra = wait_status(a, "sent", 15000);
	wait_status(b, "sent", 15000);
	json_t *msgs = smtp_messages(&S[0]);
	cr_assert_eq(json_array_size(msgs), 2);
	json_t *m = message_to(msgs, "phong.tv@dongnai.gov.vn");
	cr_assert(m);
	cr_assert(json_is_true(json_object_get(m, "tls")), "not over TLS: %s",
		  json_dumps(m, JSON_COMPACT));
	api_t_expect_str(m, "login", "dunghan");
	check_email(api_str(m, "data"), ra, person_name("phong.tv"));
	api_t_stop(&t);
}

/* 6. A refused login (535) says nothing about the message or the recipient: it is retried, not
 * given up (an operator fixes the password; the message must not die meanwhile). */
Test(delivery, email_refused_login_is_retried)
{
	make_cert();
	cr_assert_eq(harness_write(&wh, "smtp-password", "wrong-password"), 0);
	int port = harness_free_port();
	smtp_start(&S[0], "smtp", port,
		   (const char *const[]){ "--cert", wpath("cert.pem"), "--key", wpath("key.pem"),
					  "--auth", "dunghan:right-password", NULL });
	start(&(struct setup){ .rules = "{ id = \"late\"; when = \"+1d\"; notify = [\"head\"]; }",
			       .email = smtp_tls(port, wpath("smtp-password")) });
	char c[40];
	overdue_case(code(c, sizeof(c), 1));
	int64_t id = api_int(json_array_get(wait_rows(1), 0), "id");
	struct attempt at[8];
	wait_attempts(id, 1, at, 8, 15000);
	cr_assert(strstr(at[0].reply, "535"), "expected the server's 535: %s", attempts_dump(id));
	json_t *row = row_id(id);
	cr_assert(strcmp(api_str(row, "status"), "dead") != 0,
		  "a refused login made the message dead after one attempt (outcome %s): %s\n%s",
		  at[0].outcome, json_dumps(row, JSON_COMPACT), attempts_dump(id));
	cr_assert_str_eq(at[0].outcome, "retryable", "%s", attempts_dump(id));
	api_t_stop(&t);
}

/* 7. An untrusted certificate (no ca_file): never sent in clear, retried. */
Test(delivery, email_untrusted_certificate_is_not_bypassed)
{
	make_cert();
	int port = harness_free_port();
	smtp_start(&S[0], "smtp", port,
		   (const char *const[]){ "--cert", wpath("cert.pem"), "--key", wpath("key.pem"), NULL });
	snprintf(email_cfg, sizeof(email_cfg),
		 "transport = \"smtp\"; url = \"smtp://127.0.0.1:%d\"; tls = \"required\"; "
		 "from = \"Đúng Hạn <" FROM_ADDR ">\";", port);
	start(&(struct setup){ .rules = "{ id = \"late\"; when = \"+1d\"; notify = [\"head\"]; }",
			       .email = email_cfg });
	char c[40];
	overdue_case(code(c, sizeof(c), 1));
	int64_t id = api_int(json_array_get(wait_rows(1), 0), "id");
	struct attempt at[8];
	wait_attempts(id, 1, at, 8, 15000);
	cr_assert_str_eq(at[0].outcome, "retryable", "%s", attempts_dump(id));
	cr_assert_eq(at[0].curl_code, 60, "expected CURLE_PEER_FAILED_VERIFICATION: %s",
		     attempts_dump(id));
	cr_assert_eq(json_array_size(smtp_messages(&S[0])), 0);
	api_t_stop(&t);
}

/* ============================================================================================
 * E-mail as files. */

static const char *file_email(const char *dir)
{
	snprintf(email_cfg, sizeof(email_cfg),
		 "transport = \"file\"; dir = \"%s\"; from = \"Đúng Hạn <" FROM_ADDR ">\";", dir);
	return email_cfg;
}

/* 8. The file transport writes one parseable outbox-ID.eml per message. */
Test(delivery, email_file_transport)
{
	work_init();
	start(&(struct setup){ .rules = EMAIL_RULES, .email = file_email(wpath("mail")) });
	int64_t ids[2];
	two_email_rows(&ids[0], &ids[1]);
	const char *who[2] = { "phong.tv", "long.nk" };
	for (int i = 0; i < 2; i++) {
		json_t *row = wait_status(ids[i], "sent", 15000);
		char name[100];
		snprintf(name, sizeof(name), "mail/outbox-%lld.eml", (long long)ids[i]);
		char *msg = harness_read(wpath(name));
		cr_assert(msg, "no %s", wpath(name));
		check_email(msg, row, person_name(who[i]));
		struct stat st;
		cr_assert_eq(stat(wpath(name), &st), 0);
		cr_assert_eq(st.st_mode & 077, 0, "%s is readable by others: %o", name, st.st_mode);
		free(msg);
		struct attempt at[4];
		cr_assert_eq(attempts_of(ids[i], at, 4), 1);
		cr_assert_str_eq(at[0].outcome, "ok");
	}
	/* nothing else: no temporary left */
	int files = 0;
	char *ls = NULL;
	{
		char cmd[800];
		snprintf(cmd, sizeof(cmd), "ls -A '%s'", wpath("mail"));
		FILE *p = popen(cmd, "r");
		char line[300];
		size_t used = 0;
		ls = calloc(1, 4096);
		while (p && fgets(line, sizeof(line), p)) {
			files++;
			used += (size_t)snprintf(ls + used, 4096 - used, "%s", line);
		}
		if (p)
			pclose(p);
	}
	cr_assert_eq(files, 2, "files in the mail dir:\n%s", ls);
	free(ls);
	api_t_stop(&t);
}

/* 9. Message-IDs are stable per message, and (mail.h: the per-installation salt "keeps a fresh
 * database's outbox-1 from repeating an old one") differ between two installations. */
Test(delivery, email_message_id_differs_between_installations)
{
	char *mids[2];
	for (int k = 0; k < 2; k++) {
		char dir[40];
		snprintf(dir, sizeof(dir), "mail%d", k);
		work_init();
		start(&(struct setup){ .rules = "{ id = \"late\"; when = \"+1d\"; notify = [\"head\"]; }",
				       .email = file_email(wpath(dir)) });
		char c[40];
		overdue_case(code(c, sizeof(c), 1));
		int64_t id = api_int(json_array_get(wait_rows(1), 0), "id");
		cr_assert_eq(id, 1);
		wait_status(id, "sent", 15000);
		char name[100];
		snprintf(name, sizeof(name), "%s/outbox-1.eml", dir);
		char *msg = harness_read(wpath(name));
		cr_assert(msg);
		mids[k] = smtp_header(msg, "Message-ID");
		free(msg);
		api_t_stop(&t);
		api_t_teardown(&t);
		memset(&t, 0, sizeof(t));
		t.f.proc.pidfd = -1;
		t.f.h.notify_fd = -1;
	}
	cr_assert(strcmp(mids[0], mids[1]) != 0,
		  "two fresh installations gave outbox 1 the same Message-ID %s: a receiver that "
		  "drops repeats drops the second installation's first message",
		  mids[0]);
	free(mids[0]);
	free(mids[1]);
}

/* ============================================================================================
 * Webhooks. */

static char chan_cfg[3000];

/* The test channels, all on the listener: t-slack, t-gchat, t-teams, t-tg, t-json, and t-moved,
 * t-busy (slack type). */
static const char *channels(void)
{
	work_init();
	cr_assert_eq(harness_write(&wh, "tg-token", TG_TOKEN "\n"), 0);
	cr_assert_eq(harness_write(&wh, "json-secret", JSON_SECRET), 0);
	snprintf(chan_cfg, sizeof(chan_cfg),
		 "  { id = \"t-slack\"; type = \"slack\"; url = \"http://127.0.0.1:%d/slack/hook\"; },\n"
		 "  { id = \"t-gchat\"; type = \"google_chat\"; url = \"http://127.0.0.1:%d/gchat/v1/spaces/AAAA/messages?key=k1&token=t1\"; },\n"
		 "  { id = \"t-teams\"; type = \"teams\"; url = \"http://127.0.0.1:%d/teams/workflows/x/invoke?api-version=2016-06-01\"; },\n"
		 "  { id = \"t-tg\"; type = \"telegram\"; chat_id = \"-1001234567\"; token_file = \"%s\"; api_base = \"http://127.0.0.1:%d/\"; },\n"
		 "  { id = \"t-json\"; type = \"json\"; url = \"http://127.0.0.1:%d/json/dunghan\"; secret_file = \"%s\"; },\n"
		 "  { id = \"t-moved\"; type = \"slack\"; url = \"http://127.0.0.1:%d/moved\"; },\n"
		 "  { id = \"t-busy\"; type = \"slack\"; url = \"http://127.0.0.1:%d/busy\"; }",
		 listener_port(L), listener_port(L), listener_port(L), wpath("tg-token"), listener_port(L), listener_port(L), wpath("json-secret"),
		 listener_port(L), listener_port(L));
	return chan_cfg;
}

static char *jstr(const char *s)
{
	char *out = malloc(strlen(s) * 6 + 3);
	size_t k = 0;
	out[k++] = '"';
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			out[k++] = '\\';
			out[k++] = (char)*p;
		} else if (*p == '\n') {
			out[k++] = '\\', out[k++] = 'n';
		} else if (*p < 0x20) {
			k += (size_t)sprintf(out + k, "\\u%04x", *p);
		} else {
			out[k++] = (char)*p;
		}
	}
	out[k++] = '"';
	out[k] = '\0';
	return out;
}

static void expect_body(const struct listener_request *r, const char *want, const char *what)
{
	cr_assert(r->body_len == strlen(want) && !memcmp(r->body, want, r->body_len),
		  "%s body:\n  got      %s\n  expected %s", what, r->body, want);
}

/* Checks the common headers and returns the Idempotency-Key (a new string). */
static char *expect_common(const struct listener_request *r, int64_t outbox_id, const char *what)
{
	char want[64];
	snprintf(want, sizeof(want), "dunghan-outbox-%lld", (long long)outbox_id);
	cr_assert_str_eq(r->method, "POST", "%s: method", what);
	char *ct = listener_header(r->head, "Content-Type"), *key = listener_header(r->head, "Idempotency-Key");
	cr_assert(ct && !strcmp(ct, "application/json"), "%s: Content-Type %s", what, ct);
	cr_assert(key && !strcmp(key, want), "%s: Idempotency-Key %s, expected %s", what, key, want);
	/* in this order: Content-Type, then Idempotency-Key */
	cr_assert(strcasestr(r->head, "Content-Type:") < strcasestr(r->head, "Idempotency-Key:"),
		  "%s: header order:\n%s", what, r->head);
	free(ct);
	return key;
}

static void hmac_hex(const char *ts, const char *body, size_t len, char out[65])
{
	unsigned char mac[32];
	unsigned int n = 0;
	char *msg;
	cr_assert_geq(asprintf(&msg, "%s.", ts), 0);
	size_t ml = strlen(msg);
	msg = realloc(msg, ml + len);
	memcpy(msg + ml, body, len);
	HMAC(EVP_sha256(), JSON_SECRET, (int)strlen(JSON_SECRET), (unsigned char *)msg, ml + len, mac,
	     &n);
	free(msg);
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", mac[i]);
	out[64] = '\0';
}

static void expect_signed(const struct listener_request *r, const char *what)
{
	char *ts = listener_header(r->head, "X-Dunghan-Timestamp"), *sig = listener_header(r->head, "X-Dunghan-Signature");
	cr_assert(ts && sig, "%s: no timestamp or signature:\n%s", what, r->head);
	int64_t tv = strtoll(ts, NULL, 10);
	cr_assert(llabs(tv - (int64_t)r->at) <= 5, "%s: timestamp %s, now %.0f", what, ts, r->at);
	char hex[65], want[80];
	hmac_hex(ts, r->body, r->body_len, hex);
	snprintf(want, sizeof(want), "sha256=%s", hex);
	cr_assert_str_eq(sig, want, "%s: signature does not verify", what);
	const char *ik = strcasestr(r->head, "Idempotency-Key:"),
		   *it = strcasestr(r->head, "X-Dunghan-Timestamp:"),
		   *is = strcasestr(r->head, "X-Dunghan-Signature:");
	cr_assert(ik < it && it < is, "%s: header order:\n%s", what, r->head);
	free(ts), free(sig);
}

static void start_listener_daemon(const char *rules, const char *delivery, const char *email)
{
	listener_start();
	start(&(struct setup){ .rules = rules, .channels = channels(), .delivery = delivery,
			       .email = email });
}

/* 10. Each payload format: exact URL, headers and body; the json one signed. */
Test(delivery, webhook_payload_formats)
{
	start_listener_daemon("{ id = \"late\"; when = \"+1d\"; notify = [\"channel:t-slack\", "
			      "\"channel:t-gchat\", \"channel:t-teams\", \"channel:t-tg\", "
			      "\"channel:t-json\"]; }",
			      NULL, NULL);
	char c[40];
	overdue_case(code(c, sizeof(c), 1));
	json_t *box = wait_rows(5);
	const char *ids[] = { "t-slack", "t-gchat", "t-teams", "t-tg", "t-json" };
	int64_t rid[5];
	for (int i = 0; i < 5; i++) {
		json_t *row = row_by(box, "chat", ids[i]);
		cr_assert(row, "no row for %s: %s", ids[i], json_dumps(box, JSON_COMPACT));
		rid[i] = api_int(row, "id");
		wait_status(rid[i], "sent", 15000);
	}
	wait_requests(5, false, 5000);
	json_t *row = row_id(rid[0]);
	char *text = jstr(api_str(row, "body_text")), *want;
	const struct listener_request *r[8];

	cr_assert_eq(requests_to("/slack/hook", r, 8), 1);
	free(expect_common(r[0], rid[0], "slack"));
	cr_assert_str_eq(r[0]->path, "/slack/hook");
	cr_assert_geq(asprintf(&want, "{\"text\":%s}", text), 0);
	expect_body(r[0], want, "slack");
	free(want);

	cr_assert_eq(requests_to("/gchat/", r, 8), 1);
	cr_assert_str_eq(r[0]->path, "/gchat/v1/spaces/AAAA/messages?key=k1&token=t1");
	free(expect_common(r[0], rid[1], "google_chat"));
	cr_assert_geq(asprintf(&want, "{\"text\":%s}", text), 0);
	expect_body(r[0], want, "google_chat");
	free(want);

	cr_assert_eq(requests_to("/teams/", r, 8), 1);
	cr_assert_str_eq(r[0]->path, "/teams/workflows/x/invoke?api-version=2016-06-01");
	free(expect_common(r[0], rid[2], "teams"));
	cr_assert_geq(asprintf(&want,
			       "{\"type\":\"message\",\"attachments\":[{\"contentType\":\"application/"
			       "vnd.microsoft.card.adaptive\",\"contentUrl\":null,\"content\":{\"$"
			       "schema\":\"http://adaptivecards.io/schemas/adaptive-card.json\",\"type\":"
			       "\"AdaptiveCard\",\"version\":\"1.2\",\"body\":[{\"type\":\"TextBlock\","
			       "\"text\":%s,\"wrap\":true}]}}]}",
			       text),
		      0);
	expect_body(r[0], want, "teams");
	free(want);

	cr_assert_eq(requests_to("/bot", r, 8), 1);
	cr_assert_str_eq(r[0]->path, "/bot" TG_TOKEN "/sendMessage");
	free(expect_common(r[0], rid[3], "telegram"));
	cr_assert_geq(asprintf(&want, "{\"chat_id\":\"-1001234567\",\"text\":%s}", text), 0);
	expect_body(r[0], want, "telegram");
	free(want);

	cr_assert_eq(requests_to("/json/", r, 8), 1);
	cr_assert_str_eq(r[0]->path, "/json/dunghan");
	free(expect_common(r[0], rid[4], "json"));
	expect_signed(r[0], "json");
	json_t *j = api_t_keep(&t, json_loadb(r[0]->body, r[0]->body_len, 0, NULL));
	cr_assert(j, "json body is not JSON: %s", r[0]->body);
	api_t_expect_int(j, "version", 1);
	char key[64];
	snprintf(key, sizeof(key), "dunghan-outbox-%lld", (long long)rid[4]);
	api_t_expect_str(j, "id", key);
	api_t_expect_str(j, "event", "alert");
	api_t_expect_str(j, "rule", "late");
	api_t_expect_str(j, "item.kind", "case");
	api_t_expect_str(j, "item.code", c);
	api_t_expect_str(j, "text", api_str(row, "body_text"));
	/* every message: one attempt, ok, an HTTP 200 logged */
	for (int i = 0; i < 5; i++) {
		struct attempt at[4];
		cr_assert_eq(attempts_of(rid[i], at, 4), 1, "%s", attempts_dump(rid[i]));
		cr_assert_str_eq(at[0].outcome, "ok");
		cr_assert(strstr(at[0].reply, "200"), "%s", at[0].reply);
	}
	free(text);
	api_t_stop(&t);
}

/* 11. The json payload, member by member (docs/webhooks.md "Payload, version 1"): summary is
 * the procedure's name, handler and link are known and so present, severity by the rule's kind
 * ("info" for a share of time, "due" at due, "overdue" after). */
Test(delivery, webhook_json_payload_members)
{
	start_listener_daemon(
		"{ id = \"half\"; when = \"50%\"; notify = [\"channel:t-json\"]; procedures = [\"1.004873\"]; },\n"
		"{ id = \"at-due\"; when = \"due\"; notify = [\"channel:t-json\"]; procedures = [\"1.013831\"]; },\n"
		"{ id = \"late\"; when = \"+1d\"; notify = [\"channel:t-json\"]; procedures = [\"1.004222\"]; }",
		NULL, NULL);
	struct {
		const char *proc, *name, *rule, *severity;
		int64_t received, due;
		char code[40];
	} k[3] = {
		{ "1.004222", "Đăng ký thường trú", "late", "overdue", 0, 0, "" },
		{ "1.013831",
		  "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất",
		  "at-due", "due", 0, 0, "" },
		{ "1.004873", "Thủ tục cấp Giấy xác nhận tình trạng hôn nhân", "half", "info", 0, 0, "" },
	};
	int64_t t0 = now_s();
	k[0].received = t0 - 4 * 86400, k[0].due = t0 - 2 * 86400;
	k[1].received = t0 - 1000, k[1].due = t0 - 100;
	k[2].received = t0 - 1000, k[2].due = t0 + 800;
	for (int i = 0; i < 3; i++) {
		code(k[i].code, sizeof(k[i].code), i + 1);
		create_case(k[i].code, k[i].proc, "hctc", "phong.tv", k[i].received, k[i].due);
	}
	json_t *box = wait_rows(3);
	wait_requests(3, false, 15000);
	const struct listener_request *r[8];
	cr_assert_eq(requests_to("/json/", r, 8), 3);
	char *failures = calloc(1, 16384);
	size_t used = 0;
	/* match each request to its case by item.code */
	for (int i = 0; i < 3; i++) {
		const struct listener_request *q = NULL;
		for (int m = 0; m < 3; m++) {
			json_t *j = json_loadb(r[m]->body, r[m]->body_len, 0, NULL);
			const char *cd = api_str(j, "item.code");
			if (cd && !strcmp(cd, k[i].code))
				q = r[m];
			json_decref(j);
		}
		cr_assert(q, "no request for case %s", k[i].code);
		expect_signed(q, "json");
		char *key = listener_header(q->head, "Idempotency-Key");
		json_t *row = NULL, *x;
		size_t n;
		json_array_foreach (box, n, x) {
			char want[64];
			snprintf(want, sizeof(want), "dunghan-outbox-%lld", (long long)api_int(x, "id"));
			if (!strcmp(want, key))
				row = x;
		}
		cr_assert(row, "no outbox row for key %s", key);
		char due[40], *text = jstr(api_str(row, "body_text")), *name = jstr(k[i].name), *want;
		api_format_instant(due, sizeof(due), k[i].due);
		cr_assert_geq(asprintf(&want,
				       "{\"version\":1,\"id\":\"%s\",\"event\":\"alert\",\"rule\":\"%s\","
				       "\"severity\":\"%s\",\"item\":{\"kind\":\"case\",\"code\":\"%s\","
				       "\"summary\":%s,\"unit\":{\"id\":\"hctc\",\"name\":\"Phòng Hành "
				       "chính - Tổ chức\"},\"handler\":{\"id\":\"phong.tv\",\"name\":"
				       "\"Trần Văn Phong\"},\"due_at\":\"%s\",\"link\":\"" LINK_BASE
				       "/cases/%s\"},\"text\":%s}",
				       key, k[i].rule, k[i].severity, k[i].code, name, due, k[i].code, text),
			      0);
		if (q->body_len != strlen(want) || memcmp(q->body, want, q->body_len))
			used += (size_t)snprintf(failures + used, 16384 - used,
						 "\n[%s rule %s]\n  got      %s\n  expected %s\n",
						 k[i].code, k[i].rule, q->body, want);
		free(key), free(text), free(name), free(want);
	}
	cr_assert(used == 0, "json payloads differ from docs/webhooks.md:%s", failures);
	free(failures);
	api_t_stop(&t);
}

#define SLACK_RULE "{ id = \"late\"; when = \"+1d\"; notify = [\"channel:t-slack\"]; }"

/* One chat message to t-slack; returns its outbox id. */
static int64_t one_slack_message(void)
{
	char c[40];
	overdue_case(code(c, sizeof(c), 1));
	json_t *box = wait_rows(1);
	cr_assert_eq(json_array_size(box), 1, "%s", json_dumps(box, JSON_COMPACT));
	return api_int(json_array_get(box, 0), "id");
}

/* 12. Answers 500, 500, 200: three attempts logged (retryable, retryable, ok), one delivery,
 * the same Idempotency-Key each time, retries within the backoff's cap. */
Test(delivery, webhook_500_500_200)
{
	listener_start();
	listener_script(L, (struct listener_step[]){ { "/slack", 500, NULL, "boom", 0, 0 },
					 { "/slack", 500, NULL, "boom", 0, 0 }, { 0 } },
			(struct listener_step){ .status = 200 });
	start(&(struct setup){ .rules = SLACK_RULE, .channels = channels() });
	int64_t id = one_slack_message();
	json_t *row = wait_status(id, "sent", 20000);
	struct attempt at[8];
	int n = attempts_of(id, at, 8);
	cr_assert_eq(n, 3, "%s", attempts_dump(id));
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(at[i].attempt, i + 1, "%s", attempts_dump(id));
		cr_assert_str_eq(at[i].outcome, i < 2 ? "retryable" : "ok", "%s", attempts_dump(id));
		cr_assert(strstr(at[i].reply, i < 2 ? "500" : "200"), "%s", attempts_dump(id));
		cr_assert_eq(at[i].curl_code, 0, "%s", attempts_dump(id));
	}
	cr_assert(strstr(at[0].reply, "boom"), "the answer's excerpt is logged: %s", at[0].reply);
	api_t_expect_int(row, "attempts", 3);
	cr_assert(api_is_null(row, "last_error"), "last_error after success: %s",
		  json_dumps(row, JSON_COMPACT));
	const struct listener_request *r[8];
	cr_assert_eq(requests_to("/slack", r, 8), 3);
	char *k0 = expect_common(r[0], id, "try 1");
	for (int i = 1; i < 3; i++) {
		char *ki = expect_common(r[i], id, "retry");
		cr_assert_str_eq(ki, k0);
		cr_assert_str_eq(r[i]->body, r[0]->body, "a retry sends the same body");
		double gap = r[i]->at - r[i - 1]->answered;
		/* full jitter up to the cap (2 s), rounded up to seconds, plus the 1 s poll */
		cr_assert(gap >= 0 && gap <= 4.5, "retry %d came %.2f s after the answer", i, gap);
		free(ki);
	}
	free(k0);
	api_t_stop(&t);
}

/* 13. 400 → dead at once; 301 → dead (not followed); 408 → retried, then delivered. */
Test(delivery, webhook_permanent_and_retryable_statuses)
{
	listener_start();
	listener_script(L, (struct listener_step[]){ { "/slack", 400, NULL, "{\"error\":\"bad\"}", 0, 0 },
					 { "/moved", 301, "Location: http://127.0.0.1:9/\r\n", "", 0, 0 },
					 { "/busy", 408, NULL, "", 0, 0 }, { 0 } },
			(struct listener_step){ .status = 200 });
	start(&(struct setup){ .rules = "{ id = \"late\"; when = \"+1d\"; notify = [\"channel:t-slack\", "
					"\"channel:t-moved\", \"channel:t-busy\"]; }",
			       .channels = channels() });
	char c[40];
	overdue_case(code(c, sizeof(c), 1));
	json_t *box = wait_rows(3);
	int64_t s = api_int(row_by(box, "chat", "t-slack"), "id"),
		m = api_int(row_by(box, "chat", "t-moved"), "id"),
		b = api_int(row_by(box, "chat", "t-busy"), "id");
	json_t *rs = wait_status(s, "dead", 15000);
	wait_status(m, "dead", 15000);
	wait_status(b, "sent", 15000);
	struct attempt at[8];
	cr_assert_eq(attempts_of(s, at, 8), 1, "%s", attempts_dump(s));
	cr_assert_str_eq(at[0].outcome, "permanent");
	cr_assert(strstr(at[0].reply, "400"), "%s", at[0].reply);
	cr_assert(api_str(rs, "last_error") && strstr(api_str(rs, "last_error"), "400"), "%s",
		  json_dumps(rs, JSON_COMPACT));
	cr_assert_eq(attempts_of(m, at, 8), 1, "%s", attempts_dump(m));
	cr_assert_str_eq(at[0].outcome, "permanent");
	cr_assert_eq(attempts_of(b, at, 8), 2, "%s", attempts_dump(b));
	cr_assert(!strcmp(at[0].outcome, "retryable") && !strcmp(at[1].outcome, "ok"), "%s",
		  attempts_dump(b));
	const struct listener_request *r[8];
	cr_assert_eq(requests_to("/slack", r, 8), 1, "a 400 is not retried");
	api_t_stop(&t);
}

/* 14. 429 with Retry-After: 2 (the backoff alone would retry within 1 s): the next attempt
 * comes no sooner than 2 s after the answer. Telegram's 429 tells it in the body. */
Test(delivery, webhook_429_retry_after)
{
	listener_start();
	listener_script(L, 
		(struct listener_step[]){
			{ "/slack", 429, "Retry-After: 2\r\n", "slow down", 0, 0 },
			{ "/bot", 429, NULL,
			  "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests: retry "
			  "after 3\",\"parameters\":{\"retry_after\":3}}", 0, 0 },
			{ 0 } },
		(struct listener_step){ .status = 200 });
	start(&(struct setup){ .rules = "{ id = \"late\"; when = \"+1d\"; notify = [\"channel:t-slack\", "
					"\"channel:t-tg\"]; }",
			       .channels = channels(),
			       .delivery = "enabled = true; backoff_base = \"1s\"; backoff_cap = \"1s\"; "
					   "max_attempts = 4; timeout = \"2s\"; connect_timeout = \"1s\";" });
	char c[40];
	overdue_case(code(c, sizeof(c), 1));
	json_t *box = wait_rows(2);
	int64_t s = api_int(row_by(box, "chat", "t-slack"), "id"),
		g = api_int(row_by(box, "chat", "t-tg"), "id");
	wait_status(s, "sent", 15000);
	wait_status(g, "sent", 15000);
	const struct listener_request *r[8];
	cr_assert_eq(requests_to("/slack", r, 8), 2);
	double gap = r[1]->at - r[0]->answered;
	cr_assert(gap >= 1.95, "Retry-After: 2 but the retry came %.2f s after the 429", gap);
	cr_assert_eq(requests_to("/bot", r, 8), 2);
	gap = r[1]->at - r[0]->answered;
	cr_assert(gap >= 2.95, "telegram retry_after 3 but the retry came %.2f s after the 429", gap);
	struct attempt at[4];
	cr_assert_eq(attempts_of(s, at, 4), 2);
	cr_assert_str_eq(at[0].outcome, "retryable");
	cr_assert(at[1].started >= at[0].finished + 2, "%s", attempts_dump(s));
	api_t_stop(&t);
}

/* One chat message whose first attempt the listener never answers, sent on the next; returns
 * its outbox id. */
static int64_t sent_after_a_timeout(void)
{
	listener_start();
	listener_script(L, (struct listener_step[]){ { "/slack", 200, NULL, NULL, 2, 0 }, { 0 } },
			(struct listener_step){ .status = 200 });
	start(&(struct setup){ .rules = SLACK_RULE, .channels = channels() });
	int64_t id = one_slack_message();
	wait_status(id, "sent", 20000);
	return id;
}

/* 15. A listener that never answers: the attempt times out (timeout = 2s, curl 28), is logged
 * retryable, and the message goes on the next try. */
Test(delivery, webhook_timeout_is_retried)
{
	int64_t id = sent_after_a_timeout();
	struct attempt at[4];
	cr_assert_eq(attempts_of(id, at, 4), 2, "%s", attempts_dump(id));
	cr_assert_str_eq(at[0].outcome, "retryable");
	cr_assert_eq(at[0].curl_code, 28, "a timeout is CURLE_OPERATION_TIMEDOUT: %s",
		     attempts_dump(id));
	cr_assert(at[0].finished - at[0].started >= 1 && at[0].finished - at[0].started <= 4,
		  "the timeout is 2 s: %s", attempts_dump(id));
	cr_assert_str_eq(at[1].outcome, "ok");
	api_t_stop(&t);
}

/* 15b. A transfer that ran into its timeout may not leave its connection for reuse (a late
 * answer could be read as the next request's: curl_thread.c's progress callback), but the
 * handle that carried it comes back for the next messages, whose connection must be kept: the
 * retry and three more messages, one after another, share one connection. (The verdict stayed
 * on the handle, and each of them opened a connection of its own.) */
Test(delivery, webhook_connections_are_reused_after_a_timeout)
{
	char c[40];

	sent_after_a_timeout();
	int after_retry = listener_connections(L);
	cr_assert_eq(after_retry, 2, "the timed-out attempt and its retry: %d connections",
		     after_retry);
	for (size_t i = 2; i <= 4; i++) {
		overdue_case(code(c, sizeof(c), (int)i));
		json_t *box = wait_rows(i);
		cr_assert_eq(json_array_size(box), i, "%s", json_dumps(box, JSON_COMPACT));
		int64_t next = 0;
		for (size_t k = 0; k < json_array_size(box); k++)
			if (api_int(json_array_get(box, k), "id") > next)
				next = api_int(json_array_get(box, k), "id");
		wait_status(next, "sent", 20000);
	}
	cr_assert_eq(listener_connections(L), after_retry,
		     "%d new connections for three messages after the retry",
		     listener_connections(L) - after_retry);
	api_t_stop(&t);
}

/* 16. max_attempts = 3 against a listener that always answers 500: dead after exactly three. */
Test(delivery, webhook_max_attempts)
{
	listener_start();
	listener_script(L, NULL, (struct listener_step){ .status = 500 });
	start(&(struct setup){ .rules = SLACK_RULE, .channels = channels(),
			       .delivery = "enabled = true; backoff_base = \"1s\"; backoff_cap = \"1s\"; "
					   "max_attempts = 3; timeout = \"2s\"; connect_timeout = \"1s\";" });
	int64_t id = one_slack_message();
	json_t *row = wait_status(id, "dead", 20000);
	struct attempt at[8];
	cr_assert_eq(attempts_of(id, at, 8), 3, "%s", attempts_dump(id));
	api_t_expect_int(row, "attempts", 3);
	cr_assert(api_str(row, "last_error") && strstr(api_str(row, "last_error"), "500"), "%s",
		  json_dumps(row, JSON_COMPACT));
	const struct listener_request *r[8];
	cr_assert_eq(requests_to("/slack", r, 8), 3);
	api_t_stop(&t);
}

/* 17. max_age = 3s: a message that keeps failing is dead once it is 3 s old, whatever
 * max_attempts says. */
Test(delivery, webhook_max_age)
{
	listener_start();
	listener_script(L, NULL, (struct listener_step){ .status = 503 });
	start(&(struct setup){ .rules = SLACK_RULE, .channels = channels(),
			       .delivery = "enabled = true; backoff_base = \"1s\"; backoff_cap = \"1s\"; "
					   "max_attempts = 100; max_age = \"3s\"; timeout = \"2s\"; "
					   "connect_timeout = \"1s\";" });
	int64_t id = one_slack_message();
	json_t *row = wait_status(id, "dead", 20000);
	int64_t created = api_parse_instant(api_str(row, "created_at"));
	struct attempt at[100];
	int n = attempts_of(id, at, 100);
	cr_assert(n >= 2 && n < 10, "%d attempts:\n%s", n, attempts_dump(id));
	cr_assert_geq(at[n - 1].finished - created, 3, "dead before it was 3 s old:\n%s",
		      attempts_dump(id));
	cr_assert_lt(at[n - 2].finished - created, 3, "kept after it was 3 s old:\n%s",
		     attempts_dump(id));
	api_t_stop(&t);
}

/* 18. POST /api/v1/outbox/{id}/retry: a dead row goes back to pending and is delivered; a row
 * that is not dead is 404, as is an unknown id; a read or write token is 403. */
Test(delivery, retry_endpoint)
{
	listener_start();
	listener_script(L, (struct listener_step[]){ { "/slack", 400, NULL, NULL, 0, 0 }, { 0 } },
			(struct listener_step){ .status = 200 });
	start(&(struct setup){ .rules = SLACK_RULE, .channels = channels() });
	int64_t id = one_slack_message();
	wait_status(id, "dead", 15000);
	char path[100];
	snprintf(path, sizeof(path), "/api/v1/outbox/%lld/retry", (long long)id);
	api_t_req(&t, "POST", path, API_BAOCAO, NULL, 403);
	api_t_expect_error(&t, 403, "forbidden", NULL);
	api_t_req(&t, "POST", path, API_MOTCUA, NULL, 403);
	api_t_req(&t, "POST", path, NULL, NULL, 401);
	api_t_req(&t, "POST", "/api/v1/outbox/999999/retry", API_ADMIN, NULL, 404);
	api_t_expect_error(&t, 404, "not_found", NULL);
	const struct listener_request *r[8];
	cr_assert_eq(requests_to("/slack", r, 8), 1, "nothing was sent by the refused requests");
	json_t *j = api_t_req(&t, "POST", path, API_ADMIN, NULL, 200);
	api_t_expect_int(j, "id", id);
	api_t_expect_str(j, "status", "pending");
	json_t *row = wait_status(id, "sent", 15000);
	cr_assert_eq(requests_to("/slack", r, 8), 2);
	char *k0 = expect_common(r[0], id, "first"), *k1 = expect_common(r[1], id, "after retry");
	cr_assert_str_eq(k0, k1);
	free(k0), free(k1);
	struct attempt at[8];
	int n = attempts_of(id, at, 8);
	cr_assert_eq(n, 2, "%s", attempts_dump(id));
	cr_assert(!strcmp(at[0].outcome, "permanent") && !strcmp(at[1].outcome, "ok"), "%s",
		  attempts_dump(id));
	cr_assert(api_is_null(row, "last_error"), "%s", json_dumps(row, JSON_COMPACT));
	/* now sent: not dead, 404 */
	api_t_req(&t, "POST", path, API_ADMIN, NULL, 404);
	api_t_expect_error(&t, 404, "not_found", NULL);
	cr_assert_str_eq(api_str(row_id(id), "status"), "sent");
	api_t_stop(&t);
}

/* 19. A pending (not dead) row: 404, and it is not disturbed. */
Test(delivery, retry_endpoint_on_pending_row)
{
	listener_start();
	listener_script(L, NULL, (struct listener_step){ .status = 500 });
	start(&(struct setup){ .rules = SLACK_RULE, .channels = channels(),
			       .delivery = "enabled = true; backoff_base = \"60s\"; backoff_cap = \"60s\"; "
					   "max_attempts = 4; timeout = \"2s\"; connect_timeout = \"1s\";" });
	int64_t id = one_slack_message();
	struct attempt at[4];
	wait_attempts(id, 1, at, 4, 15000);
	json_t *row = wait_status(id, "pending", 5000);
	char path[100];
	snprintf(path, sizeof(path), "/api/v1/outbox/%lld/retry", (long long)id);
	api_t_req(&t, "POST", path, API_ADMIN, NULL, 404);
	json_t *after = row_id(id);
	api_t_expect_int(after, "attempts", api_int(row, "attempts"));
	api_t_expect_str(after, "next_attempt_at", api_str(row, "next_attempt_at"));
	api_t_stop(&t);
}

/* 20. After a manual retry the attempts log still numbers each attempt of a row uniquely (a
 * log with two "attempt 1" rows for one message cannot be read back in order). */
Test(delivery, attempt_numbers_unique_after_manual_retry)
{
	listener_start();
	listener_script(L, (struct listener_step[]){ { "/slack", 400, NULL, NULL, 0, 0 }, { 0 } },
			(struct listener_step){ .status = 200 });
	start(&(struct setup){ .rules = SLACK_RULE, .channels = channels() });
	int64_t id = one_slack_message();
	wait_status(id, "dead", 15000);
	char path[100];
	snprintf(path, sizeof(path), "/api/v1/outbox/%lld/retry", (long long)id);
	api_t_req(&t, "POST", path, API_ADMIN, NULL, 200);
	wait_status(id, "sent", 15000);
	struct attempt at[8];
	int n = attempts_of(id, at, 8);
	cr_assert_eq(n, 2);
	cr_assert_neq(at[0].attempt, at[1].attempt, "two attempts numbered %lld:\n%s",
		      (long long)at[0].attempt, attempts_dump(id));
	api_t_stop(&t);
}

/* 21. kill -9 while an e-mail and two webhooks are in flight (the servers hold their answers):
 * after the restart every message is delivered, and each repeat carries the same Message-ID /
 * Idempotency-Key (and json id) as the first send. */
Test(delivery, crash_while_in_flight_redelivers)
{
	work_init();
	cr_assert_eq(harness_write(&wh, "smtp-hold", "hold"), 0);
	int port = harness_free_port();
	smtp_start(&S[0], "smtp", port, (const char *const[]){ "--hold", wpath("smtp-hold"), NULL });
	listener_start();
	listener_script(L, (struct listener_step[]){ { "/slack", 200, NULL, NULL, 1, 0 },
					 { "/json", 200, NULL, NULL, 1, 0 }, { 0 } },
			(struct listener_step){ .status = 200 });
	start(&(struct setup){ .rules = "{ id = \"late\"; when = \"+1d\"; notify = [\"head\", "
					"\"channel:t-slack\", \"channel:t-json\"]; }",
			       .channels = channels(), .email = smtp_plain(port),
			       .delivery = "enabled = true; backoff_base = \"1s\"; backoff_cap = \"2s\"; "
					   "max_attempts = 4; timeout = \"30s\"; connect_timeout = \"1s\";" });
	char c[40];
	overdue_case(code(c, sizeof(c), 1));
	json_t *box = wait_rows(3);
	int64_t e = api_int(row_by(box, "email", "phong.tv"), "id"),
		s = api_int(row_by(box, "chat", "t-slack"), "id"),
		j = api_int(row_by(box, "chat", "t-json"), "id");
	wait_requests(2, true, 15000);
	char first[700];
	snprintf(first, sizeof(first), "%s/msg-0001.json", smtp_server_dir(S[0]));
	for (int i = 0; access(first, F_OK) != 0; i++) {
		cr_assert(i < 300, "the SMTP server got no message in 15 s");
		api_sleep_ms(50);
	}
	/* all three in flight: claimed in memory, `pending` in the database, no attempt yet */
	struct err err = { 0 };
	cr_assert_eq(api_db_int(&t.f, "SELECT count(*) FROM outbox WHERE status = 'pending'", &err),
		     3, "%s", err.msg);
	cr_assert_eq(api_db_int(&t.f, "SELECT count(*) FROM delivery_attempts", &err), 0, "%s",
		     err.msg);
	cr_assert_eq(api_fixture_crash(&t.f, &err), 0, "%s", err.msg);
	unlink(wpath("smtp-hold"));
	listener_release(L, (struct listener_step){ .status = 200 });
	cr_assert_eq(api_fixture_restart(&t.f, &err), 0, "%s", err.msg);
	wait_status(e, "sent", 20000);
	wait_status(s, "sent", 20000);
	wait_status(j, "sent", 20000);

	const struct listener_request *r[8];
	int n = requests_to("/slack", r, 8);
	cr_assert_geq(n, 2, "the held slack message was not sent again");
	char *k0 = expect_common(r[0], s, "slack");
	for (int i = 1; i < n; i++) {
		char *ki = expect_common(r[i], s, "slack again");
		cr_assert_str_eq(ki, k0);
		free(ki);
	}
	free(k0);
	n = requests_to("/json", r, 8);
	cr_assert_geq(n, 2, "the held json message was not sent again");
	k0 = expect_common(r[0], j, "json");
	for (int i = 0; i < n; i++) {
		char *ki = expect_common(r[i], j, "json again");
		cr_assert_str_eq(ki, k0);
		expect_signed(r[i], "json again");
		json_t *b0 = json_loadb(r[0]->body, r[0]->body_len, 0, NULL),
		       *bi = json_loadb(r[i]->body, r[i]->body_len, 0, NULL);
		cr_assert_str_eq(api_str(bi, "id"), api_str(b0, "id"));
		json_decref(b0), json_decref(bi);
		free(ki);
	}
	free(k0);
	json_t *msgs = smtp_messages(&S[0]);
	cr_assert_geq(json_array_size(msgs), 2, "the held e-mail was not sent again");
	char *mid0 = smtp_header(api_str(json_array_get(msgs, 0), "data"), "Message-ID");
	json_t *m;
	size_t i;
	json_array_foreach (msgs, i, m) {
		char *mid = smtp_header(api_str(m, "data"), "Message-ID");
		cr_assert_str_eq(mid, mid0, "a repeat with another Message-ID");
		api_t_expect_str(json_array_get(json_object_get(m, "rcpt_tos"), 0), "",
				 "phong.tv@dongnai.gov.vn");
		free(mid);
	}
	char prefix[40];
	snprintf(prefix, sizeof(prefix), "<outbox-%lld.", (long long)e);
	cr_assert(!strncmp(mid0, prefix, strlen(prefix)), "Message-ID %s", mid0);
	free(mid0);
	api_t_stop(&t);
}

/* 22. A message written outside office hours waits for not_before (the next office period):
 * nothing is sent before it, and it goes once it has come. */
Test(delivery, not_before_is_respected)
{
	/* office hours end at the current minute and resume at the next one */
	time_t now = time(NULL);
	int sec_of_min = (int)(now % 60);
	if (sec_of_min > 40) {
		api_sleep_ms((61 - sec_of_min) * 1000); /* to have most of a minute ahead */
		now = time(NULL);
	}
	int m = (int)(((now + 7 * 3600) % 86400) / 60);
	if (m < 1 || m > 1437)
		cr_skip_test("too close to midnight for a split office day");
	char cal[600];
	snprintf(cal, sizeof(cal),
		 "  timezone = \"Asia/Ho_Chi_Minh\";\n"
		 "  week = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\", \"sun\"];\n"
		 "  office_hours = [\"00:00-%02d:%02d\", \"%02d:%02d-24:00\"];\n"
		 "  statutory_holidays = false;\n  include = [];\n",
		 m / 60, m % 60, (m + 1) / 60, (m + 1) % 60);
	listener_start();
	start(&(struct setup){ .rules = SLACK_RULE, .channels = channels(), .calendar = cal });
	int64_t period = (now - now % 60) + 60; /* the start of the next minute */
	int64_t id = one_slack_message();
	json_t *row = row_id(id);
	int64_t nb = api_parse_instant(api_str(row, "not_before"));
	cr_assert(now_s() < period, "the test was too slow to start before %lld", (long long)period);
	cr_assert_eq(nb, period, "not_before %s, expected the next period: %s",
		     api_str(row, "not_before"), json_dumps(row, JSON_COMPACT));
	wait_status(id, "sent", 90000);
	const struct listener_request *r[4];
	cr_assert_eq(requests_to("/slack", r, 4), 1);
	cr_assert(r[0]->at >= (double)nb, "sent at %.2f, before not_before %lld", r[0]->at,
		  (long long)nb);
	api_t_stop(&t);
}

/* Voluntary context switches of the daemon's main (loop) thread: one per wait of the loop. */
static long wakeups(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	char *s = harness_read(path);
	cr_assert(s, "no %s", path);
	char *p = strstr(s, "\nvoluntary_ctxt_switches:");
	cr_assert(p, "no voluntary_ctxt_switches in %s", path);
	long n = strtol(p + 26, NULL, 10);
	free(s);
	return n;
}

/* 23. Without an e-mail transport, e-mail waits in the outbox (docs: "e-mail alerts wait in the
 * outbox") while chat goes — and the waiting e-mail does not keep the sender busy. */
Test(delivery, email_without_transport_waits_quietly)
{
	listener_start();
	start(&(struct setup){ .rules = "{ id = \"late\"; when = \"+1d\"; notify = [\"head\", "
					"\"channel:t-slack\"]; }",
			       .channels = channels() });
	char c[40];
	overdue_case(code(c, sizeof(c), 1));
	json_t *box = wait_rows(2);
	int64_t e = api_int(row_by(box, "email", "phong.tv"), "id"),
		s = api_int(row_by(box, "chat", "t-slack"), "id");
	wait_status(s, "sent", 15000);
	long w0 = wakeups(t.f.proc.pid);
	double t0 = now_real();
	api_sleep_ms(3000); /* a measurement window, not a wait for an event */
	long woke = wakeups(t.f.proc.pid) - w0;
	double wall = now_real() - t0;
	json_t *row = row_id(e);
	cr_log_info("idle with a waiting e-mail: %ld loop wake-ups in %.2f s", woke, wall);
	api_t_expect_str(row, "status", "pending");
	api_t_expect_int(row, "attempts", 0);
	/* the sender looks at the outbox once a second (DELIVER_POLL_MS): a few wake-ups */
	cr_assert(woke < 60,
		  "the idle daemon woke %ld times in %.2f s while an e-mail waited for a transport "
		  "(busy-polling the outbox)",
		  woke, wall);
	api_t_stop(&t);
}

/* 24. Bodies of every length: 57 cases whose applicant names are 1..57 letters long, so that
 * every line break of the e-mail bodies falls, for one of them, right after a full 57-byte
 * chunk of a 76-character base64 line. Every message is written, and the daemon lives. */
Test(delivery, email_bodies_of_every_alignment)
{
	work_init();
	start(&(struct setup){ .rules = "{ id = \"late\"; when = \"+1d\"; notify = [\"head\"]; }",
			       .email = file_email(wpath("mail")) });
	int64_t t0 = now_s();
	for (int k = 1; k <= 57; k++) {
		char c[40], name[80];
		memset(name, 'A', (size_t)k);
		name[k] = '\0';
		char r[40], d[40];
		api_format_instant(r, sizeof(r), t0 - 4 * 86400);
		api_format_instant(d, sizeof(d), t0 - 2 * 86400);
		expect_alive();
		api_t_reqf(&t, "POST", "/api/v1/cases", API_MOTCUA, 201,
			   "{\"code\": \"%s\", \"procedure\": \"1.004222\", \"unit\": \"hctc\", "
			   "\"handler\": \"phong.tv\", \"applicant\": \"%s\", \"received_at\": \"%s\", "
			   "\"due_at\": \"%s\"}",
			   code(c, sizeof(c), k), name, r, d);
	}
	json_t *box = wait_rows(57);
	json_t *row;
	size_t i;
	json_array_foreach (box, i, row) {
		int64_t id = api_int(row, "id");
		row = wait_status(id, "sent", 20000);
		char fname[100];
		snprintf(fname, sizeof(fname), "mail/outbox-%lld.eml", (long long)id);
		char *msg = harness_read(wpath(fname));
		cr_assert(msg, "no %s", fname);
		check_email(msg, row, person_name("phong.tv"));
		free(msg);
	}
	api_t_stop(&t);
}
