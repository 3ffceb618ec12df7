/* Allocation-failure torture (issue #10, like curl's torture tests) for the modules that parse
 * outside input: csv.c, import.c (CSV and NDJSON), config.c (with libconfig, the calendar, the
 * templates and the catalogue it loads), template.c (load and render), mail.c, and jansson's
 * parser as the API uses it. Each parser runs on a sample input once to count its allocations,
 * then again failing the 1st, the 2nd, ... the Nth: every run must end in an error or in
 * exactly the result of the run without failure, and must leave no allocation behind.
 *
 * DESIGN: this program defines malloc, calloc, realloc and free itself (glibc supports
 * replacing them: every library of the process, jansson and libconfig included, then calls
 * these), passing on to glibc's __libc_* functions. Only calls on the test's thread while it is
 * armed count; the pointers they return are kept in a table until freed, so that what a run
 * leaves is known exactly without valgrind. The state is thread-local by necessity: malloc has
 * no context argument. Replacing malloc does not mix with AddressSanitizer (which replaces it
 * too): the tests skip in the ASan build, where the fuzzers and the unit tests watch for
 * leaks instead. TORTURE_STRIDE=1 fails every allocation of the large parsers too (default:
 * every one of the first 1500, then about 1500 more spread over the rest). */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <criterion/logging.h>
#include <jansson.h>
#include <libconfig.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "config.h"
#include "csv.h"
#include "err.h"
#include "import.h"
#include "mail.h"
#include "office_calendar.h"
#include "template.h"

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
#define TORTURE_SANITIZED 1
#else
#define TORTURE_SANITIZED 0
#endif

/* --- the allocator ---------------------------------------------------------------------- */

#define TORTURE_SLOTS (1u << 18)

static _Thread_local struct {
	bool armed;
	long count;   /* allocations counted since torture_arm */
	long fail_at; /* the one that fails (1-based); 0: none */
	bool failed;
	int shield;   /* inside libconfig, which does not check its allocations: none fails */
	int in_loadb; /* inside jansson's json_loadb */
	bool failed_in_loadb;
	long shielded; /* allocations that could not be failed */
} torture;

/* Pointers allocated while armed and not yet freed: open addressing, deletion by tombstone. */
static void *torture_live[TORTURE_SLOTS];
static void *torture_site[TORTURE_SLOTS]; /* where each was allocated: the caller of malloc */
static size_t torture_nlive;
#define TORTURE_GONE ((void *)1)

#if !TORTURE_SANITIZED
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

static size_t torture_slot(const void *p)
{
	return (size_t)(((uintptr_t)p >> 4) * 0x9E3779B97F4A7C15ull >> 20) & (TORTURE_SLOTS - 1);
}

static void torture_keep(void *p, void *site)
{
	size_t i = torture_slot(p);

	while (torture_live[i] && torture_live[i] != TORTURE_GONE)
		i = (i + 1) & (TORTURE_SLOTS - 1);
	torture_live[i] = p;
	torture_site[i] = site;
	torture_nlive++;
}

static void torture_forget(void *p)
{
	if (!torture_nlive || !p)
		return;
	for (size_t i = torture_slot(p); torture_live[i]; i = (i + 1) & (TORTURE_SLOTS - 1))
		if (torture_live[i] == p) {
			torture_live[i] = TORTURE_GONE;
			torture_nlive--;
			return;
		}
}

/* Called as an allocation is failed: a breakpoint for gdb (TORTURE_ONLY=k runs only the kth). */
__attribute__((noinline)) static void torture_failure_point(void)
{
	__asm__ volatile("");
}

/* Whether this allocation fails; counts it when armed. */
static bool torture_fails(void)
{
	if (!torture.armed)
		return false;
	if (torture.shield) {
		torture.shielded++;
		return false;
	}
	if (++torture.count != torture.fail_at)
		return false;
	torture.failed = true;
	torture.failed_in_loadb = torture.in_loadb > 0;
	torture_failure_point();
	return true;
}

void *malloc(size_t n)
{
	void *p;

	if (torture_fails())
		return NULL;
	p = __libc_malloc(n);
	if (p && torture.armed)
		torture_keep(p, __builtin_return_address(0));
	return p;
}

