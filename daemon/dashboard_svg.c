/* dashboard_svg: the line chart and the bar of the dashboard (see dashboard_svg.h). Text goes
 * through dashboard_html_text like every value of a page; numbers are written with "%.1f" (the
 * daemon keeps the C locale, so a dot). */
#include "dashboard_svg.h"

#include <math.h>

#include "template.h"

/* The chart's drawing box (user units; the element scales to the page's width). */
#define W 560.0
#define H 260.0
#define LEFT 48.0
#define RIGHT 14.0
#define TOP 18.0
#define BOTTOM 34.0

struct scale {
	double lo, step; /* the y axis runs from lo to 100 */
	size_t n;        /* points */
};

static double x_of(const struct scale *s, size_t i)
{
	return LEFT + ((double)i + 0.5) * (W - LEFT - RIGHT) / (double)s->n;
}

static double y_of(const struct scale *s, double v)
{
	if (v < s->lo)
		v = s->lo;
	if (v > 100.0)
		v = 100.0;
	return TOP + (100.0 - v) / (100.0 - s->lo) * (H - TOP - BOTTOM);
}

/* The axis from a multiple of the step below every value and the target, with at most six
 * steps up to 100. */
static struct scale scale_of(const struct dashboard_svg_chart *c)
{
	static const double steps[] = { 1, 2, 5, 10, 20 };
	struct scale s = { 0, 20, c->npoints ? c->npoints : 1 };
	double low = c->target >= 0 ? c->target : 100.0;

	for (size_t i = 0; i < c->npoints; i++)
		if (c->points[i].value >= 0 && c->points[i].value < low)
			low = c->points[i].value;
	if (low >= 100.0)
		low = 90.0; /* nothing below 100: still show a useful band */
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		double lo = floor(low / steps[i]) * steps[i];

		if (lo >= low && lo > 0)
			lo -= steps[i];
		if ((100.0 - lo) / steps[i] <= 6.0) {
			s.lo = lo < 0 ? 0 : lo;
			s.step = steps[i];
			return s;
		}
	}
	return s;
}

static void axes(struct dashboard_html *h, const struct scale *s,
		 const struct dashboard_svg_chart *c)
{
	dashboard_html_raw(h, "<g class=\"axis\">");
	for (double v = s->lo; v <= 100.0 + 1e-9; v += s->step) {
		double y = y_of(s, v);

		dashboard_html_rawf(h,
				    "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" "
				    "y2=\"%.1f\"/><text x=\"%.1f\" y=\"%.1f\" "
				    "text-anchor=\"end\">%g%%</text>",
				    LEFT, W - RIGHT, y, y, LEFT - 6, y + 4, v);
	}
	dashboard_html_rawf(h, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", LEFT,
			    LEFT, TOP, H - BOTTOM);
	dashboard_html_rawf(h, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", LEFT,
			    W - RIGHT, H - BOTTOM, H - BOTTOM);
	/* Every other label is "odd" (counted from the last, which is always shown), for a
	 * narrow screen to leave out. */
	for (size_t i = 0; i < c->npoints; i++) {
		dashboard_html_rawf(h,
				    "<text class=\"x%s\" x=\"%.1f\" y=\"%.1f\" "
				    "text-anchor=\"middle\">",
				    (c->npoints - 1 - i) % 2 ? " odd" : "", x_of(s, i),
				    H - BOTTOM + 18);
		dashboard_html_text(h, c->points[i].label);
		dashboard_html_raw(h, "</text>");
	}
	dashboard_html_raw(h, "</g>");
}

void dashboard_svg_line_chart(struct dashboard_html *h, const struct dashboard_svg_chart *c)
{
	struct scale s = scale_of(c);
	bool pen = false;

	dashboard_html_rawf(h,
			    "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
			    "aria-labelledby=\"chart-title%s\" "
			    "xmlns=\"http://www.w3.org/2000/svg\">"
			    "<title id=\"chart-title\">",
			    W, H, c->desc ? " chart-desc" : "");
	dashboard_html_text(h, c->title);
	dashboard_html_raw(h, "</title>");
	if (c->desc) {
		dashboard_html_raw(h, "<desc id=\"chart-desc\">");
		dashboard_html_text(h, c->desc);
		dashboard_html_raw(h, "</desc>");
	}
	axes(h, &s, c);
	if (c->target >= 0) {
		double y = y_of(&s, c->target);

		dashboard_html_rawf(h,
				    "<g class=\"target\"><line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" "
				    "y2=\"%.1f\"/><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">",
				    LEFT, W - RIGHT, y, y, W - RIGHT, y - 5);
		dashboard_html_text(h, c->target_label);
		dashboard_html_raw(h, "</text></g>");
	}
	/* The line, broken where a month has no data. */
	dashboard_html_raw(h, "<path class=\"line\" d=\"");
	for (size_t i = 0; i < c->npoints; i++) {
		if (!(c->points[i].value >= 0)) {
			pen = false;
			continue;
		}
		dashboard_html_rawf(h, "%s%.1f %.1f ", pen ? "L" : "M", x_of(&s, i),
				    y_of(&s, c->points[i].value));
		pen = true;
	}
	dashboard_html_raw(h, "\"/>");
	for (size_t i = 0; i < c->npoints; i++) {
		const struct dashboard_svg_point *p = &c->points[i];

		if (!(p->value >= 0))
			continue;
		dashboard_html_rawf(h, "<circle class=\"point%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\">",
				    c->target >= 0 && p->value < c->target ? " below" : "",
				    x_of(&s, i), y_of(&s, p->value));
		dashboard_html_raw(h, "<title>");
		dashboard_html_text(h, p->label);
		dashboard_html_raw(h, ": ");
		dashboard_html_text(h, p->value_text);
		dashboard_html_raw(h, "</title></circle>");
	}
	dashboard_html_raw(h, "</svg>");
}

void dashboard_svg_bar(struct dashboard_html *h, double value, double target, bool below,
		       const char *title)
{
	char width[TEMPLATE_PERCENT_MAX];

	dashboard_html_raw(h, "<svg class=\"bar\" width=\"100%\" height=\"20\" role=\"img\" "
			      "aria-label=\"");
	dashboard_html_text(h, title);
	dashboard_html_raw(h, "\" xmlns=\"http://www.w3.org/2000/svg\"><title>");
	dashboard_html_text(h, title);
	dashboard_html_raw(h, "</title><rect class=\"track\" width=\"100%\" height=\"100%\"/>");
	/* Truncated to a tenth like the figure beside it (96.96 never looks like 97), with the
	 * same function. */
	if (value >= 0 &&
	    template_format_percent(value > 100.0 ? 100.0 : value, 1, TEMPLATE_EN, width,
				    sizeof(width)) > 0)
		dashboard_html_rawf(h, "<rect class=\"fill%s\" width=\"%s\" height=\"100%%\"/>",
				    below ? " below" : "", width);
	if (target >= 0)
		dashboard_html_rawf(h,
				    "<line class=\"mark\" x1=\"%.1f%%\" x2=\"%.1f%%\" y1=\"0\" "
				    "y2=\"100%%\"/>",
				    target, target);
	dashboard_html_raw(h, "</svg>");
}
