package events

// HashPrefixLen is how many leading characters of a token's stored hash name
// the token in events and logs: enough to tell tokens apart, useless for
// recovering the token.
const HashPrefixLen = 8

// HashPrefix returns the first HashPrefixLen characters of a token's stored
// hash. Pass the hash, never the token itself.
func HashPrefix(hash string) string {
	if len(hash) > HashPrefixLen {
		return hash[:HashPrefixLen]
	}
	return hash
}

// The types below are the Data payloads of the event types. None of them
// has room for a secret: tokens appear only as a hash prefix.

// TokenData is the payload of token.* events.
type TokenData struct {
	TokenHashPrefix string `json:"token_hash_prefix"`
	Name            string `json:"name,omitempty"`
	ExpiresAt       string `json:"expires_at,omitempty"` // RFC 3339, empty if never
}

// LimitData is the payload of budget.exceeded and rate.exceeded.
type LimitData struct {
	TokenHashPrefix string `json:"token_hash_prefix"`
	Model           string `json:"model,omitempty"`
	Limit           int64  `json:"limit"`
	Used            int64  `json:"used"`
	Window          string `json:"window,omitempty"` // rate limits: "1m", "1h", …
	// Metadata is the token policy's metadata (labels such as team or role).
	Metadata map[string]string `json:"metadata,omitempty"`
}

// RuleData is the payload of rule.* events. Findings name what matched
// (detector or rule names), never the matched text.
type RuleData struct {
	TokenHashPrefix string   `json:"token_hash_prefix"`
	RequestID       string   `json:"request_id,omitempty"`
	Rule            string   `json:"rule"`
	Action          string   `json:"action"`          // block, mask, warn, log
	Phase           string   `json:"phase,omitempty"` // request, response, stream
	Findings        []string `json:"findings,omitempty"`
	// Metadata is the token policy's metadata (labels such as team or role).
	Metadata map[string]string `json:"metadata,omitempty"`
}

// RuleErrorData is the payload of rule.error: a rule whose plugin failed
// (trap, timeout, bad result, not loaded). Cause is for operators; clients
// only see a generic reason.
type RuleErrorData struct {
	TokenHashPrefix string `json:"token_hash_prefix"`
	RequestID       string `json:"request_id,omitempty"`
	Rule            string `json:"rule"`
	Plugin          string `json:"plugin"`
	Version         string `json:"version"` // the plugin's sha256
	Phase           string `json:"phase,omitempty"`
	Blocked         bool   `json:"blocked"` // false: on_error allowed the request
	Cause           string `json:"cause"`
}

// RequestData is the payload of request.completed.
type RequestData struct {
	TokenHashPrefix string `json:"token_hash_prefix"`
	RequestID       string `json:"request_id,omitempty"`
	Model           string `json:"model,omitempty"`
	Provider        string `json:"provider,omitempty"`
	Status          int    `json:"status"`
	InputTokens     int64  `json:"input_tokens"`
	OutputTokens    int64  `json:"output_tokens"`
	LatencyMS       int64  `json:"latency_ms"`
	Stream          bool   `json:"stream,omitempty"`
	// CostUSDMicros is what the answer cost at the proxy's price table, in
	// micro-dollars (USD × 1e6); 0 when the model has no price.
	CostUSDMicros int64 `json:"cost_usd_micros,omitempty"`
	// Metadata is the token policy's metadata (labels such as team or role).
	Metadata map[string]string `json:"metadata,omitempty"`
	// FallbackFrom is the model the client asked for when Model, a
	// retry.fallbacks entry, answered instead; FallbackReason says why.
	FallbackFrom   string `json:"fallback_from,omitempty"`
	FallbackReason string `json:"fallback_reason,omitempty"`
}

// PluginData is the payload of plugin.* events.
type PluginData struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	SHA256  string `json:"sha256,omitempty"`
}

// ServerData is the payload of server.start.
type ServerData struct {
	Role    string `json:"role"` // "proxy" or "central"
	Version string `json:"version,omitempty"`
}
