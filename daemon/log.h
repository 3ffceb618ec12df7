/* log: leveled log lines on stderr. Under systemd (JOURNAL_STREAM set) each line carries an
 * sd-daemon "<N>" priority prefix and no timestamp, since journald adds its own; otherwise an
 * ISO-8601 local timestamp. The logger is process-wide, like stderr itself; never log secrets. */
#ifndef DUNGHAN_LOG_H
#define DUNGHAN_LOG_H

#include <stdbool.h>

enum log_level { LOG_LEVEL_ERROR = 0, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Reads JOURNAL_STREAM once to choose the line format. Safe to call again. */
void log_init(enum log_level level);

void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Parses "error", "warn", "info", "debug". Returns 0 or -1. */
int log_level_parse(const char *name, enum log_level *out);
const char *log_level_name(enum log_level level);

void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_write(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_write(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_write(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_write(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
