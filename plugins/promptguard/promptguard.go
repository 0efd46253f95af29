package promptguard

import (
	"errors"
	"strconv"

	"github.com/tokenomics-dev/tokenomics/sdk"
	"github.com/tokenomics-dev/tokenomics/sdk/abi"
)

const defaultThreshold = 0.5

type signal struct {
	name    string
	weight  float64
	pattern string
}

// signals are case-insensitive; \s+ tolerates line breaks and runs of spaces.
var signals = []signal{
	{"ignore_instructions", 0.6, `(?i)\b(?:ignore|disregard|forget|skip|override|bypass)\s+(?:(?:all|any|the|your|my|of|these|those)\s+){0,3}(?:previous|prior|above|earlier|preceding|original|initial|system|safety)\s+(?:instructions?|prompts?|rules|directions|guidelines|directives|context|messages?)\b`},
	{"disregard_above", 0.5, `(?i)\b(?:disregard|ignore|forget)\s+(?:everything|all|anything)\s+(?:above|before|previously|(?:you(?:'ve|\s+have)\s+been|you\s+were)\s+told)\b`},
	{"role_override", 0.4, `(?i)\byou\s+are\s+(?:now|no\s+longer)\b|\bfrom\s+now\s+on,?\s+you\b|\bpretend\s+(?:to\s+be|you\s+are)\b|\brole-?play\s+as\b|\bact\s+as\s+(?:an?\s+)?(?:unrestricted|unfiltered|uncensored|evil|rogue)\b`},
	{"system_prompt", 0.35, `(?i)\b(?:system|initial|hidden|original|secret)\s+prompt\b|\b(?:reveal|show|print|repeat|output|leak)\s+(?:me\s+)?(?:your|the)\s+(?:instructions|prompt|rules|guidelines)\b`},
	{"developer_mode", 0.5, `(?i)\b(?:developer|dev|god|admin|debug|DAN)\s+mode\b|\bdo\s+anything\s+now\b`},
	{"jailbreak", 0.5, `(?i)\bjail\s*-?break(?:s|ing|ed)?\b|\b(?:without|no|free\s+of)\s+(?:any\s+)?(?:restrictions|limitations|filters|censorship|guardrails)\b`},
	{"prompt_delimiters", 0.3, `(?i)<\|?(?:im_start|im_end|endoftext|system)\|?>|\[/?INST\]|###\s*(?:system|instruction)s?\b`},
	{"obfuscation", 0.25, `(?i)\b(?:base64|rot13|hex)[\s-]*(?:decode|encoded|decoding)\b|\bdecode\s+(?:this|the\s+following)\b|[\x{200B}-\x{200D}\x{2060}\x{FEFF}]`},
	{"encoded_payload", 0.15, `[A-Za-z0-9+/]{80,}={0,2}`},
}

type checker struct {
	re        *sdk.Regex
	threshold float64
	replace   []byte
	dets      []int
	found     []sdk.Match
	spans     []span
	seen      [16]bool
	reason    []byte
}

type span struct{ text, start, end, sig int }

// Configure prepares one rule of this type.
func Configure(c *sdk.Config) (sdk.Checker, error) {
	var cfg struct {
		Threshold float64
		Replace   string
	}
	var perr error
	err := abi.DecodeFields(c.Raw, func(k, v string) bool {
		switch k {
		case "threshold":
			cfg.Threshold, perr = strconv.ParseFloat(v, 64)
		case "replace":
			cfg.Replace = v
		default:
			return false
		}
		return true
	})
	if err == nil {
		err = perr
	}
	if err != nil {
		return nil, err
	}
	if cfg.Threshold == 0 {
		cfg.Threshold = defaultThreshold
	}
	if !(cfg.Threshold > 0 && cfg.Threshold <= 1) { // NaN too
		return nil, errors.New("threshold must be in (0,1]")
	}
	patterns := make([]string, len(signals))
	ch := &checker{threshold: cfg.Threshold}
	if cfg.Replace != "" {
		ch.replace = []byte(cfg.Replace)
	}
	for i, s := range signals {
		patterns[i] = s.pattern
		ch.dets = append(ch.dets, c.Detector(s.name))
	}
	c.SetMaxMatch(512)
	re, err := sdk.CompileRegex(patterns...)
	if err != nil {
		return nil, err
	}
	ch.re = re
	return ch, nil
}

func (ch *checker) Check(req *sdk.Request, res *sdk.Result) error {
	ch.spans = ch.spans[:0]
	ch.seen = [16]bool{}
	for ti, t := range req.Texts {
		if t.Kind == "prompt" { // the policy's own prompts are trusted
			continue
		}
		ch.found = ch.re.Find(t.Data, false, ch.found[:0])
		for _, m := range ch.found {
			ch.spans = append(ch.spans, span{ti, m.Start, m.End, m.Index})
			ch.seen[m.Index] = true
		}
	}
	if len(ch.spans) == 0 {
		return nil
	}
	score := 0.0
	for i, s := range signals {
		if ch.seen[i] {
			score += s.weight
		}
	}
	score = min(score, 1)
	if score < ch.threshold {
		return nil
	}
	if ch.replace != nil {
		ch.replaceTexts(req, res)
		return nil
	}
	for _, s := range ch.spans {
		res.Match(s.text, s.start, s.end, ch.dets[s.sig])
	}
	r := append(ch.reason[:0], "prompt injection score "...)
	r = strconv.AppendFloat(r, score, 'f', 2, 64)
	r = append(r, " >= "...)
	r = strconv.AppendFloat(r, ch.threshold, 'f', 2, 64)
	r = append(r, " ("...)
	first := true
	for i, s := range signals {
		if ch.seen[i] {
			if !first {
				r = append(r, ", "...)
			}
			r = append(r, s.name...)
			first = false
		}
	}
	r = append(r, ')')
	ch.reason = r
	res.Block(string(r))
	return nil
}

// replaceTexts masks each text holding a signal as a whole, once, under its
// first signal's detector.
func (ch *checker) replaceTexts(req *sdk.Request, res *sdk.Result) {
	last := -1
	for _, s := range ch.spans { // in text order
		if s.text == last {
			continue
		}
		last = s.text
		res.Replace(s.text, 0, len(req.Texts[s.text].Data), ch.dets[s.sig], ch.replace)
	}
}
