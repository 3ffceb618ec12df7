/* log: leveled log lines on stderr, journald-aware (see log.h).
 * The whole line is formatted first and written with one write(2) so that lines from the
 * loop thread and the thread pool never interleave. */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_level = LOG_LEVEL_INFO;
static atomic_bool log_journal = false;

static const char *const level_names[] = { "error", "warn", "info", "debug" };
/* sd-daemon.h priorities: SD_ERR 3, SD_WARNING 4, SD_INFO 6, SD_DEBUG 7. */
static const int level_priorities[] = { 3, 4, 6, 7 };

/* JOURNAL_STREAM is "dev:ino" of the journal socket; it only counts when stderr is that socket
 * (a child whose stderr was redirected inherits the variable but not the stream). */
static bool stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!env || sscanf(env, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_init(enum log_level level)
{
	atomic_store(&log_journal, stderr_is_journal());
	log_set_level(level);
}

void log_set_level(enum log_level level)
{
	atomic_store(&log_level, (int)level);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load(&log_level);
}

int log_level_parse(const char *name, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

const char *log_level_name(enum log_level level)
{
	return level_names[level];
}

void log_write(enum log_level level, const char *fmt, ...)
{
	char line[2048];
	size_t n = 0;
	va_list ap;
	int w;

	if ((int)level > atomic_load(&log_level))
		return;
	if (atomic_load(&log_journal)) {
		w = snprintf(line, sizeof(line), "<%d>", level_priorities[level]);
	} else {
		struct timespec ts;
		struct tm tm;
		char stamp[40];

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S%z", &tm);
		w = snprintf(line, sizeof(line), "%s %s: ", stamp, level_names[level]);
	}
	n = w > 0 ? (size_t)w : 0;
	va_start(ap, fmt);
	w = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (w > 0)
		n += (size_t)w < sizeof(line) - n - 1 ? (size_t)w : sizeof(line) - n - 2;
	line[n++] = '\n';
	/* A failed log write has nowhere to be reported. */
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}
