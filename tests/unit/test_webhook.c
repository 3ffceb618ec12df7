/* Tests of webhook (daemon/webhook.c): the exact request of every channel type for the chat
 * line of MESSAGES.md, the json type's signature, input checks, and the classification of
 * answers. Expected bodies are written out by hand; the HMAC values were computed apart from
 * this code with the OpenSSL command line:
 *   printf '%s' "1708324200.<body>" | openssl dgst -sha256 -hmac 'motcua-secret-2024'
 * 1708324200 is 13:30 on Monday 19/02/2024 in Hanoi (06:30:00 UTC), two working hours after the
 * 10:00 due. */
#include <criterion/criterion.h>

#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "webhook.h"

#define NOW INT64_C(1708324200)

#define TEXT                                                                                     \
	"[QUÁ HẠN] Hồ sơ 000.00.21.H19-240222-0001 (Đăng ký khai sinh) — Phòng Tư pháp, cán bộ " \
	"Lê Thị Bình — quá hạn 2 giờ làm việc (hạn 10:00 thứ Hai, 19/02/2024)."

#define KEY "dunghan-outbox-1234"
#define SECRET "motcua-secret-2024"
#define TG_TOKEN "123456789:AAH-secretpart_XYZ"
#define HOOK_SECRET "T00000000/B00000000/XXXXsecretXXXX"

static struct webhook_message chat_message(void)
{
	struct webhook_message m = { .text = TEXT, .idempotency_key = KEY };
	return m;
}

static struct webhook_message full_message(void)
{
	struct webhook_message m = {
		.text = TEXT,
		.idempotency_key = KEY,
		.event = "alert",
		.rule = "overdue",
		.severity = "overdue",
		.kind = "case",
		.code = "000.00.21.H19-240222-0001",
		.summary = "Đăng ký khai sinh",
		.unit = { "tu-phap", "Phòng Tư pháp" },
		.handler = { "le-thi-binh", "Lê Thị Bình" },
		.due_at = "2024-02-19T10:00:00+07:00",
		.link = "https://dunghan.example.gov.vn/cases/000.00.21.H19-240222-0001",
	};
	return m;
}

static struct webhook_request build_ok(const struct webhook_channel *ch,
				       const struct webhook_message *m, int64_t now)
{
	struct webhook_request r;
	struct err err;

	cr_assert_eq(webhook_build(ch, m, now, &r, &err), 0, "%s (%s)", err.msg, err.field);
	return r;
}

/* Values that must never appear in an error message. */
static const char *const secrets[] = { SECRET, "AAH-", "secretpart", HOOK_SECRET, "h.example" };

/* Builds, expects failure at field, and checks that no secret reached the message. */
static void build_fails(const struct webhook_channel *ch, const struct webhook_message *m,
			const char *field)
{
	struct webhook_request r;
	struct err err;

	cr_assert_eq(webhook_build(ch, m, NOW, &r, &err), -1);
	cr_expect_str_eq(err.field, field, "%s", err.msg);
	cr_expect_neq(err.msg[0], '\0');
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		cr_expect_null(strstr(err.msg, secrets[i]), "%s", err.msg);
	cr_expect_null(r.url);
	cr_expect_null(r.body);
	cr_expect_eq(r.nheaders, 0);
}

static void expect_body(const struct webhook_request *r, const char *body)
{
	cr_expect_str_eq(r->body, body);
	cr_expect_eq(r->body_len, strlen(body));
}

static void expect_chat_headers(const struct webhook_request *r)
{
	cr_assert_eq(r->nheaders, 2);
	cr_expect_str_eq(r->headers[0], "Content-Type: application/json");
	cr_expect_str_eq(r->headers[1], "Idempotency-Key: dunghan-outbox-1234");
	cr_expect_null(r->headers[2]);
	cr_expect_str_eq(r->method, "POST");
}

/* --- types --- */

