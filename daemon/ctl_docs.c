/* ctl_docs: dunghanctl docs list|show|add|event and assignments list|show|add|done|event —
 * incoming documents and the tasks they assign, through the API (docs/api.md, "Incoming
 * documents", "Assignments"); list and show also read a database file (--db). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_alerts.h"
#include "ctl_core.h"
#include "ctl_view.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

enum { D_ID, D_BOOK, D_NO, D_SYMBOL, D_DATE, D_ISSUER, D_TYPE, D_SUMMARY, D_URGENCY, D_SECRECY,
       D_RECEIVED, D_DUE, D_LEAD, D_STATUS, D_LEFT, D_DONE };

static const struct ctl_field doc_fields[] = {
	[D_ID] = { "ID", "ID", CTL_COL_RIGHT | CTL_COL_KEEP },
	[D_BOOK] = { "Sổ", "Book", CTL_COL_DETAIL },
	[D_NO] = { "Số đến", "Incoming no.", CTL_COL_RIGHT | CTL_COL_KEEP },
	[D_SYMBOL] = { "Số, ký hiệu", "Symbol", CTL_COL_KEEP },
	[D_DATE] = { "Ngày văn bản", "Dated", CTL_COL_DETAIL },
	[D_ISSUER] = { "Cơ quan ban hành", "Issuer", CTL_COL_SHRINK },
	[D_TYPE] = { "Loại", "Type", CTL_COL_DETAIL },
	[D_SUMMARY] = { "Trích yếu", "Summary", CTL_COL_SHRINK },
	[D_URGENCY] = { "Độ khẩn", "Urgency", 0 },
	[D_SECRECY] = { "Độ mật", "Confidentiality", CTL_COL_DETAIL },
	[D_RECEIVED] = { "Ngày đến", "Received", CTL_COL_DETAIL },
	[D_DUE] = { "Hạn xử lý", "Due", CTL_COL_KEEP },
	[D_LEAD] = { "Đơn vị chủ trì", "Lead unit", CTL_COL_KEEP },
	[D_STATUS] = { "Trạng thái", "Status", 0 },
	[D_LEFT] = { "Thời hạn", "Time left", CTL_COL_KEEP },
	[D_DONE] = { "Ngày hoàn thành", "Done", CTL_COL_DETAIL },
};

static void doc_row(struct ctl *ctl, const json_t *d, struct ctl_row *r)
{
	int y, m, day;

	ctl_row_int(r, D_ID, d, "id");
	ctl_row_str(r, D_BOOK, d, "book");
	ctl_row_int(r, D_NO, d, "incoming_no");
	ctl_row_str(r, D_SYMBOL, d, "symbol");
	if (sscanf(ctl_str(d, "doc_date"), "%4d-%2d-%2d", &y, &m, &day) == 3)
		ctl_row_printf(r, D_DATE, "%02d/%02d/%04d", day, m, y);
	ctl_row_str(r, D_ISSUER, d, "issuer");
	ctl_row_str(r, D_TYPE, d, "type");
	ctl_row_str(r, D_SUMMARY, d, "summary");
	ctl_row_name(ctl, r, D_URGENCY, d, "urgency");
	ctl_row_name(ctl, r, D_SECRECY, d, "confidentiality");
	ctl_row_time(ctl, r, D_RECEIVED, d, "received_at");
	ctl_row_time(ctl, r, D_DUE, d, "due_at");
	ctl_row_str(r, D_LEAD, d, "lead_unit");
	ctl_row_name(ctl, r, D_STATUS, d, "status");
	ctl_row_left(ctl, r, D_LEFT, d);
	ctl_row_time(ctl, r, D_DONE, d, "done_at");
}

enum { S_ID, S_DOCUMENT, S_PARENT, S_DIRECTION, S_UNIT, S_ROLE, S_ASSIGNEE, S_TITLE, S_DUE,
       S_STATUS, S_LEFT, S_CHILDREN, S_DONE };

static const struct ctl_field assignment_fields[] = {
	[S_ID] = { "ID", "ID", CTL_COL_RIGHT | CTL_COL_KEEP },
	[S_DOCUMENT] = { "Văn bản", "Document", CTL_COL_RIGHT | CTL_COL_KEEP },
	[S_PARENT] = { "Nhiệm vụ cha", "Parent", CTL_COL_DETAIL },
	[S_DIRECTION] = { "Ý kiến chỉ đạo", "Direction", CTL_COL_DETAIL },
	[S_UNIT] = { "Đơn vị", "Unit", CTL_COL_KEEP },
	[S_ROLE] = { "Vai trò", "Role", 0 },
	[S_ASSIGNEE] = { "Người thực hiện", "Assignee", CTL_COL_KEEP },
	[S_TITLE] = { "Nội dung", "Task", CTL_COL_SHRINK },
	[S_DUE] = { "Hạn", "Due", CTL_COL_KEEP },
	[S_STATUS] = { "Trạng thái", "Status", 0 },
	[S_LEFT] = { "Thời hạn", "Time left", CTL_COL_KEEP },
	[S_CHILDREN] = { "Nhiệm vụ con", "Sub-assignments", CTL_COL_DETAIL },
	[S_DONE] = { "Ngày hoàn thành", "Done", CTL_COL_DETAIL },
};

static void assignment_row(struct ctl *ctl, const json_t *x, struct ctl_row *r)
{
	json_t *ch = json_object_get(x, "children");
	long long total = json_integer_value(json_object_get(ch, "total"));

	ctl_row_int(r, S_ID, x, "id");
	ctl_row_int(r, S_DOCUMENT, x, "document");
	ctl_row_int(r, S_PARENT, x, "parent");
	ctl_row_str(r, S_DIRECTION, x, "direction");
	ctl_row_str(r, S_UNIT, x, "unit");
	ctl_row_name(ctl, r, S_ROLE, x, "role");
	ctl_row_str(r, S_ASSIGNEE, x, "assignee");
	ctl_row_str(r, S_TITLE, x, "title");
	ctl_row_time(ctl, r, S_DUE, x, "due_at");
	ctl_row_name(ctl, r, S_STATUS, x, "status");
	ctl_row_left(ctl, r, S_LEFT, x);
	if (total)
		ctl_row_printf(r, S_CHILDREN, ctl->en ? "%lld, %lld done, %lld overdue"
						      : "%lld, %lld xong, %lld quá hạn",
			       total, (long long)json_integer_value(json_object_get(ch, "done")),
			       (long long)json_integer_value(json_object_get(ch, "overdue")));
	ctl_row_time(ctl, r, S_DONE, x, "done_at");
}

/* --- shared by both kinds ---------------------------------------------------------------- */

