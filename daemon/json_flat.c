/* json_flat: see json_flat.h. The grammar accepted is a strict subset of RFC 8259 in which
 * jansson's reading is unambiguous; the unit test compares both readers on many texts. */
#include "json_flat.h"
#include "utf8.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct reader {
	const unsigned char *p, *end;
};

static void skip_ws(struct reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

/* A string without escapes; *s and *n its bytes between the quotes. */
static bool read_string(struct reader *r, const char **s, size_t *n)
{
	const unsigned char *start;

	if (r->p >= r->end || *r->p != '"')
		return false;
	start = ++r->p;
	while (r->p < r->end && *r->p != '"') {
		unsigned c = *r->p;
		size_t k;
		if (c < 0x20 || c == '\\')
			return false;
		if (c < 0x80) {
			r->p++;
			continue;
		}
		/* utf8.h's rules are jansson's: no overlong form, surrogate, or > U+10FFFF */
		if (!(k = utf8_seq(r->p, (size_t)(r->end - r->p))))
			return false;
		r->p += k;
	}
	if (r->p >= r->end)
		return false;
	*s = (const char *)start;
	*n = (size_t)(r->p - start);
	r->p++;
	return true;
}

static bool read_word(struct reader *r, const char *word, size_t n)
{
	if ((size_t)(r->end - r->p) < n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (r->p[i] != (unsigned char)word[i])
			return false;
	r->p += n;
	return true;
}

/* An integer of at most 18 digits (never out of json_int_t's range), not followed by a
 * fraction or an exponent. */
static bool read_integer(struct reader *r, int64_t *out)
{
	bool neg = false;
	int64_t v = 0;
	size_t digits = 0;

	if (*r->p == '-') {
		neg = true;
		r->p++;
	}
	if (r->p >= r->end || *r->p < '0' || *r->p > '9')
		return false;
	if (*r->p == '0') {
		r->p++; /* a leading zero is the whole number */
	} else {
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
			if (++digits > 18)
				return false;
			v = v * 10 + (*r->p++ - '0');
		}
	}
	if (r->p < r->end && (*r->p == '.' || *r->p == 'e' || *r->p == 'E' ||
			      (*r->p >= '0' && *r->p <= '9')))
		return false;
	*out = neg ? -v : v;
	return true;
}

static json_t *read_value(struct reader *r)
{
	const char *s;
	size_t n;
	int64_t v;

	if (r->p >= r->end)
		return NULL;
	switch (*r->p) {
	case '"':
		return read_string(r, &s, &n) ? json_stringn_nocheck(s, n) : NULL;
	case 't':
		return read_word(r, "true", 4) ? json_true() : NULL;
	case 'f':
		return read_word(r, "false", 5) ? json_false() : NULL;
	case 'n':
		return read_word(r, "null", 4) ? json_null() : NULL;
	default:
		return read_integer(r, &v) ? json_integer(v) : NULL;
	}
}

json_t *json_flat_load(const char *data, size_t len)
{
	struct reader r = { (const unsigned char *)data, (const unsigned char *)data + len };
	json_t *obj, *v;
	const char *key;
	size_t klen;

	skip_ws(&r);
	if (r.p >= r.end || *r.p != '{' || !(obj = json_object()))
		return NULL;
	r.p++;
	skip_ws(&r);
	if (r.p < r.end && *r.p == '}') {
		r.p++;
		goto end;
	}
	for (;;) {
		if (!read_string(&r, &key, &klen))
			goto decline;
		skip_ws(&r);
		if (r.p >= r.end || *r.p++ != ':')
			goto decline;
		skip_ws(&r);
		/* a duplicate is jansson's to refuse, with its message */
		if (json_object_getn(obj, key, klen) || !(v = read_value(&r)))
			goto decline;
		if (json_object_setn_new_nocheck(obj, key, klen, v) != 0)
			goto decline;
		skip_ws(&r);
		if (r.p >= r.end)
			goto decline;
		if (*r.p == '}') {
			r.p++;
			break;
		}
		if (*r.p++ != ',')
			goto decline;
		skip_ws(&r);
	}
end:
	skip_ws(&r);
	if (r.p == r.end)
		return obj;
decline:
	json_decref(obj);
	return NULL;
}

/* Skips a string at r->p (escapes included, not checked further). */
static bool skip_string(struct reader *r)
{
	if (r->p >= r->end || *r->p != '"')
		return false;
	for (r->p++; r->p < r->end; r->p++) {
		if (*r->p == '\\')
			r->p++;
		else if (*r->p == '"')
			break;
	}
	if (r->p >= r->end)
		return false;
	r->p++;
	return true;
}

/* A byte of a number or of true, false, null. */
static bool is_scalar_byte(unsigned char c)
{
	return c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9') ||
	       (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Skips one value at r->p: a string, a nested array or object (by its brackets, strings
 * skipped whole), or a run of the characters of numbers and literals. */
static bool skip_value(struct reader *r)
{
	size_t depth = 0;

	if (r->p >= r->end)
		return false;
	if (*r->p == '"')
		return skip_string(r);
	if (*r->p != '[' && *r->p != '{') {
		const unsigned char *start = r->p;
		while (r->p < r->end && is_scalar_byte(*r->p))
			r->p++;
		return r->p > start;
	}
	while (r->p < r->end) {
		if (*r->p == '"') {
			if (!skip_string(r))
				return false;
			continue;
		}
		if (*r->p == '[' || *r->p == '{')
			depth++;
		else if (*r->p == ']' || *r->p == '}')
			depth--;
		r->p++;
		if (depth == 0)
			return true;
	}
	return false;
}

int json_flat_member_int(const char *text, size_t len, const char *key, int64_t *out)
{
	struct reader r = { (const unsigned char *)text, (const unsigned char *)text + len };
	size_t klen = strlen(key);

	skip_ws(&r);
	if (r.p >= r.end || *r.p++ != '{')
		return -1;
	for (;;) {
		const unsigned char *name;
		bool match;

		skip_ws(&r);
		name = r.p + 1;
		if (!skip_string(&r))
			return -1;
		match = (size_t)(r.p - 1 - name) == klen && memcmp(name, key, klen) == 0;
		skip_ws(&r);
		if (r.p >= r.end || *r.p++ != ':')
			return -1;
		skip_ws(&r);
		if (match) {
			if (r.p >= r.end || !read_integer(&r, out))
				return -1;
			skip_ws(&r);
			return r.p < r.end && (*r.p == ',' || *r.p == '}') ? 0 : -1;
		}
		if (!skip_value(&r))
			return -1;
		skip_ws(&r);
		if (r.p >= r.end || *r.p != ',')
			return -1;
		r.p++;
	}
}
