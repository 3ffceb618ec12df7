/* fuzz_time: the parsers of instants and durations every API body and config file goes
 * through. Properties: a parsed RFC 3339 instant formats back (in UTC) to a string that parses
 * to the same instant; an unsigned duration is never negative, a signed one is the negation of
 * its unsigned text. Seeds: corpus/time/. */
#include "fuzz.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calendar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char s[128], back[64];
	int64_t t, t2, d;
	struct err err;
	struct tm tm;
	time_t tt;

	if (len >= sizeof(s))
		return 0;
	memcpy(s, data, len);
	s[len] = '\0';
	if (calendar_parse_rfc3339(s, &t, &err) == 0) {
		tt = (time_t)t;
		if (!gmtime_r(&tt, &tm))
			abort();
		snprintf(back, sizeof(back), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		if (tm.tm_year + 1900 >= 1 && tm.tm_year + 1900 <= 9999 &&
		    (calendar_parse_rfc3339(back, &t2, &err) != 0 || t2 != t)) {
			fprintf(stderr, "\"%s\" -> %lld -> \"%s\" does not parse back\n", s,
				(long long)t, back);
			abort();
		}
	}
	if (calendar_parse_duration(s, 28800, &d, &err) == 0) {
		if (s[0] != '-' && d < 0) {
			fprintf(stderr, "\"%s\" parsed as a negative duration %lld\n", s,
				(long long)d);
			abort();
		}
		if ((s[0] == '-' || s[0] == '+') &&
		    (calendar_parse_duration(s + 1, 28800, &t2, &err) != 0 ||
		     t2 != (s[0] == '-' ? -d : d))) {
			fprintf(stderr, "\"%s\" = %lld but without its sign it does not match\n", s,
				(long long)d);
			abort();
		}
	}
	return 0;
}
