/* What systemd sees of the real dunghand: STATUS= carries the open items, the overdue ones and
 * the outbox backlog, counted off the loop (the first count about a second after start, then
 * every minute). The watchdog's pings are tested in test_lifecycle.c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "api_fixture.h"

static struct api_t t;

static void teardown(void)
{
	api_t_teardown(&t);
}

TestSuite(health, .fini = teardown);

Test(health, status_counts_open_and_overdue_items)
{
	size_t from = 0;

	api_t_start(&t, NULL);
	/* One case long overdue, one far from due (received now, 15 working days). */
	api_t_req(&t, "POST", "/api/v1/cases", API_MOTCUA,
		  "{\"code\": \"H19-OLD-1\", \"procedure\": \"1.004873\", \"unit\": \"xa-tu-phap-tan-phu\","
		  " \"received_at\": \"2024-02-07T10:00:00+07:00\"}", 201);
	api_t_req(&t, "POST", "/api/v1/cases", API_MOTCUA,
		  "{\"code\": \"H19-NEW-1\", \"procedure\": \"1.004873\", \"unit\": \"xa-tu-phap-tan-phu\","
		  " \"due_at\": \"2099-01-05T10:00:00+07:00\"}", 201);
	api_t_req(&t, "POST", "/api/v1/documents", API_VANTHU,
		  "{\"summary\": \"V/v báo cáo\", \"received_at\": \"2024-02-07T10:00:00+07:00\","
		  " \"lead_unit\": \"hctc\"}", 201);
	/* The first count may have run before the creates, and the next is a minute away: a
	 * restart counts again a second after start. */
	struct err e = { 0 };
	cr_assert_eq(api_fixture_stop(&t.f, &e), 0, "%s", e.msg);
	from = strlen(t.f.h.received);
	cr_assert_eq(api_fixture_restart(&t.f, &e), 0, "%s", e.msg);
	cr_assert(harness_notify_wait(&t.f.h,
				      "; open: 2 cases, 1 documents, 0 assignments; overdue: 2; "
				      "at risk: 0; outbox: 0 pending, 0 dead",
				      &from, API_BOUND_MS),
		  "STATUS= never showed the counts; got:\n%s", t.f.h.received);
	cr_assert(strstr(t.f.h.received, "STATUS=serving on 127.0.0.1:"),
		  "the head of the STATUS line is kept");
}
