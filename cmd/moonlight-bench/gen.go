package main

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/ingest"
)

// Sources of the generated events, one per corporate system (as the sample set).
const (
	srcHR      = "hris/workday-cn"
	srcExpense = "expense/concur-cn"
	srcCard    = "card/cmb-corporate"
	srcIntel   = "intel/research-monitor"
)

var zone = time.FixedZone("CST", 8*3600)

// mix counts what a generated set holds, by kind.
type mix struct {
	HR, Claims, Cards, Intel, Research int
}

func (m mix) String() string {
	total := m.HR + m.Claims + m.Cards + m.Intel
	pct := func(n int) string { return fmt.Sprintf("%d (%.1f%%)", n, 100*float64(n)/float64(max(total, 1))) }
	return fmt.Sprintf("card transactions %s, expense claims %s, HR %s, intel %s; %s of the expenses point at research counterparties",
		pct(m.Cards), pct(m.Claims), pct(m.HR), pct(m.Intel), pct(m.Research))
}

// generated is one event ready to produce and, decoded, to store directly.
type generated struct {
	msg kafka.Message
	ev  event.Event
}

// generator builds a realistic year of contract events for a company of
// `employees` people: every employee is hired, some change department, join
// projects (a few confidential ones before launch), take leave or leave;
// expenses and card payments make up the bulk, and a small share of them are
// at expert networks and brokerages (with seminar words), which is what
// detection looks for. A few seminar reports come from the intelligence feed.
type generator struct {
	rng    *rand.Rand
	today  time.Time
	topics ingest.Topics
	prefix string // employee id prefix, so runs and scenarios do not share employees
	out    []stamped
	mix    mix
	seq    int
}

type stamped struct {
	at time.Time
	g  generated
}

var (
	depts      = []string{"Supply Chain", "R&D", "Battery Systems", "Marketing", "Sales", "Finance", "Manufacturing", "Software"}
	cities     = []string{"上海", "北京", "深圳", "合肥", "武汉", "南京", "广州", "成都"}
	taxis      = []string{"滴滴出行", "首汽约车", "曹操出行", "T3出行", "高德打车"}
	hotels     = []string{"全季酒店", "汉庭酒店", "亚朵酒店", "如家精选酒店", "万豪酒店 Marriott", "希尔顿欢朋酒店"}
	food       = []string{"海底捞火锅", "西贝莜面村", "外婆家", "Starbucks 星巴克", "瑞幸咖啡 luckin coffee", "麦当劳", "美团外卖"}
	travel     = []string{"中国国航", "东方航空", "南方航空", "中国铁路12306"}
	supplies   = []string{"京东 JD.com", "得力办公", "顺丰速运"}
	research   = []string{"GLG", "格理咨询", "凯盛融英信息科技（上海）股份有限公司", "AlphaSights Ltd", "Third Bridge", "中信证券股份有限公司", "Tegus", "久谦咨询"}
	researchDo = []string{"行业交流会 咨询费", "expert call - EV battery supply chain", "专家访谈费", "闭门会 纪要", "research seminar fee"}
	organizers = []string{"中信证券", "GLG", "凯盛融英", "Third Bridge", "华泰证券", "某私募基金"}
	projects   = []struct{ code, name, sens string }{
		{"MS11", "Moonstone 11 sedan", "confidential"}, {"MS12", "Moonstone 12 SUV", "secret"},
		{"BT4", "Battery gen 4", "internal"}, {"OTA7", "OTA platform 7", "internal"}, {"CHG2", "Charging network", "public"},
	}
)

// generate returns about n events for employees with the given id prefix,
// ordered by when they happened.
func generate(n int, prefix string, seed uint64, now time.Time, topics ingest.Topics) ([]generated, mix, error) {
	y, m, d := now.In(zone).Date()
	g := &generator{rng: rand.New(rand.NewPCG(seed, 0x62656e6368)), today: time.Date(y, m, d, 0, 0, 0, 0, zone), topics: topics, prefix: prefix}
	employees := max(n/50, 10)
	for i := range employees {
		if err := g.employee(i); err != nil {
			return nil, mix{}, err
		}
	}
	for len(g.out) < n {
		if err := g.expense(g.rng.IntN(employees)); err != nil {
			return nil, mix{}, err
		}
		if g.rng.IntN(2000) == 0 {
			if err := g.seminar(); err != nil {
				return nil, mix{}, err
			}
		}
	}
	slices.SortStableFunc(g.out, func(a, b stamped) int { return a.at.Compare(b.at) })
	out := make([]generated, len(g.out))
	for i, s := range g.out {
		out[i] = s.g
	}
	return out, g.mix, nil
}

func (g *generator) id(i int) string { return fmt.Sprintf("%s%05d", g.prefix, i) }

func (g *generator) day(n int) time.Time { return g.today.AddDate(0, 0, n) }

