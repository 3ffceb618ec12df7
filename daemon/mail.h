/* mail: builds the bytes of one alert e-mail (RFC 5322 message, MIME RFC 2045-2047 and 2049)
 * and writes it for the file transport. No I/O in mail_build; mail_write_file blocks (write,
 * fsync, rename) and belongs on a worker thread, not the loop thread.
 *
 * What a built message looks like (every line ends in CRLF, none longer than 78 octets for
 * ordinary input — see "Folding"):
 *   Date: Mon, 19 Feb 2024 10:00:00 +0700
 *   From: =?UTF-8?B?xJDDum5nIEjhuqFu?= <dunghan@example.gov.vn>
 *   To: =?UTF-8?B?TMOqIFRo4buLIELDrG5o?= <binh@example.gov.vn>
 *   Subject: =?UTF-8?B?...?=
 *    =?UTF-8?B?...?=
 *   Message-ID: <outbox-1234.737498de38cda5ba@dunghan.example.gov.vn>
 *   Auto-Submitted: auto-generated            (RFC 3834: no vacation replies to alerts)
 *   MIME-Version: 1.0
 *   <extra headers, in the caller's order>
 *   Content-Type: multipart/alternative;
 *    boundary="=_dunghan_<24 hex>"
 *   (blank line, then a text/plain and a text/html part, both charset=UTF-8 and base64 in
 *   lines of 76; without html the message is one text/plain part, no multipart)
 *
 * Headers. Display names and unstructured values (Subject, extra headers) that are not plain
 * ASCII become RFC 2047 encoded words "=?UTF-8?B?...?=", each at most 75 octets and cut only
 * on UTF-8 character boundaries, one or more per line. ASCII values stay readable and are
 * folded at spaces; an ASCII value holding "=?" or a run of more than 77 characters without a
 * space is encoded as well, so it neither reads as an encoded word nor breaks the line limit.
 * ASCII display names are written as atoms or as a quoted string when they hold specials.
 * Folding: a header is broken before a space (RFC 5322 3.2.2), continuation lines start with
 * one space. Only an address or Message-ID longer than ~76 octets, which cannot be broken,
 * makes a longer line (still far below the 998 limit).
 *
 * Message-ID: "<ID.HASH@dunghan.DOMAIN>", ID the caller's stable id (e.g. "outbox-1234"),
 * HASH the first 8 bytes in lower-case hex of SHA-256(salt "\n" ID) (salt "" when NULL),
 * DOMAIN the domain of the From address in lower case. The same (id, salt, from) always gives
 * the same Message-ID, so a retried send is recognised as a repeat by receivers; a per-
 * installation salt keeps a fresh database's "outbox-1" from repeating an old one.
 *
 * Boundary: "=_dunghan_" + 24 hex digits of SHA-256("boundary" "\n" Message-ID [counter]).
 * "=_" never occurs in base64 text; the boundary is still checked against the encoded parts
 * and re-derived with a counter if found.
 *
 * Bodies are converted to canonical text form before encoding (RFC 2046 4.1.1): every line
 * break (LF, CR or CRLF) becomes CRLF, so a body written with CRLF decodes to exactly itself.
 * Every string is NUL-terminated UTF-8; invalid UTF-8, CR, LF or another control character
 * (TAB excepted) in a header value is refused with err.field naming the field. */
#ifndef DUNGHAN_MAIL_H
#define DUNGHAN_MAIL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define MAIL_DATE_MAX 40        /* "Mon, 19 Feb 2024 10:00:00 +0700" and NUL */
#define MAIL_ID_MAX 64          /* bytes of the caller's stable id */
#define MAIL_ADDRESS_MAX 254    /* bytes of local@domain (RFC 5321 path limit) */
#define MAIL_MESSAGE_ID_MAX 352 /* "<" id "." 16 hex "@dunghan." domain ">" and NUL */
#define MAIL_MAX_TO 100         /* recipients of one message */

