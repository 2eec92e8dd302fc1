/*
 * Checkpoints are never read unchecked: a soma-checkpoint-2 file with any one
 * bit flipped (length, header keys and values, padding, data) is refused;
 * soma-checkpoint-1 files are still read, but only with their checksum; and
 * a file that passes the checksum but holds a value that cannot be right (a
 * zero input scale, a NaN weight, a negative variance, a position past the
 * end of an epoch) is refused with the file and the key in the message.
 * Damaged values are made by re-writing a real checkpoint with the
 * safetensors writer, so that they carry a valid checksum.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/dataset.h"
#include "io/atomic_file.h"
#include "nn/checkpoint.h"
#include "io/safetensors.h"
#include "support/check.h"
#include "support/synthetic.h"

static const char *small_text = "input channels=1 height=2 width=2\n"
                                "conv2d filters=1 size=1\nbatchnorm\nflatten\nlinear units=2\n";
static const char *run_text = "input channels=1 height=8 width=8\n"
                              "conv2d filters=2 size=3 pad=1\nbatchnorm\nrelu\nmaxpool size=2\n"
                              "flatten\nlinear units=3\n";

static char dir[64];
static char *path_in(const char *name)
{
    static char buf[4][160];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", dir, name);
    return p;
}

/* One line that names the file and says `want`. */
static void check_refusal(soma_status st, const char *name, const char *want, const char *what)
{
    const char *msg = soma_last_error();
    CHECK_MSG(st != SOMA_OK, "%s: accepted", what);
    if (st == SOMA_OK)
        return;
    CHECK_MSG(strstr(msg, name) && !strchr(msg, '\n'), "%s: '%s' does not name %s", what, msg,
              name);
    CHECK_MSG(!want || strstr(msg, want), "%s: '%s' does not say '%s'", what, msg, want);
}

static void expect_load_refused(const char *path, const char *want, const char *what)
{
    soma_model *m = (soma_model *)&m;
    soma_status st = checkpoint_load_model(path, &m);
    CHECK_MSG(m == NULL, "%s: a model was handed out", what);
    check_refusal(st, path, want, what);
}

/* ------------------------------------------------------ every bit flipped */

static void test_every_bit_flipped(void)
{
    soma_model *m;
    CHECK(soma_model_parse(small_text, "small", &m) == SOMA_OK);
    soma_model_init(m, SOMA_INIT_HE, 1);
    soma_model_set_normalization(m, 0.25f, 0.5f);
    const char *path = path_in("small.safetensors");
    CHECK_MSG(soma_checkpoint_save_model(path, m) == SOMA_OK, "%s", soma_last_error());
    soma_model_free(m);
    uint8_t *good;
    size_t len;
    CHECK(read_whole_file(path, 1 << 20, &good, &len) == SOMA_OK);
    CHECK(memcmp(good + 8, ST_CRC_PREFIX, ST_CRC_AT - 8) == 0);
    m = NULL;
    CHECK_MSG(checkpoint_parse_model(good, len, "small", &m) == SOMA_OK, "%s", soma_last_error());
    soma_model_free(m);

    uint8_t *bad = malloc(len);
    size_t accepted = 0, no_checksum = 0, mismatch = 0;
    for (size_t bit = 0; bit < 8 * len; bit++) {
        memcpy(bad, good, len);
        bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        m = (soma_model *)&m;
        soma_status st = checkpoint_parse_model(bad, len, "flipped", &m);
        const char *msg = soma_last_error();
        if (st == SOMA_OK || m != NULL) {
            if (accepted++ < 5)
                fprintf(stderr, "bit %zu (byte %zu '%c') flipped: accepted\n", bit, bit / 8,
                        good[bit / 8]);
            soma_model_free(st == SOMA_OK ? m : NULL);
            continue;
        }
        CHECK_MSG(strncmp(msg, "flipped", 7) == 0 && !strchr(msg, '\n'), "bit %zu: '%s'", bit,
                  msg);
        no_checksum += strstr(msg, "has no checksum") != NULL;
        mismatch += strstr(msg, "checksum mismatch") != NULL;
    }
    CHECK_MSG(accepted == 0, "%zu of %zu flipped bits accepted", accepted, 8 * len);
    /* the structure checks catch many flips first; the CRC the rest, and a
     * flip in the key's name leaves a file without one */
    CHECK(mismatch > 0 && no_checksum > 0);
    printf("checkpoint_test: %zu bits of a %zu-byte checkpoint flipped one at a time, all "
           "refused (%zu checksum mismatch, %zu no checksum)\n",
           8 * len, len, mismatch, no_checksum);
    free(bad);
    free(good);
}

