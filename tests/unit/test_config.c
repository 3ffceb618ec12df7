/* Configuration: the example validates; each broken config is rejected with an error naming
 * the file, the line and the setting; nothing unknown passes silently. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "harness.h"

static struct harness h;

static void setup(void)
{
	cr_assert_eq(harness_init(&h), 0);
}

static void teardown(void)
{
	harness_close(&h);
}

TestSuite(config, .init = setup, .fini = teardown);

#define TOKEN_HASH "50b9c7302d7af511ffaa3f45ad94ae66593c11e002022aebb43a5724511a9eb9"

/* Ten lines, one setting group each, so that a defect's line number is known. */
static const char *const base_lines[] = {
	"server: { listen = \"127.0.0.1:8686\"; };",
	"database: { path = \"/tmp/dunghan-config-test.db\"; };",
	"log: { level = \"info\"; };",
	"calendar: { timezone = \"Asia/Ho_Chi_Minh\"; week = [\"mon\",\"tue\",\"wed\",\"thu\",\"fri\"];",
	"  office_hours = [\"07:30-11:30\", \"13:00-17:00\"]; statutory_holidays = true; };",
	"units = ( { id = \"vp\"; name = \"Văn phòng UBND tỉnh\"; level = \"office\"; head = \"long.nk\"; },",
	"  { id = \"hctc\"; name = \"Phòng Hành chính - Tổ chức\"; level = \"department\"; parent = \"vp\"; } );",
	"people = ( { id = \"long.nk\"; name = \"Nguyễn Kim Long\"; unit = \"vp\"; } );",
	"procedures = ( { code = \"1.004227\"; name = \"Đăng ký thường trú\"; days = 3.0; on_resume = \"restart\"; } );",
	"tokens = ( { name = \"motcua\"; sha256 = \"" TOKEN_HASH "\"; scopes = [\"read\",\"write\"]; } );",
};

/* Writes the base config with line `line` (1-based; 0 = none) replaced by `text`, loads it. */
static struct config *load_with(int line, const char *text, char **errors, char *path, size_t n)
{
	char buf[8192] = "";

	for (size_t i = 0; i < sizeof(base_lines) / sizeof(base_lines[0]); i++) {
		strcat(buf, (int)i + 1 == line ? text : base_lines[i]);
		strcat(buf, "\n");
	}
	cr_assert_eq(harness_write(&h, "test.conf", buf), 0);
	harness_path(&h, "test.conf", path, n);
	return config_load(path, NULL, NULL, errors);
}

static void expect_error(int line, const char *text, const char *where, const char *message)
{
	char path[600], expected[1000];
	char *errors = NULL;
	struct config *cfg = load_with(line, text, &errors, path, sizeof(path));

	cr_assert_null(cfg, "a config with \"%s\" was accepted", text);
	cr_assert_not_null(errors);
	snprintf(expected, sizeof(expected), "%s:%s: %s", path, where, message);
	cr_assert(strstr(errors, expected), "expected \"%s\" in:\n%s", expected, errors);
	free(errors);
}

Test(config, base_is_valid)
{
	char path[600];
	char *errors = NULL;
	struct config *cfg = load_with(0, NULL, &errors, path, sizeof(path));

	cr_assert_not_null(cfg, "%s", errors ? errors : "");
	cr_assert_null(errors);
	cr_assert_str_eq(cfg->server.listen, "127.0.0.1:8686");
	cr_assert_eq(cfg->server.header_bytes, 16384);
	cr_assert_eq(cfg->server.header_timeout_ms, 10000);
	cr_assert_eq(cfg->server.max_connections, 1024);
	cr_assert_eq(cfg->server.strict_fields, true);
	cr_assert_eq(cfg->log.level, LOG_LEVEL_INFO);
	cr_assert_eq(cfg->nunits, 2);
	cr_assert_str_eq(cfg->units[1].parent, "vp");
	cr_assert_null(cfg->units[1].head);
	cr_assert_str_eq(cfg->people[0].name, "Nguyễn Kim Long");
	cr_assert_float_eq(cfg->procedures[0].days, 3.0, 1e-9);
	cr_assert_eq(cfg->tokens[0].scopes, CONFIG_SCOPE_READ | CONFIG_SCOPE_WRITE);
	cr_assert_eq(cfg->tokens[0].sha256[0], 0x50);
	cr_assert_eq(cfg->tokens[0].sha256[31], 0xb9);
	cr_assert_eq(calendar_day_seconds(cfg->calendar), 8 * 3600);
	config_free(cfg);
}

