/* import: exports of the one-stop system read into API case objects — every CSV shape the
 * offices produce (BOM, ';', quoted commas and newlines, Vietnamese dates, empty appointment
 * dates), NDJSON, mapping files, line-numbered errors that let the reading go on, and constant
 * memory over a 200 000-row stream. */
#include <criterion/criterion.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "import.h"
#include "office_calendar.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IMPORT_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define IMPORT_TEST_ASAN 1
#endif
#ifdef IMPORT_TEST_ASAN
#include <sanitizer/allocator_interface.h>
#endif

static struct calendar *cal;

static void setup(void)
{
	struct err err = { 0 };

	cal = office_calendar_2024(&err);
	cr_assert_not_null(cal, "%s", err.msg);
}

static void teardown(void)
{
	calendar_free(cal);
}

TestSuite(import, .init = setup, .fini = teardown);

/* An input served from memory `chunk` bytes at a time, so that every window boundary is met. */
struct mem_input {
	const char *data;
	size_t len, pos, chunk;
};

static ssize_t mem_read(void *ctx, char *buf, size_t cap)
{
	struct mem_input *in = ctx;
	size_t n = in->len - in->pos;

	if (n > cap)
		n = cap;
	if (n > in->chunk)
		n = in->chunk;
	memcpy(buf, in->data + in->pos, n);
	in->pos += n;
	return (ssize_t)n;
}

static const char header[] =
	"Mã hồ sơ,Thủ tục,Đơn vị,Ngày tiếp nhận,Ngày hẹn trả,Người nộp,Cán bộ xử lý,"
	"Hình thức nộp,Thanh toán trực tuyến,Số hóa,Lệ phí\n";

static struct import_reader *open_mem(struct mem_input *in, const char *text, size_t chunk,
				      const struct import_options *opt)
{
	struct import_options o = opt ? *opt : (struct import_options){ 0 };
	struct err err = { 0 };
	struct import_reader *r;

	*in = (struct mem_input){ text, strlen(text), 0, chunk ? chunk : 1 << 20 };
	if (!o.cal)
		o.cal = cal;
	r = import_new(mem_read, in, &o, &err);
	cr_assert_not_null(r, "import_new: %s", err.msg);
	return r;
}

/* The next row, which must be good, as compact JSON with sorted keys (caller frees). */
static char *next_json(struct import_reader *r, size_t want_line)
{
	struct err err = { 0 };
	json_t *obj;
	size_t line;
	enum import_status st = import_next(r, &obj, &line, &err);
	char *s;

	cr_assert_eq(st, IMPORT_ROW, "import_next = %d: %s", st, err.msg);
	cr_assert_eq(line, want_line, "row at line %zu, expected %zu", line, want_line);
	s = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(obj);
	return s;
}

static void expect_row(struct import_reader *r, size_t line, const char *json)
{
	char *s = next_json(r, line);

	cr_assert_str_eq(s, json);
	free(s);
}

static void expect_bad(struct import_reader *r, size_t line, const char *msg, const char *field)
{
	struct err err = { 0 };
	json_t *obj;
	size_t at;

	cr_assert_eq(import_next(r, &obj, &at, &err), IMPORT_BAD_ROW, "expected: %s", msg);
	cr_assert_null(obj);
	cr_assert_eq(at, line);
	cr_assert_str_eq(err.msg, msg);
	if (field)
		cr_assert_str_eq(err.field, field);
}

static void expect_end(struct import_reader *r)
{
	struct err err = { 0 };
	json_t *obj;
	size_t len;

	cr_assert_eq(import_next(r, &obj, NULL, &err), IMPORT_END, "%s", err.msg);
	cr_assert_eq(import_next(r, &obj, NULL, &err), IMPORT_END);
	cr_assert_null(import_raw(r, &len));
	cr_assert_eq(len, 0);
}

static void expect_raw(struct import_reader *r, const char *raw)
{
	size_t len;
	const char *p = import_raw(r, &len);

	cr_assert_not_null(p);
	cr_assert_eq(len, strlen(raw), "raw \"%.*s\"", (int)len, p);
	cr_assert_eq(memcmp(p, raw, len), 0);
}

static const char row1[] =
	"000.00.21.H19-240219-0001,1.001193,ubnd-xa-a,19/02/2024 08:05,,Nguyễn Văn An,can-bo-a,"
	"Trực tuyến toàn trình,Có,x,\"1.500.000\"\n";
