/* store: SQLite access for the single writer on the loop thread (see store.h).
 *
 * DESIGN: the lock file is separate from the database because SQLite's own POSIX locks are
 * per process and dropped when any descriptor of the file closes; flock(2) on a file SQLite
 * never touches is independent of them. WAL with synchronous=FULL makes a returned COMMIT
 * durable across a power cut, except store_commit_unsynced's, which the caller syncs itself
 * (and cuts back with store_cut_wal when that fails); readers on other connections see
 * snapshots and never block the writer. */
#include "store.h"

#include "log.h"
#include "path.h"
#include "wal_vfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum stmt_id {
	STMT_UNIT_DEACTIVATE,
	STMT_UNIT_UPSERT,
	STMT_PERSON_DEACTIVATE,
	STMT_PERSON_UPSERT,
	STMT_PROCEDURE_DEACTIVATE,
	STMT_PROCEDURE_UPSERT,
	STMT_COUNT_ACTIVE,
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_SAVEPOINT,
	STMT_RELEASE,
	STMT_ROLLBACK_TO,
	STMT_CASE_GET,
	STMT_CASE_GET_ID,
	STMT_CASE_INSERT,
	STMT_CASE_UPDATE,
	STMT_CASE_LIST,
	STMT_CASE_LIST_UNIT,
	STMT_UNIT_SUBTREE,
	STMT_DOC_GET,
	STMT_DOC_NEXT_NO,
	STMT_DOC_INSERT,
	STMT_DOC_UPDATE,
	STMT_DOC_LIST,
	STMT_ASG_GET,
	STMT_ASG_INSERT,
	STMT_ASG_UPDATE,
	STMT_ASG_LIST,
	STMT_UNIT_BELOW,
	STMT_KPI_DUE_LATE,
	STMT_ASG_LATEST_CHILD,
	STMT_EVENT_APPEND,
	STMT_EVENT_LIST,
	STMT_EVENT_LAST_AT,
	STMT_WATCH_GET,
	STMT_WATCH_PUT,
	STMT_WATCH_DELETE,
	STMT_WATCH_DUE,
	STMT_WATCH_NEXT,
	STMT_ALERT_INSERT,
	STMT_ALERT_ACKED,
	STMT_ALERT_ACK,
	STMT_ALERT_LIST,
	STMT_ALERT_GET,
	STMT_OUTBOX_INSERT,
	STMT_OUTBOX_LIST,
	STMT_OUTBOX_OF_ALERT,
	STMT_OUTBOX_HELD,
	STMT_OUTBOX_DIGESTED,
	STMT_OUTBOX_HELD_RECIPIENTS,
	STMT_STATE_GET,
	STMT_STATE_PUT,
	STMT_OUTBOX_REQUEUE,
	STMT_OUTBOX_CLAIM_REST,
	STMT_OUTBOX_CLAIM,
	STMT_OUTBOX_NEXT_DUE,
	STMT_ATTEMPT_INSERT_MANY,
	STMT_OUTBOX_FINISH,
	STMT_OUTBOX_SENT_MANY,
	STMT_OUTBOX_RETRY,
	STMT_ATTEMPT_LIST,
	STMT_KPI_CASES,
	STMT_KPI_CASES_SCAN,
	STMT_KPI_CASES_UNIT,
	STMT_KPI_UNIT_COUNT,
	STMT_KPI_LATER,
	STMT_KPI_RATINGS,
	STMT_KPI_DOCUMENTS,
	STMT_KPI_ASSIGNMENTS,
	STMT_INSPECTION_INSERT,
	STMT_INSPECTION_LIST,
	STMT_KPI_INSPECTIONS,
	STMT_KPI_DUE,
	STMT_ASG_TREE,
	STMT_DIRECTIVE_LIST,
	STMT_NOTICE_GET,
	STMT_NOTICE_PUT,
	STMT_COUNTS,
	STMT_METRICS,
	STMT_MAX
};

#define CASE_COLUMNS                                                                           \
	"id, code, procedure, unit_id, handler_id, applicant, received_at, due_at, due_given, "   \
	"online, paid_online, digitized, status, outcome, late, paused_at, remaining, "          \
	"completed_at, ended_at, version, created_at, updated_at, create_hash, extended, "       \
	"paused_total, fee, rating, rated_at"
#define DOC_COLUMNS                                                                            \
	"id, book, year, incoming_no, symbol, doc_date, issuer, type, summary, urgency, "         \
	"confidentiality, received_at, due_at, lead_unit_id, status, done_at, version, "         \
	"created_at, updated_at"
/* Rows a statement of store_outbox_finish_many writes: a first one, then FINISH_MORE(the next)
 * for FINISH_BATCH - 1 more. */
#define FINISH_BATCH 16
#define FINISH_MORE4(x) x x x x
#define FINISH_MORE(x) FINISH_MORE4(x) FINISH_MORE4(x) FINISH_MORE4(x) x x x
#define ATTEMPT_ROW "(?,?,?,?,?,?,?)"
#define ATTEMPT_COLS 7

#define OUTBOX_COLUMNS                                                                         \
	"id, alert_id, channel, recipient, address, subject, body_text, body_html, status, "      \
	"not_before, created_at, attempts, next_attempt_at, last_error, facts, retried_attempts, "  \
	"retried_at"
/* ?1 is now, for the children's overdue count. */
#define ASG_COLUMNS                                                                            \
	"a.id, a.document_id, a.direction, a.parent_id, a.unit_id, a.role, a.assignee_id, "       \
	"a.title, a.due_at, a.status, a.done_at, a.version, a.created_at, a.updated_at, "        \
	"(SELECT count(*) FROM assignments c WHERE c.parent_id = a.id), "                         \
	"(SELECT count(*) FROM assignments c WHERE c.parent_id = a.id AND c.status = 'done'), "  \
	"(SELECT count(*) FROM assignments c WHERE c.parent_id = a.id AND c.status = 'open' "    \
	"AND c.due_at < ?1)"
/* The unit ?U and every unit below it. */
#define SUBTREE(param)                                                                         \
	"(WITH RECURSIVE sub(id) AS (SELECT " param " UNION ALL SELECT u.id FROM units u "       \
	"JOIN sub ON u.parent_id = sub.id) SELECT id FROM sub)"
/* Keyset pagination and the common filters: ?2 unit, ?3 status, ?4 now when overdue,
 * ?5 due_before, ?6 due_after, ?7 q, ?8/?9 cursor, ?10 limit. */
#define LIST_FILTERS(unit_col, due_col, id_col)                                                \
	" AND (?2 IS NULL OR " unit_col " IN " SUBTREE("?2") ")"                                 \
	" AND (?5 IS NULL OR " due_col " < ?5)"                                                   \
	" AND (?6 IS NULL OR " due_col " >= ?6)"                                                  \
	" AND (?8 IS NULL OR (" due_col ", " id_col ") > (?8, ?9))"
#define LIST_TAIL(unit_col, due_col, id_col)                                                   \
	LIST_FILTERS(unit_col, due_col, id_col)                                                   \
	" AND (?3 IS NULL OR status = ?3)"                                                        \
	" ORDER BY " due_col ", " id_col " LIMIT ?10"
/* ?1 = from, ?2 = end: the cases that matter to a period (received before its end, not
 * completed before its start, or due in it), or to any of several (the earliest start, the
 * latest end). Each row gives what the classification in C (kpi_classify) needs: the instants,
 * the paused_at of a case paused with time left (else NULL), and one small code of what does
 * not depend on the period: outcome {early, on_time, late, none} + 4 x late + 8 x flags
 * {online, with fee, paid online, digitised}. SQLite's GROUP BY sorts every row, which cost
 * four times the scan itself, and one pass can then count many periods (docs/kpi.md,
 * "Performance"). A deadline lies after its case's receipt (the API refuses others), so a
 * case due before the end was received before it. */
#define KPI_CASES(how)                                                                         \
	"SELECT unit_id, received_at, completed_at, due_at,"                                      \
	" CASE WHEN status = 'paused' AND remaining > 0 THEN paused_at END,"                      \
	" CASE outcome WHEN 'early' THEN 0 WHEN 'on_time' THEN 1 WHEN 'late' THEN 2"              \
	" ELSE 3 END + 4 * late"                                                                  \
	" + 8 * (online <> 'none') + 16 * (fee > 0) + 32 * paid_online + 64 * digitized"          \
	" FROM cases" how " WHERE received_at < ?2"                                               \
	" AND (completed_at IS NULL OR completed_at >= ?1 OR due_at >= ?1)"                       \
	" AND status <> 'withdrawn' AND status <> 'rejected'"
/* A prefix match that can use an index: s >= q and s < q followed by the last code point. */
#define PREFIX(col) "(" col " >= ?7 AND " col " < ?7 || char(1114111))"
/* The case list's filters but the unit, status, due range and cursor (bind_filter numbers). */
#define CASE_LIST_HEAD CASE_LIST_FROM("cases")
#define CASE_LIST_FROM(table)                                                                  \
	"SELECT " CASE_COLUMNS " FROM " table " WHERE ?1 IS NOT NULL"                           \
	" AND (?7 IS NULL OR " PREFIX("code") " OR " PREFIX("applicant") ")"                    \
	" AND (?13 IS NULL OR (status IN ('received', 'in_progress', 'paused') AND EXISTS "     \
	"(SELECT 1 FROM alerts WHERE item_kind = 'case' AND item_id = cases.id)))"
#define NO_DUE_LIMIT "9223372036854775807"

/* The listed cases of one status (STMT_CASE_LIST); live: the status counts for at risk (?13),
 * as in CASE_LIST_HEAD, said again as a constant term, which SQLite tests once, so that an arm
 * no row of which can pass reads nothing. A status that is not open has no overdue cases
 * (?4). An open one's overdue cases are those due before now (?4) and those rescheduled after
 * lateness (late = 1) and due after now, which CASE_LIST_OPEN_ARM reads from cases_rescheduled
 * (the planner, without statistics, would walk cases_status_due): the bound on due_at ends the
 * walk of cases_status_due at now, where a term "due_at < now OR late = 1" read every open case
 * not yet due from the table. */
#define CASE_LIST_ARM(status, overdue, live)                                                   \
	CASE_LIST_HEAD " AND status = '" status "' AND (?3 IS NULL OR ?3 = '" status "')"        \
	" AND " overdue " AND (?13 IS NULL OR " live ")"                                         \
	LIST_FILTERS("unit_id", "due_at", "id")
#define CASE_LIST_OPEN_ARM(status)                                                             \
	CASE_LIST_ARM(status, "due_at < ifnull(?4, " NO_DUE_LIMIT ")", "1")                       \
	" UNION ALL " CASE_LIST_FROM("cases INDEXED BY cases_rescheduled")                        \
	" AND status = '" status "' AND late = 1 AND due_at >= ?4"                                \
	" AND (?3 IS NULL OR ?3 = '" status "')" LIST_FILTERS("unit_id", "due_at", "id")

