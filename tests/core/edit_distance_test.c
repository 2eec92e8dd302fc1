/* Levenshtein distance and the "did you mean" choice (src/core/edit_distance.c). */
#include <limits.h>
#include <string.h>

#include "core/edit_distance.h"
#include "support/check.h"

static void check_distance(void)
{
    CHECK(edit_distance("", "") == 0);
    CHECK(edit_distance("", "abc") == 3);
    CHECK(edit_distance("kitten", "sitting") == 3); /* the textbook example */
    CHECK(edit_distance("flaw", "lawn") == 2);
    CHECK(edit_distance("filers", "filters") == 1);
    CHECK(edit_distance("ReLU", "relu") == 0); /* case is ignored */
    CHECK(edit_distance("abc", "cba") == 2);
    CHECK(edit_distance("relu", "tanh") == edit_distance("tanh", "relu"));

    char longest[EDIT_DISTANCE_MAX_LEN + 2];
    memset(longest, 'a', sizeof longest - 1);
    longest[sizeof longest - 1] = '\0'; /* one past the limit */
    CHECK(edit_distance(longest, "a") == INT_MAX);
    longest[EDIT_DISTANCE_MAX_LEN] = '\0'; /* at the limit */
    CHECK(edit_distance(longest, longest) == 0);
}

static void check_suggestions(void)
{
    static const char *const keys[] = {"filters", "size", "stride", "pad"};
    static const char *const options[] = {"--epochs", "--lr", "--batch"};
    static const char *const kinds[] = {"he", "xavier"};
    CHECK(strcmp(suggest_word("filers", keys, 4), "filters") == 0);
    CHECK(strcmp(suggest_word("strid", keys, 4), "stride") == 0);
    CHECK(strcmp(suggest_word("--epoch", options, 3), "--epochs") == 0);
    /* by prefix when the spelling is too far: extends or abbreviates */
    CHECK(strcmp(suggest_word("--lr-rate", options, 3), "--lr") == 0);
    CHECK(strcmp(suggest_word("--batch-size", options, 3), "--batch") == 0);
    /* a word replaced whole is no near miss */
    CHECK(suggest_word("x", kinds, 2) == NULL);
    CHECK(suggest_word("completely-different", keys, 4) == NULL);
    CHECK(suggest_word("size", keys, 0) == NULL);
}

int main(void)
{
    check_distance();
    check_suggestions();
    return check_finish("edit_distance");
}
