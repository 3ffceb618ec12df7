/* mail: building RFC 5322 alert messages and writing them for the file transport (see mail.h).
 * Implements RFC 5322 (message format, folding), RFC 2045/2046 (MIME, base64, multipart/
 * alternative, canonical CRLF text), RFC 2047 (encoded words, B encoding, UTF-8), RFC 3834
 * (Auto-Submitted).
 *
 * DESIGN. Every input is checked before a byte is written, so an error names the field and no
 * half-built message exists. Headers are written through a small folder that knows the
 * current line length: values are cut into tokens (words between spaces, a mailbox's address,
 * encoded words sized to the room left on the line) and a line is broken before a token that
 * would pass 78 octets. Base64 and hashes come from OpenSSL. The output buffer keeps a sticky
 * failure flag so the writers need not check every append; mail_build checks it once. */
#include "mail.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "utf8.h"

#define LINE_LIMIT 78      /* octets of a header line, CRLF excluded (RFC 5322 2.1.1) */
#define EWORD_MAX 75       /* octets of one encoded word (RFC 2047 2) */
#define EWORD_PREFIX "=?UTF-8?B?"
#define EWORD_OVERHEAD 12  /* "=?UTF-8?B?" and "?=" */
#define EWORD_MIN_RAW 12   /* do not end a line with an encoded word shorter than this */
#define BODY_RAW_LINE 57   /* bytes that make one base64 line of 76 characters */
#define BOUNDARY_PREFIX "=_dunghan_"
#define BOUNDARY_HEX 24
#define FIELD_NAME_MAX 76

/* --- a growable output buffer with a sticky failure flag --- */

struct buf {
	char *p;
	size_t len;
	size_t cap;
	bool failed;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (n >= b->cap - b->len || !b->p) {
		size_t cap = b->cap ? b->cap : 1024;
		char *p;

		while (cap - b->len <= n) {
			if (cap > SIZE_MAX / 2) {
				b->failed = true;
				return;
			}
			cap *= 2;
		}
		p = realloc(b->p, cap);
		if (!p) {
			b->failed = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void buf_free(struct buf *b)
{
	free(b->p);
	*b = (struct buf){0};
}

/* --- checks --- */

/* A header value: no CR, LF or other control character (TAB allowed), valid UTF-8. */
static int check_header_text(const char *s, const char *field, struct err *err)
{
	const unsigned char *p;

	if (!s)
		return err_set(err, field, "%s is missing", field);
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '\r' || *p == '\n')
			return err_set(err, field,
				       "%s contains a line break (CR or LF): header injection refused",
				       field);
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return err_set(err, field, "%s contains control character 0x%02x", field, *p);
	}
	if (!utf8_valid(s, strlen(s)))
		return err_set(err, field, "%s is not valid UTF-8", field);
	return 0;
}

static bool is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* Loose addr-spec: printable ASCII local@domain, one '@', no space, quote or bracket; the
 * domain made of non-empty labels of letters, digits and '-'. */
static int check_address(const char *a, const char *field, struct err *err)
{
	const char *at, *p;
	size_t n, label = 0;

	if (check_header_text(a, field, err) < 0)
		return -1;
	n = strlen(a);
	if (n == 0)
		return err_set(err, field, "%s is empty", field);
	if (n > MAIL_ADDRESS_MAX)
		return err_set(err, field, "%s is longer than %d bytes", field, MAIL_ADDRESS_MAX);
	at = strchr(a, '@');
	if (!at || at == a || strchr(at + 1, '@'))
		return err_set(err, field, "%s \"%s\" is not of the form local@domain", field, a);
	for (p = a; p < at; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= 0x20 || c >= 0x7f || strchr("()<>[]:;@\\,\"", c))
			return err_set(err, field, "%s \"%s\": character '%c' not allowed", field, a,
				       c >= 0x21 && c < 0x7f ? c : '?');
	}
	for (p = at + 1; ; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '.' || c == '\0') {
			if (label == 0)
				return err_set(err, field, "%s \"%s\": empty domain label", field, a);
			if (c == '\0')
				break;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '-') {
			label++;
		} else {
			return err_set(err, field, "%s \"%s\": domain character '%c' not allowed",
				       field, a, c >= 0x21 && c < 0x7f ? c : '?');
		}
	}
	return 0;
}

