/* GET /metrics and GET /readyz of the real dunghand: the answer parses as the Prometheus text
 * format 0.0.4 line by line, every family has its HELP and TYPE, the database's series hold the
 * exact counts after known requests, the HTTP counters count exactly the requests made (by route
 * template), histograms are cumulative; a configured metrics_token is required; readiness turns
 * 503 when the database cannot be written or its schema is not the binary's. */
#include <criterion/criterion.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_fixture.h"
#include "metrics.h"
#include "store.h"

static struct api_t t;

static void teardown(void)
{
	api_t_teardown(&t);
}

TestSuite(metrics, .fini = teardown, .timeout = 120);

#define UNIT "xa-tu-phap-tan-phu"
#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* --- a strict reader of the text format ------------------------------------------------------ */

#define MAX_SAMPLES 512

struct sample {
	char name[128];
	char labels[512]; /* as written between the braces, "" when none */
	double value;
};

struct exposition {
	struct sample s[MAX_SAMPLES];
	size_t n;
	char help[64][128]; /* families with a HELP line */
	char type[64][128]; /* families with a TYPE line, then " " and the type */
	size_t nhelp, ntype;
};

static bool is_name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
	       (!first && c >= '0' && c <= '9');
}

/* The metric name at *p (advanced past it) into out; false when there is none. */
static bool read_name(const char **p, char *out, size_t n)
{
	size_t i = 0;

	if (!is_name_char(**p, true))
		return false;
	while (is_name_char(**p, i == 0) && i + 1 < n)
		out[i++] = *(*p)++;
	out[i] = '\0';
	return true;
}

/* {name="value",...}: label names, '=', a quoted value whose only escapes are \\, \" and \n. */
static bool read_labels(const char **p, char *out, size_t n)
{
	const char *start = *p;
	char name[128];

	if (**p != '{') {
		out[0] = '\0';
		return true;
	}
	(*p)++;
	while (**p != '}') {
		if (!read_name(p, name, sizeof(name)) || *(*p)++ != '=' || *(*p)++ != '"')
			return false;
		while (**p != '"') {
			if (**p == '\0' || **p == '\n')
				return false;
			if (**p == '\\') {
				(*p)++;
				if (**p != '\\' && **p != '"' && **p != 'n')
					return false;
			}
			(*p)++;
		}
		(*p)++;
		if (**p == ',')
			(*p)++;
		else if (**p != '}')
			return false;
	}
	(*p)++;
	snprintf(out, n, "%.*s", (int)(*p - start - 2), start + 1);
	return true;
}

/* The family a sample belongs to: histograms' _bucket, _sum and _count lines are its own. */
static void family_of(const struct exposition *x, const char *name, char *out, size_t n)
{
	static const char *const suffixes[] = { "_bucket", "_sum", "_count" };

	snprintf(out, n, "%s", name);
	for (size_t i = 0; i < 3; i++) {
		size_t ln = strlen(name), ls = strlen(suffixes[i]);
		if (ln > ls && strcmp(name + ln - ls, suffixes[i]) == 0) {
			for (size_t k = 0; k < x->ntype; k++)
				if (strncmp(x->type[k], name, ln - ls) == 0 &&
				    strcmp(x->type[k] + ln - ls, " histogram") == 0)
					snprintf(out, n, "%.*s", (int)(ln - ls), name);
		}
	}
}

static bool listed(char list[][128], size_t n, const char *family, bool with_type)
{
	for (size_t i = 0; i < n; i++) {
		size_t lf = strlen(family);
		if (strncmp(list[i], family, lf) == 0 &&
		    (with_type ? list[i][lf] == ' ' : list[i][lf] == '\0'))
			return true;
	}
	return false;
}

/* Parses body into x, asserting that every line is a HELP or TYPE comment, blank, or a sample
 * `name{labels} value` of a family whose HELP and TYPE came before it. */
