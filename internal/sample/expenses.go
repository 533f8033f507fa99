package sample

import (
	"fmt"
	"strings"
	"time"
)

// merchant is a place employees spend money; lo..hi is a plausible amount in yuan.
type merchant struct {
	name, mcc string
	lo, hi    float64
}

// catalog is where ordinary money is spent. No merchant, city or guest
// resembles a research counterparty: the look-alikes are placed deliberately
// by the story.
type catalog struct {
	taxis, hotels, restaurants, quick, flights, trains, supplies, conferences []merchant
	cities, guests                                                            []string
}

func newCatalog() catalog {
	return catalog{
		taxis: []merchant{
			{"滴滴出行", "4121", 18, 120}, {"首汽约车", "4121", 25, 150}, {"曹操出行", "4121", 20, 110},
			{"T3出行", "4121", 18, 90}, {"高德打车", "4121", 16, 100},
		},
		hotels: []merchant{
			{"全季酒店", "7011", 320, 520}, {"汉庭酒店", "7011", 260, 380}, {"亚朵酒店", "7011", 420, 680},
			{"如家精选酒店", "7011", 280, 420}, {"万豪酒店 Marriott", "7011", 780, 1280}, {"希尔顿欢朋酒店", "7011", 450, 650},
		},
		restaurants: []merchant{
			{"海底捞火锅", "5812", 180, 1600}, {"西贝莜面村", "5812", 120, 900}, {"外婆家", "5812", 90, 700},
			{"眉州东坡酒楼", "5812", 200, 1500}, {"绿茶餐厅", "5812", 90, 600}, {"太二酸菜鱼", "5812", 80, 500},
		},
		quick: []merchant{
			{"Starbucks 星巴克", "5814", 28, 160}, {"瑞幸咖啡 luckin coffee", "5814", 15, 90}, {"麦当劳", "5814", 25, 120},
			{"肯德基", "5814", 25, 110}, {"美团外卖", "5814", 22, 160}, {"饿了么", "5814", 22, 140},
		},
		flights: []merchant{
			{"中国国航", "4511", 780, 2600}, {"东方航空", "4511", 680, 2400}, {"南方航空", "4511", 700, 2500}, {"海南航空", "4511", 720, 2300},
		},
		trains: []merchant{{"中国铁路12306", "4112", 150, 650}},
		supplies: []merchant{
			{"京东 JD.com", "5732", 50, 2200}, {"得力办公", "5943", 30, 400}, {"顺丰速运", "4215", 15, 120},
		},
		conferences: []merchant{
			{"世界新能源汽车大会组委会", "7399", 1200, 3800}, {"上海国际汽车工业展览会", "7399", 300, 800},
			{"中国电动汽车百人会论坛", "7399", 1500, 3500},
		},
		cities: []string{"北京", "上海", "深圳", "武汉", "合肥", "南京", "重庆", "广州", "宁波", "常州", "西安", "成都"},
		guests: []string{
			"宁德时代 采购部 李经理", "博世汽车部件(苏州)有限公司 王工", "经销商 陈总", "德赛西威 项目经理",
			"舍弗勒 技术支持", "地平线 方案工程师", "客户 赵总", "比亚迪电子 张经理", "汇川技术 FAE",
		},
	}
}

// zhCity is the expense system's spelling of an HRIS location.
func zhCity(location string) string {
	switch location {
	case "Beijing":
		return "北京"
	case "Shanghai":
		return "上海"
	case "Shenzhen":
		return "深圳"
	case "Wuhan":
		return "武汉"
	}
	return location
}

// activity is how much a department travels and spends, roughly per working day.
func activity(dept string) float64 {
	switch dept {
	case DeptSupply, DeptMarketing:
		return 1.0
	case DeptExecutive:
		return 0.8
	case DeptPowertrain, DeptAD, DeptCabin, DeptDesign:
		return 0.55
	}
	return 0.3
}

func (g *generator) pick(ms []merchant) merchant { return ms[g.rng.IntN(len(ms))] }

func (g *generator) amount(m merchant) float64 {
	return m.lo + g.rng.Float64()*(m.hi-m.lo)
}

// expenses emits a year of ordinary claims and card transactions for everyone
// employed. The draws depend on the day offset only, never on the weekday of
// a date, so the set generated tomorrow has the same events (ids) as today's.
func (g *generator) expenses() {
	for _, p := range g.staff {
		act := activity(p.dept) * 5 / 7 // rates are per working day
		for n := -365; n < 0; n++ {
			if !p.employedOn(n) {
				continue
			}
			home := zhCity(g.cityOn(p, n))
			r := g.rng.Float64()
			switch {
			case r < 0.035*act:
				n += g.trip(p, n, home)
			case r < 0.035*act+0.09*act:
				g.card(p, n, g.pick(g.cat.taxis), home)
			case r < 0.035*act+0.12*act:
				g.businessMeal(p, n, home)
			case r < 0.035*act+0.12*act+0.05:
				g.card(p, n, g.pick(g.cat.quick), home)
			case r < 0.035*act+0.12*act+0.06:
				g.card(p, n, g.pick(g.cat.supplies), home)
			case r < 0.035*act+0.12*act+0.062:
				m := g.pick(g.cat.conferences)
				g.claimFor(p, n, m, "conference", strings.TrimSuffix(m.name, "组委会")+" 参会注册费", home, nil)
			}
		}
	}
}

