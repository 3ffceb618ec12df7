/* item_json: the JSON of the items exactly as the API answers with them — cases, documents,
 * assignments, alerts and events — so that the API and `dunghanctl --db` (which reads the
 * database itself) cannot drift apart. Instants are RFC 3339 in the calendar's zone. */
#ifndef DUNGHAN_ITEM_JSON_H
#define DUNGHAN_ITEM_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "calendar.h"
#include "case.h"
#include "config.h"
#include "document.h"
#include "store.h"

/* How every JSON answer prints its numbers: 15 significant digits, so that figures rounded to
 * one decimal print as 96.7, not as the nearest double's 96.700000000000003 (the API, and
 * dunghanctl --format json, which must print the API's objects unchanged). */
#define ITEM_JSON_REALS JSON_REAL_PRECISION(15)

/* An instant, or JSON null for TIME_NONE. */
json_t *item_json_time(struct calendar *cal, int64_t t);
/* A string, or JSON null for NULL or "". */
json_t *item_json_optional(const char *s);

/* New references (NULL only when out of memory). cfg gives the names of units and procedures. */
json_t *item_json_case(const struct config *cfg, struct calendar *cal,
		       const struct case_record *c);
json_t *item_json_document(const struct config *cfg, struct calendar *cal,
			   const struct document_record *d);
json_t *item_json_assignment(const struct config *cfg, struct calendar *cal,
			     const struct assignment_record *a);
json_t *item_json_alert(struct calendar *cal, const struct store_alert *a);
json_t *item_json_event(struct calendar *cal, const struct store_event *ev);

/* --- JSON text without a tree ------------------------------------------------------------ */

/* A JSON text built piece by piece, for the hot paths (a batch's answer, a create's idempotency
 * hash, an event's data) where a jansson tree would cost more than the work itself. Strings are
 * escaped exactly as jansson's compact encoder escapes them, so a text built here is byte for
 * byte json_dumps(..., JSON_COMPACT) of the same values. Start from {0}; once an allocation
 * failed every call is a no-op and item_text_take returns NULL. */
struct item_text {
	char *s;
	size_t len, cap;
	bool oom;
};

void item_text_raw(struct item_text *t, const char *s, size_t n);
/* A literal piece of JSON (punctuation, a key with its quotes); inline so that the length of a
 * literal is known where it is written. */
static inline void item_text_lit(struct item_text *t, const char *s)
{
	item_text_raw(t, s, strlen(s));
}
/* A JSON string of the n bytes of s (valid UTF-8, as jansson holds). */
void item_text_str(struct item_text *t, const char *s, size_t n);
void item_text_int(struct item_text *t, int64_t v);
/* A JSON value held by jansson when it is a string, an integer, true, false or null; returns -1
 * (nothing written) for any other value, which only jansson encodes. */
int item_text_scalar(struct item_text *t, json_t *v);
/* obj (a JSON object whose values are all scalars as above) in its own key order, as
 * json_dumps(obj, JSON_COMPACT) writes it; -1 with t unchanged when a value is not a scalar. */
int item_text_object(struct item_text *t, json_t *obj);
/* item_json_case's object as text, byte for byte json_dumps(item_json_case(...), JSON_COMPACT)
 * (tests/unit/test_item_json.c holds them together), for the answers of single creates. */
void item_text_case(struct item_text *t, const struct config *cfg, struct calendar *cal,
		    const struct case_record *c);
/* The text (NUL-terminated, to free()) and its length; NULL when out of memory. t is emptied. */
char *item_text_take(struct item_text *t, size_t *len);
/* Frees what t holds (a no-op after item_text_take). */
void item_text_free(struct item_text *t);

#endif
