/* fuzz_mime: the e-mail encoders (RFC 2047 headers, base64 bodies, folding) with a round-trip
 * property: for any subject, display name and body mail_build accepts, decoding the message
 * gives back exactly the subject and the body (in canonical CRLF form), and no line is longer
 * than 998 octets. Input: subject NUL text NUL html NUL name. Seeds: corpus/mime/. */
#include "fuzz.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail.h"

static int b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Appends the base64 text s[0..n) decoded to out (skipping CR, LF); -1 on a bad character. */
static int b64_decode(const char *s, size_t n, char *out, size_t *len)
{
	unsigned acc = 0;
	int bits = 0;

	for (size_t i = 0; i < n; i++) {
		int v;
		if (s[i] == '\r' || s[i] == '\n' || s[i] == '=')
			continue;
		if ((v = b64_value((unsigned char)s[i])) < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[(*len)++] = (char)((acc >> bits) & 0xff);
		}
	}
	return 0;
}

static void fail(const char *what, const char *want, const char *got, const char *msg)
{
	fprintf(stderr, "fuzz_mime: %s differs\nwant: [%s]\ngot:  [%s]\nmessage:\n%s\n", what, want,
		got, msg);
	abort();
}

/* The unfolded, decoded value of header name (e.g. "Subject") into out. */
static int header_value(const char *msg, const char *name, char *out)
{
	char key[64];
	const char *p, *end;
	size_t n = 0, vlen = 0;
	char *value;

	snprintf(key, sizeof(key), "\r\n%s:", name);
	if (!(p = strstr(msg, key)))
		return -1;
	p += strlen(key);
	for (end = p; !(end[0] == '\r' && end[1] == '\n' && end[2] != ' ' && end[2] != '\t'); end++)
		;
	value = malloc((size_t)(end - p) + 1);
	for (const char *q = p; q < end; q++) { /* unfold: drop CRLF before a space */
		if (q[0] == '\r' && q[1] == '\n')
			q++;
		else
			value[vlen++] = *q;
	}
	value[vlen] = '\0';
	/* The one space after the colon separates (it may stand after a fold); absent when the
	 * value is empty. */
	if (value[0] == ' ')
		memmove(value, value + 1, vlen--);
	if (strncmp(value, "=?UTF-8?B?", 10) != 0) {
		memcpy(out, value, vlen + 1);
		free(value);
		return 0;
	}
	for (char *tok = strtok(value, " \t"); tok; tok = strtok(NULL, " \t")) {
		size_t tl = strlen(tok);
		if (strncmp(tok, "=?UTF-8?B?", 10) != 0 || tl < 12 || strcmp(tok + tl - 2, "?=") != 0 ||
		    tl > 75 || b64_decode(tok + 10, tl - 12, out, &n) != 0) {
			fprintf(stderr, "fuzz_mime: bad encoded word [%s]\n", tok);
			abort();
		}
	}
	out[n] = '\0';
	free(value);
	return 0;
}

/* text with every line break (LF, CR, CRLF) as CRLF. */
static char *canonical(const char *text)
{
	char *out = malloc(strlen(text) * 2 + 1), *o = out;

	for (const char *p = text; *p; p++) {
		if (*p == '\r' || *p == '\n') {
			if (*p == '\r' && p[1] == '\n')
				p++;
			*o++ = '\r';
			*o++ = '\n';
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const char *parts[4] = { "", "", NULL, NULL };
	struct mail_address to = { "Người nhận", "nguoi.nhan@example.gov.vn" };
	char *buf, *msg = NULL, *decoded, *body, *want;
	size_t mlen, k = 0, n = 0;
	struct err err;

	if (len > 16 * 1024 || !(buf = malloc(len + 1)))
		return 0;
	memcpy(buf, data, len);
	buf[len] = '\0';
	parts[0] = buf;
	for (size_t i = 0; i < len && k < 3; i++)
		if (buf[i] == '\0')
			parts[++k] = buf + i + 1;
	struct mail_message m = {
		.from = { parts[3] ? parts[3] : "Đúng Hạn", "dunghan@example.gov.vn" },
		.to = &to, .nto = 1, .subject = parts[0], .text = parts[1] ? parts[1] : "",
		.html = parts[2], .date = 1708311600, .utc_offset = 7 * 3600, .id = "outbox-1",
	};
	if (mail_build(&m, &msg, &mlen, &err) != 0) {
		free(buf);
		return 0;
	}
	for (const char *line = msg; *line;) {
		const char *eol = strstr(line, "\r\n");
		if (!eol || eol - line > 998) {
			fprintf(stderr, "fuzz_mime: a line is too long or does not end in CRLF\n%s\n", msg);
			abort();
		}
		line = eol + 2;
	}
	decoded = malloc(mlen + 1);
	if (header_value(msg, "Subject", decoded) != 0)
		fail("Subject header", m.subject, "(none)", msg);
	if (strcmp(decoded, m.subject) != 0)
		fail("Subject", m.subject, decoded, msg);
	/* The text/plain part: its headers, a blank line, base64 up to the next blank line. */
	body = strstr(msg, "\r\n\r\n"); /* past the message's own header */
	body = body ? strstr(body, "Content-Type: text/plain") : NULL;
	if (!body && strstr(msg, "\r\nContent-Type: text/plain"))
		body = strstr(msg, "\r\nContent-Type: text/plain"); /* a single-part message */
	body = body ? strstr(body, "\r\n\r\n") : NULL;
	if (!body)
		fail("text part", "present", "absent", msg);
	body += 4;
	const char *end = strstr(body, "\r\n\r\n");
	const char *dash = strstr(body, "\r\n--");
	if (!end || (dash && dash < end))
		end = dash ? dash : body + strlen(body);
	if (b64_decode(body, (size_t)(end - body), decoded, &n) != 0)
		fail("text encoding", "base64", "something else", msg);
	decoded[n] = '\0';
	want = canonical(m.text);
	if (n != strlen(want) || memcmp(decoded, want, n) != 0)
		fail("text body", want, decoded, msg);
	free(want);
	free(decoded);
	free(msg);
	free(buf);
	return 0;
}
