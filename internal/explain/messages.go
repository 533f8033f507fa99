package explain

// Message codes. A rule emits clauses with these codes (internal/detect);
// Messages gives each its text per language.
const (
	CodeExpenseCard        = "expense.card"
	CodeExpenseMerchant    = "expense.merchant"
	CodeExpenseAttendee    = "expense.attendee"
	CodeExpenseNaming      = "expense.naming"
	CodeExpenseDescription = "expense.description"
	CodeExpenseVocabulary  = "expense.vocabulary"
	CodeExpenseConfirms    = "note.expense_confirms"

	CodeSeminar     = "note.seminar"
	CodeSeminarPaid = "note.seminar_paid"
	CodeBlackout    = "note.blackout"

	CodeEmploymentUnknown = "note.employment_unknown"
	CodeCoolingOff        = "note.cooling_off"

	CodeCovered   = "note.covered"
	CodeUncovered = "note.uncovered"
	CodeDeclared  = "note.declared"

	CodeUnapprovedPending   = "unapproved.pending"
	CodeUnapprovedRejected  = "unapproved.rejected"
	CodeUnapprovedWithdrawn = "unapproved.withdrawn"
	CodeUnapprovedStatus    = "unapproved.status"

	CodeBlackoutReview = "blackout.review"

	CodeFrequency             = "frequency"
	CodeFrequencyCount        = "frequency.count"
	CodeFrequencyCompensation = "frequency.compensation"

	CodeSpeakerMatch     = "speaker.match"
	CodeSpeakerCompany   = "speaker.fit.company"
	CodeSpeakerFunction  = "speaker.fit.function"
	CodeSpeakerProject   = "speaker.fit.project"
	CodeSpeakerSeniority = "speaker.fit.seniority"
	CodeSpeakerCity      = "speaker.fit.city"
	CodeSpeakerByLeave   = "speaker.by_leave"
	CodeSpeakerByPayment = "speaker.by_payment"
	CodeSpeakerFits      = "note.speaker_fits"

	// An attestation task not done by its due date (internal/attest).
	CodeAttestationOverdue = "attestation.overdue"

	// A case's history, written by the system.
	CodeHistoryOpened      = "history.opened"
	CodeHistoryUpdated     = "history.findings_updated"
	CodeHistoryAllCovered  = "history.all_covered"
	CodeHistoryNoneRemains = "history.none_remains"
	CodeHistoryAssigned    = "history.assigned"

	// Reasons the services write into the audit log.
	CodeReasonRuleSetVersion = "reason.ruleset_version"
	CodeReasonNeeds          = "reason.needs"
	CodeReasonNeedsAdmin     = "reason.needs_admin"
	CodeReasonCaseQueue      = "reason.case_queue"
	CodeReasonCaseReview     = "reason.case_review"
	CodeReasonCaseDecision   = "reason.case_decision"
	CodeReasonCaseAssignment = "reason.case_assignment"
	CodeReasonCaseComment    = "reason.case_comment"
	CodeReasonRescan         = "reason.rescan"
	CodeReasonPublished      = "reason.published"
	CodeReasonRevoked        = "reason.revoked"
	CodeReasonSelf           = "reason.self"
	CodeReasonSelfAct        = "reason.self_act"
	CodeReasonNotReader      = "reason.not_reader"
	CodeReasonMayNotRead     = "reason.may_not_read"
	CodeReasonOwnerOnly      = "reason.owner_only"
	CodeReasonConfirmDropped = "reason.confirm_dropped"
)

// Message is one code's text. Placeholders name parameters: {date}. When
// PluralOn names an integer parameter, the English text is chosen by the
// CLDR plural rules of golang.org/x/text (ENOne for "one", EN otherwise);
// Chinese has no plural forms.
type Message struct {
	EN, ZH   string
	PluralOn string
	ENOne    string
}

