/* kpi: the figures of QĐ 194/QĐ-UBND for a unit subtree and a period — on-time rate on the
 * portal and finished bases, online submission and payment, digitisation, satisfaction,
 * inspections, documents and assignments — against each level's targets, and the yearly error
 * budget (docs/kpi.md). Pure arithmetic over counts the store gives; the API runs it in the
 * thread pool on a read-only connection. */
#ifndef DUNGHAN_KPI_H
#define DUNGHAN_KPI_H

#include <stdbool.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calendar.h"
#include "config.h"
#include "err.h"
#include "store.h"

/* A figure that has no value (a rate whose denominator is zero, a budget without a target): not
 * a number, since every real value may occur, negative ones too (a budget overspent by one
 * case has remaining = -1). Test with kpi_no_data(), never with ==. */
#define KPI_NO_DATA ((double)NAN)
static inline bool kpi_no_data(double v)
{
	return isnan(v);
}

enum kpi_basis { KPI_PORTAL, KPI_FINISHED };

/* A period [from, to) of local dates; end = min(to, now) is where "open at the end" is judged. */
struct kpi_period {
	int64_t from, to, end;
	int32_t first_day, last_day; /* calendar day numbers, inclusive */
	char label[24];              /* "2024", "2024-Q1", "2024-03", "2024-01-01..2024-06-30" */
};

/* Parses "2024", "2024-Q1".."Q4", "2024-03", "ytd" (1 January of now's year to today), or
 * "YYYY-MM-DD..YYYY-MM-DD" (inclusive) in the calendar's zone; years 1970..9999. Loop thread
 * (it uses the calendar). Returns 0, or -1 with err (field "period") on a malformed period, a
 * range that ends before it starts, or one that begins after today. */
int kpi_parse_period(struct calendar *cal, const char *s, int64_t now, struct kpi_period *p,
		     struct err *err);
int kpi_parse_basis(const char *s); /* "portal" | "finished", else -1 */

/* Every count behind one row. */
struct kpi_counts {
	struct store_case_counts cases; /* .unit unused */
	int64_t rated, satisfied;
	int64_t subordinates, inspected; /* direct child units; of those inspected in the period */
	struct store_item_counts documents, assignments; /* .unit unused */
};

/* Rates in percent, exact (rounded only when printed), KPI_NO_DATA when the denominator is
 * zero. */
struct kpi_rates {
	double on_time;         /* on the requested basis */
	double online, online_payment, digitized, satisfaction, inspection;
	double documents_on_time, assignments_on_time; /* done by due_at / due in the period */
};

struct kpi_row {
	const struct config_unit *unit; /* NULL for the total row */
	int depth;                      /* 0 for the subtree's root */
	struct kpi_counts counts;       /* the unit's own items (total row: the whole subtree) */
	struct kpi_rates rates;
	const struct config_target *target; /* of the unit's level (total: the root's); or NULL */
	bool below_target;              /* on-time rate below target (false without data/target) */
};

struct kpi_report {
	struct kpi_period period;
	enum kpi_basis basis;
	struct kpi_row *rows; /* the subtree's units depth first (config order among siblings) */
	size_t nrows;
	struct kpi_row total;
};

/* Computes the report for the subtree of unit `root` (NULL: every root of cfg) over period p
 * from the database st (a read-only connection is expected). cfg is read only for the unit
 * tree, targets and kpi settings. Returns 0 or -1 with err. */
int kpi_report_build(struct store *st, const struct config *cfg, const char *root,
		     const struct kpi_period *p, enum kpi_basis basis, struct kpi_report *out,
		     struct err *err);
void kpi_report_free(struct kpi_report *r);

/* The rates of counts on basis. */
void kpi_rates_of(const struct kpi_counts *c, enum kpi_basis basis, struct kpi_rates *out);

/* Whether an on-time rate is below target t: t has an on_time target, and the rate has data
 * and is below it (what kpi_row.below_target says of a row). t may be NULL. */
bool kpi_below_target(const struct config_target *t, double on_time);

/* The counts of row i of r and of every row below it in the tree (i's subtree), into out:
 * rows are depth first, so those are i and the deeper rows that follow it. */
void kpi_report_subtree(const struct kpi_report *r, size_t i, struct kpi_counts *out);

/* The on-time rate on basis of the subtree of unit root (NULL: every root) for each of the n
 * periods (at most STORE_KPI_PERIODS_MAX): out[i] in percent, or KPI_NO_DATA, each exactly
 * what kpi_report_build's total row gives for periods[i]. Only the cases are read (no ratings,
 * documents, assignments or inspections), in one pass for all the periods. Thread pool,
 * read-only connection, like kpi_report_build. Returns 0 or -1 with err (field "unit" for an
 * unknown root). */
int kpi_on_time_series(struct store *st, const struct config *cfg, const char *root,
		       const struct kpi_period *periods, size_t n, enum kpi_basis basis,
		       double *out, struct err *err);

/* kpi_report_build for p and kpi_on_time_series for the n periods (at most
 * STORE_KPI_PERIODS_MAX - 1) together, from one pass over the cases: what a unit's page needs.
 * series gets n rates; out as kpi_report_build's (freed with kpi_report_free). */
