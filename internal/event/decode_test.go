package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/civil"
)

// sampleData is a complete, valid data object of each type, as a producer would send it.
func sampleData(typ string) map[string]any {
	switch typ {
	case TypeEmployeeHired:
		return map[string]any{"employee_id": "E1001", "name": "张伟", "email": "zhang.wei@example.cn",
			"department": "Equity Research", "title": "Analyst", "manager_id": "E0007", "location": "上海",
			"hire_date": "2021-07-01"}
	case TypeEmployeeUpdated:
		return map[string]any{"employee_id": "E1001", "effective_date": "2023-01-01", "title": "Senior Analyst",
			"manager_id": ""}
	case TypeEmployeeTerminated:
		return map[string]any{"employee_id": "E1001", "termination_date": "2024-03-31", "reason": "resigned"}
	case TypeProjectAssigned:
		return map[string]any{"employee_id": "E1001", "project_code": "MS11", "project_name": "新一代电驱平台",
			"sensitivity": "secret", "launch_date": "2024-09-01", "effective_date": "2023-02-01"}
	case TypeProjectUnassigned:
		return map[string]any{"employee_id": "E1001", "project_code": "MS11", "effective_date": "2023-12-01"}
	case TypeLeaveRecorded:
		return map[string]any{"employee_id": "E1001", "leave_id": "L-77", "start_date": "2023-05-08",
			"end_date": "2023-05-09", "leave_type": "personal"}
	case TypeExpenseClaim:
		return map[string]any{"claim_id": "C-2023-000123", "employee_id": "E1001", "incurred_on": "2023-05-08",
			"amount": "3000.00", "currency": "CNY", "merchant": "凯盛融英信息科技（上海）股份有限公司",
			"category": "conference", "description": "行业交流会 consulting fee", "city": "上海",
			"attendees": []any{"GLG", "某新能源车企前研发总监"}}
	case TypeCardTransaction:
		return map[string]any{"transaction_id": "T-9", "employee_id": "E1001", "occurred_at": "2023-05-08T20:15:00+08:00",
			"amount": 1280.5, "currency": "CNY", "merchant": "中信证券股份有限公司", "mcc": "7399", "city": "深圳"}
	case TypeSeminarReported:
		return map[string]any{"seminar_id": "S-42", "organizer": "AlphaSights", "title": "EV drivetrain supply chain",
			"date": "2023-05-08", "city": "上海", "paid": true,
			"speaker_descriptors": []any{"某新能源车企前研发总监", "Xiaomi EV supply-chain manager"},
			"source_url":          "https://example.com/minutes/42"}
	}
	panic("no sample for " + typ)
}

