package textnorm

import "sort"

//go:generate go run gen_confusables.go

// confusable is one entry of the generated homoglyph table.
type confusable struct {
	r  rune
	to byte
}

// foldConfusable returns the ASCII character r is confusable with, or 0.
func foldConfusable(r rune) byte {
	if r < confusables[0].r || r > confusables[len(confusables)-1].r {
		return 0
	}
	i := sort.Search(len(confusables), func(i int) bool { return confusables[i].r >= r })
	if i < len(confusables) && confusables[i].r == r {
		return confusables[i].to
	}
	return 0
}
