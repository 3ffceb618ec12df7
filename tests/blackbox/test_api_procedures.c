/* Procedure deadline rules through the real daemon (issue 12): same-day procedures with a
 * cut-off, the legal extension (`extend`), the procedure catalogue (procedures_file) and the
 * case code pattern. The example config's calendar holds the official 2024 schedule. */
#include <criterion/criterion.h>

#include "api_fixture.h"

static struct api_t t;

#define PATTERN "^[0-9A-Z]{3}\\\\.[0-9A-Z]{2}\\\\.[0-9A-Z]{2}\\\\.H[0-9]{2}-[0-9]{6}-[0-9]{4}$"

static void setup(void)
{
	static const struct api_options o = {
		.extra = "cases: { code_pattern = \"" PATTERN "\"; };\n"
			 "procedures_file = \"" DUNGHAN_SOURCE_DIR "/config/procedures/sample.csv\";\n",
	};
	api_t_start(&t, &o);
}

static void teardown(void)
{
	api_t_stop(&t);
	api_t_teardown(&t);
}

TestSuite(procedures, .init = setup, .fini = teardown, .timeout = 60);

/* Creates a case and returns its due_at. */
static const char *create(const char *code, const char *procedure, const char *received)
{
	json_t *j = api_t_reqf(&t, "POST", "/api/v1/cases", API_MOTCUA, 201,
			       "{\"code\": \"%s\", \"procedure\": \"%s\", \"unit\": \"xa-tan-phu\", "
			       "\"received_at\": \"%s\"}", code, procedure, received);
	return api_str(api_t_keep(&t, json_incref(j)), "due_at");
}

Test(procedures, same_day_with_cutoff)
{
	/* 1.001193 Đăng ký khai sinh: same day, cut-off 15:00. */
	cr_assert_str_eq(create("000.00.21.H19-240307-0001", "1.001193", "2024-03-07T14:30:00+07:00"),
			 "2024-03-07T17:00:00+07:00");
	cr_assert_str_eq(create("000.00.21.H19-240307-0002", "1.001193", "2024-03-07T15:30:00+07:00"),
			 "2024-03-08T17:00:00+07:00");
	/* Received outside office hours, at 18:00: the next working day, before its cut-off. */
	cr_assert_str_eq(create("000.00.21.H19-240307-0003", "1.001193", "2024-03-07T18:00:00+07:00"),
			 "2024-03-08T17:00:00+07:00");
	/* Friday 26/4/2024 after the cut-off: the next working day is Thursday 2/5. */
	cr_assert_str_eq(create("000.00.21.H19-240426-0001", "1.001193", "2024-04-26T16:00:00+07:00"),
			 "2024-05-02T17:00:00+07:00");
	/* Friday 3/5/2024 after the cut-off: Saturday 4/5 is a make-up working day. */
	cr_assert_str_eq(create("000.00.21.H19-240503-0001", "1.001193", "2024-05-03T15:30:00+07:00"),
			 "2024-05-04T17:00:00+07:00");
}

Test(procedures, catalogue_procedures_are_usable)
{
	/* 3.000333 comes from the catalogue only: 10 working days, from Mon 4/3/2024 08:00 to
	 * Mon 18/3 08:00. */
	cr_assert_str_eq(create("000.00.21.H19-240304-0009", "3.000333", "2024-03-04T08:00:00+07:00"),
			 "2024-03-18T08:00:00+07:00");
	/* 2.000884 (catalogue): same day with a 15:00 cut-off. */
	cr_assert_str_eq(create("000.00.21.H19-240304-0010", "2.000884", "2024-03-04T16:00:00+07:00"),
			 "2024-03-05T17:00:00+07:00");
}