struct kind {
	const char *word;   /* "docs", "assignments": the command group */
	const char *api;    /* "documents", "assignments": the API's path and list key */
	const char *single; /* "document", "assignment": JSON key, alert item kind */
	const struct ctl_field *fields;
	size_t nfields;
	ctl_row_fn fill;
};

static const struct kind docs = { "docs", "documents", "document", doc_fields, N(doc_fields),
				  doc_row };
static const struct kind assignments = { "assignments", "assignments", "assignment",
					 assignment_fields, N(assignment_fields), assignment_row };

static int parse_id(const char *s, long long *id)
{
	return ctl_parse_int(s, 1, INT64_MAX, "ID", id);
}

static int list(struct ctl *ctl, const struct kind *k, int argc, char **argv)
{
	enum { O_UNIT = 1, O_STATUS, O_OVERDUE, O_BEFORE, O_AFTER, O_SEARCH, O_LIMIT, O_DOCUMENT };
	static const struct option opts[] = {
		{ "unit", required_argument, NULL, O_UNIT },
		{ "status", required_argument, NULL, O_STATUS },
		{ "overdue", no_argument, NULL, O_OVERDUE },
		{ "due-before", required_argument, NULL, O_BEFORE },
		{ "due-after", required_argument, NULL, O_AFTER },
		{ "search", required_argument, NULL, O_SEARCH },
		{ "limit", required_argument, NULL, O_LIMIT },
		{ "document", required_argument, NULL, O_DOCUMENT },
		CTL_STD_OPTIONS,
	};
	char query[2048] = "", path[2200], when[64];
	struct ctl_view v;
	struct ctl_args a;
	long long limit = 0, doc = 0;
	const char *arg;
	int64_t t;
	int id, rc = 0;

	ctl_args_init(&a, argc, argv, opts);
	while ((id = ctl_opt(ctl, &a, &arg)) > 0) {
		switch (id) {
		case O_OVERDUE:
			rc = ctl_query_add(query, sizeof(query), "overdue", "true");
			break;
		case O_BEFORE:
		case O_AFTER:
			if (ctl_parse_time(ctl, arg, id == O_BEFORE ? "--due-before" : "--due-after",
					   &t) != CTL_OK)
				return CTL_USAGE;
			ctl_rfc3339(ctl, t, when, sizeof(when));
			rc = ctl_query_add(query, sizeof(query),
					   id == O_BEFORE ? "due_before" : "due_after", when);
			break;
		case O_SEARCH:
			if (k == &assignments)
				return ctl_usage("assignments list: --search is for documents (their "
						 "symbol)");
			rc = ctl_query_add(query, sizeof(query), "q", arg);
			break;
		case O_LIMIT:
			if (ctl_parse_int(arg, 1, 100000000, "--limit", &limit) != CTL_OK)
				return CTL_USAGE;
			break;
		case O_DOCUMENT:
			if (k == &docs)
				return ctl_usage("docs list: --document is for assignments");
			if (parse_id(arg, &doc) != CTL_OK)
				return CTL_USAGE;
			break;
		default:
			rc = ctl_query_add(query, sizeof(query), opts[id - 1].name, arg);
		}
		if (rc != 0)
			return ctl_usage("the options are too long");
	}
	if (id < 0)
		return ctl_opt_exit(id);
	if (ctl_query_as_of(ctl, query, sizeof(query)) != 0)
		return ctl_usage("the options are too long");
	if (doc)
		snprintf(path, sizeof(path), "/api/v1/documents/%lld/assignments%s", doc, query);
	else
		snprintf(path, sizeof(path), "/api/v1/%s%s", k->api, query);
	ctl_view_init(ctl, &v, k->fields, k->nfields);
	return ctl_list(ctl, path, k->api, (long)limit, &v, k->fill);
}

