package fakeupstream

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// ErrScript marks an invalid scripted response.
var ErrScript = errors.New("fakeupstream: bad scripted response")

// Scripted is one queued answer. Requests to the generation endpoints (all but
// GET /v1/models) take the oldest entry queued for their model, else the
// oldest entry queued for any model, after authentication and body checks.
type Scripted struct {
	// Model restricts the entry to requests for this model; empty matches any.
	Model string `json:"model,omitempty"`
	// Status 0 or 200 serves the normal reply (with Fault applied); any other
	// status answers with that status and the provider's error shape.
	Status int `json:"status,omitempty"`
	// RetryAfter sets the Retry-After header (429 defaults to "1").
	RetryAfter string `json:"retry_after,omitempty"`
	// Body replaces the error body verbatim (non-200 only).
	Body string `json:"body,omitempty"`
	// Header adds response headers.
	Header map[string]string `json:"headers,omitempty"`
	// Delay waits before answering (a non-200) or before each stream frame
	// and the non-stream body (a 200), like [[fake:slow=...]].
	Delay time.Duration `json:"-"`
	// Fault is a directive list as inside [[fake:...]], e.g. "truncate" or
	// "gzip,nousage".
	Fault string `json:"fault,omitempty"`

	dir directives
}

func (sc *Scripted) compile() error {
	if sc.Status != 0 && (sc.Status < 200 || sc.Status > 599) {
		return fmt.Errorf("status %d: %w", sc.Status, ErrScript)
	}
	if sc.Delay < 0 || sc.Delay > maxDelay {
		return fmt.Errorf("delay %s: %w", sc.Delay, ErrScript)
	}
	sc.dir = noDirectives()
	if err := sc.dir.apply(sc.Fault); err != nil {
		return fmt.Errorf("fault %q: %w: %w", sc.Fault, ErrScript, err)
	}
	if sc.Status != 0 && sc.Status != http.StatusOK {
		sc.dir.status = sc.Status
	}
	if sc.RetryAfter != "" {
		sc.dir.retryAfter = sc.RetryAfter
	}
	if sc.Delay > 0 {
		sc.dir.slow = sc.Delay
	}
	return nil
}

// script is the FIFO of scripted answers. The hot path reads one atomic when
// nothing is queued; the mutex is taken only while entries are pending.
type script struct {
	pending atomic.Int64
	mu      sync.Mutex
	anyQ    []Scripted
	byModel map[string][]Scripted
}

func (q *script) push(entries []Scripted) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, e := range entries {
		if e.Model == "" {
			q.anyQ = append(q.anyQ, e)
			continue
		}
		if q.byModel == nil {
			q.byModel = make(map[string][]Scripted)
		}
		q.byModel[e.Model] = append(q.byModel[e.Model], e)
	}
	q.pending.Add(int64(len(entries)))
}

func (q *script) pop(model string) (Scripted, bool) {
	if q.pending.Load() == 0 {
		return Scripted{}, false
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if mq := q.byModel[model]; len(mq) > 0 {
		e := mq[0]
		if len(mq) == 1 {
			delete(q.byModel, model)
		} else {
			q.byModel[model] = mq[1:]
		}
		q.pending.Add(-1)
		return e, true
	}
	if len(q.anyQ) > 0 {
		e := q.anyQ[0]
		q.anyQ = q.anyQ[1:]
		q.pending.Add(-1)
		return e, true
	}
	return Scripted{}, false
}

func (q *script) clear() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.anyQ, q.byModel = nil, nil
	q.pending.Store(0)
}
