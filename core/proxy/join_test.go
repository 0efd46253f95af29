package proxy

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/rules"
	"github.com/tokenomics-dev/tokenomics/providers"
)

// joinFixture builds an exchange whose texts are the given parts of one
// message (index 0), preceded by a text of another message.
func joinFixture(parts ...string) *exchange {
	x := &exchange{}
	x.refs = append(x.refs, providers.TextRef{Index: 0, Part: -1, Kind: "message", Role: "system"})
	x.texts = append(x.texts, rules.Text{Data: []byte("other"), Kind: "message", Role: "system"})
	for i, p := range parts {
		x.refs = append(x.refs, providers.TextRef{Index: 1, Part: i, Kind: "message", Role: "user"})
		x.texts = append(x.texts, rules.Text{Data: []byte(p), Kind: "message", Role: "user"})
	}
	return x
}

func TestJoinParts(t *testing.T) {
	t.Parallel()
	x := joinFixture("x9", "123-45-", "6789")
	x.joinParts()
	require.Len(t, x.texts, 4+2)
	assert.Equal(t, "x9123-45-6789", string(x.texts[4].Data))
	assert.Equal(t, "x9\n123-45-6789", string(x.texts[5].Data))

	// A mask on the smart join, over "123-45-6789", lands on parts 2 and 3.
	x.verdict.Edits = append(x.verdict.Edits, rules.Edit{Text: 5, Start: 3, End: 14, Replacement: []byte("[R]")})
	x.splitJoined()
	require.Len(t, x.texts, 4)
	assert.Equal(t, rules.Mask, x.verdict.Action)
	assert.Equal(t, []rules.Edit{
		{Text: 2, Start: 0, End: 7, Replacement: []byte("[R]")},
		{Text: 3, Start: 0, End: 4},
	}, x.verdict.Edits)
	assert.Equal(t, "[R]", string(x.verdict.Apply(2, x.texts[2].Data, nil)))
	assert.Empty(t, string(x.verdict.Apply(3, x.texts[3].Data, nil)))
	assert.Equal(t, "x9", string(x.verdict.Apply(1, x.texts[1].Data, nil)))
}

func TestJoinPartsMergesWithPartEdits(t *testing.T) {
	t.Parallel()
	x := joinFixture("ab", "cd")
	x.joinParts()
	// The plain join finds "bc"; part 1 itself had "cd" masked.
	x.verdict.Edits = append(x.verdict.Edits,
		rules.Edit{Text: 2, Start: 0, End: 2, Replacement: []byte("<P>")},
		rules.Edit{Text: 3, Start: 1, End: 3, Replacement: []byte("<J>")})
	x.verdict.Action = rules.Mask
	x.splitJoined()
	assert.Equal(t, "a<J>", string(x.verdict.Apply(1, x.texts[1].Data, nil)))
	assert.Equal(t, "<P>", string(x.verdict.Apply(2, x.texts[2].Data, nil)))
}

func TestJoinPartsSingleParts(t *testing.T) {
	t.Parallel()
	x := joinFixture("only")
	x.joinParts()
	assert.Len(t, x.texts, 2)
	x.splitJoined()
	assert.Len(t, x.texts, 2)
}