Test(webhook_type, parse_every_name_and_back)
{
	static const char *names[] = { "telegram", "slack", "teams", "google_chat", "json" };
	enum webhook_type t;
	struct err err;

	for (int i = 0; i < 5; i++) {
		cr_assert_eq(webhook_type_parse(names[i], &t, &err), 0, "%s", names[i]);
		cr_expect_eq((int)t, i);
		cr_expect_str_eq(webhook_type_name(t), names[i]);
	}
	cr_expect_eq(t, WEBHOOK_JSON);
	cr_expect_eq(webhook_type_parse("mattermost", &t, &err), -1);
	cr_expect_str_eq(err.field, "type");
	cr_expect_eq(webhook_type_parse("Slack", &t, &err), -1);
	cr_expect_eq(webhook_type_parse(NULL, &t, &err), -1);
	cr_expect_str_eq(webhook_type_name(WEBHOOK_TYPE_COUNT), "?");
}

/* --- exact requests --- */

Test(webhook_build, slack)
{
	struct webhook_channel ch = { .type = WEBHOOK_SLACK,
				      .url = "https://chat.example.gov.vn/hooks/" HOOK_SECRET };
	struct webhook_message m = chat_message();
	struct webhook_request r = build_ok(&ch, &m, NOW);

	cr_expect_str_eq(r.url, "https://chat.example.gov.vn/hooks/" HOOK_SECRET);
	expect_chat_headers(&r);
	expect_body(&r, "{\"text\":\"" TEXT "\"}");
	webhook_request_free(&r);
	cr_expect_null(r.url);
	webhook_request_free(&r); /* twice is harmless */
	webhook_request_free(NULL);
}

Test(webhook_build, google_chat)
{
	struct webhook_channel ch = {
		.type = WEBHOOK_GOOGLE_CHAT,
		.url = "https://chat.googleapis.com/v1/spaces/AAAA/messages?key=k&token=t",
	};
	struct webhook_message m = chat_message();
	struct webhook_request r = build_ok(&ch, &m, NOW);

	cr_expect_str_eq(r.url, "https://chat.googleapis.com/v1/spaces/AAAA/messages?key=k&token=t");
	expect_chat_headers(&r);
	expect_body(&r, "{\"text\":\"" TEXT "\"}");
	webhook_request_free(&r);
}

Test(webhook_build, teams_adaptive_card)
{
	struct webhook_channel ch = {
		.type = WEBHOOK_TEAMS,
		.url = "https://prod-12.southeastasia.logic.azure.com:443/workflows/abc/triggers/"
		       "manual/paths/invoke?api-version=2016-06-01&sig=s",
	};
	struct webhook_message m = chat_message();
	struct webhook_request r = build_ok(&ch, &m, NOW);

	cr_expect_str_eq(r.url, ch.url);
	expect_chat_headers(&r);
	expect_body(&r, "{\"type\":\"message\",\"attachments\":[{"
			"\"contentType\":\"application/vnd.microsoft.card.adaptive\","
			"\"contentUrl\":null,\"content\":{"
			"\"$schema\":\"http://adaptivecards.io/schemas/adaptive-card.json\","
			"\"type\":\"AdaptiveCard\",\"version\":\"1.2\",\"body\":[{"
			"\"type\":\"TextBlock\",\"text\":\"" TEXT "\",\"wrap\":true}]}}]}");
	webhook_request_free(&r);
}

Test(webhook_build, telegram_default_api)
{
	struct webhook_channel ch = { .type = WEBHOOK_TELEGRAM, .chat_id = "-1001234567",
				      .token = TG_TOKEN };
	struct webhook_message m = chat_message();
	struct webhook_request r = build_ok(&ch, &m, NOW);

	cr_expect_str_eq(r.url, "https://api.telegram.org/bot" TG_TOKEN "/sendMessage");
	expect_chat_headers(&r);
	expect_body(&r, "{\"chat_id\":\"-1001234567\",\"text\":\"" TEXT "\"}");
	webhook_request_free(&r);
}