static const char row1_json[] =
	"{\"applicant\":\"Nguyễn Văn An\",\"code\":\"000.00.21.H19-240219-0001\",\"digitized\":true,"
	"\"fee\":1500000,\"handler\":\"can-bo-a\",\"online\":\"full\",\"paid_online\":true,"
	"\"procedure\":\"1.001193\",\"received_at\":\"2024-02-19T08:05:00+07:00\","
	"\"unit\":\"ubnd-xa-a\"}";

Test(import, vietnamese_csv_exact)
{
	char text[2048];
	struct mem_input in;
	struct import_reader *r;
	size_t len;

	snprintf(text, sizeof(text), "%s%s%s", header, row1,
		 "000.00.21.H19-240219-0002,2.000635,ubnd-xa-a,19/02/2024 14:30:15,"
		 "21/02/2024 16:00,Trần Thị Bình,,Trực tiếp,Không,0,0\n");
	r = open_mem(&in, text, 0, NULL);
	cr_assert_eq(import_format(r), IMPORT_CSV);
	cr_assert_eq(import_separator(r), ',');
	cr_assert_null(import_warning(r, 0));
	cr_assert_str_eq(import_header_raw(r, &len), "Mã hồ sơ,Thủ tục,Đơn vị,Ngày tiếp nhận,"
			 "Ngày hẹn trả,Người nộp,Cán bộ xử lý,Hình thức nộp,Thanh toán trực tuyến,"
			 "Số hóa,Lệ phí");
	expect_row(r, 2, row1_json);
	expect_raw(r, "000.00.21.H19-240219-0001,1.001193,ubnd-xa-a,19/02/2024 08:05,,Nguyễn Văn An,"
		   "can-bo-a,Trực tuyến toàn trình,Có,x,\"1.500.000\"");
	/* No handler: absent; an appointment given; a fee of 0. */
	expect_row(r, 3,
		   "{\"applicant\":\"Trần Thị Bình\",\"code\":\"000.00.21.H19-240219-0002\","
		   "\"digitized\":false,\"due_at\":\"2024-02-21T16:00:00+07:00\",\"fee\":0,"
		   "\"online\":\"none\",\"paid_online\":false,\"procedure\":\"2.000635\","
		   "\"received_at\":\"2024-02-19T14:30:15+07:00\",\"unit\":\"ubnd-xa-a\"}");
	expect_end(r);
	import_free(r);
}

Test(import, bom_semicolon_and_crlf_read_byte_by_byte)
{
	static const char text[] =
		"\xEF\xBB\xBF" "Mã hồ sơ;Thủ tục;Đơn vị;Ngày tiếp nhận;Lệ phí\r\n"
		"HS-1;1.001193;ubnd-xa-a;01/03/2024 07:30;\"1,500,000\"\r\n"
		"HS-2;1.001193;ubnd-xa-a;1/3/2024 7:45;25.000 đ\r\n";
	struct mem_input in;
	struct import_reader *r = open_mem(&in, text, 1, NULL);
	size_t len;

	cr_assert_eq(import_separator(r), ';');
	cr_assert_str_eq(import_header_raw(r, &len), "Mã hồ sơ;Thủ tục;Đơn vị;Ngày tiếp nhận;Lệ phí");
	expect_row(r, 2, "{\"code\":\"HS-1\",\"fee\":1500000,\"procedure\":\"1.001193\","
		   "\"received_at\":\"2024-03-01T07:30:00+07:00\",\"unit\":\"ubnd-xa-a\"}");
	expect_raw(r, "HS-1;1.001193;ubnd-xa-a;01/03/2024 07:30;\"1,500,000\"");
	expect_row(r, 3, "{\"code\":\"HS-2\",\"fee\":25000,\"procedure\":\"1.001193\","
		   "\"received_at\":\"2024-03-01T07:45:00+07:00\",\"unit\":\"ubnd-xa-a\"}");
	expect_end(r);
	import_free(r);
}

