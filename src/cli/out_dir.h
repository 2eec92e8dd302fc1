/* Where `soma train` writes: runs/<model>-<YYYYmmdd-HHMMSS> unless told. */
#ifndef SOMA_CLI_OUT_DIR_H
#define SOMA_CLI_OUT_DIR_H

#include "soma.h"

/* A short name for a model argument: the zoo name, or a file's base name
 * without its extension ("models/my-net.cfg" -> "my-net"). malloc'd. */
char *model_short_name(const char *model_arg);

/* Creates runs/<name>-<timestamp> (with -2, -3, ... if taken); *out is malloc'd. */
soma_status create_default_out_dir(const char *name, char **out);

/* Creates a directory and its parents (mkdir -p). */
soma_status make_dirs(const char *path);

/* The directory part of a path ("a/b/c" -> "a/b", "c" -> "."); malloc'd. */
char *dir_name(const char *path);

#endif
