/* fuzz_import: the importers of the one-stop system's exports (CSV with its header mapping and
 * Vietnamese dates, NDJSON) over any bytes. The first byte picks the format (auto, CSV,
 * NDJSON); every row is a case object or a row error, and the reader ends with the end or a
 * failure — never a crash, a leak or a row that is neither. Seeds: corpus/import/. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz_daemon.h"
#include "import.h"

struct input {
	const uint8_t *data;
	size_t len, at;
};

/* Hands the input out in small, uneven pieces: the reader must not depend on how reads fall. */
static ssize_t read_piece(void *ctx, char *buf, size_t cap)
{
	struct input *in = ctx;
	size_t n = in->len - in->at;

	if (n > cap)
		n = cap;
	if (n > 1 + in->at % 97)
		n = 1 + in->at % 97;
	memcpy(buf, in->data + in->at, n);
	in->at += n;
	return (ssize_t)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const enum import_format formats[] = { IMPORT_AUTO, IMPORT_CSV, IMPORT_NDJSON };
	struct config *cfg = fuzz_office_config();
	struct input in = { data + 1, len - 1, 0 };
	struct import_reader *r;
	struct err err;

	if (len < 1 || len > 128 * 1024)
		return 0;
	struct import_options opt = { .format = formats[data[0] % 3], .cal = cfg->calendar,
				      .name = "fuzz" };
	if (!(r = import_new(read_piece, &in, &opt, &err)))
		return 0;
	for (int rows = 0; rows < 100000; rows++) {
		json_t *obj = NULL;
		size_t line = 0;
		enum import_status s = import_next(r, &obj, &line, &err);

		if (s == IMPORT_ROW) {
			if (!json_is_object(obj) || line == 0)
				abort();
			json_decref(obj);
			continue;
		}
		if (obj)
			abort(); /* only a row hands out an object */
		if (s != IMPORT_BAD_ROW)
			break;
	}
	import_free(r);
	return 0;
}
