/* api_ops: what the operators' tools ask of the daemon (docs/operations.md): GET /metrics in the
 * Prometheus text format, GET /readyz for load balancers and probes, and POST /api/v1/backup,
 * a consistent copy of the live database made with SQLite's online backup API.
 *
 * DESIGN: the database's series and the backup scan or copy whole tables, so both run in the
 * thread pool (api_job_queue) and never on the loop; the daemon's own counters live on the loop
 * thread and are written out in the job's reply(), on the loop. Readiness is a short probe of
 * the writer connection on the loop, as any write is. */
#include "api_internal.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kpi_snapshot.h"
#include "log.h"
#include "metrics.h"
#include "path.h"

#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define BACKUP_DIR "backups"
#define BACKUP_NAME_TRIES 10 /* dunghan-…-HHMMSS.db, then -2 … -10 within the same second */

/* Parameters are refused by name: none of these endpoints takes any. */
static int no_query(struct api_ctx *x, struct api_error *e)
{
	static const char *const none[] = { NULL };
	const char *values[1];
	char buf[16];

	return api_query_values(x, none, values, buf, sizeof(buf), e);
}

/* --- GET /metrics ------------------------------------------------------------------------- */

struct family {
	const char *name;
	const char *type;
	const char *help;
	const char *labels[3]; /* names of the row's labels, NULL past the last */
};

/* Indexed by enum store_metric. */
static const struct family families[] = {
	[STORE_METRIC_OPEN] = { "dunghan_open_items", "gauge",
				"Open cases, documents and assignments by kind, unit and status.",
				{ "kind", "unit", "status" } },
	[STORE_METRIC_OVERDUE] = { "dunghan_overdue_items", "gauge",
				   "Open items past their deadline (paused cases are not) by kind "
				   "and unit.",
				   { "kind", "unit", NULL } },
	[STORE_METRIC_AT_RISK] = { "dunghan_at_risk_cases", "gauge",
				   "Open cases not yet overdue for which an alert fired, by unit.",
				   { "unit", NULL, NULL } },
	[STORE_METRIC_ALERTS] = { "dunghan_alerts_fired_total", "counter",
				  "Alerts fired since the database was created, by rule.",
				  { "rule", NULL, NULL } },
	[STORE_METRIC_OUTBOX] = { "dunghan_outbox_messages", "gauge",
				  "Messages in the outbox by channel and status (pending, held, "
				  "sending, sent, digested, dead).",
				  { "channel", "status", NULL } },
	[STORE_METRIC_DELIVERIES] = { "dunghan_deliveries_total", "counter",
				      "Delivery attempts since the database was created, by "
				      "channel and outcome (ok, retryable, permanent).",
				      { "channel", "outcome", NULL } },
};
#define NFAMILIES (sizeof(families) / sizeof(families[0]))

struct metric_row {
	enum store_metric family;
	char *labels[3];
	int64_t value;
};

struct metrics_job {
	struct api_job job;
	struct metric_row *rows;
	size_t nrows, cap;
	bool out_of_memory;
	char *text; /* the database's families, written in the thread pool */
	size_t len;
};

static int collect_row(void *ctx, enum store_metric family, const char *const labels[3],
		       int64_t value)
{
	struct metrics_job *m = ctx;
	struct metric_row *r;

	if ((size_t)family >= NFAMILIES)
		return 0;
	if (m->nrows == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 64;
		struct metric_row *rows = realloc(m->rows, cap * sizeof(*rows));
		if (!rows)
			goto oom;
		m->rows = rows;
		m->cap = cap;
	}
	r = &m->rows[m->nrows++];
	*r = (struct metric_row){ .family = family, .value = value };
	for (int i = 0; i < 3; i++) {
		if (!families[family].labels[i])
			break;
		if (!(r->labels[i] = strdup(labels[i] ? labels[i] : "")))
			goto oom;
	}
	return 0;
oom:
	m->out_of_memory = true;
	return -1;
}

/* Every family gets its HELP and TYPE lines, also when it has no sample yet: a scraper then
 * knows the series exist and that they are zero. */
