/* Inspections against the real dunghand (docs/api.md, "Inspections"): a unit records that it
 * inspected one of its direct subordinate units on a date; the records are listed with filters
 * and pages; the coverage (distinct subordinates inspected in the period / subordinates) shows
 * in GET /kpi; and every bad input is refused with the field named, changing nothing.
 *
 * The example's units: ubnd-tinh over vp and xa-tan-phu; vp over hctc, kstt, ttphvhcc and cttdt;
 * xa-tan-phu over xa-tu-phap-tan-phu. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_fixture.h"
#include "calendar.h"

static struct api_t t;

static void setup(void)
{
	struct api_options o = {
		.extra = "targets = ( { level = \"office\"; on_time = 97.0; inspection = 70.0; },\n"
			 "  { level = \"province\"; on_time = 97.0; } );\n",
	};
	api_t_start(&t, &o);
}

static void teardown(void)
{
	api_t_teardown(&t);
}

TestSuite(inspections, .init = setup, .fini = teardown, .timeout = 60);

#define N(a) (sizeof(a) / sizeof((a)[0]))

static json_t *inspect(const char *unit, const char *inspected, const char *date)
{
	json_t *j = api_t_reqf(&t, "POST", "/api/v1/inspections", API_MOTCUA, 201,
			       "{\"unit\":\"%s\",\"inspected_unit\":\"%s\",\"date\":\"%s\"}", unit,
			       inspected, date);
	api_t_expect_str(j, "unit", unit);
	api_t_expect_str(j, "inspected_unit", inspected);
	api_t_expect_str(j, "date", date);
	return j;
}

/* The local date (UTC+7) days from today. */
static void local_date(char *buf, size_t n, int days)
{
	int64_t s = (int64_t)time(NULL) + 7 * 3600 + (int64_t)days * 86400;
	int y, m, d;

	civil_from_days((int32_t)(s / 86400), &y, &m, &d);
	snprintf(buf, n, "%04d-%02d-%02d", y, m, d);
}

/* Expects the list at path to hold the inspections with these ids, in order. */
static void expect_ids(const char *path, const int64_t *ids, size_t n)
{
	json_t *all = api_t_all(&t, path, "inspections", API_BAOCAO);

	cr_assert_eq(json_array_size(all), n, "%s: %zu inspections, expected %zu: %s", path,
		     json_array_size(all), n, json_dumps(all, 0));
	for (size_t i = 0; i < n; i++)
		api_t_expect_int(json_array_get(all, i), "id", ids[i]);
}

