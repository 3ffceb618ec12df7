/* Tests of case: the rules of a one-stop case (states, events, due computation, pause and
 * resume, outcome), against docs/api.md "One-stop cases". Every expected instant is worked out
 * by hand from 8-hour office days (07:30-11:30, 13:00-17:00, Monday to Friday) in
 * Asia/Ho_Chi_Minh and the official 2024 schedule: off 1/1, 8-9/2 and 12-14/2 (Tết Giáp Thìn),
 * 18/4 (Giỗ Tổ), 29/4 (swapped), 30/4, 1/5, 2-3/9; Saturday 4/5 worked (make-up for 29/4). */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "calendar.h"
#include "office_calendar.h"
#include "case.h"

#define HOUR 3600
#define DAY8H (8 * HOUR)

/* --- fixture: the 2024 office calendar --- */

static struct calendar *cal;

static void setup(void)
{
	struct err err;

	cal = office_calendar_2024(&err);
	cr_assert_not_null(cal, "calendar_new: %s (%s)", err.msg, err.field);
	cr_assert_eq(calendar_day_seconds(cal), DAY8H);
}

static void teardown(void)
{
	calendar_free(cal);
	cal = NULL;
}

TestSuite(case_due, .init = setup, .fini = teardown);
TestSuite(case_judge, .init = setup, .fini = teardown);
TestSuite(case_apply, .init = setup, .fini = teardown);
TestSuite(case_names);

/* --- helpers --- */

static int64_t T(const char *rfc3339)
{
	int64_t t;
	struct err err;

	cr_assert_eq(calendar_parse_rfc3339(rfc3339, &t, &err), 0, "%s: %s", rfc3339, err.msg);
	return t;
}

/* Expects instant `got` to be `want`, showing both in local time when not. */
static void expect_instant(int64_t got, const char *want, const char *what)
{
	char buf[64] = "(none)";

	if (got != TIME_NONE)
		calendar_format(cal, got, buf, sizeof(buf));
	cr_expect_eq(got, T(want), "%s: got %s, want %s", what, buf, want);
}

static void expect_due(const char *received, double days, const char *want)
{
	char what[128];

	snprintf(what, sizeof(what), "case_due(%s, %g days)", received, days);
	struct case_procedure p = { .days = days };
	expect_instant(case_due(cal, T(received), &p), want, what);
}

/* The case of most tests: received Monday 4 March 2024 08:00 under a 5-day procedure.
 * Due: Mon 08:00-11:30 3.5 h + 4 h = 7.5 h; Tue, Wed, Thu, Fri 8 h each = 39.5 h;
 * Mon 11/3 07:30 + 0.5 h = 08:00. */
#define RECEIVED "2024-03-04T08:00:00+07:00"
#define DUE "2024-03-11T08:00:00+07:00"
#define PAUSED_AT "2024-03-06T09:00:00+07:00"
/* Office time from the pause to the due: Wed 09:00-11:30 2.5 h + 4 h = 6.5 h; Thu, Fri 16 h;
 * Mon 07:30-08:00 0.5 h: 23 h. (Used before the pause: 7.5 + 8 + 1.5 = 17 h = 40 - 23.) */
#define PAUSED_REMAINING (23 * HOUR)
#define CREATED "2024-03-04T08:00:05+07:00"

static const struct case_procedure restart5 = { .days = 5, .resume_continue = false };
static const struct case_procedure continue5 = { .days = 5, .resume_continue = true };

/* A record in `status`, filled field by field (zeroed first, so its padding is zero too). */
static void make_case(struct case_record *c, enum case_status status)
{
	memset(c, 0, sizeof(*c));
	c->id = 42;
	snprintf(c->code, sizeof(c->code), "000.00.21.H19-240304-0001");
	snprintf(c->procedure, sizeof(c->procedure), "1.004227");
	snprintf(c->unit, sizeof(c->unit), "xa-tu-phap-tan-phu");
	snprintf(c->handler, sizeof(c->handler), "binh.lt");
	snprintf(c->applicant, sizeof(c->applicant), "Nguyễn Văn A");
	c->received_at = T(RECEIVED);
	c->due_at = T(DUE);
	c->online = CASE_ONLINE_FULL;
	c->status = status;
	c->outcome = CASE_OUTCOME_NONE;
	c->paused_at = TIME_NONE;
	c->completed_at = TIME_NONE;
	c->ended_at = TIME_NONE;
	c->version = 3;
	c->created_at = T(CREATED);
	c->updated_at = T(CREATED);
	switch (status) {
	case CASE_RECEIVED:
		c->handler[0] = '\0';
		c->version = 1;
		break;
	case CASE_PAUSED:
		c->paused_at = T(PAUSED_AT);
		c->remaining = PAUSED_REMAINING;
		break;
	case CASE_COMPLETED:
		c->completed_at = T("2024-03-06T09:00:00+07:00");
		c->outcome = CASE_EARLY;
		break;
	case CASE_RETURNED:
		c->completed_at = T("2024-03-06T09:00:00+07:00");
		c->outcome = CASE_EARLY;
		c->ended_at = T("2024-03-06T10:00:00+07:00");
		break;
	case CASE_WITHDRAWN:
	case CASE_REJECTED:
		c->ended_at = T("2024-03-06T09:00:00+07:00");
		break;
	default:
		break;
	}
}

static struct case_event event(enum case_event_type type, const char *at)
{
	return (struct case_event){ .type = type, .at = T(at), .due_at = TIME_NONE };
}

/* Applies ev, which must succeed, at `now`; checks the version and updated_at bookkeeping. */
static void apply_ok(struct case_record *c, const struct case_event *ev,
		     const struct case_procedure *p, const char *now)
{
	struct err err = { .msg = "", .field = "" };
	int64_t version = c->version;

	cr_assert_eq(case_apply(c, ev, p, cal, T(now), &err), 0, "%s: %s (%s)",
		     case_event_name(ev->type), err.msg, err.field);
	cr_expect_eq(c->version, version + 1);
	cr_expect_eq(c->updated_at, T(now));
}

/* Applies ev, which must fail with err.field == field and leave the record byte-identical. */
static void apply_fails(struct case_record *c, const struct case_event *ev,
			const struct case_procedure *p, const char *field)
{
	struct case_record before;
	struct err err = { .msg = "", .field = "" };

	memcpy(&before, c, sizeof(before));
	cr_expect_eq(case_apply(c, ev, p, cal, T("2024-03-20T10:00:00+07:00"), &err), -1,
		     "%s on a %s case was accepted", case_event_name(ev->type),
		     case_status_name(before.status));
	cr_expect_str_eq(err.field, field, "%s on a %s case: field \"%s\" (%s), want \"%s\"",
			 case_event_name(ev->type), case_status_name(before.status), err.field,
			 err.msg, field);
	cr_expect_neq(err.msg[0], '\0', "no message");
	cr_expect_eq(memcmp(&before, c, sizeof(before)), 0, "%s on a %s case changed the record",
		     case_event_name(ev->type), case_status_name(before.status));
}