int kpi_report_series_build(struct store *st, const struct config *cfg, const char *root,
			    const struct kpi_period *p, enum kpi_basis basis,
			    struct kpi_report *out, const struct kpi_period *periods, size_t n,
			    double *series, struct err *err);

/* The year a budget is judged over. Working days need the calendar, so kpi_budget_year runs on
 * the loop thread and kpi_budget_build (thread pool) only reads the result. */
struct kpi_year {
	int year;
	struct kpi_period period; /* 1 January .. 31 December; end = min(to, now) */
	double elapsed_days;      /* working days in [from, end), in office time (fractional) */
	double total_days;        /* working days in [from, to) */
};

/* Fills y for year as of now (a past year: as of its end). Returns 0, or -1 with err (field
 * "year") when year is outside 1970..9999 or has not begun at now. */
int kpi_budget_year(struct calendar *cal, int year, int64_t now, struct kpi_year *y,
		    struct err *err);

/* The error budget of one unit (its subtree) for a year. */
struct kpi_budget {
	const struct config_unit *unit;
	int depth;                /* 0 for the subtree's root */
	double target;            /* on-time target in percent; KPI_NO_DATA when none */
	int64_t counted;          /* cases counted so far (portal denominator, year to date) */
	double projected;         /* counted * total_days / elapsed_days (counted when none) */
	double allowed;           /* projected * (100 - target) / 100; KPI_NO_DATA without target */
	int64_t used;             /* finished late + open overdue, year to date */
	double remaining;         /* allowed - used (may be negative); KPI_NO_DATA without target */
	double remaining_percent; /* remaining / allowed * 100 (may be negative); KPI_NO_DATA
	                           * without target or when allowed is 0 */
	double projected_rate;    /* (counted - used) / counted * 100: the year-end on-time rate at
	                           * the current pace; KPI_NO_DATA when nothing is counted */
	int64_t due_7d, late_7d, due_30d, late_30d; /* deadlines in [end - 7 d, end), [end - 30 d,
	                                             * end) in plain days, and the late ones */
	double burn_7d, burn_30d; /* late share / allowed share; KPI_NO_DATA without deadlines,
	                           * without target, or with a target of 100 */
};

/* The budget of each unit of the subtree of root (NULL: every root of cfg), depth first, for
 * the year y (from kpi_budget_year); each unit's figures cover its whole subtree, since a head
 * answers for the units below. out: malloc'd array of *nout (free with free()). Returns 0 or
 * -1 with err (field "unit" for an unknown root). */
int kpi_budget_build(struct store *st, const struct config *cfg, const char *root,
		     const struct kpi_year *y, struct kpi_budget **out, size_t *nout,
		     struct err *err);

/* kpi_report_build for p (the year to date of y: the same from and end) and kpi_budget_build
 * for y together, from one pass over the cases: what the overview needs. r as
 * kpi_report_build's (freed with kpi_report_free, also after a failure), out as
 * kpi_budget_build's. Returns 0 or -1 with err. */
int kpi_report_budget_build(struct store *st, const struct config *cfg, const char *root,
			    const struct kpi_period *p, enum kpi_basis basis,
			    const struct kpi_year *y, struct kpi_report *r,
			    struct kpi_budget **out, size_t *nout, struct err *err);

/* Whether a budget warrants the budget rule's warning: it has a target, and burn_7d >
 * burn_rate, or remaining_percent < remaining_below, or late cases were used of a zero
 * allowance. Never for a unit without a target. */
bool kpi_budget_alarming(const struct kpi_budget *b, double burn_rate, double remaining_below);

/* A directive's cascade: the sub-assignments below a top-level assignment, counted by depth
 * below it and by the unit level of the unit they were given to (docs/api.md, "cascade"). */
struct kpi_cascade_counts {
	int64_t done, open, overdue; /* overdue: the open ones past due_at at now */
};

struct kpi_cascade_level {
	const char *level; /* a level tag (cfg's); NULL: a unit no longer configured */
	size_t rank;       /* the config position of the first unit with that level */
	struct kpi_cascade_counts c;
};

struct kpi_cascade {
	struct kpi_cascade_counts *depths; /* [0] is depth 1 (the directive's children) */
	size_t ndepths;
	struct kpi_cascade_level *levels;  /* in rank order: down the tree as the config lists it */
	size_t nlevels;
	struct kpi_cascade_counts total;
};

/* Counts the sub-assignments below assignment root as of now into out (zeroed first; free it
 * with kpi_cascade_free, also after a failure). Level tags point into cfg. Thread pool,
 * read-only connection. Returns 0 or -1 with err. */
int kpi_cascade_build(struct store *st, const struct config *cfg, int64_t root, int64_t now,
		      struct kpi_cascade *out, struct err *err);
void kpi_cascade_free(struct kpi_cascade *c);

/* The report as CSV for Excel: UTF-8 BOM, CRLF, RFC 4180 quoting, headers in language
 * ("vi" or "en"), numbers with a dot and one decimal, "" for no data. Returns a malloc'd
 * NUL-terminated text (its length in *len), or NULL when out of memory. */
char *kpi_report_csv(const struct kpi_report *r, const char *language, size_t *len);

#endif
