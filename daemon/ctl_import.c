/* ctl_import: dunghanctl import FILE — the one-stop system's exports (CSV or NDJSON, read by
 * import.h) sent to POST /api/v1/cases:batch in chunks, with constant memory whatever the
 * file's size.
 *
 * DESIGN: all or nothing by default. A first pass sends every chunk with dry_run=true: the
 * daemon checks each row exactly as it would store it (references, code conflicts) and rolls
 * back; a second pass, only when no row failed anywhere, sends the chunks again with
 * atomic=true. A file that fits in one chunk needs one atomic request. The file is read twice
 * rather than kept. What the dry run cannot see: a code repeated in two chunks with different
 * data, or a change made by someone else between the passes; the second pass then stops at the
 * first failed chunk, the chunks before it imported, and says so (a re-run after the fix counts
 * them as existing: the batch is idempotent on case codes).
 * --continue-on-error makes one pass without atomic: the good rows are imported and the bad ones
 * written to FILE.rejected.csv with their error; that file's temporary is created before
 * anything is sent, so that bad rows are never lost to a folder that cannot be written.
 * --dry-run makes the first pass only. The summary counts what was written (nothing when
 * nothing was imported; what would be, labelled so, in a dry run).
 * Within a pass the two processes work at once: a sender thread sends the chunks one after the
 * other on the command's connection while the command reads and encodes the next (CHUNK_SLOTS
 * chunks in memory), and the command takes the answers in file order. The sender stops by
 * itself after a refused atomic chunk, so nothing after it is sent; the rows refused while read
 * travel with their chunk, so every failure is reported in the file's line order. Ctrl-C ends
 * the process as before: a chunk already sent is committed or not by the daemon as a whole. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl_core.h"
#include "ctl_http.h"
#include "ctl_view.h"
#include "import.h"
#include "item_json.h"
#include "json_flat.h"

/* Rows per request (the endpoint takes up to 10 000): a batch is one transaction in the
 * daemon, whose cost per row grows with the batch, and 1 000 keeps the round trips cheap. */
#define CHUNK_ROWS 1000
#define PROGRESS_EVERY_S 0.1    /* redraws of the progress bar */
/* Chunks in memory: one being filled, one being sent, one waiting to be sent as soon as the
 * daemon answers the one before, so that neither process waits for the other. */
#define CHUNK_SLOTS 3

enum pass_mode { PASS_DRY, PASS_ATOMIC, PASS_KEEP_GOING };

/* A growing byte buffer (one per chunk: its NDJSON body, its raw rows). */
struct buf {
	char *data;
	size_t len, cap;
};

static int buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *d = realloc(b->data, cap);
		if (!d)
			return -1;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

/* The answer to a chunk, kept until the command takes it in file order. */
struct answer {
	bool sent;              /* false: not sent (a chunk before it stopped the pass) */
	bool failed;            /* no answer came: error says why */
	struct err error;
	long status;
	char *body;
	size_t len;
};

/* A row that failed while being read, held with the chunk it was read with so that every
 * failure is reported in file order: its line, its raw text in the chunk's raw, its message in
 * the chunk's msgs. */
struct bad_row {
	size_t line, raw_off, raw_len, msg_off;
};

/* A chunk's rows: their file lines and, for a rejected-rows file, their raw text (offsets
 * into raw); the rows that failed while read among them; then the daemon's answer. */
struct chunk {
	struct buf body;
	struct buf raw;
	struct buf msgs;
	size_t line[CHUNK_ROWS];
	size_t raw_off[CHUNK_ROWS], raw_len[CHUNK_ROWS];
	size_t nrows;
	struct bad_row bad[CHUNK_ROWS];
	size_t nbad;
	struct answer answer;
};

/* The sender's thread and the chunks' hand-over: chunk k of a pass sits in slot k % CHUNK_SLOTS;
 * the command fills chunk `submitted`, the sender sends chunks answered .. submitted - 1 in
 * order, and the command takes answers taken .. answered - 1. The counters and flags are
 * guarded by mu; a chunk belongs to whoever the counters say. */
struct sender {
	pthread_t thread;
	bool running;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t submitted, answered, taken;
	bool halted;            /* send nothing more (the chunks after are marked unsent) */
	bool quit;              /* the pass is over: end the thread once all are answered */
	enum pass_mode mode;
};

struct progress {
	bool on;
	const char *label;
	double start, last;
	off_t total, done;
};