static void write_db_families(FILE *out, const struct metrics_job *m)
{
	for (size_t f = 0; f < NFAMILIES; f++) {
		const struct family *fam = &families[f];
		int nlabels = 0;

		while (nlabels < 3 && fam->labels[nlabels])
			nlabels++;
		metrics_write_family(out, fam->name, fam->type, fam->help);
		for (size_t i = 0; i < m->nrows; i++) {
			const char *pairs[6];
			if (m->rows[i].family != (enum store_metric)f)
				continue;
			for (int k = 0; k < nlabels; k++) {
				pairs[2 * k] = fam->labels[k];
				pairs[2 * k + 1] = m->rows[i].labels[k];
			}
			metrics_write_sample(out, fam->name, pairs, nlabels, m->rows[i].value);
		}
	}
}

static int metrics_run(struct api_job *job, struct store *ro, struct api_error *e)
{
	struct metrics_job *m = (struct metrics_job *)job;
	struct err err;
	FILE *out;
	int rc = 0;

	if (store_metrics(ro, job->now, collect_row, m, &err) != STORE_OK)
		return api_fail(e, 503, "unavailable", NULL, "cannot count the metrics: %s",
				err.msg);
	if (m->out_of_memory)
		return api_fail(e, 503, "unavailable", NULL, "out of memory");
	if (!(out = open_memstream(&m->text, &m->len)))
		return api_fail(e, 503, "unavailable", NULL, "out of memory");
	write_db_families(out, m);
	if (ferror(out))
		rc = api_fail(e, 503, "unavailable", NULL, "out of memory");
	fclose(out);
	return rc;
}

static void metrics_reply(struct api_job *job, struct api_ctx *x)
{
	struct metrics_job *m = (struct metrics_job *)job;
	const char *version[] = { "version", DUNGHAN_VERSION };
	char *body = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&body, &len);
	struct api_error e;
	int rc;

	if (!out) {
		api_fail(&e, 503, "unavailable", NULL, "out of memory");
		api_reply_error(x, &e);
		return;
	}
	metrics_write_family(out, "dunghan_build_info", "gauge",
			     "Always 1; the labels say which dunghand answers.");
	metrics_write_sample(out, "dunghan_build_info", version, 1, 1);
	fwrite(m->text, 1, m->len, out);
	/* The loop's own counters are read here, on the loop thread that writes them. */
	rc = metrics_write(api_metrics_of(x->api), out);
	kpi_snapshot_write_metrics(api_snapshot_of(x->api), out);
	if (fclose(out) != 0 || rc != 0) {
		free(body);
		api_fail(&e, 503, "unavailable", NULL, "out of memory");
		api_reply_error(x, &e);
		return;
	}
	api_reply_body(x, 200, METRICS_TYPE, body, len, NULL, 0);
}

static void metrics_free(struct api_job *job)
{
	struct metrics_job *m = (struct metrics_job *)job;

	for (size_t i = 0; i < m->nrows; i++)
		for (int k = 0; k < 3; k++)
			free(m->rows[i].labels[k]);
	free(m->rows);
	free(m->text);
	free(m);
}

void api_metrics(struct api_ctx *x)
{
	struct metrics_job *m;
	struct api_error e;

	if (no_query(x, &e) != 0) {
		api_reply_error(x, &e);
		return;
	}
	if (!(m = calloc(1, sizeof(*m)))) {
		api_fail(&e, 503, "unavailable", NULL, "out of memory");
		api_reply_error(x, &e);
		return;
	}
	m->job.run = metrics_run;
	m->job.reply = metrics_reply;
	m->job.free = metrics_free;
	api_job_queue(x, &m->job);
}

/* --- GET /readyz -------------------------------------------------------------------------- */

void api_readyz(struct api_ctx *x)
{
	int version = store_schema_version(x->store), latest = store_latest_version();
	struct api_error e;
	struct err err;

	if (no_query(x, &e) != 0)
		goto fail;
	/* A transaction open in this turn proves the database writable; otherwise one is begun
	 * and given up at once, which takes the write lock as any write would. */
	if (!store_in_transaction(x->store)) {
		if (store_begin(x->store, &err) != STORE_OK) {
			api_fail(&e, 503, "not_ready", "database",
				 "the database is not writable: %s", err.msg);
			goto fail;
		}
		store_rollback(x->store);
	}
	if (version < 0) {
		api_fail(&e, 503, "not_ready", "database",
			 "the database does not answer (no schema version)");
		goto fail;
	}
	if (version != latest) {
		api_fail(&e, 503, "not_ready", "database",
			 "the database is at schema version %d, this dunghand needs %d", version,
			 latest);
		goto fail;
	}
	api_reply(x, 200, json_pack("{s:s}", "status", "ready"));
	return;
fail:
	api_reply_error(x, &e);
}