static const char *const stmt_sql[STMT_MAX] = {
	[STMT_UNIT_DEACTIVATE] = "UPDATE units SET active = 0, updated_at = ?1 WHERE active = 1",
	[STMT_UNIT_UPSERT] =
		"INSERT INTO units (id, name, level, parent_id, head_id, email, active, updated_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7) "
		"ON CONFLICT (id) DO UPDATE SET name = excluded.name, level = excluded.level, "
		"parent_id = excluded.parent_id, head_id = excluded.head_id, email = excluded.email, "
		"active = 1, updated_at = excluded.updated_at",
	[STMT_PERSON_DEACTIVATE] = "UPDATE people SET active = 0, updated_at = ?1 WHERE active = 1",
	[STMT_PERSON_UPSERT] =
		"INSERT INTO people (id, name, title, email, unit_id, active, updated_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6) "
		"ON CONFLICT (id) DO UPDATE SET name = excluded.name, title = excluded.title, "
		"email = excluded.email, unit_id = excluded.unit_id, active = 1, "
		"updated_at = excluded.updated_at",
	[STMT_PROCEDURE_DEACTIVATE] =
		"UPDATE procedures SET active = 0, updated_at = ?1 WHERE active = 1",
	[STMT_PROCEDURE_UPSERT] =
		"INSERT INTO procedures (code, name, days, on_resume, active, updated_at, "
		"extended_days, cutoff, level, agency) VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7, ?8, ?9) "
		"ON CONFLICT (code) DO UPDATE SET name = excluded.name, days = excluded.days, "
		"on_resume = excluded.on_resume, active = 1, updated_at = excluded.updated_at, "
		"extended_days = excluded.extended_days, cutoff = excluded.cutoff, "
		"level = excluded.level, agency = excluded.agency",
	[STMT_COUNT_ACTIVE] = "SELECT (SELECT count(*) FROM units WHERE active = 1), "
			      "(SELECT count(*) FROM people WHERE active = 1), "
			      "(SELECT count(*) FROM procedures WHERE active = 1)",
	[STMT_BEGIN] = "BEGIN IMMEDIATE",
	[STMT_COMMIT] = "COMMIT",
	[STMT_ROLLBACK] = "ROLLBACK",
	[STMT_SAVEPOINT] = "SAVEPOINT request",
	[STMT_RELEASE] = "RELEASE request",
	[STMT_ROLLBACK_TO] = "ROLLBACK TO request",
	[STMT_CASE_GET] = "SELECT " CASE_COLUMNS " FROM cases WHERE code = ?1",
	[STMT_CASE_GET_ID] = "SELECT " CASE_COLUMNS " FROM cases WHERE id = ?1",
	[STMT_CASE_INSERT] =
		"INSERT INTO cases (code, procedure, unit_id, handler_id, applicant, received_at, "
		"due_at, due_given, online, paid_online, digitized, status, outcome, late, paused_at, "
		"remaining, completed_at, ended_at, version, created_at, updated_at, create_hash, "
		"extended, paused_total, fee, rating, rated_at) "
		"VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
		"?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28)",
	[STMT_CASE_UPDATE] =
		"UPDATE cases SET unit_id = ?4, handler_id = ?5, applicant = ?6, received_at = ?7, "
		"due_at = ?8, due_given = ?9, online = ?10, paid_online = ?11, digitized = ?12, "
		"status = ?13, outcome = ?14, late = ?15, paused_at = ?16, remaining = ?17, "
		"completed_at = ?18, ended_at = ?19, version = ?20, updated_at = ?22, extended = ?24, "
		"paused_total = ?25, fee = ?26, rating = ?27, rated_at = ?28 WHERE id = ?1",
	/* DESIGN: no index on due_at alone (0013: each new case paid an insert at a random place
	 * of it, and its pages at every commit, for this statement only). Each status walks its
	 * part of cases_status_due (status, due_at, id, unit_id) in due order and SQLite merges
	 * them ("MERGE (UNION ALL)": no sort), stopping at the limit. A status filter (?3) that
	 * is not an arm's own status is a constant term: that arm reads nothing. Every status of
	 * the CHECK on cases.status must have its arm. */
	[STMT_CASE_LIST] = CASE_LIST_OPEN_ARM("received")
		" UNION ALL " CASE_LIST_OPEN_ARM("in_progress")
		" UNION ALL " CASE_LIST_ARM("paused", "?4 IS NULL", "1")
		" UNION ALL " CASE_LIST_ARM("completed", "?4 IS NULL", "0")
		" UNION ALL " CASE_LIST_ARM("returned", "?4 IS NULL", "0")
		" UNION ALL " CASE_LIST_ARM("withdrawn", "?4 IS NULL", "0")
		" UNION ALL " CASE_LIST_ARM("rejected", "?4 IS NULL", "0")
		" ORDER BY due_at, id LIMIT ?10",
	/* One unit, not its subtree: ?2 = unit_id walks cases_unit_due (unit_id, due_at, id) in
	 * order from the key (?8, ?9), which is always bound, so that a merge can go on from it.
	 * Never for overdue (?4), which would read the unit's whole history: store_case_list
	 * lists those by STMT_CASE_LIST. */
	[STMT_CASE_LIST_UNIT] = CASE_LIST_HEAD " AND unit_id = ?2 AND ?4 IS NULL"
		" AND (?3 IS NULL OR status = ?3)"
		" AND (?5 IS NULL OR due_at < ?5)"
		" AND (?6 IS NULL OR due_at >= ?6)"
		" AND (due_at, id) > (?8, ?9)"
		" ORDER BY due_at, id LIMIT ?10",
	[STMT_UNIT_SUBTREE] = "SELECT id FROM " SUBTREE("?1") " LIMIT ?2",
	[STMT_DOC_GET] = "SELECT " DOC_COLUMNS " FROM documents WHERE id = ?1",
	[STMT_DOC_NEXT_NO] = "SELECT coalesce(max(incoming_no), 0) + 1 FROM documents "
			     "WHERE book = ?1 AND year = ?2",
	[STMT_DOC_INSERT] =
		"INSERT INTO documents (book, year, incoming_no, symbol, doc_date, issuer, type, "
		"summary, urgency, confidentiality, received_at, due_at, lead_unit_id, status, done_at, "
		"version, created_at, updated_at) VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
		"?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
	[STMT_DOC_UPDATE] =
		"UPDATE documents SET due_at = ?13, lead_unit_id = ?14, status = ?15, done_at = ?16, "
		"version = ?17, updated_at = ?19 WHERE id = ?1",
	[STMT_DOC_LIST] =
		"SELECT " DOC_COLUMNS " FROM documents WHERE ?1 IS NOT NULL"
		" AND (?4 IS NULL OR (status <> 'done' AND due_at < ?4))"
		" AND (?7 IS NULL OR " PREFIX("symbol") ")"
		LIST_TAIL("lead_unit_id", "due_at", "id"),
	[STMT_ASG_GET] = "SELECT " ASG_COLUMNS " FROM assignments a WHERE a.id = ?2",
	[STMT_ASG_INSERT] =
		"INSERT INTO assignments (document_id, direction, parent_id, unit_id, role, "
		"assignee_id, title, due_at, status, done_at, version, created_at, updated_at) "
		"VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
	[STMT_ASG_UPDATE] =
		"UPDATE assignments SET assignee_id = ?7, due_at = ?9, status = ?10, done_at = ?11, "
		"version = ?12, updated_at = ?14 WHERE id = ?1",
	[STMT_ASG_LIST] =
		"SELECT " ASG_COLUMNS " FROM assignments a WHERE 1"
		" AND (?4 IS NULL OR (a.status = 'open' AND a.due_at < ?4))"
		" AND (?11 IS NULL OR (a.document_id = ?11 AND a.parent_id IS NULL))"
		" AND (?12 IS NULL OR a.parent_id = ?12)"
		LIST_TAIL("a.unit_id", "a.due_at", "a.id"),
	[STMT_ASG_LATEST_CHILD] =
		"SELECT id, due_at FROM assignments WHERE parent_id = ?1 AND status = 'open' "
		"ORDER BY due_at DESC, id LIMIT 1",
	[STMT_UNIT_BELOW] =
		"WITH RECURSIVE up(id) AS (SELECT parent_id FROM units WHERE id = ?1 UNION "
		"SELECT u.parent_id FROM units u JOIN up ON u.id = up.id WHERE u.parent_id IS NOT NULL) "
		"SELECT count(*) FROM up WHERE id = ?2",
	[STMT_EVENT_APPEND] =
		"INSERT INTO events (item_kind, item_id, type, at, actor, data, due_at, recorded_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[STMT_EVENT_LAST_AT] =
		"SELECT max(at) FROM events WHERE item_kind = ?1 AND item_id = ?2"
		" AND type NOT IN ('note', 'rate')",
	[STMT_EVENT_LIST] =
		"SELECT id, item_kind, item_id, type, at, actor, data, due_at, recorded_at "
		"FROM events WHERE item_kind = ?1 AND item_id = ?2 ORDER BY id",
	[STMT_WATCH_GET] = "SELECT due_at, next_fire_at, checked_until FROM watch "
			   "WHERE item_kind = ?1 AND item_id = ?2",
	[STMT_WATCH_PUT] =
		"INSERT INTO watch (item_kind, item_id, due_at, next_fire_at, checked_until) "
		"VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (item_kind, item_id) DO UPDATE SET "
		"due_at = excluded.due_at, next_fire_at = excluded.next_fire_at, "
		"checked_until = excluded.checked_until",
	[STMT_WATCH_DELETE] = "DELETE FROM watch WHERE item_kind = ?1 AND item_id = ?2",
	[STMT_WATCH_DUE] = "SELECT item_kind, item_id, due_at, next_fire_at, checked_until FROM watch "
			   "WHERE next_fire_at <= ?1 ORDER BY next_fire_at LIMIT ?2",
	[STMT_WATCH_NEXT] = "SELECT min(next_fire_at) FROM watch WHERE next_fire_at IS NOT NULL",
	[STMT_ALERT_INSERT] =
		"INSERT INTO alerts (item_kind, item_id, rule_id, due_at, occurrence, fire_at, fired_at, "
		"unit_id, urgent) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT DO NOTHING",
	[STMT_ALERT_ACKED] =
		"SELECT count(*) FROM alerts WHERE item_kind = ?1 AND item_id = ?2 AND rule_id = ?3 "
		"AND due_at = ?4 AND acknowledged_at IS NOT NULL",
	[STMT_ALERT_ACK] = "UPDATE alerts SET acknowledged_at = ?2, acknowledged_by = ?3, "
			   "acknowledged_note = ?4 WHERE id = ?1 AND acknowledged_at IS NULL",
	[STMT_ALERT_LIST] =
		"SELECT a.id, a.item_kind, a.item_id, a.rule_id, a.due_at, a.occurrence, a.fire_at, "
		"a.fired_at, a.unit_id, a.urgent, a.acknowledged_at, a.acknowledged_by, "
		"CASE a.item_kind WHEN 'case' THEN (SELECT code FROM cases WHERE id = a.item_id) "
		"ELSE CAST(a.item_id AS TEXT) END, a.acknowledged_note FROM alerts a "
		"WHERE (?1 IS NULL OR (a.item_kind = ?1 AND a.item_id = ?2))"
		" AND (?3 IS NULL OR a.unit_id IN " SUBTREE("?3") ")"
		" AND (?4 IS NULL OR a.rule_id = ?4) AND (?5 IS NULL OR a.fired_at >= ?5)"
		" AND (?6 IS NULL OR (a.acknowledged_at IS NOT NULL) = ?6) AND a.id > ?7"
		" ORDER BY a.id LIMIT ?8",
	[STMT_ALERT_GET] =
		"SELECT a.id, a.item_kind, a.item_id, a.rule_id, a.due_at, a.occurrence, a.fire_at, "
		"a.fired_at, a.unit_id, a.urgent, a.acknowledged_at, a.acknowledged_by, "
		"CASE a.item_kind WHEN 'case' THEN (SELECT code FROM cases WHERE id = a.item_id) "
		"ELSE CAST(a.item_id AS TEXT) END, a.acknowledged_note FROM alerts a WHERE a.id = ?1",
	[STMT_OUTBOX_INSERT] =
		"INSERT INTO outbox (alert_id, channel, recipient, address, subject, body_text, "
		"body_html, status, not_before, created_at, facts) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[STMT_OUTBOX_LIST] =
		"SELECT " OUTBOX_COLUMNS " FROM outbox WHERE (?1 IS NULL OR status = ?1) "
		"AND (?2 IS NULL OR channel = ?2) AND (?3 IS NULL OR recipient = ?3) AND id > ?4 "
		"ORDER BY id LIMIT ?5",
	[STMT_OUTBOX_OF_ALERT] =
		"SELECT " OUTBOX_COLUMNS " FROM outbox WHERE alert_id = ?1 ORDER BY id LIMIT ?2",
	[STMT_OUTBOX_HELD] =
		"SELECT " OUTBOX_COLUMNS " FROM outbox WHERE recipient = ?1 AND status = 'held' ORDER BY id",
	[STMT_OUTBOX_DIGESTED] = "UPDATE outbox SET status = 'digested' "
				 "WHERE recipient = ?1 AND status = 'held' AND id <= ?2",
	[STMT_OUTBOX_HELD_RECIPIENTS] =
		"SELECT DISTINCT recipient FROM outbox WHERE status = 'held' ORDER BY recipient",
	[STMT_OUTBOX_REQUEUE] = "UPDATE outbox SET status = 'pending' WHERE status = 'sending'",
	/* The claim is a read (the sender keeps what it claims in memory and says what to leave
	 * out: ?4, a JSON array of ids, and every row up to (?5, ?6) in outbox_due's order), in
	 * two statements, each seeking in outbox_due straight to its first row: a single `(due, id) > (?5, ?6)` is not used to seek on an expression's index, a
	 * scan from `due >= ?5` steps over every row claimed in that second (all of a backlog),
	 * and a UNION ALL of both costs a third more a row. First the rest of second ?5: */
	[STMT_OUTBOX_CLAIM_REST] =
		"SELECT " OUTBOX_COLUMNS " FROM outbox WHERE status = 'pending' "
		"AND coalesce(next_attempt_at, not_before) = ?5 AND id > ?6 "
		"AND coalesce(next_attempt_at, not_before) <= ?1 AND (?3 OR channel <> 'email') "
		"AND id NOT IN (SELECT value FROM json_each(?4)) ORDER BY id LIMIT ?2",
	/* then what comes after it. */
	[STMT_OUTBOX_CLAIM] =
		"SELECT " OUTBOX_COLUMNS " FROM outbox WHERE status = 'pending' "
		"AND coalesce(next_attempt_at, not_before) > ?5 "
		"AND coalesce(next_attempt_at, not_before) <= ?1 AND (?3 OR channel <> 'email') "
		"AND id NOT IN (SELECT value FROM json_each(?4)) "
		"ORDER BY coalesce(next_attempt_at, not_before), id LIMIT ?2",
	[STMT_OUTBOX_NEXT_DUE] =
		"SELECT min(coalesce(next_attempt_at, not_before)) FROM outbox WHERE status = 'pending' "
		"AND (?1 OR channel <> 'email') AND coalesce(next_attempt_at, not_before) > ?2",
	/* A turn's outcomes, FINISH_BATCH rows a statement (unused rows bound NULL): SQLite's
	 * cost of a statement (its cursors, the transaction and halt opcodes, the reset) is
	 * paid once for them, about 8 000 instructions less a message. */
	[STMT_ATTEMPT_INSERT_MANY] =
		"INSERT INTO delivery_attempts (outbox_id, attempt, started_at, finished_at, outcome, "
		"curl_code, reply) SELECT * FROM (VALUES " ATTEMPT_ROW
		FINISH_MORE("," ATTEMPT_ROW) ") WHERE column1 IS NOT NULL",
	[STMT_OUTBOX_SENT_MANY] =
		"UPDATE outbox SET status = 'sent', attempts = attempts + 1, "
		"next_attempt_at = NULL, last_error = NULL, sent_at = ?1 "
		"WHERE id IN (?" FINISH_MORE(",?") ")",
	[STMT_OUTBOX_FINISH] =
		"UPDATE outbox SET status = ?2, attempts = attempts + 1, next_attempt_at = ?3, "
		"last_error = ?4, sent_at = CASE ?2 WHEN 'sent' THEN ?5 ELSE sent_at END WHERE id = ?1",
	[STMT_OUTBOX_RETRY] = "UPDATE outbox SET status = 'pending', retried_attempts = attempts, "
			      "retried_at = ?2, next_attempt_at = ?2, not_before = min(not_before, ?2) "
			      "WHERE id = ?1 AND status = 'dead'",
	[STMT_ATTEMPT_LIST] = "SELECT outbox_id, attempt, started_at, finished_at, outcome, curl_code, "
			      "reply FROM delivery_attempts WHERE outbox_id = ?1 ORDER BY attempt",
	[STMT_STATE_GET] = "SELECT value FROM scheduler_state WHERE key = ?1",
	[STMT_STATE_PUT] = "INSERT INTO scheduler_state (key, value) VALUES (?1, ?2) "
			   "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
	[STMT_KPI_CASES] = KPI_CASES(""),
	/* The same read in table order, without the index's lookup of each row: what a period
	 * ending near now wants, since the index would then visit almost every case as well. */
	[STMT_KPI_CASES_SCAN] = KPI_CASES(" NOT INDEXED"),
	/* The same for one unit (?3), through its index: what a small subtree wants. */
	[STMT_KPI_CASES_UNIT] = KPI_CASES(" INDEXED BY cases_unit_due") " AND unit_id = ?3",
	/* ?1 = a unit, ?2 = a bound: its cases, counted up to the bound. */
	[STMT_KPI_UNIT_COUNT] = "SELECT count(*) FROM (SELECT 1 FROM cases WHERE unit_id = ?1"
				" LIMIT ?2)",
	/* ?1 = a pass's end: how many cases were received at or after it, counted up to a
	 * quarter of the highest id (the cases there are, give or take); and that id. */
	[STMT_KPI_LATER] =
		"SELECT (SELECT count(*) FROM (SELECT 1 FROM cases WHERE received_at >= ?1"
		" LIMIT (SELECT coalesce(max(id), 0) FROM cases) / 4 + 1)),"
		" (SELECT coalesce(max(id), 0) FROM cases)",
	/* Counted per unit by store_kpi_ratings, for the same reason. */
	[STMT_KPI_RATINGS] =
		"SELECT unit_id, rating >= ?3 FROM cases WHERE rated_at >= ?1 AND rated_at < ?2",
	[STMT_KPI_DOCUMENTS] =
		"SELECT lead_unit_id, sum(due_at >= ?1),"
		" sum(due_at >= ?1 AND done_at IS NOT NULL AND done_at < ?2 AND done_at <= due_at),"
		" sum(due_at >= ?1 AND done_at IS NOT NULL AND done_at < ?2 AND done_at > due_at),"
		" sum(done_at IS NULL OR done_at >= ?2)"
		" FROM documents WHERE lead_unit_id IS NOT NULL AND due_at < ?2"
		" AND (due_at >= ?1 OR done_at IS NULL OR done_at >= ?2) GROUP BY lead_unit_id",
	[STMT_KPI_ASSIGNMENTS] =
		"SELECT unit_id, sum(due_at >= ?1),"
		" sum(due_at >= ?1 AND done_at IS NOT NULL AND done_at < ?2 AND done_at <= due_at),"
		" sum(due_at >= ?1 AND done_at IS NOT NULL AND done_at < ?2 AND done_at > due_at),"
		" sum(done_at IS NULL OR done_at >= ?2)"
		" FROM assignments WHERE due_at < ?2"
		" AND (due_at >= ?1 OR done_at IS NULL OR done_at >= ?2) GROUP BY unit_id",
	[STMT_INSPECTION_INSERT] =
		"INSERT INTO inspections (unit_id, inspected_unit_id, on_date, note, actor,"
		" created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[STMT_INSPECTION_LIST] =
		"SELECT id, unit_id, inspected_unit_id, on_date, note, actor, created_at"
		" FROM inspections WHERE (?1 IS NULL OR unit_id = ?1) AND on_date >= ?2"
		" AND on_date <= ?3 AND id > ?4 ORDER BY id LIMIT ?5",
	[STMT_KPI_INSPECTIONS] =
		"SELECT DISTINCT unit_id, inspected_unit_id FROM inspections"
		" WHERE on_date >= ?1 AND on_date <= ?2",
	/* The status index gives the rows in due order: the walk stops at the limit, however
	 * few of them the subtree holds (the generic list's optional filters cannot use it). */
	[STMT_KPI_DUE] =
		"SELECT " CASE_COLUMNS " FROM cases WHERE status = ?1 AND due_at >= ?2"
		" AND due_at < ?3 AND unit_id IN " SUBTREE("?4") " AND (?6 IS NULL OR late = ?6)"
		" ORDER BY due_at, id LIMIT ?5",
	/* The same of the rescheduled cases alone, few: from their partial index. */
	[STMT_KPI_DUE_LATE] =
		"SELECT " CASE_COLUMNS " FROM cases INDEXED BY cases_rescheduled WHERE status = ?1"
		" AND late = 1 AND due_at >= ?2 AND due_at < ?3 AND unit_id IN " SUBTREE("?4")
		" ORDER BY due_at, id LIMIT ?5",
	/* Taking the deepest row first off the queue makes the walk depth first; siblings come
	 * by id. The columns ride along so that no join reorders the rows afterwards. */
	[STMT_ASG_TREE] =
		"WITH RECURSIVE t(id, parent_id, depth, unit_id, done, due_at, done_at) AS ("
		" SELECT id, parent_id, 1, unit_id, status = 'done', due_at, done_at"
		" FROM assignments WHERE parent_id = ?1"
		" UNION ALL SELECT a.id, a.parent_id, t.depth + 1, a.unit_id, a.status = 'done',"
		" a.due_at, a.done_at FROM t JOIN assignments a ON a.parent_id = t.id"
		" ORDER BY 3 DESC, 1)"
		" SELECT id, parent_id, depth, unit_id, done, due_at, done_at FROM t",
	[STMT_DIRECTIVE_LIST] =
		"SELECT " ASG_COLUMNS " FROM assignments a WHERE a.parent_id IS NULL"
		" AND a.created_at >= ?2 AND a.created_at < ?3"
		" AND (?1 IS NULL OR a.unit_id IN " SUBTREE("?1") ")"
		" ORDER BY a.created_at, a.id LIMIT ?4",
	[STMT_NOTICE_GET] =
		"SELECT 1 FROM kpi_notices WHERE kind = ?1 AND unit_id = ?2 AND week = ?3",
	[STMT_COUNTS] =
		"SELECT (SELECT count(*) FROM cases"
		"  WHERE status IN ('received', 'in_progress', 'paused')),"
		" (SELECT count(*) FROM documents WHERE status <> 'done'),"
		" (SELECT count(*) FROM assignments WHERE status = 'open'),"
		" (SELECT count(*) FROM cases"
		"  WHERE status IN ('received', 'in_progress') AND due_at < ?1)"
		" + (SELECT count(*) FROM cases WHERE late = 1"
		"  AND status IN ('received', 'in_progress') AND due_at >= ?1),"
		" (SELECT count(*) FROM documents WHERE status <> 'done' AND due_at < ?1),"
		" (SELECT count(*) FROM assignments WHERE status = 'open' AND due_at < ?1),"
		" (SELECT count(*) FROM cases WHERE status IN ('received', 'in_progress', 'paused')"
		"  AND due_at >= ?1 AND late = 0 AND EXISTS (SELECT 1 FROM alerts"
		"  WHERE item_kind = 'case' AND item_id = cases.id)),"
		/* One count per status: each is a search of a partial index (0012). */
		" (SELECT count(*) FROM outbox WHERE status = 'pending')"
		"  + (SELECT count(*) FROM outbox WHERE status = 'held')"
		"  + (SELECT count(*) FROM outbox WHERE status = 'sending'),"
		" (SELECT count(*) FROM outbox WHERE status = 'dead')",
	[STMT_NOTICE_PUT] =
		"INSERT OR IGNORE INTO kpi_notices (kind, unit_id, week, sent_at)"
		" VALUES (?1, ?2, ?3, ?4)",
	/* ?1 = now. One statement, so that every family comes from one snapshot; the first
	 * column is enum store_metric, then up to three labels and the count. Open, overdue and
	 * at risk mean what they mean in STMT_COUNTS: a rescheduled case (late = 1) stays
	 * overdue, never at risk, found through the small partial index cases_rescheduled. */
	[STMT_METRICS] =
		"SELECT 0, 'case', unit_id, status, count(*) FROM cases"
		" WHERE status IN ('received', 'in_progress', 'paused') GROUP BY unit_id, status"
		" UNION ALL SELECT 0, 'document', lead_unit_id, status, count(*) FROM documents"
		" WHERE status <> 'done' GROUP BY lead_unit_id, status"
		" UNION ALL SELECT 0, 'assignment', unit_id, 'open', count(*) FROM assignments"
		" WHERE status = 'open' GROUP BY unit_id"
		" UNION ALL SELECT 1, 'case', unit_id, NULL, count(*) FROM"
		" (SELECT unit_id FROM cases WHERE status IN ('received', 'in_progress')"
		" AND due_at < ?1 UNION ALL SELECT unit_id FROM cases WHERE late = 1"
		" AND status IN ('received', 'in_progress') AND due_at >= ?1) GROUP BY unit_id"
		" UNION ALL SELECT 1, 'document', lead_unit_id, NULL, count(*) FROM documents"
		" WHERE status <> 'done' AND due_at < ?1 GROUP BY lead_unit_id"
		" UNION ALL SELECT 1, 'assignment', unit_id, NULL, count(*) FROM assignments"
		" WHERE status = 'open' AND due_at < ?1 GROUP BY unit_id"
		" UNION ALL SELECT 2, unit_id, NULL, NULL, count(*) FROM cases"
		" WHERE status IN ('received', 'in_progress', 'paused') AND due_at >= ?1"
		" AND late = 0"
		" AND EXISTS (SELECT 1 FROM alerts WHERE item_kind = 'case' AND item_id = cases.id)"
		" GROUP BY unit_id"
		" UNION ALL SELECT 3, rule_id, NULL, NULL, count(*) FROM alerts GROUP BY rule_id"
		" UNION ALL SELECT 4, channel, status, NULL, count(*) FROM outbox"
		" GROUP BY channel, status"
		" UNION ALL SELECT 5, o.channel, a.outcome, NULL, count(*) FROM delivery_attempts a"
		" JOIN outbox o ON o.id = a.outbox_id GROUP BY o.channel, a.outcome",
};

