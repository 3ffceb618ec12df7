/* ctl_view: times, words, rows, lists and records as dunghanctl shows them (see ctl_view.h). */
#include "ctl_view.h"
#include "import.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* --- times -------------------------------------------------------------------------------- */

int64_t ctl_instant(const char *s)
{
	int64_t t;

	if (!s || calendar_parse_rfc3339(s, &t, NULL) != 0)
		return TIME_NONE;
	return t;
}

static int parse_time(struct ctl *ctl, const char *s, const char *what, bool deadline,
		      int64_t *t)
{
	struct calendar *cal = ctl->cfg->calendar;
	int rc, back = -1;

	/* The days a clerk names: 00:00 of them (a deadline: the end of their office hours). */
	if (strcmp(s, "today") == 0 || strcmp(s, "hôm nay") == 0)
		back = 0;
	else if (strcmp(s, "yesterday") == 0 || strcmp(s, "hôm qua") == 0)
		back = 1;
	if (back >= 0) {
		*t = calendar_instant_of(cal, calendar_day_of(cal, ctl->now) - back, 0);
		if (deadline)
			*t = calendar_end_of_day(cal, *t);
		return CTL_OK;
	}
	rc = import_parse_time(cal, s, deadline, t);

	if (rc == -2)
		return ctl_usage("%s \"%s\": the year must be %d to %d", what, s,
				 CALENDAR_FIRST_YEAR, CALENDAR_LAST_YEAR);
	if (rc != 0)
		return ctl_usage("%s \"%s\" is not a time like 07/02/2024 10:00, 07/02/2024, "
				 "2024-02-07T10:00:00+07:00, today or yesterday", what, s);
	return CTL_OK;
}

int ctl_parse_time(struct ctl *ctl, const char *s, const char *what, int64_t *t)
{
	return parse_time(ctl, s, what, false, t);
}

int ctl_parse_deadline(struct ctl *ctl, const char *s, const char *what, int64_t *t)
{
	return parse_time(ctl, s, what, true, t);
}

void ctl_rfc3339(struct ctl *ctl, int64_t t, char *buf, size_t n)
{
	calendar_format(ctl->cfg->calendar, t, buf, n);
}

void ctl_show_time(struct ctl *ctl, int64_t t, char *buf, size_t n)
{
	int64_t local, days, secs;
	int y, m, d;

	if (t == TIME_NONE) {
		snprintf(buf, n, "%s", "");
		return;
	}
	local = t + calendar_utc_offset(ctl->cfg->calendar, t);
	days = local / 86400 - (local % 86400 < 0);
	secs = local - days * 86400;
	civil_from_days((int32_t)days, &y, &m, &d);
	snprintf(buf, n, "%02d/%02d/%04d %02d:%02d", d, m, y, (int)(secs / 3600),
		 (int)(secs % 3600 / 60));
}

void ctl_show_time_str(struct ctl *ctl, const char *s, char *buf, size_t n)
{
	ctl_show_time(ctl, ctl_instant(s), buf, n);
}

const char *ctl_word(const struct ctl *ctl, const char *vi, const char *en)
{
	return ctl->en ? en : vi;
}

void ctl_show_span(struct ctl *ctl, int64_t seconds, char *buf, size_t n)
{
	int64_t day = calendar_day_seconds(ctl->cfg->calendar);
	long long d = day > 0 ? seconds / day : 0, rest = day > 0 ? seconds % day : seconds;
	long long h = rest / 3600, m = rest % 3600 / 60;
	size_t used = 0;

	buf[0] = '\0';
	if (d)
		used += (size_t)snprintf(buf + used, n - used, "%lld %s", d,
					 ctl->en ? (d == 1 ? "day" : "days") : "ngày");
	if (h && used < n)
		used += (size_t)snprintf(buf + used, n - used, "%s%lld %s", used ? " " : "", h,
					 ctl_word(ctl, "giờ", "h"));
	if (!d && m && used < n)
		used += (size_t)snprintf(buf + used, n - used, "%s%lld %s", used ? " " : "", m,
					 ctl_word(ctl, "phút", "min"));
	if (!used)
		snprintf(buf, n, "%s", ctl_word(ctl, "dưới 1 phút", "< 1 min"));
}

