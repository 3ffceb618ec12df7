/* dunghand: the daemon's entry point — arguments, start-up, the libuv loop, signals (stop and
 * reload), and telling systemd where we are (READY, RELOADING, STOPPING, STATUS, WATCHDOG).
 * Everything the loop owns hangs off struct dunghand; no other global state. */
#include <curl/curl.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "api.h"
#include "deliver.h"
#include "config.h"
#include "health.h"
#include "http.h"
#include "kpi_notify.h"
#include "log.h"
#include "scheduler.h"
#include "spool.h"
#include "store.h"

struct dunghand {
	uv_loop_t loop;
	uv_signal_t sigterm, sigint, sighup;
	/* SIGHUP arrives among the loop's I/O, where a turn of the API may have its transaction
	 * open: the reload runs from this timer, at the start of the next turn. */
	uv_timer_t reload_timer;
	bool stopping;
	const char *config_path;
	const char *database_override;
	struct config *cfg;
	struct store *store;
	struct http_server *http;
	struct api *api;
	struct scheduler *sched;
	struct deliver *deliver;
	struct kpi_notify *notify;
	struct spool *spool;
	struct health *health;
	char status[256];
	/* Years (bit year - CALENDAR_FIRST_YEAR) whose statutory rule was logged: once, whatever
	 * the reloads; set from any thread that builds a year of the calendar. */
	_Atomic uint64_t statutory_logged[(CALENDAR_LAST_YEAR - CALENDAR_FIRST_YEAR) / 64 + 1];
};

/* The WAL's length that makes a checkpoint due (store_start_checkpointer): about 16 MiB with
 * 4 KiB pages. Off the loop it costs requests nothing, and a short WAL keeps the recovery after
 * a crash short. */
#define CHECKPOINT_FRAMES 4000

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: dunghand [OPTION]...\n"
		"Track documents, assignments and one-stop cases; warn before deadlines pass.\n"
		"\n"
		"  -c, --config FILE     configuration file (default " CONFIG_DEFAULT_PATH ")\n"
		"  -d, --database FILE   use this database instead of database.path\n"
		"      --check-config    validate the configuration, print ok or the errors, exit\n"
		"      --allow-root      run even as root (refused otherwise: exit status 2)\n"
		"      --version         print the version and exit\n"
		"  -h, --help            print this help and exit\n"
		"\n"
		"Signals: SIGTERM/SIGINT stop gracefully, SIGHUP reloads the configuration.\n"
		"Documentation: docs/operations.md, docs/configuration.md.\n");
}

static void on_statutory_year(void *ctx, int year)
{
	struct dunghand *d = ctx;
	int bit = year - CALENDAR_FIRST_YEAR;

	if (bit >= 0 && year <= CALENDAR_LAST_YEAR) {
		uint64_t mask = UINT64_C(1) << (bit % 64);
		if (atomic_fetch_or(&d->statutory_logged[bit / 64], mask) & mask)
			return;
	}
	log_info("calendar: no official holiday schedule is loaded for %d; its days off follow "
		 "the statutory rule (Labour Code art. 111-112)", year);
}

static void log_config_errors(const char *errors)
{
	const char *line = errors;

	while (line && *line) {
		const char *nl = strchr(line, '\n');
		int n = nl ? (int)(nl - line) : (int)strlen(line);
		log_error("config: %.*s", n, line);
		line = nl ? nl + 1 : NULL;
	}
}

static int64_t now_seconds(void)
{
	return (int64_t)time(NULL);
}

static void update_status(struct dunghand *d)
{
	int64_t units = 0, people = 0, procedures = 0;
	struct err err;

	const char *listen = d->cfg->server.listen, *colon = strrchr(listen, ':');
	int port = d->http ? http_server_port(d->http) : -1;

	if (store_count_active(d->store, &units, &people, &procedures, &err) != STORE_OK)
		log_warn("status: %s", err.msg);
	/* The bound address, not the configured one: with port 0 the kernel chose it. */
	snprintf(d->status, sizeof(d->status),
		 "serving on %.*s:%d: %lld units, %lld people, %lld procedures; log level %s",
		 (int)(colon ? colon - listen : 0), listen, port, (long long)units, (long long)people,
		 (long long)procedures, log_level_name(d->cfg->log.level));
	if (d->health)
		health_set_status(d->health, d->status);
	else
		sd_notifyf(0, "STATUS=%s", d->status);
}