/* Checkpoints on a thread and a connection of their own (store_start_checkpointer). */
struct checkpointer {
	sqlite3 *db;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int frames;        /* a checkpoint is due once the WAL holds this many frames */
	bool due, stop;    /* under lock */
	bool failing;      /* the thread's own: the last checkpoint failed (logged once) */
};

struct store {
	sqlite3 *db;
	char *path;
	int lock_fd;
	int64_t busy_timeout_ms; /* until store_enter_loop */
	sqlite3_stmt *stmt[STMT_MAX];
	struct checkpointer *checkpointer;
	/* Where the last commit left the WAL, and how much of it is known to be on the disk
	 * (synced, or there before the store opened): store_commit_unsynced, store_cut_wal. */
	struct store_wal_mark wal_end, wal_durable;
	bool wal_written; /* the hook ran since the COMMIT began: it wrote frames */
	/* A synced commit failed in its I/O: the kernel reports a write-back error once to each
	 * descriptor, so a later sync of SQLite's that succeeds no longer vouches for the pages
	 * written before (only the sync thread's own descriptor, which has not seen it, does). */
	bool sync_failed;
	/* The -shm file, read for the WAL's state. Open from store_open until the connections are
	 * closed: closing any descriptor of a file drops every POSIX lock the process holds on it,
	 * SQLite's included, and another process would then take the wal-index for its own. */
	int shm_fd;
	int64_t page_size;
	/* The owner of a transaction left open across loop turns (store_hold), or NULL. */
	void (*release)(void *arg);
	void *release_arg;
};

static enum store_status status_of(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return STORE_OK;
	case SQLITE_CONSTRAINT:
		return STORE_CONFLICT;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return STORE_BUSY;
	case SQLITE_FULL:
		return STORE_FULL;
	default:
		return STORE_ERROR;
	}
}

static enum store_status db_error(struct store *st, int rc, struct err *err, const char *what)
{
	if ((rc & 0xff) == SQLITE_FULL)
		err_set(err, NULL, "%s: the database is full (the disk, or database.max_size_mb); "
			"nothing of it was saved", what);
	else
		err_set(err, NULL, "%s: %s", what,
			st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
	return status_of(rc);
}

static int take_lock(struct store *st, const char *path, enum store_status *status,
		     struct err *err)
{
	char lock_path[4200];

	snprintf(lock_path, sizeof(lock_path), "%s.lock", path);
	st->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (st->lock_fd < 0) {
		*status = STORE_ERROR;
		return err_set(err, "database.path", "cannot open lock file %s: %s", lock_path,
			       strerror(errno));
	}
	if (flock(st->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		*status = errno == EWOULDBLOCK ? STORE_LOCKED : STORE_ERROR;
		return err_set(err, "database.path",
			       *status == STORE_LOCKED
				       ? "database %s is in use by another dunghand (lock %s is held)"
				       : "cannot lock database %s: %s",
			       path, *status == STORE_LOCKED ? lock_path : strerror(errno));
	}
	return 0;
}

static int exec_sql(struct store *st, const char *sql, struct err *err, const char *what)
{
	char *msg = NULL;
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		err_set(err, NULL, "%s: %s", what, msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return rc;
	}
	return SQLITE_OK;
}

static int read_user_version(struct store *st, int *version)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL);

	*version = 0;

	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		*version = sqlite3_column_int(s, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	return rc;
}

/* Each migration runs in its own transaction together with its user_version bump, so a
 * failing one leaves the database at the version before it. */
static enum store_status migrate(struct store *st, const struct migration *list, size_t n,
				 struct err *err)
{
	char sql[64];
	int version, rc;

	if ((rc = read_user_version(st, &version)) != SQLITE_OK)
		return db_error(st, rc, err, "cannot read the schema version");
	if (version < 0 || (size_t)version > n) {
		err_set(err, "database.path",
			"the database has schema version %d but this dunghand knows only versions up "
			"to %zu: it was written by a newer release; upgrade dunghand or restore a "
			"backup", version, n);
		return STORE_TOO_NEW;
	}
	for (size_t i = (size_t)version; i < n; i++) {
		char what[200];

		snprintf(what, sizeof(what), "migration %s failed", list[i].name);
		if ((rc = exec_sql(st, "BEGIN IMMEDIATE", err, what)) != SQLITE_OK)
			return status_of(rc);
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %zu", i + 1);
		if (exec_sql(st, list[i].sql, err, what) != SQLITE_OK ||
		    exec_sql(st, sql, err, what) != SQLITE_OK ||
		    exec_sql(st, "COMMIT", err, what) != SQLITE_OK) {
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			return STORE_ERROR;
		}
	}
	return STORE_OK;
}

void store_global_init(void)
{
	/* SQLite counts every allocation of the process under a global mutex unless told not to:
	 * about 50 allocations a new case, 6 600 instructions (docs/performance.md, "Ingest").
	 * Nothing here reads those counts. The call fails harmlessly once SQLite is initialised. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static int on_wal_commit(void *arg, sqlite3 *db, const char *name, int frames);
static enum store_status note_wal_on_disk(struct store *st, struct err *err);
static int sync_path(const char *path, struct err *err);

struct store *store_open(const char *path, const struct store_options *opts,
			 enum store_status *status, struct err *err)
{
	const struct migration *list = opts && opts->migrations ? opts->migrations : migrations;
	size_t n = opts && opts->migrations ? opts->nmigrations : migrations_count;
	int64_t busy = opts ? opts->busy_timeout_ms : 5000;
	struct store *st = calloc(1, sizeof(*st));
	enum store_status s = STORE_ERROR;
	char pragma[64];
	int fd, rc;

	err_clear(err);
	if (!st) {
		err_set(err, NULL, "out of memory");
		goto fail;
	}
	st->lock_fd = st->shm_fd = -1;
	if (!(st->path = strdup(path))) {
		err_set(err, NULL, "out of memory");
		goto fail;
	}
	if (path_make_parent_dirs(path, 0750, err) != 0) {
		if (err)
			snprintf(err->field, sizeof(err->field), "database.path");
		goto fail;
	}
	if (take_lock(st, path, &s, err) != 0)
		goto fail;
	/* Create the file ourselves so that it, and the -wal and -shm files SQLite derives
	 * from it, are private to the daemon's user. */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_set(err, "database.path", "cannot open %s: %s", path, strerror(errno));
		s = STORE_ERROR;
		goto fail;
	}
	close(fd);
	if (wal_vfs_register(err) != 0)
		goto fail;
	rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			     WAL_VFS_NAME);
	if (rc != SQLITE_OK) {
		s = db_error(st, rc, err, "cannot open the database");
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	snprintf(pragma, sizeof(pragma), "PRAGMA busy_timeout = %lld", (long long)busy);
	if ((rc = exec_sql(st, pragma, err, "cannot configure the database")) != SQLITE_OK ||
	    (rc = exec_sql(st, "PRAGMA journal_mode = WAL", err,
			   "cannot switch the database to WAL")) != SQLITE_OK ||
	    (rc = exec_sql(st, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; "
			   /* 8 MiB of page cache: memory must not grow with the data, and a batch
			    * of 10 000 cases still fits without spilling mid-transaction. The
			    * statement journal of the nested savepoints (a line's inside a batch's)
			    * goes to a temp file: in memory, releasing each line's savepoint walked
			    * the whole journal — quadratic in the batch (docs/performance.md). */
			   "PRAGMA cache_size = -8192; PRAGMA temp_store = FILE; "
			   /* The WAL file is cut back to 64 MiB when it starts again, whatever a
			    * long report or a burst of writes made it grow to. */
			   "PRAGMA journal_size_limit = 67108864", err,
			   "cannot configure the database")) != SQLITE_OK) {
		s = status_of(rc);
		goto fail;
	}
	if ((s = migrate(st, list, n, err)) != STORE_OK)
		goto fail;
	if ((s = note_wal_on_disk(st, err)) != STORE_OK)
		goto fail;
	st->busy_timeout_ms = busy;
	sqlite3_wal_hook(st->db, on_wal_commit, st);
	for (int i = 0; i < STMT_MAX; i++) {
		if (!stmt_sql[i])
			continue;
		rc = sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					&st->stmt[i], NULL);
		/* A test may open with its own short migration list: statements on tables it
		 * lacks are simply not available. */
		if (rc != SQLITE_OK && list == migrations) {
			s = db_error(st, rc, err, "cannot prepare a statement");
			goto fail;
		}
	}
	*status = STORE_OK;
	return st;
fail:
	*status = s;
	store_close(st);
	return NULL;
}

struct store *store_open_readonly(const char *path, enum store_status *status, struct err *err)
{
	struct store *st = calloc(1, sizeof(*st));
	enum store_status s = STORE_ERROR;
	int version = -1, rc;

	err_clear(err);
	if (!st) {
		err_set(err, NULL, "out of memory");
		goto fail;
	}
	st->lock_fd = st->shm_fd = -1;
	rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		s = db_error(st, rc, err, "cannot open the database");
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	if ((rc = exec_sql(st, "PRAGMA busy_timeout = 5000; PRAGMA query_only = ON; "
			   "PRAGMA cache_size = -8192; PRAGMA temp_store = FILE", err,
			   "cannot configure the database")) != SQLITE_OK) {
		s = status_of(rc);
		goto fail;
	}
	if (read_user_version(st, &version) != SQLITE_OK) {
		s = db_error(st, SQLITE_ERROR, err, "cannot read the schema version");
		goto fail;
	}
	if (version != (int)migrations_count) {
		s = version > (int)migrations_count ? STORE_TOO_NEW : STORE_ERROR;
		err_set(err, "database.path",
			"%s has schema version %d, this dunghan uses %d%s", path, version,
			(int)migrations_count,
			version > (int)migrations_count ? ": upgrade dunghan"
							: ": start dunghand once to migrate it");
		goto fail;
	}
	for (int i = 0; i < STMT_MAX; i++) {
		if (!stmt_sql[i])
			continue;
		rc = sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					&st->stmt[i], NULL);
		if (rc != SQLITE_OK) {
			s = db_error(st, rc, err, "cannot prepare a statement");
			goto fail;
		}
	}
	*status = STORE_OK;
	return st;
fail:
	*status = s;
	store_close(st);
	return NULL;
}

static void stop_checkpointer(struct store *st);

void store_close(struct store *st)
{
	if (!st)
		return;
	stop_checkpointer(st);
	for (int i = 0; i < STMT_MAX; i++)
		sqlite3_finalize(st->stmt[i]);
	if (st->db)
		sqlite3_close_v2(st->db);
	if (st->shm_fd >= 0)
		close(st->shm_fd);
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	free(st->path);
	free(st);
}

/* --- checkpoints off the loop ------------------------------------------------------------ */

#define CHECKPOINT_PAUSE_MS 100L

