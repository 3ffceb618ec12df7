/* dashboard: access, routing and the frame of the pages for unit heads (see dashboard.h and
 * docs/dashboard.md); the pages themselves are in dashboard_units.c and dashboard_items.c.
 *
 * DESIGN: the daemon keeps no session. After the login form, the cookie holds an expiry and an
 * HMAC-SHA256 of it keyed with the configured SHA-256 of the token given: checking it needs
 * nothing but the config, a restart keeps everyone logged in, removing or rotating the token
 * ends every session made with it, and the cookie is no bearer token for the API. Pages are
 * read from read-only connections that see committed data only, so their answers go out at
 * once, not behind the loop turn's commit as the API's do; every answer carries the security
 * headers, and nothing on a page loads from elsewhere or runs a script. */
#include "dashboard.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dashboard_internal.h"
#include "kpi.h"

#define COOKIE_NAME "dunghan_dashboard"
#define COOKIE_MAX_AGE (12 * 3600) /* a working day, so a shared screen logs in each morning */
#define COOKIE_MAC_LABEL "dunghan dashboard v1 "
#define CSP "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
#define NEXT_MAX 1024
#define FORM_MAX 4096

static const struct http_header security_headers[] = {
	{ "Content-Security-Policy", CSP },
	{ "X-Content-Type-Options", "nosniff" },
	{ "X-Frame-Options", "DENY" },
	{ "Referrer-Policy", "no-referrer" },
};
#define NSECURITY (sizeof(security_headers) / sizeof(security_headers[0]))

/* --- answers ------------------------------------------------------------------------------- */

/* The security headers, Cache-Control cache and extra[0..nextra) (at most 4) into h; returns
 * how many. */
static size_t headers(struct http_header h[], const char *cache, const struct http_header *extra,
		      size_t nextra)
{
	size_t n = 0;

	for (size_t i = 0; i < NSECURITY; i++)
		h[n++] = security_headers[i];
	h[n++] = (struct http_header){ "Cache-Control", cache };
	for (size_t i = 0; i < nextra && i < 4; i++)
		h[n++] = extra[i];
	return n;
}

/* Answers at once with those headers: answers that show nothing of the database. */
static void respond(struct http_request *req, int status, const char *type, const char *body,
		    size_t len, const char *cache, const struct http_header *extra, size_t nextra)
{
	struct http_header h[NSECURITY + 5];
	size_t n = headers(h, cache, extra, nextra);

	http_respond(req, status, type, body, len, h, n);
}

void dashboard_send(struct api_ctx *x, int status, struct dashboard_html *h)
{
	static const char failed[] = "the page could not be written (out of memory)";
	size_t len;
	char *body = dashboard_html_take(h, &len);

	dashboard_html_free(h);
	if (!body) {
		respond(x->req, 503, "text/plain; charset=utf-8", failed, sizeof(failed) - 1,
			"no-store", NULL, 0);
		return;
	}
	/* A page shows the database: it waits, as the API's answers do, for the commits it may
	 * have seen to be synced (api_reply_body). */
	struct http_header hs[NSECURITY + 5];
	size_t n = headers(hs, "no-store", NULL, 0);
	api_reply_body(x, status, "text/html; charset=utf-8", body, len, hs, n);
}

/* A page with one message in it. */
static struct dashboard_html *message_page(enum template_lang lang, const char *title,
					   const char *message, bool nav)
{
	struct dashboard_html *h = dashboard_html_new();

	if (!h)
		return NULL;
	dashboard_page_begin(h, lang, title, "/", nav);
	dashboard_html_raw(h, "<h1>");
	dashboard_html_text(h, title);
	dashboard_html_raw(h, "</h1><p class=\"message\">");
	dashboard_html_text(h, message);
	dashboard_html_rawf(h, "</p><p><a href=\"%s\">%s</a></p></main></body></html>\n",
			    lang == TEMPLATE_EN ? "/?lang=en" : "/",
			    dashboard_tr(lang, "Về trang tổng quan", "Back to the overview"));
	return h;
}