static void parse_exposition(const char *body, struct exposition *x)
{
	const char *line = body;
	int lineno = 0;

	memset(x, 0, sizeof(*x));
	cr_assert(strlen(body) > 0 && body[strlen(body) - 1] == '\n',
		  "the exposition must end with a line feed");
	while (*line) {
		const char *nl = strchr(line, '\n'), *p = line;
		char text[1024], name[128], family[128];

		lineno++;
		cr_assert(nl, "line %d has no line feed", lineno);
		snprintf(text, sizeof(text), "%.*s", (int)(nl - line), line);
		if (text[0] == '\0') {
			line = nl + 1;
			continue;
		}
		if (strncmp(text, "# HELP ", 7) == 0 || strncmp(text, "# TYPE ", 7) == 0) {
			bool help = text[2] == 'H';
			p = text + 7;
			cr_assert(read_name(&p, name, sizeof(name)) && *p == ' ',
				  "line %d: a bad comment: %s", lineno, text);
			if (help) {
				cr_assert(x->nhelp < 64);
				snprintf(x->help[x->nhelp++], 128, "%s", name);
			} else {
				cr_assert(!strcmp(p + 1, "gauge") || !strcmp(p + 1, "counter") ||
					  !strcmp(p + 1, "histogram"),
					  "line %d: unknown type: %s", lineno, text);
				cr_assert(x->ntype < 64);
				snprintf(x->type[x->ntype++], 128, "%.100s %.20s", name, p + 1);
			}
		} else {
			struct sample *s = &x->s[x->n];
			char *end;
			cr_assert(text[0] != '#', "line %d: an unknown comment: %s", lineno, text);
			p = text;
			cr_assert(read_name(&p, s->name, sizeof(s->name)),
				  "line %d: no metric name: %s", lineno, text);
			cr_assert(read_labels(&p, s->labels, sizeof(s->labels)),
				  "line %d: bad labels: %s", lineno, text);
			cr_assert(*p == ' ', "line %d: no space before the value: %s", lineno,
				  text);
			s->value = strtod(p + 1, &end);
			cr_assert(end != p + 1 && *end == '\0', "line %d: bad value: %s", lineno,
				  text);
			family_of(x, s->name, family, sizeof(family));
			cr_assert(listed(x->help, x->nhelp, family, false),
				  "line %d: no HELP for %s before it", lineno, family);
			cr_assert(listed(x->type, x->ntype, family, true),
				  "line %d: no TYPE for %s before it", lineno, family);
			cr_assert(x->n + 1 < MAX_SAMPLES);
			x->n++;
		}
		line = nl + 1;
	}
}

/* The value of the sample name{labels}, or NAN when there is none. */
static double value_of(const struct exposition *x, const char *name, const char *labels)
{
	for (size_t i = 0; i < x->n; i++)
		if (!strcmp(x->s[i].name, name) && !strcmp(x->s[i].labels, labels))
			return x->s[i].value;
	return NAN;
}

static void expect_value(const struct exposition *x, const char *name, const char *labels,
			 double want)
{
	double got = value_of(x, name, labels);

	cr_assert(got == want, "%s{%s} is %g, expected %g", name, labels, got, want);
}

static bool has_family(struct exposition *x, const char *name, const char *type)
{
	char want[160];

	snprintf(want, sizeof(want), "%s %s", name, type);
	for (size_t i = 0; i < x->ntype; i++)
		if (!strcmp(x->type[i], want))
			return listed(x->help, x->nhelp, name, false);
	return false;
}

/* The buckets of histogram name are cumulative, end with +Inf = _count; returns _count. */
static double expect_histogram(struct exposition *x, const char *name)
{
	char bucket[160], sum[160], count[160];
	double last = 0, inf = NAN;
	int nbuckets = 0;

	snprintf(bucket, sizeof(bucket), "%s_bucket", name);
	snprintf(sum, sizeof(sum), "%s_sum", name);
	snprintf(count, sizeof(count), "%s_count", name);
	cr_assert(has_family(x, name, "histogram"), "no histogram %s", name);
	for (size_t i = 0; i < x->n; i++) {
		if (strcmp(x->s[i].name, bucket) != 0)
			continue;
		cr_assert(!strncmp(x->s[i].labels, "le=\"", 4), "%s{%s}", bucket, x->s[i].labels);
		cr_assert(x->s[i].value >= last, "%s is not cumulative at %s", name,
			  x->s[i].labels);
		last = x->s[i].value;
		nbuckets++;
		if (!strcmp(x->s[i].labels, "le=\"+Inf\""))
			inf = x->s[i].value;
	}
	cr_assert(nbuckets >= 2, "%s has %d buckets", name, nbuckets);
	cr_assert(inf == value_of(x, count, ""), "%s: +Inf bucket %g, _count %g", name, inf,
		  value_of(x, count, ""));
	cr_assert(value_of(x, sum, "") >= 0, "%s has no _sum", name);
	return inf;
}

