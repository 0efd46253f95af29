package fakeupstream

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestVariantKeys(t *testing.T) {
	t.Parallel()
	cases := []struct {
		body string
		want []string
	}{
		{`{"model":"a","messages":[{"role":"user","content":"x"}]}`, nil},
		{`{"model":"a","MODEL":"b"}`, []string{"MODEL"}},
		{`{"mod\u0065l":"a"}`, []string{`mod\u0065l`}},
		{"{\"max_to\u212aens\":1}", []string{"max_to\u212aens"}},
		{`{"a":{"x":1,"X":2},"b":"{\"Model\":1}"}`, []string{"X"}},
		{`{"properties":{"userId":{"type":"string"}}}`, nil},
		{`{"content":"a","content":"b"}`, []string{"content"}},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, variantKeys([]byte(tc.body)), tc.body)
	}
}

// TestFoldKeysServer: the fake reads a case variant as a lax server does
// (the last "model" spelling wins) and, in FoldKeys mode, records it.
func TestFoldKeysServer(t *testing.T) {
	t.Parallel()
	s, url := startServer(t, Options{FoldKeys: true})
	r := postOpenAI(t, url, "/v1/chat/completions",
		`{"model":"gpt-4o-mini","MODEL":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`)
	assert.Equal(t, 200, r.status, string(r.body))
	assert.Contains(t, string(r.body), `"model":"gpt-4o"`)
	assert.Equal(t, []string{"MODEL"}, s.VariantKeys())

	plain, url2 := startServer(t, Options{})
	postOpenAI(t, url2, "/v1/chat/completions", `{"model":"a","MODEL":"b","messages":[{"role":"user","content":"hi"}]}`)
	assert.Empty(t, plain.VariantKeys(), "recorded only in FoldKeys mode")
}
