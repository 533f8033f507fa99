// Package explain holds a finding's explanation as data and renders it in the
// reader's language at display time.
//
// Detection (internal/detect) never writes a sentence for people to read: it
// records an Explanation, an ordered list of clauses, each a message code
// with typed parameters (dates, amounts, a counterparty by watchlist id, a
// declaration by id with its kind and date, enum values, quoted event text).
// The stored finding keeps that data; the web UI and the API render it for
// each reader (Render), naming counterparties by their name in the reader's
// language as the rule-set version that produced the finding lists them.
//
// # Adding a message
//
// A new reason is one code constant where the rule builds its clause
// (detect) and one entry in Messages (messages.go) with its English and
// Chinese text, placeholders by parameter name: {date}, {counterparty}.
// TestEveryCodeHasMessages fails for a code without both texts, or a text
// naming a parameter the clause does not carry.
package explain

import (
	"strconv"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/event"
)

// Explanation is a finding's reasons, in reading order.
type Explanation []Clause

// Clause is one reason: a message code (a key of Messages) and its parameters.
type Clause struct {
	Code   string           `json:"code"`
	Params map[string]Param `json:"params,omitempty"`
}

// Param types.
const (
	TypeText         = "text"         // event text (a merchant, title, description excerpt): shown as given, quoted
	TypeName         = "name"         // a proper name shown as given (a city, an organiser), not quoted
	TypeCity         = "city"         // where something happened, "" for unknown: " in Shanghai" / "在上海"
	TypeDate         = "date"         // Value YYYY-MM-DD
	TypeMoney        = "money"        // Value a decimal, Currency
	TypeInt          = "int"          // Value an integer; plural-aware messages select on it
	TypeList         = "list"         // Values, e.g. the seminar words found
	TypeEnum         = "enum"         // Domain (kind, status, cptype, sensitivity, function, seniority) and Value
	TypeCounterparty = "counterparty" // ID (watchlist id, "" when not listed), Value (name as detected), Alias, Kind (counterparty type)
	TypeDisclosure   = "disclosure"   // ID, Kind (engagement kind), Value (start date), To (end date), Status
	TypeQuarter      = "quarter"      // Value like 2024Q1
	TypeProject      = "project"      // ID (project code), Value (name), Kind (sensitivity)
	TypePeriod       = "period"       // Value (first day), To (last day; empty or equal for one day)
	TypePay          = "pay"          // Kind "paid" or "unpaid", Value and Currency the amount if known
	TypeRoles        = "roles"        // Values, role names ("compliance or auditor")
)

// Param is one typed parameter of a clause.
type Param struct {
	Type     string   `json:"type"`
	Value    string   `json:"value,omitempty"`
	ID       string   `json:"id,omitempty"`
	Kind     string   `json:"kind,omitempty"`
	Domain   string   `json:"domain,omitempty"`
	Currency string   `json:"currency,omitempty"`
	Alias    string   `json:"alias,omitempty"`
	To       string   `json:"to,omitempty"`
	Status   string   `json:"status,omitempty"`
	Values   []string `json:"values,omitempty"`
}

// C starts a clause with code; With adds parameters.
func C(code string) Clause { return Clause{Code: code} }

// With returns c with parameter name set to p.
func (c Clause) With(name string, p Param) Clause {
	m := make(map[string]Param, len(c.Params)+1)
	for k, v := range c.Params {
		m[k] = v
	}
	m[name] = p
	c.Params = m
	return c
}

// Text is quoted event text.
func Text(s string) Param { return Param{Type: TypeText, Value: s} }

// Name is a proper name shown as given.
func Name(s string) Param { return Param{Type: TypeName, Value: s} }

// City is where something happened; empty renders as nothing.
func City(s string) Param { return Param{Type: TypeCity, Value: s} }

// Date is a calendar day.
func Date(d civil.Date) Param { return Param{Type: TypeDate, Value: string(d)} }

// Money is an amount.
func Money(m event.Money) Param {
	return Param{Type: TypeMoney, Value: m.Amount, Currency: m.Currency}
}

// Int is a count or a number of days.
func Int(n int) Param { return Param{Type: TypeInt, Value: strconv.Itoa(n)} }

// List is a list of words as configured (seminar vocabulary).
func List(xs []string) Param { return Param{Type: TypeList, Values: append([]string(nil), xs...)} }

// Enum is a value of a closed vocabulary the renderer translates.
func Enum(domain, value string) Param { return Param{Type: TypeEnum, Domain: domain, Value: value} }

// Counterparty names a firm: by watchlist id when listed (the reader sees
// its name in their language), else by the name as found, with its type.
func Counterparty(id, name, typ, asMatched string) Param {
	return Param{Type: TypeCounterparty, ID: id, Value: name, Kind: typ, Alias: asMatched}
}

// Disclosure names a declaration by what it declared (kind and dates),
// never by its id alone: readers see "the declaration of a paid seminar on
// 2024-05-02"; the id is kept for links.
func Disclosure(id, kind string, start, end civil.Date, status string) Param {
	p := Param{Type: TypeDisclosure, ID: id, Kind: kind, Value: string(start), Status: status}
	if end != "" && end != start {
		p.To = string(end)
	}
	return p
}

// Quarter is a calendar quarter like 2024Q1.
func Quarter(q string) Param { return Param{Type: TypeQuarter, Value: q} }

// Project is a project by code, with its name and sensitivity.
func Project(code, name, sensitivity string) Param {
	return Param{Type: TypeProject, ID: code, Value: name, Kind: sensitivity}
}

// Period is one day or a range of days.
func Period(from, to civil.Date) Param {
	p := Param{Type: TypePeriod, Value: string(from)}
	if to != "" && to != from {
		p.To = string(to)
	}
	return p
}

// Pay says whether an engagement was paid, and how much when known.
func Pay(paid bool, m event.Money) Param {
	if !paid {
		return Param{Type: TypePay, Kind: "unpaid"}
	}
	return Param{Type: TypePay, Kind: "paid", Value: m.Amount, Currency: m.Currency}
}

// Codes lists the codes of e, in order (for tests and logs).
func (e Explanation) Codes() []string {
	out := make([]string, len(e))
	for i, c := range e {
		out[i] = c.Code
	}
	return out
}

// MapText returns e with f applied to every piece of text shown as given:
// quoted event text, names, the name a counterparty was written as, list
// words and the name of an unlisted firm. Masking (privacy) goes through
// here, on the data, before rendering; codes, dates, amounts and ids are
// left alone.
func (e Explanation) MapText(f func(string) string) Explanation {
	out := make(Explanation, len(e))
	for i, c := range e {
		nc := Clause{Code: c.Code}
		if len(c.Params) > 0 {
			nc.Params = make(map[string]Param, len(c.Params))
			for k, p := range c.Params {
				switch p.Type {
				case TypeText, TypeName, TypeCity:
					p.Value = f(p.Value)
				case TypeCounterparty:
					if p.ID == "" {
						p.Value = f(p.Value)
					}
					if p.Alias != "" {
						p.Alias = f(p.Alias)
					}
				case TypeList:
					vs := make([]string, len(p.Values))
					for j, v := range p.Values {
						vs[j] = f(v)
					}
					p.Values = vs
				case TypeProject:
					p.Value = f(p.Value)
				}
				nc.Params[k] = p
			}
		}
		out[i] = nc
	}
	return out
}
