/* What alert messages say, against the real dunghand (docs/templates.md, docs/escalation.md):
 * the daily digest of cases and documents, each row with its own item's values, each kind named
 * as itself, and the unit's list as its link, in Vietnamese and in English; the texts chosen by
 * the rule's phase for documents and assignments, an assignment's source document as its code;
 * and messages written for the instant they are read: a case registered after its deadline, a
 * message held past its deadline outside office hours.
 *
 * Times are chosen so that the words are exact: on a round-the-clock calendar a day is 24 h,
 * and the digest at digest_at (a whole minute) is rendered within a minute of it, so time left
 * rounded up and time overdue rounded down come out in whole hours. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_fixture.h"

static struct api_t t;

static void teardown(void)
{
	api_t_teardown(&t);
}

TestSuite(escalation_texts, .fini = teardown, .timeout = 240);

#define LINK_BASE "https://dunghan.dongnai.gov.vn"
#define ZONE (7 * 3600) /* Asia/Ho_Chi_Minh, no daylight saving */

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* "10:00 thứ Hai, 19/02/2024" / "10:00 Monday, 19/02/2024", as the messages write instants. */
static const char *instant(char *buf, size_t n, int64_t at, bool en)
{
	static const char *const vi_days[7] = { "Chủ nhật", "thứ Hai", "thứ Ba", "thứ Tư",
						"thứ Năm", "thứ Sáu", "thứ Bảy" };
	static const char *const en_days[7] = { "Sunday", "Monday", "Tuesday", "Wednesday",
						"Thursday", "Friday", "Saturday" };
	time_t local = (time_t)(at + ZONE);
	struct tm tm;

	gmtime_r(&local, &tm);
	snprintf(buf, n, "%02d:%02d %s, %02d/%02d/%04d", tm.tm_hour, tm.tm_min,
		 (en ? en_days : vi_days)[tm.tm_wday], tm.tm_mday, tm.tm_mon + 1, tm.tm_year + 1900);
	return buf;
}

static void start(const char *calendar, const char *settings, const char *rules,
		  const char *const *edits)
{
	api_t_start_escalation(&t, calendar, LINK_BASE, settings, rules, edits);
}

static void create_case(const char *code, int64_t received, int64_t due)
{
	char r[40], d[40];

	api_format_instant(r, sizeof(r), received);
	api_format_instant(d, sizeof(d), due);
	api_t_reqf(&t, "POST", "/api/v1/cases", API_MOTCUA, 201,
		   "{\"code\": \"%s\", \"procedure\": \"1.004222\", \"unit\": \"xa-tu-phap-tan-phu\", "
		   "\"handler\": \"binh.lt\", \"applicant\": \"Nguyễn Văn A\", \"received_at\": \"%s\", "
		   "\"due_at\": \"%s\"}",
		   code, r, d);
}

static int64_t create_document(const char *symbol, const char *unit, int64_t received,
			       int64_t due)
{
	char r[40], d[40];

	api_format_instant(r, sizeof(r), received);
	api_format_instant(d, sizeof(d), due);
	json_t *j = api_t_reqf(&t, "POST", "/api/v1/documents", API_VANTHU, 201,
			       "{\"symbol\": \"%s\", \"issuer\": \"Sở Nội vụ\", \"summary\": \"V/v cải "
			       "cách hành chính\", \"lead_unit\": \"%s\", \"received_at\": \"%s\", "
			       "\"due_at\": \"%s\"}",
			       symbol, unit, r, d);
	return api_int(j, "id");
}

/* The outbox rows (admin) of the item's alerts, oldest first, once at least n are there. */
static json_t *rows_of_item(const char *item, size_t n)
{
	char path[200];
	int64_t until = now_s() + 20;

	for (;;) {
		snprintf(path, sizeof(path), "/api/v1/alerts?item=%s", item);
		json_t *alerts = api_t_all(&t, path, "alerts", API_BAOCAO);
		json_t *box = api_t_all(&t, "/api/v1/outbox", "outbox", API_ADMIN);
		json_t *out = api_t_keep(&t, json_array()), *row, *a;
		size_t i, k;

		json_array_foreach (box, i, row)
			json_array_foreach (alerts, k, a)
				if (api_int(row, "alert") == api_int(a, "id"))
					json_array_append(out, row);
		if (json_array_size(out) >= n)
			return out;
		cr_assert(now_s() <= until, "%s: %zu outbox rows, expected %zu: %s", item,
			  json_array_size(out), n, json_dumps(box, JSON_COMPACT));
		api_sleep_ms(50);
	}
}

