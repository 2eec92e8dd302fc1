/* libFuzzer harness for the files `soma report` reads besides metrics.csv,
 * summary.json and steps.csv (which have harnesses of their own): the
 * confusion matrix, then the misclassified rows checked against its classes.
 * The input is the two files, split at the first NUL byte. No crash, no
 * leak, no read past the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/report_data.h"
#include "core/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t first = nul ? (size_t)(nul - data) : size;
    size_t second = nul ? size - first - 1 : 0;
    /* exact-size copies plus the NUL that read_whole_file adds */
    char *confusion = malloc(first + 1), *mistakes = malloc(second + 1);
    if (!confusion || !mistakes) {
        free(confusion), free(mistakes);
        return 0;
    }
    memcpy(confusion, data, first);
    confusion[first] = '\0';
    if (second)
        memcpy(mistakes, nul + 1, second);
    mistakes[second] = '\0';
    run_record r;
    memset(&r, 0, sizeof r);
    if (confusion_csv_parse(confusion, first, "confusion.csv", &r) == SOMA_OK) {
        long long total = 0;
        for (int i = 0; i < r.classes * r.classes; i++)
            total += r.confusion[i] > 0; /* every cell was set and is readable */
        (void)total;
    }
    if (misclassified_csv_parse(mistakes, second, "misclassified.csv", &r) == SOMA_OK)
        for (int i = 0; i < r.nmistakes; i++)
            if (r.mistakes[i].confidence < 0 || r.mistakes[i].confidence > 1 ||
                (r.classes && r.mistakes[i].truth >= r.classes))
                abort();
    soma_error_clear();
    run_record_free(&r);
    free(confusion), free(mistakes);
    return 0;
}
