/* harness: what black-box tests need to run the real dunghand — a private temporary directory,
 * files in it, a free loopback port, a systemd-style NOTIFY_SOCKET to receive READY=1 and
 * friends, and a child process whose exit is awaited with a bound (pidfd + poll, no sleeps). */
#ifndef DUNGHAN_HARNESS_H
#define DUNGHAN_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

struct harness {
	char dir[256];        /* the temporary directory, removed by harness_close */
	int notify_fd;        /* bound AF_UNIX datagram socket, or -1 */
	char notify_path[300];
	char received[16384]; /* every notify datagram so far, each followed by '\n' */
	size_t received_len;
};

struct harness_proc {
	pid_t pid;
	int pidfd;
	char stderr_path[320];
};

/* Creates the temporary directory and the notify socket. Returns 0 or -1. */
int harness_init(struct harness *h);
/* Removes the directory and everything in it; closes the socket. */
void harness_close(struct harness *h);

/* Path of name inside the temporary directory (static per call site buffer: caller's buf). */
const char *harness_path(const struct harness *h, const char *name, char *buf, size_t n);
/* Writes text to dir/name. Returns 0 or -1. */
int harness_write(const struct harness *h, const char *name, const char *text);
/* Reads a whole file into a malloc'd NUL-terminated string (NULL on error). */
char *harness_read(const char *path);

/* CPU seconds (user + system) process pid has used so far, from /proc/PID/stat; -1 when it
 * cannot be read. For benchmarks, which judge work by CPU time on a shared machine. */
double harness_cpu_seconds(pid_t pid);
/* The absolute CLOCK_REALTIME instant ms from now, for pthread_cond_timedwait. */
struct timespec harness_deadline_in(int ms);

/* A loopback TCP port that was free a moment ago. */
int harness_free_port(void);

/* Starts `bin args...` (argv NULL-terminated, argv[0] is the program path) with stdout and
 * stderr appended to dir/<log_name>, with NOTIFY_SOCKET set and extra_env ("K=V", NULL-ended,
 * may be NULL) added. Returns 0 or -1. */
int harness_spawn(struct harness *h, struct harness_proc *p, char *const argv[],
		  const char *const extra_env[], const char *log_name);
/* harness_spawn adds --allow-root after argv[0] when argv[0] is harness_dunghand() and the
 * test runs as root; this one runs argv exactly as given (to test the refusal itself). */
int harness_spawn_exact(struct harness *h, struct harness_proc *p, char *const argv[],
			const char *const extra_env[], const char *log_name);

/* Waits until the process exits, at most timeout_ms. Returns its exit status (0..255), 128+N
 * when killed by signal N, or -1 on timeout. */
int harness_wait(struct harness_proc *p, int timeout_ms);
/* Sends sig; kills with SIGKILL and reaps if still running (cleanup path). */
void harness_signal(struct harness_proc *p, int sig);
void harness_kill(struct harness_proc *p);

/* Waits until a notify datagram containing `needle` arrives after position *from of
 * h->received (from may be NULL = from the start); returns true and sets *from past it. */
bool harness_notify_wait(struct harness *h, const char *needle, size_t *from, int timeout_ms);

/* Waits until the file at path contains needle, at most timeout_ms (inotify-free polling of a
 * log file is the event here: each check reads the file). Returns true when found. */
bool harness_file_wait(const char *path, const char *needle, int timeout_ms);

/* The dunghand and dunghanctl binaries under test (from $DUNGHAND / $DUNGHANCTL, else the
 * build tree). */
const char *harness_dunghand(void);
const char *harness_dunghanctl(void);

#endif
