package watchlist

import (
	"strings"
	"unicode/utf8"

	"github.com/mozillazg/go-pinyin"
)

// Pinyin spellings of Chinese names ("Zhongxin Zhengquan", "HUATAI
// ZHENGQUAN") appear in card feeds and English-language claims. They are
// derived from each entry's Chinese name (go-pinyin), so the registry does
// not list them:
//
//   - only names of at least minPinyinRunes characters once legal forms are
//     removed: the pinyin of a two- or three-character name is usually a
//     person's name or an ordinary word;
//   - a trailing organisational word (证券, 基金, 资本, ...) is a word of its
//     own, the rest is split into two-syllable words ("guotai junan
//     zhengquan"), or kept whole when it has an odd number of characters
//     ("huitianfu jijin");
//   - a spelling two entries share (国信证券 and 国新证券 are both "guoxin
//     zhengquan") or that is another entry's alias names neither.
const minPinyinRunes = 4

// pinyinSuffixes are organisational words split off before pairing syllables.
var pinyinSuffixes = []string{
	"资产管理", "证券", "基金", "资本", "投资", "资产", "资管", "咨询", "创投", "集团", "国际", "研究", "财经", "路演", "量化",
}

// Readings go-pinyin gets wrong for firm names (it picks a character's most
// common reading without context).
var pinyinOverride = map[rune]string{'长': "chang", '重': "chong", '乐': "le", '行': "hang", '华': "hua", '厦': "xia"}

var pinyinArgs = pinyin.NewArgs() // plain style, no tones; read-only after init

// pinyinName returns the derived pinyin alias of a Chinese name, "" when
// there is none (too short, or not all Chinese).
func pinyinName(name string) string {
	words := nameWords(name)
	if len(words) != 1 || !isHan(firstRune(words[0])) {
		return ""
	}
	w := words[0]
	if utf8.RuneCountInString(w) < minPinyinRunes {
		return ""
	}
	var parts []string
	for _, suf := range pinyinSuffixes {
		if base, ok := strings.CutSuffix(w, suf); ok && utf8.RuneCountInString(base) >= 2 {
			parts = append(syllableWords(base), syllableWords(suf)...)
			break
		}
	}
	if parts == nil {
		parts = syllableWords(w)
	}
	if parts == nil {
		return ""
	}
	return strings.Join(parts, " ")
}

// syllableWords spells s in pinyin as two-syllable words, or one word when
// s has an odd number of characters.
func syllableWords(s string) []string {
	var syl []string
	for _, r := range s {
		if p, ok := pinyinOverride[r]; ok {
			syl = append(syl, p)
			continue
		}
		ps := pinyin.SinglePinyin(r, pinyinArgs)
		if len(ps) == 0 || ps[0] == "" {
			return nil
		}
		syl = append(syl, ps[0])
	}
	if len(syl)%2 == 1 {
		return []string{strings.Join(syl, "")}
	}
	var out []string
	for i := 0; i < len(syl); i += 2 {
		out = append(out, syl[i]+syl[i+1])
	}
	return out
}
