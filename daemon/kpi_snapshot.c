/* kpi_snapshot: the dashboard's year figures kept ahead of reading (see kpi_snapshot.h).
 *
 * DESIGN: stale-while-revalidate. A slot per (unit, page) holds the published entry, whether a
 * recomputation is claimed, and when the entry was last asked for. An entry is reference
 * counted on the loop thread: the slot holds one, and each page job reading it from the thread
 * pool holds one, so a newer entry can replace it (or a reload drop it) while a job still
 * reads the old one. A clear bumps the generation, so that a recomputation started under the
 * old config neither publishes nor ends a newer claim. Slots are few (the units heads look
 * at, two pages each), so they live in an array searched linearly. */
#include "kpi_snapshot.h"

#include <stdlib.h>
#include <string.h>

#include "metrics.h"

struct kpi_snapshot_entry {
	unsigned refs;
	struct kpi_figures f;
};

struct slot {
	char *unit;
	enum kpi_snapshot_page page;
	struct kpi_snapshot_entry *entry; /* NULL: none published (yet) */
	bool claimed;
	int64_t used_at;
};

struct kpi_snapshot {
	struct slot *slots;
	size_t n, cap;
	uint64_t generation;
	struct kpi_snapshot_counts counts;
};

void kpi_snapshot_figures_clear(struct kpi_figures *f)
{
	kpi_report_free(&f->report);
	free(f->budgets);
	if (f->cfg)
		config_unref(f->cfg);
	memset(f, 0, sizeof(*f));
}

struct kpi_snapshot *kpi_snapshot_new(void)
{
	return calloc(1, sizeof(struct kpi_snapshot));
}

static void slot_drop(struct slot *sl)
{
	kpi_snapshot_release(sl->entry);
	free(sl->unit);
}

void kpi_snapshot_free(struct kpi_snapshot *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		slot_drop(&s->slots[i]);
	free(s->slots);
	free(s);
}

static struct slot *find(const struct kpi_snapshot *s, const char *unit,
			 enum kpi_snapshot_page page)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->slots[i].page == page && !strcmp(s->slots[i].unit, unit))
			return &s->slots[i];
	return NULL;
}

/* The slot of (unit, page), made when absent; NULL when out of memory. */
static struct slot *slot_of(struct kpi_snapshot *s, const char *unit, enum kpi_snapshot_page page)
{
	struct slot *sl = find(s, unit, page);

	if (sl)
		return sl;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		struct slot *grown = realloc(s->slots, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		s->slots = grown;
		s->cap = cap;
	}
	sl = &s->slots[s->n];
	*sl = (struct slot){ .unit = strdup(unit), .page = page };
	if (!sl->unit)
		return NULL;
	s->n++;
	return sl;
}

/* The state of slot sl (NULL: none). */
static enum kpi_snapshot_state state_of(const struct slot *sl, int64_t now, int32_t day,
					int64_t refresh)
{
	if (refresh <= 0 || !sl || !sl->entry || sl->entry->f.day != day)
		return KPI_SNAPSHOT_MISSING;
	return now - sl->entry->f.computed_at < refresh ? KPI_SNAPSHOT_FRESH : KPI_SNAPSHOT_STALE;
}

enum kpi_snapshot_state kpi_snapshot_peek(const struct kpi_snapshot *s, const char *unit,
					  enum kpi_snapshot_page page, int64_t now, int32_t day,
					  int64_t refresh)
{
	return state_of(find(s, unit, page), now, day, refresh);
}

enum kpi_snapshot_state kpi_snapshot_get(struct kpi_snapshot *s, const char *unit,
					 enum kpi_snapshot_page page, int64_t now, int32_t day,
					 int64_t refresh, struct kpi_snapshot_entry **out)
{
	struct slot *sl = find(s, unit, page);
	enum kpi_snapshot_state state = state_of(sl, now, day, refresh);

	*out = NULL;
	if (sl)
		sl->used_at = now;
	if (state == KPI_SNAPSHOT_MISSING) {
		s->counts.misses++;
		return state;
	}
	*out = sl->entry;
	sl->entry->refs++;
	if (state == KPI_SNAPSHOT_FRESH)
		s->counts.hits_fresh++;
	else
		s->counts.hits_stale++;
	return state;
}

const struct kpi_figures *kpi_snapshot_entry_figures(const struct kpi_snapshot_entry *e)
{
	return &e->f;
}

