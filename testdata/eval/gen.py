#!/usr/bin/env python3
"""Labelled evaluation corpus for Moonlight's detection (issue 13).

Written from the story of each person, independently of the detector: each
story decides the label first (should HR see a case for this person?) and then
writes the events the way expense, card and HR feeds write them (naming
variants, traditional characters, card-processor prefixes, pinyin, look-alike
merchants, covered and uncovered engagements, leavers, late context).

Run `python3 testdata/eval/gen.py` to rewrite events.jsonl, disclosures.json
and labels.json (deterministic). internal/detect/eval_test.go reads them.
"""
import json, random, uuid, datetime as dt, os

rng = random.Random(13)
NS = uuid.UUID("6c1b6a56-1d7e-4a53-9e64-6d2c1c9a0d13")
NOW = dt.date(2026, 6, 30)
HERE = os.path.dirname(os.path.abspath(__file__))

events, disclosures, labels = [], [], []

def ce(typ, source, subject, time, data):
    eid = str(uuid.uuid5(NS, f"{typ}|{json.dumps(data, ensure_ascii=False, sort_keys=True)}"))
    e = {"specversion": "1.0", "id": eid, "source": source, "type": typ, "time": time,
         "datacontenttype": "application/json", "data": data}
    if subject:
        e["subject"] = subject
    events.append(e)

def d(x): return x.isoformat()

CITIES = ["Shanghai", "Beijing", "Shenzhen", "Hangzhou", "Guangzhou", "Hefei"]
DEPTS = [("EV Powertrain", "Motor Control Engineer"), ("Battery Systems", "Cell Engineer"),
         ("Supply Chain", "Sourcing Manager"), ("Autonomous Driving", "Perception Engineer"),
         ("Finance", "Financial Analyst"), ("Marketing", "Product Marketing Manager"),
         ("Manufacturing", "Process Engineer"), ("Strategy", "Strategy Manager")]
SURN = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段漕钱汤尹黎易常武乔贺赖龚文"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞", "平", "刚", "桂英", "建华", "子涵", "浩然", "欣怡", "宇轩", "思远", "雨桐", "晨曦"]

ORDINARY = [("星巴克咖啡", "meals", "5814"), ("滴滴出行", "taxi", "4121"), ("Hilton Shanghai Hongqiao", "hotel", "7011"),
            ("海底捞火锅", "meals", "5812"), ("中国国际航空", "travel", "3000"), ("全家便利店", "other", "5411"),
            ("美团外卖", "meals", "5814"), ("携程旅行网", "travel", "4722"), ("汉庭酒店", "hotel", "7011"),
            ("McDonald's", "meals", "5814"), ("Marriott Beijing", "hotel", "7011"), ("顺丰速运", "other", "4215"),
            ("中国铁路12306", "travel", "4112"), ("瑞幸咖啡", "meals", "5814"), ("SQ *BLUE BOTTLE COFFEE", "meals", "5814"),
            ("PAYPAL *ZOOM.US", "other", "4816"), ("支付宝-肯德基", "meals", "5814"), ("财付通-美团", "meals", "5814")]
# Businesses that share a name with a research counterparty (see the story "look-alikes only").
LOOKALIKES = [("中信银行信用卡中心", "other"), ("招商银行", "other"), ("华泰大酒店", "hotel"), ("国泰餐厅", "meals"),
              ("光大银行", "other"), ("平安保险", "other"), ("长城汽车4S店", "other"), ("山东黄金珠宝", "other"),
              ("中信书店", "other"), ("國泰航空", "travel"), ("Cathay Pacific", "travel"), ("海通宾馆", "hotel"),
              ("广发银行信用卡", "other"), ("德邦物流", "other"), ("东方财富网", "other"), ("泰康人寿", "other"),
              ("中泰国际旅行社", "travel"), ("兴业银行", "other"), ("太平洋咖啡", "meals"), ("长江商学院", "other"),
              ("华西医院", "other"), ("银泰百货", "other"), ("HSBC Bank", "other"), ("Citibank", "other"),
              ("GLG Hotel Shenzhen", "hotel"), ("Guidepoint Cafe", "meals"), ("余额宝", "other"), ("重阳节礼品", "other"),
              ("红杉林餐厅", "meals"), ("交通银行", "other"), ("中国南方航空", "travel"), ("Macquarie University", "other")]

