package fakeupstream

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRecordWhatArrived(t *testing.T) {
	t.Parallel()
	s, url := startServer(t, Options{})
	_, ok := s.LastRequest()
	require.False(t, ok)
	body := chatBody(t, "secret <masked>", map[string]any{"stream": true, "stream_options": map[string]any{"include_usage": true}})
	hdr := openAIHeaders()
	hdr["X-Custom"] = "1"
	res := do(t, http.MethodPost, url+"/v1/chat/completions?x=1", hdr, body)
	require.Equal(t, 200, res.status)
	// Rejected requests are recorded too.
	do(t, http.MethodPost, url+"/v1/chat/completions", nil, body)

	reqs := s.Requests()
	require.Len(t, reqs, 2)
	first := reqs[0]
	assert.Equal(t, http.MethodPost, first.Method)
	assert.Equal(t, "/v1/chat/completions", first.Path)
	assert.Equal(t, "x=1", first.RawQuery)
	assert.Equal(t, "Bearer "+testOpenAIKey, first.Header.Get("Authorization"))
	assert.Equal(t, "1", first.Header.Get("X-Custom"))
	assert.Equal(t, body, string(first.Body))
	var decoded struct {
		StreamOptions struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
	}
	require.NoError(t, first.JSON(&decoded))
	assert.True(t, decoded.StreamOptions.IncludeUsage)

	last, ok := s.LastRequest()
	require.True(t, ok)
	assert.Empty(t, last.Header.Get("Authorization"))
	assert.Greater(t, last.Seq, first.Seq)

	s.Reset()
	assert.Empty(t, s.Requests())
	_, ok = s.LastRequest()
	assert.False(t, ok)
}

func TestRecordHopByHopHeadersVisible(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	// Through the handler directly, so no client strips the headers first.
	req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(chatBody(t, "hi", nil)))
	req.Header.Set("Connection", "keep-alive, X-Hop")
	req.Header.Set("X-Hop", "1")
	req.Header.Set("Proxy-Authorization", "Basic x")
	req.Header.Set("Keep-Alive", "timeout=5")
	req.Header.Set("Te", "trailers")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	require.Equal(t, 200, w.Code)
	last, ok := s.LastRequest()
	require.True(t, ok)
	for _, h := range []string{"Connection", "X-Hop", "Proxy-Authorization", "Keep-Alive", "Te"} {
		assert.NotEmpty(t, last.Header.Get(h), h)
	}
}

func TestRecordRingBound(t *testing.T) {
	t.Parallel()
	rc := newRecorder(4)
	for i := range 10 {
		r := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/r%d", i), nil)
		rc.add(r, nil)
	}
	got := rc.list()
	require.Len(t, got, 4)
	for i, r := range got {
		assert.Equal(t, fmt.Sprintf("/r%d", 6+i), r.Path)
		assert.Equal(t, uint64(6+i), r.Seq)
	}
	last, ok := rc.last()
	require.True(t, ok)
	assert.Equal(t, "/r9", last.Path)
	rc.reset()
	rc.add(httptest.NewRequest(http.MethodGet, "/after", nil), nil)
	got = rc.list()
	require.Len(t, got, 1)
	assert.Equal(t, "/after", got[0].Path)
}

func TestRecordConcurrent(t *testing.T) {
	t.Parallel()
	rc := newRecorder(16)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 200 {
				rc.add(httptest.NewRequest(http.MethodGet, fmt.Sprintf("/w%d/%d", w, i), nil), nil)
				if i%10 == 0 {
					_ = rc.list()
					_, _ = rc.last()
				}
			}
		})
	}
	wg.Wait()
	got := rc.list()
	require.Len(t, got, 16)
	for i := 1; i < len(got); i++ {
		assert.Equal(t, got[i-1].Seq+1, got[i].Seq, "oldest first, no gaps once writers are done")
	}
}

func TestRecordDisabled(t *testing.T) {
	t.Parallel()
	s, url := startServer(t, Options{RecordLimit: -1})
	require.Equal(t, 200, postOpenAI(t, url, "/v1/chat/completions", chatBody(t, "hi", nil)).status)
	assert.Empty(t, s.Requests())
	_, ok := s.LastRequest()
	assert.False(t, ok)
}
