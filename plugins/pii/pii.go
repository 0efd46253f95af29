package pii

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/tokenomics-dev/tokenomics/sdk"
	"github.com/tokenomics-dev/tokenomics/sdk/abi"
	"github.com/tokenomics-dev/tokenomics/sdk/detect"
)

type candidate struct {
	start, end int
	det        int // index into dets, also the priority (lower wins ties)
}

type checker struct {
	re     *sdk.Regex
	dets   []detect.Detector
	detIdx []int // sdk detector index per dets entry
	patDet []int // dets index per compiled pattern
	found  []sdk.Match
	cands  []candidate
}

// Configure prepares one rule of this type.
func Configure(c *sdk.Config) (sdk.Checker, error) {
	var cfg struct{ Detect []string }
	err := abi.DecodeFields(c.Raw, func(k, v string) bool {
		if k != "detect" {
			return false
		}
		cfg.Detect = append(cfg.Detect, v)
		return true
	})
	if err != nil {
		return nil, err
	}
	if len(cfg.Detect) == 0 {
		return nil, errors.New("detect names no detector")
	}
	ch := &checker{}
	// Keep the priority order of sdk/detect, whatever order the policy uses.
	for _, d := range detect.Detectors {
		if slices.Contains(cfg.Detect, d.Name) {
			ch.dets = append(ch.dets, d)
		}
	}
	for _, name := range cfg.Detect {
		if _, ok := detect.Lookup(name); !ok {
			return nil, errors.New("unknown detector " + strconv.Quote(name) + " (known: " + strings.Join(detect.Names(), ", ") + ")")
		}
	}
	var patterns []string
	maxLen := 0
	for i, d := range ch.dets {
		ch.detIdx = append(ch.detIdx, c.Detector(d.Name))
		for _, p := range d.Patterns {
			patterns = append(patterns, p)
			ch.patDet = append(ch.patDet, i)
		}
		maxLen = max(maxLen, d.MaxLen)
	}
	c.SetMaxMatch(maxLen)
	re, err := sdk.CompileRegex(patterns...)
	if err != nil {
		return nil, err
	}
	ch.re = re
	return ch, nil
}

func (ch *checker) Check(req *sdk.Request, res *sdk.Result) error {
	// One host call finds the candidates of every text, ordered by text;
	// each text's run of them is validated and resolved on its own.
	ch.found = ch.re.FindIn(req, false, ch.found[:0])
	for rest := ch.found; len(rest) > 0; {
		ti := rest[0].Text
		n := 1
		for n < len(rest) && rest[n].Text == ti {
			n++
		}
		found := rest[:n]
		rest = rest[n:]
		if ti < 0 || ti >= len(req.Texts) {
			return errors.New("a match names no text")
		}
		t := req.Texts[ti]
		ch.cands = ch.cands[:0]
		for _, m := range found {
			di := ch.patDet[m.Index]
			end := m.End
			if v := ch.dets[di].Validate; v != nil {
				n := v(t.Data[m.Start:m.End])
				if n == 0 {
					continue
				}
				end = m.Start + n
			}
			ch.cands = append(ch.cands, candidate{m.Start, end, di})
		}
		for _, c := range resolve(ch.cands) {
			res.Match(ti, c.start, c.end, ch.detIdx[c.det])
			if req.First {
				return nil
			}
		}
	}
	return nil
}

// resolve drops candidates that overlap a longer one (or an equally long one
// of a higher-priority detector) and returns the rest ordered by start.
func resolve(cs []candidate) []candidate {
	slices.SortFunc(cs, func(a, b candidate) int {
		if la, lb := a.end-a.start, b.end-b.start; la != lb {
			return lb - la
		}
		if a.det != b.det {
			return a.det - b.det
		}
		return a.start - b.start
	})
	kept := cs[:0]
	for _, c := range cs {
		overlaps := false
		for _, k := range kept {
			if c.start < k.end && k.start < c.end {
				overlaps = true
				break
			}
		}
		if !overlaps {
			kept = append(kept, c)
		}
	}
	slices.SortFunc(kept, func(a, b candidate) int { return a.start - b.start })
	return kept
}
