package web

import (
	"context"
	"net/http"

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
