/* ctl_status: dunghanctl status, kpi and budget — what an operator and a unit head look at
 * first: the daemon and its counts (GET /api/v1/status; also offline with --db), the figures
 * of QĐ 194 per unit (GET /api/v1/kpi) and the on-time error budget (GET /api/v1/kpi/budget). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_core.h"
#include "ctl_view.h"
#include "store.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* --- status ----------------------------------------------------------------------------- */

enum { S_VERSION, S_STARTED, S_UPTIME, S_OPEN_CASES, S_OPEN_DOCS, S_OPEN_ASSIGN, S_OVER_CASES,
       S_OVER_DOCS, S_OVER_ASSIGN, S_AT_RISK, S_PENDING, S_DEAD };

static const struct ctl_field status_fields[] = {
	[S_VERSION] = { "Phiên bản", "Version", 0 },
	[S_STARTED] = { "Khởi động lúc", "Started", 0 },
	[S_UPTIME] = { "Đã chạy", "Uptime", 0 },
	[S_OPEN_CASES] = { "Hồ sơ đang mở", "Open cases", CTL_COL_RIGHT },
	[S_OPEN_DOCS] = { "Văn bản đang mở", "Open documents", CTL_COL_RIGHT },
	[S_OPEN_ASSIGN] = { "Nhiệm vụ đang mở", "Open assignments", CTL_COL_RIGHT },
	[S_OVER_CASES] = { "Hồ sơ quá hạn", "Overdue cases", CTL_COL_RIGHT },
	[S_OVER_DOCS] = { "Văn bản quá hạn", "Overdue documents", CTL_COL_RIGHT },
	[S_OVER_ASSIGN] = { "Nhiệm vụ quá hạn", "Overdue assignments", CTL_COL_RIGHT },
	[S_AT_RISK] = { "Hồ sơ có nguy cơ trễ hạn", "Cases at risk", CTL_COL_RIGHT },
	[S_PENDING] = { "Thư chờ gửi", "Messages pending", CTL_COL_RIGHT },
	[S_DEAD] = { "Thư gửi hỏng", "Messages dead", CTL_COL_RIGHT },
};

static void status_row(struct ctl *ctl, const json_t *s, struct ctl_row *r)
{
	json_t *open = json_object_get(s, "open"), *over = json_object_get(s, "overdue");
	json_t *outbox = json_object_get(s, "outbox"), *up = json_object_get(s, "uptime_s");

	ctl_row_str(r, S_VERSION, s, "version");
	ctl_row_time(ctl, r, S_STARTED, s, "started_at");
	if (json_is_integer(up)) {
		long long u = json_integer_value(up);
		if (u >= 86400)
			ctl_row_printf(r, S_UPTIME, "%lld %s %lld %s", u / 86400,
				       ctl_word(ctl, "ngày", "d"), u % 86400 / 3600,
				       ctl_word(ctl, "giờ", "h"));
		else
			ctl_row_printf(r, S_UPTIME, "%lld %s %lld %s", u / 3600,
				       ctl_word(ctl, "giờ", "h"), u % 3600 / 60,
				       ctl_word(ctl, "phút", "min"));
	} else {
		ctl_row_set(r, S_UPTIME, ctl_word(ctl, "(đọc từ tệp cơ sở dữ liệu)",
						  "(read from the database file)"));
	}
	ctl_row_int(r, S_OPEN_CASES, open, "cases");
	ctl_row_int(r, S_OPEN_DOCS, open, "documents");
	ctl_row_int(r, S_OPEN_ASSIGN, open, "assignments");
	ctl_row_int(r, S_OVER_CASES, over, "cases");
	ctl_row_int(r, S_OVER_DOCS, over, "documents");
	ctl_row_int(r, S_OVER_ASSIGN, over, "assignments");
	ctl_row_int(r, S_AT_RISK, s, "at_risk_cases");
	ctl_row_int(r, S_PENDING, outbox, "pending");
	ctl_row_int(r, S_DEAD, outbox, "dead");
}

static int cmd_status(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = { CTL_STD_OPTIONS };
	struct ctl_view v;
	struct ctl_args a;
	const char *arg;
	char path[128];
	json_t *s;
	int id, rc;

	ctl_args_init(&a, argc, argv, opts);
	while ((id = ctl_opt(ctl, &a, &arg)) > 0)
		;
	if (id < 0)
		return ctl_opt_exit(id);
	snprintf(path, sizeof(path), "/api/v1/status");
	if (ctl_query_as_of(ctl, path, sizeof(path)) != 0 || !(s = ctl_get(ctl, path)))
		return CTL_FAIL;
	ctl_view_init(ctl, &v, status_fields, N(status_fields));
	rc = ctl_show(ctl, s, &v, status_row);
	json_decref(s);
	return rc;
}