static int show(struct ctl *ctl, const struct kind *k, int argc, char **argv)
{
	static const struct option opts[] = { CTL_STD_OPTIONS };
	char path[128], item[64];
	struct ctl_view v;
	struct ctl_args a;
	long long nid;
	const char *arg;
	json_t *x;
	int id, rc;

	ctl_args_init(&a, argc, argv, opts);
	while ((id = ctl_opt(ctl, &a, &arg)) > 0)
		;
	if (id < 0)
		return ctl_opt_exit(id);
	if (parse_id(a.pos[0], &nid) != CTL_OK)
		return CTL_USAGE;
	snprintf(path, sizeof(path), "/api/v1/%s/%lld", k->api, nid);
	snprintf(item, sizeof(item), "%s:%lld", k->single, nid);
	if (!(x = ctl_get(ctl, path)))
		return CTL_FAIL;
	struct ctl_part parts[] = {
		{ "events", "Lịch sử", "History", "", "events", false, ctl_event_fields,
		  ctl_event_nfields, ctl_event_row },
		{ "assignments", k == &docs ? "Nhiệm vụ" : "Nhiệm vụ con",
		  k == &docs ? "Assignments" : "Sub-assignments", "", "assignments", true,
		  assignment_fields, N(assignment_fields), assignment_row },
		{ "alerts", "Cảnh báo", "Alerts", "/api/v1/alerts", "alerts", true,
		  ctl_alert_fields, ctl_alert_nfields, ctl_alert_row },
	};
	snprintf(parts[0].path, sizeof(parts[0].path), "%s/events", path);
	snprintf(parts[1].path, sizeof(parts[1].path), "%s/assignments", path);
	ctl_query_add(parts[2].path, sizeof(parts[2].path), "item", item);
	ctl_view_init(ctl, &v, k->fields, k->nfields);
	rc = ctl_show_item(ctl, k->single, x, &v, k->fill, parts, N(parts));
	json_decref(x);
	return rc;
}

/* POST body to path and shows the answer's item (under key when not NULL). */
static int post_and_show(struct ctl *ctl, const struct kind *k, const char *path, json_t *body,
			 const char *key)
{
	json_t *answer = ctl_post(ctl, path, body, NULL);
	struct ctl_view v;
	int rc;

	if (!answer)
		return CTL_FAIL;
	if (ctl->format == CTL_JSON) {
		rc = ctl_json_print(ctl->out.fp, answer) == 0 ? CTL_OK : ctl_fail("out of memory");
	} else {
		ctl_view_init(ctl, &v, k->fields, k->nfields);
		rc = ctl_show(ctl, key ? json_object_get(answer, key) : answer, &v, k->fill);
	}
	json_decref(answer);
	return rc;
}

