/* template: alert messages rendered from template files, and the formatting of their values
 * (see template.h; the files and their variables are described in docs/templates.md).
 *
 * DESIGN: a file is parsed once, at load, into a flat array of nodes — literal text, a
 * variable, or a section whose children are the nodes before its `end`. Names are resolved at
 * load to an index in the table of known variables, filtered by the kind's bit, so a template
 * naming a variable its kind does not know fails the config check, not a send. Rendering walks
 * the array; sections nest at most TEMPLATE_MAX_DEPTH deep (checked at load), so the recursive
 * walk is bounded, and the output buffer refuses to grow past TEMPLATE_MAX_OUTPUT.
 *
 * Mustache's standalone rule applies: a line holding only a section tag or a comment, and
 * blanks, is removed whole, so tags can sit on lines of their own in a plain-text body without
 * leaving empty lines behind. A subject and a chat line are one line: the file's final newline
 * is dropped, any other line break in it is a load error, and a value with CR or LF is refused
 * at render (header injection). */
#include "template.h"
#include "utf8.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TPL_NAME_MAX 64
#define TPL_LIST "items" /* the list of rows of the kinds that have one */

/* --- the variables each kind knows --- */

#define K(k) (1u << (k))
#define K_CASE (K(TEMPLATE_PERCENT) | K(TEMPLATE_BEFORE) | K(TEMPLATE_DUE) | K(TEMPLATE_OVERDUE))
#define K_DOCUMENT (K(TEMPLATE_DOCUMENT_DUE) | K(TEMPLATE_DOCUMENT_OVERDUE))
#define K_ASSIGNMENT (K(TEMPLATE_ASSIGNMENT_DUE) | K(TEMPLATE_ASSIGNMENT_OVERDUE))
#define K_ITEM (K_CASE | K_DOCUMENT | K_ASSIGNMENT)
#define K_BUDGET K(TEMPLATE_KPI_BUDGET)
#define K_REPORT K(TEMPLATE_KPI_REPORT)
#define K_ALL (K_ITEM | K(TEMPLATE_DIGEST) | K_BUDGET | K_REPORT)
#define K_LISTS (K(TEMPLATE_DIGEST) | K_REPORT) /* the kinds with {{#items}} */
#define K_LEFT (K(TEMPLATE_PERCENT) | K(TEMPLATE_BEFORE) | K(TEMPLATE_DUE) |               \
		K(TEMPLATE_DOCUMENT_DUE) | K(TEMPLATE_ASSIGNMENT_DUE))
#define K_LATE (K(TEMPLATE_OVERDUE) | K(TEMPLATE_DOCUMENT_OVERDUE) | K(TEMPLATE_ASSIGNMENT_OVERDUE))
#define K_DIGEST K(TEMPLATE_DIGEST)

static const struct tpl_var_def {
	const char *name;
	unsigned kinds; /* K() bits of the kinds that know it */
} tpl_vars[] = {
	{ "item_kind", K_ITEM },
	{ "code", K_ITEM },
	{ "title", K_ITEM },
	{ "applicant", K_CASE },
	{ "issuer", K_DOCUMENT },
	{ "unit", K_ALL },
	{ "handler", K_ITEM },
	{ "recipient_salutation", K_ALL },
	{ "received_at", K_ITEM },
	{ "due_at", K_ITEM },
	{ "due_time", K_ITEM },
	{ "due_today", K_ITEM },
	{ "left", K_LEFT },
	{ "overdue_by", K_LATE },
	{ "overdue", K_ITEM },
	{ "percent_used", K_ITEM },
	{ "extended", K_ITEM },
	{ "link", K_ALL },
	{ "office_name", K_ALL },
	{ "date", K_ALL },
	{ "due_soon_count", K_DIGEST },
	{ "overdue_count", K_DIGEST },
	{ "due_soon_items", K_DIGEST },
	{ "overdue_items", K_DIGEST },
	{ "overdue_cases", K_DIGEST },
	/* the error budget of a unit's subtree for the year (docs/kpi.md) */
	{ "year", K_BUDGET },
	{ "target", K_BUDGET },
	{ "counted", K_BUDGET },
	{ "projected", K_BUDGET },
	{ "budget_allowed", K_BUDGET },
	{ "budget_used", K_BUDGET },
	{ "budget_remaining", K_BUDGET },
	{ "budget_over", K_BUDGET },
	{ "remaining_percent", K_BUDGET },
	{ "projected_rate", K_BUDGET },
	{ "burn_7d", K_BUDGET },
	{ "late_7d", K_BUDGET },
	{ "due_7d", K_BUDGET },
	{ "burn_30d", K_BUDGET },
	{ "late_30d", K_BUDGET },
	{ "due_30d", K_BUDGET },
	{ "burn_alarm", K_BUDGET },
	{ "low_budget", K_BUDGET },
	{ "burn_threshold", K_BUDGET },
	{ "remaining_threshold", K_BUDGET },
	/* the weekly report: the subtree's total outside {{#items}} */
	{ "week", K_REPORT },
	{ "period_from", K_REPORT },
	{ "period_to", K_REPORT },
	{ "on_time_rate", K_REPORT },
	{ "on_time_target", K_REPORT },
	{ "on_time_below", K_REPORT },
	{ "open_overdue", K_REPORT },
	{ "worst_count", K_REPORT },
};
#define TPL_NVARS (sizeof(tpl_vars) / sizeof(tpl_vars[0]))

