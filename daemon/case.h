/* case: the rules of a one-stop case (hồ sơ một cửa) — its states and the events that move it,
 * how its due instant is computed from the procedure's legal time in working time, what a
 * pause and a resume do to the clock, and how its outcome is judged. Pure logic over a record;
 * storage and HTTP live elsewhere. */
#ifndef DUNGHAN_CASE_H
#define DUNGHAN_CASE_H

#include <stdbool.h>
#include <stdint.h>

#include "calendar.h"
#include "err.h"

#define CASE_ID_MAX 64         /* codes and ids of units, people, procedures */
#define CASE_TEXT_MAX 300      /* applicant names */

enum case_status {
	CASE_RECEIVED,
	CASE_IN_PROGRESS,
	CASE_PAUSED,
	CASE_COMPLETED,
	CASE_RETURNED,
	CASE_WITHDRAWN,
	CASE_REJECTED,
	CASE_STATUS_COUNT
};

enum case_outcome { CASE_OUTCOME_NONE, CASE_EARLY, CASE_ON_TIME, CASE_LATE };

enum case_online { CASE_ONLINE_NONE, CASE_ONLINE_PARTIAL, CASE_ONLINE_FULL };

enum case_event_type {
	CASE_EV_ASSIGN,
	CASE_EV_TRANSFER,
	CASE_EV_PAUSE,
	CASE_EV_RESUME,
	CASE_EV_COMPLETE,
	CASE_EV_RETURN,
	CASE_EV_WITHDRAW,
	CASE_EV_REJECT,
	CASE_EV_RESCHEDULE,
	CASE_EV_NOTE,
	CASE_EV_EXTEND,
	CASE_EV_RATE,   /* the applicant's satisfaction rating, once, after completion */
	CASE_EV_COUNT
};

struct case_record {
	int64_t id;
	char code[CASE_ID_MAX + 1];
	char procedure[CASE_ID_MAX + 1];
	char unit[CASE_ID_MAX + 1];
	char handler[CASE_ID_MAX + 1];     /* "" = none */
	char applicant[CASE_TEXT_MAX + 1]; /* "" = none */
	int64_t received_at;
	int64_t due_at;
	bool due_given;
	enum case_online online;
	bool paid_online;
	bool digitized;
	int64_t fee;          /* the fee in VND; 0 = free */
	enum case_status status;
	enum case_outcome outcome;
	bool late;            /* rescheduled: late in every figure, whatever happens next */
	bool extended;        /* the legal extension (extended_days) was granted */
	int64_t paused_at;    /* TIME_NONE unless paused */
	int64_t remaining;    /* office seconds left at the pause; 0 when not paused */
	int64_t paused_total; /* office seconds of the pauses that have ended */
	int64_t completed_at; /* TIME_NONE until completed */
	int64_t ended_at;     /* returned, withdrawn or rejected; TIME_NONE before */
	int rating;           /* 1-5, the applicant's satisfaction; 0 = not rated */
	int64_t rated_at;     /* TIME_NONE until rated */
	int64_t version;
	int64_t created_at;
	int64_t updated_at;
};

/* What an event carries; fields an event type does not use are ignored. */
struct case_event {
	enum case_event_type type; /* extend: the legal extension, once, before due */
	int64_t at;
	const char *handler; /* assign (required), transfer (optional) */
	const char *unit;    /* transfer */
	int64_t due_at;      /* reschedule */
	int rating;          /* rate: 1-5 */
};

/* The procedure facts the rules need. */
struct case_procedure {
	double days;          /* legal time in working days; 0 = by the end of the working day */
	double extended_days; /* the legal maximum with verification; 0 = no extension */
	int cutoff_min;       /* same-day: received after this minute of the day counts as the
	                       * next working day; 0 = none */
	bool resume_continue; /* on_resume: true = continue with what was left, false = restart */
};

/* Names as used in JSON and SQL; parse functions return -1 for an unknown name. */
const char *case_status_name(enum case_status s);
int case_status_parse(const char *name);
const char *case_outcome_name(enum case_outcome o); /* NULL for CASE_OUTCOME_NONE */
int case_outcome_parse(const char *name);
const char *case_online_name(enum case_online o);
int case_online_parse(const char *name);
const char *case_event_name(enum case_event_type t);
int case_event_parse(const char *name);

/* Whether a case in status s is still open (received, in progress or paused). */
bool case_is_open(enum case_status s);

/* The due instant of a case received at `received_at` under procedure p: calendar_add of
 * p->days full office days; for a same-day procedure (days 0) the end of the working day in
 * which the case counts as received — the next working day when received outside office
 * hours or after p->cutoff_min. */
int64_t case_due(struct calendar *cal, int64_t received_at, const struct case_procedure *p);

/* Applies ev to c (which must be valid): checks the transition, updates status, clock, due,
 * outcome and the handler/unit fields, and bumps version and updated_at (= now).
 * Returns 0, or -1 with err filled when the event is not allowed in c's status or its data
 * contradicts the case (err->field names the field). c is unchanged on error. */
int case_apply(struct case_record *c, const struct case_event *ev, const struct case_procedure *p,
	       struct calendar *cal, int64_t now, struct err *err);

/* The outcome of a case completed at `completed_at`: late when `late` is set or after due_at;
 * early when on a local date before the due date; otherwise on time. */
enum case_outcome case_judge(struct calendar *cal, int64_t completed_at, int64_t due_at, bool late);

#endif
