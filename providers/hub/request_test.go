package hub_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/hub"
)

// One conversation in the three formats: system prompt, a user turn with
// an image, an assistant tool call, its result, a user follow-up, a tool
// definition, a forced choice, structured output, a cap, sampling, stop.
var sameConversation = map[hub.Wire]string{
	hub.Chat: `{"model":"m","max_completion_tokens":77,"temperature":0.5,"top_p":0.9,"stop":["END"],"stream":true,"user":"u1",
	  "messages":[{"role":"system","content":"Be brief."},
	    {"role":"user","content":[{"type":"text","text":"Look: \"this\""},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]},
	    {"role":"assistant","content":"Checking.","tool_calls":[{"id":"c1","type":"function","function":{"name":"look","arguments":"{\"q\":\"x\"}"}}]},
	    {"role":"tool","tool_call_id":"c1","content":"found it"},
	    {"role":"user","content":"Thanks"}],
	  "tools":[{"type":"function","function":{"name":"look","description":"Look up","parameters":{"type":"object"}}}],
	  "tool_choice":{"type":"function","function":{"name":"look"}},"parallel_tool_calls":false,
	  "response_format":{"type":"json_schema","json_schema":{"name":"r","schema":{"type":"object","properties":{"a":{"type":"string"}}}}}}`,
	hub.Responses: `{"model":"m","max_output_tokens":77,"temperature":0.5,"top_p":0.9,"stream":true,"user":"u1","instructions":"Be brief.",
	  "input":[{"role":"user","content":[{"type":"input_text","text":"Look: \"this\""},{"type":"input_image","image_url":"data:image/png;base64,AAAA"}]},
	    {"role":"assistant","content":[{"type":"output_text","text":"Checking."}]},
	    {"type":"function_call","call_id":"c1","name":"look","arguments":"{\"q\":\"x\"}"},
	    {"type":"function_call_output","call_id":"c1","output":"found it"},
	    {"role":"user","content":"Thanks"}],
	  "tools":[{"type":"function","name":"look","description":"Look up","parameters":{"type":"object"}}],
	  "tool_choice":{"type":"function","name":"look"},"parallel_tool_calls":false,
	  "text":{"format":{"type":"json_schema","name":"r","schema":{"type":"object","properties":{"a":{"type":"string"}}}}}}`,
	hub.Messages: `{"model":"m","max_tokens":77,"temperature":0.5,"top_p":0.9,"stop_sequences":["END"],"stream":true,"metadata":{"user_id":"u1"},
	  "system":[{"type":"text","text":"Be brief."}],
	  "messages":[{"role":"user","content":[{"type":"text","text":"Look: \"this\""},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}}]},
	    {"role":"assistant","content":[{"type":"text","text":"Checking."},{"type":"tool_use","id":"c1","name":"look","input":{"q":"x"}}]},
	    {"role":"user","content":[{"type":"tool_result","tool_use_id":"c1","content":"found it"},{"type":"text","text":"Thanks"}]}],
	  "tools":[{"name":"look","description":"Look up","input_schema":{"type":"object"}}],
	  "tool_choice":{"type":"tool","name":"look","disable_parallel_tool_use":true},
	  "output_config":{"format":{"type":"json_schema","schema":{"type":"object","properties":{"a":{"type":"string"}}}}}}`,
}

