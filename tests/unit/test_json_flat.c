/* json_flat: whatever it reads, it reads exactly as jansson does (same values, same key order),
 * and it takes the plain objects the API gets most. Texts that it declines go to jansson. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_flat.h"

/* When json_flat reads text, jansson reads it too, into the same object written the same way. */
static void expect_agrees(const char *text, size_t len)
{
	json_t *flat = json_flat_load(text, len);
	json_t *ref = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);

	if (flat) {
		cr_assert_not_null(ref, "json_flat read what jansson refuses: %.*s", (int)len,
				   text);
		char *a = json_dumps(flat, JSON_COMPACT), *b = json_dumps(ref, JSON_COMPACT);
		cr_assert_str_eq(a, b, "for %.*s", (int)len, text);
		free(a);
		free(b);
	}
	json_decref(flat);
	json_decref(ref);
}

static const char *const taken[] = {
	"{}",
	" \t\r\n{ } \n",
	"{\"code\":\"000.00.21.H19-240207-0001\",\"procedure\":\"1.004873\",\"unit\":\"ttphvhcc\","
	"\"applicant\":\"Nguyễn Văn 12\",\"received_at\":\"2024-03-01T07:00:00+07:00\","
	"\"online\":\"full\",\"paid_online\":true,\"digitized\":false,\"handler\":null,\"fee\":0}",
	"{ \"a\" : -0 , \"b\":-123456789012345678, \"c\":\"\", \"\":1, \"d\":\"\x7f 𝄞 ü\" }",
};

Test(json_flat, takes_plain_objects_as_jansson_reads_them)
{
	for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++) {
		json_t *flat = json_flat_load(taken[i], strlen(taken[i]));
		cr_assert_not_null(flat, "declined %s", taken[i]);
		json_decref(flat);
		expect_agrees(taken[i], strlen(taken[i]));
	}
}

static const char *const declined[] = {
	"", "[]", "{", "}", "{\"a\":1", "{\"a\":1,}", "{\"a\" 1}", "{\"a\":1}x", "{\"a\":1} {}",
	"{\"a\":1,\"a\":2}", "{\"a\":1.5}", "{\"a\":1e3}", "{\"a\":01}", "{\"a\":-}",
	"{\"a\":1234567890123456789}", "{\"a\":\"x\\ny\"}", "{\"a\\u0062\":1}", "{\"a\":[1]}",
	"{\"a\":{}}", "{\"a\":tru}", "{\"a\":nul}", "{\"a\":\"\x01\"}", "{\"a\":\"\xc3\"}",
	"{\"a\":\"\xc0\xaf\"}", "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\xf4\x90\x80\x80\"}",
	"{\"a\":\"\xe0\x80\xaf\"}", "\xef\xbb\xbf{}", "{a:1}", "{'a':1}",
};

Test(json_flat, declines_what_it_cannot_read_as_jansson)
{
	for (size_t i = 0; i < sizeof(declined) / sizeof(declined[0]); i++) {
		json_t *flat = json_flat_load(declined[i], strlen(declined[i]));
		cr_assert_null(flat, "took %s", declined[i]);
	}
	/* a NUL byte inside the text */
	cr_assert_null(json_flat_load("{\"a\":\"x\0y\"}", 11));
	cr_assert_null(json_flat_load("{}\0", 3));
}

/* Mutations of the plain objects (a fixed sequence): every text json_flat reads, jansson reads
 * the same way. */
Test(json_flat, agrees_with_jansson_on_mutated_texts)
{
	static const char pieces[] = "\"\\{}[],:-0123456789.eE tfnlrua"
				     "\x7f\xc3\xa9\xe1\xbb\x85\xc0\xed\xf4\x80\x01";
	uint64_t seed = 88172645463325252ULL;
	char buf[512];

	for (int round = 0; round < 60000; round++) {
		const char *base = taken[round % 4];
		size_t len = strlen(base);
		memcpy(buf, base, len);
		for (int m = 0; m < 1 + round % 3; m++) {
			seed ^= seed << 13;
			seed ^= seed >> 7;
			seed ^= seed << 17;
			size_t at = len ? (size_t)(seed % len) : 0;
			char c = pieces[(seed >> 32) % (sizeof(pieces) - 1)];
			switch ((seed >> 20) % 3) {
			case 0: /* replace */
				if (len)
					buf[at] = c;
				break;
			case 1: /* insert */
				if (len + 1 < sizeof(buf)) {
					memmove(buf + at + 1, buf + at, len - at);
					buf[at] = c;
					len++;
				}
				break;
			default: /* delete */
				if (len) {
					memmove(buf + at, buf + at + 1, len - at - 1);
					len--;
				}
			}
		}
		expect_agrees(buf, len);
	}
}

/* A top-level member read by skipping the others, as a batch's counts are read. */
Test(json_flat, member_int_skips_other_values)
{
	static const char answer[] =
		" {\"results\":[{\"line\":1,\"status\":422,\"error\":{\"code\":\"x\",\"message\":"
		"\"a \\\"failed\\\":7 } ] { [ in a message\"}},{\"line\":2,\"status\":201}],"
		"\"dry_run\":true,\"n\":null,\"r\":-1.5e3,\"s\":\"\\\\\",\"created\":1,"
		"\"existing\":-0,\"failed\":1} ";
	int64_t v;

	cr_assert_eq(json_flat_member_int(answer, strlen(answer), "created", &v), 0);
	cr_assert_eq(v, 1);
	cr_assert_eq(json_flat_member_int(answer, strlen(answer), "existing", &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(json_flat_member_int(answer, strlen(answer), "failed", &v), 0);
	cr_assert_eq(v, 1);
	/* not at the top, not an integer, absent */
	cr_assert_eq(json_flat_member_int(answer, strlen(answer), "line", &v), -1);
	cr_assert_eq(json_flat_member_int(answer, strlen(answer), "r", &v), -1);
	cr_assert_eq(json_flat_member_int(answer, strlen(answer), "dry_run", &v), -1);
	cr_assert_eq(json_flat_member_int(answer, strlen(answer), "absent", &v), -1);
	/* broken texts */
	cr_assert_eq(json_flat_member_int("", 0, "a", &v), -1);
	cr_assert_eq(json_flat_member_int("[1]", 3, "a", &v), -1);
	cr_assert_eq(json_flat_member_int("{\"b\":[1,{\"a\":2}", 15, "a", &v), -1);
	cr_assert_eq(json_flat_member_int("{\"b\":\"x, \"a\":2}", 15, "a", &v), -1);
	cr_assert_eq(json_flat_member_int("{\"a\":2", 6, "a", &v), -1);
	cr_assert_eq(json_flat_member_int("{\"a\":2x}", 8, "a", &v), -1);
}
