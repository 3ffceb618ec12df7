/* dunghanctl procedures: the real binary on the example config (its catalogue and the inline
 * procedures over it): table, CSV (which loads back as a catalogue) and JSON output, filters,
 * one procedure in full, and bad arguments. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define EXAMPLE DUNGHAN_SOURCE_DIR "/config/dunghan.conf.example"

static struct harness h;

static void setup(void)
{
	cr_assert_eq(harness_init(&h), 0);
}

static void teardown(void)
{
	harness_close(&h);
}

TestSuite(ctl_procedures, .init = setup, .fini = teardown, .timeout = 60);

/* Runs dunghanctl -c config args...; returns the exit status, the output in *out. */
static int ctl(const char *config, char **out, const char *a1, const char *a2, const char *a3,
	       const char *a4, const char *a5, const char *a6)
{
	char *argv[] = { (char *)harness_dunghanctl(), "-c", (char *)config, (char *)a1, (char *)a2,
			 (char *)a3, (char *)a4, (char *)a5, (char *)a6, NULL };
	struct harness_proc p;
	int rc;

	cr_assert_eq(harness_spawn(&h, &p, argv, NULL, "ctl.log"), 0);
	rc = harness_wait(&p, 10000);
	*out = harness_read(p.stderr_path);
	cr_assert_not_null(*out);
	cr_assert_eq(truncate(p.stderr_path, 0), 0);
	return rc;
}

Test(ctl_procedures, list_by_level_as_table)
{
	char *out;

	cr_assert_eq(ctl(EXAMPLE, &out, "procedures", "list", "--level", "province", NULL, NULL), 0);
	cr_assert_str_eq(out,
		/* columns: the widest cell + 2; the name is 90 characters */
		"Mã thủ tục  Tên thủ tục                                                                                 Số ngày  Gia hạn  Giờ chốt  Cấp\n"
		"3.000333    Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam, người nước ngoài đang cư trú tại Việt Nam  10       15                 province\n");
	free(out);
}

Test(ctl_procedures, json)
{
	char *out;

	cr_assert_eq(ctl(EXAMPLE, &out, "procedures", "list", "--format", "json", "--level",
			 "province"), 0);
	cr_assert_str_eq(out,
		"[\n"
		"  {\n"
		"    \"code\": \"3.000333\",\n"
		"    \"name\": \"Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam, người nước ngoài đang cư trú tại Việt Nam\",\n"
		"    \"days\": 10.0,\n"
		"    \"extended_days\": 15.0,\n"
		"    \"cutoff\": null,\n"
		"    \"level\": \"province\",\n"
		"    \"agency\": \"Công an cấp tỉnh\",\n"
		"    \"on_resume\": \"restart\"\n"
		"  }\n"
		"]\n");
	free(out);
}

Test(ctl_procedures, csv_has_a_bom_and_loads_back_as_a_catalogue)
{
	char *csv, *json_before, *json_after, path[600], conf[600], text[1200];

	cr_assert_eq(ctl(EXAMPLE, &csv, "procedures", "list", "--format", "csv", NULL, NULL), 0);
	cr_assert(strncmp(csv, "\xef\xbb\xbf" "code,name,days,extended_days,cutoff,level,agency,on_resume\r\n",
			  3 + 58) == 0, "%.80s", csv);
	cr_assert(strstr(csv, "\r\n1.001193,Đăng ký khai sinh,0,,15:00,commune,UBND cấp xã,restart\r\n"),
		  "%s", csv);
	cr_assert(strstr(csv, "\r\n2.000635,\"Cấp bản sao Trích lục hộ tịch, bản sao Giấy khai sinh\",0,,"
			      "15:00,commune,UBND cấp xã,restart\r\n"), "%s", csv);
	cr_assert_eq(harness_write(&h, "catalogue.csv", csv), 0);
	snprintf(text, sizeof(text), "procedures_file = \"%s\";\n",
		 harness_path(&h, "catalogue.csv", path, sizeof(path)));
	cr_assert_eq(harness_write(&h, "round.conf", text), 0);
	harness_path(&h, "round.conf", conf, sizeof(conf));
	cr_assert_eq(ctl(EXAMPLE, &json_before, "procedures", "list", "--format", "json", NULL, NULL), 0);
	cr_assert_eq(ctl(conf, &json_after, "procedures", "list", "--format", "json", NULL, NULL), 0,
		     "%s", json_after);
	cr_assert_str_eq(json_after, json_before);
	free(csv);
	free(json_before);
	free(json_after);
}

Test(ctl_procedures, show)
{
	char *out;

	cr_assert_eq(ctl(EXAMPLE, &out, "procedures", "show", "1.004873", NULL, NULL, NULL), 0);
	cr_assert_str_eq(out,
		"Mã thủ tục:       1.004873\n"
		"Tên thủ tục:      Thủ tục cấp Giấy xác nhận tình trạng hôn nhân\n"
		"Thời hạn:         3 ngày làm việc\n"
		"Thời hạn tối đa:  23 ngày làm việc (khi cần xác minh)\n"
		"Giờ chốt:         —\n"
		"Cấp:              commune\n"
		"Cơ quan:          —\n"
		"Khi tiếp tục:     tính lại từ đầu (restart)\n");
	free(out);
	cr_assert_eq(ctl(EXAMPLE, &out, "procedures", "show", "1.001193", NULL, NULL, NULL), 0);
	cr_assert(strstr(out, "Thời hạn:         0 ngày làm việc (trong ngày)\n"), "%s", out);
	cr_assert(strstr(out, "Giờ chốt:         15:00\n"), "%s", out);
	free(out);
}

Test(ctl_procedures, bad_arguments)
{
	char *out;

	cr_assert_eq(ctl(EXAMPLE, &out, "procedures", "show", "9.999999", NULL, NULL, NULL), 1);
	cr_assert(strstr(out, "no procedure has code \"9.999999\""), "%s", out);
	free(out);
	cr_assert_eq(ctl(EXAMPLE, &out, "procedures", "list", "--format", "xml", NULL, NULL), 2);
	cr_assert(strstr(out, "--format \"xml\" is not table, csv or json"), "%s", out);
	free(out);
	cr_assert_eq(ctl(EXAMPLE, &out, "procedures", "list", "--level", NULL, NULL, NULL), 2);
	cr_assert(strstr(out, "takes --level LEVEL and --format table|csv|json"), "%s", out);
	free(out);
	cr_assert_eq(ctl(EXAMPLE, &out, "procedures", "show", NULL, NULL, NULL, NULL), 2);
	cr_assert(strstr(out, "\"procedures show\" expects CODE"), "%s", out);
	free(out);
}
