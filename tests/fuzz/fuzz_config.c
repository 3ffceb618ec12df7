/* fuzz_config: any text as dunghan.conf into the loader and its validation: a config either
 * loads or comes back with errors, never a crash, a leak or a hang. The file lies in a
 * temporary directory with links to the real holiday schedules, templates and procedure
 * catalogue, so that the example's relative paths resolve. Seeds: corpus/config/. */
#include "fuzz.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static char dir[] = "/tmp/dunghan-fuzz-config-XXXXXX";
static char path[sizeof(dir) + 16];

static void setup(void)
{
	static const char *const links[] = { "holidays", "templates", "procedures" };
	char link[sizeof(dir) + 16], target[1024];

	if (!mkdtemp(dir))
		abort();
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(link, sizeof(link), "%s/%s", dir, links[i]);
		snprintf(target, sizeof(target), "%s/config/%s", DUNGHAN_SOURCE_DIR, links[i]);
		if (symlink(target, link) != 0)
			abort();
	}
	snprintf(path, sizeof(path), "%s/dunghan.conf", dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *errors = NULL;
	struct config *cfg;
	FILE *f;

	if (len > 256 * 1024)
		return 0;
	if (!path[0])
		setup();
	if (!(f = fopen(path, "wb")) || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		abort();
	cfg = config_load(path, NULL, NULL, &errors);
	config_free(cfg);
	free(errors);
	return 0;
}
