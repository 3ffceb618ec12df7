/* csv: the strict RFC 4180 reader. Real catalogue rows parse to the exact fields; every defect
 * is rejected with the exact message and line; files are read whole and bounded. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csv.h"

/* The header and four rows of /work/shared/data/procedures-sample.csv. */
static const char sample[] =
	"code,name,days,extended_days,cutoff,level,agency,note\n"
	"1.001193,Đăng ký khai sinh,0,,15:00,commune,UBND cấp xã,\"trong ngày; nhận sau 15 giờ thì "
	"trả trong ngày làm việc tiếp theo (dichvucong.gov.vn text)\"\n"
	"2.000635,\"Cấp bản sao Trích lục hộ tịch, bản sao Giấy khai sinh\",0,,15:00,commune,"
	"UBND cấp xã,\"trong ngày; sau 15 giờ: ngày làm việc tiếp theo\"\n"
	"1.013831,\"Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với "
	"đất\",8,,,province,Văn phòng đăng ký đất đai,\"08 ngày (Đồng Nai list, .H19 codes)\"\n"
	"3.000333,\"Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam, người nước ngoài đang cư trú "
	"tại Việt Nam\",10,15,,province,Công an cấp tỉnh,\"10 ngày; cần xác minh: không quá 15 "
	"ngày\"\n";

static struct csv_reader *open_str(const char *s, const struct csv_options *opt)
{
	struct err err = { 0 };
	struct csv_reader *r = csv_reader_new(s, strlen(s), opt, &err);

	cr_assert_not_null(r, "csv_reader_new: %s", err.msg);
	return r;
}

/* Reads the next record, which must exist and have nfields fields. */
static struct csv_row next_row(struct csv_reader *r, size_t nfields)
{
	struct err err = { 0 };
	struct csv_row row;
	int rc = csv_next(r, &row, &err);

	cr_assert_eq(rc, 1, "csv_next = %d: %s", rc, err.msg);
	cr_assert_eq(row.nfields, nfields);
	return row;
}

static void expect_end(struct csv_reader *r)
{
	struct err err = { 0 };
	struct csv_row row;

	cr_assert_eq(csv_next(r, &row, &err), 0, "%s", err.msg);
	cr_assert_eq(row.nfields, 0);
	cr_assert_null(row.fields);
}

/* Reads records of s (len bytes, may hold NULs) until one fails with exactly msg. */
static void expect_error_n(const char *s, size_t len, const struct csv_options *opt,
			   const char *msg)
{
	struct err err = { 0 };
	struct csv_reader *r = csv_reader_new(s, len, opt, &err);
	struct csv_row row;
	int rc = -1; /* csv_reader_new may fail already (options, header) */

	if (r) {
		while ((rc = csv_next(r, &row, &err)) == 1)
			;
		csv_reader_free(r);
	}
	cr_assert_eq(rc, -1, "no error for input, expected: %s", msg);
	cr_assert_str_eq(err.msg, msg);
}

static void expect_error(const char *s, const struct csv_options *opt, const char *msg)
{
	expect_error_n(s, strlen(s), opt, msg);
}

