/* path: small file-system helpers (see path.h). */
#include "path.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

int path_make_dirs(const char *dir, mode_t mode, struct err *err)
{
	char buf[4096];
	size_t n = strlen(dir);

	if (n == 0)
		return 0;
	if (n >= sizeof(buf))
		return err_set(err, NULL, "path is too long: %.80s...", dir);
	memcpy(buf, dir, n + 1);
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(buf, mode) != 0 && errno != EEXIST)
			return err_set(err, NULL, "cannot create directory %s: %s", buf, strerror(errno));
		if (!c)
			break;
		*p = c;
	}
	return 0;
}

int path_make_parent_dirs(const char *path, mode_t mode, struct err *err)
{
	char buf[4096];
	const char *slash = strrchr(path, '/');
	size_t n;

	if (!slash || slash == path)
		return 0;
	n = (size_t)(slash - path);
	if (n >= sizeof(buf))
		return err_set(err, NULL, "path is too long: %.80s...", path);
	memcpy(buf, path, n);
	buf[n] = '\0';
	return path_make_dirs(buf, mode, err);
}
