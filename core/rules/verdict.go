package rules

import "slices"

// Phase says which side of the exchange texts come from.
type Phase uint8

// Phases. A rule runs in the phases its scope covers (input by default).
const (
	Input  Phase = 1
	Output Phase = 2
)

// Text is one text extracted from a request or response by the proxy.
type Text struct {
	Data []byte
	Role string // system, user, assistant, tool, developer
	Kind string // message, tool_call, tool_result, delta, prompt
}

// Action is the outcome of a check.
type Action uint8

// Actions, in increasing severity.
const (
	Allow Action = iota
	Mask
	Block
)

func (a Action) String() string {
	switch a {
	case Mask:
		return "mask"
	case Block:
		return "block"
	}
	return "allow"
}

// Finding actions.
const (
	FindingFail  = "fail"
	FindingMask  = "mask"
	FindingWarn  = "warn"
	FindingLog   = "log"
	FindingError = "error"
)

// Verdict is the result of a check. Reuse one Verdict per request: Check
// resets it and keeps the slices' capacity, so a warm allow path does not
// allocate.
type Verdict struct {
	Action Action
	Reason string // for Block: which rule and why (never the matched text)
	Rule   string // the rule that blocked
	// Failed says the block is a rule that could not run (its plugin
	// failed), not a match; Reason is then generic.
	Failed bool
	// Edits replace spans of the texts (Mask), sorted by text and start,
	// never overlapping. Replacement bytes are shared: do not modify them.
	Edits []Edit
	// Findings record what each rule saw: spans, never the matched bytes.
	Findings []Finding
	// Errors are the rules whose plugin failed in this check, blocked or
	// allowed by their on_error, with the cause for logs and events (never
	// for the client).
	Errors []RuleError

	arena []byte // guest-provided replacements
	view  detectionView
}

// RuleError is one rule that could not run.
type RuleError struct {
	Rule, Plugin, Version string // Version: the plugin's sha256
	Blocked               bool   // on_error blocked the request
	Err                   error
}

// Edit replaces Data[Start:End] of texts[Text].
type Edit struct {
	Text       int
	Start, End int
	// Replacement is "[REDACTED:<detector>]" unless the plugin chose one.
	Replacement []byte
}

// Finding is one thing a rule found. Text is -1 (and Start, End 0) when the
// finding has no span: a plugin failure or a plugin's own block decision.
type Finding struct {
	Rule, Detector, Action string
	Text                   int
	Start, End             int
}

// Reset empties v, keeping its capacity.
func (v *Verdict) Reset() {
	v.Action, v.Reason, v.Rule, v.Failed = Allow, "", "", false
	clear(v.Errors) // drop the errors' references
	v.Errors = v.Errors[:0]
	v.Edits = v.Edits[:0]
	v.Findings = v.Findings[:0]
	v.arena = v.arena[:0]
}

func (v *Verdict) block(rule, reason string) {
	v.Action, v.Rule, v.Reason, v.Failed = Block, rule, reason, false
	v.Edits = v.Edits[:0]
}

// finish orders the edits and merges overlapping ones: the union of the
// spans takes the replacement of the longer edit (the earlier on a tie).
func (v *Verdict) finish() {
	if v.Action == Block || len(v.Edits) == 0 {
		return
	}
	v.Action = Mask
	slices.SortStableFunc(v.Edits, func(a, b Edit) int {
		if a.Text != b.Text {
			return a.Text - b.Text
		}
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return b.End - a.End
	})
	out := v.Edits[:1]
	for _, e := range v.Edits[1:] {
		last := &out[len(out)-1]
		if e.Text != last.Text || e.Start >= last.End {
			out = append(out, e)
			continue
		}
		if e.End-e.Start > last.End-last.Start {
			last.Replacement = e.Replacement
		}
		last.End = max(last.End, e.End)
	}
	v.Edits = out
}

// Apply appends to dst the text src (texts[text].Data) with v's edits for
// that text applied.
func (v *Verdict) Apply(text int, src, dst []byte) []byte {
	pos := 0
	for _, e := range v.Edits {
		if e.Text != text || e.Start < pos || e.End > len(src) {
			continue
		}
		dst = append(dst, src[pos:e.Start]...)
		dst = append(dst, e.Replacement...)
		pos = e.End
	}
	return append(dst, src[pos:]...)
}
