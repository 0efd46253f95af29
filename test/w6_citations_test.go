package test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestW6CitationsChecked runs the real binary against the fake upstream's
// web search answers ([[fake:hosted]]: OpenAI's url_citation annotations on
// a chat answer, Anthropic's server tool blocks and text citations) from
// every client format to both providers, streamed and whole. Natively the
// client gets the citations, their texts masked by an output mask rule
// (Anthropic's cited_text, title, document_title, the search result's
// title and the query). Translated, citations are dropped (the hub carries
// text and tool calls only): no citation text reaches the client, checked
// or not. A rule that only a citation's URL trips blocks the answer either
// way: output rules read the provider's answer as it was sent.
func TestW6CitationsChecked(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "")
	pxNoRace(t, px.p)
	masker, _ := px.token(t, `{"max_tokens":1000000,"rules":[{"name":"pii-out","type":"pii","detect":["ssn"],"action":"mask","scope":"output"}]}`)
	plain, _ := px.token(t, `{"max_tokens":1000000}`)
	urlBlocker, _ := px.token(t, `{"max_tokens":1000000,"rules":[{"name":"site","type":"keyword","keywords":["search.example"],"action":"fail","scope":"output"}]}`)

	type client struct {
		name, path string
		body       func(model, prompt string, stream bool) string
	}
	clients := []client{
		{"chat", "/v1/chat/completions", func(model, prompt string, stream bool) string {
			return fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":%q}],"stream":%t}`, model, prompt, stream)
		}},
		{"responses", "/v1/responses", func(model, prompt string, stream bool) string {
			return fmt.Sprintf(`{"model":%q,"input":%q,"stream":%t}`, model, prompt, stream)
		}},
		{"messages", "/v1/messages", func(model, prompt string, stream bool) string {
			return fmt.Sprintf(`{"model":%q,"max_tokens":1000,"messages":[{"role":"user","content":%q}],"stream":%t}`, model, prompt, stream)
		}},
	}
	post := func(c client, tok, body string) pxResp {
		if c.name == "messages" {
			return pxDo(t, "POST", px.url+c.path, body, "x-api-key", tok, "anthropic-version", "2023-06-01")
		}
		return pxPost(t, px.url+c.path, tok, body)
	}
	for _, c := range clients {
		for _, model := range []string{"gpt-4o", "claude-sonnet-4-6"} {
			native := (c.name == "messages") == strings.HasPrefix(model, "claude")
			for _, stream := range []bool{false, true} {
				name := fmt.Sprintf("%s to %s stream=%t", c.name, model, stream)
				t.Run(name, func(t *testing.T) {
					body := c.body(model, "[[fake:hosted]] ssn 123-45-6789", stream)

					// Control: without rules, a native answer carries the
					// citation; a translated one drops it.
					r := post(c, plain, body)
					require.Equal(t, 200, r.status, "%s", r.body)
					assert.Contains(t, string(r.body), "6789")
					if native {
						assert.Contains(t, string(r.body), "search.example", "the citation's URL")
					} else {
						for _, s := range []string{"search.example", "cited_text", "document_title", "url_citation"} {
							assert.NotContains(t, string(r.body), s, "translation drops citations")
						}
					}

					r = post(c, masker, body)
					require.Equal(t, 200, r.status, "%s", r.body)
					got := string(r.body)
					assert.NotContains(t, withoutNumbers(got), "6789", "a part of the number reached the client")
					assert.Contains(t, got, "[REDACTED:ssn]")
					if native && c.name == "messages" {
						for _, want := range []string{`"cited_text":"Echo: ssn [REDACTED:ssn]"`, `"document_title":"Echo: ssn [REDACTED:ssn]"`,
							`"title":"Echo: ssn [REDACTED:ssn]"`} {
							assert.Contains(t, got, want)
						}
						if stream {
							// Each citation whole in its own event, masked.
							data, _ := pxSSE(r.body)
							var cites []map[string]any
							for _, d := range data {
								var ev struct {
									Delta struct {
										Type     string         `json:"type"`
										Citation map[string]any `json:"citation"`
									} `json:"delta"`
								}
								require.NoError(t, json.Unmarshal([]byte(d), &ev), d)
								if ev.Delta.Type == "citations_delta" {
									cites = append(cites, ev.Delta.Citation)
								}
							}
							require.Len(t, cites, 2)
							assert.Equal(t, "Echo: ssn [REDACTED:ssn]", cites[0]["cited_text"])
							assert.Equal(t, "Echo: ssn [REDACTED:ssn]", cites[0]["title"])
							assert.Equal(t, "web_search_result_location", cites[0]["type"])
							assert.NotEmpty(t, cites[0]["encrypted_index"])
							assert.Equal(t, "Echo: ssn [REDACTED:ssn]", cites[1]["cited_text"])
							assert.Equal(t, "Echo: ssn [REDACTED:ssn]", cites[1]["document_title"])
						}
					}

					// A rule only the citation's URL trips stops the answer
					// before the citation (or anything after it) is sent.
					r = post(c, urlBlocker, c.body(model, "[[fake:hosted]] hi", stream))
					assert.NotContains(t, string(r.body), "search.example")
					if stream && r.status == 200 {
						assert.Regexp(t, `content_policy_violation|"permission_error","message":"Response blocked`, string(r.body))
						for _, end := range []string{"[DONE]", "message_stop", "response.completed"} {
							assert.NotContains(t, string(r.body), end)
						}
					} else {
						assert.Equal(t, 403, r.status, "%s", r.body)
					}
				})
			}
		}
	}
}
