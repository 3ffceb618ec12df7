/* kpi_snapshot: the dashboard's year figures (the KPI report, the budgets, the 12 months) kept
 * ahead of reading, per (unit subtree, page), so that a province page renders from figures
 * computed in the background instead of reading every case of the year on each view
 * (docs/dashboard.md, "Figures kept ahead"). Bookkeeping only: the dashboard computes the
 * figures; this module says whether an entry is fresh, stale or missing, keeps at most one
 * recomputation per key in flight, and drops what nobody asked for in a day. Loop thread only;
 * the figures of a published entry are immutable, so a job in the thread pool may read them
 * while it holds the entry. */
#ifndef DUNGHAN_KPI_SNAPSHOT_H
#define DUNGHAN_KPI_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "kpi.h"

#define KPI_SNAPSHOT_MONTHS 12
#define KPI_SNAPSHOT_IDLE (24 * 3600) /* seconds an entry unasked for is kept */

enum kpi_snapshot_page { KPI_SNAPSHOT_OVERVIEW, KPI_SNAPSHOT_UNIT };

/* What a page's figures are: filled by the dashboard (kpi_snapshot_figures_build), then
 * published; cfg is a reference (the report's rows point into it), dropped by
 * kpi_snapshot_figures_clear. */
struct kpi_figures {
	enum kpi_snapshot_page page;
	const struct config *cfg;
	int64_t computed_at; /* the instant the figures are of (the end of their periods) */
	int32_t day;         /* its calendar day: figures of another day are not served */
	struct kpi_period ytd;
	struct kpi_report report;
	struct kpi_year year;         /* overview */
	struct kpi_budget *budgets;   /* overview */
	size_t nbudgets;
	struct kpi_period months[KPI_SNAPSHOT_MONTHS]; /* unit page: the last 12, this one last */
	double monthly[KPI_SNAPSHOT_MONTHS];
};

/* Releases what f holds (the report, budgets, the config reference) and zeroes it. */
void kpi_snapshot_figures_clear(struct kpi_figures *f);

struct kpi_snapshot;
struct kpi_snapshot_entry;

/* An empty snapshot, or NULL when out of memory. */
struct kpi_snapshot *kpi_snapshot_new(void);
/* Frees s and its entries (entries still held by jobs live on until released). NULL is fine. */
void kpi_snapshot_free(struct kpi_snapshot *s);

enum kpi_snapshot_state { KPI_SNAPSHOT_MISSING, KPI_SNAPSHOT_STALE, KPI_SNAPSHOT_FRESH };

/* The entry of (unit, page) as of now: FRESH when computed less than refresh seconds ago,
 * STALE when older, MISSING when there is none, it is of another day than day, or refresh is
 * 0 (always compute afresh). With an entry, *out is it, held (kpi_snapshot_release it); else
 * NULL. Marks the entry used at now. */
enum kpi_snapshot_state kpi_snapshot_get(struct kpi_snapshot *s, const char *unit,
					 enum kpi_snapshot_page page, int64_t now, int32_t day,
					 int64_t refresh, struct kpi_snapshot_entry **out);

/* The state kpi_snapshot_get would say, without taking, counting or marking anything (the
 * warming timer's look). */
enum kpi_snapshot_state kpi_snapshot_peek(const struct kpi_snapshot *s, const char *unit,
					  enum kpi_snapshot_page page, int64_t now, int32_t day,
					  int64_t refresh);

/* The figures of a held entry: immutable, readable from any thread while held. */
const struct kpi_figures *kpi_snapshot_entry_figures(const struct kpi_snapshot_entry *e);
/* Drops a hold of kpi_snapshot_get; the last one frees the entry. NULL is fine. */
void kpi_snapshot_release(struct kpi_snapshot_entry *e);

/* Claims the recomputation of (unit, page): true (and *generation set) when none is in flight,
 * false when one is. The claimant calls kpi_snapshot_done with the generation when it ends. */
bool kpi_snapshot_claim(struct kpi_snapshot *s, const char *unit, enum kpi_snapshot_page page,
			uint64_t *generation);
/* Ends a claim; a claim of a generation since cleared is ignored. */
void kpi_snapshot_done(struct kpi_snapshot *s, const char *unit, enum kpi_snapshot_page page,
		       uint64_t generation);

/* The generation now: figures computed under it may be published. */
uint64_t kpi_snapshot_generation(const struct kpi_snapshot *s);

/* Publishes f (taken: *f is zeroed, also when it is not kept) as the entry of (unit, page),
 * replacing the old one, used at now, unless s was cleared since generation (the figures are
 * then of an old config and are dropped) or the entry there is of a later instant (a slower
 * computation finishing after a newer one). Returns 0, or -1 when out of memory (f dropped). */
int kpi_snapshot_put(struct kpi_snapshot *s, const char *unit, enum kpi_snapshot_page page,
		     uint64_t generation, struct kpi_figures *f, int64_t now);

/* Drops every entry and claim (a reload: figures depend on targets and units). */
void kpi_snapshot_clear(struct kpi_snapshot *s);

/* Drops the entries not asked for since now - KPI_SNAPSHOT_IDLE. */
void kpi_snapshot_prune(struct kpi_snapshot *s, int64_t now);

/* Counts of the snapshot's work since start, for GET /metrics. */
struct kpi_snapshot_counts {
	uint64_t hits_fresh, hits_stale, misses, recomputations;
	size_t entries;
};
void kpi_snapshot_counts(const struct kpi_snapshot *s, struct kpi_snapshot_counts *out);
/* Counts one recomputation queued in the background. */
void kpi_snapshot_count_recomputation(struct kpi_snapshot *s);

/* Writes the counts as metric families (dunghan_dashboard_snapshot_*). */
void kpi_snapshot_write_metrics(const struct kpi_snapshot *s, FILE *out);

#endif
