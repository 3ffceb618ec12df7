/* ctl_table: how dunghanctl prints for people and for programs — tables aligned by display
 * width (Vietnamese with combining marks, wide CJK characters), cut with "…" to the terminal's
 * width, colour only on a terminal and never with NO_COLOR; CSV per RFC 4180 with a UTF-8 BOM
 * and CRLF (what Excel expects); JSON lists streamed item by item. */
#ifndef DUNGHAN_CTL_TABLE_H
#define DUNGHAN_CTL_TABLE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum ctl_format { CTL_TABLE, CTL_CSV, CTL_JSON };

/* Where output goes and what it can show. */
struct ctl_out {
	FILE *fp;
	bool color; /* a terminal, and NO_COLOR unset or empty */
	int width;  /* columns of the terminal; 0: not a terminal, nothing is cut */
};

/* Fills o for fp: isatty, the width from TIOCGWINSZ (else $COLUMNS), colour unless NO_COLOR. */
void ctl_out_init(struct ctl_out *o, FILE *fp);

/* Parses "table", "csv" or "json"; -1 for anything else. */
int ctl_format_parse(const char *s);

/* Display columns of UTF-8 text: combining marks, zero-width and control characters take none,
 * East Asian wide characters two, the rest one (a byte that is not UTF-8 counts one). */
int ctl_text_width(const char *s);

/* Columns: title (the header of tables and the label of records; NULL: in neither), csv (the
 * CSV header; NULL: not in the CSV) and flags. */
#define CTL_COL_SHRINK 0x1 /* free text: cut first when the table is too wide */
#define CTL_COL_RIGHT 0x2  /* numbers: aligned right */
#define CTL_COL_DETAIL 0x4 /* in records and CSV, not in tables (too wide for a list) */
#define CTL_COL_KEEP 0x8   /* a key (code, id, deadline): never cut */
struct ctl_column {
	const char *title;
	const char *csv;
	unsigned flags;
};

/* How a row is shown on a colour terminal. */
enum ctl_style { CTL_PLAIN, CTL_WARN, CTL_BAD };

struct ctl_table;

/* A table of n columns (borrowed, must outlive it) printed to o as format (CTL_TABLE or
 * CTL_CSV). CSV starts at once (BOM, header) and streams; a table is kept until ctl_table_end,
 * since its widths depend on every row. NULL when out of memory. */
struct ctl_table *ctl_table_new(const struct ctl_out *o, enum ctl_format format,
				const struct ctl_column *cols, size_t n);

/* Adds a row of n cells (copied; NULL is an empty cell). Returns 0, or -1 out of memory. */
int ctl_table_add(struct ctl_table *t, const char *const *cells, enum ctl_style style);

/* Prints what is kept (a table: header and rows; nothing when it has no rows and
 * header_when_empty is false). Returns 0, or -1 when the output failed. */
int ctl_table_end(struct ctl_table *t, bool header_when_empty);

/* Frees t (NULL: nothing). */
void ctl_table_free(struct ctl_table *t);

/* One record as "title:  value" lines, the values aligned by display width (the columns whose
 * title is NULL are left out, so are empty values when skip_empty). */
void ctl_record_print(const struct ctl_out *o, const struct ctl_column *cols,
		      const char *const *cells, size_t n, bool skip_empty);

/* One CSV field (quoted when it holds a separator, a quote or a line break), then "," or, for
 * the last one, CRLF. */
void ctl_csv_field(FILE *fp, const char *s, bool last);

/* The UTF-8 byte order mark, so that Excel reads the CSV as UTF-8. */
void ctl_csv_bom(FILE *fp);

/* A JSON list printed as it comes: "[", the items, "]". */
struct ctl_json_list {
	FILE *fp;
	size_t n;
};
void ctl_json_begin(struct ctl_json_list *l, FILE *fp);
/* Prints item (borrowed). */
void ctl_json_add(struct ctl_json_list *l, const json_t *item);
void ctl_json_end(struct ctl_json_list *l);
/* One JSON value, indented, with a final newline. Returns 0 or -1 (out of memory). */
int ctl_json_print(FILE *fp, const json_t *v);

#endif