Test(inspections, create_and_list)
{
	int64_t now = (int64_t)time(NULL), ids[6];
	char today[16];

	json_t *j = api_t_req(&t, "POST", "/api/v1/inspections", API_MOTCUA,
			      "{\"unit\":\"vp\",\"inspected_unit\":\"hctc\","
			      "\"date\":\"2024-03-05\","
			      "\"note\":\"Kiểm tra công vụ quý I, \\\"đột xuất\\\"\"}", 201);
	ids[0] = api_int(j, "id");
	cr_assert_gt(ids[0], 0);
	api_t_expect_str(j, "unit", "vp");
	api_t_expect_str(j, "inspected_unit", "hctc");
	api_t_expect_str(j, "date", "2024-03-05");
	api_t_expect_str(j, "note", "Kiểm tra công vụ quý I, \"đột xuất\"");
	api_t_expect_str(j, "actor", "motcua");
	int64_t created = api_parse_instant(api_str(j, "created_at"));
	cr_assert(created >= now - 5 && created <= now + 5, "created_at %s",
		  api_str(j, "created_at"));

	local_date(today, sizeof(today), 0);
	ids[1] = api_int(inspect("vp", "kstt", "2024-05-10"), "id");
	cr_assert(api_is_null(t.r.json, "note"));
	ids[2] = api_int(inspect("ubnd-tinh", "xa-tan-phu", "2024-12-31"), "id");
	ids[3] = api_int(inspect("vp", "kstt", "2025-01-10"), "id");
	ids[4] = api_int(inspect("xa-tan-phu", "xa-tu-phap-tan-phu", "2023-11-20"), "id");
	ids[5] = api_int(inspect("vp", "cttdt", today), "id"); /* today is not the future */
	for (size_t i = 1; i < N(ids); i++)
		cr_assert_gt(ids[i], ids[i - 1]);

	/* In the order they were recorded, a page at a time. */
	expect_ids("/api/v1/inspections", ids, 6);
	expect_ids("/api/v1/inspections?limit=2", ids, 6);
	j = api_t_req(&t, "GET", "/api/v1/inspections?limit=6", API_BAOCAO, NULL, 200);
	cr_assert(api_is_null(j, "next_cursor"), "a full last page announces no next one");
	j = api_t_req(&t, "GET", "/api/v1/inspections?limit=5", API_BAOCAO, NULL, 200);
	cr_assert(json_is_string(json_object_get(j, "next_cursor")));

	/* A unit's own inspections; dates inclusive. */
	const int64_t of_vp[] = { ids[0], ids[1], ids[3], ids[5] };
	expect_ids("/api/v1/inspections?unit=vp", of_vp, N(of_vp));
	expect_ids("/api/v1/inspections?unit=hctc", NULL, 0);
	const int64_t in_2024[] = { ids[0], ids[1], ids[2] };
	expect_ids("/api/v1/inspections?from=2024-01-01&to=2024-12-31", in_2024, N(in_2024));
	const int64_t vp_from[] = { ids[1], ids[3], ids[5] };
	expect_ids("/api/v1/inspections?unit=vp&from=2024-05-10&limit=1", vp_from, N(vp_from));
	const int64_t to_only[] = { ids[0], ids[4] };
	expect_ids("/api/v1/inspections?to=2024-03-05", to_only, N(to_only));
	api_t_stop(&t);
}

/* Coverage = distinct direct subordinates inspected in the period / direct subordinates, per
 * inspecting unit; the total adds them up. */
Test(inspections, coverage_in_kpi)
{
	inspect("vp", "hctc", "2024-03-05");
	inspect("vp", "kstt", "2024-05-10");
	inspect("vp", "kstt", "2024-06-01"); /* the same unit again counts once */
	inspect("vp", "ttphvhcc", "2025-01-10");
	inspect("ubnd-tinh", "xa-tan-phu", "2024-12-31");

	json_t *j = api_t_req(&t, "GET", "/api/v1/kpi?period=2024", API_BAOCAO, NULL, 200);
	api_t_expect_str(j, "rows.0.unit", "ubnd-tinh");
	api_t_expect_int(j, "rows.0.counts.subordinates", 2);
	api_t_expect_int(j, "rows.0.counts.inspected", 1);
	cr_assert_eq(json_real_value(api_get(j, "rows.0.rates.inspection")), 50.0);
	api_t_expect_str(j, "rows.1.unit", "vp");
	api_t_expect_int(j, "rows.1.counts.subordinates", 4);
	api_t_expect_int(j, "rows.1.counts.inspected", 2);
	cr_assert_eq(json_real_value(api_get(j, "rows.1.rates.inspection")), 50.0);
	cr_assert_eq(json_real_value(api_get(j, "rows.1.targets.inspection")), 70.0);
	api_t_expect_str(j, "rows.2.unit", "hctc");
	api_t_expect_int(j, "rows.2.counts.subordinates", 0);
	cr_assert(api_is_null(j, "rows.2.rates.inspection"), "no subordinates: no data");
	api_t_expect_str(j, "rows.6.unit", "xa-tan-phu");
	cr_assert_eq(json_real_value(api_get(j, "rows.6.rates.inspection")), 0.0);
	api_t_expect_int(j, "total.counts.subordinates", 7);
	api_t_expect_int(j, "total.counts.inspected", 3);
	cr_assert_eq(json_real_value(api_get(j, "total.rates.inspection")), 42.9); /* 3/7 */

	j = api_t_req(&t, "GET", "/api/v1/kpi?unit=vp&period=2024-Q2", API_BAOCAO, NULL, 200);
	api_t_expect_int(j, "rows.0.counts.inspected", 1);
	cr_assert_eq(json_real_value(api_get(j, "rows.0.rates.inspection")), 25.0);
	j = api_t_req(&t, "GET", "/api/v1/kpi?period=2024-12-31..2025-01-10", API_BAOCAO, NULL,
		      200);
	api_t_expect_int(j, "rows.0.counts.inspected", 1);
	api_t_expect_int(j, "rows.1.counts.inspected", 1);
	j = api_t_req(&t, "GET", "/api/v1/kpi?period=2025-02", API_BAOCAO, NULL, 200);
	api_t_expect_int(j, "total.counts.inspected", 0);
	api_t_stop(&t);
}

