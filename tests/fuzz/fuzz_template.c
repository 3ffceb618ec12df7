/* fuzz_template: any text as one message template file. The first byte picks which of the
 * shipped files (kind and part) the rest replaces in a copy of config/templates/vi; the set is
 * loaded and, when it loads, that part is rendered with values and rows that include markup,
 * braces and very long text — never a crash, a leak, or an output beyond the limit.
 * Seeds: corpus/template/. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "template.h"

static const char *const parts[] = { "subject", "txt", "html", "chat" };
static char dir[] = "/tmp/dunghan-fuzz-template-XXXXXX";

static void copy_file(const char *from, const char *to)
{
	char buf[65536];
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	size_t n;

	if (!in || !out)
		abort();
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	if (fclose(out) != 0)
		abort();
}

static void setup(void)
{
	char from[1024], to[1024];

	if (!mkdtemp(dir))
		abort();
	snprintf(to, sizeof(to), "%s/vi", dir);
	if (mkdir(to, 0700) != 0)
		abort();
	for (int k = 0; k < TEMPLATE_KIND_COUNT; k++)
		for (int p = 0; p < TEMPLATE_PART_COUNT; p++) {
			const char *kind = template_kind_name((enum template_kind)k);
			snprintf(from, sizeof(from), "%s/config/templates/vi/%s.%s", DUNGHAN_SOURCE_DIR,
				 kind, parts[p]);
			snprintf(to, sizeof(to), "%s/vi/%s.%s", dir, kind, parts[p]);
			copy_file(from, to);
		}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static bool ready;
	static const struct template_var vars[] = {
		{ "code", "000.00.21.H19-240222-0001" }, { "unit_name", "<b>Phòng</b> & \"Tư pháp\"" },
		{ "handler_name", "{{handler_name}}" }, { "summary", "V/v\ttriển khai" },
		{ "office_name", "UBND tỉnh Đồng Nai" }, { "link", "https://x/cases/1?a=<b>" },
	};
	static const struct template_row rows[] = { { vars, 6 }, { vars, 3 } };
	char path[1024], *out = NULL;
	struct template_set *set;
	enum template_kind kind;
	enum template_part part;
	struct err err;
	FILE *f;

	if (len < 1 || len > TEMPLATE_MAX_FILE + 16)
		return 0;
	if (!ready) {
		setup();
		ready = true;
	}
	kind = (enum template_kind)(data[0] % TEMPLATE_KIND_COUNT);
	part = (enum template_part)(data[0] / TEMPLATE_KIND_COUNT % TEMPLATE_PART_COUNT);
	snprintf(path, sizeof(path), "%s/vi/%s.%s", dir, template_kind_name(kind), parts[part]);
	if (!(f = fopen(path, "wb")) || fwrite(data + 1, 1, len - 1, f) != len - 1 || fclose(f) != 0)
		abort();
	if ((set = template_set_load(dir, "vi", &err))) {
		bool items = kind == TEMPLATE_DIGEST || kind == TEMPLATE_KPI_REPORT;
		struct template_vars tv = { vars, 6, items ? rows : NULL, items ? 2 : 0 };
		if (template_render(set, kind, part, &tv, &out, &err) == 0 &&
		    strlen(out) > TEMPLATE_MAX_OUTPUT)
			abort();
		free(out);
		template_set_free(set);
	}
	/* The shipped file back, so that the next input changes one file of a valid set. */
	char from[1024];
	snprintf(from, sizeof(from), "%s/config/templates/vi/%s.%s", DUNGHAN_SOURCE_DIR,
		 template_kind_name(kind), parts[part]);
	copy_file(from, path);
	return 0;
}