/* ------------------------------------------------------------ versions */

/* A soma-checkpoint-1 file as soma 0.1 wrote it: "soma.checksum" = CRC32 of
 * the data section, the metadata not covered. */
static uint8_t *v1_file(const char *format, int with_checksum, size_t *len)
{
    static const float data[10] = {1, 2, 3, 4, 5, 6, 7, 8, 0.5f, -0.5f};
    char crc[64] = "";
    if (with_checksum)
        snprintf(crc, sizeof crc, ",\"soma.checksum\":\"%08x\"",
                 st_crc32(0, data, sizeof data));
    char header[512];
    snprintf(header, sizeof header,
             "{\"__metadata__\":{\"format\":\"%s\",\"model\":\"input channels=1 height=2 "
             "width=2\\nflatten\\nlinear units=2\\n\",\"norm_mean\":\"0.5\",\"norm_std\":"
             "\"0.25\"%s},\"1.weight\":{\"dtype\":\"F32\",\"shape\":[2,4],\"data_offsets\":"
             "[0,32]},\"1.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[32,40]}}",
             format, crc);
    size_t n = strlen(header);
    *len = 8 + n + sizeof data;
    uint8_t *b = malloc(*len);
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)((uint64_t)n >> (8 * i));
    memcpy(b + 8, header, n);
    memcpy(b + 8 + n, data, sizeof data);
    return b;
}

static void expect_parse(uint8_t *bytes, size_t len, const char *want, const char *what)
{
    soma_model *m = NULL;
    soma_status st = checkpoint_parse_model(bytes, len, "v.safetensors", &m);
    if (!want) {
        CHECK_MSG(st == SOMA_OK, "%s: %s", what, soma_last_error());
        float mean = 0, std = 0;
        if (m)
            soma_model_normalization(m, &mean, &std);
        CHECK_MSG(m && m->nparams == 10 && mean == 0.5f, "%s: wrong model", what);
    } else {
        check_refusal(st, "v.safetensors", want, what);
    }
    soma_model_free(st == SOMA_OK ? m : NULL);
    free(bytes);
}

