/* fuzz_api: JSON bodies into every write endpoint, past HTTP and authentication, into the
 * domain's validation and the database. The first byte picks the endpoint; the rest is the
 * body. Seeds: corpus/api/. */
#include "fuzz.h"
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_daemon.h"

static const char *const endpoints[] = {
	"/api/v1/cases",
	"/api/v1/cases/000.00.21.H19-240207-0001/events",
	"/api/v1/documents",
	"/api/v1/documents/1/events",
	"/api/v1/documents/1/assignments",
	"/api/v1/assignments",
	"/api/v1/assignments/1/events",
	"/api/v1/assignments/1/assignments",
	"/api/v1/inspections",
	"/api/v1/alerts/1/ack",
	"/api/v1/cases:batch",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	size_t n = sizeof(endpoints) / sizeof(endpoints[0]), head_len;
	const char *path, *type;
	char head[512], *req;

	fuzz_daemon_start();
	if (len < 1 || len > 64 * 1024)
		return 0;
	path = endpoints[data[0] % n];
	type = data[0] % n == n - 1 ? "application/x-ndjson" : "application/json";
	head_len = (size_t)snprintf(head, sizeof(head),
				    "POST %s HTTP/1.1\r\nHost: fuzz\r\n"
				    "Authorization: Bearer admin-dev-token\r\n"
				    "Content-Type: %s\r\nContent-Length: %zu\r\n"
				    "Connection: close\r\n\r\n",
				    path, type, len - 1);
	if (!(req = malloc(head_len + len - 1)))
		return 0;
	memcpy(req, head, head_len);
	memcpy(req + head_len, data + 1, len - 1);
	fuzz_daemon_exchange(req, head_len + len - 1);
	free(req);
	return 0;
}
