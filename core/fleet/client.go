package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxStatusBytes bounds a GET /api/v1/fleet answer the client reads.
const maxStatusBytes = 64 << 20

// Client talks to a central server's /api/v1/fleet.
type Client struct {
	base, shown, apiKey string
	hc                  *http.Client
}

// NewClient returns a client for the central server at baseURL; hc nil uses
// http.DefaultClient.
func NewClient(baseURL, apiKey string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	base := strings.TrimRight(baseURL, "/")
	shown := base
	if u, err := url.Parse(base); err == nil {
		shown = u.Redacted()
	}
	return &Client{base: base, shown: shown, apiKey: apiKey, hc: hc}
}

// Post sends one report.
func (c *Client) Post(ctx context.Context, r Report) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encoding fleet report: %w", err)
	}
	resp, err := c.send(ctx, http.MethodPost, bytes.NewReader(b))
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	return resp.Body.Close()
}

// Status fetches the fleet as the central server knows it.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var st Status
	resp, err := c.send(ctx, http.MethodGet, nil)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxStatusBytes)).Decode(&st); err != nil {
		return st, fmt.Errorf("decoding the fleet from %s: %w", c.shown, err)
	}
	return st, nil
}

// send returns a 2xx response or an error naming the status and the
// server's message.
func (c *Client) send(ctx context.Context, method string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+"/api/v1/fleet", body)
	if err != nil {
		return nil, fmt.Errorf("building request to %s: %w", c.shown, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if ue, ok := err.(*url.Error); ok {
			err = ue.Err // the full URL is named below, redacted
		}
		return nil, fmt.Errorf("central server %s unreachable: %w", c.shown, err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	var eb struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 8192))
	msg := resp.Status
	if json.Unmarshal(raw, &eb) == nil && eb.Error.Message != "" {
		msg += ": " + eb.Error.Message
	}
	return nil, &StatusError{Code: resp.StatusCode, Msg: fmt.Sprintf("central server %s answered %s", c.shown, msg)}
}

// StatusError is a non-2xx answer.
type StatusError struct {
	Code int
	Msg  string
}

func (e *StatusError) Error() string { return e.Msg }
