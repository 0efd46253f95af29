package main

import (
	"encoding/json"
	"fmt"
)

// userText is a plausible contractor question of about 800 bytes. It avoids
// the contractor policy's refusal patterns (see contractorPolicy) but holds
// one e-mail address and one phone number, so the PII rule really rewrites
// the body rather than only scanning it.
const userText = `I am reviewing a Go service that batches writes to a bbolt database. ` +
	`Each HTTP handler appends a record to a channel, and a single goroutine drains the channel ` +
	`every 50 milliseconds and writes the batch in one Update transaction. Under load the p99 ` +
	`latency of the handlers grows from 2 ms to 40 ms, and the channel (capacity 1024) is often ` +
	`full. The records are small JSON documents of about 300 bytes with a monotonically increasing ` +
	`key. Should I switch to db.Batch, increase the channel capacity, or split the database into ` +
	`several files by key range? Please explain the trade-offs, how fsync cost grows with batch ` +
	`size, and show a short example of the drain loop with a bounded flush interval. The owner of ` +
	`the service is maria.keller@example.com, (415) 555-0132, if you need the original design notes.`

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
			{Role: "user", Content: userText},
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
  "rules": [
    {
      "name": "pii-mask",
      "type": "pii",
      "detect": ["ssn", "credit_card", "email", "phone", "aws_key", "api_key"],
      "action": "mask",
      "scope": "both"
    },
    {
      "name": "prompt-injection",
      "type": "regex",
      "pattern": "(?i)(ignore.*instructions|system.*prompt|you are now)",
      "action": "fail"
    },
    {
      "name": "dangerous-keywords",
      "type": "keyword",
      "keywords": ["jailbreak", "bypass", "override", "hack"],
      "action": "fail"
    }
  ],
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