struct run {
	struct ctl *ctl;
	const char *file;
	enum import_format format;
	struct import_map *map;
	bool dry_run, keep_going;
	size_t chunk_bytes;     /* a chunk's body stays below this */
	struct chunk *chunks;   /* CHUNK_SLOTS of them */
	struct chunk *chunk;    /* the one being filled */
	struct sender sender;
	int fd;                 /* the file, for the pass being read */
	struct progress progress;
	struct import_reader *reader; /* of the pass being read */
	/* Totals of the last pass. */
	long long rows, created, existing, failed;
	bool one_chunk;         /* the whole file fitted in the first chunk */
	bool stopped;           /* the atomic pass stopped at a failed chunk */
	size_t stopped_line;    /* the first line of that chunk: nothing from it on is in */
	/* The rejected-rows file. */
	FILE *rejected;
	long long rejected_rows;
	bool rejected_written;
	size_t header_fields;   /* fields of the CSV header: short rows are padded to them */
	char rejected_path[4096], rejected_tmp[4200];
	char sep;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- progress bar (stderr, a terminal only) -------------------------------------------- */

static void progress_start(struct run *r, const char *label)
{
	struct stat st;

	r->progress = (struct progress){ .on = r->ctl->err_out.width > 0, .label = label };
	if (fstat(r->fd, &st) == 0)
		r->progress.total = st.st_size;
	r->progress.start = r->progress.last = now_s();
}

static void progress_draw(struct run *r, bool force)
{
	struct progress *p = &r->progress;
	double t = now_s(), elapsed = t - p->start, rate, frac;
	char eta[32] = "";
	int width = 20, filled;

	if (!p->on || (!force && t - p->last < PROGRESS_EVERY_S))
		return;
	p->last = t;
	frac = p->total > 0 ? (double)p->done / (double)p->total : 0;
	if (frac > 1)
		frac = 1;
	rate = elapsed > 0 ? (double)r->rows / elapsed : 0;
	if (frac > 0.01 && frac < 1)
		snprintf(eta, sizeof(eta), "  ETA %.0f s", elapsed * (1 - frac) / frac);
	filled = (int)(frac * width);
	fprintf(stderr, "\r%s [%.*s%*s] %3.0f%%  %lld %s  %.0f %s%s\033[K", p->label, filled,
		"####################", width - filled, "", frac * 100, r->rows,
		ctl_word(r->ctl, "dòng", "rows"), rate, ctl_word(r->ctl, "dòng/s", "rows/s"), eta);
}

static void progress_end(struct run *r)
{
	if (r->progress.on)
		fputs("\r\033[K", stderr);
}

static ssize_t read_counted(void *ctx, char *buf, size_t cap)
{
	struct run *r = ctx;
	ssize_t n;

	do
		n = read(r->fd, buf, cap);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		r->progress.done += n;
	return n;
}

/* --- the rejected rows ------------------------------------------------------------------ */

/* A field quoted for the file's separator, whatever it holds. */
static void put_quoted(FILE *fp, const char *s)
{
	putc('"', fp);
	for (; *s; s++) {
		if (*s == '"')
			putc('"', fp);
		putc(*s, fp);
	}
	putc('"', fp);
}

/* The fields of a raw CSV record (separators outside quotes, plus one); *open_quote tells
 * whether it ends inside a quoted field (a file cut there). A stray quote in an unquoted field
 * counts as opening or closing one: a best guess for a row the reader refused anyway. */
static size_t count_fields(const char *raw, size_t len, char sep, bool *open_quote)
{
	size_t n = 1;
	bool quoted = false;

	for (size_t i = 0; i < len; i++) {
		if (raw[i] == '"')
			quoted = !quoted;
		else if (raw[i] == sep && !quoted)
			n++;
	}
	*open_quote = quoted;
	return n;
}

/* Creates the rejected rows' temporary file with its header, before anything is sent: when it
 * cannot be written the import must not begin, or its bad rows would be lost. */
static int rejected_open(struct run *r)
{
	const char *header;
	size_t hlen;
	bool open_quote;

	if (r->rejected)
		return CTL_OK;
	if (!(r->rejected = fopen(r->rejected_tmp, "w")))
		return ctl_fail("cannot write %s: %s", r->rejected_tmp, strerror(errno));
	ctl_csv_bom(r->rejected);
	header = import_header_raw(r->reader, &hlen);
	if (header) {
		r->header_fields = count_fields(header, hlen, r->sep, &open_quote);
		fwrite(header, 1, hlen, r->rejected);
		fprintf(r->rejected, "%c", r->sep);
		put_quoted(r->rejected, ctl_word(r->ctl, "Lỗi", "Error"));
	} else {
		fprintf(r->rejected, "%s,%s,%s", ctl_word(r->ctl, "Dòng", "Line"),
			ctl_word(r->ctl, "Nội dung", "Row"), ctl_word(r->ctl, "Lỗi", "Error"));
	}
	fputs("\r\n", r->rejected);
	if (fflush(r->rejected) != 0)
		return ctl_fail("cannot write %s: %s", r->rejected_tmp, strerror(errno));
	return CTL_OK;
}

/* Writes a bad CSV row as it is in the file, then the separator before its error: a row with
 * fewer fields than the header is padded with empty ones, so that the error is under "Lỗi"
 * (a row with more keeps them all, the error after them), and a row cut inside a quoted field
 * gets its closing quote, or the error would be part of that field. */
static void reject_csv_row(struct run *r, const char *raw, size_t len)
{
	bool open_quote;
	size_t n = count_fields(raw, len, r->sep, &open_quote);

	fwrite(raw, 1, len, r->rejected);
	if (open_quote)
		putc('"', r->rejected);
	for (; n < r->header_fields; n++)
		putc(r->sep, r->rejected);
	putc(r->sep, r->rejected);
}

/* Writes one bad row (raw text of the file) with its error, "dòng 12: why" (the file's name
 * that messages on stderr start with left out). */
static int reject(struct run *r, size_t line, const char *raw, size_t len, const char *error)
{
	size_t name = strlen(r->file);
	char text[800];

	if (!r->keep_going)
		return CTL_OK;
	if (!r->rejected)
		return ctl_fail("%s was not opened before the import", r->rejected_tmp);
	r->rejected_rows++;
	if (import_format(r->reader) == IMPORT_CSV) {
		reject_csv_row(r, raw, len);
	} else {
		char *row = strndup(raw, len);
		fprintf(r->rejected, "%zu,", line);
		put_quoted(r->rejected, row ? row : "");
		putc(',', r->rejected);
		free(row);
	}
	if (strncmp(error, r->file, name) == 0 && error[name] == ':') {
		error += name + 1;
		error += strspn(error, "0123456789");
		error += strspn(error, ": ");
	}
	snprintf(text, sizeof(text), "%s %zu: %s", ctl_word(r->ctl, "dòng", "line"), line, error);
	put_quoted(r->rejected, text);
	fputs("\r\n", r->rejected);
	/* A write that failed (a full disk) stops the import here rather than at the end. */
	if (ferror(r->rejected))
		return ctl_fail("cannot write %s: %s", r->rejected_tmp, strerror(errno));
	return CTL_OK;
}

/* --- chunks ----------------------------------------------------------------------------- */

/* Reports the chunk's rows that failed while read, from *next up to (not including) file line
 * before (0: all): printed, counted, rejected. */
static int take_bad_rows(struct run *r, const struct chunk *c, size_t *next, size_t before)
{
	int rc;

	for (; *next < c->nbad && (!before || c->bad[*next].line < before); ++*next) {
		const struct bad_row *b = &c->bad[*next];
		const char *msg = c->msgs.data + b->msg_off;
		fprintf(stderr, "dunghanctl: %s\n", msg);
		r->failed++;
		const char *raw = c->raw.data ? c->raw.data + b->raw_off : "";
		if ((rc = reject(r, b->line, raw, b->raw_len, msg)) != CTL_OK)
			return rc;
	}
	return CTL_OK;
}

/* The result of line i of the chunk's answer: counts it, prints and rejects it when it failed
 * (after the rows before it that failed while read). */
static int take_result(struct run *r, const struct chunk *c, const json_t *res, size_t *next_bad)
{
	json_int_t n = json_integer_value(json_object_get(res, "line"));
	json_int_t status = json_integer_value(json_object_get(res, "status"));
	json_t *e = json_object_get(res, "error");
	const char *field = ctl_str(e, "field");
	char msg[700];

	if (n < 1 || (size_t)n > c->nrows)
		return ctl_fail("the daemon's answer names line %lld of a chunk of %zu",
				(long long)n, c->nrows);
	if (take_bad_rows(r, c, next_bad, c->line[n - 1]) != CTL_OK)
		return CTL_FAIL;
	if (status == 201) {
		r->created++;
		return CTL_OK;
	}
	if (status == 200) {
		r->existing++;
		return CTL_OK;
	}
	r->failed++;
	if (*field)
		snprintf(msg, sizeof(msg), "%lld %s (%s): %s", (long long)status, ctl_str(e, "code"),
			 field, ctl_str(e, "message"));
	else
		snprintf(msg, sizeof(msg), "%lld %s: %s", (long long)status, ctl_str(e, "code"),
			 ctl_str(e, "message"));
	fprintf(stderr, "dunghanctl: %s:%zu: %s\n", r->file, c->line[n - 1], msg);
	if (!c->raw.data)
		return CTL_OK; /* no rejected-rows file: the raw rows were not kept */
	return reject(r, c->line[n - 1], c->raw.data + c->raw_off[n - 1], c->raw_len[n - 1], msg);
}

/* The counts of a chunk whose every line went in (created + existing = its rows), read
 * without building a tree of its thousand results; false for any other answer. */
static bool answer_clean(const struct chunk *c, int64_t *created, int64_t *existing)
{
	const struct answer *a = &c->answer;
	int64_t failed;

	return a->status == 200 && json_flat_member_int(a->body, a->len, "failed", &failed) == 0 &&
	       failed == 0 && json_flat_member_int(a->body, a->len, "created", created) == 0 &&
	       json_flat_member_int(a->body, a->len, "existing", existing) == 0 && *created >= 0 &&
	       *existing >= 0 && (size_t)(*created + *existing) == c->nrows;
}

/* Sends the chunk in mode and keeps the answer in c->answer (the sender's thread, or the
 * command's when it sends one chunk alone): nothing printed, nothing counted here. */
static void chunk_request(struct ctl *ctl, struct chunk *c, enum pass_mode mode)
{
	const char *path = mode == PASS_DRY ? "/api/v1/cases:batch?dry_run=true"
			   : mode == PASS_ATOMIC ? "/api/v1/cases:batch?atomic=true"
						 : "/api/v1/cases:batch";
	struct ctl_http_answer a;
	struct err err = { 0 };

	c->answer = (struct answer){ .sent = true, .status = 200 };
	if (!c->nrows)
		return; /* only rows that failed while read: nothing to ask */
	if (ctl_http_request(ctl->http, "POST", path, "application/x-ndjson", c->body.data,
			     c->body.len, &a, &err) != 0) {
		c->answer.failed = true;
		c->answer.error = err;
		return;
	}
	c->answer.status = a.status;
	c->answer.body = a.body;
	c->answer.len = a.len;
}

/* Takes the answer of a sent chunk in file order (the command's thread): counts its rows,
 * prints and rejects its failed ones; then empties the chunk for reuse. */
static int chunk_take(struct run *r, struct chunk *c, enum pass_mode mode)
{
	long long created_before = r->created, existing_before = r->existing, refused = 0;
	json_t *answer = NULL, *results, *res;
	int64_t created, existing;
	json_error_t jerr;
	size_t i, next_bad = 0;
	int rc = CTL_FAIL;

	if (!c->answer.sent) {
		rc = CTL_OK; /* never sent: a chunk before it stopped the pass */
		goto out;
	}
	progress_end(r);
	if (c->answer.failed) {
		ctl_fail("%s", c->answer.error.msg);
		goto out;
	}
	if (c->answer.status != 200) {
		ctl_print_api_error(r->ctl, c->answer.status, c->answer.body);
		goto out;
	}
	if (!c->nrows || answer_clean(c, &created, &existing)) {
		if (c->nrows) {
			r->created += created;
			r->existing += existing;
		}
		rc = take_bad_rows(r, c, &next_bad, 0);
		goto out;
	}
	if (!(answer = json_loads(c->answer.body, 0, &jerr)) ||
	    !json_is_array(results = json_object_get(answer, "results"))) {
		ctl_fail("the daemon's answer to a batch is not what docs/api.md says");
		goto out;
	}
	json_array_foreach(results, i, res) {
		long long failed_before = r->failed;
		if ((rc = take_result(r, c, res, &next_bad)) != CTL_OK)
			goto out;
		refused += r->failed - failed_before;
	}
	if ((rc = take_bad_rows(r, c, &next_bad, 0)) != CTL_OK)
		goto out;
	if (mode == PASS_ATOMIC && refused) {
		/* The chunk was rolled back: none of its rows are in (its 201s were undone), the
		 * chunks before it are. */
		r->stopped = true;
		r->stopped_line = c->line[0];
		r->created = created_before;
		r->existing = existing_before;
	}
out:
	c->nrows = c->nbad = c->body.len = c->raw.len = c->msgs.len = 0;
	free(c->answer.body);
	c->answer = (struct answer){ 0 };
	json_decref(answer);
	return rc;
}

/* Sends the chunk being filled and takes its answer, alone (no sender running). */
static int send_chunk(struct run *r, enum pass_mode mode)
{
	if (!r->chunk->nrows && !r->chunk->nbad)
		return CTL_OK;
	if (r->chunk->nrows && ctl_connect(r->ctl) != CTL_OK)
		return CTL_FAIL;
	chunk_request(r->ctl, r->chunk, mode);
	return chunk_take(r, r->chunk, mode);
}

/* The sender's thread: sends the submitted chunks one after the other on the command's
 * connection, in file order, while the command reads and encodes the next ones. It stops
 * sending (the chunks after are marked unsent) after an answer the pass cannot go on from:
 * no answer, not 200, or, in the atomic pass, a chunk with a failed row (rolled back). */
static void *sender_main(void *arg)
{
	struct run *r = arg;
	struct sender *s = &r->sender;
	int64_t created, existing;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->quit && s->answered == s->submitted)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->answered == s->submitted)
			break;
		struct chunk *c = &r->chunks[s->answered % CHUNK_SLOTS];
		bool halted = s->halted;
		pthread_mutex_unlock(&s->mu);
		if (!halted) {
			chunk_request(r->ctl, c, s->mode);
			/* A chunk of only rows that failed while read asked nothing: no counts. */
			halted = c->answer.failed || c->answer.status != 200 ||
				 (s->mode == PASS_ATOMIC && c->nrows &&
				  !answer_clean(c, &created, &existing));
		} else {
			c->answer = (struct answer){ 0 };
		}
		pthread_mutex_lock(&s->mu);
		s->halted = s->halted || halted;
		s->answered++;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Takes the answers that are in, in order, first waiting until the chunk to fill next is free
 * (with all: until every submitted chunk is answered and taken). */