Test(import, quoted_commas_and_newlines_keep_row_lines)
{
	static const char text[] =
		"Mã hồ sơ,Thủ tục,Đơn vị,Ngày tiếp nhận,Người nộp\n"
		"HS-1,1.001193,ubnd-xa-a,19/02/2024 08:00,\"Công ty TNHH An Bình, chi nhánh\n"
		"Đồng Nai\"\n"
		"HS-2,1.001193,ubnd-xa-a,19/02/2024 09:00,\"Lê \"\"Tư\"\"\"\n";
	struct mem_input in;
	struct import_reader *r = open_mem(&in, text, 7, NULL);

	expect_row(r, 2, "{\"applicant\":\"Công ty TNHH An Bình, chi nhánh\\nĐồng Nai\","
		   "\"code\":\"HS-1\",\"procedure\":\"1.001193\","
		   "\"received_at\":\"2024-02-19T08:00:00+07:00\",\"unit\":\"ubnd-xa-a\"}");
	expect_raw(r, "HS-1,1.001193,ubnd-xa-a,19/02/2024 08:00,\"Công ty TNHH An Bình, chi nhánh\n"
		   "Đồng Nai\"");
	expect_row(r, 4, "{\"applicant\":\"Lê \\\"Tư\\\"\",\"code\":\"HS-2\","
		   "\"procedure\":\"1.001193\",\"received_at\":\"2024-02-19T09:00:00+07:00\","
		   "\"unit\":\"ubnd-xa-a\"}");
	expect_end(r);
	import_free(r);
}

Test(import, date_forms)
{
	static const char text[] =
		"code,procedure,unit,received_at,due_at\n"
		"A,p,u,19/02/2024,20/02/2024\n"                           /* 00:00; end of office day */
		"B,p,u,19/02/2024 2:05 CH,20/02/2024 08:00:30 SA\n"       /* 12-hour, Vietnamese */
		"C,p,u,2024-02-19 10:00,2024-02-19T15:00\n"               /* ISO without offset: local */
		"D,p,u,2024-02-19T10:00:00Z,2024-02-20T10:00:00+07:00\n"  /* RFC 3339: in the zone */
		"E,p,u,  16/02/2024 16:00  ,07/02/2024\n"                 /* before Tết: 7 Feb ends 17:00 */
		"F,p,u,26/11/0000 08:00,\n"                               /* years the calendar knows */
		"G,p,u,2024-02-19T10:00:00Z,31/12/2200\n"
		"H,p,u,1899-12-31T23:59:59+07:00,\n"
		"I,p,u,03/01/2000 08:00,31/12/2199 23:59\n";
	struct mem_input in;
	struct import_reader *r = open_mem(&in, text, 0, NULL);

	expect_row(r, 2, "{\"code\":\"A\",\"due_at\":\"2024-02-20T17:00:00+07:00\","
		   "\"procedure\":\"p\",\"received_at\":\"2024-02-19T00:00:00+07:00\",\"unit\":\"u\"}");
	expect_row(r, 3, "{\"code\":\"B\",\"due_at\":\"2024-02-20T08:00:30+07:00\","
		   "\"procedure\":\"p\",\"received_at\":\"2024-02-19T14:05:00+07:00\",\"unit\":\"u\"}");
	expect_row(r, 4, "{\"code\":\"C\",\"due_at\":\"2024-02-19T15:00:00+07:00\","
		   "\"procedure\":\"p\",\"received_at\":\"2024-02-19T10:00:00+07:00\",\"unit\":\"u\"}");
	expect_row(r, 5, "{\"code\":\"D\",\"due_at\":\"2024-02-20T10:00:00+07:00\","
		   "\"procedure\":\"p\",\"received_at\":\"2024-02-19T17:00:00+07:00\",\"unit\":\"u\"}");
	expect_row(r, 6, "{\"code\":\"E\",\"due_at\":\"2024-02-07T17:00:00+07:00\","
		   "\"procedure\":\"p\",\"received_at\":\"2024-02-16T16:00:00+07:00\",\"unit\":\"u\"}");
	expect_bad(r, 7, "line 7: received_at: \"26/11/0000 08:00\": the year must be 1900 to 2199",
		   "received_at");
	expect_bad(r, 8, "line 8: due_at: \"31/12/2200\": the year must be 1900 to 2199", "due_at");
	expect_bad(r, 9,
		   "line 9: received_at: \"1899-12-31T23:59:59+07:00\": the year must be 1900 to 2199",
		   "received_at");
	expect_row(r, 10, "{\"code\":\"I\",\"due_at\":\"2199-12-31T23:59:00+07:00\","
		   "\"procedure\":\"p\",\"received_at\":\"2000-01-03T08:00:00+07:00\",\"unit\":\"u\"}");
	expect_end(r);
	import_free(r);
}