void *calloc(size_t n, size_t size)
{
	void *p;

	if (torture_fails())
		return NULL;
	p = __libc_calloc(n, size);
	if (p && torture.armed)
		torture_keep(p, __builtin_return_address(0));
	return p;
}

void *realloc(void *old, size_t n)
{
	void *p;

	if (!old)
		return malloc(n);
	if (torture_fails())
		return NULL;
	p = __libc_realloc(old, n);
	if (p || !n)
		torture_forget(old);
	if (p && torture.armed)
		torture_keep(p, __builtin_return_address(0));
	return p;
}

void free(void *p)
{
	torture_forget(p);
	__libc_free(p);
}

/* The library functions below are this program's for the code it links (the daemon's modules
 * are linked in statically), and pass on to the shared library's (RTLD_NEXT). */

/* jansson 2.14's lexer drops a byte of a token when growing its buffer fails (lex_save ignores
 * strbuffer_append_byte's result: akheron/jansson#362, open; fixes proposed in #735, #747): the
 * parse then succeeds with a string one byte short. A result that differs after a failure
 * inside json_loadb is that bug, counted apart; anywhere else it is ours. */
json_t *json_loadb(const char *buffer, size_t buflen, size_t flags, json_error_t *error)
{
	static json_t *(*real)(const char *, size_t, size_t, json_error_t *);
	json_t *j;

	if (!real)
		real = (json_t * (*)(const char *, size_t, size_t, json_error_t *))
			dlsym(RTLD_NEXT, "json_loadb");
	torture.in_loadb++;
	j = real(buffer, buflen, flags, error);
	torture.in_loadb--;
	return j;
}

/* libconfig 1.5 dereferences what its allocations return without checking (config_init:
 * config->root->type on a NULL root; the scanner and parser alike): a failure inside it is a
 * crash we cannot fix here, so none is made there, and config.c's own paths are tortured. */
void config_init(config_t *config)
{
	static void (*real)(config_t *);

	if (!real)
		real = (void (*)(config_t *))dlsym(RTLD_NEXT, "config_init");
	torture.shield++;
	real(config);
	torture.shield--;
}

/* glibc 2.36's regcomp leaks the bracket sets it parsed when a later allocation of the same
 * compilation fails (posix/regcomp.c, parse_expression): not ours either. */
int regcomp(regex_t *preg, const char *regex, int cflags)
{
	static int (*real)(regex_t *, const char *, int);
	int rc;

	if (!real)
		real = (int (*)(regex_t *, const char *, int))dlsym(RTLD_NEXT, "regcomp");
	torture.shield++;
	rc = real(preg, regex, cflags);
	torture.shield--;
	return rc;
}

/* OpenSSL 3 keeps a buffer on its per-thread error queue after a failure inside a digest's
 * implicit fetch (one each time, up to its ring of 16): bounded, and not ours. mail.c's own
 * handling of an OpenSSL failure is tortured through EVP_MD_CTX_new. */
int EVP_DigestInit_ex(EVP_MD_CTX *ctx, const EVP_MD *type, ENGINE *impl)
{
	static int (*real)(EVP_MD_CTX *, const EVP_MD *, ENGINE *);
	int rc;

	if (!real)
		real = (int (*)(EVP_MD_CTX *, const EVP_MD *, ENGINE *))dlsym(RTLD_NEXT,
									   "EVP_DigestInit_ex");
	torture.shield++;
	rc = real(ctx, type, impl);
	torture.shield--;
	return rc;
}

int config_read_file(config_t *config, const char *filename)
{
	static int (*real)(config_t *, const char *);
	int rc;

	if (!real)
		real = (int (*)(config_t *, const char *))dlsym(RTLD_NEXT, "config_read_file");
	torture.shield++;
	rc = real(config, filename);
	torture.shield--;
	return rc;
}
#endif

/* Where the blocks still live were allocated (the first few): "function+offset (object)" of
 * malloc's caller. */
static const char *torture_leak_site(void)
{
	static char where[600];
	size_t len = 0, shown = 0;
	Dl_info info;

	where[0] = '\0';
	for (size_t i = 0; i < TORTURE_SLOTS && shown < 4; i++) {
		if (!torture_live[i] || torture_live[i] == TORTURE_GONE)
			continue;
		shown++;
		if (!dladdr(torture_site[i], &info) || !info.dli_fname)
			info = (Dl_info){ .dli_fname = "?" };
		len += (size_t)snprintf(where + len, sizeof(where) - len, "%s%s+%#tx (%s)",
					len ? ", " : "", info.dli_sname ? info.dli_sname : "?",
					(char *)torture_site[i] -
						(char *)(info.dli_saddr ? info.dli_saddr
									: info.dli_fbase),
					info.dli_fname);
		if (len >= sizeof(where))
			break;
	}
	return where;
}