Test(config, example_validates)
{
	char *errors = NULL;
	struct config *cfg = config_load(DUNGHAN_SOURCE_DIR "/config/dunghan.conf.example", NULL,
					 NULL, &errors);

	cr_assert_not_null(cfg, "%s", errors ? errors : "");
	cr_assert_eq(cfg->nunits, 8);
	cr_assert_eq(cfg->npeople, 9);
	/* The 10 of the catalogue; the 6 inline ones replace theirs. */
	cr_assert_eq(cfg->nprocedures, 10);
	cr_assert_float_eq(config_procedure(cfg, "2.000815")->days, 0.5, 1e-9);
	cr_assert_eq(config_procedure(cfg, "2.000815")->cutoff_min, 0);
	cr_assert_float_eq(config_procedure(cfg, "3.000333")->days, 10, 1e-9);
	cr_assert_float_eq(config_procedure(cfg, "3.000333")->extended_days, 15, 1e-9);
	cr_assert_str_eq(config_procedure(cfg, "3.000333")->level, "province");
	cr_assert_str_eq(config_procedure(cfg, "3.000333")->agency, "Công an cấp tỉnh");
	cr_assert_eq(config_procedure(cfg, "2.000884")->cutoff_min, 15 * 60);
	cr_assert_str_eq(config_procedure(cfg, "2.000884")->on_resume, "restart");
	cr_assert(config_case_code_ok(cfg, "000.00.21.H19-240222-0001"));
	cr_assert_not(config_case_code_ok(cfg, "000.00.21.H19-240222-01"));
	cr_assert_eq(cfg->ntokens, 4);
	cr_assert_str_eq(config_unit(cfg, "hctc")->name, "Phòng Hành chính - Tổ chức");
	cr_assert_str_eq(config_unit(cfg, "xa-tan-phu")->level, "commune");
	cr_assert_str_eq(config_person(cfg, "long.nk")->name, "Nguyễn Kim Long");
	cr_assert_str_eq(config_procedure(cfg, "1.004222")->on_resume, "continue");
	cr_assert_str_eq(cfg->database.path, "/var/lib/dunghan/dunghan.db");
	config_free(cfg);
}

Test(config, unknown_top_level_setting)
{
	expect_error(3, "log: { level = \"info\"; };\nfeatures = true;", "4", "features: unknown setting");
}

Test(config, unknown_setting_in_group)
{
	expect_error(3, "log: { level = \"info\"; colour = true; };", "3",
		     "log.colour: unknown setting");
}

Test(config, unknown_setting_in_list_element)
{
	expect_error(8, "people = ( { id = \"long.nk\"; name = \"Long\"; unit = \"vp\"; phone = \"1\"; } );",
		     "8", "people[0].phone: unknown setting");
}

Test(config, wrong_type)
{
	expect_error(1, "server: { listen = 8686; };", "1", "server.listen: expected a string");
}

Test(config, bad_listen_address)
{
	expect_error(1, "server: { listen = \"localhost:8686\"; };", "1",
		     "server.listen: \"localhost:8686\" is not an address");
}

Test(config, out_of_range)
{
	expect_error(1, "server: { listen = \"127.0.0.1:8686\"; max_connections = 0; };", "1",
		     "server.max_connections: 0 is out of range [1, 100000]");
}

Test(config, float_where_integer_expected)
{
	expect_error(1, "server: { header_bytes = 2048.5; };", "1",
		     "server.header_bytes: expected a whole number");
}

Test(config, bad_log_level)
{
	expect_error(3, "log: { level = \"verbose\"; };", "3",
		     "log.level: \"verbose\" is not one of \"error\", \"warn\", \"info\", \"debug\"");
}

Test(config, dangling_parent)
{
	expect_error(7, "  { id = \"hctc\"; name = \"Phòng\"; level = \"department\"; parent = \"huyen\"; } );",
		     "7", "units[1].parent: no unit has id \"huyen\"");
}

Test(config, dangling_head)
{
	expect_error(6, "units = ( { id = \"vp\"; name = \"VP\"; level = \"office\"; head = \"ghost\"; },",
		     "6", "units[0].head: no person has id \"ghost\"");
}

Test(config, duplicate_unit_id)
{
	expect_error(7, "  { id = \"vp\"; name = \"Phòng\"; level = \"department\"; } );", "7",
		     "units[1].id: duplicate id \"vp\" (also units[0])");
}

Test(config, unit_cycle)
{
	expect_error(6, "units = ( { id = \"vp\"; name = \"VP\"; level = \"office\"; parent = \"hctc\"; },",
		     "6", "units[0].parent: unit \"vp\" is its own ancestor");
}

Test(config, missing_required)
{
	expect_error(7, "  { id = \"hctc\"; level = \"department\"; parent = \"vp\"; } );", "7",
		     "units[1].name: required setting is missing");
}

Test(config, person_in_unknown_unit)
{
	expect_error(8, "people = ( { id = \"long.nk\"; name = \"Long\"; unit = \"so-noi-vu\"; } );", "8",
		     "people[0].unit: no unit has id \"so-noi-vu\"");
}

Test(config, negative_days)
{
	expect_error(9, "procedures = ( { code = \"1.004227\"; name = \"X\"; days = -1; } );", "9",
		     "procedures[0].days: -1 is out of range [0, 3650]");
}

Test(config, bad_on_resume)
{
	expect_error(9, "procedures = ( { code = \"1.004227\"; name = \"X\"; days = 1; on_resume = \"pause\"; } );",
		     "9", "procedures[0].on_resume: \"pause\" is not one of \"restart\", \"continue\"");
}

Test(config, bad_token_hash)
{
	expect_error(10, "tokens = ( { name = \"motcua\"; sha256 = \"abc\"; scopes = [\"read\"]; } );", "10",
		     "tokens[0].sha256: expected 64 hexadecimal digits");
}

