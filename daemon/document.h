/* document: the rules of an incoming official document (văn bản đến, Nghị định 30/2020/NĐ-CP)
 * and of the assignments (giao nhiệm vụ) that documents and leaders' directions create —
 * their records, states, the events that move them, and the due instant of a document from its
 * urgency. Pure logic; storage and HTTP live elsewhere. */
#ifndef DUNGHAN_DOCUMENT_H
#define DUNGHAN_DOCUMENT_H

#include <stdbool.h>
#include <stdint.h>

#include "calendar.h"
#include "err.h"

#define DOCUMENT_ID_MAX 64
#define DOCUMENT_SHORT_MAX 300
#define DOCUMENT_TEXT_MAX 2000

enum document_urgency { DOCUMENT_NORMAL, DOCUMENT_URGENT, DOCUMENT_VERY_URGENT, DOCUMENT_FLASH };
enum document_secrecy { DOCUMENT_OPEN, DOCUMENT_CONFIDENTIAL, DOCUMENT_SECRET, DOCUMENT_TOP_SECRET };
enum document_status { DOCUMENT_REGISTERED, DOCUMENT_IN_PROGRESS, DOCUMENT_DONE };
enum document_event_type {
	DOCUMENT_EV_FORWARD,
	DOCUMENT_EV_COMPLETE,
	DOCUMENT_EV_REOPEN,
	DOCUMENT_EV_RESCHEDULE,
	DOCUMENT_EV_NOTE,
	DOCUMENT_EV_COUNT
};

enum assignment_role { ASSIGNMENT_LEAD, ASSIGNMENT_SUPPORT };
enum assignment_status { ASSIGNMENT_OPEN, ASSIGNMENT_DONE };
enum assignment_event_type {
	ASSIGNMENT_EV_DONE,
	ASSIGNMENT_EV_REOPEN,
	ASSIGNMENT_EV_REASSIGN,
	ASSIGNMENT_EV_RESCHEDULE,
	ASSIGNMENT_EV_NOTE,
	ASSIGNMENT_EV_COUNT
};

struct document_record {
	int64_t id;
	char book[DOCUMENT_ID_MAX + 1];
	int year;                 /* of received_at, local: the register numbers run per year */
	int64_t incoming_no;
	char symbol[DOCUMENT_SHORT_MAX + 1];  /* "" = none */
	char doc_date[11];                    /* YYYY-MM-DD or "" */
	char issuer[DOCUMENT_SHORT_MAX + 1];
	char type[DOCUMENT_SHORT_MAX + 1];
	char summary[DOCUMENT_TEXT_MAX + 1];
	enum document_urgency urgency;
	enum document_secrecy confidentiality;
	int64_t received_at;
	int64_t due_at;
	char lead_unit[DOCUMENT_ID_MAX + 1]; /* "" = none */
	enum document_status status;
	int64_t done_at;          /* TIME_NONE until done */
	int64_t version;
	int64_t created_at;
	int64_t updated_at;
};

struct assignment_record {
	int64_t id;
	int64_t document_id;      /* 0 = none */
	char direction[DOCUMENT_TEXT_MAX + 1]; /* "" = none */
	int64_t parent_id;        /* 0 = none */
	char unit[DOCUMENT_ID_MAX + 1];
	enum assignment_role role;
	char assignee[DOCUMENT_ID_MAX + 1];    /* "" = none */
	char title[DOCUMENT_TEXT_MAX + 1];
	int64_t due_at;
	enum assignment_status status;
	int64_t done_at;          /* TIME_NONE until done */
	int64_t version;
	int64_t created_at;
	int64_t updated_at;
	/* derived, filled by the store when reading */
	int64_t children_total, children_done, children_overdue;
};

/* What an event carries; fields a type does not use are ignored. */
struct document_event {
	int type;            /* enum document_event_type or enum assignment_event_type */
	int64_t at;
	const char *unit;     /* document forward */
	const char *assignee; /* assignment reassign */
	int64_t due_at;       /* reschedule */
};

const char *document_urgency_name(enum document_urgency u);
int document_urgency_parse(const char *name);
const char *document_secrecy_name(enum document_secrecy s);
int document_secrecy_parse(const char *name);
const char *document_status_name(enum document_status s);
int document_status_parse(const char *name);
const char *document_event_name(enum document_event_type t);
int document_event_parse(const char *name);
const char *assignment_role_name(enum assignment_role r);
int assignment_role_parse(const char *name);
const char *assignment_status_name(enum assignment_status s);
int assignment_status_parse(const char *name);
const char *assignment_event_name(enum assignment_event_type t);
int assignment_event_parse(const char *name);

/* The due instant of a document received at `received_at` given `seconds` of handling time
 * (documents.urgency_due): calendar_add, or for 0 the end of the working day of receipt. */
int64_t document_due(struct calendar *cal, int64_t received_at, int64_t seconds);

/* Apply an event; 0, or -1 with err (field "type" for a transition not allowed, else the field
 * at fault) and the record unchanged. Bumps version and updated_at = now. */
int document_apply(struct document_record *d, const struct document_event *ev, int64_t now,
		   struct err *err);
int assignment_apply(struct assignment_record *a, const struct document_event *ev, int64_t now,
		     struct err *err);

#endif
