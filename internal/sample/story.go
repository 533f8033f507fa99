package sample

import (
	"fmt"
	"strings"
	"time"

	"github.com/moonlight-oss/moonlight/internal/civil"
)

// Days of the story, from today. The seminars fall two to three months before
// MS11's launch (LaunchMS11).
const (
	dayCITIC       = -62  // 中信证券 EV supply-chain seminar
	dayHuatai      = -48  // 华泰证券 EV supply-chain seminar
	dayCapvision   = -45  // 凯盛融英 expert interview
	dayGuotaiJunan = -40  // 国泰君安 electric-drive expert meeting
	dayAlphaSights = -90  // AlphaSights call that compliance rejected
	dayGLG         = -105 // GLG interview 15 days after Zhou Jie left (-120)
	dayLongAfter   = -40  // Capvision interview 460 days after Wu Ting left (-500)
	dayLookalike   = -130 // Nanjing dealer conference: hotel and restaurant look-alikes
	dayAcademic    = -30  // unpaid talk at Tongji University
	daySAE         = -75  // academic conference fee
	dayPending     = 14   // Third Bridge call declared, not yet decided
)

// story emits the expenses the demo's cases come from, and the innocent ones
// that look alike. Claim and transaction ids are in their own 900000 range.
func (g *generator) story() {
	g.storyClaim("EXP-900001", "E1012", dayCITIC, "中信证券股份有限公司", "other", "3000.00",
		"新能源车产业链专家交流会 咨询费", "上海", "中信证券研究部")
	g.storyClaim("EXP-900002", "E1012", dayGuotaiJunan, "滴滴出行", "taxi", "46.80",
		"往返国泰君安证券 新能源车电驱专家交流会", "上海")

	g.storyClaim("EXP-900003", "E1015", dayHuatai, "滴滴出行", "taxi", "38.50",
		"华泰证券 新能源汽车产业链研讨会 往返打车", "上海")
	g.storyClaim("EXP-900004", "E1015", dayCapvision, "滴滴出行", "taxi", "52.30",
		"凯盛融英 专家访谈 打车", "上海")

	g.storyClaim("EXP-900005", "E1020", dayCITIC, "海底捞火锅(陆家嘴店)", "meals", "856.00",
		"新能源车产业链交流会后工作晚餐", "上海", "中信证券研究部 分析师", "张伟")

	g.storyClaim("EXP-900006", "E1022", dayHuatai, "滴滴出行", "taxi", "41.20",
		"华泰证券 新能源汽车产业链研讨会 打车", "上海")

	g.storyClaim("EXP-900007", "E1070", dayAlphaSights, "滴滴出行", "taxi", "35.00",
		"AlphaSights 专家访谈 往返", "武汉")

	g.storyClaim("EXP-900008", "E1055", dayGLG, "滴滴出行", "taxi", "58.60",
		"GLG格理 自动驾驶感知专家访谈 打车", "深圳")

	g.storyClaim("EXP-900009", "E1036", dayLongAfter, "滴滴出行", "taxi", "44.00",
		"凯盛融英 智能座舱专家访谈 打车", "深圳")

	g.storyClaim("EXP-900010", "E1062", dayLookalike, "南京华泰大酒店", "hotel", "916.00",
		"南京经销商大会 住宿2晚", "南京")
	g.storyClaim("EXP-900011", "E1062", dayLookalike-1, "国泰餐厅", "meals", "486.00",
		"经销商晚宴", "南京", "南京经销商 陈总", "南京经销商 周总")
	g.storyCard("TXN-90000001", "E1062", dayLookalike+1, merchant{name: "天风茶馆", mcc: "5812"}, "168.00", "南京")
	g.storyCard("TXN-90000002", "E1062", dayAcademic+2, merchant{name: "中信书店(国贸店)", mcc: "5942"}, "128.00", "北京")

	g.storyClaim("EXP-900012", "E1031", dayAcademic, "滴滴出行", "taxi", "62.00",
		"同济大学嘉定校区 学术讲座 往返", "上海")
	g.storyClaim("EXP-900013", "E1031", daySAE, "中国汽车工程学会", "conference", "1200.00",
		"智能座舱与人机交互技术研讨会 注册费", "深圳")

	g.storyClaim("EXP-900014", "E1071", -70, "Starbucks 星巴克(光谷店)", "meals", "96.00",
		"供应商调研 咖啡", "武汉", "宁德时代 采购部 李经理")

	g.storyClaim("EXP-900015", "E1063", -55, "国家会展中心(上海)", "other", "8800.00",
		"品牌路演 场地费", "上海")
}

