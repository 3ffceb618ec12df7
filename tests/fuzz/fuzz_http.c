/* fuzz_http: raw bytes into a connection of the real HTTP server, through llhttp, routing,
 * authentication and the API (docs/testing.md). Seeds: corpus/http/. */
#include "fuzz.h"
#include <stddef.h>
#include <stdint.h>

#include "fuzz_daemon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	fuzz_daemon_start();
	if (len > 256 * 1024)
		return 0;
	fuzz_daemon_exchange(data, len);
	return 0;
}
