/* The class flags that tell layer kinds apart where the network and the
 * checkpoint need to (not their names): is_relu decides which ReLUs are fused
 * into the layer before, has_running_stats which layers get a
 * num_batches_tracked counter in a checkpoint. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "io/safetensors.h"
#include "nn/network.h"
#include "support/check.h"

static const char model_text[] = "input channels=1 height=6 width=6\n"
                                 "conv2d filters=2 size=3 pad=1\n" /* 0: fuses the relu */
                                 "relu\n"                          /* 1 */
                                 "conv2d filters=2 size=3 pad=1\n" /* 2: tanh is not a relu */
                                 "tanh\n"                          /* 3 */
                                 "batchnorm\n"                     /* 4: fuses the relu */
                                 "relu\n"                          /* 5 */
                                 "flatten\n"                       /* 6 */
                                 "linear units=3\n"                /* 7 */
                                 "sigmoid\n"                       /* 8 */
                                 "linear units=2\n";               /* 9 */

/* Every class: a ReLU is the "relu" kind alone; running statistics are what
 * a layer keeps in buffers, which only batchnorm has. */
static void check_class_table(void)
{
    int relus = 0, with_stats = 0;
    for (const layer_class *const *c = layer_classes(); *c; c++) {
        CHECK_MSG((*c)->is_relu == (strcmp((*c)->name, "relu") == 0), "%s", (*c)->name);
        relus += (*c)->is_relu;
        with_stats += (*c)->has_running_stats;
    }
    CHECK(relus == 1 && with_stats == 1);
}

static void check_fusion(const soma_model *m)
{
    static const int fused[] = {1, 0, 0, 0, 1, 0, 0, 0, 0, 0};
    static const int fused_away[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0};
    CHECK(m->nlayers == 10);
    for (int i = 0; i < m->nlayers && i < 10; i++) {
        CHECK_MSG(m->layers[i].fused_relu == fused[i], "layer %d", i);
        CHECK_MSG(m->layers[i].fused_away == fused_away[i], "layer %d", i);
        CHECK_MSG(m->layers[i].cls->has_running_stats == (m->layers[i].nbuffers > 0), "layer %d",
                  i);
    }
}

/* The batchnorm (layer 4), and nothing else, has its counter. */
static void check_batches_tracked(soma_model *m)
{
    char path[64];
    snprintf(path, sizeof path, "layer_flags_test_%ld.tmp.safetensors", (long)getpid());
    soma_model_set_normalization(m, 0.5f, 0.25f);
    CHECK_MSG(soma_checkpoint_save_model(path, m) == SOMA_OK, "%s", soma_last_error());
    st_file *f = NULL;
    CHECK_MSG(st_read(path, &f) == SOMA_OK, "%s", soma_last_error());
    remove(path);
    if (!f)
        return;
    int counters = 0;
    for (int i = 0; i < st_count(f); i++)
        counters += strstr(st_name(f, i), "num_batches_tracked") != NULL;
    CHECK(counters == 1);
    CHECK(st_find(f, "4.num_batches_tracked") != NULL);
    st_free(f);
}

int main(void)
{
    check_class_table();
    soma_model *m = NULL;
    CHECK_MSG(soma_model_parse(model_text, "flags.cfg", &m) == SOMA_OK, "%s", soma_last_error());
    if (m) {
        check_fusion(m);
        check_batches_tracked(m);
    }
    soma_model_free(m);
    return check_finish("layer_flags");
}