// storyClaim emits a claim submitted three days after it was incurred.
func (g *generator) storyClaim(id, employee string, n int, merchantName, category, amount, desc, city string, attendees ...string) {
	g.emit(TopicExpense, employee, SourceExpense, "expense.claim.submitted", employee, id,
		g.at(min(n+3, -1), 16, 20), claimData{
			ClaimID: id, EmployeeID: employee, IncurredOn: g.day(n), Amount: amount, Currency: "CNY",
			Merchant: merchantName, Category: category, Description: desc, City: city, Attendees: attendees,
		})
}

func (g *generator) storyCard(id, employee string, n int, m merchant, amount, city string) {
	at := g.at(n, 20, 15)
	g.emit(TopicExpense, employee, SourceCard, "expense.card.transaction", employee, id, at.Add(2*time.Minute), cardData{
		TransactionID: id, EmployeeID: employee, OccurredAt: at.Format(time.RFC3339), Amount: amount, Currency: "CNY",
		Merchant: m.name, MCC: m.mcc, City: city,
	})
}

// seminar is a report of an external research event.
type seminar struct {
	code, organizer, title, city string
	day                          int
	paid                         bool
	speakers                     []string
}

func seminars() []seminar {
	return []seminar{
		{"CITICS", "中信证券", "新能源汽车产业链研讨会：800V电驱平台与新车型量产节奏", "上海", dayCITIC, true,
			[]string{"某新能源车企电驱研发负责人", "某新势力车企热管理专家"}},
		{"HTSC", "华泰证券", "新能源汽车产业链研讨会：动力电池技术路线与供应链", "上海", dayHuatai, true,
			[]string{"某新能源车企电池系统工程师", "某新能源车企电驱高级工程师", "某头部电池厂前销售总监"}},
		{"CAPVISION", "凯盛融英", "专家访谈纪要：某新能源车企中型轿车新品电池包方案与定价", "上海", dayCapvision, true,
			[]string{"某新能源车企电池系统工程师"}},
		{"GTJA", "国泰君安证券", "新能源车电驱专家交流会", "上海", dayGuotaiJunan, true,
			[]string{"某新能源车企电驱研发负责人"}},
		{"CICC", "中金公司", "智能驾驶产业链调研纪要", "北京", -150, false,
			[]string{"某自动驾驶公司感知算法专家"}},
		{"GLG", "GLG", "China ADAS perception: expert call", "深圳", dayGLG, true,
			[]string{"Former perception engineer at a Chinese EV maker"}},
		{"ALPHASIGHTS", "AlphaSights", "动力电池供应链专家访谈", "武汉", dayAlphaSights, true,
			[]string{"某新能源车企供应链总监"}},
		{"TFZQ", "天风证券", "智能座舱行业交流会", "深圳", -200, true,
			[]string{"某座舱Tier1产品总监"}},
	}
}

// seminarID is the intel system's id of s: its date and organiser.
func (g *generator) seminarID(s seminar) string {
	return "SEM-" + strings.ReplaceAll(g.day(s.day).String(), "-", "") + "-" + s.code
}

// intel emits the seminar reports, each a day after the seminar.
func (g *generator) intel() {
	for _, s := range seminars() {
		id := g.seminarID(s)
		g.emit(TopicIntel, id, SourceIntel, "intel.seminar.reported", "", "seminar/"+s.code, g.at(s.day+1, 11, 0), seminarData{
			SeminarID: id, Organizer: s.organizer, Title: s.title, Date: g.day(s.day), City: s.city, Paid: s.paid,
			SpeakerDescriptors: s.speakers,
			SourceURL:          fmt.Sprintf("https://research.example.com/minutes/%s", strings.ToLower(id)),
		})
	}
}

// StoryItem is one character of the sample story and what Moonlight should make of them.
type StoryItem struct {
	EmployeeID string
	Name       string
	Role       string // title, department and projects that matter
	Did        string // what happened, with dates
	Expect     string // the expected outcome and the rules behind it
	Case       bool   // an open case is expected
	Severity   string // expected severity when Case: low, medium or high
}

