package hub_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenomics-dev/tokenomics/providers/hub"
	"github.com/tokenomics-dev/tokenomics/providers/sse"
)

var benchSizes = []int{1 << 10, 16 << 10}

// chatBody builds an OpenAI chat request of about size bytes (the body
// of the former anthropic.BenchmarkFromOpenAIChat, for comparison).
func chatBody(size int) []byte {
	const sentence = "The proxy reserves the budget before forwarding, then settles with the \\\"reported\\\" usage.\\n"
	var b strings.Builder
	b.WriteString(`{"model":"claude-sonnet-4-6","max_tokens":1024,"stream":true,"messages":[{"role":"system","content":"You are a helpful assistant."}`)
	roles := [2]string{"user", "assistant"}
	for i := 0; b.Len() < size-120; i++ {
		b.WriteString(`,{"role":"`)
		b.WriteString(roles[i%2])
		b.WriteString(`","content":"`)
		for j := 0; j < 4 && b.Len() < size-140; j++ {
			b.WriteString(sentence)
		}
		b.WriteString(`"}`)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// BenchmarkTranslateRequest: chat to Messages (formerly
// anthropic.FromOpenAIChat) and back.
func BenchmarkTranslateRequest(b *testing.B) {
	for _, size := range benchSizes {
		body := chatBody(size)
		var r hub.Request
		mid, err := hub.TranslateRequest(nil, &r, hub.Chat, hub.Messages, body, hub.Options{})
		if err != nil {
			b.Fatal(err)
		}
		for _, tc := range []struct {
			name     string
			from, to hub.Wire
			in       []byte
		}{{"chat-messages", hub.Chat, hub.Messages, body}, {"messages-chat", hub.Messages, hub.Chat, mid}} {
			b.Run(fmt.Sprintf("%s/%dKB", tc.name, size>>10), func(b *testing.B) {
				var out []byte
				var r hub.Request
				b.ReportAllocs()
				b.SetBytes(int64(len(tc.in)))
				for b.Loop() {
					var err error
					if out, err = hub.TranslateRequest(out[:0], &r, tc.from, tc.to, tc.in, hub.Options{DefaultMaxTokens: 100}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func streamEvents(b *testing.B, file string) ([][]byte, int) {
	b.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "streams", file))
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
	return events, len(raw)
}

// BenchmarkStream translates whole recorded streams. messages-chat is the
// cell the former anthropic.BenchmarkStreamTranslator measured.
func BenchmarkStream(b *testing.B) {
	for _, tc := range []struct {
		name, file string
		from, to   hub.Wire
	}{
		{"messages-chat", "tool_use.sse", hub.Messages, hub.Chat},
		{"messages-responses", "tool_use.sse", hub.Messages, hub.Responses},
		{"chat-messages", "chat_tools.sse", hub.Chat, hub.Messages},
	} {
		events, n := streamEvents(b, tc.file)
		b.Run(tc.name, func(b *testing.B) {
			var out []byte
			tr := hub.NewStream(tc.from, tc.to, "claude-sonnet-4-6", 1, true, 100)
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				tr.Reset(tc.from, tc.to, "claude-sonnet-4-6", 1, true, 100)
				out = out[:0]
				for _, data := range events {
					var err error
					if out, err = tr.Translate(out, data); err != nil {
						b.Fatal(err)
					}
				}
				out = tr.Close(out)
			}
		})
	}
}
