package httpapi_test

import (
	"go/ast"
	"go/parser"
	gotoken "go/token"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/moonlight-oss/moonlight/internal/httpapi"
)

// allRoutes is every route group of the package, with zero dependencies:
// registering must not touch them. TestAllRoutesListed keeps this list
// complete, so a new group cannot slip past the OpenAPI check.
func allRoutes() []httpapi.Routes {
	return []httpapi.Routes{
		httpapi.EventRoutes{},
		httpapi.DisclosureRoutes{},
		httpapi.AuditRoutes{},
		httpapi.CaseRoutes{},
		&httpapi.AdminRoutes{},
		httpapi.SessionRoutes{},
		httpapi.NotificationRoutes{},
		httpapi.LaunchRoutes{},
		httpapi.RightsRoutes{},
	}
}

var ginParam = regexp.MustCompile(`[:*]([A-Za-z_][A-Za-z0-9_]*)`)

// TestOpenAPIDescribesEveryRoute fails when the router has a route the
// document does not describe, or the document describes one the router
// does not have.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	r := httpapi.New(httpapi.Config{
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Gatherer: prometheus.NewRegistry(), Routes: allRoutes(),
	})
	var served []string
	for _, rt := range r.Routes() {
		served = append(served, rt.Method+" "+ginParam.ReplaceAllString(rt.Path, "{$1}"))
	}
	documented := documentedOperations(t)
	sort.Strings(served)
	for _, op := range served {
		if !slices.Contains(documented, op) {
			t.Errorf("route %s is not described in openapi.yaml", op)
		}
	}
	for _, op := range documented {
		if !slices.Contains(served, op) {
			t.Errorf("openapi.yaml describes %s, which the router does not serve", op)
		}
	}
}

// documentedOperations returns "METHOD /path" for every operation of the
// document, and checks each has responses.
func documentedOperations(t *testing.T) []string {
	t.Helper()
	var doc struct {
		OpenAPI string                               `yaml:"openapi"`
		Paths   map[string]map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(httpapi.OpenAPI, &doc); err != nil {
		t.Fatalf("parse openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi = %q, want 3.x", doc.OpenAPI)
	}
	methods := []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}
	var ops []string
	for path, item := range doc.Paths {
		for m, op := range item {
			if !slices.Contains(methods, m) {
				continue // parameters, summary...
			}
			name := strings.ToUpper(m) + " " + path
			if rs, _ := op["responses"].(map[string]any); len(rs) == 0 {
				t.Errorf("%s has no responses", name)
			}
			ops = append(ops, name)
		}
	}
	sort.Strings(ops)
	return ops
}

// TestOpenAPIRefsResolve: every local $ref names something the document defines.
func TestOpenAPIRefsResolve(t *testing.T) {
	var doc map[string]any
	if err := yaml.Unmarshal(httpapi.OpenAPI, &doc); err != nil {
		t.Fatalf("parse openapi.yaml: %v", err)
	}
	var walk func(v any)
	n := 0
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				n++
				if !resolves(doc, ref) {
					t.Errorf("$ref %q does not resolve", ref)
				}
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(doc)
	if n == 0 {
		t.Fatal("no $ref found: the walk is broken")
	}
}

func resolves(doc map[string]any, ref string) bool {
	path, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return false
	}
	var cur any = doc
	for _, seg := range strings.Split(path, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[seg]; !ok {
			return false
		}
	}
	return true
}

// TestAllRoutesListed finds every type of the package with a
// Register(*gin.RouterGroup) method and fails if allRoutes lacks one.
func TestAllRoutesListed(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := gotoken.NewFileSet()
	var found []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || fn.Name.Name != "Register" || len(fn.Type.Params.List) != 1 {
				continue
			}
			if sel, ok := starSel(fn.Type.Params.List[0].Type); !ok || sel != "gin.RouterGroup" {
				continue
			}
			found = append(found, recvName(fn.Recv.List[0].Type))
		}
	}
	if len(found) == 0 {
		t.Fatal("found no Register methods: the scan is broken")
	}
	var listed []string
	for _, rt := range allRoutes() {
		ty := reflect.TypeOf(rt)
		if ty.Kind() == reflect.Pointer {
			ty = ty.Elem()
		}
		listed = append(listed, ty.Name())
	}
	for _, name := range found {
		if !slices.Contains(listed, name) {
			t.Errorf("%s registers routes but is missing from allRoutes in openapi_test.go", name)
		}
	}
}

func starSel(e ast.Expr) (string, bool) {
	st, ok := e.(*ast.StarExpr)
	if !ok {
		return "", false
	}
	sel, ok := st.X.(*ast.SelectorExpr)
	if !ok {
		return "", false
	}
	id, ok := sel.X.(*ast.Ident)
	if !ok {
		return "", false
	}
	return id.Name + "." + sel.Sel.Name, true
}

func recvName(e ast.Expr) string {
	if st, ok := e.(*ast.StarExpr); ok {
		e = st.X
	}
	if id, ok := e.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}