// sampleWant is the decoded data of sampleData(typ).
func sampleWant(typ string) any {
	s := func(v string) *string { return &v }
	yes := true
	switch typ {
	case TypeEmployeeHired:
		return &EmployeeHired{EmployeeID: "E1001", Name: "张伟", Email: "zhang.wei@example.cn",
			Department: "Equity Research", Title: "Analyst", ManagerID: "E0007", Location: "上海",
			HireDate: civil.MustParse("2021-07-01")}
	case TypeEmployeeUpdated:
		return &EmployeeUpdated{EmployeeID: "E1001", EffectiveDate: civil.MustParse("2023-01-01"),
			Title: s("Senior Analyst"), ManagerID: s("")}
	case TypeEmployeeTerminated:
		return &EmployeeTerminated{EmployeeID: "E1001", TerminationDate: civil.MustParse("2024-03-31"), Reason: "resigned"}
	case TypeProjectAssigned:
		return &ProjectAssigned{EmployeeID: "E1001", ProjectCode: "MS11", ProjectName: "新一代电驱平台",
			Sensitivity: "secret", LaunchDate: civil.MustParse("2024-09-01"), EffectiveDate: civil.MustParse("2023-02-01")}
	case TypeProjectUnassigned:
		return &ProjectUnassigned{EmployeeID: "E1001", ProjectCode: "MS11", EffectiveDate: civil.MustParse("2023-12-01")}
	case TypeLeaveRecorded:
		return &LeaveRecorded{EmployeeID: "E1001", LeaveID: "L-77", StartDate: civil.MustParse("2023-05-08"),
			EndDate: civil.MustParse("2023-05-09"), LeaveType: "personal"}
	case TypeExpenseClaim:
		return &ExpenseClaim{ClaimID: "C-2023-000123", EmployeeID: "E1001", IncurredOn: civil.MustParse("2023-05-08"),
			Amount: Money{"3000.00", "CNY"}, Merchant: "凯盛融英信息科技（上海）股份有限公司", Category: "conference",
			Description: "行业交流会 consulting fee", City: "上海", Attendees: []string{"GLG", "某新能源车企前研发总监"}}
	case TypeCardTransaction:
		return &CardTransaction{TransactionID: "T-9", EmployeeID: "E1001",
			OccurredAt: time.Date(2023, 5, 8, 20, 15, 0, 0, time.FixedZone("", 8*3600)),
			Amount:     Money{"1280.5", "CNY"}, Merchant: "中信证券股份有限公司", MCC: "7399", City: "深圳"}
	case TypeSeminarReported:
		return &SeminarReported{SeminarID: "S-42", Organizer: "AlphaSights", Title: "EV drivetrain supply chain",
			Date: civil.MustParse("2023-05-08"), City: "上海", Paid: &yes,
			SpeakerDescriptors: []string{"某新能源车企前研发总监", "Xiaomi EV supply-chain manager"},
			SourceURL:          "https://example.com/minutes/42"}
	}
	panic("no want for " + typ)
}

// required lists the required data fields of each type as the contract marks them (*).
// It is written out from the contract, not read from the schemas, so that a schema that
// drifts from the contract fails the tests.
var required = map[string][]string{
	TypeEmployeeHired:      {"employee_id", "name", "department", "hire_date"},
	TypeEmployeeUpdated:    {"employee_id", "effective_date"},
	TypeEmployeeTerminated: {"employee_id", "termination_date"},
	TypeProjectAssigned:    {"employee_id", "project_code", "sensitivity", "effective_date"},
	TypeProjectUnassigned:  {"employee_id", "project_code", "effective_date"},
	TypeLeaveRecorded:      {"employee_id", "leave_id", "start_date", "end_date"},
	TypeExpenseClaim:       {"claim_id", "employee_id", "incurred_on", "amount", "currency", "merchant"},
	TypeCardTransaction:    {"transaction_id", "employee_id", "occurred_at", "amount", "currency", "merchant"},
	TypeSeminarReported:    {"seminar_id", "organizer", "title", "date"},
}

func sampleEnvelope(typ string) map[string]any {
	return map[string]any{
		"specversion":     "1.0",
		"id":              "3f1c2a9e-0b7d-4c1e-9a51-2f6d8e1b7c10",
		"source":          "hris/workday-cn",
		"type":            typ,
		"time":            "2023-03-01T09:00:00+08:00",
		"subject":         "E1001",
		"datacontenttype": "application/json",
		"data":            sampleData(typ),
	}
}

// build returns the JSON of the sample event of typ after edit changed its envelope and data.
func build(t testing.TB, typ string, edit func(env, data map[string]any)) []byte {
	t.Helper()
	env := sampleEnvelope(typ)
	if edit != nil {
		edit(env, env["data"].(map[string]any))
	}
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func wantEvent(typ string, raw []byte) Event {
	return Event{
		Ref:     Ref{Source: "hris/workday-cn", ID: "3f1c2a9e-0b7d-4c1e-9a51-2f6d8e1b7c10"},
		Type:    typ,
		Time:    time.Date(2023, 3, 1, 9, 0, 0, 0, time.FixedZone("", 8*3600)),
		Subject: "E1001",
		Data:    sampleWant(typ),
		Raw:     raw,
	}
}

// assertEvent compares events, instants by Equal and offset rather than by location pointer.
func assertEvent(t *testing.T, got, want Event) {
	t.Helper()
	if !got.Time.Equal(want.Time) || offset(got.Time) != offset(want.Time) {
		t.Errorf("Time = %v, want %v", got.Time, want.Time)
	}
	gd, wd := got.Data, want.Data
	if g, ok := gd.(*CardTransaction); ok {
		if w, ok := wd.(*CardTransaction); ok {
			if !g.OccurredAt.Equal(w.OccurredAt) || offset(g.OccurredAt) != offset(w.OccurredAt) {
				t.Errorf("OccurredAt = %v, want %v", g.OccurredAt, w.OccurredAt)
			}
			gc, wc := *g, *w
			gc.OccurredAt, wc.OccurredAt = time.Time{}, time.Time{}
			gd, wd = &gc, &wc
		}
	}
	if !reflect.DeepEqual(gd, wd) {
		t.Errorf("Data = %+v\nwant   %+v", gd, wd)
	}
	got.Time, want.Time, got.Data, want.Data = time.Time{}, time.Time{}, nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Event = %+v\nwant    %+v", got, want)
	}
}

