package event

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// schemaBase is the $id prefix of the shipped schemas. The ids name the schemas; nothing is
// fetched from them (every schema is embedded and added to the compiler up front).
const schemaBase = "https://moonlight-oss.github.io/moonlight/schemas/v1/"

//go:embed schemas/*.json
var schemaFiles embed.FS

// Schemas returns the JSON Schemas (draft 2020-12) of the contract: envelope.json, defs.json
// and one <type>.json per event type for its data.
func Schemas() fs.FS {
	sub, err := fs.Sub(schemaFiles, "schemas")
	if err != nil {
		panic(err) // "schemas" is a literal directory of the embed above
	}
	return sub
}

// schemaSet is the compiled contract. It is immutable after compilation and
// jsonschema.Schema.Validate is safe for concurrent use.
type schemaSet struct {
	envelope *jsonschema.Schema
	data     map[string]*jsonschema.Schema // by event type
	// envelopeDates and dates (by event type) are the date and instant fields
	// with bounds, read from the schemas' x-moonlight-* keywords.
	envelopeDates []dateBound
	dates         map[string][]dateBound
}

// dateBound is the range of one top-level date or instant field: from
// earliest to yearsAfter years after the time of receipt.
type dateBound struct {
	key        string
	instant    bool // an RFC 3339 instant, else a calendar date
	earliest   civil.Date
	yearsAfter int
}

// compiledSchemas compiles the embedded schemas once, on first use. A failure means the
// embedded files are broken, a programming error that the package tests catch.
var compiledSchemas = sync.OnceValue(func() *schemaSet {
	s, err := compileSchemas()
	if err != nil {
		panic(fmt.Sprintf("event: embedded JSON Schemas do not compile: %v", err))
	}
	return s
})

func compileSchemas() (*schemaSet, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	// Assert "date" and "date-time" so the validator itself rejects 2023-02-30 and 25:00.
	c.AssertFormat()
	names, err := fs.Glob(schemaFiles, "schemas/*.json")
	if err != nil {
		return nil, fmt.Errorf("list schemas: %w", err)
	}
	docs := map[string]any{}
	for _, name := range names {
		b, err := schemaFiles.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		if err := c.AddResource(schemaBase+strings.TrimPrefix(name, "schemas/"), doc); err != nil {
			return nil, fmt.Errorf("add %s: %w", name, err)
		}
		docs[strings.TrimPrefix(name, "schemas/")] = doc
	}
	s := &schemaSet{data: make(map[string]*jsonschema.Schema, len(Types)), dates: map[string][]dateBound{}}
	if s.envelopeDates, err = dateBounds(docs, "envelope.json"); err != nil {
		return nil, err
	}
	for _, t := range Types {
		if s.dates[t], err = dateBounds(docs, t+".json"); err != nil {
			return nil, err
		}
	}
	if s.envelope, err = c.Compile(schemaBase + "envelope.json"); err != nil {
		return nil, fmt.Errorf("compile envelope: %w", err)
	}
	for _, t := range Types {
		if s.data[t], err = c.Compile(schemaBase + t + ".json"); err != nil {
			return nil, fmt.Errorf("compile %s: %w", t, err)
		}
	}
	return s, nil
}

// dateBounds lists the bounded date and instant properties of a schema: those
// whose $ref names a defs.json definition with x-moonlight-earliest and
// x-moonlight-years-after-receipt. Keeping the numbers in the schemas keeps
// one source of truth for producers and for the decoder.
func dateBounds(docs map[string]any, name string) ([]dateBound, error) {
	obj, _ := docs[name].(map[string]any)
	props, _ := obj["properties"].(map[string]any)
	defsDoc, _ := docs["defs.json"].(map[string]any)
	defs, _ := defsDoc["$defs"].(map[string]any)
	var out []dateBound
	for key, p := range props {
		ref, _ := p.(map[string]any)["$ref"].(string)
		def, ok := strings.CutPrefix(ref, "defs.json#/$defs/")
		if !ok {
			continue
		}
		d, _ := defs[def].(map[string]any)
		earliest, hasEarliest := d["x-moonlight-earliest"].(string)
		years, hasYears := d["x-moonlight-years-after-receipt"]
		if !hasEarliest && !hasYears {
			continue
		}
		e, err := civil.Parse(earliest)
		if err != nil {
			return nil, fmt.Errorf("%s: defs %s: x-moonlight-earliest: %w", name, def, err)
		}
		n, err := strconv.Atoi(fmt.Sprint(years))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%s: defs %s: x-moonlight-years-after-receipt must be a whole number", name, def)
		}
		out = append(out, dateBound{key: key, instant: d["format"] == "date-time", earliest: e, yearsAfter: n})
	}
	slices.SortFunc(out, func(a, b dateBound) int { return strings.Compare(a.key, b.key) })
	return out, nil
}

