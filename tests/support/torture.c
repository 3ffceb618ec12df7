/* torture: the allocation-failure torture of tests/unit/test_torture*.c (issue #10, like curl's
 * torture tests): malloc, calloc, realloc and free replaced for the program, and the driver that
 * fails a parser's allocations one by one (torture.h). Compiled into those programs only.
 *
 * DESIGN: glibc supports replacing malloc and friends: every library of the process, jansson
 * and libconfig included, then calls these, which pass on to glibc's __libc_* functions. Only
 * calls on the armed thread count; the pointers they return are kept in a table until freed,
 * so that what a run leaves is known exactly without valgrind. The state is thread-local or
 * process-wide by necessity: malloc has no context argument. Some library functions are
 * wrapped too (defined here, passing on through RTLD_NEXT; the daemon's modules are linked in
 * statically, so their calls come here): inside those no allocation fails, for the reasons
 * given at each. Replacing malloc does not mix with AddressSanitizer (which replaces it too):
 * in the ASan build nothing is replaced and the tests skip. */
#include "torture.h"

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <dlfcn.h>
#include <jansson.h>
#include <libconfig.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void torture_pause(void)
{
	torture.armed = false;
}

void torture_resume(void)
{
	torture.armed = true;
}

bool torture_failed_in_loadb(void)
{
	return torture.failed_in_loadb;
}

/* --- the driver ------------------------------------------------------------------------- */

void torture_out_add(struct torture_out *o, const char *s, size_t n)
{
	if (n > TORTURE_OUT_MAX - o->len)
		n = TORTURE_OUT_MAX - o->len;
	memcpy(o->text + o->len, s, n);
	o->len += n;
}

void torture_out_error(struct torture_out *o, const char *msg)
{
	if (!o->error[0])
		snprintf(o->error, sizeof(o->error), "%.299s", msg ? msg : "");
}

static struct torture_out reference, got;

static bool same_result(void)
{
	return got.len == reference.len && !memcmp(got.text, reference.text, got.len);
}

void torture_run(const char *name, torture_run_fn run, bool loose)
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
	cr_assert(loose || torture_nlive == 0, "%s leaks %zu blocks without any failure, "
		  "allocated in %s", name, torture_nlive, torture_leak_site());
	cr_assert_gt(total, 0, "%s allocates nothing: the torture tests nothing", name);

	stride = env ? atol(env) : 0;
	if (stride <= 0)
		stride = total <= 3000 ? 1 : (total - 1500) / 1500 + 1;
	/* A first pass fills what libraries keep after their first failure (OpenSSL's error
	 * strings and provider cache after a failed fetch): kept once, it is no leak, and a leak
	 * leaks again in the second pass, which checks. */
	for (long k = 1; k <= total && !loose; k += k <= 1500 ? 1 : stride) {
		memset(&got, 0, sizeof(got));
		torture_arm(k);
		run(&got);
		torture.armed = false;
	}
	kept = loose ? 0 : torture_nlive;
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
		cr_assert(loose || torture.failed, "%s: allocation %ld of %ld was never made", name, k,
			  total);
		cr_assert(loose || torture_nlive == 0, "%s: failing allocation %ld of %ld leaks %zu "
			  "blocks, allocated in %s", name, k, total, torture_nlive,
			  torture_leak_site());
		if (loose) {
			memset(torture_live, 0, sizeof(torture_live));
			torture_nlive = 0;
		}
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

void torture_parser(const char *name, torture_run_fn run)
{
	torture_run(name, run, false);
}

