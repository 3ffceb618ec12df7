/* webhook: the requests that post alerts into chat services and receiving systems, and the
 * reading of their answers (see webhook.h; docs/webhooks.md shows every request in full).
 * Implements: the Telegram Bot API sendMessage method; Slack-style incoming webhooks; Teams
 * Workflows webhooks with an Adaptive Card 1.2; Google Chat incoming webhooks; HMAC-SHA256
 * (RFC 2104, FIPS 180-4) through OpenSSL; Retry-After and the three HTTP-date forms of RFC 9110
 * (5.6.7, 10.2.3).
 *
 * DESIGN. JSON is built with jansson and written compact, in insertion order, with UTF-8 as is
 * (no \u escapes): the json signature covers exactly the bytes sent, so a receiver verifies it
 * on the raw body before parsing. Every string of a message goes through json_string (or
 * json_pack's s%), which refuses invalid UTF-8, so a bad byte is reported with the member it is
 * in. Error messages name settings, never their values: a hook URL is a credential. */
#include "webhook.h"

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "utf8.h"

static const char *const type_names[WEBHOOK_TYPE_COUNT] = {
	[WEBHOOK_TELEGRAM] = "telegram",
	[WEBHOOK_SLACK] = "slack",
	[WEBHOOK_TEAMS] = "teams",
	[WEBHOOK_GOOGLE_CHAT] = "google_chat",
	[WEBHOOK_JSON] = "json",
};

static const char *const severities[] = { "info", "warning", "due", "overdue", NULL };
static const char *const kinds[] = { "case", "document", "assignment", NULL };

/* --- small ASCII helpers (locale-independent) --- */

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool ascii_caseeq(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);

	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (ascii_lower(a[i]) != ascii_lower(b[i]))
			return false;
	return true;
}