/* A mailbox: display name and address. Both borrowed. */
struct mail_address {
	const char *name;    /* UTF-8 display name; NULL or "" = address only */
	const char *address; /* local@domain: printable ASCII, one '@', no space, <>()[],;:"\ */
};

/* An extra header field. Both borrowed. */
struct mail_header {
	const char *name;  /* printable ASCII without ':'; not one of the fields mail_build
	                    * writes itself (Date, From, To, Subject, Message-ID, ...) */
	const char *value; /* unstructured UTF-8 text, encoded and folded as Subject */
};

/* Everything one message is made of. Nothing is kept after mail_build returns. */
struct mail_message {
	struct mail_address from;
	const struct mail_address *to; /* 1..MAIL_MAX_TO recipients */
	size_t nto;
	const char *subject;           /* UTF-8, may be "" but not NULL */
	const char *text;              /* the text/plain body, UTF-8, not NULL */
	const char *html;              /* the text/html body, UTF-8; NULL = text/plain only */
	int64_t date;                  /* UTC Unix seconds */
	int utc_offset;                /* seconds east of UTC (calendar_utc_offset), |x| < 24 h */
	const char *id;                /* stable id, 1..MAIL_ID_MAX of [A-Za-z0-9_-] and
	                                * inner single dots, e.g. "outbox-1234" */
	const char *id_salt;           /* mixed into the Message-ID hash; NULL = "" */
	const struct mail_header *headers; /* extra fields, written in order; may be NULL */
	size_t nheaders;
};

/* Builds the whole message (CRLF line ends) into a new malloc'd buffer, NUL-terminated for
 * convenience: *out (caller frees) and *len (bytes, without the NUL). Both cleared at entry
 * and left NULL/0 on failure. Returns 0, or -1 with err filled: field "from", "from.name",
 * "to[i]", "to[i].name", "subject", "text", "html", "id", "date", "headers[i]" for a bad
 * value (CR/LF/control, bad UTF-8, bad address or id), "" for no memory. */
int mail_build(const struct mail_message *m, char **out, size_t *len, struct err *err);

/* Splits "Đúng Hạn <dunghan@example.gov.vn>", "\"Name, Q\" <a@b.c>" or a bare "a@b.c" into a
 * display name (without quotes; "" when none) and an address, both new malloc'd strings the
 * caller frees. Both NULL on failure. Returns 0, or -1 with err filled (field "address"). */
int mail_address_parse(const char *s, char **name, char **address, struct err *err);

/* Writes t as an RFC 5322 date-time in the zone utc_offset seconds east of UTC (truncated to
 * whole minutes), e.g. "Mon, 19 Feb 2024 10:00:00 +0700", into buf (MAIL_DATE_MAX bytes).
 * Returns the length, or -1 with err filled (field "date") when the offset is 24 h or more or
 * the local year is outside 1900..9999. */
int mail_format_date(int64_t t, int utc_offset, char buf[MAIL_DATE_MAX], struct err *err);

/* Writes the Message-ID of mail_build, angle brackets included, into buf (MAIL_MESSAGE_ID_MAX
 * bytes). Returns the length, or -1 with err filled (field "id" or "from") on a bad id or
 * address. */
int mail_message_id(const char *id, const char *salt, const char *from_address,
		    char buf[MAIL_MESSAGE_ID_MAX], struct err *err);

/* Writes data[0..len) as <dir>/<name>.eml atomically: a temporary ".<name>.eml.XXXXXX" (mode
 * 0600) in dir, written, fsync'd, renamed over any older <name>.eml, then dir fsync'd. name is
 * 1..MAIL_ID_MAX of [A-Za-z0-9._-], not starting with '.'. Blocks. Returns 0, or -1 with err
 * filled naming the path (field "name" for a bad name, "dir" for none); no temporary is left
 * on failure. */
int mail_write_file(const char *dir, const char *name, const char *data, size_t len,
		    struct err *err);

#endif