# Research counterparties as the feeds write them: (merchant, canonical name for a disclosure, type).
EXPERT = [("SQ *GLG", "GLG", "expert_network"), ("GLG Insights Ltd", "Gerson Lehrman Group", "expert_network"),
          ("PAYPAL *ALPHASIGHTS", "AlphaSights", "expert_network"), ("Guidepoint Global, LLC", "Guidepoint", "expert_network"),
          ("Third Bridge (HK) Ltd", "Third Bridge", "expert_network"), ("高临咨询(北京)有限公司", "Third Bridge", "expert_network"),
          ("凯盛融英信息科技（上海）股份有限公司", "Capvision", "expert_network"), ("凱盛融英", "凯盛融英", "expert_network"),
          ("STRIPE* TEGUS", "Tegus", "expert_network"), ("Coleman Research Group, Inc.", "Coleman Research", "expert_network"),
          ("六度人和", "六度人和", "expert_network"), ("久谦咨询", "久谦咨询", "expert_network"),
          ("Dialectica Ltd", "Dialectica", "expert_network"), ("Atheneum Partners GmbH", "Atheneum", "expert_network"),
          ("NewtonX Inc", "NewtonX", "expert_network"), ("Arbolus", "Arbolus", "expert_network"),
          ("溯元咨询", "溯元咨询", "expert_network"), ("ProSapient Ltd", "ProSapient", "expert_network"),
          ("GUIDPOINT GLOBAL", "Guidepoint", "expert_network"), ("ALPHA SIGHTS LTD LONDON", "AlphaSights", "expert_network"),
          ("GLG*GERSON LEHRMAN", "GLG", "expert_network"), ("Capvison Partners", "Capvision", "expert_network")]
BROKER = [("中信证券股份有限公司", "中信证券", "brokerage"), ("華泰證券股份有限公司", "华泰证券", "brokerage"),
          ("國泰君安證券", "国泰君安证券", "brokerage"), ("申萬宏源證券研究所", "申万宏源", "brokerage"),
          ("中國國際金融股份有限公司", "中金公司", "brokerage"), ("ZHONGXIN ZHENGQUAN", "中信证券", "brokerage"),
          ("Huatai Zhengquan", "华泰证券", "brokerage"), ("支付宝-长江证券", "长江证券", "brokerage"),
          ("东吴证券", "东吴证券", "brokerage"), ("天风证券研究所", "天风证券", "brokerage"), ("兴业证券", "兴业证券", "brokerage"),
          ("国金证券", "国金证券", "brokerage"), ("中泰证券", "中泰证券", "brokerage"), ("浙商证券研究所", "浙商证券", "brokerage"),
          ("东方证券", "东方证券", "brokerage"), ("光大证券", "光大证券", "brokerage"), ("方正證券", "方正证券", "brokerage"),
          ("开源证券", "开源证券", "brokerage"), ("国海证券", "国海证券", "brokerage"), ("西部证券", "西部证券", "brokerage"),
          ("Morgan Stanley Research", "Morgan Stanley", "brokerage"), ("摩根士丹利", "Morgan Stanley", "brokerage"),
          ("高盛集团", "Goldman Sachs", "brokerage"), ("J.P. Morgan", "J.P. Morgan", "brokerage"), ("UBS Evidence Lab", "UBS", "brokerage"),
          ("瑞銀證券", "瑞银证券", "brokerage"), ("CLSA Ltd", "CLSA", "brokerage"), ("中信里昂證券", "CLSA", "brokerage"),
          ("BofA Securities", "BofA Securities", "brokerage"), ("Jefferies LLC", "Jefferies", "brokerage"),
          ("招银国际", "招银国际", "brokerage"), ("Bernstein Research", "Bernstein", "brokerage"), ("野村证券", "Nomura", "brokerage"),
          ("Guotai Junan Zhengquan", "国泰君安", "brokerage"), ("Changjiang Zhengquan", "长江证券", "brokerage"),
          # As card acquirers truncate and misspell them.
          ("CITIC SEC", "中信证券", "brokerage"), ("廣發證券股份有限公司", "广发证券", "brokerage"),
          ("招商證券（香港）", "招商证券", "brokerage"), ("國信證券", "国信证券", "brokerage"),
          ("ＨＴＳＣ", "Huatai Securities", "brokerage"), ("GOLDMAN SACHS (ASIA) L.L.C.", "Goldman Sachs", "brokerage")]
