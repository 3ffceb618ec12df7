/* escalation: the rules that say when an item's people are warned (share of time used, time
 * before due, at due, time after due, repeating) and the pure arithmetic of when each rule
 * fires for an item, in working time. Which rule fires next, and after downtime which single
 * most severe one stands for all that were missed. Storage and sending live elsewhere. */
#ifndef DUNGHAN_ESCALATION_H
#define DUNGHAN_ESCALATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calendar.h"
#include "err.h"

enum escalation_when {
	ESCALATION_PERCENT, /* "50%": that share of the allotted working time used */
	ESCALATION_BEFORE,  /* "-1d": working time before due */
	ESCALATION_DUE,     /* "due" */
	ESCALATION_AFTER,   /* "+1d": working time after due */
};

enum escalation_channel { ESCALATION_EMAIL = 1u << 0, ESCALATION_CHAT = 1u << 1 };

/* The item kinds that have rules. */
enum escalation_kind { ESCALATION_CASES, ESCALATION_DOCUMENTS, ESCALATION_ASSIGNMENTS,
		       ESCALATION_KINDS };

struct escalation_rule {
	const char *id;
	enum escalation_when when;
	double percent;           /* PERCENT: 0 < percent <= 100 */
	int64_t offset;           /* BEFORE, AFTER: working seconds, > 0 */
	int64_t repeat;           /* working seconds between repeats; 0 = fires once */
	const char *const *notify; /* "handler", "head", "leader", "person:ID", "channel:ID" */
	size_t nnotify;
	unsigned channels;        /* enum escalation_channel bits */
	bool urgent;              /* reaches digest readers at once */
	const char *const *units; /* limited to these units and their subtrees; none = all */
	size_t nunits;
	const char *const *procedures; /* cases: limited to these procedures; none = all */
	size_t nprocedures;
};

/* What the arithmetic needs of an item. */
struct escalation_item {
	int64_t start;        /* received_at (cases, documents), created_at (assignments) */
	int64_t due_at;
	int64_t paused_total; /* office seconds of ended pauses (cases) */
};

/* One firing: rule index, its occurrence (0, then 1, 2… for repeats) and instant. */
struct escalation_fire {
	size_t rule;
	int64_t occurrence;
	int64_t at;
};

/* Parses a `when`: "50%", "-1d", "due", "+2h" (durations as calendar_parse_duration with
 * day_seconds). Returns 0 or -1 with err. */
int escalation_parse_when(const char *s, int64_t day_seconds, struct escalation_rule *r,
			  struct err *err);

/* The instant of occurrence k of rule r for item, or TIME_NONE when r does not repeat and
 * k > 0. */
int64_t escalation_fire_at(struct calendar *cal, const struct escalation_rule *r,
			   const struct escalation_item *item, int64_t k);

/* The earliest firing with an instant strictly after `after` (TIME_NONE: from the start) among
 * rules[i] with use[i] true. Returns false when none remains. */
bool escalation_next(struct calendar *cal, const struct escalation_rule *rules, size_t n,
		     const bool *use, const struct escalation_item *item, int64_t after,
		     struct escalation_fire *out);

/* The most severe firing with after < instant <= now (after TIME_NONE: any): the latest
 * instant, and on a tie the rule listed last. It stands for every firing of the interval, so
 * that an item that crossed several rules while nobody looked yields one alert. Returns false
 * when none. */
bool escalation_latest(struct calendar *cal, const struct escalation_rule *rules, size_t n,
		       const bool *use, const struct escalation_item *item, int64_t after,
		       int64_t now, struct escalation_fire *out);

#endif
