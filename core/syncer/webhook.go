package syncer

import (
	"encoding/json"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/tokenomics-dev/tokenomics/core/events"
)

// WebhookHandler is the push receiver, mounted on the proxy's listeners at
// remote.webhook.path. A verified token.* or plugin.* push for a revision
// this proxy lacks triggers a pull and answers 202; everything the
// verifier refuses gets events.StatusFor's status and a fixed message.
func (s *Syncer) WebhookHandler() fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		if !ctx.IsPost() {
			ctx.Response.Header.Set("Allow", "POST")
			webhookError(ctx, fasthttp.StatusMethodNotAllowed, "method_not_allowed", "webhooks are POSTed")
			return
		}
		body := ctx.PostBody()
		if len(body) > events.MaxBodySize {
			webhookError(ctx, fasthttp.StatusRequestEntityTooLarge, "request_too_large", "webhook body too large")
			return
		}
		if s.o.Webhook == nil {
			webhookError(ctx, fasthttp.StatusUnauthorized, "webhook_rejected", "this proxy accepts no webhooks")
			return
		}
		header := func(k string) string { return string(ctx.Request.Header.Peek(k)) }
		if _, err := s.o.Webhook.Verify(header, body, s.o.Now()); err != nil {
			status := events.StatusFor(err)
			// Verify's errors never hold a header value: safe to log.
			s.log.Warn("webhook rejected", "status", status, "reason", err.Error(), "remote", ctx.RemoteIP().String())
			webhookError(ctx, status, "webhook_rejected", "webhook rejected")
			return
		}
		var ev struct {
			Type     string `json:"type"`
			Revision uint64 `json:"revision"`
		}
		// Verify decoded the body already; a type-less event just does nothing.
		_ = json.Unmarshal(body, &ev)
		if s.wants(ev.Type, ev.Revision) {
			s.Trigger()
		}
		ctx.SetStatusCode(fasthttp.StatusAccepted)
	}
}

// wants reports whether a push names news: a token revision above the
// local one, or any plugin change (cheap: an unchanged registry answers
// with its revision only).
func (s *Syncer) wants(typ string, rev uint64) bool {
	switch {
	case strings.HasPrefix(typ, "token."):
		s.seen(rev)
		// While writes fail the local revision stays behind, so every push
		// asks for a pull; run's backoff paces them.
		return rev == 0 || rev > s.o.Store.Revision()
	case strings.HasPrefix(typ, "plugin."):
		return true
	}
	return false
}

func webhookError(ctx *fasthttp.RequestCtx, status int, code, msg string) {
	typ := "invalid_request_error"
	if status == fasthttp.StatusUnauthorized {
		typ = "authentication_error"
	}
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"message": msg, "type": typ, "code": code}})
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBody(b)
}