Test(webhook_build, telegram_api_base_override)
{
	static const struct {
		const char *base;
		const char *url;
	} cases[] = {
		{ "http://127.0.0.1:8081", "http://127.0.0.1:8081/bot" TG_TOKEN "/sendMessage" },
		{ "http://localhost:8081/", "http://localhost:8081/bot" TG_TOKEN "/sendMessage" },
		{ "http://[::1]:9/tg//", "http://[::1]:9/tg/bot" TG_TOKEN "/sendMessage" },
		{ "", "https://api.telegram.org/bot" TG_TOKEN "/sendMessage" },
	};
	struct webhook_message m = chat_message();

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct webhook_channel ch = { .type = WEBHOOK_TELEGRAM, .chat_id = "@dunghan_hctc",
					      .token = TG_TOKEN, .api_base = cases[i].base };
		struct webhook_request r = build_ok(&ch, &m, NOW);

		cr_expect_str_eq(r.url, cases[i].url);
		expect_body(&r, "{\"chat_id\":\"@dunghan_hctc\",\"text\":\"" TEXT "\"}");
		webhook_request_free(&r);
	}
}

#define JSON_BODY                                                                                \
	"{\"version\":1,\"id\":\"dunghan-outbox-1234\",\"event\":\"alert\",\"rule\":\"overdue\","  \
	"\"severity\":\"overdue\",\"item\":{\"kind\":\"case\","                                   \
	"\"code\":\"000.00.21.H19-240222-0001\",\"summary\":\"Đăng ký khai sinh\","               \
	"\"unit\":{\"id\":\"tu-phap\",\"name\":\"Phòng Tư pháp\"},"                               \
	"\"handler\":{\"id\":\"le-thi-binh\",\"name\":\"Lê Thị Bình\"},"                          \
	"\"due_at\":\"2024-02-19T10:00:00+07:00\","                                               \
	"\"link\":\"https://dunghan.example.gov.vn/cases/000.00.21.H19-240222-0001\"},"           \
	"\"text\":\"" TEXT "\"}"

Test(webhook_build, json_signed)
{
	struct webhook_channel ch = { .type = WEBHOOK_JSON,
				      .url = "https://motcua.example.gov.vn/api/dunghan",
				      .secret = SECRET };
	struct webhook_message m = full_message();
	struct webhook_request r = build_ok(&ch, &m, NOW);

	cr_expect_str_eq(r.method, "POST");
	cr_expect_str_eq(r.url, "https://motcua.example.gov.vn/api/dunghan");
	expect_body(&r, JSON_BODY);
	cr_assert_eq(r.nheaders, 4);
	cr_expect_str_eq(r.headers[0], "Content-Type: application/json");
	cr_expect_str_eq(r.headers[1], "Idempotency-Key: dunghan-outbox-1234");
	cr_expect_str_eq(r.headers[2], "X-Dunghan-Timestamp: 1708324200");
	cr_expect_str_eq(r.headers[3], "X-Dunghan-Signature: sha256="
				       "18a08bc3435a7d78d8fddcc0d138e90d67435dfb3a66d01654544c6d61ed9359");
	cr_expect_null(r.headers[4]);
	webhook_request_free(&r);
}

Test(webhook_build, json_absent_members_are_null)
{
	struct webhook_channel ch = { .type = WEBHOOK_JSON, .url = "http://127.0.0.1:9000/hook",
				      .secret = "k" };
	struct webhook_message m = {
		.text = "x", .idempotency_key = "dunghan-outbox-7", .event = "alert",
		.rule = "before-1d", .severity = "warning", .kind = "document", .code = "506/SNV-TT",
		.unit = { NULL, "ignored without an id" },
	};
	struct webhook_request r = build_ok(&ch, &m, INT64_C(1700000000));

	expect_body(&r, "{\"version\":1,\"id\":\"dunghan-outbox-7\",\"event\":\"alert\","
			"\"rule\":\"before-1d\",\"severity\":\"warning\",\"item\":{"
			"\"kind\":\"document\",\"code\":\"506/SNV-TT\",\"summary\":null,"
			"\"unit\":null,\"handler\":null,\"due_at\":null,\"link\":null},"
			"\"text\":\"x\"}");
	cr_expect_str_eq(r.headers[2], "X-Dunghan-Timestamp: 1700000000");
	cr_expect_str_eq(r.headers[3], "X-Dunghan-Signature: sha256="
				       "1192d1686dc598a078edc15cd4abeee0e8051e6791746040d9d0e121f16653bc");
	webhook_request_free(&r);
}