static bool ascii_prefix(const char *s, const char *prefix)
{
	return ascii_caseeq(s, strnlen(s, strlen(prefix)), prefix);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* 1..max visible ASCII characters (no space): safe in a header value and in a URL. */
static bool is_token(const char *s, size_t max)
{
	size_t n = 0;

	if (!s)
		return false;
	for (; s[n]; n++)
		if ((unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f || n >= max)
			return false;
	return n > 0;
}

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

/* --- types --- */

int webhook_type_parse(const char *name, enum webhook_type *out, struct err *err)
{
	if (!name)
		return err_set(err, "type", "the channel type is missing");
	for (int t = 0; t < WEBHOOK_TYPE_COUNT; t++) {
		if (strcmp(name, type_names[t]) == 0) {
			*out = (enum webhook_type)t;
			return 0;
		}
	}
	return err_set(err, "type",
		       "unknown channel type \"%.64s\" (telegram, slack, teams, google_chat or json)",
		       name);
}

const char *webhook_type_name(enum webhook_type type)
{
	return (unsigned)type < WEBHOOK_TYPE_COUNT ? type_names[type] : "?";
}

/* --- checks --- */

static bool is_loopback(const char *host, size_t len)
{
	return ascii_caseeq(host, len, "127.0.0.1") || ascii_caseeq(host, len, "localhost") ||
	       ascii_caseeq(host, len, "[::1]");
}

int webhook_url_check(const char *url, const char *field, struct err *err)
{
	const char *auth, *end, *p;
	size_t hlen;
	bool tls;
	int port = 0, ndigits = 0;

	if (!url || !*url)
		return err_set(err, field, "%s is missing", field);
	if (strnlen(url, WEBHOOK_MAX_URL + 1) > WEBHOOK_MAX_URL)
		return err_set(err, field, "%s is longer than %d bytes", field, WEBHOOK_MAX_URL);
	for (p = url; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return err_set(err, field,
				       "%s holds a space, a control or a non-ASCII character "
				       "(percent-encode it)", field);
	if (ascii_prefix(url, "https://")) {
		tls = true;
		auth = url + 8;
	} else if (ascii_prefix(url, "http://")) {
		tls = false;
		auth = url + 7;
	} else {
		return err_set(err, field, "%s must start with https://", field);
	}
	end = auth + strcspn(auth, "/?#");
	if (memchr(auth, '@', (size_t)(end - auth)))
		return err_set(err, field, "%s must not hold a user name or password", field);

	p = auth;
	if (*p == '[') { /* an IPv6 literal */
		for (p++; p < end && *p != ']'; p++)
			if (!is_digit(*p) && !(ascii_lower(*p) >= 'a' && ascii_lower(*p) <= 'f') &&
			    *p != ':' && *p != '.')
				goto bad_host;
		if (p == end || p == auth + 1)
			goto bad_host;
		p++;
	} else {
		for (; p < end && *p != ':'; p++)
			if (!is_alnum(*p) && *p != '.' && *p != '-' && *p != '_')
				goto bad_host;
		if (p == auth)
			goto bad_host;
	}
	hlen = (size_t)(p - auth);
	if (p < end) {
		if (*p != ':')
			goto bad_host;
		for (p++; p < end && is_digit(*p) && ndigits < 6; p++, ndigits++)
			port = port * 10 + (*p - '0');
		if (p != end || ndigits == 0 || port < 1 || port > 65535)
			return err_set(err, field, "%s has an invalid port", field);
	}
	if (!tls && !is_loopback(auth, hlen))
		return err_set(err, field,
			       "%s must start with https:// (http:// is for 127.0.0.1, [::1] and "
			       "localhost only)", field);
	return 0;

bad_host:
	return err_set(err, field, "%s has no valid host name", field);
}

/* A bot token is "<bot id>:<secret>": digits, a colon, then letters, digits, '_' and '-'. */
static bool is_telegram_token(const char *s)
{
	const char *colon = s ? strchr(s, ':') : NULL;

	if (!colon || colon == s || !colon[1])
		return false;
	for (const char *p = s; p < colon; p++)
		if (!is_digit(*p))
			return false;
	for (const char *p = colon + 1; *p; p++)
		if (!is_alnum(*p) && *p != '_' && *p != '-')
			return false;
	return true;
}

int webhook_channel_check(const struct webhook_channel *ch, struct err *err)
{
	switch (ch->type) {
	case WEBHOOK_TELEGRAM:
		if (!ch->token || !*ch->token)
			return err_set(err, "token_file", "the Telegram bot token is missing");
		if (strlen(ch->token) > 256 || !is_telegram_token(ch->token))
			return err_set(err, "token_file",
				       "the token is not a Telegram bot token (digits, ':', then "
				       "letters, digits, '_' and '-')");
		if (!is_token(ch->chat_id, 64))
			return err_set(err, "chat_id",
				       "chat_id must be 1 to 64 visible ASCII characters "
				       "(\"-1001234567\" or \"@channelname\")");
		if (ch->api_base && *ch->api_base) {
			if (webhook_url_check(ch->api_base, "api_base", err))
				return -1;
			if (strpbrk(ch->api_base, "?#"))
				return err_set(err, "api_base", "api_base must not hold '?' or '#'");
		}
		return 0;
	case WEBHOOK_JSON:
		if (!ch->secret || !*ch->secret)
			return err_set(err, "secret_file", "the signing secret is missing or empty");
		if (strlen(ch->secret) > INT_MAX)
			return err_set(err, "secret_file", "the signing secret is too long");
		/* fall through */
	case WEBHOOK_SLACK:
	case WEBHOOK_TEAMS:
	case WEBHOOK_GOOGLE_CHAT:
		return webhook_url_check(ch->url, "url", err);
	case WEBHOOK_TYPE_COUNT:
		break;
	}
	return err_set(err, "type", "unknown channel type %d", (int)ch->type);
}

static int message_check(enum webhook_type type, const struct webhook_message *msg,
			 size_t *text_len, struct err *err)
{
	static const struct {
		size_t offset;
		const char *name;
	} required[] = {
		{ offsetof(struct webhook_message, event), "event" },
		{ offsetof(struct webhook_message, rule), "rule" },
		{ offsetof(struct webhook_message, severity), "severity" },
		{ offsetof(struct webhook_message, kind), "kind" },
		{ offsetof(struct webhook_message, code), "code" },
	};

	if (!msg->text)
		return err_set(err, "text", "the message text is missing");
	*text_len = msg->text_len ? msg->text_len : strlen(msg->text);
	if (*text_len == 0)
		return err_set(err, "text", "the message text is empty");
	if (memchr(msg->text, '\0', *text_len))
		return err_set(err, "text", "the message text holds a NUL byte");
	if (!is_token(msg->idempotency_key, WEBHOOK_MAX_KEY))
		return err_set(err, "idempotency_key",
			       "the idempotency key must be 1 to %d visible ASCII characters",
			       WEBHOOK_MAX_KEY);
	if (type != WEBHOOK_JSON)
		return 0;
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		const char *v = *(const char *const *)((const char *)msg + required[i].offset);

		if (!v || !*v)
			return err_set(err, required[i].name, "%s is missing", required[i].name);
	}
	if (!in_list(msg->severity, severities))
		return err_set(err, "severity",
			       "severity must be \"info\", \"warning\", \"due\" or \"overdue\"");
	if (!in_list(msg->kind, kinds))
		return err_set(err, "kind", "kind must be \"case\", \"document\" or \"assignment\"");
	return 0;
}

/* --- the request --- */

void webhook_request_free(struct webhook_request *req)
{
	if (!req)
		return;
	free(req->url);
	for (size_t i = 0; i < req->nheaders; i++)
		free(req->headers[i]);
	free(req->body);
	memset(req, 0, sizeof(*req));
}

static int add_header(struct webhook_request *req, struct err *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int add_header(struct webhook_request *req, struct err *err, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *h, line[256];

	if (req->nheaders >= WEBHOOK_MAX_HEADERS)
		return err_set(err, NULL, "too many headers (internal error)");
	/* formatted once when it fits the line, as every header of ours does */
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || !(h = malloc((size_t)n + 1)))
		return err_set(err, NULL, "out of memory");
	if ((size_t)n < sizeof(line)) {
		memcpy(h, line, (size_t)n + 1);
	} else {
		va_start(ap, fmt);
		vsnprintf(h, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	req->headers[req->nheaders++] = h;
	req->headers[req->nheaders] = NULL;
	return 0;
}

/* s (len bytes) as a JSON string, or JSON null when s is NULL; NULL with err filled (naming
 * field, never quoting the value) when s is not UTF-8 or memory ran out. */
static json_t *jstr(const char *s, size_t len, const char *field, struct err *err)
{
	json_error_t jerr;
	json_t *v;

	if (!s)
		return json_null();
	v = json_pack_ex(&jerr, 0, "s%", s, len);
	if (!v) {
		if (json_error_code(&jerr) == json_error_invalid_utf8)
			err_set(err, field, "%s is not valid UTF-8", field);
		else
			err_set(err, field, "out of memory building the JSON body");
	}
	return v;
}

/* Sets obj[key] to s (NULL = null). Returns 0 or -1 with err filled. */
static int put_str(json_t *obj, const char *key, const char *s, const char *field,
		   struct err *err)
{
	json_t *v = jstr(s, s ? strlen(s) : 0, field, err);

	if (!v)
		return -1;
	if (json_object_set_new(obj, key, v)) /* steals v even on failure */
		return err_set(err, NULL, "out of memory building the JSON body");
	return 0;
}

/* {"id": ..., "name": ...}, or null when the party has no id. */
static json_t *party_json(const struct webhook_party *p, const char *field, struct err *err)
{
	char sub[64];
	json_t *o;

	if (!p->id)
		return json_null();
	if (!(o = json_object())) {
		err_set(err, NULL, "out of memory building the JSON body");
		return NULL;
	}
	snprintf(sub, sizeof(sub), "%s.id", field);
	if (put_str(o, "id", p->id, sub, err))
		goto fail;
	snprintf(sub, sizeof(sub), "%s.name", field);
	if (put_str(o, "name", p->name, sub, err))
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

/* The json type's payload, documented in docs/webhooks.md (version 1). */
static json_t *payload_json(const struct webhook_message *msg, size_t text_len, struct err *err)
{
	json_t *root = NULL, *item = NULL, *v;

	if (!(root = json_object()) || !(item = json_object()))
		goto fail;
	if (json_object_set_new(root, "version", json_integer(1)) ||
	    put_str(root, "id", msg->idempotency_key, "idempotency_key", err) ||
	    put_str(root, "event", msg->event, "event", err) ||
	    put_str(root, "rule", msg->rule, "rule", err) ||
	    put_str(root, "severity", msg->severity, "severity", err) ||
	    put_str(item, "kind", msg->kind, "kind", err) ||
	    put_str(item, "code", msg->code, "code", err) ||
	    put_str(item, "summary", msg->summary, "summary", err))
		goto fail;
	if (!(v = party_json(&msg->unit, "unit", err)) || json_object_set_new(item, "unit", v))
		goto fail;
	if (!(v = party_json(&msg->handler, "handler", err)) ||
	    json_object_set_new(item, "handler", v))
		goto fail;
	if (put_str(item, "due_at", msg->due_at, "due_at", err) ||
	    put_str(item, "link", msg->link, "link", err))
		goto fail;
	v = item;
	item = NULL;
	if (json_object_set_new(root, "item", v) || !(v = jstr(msg->text, text_len, "text", err)) ||
	    json_object_set_new(root, "text", v))
		goto fail;
	return root;

fail:
	/* The helpers name the member at fault; what is left unexplained is jansson's memory. */
	if (err && !err->msg[0])
		err_set(err, NULL, "out of memory building the JSON body");
	json_decref(item);
	json_decref(root);
	return NULL;
}

/* Appends s (len bytes of valid UTF-8) to buf at pos as a JSON string, byte for byte as
 * jansson's compact dump writes it: UTF-8 kept, only '"', '\\' and control characters escaped.
 * buf must have room for 6 × len + 2 bytes from pos. Returns the new pos. */
static size_t put_json_string(char *buf, size_t pos, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";

	buf[pos++] = '"';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *short_form = NULL;

		if (c >= 0x20 && c != '"' && c != '\\') {
			buf[pos++] = (char)c;
			continue;
		}
		switch (c) {
		case '"': short_form = "\\\""; break;
		case '\\': short_form = "\\\\"; break;
		case '\b': short_form = "\\b"; break;
		case '\f': short_form = "\\f"; break;
		case '\n': short_form = "\\n"; break;
		case '\r': short_form = "\\r"; break;
		case '\t': short_form = "\\t"; break;
		default: break;
		}
		if (short_form) {
			buf[pos++] = short_form[0];
			buf[pos++] = short_form[1];
		} else {
			memcpy(buf + pos, "\\u00", 4);
			buf[pos + 4] = hex[c >> 4];
			buf[pos + 5] = hex[c & 0x0f];
			pos += 6;
		}
	}
	buf[pos++] = '"';
	return pos;
}

/* The body of slack, google_chat and telegram: a fixed shape written straight into the buffer
 * (building a jansson tree and dumping it cost as much as the rest of a delivery's own work).
 * Sets out->body and body_len; returns 0, or -1 with err filled. */
static int chat_body(const struct webhook_channel *ch, const char *text, size_t len,
		     struct webhook_request *out, struct err *err)
{
	const char *chat_id = ch->type == WEBHOOK_TELEGRAM ? ch->chat_id : NULL;
	size_t id_len = chat_id ? strlen(chat_id) : 0, pos = 0;
	char *buf;

	/* the rules of jansson's check (json_stringn), without its copy of the text */
	if (!utf8_valid(text, len))
		return err_set(err, "text", "text is not valid UTF-8");
	if (len > (SIZE_MAX - 64 - 6 * id_len) / 6 ||
	    !(buf = malloc(6 * len + 6 * id_len + 64)))
		return err_set(err, NULL, "out of memory building the JSON body");
	if (chat_id) {
		memcpy(buf, "{\"chat_id\":", 11);
		pos = put_json_string(buf, 11, chat_id, id_len);
		memcpy(buf + pos, ",\"text\":", 8);
		pos += 8;
	} else {
		memcpy(buf, "{\"text\":", 8);
		pos = 8;
	}
	pos = put_json_string(buf, pos, text, len);
	buf[pos++] = '}';
	buf[pos] = '\0';
	out->body = buf;
	out->body_len = pos;
	return 0;
}

/* The Teams body, from json_pack. */
static json_t *teams_json(const char *text, size_t len, struct err *err)
{
	json_error_t jerr;
	/* The Workflows "Post to a channel when a webhook request is received" template takes a
	 * message activity whose attachments are Adaptive Cards. */
	json_t *root = json_pack_ex(&jerr, 0,
				    "{s:s, s:[{s:s, s:n, s:{s:s, s:s, s:s, s:[{s:s, s:s%, s:b}]}}]}",
				    "type", "message", "attachments",
				    "contentType", "application/vnd.microsoft.card.adaptive",
				    "contentUrl",
				    "content",
				    "$schema", "http://adaptivecards.io/schemas/adaptive-card.json",
				    "type", "AdaptiveCard", "version", "1.2",
				    "body", "type", "TextBlock", "text", text, len, "wrap", 1);

	if (!root) {
		if (json_error_code(&jerr) == json_error_invalid_utf8)
			err_set(err, "text", "text is not valid UTF-8");
		else
			err_set(err, NULL, "out of memory building the JSON body");
	}
	return root;
}

/* The url for ch: its own, or Telegram's method URL (token inside). */
static char *request_url(const struct webhook_channel *ch, struct err *err)
{
	const char *base = ch->api_base && *ch->api_base ? ch->api_base : WEBHOOK_TELEGRAM_API;
	size_t blen, n;
	char *url;

	if (ch->type != WEBHOOK_TELEGRAM) {
		if (!(url = strdup(ch->url)))
			err_set(err, NULL, "out of memory");
		return url;
	}
	blen = strlen(base);
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	n = blen + strlen("/bot") + strlen(ch->token) + strlen("/sendMessage") + 1;
	if (!(url = malloc(n))) {
		err_set(err, NULL, "out of memory");
		return NULL;
	}
	snprintf(url, n, "%.*s/bot%s/sendMessage", (int)blen, base, ch->token);
	return url;
}

/* "sha256=" and the lower-case hex HMAC-SHA256 of "<timestamp>.<body>" under secret. */
static int sign(const char *secret, const char *timestamp, const char *body, size_t body_len,
		char out[7 + 2 * 32 + 1], struct err *err)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	size_t tlen = strlen(timestamp), n = tlen + 1 + body_len;
	unsigned char *data = malloc(n);
	int rc = -1;

	if (!data)
		return err_set(err, NULL, "out of memory");
	memcpy(data, timestamp, tlen);
	data[tlen] = '.';
	memcpy(data + tlen + 1, body, body_len);
	if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), data, n, mac, &maclen) ||
	    maclen != 32) {
		err_set(err, NULL, "the HMAC-SHA256 signature could not be computed");
		goto out;
	}
	memcpy(out, "sha256=", 7);
	for (unsigned i = 0; i < maclen; i++) {
		out[7 + 2 * i] = hex[mac[i] >> 4];
		out[7 + 2 * i + 1] = hex[mac[i] & 0x0f];
	}
	out[7 + 2 * maclen] = '\0';
	rc = 0;
out:
	free(data);
	return rc;
}

