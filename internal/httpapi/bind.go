package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// fieldName is the shape of every field name of the API's request bodies.
var fieldName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// maxJSONDepth bounds nesting: no request body of the API nests deeper than
// three levels, and deep nesting only costs the server.
const maxJSONDepth = 16

// bindJSON decodes the request body into dst strictly, answering every
// problem with a 400 that names the field:
//   - the body must be one JSON object (nothing before or after it);
//   - no key may start with "$" or contain "." at any depth: such keys mean
//     something to MongoDB, so they are refused outright as injection
//     attempts instead of being trusted to the typed mapping below;
//   - no key may appear twice in one object (parsers disagree on which wins);
//   - no unknown field, and every value must have the field's JSON type.
//
// A body over the server's limit returns the *http.MaxBytesError, which the
// error middleware answers with 413. An empty body is allowed only when
// allowEmpty, and then leaves dst untouched.
func bindJSON(c *gin.Context, dst any, allowEmpty bool) error {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return BadRequest("invalid_body", "could not read the request body")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if allowEmpty {
			return nil
		}
		return BadRequest("invalid_body", "a JSON object body is required")
	}
	if err := checkJSONKeys(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	return nil
}

// decodeError turns encoding/json's errors into 400s naming the field.
func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "(body)"
		}
		return BadRequest("invalid_body", "a field has the wrong JSON type",
			Detail{Field: field, Message: "must be " + jsonTypeName(te)})
	case errors.As(err, &se):
		return BadRequest("invalid_body", "the body is not valid JSON")
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name, _ = strconv.Unquote(name)
		return BadRequest("invalid_body", "the body has an unknown field",
			Detail{Field: name, Message: "is not a known field"})
	}
	return BadRequest("invalid_body", "the body could not be decoded")
}

func jsonTypeName(te *json.UnmarshalTypeError) string {
	if te.Type == nil {
		return "of another type"
	}
	switch te.Type.Kind().String() {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "a number"
	case "slice", "array":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	}
	return "of another type"
}

// checkJSONKeys walks body's tokens: one object, well-formed, not too deep,
// no duplicate, "$"-prefixed or dotted keys.
func checkJSONKeys(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return BadRequest("invalid_body", "the body is not valid JSON")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return BadRequest("invalid_body", "the body must be a JSON object")
	}
	if err := walkObject(dec, "", 1); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return BadRequest("invalid_body", "the body must hold exactly one JSON object")
	}
	return nil
}

// walkObject consumes an object whose '{' was read, at path.
func walkObject(dec *json.Decoder, path string, depth int) error {
	if depth > maxJSONDepth {
		return BadRequest("invalid_body", fmt.Sprintf("the body nests deeper than %d levels", maxJSONDepth))
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return BadRequest("invalid_body", "the body is not valid JSON")
		}
		key, _ := tok.(string)
		field := joinPath(path, key)
		folded := strings.ToLower(key)
		switch {
		case strings.HasPrefix(key, "$") || strings.Contains(key, "."):
			return BadRequest("invalid_body", "field names must not start with $ or contain a dot",
				Detail{Field: field, Message: "is not an allowed field name"})
		case seen[folded]:
			return BadRequest("invalid_body", "the body repeats a field",
				Detail{Field: field, Message: "appears more than once (field names are compared ignoring case)"})
		case !fieldName.MatchString(key):
			// encoding/json matches names ignoring case (and Unicode
			// folding: "\u212aind" is "kind"), so {"kind":"paid_seminar",
			// "KIND":"speaking"} was read as speaking. Every field of this
			// API is lower-case snake_case: anything else is refused.
			return BadRequest("invalid_body", "the body has an unknown field",
				Detail{Field: field, Message: "is not a known field (field names are lower-case, e.g. kind)"})
		}
		seen[folded] = true
		if err := walkValue(dec, field, depth); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return BadRequest("invalid_body", "the body is not valid JSON")
	}
	return nil
}

