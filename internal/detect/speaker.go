package detect

import (
	"strings"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/explain"
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
// expense or card payment there, a research signal or not).
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
func (ev *evaluation) descriptorFits(descriptor string, emp employee.Employee, on civil.Date) ([]explain.Clause, bool) {
	sp := ev.cfg.Speaker
	d := " " + foldText(descriptor) + " "
	var els []explain.Clause
	company := false
	for _, n := range append(append([]string(nil), sp.CompanyNames...), sp.CompanyDescriptions...) {
		if foldText(n) == "" {
			continue
		}
		if _, ok := containsAny(d, []string{n}); ok {
			els = append(els, explain.C(explain.CodeSpeakerCompany).With("name", explain.Text(n)))
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
			els = append(els, explain.C(explain.CodeSpeakerFunction).With("function", explain.Enum("function", fn.label)).
				With("department", explain.Name(emp.Department)).With("title", explain.Name(emp.Title)))
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
				els = append(els, explain.C(explain.CodeSpeakerProject).With("project", explain.Name(p.Code)))
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
		els = append(els, explain.C(explain.CodeSpeakerSeniority).With("level", explain.Enum("seniority", want)))
	}
	if loc := foldText(emp.Location); loc != "" {
		if strings.Contains(d, loc) || strings.Contains(d, foldText(cityZH(emp.Location))) {
			els = append(els, explain.C(explain.CodeSpeakerCity).With("city", explain.Name(emp.Location)))
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
func (ev *evaluation) corroborationOf(sem Seminar) (explain.Clause, []event.Ref, bool) {
	for _, l := range ev.emp.Leaves {
		if !sem.Date.Before(l.Start) && !sem.Date.After(l.End) {
			return explain.C(explain.CodeSpeakerByLeave).With("leave", explain.Name(l.ID)).With("period", explain.Period(l.Start, l.End)), nil, true
		}
	}
	if sem.City == "" {
		return explain.Clause{}, nil, false
	}
	// An ordinary payment (coffee, a taxi) in the city the employee is
	// based in puts them nowhere they would not be anyway: only a payment
	// away from home, or an expense kept as a research signal, says they
	// were at the seminar's place that day.
	home := cityKey(ev.emp.Location)
	for _, p := range ev.presence {
		if !sameCity(p.City, sem.City) || (p.Date != sem.Date && p.Date != sem.Date.AddDays(-1)) {
			continue
		}
		if home != "" && cityKey(p.City) == home && !ev.isSignal(p.Ref) {
			continue
		}
		return explain.C(explain.CodeSpeakerByPayment).With("city", explain.Name(p.City)).With("date", explain.Date(p.Date)), []event.Ref{p.Ref}, true
	}
	return explain.Clause{}, nil, false
}

func (ev *evaluation) isSignal(r event.Ref) bool {
	for _, s := range ev.signals {
		if s.Ref == r {
			return true
		}
	}
	return false
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
		var fit []explain.Clause
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
				f.Explanation = append(f.Explanation, explain.C(explain.CodeSpeakerFits).
					With("date", explain.Date(sem.Date)).With("descriptor", explain.Text(excerpt(matched, maxQuotedName))))
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
		org := explain.Name(excerpt(sem.Organizer, maxQuotedName))
		if c, ok := ev.wl.Get(sem.CounterpartyID); ok {
			f.Counterparty, f.CounterpartyID, f.CounterpartyType = c.Name, c.ID, c.Type
			org = ev.counterparty(c.ID, c.Name, c.Type, sem.Organizer)
		}
		x := explain.Explanation{explain.C(explain.CodeSpeakerMatch).With("title", explain.Text(excerpt(sem.Title, maxQuotedName))).
			With("organizer", org).With("date", explain.Date(sem.Date)).With("city", explain.City(sem.City)).
			With("descriptor", explain.Text(excerpt(matched, maxQuotedName)))}
		x = append(x, fit...)
		x = append(x, how)
		if empNote.Code != "" {
			x = append(x, empNote)
		}
		ev.finish(&f, x, nil, sem.CounterpartyID, sem.Organizer, "")
		f.ID = findingID(f.Rule, ev.id, sem.Ref.Key())
		out = append(out, f)
	}
	return out
}

func containsRef(rs []event.Ref, r event.Ref) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// PresenceOf returns where an expense claim or card transaction puts its
// employee: every payment that names a city, whether or not it is a signal
// (a taxi in Shanghai the day before a Shanghai seminar corroborates a
// speaker match as well as a brokerage dinner does).
func PresenceOf(ev event.Event) (employeeID string, p Presence, ok bool) {
	p.Ref = ev.Ref
	switch d := ev.Data.(type) {
	case *event.ExpenseClaim:
		employeeID, p.Date, p.City = d.EmployeeID, d.IncurredOn, d.City
	case *event.CardTransaction:
		employeeID, p.City = d.EmployeeID, d.City
		if !d.OccurredAt.IsZero() {
			p.Date = civil.Of(d.OccurredAt)
		}
	default:
		return "", Presence{}, false
	}
	if employeeID == "" || p.Date.IsZero() || CityKey(p.City) == "" {
		return "", Presence{}, false
	}
	return employeeID, p, true
}

// CityKey is a city's name as matching compares it ("上海市", "Shanghai"
// and "SHANGHAI City" give "shanghai"); stores key presence by it.
func CityKey(c string) string { return cityKey(c) }

// SpeakerMayFit reports whether one of the seminar's speaker descriptors
// fits the employee's HR facts on its date. The engine asks it before it
// keeps a payment as corroboration, so only plausible speakers are stored
// and re-evaluated; Evaluate decides the finding.
func SpeakerMayFit(cfg Config, sem Seminar, emp employee.Employee) bool {
	ev := &evaluation{cfg: cfg, emp: emp, id: emp.ID}
	for _, d := range sem.Descriptors {
		if _, ok := ev.descriptorFits(d, emp, sem.Date); ok {
			return true
		}
	}
	return false
}

// SpeakerKeys are the keys under which an HR text of an employee (their
// department or their title) is indexed so that a late seminar report can
// find who its descriptors may be about: "fn:<label>" for each function the
// text names and "sen:<level>" for its seniority. A role's functions are
// those of its department and its title together, and its seniority the
// highest of the two, so indexing each text as it arrives gives a superset
// of the candidates descriptorFits accepts.
func SpeakerKeys(text string) []string {
	t := " " + foldText(text) + " "
	var out []string
	for _, fn := range speakerFunctions {
		if _, ok := containsAny(t, fn.employee); ok {
			out = append(out, "fn:"+fn.label)
		}
	}
	if s := seniorityOf(t); s != "" {
		out = append(out, "sen:"+s)
	}
	return out
}

// SpeakerQuery selects candidates for one descriptor: the employees under
// any of Functions, and when Seniority is set also under it.
type SpeakerQuery struct {
	Functions []string
	Seniority string
}

// SpeakerQueries are the queries of a seminar's descriptors that name our
// company and a function (a descriptor without a function fits only
// through a project, found at the employee's next evaluation).
func SpeakerQueries(cfg Config, sem Seminar) []SpeakerQuery {
	var out []SpeakerQuery
	for _, desc := range sem.Descriptors {
		d := " " + foldText(desc) + " "
		company := false
		for _, n := range append(append([]string(nil), cfg.Speaker.CompanyNames...), cfg.Speaker.CompanyDescriptions...) {
			if foldText(n) == "" {
				continue
			}
			if _, ok := containsAny(d, []string{n}); ok {
				company = true
				break
			}
		}
		if !company {
			continue
		}
		var q SpeakerQuery
		for _, fn := range speakerFunctions {
			if _, ok := containsAny(d, fn.descriptor); ok {
				q.Functions = append(q.Functions, "fn:"+fn.label)
			}
		}
		if len(q.Functions) == 0 {
			continue
		}
		if s := seniorityOf(d); s != "" {
			q.Seniority = "sen:" + s
		}
		out = append(out, q)
	}
	return out
}