int webhook_build(const struct webhook_channel *ch, const struct webhook_message *msg, int64_t now,
		  struct webhook_request *out, struct err *err)
{
	json_t *root = NULL;
	size_t text_len = 0;
	char ts[24], sig[7 + 2 * 32 + 1];

	memset(out, 0, sizeof(*out));
	err_clear(err);
	if (webhook_channel_check(ch, err) || message_check(ch->type, msg, &text_len, err))
		goto fail;
	if (ch->type == WEBHOOK_JSON || ch->type == WEBHOOK_TEAMS) {
		root = ch->type == WEBHOOK_JSON ? payload_json(msg, text_len, err)
						: teams_json(msg->text, text_len, err);
		if (!root)
			goto fail;
		if (!(out->body = json_dumps(root, JSON_COMPACT))) {
			err_set(err, NULL, "out of memory writing the JSON body");
			goto fail;
		}
		out->body_len = strlen(out->body);
	} else if (chat_body(ch, msg->text, text_len, out, err) != 0) {
		goto fail;
	}
	out->method = "POST";
	if (!(out->url = request_url(ch, err)))
		goto fail;
	if (add_header(out, err, "Content-Type: application/json") ||
	    add_header(out, err, "Idempotency-Key: %s", msg->idempotency_key))
		goto fail;
	if (ch->type == WEBHOOK_JSON) {
		snprintf(ts, sizeof(ts), "%lld", (long long)now);
		if (sign(ch->secret, ts, out->body, out->body_len, sig, err) ||
		    add_header(out, err, "X-Dunghan-Timestamp: %s", ts) ||
		    add_header(out, err, "X-Dunghan-Signature: %s", sig))
			goto fail;
	}
	json_decref(root);
	return 0;

fail:
	json_decref(root);
	webhook_request_free(out);
	return -1;
}

