package detect

import (
	"errors"
	"fmt"
	"os"

	"github.com/goccy/go-yaml"
)

// Config holds the tunable parts of detection (configs/rules.yaml).
type Config struct {
	// BlackoutDays: days before a confidential/secret project's launch date
	// during which outside research contact is sensitive.
	BlackoutDays int `yaml:"blackout_days" json:"blackout_days"`
	// CoolingOffDays: days after employment ends during which activity is
	// still reported (at low severity).
	CoolingOffDays int `yaml:"cooling_off_days" json:"cooling_off_days"`
	// CoverageSlackDays: an approved disclosure covers findings this many days
	// before its start or after its end (expenses are often dated a day off).
	CoverageSlackDays int `yaml:"coverage_slack_days" json:"coverage_slack_days"`
	// SeminarWindowDays: a reported seminar corroborates an expense this many
	// days either side of it.
	SeminarWindowDays int `yaml:"seminar_window_days" json:"seminar_window_days"`

	Frequency Frequency `yaml:"frequency" json:"frequency"`
	// Weights are the points each rule's finding adds to a case score.
	Weights map[string]int `yaml:"weights" json:"weights"`
	// Bonus points added to a finding's weight.
	Bonus Bonus `yaml:"bonus" json:"bonus"`
	// CoolingOffPoints replaces the weight of a finding in the cooling-off period.
	CoolingOffPoints int                `yaml:"cooling_off_points" json:"cooling_off_points"`
	Severity         SeverityThresholds `yaml:"severity" json:"severity"`
	// MaxScore caps a case score.
	MaxScore int `yaml:"max_score" json:"max_score"`

	// Speaker: matching seminar reports' speaker descriptors to employees.
	Speaker Speaker `yaml:"speaker" json:"speaker"`

	// Vocabulary: words that mark an expense as a research seminar, expert
	// call or consulting fee. Matched case- and width-insensitively.
	Vocabulary []string `yaml:"vocabulary" json:"vocabulary"`
}

// Frequency thresholds, per employee and calendar quarter.
type Frequency struct {
	// Count: this many activities (engagements and expense signals) in a
	// quarter give a medium `frequency` finding; HighCount a high one.
	Count     int `yaml:"count" json:"count"`
	HighCount int `yaml:"high_count" json:"high_count"`
	// Compensation by ISO 4217 currency: declared compensation totals at or
	// above Compensation give a medium finding, at or above HighCompensation
	// a high one. Currencies not listed are not summed.
	Compensation     map[string]float64 `yaml:"compensation" json:"compensation"`
	HighCompensation map[string]float64 `yaml:"high_compensation" json:"high_compensation"`
}

// Bonus points.
type Bonus struct {
	// Blackout: the finding falls in a confidential project's blackout window.
	Blackout int `yaml:"blackout" json:"blackout"`
	// Seminar: a reported seminar corroborates the expense.
	Seminar int `yaml:"seminar" json:"seminar"`
	// Vocabulary: the expense text names a seminar, expert call or fee.
	Vocabulary int `yaml:"vocabulary" json:"vocabulary"`
}

// SeverityThresholds raise a case's severity by its score: a case is at
// least Medium at Medium points and High at High points.
type SeverityThresholds struct {
	Medium int `yaml:"medium" json:"medium"`
	High   int `yaml:"high" json:"high"`
}

// DefaultConfig returns the built-in rules configuration; configs/rules.yaml
// holds the same values.
func DefaultConfig() Config {
	return Config{
		BlackoutDays:      90,
		CoolingOffDays:    180,
		CoverageSlackDays: 1,
		SeminarWindowDays: 1,
		Frequency: Frequency{
			Count:            3,
			HighCount:        6,
			Compensation:     map[string]float64{"CNY": 20000, "USD": 3000, "HKD": 22000, "EUR": 2800},
			HighCompensation: map[string]float64{"CNY": 50000, "USD": 7000, "HKD": 55000, "EUR": 6500},
		},
		Weights: map[string]int{
			RuleExpense:    30,
			RuleUnapproved: 30,
			RuleBlackout:   25,
			RuleFrequency:  15,
		},
		Bonus:            Bonus{Blackout: 20, Seminar: 10, Vocabulary: 10},
		CoolingOffPoints: 5,
		Severity:         SeverityThresholds{Medium: 30, High: 70},
		Speaker: Speaker{
			CompanyNames:        []string{"Moonlight Motors", "月光汽车"},
			CompanyDescriptions: []string{"新能源车企", "新能源汽车企业", "新能源汽车公司", "造车新势力", "车企", "EV maker", "EV carmaker", "carmaker", "automaker", "electric vehicle maker"},
			Points:              20,
		},
		MaxScore: 100,
		Vocabulary: []string{
			"研讨会", "交流会", "专家会议", "专家访谈", "专家咨询", "专家电话", "电话会", "闭门会", "策略会",
			"调研", "纪要", "路演", "咨询费", "顾问费", "访谈费", "讲课费",
			"expert call", "expert interview", "expert network", "expert consultation", "channel check",
			"research seminar", "industry seminar", "roadshow", "road show", "consulting fee",
			"consultation fee", "advisory fee", "speaker fee", "honorarium",
		},
	}
}