INVEST = [("易方达基金", "易方达基金", "investment_firm"), ("华夏基金管理有限公司", "华夏基金", "investment_firm"),
          ("嘉實基金", "嘉实基金", "investment_firm"), ("高毅资产", "高毅资产", "investment_firm"),
          ("淡水泉投资", "淡水泉", "investment_firm"), ("红杉中国", "红杉中国", "investment_firm"),
          ("高瓴资本", "高瓴资本", "investment_firm"), ("景林资产管理", "景林资产", "investment_firm"),
          ("Hillhouse Investment", "Hillhouse Capital", "investment_firm"), ("Temasek Holdings", "Temasek", "investment_firm"),
          ("博时基金", "博时基金", "investment_firm"), ("汇添富基金", "汇添富基金", "investment_firm")]
PLATFORM = [("进门财经", "进门财经", "expert_network"), ("财付通-进门财经", "进门财经", "expert_network"),
            ("全景路演", "全景路演", "expert_network"), ("价值在线", "价值在线", "expert_network")]
RESEARCH = EXPERT + BROKER + INVEST + PLATFORM
UNLISTED = [("星河证券股份有限公司", "星河证券", "brokerage"), ("远景私募基金", "远景私募基金", "investment_firm")]
PAID_DESC = ["专家访谈 咨询费", "expert call honorarium", "行业研讨会 讲课费", "电话会 顾问费", "调研 纪要 访谈费",
             "industry seminar speaker fee", "闭门会 专家咨询", "consulting fee", "策略会 交流会", "channel check expert interview"]

