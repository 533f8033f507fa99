package detect

import (
	"fmt"
	"strings"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/event"
)

// RuleSpeaker: a reported seminar's speaker descriptor ("某新能源车企前研发总监",
// "EV supply-chain manager at a Beijing carmaker") fits the employee, and
// the day corroborates it (leave recorded on the seminar date, or an
// expense or card payment in the seminar's city that day or the day
// before). Medium at most: intelligence alone never makes a finding high.
// A descriptor that fits without corroboration adds the seminar as evidence
// to findings the employee already has around its date, and nothing else.
const RuleSpeaker = "seminar-speaker-match"

// Speaker configures descriptor matching (rules.yaml `speaker`).
type Speaker struct {
	// CompanyNames are our company's names; CompanyDescriptions how
	// outsiders describe it ("新能源车企", "EV maker"). A descriptor must
	// name one of them.
	CompanyNames        []string `yaml:"company_names" json:"company_names"`
	CompanyDescriptions []string `yaml:"company_descriptions" json:"company_descriptions"`
	// Points of a seminar-speaker-match finding.
	Points int `yaml:"points" json:"points"`
}

// Presence is a day the employee is known to have been in a city (an
// expense or card payment there).
type Presence struct {
	Ref  event.Ref
	Date civil.Date
	City string
}

// Function words: a descriptor word and the department/title words it
// stands for, in both languages.
var speakerFunctions = []struct {
	descriptor []string
	employee   []string
	label      string
}{
	{[]string{"研发", "r&d", "research and development"}, []string{"r&d", "engineer", "engineering", "研发", "powertrain", "battery", "autonomous", "motor"}, "R&D"},
	{[]string{"供应链", "supply chain", "supply-chain", "采购", "procurement", "sourcing"}, []string{"supply chain", "sourcing", "procurement", "采购", "供应链"}, "supply chain"},
	{[]string{"电池", "battery"}, []string{"battery", "电池", "cell"}, "battery"},
	{[]string{"电驱", "电机", "动力总成", "powertrain", "motor", "electric drive"}, []string{"powertrain", "motor", "electric drive", "电驱", "电机"}, "powertrain"},
	{[]string{"自动驾驶", "智驾", "智能驾驶", "autonomous", "adas", "self-driving"}, []string{"autonomous", "adas", "perception", "自动驾驶", "智驾"}, "autonomous driving"},
	{[]string{"财务", "finance", "cfo"}, []string{"finance", "financial", "财务"}, "finance"},
	{[]string{"市场", "营销", "marketing"}, []string{"marketing", "市场", "营销"}, "marketing"},
	{[]string{"生产", "制造", "manufacturing", "production", "工厂", "plant"}, []string{"manufacturing", "production", "process", "plant", "生产", "制造"}, "manufacturing"},
	{[]string{"战略", "strategy"}, []string{"strategy", "战略"}, "strategy"},
}

// Seniority words of descriptors and titles, most senior first.
var speakerSeniority = []struct {
	words []string
	label string
}{
	{[]string{"副总裁", "vp", "vice president", "总经理", "general manager", "高管", "executive", "cxo", "cto", "cfo"}, "executive"},
	{[]string{"总监", "director", "head of", "负责人"}, "director"},
	{[]string{"经理", "manager", "主管", "lead"}, "manager"},
	{[]string{"工程师", "engineer", "专家", "specialist", "analyst", "分析师"}, "engineer"},
}

// containsAny finds one of words in folded s: Chinese words anywhere, Latin
// words only whole ("cto" is not in "director").
func containsAny(s string, words []string) (string, bool) {
	for _, w := range words {
		w = foldText(w)
		for off := 0; ; {
			i := strings.Index(s[off:], w)
			if i < 0 {
				break
			}
			if isHanWord(w) || wordAt(s, off+i, len(w)) {
				return w, true
			}
			off += i + len(w)
		}
	}
	return "", false
}

func seniorityOf(s string) string {
	for _, lv := range speakerSeniority {
		if _, ok := containsAny(s, lv.words); ok {
			return lv.label
		}
	}
	return ""
}