static void torture_arm(long fail_at)
{
	torture.count = 0;
	torture.shielded = 0;
	torture.fail_at = fail_at;
	torture.failed = false;
	torture.failed_in_loadb = false;
	torture.armed = true;
}

/* The test's own bookkeeping inside a run (describing a result) is not the parser's. */
static void torture_pause(void)
{
	torture.armed = false;
}

static void torture_resume(void)
{
	torture.armed = true;
}

/* --- the driver ------------------------------------------------------------------------- */

#define OUT_MAX (256 * 1024)

/* A run's description of its result: what a caller would have got. */
struct out {
	char text[OUT_MAX];
	size_t len;
	char error[300]; /* the first error the run met, "" for none */
	bool jansson;    /* a syntax error made up by jansson#362 (see json_loadb above) */
};

static void out_add(struct out *o, const char *s, size_t n)
{
	if (n > OUT_MAX - o->len)
		n = OUT_MAX - o->len;
	memcpy(o->text + o->len, s, n);
	o->len += n;
}

static void out_error(struct out *o, const char *msg)
{
	if (!o->error[0])
		snprintf(o->error, sizeof(o->error), "%.299s", msg ? msg : "");
}

/* Runs the parser on its input; fills o. Returns 0 on success, -1 when it reported an error. */
typedef int (*torture_run_fn)(struct out *o);

static struct out reference, got;

static bool same_result(void)
{
	return got.len == reference.len && !memcmp(got.text, reference.text, got.len);
}

/* The torture of one parser: counts its allocations, fails each (or a spread), and logs the
 * figures for docs/testing.md. */
static void torture_parser(const char *name, torture_run_fn run)
{
	long total, runs = 0, errors = 0, recovered = 0, jansson = 0, stride, shielded;
	size_t kept;
	const char *env = getenv("TORTURE_STRIDE");
	char first_error[300] = "";

	if (TORTURE_SANITIZED)
		cr_skip_test("malloc is replaced by this program, which AddressSanitizer does not "
			     "allow: run in the gcc build");
	/* Twice unarmed: whatever a library sets up once (time zones, locale) is set up. */
	memset(&reference, 0, sizeof(reference));
	cr_assert_eq(run(&reference), 0, "%s: %s", name, reference.error);
	memset(&reference, 0, sizeof(reference));
	cr_assert_eq(run(&reference), 0, "%s: %s", name, reference.error);

	memset(&got, 0, sizeof(got));
	torture_arm(0);
	cr_assert_eq(run(&got), 0, "%s: %s", name, got.error);
	torture.armed = false;
	total = torture.count;
	shielded = torture.shielded;
	cr_assert(same_result(), "%s: two runs differ", name);
	cr_assert_eq(torture_nlive, 0, "%s leaks %zu blocks without any failure, "
		     "allocated in %s", name, torture_nlive, torture_leak_site());
	cr_assert_gt(total, 0, "%s allocates nothing: the torture tests nothing", name);

	stride = env ? atol(env) : 0;
	if (stride <= 0)
		stride = total <= 3000 ? 1 : (total - 1500) / 1500 + 1;
	/* A first pass fills what libraries keep after their first failure (OpenSSL's error
	 * strings and provider cache after a failed fetch): kept once, it is no leak, and a leak
	 * leaks again in the second pass, which checks. */
	for (long k = 1; k <= total; k += k <= 1500 ? 1 : stride) {
		memset(&got, 0, sizeof(got));
		torture_arm(k);
		run(&got);
		torture.armed = false;
	}
	kept = torture_nlive;
	memset(torture_live, 0, sizeof(torture_live));
	torture_nlive = 0;
	for (long k = 1; k <= total; k += k <= 1500 ? 1 : stride) {
		int rc;

		if (getenv("TORTURE_ONLY") && atol(getenv("TORTURE_ONLY")) != k)
			continue;
		memset(&got, 0, sizeof(got));
		torture_arm(k);
		rc = run(&got);
		torture.armed = false;
		runs++;
		cr_assert(torture.failed, "%s: allocation %ld of %ld was never made", name, k, total);
		cr_assert_eq(torture_nlive, 0, "%s: failing allocation %ld of %ld leaks %zu blocks, "
			     "allocated in %s", name, k, total, torture_nlive,
			     torture_leak_site());
		if (torture.failed_in_loadb && (got.jansson || (rc == 0 && !same_result()))) {
			jansson++;
		} else if (rc == 0) {
			/* Recovered (a cache not filled, a retry): the result must be whole. */
			cr_assert(same_result(), "%s: failing allocation %ld of %ld gives a partial "
				  "result without an error:\n%.*s\ninstead of\n%.*s", name, k, total,
				  (int)(got.len < 1500 ? got.len : 1500), got.text,
				  (int)(reference.len < 1500 ? reference.len : 1500), reference.text);
			recovered++;
		} else {
			cr_assert(got.error[0], "%s: failing allocation %ld: an error without a "
				  "message", name, k);
			if (!first_error[0])
				snprintf(first_error, sizeof(first_error), "%.299s", got.error);
			errors++;
		}
	}
	cr_log_info("torture %s: %ld allocations (%ld more in libconfig, regcomp and OpenSSL, "
		    "not failed); %ld runs (stride %ld past 1500): %ld errors, %ld recovered "
		    "whole, %ld jansson errors (#362); %zu blocks kept after the first pass; "
		    "e.g. \"%s\"", name, total, shielded, runs, stride, errors, recovered, jansson,
		    kept, first_error);
}