/* GET /metrics with token (NULL: none), expecting 200 and the text format; parsed into x. */
static void scrape(struct exposition *x, const char *token)
{
	struct err e = { 0 };

	cr_assert_eq(api_call(&t.f, "GET", "/metrics", token, NULL, NULL, 0, NULL, &t.r, &e), 0,
		     "GET /metrics: %s", e.msg);
	cr_assert_eq(t.r.status, 200, "GET /metrics → %d: %s", t.r.status, t.r.resp.body);
	const char *type = http_client_header(&t.r.resp, "Content-Type");
	cr_assert(type && !strcmp(type, METRICS_TYPE), "Content-Type %s", type ? type : "(none)");
	parse_exposition(t.r.resp.body, x);
}

static void create_case(const char *code, const char *when)
{
	api_t_reqf(&t, "POST", "/api/v1/cases", API_MOTCUA, 201,
		   "{\"code\": \"%s\", \"procedure\": \"1.004873\", \"unit\": \"" UNIT "\", %s}",
		   code, when);
}

/* --- /metrics ------------------------------------------------------------------------------ */

Test(metrics, exact_values_after_known_requests)
{
	static struct exposition x;

	api_t_start(&t, NULL);
	/* Three cases in one unit, one of them long overdue; one document, overdue too. */
	create_case("M-OLD-1", "\"received_at\": \"2024-02-07T10:00:00+07:00\"");
	create_case("M-NEW-1", "\"due_at\": \"2099-01-05T10:00:00+07:00\"");
	create_case("M-NEW-2", "\"due_at\": \"2099-01-05T10:00:00+07:00\"");
	api_t_req(&t, "POST", "/api/v1/documents", API_VANTHU,
		  "{\"summary\": \"V/v báo cáo\", \"received_at\": \"2024-02-07T10:00:00+07:00\","
		  " \"lead_unit\": \"hctc\"}", 201);
	api_t_req(&t, "GET", "/api/v1/cases/M-NEW-1", API_BAOCAO, NULL, 200);
	api_t_req(&t, "GET", "/api/v1/cases/M-NONE", API_BAOCAO, NULL, 404);
	api_t_req(&t, "GET", "/api/v1/nothing-here", API_BAOCAO, NULL, 404);
	api_t_req(&t, "GET", "/healthz", NULL, NULL, 200);
	api_t_req(&t, "GET", "/api/v1/cases", NULL, NULL, 401);

	scrape(&x, NULL);
	expect_value(&x, "dunghan_build_info", "version=\"" DUNGHAN_VERSION "\"", 1);
	expect_value(&x, "dunghan_open_items",
		     "kind=\"case\",unit=\"" UNIT "\",status=\"received\"", 3);
	expect_value(&x, "dunghan_open_items",
		     "kind=\"document\",unit=\"hctc\",status=\"registered\"", 1);
	expect_value(&x, "dunghan_overdue_items", "kind=\"case\",unit=\"" UNIT "\"", 1);
	expect_value(&x, "dunghan_overdue_items", "kind=\"document\",unit=\"hctc\"", 1);
	/* Nothing else is open or overdue, and no rule has fired (escalation is off). */
	size_t open = 0, overdue = 0;
	for (size_t i = 0; i < x.n; i++) {
		open += !strcmp(x.s[i].name, "dunghan_open_items");
		overdue += !strcmp(x.s[i].name, "dunghan_overdue_items");
		cr_assert(strcmp(x.s[i].name, "dunghan_at_risk_cases") &&
			  strcmp(x.s[i].name, "dunghan_alerts_fired_total") &&
			  strcmp(x.s[i].name, "dunghan_deliveries_total"),
			  "unexpected %s{%s}", x.s[i].name, x.s[i].labels);
	}
	cr_assert_eq(open, 2);
	cr_assert_eq(overdue, 2);
	/* Families without samples are still announced. */
	cr_assert(has_family(&x, "dunghan_open_items", "gauge"));
	cr_assert(has_family(&x, "dunghan_overdue_items", "gauge"));
	cr_assert(has_family(&x, "dunghan_at_risk_cases", "gauge"));
	cr_assert(has_family(&x, "dunghan_alerts_fired_total", "counter"));
	cr_assert(has_family(&x, "dunghan_outbox_messages", "gauge"));
	cr_assert(has_family(&x, "dunghan_deliveries_total", "counter"));
	cr_assert(has_family(&x, "dunghan_http_requests_total", "counter"));
	cr_assert(has_family(&x, "dunghan_uptime_seconds", "gauge"));
	cr_assert(has_family(&x, "dunghan_build_info", "gauge"));

	/* Exactly the requests made, by template: never the raw path. */
	expect_value(&x, "dunghan_http_requests_total",
		     "route=\"/api/v1/cases\",status=\"201\"", 3);
	expect_value(&x, "dunghan_http_requests_total",
		     "route=\"/api/v1/documents\",status=\"201\"", 1);
	expect_value(&x, "dunghan_http_requests_total",
		     "route=\"/api/v1/cases/{code}\",status=\"200\"", 1);
	expect_value(&x, "dunghan_http_requests_total",
		     "route=\"/api/v1/cases/{code}\",status=\"404\"", 1);
	expect_value(&x, "dunghan_http_requests_total", "route=\"other\",status=\"404\"", 1);
	expect_value(&x, "dunghan_http_requests_total", "route=\"/healthz\",status=\"200\"", 1);
	expect_value(&x, "dunghan_http_requests_total",
		     "route=\"/api/v1/cases\",status=\"401\"", 1);
	size_t series = 0;
	for (size_t i = 0; i < x.n; i++)
		series += !strcmp(x.s[i].name, "dunghan_http_requests_total");
	cr_assert_eq(series, 7, "only the series of the requests made");

	/* Four writes, four group commits at least (the API commits nothing else). */
	cr_assert_geq(expect_histogram(&x, "dunghan_commit_seconds"), 4);
	/* Each of them waited for a sync of the WAL (one sync may cover several). */
	cr_assert_geq(expect_histogram(&x, "dunghan_wal_sync_seconds"), 1);
	expect_histogram(&x, "dunghan_loop_lag_seconds");
	cr_assert(value_of(&x, "dunghan_uptime_seconds", "") > 0);

	/* The scrape itself is counted once answered, and a malformed request under "rejected". */
	struct http_client *raw = api_connect(&t.f, 0, &(struct err){ 0 });
	struct http_client_response resp = { 0 };
	struct err e = { 0 };
	cr_assert(raw);
	cr_assert_eq(http_client_send_str(raw, "GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
					  &e), 0, "%s", e.msg);
	cr_assert_eq(http_client_read_response(raw, &resp, &e), 0, "%s", e.msg);
	cr_assert_eq(resp.status, 400);
	http_client_response_free(&resp);
	http_client_free(raw);
	scrape(&x, NULL);
	expect_value(&x, "dunghan_http_requests_total", "route=\"/metrics\",status=\"200\"", 1);
	expect_value(&x, "dunghan_http_requests_total", "route=\"rejected\",status=\"400\"", 1);
	api_t_stop(&t);
}