/* --- kpi ------------------------------------------------------------------------------------ */

/* A figure of the API (a number, or null without data) with one decimal, "—" for none in a
 * table; in CSV an empty cell, as the API's own CSV (docs/kpi.md). */
static void row_figure(struct ctl *ctl, struct ctl_row *r, size_t k, const json_t *obj,
		       const char *name)
{
	json_t *v = json_object_get(obj, name);

	if (json_is_number(v))
		ctl_row_printf(r, k, "%.1f", json_number_value(v));
	else if (ctl->format != CTL_CSV)
		ctl_row_set(r, k, "—");
}

/* The unit's name indented by its depth in the tree in a table (the total row: "Tổng"); in CSV,
 * where the spaces would stay in the cell, the name alone beside its unit id. */
static void row_unit(struct ctl *ctl, struct ctl_row *r, size_t k, const json_t *row)
{
	json_t *depth = json_object_get(row, "depth");
	int indent = ctl->format == CTL_CSV ? 0 : 2 * (int)json_integer_value(depth);

	if (!json_object_get(row, "unit"))
		ctl_row_set(r, k, ctl_word(ctl, "Tổng", "Total"));
	else
		ctl_row_printf(r, k, "%*s%s", indent, "", ctl_str(row, "name"));
}

enum { K_UNIT, K_ID, K_RECEIVED, K_FINISHED, K_ON_TIME, K_TARGET, K_OPEN_OVERDUE, K_ONLINE,
       K_PAYMENT, K_DIGITIZED, K_SATISFACTION, K_DOCS, K_ASSIGN };

static const struct ctl_field kpi_fields[] = {
	[K_UNIT] = { "Đơn vị", "Unit", CTL_COL_SHRINK },
	[K_ID] = { "Mã đơn vị", "Unit id", CTL_COL_DETAIL },
	[K_RECEIVED] = { "Tiếp nhận", "Received", CTL_COL_RIGHT },
	[K_FINISHED] = { "Đã giải quyết", "Finished", CTL_COL_RIGHT },
	[K_ON_TIME] = { "Đúng hạn %", "On time %", CTL_COL_RIGHT },
	[K_TARGET] = { "Chỉ tiêu %", "Target %", CTL_COL_RIGHT },
	[K_OPEN_OVERDUE] = { "Quá hạn", "Overdue", CTL_COL_RIGHT },
	[K_ONLINE] = { "Trực tuyến %", "Online %", CTL_COL_RIGHT },
	[K_PAYMENT] = { "TT trực tuyến %", "Paid online %", CTL_COL_RIGHT },
	[K_DIGITIZED] = { "Số hóa %", "Digitised %", CTL_COL_RIGHT },
	[K_SATISFACTION] = { "Hài lòng %", "Satisfied %", CTL_COL_RIGHT },
	[K_DOCS] = { "Văn bản đúng hạn %", "Documents on time %", CTL_COL_RIGHT },
	[K_ASSIGN] = { "Nhiệm vụ đúng hạn %", "Assignments on time %", CTL_COL_RIGHT },
};

static void kpi_row(struct ctl *ctl, const json_t *row, struct ctl_row *r)
{
	json_t *c = json_object_get(row, "counts"), *rates = json_object_get(row, "rates");
	json_t *targets = json_object_get(row, "targets");

	row_unit(ctl, r, K_UNIT, row);
	ctl_row_str(r, K_ID, row, "unit");
	ctl_row_int(r, K_RECEIVED, c, "received");
	ctl_row_printf(r, K_FINISHED, "%lld",
		       (long long)(json_integer_value(json_object_get(c, "early")) +
				   json_integer_value(json_object_get(c, "on_time")) +
				   json_integer_value(json_object_get(c, "late"))));
	row_figure(ctl, r, K_ON_TIME, rates, "on_time");
	row_figure(ctl, r, K_TARGET, targets, "on_time");
	ctl_row_int(r, K_OPEN_OVERDUE, c, "open_overdue");
	row_figure(ctl, r, K_ONLINE, rates, "online");
	row_figure(ctl, r, K_PAYMENT, rates, "online_payment");
	row_figure(ctl, r, K_DIGITIZED, rates, "digitized");
	row_figure(ctl, r, K_SATISFACTION, rates, "satisfaction");
	row_figure(ctl, r, K_DOCS, rates, "documents_on_time");
	row_figure(ctl, r, K_ASSIGN, rates, "assignments_on_time");
	if (json_is_true(json_object_get(row, "below_target")))
		r->style = CTL_BAD;
}

