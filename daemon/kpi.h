/* kpi: the figures of QĐ 194/QĐ-UBND for a unit subtree and a period — on-time rate on the
 * portal and finished bases, online submission and payment, digitisation, satisfaction,
 * inspections, documents and assignments — against each level's targets, and the yearly error
 * budget (docs/kpi.md). Pure arithmetic over counts the store gives; the API runs it in the
 * thread pool on a read-only connection. */
#ifndef DUNGHAN_KPI_H
#define DUNGHAN_KPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calendar.h"
#include "config.h"
#include "err.h"
#include "store.h"

#define KPI_NO_DATA (-1.0) /* a rate whose denominator is zero */

enum kpi_basis { KPI_PORTAL, KPI_FINISHED };

/* A period [from, to) of local dates; end = min(to, now) is where "open at the end" is judged. */
struct kpi_period {
	int64_t from, to, end;
	int32_t first_day, last_day; /* calendar day numbers, inclusive */
	char label[24];              /* "2024", "2024-Q1", "2024-03", "2024-01-01..2024-06-30" */
};

/* Parses "2024", "2024-Q1".."Q4", "2024-03", "ytd" (1 January of now's year to today), or
 * "YYYY-MM-DD..YYYY-MM-DD" (inclusive) in the calendar's zone. Returns 0 or -1 with err. */
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

/* Rates in percent with one decimal of precision kept (not rounded), KPI_NO_DATA when the
 * denominator is zero. */
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

/* The error budget of one unit (its subtree) for a year. */
struct kpi_budget {
	const struct config_unit *unit;
	double target;            /* on-time target in percent; KPI_NO_DATA when none */
	int64_t counted;          /* cases counted so far (portal denominator, year to date) */
	double projected;         /* counted scaled by working days of the year / elapsed */
	double allowed;           /* projected * (100 - target) / 100 */
	int64_t used;             /* finished late + open overdue, year to date */
	double remaining;         /* allowed - used (may be negative) */
	double remaining_percent; /* remaining / allowed * 100; KPI_NO_DATA when allowed is 0 */
	double projected_rate;    /* year-end on-time rate at the current pace */
	int64_t due_7d, late_7d, due_30d, late_30d; /* deadlines in the last 7 / 30 days */
	double burn_7d, burn_30d; /* late share / allowed share; KPI_NO_DATA without deadlines */
};

/* The budget of each unit of the subtree of root for year, as of now (in that year, or its
 * end for a past year): elapsed and total are the year's working days so far and in all
 * (calendar_between-based, computed by the caller on the loop thread). out/nout: malloc'd. */
int kpi_budget_build(struct store *st, const struct config *cfg, const char *root, int year,
		     int64_t now, int32_t elapsed_days, int32_t total_days, struct kpi_budget **out,
		     size_t *nout, struct err *err);

/* Whether a budget warrants the budget rule's warning (burn_7d > burn_rate, or
 * remaining_percent < remaining_below). */
bool kpi_budget_alarming(const struct kpi_budget *b, double burn_rate, double remaining_below);

/* The report as CSV for Excel: UTF-8 BOM, CRLF, RFC 4180 quoting, headers in language
 * ("vi" or "en"), numbers with a dot and one decimal, "" for no data. Returns a malloc'd
 * NUL-terminated text (its length in *len), or NULL when out of memory. */
char *kpi_report_csv(const struct kpi_report *r, const char *language, size_t *len);

#endif
