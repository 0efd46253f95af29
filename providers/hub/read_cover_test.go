package hub_test

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/anthropic"
	"github.com/tokenomics-dev/tokenomics/providers/hub"
	"github.com/tokenomics-dev/tokenomics/providers/openai"
	"github.com/tokenomics-dev/tokenomics/providers/sse"
)

// metaKeys name the members of a client's answer that carry no text the
// model or a tool wrote: the formats' own words, identifiers, the model,
// and tool names the model picked from the client's tools.
var metaKeys = map[string]bool{
	"id": true, "type": true, "role": true, "model": true, "object": true, "name": true, "call_id": true,
	"item_id": true, "status": true, "finish_reason": true, "stop_reason": true, "tool_choice": true,
	"truncation": true, "service_tier": true, "system_fingerprint": true, "reason": true, "code": true,
}

// hubOwn matches the texts the hub writes itself: the message of a
// provider error that gave none.
var hubOwn = regexp.MustCompile(`^upstream error \(status \d+\)$`)

// clientStrings appends the strings of v that are not under a metaKeys
// member and not the hub's own; an "arguments" string that is a JSON
// object adds its leaves instead (a re-encoded tool input).
func clientStrings(dst []string, key string, v any) []string {
	switch v := v.(type) {
	case string:
		if key == "arguments" {
			var obj map[string]any
			if json.Unmarshal([]byte(v), &obj) == nil {
				return clientStrings(dst, "", obj)
			}
		}
		if v != "" && !hubOwn.MatchString(v) {
			dst = append(dst, v)
		}
	case map[string]any:
		for k, x := range v {
			if !metaKeys[k] {
				dst = clientStrings(dst, k, x)
			}
		}
	case []any:
		for _, x := range v {
			dst = clientStrings(dst, key, x)
		}
	}
	return dst
}

// TestTranslatedTextsWereRead: every text a translated answer gives the
// client is one the output rules read in the provider's answer (a part of
// what the provider walker references), whole and streamed, citations and
// server tool results included: translation writes nothing the rules did
// not see.
func TestTranslatedTextsWereRead(t *testing.T) {
	t.Parallel()
	whole := map[hub.Wire][]string{
		hub.Messages: {"response_text.json", "response_tool_use.json", "response_max_tokens.json", "response_web_search.json"},
		hub.Chat:     {"response_text.openai.json", "response_tool_use.openai.json", "response_max_tokens.openai.json", "response_citations.openai.json"},
	}
	streams := map[hub.Wire][]string{
		hub.Messages: {"text.sse", "tool_use.sse", "thinking.sse", "web_search.sse", "error.sse"},
		hub.Chat:     {"chat_tools.sse", "chat_usage.sse", "chat_citations.sse", "text.chat.sse", "tool_use.chat.sse", "thinking.chat.sse", "error.chat.sse"},
	}
	clients := func(from hub.Wire) []hub.Wire {
		if from == hub.Messages {
			return []hub.Wire{hub.Chat, hub.Responses}
		}
		return []hub.Wire{hub.Messages}
	}
	checked := 0
	for from, files := range whole {
		for _, file := range files {
			body := readTestdata(t, filepath.Join("translate", file))
			var refs []providers.TextRef
			var err error
			if from == hub.Messages {
				refs, err = anthropic.ResponseTexts(nil, body)
			} else {
				refs, err = openai.ResponseTexts(nil, body, openai.Chat)
			}
			require.NoError(t, err)
			read := readTexts(t, body, refs)
			for _, to := range clients(from) {
				var r hub.Response
				out, err := hub.TranslateResponse(nil, &r, from, to, body, "", 1)
				require.NoError(t, err, file)
				var v any
				require.NoError(t, json.Unmarshal(out, &v))
				for _, s := range clientStrings(nil, "", v) {
					require.Contains(t, read, s, "%s → %d: a text the rules did not read", file, to)
					checked++
				}
			}
		}
	}
	for from, files := range streams {
		for _, file := range files {
			for _, to := range clients(from) {
				tr := hub.NewStream(from, to, "", 1, true, 10)
				var p sse.Parser
				p.Feed(readTestdata(t, filepath.Join("streams", file)))
				var read strings.Builder
				var out []byte
				for {
					ev, ok, err := p.Next()
					require.NoError(t, err)
					if !ok {
						break
					}
					refs, err := tr.DeltaTexts(nil, ev.Data)
					require.NoError(t, err)
					read.WriteString(readTexts(t, ev.Data, refs))
					if out, err = tr.Translate(out, ev.Data); err != nil {
						out = out[:len(out):len(out)]
					}
				}
				out = tr.Close(out)
				var q sse.Parser
				q.Feed(out)
				for {
					ev, ok, err := q.Next()
					require.NoError(t, err)
					if !ok {
						break
					}
					if ev.IsDone() {
						continue
					}
					var v any
					require.NoError(t, json.Unmarshal(ev.Data, &v), "%s", ev.Data)
					for _, s := range clientStrings(nil, "", v) {
						require.Contains(t, read.String(), s, "%s → %d: a text the rules did not read", file, to)
						checked++
					}
				}
			}
		}
	}
	require.Greater(t, checked, 50, "the answers' texts were compared")
}