static int sender_collect(struct run *r, bool all)
{
	struct sender *s = &r->sender;
	int rc = CTL_OK;

	for (;;) {
		pthread_mutex_lock(&s->mu);
		while (s->taken == s->answered &&
		       (all ? s->taken < s->submitted : s->submitted - s->taken == CHUNK_SLOTS))
			pthread_cond_wait(&s->cv, &s->mu);
		bool ready = s->taken < s->answered;
		pthread_mutex_unlock(&s->mu);
		if (!ready)
			return rc;
		/* After a failure the later answers are still taken (their rows counted and
		 * their errors printed) but the first failure is the one returned. */
		int one = chunk_take(r, &r->chunks[s->taken % CHUNK_SLOTS], s->mode);
		if (rc == CTL_OK && !r->stopped)
			rc = one;
		pthread_mutex_lock(&s->mu);
		s->taken++;
		if (rc != CTL_OK || r->stopped)
			s->halted = true;
		pthread_mutex_unlock(&s->mu);
	}
}

/* Hands the chunk being filled to the sender (started on the first chunk of a pass) and moves
 * to a free one, taking the answers that are in. */
static int sender_submit(struct run *r, enum pass_mode mode)
{
	struct sender *s = &r->sender;

	if (!s->running) {
		if (ctl_connect(r->ctl) != CTL_OK)
			return CTL_FAIL;
		s->mode = mode;
		s->quit = s->halted = false;
		s->submitted = s->answered = s->taken = 0;
		if (pthread_create(&s->thread, NULL, sender_main, r) != 0)
			return ctl_fail("cannot start a thread to send the chunks");
		s->running = true;
	}
	pthread_mutex_lock(&s->mu);
	s->submitted++;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	int rc = sender_collect(r, false);
	r->chunk = &r->chunks[s->submitted % CHUNK_SLOTS];
	return rc;
}

