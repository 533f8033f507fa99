package mongostore

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/moonlight-oss/moonlight/internal/retention"
)

// collectionsInCode returns every collection name the package's code
// names: the string constants passed to Collection(...) and every string
// constant whose name ends in "Collection".
func collectionsInCode(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	consts := map[string]string{}
	var parsed []*ast.File
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		af, err := parser.ParseFile(fset, f, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, af)
		ast.Inspect(af, func(n ast.Node) bool {
			if vs, ok := n.(*ast.ValueSpec); ok {
				for i, name := range vs.Names {
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							v, _ := strconv.Unquote(lit.Value)
							consts[name.Name] = v
						}
					}
				}
			}
			return true
		})
	}
	out := map[string]string{} // collection -> where named
	for name, v := range consts {
		if strings.HasSuffix(name, "Collection") {
			out[v] = name
		}
	}
	for _, af := range parsed {
		ast.Inspect(af, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 1 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "Collection" {
				return true
			}
			switch a := call.Args[0].(type) {
			case *ast.BasicLit:
				v, _ := strconv.Unquote(a.Value)
				out[v] = fset.Position(a.Pos()).String()
			case *ast.Ident:
				if v, ok := consts[a.Name]; ok {
					out[v] = a.Name
				}
			}
			return true
		})
	}
	return out
}

// TestEveryCollectionIsClassified is the guard of issue 15: a collection
// that appears in the code (a constant or a Collection("...") call) or in
// the database once every store's indexes are made must be classified:
// purged under a retention kind or listed in notPurged with the reason,
// and exported or listed in notExported with the reason; or listed in
// notAboutPeople with the reason. A classification of a collection no code
// names is stale and fails too.
func TestEveryCollectionIsClassified(t *testing.T) {
	db := newTestDB(t)
	ctx := t.Context()
	inCode := collectionsInCode(t)
	if len(inCode) < 30 {
		t.Fatalf("found only %d collections in the code: the scan is broken (%v)", len(inCode), inCode)
	}
	names, err := db.DB.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]string{}
	for c, where := range inCode {
		all[c] = where
	}
	for _, c := range names {
		if _, ok := all[c]; !ok {
			all[c] = "the database after EnsureIndexes"
		}
	}
	classes := map[string]CollectionClass{}
	for _, c := range Collections() {
		classes[c.Name] = c
	}
	var missing []string
	for c, where := range all {
		cl, ok := classes[c]
		switch {
		case !ok:
			missing = append(missing, c+" ("+where+"): not in purgeTable, exportSources or notAboutPeople")
		case !cl.AboutPeople:
			if strings.TrimSpace(cl.Reason) == "" {
				missing = append(missing, c+": not about people without a reason")
			}
		default:
			if len(cl.Kinds) == 0 && notPurged[c] == "" {
				missing = append(missing, c+": about people, purged by no kind and not in notPurged")
			}
			if !cl.Exported && notExported[c] == "" {
				missing = append(missing, c+": about people, not exported and not in notExported")
			}
		}
	}
	for name := range classes {
		if _, ok := inCode[name]; !ok {
			missing = append(missing, name+": classified, but no code names it (stale entry)")
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Error(m)
	}
	// docs/privacy.md names every collection (its tables are the reader's
	// version of this classification) and every retention kind.
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "privacy.md"))
	if err != nil {
		t.Fatal(err)
	}
	for c := range all {
		if !strings.Contains(string(doc), "`"+c+"`") {
			t.Errorf("docs/privacy.md does not name the collection `%s`", c)
		}
	}
	for _, k := range retention.Kinds() {
		if !strings.Contains(string(doc), "\n| `"+string(k)+"`") {
			t.Errorf("docs/privacy.md's retention table has no row for `%s`", k)
		}
	}
	kinds := map[string]bool{}
	for _, k := range retention.Kinds() {
		kinds[string(k)] = true
	}
	for _, cl := range classes {
		for _, k := range cl.Kinds {
			if !kinds[k] {
				t.Errorf("%s is purged by %q, which is no retention kind", cl.Name, k)
			}
		}
	}
	// Each list names real collections only once in one role.
	for name := range notAboutPeople {
		if cl := classes[name]; cl.Exported {
			t.Errorf("%s is exported but listed as not about people", name)
		}
	}
}
