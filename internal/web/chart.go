package web

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/employee"
)

// Charts are SVG drawn here, styled by class from the embedded stylesheet
// (the CSP allows no inline style). Every text goes through esc.

func esc(s string) string { return html.EscapeString(s) }

// svgBuilder accumulates SVG markup.
type svgBuilder struct{ strings.Builder }

func (b *svgBuilder) f(format string, args ...any) { fmt.Fprintf(&b.Builder, format, args...) }

// timelineItem is one thing on a lane: a bar from Start to End, or a point.
type timelineItem struct {
	Start, End civil.Date
	Label      string // drawn on a bar when it fits
	Title      string // tooltip and table text
	// HTML is the table text when it holds data shown as given (marked
	// translate="no"); "" uses Title.
	HTML  template.HTML
	Class string
	Point bool
}

type timelineLane struct {
	Name  string
	Items []timelineItem
}

// timelineRow is the same information as a table, in date order, for
// reading and for screen readers.
type timelineRow struct {
	Date, End, Lane, Text, Class string
	HTML                         template.HTML
}

type timeline struct {
	From, To civil.Date
	Today    civil.Date
	Lanes    []timelineLane
	Rows     []timelineRow
	l        *lang
}

// buildTimeline puts the employee's employment, projects and launch dates,
// leave, expenses, declarations and findings on one date axis.
func buildTimeline(l *lang, e employee.Employee, sigs []detect.Signal, decls []disclosure.Disclosure, fs []detect.Finding, now time.Time) timeline {
	today := civil.Of(now.In(l.Zone))
	t := timeline{Today: today, l: l}
	lane := func(key string) *timelineLane {
		t.Lanes = append(t.Lanes, timelineLane{Name: l.T(key)})
		return &t.Lanes[len(t.Lanes)-1]
	}
	emp := lane("tl.employment")
	for _, iv := range e.Employments {
		end := iv.End
		title := l.T("tl.employed")
		if !end.IsZero() {
			title += " (" + l.Label("termination", iv.Reason) + ")"
		}
		emp.Items = append(emp.Items, timelineItem{Start: iv.Start, End: end, Label: title, Title: title, Class: "tl-emp"})
		if !iv.End.IsZero() {
			emp.Items = append(emp.Items, timelineItem{Start: iv.End, Title: l.T("tl.left") + " " + string(iv.End), Class: "tl-left", Point: true})
		}
	}
	proj := lane("tl.projects")
	for _, p := range e.Projects {
		title := p.Code
		if p.Name != "" {
			title += " " + p.Name
		}
		title += " · " + l.Label("sensitivity", p.Sensitivity)
		proj.Items = append(proj.Items, timelineItem{Start: p.Start, End: p.End, Label: p.Code, Title: title, Class: "tl-proj tl-" + cls(p.Sensitivity)})
		if !p.LaunchDate.IsZero() {
			proj.Items = append(proj.Items, timelineItem{Start: p.LaunchDate, Title: l.T("tl.launch", p.Code), Class: "tl-launch", Point: true})
		}
	}
	lv := lane("tl.leave")
	for _, x := range e.Leaves {
		title := l.Label("leave", x.Type)
		lv.Items = append(lv.Items, timelineItem{Start: x.Start, End: x.End, Label: title, Title: title, Class: "tl-leave"})
	}
	ex := lane("tl.expenses")
	for _, s := range sigs {
		title := fmt.Sprintf("%s · %s %s · %s", s.Merchant, s.Amount.Amount, s.Amount.Currency, l.CP(s.Counterparty))
		ex.Items = append(ex.Items, timelineItem{Start: s.Date, Title: title, Class: "tl-expense", Point: true,
			HTML: template.HTML(`<span translate="no">` + template.HTMLEscapeString(s.Merchant) + `</span> · ` +
				template.HTMLEscapeString(s.Amount.Amount+" "+s.Amount.Currency+" · "+l.CP(s.Counterparty)))})
	}
	dl := lane("tl.declarations")
	for _, d := range decls {
		title := fmt.Sprintf("%s · %s · %s", l.Label("kind", string(d.Kind)), d.Counterparty, l.Label("status", string(d.Status)))
		dl.Items = append(dl.Items, timelineItem{Start: d.StartDate, End: d.EndDate, Title: title, Class: "tl-decl tl-" + cls(string(d.Status)), Point: d.StartDate == d.EndDate || d.EndDate.IsZero()})
	}
	fl := lane("tl.findings")
	for _, f := range fs {
		c := "tl-finding tl-sev-" + cls(f.Severity)
		if f.Covered() {
			c = "tl-finding tl-covered"
		}
		fl.Items = append(fl.Items, timelineItem{Start: f.OccurredOn, Title: l.Label("rule", f.Rule) + " · " + l.FindingText(f), Class: c, Point: true,
			HTML: template.HTML(template.HTMLEscapeString(l.Label("rule", f.Rule)+" · ")) + l.Finding(f)})
	}
	t.window()
	for _, ln := range t.Lanes {
		for _, it := range ln.Items {
			if it.Start.IsZero() {
				continue
			}
			r := timelineRow{Date: string(it.Start), Lane: ln.Name, Text: it.Title, HTML: it.HTML, Class: it.Class}
			if !it.Point && it.End != it.Start {
				r.End = string(it.End)
			}
			t.Rows = append(t.Rows, r)
		}
	}
	sort.SliceStable(t.Rows, func(i, j int) bool { return t.Rows[i].Date < t.Rows[j].Date })
	return t
}