TestSuite(torture, .timeout = 240);

/* --- the parsers ------------------------------------------------------------------------ */

static const char csv_input[] =
	"\xEF\xBB\xBFMã hồ sơ;Thủ tục;Đơn vị;Ngày tiếp nhận;Người nộp\r\n"
	"000.00.21.H19-240207-0001;1.004873;xa-tu-phap-tan-phu;07/02/2024 10:00;"
	"\"Nguyễn Văn A; \"\"Tổ 3\"\"\"\r\n"
	"000.00.21.H19-240207-0002;1.004873;xa-tu-phap-tan-phu;07/02/2024 10:05;\"Trần\n"
	"Thị B\"\r\n"
	"000.00.21.H19-240207-0003;2.000001;vp;08/02/2024;Lê Văn C\r\n";

static int run_csv(struct out *o)
{
	struct csv_options opt = { .detect_sep = true, .expect_header = true };
	struct err err = { 0 };
	struct csv_reader *r = csv_reader_new(csv_input, sizeof(csv_input) - 1, &opt, &err);
	struct csv_row row;
	int rc;

	if (!r) {
		out_error(o, err.msg);
		return -1;
	}
	while ((rc = csv_next(r, &row, &err)) == 1)
		for (size_t i = 0; i < row.nfields; i++) {
			out_add(o, row.fields[i], row.lens[i]);
			out_add(o, i + 1 < row.nfields ? "|" : "\n", 1);
		}
	if (rc < 0)
		out_error(o, err.msg);
	csv_reader_free(r);
	return rc == 0 ? 0 : -1;
}

Test(torture, csv)
{
	torture_parser("csv", run_csv);
}

struct mem_input {
	const char *data;
	size_t len, pos;
};

static ssize_t mem_read(void *ctx, char *buf, size_t cap)
{
	struct mem_input *in = ctx;
	size_t n = in->len - in->pos;

	if (n > cap)
		n = cap;
	if (n > 7) /* uneven reads, so that every window boundary is met */
		n = 7;
	memcpy(buf, in->data + in->pos, n);
	in->pos += n;
	return (ssize_t)n;
}

static const char import_csv[] =
	"Mã hồ sơ,Thủ tục,Đơn vị,Ngày tiếp nhận,Ngày hẹn trả,Người nộp,Cán bộ xử lý,"
	"Hình thức nộp,Thanh toán trực tuyến,Số hóa,Lệ phí,Ghi chú\n"
	"000.00.21.H19-240207-0001,1.004873,xa-tu-phap-tan-phu,07/02/2024 10:00,"
	"19/02/2024 17:00,Nguyễn Văn A,tuan.hm,Trực tuyến toàn trình,Có,Có,\"50.000\",x\n"
	"000.00.21.H19-240207-0002,1.004873,xa-tu-phap-tan-phu,07/02/2024,,\"Trần Thị \"\"B\"\"\","
	",Trực tiếp,Không,Không,0,y\n";