Test(webhook_build, json_party_without_name)
{
	struct webhook_channel ch = { .type = WEBHOOK_JSON, .url = "https://h.example/",
				      .secret = "k" };
	struct webhook_message m = full_message();
	struct webhook_request r;

	m.handler.name = NULL;
	r = build_ok(&ch, &m, NOW);
	cr_expect_not_null(strstr(r.body, "\"handler\":{\"id\":\"le-thi-binh\",\"name\":null}"));
	webhook_request_free(&r);
}

Test(webhook_build, text_with_quotes_and_controls_is_escaped)
{
	struct webhook_channel ch = { .type = WEBHOOK_SLACK, .url = "https://h.example/x" };
	struct webhook_message m = { .text = "a \"b\" \\ c\td\ne", .idempotency_key = "k" };
	struct webhook_request r = build_ok(&ch, &m, NOW);

	expect_body(&r, "{\"text\":\"a \\\"b\\\" \\\\ c\\td\\ne\"}");
	webhook_request_free(&r);
}

/* The fixed-shape bodies are written by hand: byte for byte what jansson's compact dump of the
 * same object gives, for every control character, quotes, backslashes, '/' and UTF-8. */
Test(webhook_build, fixed_bodies_match_jansson)
{
	char text[200];
	size_t n = 0;

	for (int c = 1; c < 0x20; c++)
		text[n++] = (char)c;
	memcpy(text + n, "\"\\/ \x7f Đúng Hạn ✓ 😀", sizeof("\"\\/ \x7f Đúng Hạn ✓ 😀"));
	for (int type = WEBHOOK_TELEGRAM; type <= WEBHOOK_GOOGLE_CHAT; type++) {
		if (type == WEBHOOK_TEAMS)
			continue;
		struct webhook_channel ch = { .type = (enum webhook_type)type,
					      .url = "https://h.example/x", .chat_id = "-100123",
					      .token = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11" };
		struct webhook_message m = { .text = text, .idempotency_key = "k" };
		struct webhook_request r = build_ok(&ch, &m, NOW);
		json_t *want = type == WEBHOOK_TELEGRAM
				       ? json_pack("{s:s, s:s}", "chat_id", "-100123", "text", text)
				       : json_pack("{s:s}", "text", text);
		char *dump = json_dumps(want, JSON_COMPACT);

		cr_assert_not_null(dump);
		expect_body(&r, dump);
		free(dump);
		json_decref(want);
		webhook_request_free(&r);
	}
}

Test(webhook_build, text_len_limits_the_text)
{
	struct webhook_channel ch = { .type = WEBHOOK_SLACK, .url = "https://h.example/x" };
	struct webhook_message m = { .text = "abcdef", .text_len = 3, .idempotency_key = "k" };
	struct webhook_request r = build_ok(&ch, &m, NOW);

	expect_body(&r, "{\"text\":\"abc\"}");
	webhook_request_free(&r);
}

/* --- refusals --- */

Test(webhook_refuse, text)
{
	struct webhook_channel ch = { .type = WEBHOOK_SLACK, .url = "https://h.example/x" };
	struct webhook_message m = chat_message();

	m.text = "before\0after";
	m.text_len = 12;
	build_fails(&ch, &m, "text");
	m.text = "";
	m.text_len = 0;
	build_fails(&ch, &m, "text");
	m.text = NULL;
	build_fails(&ch, &m, "text");
	m.text = "bad \xc3\x28 utf-8";
	build_fails(&ch, &m, "text");
	ch.type = WEBHOOK_TEAMS;
	build_fails(&ch, &m, "text");
}

/* The fixed-shape bodies check UTF-8 themselves (utf8.h): exactly what jansson refuses. */
Test(webhook_refuse, text_not_utf8_as_jansson_says)
{
	static const char *const bad[] = {
		"\xc0\xaf",         /* overlong '/' */
		"\xe0\x80\xaf",     /* overlong, three bytes */
		"\xed\xa0\x80",     /* a surrogate */
		"\xf4\x90\x80\x80", /* past U+10FFFF */
		"\xf5\x80\x80\x80",
		"a \xe1\x80",        /* cut short at the end */
		"\x80 a",            /* a continuation byte alone */
		"\xc3\x28",
		"\xff",
	};
	static const char *const good[] = { "Đúng Hạn ✓ 😀", "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf",
					    "\xed\x9f\xbf", "\xee\x80\x80" };

	for (int type = WEBHOOK_TELEGRAM; type <= WEBHOOK_GOOGLE_CHAT; type++) {
		if (type == WEBHOOK_TEAMS)
			continue;
		struct webhook_channel ch = {
			.type = (enum webhook_type)type, .url = "https://h.example/x",
			.chat_id = "-100123", .token = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
		};
		struct webhook_message m = { .idempotency_key = "k" };

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			json_t *j = json_string(bad[i]);
			cr_assert_null(j, "jansson takes bad[%zu]", i);
			m.text = bad[i];
			build_fails(&ch, &m, "text");
		}
		for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
			json_t *j = json_string(good[i]);
			cr_assert_not_null(j, "jansson refuses good[%zu]", i);
			json_decref(j);
			m.text = good[i];
			struct webhook_request r = build_ok(&ch, &m, NOW);
			cr_assert_not_null(strstr(r.body, good[i]), "good[%zu] is in the body", i);
			webhook_request_free(&r);
		}
	}
}