func offset(t time.Time) int {
	_, off := t.Zone()
	return off
}

func TestDecodeValid(t *testing.T) {
	for _, typ := range Types {
		t.Run(typ, func(t *testing.T) {
			raw := build(t, typ, nil)
			got, err := Decode(raw)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			assertEvent(t, got, wantEvent(typ, raw))
			if &got.Raw[0] != &raw[0] {
				t.Error("Raw is not the input")
			}
		})
	}
}

// TestDecodeMinimal sends each type with only its required fields and only the required
// envelope attributes.
func TestDecodeMinimal(t *testing.T) {
	for _, typ := range Types {
		t.Run(typ, func(t *testing.T) {
			raw := build(t, typ, func(env, data map[string]any) {
				for _, k := range []string{"time", "subject", "datacontenttype"} {
					delete(env, k)
				}
				keep := map[string]bool{}
				for _, k := range required[typ] {
					keep[k] = true
				}
				for k := range data {
					if !keep[k] {
						delete(data, k)
					}
				}
			})
			got, err := Decode(raw)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !got.Time.IsZero() || got.Subject != "" {
				t.Errorf("Time, Subject = %v, %q; want zero", got.Time, got.Subject)
			}
			if got.EmployeeID() == "" && typ != TypeSeminarReported {
				t.Error("EmployeeID is empty")
			}
			if got.PartitionKey() == "" {
				t.Error("PartitionKey is empty")
			}
		})
	}
}

func TestDecodeMissingRequired(t *testing.T) {
	for _, typ := range Types {
		for _, field := range required[typ] {
			t.Run(typ+"/"+field, func(t *testing.T) {
				raw := build(t, typ, func(_, data map[string]any) { delete(data, field) })
				assertBad(t, raw, ReasonInvalidData, "missing /data/"+field)
			})
		}
	}
}

// TestDecodeEmptyRequired: an empty string is not a value for a required text field.
func TestDecodeEmptyRequired(t *testing.T) {
	// Fields with a format of their own have their own tests below.
	notText := map[string]bool{"hire_date": true, "effective_date": true, "termination_date": true,
		"start_date": true, "end_date": true, "incurred_on": true, "date": true, "occurred_at": true,
		"amount": true, "currency": true, "sensitivity": true}
	for _, typ := range Types {
		for _, field := range required[typ] {
			if notText[field] {
				continue
			}
			t.Run(typ+"/"+field, func(t *testing.T) {
				raw := build(t, typ, func(_, data map[string]any) { data[field] = "" })
				assertBad(t, raw, ReasonInvalidData, "/data/"+field+": must not be empty")
			})
		}
	}
}

