/* Tests of escalation: parsing a rule's `when`, and when rules fire for an item in working time
 * (escalation_fire_at), which fires next after an instant (escalation_next), and which single
 * most severe firing stands for an interval (escalation_latest), against docs/escalation.md
 * "When rules fire". The module has no clock of its own: `after` and `now` are the injected
 * clock, so every test picks its instants.
 *
 * Every expected instant is worked out by hand from 8-hour office days (07:30-11:30,
 * 13:00-17:00, Monday to Friday) in Asia/Ho_Chi_Minh and the official 2024 schedule: off 1/1,
 * 8-9/2 and 12-14/2 (Tết Giáp Thìn), 18/4, 29/4, 30/4, 1/5, 2-3/9; Saturday 4/5 worked.
 * March 2024: Mon 4, Tue 5, Wed 6, Thu 7, Fri 8, Sat 9, Sun 10, Mon 11, Tue 12 ... Fri 15. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "calendar.h"
#include "office_calendar.h"
#include "escalation.h"

#define MINUTE 60
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

TestSuite(escalation_parse);
TestSuite(escalation_fire_at, .init = setup, .fini = teardown);
TestSuite(escalation_next, .init = setup, .fini = teardown);
TestSuite(escalation_latest, .init = setup, .fini = teardown);
TestSuite(escalation_clock, .init = setup, .fini = teardown);
TestSuite(escalation_off_hours, .init = setup, .fini = teardown);

/* --- helpers --- */

static int64_t T(const char *rfc3339)
{
	int64_t t;
	struct err err;

	cr_assert_eq(calendar_parse_rfc3339(rfc3339, &t, &err), 0, "%s: %s", rfc3339, err.msg);
	return t;
}

/* Expects instant `got` to be `want` (NULL: TIME_NONE), showing both in local time when not. */
static void expect_instant(int64_t got, const char *want, const char *what)
{
	char buf[64] = "(none)";

	if (got != TIME_NONE)
		calendar_format(cal, got, buf, sizeof(buf));
	if (!want) {
		cr_expect_eq(got, TIME_NONE, "%s: got %s, want none", what, buf);
		return;
	}
	cr_expect_eq(got, T(want), "%s: got %s, want %s", what, buf, want);
}

/* A rule named id firing at `when` (parsed with 8-hour days), repeating every `repeat` working
 * seconds (0: once). */
static struct escalation_rule rule(const char *id, const char *when, int64_t repeat)
{
	struct escalation_rule r;
	struct err err = { .msg = "", .field = "" };

	memset(&r, 0, sizeof(r));
	r.id = id;
	cr_assert_eq(escalation_parse_when(when, DAY8H, &r, &err), 0, "\"%s\": %s", when, err.msg);
	r.repeat = repeat;
	return r;
}

/* The case of most tests: received Monday 4 March 2024 08:00 under a 5-day procedure.
 * Due: Mon 08:00-11:30 3.5 h + 13:00-17:00 4 h = 7.5 h; Tue, Wed, Thu, Fri 8 h each = 39.5 h;
 * Mon 11/3 07:30 + 0.5 h = 08:00. Allotted: 40 h. */
#define RECEIVED "2024-03-04T08:00:00+07:00"
#define DUE "2024-03-11T08:00:00+07:00"

static struct escalation_item item_a(void)
{
	return (struct escalation_item){ T(RECEIVED), T(DUE), 0 };
}

static int64_t fire_at(const struct escalation_rule *r, const struct escalation_item *it,
		       int64_t k)
{
	return escalation_fire_at(cal, r, it, k);
}

static void expect_fire(const struct escalation_rule *r, const struct escalation_item *it,
			int64_t k, const char *want)
{
	char what[160];

	snprintf(what, sizeof(what), "fire_at(%s, k=%lld)", r->id, (long long)k);
	expect_instant(fire_at(r, it, k), want, what);
}

/* Expects escalation_next to find rule `rule_i`, occurrence k, at `want` (want NULL: none). */
static void expect_next(const struct escalation_rule *rules, size_t n, const bool *use,
			const struct escalation_item *it, int64_t after, const char *want,
			size_t rule_i, int64_t k)
{
	struct escalation_fire f = { 99, -1, TIME_NONE };
	char buf[64] = "(none)", what[200];
	bool found = escalation_next(cal, rules, n, use, it, after, &f);

	if (after != TIME_NONE)
		calendar_format(cal, after, buf, sizeof(buf));
	if (!want) {
		cr_expect_not(found, "next after %s: want none, got rule %zu k=%lld", buf, f.rule,
			      (long long)f.occurrence);
		return;
	}
	cr_expect(found, "next after %s: want %s (rule %zu k=%lld), got none", buf, want, rule_i,
		  (long long)k);
	if (!found)
		return;
	snprintf(what, sizeof(what), "next after %s", buf);
	expect_instant(f.at, want, what);
	cr_expect_eq(f.rule, rule_i, "next after %s: rule %zu, want %zu", buf, f.rule, rule_i);
	cr_expect_eq(f.occurrence, k, "next after %s: occurrence %lld, want %lld", buf,
		     (long long)f.occurrence, (long long)k);
}

/* Expects escalation_latest over (after, now] to give rule `rule_i`, occurrence k, at `want`
 * (want NULL: none). */
