/* ctl_alerts: the alerts the escalation rules fired and the outbox of messages (see
 * ctl_alerts.h). Alerts can be read from a database file (--db); the outbox and every change
 * need the daemon (the outbox needs an admin token). */
#include "ctl_alerts.h"

#include <stdio.h>
#include <string.h>

#include "ctl_core.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

enum { A_ID, A_KIND, A_ITEM, A_RULE, A_UNIT, A_DUE, A_FIRED, A_URGENT, A_ACK, A_OCCURRENCE,
       A_NOTE };

const struct ctl_field ctl_alert_fields[] = {
	[A_ID] = { "ID", "ID", CTL_COL_RIGHT | CTL_COL_KEEP },
	[A_KIND] = { "Loại", "Kind", 0 },
	[A_ITEM] = { "Đối tượng", "Item", CTL_COL_KEEP },
	[A_RULE] = { "Quy tắc", "Rule", CTL_COL_KEEP },
	[A_UNIT] = { "Đơn vị", "Unit", CTL_COL_KEEP },
	[A_DUE] = { "Hạn", "Due", CTL_COL_KEEP },
	[A_FIRED] = { "Lúc báo", "Fired", CTL_COL_KEEP },
	[A_URGENT] = { "Khẩn", "Urgent", 0 },
	[A_ACK] = { "Đã xác nhận", "Acknowledged", CTL_COL_SHRINK },
	[A_OCCURRENCE] = { "Lần", "Occurrence", CTL_COL_DETAIL },
	[A_NOTE] = { "Ghi chú", "Note", CTL_COL_DETAIL },
};
const size_t ctl_alert_nfields = N(ctl_alert_fields);

void ctl_alert_row(struct ctl *ctl, const json_t *al, struct ctl_row *r)
{
	const char *kind = ctl_str(al, "item_kind");
	char when[64];

	ctl_row_int(r, A_ID, al, "id");
	ctl_row_set(r, A_KIND, strcmp(kind, "case") == 0 ? ctl_word(ctl, "Hồ sơ", "case")
			       : strcmp(kind, "document") == 0 ? ctl_word(ctl, "Văn bản", "document")
			       : ctl_word(ctl, "Nhiệm vụ", "assignment"));
	ctl_row_str(r, A_ITEM, al, "item");
	ctl_row_str(r, A_RULE, al, "rule");
	ctl_row_str(r, A_UNIT, al, "unit");
	ctl_row_time(ctl, r, A_DUE, al, "due_at");
	ctl_row_time(ctl, r, A_FIRED, al, "fired_at");
	if (json_is_true(json_object_get(al, "urgent"))) {
		ctl_row_set(r, A_URGENT, ctl_word(ctl, "Có", "yes"));
		r->style = CTL_WARN;
	}
	ctl_show_time_str(ctl, ctl_str(al, "acknowledged_at"), when, sizeof(when));
	if (*when)
		ctl_row_printf(r, A_ACK, "%s %s", ctl_str(al, "acknowledged_by"), when);
	ctl_row_int(r, A_OCCURRENCE, al, "occurrence");
	ctl_row_str(r, A_NOTE, al, "acknowledged_note");
}

static int cmd_alerts_list(struct ctl *ctl, int argc, char **argv)
{
	enum { O_UNIT = 1, O_SINCE, O_ITEM, O_RULE, O_UNACKED, O_LIMIT };
	static const struct option opts[] = {
		{ "unit", required_argument, NULL, O_UNIT },
		{ "since", required_argument, NULL, O_SINCE },
		{ "item", required_argument, NULL, O_ITEM },
		{ "rule", required_argument, NULL, O_RULE },
		{ "unacknowledged", no_argument, NULL, O_UNACKED },
		{ "limit", required_argument, NULL, O_LIMIT },
		CTL_STD_OPTIONS,
	};
	char path[2048] = "/api/v1/alerts", when[64];
	struct ctl_view v;
	struct ctl_args a;
	long long limit = 0;
	const char *arg;
	int64_t t;
	int id, rc = 0;

	ctl_args_init(&a, argc, argv, opts);
	while ((id = ctl_opt(ctl, &a, &arg)) > 0) {
		switch (id) {
		case O_SINCE:
			if (ctl_parse_time(ctl, arg, "--since", &t) != CTL_OK)
				return CTL_USAGE;
			ctl_rfc3339(ctl, t, when, sizeof(when));
			rc = ctl_query_add(path, sizeof(path), "since", when);
			break;
		case O_UNACKED:
			rc = ctl_query_add(path, sizeof(path), "acknowledged", "false");
			break;
		case O_LIMIT:
			if (ctl_parse_int(arg, 1, 100000000, "--limit", &limit) != CTL_OK)
				return CTL_USAGE;
			break;
		default:
			rc = ctl_query_add(path, sizeof(path), opts[id - 1].name, arg);
		}
		if (rc != 0)
			return ctl_usage("the options are too long");
	}
	if (id < 0)
		return ctl_opt_exit(id);
	ctl_view_init(ctl, &v, ctl_alert_fields, ctl_alert_nfields);
	return ctl_list(ctl, path, "alerts", (long)limit, &v, ctl_alert_row);
}

