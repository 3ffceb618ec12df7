/* template: renders alert messages — an email subject, a plain-text body, an HTML body and a
 * one-line chat message — from template files, plus the pure helpers that format the values
 * they show (instants, working time in words, percentages, salutations, links).
 *
 * A template set is one language's directory, <dir>/<lang>/, holding for every message kind
 * <kind>.subject, <kind>.txt, <kind>.html and <kind>.chat (docs/templates.md). The syntax is a
 * small subset of mustache:
 *   {{name}}                  the value (HTML-escaped in .html, as is elsewhere)
 *   {{#name}}...{{/name}}     shown when the value is non-empty
 *   {{^name}}...{{/name}}     shown when the value is empty or absent
 *   {{#items}}...{{/items}}   digest and kpi_report: repeated once per row; {{^items}} when
 *                             there are no rows
 *   {{! comment }}
 * A line holding only a section tag or a comment disappears whole. Every file is checked at
 * load against the variables its kind knows, so a typo fails the config check, not a send. */
#ifndef DUNGHAN_TEMPLATE_H
#define DUNGHAN_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

#include "calendar.h"
#include "err.h"

#define TEMPLATE_MAX_FILE (64 * 1024)     /* bytes of one template file */
#define TEMPLATE_MAX_OUTPUT (1024 * 1024) /* bytes of one rendered part */
#define TEMPLATE_MAX_DEPTH 4              /* sections nested in one another */

/* Buffer sizes that always suffice for the formatting helpers below. */
#define TEMPLATE_INSTANT_MAX 64  /* "10:00 thứ Hai, 19/02/2024" */
#define TEMPLATE_DURATION_MAX 96 /* "123 ngày 7 giờ 59 phút làm việc" */
#define TEMPLATE_PERCENT_MAX 32  /* "96,2%" */

enum template_lang { TEMPLATE_VI, TEMPLATE_EN };

enum template_kind {
	TEMPLATE_PERCENT,            /* a share of the processing time has been used */
	TEMPLATE_BEFORE,             /* some working time before the due */
	TEMPLATE_DUE,                /* at the due instant */
	TEMPLATE_OVERDUE,            /* after the due, repeated */
	TEMPLATE_DOCUMENT_DUE,       /* an incoming document nears its handling deadline */
	TEMPLATE_DOCUMENT_OVERDUE,   /* an incoming document is past its handling deadline */
	TEMPLATE_ASSIGNMENT_DUE,     /* an assignment nears its deadline */
	TEMPLATE_ASSIGNMENT_OVERDUE, /* an assignment is past its deadline */
	TEMPLATE_DIGEST,             /* a unit's daily summary, with rows */
	TEMPLATE_KPI_BUDGET,         /* a unit burns its yearly error budget too fast */
	TEMPLATE_KPI_REPORT,         /* a head's weekly KPI table, with rows (units, worst cases) */
	TEMPLATE_KIND_COUNT
};

/* The kinds of items messages are about, for the nouns that name them. */
enum template_item { TEMPLATE_ITEM_CASE, TEMPLATE_ITEM_DOCUMENT, TEMPLATE_ITEM_ASSIGNMENT,
		     TEMPLATE_ITEM_COUNT };

enum template_part {
	TEMPLATE_SUBJECT, /* <kind>.subject: one line, no CR/LF after substitution */
	TEMPLATE_TEXT,    /* <kind>.txt: the plain-text body */
	TEMPLATE_HTML,    /* <kind>.html: the HTML body; values are HTML-escaped */
	TEMPLATE_CHAT,    /* <kind>.chat: one line, no CR/LF after substitution */
	TEMPLATE_PART_COUNT
};

/* How template_format_duration rounds to whole minutes. Alerts fire a few seconds after their
 * moment, so time left rounds up ("1 day" rather than "7 h 59 min") and time overdue rounds
 * down ("2 h" rather than "2 h 1 min"). Either way a non-zero duration shows at least 1 min. */
enum template_round { TEMPLATE_ROUND_UP, TEMPLATE_ROUND_DOWN };

/* A value given to a template, by variable name. value NULL is the same as "" (empty). Both
 * strings are borrowed for the call. */
struct template_var {
	const char *name;
	const char *value;
};

/* One row of an {{#items}} section (digest, kpi_report). */
struct template_row {
	const struct template_var *vars;
	size_t nvars;
};

/* What a render sees. Every name must be a template variable (a caller's typo is an error, as
 * a template's is); one that only other kinds use is accepted and ignored, so a caller may give
 * one set of values for every kind. A variable the template uses but the caller does not give
 * renders empty. rows only for the kinds with items (TEMPLATE_DIGEST, TEMPLATE_KPI_REPORT). */
struct template_vars {
	const struct template_var *vars;
	size_t nvars;
	const struct template_row *rows;
	size_t nrows;
};

