package main

import (
	"fmt"
	"html"
	"math"
	"slices"
	"strings"
)

// chartSeries are the measurements drawn in latency.svg.
var chartSeries = []string{
	"startup/open+list/cold", "startup/open+list/warm", "startup/newest50/warm",
	"query/complex", "query/month", "query/tag",
}

var chartColors = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"}

type chartPoint struct{ x, y float64 }

type chartLine struct {
	label  string
	color  string
	dashed bool
	pts    []chartPoint
}

// latencySVG draws the median latency of the query and open measurements
// against the number of sessions (both axes logarithmic), Cairn solid and
// SQLite dashed where the peers ran.
func latencySVG(reps []*Report) string {
	var lines []chartLine
	for si, name := range chartSeries {
		for _, peer := range []string{"", "sqlite"} {
			l := chartLine{label: "cairn " + name, dashed: peer != "", color: chartColors[si%len(chartColors)]}
			if peer != "" {
				l.label = peer + " " + name
			}
			for _, rep := range reps {
				for _, r := range rep.Results {
					if r.Name != name || r.Error != "" || r.Unit != "ms" {
						continue
					}
					v := r.Median
					if peer != "" {
						p, ok := r.Peers[peer]
						if !ok || p.NA != "" {
							continue
						}
						v = p.Median
					}
					if v > 0 && !math.IsNaN(v) {
						l.pts = append(l.pts, chartPoint{float64(rep.Sessions), v})
					}
				}
			}
			if len(l.pts) > 0 {
				slices.SortFunc(l.pts, func(a, b chartPoint) int { return int(a.x - b.x) })
				lines = append(lines, l)
			}
		}
	}
	const W, H, left, right, top, bottom = 900, 480, 70, 330, 40, 50
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", W, H, W, H)
	fmt.Fprintf(&sb, `<rect width="%d" height="%d" fill="white"/>`+"\n", W, H)
	fmt.Fprintf(&sb, `<text x="%d" y="22" font-size="15">Cairn: median latency against store size (log-log)</text>`+"\n", left)
	if len(lines) == 0 {
		sb.WriteString(`<text x="70" y="100">no results</text></svg>` + "\n")
		return sb.String()
	}
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, l := range lines {
		for _, p := range l.pts {
			xmin, xmax = math.Min(xmin, p.x), math.Max(xmax, p.x)
			ymin, ymax = math.Min(ymin, p.y), math.Max(ymax, p.y)
		}
	}
	lx0, lx1 := math.Floor(math.Log10(xmin)), math.Ceil(math.Log10(xmax))
	if lx1 == lx0 {
		lx0, lx1 = lx0-0.5, lx1+0.5
	}
	ly0, ly1 := math.Floor(math.Log10(ymin)), math.Ceil(math.Log10(ymax))
	if ly1 == ly0 {
		ly1++
	}
	pw, ph := float64(W-left-right), float64(H-top-bottom)
	px := func(x float64) float64 { return left + (math.Log10(x)-lx0)/(lx1-lx0)*pw }
	py := func(y float64) float64 { return top + ph - (math.Log10(y)-ly0)/(ly1-ly0)*ph }
	fmt.Fprintf(&sb, `<rect x="%d" y="%d" width="%.0f" height="%.0f" fill="none" stroke="#999"/>`+"\n", left, top, pw, ph)
	for e := ly0; e <= ly1; e++ {
		y := top + ph - (e-ly0)/(ly1-ly0)*ph
		fmt.Fprintf(&sb, `<line x1="%d" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#eee"/><text x="%d" y="%.1f" text-anchor="end">%s ms</text>`+"\n",
			left, left+pw, y, y, left-6, y+4, trimFloat(math.Pow(10, e)))
	}
	for e := math.Ceil(lx0); e <= lx1; e++ {
		x := left + (e-lx0)/(lx1-lx0)*pw
		fmt.Fprintf(&sb, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%.0f" stroke="#eee"/><text x="%.1f" y="%.0f" text-anchor="middle">%s</text>`+"\n",
			x, x, top, top+ph, x, top+ph+16, sessionsLabel(math.Pow(10, e)))
	}
	fmt.Fprintf(&sb, `<text x="%.0f" y="%d" text-anchor="middle">sessions in the store</text>`+"\n", left+pw/2, H-12)
	for i, l := range lines {
		c := l.color
		dash := ""
		if l.dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		var pts []string
		for _, p := range l.pts {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(p.x), py(p.y)))
		}
		fmt.Fprintf(&sb, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n", strings.Join(pts, " "), c, dash)
		for _, p := range l.pts {
			fmt.Fprintf(&sb, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s: %s ms at %s sessions</title></circle>`+"\n",
				px(p.x), py(p.y), c, html.EscapeString(l.label), trimFloat(p.y), sessionsLabel(p.x))
		}
		ly := top + 14 + i*18
		fmt.Fprintf(&sb, `<line x1="%.0f" x2="%.0f" y1="%d" y2="%d" stroke="%s" stroke-width="2"%s/><text x="%.0f" y="%d">%s</text>`+"\n",
			left+pw+14, left+pw+40, ly-4, ly-4, c, dash, left+pw+46, ly, html.EscapeString(l.label))
	}
	sb.WriteString("</svg>\n")
	return sb.String()
}

func sessionsLabel(x float64) string {
	switch {
	case x >= 1e6:
		return trimFloat(x/1e6) + "M"
	case x >= 1e3:
		return trimFloat(x/1e3) + "k"
	}
	return trimFloat(x)
}