/* --- case_due --- */

Test(case_due, three_days_across_tet)
{
	/* Wed 7/2 10:00-11:30 1.5 h + 4 h = 5.5 h; Thu 8/2 to Wed 14/2 off (Tết, weekend);
	 * Thu 15/2 8 h = 13.5 h; Fri 16/2 8 h = 21.5 h; Mon 19/2 07:30 + 2.5 h = 10:00. */
	expect_due("2024-02-07T10:00:00+07:00", 3, "2024-02-19T10:00:00+07:00");
}

Test(case_due, half_day_over_a_weekend)
{
	/* 4 h: Fri 16:00-17:00 1 h; Mon 07:30 + 3 h = 10:30. */
	expect_due("2024-03-08T16:00:00+07:00", 0.5, "2024-03-11T10:30:00+07:00");
}

Test(case_due, fraction_of_a_day_rounds_to_the_second)
{
	/* 0.1 day = 2880 s = 48 min: 11:00-11:30 30 min; 13:00 + 18 min = 13:18. */
	expect_due("2024-03-08T11:00:00+07:00", 0.1, "2024-03-08T13:18:00+07:00");
	/* 1.5 days = 12 h: Tue 10:00-11:30 1.5 h + 4 h = 5.5 h; Wed 07:30 + 6.5 h: 4 h to 11:30,
	 * 13:00 + 2.5 h = 15:30. */
	expect_due("2024-03-05T10:00:00+07:00", 1.5, "2024-03-06T15:30:00+07:00");
}

Test(case_due, zero_days_is_the_end_of_the_working_day)
{
	/* Friday 8 March 2024. */
	expect_due("2024-03-08T09:00:00+07:00", 0, "2024-03-08T17:00:00+07:00");
	expect_due("2024-03-08T07:00:00+07:00", 0, "2024-03-08T17:00:00+07:00"); /* before open */
	expect_due("2024-03-08T07:30:00+07:00", 0, "2024-03-08T17:00:00+07:00");
	expect_due("2024-03-08T12:00:00+07:00", 0, "2024-03-08T17:00:00+07:00"); /* lunch */
	expect_due("2024-03-08T16:59:59+07:00", 0, "2024-03-08T17:00:00+07:00");
}

Test(case_due, zero_days_received_outside_a_working_day)
{
	/* Saturday 9/3 09:00 counts as received Monday 11/3: due Monday 17:00. */
	expect_due("2024-03-09T09:00:00+07:00", 0, "2024-03-11T17:00:00+07:00");
	/* Friday 18:00, after hours: the next working day, Monday. */
	expect_due("2024-03-08T18:00:00+07:00", 0, "2024-03-11T17:00:00+07:00");
	/* New Year's Day 2024 (Monday, off): Tuesday 2/1. */
	expect_due("2024-01-01T09:00:00+07:00", 0, "2024-01-02T17:00:00+07:00");
	/* Saturday 4/5/2024 is a make-up working day: due that day. */
	expect_due("2024-05-04T09:00:00+07:00", 0, "2024-05-04T17:00:00+07:00");
}

Test(case_due, one_day)
{
	/* From the opening: exactly 8 h, landing on the end of the afternoon period. */
	expect_due("2024-03-08T07:30:00+07:00", 1, "2024-03-08T17:00:00+07:00");
	/* Received Saturday: Monday 07:30 + 8 h. */
	expect_due("2024-03-09T10:00:00+07:00", 1, "2024-03-11T17:00:00+07:00");
	/* Wed 17/4 13:00-17:00 4 h; Thu 18/4 Giỗ Tổ off; Fri 19/4 07:30 + 4 h = 11:30. */
	expect_due("2024-04-17T13:00:00+07:00", 1, "2024-04-19T11:30:00+07:00");
	/* Fri 3/5 13:00-17:00 4 h; Sat 4/5 make-up day 07:30 + 4 h = 11:30. */
	expect_due("2024-05-03T13:00:00+07:00", 1, "2024-05-04T11:30:00+07:00");
}

Test(case_due, two_days_over_national_day)
{
	/* Fri 30/8 14:00-17:00 3 h; Sat, Sun; Mon 2/9, Tue 3/9 off; Wed 4/9 8 h = 11 h;
	 * Thu 5/9 need 5 h: 4 h to 11:30, 13:00 + 1 h = 14:00. */
	expect_due("2024-08-30T14:00:00+07:00", 2, "2024-09-05T14:00:00+07:00");
}

Test(case_due, seven_days_over_the_may_holidays)
{
	/* 56 h. Thu 25/4 08:00-11:30 3.5 h + 4 h = 7.5 h; Fri 26/4 8 h = 15.5 h; Sat 27, Sun 28;
	 * Mon 29/4, Tue 30/4, Wed 1/5 off; Thu 2/5 = 23.5 h; Fri 3/5 = 31.5 h; Sat 4/5 make-up
	 * = 39.5 h; Sun 5/5; Mon 6/5 = 47.5 h; Tue 7/5 = 55.5 h; Wed 8/5 07:30 + 0.5 h = 08:00. */
	expect_due("2024-04-25T08:00:00+07:00", 7, "2024-05-08T08:00:00+07:00");
}

Test(case_due, five_days_the_case_of_the_apply_tests)
{
	expect_due(RECEIVED, 5, DUE);
}

/* --- case_judge --- */

static void expect_judge(const char *completed, const char *due, bool late, enum case_outcome want)
{
	enum case_outcome got = case_judge(cal, T(completed), T(due), late);

	cr_expect_eq(got, want, "completed %s, due %s%s: got %s, want %s", completed, due,
		     late ? ", late" : "", case_outcome_name(got) ? case_outcome_name(got) : "none",
		     case_outcome_name(want));
}

Test(case_judge, early_is_a_date_before_the_due_date)
{
	const char *due = "2024-02-19T10:00:00+07:00";

	expect_judge("2024-02-07T14:00:00+07:00", due, false, CASE_EARLY);
	expect_judge("2024-02-16T17:00:00+07:00", due, false, CASE_EARLY);
	expect_judge("2024-02-18T23:59:59+07:00", due, false, CASE_EARLY);
	/* The local date counts: 16:59:59Z on the 18th is 23:59:59 local on the 18th. */
	expect_judge("2024-02-18T16:59:59Z", due, false, CASE_EARLY);
}