static void expect_latest(const struct escalation_rule *rules, size_t n, const bool *use,
			  const struct escalation_item *it, int64_t after, int64_t now,
			  const char *want, size_t rule_i, int64_t k)
{
	struct escalation_fire f = { 99, -1, TIME_NONE };
	char a[64] = "(none)", b[64], what[200];
	bool found = escalation_latest(cal, rules, n, use, it, after, now, &f);

	if (after != TIME_NONE)
		calendar_format(cal, after, a, sizeof(a));
	calendar_format(cal, now, b, sizeof(b));
	if (!want) {
		cr_expect_not(found, "latest in (%s, %s]: want none, got rule %zu k=%lld", a, b,
			      f.rule, (long long)f.occurrence);
		return;
	}
	cr_expect(found, "latest in (%s, %s]: want %s (rule %zu k=%lld), got none", a, b, want,
		  rule_i, (long long)k);
	if (!found)
		return;
	snprintf(what, sizeof(what), "latest in (%s, %s]", a, b);
	expect_instant(f.at, want, what);
	cr_expect_eq(f.rule, rule_i, "latest in (%s, %s]: rule %zu, want %zu", a, b, f.rule,
		     rule_i);
	cr_expect_eq(f.occurrence, k, "latest in (%s, %s]: occurrence %lld, want %lld", a, b,
		     (long long)f.occurrence, (long long)k);
}

static const bool all4[] = { true, true, true, true };

/* --- escalation_parse_when --- */

static void expect_parse(const char *s, enum escalation_when when, double percent,
			 int64_t offset)
{
	struct escalation_rule r;
	struct err err = { .msg = "", .field = "" };

	memset(&r, 0, sizeof(r));
	cr_assert_eq(escalation_parse_when(s, DAY8H, &r, &err), 0, "\"%s\" rejected: %s", s,
		     err.msg);
	cr_expect_eq(r.when, when, "\"%s\": when %d, want %d", s, (int)r.when, (int)when);
	if (when == ESCALATION_PERCENT)
		cr_expect_eq(r.percent, percent, "\"%s\": percent %g, want %g", s, r.percent,
			     percent);
	if (when == ESCALATION_BEFORE || when == ESCALATION_AFTER)
		cr_expect_eq(r.offset, offset, "\"%s\": offset %lld, want %lld", s,
			     (long long)r.offset, (long long)offset);
}

static void expect_rejected(const char *s)
{
	struct escalation_rule r;
	struct err err = { .msg = "", .field = "" };

	memset(&r, 0, sizeof(r));
	if (escalation_parse_when(s, DAY8H, &r, &err) != -1) {
		cr_expect_fail("\"%s\" was accepted", s);
		return;
	}
	cr_expect_neq(err.msg[0], '\0', "\"%s\": no message", s);
}

Test(escalation_parse, shares_of_time)
{
	expect_parse("50%", ESCALATION_PERCENT, 50.0, 0);
	expect_parse("100%", ESCALATION_PERCENT, 100.0, 0);
	expect_parse("0.5%", ESCALATION_PERCENT, 0.5, 0);
	expect_parse("75%", ESCALATION_PERCENT, 75.0, 0);
}

Test(escalation_parse, before_and_after_due)
{
	expect_parse("-1d", ESCALATION_BEFORE, 0, DAY8H);       /* 8 h = 28800 s */
	expect_parse("+2h", ESCALATION_AFTER, 0, 2 * HOUR);     /* 7200 s */
	expect_parse("-90m", ESCALATION_BEFORE, 0, 90 * MINUTE); /* 5400 s */
	expect_parse("+30s", ESCALATION_AFTER, 0, 30);
	expect_parse("-0.5d", ESCALATION_BEFORE, 0, 4 * HOUR);  /* half an 8-hour day */
	expect_parse("+1.5d", ESCALATION_AFTER, 0, 12 * HOUR);
}

Test(escalation_parse, due)
{
	expect_parse("due", ESCALATION_DUE, 0, 0);
}

Test(escalation_parse, the_day_is_the_calendars)
{
	struct escalation_rule r;
	struct err err;

	memset(&r, 0, sizeof(r));
	/* A 9-hour office day: "-1d" is 32400 s. */
	cr_assert_eq(escalation_parse_when("-1d", 9 * HOUR, &r, &err), 0, "%s", err.msg);
	cr_expect_eq(r.when, ESCALATION_BEFORE);
	cr_expect_eq(r.offset, 9 * HOUR);
}

Test(escalation_parse, rejected)
{
	expect_rejected("");
	expect_rejected("0%");   /* a share must be > 0 */
	expect_rejected("101%"); /* ... and <= 100 */
	expect_rejected("50");   /* no % */
	expect_rejected("%");
	expect_rejected("1d");   /* a duration needs its sign: before or after? */
	expect_rejected("-0s");  /* an offset must be > 0 */
	expect_rejected("+-1d");
	expect_rejected("--1d");
	expect_rejected("due ");
	expect_rejected("-1x");  /* no such unit */
	expect_rejected("Due");
	expect_rejected("50%%");
	expect_rejected("-1");   /* no unit */
	expect_rejected("+");
	expect_rejected("-100000000000000000d"); /* too large */
}

/* A share is "a decimal number and %", as durations are "a decimal number and a unit": what
 * strtod() also takes (leading blanks, hexadecimal, exponents) is not one, just as "due " with
 * a trailing blank is not "due". */
