package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRun(t *testing.T) {
	t.Parallel()
	env := map[string]string{"FAKEUPSTREAM_ANTHROPIC_KEY": "ak-env"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-openai-key", "sk-flag", "-fail-models", "bad-model, other"},
			func(k string) string { return env[k] }, outW, io.Discard)
		_ = outW.Close()
	}()
	url, err := bufio.NewReader(outR).ReadString('\n')
	require.NoError(t, err)
	url = strings.TrimSpace(url)
	require.True(t, strings.HasPrefix(url, "http://127.0.0.1:"), url)

	post := func(path, body string, hdr map[string]string) int {
		req, err := http.NewRequest(http.MethodPost, url+path, strings.NewReader(body))
		require.NoError(t, err)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	chat := `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`
	tests := []struct {
		name   string
		path   string
		body   string
		hdr    map[string]string
		status int
	}{
		{name: "flag key", path: "/v1/chat/completions", body: chat, hdr: map[string]string{"Authorization": "Bearer sk-flag"}, status: 200},
		{name: "wrong key", path: "/v1/chat/completions", body: chat, hdr: map[string]string{"Authorization": "Bearer x"}, status: 401},
		{name: "fail model", path: "/v1/chat/completions", body: `{"model":"other","messages":[{"role":"user","content":"hi"}]}`,
			hdr: map[string]string{"Authorization": "Bearer sk-flag"}, status: 503},
		{name: "env key", path: "/v1/messages", body: `{"model":"c","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`,
			hdr: map[string]string{"x-api-key": "ak-env", "anthropic-version": "2023-06-01"}, status: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.status, post(tc.path, tc.body, tc.hdr))
		})
	}
	cancel()
	assert.Equal(t, 0, <-done)
}

func TestRunBadFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		code int
	}{
		{name: "unknown flag", args: []string{"-nope"}, code: 2},
		{name: "extra argument", args: []string{"extra"}, code: 2},
		{name: "bad address", args: []string{"-addr", "256.1.1.1:0"}, code: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code := run(context.Background(), tc.args, func(string) string { return "" }, io.Discard, io.Discard)
			assert.Equal(t, tc.code, code)
		})
	}
}
