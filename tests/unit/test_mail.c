/* Tests of mail: the exact header lines of Vietnamese and ASCII messages (RFC 2047 encoded
 * words, folding at 78 octets), Date and Message-ID, the multipart/alternative layout and its
 * base64 bodies, refusals (header injection, bad addresses, ids, UTF-8), and the atomic file
 * writer. Encoded words and bodies are decoded here with OpenSSL and compared with the input.
 * Expected base64 was checked by hand with coreutils base64 and the Message-ID hash with
 * `printf '\noutbox-1234' | sha256sum`. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "mail.h"

#define SUBJECT_BEFORE "[Sắp đến hạn] Hồ sơ 000.00.21.H19-240222-0001 còn 1 ngày làm việc"
#define SUBJECT_DOCUMENT                                                                      \
	"[Văn bản sắp đến hạn] 506/SNV-TT — V/v khẩn trương triển khai các nhiệm vụ cải cách " \
	"hành chính năm 2024"
#define T_20240219_1000 1708311600 /* 2024-02-19T10:00:00+07:00 */
#define ICT 25200
#define PART_TEXT \
	"Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
#define PART_HTML \
	"Content-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"

/* --- helpers --- */

/* A plain message to start from: one named recipient, text only. */
static struct mail_message message(const struct mail_address *to, size_t nto)
{
	struct mail_message m = {
		.from = {"Đúng Hạn", "dunghan@example.gov.vn"},
		.to = to,
		.nto = nto,
		.subject = SUBJECT_BEFORE,
		.text = "Kính gửi: Bà Lê Thị Bình,\r\n",
		.html = NULL,
		.date = T_20240219_1000,
		.utc_offset = ICT,
		.id = "outbox-1234",
	};
	return m;
}

static char *build(const struct mail_message *m, size_t *len)
{
	struct err err;
	char *out = (char *)1;
	size_t n = 1;

	err_clear(&err);
	cr_assert_eq(mail_build(m, &out, &n, &err), 0, "%s: %s", err.field, err.msg);
	cr_assert_not_null(out);
	cr_assert_eq(strlen(out), n);
	if (len)
		*len = n;
	return out;
}

/* Builds m, expecting a refusal naming field. */
static void refused(const struct mail_message *m, const char *field, const char *msg_part)
{
	struct err err;
	char *out = (char *)1;
	size_t n = 1;

	err_clear(&err);
	cr_assert_eq(mail_build(m, &out, &n, &err), -1, "expected a refusal for %s", field);
	cr_assert_null(out);
	cr_assert_eq(n, 0);
	cr_assert_str_eq(err.field, field, "field %s, message %s", err.field, err.msg);
	if (msg_part)
		cr_assert(strstr(err.msg, msg_part), "message: %s", err.msg);
}

/* The header block (headers up to the blank line), or NULL without one. */
static char *head(const char *msg)
{
	const char *end = strstr(msg, "\r\n\r\n");

	cr_assert_not_null(end);
	return strndup(msg, (size_t)(end - msg) + 2);
}

/* The folded field `name` (first line to the last continuation line, CRLFs inside, none at
 * the end), a new string. */
static char *field(const char *msg, const char *name)
{
	char *h = head(msg), *p = h, *out = NULL;
	size_t n = strlen(name);

	while (*p) {
		char *eol = strstr(p, "\r\n");

		if (strncmp(p, name, n) == 0 && p[n] == ':') {
			char *q = eol;

			while (q[2] == ' ' || q[2] == '\t')
				q = strstr(q + 2, "\r\n");
			out = strndup(p, (size_t)(q - p));
			break;
		}
		p = eol + 2;
	}
	free(h);
	cr_assert_not_null(out, "no %s field", name);
	return out;
}

/* Every line ends in CRLF (no bare CR or LF); header lines at most 78 octets, continuation
 * lines start with a space; body lines at most 78 (base64 lines are 76). */
static void check_lines(const char *msg, size_t len)
{
	size_t i = 0, line = 0, lines = 0;
	bool in_head = true;

	cr_assert(len >= 2 && msg[len - 2] == '\r' && msg[len - 1] == '\n');
	while (i < len) {
		const char *eol = memchr(msg + i, '\r', len - i);
		size_t n;

		cr_assert_not_null(eol);
		cr_assert_eq(eol[1], '\n', "bare CR at %zu", (size_t)(eol - msg));
		n = (size_t)(eol - (msg + i));
		cr_assert_null(memchr(msg + i, '\n', n), "bare LF in line %zu", line);
		cr_assert_leq(n, 78, "line %zu has %zu octets: %.*s", line, n, (int)n, msg + i);
		if (in_head && n == 0)
			in_head = false;
		if (in_head && lines > 0 && (msg[i] == ' ' || msg[i] == '\t')) {
			size_t j = 0;

			while (j < n && (msg[i + j] == ' ' || msg[i + j] == '\t'))
				j++;
			cr_assert_lt(j, n, "line %zu is only white space", line);
		}
		i += n + 2;
		line++;
		lines++;
	}
}