static void *run_checkpointer(void *arg)
{
	struct checkpointer *c = arg;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (!c->due && !c->stop)
			pthread_cond_wait(&c->wake, &c->lock);
		if (c->stop)
			break;
		c->due = false;
		pthread_mutex_unlock(&c->lock);
		int log = 0, copied = 0;
		int rc = sqlite3_wal_checkpoint_v2(c->db, "main", SQLITE_CHECKPOINT_PASSIVE, &log,
						   &copied);
		/* BUSY: another checkpoint runs (the writer's catching up, dunghanctl's); the next
		 * commit asks again. */
		bool failed = rc != SQLITE_OK && rc != SQLITE_BUSY;
		if (failed && !c->failing)
			log_warn("database: a checkpoint failed: %s (the WAL grows until one "
				 "succeeds)", sqlite3_errmsg(c->db));
		else if (!failed && c->failing)
			log_info("database: checkpoints succeed again");
		c->failing = failed;
		/* At most CHECKPOINT_PAUSE_MS apart: while commits keep coming, every one of them
		 * finds the WAL long enough, and each checkpoint syncs the database file. */
		pthread_mutex_lock(&c->lock);
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += CHECKPOINT_PAUSE_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		while (!c->stop && pthread_cond_timedwait(&c->wake, &c->lock, &until) == 0)
			;
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* SQLite's hook after each commit of the store's connection (on its thread), with the WAL's
 * length in frames: notes where the commit ended (store_commit_unsynced's mark), and wakes the
 * checkpointer once the WAL is `frames` long.
 * The WAL starts again from its beginning only at a write after a checkpoint that copied all
 * of it, which the checkpointer's never does while commits keep coming: under a steady load
 * the WAL grew without end (465 MB for 60 000 POSTs). So past four times that length the
 * writer itself catches up, between two of its transactions: a PASSIVE checkpoint of the few
 * frames the thread has not copied yet (it waits for no one: BUSY while the thread's runs).
 * Its sync of the WAL before copying must be a real one, even inside an unsynced commit:
 * frames copied into the database must be in the WAL on the disk first. */
#define AUTO_CHECKPOINT_FRAMES 10000

static int on_wal_commit(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct store *st = arg;
	struct checkpointer *c = st->checkpointer;

	st->wal_end = (struct store_wal_mark){ wal_vfs_generation(db), frames };
	st->wal_written = true;
	/* Without the thread (dunghanctl, tests), SQLite's own automatic checkpoint, which this
	 * hook replaces, every 10 000 frames: a checkpoint copies each page once however often
	 * the WAL holds it, so the pages every commit touches are copied a tenth as often as at
	 * SQLite's 1 000. */
	if (!c && frames >= AUTO_CHECKPOINT_FRAMES) {
		wal_vfs_defer_syncs(db, false);
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	}
	if (!c || frames < c->frames)
		return SQLITE_OK;
	if (frames >= 4 * c->frames) {
		wal_vfs_defer_syncs(db, false);
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	}
	pthread_mutex_lock(&c->lock);
	c->due = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	return SQLITE_OK;
}

static void free_checkpointer(struct checkpointer *c, bool made_lock)
{
	if (made_lock) {
		pthread_cond_destroy(&c->wake);
		pthread_mutex_destroy(&c->lock);
	}
	if (c->db)
		sqlite3_close_v2(c->db);
	free(c);
}

enum store_status store_start_checkpointer(struct store *st, int frames, struct err *err)
{
	struct checkpointer *c;
	int rc;

	if (st->checkpointer || !st->path)
		return STORE_OK;
	if (!(c = calloc(1, sizeof(*c)))) {
		err_set(err, NULL, "out of memory");
		return STORE_ERROR;
	}
	c->frames = frames > 0 ? frames : 1;
	rc = sqlite3_open_v2(st->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(c->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		err_set(err, NULL, "cannot open the database for checkpoints: %s",
			c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		free_checkpointer(c, false);
		return STORE_ERROR;
	}
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		err_set(err, NULL, "cannot create the checkpointer's lock");
		free_checkpointer(c, false);
		return STORE_ERROR;
	}
	if (pthread_cond_init(&c->wake, NULL) != 0) {
		pthread_mutex_destroy(&c->lock);
		err_set(err, NULL, "cannot create the checkpointer's condition");
		free_checkpointer(c, false);
		return STORE_ERROR;
	}
	if ((rc = pthread_create(&c->thread, NULL, run_checkpointer, c)) != 0) {
		err_set(err, NULL, "cannot start the checkpointer: %s", strerror(rc));
		free_checkpointer(c, true);
		return STORE_ERROR;
	}
	/* Replaces SQLite's own automatic checkpoint, which runs inside the COMMIT (the hook,
	 * set at store_open, calls it no more). */
	st->checkpointer = c;
	return STORE_OK;
}

static void stop_checkpointer(struct store *st)
{
	struct checkpointer *c = st->checkpointer;

	if (!c)
		return;
	st->checkpointer = NULL;
	pthread_mutex_lock(&c->lock);
	c->stop = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	free_checkpointer(c, true);
}

enum store_status store_set_max_size(struct store *st, int64_t max_bytes, struct err *err)
{
	sqlite3_stmt *s = NULL;
	int64_t page = 4096;
	char sql[80];
	int rc;

	if (sqlite3_prepare_v2(st->db, "PRAGMA page_size", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		page = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	/* SQLite's own maximum when there is no cap. */
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %lld",
		 max_bytes > 0 ? (long long)((max_bytes + page - 1) / page) : 4294967294LL);
	rc = exec_sql(st, sql, err, "cannot set the database's size limit");
	return rc == SQLITE_OK ? STORE_OK : status_of(rc);
}

const char *store_path(const struct store *st)
{
	return st->path;
}

int store_schema_version(struct store *st)
{
	int version = -1;

	if (read_user_version(st, &version) != SQLITE_OK)
		return -1;
	return version;
}

int store_latest_version(void)
{
	return (int)migrations_count;
}

/* Binds a string or NULL. */
static int bind_text(sqlite3_stmt *s, int i, const char *v)
{
	return v ? sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(s, i);
}

/* Steps a statement that returns no rows, then resets it. */
static int run(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

static int run_now(struct store *st, enum stmt_id id, int64_t now)
{
	sqlite3_bind_int64(st->stmt[id], 1, now);
	return run(st->stmt[id]);
}

enum store_status store_sync_config(struct store *st, const struct config *cfg, int64_t now,
				    struct err *err)
{
	enum store_status s;
	int rc;

	if ((s = store_begin(st, err)) != STORE_OK)
		return s;
	if ((rc = run_now(st, STMT_UNIT_DEACTIVATE, now)) != SQLITE_OK ||
	    (rc = run_now(st, STMT_PERSON_DEACTIVATE, now)) != SQLITE_OK ||
	    (rc = run_now(st, STMT_PROCEDURE_DEACTIVATE, now)) != SQLITE_OK)
		goto fail;
	for (size_t i = 0; i < cfg->nunits; i++) {
		const struct config_unit *u = &cfg->units[i];
		sqlite3_stmt *q = st->stmt[STMT_UNIT_UPSERT];
		bind_text(q, 1, u->id);
		bind_text(q, 2, u->name);
		bind_text(q, 3, u->level);
		bind_text(q, 4, u->parent);
		bind_text(q, 5, u->head);
		bind_text(q, 6, u->email);
		sqlite3_bind_int64(q, 7, now);
		if ((rc = run(q)) != SQLITE_OK)
			goto fail;
	}
	for (size_t i = 0; i < cfg->npeople; i++) {
		const struct config_person *p = &cfg->people[i];
		sqlite3_stmt *q = st->stmt[STMT_PERSON_UPSERT];
		bind_text(q, 1, p->id);
		bind_text(q, 2, p->name);
		bind_text(q, 3, p->title);
		bind_text(q, 4, p->email);
		bind_text(q, 5, p->unit);
		sqlite3_bind_int64(q, 6, now);
		if ((rc = run(q)) != SQLITE_OK)
			goto fail;
	}
	for (size_t i = 0; i < cfg->nprocedures; i++) {
		const struct config_procedure *p = &cfg->procedures[i];
		sqlite3_stmt *q = st->stmt[STMT_PROCEDURE_UPSERT];
		bind_text(q, 1, p->code);
		bind_text(q, 2, p->name);
		sqlite3_bind_double(q, 3, p->days);
		char cutoff[24];
		bind_text(q, 4, p->on_resume);
		sqlite3_bind_int64(q, 5, now);
		sqlite3_bind_double(q, 6, p->extended_days);
		snprintf(cutoff, sizeof(cutoff), "%02d:%02d", p->cutoff_min / 60, p->cutoff_min % 60);
		bind_text(q, 7, p->cutoff_min > 0 ? cutoff : NULL);
		bind_text(q, 8, p->level);
		bind_text(q, 9, p->agency);
		if ((rc = run(q)) != SQLITE_OK)
			goto fail;
	}
	return store_commit(st, err);
fail:
	s = db_error(st, rc, err, "cannot store units, people and procedures from the config");
	store_rollback(st);
	return s;
}

enum store_status store_count_active(struct store *st, int64_t *units, int64_t *people,
				     int64_t *procedures, struct err *err)
{
	sqlite3_stmt *q = st->stmt[STMT_COUNT_ACTIVE];
	int rc = sqlite3_step(q);

	*units = *people = *procedures = 0;
	if (rc != SQLITE_ROW) {
		sqlite3_reset(q);
		return db_error(st, rc, err, "cannot count units");
	}
	*units = sqlite3_column_int64(q, 0);
	*people = sqlite3_column_int64(q, 1);
	*procedures = sqlite3_column_int64(q, 2);
	sqlite3_reset(q);
	return STORE_OK;
}

void store_enter_loop(struct store *st)
{
	int64_t ms = st->busy_timeout_ms < STORE_LOOP_BUSY_MS ? st->busy_timeout_ms
							      : STORE_LOOP_BUSY_MS;

	sqlite3_busy_timeout(st->db, (int)ms);
}

enum store_status store_begin(struct store *st, struct err *err)
{
	int rc;

	store_yield(st);
	rc = run(st->stmt[STMT_BEGIN]);
	return rc == SQLITE_OK ? STORE_OK : db_error(st, rc, err, "cannot begin a transaction");
}

void store_hold(struct store *st, void (*release)(void *arg), void *arg)
{
	st->release = release;
	st->release_arg = arg;
}

int64_t store_changes(struct store *st)
{
	return sqlite3_total_changes64(st->db);
}

void store_yield(struct store *st)
{
	void (*release)(void *arg) = st->release;

	st->release = NULL;
	if (release && !sqlite3_get_autocommit(st->db))
		release(st->release_arg);
}

/* A commit that failed in its fsync leaves its WAL frames, commit frame included, in the file
 * (the kernel has them): SQLite ignores them while it runs and the next write overwrites them,
 * but WAL recovery after a crash before that write would bring back a change the caller was
 * told is not kept. A write of nothing (user_version set to itself: page 1), right after the
 * rollback, takes their place; its own fsync may fail too, it changes nothing. */
static void overwrite_failed_frames(struct store *st)
{
	char sql[64];
	int version;

	if (read_user_version(st, &version) != SQLITE_OK)
		return;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version);
	sqlite3_exec(st->db, sql, NULL, NULL, NULL);
}

static enum store_status commit(struct store *st, bool synced, struct err *err)
{
	int rc, sys;

	/* "disk I/O error" alone does not tell an operator a read-only mount from a failing disk,
	 * and SQLite keeps no errno for a failed COMMIT (sqlite3_system_errno is 0): the one the
	 * failing call left is taken here. */
	errno = 0;
	st->wal_written = false;
	st->release = NULL;
	rc = run(st->stmt[STMT_COMMIT]);
	sys = errno;
	if (!synced)
		wal_vfs_defer_syncs(st->db, false);
	if (rc == SQLITE_OK) {
		/* A commit that changed nothing wrote no frame and synced nothing. */
		if (synced && st->wal_written && !st->sync_failed)
			st->wal_durable = st->wal_end;
		return STORE_OK;
	}
	if (synced && (rc & 0xff) == SQLITE_IOERR)
		st->sync_failed = true;
	if ((rc & 0xff) == SQLITE_IOERR && sys)
		err_set(err, NULL, "commit failed: %s (%s)", sqlite3_errmsg(st->db), strerror(sys));
	else
		db_error(st, rc, err, "commit failed");
	store_rollback(st);
	if ((rc & 0xff) == SQLITE_IOERR)
		overwrite_failed_frames(st);
	return status_of(rc) == STORE_OK ? STORE_ERROR : status_of(rc);
}

enum store_status store_commit(struct store *st, struct err *err)
{
	return commit(st, true, err);
}

enum store_status store_commit_unsynced(struct store *st, struct store_wal_mark *mark,
					struct err *err)
{
	enum store_status s;

	/* Without this VFS under it (never in dunghand), a commit is synced as ever. */
	s = commit(st, wal_vfs_defer_syncs(st->db, true) != 0, err);
	*mark = st->wal_end;
	return s;
}

void store_wal_end(const struct store *st, struct store_wal_mark *mark)
{
	*mark = st->wal_end;
}

void store_wal_synced(struct store *st, const struct store_wal_mark *mark)
{
	if (mark->generation > st->wal_durable.generation ||
	    (mark->generation == st->wal_durable.generation &&
	     mark->frames > st->wal_durable.frames))
		st->wal_durable = *mark;
}

bool store_wal_mark_kept(const struct store_wal_mark *mark, const struct store_wal_mark *kept)
{
	return mark->generation < kept->generation ||
	       (mark->generation == kept->generation && mark->frames <= kept->frames);
}

/* The wal-index (the -shm file) as SQLite lays it out (https://sqlite.org/walformat.html):
 * two copies of a 48-byte header, mxFrame at byte 16 of each, then nBackfill at byte 96. */
#define SHM_MX_FRAME 16
#define SHM_HEADERS 96
#define SHM_BACKFILL 96
#define SHM_BACKFILL_ATTEMPTED 128

static int shm_read_u32(const struct store *st, off_t at, uint32_t *v, struct err *err)
{
	ssize_t n = pread(st->shm_fd, v, sizeof(*v), at);

	if (n != (ssize_t)sizeof(*v)) {
		err_set(err, NULL, "cannot read %s-shm: %s", st->path,
			n < 0 ? strerror(errno) : "short");
		return -1;
	}
	return 0;
}

/* What the WAL holds when the store opens was committed before, by this daemon or an earlier
 * one, and is the disk's (a restart after kill -9 reads it back from the kernel's cache, whose
 * write-back an earlier sync covered). */
static enum store_status note_wal_on_disk(struct store *st, struct err *err)
{
	char path[PATH_MAX];
	uint32_t frames = 0;
	sqlite3_stmt *q = NULL;

	if (!st->path)
		return STORE_OK;
	snprintf(path, sizeof(path), "%s-shm", st->path);
	if ((st->shm_fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
		err_set(err, NULL, "cannot open %s: %s", path, strerror(errno));
		return STORE_ERROR;
	}
	if (shm_read_u32(st, SHM_MX_FRAME, &frames, err) != 0)
		return STORE_ERROR;
	/* After a crash, what the last daemon committed may still be only in the kernel's cache;
	 * and a write-back error nobody saw yet is told to a new descriptor once. */
	snprintf(path, sizeof(path), "%s-wal", st->path);
	if (sync_path(path, err) != 0)
		return STORE_ERROR;
	if (sqlite3_prepare_v2(st->db, "PRAGMA page_size", -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_step(q) != SQLITE_ROW) {
		sqlite3_finalize(q);
		return db_error(st, sqlite3_errcode(st->db), err, "cannot read the page size");
	}
	st->page_size = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	st->wal_end = st->wal_durable =
		(struct store_wal_mark){ wal_vfs_generation(st->db), (int64_t)frames };
	return STORE_OK;
}

enum store_status store_cut_wal(struct store *st, struct store_wal_mark *durable,
				struct store_wal_mark *kept, struct err *err)
{
	char path[PATH_MAX];
	uint32_t backfilled = 0, attempted = 0;
	static const unsigned char zeros[SHM_HEADERS];
	int64_t frames;
	int fd = -1;

	/* No more copying into the database. A checkpoint notes how far it goes (nBackfillAttempted)
	 * before it syncs the WAL and copies, and how far it went (nBackfill) once the database
	 * is synced too: up to there the database has it for good; between the two it may have
	 * part of it, which only the WAL's frames can complete. */
	stop_checkpointer(st);
	if (shm_read_u32(st, SHM_BACKFILL, &backfilled, err) != 0 ||
	    shm_read_u32(st, SHM_BACKFILL_ATTEMPTED, &attempted, err) != 0)
		return STORE_ERROR;
	*durable = (struct store_wal_mark){ wal_vfs_generation(st->db), 0 };
	if (st->wal_durable.generation == durable->generation)
		durable->frames = st->wal_durable.frames;
	if ((int64_t)backfilled > durable->frames)
		durable->frames = backfilled;
	*kept = *durable;
	if ((int64_t)attempted > kept->frames)
		kept->frames = attempted;
	frames = kept->frames;
	snprintf(path, sizeof(path), "%s-wal", st->path);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0 ||
	    ftruncate(fd, frames ? 32 + frames * (24 + st->page_size) : 0) != 0) {
		err_set(err, NULL, "cannot cut %s back: %s", path, strerror(errno));
		goto fail;
	}
	fdatasync(fd); /* the disk may refuse it as it refused the sync: nothing else to try */
	close(fd);
	/* Zeroed headers make every connection, ours and any other process's, rebuild the
	 * wal-index from the file as it is now before reading again. */
	if (pwrite(st->shm_fd, zeros, sizeof(zeros), 0) != (ssize_t)sizeof(zeros)) {
		err_set(err, NULL, "cannot reset %s-shm: %s", st->path, strerror(errno));
		return STORE_ERROR;
	}
	return STORE_OK;
fail:
	if (fd >= 0)
		close(fd);
	return STORE_ERROR;
}

void store_rollback(struct store *st)
{
	st->release = NULL;
	if (!sqlite3_get_autocommit(st->db))
		run(st->stmt[STMT_ROLLBACK]);
}

bool store_in_transaction(struct store *st)
{
	return !sqlite3_get_autocommit(st->db);
}

enum store_status store_savepoint(struct store *st, struct err *err)
{
	int rc = run(st->stmt[STMT_SAVEPOINT]);

	return rc == SQLITE_OK ? STORE_OK : db_error(st, rc, err, "cannot open a savepoint");
}

enum store_status store_release(struct store *st, struct err *err)
{
	int rc = run(st->stmt[STMT_RELEASE]);

	return rc == SQLITE_OK ? STORE_OK : db_error(st, rc, err, "cannot release a savepoint");
}

void store_rollback_to_savepoint(struct store *st)
{
	/* ROLLBACK TO keeps the savepoint open; RELEASE then drops it. */
	run(st->stmt[STMT_ROLLBACK_TO]);
	run(st->stmt[STMT_RELEASE]);
}

/* --- binding and reading rows ---------------------------------------------------------- */

/* Statements share parameter numbers per table (an UPDATE uses a subset of the INSERT's), so
 * binding skips numbers a statement does not have. */
static void bind_str(sqlite3_stmt *s, int i, const char *v)
{
	if (i > sqlite3_bind_parameter_count(s))
		return;
	if (v && *v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

static void bind_int(sqlite3_stmt *s, int i, int64_t v)
{
	if (i <= sqlite3_bind_parameter_count(s))
		sqlite3_bind_int64(s, i, v);
}

/* TIME_NONE and, where noted, 0 are bound as NULL. */
static void bind_time(sqlite3_stmt *s, int i, int64_t v)
{
	if (i > sqlite3_bind_parameter_count(s))
		return;
	if (v == TIME_NONE)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_int64(s, i, v);
}

static void bind_id(sqlite3_stmt *s, int i, int64_t v)
{
	bind_time(s, i, v ? v : TIME_NONE);
}

static void col_str(sqlite3_stmt *s, int i, char *buf, size_t n)
{
	const unsigned char *v = sqlite3_column_text(s, i);
	snprintf(buf, n, "%s", v ? (const char *)v : "");
}

static int64_t col_time(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? TIME_NONE : sqlite3_column_int64(s, i);
}

static int col_enum(sqlite3_stmt *s, int i, int (*parse)(const char *))
{
	const unsigned char *v = sqlite3_column_text(s, i);
	int e = v ? parse((const char *)v) : -1;
	return e < 0 ? 0 : e;
}

/* Ends a statement that returned no rows; maps its code. */
static enum store_status finish(struct store *st, sqlite3_stmt *s, int rc, struct err *err,
				const char *what)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return STORE_OK;
	return db_error(st, rc, err, what);
}

/* --- cases ------------------------------------------------------------------------------ */

static void bind_case(sqlite3_stmt *s, const struct case_record *c, const unsigned char *hash)
{
	bind_int(s, 1, c->id);
	bind_str(s, 2, c->code);
	bind_str(s, 3, c->procedure);
	bind_str(s, 4, c->unit);
	bind_str(s, 5, c->handler);
	bind_str(s, 6, c->applicant);
	bind_int(s, 7, c->received_at);
	bind_int(s, 8, c->due_at);
	bind_int(s, 9, c->due_given);
	bind_str(s, 10, case_online_name(c->online));
	bind_int(s, 11, c->paid_online);
	bind_int(s, 12, c->digitized);
	bind_str(s, 13, case_status_name(c->status));
	bind_str(s, 14, case_outcome_name(c->outcome));
	bind_int(s, 15, c->late);
	bind_time(s, 16, c->paused_at);
	bind_time(s, 17, c->status == CASE_PAUSED ? c->remaining : TIME_NONE);
	bind_time(s, 18, c->completed_at);
	bind_time(s, 19, c->ended_at);
	bind_int(s, 20, c->version);
	bind_int(s, 21, c->created_at);
	bind_int(s, 22, c->updated_at);
	if (hash && 23 <= sqlite3_bind_parameter_count(s))
		sqlite3_bind_blob(s, 23, hash, 32, SQLITE_STATIC);
	bind_int(s, 24, c->extended);
	bind_int(s, 25, c->paused_total);
	bind_int(s, 26, c->fee);
	if (c->rating)
		bind_int(s, 27, c->rating);
	else
		sqlite3_bind_null(s, 27);
	bind_time(s, 28, c->rated_at);
}

static void read_case(sqlite3_stmt *s, struct case_record *c, unsigned char *hash)
{
	memset(c, 0, sizeof(*c));
	c->id = sqlite3_column_int64(s, 0);
	col_str(s, 1, c->code, sizeof(c->code));
	col_str(s, 2, c->procedure, sizeof(c->procedure));
	col_str(s, 3, c->unit, sizeof(c->unit));
	col_str(s, 4, c->handler, sizeof(c->handler));
	col_str(s, 5, c->applicant, sizeof(c->applicant));
	c->received_at = sqlite3_column_int64(s, 6);
	c->due_at = sqlite3_column_int64(s, 7);
	c->due_given = sqlite3_column_int(s, 8);
	c->online = (enum case_online)col_enum(s, 9, case_online_parse);
	c->paid_online = sqlite3_column_int(s, 10);
	c->digitized = sqlite3_column_int(s, 11);
	c->status = (enum case_status)col_enum(s, 12, case_status_parse);
	c->outcome = (enum case_outcome)col_enum(s, 13, case_outcome_parse);
	c->late = sqlite3_column_int(s, 14);
	c->paused_at = col_time(s, 15);
	c->remaining = sqlite3_column_int64(s, 16);
	c->completed_at = col_time(s, 17);
	c->ended_at = col_time(s, 18);
	c->version = sqlite3_column_int64(s, 19);
	c->created_at = sqlite3_column_int64(s, 20);
	c->updated_at = sqlite3_column_int64(s, 21);
	if (hash && sqlite3_column_bytes(s, 22) == 32)
		memcpy(hash, sqlite3_column_blob(s, 22), 32);
	c->extended = sqlite3_column_int(s, 23);
	c->paused_total = sqlite3_column_int64(s, 24);
	c->fee = sqlite3_column_int64(s, 25);
	c->rating = sqlite3_column_int(s, 26);
	c->rated_at = col_time(s, 27);
}

static enum store_status case_get(struct store *st, sqlite3_stmt *s, struct case_record *c,
				  unsigned char hash[32], struct err *err)
{
	int rc;

	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		read_case(s, c, hash);
	if (rc == SQLITE_DONE) {
		finish(st, s, rc, err, "");
		return STORE_NOT_FOUND;
	}
	return finish(st, s, rc, err, "cannot read a case");
}

enum store_status store_case_get(struct store *st, const char *code, struct case_record *c,
				 unsigned char hash[32], struct err *err)
{
	bind_str(st->stmt[STMT_CASE_GET], 1, code);
	return case_get(st, st->stmt[STMT_CASE_GET], c, hash, err);
}

enum store_status store_case_get_id(struct store *st, int64_t id, struct case_record *c,
				    struct err *err)
{
	bind_int(st->stmt[STMT_CASE_GET_ID], 1, id);
	return case_get(st, st->stmt[STMT_CASE_GET_ID], c, NULL, err);
}

enum store_status store_case_insert(struct store *st, struct case_record *c,
				    const unsigned char hash[32], struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_CASE_INSERT];
	enum store_status r;

	bind_case(s, c, hash);
	r = finish(st, s, sqlite3_step(s), err, "cannot insert a case");
	if (r == STORE_OK)
		c->id = sqlite3_last_insert_rowid(st->db);
	return r;
}

enum store_status store_case_update(struct store *st, const struct case_record *c,
				    struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_CASE_UPDATE];

	bind_case(s, c, NULL);
	return finish(st, s, sqlite3_step(s), err, "cannot update a case");
}

static void bind_filter(sqlite3_stmt *s, const struct store_filter *f)
{
	bind_int(s, 1, f->now);
	bind_str(s, 2, f->unit);
	bind_str(s, 3, f->status);
	bind_time(s, 4, f->overdue ? f->now : TIME_NONE);
	bind_time(s, 5, f->due_before);
	bind_time(s, 6, f->due_after);
	bind_str(s, 7, f->q);
	bind_time(s, 8, f->has_cursor ? f->cursor_due : TIME_NONE);
	bind_int(s, 9, f->cursor_id);
	bind_int(s, 10, f->limit);
	bind_id(s, 11, f->document_id);
	bind_id(s, 12, f->parent_id);
	bind_time(s, 13, f->at_risk ? 1 : TIME_NONE);
}

/* A unit's subtree of more units than this is listed by the due-date scan: so large a part of
 * the office holds many of the cases, which the scan then meets early. */
#define CASE_LIST_MERGE_UNITS 64

/* The first case of unit after the key (due, id) that passes f, into *c; *found says whether
 * there is one. */
static enum store_status case_list_unit_next(struct store *st, const struct store_filter *f,
					     const char *unit, int64_t due, int64_t id,
					     struct case_record *c, bool *found, struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_CASE_LIST_UNIT];
	int rc;

	bind_filter(s, f);
	bind_str(s, 2, unit);
	bind_int(s, 8, due);
	bind_int(s, 9, id);
	bind_int(s, 10, 1);
	rc = sqlite3_step(s);
	*found = rc == SQLITE_ROW;
	if (*found)
		read_case(s, c, NULL);
	return finish(st, s, rc, err, "cannot list cases");
}

/* The units of f->unit's subtree into *units (malloc'd strings; free with free_units), at most
 * max + 1 of them. */
static enum store_status unit_subtree(struct store *st, const char *unit, int max,
				      char ***units, int *n, struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_UNIT_SUBTREE];
	char **list;
	int rc;

	*units = NULL;
	*n = 0;
	list = calloc((size_t)max + 1, sizeof(*list));
	if (!list)
		return db_error(st, SQLITE_NOMEM, err, "cannot list cases");
	bind_str(s, 1, unit);
	bind_int(s, 2, max + 1);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n <= max) {
		const char *id = (const char *)sqlite3_column_text(s, 0);
		if (!id || !(list[*n] = strdup(id))) {
			rc = SQLITE_NOMEM;
			break;
		}
		(*n)++;
	}
	*units = list;
	return finish(st, s, rc, err, "cannot list cases");
}

static void free_units(char **units, int n)
{
	for (int i = 0; i < n; i++)
		free(units[i]);
	free(units);
}

/* DESIGN. With a unit, `unit_id IN (subtree) ORDER BY due_at` cannot walk cases_unit_due in
 * order, and the due-date scan filters the whole table when the subtree's cases fall due late
 * (48 ms at 130 000 cases). So the subtree's units are merged: each unit's next case comes from
 * cases_unit_due (one seek), the earliest is handed out and its unit steps on. That costs
 * (units + rows) seeks whatever the table's size. */
static enum store_status case_list_merge(struct store *st, const struct store_filter *f,
					 char **units, int n, store_case_cb cb, void *ctx,
					 struct err *err)
{
	enum store_status r = STORE_OK;
	struct case_record *heads = NULL;
	int64_t from_due = f->has_cursor ? f->cursor_due : INT64_MIN;
	int64_t from_id = f->has_cursor ? f->cursor_id : INT64_MIN;
	bool *live = NULL;
	int i, m, emitted = 0;

	if (n <= 0)
		return STORE_OK;
	heads = calloc((size_t)n, sizeof(*heads));
	live = calloc((size_t)n, sizeof(*live));
	if (!heads || !live) {
		r = db_error(st, SQLITE_NOMEM, err, "cannot list cases");
		goto out;
	}
	for (i = 0; i < n; i++) {
		r = case_list_unit_next(st, f, units[i], from_due, from_id, &heads[i], &live[i],
					err);
		if (r != STORE_OK)
			goto out;
	}
	while (f->limit <= 0 || emitted < f->limit) {
		for (m = -1, i = 0; i < n; i++)
			if (live[i] && (m < 0 || heads[i].due_at < heads[m].due_at ||
					(heads[i].due_at == heads[m].due_at &&
					 heads[i].id < heads[m].id)))
				m = i;
		if (m < 0)
			break;
		emitted++;
		if (cb(ctx, &heads[m]) != 0)
			break;
		r = case_list_unit_next(st, f, units[m], heads[m].due_at, heads[m].id, &heads[m],
					&live[m], err);
		if (r != STORE_OK)
			goto out;
	}
out:
	free(heads);
	free(live);
	return r;
}

enum store_status store_case_list(struct store *st, const struct store_filter *f,
				  store_case_cb cb, void *ctx, struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_CASE_LIST];
	struct case_record c;
	enum store_status r;
	char **units;
	int rc, n;

	/* Overdue cases are few and found by status and due date, whatever the unit. */
	if (f->unit && *f->unit && !f->overdue) {
		r = unit_subtree(st, f->unit, CASE_LIST_MERGE_UNITS, &units, &n, err);
		if (r == STORE_OK && n <= CASE_LIST_MERGE_UNITS)
			r = case_list_merge(st, f, units, n, cb, ctx, err);
		free_units(units, n);
		if (r != STORE_OK || n <= CASE_LIST_MERGE_UNITS)
			return r;
	}
	bind_filter(s, f);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		read_case(s, &c, NULL);
		if (cb(ctx, &c) != 0)
			break;
	}
	return finish(st, s, rc, err, "cannot list cases");
}

