/* ctl_cases: dunghanctl cases list|show|add|event — the one-stop cases through the API
 * (docs/api.md, "One-stop cases"); list and show also read a database file (--db). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_alerts.h"
#include "ctl_core.h"
#include "ctl_view.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

enum {
	C_CODE, C_PROCEDURE, C_PROCEDURE_NAME, C_UNIT, C_UNIT_NAME, C_HANDLER, C_APPLICANT,
	C_RECEIVED, C_DUE, C_STATUS, C_LEFT, C_ONLINE, C_PAID, C_FEE, C_COMPLETED, C_ENDED,
	C_VERSION,
};

static const struct ctl_field case_fields[] = {
	[C_CODE] = { "Mã hồ sơ", "Code", CTL_COL_KEEP },
	[C_PROCEDURE] = { "Thủ tục", "Procedure", CTL_COL_KEEP },
	[C_PROCEDURE_NAME] = { "Tên thủ tục", "Procedure name", CTL_COL_DETAIL },
	[C_UNIT] = { "Đơn vị", "Unit", CTL_COL_KEEP },
	[C_UNIT_NAME] = { "Tên đơn vị", "Unit name", CTL_COL_DETAIL },
	[C_HANDLER] = { "Cán bộ xử lý", "Handler", CTL_COL_DETAIL },
	[C_APPLICANT] = { "Người nộp", "Applicant", CTL_COL_SHRINK },
	[C_RECEIVED] = { "Ngày tiếp nhận", "Received", CTL_COL_DETAIL },
	[C_DUE] = { "Ngày hẹn trả", "Due", CTL_COL_KEEP },
	[C_STATUS] = { "Trạng thái", "Status", 0 },
	[C_LEFT] = { "Thời hạn", "Time left", CTL_COL_KEEP },
	[C_ONLINE] = { "Nộp trực tuyến", "Online", CTL_COL_DETAIL },
	[C_PAID] = { "Thanh toán trực tuyến", "Paid online", CTL_COL_DETAIL },
	[C_FEE] = { "Lệ phí", "Fee", CTL_COL_DETAIL },
	[C_COMPLETED] = { "Ngày hoàn thành", "Completed", CTL_COL_DETAIL },
	[C_ENDED] = { "Ngày kết thúc", "Ended", CTL_COL_DETAIL },
	[C_VERSION] = { "Phiên bản", "Version", CTL_COL_DETAIL },
};

static void case_row(struct ctl *ctl, const json_t *c, struct ctl_row *r)
{
	json_t *fee = json_object_get(c, "fee");

	ctl_row_str(r, C_CODE, c, "code");
	ctl_row_str(r, C_PROCEDURE, c, "procedure");
	ctl_row_str(r, C_PROCEDURE_NAME, c, "procedure_name");
	ctl_row_str(r, C_UNIT, c, "unit");
	ctl_row_str(r, C_UNIT_NAME, c, "unit_name");
	ctl_row_str(r, C_HANDLER, c, "handler");
	ctl_row_str(r, C_APPLICANT, c, "applicant");
	ctl_row_time(ctl, r, C_RECEIVED, c, "received_at");
	ctl_row_time(ctl, r, C_DUE, c, "due_at");
	ctl_row_name(ctl, r, C_STATUS, c, "status");
	ctl_row_left(ctl, r, C_LEFT, c);
	ctl_row_name(ctl, r, C_ONLINE, c, "online");
	if (json_is_true(json_object_get(c, "paid_online")))
		ctl_row_set(r, C_PAID, ctl_word(ctl, "Có", "yes"));
	if (json_integer_value(fee) > 0)
		ctl_row_int(r, C_FEE, c, "fee");
	ctl_row_time(ctl, r, C_COMPLETED, c, "completed_at");
	ctl_row_time(ctl, r, C_ENDED, c, "ended_at");
	ctl_row_int(r, C_VERSION, c, "version");
}

/* Whether s can be a case code (what the API's paths take), so that it goes into a path as is. */
static bool is_code(const char *s)
{
	static const char allowed[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				      "0123456789._-";

	return *s && strlen(s) <= 64 && strspn(s, allowed) == strlen(s);
}

/* --- list --------------------------------------------------------------------------------- */

static int cmd_list(struct ctl *ctl, int argc, char **argv)
{
	enum { O_UNIT = 1, O_STATUS, O_OVERDUE, O_AT_RISK, O_BEFORE, O_AFTER, O_SEARCH, O_LIMIT };
	static const struct option opts[] = {
		{ "unit", required_argument, NULL, O_UNIT },
		{ "status", required_argument, NULL, O_STATUS },
		{ "overdue", no_argument, NULL, O_OVERDUE },
		{ "at-risk", no_argument, NULL, O_AT_RISK },
		{ "due-before", required_argument, NULL, O_BEFORE },
		{ "due-after", required_argument, NULL, O_AFTER },
		{ "search", required_argument, NULL, O_SEARCH },
		{ "limit", required_argument, NULL, O_LIMIT },
		CTL_STD_OPTIONS,
	};
	char path[2048] = "/api/v1/cases", when[64];
	struct ctl_view v;
	struct ctl_args a;
	long long limit = 0;
	const char *arg;
	int64_t t;
	int id, rc;

	ctl_args_init(&a, argc, argv, opts);
	while ((id = ctl_opt(ctl, &a, &arg)) > 0) {
		switch (id) {
		case O_UNIT:
			rc = ctl_query_add(path, sizeof(path), "unit", arg);
			break;
		case O_STATUS:
			rc = ctl_query_add(path, sizeof(path), "status", arg);
			break;
		case O_OVERDUE:
			rc = ctl_query_add(path, sizeof(path), "overdue", "true");
			break;
		case O_AT_RISK:
			rc = ctl_query_add(path, sizeof(path), "at_risk", "true");
			break;
		case O_BEFORE:
		case O_AFTER:
			if (ctl_parse_time(ctl, arg, id == O_BEFORE ? "--due-before" : "--due-after",
					   &t) != CTL_OK)
				return CTL_USAGE;
			ctl_rfc3339(ctl, t, when, sizeof(when));
			rc = ctl_query_add(path, sizeof(path), id == O_BEFORE ? "due_before" : "due_after",
					   when);
			break;
		case O_SEARCH:
			rc = ctl_query_add(path, sizeof(path), "q", arg);
			break;
		default:
			if (ctl_parse_int(arg, 1, 100000000, "--limit", &limit) != CTL_OK)
				return CTL_USAGE;
			rc = 0;
		}
		if (rc != 0)
			return ctl_usage("the options are too long");
	}
	if (id < 0)
		return ctl_opt_exit(id);
	if (ctl_query_as_of(ctl, path, sizeof(path)) != 0)
		return ctl_usage("the options are too long");
	ctl_view_init(ctl, &v, case_fields, N(case_fields));
	return ctl_list(ctl, path, "cases", (long)limit, &v, case_row);
}

/* --- show --------------------------------------------------------------------------------- */

static int cmd_show(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = { CTL_STD_OPTIONS };
	char path[128], item[128];
	struct ctl_view v;
	struct ctl_args a;
	const char *arg;
	json_t *c;
	int id, rc;

	ctl_args_init(&a, argc, argv, opts);
	while ((id = ctl_opt(ctl, &a, &arg)) > 0)
		;
	if (id < 0)
		return ctl_opt_exit(id);
	if (!is_code(a.pos[0]))
		return ctl_usage("CODE \"%s\" is not a case code (letters, digits, '.', '-', '_')",
				 a.pos[0]);
	snprintf(path, sizeof(path), "/api/v1/cases/%s", a.pos[0]);
	snprintf(item, sizeof(item), "case:%s", a.pos[0]);
	if (!(c = ctl_get(ctl, path)))
		return CTL_FAIL;
	struct ctl_part parts[] = {
		{ "events", "Lịch sử", "History", "", "events", false, ctl_event_fields,
		  ctl_event_nfields, ctl_event_row },
		{ "alerts", "Cảnh báo", "Alerts", "/api/v1/alerts", "alerts", true,
		  ctl_alert_fields, ctl_alert_nfields, ctl_alert_row },
	};
	snprintf(parts[0].path, sizeof(parts[0].path), "%s/events", path);
	if (ctl_query_add(parts[1].path, sizeof(parts[1].path), "item", item) != 0) {
		json_decref(c);
		return ctl_usage("CODE is too long");
	}
	ctl_view_init(ctl, &v, case_fields, N(case_fields));
	rc = ctl_show_item(ctl, "case", c, &v, case_row, parts, N(parts));
	json_decref(c);
	return rc;
}

/* --- add ---------------------------------------------------------------------------------- */

static int cmd_add(struct ctl *ctl, int argc, char **argv)
{
	enum { O_CODE = 1, O_PROCEDURE, O_UNIT, O_HANDLER, O_APPLICANT, O_RECEIVED, O_DUE,
	       O_ONLINE, O_PAID, O_DIGITIZED, O_FEE };
	static const struct option opts[] = {
		{ "code", required_argument, NULL, O_CODE },
		{ "procedure", required_argument, NULL, O_PROCEDURE },
		{ "unit", required_argument, NULL, O_UNIT },
		{ "handler", required_argument, NULL, O_HANDLER },
		{ "applicant", required_argument, NULL, O_APPLICANT },
		{ "received-at", required_argument, NULL, O_RECEIVED },
		{ "due-at", required_argument, NULL, O_DUE },
		{ "online", required_argument, NULL, O_ONLINE },
		{ "paid-online", no_argument, NULL, O_PAID },
		{ "digitized", no_argument, NULL, O_DIGITIZED },
		{ "fee", required_argument, NULL, O_FEE },
		CTL_STD_OPTIONS,
	};
	static const char *const names[] = { NULL, "code", "procedure", "unit", "handler",
					     "applicant", "received_at", "due_at", "online",
					     "paid_online", "digitized", "fee" };
	json_t *body = json_object(), *c = NULL;
	struct ctl_view v;
	struct ctl_args a;
	const char *arg;
	char when[64];
	long long fee;
	long status = 0;
	int64_t t;
	int id, rc = CTL_USAGE;

	if (!body)
		return ctl_fail("out of memory");
	ctl_args_init(&a, argc, argv, opts);
	while ((id = ctl_opt(ctl, &a, &arg)) > 0) {
		json_t *value;
		switch (id) {
		case O_RECEIVED:
		case O_DUE:
			if ((id == O_DUE ? ctl_parse_deadline(ctl, arg, "--due-at", &t)
					 : ctl_parse_time(ctl, arg, "--received-at", &t)) != CTL_OK)
				goto out;
			ctl_rfc3339(ctl, t, when, sizeof(when));
			value = json_string(when);
			break;
		case O_PAID:
		case O_DIGITIZED:
			value = json_true();
			break;
		case O_FEE:
			if (ctl_parse_int(arg, 0, 1000000000000000LL, "--fee", &fee) != CTL_OK)
				goto out;
			value = json_integer(fee);
			break;
		default:
			if (!(value = json_string(arg))) {
				rc = ctl_usage("--%s: the value is not UTF-8", opts[id - 1].name);
				goto out;
			}
		}
		json_object_set_new(body, names[id], value);
	}
	if (id < 0) {
		rc = ctl_opt_exit(id);
		goto out;
	}
	for (int k = O_CODE; k <= O_UNIT; k++)
		if (!json_object_get(body, names[k])) {
			rc = ctl_usage("cases add: --%s is required (see \"dunghanctl cases add --help\")",
				       opts[k - 1].name);
			goto out;
		}
	if (!(c = ctl_post(ctl, "/api/v1/cases", body, &status))) {
		rc = CTL_FAIL;
		goto out;
	}
	if (status == 200)
		fprintf(stderr, "dunghanctl: case %s was already registered with the same data\n",
			ctl_str(c, "code"));
	ctl_view_init(ctl, &v, case_fields, N(case_fields));
	rc = ctl_show(ctl, c, &v, case_row);
out:
	json_decref(body);
	json_decref(c);
	return rc;
}

/* --- event -------------------------------------------------------------------------------- */

static int cmd_event(struct ctl *ctl, int argc, char **argv)
{
	enum { O_AT = 1 };
	static const struct option opts[] = { { "at", required_argument, NULL, O_AT },
					      CTL_STD_OPTIONS };
	const char *arg, *at = NULL;
	json_t *body, *answer;
	char path[512];
	struct ctl_view v;
	struct ctl_args a;
	int id, rc;

	ctl_args_init(&a, argc, argv, opts);
	while ((id = ctl_opt(ctl, &a, &arg)) > 0)
		at = arg;
	if (id < 0)
		return ctl_opt_exit(id);
	if (!is_code(a.pos[0]))
		return ctl_usage("CODE \"%s\" is not a case code (letters, digits, '.', '-', '_')",
				 a.pos[0]);
	if (!(body = ctl_event_body(ctl, a.pos[1], at, a.pos + 2, a.npos - 2)))
		return CTL_USAGE;
	snprintf(path, sizeof(path), "/api/v1/cases/%s/events", a.pos[0]);
	answer = ctl_post(ctl, path, body, NULL);
	json_decref(body);
	if (!answer)
		return CTL_FAIL;
	if (ctl->format == CTL_JSON) {
		rc = ctl_json_print(ctl->out.fp, answer) == 0 ? CTL_OK : ctl_fail("out of memory");
	} else {
		ctl_view_init(ctl, &v, case_fields, N(case_fields));
		rc = ctl_show(ctl, json_object_get(answer, "case"), &v, case_row);
	}
	json_decref(answer);
	return rc;
}

const struct ctl_command ctl_cases_commands[] = {
	{ "cases", "list", "",
	  "[--unit U] [--status S] [--overdue] [--at-risk] [--due-before T] [--limit N]",
	  "one-stop cases, earliest due first",
	  "      --unit U         the unit and its whole subtree\n"
	  "      --status S       received, in_progress, paused, completed, returned, withdrawn,\n"
	  "                       rejected\n"
	  "      --overdue        open and past due now\n"
	  "      --at-risk        open, with an alert fired\n"
	  "      --due-before T   due before T; --due-after T: due at or after T\n"
	  "      --search TEXT    the code or the applicant's name starts with TEXT\n"
	  "      --limit N        at most N cases (default: all, page after page)\n",
	  0, 0, CTL_NEEDS_CONFIG | CTL_OFFLINE, cmd_list },
	{ "cases", "show", "CODE", "", "one case with its history and alerts", NULL, 1, 1,
	  CTL_NEEDS_CONFIG | CTL_OFFLINE, cmd_show },
	{ "cases", "add", "",
	  "--code C --procedure P --unit U [--handler H] [--applicant A] [--received-at T] "
	  "[--due-at T] [--online none|partial|full] [--paid-online] [--digitized] [--fee VND]",
	  "register a case (the same data again changes nothing)",
	  "      --code C         the one-stop code (required)\n"
	  "      --procedure P    the procedure's code (required)\n"
	  "      --unit U         the handling unit (required)\n"
	  "      --handler H      the handling officer\n"
	  "      --applicant A    the applicant's name\n"
	  "      --received-at T  when it was received (default now)\n"
	  "      --due-at T       the appointment (default: computed in working time)\n"
	  "      --online M       none, partial or full\n"
	  "      --paid-online    fees paid online; --digitized: the dossier was digitised\n"
	  "      --fee VND        the fee\n",
	  0, 0, CTL_NEEDS_CONFIG | CTL_DAEMON, cmd_add },
	{ "cases", "event", "CODE TYPE [FIELD=VALUE]...", "[--at T]",
	  "record what happened: assign handler=H, transfer unit=U, pause reason=R, resume, "
	  "complete, return, withdraw, reject reason=R, reschedule due_at=T apology=A, note text=T, "
	  "extend reason=R, rate rating=N",
	  "      --at T           when it happened (default now)\n"
	  "      FIELD=VALUE      a field of the event; FIELD:=JSON gives a JSON value\n",
	  2, 64, CTL_NEEDS_CONFIG | CTL_DAEMON, cmd_event },
	{ NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, NULL },
};