void dashboard_error(struct api_ctx *x, enum template_lang lang, int status, const char *message)
{
	const char *title;
	struct dashboard_html *h;

	switch (status) {
	case 400: title = dashboard_tr(lang, "Yêu cầu không hợp lệ", "Bad request"); break;
	case 403: title = dashboard_tr(lang, "Không có quyền xem", "Not allowed"); break;
	case 404: title = dashboard_tr(lang, "Không tìm thấy", "Not found"); break;
	case 405: title = dashboard_tr(lang, "Phương thức không hợp lệ", "Method not allowed");
		break;
	case 415: title = dashboard_tr(lang, "Định dạng không được hỗ trợ", "Unsupported form");
		break;
	default:
		title = dashboard_tr(lang, "Không đọc được số liệu", "The figures are unavailable");
		break;
	}
	if (!(h = message_page(lang, title, message, status != 401))) {
		respond(x->req, 503, "text/plain; charset=utf-8", "out of memory", 13, "no-store",
			NULL, 0);
		return;
	}
	dashboard_send(x, status, h);
}

int dashboard_job_failed(struct dashboard_job *j, const struct err *err)
{
	j->status = 503;
	snprintf(j->message, sizeof(j->message), "%s: %s",
		 dashboard_tr(j->lang, "Không đọc được cơ sở dữ liệu", "Cannot read the database"),
		 err->msg);
	return 0;
}

/* --- the frame ----------------------------------------------------------------------------- */

void dashboard_href(struct dashboard_html *h, enum template_lang lang, const char *path)
{
	dashboard_html_raw(h, "href=\"");
	dashboard_html_text(h, path);
	if (lang == TEMPLATE_EN)
		dashboard_html_raw(h, strchr(path, '?') ? "&amp;lang=en" : "?lang=en");
	dashboard_html_raw(h, "\"");
}

void dashboard_page_begin(struct dashboard_html *h, enum template_lang lang, const char *title,
			  const char *self, bool nav)
{
	dashboard_html_rawf(h,
			    "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
			    "<meta name=\"viewport\" content=\"width=device-width, "
			    "initial-scale=1\"><title>",
			    lang == TEMPLATE_EN ? "en" : "vi");
	dashboard_html_text(h, title);
	dashboard_html_raw(h, " · Đúng hạn</title>"
			      "<link rel=\"stylesheet\" href=\"/static/dashboard.css\"></head>\n"
			      "<body><header class=\"top\"><a class=\"brand\" ");
	dashboard_href(h, lang, "/");
	dashboard_html_raw(h, ">Đúng hạn</a>");
	if (nav) {
		dashboard_html_raw(h, "<nav><a ");
		dashboard_href(h, lang, "/");
		dashboard_html_rawf(h, ">%s</a><a ", dashboard_tr(lang, "Tổng quan", "Overview"));
		dashboard_href(h, lang, "/documents");
		dashboard_html_rawf(h, ">%s</a>",
				    dashboard_tr(lang, "Chỉ đạo, nhiệm vụ", "Directives"));
		/* The other language, on the same page. */
		dashboard_html_raw(h, "<a lang=\"");
		dashboard_html_raw(h, lang == TEMPLATE_EN ? "vi\" " : "en\" ");
		dashboard_href(h, lang == TEMPLATE_EN ? TEMPLATE_VI : TEMPLATE_EN, self);
		dashboard_html_rawf(h, ">%s</a><a ",
				    lang == TEMPLATE_EN ? "Tiếng Việt" : "English");
		dashboard_href(h, lang, "/logout");
		dashboard_html_rawf(h, ">%s</a></nav>", dashboard_tr(lang, "Đăng xuất", "Log out"));
	}
	dashboard_html_raw(h, "</header>\n<main>");
}

void dashboard_page_end(struct dashboard_html *h, struct api_ctx *x, enum template_lang lang)
{
	dashboard_html_rawf(h, "</main>\n<footer>%s ",
			    dashboard_tr(lang, "Số liệu lúc", "Figures as of"));
	dashboard_instant(h, x, lang, x->now);
	dashboard_html_raw(h, "</footer></body></html>\n");
}

void dashboard_page_end_kept(struct dashboard_html *h, struct api_ctx *x,
			     enum template_lang lang, int64_t computed_at)
{
	/* data-at: the exact instant, for scripts and tests; the text says it to the minute. */
	dashboard_html_rawf(h, "</main>\n<footer><span class=\"asof\" data-at=\"%lld\">%s ",
			    (long long)computed_at,
			    dashboard_tr(lang, "Số liệu tính lúc", "Figures as of"));
	dashboard_instant(h, x, lang, computed_at);
	dashboard_html_raw(h, "</span></footer></body></html>\n");
}

void dashboard_instant(struct dashboard_html *h, struct api_ctx *x, enum template_lang lang,
		       int64_t t)
{
	char buf[TEMPLATE_INSTANT_MAX];

	if (t == TIME_NONE || template_format_instant(x->cal, t, lang, buf, sizeof(buf)) < 0)
		dashboard_html_raw(h, "—");
	else
		dashboard_html_text(h, buf);
}

