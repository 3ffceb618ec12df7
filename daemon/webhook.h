/* webhook: builds the HTTP request that posts one alert into a chat service or a receiving
 * system, and classifies the service's answer. Types (docs/webhooks.md has the exact requests):
 *   telegram     Bot API sendMessage, <api_base>/bot<token>/sendMessage, plain text
 *   slack        Slack incoming webhook; also Mattermost and Rocket.Chat, {"text": ...}
 *   teams        Microsoft Teams Workflows webhook: an Adaptive Card in "attachments"
 *   google_chat  Google Chat incoming webhook, {"text": ...}
 *   json         dunghan's own versioned payload, signed with HMAC-SHA256 (RFC 2104)
 * Every request is a POST with Content-Type: application/json and an Idempotency-Key that the
 * caller keeps stable across retries of one message. Retry-After follows RFC 9110 10.2.3.
 *
 * DESIGN. This module does no I/O: it turns a channel and a message into URL, headers and body,
 * and a status code into ok / retry / give up, so that the sender (curl on the loop) and the
 * tests share exactly the bytes that go out. Channel URLs and tokens are secrets (a Slack or
 * Teams hook URL is its own credential): no error message here ever quotes one. */
#ifndef DUNGHAN_WEBHOOK_H
#define DUNGHAN_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define WEBHOOK_MAX_URL 2048                     /* bytes of a channel URL or api_base */
#define WEBHOOK_MAX_KEY 200                      /* bytes of an idempotency key */
#define WEBHOOK_MAX_HEADERS 4                    /* headers of one request */
#define WEBHOOK_RETRY_AFTER_MAX (24 * 3600)      /* a Retry-After is capped at 24 h */
#define WEBHOOK_TELEGRAM_API "https://api.telegram.org"

enum webhook_type {
	WEBHOOK_TELEGRAM,
	WEBHOOK_SLACK,
	WEBHOOK_TEAMS,
	WEBHOOK_GOOGLE_CHAT,
	WEBHOOK_JSON,
	WEBHOOK_TYPE_COUNT
};

/* What to do with a message after the service answered. */
enum webhook_outcome {
	WEBHOOK_OK,        /* delivered */
	WEBHOOK_RETRYABLE, /* send again later (at *retry_at when the service said when) */
	WEBHOOK_PERMANENT, /* will never succeed as is: give up and report */
};

/* One configured channel. Every string is borrowed for the call; NULL = absent. */
struct webhook_channel {
	enum webhook_type type;
	const char *url;      /* slack, teams, google_chat, json: the URL to POST to */
	const char *chat_id;  /* telegram: "-1001234567" or "@channelname" */
	const char *token;    /* telegram: the bot token, as read from token_file */
	const char *api_base; /* telegram: NULL or "" = WEBHOOK_TELEGRAM_API (tests point it home) */
	const char *secret;   /* json: the HMAC key, as read from secret_file; required */
};

/* A person or unit in the json payload; id NULL = absent (null in the payload). */
struct webhook_party {
	const char *id;
	const char *name;
};

/* One message. Strings are borrowed for the call, UTF-8; NULL = absent (null in the json
 * payload). Every type uses text and idempotency_key; only json uses the rest. */
struct webhook_message {
	const char *text;            /* the one-line chat message; required, non-empty */
	size_t text_len;             /* bytes of text; 0 = strlen(text). A NUL inside is refused */
	const char *idempotency_key; /* e.g. "dunghan-outbox-1234": 1..WEBHOOK_MAX_KEY visible
				      * ASCII characters, the same for every retry; required */
	const char *event;           /* json: "alert"; required */
	const char *rule;            /* json: the escalation rule id; required */
	const char *severity;        /* json: "info", "warning", "due" or "overdue"; required */
	const char *kind;            /* json: "case", "document" or "assignment"; required */
	const char *code;            /* json: the item's code; required */
	const char *summary;         /* json: e.g. the procedure name */
	struct webhook_party unit;   /* json: the handling unit */
	struct webhook_party handler; /* json: the handling officer */
	const char *due_at;          /* json: RFC 3339, as the caller formatted it */
	const char *link;            /* json: the item's page */
};

/* One request to send. Everything is owned by the struct; release with webhook_request_free. */
struct webhook_request {
	const char *method;                       /* "POST" (static, not owned) */
	char *url;                                /* malloc'd; contains the secret of the channel */
	char *headers[WEBHOOK_MAX_HEADERS + 1];   /* "Name: value", each malloc'd; NULL-ended */
	size_t nheaders;
	char *body;                               /* malloc'd, NUL-terminated as well */
	size_t body_len;                          /* bytes of body, without the NUL */
};

/* The type named name ("telegram", "slack", "teams", "google_chat", "json"). Returns 0 and sets
 * *out, or -1 with err filled (field "type") when the name is unknown or NULL. */
int webhook_type_parse(const char *name, enum webhook_type *out, struct err *err);

/* The name of type, as webhook_type_parse reads it; "?" when out of range. Static string. */
const char *webhook_type_name(enum webhook_type type);

/* Checks a channel URL: https://host[:port][/...], or http:// to 127.0.0.1, [::1] or localhost
 * only; no user info, no space or control character, at most WEBHOOK_MAX_URL bytes. Returns 0,
 * or -1 with err filled (field = field, the URL itself never quoted). */
int webhook_url_check(const char *url, const char *field, struct err *err);

/* Checks what webhook_build needs of ch alone (URL, token, chat id, secret), so a config loader
 * can refuse a bad channel at start. Returns 0 or -1 with err filled (field = the setting). */
int webhook_channel_check(const struct webhook_channel *ch, struct err *err);

/* Builds the request that posts msg to ch; now (Unix seconds) is the json signature's
 * timestamp. *out is cleared at entry; on success it owns its strings (webhook_request_free),
 * on failure it is left empty. Returns 0, or -1 with err filled (field = the channel setting or
 * message member at fault; never a secret, a URL or the text). */
int webhook_build(const struct webhook_channel *ch, const struct webhook_message *msg, int64_t now,
		  struct webhook_request *out, struct err *err);

/* Frees what req owns and clears it; safe on a cleared or already freed request, and on NULL. */
void webhook_request_free(struct webhook_request *req);

/* Classifies an HTTP answer: 2xx OK; 408, 429, 5xx and 0 (no answer: connect error, timeout)
 * RETRYABLE; anything else (3xx, other 4xx, 1xx) PERMANENT. For 429 and 503, retry_after (the
 * Retry-After header value, NULL = none: delay-seconds or an HTTP-date) sets *retry_at to now
 * plus the delay capped at WEBHOOK_RETRY_AFTER_MAX (a date in the past gives now); otherwise,
 * or when it does not parse, *retry_at = 0: the caller applies its own backoff. retry_at may
 * be NULL. Returns an enum webhook_outcome. */
int webhook_classify(long http_status, const char *retry_after, int64_t now, int64_t *retry_at);

/* webhook_classify, and for telegram a 429 without a Retry-After header also reads the Bot
 * API's {"parameters":{"retry_after":N}} from the answer's body (body NULL or not JSON = none).
 * A 2xx is OK whatever the body says (docs/webhooks.md). Returns an enum webhook_outcome. */
int webhook_classify_response(enum webhook_type type, long http_status, const char *retry_after,
			      const char *body, size_t body_len, int64_t now, int64_t *retry_at);

#endif