enum ctl_style ctl_show_left(struct ctl *ctl, int64_t due, char *buf, size_t n)
{
	struct calendar *cal = ctl->cfg->calendar;
	char span[64];

	if (due == TIME_NONE) {
		snprintf(buf, n, "%s", "");
		return CTL_PLAIN;
	}
	if (ctl->now >= due) {
		ctl_show_span(ctl, calendar_between(cal, due, ctl->now), span, sizeof(span));
		if (ctl->en)
			snprintf(buf, n, "%s overdue", span);
		else
			snprintf(buf, n, "quá hạn %s", span);
		return CTL_BAD;
	}
	int64_t left = calendar_between(cal, ctl->now, due);
	ctl_show_span(ctl, left, span, sizeof(span));
	if (ctl->en)
		snprintf(buf, n, "%s working time left", span);
	else
		snprintf(buf, n, "còn %s làm việc", span);
	return left < calendar_day_seconds(cal) ? CTL_WARN : CTL_PLAIN;
}

/* --- words ------------------------------------------------------------------------------- */

const char *ctl_name(const struct ctl *ctl, const char *name)
{
	static const char *const words[][2] = {
		{ "received", "Tiếp nhận" }, { "in_progress", "Đang xử lý" },
		{ "paused", "Tạm dừng" }, { "completed", "Hoàn thành" },
		{ "returned", "Đã trả kết quả" }, { "withdrawn", "Đã rút" },
		{ "rejected", "Từ chối" }, { "registered", "Đã vào sổ" },
		{ "done", "Hoàn thành" }, { "open", "Đang thực hiện" },
		{ "early", "Trước hạn" }, { "on_time", "Đúng hạn" }, { "late", "Trễ hạn" },
		{ "normal", "Thường" }, { "urgent", "Khẩn" }, { "very_urgent", "Thượng khẩn" },
		{ "flash", "Hỏa tốc" }, { "confidential", "Mật" }, { "secret", "Tối mật" },
		{ "top_secret", "Tuyệt mật" }, { "lead", "Chủ trì" }, { "support", "Phối hợp" },
		{ "none", "Không" }, { "partial", "Một phần" }, { "full", "Toàn trình" },
		{ "pending", "Chờ gửi" }, { "held", "Chờ gộp" }, { "digested", "Đã gộp" },
		{ "sending", "Đang gửi" }, { "sent", "Đã gửi" }, { "failed", "Lỗi" },
		{ "dead", "Gửi hỏng" },
	};

	if (!name)
		return "";
	if (ctl->en)
		return name;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(words[i][0], name) == 0)
			return words[i][1];
	return name;
}

/* --- rows -------------------------------------------------------------------------------- */

void ctl_view_init(const struct ctl *ctl, struct ctl_view *v, const struct ctl_field *fields,
		   size_t n)
{
	v->n = n < CTL_MAX_COLUMNS ? n : CTL_MAX_COLUMNS;
	for (size_t k = 0; k < v->n; k++) {
		const char *t = ctl->en ? fields[k].en : fields[k].vi;
		v->cols[k] = (struct ctl_column){ t, t, fields[k].flags };
	}
}

void ctl_row_set(struct ctl_row *r, size_t k, const char *s)
{
	if (k < CTL_MAX_COLUMNS)
		r->cells[k] = s;
}