static void test_versions(void)
{
    size_t len;
    uint8_t *b = v1_file("soma-checkpoint-1", 1, &len);
    expect_parse(b, len, NULL, "v1 with its checksum");
    b = v1_file("soma-checkpoint-1", 0, &len);
    expect_parse(b, len, "has no checksum (metadata 'soma.checksum'", "v1 without a checksum");
    b = v1_file("soma-checkpoint-1", 1, &len);
    b[len - 1] ^= 0x40;
    expect_parse(b, len, "checksum mismatch", "v1 with a flipped data bit");
    /* what v1 does not protect: its metadata (docs/checkpoint-format.md) */
    b = v1_file("soma-checkpoint-1", 1, &len);
    for (size_t i = 0; i + 6 <= len; i++)
        if (memcmp(b + i, "\"0.25\"", 6) == 0)
            b[i + 4] = '6';
    expect_parse(b, len, NULL, "v1 with norm_std changed: not covered by its checksum");
    b = v1_file("soma-checkpoint-2", 1, &len);
    expect_parse(b, len, "has no checksum (metadata 'soma.crc32' must open the header",
                 "v2 with only a data checksum");
    b = v1_file("soma-checkpoint-3", 1, &len);
    expect_parse(b, len, "format 'soma-checkpoint-3' is not one this soma reads",
                 "a newer version");
    b = v1_file("soma-checkpoint-", 1, &len);
    expect_parse(b, len, "is not one this soma reads", "no version number");
    b = v1_file("pt", 1, &len);
    expect_parse(b, len, "not a soma checkpoint", "another program's file");

    /* a sealed file without the key in its place reads as one without a checksum */
    soma_model *m;
    CHECK(soma_model_parse(small_text, "small", &m) == SOMA_OK);
    soma_model_init(m, SOMA_INIT_HE, 1);
    CHECK(soma_checkpoint_save_model(path_in("unset.safetensors"), m) == SOMA_ERR_ARGUMENT);
    CHECK_MSG(strstr(soma_last_error(), "not saved: the model's input normalisation "
                                        "'norm_std' = 0"),
              "%s", soma_last_error());
    CHECK(access(path_in("unset.safetensors"), F_OK) != 0);
    soma_model_set_normalization(m, 0.5f, 0.25f);
    const char *path = path_in("renamed.safetensors");
    CHECK(soma_checkpoint_save_model(path, m) == SOMA_OK);
    soma_model_free(m);
    uint8_t *bytes;
    CHECK(read_whole_file(path, 1 << 20, &bytes, &len) == SOMA_OK);
    bytes[ST_CRC_AT - 4] ^= 1; /* soma.crc32 -> soma.crc33 */
    const void *parts[1] = {bytes};
    CHECK(atomic_write(path, parts, &len, 1) == SOMA_OK);
    free(bytes);
    expect_load_refused(path, "has no checksum", "the checksum's key renamed");
    char *value = NULL;
    const char *key = "norm_std";
    CHECK(soma_checkpoint_metadata_get(path, &key, 1, &value) != SOMA_OK && value == NULL);
}

/* ------------------------------------------- values, through the writer */

typedef struct edit {
    const char *meta[10];  /* key, value, ...; NULL ends */
    const char *tensor;    /* an F32 tensor to change, or NULL */
    size_t index;
    float value;
} edit;
#define META(...) {.meta = {__VA_ARGS__}}
#define POKE(name, i, v) {.tensor = name, .index = i, .value = v}

/* `to` is `from` with the edit applied, written (and sealed) by the writer. */
static void rewrite(const char *from, const char *to, const edit *e)
{
    st_file *f = NULL;
    CHECK_MSG(st_read(from, &f) == SOMA_OK, "%s", soma_last_error());
    if (!f)
        return;
    st_writer *w = st_writer_create();
    for (int i = 0; i < st_meta_count(f); i++) {
        const char *key = st_meta_key_at(f, i), *value = st_meta(f, key);
        if (strcmp(key, ST_CRC_KEY) == 0)
            continue;
        for (int j = 0; e->meta[j]; j += 2)
            if (strcmp(e->meta[j], key) == 0)
                value = e->meta[j + 1];
        CHECK(st_writer_set_meta(w, key, value) == SOMA_OK);
    }
    for (int j = 0; e->meta[j]; j += 2) /* keys the file lacks are added */
        if (!st_meta(f, e->meta[j]))
            CHECK(st_writer_set_meta(w, e->meta[j], e->meta[j + 1]) == SOMA_OK);
    int poked = e->tensor == NULL;
    for (int i = 0; i < st_count(f); i++) {
        const st_tensor_info *t = st_tensor_at(f, i);
        uint8_t *data = malloc(t->nbytes + 1);
        memcpy(data, t->data, t->nbytes);
        if (e->tensor && strcmp(e->tensor, t->name) == 0) {
            CHECK(t->dtype == ST_F32 && e->index < t->nbytes / 4);
            memcpy(data + 4 * e->index, &e->value, 4);
            poked = 1;
        }
        CHECK(st_writer_add(w, t->name, t->dtype, t->ndim, t->dims, data) == SOMA_OK);
        free(data);
    }
    CHECK_MSG(poked, "no tensor '%s' in %s", e->tensor, from);
    CHECK_MSG(st_writer_save(w, to) == SOMA_OK, "%s", soma_last_error());
    st_writer_free(w);
    st_free(f);
}