/* 1..max of [A-Za-z0-9_-] and single inner dots, plus '.' when dots_anywhere (file names,
 * which must still not start with a dot). */
static bool id_valid(const char *s, size_t max, bool dots_anywhere)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > max || s[0] == '.')
		return false;
	if (!dots_anywhere && s[n - 1] == '.')
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (!dots_anywhere && s[i + 1] == '.')
				return false;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}

/* --- hashing --- */

/* SHA-256 of the concatenation of n strings. Returns 0 or -1 (OpenSSL failure). */
static int sha256_strings(const char *const *parts, size_t n, unsigned char out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int outlen = 0;
	int rc = -1;
	size_t i;

	if (!ctx)
		goto fail;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto fail;
	for (i = 0; i < n; i++)
		if (EVP_DigestUpdate(ctx, parts[i], strlen(parts[i])) != 1)
			goto fail;
	if (EVP_DigestFinal_ex(ctx, out, &outlen) != 1 || outlen != 32)
		goto fail;
	rc = 0;
fail:
	EVP_MD_CTX_free(ctx);
	return rc;
}

static void hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* --- header folding --- */

struct fold {
	struct buf *b;
	size_t col;  /* octets on the current line */
	size_t ntok; /* tokens written on the current line after the field name */
};

static void fold_begin(struct fold *f, struct buf *b, const char *name)
{
	f->b = b;
	buf_str(b, name);
	buf_add(b, ":", 1);
	f->col = strlen(name) + 1;
	f->ntok = 0;
}

static void fold_break(struct fold *f)
{
	buf_add(f->b, "\r\n", 2);
	f->col = 0;
	f->ntok = 0;
}

static void fold_end(struct fold *f)
{
	buf_add(f->b, "\r\n", 2);
}

/* Writes " " and the token, first breaking the line when the token would pass the limit
 * here and either shares the line with another token or fits on a line of its own. */
static void fold_token(struct fold *f, const char *s, size_t n)
{
	if (f->col + 1 + n > LINE_LIMIT && (f->ntok > 0 || 1 + n <= LINE_LIMIT) && f->col > 0)
		fold_break(f);
	buf_add(f->b, " ", 1);
	buf_add(f->b, s, n);
	f->col += 1 + n;
	f->ntok++;
}

/* The longest prefix of s[0..n) (valid UTF-8) of at most max bytes ending on a character
 * boundary. */
static size_t utf8_prefix(const char *s, size_t n, size_t max)
{
	size_t i = 0, k;

	while (i < n) {
		k = utf8_seq((const unsigned char *)s + i, n - i);
		if (k == 0 || i + k > max)
			break;
		i += k;
	}
	return i;
}

/* Writes s[0..n) (valid UTF-8) as encoded words, each filling the room left on its line. */
static void fold_encoded(struct fold *f, const char *s, size_t n)
{
	unsigned char word[EWORD_MAX + 1];
	size_t pos = 0;

	while (pos < n) {
		size_t room = f->col + 1 < LINE_LIMIT ? LINE_LIMIT - f->col - 1 : 0;
		size_t maxraw, take;
		int enc;

		if (room > EWORD_MAX)
			room = EWORD_MAX;
		maxraw = room > EWORD_OVERHEAD ? (room - EWORD_OVERHEAD) / 4 * 3 : 0;
		take = utf8_prefix(s + pos, n - pos, maxraw);
		if (f->col > 0 && (take == 0 || (take < n - pos && take < EWORD_MIN_RAW))) {
			fold_break(f);
			continue;
		}
		memcpy(word, EWORD_PREFIX, EWORD_OVERHEAD - 2);
		enc = EVP_EncodeBlock(word + EWORD_OVERHEAD - 2, (const unsigned char *)s + pos,
				      (int)take);
		memcpy(word + EWORD_OVERHEAD - 2 + enc, "?=", 2);
		buf_add(f->b, " ", 1);
		buf_add(f->b, (const char *)word, EWORD_OVERHEAD + (size_t)enc);
		f->col += 1 + EWORD_OVERHEAD + (size_t)enc;
		f->ntok++;
		pos += take;
	}
}