func TestDecodeBad(t *testing.T) {
	claim, card := TypeExpenseClaim, TypeCardTransaction
	setData := func(k string, v any) func(env, data map[string]any) {
		return func(_, data map[string]any) { data[k] = v }
	}
	setEnv := func(k string, v any) func(env, data map[string]any) {
		return func(env, _ map[string]any) { env[k] = v }
	}
	tests := []struct {
		name       string
		typ        string
		edit       func(env, data map[string]any)
		give       []byte // used instead of typ and edit when set
		wantReason string
		wantDetail string
	}{
		{name: "malformed json", give: []byte(`{"specversion":"1.0",`), wantReason: ReasonMalformedJSON, wantDetail: "unexpected end"},
		{name: "not json", give: []byte(`hello`), wantReason: ReasonMalformedJSON, wantDetail: "byte offset"},
		{name: "empty", give: []byte{}, wantReason: ReasonMalformedJSON},
		{name: "two values", give: []byte(`{} {}`), wantReason: ReasonMalformedJSON, wantDetail: "after the JSON value"},
		{name: "invalid utf8", give: append([]byte(`{"id":"`), 0xff, '"', '}'), wantReason: ReasonInvalidUTF8, wantDetail: "byte offset 7"},
		{name: "top level array", give: []byte(`[]`), wantReason: ReasonInvalidEnvelope, wantDetail: "/: got array, want object"},
		{name: "null", give: []byte(`null`), wantReason: ReasonInvalidEnvelope},

		{name: "specversion 0.3", typ: claim, edit: setEnv("specversion", "0.3"), wantReason: ReasonInvalidEnvelope, wantDetail: `/specversion: must be "1.0"`},
		{name: "specversion number", typ: claim, edit: setEnv("specversion", 1.0), wantReason: ReasonInvalidEnvelope, wantDetail: "/specversion"},
		{name: "no specversion", typ: claim, edit: func(env, _ map[string]any) { delete(env, "specversion") }, wantReason: ReasonInvalidEnvelope, wantDetail: "missing /specversion"},
		{name: "no id", typ: claim, edit: func(env, _ map[string]any) { delete(env, "id") }, wantReason: ReasonInvalidEnvelope, wantDetail: "missing /id"},
		{name: "empty id", typ: claim, edit: setEnv("id", ""), wantReason: ReasonInvalidEnvelope, wantDetail: "/id: must not be empty"},
		{name: "id number", typ: claim, edit: setEnv("id", 7), wantReason: ReasonInvalidEnvelope, wantDetail: "/id: got number, want string"},
		{name: "empty source", typ: claim, edit: setEnv("source", ""), wantReason: ReasonInvalidEnvelope, wantDetail: "/source: must not be empty"},
		{name: "no source", typ: claim, edit: func(env, _ map[string]any) { delete(env, "source") }, wantReason: ReasonInvalidEnvelope, wantDetail: "missing /source"},
		{name: "no type", typ: claim, edit: func(env, _ map[string]any) { delete(env, "type") }, wantReason: ReasonInvalidEnvelope, wantDetail: "missing /type"},
		{name: "no data", typ: claim, edit: func(env, _ map[string]any) { delete(env, "data") }, wantReason: ReasonInvalidEnvelope, wantDetail: "missing /data"},
		{name: "data array", typ: claim, edit: setEnv("data", []any{}), wantReason: ReasonInvalidEnvelope, wantDetail: "/data: got array, want object"},
		{name: "data string", typ: claim, edit: setEnv("data", `{"claim_id":"C1"}`), wantReason: ReasonInvalidEnvelope, wantDetail: "/data: got string, want object"},
		{name: "data null", typ: claim, edit: setEnv("data", nil), wantReason: ReasonInvalidEnvelope, wantDetail: "/data: got null, want object"},
		{name: "subject number", typ: claim, edit: setEnv("subject", 1001), wantReason: ReasonInvalidEnvelope, wantDetail: "/subject"},
		{name: "time not instant", typ: claim, edit: setEnv("time", "yesterday"), wantReason: ReasonBadTime, wantDetail: "/time: not an RFC 3339 instant"},
		{name: "time without offset", typ: claim, edit: setEnv("time", "2023-03-01T09:00:00"), wantReason: ReasonBadTime, wantDetail: "/time"},
		{name: "time hour 25", typ: claim, edit: setEnv("time", "2023-03-01T25:00:00Z"), wantReason: ReasonBadTime, wantDetail: "/time"},
		{name: "time date only", typ: claim, edit: setEnv("time", "2023-03-01"), wantReason: ReasonBadTime, wantDetail: "/time"},

		{name: "unknown type", typ: claim, edit: setEnv("type", "expense.claim.approved"), wantReason: ReasonUnknownType, wantDetail: "/type"},
		{name: "type case", typ: claim, edit: setEnv("type", "Expense.Claim.Submitted"), wantReason: ReasonUnknownType},
		{name: "type of other data", typ: claim, edit: setEnv("type", TypeEmployeeHired), wantReason: ReasonInvalidData, wantDetail: "missing /data/name, /data/department, /data/hire_date"},

		{name: "bad date month 13", typ: TypeEmployeeHired, edit: setData("hire_date", "2023-13-01"), wantReason: ReasonBadDate, wantDetail: "/data/hire_date: not a YYYY-MM-DD calendar date"},
		{name: "bad date Feb 30", typ: TypeEmployeeHired, edit: setData("hire_date", "2023-02-30"), wantReason: ReasonBadDate, wantDetail: "/data/hire_date"},
		{name: "bad date Feb 29 2023", typ: TypeLeaveRecorded, edit: setData("end_date", "2023-02-29"), wantReason: ReasonBadDate, wantDetail: "/data/end_date"},
		{name: "bad date unpadded", typ: TypeProjectAssigned, edit: setData("launch_date", "2024-9-1"), wantReason: ReasonBadDate, wantDetail: "/data/launch_date"},
		{name: "bad date slashes", typ: claim, edit: setData("incurred_on", "2023/05/08"), wantReason: ReasonBadDate, wantDetail: "/data/incurred_on"},
		{name: "bad date instant", typ: TypeSeminarReported, edit: setData("date", "2023-05-08T10:00:00Z"), wantReason: ReasonBadDate, wantDetail: "/data/date"},
		{name: "date number", typ: TypeEmployeeTerminated, edit: setData("termination_date", 20240331), wantReason: ReasonBadDate, wantDetail: "/data/termination_date: got number, want string"},
		{name: "bad occurred_at", typ: card, edit: setData("occurred_at", "2023-05-08 20:15"), wantReason: ReasonBadTime, wantDetail: "/data/occurred_at: not an RFC 3339 instant"},
		{name: "occurred_at date", typ: card, edit: setData("occurred_at", "2023-05-08"), wantReason: ReasonBadTime, wantDetail: "/data/occurred_at"},

		{name: "amount with comma", typ: claim, edit: setData("amount", "3,000"), wantReason: ReasonBadAmount, wantDetail: "/data/amount: not a decimal"},
		{name: "amount with currency sign", typ: claim, edit: setData("amount", "¥3000"), wantReason: ReasonBadAmount, wantDetail: "/data/amount"},
		{name: "amount exponent string", typ: claim, edit: setData("amount", "3e3"), wantReason: ReasonBadAmount, wantDetail: "/data/amount"},
		{name: "amount NaN", typ: claim, edit: setData("amount", "NaN"), wantReason: ReasonBadAmount, wantDetail: "/data/amount"},
		{name: "amount empty", typ: card, edit: setData("amount", ""), wantReason: ReasonBadAmount, wantDetail: "/data/amount"},
		{name: "amount trailing dot", typ: card, edit: setData("amount", "3000."), wantReason: ReasonBadAmount, wantDetail: "/data/amount"},
		{name: "amount bool", typ: card, edit: setData("amount", true), wantReason: ReasonBadAmount, wantDetail: "/data/amount: got boolean, want number or string"},
		{name: "amount too long", typ: card, edit: setData("amount", strings.Repeat("9", 41)), wantReason: ReasonBadAmount, wantDetail: "/data/amount"},
		{name: "amount huge number", give: bytes.Replace(build(t, card, nil), []byte(`"amount":1280.5`), []byte(`"amount":1e999999999`), 1), wantReason: ReasonBadAmount, wantDetail: "/data/amount: not a decimal"},
		{name: "currency lower case", typ: claim, edit: setData("currency", "cny"), wantReason: ReasonInvalidData, wantDetail: "/data/currency: does not match ^[A-Z]{3}$"},
		{name: "currency symbol", typ: card, edit: setData("currency", "¥"), wantReason: ReasonInvalidData, wantDetail: "/data/currency"},
		{name: "currency four letters", typ: card, edit: setData("currency", "CNYY"), wantReason: ReasonInvalidData, wantDetail: "/data/currency"},

		{name: "bad reason", typ: TypeEmployeeTerminated, edit: setData("reason", "fired"), wantReason: ReasonInvalidData, wantDetail: "/data/reason: not one of resigned, dismissed, retired, other"},
		{name: "bad sensitivity", typ: TypeProjectAssigned, edit: setData("sensitivity", "top-secret"), wantReason: ReasonInvalidData, wantDetail: "/data/sensitivity: not one of public, internal, confidential, secret"},
		{name: "sensitivity case", typ: TypeProjectAssigned, edit: setData("sensitivity", "Secret"), wantReason: ReasonInvalidData, wantDetail: "/data/sensitivity"},
		{name: "bad leave type", typ: TypeLeaveRecorded, edit: setData("leave_type", "vacation"), wantReason: ReasonInvalidData, wantDetail: "/data/leave_type: not one of annual, sick, personal, other"},
		{name: "bad category", typ: claim, edit: setData("category", "consulting"), wantReason: ReasonInvalidData, wantDetail: "/data/category: not one of travel, hotel, taxi, meals, conference, other"},

		{name: "employee_id number", typ: TypeEmployeeHired, edit: setData("employee_id", 1001), wantReason: ReasonInvalidData, wantDetail: "/data/employee_id: got number, want string"},
		{name: "optional text number", typ: TypeEmployeeHired, edit: setData("email", 5), wantReason: ReasonInvalidData, wantDetail: "/data/email: got number, want string"},
		{name: "optional text null", typ: TypeEmployeeUpdated, edit: setData("name", nil), wantReason: ReasonInvalidData, wantDetail: "/data/name: got null, want string"},
		{name: "mcc number", typ: card, edit: setData("mcc", 7399), wantReason: ReasonInvalidData, wantDetail: "/data/mcc"},
		{name: "attendees string", typ: claim, edit: setData("attendees", "GLG"), wantReason: ReasonInvalidData, wantDetail: "/data/attendees: got string, want array"},
		{name: "attendees with number", typ: claim, edit: setData("attendees", []any{"GLG", 3}), wantReason: ReasonInvalidData, wantDetail: "/data/attendees/1: got number, want string"},
		{name: "descriptors object", typ: TypeSeminarReported, edit: setData("speaker_descriptors", map[string]any{}), wantReason: ReasonInvalidData, wantDetail: "/data/speaker_descriptors"},
		{name: "paid string", typ: TypeSeminarReported, edit: setData("paid", "yes"), wantReason: ReasonInvalidData, wantDetail: "/data/paid: got string, want boolean"},
		{name: "several faults, missing first", typ: claim, edit: func(_, data map[string]any) {
			delete(data, "claim_id")
			data["currency"] = "cny"
		}, wantReason: ReasonInvalidData, wantDetail: "missing /data/claim_id; /data/currency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			give := tt.give
			if give == nil {
				give = build(t, tt.typ, tt.edit)
			}
			assertBad(t, give, tt.wantReason, tt.wantDetail)
		})
	}
}