/* The event command of both kinds; type NULL: the second argument names it. */
static int event(struct ctl *ctl, const struct kind *k, const char *type, int argc, char **argv)
{
	enum { O_AT = 1 };
	static const struct option opts[] = { { "at", required_argument, NULL, O_AT },
					      CTL_STD_OPTIONS };
	const char *arg, *at = NULL;
	struct ctl_args a;
	long long nid;
	char path[128];
	json_t *body;
	int id, first = type ? 1 : 2, rc;

	ctl_args_init(&a, argc, argv, opts);
	while ((id = ctl_opt(ctl, &a, &arg)) > 0)
		at = arg;
	if (id < 0)
		return ctl_opt_exit(id);
	if (parse_id(a.pos[0], &nid) != CTL_OK)
		return CTL_USAGE;
	if (!(body = ctl_event_body(ctl, type ? type : a.pos[1], at, a.pos + first,
				    a.npos - first)))
		return CTL_USAGE;
	snprintf(path, sizeof(path), "/api/v1/%s/%lld/events", k->api, nid);
	rc = post_and_show(ctl, k, path, body, k->single);
	json_decref(body);
	return rc;
}

/* Reads the options of an add command into body: string options as they are, the ones named
 * in times as instants, in numbers as whole numbers. Returns CTL_OK or an exit status. */
static int add_options(struct ctl *ctl, struct ctl_args *a, const char *const *json_names,
		       const char *const *times, const char *const *numbers, json_t *body)
{
	const char *arg;
	char when[64];
	long long n;
	int id;
	int64_t t;

	while ((id = ctl_opt(ctl, a, &arg)) > 0) {
		const char *name = json_names[id], *opt = a->opts[id - 1].name;
		json_t *v = NULL;
		bool is_time = false, is_number = false;

		for (size_t i = 0; times[i]; i++)
			is_time |= strcmp(times[i], name) == 0;
		for (size_t i = 0; numbers[i]; i++)
			is_number |= strcmp(numbers[i], name) == 0;
		if (is_time) {
			char what[64];
			snprintf(what, sizeof(what), "--%s", opt);
			/* due_at: a date alone is the end of its office hours. */
			if ((strcmp(name, "due_at") == 0 ? ctl_parse_deadline(ctl, arg, what, &t)
							 : ctl_parse_time(ctl, arg, what, &t)) != CTL_OK)
				return CTL_USAGE;
			ctl_rfc3339(ctl, t, when, sizeof(when));
			v = json_string(when);
		} else if (is_number) {
			char what[64];
			snprintf(what, sizeof(what), "--%s", opt);
			if (ctl_parse_int(arg, 1, INT64_MAX, what, &n) != CTL_OK)
				return CTL_USAGE;
			v = json_integer(n);
		} else if (!(v = json_string(arg))) {
			return ctl_usage("--%s: the value is not UTF-8", opt);
		}
		json_object_set_new(body, name, v);
	}
	return id < 0 ? ctl_opt_exit(id) : CTL_OK;
}

/* --- docs ------------------------------------------------------------------------------------ */

static int cmd_docs_list(struct ctl *ctl, int argc, char **argv)
{
	return list(ctl, &docs, argc, argv);
}

static int cmd_docs_show(struct ctl *ctl, int argc, char **argv)
{
	return show(ctl, &docs, argc, argv);
}

static int cmd_docs_event(struct ctl *ctl, int argc, char **argv)
{
	return event(ctl, &docs, NULL, argc, argv);
}

