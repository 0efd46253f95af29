package tokenapi

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/store"
)

func TestClientRoundTrip(t *testing.T) {
	t.Parallel()
	srv, _, db := newTestServer(t)
	c := NewClient(srv.URL+"/", testSecret, srv.Client())
	ctx := context.Background()
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)

	created, err := c.Create(ctx, CreateRequest{Policy: json.RawMessage(`{"model":"gpt-4o"}`), ExpiresAt: &exp})
	require.NoError(t, err)
	local, err := db.Lookup(created.Token)
	require.NoError(t, err, "the token works against the server's database")
	assert.Equal(t, local.Hash, created.Record.Hash)
	require.NotNil(t, created.Record.ExpiresAt)
	assert.True(t, exp.Equal(*created.Record.ExpiresAt))
	prefix := created.Record.Hash[:8]

	got, err := c.Get(ctx, strings.ToUpper(prefix))
	require.NoError(t, err)
	assert.Equal(t, created.Record.Hash, got.Hash)

	upd, err := c.Update(ctx, prefix, UpdateRequest{Policy: json.RawMessage(`{"max_tokens":10}`), ClearExpiry: true})
	require.NoError(t, err)
	assert.JSONEq(t, `{"model":"gpt-4o","max_tokens":10}`, string(upd.Policy))
	assert.Nil(t, upd.ExpiresAt)

	list, err := c.List(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, upd.Revision, list[0].Revision)

	ch, err := c.Changes(ctx, 0)
	require.NoError(t, err)
	assert.Equal(t, upd.Revision, ch.Revision)
	require.Len(t, ch.Changes, 1)
	require.NotNil(t, ch.Changes[0].Record)
	assert.JSONEq(t, string(upd.Policy), string(ch.Changes[0].Record.Policy))

	del, err := c.Delete(ctx, prefix)
	require.NoError(t, err)
	assert.Equal(t, created.Record.Hash, del.Hash)
	list, err = c.List(ctx)
	require.NoError(t, err)
	assert.Empty(t, list)
}

func TestClientTypedErrors(t *testing.T) {
	t.Parallel()
	srv, _, db := newTestServer(t)
	hashes := seedHashes(t, db, "abcd1", "abcd2")
	ctx := context.Background()
	c := NewClient(srv.URL, testSecret, srv.Client())

	t.Run("not found", func(t *testing.T) {
		_, err := c.Get(ctx, "ffff")
		require.ErrorIs(t, err, store.ErrNotFound)
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, http.StatusNotFound, apiErr.Status)
	})
	t.Run("ambiguous", func(t *testing.T) {
		_, err := c.Delete(ctx, "ABCD")
		require.ErrorIs(t, err, store.ErrAmbiguous)
		var amb *store.AmbiguousError
		require.ErrorAs(t, err, &amb)
		assert.Equal(t, hashes, amb.Matches)
		assert.Equal(t, "abcd", amb.Prefix)
		assert.Contains(t, err.Error(), "abcd10000000")
	})
	t.Run("validation carries the server message", func(t *testing.T) {
		_, err := c.Create(ctx, CreateRequest{Policy: json.RawMessage(`{"forbidden":1}`)})
		require.ErrorIs(t, err, ErrInvalidRequest)
		assert.Contains(t, err.Error(), `unknown field "forbidden"`)
	})
	t.Run("resync", func(t *testing.T) {
		_, err := c.Changes(ctx, 1000)
		require.ErrorIs(t, err, store.ErrResyncRequired)
	})
	t.Run("unauthorized", func(t *testing.T) {
		_, err := NewClient(srv.URL, "k3y-never-echoed", srv.Client()).List(ctx)
		require.ErrorIs(t, err, ErrUnauthorized)
		assert.NotContains(t, err.Error(), "k3y-never-echoed")
		_, err = NewClient(srv.URL, "", srv.Client()).List(ctx)
		require.ErrorIs(t, err, ErrUnauthorized)
	})
	t.Run("too large", func(t *testing.T) {
		big := json.RawMessage(`{"x":"` + strings.Repeat("a", MaxBodyBytes) + `"}`)
		_, err := c.Create(ctx, CreateRequest{Policy: big})
		require.ErrorIs(t, err, ErrTooLarge)
	})
	t.Run("canceled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := c.List(cctx)
		require.ErrorIs(t, err, context.Canceled)
	})
}

func TestClientNonAPIAnswer(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/tokens/aaaa":
			http.Error(w, "forbidden by proxy", http.StatusForbidden)
		case "/api/v1/tokens/bbbb":
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("<html>"))
		default:
			http.Error(w, "bad gateway", http.StatusBadGateway)
		}
	}))
	defer srv.Close()
	c := NewClient(srv.URL, "k", srv.Client())
	ctx := context.Background()

	_, err := c.List(ctx)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusBadGateway, apiErr.Status)
	assert.Contains(t, err.Error(), "502")
	assert.Contains(t, err.Error(), "central server "+srv.URL)

	_, err = c.Get(ctx, "aaaa")
	require.ErrorIs(t, err, ErrUnauthorized)

	_, err = c.Get(ctx, "bbbb")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "decoding answer")
}

func TestClientUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now

	tests := []struct {
		name     string
		client   *Client
		wantText string
	}{
		{name: "default name", client: NewClient("http://"+addr, "k", nil), wantText: "central server http://" + addr + " unreachable: "},
		{name: "custom name", client: NewClient("http://"+addr, "k", nil).WithName("local server"), wantText: "local server http://" + addr + " unreachable: "},
		{name: "credentials redacted", client: NewClient("http://user:pw@"+addr, "k", nil), wantText: "central server http://user:xxxxx@" + addr + " unreachable: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := tc.client.Get(context.Background(), "abcd")
			require.ErrorIs(t, err, ErrUnreachable)
			var ue *UnreachableError
			require.ErrorAs(t, err, &ue)
			assert.True(t, strings.HasPrefix(err.Error(), tc.wantText), err.Error())
			assert.NotContains(t, err.Error(), ":pw@")
			assert.NotContains(t, err.Error(), "/api/v1/tokens/abcd", "the URL with the prefix is not repeated")
			var opErr *net.OpError
			assert.True(t, errors.As(err, &opErr), "the network cause is kept")
		})
	}
}