/* Decodes base64 (CRLFs ignored) with OpenSSL; returns a new NUL-terminated buffer. */
static char *b64_decode(const char *s, size_t n, size_t *outlen)
{
	char *clean = malloc(n + 1);
	unsigned char *out;
	size_t k = 0, i;
	int r;

	cr_assert_not_null(clean);
	for (i = 0; i < n; i++)
		if (s[i] != '\r' && s[i] != '\n')
			clean[k++] = s[i];
	cr_assert_eq(k % 4, 0, "base64 of %zu characters", k);
	out = malloc(k / 4 * 3 + 1);
	cr_assert_not_null(out);
	r = EVP_DecodeBlock(out, (const unsigned char *)clean, (int)k);
	cr_assert_geq(r, 0, "bad base64: %.*s", (int)k, clean);
	if (k >= 1 && clean[k - 1] == '=')
		r--;
	if (k >= 2 && clean[k - 2] == '=')
		r--;
	out[r] = '\0';
	free(clean);
	if (outlen)
		*outlen = (size_t)r;
	return (char *)out;
}

static bool utf8_whole(const char *s, size_t n)
{
	size_t i = 0, k, j;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		k = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
		if (k == 0 || i + k > n)
			return false;
		for (j = 1; j < k; j++)
			if (((unsigned char)s[i + j] & 0xc0) != 0x80)
				return false;
		i += k;
	}
	return true;
}

/* Decodes a folded value made only of encoded words (after "Name:"), checking each word:
 * at most 75 octets, "=?UTF-8?B?...?=", whole UTF-8 characters. Returns the text. */
static char *decode_words(const char *folded)
{
	const char *p = strchr(folded, ':') + 1;
	char *text = calloc(1, strlen(folded) + 1);
	size_t tlen = 0;

	cr_assert_not_null(text);
	for (;;) {
		const char *end;
		char *raw;
		size_t n, rawlen;

		while (*p == ' ' || *p == '\r' || *p == '\n')
			p++;
		if (!*p)
			break;
		end = p;
		while (*end && *end != ' ' && *end != '\r')
			end++;
		n = (size_t)(end - p);
		cr_assert_leq(n, 75, "encoded word of %zu octets: %.*s", n, (int)n, p);
		cr_assert(n > 12 && strncmp(p, "=?UTF-8?B?", 10) == 0 && strncmp(end - 2, "?=", 2) == 0,
			  "not an encoded word: %.*s", (int)n, p);
		raw = b64_decode(p + 10, n - 12, &rawlen);
		cr_assert(utf8_whole(raw, rawlen), "word splits a character: %.*s", (int)n, p);
		memcpy(text + tlen, raw, rawlen);
		tlen += rawlen;
		free(raw);
		p = end;
	}
	text[tlen] = '\0';
	return text;
}

/* Unfolds a field value (CRLF before white space removed), after "Name: ". */
static char *unfold(const char *folded)
{
	const char *p = strchr(folded, ':') + 1;
	char *out = calloc(1, strlen(folded) + 1);
	size_t k = 0;

	cr_assert_not_null(out);
	if (*p == ' ')
		p++;
	for (; *p; p++) {
		if (p[0] == '\r' && p[1] == '\n')
			p += 1;
		else
			out[k++] = *p;
	}
	return out;
}

/* --- Subject --- */

Test(mail, vietnamese_subject_exact_and_round_trip)
{
	struct mail_address to[] = {{"Lê Thị Bình", "binh@example.gov.vn"}};
	struct mail_message m = message(to, 1);
	size_t len;
	char *msg = build(&m, &len);
	char *subject = field(msg, "Subject");
	char *text = decode_words(subject);

	cr_assert_str_eq(subject,
			 "Subject: =?UTF-8?B?W1Phuq9wIMSR4bq/biBo4bqhbl0gSOG7kyBzxqEgMDAwLjAwLjIxLkgx?=\r\n"
			 " =?UTF-8?B?OS0yNDAyMjItMDAwMSBjw7JuIDEgbmfDoHkgbMOgbSB2aeG7h2M=?=");
	cr_assert_str_eq(text, SUBJECT_BEFORE);
	check_lines(msg, len);
	free(text);
	free(subject);
	free(msg);
}

Test(mail, long_vietnamese_subject_folds_on_character_boundaries)
{
	struct mail_address to[] = {{NULL, "binh@example.gov.vn"}};
	struct mail_message m = message(to, 1);
	size_t len;
	char *msg, *subject, *text;

	m.subject = SUBJECT_DOCUMENT;
	msg = build(&m, &len);
	subject = field(msg, "Subject");
	text = decode_words(subject);
	cr_assert_str_eq(subject,
			 "Subject: =?UTF-8?B?W1bEg24gYuG6o24gc+G6r3AgxJHhur9uIGjhuqFuXSA1MDYvU05WLVRU?=\r\n"
			 " =?UTF-8?B?IOKAlCBWL3Yga2jhuqluIHRyxrDGoW5nIHRyaeG7g24ga2hhaSBjw6FjIG5o?=\r\n"
			 " =?UTF-8?B?aeG7h20gduG7pSBj4bqjaSBjw6FjaCBow6BuaCBjaMOtbmggbsSDbSAyMDI0?=");
	cr_assert_str_eq(text, SUBJECT_DOCUMENT);
	check_lines(msg, len);
	free(text);
	free(subject);
	free(msg);
}