Test(metrics, loop_lag_is_measured_every_second)
{
	static struct exposition x;
	double lag = 0;

	api_t_start(&t, NULL);
	/* The timer fires a second after start: wait for it, at most API_BOUND_MS. */
	for (int waited = 0; waited < API_BOUND_MS; waited += 100) {
		scrape(&x, NULL);
		if ((lag = expect_histogram(&x, "dunghan_loop_lag_seconds")) >= 1)
			break;
		api_sleep_ms(100);
	}
	cr_assert_geq(lag, 1, "no loop-lag sample within %d ms", API_BOUND_MS);
	/* An idle loop is never a second late. */
	cr_assert_eq(value_of(&x, "dunghan_loop_lag_seconds_bucket", "le=\"1\""), lag);
	api_t_stop(&t);
}

Test(metrics, a_configured_token_is_required)
{
	static struct exposition x;
	const struct api_options o = { .server = "metrics_token = \"baocao\";" };

	api_t_start(&t, &o);
	api_t_req(&t, "GET", "/metrics", NULL, NULL, 401);
	api_t_expect_error(&t, 401, "unauthorized", NULL);
	cr_assert(http_client_header(&t.r.resp, "WWW-Authenticate"));
	api_t_req(&t, "GET", "/metrics", "not-a-token", NULL, 401);
	/* A valid token that is not the one named: authenticated, not allowed. */
	api_t_req(&t, "GET", "/metrics", API_MOTCUA, NULL, 403);
	api_t_expect_error(&t, 403, "forbidden", NULL);
	scrape(&x, API_BAOCAO);
	expect_value(&x, "dunghan_build_info", "version=\"" DUNGHAN_VERSION "\"", 1);
	scrape(&x, API_ADMIN);
	/* Readiness never needs one. */
	api_t_req(&t, "GET", "/readyz", NULL, NULL, 200);
	api_t_stop(&t);
}