Test(csv, sample_rows_exact)
{
	struct csv_options opt = { .expect_header = true };
	static const char *const required[] = { "code", "name", "days", "note", NULL };
	struct csv_reader *r = open_str(sample, &opt);
	struct err err = { 0 };
	struct csv_row row;

	cr_assert_eq(csv_require(r, required, &err), 0, "%s", err.msg);
	cr_assert_eq(csv_column(r, "code"), 0);
	cr_assert_eq(csv_column(r, "days"), 2);
	cr_assert_eq(csv_column(r, "note"), 7);
	cr_assert_eq(csv_column(r, "Days"), -1);
	cr_assert_str_eq(csv_column_name(r, 6), "agency");
	cr_assert_null(csv_column_name(r, 8));

	row = next_row(r, 8);
	cr_assert_eq(row.line, 2);
	cr_assert_str_eq(row.fields[0], "1.001193");
	cr_assert_str_eq(row.fields[1], "Đăng ký khai sinh");
	cr_assert_str_eq(row.fields[2], "0");
	cr_assert_str_eq(row.fields[3], "");
	cr_assert_eq(row.lens[3], 0);
	cr_assert_str_eq(row.fields[4], "15:00");
	cr_assert_str_eq(row.fields[6], "UBND cấp xã");
	cr_assert_eq(row.lens[6], 14);
	cr_assert_str_eq(row.fields[7], "trong ngày; nhận sau 15 giờ thì trả trong ngày làm việc "
					 "tiếp theo (dichvucong.gov.vn text)");

	row = next_row(r, 8);
	cr_assert_eq(row.line, 3);
	cr_assert_str_eq(row.fields[0], "2.000635");
	cr_assert_str_eq(row.fields[1], "Cấp bản sao Trích lục hộ tịch, bản sao Giấy khai sinh");
	cr_assert_eq(row.lens[1], 68);
	cr_assert_str_eq(row.fields[7], "trong ngày; sau 15 giờ: ngày làm việc tiếp theo");

	row = next_row(r, 8);
	cr_assert_eq(row.line, 4);
	cr_assert_str_eq(row.fields[1], "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản "
					 "gắn liền với đất");
	cr_assert_str_eq(row.fields[2], "8");
	cr_assert_str_eq(row.fields[4], "");
	cr_assert_str_eq(row.fields[5], "province");
	cr_assert_str_eq(row.fields[7], "08 ngày (Đồng Nai list, .H19 codes)");

	row = next_row(r, 8);
	cr_assert_eq(row.line, 5);
	cr_assert_str_eq(row.fields[0], "3.000333");
	cr_assert_str_eq(row.fields[3], "15");
	cr_assert_str_eq(row.fields[6], "Công an cấp tỉnh");

	expect_end(r);
	expect_end(r);
	csv_reader_free(r);
}

Test(csv, no_header_first_row_is_data)
{
	struct csv_reader *r = open_str("a,b\n1,2", NULL);
	struct csv_row row = next_row(r, 2);

	cr_assert_eq(row.line, 1);
	cr_assert_str_eq(row.fields[0], "a");
	cr_assert_eq(csv_column(r, "a"), -1);
	cr_assert_null(csv_column_name(r, 0));
	row = next_row(r, 2);
	cr_assert_eq(row.line, 2);
	cr_assert_str_eq(row.fields[1], "2");
	expect_end(r);
	csv_reader_free(r);
}

Test(csv, crlf_line_ends)
{
	struct csv_reader *r = open_str("code,days\r\n1.001193,0\r\n2.000635,\"1\r\n2\"\r\nx,y\r\n",
					NULL);
	struct csv_row row = next_row(r, 2);

	cr_assert_str_eq(row.fields[1], "days");
	row = next_row(r, 2);
	cr_assert_eq(row.line, 2);
	cr_assert_str_eq(row.fields[0], "1.001193");
	cr_assert_str_eq(row.fields[1], "0");
	row = next_row(r, 2);
	cr_assert_eq(row.line, 3);
	cr_assert_str_eq(row.fields[1], "1\r\n2"); /* kept as is inside quotes */
	row = next_row(r, 2);
	cr_assert_eq(row.line, 5);
	cr_assert_str_eq(row.fields[1], "y");
	expect_end(r);
	csv_reader_free(r);
}

Test(csv, bom_skipped)
{
	struct csv_options opt = { .expect_header = true };
	struct csv_reader *r = open_str("\xEF\xBB\xBF" "code,name\n1.004222,Đăng ký thường trú\n",
					&opt);
	struct csv_row row;

	cr_assert_eq(csv_column(r, "code"), 0);
	cr_assert_str_eq(csv_column_name(r, 0), "code");
	row = next_row(r, 2);
	cr_assert_eq(row.line, 2);
	cr_assert_str_eq(row.fields[1], "Đăng ký thường trú");
	expect_end(r);
	csv_reader_free(r);
}

