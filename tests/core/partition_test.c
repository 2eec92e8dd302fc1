/* Static splits of [0, n) (src/core/partition.h): the parts tile the range
 * in order, differ in size by at most one, and depend only on (n, parts). */
#include <limits.h>

#include "core/partition.h"
#include "support/check.h"

static void check_split(int n, int parts)
{
    int prev_end = 0, smallest = INT_MAX, largest = 0;
    for (int p = 0; p < parts; p++) {
        int b, e;
        partition(n, parts, p, &b, &e);
        CHECK_MSG(b == prev_end && e >= b, "n %d parts %d part %d: [%d, %d)", n, parts, p, b, e);
        prev_end = e;
        if (e - b < smallest)
            smallest = e - b;
        if (e - b > largest)
            largest = e - b;
    }
    CHECK_MSG(prev_end == n, "n %d parts %d ends at %d", n, parts, prev_end);
    CHECK_MSG(largest - smallest <= 1, "n %d parts %d: sizes %d to %d", n, parts, smallest,
              largest);
}

int main(void)
{
    for (int n = 0; n <= 40; n++)
        for (int parts = 1; parts <= 9; parts++)
            check_split(n, parts);
    /* no overflow where n * part exceeds int */
    check_split(INT_MAX, 7);
    check_split(2000000000, 3);

    /* the exact split, which reproducibility depends on */
    static const int begins[4] = {0, 2, 5, 7}, ends[4] = {2, 5, 7, 10};
    for (int p = 0; p < 4; p++) {
        int b, e;
        partition(10, 4, p, &b, &e);
        CHECK_MSG(b == begins[p] && e == ends[p], "part %d: [%d, %d)", p, b, e);
    }
    return check_finish("partition");
}
