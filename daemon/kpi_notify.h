/* kpi_notify: the KPI messages heads get without asking — the error-budget warning
 * (escalation.budget: the 7-day burn rate too high or too little budget left, at most once a
 * week per unit) and the weekly KPI report (escalation.kpi_report: each head's table of their
 * unit's figures against its targets, with the worst cases). Figures are computed in the
 * thread pool on a read-only connection; messages are written to the outbox on the loop. */
#ifndef DUNGHAN_KPI_NOTIFY_H
#define DUNGHAN_KPI_NOTIFY_H

#include <uv.h>

#include "config.h"
#include "err.h"
#include "store.h"

struct kpi_notify;

/* Starts the checks on loop over store (borrowed; read-only connections are opened on
 * store_path(store)). With neither escalation.budget nor escalation.kpi_report configured it
 * does nothing until a reload turns one on. Returns NULL with err on failure. */
struct kpi_notify *kpi_notify_new(uv_loop_t *loop, struct store *store, const struct config *cfg,
				  struct err *err);

/* The configuration to use from now on. */
void kpi_notify_set_config(struct kpi_notify *n, const struct config *cfg);

/* Stops the timer, lets a computation in the thread pool finish (its result is dropped), closes
 * the handles; cb(arg) runs once everything is closed, after which n is freed. */
void kpi_notify_close(struct kpi_notify *n, void (*cb)(void *arg), void *arg);

#endif
