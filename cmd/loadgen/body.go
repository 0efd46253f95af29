package main

import (
	"encoding/json"
	"fmt"

	"github.com/tokenomics-dev/tokenomics/internal/benchdata"
)

// chatBody is the request every client sends: about 1 KB of JSON.
func chatBody(maxTokens int, stream bool) []byte {
	type message struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	req := struct {
		Model       string    `json:"model"`
		Messages    []message `json:"messages"`
		MaxTokens   int       `json:"max_tokens"`
		Temperature float64   `json:"temperature"`
		User        string    `json:"user"`
		Stream      bool      `json:"stream,omitempty"`
		StreamOpts  *struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options,omitempty"`
	}{
		Model: "gpt-4o",
		Messages: []message{
			{Role: "system", Content: "You are a senior Go reviewer. Answer concisely, with code where it helps."},
			{Role: "user", Content: benchdata.Question},
		},
		MaxTokens:   maxTokens,
		Temperature: 0.2,
		User:        "loadgen",
		Stream:      stream,
	}
	if stream {
		req.StreamOpts = &struct {
			IncludeUsage bool `json:"include_usage"`
		}{IncludeUsage: true}
	}
	b, err := json.Marshal(req)
	if err != nil {
		panic(fmt.Sprintf("marshalling the request body: %v", err)) // static input
	}
	return b
}

// noRulesPolicy is a token without rules, rate limits or a practical budget.
const noRulesPolicy = `{"model_regex":"^gpt-4o","max_tokens":1000000000000}`

// contractorPolicy is test/testdata/compat/policies/contractor.json with the
// budget, rate limits and max_parallel raised so nothing refuses during the
// run. The rules are exactly the seed's. The memory block is kept (its cost
// is part of the real path) but moved to ./memory, the allowed directory of
// the generated config, instead of /var/log/tokenomics.
const contractorPolicy = `{
  "base_key_env": "OPENAI_API_KEY",
  "model_regex": "^gpt-4o",
  "max_tokens": 1000000000000,
  "timeout": 30,
  "prompts": [
    { "role": "system", "content": "You are a helpful coding assistant. Only answer programming-related questions." }
  ],
  "rules": ` + benchdata.ContractorRules + `,
  "rate_limit": {
    "rules": [
      { "requests": 100000000, "window": "1m" },
      { "tokens": 1000000000000, "window": "1h" }
    ],
    "max_parallel": 4096
  },
  "metadata": {
    "role": "contractor",
    "team": "external"
  },
  "memory": {
    "enabled": true,
    "file_path": "./memory/contractor-sessions.md"
  }
}`
