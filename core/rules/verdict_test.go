package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestVerdictMergeAndApply(t *testing.T) {
	t.Parallel()
	a, b := []byte("[A]"), []byte("[LONGER]")
	for _, tc := range []struct {
		name  string
		edits []Edit
		src   string
		want  string
	}{
		{name: "disjoint", edits: []Edit{{0, 6, 9, b}, {0, 0, 2, a}}, src: "0123456789", want: "[A]2345[LONGER]9"},
		{name: "overlap takes union and longer edit", edits: []Edit{{0, 2, 5, a}, {0, 3, 9, b}}, src: "0123456789", want: "01[LONGER]9"},
		{name: "nested", edits: []Edit{{0, 1, 9, a}, {0, 3, 4, b}}, src: "0123456789", want: "0[A]9"},
		{name: "other text ignored", edits: []Edit{{1, 0, 5, a}}, src: "0123456789", want: "0123456789"},
		{name: "adjacent kept apart", edits: []Edit{{0, 0, 2, a}, {0, 2, 4, a}}, src: "0123", want: "[A][A]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := Verdict{Edits: tc.edits}
			v.finish()
			assert.Equal(t, Mask, v.Action)
			for i := 1; i < len(v.Edits); i++ {
				if v.Edits[i].Text == v.Edits[i-1].Text {
					assert.GreaterOrEqual(t, v.Edits[i].Start, v.Edits[i-1].End)
				}
			}
			assert.Equal(t, tc.want, string(v.Apply(0, []byte(tc.src), nil)))
		})
	}
}

func TestVerdictReset(t *testing.T) {
	t.Parallel()
	v := Verdict{Action: Block, Reason: "r", Rule: "x", Edits: make([]Edit, 3), Findings: make([]Finding, 2)}
	v.Reset()
	assert.Equal(t, Allow, v.Action)
	assert.Empty(t, v.Reason)
	assert.Empty(t, v.Edits)
	assert.Empty(t, v.Findings)
	assert.Equal(t, 3, cap(v.Edits))
	assert.Equal(t, "allow", Allow.String())
	assert.Equal(t, "block", Block.String())
}
