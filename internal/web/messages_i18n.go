package web

import (
	"golang.org/x/text/feature/plural"
	"golang.org/x/text/message/catalog"
)

// Messages of the i18n area: the profile page, the system actor, audit
// actions in words, and plural-aware counts.
var messagesI18nEN, messagesI18nZH = map[string]string{
	"nav.profile": "Profile", "profile.title": "Language and time zone",
	"profile.lead": "How Moonlight shows you pages and times. Saved with your account, so every browser you sign in with uses it.",
	"profile.lang": "Language", "profile.lang.browser": "As my browser asks",
	"profile.zone": "Time zone", "profile.zone.business": "The company's (%s)",
	"profile.zone.hint": "Times are shown on this clock with the zone named; dates are YYYY-MM-DD.",
	"profile.now":       "Now on your clock", "profile.submit": "Save",
	"profile.error.lang": "Choose one of the languages offered.", "profile.error.zone": "That is not an IANA time zone (for example Asia/Shanghai).",
	"flash.profile.saved": "Saved.",
	"footer.zone":         "Times in %s", "footer.zone.change": "change",
	"actor.system":            "Moonlight (automatic)",
	"list.sep":                ", ",
	"case.explanation.legacy": "Recorded in English before explanations were translated.",

	"audit.action.disclosure.create": "Declared", "audit.action.disclosure.edit": "Changed a declaration",
	"audit.action.disclosure.withdraw": "Withdrew a declaration", "audit.action.disclosure.decide": "Decided a declaration",
	"audit.action.disclosure.read": "Read a declaration", "audit.action.case.read": "Read a case", "audit.action.case.open": "Opened a case",
	"audit.action.case.assign": "Assigned a case", "audit.action.case.comment": "Commented on a case", "audit.action.case.decide": "Decided a case",
	"audit.action.case.auto_clear": "Cleared a case automatically", "audit.action.watchlist.reload": "Changed the rule set",
	"audit.action.rescan": "Started a rescan", "audit.action.access.denied": "Refused", "audit.action.session.revoke": "Revoked sessions",
	"audit.action.event.publish": "Published events",
	"rule.seminar-speaker-match": "Seminar speaker fits the employee",
}, map[string]string{
	"nav.profile": "个人设置", "profile.title": "语言和时区",
	"profile.lead": "Moonlight 如何向您显示页面和时间。设置随账号保存，您在任何浏览器登录都会使用。",
	"profile.lang": "语言", "profile.lang.browser": "跟随浏览器",
	"profile.zone": "时区", "profile.zone.business": "公司时区（%s）",
	"profile.zone.hint": "时间按此时区显示并注明时区；日期格式为 YYYY-MM-DD。",
	"profile.now":       "您所在时区的当前时间", "profile.submit": "保存",
	"profile.error.lang": "请选择所列语言之一。", "profile.error.zone": "这不是 IANA 时区名称（例如 Asia/Shanghai）。",
	"flash.profile.saved": "已保存。",
	"footer.zone":         "时间按 %s 显示", "footer.zone.change": "更改",
	"actor.system":            "Moonlight（自动）",
	"list.sep":                "、",
	"case.explanation.legacy": "此说明在翻译功能上线前以英文记录。",

	"audit.action.disclosure.create": "提交申报", "audit.action.disclosure.edit": "修改申报",
	"audit.action.disclosure.withdraw": "撤回申报", "audit.action.disclosure.decide": "审批申报",
	"audit.action.disclosure.read": "查看申报", "audit.action.case.read": "查看案件", "audit.action.case.open": "立案",
	"audit.action.case.assign": "分配案件", "audit.action.case.comment": "备注案件", "audit.action.case.decide": "决定案件",
	"audit.action.case.auto_clear": "自动排除案件", "audit.action.watchlist.reload": "修改规则集",
	"audit.action.rescan": "启动重新扫描", "audit.action.access.denied": "拒绝访问", "audit.action.session.revoke": "撤销会话",
	"audit.action.event.publish": "发布事件",
	"rule.seminar-speaker-match": "研讨会嘉宾与员工相符",
}

// pluralMessages are counts whose English form follows the CLDR plural
// rules (golang.org/x/text/feature/plural); Chinese has one form. The
// argument is the count.
var pluralMessages = map[string]struct{ one, other, zh string }{
	"count.findings": {"%d finding", "%d findings", "%d 项发现"},
	"count.cases":    {"%d case", "%d cases", "%d 个案件"},
	"count.entries":  {"%d entry", "%d entries", "%d 条记录"},
}

// addPlurals puts the plural messages in the catalogue, and their "other"
// forms in the maps (so Has and the missing-key check know them).
func addPlurals(b *catalog.Builder, en, zh map[string]string) {
	for k, m := range pluralMessages {
		_ = b.Set(langEN, k, plural.Selectf(1, "%d", plural.One, m.one, plural.Other, m.other))
		_ = b.SetString(langZH, k, m.zh)
		en[k], zh[k] = m.other, m.zh
	}
}