static int cmd_docs_add(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "summary", required_argument, NULL, 1 },
		{ "symbol", required_argument, NULL, 2 },
		{ "doc-date", required_argument, NULL, 3 },
		{ "issuer", required_argument, NULL, 4 },
		{ "type", required_argument, NULL, 5 },
		{ "urgency", required_argument, NULL, 6 },
		{ "confidentiality", required_argument, NULL, 7 },
		{ "received-at", required_argument, NULL, 8 },
		{ "due-at", required_argument, NULL, 9 },
		{ "lead-unit", required_argument, NULL, 10 },
		{ "book", required_argument, NULL, 11 },
		{ "incoming-no", required_argument, NULL, 12 },
		CTL_STD_OPTIONS,
	};
	static const char *const names[] = { NULL, "summary", "symbol", "doc_date", "issuer",
					     "type", "urgency", "confidentiality", "received_at",
					     "due_at", "lead_unit", "book", "incoming_no" };
	static const char *const times[] = { "received_at", "due_at", NULL };
	static const char *const numbers[] = { "incoming_no", NULL };
	json_t *body = json_object();
	struct ctl_args a;
	int rc;

	if (!body)
		return ctl_fail("out of memory");
	ctl_args_init(&a, argc, argv, opts);
	rc = add_options(ctl, &a, names, times, numbers, body);
	if (rc == CTL_OK && !json_object_get(body, "summary"))
		rc = ctl_usage("docs add: --summary is required (see \"dunghanctl docs add --help\")");
	if (rc == CTL_OK && json_object_get(body, "doc_date")) {
		/* dd/mm/yyyy as people write it, or YYYY-MM-DD as the API takes it */
		const char *s = json_string_value(json_object_get(body, "doc_date"));
		int d, m, y, used = 0;
		char iso[16];
		int32_t day;
		if (sscanf(s, "%2d/%2d/%4d%n", &d, &m, &y, &used) == 3 && !s[used]) {
			snprintf(iso, sizeof(iso), "%04d-%02d-%02d", y, m, d);
			json_object_set_new(body, "doc_date", json_string(iso));
			s = json_string_value(json_object_get(body, "doc_date"));
		}
		if (civil_parse_date(s, &day, NULL) != 0)
			rc = ctl_usage("--doc-date \"%s\" is not a date like 20/02/2024", s);
	}
	if (rc == CTL_OK)
		rc = post_and_show(ctl, &docs, "/api/v1/documents", body, NULL);
	json_decref(body);
	return rc;
}

/* --- assignments ------------------------------------------------------------------------- */

static int cmd_assignments_list(struct ctl *ctl, int argc, char **argv)
{
	return list(ctl, &assignments, argc, argv);
}

static int cmd_assignments_show(struct ctl *ctl, int argc, char **argv)
{
	return show(ctl, &assignments, argc, argv);
}

static int cmd_assignments_event(struct ctl *ctl, int argc, char **argv)
{
	return event(ctl, &assignments, NULL, argc, argv);
}

static int cmd_assignments_done(struct ctl *ctl, int argc, char **argv)
{
	return event(ctl, &assignments, "done", argc, argv);
}

static int cmd_assignments_add(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "document", required_argument, NULL, 1 },
		{ "parent", required_argument, NULL, 2 },
		{ "direction", required_argument, NULL, 3 },
		{ "unit", required_argument, NULL, 4 },
		{ "role", required_argument, NULL, 5 },
		{ "assignee", required_argument, NULL, 6 },
		{ "title", required_argument, NULL, 7 },
		{ "due-at", required_argument, NULL, 8 },
		CTL_STD_OPTIONS,
	};
	static const char *const names[] = { NULL, "document", "parent", "direction", "unit",
					     "role", "assignee", "title", "due_at" };
	static const char *const times[] = { "due_at", NULL };
	static const char *const numbers[] = { "document", "parent", NULL };
	json_t *body = json_object(), *doc, *parent;
	struct ctl_args a;
	char path[128] = "/api/v1/assignments";
	int rc;

	if (!body)
		return ctl_fail("out of memory");
	ctl_args_init(&a, argc, argv, opts);
	rc = add_options(ctl, &a, names, times, numbers, body);
	doc = json_object_get(body, "document");
	parent = json_object_get(body, "parent");
	if (rc == CTL_OK && !json_object_get(body, "unit"))
		rc = ctl_usage("assignments add: --unit is required (see \"dunghanctl assignments "
			       "add --help\")");
	else if (rc == CTL_OK && doc && parent)
		rc = ctl_usage("assignments add: --document and --parent exclude each other");
	if (rc == CTL_OK) {
		/* Where it comes from is the path, not a field. */
		if (doc)
			snprintf(path, sizeof(path), "/api/v1/documents/%lld/assignments",
				 (long long)json_integer_value(doc));
		else if (parent)
			snprintf(path, sizeof(path), "/api/v1/assignments/%lld/assignments",
				 (long long)json_integer_value(parent));
		json_object_del(body, "document");
		json_object_del(body, "parent");
		rc = post_and_show(ctl, &assignments, path, body, NULL);
	}
	json_decref(body);
	return rc;
}

