/* Allocation-failure torture (issue #10, like curl's torture tests) for the modules that parse
 * outside input: csv.c, import.c (CSV and NDJSON), config.c (with libconfig, the calendar, the
 * templates and the catalogue it loads), template.c (load and render), mail.c, and jansson's
 * parser as the API uses it. Each parser runs on a sample input once to count its allocations,
 * then again failing the 1st, the 2nd, ... the Nth: every run must end in an error or in
 * exactly the result of the run without failure, and must leave no allocation behind.
 *
 * The allocator and the driver are tests/support/torture.c (torture.h); docs/testing.md,
 * "Allocation failures", has the figures. gcc build only: the tests skip under ASan. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <openssl/err.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calendar.h"
#include "config.h"
#include "csv.h"
#include "err.h"
#include "import.h"
#include "mail.h"
#include "office_calendar.h"
#include "template.h"
#include "torture.h"

TestSuite(torture, .timeout = 240);

/* --- the parsers ------------------------------------------------------------------------ */

static const char csv_input[] =
	"\xEF\xBB\xBFMã hồ sơ;Thủ tục;Đơn vị;Ngày tiếp nhận;Người nộp\r\n"
	"000.00.21.H19-240207-0001;1.004873;xa-tu-phap-tan-phu;07/02/2024 10:00;"
	"\"Nguyễn Văn A; \"\"Tổ 3\"\"\"\r\n"
	"000.00.21.H19-240207-0002;1.004873;xa-tu-phap-tan-phu;07/02/2024 10:05;\"Trần\n"
	"Thị B\"\r\n"
	"000.00.21.H19-240207-0003;2.000001;vp;08/02/2024;Lê Văn C\r\n";

static int run_csv(struct torture_out *o)
{
	struct csv_options opt = { .detect_sep = true, .expect_header = true };
	struct err err = { 0 };
	struct csv_reader *r = csv_reader_new(csv_input, sizeof(csv_input) - 1, &opt, &err);
	struct csv_row row;
	int rc;

	if (!r) {
		torture_out_error(o, err.msg);
		return -1;
	}
	while ((rc = csv_next(r, &row, &err)) == 1)
		for (size_t i = 0; i < row.nfields; i++) {
			torture_out_add(o, row.fields[i], row.lens[i]);
			torture_out_add(o, i + 1 < row.nfields ? "|" : "\n", 1);
		}
	if (rc < 0)
		torture_out_error(o, err.msg);
	csv_reader_free(r);
	return rc == 0 ? 0 : -1;
}

Test(torture, csv)
{
	torture_parser("csv", run_csv);
}

struct mem_input {
	const char *data;
	size_t len, pos;
};

static ssize_t mem_read(void *ctx, char *buf, size_t cap)
{
	struct mem_input *in = ctx;
	size_t n = in->len - in->pos;

	if (n > cap)
		n = cap;
	if (n > 7) /* uneven reads, so that every window boundary is met */
		n = 7;
	memcpy(buf, in->data + in->pos, n);
	in->pos += n;
	return (ssize_t)n;
}

static const char import_csv[] =
	"Mã hồ sơ,Thủ tục,Đơn vị,Ngày tiếp nhận,Ngày hẹn trả,Người nộp,Cán bộ xử lý,"
	"Hình thức nộp,Thanh toán trực tuyến,Số hóa,Lệ phí,Ghi chú\n"
	"000.00.21.H19-240207-0001,1.004873,xa-tu-phap-tan-phu,07/02/2024 10:00,"
	"19/02/2024 17:00,Nguyễn Văn A,tuan.hm,Trực tuyến toàn trình,Có,Có,\"50.000\",x\n"
	"000.00.21.H19-240207-0002,1.004873,xa-tu-phap-tan-phu,07/02/2024,,\"Trần Thị \"\"B\"\"\","
	",Trực tiếp,Không,Không,0,y\n";

