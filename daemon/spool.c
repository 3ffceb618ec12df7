/* spool: the drop folder (see spool.h, docs/import.md).
 * DESIGN: every trigger — a file event, the periodic scan, a settle time running out — leads to
 * one look at the folder (spool_check): each file's size and mtime are compared with the last
 * look, and a file unchanged for import.settle is complete. One file at a time is moved to
 * processing/ and imported by a uv_idle callback, SPOOL_CHUNK rows per loop turn, each chunk in
 * a transaction of the spool's own, begun and ended inside that callback, so that the API's
 * group commit (which commits in uv_check whatever transaction is open) never sees it. The
 * import reads the file twice: a validation pass whose chunks are all rolled back, then, when
 * every row was good, the pass that commits. The window: a chunk may fail in the second pass
 * although it passed the first (a code repeated in two chunks with other data, a case created
 * by a request in between, a reload): that chunk is rolled back, the ones before it stay, and
 * the file goes to failed/ saying so; dropped again once fixed, its rows already imported are
 * recognised by their codes. The folder is read with short blocking calls on the loop thread,
 * like the writer's SQLite statements. */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api_internal.h"
#include "import.h"
#include "log.h"
#include "path.h"

#define SPOOL_CHUNK 1000          /* rows per loop turn */
#define SPOOL_EVENT_DELAY_MS 50   /* a burst of file events is looked at once, this long after */
#define SPOOL_ACTOR "spool"
#define SPOOL_ERRORS ".errors.txt"

/* A file seen in the folder, with what it looked like and since when (loop ms). */
struct candidate {
	char *name;
	off_t size;
	struct timespec mtime;
	uint64_t since;
	struct candidate *next;
};

/* The import of one file, in processing/. */
struct job {
	char *name;
	char *path;             /* processing/<name> */
	char *errors_path;      /* processing/<name>.errors.txt, while it is written */
	struct import_map *map;
	struct import_reader *reader;
	FILE *errors;           /* opened at the first error */
	size_t nerrors;
	bool creating;          /* the second pass: chunks are committed */
	size_t created, existing;
	size_t chunk_line;      /* the line where the chunk being read starts */
	size_t first_failed_line; /* second pass: the first line of the chunk that failed */
	size_t lines[SPOOL_CHUNK];  /* the file line of each row of the chunk */
	struct bad_row {
		size_t line;
		char *msg;
	} bad[SPOOL_CHUNK];         /* the chunk's unreadable rows, written in line order with
	                             * the API's refusals */
	size_t nbad;
	char *buf;              /* the chunk as NDJSON */
	size_t len, cap;
};

struct spool {
	uv_loop_t *loop;
	struct api *api;
	const struct config *cfg;
	char *dir;              /* the folder watched; NULL: none */
	uv_fs_event_t event;
	uv_timer_t scan;        /* every import.scan_interval */
	uv_timer_t check;       /* soon after file events; when a settle time is up */
	uv_idle_t work;         /* one chunk per loop turn */
	struct candidate *candidates;
	struct job *job;
	bool closing;
	int open_handles;
	void (*close_cb)(void *);
	void *close_arg;
};

