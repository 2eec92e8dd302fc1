/* The HTML of `soma report`: one self-contained page for one or more runs. */
#ifndef SOMA_CLI_REPORT_HTML_H
#define SOMA_CLI_REPORT_HTML_H

#include "cli/report_data.h"
#include "core/strbuf.h"

soma_status report_html(const run_record *runs, int nruns, strbuf *out);

/* `len` bytes as base64 (RFC 4648), for data URIs. */
void append_base64(strbuf *sb, const uint8_t *data, size_t len);

#endif