static const char import_ndjson[] =
	"{\"code\": \"000.00.21.H19-240207-0001\", \"procedure\": \"1.004873\", \"unit\": "
	"\"xa-tu-phap-tan-phu\", \"received_at\": \"2024-02-07T10:00:00+07:00\", "
	"\"applicant\": \"Nguyễn Văn A\", \"fee\": 50000, \"tags\": [\"a\", \"b\"]}\n"
	"\n"
	"{\"code\": \"000.00.21.H19-240207-0002\", \"procedure\": \"1.004873\", \"unit\": "
	"\"xa-tu-phap-tan-phu\", \"received_at\": \"2024-02-07T10:05:00+07:00\", "
	"\"applicant\": {\"name\": \"Trần Thị B\", \"phone\": null}}\n";

static struct calendar *office;

static int run_import(struct torture_out *o, const char *text, enum import_format format)
{
	struct mem_input in = { text, strlen(text), 0 };
	struct import_options opt = { .format = format, .cal = office, .name = "torture" };
	struct err err = { 0 };
	struct import_reader *r = import_new(mem_read, &in, &opt, &err);
	enum import_status st;
	json_t *obj;

	if (!r) {
		torture_out_error(o, err.msg);
		return -1;
	}
	while ((st = import_next(r, &obj, NULL, &err)) != IMPORT_END && st != IMPORT_FAILED) {
		/* The sample has no bad row: a failed allocation must stop the reader
		 * (IMPORT_FAILED), not reject a good row as if it were bad — unless jansson
		 * turned the failure into a syntax error. */
		if (st == IMPORT_BAD_ROW && torture_failed_in_loadb()) {
			torture_out_error(o, err.msg);
			o->jansson = true;
			continue;
		}
		cr_assert_neq(st, IMPORT_BAD_ROW, "a good row rejected: %s", err.msg);
		torture_pause();
		char *s = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
		cr_assert_not_null(s);
		torture_out_add(o, s, strlen(s));
		torture_out_add(o, "\n", 1);
		free(s);
		torture_resume();
		json_decref(obj);
	}
	if (st == IMPORT_FAILED)
		torture_out_error(o, err.msg);
	import_free(r);
	return st == IMPORT_FAILED || o->jansson ? -1 : 0;
}

static int run_import_csv(struct torture_out *o)
{
	return run_import(o, import_csv, IMPORT_CSV);
}

static int run_import_ndjson(struct torture_out *o)
{
	return run_import(o, import_ndjson, IMPORT_NDJSON);
}

static void import_setup(void)
{
	struct err err = { 0 };

	office = office_calendar_2024(&err);
	cr_assert_not_null(office, "%s", err.msg);
}

static void import_teardown(void)
{
	calendar_free(office);
}

Test(torture, import_csv, .init = import_setup, .fini = import_teardown)
{
	torture_parser("import (CSV)", run_import_csv);
}

Test(torture, import_ndjson, .init = import_setup, .fini = import_teardown)
{
	torture_parser("import (NDJSON)", run_import_ndjson);
}

/* A body of POST /api/v1/cases as the API reads it (api.c: json_loadb, duplicates rejected). */
static const char json_body[] =
	"{\"code\": \"000.00.21.H19-240207-0001\", \"procedure\": \"1.004873\", \"unit\": "
	"\"xa-tu-phap-tan-phu\", \"received_at\": \"2024-02-07T10:00:00+07:00\", \"applicant\": "
	"\"Nguyễn Văn A\", \"handler\": \"tuan.hm\", \"online\": \"full\", \"fee\": 50000, "
	"\"documents\": [{\"name\": \"Tờ khai\", \"pages\": 2}, {\"name\": \"CMND\"}], "
	"\"note\": \"\\u0110\\u00fang h\\u1ea1n \\ud83d\\ude00\"}";

static int run_json(struct torture_out *o)
{
	json_error_t jerr;
	json_t *j = json_loadb(json_body, sizeof(json_body) - 1, JSON_REJECT_DUPLICATES, &jerr);

	if (!j) {
		/* What the API tells apart (api.c): no memory is 503, not a 400 for bad JSON. */
		o->jansson = json_error_code(&jerr) != json_error_out_of_memory && jerr.text[0];
		torture_out_error(o, jerr.text[0] ? jerr.text : "out of memory");
		return -1;
	}
	torture_pause();
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	cr_assert_not_null(s);
	torture_out_add(o, s, strlen(s));
	free(s);
	torture_resume();
	json_decref(j);
	return 0;
}

