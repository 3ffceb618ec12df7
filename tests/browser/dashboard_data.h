/* dashboard_data: the office and the dataset the dashboard tests read (test_dashboard.c over
 * HTTP, test_dashboard_browser.c in Chromium), so that both check the same known numbers.
 *
 * The example's office with a commune whose name is an HTML attack and a write-only token;
 * targets of 97% on time; a round-the-clock calendar, so that working time is wall-clock time;
 * two case rules ("soon" a day before due, "due" at due, also to a chat group whose URL nobody
 * serves, so that its message dies after one attempt). Every instant lies within the last hour,
 * in this month: the test is skipped in the first hour of a month, when that cannot be.
 *
 * The cases, year to date (portal basis):
 *   hctc  A1 early, A2 on time or early, A3 late, A4 open within (paused and resumed, at risk),
 *         A5 open overdue (hostile applicant, handler phong.tv): 3 of 5 = 60%
 *   kstt  B1, B2 early: 100%
 *   xa-hostile  C1 open overdue: 0%
 * so vp (hctc + kstt) 5 of 7 = 71.4%, the province 5 of 8 = 62.5%. One directive of the
 * province: to vp (open), to xa-tan-phu (open, overdue), and from vp to hctc (done). */
#ifndef DUNGHAN_TEST_DASHBOARD_DATA_H
#define DUNGHAN_TEST_DASHBOARD_DATA_H

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_fixture.h"
#include "calendar.h"

#define DASH_TEMPLATES DUNGHAN_SOURCE_DIR "/config/templates"
#define DASH_MIN 60
#define DASH_DAY 86400

#define DASH_HOSTILE_UNIT "<script>alert(\"u\")</script> & Co"
#define DASH_HOSTILE_UNIT_HTML "&lt;script&gt;alert(&quot;u&quot;)&lt;/script&gt; &amp; Co"
#define DASH_APPLICANT "<img src=x onerror=alert(1)> Nguyễn \"Văn\" A'"
#define DASH_APPLICANT_HTML "&lt;img src=x onerror=alert(1)&gt; Nguyễn &quot;Văn&quot; A&#39;"
#define DASH_DIRECTIVE "Chỉ thị <b>số 1</b> về cải cách hành chính"
#define DASH_DIRECTIVE_HTML "Chỉ thị &lt;b&gt;số 1&lt;/b&gt; về cải cách hành chính"
#define DASH_WRITER "writer-dev-token" /* scope write only */

static const char *const dash_edits[] = {
	"level = \"commune-section\"; parent = \"xa-tan-phu\"; head = \"binh.lt\"; }",
	"level = \"commune-section\"; parent = \"xa-tan-phu\"; head = \"binh.lt\"; },\n"
	"  { id = \"xa-hostile\"; name = \"<script>alert(\\\"u\\\")</script> & Co\";"
	" level = \"commune\"; parent = \"ubnd-tinh\"; }",
	"channels = [\"hctc-chat\"]", "channels = [\"hctc-group\"]",
	"tokens = (\n",
	"tokens = (\n  { name = \"writer\"; scopes = [\"write\"];\n"
	"    sha256 = \"29ceb11a07a065df73846d58889ad9793b31ed793e7a45a2b20bdb250e7ececd\"; },\n",
	NULL
};

#define DASH_EXTRA                                                                               \
	"escalation: { templates = \"" DASH_TEMPLATES "\"; hold_outside_office_hours = false;\n"  \
	"  cases = ( { id = \"soon\"; when = \"-1d\"; notify = [\"head\"]; },\n"                 \
	"    { id = \"due\"; when = \"due\";"                                                   \
	" notify = [\"head\", \"channel:hctc-group\"]; urgent = true; } );\n};\n"                 \
	"targets = ( { level = \"province\"; on_time = 97.0; },\n"                              \
	"  { level = \"department\"; on_time = 97.0; online = 80.0; online_payment = 30.0;\n"    \
	"    satisfaction = 94.0; digitized = 90.0; inspection = 70.0; },\n"                     \
	"  { level = \"commune\"; on_time = 97.0; online = 30.0; } );\n"

