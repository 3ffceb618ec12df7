/* document: the rules of incoming documents and assignments (see document.h). As for cases,
 * one table per kind says which statuses an event is allowed from and where it leads. */
#include "document.h"

#include <stdio.h>
#include <string.h>

static const char *const urgency_names[] = { "normal", "urgent", "very_urgent", "flash" };
static const char *const secrecy_names[] = { "normal", "confidential", "secret", "top_secret" };
static const char *const doc_status_names[] = { "registered", "in_progress", "done" };
static const char *const doc_event_names[DOCUMENT_EV_COUNT] = {
	"forward", "complete", "reopen", "reschedule", "note",
};
static const char *const role_names[] = { "lead", "support" };
static const char *const asg_status_names[] = { "open", "done" };
static const char *const asg_event_names[ASSIGNMENT_EV_COUNT] = {
	"done", "reopen", "reassign", "reschedule", "note",
};

#define S(x) (1u << (x))

static const struct {
	unsigned from;
	int to; /* -1: unchanged */
} doc_transitions[DOCUMENT_EV_COUNT] = {
	[DOCUMENT_EV_FORWARD] = { S(DOCUMENT_REGISTERED) | S(DOCUMENT_IN_PROGRESS), DOCUMENT_IN_PROGRESS },
	[DOCUMENT_EV_COMPLETE] = { S(DOCUMENT_REGISTERED) | S(DOCUMENT_IN_PROGRESS), DOCUMENT_DONE },
	[DOCUMENT_EV_REOPEN] = { S(DOCUMENT_DONE), DOCUMENT_IN_PROGRESS },
	[DOCUMENT_EV_RESCHEDULE] = { S(DOCUMENT_REGISTERED) | S(DOCUMENT_IN_PROGRESS), -1 },
	[DOCUMENT_EV_NOTE] = { 7, -1 },
}, asg_transitions[ASSIGNMENT_EV_COUNT] = {
	[ASSIGNMENT_EV_DONE] = { S(ASSIGNMENT_OPEN), ASSIGNMENT_DONE },
	[ASSIGNMENT_EV_REOPEN] = { S(ASSIGNMENT_DONE), ASSIGNMENT_OPEN },
	[ASSIGNMENT_EV_REASSIGN] = { S(ASSIGNMENT_OPEN), -1 },
	[ASSIGNMENT_EV_RESCHEDULE] = { S(ASSIGNMENT_OPEN), -1 },
	[ASSIGNMENT_EV_NOTE] = { 3, -1 },
};

static int parse_name(const char *const *names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

#define NAMES(prefix, type, table)                                                           \
	const char *prefix##_name(type v) { return table[v]; }                                \
	int prefix##_parse(const char *name)                                                  \
	{                                                                                     \
		return parse_name(table, (int)(sizeof(table) / sizeof(table[0])), name);      \
	}

NAMES(document_urgency, enum document_urgency, urgency_names)
NAMES(document_secrecy, enum document_secrecy, secrecy_names)
NAMES(document_status, enum document_status, doc_status_names)
NAMES(document_event, enum document_event_type, doc_event_names)
NAMES(assignment_role, enum assignment_role, role_names)
NAMES(assignment_status, enum assignment_status, asg_status_names)
NAMES(assignment_event, enum assignment_event_type, asg_event_names)

int64_t document_due(struct calendar *cal, int64_t received_at, int64_t seconds)
{
	return seconds > 0 ? calendar_add(cal, received_at, seconds)
			   : calendar_end_of_day(cal, received_at);
}

int document_apply(struct document_record *d, const struct document_event *ev, int64_t now,
		   struct err *err)
{
	int to = doc_transitions[ev->type].to;

	if (!(doc_transitions[ev->type].from & S(d->status)))
		return err_set(err, "type", "a document that is %s cannot take the event \"%s\"",
			       doc_status_names[d->status], doc_event_names[ev->type]);
	if (ev->at < d->received_at)
		return err_set(err, "at", "the event is before the document was received");
	switch (ev->type) {
	case DOCUMENT_EV_FORWARD:
		snprintf(d->lead_unit, sizeof(d->lead_unit), "%s", ev->unit);
		break;
	case DOCUMENT_EV_COMPLETE:
		d->done_at = ev->at;
		break;
	case DOCUMENT_EV_REOPEN:
		d->done_at = TIME_NONE;
		break;
	case DOCUMENT_EV_RESCHEDULE:
		d->due_at = ev->due_at;
		break;
	}
	if (to >= 0)
		d->status = (enum document_status)to;
	d->version++;
	d->updated_at = now;
	return 0;
}

int assignment_apply(struct assignment_record *a, const struct document_event *ev, int64_t now,
		     struct err *err)
{
	int to = asg_transitions[ev->type].to;

	if (!(asg_transitions[ev->type].from & S(a->status)))
		return err_set(err, "type", "an assignment that is %s cannot take the event \"%s\"",
			       asg_status_names[a->status], asg_event_names[ev->type]);
	switch (ev->type) {
	case ASSIGNMENT_EV_DONE:
		a->done_at = ev->at;
		break;
	case ASSIGNMENT_EV_REOPEN:
		a->done_at = TIME_NONE;
		break;
	case ASSIGNMENT_EV_REASSIGN:
		snprintf(a->assignee, sizeof(a->assignee), "%s", ev->assignee);
		break;
	case ASSIGNMENT_EV_RESCHEDULE:
		a->due_at = ev->due_at;
		break;
	}
	if (to >= 0)
		a->status = (enum assignment_status)to;
	a->version++;
	a->updated_at = now;
	return 0;
}
