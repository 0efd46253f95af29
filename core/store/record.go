package store

import (
	"encoding/json"
	"time"
)

// Record is one token's stored state. The token itself is never kept.
type Record struct {
	Hash      string          `json:"hash"`
	Policy    json.RawMessage `json:"policy"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
	ExpiresAt *time.Time      `json:"expires_at,omitempty"`
	Revision  uint64          `json:"revision"` // revision of the record's last change
}

// Expired reports whether the record has an expiry at or before now.
func (r Record) Expired(now time.Time) bool {
	return r.ExpiresAt != nil && !now.Before(*r.ExpiresAt)
}

// Change is one entry of the change feed: a live record at its latest
// revision, or a tombstone (Deleted, no Record).
type Change struct {
	Revision uint64  `json:"revision"`
	Hash     string  `json:"hash"`
	Deleted  bool    `json:"deleted,omitempty"`
	Record   *Record `json:"record,omitempty"`
}

// clone returns a copy that shares nothing mutable with r.
func (r Record) clone() Record {
	c := r
	c.Policy = append(json.RawMessage(nil), r.Policy...)
	if r.ExpiresAt != nil {
		t := *r.ExpiresAt
		c.ExpiresAt = &t
	}
	return c
}

// validPolicy reports whether p is a JSON object.
func validPolicy(p json.RawMessage) bool {
	for _, c := range p {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return json.Valid(p)
		}
		return false
	}
	return false
}

// validHash reports whether s is a full lowercase hex hash.
func validHash(s string) bool {
	return len(s) == HashLen && isLowerHex(s)
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
