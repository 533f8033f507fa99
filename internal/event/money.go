package event

import (
	"strconv"
	"strings"
)

// maxDecimalLen bounds an amount's canonical form: no real amount needs more, and it keeps
// a JSON number like 1e999999999 from becoming a billion-digit string.
const maxDecimalLen = 40

// canonicalDecimal returns s, a decimal string or a JSON number, in canonical form: an
// optional "-", the integer digits without leading zeros, and the fraction digits as given
// ("3000" stays "3000", "3000.50" stays "3000.50", "0030.5" becomes "30.5", 1.5e3 becomes
// "1500", "-0" becomes "0"). The canonical form of a canonical form is itself, so decoded
// amounts survive Encode and Decode unchanged. It reports false for anything else.
func canonicalDecimal(s string) (string, bool) {
	neg := false
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		neg, s = true, rest
	}
	mant, expText, hasExp := strings.Cut(strings.ToLower(s), "e")
	exp := 0
	if hasExp {
		e, err := strconv.Atoi(expText) // accepts a sign, as JSON exponents have
		if err != nil || e > maxDecimalLen || e < -maxDecimalLen || !isDigits(strings.TrimLeft(expText, "+-")) {
			return "", false
		}
		exp = e
	}
	intPart, frac, hasDot := strings.Cut(mant, ".")
	if !isDigits(intPart) || (hasDot && !isDigits(frac)) {
		return "", false
	}
	if exp != 0 {
		digits := intPart + frac
		point := len(intPart) + exp
		switch {
		case point <= 0:
			intPart, frac = "0", strings.Repeat("0", -point)+digits
		case point >= len(digits):
			intPart, frac = digits+strings.Repeat("0", point-len(digits)), ""
		default:
			intPart, frac = digits[:point], digits[point:]
		}
	}
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	if strings.Trim(intPart+frac, "0") == "" {
		neg = false // -0 is 0
	}
	var b strings.Builder
	b.Grow(len(intPart) + len(frac) + 2)
	if neg {
		b.WriteByte('-')
	}
	b.WriteString(intPart)
	if frac != "" {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	if b.Len() > maxDecimalLen {
		return "", false
	}
	return b.String(), true
}

// isDigits reports whether s is one or more ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
