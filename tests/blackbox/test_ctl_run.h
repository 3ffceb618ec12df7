/* test_ctl_run: what the dunghanctl black-box tests share — running the real dunghanctl with
 * its stdout and stderr apart (or both on a pseudo-terminal of a given width, for the table
 * cutting, the colours and the progress bar), extra environment, a bounded wait (pidfd + poll)
 * and the child's peak RSS (wait4), and golden files under tests/blackbox/golden/
 * (DUNGHAN_UPDATE_GOLDEN=1 rewrites them). Header-only: each test program includes it once. */
#ifndef DUNGHAN_TEST_CTL_RUN_H
#define DUNGHAN_TEST_CTL_RUN_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define CTL_RUN_BOUND_MS 120000 /* a 100 000-row import under ASan stays far below */
#define GOLDEN_DIR DUNGHAN_SOURCE_DIR "/tests/blackbox/golden/"

struct ctl_result {
	int status;    /* exit status, 128+N for signal N */
	char *out;     /* stdout (with a terminal: everything the terminal showed) */
	char *err;     /* stderr ("" with a terminal) */
	long max_rss_kb;
};

static inline void ctl_result_free(struct ctl_result *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

/* Reads what is on fd until EOF or EIO (a pseudo-terminal whose other side closed) into *buf. */
static inline void ctl_drain(int fd, char **buf, size_t *len)
{
	char chunk[8192];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		*buf = realloc(*buf, *len + (size_t)n + 1);
		cr_assert_not_null(*buf);
		memcpy(*buf + *len, chunk, (size_t)n);
		*len += (size_t)n;
		(*buf)[*len] = '\0';
	}
}

/* Runs argv (argv[0] the program) with env ("K=V" set, "K" unset; NULL-ended, may be NULL) and
 * stdin from /dev/null. cols > 0: stdout and stderr are a pseudo-terminal cols wide; else
 * files in dir. Waits at most CTL_RUN_BOUND_MS. */
static inline void ctl_run_argv(const char *dir, char *const argv[], const char *const *env,
				int cols, struct ctl_result *r)
{
	char out_path[600], err_path[600];
	int master = -1, pidfd;
	size_t out_len = 0;
	struct rusage ru;
	pid_t pid;
	int status;

	memset(r, 0, sizeof(*r));
	snprintf(out_path, sizeof(out_path), "%s/ctl.out", dir);
	snprintf(err_path, sizeof(err_path), "%s/ctl.err", dir);
	if (cols > 0) {
		struct winsize ws = { .ws_row = 40, .ws_col = (unsigned short)cols };
		master = posix_openpt(O_RDWR | O_NOCTTY);
		cr_assert(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0);
		cr_assert_eq(ioctl(master, TIOCSWINSZ, &ws), 0);
	}
	fflush(NULL);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		if (master >= 0) {
			int slave;
			setsid();
			slave = open(ptsname(master), O_RDWR);
			if (slave < 0)
				_exit(126);
			ioctl(slave, TIOCSCTTY, 0);
			dup2(slave, 1);
			dup2(slave, 2);
			close(master);
		} else {
			int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
			int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
			if (o < 0 || e < 0)
				_exit(126);
			dup2(o, 1);
			dup2(e, 2);
		}
		dup2(in, 0);
		for (size_t i = 0; env && env[i]; i++) {
			const char *eq = strchr(env[i], '=');
			if (eq) {
				char name[128];
				snprintf(name, sizeof(name), "%.*s", (int)(eq - env[i]), env[i]);
				setenv(name, eq + 1, 1);
			} else {
				unsetenv(env[i]);
			}
		}
		execv(argv[0], argv);
		_exit(127);
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	cr_assert(pidfd >= 0, "pidfd_open: %s", strerror(errno));
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p[2] = { { pidfd, POLLIN, 0 }, { master, POLLIN, 0 } };
		int n = poll(p, master >= 0 ? 2 : 1, 1000);
		if (n > 0 && master >= 0 && (p[1].revents & POLLIN)) {
			char chunk[8192];
			ssize_t k = read(master, chunk, sizeof(chunk));
			if (k > 0) {
				r->out = realloc(r->out, out_len + (size_t)k + 1);
				cr_assert_not_null(r->out);
				memcpy(r->out + out_len, chunk, (size_t)k);
				out_len += (size_t)k;
				r->out[out_len] = '\0';
			}
		}
		if (n > 0 && (p[0].revents & POLLIN))
			break;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >
		    CTL_RUN_BOUND_MS) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			cr_assert_fail("%s did not exit within %d ms", argv[0], CTL_RUN_BOUND_MS);
		}
	}
	cr_assert_eq(wait4(pid, &status, 0, &ru), pid);
	close(pidfd);
	r->max_rss_kb = ru.ru_maxrss;
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (master >= 0) {
		fcntl(master, F_SETFL, O_NONBLOCK);
		ctl_drain(master, &r->out, &out_len);
		close(master);
		if (!r->out)
			r->out = strdup("");
		r->err = strdup("");
	} else {
		r->out = harness_read(out_path);
		r->err = harness_read(err_path);
	}
	cr_assert(r->out && r->err);
	/* A sanitizer's report goes to the child's stderr, which ctest does not see. */
	cr_assert(!strstr(r->err, "Sanitizer") && !strstr(r->err, "runtime error") &&
		  !strstr(r->out, "Sanitizer") && !strstr(r->out, "runtime error"),
		  "%s: a sanitizer report:\n%s%s", argv[0], r->err, r->out);
}

/* The golden file name's text (malloc'd), "" when it does not exist yet. */
static inline char *golden_read(const char *name)
{
	char path[600];
	char *text;

	snprintf(path, sizeof(path), GOLDEN_DIR "%s", name);
	text = harness_read(path);
	return text ? text : strdup("");
}

/* Expects text to be the golden file name, byte for byte; DUNGHAN_UPDATE_GOLDEN=1 writes it. */
static inline void golden_expect(const char *name, const char *text)
{
	const char *update = getenv("DUNGHAN_UPDATE_GOLDEN");
	char path[600];
	char *want;

	snprintf(path, sizeof(path), GOLDEN_DIR "%s", name);
	if (update && *update == '1') {
		FILE *fp = fopen(path, "w");
		cr_assert_not_null(fp, "cannot write %s", path);
		fputs(text, fp);
		fclose(fp);
	}
	want = golden_read(name);
	cr_assert_str_eq(text, want, "differs from %s:\n--- got ---\n%s--- expected ---\n%s", path,
			 text, want);
	free(want);
}

#endif