Test(csv, bom_only_is_empty)
{
	struct csv_reader *r = open_str("\xEF\xBB\xBF", NULL);

	expect_end(r);
	csv_reader_free(r);
}

Test(csv, quoted_newlines_keep_line_numbers)
{
	struct csv_reader *r = open_str("code,note\n"
					"1,\"dòng một\ndòng hai\ndòng ba\"\n"
					"2,\"a\n\nb\"\n"
					"3,cuối\n",
					NULL);
	struct csv_row row = next_row(r, 2);

	cr_assert_eq(row.line, 1);
	row = next_row(r, 2);
	cr_assert_eq(row.line, 2);
	cr_assert_str_eq(row.fields[1], "dòng một\ndòng hai\ndòng ba");
	row = next_row(r, 2);
	cr_assert_eq(row.line, 5);
	cr_assert_str_eq(row.fields[1], "a\n\nb");
	cr_assert_eq(row.lens[1], 4);
	row = next_row(r, 2);
	cr_assert_eq(row.line, 8);
	cr_assert_str_eq(row.fields[0], "3");
	cr_assert_str_eq(row.fields[1], "cuối");
	expect_end(r);
	csv_reader_free(r);
}

Test(csv, doubled_quotes)
{
	struct csv_reader *r = open_str("\"theo \"\"Luật Hộ tịch\"\" 2014\","
					"\"\"\"\",\"\"\"\"\"\",\"a\"\"\"\n",
					NULL);
	struct csv_row row = next_row(r, 4);

	cr_assert_str_eq(row.fields[0], "theo \"Luật Hộ tịch\" 2014");
	cr_assert_str_eq(row.fields[1], "\"");
	cr_assert_eq(row.lens[1], 1);
	cr_assert_str_eq(row.fields[2], "\"\"");
	cr_assert_str_eq(row.fields[3], "a\"");
	expect_end(r);
	csv_reader_free(r);
}

Test(csv, empty_fields)
{
	struct csv_reader *r = open_str(",,\n\"\",x,\"\"\na,,\n", NULL);
	struct csv_row row = next_row(r, 3);

	cr_assert_str_eq(row.fields[0], "");
	cr_assert_str_eq(row.fields[1], "");
	cr_assert_str_eq(row.fields[2], "");
	cr_assert_eq(row.lens[2], 0);
	row = next_row(r, 3);
	cr_assert_str_eq(row.fields[0], "");
	cr_assert_str_eq(row.fields[1], "x");
	cr_assert_str_eq(row.fields[2], "");
	row = next_row(r, 3);
	cr_assert_eq(row.line, 3);
	cr_assert_str_eq(row.fields[0], "a");
	cr_assert_str_eq(row.fields[2], "");
	expect_end(r);
	csv_reader_free(r);
}

Test(csv, last_line_without_newline)
{
	struct csv_reader *r = open_str("a,b\n1,\"2\"", NULL);
	struct csv_row row = next_row(r, 2);

	row = next_row(r, 2);
	cr_assert_eq(row.line, 2);
	cr_assert_str_eq(row.fields[1], "2");
	expect_end(r);
	csv_reader_free(r);
}

Test(csv, trailing_empty_lines_ignored)
{
	struct csv_reader *r = open_str("a,b\n1,2\n\n\r\n\n", NULL);
	struct csv_row row = next_row(r, 2);

	row = next_row(r, 2);
	cr_assert_str_eq(row.fields[0], "1");
	expect_end(r);
	csv_reader_free(r);
}

Test(csv, empty_input)
{
	struct csv_reader *r = open_str("", NULL);

	expect_end(r);
	csv_reader_free(r);
	r = csv_reader_new(NULL, 0, NULL, NULL);
	cr_assert_not_null(r);
	expect_end(r);
	csv_reader_free(r);
}

