/* config: loads and validates dunghan.conf (libconfig syntax) and the official holiday
 * schedules it includes, against one table of every setting (name, type, bounds, default).
 * Every error names the file, the line and the setting path. A loaded config is immutable;
 * a reload builds a new one and swaps it in whole. */
#ifndef DUNGHAN_CONFIG_H
#define DUNGHAN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calendar.h"
#include "escalation.h"
#include "template.h"
#include "log.h"

#define CONFIG_DEFAULT_PATH "/etc/dunghan/dunghan.conf"

enum config_scope {
	CONFIG_SCOPE_READ = 1u << 0,
	CONFIG_SCOPE_WRITE = 1u << 1,
	CONFIG_SCOPE_ADMIN = 1u << 2,
};

/* Every string below is owned by the config and lives as long as it. */
struct config_unit {
	const char *id;
	const char *name;
	const char *level;  /* free tag from config: "province", "department", "commune", ... */
	const char *parent; /* unit id or NULL for a root */
	const char *head;   /* person id or NULL */
	const char *email;  /* the unit's shared mailbox or NULL */
	const char *const *channels; /* chat channels the unit's alerts go to */
	size_t nchannels;
};

struct config_person {
	const char *id;
	const char *name;
	const char *title; /* "Ông", "Bà" or NULL */
	const char *email; /* or NULL */
	const char *unit;  /* unit id */
	bool digest;       /* notify = "digest": one message a working day, urgent ones at once */
};

struct config_procedure {
	const char *code; /* the national procedure code, e.g. "1.004227" */
	const char *name;
	double days;      /* legal processing time in working days; 0 = same day */
	double extended_days; /* legal maximum when verification is needed; 0 = no extension */
	int cutoff_min;   /* same-day procedures: received after this minute of the day, due the
	                   * end of the next working day; 0 = none */
	const char *level;  /* the unit level the procedure belongs to, or NULL */
	const char *agency; /* the agency that handles it, or NULL */
	const char *on_resume; /* "restart" or "continue" */
};

/* A chat channel alerts are posted to (docs/webhooks.md). Secrets are read from their files at
 * load; they are never logged. */
struct config_channel {
	const char *id;
	const char *type;     /* "telegram", "slack", "teams", "google_chat", "json" */
	const char *url;      /* the webhook URL (not telegram) */
	const char *chat_id;  /* telegram */
	const char *api_base; /* telegram, default https://api.telegram.org */
	const char *token;    /* telegram bot token, from token_file */
	const char *secret;   /* json signing secret, from secret_file */
	int64_t max_connections;
};

/* The yearly targets (QĐ 194/QĐ-UBND) of the units of one level, in percent; a negative value
 * means the level has no target for that figure. */
struct config_target {
	const char *level;
	double on_time, online, online_payment, satisfaction, digitized, inspection;
};

struct config_token {
	const char *name;
	unsigned char sha256[32];
	unsigned scopes; /* enum config_scope bits */
};