static json_t *row_to(json_t *rows, const char *channel, const char *recipient)
{
	json_t *row;
	size_t i;

	json_array_foreach (rows, i, row)
		if (!strcmp(api_str(row, "channel"), channel) &&
		    !strcmp(api_str(row, "recipient"), recipient))
			return row;
	cr_assert_fail("no %s row to %s in %s", channel, recipient, json_dumps(rows, JSON_COMPACT));
	return NULL;
}

/* --- the digest ------------------------------------------------------------------------- */

/* Four items held for binh.lt, a digest reader: two overdue cases, a document and a case due
 * later today. The digest lists them overdue first, then by due instant, each row with its own
 * item's code, title, due and status. */
static void digest_of_mixed_items(bool en)
{
	char settings[200], x[4][40], body[8000], d[4][64], subject[400], line[400];
	int64_t t0 = now_s();
	int64_t local = t0 + ZONE, digest = (local + 25 + 59) / 60 * 60;

	if (digest / 86400 != local / 86400 || local % 86400 < 6 * 3600 ||
	    local % 86400 > 21 * 3600)
		cr_skip_test("the due instants of this test must fall on today's date");
	snprintf(settings, sizeof(settings), "digest_at = \"%02d:%02d\"; language = \"%s\";",
		 (int)(digest % 86400 / 3600), (int)(digest % 3600 / 60), en ? "en" : "vi");
	digest -= ZONE;
	start(API_RTC_CALENDAR, settings,
	      "cases = ( { id = \"soon\"; when = \"-3h\"; notify = [\"handler\"]; },\n"
	      "  { id = \"late\"; when = \"+1h\"; notify = [\"handler\"]; } );\n"
	      "  documents = ( { id = \"doc-soon\"; when = \"-3h\"; notify = [\"head\"]; } );",
	      (const char *const[]){ "unit = \"xa-tu-phap-tan-phu\"; }",
				     "unit = \"xa-tu-phap-tan-phu\"; notify = \"digest\"; }", NULL });
	/* x[0] 3 h overdue, x[1] 5 h overdue, x[3] 2 h left; the document 1 h left. */
	for (int i = 0; i < 4; i++)
		snprintf(x[i], sizeof(x[i]), "000.00.21.H19-250101-%04d", i + 1);
	create_case(x[0], digest - 10 * 3600, digest - 3 * 3600);
	create_case(x[1], digest - 10 * 3600, digest - 5 * 3600);
	create_case(x[3], digest - 3600, digest + 2 * 3600);
	int64_t doc = create_document("506/SNV-TT", "xa-tu-phap-tan-phu", digest - 3600,
				      digest + 3600);
	char item[40];
	snprintf(item, sizeof(item), "document:%lld", (long long)doc);
	rows_of_item(item, 1);
	cr_assert(now_s() < digest, "the alerts came after digest_at");

	json_t *row = NULL, *box, *r;
	size_t i;
	for (;;) {
		box = api_t_all(&t, "/api/v1/outbox?recipient=binh.lt", "outbox", API_ADMIN);
		row = NULL;
		json_array_foreach (box, i, r)
			if (api_is_null(r, "alert"))
				row = r;
		if (row)
			break;
		cr_assert(now_s() <= digest + 20, "no digest by digest_at + 20 s: %s",
			  json_dumps(box, JSON_COMPACT));
		api_sleep_ms(100);
	}
	cr_assert_leq(api_parse_instant(api_str(row, "created_at")), digest + 50,
		      "the digest was written too late for whole hours");
	instant(d[0], sizeof(d[0]), digest - 5 * 3600, en);
	instant(d[1], sizeof(d[1]), digest - 3 * 3600, en);
	instant(d[2], sizeof(d[2]), digest + 3600, en);
	instant(d[3], sizeof(d[3]), digest + 2 * 3600, en);
	char date[16];
	snprintf(date, sizeof(date), "%.10s", d[0] + strlen(d[0]) - 10);
	if (en) {
		snprintf(subject, sizeof(subject), "[Summary %s] Bộ phận Tư pháp - Hộ tịch xã Tân Phú: "
			 "1 case, 1 document due soon, 2 cases overdue", date);
		snprintf(body, sizeof(body),
			 "Work of Bộ phận Tư pháp - Hộ tịch xã Tân Phú on %s: 1 case, 1 document due "
			 "soon, 2 cases overdue.\n\n"
			 "- Case %s — Đăng ký thường trú\n"
			 "  Officer: Lê Thị Bình. Result due: %s.\n"
			 "  Status: OVERDUE by 5 working hours.\n"
			 "  " LINK_BASE "/cases/%s\n\n"
			 "- Case %s — Đăng ký thường trú\n"
			 "  Officer: Lê Thị Bình. Result due: %s.\n"
			 "  Status: OVERDUE by 3 working hours.\n"
			 "  " LINK_BASE "/cases/%s\n\n"
			 "- Document 506/SNV-TT — V/v cải cách hành chính\n"
			 "  Handling deadline: %s.\n"
			 "  Status: 1 working hour left.\n"
			 "  " LINK_BASE "/documents/506%%2FSNV-TT\n\n"
			 "- Case %s — Đăng ký thường trú\n"
			 "  Officer: Lê Thị Bình. Result due: %s.\n"
			 "  Status: 2 working hours left.\n"
			 "  " LINK_BASE "/cases/%s\n\n"
			 "Please give priority to what is overdue and what is due soon.\n"
			 "Every overdue case needs a letter of apology and request for extension "
			 "(form 04, Circular\n03/2025/TT-VPCP) sent to the applicant.\n\n"
			 "Open the list: " LINK_BASE "/units/xa-tu-phap-tan-phu\n",
			 date, x[1], d[0], x[1], x[0], d[1], x[0], d[2], x[3], d[3], x[3]);
	} else {
		snprintf(subject, sizeof(subject), "[Tổng hợp %s] Bộ phận Tư pháp - Hộ tịch xã Tân "
			 "Phú: 1 hồ sơ, 1 văn bản sắp đến hạn, 2 hồ sơ quá hạn", date);
		snprintf(body, sizeof(body),
			 "Tình hình giải quyết công việc của Bộ phận Tư pháp - Hộ tịch xã Tân Phú ngày "
			 "%s:\n1 hồ sơ, 1 văn bản sắp đến hạn, 2 hồ sơ quá hạn.\n\n"
			 "- Hồ sơ %s — Đăng ký thường trú\n"
			 "  Cán bộ xử lý: Lê Thị Bình. Hạn trả kết quả: %s.\n"
			 "  Tình trạng: QUÁ HẠN 5 giờ làm việc.\n"
			 "  " LINK_BASE "/cases/%s\n\n"
			 "- Hồ sơ %s — Đăng ký thường trú\n"
			 "  Cán bộ xử lý: Lê Thị Bình. Hạn trả kết quả: %s.\n"
			 "  Tình trạng: QUÁ HẠN 3 giờ làm việc.\n"
			 "  " LINK_BASE "/cases/%s\n\n"
			 "- Văn bản 506/SNV-TT — V/v cải cách hành chính\n"
			 "  Hạn xử lý: %s.\n"
			 "  Tình trạng: còn 1 giờ làm việc.\n"
			 "  " LINK_BASE "/documents/506%%2FSNV-TT\n\n"
			 "- Hồ sơ %s — Đăng ký thường trú\n"
			 "  Cán bộ xử lý: Lê Thị Bình. Hạn trả kết quả: %s.\n"
			 "  Tình trạng: còn 2 giờ làm việc.\n"
			 "  " LINK_BASE "/cases/%s\n\n"
			 "Đề nghị ưu tiên giải quyết các việc quá hạn và sắp đến hạn.\n"
			 "Hồ sơ quá hạn phải có văn bản xin lỗi và đề nghị gia hạn thời gian giải "
			 "quyết (mẫu số 04,\nThông tư 03/2025/TT-VPCP) gửi người nộp.\n\n"
			 "Xem danh sách: " LINK_BASE "/units/xa-tu-phap-tan-phu\n",
			 date, x[1], d[0], x[1], x[0], d[1], x[0], d[2], x[3], d[3], x[3]);
	}
	cr_assert_str_eq(api_str(row, "subject"), subject);
	cr_assert(strstr(api_str(row, "body_text"), body), "the digest's text:\n%s\n--- expected "
		  "within it:\n%s", api_str(row, "body_text"), body);
	/* the HTML body: the same rows, the list as its button */
	snprintf(line, sizeof(line), "<a href=\"" LINK_BASE "/units/xa-tu-phap-tan-phu\"");
	cr_assert(strstr(api_str(row, "body_html"), line), "%s", api_str(row, "body_html"));
	cr_assert(strstr(api_str(row, "body_html"), en ? "Document <a href" : "Văn bản <a href"),
		  "%s", api_str(row, "body_html"));
}

