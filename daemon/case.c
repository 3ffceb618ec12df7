/* case: the rules of a one-stop case (see case.h).
 * The transition table below is the whole state machine: for each event, the statuses it is
 * allowed from and the status it leads to (-1: unchanged). */
#include "case.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const status_names[CASE_STATUS_COUNT] = {
	"received", "in_progress", "paused", "completed", "returned", "withdrawn", "rejected",
};
static const char *const outcome_names[] = { NULL, "early", "on_time", "late" };
static const char *const online_names[] = { "none", "partial", "full" };
static const char *const event_names[CASE_EV_COUNT] = {
	"assign", "transfer", "pause", "resume", "complete", "return", "withdraw", "reject",
	"reschedule", "note", "extend", "rate",
};

#define S(x) (1u << (x))
#define OPEN (S(CASE_RECEIVED) | S(CASE_IN_PROGRESS) | S(CASE_PAUSED))
#define ANY ((1u << CASE_STATUS_COUNT) - 1)

static const struct {
	unsigned from; /* bit set of statuses */
	int to;        /* enum case_status, or -1 = unchanged */
} transitions[CASE_EV_COUNT] = {
	[CASE_EV_ASSIGN] = { OPEN, -1 },
	[CASE_EV_TRANSFER] = { OPEN, -1 },
	[CASE_EV_PAUSE] = { S(CASE_RECEIVED) | S(CASE_IN_PROGRESS), CASE_PAUSED },
	[CASE_EV_RESUME] = { S(CASE_PAUSED), CASE_IN_PROGRESS },
	[CASE_EV_COMPLETE] = { S(CASE_RECEIVED) | S(CASE_IN_PROGRESS), CASE_COMPLETED },
	[CASE_EV_RETURN] = { S(CASE_COMPLETED), CASE_RETURNED },
	[CASE_EV_WITHDRAW] = { OPEN, CASE_WITHDRAWN },
	[CASE_EV_REJECT] = { OPEN, CASE_REJECTED },
	[CASE_EV_RESCHEDULE] = { OPEN, -1 },
	[CASE_EV_NOTE] = { ANY, -1 },
	[CASE_EV_EXTEND] = { S(CASE_RECEIVED) | S(CASE_IN_PROGRESS), -1 },
	[CASE_EV_RATE] = { S(CASE_COMPLETED) | S(CASE_RETURNED), -1 },
};

static int parse_name(const char *const *names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (names[i] && strcmp(names[i], name) == 0)
			return i;
	return -1;
}

const char *case_status_name(enum case_status s) { return status_names[s]; }
int case_status_parse(const char *name) { return parse_name(status_names, CASE_STATUS_COUNT, name); }
const char *case_outcome_name(enum case_outcome o) { return outcome_names[o]; }
int case_outcome_parse(const char *name) { return parse_name(outcome_names, 4, name); }
const char *case_online_name(enum case_online o) { return online_names[o]; }
int case_online_parse(const char *name) { return parse_name(online_names, 3, name); }
const char *case_event_name(enum case_event_type t) { return event_names[t]; }
int case_event_parse(const char *name) { return parse_name(event_names, CASE_EV_COUNT, name); }

bool case_is_open(enum case_status s)
{
	return (OPEN & S(s)) != 0;
}

/* Office seconds of `days` working days, rounded to the second. */
static int64_t days_to_seconds(struct calendar *cal, double days)
{
	return (int64_t)llround(days * (double)calendar_day_seconds(cal));
}

int64_t case_due(struct calendar *cal, int64_t received_at, const struct case_procedure *p)
{
	int64_t end;
	int32_t day;

	if (p->days > 0)
		return calendar_add(cal, received_at, days_to_seconds(cal, p->days));
	end = calendar_end_of_day(cal, received_at);
	day = calendar_day_of(cal, received_at);
	/* Received after the cut-off on a day it counts for: due the end of the next working
	 * day. A receipt outside office hours already counts for the next working day. */
	if (p->cutoff_min > 0 && calendar_day_of(cal, end) == day &&
	    received_at > calendar_instant_of(cal, day, p->cutoff_min))
		end = calendar_end_of_day(cal, end);
	return end;
}

enum case_outcome case_judge(struct calendar *cal, int64_t completed_at, int64_t due_at, bool late)
{
	if (late || completed_at > due_at)
		return CASE_LATE;
	if (calendar_day_of(cal, completed_at) < calendar_day_of(cal, due_at))
		return CASE_EARLY;
	return CASE_ON_TIME;
}

