package fakeupstream

import "github.com/hashicorp/go-hclog"

// Defaults for Options.
const (
	DefaultEmbeddingDims = 16
	DefaultRecordLimit   = 128
	DefaultMaxBodyBytes  = 32 << 20 // Anthropic's request size limit
)

// DefaultOpenAIModels and DefaultAnthropicModels are listed by GET /v1/models
// when Options leaves the lists empty. Any model name is served regardless.
var (
	DefaultOpenAIModels    = []string{"gpt-4o", "gpt-4o-mini", "gpt-4.1", "o3", "gpt-3.5-turbo-instruct", "text-embedding-3-small"}
	DefaultAnthropicModels = []string{"claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1"}
)

// Options configures a Server. The zero value works: no key checks, default
// model lists, the last 128 requests recorded.
type Options struct {
	// OpenAIKey is the bearer token the OpenAI-format endpoints expect
	// ("Authorization: Bearer <key>"). Empty accepts any or no key.
	OpenAIKey string
	// AnthropicKey is the x-api-key /v1/messages expects. Empty accepts any or
	// no key; the anthropic-version header is required either way.
	AnthropicKey string
	// FailModels lists models whose requests always fail with 503, for
	// fallback tests.
	FailModels []string
	// OpenAIModels and AnthropicModels are what GET /v1/models lists.
	OpenAIModels    []string
	AnthropicModels []string
	// EmbeddingDims is the vector length when a request gives no "dimensions".
	// Default 16.
	EmbeddingDims int
	// RecordLimit is how many requests Requests() keeps, oldest dropped first.
	// Default 128; negative disables recording (load benchmarks).
	RecordLimit int
	// MaxBodyBytes refuses larger request bodies with 413. Default 32 MiB.
	MaxBodyBytes int64
	// Logger gets one Debug line per request when at Debug level. Default: none.
	Logger hclog.Logger
	// FoldKeys records every member name a case-folding server would read
	// as another field or as a repeat (see VariantKeys and foldkeys.go).
	FoldKeys bool
}

func (o *Options) setDefaults() {
	if len(o.OpenAIModels) == 0 {
		o.OpenAIModels = DefaultOpenAIModels
	}
	if len(o.AnthropicModels) == 0 {
		o.AnthropicModels = DefaultAnthropicModels
	}
	if o.EmbeddingDims <= 0 {
		o.EmbeddingDims = DefaultEmbeddingDims
	}
	if o.RecordLimit == 0 {
		o.RecordLimit = DefaultRecordLimit
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
}
