/* err: filling in the caller's error report (see err.h). */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>

void err_clear(struct err *err)
{
	if (!err)
		return;
	err->msg[0] = '\0';
	err->field[0] = '\0';
}

int err_set(struct err *err, const char *field, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	return -1;
}