void dashboard_percent(struct dashboard_html *h, enum template_lang lang, double v)
{
	char buf[TEMPLATE_PERCENT_MAX];

	if (kpi_no_data(v) || template_format_percent(v, 1, lang, buf, sizeof(buf)) < 0)
		dashboard_html_raw(h, "—");
	else
		dashboard_html_text(h, buf);
}

/* --- queries and forms --------------------------------------------------------------------- */

static int parse_lang(const char *v, enum template_lang *lang)
{
	*lang = TEMPLATE_VI;
	if (!v || !strcmp(v, "vi"))
		return 0;
	if (!strcmp(v, "en")) {
		*lang = TEMPLATE_EN;
		return 0;
	}
	return -1;
}

/* The language a request asks for, read loosely, for the answers given before its query is
 * checked (login, errors of access and routing). */
static enum template_lang lang_of(struct api_ctx *x)
{
	const char *q = http_request_query(x->req);

	for (const char *p = strstr(q, "lang=en"); p; p = strstr(p + 1, "lang=en"))
		if ((p == q || p[-1] == '&') && (p[7] == '\0' || p[7] == '&'))
			return TEMPLATE_EN;
	return TEMPLATE_VI;
}

int dashboard_query(struct api_ctx *x, const char *const *names, const char **values,
		    char *buf, size_t bufsize, enum template_lang *lang)
{
	struct api_error e;
	size_t i = 0;

	*lang = lang_of(x);
	if (api_query_values(x, names, values, buf, bufsize, &e) != 0) {
		dashboard_error(x, *lang, 400, e.message);
		return -1;
	}
	while (names[i] && strcmp(names[i], "lang") != 0)
		i++;
	if (names[i] && parse_lang(values[i], lang) != 0) {
		char message[160];

		snprintf(message, sizeof(message), "lang: \"%.40s\" is not vi or en", values[i]);
		dashboard_error(x, TEMPLATE_VI, 400, message);
		return -1;
	}
	return 0;
}

/* The fields of an application/x-www-form-urlencoded body into values (as names); -1 with a
 * message on a field not in names, a bad escape or a body too large. */
static int parse_form(const char *body, size_t len, const char *const *names,
		      const char **values, char *buf, size_t bufsize, char *message, size_t n)
{
	const char *p = body, *end = body + len;
	size_t used = 0, k;

	for (k = 0; names[k]; k++)
		values[k] = NULL;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p)), *stop = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));

		if (stop == p) {
			p++;
			continue;
		}
		if (!eq) {
			snprintf(message, n, "the form is not name=value fields");
			return -1;
		}
		size_t namelen = (size_t)(eq - p);
		for (k = 0; names[k]; k++)
			if (strlen(names[k]) == namelen && !memcmp(names[k], p, namelen))
				break;
		if (!names[k]) {
			snprintf(message, n, "unknown form field \"%.*s\"",
				 (int)((eq - p) > 40 ? 40 : (eq - p)), p);
			return -1;
		}
		if (api_url_decode(eq + 1, (size_t)(stop - eq - 1), buf + used,
				   bufsize - used) != 0) {
			snprintf(message, n, "%s: bad percent-encoding or too long", names[k]);
			return -1;
		}
		values[k] = buf + used;
		used += strlen(buf + used) + 1;
		p = stop + (amp ? 1 : 0);
	}
	return 0;
}

/* --- the session cookie -------------------------------------------------------------------- */

/* The cookie's MAC for expiry under token t, as 64 hex digits. */
static void cookie_mac(const struct config_token *t, long long expiry, char hex[65])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	char msg[64];
	int n = snprintf(msg, sizeof(msg), COOKIE_MAC_LABEL "%lld", expiry);

	if (!HMAC(EVP_sha256(), t->sha256, sizeof(t->sha256), (const unsigned char *)msg,
		  (size_t)n, mac, &maclen) || maclen != 32) {
		memset(hex, '0', 64); /* matches no cookie: the check below wants 64 hex digits */
		hex[64] = '\0';
		return;
	}
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
}