// cls keeps a value usable in a class name.
func cls(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return '-'
	}, s)
}

// window chooses the axis: around what happened recently (expenses,
// declarations, findings, projects, leave), not back to a hire years ago.
func (t *timeline) window() {
	var from, to civil.Date
	see := func(d civil.Date) {
		if d.IsZero() {
			return
		}
		if from.IsZero() || d.Before(from) {
			from = d
		}
		if to.IsZero() || d.After(to) {
			to = d
		}
	}
	for i, ln := range t.Lanes {
		if i == 0 {
			continue // employment spans years; it is drawn clipped
		}
		for _, it := range ln.Items {
			see(it.Start)
			see(it.End)
		}
	}
	for _, it := range t.Lanes[0].Items {
		if it.Point {
			see(it.Start) // a termination matters (cooling-off)
		}
	}
	see(t.Today)
	if from.IsZero() || from.DaysUntil(t.Today) < 180 {
		from = t.Today.AddDays(-180)
	}
	if from.DaysUntil(to) > 3*366 {
		from = to.AddDays(-3 * 366)
	}
	t.From, t.To = from.AddDays(-14), to.AddDays(21)
}

// SVG draws the lanes on one axis with month ticks and a line for today.
func (t timeline) SVG() template.HTML {
	const (
		width, left, right, top, laneH, barH = 1000, 140, 16, 28, 36, 14
	)
	plot := float64(width - left - right)
	days := float64(t.From.DaysUntil(t.To))
	x := func(d civil.Date) float64 {
		v := float64(t.From.DaysUntil(d)) / days * plot
		return float64(left) + max(0, min(plot, v))
	}
	height := top + laneH*len(t.Lanes) + 8
	var b svgBuilder
	b.f(`<svg class="timeline" viewBox="0 0 %d %d" role="img" aria-labelledby="tl-title" xmlns="http://www.w3.org/2000/svg">`, width, height)
	b.f(`<title id="tl-title">%s</title>`, esc(t.l.T("tl.svgtitle", string(t.From), string(t.To))))
	// Month ticks.
	start := t.From.Time()
	first := true
	for m := time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1, 0); !civil.Of(m).After(t.To); m = m.AddDate(0, 1, 0) {
		d := civil.Of(m)
		xx := x(d)
		b.f(`<line class="tl-grid" x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>`, xx, top-6, xx, height-8)
		label := tickLabel(m, first) // timeline_legend.go
		first = false
		if xx > float64(width-right-56) { // the last ticks end at their line, not past the edge
			b.f(`<text class="tl-tick" x="%.1f" y="%d" text-anchor="end">%s</text>`, xx-2, top-10, esc(label))
		} else {
			b.f(`<text class="tl-tick" x="%.1f" y="%d">%s</text>`, xx+2, top-10, esc(label))
		}
	}
	for i, ln := range t.Lanes {
		y := top + i*laneH
		b.f(`<rect class="tl-lane tl-lane-%d" x="0" y="%d" width="%d" height="%d"/>`, i%2, y, width, laneH)
		b.f(`<text class="tl-lane-name" x="8" y="%d">%s</text>`, y+laneH/2+5, esc(ln.Name))
		cy := float64(y + laneH/2)
		var dots []float64 // x of the dots drawn on this lane, to spread close ones
		for _, it := range ln.Items {
			if it.Start.IsZero() && it.End.IsZero() {
				continue
			}
			if it.Point {
				if it.Start.Before(t.From) || it.Start.After(t.To) {
					continue
				}
				xx := x(it.Start)
				near := 0
				for _, dx := range dots {
					if dx-xx < 10 && xx-dx < 10 {
						near++
					}
				}
				dots = append(dots, xx)
				py := cy + spread(near)
				if strings.Contains(it.Class, "tl-launch") || strings.Contains(it.Class, "tl-left") {
					b.f(`<path class="%s" d="M%.1f %.1f l7 7 l-7 7 l-7 -7 z"><title>%s</title></path>`, esc(it.Class), xx, py-7, esc(it.Title))
				} else {
					b.f(`<circle class="%s" cx="%.1f" cy="%.1f" r="6"><title>%s</title></circle>`, esc(it.Class), xx, py, esc(it.Title))
				}
				continue
			}
			s, e := it.Start, it.End
			if s.IsZero() || s.Before(t.From) {
				s = t.From
			}
			if e.IsZero() || e.After(t.To) {
				e = t.To
			}
			if e.Before(t.From) || s.After(t.To) {
				continue
			}
			x1, x2 := x(s), x(e)
			w := max(3, x2-x1)
			b.f(`<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%d" rx="3"><title>%s</title></rect>`, esc(it.Class), x1, cy-barH/2, w, barH, esc(it.Title))
			if it.Label != "" && w > float64(8*len([]rune(it.Label))+8) {
				b.f(`<text class="tl-bar-label" x="%.1f" y="%.1f">%s</text>`, x1+4, cy+4, esc(it.Label))
			}
		}
	}
	if !t.Today.Before(t.From) && !t.Today.After(t.To) {
		xx := x(t.Today)
		b.f(`<line class="tl-today" x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>`, xx, top-6, xx, height-8)
		b.f(`<text class="tl-tick tl-today-label" x="%.1f" y="%d">%s</text>`, xx+3, height-1, esc(t.l.T("tl.today")))
	}
	b.f(`</svg>`)
	return template.HTML(b.String())
}