static const soma_dataset *train_set;

static soma_train_config run_config(int epochs, const char *out, const char *resume)
{
    soma_train_config cfg = soma_train_defaults();
    cfg.opt = soma_optimizer_defaults(SOMA_OPT_ADAM);
    cfg.epochs = epochs;
    cfg.batch = 16; /* 40 images: steps of 16, 16, 8 */
    cfg.seed = 3;
    cfg.out_dir = out;
    cfg.resume = resume;
    return cfg;
}

static void stop_at(const soma_progress *p, void *user)
{
    if (!p->epoch_done && p->global_step == *(const long long *)user)
        soma_request_stop();
}

/* Trains (or resumes) with adam; stops after global step `stop` if > 0. */
static soma_status run(int epochs, const char *out, const char *resume, long long stop)
{
    soma_model *m;
    if (soma_model_parse(run_text, "checkpoint_test", &m) != SOMA_OK)
        return SOMA_ERR_ARGUMENT;
    soma_model_init(m, SOMA_INIT_HE, 2);
    soma_train_config cfg = run_config(epochs, out, resume);
    soma_status st = soma_train(m, train_set, NULL, &cfg, stop ? stop_at : NULL, &stop, NULL);
    soma_model_free(m);
    return st;
}

static void test_values_on_load(const char *good)
{
    const char *bad = path_in("bad.safetensors");
    static const struct {
        edit e;
        const char *want;
    } cases[] = {
        {META("norm_std", "0"), "metadata 'norm_std' = 0 is not a positive finite number"},
        {META("norm_std", "-0.25"), "'norm_std' = -0.25 is not a positive"},
        {META("norm_std", "nan"), "'norm_std' = nan"},
        {META("norm_std", "inf"), "'norm_std' = inf"},
        {META("norm_std", "1e-45"), "'norm_std' = 1e-45"},
        {META("norm_std", "1e39"), "'norm_std' = 1e+39"},
        {META("norm_mean", "1e30"), "metadata 'norm_mean' = 1e+30 is outside [0, 1]"},
        {META("norm_mean", "-0.001"), "'norm_mean' = -0.001 is outside"},
        {META("norm_mean", "nan"), "'norm_mean' = nan is outside"},
        {POKE("0.weight", 3, NAN), "tensor '0.weight' holds nan at index 3"},
        {POKE("0.bias", 1, INFINITY), "tensor '0.bias' holds inf at index 1"},
        {POKE("1.running_mean", 0, -INFINITY), "tensor '1.running_mean' holds -inf"},
        {POKE("1.running_var", 1, -1.0f),
         "tensor '1.running_var' holds -1 at index 1, but it is a variance, never negative"},
        {POKE("5.weight", 7, NAN), "tensor '5.weight' holds nan at index 7"},
        {POKE("optimizer.exp_avg", 2, NAN), "tensor 'optimizer.exp_avg' holds nan"},
        {POKE("optimizer.exp_avg_sq", 4, INFINITY), "'optimizer.exp_avg_sq' holds inf"},
        {POKE("optimizer.exp_avg_sq", 0, -1e-3f),
         "'optimizer.exp_avg_sq' holds -0.001 at index 0, but it is a sum of squares"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rewrite(good, bad, &cases[i].e);
        expect_load_refused(bad, cases[i].want, cases[i].want);
        /* a resume reads the same file first */
        CHECK_MSG(run(3, NULL, bad, 0) != SOMA_OK, "resume from '%s' accepted", cases[i].want);
        check_refusal(SOMA_ERR_FORMAT, bad, cases[i].want, cases[i].want);
    }
    /* what a good file may hold: a rewrite changes nothing, and the bounds are inclusive */
    static const edit fine[] = {META(NULL), META("norm_mean", "0", "norm_std", "1"),
                                META("norm_mean", "1", "norm_std", "1e-30"),
                                POKE("optimizer.exp_avg", 0, -5.0f),
                                POKE("1.running_var", 0, 0.0f)};
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
        rewrite(good, bad, &fine[i]);
        soma_model *m = NULL;
        CHECK_MSG(checkpoint_load_model(bad, &m) == SOMA_OK, "fine %zu: %s", i, soma_last_error());
        soma_model_free(m);
    }
}

