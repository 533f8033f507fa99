package web

import (
	"context"
	"errors"
	"net/http"
	"sort"

	"github.com/gin-gonic/gin"

	"github.com/moonlight-oss/moonlight/internal/ingest"
)

// DeadLetters counts dead letters by reason code for admins
// (ingest.DeadLetterBoard, which decides who may and audits a refusal).
type DeadLetters interface {
	Counts(ctx context.Context, v ingest.Viewer, limit int) (map[string]int, bool, error)
}

// deadLetterScanLimit bounds one page view's read of the dead-letter topics.
const deadLetterScanLimit = 100_000

type deadLetterRow struct {
	Reason string
	Count  int
}

type deadLettersData struct {
	Rows  []deadLetterRow
	Total int
	More  bool
}

// deadLetters shows how many messages were dead-lettered for each reason:
// counts only (no payloads, which are personal data); `moonlight dlq` shows
// and replays them.
func (u *UI) deadLetters(c *gin.Context) {
	s := sessionOf(c)
	counts, more, err := u.d.DeadLetters.Counts(c.Request.Context(),
		ingest.Viewer{ID: s.Subject, Roles: s.Roles, RequestID: c.GetString("request_id")}, deadLetterScanLimit)
	if errors.Is(err, ingest.ErrDeadLettersForbidden) {
		u.errorPage(c, http.StatusForbidden, "error.forbidden")
		return
	}
	if err != nil {
		u.fail(c, wrapf(err, "count dead letters"))
		return
	}
	data := deadLettersData{More: more}
	for r, n := range counts {
		data.Rows = append(data.Rows, deadLetterRow{r, n})
		data.Total += n
	}
	sort.Slice(data.Rows, func(i, j int) bool {
		if data.Rows[i].Count != data.Rows[j].Count {
			return data.Rows[i].Count > data.Rows[j].Count
		}
		return data.Rows[i].Reason < data.Rows[j].Reason
	})
	u.render(c, http.StatusOK, "deadletters", "dlq.title", data)
}

// The page's messages, kept here so the catalogues in messages.go stay
// untouched by this page; TestCataloguesMatch checks both languages.
var messagesDLQEN = map[string]string{
	"nav.deadletters": "Dead letters", "dlq.title": "Dead letters",
	"dlq.lead":   "Messages the consumer refused, by reason. Each keeps its original bytes and headers in <topic>.dlq.",
	"dlq.reason": "Reason", "dlq.count": "Messages", "dlq.total": "Total", "dlq.none": "No dead letters.",
	"dlq.more": "Only the first 100,000 dead letters were counted.",
	"dlq.hint": "List, show and replay them with moonlight dlq list | show ID | replay (after fixing the cause).",
}

var messagesDLQZH = map[string]string{
	"nav.deadletters": "死信", "dlq.title": "死信",
	"dlq.lead":   "消费者拒收的消息，按原因统计。每条消息连同原始内容和消息头保存在 <topic>.dlq 中。",
	"dlq.reason": "原因", "dlq.count": "消息数", "dlq.total": "合计", "dlq.none": "没有死信。",
	"dlq.more": "仅统计了前 100,000 条死信。",
	"dlq.hint": "用 moonlight dlq list | show ID | replay 查看和重放（先修复原因）。",
}
