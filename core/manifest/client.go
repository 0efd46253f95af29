package manifest

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
)

// ErrUnreachable marks a registry request that got no HTTP answer.
var ErrUnreachable = errors.New("manifest: registry unreachable")

// APIError is an error answer of the registry. Code is one of the Code*
// constants; errors.Is(err, ErrRollback) and the like hold for the codes
// that mirror this package's sentinels.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("registry answered %d %s", e.Status, e.Code)
	}
	return e.Message
}

// Is maps codes to sentinels.
func (e *APIError) Is(target error) bool {
	switch e.Code {
	case CodeUnsigned:
		return target == ErrUnsigned
	case CodeSignature:
		return target == ErrBadSignature
	case CodeUntrusted:
		return target == ErrUntrustedKey
	case CodeDigest:
		return target == ErrDigestMismatch
	case CodeRollback:
		return target == ErrRollback
	case CodeReused:
		return target == ErrVersionReused
	case CodeInvalid:
		return target == ErrMalformed
	}
	return false
}

// Client talks to a registry (the central server's /api/v1/plugins).
type Client struct {
	base   string
	shown  string
	apiKey string
	hc     *http.Client
}

// NewClient returns a client for the server at baseURL sending apiKey as a
// bearer token. hc nil uses http.DefaultClient.
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

// List returns every plugin the registry holds.
func (c *Client) List(ctx context.Context) (Listing, error) {
	var out Listing
	err := c.doJSON(ctx, http.MethodGet, PluginsPath, nil, &out)
	return out, err
}

// Changes returns the listing unless the registry is still at revision
// since (then Unchanged is set).
func (c *Client) Changes(ctx context.Context, since uint64) (Listing, error) {
	var out Listing
	err := c.doJSON(ctx, http.MethodGet, PluginsPath+"?since="+strconv.FormatUint(since, 10), nil, &out)
	return out, err
}

// Fetch downloads the binary with the given sha256. The caller checks it
// against a verified manifest (CheckBinary).
func (c *Client) Fetch(ctx context.Context, sha string) ([]byte, error) {
	resp, err := c.send(ctx, http.MethodGet, PluginsPath+"/"+url.PathEscape(sha), nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, apiError(resp)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxPluginSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading plugin %s from %s: %w", shortSum(sha), c.shown, err)
	}
	if len(b) > MaxPluginSize {
		return nil, fmt.Errorf("reading plugin %s from %s: %w: over %d bytes", shortSum(sha), c.shown, ErrDigestMismatch, MaxPluginSize)
	}
	return b, nil
}

// Upload sends a signed manifest and its binary.
func (c *Client) Upload(ctx context.Context, envelope, wasm []byte) (Entry, error) {
	var out Entry
	err := c.doJSON(ctx, http.MethodPost, PluginsPath, Upload{Manifest: envelope, WASM: wasm}, &out)
	return out, err
}

// Delete removes the binary with the given sha256 and returns its entry.
func (c *Client) Delete(ctx context.Context, sha string) (Entry, error) {
	var out Entry
	err := c.doJSON(ctx, http.MethodDelete, PluginsPath+"/"+url.PathEscape(sha), nil, &out)
	return out, err
}

func (c *Client) doJSON(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encoding request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	resp, err := c.send(ctx, method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return apiError(resp)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(out); err != nil {
		return fmt.Errorf("decoding answer from %s: %w", c.shown, err)
	}
	return nil
}

func (c *Client) send(ctx context.Context, method, path string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, fmt.Errorf("building request to %s: %w", c.shown, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%w: %s: %w", ErrUnreachable, c.shown, err)
	}
	return resp, nil
}

func apiError(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var eb ErrorBody
	if err := json.Unmarshal(raw, &eb); err != nil || eb.Error.Code == "" {
		return &APIError{Status: resp.StatusCode, Code: strconv.Itoa(resp.StatusCode),
			Message: fmt.Sprintf("registry answered %s, not a registry error", resp.Status)}
	}
	return &APIError{Status: resp.StatusCode, Code: eb.Error.Code, Message: eb.Error.Message}
}
