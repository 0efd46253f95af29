package fleet

import (
	"errors"
	"fmt"
	"regexp"
	"time"
)

// Plugin states in a report.
const (
	StateActive  = "active"  // verified, loaded (or ready to load) and in use
	StateLoading = "loading" // tokens use it; the host is still instantiating it
	StateFailed  = "failed"  // the host could not load it; its rules fail closed
)

// Bounds the central server enforces on a report, so a confused or hostile
// caller cannot grow its memory without limit.
const (
	MaxReportBytes = 256 << 10
	MaxPlugins     = 256
	MaxErrorLen    = 200
	maxNameLen     = 253
)

// ErrInvalid is returned by Report.Validate.
var ErrInvalid = errors.New("fleet: invalid report")

// Plugin is one plugin version a proxy holds.
type Plugin struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
	// Tokens counts the proxy's tokens whose policy resolves to this version.
	Tokens int    `json:"tokens"`
	State  string `json:"state"`
	// Error is a short cause when State is failed.
	Error string `json:"error,omitempty"`
}

// Report is what one proxy says about itself.
type Report struct {
	// Instance is the proxy's stable id (kept next to its database).
	Instance string `json:"instance"`
	// Name is the proxy's host name.
	Name    string `json:"name"`
	Version string `json:"version"`
	// Revision is the token revision the proxy has applied.
	Revision uint64 `json:"revision"`
	// Ready is what the proxy's /ready says.
	Ready   bool     `json:"ready"`
	Plugins []Plugin `json:"plugins"`
}

// Proxy is a report as the central server keeps it.
type Proxy struct {
	Report
	LastContact time.Time `json:"last_contact"`
	// Lag is the central revision minus the proxy's; negative when the
	// central server was restored to an older revision.
	Lag int64 `json:"lag"`
}

// Status is GET /api/v1/fleet.
type Status struct {
	Revision uint64  `json:"revision"`
	Proxies  []Proxy `json:"proxies"`
}

var instanceRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Validate checks what the central server stores.
func (r *Report) Validate() error {
	switch {
	case !instanceRE.MatchString(r.Instance):
		return fmt.Errorf("%w: instance must match %s", ErrInvalid, instanceRE)
	case len(r.Name) > maxNameLen || len(r.Version) > maxNameLen:
		return fmt.Errorf("%w: name and version are at most %d bytes", ErrInvalid, maxNameLen)
	case len(r.Plugins) > MaxPlugins:
		return fmt.Errorf("%w: at most %d plugins", ErrInvalid, MaxPlugins)
	}
	for i, p := range r.Plugins {
		if p.Name == "" || len(p.Name) > maxNameLen || len(p.Version) > maxNameLen || len(p.SHA256) > 64 {
			return fmt.Errorf("%w: plugins[%d] needs a name; name and version are at most %d bytes, sha256 64", ErrInvalid, i, maxNameLen)
		}
		switch p.State {
		case StateActive, StateLoading, StateFailed:
		default:
			return fmt.Errorf("%w: plugins[%d].state must be active, loading or failed", ErrInvalid, i)
		}
		if p.Tokens < 0 {
			return fmt.Errorf("%w: plugins[%d].tokens must not be negative", ErrInvalid, i)
		}
		if len(p.Error) > MaxErrorLen {
			return fmt.Errorf("%w: plugins[%d].error is at most %d bytes", ErrInvalid, i, MaxErrorLen)
		}
	}
	return nil
}

// Short cuts s to MaxErrorLen bytes on a rune boundary, for Plugin.Error.
func Short(s string) string {
	if len(s) <= MaxErrorLen {
		return s
	}
	cut := MaxErrorLen - len("…")
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