// series is one stacked layer of a bar chart.
type series struct {
	Name   string
	Class  string
	Values []int
}

// barChart is vertical stacked bars over labelled buckets.
type barChart struct {
	Title  string
	Labels []string
	Series []series
}

func (c barChart) Total(i int) int {
	n := 0
	for _, s := range c.Series {
		n += s.Values[i]
	}
	return n
}

// SVG draws the chart with a legend; an empty chart says so.
func (c barChart) SVG(empty string) template.HTML {
	const width, height, left, bottom, top = 480, 220, 36, 40, 30
	maxV := 0
	for i := range c.Labels {
		maxV = max(maxV, c.Total(i))
	}
	var b svgBuilder
	b.f(`<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`, width, height, esc(c.Title))
	if maxV == 0 {
		b.f(`<text class="chart-empty" x="%d" y="%d">%s</text></svg>`, width/2, height/2, esc(empty))
		return template.HTML(b.String())
	}
	plotH := float64(height - top - bottom)
	plotW := float64(width - left - 10)
	step := plotW / float64(len(c.Labels))
	barW := max(2, step*0.7)
	ticks := niceTicks(maxV)
	scale := plotH / float64(ticks[len(ticks)-1])
	for _, tv := range ticks {
		y := float64(height-bottom) - float64(tv)*scale
		b.f(`<line class="chart-grid" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`, left, y, width-10, y)
		b.f(`<text class="chart-axis" x="%d" y="%.1f" text-anchor="end">%d</text>`, left-4, y+4, tv)
	}
	// Label only as many buckets as fit without overlapping.
	widest := 0
	for _, lab := range c.Labels {
		widest = max(widest, len([]rune(lab)))
	}
	every := max(1, int(math.Ceil(float64(len(c.Labels)*(widest*7+6))/plotW)))
	for i, lab := range c.Labels {
		x := float64(left) + float64(i)*step + (step-barW)/2
		y := float64(height - bottom)
		for _, s := range c.Series {
			v := s.Values[i]
			if v == 0 {
				continue
			}
			h := float64(v) * scale
			y -= h
			b.f(`<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s: %s %d</title></rect>`, esc(s.Class), x, y, barW, h, esc(lab), esc(s.Name), v)
		}
		if i%every == 0 {
			b.f(`<text class="chart-axis" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x+barW/2, height-bottom+14, esc(lab))
		}
	}
	lx := left
	for _, s := range c.Series {
		b.f(`<rect class="%s" x="%d" y="6" width="12" height="12"/><text class="chart-legend" x="%d" y="16">%s</text>`, esc(s.Class), lx, lx+16, esc(s.Name))
		lx += 24 + 9*len([]rune(s.Name))
	}
	b.f(`</svg>`)
	return template.HTML(b.String())
}

// hbar is one labelled value of a horizontal bar chart.
type hbar struct {
	Label string
	Value int
	Class string
}

// hbarSVG draws labelled horizontal bars, largest first as given.
func hbarSVG(title, empty string, bars []hbar) template.HTML {
	const width, left, rowH = 480, 150, 24
	height := max(60, 10+rowH*len(bars))
	var b svgBuilder
	b.f(`<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`, width, height, esc(title))
	maxV := 0
	for _, x := range bars {
		maxV = max(maxV, x.Value)
	}
	if maxV == 0 {
		b.f(`<text class="chart-empty" x="%d" y="%d">%s</text></svg>`, width/2, height/2, esc(empty))
		return template.HTML(b.String())
	}
	plot := float64(width - left - 50)
	for i, x := range bars {
		y := 6 + i*rowH
		w := max(2, float64(x.Value)/float64(maxV)*plot)
		label := []rune(x.Label)
		if len(label) > 18 {
			label = append(label[:17], '…')
		}
		b.f(`<text class="chart-axis" x="%d" y="%d" text-anchor="end">%s<title>%s</title></text>`, left-6, y+15, esc(string(label)), esc(x.Label))
		b.f(`<rect class="%s" x="%d" y="%d" width="%.1f" height="%d"><title>%s: %d</title></rect>`, esc(x.Class), left, y+3, w, rowH-8, esc(x.Label), x.Value)
		b.f(`<text class="chart-value" x="%.1f" y="%d">%d</text>`, float64(left)+w+5, y+15, x.Value)
	}
	b.f(`</svg>`)
	return template.HTML(b.String())
}

// niceTicks returns 0 and up to four round steps covering maxV.
func niceTicks(maxV int) []int {
	step := 1
	for _, s := range []int{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000} {
		step = s
		if maxV <= s*4 {
			break
		}
	}
	for step*4 < maxV {
		step *= 2
	}
	out := []int{0}
	for v := step; ; v += step {
		out = append(out, v)
		if v >= maxV {
			return out
		}
	}
}