/* Cuts s[0..n) into words at fold points: a space after a non-space with a non-space
 * somewhere after it. Extra spaces stay at the head of the next word, so unfolding gives s
 * back. Calls fn on each word, or only measures when fn is NULL. Returns the longest word. */
static size_t words(const char *s, size_t n, struct fold *f,
		    void (*fn)(struct fold *, const char *, size_t))
{
	size_t last = n, start = 0, longest = 0, i;

	while (last > 0 && s[last - 1] == ' ')
		last--;
	for (i = 1; i <= n; i++) {
		if (i < n && !(s[i] == ' ' && s[i - 1] != ' ' && i + 1 < last))
			continue;
		if (i - start > longest)
			longest = i - start;
		if (fn)
			fn(f, s + start, i - start);
		start = i + 1;
	}
	return longest;
}

static bool has_8bit(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return true;
	return false;
}

/* An unstructured value (Subject, extra headers): readable ASCII folded at spaces, else
 * encoded words. */
static void write_unstructured(struct fold *f, const char *s)
{
	size_t n = strlen(s);

	if (n == 0)
		return;
	if (has_8bit(s, n) || strstr(s, "=?") || words(s, n, NULL, NULL) + 1 > LINE_LIMIT)
		fold_encoded(f, s, n);
	else
		words(s, n, f, fold_token);
}

/* A mailbox: the display name as atoms, a quoted string (kept on one line with the address)
 * or encoded words, then the address token `tail` ("<a@b>" and maybe ","). */
static void write_named(struct fold *f, const char *s, const char *tail, size_t tlen)
{
	size_t n = strlen(s), i, q = 2;
	bool atoms = n > 0 && s[0] != ' ' && s[n - 1] != ' ' && !strstr(s, "  ");
	char quoted[LINE_LIMIT + MAIL_ADDRESS_MAX + 8];

	if (has_8bit(s, n) || strstr(s, "=?")) {
		fold_encoded(f, s, n);
		fold_token(f, tail, tlen);
		return;
	}
	for (i = 0; i < n; i++) {
		if (s[i] != ' ' && !is_atext((unsigned char)s[i]))
			atoms = false;
		q += (s[i] == '"' || s[i] == '\\') ? 2 : 1;
	}
	if (atoms && words(s, n, NULL, NULL) + 1 <= LINE_LIMIT) {
		words(s, n, f, fold_token);
		fold_token(f, tail, tlen);
		return;
	}
	if (q + 1 > LINE_LIMIT) {
		fold_encoded(f, s, n);
		fold_token(f, tail, tlen);
		return;
	}
	q = 0;
	quoted[q++] = '"';
	for (i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			quoted[q++] = '\\';
		quoted[q++] = s[i];
	}
	quoted[q++] = '"';
	if (q + 1 + tlen + 1 <= LINE_LIMIT) {
		quoted[q++] = ' ';
		memcpy(quoted + q, tail, tlen);
		fold_token(f, quoted, q + tlen);
	} else {
		fold_token(f, quoted, q);
		fold_token(f, tail, tlen);
	}
}

static void write_mailbox(struct fold *f, const struct mail_address *a, bool comma)
{
	char tok[MAIL_ADDRESS_MAX + 4];
	int n;

	if (a->name && a->name[0]) {
		n = snprintf(tok, sizeof(tok), "<%s>%s", a->address, comma ? "," : "");
		write_named(f, a->name, tok, (size_t)n);
	} else {
		n = snprintf(tok, sizeof(tok), "%s%s", a->address, comma ? "," : "");
		fold_token(f, tok, (size_t)n);
	}
}