/* --- documents -------------------------------------------------------------------------- */

static void bind_document(sqlite3_stmt *s, const struct document_record *d)
{
	bind_int(s, 1, d->id);
	bind_str(s, 2, d->book);
	bind_int(s, 3, d->year);
	bind_int(s, 4, d->incoming_no);
	bind_str(s, 5, d->symbol);
	bind_str(s, 6, d->doc_date);
	bind_str(s, 7, d->issuer);
	bind_str(s, 8, d->type);
	bind_str(s, 9, d->summary);
	bind_str(s, 10, document_urgency_name(d->urgency));
	bind_str(s, 11, document_secrecy_name(d->confidentiality));
	bind_int(s, 12, d->received_at);
	bind_int(s, 13, d->due_at);
	bind_str(s, 14, d->lead_unit);
	bind_str(s, 15, document_status_name(d->status));
	bind_time(s, 16, d->done_at);
	bind_int(s, 17, d->version);
	bind_int(s, 18, d->created_at);
	bind_int(s, 19, d->updated_at);
}

static void read_document(sqlite3_stmt *s, struct document_record *d)
{
	memset(d, 0, sizeof(*d));
	d->id = sqlite3_column_int64(s, 0);
	col_str(s, 1, d->book, sizeof(d->book));
	d->year = sqlite3_column_int(s, 2);
	d->incoming_no = sqlite3_column_int64(s, 3);
	col_str(s, 4, d->symbol, sizeof(d->symbol));
	col_str(s, 5, d->doc_date, sizeof(d->doc_date));
	col_str(s, 6, d->issuer, sizeof(d->issuer));
	col_str(s, 7, d->type, sizeof(d->type));
	col_str(s, 8, d->summary, sizeof(d->summary));
	d->urgency = (enum document_urgency)col_enum(s, 9, document_urgency_parse);
	d->confidentiality = (enum document_secrecy)col_enum(s, 10, document_secrecy_parse);
	d->received_at = sqlite3_column_int64(s, 11);
	d->due_at = sqlite3_column_int64(s, 12);
	col_str(s, 13, d->lead_unit, sizeof(d->lead_unit));
	d->status = (enum document_status)col_enum(s, 14, document_status_parse);
	d->done_at = col_time(s, 15);
	d->version = sqlite3_column_int64(s, 16);
	d->created_at = sqlite3_column_int64(s, 17);
	d->updated_at = sqlite3_column_int64(s, 18);
}

enum store_status store_document_get(struct store *st, int64_t id, struct document_record *d,
				     struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_DOC_GET];
	int rc;

	bind_int(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		read_document(s, d);
	if (rc == SQLITE_DONE) {
		finish(st, s, rc, err, "");
		return STORE_NOT_FOUND;
	}
	return finish(st, s, rc, err, "cannot read a document");
}

enum store_status store_document_insert(struct store *st, struct document_record *d,
					struct err *err)
{
	sqlite3_stmt *s;
	enum store_status r;
	int rc;