// readTexts is the decoded texts of refs, run together (a stream's
// repeated full texts are runs of its fragments).
func readTexts(t testing.TB, data []byte, refs []providers.TextRef) string {
	t.Helper()
	var b []byte
	for _, r := range refs {
		var err error
		b, err = providers.DecodeText(b, data, r)
		require.NoError(t, err)
	}
	return string(b)
}

// FuzzTranslatedTextsWereRead: for any provider event or answer, every
// text the translation gives the client is one the provider walker read.
func FuzzTranslatedTextsWereRead(f *testing.F) {
	for _, file := range []string{"web_search.sse", "chat_citations.sse", "error.sse", "error.chat.sse", "tool_use.sse", "chat_tools.sse"} {
		var p sse.Parser
		p.Feed(readTestdataF(f, filepath.Join("streams", file)))
		for {
			ev, ok, err := p.Next()
			if err != nil || !ok {
				break
			}
			f.Add(append([]byte(nil), ev.Data...))
		}
	}
	for _, file := range []string{"response_web_search.json", "response_citations.openai.json", "response_tool_use.json"} {
		f.Add(readTestdataF(f, filepath.Join("translate", file)))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, from := range []hub.Wire{hub.Chat, hub.Messages} {
			to := []hub.Wire{hub.Messages}
			if from == hub.Messages {
				to = []hub.Wire{hub.Chat, hub.Responses}
			}
			for _, w := range to {
				// A stream event.
				tr := hub.NewStream(from, w, "", 1, true, 5)
				refs, err := tr.DeltaTexts(nil, data)
				if err == nil {
					read := readTexts(t, data, refs)
					out, err := tr.Translate(nil, data)
					if err == nil {
						var p sse.Parser
						p.Feed(out)
						for {
							ev, ok, err := p.Next()
							require.NoError(t, err)
							if !ok {
								break
							}
							var v any
							if ev.IsDone() || json.Unmarshal(ev.Data, &v) != nil {
								continue
							}
							for _, s := range clientStrings(nil, "", v) {
								require.Contains(t, read, s, "%q → %q", data, ev.Data)
							}
						}
					}
				}
				// A whole answer.
				var rs []providers.TextRef
				if from == hub.Messages {
					rs, err = anthropic.ResponseTexts(nil, data)
				} else {
					rs, err = openai.ResponseTexts(nil, data, openai.Chat)
				}
				if err != nil {
					continue
				}
				var r hub.Response
				out, err := hub.TranslateResponse(nil, &r, from, w, data, "", 1)
				var v any
				if err != nil || json.Unmarshal(out, &v) != nil {
					continue
				}
				read := readTexts(t, data, rs)
				for _, s := range clientStrings(nil, "", v) {
					require.Contains(t, read, s, "%q → %q", data, out)
				}
			}
		}
	})
}