/* Ends the pass's sending: with flush the chunk being filled goes too; every chunk sent is
 * waited for and its answer taken, so that what the pass reports is what the daemon did. */
static int sender_finish(struct run *r, enum pass_mode mode, bool flush)
{
	struct sender *s = &r->sender;
	int rc = CTL_OK;

	if (flush && (r->chunk->nrows || r->chunk->nbad)) {
		if (!s->running)
			return send_chunk(r, mode);
		pthread_mutex_lock(&s->mu);
		s->submitted++;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
	}
	if (!s->running)
		return CTL_OK;
	rc = sender_collect(r, true);
	pthread_mutex_lock(&s->mu);
	s->quit = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	s->running = false;
	r->chunk = &r->chunks[0];
	return rc;
}

/* Holds a row that failed while read (its raw text and message) with the chunk being filled,
 * handing the chunk over first when it holds as many as it can. */
static int add_bad_row(struct run *r, size_t line, const char *raw, size_t len, const char *msg,
		       enum pass_mode mode)
{
	struct chunk *c = r->chunk;
	int rc;

	if (c->nbad == CHUNK_ROWS) {
		r->one_chunk = false;
		if ((rc = sender_submit(r, mode)) != CTL_OK || r->stopped)
			return rc;
		c = r->chunk;
	}
	struct bad_row *b = &c->bad[c->nbad];
	*b = (struct bad_row){ .line = line, .raw_off = c->raw.len, .msg_off = c->msgs.len };
	if (r->keep_going) {
		if (buf_add(&c->raw, raw, len) != 0)
			return ctl_fail("out of memory");
		b->raw_len = len;
	}
	if (buf_add(&c->msgs, msg, strlen(msg) + 1) != 0)
		return ctl_fail("out of memory");
	c->nbad++;
	return CTL_OK;
}

