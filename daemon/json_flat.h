/* json_flat: a fast reader for the JSON the API takes most — one object of plain values (a case
 * to create, an event) — that builds the same jansson object as json_loadb would, without
 * jansson's general lexer. It only accepts what it can read exactly as jansson reads it and
 * declines everything else, so a caller falls back to jansson, which also words the errors. */
#ifndef DUNGHAN_JSON_FLAT_H
#define DUNGHAN_JSON_FLAT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* data[0..len) as json_loadb(data, len, JSON_REJECT_DUPLICATES, ...) reads it, when it is an
 * object whose keys and string values have no escapes or control characters and are valid
 * UTF-8, and whose values are such strings, integers of at most 18 digits, true, false or
 * null. Returns a new reference, or NULL to decline (any other text, valid or not: a duplicate
 * key, a real, an escape, a nested value, bad UTF-8, out of memory). */
json_t *json_flat_load(const char *data, size_t len);

/* The integer value of member `key` of the object that text[0..len) is, found by skipping the
 * other members' values without building them (a batch's counts before its long "results").
 * Returns 0 with *out, or -1 when the text is not an object, has no such member at its top, or
 * the value is not an integer of at most 18 digits: the caller then reads the text in full. */
int json_flat_member_int(const char *text, size_t len, const char *key, int64_t *out);

#endif