Test(mail, every_subject_length_round_trips)
{
	/* Cutting a subject of 3-byte and 2-byte characters at every length exercises every
	 * position of a character against the end of an encoded word. */
	static const char base[] = "Tổng hợp 19/02/2024 Phòng Hành chính - Tổ chức: 3 hồ sơ sắp "
				   "đến hạn, 1 hồ sơ quá hạn; 😀 cần xử lý ngay trong ngày hôm nay";
	struct mail_address to[] = {{NULL, "a@example.gov.vn"}};
	struct mail_message m = message(to, 1);
	char subj[sizeof(base)];
	size_t n = 0;

	while (n < sizeof(base) - 1) {
		size_t len;
		char *msg, *subject, *text;

		n++;
		while (n < sizeof(base) - 1 && ((unsigned char)base[n] & 0xc0) == 0x80)
			n++;
		memcpy(subj, base, n);
		subj[n] = '\0';
		m.subject = subj;
		msg = build(&m, &len);
		check_lines(msg, len);
		subject = field(msg, "Subject");
		/* only "T" is ASCII and stays readable */
		text = n > 1 ? decode_words(subject) : unfold(subject);
		cr_assert_str_eq(text, subj);
		free(text);
		free(subject);
		free(msg);
	}
}

Test(mail, short_ascii_subject_is_left_readable)
{
	struct mail_address to[] = {{NULL, "a@example.gov.vn"}};
	struct mail_message m = message(to, 1);
	char *msg, *subject;

	m.subject = "[Overdue] Case 000.00.21.H19-240222-0001 is 2 working hours overdue";
	msg = build(&m, NULL);
	subject = field(msg, "Subject");
	cr_assert_str_eq(subject,
			 "Subject: [Overdue] Case 000.00.21.H19-240222-0001 is 2 working hours overdue");
	free(subject);
	free(msg);
}

Test(mail, long_ascii_subject_folds_at_spaces)
{
	static const char s[] = "Overdue: case 000.00.21.H19-240222-0001 is 2 working hours overdue, "
				"please act now before the end of the working day today";
	struct mail_address to[] = {{NULL, "a@example.gov.vn"}};
	struct mail_message m = message(to, 1);
	size_t len;
	char *msg, *subject, *text;

	m.subject = s;
	msg = build(&m, &len);
	subject = field(msg, "Subject");
	cr_assert_str_eq(subject,
			 "Subject: Overdue: case 000.00.21.H19-240222-0001 is 2 working hours overdue,\r\n"
			 " please act now before the end of the working day today");
	text = unfold(subject);
	cr_assert_str_eq(text, s);
	check_lines(msg, len);
	free(text);
	free(subject);
	free(msg);
}

Test(mail, ascii_subject_keeps_double_spaces_when_unfolded)
{
	static const char s[] = "Weekly report  08/2024: the handling of cases by the Department of "
				"Justice  and  the Home Affairs office";
	struct mail_address to[] = {{NULL, "a@example.gov.vn"}};
	struct mail_message m = message(to, 1);
	size_t len;
	char *msg, *subject, *text;

	m.subject = s;
	msg = build(&m, &len);
	subject = field(msg, "Subject");
	cr_assert(strstr(subject, "\r\n "), "not folded: %s", subject);
	text = unfold(subject);
	cr_assert_str_eq(text, s);
	check_lines(msg, len);
	free(text);
	free(subject);
	free(msg);
}

Test(mail, ascii_subject_that_cannot_fold_or_looks_encoded_is_encoded)
{
	static const char url[] = "https://dunghan.example.gov.vn/cases/000.00.21.H19-240222-0001/"
				  "alerts/12345?x=1";
	struct mail_address to[] = {{NULL, "a@example.gov.vn"}};
	struct mail_message m = message(to, 1);
	size_t len;
	char *msg, *subject, *text;

	m.subject = "a =?b?= c";
	msg = build(&m, NULL);
	subject = field(msg, "Subject");
	cr_assert_str_eq(subject, "Subject: =?UTF-8?B?YSA9P2I/PSBj?=");
	free(subject);
	free(msg);

	m.subject = url;
	msg = build(&m, &len);
	subject = field(msg, "Subject");
	text = decode_words(subject);
	cr_assert_str_eq(text, url);
	check_lines(msg, len);
	free(text);
	free(subject);
	free(msg);
}

Test(mail, empty_subject)
{
	struct mail_address to[] = {{NULL, "a@example.gov.vn"}};
	struct mail_message m = message(to, 1);
	char *msg, *subject;

	m.subject = "";
	msg = build(&m, NULL);
	subject = field(msg, "Subject");
	cr_assert_str_eq(subject, "Subject:");
	free(subject);
	free(msg);
}

/* --- addresses --- */

Test(mail, vietnamese_display_names_are_encoded)
{
	struct mail_address to[] = {{"Lê Thị Bình", "binh@example.gov.vn"}};
	struct mail_message m = message(to, 1);
	char *msg = build(&m, NULL);
	char *from = field(msg, "From"), *rcpt = field(msg, "To");

	cr_assert_str_eq(from, "From: =?UTF-8?B?xJDDum5nIEjhuqFu?= <dunghan@example.gov.vn>");
	cr_assert_str_eq(rcpt, "To: =?UTF-8?B?TMOqIFRo4buLIELDrG5o?= <binh@example.gov.vn>");
	free(from);
	free(rcpt);
	free(msg);
}