func assertBad(t *testing.T, give []byte, wantReason, wantDetail string) {
	t.Helper()
	got, err := Decode(give)
	if err == nil {
		t.Fatalf("Decode accepted %s as %+v", give, got.Data)
	}
	var de *DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("error %v is %T, want *DecodeError", err, err)
	}
	if de.Reason != wantReason {
		t.Errorf("Reason = %q, want %q (%v)", de.Reason, wantReason, err)
	}
	if !strings.Contains(de.Detail, wantDetail) {
		t.Errorf("Detail = %q, want it to contain %q", de.Detail, wantDetail)
	}
	if err.Error() != de.Reason+": "+de.Detail {
		t.Errorf("Error() = %q", err.Error())
	}
	if !IsBadEvent(err) {
		t.Error("IsBadEvent = false")
	}
	if !reflect.DeepEqual(got, Event{}) {
		t.Errorf("Decode returned %+v with its error", got)
	}
}

// TestDecodeErrorHidesValues: DLQ headers and logs carry the error, and payloads are
// personal data, so no value from the event may appear in it.
func TestDecodeErrorHidesValues(t *testing.T) {
	const secret = "SECRETVALUE"
	edits := []func(env, data map[string]any){
		func(_, d map[string]any) { d["currency"] = secret },
		func(_, d map[string]any) { d["amount"] = secret },
		func(_, d map[string]any) { d["incurred_on"] = secret },
		func(_, d map[string]any) { d["category"] = secret },
		func(_, d map[string]any) { d["attendees"] = secret },
		func(e, _ map[string]any) { e["type"] = secret },
		func(e, _ map[string]any) { e["specversion"] = secret },
		func(e, _ map[string]any) { e["time"] = secret },
		func(e, _ map[string]any) { e["data"] = secret },
	}
	for i, edit := range edits {
		raw := build(t, TypeExpenseClaim, edit)
		_, err := Decode(raw)
		if err == nil {
			t.Fatalf("edit %d: Decode accepted %s", i, raw)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("edit %d: error %q quotes the payload", i, err)
		}
	}
	_, err := Decode([]byte(`{"id": SECRETVALUE}`))
	if err == nil || strings.Contains(err.Error(), "'S'") {
		t.Errorf("malformed JSON error %v quotes the payload", err)
	}
}