Test(case_judge, on_time_is_the_due_date_at_or_before_due_at)
{
	const char *due = "2024-02-19T10:00:00+07:00";

	expect_judge("2024-02-19T00:00:00+07:00", due, false, CASE_ON_TIME);
	/* 17:30Z on the 18th is 00:30 local on the 19th, the due date (a UTC date would be
	 * the 18th and say early). */
	expect_judge("2024-02-18T17:30:00Z", due, false, CASE_ON_TIME);
	expect_judge("2024-02-19T09:59:59+07:00", due, false, CASE_ON_TIME);
	expect_judge("2024-02-19T10:00:00+07:00", due, false, CASE_ON_TIME); /* exactly due_at */
}

Test(case_judge, late_is_after_due_at)
{
	const char *due = "2024-02-19T10:00:00+07:00";

	expect_judge("2024-02-19T10:00:01+07:00", due, false, CASE_LATE);
	expect_judge("2024-02-19T16:00:00+07:00", due, false, CASE_LATE);
	expect_judge("2024-02-20T08:00:00+07:00", due, false, CASE_LATE);
}

Test(case_judge, late_flag_forces_late)
{
	const char *due = "2024-02-19T10:00:00+07:00";

	expect_judge("2024-02-15T08:00:00+07:00", due, true, CASE_LATE); /* would be early */
	expect_judge("2024-02-19T10:00:00+07:00", due, true, CASE_LATE); /* would be on time */
}

/* --- case_apply: the transition table of docs/api.md --- */

/* The status after each event from each status, as the table of docs/api.md states it;
 * -1: the event is not allowed there. */
#define NO (-1)
#define R CASE_RECEIVED
#define IP CASE_IN_PROGRESS
#define P CASE_PAUSED
#define C CASE_COMPLETED
#define RT CASE_RETURNED
#define W CASE_WITHDRAWN
#define RJ CASE_REJECTED
static const int table[CASE_EV_COUNT][CASE_STATUS_COUNT] = {
	/*                    received in_prog paused completed returned withdrawn rejected */
	[CASE_EV_ASSIGN] = { IP, IP, P, NO, NO, NO, NO },
	[CASE_EV_TRANSFER] = { IP, IP, P, NO, NO, NO, NO },
	[CASE_EV_PAUSE] = { P, P, NO, NO, NO, NO, NO },
	[CASE_EV_RESUME] = { NO, NO, IP, NO, NO, NO, NO },
	[CASE_EV_COMPLETE] = { C, C, NO, NO, NO, NO, NO },
	[CASE_EV_RETURN] = { NO, NO, NO, RT, NO, NO, NO },
	[CASE_EV_WITHDRAW] = { W, W, W, NO, NO, NO, NO },
	[CASE_EV_REJECT] = { RJ, RJ, RJ, NO, NO, NO, NO },
	[CASE_EV_RESCHEDULE] = { R, IP, P, NO, NO, NO, NO },
	[CASE_EV_NOTE] = { R, IP, P, C, RT, W, RJ },
	/* extend depends on the procedure too: tested on its own below */
	[CASE_EV_EXTEND] = { NO, NO, NO, NO, NO, NO, NO },
	[CASE_EV_RATE] = { NO, NO, NO, C, RT, NO, NO },
};
#undef R
#undef IP
#undef P
#undef C
#undef RT
#undef W
#undef RJ

/* An event of `type` carrying valid data, at Thursday 7/3 10:00 (after every instant of
 * make_case's records). */
static struct case_event valid_event(enum case_event_type type)
{
	struct case_event ev = event(type, "2024-03-07T10:00:00+07:00");

	ev.handler = "an.nv";
	ev.unit = "ttphvhcc";
	ev.due_at = T("2024-03-15T17:00:00+07:00");
	ev.rating = 4;
	return ev;
}

Test(case_apply, every_allowed_transition)
{
	for (int e = 0; e < CASE_EV_COUNT; e++) {
		for (int s = 0; s < CASE_STATUS_COUNT; s++) {
			struct case_record c;
			struct case_event ev = valid_event((enum case_event_type)e);

			if (table[e][s] == NO)
				continue;
			make_case(&c, (enum case_status)s);
			apply_ok(&c, &ev, &restart5, "2024-03-07T10:00:02+07:00");
			cr_expect_eq((int)c.status, table[e][s], "%s from %s: got %s, want %s",
				     case_event_name(ev.type),
				     case_status_name((enum case_status)s),
				     case_status_name(c.status), case_status_name(table[e][s]));
		}
	}
}

Test(case_apply, every_disallowed_transition)
{
	int n = 0;

	for (int e = 0; e < CASE_EV_COUNT; e++) {
		for (int s = 0; s < CASE_STATUS_COUNT; s++) {
			struct case_record c;
			struct case_event ev = valid_event((enum case_event_type)e);

			if (table[e][s] != NO || e == CASE_EV_EXTEND)
				continue;
			make_case(&c, (enum case_status)s);
			apply_fails(&c, &ev, &restart5, "type");
			n++;
		}
	}
	/* 4 + 4 + 5 + 6 + 5 + 6 + 4 + 4 + 4 + 0 + 5 (rate) pairs in the table. */
	cr_expect_eq(n, 47);
}

Test(case_apply, is_open)
{
	cr_expect(case_is_open(CASE_RECEIVED));
	cr_expect(case_is_open(CASE_IN_PROGRESS));
	cr_expect(case_is_open(CASE_PAUSED));
	cr_expect_not(case_is_open(CASE_COMPLETED));
	cr_expect_not(case_is_open(CASE_RETURNED));
	cr_expect_not(case_is_open(CASE_WITHDRAWN));
	cr_expect_not(case_is_open(CASE_REJECTED));
}

/* --- case_apply: handler and unit --- */

Test(case_apply, assign_from_received_starts_the_case)
{
	struct case_record c;
	struct case_event ev = event(CASE_EV_ASSIGN, "2024-03-04T09:00:00+07:00");

	make_case(&c, CASE_RECEIVED);
	ev.handler = "an.nv";
	apply_ok(&c, &ev, &restart5, "2024-03-04T09:00:01+07:00");
	cr_expect_eq(c.status, CASE_IN_PROGRESS);
	cr_expect_str_eq(c.handler, "an.nv");
	cr_expect_str_eq(c.unit, "xa-tu-phap-tan-phu");
	cr_expect_eq(c.version, 2);
	expect_instant(c.due_at, DUE, "due_at");
	expect_instant(c.created_at, CREATED, "created_at");
}

