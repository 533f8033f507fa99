package evaluate_test

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/evaluate"
	"github.com/moonlight-oss/moonlight/internal/evaluate/evaluatetest"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/review"
)

// TestNoAutomatedConfirmation: no adverse decision is automated (issue 15;
// GDPR Art. 22). Software opens cases and may clear them; no code path
// with the system as its actor confirms one.
func TestNoAutomatedConfirmation(t *testing.T) {
	t.Run("every automated path on strong evidence", func(t *testing.T) {
		w := evaluatetest.New(t)
		w.Feed(evaluatetest.Hired(t, "E1", "2019-03-01"), evaluatetest.OnMS11(t, "E1"),
			evaluatetest.Claim(t, "X-1", "E1", "2024-01-10", "中信证券股份有限公司", "EV行业研讨会 咨询费"),
			evaluatetest.Claim(t, "X-2", "E1", "2024-02-10", "中国国际金融股份有限公司", "EV research seminar speaker fee"))
		// A declared expert call never approved, whose date has passed: the sweep raises it.
		x := disclosure.New("D-1", "E1", disclosure.Input{Kind: disclosure.KindExpertCall, Counterparty: "AlphaSights",
			CounterpartyType: disclosure.CounterpartyExpertNetwork, Topic: "battery costs", StartDate: d("2024-06-01"), EndDate: d("2024-06-01")},
			disclosure.DefaultPolicy(), w.Now)
		if err := w.Discl.Create(t.Context(), x); err != nil {
			t.Fatal(err)
		}
		ctx := t.Context()
		if err := w.Engine.Reevaluate(ctx, "E1"); err != nil {
			t.Fatal(err)
		}
		if _, err := (&evaluate.Sweeper{Engine: w.Engine, Due: w.Discl, State: mongostore.NewSweepState(w.DB), Log: discardLog()}).Round(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := (&evaluate.Drainer{Engine: w.Engine, Markers: mongostore.NewMarkerStore(w.DB), Log: discardLog()}).Drain(ctx); err != nil {
			t.Fatal(err)
		}
		w.Now = w.Now.Add(24 * time.Hour)
		if err := w.Engine.Reevaluate(ctx, "E1"); err != nil {
			t.Fatal(err)
		}
		cases := w.AllCases()
		if len(cases) == 0 || cases[0].Severity != "high" {
			t.Fatalf("cases = %+v, want a high-severity case: the evidence is meant to be strong", cases)
		}
		for _, c := range cases {
			if c.Status == review.StatusConfirmed {
				t.Errorf("case %s was confirmed with nobody deciding", c.ID)
			}
			for _, h := range c.History {
				if h.Actor == review.System && h.To == review.StatusConfirmed {
					t.Errorf("case %s history: the system confirmed: %+v", c.ID, h)
				}
			}
		}
		es, _, err := w.Audit.List(ctx, audit.Filter{Actor: audit.SystemActor}, audit.MaxLimit, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if e.Action == audit.ActionCaseDecide || e.Details["to"] == review.StatusConfirmed {
				t.Errorf("the system decided: %+v", e)
			}
		}
	})

	t.Run("the domain refuses the system as the confirming actor", func(t *testing.T) {
		now := time.Now()
		for _, actor := range []string{review.System, "", " "} {
			c := review.Case{ID: "case-1", EmployeeID: "E1", Status: review.StatusOpen}
			if err := c.Decide(actor, review.StatusConfirmed, "looks bad", now); !errors.Is(err, review.ErrForbidden) {
				t.Errorf("Decide(%q, confirmed) = %v, want forbidden", actor, err)
			}
		}
		w := evaluatetest.New(t)
		w.Feed(evaluatetest.Hired(t, "E1", "2019-03-01"), evaluatetest.Claim(t, "X-1", "E1", "2024-01-10", "中信证券股份有限公司", "EV行业研讨会 咨询费"))
		c, ok := w.Open("E1")
		if !ok {
			t.Fatal("no case")
		}
		svc := &review.Service{Cases: w.Cases, Audit: w.Audit, Now: func() time.Time { return w.Now }}
		sys := review.Actor{ID: review.System, Roles: []string{auth.RoleEmployee, auth.RoleCompliance}}
		if _, err := svc.Decide(t.Context(), sys, c.ID, c.Version, review.StatusConfirmed, "automatic"); !errors.Is(err, review.ErrForbidden) {
			t.Errorf("a token named system with the compliance role confirms: %v", err)
		}
	})

	t.Run("no source file confirms as the system", func(t *testing.T) {
		root := moduleRoot(t)
		fset := token.NewFileSet()
		files := 0
		err := filepath.WalkDir(root, func(path string, de fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if de.IsDir() && (de.Name() == "node_modules" || de.Name() == "test-output" || strings.HasPrefix(de.Name(), ".")) {
				return filepath.SkipDir
			}
			if de.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			files++
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Decide" {
						for _, a := range n.Args {
							if mentionsSystem(a) {
								t.Errorf("%s: Decide is called with the system as its actor", fset.Position(n.Pos()))
							}
						}
					}
				case *ast.CompositeLit:
					if mentionsSystem(n) && mentionsConfirmed(n) {
						t.Errorf("%s: a confirmation by the system is built", fset.Position(n.Pos()))
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if files < 100 {
			t.Fatalf("scanned %d files under %s: not the module", files, root)
		}
	})
}

func moduleRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}

// mentionsSystem reports whether e is, or directly holds as a field or
// argument, the system actor (review.System, audit.SystemActor, "system").
func mentionsSystem(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name == "System" || e.Name == "SystemActor"
	case *ast.SelectorExpr:
		return e.Sel.Name == "System" || e.Sel.Name == "SystemActor"
	case *ast.BasicLit:
		return e.Value == `"system"`
	case *ast.CompositeLit:
		for _, el := range e.Elts {
			if kv, ok := el.(*ast.KeyValueExpr); ok && mentionsSystem(kv.Value) {
				return true
			}
		}
	case *ast.UnaryExpr:
		return mentionsSystem(e.X)
	}
	return false
}

func mentionsConfirmed(c *ast.CompositeLit) bool {
	for _, el := range c.Elts {
		kv, ok := el.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		switch v := kv.Value.(type) {
		case *ast.Ident:
			if v.Name == "StatusConfirmed" {
				return true
			}
		case *ast.SelectorExpr:
			if v.Sel.Name == "StatusConfirmed" {
				return true
			}
		case *ast.BasicLit:
			if v.Value == `"confirmed"` {
				return true
			}
		}
	}
	return false
}