// trip is a business trip from day n; it returns the extra days it took.
func (g *generator) trip(p person, n int, home string) int {
	dest := g.cat.cities[g.rng.IntN(len(g.cat.cities))]
	for dest == home {
		dest = g.cat.cities[g.rng.IntN(len(g.cat.cities))]
	}
	nights := 1 + g.rng.IntN(3)
	if n+nights >= 0 || !p.employedOn(n+nights) {
		nights = 0
	}
	fare := g.pick(g.cat.flights)
	if g.rng.IntN(3) == 0 {
		fare = g.cat.trains[0]
	}
	g.claimFor(p, n, fare, "travel", fmt.Sprintf("%s-%s 出差往返", home, dest), home, nil)
	purpose := []string{"供应商现场审核", "项目评审会", "客户拜访", "工厂量产支持", "经销商培训", "测试场试验"}[g.rng.IntN(6)]
	if nights > 0 {
		h := g.pick(g.cat.hotels)
		rate := g.amount(h)
		if g.rng.IntN(2) == 0 {
			g.claim++
			g.claimRaw(p, n+nights, h.name, "hotel", money(rate*float64(nights)),
				fmt.Sprintf("%s%s 住宿%d晚", dest, purpose, nights), dest, nil)
		} else {
			g.cardRaw(p, n+nights, h, money(rate*float64(nights)), dest, 8)
		}
	}
	for d := 0; d <= nights; d++ {
		for range 1 + g.rng.IntN(2) {
			g.card(p, n+d, g.pick(g.cat.taxis), dest)
		}
		if g.rng.IntN(2) == 0 {
			m := g.pick(g.cat.restaurants)
			g.claimFor(p, n+d, merchant{m.name, m.mcc, 60, 180}, "meals", dest+"出差餐费", dest, nil)
		}
	}
	return nights
}

// businessMeal is a meal with guests, claimed with the attendees named.
func (g *generator) businessMeal(p person, n int, city string) {
	m := g.pick(g.cat.restaurants)
	att := []string{g.cat.guests[g.rng.IntN(len(g.cat.guests))]}
	if g.rng.IntN(2) == 0 {
		att = append(att, g.staff[g.rng.IntN(len(g.staff))].name)
	}
	desc := []string{"客户招待", "供应商工作餐", "项目复盘聚餐", "商务宴请"}[g.rng.IntN(4)]
	g.claimFor(p, n, m, "meals", desc, city, att)
}

// claimFor emits an ordinary claim with a random amount from m.
func (g *generator) claimFor(p person, n int, m merchant, category, desc, city string, attendees []string) {
	g.claim++
	g.claimRaw(p, n, m.name, category, money(g.amount(m)), desc, city, attendees)
}

// claimRaw emits claim number g.claim, submitted a few days after day n.
func (g *generator) claimRaw(p person, n int, merchantName, category, amount, desc, city string, attendees []string) {
	id := fmt.Sprintf("EXP-%06d", 100000+g.claim)
	submitted := min(n+1+g.rng.IntN(7), -1)
	if p.left != 0 {
		submitted = min(submitted, p.left)
	}
	submitted = max(submitted, n)
	g.emit(TopicExpense, p.id, SourceExpense, "expense.claim.submitted", p.id, id,
		g.at(submitted, 17, g.rng.IntN(60)), claimData{
			ClaimID: id, EmployeeID: p.id, IncurredOn: g.day(n), Amount: amount, Currency: "CNY",
			Merchant: merchantName, Category: category, Description: desc, City: city, Attendees: attendees,
		})
}

// card emits an ordinary card transaction at m on day n.
func (g *generator) card(p person, n int, m merchant, city string) {
	g.cardRaw(p, n, m, money(g.amount(m)), city, 8+g.rng.IntN(14))
}

func (g *generator) cardRaw(p person, n int, m merchant, amount, city string, hour int) {
	g.txn++
	id := fmt.Sprintf("TXN-%08d", 40000000+g.txn)
	at := g.at(n, hour, g.rng.IntN(60))
	g.emit(TopicExpense, p.id, SourceCard, "expense.card.transaction", p.id, id, at.Add(2*time.Minute), cardData{
		TransactionID: id, EmployeeID: p.id, OccurredAt: at.Format(time.RFC3339), Amount: amount, Currency: "CNY",
		Merchant: m.name, MCC: m.mcc, City: city,
	})
}