Test(metrics, bad_requests_get_clear_errors)
{
	api_t_start(&t, NULL);
	api_t_req(&t, "POST", "/metrics", NULL, "{}", 405);
	api_t_expect_error(&t, 405, "method_not_allowed", NULL);
	cr_assert_str_eq(http_client_header(&t.r.resp, "Allow"), "GET, HEAD");
	api_t_req(&t, "GET", "/metrics?format=json", NULL, NULL, 400);
	api_t_expect_error(&t, 400, "invalid_query", "format");
	api_t_req(&t, "GET", "/readyz?x=1", NULL, NULL, 400);
	api_t_expect_error(&t, 400, "invalid_query", "x");
	api_t_stop(&t);
}

Test(metrics, a_token_that_does_not_exist_is_a_config_error)
{
	const struct api_options o = { .server = "metrics_token = \"nobody\";" };
	struct err e = { 0 };
	char *out = NULL;
	int rc = api_check_config(&o, &out, &e);

	cr_assert_eq(rc, 1, "dunghand --check-config → %d (%s): %s", rc, e.msg, out ? out : "");
	cr_assert(strstr(out, "server.metrics_token") &&
		  strstr(out, "no token has name \"nobody\""), "%s", out);
	free(out);
}

/* Label values are escaped as the format requires; real labels are identifiers, so the writer
 * is checked on its own. */
Test(metrics, label_values_are_escaped)
{
	const char *labels[] = { "rule", "a\\b\"c\nd", "unit", NULL };
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	struct exposition *x = calloc(1, sizeof(*x));

	cr_assert(out && x);
	metrics_write_family(out, "dunghan_x", "gauge", "A test.");
	metrics_write_sample(out, "dunghan_x", labels, 2, 7);
	fclose(out);
	cr_assert_str_eq(text, "# HELP dunghan_x A test.\n# TYPE dunghan_x gauge\n"
			       "dunghan_x{rule=\"a\\\\b\\\"c\\nd\",unit=\"\"} 7\n");
	parse_exposition(text, x);
	cr_assert_eq(x->n, 1);
	free(text);
	free(x);
}

/* --- /readyz ------------------------------------------------------------------------------- */

/* Runs sql on the daemon's database from this process (another writer, as a careless operator's
 * sqlite3 shell would be). */
static void db_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, &msg), SQLITE_OK, "%s: %s", sql,
		     msg ? msg : "?");
}

Test(metrics, readyz_says_when_the_database_cannot_serve)
{
	sqlite3 *db = NULL;
	char sql[64];

	api_t_start(&t, NULL);
	api_t_expect_str(api_t_req(&t, "GET", "/readyz", NULL, NULL, 200), "status", "ready");
	cr_assert_eq(sqlite3_open_v2(t.f.db, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);

	/* The schema is not the one this binary was built for (as after restoring a backup of
	 * another release underneath the daemon). */
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", store_latest_version() + 1);
	db_exec(db, sql);
	api_t_req(&t, "GET", "/readyz", NULL, NULL, 503);
	api_t_expect_error(&t, 503, "not_ready", "database");
	snprintf(sql, sizeof(sql), "schema version %d, this dunghand needs %d",
		 store_latest_version() + 1, store_latest_version());
	cr_assert(strstr(api_str(t.r.json, "error.message"), sql), "%s", t.r.resp.body);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", store_latest_version());
	db_exec(db, sql);
	api_t_req(&t, "GET", "/readyz", NULL, NULL, 200);

	/* Another writer holds the write lock past busy_timeout (5 s by default). */
	db_exec(db, "BEGIN IMMEDIATE");
	api_t_req(&t, "GET", "/readyz", NULL, NULL, 503);
	api_t_expect_error(&t, 503, "not_ready", "database");
	cr_assert(strstr(api_str(t.r.json, "error.message"), "not writable"), "%s",
		  t.r.resp.body);
	db_exec(db, "ROLLBACK");
	sqlite3_close(db);
	api_t_req(&t, "GET", "/readyz", NULL, NULL, 200);

	/* A probe may use HEAD. */
	struct err e = { 0 };
	struct http_client *c = api_connect(&t.f, 0, &e);
	struct http_client_response resp = { 0 };
	cr_assert(c, "%s", e.msg);
	cr_assert_eq(http_client_send_request(c, "HEAD", "/readyz", NULL, NULL, 0, &e), 0);
	cr_assert_eq(http_client_read_head_response(c, &resp, &e), 0, "%s", e.msg);
	cr_assert_eq(resp.status, 200);
	http_client_response_free(&resp);
	http_client_free(c);
	api_t_stop(&t);
}