Test(config, unknown_scope)
{
	expect_error(10, "tokens = ( { name = \"motcua\"; sha256 = \"" TOKEN_HASH "\"; scopes = [\"delete\"]; } );",
		     "10", "tokens[0].scopes: unknown scope \"delete\"");
}

Test(config, unknown_weekday)
{
	expect_error(4, "calendar: { week = [\"mon\", \"monday\"];", "4",
		     "calendar.week: unknown weekday \"monday\"");
}

Test(config, overlapping_office_hours)
{
	expect_error(5, "  office_hours = [\"07:30-11:30\", \"11:00-17:00\"]; };", "5",
		     "calendar.office_hours: period \"11:00-17:00\" overlaps");
}

Test(config, reversed_office_hours)
{
	expect_error(5, "  office_hours = [\"17:00-13:00\"]; };", "5",
		     "calendar.office_hours: period \"17:00-13:00\" ends before it starts");
}

Test(config, date_that_does_not_exist)
{
	expect_error(5, "  days_off = [\"2023-02-29\"]; };", "5",
		     "calendar.days_off: \"2023-02-29\" is not a date");
}

Test(config, day_both_off_and_make_up)
{
	expect_error(5, "  days_off = [\"2024-05-04\"];\n make_up_days = [\"2024-05-04\"]; };", "6",
		     "calendar.make_up_days: 2024-05-04 is both a day off and a make-up working day");
}

Test(config, unknown_time_zone)
{
	expect_error(4, "calendar: { timezone = \"Asia/Ha_Noi\";", "4", "calendar.timezone: ");
}

Test(config, syntax_error)
{
	expect_error(3, "log: { level = ; };", "3", "(syntax): ");
}

Test(config, round_the_clock_calendar_is_valid)
{
	char path[600];
	char *errors = NULL;
	struct config *cfg;

	cr_assert_eq(harness_write(&h, "rtc.conf",
				   "calendar: { week = [\"mon\",\"tue\",\"wed\",\"thu\",\"fri\",\"sat\",\"sun\"];\n"
				   "  office_hours = [\"00:00-24:00\"]; statutory_holidays = false; };\n"),
		     0);
	cfg = config_load(harness_path(&h, "rtc.conf", path, sizeof(path)), NULL, NULL, &errors);
	cr_assert_not_null(cfg, "%s", errors ? errors : "");
	cr_assert_eq(calendar_day_seconds(cfg->calendar), 86400);
	config_free(cfg);
}

Test(config, unreadable_file)
{
	char *errors = NULL;
	struct config *cfg = config_load("/nonexistent/dunghan.conf", NULL, NULL, &errors);

	cr_assert_null(cfg);
	cr_assert(strstr(errors, "/nonexistent/dunghan.conf:0: (file): cannot read the configuration "
				 "file: No such file or directory"), "%s", errors);
	free(errors);
}

Test(config, schedule_include_errors)
{
	char path[600];
	char *errors = NULL;

	cr_assert_eq(harness_write(&h, "vn-2030.conf",
				   "year = 2030;\n"
				   "days_off = ( { date = \"2030-02-04\"; reason = \"Tết\"; } );\n"
				   "bonus_days = [];\n"), 0);
	cr_assert_eq(harness_write(&h, "inc.conf",
				   "calendar: { include = [\"vn-2030.conf\", \"missing.conf\"]; };\n"), 0);
	cr_assert_null(config_load(harness_path(&h, "inc.conf", path, sizeof(path)), NULL, NULL,
				   &errors));
	char sched[600], expected[1400];
	harness_path(&h, "vn-2030.conf", sched, sizeof(sched));
	snprintf(expected, sizeof(expected), "%s:3: bonus_days: unknown setting", sched);
	cr_assert(strstr(errors, expected), "%s", errors);
	snprintf(expected, sizeof(expected), "%s:1: calendar.include: cannot read \"%s/missing.conf\"",
		 path, h.dir);
	cr_assert(strstr(errors, expected), "%s", errors);
	free(errors);
}

Test(config, cutoff_only_for_same_day_procedures)
{
	expect_error(9, "procedures = ( { code = \"1.004227\"; name = \"X\"; days = 3; cutoff = \"15:00\"; } );",
		     "9", "procedures[0].cutoff: a cut-off applies only to same-day procedures");
}

Test(config, extension_must_be_longer)
{
	expect_error(9, "procedures = ( { code = \"1.004227\"; name = \"X\"; days = 3; extended_days = 3; } );",
		     "9", "procedures[0].extended_days: 3 is not longer than days (3)");
}

Test(config, bad_code_pattern)
{
	expect_error(3, "log: { level = \"info\"; };\ncases: { code_pattern = \"([0-9\"; };", "4",
		     "cases.code_pattern: not a valid POSIX extended regular expression");
}