Test(escalation_texts, digest_of_mixed_items_vi)
{
	digest_of_mixed_items(false);
}

Test(escalation_texts, digest_of_mixed_items_en)
{
	digest_of_mixed_items(true);
}

/* --- documents and assignments, by phase ------------------------------------------------ */

/* The example's `doc-late` rule (+1d, repeating) says the document is overdue, with its
 * issuer; an assignment rule before its due says it is due soon, and names the assignment's
 * source document, not its id. */
Test(escalation_texts, document_overdue_and_assignment_due)
{
	start(API_RTC_CALENDAR, NULL,
	      "cases = ( { id = \"due\"; when = \"due\"; notify = [\"head\"]; } );\n"
	      "  documents = ( { id = \"doc-late\"; when = \"+1d\"; notify = [\"head\"];"
	      " repeat = \"1d\"; } );\n"
	      "  assignments = ( { id = \"task-soon\"; when = \"-1d\"; notify = [\"handler\"]; } );",
	      NULL);
	int64_t t0 = now_s();
	/* due 1 day and 2 hours ago: the +1d rule's instant passed 2 h ago */
	int64_t doc = create_document("506/SNV-TT", "kstt", t0 - 3 * 86400, t0 - 86400 - 7200);
	char due[40], item[40];
	api_format_instant(due, sizeof(due), t0 + 86400 - 3600); /* "-1d" passed an hour ago */
	char path[80];
	snprintf(path, sizeof(path), "/api/v1/documents/%lld/assignments", (long long)doc);
	json_t *asg = api_t_reqf(&t, "POST", path, API_VANTHU, 201,
				 "{\"unit\": \"hctc\", \"role\": \"lead\", \"assignee\": \"tuan.hm\", "
				 "\"title\": \"Rà soát thủ tục\", \"due_at\": \"%s\"}", due);
	int64_t asg_id = api_int(asg, "id"); /* the answer is freed by the next request */

	snprintf(item, sizeof(item), "document:%lld", (long long)doc);
	json_t *row = row_to(rows_of_item(item, 1), "email", "lan.ptn");
	cr_assert_str_eq(api_str(row, "subject"),
			 "[Văn bản quá hạn] 506/SNV-TT — V/v cải cách hành chính");
	cr_assert(strstr(api_str(row, "body_text"),
			 "Văn bản 506/SNV-TT của Sở Nội vụ\nTrích yếu: V/v cải cách hành chính\n"),
		  "%s", api_str(row, "body_text"));
	cr_assert(strstr(api_str(row, "body_text"), "Tình trạng: đã quá hạn 1 ngày 2 giờ làm việc.\n"),
		  "%s", api_str(row, "body_text"));

	snprintf(item, sizeof(item), "assignment:%lld", (long long)asg_id);
	row = row_to(rows_of_item(item, 1), "email", "tuan.hm");
	cr_assert_str_eq(api_str(row, "subject"),
			 "[Nhiệm vụ sắp đến hạn] Phòng Hành chính - Tổ chức: Rà soát thủ tục");
	cr_assert(strstr(api_str(row, "body_text"), "Văn bản giao nhiệm vụ: 506/SNV-TT\n"), "%s",
		  api_str(row, "body_text"));
	cr_assert(strstr(api_str(row, "body_text"), "Tình trạng: còn 23 giờ làm việc.\n"), "%s",
		  api_str(row, "body_text"));
	char link[100];
	snprintf(link, sizeof(link), LINK_BASE "/assignments/%lld\n",
		 (long long)asg_id);
	cr_assert(strstr(api_str(row, "body_text"), link), "%s", api_str(row, "body_text"));
}