static const char import_ndjson[] =
	"{\"code\": \"000.00.21.H19-240207-0001\", \"procedure\": \"1.004873\", \"unit\": "
	"\"xa-tu-phap-tan-phu\", \"received_at\": \"2024-02-07T10:00:00+07:00\", "
	"\"applicant\": \"Nguyễn Văn A\", \"fee\": 50000, \"tags\": [\"a\", \"b\"]}\n"
	"\n"
	"{\"code\": \"000.00.21.H19-240207-0002\", \"procedure\": \"1.004873\", \"unit\": "
	"\"xa-tu-phap-tan-phu\", \"received_at\": \"2024-02-07T10:05:00+07:00\", "
	"\"applicant\": {\"name\": \"Trần Thị B\", \"phone\": null}}\n";

static struct calendar *office;

static int run_import(struct out *o, const char *text, enum import_format format)
{
	struct mem_input in = { text, strlen(text), 0 };
	struct import_options opt = { .format = format, .cal = office, .name = "torture" };
	struct err err = { 0 };
	struct import_reader *r = import_new(mem_read, &in, &opt, &err);
	enum import_status st;
	json_t *obj;

	if (!r) {
		out_error(o, err.msg);
		return -1;
	}
	while ((st = import_next(r, &obj, NULL, &err)) != IMPORT_END && st != IMPORT_FAILED) {
		/* The sample has no bad row: a failed allocation must stop the reader
		 * (IMPORT_FAILED), not reject a good row as if it were bad — unless jansson
		 * turned the failure into a syntax error. */
		if (st == IMPORT_BAD_ROW && torture.failed_in_loadb) {
			out_error(o, err.msg);
			o->jansson = true;
			continue;
		}
		cr_assert_neq(st, IMPORT_BAD_ROW, "a good row rejected: %s", err.msg);
		torture_pause();
		char *s = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
		cr_assert_not_null(s);
		out_add(o, s, strlen(s));
		out_add(o, "\n", 1);
		free(s);
		torture_resume();
		json_decref(obj);
	}
	if (st == IMPORT_FAILED)
		out_error(o, err.msg);
	import_free(r);
	return st == IMPORT_FAILED || o->jansson ? -1 : 0;
}

static int run_import_csv(struct out *o)
{
	return run_import(o, import_csv, IMPORT_CSV);
}

static int run_import_ndjson(struct out *o)
{
	return run_import(o, import_ndjson, IMPORT_NDJSON);
}

static void import_setup(void)
{
	struct err err = { 0 };

	office = office_calendar_2024(&err);
	cr_assert_not_null(office, "%s", err.msg);
}

static void import_teardown(void)
{
	calendar_free(office);
}

Test(torture, import_csv, .init = import_setup, .fini = import_teardown)
{
	torture_parser("import (CSV)", run_import_csv);
}

Test(torture, import_ndjson, .init = import_setup, .fini = import_teardown)
{
	torture_parser("import (NDJSON)", run_import_ndjson);
}

/* A body of POST /api/v1/cases as the API reads it (api.c: json_loadb, duplicates rejected). */
static const char json_body[] =
	"{\"code\": \"000.00.21.H19-240207-0001\", \"procedure\": \"1.004873\", \"unit\": "
	"\"xa-tu-phap-tan-phu\", \"received_at\": \"2024-02-07T10:00:00+07:00\", \"applicant\": "
	"\"Nguyễn Văn A\", \"handler\": \"tuan.hm\", \"online\": \"full\", \"fee\": 50000, "
	"\"documents\": [{\"name\": \"Tờ khai\", \"pages\": 2}, {\"name\": \"CMND\"}], "
	"\"note\": \"\\u0110\\u00fang h\\u1ea1n \\ud83d\\ude00\"}";