Test(csv, one_column_blank_line_is_empty_field)
{
	struct csv_reader *r = open_str("x\n\ny\n", NULL);
	struct csv_row row = next_row(r, 1);

	row = next_row(r, 1);
	cr_assert_eq(row.line, 2);
	cr_assert_str_eq(row.fields[0], "");
	row = next_row(r, 1);
	cr_assert_eq(row.line, 3);
	cr_assert_str_eq(row.fields[0], "y");
	expect_end(r);
	csv_reader_free(r);
}

Test(csv, semicolon_separator)
{
	struct csv_options opt = { .sep = ';', .expect_header = true };
	struct csv_reader *r = open_str("code;name;days\n"
					"2.000884;\"Thủ tục chứng thực chữ ký; giấy tờ, văn bản\";"
					"0\n"
					"1.004873;a,b;3\n",
					&opt);
	struct csv_row row;

	cr_assert_eq(csv_column(r, "days"), 2);
	row = next_row(r, 3);
	cr_assert_str_eq(row.fields[1], "Thủ tục chứng thực chữ ký; giấy tờ, văn bản");
	row = next_row(r, 3);
	cr_assert_str_eq(row.fields[1], "a,b");
	cr_assert_str_eq(row.fields[2], "3");
	expect_end(r);
	csv_reader_free(r);
}

Test(csv, tab_separator)
{
	struct csv_options opt = { .sep = '\t' };
	struct csv_reader *r = open_str("a b\t c\n", &opt);
	struct csv_row row = next_row(r, 2);

	cr_assert_str_eq(row.fields[0], "a b");
	cr_assert_str_eq(row.fields[1], " c");
	csv_reader_free(r);
}

Test(csv, spaces_kept_by_default)
{
	struct csv_reader *r = open_str(" a , b ,\" c \"\n", NULL);
	struct csv_row row = next_row(r, 3);

	cr_assert_str_eq(row.fields[0], " a ");
	cr_assert_str_eq(row.fields[1], " b ");
	cr_assert_str_eq(row.fields[2], " c ");
	csv_reader_free(r);
}

Test(csv, trim_option)
{
	struct csv_options opt = { .trim = true };
	struct csv_reader *r =
		open_str("  1.004222 ,  Đăng ký thường trú  ,  \" giữ \"  ,   \n", &opt);
	struct csv_row row = next_row(r, 4);

	cr_assert_str_eq(row.fields[0], "1.004222");
	cr_assert_str_eq(row.fields[1], "Đăng ký thường trú");
	cr_assert_str_eq(row.fields[2], " giữ ");
	cr_assert_str_eq(row.fields[3], "");
	cr_assert_eq(row.lens[3], 0);
	expect_end(r);
	csv_reader_free(r);
}

Test(csv, name_prefix_and_column_in_errors)
{
	struct csv_options opt = { .expect_header = true, .name = "procedures.csv" };
	struct csv_reader *r = open_str("code,name\n1,ok\n2,b\xC3\n", &opt);
	struct err err = { 0 };
	struct csv_row row = next_row(r, 2);

	cr_assert_eq(csv_next(r, &row, &err), -1);
	cr_assert_str_eq(err.msg, "procedures.csv:3: field 2 (name): invalid UTF-8 (byte 0xC3)");
	cr_assert_str_eq(err.field, "name");
	cr_assert_eq(row.nfields, 0);
	/* The reader stays failed. */
	memset(&err, 0, sizeof(err));
	cr_assert_eq(csv_next(r, &row, &err), -1);
	cr_assert_str_eq(err.msg, "procedures.csv:3: field 2 (name): invalid UTF-8 (byte 0xC3)");
	csv_reader_free(r);
}

