package fakeupstream

import (
	"encoding/json"
	"net/http"
)

// countTokensPath is Anthropic's token counting endpoint.
const countTokensPath = "/v1/messages/count_tokens"

// countTokensFields are the top-level members Anthropic's count_tokens
// accepts; any other (max_tokens, stream, temperature, ...) is refused with
// "<name>: Extra inputs are not permitted", as the real API does.
var countTokensFields = map[string]bool{
	"model": true, "messages": true, "system": true, "tools": true, "tool_choice": true,
	"thinking": true, "mcp_servers": true, "output_config": true, "output_format": true,
	"context_management": true,
}

// serveCountTokens answers POST /v1/messages/count_tokens with
// {"input_tokens": N}. N is exactly the input_tokens a /v1/messages call
// with the same model, system and messages reports, so a test can compare a
// native count with a real call's usage. Keys, anthropic-version, FailModels
// and status directives in the last user turn are honoured as for messages.
func (s *Server) serveCountTokens(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Method != http.MethodPost {
		s.writeError(w, fmtAnthropic, http.StatusMethodNotAllowed, "", "", nil)
		return
	}
	if status, msg := s.authorize(r, fmtAnthropic); status != 0 {
		s.writeError(w, fmtAnthropic, status, msg, "", nil)
		return
	}
	s.noteVariantKeys(body)
	c, err := parseCountTokens(body)
	if err != nil {
		s.writeError(w, fmtAnthropic, http.StatusBadRequest, err.Error(), "", nil)
		return
	}
	d, _, err := parseDirectives(c.userText)
	if err != nil {
		s.writeError(w, fmtAnthropic, http.StatusBadRequest, err.Error(), "", nil)
		return
	}
	if _, fail := s.failModels[c.model]; fail {
		s.writeError(w, fmtAnthropic, http.StatusServiceUnavailable, "", "", nil)
		return
	}
	if d.status != 0 && d.status != http.StatusOK {
		s.writeError(w, fmtAnthropic, d.status, "", d.retryAfter, nil)
		return
	}
	b := append(make([]byte, 0, 32), `{"input_tokens":`...)
	b = appendInt(b, c.inputTokens)
	b = append(b, '}')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("request-id", "req_fake_count")
	_, _ = w.Write(b)
}

// parseCountTokens checks a count request as Anthropic does (model and
// messages required, generation-only members refused) and counts its input
// the way parseMessages does.
func parseCountTokens(body []byte) (*call, error) {
	var top map[string]json.RawMessage
	if err := decodeJSON(body, &top); err != nil {
		return nil, err
	}
	for k := range top {
		if !countTokensFields[k] {
			return nil, invalid("%s: Extra inputs are not permitted", k)
		}
	}
	var req struct {
		Model    string `json:"model"`
		Messages []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
		System json.RawMessage `json:"system"`
	}
	if err := decodeJSON(body, &req); err != nil {
		return nil, err
	}
	switch {
	case req.Model == "":
		return nil, invalid("model: Field required")
	case len(req.Messages) == 0:
		return nil, invalid("messages: Field required")
	}
	c := &call{api: apiMessages, model: req.Model}
	sys, _, err := contentText(req.System)
	if err != nil {
		return nil, err
	}
	c.inputTokens = CountTokens(sys)
	c.addFraming(len(req.Messages))
	for _, m := range req.Messages {
		text, _, err := contentText(m.Content)
		if err != nil {
			return nil, err
		}
		c.inputTokens += CountTokens(text)
		if m.Role == "user" {
			c.userText = text
		}
	}
	return c, nil
}