static void expect_resume_refused(const char *good, const edit *e, const char *want)
{
    const char *bad = path_in("bad-position.safetensors");
    rewrite(good, bad, e);
    soma_status st = run(4, NULL, bad, 0);
    check_refusal(st, bad, want, want);
    /* eval and predict do not read the position: the model still loads */
    soma_model *m = NULL;
    CHECK_MSG(checkpoint_load_model(bad, &m) == SOMA_OK, "%s: %s", want, soma_last_error());
    soma_model_free(m);
}

#define REFUSED_ON_RESUME(want, ...) expect_resume_refused(good, &(edit)META(__VA_ARGS__), want)

/* The run's position against itself and against the training set: the
 * checkpoint stands at the end of epoch 2 of 2 (3 steps an epoch). */
static void test_position_on_resume(const char *good)
{
    CHECK_MSG(run(3, NULL, good, 0) == SOMA_OK, "resume: %s", soma_last_error());
    REFUSED_ON_RESUME("'step' = 1000000", "step", "1000000");
    REFUSED_ON_RESUME("metadata 'step' = 4 is past the end of an epoch (3 steps of batch 16 "
                      "over 40 training images)",
                      "step", "4", "global_step", "10", "optimizer.t", "10", "epoch_seen", "40");
    REFUSED_ON_RESUME("metadata 'global_step' = 7 does not match 'epoch' = 2 and 'step' = 0 "
                      "at 3 steps per epoch",
                      "global_step", "7", "optimizer.t", "7");
    REFUSED_ON_RESUME("'global_step' = 1 is fewer than 'epoch' = 2 plus 'step' = 0",
                      "global_step", "1", "optimizer.t", "1");
    REFUSED_ON_RESUME("metadata 'optimizer.t' = 5 differs from 'global_step' = 6",
                      "optimizer.t", "5");
    REFUSED_ON_RESUME("metadata 'epoch' = 3 is past 'epochs' = 2", "epoch", "3");
    REFUSED_ON_RESUME("metadata 'epoch_seen' = 5 is more than 'step' = 0 steps", "epoch_seen", "5");
    REFUSED_ON_RESUME("metadata 'epoch_seen' = 10, but 'step' = 1 steps of batch 16 see 16",
                      "step", "1", "global_step", "7", "optimizer.t", "7", "epoch_seen", "10");
    REFUSED_ON_RESUME("metadata 'epoch_correct' = 1 is more than 'epoch_seen' = 0",
                      "epoch_correct", "1");
    REFUSED_ON_RESUME("'epoch_loss_sum' = nan", "epoch_loss_sum", "nan");
    REFUSED_ON_RESUME("'epoch_loss_sum' = -1", "epoch_loss_sum", "-1");
    REFUSED_ON_RESUME("'seconds' = -1 is not a time", "seconds", "-1");
    REFUSED_ON_RESUME("'best_epoch' = 3", "best_epoch", "3");
    REFUSED_ON_RESUME("'epochs_since_best' = 9", "epochs_since_best", "9");
    REFUSED_ON_RESUME("'best_val_accuracy' = 1.5 is not in [0, 1]", "best_val_accuracy", "1.5");
}

/* Checkpoints written mid-epoch resume: the position checks accept every
 * place a stop can leave a run, the last step of an epoch included. */
