package events

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

type outcome int

const (
	outcomeDelivered outcome = iota
	outcomeRetry
	outcomeRejected // final: the endpoint refused it
	outcomeCanceled // the dispatcher stopped mid-attempt; not the endpoint's fault
)

type result struct {
	outcome outcome
	status  int           // 0 when no response
	err     error         // network error, safe to log
	wait    time.Duration // from Retry-After
	hasWait bool
}

const userAgent = "tokenomics-events/1"

// attempt makes one HTTP delivery, signed at the current time.
func (q *targetQueue) attempt(dl *delivery) result {
	d := q.d
	r := send(d.runCtx, q.client, q.target, dl.eventID, dl.body, d.cfg.clock.Now)
	if r.err != nil && IsCertError(r.err) {
		q.certOnce.Do(func() { d.log.Warn(certAdvice, "target", q.name, "error", r.err) })
	}
	return r
}

// certAdvice is the warning for a failed certificate check: it names the
// options that fix it.
const certAdvice = "webhook TLS certificate not trusted: set ca_file on this webhook to the proxy's CA " +
	"(for a generated certificate, <certs dir>/ca.pem) or, for a test setup only, insecure: true"

// send makes one signed POST of body to t and classifies the outcome.
// runCtx is the sender's lifetime: when it ends mid-attempt the outcome is
// outcomeCanceled, not the endpoint's fault.
func send(runCtx context.Context, client *http.Client, t Target, id string, body []byte, now func() time.Time) result {
	ctx, cancel := context.WithTimeout(runCtx, t.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL, bytes.NewReader(body))
	if err != nil {
		return result{outcome: outcomeRejected, err: errors.New("building request failed")}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	SignHeaders(req.Header.Set, t.credentials(), id, now(), body)

	resp, err := client.Do(req)
	if err != nil {
		if runCtx.Err() != nil {
			return result{outcome: outcomeCanceled}
		}
		return result{outcome: outcomeRetry, err: redactErr(err)}
	}
	// Draining a little lets the connection be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBodyDrain))
	_ = resp.Body.Close()
	r := classify(resp.StatusCode)
	if r.outcome == outcomeRetry {
		r.wait, r.hasWait = retryAfter(resp.Header.Get("Retry-After"), now())
	}
	return r
}

// classify maps a response status to what happens next.
func classify(status int) result {
	r := result{status: status}
	switch {
	case status >= 200 && status < 300:
		r.outcome = outcomeDelivered
	case status == http.StatusConflict:
		// Our receivers answer 409 to an id they already accepted: an
		// earlier attempt arrived but its answer was lost.
		r.outcome = outcomeDelivered
	case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests, status >= 500:
		r.outcome = outcomeRetry
	default: // other 4xx; 3xx since redirects are not followed
		r.outcome = outcomeRejected
	}
	return r
}

// redactErr drops the URL that net/http puts in its errors: webhook URLs
// can carry credentials (Slack's do).
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// redactURL keeps the scheme and host of a webhook URL for logs.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "invalid-url"
	}
	return u.Scheme + "://" + u.Host
}
