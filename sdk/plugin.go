package sdk

import (
	"errors"
	"strconv"

	"github.com/tokenomics-dev/tokenomics/sdk/abi"
)

// ErrNoHost is returned by the host primitives outside a wasip1 guest.
var ErrNoHost = errors.New("sdk: no plugin host (not running as wasip1 guest)")

// Plugin is what a plugin registers.
type Plugin struct {
	// Configure prepares one configuration of the plugin (one policy rule). It
	// runs once per configuration and pooled instance, off the hot path: parse
	// the config and compile matchers here.
	Configure func(c *Config) (Checker, error)
}

// Checker checks the texts of one request or stream chunk.
type Checker interface {
	Check(req *Request, res *Result) error
}

// CheckFunc adapts a function to Checker.
type CheckFunc func(req *Request, res *Result) error

// Check calls f.
func (f CheckFunc) Check(req *Request, res *Result) error { return f(req, res) }

var (
	registered *Plugin
	byType     map[string]*Plugin
)

// Register installs the plugin. Call it once, from init. It panics when
// called twice, with a nil Configure or in a module that uses RegisterType,
// which are programming errors.
func Register(p Plugin) {
	if p.Configure == nil {
		panic("sdk: Register with nil Configure")
	}
	if registered != nil {
		panic("sdk: Register called twice")
	}
	if byType != nil {
		panic("sdk: Register in a module that uses RegisterType")
	}
	registered = &p
}

// RegisterType installs p for the rules of type typ, in a module that
// serves several rule types: the built-in module registers pii, regex,
// keyword and prompt_guard so, and the host compiles and pools that one
// module for all of them. The host names the type in every configuration
// it sends (abi.AppendTypedConfig), which it does for its built-in module
// only: a custom plugin registers one Plugin with Register. Call it from
// init; it panics on an empty or repeated type, a nil Configure, or a
// module that also calls Register.
func RegisterType(typ string, p Plugin) {
	switch {
	case typ == "":
		panic("sdk: RegisterType with an empty type")
	case p.Configure == nil:
		panic("sdk: RegisterType with nil Configure")
	case registered != nil:
		panic("sdk: RegisterType in a module that uses Register")
	case byType[typ] != nil:
		panic("sdk: RegisterType called twice for " + typ)
	}
	if byType == nil {
		byType = map[string]*Plugin{}
	}
	byType[typ] = &p
}

// pluginFor returns the plugin a configuration blob is for and the
// plugin's own config.
func pluginFor(blob []byte) (*Plugin, []byte, error) {
	switch {
	case byType != nil:
		typ, raw, ok := abi.SplitTypedConfig(blob)
		if !ok {
			return nil, nil, errors.New("the configuration names no rule type")
		}
		if p := byType[typ]; p != nil {
			return p, raw, nil
		}
		return nil, nil, errors.New("unknown rule type " + strconv.Quote(typ))
	case registered != nil:
		return registered, blob, nil
	}
	return nil, nil, errors.New("no plugin registered (call sdk.Register from init)")
}

// Config is the configuration of one rule, as given by the policy.
type Config struct {
	// Raw is the rule's config: a JSON object, or empty.
	Raw []byte

	detectors []string
	maxMatch  int
}

// Detector declares a detector name (reported in findings and used in the
// default mask "[REDACTED:<name>]") and returns its index for Result.Match.
// Declaring the same name twice returns the same index.
func (c *Config) Detector(name string) int {
	for i, d := range c.detectors {
		if d == name {
			return i
		}
	}
	c.detectors = append(c.detectors, name)
	return len(c.detectors) - 1
}

// SetMaxMatch declares the longest match (in bytes) this configuration can
// report. The host holds back that many bytes of streamed output so a match
// split across chunks is still seen whole. Without it the host derives the
// bound from the matchers compiled during Configure.
func (c *Config) SetMaxMatch(n int) { c.maxMatch = n }

// Phase tells whether texts come from the request or the response.
type Phase uint8

// Phases.
const (
	Input  Phase = 1
	Output Phase = 2
)

// Request is one call of Check. It and its texts are only valid during the call.
type Request struct {
	Phase Phase
	// First is true when one match decides (a blocking rule): a plugin may
	// stop at the first match.
	First bool
	Texts []Text
}

// Text is one extracted text: a message content, tool arguments, an output delta.
type Text struct {
	Data []byte
	Role string // system, user, assistant, tool, developer or ""
	Kind string // message, tool_call, tool_result, delta, prompt or ""
}

// Match is one match of a host matcher: the byte span [Start, End) and which
// pattern or keyword (Index) matched.
type Match struct {
	Start, End, Index int
	// Text is the index of the text in Request.Texts (FindIn; 0 from Find).
	Text int
}

var _ Checker = CheckFunc(nil)