/* --- bodies --- */

/* Appends raw[0..r) as one base64 line. */
static void body_line(struct buf *out, const unsigned char *raw, size_t r)
{
	unsigned char line[80];
	int n = EVP_EncodeBlock(line, raw, (int)r);

	buf_add(out, (const char *)line, (size_t)n);
	buf_add(out, "\r\n", 2);
}

/* Adds one byte to the pending line, writing the line out as soon as it is full, so that a
 * CRLF may straddle two lines without overrunning the buffer. */
static void body_put(struct buf *out, unsigned char *raw, size_t *r, unsigned char c)
{
	raw[(*r)++] = c;
	if (*r == BODY_RAW_LINE) {
		body_line(out, raw, *r);
		*r = 0;
	}
}

/* Appends the base64 of s in canonical text form (every line break CRLF), lines of 76. */
static void body_base64(struct buf *out, const char *s)
{
	unsigned char raw[BODY_RAW_LINE];
	size_t r = 0;

	for (; *s; s++) {
		if (*s == '\r' && s[1] == '\n')
			continue; /* the LF that follows writes the CRLF */
		if (*s == '\r' || *s == '\n') {
			body_put(out, raw, &r, '\r');
			body_put(out, raw, &r, '\n');
		} else {
			body_put(out, raw, &r, (unsigned char)*s);
		}
	}
	if (r > 0)
		body_line(out, raw, r);
}

static int check_body(const char *s, const char *field, struct err *err)
{
	if (!s)
		return err_set(err, field, "%s is missing", field);
	if (!utf8_valid(s, strlen(s)))
		return err_set(err, field, "%s is not valid UTF-8", field);
	return 0;
}

/* --- public --- */

int mail_format_date(int64_t t, int utc_offset, char buf[MAIL_DATE_MAX], struct err *err)
{
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	const int64_t limit = (int64_t)400 * 366 * 86400 * 25; /* ~10000 years */
	int minutes = utc_offset / 60;
	int absmin = minutes < 0 ? -minutes : minutes;
	time_t local;
	struct tm tm;

	buf[0] = '\0';
	if (utc_offset <= -86400 || utc_offset >= 86400)
		return err_set(err, "date", "UTC offset %d s is not less than 24 hours", utc_offset);
	if (t < -limit || t > limit)
		return err_set(err, "date", "instant %lld is out of range", (long long)t);
	local = (time_t)(t + (int64_t)minutes * 60);
	if (!gmtime_r(&local, &tm) || tm.tm_year + 1900 < 1900 || tm.tm_year + 1900 > 9999)
		return err_set(err, "date", "instant %lld is outside the years 1900..9999",
			       (long long)t);
	return snprintf(buf, MAIL_DATE_MAX, "%s, %d %s %04d %02d:%02d:%02d %c%02d%02d",
			days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
			tm.tm_hour, tm.tm_min, tm.tm_sec, minutes < 0 ? '-' : '+', absmin / 60,
			absmin % 60);
}

int mail_message_id(const char *id, const char *salt, const char *from_address,
		    char buf[MAIL_MESSAGE_ID_MAX], struct err *err)
{
	unsigned char digest[32];
	char hash[17];
	char domain[MAIL_ADDRESS_MAX + 1];
	const char *parts[3];
	size_t i;

	buf[0] = '\0';
	if (!id || !id_valid(id, MAIL_ID_MAX, false))
		return err_set(err, "id",
			       "id \"%s\" must be 1..%d of letters, digits, '-', '_' and inner dots",
			       id ? id : "(null)", MAIL_ID_MAX);
	if (check_address(from_address, "from", err) < 0)
		return -1;
	snprintf(domain, sizeof(domain), "%s", strchr(from_address, '@') + 1);
	for (i = 0; domain[i]; i++)
		if (domain[i] >= 'A' && domain[i] <= 'Z')
			domain[i] = (char)(domain[i] - 'A' + 'a');
	parts[0] = salt ? salt : "";
	parts[1] = "\n";
	parts[2] = id;
	if (sha256_strings(parts, 3, digest) < 0)
		return err_set(err, NULL, "SHA-256 failed");
	hex(digest, 8, hash);
	return snprintf(buf, MAIL_MESSAGE_ID_MAX, "<%s.%s@dunghan.%s>", id, hash, domain);
}