Test(config, catalogue_errors_name_their_lines)
{
	char path[600], csv[600], expected[1400];
	char *errors = NULL;

	cr_assert_eq(harness_write(&h, "catalogue.csv",
				   "code,name,days,extended_days,cutoff,level,agency,note\n"
				   "1.001193,Đăng ký khai sinh,0,,15:00,commune,UBND cấp xã,\n"
				   "1.004873,Xác nhận tình trạng hôn nhân,ba,,,commune,UBND cấp xã,\n"
				   "1.001193,Đăng ký khai sinh lần nữa,0,,,commune,,\n"
				   "1.004222,,7,,,commune,,\n"
				   "3.000333,Lý lịch tư pháp,10,15,16:00,province,,\n"
				   "\"1.000894,Đăng ký kết hôn,0\n"), 0);
	cr_assert_eq(harness_write(&h, "cat.conf", "procedures_file = \"catalogue.csv\";\n"), 0);
	cr_assert_null(config_load(harness_path(&h, "cat.conf", path, sizeof(path)), NULL, NULL,
				   &errors));
	harness_path(&h, "catalogue.csv", csv, sizeof(csv));
	snprintf(expected, sizeof(expected), "%s:3: days: \"ba\" is not a number of days", csv);
	cr_assert(strstr(errors, expected), "%s", errors);
	snprintf(expected, sizeof(expected), "%s:4: code: procedure 1.001193 is listed twice", csv);
	cr_assert(strstr(errors, expected), "%s", errors);
	snprintf(expected, sizeof(expected), "%s:5: name: a name of 1 to 500 bytes is required", csv);
	cr_assert(strstr(errors, expected), "%s", errors);
	snprintf(expected, sizeof(expected), "%s:6: cutoff: \"16:00\": a cut-off is a time", csv);
	cr_assert(strstr(errors, expected), "%s", errors);
	snprintf(expected, sizeof(expected), "%s:7: ", csv);
	cr_assert(strstr(errors, expected), "the unterminated quote on line 7: %s", errors);
	free(errors);
}

Test(config, catalogue_missing_column_and_file)
{
	char path[600], expected[1400];
	char *errors = NULL;

	cr_assert_eq(harness_write(&h, "nodays.csv", "code,name\n1.001193,Đăng ký khai sinh\n"), 0);
	cr_assert_eq(harness_write(&h, "c1.conf", "procedures_file = \"nodays.csv\";\n"), 0);
	cr_assert_null(config_load(harness_path(&h, "c1.conf", path, sizeof(path)), NULL, NULL, &errors));
	snprintf(expected, sizeof(expected), "%s/nodays.csv:1: days: ", h.dir);
	cr_assert(strstr(errors, expected), "%s", errors);
	free(errors);

	cr_assert_eq(harness_write(&h, "c2.conf", "procedures_file = \"none.csv\";\n"), 0);
	cr_assert_null(config_load(harness_path(&h, "c2.conf", path, sizeof(path)), NULL, NULL, &errors));
	snprintf(expected, sizeof(expected), "%s:1: procedures_file: ", path);
	cr_assert(strstr(errors, expected), "%s", errors);
	free(errors);
}

/* --- delivery: email, delivery, channels --- */

static void expect_text_error(const char *text, const char *where, const char *message)
{
	char path[600], expected[1000];
	char *errors = NULL;

	cr_assert_eq(harness_write(&h, "d.conf", text), 0);
	cr_assert_null(config_load(harness_path(&h, "d.conf", path, sizeof(path)), NULL, NULL,
				   &errors), "accepted: %s", text);
	snprintf(expected, sizeof(expected), "%s:%s: %s", path, where, message);
	cr_assert(strstr(errors, expected), "expected \"%s\" in:\n%s", expected, errors);
	free(errors);
}

Test(config, example_delivery_settings)
{
	char *errors = NULL;
	struct config *cfg = config_load(DUNGHAN_SOURCE_DIR "/config/dunghan.conf.example", NULL,
					 NULL, &errors);

	cr_assert_not_null(cfg, "%s", errors ? errors : "");
	cr_assert_str_eq(cfg->email.transport, "file");
	cr_assert_str_eq(cfg->email.dir, "var/mail");
	cr_assert_str_eq(cfg->email.from, "Đúng Hạn <dunghan@dongnai.gov.vn>");
	cr_assert(cfg->delivery.enabled);
	cr_assert_eq(cfg->delivery.max_attempts, 12);
	cr_assert_eq(cfg->delivery.backoff_base_ms, 30000);
	cr_assert_eq(cfg->delivery.backoff_cap_ms, 3600000);
	cr_assert_eq(cfg->delivery.max_age_ms, 2 * 86400 * 1000LL);
	cr_assert_eq(cfg->nchannels, 2);
	cr_assert_str_eq(config_channel(cfg, "hctc-chat")->type, "slack");
	cr_assert_eq(config_channel(cfg, "hctc-chat")->max_connections, 4);
	cr_assert_str_eq(config_unit(cfg, "hctc")->channels[0], "hctc-chat");
	config_free(cfg);
}

Test(config, no_email_section_means_no_transport)
{
	char path[600];
	char *errors = NULL;
	struct config *cfg;

	cr_assert_eq(harness_write(&h, "n.conf", "log: { level = \"info\"; };\n"), 0);
	cfg = config_load(harness_path(&h, "n.conf", path, sizeof(path)), NULL, NULL, &errors);
	cr_assert_not_null(cfg, "%s", errors ? errors : "");
	cr_assert_null(cfg->email.transport);
	cr_assert(cfg->delivery.enabled);
	config_free(cfg);
}