Test(webhook_refuse, idempotency_key)
{
	static const char *bad[] = { NULL, "", "has space", "crlf\r\nX-Evil: 1", "tab\tkey",
				     "khóa" };
	struct webhook_channel ch = { .type = WEBHOOK_SLACK, .url = "https://h.example/x" };
	struct webhook_message m = chat_message();
	char longkey[WEBHOOK_MAX_KEY + 2];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m.idempotency_key = bad[i];
		build_fails(&ch, &m, "idempotency_key");
	}
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	m.idempotency_key = longkey;
	build_fails(&ch, &m, "idempotency_key");
	longkey[WEBHOOK_MAX_KEY] = '\0'; /* exactly the maximum */
	struct webhook_request r = build_ok(&ch, &m, NOW);
	webhook_request_free(&r);
}

Test(webhook_refuse, json_members)
{
	struct webhook_channel ch = { .type = WEBHOOK_JSON, .url = "https://h.example/x",
				      .secret = SECRET };
	struct webhook_message m;

	m = full_message(); m.event = NULL; build_fails(&ch, &m, "event");
	m = full_message(); m.rule = ""; build_fails(&ch, &m, "rule");
	m = full_message(); m.severity = "critical"; build_fails(&ch, &m, "severity");
	m = full_message(); m.kind = "task"; build_fails(&ch, &m, "kind");
	m = full_message(); m.code = NULL; build_fails(&ch, &m, "code");
	m = full_message(); m.summary = "\xff"; build_fails(&ch, &m, "summary");
	m = full_message(); m.handler.name = "L\xc3"; build_fails(&ch, &m, "handler.name");
	m = full_message(); m.text = "\xe1\xbb"; build_fails(&ch, &m, "text");
	/* The chat types ignore the json members. */
	ch.type = WEBHOOK_SLACK;
	m = chat_message();
	m.severity = "critical";
	struct webhook_request r = build_ok(&ch, &m, NOW);
	webhook_request_free(&r);
}

