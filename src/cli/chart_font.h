/* The PNG charts' pixel font (chart_font.c). */
#ifndef SOMA_CLI_CHART_FONT_H
#define SOMA_CLI_CHART_FONT_H

#define CHART_FONT_W 3
#define CHART_FONT_H 5

/* CHART_FONT_W x CHART_FONT_H cells, row by row, '#' inked; NULL: blank. */
const char *chart_font_glyph(char c);

#endif
