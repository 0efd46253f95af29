package openai_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/openai"
	"github.com/tokenomics-dev/tokenomics/providers/sse"
)

var benchSizes = []int{1 << 10, 16 << 10}

func BenchmarkParseRequest(b *testing.B) {
	for _, size := range benchSizes {
		body := chatBody(size)
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := openai.ParseRequest(body, openai.Chat); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRequestTexts(b *testing.B) {
	for _, size := range benchSizes {
		body := chatBody(size)
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			var refs []providers.TextRef
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				var err error
				if refs, err = openai.RequestTexts(refs[:0], body, openai.Chat); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRewriteRequest(b *testing.B) {
	opt := openai.Rewrite{
		Model:            "gpt-4o",
		Prepend:          []providers.Message{{Role: "system", Content: "Only answer programming questions."}},
		IncludeUsage:     true,
		DefaultMaxTokens: 4096,
	}
	for _, size := range benchSizes {
		body := chatBody(size)
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			var out []byte
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				var err error
				if out, err = openai.RewriteRequest(out[:0], body, openai.Chat, opt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseResponseUsage(b *testing.B) {
	for _, size := range benchSizes {
		// A response whose usage comes after a long message.
		body := []byte(`{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":` +
			string(providers.AppendString(nil, chatBody(size))) + `},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":20,"total_tokens":30,"prompt_tokens_details":{"cached_tokens":0}}}`)
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := openai.ParseResponseUsage(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStreamFeed feeds every event of a recorded stream.
func BenchmarkStreamFeed(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join("testdata", "streams", "chat_usage.sse"))
	if err != nil {
		b.Fatal(err)
	}
	var p sse.Parser
	p.Feed(raw)
	var events [][]byte
	for {
		ev, ok, err := p.Next()
		if err != nil {
			b.Fatal(err)
		}
		if !ok {
			break
		}
		events = append(events, append([]byte(nil), ev.Data...))
	}
	var st openai.StreamState
	var refs []providers.TextRef
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		st.Reset(openai.Chat, 100)
		for _, data := range events {
			if refs, err = st.Feed(refs[:0], data); err != nil {
				b.Fatal(err)
			}
		}
	}
}