int mail_address_parse(const char *s, char **name, char **address, struct err *err)
{
	const char *b, *e, *lt = NULL, *nb, *ne;
	char *n = NULL, *a = NULL;
	size_t i, k = 0;

	*name = NULL;
	*address = NULL;
	if (check_header_text(s, "address", err) < 0)
		return -1;
	for (b = s; *b == ' ' || *b == '\t'; b++)
		;
	for (e = b + strlen(b); e > b && (e[-1] == ' ' || e[-1] == '\t'); e--)
		;
	nb = ne = b;
	if (e > b && e[-1] == '>') {
		for (lt = e - 1; lt > b && *lt != '<'; lt--)
			;
		if (*lt != '<')
			return err_set(err, "address", "address \"%s\": '>' without '<'", s);
		ne = lt;
		while (ne > nb && (ne[-1] == ' ' || ne[-1] == '\t'))
			ne--;
		a = strndup(lt + 1, (size_t)(e - 1 - (lt + 1)));
	} else {
		a = strndup(b, (size_t)(e - b));
	}
	if (!a) {
		err_set(err, NULL, "out of memory");
		goto fail;
	}
	if (check_address(a, "address", err) < 0)
		goto fail;
	if (ne - nb >= 2 && *nb == '"' && ne[-1] == '"') {
		nb++;
		ne--;
		n = malloc((size_t)(ne - nb) + 1);
		if (!n) {
			err_set(err, NULL, "out of memory");
			goto fail;
		}
		for (i = 0; nb + i < ne; i++) {
			if (nb[i] == '\\' && nb + i + 1 < ne)
				i++;
			n[k++] = nb[i];
		}
		n[k] = '\0';
	} else {
		for (i = 0; nb + i < ne; i++)
			if (nb[i] == '<' || nb[i] == '>' || nb[i] == '"') {
				err_set(err, "address", "address \"%s\": '%c' in an unquoted name", s,
					nb[i]);
				goto fail;
			}
		n = strndup(nb, (size_t)(ne - nb));
		if (!n) {
			err_set(err, NULL, "out of memory");
			goto fail;
		}
	}
	*name = n;
	*address = a;
	return 0;
fail:
	free(n);
	free(a);
	return -1;
}

/* Whether a caller's header name is a field name (RFC 5322 ftext) that mail_build does not
 * write itself. */
static int check_field_name(const char *name, const char *field, struct err *err)
{
	static const char *const own[] = {"Date", "From", "To", "Cc", "Bcc", "Subject",
					  "Message-ID", "MIME-Version", "Auto-Submitted"};
	size_t i, n;

	if (!name || !name[0])
		return err_set(err, field, "%s has no name", field);
	n = strlen(name);
	if (n > FIELD_NAME_MAX)
		return err_set(err, field, "%s name is longer than %d bytes", field, FIELD_NAME_MAX);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '\r' || c == '\n')
			return err_set(err, field,
				       "%s name contains a line break: header injection refused",
				       field);
		if (c < 33 || c > 126 || c == ':')
			return err_set(err, field, "%s name \"%s\" is not a header field name", field,
				       name);
	}
	for (i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (strcasecmp(name, own[i]) == 0)
			return err_set(err, field, "%s: %s is written by mail_build", field, name);
	if (strncasecmp(name, "Content-", 8) == 0)
		return err_set(err, field, "%s: %s is written by mail_build", field, name);
	return 0;
}

static int check_mailbox(const struct mail_address *a, const char *field, struct err *err)
{
	char sub[64];

	snprintf(sub, sizeof(sub), "%s.name", field);
	if (a->name && check_header_text(a->name, sub, err) < 0)
		return -1;
	return check_address(a->address, field, err);
}