Test(csv, error_invalid_utf8)
{
	/* Latin-1 "ă", a stray continuation byte, overlong "/", a surrogate, above U+10FFFF,
	 * a sequence cut by the end of input. */
	expect_error("a,b\nx,Đ\xE3ng\n", NULL, "line 2: field 2: invalid UTF-8 (byte 0xE3)");
	expect_error("a\n\x80\n", NULL, "line 2: field 1: invalid UTF-8 (byte 0x80)");
	expect_error("\xC0\xAF\n", NULL, "line 1: field 1: invalid UTF-8 (byte 0xC0)");
	expect_error("\xED\xA0\x80\n", NULL, "line 1: field 1: invalid UTF-8 (byte 0xED)");
	expect_error("\xF4\x90\x80\x80\n", NULL, "line 1: field 1: invalid UTF-8 (byte 0xF4)");
	expect_error("ok\n\xE1\xBA", NULL, "line 2: field 1: invalid UTF-8 (byte 0xE1)");
	/* Inside a quoted field, the line is the one of the bad byte. */
	expect_error("a,b\n1,\"x\ny\xFF\"\n", NULL, "line 3: field 2: invalid UTF-8 (byte 0xFF)");
}

Test(csv, error_quote_in_unquoted_field)
{
	expect_error("code,note\n1,ab\"c\"\n", NULL,
		     "line 2: field 2: quote inside an unquoted field (quote the whole field and "
		     "double the quote)");
}

Test(csv, error_text_after_closing_quote)
{
	expect_error("a,b\n\"x\"y,2\n", NULL, "line 2: field 1: 'y' after the closing quote");
	expect_error("\"x\" ,2\n", NULL, "line 1: field 1: ' ' after the closing quote");
	expect_error("\"x\"\r2\n", NULL, "line 1: field 1: byte 0x0D after the closing quote");
}

Test(csv, error_unterminated_quote_names_start_line)
{
	expect_error("code,note\n1,ok\n2,\"mở\nvẫn mở\nhết\n", NULL,
		     "line 3: field 2: quoted field not closed before the end of the input");
}

Test(csv, error_nul_byte)
{
	static const char in[] = "a,b\n1,x\0y\n";

	expect_error_n(in, sizeof(in) - 1, NULL, "line 2: field 2: NUL byte");
}

Test(csv, error_nul_byte_quoted)
{
	static const char in[] = "a\n\"\n\0\"\n";

	expect_error_n(in, sizeof(in) - 1, NULL, "line 3: field 1: NUL byte");
}

Test(csv, error_lone_carriage_return)
{
	expect_error("a,b\r1,2\n", NULL, "line 1: field 2: carriage return without a line feed");
}

Test(csv, error_field_count_vs_header)
{
	struct csv_options opt = { .expect_header = true };

	expect_error("code,name,days\n1,a,0\n2,b\n", &opt, "line 3: 2 fields, the header has 3");
	expect_error("code,name,days\n1,a,0\n2,b,0,x\n", &opt,
		     "line 3: 4 fields, the header has 3");
	/* A blank line inside the data is one empty field. */
	expect_error("code,name,days\n1,a,0\n\n2,b,0\n", &opt, "line 3: 1 field, the header has 3");
	/* Counted from the line where the record starts. */
	expect_error("code,note\n1,\"x\ny\"\n2,\"p\nq\",z\n", &opt,
		     "line 4: 3 fields, the header has 2");
}

Test(csv, error_field_count_without_header)
{
	expect_error("a,b\n1,2\n3\n", NULL, "line 3: 1 field, line 1 has 2");
}

Test(csv, error_field_too_long)
{
	struct csv_options opt = { .max_field = 4 };
	struct csv_reader *r = open_str("abcd,\"ab\"\"c\"\n", &opt);
	struct csv_row row = next_row(r, 2);

	cr_assert_str_eq(row.fields[1], "ab\"c");
	csv_reader_free(r);
	expect_error("abcd,abcde\n", &opt, "line 1: field 2: longer than 4 bytes");
	/* Bytes, not characters: "Đăng" is 7 bytes. */
	expect_error("Đăng\n", &opt, "line 1: field 1: longer than 4 bytes");
}