Test(config, email_errors)
{
	expect_text_error("email: { transport = \"pigeon\"; from = \"a@b.vn\"; };\n", "1",
			  "email.transport: \"pigeon\" is not one of \"smtp\", \"file\"");
	expect_text_error("email: { transport = \"smtp\"; from = \"a@b.vn\"; };\n", "1",
			  "email.url: the smtp transport needs a url");
	expect_text_error("email: { transport = \"smtp\"; url = \"http://mail.b.vn\"; from = \"a@b.vn\"; };\n",
			  "1", "email.url: \"http://mail.b.vn\" is not smtp://host:port");
	expect_text_error("email: { transport = \"smtp\"; url = \"smtp://mail.b.vn:25\"; tls = \"none\";\n"
			  " from = \"a@b.vn\"; };\n",
			  "1", "email.tls: tls = \"none\" is allowed only for a loopback host");
	expect_text_error("email: { transport = \"smtp\"; url = \"smtp://mail.b.vn:587\"; from = \"a@b.vn\";\n"
			  "  username = \"dunghan\"; password_file = \"nowhere\"; };\n",
			  "2", "email.password_file: cannot read");
	expect_text_error("email: { transport = \"file\"; };\n", "1",
			  "email.from: required setting is missing");
}

Test(config, delivery_errors)
{
	expect_text_error("delivery: { backoff_base = \"soon\"; };\n", "1",
			  "delivery.backoff_base: \"soon\" is not a duration like \"30s\"");
	expect_text_error("delivery: { max_attempts = 0; };\n", "1",
			  "delivery.max_attempts: 0 is out of range [1, 1000]");
}

Test(config, channel_errors)
{
	static const char units[] =
		"units = ( { id = \"vp\"; name = \"VP\"; level = \"office\"; channels = [\"vp-chat\"]; } );\n";

	expect_text_error(units, "1", "units[0].channels: no channel has id \"vp-chat\"");
	expect_text_error("channels = ( { id = \"t\"; type = \"telegram\"; chat_id = \"-100\"; } );\n",
			  "1", "channels[0]: a telegram channel needs chat_id and token_file");
	expect_text_error("channels = ( { id = \"j\"; type = \"json\"; url = \"https://x.vn/h\"; } );\n",
			  "1", "channels[0]: a json channel needs secret_file");
	expect_text_error("channels = ( { id = \"s\"; type = \"slack\"; url = \"http://chat.x.vn/h\"; } );\n",
			  "1", "channels[0]: url: ");
	expect_text_error("channels = ( { id = \"s\"; type = \"slack\"; url = \"https://x.vn/1\"; },\n"
			  "  { id = \"s\"; type = \"slack\"; url = \"https://x.vn/2\"; } );\n",
			  "2", "channels[1]: duplicate id \"s\"");
	expect_text_error("channels = ( { id = \"s\"; type = \"fax\"; url = \"https://x.vn/1\"; } );\n",
			  "1", "channels[0].type: \"fax\" is not one of");
	expect_text_error("escalation: { templates = \"" DUNGHAN_SOURCE_DIR "/config/templates\";\n"
			  "  cases = ( { id = \"a\"; when = \"due\"; notify = [\"channel:nowhere\"]; } ); };\n",
			  "2", "escalation.cases[0].notify: no channel has id \"nowhere\"");
}

/* --- dashboard --- */

Test(config, dashboard_refresh)
{
	char path[600];
	char *errors = NULL;
	struct config *cfg = load_with(0, NULL, &errors, path, sizeof(path));

	cr_assert_not_null(cfg, "%s", errors ? errors : "");
	cr_assert_eq(cfg->dashboard.refresh_ms, 5 * 60 * 1000); /* the default */
	config_free(cfg);
	cfg = load_with(3, "log: { level = \"info\"; }; dashboard: { refresh = \"0s\"; };", &errors,
			path, sizeof(path));
	cr_assert_not_null(cfg, "%s", errors ? errors : "");
	cr_assert_eq(cfg->dashboard.refresh_ms, 0); /* computed afresh on every view */
	config_free(cfg);
	cfg = config_load(DUNGHAN_SOURCE_DIR "/config/dunghan.conf.example", NULL, NULL, &errors);
	cr_assert_not_null(cfg, "%s", errors ? errors : "");
	cr_assert_eq(cfg->dashboard.refresh_ms, 5 * 60 * 1000);
	config_free(cfg);
	expect_error(3, "log: { level = \"info\"; }; dashboard: { refresh = \"soon\"; };", "3",
		     "dashboard.refresh: \"soon\" is not a duration like \"30s\"");
	expect_error(3, "log: { level = \"info\"; }; dashboard: { refresh = \"2d\"; };", "3",
		     "dashboard.refresh: \"2d\" is not a duration like \"30s\", \"1h\" or \"2d\" "
		     "from 0s to 86400s");
	expect_error(3, "log: { level = \"info\"; }; dashboard: { refresh = 300; };", "3",
		     "dashboard.refresh: ");
}

/* --- errors that name the right place, and only the real errors --- */