Test(torture, json_body)
{
	torture_parser("JSON body (jansson)", run_json);
}

static int run_config(struct torture_out *o)
{
	char *errors = NULL, line[200];
	struct config *cfg = config_load(DUNGHAN_SOURCE_DIR "/config/dunghan.conf.example", NULL,
					 NULL, &errors);

	if (!cfg) {
		torture_out_error(o, errors ? errors : "(no error text: it could not be allocated)");
		free(errors);
		return errors ? -1 : -2;
	}
	snprintf(line, sizeof(line), "%zu units, %zu people, %zu procedures\n", cfg->nunits,
		 cfg->npeople, cfg->nprocedures);
	torture_out_add(o, line, strlen(line));
	config_free(cfg);
	return 0;
}

static int run_config_checked(struct torture_out *o)
{
	int rc = run_config(o);

	/* Without memory even for its error text, the loader returns NULL and no text: the daemon
	 * then says "cannot load the configuration" itself. That is an error too. */
	return rc == -2 ? -1 : rc;
}

Test(torture, config)
{
	torture_parser("config", run_config_checked);
}

static int run_template(struct torture_out *o)
{
	const struct template_var v[] = { { "code", "000.00.21.H19-240207-0001" },
					  { "title", "Đăng ký khai sinh <b>&</b>" },
					  { "applicant", "Nguyễn Văn A" },
					  { "unit", "Phòng Tư pháp" } };
	const struct template_vars vars = { v, 4, NULL, 0 };
	struct err err = { 0 };
	struct template_set *set = template_set_load(DUNGHAN_SOURCE_DIR "/config/templates", "vi",
						     &err);
	int rc = 0;

	if (!set) {
		torture_out_error(o, err.msg);
		return -1;
	}
	for (int part = 0; part < TEMPLATE_PART_COUNT && rc == 0; part++) {
		char *text = NULL;
		rc = template_render(set, TEMPLATE_DUE, (enum template_part)part, &vars, &text,
				     &err);
		if (rc == 0) {
			torture_out_add(o, text, strlen(text));
			torture_out_add(o, "\n--\n", 4);
		} else {
			torture_out_error(o, err.msg);
		}
		free(text);
	}
	template_set_free(set);
	return rc;
}

Test(torture, template)
{
	torture_parser("template", run_template);
}

static int run_mail(struct torture_out *o)
{
	const struct mail_address to[] = { { "Lê Thị Bình", "binh.lt@example.gov.vn" },
					   { NULL, "tuan.hm@example.gov.vn" } };
	const struct mail_header headers[] = { { "X-Dunghan-Item", "case:000.00.21.H19-0001" } };
	const struct mail_message m = {
		.from = { "Đúng Hạn — UBND tỉnh", "dunghan@example.gov.vn" },
		.to = to,
		.nto = 2,
		.subject = "[Đến hạn] Hồ sơ 000.00.21.H19-240207-0001 — Đăng ký khai sinh, một "
			   "tiêu đề đủ dài để phải gấp dòng theo RFC 2047 nhiều lần nữa",
		.text = "Kính gửi chị Bình,\n\nHồ sơ đến hạn hôm nay.\n",
		.html = "<p>Kính gửi chị Bình,</p><p>Hồ sơ đến hạn hôm nay.</p>",
		.date = 1707274800,
		.utc_offset = 7 * 3600,
		.id = "outbox-1234",
		.id_salt = "salt",
		.headers = headers,
		.nheaders = 1,
	};
	struct err err = { 0 };
	char *msg = NULL;
	size_t len = 0;

	if (mail_build(&m, &msg, &len, &err) != 0) {
		torture_out_error(o, err.msg[0] ? err.msg : "(empty message)");
		cr_assert_null(msg);
		return -1;
	}
	torture_out_add(o, msg, len);
	free(msg);
	return 0;
}

Test(torture, mail)
{
	ERR_clear_error(); /* OpenSSL's per-thread error queue, allocated once, before arming */
	torture_parser("mail (MIME, RFC 2047)", run_mail);
}
