package fakeupstream

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// benchClient keeps connections alive so the benchmark measures requests,
// not TCP handshakes.
func benchClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 256, MaxIdleConnsPerHost: 256, DisableCompression: true,
	}}
}

func benchPost(b *testing.B, c *http.Client, url string, body []byte) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testOpenAIKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("status %d", resp.StatusCode)
	}
}

// BenchmarkChatCompletion is a non-stream chat request over real loopback
// HTTP, client cost included, with recording off as in the load benchmark.
func BenchmarkChatCompletion(b *testing.B) {
	_, url := startServer(b, Options{RecordLimit: -1})
	body := []byte(chatBody(b, "Summarise the quarterly report in three bullet points.", map[string]any{"max_tokens": 256}))
	c := benchClient()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchPost(b, c, url+"/v1/chat/completions", body)
		}
	})
}

// BenchmarkChatCompletionStream streams a 100-token reply with usage.
func BenchmarkChatCompletionStream(b *testing.B) {
	_, url := startServer(b, Options{RecordLimit: -1})
	body := []byte(chatBody(b, "[[fake:long=100]]", map[string]any{"stream": true,
		"stream_options": map[string]any{"include_usage": true}}))
	c := benchClient()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchPost(b, c, url+"/v1/chat/completions", body)
		}
	})
}

// BenchmarkServeChat is the handler alone, without the network.
func BenchmarkServeChat(b *testing.B) {
	s := New(Options{RecordLimit: -1, OpenAIKey: testOpenAIKey})
	body := chatBody(b, "Summarise the quarterly report in three bullet points.", nil)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testOpenAIKey)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}

func BenchmarkCountTokens(b *testing.B) {
	text := strings.Repeat("The quick brown fox, jumps over the lazy dog! ", 20)
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		_ = CountTokens(text)
	}
}