Test(csv, error_field_too_long_default)
{
	/* 65536 x, a line end, then 65537 x. */
	char *in = malloc(2 * CSV_MAX_FIELD_DEFAULT + 2);
	struct err err = { 0 };
	struct csv_reader *r;
	struct csv_row row;

	cr_assert_not_null(in);
	memset(in, 'x', 2 * CSV_MAX_FIELD_DEFAULT + 2);
	in[65536] = '\n';
	r = csv_reader_new(in, 2 * CSV_MAX_FIELD_DEFAULT + 2, NULL, &err);
	cr_assert_not_null(r);
	cr_assert_eq(csv_next(r, &row, &err), 1);
	cr_assert_eq(row.lens[0], 65536);
	cr_assert_eq(csv_next(r, &row, &err), -1);
	cr_assert_str_eq(err.msg, "line 2: field 1: longer than 65536 bytes");
	csv_reader_free(r);
	free(in);
}

Test(csv, error_too_many_fields)
{
	struct csv_options opt = { .max_fields = 3 };
	struct csv_reader *r = open_str("a,b,c\n", &opt);

	next_row(r, 3);
	csv_reader_free(r);
	expect_error("a,b,c,d\n", &opt, "line 1: more than 3 fields");
	expect_error("a,b,c,\n", &opt, "line 1: more than 3 fields");
}

Test(csv, error_too_many_fields_default)
{
	char in[600];
	size_t n = 0;

	/* 257 one-character fields. */
	for (int i = 0; i < 257; i++) {
		in[n++] = 'x';
		in[n++] = i < 256 ? ',' : '\n';
	}
	expect_error_n(in, n, NULL, "line 1: more than 256 fields");
}

Test(csv, error_header_problems)
{
	struct csv_options opt = { .expect_header = true };

	expect_error("", &opt, "line 1: empty input, a header line was expected");
	expect_error("code,name,code\n", &opt,
		     "line 1: field 3: column name \"code\" repeated (field 1)");
	expect_error("code,\"na\"me\"\n", &opt, "line 1: field 2: 'm' after the closing quote");
}

Test(csv, require_missing_column)
{
	struct csv_options opt = { .expect_header = true, .name = "catalogue.csv" };
	static const char *const required[] = { "code", "days", "deadline", "level", NULL };
	struct csv_reader *r = open_str(sample, &opt);
	struct err err = { 0 };

	cr_assert_eq(csv_require(r, required, &err), -1);
	cr_assert_str_eq(err.msg, "catalogue.csv:1: missing column \"deadline\"");
	cr_assert_str_eq(err.field, "deadline");
	csv_reader_free(r);

	r = open_str("a,b\n", NULL);
	cr_assert_eq(csv_require(r, required, &err), -1);
	cr_assert_str_eq(err.msg, "column \"code\" required but no header was read");
	csv_reader_free(r);
}

Test(csv, require_without_name_prefix)
{
	struct csv_options opt = { .expect_header = true };
	static const char *const required[] = { "days", NULL };
	struct csv_reader *r = open_str("\xEF\xBB\xBF" "code,name\n", &opt);
	struct err err = { 0 };

	cr_assert_eq(csv_require(r, required, &err), -1);
	cr_assert_str_eq(err.msg, "line 1: missing column \"days\"");
	csv_reader_free(r);
}

Test(csv, bad_separator)
{
	struct csv_options quote = { .sep = '"' }, nl = { .sep = '\n' };
	struct csv_options space = { .sep = ' ', .trim = true };
	struct err err = { 0 };

	cr_assert_null(csv_reader_new("a", 1, &quote, &err));
	cr_assert_str_eq(err.msg, "invalid CSV separator (byte 0x22)");
	cr_assert_str_eq(err.field, "sep");
	cr_assert_null(csv_reader_new("a", 1, &nl, &err));
	cr_assert_str_eq(err.msg, "invalid CSV separator (byte 0x0A)");
	cr_assert_null(csv_reader_new("a", 1, &space, &err));
	cr_assert_str_eq(err.msg, "invalid CSV separator (byte 0x20)");
}