Test(mail, several_recipients_fold_between_mailboxes)
{
	struct mail_address to[] = {
		{"Lê Thị Bình", "binh@example.gov.vn"},
		{"Nguyễn Văn Trưởng Phòng Hành chính - Tổ chức Sở Nội vụ", "truongphong@example.gov.vn"},
		{"Tran Van C", "c@example.gov.vn"},
		{"Pham, D \"Q\"", "d@example.gov.vn"},
		{NULL, "e@example.gov.vn"},
		{"", "f@example.gov.vn"},
	};
	struct mail_message m = message(to, 6);
	size_t len;
	char *msg = build(&m, &len);
	char *rcpt = field(msg, "To");

	cr_assert_str_eq(rcpt,
			 "To: =?UTF-8?B?TMOqIFRo4buLIELDrG5o?= <binh@example.gov.vn>,\r\n"
			 " =?UTF-8?B?Tmd1eeG7hW4gVsSDbiBUcsaw4bufbmcgUGjDsm5nIEjDoG5oIGNow61uaCAt?=\r\n"
			 " =?UTF-8?B?IFThu5UgY2jhu6ljIFPhu58gTuG7mWkgduG7pQ==?=\r\n"
			 " <truongphong@example.gov.vn>, Tran Van C <c@example.gov.vn>,\r\n"
			 " \"Pham, D \\\"Q\\\"\" <d@example.gov.vn>, e@example.gov.vn, f@example.gov.vn");
	check_lines(msg, len);
	free(rcpt);
	free(msg);
}

Test(mail, address_parse)
{
	struct err err;
	char *name, *addr;

	cr_assert_eq(mail_address_parse("Đúng Hạn <dunghan@example.gov.vn>", &name, &addr, &err), 0,
		     "%s", err.msg);
	cr_assert_str_eq(name, "Đúng Hạn");
	cr_assert_str_eq(addr, "dunghan@example.gov.vn");
	free(name);
	free(addr);

	cr_assert_eq(mail_address_parse("  \"Pham, D \\\"Q\\\"\"   <d@example.gov.vn> ", &name, &addr,
					&err), 0, "%s", err.msg);
	cr_assert_str_eq(name, "Pham, D \"Q\"");
	cr_assert_str_eq(addr, "d@example.gov.vn");
	free(name);
	free(addr);

	cr_assert_eq(mail_address_parse("dunghan@example.gov.vn", &name, &addr, &err), 0, "%s",
		     err.msg);
	cr_assert_str_eq(name, "");
	cr_assert_str_eq(addr, "dunghan@example.gov.vn");
	free(name);
	free(addr);

	cr_assert_eq(mail_address_parse("<dunghan@example.gov.vn>", &name, &addr, &err), 0, "%s",
		     err.msg);
	cr_assert_str_eq(name, "");
	cr_assert_str_eq(addr, "dunghan@example.gov.vn");
	free(name);
	free(addr);
}

Test(mail, address_parse_refusals)
{
	static const char *const bad[] = {
		"",
		"Đúng Hạn",
		"Đúng Hạn <>",
		"Đúng Hạn dunghan@example.gov.vn>",
		"Đúng Hạn <dung han@example.gov.vn>",
		"Đúng Hạn <dunghan@example.gov.vn",
		"<a<b@example.gov.vn>",
		"A \"B\" <b@example.gov.vn>",
		"a@@example.gov.vn",
		"a@b@example.gov.vn",
		"a@example..gov.vn",
		"a@example.gov.vn.",
		"a@exa_mple.gov.vn",
		"Đúng Hạn <dunghan@example.gov.vn>\r\nBcc: x@y.z",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct err err;
		char *name = (char *)1, *addr = (char *)1;

		err_clear(&err);
		cr_assert_eq(mail_address_parse(bad[i], &name, &addr, &err), -1, "accepted %s", bad[i]);
		cr_assert_null(name);
		cr_assert_null(addr);
		cr_assert_str_eq(err.field, "address", "%s", bad[i]);
		cr_assert_neq(err.msg[0], '\0');
	}
}

/* --- Date and Message-ID --- */

Test(mail, date_format)
{
	char buf[MAIL_DATE_MAX];
	struct err err;

	cr_assert_eq(mail_format_date(T_20240219_1000, ICT, buf, &err), 31);
	cr_assert_str_eq(buf, "Mon, 19 Feb 2024 10:00:00 +0700");
	mail_format_date(1795874656, ICT, buf, &err);
	cr_assert_str_eq(buf, "Sat, 28 Nov 2026 21:04:16 +0700");
	mail_format_date(1795874656, 0, buf, &err);
	cr_assert_str_eq(buf, "Sat, 28 Nov 2026 14:04:16 +0000");
	mail_format_date(T_20240219_1000, -(5 * 3600 + 30 * 60), buf, &err);
	cr_assert_str_eq(buf, "Sun, 18 Feb 2024 21:30:00 -0530");
	mail_format_date(0, 19800, buf, &err);
	cr_assert_str_eq(buf, "Thu, 1 Jan 1970 05:30:00 +0530");
	/* An offset of seconds (local mean time, +07:06:40 in Saigon before 1906) is cut to whole
	 * minutes, the time shown with it. */
	mail_format_date(T_20240219_1000, 25600, buf, &err);
	cr_assert_str_eq(buf, "Mon, 19 Feb 2024 10:06:00 +0706");
}

