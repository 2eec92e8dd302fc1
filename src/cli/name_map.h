/*
 * `soma import --map`: renamings of a state_dict's tensors, FROM=TO, given
 * inline ("classifier.1=9,classifier.4=11") or as a file of one FROM=TO per
 * line ('#' comments, blank lines ignored).
 */
#ifndef SOMA_CLI_NAME_MAP_H
#define SOMA_CLI_NAME_MAP_H

#include "soma.h"

#define NAME_MAP_MAX 4096

typedef struct name_map {
    soma_name_map *pairs;
    int count;
    char *text; /* the strings the pairs point into */
} name_map;

/* Parses `text` (`where` names it in messages: "--map" or the file). */
soma_status name_map_parse(const char *text, const char *where, char separator, name_map *out);
/* The --map value: inline pairs when it holds '=' and names no file, else a file. */
soma_status name_map_load(const char *value, name_map *out);
void name_map_free(name_map *m);

#endif
