package store

import (
	"encoding/json"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCreateMany: a batch is one transaction: every token looks up its own
// policy, revisions follow the batch order, subscribers hear one batch, and
// a batch holding one invalid policy writes nothing.
func TestCreateMany(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		policies []json.RawMessage
		wantErr  error
	}{
		{"empty", nil, nil},
		{"one", []json.RawMessage{policyJSON("a")}, nil},
		{"several", []json.RawMessage{policyJSON("a"), policyJSON("b"), policyJSON("a")}, nil},
		{"one invalid", []json.RawMessage{policyJSON("a"), json.RawMessage(`[1]`)}, ErrInvalidPolicy},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db := openTest(t, nil)
			var mu sync.Mutex
			var batches [][]Change
			cancel := db.SubscribeBatch(func(c []Change) {
				mu.Lock()
				batches = append(batches, c)
				mu.Unlock()
			})
			defer cancel()
			before := db.Revision()
			tokens, err := db.CreateMany(tc.policies, nil)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				recs, err := db.List()
				require.NoError(t, err)
				assert.Empty(t, recs, "a failed batch writes nothing")
				assert.Equal(t, before, db.Revision())
				return
			}
			require.NoError(t, err)
			require.Len(t, tokens, len(tc.policies))
			for i, tok := range tokens {
				rec, err := db.Lookup(tok)
				require.NoError(t, err)
				assert.JSONEq(t, string(tc.policies[i]), string(rec.Policy))
				assert.Equal(t, before+uint64(i)+1, rec.Revision)
			}
			assert.Equal(t, before+uint64(len(tc.policies)), db.Revision())
			mu.Lock()
			defer mu.Unlock()
			if len(tc.policies) > 0 {
				require.Len(t, batches, 1, "one transaction, one batch")
				assert.Len(t, batches[0], len(tc.policies))
			}
		})
	}
}
