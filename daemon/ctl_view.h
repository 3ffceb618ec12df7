/* ctl_view: how dunghanctl shows the API's objects to people — times in the calendar's zone as
 * "dd/mm/yyyy HH:MM", remaining or overdue time in working time, statuses in the office's
 * language, rows of cells for tables and CSV, whole lists and single records in the chosen
 * format, and the FIELD=VALUE arguments of event commands. */
#ifndef DUNGHAN_CTL_VIEW_H
#define DUNGHAN_CTL_VIEW_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "ctl_core.h"

/* --- times ----------------------------------------------------------------------------- */

/* Parses an instant as a person gives it, as an import reads it (import_parse_time): RFC 3339,
 * or in the calendar's zone "dd/mm/yyyy[ HH:MM[:SS]]" or "YYYY-MM-DD[ HH:MM[:SS]]"; a date
 * alone is its 00:00. Returns CTL_OK, or CTL_USAGE with the error printed (naming what). */
int ctl_parse_time(struct ctl *ctl, const char *s, const char *what, int64_t *t);
/* The same for a deadline: a date alone is the end of that day's office hours, as a clerk
 * means "due on 03/12" (and as an import's Ngày hẹn trả reads). */
int ctl_parse_deadline(struct ctl *ctl, const char *s, const char *what, int64_t *t);

/* An instant for the API: RFC 3339 in the calendar's zone (buf of at least 32 bytes). */
void ctl_rfc3339(struct ctl *ctl, int64_t t, char *buf, size_t n);

/* "dd/mm/yyyy HH:MM" in the calendar's zone of t, or of the API's RFC 3339 text s; "" for
 * TIME_NONE, NULL or text that is not an instant. */
void ctl_show_time(struct ctl *ctl, int64_t t, char *buf, size_t n);
void ctl_show_time_str(struct ctl *ctl, const char *s, char *buf, size_t n);

/* Working time between now and due, as people say it: "còn 1 ngày 2 giờ làm việc" or
 * "quá hạn 3 giờ" ("1 day 2 h working time left", "3 h overdue" in English). Returns the
 * style to show it with: CTL_BAD when overdue, CTL_WARN when less than a working day is left. */
enum ctl_style ctl_show_left(struct ctl *ctl, int64_t due, char *buf, size_t n);

/* A span of office seconds: "1 ngày 2 giờ", "45 phút", "dưới 1 phút" ("1 day 2 h"). */
void ctl_show_span(struct ctl *ctl, int64_t seconds, char *buf, size_t n);

/* The Unix seconds of an API instant, or TIME_NONE. */
int64_t ctl_instant(const char *s);

/* --- words ------------------------------------------------------------------------------ */

/* vi, or en when the office's language (escalation.language) is English. */
const char *ctl_word(const struct ctl *ctl, const char *vi, const char *en);

/* A status, outcome, urgency, role... as the office says it ("in_progress" → "Đang xử lý");
 * an unknown name as it is. */
const char *ctl_name(const struct ctl *ctl, const char *name);

/* --- rows --------------------------------------------------------------------------------- */

/* A column described in both languages. */
struct ctl_field {
	const char *vi, *en;
	unsigned flags; /* CTL_COL_* */
};

#define CTL_MAX_COLUMNS 24

/* The cells of one row being built; cells point into buf or into borrowed strings. */
struct ctl_row {
	const char *cells[CTL_MAX_COLUMNS];
	enum ctl_style style;
	char buf[8192];
	size_t used;
};

/* The columns of fields (n <= CTL_MAX_COLUMNS) in the office's language: the same words head
 * the table, label the record and head the CSV. */
struct ctl_view {
	struct ctl_column cols[CTL_MAX_COLUMNS];
	size_t n;
};
void ctl_view_init(const struct ctl *ctl, struct ctl_view *v, const struct ctl_field *fields,
		   size_t n);

/* Cell k: s itself (borrowed, must outlive the row), or a copy made by printf. */
void ctl_row_set(struct ctl_row *r, size_t k, const char *s);
void ctl_row_printf(struct ctl_row *r, size_t k, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Cell k: the string member name of obj (absent or null: empty). */
void ctl_row_str(struct ctl_row *r, size_t k, const json_t *obj, const char *name);
/* Cell k: the integer member name of obj as text. */
void ctl_row_int(struct ctl_row *r, size_t k, const json_t *obj, const char *name);
/* Cell k: the instant member name of obj as "dd/mm/yyyy HH:MM". */
void ctl_row_time(struct ctl *ctl, struct ctl_row *r, size_t k, const json_t *obj,
		  const char *name);
/* Cell k: the member name of obj through ctl_name. */
void ctl_row_name(struct ctl *ctl, struct ctl_row *r, size_t k, const json_t *obj,
		  const char *name);

/* Fills a row (cleared before) from one API object. */
typedef void (*ctl_row_fn)(struct ctl *ctl, const json_t *item, struct ctl_row *row);

/* Prints every item of the list at path (under key, following pages, at most limit; 0: all)
 * in ctl->format: a table of v's columns, CSV, or the API's objects as a JSON array.
 * Returns an exit status (failures printed). */
int ctl_list(struct ctl *ctl, const char *path, const char *key, long limit,
	     const struct ctl_view *v, ctl_row_fn fill);

/* Prints one API object: "label:  value" lines, one CSV row, or its JSON. */
int ctl_show(struct ctl *ctl, const json_t *item, const struct ctl_view *v, ctl_row_fn fill);

/* Prints items (an array, borrowed) as a table of v's columns under a heading ("Lịch sử (3)"),
 * for the sections of show commands; nothing but the heading when empty. */
int ctl_section(struct ctl *ctl, const char *heading, const json_t *items,
		const struct ctl_view *v, ctl_row_fn fill);

/* Remaining or overdue time of an item with status and due_at (open statuses: received,
 * in_progress, registered, open), or how it ended (outcome, or done in time or late); sets
 * the row's style. */
void ctl_row_left(struct ctl *ctl, struct ctl_row *r, size_t k, const json_t *item);

/* A part of a show command after the item itself: a list read from path (e.g. the item's
 * events), printed as a section, or as member key of the JSON output. */
struct ctl_part {
	const char *key;      /* e.g. "events" */
	const char *vi, *en;  /* the section's heading */
	char path[512];       /* the GET path */
	const char *list_key; /* the answer's array */
	bool paged;           /* the list has pages (next_cursor) */
	const struct ctl_field *fields;
	size_t nfields;
	ctl_row_fn fill;
};

/* Prints item and its parts: a record and sections, or one JSON object {key: item, parts...};
 * CSV: the item's row only. Returns an exit status (failures printed). */
int ctl_show_item(struct ctl *ctl, const char *key, const json_t *item, const struct ctl_view *v,
		  ctl_row_fn fill, const struct ctl_part *parts, size_t nparts);

/* The columns and row of an event (an item's history). */
extern const struct ctl_field ctl_event_fields[];
extern const size_t ctl_event_nfields;
void ctl_event_row(struct ctl *ctl, const json_t *event, struct ctl_row *r);

/* --- event arguments ---------------------------------------------------------------------- */

/* Builds an event body {"type": type, "at": ..., fields...} from "name=value" (a string; an
 * instant for names ending in _at, given as people write times; a whole number for rating,
 * incoming_no and expected_version) and "name:=JSON" arguments. at may be NULL. Returns the
 * body (new reference) or NULL with a usage error printed. */
json_t *ctl_event_body(struct ctl *ctl, const char *type, const char *at, char **args, int n);

#endif
