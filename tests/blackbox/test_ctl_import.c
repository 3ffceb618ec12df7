/* dunghanctl import against the real dunghand: a 100 000-row CSV with memory that does not grow
 * with the file (the child's peak RSS, 10 000 against 100 000 rows), all or nothing across
 * chunks, the atomic pass stopping at a refused chunk while the next is already handed to the
 * sender, failures across chunks reported in file order, a dry run that changes nothing, --continue-on-error and its rejected-rows file,
 * idempotent re-imports, the one-stop system's CSV dialects (BOM, ';', quoted commas and line
 * breaks, dd/mm/yyyy), NDJSON, a mapping file, line-numbered errors for bad encodings and cut
 * files, and the progress bar on a terminal. */
#include <criterion/criterion.h>
#include <sys/stat.h>

#include "api_fixture.h"
#include "test_ctl_run.h"

#define HEADER "Mã hồ sơ,Thủ tục,Đơn vị,Người nộp,Ngày tiếp nhận,Ngày hẹn trả\r\n"

static struct api_t t;

static void setup(void)
{
	api_t_start(&t, NULL);
}

static void teardown(void)
{
	api_t_teardown(&t);
}

TestSuite(ctl_import, .init = setup, .fini = teardown, .timeout = 300);

/* Runs dunghanctl ... args with the one-stop system's token, on a terminal cols wide (0: files),
 * with env added. */
