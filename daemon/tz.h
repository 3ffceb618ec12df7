/* tz: a small reader of the system's compiled time zone files (TZif, RFC 8536, versions 1 to
 * 4), answering two questions: what is the UTC offset at an instant, and which instant shows a
 * given wall-clock time. Instants after the last transition follow the file's POSIX TZ footer
 * (fixed offsets such as "<+07>-7" and daylight-saving rules such as "CET-1CEST,M3.5.0,M10.5.0/3").
 *
 * Instants are UTC Unix seconds; a "local" value is the wall-clock time written as if it were
 * UTC (local = utc + offset). Leap-second records are skipped (Unix time has none). */
#ifndef DUNGHAN_TZ_H
#define DUNGHAN_TZ_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct tz;

/* Loads zone `name` (e.g. "Asia/Ho_Chi_Minh") from dir (NULL: $TZDIR, else
 * /usr/share/zoneinfo). Names are ASCII letters, digits and "/_-+" only, with no empty
 * component and no leading or trailing "/" (so no ".." and no absolute path). Returns NULL and
 * fills err (field NULL) on a bad name, a missing or unreadable file, or a malformed one.
 * The result is immutable: share it between threads freely. */
struct tz *tz_load(const char *dir, const char *name, struct err *err);

/* Parses TZif data held in memory (len bytes, not kept). Returns NULL and fills err. */
struct tz *tz_parse(const void *data, size_t len, struct err *err);

/* Frees tz. NULL is a no-op. */
void tz_free(struct tz *tz);

/* Offset from UTC in seconds (east positive) in force at instant utc. Any int64 is accepted;
 * far outside the zone's table the first type (before) or the footer rule (after) applies. */
int tz_offset_at(const struct tz *tz, int64_t utc);

/* The instant at which the wall clock shows `local`. An ambiguous time (a clock set back)
 * gives the first occurrence; a skipped one (a clock set forward) gives the instant the clock
 * would show it had it not jumped, i.e. later by the size of the gap. Saturates near the ends
 * of int64. */
int64_t tz_to_utc(const struct tz *tz, int64_t local);

#endif