/* --- answers --- */

static const char *const months[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
static const char *const wkdays[7] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
static const char *const weekdays[7] = { "Monday", "Tuesday", "Wednesday", "Thursday",
					 "Friday", "Saturday", "Sunday" };

/* Reads exactly n digits (n = 0: 1 or 2 digits, or a space and 1 digit: asctime's day). */
static bool read_num(const char **p, int n, int *out)
{
	int v = 0, i = 0;

	if (n == 0) {
		if (**p == ' ' && is_digit((*p)[1])) {
			*out = (*p)[1] - '0';
			*p += 2;
			return true;
		}
		n = 2;
	}
	for (; i < n && is_digit(**p); i++, (*p)++)
		v = v * 10 + (**p - '0');
	*out = v;
	return i == n;
}

static bool read_lit(const char **p, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(*p, lit, n) != 0)
		return false;
	*p += n;
	return true;
}

/* Reads one of names (case-sensitive, as RFC 9110 has it); its index in *out. */
static bool read_name(const char **p, const char *const *names, int count, int *out)
{
	for (int i = 0; i < count; i++) {
		if (read_lit(p, names[i])) {
			*out = i;
			return true;
		}
	}
	return false;
}

static bool read_time(const char **p, int *h, int *m, int *s)
{
	return read_num(p, 2, h) && read_lit(p, ":") && read_num(p, 2, m) && read_lit(p, ":") &&
	       read_num(p, 2, s);
}

