/* kpi_dataset: the province-year the KPI and dashboard benchmarks read (bench_kpi.c,
 * bench_dashboard.c), so that both measure the same data: a config of U units with targets, and
 * N cases of 2024 written straight into SQLite (see bench_kpi.c for the mix). */
#ifndef DUNGHAN_BENCH_KPI_DATASET_H
#define DUNGHAN_BENCH_KPI_DATASET_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "harness.h"
#include "store.h"

#define YEAR_FROM 1704042000 /* 2024-01-01T00:00:00+07:00 */
#define YEAR_TO 1735664400   /* 2025-01-01T00:00:00+07:00 */
#define DAY 86400

static uint64_t kpi_dataset_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The config text: units u0 (province), u1..u(units / 5) departments, the rest communes, all
 * under u0; targets per level. malloc'd, or NULL when out of memory. */
static char *kpi_dataset_config(size_t units)
{
	size_t cap = 1024 + units * 160, len = 0;
	char *t = malloc(cap);

	if (!t)
		return NULL;
	len += (size_t)snprintf(t + len, cap - len,
		"calendar: { timezone = \"Asia/Ho_Chi_Minh\"; week = [\"mon\",\"tue\",\"wed\","
		"\"thu\",\"fri\"]; office_hours = [\"07:30-11:30\", \"13:00-17:00\"]; };\n"
		"procedures = ( { code = \"1.004227\"; name = \"Đăng ký thường trú\";"
		" days = 3.0; } );\n"
		"targets = ( { level = \"province\"; on_time = 97.0; },\n"
		"  { level = \"department\"; on_time = 97.0; online = 80.0;"
		" online_payment = 30.0; },\n"
		"  { level = \"commune\"; on_time = 97.0; online = 30.0; } );\n"
		"units = ( { id = \"u0\"; name = \"UBND tỉnh\"; level = \"province\"; }");
	for (size_t i = 1; i < units; i++)
		len += (size_t)snprintf(t + len, cap - len,
					",\n  { id = \"u%zu\"; name = \"Đơn vị %zu\";"
					" level = \"%s\"; parent = \"u0\"; }",
					i, i, i <= units / 5 ? "department" : "commune");
	snprintf(t + len, cap - len, " );\n");
	return t;
}

/* Writes n cases of 2024 over the units u0.. in one transaction into the database at db_path
 * (made by kpi_dataset_make, which calls it). Returns 0 or -1 (said on stderr). */