struct config {
	const char *path; /* the file loaded */
	struct {
		const char *listen; /* "host:port", IP literal */
		int64_t header_bytes;
		int64_t body_bytes;
		int64_t batch_body_bytes;
		int64_t header_timeout_ms;
		int64_t body_timeout_ms;
		int64_t idle_timeout_ms;
		int64_t max_connections;
		bool strict_fields;
		const char *metrics_token; /* the token GET /metrics needs (its name); NULL: none */
	} server;
	struct {
		const char *path;
		int64_t busy_timeout_ms;
		int64_t max_size_mb;    /* 0: no limit beyond the disk */
	} database;
	struct {
		enum log_level level;
	} log;
	struct {
		const char *default_book; /* register book of documents that name none */
		/* Handling time per urgency (normal, urgent, very_urgent, flash), in office
		 * seconds; 0 means "by the end of the working day of receipt". */
		int64_t urgency_due[4];
	} documents;
	struct {
		const char *code_pattern;  /* POSIX ERE every case code must match, or NULL */
		struct config_regex *code_regex; /* compiled code_pattern; internal */
	} cases;
	struct {
		bool hold_outside_office_hours; /* messages wait for the next office period */
		int digest_at_min;              /* minute of the working day digests go out */
		const char *language;           /* "vi" or "en" */
		const char *templates;          /* template directory, as written */
		const char *link_base;          /* e.g. "https://dunghan.dongnai.gov.vn", or NULL */
		struct escalation_rule *rules[ESCALATION_KINDS];
		size_t nrules[ESCALATION_KINDS];
		struct template_set *template_set; /* loaded when there are rules; owned */
		/* The error-budget rule (escalation.budget): warns a unit's head when the 7-day
		 * burn rate exceeds burn_rate or less than remaining_below percent of the year's
		 * budget remains; at most once a week per unit. */
		struct {
			bool enabled;
			double burn_rate;       /* [2.0] */
			double remaining_below; /* percent [20] */
			bool chat;              /* also to the unit's chat channels [false] */
		} budget;
		/* The weekly KPI message to each unit head (escalation.kpi_report). */
		struct {
			bool enabled;
			int weekday; /* 0 Sunday .. 6 Saturday [1] */
			int at_min;  /* minute of the day [08:00] */
		} kpi_report;
	} escalation;
	struct {
		const char *spool_dir;    /* the drop folder the daemon imports from; NULL: none */
		const char *map_file;     /* header mapping file; NULL: the built-in Vietnamese one */
		int64_t settle_ms;        /* a file unchanged this long is complete [5 s] */
		int64_t scan_interval_ms; /* periodic scan besides file events [30 s] */
	} import;
	struct {
		int64_t satisfied_rating; /* a rating (1-5) at or above it counts as satisfied [4] */
	} kpi;
	struct {
		bool enabled; /* the pages for unit heads (docs/dashboard.md) [false] */
		int64_t refresh_ms; /* KPI figures older than this are recomputed; 0: always [5 m] */
	} dashboard;
	struct config_target *targets;
	size_t ntargets;
	struct calendar *calendar; /* built from the calendar section; owned */
	struct config_unit *units;
	size_t nunits;
	struct config_person *people;
	size_t npeople;
	struct config_procedure *procedures;
	size_t nprocedures;
	struct config_token *tokens;
	size_t ntokens;
	struct config_channel *channels;
	size_t nchannels;
	struct {
		const char *transport; /* "smtp", "file" or NULL: e-mail is not sent */
		const char *url;       /* smtp://host:port (STARTTLS) or smtps://host:port */
		bool tls_required;     /* tls = "required" (default) or "none" (loopback only) */
		const char *ca_file;   /* CA bundle to verify the server with; NULL: the system's */
		const char *from;      /* "Đúng Hạn <dunghan@example.gov.vn>" */
		const char *username;
		const char *password;  /* from password_file or the systemd credential */
		const char *dir;       /* file transport: where .eml files go (resolved path) */
		int64_t max_connections;
	} email;
	struct {
		bool enabled;           /* false: the outbox fills but nothing is sent */
		int64_t max_attempts;
		int64_t backoff_base_ms, backoff_cap_ms;
		int64_t max_age_ms;
		int64_t timeout_ms, connect_timeout_ms;
	} delivery;
	struct config_owned *owned; /* internal */
};

/* Loads and validates path. On success returns the config and sets *errors to NULL. On failure
 * returns NULL and sets *errors to a malloc'd text, one "file:line: setting: message" per line
 * (caller frees). `on_statutory_year` is passed to the calendar (may be NULL). */
struct config *config_load(const char *path, void (*on_statutory_year)(void *, int), void *ctx,
			   char **errors);

/* Drops a reference; the last one frees the config and its calendar. NULL is a no-op. The
 * loader's result holds one reference. */
void config_free(struct config *cfg);
/* Takes another reference (work that outlives a reload, e.g. a report in the thread pool,
 * keeps its config alive), and drops it. Loop thread only, like config_free. The calendar is
 * not thread-safe: work off the loop thread must not use cfg->calendar. */
const struct config *config_ref(const struct config *cfg);
void config_unref(const struct config *cfg);

/* Whether a case code matches cases.code_pattern (true when no pattern is set). */
bool config_case_code_ok(const struct config *cfg, const char *code);

/* Lookups by id; NULL when absent. Linear: configs hold hundreds of entries, not millions. */
const struct config_unit *config_unit(const struct config *cfg, const char *id);
const struct config_person *config_person(const struct config *cfg, const char *id);
const struct config_procedure *config_procedure(const struct config *cfg, const char *code);
const struct config_channel *config_channel(const struct config *cfg, const char *id);
/* The top of unit's tree (the office messages are signed by); NULL for NULL. */
const struct config_unit *config_root_of(const struct config *cfg, const struct config_unit *unit);
/* The targets of a unit level; NULL when the level has none. */
const struct config_target *config_target(const struct config *cfg, const char *level);

#endif
