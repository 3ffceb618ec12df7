/* KPI engine: the figures of a report (portal and finished bases, online, payment, digitised,
 * satisfaction, inspections, documents, assignments) over a real SQLite file filled through the
 * store, read back on a read-only connection; periods; the error budget; the CSV for Excel. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "csv.h"
#include "harness.h"
#include "kpi.h"
#include "office_calendar.h"
#include "store.h"

#define EPS 1e-9
#define HOUR 3600

static struct harness h;
static char db[600];
static struct config *cfg;
static struct store *st; /* the writer, while the test fills the database */
static int ncase;

/* The tree: tinh (province) > sonv (department) > sonv-p1 (no target), tinh > xa-a, xa-b
 * (communes). sonv-p1 comes last in the config: depth-first order must still put it under
 * sonv. The database also knows "old", a unit since removed from the config. */
#define UNITS                                                                                  \
	"calendar: { timezone = \"Asia/Ho_Chi_Minh\"; week = [\"mon\",\"tue\",\"wed\",\"thu\","   \
	"\"fri\"]; office_hours = [\"07:30-11:30\", \"13:00-17:00\"]; };\n"                        \
	"units = ( { id = \"tinh\"; name = \"UBND tỉnh\"; level = \"province\"; },\n"              \
	"  { id = \"sonv\"; name = \"Sở Nội vụ, \\\"SNV\\\"\"; level = \"department\";"            \
	" parent = \"tinh\"; },\n"                                                                 \
	"  { id = \"xa-a\"; name = \"UBND xã A\"; level = \"commune\"; parent = \"tinh\"; },\n"   \
	"  { id = \"xa-b\"; name = \"UBND xã B\"; level = \"commune\"; parent = \"tinh\"; },\n"   \
	"  { id = \"sonv-p1\"; name = \"Phòng 1\"; level = \"section\"; parent = \"sonv\"; }"
#define REST                                                                                   \
	"people = ( { id = \"an\"; name = \"Nguyễn Văn An\"; unit = \"tinh\"; } );\n"              \
	"procedures = ( { code = \"1.004227\"; name = \"Đăng ký thường trú\"; days = 3.0; } );\n"  \
	"targets = ( { level = \"province\"; on_time = 95.0; },\n"                                 \
	"  { level = \"department\"; on_time = 97.0; online = 80.0; online_payment = 30.0; },\n"   \
	"  { level = \"commune\"; on_time = 90.0; online = 30.0; } );\n"                           \
	"kpi: { satisfied_rating = 4; };\n"

static struct config *load(const char *name, const char *text)
{
	char path[600];
	char *errors = NULL;
	struct config *c;

	cr_assert_eq(harness_write(&h, name, text), 0);
	c = config_load(harness_path(&h, name, path, sizeof(path)), NULL, NULL, &errors);
	cr_assert_not_null(c, "%s", errors ? errors : "");
	return c;
}

static void setup(void)
{
	struct config *with_old;
	enum store_status status;
	struct err err;

	cr_assert_eq(harness_init(&h), 0);
	harness_path(&h, "kpi.db", db, sizeof(db));
	cfg = load("kpi.conf", UNITS " );\n" REST);
	with_old = load("old.conf", UNITS ",\n  { id = \"old\"; name = \"Cũ\"; level = \"commune\";"
				   " parent = \"tinh\"; } );\n" REST);
	st = store_open(db, NULL, &status, &err);
	cr_assert_not_null(st, "%s", err.msg);
	cr_assert_eq(store_sync_config(st, with_old, 1000, &err), STORE_OK, "%s", err.msg);
	config_free(with_old);
	cr_assert_eq(store_begin(st, &err), STORE_OK, "%s", err.msg);
	ncase = 0;
}

static void teardown(void)
{
	store_close(st);
	config_free(cfg);
	harness_close(&h);
}

TestSuite(kpi, .init = setup, .fini = teardown);

/* Local time in the config's zone. */
static int64_t at(int y, int m, int d, int hh, int mm)
{
	return calendar_instant_of(cfg->calendar, civil_to_days(y, m, d), hh * 60 + mm);
}

/* A case received at `received`, due at `due`, open, in unit. */
static struct case_record mk(const char *unit, int64_t received, int64_t due)
{
	struct case_record c = { 0 };

	snprintf(c.code, sizeof(c.code), "C-%04d", ++ncase);
	snprintf(c.procedure, sizeof(c.procedure), "1.004227");
	snprintf(c.unit, sizeof(c.unit), "%s", unit);
	c.received_at = received;
	c.due_at = due;
	c.status = CASE_IN_PROGRESS;
	c.paused_at = c.completed_at = c.ended_at = c.rated_at = TIME_NONE;
	c.version = 1;
	c.created_at = c.updated_at = received;
	return c;
}

static void finish(struct case_record *c, int64_t when, enum case_outcome outcome)
{
	c->status = CASE_COMPLETED;
	c->completed_at = when;
	c->outcome = outcome;
}

static void put(struct case_record *c)
{
	unsigned char hash[32] = { 0 };
	struct err err;

	hash[0] = (unsigned char)ncase;
	cr_assert_eq(store_case_insert(st, c, hash, &err), STORE_OK, "%s: %s", c->code, err.msg);
}

/* Shorthands: an open case, a finished one. */
static void open_case(const char *unit, int64_t received, int64_t due)
{
	struct case_record c = mk(unit, received, due);
	put(&c);
}

static void done_case(const char *unit, int64_t received, int64_t due, int64_t completed,
		      enum case_outcome outcome)
{
	struct case_record c = mk(unit, received, due);
	finish(&c, completed, outcome);
	put(&c);
}

static void document(const char *unit, int64_t due, int64_t done)
{
	struct document_record d = { 0 };
	struct err err;

	snprintf(d.book, sizeof(d.book), "den");
	d.year = 2024;
	snprintf(d.summary, sizeof(d.summary), "V/v báo cáo");
	d.received_at = due - 5 * 86400;
	d.due_at = due;
	snprintf(d.lead_unit, sizeof(d.lead_unit), "%s", unit);
	d.status = done == TIME_NONE ? DOCUMENT_IN_PROGRESS : DOCUMENT_DONE;
	d.done_at = done;
	d.version = 1;
	d.created_at = d.updated_at = d.received_at;
	cr_assert_eq(store_document_insert(st, &d, &err), STORE_OK, "%s", err.msg);
}

static int64_t assignment(const char *unit, int64_t parent, int64_t due, int64_t done)
{
	struct assignment_record a = { 0 };
	struct err err;

	if (parent)
		a.parent_id = parent;
	else
		snprintf(a.direction, sizeof(a.direction), "Chỉ đạo của Chủ tịch");
	snprintf(a.unit, sizeof(a.unit), "%s", unit);
	snprintf(a.title, sizeof(a.title), "Triển khai");
	a.due_at = due;
	a.status = done == TIME_NONE ? ASSIGNMENT_OPEN : ASSIGNMENT_DONE;
	a.done_at = done;
	a.version = 1;
	a.created_at = a.updated_at = due - 10 * 86400;
	cr_assert_eq(store_assignment_insert(st, &a, &err), STORE_OK, "%s", err.msg);
	return a.id;
}

static void inspection(const char *unit, const char *inspected, const char *date)
{
	struct store_inspection i = { .unit = unit, .inspected_unit = inspected, .on_date = date,
				      .actor = "an", .created_at = 1000 };
	struct err err;

	cr_assert_eq(store_inspection_insert(st, &i, &err), STORE_OK, "%s", err.msg);
}