func TestDecodeIgnoresUnknown(t *testing.T) {
	for _, typ := range Types {
		t.Run(typ, func(t *testing.T) {
			raw := build(t, typ, func(env, data map[string]any) {
				env["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
				env["dataschema"] = "https://example.com/schema"
				env["partitionkey"] = 17
				data["future_field"] = map[string]any{"nested": []any{1, "x"}}
				data["cost_centre"] = nil
			})
			got, err := Decode(raw)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			assertEvent(t, got, wantEvent(typ, raw))
		})
	}
}

func TestDecodeAmount(t *testing.T) {
	tests := []struct {
		give string // the JSON of amount
		want string
	}{
		{give: `3000`, want: "3000"},
		{give: `"3000"`, want: "3000"},
		{give: `"3000.00"`, want: "3000.00"},
		{give: `3000.50`, want: "3000.50"},
		{give: `"3000.50"`, want: "3000.50"},
		{give: `"0030.5"`, want: "30.5"},
		{give: `0.05`, want: "0.05"},
		{give: `-12.5`, want: "-12.5"},
		{give: `"-12.50"`, want: "-12.50"},
		{give: `"-0.00"`, want: "0.00"},
		{give: `1.5e3`, want: "1500"},
		{give: `15E-3`, want: "0.015"},
		{give: `12345678901234567890.123456789`, want: "12345678901234567890.123456789"},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			raw := fmt.Appendf(nil, `{"specversion":"1.0","id":"1","source":"s","type":"expense.card.transaction",
				"data":{"transaction_id":"T","employee_id":"E","occurred_at":"2023-05-08T12:00:00Z",
				"amount":%s,"currency":"USD","merchant":"GLG"}}`, tt.give)
			e, err := Decode(raw)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got := e.Data.(*CardTransaction).Amount; got != (Money{tt.want, "USD"}) {
				t.Errorf("Amount = %+v, want %q USD", got, tt.want)
			}
		})
	}
}

