/* json_flat: see json_flat.h. The grammar accepted is a strict subset of RFC 8259 in which
 * jansson's reading is unambiguous; the unit test compares both readers on many texts. */
#include "json_flat.h"

#include <stdbool.h>
#include <stdint.h>

struct reader {
	const unsigned char *p, *end;
};

static void skip_ws(struct reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

/* Length of the valid UTF-8 sequence at p (first byte >= 0x80), or 0: overlong forms,
 * surrogates and code points above U+10FFFF are invalid, as for jansson. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	size_t n;
	uint32_t cp;

	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		cp = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
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
		if (!(k = utf8_seq(r->p, r->end)))
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
static json_t *read_integer(struct reader *r)
{
	bool neg = false;
	int64_t v = 0;
	size_t digits = 0;

	if (*r->p == '-') {
		neg = true;
		r->p++;
	}
	if (r->p >= r->end || *r->p < '0' || *r->p > '9')
		return NULL;
	if (*r->p == '0') {
		r->p++;
		digits = 1;
	} else {
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
			if (++digits > 18)
				return NULL;
			v = v * 10 + (*r->p++ - '0');
		}
	}
	if (r->p < r->end && (*r->p == '.' || *r->p == 'e' || *r->p == 'E' ||
			      (*r->p >= '0' && *r->p <= '9')))
		return NULL;
	return json_integer(neg ? -v : v);
}

static json_t *read_value(struct reader *r)
{
	const char *s;
	size_t n;

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
		return read_integer(r);
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