class P:
    n = 0
    def __init__(self, story, flag, note):
        P.n += 1
        self.id = f"EV{P.n:04d}"
        self.name = rng.choice(SURN) + rng.choice(GIVEN)
        self.dept, self.title = rng.choice(DEPTS)
        self.city = rng.choice(CITIES)
        self.hire = dt.date(2019, 1, 1) + dt.timedelta(days=rng.randrange(0, 1800))
        self.k = 0
        labels.append({"employee_id": self.id, "story": story, "case": flag, "note": note})

    def hired(self):
        ce("hr.employee.hired", "hris/workday-cn", self.id, f"{d(self.hire)}T09:00:00+08:00",
           {"employee_id": self.id, "name": self.name, "department": self.dept, "title": self.title,
            "location": self.city, "hire_date": d(self.hire)})

    def terminated(self, on):
        ce("hr.employee.terminated", "hris/workday-cn", self.id, f"{d(on)}T18:00:00+08:00",
           {"employee_id": self.id, "termination_date": d(on), "reason": rng.choice(["resigned", "other", "retired"])})

    def claim(self, on, merchant, category, desc="", amount=None, attendees=None, city=None):
        self.k += 1
        data = {"claim_id": f"{self.id}-C{self.k}", "employee_id": self.id, "incurred_on": d(on),
                "amount": amount or f"{rng.randint(20, 900)}.{rng.randint(0, 99):02d}", "currency": "CNY",
                "merchant": merchant, "category": category, "city": city or self.city}
        if desc: data["description"] = desc
        if attendees: data["attendees"] = attendees
        ce("expense.claim.submitted", "expense/concur-cn", self.id, f"{d(on)}T20:00:00+08:00", data)

    def card(self, on, merchant, mcc="5999", amount=None, city=None):
        self.k += 1
        ce("expense.card.transaction", "card/cmb-corporate", self.id, f"{d(on)}T{rng.randint(8, 21):02d}:15:00+08:00",
           {"transaction_id": f"{self.id}-T{self.k}", "employee_id": self.id,
            "occurred_at": f"{d(on)}T{rng.randint(8, 21):02d}:15:00+08:00",
            "amount": amount or f"{rng.randint(20, 3000)}.00", "currency": "CNY", "merchant": merchant, "mcc": mcc,
            "city": city or self.city})

    def ordinary(self, n=9, start=None, end=None):
        start = start or max(self.hire, dt.date(2025, 1, 1))
        end = end or NOW - dt.timedelta(days=1)
        for _ in range(n):
            on = rand_day(start, end)
            m, cat, mcc = rng.choice(ORDINARY)
            if rng.random() < 0.5:
                self.claim(on, m, cat, rng.choice(["", "客户拜访", "team dinner", "出差", "会议室"]))
            else:
                self.card(on, m, mcc)

    def disclose(self, counterparty, ctype, start, status, end=None, decided=None):
        disclosures.append({"id": f"{self.id}-D{len(disclosures) + 1}", "employee_id": self.id, "kind": "expert_call",
                            "counterparty": counterparty, "counterparty_type": ctype, "start_date": d(start),
                            "end_date": d(end) if end else "", "status": status, "paid": True,
                            "decided_at": (decided or start).isoformat() + "T12:00:00+08:00"})

def rand_day(a, b):
    return a + dt.timedelta(days=rng.randrange(0, max(1, (b - a).days)))

def research_event(p, on, rc, card=None):
    merchant = rc[0]
    if card is None: card = rng.random() < 0.4
    if card:
        p.card(on, merchant, "7392", amount=f"{rng.randint(8, 60) * 100}.00")
    else:
        p.claim(on, merchant, rng.choice(["conference", "other"]), rng.choice(PAID_DESC), amount=f"{rng.randint(5, 50) * 100}.00")

def recent(p):
    return rand_day(max(p.hire + dt.timedelta(days=30), dt.date(2025, 1, 1)), NOW - dt.timedelta(days=5))

# ---- Stories. Each writes its label first, then its events. ----

def uncovered(pool, story, note):
    p = P(story, True, note); p.hired(); p.ordinary()
    rc = rng.choice(pool); research_event(p, recent(p), rc)
    if rng.random() < 0.3: research_event(p, recent(p), rng.choice(pool))

def covered(pool):
    # Approved disclosure, written the way the employee wrote it; the expense
    # writes the firm the way its feed does.
    p = P("covered engagement", False, "approved disclosure covers the paid call"); p.hired(); p.ordinary()
    rc = rng.choice(pool); on = recent(p)
    p.disclose(rc[1], rc[2], on, "approved", decided=on - dt.timedelta(days=7))
    research_event(p, on + dt.timedelta(days=rng.choice([0, 0, 1])), rc)

def late_approval():
    p = P("late context: approval after the call", False, "approved afterwards; the approval covers it")
    p.hired(); p.ordinary()
    rc = rng.choice(EXPERT + BROKER); on = recent(p)
    research_event(p, on, rc)
    p.disclose(rc[1], rc[2], on, "approved", decided=on + dt.timedelta(days=10))

def rejected():
    p = P("declared, rejected, done anyway", True, "disclosure rejected; date passed"); p.hired(); p.ordinary()
    rc = rng.choice(RESEARCH); on = recent(p)
    p.disclose(rc[1], rc[2], on, "rejected", decided=on - dt.timedelta(days=3))

def pending_past():
    p = P("declared, still pending after the date", True, "did it before approval"); p.hired(); p.ordinary()
    rc = rng.choice(RESEARCH); on = recent(p)
    p.disclose(rc[1], rc[2], on, "pending")
    if rng.random() < 0.5: research_event(p, on, rc)

