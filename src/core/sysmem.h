/*
 * How much memory this process can still allocate, from what the kernel
 * says: the least of the system's MemAvailable, the headroom under the
 * cgroup's memory limit (v2 memory.max, or v1 memory.limit_in_bytes) and
 * under the address-space and data limits (ulimit -v, ulimit -d).
 */
#ifndef SOMA_CORE_SYSMEM_H
#define SOMA_CORE_SYSMEM_H

#include <stddef.h>

/* Bytes available; *limit names the limit that binds ("MemAvailable",
 * "ulimit -v", ...), or is NULL with SIZE_MAX returned when none is known. */
size_t memory_available(const char **limit);

/* "3.0 GiB", "12 MiB", "512 KiB", "2.5 PiB" for a message. */
const char *memory_text(size_t bytes, char *buf, size_t size);

#endif