/* Parses an HTTP-date: IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", or the obsolete RFC 850
 * "Sunday, 06-Nov-94 08:49:37 GMT" (the century chosen as RFC 9110 says, from now) and asctime
 * "Sun Nov  6 08:49:37 1994" forms. Weekday names are read but not checked against the date. */
static bool parse_http_date(const char *s, int64_t now, int64_t *out)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const char *p = s;
	int wd, d, mon, y, h, mi, sec;
	struct tm tm = { 0 };
	time_t t;

	if (read_name(&p, weekdays, 7, &wd)) { /* rfc850-date */
		struct tm cur;
		time_t tnow = (time_t)now;
		int century;

		if (!(read_lit(&p, ", ") && read_num(&p, 2, &d) && read_lit(&p, "-") &&
		      read_name(&p, months, 12, &mon) && read_lit(&p, "-") && read_num(&p, 2, &y) &&
		      read_lit(&p, " ") && read_time(&p, &h, &mi, &sec) && read_lit(&p, " GMT")))
			return false;
		if (!gmtime_r(&tnow, &cur))
			return false;
		century = (cur.tm_year + 1900) / 100 * 100;
		y += century;
		if (y > cur.tm_year + 1900 + 50)
			y -= 100;
	} else if (read_name(&p, wkdays, 7, &wd)) {
		if (read_lit(&p, ", ")) { /* IMF-fixdate */
			if (!(read_num(&p, 2, &d) && read_lit(&p, " ") &&
			      read_name(&p, months, 12, &mon) && read_lit(&p, " ") &&
			      read_num(&p, 4, &y) && read_lit(&p, " ") &&
			      read_time(&p, &h, &mi, &sec) && read_lit(&p, " GMT")))
				return false;
		} else if (!(read_lit(&p, " ") && read_name(&p, months, 12, &mon) && /* asctime */
			     read_lit(&p, " ") && read_num(&p, 0, &d) && read_lit(&p, " ") &&
			     read_time(&p, &h, &mi, &sec) && read_lit(&p, " ") &&
			     read_num(&p, 4, &y))) {
			return false;
		}
	} else {
		return false;
	}
	if (*p || d < 1 || d > mdays[mon] || h > 23 || mi > 59 || sec > 60)
		return false;
	if (mon == 1 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return false;
	tm.tm_year = y - 1900;
	tm.tm_mon = mon;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec; /* a leap second becomes the next second */
	t = timegm(&tm);
	if (t == (time_t)-1)
		return false;
	*out = (int64_t)t;
	return true;
}