#define TEMPLATES "templates = \"" DUNGHAN_SOURCE_DIR "/config/templates\";"

/* Loads text as e.conf, which must be refused; returns the report (caller frees). */
static char *refused(const char *text, char *path, size_t n)
{
	char *errors = NULL;

	cr_assert_eq(harness_write(&h, "e.conf", text), 0);
	cr_assert_null(config_load(harness_path(&h, "e.conf", path, n), NULL, NULL, &errors),
		       "accepted: %s", text);
	cr_assert_not_null(errors);
	return errors;
}

/* The report of text is exactly the one line "<path>:<where>: <message>". */
static void expect_only_error(const char *text, const char *where, const char *message)
{
	char path[600], expected[1400];
	char *errors = refused(text, path, sizeof(path));

	snprintf(expected, sizeof(expected), "%s:%s: %s\n", path, where, message);
	cr_assert_str_eq(errors, expected, "for:\n%s", text);
	free(errors);
}

Test(config, unknown_notify_target_named_at_its_line)
{
	expect_text_error("channels = ( { id = \"s\"; type = \"slack\"; url = \"https://x.vn/1\"; } );\n"
			  "escalation: { " TEMPLATES "\n"
			  "  cases = (\n"
			  "    { id = \"a\"; when = \"due\";\n"
			  "      notify = [\"handler\",\n"
			  "                \"channel:nochan\"]; } ); };\n",
			  "6", "escalation.cases[0].notify: no channel has id \"nochan\"");
	expect_text_error("escalation: { " TEMPLATES "\n"
			  "  documents = (\n"
			  "    { id = \"a\"; when = \"due\";\n"
			  "      notify = [\"person:ghost\"]; } ); };\n",
			  "4", "escalation.documents[0].notify: no person has id \"ghost\"");
	expect_text_error("escalation: { " TEMPLATES "\n"
			  "  cases = ( { id = \"a\"; when = \"due\"; notify = [\"head\"];\n"
			  "      units = [\"nowhere\"]; } ); };\n",
			  "3", "escalation.cases[0].units: no unit has id \"nowhere\"");
}

/* Bad office hours make no day length: what is counted in days must not fail because of it. */
static void expect_only_office_hours_error(const char *calendar, const char *message)
{
	char text[1000];

	snprintf(text, sizeof(text),
		 "%s\n"
		 "documents: { urgency_due = { normal = \"10d\"; urgent = \"3d\"; }; };\n"
		 "escalation: { " TEMPLATES "\n"
		 "  cases = ( { id = \"a\"; when = \"due\"; notify = [\"handler\"]; },\n"
		 "            { id = \"b\"; when = \"-1d\"; notify = [\"handler\"]; repeat = \"1d\"; } ); };\n",
		 calendar);
	expect_only_error(text, "1", message);
	/* and with no documents section at all */
	snprintf(text, sizeof(text), "%s\n", calendar);
	expect_only_error(text, "1", message);
}

Test(config, bad_office_hours_report_only_themselves)
{
	expect_only_office_hours_error("calendar: { office_hours = [\"7:30-11:30\"]; };",
				       "calendar.office_hours: \"7:30-11:30\" is not a period like "
				       "\"07:30-11:30\"");
	expect_only_office_hours_error("calendar: { office_hours = []; };",
				       "calendar.office_hours: expected an array of 1 to 8 periods "
				       "like [\"07:30-11:30\", \"13:00-17:00\"]");
	expect_only_office_hours_error("calendar: { office_hours = [\"07:30-07:30\"]; };",
				       "calendar.office_hours: period \"07:30-07:30\" ends before it "
				       "starts");
	expect_only_office_hours_error("calendar = (1);",
				       "calendar: expected a group: calendar = { ... };");
}

/* A more urgent document may not have more time than a less urgent one. */
Test(config, urgency_due_goes_down_with_urgency)
{
	char path[600], expected[2400];
	char *errors = refused("documents: { urgency_due = { normal = \"1d\"; urgent = \"10d\";\n"
			       "  very_urgent = \"20d\"; flash = \"30d\"; }; };\n",
			       path, sizeof(path));

	snprintf(expected, sizeof(expected),
		 "%s:1: documents.urgency_due.urgent: \"10d\" is more time than normal's \"1d\": a "
		 "more urgent document may not have longer\n"
		 "%s:2: documents.urgency_due.very_urgent: \"20d\" is more time than urgent's "
		 "\"10d\": a more urgent document may not have longer\n"
		 "%s:2: documents.urgency_due.flash: \"30d\" is more time than very_urgent's \"20d\": "
		 "a more urgent document may not have longer\n",
		 path, path, path);
	cr_assert_str_eq(errors, expected);
	free(errors);
}

Test(config, a_bad_duration_is_still_reported_with_bad_office_hours)
{
	char path[600], expected[1400];
	char *errors = refused("calendar: { office_hours = []; };\n"
			       "documents: { urgency_due = { normal = \"ten days\"; }; };\n",
			       path, sizeof(path));

	snprintf(expected, sizeof(expected), "%s:2: documents.urgency_due.normal: \"ten days\" is "
		 "not a working time", path);
	cr_assert(strstr(errors, expected), "%s", errors);
	free(errors);
}

