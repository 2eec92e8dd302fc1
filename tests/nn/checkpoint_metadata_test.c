/* soma_checkpoint_metadata tells an absent key (SOMA_OK, NULL) from a file
 * that cannot be read (an error status, NULL), as soma_checkpoint_metadata_get
 * does; missing arguments are a status, not a crash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soma.h"
#include "support/check.h"

int main(void)
{
    const char *path = "checkpoint_metadata_test.tmp.safetensors";
    soma_model *m = NULL;
    CHECK(soma_model_parse("input channels=1 height=2 width=2\nflatten\nlinear units=2\n",
                           "meta.cfg", &m) == SOMA_OK);
    if (!m)
        return check_finish("checkpoint_metadata_test");
    soma_model_set_normalization(m, 0.5f, 0.25f);
    CHECK_MSG(soma_checkpoint_save_model(path, m) == SOMA_OK, "%s", soma_last_error());
    soma_model_free(m);

    char *value = (char *)path; /* each call must set it */
    CHECK(soma_checkpoint_metadata(path, "model_source", &value) == SOMA_OK);
    CHECK(value && strcmp(value, "meta.cfg") == 0);
    free(value);
    value = (char *)path;
    CHECK(soma_checkpoint_metadata(path, "no_such_key", &value) == SOMA_OK && value == NULL);
    value = (char *)path;
    CHECK(soma_checkpoint_metadata("no-such-dir/x.safetensors", "model", &value) == SOMA_ERR_IO);
    CHECK(value == NULL && strstr(soma_last_error(), "no-such-dir/x.safetensors"));

    /* a damaged file: an error, not "absent" */
    FILE *f = fopen(path, "r+b");
    CHECK(f != NULL);
    if (f) {
        fseek(f, 40, SEEK_SET);
        fputc('#', f);
        fclose(f);
    }
    value = (char *)path;
    CHECK(soma_checkpoint_metadata(path, "model_source", &value) != SOMA_OK && value == NULL);

    CHECK(soma_checkpoint_metadata(path, "model", NULL) == SOMA_ERR_ARGUMENT);
    CHECK(soma_checkpoint_metadata(NULL, "model", &value) == SOMA_ERR_ARGUMENT && !value);
    CHECK(soma_checkpoint_metadata(path, NULL, &value) == SOMA_ERR_ARGUMENT && !value);
    CHECK(soma_checkpoint_metadata_get(path, NULL, 1, NULL) == SOMA_ERR_ARGUMENT);
    remove(path);
    return check_finish("checkpoint_metadata_test");
}