// Story lists who in the sample set (generated for the same day of now)
// should get a case and why, and the look-alikes that should not.
func Story(now time.Time) []StoryItem {
	g := &generator{today: Today(now)}
	d := func(n int) string { return g.day(n).String() }
	ms11 := "on confidential project MS11 (Moonshot 11 sedan, launch " + d(LaunchMS11) + ")"
	return []StoryItem{
		{"E1012", "张伟", "Senior Motor Control Engineer, EV Powertrain, " + ms11,
			"Claimed a 3000.00 CNY 咨询费 from 中信证券股份有限公司 for a 新能源车产业链专家交流会 on " + d(dayCITIC) +
				" (the intel report of that seminar lists a speaker '某新能源车企电驱研发负责人'), and a taxi to a 国泰君安证券 " +
				"electric-drive expert meeting on " + d(dayGuotaiJunan) + ". Nothing declared.",
			"Case, high: expense-at-research-counterparty (CITIC Securities, Guotai Junan) while employed, raised by " +
				"confidential-project-blackout (MS11 launches within the window).", true, "high"},
		{"E1015", "李娜", "Battery Systems Engineer, EV Powertrain, " + ms11 + "; resigned " + d(-20),
			"Taxi to a 华泰证券 新能源汽车产业链研讨会 on " + d(dayHuatai) + " and to a 凯盛融英 (Capvision) expert interview on " +
				d(dayCapvision) + ", both while employed and on MS11. Nothing declared.",
			"Case, high: expense-at-research-counterparty (Huatai Securities, Capvision) with confidential-project-blackout; " +
				"leaving later does not excuse engagements made while employed.", true, "high"},
		{"E1020", "陈静", "Thermal Management Lead, EV Powertrain, " + ms11,
			"Claimed an 856.00 CNY dinner after the 中信证券 seminar on " + d(dayCITIC) + " with attendees '中信证券研究部 分析师' and 张伟.",
			"Case, high: expense-at-research-counterparty (CITIC Securities, named among the attendees) with confidential-project-blackout.",
			true, "high"},
		{"E1022", "赵敏", "Senior Electric Drive Engineer, EV Powertrain, on internal project EP7 (not MS11)",
			"Took a taxi to the same 华泰证券 seminar on " + d(dayHuatai) + ", but declared the paid talk and compliance approved it.",
			"No open case: the finding is covered_by the approved disclosure (a case opened before the approval is cleared automatically).",
			false, ""},
		{"E1070", "孙浩", "Supply Chain Director",
			"Declared an AlphaSights expert call on " + d(dayAlphaSights) + "; compliance rejected it; he claimed the taxi to it anyway.",
			"Case, high: unapproved-engagement (disclosure rejected, date passed); the AlphaSights taxi claim confirms he went anyway.",
			true, "high"},
		{"E1055", "周杰", "Senior Perception Engineer, Autonomous Driving; resigned " + d(-120),
			"Claimed a taxi to a GLG (格理) expert interview on " + d(dayGLG) + ", 15 days after leaving.",
			"Case, low: expense-at-research-counterparty inside the cooling-off period after termination.", true, "low"},
		{"E1036", "吴婷", "Smart Cabin Product Manager; resigned " + d(-500),
			"Claimed a taxi to a 凯盛融英 expert interview on " + d(dayLongAfter) + ", 460 days after leaving.",
			"No case: long after the cooling-off period, no longer an employee.", false, ""},
		{"E1062", "刘洋", "Channel Marketing Manager, Marketing",
			"Stayed at 南京华泰大酒店, dined at 国泰餐厅 and 天风茶馆 around " + d(dayLookalike) + ", bought books at 中信书店.",
			"No case: the names only resemble 华泰证券, 国泰君安, 天风证券 and 中信证券.", false, ""},
		{"E1031", "杨帆", "HMI Design Lead, Smart Cabin",
			"Gave an unpaid talk at 同济大学汽车学院 on " + d(dayAcademic) + " (pre-approved) and paid an academic " +
				"研讨会 fee to 中国汽车工程学会 on " + d(daySAE) + ".",
			"No case: academic organiser, no research counterparty.", false, ""},
		{"E1071", "徐丽", "Battery Procurement Manager, Supply Chain",
			"Starbucks with a CATL buyer, described as 供应商调研.",
			"No case: seminar vocabulary without a research counterparty.", false, ""},
		{"E1063", "范思", "Brand Events Specialist, Marketing",
			"Paid 8800.00 CNY for a 品牌路演 venue.",
			"No case: a marketing roadshow, no research counterparty.", false, ""},
		{"E1052", "宋佳", "Planning and Control Engineer, Autonomous Driving",
			"Declared a paid Third Bridge (高临) expert call for " + d(dayPending) + "; still pending.",
			"No case: the date has not passed. A reviewer can approve or reject it in the demo.", false, ""},
	}
}

