// Package sample generates the realistic data set `moonlight demo` loads: a year
// in the life of a Chinese EV maker ("Moonlight Motors", a demo company) as
// contract events, with a few engagements with research counterparties
// embedded in ordinary HR and expense traffic. Story lists what the detection
// should find in it and why; Disclosures lists the declarations the demo
// submits through the HTTP API, since disclosures do not travel over Kafka.
//
// Everything is a pure function of the seed and the calendar day of now, so a
// demo that loads the set twice on the same day (or any day, for event ids)
// produces the same (source, id) pairs and the second load has no effect.
package sample

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/moonlight-oss/moonlight/internal/civil"
)

// Default topics of the contract; the sample set is addressed to them and a
// publisher with other topic names maps them.
const (
	TopicHR      = "hr.events"
	TopicExpense = "expense.events"
	TopicIntel   = "intel.events"
)

// Sources of the sample events, one per corporate system.
const (
	SourceHR      = "hris/workday-cn"
	SourceExpense = "expense/concur-cn"
	SourceCard    = "card/cmb-corporate"
	SourceIntel   = "intel/research-monitor"
)

// Message is one Kafka message of the sample set: Value is a CloudEvents 1.0
// structured-mode JSON event, Key the employee id (the seminar id for intel).
type Message struct {
	Topic string
	Key   string
	Value []byte
}

// zone is China Standard Time. A fixed zone, so the sample needs no tz database.
var zone = time.FixedZone("CST", 8*3600)

// idSpace is the UUID v5 namespace of sample event ids.
var idSpace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/moonlight-oss/moonlight/sample"))

// Today is the calendar day of now in China Standard Time: every sample date is
// an offset from it.
func Today(now time.Time) time.Time {
	y, m, d := now.In(zone).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, zone)
}

// Generate returns the sample set for seed, dated relative to the day of now,
// in the order the events happened.
func Generate(seed int64, now time.Time) []Message {
	g := &generator{
		seed:  seed,
		today: Today(now),
		rng:   rand.New(rand.NewPCG(uint64(seed), 0x6d6f6f6e6c696768)),

		cat:         newCatalog(),
		staff:       staff(),
		updates:     changes(),
		assignments: assignmentTable(),
	}
	g.hr()
	g.expenses()
	g.story()
	g.intel()
	slices.SortStableFunc(g.out, func(a, b stamped) int { return a.at.Compare(b.at) })
	msgs := make([]Message, len(g.out))
	for i, s := range g.out {
		msgs[i] = s.msg
	}
	return msgs
}

type stamped struct {
	at  time.Time
	msg Message
}

type generator struct {
	seed  int64
	today time.Time
	rng   *rand.Rand
	out   []stamped
	claim int // sequence of ordinary claim ids
	txn   int // sequence of ordinary card transaction ids

	cat         catalog
	staff       []person
	updates     []update
	assignments []assignment
}

// envelope is the CloudEvents 1.0 structured-mode JSON of the contract.
type envelope struct {
	SpecVersion     string `json:"specversion"`
	ID              string `json:"id"`
	Source          string `json:"source"`
	Type            string `json:"type"`
	Time            string `json:"time"`
	Subject         string `json:"subject,omitempty"`
	DataContentType string `json:"datacontenttype"`
	Data            any    `json:"data"`
}

// emit adds one event. name identifies the fact within its type (a claim id,
// "E1012/hired"), so the event id depends on the seed and the fact, not on
// the day the set was generated.
func (g *generator) emit(topic, key, source, typ, subject, name string, at time.Time, data any) {
	id := uuid.NewSHA1(idSpace, fmt.Appendf(nil, "%d|%s|%s", g.seed, typ, name))
	v, err := json.Marshal(envelope{
		SpecVersion:     "1.0",
		ID:              id.String(),
		Source:          source,
		Type:            typ,
		Time:            at.Format(time.RFC3339),
		Subject:         subject,
		DataContentType: "application/json",
		Data:            data,
	})
	if err != nil {
		panic(fmt.Sprintf("sample: marshal %s %s: %v", typ, name, err)) // only plain structs are marshalled
	}
	g.out = append(g.out, stamped{at: at, msg: Message{Topic: topic, Key: key, Value: v}})
}

// day is the date n days from today (n < 0 is the past).
func (g *generator) day(n int) civil.Date { return civil.Of(g.today.AddDate(0, 0, n)) }

// at is the instant n days from today at hh:mm China time.
func (g *generator) at(n, hh, mm int) time.Time {
	return g.today.AddDate(0, 0, n).Add(time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute)
}

// money formats yuan as the contract's decimal string.
func money(yuan float64) string { return fmt.Sprintf("%.2f", yuan) }
