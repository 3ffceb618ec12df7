/* dunghanctl: the operator's command line. Subcommands are rows of one table; each parses its
 * own arguments and says what it expected when they are wrong (exit 2). The calendar commands
 * work offline from the configuration file; later commands talk to the daemon's HTTP API. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

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
	int min_args, max_args;
	bool needs_config;
	int (*run)(struct ctl *ctl, char **argv, int argc);
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

static int cmd_calendar_add(struct ctl *ctl, char **argv, int argc)
{
	(void)argc;
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

static int cmd_calendar_between(struct ctl *ctl, char **argv, int argc)
{
	(void)argc;
	int64_t a, b;

	if (parse_instant(argv[0], &a, "A") != 0 || parse_instant(argv[1], &b, "B") != 0)
		return EXIT_USAGE;
	printf("%lld\n", (long long)calendar_between(ctl->cfg->calendar, a, b));
	return EXIT_OK;
}

static int cmd_calendar_list(struct ctl *ctl, char **argv, int argc)
{
	(void)argc;
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

static int cmd_calendar_lunar(struct ctl *ctl, char **argv, int argc)
{
	(void)argc;
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

/* --- procedures ----------------------------------------------------------------------- */

enum format { FORMAT_TABLE, FORMAT_CSV, FORMAT_JSON };