static void run_env(struct ctl_result *r, int cols, const char *const *env,
		    const char *const *args)
{
	char url[64];
	char *argv[48];
	static const char token[] = "DUNGHAN_TOKEN=" API_MOTCUA;
	const char *e[12] = { token, "NO_COLOR", "COLUMNS" };
	size_t n = 0, k = 3;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", t.f.port);
	argv[n++] = (char *)harness_dunghanctl();
	argv[n++] = "-c";
	argv[n++] = t.f.conf;
	argv[n++] = "--url";
	argv[n++] = url;
	for (size_t i = 0; args[i] && n < 47; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	for (size_t i = 0; env && env[i] && k < 11; i++)
		e[k++] = env[i];
	e[k] = NULL;
	ctl_run_argv(t.f.h.dir, argv, e, cols, r);
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define RUN(r, ...) run_env(r, 0, NULL, ARGS(__VA_ARGS__))

static const char *ok(struct ctl_result *r)
{
	cr_assert_eq(r->status, 0, "exit %d\nstdout: %s\nstderr: %.2000s", r->status, r->out,
		     r->err);
	return r->out;
}

static void expect_status(struct ctl_result *r, int status)
{
	cr_assert_eq(r->status, status, "exit %d, expected %d\nstdout: %s\nstderr: %.2000s",
		     r->status, status, r->out, r->err);
}

static void expect_err(struct ctl_result *r, const char *message)
{
	cr_assert(strstr(r->err, message), "expected \"%s\" in stderr: %.3000s", message, r->err);
}

/* Writes text to name in the test's directory; returns its path (static buffer per slot). */
static const char *put(const char *name, const char *text)
{
	static char paths[4][600];
	static int slot;
	char *p = paths[slot++ % 4];

	cr_assert_eq(harness_write(&t.f.h, name, text), 0);
	return harness_path(&t.f.h, name, p, 600);
}

/* A CSV of n good rows, codes G<prefix>-00000.., written line by line (the big ones never sit in
 * memory). bad_line > 0: that physical line (the header is line 1) names unit "nowhere". */
static const char *generate(const char *name, const char *prefix, long n, long bad_line)
{
	static char path[600];
	FILE *fp;

	harness_path(&t.f.h, name, path, sizeof(path));
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs(HEADER, fp);
	for (long i = 0; i < n; i++)
		fprintf(fp, "%s-%06ld,1.004222,%s,Nguyễn Văn %ld,01/03/2024 08:00,\r\n", prefix, i,
			i + 2 == bad_line ? "nowhere" : "hctc", i);
	cr_assert_eq(fclose(fp), 0);
	return path;
}

static int64_t cases_count(void)
{
	struct err e;
	int64_t n = api_db_int(&t.f, "SELECT count(*) FROM cases", &e);

	cr_assert_geq(n, 0, "%s", e.msg);
	return n;
}

/* The summary's JSON (dunghanctl --format json import ...). */
static json_t *summary(struct ctl_result *r)
{
	json_t *j = json_loads(r->out, 0, NULL);

	cr_assert_not_null(j, "not JSON: %s", r->out);
	return api_t_keep(&t, j);
}

Test(ctl_import, memory_does_not_grow_with_the_file)
{
	/* ASan keeps freed memory in a quarantine that would count: none for this child. */
	char asan[1200];
	const char *base = getenv("ASAN_OPTIONS");
	struct ctl_result r;
	long small_rss, big_rss;

	snprintf(asan, sizeof(asan), "ASAN_OPTIONS=%s%squarantine_size_mb=0", base ? base : "",
		 base && *base ? ":" : "");
	const char *small = strdup(generate("small.csv", "S", 10000, 0));
	run_env(&r, 0, ARGS(asan), ARGS("--format", "json", "import", small, "--continue-on-error"));
	ok(&r);
	api_t_expect_int(summary(&r), "created", 10000);
	small_rss = r.max_rss_kb;
	ctl_result_free(&r);
	const char *big = generate("big.csv", "B", 100000, 0);
	struct stat st;
	cr_assert_eq(stat(big, &st), 0);
	run_env(&r, 0, ARGS(asan), ARGS("--format", "json", "import", big, "--continue-on-error"));
	ok(&r);
	api_t_expect_int(summary(&r), "created", 100000);
	api_t_expect_int(summary(&r), "failed", 0);
	big_rss = r.max_rss_kb;
	ctl_result_free(&r);
	cr_assert_eq(cases_count(), 110000);
	/* The big file is ~9 MB more than the small one; the client's memory may not follow it. */
	cr_assert_lt(big_rss - small_rss, 3 * 1024,
		     "peak RSS %ld kB for 10 000 rows, %ld kB for 100 000 (%lld bytes)", small_rss,
		     big_rss, (long long)st.st_size);
	free((char *)small);
	cr_log_info("peak RSS: %ld kB for 10 000 rows, %ld kB for 100 000", small_rss, big_rss);
}

Test(ctl_import, all_or_nothing_across_chunks)
{
	struct api_db_state before;
	struct ctl_result r;
	/* 6 000 rows: two chunks; line 5 500 names a unit that does not exist. */
	const char *path = generate("two.csv", "T", 6000, 5500);
	char line[64];

	api_t_state(&t, &before);
	RUN(&r, "--format", "json", "import", path);
	expect_status(&r, 1);
	snprintf(line, sizeof(line), "two.csv:5500: 422 unknown_reference (unit)");
	expect_err(&r, line);
	json_t *s = summary(&r);
	api_t_expect_int(s, "failed", 1);
	api_t_expect_int(s, "imported", 0);
	ctl_result_free(&r);
	api_t_unchanged(&t, &before);
	cr_assert_eq(cases_count(), 0);
	/* Fixed, the same file goes in whole. */
	path = generate("two.csv", "T", 6000, 0);
	RUN(&r, "import", path);
	cr_assert(strstr(ok(&r), "Tạo mới:   6000\n"), "%s", r.out);
	cr_assert(strstr(r.out, "Kết quả:   đã nhập\n"), "%s", r.out);
	ctl_result_free(&r);
	cr_assert_eq(cases_count(), 6000);
}

/* A CSV of n good rows like generate()'s (codes <prefix>-000000..), where physical line
 * same_line (> 1) takes the code of the row on line 2 with another applicant: the dry run,
 * chunk by chunk, cannot see it. */
static const char *generate_repeat(const char *name, const char *prefix, long n, long same_line)
{
	static char path[600];
	FILE *fp;

	harness_path(&t.f.h, name, path, sizeof(path));
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs(HEADER, fp);
	for (long i = 0; i < n; i++) {
		bool same = i + 2 == same_line;
		fprintf(fp, "%s-%06ld,1.004222,hctc,%s %ld,01/03/2024 08:00,\r\n", prefix,
			same ? 0 : i, same ? "Trần Thị" : "Nguyễn Văn", i);
	}
	cr_assert_eq(fclose(fp), 0);
	return path;
}

Test(ctl_import, atomic_pass_stops_at_a_failed_chunk_with_the_next_in_flight)
{
	struct ctl_result r;
	/* 5 000 rows, five chunks; line 1 502 (chunk 2) repeats line 2's code with other data. The
	 * dry run passes; the atomic pass imports chunk 1, chunk 2 is refused and rolled back while
	 * chunk 3 is already handed to the sender: it must not be sent, nor anything after it. */
	const char *path = generate_repeat("repeat.csv", "D", 5000, 1502);

	RUN(&r, "--format", "json", "import", path);
	expect_status(&r, 1);
	expect_err(&r, "repeat.csv:1502: 409 ");
	expect_err(&r, "the import stopped at a chunk with failed rows (1000 rows before it were "
		       "imported)");
	/* The summary says what was written before the stop (docs/cli.md, import). */
	json_t *stop = summary(&r);
	api_t_expect_int(stop, "rows", 5000);
	api_t_expect_int(stop, "created", 1000);
	api_t_expect_int(stop, "existing", 0);
	api_t_expect_int(stop, "failed", 1);
	api_t_expect_int(stop, "imported", 1000);
	api_t_expect_bool(stop, "stopped", true);
	api_t_expect_int(stop, "stopped_at_line", 1002);
	api_t_expect_bool(stop, "dry_run", false);
	ctl_result_free(&r);
	cr_assert_eq(cases_count(), 1000);
	struct err e;
	cr_assert_eq(api_db_int(&t.f, "SELECT count(*) FROM cases WHERE code > 'D-000999'", &e), 0);
	/* The dry run of a re-run sees the imported codes; fixed, the file goes in. */
	path = generate("repeat.csv", "D", 5000, 0);
	RUN(&r, "--format", "json", "import", path);
	ok(&r);
	json_t *s = summary(&r);
	api_t_expect_int(s, "created", 4000);
	api_t_expect_int(s, "existing", 1000);
	ctl_result_free(&r);
	cr_assert_eq(cases_count(), 5000);
}

Test(ctl_import, a_stopped_import_prints_its_summary_table)
{
	struct ctl_result r;
	char want[1200];
	/* 2 500 rows; line 1 502 (the second chunk) repeats line 2's code with other data: the
	 * first chunk stays, the summary says so (on stdout) and the error goes to stderr. */
	const char *path = generate_repeat("stop.csv", "E", 2500, 1502);

	RUN(&r, "import", path);
	expect_status(&r, 1);
	expect_err(&r, "stop.csv:1502: 409 conflict (code): ");
	snprintf(want, sizeof(want),
		 "Tệp:       %s\n"
		 "Số dòng:   2500\n"
		 "Tạo mới:   1000\n"
		 "Đã có:     0\n"
		 "Dòng lỗi:  1\n"
		 "Kết quả:   dừng ở dòng 1002: đã nhập 1000 dòng trước đó, từ dòng 1002 trở đi "
		 "không nhập\n", path);
	cr_assert_str_eq(r.out, want);
	ctl_result_free(&r);
	cr_assert_eq(cases_count(), 1000);
}

Test(ctl_import, the_summary_counts_what_was_written)
{
	struct ctl_result r;
	char want[1200];
	/* One chunk, two good rows and one the reader refuses: all or nothing imports none, and
	 * the summary may not say that two were created. */
	const char *path = put("bad2.csv", HEADER
			       "W-1,1.004222,hctc,An,01/03/2024 08:00,\r\n"
			       "W-2,1.004222,hctc,Bình,32/03/2024 08:00,\r\n"
			       "W-3,1.004222,hctc,Chi,01/03/2024 08:00,\r\n");

	RUN(&r, "import", path);
	expect_status(&r, 1);
	expect_err(&r, "bad2.csv:3: Ngày tiếp nhận: ");
	snprintf(want, sizeof(want),
		 "Tệp:       %s\n"
		 "Số dòng:   3\n"
		 "Tạo mới:   0\n"
		 "Đã có:     0\n"
		 "Dòng lỗi:  1\n"
		 "Kết quả:   có dòng lỗi: không nhập dòng nào\n", path);
	cr_assert_str_eq(r.out, want);
	ctl_result_free(&r);
	RUN(&r, "--format", "json", "import", path);
	expect_status(&r, 1);
	json_t *s = summary(&r);
	api_t_expect_int(s, "rows", 3);
	api_t_expect_int(s, "created", 0);
	api_t_expect_int(s, "existing", 0);
	api_t_expect_int(s, "failed", 1);
	api_t_expect_int(s, "imported", 0);
	api_t_expect_bool(s, "stopped", false);
	ctl_result_free(&r);
	cr_assert_eq(cases_count(), 0);
	/* Two chunks, a bad row in the second: the first pass's counts are not what was done. */
	path = generate("bad3.csv", "V", 1500, 1400);
	RUN(&r, "--format", "json", "import", path);
	expect_status(&r, 1);
	s = summary(&r);
	api_t_expect_int(s, "rows", 1500);
	api_t_expect_int(s, "created", 0);
	api_t_expect_int(s, "failed", 1);
	api_t_expect_int(s, "imported", 0);
	ctl_result_free(&r);
	cr_assert_eq(cases_count(), 0);
	/* A dry run says what would be created, and says it is a dry run. */
	RUN(&r, "import", path, "--dry-run");
	expect_status(&r, 1);
	snprintf(want, sizeof(want),
		 "Tệp:         %s\n"
		 "Số dòng:     1500\n"
		 "Sẽ tạo mới:  1499\n"
		 "Đã có:       0\n"
		 "Dòng lỗi:    1\n"
		 "Kết quả:     chạy thử: có dòng lỗi, không thay đổi gì\n", path);
	cr_assert_str_eq(r.out, want);
	ctl_result_free(&r);
	cr_assert_eq(cases_count(), 0);
}

Test(ctl_import, an_unwritable_rejected_file_refuses_before_sending)
{
	struct api_db_state before;
	struct ctl_result r;
	char tmp[700], dir[700], want[1600];
	const char *path = put("ro.csv", HEADER
			       "Y-1,1.004222,hctc,An,01/03/2024 08:00,\r\n"
			       "Y-2,1.004222,hctc,Bình,32/03/2024 08:00,\r\n"
			       "Y-3,1.004222,nowhere,Chi,01/03/2024 08:00,\r\n");

	/* The tests run as root in CI, where a folder of mode 0555 (or chattr +i) would not stop
	 * the writing: a directory where the temporary file goes cannot be opened for writing by
	 * anyone (EISDIR), so the rejected rows' file cannot be created, root or not. */
	snprintf(tmp, sizeof(tmp), "%s.rejected.csv.tmp", path);
	cr_assert_eq(mkdir(tmp, 0700), 0, "%s", tmp);
	api_t_state(&t, &before);
	RUN(&r, "import", path, "--continue-on-error");
	expect_status(&r, 1);
	snprintf(want, sizeof(want), "dunghanctl: cannot write %s: Is a directory\n", tmp);
	cr_assert_str_eq(r.err, want);
	cr_assert_str_eq(r.out, "");
	ctl_result_free(&r);
	api_t_unchanged(&t, &before);
	cr_assert_eq(cases_count(), 0);
	cr_assert_eq(rmdir(tmp), 0);
	/* The rejected file itself a directory: the rename at the end would fail, so the same. */
	snprintf(dir, sizeof(dir), "%s.rejected.csv", path);
	cr_assert_eq(mkdir(dir, 0700), 0, "%s", dir);
	RUN(&r, "--format", "json", "import", path, "--continue-on-error");
	expect_status(&r, 1);
	snprintf(want, sizeof(want), "dunghanctl: cannot write %s: Is a directory\n", dir);
	cr_assert_str_eq(r.err, want);
	cr_assert_str_eq(r.out, "");
	ctl_result_free(&r);
	api_t_unchanged(&t, &before);
	cr_assert_eq(rmdir(dir), 0);
	struct stat st;
	cr_assert_neq(stat(tmp, &st), 0, "%s was left behind", tmp);
	/* Writable again: the good row goes in, the two others to the file. */
	RUN(&r, "--format", "json", "import", path, "--continue-on-error");
	expect_status(&r, 1);
	api_t_expect_int(summary(&r), "created", 1);
	api_t_expect_int(summary(&r), "failed", 2);
	ctl_result_free(&r);
	char *text = harness_read(dir);
	cr_assert_not_null(text);
	cr_assert(strstr(text, "\"dòng 3: ") && strstr(text, "\"dòng 4: "), "%s", text);
	free(text);
}

Test(ctl_import, ragged_rows_keep_their_error_in_the_last_column)
{
	struct ctl_result r;
	char rejected[700];
	/* A 7-column header; a row of 5 fields, one of 8, one of 2 that ends inside a quote (the
	 * file's end), a good one. */
	const char *path = put("ragged.csv",
			       "Mã hồ sơ;Thủ tục;Đơn vị;Người nộp;Ngày tiếp nhận;Ngày hẹn trả;Ghi chú\r\n"
			       "Z-1;1.004222;hctc;An;01/03/2024 08:00\r\n"
			       "Z-2;1.004222;hctc;Bình;01/03/2024 08:00;;x;thừa\r\n"
			       "Z-3;1.004222;hctc;Chi;01/03/2024 08:00;;\r\n"
			       "Z-4;\"1.004222\r\n");

	RUN(&r, "import", path, "--continue-on-error");
	expect_status(&r, 1);
	ctl_result_free(&r);
	cr_assert_eq(cases_count(), 1);
	snprintf(rejected, sizeof(rejected), "%s.rejected.csv", path);
	char *text = harness_read(rejected);
	cr_assert_not_null(text);
	/* Short rows padded with empty fields up to the header's 7, so that the error is under
	 * "Lỗi"; a long row keeps its fields, the error after them; an open quote is closed. */
	cr_assert_str_eq(text, "\xef\xbb\xbf"
			 "Mã hồ sơ;Thủ tục;Đơn vị;Người nộp;Ngày tiếp nhận;Ngày hẹn trả;Ghi chú;"
			 "\"Lỗi\"\r\n"
			 "Z-1;1.004222;hctc;An;01/03/2024 08:00;;;\"dòng 2: 5 fields, the header has "
			 "7\"\r\n"
			 "Z-2;1.004222;hctc;Bình;01/03/2024 08:00;;x;thừa;\"dòng 3: 8 fields, the "
			 "header has 7\"\r\n"
			 "Z-4;\"1.004222\r\n\";;;;;;\"dòng 5: field 2 (Thủ tục): quoted field not "
			 "closed before the end of the input\"\r\n");
	free(text);
}

Test(ctl_import, failures_across_chunks_come_in_file_order)
{
	struct ctl_result r;
	char rejected[700];
	char *text;
	/* 3 000 rows: a date the reader refuses on lines 10 and 2 500, a unit the daemon refuses on
	 * lines 5 and 2 400; chunks are answered while later rows are read, yet the messages and
	 * the rejected file follow the file. */
	char path[600];
	FILE *fp;

	harness_path(&t.f.h, "order.csv", path, sizeof(path));
	cr_assert_not_null(fp = fopen(path, "w"));
	fputs(HEADER, fp);
	for (long line = 2; line < 3002; line++)
		fprintf(fp, "O-%06ld,1.004222,%s,Nguyễn Văn %ld,%s/03/2024 08:00,\r\n", line,
			line == 5 || line == 2400 ? "nowhere" : "hctc", line,
			line == 10 || line == 2500 ? "41" : "01");
	cr_assert_eq(fclose(fp), 0);
	RUN(&r, "--format", "json", "import", path, "--continue-on-error");
	expect_status(&r, 1);
	json_t *s = summary(&r);
	api_t_expect_int(s, "created", 2996);
	api_t_expect_int(s, "failed", 4);
	const char *l5 = strstr(r.err, "order.csv:5: 422"), *l10 = strstr(r.err, "order.csv:10: ");
	const char *l2400 = strstr(r.err, "order.csv:2400: 422");
	const char *l2500 = strstr(r.err, "order.csv:2500: ");
	cr_assert(l5 && l10 && l2400 && l2500 && l5 < l10 && l10 < l2400 && l2400 < l2500, "%s",
		  r.err);
	ctl_result_free(&r);
	snprintf(rejected, sizeof(rejected), "%s.rejected.csv", path);
	text = harness_read(rejected);
	cr_assert_not_null(text);
	l5 = strstr(text, "\"dòng 5: ");
	l10 = strstr(text, "\"dòng 10: ");
	l2400 = strstr(text, "\"dòng 2400: ");
	l2500 = strstr(text, "\"dòng 2500: ");
	cr_assert(l5 && l10 && l2400 && l2500 && l5 < l10 && l10 < l2400 && l2400 < l2500, "%s",
		  text);
	free(text);
	cr_assert_eq(cases_count(), 2996);
}

Test(ctl_import, a_chunk_of_only_bad_rows)
{
	struct ctl_result r;
	char path[600], rejected[700];
	FILE *fp;
	/* 1 200 rows the reader refuses (more than a chunk holds), then 1 300 good ones: the
	 * chunks of refused rows go through the sender like the others, in order. */
	harness_path(&t.f.h, "bad.csv", path, sizeof(path));
	cr_assert_not_null(fp = fopen(path, "w"));
	fputs(HEADER, fp);
	for (long line = 2; line < 2502; line++)
		fprintf(fp, "X-%06ld,1.004222,hctc,Nguyễn Văn %ld,%s/03/2024 08:00,\r\n", line,
			line, line < 1202 ? "41" : "01");
	cr_assert_eq(fclose(fp), 0);
	RUN(&r, "--format", "json", "import", path);
	expect_status(&r, 1);
	json_t *s = summary(&r);
	api_t_expect_int(s, "failed", 1200);
	api_t_expect_int(s, "imported", 0);
	ctl_result_free(&r);
	cr_assert_eq(cases_count(), 0);
	RUN(&r, "--format", "json", "import", path, "--continue-on-error");
	expect_status(&r, 1);
	s = summary(&r);
	api_t_expect_int(s, "failed", 1200);
	api_t_expect_int(s, "created", 1300);
	const char *first = strstr(r.err, "bad.csv:2: "), *last = strstr(r.err, "bad.csv:1201: ");
	cr_assert(first && last && first < last, "%.2000s", r.err);
	ctl_result_free(&r);
	cr_assert_eq(cases_count(), 1300);
	snprintf(rejected, sizeof(rejected), "%s.rejected.csv", path);
	char *text = harness_read(rejected);
	cr_assert_not_null(text);
	size_t rows = 0;
	for (const char *p = text; (p = strstr(p, "\r\n")); p += 2)
		rows++;
	cr_assert_eq(rows, 1201, "header and 1 200 rows, got %zu lines", rows);
	cr_assert(strstr(text, "\"dòng 2: ") < strstr(text, "\"dòng 1201: "));
	free(text);
}

Test(ctl_import, one_chunk_is_one_atomic_request)
{
	struct ctl_result r;
	const char *path = put("three.csv", HEADER
			       "O-1,1.004222,hctc,A,01/03/2024 08:00,\r\n"
			       "O-2,9.999999,hctc,B,01/03/2024 08:00,\r\n"
			       "O-3,1.004222,hctc,C,01/03/2024 08:00,\r\n");

	RUN(&r, "import", path);
	expect_status(&r, 1);
	expect_err(&r, "three.csv:3: 422 unknown_reference (procedure)");
	cr_assert(strstr(r.out, "có dòng lỗi: không nhập dòng nào"), "%s", r.out);
	ctl_result_free(&r);
	cr_assert_eq(cases_count(), 0);
}

Test(ctl_import, dry_run_changes_nothing)
{
	struct api_db_state before;
	struct ctl_result r;
	const char *good = generate("good.csv", "D", 7000, 0);

	api_t_state(&t, &before);
	RUN(&r, "--format", "json", "import", good, "--dry-run");
	ok(&r);
	json_t *s = summary(&r);
	api_t_expect_int(s, "created", 7000);
	api_t_expect_bool(s, "dry_run", true);
	ctl_result_free(&r);
	/* Every error, with its line; still nothing changes. */
	const char *bad = put("bad.csv", HEADER
			      "D-1,1.004222,hctc,A,01/03/2024 08:00,\r\n"
			      "D-2,1.004222,hctc,B,31/02/2024 08:00,\r\n"
			      "D-3,1.004222,nowhere,C,01/03/2024 08:00,\r\n"
			      ",1.004222,hctc,D,01/03/2024 08:00,\r\n");
	RUN(&r, "import", bad, "--dry-run");
	expect_status(&r, 1);
	expect_err(&r, "bad.csv:3: ");
	expect_err(&r, "31/02/2024");
	expect_err(&r, "bad.csv:4: 422 unknown_reference (unit)");
	expect_err(&r, "bad.csv:5: ");
	/* What would be done, labelled so. */
	cr_assert(strstr(r.out, "Sẽ tạo mới:  1\n"), "%s", r.out);
	cr_assert(strstr(r.out, "Dòng lỗi:    3\n"), "%s", r.out);
	ctl_result_free(&r);
	api_t_unchanged(&t, &before);
}

Test(ctl_import, continue_on_error_writes_the_rejected_rows)
{
	struct ctl_result r;
	char rejected[700];
	const char *path = put("semi.csv", "\xef\xbb\xbf"
			       "Mã hồ sơ;Thủ tục;Đơn vị;Người nộp;Ngày tiếp nhận\r\n"
			       "K-1;1.004222;hctc;An;01/03/2024 08:00\r\n"
			       "K-2;1.004222;hctc;Bình;32/03/2024 08:00\r\n"
			       "K-3;1.004222;hctc;\"Công ty X; chi nhánh\";01/03/2024 08:00\r\n"
			       "K-4;1.004222;nowhere;Dũng;01/03/2024 08:00\r\n"
			       "K-5;1.004222;hctc;Em;01/03/2024\r\n");

	RUN(&r, "--format", "json", "import", path, "--continue-on-error");
	expect_status(&r, 1);
	json_t *s = summary(&r);
	api_t_expect_int(s, "created", 3);
	api_t_expect_int(s, "failed", 2);
	snprintf(rejected, sizeof(rejected), "%s.rejected.csv", path);
	api_t_expect_str(s, "rejected_file", rejected);
	ctl_result_free(&r);
	cr_assert_eq(cases_count(), 3);
	char *text = harness_read(rejected);
	cr_assert_not_null(text);
	/* The rows as they were, their error last, in file order (read, or refused by dunghand). */
	cr_assert_str_eq(text, "\xef\xbb\xbf"
			 "Mã hồ sơ;Thủ tục;Đơn vị;Người nộp;Ngày tiếp nhận;\"Lỗi\"\r\n"
			 "K-2;1.004222;hctc;Bình;32/03/2024 08:00;\"dòng 3: Ngày tiếp nhận: "
			 "\"\"32/03/2024 08:00\"\" is not a date and time (dd/mm/yyyy HH:MM, or RFC "
			 "3339 like 2024-02-19T08:00:00+07:00)\"\r\n"
			 "K-4;1.004222;nowhere;Dũng;01/03/2024 08:00;\"dòng 5: 422 "
			 "unknown_reference (unit): no unit has id \"\"nowhere\"\"\"\r\n");
	free(text);
	/* A run without bad rows takes the old file away. */
	const char *fixed = put("semi.csv", "Mã hồ sơ;Thủ tục;Đơn vị;Người nộp;Ngày tiếp nhận\r\n"
					    "K-2;1.004222;hctc;Bình;02/03/2024 08:00\r\n");
	RUN(&r, "import", fixed, "--continue-on-error");
	ok(&r);
	ctl_result_free(&r);
	struct stat st;
	cr_assert_neq(stat(rejected, &st), 0, "%s is still there", rejected);
}

Test(ctl_import, reimport_is_idempotent)
{
	struct ctl_result r;
	const char *path = generate("again.csv", "R", 1200, 0);

	RUN(&r, "--format", "json", "import", path);
	api_t_expect_int(summary(&r), "created", 1200);
	ok(&r);
	ctl_result_free(&r);
	RUN(&r, "--format", "json", "import", path);
	ok(&r);
	json_t *s = summary(&r);
	api_t_expect_int(s, "created", 0);
	api_t_expect_int(s, "existing", 1200);
	ctl_result_free(&r);
	cr_assert_eq(cases_count(), 1200);
}

Test(ctl_import, csv_dialects)
{
	struct ctl_result r;
	const char *path = put("motcua.csv", "\xef\xbb\xbf"
			       "Mã hồ sơ;Thủ tục;Đơn vị;Cán bộ xử lý;Người nộp;Ngày tiếp nhận;"
			       "Ngày hẹn trả;Ghi chú\r\n"
			       "M-1;1.004873;xa-tu-phap-tan-phu;binh.lt;\"Công ty \"\"An Phú\"\", "
			       "chi nhánh 2\nTầng 3; phòng 301\";07/02/2024 10:00;;xin nhanh\r\n"
			       "M-2;1.004222;hctc;;Trần Văn B;2024-02-07T10:00:00+07:00;"
			       "20/02/2024 16:30;\r\n");

	RUN(&r, "import", path);
	ok(&r);
	expect_err(&r, "warning: ");
	expect_err(&r, "Ghi chú");
	ctl_result_free(&r);
	json_t *c = api_t_req(&t, "GET", "/api/v1/cases/M-1", API_BAOCAO, NULL, 200);
	api_t_expect_str(c, "applicant", "Công ty \"An Phú\", chi nhánh 2\nTầng 3; phòng 301");
	api_t_expect_str(c, "received_at", "2024-02-07T10:00:00+07:00");
	/* An empty Ngày hẹn trả: computed, 3 working days across Tết. */
	api_t_expect_str(c, "due_at", "2024-02-19T10:00:00+07:00");
	api_t_expect_str(c, "handler", "binh.lt");
	c = api_t_req(&t, "GET", "/api/v1/cases/M-2", API_BAOCAO, NULL, 200);
	api_t_expect_str(c, "due_at", "2024-02-20T16:30:00+07:00");
	api_t_expect_bool(c, "due_given", true);
}

Test(ctl_import, ndjson_and_a_mapping_file)
{
	struct ctl_result r;
	const char *nd = put("cases.ndjson",
			     "{\"code\":\"N-1\",\"procedure\":\"1.004222\",\"unit\":\"hctc\","
			     "\"received_at\":\"2024-03-01T08:00:00+07:00\"}\n"
			     "{\"code\":\"N-2\",\"procedure\":\"1.004222\",\"unit\":\"kstt\","
			     "\"received_at\":\"2024-03-01T08:00:00+07:00\",\"online\":\"full\"}\n");

	RUN(&r, "import", nd);
	cr_assert(strstr(ok(&r), "Tạo mới:   2\n"), "%s", r.out);
	ctl_result_free(&r);
	const char *map = put("map.txt", "# the district's export\nSố hồ sơ = code\n"
					 "Mã TTHC = procedure\nPhòng = unit\nNgày nhận = received_at\n"
					 "Ghi chú = -\n");
	const char *csv = put("district.csv", "Số hồ sơ,Mã TTHC,Phòng,Ngày nhận,Ghi chú\n"
					      "H-1,1.004222,hctc,01/03/2024 09:00,x\n");
	RUN(&r, "import", csv, "--map", map);
	ok(&r);
	cr_assert_str_eq(r.err, "");
	ctl_result_free(&r);
	api_t_req(&t, "GET", "/api/v1/cases/H-1", API_BAOCAO, NULL, 200);
	/* --format forces a reader. */
	RUN(&r, "import", nd, "--format", "csv");
	expect_status(&r, 1);
	ctl_result_free(&r);
	const char *badmap = put("bad-map.txt", "Số hồ sơ = kode\n");
	RUN(&r, "import", csv, "--map", badmap);
	expect_status(&r, 1);
	expect_err(&r, "bad-map.txt:1:");
	ctl_result_free(&r);
}

Test(ctl_import, bad_encodings_and_cut_files_name_their_line)
{
	struct ctl_result r;
	const char *latin1 = put("latin1.csv", HEADER
				 "E-1,1.004222,hctc,An,01/03/2024 08:00,\r\n"
				 "E-2,1.004222,hctc,Nguy\xe9n,01/03/2024 08:00,\r\n");

	RUN(&r, "import", latin1);
	expect_status(&r, 1);
	expect_err(&r, "latin1.csv:3:");
	ctl_result_free(&r);
	const char *cut = put("cut.csv", HEADER
			      "C-1,1.004222,hctc,An,01/03/2024 08:00,\r\n"
			      "C-2,1.004222,hctc,\"Bình,01/03/2024 08:00,\r\n");
	RUN(&r, "import", cut);
	expect_status(&r, 1);
	expect_err(&r, "cut.csv:3:");
	ctl_result_free(&r);
	const char *nd = put("cut.ndjson", "{\"code\":\"C-3\",\"procedure\":\"1.004222\","
					   "\"unit\":\"hctc\"}\n{\"code\":\"C-4\",\"proc");
	RUN(&r, "import", nd);
	expect_status(&r, 1);
	expect_err(&r, "cut.ndjson:2:");
	ctl_result_free(&r);
	cr_assert_eq(cases_count(), 0);
}

Test(ctl_import, progress_bar_on_a_terminal_only)
{
	struct ctl_result r;
	const char *path = generate("bar.csv", "P", 6000, 0);

	run_env(&r, 100, NULL, ARGS("import", path));
	cr_assert(strstr(ok(&r), "\rKiểm tra ["), "%s", r.out);
	cr_assert(strstr(r.out, "\rNhập ["), "%s", r.out);
	cr_assert(strstr(r.out, " dòng/s"), "%s", r.out);
	cr_assert(strstr(r.out, "Tạo mới:   6000"), "%s", r.out);
	ctl_result_free(&r);
	path = generate("bar2.csv", "Q", 10, 0);
	RUN(&r, "import", path);
	ok(&r);
	cr_assert_str_eq(r.err, "");
	ctl_result_free(&r);
}

Test(ctl_import, usage_errors)
{
	struct ctl_result r;
	const char *path = generate("u.csv", "U", 2, 0);

	RUN(&r, "import", "/nonexistent.csv");
	expect_status(&r, 1);
	expect_err(&r, "cannot read /nonexistent.csv");
	ctl_result_free(&r);
	RUN(&r, "import", t.f.h.dir);
	expect_status(&r, 2);
	expect_err(&r, "is not a file");
	ctl_result_free(&r);
	RUN(&r, "import", path, "--format", "json");
	expect_status(&r, 2);
	expect_err(&r, "--format \"json\" is not csv or ndjson");
	ctl_result_free(&r);
	RUN(&r, "import");
	expect_status(&r, 2);
	expect_err(&r, "\"import\" expects FILE");
	ctl_result_free(&r);
	RUN(&r, "import", path, "--map", "/nonexistent.map");
	expect_status(&r, 1);
	expect_err(&r, "/nonexistent.map");
	ctl_result_free(&r);
	const char *nocode = put("nocode.csv", "Thủ tục,Đơn vị,Ngày tiếp nhận\r\n1.004222,hctc,"
					       "01/03/2024 08:00\r\n");
	RUN(&r, "import", nocode);
	expect_status(&r, 1);
	expect_err(&r, "Mã hồ sơ");
	ctl_result_free(&r);
	cr_assert_eq(cases_count(), 0);
}
