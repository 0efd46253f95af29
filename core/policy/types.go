package policy

import (
	"encoding/json"
	"regexp"
	"time"
)

// Policy is the rule set a token carries. The JSON shape is the one of the
// seed policies in compat/distributed-team/policies; parsing is strict (see Parse).
type Policy struct {
	BaseKeyEnv  string            `json:"base_key_env,omitempty"`
	UpstreamURL string            `json:"upstream_url,omitempty"`
	Model       string            `json:"model,omitempty"`
	ModelRegex  string            `json:"model_regex,omitempty"`
	MaxTokens   int64             `json:"max_tokens,omitempty"` // whole-token budget, input+output; 0 = unlimited
	Timeout     int               `json:"timeout,omitempty"`    // seconds, bounds one upstream call; 0 = provider default
	Prompts     []Message         `json:"prompts,omitempty"`    // prepended to every chat request
	Rules       []Rule            `json:"rules,omitempty"`
	RateLimit   *RateLimit        `json:"rate_limit,omitempty"`
	Retry       *Retry            `json:"retry,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	Memory      *Memory           `json:"memory,omitempty"`
	// Providers keeps the written order of the JSON object's keys, because
	// resolution walks groups and entries in that order.
	Providers Providers `json:"providers,omitempty"`
	// DefaultProvider names the provider (a providers.yaml entry) for models
	// no providers entry routes, when the policy has no providers list.
	DefaultProvider string `json:"default_provider,omitempty"`

	// MaxCostUSD is a lifetime budget in dollars, priced by the proxy's
	// price table (docs/BUDGETS.md); 0 = unlimited. At most six decimals.
	MaxCostUSD float64 `json:"max_cost_usd,omitempty"`

	modelRE *regexp.Regexp
	maxCost int64 // MaxCostUSD in micro-dollars; set by Validate
}

// Message is a prompt injected ahead of the client's messages.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Rule is one content rule. Type selects the built-in plugin (pii, regex,
// keyword, prompt_guard; jailbreak is prompt_guard under the original
// project's name) or a custom one (wasm). In JSON a rule may also be a bare
// string, the original's legacy form: a regex rule with action fail.
type Rule struct {
	Name          string          `json:"name"`
	Type          string          `json:"type"`
	Detect        []string        `json:"detect,omitempty"`         // pii detectors
	Pattern       string          `json:"pattern,omitempty"`        // regex
	Keywords      []string        `json:"keywords,omitempty"`       // keyword
	CaseSensitive bool            `json:"case_sensitive,omitempty"` // keyword, default false
	Threshold     float64         `json:"threshold,omitempty"`      // prompt_guard/jailbreak score in (0,1]; 0 = plugin default
	Action        string          `json:"action,omitempty"`         // fail|warn|log|mask
	Scope         string          `json:"scope,omitempty"`          // input|output|both; default input
	OnError       string          `json:"on_error,omitempty"`       // block|allow; default block for fail and mask rules
	Plugin        string          `json:"plugin,omitempty"`         // wasm: plugin name
	SHA256        string          `json:"sha256,omitempty"`         // wasm: hex sha256 of the module
	Config        json.RawMessage `json:"config,omitempty"`         // wasm: plugin's own JSON config (an object)
}

// RateLimit holds request/token windows and a concurrency cap.
type RateLimit struct {
	Rules       []RateRule `json:"rules,omitempty"`
	MaxParallel int        `json:"max_parallel,omitempty"`
}

// RateRule limits requests, tokens or spend in dollars (CostUSD; exactly
// one of the three is set) per Window.
type RateRule struct {
	Requests int64  `json:"requests,omitempty"`
	Tokens   int64  `json:"tokens,omitempty"`
	Window   string `json:"window"`
	Strategy string `json:"strategy,omitempty"` // sliding (default) | fixed

	CostUSD float64 `json:"cost_usd,omitempty"`

	window time.Duration
	cost   int64 // CostUSD in micro-dollars; set by Validate
}

// Retry configures retries on upstream status codes and model fallbacks.
type Retry struct {
	MaxRetries int      `json:"max_retries,omitempty"`
	Fallbacks  []string `json:"fallbacks,omitempty"`
	RetryOn    []int    `json:"retry_on,omitempty"` // default 429, 500, 502, 503
}

// Memory appends each exchange to Markdown files.
type Memory struct {
	Enabled  bool   `json:"enabled"`
	FilePath string `json:"file_path,omitempty"` // a file, or a directory when FileName is set
	// FileName may hold {token_hash}, {session_id} (the same value) and
	// {date} (YYYY-MM-DD, UTC), and "/" to make subdirectories.
	FileName string `json:"file_name,omitempty"`
	// Redis is accepted for the original's policies and ignored, as the
	// original ignored it: memory is always written to files.
	Redis bool `json:"redis,omitempty"`
	// MaxSizeMB rotates a file once it grows past this size (0 with
	// CompressOld: 100; negative: never). CompressOld gzips rotated files.
	MaxSizeMB   int  `json:"max_size_mb,omitempty"`
	CompressOld bool `json:"compress_old,omitempty"`
}

// Providers is the ordered list of provider groups of a policy.
type Providers []ProviderGroup

// ProviderGroup is one key of the policy's "providers" object.
type ProviderGroup struct {
	Name    string
	Entries []ProviderEntry
}

// ProviderEntry allows models on one provider, with its own key, budget and timeout.
type ProviderEntry struct {
	BaseKeyEnv  string `json:"base_key_env,omitempty"`
	UpstreamURL string `json:"upstream_url,omitempty"`
	Model       string `json:"model,omitempty"`
	ModelRegex  string `json:"model_regex,omitempty"`
	MaxTokens   int64  `json:"max_tokens,omitempty"`
	Timeout     int    `json:"timeout,omitempty"`
	// Prompts go before the policy's own prompts, and Rules run after the
	// policy's rules, for requests this entry routes.
	Prompts []Message `json:"prompts,omitempty"`
	Rules   []Rule    `json:"rules,omitempty"`

	// MaxCostUSD is the entry's own budget in dollars; the policy's
	// max_cost_usd applies as well.
	MaxCostUSD float64 `json:"max_cost_usd,omitempty"`

	modelRE   *regexp.Regexp
	budgetKey string // "<group>/<index>" when MaxTokens > 0; set by Validate
	costKey   string // "<group>/<index>" when MaxCostUSD > 0; set by Validate
	maxCost   int64  // MaxCostUSD in micro-dollars; set by Validate
}

// Resolved is the effective policy for one requested model.
type Resolved struct {
	Model       string
	Provider    string // group name, or the policy's default_provider; "" when neither
	GroupIndex  int    // index of the group in Policy.Providers; -1 when no entry matched
	EntryIndex  int    // index within the group; -1 when no entry matched
	KeyEnv      string // entry's base_key_env, else the policy's
	UpstreamURL string // entry's upstream_url, else the policy's
	MaxTokens   int64  // the entry's own budget (0 = none); the policy's budget applies as well
	Timeout     time.Duration
	BudgetKey   string // stable counter name for the entry budget, e.g. "openai/0"; "" when none

	// MaxCost is the entry's own budget in micro-dollars (0 = none), and
	// CostKey its counter name, e.g. "openai/0"; "" when none.
	MaxCost int64
	CostKey string
}
