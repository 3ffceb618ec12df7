/* ctl_core: what every dunghanctl command shares — the run's context (global options, the
 * configuration, the output), the command table's row, per-command option parsing with --help,
 * exit codes, and the way to the data: the daemon's HTTP API, or the database file read-only
 * (--db) behind the same GET paths (ctl_offline). How things are shown is ctl_view.h. */
#ifndef DUNGHAN_CTL_CORE_H
#define DUNGHAN_CTL_CORE_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "calendar.h"
#include "config.h"
#include "ctl_table.h"

enum { CTL_OK = 0, CTL_FAIL = 1, CTL_USAGE = 2 };

struct ctl_http;
struct store;

struct ctl {
	const char *config_path;
	const char *url;         /* --url, or NULL: from server.listen */
	const char *token_file;  /* --token-file, or NULL */
	const char *db_path;     /* --db: read the database, not the daemon */
	enum ctl_format format;  /* --format */
	int64_t now;             /* --now, or the clock: what remaining time is counted from */
	bool now_given;          /* --now: the daemon's overdue filters and counts use it too */
	struct config *cfg;      /* loaded before commands that need it */
	bool en;                 /* escalation.language = "en" */
	struct ctl_out out;      /* stdout */
	struct ctl_out err_out;  /* stderr (progress bars) */
	const struct ctl_command *cmd;
	struct ctl_http *http;   /* opened on first use */
	struct store *store;     /* --db, opened on first use */
};

#define CTL_NEEDS_CONFIG 0x1 /* loads -c FILE first */
#define CTL_OFFLINE 0x2      /* reads only: works with --db */
#define CTL_RAW_ARGS 0x4     /* takes its arguments as they are (calendar: "-1d" is a value) */
#define CTL_DAEMON 0x8       /* needs the daemon: refuses --db */
#define CTL_OWN_FORMAT 0x10  /* its --format is its own (import: the input's) */
#define CTL_DB_NO_CONFIG 0x20 /* with --db, runs without the configuration (backup) */

struct ctl_command {
	const char *group;
	const char *name;    /* NULL: a one-word command ("status") */
	const char *args;    /* positional arguments, e.g. "CODE TYPE [FIELD=VALUE]..." */
	const char *opts;    /* the options on one line, e.g. "[--unit U] [--limit N]" */
	const char *help;    /* what it does, one line */
	const char *details; /* --help: the options one per line, or NULL */
	int min_args, max_args;
	unsigned flags;
	/* argv[0] is the command's last word; argc counts it. */
	int (*run)(struct ctl *ctl, int argc, char **argv);
};

/* The command tables of the modules (each ends with a row whose group is NULL). */
extern const struct ctl_command ctl_calendar_commands[];
extern const struct ctl_command ctl_procedures_commands[];
extern const struct ctl_command ctl_status_commands[];
extern const struct ctl_command ctl_cases_commands[];
extern const struct ctl_command ctl_docs_commands[];
extern const struct ctl_command ctl_alerts_commands[];
extern const struct ctl_command ctl_import_commands[];

/* Prints "dunghanctl: " and the message to stderr; returns CTL_USAGE or CTL_FAIL. */
int ctl_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int ctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints the command's usage and options (its --help). */
void ctl_command_help(const struct ctl_command *cmd, FILE *fp);

/* --- options of a command ---------------------------------------------------------------
 * A command lists its options (val = its id, > 0 and not 'h' nor 'F') followed by
 * CTL_STD_OPTIONS, then loops:
 *   struct ctl_args a;  ctl_args_init(&a, argc, argv, opts);
 *   while ((id = ctl_opt(ctl, &a, &v)) > 0) switch (id) { ... }
 *   if (id < 0) return ctl_opt_exit(id);
 * and finds its positional arguments in a.pos[0 .. a.npos). */
#define CTL_STD_OPTIONS                                                                          \
	{ "help", no_argument, NULL, 'h' }, { "format", required_argument, NULL, 'F' },          \
	{ NULL, 0, NULL, 0 }

struct ctl_args {
	int argc;
	char **argv;
	const struct option *opts;
	char **pos;
	int npos;
	bool started;
};

void ctl_args_init(struct ctl_args *a, int argc, char **argv, const struct option *opts);
/* The next option of the command: its id with *arg (NULL when it takes none); 0 when the
 * options are over and the positional arguments have the command's count; -1 after a usage
 * error (printed); -2 after --help (printed). --format is handled here. */
int ctl_opt(struct ctl *ctl, struct ctl_args *a, const char **arg);
/* The exit status for a negative ctl_opt result. */
int ctl_opt_exit(int id);

/* Parses a whole number from min to max for option what; prints a usage error. */
int ctl_parse_int(const char *s, long long min, long long max, const char *what,
		  long long *out);

/* --- the data ----------------------------------------------------------------------------
 * Paths are the API's, from "/api/v1/". With --db, GETs are answered from the database file
 * (ctl_offline) with the same JSON. */

/* Sets up the client for the daemon (--url or server.listen, the token) unless it is there.
 * Returns CTL_OK, CTL_USAGE (no address) or CTL_FAIL (the token file), the error printed. */
int ctl_connect(struct ctl *ctl);

/* Percent-encodes value (RFC 3986 unreserved kept) and appends "name=value" to the query in
 * buf (with '?' or '&'). Returns 0, or -1 when buf is too small. */
int ctl_query_add(char *buf, size_t n, const char *name, const char *value);
/* Adds as_of=--now to buf when --now was given, so that the daemon's overdue filter and counts
 * are of that instant as the offline ones (--db) are. 0, or -1 when buf is too small. */
int ctl_query_as_of(struct ctl *ctl, char *buf, size_t n);

/* GET path: the answer's JSON (new reference), or NULL with the failure printed. */
json_t *ctl_get(struct ctl *ctl, const char *path);

/* POST body (JSON, borrowed; NULL: none) to path: the 2xx answer's JSON (new reference), with
 * *status (may be NULL) its HTTP status; NULL with the failure printed. */
json_t *ctl_post(struct ctl *ctl, const char *path, const json_t *body, long *status);

/* Sends raw bytes (e.g. NDJSON) and returns the answer as it came: 0 with *status and *body
 * (malloc'd, caller frees), or -1 with the transport failure printed. */
int ctl_send(struct ctl *ctl, const char *method, const char *path, const char *content_type,
	     const char *data, size_t len, long *status, char **body, size_t *body_len);

/* Prints the API error of an answer that is not 2xx: "dunghanctl: 422 unknown_reference
 * (unit): no unit has id \"x\"". Returns CTL_FAIL. */
int ctl_print_api_error(struct ctl *ctl, long status, const char *body);

/* Every item of the list at path (a query may be in it) under key, page after page following
 * next_cursor, at most limit items (0: all). cb gets each item (borrowed); a non-zero return
 * stops. Returns CTL_OK, CTL_FAIL (printed), or cb's value. */
int ctl_each(struct ctl *ctl, const char *path, const char *key, long limit,
	     int (*cb)(void *ctx, json_t *item), void *ctx);

/* Every item of the list at path under key (all pages when paged): a new array, or NULL with
 * the failure printed. */
json_t *ctl_get_all(struct ctl *ctl, const char *path, const char *key, bool paged);

/* --- JSON fields as text ----------------------------------------------------------------- */

/* The string member name of obj, or "" (NULL, absent, not a string). */
const char *ctl_str(const json_t *obj, const char *name);
/* An integer member as text into buf ("" when absent). */
const char *ctl_int_text(const json_t *obj, const char *name, char *buf, size_t n);

#endif
