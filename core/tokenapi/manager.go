package tokenapi

import (
	"context"
	"encoding/json"
	"time"

	"github.com/tokenomics-dev/tokenomics/core/store"
)

// CreateRequest asks for a new token carrying Policy.
type CreateRequest struct {
	Policy    json.RawMessage `json:"policy"`
	ExpiresAt *time.Time      `json:"expires_at,omitempty"`
}

// Created is the only place a token is ever shown.
type Created struct {
	Token  string       `json:"token"`
	Record store.Record `json:"record"`
}

// UpdateRequest changes a token's policy, expiry or both.
type UpdateRequest struct {
	// Policy is an RFC 7386 merge patch of the current policy, or the whole
	// new policy when Replace is set.
	Policy      json.RawMessage `json:"policy,omitempty"`
	Replace     bool            `json:"replace,omitempty"`
	ExpiresAt   *time.Time      `json:"expires_at,omitempty"`
	ClearExpiry bool            `json:"clear_expiry,omitempty"`
}

// ChangesResponse is the change feed after a revision (see store.DB.Changes).
type ChangesResponse struct {
	Revision uint64         `json:"revision"`
	Changes  []store.Change `json:"changes"`
}

// Manager is the set of token operations, local (Service) or remote (Client).
// prefix is a unique prefix of the token hash, at least 4 hex characters.
type Manager interface {
	Create(ctx context.Context, req CreateRequest) (Created, error)
	List(ctx context.Context) ([]store.Record, error)
	Get(ctx context.Context, prefix string) (store.Record, error)
	Update(ctx context.Context, prefix string, req UpdateRequest) (store.Record, error)
	Delete(ctx context.Context, prefix string) (store.Record, error)
	Changes(ctx context.Context, since uint64) (ChangesResponse, error)
}

// Validator checks a policy and returns its normalized form. Its error text
// reaches the user as is.
type Validator func(policy json.RawMessage) (normalized json.RawMessage, err error)

// Patcher applies an RFC 7386 merge patch (policy.MergePatch).
type Patcher func(original, patch []byte) ([]byte, error)

// Event kinds passed to Service.OnChange hooks.
const (
	EventCreated = "token.created"
	EventUpdated = "token.updated"
	EventDeleted = "token.deleted"
)