static char *join(const char *a, const char *b, const char *c)
{
	char *s;

	return asprintf(&s, "%s/%s%s", a, b, c ? c : "") < 0 ? NULL : s;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* Files that are not (yet) exports: hidden ones, and those still being written under a
 * temporary name. */
static bool ignored(const char *name)
{
	return name[0] == '.' || ends_with(name, ".part") || ends_with(name, ".tmp");
}

static void free_candidates(struct candidate *c)
{
	while (c) {
		struct candidate *next = c->next;
		free(c->name);
		free(c);
		c = next;
	}
}

static void on_check(uv_timer_t *h);

/* Arms the check timer to fire within ms, unless it fires sooner already. */
static void arm_check(struct spool *sp, uint64_t ms)
{
	if (sp->closing)
		return;
	if (uv_is_active((uv_handle_t *)&sp->check) && uv_timer_get_due_in(&sp->check) <= ms)
		return;
	uv_timer_start(&sp->check, on_check, ms, 0);
}

/* --- one import ---------------------------------------------------------------------------- */

static void job_free(struct job *job)
{
	if (!job)
		return;
	for (size_t i = 0; i < job->nbad; i++)
		free(job->bad[i].msg);
	import_free(job->reader);
	import_map_free(job->map);
	if (job->errors)
		fclose(job->errors);
	free(job->name);
	free(job->path);
	free(job->errors_path);
	free(job->buf);
	free(job);
}

static void job_error(struct job *job, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void job_note(struct job *job, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The errors name cases and applicants: private to the daemon's user whatever the umask. */
static FILE *open_private(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (fd >= 0 && !f)
		close(fd);
	return f;
}

/* Writes a line to the errors file (opened at the first line). */
static void job_vwrite(struct job *job, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static void job_vwrite(struct job *job, const char *fmt, va_list ap)
{
	if (!job->errors && !(job->errors = open_private(job->errors_path))) {
		log_error("spool: cannot write %s: %s", job->errors_path, strerror(errno));
		return;
	}
	vfprintf(job->errors, fmt, ap);
	fputc('\n', job->errors);
}

/* An error of the file: counted, and written as a line of the errors file. */
static void job_error(struct job *job, const char *fmt, ...)
{
	va_list ap;

	job->nerrors++;
	va_start(ap, fmt);
	job_vwrite(job, fmt, ap);
	va_end(ap);
}

/* A line of the errors file that is not an error (the last one, what was done): not counted,
 * so that the count in the log is the number of errors listed. */
static void job_note(struct job *job, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	job_vwrite(job, fmt, ap);
	va_end(ap);
}

/* Opens the reader for a pass. Returns 0, or -1 with the error written. */
static int job_open(struct spool *sp, struct job *job, bool log_warnings)
{
	struct import_options o = { .format = IMPORT_AUTO, .map = job->map,
				    .cal = sp->cfg->calendar };
	struct err err = { 0 };
	const char *w;

	import_free(job->reader);
	job->reader = import_open(job->path, &o, &err);
	if (!job->reader) {
		job_error(job, "%s", err.msg);
		return -1;
	}
	for (size_t i = 0; log_warnings && (w = import_warning(job->reader, i)); i++)
		log_warn("spool: %s: %s", job->name, w);
	return 0;
}

/* Starts the import from the first pass (also again after a reload: the reader borrows the
 * configuration's calendar). Returns 0, or -1 with the error written. */
static int job_begin(struct spool *sp, struct job *job, bool log_warnings)
{
	struct err err = { 0 };

	if (job->errors) {
		fclose(job->errors);
		job->errors = NULL;
	}
	job->nerrors = 0;
	job->creating = false;
	job->created = job->existing = 0;
	import_map_free(job->map);
	job->map = NULL;
	if (sp->cfg->import.map_file && !(job->map = import_map_load(sp->cfg->import.map_file, &err))) {
		job_error(job, "%s", err.msg);
		return -1;
	}
	return job_open(sp, job, log_warnings);
}

/* A free name for name in dir: name, else name-2.ext, name-3.ext, ... (with the errors file
 * free beside it too). Returns a malloc'd path or NULL. */
static char *free_dest(const char *dir, const char *name)
{
	const char *dot = strrchr(name, '.');
	int stem = dot && dot != name ? (int)(dot - name) : (int)strlen(name);

	for (int n = 1; n < 10000; n++) {
		char *path, *errors;
		int rc = n == 1 ? asprintf(&path, "%s/%s", dir, name)
				: asprintf(&path, "%s/%.*s-%d%s", dir, stem, name, n, name + stem);
		struct stat st;
		bool taken;

		if (rc < 0)
			return NULL;
		if (asprintf(&errors, "%s%s", path, SPOOL_ERRORS) < 0) {
			free(path);
			return NULL;
		}
		taken = stat(path, &st) == 0 || stat(errors, &st) == 0;
		free(errors);
		if (!taken)
			return path;
		free(path);
	}
	return NULL;
}

/* Logs how the file ended; errors names its errors file. */
static void job_log(const struct job *job, bool ok, bool partly, const char *errors)
{
	const char *s = job->nerrors == 1 ? "" : "s";

	if (ok)
		log_info("spool: %s imported: %zu created, %zu already there", job->name,
			 job->created, job->existing);
	else if (partly)
		log_error("spool: %s partly imported: the %zu rows before line %zu were (%zu created, "
			  "%zu already there), none from line %zu on (%zu error%s): see %s", job->name,
			  job->created + job->existing, job->first_failed_line, job->created,
			  job->existing, job->first_failed_line, job->nerrors, s, errors);
	else
		log_error("spool: %s not imported (%zu error%s): see %s", job->name, job->nerrors, s,
			  errors);
}

/* Moves the file to done/ or failed/ (with its errors), logs, and looks for the next file. */
static void job_finish(struct spool *sp, bool ok)
{
	struct job *job = sp->job;
	char *sub = join(sp->dir, ok ? "done" : "failed", NULL);
	char *dest = sub ? free_dest(sub, job->name) : NULL, *dest_errors = NULL;
	/* The import pass stopped after committing chunks: those rows are in. */
	bool partly = !ok && job->creating && job->first_failed_line > 0 &&
		      job->created + job->existing > 0;

	sp->job = NULL;
	uv_idle_stop(&sp->work);
	if (partly)
		job_note(job, "rows from line %zu on were not imported; the %zu rows before it were "
			 "(%zu cases created, %zu already there): fix the file and drop it again, the "
			 "rows already imported are recognised by their codes",
			 job->first_failed_line, job->created + job->existing, job->created,
			 job->existing);
	else if (!ok)
		job_note(job, "nothing was imported: every row must be good (%zu error%s above)",
			 job->nerrors, job->nerrors == 1 ? "" : "s");
	if (job->errors) {
		if (fclose(job->errors) != 0)
			log_error("spool: cannot write %s: %s", job->errors_path, strerror(errno));
		job->errors = NULL;
	}
	if (!dest || rename(job->path, dest) != 0) {
		log_error("spool: cannot move %s to %s/: %s", job->path, ok ? "done" : "failed",
			  dest ? strerror(errno) : "out of memory");
	} else if (!ok && asprintf(&dest_errors, "%s%s", dest, SPOOL_ERRORS) >= 0 &&
		   rename(job->errors_path, dest_errors) != 0) {
		log_error("spool: cannot move %s: %s", job->errors_path, strerror(errno));
	}
	if (ok)
		unlink(job->errors_path);
	job_log(job, ok, partly, dest_errors ? dest_errors : job->errors_path);
	free(dest_errors);
	free(dest);
	free(sub);
	job_free(job);
	arm_check(sp, 1);
}

/* Writes the unreadable rows of the chunk, then frees them, up to line (all: SIZE_MAX). */
static void bad_rows_until(struct job *job, size_t line, size_t *next)
{
	for (; *next < job->nbad && job->bad[*next].line < line; (*next)++) {
		job_error(job, "%s", job->bad[*next].msg);
		free(job->bad[*next].msg);
		job->bad[*next].msg = NULL;
	}
}

/* Writes the errors of the chunk in line order: its unreadable rows and the lines the API
 * refused in answer (NULL: none). */
static void chunk_errors(struct job *job, json_t *answer)
{
	size_t i, next = 0;
	json_t *r;

	json_array_foreach(json_object_get(answer, "results"), i, r) {
		json_int_t at = json_integer_value(json_object_get(r, "line"));
		size_t line = at >= 1 && at <= SPOOL_CHUNK ? job->lines[at - 1] : 0;
		json_t *e = json_object_get(r, "error");
		const char *field = json_string_value(json_object_get(e, "field"));

		if (!e)
			continue;
		bad_rows_until(job, line, &next);
		job_error(job, "line %zu: %s (%s%s%s)", line,
			  json_string_value(json_object_get(e, "message")),
			  json_string_value(json_object_get(e, "code")), field ? ", field " : "",
			  field ? field : "");
	}
	bad_rows_until(job, SIZE_MAX, &next);
	job->nbad = 0;
}

/* Appends a row to the chunk's NDJSON. Returns 0 or -1 (out of memory). */
static int chunk_add(struct job *job, json_t *obj)
{
	char *text = json_dumps(obj, JSON_COMPACT);
	size_t n = text ? strlen(text) : 0;

	if (!text)
		return -1;
	if (job->len + n + 1 > job->cap) {
		size_t cap = (job->len + n + 1) * 2;
		char *p = realloc(job->buf, cap);
		if (!p) {
			free(text);
			return -1;
		}
		job->buf = p;
		job->cap = cap;
	}
	memcpy(job->buf + job->len, text, n);
	job->buf[job->len + n] = '\n';
	job->len += n + 1;
	free(text);
	return 0;
}

/* Reads up to SPOOL_CHUNK rows into the chunk; bad rows are written as errors. Returns the
 * number of rows in the chunk; *end is set when the file is finished (or cannot be read). */
static size_t chunk_read(struct job *job, bool *end)
{
	size_t n = 0;

	job->len = 0;
	*end = false;
	for (size_t read = 0; read < SPOOL_CHUNK && !*end; read++) {
		struct err err = { 0 };
		json_t *obj;
		size_t line;

		enum import_status st = import_next(job->reader, &obj, &line, &err);

		if (read == 0)
			job->chunk_line = line;
		switch (st) {
		case IMPORT_ROW:
			if (chunk_add(job, obj) != 0)
				job_error(job, "line %zu: out of memory", line);
			else
				job->lines[n++] = line;
			json_decref(obj);
			break;
		case IMPORT_BAD_ROW:
			job->bad[job->nbad].line = line;
			if (!(job->bad[job->nbad].msg = strdup(err.msg)))
				job_error(job, "%s", err.msg);
			else
				job->nbad++;
			break;
		case IMPORT_FAILED:
			job_error(job, "%s", err.msg);
			*end = true;
			break;
		case IMPORT_END:
			*end = true;
			break;
		}
	}
	return n;
}

/* One chunk of the current pass, in a transaction of its own. */
static void on_work(uv_idle_t *h)
{
	struct spool *sp = h->data;
	struct job *job = sp->job;
	struct api_ctx x;
	struct err err = { 0 };
	size_t before = job ? job->nerrors : 0, n;
	json_t *answer = NULL;
	bool end;

	if (!job || sp->closing) {
		uv_idle_stop(h);
		return;
	}
	api_ctx_init(&x, sp->api, SPOOL_ACTOR);
	/* Never inside a transaction of the API's: its group commit owns that one (one held
	 * open across loop turns is ended now). */
	store_yield(x.store);
	if (store_in_transaction(x.store))
		return;
	n = chunk_read(job, &end);
	if (n > 0) {
		if (store_begin(x.store, &err) != STORE_OK) {
			chunk_errors(job, NULL);
			job_error(job, "cannot begin a transaction: %s", err.msg);
			job_finish(sp, false);
			return;
		}
		answer = api_import_cases(sp->api, job->buf, job->len, SPOOL_ACTOR, &err);
		chunk_errors(job, answer);
		if (!answer)
			job_error(job, "line %zu: %s", job->chunk_line, err.msg);
		if (!job->creating || job->nerrors > before) {
			store_rollback(x.store);
		} else if (store_commit(x.store, &err) != STORE_OK) {
			job_error(job, "line %zu: the chunk could not be saved: %s", job->chunk_line,
				  err.msg);
		} else {
			job->created += (size_t)json_integer_value(json_object_get(answer, "created"));
			job->existing += (size_t)json_integer_value(json_object_get(answer, "existing"));
		}
		json_decref(answer);
	} else {
		chunk_errors(job, NULL);
	}
	if (job->creating && job->nerrors > before) {
		job->first_failed_line = job->chunk_line;
		job_finish(sp, false);
	} else if (!end) {
		return;
	} else if (job->nerrors > 0) {
		job_finish(sp, false);
	} else if (job->creating) {
		job_finish(sp, true);
	} else {
		/* Every row is good: the pass that keeps them. */
		job->creating = true;
		if (job_open(sp, job, false) != 0)
			job_finish(sp, false);
	}
}

/* Starts importing name, moving it from the folder to processing/ unless it is there already
 * (left by a stop or a crash). */
static void job_start(struct spool *sp, const char *name, bool in_processing)
{
	struct job *job = calloc(1, sizeof(*job));
	char *from = NULL;
	int rc;

	if (!job || !(job->name = strdup(name)) ||
	    !(job->path = join(sp->dir, "processing/", name)) ||
	    asprintf(&job->errors_path, "%s%s", job->path, SPOOL_ERRORS) < 0) {
		if (job)
			job->errors_path = NULL;
		log_error("spool: out of memory");
		goto fail;
	}
	if (!in_processing) {
		if (!(from = join(sp->dir, name, NULL)) || rename(from, job->path) != 0) {
			log_error("spool: cannot move %s to processing/: %s", name,
				  from ? strerror(errno) : "out of memory");
			goto fail;
		}
		free(from);
		from = NULL;
	}
	log_info("spool: importing %s%s", name, in_processing ? " (again, after a stop)" : "");
	sp->job = job;
	if (job_begin(sp, job, true) != 0) {
		job_finish(sp, false);
		return;
	}
	if ((rc = uv_idle_start(&sp->work, on_work)) != 0) {
		job_error(job, "cannot start the import: %s", uv_strerror(rc));
		job_finish(sp, false);
	}
	return;

fail:
	free(from);
	job_free(job);
}

/* --- watching ------------------------------------------------------------------------------ */

/* A file left in processing/ by a stop or a crash (its errors file is rewritten), or NULL. */
static char *leftover(struct spool *sp)
{
	char *dir = join(sp->dir, "processing", NULL), *best = NULL;
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *e;

	while (d && (e = readdir(d))) {
		if (ignored(e->d_name) || ends_with(e->d_name, SPOOL_ERRORS) ||
		    (e->d_type != DT_REG && e->d_type != DT_UNKNOWN))
			continue;
		if (!best || strcmp(e->d_name, best) < 0) {
			free(best);
			best = strdup(e->d_name);
		}
	}
	if (d)
		closedir(d);
	free(dir);
	return best;
}

/* Looks at the folder: notes each file's size and mtime, and starts importing the first
 * complete one (by name) when nothing is being imported. */
static void spool_check(struct spool *sp)
{
	struct candidate *seen = NULL, *c;
	uint64_t now = uv_now(sp->loop), settle = (uint64_t)sp->cfg->import.settle_ms;
	uint64_t wait = UINT64_MAX;
	const char *ready = NULL;
	DIR *d;
	struct dirent *e;
	char *name;

	if (!sp->dir || sp->closing)
		return;
	if (!sp->job && (name = leftover(sp))) {
		job_start(sp, name, true);
		free(name);
	}
	if (!(d = opendir(sp->dir))) {
		log_error("spool: cannot read %s: %s", sp->dir, strerror(errno));
		return;
	}
	while ((e = readdir(d))) {
		struct candidate *old;
		struct stat st;

		if (ignored(e->d_name) || fstatat(dirfd(d), e->d_name, &st, 0) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (!(c = calloc(1, sizeof(*c))) || !(c->name = strdup(e->d_name))) {
			free(c);
			break;
		}
		c->size = st.st_size;
		c->mtime = st.st_mtim;
		c->since = now;
		for (old = sp->candidates; old; old = old->next) {
			if (strcmp(old->name, c->name) == 0 && old->size == c->size &&
			    old->mtime.tv_sec == c->mtime.tv_sec && old->mtime.tv_nsec == c->mtime.tv_nsec)
				c->since = old->since;
		}
		c->next = seen;
		seen = c;
	}
	closedir(d);
	free_candidates(sp->candidates);
	sp->candidates = seen;
	for (c = seen; c; c = c->next) {
		if (now - c->since >= settle) {
			if (!ready || strcmp(c->name, ready) < 0)
				ready = c->name;
		} else if (c->since + settle - now < wait) {
			wait = c->since + settle - now;
		}
	}
	if (ready && !sp->job)
		job_start(sp, ready, false);
	else if (ready)
		wait = 0; /* looked at again when the import in progress is finished */
	if (wait != UINT64_MAX && wait > 0)
		arm_check(sp, wait);
}

static void on_check(uv_timer_t *h)
{
	spool_check(h->data);
}

static void on_scan(uv_timer_t *h)
{
	spool_check(h->data);
}

static void on_event(uv_fs_event_t *h, const char *filename, int events, int status)
{
	struct spool *sp = h->data;

	(void)filename, (void)events;
	if (status < 0)
		log_warn("spool: watching %s: %s (the periodic scan goes on)", sp->dir,
			 uv_strerror(status));
	arm_check(sp, SPOOL_EVENT_DELAY_MS);
}

/* Watches cfg->import.spool_dir when it differs from the folder watched. Returns 0 or -1. */
static int spool_watch(struct spool *sp, struct err *err)
{
	const char *want = sp->cfg->import.spool_dir;
	static const char *const subs[] = { "processing", "done", "failed" };
	uint64_t interval = (uint64_t)sp->cfg->import.scan_interval_ms;
	int rc;

	if (want && sp->dir && strcmp(want, sp->dir) == 0) {
		uv_timer_start(&sp->scan, on_scan, interval, interval);
		return 0;
	}
	if (sp->dir) {
		uv_fs_event_stop(&sp->event);
		uv_timer_stop(&sp->scan);
		free(sp->dir);
		sp->dir = NULL;
		free_candidates(sp->candidates);
		sp->candidates = NULL;
	}
	if (!want)
		return 0;
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		char *sub = join(want, subs[i], NULL);
		int made = sub ? path_make_dirs(sub, 0750, err) : err_set(err, NULL, "out of memory");

		free(sub);
		if (made != 0)
			return -1;
	}
	if (!(sp->dir = strdup(want)))
		return err_set(err, NULL, "out of memory");
	if ((rc = uv_fs_event_start(&sp->event, on_event, sp->dir, 0)) != 0)
		log_warn("spool: cannot watch %s for changes: %s (the periodic scan looks at it)",
			 sp->dir, uv_strerror(rc));
	uv_timer_start(&sp->scan, on_scan, interval, interval);
	arm_check(sp, 1);
	log_info("spool: watching %s", sp->dir);
	return 0;
}

/* --- lifecycle ----------------------------------------------------------------------------- */

static void on_closed(uv_handle_t *h)
{
	struct spool *sp = h->data;

	if (--sp->open_handles > 0)
		return;
	void (*cb)(void *) = sp->close_cb;
	void *arg = sp->close_arg;
	free_candidates(sp->candidates);
	free(sp->dir);
	free(sp);
	if (cb)
		cb(arg);
}

static void close_handles(struct spool *sp)
{
	uv_handle_t *handles[] = { (uv_handle_t *)&sp->event, (uv_handle_t *)&sp->scan,
				   (uv_handle_t *)&sp->check, (uv_handle_t *)&sp->work };

	for (size_t i = 0; i < sizeof(handles) / sizeof(handles[0]); i++) {
		handles[i]->data = sp;
		if (i < (size_t)sp->open_handles)
			uv_close(handles[i], on_closed);
	}
}

struct spool *spool_new(uv_loop_t *loop, struct api *api, const struct config *cfg,
			struct err *err)
{
	struct spool *sp = calloc(1, sizeof(*sp));
	int rc;

	if (!sp) {
		err_set(err, NULL, "out of memory");
		return NULL;
	}
	sp->loop = loop;
	sp->api = api;
	sp->cfg = cfg;
	/* open_handles counts the handles initialised, in close_handles' order. */
	if ((rc = uv_fs_event_init(loop, &sp->event)) != 0)
		goto fail;
	sp->open_handles++;
	if ((rc = uv_timer_init(loop, &sp->scan)) != 0)
		goto fail;
	sp->open_handles++;
	if ((rc = uv_timer_init(loop, &sp->check)) != 0)
		goto fail;
	sp->open_handles++;
	if ((rc = uv_idle_init(loop, &sp->work)) != 0)
		goto fail;
	sp->open_handles++;
	sp->event.data = sp->scan.data = sp->check.data = sp->work.data = sp;
	if (spool_watch(sp, err) != 0) {
		sp->closing = true;
		close_handles(sp);
		return NULL;
	}
	return sp;

fail:
	err_set(err, NULL, "cannot create the drop folder's handles: %s", uv_strerror(rc));
	sp->closing = true;
	if (sp->open_handles)
		close_handles(sp);
	else
		free(sp);
	return NULL;
}

void spool_set_config(struct spool *sp, const struct config *cfg)
{
	struct err err = { 0 };

	sp->cfg = cfg;
	/* The reader borrows the old configuration's calendar: start the file over. */
	if (sp->job) {
		log_info("spool: configuration reloaded: importing %s from its start", sp->job->name);
		if (job_begin(sp, sp->job, false) != 0)
			job_finish(sp, false);
	}
	if (spool_watch(sp, &err) != 0)
		log_error("spool: %s; the drop folder is not watched", err.msg);
}

void spool_close(struct spool *sp, void (*cb)(void *arg), void *arg)
{
	if (sp->job) {
		log_info("spool: stopping: %s stays in processing/ and is imported at the next start",
			 sp->job->name);
		job_free(sp->job);
		sp->job = NULL;
	}
	sp->closing = true;
	sp->close_cb = cb;
	sp->close_arg = arg;
	close_handles(sp);
}
