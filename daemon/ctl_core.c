/* ctl_core: the options, messages and data access every dunghanctl command shares (see
 * ctl_core.h): the daemon through ctl_http, or the database file through ctl_offline. */
#include "ctl_core.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl_http.h"
#include "ctl_offline.h"
#include "ctl_view.h"
#include "store.h"

#define PAGE_MAX 500 /* the API's largest page */

static int message(int rc, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static int message(int rc, const char *fmt, va_list ap)
{
	fputs("dunghanctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	return rc;
}

int ctl_usage(const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = message(CTL_USAGE, fmt, ap);
	va_end(ap);
	return rc;
}

int ctl_fail(const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = message(CTL_FAIL, fmt, ap);
	va_end(ap);
	return rc;
}

/* "cases list", or "status". */
static void command_name(const struct ctl_command *cmd, char *buf, size_t n)
{
	snprintf(buf, n, "%s%s%s", cmd->group, cmd->name ? " " : "", cmd->name ? cmd->name : "");
}

void ctl_command_help(const struct ctl_command *cmd, FILE *fp)
{
	char name[64];

	command_name(cmd, name, sizeof(name));
	fprintf(fp, "Usage: dunghanctl [GLOBAL OPTIONS] %s%s%s%s%s\n%s\n", name,
		cmd->args && *cmd->args ? " " : "", cmd->args ? cmd->args : "",
		cmd->opts && *cmd->opts ? " " : "", cmd->opts ? cmd->opts : "", cmd->help);
	if (cmd->details)
		fprintf(fp, "\nOptions:\n%s", cmd->details);
	if (!(cmd->flags & (CTL_RAW_ARGS | CTL_OWN_FORMAT)))
		fprintf(fp, "%s      --format F     table (default), csv (UTF-8 with BOM, for Excel) or "
			    "json\n  -h, --help         this help\n",
			cmd->details ? "" : "\nOptions:\n");
	fprintf(fp, "\nSee \"dunghanctl --help\" for the global options and docs/cli.md.\n");
}

/* --- options ------------------------------------------------------------------------------ */

void ctl_args_init(struct ctl_args *a, int argc, char **argv, const struct option *opts)
{
	*a = (struct ctl_args){ .argc = argc, .argv = argv, .opts = opts };
}

int ctl_opt_exit(int id)
{
	return id == -2 ? CTL_OK : CTL_USAGE;
}

int ctl_opt(struct ctl *ctl, struct ctl_args *a, const char **arg)
{
	char name[64];
	int id, fmt;

	command_name(ctl->cmd, name, sizeof(name));
	*arg = NULL;
	if (!a->started) {
		optind = 0; /* glibc: start over (main parsed the global options already) */
		opterr = 0;
		a->started = true;
	}
	for (;;) {
		id = getopt_long(a->argc, a->argv, ":", a->opts, NULL);
		switch (id) {
		case -1:
			a->pos = a->argv + optind;
			a->npos = a->argc - optind;
			if (a->npos < ctl->cmd->min_args || a->npos > ctl->cmd->max_args) {
				ctl_usage("\"%s\" expects %s (see \"dunghanctl %s --help\")", name,
					  *ctl->cmd->args ? ctl->cmd->args : "no arguments", name);
				return -1;
			}
			return 0;
		case 'h':
			ctl_command_help(ctl->cmd, stdout);
			return -2;
		case 'F':
			if ((fmt = ctl_format_parse(optarg)) < 0) {
				ctl_usage("--format \"%s\" is not table, csv or json", optarg);
				return -1;
			}
			ctl->format = (enum ctl_format)fmt;
			continue;
		case ':':
			ctl_usage("%s: %s needs a value (see \"dunghanctl %s --help\")", name,
				  a->argv[optind - 1], name);
			return -1;
		case '?':
			if (optopt)
				ctl_usage("%s: unknown option \"-%c\" (see \"dunghanctl %s --help\")", name,
					  optopt, name);
			else
				ctl_usage("%s: unknown option \"%s\" (see \"dunghanctl %s --help\")", name,
					  a->argv[optind - 1], name);
			return -1;
		default:
			*arg = optarg;
			return id;
		}
	}
}

int ctl_parse_int(const char *s, long long min, long long max, const char *what,
		  long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return ctl_usage("%s \"%s\" is not a whole number from %lld to %lld", what, s, min,
				 max);
	*out = v;
	return CTL_OK;
}

/* --- the data ----------------------------------------------------------------------------- */

int ctl_query_add(char *buf, size_t n, const char *name, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t used = strlen(buf);
	int k = snprintf(buf + used, n - used, "%c%s=", strchr(buf, '?') ? '&' : '?', name);

	if (k < 0 || (size_t)k >= n - used)
		return -1;
	used += (size_t)k;
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if (used + 4 > n)
			return -1;
		if (isalnum(*p) || strchr("-._~", *p)) {
			buf[used++] = (char)*p;
		} else {
			buf[used++] = '%';
			buf[used++] = hex[*p >> 4];
			buf[used++] = hex[*p & 15];
		}
	}
	buf[used] = '\0';
	return 0;
}

/* The token: --token-file, $DUNGHAN_TOKEN, or ~/.config/dunghan/token when it exists. *token
 * is NULL when there is none. */
static int read_token(struct ctl *ctl, char **token)
{
	const char *env = getenv("DUNGHAN_TOKEN"), *home = getenv("HOME");
	const char *xdg = getenv("XDG_CONFIG_HOME");
	char path[1024];
	const char *file = ctl->token_file;
	struct stat st;
	char line[1024];
	FILE *fp;

	*token = NULL;
	if (!file && env && *env)
		return (*token = strdup(env)) ? CTL_OK : ctl_fail("out of memory");
	if (!file) {
		if (xdg && *xdg)
			snprintf(path, sizeof(path), "%s/dunghan/token", xdg);
		else if (home && *home)
			snprintf(path, sizeof(path), "%s/.config/dunghan/token", home);
		else
			return CTL_OK;
		if (stat(path, &st) != 0)
			return CTL_OK;
		file = path;
	}
	if (!(fp = fopen(file, "r")))
		return ctl_fail("cannot read the token file %s: %s", file, strerror(errno));
	if (fstat(fileno(fp), &st) == 0 && (st.st_mode & 077))
		fprintf(stderr, "dunghanctl: warning: the token file %s can be read by other users "
				"(chmod 600 %s)\n", file, file);
	if (!fgets(line, sizeof(line), fp))
		line[0] = '\0';
	fclose(fp);
	size_t len = strlen(line);
	while (len && isspace((unsigned char)line[len - 1]))
		line[--len] = '\0';
	if (!len)
		return ctl_fail("the token file %s is empty", file);
	return (*token = strdup(line)) ? CTL_OK : ctl_fail("out of memory");
}

/* The daemon's address: --url, else http:// and server.listen (a wildcard address means this
 * machine). */
static int base_url(struct ctl *ctl, char *buf, size_t n)
{
	const char *listen = ctl->cfg->server.listen, *colon = strrchr(listen, ':');

	if (ctl->url) {
		size_t len = strlen(ctl->url);
		if (strncmp(ctl->url, "http://", 7) && strncmp(ctl->url, "https://", 8))
			return ctl_usage("--url \"%s\" is not an http:// or https:// address", ctl->url);
		while (len && ctl->url[len - 1] == '/')
			len--;
		snprintf(buf, n, "%.*s", (int)len, ctl->url);
		return CTL_OK;
	}
	if (!colon || strcmp(colon, ":0") == 0)
		return ctl_usage("server.listen in %s has no fixed port: give the daemon's address "
				 "with --url", ctl->cfg->path);
	if (strncmp(listen, "0.0.0.0:", 8) == 0)
		snprintf(buf, n, "http://127.0.0.1%s", colon);
	else if (strncmp(listen, "[::]:", 5) == 0)
		snprintf(buf, n, "http://[::1]%s", colon);
	else
		snprintf(buf, n, "http://%s", listen);
	return CTL_OK;
}

int ctl_connect(struct ctl *ctl)
{
	char base[512], *token = NULL;
	struct err err;
	int rc;

	if (ctl->http)
		return CTL_OK;
	if ((rc = base_url(ctl, base, sizeof(base))) != CTL_OK ||
	    (rc = read_token(ctl, &token)) != CTL_OK)
		return rc;
	/* It goes into a header line: printable ASCII only. */
	for (const char *p = token; p && *p; p++)
		if (*p < 0x21 || *p > 0x7e) {
			free(token);
			return ctl_fail("the token holds a character a token cannot have (a space, "
					"a line break, non-ASCII)");
		}
	ctl->http = ctl_http_new(base, token, &err);
	free(token);
	return ctl->http ? CTL_OK : ctl_fail("%s", err.msg);
}

int ctl_print_api_error(struct ctl *ctl, long status, const char *body)
{
	json_t *j = json_loads(body ? body : "", 0, NULL);
	json_t *e = json_object_get(j, "error");
	const char *code = ctl_str(e, "code"), *msg = ctl_str(e, "message");
	const char *field = ctl_str(e, "field");

	if (*code && *field)
		fprintf(stderr, "dunghanctl: %ld %s (%s): %s\n", status, code, field, msg);
	else if (*code)
		fprintf(stderr, "dunghanctl: %ld %s: %s\n", status, code, msg);
	else
		fprintf(stderr, "dunghanctl: HTTP %ld from %s: %.200s\n", status,
			ctl->http ? ctl_http_base(ctl->http) : "the daemon", body ? body : "");
	if (status == 401)
		fprintf(stderr, "dunghanctl: give a token with --token-file FILE, $DUNGHAN_TOKEN or "
				"~/.config/dunghan/token\n");
	json_decref(j);
	return CTL_FAIL;
}

int ctl_send(struct ctl *ctl, const char *method, const char *path, const char *content_type,
	     const char *data, size_t len, long *status, char **body, size_t *body_len)
{
	struct ctl_http_answer a;
	struct err err;

	*body = NULL;
	if (ctl_connect(ctl) != CTL_OK)
		return -1;
	if (ctl_http_request(ctl->http, method, path, content_type, data, len, &a, &err) != 0) {
		ctl_fail("%s", err.msg);
		return -1;
	}
	*status = a.status;
	*body = a.body;
	if (body_len)
		*body_len = a.len;
	return 0;
}

/* One JSON request through the daemon or the database: the 2xx answer, or NULL (printed). */
static json_t *request(struct ctl *ctl, const char *method, const char *path, const json_t *in,
		       long *status)
{
	char *text = NULL, *body = NULL;
	json_t *j = NULL;
	json_error_t jerr;
	long st = 0;

	if (ctl->db_path) {
		struct err err;
		if (strcmp(method, "GET") != 0) {
			ctl_fail("%s %s needs the daemon, not --db", method, path);
			return NULL;
		}
		if (ctl_offline_get(ctl, path, &st, &j, &err) != 0) {
			ctl_fail("%s", err.msg);
			return NULL;
		}
		if (st / 100 != 2) {
			text = json_dumps(j, JSON_COMPACT);
			ctl_print_api_error(ctl, st, text);
			free(text);
			json_decref(j);
			return NULL;
		}
		if (status)
			*status = st;
		return j;
	}
	if (in && !(text = json_dumps(in, JSON_COMPACT))) {
		ctl_fail("out of memory");
		return NULL;
	}
	if (ctl_send(ctl, method, path, in ? "application/json" : NULL, text, text ? strlen(text) : 0,
		     &st, &body, NULL) != 0)
		goto out;
	if (st / 100 != 2) {
		ctl_print_api_error(ctl, st, body);
		goto out;
	}
	if (!(j = json_loads(body, 0, &jerr)))
		ctl_fail("the daemon's answer to %s %s is not JSON: %s", method, path, jerr.text);
	else if (status)
		*status = st;
out:
	free(text);
	free(body);
	return j;
}

int ctl_query_as_of(struct ctl *ctl, char *buf, size_t n)
{
	char when[64];

	if (!ctl->now_given)
		return 0;
	calendar_format(ctl->cfg->calendar, ctl->now, when, sizeof(when));
	return ctl_query_add(buf, n, "as_of", when);
}

json_t *ctl_get(struct ctl *ctl, const char *path)
{
	return request(ctl, "GET", path, NULL, NULL);
}

json_t *ctl_post(struct ctl *ctl, const char *path, const json_t *body, long *status)
{
	return request(ctl, "POST", path, body, status);
}

int ctl_each(struct ctl *ctl, const char *path, const char *key, long limit,
	     int (*cb)(void *ctx, json_t *item), void *ctx)
{
	char page[4096], cursor[128] = "", count[24];
	long seen = 0;

	for (;;) {
		long want = limit > 0 && limit - seen < PAGE_MAX ? limit - seen : PAGE_MAX;
		snprintf(page, sizeof(page), "%s", path);
		snprintf(count, sizeof(count), "%ld", want);
		if (ctl_query_add(page, sizeof(page), "limit", count) != 0 ||
		    (cursor[0] && ctl_query_add(page, sizeof(page), "cursor", cursor) != 0))
			return ctl_fail("the request for %s is too long", path);
		json_t *j = ctl_get(ctl, page);
		if (!j)
			return CTL_FAIL;
		json_t *items = json_object_get(j, key), *next = json_object_get(j, "next_cursor");
		size_t i;
		json_t *item;
		if (!json_is_array(items)) {
			json_decref(j);
			return ctl_fail("the answer to GET %s has no list \"%s\"", page, key);
		}
		json_array_foreach(items, i, item) {
			int rc = cb(ctx, item);
			if (rc != 0) {
				json_decref(j);
				return rc;
			}
			if (limit > 0 && ++seen >= limit) {
				json_decref(j);
				return CTL_OK;
			}
		}
		if (!json_is_string(next) || strlen(json_string_value(next)) >= sizeof(cursor)) {
			json_decref(j);
			return CTL_OK;
		}
		snprintf(cursor, sizeof(cursor), "%s", json_string_value(next));
		json_decref(j);
	}
}

static int append(void *ctx, json_t *item)
{
	return json_array_append(ctx, item) == 0 ? 0 : ctl_fail("out of memory");
}

json_t *ctl_get_all(struct ctl *ctl, const char *path, const char *key, bool paged)
{
	json_t *all, *j, *items;

	if (paged) {
		if (!(all = json_array())) {
			ctl_fail("out of memory");
			return NULL;
		}
		if (ctl_each(ctl, path, key, 0, append, all) != CTL_OK) {
			json_decref(all);
			return NULL;
		}
		return all;
	}
	if (!(j = ctl_get(ctl, path)))
		return NULL;
	items = json_object_get(j, key);
	if (!json_is_array(items)) {
		json_decref(j);
		ctl_fail("the answer to GET %s has no list \"%s\"", path, key);
		return NULL;
	}
	json_incref(items);
	json_decref(j);
	return items;
}

/* --- JSON fields -------------------------------------------------------------------------- */

const char *ctl_str(const json_t *obj, const char *name)
{
	const char *s = json_string_value(json_object_get(obj, name));
	return s ? s : "";
}

const char *ctl_int_text(const json_t *obj, const char *name, char *buf, size_t n)
{
	json_t *v = json_object_get(obj, name);

	if (json_is_integer(v))
		snprintf(buf, n, "%lld", (long long)json_integer_value(v));
	else
		snprintf(buf, n, "%s", "");
	return buf;
}
