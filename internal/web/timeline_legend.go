package web

import (
	"strings"
	"time"
)

// The timeline's legend and labels (issue 14): the legend shows every
// symbol the chart draws, as drawn (bars, dots, diamonds), and only those;
// ticks name the year on the first month shown and every January; dots on
// one day of one lane are spread apart instead of hiding each other.

// legendItem is one symbol of the legend.
type legendItem struct {
	Class string // the item's classes, as drawn
	Shape string // "bar", "dot" or "diamond"
	Key   string // message key of its meaning
}

// legendKeys name what each class means, in the legend's order.
var legendKeys = []struct{ class, key string }{
	{"tl-emp", "tl.employment"},
	{"tl-left", "tl.legend.left"},
	{"tl-proj tl-confidential", "tl.legend.confidential"},
	{"tl-proj tl-internal", "tl.legend.project"},
	{"tl-proj tl-public", "tl.legend.project"},
	{"tl-launch", "tl.legend.launch"},
	{"tl-leave", "tl.leave"},
	{"tl-expense", "tl.expenses"},
	{"tl-decl tl-approved", "tl.legend.decl.approved"},
	{"tl-decl tl-pending", "tl.legend.decl.pending"},
	{"tl-decl tl-rejected", "tl.legend.decl.rejected"},
	{"tl-decl tl-withdrawn", "tl.legend.decl.withdrawn"},
	{"tl-finding tl-sev-high", "tl.legend.finding.high"},
	{"tl-finding tl-sev-medium", "tl.legend.finding.medium"},
	{"tl-finding tl-sev-low", "tl.legend.finding.low"},
	{"tl-finding tl-covered", "tl.legend.finding.covered"},
}

// shapeOf is how SVG draws an item.
func shapeOf(it timelineItem) string {
	switch {
	case !it.Point:
		return "bar"
	case strings.Contains(it.Class, "tl-launch"), strings.Contains(it.Class, "tl-left"):
		return "diamond"
	}
	return "dot"
}

// Legend lists the symbols the chart draws: one per class and shape, in
// legendKeys order; a class it does not know is listed by its lane.
func (t timeline) Legend() []legendItem {
	seen := map[string]bool{}
	var found []legendItem
	for _, ln := range t.Lanes {
		for _, it := range ln.Items {
			if it.Start.IsZero() && it.End.IsZero() {
				continue
			}
			li := legendItem{Class: it.Class, Shape: shapeOf(it)}
			if seen[li.Class+"/"+li.Shape] {
				continue
			}
			seen[li.Class+"/"+li.Shape] = true
			li.Key = ""
			for _, k := range legendKeys {
				if k.class == it.Class {
					li.Key = k.key
				}
			}
			if li.Key == "" {
				li.Key = "tl.legend.other"
			}
			found = append(found, li)
		}
	}
	var out []legendItem
	for _, k := range legendKeys {
		for _, li := range found {
			if li.Class == k.class {
				out = append(out, li)
			}
		}
	}
	for _, li := range found {
		if li.Key == "tl.legend.other" {
			out = append(out, li)
		}
	}
	return out
}

// tickLabel is a month tick's label: the year and month on the first tick
// and in January, so every stretch of the axis says which year it is.
func tickLabel(m time.Time, first bool) string {
	if first || m.Month() == time.January {
		return m.Format("2006-01")
	}
	return m.Format("01")
}

// spread gives the vertical offset of the n-th dot drawn near one x on a
// lane: 0, then alternately above and below.
func spread(n int) float64 {
	if n == 0 {
		return 0
	}
	step := float64((n + 1) / 2 * 8)
	if n%2 == 1 {
		return -step
	}
	return step
}
