package watchlist

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// registryBenchTexts returns n expense-like texts (merchants, descriptions, attendee
// lists, card descriptors), about one in five naming a firm, the rest
// ordinary spending, in simplified and traditional script.
func registryBenchTexts(n int) []string {
	firms := []string{"中信证券", "華泰證券", "SQ *GLG", "PAYPAL *ALPHASIGHTS", "凯盛融英", "Zhongxin Zhengquan",
		"支付宝-国泰君安", "Morgan Stanley Research", "易方达基金", "进门财经", "Guidepoint Global LLC", "红杉中国"}
	plain := []string{"星巴克咖啡", "滴滴出行", "Hilton Shanghai", "海底捞火锅", "中国国际航空", "Uber BV", "全家便利店",
		"招商银行信用卡还款", "华泰大酒店", "中信书店", "McDonald's", "Marriott Beijing", "美团外卖", "顺丰速运", "携程旅行网"}
	words := []string{"午餐", "客户拜访", "taxi to airport", "team dinner", "会议室租用", "差旅", "高铁票", "交流会", "酒店住宿", "printing"}
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]string, n)
	for i := range out {
		var s string
		if r.IntN(5) == 0 {
			s = firms[r.IntN(len(firms))]
		} else {
			s = plain[r.IntN(len(plain))]
		}
		out[i] = fmt.Sprintf("%s %s %d", s, words[r.IntN(len(words))], r.IntN(1000))
	}
	return out
}

func benchMatch(b *testing.B, path string) {
	w, err := Load(path)
	if err != nil {
		b.Fatal(err)
	}
	texts := registryBenchTexts(10000)
	Fold("華") // build the traditional→simplified table outside the timing
	b.ResetTimer()
	for b.Loop() {
		for _, s := range texts {
			w.Match(s)
		}
	}
	b.ReportMetric(float64(len(texts))*float64(b.N)/b.Elapsed().Seconds(), "texts/s")
}

// BenchmarkMatch10kRegistry: 10,000 texts against the full registry.
func BenchmarkMatch10kRegistry(b *testing.B) { benchMatch(b, "../../configs/watchlist.yaml") }

// BenchmarkMatch10kOld28: the same texts against the 28-entry list it replaced.
func BenchmarkMatch10kOld28(b *testing.B) { benchMatch(b, "testdata/watchlist-28.yaml") }
