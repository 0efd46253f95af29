package proxy

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/valyala/fasthttp"
)

func TestChunkedAnthropicMemo(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		uri     string
		length  int // -1: chunked
		noticed bool
	}{
		{name: "chunked messages", uri: "/v1/messages", length: -1, noticed: true},
		{name: "chunked alias with query", uri: "/messages?beta=true", length: -1, noticed: true},
		{name: "chunked count_tokens", uri: "/v1/messages/count_tokens", length: -1, noticed: true},
		{name: "sized messages", uri: "/v1/messages", length: 10},
		{name: "chunked chat", uri: "/v1/chat/completions", length: -1},
		{name: "look-alike path", uri: "/v1/messagesX", length: -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := &Server{}
			var h fasthttp.RequestHeader
			h.SetMethod("POST")
			h.SetRequestURI(tc.uri)
			h.SetContentLength(tc.length)
			assert.Equal(t, fasthttp.RequestConfig{}, s.headerReceived(&h), "no limit changes")
			assert.Equal(t, tc.noticed, s.chunked.take(&h))
			assert.False(t, s.chunked.take(&h), "taken once")
			assert.Zero(t, s.chunked.n.Load())
		})
	}
}
