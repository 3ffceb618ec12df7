/* fuzz_daemon: see fuzz_daemon.h. The config is the example's (tokens, office, rules) with
 * absolute paths, port 0, a temporary database and delivery off, so that inputs reach
 * validation and storage but nothing leaves the machine. */
#include "fuzz_daemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "api.h"
#include "config.h"
#include "deliver.h"
#include "http.h"
#include "scheduler.h"
#include "store.h"

static struct {
	bool started;
	uv_loop_t loop;
	int port;
} fd_state;

static void die(const char *what, const char *why)
{
	fprintf(stderr, "fuzz_daemon: %s: %s\n", what, why);
	abort();
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n = 0;

	if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		die(path, strerror(errno));
	if (!(buf = calloc(1, (size_t)n + 1)) || fread(buf, 1, (size_t)n, f) != (size_t)n)
		die(path, "cannot read");
	fclose(f);
	return buf;
}

/* Appends s with every `from` replaced by `to`. */
static void replace_all(FILE *out, const char *s, const char *const *pairs)
{
	while (*s) {
		const char *const *p = pairs;
		for (; *p; p += 2)
			if (strncmp(s, p[0], strlen(p[0])) == 0)
				break;
		if (*p) {
			fputs(p[1], out);
			s += strlen(p[0]);
		} else {
			fputc(*s++, out);
		}
	}
}

static void write_config(const char *dir, char *conf_path, size_t n)
{
	const char *src = DUNGHAN_SOURCE_DIR "/config";
	char holidays[600], templates[600], procedures[600], db[600], mail[600];
	char *example = read_all(DUNGHAN_SOURCE_DIR "/config/dunghan.conf.example");
	FILE *out;

	snprintf(holidays, sizeof(holidays), "\"%s/holidays/", src);
	snprintf(templates, sizeof(templates), "templates = \"%s/templates\";", src);
	snprintf(procedures, sizeof(procedures), "procedures_file = \"%s/procedures/", src);
	snprintf(db, sizeof(db), "path = \"%s/dunghan.db\";", dir);
	snprintf(mail, sizeof(mail), "dir = \"%s/mail\";", dir);
	const char *const pairs[] = {
		"\"holidays/", holidays, "templates = \"templates\";", templates,
		"procedures_file = \"procedures/", procedures,
		"path = \"/var/lib/dunghan/dunghan.db\";", db, "dir = \"var/mail\";", mail,
		"listen = \"127.0.0.1:8686\";", "listen = \"127.0.0.1:0\";",
		"delivery: {", "delivery: {\n  enabled = false;", NULL,
	};
	snprintf(conf_path, n, "%s/dunghan.conf", dir);
	if (!(out = fopen(conf_path, "w")))
		die(conf_path, strerror(errno));
	replace_all(out, example, pairs);
	fclose(out);
	free(example);
}

static void on_request(struct http_request *req, void *api)
{
	api_handle(req, api);
}

struct config *fuzz_office_config(void)
{
	static struct config *cfg;
	char dir[] = "/tmp/dunghan-fuzz-XXXXXX", conf[700];
	char *errors = NULL;

	if (cfg)
		return cfg;
	if (!mkdtemp(dir))
		die("mkdtemp", strerror(errno));
	write_config(dir, conf, sizeof(conf));
	if (!(cfg = config_load(conf, NULL, NULL, &errors)))
		die(conf, errors);
	return cfg;
}

void fuzz_daemon_start(void)
{
	enum store_status status;
	struct config *cfg;
	struct store *store;
	struct scheduler *sched;
	struct deliver *deliver;
	struct api *api = NULL;
	struct http_server *srv;
	struct err err;

	if (fd_state.started)
		return;
	cfg = fuzz_office_config();
	if (!(store = store_open(cfg->database.path, NULL, &status, &err)) ||
	    store_sync_config(store, cfg, (int64_t)time(NULL), &err) != STORE_OK)
		die("database", err.msg);
	if (uv_loop_init(&fd_state.loop) != 0)
		die("loop", "cannot initialise");
	if (!(sched = scheduler_new(&fd_state.loop, store, cfg, &err)) ||
	    !(deliver = deliver_new(&fd_state.loop, store, cfg, &err)) ||
	    !(api = api_new(&fd_state.loop, store, sched, deliver, cfg, &err)))
		die("services", err.msg);
	struct http_config hc = { .listen = cfg->server.listen, .on_request = on_request,
				  .ctx = api, .header_timeout_ms = 2000, .body_timeout_ms = 2000 };
	if (!(srv = http_server_new(&fd_state.loop, &hc, &err)))
		die("listen", err.msg);
	fd_state.port = http_server_port(srv);
	fd_state.started = true;
}

size_t fuzz_daemon_exchange(const void *data, size_t len)
{
	return fuzz_daemon_exchange_answer(data, len, NULL, 0, NULL);
}

size_t fuzz_daemon_exchange_answer(const void *data, size_t len, char *answer, size_t cap,
				   void (*accepted)(void))
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)fd_state.port) };
	size_t sent = 0, got = 0;
	struct timespec start, now;
	char buf[65536];
	int fd;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		die("socket", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS)
		die("connect", strerror(errno));
	clock_gettime(CLOCK_MONOTONIC, &start);
	if (accepted) {
		/* Loopback connects at once: a few turns let the server accept before any byte. */
		for (int i = 0; i < 4; i++) {
			struct pollfd p = { .fd = uv_backend_fd(&fd_state.loop), .events = POLLIN };
			poll(&p, 1, 1);
			uv_run(&fd_state.loop, UV_RUN_NOWAIT);
		}
		accepted();
	}
	for (;;) {
		ssize_t n;

		uv_run(&fd_state.loop, UV_RUN_NOWAIT);
		if (sent < len) {
			n = send(fd, (const char *)data + sent, len - sent, MSG_NOSIGNAL);
			if (n > 0)
				sent += (size_t)n;
			else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
				 errno != ENOTCONN)
				sent = len; /* the server closed on us: read its answer */
			if (sent == len)
				shutdown(fd, SHUT_WR);
		} else if (len == 0 && sent == 0) {
			shutdown(fd, SHUT_WR);
			sent = 1;
		}
		n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTCONN))
			break;
		if (n > 0 && answer && got < cap) /* keep the beginning of the answer */
			memcpy(answer + got, buf, (size_t)n < cap - got ? (size_t)n : cap - got);
		if (n > 0)
			got += (size_t)n;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec > 5)
			break;
		if (n < 0) {
			struct pollfd p = { .fd = uv_backend_fd(&fd_state.loop), .events = POLLIN };
			poll(&p, 1, 1);
		}
	}
	close(fd);
	/* Let the server notice the close and release the connection. */
	for (int i = 0; i < 4; i++)
		uv_run(&fd_state.loop, UV_RUN_NOWAIT);
	return got;
}