/* Retry-After = HTTP-date / delay-seconds, surrounded by optional whitespace. The delay, from
 * now, clamped to 0..WEBHOOK_RETRY_AFTER_MAX. */
static bool parse_retry_after(const char *s, int64_t now, int64_t *delay)
{
	char buf[64];
	size_t n;
	int64_t v = 0, t;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (strspn(buf, "0123456789") == n) {
		for (size_t i = 0; i < n && v <= WEBHOOK_RETRY_AFTER_MAX; i++)
			v = v * 10 + (buf[i] - '0');
	} else if (parse_http_date(buf, now, &t)) {
		v = t < now ? 0 : t - now;
	} else {
		return false;
	}
	*delay = v > WEBHOOK_RETRY_AFTER_MAX ? WEBHOOK_RETRY_AFTER_MAX : v;
	return true;
}

int webhook_classify(long http_status, const char *retry_after, int64_t now, int64_t *retry_at)
{
	int64_t delay;

	if (retry_at)
		*retry_at = 0;
	if (http_status >= 200 && http_status <= 299)
		return WEBHOOK_OK;
	if (!(http_status == 0 || http_status == 408 || http_status == 429 ||
	      (http_status >= 500 && http_status <= 599)))
		return WEBHOOK_PERMANENT;
	if ((http_status == 429 || http_status == 503) && retry_after && retry_at &&
	    parse_retry_after(retry_after, now, &delay))
		*retry_at = now + delay;
	return WEBHOOK_RETRYABLE;
}

int webhook_classify_response(enum webhook_type type, long http_status, const char *retry_after,
			      const char *body, size_t body_len, int64_t now, int64_t *retry_at)
{
	int64_t header_at = 0;
	int outcome = webhook_classify(http_status, retry_after, now, &header_at);
	json_t *root;
	json_int_t secs;

	if (type == WEBHOOK_TELEGRAM && http_status == 429 && header_at == 0 && body &&
	    (root = json_loadb(body, body_len, 0, NULL))) {
		if (json_unpack(root, "{s:{s:I}}", "parameters", "retry_after", &secs) == 0 &&
		    secs >= 0)
			header_at = now + (secs > WEBHOOK_RETRY_AFTER_MAX ? WEBHOOK_RETRY_AFTER_MAX
									   : (int64_t)secs);
		json_decref(root);
	}
	if (retry_at)
		*retry_at = header_at;
	return outcome;
}
