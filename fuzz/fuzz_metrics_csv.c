/* libFuzzer harness for the metrics.csv reader that a resume runs: no crash,
 * no leak, no read past the input, and what it accepts it accepts again
 * unchanged once written back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/metrics_csv.h"
#include "core/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy, so that ASan sees any read past the end */
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    strbuf rows;
    strbuf_init(&rows);
    if (metrics_csv_parse(text, size, "metrics.csv", &rows) == SOMA_OK && rows.data) {
        strbuf again, file;
        strbuf_init(&again);
        strbuf_init(&file);
        strbuf_append(&file, METRICS_HEADER);
        strbuf_append(&file, rows.data);
        if (metrics_csv_parse(file.data, file.len, "metrics.csv", &again) != SOMA_OK ||
            strcmp(again.data ? again.data : "", rows.data) != 0)
            abort();
        strbuf_free(&again);
        strbuf_free(&file);
    }
    soma_error_clear();
    strbuf_free(&rows);
    free(text);
    return 0;
}