Test(escalation_parse, a_share_is_a_plain_decimal)
{
	expect_rejected(" 50%");
	expect_rejected("0x32%");
	expect_rejected("5e1%");
	expect_rejected("nan%");
	expect_rejected("inf%");
}

/* --- escalation_fire_at --- */

Test(escalation_fire_at, shares_of_the_allotted_time)
{
	struct escalation_item a = item_a();
	struct escalation_rule half = rule("half", "50%", 0), quarter = rule("quarter", "25%", 0),
			       three_q = rule("three-quarters", "75%", 0),
			       tiny = rule("tiny", "0.5%", 0), full = rule("full", "100%", 0);

	/* 50% of 40 h = 20 h from Mon 08:00: Mon 08:00-11:30 3.5 h + 13:00-17:00 4 h = 7.5 h;
	 * Tue 8 h = 15.5 h; Wed 07:30-11:30 4 h = 19.5 h; 13:00 + 0.5 h = Wed 13:30. */
	expect_fire(&half, &a, 0, "2024-03-06T13:30:00+07:00");
	/* 25% = 10 h: Mon 7.5 h; Tue 07:30 + 2.5 h = 10:00. */
	expect_fire(&quarter, &a, 0, "2024-03-05T10:00:00+07:00");
	/* 75% = 30 h: Mon 7.5, Tue 15.5, Wed 23.5 h; Thu 07:30-11:30 27.5 h; 13:00 + 2.5 h =
	 * Thu 15:30. */
	expect_fire(&three_q, &a, 0, "2024-03-07T15:30:00+07:00");
	/* 0.5% of 144000 s = 720 s = 12 min: Mon 08:12. */
	expect_fire(&tiny, &a, 0, "2024-03-04T08:12:00+07:00");
	/* 100% = 40 h: the due instant itself. */
	expect_fire(&full, &a, 0, DUE);
	/* A rule that does not repeat has no occurrence 1. */
	expect_fire(&half, &a, 1, NULL);
}

Test(escalation_fire_at, before_due)
{
	struct escalation_item a = item_a();
	struct escalation_rule day = rule("one-day", "-1d", 0), two_h = rule("two-hours", "-2h", 0),
			       m90 = rule("ninety", "-90m", 0), half = rule("half-day", "-0.5d", 0),
			       s30 = rule("s30", "-30s", 0), lunch = rule("lunch", "-4.5h", 0);

	/* 8 h back from Mon 11/3 08:00: Mon 07:30-08:00 0.5 h; Fri 13:00-17:00 4 h = 4.5 h;
	 * Fri 08:00-11:30 3.5 h = 8 h: Fri 8/3 08:00. */
	expect_fire(&day, &a, 0, "2024-03-08T08:00:00+07:00");
	/* 2 h back: Mon 0.5 h; Fri 17:00 - 1.5 h = 15:30. */
	expect_fire(&two_h, &a, 0, "2024-03-08T15:30:00+07:00");
	/* 90 min back: Mon 30 min; Fri 17:00 - 60 min = 16:00. */
	expect_fire(&m90, &a, 0, "2024-03-08T16:00:00+07:00");
	/* 4 h back: Mon 0.5 h; Fri 17:00 - 3.5 h = 13:30. */
	expect_fire(&half, &a, 0, "2024-03-08T13:30:00+07:00");
	/* 30 s back: Mon 07:59:30. */
	expect_fire(&s30, &a, 0, "2024-03-11T07:59:30+07:00");
	/* 4.5 h back: Mon 0.5 h; the whole Friday afternoon 4 h: lands on the start of a period,
	 * which is that start (13:00), not the end of the morning (11:30). */
	expect_fire(&lunch, &a, 0, "2024-03-08T13:00:00+07:00");
}

Test(escalation_fire_at, at_and_after_due)
{
	struct escalation_item a = item_a();
	struct escalation_rule due = rule("due", "due", 0), day = rule("overdue", "+1d", 0),
			       two_h = rule("two-hours", "+2h", 0), s30 = rule("s30", "+30s", 0),
			       morning = rule("morning", "+3.5h", 0);

	expect_fire(&due, &a, 0, DUE);
	/* 8 h after Mon 11/3 08:00: Mon 08:00-11:30 3.5 h + 4 h = 7.5 h; Tue 07:30 + 0.5 h =
	 * Tue 12/3 08:00. */
	expect_fire(&day, &a, 0, "2024-03-12T08:00:00+07:00");
	expect_fire(&two_h, &a, 0, "2024-03-11T10:00:00+07:00");
	expect_fire(&s30, &a, 0, "2024-03-11T08:00:30+07:00");
	/* 3.5 h: lands exactly on the end of the morning, which is that end. */
	expect_fire(&morning, &a, 0, "2024-03-11T11:30:00+07:00");
	expect_fire(&due, &a, 1, NULL);
	expect_fire(&day, &a, 3, NULL);
}

