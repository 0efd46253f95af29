//go:build !race

// The race detector allocates on its own, so allocation counts are only
// checked without it.

package hub_test

import (
	"testing"

	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/hub"
	"github.com/tokenomics-dev/tokenomics/providers/openai"
)

// TestStreamAllocs: once its buffers have grown, a translator writes each
// delta of every cell without allocating.
func TestStreamAllocs(t *testing.T) {
	anthropicStart := []byte(`{"type":"message_start","message":{"id":"msg_1","model":"claude-x","usage":{"input_tokens":3,"output_tokens":1}}}`)
	anthropicText := []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}`)
	chatStart := []byte(`{"id":"c","object":"chat.completion.chunk","model":"gpt-x","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`)
	chatText := []byte(`{"id":"c","object":"chat.completion.chunk","model":"gpt-x","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}`)
	chatArgs := []byte(`{"id":"c","object":"chat.completion.chunk","model":"gpt-x","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\""}}]},"finish_reason":null}]}`)
	cases := []struct {
		name        string
		from, to    hub.Wire
		start, data []byte
	}{
		{"messages to chat", hub.Messages, hub.Chat, anthropicStart, anthropicText},
		{"messages to responses", hub.Messages, hub.Responses, anthropicStart, anthropicText},
		{"chat to messages", hub.Chat, hub.Messages, chatStart, chatText},
		{"chat tool args to messages", hub.Chat, hub.Messages, chatStart, chatArgs},
		{"chat to responses", hub.Chat, hub.Responses, chatStart, chatText},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := hub.NewStream(tc.from, tc.to, "m", 1, true, 10)
			frames := make([]byte, 0, 1<<16)
			frames, _ = tr.Translate(frames, tc.start)
			frames, _ = tr.Translate(frames[:0], tc.data)
			refs := make([]providers.TextRef, 0, 8)
			if allocs := testing.AllocsPerRun(50, func() {
				frames, _ = tr.Translate(frames[:0], tc.data)
				refs, _ = tr.DeltaTexts(refs[:0], tc.data)
			}); allocs != 0 {
				t.Fatalf("%v allocations, want 0", allocs)
			}
			// A whole stream again on the same translator, as the relay
			// pool reuses them.
			if allocs := testing.AllocsPerRun(20, func() {
				tr.Reset(tc.from, tc.to, "m", 1, true, 10)
				frames, _ = tr.Translate(frames[:0], tc.start)
				frames, _ = tr.Translate(frames, tc.data)
				frames = tr.Close(frames)
			}); allocs != 0 {
				t.Fatalf("reset stream: %v allocations, want 0", allocs)
			}
		})
	}
}

// TestCoveredAllocs: the translated request's cross-check of the rules'
// texts, on the walkers' order (texts, then fields), allocates nothing.
func TestCoveredAllocs(t *testing.T) {
	body := []byte(`{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"https://x/a.png"}}]}],` +
		`"tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object","properties":{"q":{"type":"string"}}}}}],"tool_choice":"auto"}`)
	var r hub.Request
	if err := hub.Decode(&r, hub.Chat, body); err != nil {
		t.Fatal(err)
	}
	checked, err := openai.RequestTexts(nil, body, openai.Chat)
	if err != nil {
		t.Fatal(err)
	}
	texts := r.Texts(nil)
	if allocs := testing.AllocsPerRun(50, func() {
		if _, ok := hub.Covered(texts, checked); !ok {
			t.Fatal("not covered")
		}
	}); allocs != 0 {
		t.Fatalf("%v allocations, want 0", allocs)
	}
}
