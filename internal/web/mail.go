package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/moonlight-oss/moonlight/internal/smtpsink"
)

// MailBox is what the demo's SMTP sink received (stored in MongoDB, so
// every replica shows the same).
type MailBox interface {
	Recent(ctx context.Context, limit int) ([]smtpsink.Mail, error)
}

type mailData struct {
	Mails []smtpsink.Mail
}

// mailPage lists the mails the demo's sink received, newest first: what
// Moonlight told people. Admins only: the mails name employees.
func (u *UI) mailPage(c *gin.Context) {
	ms, err := u.d.Mail.Recent(c.Request.Context(), 200)
	if err != nil {
		u.fail(c, wrapf(err, "read received mail"))
		return
	}
	u.render(c, http.StatusOK, "mail", "mail.title", mailData{Mails: ms})
}

// Profiles keeps people's preferred language for notifications.
type Profiles interface {
	SetLanguage(ctx context.Context, id, lang string) error
}

// rememberLanguage records the language a signed-in person switched to as
// the language of their notifications. A failure only costs the mails
// their old language, so it is logged, not shown.
func (u *UI) rememberLanguage(c *gin.Context, code string) {
	id := sessionOf(c).Subject
	if u.d.Profiles == nil || id == "" {
		return
	}
	lang := "en"
	if strings.HasPrefix(code, "zh") {
		lang = "zh"
	}
	if err := u.d.Profiles.SetLanguage(c.Request.Context(), id, lang); err != nil {
		u.log.Warn("web: language not kept for notifications", "employee_id", id, "err", err)
	}
}
