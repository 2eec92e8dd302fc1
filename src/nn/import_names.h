/*
 * The names an imported state_dict's tensors are read under: the user's
 * renamings first (FROM=TO, FROM a whole name or a module path such as
 * "classifier.1"), then, for the names no renaming touched, the module
 * prefixes they all share ("module.", "model.features.") stripped, so that
 * a wrapped nn.Sequential reads as one.
 */
#ifndef SOMA_NN_IMPORT_NAMES_H
#define SOMA_NN_IMPORT_NAMES_H

#include <stddef.h>

#include "io/safetensors.h"

typedef struct import_names {
    char **renamed; /* per file tensor, in header order */
    int *sorted;    /* tensor indices in the order of their new names */
    int n;
} import_names;

/* Renames every tensor of the file; a renaming that matches no tensor, or two
 * tensors that end up with the same name, is an error naming `path`. */
soma_status import_names_resolve(const st_file *f, const char *path, const soma_name_map *map,
                                 int nmap, import_names *out);
/* The file tensor read as `name`, or -1. */
int import_names_find(const import_names *names, const char *name);
/* Tensor i's name for a message: "features.0.weight" (as read), with
 * " (read as 0.weight)" when it was renamed. */
void import_names_shown(const import_names *names, const st_file *f, int i, char *buf,
                        size_t size);
void import_names_free(import_names *names);

#endif