Test(escalation_fire_at, repeats)
{
	struct escalation_item a = item_a();
	struct escalation_rule r = rule("overdue", "+1d", 4 * HOUR),
			       daily = rule("daily", "+1d", DAY8H);

	/* Occurrence 0: Tue 12/3 08:00 (above). Then every 4 h of office time:
	 * k=1: Tue 08:00-11:30 3.5 h; 13:00 + 0.5 h = Tue 13:30.
	 * k=2: 8 h after Tue 08:00 = Wed 13/3 08:00.
	 * k=3: Wed 13:30. */
	expect_fire(&r, &a, 0, "2024-03-12T08:00:00+07:00");
	expect_fire(&r, &a, 1, "2024-03-12T13:30:00+07:00");
	expect_fire(&r, &a, 2, "2024-03-13T08:00:00+07:00");
	expect_fire(&r, &a, 3, "2024-03-13T13:30:00+07:00");
	/* Daily: Tue 12, Wed 13, Thu 14, Fri 15, then over the weekend Mon 18/3 08:00. */
	expect_fire(&daily, &a, 3, "2024-03-15T08:00:00+07:00");
	expect_fire(&daily, &a, 4, "2024-03-18T08:00:00+07:00");
}

/* A case paused Wed 6/3 09:00 and resumed Thu 7/3 09:00 (continuing its time): the pause took
 * Wed 09:00-11:30 2.5 h + 4 h + Thu 07:30-09:00 1.5 h = 8 h of office time, and the due moved
 * 8 h later, to Tue 12/3 08:00. Allotted = between(start, due) - paused = 48 - 8 = 40 h, and a
 * share fires at add(start, P% x 40 h + 8 h): the pauses are given back. */
Test(escalation_fire_at, shares_of_a_paused_case)
{
	struct escalation_item p = { T(RECEIVED), T("2024-03-12T08:00:00+07:00"), 8 * HOUR };
	struct escalation_rule half = rule("half", "50%", 0), quarter = rule("quarter", "25%", 0),
			       full = rule("full", "100%", 0), tiny = rule("tiny", "0.5%", 0);

	/* 20 h + 8 h = 28 h from Mon 08:00: Mon 7.5, Tue 15.5, Wed 23.5 h; Thu 07:30-11:30
	 * 27.5 h; 13:00 + 0.5 h = Thu 7/3 13:30 (used then: 28 - 8 = 20 h = 50% of 40 h). */
	expect_fire(&half, &p, 0, "2024-03-07T13:30:00+07:00");
	/* 10 h + 8 h = 18 h: Mon 7.5, Tue 15.5 h; Wed 07:30 + 2.5 h = Wed 10:00. */
	expect_fire(&quarter, &p, 0, "2024-03-06T10:00:00+07:00");
	/* 40 h + 8 h = 48 h: the new due. */
	expect_fire(&full, &p, 0, "2024-03-12T08:00:00+07:00");
	/* 720 s + 8 h: Mon 08:00-11:30 3.5 h + 4 h = 7.5 h; Tue 07:30 + 0.5 h + 12 min =
	 * Tue 08:12. */
	expect_fire(&tiny, &p, 0, "2024-03-05T08:12:00+07:00");
}

Test(escalation_fire_at, paused_longer_than_the_time_fires_at_start)
{
	/* Pauses of 40 h against a 40-hour span leave no allotted time: a share fires at once. */
	struct escalation_item p = { T(RECEIVED), T(DUE), 40 * HOUR };
	struct escalation_rule half = rule("half", "50%", 0);

	expect_fire(&half, &p, 0, RECEIVED);
}

Test(escalation_fire_at, across_tet_2024)
{
	/* Received Mon 5/2 08:00, due Thu 15/2 10:00 (off: Thu 8/2-Wed 14/2, with the weekend). */
	struct escalation_item t = { T("2024-02-05T08:00:00+07:00"), T("2024-02-15T10:00:00+07:00"),
				     0 };
	struct escalation_rule day = rule("one-day", "-1d", 0), after = rule("overdue", "+1d", 0),
			       p95 = rule("ninety-five", "95%", 0);

	/* 8 h back from Thu 15/2 10:00: Thu 07:30-10:00 2.5 h; Tết and the weekend have none;
	 * Wed 7/2 13:00-17:00 4 h = 6.5 h; 11:30 - 1.5 h = Wed 7/2 10:00. */
	expect_fire(&day, &t, 0, "2024-02-07T10:00:00+07:00");
	/* 8 h after: Thu 10:00-11:30 1.5 h + 4 h = 5.5 h; Fri 16/2 07:30 + 2.5 h = 10:00. */
	expect_fire(&after, &t, 0, "2024-02-16T10:00:00+07:00");
	/* Allotted: Mon 5/2 7.5 h + Tue 8 h + Wed 8 h + Thu 15/2 2.5 h = 26 h; 95% = 24.7 h =
	 * 88920 s: Mon-Wed 23.5 h; Thu 15/2 07:30 + 1.2 h = 08:42. */
	expect_fire(&p95, &t, 0, "2024-02-15T08:42:00+07:00");
}

/* --- escalation_next --- */

/* The four rules of docs/escalation.md for the case of item_a():
 *   0 half     50%               Wed 6/3 13:30
 *   1 one-day  -1d               Fri 8/3 08:00
 *   2 due      due               Mon 11/3 08:00
 *   3 overdue  +1d, repeat 1d    Tue 12/3 08:00, Wed 13/3, Thu 14/3, Fri 15/3, Mon 18/3 08:00 */