static int check_message(const struct mail_message *m, struct err *err)
{
	char field[64];
	size_t i;

	if (check_mailbox(&m->from, "from", err) < 0)
		return -1;
	if (m->nto == 0 || !m->to)
		return err_set(err, "to", "no recipient");
	if (m->nto > MAIL_MAX_TO)
		return err_set(err, "to", "%zu recipients, at most %d", m->nto, MAIL_MAX_TO);
	for (i = 0; i < m->nto; i++) {
		snprintf(field, sizeof(field), "to[%zu]", i);
		if (check_mailbox(&m->to[i], field, err) < 0)
			return -1;
	}
	if (check_header_text(m->subject, "subject", err) < 0)
		return -1;
	if (check_body(m->text, "text", err) < 0)
		return -1;
	if (m->html && check_body(m->html, "html", err) < 0)
		return -1;
	if (m->nheaders && !m->headers)
		return err_set(err, "headers", "headers is NULL with nheaders %zu", m->nheaders);
	for (i = 0; i < m->nheaders; i++) {
		snprintf(field, sizeof(field), "headers[%zu]", i);
		if (check_field_name(m->headers[i].name, field, err) < 0 ||
		    check_header_text(m->headers[i].value, field, err) < 0)
			return -1;
	}
	return 0;
}

/* Derives a boundary from the Message-ID that occurs in neither encoded part. */
static int make_boundary(const char *msgid, const struct buf *text, const struct buf *html,
			 char out[sizeof(BOUNDARY_PREFIX) + BOUNDARY_HEX], struct err *err)
{
	unsigned char digest[32];
	char counter[16], digits[65];
	const char *parts[4] = {"boundary", "\n", msgid, counter};
	unsigned k;

	for (k = 0; k < 64; k++) {
		if (k == 0)
			counter[0] = '\0';
		else
			snprintf(counter, sizeof(counter), "\n%u", k);
		if (sha256_strings(parts, 4, digest) < 0)
			return err_set(err, NULL, "SHA-256 failed");
		hex(digest, 32, digits);
		snprintf(out, sizeof(BOUNDARY_PREFIX) + BOUNDARY_HEX, "%s%.*s", BOUNDARY_PREFIX,
			 BOUNDARY_HEX, digits);
		if (!(text->p && memmem(text->p, text->len, out, strlen(out))) &&
		    !(html->p && memmem(html->p, html->len, out, strlen(out))))
			return 0;
	}
	return err_set(err, NULL, "no MIME boundary found outside the parts");
}

static void write_part_headers(struct buf *b, const char *type)
{
	buf_str(b, "Content-Type: ");
	buf_str(b, type);
	buf_str(b, "; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n");
}

