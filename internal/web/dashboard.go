package web

import (
	"context"
	"html/template"
	"net/http"
	"sort"
	"time"

	"github.com/gin-gonic/gin"
	dto "github.com/prometheus/client_model/go"

	"github.com/moonlight-oss/moonlight/internal/review"
)

// Activity counts stored events by the hour they were received.
type Activity interface {
	// EventsPerHour returns counts keyed by the hour (UTC, truncated) for
	// events received in [from, to).
	EventsPerHour(ctx context.Context, from, to time.Time) (map[time.Time]int, error)
}

type kv struct {
	Key   string
	Value int
}

type dashboardData struct {
	Statuses     []kv
	Total        int
	Truncated    bool
	OverTime     template.HTML
	OverTimeData barChart
	ByDept       template.HTML
	DeptData     []hbar
	ByCP         template.HTML
	CPData       []hbar
	PerHour      template.HTML
	PerHourData  barChart
	HasActivity  bool
	Consumed     []kv
	Rejected     []kv
	Lag          []kv
	RejectedSVG  template.HTML
	LagSVG       template.HTML
	HasMetrics   bool
}

// dashboardMonths is how far back "cases over time" goes.
const dashboardMonths = 12

func (u *UI) dashboard(c *gin.Context) {
	ctx := c.Request.Context()
	l := langOf(c)
	// One bounded read per view: the case store's counts (by status, and
	// of the open and in-review cases by month, department and
	// counterparty); no case is read. The case service decides who may
	// see them (and audits a refusal).
	st, err := u.d.Cases.Stats(ctx, reviewActor(c, "dashboard"))
	if err != nil {
		u.failErr(c, err)
		return
	}
	now := u.now()
	d := dashboardData{}
	d.Statuses = countStatuses(st.ByStatus)
	for _, s := range d.Statuses {
		d.Total += s.Value
	}
	d.OverTimeData = casesOverTime(l, st.ByMonth, now)
	d.OverTime = d.OverTimeData.SVG(l.T("dash.nodata"))
	byDept := map[string]int{}
	for k, v := range st.ByDepartment {
		byDept[orDash(k)] += v
	}
	d.DeptData = casesBy(byDept, "bar-dept")
	d.ByDept = hbarSVG(l.T("dash.bydept"), l.T("dash.nodata"), d.DeptData)
	byCP := make(map[string]int, len(st.ByCounterparty))
	for p, n := range st.ByCounterparty {
		byCP[l.CP(p)] += n // by its name in the viewer's language
	}
	d.CPData = casesBy(byCP, "bar-cp")
	d.ByCP = hbarSVG(l.T("dash.bycp"), l.T("dash.nodata"), d.CPData)

	if u.d.Activity != nil {
		from := now.UTC().Truncate(time.Hour).Add(-23 * time.Hour)
		counts, err := u.d.Activity.EventsPerHour(ctx, from, now.Add(time.Hour))
		if err != nil {
			u.fail(c, err)
			return
		}
		d.HasActivity = true
		ch := barChart{Title: l.T("dash.perhour"), Series: []series{{Name: l.T("dash.events"), Class: "bar-events"}}}
		for h := from; !h.After(now); h = h.Add(time.Hour) {
			ch.Labels = append(ch.Labels, h.In(l.Zone).Format("15:00"))
			ch.Series[0].Values = append(ch.Series[0].Values, counts[h])
		}
		d.PerHourData = ch
		d.PerHour = ch.SVG(l.T("dash.nodata"))
	}
	if u.d.Gatherer != nil {
		mfs, err := u.d.Gatherer.Gather()
		if err != nil {
			u.log.Warn("web: gather metrics", "err", err)
		}
		d.Consumed = metricSum(mfs, "moonlight_events_consumed_total", "topic")
		d.Rejected = metricSum(mfs, "moonlight_events_rejected_total", "reason")
		d.Lag = metricSum(mfs, "moonlight_consumer_lag", "topic")
		d.HasMetrics = len(mfs) > 0
		d.RejectedSVG = hbarSVG(l.T("dash.rejected"), l.T("dash.none"), toBars(d.Rejected, "bar-rejected"))
		d.LagSVG = hbarSVG(l.T("dash.lag"), l.T("dash.nolag"), toBars(d.Lag, "bar-lag"))
	}
	u.render(c, http.StatusOK, "dashboard", "dash.title", d)
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func countStatuses(n map[string]int) []kv {
	var out []kv
	for _, s := range []string{review.StatusOpen, review.StatusInReview, review.StatusCleared, review.StatusConfirmed} {
		out = append(out, kv{s, n[s]})
	}
	return out
}

// casesOverTime counts cases by the month of their earliest finding (when
// the conduct happened, which says more than when detection ran), stacked
// by severity; byMonth is month -> severity -> cases (review.QueueStats).
func casesOverTime(l *lang, byMonth map[string]map[string]int, now time.Time) barChart {
	sev := []string{"high", "medium", "low"}
	ch := barChart{Title: l.T("dash.overtime")}
	for _, s := range sev {
		ch.Series = append(ch.Series, series{Name: l.Label("severity", s), Class: "bar-sev-" + s, Values: make([]int, dashboardMonths)})
	}
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -(dashboardMonths - 1), 0)
	idx := map[string]int{}
	for i := 0; i < dashboardMonths; i++ {
		m := first.AddDate(0, i, 0)
		label := m.Format("01")
		if i == 0 || m.Month() == time.January {
			label = m.Format("2006-01")
		}
		ch.Labels = append(ch.Labels, label)
		idx[m.Format("2006-01")] = i
	}
	for month, bySev := range byMonth {
		i, ok := idx[month]
		if !ok {
			continue
		}
		for k, s := range sev {
			ch.Series[k].Values[i] += bySev[s]
		}
	}
	return ch
}

// casesBy turns counts per key into bars, largest first (at most 12).
func casesBy(n map[string]int, class string) []hbar {
	var out []hbar
	for k, v := range n {
		out = append(out, hbar{Label: k, Value: v, Class: class})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Value != out[j].Value {
			return out[i].Value > out[j].Value
		}
		return out[i].Label < out[j].Label
	})
	if len(out) > 12 {
		out = out[:12]
	}
	return out
}

// metricSum sums a metric family's samples by one label, sorted by label.
func metricSum(mfs []*dto.MetricFamily, name, label string) []kv {
	n := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			key := ""
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label {
					key = lp.GetValue()
				}
			}
			switch {
			case m.Counter != nil:
				n[key] += m.GetCounter().GetValue()
			case m.Gauge != nil:
				n[key] += m.GetGauge().GetValue()
			}
		}
	}
	out := make([]kv, 0, len(n))
	for k, v := range n {
		out = append(out, kv{k, int(v)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func toBars(kvs []kv, class string) []hbar {
	out := make([]hbar, 0, len(kvs))
	for _, x := range kvs {
		out = append(out, hbar{Label: x.Key, Value: x.Value, Class: class})
	}
	return out
}
