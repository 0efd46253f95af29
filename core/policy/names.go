package policy

// Rule types.
const (
	RuleTypePII         = "pii"
	RuleTypeRegex       = "regex"
	RuleTypeKeyword     = "keyword"
	RuleTypePromptGuard = "prompt_guard"
	// RuleTypeJailbreak is the original project's prompt-injection rule; it
	// runs the prompt_guard plugin, and with action mask replaces each
	// offending message as a whole with JailbreakReplacement.
	RuleTypeJailbreak = "jailbreak"
	RuleTypeWASM      = "wasm"
)

// JailbreakReplacement is the text a masking jailbreak rule puts in place
// of an offending message, as the original project did.
const JailbreakReplacement = "[JAILBREAK_ATTEMPT_REDACTED]"

// JailbreakThreshold is a jailbreak rule's default prompt-injection score.
// It is below prompt_guard's 0.5 so that one clear signal (a role override,
// "developer mode", "ignore previous instructions") is enough, as any one of
// the original's patterns was.
const JailbreakThreshold = 0.4

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