Test(webhook_refuse, channel_settings)
{
	struct webhook_message m = full_message();
	struct webhook_channel ch;

	ch = (struct webhook_channel){ .type = WEBHOOK_JSON, .url = "https://h.example/x" };
	build_fails(&ch, &m, "secret_file");
	ch.secret = "";
	build_fails(&ch, &m, "secret_file");

	ch = (struct webhook_channel){ .type = WEBHOOK_TELEGRAM, .chat_id = "-1001234567" };
	build_fails(&ch, &m, "token_file");
	ch.token = "123456789:AAH-secret/../x";
	build_fails(&ch, &m, "token_file");
	ch.token = "AAH-secret:123";
	build_fails(&ch, &m, "token_file");
	ch.token = "123456789:";
	build_fails(&ch, &m, "token_file");
	ch.token = TG_TOKEN;
	ch.chat_id = NULL;
	build_fails(&ch, &m, "chat_id");
	ch.chat_id = "-100 123";
	build_fails(&ch, &m, "chat_id");
	ch.chat_id = "-1001234567";
	ch.api_base = "http://api.telegram.org";
	build_fails(&ch, &m, "api_base");
	ch.api_base = "https://tg.example/api?x=1";
	build_fails(&ch, &m, "api_base");

	ch = (struct webhook_channel){ .type = WEBHOOK_TEAMS };
	build_fails(&ch, &m, "url");
	ch.type = WEBHOOK_TYPE_COUNT;
	ch.url = "https://h.example/x";
	build_fails(&ch, &m, "type");
}

Test(webhook_url, accepted)
{
	static const char *ok[] = {
		"https://chat.example.gov.vn/hooks/abc",
		"HTTPS://Chat.Example.gov.vn:8443/hooks/abc?x=1#f",
		"https://hooks.slack.com",
		"https://[2001:db8::1]:443/x",
		"https://10.0.0.5/x",
		"http://127.0.0.1/x",
		"http://127.0.0.1:8080",
		"http://localhost:1/x",
		"http://LOCALHOST/x",
		"http://[::1]:65535/x?y",
	};
	struct err err;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		cr_expect_eq(webhook_url_check(ok[i], "url", &err), 0, "%s: %s", ok[i], err.msg);
}

Test(webhook_url, refused_without_quoting_the_url)
{
	static const char *bad[] = {
		NULL,
		"",
		"chat.example.gov.vn/hooks/secretpath",
		"ftp://chat.example.gov.vn/secretpath",
		"http://chat.example.gov.vn/secretpath",
		"http://127.0.0.2/secretpath",
		"http://localhost.example.com/secretpath",
		"http://127.0.0.1.nip.io/secretpath",
		"http://localhost@evil.example/secretpath",
		"https://user:secretpass@h.example/x",
		"https://h.example/secret path",
		"https://h.example/secret\r\nX: y",
		"https://h.example/đường-dẫn",
		"https://",
		"https:///secretpath",
		"https://h.example:/secretpath",
		"https://h.example:0/secretpath",
		"https://h.example:65536/secretpath",
		"https://h.example:80x/secretpath",
		"https://h_ex%41mple/secretpath",
		"https://[::1/secretpath",
		"https://[]/secretpath",
		"https://[::g]/secretpath",
		"https:/h.example/secretpath",
	};
	struct err err;
	char longurl[WEBHOOK_MAX_URL + 2];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(webhook_url_check(bad[i], "url", &err), -1, "%s", bad[i]);
		cr_expect_str_eq(err.field, "url");
		cr_expect_null(strstr(err.msg, "secret"), "%s", err.msg);
		cr_expect_null(strstr(err.msg, "example"), "%s", err.msg);
	}
	memcpy(longurl, "https://h.example/", 18);
	memset(longurl + 18, 'a', sizeof(longurl) - 19);
	longurl[sizeof(longurl) - 1] = '\0';
	cr_expect_eq(webhook_url_check(longurl, "url", &err), -1);
	longurl[WEBHOOK_MAX_URL] = '\0';
	cr_expect_eq(webhook_url_check(longurl, "url", &err), 0, "%s", err.msg);
}

/* --- classify --- */

