package tokenapi

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/store"
)

type hookLog struct {
	mu     sync.Mutex
	events []string
}

func (h *hookLog) record(kind string, rec store.Record) {
	h.mu.Lock()
	h.events = append(h.events, kind+" "+rec.Hash[:8])
	h.mu.Unlock()
}

func TestServiceCreate(t *testing.T) {
	t.Parallel()
	future := time.Now().Add(time.Hour)
	past := time.Now().Add(-time.Hour)
	tests := []struct {
		name       string
		req        CreateRequest
		wantPolicy string
		wantErr    string // substring of the message; "" = success
	}{
		{name: "normalized", req: CreateRequest{Policy: json.RawMessage(`{ "z": 1, "a": 2 }`)}, wantPolicy: `{"a":2,"z":1}`},
		{name: "with expiry", req: CreateRequest{Policy: json.RawMessage(`{}`), ExpiresAt: &future}, wantPolicy: `{}`},
		{name: "no policy", req: CreateRequest{}, wantErr: "a policy is required"},
		{name: "not json", req: CreateRequest{Policy: json.RawMessage(`{x`)}, wantErr: "not valid JSON"},
		{name: "validator refuses", req: CreateRequest{Policy: json.RawMessage(`{"forbidden":1}`)}, wantErr: `unknown field "forbidden"`},
		{name: "past expiry", req: CreateRequest{Policy: json.RawMessage(`{}`), ExpiresAt: &past}, wantErr: "in the past"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			svc, db := newTestService(t)
			hooks := &hookLog{}
			svc.OnChange(hooks.record)
			created, err := svc.Create(context.Background(), tc.req)
			if tc.wantErr != "" {
				require.ErrorIs(t, err, ErrInvalidRequest)
				assert.Contains(t, err.Error(), tc.wantErr)
				assert.Empty(t, hooks.events)
				assert.Zero(t, db.Revision())
				return
			}
			require.NoError(t, err)
			assert.True(t, store.ValidTokenFormat(created.Token))
			assert.Equal(t, tc.wantPolicy, string(created.Record.Policy))
			got, err := db.Lookup(created.Token)
			require.NoError(t, err)
			assert.Equal(t, created.Record.Hash, got.Hash)
			assert.Equal(t, []string{EventCreated + " " + got.Hash[:8]}, hooks.events)
		})
	}
}