/* The rows of a report, the total last, as a table or CSV (ctl->format). */
static int print_rows(struct ctl *ctl, const json_t *rows, const json_t *total,
		      const struct ctl_field *fields, size_t n, ctl_row_fn fill)
{
	struct ctl_row *row = calloc(1, sizeof(*row));
	struct ctl_table *t;
	struct ctl_view v;
	json_t *item;
	size_t i;
	int rc = CTL_OK;

	ctl_view_init(ctl, &v, fields, n);
	t = ctl_table_new(&ctl->out, ctl->format, v.cols, v.n);
	if (!t || !row) {
		rc = ctl_fail("out of memory");
		goto out;
	}
	json_array_foreach(rows, i, item) {
		memset(row, 0, sizeof(*row));
		fill(ctl, item, row);
		if (ctl_table_add(t, row->cells, row->style) != 0)
			goto nomem;
	}
	if (total) {
		memset(row, 0, sizeof(*row));
		fill(ctl, total, row);
		if (ctl_table_add(t, row->cells, row->style) != 0)
			goto nomem;
	}
	if (ctl_table_end(t, true) != 0)
		rc = ctl_fail("cannot write the output");
	goto out;
nomem:
	rc = ctl_fail("out of memory");
out:
	ctl_table_free(t);
	free(row);
	return rc;
}

/* Prints the answer of path as it came (the daemon's CSV): exit status. */
static int print_raw(struct ctl *ctl, const char *path)
{
	char *body = NULL;
	size_t len = 0;
	long status;

	if (ctl_send(ctl, "GET", path, NULL, NULL, 0, &status, &body, &len) != 0)
		return CTL_FAIL;
	if (status / 100 != 2) {
		ctl_print_api_error(ctl, status, body);
		free(body);
		return CTL_FAIL;
	}
	fwrite(body, 1, len, ctl->out.fp);
	free(body);
	return CTL_OK;
}

static int cmd_kpi(struct ctl *ctl, int argc, char **argv)
{
	enum { O_UNIT = 1, O_PERIOD, O_BASIS };
	static const struct option opts[] = {
		{ "unit", required_argument, NULL, O_UNIT },
		{ "period", required_argument, NULL, O_PERIOD },
		{ "basis", required_argument, NULL, O_BASIS },
		CTL_STD_OPTIONS,
	};
	char path[1024] = "/api/v1/kpi";
	struct ctl_args a;
	const char *arg;
	json_t *k;
	int id, rc;

	ctl_args_init(&a, argc, argv, opts);
	while ((id = ctl_opt(ctl, &a, &arg)) > 0)
		if (ctl_query_add(path, sizeof(path), opts[id - 1].name, arg) != 0)
			return ctl_usage("the options are too long");
	if (id < 0)
		return ctl_opt_exit(id);
	if (ctl->format == CTL_CSV) {
		/* The daemon's own CSV (BOM, CRLF, the office's language). */
		if (ctl_query_add(path, sizeof(path), "format", "csv") != 0)
			return ctl_usage("the options are too long");
		return print_raw(ctl, path);
	}
	if (!(k = ctl_get(ctl, path)))
		return CTL_FAIL;
	if (ctl->format == CTL_JSON) {
		rc = ctl_json_print(ctl->out.fp, k) == 0 ? CTL_OK : ctl_fail("out of memory");
	} else {
		json_t *p = json_object_get(k, "period");
		char from[16], to[16];
		int y, m, d;
		/* YYYY-MM-DD as dd/mm/yyyy */
		from[0] = to[0] = '\0';
		if (sscanf(ctl_str(p, "from"), "%4d-%2d-%2d", &y, &m, &d) == 3)
			snprintf(from, sizeof(from), "%02d/%02d/%04d", d, m, y);
		if (sscanf(ctl_str(p, "to"), "%4d-%2d-%2d", &y, &m, &d) == 3)
			snprintf(to, sizeof(to), "%02d/%02d/%04d", d, m, y);
		fprintf(ctl->out.fp, "%s %s (%s–%s), %s %s\n\n", ctl_word(ctl, "Kỳ", "Period"),
			ctl_str(p, "label"), from, to, ctl_word(ctl, "cách tính", "basis"),
			ctl_str(k, "basis"));
		rc = print_rows(ctl, json_object_get(k, "rows"), json_object_get(k, "total"),
				kpi_fields, N(kpi_fields), kpi_row);
	}
	json_decref(k);
	return rc;
}