Test(procedures, extend_to_the_legal_maximum)
{
	json_t *j;

	/* 1.004873: 3 days, 23 with verification. Mon 4/3/2024 08:00 + 3 days = Thu 7/3 08:00. */
	cr_assert_str_eq(create("000.00.21.H19-240304-0001", "1.004873", "2024-03-04T08:00:00+07:00"),
			 "2024-03-07T08:00:00+07:00");
	j = api_t_req(&t, "POST", "/api/v1/cases/000.00.21.H19-240304-0001/events", API_MOTCUA,
		      "{\"type\": \"extend\", \"at\": \"2024-03-05T10:00:00+07:00\", "
		      "\"reason\": \"Cần xác minh tình trạng hôn nhân tại nơi cư trú trước đây\"}", 201);
	/* 23 working days from Mon 4/3 08:00 (no holiday until 18/4): Thu 4/4 08:00. */
	api_t_expect_str(j, "case.due_at", "2024-04-04T08:00:00+07:00");
	api_t_expect_bool(j, "case.extended", true);
	api_t_expect_bool(j, "case.late", false);
	api_t_expect_str(j, "event.type", "extend");
	api_t_expect_str(j, "event.due_at", "2024-04-04T08:00:00+07:00");
	/* Once only. */
	api_t_req(&t, "POST", "/api/v1/cases/000.00.21.H19-240304-0001/events", API_MOTCUA,
		  "{\"type\": \"extend\", \"at\": \"2024-03-06T10:00:00+07:00\", \"reason\": \"lần hai\"}",
		  409);
	api_t_expect_error(&t, 409, "illegal_transition", "type");
	/* Finished after the original due but by the extended one: on time, not late. */
	j = api_t_req(&t, "POST", "/api/v1/cases/000.00.21.H19-240304-0001/events", API_MOTCUA,
		      "{\"type\": \"complete\", \"at\": \"2024-04-04T08:00:00+07:00\"}", 201);
	api_t_expect_str(j, "case.outcome", "on_time");
}

Test(procedures, extend_refused)
{
	struct api_db_state before;

	/* 1.004222 has no legal extension. */
	create("000.00.21.H19-240304-0002", "1.004222", "2024-03-04T08:00:00+07:00");
	api_t_state(&t, &before);
	api_t_req(&t, "POST", "/api/v1/cases/000.00.21.H19-240304-0002/events", API_MOTCUA,
		  "{\"type\": \"extend\", \"at\": \"2024-03-05T10:00:00+07:00\", \"reason\": \"xác minh\"}",
		  409);
	api_t_expect_error(&t, 409, "illegal_transition", "type");
	api_t_unchanged(&t, &before);
	/* After the due instant (Thu 7/3 08:00): too late for an extension. */
	create("000.00.21.H19-240304-0003", "1.004873", "2024-03-04T08:00:00+07:00");
	api_t_state(&t, &before);
	api_t_req(&t, "POST", "/api/v1/cases/000.00.21.H19-240304-0003/events", API_MOTCUA,
		  "{\"type\": \"extend\", \"at\": \"2024-03-07T08:00:00+07:00\", \"reason\": \"xác minh\"}",
		  409);
	api_t_expect_error(&t, 409, "illegal_transition", "type");
	/* Without a reason. */
	api_t_req(&t, "POST", "/api/v1/cases/000.00.21.H19-240304-0003/events", API_MOTCUA,
		  "{\"type\": \"extend\", \"at\": \"2024-03-05T08:00:00+07:00\"}", 400);
	api_t_expect_error(&t, 400, "missing_field", "reason");
	api_t_unchanged(&t, &before);
}

Test(procedures, code_pattern)
{
	struct api_db_state before;

	create("000.00.32.H19-210708-0032", "1.004222", "2024-03-04T08:00:00+07:00");
	api_t_state(&t, &before);
	static const char *const bad[] = { "HS-0001", "000.00.21.h19-240222-0001",
					   "000.00.21.H19-240222-001", "000.00.21.H19-240222-0001.1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		api_t_reqf(&t, "POST", "/api/v1/cases", API_MOTCUA, 400,
			   "{\"code\": \"%s\", \"procedure\": \"1.004222\", \"unit\": \"xa-tan-phu\"}",
			   bad[i]);
		api_t_expect_error(&t, 400, "invalid_field", "code");
	}
	api_t_unchanged(&t, &before);
}