/* The value of our cookie in the Cookie header into out, or false. */
static bool cookie_value(struct api_ctx *x, char *out, size_t n)
{
	const char *h = http_request_header(x->req, "cookie"), *p;
	size_t name = strlen(COOKIE_NAME), len;

	for (p = h; p && *p; p += strcspn(p, ";"), p += *p == ';') {
		p += strspn(p, " \t");
		if (strncmp(p, COOKIE_NAME "=", name + 1) != 0)
			continue;
		p += name + 1;
		len = strcspn(p, "; \t");
		if (len >= n)
			return false;
		memcpy(out, p, len);
		out[len] = '\0';
		return true;
	}
	return false;
}

/* The token whose session the cookie is, or NULL (none, expired, or made with no token the
 * config still has). Every token is tried, so that timing tells nothing. */
static const struct config_token *cookie_token(struct api_ctx *x)
{
	const struct config_token *found = NULL;
	char value[128], hex[65], *end;
	long long expiry;

	if (!cookie_value(x, value, sizeof(value)) || strncmp(value, "v1.", 3) != 0)
		return NULL;
	expiry = strtoll(value + 3, &end, 10);
	if (end == value + 3 || *end != '.' || strlen(end + 1) != 64 || expiry <= x->now ||
	    expiry > x->now + COOKIE_MAX_AGE + 300)
		return NULL;
	for (size_t i = 0; i < x->cfg->ntokens; i++) {
		cookie_mac(&x->cfg->tokens[i], expiry, hex);
		if (CRYPTO_memcmp(hex, end + 1, 64) == 0)
			found = &x->cfg->tokens[i];
	}
	return found;
}

static bool may_read(const struct config_token *t)
{
	return t && (t->scopes & (CONFIG_SCOPE_READ | CONFIG_SCOPE_ADMIN));
}

/* Whether the answer goes to a browser through HTTPS (a reverse proxy says so): the cookie is
 * then Secure. dunghand itself speaks plain HTTP and cannot know otherwise. */
static bool behind_https(struct api_ctx *x)
{
	const char *proto = http_request_header(x->req, "x-forwarded-proto");

	return proto && !strcasecmp(proto, "https");
}

/* --- login and logout ---------------------------------------------------------------------- */

/* next as a path of this site to go back to after the login, else "/". */
static const char *safe_next(const char *next)
{
	if (!next || next[0] != '/' || next[1] == '/' || next[1] == '\\' ||
	    strlen(next) >= NEXT_MAX)
		return "/";
	for (const char *p = next; *p; p++)
		if (*p <= ' ' || *p > '~')
			return "/";
	return next;
}

static void login_page(struct api_ctx *x, enum template_lang lang, int status, const char *next,
		       const char *message)
{
	struct dashboard_html *h = dashboard_html_new();

	if (!h) {
		dashboard_error(x, lang, 503, "out of memory");
		return;
	}
	dashboard_page_begin(h, lang, dashboard_tr(lang, "Đăng nhập", "Log in"), "/login", false);
	dashboard_html_rawf(h, "<h1>%s</h1>",
			    dashboard_tr(lang, "Đăng nhập bảng theo dõi",
					 "Log in to the dashboard"));
	if (message) {
		dashboard_html_raw(h, "<p class=\"message\" role=\"alert\">");
		dashboard_html_text(h, message);
		dashboard_html_raw(h, "</p>");
	}
	dashboard_html_rawf(h,
			    "<form class=\"login\" method=\"post\" action=\"/login\">"
			    "<label for=\"token\">%s</label><input id=\"token\" name=\"token\" "
			    "type=\"password\" autocomplete=\"current-password\" required "
			    "autofocus>"
			    "<input type=\"hidden\" name=\"next\" value=\"",
			    dashboard_tr(lang, "Mã truy cập (token chỉ đọc)",
					 "Access token (read scope)"));
	dashboard_html_text(h, safe_next(next));
	dashboard_html_rawf(h,
			    "\"><input type=\"hidden\" name=\"lang\" value=\"%s\">"
			    "<button type=\"submit\">%s</button></form><p class=\"hint\">%s</p>"
			    "</main></body></html>\n",
			    lang == TEMPLATE_EN ? "en" : "vi",
			    dashboard_tr(lang, "Đăng nhập", "Log in"),
			    dashboard_tr(lang,
					 "Mã được ghi nhớ trong trình duyệt này 12 giờ.",
					 "This browser remembers it for 12 hours."));
	dashboard_send(x, status, h);
}

static void login_get(struct api_ctx *x)
{
	static const char *const names[] = { "next", "lang", NULL };
	const char *v[3];
	char buf[NEXT_MAX + 64];
	enum template_lang lang;

	if (dashboard_query(x, names, v, buf, sizeof(buf), &lang) != 0)
		return;
	login_page(x, lang, 200, v[0], NULL);
}

