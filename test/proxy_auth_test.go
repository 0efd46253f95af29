package test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProxyAuth: every way a client presents a token, and every way one is
// refused. Refusals are 401 in the OpenAI error shape and never reach the
// upstream.
func TestProxyAuth(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "")
	tok, _ := px.token(t, `{"model_regex":"^gpt-4o"}`)
	unknown := "tkn_" + strings.Repeat("A", 43)
	cases := []struct {
		name   string
		header []string
		status int
		code   string
	}{
		{"bearer", []string{"Authorization", "Bearer " + tok}, 200, ""},
		{"bearer lower case scheme", []string{"Authorization", "bearer " + tok}, 200, ""},
		{"raw token in authorization", []string{"Authorization", tok}, 200, ""},
		{"x-api-key", []string{"X-Api-Key", tok}, 200, ""},
		{"anthropic sdk style", []string{"x-api-key", tok, "anthropic-version", "2023-06-01"}, 200, ""},
		{"missing", nil, 401, "invalid_api_key"},
		{"empty bearer", []string{"Authorization", "Bearer "}, 401, "invalid_api_key"},
		{"unknown token", []string{"Authorization", "Bearer " + unknown}, 401, "invalid_api_key"},
		{"unknown x-api-key", []string{"X-Api-Key", unknown}, 401, "invalid_api_key"},
		{"provider key is not a token", []string{"Authorization", "Bearer " + fakeOpenAIKey}, 401, "invalid_api_key"},
		{"token with a typo", []string{"Authorization", "Bearer " + tok[:len(tok)-1] + "x"}, 401, "invalid_api_key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			marker := "auth " + strings.ReplaceAll(tc.name, " ", "_")
			r := pxDo(t, "POST", px.url+"/v1/chat/completions", pxChat("gpt-4o", marker, false, ""), tc.header...)
			require.Equal(t, tc.status, r.status, string(r.body))
			if tc.status == 200 {
				assert.Equal(t, "Echo: "+marker, pxReadChat(t, r.body).text)
				return
			}
			code, typ, _ := pxOpenAIError(t, r.body)
			assert.Equal(t, tc.code, code)
			assert.Equal(t, "authentication_error", typ)
			assert.Contains(t, r.header.Get("Content-Type"), "application/json")
			for _, up := range px.fake.Requests() {
				assert.NotContains(t, string(up.Body), marker, "a refused request reached the upstream")
			}
		})
	}
	t.Run("usage and models need a token too", func(t *testing.T) {
		t.Parallel()
		for _, path := range []string{"/v1/usage", "/v1/models"} {
			r := pxDo(t, "GET", px.url+path, "")
			require.Equal(t, 401, r.status, path)
			code, _, _ := pxOpenAIError(t, r.body)
			assert.Equal(t, "invalid_api_key", code, path)
		}
	})
}

// TestProxyTokenExpires: a token whose expiry is moved to a second from
// now (token update while the proxy runs) works until then and is refused
// with token_expired after.
func TestProxyTokenExpires(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "")
	tok, hash := px.token(t, `{"model_regex":"^gpt-4o"}`)
	chat := func() pxResp {
		return pxPost(t, px.url+"/v1/chat/completions", tok, pxChat("gpt-4o", "still here?", false, ""))
	}
	require.Equal(t, 200, chat().status)

	at := time.Now().Add(2 * time.Second).UTC().Truncate(time.Second)
	res := run(t, px.dir, px.env, "token", "update", "--hash", hash[:12], "--expires", at.Format(time.RFC3339))
	require.Equal(t, 0, res.code, res.stderr)
	if time.Now().Before(at.Add(-200 * time.Millisecond)) {
		r := chat()
		assert.Equal(t, 200, r.status, "before its expiry the token works: %s", r.body)
	}
	time.Sleep(time.Until(at) + 100*time.Millisecond)
	r := chat()
	require.Equal(t, 401, r.status, string(r.body))
	code, typ, _ := pxOpenAIError(t, r.body)
	assert.Equal(t, "token_expired", code)
	assert.Equal(t, "authentication_error", typ)

	// Created with --expires: same refusal once the time has passed.
	tok2, _ := px.token(t, `{"model_regex":"^gpt-4o"}`, "--expires", "1s")
	time.Sleep(1100 * time.Millisecond)
	r = pxPost(t, px.url+"/v1/chat/completions", tok2, pxChat("gpt-4o", "expired", false, ""))
	require.Equal(t, 401, r.status, string(r.body))
	code, _, _ = pxOpenAIError(t, r.body)
	assert.Equal(t, "token_expired", code)
}