void ctl_row_printf(struct ctl_row *r, size_t k, const char *fmt, ...)
{
	size_t room = sizeof(r->buf) - r->used;
	va_list ap;
	int len;

	if (k >= CTL_MAX_COLUMNS || room == 0)
		return;
	va_start(ap, fmt);
	len = vsnprintf(r->buf + r->used, room, fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	r->cells[k] = r->buf + r->used;
	r->used += (size_t)len < room ? (size_t)len + 1 : room;
}

void ctl_row_str(struct ctl_row *r, size_t k, const json_t *obj, const char *name)
{
	ctl_row_set(r, k, ctl_str(obj, name));
}

void ctl_row_int(struct ctl_row *r, size_t k, const json_t *obj, const char *name)
{
	json_t *v = json_object_get(obj, name);

	if (json_is_integer(v))
		ctl_row_printf(r, k, "%lld", (long long)json_integer_value(v));
}

void ctl_row_time(struct ctl *ctl, struct ctl_row *r, size_t k, const json_t *obj,
		  const char *name)
{
	char buf[64];

	ctl_show_time_str(ctl, ctl_str(obj, name), buf, sizeof(buf));
	ctl_row_printf(r, k, "%s", buf);
}

void ctl_row_name(struct ctl *ctl, struct ctl_row *r, size_t k, const json_t *obj,
		  const char *name)
{
	ctl_row_set(r, k, ctl_name(ctl, ctl_str(obj, name)));
}

void ctl_row_left(struct ctl *ctl, struct ctl_row *r, size_t k, const json_t *item)
{
	static const char *const open[] = { "received", "in_progress", "registered", "open" };
	const char *status = ctl_str(item, "status"), *outcome = ctl_str(item, "outcome");
	int64_t due = ctl_instant(ctl_str(item, "due_at"));
	int64_t done = ctl_instant(ctl_str(item, "done_at"));
	char buf[128];

	for (size_t i = 0; i < sizeof(open) / sizeof(open[0]); i++)
		if (strcmp(status, open[i]) == 0) {
			r->style = ctl_show_left(ctl, due, buf, sizeof(buf));
			ctl_row_printf(r, k, "%s", buf);
			return;
		}
	if (*outcome) {
		ctl_row_set(r, k, ctl_name(ctl, outcome));
	} else if (done != TIME_NONE && due != TIME_NONE) {
		ctl_row_set(r, k, ctl_name(ctl, done <= due ? "on_time" : "late"));
	}
}

static void fill_row(struct ctl *ctl, ctl_row_fn fill, const json_t *item, struct ctl_row *row)
{
	memset(row->cells, 0, sizeof(row->cells));
	row->style = CTL_PLAIN;
	row->used = 0;
	fill(ctl, item, row);
}

struct list_state {
	struct ctl *ctl;
	struct ctl_table *table;
	struct ctl_json_list json;
	ctl_row_fn fill;
	struct ctl_row row;
};

static int list_item(void *ctx, json_t *item)
{
	struct list_state *s = ctx;

	if (!s->table) {
		ctl_json_add(&s->json, item);
		return 0;
	}
	fill_row(s->ctl, s->fill, item, &s->row);
	return ctl_table_add(s->table, s->row.cells, s->row.style) == 0 ? 0
								      : ctl_fail("out of memory");
}

int ctl_list(struct ctl *ctl, const char *path, const char *key, long limit,
	     const struct ctl_view *v, ctl_row_fn fill)
{
	struct list_state *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return ctl_fail("out of memory");
	s->ctl = ctl;
	s->fill = fill;
	if (ctl->format == CTL_JSON)
		ctl_json_begin(&s->json, ctl->out.fp);
	else if (!(s->table = ctl_table_new(&ctl->out, ctl->format, v->cols, v->n))) {
		free(s);
		return ctl_fail("out of memory");
	}
	rc = ctl_each(ctl, path, key, limit, list_item, s);
	if (rc == CTL_OK && s->table && ctl_table_end(s->table, true) != 0)
		rc = ctl_fail("cannot write the output");
	if (rc == CTL_OK && !s->table)
		ctl_json_end(&s->json);
	ctl_table_free(s->table);
	free(s);
	return rc;
}

int ctl_show(struct ctl *ctl, const json_t *item, const struct ctl_view *v, ctl_row_fn fill)
{
	struct ctl_row *row;
	int rc = CTL_OK;

	if (ctl->format == CTL_JSON)
		return ctl_json_print(ctl->out.fp, item) == 0 ? CTL_OK : ctl_fail("out of memory");
	if (!(row = calloc(1, sizeof(*row))))
		return ctl_fail("out of memory");
	fill_row(ctl, fill, item, row);
	if (ctl->format == CTL_CSV) {
		struct ctl_table *t = ctl_table_new(&ctl->out, CTL_CSV, v->cols, v->n);
		if (!t || ctl_table_add(t, row->cells, row->style) != 0 || ctl_table_end(t, true))
			rc = ctl_fail("out of memory");
		ctl_table_free(t);
	} else {
		ctl_record_print(&ctl->out, v->cols, row->cells, v->n, true);
	}
	free(row);
	return rc;
}

int ctl_section(struct ctl *ctl, const char *heading, const json_t *items,
		const struct ctl_view *v, ctl_row_fn fill)
{
	struct ctl_table *t;
	struct ctl_row *row;
	json_t *item;
	size_t i;
	int rc = CTL_OK;

	fprintf(ctl->out.fp, "\n%s (%zu):\n", heading, json_array_size(items));
	if (!json_array_size(items))
		return CTL_OK;
	t = ctl_table_new(&ctl->out, CTL_TABLE, v->cols, v->n);
	row = calloc(1, sizeof(*row));
	if (!t || !row) {
		rc = ctl_fail("out of memory");
		goto out;
	}
	json_array_foreach(items, i, item) {
		fill_row(ctl, fill, item, row);
		if (ctl_table_add(t, row->cells, row->style) != 0) {
			rc = ctl_fail("out of memory");
			goto out;
		}
	}
	if (ctl_table_end(t, true) != 0)
		rc = ctl_fail("cannot write the output");
out:
	ctl_table_free(t);
	free(row);
	return rc;
}

int ctl_show_item(struct ctl *ctl, const char *key, const json_t *item, const struct ctl_view *v,
		  ctl_row_fn fill, const struct ctl_part *parts, size_t nparts)
{
	json_t *lists[8] = { 0 }, *all = NULL;
	struct ctl_view pv;
	int rc = CTL_FAIL;

	if (ctl->format == CTL_CSV || nparts > 8)
		return ctl_show(ctl, item, v, fill);
	for (size_t i = 0; i < nparts; i++)
		if (!(lists[i] = ctl_get_all(ctl, parts[i].path, parts[i].list_key, parts[i].paged)))
			goto out;
	if (ctl->format == CTL_JSON) {
		if (!(all = json_pack("{s:O}", key, item)))
			goto nomem;
		for (size_t i = 0; i < nparts; i++)
			if (json_object_set(all, parts[i].key, lists[i]) != 0)
				goto nomem;
		rc = ctl_json_print(ctl->out.fp, all) == 0 ? CTL_OK : ctl_fail("out of memory");
		goto out;
	}
	rc = ctl_show(ctl, item, v, fill);
	for (size_t i = 0; i < nparts && rc == CTL_OK; i++) {
		ctl_view_init(ctl, &pv, parts[i].fields, parts[i].nfields);
		rc = ctl_section(ctl, ctl_word(ctl, parts[i].vi, parts[i].en), lists[i], &pv,
				 parts[i].fill);
	}
	goto out;
nomem:
	rc = ctl_fail("out of memory");
out:
	for (size_t i = 0; i < nparts && i < 8; i++)
		json_decref(lists[i]);
	json_decref(all);
	return rc;
}

enum { E_AT, E_TYPE, E_ACTOR, E_DUE, E_DATA };
const struct ctl_field ctl_event_fields[] = {
	[E_AT] = { "Thời điểm", "At", 0 },
	[E_TYPE] = { "Sự kiện", "Event", 0 },
	[E_ACTOR] = { "Người thực hiện", "By", 0 },
	[E_DUE] = { "Hạn sau đó", "Due after", 0 },
	[E_DATA] = { "Chi tiết", "Details", CTL_COL_SHRINK },
};
const size_t ctl_event_nfields = sizeof(ctl_event_fields) / sizeof(ctl_event_fields[0]);

void ctl_event_row(struct ctl *ctl, const json_t *e, struct ctl_row *r)
{
	json_t *data = json_object_get(e, "data"), *v;
	const char *key;
	char text[2048] = "";
	size_t used = 0;

	ctl_row_time(ctl, r, E_AT, e, "at");
	ctl_row_str(r, E_TYPE, e, "type");
	ctl_row_str(r, E_ACTOR, e, "actor");
	ctl_row_time(ctl, r, E_DUE, e, "due_at");
	/* The event's own fields as "name=value, ...", in the order they were given. */
	json_object_foreach(data, key, v) {
		char *s = json_is_string(v) ? NULL : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		int k = snprintf(text + used, sizeof(text) - used, "%s%s=%s", used ? ", " : "", key,
				 s ? s : json_string_value(v));
		free(s);
		if (k < 0 || (size_t)k >= sizeof(text) - used)
			break;
		used += (size_t)k;
	}
	ctl_row_printf(r, E_DATA, "%s", text);
}

/* --- event arguments ---------------------------------------------------------------------- */

static bool whole_number_field(const char *name)
{
	return strcmp(name, "rating") == 0 || strcmp(name, "incoming_no") == 0 ||
	       strcmp(name, "expected_version") == 0;
}

/* One "name=value" or "name:=JSON" argument into body. */
static int event_field(struct ctl *ctl, json_t *body, const char *arg)
{
	const char *eq = strchr(arg, '=');
	bool raw = eq && eq > arg && eq[-1] == ':';
	size_t nlen = eq ? (size_t)(eq - arg) - raw : 0;
	char name[64], what[80];
	const char *value = eq ? eq + 1 : NULL;
	json_t *v = NULL;
	json_error_t jerr;

	if (!eq || nlen == 0 || nlen >= sizeof(name))
		return ctl_usage("expected FIELD=VALUE (or FIELD:=JSON), not \"%s\"", arg);
	memcpy(name, arg, nlen);
	name[nlen] = '\0';
	if (strcmp(name, "type") == 0)
		return ctl_usage("the event's type is the command's argument, not a field");
	snprintf(what, sizeof(what), "%s", name);
	if (raw) {
		if (!(v = json_loads(value, JSON_DECODE_ANY, &jerr)))
			return ctl_usage("%s: \"%s\" is not JSON (%s)", name, value, jerr.text);
	} else if (nlen > 3 && strcmp(name + nlen - 3, "_at") == 0) {
		int64_t t;
		char buf[64];
		if ((strcmp(name, "due_at") == 0 ? ctl_parse_deadline(ctl, value, what, &t)
						 : ctl_parse_time(ctl, value, what, &t)) != CTL_OK)
			return CTL_USAGE;
		ctl_rfc3339(ctl, t, buf, sizeof(buf));
		v = json_string(buf);
	} else if (whole_number_field(name)) {
		long long n;
		if (ctl_parse_int(value, 0, INT64_MAX, what, &n) != CTL_OK)
			return CTL_USAGE;
		v = json_integer(n);
	} else if (!(v = json_string(value))) {
		return ctl_usage("%s: the value is not UTF-8", name);
	}
	if (!v || json_object_set_new(body, name, v) != 0)
		return ctl_fail("out of memory");
	return CTL_OK;
}

json_t *ctl_event_body(struct ctl *ctl, const char *type, const char *at, char **args, int n)
{
	json_t *body = json_pack("{s:s}", "type", type);
	char buf[64];
	int64_t t;

	if (!body || !json_string_value(json_object_get(body, "type"))) {
		ctl_usage("TYPE \"%s\" is not UTF-8", type);
		goto fail;
	}
	if (at) {
		if (ctl_parse_time(ctl, at, "--at", &t) != CTL_OK)
			goto fail;
		ctl_rfc3339(ctl, t, buf, sizeof(buf));
		json_object_set_new(body, "at", json_string(buf));
	}
	for (int i = 0; i < n; i++)
		if (event_field(ctl, body, args[i]) != CTL_OK)
			goto fail;
	return body;
fail:
	json_decref(body);
	return NULL;
}
