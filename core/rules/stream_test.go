package rules

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/policy"
)

var streamRules = []policy.Rule{
	{Name: "pii", Type: "pii", Detect: []string{"ssn", "credit_card", "email", "phone"}, Action: "mask", Scope: "both"},
	{Name: "words", Type: "keyword", Keywords: []string{"jailbreak"}, Action: "fail", Scope: "output"},
	{Name: "note", Type: "keyword", Keywords: []string{"fyi"}, Action: "warn", Scope: "output"},
}

// runStream feeds chunks and returns the emitted text and the last verdict
// that blocked (if any) plus all findings.
func runStream(t *testing.T, rs *RuleSet, chunks []string) (string, bool, []Finding) {
	t.Helper()
	s := rs.NewStream(context.Background())
	var out strings.Builder
	var v Verdict
	var findings []Finding
	for _, c := range chunks {
		emit, err := s.Write([]byte(c), &v)
		require.NoError(t, err)
		out.Write(emit)
		findings = append(findings, v.Findings...)
		if v.Action == Block {
			return out.String(), true, findings
		}
	}
	emit, err := s.Flush(&v)
	require.NoError(t, err)
	out.Write(emit)
	findings = append(findings, v.Findings...)
	return out.String(), v.Action == Block, findings
}

func split(s string, at ...int) []string {
	var out []string
	prev := 0
	for _, a := range at {
		out = append(out, s[prev:a])
		prev = a
	}
	return append(out, s[prev:])
}

func TestStreamSplitMatches(t *testing.T) {
	t.Parallel()
	rs, err := sharedHost(t).Compile(streamRules, nil)
	require.NoError(t, err)
	require.Positive(t, rs.StreamTail())
	text := "Sure. Contact jane.doe@example.com or 415-555-0132; SSN 123-45-6789, card 4111 1111 1111 1111. " +
		strings.Repeat("Plenty of harmless words follow here. ", 12) + "fyi done"
	want := "Sure. Contact [REDACTED:email] or [REDACTED:phone]; SSN [REDACTED:ssn], card [REDACTED:credit_card]. " +
		strings.Repeat("Plenty of harmless words follow here. ", 12) + "fyi done"

	cases := []struct {
		name   string
		chunks []string
	}{
		{name: "one chunk", chunks: []string{text}},
		{name: "email split", chunks: split(text, 20, 27)},
		{name: "ssn split", chunks: split(text, 60, 62)},
		{name: "card split", chunks: split(text, 80, 85)},
		{name: "token-sized deltas", chunks: chunkEvery(text, 4)},
		{name: "byte deltas", chunks: chunkEvery(text, 1)},
	}
	for at := 10; at < 100; at += 7 {
		cases = append(cases, struct {
			name   string
			chunks []string
		}{name: "two chunks", chunks: split(text, at)})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, blocked, findings := runStream(t, rs, tc.chunks)
			assert.False(t, blocked)
			assert.Equal(t, want, got)
			var dets []string
			for _, f := range findings {
				dets = append(dets, f.Detector)
			}
			assert.Equal(t, []string{"email", "phone", "ssn", "credit_card", "keyword"}, dets)
			for _, f := range findings {
				if f.Detector == "email" {
					assert.Equal(t, "jane.doe@example.com", text[f.Start:f.End], "stream offsets")
				}
			}
		})
	}
}

func chunkEvery(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}

func TestStreamBlocks(t *testing.T) {
	t.Parallel()
	rs, err := sharedHost(t).Compile(streamRules, nil)
	require.NoError(t, err)
	for _, chunks := range [][]string{
		{"here is a jail", "break for you and a lot more text after it to pass the tail", strings.Repeat("x", 300)},
		chunkEvery("short jailbreak", 3),
	} {
		got, blocked, _ := runStream(t, rs, chunks)
		assert.True(t, blocked)
		assert.NotContains(t, got, "jailbreak")
	}
	// After a block the stream stays blocked.
	s := rs.NewStream(context.Background())
	var v Verdict
	_, err = s.Write([]byte("jailbreak"), &v)
	require.NoError(t, err)
	_, err = s.Flush(&v)
	require.NoError(t, err)
	require.Equal(t, Block, v.Action)
	emit, err := s.Write([]byte("more"), &v)
	require.NoError(t, err)
	assert.Empty(t, emit)
	assert.Equal(t, Block, v.Action)
}

func TestStreamHoldBackIsBounded(t *testing.T) {
	t.Parallel()
	rs, err := sharedHost(t).Compile(streamRules, nil)
	require.NoError(t, err)
	s := rs.NewStream(context.Background())
	var v Verdict
	written, emitted := 0, 0
	for range 200 {
		emit, err := s.Write([]byte("lorem ipsum "), &v)
		require.NoError(t, err)
		written += 12
		emitted += len(emit)
		assert.LessOrEqual(t, written-emitted, rs.StreamTail()+12)
	}
}

func TestStreamWithoutOutputRules(t *testing.T) {
	t.Parallel()
	rs, err := sharedHost(t).Compile([]policy.Rule{{Name: "in", Type: "keyword", Keywords: []string{"x"}}}, nil)
	require.NoError(t, err)
	assert.Zero(t, rs.StreamTail())
	s := rs.NewStream(context.Background())
	var v Verdict
	emit, err := s.Write([]byte("x passes"), &v)
	require.NoError(t, err)
	assert.Equal(t, "x passes", string(emit))
}

