package tokenapi

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/tokenomics-dev/tokenomics/core/store"
)

// Service implements Manager on a local database.
type Service struct {
	db       store.Backend
	validate Validator
	patch    Patcher
	logger   hclog.Logger
	now      func() time.Time

	hooksMu sync.RWMutex
	hooks   []func(kind string, rec store.Record)
}

// NewService returns a Service. validate checks every policy before it is
// stored (nil accepts any JSON object); patch applies merge patches on
// update (nil refuses patches, leaving only Replace).
func NewService(db store.Backend, validate Validator, patch Patcher, logger hclog.Logger) *Service {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	return &Service{db: db, validate: validate, patch: patch, logger: logger.Named("tokenapi"), now: time.Now}
}

// OnChange registers fn to run after each successful create, update and
// delete, with kind EventCreated, EventUpdated or EventDeleted. Hooks run
// synchronously on the caller's goroutine.
func (s *Service) OnChange(fn func(kind string, rec store.Record)) {
	s.hooksMu.Lock()
	s.hooks = append(s.hooks, fn)
	s.hooksMu.Unlock()
}

func (s *Service) emit(kind string, rec store.Record) {
	s.hooksMu.RLock()
	hooks := s.hooks
	s.hooksMu.RUnlock()
	for _, fn := range hooks {
		fn(kind, rec)
	}
	if s.logger.IsDebug() {
		s.logger.Debug("token changed", "event", kind, "token_hash", rec.Hash[:min(12, len(rec.Hash))], "revision", rec.Revision)
	}
}

// Create validates req.Policy and stores a new token.
func (s *Service) Create(ctx context.Context, req CreateRequest) (Created, error) {
	if err := ctx.Err(); err != nil {
		return Created{}, err
	}
	if len(req.Policy) == 0 {
		return Created{}, invalidf("a policy is required")
	}
	if req.ExpiresAt != nil && !req.ExpiresAt.After(s.now()) {
		return Created{}, invalidf("expires_at %s is in the past", req.ExpiresAt.Format(time.RFC3339))
	}
	policy, err := s.check(req.Policy)
	if err != nil {
		return Created{}, err
	}
	token, rec, err := s.db.Create(policy, req.ExpiresAt)
	if err != nil {
		return Created{}, mapStoreErr(err)
	}
	s.emit(EventCreated, rec)
	return Created{Token: token, Record: rec}, nil
}

// List returns every live token record, oldest first.
func (s *Service) List(ctx context.Context) ([]store.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	recs, err := s.db.List()
	if err != nil {
		return nil, err
	}
	if recs == nil {
		recs = []store.Record{}
	}
	return recs, nil
}

// Get returns the record whose hash starts with prefix.
func (s *Service) Get(ctx context.Context, prefix string) (store.Record, error) {
	if err := ctx.Err(); err != nil {
		return store.Record{}, err
	}
	rec, err := s.db.Resolve(prefix)
	return rec, mapStoreErr(err)
}

// Update patches or replaces the policy and sets or clears the expiry. The
// result is validated before it is stored, inside the same transaction, so
// concurrent updates cannot lose each other's patches.
func (s *Service) Update(ctx context.Context, prefix string, req UpdateRequest) (store.Record, error) {
	if err := ctx.Err(); err != nil {
		return store.Record{}, err
	}
	if err := s.checkUpdate(req); err != nil {
		return store.Record{}, err
	}
	cur, err := s.db.Resolve(prefix)
	if err != nil {
		return store.Record{}, mapStoreErr(err)
	}
	rec, err := s.db.Update(cur.Hash, func(r *store.Record) error {
		if len(req.Policy) > 0 {
			next := []byte(req.Policy)
			if !req.Replace {
				patched, perr := s.patch(r.Policy, req.Policy)
				if perr != nil {
					return invalidf("applying merge patch: %w", perr)
				}
				next = patched
			}
			checked, cerr := s.check(next)
			if cerr != nil {
				return cerr
			}
			r.Policy = checked
		}
		switch {
		case req.ClearExpiry:
			r.ExpiresAt = nil
		case req.ExpiresAt != nil:
			r.ExpiresAt = req.ExpiresAt
		}
		return nil
	})
	if err != nil {
		return store.Record{}, mapStoreErr(err)
	}
	s.emit(EventUpdated, rec)
	return rec, nil
}

func (s *Service) checkUpdate(req UpdateRequest) error {
	switch {
	case len(req.Policy) == 0 && req.ExpiresAt == nil && !req.ClearExpiry:
		return invalidf("nothing to update: give a policy, expires_at or clear_expiry")
	case req.Replace && len(req.Policy) == 0:
		return invalidf("replace needs a policy")
	case req.ClearExpiry && req.ExpiresAt != nil:
		return invalidf("expires_at and clear_expiry contradict each other")
	case req.ExpiresAt != nil && !req.ExpiresAt.After(s.now()):
		return invalidf("expires_at %s is in the past", req.ExpiresAt.Format(time.RFC3339))
	case len(req.Policy) > 0 && !req.Replace && s.patch == nil:
		return invalidf("merge patches are not supported here; send the whole policy with replace")
	}
	return nil
}

// Delete removes the token whose hash starts with prefix.
func (s *Service) Delete(ctx context.Context, prefix string) (store.Record, error) {
	if err := ctx.Err(); err != nil {
		return store.Record{}, err
	}
	cur, err := s.db.Resolve(prefix)
	if err != nil {
		return store.Record{}, mapStoreErr(err)
	}
	rec, err := s.db.Delete(cur.Hash)
	if err != nil {
		return store.Record{}, mapStoreErr(err)
	}
	s.emit(EventDeleted, rec)
	return rec, nil
}

// Changes returns the change feed after since.
func (s *Service) Changes(ctx context.Context, since uint64) (ChangesResponse, error) {
	if err := ctx.Err(); err != nil {
		return ChangesResponse{}, err
	}
	changes, rev, err := s.db.Changes(since)
	if err != nil {
		return ChangesResponse{}, err
	}
	return ChangesResponse{Revision: rev, Changes: changes}, nil
}

// check runs the validator and makes sure the result is a JSON object.
func (s *Service) check(policy json.RawMessage) (json.RawMessage, error) {
	if !json.Valid(policy) {
		return nil, invalidf("the policy is not valid JSON")
	}
	if s.validate != nil {
		norm, err := s.validate(policy)
		if err != nil {
			return nil, invalidf("invalid policy: %w", err)
		}
		policy = norm
	}
	return policy, nil
}

// mapStoreErr marks the store's caller-mistake errors as invalid requests;
// the rest pass through.
func mapStoreErr(err error) error {
	if errors.Is(err, store.ErrInvalidPolicy) || errors.Is(err, store.ErrInvalidPrefix) {
		return &invalidError{err: err}
	}
	return err
}

var _ Manager = (*Service)(nil)
