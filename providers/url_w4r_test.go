package providers

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestW4RURLPercentDecoded: the rules read a URL as the host that fetches
// it does, percent-decoded, so "bob%40example.com" is an e-mail address;
// a masked URL is written back with a literal '%' encoded.
func TestW4RURLPercentDecoded(t *testing.T) {
	cases := []struct{ name, lit, text string }{
		{"at sign", `"https://x.example/a?o=bob%40example.com"`, "https://x.example/a?o=bob@example.com"},
		{"lower-case hex", `"https://x.example/123%2d45%2D6789"`, "https://x.example/123-45-6789"},
		{"JSON escape then percent", `"https://x.example/\u0025\u0034\u0030"`, "https://x.example/@"},
		{"broken escapes stay", `"https://x.example/%zz%4"`, "https://x.example/%zz%4"},
		{"plus kept", `"https://x.example/?q=a+b%25"`, "https://x.example/?q=a+b%"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(tc.lit)
			ref := TextRef{Start: 0, End: len(body), Form: FormURL}
			got, err := DecodeText([]byte("keep"), body, ref)
			require.NoError(t, err)
			assert.Equal(t, "keep"+tc.text, string(got))
		})
	}
	body := []byte(`"https://x.example/a?o=bob%40example.com&p=100%25"`)
	ref := TextRef{Start: 0, End: len(body), Form: FormURL}
	out, err := Splice(nil, body, []Edit{{Ref: ref, Text: []byte("https://x.example/a?o=[REDACTED:email]&p=100%")}})
	require.NoError(t, err)
	assert.Equal(t, `"https://x.example/a?o=%5BREDACTED:email%5D&p=100%25"`, string(out))
	back, err := DecodeText(nil, out, TextRef{Start: 0, End: len(out), Form: FormURL})
	require.NoError(t, err)
	assert.Equal(t, "https://x.example/a?o=[REDACTED:email]&p=100%", string(back), "what the rules read is what was written")
}

func FuzzW4RPercentDecode(f *testing.F) {
	f.Add([]byte("a%40b%zz%4"))
	f.Fuzz(func(t *testing.T, b []byte) {
		in := append([]byte("pre"), b...)
		out := percentDecode(in, 3)
		if len(out) > len(in) || string(out[:3]) != "pre" {
			t.Fatalf("percentDecode(%q) = %q", b, out)
		}
	})
}
