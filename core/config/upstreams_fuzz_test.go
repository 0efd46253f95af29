package config

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzUpstreamsAllows: whatever the URL, an allowed one has the scheme and
// host of a configured entry; the parser never panics.
func FuzzUpstreamsAllows(f *testing.F) {
	for _, s := range []string{"https://api.openai.com/v1", "https://gw.example/openai/../x", "http://[::1]:80/",
		"https://API.OPENAI.COM.", "https://u@api.openai.com", "https://gw.example/openai%2f..", "//api.openai.com"} {
		f.Add(s)
	}
	c := &Config{Providers: BuiltinProviders()}
	c.Security.AllowedUpstreams = []string{"https://gw.example/openai"}
	c.SetDefaults()
	u := c.AllowedUpstreams()
	hosts := map[string]bool{"api.openai.com": true, "api.anthropic.com": true, "api.groq.com": true,
		"api.mistral.ai": true, "gw.example": true}
	f.Fuzz(func(t *testing.T, raw string) {
		if !u.Allows(raw) {
			return
		}
		p, err := url.Parse(strings.TrimSpace(raw))
		if err != nil {
			t.Fatalf("allowed %q, which does not parse: %v", raw, err)
		}
		if p.Scheme != "https" || !hosts[strings.TrimSuffix(strings.ToLower(p.Hostname()), ".")] {
			t.Fatalf("allowed %q: scheme %q host %q are not configured", raw, p.Scheme, p.Hostname())
		}
	})
}
