/* libFuzzer harness for the steps.csv reader (a resume and `soma report` run
 * it): no crash, no leak, no read past the input, and what it accepts it
 * accepts again unchanged once written back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/steps_csv.h"
#include "core/error.h"

static int same_rows(const steps_log *a, const steps_log *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++) {
        const step_row *x = &a->rows[i], *y = &b->rows[i];
        if (x->step != y->step || x->epoch != y->epoch)
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1); /* exact size: ASan sees reads past the end */
    if (!text)
        return 0;
    memcpy(text, data, size);
    steps_log log = {0};
    if (steps_csv_parse(text, size, "steps.csv", &log) == SOMA_OK) {
        strbuf file;
        strbuf_init(&file);
        strbuf_append(&file, STEPS_HEADER);
        for (size_t i = 0; i < log.n; i++)
            steps_csv_format(&file, &log.rows[i]);
        steps_log again = {0};
        if (file.failed || steps_csv_parse(file.data, file.len, "steps.csv", &again) != SOMA_OK ||
            !same_rows(&log, &again))
            abort();
        steps_log_free(&again);
        strbuf_free(&file);
    }
    soma_error_clear();
    steps_log_free(&log);
    free(text);
    return 0;
}