const struct ctl_command ctl_docs_commands[] = {
	{ "docs", "list", "",
	  "[--unit U] [--status S] [--overdue] [--due-before T] [--search SYMBOL] [--limit N]",
	  "incoming documents, earliest due first",
	  "      --unit U         the lead unit and its whole subtree\n"
	  "      --status S       registered, in_progress or done\n"
	  "      --overdue        not done and past due now\n"
	  "      --due-before T   due before T; --due-after T: due at or after T\n"
	  "      --search TEXT    the symbol starts with TEXT\n"
	  "      --limit N        at most N documents (default: all)\n",
	  0, 0, CTL_NEEDS_CONFIG | CTL_OFFLINE, cmd_docs_list },
	{ "docs", "show", "ID", "", "one document with its history, assignments and alerts", NULL,
	  1, 1, CTL_NEEDS_CONFIG | CTL_OFFLINE, cmd_docs_show },
	{ "docs", "add", "",
	  "--summary TEXT [--symbol S] [--doc-date D] [--issuer I] [--type T] [--urgency U] "
	  "[--confidentiality C] [--received-at T] [--due-at T] [--lead-unit U] [--book B] "
	  "[--incoming-no N]",
	  "register an incoming document",
	  "      --summary TEXT   the subject line, trích yếu (required)\n"
	  "      --symbol S       the issuer's number and symbol, e.g. 506/SNV-TT\n"
	  "      --doc-date D     the document's date, e.g. 20/02/2024\n"
	  "      --issuer I       the issuing body; --type T: e.g. Công văn\n"
	  "      --urgency U      normal, urgent, very_urgent or flash\n"
	  "      --confidentiality C  normal, confidential, secret or top_secret\n"
	  "      --received-at T  when it arrived (default now)\n"
	  "      --due-at T       the handling deadline (default: from the urgency)\n"
	  "      --lead-unit U    the unit in charge\n"
	  "      --book B, --incoming-no N  the register book and number (default: the next)\n",
	  0, 0, CTL_NEEDS_CONFIG | CTL_DAEMON, cmd_docs_add },
	{ "docs", "event", "ID TYPE [FIELD=VALUE]...", "[--at T]",
	  "record what happened: forward unit=U, complete, reopen reason=R, reschedule due_at=T "
	  "reason=R, note text=T",
	  "      --at T           when it happened (default now)\n"
	  "      FIELD=VALUE      a field of the event; FIELD:=JSON gives a JSON value\n",
	  2, 64, CTL_NEEDS_CONFIG | CTL_DAEMON, cmd_docs_event },
	{ "assignments", "list", "",
	  "[--unit U] [--status open|done] [--overdue] [--due-before T] [--document ID] "
	  "[--limit N]",
	  "assignments (tasks), earliest due first",
	  "      --unit U         the unit and its whole subtree\n"
	  "      --status S       open or done\n"
	  "      --overdue        open and past due now\n"
	  "      --due-before T   due before T; --due-after T: due at or after T\n"
	  "      --document ID    the assignments of one document\n"
	  "      --limit N        at most N assignments (default: all)\n",
	  0, 0, CTL_NEEDS_CONFIG | CTL_OFFLINE, cmd_assignments_list },
	{ "assignments", "show", "ID", "", "one assignment with its history, sub-assignments and "
	  "alerts", NULL, 1, 1, CTL_NEEDS_CONFIG | CTL_OFFLINE, cmd_assignments_show },
	{ "assignments", "add", "",
	  "--unit U (--document ID | --parent ID | --direction TEXT) [--role lead|support] "
	  "[--assignee P] [--title T] [--due-at T]",
	  "give a task: from a document, a leader's direction, or split from a parent task",
	  "      --unit U         the unit given the task (required)\n"
	  "      --document ID    the document that assigns it\n"
	  "      --parent ID      the task it is split from (U must be below its unit)\n"
	  "      --direction TEXT the leader's direction, when no document (then --due-at too)\n"
	  "      --role R         lead (default) or support\n"
	  "      --assignee P     a person; --title T: what is to be done\n"
	  "      --due-at T       the deadline (default: the document's or the parent's)\n",
	  0, 0, CTL_NEEDS_CONFIG | CTL_DAEMON, cmd_assignments_add },
	{ "assignments", "done", "ID", "[--at T]", "the task is done",
	  "      --at T           when (default now)\n", 1, 1, CTL_NEEDS_CONFIG | CTL_DAEMON,
	  cmd_assignments_done },
	{ "assignments", "event", "ID TYPE [FIELD=VALUE]...", "[--at T]",
	  "record what happened: done, reopen reason=R, reassign assignee=P, reschedule due_at=T "
	  "reason=R, note text=T",
	  "      --at T           when it happened (default now)\n"
	  "      FIELD=VALUE      a field of the event; FIELD:=JSON gives a JSON value\n",
	  2, 64, CTL_NEEDS_CONFIG | CTL_DAEMON, cmd_assignments_event },
	{ NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, NULL },
};
