/* The drop folder against the real dunghand (docs/import.md, "The drop folder"): a good export
 * ends in done/ with its cases created by "spool"; a bad one in failed/ with every error and its
 * line, and no case; a file written slowly is imported once, whole; a .part file only once it is
 * renamed; a file left in processing/ by a stop is imported at the next start. Every wait is a
 * bounded poll on the file appearing where it should. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api_fixture.h"

static struct api_t t;
static char spool[64];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

/* Starts dunghand on a new drop folder with the given settle time. */
static void start(const char *settle)
{
	char extra[300];
	struct api_options o = { .extra = extra };

	strcpy(spool, "/tmp/dunghan-spool-XXXXXX");
	cr_assert_not_null(mkdtemp(spool));
	snprintf(extra, sizeof(extra),
		 "import: { spool_dir = \"%s\"; settle = \"%s\"; scan_interval = \"1s\"; };", spool,
		 settle);
	api_t_start(&t, &o);
}

static void teardown(void)
{
	api_t_teardown(&t);
	if (spool[0])
		nftw(spool, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	spool[0] = '\0';
}

TestSuite(spool, .fini = teardown, .timeout = 120);

static const char *in_spool(const char *name, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s", spool, name);
	return buf;
}

/* Writes spool/name whole, as an export that is renamed into place: a test descheduled between
 * open and write on a busy machine must not hand the daemon an empty file that has "settled".
 * (slowly_written_file_is_imported_once_whole writes in place on purpose.) */
static void write_file(const char *name, const char *text)
{
	char path[200], tmp[220];
	FILE *f;

	in_spool(name, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	cr_assert_not_null(f, "%s", tmp);
	cr_assert_eq(fputs(text, f) >= 0, true);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(rename(tmp, path), 0, "%s", path);
}

/* Waits (bounded) until spool/name exists. */
static void wait_for(const char *name)
{
	char path[200];
	struct stat st;

	in_spool(name, path, sizeof(path));
	for (int waited = 0; stat(path, &st) != 0; waited += 20) {
		if (waited > API_BOUND_MS) {
			char *log = api_fixture_log(&t.f);
			cr_assert_fail("%s did not appear within %d ms; the daemon's log:\n%s", path,
				       API_BOUND_MS, log);
		}
		api_sleep_ms(20);
	}
}

/* Waits (bounded) until the daemon's log holds line (the log line of a file is written just
 * after the file is moved). */
static void wait_log(const char *line)
{
	for (int waited = 0;; waited += 20) {
		char *log = api_fixture_log(&t.f);
		bool found = strstr(log, line) != NULL;
		if (!found && waited > API_BOUND_MS)
			cr_assert_fail("\"%s\" not in the daemon's log within %d ms:\n%s", line,
				       API_BOUND_MS, log);
		free(log);
		if (found)
			return;
		api_sleep_ms(20);
	}
}

static bool exists(const char *name)
{
	char path[200];
	struct stat st;

	return stat(in_spool(name, path, sizeof(path)), &st) == 0;
}

static char *read_spool(const char *name)
{
	char path[200];
	char *text = harness_read(in_spool(name, path, sizeof(path)));

	cr_assert_not_null(text, "cannot read %s", path);
	return text;
}

static json_t *get_case(const char *code, int status)
{
	char path[200];

	snprintf(path, sizeof(path), "/api/v1/cases/%s", code);
	return api_t_req(&t, "GET", path, API_BAOCAO, NULL, status);
}

static const char header[] =
	"Mã hồ sơ;Thủ tục;Đơn vị;Ngày tiếp nhận;Ngày hẹn trả;Người nộp;Hình thức nộp\n";

Test(spool, good_file_is_imported_and_moved_to_done)
{
	static const char text[] =
		"\xEF\xBB\xBF" "Mã hồ sơ;Thủ tục;Đơn vị;Ngày tiếp nhận;Ngày hẹn trả;Người nộp;"
		"Hình thức nộp\r\n"
		"SP-1;1.004873;kstt;07/02/2024 10:00;;\"Nguyễn Văn An; Tân Phú\";Trực tuyến toàn trình\r\n"
		"SP-2;1.004873;hctc;07/02/2024 14:00;20/02/2024 08:00;Lê Thị Bình;Trực tiếp\r\n";
	char *copy;
	json_t *j;

	start("0.3s");
	write_file("good.csv", text);
	wait_for("done/good.csv");
	cr_assert(!exists("good.csv") && !exists("processing/good.csv"));
	cr_assert(!exists("done/good.csv.errors.txt"));
	copy = read_spool("done/good.csv");
	cr_assert_str_eq(copy, text);
	free(copy);

	/* 3 working days from Wed 7/2 10:00 across Tết: Mon 19/2 10:00 (test_api_cases). */
	j = get_case("SP-1", 200);
	api_t_expect_str(j, "due_at", "2024-02-19T10:00:00+07:00");
	api_t_expect_str(j, "applicant", "Nguyễn Văn An; Tân Phú");
	api_t_expect_str(j, "online", "full");
	api_t_expect_str(j, "received_at", "2024-02-07T10:00:00+07:00");
	j = get_case("SP-2", 200);
	api_t_expect_str(j, "due_at", "2024-02-20T08:00:00+07:00");
	api_t_expect_bool(j, "due_given", true);
	j = api_t_req(&t, "GET", "/api/v1/cases/SP-1/events", API_BAOCAO, NULL, 200);
	api_t_expect_str(j, "events.0.type", "create");
	api_t_expect_str(j, "events.0.actor", "spool");

	/* The same file again (another name): idempotent, the cases are there already. */
	write_file("again.csv", text);
	wait_for("done/again.csv");
	api_t_expect_str(get_case("SP-2", 200), "unit", "hctc");
	api_t_stop(&t);
}

Test(spool, bad_file_goes_to_failed_with_every_error)
{
	char text[1024], *errors;
	struct api_db_state before;

	start("0.3s");
	snprintf(text, sizeof(text), "%s%s", header,
		 "BAD-1;1.004873;kstt;07/02/2024 10:00;;An;\n"
		 "BAD-2;1.004873;kstt;32/01/2024 08:00;;Bình;\n"
		 "BAD-3;1.004873;khong-co;07/02/2024 10:00;;Chi;\n"
		 "BAD-4;1.004873;kstt;07/02/2024 10:00;;Dũng;qua mạng\n"
		 "BAD-5;1.004873;kstt;07/02/2024 10:00;;\"Em\n");
	api_t_state(&t, &before);
	write_file("bad.csv", text);
	wait_for("failed/bad.csv.errors.txt");
	wait_for("failed/bad.csv");
	errors = read_spool("failed/bad.csv.errors.txt");
	cr_assert_str_eq(errors,
			 "line 3: Ngày tiếp nhận: \"32/01/2024 08:00\" is not a date and time "
			 "(dd/mm/yyyy HH:MM, or RFC 3339 like 2024-02-19T08:00:00+07:00)\n"
			 "line 4: no unit has id \"khong-co\" (unknown_reference, field unit)\n"
			 "line 5: Hình thức nộp: \"qua mạng\" is not one of Trực tiếp, Trực tuyến một "
			 "phần, Trực tuyến toàn trình (or none, partial, full)\n"
			 "line 6: field 6 (Người nộp): quoted field not closed before the end of the "
			 "input\n"
			 "nothing was imported: every row must be good (4 errors above)\n");
	free(errors);
	/* The log counts the same four (not the last line). */
	char line[300];
	snprintf(line, sizeof(line), "spool: bad.csv not imported (4 errors): see %s/failed/"
		 "bad.csv.errors.txt\n", spool);
	wait_log(line);
	cr_assert(!exists("bad.csv") && !exists("processing/bad.csv"));
	cr_assert(!exists("processing/bad.csv.errors.txt"));
	get_case("BAD-1", 404);
	api_t_unchanged(&t, &before);

	/* A file without a required column, and one dropped under the same name again. */
	write_file("bad.csv", "Mã hồ sơ;Thủ tục;Ngày tiếp nhận\nX;1.004873;07/02/2024\n");
	wait_for("failed/bad-2.csv.errors.txt");
	errors = read_spool("failed/bad-2.csv.errors.txt");
	cr_assert_str_eq(errors,
			 "line 1: no column for unit (a column \"Đơn vị\", or a mapping file line "
			 "\"Header = unit\")\n"
			 "nothing was imported: every row must be good (1 error above)\n");
	free(errors);
	snprintf(line, sizeof(line), "spool: bad.csv not imported (1 error): see %s/failed/"
		 "bad-2.csv.errors.txt\n", spool);
	wait_log(line);
	api_t_unchanged(&t, &before);
	api_t_stop(&t);
}

Test(spool, slowly_written_file_is_imported_once_whole)
{
	char path[200], *errors;
	FILE *f;

	/* Written in two halves 0.2 s apart: less than the settle time, so the half is never
	 * taken for the whole. */
	start("1s");
	f = fopen(in_spool("slow.csv", path, sizeof(path)), "w");
	cr_assert_not_null(f);
	fputs(header, f);
	fputs("SL-1;1.004873;kstt;07/02/2024 10:00;;An;\nSL-2;1.004873;kstt;07/02/2024 10:0", f);
	cr_assert_eq(fflush(f), 0);
	api_sleep_ms(200);
	fputs("0;;Bình;\nSL-3;1.004873;kstt;07/02/2024 11:00;;Chi;\n", f);
	cr_assert_eq(fclose(f), 0);
	wait_for("done/slow.csv");
	cr_assert(!exists("failed/slow.csv"), "imported half-written");
	errors = read_spool("done/slow.csv");
	cr_assert(strstr(errors, "SL-3;"));
	free(errors);
	api_t_expect_str(get_case("SL-2", 200), "received_at", "2024-02-07T10:00:00+07:00");
	get_case("SL-3", 200);
	api_t_stop(&t);
}

Test(spool, part_file_waits_until_renamed)
{
	char from[200], to[200];

	start("0.3s");
	write_file("late.csv.part", "Mã hồ sơ;Thủ tục;Đơn vị;Ngày tiếp nhận\n"
		   "PT-1;1.004873;kstt;07/02/2024 10:00\n");
	write_file(".hidden.csv", "not an export");
	/* A file dropped after them is imported: the folder was looked at with both in it. */
	write_file("first.ndjson", "{\"code\":\"PT-0\",\"procedure\":\"1.004873\",\"unit\":\"kstt\","
		   "\"received_at\":\"2024-02-07T10:00:00+07:00\"}\n");
	wait_for("done/first.ndjson");
	get_case("PT-0", 200);
	cr_assert(exists("late.csv.part") && exists(".hidden.csv"));
	get_case("PT-1", 404);
	cr_assert_eq(rename(in_spool("late.csv.part", from, sizeof(from)),
			    in_spool("late.csv", to, sizeof(to))), 0);
	wait_for("done/late.csv");
	get_case("PT-1", 200);
	cr_assert(exists(".hidden.csv"));
	api_t_stop(&t);
}

Test(spool, file_left_in_processing_is_imported_at_start)
{
	struct err e = { 0 };
	char *log;

	start("0.3s");
	/* One of its two cases exists already: a crash after the first chunk was committed. */
	api_t_reqf(&t, "POST", "/api/v1/cases", API_MOTCUA, 201,
		   "{\"code\":\"LO-1\",\"procedure\":\"1.004873\",\"unit\":\"kstt\","
		   "\"received_at\":\"2024-02-07T10:00:00+07:00\",\"applicant\":\"An\"}");
	api_t_stop(&t);
	write_file("processing/left.csv", "Mã hồ sơ;Thủ tục;Đơn vị;Ngày tiếp nhận;Người nộp\n"
		   "LO-1;1.004873;kstt;2024-02-07T10:00:00+07:00;An\n"
		   "LO-2;1.004873;kstt;07/02/2024 11:00;Bình\n");
	write_file("processing/left.csv.errors.txt", "a half-written list of a stopped run\n");
	cr_assert_eq(api_fixture_restart(&t.f, &e), 0, "%s", e.msg);
	wait_for("done/left.csv");
	cr_assert(!exists("processing/left.csv") && !exists("processing/left.csv.errors.txt"));
	api_t_expect_str(get_case("LO-1", 200), "applicant", "An");
	api_t_expect_str(get_case("LO-2", 200), "received_at", "2024-02-07T11:00:00+07:00");
	cr_assert(strstr(log = api_fixture_log(&t.f),
			 "spool: left.csv imported: 1 created, 1 already there"), "%s", log);
	free(log);
	api_t_stop(&t);
}

/* rows lines of cases CH-<i> (CH-0000 first), one code written again with other data at
 * index `clash` (none when clash >= rows). Returns a malloc'd CSV. */
static char *many_rows(int rows, int clash)
{
	size_t cap = (size_t)rows * 80 + 200, len;
	char *text = malloc(cap);

	cr_assert_not_null(text);
	len = (size_t)snprintf(text, cap, "%s", header);
	for (int i = 0; i < rows; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"CH-%04d;1.004873;%s;07/02/2024 10:00;;Người %d;\n",
					i == clash ? 10 : i, i == clash ? "hctc" : "kstt", i);
	return text;
}

Test(spool, large_file_is_imported_in_chunks)
{
	struct err e = { 0 };
	char *text = many_rows(2500, 2500);

	start("0.3s");
	write_file("many.csv", text);
	free(text);
	wait_for("done/many.csv");
	cr_assert_eq(api_db_int(&t.f, "SELECT count(*) FROM cases WHERE code LIKE 'CH-%'", &e), 2500,
		     "%s", e.msg);
	api_t_expect_str(get_case("CH-2499", 200), "applicant", "Người 2499");
	api_t_stop(&t);
}

Test(spool, clash_across_chunks_keeps_the_chunks_before_it)
{
	struct err e = { 0 };
	char *text = many_rows(1500, 1200), *errors;

	/* The validation pass checks each chunk of 1 000 rows on its own, so row 1200 (line 1202)
	 * repeating CH-0010 of the first chunk with another unit is found only when the second
	 * chunk is created: the first stays, the file is failed saying so (docs/import.md). */
	start("0.3s");
	write_file("clash.csv", text);
	free(text);
	wait_for("failed/clash.csv.errors.txt");
	errors = read_spool("failed/clash.csv.errors.txt");
	cr_assert_str_eq(errors,
			 "line 1202: a case with code \"CH-0010\" exists with different data "
			 "(conflict, field code)\n"
			 "rows from line 1002 on were not imported; the 1000 rows before it were (1000 "
			 "cases created, 0 already there): fix the file and drop it again, the rows "
			 "already imported are recognised by their codes\n");
	free(errors);
	/* Not "not imported": its first thousand rows are in. */
	char line[400];
	snprintf(line, sizeof(line), "spool: clash.csv partly imported: the 1000 rows before line "
		 "1002 were (1000 created, 0 already there), none from line 1002 on (1 error): see "
		 "%s/failed/clash.csv.errors.txt\n", spool);
	wait_log(line);
	cr_assert_eq(api_db_int(&t.f, "SELECT count(*) FROM cases WHERE code LIKE 'CH-%'", &e), 1000,
		     "%s", e.msg);
	get_case("CH-1000", 404);
	api_t_stop(&t);
}
