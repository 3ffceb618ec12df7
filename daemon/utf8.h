/* utf8: checks of UTF-8 text (RFC 3629) without copying it: what e-mail headers and webhook
 * bodies accept. Strict: no overlong form, no surrogate, nothing past U+10FFFF, no truncated
 * sequence. */
#ifndef DUNGHAN_UTF8_H
#define DUNGHAN_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the valid UTF-8 sequence at s[0..n) (n >= 1), 0 when invalid. */
size_t utf8_seq(const unsigned char *s, size_t n);

/* Whether s[0..n) is valid UTF-8 (NUL bytes count as valid: callers refuse them if need be). */
bool utf8_valid(const char *s, size_t n);

#endif