static void expect_class(long status, const char *retry_after, int outcome, int64_t retry_at)
{
	int64_t at = -1;

	cr_expect_eq(webhook_classify(status, retry_after, NOW, &at), outcome, "%ld %s", status,
		     retry_after ? retry_after : "-");
	cr_expect_eq(at, retry_at, "%ld %s: retry_at %lld, expected %lld", status,
		     retry_after ? retry_after : "-", (long long)at, (long long)retry_at);
}

Test(webhook_classify, status_codes)
{
	expect_class(200, NULL, WEBHOOK_OK, 0);
	expect_class(201, NULL, WEBHOOK_OK, 0);
	expect_class(204, "120", WEBHOOK_OK, 0);
	expect_class(400, NULL, WEBHOOK_PERMANENT, 0);
	expect_class(401, NULL, WEBHOOK_PERMANENT, 0);
	expect_class(403, NULL, WEBHOOK_PERMANENT, 0);
	expect_class(404, "120", WEBHOOK_PERMANENT, 0);
	expect_class(410, NULL, WEBHOOK_PERMANENT, 0);
	expect_class(301, NULL, WEBHOOK_PERMANENT, 0);
	expect_class(100, NULL, WEBHOOK_PERMANENT, 0);
	expect_class(408, NULL, WEBHOOK_RETRYABLE, 0);
	expect_class(408, "120", WEBHOOK_RETRYABLE, 0); /* only 429 and 503 honour it */
	expect_class(429, NULL, WEBHOOK_RETRYABLE, 0);
	expect_class(500, NULL, WEBHOOK_RETRYABLE, 0);
	expect_class(500, "120", WEBHOOK_RETRYABLE, 0);
	expect_class(502, NULL, WEBHOOK_RETRYABLE, 0);
	expect_class(503, NULL, WEBHOOK_RETRYABLE, 0);
	expect_class(504, NULL, WEBHOOK_RETRYABLE, 0);
	expect_class(0, NULL, WEBHOOK_RETRYABLE, 0);
	cr_expect_eq(webhook_classify(503, "120", NOW, NULL), WEBHOOK_RETRYABLE);
}

Test(webhook_classify, retry_after_seconds)
{
	expect_class(429, "120", WEBHOOK_RETRYABLE, NOW + 120);
	expect_class(503, "120", WEBHOOK_RETRYABLE, NOW + 120);
	expect_class(429, " 7\t", WEBHOOK_RETRYABLE, NOW + 7);
	expect_class(429, "0", WEBHOOK_RETRYABLE, NOW);
	expect_class(429, "86400", WEBHOOK_RETRYABLE, NOW + 86400);
	expect_class(429, "86401", WEBHOOK_RETRYABLE, NOW + 86400);
	expect_class(429, "99999999999999999999999999", WEBHOOK_RETRYABLE, NOW + 86400);
	expect_class(429, "-5", WEBHOOK_RETRYABLE, 0);
	expect_class(429, "1.5", WEBHOOK_RETRYABLE, 0);
	expect_class(429, "", WEBHOOK_RETRYABLE, 0);
	expect_class(429, "soon", WEBHOOK_RETRYABLE, 0);
}