/* Display width of UTF-8 text: one column per code point (Vietnamese is precomposed). */
static int text_width(const char *s)
{
	int w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

/* s, then spaces up to width columns (none when width is 0: the last column). */
static void print_padded(const char *s, int width)
{
	int pad = width - text_width(s);

	printf("%s%*s", s, pad > 0 ? pad : 0, "");
}

/* A CSV field, quoted when it holds a separator, a quote or a line break (RFC 4180). */
static void print_csv_field(const char *s, bool last)
{
	if (strpbrk(s, ",\"\r\n")) {
		putchar('"');
		for (; *s; s++) {
			if (*s == '"')
				putchar('"');
			putchar(*s);
		}
		putchar('"');
	} else {
		fputs(s, stdout);
	}
	fputs(last ? "\r\n" : ",", stdout);
}

static void format_days(double days, char *buf, size_t n)
{
	snprintf(buf, n, "%g", days);
}

static void format_cutoff(int minutes, char *buf, size_t n)
{
	if (minutes > 0)
		snprintf(buf, n, "%02d:%02d", minutes / 60, minutes % 60);
	else
		snprintf(buf, n, "%s", "");
}

static json_t *procedure_json(const struct config_procedure *p)
{
	char cutoff[16];

	format_cutoff(p->cutoff_min, cutoff, sizeof(cutoff));
	return json_pack("{s:s, s:s, s:f, s:o, s:o, s:o, s:o, s:s}", "code", p->code, "name", p->name,
			 "days", p->days, "extended_days",
			 p->extended_days > 0 ? json_real(p->extended_days) : json_null(), "cutoff",
			 cutoff[0] ? json_string(cutoff) : json_null(), "level",
			 p->level ? json_string(p->level) : json_null(), "agency",
			 p->agency ? json_string(p->agency) : json_null(), "on_resume", p->on_resume);
}

/* Parses "--level L" and "--format F" from args. */
static int procedure_options(char **argv, int argc, const char **level, enum format *format)
{
	static const char *const names[] = { "table", "csv", "json" };

	for (int i = 0; i < argc; i++) {
		if (i + 1 >= argc || (strcmp(argv[i], "--level") && strcmp(argv[i], "--format")))
			return usage_error("\"procedures list\" takes --level LEVEL and --format "
					   "table|csv|json, not \"%s\"", argv[i]);
		if (strcmp(argv[i], "--level") == 0) {
			*level = argv[++i];
			continue;
		}
		int k = 0;
		while (k < 3 && strcmp(names[k], argv[i + 1]) != 0)
			k++;
		if (k == 3)
			return usage_error("--format \"%s\" is not table, csv or json", argv[i + 1]);
		*format = (enum format)k;
		i++;
	}
	return EXIT_OK;
}

static int cmd_procedures_list(struct ctl *ctl, char **argv, int argc)
{
	static const char *const headers[] = { "Mã thủ tục", "Tên thủ tục", "Số ngày", "Gia hạn",
					       "Giờ chốt", "Cấp" };
	const struct config *cfg = ctl->cfg;
	enum format format = FORMAT_TABLE;
	const char *level = NULL;
	int width[6] = { 0 };
	json_t *list = NULL;
	int rc;

	if ((rc = procedure_options(argv, argc, &level, &format)) != EXIT_OK)
		return rc;
	for (int k = 0; k < 6; k++)
		width[k] = text_width(headers[k]);
	if (format == FORMAT_CSV) {
		fputs("\xef\xbb\xbf", stdout); /* a BOM, so that Excel reads UTF-8 */
		fputs("code,name,days,extended_days,cutoff,level,agency,on_resume\r\n", stdout);
	} else if (format == FORMAT_JSON) {
		list = json_array();
	}
	/* Two passes for the table: widths, then rows. */
	for (int pass = format == FORMAT_TABLE ? 0 : 1; pass < 2; pass++) {
		if (pass == 1 && format == FORMAT_TABLE) {
			for (int k = 0; k < 6; k++) {
				print_padded(headers[k], k == 5 ? 0 : width[k] + 2);
			}
			putchar('\n');
		}
		for (size_t i = 0; i < cfg->nprocedures; i++) {
			const struct config_procedure *p = &cfg->procedures[i];
			char days[32], ext[32] = "", cutoff[16];
			const char *cells[6];

			if (level && (!p->level || strcmp(p->level, level) != 0))
				continue;
			format_days(p->days, days, sizeof(days));
			if (p->extended_days > 0)
				format_days(p->extended_days, ext, sizeof(ext));
			format_cutoff(p->cutoff_min, cutoff, sizeof(cutoff));
			cells[0] = p->code;
			cells[1] = p->name;
			cells[2] = days;
			cells[3] = ext;
			cells[4] = cutoff;
			cells[5] = p->level ? p->level : "";
			if (pass == 0) {
				for (int k = 0; k < 6; k++)
					if (text_width(cells[k]) > width[k])
						width[k] = text_width(cells[k]);
			} else if (format == FORMAT_TABLE) {
				for (int k = 0; k < 6; k++)
					print_padded(cells[k], k == 5 ? 0 : width[k] + 2);
				putchar('\n');
			} else if (format == FORMAT_CSV) {
				for (int k = 0; k < 6; k++)
					print_csv_field(cells[k], false);
				print_csv_field(p->agency ? p->agency : "", false);
				print_csv_field(p->on_resume, true);
			} else {
				json_array_append_new(list, procedure_json(p));
			}
		}
	}
	if (list) {
		char *text = json_dumps(list, JSON_INDENT(2));
		json_decref(list);
		if (!text)
			return EXIT_FAIL;
		puts(text);
		free(text);
	}
	return EXIT_OK;
}

static int cmd_procedures_show(struct ctl *ctl, char **argv, int argc)
{
	const struct config_procedure *p = config_procedure(ctl->cfg, argv[0]);
	char days[32], ext[96] = "—", cutoff[16];

	(void)argc;
	if (!p) {
		fprintf(stderr, "dunghanctl: no procedure has code \"%s\"\n", argv[0]);
		return EXIT_FAIL;
	}
	format_days(p->days, days, sizeof(days));
	if (p->extended_days > 0)
		snprintf(ext, sizeof(ext), "%g ngày làm việc (khi cần xác minh)", p->extended_days);
	format_cutoff(p->cutoff_min, cutoff, sizeof(cutoff));
	printf("Mã thủ tục:       %s\n"
	       "Tên thủ tục:      %s\n"
	       "Thời hạn:         %s ngày làm việc%s\n"
	       "Thời hạn tối đa:  %s\n"
	       "Giờ chốt:         %s\n"
	       "Cấp:              %s\n"
	       "Cơ quan:          %s\n"
	       "Khi tiếp tục:     %s\n",
	       p->code, p->name, days, p->days == 0 ? " (trong ngày)" : "", ext,
	       cutoff[0] ? cutoff : "—", p->level ? p->level : "—", p->agency ? p->agency : "—",
	       strcmp(p->on_resume, "continue") == 0 ? "tính tiếp thời gian còn lại (continue)"
						     : "tính lại từ đầu (restart)");
	return EXIT_OK;
}

static const struct command commands[] = {
	{ "calendar", "add", "START DURATION",
	  "the instant when DURATION of working time has passed since START", 2, 2, true,
	  cmd_calendar_add },
	{ "calendar", "between", "A B", "working seconds from A to B", 2, 2, true,
	  cmd_calendar_between },
	{ "calendar", "list", "YEAR", "days off on weekdays and make-up working days of YEAR", 1,
	  1, true, cmd_calendar_list },
	{ "calendar", "lunar", "YYYY-MM-DD", "the Vietnamese lunar date of a solar date", 1, 1,
	  false, cmd_calendar_lunar },
	{ "procedures", "list", "[--level LEVEL] [--format table|csv|json]",
	  "the configured procedures and their legal times", 0, 4, true, cmd_procedures_list },
	{ "procedures", "show", "CODE", "one procedure in full", 1, 1, true, cmd_procedures_show },
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
	if (argc - optind - 2 < cmd->min_args || argc - optind - 2 > cmd->max_args) {
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
	rc = cmd->run(&ctl, argv + optind + 2, argc - optind - 2);
	config_free(ctl.cfg);
	return rc;
}