/* --- budget --------------------------------------------------------------------------------- */

enum { B_UNIT, B_ID, B_TARGET, B_COUNTED, B_PROJECTED, B_ALLOWED, B_USED, B_REMAINING,
       B_REMAINING_PCT, B_RATE, B_BURN7, B_BURN30 };

static const struct ctl_field budget_fields[] = {
	[B_UNIT] = { "Đơn vị", "Unit", CTL_COL_SHRINK },
	[B_ID] = { "Mã đơn vị", "Unit id", CTL_COL_DETAIL },
	[B_TARGET] = { "Chỉ tiêu %", "Target %", CTL_COL_RIGHT },
	[B_COUNTED] = { "Hồ sơ đã tính", "Counted", CTL_COL_RIGHT },
	[B_PROJECTED] = { "Dự kiến cả năm", "Projected", CTL_COL_RIGHT },
	[B_ALLOWED] = { "Được phép trễ", "Allowed late", CTL_COL_RIGHT },
	[B_USED] = { "Đã trễ", "Late", CTL_COL_RIGHT },
	[B_REMAINING] = { "Còn lại", "Remaining", CTL_COL_RIGHT },
	[B_REMAINING_PCT] = { "Còn lại %", "Remaining %", CTL_COL_RIGHT },
	[B_RATE] = { "Tỷ lệ dự kiến %", "Projected rate %", CTL_COL_RIGHT },
	[B_BURN7] = { "Tốc độ 7 ngày", "Burn 7 d", CTL_COL_RIGHT },
	[B_BURN30] = { "Tốc độ 30 ngày", "Burn 30 d", CTL_COL_RIGHT },
};

static void budget_row(struct ctl *ctl, const json_t *b, struct ctl_row *r)
{
	json_t *remaining = json_object_get(b, "remaining"), *burn = json_object_get(b, "burn_7d");

	row_unit(ctl, r, B_UNIT, b);
	ctl_row_str(r, B_ID, b, "unit");
	row_figure(ctl, r, B_TARGET, b, "target");
	ctl_row_int(r, B_COUNTED, b, "counted");
	row_figure(ctl, r, B_PROJECTED, b, "projected");
	row_figure(ctl, r, B_ALLOWED, b, "allowed");
	ctl_row_int(r, B_USED, b, "used");
	row_figure(ctl, r, B_REMAINING, b, "remaining");
	row_figure(ctl, r, B_REMAINING_PCT, b, "remaining_percent");
	row_figure(ctl, r, B_RATE, b, "projected_rate");
	row_figure(ctl, r, B_BURN7, b, "burn_7d");
	row_figure(ctl, r, B_BURN30, b, "burn_30d");
	if (json_is_number(remaining) && json_number_value(remaining) < 0)
		r->style = CTL_BAD;
	else if (json_is_number(burn) && json_number_value(burn) > 1)
		r->style = CTL_WARN;
}

static int cmd_budget(struct ctl *ctl, int argc, char **argv)
{
	enum { O_UNIT = 1, O_YEAR };
	static const struct option opts[] = {
		{ "unit", required_argument, NULL, O_UNIT },
		{ "year", required_argument, NULL, O_YEAR },
		CTL_STD_OPTIONS,
	};
	char path[1024] = "/api/v1/kpi/budget";
	struct ctl_args a;
	long long year;
	const char *arg;
	json_t *b;
	int id, rc;

	ctl_args_init(&a, argc, argv, opts);
	while ((id = ctl_opt(ctl, &a, &arg)) > 0) {
		if (id == O_YEAR && ctl_parse_int(arg, 1970, 9999, "--year", &year) != CTL_OK)
			return CTL_USAGE;
		if (ctl_query_add(path, sizeof(path), opts[id - 1].name, arg) != 0)
			return ctl_usage("the options are too long");
	}
	if (id < 0)
		return ctl_opt_exit(id);
	if (!(b = ctl_get(ctl, path)))
		return CTL_FAIL;
	if (ctl->format == CTL_JSON) {
		rc = ctl_json_print(ctl->out.fp, b) == 0 ? CTL_OK : ctl_fail("out of memory");
	} else {
		if (ctl->format == CTL_TABLE)
			fprintf(ctl->out.fp, "%s %lld\n\n",
				ctl_word(ctl, "Quỹ trễ hạn năm", "Error budget of"),
				(long long)json_integer_value(json_object_get(b, "year")));
		rc = print_rows(ctl, json_object_get(b, "units"), NULL, budget_fields,
				N(budget_fields), budget_row);
	}
	json_decref(b);
	return rc;
}

