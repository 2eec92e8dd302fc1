/* libFuzzer harness for the model-file parser: any bytes must give either a
 * spec or one error line, never a crash, a leak or undefined behaviour. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn/modelfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    model_spec spec;
    if (modelfile_parse(text, "fuzz.cfg", &spec) == SOMA_OK) {
        /* the getters must cope with whatever the parser accepted */
        for (int i = 0; i < spec.nlayers; i++) {
            const layer_spec *l = &spec.layers[i];
            int v;
            float f;
            for (int k = 0; k < l->nvalues; k++) {
                spec_int(l, l->values[k].key, 1, 0, -1000, 1000, &v);
                spec_float(l, l->values[k].key, 1, 0, -1, 1, &f);
            }
        }
    } else if (strchr(soma_last_error(), '\n') || strncmp(soma_last_error(), "fuzz.cfg:", 9)) {
        abort(); /* every parse error is one line naming the file */
    }
    model_spec_free(&spec);
    free(text);
    return 0;
}