/* An ID argument: a whole number from 1. */
static int parse_id(const char *s, long long *id)
{
	return ctl_parse_int(s, 1, INT64_MAX, "ID", id);
}

static int cmd_alerts_ack(struct ctl *ctl, int argc, char **argv)
{
	enum { O_NOTE = 1 };
	static const struct option opts[] = { { "note", required_argument, NULL, O_NOTE },
					      CTL_STD_OPTIONS };
	json_t *body = NULL, *alert;
	const char *arg, *note = NULL;
	struct ctl_view v;
	struct ctl_args a;
	char path[128];
	long long aid;
	int id, rc;

	ctl_args_init(&a, argc, argv, opts);
	while ((id = ctl_opt(ctl, &a, &arg)) > 0)
		note = arg;
	if (id < 0)
		return ctl_opt_exit(id);
	if (parse_id(a.pos[0], &aid) != CTL_OK)
		return CTL_USAGE;
	if (note && !(body = json_pack("{s:s}", "note", note)))
		return ctl_usage("--note: the text is not UTF-8");
	snprintf(path, sizeof(path), "/api/v1/alerts/%lld/ack", aid);
	alert = ctl_post(ctl, path, body, NULL);
	json_decref(body);
	if (!alert)
		return CTL_FAIL;
	ctl_view_init(ctl, &v, ctl_alert_fields, ctl_alert_nfields);
	rc = ctl_show(ctl, alert, &v, ctl_alert_row);
	json_decref(alert);
	return rc;
}

enum { O_ID, O_CHANNEL, O_RECIPIENT, O_ADDRESS, O_SUBJECT, O_STATUS, O_ATTEMPTS, O_NEXT, O_ERROR,
       O_CREATED, O_ALERT };

static const struct ctl_field outbox_fields[] = {
	[O_ID] = { "ID", "ID", CTL_COL_RIGHT | CTL_COL_KEEP },
	[O_CHANNEL] = { "Kênh", "Channel", 0 },
	[O_RECIPIENT] = { "Người nhận", "Recipient", CTL_COL_KEEP },
	[O_ADDRESS] = { "Địa chỉ", "Address", CTL_COL_DETAIL },
	[O_SUBJECT] = { "Tiêu đề", "Subject", CTL_COL_SHRINK },
	[O_STATUS] = { "Trạng thái", "Status", 0 },
	[O_ATTEMPTS] = { "Số lần gửi", "Attempts", CTL_COL_RIGHT },
	[O_NEXT] = { "Gửi lại lúc", "Next attempt", CTL_COL_KEEP },
	[O_ERROR] = { "Lỗi", "Last error", CTL_COL_SHRINK },
	[O_CREATED] = { "Tạo lúc", "Created", CTL_COL_DETAIL },
	[O_ALERT] = { "Cảnh báo", "Alert", CTL_COL_DETAIL },
};

static void outbox_row(struct ctl *ctl, const json_t *o, struct ctl_row *r)
{
	const char *status = ctl_str(o, "status");

	ctl_row_int(r, O_ID, o, "id");
	ctl_row_str(r, O_CHANNEL, o, "channel");
	ctl_row_str(r, O_RECIPIENT, o, "recipient");
	ctl_row_str(r, O_ADDRESS, o, "address");
	ctl_row_str(r, O_SUBJECT, o, "subject");
	ctl_row_name(ctl, r, O_STATUS, o, "status");
	ctl_row_int(r, O_ATTEMPTS, o, "attempts");
	ctl_row_time(ctl, r, O_NEXT, o, "next_attempt_at");
	ctl_row_str(r, O_ERROR, o, "last_error");
	ctl_row_time(ctl, r, O_CREATED, o, "created_at");
	ctl_row_int(r, O_ALERT, o, "alert");
	if (strcmp(status, "dead") == 0)
		r->style = CTL_BAD;
	else if (json_integer_value(json_object_get(o, "attempts")) > 0 &&
		 strcmp(status, "sent") != 0)
		r->style = CTL_WARN;
}