def withdrawn_before():
    p = P("declared, withdrawn before the date", False, "called off"); p.hired(); p.ordinary()
    rc = rng.choice(RESEARCH); on = recent(p)
    p.disclose(rc[1], rc[2], on, "withdrawn", decided=on - dt.timedelta(days=5))

def future_pending():
    p = P("declared, pending, still in the future", False, "nothing has happened yet"); p.hired(); p.ordinary()
    rc = rng.choice(RESEARCH)
    p.disclose(rc[1], rc[2], NOW + dt.timedelta(days=rng.randint(3, 40)), "pending")

def lookalikes_only():
    p = P("look-alike merchants only", False, "banks, hotels, car dealers, insurers sharing a firm's name")
    p.hired(); p.ordinary(5)
    for _ in range(rng.randint(2, 4)):
        m, cat = rng.choice(LOOKALIKES); on = recent(p)
        if rng.random() < 0.5: p.claim(on, m, cat, rng.choice(["", "还款", "出差住宿", "客户午餐"]))
        else: p.card(on, m)

def ordinary_only():
    p = P("ordinary spending", False, "nothing research-related"); p.hired(); p.ordinary(rng.randint(6, 12))

def marketing_roadshow():
    p = P("own marketing roadshow at a hotel", False, "seminar words without a research counterparty")
    p.hired(); p.ordinary()
    p.claim(recent(p), rng.choice(["Hilton Shanghai Hongqiao", "汉庭酒店", "Marriott Beijing"]), "conference",
            rng.choice(["新车上市路演 场地费", "product roadshow venue", "经销商交流会 茶歇"]))

def academic():
    p = P("academic talk", False, "university fee, not a research counterparty"); p.hired(); p.ordinary()
    p.claim(recent(p), rng.choice(["清华大学", "同济大学汽车学院", "Shanghai Jiao Tong University"]), "other", "讲座 交通费")

def leaver_cooling_off():
    p = P("leaver within cooling-off", True, "expert call 30-150 days after leaving: low case")
    p.hire = dt.date(2020, 3, 1) + dt.timedelta(days=rng.randrange(0, 900)); p.hired()
    left = dt.date(2025, 6, 1) + dt.timedelta(days=rng.randrange(0, 200)); p.ordinary(6, end=left)
    research_event(p, left + dt.timedelta(days=rng.randint(30, 150)), rng.choice(EXPERT + BROKER))
    p.terminated(left)  # the termination arrives after the expense: late context

def leaver_long_gone():
    p = P("leaver long gone", False, "expert call more than 180 days after leaving")
    p.hire = dt.date(2019, 3, 1) + dt.timedelta(days=rng.randrange(0, 600)); p.hired()
    left = dt.date(2024, 6, 1) + dt.timedelta(days=rng.randrange(0, 120)); p.ordinary(5, start=p.hire, end=left)
    research_event(p, left + dt.timedelta(days=rng.randint(250, 500)), rng.choice(EXPERT + BROKER))
    p.terminated(left)

def before_hire():
    p = P("call before joining", False, "expert call months before the hire date")
    p.hire = dt.date(2025, 9, 1) + dt.timedelta(days=rng.randrange(0, 120))
    research_event(p, p.hire - dt.timedelta(days=rng.randint(30, 200)), rng.choice(EXPERT + BROKER))
    p.hired(); p.ordinary(5)

def attendee():
    p = P("brokerage analyst among dinner attendees", True, "dinner with a brokerage's research team, uncovered")
    p.hired(); p.ordinary()
    rc = rng.choice(BROKER[:20])
    p.claim(recent(p), rng.choice(["海底捞火锅", "鼎泰丰", "The Commune Social"]), "meals", "晚餐",
            attendees=[p.name, rc[0] + "研究部 分析师"])