// LoadConfig reads a rules YAML file over DefaultConfig: keys it leaves out
// keep their defaults (maps and lists given replace the default whole).
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read rules: %w", err)
	}
	cfg, err := ParseConfig(b)
	if err != nil {
		return Config{}, fmt.Errorf("rules %s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig reads rules YAML over DefaultConfig and validates the result.
func ParseConfig(b []byte) (Config, error) {
	cfg := DefaultConfig()
	// Maps decode by merging into the defaults; a given map should replace them.
	cfg.Weights, cfg.Frequency.Compensation, cfg.Frequency.HighCompensation = nil, nil, nil
	if err := yaml.UnmarshalWithOptions(b, &cfg, yaml.Strict()); err != nil {
		return Config{}, fmt.Errorf("parse rules: %w", err)
	}
	def := DefaultConfig()
	if cfg.Weights == nil {
		cfg.Weights = def.Weights
	}
	if cfg.Frequency.Compensation == nil {
		cfg.Frequency.Compensation = def.Frequency.Compensation
	}
	if cfg.Frequency.HighCompensation == nil {
		cfg.Frequency.HighCompensation = def.Frequency.HighCompensation
	}
	return cfg, cfg.Validate()
}

// Validate reports every invalid setting.
func (c Config) Validate() error {
	var errs []error
	nonNeg := map[string]int{
		"blackout_days": c.BlackoutDays, "cooling_off_days": c.CoolingOffDays,
		"coverage_slack_days": c.CoverageSlackDays, "seminar_window_days": c.SeminarWindowDays,
		"bonus.blackout": c.Bonus.Blackout, "bonus.seminar": c.Bonus.Seminar, "bonus.vocabulary": c.Bonus.Vocabulary,
		"cooling_off_points": c.CoolingOffPoints, "speaker.points": c.Speaker.Points,
	}
	for _, k := range []string{"blackout_days", "cooling_off_days", "coverage_slack_days", "seminar_window_days",
		"bonus.blackout", "bonus.seminar", "bonus.vocabulary", "cooling_off_points", "speaker.points"} {
		if nonNeg[k] < 0 {
			errs = append(errs, fmt.Errorf("%s must not be negative", k))
		}
	}
	for _, r := range Rules() {
		if w, ok := c.Weights[r]; !ok || w < 0 {
			errs = append(errs, fmt.Errorf("weights.%s must be given and not negative", r))
		}
	}
	for r := range c.Weights {
		if !isRule(r) {
			errs = append(errs, fmt.Errorf("weights.%s: unknown rule", r))
		}
	}
	if c.Frequency.Count < 1 || c.Frequency.HighCount < c.Frequency.Count {
		errs = append(errs, errors.New("frequency: need 1 <= count <= high_count"))
	}
	for cur, v := range c.Frequency.Compensation {
		if h, ok := c.Frequency.HighCompensation[cur]; v <= 0 || (ok && h < v) {
			errs = append(errs, fmt.Errorf("frequency.compensation.%s: need 0 < compensation <= high_compensation", cur))
		}
	}
	if c.Severity.Medium < 1 || c.Severity.High < c.Severity.Medium {
		errs = append(errs, errors.New("severity: need 1 <= medium <= high"))
	}
	if c.MaxScore < 1 {
		errs = append(errs, errors.New("max_score must be positive"))
	}
	for i, v := range c.Vocabulary {
		if foldText(v) == "" {
			errs = append(errs, fmt.Errorf("vocabulary[%d] is empty", i))
		}
	}
	return errors.Join(errs...)
}
