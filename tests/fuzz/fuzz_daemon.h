/* fuzz_daemon: the daemon's request path in the fuzzer's own process — config, database,
 * scheduler, API and HTTP server on a loopback port, built once — and one exchange: raw bytes
 * in on a fresh connection, the loop turned until the server has answered and closed. */
#ifndef DUNGHAN_FUZZ_DAEMON_H
#define DUNGHAN_FUZZ_DAEMON_H

#include <stddef.h>

struct config;

/* The example office's configuration (absolute paths, port 0, a temporary database, delivery
 * off), loaded once; for harnesses that need the calendar or the units without a daemon. */
struct config *fuzz_office_config(void);

/* Starts the daemon once (later calls return at once). Aborts when it cannot: a fuzzer without
 * its target is a broken build, not a finding. */
void fuzz_daemon_start(void);

/* Sends data on a new connection, half-closes it, and turns the loop until the server closes
 * the connection (bounded: 5 s). Returns the bytes of the answer read (discarded). */
size_t fuzz_daemon_exchange(const void *data, size_t len);

/* The same, keeping the first cap bytes of the answer in answer (not NUL-terminated); accepted
 * (or NULL) is called once the server has accepted the connection, before any byte is sent. */
size_t fuzz_daemon_exchange_answer(const void *data, size_t len, char *answer, size_t cap,
				   void (*accepted)(void));

#endif
