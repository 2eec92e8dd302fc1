/* Weights from a PyTorch state_dict in safetensors (soma_model_import_safetensors), from
 * bytes in memory: the fuzzer's way in. */
#ifndef SOMA_NN_IMPORT_H
#define SOMA_NN_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "soma.h"

/* soma_model_import_safetensors on bytes[0..len); `name` starts error messages. */
soma_status import_safetensors_memory(soma_model *model, const uint8_t *bytes, size_t len,
                                      const char *name, const soma_name_map *map, int nmap);

#endif