/* A consistent copy of the live database (SQLite's online backup): with --db, straight from the
 * file to FILE; otherwise the daemon writes it into its own backups/ directory (the only place
 * a hardened service may write) and, given FILE, the copy is copied on to FILE the same way. */
static int cmd_backup(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = { CTL_STD_OPTIONS };
	struct store_backup_info info = { 0 };
	const char *arg, *file, *from;
	struct ctl_args a;
	json_t *answer = NULL;
	struct err err;
	int id, rc = CTL_FAIL;

	ctl_args_init(&a, argc, argv, opts);
	while ((id = ctl_opt(ctl, &a, &arg)) > 0)
		;
	if (id < 0)
		return ctl_opt_exit(id);
	file = a.npos ? a.pos[0] : NULL;
	if (ctl->db_path && !file)
		return ctl_usage("backup --db PATH needs FILE: where the copy goes");
	if (ctl->db_path) {
		from = ctl->db_path;
	} else {
		if (!(answer = ctl_post(ctl, "/api/v1/backup", NULL, NULL)))
			return CTL_FAIL;
		from = ctl_str(answer, "file");
		info.bytes = (int64_t)json_integer_value(json_object_get(answer, "bytes"));
		info.pages = (int64_t)json_integer_value(json_object_get(answer, "pages"));
	}
	if (file && store_backup(from, file, &info, &err) != STORE_OK) {
		ctl_fail("cannot copy %s to %s: %s%s", from, file, err.msg,
			 ctl->db_path ? "" : " (the daemon's copy stays; copy it as its owner or root)");
		goto out;
	}
	if (ctl->format == CTL_JSON) {
		json_t *j = json_pack("{s:s, s:I, s:I}", "file", file ? file : from, "bytes",
				      (json_int_t)info.bytes, "pages", (json_int_t)info.pages);
		rc = j && ctl_json_print(ctl->out.fp, j) == 0 ? CTL_OK : ctl_fail("out of memory");
		json_decref(j);
		goto out;
	}
	fprintf(ctl->out.fp, "%s %s (%lld bytes)\n",
		ctl->en ? "Backed up to" : "Đã sao lưu vào", file ? file : from,
		(long long)info.bytes);
	rc = CTL_OK;
out:
	json_decref(answer);
	return rc;
}

const struct ctl_command ctl_status_commands[] = {
	{ "backup", NULL, "[FILE]", "",
	  "a consistent copy of the live database (the daemon's, or --db PATH's)",
	  "      FILE              where the copy goes (required with --db; with the daemon, its\n"
	  "                        copy in backups/ beside the database is also copied here)\n",
	  0, 1, CTL_NEEDS_CONFIG | CTL_OFFLINE | CTL_DB_NO_CONFIG, cmd_backup },
	{ "status", NULL, "", "",
	  "the daemon's version and uptime, open, overdue and at-risk items, the outbox", NULL, 0,
	  0, CTL_NEEDS_CONFIG | CTL_OFFLINE, cmd_status },
	{ "kpi", NULL, "", "[--unit U] [--period P] [--basis portal|finished]",
	  "the figures of QĐ 194 per unit against the targets",
	  "      --unit U          the unit and its subtree (default: the first root unit)\n"
	  "      --period P        2024, 2024-Q1, 2024-03, ytd (default) or\n"
	  "                        2024-01-01..2024-06-30\n"
	  "      --basis B         portal (default) or finished\n",
	  0, 0, CTL_NEEDS_CONFIG | CTL_DAEMON, cmd_kpi },
	{ "budget", NULL, "", "[--unit U] [--year Y]",
	  "the on-time error budget: late cases allowed, used, and how fast it burns",
	  "      --unit U          the unit and its subtree (default: the first root unit)\n"
	  "      --year Y          the year (default: this year)\n",
	  0, 0, CTL_NEEDS_CONFIG | CTL_DAEMON, cmd_budget },
	{ NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, NULL },
};
