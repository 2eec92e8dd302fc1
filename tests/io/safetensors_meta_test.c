/* Typed reads of safetensors metadata (src/io/safetensors_meta.c): strict
 * numbers, integer ranges, 64-bit integers read exactly. */
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"
#include "support/check.h"

static void expect_error(soma_status st, const char *want)
{
    CHECK(st == SOMA_ERR_FORMAT);
    CHECK_MSG(strstr(soma_last_error(), want), "'%s' lacks '%s'", soma_last_error(), want);
}

int main(void)
{
    static const char *const meta[][2] = {
        {"pi", "3.25"}, {"steps", "120"}, {"half", "2.5"}, {"huge", "1e400"}, {"text", "12abc"},
        {"seed", "18446744073709551615"}, {"negative", "-1"}, {"empty", ""},
    };
    st_writer *w = st_writer_create();
    CHECK(w != NULL);
    if (!w)
        return check_finish("safetensors_meta");
    for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++)
        CHECK(st_writer_set_meta(w, meta[i][0], meta[i][1]) == SOMA_OK);
    uint8_t *bytes = NULL;
    size_t len = 0;
    st_file *f = NULL;
    CHECK_MSG(st_writer_serialize(w, &bytes, &len) == SOMA_OK, "%s", soma_last_error());
    st_writer_free(w);
    CHECK_MSG(bytes && st_parse_memory(bytes, len, "m.safetensors", &f) == SOMA_OK, "%s",
              soma_last_error());
    if (!f) {
        free(bytes);
        return check_finish("safetensors_meta");
    }

    double d = 0;
    long long n = 0;
    uint64_t u = 0;
    CHECK(st_meta_number(f, "m.safetensors", "pi", &d) == SOMA_OK && d == 3.25);
    CHECK(st_meta_int(f, "m.safetensors", "steps", 0, 1000, &n) == SOMA_OK && n == 120);
    CHECK(st_meta_u64(f, "m.safetensors", "seed", &u) == SOMA_OK && u == UINT64_MAX);

    expect_error(st_meta_number(f, "m.safetensors", "absent", &d),
                 "m.safetensors: metadata 'absent' is missing");
    expect_error(st_meta_number(f, "m.safetensors", "text", &d), "'text' is not a number: '12abc'");
    expect_error(st_meta_number(f, "m.safetensors", "empty", &d), "'empty' is not a number");
    expect_error(st_meta_number(f, "m.safetensors", "huge", &d), "'huge' is not a number");
    expect_error(st_meta_int(f, "m.safetensors", "half", 0, 10, &n),
                 "'half' = 2.5 is out of range");
    expect_error(st_meta_int(f, "m.safetensors", "steps", 0, 100, &n),
                 "'steps' = 120 is out of range");
    expect_error(st_meta_u64(f, "m.safetensors", "negative", &u), "'negative' is not an unsigned");
    expect_error(st_meta_u64(f, "m.safetensors", "pi", &u), "'pi' is not an unsigned");
    st_free(f);
    free(bytes);
    return check_finish("safetensors_meta");
}
