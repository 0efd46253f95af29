package rules

import "github.com/tokenomics-dev/tokenomics/core/textnorm"

// kindToolArgs is the kind of tool-call arguments: JSON text, whose
// escapes the detection view decodes.
const kindToolArgs = "tool_args"

// detectionView is the state Check keeps to run rules on the normalized
// view of its texts (see core/textnorm) and map what they find back.
type detectionView struct {
	norm  textnorm.Normalizer
	texts []Text
	on    bool // texts differ from the caller's
}

// normalized returns the texts rules read: the caller's, or their
// detection views when any differs.
func (v *Verdict) normalized(texts []Text) []Text {
	d := &v.view
	d.norm.Reset()
	d.on = false
	for i := range texts {
		d.norm.Add(texts[i].Data, texts[i].Kind == kindToolArgs)
	}
	if d.norm.Identity() {
		return texts
	}
	d.on = true
	d.texts = d.texts[:0]
	for i, t := range texts {
		t.Data = d.norm.Text(i)
		d.texts = append(d.texts, t)
	}
	return d.texts
}

// mapBack turns the spans of edits and findings from view offsets into
// offsets of the caller's texts, so masks cut the original bytes (an
// invisible character inside a match is masked with it). A replacement
// inside JSON text is escaped to stay valid inside its string literal.
func (v *Verdict) mapBack() {
	d := &v.view
	if !d.on {
		return
	}
	for i := range v.Edits {
		e := &v.Edits[i]
		e.Start, e.End = d.norm.Map(e.Text, e.Start, e.End)
		if d.norm.JSON(e.Text) {
			e.Replacement = d.norm.EscapeJSON(e.Replacement)
		}
	}
	for i := range v.Findings {
		f := &v.Findings[i]
		if f.Text >= 0 {
			f.Start, f.End = d.norm.Map(f.Text, f.Start, f.End)
		}
	}
	// Edits that only touched in the view can overlap in the source: a view
	// byte inside one character's expansion (NFKC "ﬁ" -> "fi") maps to the
	// whole character. Merge again, or Apply would skip the later edit and
	// leave what only it covered unmasked.
	v.finish()
}

// maxViewHold bounds how far a stream's hold-back may grow, in multiples of
// the rule set's tail, when the held text is mostly characters the view
// drops: without it, a stream of invisible characters would be held back
// without end.
const maxViewHold = 16

// viewCut moves a stream's emit point back so that the held-back tail holds
// tail bytes of the detection view, not only of the source: a match padded
// with invisible characters is longer in the source than any pattern. It
// returns cut unchanged when the last Check read the source itself.
func (v *Verdict) viewCut(cut, tail, pending int) int {
	d := &v.view
	if !d.on {
		return cut
	}
	n := len(d.norm.Text(0))
	if n <= tail {
		return max(0, min(cut, pending-maxViewHold*tail))
	}
	src, _ := d.norm.Map(0, n-tail, n-tail)
	return min(cut, max(src, pending-maxViewHold*tail))
}
