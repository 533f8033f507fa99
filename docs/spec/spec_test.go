package spec

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestCopiesMatchShared checks that docs/spec/*.md are byte-for-byte the
// contracts in ../shared/spec/ (relative to the repository root). Outside the
// workspace that directory does not exist, and the copies are the reference.
func TestCopiesMatchShared(t *testing.T) {
	shared := filepath.Join("..", "..", "..", "shared", "spec")
	if _, err := os.Stat(shared); err != nil {
		t.Skipf("no %s (outside the workspace): nothing to compare", shared)
	}
	want, err := filepath.Glob(filepath.Join(shared, "*.md"))
	if err != nil || len(want) == 0 {
		t.Fatalf("no contracts in %s: %v", shared, err)
	}
	for _, src := range want {
		name := filepath.Base(src)
		orig, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		copied, err := os.ReadFile(name)
		if err != nil {
			t.Errorf("docs/spec/%s missing: copy it from %s", name, src)
			continue
		}
		if !bytes.Equal(orig, copied) {
			t.Errorf("docs/spec/%s differs from %s: copy it again", name, src)
		}
	}
	got, _ := filepath.Glob("*.md")
	if len(got) != len(want) {
		t.Errorf("docs/spec has %d contracts, %s has %d", len(got), shared, len(want))
	}
}