Test(case_apply, assign_while_paused_stays_paused)
{
	struct case_record c;
	struct case_event ev = event(CASE_EV_ASSIGN, "2024-03-07T09:00:00+07:00");

	make_case(&c, CASE_PAUSED);
	ev.handler = "an.nv";
	apply_ok(&c, &ev, &continue5, "2024-03-07T09:00:01+07:00");
	cr_expect_eq(c.status, CASE_PAUSED);
	cr_expect_str_eq(c.handler, "an.nv");
	/* The clock stays stopped. */
	expect_instant(c.paused_at, PAUSED_AT, "paused_at");
	cr_expect_eq(c.remaining, PAUSED_REMAINING);
	expect_instant(c.due_at, DUE, "due_at");
}

Test(case_apply, transfer_from_received_with_a_handler)
{
	struct case_record c;
	struct case_event ev = event(CASE_EV_TRANSFER, "2024-03-04T09:00:00+07:00");

	make_case(&c, CASE_RECEIVED);
	ev.unit = "ttphvhcc";
	ev.handler = "an.nv";
	apply_ok(&c, &ev, &restart5, "2024-03-04T09:00:01+07:00");
	cr_expect_eq(c.status, CASE_IN_PROGRESS);
	cr_expect_str_eq(c.unit, "ttphvhcc");
	cr_expect_str_eq(c.handler, "an.nv");
}

Test(case_apply, transfer_without_handler_clears_the_handler)
{
	struct case_record c;
	struct case_event ev = event(CASE_EV_TRANSFER, "2024-03-05T09:00:00+07:00");

	make_case(&c, CASE_IN_PROGRESS);
	cr_assert_str_eq(c.handler, "binh.lt");
	ev.unit = "ttphvhcc";
	apply_ok(&c, &ev, &restart5, "2024-03-05T09:00:01+07:00");
	cr_expect_eq(c.status, CASE_IN_PROGRESS);
	cr_expect_str_eq(c.unit, "ttphvhcc");
	cr_expect_str_eq(c.handler, "");
}

Test(case_apply, transfer_while_paused_stays_paused)
{
	struct case_record c;
	struct case_event ev = event(CASE_EV_TRANSFER, "2024-03-07T09:00:00+07:00");

	make_case(&c, CASE_PAUSED);
	ev.unit = "ttphvhcc";
	apply_ok(&c, &ev, &continue5, "2024-03-07T09:00:01+07:00");
	cr_expect_eq(c.status, CASE_PAUSED);
	cr_expect_str_eq(c.unit, "ttphvhcc");
	cr_expect_str_eq(c.handler, "");
	expect_instant(c.paused_at, PAUSED_AT, "paused_at");
	cr_expect_eq(c.remaining, PAUSED_REMAINING);
}

/* --- case_apply: pause and resume --- */

Test(case_apply, pause_stores_the_office_time_left)
{
	struct case_record c;
	struct case_event ev = event(CASE_EV_PAUSE, PAUSED_AT);

	make_case(&c, CASE_IN_PROGRESS);
	apply_ok(&c, &ev, &continue5, "2024-03-06T09:00:03+07:00");
	cr_expect_eq(c.status, CASE_PAUSED);
	expect_instant(c.paused_at, PAUSED_AT, "paused_at");
	cr_expect_eq(c.remaining, PAUSED_REMAINING, "remaining %lld, want %d",
		     (long long)c.remaining, PAUSED_REMAINING);
	expect_instant(c.due_at, DUE, "due_at"); /* unchanged until the resume */
}

Test(case_apply, pause_from_received)
{
	struct case_record c;
	/* Paused Mon 4/3 10:00: 08:00-10:00 = 2 h used of 40 h, 38 h left. */
	struct case_event ev = event(CASE_EV_PAUSE, "2024-03-04T10:00:00+07:00");

	make_case(&c, CASE_RECEIVED);
	apply_ok(&c, &ev, &continue5, "2024-03-04T10:00:00+07:00");
	cr_expect_eq(c.status, CASE_PAUSED);
	cr_expect_eq(c.remaining, 38 * HOUR);
}

Test(case_apply, resume_continue_gets_what_was_left)
{
	struct case_record c;
	struct case_event ev = event(CASE_EV_RESUME, "2024-03-18T13:00:00+07:00");

	make_case(&c, CASE_PAUSED);
	/* 23 h from Mon 18/3 13:00: Mon 4 h; Tue 19, Wed 20 16 h = 20 h; Thu 21/3 07:30 + 3 h
	 * = 10:30. */
	apply_ok(&c, &ev, &continue5, "2024-03-18T13:00:01+07:00");
	cr_expect_eq(c.status, CASE_IN_PROGRESS);
	expect_instant(c.due_at, "2024-03-21T10:30:00+07:00", "due_at");
	cr_expect_eq(c.paused_at, TIME_NONE);
	cr_expect_eq(c.remaining, 0);
}

Test(case_apply, resume_restart_gets_the_full_time_again)
{
	struct case_record c;
	struct case_event ev = event(CASE_EV_RESUME, "2024-03-18T13:00:00+07:00");

	make_case(&c, CASE_PAUSED);
	/* 40 h from Mon 18/3 13:00: Mon 4 h; Tue 19 to Fri 22 32 h = 36 h; Mon 25/3 07:30 + 4 h
	 * = 11:30 (the end of the morning period, not 13:00). */
	apply_ok(&c, &ev, &restart5, "2024-03-18T13:00:01+07:00");
	cr_expect_eq(c.status, CASE_IN_PROGRESS);
	expect_instant(c.due_at, "2024-03-25T11:30:00+07:00", "due_at");
	cr_expect_eq(c.paused_at, TIME_NONE);
	cr_expect_eq(c.remaining, 0);
}

/* A restart never gives less than was left: a given due date, an appointment of a reschedule. */
Test(case_apply, resume_restart_keeps_more_time_left)
{
	struct case_record c;
	struct case_event ev = event(CASE_EV_RESUME, "2024-03-18T13:00:00+07:00");

	make_case(&c, CASE_PAUSED);
	c.remaining = 60 * HOUR;
	/* 60 h from Mon 18/3 13:00: Mon 4 h; Tue 19 to Fri 22 32 h; Mon 25, Tue 26, Wed 27 24 h
	 * = 60 h: Wed 27/3 17:00 (the full 40 h again would be Mon 25/3 11:30). */
	apply_ok(&c, &ev, &restart5, "2024-03-18T13:00:01+07:00");
	expect_instant(c.due_at, "2024-03-27T17:00:00+07:00", "due_at");
}