static void login_post(struct api_ctx *x, dashboard_token_fn token_of)
{
	static const char *const names[] = { "token", "next", "lang", NULL };
	const char *v[4], *type = http_request_header(x->req, "content-type");
	char buf[FORM_MAX], message[200], bearer[FORM_MAX + 8], mac[65], cookie[256];
	enum template_lang lang = lang_of(x);
	const struct config_token *t;
	size_t len;
	const char *body = http_request_body(x->req, &len);
	long long expiry = (long long)x->now + COOKIE_MAX_AGE;

	if (!type || strncasecmp(type, "application/x-www-form-urlencoded", 33) != 0) {
		dashboard_error(x, lang, 415,
				"the login form is sent as application/x-www-form-urlencoded");
		return;
	}
	if (len >= sizeof(buf) ||
	    parse_form(body, len, names, v, buf, sizeof(buf), message, sizeof(message)) != 0) {
		if (len >= sizeof(buf))
			snprintf(message, sizeof(message), "the login form is too large");
		dashboard_error(x, lang, 400, message);
		return;
	}
	if (parse_lang(v[2], &lang) != 0) {
		dashboard_error(x, TEMPLATE_VI, 400, "lang: not vi or en");
		return;
	}
	if (!v[0] || !*v[0]) {
		login_page(x, lang, 400, v[1],
			   dashboard_tr(lang, "Chưa nhập mã truy cập.", "No token was given."));
		return;
	}
	snprintf(bearer, sizeof(bearer), "Bearer %s", v[0]);
	if (!(t = token_of(x->cfg, bearer))) {
		login_page(x, lang, 401, v[1],
			   dashboard_tr(lang, "Mã truy cập không đúng.",
					"That token is not valid."));
		return;
	}
	if (!may_read(t)) {
		login_page(x, lang, 403, v[1],
			   dashboard_tr(lang, "Mã này không có quyền đọc (scope read).",
					"This token may not read (scope read needed)."));
		return;
	}
	cookie_mac(t, expiry, mac);
	snprintf(cookie, sizeof(cookie),
		 COOKIE_NAME "=v1.%lld.%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Strict%s",
		 expiry, mac, COOKIE_MAX_AGE, behind_https(x) ? "; Secure" : "");
	/* Back where the reader was going, in the language of the form. */
	const char *next = safe_next(v[1]);
	char location[NEXT_MAX + 16];
	bool add_lang = lang == TEMPLATE_EN && !strstr(next, "lang=");

	snprintf(location, sizeof(location), "%s%s", next,
		 !add_lang ? "" : strchr(next, '?') ? "&lang=en" : "?lang=en");
	const struct http_header extra[] = { { "Set-Cookie", cookie }, { "Location", location } };
	respond(x->req, 303, NULL, NULL, 0, "no-store", extra, 2);
}

static void logout(struct api_ctx *x)
{
	static const struct http_header extra[] = {
		{ "Set-Cookie", COOKIE_NAME "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict" },
		{ "Location", "/login" },
	};

	respond(x->req, 303, NULL, NULL, 0, "no-store", extra, 2);
}

/* Percent-encodes s (all but unreserved characters and '/') into out. */
static bool encode_next(const char *s, char *out, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			     (*p >= '0' && *p <= '9') || strchr("-._~/", *p);
		if (o + 4 >= n)
			return false;
		if (plain) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
	return true;
}

/* No valid credentials: a browser goes to the login page and comes back; any other client gets
 * 401 as from the API. */
static void unauthorized(struct api_ctx *x, bool bad_bearer)
{
	const char *accept = http_request_header(x->req, "accept");
	const char *query = http_request_query(x->req);
	char here[NEXT_MAX], next[3 * NEXT_MAX], location[3 * NEXT_MAX + 32];

	if (!bad_bearer && accept && strstr(accept, "text/html")) {
		snprintf(here, sizeof(here), "%s%s%s", http_request_path(x->req), *query ? "?" : "",
			 query);
		if (encode_next(here, next, sizeof(next)))
			snprintf(location, sizeof(location), "/login?next=%s", next);
		else
			snprintf(location, sizeof(location), "/login");
		const struct http_header extra[] = { { "Location", location } };
		respond(x->req, 303, NULL, NULL, 0, "no-store", extra, 1);
		return;
	}
	static const char body[] = "{\"error\":{\"code\":\"unauthorized\",\"message\":"
				   "\"a valid token is required: Authorization: Bearer <token>, "
				   "or log in at /login\"}}";
	const struct http_header extra[] = { { "WWW-Authenticate", "Bearer realm=\"dunghan\"" } };
	respond(x->req, 401, "application/json", body, sizeof(body) - 1, "no-store", extra, 1);
}

