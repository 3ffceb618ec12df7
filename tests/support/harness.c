/* harness: running the real binaries in black-box tests (see harness.h). */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int harness_init(struct harness *h)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(h, 0, sizeof(*h));
	h->notify_fd = -1;
	snprintf(h->dir, sizeof(h->dir), "/tmp/dunghan-test-XXXXXX");
	if (!mkdtemp(h->dir))
		return -1;
	snprintf(h->notify_path, sizeof(h->notify_path), "%s/notify.sock", h->dir);
	h->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (h->notify_fd < 0)
		return -1;
	if (strlen(h->notify_path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, h->notify_path, strlen(h->notify_path) + 1);
	if (bind(h->notify_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return -1;
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void harness_close(struct harness *h)
{
	if (h->notify_fd >= 0)
		close(h->notify_fd);
	h->notify_fd = -1;
	if (h->dir[0] && !getenv("DUNGHAN_KEEP_TEST_DIRS"))
		nftw(h->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *harness_path(const struct harness *h, const char *name, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s", h->dir, name);
	return buf;
}

int harness_write(const struct harness *h, const char *name, const char *text)
{
	char path[600], tmp[620];
	FILE *f;

	harness_path(h, name, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (!(f = fopen(tmp, "w")))
		return -1;
	fputs(text, f);
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path);
}

char *harness_read(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		return NULL;
	do {
		if (cap - len < 4096) {
			char *g = realloc(buf, cap + 65536);
			if (!g) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = g;
			cap += 65536;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	fclose(f);
	buf[len] = '\0';
	return buf;
}

int harness_free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

int harness_spawn(struct harness *h, struct harness_proc *p, char *const argv[],
		  const char *const extra_env[], const char *log_name)
{
	char *args[64];
	size_t n = 0;

	/* The tests run as root in CI, where dunghand refuses to start without --allow-root. */
	if (geteuid() != 0 || strcmp(argv[0], harness_dunghand()) != 0)
		return harness_spawn_exact(h, p, argv, extra_env, log_name);
	args[n++] = argv[0];
	args[n++] = "--allow-root";
	for (size_t i = 1; argv[i]; i++) {
		if (n == sizeof(args) / sizeof(args[0]) - 1)
			return -1;
		args[n++] = argv[i];
	}
	args[n] = NULL;
	return harness_spawn_exact(h, p, args, extra_env, log_name);
}

int harness_spawn_exact(struct harness *h, struct harness_proc *p, char *const argv[],
			const char *const extra_env[], const char *log_name)
{
	char *env[256];
	char notify[400];
	size_t n = 0;
	int fd;

	memset(p, 0, sizeof(*p));
	p->pidfd = -1;
	harness_path(h, log_name, p->stderr_path, sizeof(p->stderr_path));
	snprintf(notify, sizeof(notify), "NOTIFY_SOCKET=%s", h->notify_path);
	for (char **e = environ; *e && n < 200; e++)
		if (strncmp(*e, "NOTIFY_SOCKET=", 14) && strncmp(*e, "WATCHDOG_", 9) &&
		    strncmp(*e, "JOURNAL_STREAM=", 15))
			env[n++] = *e;
	env[n++] = notify;
	for (size_t i = 0; extra_env && extra_env[i] && n < 254; i++)
		env[n++] = (char *)extra_env[i];
	env[n] = NULL;

	if ((fd = open(p->stderr_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0)
		return -1;
	p->pid = fork();
	if (p->pid < 0) {
		close(fd);
		return -1;
	}
	if (p->pid == 0) {
		/* A test that crashes must not leave its daemon behind. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		execve(argv[0], argv, env);
		_exit(127);
	}
	close(fd);
	p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	return p->pidfd >= 0 ? 0 : -1;
}

int harness_wait(struct harness_proc *p, int timeout_ms)
{
	struct pollfd pfd = { .fd = p->pidfd, .events = POLLIN };
	int status;

	if (p->pid <= 0)
		return -1;
	if (poll(&pfd, 1, timeout_ms) <= 0)
		return -1;
	if (waitpid(p->pid, &status, 0) != p->pid)
		return -1;
	p->pid = 0;
	close(p->pidfd);
	p->pidfd = -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

void harness_signal(struct harness_proc *p, int sig)
{
	if (p->pid > 0)
		kill(p->pid, sig);
}

void harness_kill(struct harness_proc *p)
{
	if (p->pid > 0) {
		kill(p->pid, SIGKILL);
		harness_wait(p, 5000);
	}
	if (p->pidfd >= 0)
		close(p->pidfd);
	p->pidfd = -1;
}

static void drain_notify(struct harness *h)
{
	char buf[4096];
	ssize_t n;

	while ((n = recv(h->notify_fd, buf, sizeof(buf), 0)) > 0) {
		if (h->received_len + (size_t)n + 2 >= sizeof(h->received))
			break;
		memcpy(h->received + h->received_len, buf, (size_t)n);
		h->received_len += (size_t)n;
		h->received[h->received_len++] = '\n';
		h->received[h->received_len] = '\0';
	}
}

bool harness_notify_wait(struct harness *h, const char *needle, size_t *from, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	size_t start = from ? *from : 0;

	for (;;) {
		drain_notify(h);
		const char *hit = h->received_len > start ? strstr(h->received + start, needle) : NULL;
		if (hit) {
			if (from)
				*from = (size_t)(hit - h->received) + strlen(needle);
			return true;
		}
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return false;
		struct pollfd pfd = { .fd = h->notify_fd, .events = POLLIN };
		poll(&pfd, 1, (int)left);
	}
}

bool harness_file_wait(const char *path, const char *needle, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	for (;;) {
		char *text = harness_read(path);
		bool found = text && strstr(text, needle);
		free(text);
		if (found)
			return true;
		if (now_ms() >= deadline)
			return false;
		struct timespec ts = { 0, 20 * 1000000 };
		nanosleep(&ts, NULL);
	}
}

static const char *binary(const char *env, const char *name)
{
	static char paths[2][600];
	const char *v = getenv(env);
	char *buf = paths[strcmp(name, "dunghand") == 0 ? 0 : 1];

	if (v && *v)
		return v;
	snprintf(buf, sizeof(paths[0]), "%s/%s", DUNGHAN_BINARY_DIR, name);
	return buf;
}

const char *harness_dunghand(void)
{
	return binary("DUNGHAND", "dunghand");
}

const char *harness_dunghanctl(void)
{
	return binary("DUNGHANCTL", "dunghanctl");
}

struct timespec harness_deadline_in(int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

double harness_cpu_seconds(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long long ut, st;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* After "pid (comm) ": state is field 3, utime 14 and stime 15. */
	const char *p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
			 &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}