/* --- messages written for the instant they are read -------------------------------------- */

/* A case registered 15 minutes after its deadline: its `due` rule fires at once (catch-up),
 * and the message says it is overdue, not "lúc HH:MM hôm nay". */
Test(escalation_texts, case_registered_after_its_deadline)
{
	start(API_RTC_CALENDAR, NULL,
	      "cases = ( { id = \"due\"; when = \"due\"; notify = [\"head\", \"channel:hctc-group\"];"
	      " channels = [\"email\", \"chat\"]; } );",
	      NULL);
	const char *c = "000.00.21.H19-250101-0001";
	int64_t t0 = now_s();
	char want[300], due[64];

	create_case(c, t0 - 3600, t0 - 15 * 60);
	json_t *rows = rows_of_item("case:000.00.21.H19-250101-0001", 2);
	cr_assert_eq(json_array_size(rows), 2, "%s", json_dumps(rows, JSON_COMPACT));
	cr_assert_str_eq(api_str(row_to(rows, "email", "binh.lt"), "subject"),
			 "[QUÁ HẠN] Hồ sơ 000.00.21.H19-250101-0001 đã quá hạn 15 phút làm việc");
	snprintf(want, sizeof(want), "[QUÁ HẠN] Hồ sơ %s (Đăng ký thường trú) — Bộ phận Tư pháp - "
		 "Hộ tịch xã Tân Phú, cán bộ Lê Thị Bình — quá hạn 15 phút làm việc (hạn %s).", c,
		 instant(due, sizeof(due), t0 - 15 * 60, false));
	cr_assert_str_eq(api_str(row_to(rows, "chat", "hctc-group"), "subject"), want);
	/* the alert is the `due` rule's, as before: only the words changed */
	json_t *a = api_t_case_alerts(&t, c);
	cr_assert_eq(json_array_size(a), 1, "%s", json_dumps(a, JSON_COMPACT));
	api_t_expect_str(json_array_get(a, 0), "rule", "due");
}