#define UNIT(id, parent) "{ id = \"" id "\"; name = \"" id "\"; level = \"x\"; parent = \"" parent "\"; }"

Test(config, a_unit_cycle_is_reported_once_and_only_for_its_units)
{
	expect_only_error("units = ( " UNIT("ubnd-tinh", "ubnd-tinh") ",\n"
			  "  " UNIT("vp", "ubnd-tinh") ",\n"
			  "  " UNIT("hctc", "vp") " );\n",
			  "1", "units[0].parent: unit \"ubnd-tinh\" is its own ancestor (the parents "
			  "form a cycle: ubnd-tinh → ubnd-tinh)");
	expect_only_error("units = ( " UNIT("kstt", "hctc") ",\n"
			  "  " UNIT("ubnd-tinh", "vp") ",\n"
			  "  " UNIT("hctc", "ubnd-tinh") ",\n"
			  "  " UNIT("vp", "hctc") ",\n"
			  "  " UNIT("ttphvhcc", "kstt") " );\n",
			  "2", "units[1].parent: unit \"ubnd-tinh\" is its own ancestor (the parents "
			  "form a cycle: ubnd-tinh → vp → hctc → ubnd-tinh)");
}

Test(config, integers_out_of_range_are_printed_exactly)
{
	expect_error(1, "server: { header_bytes = 1048577; };", "1",
		     "server.header_bytes: 1048577 is out of range [1024, 1048576]");
	expect_error(1, "server: { body_bytes = 67108865; };", "1",
		     "server.body_bytes: 67108865 is out of range [1024, 67108864]");
	expect_error(1, "server: { batch_body_bytes = 1073741825; };", "1",
		     "server.batch_body_bytes: 1073741825 is out of range [1024, 1073741824]");
	expect_error(2, "database: { max_size_mb = 16777217; };", "2",
		     "database.max_size_mb: 16777217 is out of range [0, 16777216]");
	expect_error(1, "server: { header_timeout = 0.005; };", "1",
		     "server.header_timeout: 0.005 is out of range [0.01, 3600]");
	expect_text_error("delivery: { max_age = \"100d\"; };\n", "1",
			  "delivery.max_age: \"100d\" is not a duration like \"30s\", \"1h\" or "
			  "\"2d\" from 1s to 7776000s");
}

/* libconfig 1.5 reads such integers modulo 2^32 (4294967297 as 1) without a word. */
Test(config, integers_beyond_32_bits_are_out_of_range_as_written)
{
	expect_error(1, "server: { max_connections = 4294967297; };", "1",
		     "server.max_connections: 4294967297 is out of range [1, 100000]");
	expect_error(1, "server: { max_connections = 3000000000; };", "1",
		     "server.max_connections: 3000000000 is out of range [1, 100000]");
	expect_error(1, "server: { max_connections = -4294966272; };", "1",
		     "server.max_connections: -4294966272 is out of range [1, 100000]");
	expect_error(1, "server: { max_connections = 99999999999999999999; };", "1",
		     "server.max_connections: 99999999999999999999 is out of range [1, 100000]");
	expect_error(1, "server: { max_connections = 0x100000001; };", "1",
		     "server.max_connections: 0x100000001 is out of range [1, 100000]");
	expect_error(1, "server: { max_connections = 4294967297L; };", "1",
		     "server.max_connections: 4294967297 is out of range [1, 100000]");
	expect_error(9, "procedures = ( { code = \"1.004227\"; name = \"X\"; days = 4294967299; } );",
		     "9", "procedures[0].days: 4294967299 is out of range [0, 3650]");
	expect_text_error("targets = ( { level = \"commune\"; on_time = 4294967393; } );\n", "1",
			  "targets[0].on_time: 4294967393 is not a percentage from 0 to 100");
}

Test(config, integers_that_fit_are_read_as_they_are)
{
	char path[600];
	char *errors = NULL;
	struct config *cfg;

	/* the same name twice on a line, the second one in range */
	cr_assert_eq(harness_write(&h, "ok.conf",
				   "server: { max_connections = 100000; }; email: { transport = \"file\"; "
				   "from = \"a@b.vn\"; max_connections = 7; };\n"
				   "database: { max_size_mb = 0x10; };\n"), 0);
	cfg = config_load(harness_path(&h, "ok.conf", path, sizeof(path)), NULL, NULL, &errors);
	cr_assert_not_null(cfg, "%s", errors ? errors : "");
	cr_assert_eq(cfg->server.max_connections, 100000);
	cr_assert_eq(cfg->email.max_connections, 7);
	cr_assert_eq(cfg->database.max_size_mb, 16);
	config_free(cfg);
}

