package serve

import (
	"fmt"
	"html/template"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Point is one value of a series.
type Point struct {
	Year  int
	Value float64
	// Explain is the /api/explain address of the value, "" when it has
	// none.
	Explain string
}

// Series is one line of a chart.
type Series struct {
	Label  string
	Color  string
	Dash   string // SVG stroke-dasharray, "" for a solid line
	Points []Point
}

// Chart is a line chart of series over the years, drawn as inline SVG
// that needs no script: readable without JavaScript, scaled to the page
// width, described for screen readers (role="img", a title and a text
// summary of every line), with a data table beside it.
type Chart struct {
	ID     string // unique on the page
	Title  string
	Unit   string
	Series []Series
}

// palette: colours with at least 3:1 contrast on white (WCAG 1.4.11), and
// dashes, so that lines are told apart without colour too.
var palette = []struct{ color, dash string }{
	{"#1a1a1a", ""}, {"#c25e00", "6 3"}, {"#0072b2", ""}, {"#007a5e", "2 3"}, {"#8e44ad", "8 3 2 3"}, {"#a11d2e", "4 2"},
}

// Style gives the i-th series its colour and dash.
func Style(i int) (color, dash string) {
	p := palette[i%len(palette)]
	return p.color, p.dash
}

const (
	chartW, chartH         = 640, 250
	plotL, plotR           = 58, 624
	plotT, plotB           = 16, 214
	pointRadius            = 3
	chartFontSize          = 12
	maxYearLabels          = 7
	percentCeiling float64 = 100
)

// Empty reports whether the chart has no point to draw.
func (c Chart) Empty() bool {
	for _, s := range c.Series {
		if len(s.Points) > 0 {
			return false
		}
	}
	return true
}

// Years returns every year of the chart, in order.
func (c Chart) Years() []int {
	seen := map[int]bool{}
	for _, s := range c.Series {
		for _, p := range s.Points {
			seen[p.Year] = true
		}
	}
	out := make([]int, 0, len(seen))
	for y := range seen {
		out = append(out, y)
	}
	sort.Ints(out)
	return out
}

// Summary is the text alternative of the chart: each line's first and
// last value.
func (c Chart) Summary() string {
	var parts []string
	for _, s := range c.Series {
		if len(s.Points) == 0 {
			continue
		}
		first, last := s.Points[0], s.Points[len(s.Points)-1]
		parts = append(parts, fmt.Sprintf("%s: %s in %d, %s in %d", s.Label, FormatValue(first.Value, c.Unit), first.Year, FormatValue(last.Value, c.Unit), last.Year))
	}
	return strings.Join(parts, "; ") + "."
}

// SVG draws the chart.
func (c Chart) SVG() template.HTML {
	years := c.Years()
	if len(years) == 0 {
		return ""
	}
	minY, maxY := years[0], years[len(years)-1]
	top := 0.0
	for _, s := range c.Series {
		for _, p := range s.Points {
			top = math.Max(top, p.Value)
		}
	}
	ticks := niceTicks(top, c.Unit)
	ceiling := ticks[len(ticks)-1]
	x := func(year int) float64 {
		if maxY == minY {
			return (plotL + plotR) / 2
		}
		return plotL + float64(year-minY)*(plotR-plotL)/float64(maxY-minY)
	}
	y := func(v float64) float64 { return plotB - v*(plotB-plotT)/ceiling }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-t %s-d" xmlns="http://www.w3.org/2000/svg">`, chartW, chartH, c.ID, c.ID)
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, c.ID, template.HTMLEscapeString(c.Title), c.ID, template.HTMLEscapeString(c.Summary()))
	for _, t := range ticks {
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, plotL, plotR, y(t), y(t))
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="%.1f" text-anchor="end" font-size="%d">%s</text>`, plotL-6, y(t)+4, chartFontSize, FormatValue(t, c.Unit))
	}
	step := max(1, (len(years)+maxYearLabels-1)/maxYearLabels)
	for i, yr := range years {
		if i%step != 0 && i != len(years)-1 {
			continue
		}
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d" text-anchor="middle" font-size="%d">%d</text>`, x(yr), plotB+20, chartFontSize, yr)
	}
	for _, s := range c.Series {
		if len(s.Points) == 0 {
			continue
		}
		var pts []string
		for _, p := range s.Points {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(p.Year), y(p.Value)))
		}
		dash := ""
		if s.Dash != "" {
			dash = fmt.Sprintf(` stroke-dasharray="%s"`, s.Dash)
		}
		fmt.Fprintf(&b, `<g class="series" data-series="%s">`, template.HTMLEscapeString(s.Label))
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>`, s.Color, dash, strings.Join(pts, " "))
		for _, p := range s.Points {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="%d" fill="%s"><title>%s %d: %s</title></circle>`, x(p.Year), y(p.Value), pointRadius, s.Color,
				template.HTMLEscapeString(s.Label), p.Year, FormatValue(p.Value, c.Unit))
		}
		b.WriteString(`</g>`)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// niceTicks returns 0 and 4 or so round values up to at least top.
func niceTicks(top float64, unit string) []float64 {
	if unit == "percent" && top <= percentCeiling {
		return []float64{0, 25, 50, 75, 100}
	}
	if top <= 0 {
		return []float64{0, 1}
	}
	raw := top / 4
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	var step float64
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	if unit == "count" {
		step = math.Max(1, math.Ceil(step))
	}
	var out []float64
	for v := 0.0; ; v += step {
		out = append(out, v)
		if v >= top {
			return out
		}
	}
}

// FormatValue renders a value for people: counts whole, percentages with
// one decimal and a %, points with one decimal.
func FormatValue(v float64, unit string) string {
	switch unit {
	case "count":
		if v == math.Trunc(v) {
			return strconv.FormatFloat(v, 'f', 0, 64)
		}
		return strconv.FormatFloat(v, 'f', 1, 64)
	case "percent":
		return strconv.FormatFloat(v, 'f', 1, 64) + "%"
	case "percentage_points":
		return strconv.FormatFloat(v, 'f', 1, 64) + " pp"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}
