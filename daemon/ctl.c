/* dunghanctl: the operator's and the clerks' command line. Global options come before the
 * command, as with git; each command is a row of one of the modules' tables (ctl_*.c), parses
 * its own options, and answers --help. Exit status: 0 done, 1 the operation failed (the
 * daemon's error printed), 2 a usage error (what was expected printed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_core.h"
#include "ctl_http.h"
#include "ctl_view.h"
#include "store.h"

static const struct ctl_command *const tables[] = {
	ctl_status_commands, ctl_cases_commands,    ctl_docs_commands,       ctl_alerts_commands,
	ctl_import_commands, ctl_calendar_commands, ctl_procedures_commands,
};

#define NTABLES (sizeof(tables) / sizeof(tables[0]))

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: dunghanctl [GLOBAL OPTIONS] COMMAND [ARGS]...\n"
		"The operator's and the clerks' tool for dunghan: cases, documents, assignments,\n"
		"alerts, imports, figures and the working-time calendar.\n\n"
		"Global options:\n"
		"  -c, --config FILE    configuration file (default " CONFIG_DEFAULT_PATH ")\n"
		"      --url URL        the daemon (default: http:// and the config's server.listen)\n"
		"      --token-file F   the API token (default $DUNGHAN_TOKEN, then\n"
		"                       ~/.config/dunghan/token)\n"
		"      --db PATH        read the database file instead of asking the daemon (list and\n"
		"                       show commands, status)\n"
		"      --format F       table (default), csv (UTF-8 with BOM, for Excel) or json\n"
		"      --now TIME       count remaining working time from TIME instead of now\n"
		"  -h, --help           this help\n"
		"      --version        the version\n\n"
		"Commands (each has --help):\n");
	for (size_t t = 0; t < NTABLES; t++)
		for (const struct ctl_command *c = tables[t]; c->group; c++)
			fprintf(out, "  %s%s%s %s%s%s\n      %s\n", c->group, c->name ? " " : "",
				c->name ? c->name : "", c->args, *c->opts ? " " : "", c->opts,
				c->help);
	fprintf(out, "\nTimes: 07/02/2024 10:00, 07/02/2024 or 2024-02-07T10:00:00+07:00 (the "
		     "calendar's zone).\nSee docs/cli.md.\n");
}

/* The commands of group, for "dunghanctl cases" without a command. */
static void group_usage(FILE *out, const char *group)
{
	fprintf(out, "Commands of \"%s\":\n", group);
	for (size_t t = 0; t < NTABLES; t++)
		for (const struct ctl_command *c = tables[t]; c->group; c++)
			if (strcmp(c->group, group) == 0)
				fprintf(out, "  dunghanctl %s %s %s%s%s\n", c->group,
					c->name ? c->name : "", c->args, *c->opts ? " " : "", c->opts);
}

static bool group_exists(const char *group)
{
	for (size_t t = 0; t < NTABLES; t++)
		for (const struct ctl_command *c = tables[t]; c->group; c++)
			if (strcmp(c->group, group) == 0)
				return true;
	return false;
}

/* The command named by words[0] (and words[1]); *used = how many words name it. */
static const struct ctl_command *find(char **words, int n, int *used)
{
	for (size_t t = 0; t < NTABLES; t++)
		for (const struct ctl_command *c = tables[t]; c->group; c++) {
			if (strcmp(c->group, words[0]) != 0)
				continue;
			if (!c->name) {
				*used = 1;
				return c;
			}
			if (n > 1 && strcmp(c->name, words[1]) == 0) {
				*used = 2;
				return c;
			}
		}
	return NULL;
}

/* Whether args ask for help (before a "--"). */
static bool wants_help(char **args, int n)
{
	for (int i = 0; i < n && strcmp(args[i], "--") != 0; i++)
		if (strcmp(args[i], "--help") == 0 || strcmp(args[i], "-h") == 0)
			return true;
	return false;
}

/* Everything a command needs before it runs: the config, the language, --now, the output. */
static int prepare(struct ctl *ctl, const char *now)
{
	char *errors = NULL;

	ctl_out_init(&ctl->out, stdout);
	ctl_out_init(&ctl->err_out, stderr);
	ctl->now = (int64_t)time(NULL);
	if (!(ctl->cmd->flags & CTL_NEEDS_CONFIG) ||
	    (ctl->db_path && (ctl->cmd->flags & CTL_DB_NO_CONFIG))) {
		if (now)
			return ctl_usage("--now needs the configuration's calendar");
		return CTL_OK;
	}
	ctl->cfg = config_load(ctl->config_path, NULL, NULL, &errors);
	if (!ctl->cfg) {
		fputs(errors, stderr);
		free(errors);
		return CTL_FAIL;
	}
	ctl->en = strcmp(ctl->cfg->escalation.language, "en") == 0;
	ctl->now_given = now != NULL;
	if (now)
		return ctl_parse_time(ctl, now, "--now", &ctl->now);
	return CTL_OK;
}

