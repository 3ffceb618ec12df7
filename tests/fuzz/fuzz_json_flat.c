/* fuzz_json_flat: the fast reader of flat JSON objects that request bodies and batch lines go
 * through first. Property: whatever json_flat_load reads, jansson (json_loadb with
 * JSON_REJECT_DUPLICATES) reads too, into an object written the same way; and
 * json_flat_member_int never reads outside the text. Seeds: corpus/json_flat/. */
#include "fuzz.h"
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_flat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const char *text = (const char *)data;
	json_t *flat = json_flat_load(text, len);
	json_t *ref = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	int64_t v;

	if (flat) {
		char *a = json_dumps(flat, JSON_COMPACT), *b = ref ? json_dumps(ref, JSON_COMPACT) : NULL;
		if (!b || strcmp(a, b) != 0) {
			fprintf(stderr, "json_flat read \"%.*s\" as %s, jansson as %s\n", (int)len, text,
				a, b ? b : "an error");
			abort();
		}
		free(a);
		free(b);
	}
	json_decref(flat);
	json_decref(ref);
	(void)json_flat_member_int(text, len, "failed", &v);
	return 0;
}