/* An extended case restarts with the extended maximum, not the plain time. */
Test(case_apply, resume_restart_of_an_extended_case_gets_the_extended_time)
{
	struct case_record c;
	struct case_event ev = event(CASE_EV_RESUME, "2024-03-18T13:00:00+07:00");
	const struct case_procedure restart5_10 = { .days = 5, .extended_days = 10,
						    .resume_continue = false };

	make_case(&c, CASE_PAUSED);
	c.extended = true;
	/* 80 h from Mon 18/3 13:00: Mon 4 h; 19-22/3 32 h; 25-29/3 40 h = 76 h; Mon 1/4 07:30
	 * + 4 h = 11:30. */
	apply_ok(&c, &ev, &restart5_10, "2024-03-18T13:00:01+07:00");
	expect_instant(c.due_at, "2024-04-01T11:30:00+07:00", "due_at");
}

/* Withdrawn while paused: no longer paused. */
Test(case_apply, withdrawn_while_paused_clears_the_pause)
{
	struct case_record c;
	struct case_event ev = event(CASE_EV_WITHDRAW, "2024-03-07T10:00:00+07:00");

	make_case(&c, CASE_PAUSED);
	int64_t total = c.paused_total;
	apply_ok(&c, &ev, &restart5, "2024-03-07T10:00:01+07:00");
	cr_expect_eq(c.status, CASE_WITHDRAWN);
	cr_expect_eq(c.paused_at, TIME_NONE);
	cr_expect_eq(c.remaining, 0);
	/* The pause, Wed 6/3 09:00 to Thu 7/3 10:00: 2.5 h + 4 h + 2.5 h of office time. */
	cr_expect_eq(c.paused_total - total, 9 * HOUR, "paused %lld s more",
		     (long long)(c.paused_total - total));
}

Test(case_apply, resume_restart_zero_days)
{
	struct case_record c;
	struct case_event ev = event(CASE_EV_RESUME, "2024-03-12T14:00:00+07:00");
	const struct case_procedure same_day = { .days = 0, .resume_continue = false };

	make_case(&c, CASE_PAUSED);
	c.remaining = HOUR; /* what a same-day case may have left */
	/* A same-day procedure restarted Tue 12/3 14:00: the end of that working day. */
	apply_ok(&c, &ev, &same_day, "2024-03-12T14:00:00+07:00");
	expect_instant(c.due_at, "2024-03-12T17:00:00+07:00", "due_at");
}

Test(case_apply, pause_and_resume_continue_across_tet)
{
	struct case_record c;
	struct case_event ev;
	const struct case_procedure continue3 = { .days = 3, .resume_continue = true };

	/* Received Wed 7/2 10:00 under 3 days: due Mon 19/2 10:00 (see case_due). */
	make_case(&c, CASE_RECEIVED);
	c.received_at = T("2024-02-07T10:00:00+07:00");
	c.due_at = T("2024-02-19T10:00:00+07:00");
	/* Paused Thu 15/2 09:00: left Thu 09:00-11:30 2.5 h + 4 h, Fri 8 h, Mon 2.5 h = 17 h. */
	ev = event(CASE_EV_PAUSE, "2024-02-15T09:00:00+07:00");
	apply_ok(&c, &ev, &continue3, "2024-02-15T09:00:00+07:00");
	cr_expect_eq(c.remaining, 17 * HOUR);
	/* Resumed Fri 1/3 08:00: Fri 3.5 h + 4 h = 7.5 h; Mon 4/3 8 h = 15.5 h; Tue 5/3 07:30
	 * + 1.5 h = 09:00. */
	ev = event(CASE_EV_RESUME, "2024-03-01T08:00:00+07:00");
	apply_ok(&c, &ev, &continue3, "2024-03-01T08:00:00+07:00");
	expect_instant(c.due_at, "2024-03-05T09:00:00+07:00", "due_at");
	cr_expect_eq(c.version, 3);
}

Test(case_apply, resume_after_an_overdue_pause_keeps_due_at)
{
	struct case_record c;
	struct case_event ev;
	const struct case_procedure continue_half = { .days = 0.5, .resume_continue = true };

	/* Received Mon 4/3 08:00 under half a day: 08:00-11:30 3.5 h, 13:00 + 0.5 h = 13:30. */
	make_case(&c, CASE_IN_PROGRESS);
	c.due_at = T("2024-03-04T13:30:00+07:00");
	/* Paused Tue 5/3 09:00, already 5 h overdue (Mon 13:30-17:00 3.5 h, Tue 07:30-09:00
	 * 1.5 h): nothing is left. */
	ev = event(CASE_EV_PAUSE, "2024-03-05T09:00:00+07:00");
	apply_ok(&c, &ev, &continue_half, "2024-03-05T09:00:00+07:00");
	cr_expect_leq(c.remaining, 0, "remaining %lld", (long long)c.remaining);
	ev = event(CASE_EV_RESUME, "2024-03-12T08:00:00+07:00");
	apply_ok(&c, &ev, &continue_half, "2024-03-12T08:00:00+07:00");
	cr_expect_eq(c.status, CASE_IN_PROGRESS);
	expect_instant(c.due_at, "2024-03-04T13:30:00+07:00", "due_at");
	cr_expect_eq(c.remaining, 0);
	/* Completing it is late. */
	ev = event(CASE_EV_COMPLETE, "2024-03-12T09:00:00+07:00");
	apply_ok(&c, &ev, &continue_half, "2024-03-12T09:00:00+07:00");
	cr_expect_eq(c.outcome, CASE_LATE);
}

Test(case_apply, resume_after_a_pause_exactly_at_due_keeps_due_at)
{
	struct case_record c;
	struct case_event ev = event(CASE_EV_PAUSE, DUE);

	make_case(&c, CASE_IN_PROGRESS);
	apply_ok(&c, &ev, &continue5, DUE);
	cr_expect_eq(c.remaining, 0);
	ev = event(CASE_EV_RESUME, "2024-03-13T08:00:00+07:00");
	apply_ok(&c, &ev, &continue5, "2024-03-13T08:00:00+07:00");
	expect_instant(c.due_at, DUE, "due_at");
}

Test(case_apply, event_before_the_pause)
{
	struct case_record c;
	struct case_event ev = event(CASE_EV_RESUME, "2024-03-06T08:59:59+07:00");

	make_case(&c, CASE_PAUSED);
	apply_fails(&c, &ev, &continue5, "at");
}

/* --- case_apply: completion and outcome --- */