struct template_set;

/* "vi" or "en" to *out. Returns 0, or -1 (err filled, field "language"). */
int template_lang_parse(const char *s, enum template_lang *out, struct err *err);

/* The file stem of a kind ("overdue", "document_due", ...); NULL when out of range. */
const char *template_kind_name(enum template_kind kind);

/* Loads and checks every file of <dir>/<lang>/ (lang "vi" or "en"). Returns the set, or NULL
 * with err filled: the message names the file and line, and the variable at fault if any; field
 * is "<lang>/<file>". Nothing is kept of dir or lang. */
struct template_set *template_set_load(const char *dir, const char *lang, struct err *err);

/* Frees a set. NULL is a no-op. */
void template_set_free(struct template_set *set);

/* The language a set was loaded for. */
enum template_lang template_set_lang(const struct template_set *set);

/* Renders one part of one kind. On success returns 0 and sets *out to a malloc'd NUL-terminated
 * string the caller frees. On failure returns -1, sets *out to NULL and fills err (field = the
 * variable at fault when there is one): a name no kind knows or a duplicate in vars, rows for
 * a kind without items, a CR or LF in a value put into a subject or chat line, output beyond
 * TEMPLATE_MAX_OUTPUT, or no memory. A loaded set is immutable: renders may run concurrently. */
int template_render(const struct template_set *set, enum template_kind kind,
		    enum template_part part, const struct template_vars *vars, char **out,
		    struct err *err);

/* --- formatting helpers: pure, exact; each writes a NUL-terminated string into buf and returns
 * its length, or returns -1 with buf set to "" (when n > 0) if an argument is out of range or
 * n is too small. --- */

/* Instant t in the calendar's zone: "10:00 thứ Hai, 19/02/2024" / "10:00 Monday, 19/02/2024".
 * -1 for TIME_NONE or outside years 1..9999. */
int template_format_instant(struct calendar *cal, int64_t t, enum template_lang lang, char *buf,
			    size_t n);

/* The local date "19/02/2024" (digest subjects), and the local clock time "10:00". */
int template_format_date(struct calendar *cal, int64_t t, char *buf, size_t n);
int template_format_clock(struct calendar *cal, int64_t t, char *buf, size_t n);

/* Working time in words, |seconds| rounded to whole minutes as `round` says, split into days of
 * day_seconds (calendar_day_seconds, a positive multiple of 60), hours and minutes; zero parts
 * are left out: "1 ngày 2 giờ làm việc", "45 phút làm việc", "0 phút làm việc";
 * "1 working day 2 hours", "3 working hours 30 minutes", "45 working minutes". */
int template_format_duration(int64_t seconds, int64_t day_seconds, enum template_round round,
			     enum template_lang lang, char *buf, size_t n);

/* A percentage truncated (never rounded up, so 96.96 below a 97 target never shows as 97) to
 * `decimals` places (0..3), trailing zeros dropped, with the sign: "96,2%" in Vietnamese,
 * "96.2%" in English, "97%". -1 for NaN, infinities and |percent| > 1e9. */
int template_format_percent(double percent, int decimals, enum template_lang lang, char *buf,
			    size_t n);

/* How a person is addressed: "Bà Lê Thị Bình", "Ông/Bà Ngô Đăng Khoa" without a title;
 * English "Ms Lê Thị Bình" ("Ông" -> "Mr", "Bà" -> "Ms", other titles as given), the bare name
 * without one. title may be NULL; name must be non-empty. */
int template_format_salutation(const char *title, const char *name, enum template_lang lang,
			       char *buf, size_t n);

/* The noun that names an item in a message, capitalised: "Hồ sơ", "Văn bản", "Nhiệm vụ";
 * "Case", "Document", "Assignment" (the {{item_kind}} variable). NULL when out of range. */
const char *template_item_noun(enum template_item item, enum template_lang lang);

/* How many items of each kind, counts[TEMPLATE_ITEM_COUNT], in words: the kinds with a count
 * other than 0, in the order of enum template_item, joined by ", ": "2 hồ sơ, 1 văn bản",
 * "2 cases, 1 document". All zero: "0 " and the noun of `none` ("0 hồ sơ", "0 cases"). */
int template_format_item_counts(const size_t counts[TEMPLATE_ITEM_COUNT], enum template_item none,
				enum template_lang lang, char *buf, size_t n);

/* base + "/" + collection + "/" + key, one '/' between base and collection whatever base ends
 * with, key percent-encoded (all but A-Z a-z 0-9 - . _ ~): ("https://x", "cases", "506/SNV")
 * -> "https://x/cases/506%2FSNV". */
int template_format_link(const char *base, const char *collection, const char *key, char *buf,
			 size_t n);

#endif
