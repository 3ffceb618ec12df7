/* dashboard_svg: the dashboard's charts as SVG written on the server — a line chart of rates
 * over time with its target line, and the horizontal bar of one rate against its target — with
 * axes, labels and <title>s, no script and no style attribute (the page's stylesheet colours
 * them by class), so that they also work as images outside the page. */
#ifndef DUNGHAN_DASHBOARD_SVG_H
#define DUNGHAN_DASHBOARD_SVG_H

#include <stdbool.h>
#include <stddef.h>

#include "dashboard_html.h"

/* One point of a line chart: its label on the x axis, its value in percent (negative or NaN,
 * as KPI_NO_DATA: no data, a gap in the line) and the value as the reader sees it ("96,2%"). */
struct dashboard_svg_point {
	const char *label;
	double value;
	const char *value_text;
};

struct dashboard_svg_chart {
	const char *title;        /* the chart's <title>: what it shows */
	const char *desc;         /* its <desc> (e.g. the target), or NULL */
	const struct dashboard_svg_point *points;
	size_t npoints;
	double target;            /* the target line in percent; negative: none */
	const char *target_label; /* the target line's text, e.g. "Chỉ tiêu 97%" */
};

/* Writes the chart to h: the y axis from a round value below the lowest point and the target
 * up to 100%, a tick every 1, 2, 5, 10 or 20 points, a label per point on the x axis. */
void dashboard_svg_line_chart(struct dashboard_html *h, const struct dashboard_svg_chart *c);

/* Writes a bar of value percent (negative or NaN: no data, an empty track) with a mark at
 * target (negative: none); class "below" colours it as under target. title is its <title>.
 * Widths are percentages of the bar's width. */
void dashboard_svg_bar(struct dashboard_html *h, double value, double target, bool below,
		       const char *title);

#endif