/* --- routing ------------------------------------------------------------------------------- */

bool dashboard_path(const char *path)
{
	return path[0] == '/' && strcmp(path, "/healthz") != 0 && strcmp(path, "/readyz") != 0 &&
	       strcmp(path, "/metrics") != 0 && strcmp(path, "/api/v1") != 0 &&
	       strncmp(path, "/api/v1/", 8) != 0;
}

const char *dashboard_route(const char *path)
{
	static const char *const fixed[] = { "/", "/documents", "/login", "/logout",
					     "/static/dashboard.css" };

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (!strcmp(path, fixed[i]))
			return fixed[i];
	if (!strncmp(path, "/units/", 7))
		return "/units/{id}";
	if (!strncmp(path, "/cases/", 7))
		return "/cases/{code}";
	return "dashboard";
}

static void not_allowed(struct api_ctx *x, const char *allow)
{
	char message[80];
	struct dashboard_html *h;

	snprintf(message, sizeof(message), "use %s", allow);
	if (!(h = message_page(lang_of(x),
			       dashboard_tr(lang_of(x), "Phương thức không hợp lệ",
					    "Method not allowed"),
			       message, true))) {
		dashboard_error(x, TEMPLATE_VI, 503, "out of memory");
		return;
	}
	size_t len;
	char *body = dashboard_html_take(h, &len);
	const struct http_header extra[] = { { "Allow", allow } };

	dashboard_html_free(h);
	respond(x->req, 405, "text/html; charset=utf-8", body ? body : "", body ? len : 0,
		"no-store", extra, 1);
	free(body);
}

/* The identifier after prefix in path (percent-decoded into out), or false. */
static bool path_key(const char *path, const char *prefix, char *out, size_t n)
{
	size_t len = strlen(prefix);

	if (strncmp(path, prefix, len) != 0 || !path[len] || strchr(path + len, '/') ||
	    api_url_decode(path + len, strlen(path + len), out, n) != 0 ||
	    strlen(out) > CASE_ID_MAX)
		return false;
	return strspn(out, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
	       strlen(out);
}

static void stylesheet(struct api_ctx *x)
{
	size_t len;
	const char *css = dashboard_css(&len);

	respond(x->req, 200, "text/css; charset=utf-8", css, len, "max-age=300", NULL, 0);
}

void dashboard_handle(struct api_ctx *x, dashboard_token_fn token_of)
{
	const char *path = http_request_path(x->req), *method = http_request_method(x->req);
	bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
	const struct config_token *t;
	char key[3 * CASE_ID_MAX + 4];
	bool bad_bearer = false;

	if (!strcmp(path, "/login")) {
		if (!strcmp(method, "POST"))
			login_post(x, token_of);
		else if (get)
			login_get(x);
		else
			not_allowed(x, "GET, HEAD, POST");
		return;
	}
	if (!get) {
		not_allowed(x, "GET, HEAD");
		return;
	}
	if (!strcmp(path, "/static/dashboard.css")) {
		stylesheet(x);
		return;
	}
	if (!strcmp(path, "/logout")) {
		logout(x);
		return;
	}
	/* A bearer header wins over the cookie, and a wrong one is refused, not redirected. */
	if (http_request_header(x->req, "authorization")) {
		t = token_of(x->cfg, http_request_header(x->req, "authorization"));
		bad_bearer = !t;
	} else {
		t = cookie_token(x);
	}
	if (!t) {
		unauthorized(x, bad_bearer);
		return;
	}
	if (!may_read(t)) {
		dashboard_error(x, lang_of(x), 403,
				dashboard_tr(lang_of(x),
					     "Mã truy cập này không có quyền đọc (scope read).",
					     "This token may not read (scope read needed)."));
		return;
	}
	x->actor = t->name;
	if (!strcmp(path, "/"))
		dashboard_overview(x);
	else if (!strcmp(path, "/documents"))
		dashboard_documents(x);
	else if (path_key(path, "/units/", key, sizeof(key)))
		dashboard_unit(x, key);
	else if (path_key(path, "/cases/", key, sizeof(key)))
		dashboard_case(x, key);
	else
		dashboard_error(x, lang_of(x), 404,
				dashboard_tr(lang_of(x), "Không có trang này.", "No such page."));
}
