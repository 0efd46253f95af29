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
