package events

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Event types. Filters match them exactly or by "<prefix>.*".
const (
	TokenCreated     = "token.created"
	TokenUpdated     = "token.updated"
	TokenDeleted     = "token.deleted"
	TokenExpired     = "token.expired"
	BudgetExceeded   = "budget.exceeded"
	RateExceeded     = "rate.exceeded"
	RuleViolation    = "rule.violation"
	RuleWarning      = "rule.warning"
	RuleMasked       = "rule.masked"
	RuleLogged       = "rule.logged"
	RuleError        = "rule.error"
	RequestCompleted = "request.completed"
	PluginUploaded   = "plugin.uploaded"
	PluginDeleted    = "plugin.deleted"
	ServerStart      = "server.start"
)

// SourceCentral is the Source of events the central server emits. Proxies
// use ProxySource.
const SourceCentral = "central"

// ProxySource returns the Source of events a proxy on host emits,
// "proxy:<host>".
func ProxySource(host string) string { return "proxy:" + host }

// Event is one occurrence, sent as the JSON body of a webhook delivery.
// Data must never hold a token or any other secret (see the package doc).
type Event struct {
	ID       string          `json:"id"`
	Type     string          `json:"type"`
	Time     time.Time       `json:"time"`
	Source   string          `json:"source,omitempty"`
	Revision uint64          `json:"revision,omitempty"`
	Data     json.RawMessage `json:"data,omitempty"`
}

// idLen is the length of a NewID string: 128 bits in hex.
const idLen = 32

// NewID returns a fresh event id: 128 random bits in lowercase hex.
func NewID() string {
	var b [idLen / 2]byte
	// crypto/rand.Read never fails since Go 1.24; it aborts the program
	// instead of returning a predictable value.
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// New returns an event of type typ with a fresh id, the current UTC time and
// data marshalled as its payload (nil data leaves Data empty).
func New(typ, source string, revision uint64, data any) (Event, error) {
	ev := Event{ID: NewID(), Type: typ, Time: time.Now().UTC(), Source: source, Revision: revision}
	if data != nil {
		raw, err := json.Marshal(data)
		if err != nil {
			return Event{}, fmt.Errorf("marshalling %s event data: %w", typ, err)
		}
		ev.Data = raw
	}
	return ev, nil
}