func TestServiceUpdate(t *testing.T) {
	t.Parallel()
	future := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	past := time.Now().Add(-time.Hour)
	const orig = `{"a":1,"nested":{"x":1,"y":2}}`
	tests := []struct {
		name       string
		req        UpdateRequest
		noPatcher  bool
		wantPolicy string
		wantExp    *time.Time
		clearFirst bool
		wantErr    string
	}{
		{name: "merge adds and removes", req: UpdateRequest{Policy: json.RawMessage(`{"b":2,"nested":{"y":null}}`)}, wantPolicy: `{"a":1,"b":2,"nested":{"x":1}}`},
		{name: "replace", req: UpdateRequest{Policy: json.RawMessage(`{"b":2}`), Replace: true}, wantPolicy: `{"b":2}`},
		{name: "set expiry only", req: UpdateRequest{ExpiresAt: &future}, wantPolicy: orig, wantExp: &future},
		{name: "clear expiry", req: UpdateRequest{ClearExpiry: true}, wantPolicy: orig},
		{name: "patch then validator refuses", req: UpdateRequest{Policy: json.RawMessage(`{"forbidden":true}`)}, wantErr: `unknown field "forbidden"`},
		{name: "replace with invalid", req: UpdateRequest{Policy: json.RawMessage(`[1]`), Replace: true}, wantErr: "must be a JSON object"},
		{name: "patch not json", req: UpdateRequest{Policy: json.RawMessage(`{x`)}, wantErr: "merge patch"},
		{name: "patch makes non-object", req: UpdateRequest{Policy: json.RawMessage(`5`)}, wantErr: "must be a JSON object"},
		{name: "nothing to update", req: UpdateRequest{}, wantErr: "nothing to update"},
		{name: "replace without policy", req: UpdateRequest{Replace: true, ExpiresAt: &future}, wantErr: "replace needs a policy"},
		{name: "contradiction", req: UpdateRequest{ClearExpiry: true, ExpiresAt: &future}, wantErr: "contradict"},
		{name: "past expiry", req: UpdateRequest{ExpiresAt: &past}, wantErr: "in the past"},
		{name: "no patcher", req: UpdateRequest{Policy: json.RawMessage(`{"b":2}`)}, noPatcher: true, wantErr: "not supported"},
		{name: "no patcher, replace works", req: UpdateRequest{Policy: json.RawMessage(`{"b":2}`), Replace: true}, noPatcher: true, wantPolicy: `{"b":2}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db := newTestDB(t)
			patch := Patcher(testPatch)
			if tc.noPatcher {
				patch = nil
			}
			svc := NewService(db, testValidate, patch, nil)
			hooks := &hookLog{}
			svc.OnChange(hooks.record)
			exp := time.Now().Add(time.Hour)
			created, err := svc.Create(context.Background(), CreateRequest{Policy: json.RawMessage(orig), ExpiresAt: &exp})
			require.NoError(t, err)

			rec, err := svc.Update(context.Background(), created.Record.Hash[:8], tc.req)
			if tc.wantErr != "" {
				require.ErrorIs(t, err, ErrInvalidRequest)
				assert.Contains(t, err.Error(), tc.wantErr)
				stored, err := db.Get(created.Record.Hash)
				require.NoError(t, err)
				assert.Equal(t, created.Record.Revision, stored.Revision, "a refused update changes nothing")
				assert.Len(t, hooks.events, 1)
				return
			}
			require.NoError(t, err)
			assert.JSONEq(t, tc.wantPolicy, string(rec.Policy))
			assert.Greater(t, rec.Revision, created.Record.Revision)
			switch {
			case tc.req.ClearExpiry:
				assert.Nil(t, rec.ExpiresAt)
			case tc.wantExp != nil:
				require.NotNil(t, rec.ExpiresAt)
				assert.True(t, tc.wantExp.Equal(*rec.ExpiresAt))
			default:
				require.NotNil(t, rec.ExpiresAt, "expiry kept when not mentioned")
			}
			assert.Equal(t, []string{EventCreated + " " + rec.Hash[:8], EventUpdated + " " + rec.Hash[:8]}, hooks.events)
		})
	}
}

func TestServicePrefixErrors(t *testing.T) {
	t.Parallel()
	svc, db := newTestService(t)
	seedHashes(t, db, "abcd1", "abcd2")
	ctx := context.Background()
	ops := map[string]func(prefix string) error{
		"get": func(p string) error { _, err := svc.Get(ctx, p); return err },
		"update": func(p string) error {
			_, err := svc.Update(ctx, p, UpdateRequest{ClearExpiry: true})
			return err
		},
		"delete": func(p string) error { _, err := svc.Delete(ctx, p); return err },
	}
	tests := []struct {
		name    string
		prefix  string
		wantErr error
	}{
		{name: "ambiguous", prefix: "abcd", wantErr: store.ErrAmbiguous},
		{name: "not found", prefix: "ffff", wantErr: store.ErrNotFound},
		{name: "too short", prefix: "ab", wantErr: ErrInvalidRequest},
		{name: "token instead of hash", prefix: "tkn_whatever", wantErr: ErrInvalidRequest},
	}
	for _, tc := range tests {
		for op, fn := range ops {
			t.Run(tc.name+"/"+op, func(t *testing.T) {
				require.ErrorIs(t, fn(tc.prefix), tc.wantErr)
			})
		}
	}
}

func TestServiceDeleteListChanges(t *testing.T) {
	t.Parallel()
	svc, _ := newTestService(t)
	hooks := &hookLog{}
	svc.OnChange(hooks.record)
	ctx := context.Background()

	empty, err := svc.List(ctx)
	require.NoError(t, err)
	assert.NotNil(t, empty)
	assert.Empty(t, empty)

	a, err := svc.Create(ctx, CreateRequest{Policy: json.RawMessage(`{"n":1}`)})
	require.NoError(t, err)
	b, err := svc.Create(ctx, CreateRequest{Policy: json.RawMessage(`{"n":2}`)})
	require.NoError(t, err)

	got, err := svc.Get(ctx, a.Record.Hash[:6])
	require.NoError(t, err)
	assert.Equal(t, a.Record.Hash, got.Hash)

	del, err := svc.Delete(ctx, a.Record.Hash)
	require.NoError(t, err)
	assert.Equal(t, a.Record.Hash, del.Hash)
	assert.Equal(t, EventDeleted+" "+a.Record.Hash[:8], hooks.events[2])

	list, err := svc.List(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, b.Record.Hash, list[0].Hash)

	ch, err := svc.Changes(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, uint64(3), ch.Revision)
	require.Len(t, ch.Changes, 2)
	assert.Equal(t, b.Record.Hash, ch.Changes[0].Hash)
	assert.True(t, ch.Changes[1].Deleted)

	_, err = svc.Changes(ctx, 99)
	require.ErrorIs(t, err, store.ErrResyncRequired)

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = svc.Create(canceled, CreateRequest{Policy: json.RawMessage(`{}`)})
	require.ErrorIs(t, err, context.Canceled)
}
