#ifndef SOMA_CORE_EDIT_DISTANCE_H
#define SOMA_CORE_EDIT_DISTANCE_H

/* Maximum length of a word edit_distance compares; longer ones are never close. */
#define EDIT_DISTANCE_MAX_LEN 64

/* Levenshtein distance, case-insensitive, for "did you mean" suggestions;
 * INT_MAX when either word is longer than EDIT_DISTANCE_MAX_LEN. */
int edit_distance(const char *a, const char *b);

/* The word of `words` closest to `unknown` by spelling (a few edits, case
 * ignored) or else by prefix (one extends or abbreviates the other), or NULL:
 * the "did you mean" of option names, commands, option values and models. */
const char *suggest_word(const char *unknown, const char *const *words, int nwords);

#endif
