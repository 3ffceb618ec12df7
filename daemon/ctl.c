/* dunghanctl: the operator's command line. Subcommands are rows of one table; each parses its
 * own arguments and says what it expected when they are wrong (exit 2). The calendar commands
 * work offline from the configuration file; later commands talk to the daemon's HTTP API. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "config.h"
#include "lunar.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct ctl {
	const char *config_path;
	struct config *cfg;
};

struct command {
	const char *group;
	const char *name;
	const char *args;  /* for usage lines */
	const char *help;
	int nargs;
	bool needs_config;
	int (*run)(struct ctl *ctl, char **argv);
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "dunghanctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return EXIT_USAGE;
}

static int parse_instant(const char *s, int64_t *out, const char *what)
{
	struct err err;

	if (calendar_parse_rfc3339(s, out, &err) == 0)
		return 0;
	fprintf(stderr,
		"dunghanctl: %s \"%s\" is not an RFC 3339 instant like 2024-02-07T10:00:00+07:00 "
		"(%s)\n", what, s, err.msg);
	return -1;
}

static int cmd_calendar_add(struct ctl *ctl, char **argv)
{
	struct calendar *cal = ctl->cfg->calendar;
	char out[64];
	int64_t start, duration;
	struct err err;

	if (parse_instant(argv[0], &start, "START") != 0)
		return EXIT_USAGE;
	if (calendar_parse_duration(argv[1], calendar_day_seconds(cal), &duration, &err) != 0) {
		fprintf(stderr,
			"dunghanctl: DURATION \"%s\" is not a working time like 3d, 0.5d, 4h, 90m or "
			"30s (%s)\n", argv[1], err.msg);
		return EXIT_USAGE;
	}
	calendar_format(cal, calendar_add(cal, start, duration), out, sizeof(out));
	puts(out);
	return EXIT_OK;
}

static int cmd_calendar_between(struct ctl *ctl, char **argv)
{
	int64_t a, b;

	if (parse_instant(argv[0], &a, "A") != 0 || parse_instant(argv[1], &b, "B") != 0)
		return EXIT_USAGE;
	printf("%lld\n", (long long)calendar_between(ctl->cfg->calendar, a, b));
	return EXIT_OK;
}

static int cmd_calendar_list(struct ctl *ctl, char **argv)
{
	struct calendar_exception *list = NULL;
	char *end;
	long year = strtol(argv[0], &end, 10);
	size_t n;

	if (*end || end == argv[0] || year < 1900 || year > 2199)
		return usage_error("YEAR \"%s\" is not a year from 1900 to 2199", argv[0]);
	n = calendar_list(ctl->cfg->calendar, (int)year, NULL, 0);
	if (n && !(list = calloc(n, sizeof(*list)))) {
		fprintf(stderr, "dunghanctl: out of memory\n");
		return EXIT_FAIL;
	}
	n = calendar_list(ctl->cfg->calendar, (int)year, list, n);
	for (size_t i = 0; i < n; i++) {
		int y, m, d;
		civil_from_days(list[i].day, &y, &m, &d);
		printf("%04d-%02d-%02d %s %s\n", y, m, d, list[i].kind == CALENDAR_OFF ? "off" : "work",
		       list[i].reason ? list[i].reason : "");
	}
	free(list);
	return EXIT_OK;
}

static int cmd_calendar_lunar(struct ctl *ctl, char **argv)
{
	struct lunar_date ld;
	struct err err;
	int32_t day;
	int y, m, d;

	(void)ctl;
	if (civil_parse_date(argv[0], &day, &err) != 0)
		return usage_error("\"%s\" is not a date like 2024-02-10", argv[0]);
	civil_from_days(day, &y, &m, &d);
	if (lunar_from_solar(y, m, d, LUNAR_VN_TZ_HOURS, &ld) != 0)
		return usage_error("%s is outside the supported range (1900 to 2199)", argv[0]);
	printf("%d/%d/%d%s\n", ld.day, ld.month, ld.year, ld.leap ? " nhuận" : "");
	return EXIT_OK;
}

static const struct command commands[] = {
	{ "calendar", "add", "START DURATION",
	  "the instant when DURATION of working time has passed since START", 2, true,
	  cmd_calendar_add },
	{ "calendar", "between", "A B", "working seconds from A to B", 2, true,
	  cmd_calendar_between },
	{ "calendar", "list", "YEAR", "days off on weekdays and make-up working days of YEAR", 1,
	  true, cmd_calendar_list },
	{ "calendar", "lunar", "YYYY-MM-DD", "the Vietnamese lunar date of a solar date", 1, false,
	  cmd_calendar_lunar },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fprintf(out, "Usage: dunghanctl [-c FILE] COMMAND [ARGS]...\n"
		     "The operator's tool for dunghan.\n\n"
		     "Options:\n"
		     "  -c, --config FILE   configuration file (default " CONFIG_DEFAULT_PATH ")\n"
		     "  -h, --help          print this help and exit\n"
		     "      --version       print the version and exit\n\n"
		     "Commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %s %s %s\n      %s\n", commands[i].group, commands[i].name,
			commands[i].args, commands[i].help);
	fprintf(out, "\nInstants are RFC 3339 (2024-02-07T10:00:00+07:00); durations are working "
		     "time: 3d, 0.5d, 4h, 90m, 30s\n(a day is one full office day). "
		     "See docs/calendar.md.\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl ctl = { .config_path = CONFIG_DEFAULT_PATH };
	const struct command *cmd = NULL;
	char *errors = NULL;
	int opt, rc;

	/* '+': options stop at the command, so "calendar add 2024-... -1d" keeps its "-1d". */
	while ((opt = getopt_long(argc, argv, "+c:h", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			ctl.config_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("dunghanctl %s\n", DUNGHAN_VERSION);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind < 2) {
		fprintf(stderr, "dunghanctl: expected a command, e.g. \"calendar add START DURATION\"\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].group, argv[optind]) == 0 &&
		    strcmp(commands[i].name, argv[optind + 1]) == 0)
			cmd = &commands[i];
	if (!cmd) {
		fprintf(stderr, "dunghanctl: unknown command \"%s %s\"\n", argv[optind],
			argv[optind + 1]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (argc - optind - 2 != cmd->nargs) {
		fprintf(stderr, "dunghanctl: \"%s %s\" expects %s\n", cmd->group, cmd->name, cmd->args);
		return EXIT_USAGE;
	}
	if (cmd->needs_config) {
		ctl.cfg = config_load(ctl.config_path, NULL, NULL, &errors);
		if (!ctl.cfg) {
			fputs(errors, stderr);
			free(errors);
			return EXIT_FAIL;
		}
	}
	rc = cmd->run(&ctl, argv + optind + 2);
	config_free(ctl.cfg);
	return rc;
}