	if (d->incoming_no == 0) {
		s = st->stmt[STMT_DOC_NEXT_NO];
		bind_str(s, 1, d->book);
		bind_int(s, 2, d->year);
		if ((rc = sqlite3_step(s)) == SQLITE_ROW)
			d->incoming_no = sqlite3_column_int64(s, 0);
		if ((r = finish(st, s, rc, err, "cannot number a document")) != STORE_OK)
			return r;
	}
	s = st->stmt[STMT_DOC_INSERT];
	bind_document(s, d);
	r = finish(st, s, sqlite3_step(s), err, "cannot insert a document");
	if (r == STORE_OK)
		d->id = sqlite3_last_insert_rowid(st->db);
	return r;
}

enum store_status store_document_update(struct store *st, const struct document_record *d,
					struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_DOC_UPDATE];

	bind_document(s, d);
	return finish(st, s, sqlite3_step(s), err, "cannot update a document");
}

enum store_status store_document_list(struct store *st, const struct store_filter *f,
				      store_document_cb cb, void *ctx, struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_DOC_LIST];
	struct document_record d;
	int rc;

	bind_filter(s, f);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		read_document(s, &d);
		if (cb(ctx, &d) != 0)
			break;
	}
	return finish(st, s, rc, err, "cannot list documents");
}

/* --- assignments ------------------------------------------------------------------------ */

static void bind_assignment(sqlite3_stmt *s, const struct assignment_record *a)
{
	bind_int(s, 1, a->id);
	bind_id(s, 2, a->document_id);
	bind_str(s, 3, a->direction);
	bind_id(s, 4, a->parent_id);
	bind_str(s, 5, a->unit);
	bind_str(s, 6, assignment_role_name(a->role));
	bind_str(s, 7, a->assignee);
	bind_str(s, 8, a->title);
	bind_int(s, 9, a->due_at);
	bind_str(s, 10, assignment_status_name(a->status));
	bind_time(s, 11, a->done_at);
	bind_int(s, 12, a->version);
	bind_int(s, 13, a->created_at);
	bind_int(s, 14, a->updated_at);
}

static void read_assignment(sqlite3_stmt *s, struct assignment_record *a)
{
	memset(a, 0, sizeof(*a));
	a->id = sqlite3_column_int64(s, 0);
	a->document_id = sqlite3_column_int64(s, 1);
	col_str(s, 2, a->direction, sizeof(a->direction));
	a->parent_id = sqlite3_column_int64(s, 3);
	col_str(s, 4, a->unit, sizeof(a->unit));
	a->role = (enum assignment_role)col_enum(s, 5, assignment_role_parse);
	col_str(s, 6, a->assignee, sizeof(a->assignee));
	col_str(s, 7, a->title, sizeof(a->title));
	a->due_at = sqlite3_column_int64(s, 8);
	a->status = (enum assignment_status)col_enum(s, 9, assignment_status_parse);
	a->done_at = col_time(s, 10);
	a->version = sqlite3_column_int64(s, 11);
	a->created_at = sqlite3_column_int64(s, 12);
	a->updated_at = sqlite3_column_int64(s, 13);
	a->children_total = sqlite3_column_int64(s, 14);
	a->children_done = sqlite3_column_int64(s, 15);
	a->children_overdue = sqlite3_column_int64(s, 16);
}

enum store_status store_assignment_get(struct store *st, int64_t id, int64_t now,
				       struct assignment_record *a, struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_ASG_GET];
	int rc;

	bind_int(s, 1, now);
	bind_int(s, 2, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		read_assignment(s, a);
	if (rc == SQLITE_DONE) {
		finish(st, s, rc, err, "");
		return STORE_NOT_FOUND;
	}
	return finish(st, s, rc, err, "cannot read an assignment");
}

enum store_status store_assignment_insert(struct store *st, struct assignment_record *a,
					  struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_ASG_INSERT];
	enum store_status r;

	bind_assignment(s, a);
	r = finish(st, s, sqlite3_step(s), err, "cannot insert an assignment");
	if (r == STORE_OK)
		a->id = sqlite3_last_insert_rowid(st->db);
	return r;
}

enum store_status store_assignment_update(struct store *st, const struct assignment_record *a,
					  struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_ASG_UPDATE];

	bind_assignment(s, a);
	return finish(st, s, sqlite3_step(s), err, "cannot update an assignment");
}

enum store_status store_assignment_list(struct store *st, const struct store_filter *f,
					store_assignment_cb cb, void *ctx, struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_ASG_LIST];
	struct assignment_record a;
	int rc;

	bind_filter(s, f);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		read_assignment(s, &a);
		if (cb(ctx, &a) != 0)
			break;
	}
	return finish(st, s, rc, err, "cannot list assignments");
}

enum store_status store_assignment_latest_child(struct store *st, int64_t parent_id,
					       int64_t *child_id, int64_t *due_at, struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_ASG_LATEST_CHILD];
	int rc;

	*child_id = 0;
	*due_at = TIME_NONE;
	bind_int(s, 1, parent_id);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*child_id = sqlite3_column_int64(s, 0);
		*due_at = sqlite3_column_int64(s, 1);
	}
	return finish(st, s, rc, err, "cannot read the sub-assignments");
}

enum store_status store_unit_is_below(struct store *st, const char *descendant,
				      const char *ancestor, bool *below, struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_UNIT_BELOW];
	int rc;

	*below = false;
	bind_str(s, 1, descendant);
	bind_str(s, 2, ancestor);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		*below = sqlite3_column_int(s, 0) > 0;
	return finish(st, s, rc, err, "cannot walk the unit tree");
}

/* --- events ----------------------------------------------------------------------------- */

enum store_status store_event_append(struct store *st, struct store_event *e, struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_EVENT_APPEND];
	enum store_status r;

	bind_str(s, 1, e->item_kind);
	bind_int(s, 2, e->item_id);
	bind_str(s, 3, e->type);
	bind_int(s, 4, e->at);
	bind_str(s, 5, e->actor);
	bind_str(s, 6, e->data);
	bind_time(s, 7, e->due_at);
	bind_int(s, 8, e->recorded_at);
	r = finish(st, s, sqlite3_step(s), err, "cannot record an event");
	if (r == STORE_OK)
		e->id = sqlite3_last_insert_rowid(st->db);
	return r;
}

enum store_status store_event_last_at(struct store *st, const char *item_kind, int64_t item_id,
				     int64_t *at, struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_EVENT_LAST_AT];
	int rc;

	*at = TIME_NONE;
	bind_str(s, 1, item_kind);
	bind_int(s, 2, item_id);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		*at = sqlite3_column_int64(s, 0);
	return finish(st, s, rc, err, "cannot read the events");
}

enum store_status store_event_list(struct store *st, const char *item_kind, int64_t item_id,
				   store_event_cb cb, void *ctx, struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_EVENT_LIST];
	int rc;

	bind_str(s, 1, item_kind);
	bind_int(s, 2, item_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_event e = {
			.id = sqlite3_column_int64(s, 0),
			.item_kind = (const char *)sqlite3_column_text(s, 1),
			.item_id = sqlite3_column_int64(s, 2),
			.type = (const char *)sqlite3_column_text(s, 3),
			.at = sqlite3_column_int64(s, 4),
			.actor = (const char *)sqlite3_column_text(s, 5),
			.data = (const char *)sqlite3_column_text(s, 6),
			.due_at = col_time(s, 7),
			.recorded_at = sqlite3_column_int64(s, 8),
		};
		if (cb(ctx, &e) != 0)
			break;
	}
	return finish(st, s, rc, err, "cannot list events");
}

/* --- escalation: watch, alerts, outbox ------------------------------------------------- */

enum store_status store_watch_get(struct store *st, const char *kind, int64_t id,
				  struct store_watch *w, struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_WATCH_GET];
	int rc;

	bind_str(s, 1, kind);
	bind_int(s, 2, id);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*w = (struct store_watch){ kind, id, sqlite3_column_int64(s, 0), col_time(s, 1),
					   col_time(s, 2) };
	} else if (rc == SQLITE_DONE) {
		finish(st, s, rc, err, "");
		return STORE_NOT_FOUND;
	}
	return finish(st, s, rc, err, "cannot read a watch");
}

enum store_status store_watch_put(struct store *st, const struct store_watch *w, struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_WATCH_PUT];

	bind_str(s, 1, w->item_kind);
	bind_int(s, 2, w->item_id);
	bind_int(s, 3, w->due_at);
	bind_time(s, 4, w->next_fire_at);
	bind_time(s, 5, w->checked_until);
	return finish(st, s, sqlite3_step(s), err, "cannot write a watch");
}

enum store_status store_watch_delete(struct store *st, const char *kind, int64_t id,
				     struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_WATCH_DELETE];

	bind_str(s, 1, kind);
	bind_int(s, 2, id);
	return finish(st, s, sqlite3_step(s), err, "cannot delete a watch");
}

enum store_status store_watch_due(struct store *st, int64_t now, int limit, store_watch_cb cb,
				  void *ctx, struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_WATCH_DUE];
	int rc;

	bind_int(s, 1, now);
	bind_int(s, 2, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		char kind[16];
		col_str(s, 0, kind, sizeof(kind));
		struct store_watch w = { kind, sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2),
					 col_time(s, 3), col_time(s, 4) };
		if (cb(ctx, &w) != 0)
			break;
	}
	return finish(st, s, rc, err, "cannot list due watches");
}

enum store_status store_watch_next(struct store *st, int64_t *next, struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_WATCH_NEXT];
	int rc = sqlite3_step(s);

	*next = rc == SQLITE_ROW ? col_time(s, 0) : TIME_NONE;
	return finish(st, s, rc, err, "cannot read the next watch");
}

enum store_status store_alert_insert(struct store *st, struct store_alert *a, bool *inserted,
				     struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_ALERT_INSERT];
	enum store_status r;

	bind_str(s, 1, a->item_kind);
	bind_int(s, 2, a->item_id);
	bind_str(s, 3, a->rule_id);
	bind_int(s, 4, a->due_at);
	bind_int(s, 5, a->occurrence);
	bind_int(s, 6, a->fire_at);
	bind_int(s, 7, a->fired_at);
	bind_str(s, 8, a->unit);
	bind_int(s, 9, a->urgent);
	r = finish(st, s, sqlite3_step(s), err, "cannot write an alert");
	*inserted = r == STORE_OK && sqlite3_changes(st->db) > 0;
	if (*inserted)
		a->id = sqlite3_last_insert_rowid(st->db);
	return r;
}

enum store_status store_alert_acked(struct store *st, const char *kind, int64_t id,
				    const char *rule, int64_t due_at, bool *acked, struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_ALERT_ACKED];
	int rc;

	bind_str(s, 1, kind);
	bind_int(s, 2, id);
	bind_str(s, 3, rule);
	bind_int(s, 4, due_at);
	rc = sqlite3_step(s);
	*acked = rc == SQLITE_ROW && sqlite3_column_int(s, 0) > 0;
	return finish(st, s, rc, err, "cannot read an acknowledgement");
}

enum store_status store_alert_ack(struct store *st, int64_t id, int64_t at, const char *by,
				  const char *note, struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_ALERT_ACK];
	enum store_status r;

	bind_int(s, 1, id);
	bind_int(s, 2, at);
	bind_str(s, 3, by);
	bind_str(s, 4, note);
	r = finish(st, s, sqlite3_step(s), err, "cannot acknowledge an alert");
	if (r == STORE_OK && sqlite3_changes(st->db) == 0)
		return STORE_CONFLICT;
	return r;
}

static int emit_alerts(sqlite3_stmt *s, store_alert_cb cb, void *ctx)
{
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_alert a = {
			.id = sqlite3_column_int64(s, 0),
			.item_kind = (const char *)sqlite3_column_text(s, 1),
			.item_id = sqlite3_column_int64(s, 2),
			.rule_id = (const char *)sqlite3_column_text(s, 3),
			.due_at = sqlite3_column_int64(s, 4),
			.occurrence = sqlite3_column_int64(s, 5),
			.fire_at = sqlite3_column_int64(s, 6),
			.fired_at = sqlite3_column_int64(s, 7),
			.unit = (const char *)sqlite3_column_text(s, 8),
			.urgent = sqlite3_column_int(s, 9),
			.acknowledged_at = col_time(s, 10),
			.acknowledged_by = (const char *)sqlite3_column_text(s, 11),
			.item_key = (const char *)sqlite3_column_text(s, 12),
			.acknowledged_note = (const char *)sqlite3_column_text(s, 13),
		};
		if (cb(ctx, &a) != 0)
			break;
	}
	return rc;
}

enum store_status store_alert_list(struct store *st, const struct store_alert_filter *f,
				   store_alert_cb cb, void *ctx, struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_ALERT_LIST];

	bind_str(s, 1, f->item_kind);
	bind_int(s, 2, f->item_id);
	bind_str(s, 3, f->unit);
	bind_str(s, 4, f->rule);
	bind_time(s, 5, f->since);
	bind_time(s, 6, f->acknowledged < 0 ? TIME_NONE : f->acknowledged);
	bind_int(s, 7, f->after_id);
	bind_int(s, 8, f->limit);
	return finish(st, s, emit_alerts(s, cb, ctx), err, "cannot list alerts");
}

struct counted_alerts {
	store_alert_cb cb;
	void *ctx;
	int n;
};

static int count_alert(void *ctx, const struct store_alert *a)
{
	struct counted_alerts *c = ctx;

	c->n++;
	return c->cb(c->ctx, a);
}

enum store_status store_alert_get(struct store *st, int64_t id, store_alert_cb cb, void *ctx,
				  struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_ALERT_GET];
	struct counted_alerts c = { cb, ctx, 0 };
	enum store_status r;

	bind_int(s, 1, id);
	r = finish(st, s, emit_alerts(s, count_alert, &c), err, "cannot read an alert");
	return r == STORE_OK && c.n == 0 ? STORE_NOT_FOUND : r;
}

enum store_status store_outbox_insert(struct store *st, struct store_outbox *o, struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_OUTBOX_INSERT];
	enum store_status r;

	bind_id(s, 1, o->alert_id);
	bind_str(s, 2, o->channel);
	bind_str(s, 3, o->recipient);
	bind_str(s, 4, o->address);
	bind_str(s, 5, o->subject);
	bind_str(s, 6, o->body_text);
	bind_str(s, 7, o->body_html);
	bind_str(s, 8, o->status);
	bind_int(s, 9, o->not_before);
	bind_int(s, 10, o->created_at);
	bind_str(s, 11, o->facts);
	r = finish(st, s, sqlite3_step(s), err, "cannot write to the outbox");
	if (r == STORE_OK)
		o->id = sqlite3_last_insert_rowid(st->db);
	return r;
}

static int emit_outbox(sqlite3_stmt *s, store_outbox_cb cb, void *ctx)
{
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_outbox o = {
			.id = sqlite3_column_int64(s, 0),
			.alert_id = sqlite3_column_int64(s, 1),
			.channel = (const char *)sqlite3_column_text(s, 2),
			.recipient = (const char *)sqlite3_column_text(s, 3),
			.address = (const char *)sqlite3_column_text(s, 4),
			.subject = (const char *)sqlite3_column_text(s, 5),
			.body_text = (const char *)sqlite3_column_text(s, 6),
			.body_html = (const char *)sqlite3_column_text(s, 7),
			.status = (const char *)sqlite3_column_text(s, 8),
			.not_before = sqlite3_column_int64(s, 9),
			.created_at = sqlite3_column_int64(s, 10),
			.attempts = sqlite3_column_int64(s, 11),
			.next_attempt_at = col_time(s, 12),
			.last_error = (const char *)sqlite3_column_text(s, 13),
			.facts = (const char *)sqlite3_column_text(s, 14),
			.retried_attempts = sqlite3_column_int64(s, 15),
			.retried_at = col_time(s, 16),
		};
		if (cb(ctx, &o) != 0)
			break;
	}
	return rc;
}

enum store_status store_outbox_list(struct store *st, const struct store_outbox_filter *f,
				    store_outbox_cb cb, void *ctx, struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_OUTBOX_LIST];

	bind_str(s, 1, f->status);
	bind_str(s, 2, f->channel);
	bind_str(s, 3, f->recipient);
	bind_int(s, 4, f->after_id);
	bind_int(s, 5, f->limit);
	return finish(st, s, emit_outbox(s, cb, ctx), err, "cannot list the outbox");
}

enum store_status store_outbox_of_alert(struct store *st, int64_t alert_id, int limit,
					store_outbox_cb cb, void *ctx, struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_OUTBOX_OF_ALERT];

	bind_int(s, 1, alert_id);
	bind_int(s, 2, limit);
	return finish(st, s, emit_outbox(s, cb, ctx), err, "cannot list the alert's messages");
}