Test(import, empty_appointment_is_absent)
{
	char text[1024];
	struct mem_input in;
	struct import_reader *r;
	json_t *obj;
	struct err err;

	snprintf(text, sizeof(text), "%s%s", header, row1);
	r = open_mem(&in, text, 0, NULL);
	cr_assert_eq(import_next(r, &obj, NULL, &err), IMPORT_ROW);
	cr_assert_null(json_object_get(obj, "due_at"));
	json_decref(obj);
	import_free(r);
}

Test(import, bad_utf8_reported_and_skipped)
{
	static const char text[] =
		"Mã hồ sơ,Thủ tục,Đơn vị,Ngày tiếp nhận,Người nộp\n"
		"HS-1,1.001193,ubnd-xa-a,19/02/2024 08:00,An\n"
		"HS-2,1.001193,ubnd-xa-a,19/02/2024 08:00,Nguy\xE1n\n"
		"HS-3,1.001193,ubnd-xa-a,19/02/2024 08:00,Bình\n";
	struct mem_input in;
	struct import_reader *r = open_mem(&in, text, 0, NULL);

	free(next_json(r, 2));
	expect_bad(r, 3, "line 3: field 5 (Người nộp): invalid UTF-8 (byte 0xE1)", "applicant");
	expect_raw(r, "HS-2,1.001193,ubnd-xa-a,19/02/2024 08:00,Nguy\xE1n");
	expect_row(r, 4, "{\"applicant\":\"Bình\",\"code\":\"HS-3\",\"procedure\":\"1.001193\","
		   "\"received_at\":\"2024-02-19T08:00:00+07:00\",\"unit\":\"ubnd-xa-a\"}");
	expect_end(r);
	import_free(r);
}

Test(import, truncated_file_ends_inside_quotes)
{
	static const char text[] =
		"Mã hồ sơ,Thủ tục,Đơn vị,Ngày tiếp nhận,Người nộp\n"
		"HS-1,1.001193,ubnd-xa-a,19/02/2024 08:00,An\n"
		"HS-2,1.001193,ubnd-xa-a,19/02/2024 08:00,\"Công ty\n"
		"HS-3,1.001193,ubnd-xa-a,19/02/2024 08:00,Bình\n";
	struct mem_input in;
	struct import_options o = { .name = "export.csv" };
	struct import_reader *r = open_mem(&in, text, 5, &o);

	free(next_json(r, 2));
	expect_bad(r, 3, "export.csv:3: field 5 (Người nộp): quoted field not closed before the end "
		   "of the input", NULL);
	expect_raw(r, "HS-2,1.001193,ubnd-xa-a,19/02/2024 08:00,\"Công ty\n"
		   "HS-3,1.001193,ubnd-xa-a,19/02/2024 08:00,Bình\n");
	expect_end(r);
	import_free(r);
}

Test(import, cell_errors_name_line_and_column_and_go_on)
{
	static const char text[] =
		"Mã hồ sơ,Thủ tục,Đơn vị,Ngày tiếp nhận,Hình thức nộp,Số hóa,Lệ phí\n"
		"HS-1,p,u,31/02/2024 08:00,,,\n"
		"HS-2,p,u,19/02/2024 25:00,,,\n"
		"HS-3,p,u,19/02/2024,qua mạng,,\n"
		"HS-4,p,u,19/02/2024,,có lẽ,\n"
		"HS-5,p,u,19/02/2024,,,\"1.50\"\n"
		",p,u,19/02/2024,,,\n"
		"HS-7,p,u,  ,,,\n"
		"HS-8,p,u,19/02/2024,TRỰC TUYẾN MỘT PHẦN,CÓ,1 500 000 VNĐ\n"
		"HS-9,p,u\n";
	struct mem_input in;
	struct import_reader *r = open_mem(&in, text, 0, NULL);

	expect_bad(r, 2, "line 2: Ngày tiếp nhận: \"31/02/2024 08:00\" is not a date and time "
		   "(dd/mm/yyyy HH:MM, or RFC 3339 like 2024-02-19T08:00:00+07:00)", "received_at");
	expect_raw(r, "HS-1,p,u,31/02/2024 08:00,,,");
	expect_bad(r, 3, "line 3: Ngày tiếp nhận: \"19/02/2024 25:00\" is not a date and time "
		   "(dd/mm/yyyy HH:MM, or RFC 3339 like 2024-02-19T08:00:00+07:00)", "received_at");
	expect_bad(r, 4, "line 4: Hình thức nộp: \"qua mạng\" is not one of Trực tiếp, Trực tuyến "
		   "một phần, Trực tuyến toàn trình (or none, partial, full)", "online");
	expect_bad(r, 5, "line 5: Số hóa: \"có lẽ\" is neither yes nor no (Có or Không, x, 1 or 0, "
		   "true or false)", "digitized");
	expect_bad(r, 6, "line 6: Lệ phí: \"1.50\" is not an amount in VND (digits, thousands split "
		   "by . or , like 1.500.000)", "fee");
	expect_bad(r, 7, "line 7: Mã hồ sơ is empty (code is required)", "code");
	expect_bad(r, 8, "line 8: Ngày tiếp nhận is empty (received_at is required)", "received_at");
	expect_row(r, 9, "{\"code\":\"HS-8\",\"digitized\":true,\"fee\":1500000,\"online\":\"partial\","
		   "\"procedure\":\"p\",\"received_at\":\"2024-02-19T00:00:00+07:00\",\"unit\":\"u\"}");
	expect_bad(r, 10, "line 10: 3 fields, the header has 7", NULL);
	expect_raw(r, "HS-9,p,u");
	expect_end(r);
	import_free(r);
}

