package evaluate

import (
	"fmt"
	"os"
	"sync/atomic"

	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/review"
	"github.com/moonlight-oss/moonlight/internal/watchlist"
)

// RuleSet is the detection configuration and watchlist in force.
type RuleSet struct {
	Config    detect.Config
	Watchlist *watchlist.Watchlist
}

// RuleHolder holds the rule set; Reload swaps it atomically, so readers never
// see half of a change.
type RuleHolder struct {
	p                          atomic.Pointer[RuleSet]
	rulesFile, watchlistFile   string
	defaultRules, defaultWatch []byte
}

// NewRuleHolder loads the files (or, when a path is empty, the given defaults).
func NewRuleHolder(rulesFile, watchlistFile string, defaultRules, defaultWatchlist []byte) (*RuleHolder, error) {
	h := &RuleHolder{rulesFile: rulesFile, watchlistFile: watchlistFile, defaultRules: defaultRules, defaultWatch: defaultWatchlist}
	if _, err := h.Reload(); err != nil {
		return nil, err
	}
	return h, nil
}

// Current implements Rules.
func (h *RuleHolder) Current() (detect.Config, *watchlist.Watchlist) {
	rs := h.p.Load()
	return rs.Config, rs.Watchlist
}

// Version implements Rules: rules read from files have no stored version.
func (h *RuleHolder) Version() int64 { return 0 }

// StampRulesVersion records in each finding the rule-set version that
// produced it. A finding the open case already has unchanged keeps the
// version that first produced it, so a new version that changes nothing
// about a finding does not rewrite the case.
func StampRulesVersion(fs []detect.Finding, open *review.Case, version int64) {
	var old map[string]detect.Finding
	if open != nil {
		old = make(map[string]detect.Finding, len(open.Findings))
		for _, f := range open.Findings {
			old[f.ID] = f
		}
	}
	for i := range fs {
		if o, ok := old[fs[i].ID]; ok && review.SameFindings([]detect.Finding{o}, fs[i:i+1]) {
			fs[i].RulesVersion = o.RulesVersion
			continue
		}
		fs[i].RulesVersion = version
	}
}

// Reload reads the rules and watchlist again; on error the old set stays.
func (h *RuleHolder) Reload() (RuleSet, error) {
	rb, err := readOr(h.rulesFile, h.defaultRules)
	if err != nil {
		return RuleSet{}, err
	}
	cfg, err := detect.ParseConfig(rb)
	if err != nil {
		return RuleSet{}, fmt.Errorf("rules %s: %w", nameOr(h.rulesFile), err)
	}
	wb, err := readOr(h.watchlistFile, h.defaultWatch)
	if err != nil {
		return RuleSet{}, err
	}
	wl, err := watchlist.Parse(wb)
	if err != nil {
		return RuleSet{}, fmt.Errorf("watchlist %s: %w", nameOr(h.watchlistFile), err)
	}
	rs := RuleSet{Config: cfg, Watchlist: wl}
	h.p.Store(&rs)
	return rs, nil
}

func readOr(path string, def []byte) ([]byte, error) {
	if path == "" {
		return def, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil
}

func nameOr(path string) string {
	if path == "" {
		return "(built-in)"
	}
	return path
}
