package tokenapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tokenomics-dev/tokenomics/core/store"
)

// maxResponseBytes bounds what the client reads from a success response
// (a list of many tokens with policies); error bodies get MaxBodyBytes.
const maxResponseBytes = 64 << 20

// Client is a Manager over HTTP, talking to NewHandler.
type Client struct {
	base   string // without trailing slash
	shown  string // base with credentials redacted, for messages
	apiKey string
	name   string
	hc     *http.Client
}

// NewClient returns a client for the API at baseURL (e.g.
// "http://central:9090"), sending apiKey as a bearer token. hc nil uses
// http.DefaultClient; give one with a Timeout for interactive use.
func NewClient(baseURL, apiKey string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	base := strings.TrimRight(baseURL, "/")
	shown := base
	if u, err := url.Parse(base); err == nil {
		shown = u.Redacted()
	}
	return &Client{base: base, shown: shown, apiKey: apiKey, name: "central server", hc: hc}
}

// WithName returns a copy of c that names its server name in network
// errors ("local server 127.0.0.1:4567 unreachable: ..."). The default is
// "central server".
func (c *Client) WithName(name string) *Client {
	cp := *c
	cp.name = name
	return &cp
}

// Create asks the server for a new token.
func (c *Client) Create(ctx context.Context, req CreateRequest) (Created, error) {
	var out Created
	err := c.do(ctx, http.MethodPost, "/api/v1/tokens", "", req, &out)
	return out, err
}

// List returns every live token record.
func (c *Client) List(ctx context.Context) ([]store.Record, error) {
	var out listResponse
	if err := c.do(ctx, http.MethodGet, "/api/v1/tokens", "", nil, &out); err != nil {
		return nil, err
	}
	return out.Tokens, nil
}

// Get returns the record whose hash starts with prefix.
func (c *Client) Get(ctx context.Context, prefix string) (store.Record, error) {
	var out store.Record
	err := c.do(ctx, http.MethodGet, tokenPath(prefix), prefix, nil, &out)
	return out, err
}

// Update patches or replaces a token's policy and expiry.
func (c *Client) Update(ctx context.Context, prefix string, req UpdateRequest) (store.Record, error) {
	var out store.Record
	err := c.do(ctx, http.MethodPatch, tokenPath(prefix), prefix, req, &out)
	return out, err
}

// Delete removes a token and returns its last record.
func (c *Client) Delete(ctx context.Context, prefix string) (store.Record, error) {
	var out store.Record
	err := c.do(ctx, http.MethodDelete, tokenPath(prefix), prefix, nil, &out)
	return out, err
}

// Changes returns the change feed after since; errors.Is(err,
// store.ErrResyncRequired) asks for a full fetch.
func (c *Client) Changes(ctx context.Context, since uint64) (ChangesResponse, error) {
	var out ChangesResponse
	err := c.do(ctx, http.MethodGet, "/api/v1/tokens?since="+strconv.FormatUint(since, 10), "", nil, &out)
	return out, err
}

func tokenPath(prefix string) string {
	return "/api/v1/tokens/" + url.PathEscape(prefix)
}

// do sends one request and decodes the answer into out, or the error body
// into an *APIError.
func (c *Client) do(ctx context.Context, method, path, prefix string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encoding request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("building request to %s: %w", c.shown, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &UnreachableError{Name: c.name, URL: c.shown, Err: unwrapURLError(err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return c.apiError(resp, prefix)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBytes)).Decode(out); err != nil {
		return fmt.Errorf("decoding answer from %s %s: %w", c.name, c.shown, err)
	}
	return nil
}

// unwrapURLError drops *url.Error's "Get \"http://...\":" prefix: the
// UnreachableError names the server already, and the full URL could hold a
// prefix the user typed.
func unwrapURLError(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Err
	}
	return err
}

func (c *Client) apiError(resp *http.Response, prefix string) error {
	var eb errorBody
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes))
	if err := json.Unmarshal(raw, &eb); err != nil || eb.Error.Code == "" {
		// Not our API (a proxy in the way, a wrong URL): say what came back.
		return &APIError{
			Status:  resp.StatusCode,
			Code:    strconv.Itoa(resp.StatusCode),
			Message: fmt.Sprintf("%s %s answered %s, not a token API error", c.name, c.shown, resp.Status),
			err:     statusErr(resp.StatusCode),
		}
	}
	e := &APIError{Status: resp.StatusCode, Type: eb.Error.Type, Code: eb.Error.Code, Message: eb.Error.Message}
	switch eb.Error.Code {
	case CodeInvalidRequest:
		e.err = ErrInvalidRequest
	case CodeUnauthorized:
		e.err = ErrUnauthorized
	case CodeNotFound:
		e.err = store.ErrNotFound
	case CodeAmbiguous:
		e.err = &store.AmbiguousError{Prefix: strings.ToLower(prefix), Matches: eb.Error.Matches}
	case CodeResync:
		e.err = store.ErrResyncRequired
	case CodeTooLarge:
		e.err = ErrTooLarge
	default:
		e.err = statusErr(resp.StatusCode)
	}
	return e
}

// statusErr gives the sentinel a bare status stands for, if any.
func statusErr(status int) error {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return ErrUnauthorized
	case http.StatusRequestEntityTooLarge:
		return ErrTooLarge
	}
	return nil
}

var _ Manager = (*Client)(nil)