Test(mail, date_refusals)
{
	char buf[MAIL_DATE_MAX];
	struct err err;

	cr_assert_eq(mail_format_date(0, 86400, buf, &err), -1);
	cr_assert_str_eq(err.field, "date");
	cr_assert_eq(mail_format_date(0, -86400, buf, &err), -1);
	cr_assert_eq(mail_format_date(INT64_MAX, 0, buf, &err), -1);
	cr_assert_eq(mail_format_date(253402300800, 0, buf, &err), -1); /* year 10000 */
	cr_assert_eq(mail_format_date(253402300799, 0, buf, &err), 31);
	cr_assert_str_eq(buf, "Fri, 31 Dec 9999 23:59:59 +0000");
}

Test(mail, date_header_in_message)
{
	struct mail_address to[] = {{NULL, "a@example.gov.vn"}};
	struct mail_message m = message(to, 1);
	char *msg = build(&m, NULL);

	cr_assert(strncmp(msg, "Date: Mon, 19 Feb 2024 10:00:00 +0700\r\n", 39) == 0, "%s", msg);
	free(msg);
}

Test(mail, message_id_is_stable_and_distinct)
{
	char a[MAIL_MESSAGE_ID_MAX], b[MAIL_MESSAGE_ID_MAX];
	struct err err;

	/* printf '\noutbox-1234' | sha256sum: 737498de38cda5ba... */
	cr_assert_gt(mail_message_id("outbox-1234", NULL, "dunghan@Example.GOV.vn", a, &err), 0);
	cr_assert_str_eq(a, "<outbox-1234.737498de38cda5ba@dunghan.example.gov.vn>");
	cr_assert_gt(mail_message_id("outbox-1234", "", "dunghan@example.gov.vn", b, &err), 0);
	cr_assert_str_eq(a, b);
	/* printf 'k1\noutbox-1234' | sha256sum: 314bd10540b28f4a... */
	mail_message_id("outbox-1234", "k1", "dunghan@example.gov.vn", b, &err);
	cr_assert_str_eq(b, "<outbox-1234.314bd10540b28f4a@dunghan.example.gov.vn>");
	mail_message_id("outbox-1235", NULL, "dunghan@example.gov.vn", b, &err);
	cr_assert_str_neq(a, b);
	cr_assert(strncmp(b, "<outbox-1235.", 13) == 0, "%s", b);
}

Test(mail, message_id_in_message_same_for_same_id)
{
	struct mail_address to[] = {{"Lê Thị Bình", "binh@example.gov.vn"}};
	struct mail_message m = message(to, 1);
	char *msg1, *msg2, *msg3, *id1, *id2, *id3;

	msg1 = build(&m, NULL);
	m.date += 3600; /* a retry an hour later */
	m.subject = "changed";
	msg2 = build(&m, NULL);
	m.id = "outbox-99";
	msg3 = build(&m, NULL);
	id1 = field(msg1, "Message-ID");
	id2 = field(msg2, "Message-ID");
	id3 = field(msg3, "Message-ID");
	cr_assert_str_eq(id1, "Message-ID: <outbox-1234.737498de38cda5ba@dunghan.example.gov.vn>");
	cr_assert_str_eq(id1, id2);
	cr_assert_str_neq(id1, id3);
	free(id1);
	free(id2);
	free(id3);
	free(msg1);
	free(msg2);
	free(msg3);
}

Test(mail, bad_ids_refused)
{
	static const char *const bad[] = {"", ".x", "x.", "a..b", "a b", "a@b", "a<b", "é",
					  "outbox-1234\r\n"};
	struct mail_address to[] = {{NULL, "a@example.gov.vn"}};
	struct mail_message m = message(to, 1);
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m.id = bad[i];
		refused(&m, "id", NULL);
	}
	m.id = NULL;
	refused(&m, "id", NULL);
	m.id = "x12345678901234567890123456789012345678901234567890123456789012345"; /* 66 */
	refused(&m, "id", NULL);
	m.id = "a.b_c-D.9";
	free(build(&m, NULL));
}

/* --- MIME structure --- */