Test(import, missing_required_column)
{
	static const char text[] = "Mã hồ sơ,Thủ tục,Ngày tiếp nhận\nHS-1,p,19/02/2024\n";
	struct mem_input in = { text, sizeof(text) - 1, 0, 100 };
	struct import_options o = { .cal = cal, .name = "export.csv" };
	struct err err = { 0 };

	cr_assert_null(import_new(mem_read, &in, &o, &err));
	cr_assert_str_eq(err.msg, "export.csv:1: no column for unit (a column \"Đơn vị\", or a "
			 "mapping file line \"Header = unit\")");
	cr_assert_str_eq(err.field, "unit");
}

Test(import, two_columns_for_one_field)
{
	static const char text[] = "Mã hồ sơ,Thủ tục,Mã thủ tục,Đơn vị,Ngày tiếp nhận\n";
	struct mem_input in = { text, sizeof(text) - 1, 0, 100 };
	struct import_options o = { .cal = cal };
	struct err err = { 0 };

	cr_assert_null(import_new(mem_read, &in, &o, &err));
	cr_assert_str_eq(err.msg, "line 1: columns \"Thủ tục\" and \"Mã thủ tục\" both map to "
			 "procedure (map one of them to \"-\" in a mapping file)");
	cr_assert_str_eq(err.field, "procedure");
}

Test(import, header_tolerant_of_case_and_spaces_unknown_warned_once)
{
	static const char text[] =
		" MÃ HỒ SƠ ,thủ  tục,ĐƠN VỊ,Ngày Tiếp Nhận,Ghi chú,CODE_X\n"
		"HS-1,p,u,19/02/2024 08:00,gọi trước,1\n"
		"HS-2,p,u,19/02/2024 09:00,,2\n";
	struct mem_input in;
	struct import_reader *r = open_mem(&in, text, 0, NULL);

	cr_assert_str_eq(import_warning(r, 0),
			 "line 1: column \"Ghi chú\" is not imported (no mapping)");
	cr_assert_str_eq(import_warning(r, 1),
			 "line 1: column \"CODE_X\" is not imported (no mapping)");
	cr_assert_null(import_warning(r, 2));
	expect_row(r, 2, "{\"code\":\"HS-1\",\"procedure\":\"p\","
		   "\"received_at\":\"2024-02-19T08:00:00+07:00\",\"unit\":\"u\"}");
	expect_row(r, 3, "{\"code\":\"HS-2\",\"procedure\":\"p\","
		   "\"received_at\":\"2024-02-19T09:00:00+07:00\",\"unit\":\"u\"}");
	expect_end(r);
	import_free(r);
}