int case_apply(struct case_record *c, const struct case_event *ev, const struct case_procedure *p,
	       struct calendar *cal, int64_t now, struct err *err)
{
	struct case_record next = *c;
	int to = transitions[ev->type].to;

	if (!(transitions[ev->type].from & S(c->status)))
		return err_set(err, "type", "a case that is %s cannot take the event \"%s\"",
			       status_names[c->status], event_names[ev->type]);
	if (ev->at < c->received_at)
		return err_set(err, "at", "the event is before the case was received");
	if (c->status == CASE_PAUSED && ev->at < c->paused_at)
		return err_set(err, "at", "the event is before the case was paused");
	if (c->status == CASE_COMPLETED && ev->type != CASE_EV_NOTE && ev->at < c->completed_at)
		return err_set(err, "at", "the event is before the case was completed");

	switch (ev->type) {
	case CASE_EV_ASSIGN:
		snprintf(next.handler, sizeof(next.handler), "%s", ev->handler);
		break;
	case CASE_EV_TRANSFER:
		snprintf(next.unit, sizeof(next.unit), "%s", ev->unit);
		/* The old handler belongs to the old unit: keep one only when named. */
		snprintf(next.handler, sizeof(next.handler), "%s", ev->handler ? ev->handler : "");
		break;
	case CASE_EV_PAUSE:
		next.paused_at = ev->at;
		next.remaining = calendar_between(cal, ev->at, c->due_at);
		break;
	case CASE_EV_RESUME:
		next.paused_total += calendar_between(cal, c->paused_at, ev->at);
		if (c->remaining > 0)
			next.due_at = calendar_add(cal, ev->at, c->remaining);
		/* else: paused when already overdue; the due instant stays in the past. */
		if (!p->resume_continue) {
			/* The full time again: the extended maximum once extended. Never less than
			 * was left, which holds a given date, an extension's or an appointment made
			 * by a reschedule: the time of a supplement is not the office's loss. */
			struct case_procedure full = *p;
			int64_t again;

			if (c->extended && p->extended_days > 0)
				full.days = p->extended_days;
			again = case_due(cal, ev->at, &full);
			if (again > next.due_at)
				next.due_at = again;
		}
		next.paused_at = TIME_NONE;
		next.remaining = 0;
		break;
	case CASE_EV_COMPLETE:
		next.completed_at = ev->at;
		next.outcome = case_judge(cal, ev->at, c->due_at, c->late);
		break;
	case CASE_EV_RETURN:
	case CASE_EV_WITHDRAW:
	case CASE_EV_REJECT:
		next.ended_at = ev->at;
		/* Ended while paused: the pause ends with it (paused_at is "while paused"). */
		if (c->status == CASE_PAUSED)
			next.paused_total += calendar_between(cal, c->paused_at, ev->at);
		next.paused_at = TIME_NONE;
		next.remaining = 0;
		break;
	case CASE_EV_RESCHEDULE:
		if (ev->due_at <= c->due_at)
			return err_set(err, "due_at", "a new appointment must be later than the current one");
		next.due_at = ev->due_at;
		next.late = true;
		if (c->status == CASE_PAUSED)
			next.remaining = calendar_between(cal, c->paused_at, ev->due_at);
		break;
	case CASE_EV_EXTEND:
		if (p->extended_days <= 0)
			return err_set(err, "type", "the procedure has no legal extension");
		if (c->extended)
			return err_set(err, "type", "the case was already extended");
		if (ev->at >= c->due_at)
			return err_set(err, "type", "an extension must be granted before the due instant");
		/* The paused time stays excluded: it is added back to the legal maximum. */
		next.due_at = calendar_add(cal, c->received_at,
					   days_to_seconds(cal, p->extended_days) + c->paused_total);
		if (next.due_at <= c->due_at)
			return err_set(err, "type", "the extension would not move the due instant");
		next.extended = true;
		break;
	case CASE_EV_RATE:
		if (ev->rating < 1 || ev->rating > 5)
			return err_set(err, "rating", "a rating is a whole number from 1 to 5");
		if (c->rating)
			return err_set(err, "type", "the case was already rated");
		next.rating = ev->rating;
		next.rated_at = ev->at;
		break;
	case CASE_EV_NOTE:
	case CASE_EV_COUNT:
		break;
	}
	if (to >= 0)
		next.status = (enum case_status)to;
	else if (c->status == CASE_RECEIVED &&
		 (ev->type == CASE_EV_ASSIGN || ev->type == CASE_EV_TRANSFER))
		next.status = CASE_IN_PROGRESS;
	next.version = c->version + 1;
	next.updated_at = now;
	*c = next;
	return 0;
}