/* --- POST /api/v1/backup ------------------------------------------------------------------ */

struct backup_job {
	struct api_job job;
	struct api *api;
	char src[4096];  /* the live database */
	char dir[4200];  /* <its directory>/backups */
	char base[64];   /* dunghan-YYYYMMDD-HHMMSS, local time */
	char file[4400]; /* the copy made */
	struct store_backup_info info;
};

static int backup_run(struct api_job *job, struct store *ro, struct api_error *e)
{
	struct backup_job *b = (struct backup_job *)job;
	enum store_status s = STORE_CONFLICT;
	struct err err;

	(void)ro;
	if (path_make_dirs(b->dir, 0700, &err) != 0)
		return api_fail(e, 503, "unavailable", NULL, "cannot make the backup: %s", err.msg);
	for (int i = 1; i <= BACKUP_NAME_TRIES && s == STORE_CONFLICT; i++) {
		if (i == 1)
			snprintf(b->file, sizeof(b->file), "%s/%s.db", b->dir, b->base);
		else
			snprintf(b->file, sizeof(b->file), "%s/%s-%d.db", b->dir, b->base, i);
		s = store_backup(b->src, b->file, &b->info, &err);
	}
	if (s != STORE_OK)
		return api_fail(e, 503, "unavailable", NULL, "the backup failed: %s", err.msg);
	return 0;
}

static void backup_reply(struct api_job *job, struct api_ctx *x)
{
	struct backup_job *b = (struct backup_job *)job;

	log_info("backup: %s written (%lld bytes, %lld pages)", b->file, (long long)b->info.bytes,
		 (long long)b->info.pages);
	api_reply(x, 200, json_pack("{s:s, s:I, s:I}", "file", b->file, "bytes",
				    (json_int_t)b->info.bytes, "pages", (json_int_t)b->info.pages));
}

static void backup_free(struct api_job *job)
{
	struct backup_job *b = (struct backup_job *)job;

	api_set_backup_running(b->api, false);
	free(b);
}

/* The body may be absent or an empty JSON object: there is nothing to choose. */
static int check_backup_body(struct api_ctx *x, struct api_error *e)
{
	size_t len;
	const char *data = http_request_body(x->req, &len);
	json_t *obj;
	int rc;

	if (len == 0)
		return 0;
	if (!(obj = api_parse_body(x, data, len, e)))
		return -1;
	rc = api_check_fields(x, obj, NULL, 0, e);
	json_decref(obj);
	return rc;
}

void api_backup(struct api_ctx *x)
{
	const char *src = store_path(x->store), *slash;
	struct backup_job *b = NULL;
	struct api_error e;
	struct tm tm;
	time_t local;

	if (no_query(x, &e) != 0 || check_backup_body(x, &e) != 0)
		goto fail;
	if (api_backup_running(x->api)) {
		api_fail(&e, 409, "conflict", NULL,
			 "a backup is being made already; retry when it has finished");
		goto fail;
	}
	if (!src || strlen(src) >= sizeof(b->src)) {
		api_fail(&e, 503, "unavailable", NULL, "the database has no path to copy from");
		goto fail;
	}
	if (!(b = calloc(1, sizeof(*b)))) {
		api_fail(&e, 503, "unavailable", NULL, "out of memory");
		goto fail;
	}
	b->api = x->api;
	snprintf(b->src, sizeof(b->src), "%s", src);
	/* Beside the database: under a hardened unit, its state directory is the only place the
	 * daemon may write. */
	slash = strrchr(src, '/');
	if (!slash)
		snprintf(b->dir, sizeof(b->dir), "%s", BACKUP_DIR);
	else
		snprintf(b->dir, sizeof(b->dir), "%.*s/%s", (int)(slash - src), src, BACKUP_DIR);
	/* Named in the office's time, the one its people read. */
	local = (time_t)(x->now + calendar_utc_offset(x->cal, x->now));
	gmtime_r(&local, &tm);
	strftime(b->base, sizeof(b->base), "dunghan-%Y%m%d-%H%M%S", &tm);
	b->job.run = backup_run;
	b->job.reply = backup_reply;
	b->job.free = backup_free;
	api_set_backup_running(x->api, true);
	api_job_queue(x, &b->job);
	return;
fail:
	api_reply_error(x, &e);
}
