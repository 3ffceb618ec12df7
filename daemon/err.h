/* err: the error report every fallible function fills in for its caller.
 * A function returns a negative code (or NULL) and writes a human message, plus the name of
 * the field or setting at fault when there is one, into the struct err the caller passed. */
#ifndef DUNGHAN_ERR_H
#define DUNGHAN_ERR_H

#include <stddef.h>

struct err {
	char msg[512];   /* human-readable, English, no trailing newline */
	char field[128]; /* setting path or JSON field at fault; "" when none */
};

/* Clears both strings. err may be NULL (then every err_* call is a no-op). */
void err_clear(struct err *err);

/* Formats msg (printf-style) and copies field (NULL = none). Always returns -1 so callers can
 * write `return err_set(err, ...);`. */
int err_set(struct err *err, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