/* Commits what the test wrote and opens the read-only connection the thread pool would use. */
static struct store *reader(void)
{
	enum store_status status;
	struct err err;
	struct store *ro;

	cr_assert_eq(store_commit(st, &err), STORE_OK, "%s", err.msg);
	ro = store_open_readonly(db, &status, &err);
	cr_assert_not_null(ro, "%s", err.msg);
	return ro;
}

static struct kpi_period period(const char *s, int64_t now)
{
	struct kpi_period p;
	struct err err;

	cr_assert_eq(kpi_parse_period(cfg->calendar, s, now, &p, &err), 0, "%s", err.msg);
	return p;
}

#define assert_rate(got, num, den)                                                             \
	cr_assert_float_eq((got), 100.0 * (num) / (den), EPS, "%s = %.12f", #got, (got))
#define assert_no_data(got) cr_assert(kpi_no_data(got), "%s = %.12f", #got, (got))

/* The cases of the first quarter of 2024, one per edge case, in sonv unless said. */
static void quarter_cases(void)
{
	struct case_record c;

	/* Finished exactly at due_at: on time. Online, paid online, digitised, rated 5. */
	c = mk("sonv", at(2024, 1, 10, 8, 0), at(2024, 1, 15, 10, 0));
	finish(&c, c.due_at, CASE_ON_TIME);
	c.online = CASE_ONLINE_FULL, c.fee = 50000, c.paid_online = true, c.digitized = true;
	c.rating = 5, c.rated_at = at(2024, 1, 16, 9, 0);
	put(&c);
	/* Completed on a date before the due date: early. Partly online, a fee paid at the desk,
	 * rated 4 (satisfied). */
	c = mk("sonv", at(2024, 1, 10, 9, 0), at(2024, 1, 20, 17, 0));
	finish(&c, at(2024, 1, 12, 15, 0), CASE_EARLY);
	c.online = CASE_ONLINE_PARTIAL, c.fee = 20000, c.digitized = true;
	c.rating = 4, c.rated_at = at(2024, 1, 13, 9, 0);
	put(&c);
	/* Finished late; marked paid online without a fee (not counted for payment); rated 2. */
	c = mk("sonv", at(2024, 2, 1, 8, 0), at(2024, 2, 5, 17, 0));
	finish(&c, at(2024, 2, 20, 10, 0), CASE_LATE);
	c.online = CASE_ONLINE_FULL, c.paid_online = true, c.digitized = true;
	c.rating = 2, c.rated_at = at(2024, 2, 21, 9, 0);
	put(&c);
	/* Rescheduled, open, new due after the period: overdue all the same. */
	c = mk("sonv", at(2024, 3, 1, 8, 0), at(2024, 4, 10, 17, 0));
	c.late = true;
	put(&c);
	/* Rescheduled, finished before its new due: late. */
	c = mk("sonv", at(2024, 3, 1, 9, 0), at(2024, 3, 25, 17, 0));
	c.late = true;
	finish(&c, at(2024, 3, 20, 10, 0), CASE_LATE);
	put(&c);
	/* Paused during the period with time left, its old due before the end: within. */
	c = mk("sonv", at(2024, 3, 20, 8, 0), at(2024, 3, 28, 17, 0));
	c.status = CASE_PAUSED, c.paused_at = at(2024, 3, 25, 10, 0), c.remaining = 3600;
	put(&c);
	/* Paused only after the period ended, due before it: overdue at the end. */
	c = mk("sonv", at(2024, 3, 20, 9, 0), at(2024, 3, 28, 17, 0));
	c.status = CASE_PAUSED, c.paused_at = at(2024, 4, 5, 10, 0), c.remaining = 3600;
	put(&c);
	/* Open and overdue at the end; digitised. */
	c = mk("sonv", at(2024, 3, 1, 10, 0), at(2024, 3, 15, 17, 0));
	c.digitized = true;
	put(&c);
	/* Open, due after the end: within. Online, digitised. */
	c = mk("sonv", at(2024, 3, 25, 8, 0), at(2024, 4, 5, 17, 0));
	c.online = CASE_ONLINE_FULL, c.digitized = true;
	put(&c);
	/* Finished after the end, late, due before it: overdue at the end. */
	done_case("sonv", at(2024, 3, 10, 8, 0), at(2024, 3, 29, 17, 0), at(2024, 4, 3, 9, 0),
		  CASE_LATE);
	/* Finished early after the end, due after it: within at the end. */
	done_case("sonv", at(2024, 3, 28, 8, 0), at(2024, 4, 4, 17, 0), at(2024, 4, 2, 9, 0),
		  CASE_EARLY);
	/* Carried over from 2023, finished on time in January; rated 3 in January. */
	c = mk("sonv", at(2023, 12, 20, 8, 0), at(2024, 1, 5, 17, 0));
	finish(&c, at(2024, 1, 5, 16, 0), CASE_ON_TIME);
	c.rating = 3, c.rated_at = at(2024, 1, 6, 9, 0);
	put(&c);
	/* Finished in 2023: not in the quarter at all. */
	done_case("sonv", at(2023, 12, 1, 8, 0), at(2023, 12, 10, 17, 0), at(2023, 12, 28, 9, 0),
		  CASE_LATE);
	/* Received after the quarter; rated after it. */
	c = mk("sonv", at(2024, 4, 5, 8, 0), at(2024, 4, 10, 17, 0));
	finish(&c, at(2024, 4, 8, 8, 0), CASE_EARLY);
	c.rating = 1, c.rated_at = at(2024, 4, 9, 8, 0);
	put(&c);
	/* Withdrawn and rejected: left out. */
	c = mk("sonv", at(2024, 2, 1, 8, 0), at(2024, 2, 5, 17, 0));
	c.status = CASE_WITHDRAWN, c.ended_at = at(2024, 2, 2, 8, 0);
	put(&c);
	c = mk("sonv", at(2024, 2, 1, 8, 0), at(2024, 2, 5, 17, 0));
	c.status = CASE_REJECTED, c.ended_at = at(2024, 2, 2, 8, 0);
	put(&c);

	/* The section below sonv: one early case. */
	done_case("sonv-p1", at(2024, 2, 1, 8, 0), at(2024, 2, 10, 17, 0), at(2024, 2, 9, 9, 0),
		  CASE_EARLY);
	/* xa-a: one on time, online. xa-b: nothing. tinh: one open within. */
	c = mk("xa-a", at(2024, 2, 1, 8, 0), at(2024, 2, 10, 17, 0));
	finish(&c, at(2024, 2, 10, 16, 0), CASE_ON_TIME);
	c.online = CASE_ONLINE_FULL;
	put(&c);
	open_case("tinh", at(2024, 3, 29, 8, 0), at(2024, 4, 10, 17, 0));
	/* A unit no longer in the config: ignored. */
	done_case("old", at(2024, 2, 1, 8, 0), at(2024, 2, 10, 17, 0), at(2024, 2, 20, 9, 0),
		  CASE_LATE);
}

static void quarter_items(void)
{
	int64_t a1;

	/* sonv's documents: on time, late, open overdue, open due after the end, and one from
	 * 2023 still open (overdue, but not due in the period). */
	document("sonv", at(2024, 1, 20, 17, 0), at(2024, 1, 19, 9, 0));
	document("sonv", at(2024, 2, 10, 17, 0), at(2024, 2, 15, 9, 0));
	document("sonv", at(2024, 3, 20, 17, 0), TIME_NONE);
	document("sonv", at(2024, 4, 10, 17, 0), TIME_NONE);
	document("sonv", at(2023, 12, 20, 17, 0), TIME_NONE);
	/* xa-a's assignments: done early, done exactly at due, a sub-assignment open overdue. */
	a1 = assignment("xa-a", 0, at(2024, 2, 1, 17, 0), at(2024, 1, 30, 9, 0));
	assignment("xa-a", 0, at(2024, 3, 1, 17, 0), at(2024, 3, 1, 17, 0));
	assignment("xa-a", a1, at(2024, 3, 10, 17, 0), TIME_NONE);
	/* Inspections: tinh inspects sonv and xa-a (twice: counted once), a grandchild (not a
	 * direct child: ignored) and xa-b after the quarter; sonv inspects its section. */
	inspection("tinh", "sonv", "2024-02-01");
	inspection("tinh", "xa-a", "2024-03-01");
	inspection("tinh", "xa-a", "2024-03-02");
	inspection("tinh", "sonv-p1", "2024-03-03");
	inspection("tinh", "xa-b", "2024-04-05");
	inspection("sonv", "sonv-p1", "2024-01-15");
}

static const struct kpi_row *row_of(const struct kpi_report *r, const char *id)
{
	for (size_t i = 0; i < r->nrows; i++)
		if (strcmp(r->rows[i].unit->id, id) == 0)
			return &r->rows[i];
	cr_assert_fail("no row for %s", id);
	return NULL;
}

Test(kpi, quarter_report_portal)
{
	struct kpi_report r;
	struct err err;
	struct store *ro;

	quarter_cases();
	quarter_items();
	ro = reader();
	struct kpi_period p = period("2024-Q1", at(2024, 6, 15, 10, 0));
	cr_assert_eq(kpi_report_build(ro, cfg, NULL, &p, KPI_PORTAL, &r, &err), 0, "%s", err.msg);

	/* Depth first, config order among siblings; "old" is not a row. */
	static const char *const order[] = { "tinh", "sonv", "sonv-p1", "xa-a", "xa-b" };
	static const int depth[] = { 0, 1, 2, 1, 1 };
	cr_assert_eq(r.nrows, 5);
	for (size_t i = 0; i < 5; i++) {
		cr_assert_str_eq(r.rows[i].unit->id, order[i]);
		cr_assert_eq(r.rows[i].depth, depth[i], "%s", order[i]);
	}

	const struct kpi_row *s = row_of(&r, "sonv");
	const struct store_case_counts *c = &s->counts.cases;
	cr_assert_eq(c->received, 11);
	cr_assert_eq(c->carried, 1);
	cr_assert_eq(c->early, 1);
	cr_assert_eq(c->on_time, 2);
	cr_assert_eq(c->late, 2);
	cr_assert_eq(c->open_within, 3);
	cr_assert_eq(c->open_overdue, 4);
	cr_assert_eq(c->online, 4);
	cr_assert_eq(c->with_fee, 2);
	cr_assert_eq(c->paid_online, 1);
	cr_assert_eq(c->digitized, 5);
	cr_assert_eq(s->counts.rated, 4);
	cr_assert_eq(s->counts.satisfied, 2);
	assert_rate(s->rates.on_time, 1 + 2 + 3, 11 + 1);
	assert_rate(s->rates.online, 4, 11);
	assert_rate(s->rates.online_payment, 1, 2);
	assert_rate(s->rates.digitized, 5, 11);
	assert_rate(s->rates.satisfaction, 2, 4);
	/* Its only child inspected. */
	cr_assert_eq(s->counts.subordinates, 1);
	cr_assert_eq(s->counts.inspected, 1);
	assert_rate(s->rates.inspection, 1, 1);
	/* Documents: due in the quarter 3, one on time, one late; overdue at the end 2. */
	cr_assert_eq(s->counts.documents.due, 3);
	cr_assert_eq(s->counts.documents.done_on_time, 1);
	cr_assert_eq(s->counts.documents.done_late, 1);
	cr_assert_eq(s->counts.documents.open_overdue, 2);
	assert_rate(s->rates.documents_on_time, 1, 3);
	assert_no_data(s->rates.assignments_on_time);
	/* Targets by level: 50 % is below the department's 97 %. */
	cr_assert_not_null(s->target);
	cr_assert_str_eq(s->target->level, "department");
	cr_assert(s->below_target);

	const struct kpi_row *a = row_of(&r, "xa-a");
	cr_assert_eq(a->counts.cases.received, 1);
	assert_rate(a->rates.on_time, 1, 1);
	assert_rate(a->rates.online, 1, 1);
	assert_no_data(a->rates.online_payment);
	cr_assert_eq(a->counts.assignments.due, 3);
	cr_assert_eq(a->counts.assignments.done_on_time, 2);
	cr_assert_eq(a->counts.assignments.open_overdue, 1);
	assert_rate(a->rates.assignments_on_time, 2, 3);
	cr_assert_str_eq(a->target->level, "commune");
	cr_assert_not(a->below_target);
	assert_no_data(a->rates.inspection);

	/* A unit with nothing: every rate no data, no division by zero, not below target. */
	const struct kpi_row *b = row_of(&r, "xa-b");
	const double *rates = &b->rates.on_time;
	for (size_t i = 0; i < sizeof(b->rates) / sizeof(double); i++)
		assert_no_data(rates[i]);
	cr_assert_not(b->below_target);

	/* No target for the section's level. */
	const struct kpi_row *p1 = row_of(&r, "sonv-p1");
	cr_assert_null(p1->target);
	cr_assert_not(p1->below_target);
	assert_rate(p1->rates.on_time, 1, 1);

	/* tinh: direct children sonv and xa-a inspected in the quarter, of three. */
	const struct kpi_row *t = row_of(&r, "tinh");
	cr_assert_eq(t->counts.subordinates, 3);
	cr_assert_eq(t->counts.inspected, 2);
	assert_rate(t->rates.inspection, 2, 3);
	cr_assert_eq(t->counts.cases.open_within, 1);

	/* The total: the whole tree, the root's target. */
	const struct store_case_counts *tc = &r.total.counts.cases;
	cr_assert_null(r.total.unit);
	cr_assert_eq(tc->received, 11 + 1 + 1 + 1);
	cr_assert_eq(tc->carried, 1);
	cr_assert_eq(tc->early, 2);
	cr_assert_eq(tc->on_time, 3);
	cr_assert_eq(tc->late, 2);
	cr_assert_eq(tc->open_within, 4);
	cr_assert_eq(tc->open_overdue, 4);
	assert_rate(r.total.rates.on_time, 2 + 3 + 4, 14 + 1);
	cr_assert_eq(r.total.counts.subordinates, 4);
	cr_assert_eq(r.total.counts.inspected, 3);
	assert_rate(r.total.rates.inspection, 3, 4);
	cr_assert_eq(r.total.counts.rated, 4);
	cr_assert_str_eq(r.total.target->level, "province");
	cr_assert(r.total.below_target, "60 %% is below 95 %%");
	kpi_report_free(&r);
	store_close(ro);
}

Test(kpi, finished_basis_and_subtree)
{
	struct kpi_report r;
	struct err err;
	struct store *ro;

	quarter_cases();
	ro = reader();
	struct kpi_period p = period("2024-Q1", at(2024, 6, 15, 10, 0));
	cr_assert_eq(kpi_report_build(ro, cfg, "sonv", &p, KPI_FINISHED, &r, &err), 0, "%s",
		     err.msg);
	cr_assert_eq(r.nrows, 2);
	cr_assert_str_eq(r.rows[0].unit->id, "sonv");
	cr_assert_eq(r.rows[0].depth, 0);
	cr_assert_str_eq(r.rows[1].unit->id, "sonv-p1");
	cr_assert_eq(r.rows[1].depth, 1);
	/* (early + on time) / finished: 3 / 5 for sonv; the subtree adds one early case. */
	assert_rate(r.rows[0].rates.on_time, 3, 5);
	assert_rate(r.total.rates.on_time, 4, 6);
	cr_assert_eq(r.total.counts.cases.received, 12);
	cr_assert_str_eq(r.total.target->level, "department");
	cr_assert(r.total.below_target);
	kpi_report_free(&r);

	cr_assert_eq(kpi_report_build(ro, cfg, "nowhere", &p, KPI_PORTAL, &r, &err), -1);
	cr_assert_str_eq(err.field, "unit");
	cr_assert(strstr(err.msg, "nowhere"), "%s", err.msg);
	cr_assert_null(r.rows);
	store_close(ro);
}

Test(kpi, period_in_progress_ends_now)
{
	struct kpi_report r;
	struct err err;
	struct store *ro;

	quarter_cases();
	ro = reader();
	/* On 16 March at noon: the case due 15 March is overdue, the one due 28 March within,
	 * and the cases received later are not there yet. */
	int64_t now = at(2024, 3, 16, 12, 0);
	struct kpi_period p = period("2024-03", now);
	cr_assert_eq(p.end, now);
	cr_assert_eq(kpi_report_build(ro, cfg, "sonv", &p, KPI_PORTAL, &r, &err), 0, "%s", err.msg);
	const struct store_case_counts *c = &r.rows[0].counts.cases;
	cr_assert_eq(c->received, 4);    /* 1 March (three) and 10 March */
	cr_assert_eq(c->carried, 0);     /* nothing from February is open on 1 March */
	cr_assert_eq(c->open_within, 1); /* 10 March, due the 29th */
	cr_assert_eq(c->open_overdue, 3); /* the two rescheduled ones, and the one due the 15th */
	kpi_report_free(&r);
	store_close(ro);
}

Test(kpi, periods)
{
	int64_t now = at(2024, 6, 15, 10, 0);
	struct kpi_period p;
	struct err err;

	p = period("2024", now);
	cr_assert_eq(p.from, 1704042000); /* 2024-01-01T00:00:00+07:00 */
	cr_assert_eq(p.to, 1735664400);   /* 2025-01-01T00:00:00+07:00 */
	cr_assert_eq(p.end, now);
	cr_assert_eq(p.first_day, civil_to_days(2024, 1, 1));
	cr_assert_eq(p.last_day, civil_to_days(2024, 12, 31));
	cr_assert_str_eq(p.label, "2024");

	p = period("2024-Q1", now);
	cr_assert_eq(p.to, 1711904400); /* 2024-04-01T00:00:00+07:00 */
	cr_assert_eq(p.end, p.to);
	cr_assert_eq(p.last_day, civil_to_days(2024, 3, 31));
	p = period("2024-Q4", at(2025, 1, 2, 0, 0));
	cr_assert_eq(p.first_day, civil_to_days(2024, 10, 1));
	cr_assert_eq(p.last_day, civil_to_days(2024, 12, 31));

	p = period("2024-02", now);
	cr_assert_eq(p.first_day, civil_to_days(2024, 2, 1));
	cr_assert_eq(p.last_day, civil_to_days(2024, 2, 29));
	cr_assert_str_eq(p.label, "2024-02");

	p = period("ytd", now);
	cr_assert_eq(p.from, 1704042000);
	cr_assert_eq(p.last_day, civil_to_days(2024, 6, 15));
	cr_assert_eq(p.end, now);
	cr_assert_str_eq(p.label, "2024-01-01..2024-06-15");

	p = period("2024-01-01..2024-06-30", now);
	cr_assert_eq(p.first_day, civil_to_days(2024, 1, 1));
	cr_assert_eq(p.to, at(2024, 7, 1, 0, 0));
	cr_assert_eq(p.end, now);
	cr_assert_str_eq(p.label, "2024-01-01..2024-06-30");
	p = period("2024-03-05..2024-03-05", now);
	cr_assert_eq(p.to - p.from, 86400);

	static const struct {
		const char *s, *msg;
	} bad[] = {
		{ "2024-13", "the month must be 01 to 12" },
		{ "2024-00", "the month must be 01 to 12" },
		{ "2024-Q5", "the quarter must be Q1 to Q4" },
		{ "2024-Q0", "the quarter must be Q1 to Q4" },
		{ "abc", "is not YYYY, YYYY-Qn, YYYY-MM, ytd or YYYY-MM-DD..YYYY-MM-DD" },
		{ "", "is not YYYY" },
		{ "20245", "is not YYYY" },
		{ "2024-1", "is not YYYY" },
		{ "2024-Qx", "is not YYYY" },
		{ "YTD", "is not YYYY" },
		{ "1969", "the year must be 1970 to 9999" },
		{ "2024-06-30..2024-01-01", "ends before it starts" },
		{ "2024-02-30..2024-03-01", "2024-02-30" },
		{ "2024-01-01...2024-03-01", "is not YYYY" },
		{ "2025", "has not begun" },
		{ "2024-06-16..2024-06-20", "has not begun" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(kpi_parse_period(cfg->calendar, bad[i].s, now, &p, &err), -1, "%s",
			     bad[i].s);
		cr_assert_str_eq(err.field, "period");
		cr_assert(strstr(err.msg, bad[i].msg), "%s: %s", bad[i].s, err.msg);
	}
	cr_assert_eq(kpi_parse_period(cfg->calendar, NULL, now, &p, &err), -1);

	cr_assert_eq(kpi_parse_basis("portal"), KPI_PORTAL);
	cr_assert_eq(kpi_parse_basis("finished"), KPI_FINISHED);
	cr_assert_eq(kpi_parse_basis("Portal"), -1);
	cr_assert_eq(kpi_parse_basis(""), -1);
	cr_assert_eq(kpi_parse_basis(NULL), -1);
}

Test(kpi, budget_year)
{
	struct err err;
	struct kpi_year y;
	struct calendar *cal = office_calendar_2024(&err);

	cr_assert_not_null(cal, "%s", err.msg);
	/* 262 weekdays, 12 of them holidays, one make-up Saturday. */
	cr_assert_eq(kpi_budget_year(cal, 2024, at(2024, 1, 8, 0, 0), &y, &err), 0, "%s", err.msg);
	cr_assert_float_eq(y.total_days, 251.0, EPS);
	cr_assert_float_eq(y.elapsed_days, 4.0, EPS, "2 to 5 January");
	cr_assert_eq(y.period.from, 1704042000);
	cr_assert_eq(y.period.end, at(2024, 1, 8, 0, 0));
	/* Half a working day into 8 January. */
	cr_assert_eq(kpi_budget_year(cal, 2024, at(2024, 1, 8, 11, 30), &y, &err), 0);
	cr_assert_float_eq(y.elapsed_days, 4.5, EPS);
	/* A past year: as of its end. */
	cr_assert_eq(kpi_budget_year(cal, 2024, at(2025, 3, 1, 0, 0), &y, &err), 0);
	cr_assert_eq(y.period.end, y.period.to);
	cr_assert_float_eq(y.elapsed_days, 251.0, EPS);
	cr_assert_eq(kpi_budget_year(cal, 2025, at(2024, 6, 1, 0, 0), &y, &err), -1);
	cr_assert_str_eq(err.field, "year");
	cr_assert(strstr(err.msg, "has not begun"), "%s", err.msg);
	cr_assert_eq(kpi_budget_year(cal, 1969, at(2024, 6, 1, 0, 0), &y, &err), -1);
	calendar_free(cal);
}

static const struct kpi_budget *budget_of(const struct kpi_budget *b, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(b[i].unit->id, id) == 0)
			return &b[i];
	cr_assert_fail("no budget for %s", id);
	return NULL;
}

Test(kpi, budget_known_pace)
{
	struct kpi_budget *b;
	struct kpi_year y;
	struct err err;
	struct store *ro;
	size_t n;

	/* As of 1 March 2024, with 50 of 250 working days gone (pace × 5). xa-a (target 90 %:
	 * 10 % allowed) counted 20 cases: 16 on time, 2 late, 1 open overdue, 1 open within. */
	int64_t now = at(2024, 3, 1, 0, 0);
	for (int i = 0; i < 16; i++)
		done_case("xa-a", at(2024, 1, 2, 8, 0), at(2024, 1, 10 + i % 10, 17, 0),
			  at(2024, 1, 10 + i % 10, 16, 0), CASE_ON_TIME);
	/* The last 7 days [23 Feb, 1 Mar): 4 deadlines, 2 late (one finished late, one open). */
	done_case("xa-a", at(2024, 2, 20, 8, 0), at(2024, 2, 26, 17, 0), at(2024, 2, 26, 16, 0),
		  CASE_ON_TIME);
	done_case("xa-a", at(2024, 2, 20, 8, 0), at(2024, 2, 27, 17, 0), at(2024, 2, 26, 16, 0),
		  CASE_EARLY);
	done_case("xa-a", at(2024, 2, 20, 8, 0), at(2024, 2, 23, 17, 0), at(2024, 2, 28, 16, 0),
		  CASE_LATE);
	open_case("xa-a", at(2024, 2, 20, 8, 0), at(2024, 2, 28, 17, 0));
	/* Earlier in the 30 days [31 Jan, 1 Mar): one more late, four on time. */
	done_case("xa-a", at(2024, 1, 25, 8, 0), at(2024, 2, 2, 17, 0), at(2024, 2, 6, 16, 0),
		  CASE_LATE);
	for (int i = 0; i < 4; i++)
		done_case("xa-a", at(2024, 1, 25, 8, 0), at(2024, 2, 5 + i, 17, 0),
			  at(2024, 2, 5, 16, 0), CASE_ON_TIME);
	/* Open within: due after now. A paused case with time left whose due passed: within,
	 * and not late in the window. */
	open_case("xa-a", at(2024, 2, 28, 8, 0), at(2024, 3, 5, 17, 0));
	struct case_record c = mk("xa-a", at(2024, 2, 26, 8, 0), at(2024, 2, 29, 17, 0));
	c.status = CASE_PAUSED, c.paused_at = at(2024, 2, 27, 8, 0), c.remaining = 7200;
	put(&c);
	/* sonv-p1 (no target of its own) two late cases; sonv nothing of its own. */
	done_case("sonv-p1", at(2024, 1, 2, 8, 0), at(2024, 1, 5, 17, 0), at(2024, 1, 9, 9, 0),
		  CASE_LATE);
	done_case("sonv-p1", at(2024, 1, 2, 8, 0), at(2024, 1, 5, 17, 0), at(2024, 1, 9, 9, 0),
		  CASE_LATE);
	ro = reader();

	struct calendar *cal = office_calendar_2024(&err);
	cr_assert_eq(kpi_budget_year(cal, 2024, now, &y, &err), 0, "%s", err.msg);
	calendar_free(cal);
	y.elapsed_days = 50;
	y.total_days = 250;
	cr_assert_eq(kpi_budget_build(ro, cfg, NULL, &y, &b, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 5);
	cr_assert_str_eq(b[0].unit->id, "tinh");
	cr_assert_str_eq(b[2].unit->id, "sonv-p1");
	cr_assert_eq(b[2].depth, 2);

	const struct kpi_budget *a = budget_of(b, n, "xa-a");
	/* 16 + 4 + 5 + 2 = 27 counted; used: 2 finished late + 1 open overdue = 3 (the paused one
	 * with time left is within). */
	cr_assert_eq(a->counted, 27);
	cr_assert_eq(a->used, 3);
	cr_assert_float_eq(a->target, 90.0, EPS);
	cr_assert_float_eq(a->projected, 135.0, EPS);
	cr_assert_float_eq(a->allowed, 13.5, EPS);
	cr_assert_float_eq(a->remaining, 10.5, EPS);
	cr_assert_float_eq(a->remaining_percent, 10.5 / 13.5 * 100.0, EPS);
	cr_assert_float_eq(a->projected_rate, 100.0 * 24 / 27, EPS);
	/* 7 days: due 26, 27, 23, 28 Feb and the paused one's 29th = 5, late 2. */
	cr_assert_eq(a->due_7d, 5);
	cr_assert_eq(a->late_7d, 2);
	cr_assert_float_eq(a->burn_7d, (2.0 / 5.0) / 0.1, EPS);
	/* 30 days: those and 2, 5, 6, 7, 8 February = 10, late 3. */
	cr_assert_eq(a->due_30d, 10);
	cr_assert_eq(a->late_30d, 3);
	cr_assert_float_eq(a->burn_30d, (3.0 / 10.0) / 0.1, EPS);
	cr_assert(kpi_budget_alarming(a, 2.0, 20.0), "burn 4 > 2");
	cr_assert(kpi_budget_alarming(a, 5.0, 80.0), "77.8 %% left < 80 %%");
	cr_assert_not(kpi_budget_alarming(a, 5.0, 20.0));

	/* No target: counts, no budget, never alarming. */
	const struct kpi_budget *p1 = budget_of(b, n, "sonv-p1");
	cr_assert_eq(p1->counted, 2);
	cr_assert_eq(p1->used, 2);
	assert_no_data(p1->target);
	assert_no_data(p1->allowed);
	assert_no_data(p1->remaining_percent);
	assert_no_data(p1->burn_7d);
	cr_assert_float_eq(p1->projected_rate, 0.0, EPS);
	cr_assert_not(kpi_budget_alarming(p1, 2.0, 20.0));

	/* sonv answers for its section: 2 counted, 2 used, of an allowance of 10 × 3 % = 0.3. */
	const struct kpi_budget *s = budget_of(b, n, "sonv");
	cr_assert_eq(s->counted, 2);
	cr_assert_eq(s->used, 2);
	cr_assert_float_eq(s->allowed, 0.3, EPS);
	cr_assert_float_eq(s->remaining, -1.7, EPS);
	cr_assert(kpi_budget_alarming(s, 2.0, 20.0));

	/* Nothing at all: no data, no division by zero. */
	const struct kpi_budget *x = budget_of(b, n, "xa-b");
	cr_assert_eq(x->counted, 0);
	cr_assert_float_eq(x->allowed, 0.0, EPS);
	assert_no_data(x->remaining_percent);
	assert_no_data(x->projected_rate);
	assert_no_data(x->burn_7d);
	assert_no_data(x->burn_30d);
	cr_assert_not(kpi_budget_alarming(x, 2.0, 20.0));

	/* The root: everything below. */
	const struct kpi_budget *t = budget_of(b, n, "tinh");
	cr_assert_eq(t->counted, 29);
	cr_assert_eq(t->used, 5);
	cr_assert_eq(t->due_30d, 10);
	cr_assert_float_eq(t->allowed, 145.0 * 5 / 100, EPS);
	free(b);

	cr_assert_eq(kpi_budget_build(ro, cfg, "xa-a", &y, &b, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 1);
	cr_assert_eq(b[0].counted, 27);
	free(b);
	cr_assert_eq(kpi_budget_build(ro, cfg, "gone", &y, &b, &n, &err), -1);
	cr_assert_str_eq(err.field, "unit");
	cr_assert_null(b);
	cr_assert_eq(n, 0);
	store_close(ro);
}

Test(kpi, budget_alarming_edges)
{
	struct kpi_budget b = { .target = 97.0, .allowed = 10, .remaining = 2,
				.remaining_percent = 20.0, .burn_7d = 2.0 };

	cr_assert_not(kpi_budget_alarming(&b, 2.0, 20.0), "at the thresholds: no");
	b.burn_7d = 2.01;
	cr_assert(kpi_budget_alarming(&b, 2.0, 20.0));
	b.burn_7d = KPI_NO_DATA;
	b.remaining_percent = 19.9;
	cr_assert(kpi_budget_alarming(&b, 2.0, 20.0));
	b.remaining_percent = -150.0;
	cr_assert(kpi_budget_alarming(&b, 2.0, 20.0), "overspent");
	/* A target of 100 %: no allowance; any late case alarms. */
	b = (struct kpi_budget){ .target = 100.0, .allowed = 0, .used = 0,
				 .remaining_percent = KPI_NO_DATA, .burn_7d = KPI_NO_DATA };
	cr_assert_not(kpi_budget_alarming(&b, 2.0, 20.0));
	b.used = 1;
	cr_assert(kpi_budget_alarming(&b, 2.0, 20.0));
	b.target = KPI_NO_DATA;
	cr_assert_not(kpi_budget_alarming(&b, 2.0, 20.0));
}

Test(kpi, rates_of_counts)
{
	struct kpi_counts c = { 0 };
	struct kpi_rates r;

	c.cases = (struct store_case_counts){ .received = 8, .carried = 2, .early = 3,
					      .on_time = 2, .late = 1, .open_within = 1,
					      .open_overdue = 3 };
	kpi_rates_of(&c, KPI_PORTAL, &r);
	cr_assert_float_eq(r.on_time, 60.0, EPS);
	kpi_rates_of(&c, KPI_FINISHED, &r);
	cr_assert_float_eq(r.on_time, 100.0 * 5 / 6, EPS);
	c.cases = (struct store_case_counts){ .received = 0, .carried = 3, .open_within = 3 };
	kpi_rates_of(&c, KPI_FINISHED, &r);
	assert_no_data(r.on_time);
	assert_no_data(r.online);
	kpi_rates_of(&c, KPI_PORTAL, &r);
	cr_assert_float_eq(r.on_time, 100.0, EPS);
}

/* Reads a CSV text back with the project's strict reader; returns its rows' fields. */
struct parsed {
	size_t nrows;
	char cell[8][19][64];
};

static void parse_csv(const char *text, size_t len, struct parsed *out)
{
	struct csv_options opt = { .expect_header = true };
	struct csv_reader *rd;
	struct csv_row row;
	struct err err;
	int rc;

	memset(out, 0, sizeof(*out));
	rd = csv_reader_new(text, len, &opt, &err);
	cr_assert_not_null(rd, "%s", err.msg);
	for (size_t k = 0; k < 19; k++)
		snprintf(out->cell[0][k], 64, "%s", csv_column_name(rd, k));
	out->nrows = 1;
	while ((rc = csv_next(rd, &row, &err)) == 1) {
		cr_assert_eq(row.nfields, 19);
		cr_assert_lt(out->nrows, 8);
		for (size_t k = 0; k < 19; k++)
			snprintf(out->cell[out->nrows][k], 64, "%s", row.fields[k]);
		out->nrows++;
	}
	cr_assert_eq(rc, 0, "%s", err.msg);
	csv_reader_free(rd);
}

Test(kpi, csv_for_excel)
{
	struct kpi_report r;
	struct err err;
	struct store *ro;
	struct parsed *p = malloc(sizeof(*p));
	size_t len;
	char *text;

	cr_assert_not_null(p);
	quarter_cases();
	quarter_items();
	ro = reader();
	struct kpi_period per = period("2024-Q1", at(2024, 6, 15, 10, 0));
	cr_assert_eq(kpi_report_build(ro, cfg, NULL, &per, KPI_PORTAL, &r, &err), 0, "%s",
		     err.msg);
	text = kpi_report_csv(&r, "vi", &len);
	cr_assert_not_null(text);
	cr_assert_eq(strlen(text), len);
	cr_assert_eq(memcmp(text, "\xef\xbb\xbf", 3), 0, "a BOM first");
	/* Every line ends with CRLF, and there is no bare LF. */
	for (size_t i = 0; i < len; i++)
		if (text[i] == '\n')
			cr_assert(i > 0 && text[i - 1] == '\r', "bare LF at %zu", i);
	cr_assert_eq(text[len - 1], '\n');
	/* The name with a comma and a quote is quoted, the quote doubled. */
	cr_assert(strstr(text, "\"Sở Nội vụ, \"\"SNV\"\"\""), "%s", text);

	parse_csv(text, len, p);
	cr_assert_eq(p->nrows, 1 + 5 + 1);
	cr_assert_str_eq(p->cell[0][0], "Mã đơn vị");
	cr_assert_str_eq(p->cell[0][1], "Đơn vị");
	cr_assert_str_eq(p->cell[0][2], "Tiếp nhận");
	cr_assert_str_eq(p->cell[0][5], "Đúng hạn");
	cr_assert_str_eq(p->cell[0][6], "Trễ hạn");
	cr_assert_str_eq(p->cell[0][9], "Tỷ lệ đúng hạn (%)");
	/* sonv: counts, 50.0, the target, "Không", 36.4 online, 50.0 payment, 45.5 digitised. */
	static const char *const sonv[] = { "sonv", "Sở Nội vụ, \"SNV\"", "11", "1", "1", "2",
					    "2", "3", "4", "50.0", "97.0", "Không", "36.4", "50.0",
					    "45.5", "50.0", "100.0", "33.3", "" };
	for (size_t k = 0; k < 19; k++)
		cr_assert_str_eq(p->cell[2][k], sonv[k], "column %zu", k);
	/* xa-b: no data anywhere but the target. */
	static const char *const xab[] = { "xa-b", "UBND xã B", "0", "0", "0", "0", "0", "0", "0",
					   "", "90.0", "", "", "", "", "", "", "", "" };
	for (size_t k = 0; k < 19; k++)
		cr_assert_str_eq(p->cell[5][k], xab[k], "column %zu", k);
	cr_assert_str_eq(p->cell[4][17], "", "xa-a has no documents");
	cr_assert_str_eq(p->cell[4][18], "66.7");
	cr_assert_str_eq(p->cell[4][11], "Có");
	/* The total row. */
	cr_assert_str_eq(p->cell[6][0], "");
	cr_assert_str_eq(p->cell[6][1], "Tổng cộng");
	cr_assert_str_eq(p->cell[6][9], "60.0");
	cr_assert_str_eq(p->cell[6][10], "95.0");
	cr_assert_str_eq(p->cell[6][16], "75.0");
	free(text);

	text = kpi_report_csv(&r, "en", &len);
	cr_assert_not_null(text);
	parse_csv(text, len, p);
	cr_assert_str_eq(p->cell[0][1], "Unit");
	cr_assert_str_eq(p->cell[0][9], "On-time rate (%)");
	cr_assert_str_eq(p->cell[2][11], "no");
	cr_assert_str_eq(p->cell[6][1], "Total");
	free(text);
	free(p);
	kpi_report_free(&r);
	store_close(ro);
}

struct walk {
	int64_t id[8];
	int depth[8];
	bool done[8];
	size_t n;
};

static int on_node(void *ctx, const struct store_tree_node *n)
{
	struct walk *w = ctx;

	cr_assert_lt(w->n, 8);
	w->id[w->n] = n->id;
	w->depth[w->n] = n->depth;
	w->done[w->n++] = n->done;
	return 0;
}

/* The cascade of a directive: depth first, siblings by id. */
Test(kpi, assignment_tree_depth_first)
{
	struct walk w = { .n = 0 };
	struct err err;
	struct store *ro;
	int64_t root, a, b, a1, a2, a11;

	root = assignment("tinh", 0, at(2024, 3, 1, 17, 0), TIME_NONE);
	a = assignment("sonv", root, at(2024, 2, 20, 17, 0), TIME_NONE);
	b = assignment("xa-a", root, at(2024, 2, 20, 17, 0), at(2024, 2, 19, 9, 0));
	a1 = assignment("sonv-p1", a, at(2024, 2, 10, 17, 0), TIME_NONE);
	a2 = assignment("sonv-p1", a, at(2024, 2, 10, 17, 0), TIME_NONE);
	a11 = assignment("sonv-p1", a1, at(2024, 2, 5, 17, 0), TIME_NONE);
	ro = reader();
	cr_assert_eq(store_assignment_tree(ro, root, on_node, &w, &err), STORE_OK, "%s", err.msg);
	const int64_t ids[] = { a, a1, a11, a2, b };
	const int depths[] = { 1, 2, 3, 2, 1 };
	cr_assert_eq(w.n, 5);
	for (size_t i = 0; i < 5; i++) {
		cr_assert_eq(w.id[i], ids[i], "row %zu", i);
		cr_assert_eq(w.depth[i], depths[i], "row %zu", i);
		cr_assert_eq(w.done[i], w.id[i] == b);
	}
	store_close(ro);
}

/* --- one pass for many periods ------------------------------------------------------------ */

static uint64_t next_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* An instant near the start of a month of October 2023 .. December 2024: often exactly at
 * it (where < and <= differ), else some hours into the month. */
static int64_t near_month(uint64_t *rnd)
{
	uint64_t r = next_random(rnd);
	int k = (int)(r % 15), y = 2023 + (k + 9) / 12, m = (k + 9) % 12 + 1;
	int64_t start = at(y, m, 1, 0, 0);

	return r >> 8 & 1 ? start : start + (int64_t)((r >> 9) % (40 * 24)) * HOUR;
}

#define GENERATED 3000
static struct case_record generated[GENERATED]; /* what generated_cases wrote */

/* n cases of every kind over units of the config and "old": open, paused with and without
 * time left, completed early, on time and late (some rescheduled), returned, withdrawn and
 * rejected, spanning month ends, with instants on the boundaries. */
static void generated_cases(int n)
{
	static const char *const units[] = { "tinh", "sonv", "sonv-p1", "xa-a", "xa-b", "old" };
	static const enum case_status statuses[] = { CASE_RECEIVED, CASE_IN_PROGRESS, CASE_PAUSED,
						     CASE_COMPLETED, CASE_COMPLETED,
						     CASE_COMPLETED, CASE_RETURNED, CASE_WITHDRAWN,
						     CASE_REJECTED };
	uint64_t rnd = 0x2545f4914f6cdd1dull;

	for (int i = 0; i < n; i++) {
		uint64_t r = next_random(&rnd);
		int64_t received = near_month(&rnd);
		int64_t due = r & 1 ? near_month(&rnd)
				    : received + (int64_t)((r >> 1) % (20 * 24)) * HOUR;
		struct case_record c =
			mk(units[(r >> 12) % 6], received, due > received ? due : received);

		c.status = statuses[(r >> 16) % 9];
		c.late = (r >> 20) % 7 == 0;
		c.online = (enum case_online)((r >> 22) % 3);
		c.fee = (r >> 24) % 2 ? 50000 : 0;
		c.paid_online = (r >> 25) % 2;
		c.digitized = (r >> 26) % 3 != 0;
		if (c.status == CASE_PAUSED) {
			c.paused_at = (r >> 27) % 2 ? near_month(&rnd) : received + HOUR;
			c.remaining = (r >> 28) % 3 ? 4 * HOUR : 0;
		} else if (c.status == CASE_COMPLETED || c.status == CASE_RETURNED) {
			int64_t done = (r >> 27) % 2 ? near_month(&rnd) : received + 3 * HOUR;

			c.completed_at = done < received ? received : done;
			c.outcome = c.late || c.completed_at > c.due_at ? CASE_LATE
				    : (r >> 29) % 2			  ? CASE_EARLY
									  : CASE_ON_TIME;
			if (c.status == CASE_RETURNED)
				c.ended_at = c.completed_at;
		} else if (c.status == CASE_WITHDRAWN || c.status == CASE_REJECTED) {
			c.ended_at = received + HOUR;
		}
		put(&c);
		generated[i] = c;
	}
}

/* docs/kpi.md's definitions, case by case, over the generated cases of units in the subtree
 * of tinh or sonv (root). */
static bool counted_case(const struct case_record *c, const char *root)
{
	if (c->status == CASE_WITHDRAWN || c->status == CASE_REJECTED || !strcmp(c->unit, "old"))
		return false;
	return !root || !strcmp(c->unit, root) || (!strcmp(root, "sonv") &&
						    !strcmp(c->unit, "sonv-p1"));
}

static bool paused_left(const struct case_record *c, int64_t end)
{
	return c->status == CASE_PAUSED && c->remaining > 0 && c->paused_at < end;
}

/* The portal rate of [from, end), or KPI_NO_DATA. */
static double brute_portal(const char *root, int64_t from, int64_t end)
{
	int64_t num = 0, den = 0;

	for (int i = 0; i < GENERATED; i++) {
		const struct case_record *c = &generated[i];
		bool done = c->completed_at != TIME_NONE;

		if (!counted_case(c, root) || c->received_at >= end ||
		    (done && c->completed_at < from))
			continue;
		den++;
		if (done && c->completed_at < end)
			num += c->outcome == CASE_EARLY || c->outcome == CASE_ON_TIME;
		else
			num += !c->late && (c->due_at >= end || paused_left(c, end));
	}
	return den ? 100.0 * (double)num / (double)den : KPI_NO_DATA;
}

/* The deadlines in [from, end) and the late ones. */
static void brute_window(const char *root, int64_t from, int64_t end, int64_t *due,
			 int64_t *late)
{
	*due = *late = 0;
	for (int i = 0; i < GENERATED; i++) {
		const struct case_record *c = &generated[i];
		bool open = c->completed_at == TIME_NONE || c->completed_at >= end;

		if (!counted_case(c, root) || c->due_at < from || c->due_at >= end)
			continue;
		++*due;
		*late += c->late || c->outcome == CASE_LATE || (open && !paused_left(c, end));
	}
}

/* The 12 months of 2024 as of now (December to now), the series of them from one pass,
 * against a report of each month alone; and the report built with the series against the
 * report alone. */
static void check_series(struct store *ro, const char *root, enum kpi_basis basis, int64_t now)
{
	struct kpi_period months[12], ytd = period("ytd", now);
	double series[12], with_report[12];
	struct kpi_report alone, together;
	struct err err;
	char label[16];

	for (int i = 0; i < 12; i++) {
		snprintf(label, sizeof(label), "2024-%02d", i + 1);
		months[i] = period(label, now);
	}
	cr_assert_eq(kpi_on_time_series(ro, cfg, root, months, 12, basis, series, &err), 0, "%s",
		     err.msg);
	cr_assert_eq(kpi_report_series_build(ro, cfg, root, &ytd, basis, &together, months, 12,
					     with_report, &err),
		     0, "%s", err.msg);
	for (int i = 0; i < 12; i++) {
		struct kpi_report r;

		if (basis == KPI_PORTAL)
			cr_assert_eq(series[i], brute_portal(root, months[i].from, months[i].end),
				     "%s %s: %.12f", root ? root : "all", months[i].label,
				     series[i]);
		cr_assert_eq(kpi_report_build(ro, cfg, root, &months[i], basis, &r, &err), 0, "%s",
			     err.msg);
		cr_assert(r.total.counts.cases.received + r.total.counts.cases.carried > 0,
			  "%s: the dataset leaves month %d empty", root ? root : "all", i + 1);
		cr_assert_eq(series[i], r.total.rates.on_time, "%s %s: %.12f, alone %.12f",
			     root ? root : "all", months[i].label, series[i],
			     r.total.rates.on_time);
		cr_assert_eq(with_report[i], r.total.rates.on_time, "%s %s", root ? root : "all",
			     months[i].label);
		kpi_report_free(&r);
	}
	cr_assert_eq(kpi_report_build(ro, cfg, root, &ytd, basis, &alone, &err), 0, "%s", err.msg);
	cr_assert_eq(together.nrows, alone.nrows);
	for (size_t i = 0; i < alone.nrows; i++)
		cr_assert(!memcmp(&together.rows[i].counts, &alone.rows[i].counts,
				  sizeof(alone.rows[i].counts)),
			  "row %zu (%s) differs", i, alone.rows[i].unit->id);
	cr_assert(!memcmp(&together.total.counts, &alone.total.counts,
			  sizeof(alone.total.counts)));
	cr_assert_eq(together.total.rates.on_time, alone.total.rates.on_time);
	kpi_report_free(&alone);
	kpi_report_free(&together);
}

Test(kpi, one_pass_series_equals_separate_reports)
{
	struct store *ro;

	generated_cases(GENERATED);
	ro = reader();
	/* Mid-December: the last month and the year to date end now. */
	int64_t now = at(2024, 12, 20, 10, 0);
	check_series(ro, NULL, KPI_PORTAL, now);
	check_series(ro, NULL, KPI_FINISHED, now);
	check_series(ro, "sonv", KPI_PORTAL, now);
	check_series(ro, "xa-b", KPI_FINISHED, now);
	/* A unit with a sixth of the cases: the store reads its cases alone. */
	check_series(ro, "xa-b", KPI_PORTAL, now);
	store_close(ro);
}

/* The budget's windows and year from the overview's one pass, from kpi_budget_build's, and
 * case by case. */
Test(kpi, budget_one_pass_equals_budget_alone)
{
	struct kpi_budget *alone, *together;
	struct kpi_report r;
	struct kpi_year y;
	struct err err;
	size_t n1, n2;
	int64_t due, late;
	struct store *ro;

	generated_cases(GENERATED);
	ro = reader();
	int64_t now = at(2024, 12, 20, 10, 0);
	struct kpi_period ytd = period("ytd", now);
	cr_assert_eq(kpi_budget_year(cfg->calendar, 2024, now, &y, &err), 0, "%s", err.msg);
	cr_assert_eq(kpi_budget_build(ro, cfg, NULL, &y, &alone, &n1, &err), 0, "%s", err.msg);
	cr_assert_eq(kpi_report_budget_build(ro, cfg, NULL, &ytd, KPI_PORTAL, &y, &r, &together,
					     &n2, &err),
		     0, "%s", err.msg);
	cr_assert_eq(n1, n2);
	cr_assert_eq(r.nrows, n1);
	for (size_t i = 0; i < n1; i++)
		cr_assert(!memcmp(&alone[i], &together[i], sizeof(alone[i])), "%s differs",
			  alone[i].unit->id);
	cr_assert_str_eq(alone[0].unit->id, "tinh");
	brute_window(NULL, now - 7 * 86400, now, &due, &late);
	cr_assert(due > 0 && late > 0 && late < due, "the dataset has no window to test");
	cr_assert_eq(alone[0].due_7d, due);
	cr_assert_eq(alone[0].late_7d, late);
	brute_window(NULL, now - 30 * 86400, now, &due, &late);
	cr_assert_eq(alone[0].due_30d, due);
	cr_assert_eq(alone[0].late_30d, late);
	cr_assert_eq(alone[1].unit == config_unit(cfg, "sonv"), true);
	brute_window("sonv", now - 30 * 86400, now, &due, &late);
	cr_assert_eq(alone[1].due_30d, due);
	cr_assert_eq(alone[1].late_30d, late);
	free(alone);
	free(together);
	kpi_report_free(&r);
	/* A unit read alone. */
	cr_assert_eq(kpi_budget_build(ro, cfg, "xa-a", &y, &alone, &n1, &err), 0, "%s", err.msg);
	cr_assert_eq(n1, 1);
	brute_window("xa-a", now - 30 * 86400, now, &due, &late);
	cr_assert(due > 0);
	cr_assert_eq(alone[0].due_30d, due);
	cr_assert_eq(alone[0].late_30d, late);
	free(alone);
	/* A report period that is not the budget's year to date is refused. */
	struct kpi_period march = period("2024-03", now);
	cr_assert_eq(kpi_report_budget_build(ro, cfg, NULL, &march, KPI_PORTAL, &y, &r, &together,
					     &n2, &err),
		     -1);
	cr_assert_str_eq(err.field, "period");
	kpi_report_free(&r);
	store_close(ro);
}

Test(kpi, series_bounds)
{
	struct kpi_period months[STORE_KPI_PERIODS_MAX + 1];
	double out[STORE_KPI_PERIODS_MAX + 1];
	struct err err;
	struct store *ro = reader();
	int64_t now = at(2024, 12, 20, 10, 0);

	for (size_t i = 0; i <= STORE_KPI_PERIODS_MAX; i++)
		months[i] = period("2024-01", now);
	/* Nothing in the database: no data, not a division by zero. */
	cr_assert_eq(kpi_on_time_series(ro, cfg, NULL, months, 2, KPI_PORTAL, out, &err), 0);
	assert_no_data(out[0]);
	assert_no_data(out[1]);
	cr_assert_eq(kpi_on_time_series(ro, cfg, NULL, months, 0, KPI_PORTAL, out, &err), 0);
	cr_assert_eq(kpi_on_time_series(ro, cfg, NULL, months, STORE_KPI_PERIODS_MAX + 1,
					KPI_PORTAL, out, &err),
		     -1);
	cr_assert(strstr(err.msg, "at most"), "%s", err.msg);
	cr_assert_eq(kpi_on_time_series(ro, cfg, "nowhere", months, 2, KPI_PORTAL, out, &err), -1);
	cr_assert_str_eq(err.field, "unit");
	store_close(ro);
}