static void test_stops_resume(void)
{
    for (long long stop = 1; stop <= 6; stop++) {
        char out[96];
        snprintf(out, sizeof out, "%s/stop%lld", dir, stop);
        CHECK(mkdir(out, 0755) == 0);
        CHECK_MSG(run(2, out, NULL, stop) == SOMA_ERR_INTERRUPTED, "stop %lld: %s", stop,
                  soma_last_error());
        char last[128];
        snprintf(last, sizeof last, "%s/last.safetensors", out);
        CHECK_MSG(run(2, NULL, last, 0) == SOMA_OK, "resume after step %lld: %s", stop,
                  soma_last_error());
    }
}

/* ---------------------------------------- per-channel input normalisation */

static void check_norm(soma_model *m, const float *mean, const float *std, const char *what)
{
    float got_mean[3] = {-1, -1, -1}, got_std[3] = {-1, -1, -1};
    CHECK(soma_model_normalization_channels(m, 3, got_mean, got_std) == SOMA_OK);
    for (int c = 0; c < 3; c++)
        CHECK_MSG(got_mean[c] == mean[c] && got_std[c] == std[c],
                  "%s: channel %d is (%g, %g), not (%g, %g)", what, c, (double)got_mean[c],
                  (double)got_std[c], (double)mean[c], (double)std[c]);
}

static void test_per_channel(void)
{
    soma_model *m = NULL;
    CHECK(soma_model_parse("input channels=3 height=2 width=2\nflatten\nlinear units=2\n", "rgb",
                           &m) == SOMA_OK);
    if (!m)
        return;
    const char *path = path_in("rgb.safetensors");
    check_refusal(soma_checkpoint_save_model(path, m), path, "'norm_std' channel 0 = 0",
                  "unset normalisation saved");
    const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    CHECK(soma_model_set_normalization_channels(m, 3, mean, std) == SOMA_OK);
    check_norm(m, mean, std, "set");
    /* refused, and nothing changed */
    const float bad_std[3] = {0.2f, -1.0f, 0.2f}, bad_mean[3] = {0.1f, 0.2f, 1.5f};
    check_refusal(soma_model_set_normalization_channels(m, 2, mean, std), "rgb",
                  "3 input channels, not 2", "wrong channel count");
    check_refusal(soma_model_set_normalization_channels(m, 3, mean, bad_std), "channel 1",
                  "not a positive finite number", "negative std");
    check_refusal(soma_model_set_normalization_channels(m, 3, bad_mean, std), "channel 2",
                  "outside [0, 1]", "mean above 1");
    check_refusal(soma_model_normalization_channels(m, 1, (float[3]){0}, (float[3]){0}), "rgb",
                  "not 1", "read with the wrong count");
    check_norm(m, mean, std, "after refusals");
    float m0, s0;
    soma_model_normalization(m, &m0, &s0);
    CHECK(m0 == mean[0] && s0 == std[0]);

    /* a round trip is exact, and the metadata lists one value per channel */
    CHECK_MSG(soma_checkpoint_save_model(path, m) == SOMA_OK, "%s", soma_last_error());
    soma_model_free(m);
    m = NULL;
    CHECK_MSG(checkpoint_load_model(path, &m) == SOMA_OK, "%s", soma_last_error());
    if (m)
        check_norm(m, mean, std, "loaded");
    soma_model_free(m);
    char *value = NULL, want[96];
    snprintf(want, sizeof want, "%.9g,%.9g,%.9g", (double)mean[0], (double)mean[1],
             (double)mean[2]);
    CHECK(soma_checkpoint_metadata(path, "norm_mean", &value) == SOMA_OK && value &&
          strcmp(value, want) == 0);
    free(value);

    /* a checkpoint with one value (as soma wrote before) applies it to every channel */
    const char *old = path_in("rgb-one-value.safetensors");
    rewrite(path, old, &(edit)META("norm_mean", "0.5", "norm_std", "0.25"));
    m = NULL;
    CHECK_MSG(checkpoint_load_model(old, &m) == SOMA_OK, "%s", soma_last_error());
    if (m)
        check_norm(m, (float[3]){0.5f, 0.5f, 0.5f}, (float[3]){0.25f, 0.25f, 0.25f}, "broadcast");
    soma_model_free(m);
    static const struct {
        edit e;
        const char *want;
    } cases[] = {
        {META("norm_mean", "0.1,0.2"), "'norm_mean' is not a number or a list of 3"},
        {META("norm_mean", "0.1,0.2,0.3,0.4"), "list of 3 comma-separated numbers"},
        {META("norm_mean", "0.1,,0.3"), "'norm_mean' is not a number"},
        {META("norm_std", "0.1,0.2,0.3,"), "'norm_std' is not a number"},
        {META("norm_std", "0.1 0.2 0.3"), "'norm_std' is not a number"},
        {META("norm_std", "0.2,0,0.3"), "metadata 'norm_std' channel 1 = 0 is not a positive"},
        {META("norm_mean", "0.2,0.3,-1"), "metadata 'norm_mean' channel 2 = -1 is outside"},
    };
    const char *bad = path_in("rgb-bad.safetensors");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rewrite(path, bad, &cases[i].e);
        expect_load_refused(bad, cases[i].want, cases[i].want);
    }
}