/* A `due` message held outside office hours is read after the deadline: with office hours
 * ending at the deadline, the message written after it waits for the next period (tomorrow
 * 00:00) and says the case is overdue since the deadline — no working time has passed, so no
 * "0 phút", and no "hôm nay". The alert and its rows are those of the `due` rule. */
Test(escalation_texts, held_past_its_deadline)
{
	int64_t t0 = now_s(), local = t0 + ZONE, end = local / 60 * 60 - 60;
	char calendar[400], want[300], due[64];
	const char *c = "000.00.21.H19-250101-0002";

	if (local % 86400 < 3 * 60)
		cr_skip_test("too close to midnight for office hours that end before now");
	snprintf(calendar, sizeof(calendar),
		 "  timezone = \"Asia/Ho_Chi_Minh\";\n"
		 "  week = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\", \"sun\"];\n"
		 "  office_hours = [\"00:00-%02d:%02d\"];\n"
		 "  statutory_holidays = false;\n  include = [];\n",
		 (int)(end % 86400 / 3600), (int)(end % 3600 / 60));
	end -= ZONE;
	start(calendar, "hold_outside_office_hours = true;",
	      "cases = ( { id = \"due\"; when = \"due\"; notify = [\"head\", \"channel:hctc-group\"];"
	      " channels = [\"email\", \"chat\"]; } );",
	      NULL);
	create_case(c, end - 3600, end);
	json_t *rows = rows_of_item("case:000.00.21.H19-250101-0002", 2);
	cr_assert_eq(json_array_size(rows), 2, "%s", json_dumps(rows, JSON_COMPACT));
	int64_t tomorrow = (local / 86400 + 1) * 86400 - ZONE;
	json_t *mail = row_to(rows, "email", "binh.lt"), *chat = row_to(rows, "chat", "hctc-group");

	cr_assert_eq(api_parse_instant(api_str(mail, "not_before")), tomorrow, "%s",
		     json_dumps(mail, JSON_COMPACT));
	cr_assert_eq(api_parse_instant(api_str(chat, "not_before")), tomorrow);
	instant(due, sizeof(due), end, false);
	snprintf(want, sizeof(want), "[QUÁ HẠN] Hồ sơ %s đã quá hạn trả kết quả lúc %s", c, due);
	cr_assert_str_eq(api_str(mail, "subject"), want);
	snprintf(want, sizeof(want), "Tình trạng: QUÁ HẠN (hạn trả kết quả %s).\n", due);
	cr_assert(strstr(api_str(mail, "body_text"), want), "%s", api_str(mail, "body_text"));
	snprintf(want, sizeof(want), "[QUÁ HẠN] Hồ sơ %s (Đăng ký thường trú) — Bộ phận Tư pháp - "
		 "Hộ tịch xã Tân Phú, cán bộ Lê Thị Bình — đã quá hạn (hạn %s).", c, due);
	cr_assert_str_eq(api_str(chat, "subject"), want);
	json_t *a = api_t_case_alerts(&t, c);
	cr_assert_eq(json_array_size(a), 1, "%s", json_dumps(a, JSON_COMPACT));
	api_t_expect_str(json_array_get(a, 0), "rule", "due");
}