// descriptorFits reports whether descriptor fits the employee and lists the
// elements that fit (company, function, seniority, project, city).
func (ev *evaluation) descriptorFits(descriptor string, emp employee.Employee, on civil.Date) ([]string, bool) {
	sp := ev.cfg.Speaker
	d := " " + foldText(descriptor) + " "
	var els []string
	company := false
	for _, n := range append(append([]string(nil), sp.CompanyNames...), sp.CompanyDescriptions...) {
		if foldText(n) == "" {
			continue
		}
		if _, ok := containsAny(d, []string{n}); ok {
			els = append(els, fmt.Sprintf("company %q", n))
			company = true
			break
		}
	}
	if !company {
		return nil, false
	}
	role := " " + foldText(emp.Department+" "+emp.Title) + " "
	function := false
	for _, fn := range speakerFunctions {
		if _, ok := containsAny(d, fn.descriptor); !ok {
			continue
		}
		if _, ok := containsAny(role, fn.employee); ok {
			els = append(els, fmt.Sprintf("function %s (%s, %s)", fn.label, emp.Department, emp.Title))
			function = true
			break
		}
	}
	// A project named in the descriptor that the employee is on stands in
	// for the function.
	for _, p := range emp.ProjectsOn(on) {
		for _, w := range []string{p.Code, p.Name} {
			f := foldText(w)
			if f != "" && (strings.Contains(d, " "+f+" ") || (isHanWord(f) && strings.Contains(d, f))) {
				els = append(els, fmt.Sprintf("project %s", p.Code))
				function = true
			}
		}
	}
	if !function {
		return nil, false
	}
	if want := seniorityOf(d); want != "" {
		if got := seniorityOf(role); got != want {
			return nil, false
		}
		els = append(els, "seniority "+want)
	}
	if loc := foldText(emp.Location); loc != "" {
		if strings.Contains(d, loc) || strings.Contains(d, foldText(cityZH(emp.Location))) {
			els = append(els, "city "+emp.Location)
		}
	}
	return els, true
}

// cityZH gives the Chinese name of a few cities descriptors use.
func cityZH(c string) string {
	return map[string]string{"shanghai": "上海", "beijing": "北京", "shenzhen": "深圳", "hangzhou": "杭州",
		"guangzhou": "广州", "hefei": "合肥", "nanjing": "南京", "wuhan": "武汉", "chengdu": "成都"}[strings.ToLower(c)]
}

// corroborationOf returns what on the seminar's day puts the employee there.
func (ev *evaluation) corroborationOf(sem Seminar) (string, []event.Ref, bool) {
	for _, l := range ev.emp.Leaves {
		if !sem.Date.Before(l.Start) && !sem.Date.After(l.End) {
			return fmt.Sprintf("leave %s recorded %s to %s", l.ID, l.Start, l.End), nil, true
		}
	}
	if sem.City == "" {
		return "", nil, false
	}
	for _, p := range ev.presence {
		if sameCity(p.City, sem.City) && (p.Date == sem.Date || p.Date == sem.Date.AddDays(-1)) {
			return fmt.Sprintf("a payment in %s on %s", p.City, p.Date), []event.Ref{p.Ref}, true
		}
	}
	return "", nil, false
}

// speaker returns the seminar-speaker-match findings, and attaches seminars
// that fit without corroboration to existing findings near their date.
func (ev *evaluation) speaker(fs []Finding) []Finding {
	var out []Finding
	for _, sem := range ev.seminars {
		if len(sem.Descriptors) == 0 {
			continue
		}
		state, empNote, ok := ev.employment(sem.Date)
		if !ok {
			continue
		}
		var fit []string
		var matched string
		for _, desc := range sem.Descriptors {
			if els, ok := ev.descriptorFits(desc, ev.emp, sem.Date); ok {
				fit, matched = els, desc
				break
			}
		}
		if fit == nil {
			continue
		}
		how, refs, corroborated := ev.corroborationOf(sem)
		if !corroborated {
			for i := range fs {
				f := &fs[i]
				if f.Covered() || abs(f.OccurredOn.DaysUntil(sem.Date)) > ev.cfg.SeminarWindowDays || containsRef(f.EventRefs, sem.Ref) {
					continue
				}
				f.EventRefs = append(f.EventRefs, sem.Ref)
				f.Summary += fmt.Sprintf("; a seminar report of %s describes a speaker who fits (%q: %s)",
					sem.Date, matched, strings.Join(fit, ", "))
			}
			continue
		}
		f := Finding{
			EmployeeID: ev.id, Rule: RuleSpeaker, Severity: SeverityMedium, Score: ev.cfg.Speaker.Points,
			OccurredOn: sem.Date, EventRefs: append([]event.Ref{sem.Ref}, refs...), Employment: state,
			Points: []Point{{PartWeight, ev.cfg.Speaker.Points}},
		}
		if state == EmploymentCoolingOff {
			f.Severity, f.Score, f.Points = SeverityLow, ev.cfg.CoolingOffPoints, []Point{{PartCoolingOff, ev.cfg.CoolingOffPoints}}
		}
		org := sem.Organizer
		if c, ok := ev.wl.Get(sem.CounterpartyID); ok {
			f.Counterparty, f.CounterpartyType = c.Name, c.Type
			org = ev.label(c.ID, c.Name, c.Type, sem.Organizer)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "Seminar %q by %s on %s%s describes a speaker as %q, which fits the employee: %s; corroborated by %s",
			sem.Title, org, sem.Date, inCity(sem.City), matched, strings.Join(fit, ", "), how)
		if empNote != "" {
			b.WriteString("; " + empNote)
		}
		ev.finish(&f, &b, nil, sem.CounterpartyID, sem.Organizer, "")
		f.ID = findingID(f.Rule, ev.id, sem.Ref.Key())
		out = append(out, f)
	}
	return out
}

func inCity(c string) string {
	if c == "" {
		return ""
	}
	return " in " + c
}

func containsRef(rs []event.Ref, r event.Ref) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}