/* Class names: kept through a save and a load, refused when malformed. */
static void test_class_names(void)
{
    const char *path = path_in("rgb.safetensors"); /* test_per_channel's, 2 classes */
    const char *named = path_in("named.safetensors");
    soma_model *m = NULL;
    rewrite(path, named, &(edit)META("class_names", "[\"cat\",\"dog\"]"));
    CHECK_MSG(checkpoint_load_model(named, &m) == SOMA_OK, "%s", soma_last_error());
    if (!m)
        return;
    CHECK(soma_model_class_name(m, 0) && strcmp(soma_model_class_name(m, 0), "cat") == 0);
    CHECK(soma_model_class_name(m, 2) == NULL && soma_model_class_name(m, -1) == NULL);
    const char *again = path_in("named-again.safetensors");
    CHECK(soma_checkpoint_save_model(again, m) == SOMA_OK);
    soma_model_free(m);
    char *value = NULL;
    CHECK(soma_checkpoint_metadata(again, "class_names", &value) == SOMA_OK && value &&
          strcmp(value, "[\"cat\",\"dog\"]") == 0);
    free(value);
    m = NULL; /* fewer names than classes: the rest unnamed */
    rewrite(path, named, &(edit)META("class_names", "[\"cat\"]"));
    CHECK_MSG(checkpoint_load_model(named, &m) == SOMA_OK, "%s", soma_last_error());
    CHECK(m && soma_model_class_name(m, 1) == NULL);
    soma_model_free(m);
    static const struct {
        const char *value, *want;
    } cases[] = {
        {"cat,dog", "metadata 'class_names' is not a JSON array of at most 2 strings"},
        {"[\"a\",\"b\",\"c\"]", "not a JSON array of at most 2 strings"},
        {"{\"a\":1}", "not a JSON array"},
        {"[\"a\",7]", "metadata 'class_names': item 1 is not a string"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rewrite(path, named, &(edit)META("class_names", cases[i].value));
        expect_load_refused(named, cases[i].want, cases[i].want);
    }
}

int main(void)
{
    snprintf(dir, sizeof dir, "checkpoint_test_%ld", (long)getpid());
    if (mkdir(dir, 0755) != 0)
        return 1;
    test_every_bit_flipped();
    test_versions();
    test_per_channel();
    test_class_names();
    soma_dataset *ds = synthetic_patterns(40, 4, 1);
    train_set = ds;
    CHECK(mkdir(path_in("run"), 0755) == 0);
    CHECK_MSG(run(2, path_in("run"), NULL, 0) == SOMA_OK, "%s", soma_last_error());
    char good[160];
    snprintf(good, sizeof good, "%s", path_in("run/last.safetensors"));
    test_values_on_load(good);
    test_position_on_resume(good);
    test_stops_resume();
    soma_dataset_free(ds);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_finish("checkpoint_test");
}