func TestStreamTailOfContractorRules(t *testing.T) {
	t.Parallel()
	rs, err := sharedHost(t).Compile(contractorRules(t), nil)
	require.NoError(t, err)
	// pii (scope both) is the only output rule; api_key's 256 bytes is its
	// longest detector, plus one byte to settle word boundaries.
	assert.Equal(t, 257, rs.StreamTail())
}

// runStreamBatched is runStream for a relay that checks once per upstream
// read: every batch chunks are appended, then one Write(nil) checks them.
func runStreamBatched(t *testing.T, rs *RuleSet, chunks []string, batch int) (string, bool, []Finding) {
	t.Helper()
	s := rs.NewStream(context.Background())
	var out strings.Builder
	var v Verdict
	var findings []Finding
	for i, c := range chunks {
		s.Append([]byte(c))
		if (i+1)%batch != 0 && i != len(chunks)-1 {
			continue
		}
		emit, err := s.Write(nil, &v)
		require.NoError(t, err)
		out.Write(emit)
		findings = append(findings, v.Findings...)
		if v.Action == Block {
			return out.String(), true, findings
		}
	}
	emit, err := s.Flush(&v)
	require.NoError(t, err)
	out.Write(emit)
	findings = append(findings, v.Findings...)
	return out.String(), v.Action == Block, findings
}

// TestStreamAppendBatches: deltas appended and checked in batches give
// the text, masks and findings (in stream offsets) of one check per delta,
// whatever the batch size and wherever a secret is split.
func TestStreamAppendBatches(t *testing.T) {
	t.Parallel()
	rs, err := sharedHost(t).Compile(streamRules, nil)
	require.NoError(t, err)
	text := "Sure. Contact jane.doe@example.com or 415-555-0132; SSN 123-45-6789, card 4111 1111 1111 1111. " +
		strings.Repeat("Plenty of harmless words follow here. ", 12) + "fyi done"
	want := "Sure. Contact [REDACTED:email] or [REDACTED:phone]; SSN [REDACTED:ssn], card [REDACTED:credit_card]. " +
		strings.Repeat("Plenty of harmless words follow here. ", 12) + "fyi done"
	for _, chunks := range [][]string{chunkEvery(text, 4), chunkEvery(text, 1), split(text, 20, 27), split(text, 60, 62)} {
		for _, batch := range []int{1, 2, 3, 7, 50, 1000} {
			got, blocked, findings := runStreamBatched(t, rs, chunks, batch)
			assert.False(t, blocked)
			assert.Equal(t, want, got, "batch %d", batch)
			var dets []string
			for _, f := range findings {
				dets = append(dets, f.Detector)
				if f.Detector == "email" {
					assert.Equal(t, "jane.doe@example.com", text[f.Start:f.End], "stream offsets")
				}
			}
			assert.Equal(t, []string{"email", "phone", "ssn", "credit_card", "keyword"}, dets, "batch %d", batch)
		}
	}
	for _, batch := range []int{1, 4, 100} {
		got, blocked, _ := runStreamBatched(t, rs, chunkEvery("here is a jailbreak and "+strings.Repeat("x", 400), 3), batch)
		assert.True(t, blocked, "batch %d", batch)
		assert.NotContains(t, got, "jailbreak")
	}
	// Without output rules appended text passes through unchecked.
	none, err := sharedHost(t).Compile([]policy.Rule{{Name: "in", Type: "keyword", Keywords: []string{"x"}}}, nil)
	require.NoError(t, err)
	got, _, _ := runStreamBatched(t, none, []string{"x ", "passes", " too"}, 2)
	assert.Equal(t, "x passes too", got)
}

// TestStreamReset: a reset stream starts over (nothing held back from the
// last response, not blocked) under its new rule set.
func TestStreamReset(t *testing.T) {
	t.Parallel()
	rs, err := sharedHost(t).Compile(streamRules, nil)
	require.NoError(t, err)
	none, err := sharedHost(t).Compile([]policy.Rule{{Name: "in", Type: "keyword", Keywords: []string{"x"}}}, nil)
	require.NoError(t, err)
	s := rs.NewStream(context.Background())
	var v Verdict
	_, err = s.Write([]byte("held back: jane.doe@exam"), &v)
	require.NoError(t, err)
	s.Reset(rs, context.Background())
	emit, err := s.Write([]byte("fresh start"), &v)
	require.NoError(t, err)
	tail, err := s.Flush(&v)
	require.NoError(t, err)
	assert.Equal(t, "fresh start", string(emit)+string(tail))
	_, err = s.Write([]byte("jailbreak"), &v)
	require.NoError(t, err)
	_, err = s.Flush(&v)
	require.NoError(t, err)
	require.Equal(t, Block, v.Action)
	s.Reset(none, context.Background())
	emit, err = s.Write([]byte("jailbreak passes without output rules"), &v)
	require.NoError(t, err)
	assert.Equal(t, "jailbreak passes without output rules", string(emit))
	assert.Equal(t, Allow, v.Action)
}