static int run_json(struct out *o)
{
	json_error_t jerr;
	json_t *j = json_loadb(json_body, sizeof(json_body) - 1, JSON_REJECT_DUPLICATES, &jerr);

	if (!j) {
		/* What the API tells apart (api.c): no memory is 503, not a 400 for bad JSON. */
		o->jansson = json_error_code(&jerr) != json_error_out_of_memory && jerr.text[0];
		out_error(o, jerr.text[0] ? jerr.text : "out of memory");
		return -1;
	}
	torture_pause();
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	cr_assert_not_null(s);
	out_add(o, s, strlen(s));
	free(s);
	torture_resume();
	json_decref(j);
	return 0;
}

Test(torture, json_body)
{
	torture_parser("JSON body (jansson)", run_json);
}

static int run_config(struct out *o)
{
	char *errors = NULL, line[200];
	struct config *cfg = config_load(DUNGHAN_SOURCE_DIR "/config/dunghan.conf.example", NULL,
					 NULL, &errors);

	if (!cfg) {
		out_error(o, errors ? errors : "(no error text: it could not be allocated)");
		free(errors);
		return errors ? -1 : -2;
	}
	snprintf(line, sizeof(line), "%zu units, %zu people, %zu procedures\n", cfg->nunits,
		 cfg->npeople, cfg->nprocedures);
	out_add(o, line, strlen(line));
	config_free(cfg);
	return 0;
}

static int run_config_checked(struct out *o)
{
	int rc = run_config(o);

	/* Without memory even for its error text, the loader returns NULL and no text: the daemon
	 * then says "cannot load the configuration" itself. That is an error too. */
	return rc == -2 ? -1 : rc;
}

Test(torture, config)
{
	torture_parser("config", run_config_checked);
}

static int run_template(struct out *o)
{
	const struct template_var v[] = { { "code", "000.00.21.H19-240207-0001" },
					  { "title", "Đăng ký khai sinh <b>&</b>" },
					  { "applicant", "Nguyễn Văn A" },
					  { "unit", "Phòng Tư pháp" } };
	const struct template_vars vars = { v, 4, NULL, 0 };
	struct err err = { 0 };
	struct template_set *set = template_set_load(DUNGHAN_SOURCE_DIR "/config/templates", "vi",
						     &err);
	int rc = 0;

	if (!set) {
		out_error(o, err.msg);
		return -1;
	}
	for (int part = 0; part < TEMPLATE_PART_COUNT && rc == 0; part++) {
		char *text = NULL;
		rc = template_render(set, TEMPLATE_DUE, (enum template_part)part, &vars, &text,
				     &err);
		if (rc == 0) {
			out_add(o, text, strlen(text));
			out_add(o, "\n--\n", 4);
		} else {
			out_error(o, err.msg);
		}
		free(text);
	}
	template_set_free(set);
	return rc;
}

Test(torture, template)
{
	torture_parser("template", run_template);
}

static int run_mail(struct out *o)
{
	const struct mail_address to[] = { { "Lê Thị Bình", "binh.lt@example.gov.vn" },
					   { NULL, "tuan.hm@example.gov.vn" } };
	const struct mail_header headers[] = { { "X-Dunghan-Item", "case:000.00.21.H19-0001" } };
	const struct mail_message m = {
		.from = { "Đúng Hạn — UBND tỉnh", "dunghan@example.gov.vn" },
		.to = to,
		.nto = 2,
		.subject = "[Đến hạn] Hồ sơ 000.00.21.H19-240207-0001 — Đăng ký khai sinh, một "
			   "tiêu đề đủ dài để phải gấp dòng theo RFC 2047 nhiều lần nữa",
		.text = "Kính gửi chị Bình,\n\nHồ sơ đến hạn hôm nay.\n",
		.html = "<p>Kính gửi chị Bình,</p><p>Hồ sơ đến hạn hôm nay.</p>",
		.date = 1707274800,
		.utc_offset = 7 * 3600,
		.id = "outbox-1234",
		.id_salt = "salt",
		.headers = headers,
		.nheaders = 1,
	};
	struct err err = { 0 };
	char *msg = NULL;
	size_t len = 0;

	if (mail_build(&m, &msg, &len, &err) != 0) {
		out_error(o, err.msg[0] ? err.msg : "(empty message)");
		cr_assert_null(msg);
		return -1;
	}
	out_add(o, msg, len);
	free(msg);
	return 0;
}

Test(torture, mail)
{
	ERR_clear_error(); /* OpenSSL's per-thread error queue, allocated once, before arming */
	torture_parser("mail (MIME, RFC 2047)", run_mail);
}