enum store_status store_outbox_held(struct store *st, const char *recipient, store_outbox_cb cb,
				    void *ctx, struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_OUTBOX_HELD];

	bind_str(s, 1, recipient);
	return finish(st, s, emit_outbox(s, cb, ctx), err, "cannot read held messages");
}

enum store_status store_outbox_digested(struct store *st, const char *recipient, int64_t max_id,
					struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_OUTBOX_DIGESTED];

	bind_str(s, 1, recipient);
	bind_int(s, 2, max_id);
	return finish(st, s, sqlite3_step(s), err, "cannot mark messages digested");
}

enum store_status store_outbox_held_recipients(struct store *st, store_name_cb cb, void *ctx,
					       struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_OUTBOX_HELD_RECIPIENTS];
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (cb(ctx, (const char *)sqlite3_column_text(s, 0)) != 0)
			break;
	return finish(st, s, rc, err, "cannot list digest readers");
}

enum store_status store_state_get(struct store *st, const char *key, int64_t *value,
				  struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_STATE_GET];
	int rc;

	bind_str(s, 1, key);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		*value = sqlite3_column_int64(s, 0);
	return finish(st, s, rc, err, "cannot read the scheduler's state");
}

enum store_status store_state_put(struct store *st, const char *key, int64_t value,
				  struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_STATE_PUT];

	bind_str(s, 1, key);
	bind_int(s, 2, value);
	return finish(st, s, sqlite3_step(s), err, "cannot write the scheduler's state");
}

enum store_status store_counts(struct store *st, int64_t now, struct store_counts *c,
			       struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_COUNTS];
	int64_t *fields[] = { &c->open_cases, &c->open_documents, &c->open_assignments,
			      &c->overdue_cases, &c->overdue_documents, &c->overdue_assignments,
			      &c->at_risk_cases, &c->outbox_pending, &c->outbox_dead };
	int rc;

	memset(c, 0, sizeof(*c));
	bind_int(s, 1, now);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		for (int i = 0; i < (int)(sizeof(fields) / sizeof(fields[0])); i++)
			*fields[i] = sqlite3_column_int64(s, i);
	return finish(st, s, rc, err, "cannot count the open items");
}

/* --- KPIs ----------------------------------------------------------------------------------- */

static void bind_period(sqlite3_stmt *s, int64_t from, int64_t end)
{
	bind_int(s, 1, from);
	bind_int(s, 2, end);
}

/* What store_kpi_cases and store_kpi_ratings add up for one unit. */
struct kpi_acc {
	struct store_case_counts c;    /* .unit: the key, malloc'd; NULL for a free slot */
	struct store_case_counts *per; /* the case counts of each period (kpi_units.nper) */
	int64_t rated, satisfied;
};

/* The units seen so far, by unit id: open addressing, a few hundred units. */
struct kpi_units {
	struct kpi_acc *slot;
	size_t cap, n;
	size_t nper; /* periods counted per unit (the cases); 0 for the ratings */
};

static uint64_t hash_bytes(const unsigned char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	while (n--)
		h = (h ^ *p++) * 1099511628211ull;
	return h;
}

static struct kpi_acc *kpi_slot(struct kpi_acc *slot, size_t cap, const unsigned char *id,
				size_t len)
{
	size_t i = (size_t)hash_bytes(id, len) & (cap - 1);

	while (slot[i].c.unit &&
	       (strlen(slot[i].c.unit) != len || memcmp(slot[i].c.unit, id, len) != 0))
		i = (i + 1) & (cap - 1);
	return &slot[i];
}

/* The accumulator of the unit in column 0 of s, added when new; NULL when out of memory. */
static struct kpi_acc *kpi_unit(struct kpi_units *t, sqlite3_stmt *s)
{
	const unsigned char *id = sqlite3_column_text(s, 0);
	size_t len = (size_t)sqlite3_column_bytes(s, 0);
	struct kpi_acc *a;

	if (!id)
		id = (const unsigned char *)"";
	if (2 * (t->n + 1) > t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 256;
		struct kpi_acc *slot = calloc(cap, sizeof(*slot));

		if (!slot)
			return NULL;
		for (size_t i = 0; i < t->cap; i++)
			if (t->slot[i].c.unit)
				*kpi_slot(slot, cap, (const unsigned char *)t->slot[i].c.unit,
					  strlen(t->slot[i].c.unit)) = t->slot[i];
		free(t->slot);
		t->slot = slot;
		t->cap = cap;
	}
	a = kpi_slot(t->slot, t->cap, id, len);
	if (!a->c.unit) {
		char *copy = malloc(len + 1);

		if (!copy)
			return NULL;
		if (t->nper && !(a->per = calloc(t->nper, sizeof(*a->per)))) {
			free(copy);
			return NULL;
		}
		memcpy(copy, id, len);
		copy[len] = '\0';
		a->c.unit = copy;
		t->n++;
	}
	return a;
}

static void kpi_units_free(struct kpi_units *t)
{
	for (size_t i = 0; i < t->cap; i++) {
		free((char *)t->slot[i].c.unit);
		free(t->slot[i].per);
	}
	free(t->slot);
}

/* Steps s to its end, giving each row to add(unit's accumulator, column 1). */
static enum store_status kpi_tally(struct store *st, sqlite3_stmt *s, struct kpi_units *t,
				   void (*add)(struct kpi_acc *a, int v), struct err *err,
				   const char *what)
{
	struct kpi_acc *a;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (!(a = kpi_unit(t, s))) {
			sqlite3_reset(s);
			sqlite3_clear_bindings(s);
			err_set(err, NULL, "%s: out of memory", what);
			return STORE_ERROR;
		}
		add(a, sqlite3_column_int(s, 1));
	}
	return finish(st, s, rc, err, what);
}

/* One row of STMT_KPI_CASES. */
struct kpi_case {
	int64_t received, completed, due; /* completed: TIME_NONE while not completed */
	int64_t paused;                   /* paused_at when paused with time left, else TIME_NONE */
	int code;                         /* outcome (0-3) + 4 x late + 8 x flags */
};

/* Adds case k to the counts c of the period [from, end) when it matters to it: the
 * definitions of docs/kpi.md ("The case figures of a unit", and the windows of "The error
 * budget") in one place. */
static void kpi_classify(struct store_case_counts *c, const struct kpi_case *k, int64_t from,
			 int64_t end)
{
	int64_t *outcome[] = { &c->early, &c->on_time, &c->late, &c->late };
	bool done = k->completed != TIME_NONE, rescheduled = k->code & 4;
	bool open_at_end = !done || k->completed >= end;
	bool paused_left = k->paused != TIME_NONE && k->paused < end;
	int flags = k->code >> 3;

	if (k->due >= from && k->due < end) {
		c->due++;
		c->due_late += rescheduled || (k->code & 3) == 2 || (open_at_end && !paused_left);
	}
	if (k->received >= end || (done && k->completed < from))
		return;
	if (!open_at_end)
		++*outcome[k->code & 3];
	else if (!rescheduled && (k->due >= end || paused_left))
		c->open_within++;
	else
		c->open_overdue++;
	if (k->received < from) {
		c->carried++;
		return;
	}
	c->received++;
	c->online += flags & 1;
	c->with_fee += (flags >> 1) & 1;
	c->paid_online += (flags >> 1) & (flags >> 2) & 1;
	c->digitized += (flags >> 3) & 1;
}

/* How a case pass reads the cases. */
enum kpi_plan {
	KPI_BY_RECEIPT, /* the index on received_at: every case received before the end */
	KPI_IN_ORDER,   /* the table in order */
	KPI_BY_UNIT,    /* each unit's cases through its index */
};

/* The cheapest way to read the cases of the n units (NULL: all) received before end. The index
 * on received_at visits every case received before the end with a lookup of each (about 1.3
 * times the cost of reading a row in order), so it pays only when at least a quarter of the
 * cases were received after the end; a subtree holding at most a quarter of the cases is read
 * unit by unit (each a range of an index, a lookup per row). */
static enum store_status kpi_plan(struct store *st, int64_t end, const char *const *units,
				  size_t n, enum kpi_plan *plan, struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_KPI_LATER];
	int64_t later = 0, cases = 0, left;
	int rc;

	*plan = KPI_BY_RECEIPT;
	bind_int(s, 1, end);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		later = sqlite3_column_int64(s, 0);
		cases = sqlite3_column_int64(s, 1);
	}
	if (finish(st, s, rc, err, "cannot count the cases") != STORE_OK)
		return STORE_ERROR;
	if (later <= cases / 4)
		*plan = KPI_IN_ORDER;
	if (!units)
		return STORE_OK;
	left = cases / 4 + 1;
	s = st->stmt[STMT_KPI_UNIT_COUNT];
	for (size_t i = 0; i < n && left > 0; i++) {
		bind_str(s, 1, units[i]);
		bind_int(s, 2, left);
		if ((rc = sqlite3_step(s)) == SQLITE_ROW)
			left -= sqlite3_column_int64(s, 0);
		if (finish(st, s, rc, err, "cannot count the cases") != STORE_OK)
			return STORE_ERROR;
	}
	if (left > 0)
		*plan = KPI_BY_UNIT;
	return STORE_OK;
}

/* Steps s to its end, classifying each case into each of the n periods p (t->nper of them). */
static enum store_status kpi_pass(struct store *st, sqlite3_stmt *s, struct kpi_units *t,
				  const struct store_period *p, size_t n, struct err *err)
{
	struct kpi_case k;
	struct kpi_acc *a;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (!(a = kpi_unit(t, s))) {
			sqlite3_reset(s);
			sqlite3_clear_bindings(s);
			err_set(err, NULL, "cannot count the cases: out of memory");
			return STORE_ERROR;
		}
		k.received = sqlite3_column_int64(s, 1);
		k.completed = col_time(s, 2);
		k.due = sqlite3_column_int64(s, 3);
		k.paused = col_time(s, 4);
		k.code = sqlite3_column_int(s, 5);
		for (size_t i = 0; i < n; i++)
			kpi_classify(&a->per[i], &k, p[i].from, p[i].end);
	}
	return finish(st, s, rc, err, "cannot count the cases");
}

enum store_status store_kpi_cases_periods(struct store *st, const struct store_period *p,
					  size_t n, const char *const *units, size_t nunits,
					  store_period_counts_cb cb, void *ctx, struct err *err)
{
	struct kpi_units t = { .nper = n };
	enum store_status r = STORE_OK;
	enum kpi_plan plan;
	int64_t from, end;
	bool stop = false;
	sqlite3_stmt *s;

	if (n == 0 || n > STORE_KPI_PERIODS_MAX) {
		err_set(err, NULL, "cannot count the cases: %zu periods (1 to %d)", n,
			STORE_KPI_PERIODS_MAX);
		return STORE_ERROR;
	}
	from = p[0].from;
	end = p[0].end;
	for (size_t i = 1; i < n; i++) {
		from = p[i].from < from ? p[i].from : from;
		end = p[i].end > end ? p[i].end : end;
	}
	if (kpi_plan(st, end, units, nunits, &plan, err) != STORE_OK)
		return STORE_ERROR;
	if (plan == KPI_BY_UNIT) {
		s = st->stmt[STMT_KPI_CASES_UNIT];
		for (size_t i = 0; r == STORE_OK && i < nunits; i++) {
			bind_period(s, from, end);
			bind_str(s, 3, units[i]);
			r = kpi_pass(st, s, &t, p, n, err);
		}
	} else {
		s = st->stmt[plan == KPI_IN_ORDER ? STMT_KPI_CASES_SCAN : STMT_KPI_CASES];
		bind_period(s, from, end);
		r = kpi_pass(st, s, &t, p, n, err);
	}
	for (size_t i = 0; r == STORE_OK && !stop && i < t.cap; i++) {
		for (size_t j = 0; t.slot[i].c.unit && !stop && j < n; j++) {
			struct store_case_counts *c = &t.slot[i].per[j];

			c->unit = t.slot[i].c.unit;
			if (c->received + c->carried + c->due > 0)
				stop = cb(ctx, j, c) != 0;
		}
	}
	kpi_units_free(&t);
	return r;
}

/* store_kpi_cases's callback, given each row of its one period. */
struct kpi_one {
	store_case_counts_cb cb;
	void *ctx;
};

static int kpi_one_period(void *ctx, size_t period, const struct store_case_counts *c)
{
	struct kpi_one *o = ctx;

	(void)period;
	return o->cb(o->ctx, c);
}

enum store_status store_kpi_cases(struct store *st, int64_t from, int64_t end,
				  store_case_counts_cb cb, void *ctx, struct err *err)
{
	struct store_period p = { from, end };
	struct kpi_one o = { cb, ctx };

	return store_kpi_cases_periods(st, &p, 1, NULL, 0, kpi_one_period, &o, err);
}

static void kpi_rating(struct kpi_acc *a, int satisfied)
{
	a->rated++;
	a->satisfied += satisfied != 0;
}

enum store_status store_kpi_ratings(struct store *st, int64_t from, int64_t end,
				    int satisfied_rating, store_rating_cb cb, void *ctx,
				    struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_KPI_RATINGS];
	struct kpi_units t = { 0 };
	enum store_status r;

	bind_period(s, from, end);
	bind_int(s, 3, satisfied_rating);
	r = kpi_tally(st, s, &t, kpi_rating, err, "cannot count the ratings");
	for (size_t i = 0; r == STORE_OK && i < t.cap; i++)
		if (t.slot[i].c.unit &&
		    cb(ctx, t.slot[i].c.unit, t.slot[i].rated, t.slot[i].satisfied) != 0)
			break;
	kpi_units_free(&t);
	return r;
}

static enum store_status item_counts(struct store *st, sqlite3_stmt *s, int64_t from, int64_t end,
				     store_item_counts_cb cb, void *ctx, struct err *err)
{
	struct store_item_counts c;
	int rc;

	bind_period(s, from, end);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		c.unit = (const char *)sqlite3_column_text(s, 0);
		c.due = sqlite3_column_int64(s, 1);
		c.done_on_time = sqlite3_column_int64(s, 2);
		c.done_late = sqlite3_column_int64(s, 3);
		c.open_overdue = sqlite3_column_int64(s, 4);
		if (cb(ctx, &c) != 0)
			break;
	}
	return finish(st, s, rc, err, "cannot count the documents or assignments");
}

enum store_status store_kpi_documents(struct store *st, int64_t from, int64_t end,
				      store_item_counts_cb cb, void *ctx, struct err *err)
{
	return item_counts(st, st->stmt[STMT_KPI_DOCUMENTS], from, end, cb, ctx, err);
}

enum store_status store_kpi_assignments(struct store *st, int64_t from, int64_t end,
					store_item_counts_cb cb, void *ctx, struct err *err)
{
	return item_counts(st, st->stmt[STMT_KPI_ASSIGNMENTS], from, end, cb, ctx, err);
}

enum store_status store_inspection_insert(struct store *st, struct store_inspection *i,
					  struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_INSPECTION_INSERT];
	enum store_status rc;

	bind_str(s, 1, i->unit);
	bind_str(s, 2, i->inspected_unit);
	bind_str(s, 3, i->on_date);
	bind_str(s, 4, i->note);
	bind_str(s, 5, i->actor);
	bind_int(s, 6, i->created_at);
	rc = finish(st, s, sqlite3_step(s), err, "cannot record the inspection");
	if (rc == STORE_OK)
		i->id = sqlite3_last_insert_rowid(st->db);
	return rc;
}

enum store_status store_inspection_list(struct store *st, const char *unit, const char *from_date,
					const char *to_date, int64_t after_id, int limit,
					store_inspection_cb cb, void *ctx, struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_INSPECTION_LIST];
	struct store_inspection i;
	int rc;

	bind_str(s, 1, unit);
	bind_str(s, 2, from_date);
	bind_str(s, 3, to_date);
	bind_int(s, 4, after_id);
	bind_int(s, 5, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		i.id = sqlite3_column_int64(s, 0);
		i.unit = (const char *)sqlite3_column_text(s, 1);
		i.inspected_unit = (const char *)sqlite3_column_text(s, 2);
		i.on_date = (const char *)sqlite3_column_text(s, 3);
		i.note = (const char *)sqlite3_column_text(s, 4);
		i.actor = (const char *)sqlite3_column_text(s, 5);
		i.created_at = sqlite3_column_int64(s, 6);
		if (cb(ctx, &i) != 0)
			break;
	}
	return finish(st, s, rc, err, "cannot list the inspections");
}

