/* torture: allocation-failure torture for the parsers (tests/unit/test_torture*.c; torture.c
 * replaces malloc for the program that links it, so only those programs do). A run function
 * parses a sample input and describes what a caller would get; torture_parser() runs it once
 * to count its allocations, then again failing each in turn, and asserts (Criterion) that every
 * run ends in an error with a message or in exactly the unfailed result, leaving no block. */
#ifndef DUNGHAN_TORTURE_H
#define DUNGHAN_TORTURE_H

#include <stdbool.h>
#include <stddef.h>

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
#define TORTURE_SANITIZED 1 /* malloc is not replaced: the tests skip */
#else
#define TORTURE_SANITIZED 0
#endif

#define TORTURE_OUT_MAX (256 * 1024)

/* A run's description of its result: what a caller would have got. */
struct torture_out {
	char text[TORTURE_OUT_MAX];
	size_t len;
	char error[300]; /* the first error the run met, "" for none */
	bool jansson;    /* an error made up by jansson#362 (see torture.c, json_loadb) */
};

/* Appends n bytes of s to the result (cut at TORTURE_OUT_MAX). */
void torture_out_add(struct torture_out *o, const char *s, size_t n);
/* Keeps msg as the run's error unless one is kept already. */
void torture_out_error(struct torture_out *o, const char *msg);

/* Runs the parser on its input; fills o. Returns 0 on success, -1 when it reported an error. */
typedef int (*torture_run_fn)(struct torture_out *o);

/* The torture of one parser (see above); skips the test in the ASan build. Logs its figures
 * for docs/testing.md. TORTURE_STRIDE=1: every allocation of large parsers too (default: the
 * first 1500, then about 1500 spread over the rest); TORTURE_ONLY=k: only the kth. */
void torture_parser(const char *name, torture_run_fn run);

/* The same, loose: for a daemon running in the process, whose allocations change from run to
 * run (SQLite's caches grow with the database) and whose caches outlive a run, neither the
 * count of allocations nor what a run leaves is checked; only each run's outcome. */
void torture_run(const char *name, torture_run_fn run, bool loose);

/* The test's own work inside a run (describing a result) is not the parser's: between these,
 * nothing is counted or failed. */
void torture_pause(void);
void torture_resume(void);

/* Whether the allocation failed in this run was made inside jansson's json_loadb. */
bool torture_failed_in_loadb(void);

#endif
