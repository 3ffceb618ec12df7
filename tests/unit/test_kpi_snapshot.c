/* kpi_snapshot's bookkeeping: fresh, stale and missing by age, day and refresh; one claim per
 * key; a reload's clear dropping entries and the figures of recomputations started before it;
 * held entries outliving their replacement; entries unasked for in a day dropped. */
#include <criterion/criterion.h>
#include <string.h>

#include "kpi_snapshot.h"

static struct kpi_snapshot *s;

static void setup(void)
{
	s = kpi_snapshot_new();
	cr_assert(s);
}

static void teardown(void)
{
	kpi_snapshot_free(s);
}

TestSuite(kpi_snapshot, .init = setup, .fini = teardown);

#define T0 1700000000
#define DAY 19676

/* Publishes figures computed at `at` for unit's overview. */
static void put(const char *unit, int64_t at, int32_t day)
{
	struct kpi_figures f = { .page = KPI_SNAPSHOT_OVERVIEW, .computed_at = at, .day = day };

	cr_assert_eq(kpi_snapshot_put(s, unit, KPI_SNAPSHOT_OVERVIEW,
				      kpi_snapshot_generation(s), &f, at), 0);
	cr_assert_eq(f.computed_at, 0, "the figures were taken");
}

static enum kpi_snapshot_state get(const char *unit, int64_t now, int32_t day, int64_t refresh,
				   int64_t *at)
{
	struct kpi_snapshot_entry *e;
	enum kpi_snapshot_state st = kpi_snapshot_get(s, unit, KPI_SNAPSHOT_OVERVIEW, now, day,
						      refresh, &e);

	cr_assert_eq(e != NULL, st != KPI_SNAPSHOT_MISSING);
	*at = e ? kpi_snapshot_entry_figures(e)->computed_at : -1;
	kpi_snapshot_release(e);
	return st;
}

Test(kpi_snapshot, fresh_stale_missing)
{
	struct kpi_snapshot_counts c;
	int64_t at;

	cr_assert_eq(get("tinh", T0, DAY, 300, &at), KPI_SNAPSHOT_MISSING);
	put("tinh", T0, DAY);
	cr_assert_eq(get("tinh", T0 + 299, DAY, 300, &at), KPI_SNAPSHOT_FRESH);
	cr_assert_eq(at, T0);
	cr_assert_eq(get("tinh", T0 + 300, DAY, 300, &at), KPI_SNAPSHOT_STALE);
	cr_assert_eq(at, T0);
	/* Another day's figures are not served; refresh 0 never serves kept figures. */
	cr_assert_eq(get("tinh", T0 + 10, DAY + 1, 300, &at), KPI_SNAPSHOT_MISSING);
	cr_assert_eq(get("tinh", T0 + 10, DAY, 0, &at), KPI_SNAPSHOT_MISSING);
	/* Keys are (unit, page). */
	cr_assert_eq(get("so-tp", T0, DAY, 300, &at), KPI_SNAPSHOT_MISSING);
	cr_assert_eq(kpi_snapshot_peek(s, "tinh", KPI_SNAPSHOT_UNIT, T0, DAY, 300),
		     KPI_SNAPSHOT_MISSING);
	cr_assert_eq(kpi_snapshot_peek(s, "tinh", KPI_SNAPSHOT_OVERVIEW, T0 + 400, DAY, 300),
		     KPI_SNAPSHOT_STALE);
	kpi_snapshot_counts(s, &c);
	cr_assert_eq(c.hits_fresh, 1);
	cr_assert_eq(c.hits_stale, 1);
	cr_assert_eq(c.misses, 4); /* peek counts nothing */
	cr_assert_eq(c.entries, 1);
}

Test(kpi_snapshot, one_claim_per_key)
{
	uint64_t g1, g2;

	cr_assert(kpi_snapshot_claim(s, "tinh", KPI_SNAPSHOT_OVERVIEW, &g1));
	cr_assert_not(kpi_snapshot_claim(s, "tinh", KPI_SNAPSHOT_OVERVIEW, &g2));
	cr_assert(kpi_snapshot_claim(s, "tinh", KPI_SNAPSHOT_UNIT, &g2));
	kpi_snapshot_done(s, "tinh", KPI_SNAPSHOT_OVERVIEW, g1);
	cr_assert(kpi_snapshot_claim(s, "tinh", KPI_SNAPSHOT_OVERVIEW, &g1));
}