int main(int argc, char **argv)
{
	enum { OPT_URL = 1000, OPT_TOKEN, OPT_DB, OPT_FORMAT, OPT_NOW, OPT_VERSION };
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "url", required_argument, NULL, OPT_URL },
		{ "token-file", required_argument, NULL, OPT_TOKEN },
		{ "db", required_argument, NULL, OPT_DB },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "now", required_argument, NULL, OPT_NOW },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl ctl = { .config_path = CONFIG_DEFAULT_PATH, .format = CTL_TABLE };
	const char *now = NULL;
	char name[64];
	int opt, rc, used = 0, fmt;

	/* '+': options stop at the command, so "calendar add 2024-... -1d" keeps its "-1d". */
	while ((opt = getopt_long(argc, argv, "+c:h", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			ctl.config_path = optarg;
			break;
		case OPT_URL:
			ctl.url = optarg;
			break;
		case OPT_TOKEN:
			ctl.token_file = optarg;
			break;
		case OPT_DB:
			ctl.db_path = optarg;
			break;
		case OPT_FORMAT:
			if ((fmt = ctl_format_parse(optarg)) < 0)
				return ctl_usage("--format \"%s\" is not table, csv or json", optarg);
			ctl.format = (enum ctl_format)fmt;
			break;
		case OPT_NOW:
			now = optarg;
			break;
		case 'h':
			usage(stdout);
			return CTL_OK;
		case OPT_VERSION:
			printf("dunghanctl %s\n", DUNGHAN_VERSION);
			return CTL_OK;
		default:
			usage(stderr);
			return CTL_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "dunghanctl: expected a command, e.g. \"cases list\" or \"status\"\n");
		usage(stderr);
		return CTL_USAGE;
	}
	ctl.cmd = find(argv + optind, argc - optind, &used);
	if (!ctl.cmd) {
		bool alone = optind + 1 >= argc;
		if (group_exists(argv[optind]) && (alone || wants_help(argv + optind + 1, 1))) {
			group_usage(alone ? stderr : stdout, argv[optind]);
			return alone ? CTL_USAGE : CTL_OK;
		}
		if (optind + 1 < argc && group_exists(argv[optind]))
			fprintf(stderr, "dunghanctl: unknown command \"%s %s\"\n", argv[optind],
				argv[optind + 1]);
		else
			fprintf(stderr, "dunghanctl: unknown command \"%s\"\n", argv[optind]);
		usage(stderr);
		return CTL_USAGE;
	}
	snprintf(name, sizeof(name), "%s%s%s", ctl.cmd->group, ctl.cmd->name ? " " : "",
		 ctl.cmd->name ? ctl.cmd->name : "");
	/* The command's words: argv[0] is its last word, for getopt. */
	char **args = argv + optind + used - 1;
	int nargs = argc - optind - used + 1;
	if ((ctl.cmd->flags & CTL_RAW_ARGS) ? nargs > 1 && strcmp(args[1], "--help") == 0
					    : wants_help(args + 1, nargs - 1)) {
		ctl_command_help(ctl.cmd, stdout);
		return CTL_OK;
	}
	if (ctl.db_path && (ctl.cmd->flags & CTL_DAEMON))
		return ctl_usage("\"%s\" needs the daemon: it cannot work on the database file "
				 "(--db)", name);
	if (ctl.db_path && ctl.url)
		return ctl_usage("--db and --url exclude each other");
	if ((ctl.cmd->flags & CTL_RAW_ARGS) &&
	    (nargs - 1 < ctl.cmd->min_args || nargs - 1 > ctl.cmd->max_args))
		return ctl_usage("\"%s\" expects %s", name, ctl.cmd->args);
	rc = prepare(&ctl, now);
	if (rc == CTL_OK && !ctl.db_path && (ctl.cmd->flags & (CTL_DAEMON | CTL_OFFLINE)))
		rc = ctl_connect(&ctl);
	if (rc == CTL_OK)
		rc = ctl.cmd->run(&ctl, nargs, args);
	if (fflush(stdout) != 0 && rc == CTL_OK)
		rc = ctl_fail("cannot write the output");
	ctl_http_free(ctl.http);
	store_close(ctl.store);
	config_free(ctl.cfg);
	return rc;
}