Test(case_apply, complete_early)
{
	struct case_record c;
	struct case_event ev = event(CASE_EV_COMPLETE, "2024-03-08T16:00:00+07:00");

	make_case(&c, CASE_IN_PROGRESS);
	apply_ok(&c, &ev, &restart5, "2024-03-08T16:00:01+07:00");
	cr_expect_eq(c.status, CASE_COMPLETED);
	cr_expect_eq(c.outcome, CASE_EARLY);
	expect_instant(c.completed_at, "2024-03-08T16:00:00+07:00", "completed_at");
	cr_expect_eq(c.ended_at, TIME_NONE);
}

Test(case_apply, complete_on_time_exactly_at_due)
{
	struct case_record c;
	struct case_event ev = event(CASE_EV_COMPLETE, DUE);

	make_case(&c, CASE_RECEIVED);
	apply_ok(&c, &ev, &restart5, DUE);
	cr_expect_eq(c.status, CASE_COMPLETED);
	cr_expect_eq(c.outcome, CASE_ON_TIME);
}

Test(case_apply, complete_on_the_due_date_before_opening)
{
	struct case_record c;
	struct case_event ev = event(CASE_EV_COMPLETE, "2024-03-11T07:00:00+07:00");

	make_case(&c, CASE_IN_PROGRESS);
	apply_ok(&c, &ev, &restart5, "2024-03-11T07:00:00+07:00");
	cr_expect_eq(c.outcome, CASE_ON_TIME);
}

Test(case_apply, complete_one_second_late)
{
	struct case_record c;
	struct case_event ev = event(CASE_EV_COMPLETE, "2024-03-11T08:00:01+07:00");

	make_case(&c, CASE_IN_PROGRESS);
	apply_ok(&c, &ev, &restart5, "2024-03-11T08:00:01+07:00");
	cr_expect_eq(c.outcome, CASE_LATE);
}

Test(case_apply, return_withdraw_reject_set_ended_at)
{
	struct case_record c;
	struct case_event ev = event(CASE_EV_COMPLETE, "2024-03-08T16:00:00+07:00");

	make_case(&c, CASE_IN_PROGRESS);
	apply_ok(&c, &ev, &restart5, "2024-03-08T16:00:00+07:00");
	ev = event(CASE_EV_RETURN, "2024-03-11T09:00:00+07:00");
	apply_ok(&c, &ev, &restart5, "2024-03-11T09:00:00+07:00");
	cr_expect_eq(c.status, CASE_RETURNED);
	cr_expect_eq(c.outcome, CASE_EARLY);
	expect_instant(c.completed_at, "2024-03-08T16:00:00+07:00", "completed_at");
	expect_instant(c.ended_at, "2024-03-11T09:00:00+07:00", "ended_at");

	make_case(&c, CASE_PAUSED);
	ev = event(CASE_EV_WITHDRAW, "2024-03-07T09:00:00+07:00");
	apply_ok(&c, &ev, &restart5, "2024-03-07T09:00:00+07:00");
	cr_expect_eq(c.status, CASE_WITHDRAWN);
	expect_instant(c.ended_at, "2024-03-07T09:00:00+07:00", "ended_at");
	cr_expect_eq(c.outcome, CASE_OUTCOME_NONE);

	make_case(&c, CASE_RECEIVED);
	ev = event(CASE_EV_REJECT, "2024-03-04T09:00:00+07:00");
	apply_ok(&c, &ev, &restart5, "2024-03-04T09:00:00+07:00");
	cr_expect_eq(c.status, CASE_REJECTED);
	expect_instant(c.ended_at, "2024-03-04T09:00:00+07:00", "ended_at");
	cr_expect_eq(c.outcome, CASE_OUTCOME_NONE);
}

Test(case_apply, note_on_a_returned_case)
{
	struct case_record c;
	struct case_record before;
	struct case_event ev = event(CASE_EV_NOTE, "2024-03-20T10:00:00+07:00");

	make_case(&c, CASE_RETURNED);
	memcpy(&before, &c, sizeof(before));
	apply_ok(&c, &ev, &restart5, "2024-03-20T10:00:05+07:00");
	cr_expect_eq(c.status, CASE_RETURNED);
	cr_expect_eq(c.version, 4);
	expect_instant(c.updated_at, "2024-03-20T10:00:05+07:00", "updated_at");
	/* Nothing else moves. */
	c.version = before.version;
	c.updated_at = before.updated_at;
	cr_expect_eq(memcmp(&before, &c, sizeof(before)), 0);
}

/* --- case_apply: reschedule --- */

Test(case_apply, reschedule_requires_a_later_due)
{
	struct case_record c;
	struct case_event ev = event(CASE_EV_RESCHEDULE, "2024-03-08T10:00:00+07:00");

	make_case(&c, CASE_IN_PROGRESS);
	ev.due_at = T(DUE); /* the same */
	apply_fails(&c, &ev, &restart5, "due_at");
	ev.due_at = T("2024-03-11T07:59:59+07:00"); /* earlier */
	apply_fails(&c, &ev, &restart5, "due_at");
}

Test(case_apply, reschedule_makes_the_case_late_for_good)
{
	struct case_record c;
	struct case_event ev = event(CASE_EV_RESCHEDULE, "2024-03-08T10:00:00+07:00");

	make_case(&c, CASE_IN_PROGRESS);
	ev.due_at = T("2024-03-15T17:00:00+07:00");
	apply_ok(&c, &ev, &restart5, "2024-03-08T10:00:01+07:00");
	cr_expect_eq(c.status, CASE_IN_PROGRESS);
	expect_instant(c.due_at, "2024-03-15T17:00:00+07:00", "due_at");
	cr_expect(c.late);
	/* Completed Tue 12/3, a date before the new due date (Fri 15/3): still late. */
	ev = event(CASE_EV_COMPLETE, "2024-03-12T10:00:00+07:00");
	apply_ok(&c, &ev, &restart5, "2024-03-12T10:00:01+07:00");
	cr_expect_eq(c.status, CASE_COMPLETED);
	cr_expect_eq(c.outcome, CASE_LATE);
	cr_expect(c.late);
}

Test(case_apply, reschedule_after_lateness)
{
	struct case_record c;
	struct case_event ev = event(CASE_EV_RESCHEDULE, "2024-03-12T10:00:00+07:00");

	/* Already overdue since Mon 11/3 08:00. */
	make_case(&c, CASE_RECEIVED);
	ev.due_at = T("2024-03-14T17:00:00+07:00");
	apply_ok(&c, &ev, &restart5, "2024-03-12T10:00:00+07:00");
	cr_expect_eq(c.status, CASE_RECEIVED);
	expect_instant(c.due_at, "2024-03-14T17:00:00+07:00", "due_at");
	cr_expect(c.late);
	ev = event(CASE_EV_COMPLETE, "2024-03-14T16:00:00+07:00");
	apply_ok(&c, &ev, &restart5, "2024-03-14T16:00:00+07:00");
	cr_expect_eq(c.outcome, CASE_LATE);
}

