package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// syncPolicy is the policy of the sync tests' tokens.
const syncPolicy = `{"model_regex":"^gpt-4o","max_tokens":100000}`

// apiClient talks to a central server's REST API.
var apiClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}

// apiCreate creates a token over the REST API and returns it and its hash.
func apiCreate(t *testing.T, centralURL string) (token, hash string) {
	t.Helper()
	tok, h, err := apiCreateErr(centralURL)
	require.NoError(t, err)
	return tok, h
}

func apiCreateErr(centralURL string) (token, hash string, err error) {
	body := `{"policy":` + syncPolicy + `}`
	req, err := http.NewRequest(http.MethodPost, centralURL+"/api/v1/tokens", strings.NewReader(body))
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Authorization", "Bearer "+centralKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := apiClient.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return "", "", fmt.Errorf("create: %d %s", resp.StatusCode, b)
	}
	var out struct {
		Token  string `json:"token"`
		Record struct {
			Hash string `json:"hash"`
		} `json:"record"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return "", "", err
	}
	return out.Token, out.Record.Hash, nil
}

// apiDelete deletes a token over the REST API; it returns once central
// has answered, which is when the delete is acknowledged.
func apiDelete(t *testing.T, centralURL, hash string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodDelete, centralURL+"/api/v1/tokens/"+hash, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+centralKey)
	resp, err := apiClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "delete: %s", b)
}

// apiBurst creates n tokens with conc concurrent clients.
func apiBurst(t *testing.T, centralURL string, n, conc int) {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	next := make(chan struct{}, n)
	for range n {
		next <- struct{}{}
	}
	close(next)
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				if _, _, err := apiCreateErr(centralURL); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	require.NoError(t, firstErr)
}

// readyStatus returns /ready's status and body.
func readyStatus(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := centralClient.Get(url + "/ready")
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, string(b)
}

// metricValue reads one unlabelled (or fully labelled) series from a
// /metrics page; ok is false when it is absent.
func metricValue(t *testing.T, url, series string) (float64, bool) {
	t.Helper()
	resp, err := centralClient.Get(url + "/metrics")
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	for _, line := range bytes.Split(b, []byte("\n")) {
		// Label values may hold spaces: the value is after the last one.
		i := bytes.LastIndexByte(line, ' ')
		if i > 0 && string(line[:i]) == series {
			val := string(line[i+1:])
			var v float64
			_, err := fmt.Sscan(val, &v)
			return v, err == nil
		}
	}
	return 0, false
}

// percentile of durations (p in 0..100), nearest rank.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (p*len(s)+99)/100 - 1
	return s[max(0, min(i, len(s)-1))]
}
