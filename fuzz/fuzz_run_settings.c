/* libFuzzer harness for the run settings that --resume and --config read
 * from files (a checkpoint's "settings", summary.json's "settings"): no
 * crash, no leak, and settings that read back are written and read again
 * to the same text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/run_settings.h"
#include "core/error.h"

static char *round_trip(const char *text, size_t len)
{
    json_value *doc = NULL;
    char *out = NULL;
    if (json_parse(text, len, "settings", &doc) == SOMA_OK) {
        run_settings s;
        if (run_settings_from_json(doc, "settings", &s) == SOMA_OK) {
            out = run_settings_to_json(&s);
            run_settings_free(&s);
        }
    }
    json_free(doc);
    soma_error_clear();
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *once = round_trip((const char *)data, size);
    if (once) {
        char *twice = round_trip(once, strlen(once));
        if (!twice || strcmp(once, twice) != 0)
            abort();
        free(twice);
    }
    free(once);
    return 0;
}