Test(mail, multipart_alternative_structure)
{
	static const char text[] = "Kính gửi: Bà Lê Thị Bình,\r\n\r\nHồ sơ 000.00.21.H19-240222-0001 — "
				   "Đăng ký khai sinh\r\nTình trạng: còn 1 ngày làm việc (đã dùng "
				   "87% thời gian giải quyết).\r\n";
	static const char html[] = "<!DOCTYPE html>\r\n<html lang=\"vi\">\r\n<p>Kính gửi: Bà Lê Thị "
				   "Bình,</p>\r\n<strong>SẮP ĐẾN HẠN: còn 1 ngày làm việc</strong>"
				   "\r\n</html>\r\n";
	struct mail_address to[] = {{"Lê Thị Bình", "binh@example.gov.vn"}};
	struct mail_message m = message(to, 1);
	size_t len, n;
	char *msg, *h, *ct, *boundary, *delim, *close, *p, *end, *body;
	const char *bq;

	m.text = text;
	m.html = html;
	msg = build(&m, &len);
	check_lines(msg, len);
	h = head(msg);
	cr_assert(strstr(h, "\r\nMIME-Version: 1.0\r\n"));
	cr_assert(strstr(h, "\r\nAuto-Submitted: auto-generated\r\n"));
	cr_assert_null(strstr(h, "Content-Transfer-Encoding"));
	ct = field(msg, "Content-Type");
	cr_assert(strncmp(ct, "Content-Type: multipart/alternative;\r\n boundary=\"=_dunghan_", 59) ==
			  0,
		  "%s", ct);
	bq = strchr(ct, '"') + 1;
	boundary = strndup(bq, strlen(bq) - 1);
	cr_assert_eq(strlen(boundary), 10 + 24, "%s", boundary);

	/* The boundary is deterministic: the same message gives the same bytes. */
	p = build(&m, &n);
	cr_assert_eq(n, len);
	cr_assert(memcmp(p, msg, len) == 0);
	free(p);

	cr_assert_eq(asprintf(&delim, "\r\n\r\n--%s\r\n", boundary), (int)strlen(boundary) + 8);
	cr_assert_eq(asprintf(&close, "\r\n--%s--\r\n", boundary), (int)strlen(boundary) + 8);
	/* headers, blank line, first delimiter (no preamble) */
	p = strstr(msg, delim);
	cr_assert_not_null(p);
	cr_assert_eq(p, strstr(msg, "\r\n\r\n"));
	p += strlen(delim);

	/* part 1: text/plain */
	cr_assert(strncmp(p, PART_TEXT, strlen(PART_TEXT)) == 0, "%.80s", p);
	p += strlen(PART_TEXT);
	end = strstr(p, "\r\n--");
	cr_assert_not_null(end);
	cr_assert(strncmp(end + 4, boundary, strlen(boundary)) == 0);
	cr_assert(strncmp(end + 4 + strlen(boundary), "\r\n", 2) == 0);
	for (const char *l = p; l < end; l = strstr(l, "\r\n") + 2)
		cr_assert_leq((size_t)(strstr(l, "\r\n") - l), 76);
	body = b64_decode(p, (size_t)(end - p), &n);
	cr_assert_eq(n, strlen(text));
	cr_assert_str_eq(body, text);
	free(body);
	p = end + 4 + strlen(boundary) + 2;

	/* part 2: text/html, then the close delimiter and nothing after it */
	cr_assert(strncmp(p, PART_HTML, strlen(PART_HTML)) == 0, "%.80s", p);
	p += strlen(PART_HTML);
	end = strstr(p, close);
	cr_assert_not_null(end);
	cr_assert_eq(end + strlen(close), msg + len);
	body = b64_decode(p, (size_t)(end - p), &n);
	cr_assert_str_eq(body, html);
	free(body);

	/* the boundary occurs only in its three delimiter lines and the header */
	n = 0;
	for (p = msg; (p = strstr(p, boundary)); p++)
		n++;
	cr_assert_eq(n, 4);

	free(delim);
	free(close);
	free(boundary);
	free(ct);
	free(h);
	free(msg);
}

Test(mail, long_body_lines_of_76)
{
	struct mail_address to[] = {{NULL, "a@example.gov.vn"}};
	struct mail_message m = message(to, 1);
	char big[4000], *msg, *body, *p;
	size_t i, len, n;

	for (i = 0; i + 4 < sizeof(big); i += 3)
		memcpy(big + i, "ệ", 3); /* U+1EC7, 3 bytes */
	big[i] = '\0';
	m.text = big;
	msg = build(&m, &len);
	check_lines(msg, len);
	p = strstr(msg, "\r\n\r\n") + 4;
	for (const char *l = p; *l; l = strstr(l, "\r\n") + 2) {
		size_t ll = (size_t)(strstr(l, "\r\n") - l);

		cr_assert(ll == 76 || strstr(l, "\r\n")[2] == '\0', "a short line inside: %zu", ll);
	}
	body = b64_decode(p, strlen(p), &n);
	cr_assert_eq(n, strlen(big));
	cr_assert_str_eq(body, big);
	free(body);
	free(msg);
}

Test(mail, text_only_message_exact)
{
	struct mail_address to[] = {{"Lê Thị Bình", "binh@example.gov.vn"}};
	struct mail_message m = message(to, 1);
	size_t len;
	char *msg;

	m.subject = "Test";
	m.text = "Xin chào\r\n"; /* base64: WGluIGNow6BvDQo= */
	msg = build(&m, &len);
	cr_assert_str_eq(msg, "Date: Mon, 19 Feb 2024 10:00:00 +0700\r\n"
			      "From: =?UTF-8?B?xJDDum5nIEjhuqFu?= <dunghan@example.gov.vn>\r\n"
			      "To: =?UTF-8?B?TMOqIFRo4buLIELDrG5o?= <binh@example.gov.vn>\r\n"
			      "Subject: Test\r\n"
			      "Message-ID: <outbox-1234.737498de38cda5ba@dunghan.example.gov.vn>\r\n"
			      "Auto-Submitted: auto-generated\r\n"
			      "MIME-Version: 1.0\r\n"
			      "Content-Type: text/plain; charset=UTF-8\r\n"
			      "Content-Transfer-Encoding: base64\r\n"
			      "\r\n"
			      "WGluIGNow6BvDQo=\r\n");
	cr_assert_null(strstr(msg, "multipart"));
	check_lines(msg, len);
	free(msg);
}

Test(mail, line_breaks_become_crlf)
{
	struct mail_address to[] = {{NULL, "a@example.gov.vn"}};
	struct mail_message m = message(to, 1);
	char *msg, *body;

	m.text = "một\nhai\r\nba\rbốn\n\n";
	m.html = "<p>\n</p>";
	msg = build(&m, NULL);
	body = strstr(msg, "base64\r\n\r\n") + 10;
	*strstr(body, "\r\n--") = '\0';
	body = b64_decode(body, strlen(body), NULL);
	cr_assert_str_eq(body, "một\r\nhai\r\nba\r\nbốn\r\n\r\n");
	free(body);
	free(msg);
}