static int kpi_dataset_fill(const char *db_path, size_t n, size_t units)
{
	static const unsigned char hash[32];
	static const char *const online[] = { "none", "partial", "full" };
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	uint64_t rnd = 0x9e3779b97f4a7c15ull;
	int rc = -1;

	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA synchronous = OFF; PRAGMA cache_size = -262144; BEGIN", NULL,
			 NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
		"INSERT INTO cases (code, procedure, unit_id, received_at, due_at, due_given,"
		" online, paid_online, digitized, status, outcome, late, paused_at, remaining,"
		" completed_at, ended_at, version, created_at, updated_at, create_hash, fee,"
		" rating, rated_at) VALUES (?1, '1.004227', ?2, ?3, ?4, 0, ?5, ?6, ?7, ?8, ?9,"
		" ?10, ?11, ?12, ?13, ?14, 1, ?3, ?3, ?15, ?16, ?17, ?18)", -1, &s, NULL) !=
		    SQLITE_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		char code[32], unit[16];
		int64_t received =
			YEAR_FROM + (int64_t)((double)i * (YEAR_TO - YEAR_FROM) / (double)n);
		int64_t due = received + (3 + (int64_t)(kpi_dataset_random(&rnd) % 13)) * DAY;
		uint64_t r = kpi_dataset_random(&rnd);
		int roll = (int)(r % 1000);
		const char *status = "completed", *outcome = NULL;
		int64_t completed = -1, ended = -1, paused = -1, remaining = -1, rated = -1;
		int late = 0, rating = 0;

		snprintf(code, sizeof(code), "B-%08zu", i);
		snprintf(unit, sizeof(unit), "u%zu", (size_t)(r >> 20) % units);
		if (roll < 5) {
			status = "withdrawn", ended = received + DAY;
		} else if (roll < 10) {
			status = "rejected", ended = received + DAY;
		} else if (roll < 30) {
			status = "in_progress";
		} else if (roll < 40) {
			status = "paused", paused = received + DAY, remaining = 4 * 3600;
		} else {
			int o = (int)((r >> 10) % 1000);
			if (o < 30) {
				outcome = "late", completed = due + (1 + o % 5) * DAY, late = o < 5;
			} else if (o < 400) {
				outcome = "on_time", completed = due - 3600;
			} else {
				outcome = "early", completed = received + (due - received) / 2;
			}
			if ((r >> 30) % 10 < 3)
				rating = 1 + (int)((r >> 34) % 5), rated = completed + DAY;
		}
		sqlite3_bind_text(s, 1, code, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 2, unit, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 3, received);
		sqlite3_bind_int64(s, 4, due);
		sqlite3_bind_text(s, 5, online[(r >> 40) % 3], -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 6, (r >> 42) % 3 == 0);
		sqlite3_bind_int(s, 7, (r >> 44) % 5 != 0);
		sqlite3_bind_text(s, 8, status, -1, SQLITE_STATIC);
		if (outcome)
			sqlite3_bind_text(s, 9, outcome, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(s, 9);
		sqlite3_bind_int(s, 10, late);
		int64_t opt[] = { paused, remaining, completed, ended };
		for (int k = 0; k < 4; k++)
			if (opt[k] >= 0)
				sqlite3_bind_int64(s, 11 + k, opt[k]);
			else
				sqlite3_bind_null(s, 11 + k);
		sqlite3_bind_blob(s, 15, hash, sizeof(hash), SQLITE_STATIC);
		sqlite3_bind_int64(s, 16, (r >> 46) % 2 ? 50000 : 0);
		if (rating) {
			sqlite3_bind_int(s, 17, rating);
			sqlite3_bind_int64(s, 18, rated);
		} else {
			sqlite3_bind_null(s, 17);
			sqlite3_bind_null(s, 18);
		}
		if (sqlite3_step(s) != SQLITE_DONE)
			goto out;
		sqlite3_reset(s);
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "bench: filling the database: %s\n", sqlite3_errmsg(db));
	sqlite3_finalize(s);
	sqlite3_close(db);
	return rc;
}

/* The whole data set in h's directory: the config (its text into *text, malloc'd; loaded into
 * *cfg) as kpi.conf and the database at kpi.db (db_path, db_size bytes) migrated, the office
 * synced, and n cases written. Returns 0, or -1 said on stderr under the name who; *text and
 * *cfg are the caller's to free either way. */
static int kpi_dataset_make(struct harness *h, const char *who, size_t n, size_t units,
			    char **text, struct config **cfg, char *db_path, size_t db_size)
{
	char path[600], *errors = NULL;
	enum store_status ss;
	struct store *st;
	struct err err;

	if (!(*text = kpi_dataset_config(units)) || harness_write(h, "kpi.conf", *text) != 0) {
		fprintf(stderr, "%s: cannot write the config\n", who);
		return -1;
	}
	*cfg = config_load(harness_path(h, "kpi.conf", path, sizeof(path)), NULL, NULL, &errors);
	if (!*cfg) {
		fprintf(stderr, "%s: %s\n", who, errors ? errors : "config");
		free(errors);
		return -1;
	}
	harness_path(h, "kpi.db", db_path, db_size);
	if (!(st = store_open(db_path, NULL, &ss, &err)) ||
	    store_sync_config(st, *cfg, 1000, &err) != STORE_OK) {
		fprintf(stderr, "%s: %s\n", who, err.msg);
		store_close(st);
		return -1;
	}
	store_close(st);
	return kpi_dataset_fill(db_path, n, units);
}

#endif
