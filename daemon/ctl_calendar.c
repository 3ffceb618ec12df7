/* ctl_calendar: dunghanctl's offline commands on the configuration — working-time arithmetic
 * (calendar add, between, list, lunar; docs/calendar.md) and the procedure catalogue
 * (procedures list, show). They need neither the daemon nor the database. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_core.h"
#include "lunar.h"

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

static int cmd_calendar_add(struct ctl *ctl, int argc, char **argv)
{
	struct calendar *cal = ctl->cfg->calendar;
	char out[64];
	int64_t start, duration;
	struct err err;

	(void)argc;
	if (parse_instant(argv[1], &start, "START") != 0)
		return CTL_USAGE;
	if (calendar_parse_duration(argv[2], calendar_day_seconds(cal), &duration, &err) != 0)
		return ctl_usage("DURATION \"%s\" is not a working time like 3d, 0.5d, 4h, 90m or "
				 "30s (%s)", argv[2], err.msg);
	calendar_format(cal, calendar_add(cal, start, duration), out, sizeof(out));
	puts(out);
	return CTL_OK;
}

static int cmd_calendar_between(struct ctl *ctl, int argc, char **argv)
{
	int64_t a, b;

	(void)argc;
	if (parse_instant(argv[1], &a, "A") != 0 || parse_instant(argv[2], &b, "B") != 0)
		return CTL_USAGE;
	printf("%lld\n", (long long)calendar_between(ctl->cfg->calendar, a, b));
	return CTL_OK;
}

static int cmd_calendar_list(struct ctl *ctl, int argc, char **argv)
{
	struct calendar_exception *list = NULL;
	char *end;
	long year = strtol(argv[1], &end, 10);
	size_t n;

	(void)argc;
	if (*end || end == argv[1] || year < 1900 || year > 2199)
		return ctl_usage("YEAR \"%s\" is not a year from 1900 to 2199", argv[1]);
	n = calendar_list(ctl->cfg->calendar, (int)year, NULL, 0);
	if (n == 0)
		return CTL_OK;
	if (!(list = calloc(n, sizeof(*list))))
		return ctl_fail("out of memory");
	n = calendar_list(ctl->cfg->calendar, (int)year, list, n);
	for (size_t i = 0; i < n; i++) {
		int y, m, d;
		civil_from_days(list[i].day, &y, &m, &d);
		printf("%04d-%02d-%02d %s %s\n", y, m, d, list[i].kind == CALENDAR_OFF ? "off" : "work",
		       list[i].reason ? list[i].reason : "");
	}
	free(list);
	return CTL_OK;
}

static int cmd_calendar_lunar(struct ctl *ctl, int argc, char **argv)
{
	struct lunar_date ld;
	struct err err;
	int32_t day;
	int y, m, d;

	(void)ctl;
	(void)argc;
	if (civil_parse_date(argv[1], &day, &err) != 0)
		return ctl_usage("\"%s\" is not a date like 2024-02-10", argv[1]);
	civil_from_days(day, &y, &m, &d);
	if (lunar_from_solar(y, m, d, LUNAR_VN_TZ_HOURS, &ld) != 0)
		return ctl_usage("%s is outside the supported range (1900 to 2199)", argv[1]);
	printf("%d/%d/%d%s\n", ld.day, ld.month, ld.year, ld.leap ? " nhuận" : "");
	return CTL_OK;
}

const struct ctl_command ctl_calendar_commands[] = {
	{ "calendar", "add", "START DURATION", "",
	  "the instant when DURATION of working time has passed since START", NULL, 2, 2,
	  CTL_NEEDS_CONFIG | CTL_RAW_ARGS, cmd_calendar_add },
	{ "calendar", "between", "A B", "", "working seconds from A to B", NULL, 2, 2,
	  CTL_NEEDS_CONFIG | CTL_RAW_ARGS, cmd_calendar_between },
	{ "calendar", "list", "YEAR", "", "days off on weekdays and make-up working days of YEAR",
	  NULL, 1, 1, CTL_NEEDS_CONFIG | CTL_RAW_ARGS, cmd_calendar_list },
	{ "calendar", "lunar", "YYYY-MM-DD", "", "the Vietnamese lunar date of a solar date", NULL,
	  1, 1, CTL_RAW_ARGS, cmd_calendar_lunar },
	{ NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, NULL },
};

/* --- procedures ----------------------------------------------------------------------- */

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
static int procedure_options(char **argv, int argc, const char **level, enum ctl_format *format)
{
	for (int i = 0; i < argc; i++) {
		if (i + 1 >= argc || (strcmp(argv[i], "--level") && strcmp(argv[i], "--format")))
			return ctl_usage("\"procedures list\" takes --level LEVEL and --format "
					 "table|csv|json, not \"%s\"", argv[i]);
		if (strcmp(argv[i], "--level") == 0) {
			*level = argv[++i];
			continue;
		}
		int k = ctl_format_parse(argv[i + 1]);
		if (k < 0)
			return ctl_usage("--format \"%s\" is not table, csv or json", argv[i + 1]);
		*format = (enum ctl_format)k;
		i++;
	}
	return CTL_OK;
}