/* Writes text to a new temporary file; its path goes to path (>= 40 bytes). */
static void write_temp(char *path, const char *text)
{
	int fd;

	strcpy(path, "/tmp/test_import_XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	cr_assert_eq(close(fd), 0);
}

Test(import, mapping_file)
{
	static const char map_text[] =
		"\xEF\xBB\xBF# the province's export\n"
		"Số HS = code\n"
		"  Mã TTHC=procedure\r\n"
		"\n"
		"Phòng ban = unit\n"
		"Ngày nhận = received_at\n"
		"Thủ tục = -\n";
	static const char text[] =
		"Số HS,Thủ tục,Mã TTHC,Phòng ban,Ngày nhận\n"
		"HS-1,Đăng ký khai sinh,1.001193,ubnd-xa-a,19/02/2024 08:00\n";
	char path[40];
	struct err err = { 0 };
	struct import_map *map;
	struct import_options o = { 0 };
	struct mem_input in;
	struct import_reader *r;

	write_temp(path, map_text);
	map = import_map_load(path, &err);
	unlink(path);
	cr_assert_not_null(map, "%s", err.msg);
	o.map = map;
	r = open_mem(&in, text, 0, &o);
	cr_assert_null(import_warning(r, 0));
	expect_row(r, 2, "{\"code\":\"HS-1\",\"procedure\":\"1.001193\","
		   "\"received_at\":\"2024-02-19T08:00:00+07:00\",\"unit\":\"ubnd-xa-a\"}");
	expect_end(r);
	import_free(r);
	import_map_free(map);
}

static void expect_map_error(const char *text, const char *msg_after_path)
{
	char path[40], want[200];
	struct err err = { 0 };

	write_temp(path, text);
	cr_assert_null(import_map_load(path, &err));
	snprintf(want, sizeof(want), "%s%s", path, msg_after_path);
	unlink(path);
	cr_assert_str_eq(err.msg, want);
}

Test(import, mapping_file_errors)
{
	struct err err = { 0 };

	expect_map_error("Mã HS = cod\n",
			 ":1: unknown field \"cod\" (one of code, procedure, unit, handler, "
			 "applicant, received_at, due_at, online, paid_online, digitized, fee, or - "
			 "to ignore the column)");
	expect_map_error("# x\nMã HS code\n", ":2: expected \"Header = field\"");
	expect_map_error("a = code\n A  = unit\n", ":2: header \" A  \" is mapped twice");
	expect_map_error(" = code\n", ":1: no header before '='");
	expect_map_error("M\xE3 = code\n", ":1: the header is not UTF-8 or longer than 128 bytes");
	cr_assert_null(import_map_load("/nonexistent/map", &err));
	cr_assert_str_eq(err.msg, "cannot open the mapping file /nonexistent/map: No such file or "
			 "directory");
}

Test(import, ndjson_passed_through)
{
	static const char text[] =
		"{\"code\":\"HS-1\",\"procedure\":\"1.001193\",\"unit\":\"u\",\"extra\":[1,2]}\r\n"
		"\n"
		"   \n"
		"{\"code\":\"HS-2\",\n"
		"[1]\n"
		"{\"code\":\"HS-3\",\"code\":\"HS-3\"}\n"
		"{\"code\":\"HS-4\",\"fee\":1000}";
	struct mem_input in;
	struct import_reader *r = open_mem(&in, text, 3, NULL);

	cr_assert_eq(import_format(r), IMPORT_NDJSON);
	cr_assert_eq(import_separator(r), 0);
	expect_row(r, 1, "{\"code\":\"HS-1\",\"extra\":[1,2],\"procedure\":\"1.001193\","
		   "\"unit\":\"u\"}");
	expect_raw(r, "{\"code\":\"HS-1\",\"procedure\":\"1.001193\",\"unit\":\"u\",\"extra\":[1,2]}");
	expect_bad(r, 4, "line 4: malformed JSON at column 15: string or '}' expected near end of file",
		   NULL);
	expect_raw(r, "{\"code\":\"HS-2\",");
	expect_bad(r, 5, "line 5: each line must be a JSON object", NULL);
	expect_bad(r, 6, "line 6: malformed JSON at column 21: duplicate object key near '\"code\"'",
		   NULL);
	expect_row(r, 7, "{\"code\":\"HS-4\",\"fee\":1000}");
	expect_end(r);
	import_free(r);
}

Test(import, format_forced_and_empty_inputs)
{
	struct import_options csv = { .format = IMPORT_CSV, .cal = cal };
	struct import_options ndjson = { .format = IMPORT_NDJSON };
	struct mem_input in = { "", 0, 0, 1 };
	struct err err = { 0 };
	struct import_reader *r;

	cr_assert_null(import_new(mem_read, &in, &csv, &err));
	cr_assert_str_eq(err.msg, "line 1: empty input, a header line was expected");
	/* Told NDJSON, an empty file is an empty import; guessing, it is a CSV without header. */
	r = open_mem(&in, "\xEF\xBB\xBF\n\n", 1, &ndjson);
	expect_end(r);
	import_free(r);
	in = (struct mem_input){ "\n", 1, 0, 1 };
	csv.format = IMPORT_AUTO;
	cr_assert_null(import_new(mem_read, &in, &csv, &err));
	cr_assert_str_eq(err.msg, "line 1: empty input, a header line was expected");
	/* A CSV named by the format, not guessed from the first byte. */
	csv.format = IMPORT_CSV;
	in = (struct mem_input){ "{x},procedure\n", 15, 0, 3 };
	cr_assert_null(import_new(mem_read, &in, &csv, &err));
	cr_assert_str_eq(err.msg, "line 1: no column for code (a column \"Mã hồ sơ\", or a mapping "
			 "file line \"Header = code\")");
	csv.cal = NULL;
	in = (struct mem_input){ "code\n", 5, 0, 8 };
	cr_assert_null(import_new(mem_read, &in, &csv, &err));
	cr_assert_str_eq(err.msg, "a calendar is needed to read CSV dates");
}

Test(import, open_file_and_missing_file)
{
	char path[40];
	struct import_options o = { .cal = cal };
	struct err err = { 0 };
	struct import_reader *r;

	write_temp(path, "{\"code\":\"HS-1\"}\n");
	r = import_open(path, &o, &err);
	unlink(path);
	cr_assert_not_null(r, "%s", err.msg);
	expect_row(r, 1, "{\"code\":\"HS-1\"}");
	expect_end(r);
	import_free(r);
	cr_assert_null(import_open("/nonexistent/x.csv", &o, &err));
	cr_assert_str_eq(err.msg, "cannot open /nonexistent/x.csv: No such file or directory");
}

/* --- constant memory over a large stream ------------------------------------------------- */

#define BIG_ROWS 200000

static void *write_big(void *arg)
{
	FILE *f = fdopen(*(int *)arg, "w");

	if (!f)
		return NULL;
	fputs("Mã hồ sơ;Thủ tục;Đơn vị;Ngày tiếp nhận;Ngày hẹn trả;Người nộp;Lệ phí\n", f);
	for (int i = 0; i < BIG_ROWS; i++)
		fprintf(f, "000.00.21.H19-240219-%06d;1.001193;ubnd-xa-a;19/02/2024 %02d:%02d;;"
			"\"Nguyễn Văn %d; phường %d\";%d.000\n", i, 7 + i % 9, i % 60, i, i % 30,
			1 + i % 999);
	fclose(f);
	return NULL;
}

static size_t live_heap(void)
{
#ifdef IMPORT_TEST_ASAN
	return __sanitizer_get_current_allocated_bytes();
#else
	return mallinfo2().uordblks;
#endif
}

static ssize_t fd_read(void *ctx, char *buf, size_t cap)
{
	return read(*(int *)ctx, buf, cap);
}

Test(import, streams_200000_rows_in_constant_memory, .timeout = 120)
{
	int fds[2];
	pthread_t writer;
	struct import_options o = { .cal = cal };
	struct err err = { 0 };
	struct import_reader *r;
	size_t rows = 0, line = 0, last_line = 0, base = 0, peak = 0;
	json_t *obj;
	enum import_status st;

	cr_assert_eq(pipe(fds), 0);
	cr_assert_eq(pthread_create(&writer, NULL, write_big, &fds[1]), 0);
	r = import_new(fd_read, &fds[0], &o, &err);
	cr_assert_not_null(r, "%s", err.msg);
	while ((st = import_next(r, &obj, &line, &err)) == IMPORT_ROW) {
		last_line = line;
		if (++rows == 1000)
			base = live_heap();
		if (rows > 1000 && rows % 1000 == 0 && live_heap() > peak)
			peak = live_heap();
		if (rows == BIG_ROWS) {
			char want[40];
			snprintf(want, sizeof(want), "000.00.21.H19-240219-%06d", BIG_ROWS - 1);
			cr_assert_str_eq(json_string_value(json_object_get(obj, "code")), want);
			cr_assert_eq(json_integer_value(json_object_get(obj, "fee")),
				     (1 + (BIG_ROWS - 1) % 999) * 1000);
		}
		json_decref(obj);
	}
	cr_assert_eq(st, IMPORT_END, "%s", err.msg);
	cr_assert_eq(rows, BIG_ROWS);
	cr_assert_eq(last_line, BIG_ROWS + 1);
	/* Nothing kept per row: the heap after 200 000 rows is within 64 KiB of that after 1 000. */
	cr_assert_leq(peak, base + 64 * 1024, "heap grew from %zu to %zu bytes", base, peak);
	import_free(r);
	pthread_join(writer, NULL);
	close(fds[0]);
}

Test(import, example_mapping_file)
{
	static const char text[] =
		"Số hồ sơ,Tên thủ tục,Mã TTHC,Cơ quan thực hiện,Ngày nhận hồ sơ,Hạn trả kết quả,"
		"\"Tên tổ chức, cá nhân\",Kênh tiếp nhận,\"Phí, lệ phí\",Ghi chú\n"
		"HS-1,Đăng ký khai sinh,1.001193,ubnd-xa-a,19/02/2024 08:00,,An,Trực tiếp,\"15.000\",\n";
	struct err err = { 0 };
	struct import_map *map = import_map_load(DUNGHAN_SOURCE_DIR "/config/import-map.example",
						 &err);
	struct import_options o = { 0 };
	struct mem_input in;
	struct import_reader *r;

	cr_assert_not_null(map, "%s", err.msg);
	o.map = map;
	r = open_mem(&in, text, 0, &o);
	cr_assert_null(import_warning(r, 0), "%s", import_warning(r, 0));
	expect_row(r, 2, "{\"applicant\":\"An\",\"code\":\"HS-1\",\"fee\":15000,\"online\":\"none\","
		   "\"procedure\":\"1.001193\",\"received_at\":\"2024-02-19T08:00:00+07:00\","
		   "\"unit\":\"ubnd-xa-a\"}");
	expect_end(r);
	import_free(r);
	import_map_free(map);
}

Test(import, record_longer_than_the_limit_stops_the_reader)
{
	size_t big = 60000, cap = 30 * big + 4096, len;
	char *text = malloc(cap);
	struct mem_input in;
	struct import_reader *r;
	struct err err = { 0 };
	json_t *obj;
	size_t line;

	cr_assert_not_null(text);
	/* 20 cells of 60 000 bytes: each under the field limit, together over IMPORT_MAX_RECORD. */
	len = (size_t)snprintf(text, cap, "code,procedure,unit,received_at");
	for (int i = 0; i < 20; i++)
		len += (size_t)snprintf(text + len, cap - len, ",x%d", i);
	len += (size_t)snprintf(text + len, cap - len, "\nA,p,u,19/02/2024%s\nB,p,u,19/02/2024",
				",,,,,,,,,,,,,,,,,,,,");
	for (int i = 0; i < 20; i++) {
		text[len++] = ',';
		memset(text + len, 'y', big);
		len += big;
	}
	text[len] = '\0';
	r = open_mem(&in, text, 4096, NULL);
	expect_row(r, 2, "{\"code\":\"A\",\"procedure\":\"p\","
		   "\"received_at\":\"2024-02-19T00:00:00+07:00\",\"unit\":\"u\"}");
	cr_assert_eq(import_next(r, &obj, &line, &err), IMPORT_FAILED);
	cr_assert_str_eq(err.msg, "line 3: record longer than 1048576 bytes");
	cr_assert_eq(import_next(r, &obj, &line, &err), IMPORT_FAILED);
	cr_assert_str_eq(err.msg, "line 3: record longer than 1048576 bytes");
	cr_assert_null(import_raw(r, &len));
	import_free(r);
	free(text);
}

Test(import, ndjson_line_longer_than_the_limit_stops_the_reader)
{
	size_t n = IMPORT_MAX_RECORD + 100;
	char *text = malloc(n + 40);
	struct mem_input in;
	struct import_reader *r;
	struct err err = { 0 };
	json_t *obj;

	cr_assert_not_null(text);
	strcpy(text, "{\"code\":\"A\"}\n{\"applicant\":\"");
	memset(text + strlen(text), 'y', n);
	text[n] = '\0';
	r = open_mem(&in, text, 65536, NULL);
	expect_row(r, 1, "{\"code\":\"A\"}");
	cr_assert_eq(import_next(r, &obj, NULL, &err), IMPORT_FAILED);
	cr_assert_str_eq(err.msg, "line 2: a line longer than 1048576 bytes");
	cr_assert_eq(import_next(r, &obj, NULL, &err), IMPORT_FAILED);
	import_free(r);
	free(text);
}