Test(mail, empty_bodies)
{
	struct mail_address to[] = {{NULL, "a@example.gov.vn"}};
	struct mail_message m = message(to, 1);
	size_t len;
	char *msg, *p;

	m.text = "";
	msg = build(&m, &len);
	cr_assert(len > 4 && strcmp(msg + len - 4, "\r\n\r\n") == 0);
	free(msg);

	m.html = "";
	msg = build(&m, &len);
	check_lines(msg, len);
	/* each empty part: its headers, the blank line, then the CRLF of the next delimiter */
	p = strstr(msg, "base64\r\n\r\n\r\n--=_dunghan_");
	cr_assert_not_null(p);
	cr_assert_not_null(strstr(p + 1, "base64\r\n\r\n\r\n--=_dunghan_"));
	free(msg);
}

Test(mail, extra_headers)
{
	struct mail_address to[] = {{NULL, "a@example.gov.vn"}};
	struct mail_header hdr[] = {
		{"X-Dunghan-Alert", "42"},
		{"X-Dunghan-Unit", "Phòng Tư pháp"},
		{"List-Unsubscribe", "<https://dunghan.example.gov.vn/unsubscribe>"},
	};
	struct mail_message m = message(to, 1);
	char *msg, *h;

	m.headers = hdr;
	m.nheaders = 3;
	msg = build(&m, NULL);
	h = head(msg);
	cr_assert(strstr(h, "\r\nMIME-Version: 1.0\r\n"
			    "X-Dunghan-Alert: 42\r\n"
			    "X-Dunghan-Unit: =?UTF-8?B?UGjDsm5nIFTGsCBwaMOhcA==?=\r\n"
			    "List-Unsubscribe: <https://dunghan.example.gov.vn/unsubscribe>\r\n"
			    "Content-Type: text/plain; charset=UTF-8\r\n"),
		  "%s", h);
	free(h);
	free(msg);
}

/* --- refusals --- */

Test(mail, header_injection_refused)
{
	struct mail_address to[] = {{"Lê Thị Bình", "binh@example.gov.vn"},
				    {"Tran\r\nBcc: x@evil.example", "c@example.gov.vn"}};
	struct mail_header hdr[] = {{"X-Ok", "fine"}, {"X-Bad", "one\ntwo"}};
	struct mail_header hname[] = {{"X-Bad\r\nBcc", "x"}};
	struct mail_message m = message(to, 1);

	m.subject = "[QUÁ HẠN] Hồ sơ\r\nBcc: x@evil.example";
	refused(&m, "subject", "line break");
	m.subject = "a\nb";
	refused(&m, "subject", "line break");
	m.subject = "a\rb";
	refused(&m, "subject", "line break");
	m.subject = "a\x1b" "b";
	refused(&m, "subject", "control");
	m.subject = "ok";

	m.from.name = "Đúng Hạn\n";
	refused(&m, "from.name", "line break");
	m.from.name = "Đúng Hạn";
	m.from.address = "dunghan@example.gov.vn\r\nBcc: x@evil.example";
	refused(&m, "from", "line break");
	m.from.address = "dunghan@example.gov.vn";

	m.nto = 2;
	refused(&m, "to[1].name", "line break");
	to[1].name = "Tran";
	to[1].address = "c@example.gov.vn\n";
	refused(&m, "to[1]", "line break");
	to[1].address = "c@example.gov.vn";

	m.headers = hdr;
	m.nheaders = 2;
	refused(&m, "headers[1]", "line break");
	m.headers = hname;
	m.nheaders = 1;
	refused(&m, "headers[0]", "line break");
}

Test(mail, bad_fields_refused)
{
	struct mail_address to[] = {{NULL, "a@example.gov.vn"}};
	struct mail_header own[] = {{"Bcc", "x@y.z"}};
	struct mail_header ctype[] = {{"content-type", "text/plain"}};
	struct mail_header colon[] = {{"X:Y", "1"}};
	struct mail_header space[] = {{"X Y", "1"}};
	struct mail_message m = message(to, 1);

	to[0].address = "a b@example.gov.vn";
	refused(&m, "to[0]", NULL);
	to[0].address = "<a@example.gov.vn>";
	refused(&m, "to[0]", NULL);
	to[0].address = "example.gov.vn";
	refused(&m, "to[0]", NULL);
	to[0].address = "tiếng@example.gov.vn";
	refused(&m, "to[0]", NULL);
	to[0].address = NULL;
	refused(&m, "to[0]", NULL);
	to[0].address = "a@example.gov.vn";

	m.nto = 0;
	refused(&m, "to", NULL);
	m.nto = MAIL_MAX_TO + 1;
	refused(&m, "to", NULL);
	m.nto = 1;

	m.subject = "\xe1\xba"; /* truncated UTF-8 */
	refused(&m, "subject", "UTF-8");
	m.subject = "\xc0\xaf"; /* overlong */
	refused(&m, "subject", "UTF-8");
	m.subject = NULL;
	refused(&m, "subject", NULL);
	m.subject = "ok";
	m.text = "\xed\xa0\x80"; /* a surrogate */
	refused(&m, "text", "UTF-8");
	m.text = NULL;
	refused(&m, "text", NULL);
	m.text = "ok";
	m.html = "\xff";
	refused(&m, "html", "UTF-8");
	m.html = NULL;

	m.headers = own;
	m.nheaders = 1;
	refused(&m, "headers[0]", NULL);
	m.headers = ctype;
	refused(&m, "headers[0]", NULL);
	m.headers = colon;
	refused(&m, "headers[0]", NULL);
	m.headers = space;
	refused(&m, "headers[0]", NULL);
	m.headers = NULL;
	m.nheaders = 0;

	m.utc_offset = 90000;
	refused(&m, "date", NULL);
}

