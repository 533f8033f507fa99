package detect

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/event"
)

// label names a counterparty for a summary: "凯盛融英 (Capvision, expert
// network)", or "星河证券 (brokerage, not on the watchlist)".
func (ev *evaluation) label(id, name, typ, asMatched string) string {
	if c, ok := ev.wl.Get(id); ok && id != "" {
		return c.Label(asMatched)
	}
	if typ == "" {
		return excerpt(name, maxQuotedName)
	}
	return fmt.Sprintf("%s (%s, not on the watchlist)", excerpt(name, maxQuotedName), strings.ReplaceAll(typ, "_", " "))
}

// A finding quotes event text only as a short excerpt: the summary explains
// why a case exists, the stored event keeps the whole text, and a finding is
// copied into every case view (a 900 KB description once made a case page
// 3.7 MB). Counted in characters.
const (
	maxQuotedText = 160 // a description
	maxQuotedName = 80  // a merchant, title, organizer or project name
)

// excerpt is s with runs of white space (line breaks included) made one
// space, cut to at most n characters with "…" marking the cut.
func excerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// formatMoney writes "CNY 3,000.00" from a decimal string; an amount it
// cannot read is shown as given.
func formatMoney(m event.Money) string {
	a := strings.TrimSpace(m.Amount)
	sign := ""
	if strings.HasPrefix(a, "-") {
		sign, a = "-", a[1:]
	}
	whole, frac, _ := strings.Cut(a, ".")
	if whole == "" || strings.Trim(whole, "0123456789") != "" || strings.Trim(frac, "0123456789") != "" {
		return strings.TrimSpace(m.Currency + " " + m.Amount)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(fmt.Sprintf("%s %s%s.%s", m.Currency, sign, b.String(), frac))
}

func dates(e Engagement) string {
	if e.end() == e.Start {
		return "on " + e.Start.String()
	}
	return fmt.Sprintf("from %s to %s", e.Start, e.end())
}

func pay(e Engagement) string {
	if !e.Paid {
		return ", unpaid"
	}
	if e.Compensation.Amount == "" {
		return ", paid"
	}
	return ", paid " + formatMoney(e.Compensation)
}

func kindText(k string) string {
	if k == "" {
		return "engagement"
	}
	return strings.ReplaceAll(k, "_", " ")
}

func projectText(p employee.Assignment) string {
	s := fmt.Sprintf("%s project %s", p.Sensitivity, p.Code)
	if p.Name != "" {
		s += fmt.Sprintf(" (%s)", excerpt(p.Name, maxQuotedName))
	}
	return s
}

func blackoutNote(p employee.Assignment, d civil.Date) string {
	return fmt.Sprintf("while assigned to %s, %d days before its launch on %s", projectText(p), d.DaysUntil(p.LaunchDate), p.LaunchDate)
}

func seminarNote(s Seminar) string {
	where := ""
	if s.City != "" {
		where = " in " + s.City
	}
	paid := ""
	if s.Paid {
		paid = "paid "
	}
	return fmt.Sprintf("matches the %sseminar %q reported by %s on %s%s", paid, excerpt(s.Title, maxQuotedName),
		excerpt(s.Organizer, maxQuotedName), s.Date, where)
}

// Chinese and English names of cities, so "Shanghai" and "上海市" compare equal.
var cityNames = map[string]string{
	"上海": "shanghai", "北京": "beijing", "深圳": "shenzhen", "广州": "guangzhou", "杭州": "hangzhou",
	"南京": "nanjing", "苏州": "suzhou", "成都": "chengdu", "武汉": "wuhan", "合肥": "hefei",
	"西安": "xian", "重庆": "chongqing", "天津": "tianjin", "香港": "hongkong", "厦门": "xiamen",
	"长沙": "changsha", "宁波": "ningbo", "青岛": "qingdao", "新加坡": "singapore", "东莞": "dongguan",
}

func cityKey(c string) string {
	k := strings.ReplaceAll(foldText(c), " ", "")
	k = strings.TrimSuffix(strings.TrimSuffix(k, "市"), "city")
	if en, ok := cityNames[k]; ok {
		return en
	}
	return k
}

// sameCity: equal once normalised; an unknown city on either side does not
// rule a match out.
func sameCity(a, b string) bool {
	ka, kb := cityKey(a), cityKey(b)
	return ka == "" || kb == "" || ka == kb
}
