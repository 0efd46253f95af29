package manifest

import (
	"fmt"
	"regexp"
	"time"
)

// SchemaVersion is the manifest format this package writes and reads.
const SchemaVersion = 1

// ABIVersion is the plugin ABI this build runs (sdk/abi, version 1).
const ABIVersion = 1

// MaxPluginSize bounds a plugin binary: far above a Go-built plugin (a few
// MiB), low enough that an upload cannot exhaust memory.
const MaxPluginSize = 48 << 20

var (
	// nameRE is the policy's plugin name rule, so every signed name can be
	// referenced by a wasm rule; plus a length cap.
	nameRE   = regexp.MustCompile(`^[a-z0-9_-][a-z0-9._-]{0,63}$`)
	sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// Manifest is what a plugin's signature covers.
type Manifest struct {
	Schema  int    `json:"schema"`
	Name    string `json:"name"`
	Version string `json:"version"`
	ABI     int    `json:"abi"`
	SHA256  string `json:"sha256"` // lowercase hex of the binary
	Size    int64  `json:"size"`   // bytes of the binary
	Limits  Limits `json:"limits"`
	// SignedAt is informational; ordering uses Version only.
	SignedAt time.Time `json:"signed_at"`
}

// Limits are what the plugin declares it needs. A proxy whose rule host
// grants less refuses the plugin at sync time with a message, instead of
// failing requests later. Zero means "the host's default is enough".
type Limits struct {
	// MemoryPages is the linear memory the plugin may need, in 64 KiB pages.
	MemoryPages uint32 `json:"memory_pages,omitempty"`
	// CallTimeoutMS is the longest one check may take, in milliseconds.
	CallTimeoutMS uint32 `json:"call_timeout_ms,omitempty"`
}

// Validate checks every field and reports all problems at once.
func (m *Manifest) Validate() error {
	var probs []string
	if m.Schema != SchemaVersion {
		probs = append(probs, fmt.Sprintf("schema must be %d, got %d", SchemaVersion, m.Schema))
	}
	if !nameRE.MatchString(m.Name) {
		probs = append(probs, fmt.Sprintf("name must match [a-z0-9._-]{1,64} and not start with a dot, got %q", m.Name))
	}
	if _, err := ParseVersion(m.Version); err != nil {
		probs = append(probs, err.Error())
	}
	if m.ABI < 1 {
		probs = append(probs, fmt.Sprintf("abi must be 1 or more, got %d", m.ABI))
	}
	if !sha256RE.MatchString(m.SHA256) {
		probs = append(probs, "sha256 must be 64 lowercase hexadecimal digits")
	}
	if m.Size <= 0 || m.Size > MaxPluginSize {
		probs = append(probs, fmt.Sprintf("size must be 1 to %d bytes, got %d", MaxPluginSize, m.Size))
	}
	if len(probs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrMalformed, joinProblems(probs))
}

// CheckABI reports whether this build can run the plugin.
func (m *Manifest) CheckABI() error {
	if m.ABI != ABIVersion {
		return fmt.Errorf("%w: plugin %q speaks ABI %d, this build runs %d", ErrUnsupportedABI, m.Name, m.ABI, ABIVersion)
	}
	return nil
}

// CheckLimits reports whether a host granting maxPages and maxCallMS gives
// the plugin what it declares. Zero host values mean "no known cap".
func (m *Manifest) CheckLimits(maxPages, maxCallMS uint32) error {
	if maxPages > 0 && m.Limits.MemoryPages > maxPages {
		return fmt.Errorf("plugin %q needs %d memory pages, the rule host grants %d", m.Name, m.Limits.MemoryPages, maxPages)
	}
	if maxCallMS > 0 && m.Limits.CallTimeoutMS > maxCallMS {
		return fmt.Errorf("plugin %q needs %d ms per call, the rule host grants %d", m.Name, m.Limits.CallTimeoutMS, maxCallMS)
	}
	return nil
}

// String names the manifest for logs and messages.
func (m *Manifest) String() string {
	return m.Name + "@" + m.Version + " (" + shortSum(m.SHA256) + ")"
}

func shortSum(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func joinProblems(ps []string) string {
	out := ps[0]
	for _, p := range ps[1:] {
		out += "; " + p
	}
	return out
}