// summary renders the hub form in format-free terms: decoded texts, image
// bytes, arguments as compact JSON.
func summary(t *testing.T, r *hub.Request) string {
	t.Helper()
	b := r.Body
	str := func(v providers.Value) string {
		if v.Kind == providers.KindString {
			return v.String(b)
		}
		if v.Kind == providers.KindInvalid {
			return ""
		}
		return string(v.Raw(b))
	}
	compact := func(raw string) string {
		var v any
		if json.Unmarshal([]byte(raw), &v) != nil {
			return raw
		}
		out, _ := json.Marshal(v)
		return string(out)
	}
	text := func(s hub.Str) string {
		if s.V.Kind == providers.KindString {
			return s.V.String(b)
		}
		return s.S
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "model=%s max=%d stream=%v temp=%s top_p=%s user=%s\n", text(r.Model), r.MaxTokens, r.Stream, str(r.Temperature), str(r.TopP), str(r.User))
	for _, s := range r.System {
		fmt.Fprintf(&sb, "system %q\n", text(s))
	}
	for _, m := range r.Messages {
		fmt.Fprintf(&sb, "%s:", m.Role)
		for _, p := range r.Parts[m.From:m.To] {
			switch p.Kind {
			case hub.PartText:
				fmt.Fprintf(&sb, " text(%q)", text(p.Text))
			case hub.PartImage:
				img := str(p.URL)
				if img == "" {
					img = "data:" + str(p.MediaType) + ";base64," + str(p.Data)
				}
				fmt.Fprintf(&sb, " image(%s)", img)
			case hub.PartToolCall:
				args := str(p.Args)
				fmt.Fprintf(&sb, " call(%s,%s,%s)", str(p.ID), str(p.Name), compact(args))
			case hub.PartToolResult:
				fmt.Fprintf(&sb, " result(%s,%q)", str(p.ID), text(p.Text))
			}
		}
		sb.WriteString("\n")
	}
	for _, tl := range r.Tools {
		fmt.Fprintf(&sb, "tool %s %q %s\n", str(tl.Name), str(tl.Description), compact(str(tl.Schema)))
	}
	fmt.Fprintf(&sb, "choice=%d %s parallel=%d format=%d %s\n", r.Choice, str(r.ChoiceName), r.ParallelTools, r.Format.Kind, compact(str(r.Format.Schema)))
	return sb.String()
}

// TestSpokesAgree: the same conversation in each format decodes to the
// same hub form (Responses has no stop sequences), and every decoded form
// survives a round trip through each provider format.
func TestSpokesAgree(t *testing.T) {
	t.Parallel()
	var want string
	{
		var r hub.Request
		require.NoError(t, hub.DecodeMessages(&r, []byte(sameConversation[hub.Messages])))
		want = summary(t, &r)
	}
	for _, from := range []hub.Wire{hub.Chat, hub.Responses, hub.Messages} {
		t.Run(from.String(), func(t *testing.T) {
			t.Parallel()
			var r hub.Request
			require.NoError(t, hub.Decode(&r, from, []byte(sameConversation[from])))
			got := summary(t, &r)
			assert.Equal(t, want, got)
			for _, to := range []hub.Wire{hub.Chat, hub.Messages} {
				out, err := hub.Encode(nil, &r, to, hub.Options{})
				require.NoError(t, err)
				require.True(t, json.Valid(out), "%s", out)
				var back hub.Request
				require.NoError(t, hub.Decode(&back, to, out), "%s", out)
				assert.Equal(t, got, summary(t, &back), "%s → %s → hub: %s", from, to, out)
			}
		})
	}
}

func TestOptionsCap(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		body     string
		o        hub.Options
		to       hub.Wire
		want     string // the cap member written
		absentOK bool
	}{
		{"client cap kept", `{"model":"m","max_tokens":40,"messages":[]}`, hub.Options{DefaultMaxTokens: 64000}, hub.Messages, `"max_tokens":40`, false},
		{"model maximum without a client cap", `{"model":"m","messages":[]}`, hub.Options{DefaultMaxTokens: 64000}, hub.Messages, `"max_tokens":64000`, false},
		{"budget clamp lowers", `{"model":"m","max_completion_tokens":5000,"messages":[]}`, hub.Options{DefaultMaxTokens: 64000, MaxTokensLimit: 70}, hub.Messages, `"max_tokens":70`, false},
		{"openai gets no cap it did not ask for", `{"model":"m","max_tokens":1,"messages":[]}`, hub.Options{}, hub.Chat, `"max_completion_tokens":1`, false},
		{"compatible host field", `{"model":"m","max_tokens":9,"messages":[]}`, hub.Options{MaxTokensField: "max_tokens"}, hub.Chat, `"max_tokens":9`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			from := hub.Chat
			if tc.to == hub.Chat {
				from = hub.Messages
				if !strings.Contains(tc.body, "max_tokens") {
					t.Skip()
				}
			}
			var r hub.Request
			out, err := hub.TranslateRequest(nil, &r, from, tc.to, []byte(tc.body), tc.o)
			require.NoError(t, err)
			assert.Contains(t, string(out), tc.want)
		})
	}
	var r hub.Request
	out, err := hub.TranslateRequest(nil, &r, hub.Messages, hub.Chat, []byte(`{"model":"m","max_tokens":9,"messages":[]}`), hub.Options{})
	require.NoError(t, err)
	assert.NotContains(t, string(out), "stream_options", "only streams ask for usage")
	assert.Equal(t, int64(64000), hub.MaxOutputTokens("claude-sonnet-4-6"))
	assert.Equal(t, int64(32000), hub.MaxOutputTokens("claude-opus-4-1-20250805"))
	assert.Equal(t, int64(hub.DefaultMaxOutput), hub.MaxOutputTokens("claude-next"))
}