Test(kpi_snapshot, clear_drops_entries_and_older_recomputations)
{
	struct kpi_figures f = { .page = KPI_SNAPSHOT_OVERVIEW, .computed_at = T0 + 5, .day = DAY };
	uint64_t old, g;
	int64_t at;

	put("tinh", T0, DAY);
	cr_assert(kpi_snapshot_claim(s, "tinh", KPI_SNAPSHOT_OVERVIEW, &old));
	kpi_snapshot_clear(s);
	cr_assert_eq(get("tinh", T0 + 1, DAY, 300, &at), KPI_SNAPSHOT_MISSING);
	/* A new claim is possible at once; the old one's end does not end it. */
	cr_assert(kpi_snapshot_claim(s, "tinh", KPI_SNAPSHOT_OVERVIEW, &g));
	kpi_snapshot_done(s, "tinh", KPI_SNAPSHOT_OVERVIEW, old);
	cr_assert_not(kpi_snapshot_claim(s, "tinh", KPI_SNAPSHOT_OVERVIEW, &old));
	/* Figures of the old generation are dropped, not published. */
	cr_assert_eq(kpi_snapshot_put(s, "tinh", KPI_SNAPSHOT_OVERVIEW, g - 1, &f, T0 + 5), 0);
	cr_assert_eq(f.computed_at, 0);
	cr_assert_eq(get("tinh", T0 + 6, DAY, 300, &at), KPI_SNAPSHOT_MISSING);
}

Test(kpi_snapshot, held_entry_outlives_its_replacement)
{
	struct kpi_snapshot_entry *e;
	int64_t at;

	put("tinh", T0, DAY);
	cr_assert_eq(kpi_snapshot_get(s, "tinh", KPI_SNAPSHOT_OVERVIEW, T0, DAY, 300, &e),
		     KPI_SNAPSHOT_FRESH);
	put("tinh", T0 + 60, DAY);
	kpi_snapshot_clear(s);
	/* Still readable (ASan would say otherwise) until released. */
	cr_assert_eq(kpi_snapshot_entry_figures(e)->computed_at, T0);
	kpi_snapshot_release(e);
	cr_assert_eq(get("tinh", T0 + 61, DAY, 300, &at), KPI_SNAPSHOT_MISSING);
}

Test(kpi_snapshot, unasked_for_a_day_dropped)
{
	struct kpi_snapshot_counts c;
	int64_t at;

	put("tinh", T0, DAY);
	put("so-tp", T0, DAY);
	cr_assert_eq(get("tinh", T0 + KPI_SNAPSHOT_IDLE - 10, DAY + 1, 300, &at),
		     KPI_SNAPSHOT_MISSING); /* asked for (another day: missing, still used) */
	kpi_snapshot_prune(s, T0 + KPI_SNAPSHOT_IDLE + 1);
	kpi_snapshot_counts(s, &c);
	cr_assert_eq(c.entries, 1);
	cr_assert_eq(kpi_snapshot_peek(s, "so-tp", KPI_SNAPSHOT_OVERVIEW, T0, DAY, 300),
		     KPI_SNAPSHOT_MISSING);
	cr_assert_eq(kpi_snapshot_peek(s, "tinh", KPI_SNAPSHOT_OVERVIEW, T0, DAY, 300),
		     KPI_SNAPSHOT_FRESH);
}

/* A slow computation that finishes after a newer one does not replace its figures. */
Test(kpi_snapshot, older_figures_do_not_replace_newer)
{
	int64_t at;

	put("tinh", T0 + 60, DAY);
	put("tinh", T0, DAY);
	cr_assert_eq(get("tinh", T0 + 61, DAY, 300, &at), KPI_SNAPSHOT_FRESH);
	cr_assert_eq(at, T0 + 60);
	put("tinh", T0 + 120, DAY);
	cr_assert_eq(get("tinh", T0 + 121, DAY, 300, &at), KPI_SNAPSHOT_FRESH);
	cr_assert_eq(at, T0 + 120);
}
