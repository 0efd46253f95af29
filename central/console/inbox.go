package console

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/tokenomics-dev/tokenomics/core/events"
)

// inboxWindow is how far back the feed reads central's event inbox, and
// inboxLimit how many events one page reads.
const (
	inboxWindow = 48 * time.Hour
	inboxLimit  = 1000
)

// storedEvent is one entry of GET /api/v1/events.
type storedEvent struct {
	Seq      uint64       `json:"seq"`
	Received time.Time    `json:"received"`
	Event    events.Event `json:"event"`
}

// feed returns up to n events, newest first, that keep accepts, from
// central's event inbox (GET /api/v1/events, in-process). types narrows
// the query (events.webhooks patterns). ok is false when the server keeps
// no inbox.
func (c *Console) feed(ctx context.Context, types []string, n int, keep func(feedItem) bool) (items []feedItem, source string, ok bool) {
	evs, found, err := c.inbox(ctx, types)
	switch {
	case err != nil:
		c.log.Warn("reading central's event inbox", "error", err)
	case found:
		for i := len(evs) - 1; i >= 0 && len(items) < n; i-- {
			item, good := feedOf(evs[i].Event)
			if !good {
				continue
			}
			if item.Time.IsZero() {
				item.Time = evs[i].Received
			}
			if keep == nil || keep(item) {
				items = append(items, item)
			}
		}
		return items, "the central server's event inbox", true
	}
	return nil, "", false
}

// inbox lists the inbox's events of the last inboxWindow, oldest first;
// found is false when the server keeps no inbox (404). When there are
// more than inboxLimit, it pages forward to the newest.
func (c *Console) inbox(ctx context.Context, types []string) ([]storedEvent, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var out []storedEvent
	var after uint64
	for page := 0; page < 20; page++ {
		q := url.Values{"since": {c.now().Add(-inboxWindow).UTC().Format(time.RFC3339)}, "limit": {itoa(int64(inboxLimit))}}
		if after > 0 {
			q.Set("after", fmt.Sprint(after))
		}
		for _, t := range types {
			q.Add("type", t)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://central.inprocess/api/v1/events?"+q.Encode(), nil)
		if err != nil {
			return nil, false, err
		}
		if c.o.APIKey != "" {
			req.Header.Set("Authorization", "Bearer "+c.o.APIKey)
		}
		resp, err := c.api.Do(req)
		if err != nil {
			return nil, false, err
		}
		var body struct {
			Events []storedEvent `json:"events"`
		}
		switch {
		case resp.StatusCode == http.StatusNotFound:
			_ = resp.Body.Close()
			return nil, false, nil
		case resp.StatusCode != http.StatusOK:
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			_ = resp.Body.Close()
			return nil, false, fmt.Errorf("GET /api/v1/events answered %d: %s", resp.StatusCode, b)
		}
		err = json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&body)
		_ = resp.Body.Close()
		if err != nil {
			return nil, false, fmt.Errorf("decoding the event inbox: %w", err)
		}
		out = append(out, body.Events...)
		if len(body.Events) < inboxLimit {
			break
		}
		after = body.Events[len(body.Events)-1].Seq
		if len(out) > 4*inboxLimit {
			out = out[len(out)-2*inboxLimit:] // the newest suffice
		}
	}
	return out, true, nil
}
