#include "core/edit_distance.h"

#include <ctype.h>
#include <limits.h>
#include <string.h>

int edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    int row[EDIT_DISTANCE_MAX_LEN + 1];
    if (la > EDIT_DISTANCE_MAX_LEN || lb > EDIT_DISTANCE_MAX_LEN)
        return INT_MAX;
    for (size_t j = 0; j <= lb; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j];
            int same = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]);
            int best = diag + !same;
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static int starts_with(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++)
        if (tolower((unsigned char)*s) != tolower((unsigned char)*prefix))
            return 0;
    return 1;
}

const char *suggest_word(const char *unknown, const char *const *words, int nwords)
{
    /* A near miss by spelling first ("--epoch" -> "--epochs"), then a word
     * that the unknown one extends or abbreviates ("--lr-rate" -> "--lr"). */
    const char *best = NULL;
    int best_distance = 1 << 30;
    for (int i = 0; i < nwords; i++) {
        int d = edit_distance(unknown, words[i]);
        if (d < best_distance) {
            best_distance = d;
            best = words[i];
        }
    }
    int limit = (int)strlen(unknown) / 3;
    if (limit < 2)
        limit = 2;
    /* ...but not a word replaced whole ("x" is not a near miss of "he") */
    if (best && best_distance <= limit && best_distance < (int)strlen(best))
        return best;
    best = NULL;
    size_t best_len = 0;
    for (int i = 0; i < nwords; i++) {
        size_t len = strlen(words[i]);
        if (len < 2 || strlen(unknown) < 2)
            continue;
        if ((starts_with(unknown, words[i]) || starts_with(words[i], unknown)) && len > best_len) {
            best = words[i];
            best_len = len;
        }
    }
    return best;
}