/* "unit" and "inspected_unit" of a valid body. */
#define VP_HCTC "\"unit\":\"vp\",\"inspected_unit\":\"hctc\""
#define DATE ",\"date\":\"2024-03-05\""

Test(inspections, bad_input_changes_nothing)
{
	static const struct {
		const char *body;
		int status;
		const char *code, *field;
	} bad[] = {
		{ "{" VP_HCTC, 400, "bad_json", NULL },
		{ "[1]", 400, "bad_json", NULL },
		{ "{\"inspected_unit\":\"hctc\"" DATE "}", 400, "missing_field", "unit" },
		{ "{\"unit\":\"vp\"" DATE "}", 400, "missing_field", "inspected_unit" },
		{ "{" VP_HCTC "}", 400, "missing_field", "date" },
		{ "{" VP_HCTC ",\"date\":null}", 400, "missing_field", "date" },
		{ "{" VP_HCTC DATE ",\"by\":\"x\"}", 400, "unknown_field", "by" },
		{ "{\"unit\":\"nope\",\"inspected_unit\":\"hctc\"" DATE "}", 422,
		  "unknown_reference", "unit" },
		{ "{\"unit\":\"vp\",\"inspected_unit\":\"nope\"" DATE "}", 422,
		  "unknown_reference", "inspected_unit" },
		/* below, but not directly */
		{ "{\"unit\":\"ubnd-tinh\",\"inspected_unit\":\"hctc\"" DATE "}", 400,
		  "invalid_field", "inspected_unit" },
		/* above */
		{ "{\"unit\":\"hctc\",\"inspected_unit\":\"vp\"" DATE "}", 400, "invalid_field",
		  "inspected_unit" },
		{ "{\"unit\":\"vp\",\"inspected_unit\":\"vp\"" DATE "}", 400, "invalid_field",
		  "inspected_unit" },
		/* a sibling */
		{ "{\"unit\":\"hctc\",\"inspected_unit\":\"kstt\"" DATE "}", 400,
		  "invalid_field", "inspected_unit" },
		/* a root has no parent */
		{ "{\"unit\":\"ubnd-tinh\",\"inspected_unit\":\"ubnd-tinh\"" DATE "}", 400,
		  "invalid_field", "inspected_unit" },
		{ "{" VP_HCTC ",\"date\":\"2024-02-30\"}", 400, "invalid_field", "date" },
		{ "{" VP_HCTC ",\"date\":\"2024/03/05\"}", 400, "invalid_field", "date" },
		{ "{" VP_HCTC ",\"date\":\"\"}", 400, "invalid_field", "date" },
		{ "{" VP_HCTC ",\"date\":20240305}", 400, "invalid_field", "date" },
		{ "{" VP_HCTC ",\"date\":\"2024-03-05T10:00:00+07:00\"}", 400, "invalid_field",
		  "date" },
		{ "{" VP_HCTC DATE ",\"note\":\"\"}", 400, "invalid_field", "note" },
		{ "{" VP_HCTC DATE ",\"note\":7}", 400, "invalid_field", "note" },
		{ "{\"unit\":7,\"inspected_unit\":\"hctc\"" DATE "}", 400, "invalid_field",
		  "unit" },
		{ "{\"unit\":\"v p\",\"inspected_unit\":\"hctc\"" DATE "}", 400, "invalid_field",
		  "unit" },
		{ "{\"unit\":\"vp\",\"inspected_unit\":\"hc\\u0000tc\"" DATE "}", 400,
		  "bad_json", NULL },
	};
	static const struct {
		const char *path;
		int status;
		const char *code, *field;
	} bad_queries[] = {
		{ "/api/v1/inspections?unit=nope", 422, "unknown_reference", "unit" },
		{ "/api/v1/inspections?from=2024-13-01", 400, "invalid_query", "from" },
		{ "/api/v1/inspections?to=yesterday", 400, "invalid_query", "to" },
		{ "/api/v1/inspections?from=2024-05-01&to=2024-04-30", 400, "invalid_query", "to" },
		{ "/api/v1/inspections?limit=0", 400, "invalid_query", "limit" },
		{ "/api/v1/inspections?limit=501", 400, "invalid_query", "limit" },
		{ "/api/v1/inspections?limit=ten", 400, "invalid_query", "limit" },
		{ "/api/v1/inspections?cursor=abc", 400, "invalid_query", "cursor" },
		{ "/api/v1/inspections?cursor=-1", 400, "invalid_query", "cursor" },
		{ "/api/v1/inspections?cursor=%2B1", 400, "invalid_query", "cursor" },
		{ "/api/v1/inspections?bogus=1", 400, "invalid_query", "bogus" },
	};
	struct api_db_state before;
	char body[3000], tomorrow[16];

	inspect("vp", "hctc", "2024-03-05");
	api_t_state(&t, &before);
	for (size_t i = 0; i < N(bad); i++) {
		api_t_req(&t, "POST", "/api/v1/inspections", API_MOTCUA, bad[i].body,
			  bad[i].status);
		api_t_expect_error(&t, bad[i].status, bad[i].code, bad[i].field);
	}
	local_date(tomorrow, sizeof(tomorrow), 1);
	api_t_reqf(&t, "POST", "/api/v1/inspections", API_MOTCUA, 400,
		   "{\"unit\":\"vp\",\"inspected_unit\":\"hctc\",\"date\":\"%s\"}", tomorrow);
	api_t_expect_error(&t, 400, "invalid_field", "date");
	memset(body, 0, sizeof(body));
	int n = snprintf(body, sizeof(body), "{" VP_HCTC DATE ",\"note\":\"");
	memset(body + n, 'x', 2001);
	strcpy(body + n + 2001, "\"}");
	api_t_req(&t, "POST", "/api/v1/inspections", API_MOTCUA, body, 400);
	api_t_expect_error(&t, 400, "invalid_field", "note");
	static const char valid[] = "{" VP_HCTC DATE "}";
	api_t_call(&t, "POST", "/api/v1/inspections", API_MOTCUA, "text/plain", valid,
		   strlen(valid), 415);
	api_t_expect_error(&t, 415, "unsupported_media_type", NULL);
	api_t_req(&t, "POST", "/api/v1/inspections", API_BAOCAO, valid, 403);
	api_t_req(&t, "POST", "/api/v1/inspections", NULL, valid, 401);
	api_t_req(&t, "PUT", "/api/v1/inspections", API_MOTCUA, valid, 405);
	for (size_t i = 0; i < N(bad_queries); i++) {
		api_t_req(&t, "GET", bad_queries[i].path, API_BAOCAO, NULL, bad_queries[i].status);
		api_t_expect_error(&t, bad_queries[i].status, bad_queries[i].code,
				   bad_queries[i].field);
	}
	api_t_unchanged(&t, &before);
	api_t_stop(&t);
}