static void doc_rules(struct escalation_rule r[4])
{
	r[0] = rule("half", "50%", 0);
	r[1] = rule("one-day", "-1d", 0);
	r[2] = rule("due", "due", 0);
	r[3] = rule("overdue", "+1d", DAY8H);
}

Test(escalation_next, earliest_strictly_after)
{
	struct escalation_item a = item_a();
	struct escalation_rule r[4];

	doc_rules(r);
	expect_next(r, 4, all4, &a, TIME_NONE, "2024-03-06T13:30:00+07:00", 0, 0);
	expect_next(r, 4, all4, &a, T(RECEIVED), "2024-03-06T13:30:00+07:00", 0, 0);
	expect_next(r, 4, all4, &a, T("2024-03-06T13:29:59+07:00"), "2024-03-06T13:30:00+07:00",
		    0, 0);
	/* Exactly at the half: strictly after it is the one-day rule. */
	expect_next(r, 4, all4, &a, T("2024-03-06T13:30:00+07:00"), "2024-03-08T08:00:00+07:00",
		    1, 0);
	expect_next(r, 4, all4, &a, T("2024-03-08T08:00:00+07:00"), DUE, 2, 0);
	expect_next(r, 4, all4, &a, T(DUE), "2024-03-12T08:00:00+07:00", 3, 0);
}

Test(escalation_next, use_masks_rules)
{
	struct escalation_item a = item_a();
	struct escalation_rule r[4];
	const bool no_half[] = { false, true, true, true };
	const bool only_due[] = { false, false, true, false };
	const bool none[] = { false, false, false, false };

	doc_rules(r);
	expect_next(r, 4, no_half, &a, TIME_NONE, "2024-03-08T08:00:00+07:00", 1, 0);
	expect_next(r, 4, only_due, &a, T(RECEIVED), DUE, 2, 0);
	expect_next(r, 4, only_due, &a, T(DUE), NULL, 0, 0);
	expect_next(r, 4, none, &a, TIME_NONE, NULL, 0, 0);
}

Test(escalation_next, repeats)
{
	struct escalation_item a = item_a();
	struct escalation_rule r[4];

	doc_rules(r);
	/* Between occurrences 0 (Tue 12/3 08:00) and 1 (Wed 13/3 08:00). */
	expect_next(r, 4, all4, &a, T("2024-03-12T15:00:00+07:00"), "2024-03-13T08:00:00+07:00", 3,
		    1);
	/* Exactly at occurrence 1: the following one. */
	expect_next(r, 4, all4, &a, T("2024-03-13T08:00:00+07:00"), "2024-03-14T08:00:00+07:00", 3,
		    2);
	/* Thu 14/3 09:00: occurrence 3, Fri 15/3 08:00. */
	expect_next(r, 4, all4, &a, T("2024-03-14T09:00:00+07:00"), "2024-03-15T08:00:00+07:00", 3,
		    3);
	/* Fri 15/3 08:00 exactly: over the weekend, occurrence 4 on Mon 18/3 08:00. */
	expect_next(r, 4, all4, &a, T("2024-03-15T08:00:00+07:00"), "2024-03-18T08:00:00+07:00", 3,
		    4);
	/* Saturday: still occurrence 4. */
	expect_next(r, 4, all4, &a, T("2024-03-16T10:00:00+07:00"), "2024-03-18T08:00:00+07:00", 3,
		    4);
}

Test(escalation_next, repeats_far_ahead)
{
	struct escalation_item a = item_a();
	struct escalation_rule daily = rule("overdue", "+1d", DAY8H);
	const bool use[] = { true };

	/* Occurrence k is k working days after Tue 12/3 08:00. Working days from Wed 13/3 to
	 * Fri 29/3: 13, 14, 15, 18-22, 25-29 = 13. April 2024 has 22 weekdays, 3 off (Thu 18 Giỗ
	 * Tổ, Mon 29, Tue 30): 19, total 32. Wed 1/5 off; Thu 2, Fri 3, Sat 4 (make-up): 35. So
	 * Sat 4/5 08:00 is occurrence 35, and the next after Fri 3/5 09:00 is it. */
	expect_next(&daily, 1, use, &a, T("2024-05-03T09:00:00+07:00"), "2024-05-04T08:00:00+07:00",
		    0, 35);
	/* After it: Mon 6/5 08:00, occurrence 36. */
	expect_next(&daily, 1, use, &a, T("2024-05-04T08:00:00+07:00"), "2024-05-06T08:00:00+07:00",
		    0, 36);
}

Test(escalation_next, none_left)
{
	struct escalation_item a = item_a();
	struct escalation_rule r[4];
	const bool once[] = { true, true, true, false };

	doc_rules(r);
	expect_next(r, 4, once, &a, T(DUE), NULL, 0, 0);
	expect_next(r, 4, once, &a, T("2024-12-31T12:00:00+07:00"), NULL, 0, 0);
	/* No rules at all. */
	expect_next(r, 0, once, &a, TIME_NONE, NULL, 0, 0);
}

Test(escalation_next, equal_instants_give_that_instant)
{
	/* 80% of 40 h = 32 h: Mon 7.5, Tue 15.5, Wed 23.5, Thu 31.5 h; Fri 07:30 + 0.5 h = Fri
	 * 08:00, the instant of -1d too. */
	struct escalation_item a = item_a();
	struct escalation_rule r[2] = { rule("eighty", "80%", 0), rule("one-day", "-1d", 0) };
	struct escalation_fire f;
	const bool use[] = { true, true };

	cr_assert(escalation_next(cal, r, 2, use, &a, T("2024-03-07T17:00:00+07:00"), &f));
	expect_instant(f.at, "2024-03-08T08:00:00+07:00", "next of two equal rules");
	cr_expect_eq(f.occurrence, 0);
}