/* Adds a good row (its case object) to the chunk, handing the chunk over first when full. */
static int add_row(struct run *r, json_t *obj, size_t line, enum pass_mode mode)
{
	struct chunk *c = r->chunk;
	struct item_text t = { 0 };
	size_t len = 0, rlen = 0;
	/* A row is a flat object: its text is written without jansson's encoder (same bytes). */
	char *text = item_text_object(&t, obj) == 0 ? item_text_take(&t, &len)
						    : json_dumps(obj, JSON_COMPACT);
	const char *raw;
	int rc;

	if (!text)
		return ctl_fail("out of memory");
	len = strlen(text);
	if (c->nrows == CHUNK_ROWS || (c->nrows && c->body.len + len + 1 > r->chunk_bytes)) {
		r->one_chunk = false;
		if ((rc = sender_submit(r, mode)) != CTL_OK || r->stopped) {
			free(text);
			return rc;
		}
		c = r->chunk;
	}
	c->line[c->nrows] = line;
	if (r->keep_going && (raw = import_raw(r->reader, &rlen))) {
		c->raw_off[c->nrows] = c->raw.len;
		c->raw_len[c->nrows] = rlen;
		if (buf_add(&c->raw, raw, rlen) != 0)
			goto nomem;
	} else {
		c->raw_off[c->nrows] = c->raw_len[c->nrows] = 0;
	}
	if (buf_add(&c->body, text, len) != 0 || buf_add(&c->body, "\n", 1) != 0)
		goto nomem;
	c->nrows++;
	free(text);
	return CTL_OK;
nomem:
	free(text);
	return ctl_fail("out of memory");
}

/* Opens the file for a pass with a reader. */
static int open_pass(struct run *r)
{
	struct import_options opt = { .format = r->format, .map = r->map,
				      .cal = r->ctl->cfg->calendar, .name = r->file };
	struct err err;

	if ((r->fd = open(r->file, O_RDONLY | O_CLOEXEC)) < 0)
		return ctl_fail("cannot read %s: %s", r->file, strerror(errno));
	r->progress.done = 0;
	if (!(r->reader = import_new(read_counted, r, &opt, &err))) {
		close(r->fd);
		r->fd = -1;
		return ctl_fail("%s", err.msg);
	}
	r->sep = import_separator(r->reader) ? import_separator(r->reader) : ',';
	return CTL_OK;
}