// schemaError turns a validation failure into a DecodeError. The validator's own messages
// quote the offending values, and event payloads are personal data, so the detail is built
// here from JSON pointers and schema facts only.
func schemaError(err error, prefix, defaultReason string) *DecodeError {
	var leaves []*jsonschema.ValidationError
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			leaves = append(leaves, e)
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return &DecodeError{Reason: defaultReason, Detail: "schema validation failed"}
	}
	walk(ve)
	type problem struct {
		missing        bool
		reason, detail string
	}
	problems := make([]problem, 0, len(leaves))
	for _, l := range leaves {
		_, missing := l.ErrorKind.(*kind.Required)
		ptr := prefix + pointer(l.InstanceLocation)
		reason := reasonOf(l, defaultReason)
		problems = append(problems, problem{missing, reason, describe(l, ptr, reason)})
	}
	// Causes come from map iteration in places; sort so the same event always gives the
	// same header, missing fields first as the most basic fault.
	slices.SortFunc(problems, func(a, b problem) int {
		if a.missing != b.missing {
			if a.missing {
				return -1
			}
			return 1
		}
		return strings.Compare(a.detail, b.detail)
	})
	problems = slices.Compact(problems)
	details := make([]string, 0, 3)
	for i, p := range problems {
		if i == 3 {
			details = append(details, fmt.Sprintf("and %d more", len(problems)-3))
			break
		}
		details = append(details, p.detail)
	}
	if len(problems) == 0 {
		return &DecodeError{Reason: defaultReason, Detail: "schema validation failed"}
	}
	return &DecodeError{Reason: problems[0].reason, Detail: strings.Join(details, "; ")}
}

// reasonOf names the failure more precisely when it is about one of the shared value kinds.
func reasonOf(l *jsonschema.ValidationError, def string) string {
	if _, ok := l.ErrorKind.(*kind.Required); ok {
		return def
	}
	switch {
	case strings.HasSuffix(l.SchemaURL, "defs.json#/$defs/date"), strings.HasSuffix(l.SchemaURL, "defs.json#/$defs/launch_date"):
		return ReasonBadDate
	case strings.HasSuffix(l.SchemaURL, "defs.json#/$defs/instant"):
		return ReasonBadTime
	case strings.HasSuffix(l.SchemaURL, "defs.json#/$defs/amount"):
		return ReasonBadAmount
	}
	switch l.ErrorKind.(type) {
	case *kind.MaxLength, *kind.MaxItems:
		return ReasonFieldTooLong
	}
	return def
}

func describe(l *jsonschema.ValidationError, ptr, reason string) string {
	if ptr == "" {
		ptr = "/"
	}
	if _, ok := l.ErrorKind.(*kind.Type); !ok {
		switch reason {
		case ReasonBadDate:
			return ptr + ": not a YYYY-MM-DD calendar date"
		case ReasonBadTime:
			return ptr + ": not an RFC 3339 instant"
		case ReasonBadAmount:
			return ptr + ": not a decimal"
		}
	}
	switch k := l.ErrorKind.(type) {
	case *kind.Required:
		missing := make([]string, len(k.Missing))
		for i, m := range k.Missing {
			missing[i] = strings.TrimSuffix(ptr, "/") + "/" + escapeToken(m)
		}
		return "missing " + strings.Join(missing, ", ")
	case *kind.Type:
		return fmt.Sprintf("%s: got %s, want %s", ptr, k.Got, strings.Join(k.Want, " or "))
	case *kind.Enum:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = fmt.Sprint(w)
		}
		return fmt.Sprintf("%s: not one of %s", ptr, strings.Join(want, ", "))
	case *kind.Const:
		return fmt.Sprintf("%s: must be %q", ptr, fmt.Sprint(k.Want))
	case *kind.MinLength:
		if k.Want == 1 {
			return ptr + ": must not be empty"
		}
		return fmt.Sprintf("%s: shorter than %d characters", ptr, k.Want)
	case *kind.MaxLength:
		return fmt.Sprintf("%s: longer than %d characters", ptr, k.Want)
	case *kind.MaxItems:
		return fmt.Sprintf("%s: more than %d items", ptr, k.Want)
	case *kind.Pattern:
		return fmt.Sprintf("%s: does not match %s", ptr, k.Want)
	case *kind.Format:
		return fmt.Sprintf("%s: not a valid %s", ptr, k.Want)
	}
	kw := l.ErrorKind.KeywordPath()
	return fmt.Sprintf("%s: fails %s", ptr, strings.Join(kw, "/"))
}

// pointer renders an instance location as an RFC 6901 JSON pointer.
func pointer(loc []string) string {
	var b strings.Builder
	for _, tok := range loc {
		b.WriteByte('/')
		b.WriteString(escapeToken(tok))
	}
	return b.String()
}

func escapeToken(tok string) string {
	if !strings.ContainsAny(tok, "~/") {
		return tok
	}
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
}