// Messages are the texts of every code. A clause ending in ":" runs into
// the next one; others are separated by "; " (English) or "；" (Chinese).
var Messages = map[string]Message{
	CodeExpenseCard:        {EN: "Card payment to {counterparty} on {date} for {amount}", ZH: "{date} 向{counterparty}刷卡支付 {amount}"},
	CodeExpenseMerchant:    {EN: "Expense claim at {counterparty} on {date} for {amount}", ZH: "{date} 在{counterparty}报销 {amount}"},
	CodeExpenseAttendee:    {EN: "Expense claim at {merchant} on {date} for {amount} with attendee {counterparty}", ZH: "{date} 在{merchant}报销 {amount}，参与者包括{counterparty}"},
	CodeExpenseNaming:      {EN: "Expense claim at {merchant} on {date} for {amount} naming {counterparty}", ZH: "{date} 在{merchant}报销 {amount}，其中提到{counterparty}"},
	CodeExpenseDescription: {EN: "described as {text}", ZH: "事由为{text}"},
	CodeExpenseVocabulary:  {EN: "it mentions {words}", ZH: "其中出现{words}"},
	CodeExpenseConfirms:    {EN: "an expense on {date} for {amount} confirms it", ZH: "{date} 的一笔报销（{amount}）可以佐证"},

	CodeSeminar:     {EN: "matches the seminar {title} reported by {organizer} on {date}{city}", ZH: "与已报告的研讨会{title}相符（{organizer}，{date}{city}）"},
	CodeSeminarPaid: {EN: "matches the paid seminar {title} reported by {organizer} on {date}{city}", ZH: "与已报告的付费研讨会{title}相符（{organizer}，{date}{city}）"},
	CodeBlackout: {EN: "while assigned to {project}, {days} days before its launch on {launch}",
		ENOne: "while assigned to {project}, {days} day before its launch on {launch}", PluralOn: "days",
		ZH: "当时参与{project}，距 {launch} 发布还有 {days} 天"},

	CodeEmploymentUnknown: {EN: "no HR record of the employee's employment has arrived yet", ZH: "尚未收到该员工的雇佣人事记录"},
	CodeCoolingOff: {EN: "{days} days after employment ended on {ended} (within the {period}-day cooling-off period)",
		ENOne: "{days} day after employment ended on {ended} (within the {period}-day cooling-off period)", PluralOn: "days",
		ZH: "在 {ended} 离职后第 {days} 天（在 {period} 天冷静期内）"},

	CodeCovered:   {EN: "covered by the approved {disclosure}", ZH: "已由获批的{disclosure}覆盖"},
	CodeUncovered: {EN: "no approved disclosure covers it", ZH: "没有获批的申报覆盖此项"},
	CodeDeclared:  {EN: "the {disclosure} is {status}", ZH: "{disclosure}的状态为{status}"},

	CodeUnapprovedPending: {EN: "Declared {kind} with {counterparty} {period} ({pay}) has taken place, but it is still pending approval",
		ZH: "已申报的{kind}（{counterparty}，{period}，{pay}）已经发生，但仍在等待审批"},
	CodeUnapprovedRejected: {EN: "Declared {kind} with {counterparty} {period} ({pay}) has taken place, but its disclosure was rejected",
		ZH: "已申报的{kind}（{counterparty}，{period}，{pay}）已经发生，但该申报已被拒绝"},
	CodeUnapprovedWithdrawn: {EN: "Declared {kind} with {counterparty} {period} ({pay}) has taken place, but its disclosure was withdrawn only on {withdrawn}",
		ZH: "已申报的{kind}（{counterparty}，{period}，{pay}）已经发生，但该申报直到 {withdrawn} 才撤回"},
	CodeUnapprovedStatus: {EN: "Declared {kind} with {counterparty} {period} ({pay}) has taken place, but its disclosure is {status}, not approved",
		ZH: "已申报的{kind}（{counterparty}，{period}，{pay}）已经发生，但该申报的状态为{status}，未获批准"},

	CodeBlackoutReview: {EN: "Approved {kind} with {counterparty} {period} ({pay}) falls in the {days}-day pre-launch blackout of {project} (launch {launch}); the approval should be reviewed again",
		ZH: "已批准的{kind}（{counterparty}，{period}，{pay}）落在{project}发布前 {days} 天的静默期内（{launch} 发布），应重新审查该批准"},

	CodeFrequency: {EN: "Frequent outside research work:", ZH: "频繁参与外部研究活动："},
	CodeFrequencyCount: {EN: "{count} research engagements or expenses in {quarter} (threshold {threshold}, high at {high})",
		ENOne: "{count} research engagement or expense in {quarter} (threshold {threshold}, high at {high})", PluralOn: "count",
		ZH: "{quarter}共有 {count} 次研究类活动或报销（阈值 {threshold}，达到 {high} 为高）"},
	CodeFrequencyCompensation: {EN: "declared compensation of {amount} in {quarter} (threshold {threshold})",
		ZH: "{quarter}申报的报酬合计 {amount}（阈值 {threshold}）"},

	CodeSpeakerMatch: {EN: "Seminar {title} by {organizer} on {date}{city} describes a speaker as {descriptor}, which fits the employee:",
		ZH: "{organizer}于 {date}{city}举办的研讨会{title}将一位嘉宾描述为{descriptor}，与该员工相符："},
	CodeSpeakerCompany:   {EN: "company {name}", ZH: "公司{name}"},
	CodeSpeakerFunction:  {EN: "function {function} ({department}, {title})", ZH: "职能{function}（{department}，{title}）"},
	CodeSpeakerProject:   {EN: "project {project}", ZH: "项目 {project}"},
	CodeSpeakerSeniority: {EN: "seniority {level}", ZH: "职级{level}"},
	CodeSpeakerCity:      {EN: "city {city}", ZH: "城市{city}"},
	CodeSpeakerByLeave:   {EN: "corroborated by leave {leave} recorded {period}", ZH: "休假记录 {leave}（{period}）可以佐证"},
	CodeSpeakerByPayment: {EN: "corroborated by a payment in {city} on {date}", ZH: "{date} 在{city}的一笔付款可以佐证"},
	CodeSpeakerFits:      {EN: "a seminar report of {date} describes a speaker who fits: {descriptor}", ZH: "{date} 的研讨会报告中描述的嘉宾与该员工相符：{descriptor}"},

	CodeAttestationOverdue: {EN: "No attestation for {project} (assigned on {assigned}): it was due on {due}, {days} days after the assignment was received on {received}",
		ENOne:    "No attestation for {project} (assigned on {assigned}): it was due on {due}, {days} day after the assignment was received on {received}",
		PluralOn: "days",
		ZH:       "{project}（{assigned} 分配）未按时完成保密确认：应在 {due} 前完成，即收到分配（{received}）后 {days} 天内"},

	CodeHistoryOpened: {EN: "{uncovered} findings without an approved disclosure", ENOne: "{uncovered} finding without an approved disclosure",
		PluralOn: "uncovered", ZH: "{uncovered} 项发现没有获批的申报"},
	CodeHistoryUpdated: {EN: "{findings} findings, {uncovered} without an approved disclosure", ENOne: "{findings} finding, {uncovered} without an approved disclosure",
		PluralOn: "findings", ZH: "共 {findings} 项发现，其中 {uncovered} 项没有获批的申报"},
	CodeHistoryAllCovered:  {EN: "every finding is covered by an approved disclosure", ZH: "所有发现均已由获批的申报覆盖"},
	CodeHistoryNoneRemains: {EN: "no finding remains once all information arrived", ZH: "所有信息到齐后，已无任何发现"},
	CodeHistoryAssigned:    {EN: "assigned to {assignee}", ZH: "分配给 {assignee}"},

	CodeReasonRuleSetVersion: {EN: "rule set version {version}", ZH: "规则集第 {version} 版"},
	CodeReasonNeeds:          {EN: "needs the {roles} role", ZH: "需要{roles}角色"},
	CodeReasonNeedsAdmin:     {EN: "refused: {what} needs the admin role", ZH: "已拒绝：{what}需要管理员角色"},
	CodeReasonCaseQueue:      {EN: "case queue", ZH: "浏览案件队列"},
	CodeReasonCaseReview:     {EN: "case review", ZH: "审查案件"},
	CodeReasonCaseDecision:   {EN: "case decision", ZH: "决定案件"},
	CodeReasonCaseAssignment: {EN: "case assignment", ZH: "分配案件"},
	CodeReasonCaseComment:    {EN: "case comment", ZH: "备注案件"},
	CodeReasonRescan:         {EN: "rescan requested", ZH: "已请求重新扫描"},
	CodeReasonPublished:      {EN: "published through the API", ZH: "通过 API 发布"},
	CodeReasonRevoked:        {EN: "revoked by an admin", ZH: "由管理员撤销"},
	CodeReasonSelf:           {EN: "nobody reads a case about themselves", ZH: "任何人都不得查看与自己有关的案件"},
	CodeReasonSelfAct:        {EN: "nobody acts on a case about themselves", ZH: "任何人都不得处理与自己有关的案件"},
	CodeReasonNotReader:      {EN: "not the owner, their manager, compliance or an auditor", ZH: "既不是申报人本人、其经理，也不是合规或审计人员"},
	CodeReasonMayNotRead:     {EN: "may not read this disclosure", ZH: "无权查看此申报"},
	CodeReasonOwnerOnly:      {EN: "only the owner edits or withdraws a disclosure", ZH: "只有申报人本人可以修改或撤回申报"},
	CodeReasonConfirmDropped: {EN: "the findings changed after the confirmation was requested", ZH: "请求确认后发现有变化"},
}