void kpi_snapshot_release(struct kpi_snapshot_entry *e)
{
	if (!e || --e->refs > 0)
		return;
	kpi_snapshot_figures_clear(&e->f);
	free(e);
}

bool kpi_snapshot_claim(struct kpi_snapshot *s, const char *unit, enum kpi_snapshot_page page,
			uint64_t *generation)
{
	struct slot *sl = slot_of(s, unit, page);

	if (!sl || sl->claimed)
		return false;
	sl->claimed = true;
	*generation = s->generation;
	return true;
}

void kpi_snapshot_done(struct kpi_snapshot *s, const char *unit, enum kpi_snapshot_page page,
		       uint64_t generation)
{
	struct slot *sl = find(s, unit, page);

	if (sl && generation == s->generation)
		sl->claimed = false;
}

uint64_t kpi_snapshot_generation(const struct kpi_snapshot *s)
{
	return s->generation;
}

int kpi_snapshot_put(struct kpi_snapshot *s, const char *unit, enum kpi_snapshot_page page,
		     uint64_t generation, struct kpi_figures *f, int64_t now)
{
	struct kpi_snapshot_entry *e = NULL;
	struct slot *sl;

	if (generation != s->generation) {
		kpi_snapshot_figures_clear(f);
		return 0;
	}
	if (!(sl = slot_of(s, unit, page))) {
		kpi_snapshot_figures_clear(f);
		return -1;
	}
	if (sl->used_at < now)
		sl->used_at = now;
	if (sl->entry && sl->entry->f.computed_at > f->computed_at) {
		kpi_snapshot_figures_clear(f);
		return 0;
	}
	if (!(e = malloc(sizeof(*e)))) {
		kpi_snapshot_figures_clear(f);
		return -1;
	}
	e->refs = 1;
	e->f = *f;
	memset(f, 0, sizeof(*f));
	kpi_snapshot_release(sl->entry);
	sl->entry = e;
	return 0;
}

void kpi_snapshot_clear(struct kpi_snapshot *s)
{
	for (size_t i = 0; i < s->n; i++)
		slot_drop(&s->slots[i]);
	s->n = 0;
	s->generation++;
}

void kpi_snapshot_prune(struct kpi_snapshot *s, int64_t now)
{
	size_t kept = 0;

	for (size_t i = 0; i < s->n; i++) {
		struct slot *sl = &s->slots[i];

		/* A claimed slot stays: its recomputation ends there. */
		if (!sl->claimed && sl->used_at < now - KPI_SNAPSHOT_IDLE)
			slot_drop(sl);
		else
			s->slots[kept++] = *sl;
	}
	s->n = kept;
}

void kpi_snapshot_counts(const struct kpi_snapshot *s, struct kpi_snapshot_counts *out)
{
	*out = s->counts;
	out->entries = 0;
	for (size_t i = 0; i < s->n; i++)
		out->entries += s->slots[i].entry != NULL;
}

void kpi_snapshot_count_recomputation(struct kpi_snapshot *s)
{
	s->counts.recomputations++;
}

void kpi_snapshot_write_metrics(const struct kpi_snapshot *s, FILE *out)
{
	static const char *const views[] = { "result", "fresh", "result", "stale",
					     "result", "missing" };
	struct kpi_snapshot_counts c;

	kpi_snapshot_counts(s, &c);
	metrics_write_family(out, "dunghan_dashboard_snapshot_views_total", "counter",
			     "Dashboard page views by the state of their kept KPI figures.");
	metrics_write_sample(out, "dunghan_dashboard_snapshot_views_total", views, 1,
			     (int64_t)c.hits_fresh);
	metrics_write_sample(out, "dunghan_dashboard_snapshot_views_total", views + 2, 1,
			     (int64_t)c.hits_stale);
	metrics_write_sample(out, "dunghan_dashboard_snapshot_views_total", views + 4, 1,
			     (int64_t)c.misses);
	metrics_write_family(out, "dunghan_dashboard_snapshot_recomputations_total", "counter",
			     "KPI figures recomputed in the background (stale views and warming).");
	metrics_write_sample(out, "dunghan_dashboard_snapshot_recomputations_total", NULL, 0,
			     (int64_t)c.recomputations);
	metrics_write_family(out, "dunghan_dashboard_snapshot_entries", "gauge",
			     "Pages whose KPI figures are kept.");
	metrics_write_sample(out, "dunghan_dashboard_snapshot_entries", NULL, 0,
			     (int64_t)c.entries);
}