func walkValue(dec *json.Decoder, path string, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return BadRequest("invalid_body", "the body is not valid JSON")
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	switch d {
	case '{':
		return walkObject(dec, path, depth+1)
	case '[':
		if depth+1 > maxJSONDepth {
			return BadRequest("invalid_body", fmt.Sprintf("the body nests deeper than %d levels", maxJSONDepth))
		}
		for i := 0; dec.More(); i++ {
			if err := walkValue(dec, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil { // ']'
			return BadRequest("invalid_body", "the body is not valid JSON")
		}
	}
	return nil
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// query checks a request's query string: only the allowed parameters, each
// at most once, so `status[$ne]=x` or `status=a&status=b` is a 400 rather
// than silently ignored or ambiguous. It returns the values by name.
func query(c *gin.Context, allowed ...string) (map[string]string, error) {
	vals, err := url.ParseQuery(c.Request.URL.RawQuery)
	if err != nil {
		return nil, BadRequest("invalid_query", "the query string is malformed")
	}
	out := make(map[string]string, len(vals))
	for name, vs := range vals {
		if !isAllowed(name, allowed) {
			return nil, BadRequest("invalid_query", "unknown query parameter",
				Detail{Field: name, Message: "is not a parameter of this endpoint (allowed: " + strings.Join(allowed, ", ") + ")"})
		}
		if len(vs) != 1 {
			return nil, BadRequest("invalid_query", "a query parameter is repeated",
				Detail{Field: name, Message: "must be given at most once"})
		}
		out[name] = vs[0]
	}
	return out, nil
}

func isAllowed(name string, allowed []string) bool { return slices.Contains(allowed, name) }

// mergeBadRequests folds the 400s among errs into one that lists every
// detail, so a client learns of all bad parameters at once; nil if none.
func mergeBadRequests(errs ...error) error {
	var merged *Error
	for _, err := range errs {
		var e *Error
		if !errors.As(err, &e) {
			continue
		}
		if merged == nil {
			merged = &Error{Status: e.Status, Code: e.Code, Message: e.Message}
		}
		merged.Details = append(merged.Details, e.Details...)
	}
	if merged == nil {
		return nil
	}
	return merged
}

// parseLimit reads a page size of 1..max; "" means 0 (the store's default).
func parseLimit(s string, max int) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		return 0, BadRequest("invalid_query", "limit is out of range",
			Detail{Field: "limit", Message: fmt.Sprintf("must be an integer from 1 to %d", max)})
	}
	return n, nil
}

// refPattern is the shape of employee and resource ids in queries: the
// shape ids are issued in, and nothing MongoDB or a log would read as syntax.
var refPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$`)

// checkRef validates an id-like query parameter, when given.
func checkRef(name, v string) error {
	if v != "" && !refPattern.MatchString(v) {
		return BadRequest("invalid_query", "a query parameter is not a valid id",
			Detail{Field: name, Message: "must be an id of letters, digits and _ . : @ - (at most 128)"})
	}
	return nil
}

// checkEnum validates an enum query parameter, when given.
func checkEnum[T ~string](name, v string, valid func(T) bool, all []T) error {
	if v == "" || valid(T(v)) {
		return nil
	}
	names := make([]string, len(all))
	for i, a := range all {
		names[i] = string(a)
	}
	return BadRequest("invalid_query", "a query parameter has an unknown value",
		Detail{Field: name, Message: "must be one of " + strings.Join(names, ", ")})
}

// decisionVersion is the version a decision names: the body's "version" or
// an If-Match header of one entity tag holding it (`"3"`). Neither is 0,
// which the services answer with 428; both must agree.
func decisionVersion(c *gin.Context, body *int64) (int64, error) {
	bad := func(field, msg string) error {
		return BadRequest("invalid_version", "the version is malformed", Detail{Field: field, Message: msg})
	}
	var fromHeader int64
	if h := strings.TrimSpace(c.GetHeader("If-Match")); h != "" {
		tag := strings.TrimPrefix(h, "W/")
		if len(tag) < 3 || tag[0] != '"' || tag[len(tag)-1] != '"' {
			return 0, bad("If-Match", `must be one quoted version, e.g. "3"`)
		}
		n, err := strconv.ParseInt(tag[1:len(tag)-1], 10, 64)
		if err != nil || n < 1 {
			return 0, bad("If-Match", `must be one quoted version, e.g. "3"`)
		}
		fromHeader = n
	}
	if body != nil && *body < 1 {
		return 0, bad("version", "must be a positive integer")
	}
	switch {
	case body != nil && fromHeader != 0 && *body != fromHeader:
		return 0, bad("version", "differs from If-Match")
	case body != nil:
		return *body, nil
	}
	return fromHeader, nil
}

// body is a request body type bound by bindWithID and bindVersioned (as a
// pointer): check returns the body's own 400s, nil when it has none.
type body[T any] interface {
	*T
	check() error
}

// versionedBody is a body that may name the version it changes.
type versionedBody[T any] interface {
	body[T]
	bodyVersion() *int64
}

// bindWithID is the preamble of a change to one resource: the path id (by
// idOf, which answers a malformed one), then the body (bindJSON), then the
// body's own checks. Any problem is recorded on c and ok is false; the
// handler just returns.
func bindWithID[T any, P body[T]](c *gin.Context, idOf func(*gin.Context) (string, error), allowEmpty bool) (id string, req T, ok bool) {
	id, err := idOf(c)
	if err == nil {
		err = bindJSON(c, P(&req), allowEmpty)
	}
	if err == nil {
		err = P(&req).check()
	}
	if err != nil {
		_ = c.Error(err)
		return "", req, false
	}
	return id, req, true
}

// bindVersioned is bindWithID for a decision: after the body's checks, the
// version it names (decisionVersion: the body's "version" or If-Match; 0
// when neither, which the services answer with 428).
func bindVersioned[T any, P versionedBody[T]](c *gin.Context, idOf func(*gin.Context) (string, error)) (id string, req T, version int64, ok bool) {
	id, req, ok = bindWithID[T, P](c, idOf, false)
	if !ok {
		return "", req, 0, false
	}
	version, err := decisionVersion(c, P(&req).bodyVersion())
	if err != nil {
		_ = c.Error(err)
		return "", req, 0, false
	}
	return id, req, version, true
}