// TestRefusals: what the provider's format cannot say is a FieldError
// naming the client's field.
func TestRefusals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		from  hub.Wire
		to    hub.Wire
		body  string
		field string
	}{
		{"chat n", hub.Chat, hub.Messages, `{"model":"m","n":3,"messages":[]}`, "n"},
		{"chat json_object", hub.Chat, hub.Messages, `{"model":"m","messages":[],"response_format":{"type":"json_object"}}`, "response_format.type"},
		{"chat audio output", hub.Chat, hub.Messages, `{"model":"m","messages":[],"modalities":["text","audio"]}`, "modalities"},
		{"chat custom tool", hub.Chat, hub.Messages, `{"model":"m","messages":[],"tools":[{"type":"custom","custom":{"name":"x"}}]}`, "tools[0].type"},
		{"chat file part", hub.Chat, hub.Messages, `{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"f"}}]}]}`, "messages"},
		{"responses state", hub.Responses, hub.Messages, `{"model":"m","input":"x","previous_response_id":"r"}`, "previous_response_id"},
		{"responses conversation", hub.Responses, hub.Messages, `{"model":"m","input":"x","conversation":"c"}`, "conversation"},
		{"responses item reference", hub.Responses, hub.Messages, `{"model":"m","input":[{"type":"item_reference","id":"i"}]}`, "input[0].type"},
		{"responses hosted tool", hub.Responses, hub.Messages, `{"model":"m","input":"x","tools":[{"type":"file_search"}]}`, "tools[0].type"},
		{"responses file id image", hub.Responses, hub.Messages, `{"model":"m","input":[{"role":"user","content":[{"type":"input_image","file_id":"f"}]}]}`, "input[0].content"},
		{"responses json_object", hub.Responses, hub.Messages, `{"model":"m","input":"x","text":{"format":{"type":"json_object"}}}`, "text.format.type"},
		{"messages document", hub.Messages, hub.Chat, `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"document","source":{}}]}]}`, "messages"},
		{"messages server tool", hub.Messages, hub.Chat, `{"model":"m","max_tokens":1,"messages":[],"tools":[{"type":"bash_20250124","name":"bash"}]}`, "tools[0].type"},
		{"messages image in a tool result", hub.Messages, hub.Chat, `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"image","source":{}}]}]}]}`, "messages"},
		{"messages image from the assistant", hub.Messages, hub.Chat, `{"model":"m","max_tokens":1,"messages":[{"role":"assistant","content":[{"type":"image","source":{"type":"url","url":"https://x"}}]}]}`, "messages.content.image"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var r hub.Request
			_, err := hub.TranslateRequest(nil, &r, tc.from, tc.to, []byte(tc.body), hub.Options{DefaultMaxTokens: 10})
			var fe *hub.FieldError
			require.True(t, errors.As(err, &fe), "want a FieldError, got %v", err)
			assert.Equal(t, tc.field, fe.Field)
			assert.ErrorIs(t, err, hub.ErrUnsupported)
		})
	}
}

func fuzzDecoder(f *testing.F, from hub.Wire) {
	for _, body := range sameConversation {
		f.Add([]byte(body))
	}
	f.Add([]byte(`{"model":"m","input":[{"type":"function_call_output","call_id":"x","output":[{"type":"input_text","text":"t"}]}]}`))
	f.Add([]byte(`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"x","content":[{"type":"text","text":"t"}],"is_error":true}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var r hub.Request
		if hub.Decode(&r, from, body) != nil {
			return
		}
		r.Prepend(policyPrompts)
		for _, to := range []hub.Wire{hub.Chat, hub.Messages} {
			out, err := hub.Encode(nil, &r, to, hub.Options{DefaultMaxTokens: 10})
			if err != nil {
				continue
			}
			require.True(t, json.Valid(out), "invalid JSON from %q: %s", body, out)
			var back hub.Request
			require.NoError(t, hub.Decode(&back, to, out), "%s", out)
		}
	})
}

// FuzzDecodeResponses and FuzzDecodeMessages: no input panics a decoder,
// and whatever decodes encodes to valid JSON its target decodes again.
func FuzzDecodeResponses(f *testing.F) { fuzzDecoder(f, hub.Responses) }
func FuzzDecodeMessages(f *testing.F)  { fuzzDecoder(f, hub.Messages) }