/* --- escalation_latest --- */

Test(escalation_latest, several_crossed_give_the_latest)
{
	struct escalation_item a = item_a();
	struct escalation_rule r[4];

	doc_rules(r);
	/* Down from before the half to Fri 8/3 09:00: half and one-day crossed; one-day. */
	expect_latest(r, 4, all4, &a, T("2024-03-06T13:00:00+07:00"), T("2024-03-08T09:00:00+07:00"),
		      "2024-03-08T08:00:00+07:00", 1, 0);
	/* Never looked, until Mon 11/3 09:00: half, one-day, due; due. */
	expect_latest(r, 4, all4, &a, TIME_NONE, T("2024-03-11T09:00:00+07:00"), DUE, 2, 0);
	/* Never looked, until Thu 14/3 12:00: everything, overdue occurrence 2 (Thu 08:00). */
	expect_latest(r, 4, all4, &a, TIME_NONE, T("2024-03-14T12:00:00+07:00"),
		      "2024-03-14T08:00:00+07:00", 3, 2);
}

Test(escalation_latest, bounds_of_the_interval)
{
	struct escalation_item a = item_a();
	struct escalation_rule r[4];

	doc_rules(r);
	/* `after` equal to the half's instant excludes it: nothing else until Thu 7/3. */
	expect_latest(r, 4, all4, &a, T("2024-03-06T13:30:00+07:00"), T("2024-03-07T12:00:00+07:00"),
		      NULL, 0, 0);
	/* `now` equal to the half's instant includes it. */
	expect_latest(r, 4, all4, &a, T("2024-03-06T13:29:59+07:00"), T("2024-03-06T13:30:00+07:00"),
		      "2024-03-06T13:30:00+07:00", 0, 0);
	/* One second before it: nothing yet. */
	expect_latest(r, 4, all4, &a, TIME_NONE, T("2024-03-06T13:29:59+07:00"), NULL, 0, 0);
	/* After == now: an empty interval. */
	expect_latest(r, 4, all4, &a, T(DUE), T(DUE), NULL, 0, 0);
	/* Between two rules. */
	expect_latest(r, 4, all4, &a, T("2024-03-08T08:00:00+07:00"), T("2024-03-08T17:00:00+07:00"),
		      NULL, 0, 0);
}

Test(escalation_latest, ties_go_to_the_rule_listed_last)
{
	/* 80% and -1d both fire Fri 8/3 08:00 (see equal_instants_give_that_instant). */
	struct escalation_item a = item_a();
	struct escalation_rule r[2] = { rule("eighty", "80%", 0), rule("one-day", "-1d", 0) };
	struct escalation_rule swapped[2] = { r[1], r[0] };
	struct escalation_rule s[2] = { rule("due", "due", 0), rule("full", "100%", 0) };
	const bool use[] = { true, true }, first[] = { true, false };

	expect_latest(r, 2, use, &a, TIME_NONE, T("2024-03-08T09:00:00+07:00"),
		      "2024-03-08T08:00:00+07:00", 1, 0);
	expect_latest(swapped, 2, use, &a, TIME_NONE, T("2024-03-08T09:00:00+07:00"),
		      "2024-03-08T08:00:00+07:00", 1, 0);
	/* 100% of 40 h is the due instant: the one listed last. */
	expect_latest(s, 2, use, &a, T(RECEIVED), T("2024-03-11T08:00:00+07:00"), DUE, 1, 0);
	/* Masked, the last one does not count. */
	expect_latest(s, 2, first, &a, T(RECEIVED), T("2024-03-11T08:00:00+07:00"), DUE, 0, 0);
}

Test(escalation_latest, repeating_rule_gives_its_last_occurrence)
{
	struct escalation_item a = item_a();
	struct escalation_rule r = rule("overdue", "+1d", 4 * HOUR);
	const bool use[] = { true };

	/* Occurrences (fire_at.repeats): Tue 12/3 08:00, 13:30; Wed 13/3 08:00, 13:30. */
	expect_latest(&r, 1, use, &a, TIME_NONE, T("2024-03-13T10:00:00+07:00"),
		      "2024-03-13T08:00:00+07:00", 0, 2);
	expect_latest(&r, 1, use, &a, T("2024-03-12T13:30:00+07:00"),
		      T("2024-03-13T13:30:00+07:00"), "2024-03-13T13:30:00+07:00", 0, 3);
	/* Only occurrence 1 in (Tue 08:00, Tue 17:00]. */
	expect_latest(&r, 1, use, &a, T("2024-03-12T08:00:00+07:00"),
		      T("2024-03-12T17:00:00+07:00"), "2024-03-12T13:30:00+07:00", 0, 1);
	/* Between occurrences 2 and 3 with after at 2: none. */
	expect_latest(&r, 1, use, &a, T("2024-03-13T08:00:00+07:00"),
		      T("2024-03-13T13:29:59+07:00"), NULL, 0, 0);
	/* Before occurrence 0. */
	expect_latest(&r, 1, use, &a, TIME_NONE, T("2024-03-12T07:59:59+07:00"), NULL, 0, 0);
	/* Daily, far ahead: Sat 4/5 08:00 is occurrence 35 of a daily overdue
	 * (escalation_next.repeats_far_ahead); on Sunday 5/5 it is the last. */
	struct escalation_rule daily = rule("overdue", "+1d", DAY8H);
	expect_latest(&daily, 1, use, &a, TIME_NONE, T("2024-05-05T12:00:00+07:00"),
		      "2024-05-04T08:00:00+07:00", 0, 35);
}

