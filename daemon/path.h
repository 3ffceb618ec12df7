/* path: small file-system helpers shared by the modules that create files on their own
 * (the database, e-mail files). */
#ifndef DUNGHAN_PATH_H
#define DUNGHAN_PATH_H

#include <sys/types.h>

#include "err.h"

/* Creates dir and every missing directory above it with mode (like mkdir -p). Returns 0, or -1
 * with err naming the directory that could not be created. */
int path_make_dirs(const char *dir, mode_t mode, struct err *err);

/* The same for the directory that holds the file path (nothing when path has no '/'). */
int path_make_parent_dirs(const char *path, mode_t mode, struct err *err);

#endif