int mail_build(const struct mail_message *m, char **out, size_t *len, struct err *err)
{
	struct buf b = {0}, text = {0}, html = {0};
	struct fold f;
	char date[MAIL_DATE_MAX];
	char msgid[MAIL_MESSAGE_ID_MAX];
	char boundary[sizeof(BOUNDARY_PREFIX) + BOUNDARY_HEX];
	size_t i;

	*out = NULL;
	*len = 0;
	if (check_message(m, err) < 0)
		goto fail;
	if (mail_format_date(m->date, m->utc_offset, date, err) < 0)
		goto fail;
	if (mail_message_id(m->id, m->id_salt, m->from.address, msgid, err) < 0)
		goto fail;

	body_base64(&text, m->text);
	if (m->html)
		body_base64(&html, m->html);
	if (text.failed || html.failed) {
		err_set(err, NULL, "out of memory encoding the bodies");
		goto fail;
	}

	fold_begin(&f, &b, "Date");
	fold_token(&f, date, strlen(date));
	fold_end(&f);
	fold_begin(&f, &b, "From");
	write_mailbox(&f, &m->from, false);
	fold_end(&f);
	fold_begin(&f, &b, "To");
	for (i = 0; i < m->nto; i++)
		write_mailbox(&f, &m->to[i], i + 1 < m->nto);
	fold_end(&f);
	fold_begin(&f, &b, "Subject");
	write_unstructured(&f, m->subject);
	fold_end(&f);
	fold_begin(&f, &b, "Message-ID");
	fold_token(&f, msgid, strlen(msgid));
	fold_end(&f);
	buf_str(&b, "Auto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\n");
	for (i = 0; i < m->nheaders; i++) {
		fold_begin(&f, &b, m->headers[i].name);
		write_unstructured(&f, m->headers[i].value);
		fold_end(&f);
	}

	if (!m->html) {
		write_part_headers(&b, "text/plain");
		buf_add(&b, text.p ? text.p : "", text.len);
	} else {
		if (make_boundary(msgid, &text, &html, boundary, err) < 0)
			goto fail;
		buf_str(&b, "Content-Type: multipart/alternative;\r\n boundary=\"");
		buf_str(&b, boundary);
		buf_str(&b, "\"\r\n\r\n--");
		buf_str(&b, boundary);
		buf_str(&b, "\r\n");
		write_part_headers(&b, "text/plain");
		/* The CRLF before a delimiter belongs to it: an empty part still needs one. */
		buf_add(&b, text.len ? text.p : "\r\n", text.len ? text.len : 2);
		buf_str(&b, "--");
		buf_str(&b, boundary);
		buf_str(&b, "\r\n");
		write_part_headers(&b, "text/html");
		buf_add(&b, html.len ? html.p : "\r\n", html.len ? html.len : 2);
		buf_str(&b, "--");
		buf_str(&b, boundary);
		buf_str(&b, "--\r\n");
	}
	if (b.failed) {
		err_set(err, NULL, "out of memory building the message");
		goto fail;
	}
	buf_free(&text);
	buf_free(&html);
	*out = b.p;
	*len = b.len;
	return 0;
fail:
	buf_free(&b);
	buf_free(&text);
	buf_free(&html);
	return -1;
}

int mail_write_file(const char *dir, const char *name, const char *data, size_t len,
		    struct err *err)
{
	char *path = NULL, *tmp = NULL;
	int fd = -1, dfd = -1, rc = -1;
	bool renamed = false;
	size_t off = 0;

	if (!dir || !dir[0])
		return err_set(err, "dir", "no directory given for the message file");
	if (!name || !id_valid(name, MAIL_ID_MAX, true))
		return err_set(err, "name",
			       "file name \"%s\" must be 1..%d of letters, digits, '.', '-', '_', "
			       "not starting with '.'",
			       name ? name : "(null)", MAIL_ID_MAX);
	if (asprintf(&path, "%s/%s.eml", dir, name) < 0) {
		path = NULL;
		err_set(err, NULL, "out of memory");
		goto fail;
	}
	if (asprintf(&tmp, "%s/.%s.eml.XXXXXX", dir, name) < 0) {
		tmp = NULL;
		err_set(err, NULL, "out of memory");
		goto fail;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		err_set(err, NULL, "%s: cannot create: %s", tmp, strerror(errno));
		free(tmp);
		tmp = NULL; /* nothing to remove */
		goto fail;
	}
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			err_set(err, NULL, "%s: write: %s", tmp, strerror(errno));
			goto fail;
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0) {
		err_set(err, NULL, "%s: fsync: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		err_set(err, NULL, "%s: close: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		err_set(err, NULL, "%s: rename to %s: %s", tmp, path, strerror(errno));
		goto fail;
	}
	renamed = true;
	/* The rename is durable only once the directory is. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		err_set(err, NULL, "%s: fsync of the directory: %s", dir, strerror(errno));
		goto fail;
	}
	rc = 0;
fail:
	if (dfd >= 0)
		close(dfd);
	if (fd >= 0)
		close(fd);
	if (tmp && !renamed)
		unlink(tmp);
	free(tmp);
	free(path);
	return rc;
}
