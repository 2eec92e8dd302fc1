/*
 * Choosing a model's device: the list of what the build has, an unknown name
 * refused with that list, and a move between two backends that carries the
 * weights over bit for bit and leaves nothing behind. The second backend is
 * the CPU's with its own allocation count (a stand-in for a device whose
 * memory the host cannot see), and one whose allocations fail.
 */
#include <stdlib.h>
#include <string.h>

#include "nn/network.h"
#include "support/check.h"

static int live; /* the counting backend's allocations not yet freed */

static void *counting_alloc(size_t bytes)
{
    void *p = soma_cpu_backend.alloc(bytes);
    if (p)
        live++;
    return p;
}

static void counting_free(void *p)
{
    if (p)
        live--;
    soma_cpu_backend.free(p);
}

static void *failing_alloc(size_t bytes)
{
    (void)bytes;
    return NULL;
}

static const char *text = "input channels=1 height=6 width=6\n"
                          "conv2d filters=3 size=3\nbatchnorm\nrelu\nflatten\nlinear units=4\n";

static void predict(soma_model *m, const float *x, float *probs)
{
    CHECK_MSG(soma_model_predict(m, x, 5, probs) == SOMA_OK, "%s", soma_last_error());
}

int main(void)
{
    const char *const *devices = soma_devices();
    CHECK(devices[0] && strcmp(devices[0], "cpu") == 0);
    int count = 0;
    while (devices[count])
        count++;
    CHECK(count >= 1 && count <= 8);

    soma_model *m = NULL;
    CHECK(soma_model_parse(text, "device", &m) == SOMA_OK);
    CHECK(strcmp(soma_model_device(m), "cpu") == 0);
    soma_model_set_normalization(m, 0.1f, 0.3f);
    float x[5 * 36], before[5 * 4], after[5 * 4];
    for (int i = 0; i < 5 * 36; i++)
        x[i] = (float)((i * 37) % 11) / 11.0f - 0.5f;
    predict(m, x, before);

    /* an unknown device: refused, naming what there is; the model stays */
    CHECK(soma_model_set_device(m, "no-such-device") == SOMA_ERR_ARGUMENT);
    CHECK_MSG(strstr(soma_last_error(), "this build has: cpu") != NULL, "%s",
              soma_last_error());
    CHECK(soma_model_set_device(m, "cpu") == SOMA_OK); /* already there */
    CHECK(soma_model_set_device(NULL, "cpu") == SOMA_ERR_ARGUMENT);
    CHECK(soma_model_set_device(m, NULL) == SOMA_ERR_ARGUMENT);

    /* there and back: the same predictions, nothing left on the other device */
    soma_backend counting = soma_cpu_backend;
    counting.name = "counting";
    counting.alloc = counting_alloc;
    counting.free = counting_free;
    CHECK(network_move(m, &counting) == SOMA_OK);
    CHECK(strcmp(soma_model_device(m), "counting") == 0);
    CHECK(live == 2); /* the weights and the running statistics: no plan yet */
    predict(m, x, after);
    CHECK(memcmp(before, after, sizeof before) == 0);
    CHECK(live > 2); /* the plan, made on this device */
    CHECK(network_move(m, &soma_cpu_backend) == SOMA_OK);
    CHECK_MSG(live == 0, "%d allocations left on the device moved from", live);
    predict(m, x, after);
    CHECK(memcmp(before, after, sizeof before) == 0);

    /* a device out of memory: the move fails and the model stays usable */
    soma_backend full = soma_cpu_backend;
    full.name = "full";
    full.alloc = failing_alloc;
    CHECK(network_move(m, &full) == SOMA_ERR_MEMORY);
    CHECK(strcmp(soma_model_device(m), "cpu") == 0);
    predict(m, x, after);
    CHECK(memcmp(before, after, sizeof before) == 0);

    /* a model without weights yet moves without making any */
    soma_model *fresh = NULL;
    CHECK(soma_model_parse(text, "fresh", &fresh) == SOMA_OK);
    CHECK(network_move(fresh, &counting) == SOMA_OK);
    CHECK(live == 0);
    CHECK(network_move(fresh, &soma_cpu_backend) == SOMA_OK);
    soma_model_free(fresh);

    soma_model_free(m);
    return check_finish("device_test");
}