/* The fields of a row, by the kinds with items that know them; inside {{#items}} they hide
 * the message variables of the same name (a digest row's link is the item's, outside it is
 * the unit's list); a field a row does not give falls back to the message variable of that
 * name, if the kind has one. A kpi_report row is a unit's figures (unit_row) or one of the
 * worst cases (case_row). */
#define R_DIGEST K(TEMPLATE_DIGEST)
#define R_CASE (R_DIGEST | K_REPORT)
static const struct tpl_var_def tpl_row_vars[] = {
	{ "item_kind", R_DIGEST },
	{ "code", R_CASE },
	{ "title", R_CASE },
	{ "applicant", R_DIGEST },
	{ "unit", R_CASE },
	{ "handler", R_CASE },
	{ "due_at", R_CASE },
	{ "left", R_CASE },
	{ "overdue_by", R_CASE },
	{ "percent_used", R_DIGEST },
	{ "extended", R_DIGEST },
	{ "link", R_CASE },
	{ "overdue", R_DIGEST },
	{ "unit_row", K_REPORT },
	{ "case_row", R_CASE },
	{ "document_row", R_DIGEST },
	{ "assignment_row", R_DIGEST },
	{ "total", K_REPORT },
	{ "depth", K_REPORT },
	{ "indent", K_REPORT },
	{ "received", K_REPORT },
	{ "carried", K_REPORT },
	{ "counted", K_REPORT },
	{ "finished_on_time", K_REPORT },
	{ "late", K_REPORT },
	{ "open_within", K_REPORT },
	{ "open_overdue", K_REPORT },
	{ "on_time_rate", K_REPORT },
	{ "on_time_target", K_REPORT },
	{ "on_time_below", K_REPORT },
	{ "online_rate", K_REPORT },
	{ "online_target", K_REPORT },
	{ "online_below", K_REPORT },
	{ "payment_rate", K_REPORT },
	{ "payment_target", K_REPORT },
	{ "payment_below", K_REPORT },
	{ "digitized_rate", K_REPORT },
	{ "digitized_target", K_REPORT },
	{ "digitized_below", K_REPORT },
	{ "satisfaction_rate", K_REPORT },
	{ "satisfaction_target", K_REPORT },
	{ "satisfaction_below", K_REPORT },
	{ "inspection_rate", K_REPORT },
	{ "inspection_target", K_REPORT },
	{ "inspection_below", K_REPORT },
};
#define TPL_NROW_VARS (sizeof(tpl_row_vars) / sizeof(tpl_row_vars[0]))

static const char *const kind_names[TEMPLATE_KIND_COUNT] = {
	"percent", "before", "due", "overdue", "document_due", "document_overdue", "assignment_due",
	"assignment_overdue", "digest", "kpi_budget", "kpi_report",
};

static const char *const part_suffix[TEMPLATE_PART_COUNT] = {
	".subject", ".txt", ".html", ".chat",
};

/* --- parsed templates --- */

enum tpl_node_type { TPL_TEXT, TPL_VAR, TPL_SECTION };

struct tpl_node {
	enum tpl_node_type type;
	bool inverted; /* section shown when the value is empty (or there are no rows) */
	bool row;      /* var or section on a row field (index in tpl_row_vars) */
	bool list;     /* section over the rows */
	int var;       /* index in tpl_vars, or in tpl_row_vars when row */
	int fallback;  /* row: the tpl_vars index of the same name, used when a row lacks it; -1 */
	size_t off;    /* text: the literal is src[off, off + len) */
	size_t len;
	size_t end;    /* section: index of the first node after its children */
};

struct tpl {
	char *src;
	struct tpl_node *nodes;
	size_t nnodes;
};

struct template_set {
	enum template_lang lang;
	struct tpl t[TEMPLATE_KIND_COUNT][TEMPLATE_PART_COUNT];
};

static bool single_line(enum template_part part)
{
	return part == TEMPLATE_SUBJECT || part == TEMPLATE_CHAT;
}

int template_lang_parse(const char *s, enum template_lang *out, struct err *err)
{
	if (s && strcmp(s, "vi") == 0) {
		*out = TEMPLATE_VI;
		return 0;
	}
	if (s && strcmp(s, "en") == 0) {
		*out = TEMPLATE_EN;
		return 0;
	}
	return err_set(err, "language", "unknown language \"%s\": expected \"vi\" or \"en\"",
		       s ? s : "(null)");
}

const char *template_kind_name(enum template_kind kind)
{
	if ((unsigned)kind >= TEMPLATE_KIND_COUNT)
		return NULL;
	return kind_names[kind];
}

enum template_lang template_set_lang(const struct template_set *set)
{
	return set->lang;
}