Test(case_apply, reschedule_while_paused_then_continue)
{
	struct case_record c;
	struct case_event ev = event(CASE_EV_RESCHEDULE, "2024-03-07T10:00:00+07:00");

	make_case(&c, CASE_PAUSED);
	ev.due_at = T("2024-03-12T17:00:00+07:00");
	apply_ok(&c, &ev, &continue5, "2024-03-07T10:00:00+07:00");
	cr_expect_eq(c.status, CASE_PAUSED);
	cr_expect(c.late);
	/* Left from the pause (Wed 6/3 09:00) to the new due: Wed 6.5 h; Thu, Fri 16 h; Mon 11,
	 * Tue 12 16 h: 38.5 h. */
	cr_expect_eq(c.remaining, 38 * HOUR + HOUR / 2, "remaining %lld", (long long)c.remaining);
	/* Resumed Mon 18/3 07:30: 38.5 h = Mon to Thu 32 h; Fri 22/3 07:30 + 6.5 h: 4 h to
	 * 11:30, 13:00 + 2.5 h = 15:30. */
	ev = event(CASE_EV_RESUME, "2024-03-18T07:30:00+07:00");
	apply_ok(&c, &ev, &continue5, "2024-03-18T07:30:00+07:00");
	expect_instant(c.due_at, "2024-03-22T15:30:00+07:00", "due_at");
	cr_expect(c.late);
}

/* --- case_apply: the instant of the event --- */

Test(case_apply, event_before_received_at)
{
	struct case_record c;
	struct case_event ev = event(CASE_EV_COMPLETE, "2024-03-04T07:59:59+07:00");

	make_case(&c, CASE_RECEIVED);
	apply_fails(&c, &ev, &restart5, "at");
	ev = event(CASE_EV_NOTE, "2024-03-01T10:00:00+07:00");
	make_case(&c, CASE_IN_PROGRESS);
	apply_fails(&c, &ev, &restart5, "at");
}

Test(case_apply, event_at_received_at)
{
	struct case_record c;
	struct case_event ev = event(CASE_EV_COMPLETE, RECEIVED);

	make_case(&c, CASE_RECEIVED);
	apply_ok(&c, &ev, &restart5, RECEIVED);
	cr_expect_eq(c.outcome, CASE_EARLY);
}

/* --- names --- */

Test(case_names, statuses)
{
	static const char *const names[CASE_STATUS_COUNT] = {
		"received", "in_progress", "paused", "completed",
		"returned", "withdrawn", "rejected",
	};

	for (int i = 0; i < CASE_STATUS_COUNT; i++) {
		cr_expect_str_eq(case_status_name((enum case_status)i), names[i]);
		cr_expect_eq(case_status_parse(names[i]), i, "%s", names[i]);
	}
	cr_expect_eq(case_status_parse("open"), -1);
	cr_expect_eq(case_status_parse("Received"), -1);
	cr_expect_eq(case_status_parse("in-progress"), -1);
	cr_expect_eq(case_status_parse(""), -1);
}

Test(case_names, outcomes)
{
	cr_expect_null(case_outcome_name(CASE_OUTCOME_NONE));
	cr_expect_str_eq(case_outcome_name(CASE_EARLY), "early");
	cr_expect_str_eq(case_outcome_name(CASE_ON_TIME), "on_time");
	cr_expect_str_eq(case_outcome_name(CASE_LATE), "late");
	cr_expect_eq(case_outcome_parse("early"), CASE_EARLY);
	cr_expect_eq(case_outcome_parse("on_time"), CASE_ON_TIME);
	cr_expect_eq(case_outcome_parse("late"), CASE_LATE);
	cr_expect_eq(case_outcome_parse("none"), -1);
	cr_expect_eq(case_outcome_parse("ontime"), -1);
	cr_expect_eq(case_outcome_parse(""), -1);
}

Test(case_names, online)
{
	cr_expect_str_eq(case_online_name(CASE_ONLINE_NONE), "none");
	cr_expect_str_eq(case_online_name(CASE_ONLINE_PARTIAL), "partial");
	cr_expect_str_eq(case_online_name(CASE_ONLINE_FULL), "full");
	cr_expect_eq(case_online_parse("none"), CASE_ONLINE_NONE);
	cr_expect_eq(case_online_parse("partial"), CASE_ONLINE_PARTIAL);
	cr_expect_eq(case_online_parse("full"), CASE_ONLINE_FULL);
	cr_expect_eq(case_online_parse("yes"), -1);
	cr_expect_eq(case_online_parse("Full"), -1);
	cr_expect_eq(case_online_parse(""), -1);
}

Test(case_names, events)
{
	static const char *const names[CASE_EV_COUNT] = {
		"assign", "transfer", "pause", "resume", "complete", "return", "withdraw", "reject",
		"reschedule", "note", "extend", "rate",
	};

	for (int i = 0; i < CASE_EV_COUNT; i++) {
		cr_expect_str_eq(case_event_name((enum case_event_type)i), names[i]);
		cr_expect_eq(case_event_parse(names[i]), i, "%s", names[i]);
	}
	cr_expect_eq(case_event_parse("create"), -1);
	cr_expect_eq(case_event_parse("forward"), -1);
	cr_expect_eq(case_event_parse("Assign"), -1);
	cr_expect_eq(case_event_parse(""), -1);
}

/* --- same-day procedures with a cut-off (issue 12) --- */

static void expect_same_day(const char *received, int cutoff_min, const char *want)
{
	struct case_procedure p = { .days = 0, .cutoff_min = cutoff_min };
	char what[128];

	snprintf(what, sizeof(what), "same-day, cut-off %d min, received %s", cutoff_min, received);
	expect_instant(case_due(cal, T(received), &p), want, what);
}

#define CUTOFF_15H (15 * 60)

Test(case_due, same_day_before_and_after_cutoff)
{
	/* Thursday 7/3/2024: before 15:00 the same day's end; after it the next working day's. */
	expect_same_day("2024-03-07T14:59:00+07:00", CUTOFF_15H, "2024-03-07T17:00:00+07:00");
	expect_same_day("2024-03-07T15:00:00+07:00", CUTOFF_15H, "2024-03-07T17:00:00+07:00");
	expect_same_day("2024-03-07T15:00:01+07:00", CUTOFF_15H, "2024-03-08T17:00:00+07:00");
	/* Without a cut-off, the same day until 17:00. */
	expect_same_day("2024-03-07T16:59:00+07:00", 0, "2024-03-07T17:00:00+07:00");
}

