/* Checking --threads before any work: can this many threads run here at all? */
#ifndef SOMA_CLI_THREAD_CHECK_H
#define SOMA_CLI_THREAD_CHECK_H

/*
 * Starts threads - 1 threads that all live at once (as OpenMP's pool will),
 * with the stack size OpenMP will give them, and ends them again. Returns -1
 * when that worked; otherwise prints one line, "soma: error: --threads N:
 * cannot start N threads here (...)", and returns EXIT_ERROR. Without it,
 * libgomp finds out at the first parallel region, after the data is loaded
 * and the output directory made, and exits with a message of its own.
 */
int threads_check(int threads);

#endif