static int cmd_outbox_list(struct ctl *ctl, int argc, char **argv)
{
	enum { L_STATUS = 1, L_CHANNEL, L_RECIPIENT, L_LIMIT };
	static const struct option opts[] = {
		{ "status", required_argument, NULL, L_STATUS },
		{ "channel", required_argument, NULL, L_CHANNEL },
		{ "recipient", required_argument, NULL, L_RECIPIENT },
		{ "limit", required_argument, NULL, L_LIMIT },
		CTL_STD_OPTIONS,
	};
	char path[1024] = "/api/v1/outbox";
	struct ctl_view v;
	struct ctl_args a;
	long long limit = 0;
	const char *arg;
	int id;

	ctl_args_init(&a, argc, argv, opts);
	while ((id = ctl_opt(ctl, &a, &arg)) > 0) {
		if (id == L_LIMIT) {
			if (ctl_parse_int(arg, 1, 100000000, "--limit", &limit) != CTL_OK)
				return CTL_USAGE;
		} else if (ctl_query_add(path, sizeof(path), opts[id - 1].name, arg) != 0) {
			return ctl_usage("the options are too long");
		}
	}
	if (id < 0)
		return ctl_opt_exit(id);
	ctl_view_init(ctl, &v, outbox_fields, N(outbox_fields));
	return ctl_list(ctl, path, "outbox", (long)limit, &v, outbox_row);
}

static int cmd_outbox_retry(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = { CTL_STD_OPTIONS };
	struct ctl_args a;
	const char *arg;
	char path[128];
	long long oid;
	json_t *answer;
	int id, rc = CTL_OK;

	ctl_args_init(&a, argc, argv, opts);
	while ((id = ctl_opt(ctl, &a, &arg)) > 0)
		;
	if (id < 0)
		return ctl_opt_exit(id);
	if (parse_id(a.pos[0], &oid) != CTL_OK)
		return CTL_USAGE;
	snprintf(path, sizeof(path), "/api/v1/outbox/%lld/retry", oid);
	if (!(answer = ctl_post(ctl, path, NULL, NULL)))
		return CTL_FAIL;
	if (ctl->format == CTL_JSON)
		rc = ctl_json_print(ctl->out.fp, answer) == 0 ? CTL_OK : ctl_fail("out of memory");
	else
		fprintf(ctl->out.fp, "%s %lld: %s\n", ctl_word(ctl, "Thư", "Outbox row"), oid,
			ctl_name(ctl, ctl_str(answer, "status")));
	json_decref(answer);
	return rc;
}

const struct ctl_command ctl_alerts_commands[] = {
	{ "alerts", "list", "", "[--unit U] [--since T] [--item KIND:ID] [--unacknowledged]",
	  "the alerts the escalation rules fired, oldest first",
	  "      --unit U          the unit and its whole subtree\n"
	  "      --since T         fired at or after T\n"
	  "      --item KIND:ID    case:CODE, document:ID or assignment:ID\n"
	  "      --rule R          fired by rule R\n"
	  "      --unacknowledged  not acknowledged yet\n"
	  "      --limit N         at most N alerts (default: all)\n",
	  0, 0, CTL_NEEDS_CONFIG | CTL_OFFLINE, cmd_alerts_list },
	{ "alerts", "ack", "ID", "[--note TEXT]",
	  "acknowledge an alert (its repeats stop for this deadline)",
	  "      --note TEXT       a note kept with the acknowledgement\n", 1, 1,
	  CTL_NEEDS_CONFIG | CTL_DAEMON, cmd_alerts_ack },
	{ "outbox", "list", "", "[--status S] [--channel email|chat] [--recipient R] [--limit N]",
	  "messages waiting, sent or dead (an admin token)",
	  "      --status S        pending, held, digested, sending, sent, failed or dead\n"
	  "      --channel C       email or chat\n"
	  "      --recipient R     a person's or a channel's id\n"
	  "      --limit N         at most N rows (default: all)\n",
	  0, 0, CTL_NEEDS_CONFIG | CTL_DAEMON, cmd_outbox_list },
	{ "outbox", "retry", "ID", "", "send a dead message again (an admin token)", NULL, 1, 1,
	  CTL_NEEDS_CONFIG | CTL_DAEMON, cmd_outbox_retry },
	{ NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, NULL },
};