Test(escalation_latest, masked_repeating_rule_is_skipped)
{
	struct escalation_item a = item_a();
	struct escalation_rule r[4];
	const bool no_overdue[] = { true, true, true, false };

	doc_rules(r);
	/* Acknowledged (masked) overdue: the due rule stands for the interval. */
	expect_latest(r, 4, no_overdue, &a, TIME_NONE, T("2024-03-14T12:00:00+07:00"), DUE, 2, 0);
	/* ... and nothing is left after the due. */
	expect_latest(r, 4, no_overdue, &a, T(DUE), T("2024-03-14T12:00:00+07:00"), NULL, 0, 0);
}

/* --- the injected clock, every form of `when` --- */

/* For a rule that fires once at `at`: next before it and exactly at it, latest with now one
 * second before, at, and long after, with after just before and at it. */
static void clock_once(const struct escalation_rule *r, const struct escalation_item *it,
		       const char *at)
{
	const bool use[] = { true };
	int64_t t = T(at);

	expect_fire(r, it, 0, at);
	expect_next(r, 1, use, it, TIME_NONE, at, 0, 0);
	expect_next(r, 1, use, it, t - 1, at, 0, 0);
	expect_next(r, 1, use, it, t, NULL, 0, 0);
	expect_next(r, 1, use, it, t + 1, NULL, 0, 0);
	expect_latest(r, 1, use, it, TIME_NONE, t - 1, NULL, 0, 0);
	expect_latest(r, 1, use, it, TIME_NONE, t, at, 0, 0);
	expect_latest(r, 1, use, it, t - 1, t, at, 0, 0);
	expect_latest(r, 1, use, it, t - 1, t + 30 * 86400, at, 0, 0);
	expect_latest(r, 1, use, it, t, t + 30 * 86400, NULL, 0, 0);
}

Test(escalation_clock, percent)
{
	struct escalation_item a = item_a();
	struct escalation_rule r = rule("half", "50%", 0);

	clock_once(&r, &a, "2024-03-06T13:30:00+07:00");
}

Test(escalation_clock, before)
{
	struct escalation_item a = item_a();
	struct escalation_rule r = rule("two-hours", "-2h", 0);

	clock_once(&r, &a, "2024-03-08T15:30:00+07:00");
}

Test(escalation_clock, due)
{
	struct escalation_item a = item_a();
	struct escalation_rule r = rule("due", "due", 0);

	clock_once(&r, &a, DUE);
}

Test(escalation_clock, after)
{
	struct escalation_item a = item_a();
	struct escalation_rule r = rule("overdue", "+30s", 0);

	clock_once(&r, &a, "2024-03-11T08:00:30+07:00");
}

Test(escalation_clock, repeating)
{
	struct escalation_item a = item_a();
	struct escalation_rule r = rule("every-two-hours", "+2h", 2 * HOUR);
	const bool use[] = { true };

	/* k=0: Mon 08:00 + 2 h = 10:00. k=1: 10:00-11:30 1.5 h; 13:00 + 0.5 h = 13:30.
	 * k=2: 15:30. k=3: 15:30-17:00 1.5 h; Tue 07:30 + 0.5 h = 08:00. */
	expect_fire(&r, &a, 0, "2024-03-11T10:00:00+07:00");
	expect_fire(&r, &a, 1, "2024-03-11T13:30:00+07:00");
	expect_fire(&r, &a, 2, "2024-03-11T15:30:00+07:00");
	expect_fire(&r, &a, 3, "2024-03-12T08:00:00+07:00");
	expect_next(&r, 1, use, &a, T("2024-03-11T10:00:00+07:00"), "2024-03-11T13:30:00+07:00", 0,
		    1);
	expect_next(&r, 1, use, &a, T("2024-03-11T12:00:00+07:00"), "2024-03-11T13:30:00+07:00", 0,
		    1);
	expect_next(&r, 1, use, &a, T("2024-03-11T15:30:00+07:00"), "2024-03-12T08:00:00+07:00", 0,
		    3);
	expect_next(&r, 1, use, &a, T("2024-03-11T20:00:00+07:00"), "2024-03-12T08:00:00+07:00", 0,
		    3);
	expect_latest(&r, 1, use, &a, T("2024-03-11T09:00:00+07:00"),
		      T("2024-03-11T20:00:00+07:00"), "2024-03-11T15:30:00+07:00", 0, 2);
	expect_latest(&r, 1, use, &a, T("2024-03-11T15:30:00+07:00"),
		      T("2024-03-12T07:59:59+07:00"), NULL, 0, 0);
	expect_latest(&r, 1, use, &a, T("2024-03-11T15:30:00+07:00"),
		      T("2024-03-12T08:00:00+07:00"), "2024-03-12T08:00:00+07:00", 0, 3);
}

