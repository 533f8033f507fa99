package web

// Messages of the notification pages (the demo's mail box, the renewal of
// a declaration); TestCataloguesMatch checks both languages.
var messagesNotifyEN = map[string]string{
	"nav.mail": "Mail", "mail.title": "Mail sent",
	"mail.lead": "What Moonlight's notifications sent, as the demo's SMTP sink received it (newest first). In production mail goes to your SMTP server instead.",
	"mail.time": "Received", "mail.to": "To", "mail.subject": "Subject",
	"mail.none":        "No mail received yet.",
	"decl.renew":       "Renew",
	"decl.renews":      "Renews declaration",
	"decl.valid_until": "Approval valid until",
}

var messagesNotifyZH = map[string]string{
	"nav.mail": "邮件", "mail.title": "已发送邮件",
	"mail.lead": "Moonlight 通知发出的邮件，即演示环境 SMTP 接收端收到的内容（最新在前）。生产环境中邮件发往您的 SMTP 服务器。",
	"mail.time": "接收时间", "mail.to": "收件人", "mail.subject": "主题",
	"mail.none":        "尚未收到邮件。",
	"decl.renew":       "续期",
	"decl.renews":      "续期自申报",
	"decl.valid_until": "批准有效期至",
}
