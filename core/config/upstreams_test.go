package config

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestUpstreamsAllows(t *testing.T) {
	t.Parallel()
	c := &Config{Providers: BuiltinProviders()}
	c.Security.AllowedUpstreams = []string{"https://gw.example/openai", "http://10.0.0.7:8000"}
	c.SetDefaults()
	u := c.AllowedUpstreams()
	tests := []struct {
		name string
		url  string
		want bool
	}{
		{"provider upstream", "https://api.openai.com", true},
		{"provider upstream with path", "https://api.openai.com/v1", true},
		{"host case and default port", "https://API.OpenAI.com:443/v1", true},
		{"trailing dot", "https://api.openai.com./v1", true},
		{"groq base path", "https://api.groq.com/openai/v1", true},
		{"groq outside base path", "https://api.groq.com/other", false},
		{"allowed entry", "https://gw.example/openai/v2", true},
		{"segment boundary", "https://gw.example/openai-evil", false},
		{"encoded slash is no boundary", "https://gw.example/openai%2F..%2Fx", false},
		{"dot segments", "https://gw.example/openai/../admin", false},
		{"parent of entry", "https://gw.example/", false},
		{"http entry with port", "http://10.0.0.7:8000/v1", true},
		{"other port", "http://10.0.0.7:8001/v1", false},
		{"scheme downgrade", "http://api.openai.com", false},
		{"unknown host", "https://attacker.example", false},
		{"suffix trick", "https://api.openai.com.attacker.example", false},
		{"credentials", "https://user:pw@api.openai.com", false},
		{"not a URL", "api.openai.com", false},
		{"empty", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, u.Allows(tc.url))
		})
	}
	err := u.Check("upstream_url", "https://attacker.example/v1")
	assert.True(t, errors.Is(err, ErrUpstreamNotAllowed))
	assert.Contains(t, err.Error(), "attacker.example")
	assert.NoError(t, u.Check("upstream_url", "https://api.anthropic.com"))
	var nilU *Upstreams
	assert.False(t, nilU.Allows("https://api.openai.com"))
}

func TestAllowedUpstreamsValidated(t *testing.T) {
	t.Parallel()
	c := &Config{Providers: BuiltinProviders()}
	c.Security.AllowedUpstreams = []string{"ftp://x", "https://u:p@h.example", "https://ok.example"}
	c.SetDefaults()
	err := c.Validate()
	if assert.Error(t, err) {
		assert.Contains(t, err.Error(), "security.allowed_upstreams[0]")
		assert.Contains(t, err.Error(), "security.allowed_upstreams[1]")
		assert.NotContains(t, err.Error(), "security.allowed_upstreams[2]")
	}
}
