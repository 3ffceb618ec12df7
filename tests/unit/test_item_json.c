/* item_json's text encoders: what they write is byte for byte what jansson writes for the same
 * values (the API answers with either, and stored create hashes depend on the bytes). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "harness.h"
#include "item_json.h"

static struct harness h;
static struct config *cfg;

static const char conf[] =
	"server: { listen = \"127.0.0.1:8686\"; };\n"
	"database: { path = \"/tmp/dunghan-item-json-test.db\"; };\n"
	"log: { level = \"info\"; };\n"
	"calendar: { timezone = \"Asia/Ho_Chi_Minh\";\n"
	"  week = [\"mon\",\"tue\",\"wed\",\"thu\",\"fri\"];\n"
	"  office_hours = [\"07:30-11:30\", \"13:00-17:00\"]; statutory_holidays = true; };\n"
	"units = ( { id = \"vp\"; name = \"Văn phòng \\\"UBND\\\" tỉnh\";\n"
	"  level = \"office\"; } );\n"
	"people = ( { id = \"long.nk\"; name = \"Nguyễn Kim Long\"; unit = \"vp\"; } );\n"
	"procedures = ( { code = \"1.004227\"; name = \"Đăng ký thường trú\"; days = 3.0;"
	" on_resume = \"restart\"; } );\n"
	"tokens = ( { name = \"motcua\"; sha256 = "
	"\"50b9c7302d7af511ffaa3f45ad94ae66593c11e002022aebb43a5724511a9eb9\";"
	" scopes = [\"read\",\"write\"]; } );\n";

static void setup(void)
{
	char path[600], *errors = NULL;

	cr_assert_eq(harness_init(&h), 0);
	cr_assert_eq(harness_write(&h, "t.conf", conf), 0);
	cfg = config_load(harness_path(&h, "t.conf", path, sizeof(path)), NULL, NULL, &errors);
	cr_assert_not_null(cfg, "%s", errors ? errors : "");
}

static void teardown(void)
{
	config_free(cfg);
	harness_close(&h);
}

TestSuite(item_json, .init = setup, .fini = teardown);

static void expect_same_case(const struct case_record *c)
{
	json_t *tree = item_json_case(cfg, cfg->calendar, c);
	char *want = json_dumps(tree, JSON_COMPACT | JSON_REAL_PRECISION(15)), *got;
	struct item_text t = { 0 };
	size_t len;

	item_text_case(&t, cfg, cfg->calendar, c);
	got = item_text_take(&t, &len);
	cr_assert_not_null(got);
	cr_assert_eq(len, strlen(got));
	cr_assert_str_eq(got, want);
	free(got);
	free(want);
	json_decref(tree);
}

Test(item_json, case_text_is_jansson_text_for_a_new_case)
{
	struct case_record c = {
		.id = 7, .code = "000.00.01.H56-240301-0001", .procedure = "1.004227", .unit = "vp",
		.received_at = 1709258400, .due_at = 1709517600, .online = CASE_ONLINE_FULL,
		.paid_online = true, .status = CASE_RECEIVED, .paused_at = TIME_NONE,
		.completed_at = TIME_NONE, .ended_at = TIME_NONE, .rated_at = TIME_NONE,
		.version = 1, .created_at = 1709258400, .updated_at = 1709258400,
	};
	strcpy(c.applicant, "Nguyễn Văn \"Bé\" \\ tab\there\nnew line \x01\x1f end");
	expect_same_case(&c);
}

Test(item_json, case_text_is_jansson_text_with_every_field_set_and_unknown_references)
{
	struct case_record c = {
		.id = 9, .code = "X-1", .procedure = "9.999", .unit = "gone", .handler = "long.nk",
		.received_at = 1709258400, .due_at = 1709517600, .due_given = true,
		.digitized = true,
		.status = CASE_COMPLETED, .outcome = CASE_LATE, .late = true, .extended = true,
		.paused_at = TIME_NONE, .completed_at = 1709600000, .ended_at = TIME_NONE,
		.rating = 4, .rated_at = 1709700000, .version = 12, .fee = 1000000000000000LL,
		.created_at = 1709258400, .updated_at = 1709700000,
	};
	expect_same_case(&c);
}

Test(item_json, flat_objects_and_scalars_are_jansson_text)
{
	const char *in = "{\"b\":\"\\u00e9\\/\\\"x\\u0007\",\"a\":-9223372036854775807,\"t\":true,"
			 "\"f\":false,\"n\":null,\"k\\u0001\":\"\"}";
	json_t *obj = json_loads(in, 0, NULL), *nested = json_loads("{\"a\":[1]}", 0, NULL);
	char *want = json_dumps(obj, JSON_COMPACT), *got;
	struct item_text t = { 0 };
	size_t len;

	cr_assert_eq(item_text_object(&t, obj), 0);
	cr_assert_eq(item_text_object(&t, nested), -1, "an array is not a scalar");
	got = item_text_take(&t, &len);
	cr_assert_str_eq(got, want);
	free(got);
	free(want);
	json_decref(obj);
	json_decref(nested);
}

/* Strings are scanned eight bytes at a time: a byte to escape at every position of strings of
 * every length up to 40, among ASCII and multi-byte UTF-8, must be spelled as jansson spells
 * it. */
Test(item_json, strings_escape_as_jansson_at_every_position)
{
	static const char *const specials[] = { "\"", "\\", "\n", "\x01", "\x1f", "\t", " ", "~",
						"\x7f", "é", "ệ" };
	static const char *const fills[] = { "a", "Đ", "ữ" };

	for (size_t f = 0; f < 3; f++)
		for (size_t len = 0; len <= 40; len++)
			for (size_t at = 0; at <= len; at++)
				for (size_t k = 0; k < sizeof(specials) / sizeof(specials[0]); k++) {
					char s[256] = "";
					struct item_text t = { 0 };
					json_t *js;
					char *want, *got;
					size_t n;

					for (size_t i = 0; i < len; i++)
						strcat(s, i == at ? specials[k] : fills[f]);
					if (at == len)
						strcat(s, specials[k]);
					js = json_string(s);
					cr_assert_not_null(js);
					want = json_dumps(js, JSON_ENCODE_ANY | JSON_COMPACT);
					item_text_str(&t, s, strlen(s));
					got = item_text_take(&t, &n);
					cr_assert_str_eq(got, want, "len %zu at %zu special %zu",
							 len, at, k);
					cr_assert_eq(n, strlen(want));
					free(got);
					free(want);
					json_decref(js);
				}
}
