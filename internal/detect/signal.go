package detect

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/watchlist"
)

// Signal kinds.
const (
	KindExpenseClaim    = "expense_claim"
	KindCardTransaction = "card_transaction"
)

// Signal is an expense claim or card transaction that points at research
// work: it names a watchlisted counterparty, or it uses seminar vocabulary
// together with a brokerage, fund or expert network that is not on the list.
type Signal struct {
	Ref        event.Ref
	Kind       string // KindExpenseClaim or KindCardTransaction
	EmployeeID string
	// Date is the claim's incurred_on, or the card transaction's local date.
	Date        civil.Date
	Amount      event.Money
	Merchant    string
	Description string
	City        string

	// Counterparty is the watchlist's canonical name, or for an unlisted
	// firm the name as found in the text.
	Counterparty string
	// CounterpartyID is the watchlist id ("" when not watchlisted).
	CounterpartyID   string
	CounterpartyType string
	// AsMatched is the alias or text that named the counterparty.
	AsMatched string
	// Field is where it was named: "merchant", "attendees" or "description".
	Field string
	// Vocabulary lists the seminar words found, in configuration order.
	Vocabulary []string
}

// SignalOf returns the signal in an expense event, if it has one. It reads
// only the event: employment, projects and disclosures are Evaluate's concern.
func SignalOf(cfg Config, wl *watchlist.Watchlist, ev event.Event) (Signal, bool) {
	s := Signal{Ref: ev.Ref}
	var attendees []string
	switch d := ev.Data.(type) {
	case *event.ExpenseClaim:
		s.Kind, s.EmployeeID, s.Date, s.Amount = KindExpenseClaim, d.EmployeeID, d.IncurredOn, d.Amount
		s.Merchant, s.Description, s.City = d.Merchant, d.Description, d.City
		attendees = d.Attendees
	case *event.CardTransaction:
		s.Kind, s.EmployeeID, s.Amount = KindCardTransaction, d.EmployeeID, d.Amount
		s.Date = civil.Of(d.OccurredAt) // the date where the card was used (occurred_at's offset)
		s.Merchant, s.City = d.Merchant, d.City
	default:
		return Signal{}, false
	}
	if s.Date.IsZero() {
		return Signal{}, false
	}
	fields := []struct{ name, text string }{{"merchant", s.Merchant}}
	for _, a := range attendees {
		fields = append(fields, struct{ name, text string }{"attendees", a})
	}
	fields = append(fields, struct{ name, text string }{"description", s.Description})

	s.Vocabulary = vocabularyIn(cfg.Vocabulary, s.Merchant+" \n "+s.Description)
	for _, f := range fields {
		if m, ok := wl.Match(f.text); ok {
			s.Counterparty, s.CounterpartyID, s.CounterpartyType = m.Counterparty.Name, m.Counterparty.ID, m.Counterparty.Type
			s.AsMatched, s.Field = m.Alias, f.name
			return s, true
		}
	}
	if len(s.Vocabulary) == 0 {
		return Signal{}, false
	}
	// Seminar words alone (a conference at a hotel) are not a signal; with an
	// unlisted brokerage, fund or expert network they are.
	for _, f := range fields {
		if name, typ, ok := researchFirmIn(f.text, f.name == "description"); ok {
			s.Counterparty, s.CounterpartyType, s.AsMatched, s.Field = name, typ, name, f.name
			return s, true
		}
	}
	return Signal{}, false
}

// Words that mark a firm not on the watchlist as a research counterparty.
var firmTypeWords = []struct{ word, typ string }{
	{"专家网络", watchlist.TypeExpertNetwork},
	{"expert network", watchlist.TypeExpertNetwork},
	{"证券", watchlist.TypeBrokerage},
	{"securities", watchlist.TypeBrokerage},
	{"brokerage", watchlist.TypeBrokerage},
	{"基金", watchlist.TypeInvestmentFirm},
	{"资本", watchlist.TypeInvestmentFirm},
	{"资产管理", watchlist.TypeInvestmentFirm},
	{"投资", watchlist.TypeInvestmentFirm},
	{"私募", watchlist.TypeInvestmentFirm},
	{"capital", watchlist.TypeInvestmentFirm},
	{"asset management", watchlist.TypeInvestmentFirm},
	{"fund", watchlist.TypeInvestmentFirm},
	{"investment", watchlist.TypeInvestmentFirm},
}

// researchFirmIn finds a firm-type word in text and returns the firm's name:
// the whole field for a merchant or attendee, and for a description the
// Chinese phrase ending with the type word (up to 6 characters before it) or
// the whole description when the word is English.
func researchFirmIn(text string, inDescription bool) (name, typ string, ok bool) {
	folded := foldText(text)
	for _, tw := range firmTypeWords {
		i := strings.Index(folded, tw.word)
		if i < 0 || (!isHanWord(tw.word) && !wordAt(folded, i, len(tw.word))) {
			continue
		}
		if strings.HasPrefix(folded[i+len(tw.word):], "者") {
			continue // 投资者: investors (an investor-relations event), not a firm
		}
		if !inDescription || !isHanWord(tw.word) {
			return strings.TrimSpace(text), tw.typ, true
		}
		start := i
		for n := 0; n < 6 && start > 0; n++ {
			r := lastRune(folded[:start])
			if !unicode.Is(unicode.Han, r) {
				break
			}
			start -= len(string(r))
		}
		return folded[start : i+len(tw.word)], tw.typ, true
	}
	return "", "", false
}

// vocabularyIn returns the vocabulary words found in text, in list order.
func vocabularyIn(vocab []string, text string) []string {
	folded := foldText(text)
	var out []string
	for _, v := range vocab {
		fv := foldText(v)
		if fv == "" {
			continue
		}
		i := strings.Index(folded, fv)
		if i >= 0 && (isHanWord(fv) || wordAt(folded, i, len(fv))) && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// foldText is watchlist.Fold with punctuation turned into single spaces, so
// "Expert-Call" and "expert  call" read alike.
func foldText(s string) string {
	f := watchlist.Fold(s)
	var b strings.Builder
	b.Grow(len(f))
	space := false
	for _, r := range f {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
			continue
		}
		space = true
	}
	return b.String()
}

func isHanWord(s string) bool {
	for _, r := range s {
		return unicode.Is(unicode.Han, r)
	}
	return false
}

// wordAt reports whether folded[i:i+n] is not inside a longer Latin word.
func wordAt(folded string, i, n int) bool {
	before := i == 0 || !isLatinLetter(lastRune(folded[:i]))
	after := i+n >= len(folded) || !isLatinLetter(firstRune(folded[i+n:]))
	return before && after
}

func isLatinLetter(r rune) bool {
	return (unicode.IsLetter(r) || unicode.IsDigit(r)) && !unicode.Is(unicode.Han, r)
}

func lastRune(s string) rune {
	r, _ := utf8.DecodeLastRuneInString(s)
	return r
}

func firstRune(s string) rune {
	for _, r := range s {
		return r
	}
	return 0
}
