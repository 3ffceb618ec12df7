/* escalation: when rules fire, in working time (see escalation.h).
 *
 * DESIGN: occurrence k of a rule fires at add(base, k × repeat), where base is its first
 * instant: start + P% of the allotted time (the time from start to due, less the pauses, with
 * the pauses added back), or due ± offset. Working-time addition is monotone, so the first
 * occurrence after an instant is found from the working time between base and that instant,
 * then corrected by at most a step either way — no scan over occurrences. */
#include "escalation.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int escalation_parse_when(const char *s, int64_t day_seconds, struct escalation_rule *r,
			  struct err *err)
{
	size_t n = strlen(s);
	struct err ignored;

	if (strcmp(s, "due") == 0) {
		r->when = ESCALATION_DUE;
		return 0;
	}
	if (n >= 2 && s[n - 1] == '%') {
		size_t digits = strspn(s, "0123456789"), dot = s[digits] == '.';
		size_t decimals = dot ? strspn(s + digits + 1, "0123456789") : 0;
		char *end;
		double p;
		/* strtod alone would take " 50%", "0x32%" or "inf%": digits[.digits] only */
		if (digits == 0 || digits + dot + decimals != n - 1 || (dot && decimals == 0))
			return err_set(err, NULL, "\"%s\" is not a share of time like \"50%%\" (0 to 100)",
				       s);
		p = strtod(s, &end);
		if (end != s + n - 1 || !(p > 0 && p <= 100))
			return err_set(err, NULL, "\"%s\" is not a share of time like \"50%%\" (0 to 100)",
				       s);
		r->when = ESCALATION_PERCENT;
		r->percent = p;
		return 0;
	}
	if ((s[0] == '-' || s[0] == '+') &&
	    calendar_parse_duration(s + 1, day_seconds, &r->offset, &ignored) == 0 && r->offset > 0 &&
	    s[1] != '-' && s[1] != '+') {
		r->when = s[0] == '-' ? ESCALATION_BEFORE : ESCALATION_AFTER;
		return 0;
	}
	return err_set(err, NULL,
		       "\"%s\" is not a trigger: use \"50%%\", \"-1d\" (before due), \"due\" or "
		       "\"+1d\" (after due)", s);
}

/* The first occurrence's instant. */
static int64_t base_of(struct calendar *cal, const struct escalation_rule *r,
		       const struct escalation_item *it)
{
	int64_t allotted;

	switch (r->when) {
	case ESCALATION_PERCENT:
		allotted = calendar_between(cal, it->start, it->due_at) - it->paused_total;
		if (allotted <= 0)
			return it->start;
		return calendar_add(cal, it->start,
				    llround(r->percent / 100.0 * (double)allotted) + it->paused_total);
	case ESCALATION_BEFORE:
		return calendar_add(cal, it->due_at, -r->offset);
	case ESCALATION_DUE:
		return it->due_at;
	case ESCALATION_AFTER:
		return calendar_add(cal, it->due_at, r->offset);
	}
	return it->due_at;
}

/* Occurrence i of a rule whose first instant is base. Occurrence 0 is base itself, even outside
 * office hours (a due given for a Saturday fires then); repeats are counted from it in working
 * time. */
static int64_t occurrence_at(struct calendar *cal, int64_t base, int64_t repeat, int64_t i)
{
	return i == 0 ? base : calendar_add(cal, base, i * repeat);
}

int64_t escalation_fire_at(struct calendar *cal, const struct escalation_rule *r,
			   const struct escalation_item *item, int64_t k)
{
	int64_t base = base_of(cal, r, item);

	if (k == 0)
		return base;
	if (r->repeat <= 0)
		return TIME_NONE;
	return occurrence_at(cal, base, r->repeat, k);
}

/* The first occurrence of r strictly after `after`; false when none. */
static bool first_after(struct calendar *cal, const struct escalation_rule *r,
			const struct escalation_item *it, int64_t after, int64_t *k, int64_t *at)
{
	int64_t base = base_of(cal, r, it), guess, t;

	if (after == TIME_NONE || base > after) {
		*k = 0;
		*at = base;
		return true;
	}
	if (r->repeat <= 0)
		return false;
	guess = calendar_between(cal, base, after) / r->repeat;
	if (guess > 0)
		guess--;
	for (int64_t i = guess; i < guess + 4; i++) {
		t = occurrence_at(cal, base, r->repeat, i);
		if (t > after) {
			*k = i;
			*at = t;
			return true;
		}
	}
	return false;
}

/* The last occurrence of r at or before now; false when none. */
static bool last_until(struct calendar *cal, const struct escalation_rule *r,
		       const struct escalation_item *it, int64_t now, int64_t *k, int64_t *at)
{
	int64_t base = base_of(cal, r, it), guess;

	if (base > now)
		return false;
	if (r->repeat <= 0) {
		*k = 0;
		*at = base;
		return true;
	}
	guess = calendar_between(cal, base, now) / r->repeat + 1;
	for (int64_t i = guess; i >= 0; i--) {
		int64_t t = occurrence_at(cal, base, r->repeat, i);
		if (t <= now) {
			*k = i;
			*at = t;
			return true;
		}
	}
	return false;
}

bool escalation_next(struct calendar *cal, const struct escalation_rule *rules, size_t n,
		     const bool *use, const struct escalation_item *item, int64_t after,
		     struct escalation_fire *out)
{
	bool found = false;

	for (size_t i = 0; i < n; i++) {
		int64_t k, at;
		if (!use[i] || !first_after(cal, &rules[i], item, after, &k, &at))
			continue;
		if (!found || at < out->at) {
			*out = (struct escalation_fire){ i, k, at };
			found = true;
		}
	}
	return found;
}

bool escalation_latest(struct calendar *cal, const struct escalation_rule *rules, size_t n,
		       const bool *use, const struct escalation_item *item, int64_t after,
		       int64_t now, struct escalation_fire *out)
{
	bool found = false;

	for (size_t i = 0; i < n; i++) {
		int64_t k, at;
		if (!use[i] || !last_until(cal, &rules[i], item, now, &k, &at))
			continue;
		if (after != TIME_NONE && at <= after)
			continue;
		if (!found || at >= out->at) {
			*out = (struct escalation_fire){ i, k, at };
			found = true;
		}
	}
	return found;
}