Test(webhook_classify, retry_after_http_date)
{
	/* NOW is Mon, 19 Feb 2024 06:30:00 GMT. */
	expect_class(429, "Mon, 19 Feb 2024 06:32:00 GMT", WEBHOOK_RETRYABLE, NOW + 120);
	expect_class(503, "Mon, 19 Feb 2024 06:32:00 GMT", WEBHOOK_RETRYABLE, NOW + 120);
	expect_class(503, "Tue, 20 Feb 2024 06:30:00 GMT", WEBHOOK_RETRYABLE, NOW + 86400);
	expect_class(503, "Wed, 21 Feb 2024 00:00:00 GMT", WEBHOOK_RETRYABLE, NOW + 86400);
	expect_class(503, "Thu, 29 Feb 2024 23:59:59 GMT", WEBHOOK_RETRYABLE, NOW + 86400);
	expect_class(429, "Sun, 18 Feb 2024 06:30:00 GMT", WEBHOOK_RETRYABLE, NOW); /* past */
	expect_class(429, "Monday, 19-Feb-24 06:31:00 GMT", WEBHOOK_RETRYABLE, NOW + 60);
	expect_class(429, "Mon Feb 19 06:30:30 2024", WEBHOOK_RETRYABLE, NOW + 30);
	expect_class(429, "Mon Feb  1 06:30:30 2027", WEBHOOK_RETRYABLE, NOW + 86400);
	/* Malformed: ignored, the caller's own backoff applies. */
	expect_class(429, "Mon, 19 Feb 2024 06:32:00 UTC", WEBHOOK_RETRYABLE, 0);
	expect_class(429, "Mon, 30 Feb 2024 06:32:00 GMT", WEBHOOK_RETRYABLE, 0);
	expect_class(429, "Thu, 29 Feb 2023 06:32:00 GMT", WEBHOOK_RETRYABLE, 0);
	expect_class(429, "Mon, 19 Feb 2024 24:00:00 GMT", WEBHOOK_RETRYABLE, 0);
	expect_class(429, "mon, 19 feb 2024 06:32:00 GMT", WEBHOOK_RETRYABLE, 0);
	expect_class(429, "Mon, 19 Feb 2024 06:32:00 GMT trailing", WEBHOOK_RETRYABLE, 0);
	expect_class(429, "2024-02-19T06:32:00Z", WEBHOOK_RETRYABLE, 0);
}

Test(webhook_classify, telegram_retry_after_in_body)
{
	static const char flood[] = "{\"ok\":false,\"error_code\":429,\"description\":"
				    "\"Too Many Requests: retry after 35\",\"parameters\":"
				    "{\"retry_after\":35}}";
	static const char huge[] = "{\"ok\":false,\"parameters\":{\"retry_after\":999999}}";
	int64_t at = -1;

	cr_expect_eq(webhook_classify_response(WEBHOOK_TELEGRAM, 429, NULL, flood,
					       sizeof(flood) - 1, NOW, &at), WEBHOOK_RETRYABLE);
	cr_expect_eq(at, NOW + 35);
	/* A Retry-After header wins over the body. */
	cr_expect_eq(webhook_classify_response(WEBHOOK_TELEGRAM, 429, "120", flood,
					       sizeof(flood) - 1, NOW, &at), WEBHOOK_RETRYABLE);
	cr_expect_eq(at, NOW + 120);
	cr_expect_eq(webhook_classify_response(WEBHOOK_TELEGRAM, 429, NULL, huge,
					       sizeof(huge) - 1, NOW, &at), WEBHOOK_RETRYABLE);
	cr_expect_eq(at, NOW + 86400);
	/* Other types do not read the body; nor does telegram for other statuses. */
	cr_expect_eq(webhook_classify_response(WEBHOOK_SLACK, 429, NULL, flood, sizeof(flood) - 1,
					       NOW, &at), WEBHOOK_RETRYABLE);
	cr_expect_eq(at, 0);
	cr_expect_eq(webhook_classify_response(WEBHOOK_TELEGRAM, 400, NULL, flood,
					       sizeof(flood) - 1, NOW, &at), WEBHOOK_PERMANENT);
	cr_expect_eq(at, 0);
	cr_expect_eq(webhook_classify_response(WEBHOOK_TELEGRAM, 429, NULL, "not json", 8, NOW,
					       &at), WEBHOOK_RETRYABLE);
	cr_expect_eq(at, 0);
	cr_expect_eq(webhook_classify_response(WEBHOOK_TELEGRAM, 429, NULL, NULL, 0, NOW, &at),
		     WEBHOOK_RETRYABLE);
	cr_expect_eq(at, 0);
	/* A 2xx is delivered whatever its body says. */
	cr_expect_eq(webhook_classify_response(WEBHOOK_TELEGRAM, 200, NULL, "{\"ok\":false}", 12,
					       NOW, &at), WEBHOOK_OK);
}