static void close_pass(struct run *r)
{
	import_free(r->reader);
	r->reader = NULL;
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

/* Reads the whole file once, sending its chunks in mode. When probe is set, the first chunk is
 * held back at the end of the file if it is the only one (*whole then tells). */
static int pass(struct run *r, enum pass_mode mode, const char *label, bool probe, bool *whole)
{
	enum import_status st;
	struct err err;
	const char *w;
	json_t *obj;
	size_t line;
	int rc;

	r->rows = r->created = r->existing = r->failed = 0;
	r->one_chunk = true;
	if ((rc = open_pass(r)) != CTL_OK)
		return rc;
	if (r->keep_going && (rc = rejected_open(r)) != CTL_OK) {
		close_pass(r);
		return rc;
	}
	for (size_t i = 0; (w = import_warning(r->reader, i)) && mode != PASS_ATOMIC; i++)
		fprintf(stderr, "dunghanctl: warning: %s\n", w);
	progress_start(r, label);
	for (;;) {
		st = import_next(r->reader, &obj, &line, &err);
		if (st == IMPORT_END)
			break;
		if (st == IMPORT_FAILED) {
			progress_end(r);
			rc = ctl_fail("%s", err.msg);
			goto out;
		}
		r->rows++;
		if (st == IMPORT_BAD_ROW) {
			const char *raw;
			size_t len = 0;
			raw = import_raw(r->reader, &len);
			rc = add_bad_row(r, line, raw ? raw : "", raw ? len : 0, err.msg, mode);
			if (rc != CTL_OK || r->stopped)
				goto out;
			continue;
		}
		rc = add_row(r, obj, line, mode);
		json_decref(obj);
		if (rc != CTL_OK || r->stopped)
			goto out;
		progress_draw(r, false);
	}
	progress_draw(r, true);
	progress_end(r);
	*whole = r->one_chunk;
	rc = sender_finish(r, mode, !(probe && r->one_chunk));
	goto done;
out:
	/* Every chunk sent is answered and taken before the pass ends, whatever stopped it. */
	sender_finish(r, mode, false);
done:
	progress_end(r);
	close_pass(r);
	return rc;
}

/* --- the command ------------------------------------------------------------------------ */

enum { R_FILE, R_ROWS, R_CREATED, R_EXISTING, R_FAILED, R_RESULT, R_REJECTED };

static const struct ctl_field summary_fields[] = {
	[R_FILE] = { "Tệp", "File", 0 },
	[R_ROWS] = { "Số dòng", "Rows", 0 },
	[R_CREATED] = { "Tạo mới", "Created", 0 },
	[R_EXISTING] = { "Đã có", "Existing", 0 },
	[R_FAILED] = { "Dòng lỗi", "Failed", 0 },
	[R_RESULT] = { "Kết quả", "Result", 0 },
	[R_REJECTED] = { "Tệp dòng lỗi", "Rejected rows", 0 },
};

static void summary_row(struct ctl *ctl, const json_t *s, struct ctl_row *r)
{
	bool dry = json_is_true(json_object_get(s, "dry_run"));
	bool stopped = json_is_true(json_object_get(s, "stopped"));
	long long imported = json_integer_value(json_object_get(s, "imported"));
	long long failed = json_integer_value(json_object_get(s, "failed"));
	long long at = json_integer_value(json_object_get(s, "stopped_at_line"));

	ctl_row_str(r, R_FILE, s, "file");
	ctl_row_int(r, R_ROWS, s, "rows");
	ctl_row_int(r, R_CREATED, s, "created");
	ctl_row_int(r, R_EXISTING, s, "existing");
	ctl_row_int(r, R_FAILED, s, "failed");
	ctl_row_str(r, R_REJECTED, s, "rejected_file");
	if (dry)
		ctl_row_set(r, R_RESULT, failed ? ctl_word(ctl, "chạy thử: có dòng lỗi, không thay đổi gì",
							   "dry run: rows failed, nothing changed")
						: ctl_word(ctl, "chạy thử: mọi dòng hợp lệ, không thay đổi gì",
							   "dry run: every row is good, nothing changed"));
	else if (stopped && ctl->en)
		ctl_row_printf(r, R_RESULT, "stopped at line %lld: the %lld rows before it were "
			       "imported, none from line %lld on", at, imported, at);
	else if (stopped)
		ctl_row_printf(r, R_RESULT, "dừng ở dòng %lld: đã nhập %lld dòng trước đó, từ dòng "
			       "%lld trở đi không nhập", at, imported, at);
	else if (!imported && failed)
		ctl_row_set(r, R_RESULT, ctl_word(ctl, "có dòng lỗi: không nhập dòng nào",
						  "rows failed: nothing was imported"));
	else if (failed)
		ctl_row_set(r, R_RESULT, ctl_word(ctl, "đã nhập các dòng hợp lệ, bỏ qua dòng lỗi",
						  "the good rows were imported, the bad ones left out"));
	else
		ctl_row_set(r, R_RESULT, ctl_word(ctl, "đã nhập", "imported"));
	if (failed)
		r->style = CTL_BAD;
}

/* Prints the summary. wrote: the counts are of a pass that stored its rows (all of them, or,
 * stopped, those of the chunks before the stop); otherwise nothing was imported and created
 * and existing are 0 — but for a dry run, whose counts are what would be done, labelled so
 * ("Sẽ tạo mới"; "dry_run": true in JSON, as the API's own dry-run answer). rows: the rows
 * of the file. */
static int summary(struct run *r, bool wrote, long long rows)
{
	struct ctl_field fields[sizeof(summary_fields) / sizeof(summary_fields[0])];
	bool counted = wrote || r->dry_run;
	long long created = counted ? r->created : 0, existing = counted ? r->existing : 0;
	struct ctl_view v;
	json_t *s;
	int rc;

	s = json_pack("{s:s, s:I, s:I, s:I, s:I, s:b, s:I, s:b, s:o, s:o}", "file", r->file,
		      "rows", (json_int_t)rows, "created", (json_int_t)created,
		      "existing", (json_int_t)existing, "failed", (json_int_t)r->failed,
		      "dry_run", r->dry_run, "imported",
		      (json_int_t)(wrote ? created + existing : 0), "stopped", r->stopped,
		      "stopped_at_line",
		      r->stopped ? json_integer((json_int_t)r->stopped_line) : json_null(),
		      "rejected_file",
		      r->rejected_written ? json_string(r->rejected_path) : json_null());
	if (!s)
		return ctl_fail("out of memory");
	memcpy(fields, summary_fields, sizeof(fields));
	if (r->dry_run) {
		fields[R_CREATED].vi = "Sẽ tạo mới";
		fields[R_CREATED].en = "Would create";
	}
	ctl_view_init(r->ctl, &v, fields, sizeof(fields) / sizeof(fields[0]));
	rc = ctl_show(r->ctl, s, &v, summary_row);
	json_decref(s);
	return rc;
}

/* The rejected rows are written to a temporary file, renamed into place at the end; a file left
 * by an earlier run goes, so that what is there belongs to this run. */
static int rejected_finish(struct run *r)
{
	int closed = r->rejected ? fclose(r->rejected) : 0;

	r->rejected = NULL;
	if (closed != 0)
		return ctl_fail("cannot write %s: %s", r->rejected_tmp, strerror(errno));
	if (!r->rejected_rows) {
		unlink(r->rejected_tmp);
		if (unlink(r->rejected_path) != 0 && errno != ENOENT)
			return ctl_fail("cannot remove the old %s: %s", r->rejected_path,
					strerror(errno));
		return CTL_OK;
	}
	if (rename(r->rejected_tmp, r->rejected_path) != 0)
		return ctl_fail("cannot write %s: %s", r->rejected_path, strerror(errno));
	r->rejected_written = true;
	return CTL_OK;
}

/* Refuses a rejected-rows file that could not be put in place at the end (a directory by that
 * name), before anything is sent; the temporary's own test is its creation (rejected_open). */
static int rejected_check(const struct run *r)
{
	struct stat st;

	if (lstat(r->rejected_path, &st) == 0 && S_ISDIR(st.st_mode))
		return ctl_fail("cannot write %s: %s", r->rejected_path, strerror(EISDIR));
	return CTL_OK;
}

/* All or nothing: a dry pass over the file, then, when no row failed, an atomic one. */
static int all_or_nothing(struct run *r)
{
	bool whole = false;
	int rc = pass(r, PASS_DRY, ctl_word(r->ctl, "Kiểm tra", "Checking"), true, &whole);
	long long rows = r->rows;

	if (rc != CTL_OK)
		return rc;
	if (whole) {
		/* One chunk: one request does it, checked and stored (or rolled back) at once. */
		bool real = !r->dry_run && r->failed == 0 && r->chunk->nbad == 0;
		if ((rc = send_chunk(r, real ? PASS_ATOMIC : PASS_DRY)) != CTL_OK)
			return rc;
		/* A refused atomic chunk is all of the file: nothing in, nothing to stop. */
		r->stopped = false;
		if ((rc = summary(r, real && !r->failed, rows)) != CTL_OK)
			return rc;
		return r->failed ? CTL_FAIL : CTL_OK;
	}
	if (r->failed || r->dry_run) {
		if ((rc = summary(r, false, rows)) != CTL_OK)
			return rc;
		return r->failed ? CTL_FAIL : CTL_OK;
	}
	if ((rc = pass(r, PASS_ATOMIC, ctl_word(r->ctl, "Nhập", "Importing"), false, &whole)) !=
	    CTL_OK)
		return rc;
	if ((rc = summary(r, true, rows)) != CTL_OK)
		return rc;
	if (r->stopped) {
		fprintf(stderr, "dunghanctl: %s: the import stopped at a chunk with failed rows "
				"(%lld rows before it were imported); fix them and import the file "
				"again: the imported rows will count as existing\n", r->file,
			r->created + r->existing);
		return CTL_FAIL;
	}
	return CTL_OK;
}

static int cmd_import(struct ctl *ctl, int argc, char **argv)
{
	enum { O_FORMAT = 1, O_DRY_RUN, O_CONTINUE, O_MAP };
	static const struct option opts[] = {
		{ "format", required_argument, NULL, O_FORMAT },
		{ "dry-run", no_argument, NULL, O_DRY_RUN },
		{ "continue-on-error", no_argument, NULL, O_CONTINUE },
		{ "map", required_argument, NULL, O_MAP },
		CTL_STD_OPTIONS,
	};
	struct run *r = calloc(1, sizeof(*r));
	const char *arg, *map = NULL;
	struct ctl_args a;
	struct stat st;
	struct err err;
	bool whole;
	int id, rc = CTL_USAGE;

	if (!r || !(r->chunks = calloc(CHUNK_SLOTS, sizeof(*r->chunks)))) {
		free(r);
		return ctl_fail("out of memory");
	}
	*r = (struct run){ .ctl = ctl, .chunks = r->chunks, .chunk = r->chunks, .fd = -1,
			   .format = IMPORT_AUTO };
	if (pthread_mutex_init(&r->sender.mu, NULL) != 0) {
		free(r->chunks);
		free(r);
		return ctl_fail("out of memory");
	}
	if (pthread_cond_init(&r->sender.cv, NULL) != 0) {
		pthread_mutex_destroy(&r->sender.mu);
		free(r->chunks);
		free(r);
		return ctl_fail("out of memory");
	}
	ctl_args_init(&a, argc, argv, opts);
	while ((id = ctl_opt(ctl, &a, &arg)) > 0) {
		switch (id) {
		case O_FORMAT:
			if (strcmp(arg, "csv") && strcmp(arg, "ndjson")) {
				rc = ctl_usage("import: --format \"%s\" is not csv or ndjson (the output's "
					       "format goes before the command: dunghanctl --format "
					       "json import ...)", arg);
				goto out;
			}
			r->format = strcmp(arg, "csv") == 0 ? IMPORT_CSV : IMPORT_NDJSON;
			break;
		case O_DRY_RUN:
			r->dry_run = true;
			break;
		case O_CONTINUE:
			r->keep_going = true;
			break;
		default:
			map = arg;
		}
	}
	if (id < 0) {
		rc = ctl_opt_exit(id);
		goto out;
	}
	r->file = a.pos[0];
	if (stat(r->file, &st) != 0) {
		rc = ctl_fail("cannot read %s: %s", r->file, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = ctl_usage("import: %s is not a file (it is read twice: a pipe will not do)",
			       r->file);
		goto out;
	}
	if (map && !(r->map = import_map_load(map, &err))) {
		rc = ctl_fail("%s", err.msg);
		goto out;
	}
	/* Room for the daemon's limit, with a margin for the line that would pass it. */
	r->chunk_bytes = (size_t)ctl->cfg->server.batch_body_bytes / 4 * 3;
	if (r->chunk_bytes < IMPORT_MAX_RECORD * 2)
		r->chunk_bytes = IMPORT_MAX_RECORD * 2;
	snprintf(r->rejected_path, sizeof(r->rejected_path), "%s.rejected.csv", r->file);
	snprintf(r->rejected_tmp, sizeof(r->rejected_tmp), "%s.tmp", r->rejected_path);
	if (!r->keep_going) {
		rc = all_or_nothing(r);
		goto out;
	}
	if ((rc = rejected_check(r)) != CTL_OK)
		goto out;
	rc = pass(r, r->dry_run ? PASS_DRY : PASS_KEEP_GOING,
		  ctl_word(ctl, r->dry_run ? "Kiểm tra" : "Nhập", r->dry_run ? "Checking" : "Importing"),
		  false, &whole);
	if (rc == CTL_OK)
		rc = rejected_finish(r);
	if (rc == CTL_OK)
		rc = summary(r, !r->dry_run, r->rows);
	if (rc == CTL_OK && r->failed)
		rc = CTL_FAIL;
out:
	if (r->rejected) {
		fclose(r->rejected);
		unlink(r->rejected_tmp);
	}
	import_map_free(r->map);
	for (size_t i = 0; i < CHUNK_SLOTS; i++) {
		free(r->chunks[i].body.data);
		free(r->chunks[i].raw.data);
		free(r->chunks[i].msgs.data);
		free(r->chunks[i].answer.body);
	}
	free(r->chunks);
	pthread_cond_destroy(&r->sender.cv);
	pthread_mutex_destroy(&r->sender.mu);
	free(r);
	return rc;
}

const struct ctl_command ctl_import_commands[] = {
	{ "import", NULL, "FILE",
	  "[--format csv|ndjson] [--dry-run] [--continue-on-error] [--map FILE]",
	  "import cases from the one-stop system's export: all or nothing, or the good rows",
	  "      --format F          csv or ndjson (default: found from the first byte)\n"
	  "      --dry-run           check every row with the daemon, change nothing\n"
	  "      --continue-on-error import the good rows; the bad ones go to FILE.rejected.csv\n"
	  "                          with their error (exit 1 when there were any)\n"
	  "      --map FILE          a mapping of CSV headers to case fields (\"Header = field\"\n"
	  "                          lines) over the built-in Vietnamese one\n"
	  "  -h, --help              this help\n"
	  "The output's format (--format table|csv|json) goes before the command.\n",
	  1, 1, CTL_NEEDS_CONFIG | CTL_DAEMON | CTL_OWN_FORMAT, cmd_import },
	{ NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, NULL },
};
