package policy

// Rule types.
const (
	RuleTypePII         = "pii"
	RuleTypeRegex       = "regex"
	RuleTypeKeyword     = "keyword"
	RuleTypePromptGuard = "prompt_guard"
	RuleTypeWASM        = "wasm"
)

// Rule actions. "block" is accepted in input as an alias of ActionFail.
const (
	ActionFail = "fail"
	ActionWarn = "warn"
	ActionLog  = "log"
	ActionMask = "mask"
)

// Rule scopes.
const (
	ScopeInput  = "input"
	ScopeOutput = "output"
	ScopeBoth   = "both"
)

// What a rule does when its plugin fails.
const (
	OnErrorBlock = "block"
	OnErrorAllow = "allow"
)

// Rate-limit strategies.
const (
	StrategySliding = "sliding"
	StrategyFixed   = "fixed"
)

// Detectors lists the detector names a pii rule may name in "detect".
var Detectors = []string{
	"ssn", "credit_card", "email", "phone", "ip_address", "aws_key",
	"api_key", "jwt", "private_key", "connection_string", "github_token",
}

// defaultRetryOn is what retry_on becomes when a retry block leaves it empty.
var defaultRetryOn = []int{429, 500, 502, 503}