// SampleDisclosure is a declaration the demo submits through the HTTP API
// (POST /api/v1/me/disclosures as EmployeeID), then decides as DecidedBy with
// DeciderRole unless it is already in WantStatus (pre-approved by policy).
type SampleDisclosure struct {
	EmployeeID  string
	Body        DisclosureBody
	Decision    string // "approve", "reject", or "" to leave it pending
	DecidedBy   string // employee id of the decider
	DeciderRole string // "compliance" or "manager"
	Comment     string
	WantStatus  string // "approved", "rejected" or "pending" once the demo is done
}

// DisclosureBody is the request body of POST /api/v1/me/disclosures.
type DisclosureBody struct {
	Kind             string        `json:"kind"`
	Counterparty     string        `json:"counterparty"`
	CounterpartyType string        `json:"counterparty_type"`
	Topic            string        `json:"topic"`
	StartDate        civil.Date    `json:"start_date"`
	EndDate          civil.Date    `json:"end_date"`
	Paid             bool          `json:"paid"`
	Compensation     *Compensation `json:"compensation,omitempty"`
}

// Compensation is a decimal amount and an ISO 4217 currency.
type Compensation struct {
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
}

// ComplianceOfficer is who decides the sample disclosures that need compliance.
const ComplianceOfficer = "E1045"

// Disclosures returns the sample declarations, dated for the day of now.
func Disclosures(now time.Time) []SampleDisclosure {
	g := &generator{today: Today(now)}
	return []SampleDisclosure{
		{
			EmployeeID: "E1022",
			Body: DisclosureBody{
				Kind: "paid_seminar", Counterparty: "华泰证券", CounterpartyType: "brokerage",
				Topic:     "新能源汽车产业链研讨会：电驱动技术趋势（仅公开信息）",
				StartDate: g.day(dayHuatai), EndDate: g.day(dayHuatai), Paid: true,
				Compensation: &Compensation{Amount: "3000.00", Currency: "CNY"},
			},
			Decision: "approve", DecidedBy: ComplianceOfficer, DeciderRole: "compliance",
			Comment:    "批准：未参与保密项目，仅涉及公开的技术趋势。",
			WantStatus: "approved",
		},
		{
			EmployeeID: "E1052",
			Body: DisclosureBody{
				Kind: "expert_call", Counterparty: "Third Bridge 高临", CounterpartyType: "expert_network",
				Topic:     "自动驾驶域控芯片国产化",
				StartDate: g.day(dayPending), EndDate: g.day(dayPending), Paid: true,
				Compensation: &Compensation{Amount: "2000.00", Currency: "CNY"},
			},
			WantStatus: "pending",
		},
		{
			EmployeeID: "E1070",
			Body: DisclosureBody{
				Kind: "expert_call", Counterparty: "AlphaSights", CounterpartyType: "expert_network",
				Topic:     "动力电池供应链格局",
				StartDate: g.day(dayAlphaSights), EndDate: g.day(dayAlphaSights), Paid: true,
				Compensation: &Compensation{Amount: "2500.00", Currency: "CNY"},
			},
			Decision: "reject", DecidedBy: ComplianceOfficer, DeciderRole: "compliance",
			Comment:    "拒绝：主题与正在进行的供应商谈判重叠。",
			WantStatus: "rejected",
		},
		{
			EmployeeID: "E1031",
			Body: DisclosureBody{
				Kind: "speaking", Counterparty: "同济大学汽车学院", CounterpartyType: "academic",
				Topic:     "智能座舱人机交互设计实践",
				StartDate: g.day(dayAcademic), EndDate: g.day(dayAcademic), Paid: false,
			},
			// Unpaid academic talks are pre-approved by the default policy; the
			// manager approves only if the configured policy left it pending.
			Decision: "approve", DecidedBy: "E1030", DeciderRole: "manager",
			Comment:    "高校无偿讲座，同意。",
			WantStatus: "approved",
		},
	}
}