/* Index of name in tpl_vars among those kind knows (any kind: TEMPLATE_KIND_COUNT), or -1. */
static int var_index(enum template_kind kind, const char *name, size_t len)
{
	for (size_t i = 0; i < TPL_NVARS; i++)
		if ((kind == TEMPLATE_KIND_COUNT || (tpl_vars[i].kinds & K(kind))) &&
		    strlen(tpl_vars[i].name) == len &&
		    memcmp(tpl_vars[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

/* Index of name in tpl_row_vars among the fields of kind's rows (any kind:
 * TEMPLATE_KIND_COUNT), or -1. */
static int row_var_index(enum template_kind kind, const char *name, size_t len)
{
	for (size_t i = 0; i < TPL_NROW_VARS; i++)
		if ((kind == TEMPLATE_KIND_COUNT || (tpl_row_vars[i].kinds & K(kind))) &&
		    strlen(tpl_row_vars[i].name) == len &&
		    memcmp(tpl_row_vars[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

static bool has_items(enum template_kind kind)
{
	return (K_LISTS & K(kind)) != 0;
}

/* "code, title, ..." : the variables kind knows, for error messages. */
static void known_list(enum template_kind kind, char *buf, size_t n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < TPL_NVARS && len < n; i++) {
		if (!(tpl_vars[i].kinds & K(kind)))
			continue;
		int w = snprintf(buf + len, n - len, "%s%s", len ? ", " : "", tpl_vars[i].name);
		if (w < 0)
			break;
		len += (size_t)w;
	}
	if (has_items(kind) && len < n)
		snprintf(buf + len, n - len, ", " TPL_LIST);
}

/* --- loading --- */

struct parser {
	const char *path;  /* for messages */
	const char *field; /* "<lang>/<file>" */
	const char *src;
	size_t len;
	enum template_kind kind;
	struct tpl *t;
	size_t cap;
	struct {
		size_t node;  /* index of the section node */
		size_t at;    /* offset of its tag, for messages */
		const char *name;
		size_t name_len;
	} open[TEMPLATE_MAX_DEPTH];
	size_t depth;
	bool in_list;
	struct err *err;
};

static int line_of(const char *src, size_t off)
{
	int line = 1;

	for (size_t i = 0; i < off; i++)
		if (src[i] == '\n')
			line++;
	return line;
}

static int parse_fail(struct parser *p, size_t at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int parse_fail(struct parser *p, size_t at, const char *fmt, ...)
{
	char what[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return err_set(p->err, p->field, "%s:%d: %s", p->path, line_of(p->src, at), what);
}

static struct tpl_node *add_node(struct parser *p, enum tpl_node_type type)
{
	if (p->t->nnodes == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct tpl_node *nodes = realloc(p->t->nodes, cap * sizeof(*nodes));

		if (!nodes) {
			err_set(p->err, p->field, "%s: out of memory", p->path);
			return NULL;
		}
		p->t->nodes = nodes;
		p->cap = cap;
	}
	struct tpl_node *node = &p->t->nodes[p->t->nnodes++];
	memset(node, 0, sizeof(*node));
	node->type = type;
	node->fallback = -1;
	return node;
}

static int add_text(struct parser *p, size_t from, size_t to)
{
	struct tpl_node *node;

	if (to <= from)
		return 0;
	node = add_node(p, TPL_TEXT);
	if (!node)
		return -1;
	node->off = from;
	node->len = to - from;
	return 0;
}

/* Resolves name at offset `at` for a variable or section node. */
static int resolve(struct parser *p, size_t at, const char *name, size_t len, struct tpl_node *node)
{
	char known[400];
	int i;

	if (p->in_list && (i = row_var_index(p->kind, name, len)) >= 0) {
		node->row = true;
		node->var = i;
		node->fallback = var_index(p->kind, name, len);
		return 0;
	}
	i = var_index(p->kind, name, len);
	if (i >= 0) {
		node->var = i;
		return 0;
	}
	if (has_items(p->kind) && row_var_index(p->kind, name, len) >= 0)
		return parse_fail(p, at, "variable '%.*s' is a row field, known only inside "
				  "{{#items}}...{{/items}}", (int)len, name);
	known_list(p->kind, known, sizeof(known));
	return parse_fail(p, at, "unknown variable '%.*s' (%s templates know: %s)", (int)len, name,
			  kind_names[p->kind], known);
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* Handles the tag at `at`: "{{", content src[cb, ce), "}}". */
static int parse_tag(struct parser *p, size_t at, size_t cb, size_t ce)
{
	const char *s = p->src;
	const int shown = (int)(ce - cb > 60 ? 60 : ce - cb); /* of the tag, in messages */
	const char *tag = s + cb;
	char sigil = '\0';
	struct tpl_node *node;
	const char *name;
	size_t len;
	bool list;

	while (cb < ce && (s[cb] == ' ' || s[cb] == '\t'))
		cb++;
	while (ce > cb && (s[ce - 1] == ' ' || s[ce - 1] == '\t'))
		ce--;
	if (cb < ce && s[cb] == '!')
		return 0;
	if (cb < ce && strchr("#^/", s[cb])) {
		sigil = s[cb++];
		while (cb < ce && (s[cb] == ' ' || s[cb] == '\t'))
			cb++;
	}
	name = s + cb;
	len = ce - cb;
	if (len == 0 || len > TPL_NAME_MAX)
		return parse_fail(p, at, "bad tag '{{%.*s}}': expected a variable name", shown, tag);
	for (size_t i = 0; i < len; i++)
		if (!is_name_char(name[i]))
			return parse_fail(p, at, "bad tag '{{%.*s}}': a name is made of a-z, 0-9 and _",
					  shown, tag);
	list = has_items(p->kind) && len == strlen(TPL_LIST) &&
	       memcmp(name, TPL_LIST, len) == 0;

	switch (sigil) {
	case '#':
	case '^':
		if (p->depth == TEMPLATE_MAX_DEPTH)
			return parse_fail(p, at, "section '%.*s' nested more than %d deep", (int)len,
					  name, TEMPLATE_MAX_DEPTH);
		if (list && p->in_list)
			return parse_fail(p, at, "section '%.*s' inside itself", (int)len, name);
		node = add_node(p, TPL_SECTION);
		if (!node)
			return -1;
		node->inverted = sigil == '^';
		if (list) {
			node->list = true;
			if (!node->inverted)
				p->in_list = true;
		} else if (resolve(p, at, name, len, node) < 0) {
			return -1;
		}
		p->open[p->depth].node = p->t->nnodes - 1;
		p->open[p->depth].at = at;
		p->open[p->depth].name = name;
		p->open[p->depth].name_len = len;
		p->depth++;
		return 0;
	case '/': {
		size_t k;

		if (p->depth == 0)
			return parse_fail(p, at, "'{{/%.*s}}' closes no open section", (int)len, name);
		k = p->depth - 1;
		if (p->open[k].name_len != len || memcmp(p->open[k].name, name, len) != 0)
			return parse_fail(p, at, "'{{/%.*s}}' does not close section '%.*s' opened on "
					  "line %d", (int)len, name, (int)p->open[k].name_len,
					  p->open[k].name, line_of(s, p->open[k].at));
		node = &p->t->nodes[p->open[k].node];
		node->end = p->t->nnodes;
		if (node->list && !node->inverted)
			p->in_list = false;
		p->depth--;
		return 0;
	}
	default:
		if (list)
			return parse_fail(p, at, "'%.*s' is a list: use {{#items}}...{{/items}}",
					  (int)len, name);
		node = add_node(p, TPL_VAR);
		if (!node)
			return -1;
		return resolve(p, at, name, len, node);
	}
}

/* When the tag [at, te) may stand alone (a section or comment tag), and nothing but blanks
 * shares its line, sets *line_start and *next to the line's bounds (after its line break). */
static bool standalone(const char *s, size_t len, size_t from, size_t at, size_t te,
		       size_t *line_start, size_t *next)
{
	size_t b = at, e = te;

	while (b > from && (s[b - 1] == ' ' || s[b - 1] == '\t'))
		b--;
	if (b > 0 && s[b - 1] != '\n')
		return false;
	while (e < len && (s[e] == ' ' || s[e] == '\t'))
		e++;
	if (e + 1 < len && s[e] == '\r' && s[e + 1] == '\n')
		e += 2;
	else if (e < len && s[e] == '\n')
		e++;
	else if (e != len)
		return false;
	*line_start = b;
	*next = e;
	return true;
}

static int parse(struct parser *p)
{
	const char *s = p->src;
	size_t text = 0, pos = 0;

	for (;;) {
		const char *o = strstr(s + pos, "{{");
		if (!o)
			break;
		size_t at = (size_t)(o - s);
		const char *c = strstr(o + 2, "}}");
		if (!c)
			return parse_fail(p, at, "unterminated tag: '{{' without '}}'");
		size_t ce = (size_t)(c - s), te = ce + 2, cb = at + 2;
		size_t text_end = at, next = te;

		while (cb < ce && (s[cb] == ' ' || s[cb] == '\t'))
			cb++;
		if (cb < ce && strchr("#^/!", s[cb]))
			standalone(s, p->len, text, at, te, &text_end, &next);
		if (add_text(p, text, text_end) < 0 || parse_tag(p, at, at + 2, ce) < 0)
			return -1;
		text = pos = next;
	}
	if (add_text(p, text, p->len) < 0)
		return -1;
	if (p->depth > 0) {
		size_t k = p->depth - 1;

		return parse_fail(p, p->open[k].at, "section '%.*s' is not closed",
				  (int)p->open[k].name_len, p->open[k].name);
	}
	return 0;
}

/* Offset of the first invalid UTF-8 sequence in s[0, len), or len. */
static size_t utf8_invalid(const unsigned char *s, size_t len)
{
	size_t i = 0, k;

	while (i < len) {
		if (!(k = utf8_seq(s + i, len - i)))
			return i;
		i += k;
	}
	return len;
}

/* Reads path into *out (NUL-terminated, *len bytes). */
static int read_file(const char *path, const char *field, char **out, size_t *len,
		     struct err *err)
{
	FILE *f = NULL;
	char *buf = NULL;
	size_t n;

	*out = NULL;
	f = fopen(path, "rb");
	if (!f) {
		err_set(err, field, "%s: %s", path, strerror(errno));
		goto fail;
	}
	buf = malloc(TEMPLATE_MAX_FILE + 2);
	if (!buf) {
		err_set(err, field, "%s: out of memory", path);
		goto fail;
	}
	n = fread(buf, 1, TEMPLATE_MAX_FILE + 1, f);
	if (ferror(f)) {
		err_set(err, field, "%s: read error: %s", path, strerror(errno));
		goto fail;
	}
	if (n > TEMPLATE_MAX_FILE) {
		err_set(err, field, "%s: larger than %d bytes", path, TEMPLATE_MAX_FILE);
		goto fail;
	}
	buf[n] = '\0';
	fclose(f);
	*out = buf;
	*len = n;
	return 0;
fail:
	if (f)
		fclose(f);
	free(buf);
	return -1;
}

static int load_one(struct tpl *t, const char *dir, const char *lang, enum template_kind kind,
		    enum template_part part, struct err *err)
{
	char path[4096], field[128];
	size_t len, bad;
	char *src;
	struct parser p;

	snprintf(field, sizeof(field), "%s/%s%s", lang, kind_names[kind], part_suffix[part]);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, field) >= sizeof(path))
		return err_set(err, field, "template directory path too long");
	if (read_file(path, field, &t->src, &len, err) < 0)
		return -1;
	src = t->src;
	if (memchr(src, '\0', len))
		return err_set(err, field, "%s:%d: NUL byte in template", path,
			       line_of(src, (size_t)((char *)memchr(src, '\0', len) - src)));
	bad = utf8_invalid((const unsigned char *)src, len);
	if (bad != len)
		return err_set(err, field, "%s:%d: invalid UTF-8", path, line_of(src, bad));
	if (len >= 3 && memcmp(src, "\xef\xbb\xbf", 3) == 0) { /* a byte-order mark: drop it */
		memmove(src, src + 3, len - 2);
		len -= 3;
	}
	if (single_line(part)) {
		if (len > 0 && src[len - 1] == '\n')
			src[--len] = '\0';
		if (len > 0 && src[len - 1] == '\r')
			src[--len] = '\0';
		size_t brk = strcspn(src, "\r\n");
		if (brk != len)
			return err_set(err, field, "%s:%d: a %s must be one line", path,
				       line_of(src, brk), part == TEMPLATE_SUBJECT ? "subject" :
										     "chat message");
	}
	p = (struct parser){ .path = path, .field = field, .src = src, .len = len, .kind = kind,
			     .t = t, .err = err };
	return parse(&p);
}

static void tpl_clear(struct tpl *t)
{
	free(t->src);
	free(t->nodes);
	memset(t, 0, sizeof(*t));
}

/* Adds one file's error to the set's report: the config check lists every broken template, so
 * err->msg holds one line per file, as many as fit, then how many more there are. */
static void note_error(struct err *err, const struct err *one, int *nbad, int *hidden)
{
	size_t len = strlen(err->msg);

	if ((*nbad)++ == 0) {
		*err = *one;
		return;
	}
	/* room kept for the last line, "… and N more" */
	if (len + 1 + strlen(one->msg) + 32 < sizeof(err->msg))
		snprintf(err->msg + len, sizeof(err->msg) - len, "\n%s", one->msg);
	else
		(*hidden)++;
}

struct template_set *template_set_load(const char *dir, const char *lang, struct err *err)
{
	struct template_set *set = NULL;
	enum template_lang l = TEMPLATE_VI;
	int nbad = 0, hidden = 0, nloaded = 0;
	struct err one;

	err_clear(err);
	if (!dir) {
		err_set(err, "templates", "no template directory");
		goto fail;
	}
	if (template_lang_parse(lang, &l, err) < 0)
		goto fail;
	set = calloc(1, sizeof(*set));
	if (!set) {
		err_set(err, "templates", "out of memory");
		goto fail;
	}
	set->lang = l;
	for (int k = 0; k < TEMPLATE_KIND_COUNT; k++)
		for (int part = 0; part < TEMPLATE_PART_COUNT; part++) {
			err_clear(&one);
			if (load_one(&set->t[k][part], dir, lang, (enum template_kind)k,
				     (enum template_part)part, &one) < 0)
				note_error(err, &one, &nbad, &hidden);
			else
				nloaded++;
		}
	if (nbad && !nloaded) {
		/* not one file read: a wrong directory, whose first error says it all */
		err->msg[strcspn(err->msg, "\n")] = '\0';
		goto fail;
	}
	if (hidden) {
		size_t len = strlen(err->msg);
		snprintf(err->msg + len, sizeof(err->msg) - len, "\n… and %d more", hidden);
	}
	if (nbad)
		goto fail;
	return set;
fail:
	template_set_free(set);
	return NULL;
}

void template_set_free(struct template_set *set)
{
	if (!set)
		return;
	for (int k = 0; k < TEMPLATE_KIND_COUNT; k++)
		for (int part = 0; part < TEMPLATE_PART_COUNT; part++)
			tpl_clear(&set->t[k][part]);
	free(set);
}

/* --- rendering --- */

struct out {
	char *buf;
	size_t len, cap;
};

struct render {
	const struct tpl *t;
	enum template_part part;
	const char *vals[TPL_NVARS];
	const char *rowvals[TPL_NROW_VARS];
	const struct template_vars *vars;
	struct out out;
	struct err *err;
};

static int out_put(struct render *r, const char *s, size_t n)
{
	struct out *o = &r->out;

	if (n > TEMPLATE_MAX_OUTPUT - o->len)
		return err_set(r->err, NULL, "rendered message longer than %d bytes",
			       TEMPLATE_MAX_OUTPUT);
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 1024;
		char *buf;

		while (cap < o->len + n + 1)
			cap *= 2;
		if (cap > TEMPLATE_MAX_OUTPUT + 1)
			cap = TEMPLATE_MAX_OUTPUT + 1;
		buf = realloc(o->buf, cap);
		if (!buf)
			return err_set(r->err, NULL, "out of memory");
		o->buf = buf;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
	return 0;
}

static int put_html(struct render *r, const char *v)
{
	const char *run = v;

	for (; *v; v++) {
		const char *esc;

		switch (*v) {
		case '&': esc = "&amp;"; break;
		case '<': esc = "&lt;"; break;
		case '>': esc = "&gt;"; break;
		case '"': esc = "&quot;"; break;
		case '\'': esc = "&#39;"; break;
		default: continue;
		}
		if (out_put(r, run, (size_t)(v - run)) < 0 || out_put(r, esc, strlen(esc)) < 0)
			return -1;
		run = v + 1;
	}
	return out_put(r, run, (size_t)(v - run));
}

static const char *node_value(const struct render *r, const struct tpl_node *node)
{
	const char *v = node->row ? r->rowvals[node->var] : r->vals[node->var];

	if (!v && node->row && node->fallback >= 0)
		v = r->vals[node->fallback];
	return v ? v : "";
}

static const char *node_name(const struct tpl_node *node)
{
	return node->row ? tpl_row_vars[node->var].name : tpl_vars[node->var].name;
}

/* Loads the values of row i into r->rowvals (names were checked by check_vars). */
static void set_row(struct render *r, size_t i)
{
	const struct template_row *row = &r->vars->rows[i];

	memset(r->rowvals, 0, sizeof(r->rowvals));
	for (size_t k = 0; k < row->nvars; k++) {
		const char *name = row->vars[k].name;
		const char *value = row->vars[k].value;

		/* Given as NULL is given empty: only a field not given falls back. */
		r->rowvals[row_var_index(TEMPLATE_KIND_COUNT, name, strlen(name))] =
			value ? value : "";
	}
}

/* Renders nodes [from, to); depth is bounded by TEMPLATE_MAX_DEPTH, checked at load. */
static int render_nodes(struct render *r, size_t from, size_t to)
{
	const struct tpl *t = r->t;

	for (size_t i = from; i < to; i++) {
		const struct tpl_node *node = &t->nodes[i];

		switch (node->type) {
		case TPL_TEXT:
			if (out_put(r, t->src + node->off, node->len) < 0)
				return -1;
			break;
		case TPL_VAR: {
			const char *v = node_value(r, node);

			if (single_line(r->part) && strpbrk(v, "\r\n"))
				return err_set(r->err, node_name(node),
					       "value of '%s' holds a line break: refused in a %s",
					       node_name(node),
					       r->part == TEMPLATE_SUBJECT ? "subject" : "chat message");
			if (r->part == TEMPLATE_HTML ? put_html(r, v) < 0
						     : out_put(r, v, strlen(v)) < 0)
				return -1;
			break;
		}
		case TPL_SECTION:
			if (node->list && !node->inverted) {
				for (size_t k = 0; k < r->vars->nrows; k++) {
					set_row(r, k);
					if (render_nodes(r, i + 1, node->end) < 0)
						return -1;
				}
				memset(r->rowvals, 0, sizeof(r->rowvals));
			} else {
				bool full = node->list ? r->vars->nrows > 0 : *node_value(r, node) != '\0';

				if (full != node->inverted && render_nodes(r, i + 1, node->end) < 0)
					return -1;
			}
			i = node->end - 1;
			break;
		}
	}
	return 0;
}

/* Checks the caller's names and fills r->vals. A name of another kind is accepted and stays
 * unused (no node of this kind refers to it), so a caller may give one set of values for every
 * kind; a name no kind knows is the caller's typo. */
static int check_vars(struct render *r, enum template_kind kind, const struct template_vars *v)
{
	if (v->nvars > 0 && !v->vars)
		return err_set(r->err, NULL, "nvars without vars");
	for (size_t i = 0; i < v->nvars; i++) {
		const char *name = v->vars[i].name;
		int k = name ? var_index(TEMPLATE_KIND_COUNT, name, strlen(name)) : -1;

		if (k < 0)
			return err_set(r->err, name, "unknown variable '%s' given to %s",
				       name ? name : "(null)", kind_names[kind]);
		if (r->vals[k])
			return err_set(r->err, name, "variable '%s' given twice", name);
		r->vals[k] = v->vars[i].value ? v->vars[i].value : "";
	}
	if (v->nrows > 0 && !has_items(kind))
		return err_set(r->err, TPL_LIST, "rows given to %s, which has no items",
			       kind_names[kind]);
	if (v->nrows > 0 && !v->rows)
		return err_set(r->err, TPL_LIST, "nrows without rows");
	for (size_t i = 0; i < v->nrows; i++) {
		bool seen[TPL_NROW_VARS] = { false };

		if (v->rows[i].nvars > 0 && !v->rows[i].vars)
			return err_set(r->err, TPL_LIST, "row %zu: nvars without vars", i + 1);

		for (size_t j = 0; j < v->rows[i].nvars; j++) {
			const char *name = v->rows[i].vars[j].name;
			int k = name ? row_var_index(kind, name, strlen(name)) : -1;

			if (k < 0)
				return err_set(r->err, name, "row %zu: '%s' is not a row field", i + 1,
					       name ? name : "(null)");
			if (seen[k])
				return err_set(r->err, name, "row %zu: '%s' given twice", i + 1, name);
			seen[k] = true;
		}
	}
	return 0;
}

int template_render(const struct template_set *set, enum template_kind kind,
		    enum template_part part, const struct template_vars *vars, char **out,
		    struct err *err)
{
	static const struct template_vars none = { 0 };
	struct render *r;
	int rc = -1;

	err_clear(err);
	if (out)
		*out = NULL;
	if (!set || !out || (unsigned)kind >= TEMPLATE_KIND_COUNT ||
	    (unsigned)part >= TEMPLATE_PART_COUNT)
		return err_set(err, NULL, "template_render: bad arguments");
	/* The value tables are a few hundred bytes: keep them off the caller's stack. */
	r = calloc(1, sizeof(*r));
	if (!r)
		return err_set(err, NULL, "out of memory");
	r->t = &set->t[kind][part];
	r->part = part;
	r->vars = vars ? vars : &none;
	r->err = err;
	if (check_vars(r, kind, r->vars) < 0 || out_put(r, "", 0) < 0 ||
	    render_nodes(r, 0, r->t->nnodes) < 0)
		goto fail;
	*out = r->out.buf;
	r->out.buf = NULL;
	rc = 0;
fail:
	free(r->out.buf);
	free(r);
	return rc;
}

/* --- formatting helpers --- */

static const char *const weekday_vi[7] = {
	"Chủ nhật", "thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy",
};
static const char *const weekday_en[7] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
};

/* Writes the formatted text of a snprintf call's result w into buf of size n, or clears buf
 * and returns -1 when it did not fit. */
static int fit(int w, char *buf, size_t n)
{
	if (w < 0 || (size_t)w >= n) {
		if (n > 0)
			buf[0] = '\0';
		return -1;
	}
	return w;
}

static int fail_buf(char *buf, size_t n)
{
	return fit(-1, buf, n);
}

struct local_time {
	int y, m, d, wday, hour, min;
};

/* t in the calendar's zone; -1 for TIME_NONE and outside years 1..9999. */
static int local_time(struct calendar *cal, int64_t t, struct local_time *lt)
{
	const int64_t lo = -62135596800 + 86400;   /* 0001-01-02T00:00Z */
	const int64_t hi = 253402300799 - 86400;   /* 9999-12-30T23:59:59Z */
	int64_t l, day, sod;

	if (t == TIME_NONE || t < lo || t > hi)
		return -1;
	l = t + calendar_utc_offset(cal, t);
	day = l / 86400;
	sod = l % 86400;
	if (sod < 0) {
		sod += 86400;
		day--;
	}
	civil_from_days((int32_t)day, &lt->y, &lt->m, &lt->d);
	lt->wday = civil_weekday((int32_t)day);
	lt->hour = (int)(sod / 3600);
	lt->min = (int)(sod % 3600 / 60);
	return 0;
}

int template_format_instant(struct calendar *cal, int64_t t, enum template_lang lang, char *buf,
			    size_t n)
{
	struct local_time lt;

	if (!cal || (lang != TEMPLATE_VI && lang != TEMPLATE_EN) || local_time(cal, t, &lt) < 0)
		return fail_buf(buf, n);
	return fit(snprintf(buf, n, "%02d:%02d %s, %02d/%02d/%04d", lt.hour, lt.min,
			    (lang == TEMPLATE_VI ? weekday_vi : weekday_en)[lt.wday], lt.d, lt.m,
			    lt.y),
		   buf, n);
}

int template_format_date(struct calendar *cal, int64_t t, char *buf, size_t n)
{
	struct local_time lt;

	if (!cal || local_time(cal, t, &lt) < 0)
		return fail_buf(buf, n);
	return fit(snprintf(buf, n, "%02d/%02d/%04d", lt.d, lt.m, lt.y), buf, n);
}

int template_format_clock(struct calendar *cal, int64_t t, char *buf, size_t n)
{
	struct local_time lt;

	if (!cal || local_time(cal, t, &lt) < 0)
		return fail_buf(buf, n);
	return fit(snprintf(buf, n, "%02d:%02d", lt.hour, lt.min), buf, n);
}

int template_format_duration(int64_t seconds, int64_t day_seconds, enum template_round round,
			     enum template_lang lang, char *buf, size_t n)
{
	/* Vietnamese nouns do not inflect; English ones do, and "working" goes before the first. */
	static const char *const vi_unit[3] = { "ngày", "giờ", "phút" };
	static const char *const en_one[3] = { "day", "hour", "minute" };
	static const char *const en_many[3] = { "days", "hours", "minutes" };
	int64_t s, minutes, day_min, part[3];
	size_t len = 0;
	bool first = true;

	if (day_seconds < 60 || day_seconds % 60 != 0 || seconds == INT64_MIN ||
	    (round != TEMPLATE_ROUND_UP && round != TEMPLATE_ROUND_DOWN) ||
	    (lang != TEMPLATE_VI && lang != TEMPLATE_EN))
		return fail_buf(buf, n);
	s = seconds < 0 ? -seconds : seconds;
	minutes = round == TEMPLATE_ROUND_UP ? s / 60 + (s % 60 != 0) : s / 60;
	if (minutes == 0 && s > 0)
		minutes = 1;
	day_min = day_seconds / 60;
	part[0] = minutes / day_min;
	part[1] = minutes % day_min / 60;
	part[2] = minutes % day_min % 60;
	if (minutes == 0)
		part[2] = 0;
	for (int i = 0; i < 3; i++) {
		int w;

		if (part[i] == 0 && !(minutes == 0 && i == 2))
			continue;
		if (len >= n)
			return fail_buf(buf, n);
		if (lang == TEMPLATE_VI)
			w = snprintf(buf + len, n - len, "%s%lld %s", first ? "" : " ",
				     (long long)part[i], vi_unit[i]);
		else
			w = snprintf(buf + len, n - len, "%s%lld %s%s", first ? "" : " ",
				     (long long)part[i], first ? "working " : "",
				     part[i] == 1 ? en_one[i] : en_many[i]);
		if (fit(w, buf + len, n - len) < 0)
			return fail_buf(buf, n);
		len += (size_t)w;
		first = false;
	}
	if (lang == TEMPLATE_VI) {
		if (len >= n || fit(snprintf(buf + len, n - len, " làm việc"), buf + len, n - len) < 0)
			return fail_buf(buf, n);
		len += strlen(buf + len);
	}
	return (int)len;
}

int template_format_percent(double percent, int decimals, enum template_lang lang, char *buf,
			    size_t n)
{
	static const long long scale[4] = { 1, 10, 100, 1000 };
	long long v, ip, fp;
	char frac[8] = "";

	if (isnan(percent) || fabs(percent) > 1e9 || decimals < 0 || decimals > 3 ||
	    (lang != TEMPLATE_VI && lang != TEMPLATE_EN))
		return fail_buf(buf, n);
	/* Never shown better than it is: cut toward lower values, so a negative figure (a budget
	 * overspent) grows in size. 96.2 * 10 may be 961.99999...: a tiny nudge keeps exact
	 * decimals exact. */
	v = percent < 0 ? (long long)ceil(fabs(percent) * (double)scale[decimals] - 1e-6)
			: (long long)floor(fabs(percent) * (double)scale[decimals] + 1e-6);
	ip = v / scale[decimals];
	fp = v % scale[decimals];
	if (fp != 0) {
		int d = decimals;

		while (fp % 10 == 0) {
			fp /= 10;
			d--;
		}
		snprintf(frac, sizeof(frac), "%c%0*lld", lang == TEMPLATE_VI ? ',' : '.', d, fp);
	}
	return fit(snprintf(buf, n, "%s%lld%s%%", percent < 0 && v != 0 ? "-" : "", ip, frac), buf,
		   n);
}

int template_format_salutation(const char *title, const char *name, enum template_lang lang,
			       char *buf, size_t n)
{
	if (!name || !*name || (lang != TEMPLATE_VI && lang != TEMPLATE_EN))
		return fail_buf(buf, n);
	if (title && !*title)
		title = NULL;
	if (lang == TEMPLATE_VI)
		return fit(snprintf(buf, n, "%s %s", title ? title : "Ông/Bà", name), buf, n);
	if (!title)
		return fit(snprintf(buf, n, "%s", name), buf, n);
	if (strcmp(title, "Ông") == 0)
		title = "Mr";
	else if (strcmp(title, "Bà") == 0)
		title = "Ms";
	return fit(snprintf(buf, n, "%s %s", title, name), buf, n);
}

const char *template_item_noun(enum template_item item, enum template_lang lang)
{
	static const char *const nouns[2][TEMPLATE_ITEM_COUNT] = {
		{ "Hồ sơ", "Văn bản", "Nhiệm vụ" },
		{ "Case", "Document", "Assignment" },
	};

	if ((unsigned)item >= TEMPLATE_ITEM_COUNT || (lang != TEMPLATE_VI && lang != TEMPLATE_EN))
		return NULL;
	return nouns[lang == TEMPLATE_EN][item];
}

int template_format_item_counts(const size_t counts[TEMPLATE_ITEM_COUNT], enum template_item none,
				enum template_lang lang, char *buf, size_t n)
{
	/* Counted nouns are lower case; Vietnamese nouns do not inflect, English ones do. */
	static const char *const vi[TEMPLATE_ITEM_COUNT] = { "hồ sơ", "văn bản", "nhiệm vụ" };
	static const char *const en_one[TEMPLATE_ITEM_COUNT] = { "case", "document", "assignment" };
	static const char *const en_many[TEMPLATE_ITEM_COUNT] = { "cases", "documents",
								   "assignments" };
	size_t len = 0, total = 0;

	if (!counts || (unsigned)none >= TEMPLATE_ITEM_COUNT ||
	    (lang != TEMPLATE_VI && lang != TEMPLATE_EN))
		return fail_buf(buf, n);
	for (int i = 0; i < TEMPLATE_ITEM_COUNT; i++)
		total += counts[i];
	for (int i = 0; i < TEMPLATE_ITEM_COUNT; i++) {
		size_t c = counts[i];
		int w;

		/* "0 hồ sơ" rather than nothing: the text around it expects a count */
		if (c == 0 && !(total == 0 && i == (int)none))
			continue;
		if (len >= n)
			return fail_buf(buf, n);
		w = snprintf(buf + len, n - len, "%s%zu %s", len ? ", " : "", c,
			     lang == TEMPLATE_VI ? vi[i] : c == 1 ? en_one[i] : en_many[i]);
		if (fit(w, buf + len, n - len) < 0)
			return fail_buf(buf, n);
		len += (size_t)w;
	}
	return len > INT_MAX ? fail_buf(buf, n) : (int)len;
}

int template_format_link(const char *base, const char *collection, const char *key, char *buf,
			 size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t blen, len;
	int w;

	if (!base || !collection || !key || !*key)
		return fail_buf(buf, n);
	blen = strlen(base);
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	if (blen > INT_MAX / 2)
		return fail_buf(buf, n);
	w = snprintf(buf, n, "%.*s/%s/", (int)blen, base, collection);
	if (fit(w, buf, n) < 0)
		return -1;
	len = (size_t)w;
	for (const unsigned char *k = (const unsigned char *)key; *k; k++) {
		bool plain = (*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z') ||
			     (*k >= '0' && *k <= '9') || strchr("-._~", *k);

		if (len + (plain ? 1 : 3) >= n)
			return fail_buf(buf, n);
		if (plain) {
			buf[len++] = (char)*k;
		} else {
			buf[len++] = '%';
			buf[len++] = hex[*k >> 4];
			buf[len++] = hex[*k & 15];
		}
	}
	buf[len] = '\0';
	return len > INT_MAX ? fail_buf(buf, n) : (int)len;
}
