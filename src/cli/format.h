/* Small text helpers shared by the subcommands: numbers for people, shell quoting. */
#ifndef SOMA_CLI_FORMAT_H
#define SOMA_CLI_FORMAT_H

#include <stddef.h>

#include "core/strbuf.h"

/* "61706" -> "61,706"; writes into buf (at least 32 bytes) and returns it. */
const char *format_count(long long n, char *buf, size_t size);

/* Seconds as "m:ss" or "h:mm:ss"; "-:--" when unknown. */
const char *format_duration(double seconds, char *buf, size_t size);

/* Appends `word` quoted for a POSIX shell if it needs quoting ('it'\''s'). */
void append_shell_word(strbuf *sb, const char *word);

/* argv[0..argc) joined by spaces, each word shell-quoted; malloc'd (NULL on failure). */
char *join_command(int argc, char **argv);

/* The value of `--option VALUE` or `--option=VALUE` in a command line joined
 * by join_command (shell quoting undone); malloc'd, NULL if absent. */
char *command_option_value(const char *command, const char *option);

/* Seconds from a monotonic clock, for rates and timing. */
double cli_seconds(void);

#endif