func TestCanonicalDecimal(t *testing.T) {
	tests := []struct {
		give   string
		want   string
		wantOK bool
	}{
		{"0", "0", true},
		{"-0", "0", true},
		{"007", "7", true},
		{"1.10", "1.10", true},
		{"1e0", "1", true},
		{"1.50e1", "15.0", true},
		{"1e+2", "100", true},
		{"25e-4", "0.0025", true},
		{"1e40", "", false}, // 41 characters
		{"1e-40", "", false},
		{"1e99999999999999999999", "", false},
		{"", "", false},
		{"-", "", false},
		{".5", "", false},
		{"5.", "", false},
		{"+5", "", false},
		{"--5", "", false},
		{"1e", "", false},
		{"1e+-2", "", false},
		{"1,000", "", false},
		{"0x10", "", false},
		{"Inf", "", false},
		{"١٢", "", false}, // Arabic-Indic digits
	}
	for _, tt := range tests {
		got, ok := canonicalDecimal(tt.give)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("canonicalDecimal(%q) = %q, %v; want %q, %v", tt.give, got, ok, tt.want, tt.wantOK)
		}
		if ok {
			if again, _ := canonicalDecimal(got); again != got {
				t.Errorf("canonicalDecimal(%q) = %q, not a fixed point", got, again)
			}
		}
	}
}

