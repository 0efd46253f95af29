package proxy

import (
	"strings"
	"testing"
)

func TestUpstreamAuthFailed(t *testing.T) {
	t.Parallel()
	for status, want := range map[int]bool{401: true, 403: true, 400: false, 404: false, 429: false, 500: false, 200: false} {
		if got := upstreamAuthFailed(status); got != want {
			t.Errorf("upstreamAuthFailed(%d) = %v, want %v", status, got, want)
		}
	}
}

func TestUpstreamAuthErr(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, prov, scheme, keyEnv string
		status                     int
		want                       []string
	}{
		{"bearer key", "openai", "", "OPENAI_API_KEY", 401, []string{"openai", "api_key_env OPENAI_API_KEY", "401"}},
		{"policy key", "anthropic", "header", "TEAM_B_KEY", 403, []string{"anthropic", "api_key_env TEAM_B_KEY", "403"}},
		{"no key sent", "local", "none", "", 401, []string{"local", "auth_scheme"}},
	} {
		e := upstreamAuthErr(tc.prov, tc.scheme, tc.keyEnv, tc.status)
		if e.Status != 502 || e.Code != "upstream_auth_failed" {
			t.Errorf("%s: status %d code %q, want 502 upstream_auth_failed", tc.name, e.Status, e.Code)
		}
		for _, w := range tc.want {
			if !strings.Contains(e.Message, w) {
				t.Errorf("%s: message %q lacks %q", tc.name, e.Message, w)
			}
		}
	}
}