enum store_status store_kpi_inspections(struct store *st, const char *from_date,
					const char *to_date, store_pair_cb cb, void *ctx,
					struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_KPI_INSPECTIONS];
	int rc;

	bind_str(s, 1, from_date);
	bind_str(s, 2, to_date);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (cb(ctx, (const char *)sqlite3_column_text(s, 0),
		       (const char *)sqlite3_column_text(s, 1)) != 0)
			break;
	return finish(st, s, rc, err, "cannot count the inspections");
}

enum store_status store_kpi_due(struct store *st, const char *unit, const char *status,
				int64_t from, int64_t end, int late, int limit, store_case_cb cb,
				void *ctx, struct err *err)
{
	sqlite3_stmt *s = st->stmt[late == 1 ? STMT_KPI_DUE_LATE : STMT_KPI_DUE];
	struct case_record c;
	int rc;

	bind_str(s, 1, status);
	bind_int(s, 2, from);
	bind_int(s, 3, end);
	bind_str(s, 4, unit);
	bind_int(s, 5, limit);
	if (late == 0)
		bind_int(s, 6, 0);
	else if (late < 0)
		sqlite3_bind_null(s, 6);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		read_case(s, &c, NULL);
		if (cb(ctx, &c) != 0)
			break;
	}
	return finish(st, s, rc, err, "cannot list the cases due");
}

enum store_status store_assignment_tree(struct store *st, int64_t root, store_tree_cb cb,
					void *ctx, struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_ASG_TREE];
	struct store_tree_node n;
	int rc;

	bind_int(s, 1, root);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		n.id = sqlite3_column_int64(s, 0);
		n.parent_id = sqlite3_column_int64(s, 1);
		n.depth = sqlite3_column_int(s, 2);
		n.unit = (const char *)sqlite3_column_text(s, 3);
		n.done = sqlite3_column_int(s, 4);
		n.due_at = sqlite3_column_int64(s, 5);
		n.done_at = col_time(s, 6);
		if (cb(ctx, &n) != 0)
			break;
	}
	return finish(st, s, rc, err, "cannot read the sub-assignments");
}

enum store_status store_directive_list(struct store *st, const char *unit, int64_t from,
				       int64_t end, int limit, store_assignment_cb cb, void *ctx,
				       struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_DIRECTIVE_LIST];
	struct assignment_record a;
	int rc;

	bind_str(s, 1, unit);
	bind_int(s, 2, from);
	bind_int(s, 3, end);
	bind_int(s, 4, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		read_assignment(s, &a);
		if (cb(ctx, &a) != 0)
			break;
	}
	return finish(st, s, rc, err, "cannot list the directives");
}

enum store_status store_kpi_notice_get(struct store *st, const char *kind, const char *unit,
				       int64_t week, bool *sent, struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_NOTICE_GET];
	int rc;

	bind_str(s, 1, kind);
	bind_str(s, 2, unit);
	bind_int(s, 3, week);
	rc = sqlite3_step(s);
	*sent = rc == SQLITE_ROW;
	return finish(st, s, rc, err, "cannot read the KPI notices");
}

enum store_status store_kpi_notice_put(struct store *st, const char *kind, const char *unit,
				       int64_t week, int64_t now, struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_NOTICE_PUT];

	bind_str(s, 1, kind);
	bind_str(s, 2, unit);
	bind_int(s, 3, week);
	bind_int(s, 4, now);
	return finish(st, s, sqlite3_step(s), err, "cannot record a KPI notice");
}

/* --- delivery ---------------------------------------------------------------------------- */

enum store_status store_outbox_requeue(struct store *st, struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_OUTBOX_REQUEUE];

	return finish(st, s, sqlite3_step(s), err, "cannot requeue the outbox");
}

struct claim_count {
	store_outbox_cb cb;
	void *ctx;
	int n;
	bool stopped; /* cb asked for no more rows */
};

static int claim_counted(void *ctx, const struct store_outbox *o)
{
	struct claim_count *c = ctx;

	c->n++;
	return (c->stopped = c->cb(c->ctx, o) != 0);
}

/* One of the claim's statements; c->n counts the rows it gave. */
static enum store_status claim_step(struct store *st, sqlite3_stmt *s,
				    const struct store_outbox_due *q, const char *ids, size_t len,
				    struct claim_count *c, struct err *err)
{
	bind_int(s, 1, q->now);
	bind_int(s, 2, q->limit - c->n);
	bind_int(s, 3, q->with_email);
	sqlite3_bind_text(s, 4, ids, (int)len, SQLITE_STATIC);
	bind_int(s, 5, q->after_due);
	bind_int(s, 6, q->after_id);
	return finish(st, s, emit_outbox(s, claim_counted, c), err,
		      "cannot read the due outbox rows");
}

enum store_status store_outbox_claim(struct store *st, const struct store_outbox_due *q,
				     store_outbox_cb cb, void *ctx, struct err *err)
{
	struct claim_count c = { cb, ctx, 0, false };
	/* 21 bytes an id at most ("-9223372036854775808,"), the brackets and the NUL */
	size_t cap = q->nskip * 21 + 3, len = 0;
	char *ids = malloc(cap);
	enum store_status r = STORE_OK;

	if (!ids) {
		err_set(err, NULL, "out of memory");
		return STORE_ERROR;
	}
	ids[len++] = '[';
	for (size_t i = 0; i < q->nskip; i++)
		len += (size_t)snprintf(ids + len, cap - len, i ? ",%lld" : "%lld",
					(long long)q->skip[i]);
	ids[len++] = ']';
	if (q->after_due != INT64_MIN)
		r = claim_step(st, st->stmt[STMT_OUTBOX_CLAIM_REST], q, ids, len, &c, err);
	if (r == STORE_OK && !c.stopped && c.n < q->limit)
		r = claim_step(st, st->stmt[STMT_OUTBOX_CLAIM], q, ids, len, &c, err);
	free(ids);
	return r;
}

enum store_status store_outbox_next_due(struct store *st, int64_t now, bool with_email,
					int64_t *next, struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_OUTBOX_NEXT_DUE];
	int rc;

	bind_int(s, 1, with_email);
	bind_int(s, 2, now);
	rc = sqlite3_step(s);

	*next = rc == SQLITE_ROW ? col_time(s, 0) : TIME_NONE;
	return finish(st, s, rc, err, "cannot read the outbox");
}

/* The outbox rows of o[from..n) sent in second `at`, FINISH_BATCH ids a statement. */
static enum store_status sent_in(struct store *st, const struct store_outcome *o, size_t from,
				 size_t n, int64_t at, struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_OUTBOX_SENT_MANY];
	enum store_status r = STORE_OK;
	int k = 0;

	for (size_t i = from; i < n; i++) {
		if (strcmp(o[i].status, "sent") != 0 || o[i].attempt.finished_at != at)
			continue;
		bind_int(s, 2 + k++, o[i].attempt.outbox_id);
		if (k == FINISH_BATCH) {
			bind_int(s, 1, at);
			r = finish(st, s, sqlite3_step(s), err, "cannot update outbox rows");
			if (r != STORE_OK)
				return r;
			k = 0;
		}
	}
	if (k) {
		bind_int(s, 1, at);
		r = finish(st, s, sqlite3_step(s), err, "cannot update outbox rows");
	}
	return r;
}

enum store_status store_outbox_finish_many(struct store *st, const struct store_outcome *o,
					   size_t n, struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_ATTEMPT_INSERT_MANY];
	enum store_status r;

	for (size_t i = 0; i < n; i += FINISH_BATCH) {
		/* Rows left unbound are NULL (finish clears the bindings): the WHERE drops them. */
		for (size_t k = 0; k < FINISH_BATCH && i + k < n; k++) {
			const struct store_attempt *a = &o[i + k].attempt;
			int c = (int)k * ATTEMPT_COLS;
			bind_int(s, c + 1, a->outbox_id);
			bind_int(s, c + 2, a->attempt);
			bind_int(s, c + 3, a->started_at);
			bind_int(s, c + 4, a->finished_at);
			bind_str(s, c + 5, a->outcome);
			bind_int(s, c + 6, a->curl_code);
			bind_str(s, c + 7, a->reply);
		}
		if ((r = finish(st, s, sqlite3_step(s), err, "cannot record attempts")) != STORE_OK)
			return r;
	}
	for (size_t i = 0; i < n; i++) {
		const struct store_outcome *x = &o[i];
		if (strcmp(x->status, "sent") == 0) {
			/* The first row sent in its second brings all of that second's. */
			bool first = true;
			for (size_t j = 0; j < i && first; j++)
				first = strcmp(o[j].status, "sent") != 0 ||
					o[j].attempt.finished_at != x->attempt.finished_at;
			if (first &&
			    (r = sent_in(st, o, i, n, x->attempt.finished_at, err)) != STORE_OK)
				return r;
			continue;
		}
		s = st->stmt[STMT_OUTBOX_FINISH];
		bind_int(s, 1, x->attempt.outbox_id);
		bind_str(s, 2, x->status);
		bind_time(s, 3, x->next_attempt_at);
		bind_str(s, 4, x->last_error);
		bind_int(s, 5, x->attempt.finished_at);
		if ((r = finish(st, s, sqlite3_step(s), err, "cannot update an outbox row")) !=
		    STORE_OK)
			return r;
	}
	return STORE_OK;
}

enum store_status store_outbox_retry(struct store *st, int64_t id, int64_t now, struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_OUTBOX_RETRY];
	enum store_status r;

	bind_int(s, 1, id);
	bind_int(s, 2, now);
	r = finish(st, s, sqlite3_step(s), err, "cannot retry an outbox row");
	return r == STORE_OK && sqlite3_changes(st->db) == 0 ? STORE_NOT_FOUND : r;
}

enum store_status store_outbox_attempts(struct store *st, int64_t outbox_id,
					void (*cb)(void *ctx, const struct store_attempt *a),
					void *ctx, struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_ATTEMPT_LIST];
	int rc;

	bind_int(s, 1, outbox_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_attempt a = {
			.outbox_id = sqlite3_column_int64(s, 0),
			.attempt = sqlite3_column_int64(s, 1),
			.started_at = sqlite3_column_int64(s, 2),
			.finished_at = sqlite3_column_int64(s, 3),
			.outcome = (const char *)sqlite3_column_text(s, 4),
			.curl_code = sqlite3_column_int64(s, 5),
			.reply = (const char *)sqlite3_column_text(s, 6),
		};
		cb(ctx, &a);
	}
	return finish(st, s, rc, err, "cannot list attempts");
}

/* --- operations: /metrics and backups ------------------------------------------------------ */

enum store_status store_metrics(struct store *st, int64_t now, store_metric_cb cb, void *ctx,
				struct err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_METRICS];
	int rc;

	bind_int(s, 1, now);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *labels[3];
		for (int i = 0; i < 3; i++)
			labels[i] = (const char *)sqlite3_column_text(s, 1 + i);
		if (cb(ctx, (enum store_metric)sqlite3_column_int(s, 0), labels,
		       sqlite3_column_int64(s, 4)) != 0)
			break;
	}
	return finish(st, s, rc, err, "cannot count the metrics");
}

/* fsync(2) of the file or directory at path. */
static int sync_path(const char *path, struct err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return err_set(err, NULL, "cannot open %s: %s", path, strerror(errno));
	rc = fsync(fd);
	if (rc != 0)
		err_set(err, NULL, "cannot flush %s to disk: %s", path, strerror(errno));
	close(fd);
	return rc == 0 ? 0 : -1;
}

/* The directory part of path ("." when it has none) into buf. */
static void dir_of(const char *path, char *buf, size_t n)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(buf, n, ".");
	else if (slash == path)
		snprintf(buf, n, "/");
	else
		snprintf(buf, n, "%.*s", (int)(slash - path), path);
}

/* The single "ok" row of PRAGMA integrity_check on db, or the first problem into err. */
static int check_integrity(sqlite3 *db, const char *path, struct err *err)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL), ret = -1;

	if (rc == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
		const char *r = (const char *)sqlite3_column_text(s, 0);
		if (r && strcmp(r, "ok") == 0)
			ret = 0;
		else
			err_set(err, NULL, "the copy %s fails its integrity check: %s", path,
				r ? r : "(null)");
	} else {
		err_set(err, NULL, "cannot check the copy %s: %s", path, sqlite3_errmsg(db));
	}
	sqlite3_finalize(s);
	return ret;
}

enum store_status store_backup(const char *src_path, const char *dest_path,
			       struct store_backup_info *info, struct err *err)
{
	enum store_status status = STORE_ERROR;
	sqlite3 *src = NULL, *dest = NULL;
	sqlite3_backup *b = NULL;
	char tmp[4200], dir[4200];
	bool made = false;
	struct stat sb;
	int fd, rc;

	err_clear(err);
	memset(info, 0, sizeof(*info));
	if (snprintf(tmp, sizeof(tmp), "%s.partial", dest_path) >= (int)sizeof(tmp)) {
		err_set(err, NULL, "the path %.200s is too long", dest_path);
		goto fail;
	}
	if (lstat(dest_path, &sb) == 0) {
		err_set(err, NULL, "%s exists already; a backup never overwrites a file",
			dest_path);
		status = STORE_CONFLICT;
		goto fail;
	}
	/* Made here, not by SQLite, so that the copy is private to the daemon's user whatever
	 * the umask; O_EXCL also refuses a second backup into the same file. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		status = errno == EEXIST ? STORE_CONFLICT : STORE_ERROR;
		err_set(err, NULL, "cannot create %s: %s", tmp, strerror(errno));
		goto fail;
	}
	close(fd);
	made = true;
	rc = sqlite3_open_v2(src_path, &src, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(src, 5000);
	if (rc != SQLITE_OK) {
		err_set(err, NULL, "cannot open the database %s: %s", src_path,
			src ? sqlite3_errmsg(src) : sqlite3_errstr(rc));
		goto fail;
	}
	rc = sqlite3_open_v2(tmp, &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		err_set(err, NULL, "cannot open the copy %s: %s", tmp,
			dest ? sqlite3_errmsg(dest) : sqlite3_errstr(rc));
		goto fail;
	}
	b = sqlite3_backup_init(dest, "main", src, "main");
	if (!b) {
		err_set(err, NULL, "cannot start the backup: %s", sqlite3_errmsg(dest));
		goto fail;
	}
	/* All pages in one step: one read transaction, hence one consistent snapshot, while the
	 * writer goes on in the WAL. Steps of a few pages would restart whenever the daemon
	 * commits, and under a steady load might never finish. */
	rc = sqlite3_backup_step(b, -1);
	info->pages = sqlite3_backup_pagecount(b);
	if (rc != SQLITE_DONE) {
		status = status_of(rc);
		err_set(err, NULL, "the backup failed: %s", sqlite3_errstr(rc));
		goto fail;
	}
	rc = sqlite3_backup_finish(b);
	b = NULL;
	if (rc != SQLITE_OK) {
		err_set(err, NULL, "the backup failed: %s", sqlite3_errmsg(dest));
		goto fail;
	}
	/* The copy carries the source's WAL mark: make it one self-contained file (no -wal or
	 * -shm beside it) that opens anywhere, even read-only. */
	if (sqlite3_exec(dest, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) != SQLITE_OK) {
		err_set(err, NULL, "cannot finish the copy %s: %s", tmp, sqlite3_errmsg(dest));
		goto fail;
	}
	if (check_integrity(dest, tmp, err) != 0)
		goto fail;
	if ((rc = sqlite3_close(dest)) != SQLITE_OK) {
		err_set(err, NULL, "cannot close the copy %s: %s", tmp, sqlite3_errstr(rc));
		goto fail;
	}
	dest = NULL;
	dir_of(dest_path, dir, sizeof(dir));
	if (sync_path(tmp, err) != 0)
		goto fail;
	if (rename(tmp, dest_path) != 0) {
		err_set(err, NULL, "cannot rename %s to %s: %s", tmp, dest_path, strerror(errno));
		goto fail;
	}
	made = false;
	/* The rename is durable only once the directory is. */
	if (sync_path(dir, err) != 0 || stat(dest_path, &sb) != 0) {
		if (!err || !err->msg[0])
			err_set(err, NULL, "cannot read %s: %s", dest_path, strerror(errno));
		goto fail;
	}
	info->bytes = (int64_t)sb.st_size;
	sqlite3_close(src);
	return STORE_OK;
fail:
	if (b)
		sqlite3_backup_finish(b);
	sqlite3_close(dest);
	sqlite3_close(src);
	if (made) {
		static const char *const sides[] = { "-journal", "-wal", "-shm" };
		char side[4300];
		for (size_t i = 0; i < sizeof(sides) / sizeof(sides[0]); i++) {
			snprintf(side, sizeof(side), "%s%s", tmp, sides[i]);
			unlink(side);
		}
		unlink(tmp);
	}
	return status;
}