/* Writes len bytes to a new temporary file; its path goes to path (>= 32 bytes). */
static void write_temp(char *path, const char *data, size_t len)
{
	int fd;

	strcpy(path, "/tmp/test_csv_XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, data, len), (ssize_t)len);
	cr_assert_eq(close(fd), 0);
}

Test(csv, file_read)
{
	struct csv_options opt = { .expect_header = true };
	struct err err = { 0 };
	struct csv_reader *r;
	struct csv_row row;
	char path[32], expected[160];

	write_temp(path, sample, sizeof(sample) - 1);
	r = csv_reader_open(path, &opt, &err);
	cr_assert_not_null(r, "%s", err.msg);
	cr_assert_eq(csv_column(r, "agency"), 6);
	row = next_row(r, 8);
	cr_assert_str_eq(row.fields[1], "Đăng ký khai sinh");
	row = next_row(r, 8);
	cr_assert_str_eq(row.fields[1], "Cấp bản sao Trích lục hộ tịch, bản sao Giấy khai sinh");
	next_row(r, 8);
	row = next_row(r, 8);
	cr_assert_eq(row.line, 5);
	expect_end(r);
	csv_reader_free(r);
	unlink(path);

	/* Messages name the file. */
	write_temp(path, "code,days\n1,2\n3\n", 16);
	r = csv_reader_open(path, &opt, &err);
	cr_assert_not_null(r, "%s", err.msg);
	next_row(r, 2);
	cr_assert_eq(csv_next(r, &row, &err), -1);
	snprintf(expected, sizeof(expected), "%s:3: 1 field, the header has 2", path);
	cr_assert_str_eq(err.msg, expected);
	csv_reader_free(r);
	unlink(path);
}

Test(csv, file_empty)
{
	struct err err = { 0 };
	struct csv_reader *r;
	char path[32];

	write_temp(path, "", 0);
	r = csv_reader_open(path, NULL, &err);
	cr_assert_not_null(r, "%s", err.msg);
	expect_end(r);
	csv_reader_free(r);
	unlink(path);
}

Test(csv, file_missing)
{
	struct err err = { 0 };

	cr_assert_null(csv_reader_open("/nonexistent/procedures.csv", NULL, &err));
	cr_assert_str_eq(err.msg,
			 "cannot open /nonexistent/procedures.csv: No such file or directory");
}

Test(csv, file_is_directory)
{
	struct err err = { 0 };

	cr_assert_null(csv_reader_open("/tmp", NULL, &err));
	cr_assert_str_eq(err.msg, "cannot read /tmp: Is a directory");
}

Test(csv, file_too_big)
{
	struct csv_options opt = { .max_file = 15 };
	struct err err = { 0 };
	struct csv_reader *r;
	char path[32], expected[160];

	write_temp(path, "code,days\n1,2\n3\n", 16);
	cr_assert_null(csv_reader_open(path, &opt, &err));
	snprintf(expected, sizeof(expected), "cannot read %s: larger than the limit of 15 bytes",
		 path);
	cr_assert_str_eq(err.msg, expected);
	opt.max_file = 16;
	r = csv_reader_open(path, &opt, &err);
	cr_assert_not_null(r, "%s", err.msg);
	csv_reader_free(r);
	unlink(path);
}

Test(csv, file_pipe_too_big)
{
	/* Not a regular file: the size is learnt by reading. */
	struct csv_options opt = { .max_file = 5 };
	struct err err = { 0 };
	int fds[2];
	char path[64];

	cr_assert_eq(pipe(fds), 0);
	cr_assert_eq(write(fds[1], "a,b\n1,2\n", 8), 8);
	cr_assert_eq(close(fds[1]), 0);
	snprintf(path, sizeof(path), "/dev/fd/%d", fds[0]);
	cr_assert_null(csv_reader_open(path, &opt, &err));
	cr_assert(strstr(err.msg, ": larger than the limit of 5 bytes") != NULL, "%s", err.msg);
	close(fds[0]);
}
