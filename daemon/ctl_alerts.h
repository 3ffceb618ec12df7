/* ctl_alerts: dunghanctl alerts list|ack and outbox list|retry (docs/escalation.md, "Alerts";
 * docs/delivery.md), and the alert columns that the show commands reuse for an item's alerts. */
#ifndef DUNGHAN_CTL_ALERTS_H
#define DUNGHAN_CTL_ALERTS_H

#include <stddef.h>

#include "ctl_view.h"

/* The columns and row of an alert. */
extern const struct ctl_field ctl_alert_fields[];
extern const size_t ctl_alert_nfields;
void ctl_alert_row(struct ctl *ctl, const json_t *alert, struct ctl_row *r);

#endif
