package watchlist

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// TestLookalikesMatchNothing proves the distinctive-alias discipline on the
// look-alike list: other businesses that share a prefix or word with a
// registry entry must not match any entry, in any script.
func TestLookalikesMatchNothing(t *testing.T) {
	w := defaultList(t)
	f, err := os.Open("testdata/lookalikes.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		n++
		if m, ok := w.Match(line); ok {
			t.Errorf("look-alike %q matches %s (alias %q)", line, m.Counterparty.ID, m.Alias)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 300 {
		t.Errorf("look-alike list has %d names, want at least 300 (it grows with the registry)", n)
	}
	t.Logf("%d look-alikes, none matches", n)
}
