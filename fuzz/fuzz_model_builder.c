/* libFuzzer harness for the model builder: any sequence of calls with any
 * values gives a model or one error line naming the model (and, past the
 * input, the layer by its index), never a crash, a leak or undefined
 * behaviour. The bytes are a program: three for the input shape, then one
 * opcode and two or four little-endian int16 arguments per call. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "soma.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int next_int(const uint8_t **p, const uint8_t *end)
{
    if (end - *p < 2)
        return 0;
    int v = (int16_t)((*p)[0] | (*p)[1] << 8);
    *p += 2;
    return v;
}

/* One line, starting with the model's name. */
static void check_message(void)
{
    const char *msg = soma_last_error();
    if (strchr(msg, '\n') || strncmp(msg, "fz", 2) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    const uint8_t *p = data + 3, *end = data + size;
    soma_model_builder *b = NULL;
    if (soma_model_builder_create("fz", (int8_t)data[0], (int8_t)data[1], (int8_t)data[2], &b) !=
        SOMA_OK) {
        check_message();
        return 0;
    }
    while (p < end) {
        int op = *p++ % 14;
        int a = next_int(&p, end), c = next_int(&p, end), d = 0, e = 0;
        if (op == 0 || op == 11) {
            d = next_int(&p, end);
            e = next_int(&p, end);
        }
        float f = (float)a / 1000.0f, g = (float)c / 1000.0f;
        soma_status st = SOMA_OK;
        switch (op) {
        case 0: st = soma_model_builder_conv2d(b, a, c, d, e); break;
        case 1: st = soma_model_builder_maxpool(b, a & 7, c & 7, (a >> 3) & 3); break;
        case 2: st = soma_model_builder_avgpool(b, a & 7, c & 7, (a >> 3) & 3); break;
        case 3: st = soma_model_builder_batchnorm(b); break;
        case 4: st = soma_model_builder_batchnorm_ex(b, f, g); break;
        case 5: st = soma_model_builder_relu(b); break;
        case 6: st = soma_model_builder_tanh(b); break;
        case 7: st = soma_model_builder_sigmoid(b); break;
        case 8: st = soma_model_builder_dropout(b, f); break;
        case 9: st = soma_model_builder_flatten(b); break;
        case 10: st = soma_model_builder_linear(b, a); break;
        case 11:
            st = soma_model_builder_conv2d_grouped(b, a, c & 15, d & 3, e & 3, (a >> 4) & 7);
            break;
        case 12: st = soma_model_builder_lrn(b, a & 15, f, g, f + g); break;
        default: {
            soma_model *m = NULL;
            if (soma_model_builder_finish(b, &m) == SOMA_OK) {
                free(soma_model_summary(m));
                soma_model_free(m);
            } else {
                check_message();
            }
        }
        }
        if (st != SOMA_OK)
            check_message();
    }
    soma_model *m = NULL;
    if (soma_model_builder_finish(b, &m) == SOMA_OK)
        soma_model_free(m);
    else
        check_message();
    soma_model_builder_free(b);
    return 0;
}
