/* The backends this build has: the CPU always; a device backend joins the
 * list when the build finds its toolkit (CMakeLists.txt). */
#include <string.h>

#include "ops/backend.h"

static const soma_backend *const backends[] = {&soma_cpu_backend, NULL};

const soma_backend *const *backend_list(void) { return backends; }

const soma_backend *backend_find(const char *name)
{
    for (int i = 0; name && backends[i]; i++)
        if (strcmp(backends[i]->name, name) == 0)
            return backends[i];
    return NULL;
}
