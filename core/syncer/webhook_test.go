package syncer

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/valyala/fasthttp"

	"github.com/tokenomics-dev/tokenomics/core/events"
)

const (
	whSecret = "webhook-secret"
	whKey    = "webhook-signing-key"
)

// delivery is one webhook request as the central dispatcher would send it.
type delivery struct {
	method  string
	body    []byte
	headers map[string]string
}

func signedDelivery(t *testing.T, typ string, rev uint64, signedAt time.Time, creds events.Credentials) delivery {
	t.Helper()
	ev, err := events.New(typ, events.SourceCentral, rev, nil)
	require.NoError(t, err)
	body, err := json.Marshal(ev)
	require.NoError(t, err)
	d := delivery{method: "POST", body: body, headers: map[string]string{}}
	events.SignHeaders(func(k, v string) { d.headers[k] = v }, creds, ev.ID, signedAt, body)
	return d
}

func (d delivery) serve(h fasthttp.RequestHandler) int {
	var ctx fasthttp.RequestCtx
	ctx.Request.Header.SetMethod(d.method)
	ctx.Request.SetRequestURI("/v1/webhook")
	for k, v := range d.headers {
		ctx.Request.Header.Set(k, v)
	}
	ctx.Request.SetBody(d.body)
	h(&ctx)
	return ctx.Response.StatusCode()
}

func TestWebhook(t *testing.T) {
	t.Parallel()
	now := time.Now()
	good := events.Credentials{Secret: whSecret, SigningKey: whKey}
	replayed := signedDelivery(t, events.TokenCreated, 50, now, good)

	tests := []struct {
		name    string
		d       func() delivery
		status  int
		trigger bool
	}{
		{name: "valid push for a newer revision", d: func() delivery { return signedDelivery(t, events.TokenCreated, 99, now, good) }, status: 202, trigger: true},
		{name: "valid plugin push", d: func() delivery { return signedDelivery(t, events.PluginUploaded, 1, now, good) }, status: 202, trigger: true},
		{name: "revision already held", d: func() delivery { return signedDelivery(t, events.TokenDeleted, 1, now, good) }, status: 202},
		{name: "other event type", d: func() delivery { return signedDelivery(t, events.BudgetExceeded, 99, now, good) }, status: 202},
		{name: "forged signature", d: func() delivery {
			return signedDelivery(t, events.TokenCreated, 99, now, events.Credentials{Secret: whSecret, SigningKey: "attacker"})
		}, status: 401},
		{name: "wrong secret", d: func() delivery {
			return signedDelivery(t, events.TokenCreated, 99, now, events.Credentials{Secret: "nope", SigningKey: whKey})
		}, status: 401},
		{name: "unsigned", d: func() delivery {
			return signedDelivery(t, events.TokenCreated, 99, now, events.Credentials{Secret: whSecret})
		}, status: 401},
		{name: "stale", d: func() delivery { return signedDelivery(t, events.TokenCreated, 99, now.Add(-time.Hour), good) }, status: 401},
		{name: "from the future", d: func() delivery { return signedDelivery(t, events.TokenCreated, 99, now.Add(time.Hour), good) }, status: 401},
		{name: "body changed after signing", d: func() delivery {
			d := signedDelivery(t, events.TokenCreated, 99, now, good)
			d.body = []byte(string(d.body[:len(d.body)-1]) + ` }`)
			return d
		}, status: 401},
		{name: "timestamp changed after signing", d: func() delivery {
			d := signedDelivery(t, events.TokenCreated, 99, now, good)
			d.headers[events.HeaderTimestamp] = strconv.FormatInt(now.Unix()+1, 10)
			return d
		}, status: 401},
		{name: "GET", d: func() delivery {
			d := signedDelivery(t, events.TokenCreated, 99, now, good)
			d.method = "GET"
			return d
		}, status: 405},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCentral(t)
			c.create(t, `{"x":1}`)
			proxy := openStore(t, "")
			v, err := events.NewVerifier(events.VerifierConfig{Secret: whSecret, SigningKey: whKey})
			require.NoError(t, err)
			s := newSyncer(t, Options{Store: proxy, Tokens: c.client, Webhook: v})
			require.NoError(t, s.Sync(t.Context()))
			assert.Equal(t, tc.status, tc.d().serve(s.WebhookHandler()))
			assert.Equal(t, tc.trigger, len(s.trigger) == 1, "pull triggered")
		})
	}

	t.Run("replay", func(t *testing.T) {
		t.Parallel()
		c := newCentral(t)
		v, err := events.NewVerifier(events.VerifierConfig{Secret: whSecret, SigningKey: whKey})
		require.NoError(t, err)
		s := newSyncer(t, Options{Store: openStore(t, ""), Tokens: c.client, Webhook: v})
		h := s.WebhookHandler()
		assert.Equal(t, 202, replayed.serve(h))
		assert.Equal(t, 409, replayed.serve(h))
	})

	t.Run("no verifier refuses everything", func(t *testing.T) {
		t.Parallel()
		c := newCentral(t)
		s := newSyncer(t, Options{Store: openStore(t, ""), Tokens: c.client})
		assert.Equal(t, 401, signedDelivery(t, events.TokenCreated, 1, now, good).serve(s.WebhookHandler()))
	})
}
