package limits

import "time"

// Counter is one budget counter as persisted.
type Counter struct {
	Subject string
	Key     string // budget key, "" for the token's own budget
	Used    int64  // settled usage
	// Unsynced is usage settled locally during a Redis outage and not yet
	// added to Redis (failover mode only).
	Unsynced int64
}

// Persister stores memory counters across restarts. Save receives the whole
// state each time and replaces what was stored.
type Persister interface {
	Save([]Counter) error
	Load() ([]Counter, error)
}

// StartPersist saves a snapshot every interval until Close, which saves once
// more. Without a Persister, or when already started, it does nothing.
//
// Crash-loss bound: a crash loses the usage settled since the last save (at
// most one interval's worth) and every outstanding reservation; requests in
// flight at the crash are never charged.
func (m *Memory) StartPersist(interval time.Duration) {
	if m.persister == nil || interval <= 0 {
		return
	}
	m.persistOnce.Do(func() {
		m.stop = make(chan struct{})
		m.done = make(chan struct{})
		go m.persistLoop(interval)
	})
}

func (m *Memory) persistLoop(interval time.Duration) {
	defer close(m.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			// The loop is the top of its goroutine: nobody to return to.
			if err := m.persister.Save(m.Snapshot()); err != nil {
				m.log.Warn("saving limit counters failed", "error", err)
			}
		}
	}
}
