/* dunghanctl against the real dunghand: status, cases, docs, assignments, alerts, outbox, kpi
 * and budget — each command's happy path and its errors (bad arguments exit 2 with what was
 * expected; the daemon's refusals exit 1 with its message), tables with Vietnamese text
 * aligned by display width (golden files), cut to a terminal's width with "…", colours on a
 * terminal only and never with NO_COLOR, JSON and CSV that parse back, and --db reading the
 * database file with the daemon stopped. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "api_fixture.h"
#include "csv.h"
#include "path.h"
#include "test_ctl_run.h"

#define TEMPLATES DUNGHAN_SOURCE_DIR "/config/templates"
#define NOW "--now"
#define NOW_AT "2024-02-20T09:00:00+07:00" /* what remaining time is counted from */

static struct api_t t;

static void teardown(void)
{
	api_t_teardown(&t);
}

TestSuite(ctl, .fini = teardown, .timeout = 120);

/* Runs dunghanctl -c <fixture config> --url <daemon> args... with token in $DUNGHAN_TOKEN
 * (NULL: none), on a terminal cols wide (0: files), with env added. */
static void run_env(struct ctl_result *r, const char *token, int cols, const char *const *env,
		    const char *const *args)
{
	char url[64], home[600], tok[128];
	char *argv[64];
	const char *e[16];
	size_t n = 0, k = 0;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", t.f.port);
	snprintf(home, sizeof(home), "HOME=%s", t.f.h.dir);
	argv[n++] = (char *)harness_dunghanctl();
	argv[n++] = "-c";
	argv[n++] = t.f.conf;
	argv[n++] = "--url";
	argv[n++] = url;
	for (size_t i = 0; args[i] && n < 63; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	e[k++] = home;
	e[k++] = "XDG_CONFIG_HOME";
	e[k++] = "NO_COLOR";
	e[k++] = "COLUMNS";
	if (token) {
		snprintf(tok, sizeof(tok), "DUNGHAN_TOKEN=%s", token);
		e[k++] = tok;
	} else {
		e[k++] = "DUNGHAN_TOKEN";
	}
	for (size_t i = 0; env && env[i] && k < 15; i++)
		e[k++] = env[i];
	e[k] = NULL;
	ctl_run_argv(t.f.h.dir, argv, e, cols, r);
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define RUN(r, token, ...) run_env(r, token, 0, NULL, ARGS(__VA_ARGS__))

/* Expects exit status 0 and returns stdout (valid until r is freed). */
static const char *ok(struct ctl_result *r)
{
	cr_assert_eq(r->status, 0, "exit %d\nstdout: %s\nstderr: %s", r->status, r->out, r->err);
	return r->out;
}

/* Expects status and message in stderr. */
static void expect_fail(struct ctl_result *r, int status, const char *message)
{
	cr_assert_eq(r->status, status, "exit %d, expected %d\nstdout: %s\nstderr: %s", r->status,
		     status, r->out, r->err);
	cr_assert(strstr(r->err, message), "expected \"%s\" in stderr: %s", message, r->err);
	ctl_result_free(r);
}

/* The office's cases of the golden tables: Vietnamese precomposed and decomposed (NFD, as macOS
 * writes it), wide characters, a comma and quotes; finished, paused and open ones. */
static void seed_cases(void)
{
	api_t_req(&t, "POST", "/api/v1/cases", API_MOTCUA,
		  "{\"code\":\"000.00.21.H19-240205-0001\",\"procedure\":\"1.004873\","
		  "\"unit\":\"xa-tu-phap-tan-phu\",\"handler\":\"binh.lt\","
		  "\"applicant\":\"Nguyễn Văn An\",\"received_at\":\"2024-02-05T08:00:00+07:00\"}", 201);
	api_t_req(&t, "POST", "/api/v1/cases", API_MOTCUA,
		  "{\"code\":\"000.00.21.H19-240215-0002\",\"procedure\":\"1.004222\","
		  "\"unit\":\"ttphvhcc\",\"applicant\":\"Tra\\u0302\\u0300n Thi\\u0323 Ngo\\u0323c "
		  "Ha\\u0300\",\"received_at\":\"2024-02-15T09:30:00+07:00\"}", 201);
	api_t_req(&t, "POST", "/api/v1/cases", API_MOTCUA,
		  "{\"code\":\"000.00.21.H19-240216-0003\",\"procedure\":\"1.004873\","
		  "\"unit\":\"xa-tu-phap-tan-phu\",\"applicant\":\"王小明 (Vương Tiểu Minh)\","
		  "\"received_at\":\"2024-02-16T14:00:00+07:00\"}", 201);
	api_t_req(&t, "POST", "/api/v1/cases", API_MOTCUA,
		  "{\"code\":\"000.00.21.H19-240201-0004\",\"procedure\":\"1.004222\","
		  "\"unit\":\"ttphvhcc\",\"applicant\":\"Công ty \\\"An Phú\\\", chi nhánh 2\","
		  "\"received_at\":\"2024-02-01T10:00:00+07:00\",\"fee\":15000,\"online\":\"full\"}",
		  201);
	api_t_req(&t, "POST", "/api/v1/cases/000.00.21.H19-240201-0004/events", API_MOTCUA,
		  "{\"type\":\"complete\",\"at\":\"2024-02-06T16:00:00+07:00\"}", 201);
	api_t_req(&t, "POST", "/api/v1/cases/000.00.21.H19-240216-0003/events", API_MOTCUA,
		  "{\"type\":\"pause\",\"at\":\"2024-02-19T08:00:00+07:00\","
		  "\"reason\":\"Yêu cầu bổ sung giấy tờ\"}", 201);
}

/* --- tables ---------------------------------------------------------------------------- */

Test(ctl, cases_list_table_is_aligned_by_display_width)
{
	struct ctl_result r;

	api_t_start(&t, NULL);
	seed_cases();
	RUN(&r, API_BAOCAO, NOW, NOW_AT, "cases", "list");
	golden_expect("ctl_cases_list.txt", ok(&r));
	ctl_result_free(&r);
	/* One unit: its columns are as wide as its own rows need. */
	RUN(&r, API_BAOCAO, NOW, NOW_AT, "cases", "list", "--unit", "ttphvhcc");
	golden_expect("ctl_cases_list_ttphvhcc.txt", ok(&r));
	ctl_result_free(&r);
}

Test(ctl, english_office)
{
	struct api_options o = { .extra = "escalation: { language = \"en\"; templates = \""
					  TEMPLATES "\"; };\n" };
	struct ctl_result r;

	api_t_start(&t, &o);
	seed_cases();
	RUN(&r, API_BAOCAO, NOW, NOW_AT, "cases", "list");
	golden_expect("ctl_cases_list_en.txt", ok(&r));
	ctl_result_free(&r);
}

Test(ctl, cases_show_has_history)
{
	struct ctl_result r;

	api_t_start(&t, NULL);
	seed_cases();
	RUN(&r, API_BAOCAO, NOW, NOW_AT, "cases", "show", "000.00.21.H19-240216-0003");
	golden_expect("ctl_cases_show.txt", ok(&r));
	ctl_result_free(&r);
}

/* The display columns of a line: escapes left out, combining marks none, CJK two. */
static int line_width(const char *line, size_t len)
{
	char *copy = strndup(line, len), *w = copy;
	int width;

	for (char *p = copy; *p; p++) {
		if (*p == '\033') {
			while (*p && *p != 'm')
				p++;
			continue;
		}
		if (*p != '\r')
			*w++ = *p;
	}
	*w = '\0';
	width = 0;
	/* Code points, less the combining marks (U+0300-U+036F), plus one for CJK. */
	for (const unsigned char *p = (const unsigned char *)copy; *p; p++) {
		if ((*p & 0xc0) == 0x80)
			continue;
		if (p[0] == 0xcc || (p[0] == 0xcd && p[1] < 0xb0))
			continue;
		width += (p[0] >= 0xe4 && p[0] <= 0xe9) ? 2 : 1;
	}
	free(copy);
	return width;
}

Test(ctl, terminal_cuts_to_its_width_with_colours)
{
	struct ctl_result r;
	int lines = 0;

	api_t_start(&t, NULL);
	seed_cases();
	/* 110 columns: the codes, ids, due times and time left fit, the applicant is cut. */
	run_env(&r, API_BAOCAO, 110, NULL, ARGS(NOW, NOW_AT, "cases", "list"));
	ok(&r);
	for (const char *p = r.out, *nl; *p; p = nl + 1) {
		if (!(nl = strchr(p, '\n')))
			break;
		cr_assert_leq(line_width(p, (size_t)(nl - p)), 110, "wider than 110: %.*s",
			      (int)(nl - p), p);
		lines++;
	}
	cr_assert_eq(lines, 5, "%s", r.out);
	cr_assert(strstr(r.out, "…"), "nothing was cut: %s", r.out);
	cr_assert(strstr(r.out, "\033[1mMã hồ sơ"), "no bold header: %s", r.out);
	cr_assert(strstr(r.out, "\033[31m000.00.21.H19-240205-0001"), "overdue not red: %s", r.out);
	ctl_result_free(&r);
	/* NO_COLOR: the same table without a single escape. */
	run_env(&r, API_BAOCAO, 110, ARGS("NO_COLOR=1"), ARGS(NOW, NOW_AT, "cases", "list"));
	ok(&r);
	cr_assert_null(strchr(r.out, '\033'), "colour with NO_COLOR: %s", r.out);
	cr_assert(strstr(r.out, "…"), "%s", r.out);
	ctl_result_free(&r);
	/* Not a terminal: neither colours nor cuts (the golden file of the first test). */
	RUN(&r, API_BAOCAO, NOW, NOW_AT, "cases", "list");
	cr_assert_null(strchr(ok(&r), '\033'));
	cr_assert_null(strstr(r.out, "…"));
	ctl_result_free(&r);
}

/* The terminal's text without the CRs its line discipline adds (onlcr), for golden files. */
static char *without_cr(const char *s)
{
	char *copy = strdup(s), *w = copy;

	cr_assert_not_null(copy);
	for (const char *p = s; *p; p++)
		if (*p != '\r')
			*w++ = *p;
	*w = '\0';
	return copy;
}

/* Expects every one of the NULL-ended strings in out whole (not cut with "…"). */
static void expect_whole(const char *out, const char *const *keys)
{
	for (size_t i = 0; keys[i]; i++)
		cr_assert(strstr(out, keys[i]), "\"%s\" was cut:\n%s", keys[i], out);
}

/* Runs dunghanctl args as token twice, as CSV (every cell) and as a table on a terminal cols
 * wide, and expects the CSV's cells of the columns named in keys (NULL-ended) in the table,
 * whole. */
static void expect_keys_whole(const char *token, int cols, const char *const *args,
			      const char *const *keys)
{
	struct csv_options o = { .expect_header = true };
	const char *argv[16] = { "--format", "csv" };
	struct ctl_result csv, table;
	struct csv_reader *rd;
	struct csv_row row;
	struct err e;
	size_t n = 2, rows = 0;

	for (size_t i = 0; args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	run_env(&csv, token, 0, NULL, argv);
	run_env(&table, token, cols, ARGS("NO_COLOR=1"), args);
	ok(&table);
	rd = csv_reader_new(ok(&csv), strlen(csv.out), &o, &e);
	cr_assert_not_null(rd, "%s", e.msg);
	while (csv_next(rd, &row, &e) == 1) {
		rows++;
		for (size_t k = 0; keys[k]; k++) {
			int c = csv_column(rd, keys[k]);
			cr_assert(c >= 0, "no column %s", keys[k]);
			cr_assert(strstr(table.out, row.fields[c]), "%s \"%s\" was cut:\n%s", keys[k],
				  row.fields[c], table.out);
		}
	}
	cr_assert_gt(rows, 0, "%s", csv.out);
	cr_assert(strstr(table.out, "…"), "nothing was cut at %d columns:\n%s", cols, table.out);
	csv_reader_free(rd);
	ctl_result_free(&csv);
	ctl_result_free(&table);
}

Test(ctl, narrow_terminal_never_cuts_codes_ids_or_deadlines)
{
	struct ctl_result r;
	char *text;

	api_t_start(&t, NULL);
	seed_cases();
	/* 70 columns: narrower than the codes, ids, due times and time left alone; those stay
	 * whole (the line is then wider than the terminal), the applicant gives way. */
	run_env(&r, API_BAOCAO, 70, ARGS("NO_COLOR=1"), ARGS(NOW, NOW_AT, "cases", "list"));
	text = without_cr(ok(&r));
	ctl_result_free(&r);
	expect_whole(text, ARGS("000.00.21.H19-240205-0001", "000.00.21.H19-240216-0003",
				"xa-tu-phap-tan-phu", "ttphvhcc", "1.004873", "1.004222",
				"15/02/2024 08:00", "26/02/2024 09:30", "quá hạn 3 ngày 1 giờ",
				"còn 4 ngày làm việc"));
	cr_assert_null(strstr(text, "Nguyễn Văn An"), "the applicant was not cut:\n%s", text);
	golden_expect("ctl_cases_list_70.txt", text);
	free(text);
}

/* --- JSON and CSV ------------------------------------------------------------------------ */

Test(ctl, json_parses_back_and_is_the_api_s)
{
	struct ctl_result r;
	json_error_t jerr;
	json_t *j, *api;

	api_t_start(&t, NULL);
	seed_cases();
	RUN(&r, API_BAOCAO, "--format", "json", "cases", "list");
	j = json_loads(ok(&r), 0, &jerr);
	cr_assert_not_null(j, "not JSON (%s): %s", jerr.text, r.out);
	api = api_t_all(&t, "/api/v1/cases", "cases", API_BAOCAO);
	cr_assert(json_equal(j, api), "differs from the API:\n%s", r.out);
	json_decref(j);
	ctl_result_free(&r);
	/* --format after the command, and a show with its history. */
	RUN(&r, API_BAOCAO, "cases", "show", "000.00.21.H19-240216-0003", "--format", "json");
	j = json_loads(ok(&r), 0, &jerr);
	cr_assert_not_null(j, "not JSON (%s): %s", jerr.text, r.out);
	api_t_expect_str(j, "case.status", "paused");
	api_t_expect_str(j, "events.1.type", "pause");
	api_t_expect_str(j, "events.1.data.reason", "Yêu cầu bổ sung giấy tờ");
	cr_assert_eq(json_array_size(json_object_get(j, "alerts")), 0);
	json_decref(j);
	ctl_result_free(&r);
}

Test(ctl, csv_has_a_bom_crlf_and_parses_back)
{
	struct ctl_result r;
	struct csv_options o = { .expect_header = true };
	struct csv_reader *rd;
	struct csv_row row;
	struct err e;
	int n = 0;

	api_t_start(&t, NULL);
	seed_cases();
	RUN(&r, API_BAOCAO, NOW, NOW_AT, "--format", "csv", "cases", "list");
	ok(&r);
	cr_assert(!strncmp(r.out, "\xef\xbb\xbfMã hồ sơ,Thủ tục,Tên thủ tục,Đơn vị,", 35), "%.80s",
		  r.out);
	cr_assert(strstr(r.out, "\r\n000.00.21.H19-240201-0004,"), "%s", r.out);
	cr_assert(strstr(r.out, ",\"Công ty \"\"An Phú\"\", chi nhánh 2\","), "%s", r.out);
	rd = csv_reader_new(r.out, strlen(r.out), &o, &e);
	cr_assert_not_null(rd, "%s", e.msg);
	int code = csv_column(rd, "Mã hồ sơ"), applicant = csv_column(rd, "Người nộp");
	int left = csv_column(rd, "Thời hạn"), due = csv_column(rd, "Ngày hẹn trả");
	cr_assert(code >= 0 && applicant >= 0 && left >= 0 && due >= 0);
	while (csv_next(rd, &row, &e) == 1) {
		n++;
		if (!strcmp(row.fields[code], "000.00.21.H19-240201-0004")) {
			cr_assert_str_eq(row.fields[applicant], "Công ty \"An Phú\", chi nhánh 2");
			cr_assert_str_eq(row.fields[left], "Trước hạn");
		}
		if (!strcmp(row.fields[code], "000.00.21.H19-240205-0001"))
			cr_assert(!strncmp(row.fields[left], "quá hạn ", strlen("quá hạn ")), "%s",
				  row.fields[left]);
	}
	cr_assert_eq(n, 4);
	csv_reader_free(rd);
	ctl_result_free(&r);
}

/* --- offline ------------------------------------------------------------------------------- */

Test(ctl, db_reads_the_file_with_the_daemon_stopped)
{
	static const char *const reads[][3] = {
		{ "cases", "list", NULL },
		{ "cases", "show", "000.00.21.H19-240216-0003" },
		{ "docs", "list", NULL },
		{ "docs", "show", "1" },
		{ "assignments", "list", NULL },
		{ "assignments", "show", "1" },
		{ "alerts", "list", NULL },
		/* overdue at NOW_AT, not at the clock's now, for the daemon too (as_of) */
		{ "cases", "list", "--overdue" },
		{ "assignments", "list", "--overdue" },
	};
	enum { NREADS = sizeof(reads) / sizeof(reads[0]) };
	char *online[NREADS];
	struct ctl_result r;

	api_t_start(&t, NULL);
	seed_cases();
	api_t_req(&t, "POST", "/api/v1/documents", API_VANTHU,
		  "{\"summary\":\"V/v cải cách hành chính\",\"received_at\":"
		  "\"2024-02-05T08:00:00+07:00\",\"lead_unit\":\"hctc\"}", 201);
	api_t_req(&t, "POST", "/api/v1/documents/1/assignments", API_VANTHU,
		  "{\"unit\":\"hctc\",\"title\":\"Báo cáo\"}", 201);
	for (size_t i = 0; i < NREADS; i++) {
		RUN(&r, API_BAOCAO, NOW, NOW_AT, "--format", "json", reads[i][0], reads[i][1],
		    reads[i][2]);
		online[i] = strdup(ok(&r));
		ctl_result_free(&r);
	}
	RUN(&r, API_BAOCAO, "--format", "json", "status");
	json_t *live = json_loads(ok(&r), 0, NULL);
	ctl_result_free(&r);
	RUN(&r, API_BAOCAO, NOW, NOW_AT, "--format", "json", "status");
	json_t *live_then = json_loads(ok(&r), 0, NULL);
	ctl_result_free(&r);
	/* On 20/02/2024 09:00 only 000.00.21.H19-240205-0001 is overdue; today the other open
	 * one (not paused) and the document's assignment, due later in 2024, are too. */
	api_t_expect_int(live_then, "overdue.cases", 1);
	api_t_expect_int(live_then, "overdue.assignments", 0);
	api_t_expect_int(live, "overdue.cases", 2);
	api_t_expect_int(live, "overdue.assignments", 1);
	cr_assert(strstr(online[7], "000.00.21.H19-240205-0001") &&
			  !strstr(online[7], "000.00.21.H19-240215-0002"),
		  "%s", online[7]);
	cr_assert_str_eq(online[8], "[]\n");
	api_t_stop(&t);

	for (size_t i = 0; i < NREADS; i++) {
		char *a[] = { (char *)harness_dunghanctl(), "-c", t.f.conf, "--db", t.f.db, NOW,
			      NOW_AT, "--format", "json", (char *)reads[i][0], (char *)reads[i][1],
			      (char *)reads[i][2], NULL };
		ctl_run_argv(t.f.h.dir, a, NULL, 0, &r);
		cr_assert_str_eq(ok(&r), online[i], "%s %s offline differs", reads[i][0],
				 reads[i][1]);
		ctl_result_free(&r);
		free(online[i]);
	}
	/* status: the same counts, no uptime. */
	char *s[] = { (char *)harness_dunghanctl(), "-c", t.f.conf, "--db", t.f.db, "--format",
		      "json", "status", NULL };
	ctl_run_argv(t.f.h.dir, s, NULL, 0, &r);
	json_t *off = json_loads(ok(&r), 0, NULL);
	cr_assert_not_null(off, "%s", r.out);
	cr_assert(json_equal(json_object_get(off, "open"), json_object_get(live, "open")), "%s",
		  r.out);
	cr_assert(json_is_null(json_object_get(off, "uptime_s")));
	api_t_expect_int(off, "open.cases", 3);
	api_t_expect_int(off, "open.documents", 1);
	json_decref(off);
	ctl_result_free(&r);
	char *s_then[] = { (char *)harness_dunghanctl(), "-c", t.f.conf, "--db", t.f.db, NOW, NOW_AT,
			   "--format", "json", "status", NULL };
	ctl_run_argv(t.f.h.dir, s_then, NULL, 0, &r);
	off = json_loads(ok(&r), 0, NULL);
	cr_assert(json_equal(json_object_get(off, "overdue"), json_object_get(live_then, "overdue")),
		  "%s", r.out);
	json_decref(off);
	json_decref(live_then);
	json_decref(live);
	ctl_result_free(&r);
	/* Changes need the daemon (exit 2), whatever the database. */
	char *add[] = { (char *)harness_dunghanctl(), "-c", t.f.conf, "--db", t.f.db, "cases",
			"add", "--code", "x", NULL };
	ctl_run_argv(t.f.h.dir, add, NULL, 0, &r);
	expect_fail(&r, 2, "\"cases add\" needs the daemon");
	char *bad[] = { (char *)harness_dunghanctl(), "-c", t.f.conf, "--db", "/nonexistent/x.db",
			"cases", "list", NULL };
	ctl_run_argv(t.f.h.dir, bad, NULL, 0, &r);
	expect_fail(&r, 1, "cannot read the database /nonexistent/x.db");
}

/* --- status ----------------------------------------------------------------------------------- */

Test(ctl, status)
{
	struct ctl_result r;
	json_t *j;

	api_t_start(&t, NULL);
	seed_cases();
	RUN(&r, API_BAOCAO, "status");
	cr_assert(strstr(ok(&r), "Phiên bản:                 " DUNGHAN_VERSION "\n"), "%s", r.out);
	cr_assert(strstr(r.out, "Hồ sơ đang mở:             3\n"), "%s", r.out);
	cr_assert(strstr(r.out, "Hồ sơ quá hạn:             2\n"), "%s", r.out);
	ctl_result_free(&r);
	RUN(&r, API_BAOCAO, "--format", "json", "status");
	j = json_loads(ok(&r), 0, NULL);
	cr_assert_not_null(j, "%s", r.out);
	api_t_expect_str(j, "version", DUNGHAN_VERSION);
	api_t_expect_int(j, "open.cases", 3);
	api_t_expect_int(j, "overdue.cases", 2);
	api_t_expect_int(j, "open.documents", 0);
	api_t_expect_int(j, "outbox.dead", 0);
	cr_assert(json_integer_value(json_object_get(j, "uptime_s")) >= 0);
	cr_assert(api_parse_instant(api_str(j, "started_at")) > 0);
	json_decref(j);
	ctl_result_free(&r);
	/* Without a token: 401 and where a token comes from. */
	RUN(&r, NULL, "status");
	expect_fail(&r, 1, "dunghanctl: 401 unauthorized");
	RUN(&r, NULL, "status");
	expect_fail(&r, 1, "--token-file FILE, $DUNGHAN_TOKEN or ~/.config/dunghan/token");
	RUN(&r, API_BAOCAO, "status", "extra");
	expect_fail(&r, 2, "\"status\" expects no arguments");
}

Test(ctl, token_files)
{
	struct ctl_result r;
	char path[600], cfg[600];
	struct err e;

	api_t_start(&t, NULL);
	harness_write(&t.f.h, "token", API_BAOCAO "\n");
	harness_path(&t.f.h, "token", path, sizeof(path));
	chmod(path, 0600);
	RUN(&r, NULL, "--token-file", path, "status");
	ok(&r);
	cr_assert_str_eq(r.err, "");
	ctl_result_free(&r);
	chmod(path, 0644);
	RUN(&r, NULL, "--token-file", path, "status");
	ok(&r);
	cr_assert(strstr(r.err, "warning: the token file"), "%s", r.err);
	ctl_result_free(&r);
	/* ~/.config/dunghan/token (HOME is the test's directory) */
	snprintf(cfg, sizeof(cfg), "%s/.config/dunghan", t.f.h.dir);
	cr_assert_eq(path_make_dirs(cfg, 0700, &e), 0, "%s", e.msg);
	cr_assert_eq(harness_write(&t.f.h, ".config/dunghan/token", API_BAOCAO), 0);
	harness_path(&t.f.h, ".config/dunghan/token", path, sizeof(path));
	chmod(path, 0600);
	RUN(&r, NULL, "status");
	ok(&r);
	ctl_result_free(&r);
	harness_write(&t.f.h, "empty", "\n");
	harness_path(&t.f.h, "empty", path, sizeof(path));
	RUN(&r, NULL, "--token-file", path, "status");
	expect_fail(&r, 1, "is empty");
	RUN(&r, NULL, "--token-file", "/nonexistent/token", "status");
	expect_fail(&r, 1, "cannot read the token file /nonexistent/token");
}

/* --- cases ------------------------------------------------------------------------------------ */

Test(ctl, cases_add_event_and_filters)
{
	struct ctl_result r;

	api_t_start(&t, NULL);
	RUN(&r, API_MOTCUA, "cases", "add", "--code", "000.00.21.H19-240207-0001", "--procedure",
	    "1.004873", "--unit", "xa-tu-phap-tan-phu", "--handler", "binh.lt", "--applicant",
	    "Nguyễn Văn A", "--received-at", "07/02/2024 10:00", "--online", "full",
	    "--paid-online", "--fee", "20000");
	/* 3 working days across Tết Giáp Thìn. */
	cr_assert(strstr(ok(&r), "Ngày hẹn trả:           19/02/2024 10:00\n"), "%s", r.out);
	cr_assert(strstr(r.out, "Lệ phí:                 20000\n"), "%s", r.out);
	ctl_result_free(&r);
	/* The same again: nothing changes, and it says so. */
	RUN(&r, API_MOTCUA, "cases", "add", "--code", "000.00.21.H19-240207-0001", "--procedure",
	    "1.004873", "--unit", "xa-tu-phap-tan-phu", "--handler", "binh.lt", "--applicant",
	    "Nguyễn Văn A", "--received-at", "07/02/2024 10:00", "--online", "full",
	    "--paid-online", "--fee", "20000");
	ok(&r);
	cr_assert(strstr(r.err, "already registered with the same data"), "%s", r.err);
	ctl_result_free(&r);
	RUN(&r, API_MOTCUA, "cases", "event", "000.00.21.H19-240207-0001", "assign",
	    "handler=hoa.tt", "--at", "2024-02-07T11:00:00+07:00");
	cr_assert(strstr(ok(&r), "Cán bộ xử lý:           hoa.tt\n"), "%s", r.out);
	ctl_result_free(&r);
	RUN(&r, API_MOTCUA, "cases", "event", "000.00.21.H19-240207-0001", "reschedule",
	    "due_at=20/02/2024 10:00", "apology=Xin lỗi ông/bà", "--at", "15/02/2024 08:00");
	cr_assert(strstr(ok(&r), "Ngày hẹn trả:           20/02/2024 10:00\n"), "%s", r.out);
	ctl_result_free(&r);
	RUN(&r, API_MOTCUA, "--format", "json", "cases", "event", "000.00.21.H19-240207-0001",
	    "complete", "--at", "16/02/2024 09:00");
	json_t *j = json_loads(ok(&r), 0, NULL);
	api_t_expect_str(j, "case.outcome", "late");
	api_t_expect_str(j, "event.type", "complete");
	json_decref(j);
	ctl_result_free(&r);
	RUN(&r, API_MOTCUA, "cases", "event", "000.00.21.H19-240207-0001", "rate", "rating=5",
	    "--at", "16/02/2024 10:00");
	ok(&r);
	ctl_result_free(&r);
	/* Filters: status, unit subtree, overdue, due-before, limit. */
	seed_cases();
	RUN(&r, API_BAOCAO, "--format", "json", "cases", "list", "--status", "completed");
	j = json_loads(ok(&r), 0, NULL);
	cr_assert_eq(json_array_size(j), 2, "%s", r.out);
	json_decref(j);
	ctl_result_free(&r);
	RUN(&r, API_BAOCAO, "--format", "json", "cases", "list", "--unit", "xa-tan-phu",
	    "--overdue");
	j = json_loads(ok(&r), 0, NULL);
	cr_assert_eq(json_array_size(j), 1, "%s", r.out);
	api_t_expect_str(j, "0.code", "000.00.21.H19-240205-0001");
	json_decref(j);
	ctl_result_free(&r);
	RUN(&r, API_BAOCAO, "--format", "json", "cases", "list", "--due-before", "16/02/2024",
	    "--limit", "1");
	j = json_loads(ok(&r), 0, NULL);
	cr_assert_eq(json_array_size(j), 1, "%s", r.out);
	json_decref(j);
	ctl_result_free(&r);
}

Test(ctl, cases_list_follows_pages)
{
	struct ctl_result r;
	char body[300];

	api_t_start(&t, NULL);
	/* 1 203 cases: three pages of the API's largest size. */
	for (int b = 0; b < 2; b++) {
		size_t cap = 700 * 300, len = 0;
		char *nd = malloc(cap);
		for (int i = 0; i < 700 && b * 700 + i < 1203; i++) {
			snprintf(body, sizeof(body),
				 "{\"code\":\"P-%04d\",\"procedure\":\"1.004222\",\"unit\":\"hctc\","
				 "\"received_at\":\"2024-03-01T08:00:00+07:00\"}\n", b * 700 + i);
			memcpy(nd + len, body, strlen(body));
			len += strlen(body);
		}
		api_t_call(&t, "POST", "/api/v1/cases:batch", API_MOTCUA, "application/x-ndjson", nd,
			   len, 200);
		free(nd);
	}
	RUN(&r, API_BAOCAO, "--format", "json", "cases", "list");
	json_t *j = json_loads(ok(&r), 0, NULL);
	cr_assert_eq(json_array_size(j), 1203);
	json_decref(j);
	ctl_result_free(&r);
	RUN(&r, API_BAOCAO, "--format", "csv", "cases", "list", "--limit", "777");
	size_t lines = 0;
	for (const char *p = ok(&r); (p = strstr(p, "\r\n")); p += 2)
		lines++;
	cr_assert_eq(lines, 778);
	ctl_result_free(&r);
}

Test(ctl, cases_errors)
{
	struct ctl_result r;

	api_t_start(&t, NULL);
	seed_cases();
	/* The daemon's refusals: exit 1 and its message. */
	RUN(&r, API_MOTCUA, "cases", "add", "--code", "C-1", "--procedure", "1.004873", "--unit",
	    "x");
	expect_fail(&r, 1, "dunghanctl: 422 unknown_reference (unit): no unit has id \"x\"");
	RUN(&r, API_MOTCUA, "cases", "add", "--code", "000.00.21.H19-240205-0001", "--procedure",
	    "1.004873", "--unit", "hctc");
	expect_fail(&r, 1, "dunghanctl: 409 conflict");
	RUN(&r, API_BAOCAO, "cases", "show", "NOPE-1");
	expect_fail(&r, 1, "dunghanctl: 404 not_found: no case has code \"NOPE-1\"");
	RUN(&r, API_MOTCUA, "cases", "event", "000.00.21.H19-240201-0004", "pause", "reason=x");
	expect_fail(&r, 1, "dunghanctl: 409 illegal_transition (type)");
	RUN(&r, API_MOTCUA, "cases", "event", "000.00.21.H19-240205-0001", "fly");
	expect_fail(&r, 1, "dunghanctl: 400 invalid_field (type)");
	RUN(&r, API_BAOCAO, "cases", "add", "--code", "C-1", "--procedure", "1.004873", "--unit",
	    "hctc");
	expect_fail(&r, 1, "dunghanctl: 403 forbidden");
	RUN(&r, API_BAOCAO, "cases", "list", "--status", "sleeping");
	expect_fail(&r, 1, "dunghanctl: 400 invalid_query (status): unknown status \"sleeping\"");
	/* Bad arguments: exit 2 and what was expected, nothing sent. */
	struct api_db_state before;
	api_t_state(&t, &before);
	RUN(&r, API_MOTCUA, "cases", "add", "--procedure", "1.004873", "--unit", "hctc");
	expect_fail(&r, 2, "cases add: --code is required");
	RUN(&r, API_MOTCUA, "cases", "add", "--code", "C-1", "--procedure", "1.004873", "--unit",
	    "hctc", "--received-at", "tomorrow");
	expect_fail(&r, 2, "--received-at \"tomorrow\" is not a time like 07/02/2024 10:00");
	RUN(&r, API_MOTCUA, "cases", "add", "--code", "C-1", "--procedure", "1.004873", "--unit",
	    "hctc", "--fee", "-5");
	expect_fail(&r, 2, "--fee \"-5\" is not a whole number from 0");
	RUN(&r, API_MOTCUA, "cases", "event", "000.00.21.H19-240205-0001", "note", "text");
	expect_fail(&r, 2, "expected FIELD=VALUE (or FIELD:=JSON), not \"text\"");
	RUN(&r, API_MOTCUA, "cases", "event", "000.00.21.H19-240205-0001", "note", "x:={");
	expect_fail(&r, 2, "x: \"{\" is not JSON");
	RUN(&r, API_MOTCUA, "cases", "event", "000.00.21.H19-240205-0001");
	expect_fail(&r, 2, "\"cases event\" expects CODE TYPE [FIELD=VALUE]...");
	RUN(&r, API_BAOCAO, "cases", "list", "--due-before", "31/02/2024");
	expect_fail(&r, 2, "--due-before \"31/02/2024\" is not a time");
	RUN(&r, API_BAOCAO, "cases", "list", "--limit", "0");
	expect_fail(&r, 2, "--limit \"0\" is not a whole number from 1");
	RUN(&r, API_BAOCAO, "cases", "list", "--colour");
	expect_fail(&r, 2, "cases list: unknown option \"--colour\"");
	RUN(&r, API_BAOCAO, "cases", "list", "--unit");
	expect_fail(&r, 2, "cases list: --unit needs a value");
	RUN(&r, API_BAOCAO, "cases", "list", "--format", "xml");
	expect_fail(&r, 2, "--format \"xml\" is not table, csv or json");
	RUN(&r, API_BAOCAO, "cases", "show", "bad/code");
	expect_fail(&r, 2, "CODE \"bad/code\" is not a case code");
	RUN(&r, API_BAOCAO, "cases", "fly");
	expect_fail(&r, 2, "unknown command \"cases fly\"");
	RUN(&r, API_BAOCAO, "cases");
	expect_fail(&r, 2, "Commands of \"cases\"");
	RUN(&r, API_BAOCAO, "--now", "someday", "cases", "list");
	expect_fail(&r, 2, "--now \"someday\" is not a time");
	api_t_unchanged(&t, &before);
	/* The daemon is not there: exit 1, and where it was looked for. */
	char *down[] = { (char *)harness_dunghanctl(), "-c", t.f.conf, "--url",
			 "http://127.0.0.1:9", "status", NULL };
	ctl_run_argv(t.f.h.dir, down, ARGS("DUNGHAN_TOKEN=x"), 0, &r);
	expect_fail(&r, 1, "cannot reach dunghand at http://127.0.0.1:9");
	char *nourl[] = { (char *)harness_dunghanctl(), "-c", t.f.conf, "status", NULL };
	ctl_run_argv(t.f.h.dir, nourl, NULL, 0, &r);
	expect_fail(&r, 2, "has no fixed port: give the daemon's address with --url");
	char *both[] = { (char *)harness_dunghanctl(), "-c", t.f.conf, "--db", t.f.db, "--url",
			 "http://127.0.0.1:9", "status", NULL };
	ctl_run_argv(t.f.h.dir, both, NULL, 0, &r);
	expect_fail(&r, 2, "--db and --url exclude each other");
}

Test(ctl, every_command_has_help)
{
	static const char *const cmds[][2] = {
		{ "status", NULL },        { "cases", "list" },      { "cases", "show" },
		{ "cases", "add" },        { "cases", "event" },     { "docs", "list" },
		{ "docs", "show" },        { "docs", "add" },        { "docs", "event" },
		{ "assignments", "list" }, { "assignments", "show" }, { "assignments", "add" },
		{ "assignments", "done" }, { "assignments", "event" }, { "alerts", "list" },
		{ "alerts", "ack" },       { "outbox", "list" },     { "outbox", "retry" },
		{ "kpi", NULL },           { "budget", NULL },       { "import", NULL },
		{ "calendar", "add" },     { "procedures", "list" }, { "procedures", "show" },
	};
	struct ctl_result r;
	char usage[80];

	api_t_start(&t, NULL);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char *a[] = { (char *)harness_dunghanctl(), "-c", "/nonexistent.conf",
			      (char *)cmds[i][0], cmds[i][1] ? (char *)cmds[i][1] : "--help",
			      cmds[i][1] ? "--help" : NULL, NULL };
		ctl_run_argv(t.f.h.dir, a, NULL, 0, &r);
		snprintf(usage, sizeof(usage), "Usage: dunghanctl [GLOBAL OPTIONS] %s%s%s", cmds[i][0],
			 cmds[i][1] ? " " : "", cmds[i][1] ? cmds[i][1] : "");
		cr_assert(strstr(ok(&r), usage), "%s %s --help: %s", cmds[i][0],
			  cmds[i][1] ? cmds[i][1] : "", r.out);
		ctl_result_free(&r);
	}
	char *a[] = { (char *)harness_dunghanctl(), "--help", NULL };
	ctl_run_argv(t.f.h.dir, a, NULL, 0, &r);
	cr_assert(strstr(ok(&r), "  cases list"), "%s", r.out);
	ctl_result_free(&r);
}

/* --- documents and assignments ---------------------------------------------------------------- */

/* "--due-at 01/03/2024" means due on that day, as an import's Ngày hẹn trả: at the end of its
 * office hours (Friday 1 March 2024, 17:00), not at its first second. Years the calendar does
 * not know are refused before anything is sent. */
Test(ctl, a_date_alone_is_due_at_the_end_of_office_hours)
{
	struct ctl_result r;
	json_t *j;

	api_t_start(&t, NULL);
	RUN(&r, API_MOTCUA, "cases", "add", "--code", "000.00.21.H19-240226-0001", "--procedure",
	    "1.004873", "--unit", "hctc", "--received-at", "26/02/2024 08:00", "--due-at",
	    "01/03/2024");
	cr_assert(strstr(ok(&r), "Ngày hẹn trả:    01/03/2024 17:00\n"), "%s", r.out);
	ctl_result_free(&r);
	RUN(&r, API_MOTCUA, "--format", "json", "cases", "event", "000.00.21.H19-240226-0001",
	    "reschedule", "due_at=05/03/2024", "apology=Xin lỗi ông/bà", "--at", "01/03/2024");
	j = json_loads(ok(&r), 0, NULL);
	api_t_expect_str(j, "case.due_at", "2024-03-05T17:00:00+07:00");
	api_t_expect_str(j, "event.at", "2024-03-01T00:00:00+07:00");
	json_decref(j);
	ctl_result_free(&r);
	RUN(&r, API_VANTHU, "--format", "json", "docs", "add", "--summary", "V/v báo cáo",
	    "--received-at", "26/02/2024", "--due-at", "29/02/2024");
	j = json_loads(ok(&r), 0, NULL);
	api_t_expect_str(j, "received_at", "2024-02-26T00:00:00+07:00");
	api_t_expect_str(j, "due_at", "2024-02-29T17:00:00+07:00");
	json_decref(j);
	ctl_result_free(&r);
	RUN(&r, API_VANTHU, "assignments", "add", "--direction", "Ý kiến chỉ đạo", "--unit", "kstt",
	    "--title", "Rà soát", "--due-at", "01/03/2024");
	cr_assert(strstr(ok(&r), "Hạn:             01/03/2024 17:00\n"), "%s", r.out);
	ctl_result_free(&r);
	RUN(&r, API_MOTCUA, "cases", "add", "--code", "000.00.21.H19-240226-0002", "--procedure",
	    "1.004873", "--unit", "hctc", "--received-at", "26/02/1024 08:00");
	expect_fail(&r, 2, "--received-at \"26/02/1024 08:00\": the year must be 1900 to 2199");
	RUN(&r, API_MOTCUA, "cases", "add", "--code", "000.00.21.H19-240226-0002", "--procedure",
	    "1.004873", "--unit", "hctc", "--received-at", "0024-02-26T08:00:00+07:00");
	expect_fail(&r, 2, "the year must be 1900 to 2199");
	struct err e;
	cr_assert_eq(api_db_int(&t.f, "SELECT count(*) FROM cases", &e), 1);
}

Test(ctl, docs_and_assignments)
{
	struct ctl_result r;
	json_t *j;

	api_t_start(&t, NULL);
	RUN(&r, API_VANTHU, "docs", "add", "--summary",
	    "V/v khẩn trương triển khai các nhiệm vụ cải cách hành chính năm 2024", "--symbol",
	    "506/SNV-TT", "--doc-date", "20/02/2024", "--issuer", "Sở Nội vụ", "--type", "Công văn",
	    "--urgency", "urgent", "--received-at", "21/02/2024 08:00", "--lead-unit", "hctc");
	ok(&r);
	cr_assert(strstr(r.out, "Số đến:            1\n"), "%s", r.out);
	cr_assert(strstr(r.out, "Ngày văn bản:      20/02/2024\n"), "%s", r.out);
	cr_assert(strstr(r.out, "Độ khẩn:           Khẩn\n"), "%s", r.out);
	ctl_result_free(&r);
	RUN(&r, API_VANTHU, "assignments", "add", "--document", "1", "--unit", "hctc", "--assignee",
	    "phong.tv", "--title", "Tăng cường kiểm tra công vụ", "--due-at", "15/03/2024 17:00");
	cr_assert(strstr(ok(&r), "Hạn:              15/03/2024 17:00\n"), "%s", r.out);
	ctl_result_free(&r);
	RUN(&r, API_VANTHU, "assignments", "add", "--direction", "Ý kiến chỉ đạo của Chủ tịch",
	    "--unit", "kstt", "--title", "Rà soát thủ tục", "--due-at", "2024-03-01T17:00:00+07:00");
	ok(&r);
	ctl_result_free(&r);
	RUN(&r, API_VANTHU, "assignments", "add", "--parent", "1", "--unit", "kstt", "--title", "x");
	expect_fail(&r, 1, "dunghanctl: 422 ");
	RUN(&r, API_VANTHU, NOW, NOW_AT, "docs", "list");
	golden_expect("ctl_docs_list.txt", ok(&r));
	ctl_result_free(&r);
	RUN(&r, API_VANTHU, NOW, NOW_AT, "assignments", "list");
	golden_expect("ctl_assignments_list.txt", ok(&r));
	ctl_result_free(&r);
	RUN(&r, API_VANTHU, NOW, NOW_AT, "docs", "show", "1");
	golden_expect("ctl_docs_show.txt", ok(&r));
	ctl_result_free(&r);
	/* On a narrow terminal the summary, the issuer and the task give way; the numbers, the
	 * symbol, units, people, due times and time left stay whole. */
	run_env(&r, API_VANTHU, 80, ARGS("NO_COLOR=1"), ARGS(NOW, NOW_AT, "docs", "list"));
	char *narrow = without_cr(ok(&r));
	ctl_result_free(&r);
	expect_whole(narrow, ARGS("506/SNV-TT", "26/02/2024 08:00", "hctc",
				  "còn 3 ngày 7 giờ làm việc"));
	golden_expect("ctl_docs_list_80.txt", narrow);
	free(narrow);
	run_env(&r, API_VANTHU, 80, ARGS("NO_COLOR=1"), ARGS(NOW, NOW_AT, "assignments", "list"));
	narrow = without_cr(ok(&r));
	ctl_result_free(&r);
	expect_whole(narrow, ARGS("kstt", "hctc", "phong.tv", "01/03/2024 17:00",
				  "15/03/2024 17:00", "còn 8 ngày 6 giờ làm việc",
				  "còn 18 ngày 6 giờ làm việc"));
	golden_expect("ctl_assignments_list_80.txt", narrow);
	free(narrow);
	RUN(&r, API_VANTHU, "--format", "json", "assignments", "list", "--document", "1");
	j = json_loads(ok(&r), 0, NULL);
	cr_assert_eq(json_array_size(j), 1, "%s", r.out);
	json_decref(j);
	ctl_result_free(&r);
	RUN(&r, API_VANTHU, "assignments", "event", "1", "reassign", "assignee=lan.ptn", "--at",
	    "22/02/2024 08:00");
	cr_assert(strstr(ok(&r), "Người thực hiện:  lan.ptn\n"), "%s", r.out);
	ctl_result_free(&r);
	RUN(&r, API_VANTHU, "assignments", "done", "1", "--at", "23/02/2024 10:00");
	cr_assert(strstr(ok(&r), "Trạng thái:       Hoàn thành\n"), "%s", r.out);
	cr_assert(strstr(r.out, "Thời hạn:         Đúng hạn\n"), "%s", r.out);
	ctl_result_free(&r);
	RUN(&r, API_VANTHU, "assignments", "done", "1");
	expect_fail(&r, 1, "dunghanctl: 409 illegal_transition");
	RUN(&r, API_VANTHU, "docs", "event", "1", "forward", "unit=kstt", "--at", "21/02/2024 09:00");
	cr_assert(strstr(ok(&r), "Đơn vị chủ trì:    kstt\n"), "%s", r.out);
	ctl_result_free(&r);
	RUN(&r, API_VANTHU, "--format", "json", "assignments", "show", "1");
	j = json_loads(ok(&r), 0, NULL);
	api_t_expect_str(j, "assignment.status", "done");
	api_t_expect_str(j, "events.1.type", "reassign");
	json_decref(j);
	ctl_result_free(&r);
	/* Errors. */
	RUN(&r, API_VANTHU, "docs", "add", "--symbol", "1/X");
	expect_fail(&r, 2, "docs add: --summary is required");
	RUN(&r, API_VANTHU, "docs", "add", "--summary", "x", "--urgency", "soon");
	expect_fail(&r, 1, "dunghanctl: 400 invalid_field (urgency)");
	RUN(&r, API_VANTHU, "docs", "add", "--summary", "x", "--doc-date", "2024-13-01");
	expect_fail(&r, 2, "--doc-date \"2024-13-01\" is not a date");
	RUN(&r, API_VANTHU, "docs", "show", "99");
	expect_fail(&r, 1, "dunghanctl: 404 not_found: no document has id 99");
	RUN(&r, API_VANTHU, "docs", "show", "x");
	expect_fail(&r, 2, "ID \"x\" is not a whole number");
	RUN(&r, API_VANTHU, "assignments", "add", "--unit", "hctc", "--document", "1", "--parent",
	    "1");
	expect_fail(&r, 2, "--document and --parent exclude each other");
	RUN(&r, API_VANTHU, "assignments", "list", "--search", "x");
	expect_fail(&r, 2, "--search is for documents");
}

/* --- alerts and the outbox ------------------------------------------------------------------- */

/* Waits until GET path (admin) lists n items under key satisfying status (NULL: any). */
static json_t *wait_items(const char *path, const char *key, size_t n, const char *status)
{
	for (int i = 0; i < 300; i++) {
		json_t *all = api_t_all(&t, path, key, API_ADMIN), *item;
		size_t k, count = 0;
		json_array_foreach(all, k, item)
			count += !status || !strcmp(api_str(item, "status"), status);
		if (count >= n)
			return all;
		api_sleep_ms(50);
	}
	cr_assert_fail("%s: fewer than %zu %s", path, n, key);
	return NULL;
}

Test(ctl, alerts_and_outbox)
{
	static const char *const edits[] = { "channels = [\"hctc-chat\"]",
					     "channels = [\"hctc-group\"]", NULL };
	struct api_options o = {
		.extra = "escalation: { templates = \"" TEMPLATES "\"; hold_outside_office_hours = "
			 "false;\n  cases = ( { id = \"due\"; when = \"due\"; notify = [\"head\", "
			 "\"channel:hctc-group\"]; urgent = true; } );\n};\n",
		.delivery = "enabled = true; max_attempts = 1; timeout = \"2s\"; connect_timeout = "
			    "\"1s\";",
		.office_edits = edits,
	};
	struct ctl_result r;
	char id[32];
	json_t *j;

	api_t_start(&t, &o);
	api_t_req(&t, "POST", "/api/v1/cases", API_MOTCUA,
		  "{\"code\":\"A-1\",\"procedure\":\"1.004222\",\"unit\":\"hctc\","
		  "\"received_at\":\"2024-02-05T08:00:00+07:00\"}", 201);
	wait_items("/api/v1/alerts", "alerts", 1, NULL);
	json_t *rows = wait_items("/api/v1/outbox?channel=chat", "outbox", 1, "dead");
	snprintf(id, sizeof(id), "%lld", (long long)api_int(rows, "0.id"));

	RUN(&r, API_BAOCAO, "--format", "json", "alerts", "list", "--unit", "vp", "--since",
	    "01/01/2024");
	j = json_loads(ok(&r), 0, NULL);
	cr_assert_eq(json_array_size(j), 1, "%s", r.out);
	api_t_expect_str(j, "0.item", "A-1");
	api_t_expect_str(j, "0.rule", "due");
	json_decref(j);
	ctl_result_free(&r);
	RUN(&r, API_BAOCAO, "alerts", "list", "--unacknowledged");
	cr_assert(strstr(ok(&r), "Hồ sơ  A-1"), "%s", r.out);
	ctl_result_free(&r);
	/* "today" and "yesterday" (hôm nay, hôm qua) are days of --now: 00:00 of them. */
	RUN(&r, API_BAOCAO, "--format", "json", "alerts", "list", "--since", "hôm qua");
	j = json_loads(ok(&r), 0, NULL);
	cr_assert_eq(json_array_size(j), 1, "%s", r.out);
	json_decref(j);
	ctl_result_free(&r);
	char later[40];
	api_format_instant(later, sizeof(later), (int64_t)time(NULL) + 2 * 86400);
	RUN(&r, API_BAOCAO, "--now", later, "--format", "json", "alerts", "list", "--since",
	    "today");
	cr_assert_str_eq(ok(&r), "[]\n");
	ctl_result_free(&r);
	RUN(&r, API_BAOCAO, "cases", "show", "A-1");
	cr_assert(strstr(ok(&r), "Cảnh báo (1):\n"), "%s", r.out);
	ctl_result_free(&r);
	/* A narrow terminal cuts neither ids nor the rule, the unit and the times. */
	expect_keys_whole(API_BAOCAO, 40, ARGS("alerts", "list"),
			  ARGS("ID", "Đối tượng", "Quy tắc", "Đơn vị", "Hạn", "Lúc báo"));
	RUN(&r, API_MOTCUA, "alerts", "ack", "1", "--note", "Đã nhắc cán bộ");
	cr_assert(strstr(ok(&r), "Đã xác nhận:  motcua "), "%s", r.out);
	cr_assert(strstr(r.out, "Ghi chú:      Đã nhắc cán bộ\n"), "%s", r.out);
	ctl_result_free(&r);
	RUN(&r, API_MOTCUA, "alerts", "ack", "1");
	expect_fail(&r, 1, "dunghanctl: 409 conflict: the alert was already acknowledged");
	RUN(&r, API_MOTCUA, "alerts", "ack", "99");
	expect_fail(&r, 1, "dunghanctl: 404 not_found");
	RUN(&r, API_BAOCAO, "alerts", "list", "--unit", "nowhere");
	expect_fail(&r, 1, "dunghanctl: 422 unknown_reference (unit)");
	/* The outbox: admin only. */
	RUN(&r, API_ADMIN, "--format", "json", "outbox", "list", "--status", "dead");
	j = json_loads(ok(&r), 0, NULL);
	cr_assert_eq(json_array_size(j), 1, "%s", r.out);
	api_t_expect_str(j, "0.channel", "chat");
	json_decref(j);
	ctl_result_free(&r);
	RUN(&r, API_ADMIN, "outbox", "list");
	cr_assert(strstr(ok(&r), "Gửi hỏng"), "%s", r.out);
	ctl_result_free(&r);
	expect_keys_whole(API_ADMIN, 40, ARGS("outbox", "list"),
			  ARGS("ID", "Người nhận", "Gửi lại lúc"));
	RUN(&r, API_MOTCUA, "outbox", "list");
	expect_fail(&r, 1, "dunghanctl: 403 forbidden");
	RUN(&r, API_ADMIN, "outbox", "retry", id);
	cr_assert(strstr(ok(&r), ": Chờ gửi\n"), "%s", r.out);
	ctl_result_free(&r);
	RUN(&r, API_ADMIN, "outbox", "retry", "999");
	expect_fail(&r, 1, "dunghanctl: 404 not_found: no dead outbox row has id 999");
	RUN(&r, API_ADMIN, "outbox", "list", "--status", "lost");
	expect_fail(&r, 1, "dunghanctl: 400 invalid_query (status)");
	/* --db reads alerts, not the outbox. */
	char *off[] = { (char *)harness_dunghanctl(), "-c", t.f.conf, "--db", t.f.db, "outbox",
			"list", NULL };
	ctl_run_argv(t.f.h.dir, off, NULL, 0, &r);
	expect_fail(&r, 2, "\"outbox list\" needs the daemon");
}

/* --- kpi and budget ------------------------------------------------------------------------ */

Test(ctl, kpi_and_budget)
{
	struct ctl_result r;
	json_t *j;

	api_t_start(&t, NULL);
	seed_cases();
	/* A third finished case, early: 2 of 3 on time. */
	api_t_req(&t, "POST", "/api/v1/cases", API_MOTCUA,
		  "{\"code\":\"000.00.21.H19-240304-0005\",\"procedure\":\"1.004873\","
		  "\"unit\":\"ttphvhcc\",\"received_at\":\"2024-03-04T08:00:00+07:00\"}", 201);
	api_t_req(&t, "POST", "/api/v1/cases/000.00.21.H19-240304-0005/events", API_MOTCUA,
		  "{\"type\":\"complete\",\"at\":\"2024-03-04T10:00:00+07:00\"}", 201);
	RUN(&r, API_BAOCAO, "--format", "json", "kpi", "--unit", "ubnd-tinh", "--period", "2024");
	j = json_loads(ok(&r), 0, NULL);
	cr_assert_not_null(j, "%s", r.out);
	api_t_expect_str(j, "period.label", "2024");
	json_decref(j);
	/* The API's figures as it prints them: 66.7, not 66.700000000000003. */
	cr_assert(strstr(r.out, "\"on_time\": 66.7,"), "%s", r.out);
	cr_assert_null(strstr(r.out, "0000000"), "%s", r.out);
	cr_assert_null(strstr(r.out, "9999999"), "%s", r.out);
	ctl_result_free(&r);
	RUN(&r, API_BAOCAO, "kpi", "--period", "2024", "--basis", "finished");
	cr_assert(strstr(ok(&r), "Kỳ 2024 (01/01/2024–31/12/2024), cách tính finished\n"), "%s",
		  r.out);
	cr_assert(strstr(r.out, "Đúng hạn %"), "%s", r.out);
	cr_assert(strstr(r.out, "\nTổng "), "%s", r.out);
	ctl_result_free(&r);
	RUN(&r, API_BAOCAO, "--format", "csv", "kpi", "--period", "2024");
	cr_assert(!strncmp(ok(&r), "\xef\xbb\xbf", 3), "%.40s", r.out);
	cr_assert(strstr(r.out, "\r\n"), "%s", r.out);
	ctl_result_free(&r);
	RUN(&r, API_BAOCAO, "kpi", "--period", "2024-Q5");
	expect_fail(&r, 1, "dunghanctl: 400 invalid_query (period)");
	RUN(&r, API_BAOCAO, "--format", "json", "budget", "--year", "2024");
	j = json_loads(ok(&r), 0, NULL);
	cr_assert_not_null(j, "%s", r.out);
	api_t_expect_int(j, "year", 2024);
	cr_assert(json_array_size(json_object_get(j, "units")) > 0, "%s", r.out);
	json_decref(j);
	ctl_result_free(&r);
	RUN(&r, API_BAOCAO, "budget", "--year", "2024");
	cr_assert(strstr(ok(&r), "Quỹ trễ hạn năm 2024\n"), "%s", r.out);
	ctl_result_free(&r);
	/* CSV for a spreadsheet: names without the table's indent, no data an empty cell. */
	RUN(&r, API_BAOCAO, "--format", "csv", "budget", "--year", "2024");
	cr_assert(strstr(ok(&r), "\r\nVăn phòng UBND tỉnh,vp,,"), "%s", r.out);
	cr_assert_null(strstr(r.out, "—"), "%s", r.out);
	cr_assert_null(strstr(r.out, ", "), "%s", r.out);
	ctl_result_free(&r);
	RUN(&r, API_BAOCAO, "budget", "--year", "24");
	expect_fail(&r, 2, "--year \"24\" is not a whole number from 1970 to 9999");
	RUN(&r, API_BAOCAO, "budget", "--unit", "nowhere");
	expect_fail(&r, 1, "dunghanctl: 422 unknown_reference (unit)");
}

/* --- backup ------------------------------------------------------------------------------ */

/* The copy of a copy: the number of cases in the database file at path (read-only). */
static int64_t cases_in(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t n = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM cases) * "
			       "(SELECT integrity_check = 'ok' FROM pragma_integrity_check)",
			       -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

Test(ctl, backup_through_the_daemon_and_offline)
{
	struct ctl_result r;
	char copy[600], copy2[600], server_copy[600];
	json_t *j;

	api_t_start(&t, NULL);
	seed_cases();
	snprintf(copy, sizeof(copy), "%s/copy.db", t.f.h.dir);
	/* Through the daemon: its copy in backups/ beside the database, copied on to FILE. */
	RUN(&r, API_ADMIN, "--format", "json", "backup", copy);
	j = json_loads(ok(&r), 0, NULL);
	cr_assert_not_null(j, "%s", r.out);
	api_t_expect_str(j, "file", copy);
	cr_assert_gt(api_int(j, "bytes"), 0);
	json_decref(j);
	ctl_result_free(&r);
	cr_assert_eq(cases_in(copy), 4, "the copy holds the 4 cases and is sound");
	/* Without FILE it names the daemon's copy. */
	RUN(&r, API_ADMIN, "backup");
	cr_assert(strstr(ok(&r), "Đã sao lưu vào ") && strstr(r.out, "/backups/dunghan-"), "%s",
		  r.out);
	snprintf(server_copy, sizeof(server_copy), "%.*s",
		 (int)strcspn(strstr(r.out, "vào ") + strlen("vào "), " "), strstr(r.out, "vào ") +
		 strlen("vào "));
	ctl_result_free(&r);
	cr_assert_eq(cases_in(server_copy), 4, "%s", server_copy);
	/* A read token may not back up; an existing FILE is not overwritten. */
	RUN(&r, API_BAOCAO, "backup");
	expect_fail(&r, 1, "403");
	RUN(&r, API_ADMIN, "backup", copy);
	expect_fail(&r, 1, "cannot copy");
	api_t_stop(&t);
	/* Offline, straight from the file, without the configuration (none is read: there may be
	 * no /etc/dunghan/dunghan.conf on the machine the copy is made on); FILE is required. */
	snprintf(copy2, sizeof(copy2), "%s/copy2.db", t.f.h.dir);
	char *off[] = { (char *)harness_dunghanctl(), "-c", "/nonexistent/dunghan.conf", "--db",
			t.f.db, "backup", copy2, NULL };
	ctl_run_argv(t.f.h.dir, off, NULL, 0, &r);
	cr_assert(strstr(ok(&r), copy2), "%s", r.out);
	ctl_result_free(&r);
	cr_assert_eq(cases_in(copy2), 4);
	char *nofile[] = { (char *)harness_dunghanctl(), "-c", t.f.conf, "--db", t.f.db, "backup",
			   NULL };
	ctl_run_argv(t.f.h.dir, nofile, NULL, 0, &r);
	expect_fail(&r, 2, "needs FILE");
}