static int cmd_procedures_list(struct ctl *ctl, int argc, char **argv)
{
	/* The CSV's header names the catalogue's fields, so that it loads back as a catalogue
	 * (procedures_file). */
	static const struct ctl_column cols[] = {
		{ "Mã thủ tục", "code", CTL_COL_KEEP }, { "Tên thủ tục", "name", CTL_COL_SHRINK },
		{ "Số ngày", "days", 0 },        { "Gia hạn", "extended_days", 0 },
		{ "Giờ chốt", "cutoff", 0 },     { "Cấp", "level", 0 },
		{ NULL, "agency", 0 },           { NULL, "on_resume", 0 },
	};
	const struct config *cfg = ctl->cfg;
	enum ctl_format format = ctl->format;
	struct ctl_table *table = NULL;
	const char *level = NULL;
	json_t *list = NULL;
	int rc;

	if ((rc = procedure_options(argv + 1, argc - 1, &level, &format)) != CTL_OK)
		return rc;
	if (format == CTL_JSON)
		list = json_array();
	else
		table = ctl_table_new(&ctl->out, format, cols, sizeof(cols) / sizeof(cols[0]));
	if (!list && !table)
		return ctl_fail("out of memory");
	rc = CTL_OK;
	for (size_t i = 0; i < cfg->nprocedures && rc == CTL_OK; i++) {
		const struct config_procedure *p = &cfg->procedures[i];
		char days[32], ext[32] = "", cutoff[16];

		if (level && (!p->level || strcmp(p->level, level) != 0))
			continue;
		if (list) {
			json_array_append_new(list, procedure_json(p));
			continue;
		}
		format_days(p->days, days, sizeof(days));
		if (p->extended_days > 0)
			format_days(p->extended_days, ext, sizeof(ext));
		format_cutoff(p->cutoff_min, cutoff, sizeof(cutoff));
		const char *cells[] = { p->code, p->name, days, ext, cutoff, p->level,
					p->agency, p->on_resume };
		if (ctl_table_add(table, cells, CTL_PLAIN) != 0)
			rc = ctl_fail("out of memory");
	}
	if (rc == CTL_OK && table && ctl_table_end(table, true) != 0)
		rc = ctl_fail("cannot write the output");
	if (rc == CTL_OK && list && ctl_json_print(stdout, list) != 0)
		rc = ctl_fail("out of memory");
	ctl_table_free(table);
	json_decref(list);
	return rc;
}

static int cmd_procedures_show(struct ctl *ctl, int argc, char **argv)
{
	const struct config_procedure *p;
	char days[32], ext[96] = "—", cutoff[16];
	struct ctl_args a;
	const char *v;
	int id;
	static const struct option opts[] = { CTL_STD_OPTIONS };

	ctl_args_init(&a, argc, argv, opts);
	while ((id = ctl_opt(ctl, &a, &v)) > 0)
		;
	if (id < 0)
		return ctl_opt_exit(id);
	if (!(p = config_procedure(ctl->cfg, a.pos[0])))
		return ctl_fail("no procedure has code \"%s\"", a.pos[0]);
	if (ctl->format == CTL_JSON) {
		json_t *j = procedure_json(p);
		int rc = ctl_json_print(stdout, j);
		json_decref(j);
		return rc == 0 ? CTL_OK : ctl_fail("out of memory");
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
	return CTL_OK;
}

const struct ctl_command ctl_procedures_commands[] = {
	{ "procedures", "list", "[--level LEVEL] [--format table|csv|json]", "",
	  "the configured procedures and their legal times", NULL, 0, 4,
	  CTL_NEEDS_CONFIG | CTL_RAW_ARGS, cmd_procedures_list },
	{ "procedures", "show", "CODE", "", "one procedure in full", NULL, 1, 1, CTL_NEEDS_CONFIG,
	  cmd_procedures_show },
	{ NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, NULL },
};
