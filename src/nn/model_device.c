/* Choosing a model's device (backend) and moving it there. */
#include <pthread.h>
#include <stdlib.h>

#include "core/strbuf.h"
#include "nn/network.h"

/* the backends' names, in the same order; the list is fixed at build time */
#define MAX_DEVICES 8
static const char *device_names[MAX_DEVICES + 1];

static void fill_names(void)
{
    const soma_backend *const *all = backend_list();
    for (int i = 0; all[i] && i < MAX_DEVICES; i++)
        device_names[i] = all[i]->name;
}

const char *const *soma_devices(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, fill_names);
    return device_names;
}

const char *soma_model_device(const soma_model *m) { return m ? m->be->name : NULL; }

static soma_status unknown_device(const char *device)
{
    strbuf list = {0};
    const char *const *names = soma_devices();
    for (int i = 0; names[i]; i++)
        strbuf_appendf(&list, "%s%s", i ? ", " : "", names[i]);
    soma_status st = soma_error(SOMA_ERR_ARGUMENT, "unknown device '%s'; this build has: %s",
                                device, list.data ? list.data : "none");
    strbuf_free(&list);
    return st;
}

soma_status soma_model_set_device(soma_model *m, const char *device)
{
    if (!m || !device)
        return soma_error(SOMA_ERR_ARGUMENT, "soma_model_set_device: no %s given",
                          m ? "device" : "model");
    const soma_backend *be = backend_find(device);
    if (!be)
        return unknown_device(device);
    return network_move(m, be);
}