/* The HTTP server's settings of cfg's server section; batch is the batch endpoint's limit. */
static void http_config_of(const struct config *cfg, struct http_body_limit *batch,
			   struct http_config *hc)
{
	*batch = (struct http_body_limit){ "/api/v1/cases:batch",
					   (size_t)cfg->server.batch_body_bytes };
	*hc = (struct http_config){
		.listen = cfg->server.listen,
		.max_header_bytes = (size_t)cfg->server.header_bytes,
		.max_body_bytes = (size_t)cfg->server.body_bytes,
		.body_limits = batch,
		.nbody_limits = 1,
		.header_timeout_ms = (uint64_t)cfg->server.header_timeout_ms,
		.body_timeout_ms = (uint64_t)cfg->server.body_timeout_ms,
		.idle_timeout_ms = (uint64_t)cfg->server.idle_timeout_ms,
		.max_connections = (unsigned)cfg->server.max_connections,
		.on_request = api_handle,
		.on_response = api_on_response,
	};
}

static void reload(struct dunghand *d)
{
	char *errors = NULL;
	struct config *next;
	struct http_body_limit batch;
	struct http_config hc;
	struct err err;
	struct timespec ts;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
		   (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
	log_info("reload: reading %s", d->config_path);
	next = config_load(d->config_path, on_statutory_year, d, &errors);
	if (!next) {
		log_config_errors(errors);
		log_error("reload: the new configuration is invalid; still running on the previous one");
		free(errors);
		sd_notify(0, "READY=1");
		return;
	}
	if (strcmp(next->server.listen, d->cfg->server.listen) != 0)
		log_warn("reload: server.listen changed to %s; it takes effect at the next restart",
			 next->server.listen);
	if (!d->database_override && strcmp(next->database.path, d->cfg->database.path) != 0)
		log_warn("reload: database.path changed to %s; it takes effect at the next restart",
			 next->database.path);
	/* The HTTP limits and timeouts take effect for what the server reads from now on. */
	http_config_of(next, &batch, &hc);
	if (d->http && (rc = http_server_set_limits(d->http, &hc)) != 0) {
		log_error("reload: the HTTP limits: %s; still running on the previous configuration",
			  uv_strerror(rc));
		config_free(next);
		sd_notify(0, "READY=1");
		return;
	}
	if (store_set_max_size(d->store, next->database.max_size_mb * 1024 * 1024, &err) != STORE_OK ||
	    store_sync_config(d->store, next, now_seconds(), &err) != STORE_OK) {
		struct err ignored;

		store_set_max_size(d->store, d->cfg->database.max_size_mb * 1024 * 1024, &ignored);
		http_config_of(d->cfg, &batch, &hc);
		if (d->http)
			http_server_set_limits(d->http, &hc);
		log_error("reload: %s; still running on the previous configuration", err.msg);
		config_free(next);
		sd_notify(0, "READY=1");
		return;
	}
	api_set_config(d->api, next);
	scheduler_set_config(d->sched, next);
	deliver_set_config(d->deliver, next);
	kpi_notify_set_config(d->notify, next);
	spool_set_config(d->spool, next);
	config_free(d->cfg);
	d->cfg = next;
	log_set_level(d->cfg->log.level);
	log_info("reload: configuration reloaded from %s (log level %s)", d->config_path,
		 log_level_name(d->cfg->log.level));
	update_status(d);
	sd_notify(0, "READY=1");
}

static void on_handle_closed(uv_handle_t *h)
{
	(void)h;
}

static void on_api_closed(void *data)
{
	struct dunghand *d = data;

	d->api = NULL;
}

static void on_scheduler_closed(void *data)
{
	struct dunghand *d = data;

	d->sched = NULL;
}

static void on_deliver_closed(void *data)
{
	struct dunghand *d = data;

	d->deliver = NULL;
}

static void on_notify_closed(void *data)
{
	struct dunghand *d = data;

	d->notify = NULL;
}

static void on_spool_closed(void *data)
{
	struct dunghand *d = data;

	d->spool = NULL;
}

static void on_health_closed(void *data)
{
	struct dunghand *d = data;

	d->health = NULL;
}

/* Closes what start_http created (any of it may be missing after a failed start). */
static void close_services(struct dunghand *d)
{
	if (d->spool)
		spool_close(d->spool, on_spool_closed, d);
	if (d->notify)
		kpi_notify_close(d->notify, on_notify_closed, d);
	if (d->api)
		api_close(d->api, on_api_closed, d);
	if (d->sched)
		scheduler_close(d->sched, on_scheduler_closed, d);
	if (d->deliver)
		deliver_close(d->deliver, on_deliver_closed, d);
	if (d->health)
		health_close(d->health, on_health_closed, d);
}

/* Every request has been answered and every connection closed: the API commits what is left
 * and closes its own handle. */
static void on_http_stopped(struct http_server *srv, void *data)
{
	struct dunghand *d = data;
	(void)srv;
	log_info("stop: every connection is closed");
	d->http = NULL;
	close_services(d);
}

/* A sync of the WAL failed and the API cut its commits back (store_cut_wal): nothing may touch
 * the database again, not even a clean close, whose checkpoint would read frames that are
 * gone. The process ends as a crash would; systemd restarts it on the WAL as cut. */
static void on_fatal(void *data)
{
	(void)data;
	sd_notify(0, "STATUS=the database's disk failed a sync; stopped");
	log_error("stop: the database's disk failed a sync; exiting at once");
	_exit(EXIT_FAILURE);
}

static void begin_stop(struct dunghand *d, const char *why)
{
	if (d->stopping)
		return;
	d->stopping = true;
	log_info("stop: %s; finishing requests in flight", why);
	sd_notify(0, "STOPPING=1\nSTATUS=stopping");
	uv_close((uv_handle_t *)&d->sigterm, on_handle_closed);
	uv_close((uv_handle_t *)&d->sigint, on_handle_closed);
	uv_close((uv_handle_t *)&d->sighup, on_handle_closed);
	uv_close((uv_handle_t *)&d->reload_timer, on_handle_closed);
	api_stop_accepting(d->api);
	if (d->http)
		http_server_stop(d->http, on_http_stopped, d);
}

static void on_reload_timer(uv_timer_t *t)
{
	reload(t->data);
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct dunghand *d = h->data;

	if (signum == SIGHUP)
		uv_timer_start(&d->reload_timer, on_reload_timer, 0, 0);
	else
		begin_stop(d, signum == SIGTERM ? "SIGTERM received" : "SIGINT received");
}

static int start_loop_handles(struct dunghand *d)
{
	uint64_t usec = 0;
	struct err err;
	int rc;

	d->sigterm.data = d->sigint.data = d->sighup.data = d->reload_timer.data = d;
	if ((rc = uv_timer_init(&d->loop, &d->reload_timer)) ||
	    (rc = uv_signal_init(&d->loop, &d->sigterm)) ||
	    (rc = uv_signal_init(&d->loop, &d->sigint)) ||
	    (rc = uv_signal_init(&d->loop, &d->sighup)) ||
	    (rc = uv_signal_start(&d->sigterm, on_signal, SIGTERM)) ||
	    (rc = uv_signal_start(&d->sigint, on_signal, SIGINT)) ||
	    (rc = uv_signal_start(&d->sighup, on_signal, SIGHUP))) {
		log_error("cannot install signal handlers: %s", uv_strerror(rc));
		return -1;
	}
	if (sd_watchdog_enabled(0, &usec) <= 0)
		usec = 0;
	if (!(d->health = health_new(&d->loop, d->store, usec, &err))) {
		log_error("cannot start the health checks: %s", err.msg);
		return -1;
	}
	return 0;
}

static int start_http(struct dunghand *d)
{
	struct http_body_limit batch;
	struct http_config hc;
	struct err err;

	http_config_of(d->cfg, &batch, &hc);

	if (!(d->sched = scheduler_new(&d->loop, d->store, d->cfg, &err))) {
		log_error("cannot start the scheduler: %s", err.msg);
		return -1;
	}
	if (!(d->deliver = deliver_new(&d->loop, d->store, d->cfg, &err))) {
		log_error("cannot start delivery: %s", err.msg);
		return -1;
	}
	if (!(d->api = api_new(&d->loop, d->store, d->sched, d->deliver, d->cfg, &err))) {
		log_error("cannot start the API: %s", err.msg);
		return -1;
	}
	api_on_fatal(d->api, on_fatal, d);
	if (!(d->notify = kpi_notify_new(&d->loop, d->store, d->cfg, &err))) {
		log_error("cannot start the KPI notices: %s", err.msg);
		return -1;
	}
	if (!(d->spool = spool_new(&d->loop, d->api, d->cfg, &err))) {
		log_error("cannot start the drop folder: %s", err.msg);
		return -1;
	}
	hc.ctx = d->api;
	d->http = http_server_new(&d->loop, &hc, &err);
	if (!d->http) {
		/* http's messages name the address where it matters. */
		log_error("server.listen: %s", err.msg);
		return -1;
	}
	return 0;
}

static void close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, on_handle_closed);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "database", required_argument, NULL, 'd' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "allow-root", no_argument, NULL, 'R' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dunghand d = { .config_path = CONFIG_DEFAULT_PATH };
	enum store_status status;
	bool check_only = false, allow_root = false;
	char *errors = NULL;
	struct err err;
	int opt, rc = 1;

	while ((opt = getopt_long(argc, argv, "c:d:h", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			d.config_path = optarg;
			break;
		case 'd':
			d.database_override = optarg;
			break;
		case 'C':
			check_only = true;
			break;
		case 'R':
			allow_root = true;
			break;
		case 'V':
			printf("dunghand %s\n", DUNGHAN_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "dunghand: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	/* A daemon that parses what the network sends has no business with root's powers; checking
	 * a configuration does, as root, nothing but read it. */
	if (!check_only && geteuid() == 0 && !allow_root) {
		fprintf(stderr, "dunghand: refusing to run as root (effective user id 0): run it as "
				"an unprivileged user (the packaged unit uses \"dunghan\"), or pass "
				"--allow-root to run as root anyway\n");
		return 2;
	}

	log_init(LOG_LEVEL_INFO);
	d.cfg = config_load(d.config_path, check_only ? NULL : on_statutory_year, &d, &errors);
	if (check_only) {
		if (!d.cfg) {
			fputs(errors, stderr);
			free(errors);
			return 1;
		}
		config_free(d.cfg);
		puts("ok");
		return 0;
	}
	if (!d.cfg) {
		log_config_errors(errors);
		free(errors);
		return 1;
	}
	log_set_level(d.cfg->log.level);
	signal(SIGPIPE, SIG_IGN);
	store_global_init();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("cannot initialise libcurl");
		config_free(d.cfg);
		return 1;
	}

	const char *db_path = d.database_override ? d.database_override : d.cfg->database.path;
	struct store_options so = { .busy_timeout_ms = d.cfg->database.busy_timeout_ms };
	d.store = store_open(db_path, &so, &status, &err);
	if (!d.store) {
		log_error("database: %s", err.msg);
		goto out;
	}
	log_info("database %s at schema version %d", db_path, store_schema_version(d.store));
	if (store_set_max_size(d.store, d.cfg->database.max_size_mb * 1024 * 1024, &err) != STORE_OK ||
	    store_sync_config(d.store, d.cfg, now_seconds(), &err) != STORE_OK ||
	    store_start_checkpointer(d.store, CHECKPOINT_FRAMES, &err) != STORE_OK) {
		log_error("database: %s", err.msg);
		goto out;
	}
	if ((rc = uv_loop_init(&d.loop)) != 0) {
		log_error("cannot start the event loop: %s", uv_strerror(rc));
		rc = 1;
		goto out;
	}
	rc = 1;
	if (start_loop_handles(&d) != 0 || start_http(&d) != 0) {
		/* The services close their own handles first (delivery joins its mail thread, which
		 * posts to the loop until it ends); the walk closes only what is left. */
		close_services(&d);
		while ((d.spool || d.notify || d.api || d.sched || d.deliver || d.health) &&
		       uv_run(&d.loop, UV_RUN_ONCE) != 0)
			;
		uv_walk(&d.loop, close_walk, NULL);
		uv_run(&d.loop, UV_RUN_DEFAULT);
		uv_loop_close(&d.loop);
		goto out;
	}
	update_status(&d);
	store_enter_loop(d.store);
	log_info("dunghand %s started: %s", DUNGHAN_VERSION, d.status);
	sd_notify(0, "READY=1");

	uv_run(&d.loop, UV_RUN_DEFAULT);

	if (uv_loop_close(&d.loop) != 0) {
		log_error("stop: handles were left open");
		goto out;
	}
	log_info("stop: done");
	rc = 0;
out:
	store_close(d.store);
	config_free(d.cfg);
	curl_global_cleanup();
	return rc;
}
