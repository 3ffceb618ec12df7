/* item_json: the JSON of the items exactly as the API answers with them — cases, documents,
 * assignments, alerts and events — so that the API and `dunghanctl --db` (which reads the
 * database itself) cannot drift apart. Instants are RFC 3339 in the calendar's zone. */
#ifndef DUNGHAN_ITEM_JSON_H
#define DUNGHAN_ITEM_JSON_H

#include <jansson.h>
#include <stdint.h>

#include "calendar.h"
#include "case.h"
#include "config.h"
#include "document.h"
#include "store.h"

/* An instant, or JSON null for TIME_NONE. */
json_t *item_json_time(struct calendar *cal, int64_t t);
/* A string, or JSON null for NULL or "". */
json_t *item_json_optional(const char *s);

/* New references (NULL only when out of memory). cfg gives the names of units and procedures. */
json_t *item_json_case(const struct config *cfg, struct calendar *cal,
		       const struct case_record *c);
json_t *item_json_document(const struct config *cfg, struct calendar *cal,
			   const struct document_record *d);
json_t *item_json_assignment(const struct config *cfg, struct calendar *cal,
			     const struct assignment_record *a);
json_t *item_json_alert(struct calendar *cal, const struct store_alert *a);
json_t *item_json_event(struct calendar *cal, const struct store_event *ev);

#endif