func (g *generator) emit(source string, at time.Time, data any) error {
	g.seq++
	e, err := event.New(source, fmt.Sprintf("%s-%07d", g.prefix, g.seq), at, data)
	if err != nil {
		return err
	}
	raw, err := event.Encode(e)
	if err != nil {
		return err
	}
	e.Raw = raw
	msg, err := g.topics.Message(e)
	if err != nil {
		return err
	}
	g.out = append(g.out, stamped{at: at, g: generated{msg: msg, ev: e}})
	return nil
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func ptr(s string) *string { return &s }

// employee emits one person's HR history.
func (g *generator) employee(i int) error {
	r := g.rng
	id := g.id(i)
	hired := g.day(-400 - r.IntN(2000))
	if err := g.emit(srcHR, hired, &event.EmployeeHired{
		EmployeeID: id, Name: fmt.Sprintf("员工%05d", i), Email: fmt.Sprintf("e%05d@moonlight.example", i),
		Department: pick(r, depts), Title: "Engineer", ManagerID: g.id(i / 8), Location: "Shanghai", HireDate: civil.Of(hired),
	}); err != nil {
		return err
	}
	g.mix.HR++
	if r.IntN(3) == 0 {
		at := g.day(-r.IntN(360))
		if err := g.emit(srcHR, at, &event.EmployeeUpdated{EmployeeID: id, EffectiveDate: civil.Of(at), Department: ptr(pick(r, depts)), Title: ptr("Senior Engineer")}); err != nil {
			return err
		}
		g.mix.HR++
	}
	if r.IntN(4) == 0 {
		p := pick(r, projects)
		at := g.day(-r.IntN(300))
		pa := &event.ProjectAssigned{EmployeeID: id, ProjectCode: p.code, ProjectName: p.name, Sensitivity: p.sens, EffectiveDate: civil.Of(at)}
		if p.sens == "confidential" || p.sens == "secret" {
			pa.LaunchDate = civil.Of(g.day(30 + r.IntN(120)))
		}
		if err := g.emit(srcHR, at, pa); err != nil {
			return err
		}
		g.mix.HR++
	}
	if r.IntN(5) == 0 {
		at := g.day(-r.IntN(300))
		if err := g.emit(srcHR, at, &event.LeaveRecorded{EmployeeID: id, LeaveID: fmt.Sprintf("L-%s", id), StartDate: civil.Of(at), EndDate: civil.Of(at.AddDate(0, 0, 1+r.IntN(10))), LeaveType: "annual"}); err != nil {
			return err
		}
		g.mix.HR++
	}
	if r.IntN(40) == 0 {
		at := g.day(-r.IntN(200))
		if err := g.emit(srcHR, at, &event.EmployeeTerminated{EmployeeID: id, TerminationDate: civil.Of(at), Reason: "resigned"}); err != nil {
			return err
		}
		g.mix.HR++
	}
	return nil
}

// expense emits one claim or card payment by employee i; about 1 in 250 is at
// a research counterparty.
func (g *generator) expense(i int) error {
	r := g.rng
	id := g.id(i)
	at := g.day(-r.IntN(365)).Add(time.Duration(8*60+r.IntN(12*60)) * time.Minute)
	amount := fmt.Sprintf("%d.%02d", 15+r.IntN(900), r.IntN(100))
	merchant, desc := "", ""
	switch k := r.IntN(10); {
	case k < 4:
		merchant = pick(r, taxis)
	case k < 6:
		merchant = pick(r, food)
	case k < 8:
		merchant, amount = pick(r, hotels), fmt.Sprintf("%d.00", 280+r.IntN(900))
	case k < 9:
		merchant, amount = pick(r, travel), fmt.Sprintf("%d.00", 150+r.IntN(2400))
	default:
		merchant = pick(r, supplies)
	}
	if r.IntN(250) == 0 {
		merchant, desc, amount = pick(r, research), pick(r, researchDo), fmt.Sprintf("%d.00", 1000+r.IntN(4000))
		g.mix.Research++
	}
	if r.IntN(5) < 2 {
		g.mix.Claims++
		return g.emit(srcExpense, at, &event.ExpenseClaim{
			ClaimID: fmt.Sprintf("C-%s-%d", id, g.seq), EmployeeID: id, IncurredOn: civil.Of(at), Amount: event.Money{Amount: amount, Currency: "CNY"},
			Merchant: merchant, Category: "other", Description: desc, City: pick(r, cities),
		})
	}
	g.mix.Cards++
	return g.emit(srcCard, at, &event.CardTransaction{
		TransactionID: fmt.Sprintf("T-%s-%d", id, g.seq), EmployeeID: id, OccurredAt: at, Amount: event.Money{Amount: amount, Currency: "CNY"},
		Merchant: merchant, MCC: "5812", City: pick(r, cities),
	})
}

// seminar emits one intelligence report of a paid seminar.
func (g *generator) seminar() error {
	r := g.rng
	at := g.day(-r.IntN(365))
	paid := true
	g.mix.Intel++
	return g.emit(srcIntel, at, &event.SeminarReported{
		SeminarID: fmt.Sprintf("S-%s-%d", g.prefix, g.seq), Organizer: pick(r, organizers), Title: "新能源汽车供应链专家交流会",
		Date: civil.Of(at), City: pick(r, cities), Paid: &paid, SpeakerDescriptors: []string{"某新能源车企前研发总监"},
	})
}

// probe is a card payment at an expert network by a person with no other
// events: detection opens a case for it on its own.
func probe(topics ingest.Topics, employeeID string, at time.Time) (kafka.Message, error) {
	e, err := event.New(srcCard, "probe-"+employeeID, at, &event.CardTransaction{
		TransactionID: "T-" + employeeID, EmployeeID: employeeID, OccurredAt: at,
		Amount: event.Money{Amount: "3000.00", Currency: "CNY"}, Merchant: "GLG expert call", City: "上海",
	})
	if err != nil {
		return kafka.Message{}, err
	}
	if e.Raw, err = event.Encode(e); err != nil {
		return kafka.Message{}, err
	}
	return topics.Message(e)
}