def unlisted():
    p = P("unlisted research firm with seminar words", True, "paid seminar at a firm not in the registry")
    p.hired(); p.ordinary()
    rc = rng.choice(UNLISTED)
    p.claim(recent(p), rc[0], "conference", rng.choice(["研讨会 讲课费", "专家访谈 咨询费"]), amount="3000.00")

def seminar_report(on, city, descriptors):
    sid = f"SEM-{len(events):05d}"
    ce("intel.seminar.reported", "intel/research-monitor", None, f"{d(on)}T11:00:00+08:00",
       {"seminar_id": sid, "organizer": rng.choice(["凯盛融英", "GLG", "中信证券研究部", "Third Bridge"]),
        "title": "新能源车电驱系统专家交流会", "date": d(on), "city": city, "paid": True, "speaker_descriptors": descriptors})

def leave_on(p, on):
    ce("hr.leave.recorded", "hris/workday-cn", p.id, f"{d(on)}T09:00:00+08:00",
       {"employee_id": p.id, "leave_id": f"{p.id}-L1", "start_date": d(on), "end_date": d(on), "leave_type": "personal"})

SPEAKER_DESC = ["某新能源车企电驱工程师", "Motor control engineer at an EV maker", "某造车新势力电机控制工程师"]

def speaker_on_leave():
    p = P("speaker fits and took leave that day", True, "seminar speaker descriptor fits; leave on the seminar date")
    p.dept, p.title = "EV Powertrain", "Motor Control Engineer"; p.hired(); p.ordinary()
    on = recent(p); leave_on(p, on)
    seminar_report(on, rng.choice(CITIES), [rng.choice(["某券商前分析师", "行业专家"]), rng.choice(SPEAKER_DESC)])

def speaker_no_corroboration():
    p = P("speaker fits, nothing puts them there", False, "intelligence alone is not a case")
    p.dept, p.title = "EV Powertrain", "Motor Control Engineer"; p.hired(); p.ordinary()
    seminar_report(recent(p), rng.choice(CITIES), [rng.choice(SPEAKER_DESC)])

def speaker_other_role_on_leave():
    p = P("on leave the day a speaker of another role spoke", False, "the descriptor does not fit the employee")
    p.dept, p.title = "Finance", "Financial Analyst"; p.hired(); p.ordinary()
    on = recent(p); leave_on(p, on)
    seminar_report(on, rng.choice(CITIES), ["某新能源车企电池研发总监"])

plan = [
    (speaker_on_leave, 8), (speaker_no_corroboration, 8), (speaker_other_role_on_leave, 6),
    (lambda: uncovered(EXPERT, "uncovered expert call", "paid call via an expert network, no disclosure"), 40),
    (lambda: uncovered(BROKER, "uncovered brokerage seminar", "paid brokerage seminar, no disclosure"), 45),
    (lambda: uncovered(INVEST, "uncovered fund/PE meeting", "paid fund or PE expert session, no disclosure"), 15),
    (lambda: uncovered(PLATFORM, "uncovered roadshow-platform call", "paid call on a roadshow platform"), 8),
    (rejected, 10), (pending_past, 10), (leaver_cooling_off, 10), (attendee, 8), (unlisted, 4),
    (lambda: covered(RESEARCH), 35), (late_approval, 8), (withdrawn_before, 6), (future_pending, 6),
    (lookalikes_only, 45), (ordinary_only, 30), (marketing_roadshow, 8), (academic, 6), (leaver_long_gone, 8),
    (before_hire, 6),
]
for fn, n in plan:
    for _ in range(n):
        fn()

with open(os.path.join(HERE, "events.jsonl"), "w") as f:
    for e in events:
        f.write(json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n")
with open(os.path.join(HERE, "disclosures.json"), "w") as f:
    json.dump(disclosures, f, ensure_ascii=False, indent=1)
with open(os.path.join(HERE, "labels.json"), "w") as f:
    json.dump(labels, f, ensure_ascii=False, indent=1)
print(len(labels), "employees,", sum(l["case"] for l in labels), "positive,", len(events), "events,", len(disclosures), "disclosures")