/* --- a first occurrence outside office hours --- */

/* A case received Mon 4/3 07:30 under a 5-day procedure is due Fri 8/3 17:00 (40 h exactly,
 * landing on the end of the afternoon, which is that end). Its "due" rule fires at 17:00; with
 * a repeat of 4 h, occurrence 1 is 4 h of office time later, Mon 11/3 07:30 + 4 h = 11:30.
 * Occurrence 0 is the due instant itself: nothing may report it at Monday's opening. */
#define DUE_FRI "2024-03-08T17:00:00+07:00"

static struct escalation_item item_fri(void)
{
	return (struct escalation_item){ T("2024-03-04T07:30:00+07:00"), T(DUE_FRI), 0 };
}

Test(escalation_off_hours, fire_at)
{
	struct escalation_item b = item_fri();
	struct escalation_rule r = rule("due", "due", 4 * HOUR);

	expect_fire(&r, &b, 0, DUE_FRI);
	expect_fire(&r, &b, 1, "2024-03-11T11:30:00+07:00");
	expect_fire(&r, &b, 2, "2024-03-11T17:00:00+07:00");
}

Test(escalation_off_hours, next_after_the_due_instant)
{
	struct escalation_item b = item_fri();
	struct escalation_rule r = rule("due", "due", 4 * HOUR);
	const bool use[] = { true };

	expect_next(&r, 1, use, &b, TIME_NONE, DUE_FRI, 0, 0);
	expect_next(&r, 1, use, &b, T("2024-03-08T16:59:59+07:00"), DUE_FRI, 0, 0);
	/* Exactly at occurrence 0 (the scheduler's checked_until after it fired): occurrence 1. */
	expect_next(&r, 1, use, &b, T(DUE_FRI), "2024-03-11T11:30:00+07:00", 0, 1);
	/* Saturday: still occurrence 1. */
	expect_next(&r, 1, use, &b, T("2024-03-09T10:00:00+07:00"), "2024-03-11T11:30:00+07:00", 0,
		    1);
}

Test(escalation_off_hours, latest_over_the_weekend)
{
	struct escalation_item b = item_fri();
	struct escalation_rule r = rule("due", "due", 4 * HOUR);
	const bool use[] = { true };

	/* The timer fires at the due instant: occurrence 0 stands. */
	expect_latest(&r, 1, use, &b, T("2024-03-08T16:00:00+07:00"), T(DUE_FRI), DUE_FRI, 0, 0);
	/* Down over the weekend: on Saturday, occurrence 0 has fired. */
	expect_latest(&r, 1, use, &b, TIME_NONE, T("2024-03-09T10:00:00+07:00"), DUE_FRI, 0, 0);
	/* Handled at 17:00; nothing more fires before Monday 11:30. */
	expect_latest(&r, 1, use, &b, T(DUE_FRI), T("2024-03-11T07:30:00+07:00"), NULL, 0, 0);
	expect_latest(&r, 1, use, &b, T(DUE_FRI), T("2024-03-11T11:30:00+07:00"),
		      "2024-03-11T11:30:00+07:00", 0, 1);
}

Test(escalation_off_hours, overdue_repeating_from_an_end_of_day)
{
	/* The docs' "overdue" (+1d, repeat 1d) for a due of Fri 17:00: Mon 11/3 07:30 + 8 h =
	 * Mon 17:00 (k=0), Tue 12/3 17:00 (k=1). */
	struct escalation_item b = item_fri();
	struct escalation_rule r = rule("overdue", "+1d", DAY8H);
	const bool use[] = { true };

	expect_fire(&r, &b, 0, "2024-03-11T17:00:00+07:00");
	expect_fire(&r, &b, 1, "2024-03-12T17:00:00+07:00");
	expect_latest(&r, 1, use, &b, T("2024-03-11T16:00:00+07:00"),
		      T("2024-03-11T17:00:00+07:00"), "2024-03-11T17:00:00+07:00", 0, 0);
	expect_latest(&r, 1, use, &b, T("2024-03-11T16:00:00+07:00"),
		      T("2024-03-11T20:00:00+07:00"), "2024-03-11T17:00:00+07:00", 0, 0);
	expect_next(&r, 1, use, &b, T("2024-03-11T17:00:00+07:00"), "2024-03-12T17:00:00+07:00", 0,
		    1);
}

Test(escalation_off_hours, due_given_on_a_saturday)
{
	/* A due given explicitly outside working days, Sat 9/3 10:00: "due" fires then; with a
	 * repeat of 4 h, occurrence 1 is Mon 11/3 07:30 + 4 h = 11:30. */
	struct escalation_item s = { T(RECEIVED), T("2024-03-09T10:00:00+07:00"), 0 };
	struct escalation_rule r = rule("due", "due", 4 * HOUR);
	const bool use[] = { true };

	expect_fire(&r, &s, 1, "2024-03-11T11:30:00+07:00");
	expect_latest(&r, 1, use, &s, TIME_NONE, T("2024-03-10T10:00:00+07:00"),
		      "2024-03-09T10:00:00+07:00", 0, 0);
	expect_next(&r, 1, use, &s, T("2024-03-09T10:00:00+07:00"), "2024-03-11T11:30:00+07:00", 0,
		    1);
}