/* Starts dunghand on the dataset's office, with the dashboard on or off. */
static inline void dash_start(struct api_t *t, bool dashboard)
{
	struct api_options o = {
		/* refresh "0s": figures computed afresh on every view, so that the numbers checked
		 * right after writing the data are the data's (test_dashboard_snapshot.c checks the
		 * kept figures). */
		.extra = dashboard ? DASH_EXTRA "dashboard: { enabled = true; refresh = \"0s\"; };\n"
				   : DASH_EXTRA,
		.calendar = API_RTC_CALENDAR,
		.office_edits = dash_edits,
		.delivery = "enabled = true; max_attempts = 1; timeout = \"2s\"; "
			    "connect_timeout = \"1s\";",
	};

	api_t_start(t, &o);
}

/* Skips the test in the first hour of a local month (UTC+7), when the dataset's hour would
 * straddle two months and the figures of "this month" would not be the ones checked. */
static inline int64_t dash_now_or_skip(void)
{
	int64_t now = (int64_t)time(NULL), local = now + 7 * 3600;
	int y, m, d;

	civil_from_days((int32_t)(local / DASH_DAY), &y, &m, &d);
	int64_t month_start = (int64_t)civil_to_days(y, m, 1) * DASH_DAY - 7 * 3600;
	if (now - month_start < 3600)
		cr_skip_test("the first hour of a month: the dataset's hour would straddle two");
	return now;
}

static inline void dash_case(struct api_t *t, int64_t now, const char *code, const char *unit,
			     int64_t due_in, const char *more)
{
	char rec[32], due[32];

	api_format_instant(rec, sizeof(rec), now - 50 * DASH_MIN);
	api_format_instant(due, sizeof(due), now + due_in);
	api_t_reqf(t, "POST", "/api/v1/cases", API_MOTCUA, 201,
		   "{\"code\":\"%s\",\"procedure\":\"1.004222\",\"unit\":\"%s\","
		   "\"received_at\":\"%s\",\"due_at\":\"%s\"%s%s}",
		   code, unit, rec, due, more ? "," : "", more ? more : "");
}

/* An event of case code at now + at (at <= 0), with the body's other members in more. */
static inline void dash_event(struct api_t *t, int64_t now, const char *code, const char *type,
			      int64_t at, const char *more)
{
	char path[128], when[32];

	snprintf(path, sizeof(path), "/api/v1/cases/%s/events", code);
	api_format_instant(when, sizeof(when), now + at);
	api_t_reqf(t, "POST", path, API_MOTCUA, 201, "{\"type\":\"%s\",\"at\":\"%s\"%s%s}", type,
		   when, more ? "," : "", more ? more : "");
}

static inline int64_t dash_assignment(struct api_t *t, const char *path, const char *body)
{
	json_t *j = api_t_req(t, "POST", path, API_VANTHU, body, 201);
	int64_t id = api_int(j, "id");

	cr_assert_gt(id, 0, "POST %s: no id", path);
	return id;
}

/* Waits (bounded) until GET path with token has at least n items under key; returns them. */
static inline json_t *dash_wait_items(struct api_t *t, const char *path, const char *key,
				      const char *token, size_t n)
{
	for (int waited = 0; waited < API_BOUND_MS; waited += 50) {
		json_t *items = json_object_get(api_t_req(t, "GET", path, token, NULL, 200), key);

		if (json_array_size(items) >= n)
			return items;
		api_sleep_ms(50);
	}
	cr_assert_fail("%s: fewer than %zu %s within %d ms", path, n, key, API_BOUND_MS);
	return NULL;
}

/* Waits until the chat message of alert id is dead (its one attempt failed). */
static inline void dash_wait_dead(struct api_t *t, int64_t alert)
{
	for (int waited = 0; waited < API_BOUND_MS; waited += 50) {
		json_t *page = api_t_req(t, "GET", "/api/v1/outbox?channel=chat&limit=500",
					 API_ADMIN, NULL, 200);
		json_t *rows = json_object_get(page, "outbox");
		size_t i;
		json_t *o;

		json_array_foreach(rows, i, o) {
			const char *status = api_str(o, "status");
			if (api_int(o, "alert") == alert && status && !strcmp(status, "dead"))
				return;
		}
		api_sleep_ms(50);
	}
	cr_assert_fail("the chat message of alert %lld did not die within %d ms", (long long)alert,
		       API_BOUND_MS);
}

/* The dataset (see the top of this file), then waits for the alerts of A4 ("soon") and A5
 * ("due": an item found past several rules gets the latest one only) and for the chat message
 * of A5's to be dead. */