Test(config, schedule_dates_belong_to_its_year)
{
	char path[600], sched[600], expected[1400];
	char *errors = NULL;

	cr_assert_eq(harness_write(&h, "vn-2027.conf",
				   "year = 2027;\n"
				   "days_off = [\"2027-01-04\", \"2028-01-05\"];\n"
				   "make_up_days = ( { date = \"2026-12-26\"; reason = \"bù\"; } );\n"), 0);
	cr_assert_eq(harness_write(&h, "y.conf", "calendar: { include = [\"vn-2027.conf\"]; };\n"), 0);
	cr_assert_null(config_load(harness_path(&h, "y.conf", path, sizeof(path)), NULL, NULL,
				   &errors));
	harness_path(&h, "vn-2027.conf", sched, sizeof(sched));
	snprintf(expected, sizeof(expected),
		 "%s:2: days_off: \"2028-01-05\" is not in 2027, the year of this schedule\n"
		 "%s:3: make_up_days: \"2026-12-26\" is not in 2027, the year of this schedule\n",
		 sched, sched);
	cr_assert_str_eq(errors, expected);
	free(errors);

	cr_assert_eq(harness_write(&h, "vn-2028.conf", "year = 4294969424;\n"), 0);
	cr_assert_eq(harness_write(&h, "y2.conf", "calendar: { include = [\"vn-2028.conf\"]; };\n"), 0);
	cr_assert_null(config_load(harness_path(&h, "y2.conf", path, sizeof(path)), NULL, NULL,
				   &errors));
	harness_path(&h, "vn-2028.conf", sched, sizeof(sched));
	snprintf(expected, sizeof(expected),
		 "%s:1: year: 4294969424 is out of range [1900, 2199]\n", sched);
	cr_assert_str_eq(errors, expected);
	free(errors);
}

Test(config, ca_file_must_be_readable)
{
	expect_text_error("email: { transport = \"smtp\"; url = \"smtps://mail.b.vn:465\";\n"
			  "  from = \"a@b.vn\"; ca_file = \"/nonexistent.pem\"; };\n",
			  "2", "email.ca_file: cannot read \"/nonexistent.pem\": No such file or directory");
}

Test(config, ca_file_is_relative_to_the_config_file)
{
	char path[600], ca[600];
	char *errors = NULL;
	struct config *cfg;

	cr_assert_eq(harness_write(&h, "ca.pem", "-----BEGIN CERTIFICATE-----\n"), 0);
	cr_assert_eq(harness_write(&h, "ca.conf",
				   "email: { transport = \"smtp\"; url = \"smtps://mail.b.vn:465\";\n"
				   "  from = \"a@b.vn\"; ca_file = \"ca.pem\"; };\n"), 0);
	cfg = config_load(harness_path(&h, "ca.conf", path, sizeof(path)), NULL, NULL, &errors);
	cr_assert_not_null(cfg, "%s", errors ? errors : "");
	cr_assert_str_eq(cfg->email.ca_file, harness_path(&h, "ca.pem", ca, sizeof(ca)));
	config_free(cfg);
}

/* A copy of the shipped Vietnamese templates in the test directory, under tpl/vi/. */
static void copy_templates(void)
{
	static const char *const suffixes[] = { ".subject", ".txt", ".html", ".chat" };
	char src[600], dst[600], text[70000];

	cr_assert_eq(mkdir(harness_path(&h, "tpl", dst, sizeof(dst)), 0700), 0);
	cr_assert_eq(mkdir(harness_path(&h, "tpl/vi", dst, sizeof(dst)), 0700), 0);
	for (int k = 0; k < TEMPLATE_KIND_COUNT; k++)
		for (int p = 0; p < TEMPLATE_PART_COUNT; p++) {
			snprintf(src, sizeof(src), DUNGHAN_SOURCE_DIR "/config/templates/vi/%s%s",
				 template_kind_name((enum template_kind)k), suffixes[p]);
			FILE *f = fopen(src, "r");
			cr_assert_not_null(f, "%s", src);
			size_t n = fread(text, 1, sizeof(text) - 1, f);
			fclose(f);
			text[n] = '\0';
			snprintf(dst, sizeof(dst), "tpl/vi/%s%s",
				 template_kind_name((enum template_kind)k), suffixes[p]);
			cr_assert_eq(harness_write(&h, dst, text), 0, "%s", dst);
		}
}

Test(config, every_broken_template_is_reported)
{
	char path[600], dir[600], expected[1400];
	char *errors;

	copy_templates();
	cr_assert_eq(harness_write(&h, "tpl/vi/overdue.txt", "Hồ sơ {{code}}\n{{cod}}\n"), 0);
	cr_assert_eq(harness_write(&h, "tpl/vi/due.chat", "{{#code}} hạn\n"), 0);
	errors = refused("escalation: { templates = \"tpl\";\n"
			 "  cases = ( { id = \"a\"; when = \"due\"; notify = [\"handler\"]; } ); };\n",
			 path, sizeof(path));
	harness_path(&h, "tpl/vi", dir, sizeof(dir));
	snprintf(expected, sizeof(expected), "%s:1: escalation.templates: %s/due.chat:1: ", path, dir);
	cr_assert(strstr(errors, expected), "expected \"%s\" in:\n%s", expected, errors);
	snprintf(expected, sizeof(expected), "%s:1: escalation.templates: %s/overdue.txt:2: ", path,
		 dir);
	cr_assert(strstr(errors, expected), "expected \"%s\" in:\n%s", expected, errors);
	cr_assert_eq(strchr(strchr(errors, '\n') + 1, '\n'), errors + strlen(errors) - 1,
		     "not two lines:\n%s", errors);
	free(errors);
}