// enumLabels translate the closed vocabularies parameters use.
var enumLabels = map[string]map[string][2]string{ // domain -> value -> {en, zh}
	"kind": {
		"paid_seminar": {"paid seminar", "付费研讨会"}, "expert_call": {"expert call", "专家访谈"}, "consulting": {"consulting", "咨询"},
		"speaking": {"speaking", "演讲"}, "advisory_board": {"advisory board", "顾问委员会"}, "media_interview": {"media interview", "媒体采访"},
		"other": {"engagement", "外部活动"}, "": {"engagement", "外部活动"},
	},
	"status": {
		"pending": {"pending", "待审批"}, "approved": {"approved", "已批准"}, "rejected": {"rejected", "已拒绝"}, "withdrawn": {"withdrawn", "已撤回"},
	},
	"cptype": {
		"expert_network": {"expert network", "专家网络"}, "brokerage": {"brokerage", "券商"}, "investment_firm": {"investment firm", "投资机构"},
		"media": {"media", "媒体"}, "supplier": {"supplier", "供应商"}, "competitor": {"competitor", "竞争对手"}, "academic": {"academic", "学术机构"},
		"other": {"other", "其他"},
	},
	"sensitivity": {
		"public": {"public", "公开"}, "internal": {"internal", "内部"}, "confidential": {"confidential", "保密"}, "secret": {"secret", "机密"},
	},
	"function": {
		"R&D": {"R&D", "研发"}, "supply chain": {"supply chain", "供应链"}, "battery": {"battery", "电池"}, "powertrain": {"powertrain", "电驱动"},
		"autonomous driving": {"autonomous driving", "自动驾驶"}, "finance": {"finance", "财务"}, "marketing": {"marketing", "市场营销"},
		"manufacturing": {"manufacturing", "生产制造"}, "strategy": {"strategy", "战略"},
	},
	"role": {
		"employee": {"employee", "员工"}, "manager": {"manager", "经理"}, "compliance": {"compliance", "合规"},
		"auditor": {"auditor", "审计"}, "admin": {"admin", "管理员"}, "privacy_officer": {"privacy officer", "隐私官"},
	},
	"seniority": {
		"executive": {"executive", "高管"}, "director": {"director", "总监"}, "manager": {"manager", "经理"}, "engineer": {"engineer", "工程师"},
	},
}