func TestDecoderLimit(t *testing.T) {
	raw := build(t, TypeExpenseClaim, nil)
	if _, err := NewDecoder(len(raw)).Decode(raw); err != nil {
		t.Errorf("at the limit: %v", err)
	}
	_, err := NewDecoder(len(raw) - 1).Decode(raw)
	var de *DecodeError
	if !errors.As(err, &de) || de.Reason != ReasonTooLarge {
		t.Errorf("over the limit: err = %v, want %s", err, ReasonTooLarge)
	}
	if got := NewDecoder(0).MaxBytes(); got != MaxEventBytes {
		t.Errorf("NewDecoder(0).MaxBytes() = %d, want %d", got, MaxEventBytes)
	}
	// 2 MiB of valid JSON: the limit applies before any parsing.
	big := build(t, TypeExpenseClaim, func(_, d map[string]any) { d["description"] = strings.Repeat("a", 2<<20) })
	assertBad(t, big, ReasonTooLarge, fmt.Sprintf("limit %d", MaxEventBytes))
}

func TestIsBadEvent(t *testing.T) {
	_, err := Decode([]byte(`{`))
	tests := []struct {
		give error
		want bool
	}{
		{give: err, want: true},
		{give: fmt.Errorf("offset 7: %w", err), want: true},
		{give: errors.New("connection refused"), want: false},
		{give: nil, want: false},
	}
	for _, tt := range tests {
		if got := IsBadEvent(tt.give); got != tt.want {
			t.Errorf("IsBadEvent(%v) = %v, want %v", tt.give, got, tt.want)
		}
	}
}

// TestDecodeConcurrent runs decoders in parallel; with -race it checks the shared
// compiled schemas are only read.
func TestDecodeConcurrent(t *testing.T) {
	raws := make([][]byte, len(Types))
	for i, typ := range Types {
		raws[i] = build(t, typ, nil)
	}
	bad := build(t, TypeExpenseClaim, func(_, d map[string]any) { d["currency"] = "x" })
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			d := NewDecoder(0)
			for i := range 50 {
				raw := raws[(g+i)%len(raws)]
				if _, err := d.Decode(raw); err != nil {
					errs <- err
					return
				}
				if _, err := d.Decode(bad); !IsBadEvent(err) {
					errs <- fmt.Errorf("bad event: err = %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// typicalExpense is the benchmark's message: an expense claim as the expense system sends it.
var typicalExpense = []byte(`{"specversion":"1.0","id":"3f1c2a9e-0b7d-4c1e-9a51-2f6d8e1b7c10","source":"expense/concur-cn",` +
	`"type":"expense.claim.submitted","time":"2023-05-08T18:30:00+08:00","subject":"E1001",` +
	`"datacontenttype":"application/json","data":{"claim_id":"C-2023-000123","employee_id":"E1001",` +
	`"incurred_on":"2023-05-08","amount":"3000.00","currency":"CNY","merchant":"凯盛融英信息科技（上海）股份有限公司",` +
	`"category":"conference","description":"行业交流会 咨询费","city":"上海","attendees":["GLG","某新能源车企前研发总监"]}}`)

func BenchmarkDecode(b *testing.B) {
	d := NewDecoder(0)
	b.ReportAllocs()
	b.SetBytes(int64(len(typicalExpense)))
	for b.Loop() {
		if _, err := d.Decode(typicalExpense); err != nil {
			b.Fatal(err)
		}
	}
}