Test(case_due, same_day_received_outside_office_hours)
{
	/* 06:00 counts from 07:30 the same day; 18:00 from the next morning (before its cut-off);
	 * noon is a lunch break of a day that still counts. */
	expect_same_day("2024-03-07T06:00:00+07:00", CUTOFF_15H, "2024-03-07T17:00:00+07:00");
	expect_same_day("2024-03-07T18:00:00+07:00", CUTOFF_15H, "2024-03-08T17:00:00+07:00");
	expect_same_day("2024-03-07T12:00:00+07:00", CUTOFF_15H, "2024-03-07T17:00:00+07:00");
	/* Saturday 9/3 (not worked) counts as Monday 11/3. */
	expect_same_day("2024-03-09T10:00:00+07:00", CUTOFF_15H, "2024-03-11T17:00:00+07:00");
}

Test(case_due, same_day_friday_before_holiday_weekend)
{
	/* Friday 26/4/2024 16:00, after the cut-off: Mon 29/4 (swapped), Tue 30/4, Wed 1/5 are off,
	 * so the next working day is Thursday 2/5. */
	expect_same_day("2024-04-26T16:00:00+07:00", CUTOFF_15H, "2024-05-02T17:00:00+07:00");
	expect_same_day("2024-04-26T14:00:00+07:00", CUTOFF_15H, "2024-04-26T17:00:00+07:00");
}

Test(case_due, same_day_make_up_saturday)
{
	/* Friday 3/5/2024 after the cut-off: Saturday 4/5 is a make-up working day. */
	expect_same_day("2024-05-03T15:30:00+07:00", CUTOFF_15H, "2024-05-04T17:00:00+07:00");
	/* Received on that Saturday morning: due that Saturday. */
	expect_same_day("2024-05-04T10:00:00+07:00", CUTOFF_15H, "2024-05-04T17:00:00+07:00");
	/* After the cut-off that Saturday: Monday 6/5. */
	expect_same_day("2024-05-04T16:00:00+07:00", CUTOFF_15H, "2024-05-06T17:00:00+07:00");
}

/* --- the legal extension (issue 12) --- */

/* 5 days, up to 15 with verification. */
static const struct case_procedure extend15 = { .days = 5, .extended_days = 15 };

Test(case_apply, extend_moves_due_to_the_legal_maximum)
{
	struct case_record c;
	struct case_event ev;

	make_case(&c, CASE_IN_PROGRESS);
	ev = event(CASE_EV_EXTEND, "2024-03-07T10:00:00+07:00");
	apply_ok(&c, &ev, &extend15, "2024-03-07T10:00:01+07:00");
	/* Mon 4/3 08:00 + 15 working days (no holiday in March 2024): Mon 25/3 08:00. */
	expect_instant(c.due_at, "2024-03-25T08:00:00+07:00", "extended due");
	cr_expect(c.extended);
	cr_expect_not(c.late);
	/* Finished before the extended due (after the original one): not late. */
	ev = event(CASE_EV_COMPLETE, "2024-03-25T08:00:00+07:00");
	apply_ok(&c, &ev, &extend15, "2024-03-25T08:00:01+07:00");
	cr_expect_eq(c.outcome, CASE_ON_TIME);
}

Test(case_apply, extend_keeps_paused_time_excluded)
{
	struct case_record c;
	struct case_event ev;

	make_case(&c, CASE_IN_PROGRESS);
	ev = event(CASE_EV_PAUSE, "2024-03-05T08:00:00+07:00");
	apply_ok(&c, &ev, &extend15, "2024-03-05T08:00:01+07:00");
	ev = event(CASE_EV_RESUME, "2024-03-07T08:00:00+07:00");
	apply_ok(&c, &ev, &extend15, "2024-03-07T08:00:01+07:00");
	/* Paused Tue 08:00 to Thu 08:00: two full office days. */
	cr_expect_eq(c.paused_total, 2 * DAY8H);
	ev = event(CASE_EV_EXTEND, "2024-03-08T10:00:00+07:00");
	apply_ok(&c, &ev, &extend15, "2024-03-08T10:00:01+07:00");
	/* Mon 25/3 08:00 plus the two paused days: Wed 27/3 08:00. */
	expect_instant(c.due_at, "2024-03-27T08:00:00+07:00", "extended due after a pause");
}

Test(case_apply, extend_refused)
{
	struct case_record c;
	struct case_event ev;

	/* The procedure has no extension. */
	make_case(&c, CASE_IN_PROGRESS);
	ev = event(CASE_EV_EXTEND, "2024-03-07T10:00:00+07:00");
	apply_fails(&c, &ev, &restart5, "type");
	/* Twice. */
	apply_ok(&c, &ev, &extend15, "2024-03-07T10:00:01+07:00");
	ev = event(CASE_EV_EXTEND, "2024-03-08T10:00:00+07:00");
	apply_fails(&c, &ev, &extend15, "type");
	/* At or after the due instant (Mon 11/3 08:00). */
	make_case(&c, CASE_IN_PROGRESS);
	ev = event(CASE_EV_EXTEND, DUE);
	apply_fails(&c, &ev, &extend15, "type");
	/* Paused, completed, ended: not open for it. */
	make_case(&c, CASE_PAUSED);
	ev = event(CASE_EV_EXTEND, "2024-03-07T10:00:00+07:00");
	apply_fails(&c, &ev, &extend15, "type");
	make_case(&c, CASE_COMPLETED);
	apply_fails(&c, &ev, &extend15, "type");
}

Test(case_apply, rate_once_after_completion_from_1_to_5)
{
	struct case_record c;
	struct case_event ev = valid_event(CASE_EV_RATE);

	make_case(&c, CASE_COMPLETED);
	ev.rating = 0;
	apply_fails(&c, &ev, &restart5, "rating");
	ev.rating = 6;
	apply_fails(&c, &ev, &restart5, "rating");
	ev.rating = 5;
	apply_ok(&c, &ev, &restart5, "2024-03-07T10:00:02+07:00");
	cr_expect_eq(c.rating, 5);
	cr_expect_eq(c.rated_at, T("2024-03-07T10:00:00+07:00"));
	cr_expect_eq((int)c.status, CASE_COMPLETED);
	ev.rating = 3;
	apply_fails(&c, &ev, &restart5, "type");
	cr_expect_eq(c.rating, 5);
}