static inline void dash_seed(struct api_t *t, int64_t now)
{
	char body[512], due[32];

	dash_case(t, now, "A1", "hctc", DASH_DAY, NULL);
	dash_event(t, now, "A1", "complete", -45 * DASH_MIN, NULL);
	dash_case(t, now, "A2", "hctc", -20 * DASH_MIN, NULL);
	dash_event(t, now, "A2", "complete", -30 * DASH_MIN, NULL);
	dash_case(t, now, "A3", "hctc", -40 * DASH_MIN, NULL);
	dash_event(t, now, "A3", "complete", -10 * DASH_MIN, NULL);
	dash_case(t, now, "A4", "hctc", 60 * DASH_MIN, NULL);
	dash_event(t, now, "A4", "pause", -45 * DASH_MIN, "\"reason\":\"Thiếu giấy tờ\"");
	dash_event(t, now, "A4", "resume", -44 * DASH_MIN, NULL);
	dash_case(t, now, "A5", "hctc", -5 * DASH_MIN,
		  "\"applicant\":\"<img src=x onerror=alert(1)> Nguyễn \\\"Văn\\\" A'\"");
	dash_event(t, now, "A5", "assign", -48 * DASH_MIN, "\"handler\":\"phong.tv\"");
	dash_case(t, now, "B1", "kstt", 2 * DASH_DAY, NULL);
	dash_event(t, now, "B1", "complete", -40 * DASH_MIN, NULL);
	dash_case(t, now, "B2", "kstt", 2 * DASH_DAY, NULL);
	dash_event(t, now, "B2", "complete", -40 * DASH_MIN, NULL);
	dash_case(t, now, "C1", "xa-hostile", -10 * DASH_MIN, NULL);

	api_format_instant(due, sizeof(due), now + 30 * DASH_DAY);
	snprintf(body, sizeof(body),
		 "{\"unit\":\"ubnd-tinh\",\"direction\":\"%s\",\"due_at\":\"%s\"}",
		 DASH_DIRECTIVE, due);
	int64_t top = dash_assignment(t, "/api/v1/assignments", body);
	char path[96];
	snprintf(path, sizeof(path), "/api/v1/assignments/%lld/assignments", (long long)top);
	api_format_instant(due, sizeof(due), now + 20 * DASH_DAY);
	snprintf(body, sizeof(body), "{\"unit\":\"vp\",\"due_at\":\"%s\"}", due);
	int64_t vp = dash_assignment(t, path, body);
	api_format_instant(due, sizeof(due), now - 2 * DASH_DAY);
	snprintf(body, sizeof(body), "{\"unit\":\"xa-tan-phu\",\"due_at\":\"%s\"}", due);
	dash_assignment(t, path, body);
	snprintf(path, sizeof(path), "/api/v1/assignments/%lld/assignments", (long long)vp);
	api_format_instant(due, sizeof(due), now - DASH_DAY);
	snprintf(body, sizeof(body), "{\"unit\":\"hctc\",\"due_at\":\"%s\"}", due);
	int64_t hctc = dash_assignment(t, path, body);
	snprintf(path, sizeof(path), "/api/v1/assignments/%lld/events", (long long)hctc);
	api_t_req(t, "POST", path, API_VANTHU, "{\"type\":\"done\"}", 201);

	dash_wait_items(t, "/api/v1/alerts?item=case:A4", "alerts", API_BAOCAO, 1);
	json_t *alerts = dash_wait_items(t, "/api/v1/alerts?item=case:A5", "alerts", API_BAOCAO, 1);
	size_t i;
	json_t *a;
	int64_t due_alert = 0;
	json_array_foreach(alerts, i, a) {
		if (!strcmp(api_str(a, "rule"), "due"))
			due_alert = api_int(a, "id");
	}
	cr_assert_gt(due_alert, 0, "A5 has no \"due\" alert");
	dash_wait_dead(t, due_alert);
}

/* The text of the element whose id attribute is id: from its tag to the next one with an id of
 * the same prefix (a unit's row of the overview), or to the end. A new string (free it). */
static inline char *dash_section(const char *html, const char *id)
{
	char needle[160];
	const char *start, *end;

	snprintf(needle, sizeof(needle), "id=\"%s\"", id);
	start = strstr(html, needle);
	cr_assert(start, "no element with id %s", id);
	end = strstr(start + strlen(needle), "</li>");
	if (!end)
		end = start + strlen(start);
	return strndup(start, (size_t)(end - start));
}

#endif