/* --- the file transport --- */

static char *temp_dir(void)
{
	char *dir = strdup("/tmp/dunghan-mail-XXXXXX");

	cr_assert_not_null(dir);
	cr_assert_not_null(mkdtemp(dir));
	return dir;
}

/* The names in dir, sorted and joined with '|'. */
static char *listing(const char *dir)
{
	struct dirent **names;
	char *out = calloc(1, 4096);
	int n, i;

	cr_assert_not_null(out);
	n = scandir(dir, &names, NULL, alphasort);
	cr_assert_geq(n, 0);
	for (i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
			if (out[0])
				strcat(out, "|");
			strcat(out, names[i]->d_name);
		}
		free(names[i]);
	}
	free(names);
	return out;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = malloc(1 << 20);
	size_t n;

	cr_assert_not_null(f, "%s", path);
	cr_assert_not_null(data);
	n = fread(data, 1, (1 << 20) - 1, f);
	data[n] = '\0';
	fclose(f);
	*len = n;
	return data;
}

Test(mail, write_file_atomically)
{
	struct mail_address to[] = {{"Lê Thị Bình", "binh@example.gov.vn"}};
	struct mail_message m = message(to, 1);
	struct err err;
	char *dir = temp_dir(), *msg, *path, *names, *data;
	size_t len, n;
	struct stat st;

	m.html = "<p>Hồ sơ</p>";
	msg = build(&m, &len);
	cr_assert_eq(mail_write_file(dir, "outbox-1234", msg, len, &err), 0, "%s", err.msg);
	names = listing(dir);
	cr_assert_str_eq(names, "outbox-1234.eml");
	free(names);
	cr_assert_gt(asprintf(&path, "%s/outbox-1234.eml", dir), 0);
	data = slurp(path, &n);
	cr_assert_eq(n, len);
	cr_assert(memcmp(data, msg, len) == 0);
	free(data);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);

	/* a second write replaces the first whole */
	cr_assert_eq(mail_write_file(dir, "outbox-1234", "short\r\n", 7, &err), 0, "%s", err.msg);
	data = slurp(path, &n);
	cr_assert_eq(n, 7);
	cr_assert_str_eq(data, "short\r\n");
	free(data);
	cr_assert_eq(mail_write_file(dir, "outbox-1235.retry", "", 0, &err), 0, "%s", err.msg);
	names = listing(dir);
	cr_assert_str_eq(names, "outbox-1234.eml|outbox-1235.retry.eml");
	free(names);

	unlink(path);
	free(path);
	cr_assert_gt(asprintf(&path, "%s/outbox-1235.retry.eml", dir), 0);
	unlink(path);
	free(path);
	cr_assert_eq(rmdir(dir), 0);
	free(msg);
	free(dir);
}

Test(mail, write_file_refusals)
{
	static const char *const bad[] = {"", ".hidden", "a/b", "../x", "a b", "tên"};
	struct err err;
	char *dir = temp_dir(), *missing, *names;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&err);
		cr_assert_eq(mail_write_file(dir, bad[i], "x", 1, &err), -1, "accepted %s", bad[i]);
		cr_assert_str_eq(err.field, "name");
	}
	cr_assert_eq(mail_write_file(dir, NULL, "x", 1, &err), -1);
	cr_assert_eq(mail_write_file(NULL, "outbox-1", "x", 1, &err), -1);
	cr_assert_str_eq(err.field, "dir");

	cr_assert_gt(asprintf(&missing, "%s/missing", dir), 0);
	err_clear(&err);
	cr_assert_eq(mail_write_file(missing, "outbox-1", "x", 1, &err), -1);
	cr_assert(strstr(err.msg, missing), "%s", err.msg);
	names = listing(dir);
	cr_assert_str_eq(names, "");
	free(names);
	free(missing);
	cr_assert_eq(rmdir(dir), 0);
	free(dir);
}

/* A line break right after a full 57-byte base64 line once overran the line buffer. */
Test(mail, line_break_at_every_alignment)
{
	for (int k = 50; k <= 60; k++) {
		char text[128], *out = NULL;
		size_t len;
		struct err err;
		struct mail_address to = { NULL, "binh.lt@tanphu.dongnai.gov.vn" };
		struct mail_message m = { .from = { NULL, "dunghan@dongnai.gov.vn" }, .to = &to,
					  .nto = 1, .subject = "x", .text = text, .date = 1708311600,
					  .utc_offset = 25200, .id = "outbox-1" };

		memset(text, 'a', (size_t)k);
		memcpy(text + k, "\nb", 3);
		cr_assert_eq(mail_build(&m, &out, &len, &err), 0, "%d: %s", k, err.msg);
		free(out);
	}
}
