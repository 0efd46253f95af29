package central

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/tokenomics-dev/tokenomics/core/fleet"
	"github.com/tokenomics-dev/tokenomics/core/manifest"
)

// FleetStore keeps the latest report of each proxy. The in-memory store
// is the default; a database-backed one can replace it without touching
// the handlers (reports are advisory, so losing them on restart only
// means the fleet view fills again within one heartbeat).
type FleetStore interface {
	// Put records r, received at at, replacing the instance's last report.
	Put(ctx context.Context, r fleet.Report, at time.Time) error
	// List returns the latest report of every instance with its time
	// (Lag left zero), in any order.
	List(ctx context.Context) ([]fleet.Proxy, error)
}

// DefaultFleetMax is how many proxies the in-memory store remembers.
const DefaultFleetMax = 4096

// MemoryFleet is a FleetStore in memory. When full, a new instance takes
// the place of the one heard from least recently.
type MemoryFleet struct {
	max int
	mu  sync.Mutex
	by  map[string]fleet.Proxy
}

// NewMemoryFleet returns an empty store holding at most max proxies
// (DefaultFleetMax when max <= 0).
func NewMemoryFleet(max int) *MemoryFleet {
	if max <= 0 {
		max = DefaultFleetMax
	}
	return &MemoryFleet{max: max, by: map[string]fleet.Proxy{}}
}

// Put implements FleetStore.
func (m *MemoryFleet) Put(_ context.Context, r fleet.Report, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.by[r.Instance]; !ok && len(m.by) >= m.max {
		oldest := ""
		var when time.Time
		for id, p := range m.by {
			if oldest == "" || p.LastContact.Before(when) {
				oldest, when = id, p.LastContact
			}
		}
		delete(m.by, oldest)
	}
	m.by[r.Instance] = fleet.Proxy{Report: r, LastContact: at}
	return nil
}

// List implements FleetStore.
func (m *MemoryFleet) List(context.Context) ([]fleet.Proxy, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]fleet.Proxy, 0, len(m.by))
	for _, p := range m.by {
		out = append(out, p)
	}
	return out, nil
}

// fleetRoutes serves POST and GET /api/v1/fleet (behind requireAuth).
func (s *Server) fleetRoutes() http.Handler {
	st := s.o.Fleet
	if st == nil {
		st = NewMemoryFleet(0)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/fleet", func(w http.ResponseWriter, r *http.Request) { s.fleetReport(w, r, st) })
	mux.HandleFunc("GET /api/v1/fleet", func(w http.ResponseWriter, r *http.Request) { s.fleetStatus(w, r, st) })
	mux.HandleFunc("/api/v1/fleet", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusMethodNotAllowed, manifest.CodeMethod, fmt.Sprintf("method %s is not allowed here", r.Method))
	})
	return mux
}

func (s *Server) fleetReport(w http.ResponseWriter, r *http.Request, st FleetStore) {
	var rep fleet.Report
	// Not strict: a newer proxy may say more than this server knows.
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, fleet.MaxReportBytes))
	if err := dec.Decode(&rep); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeError(w, http.StatusRequestEntityTooLarge, manifest.CodeTooLarge,
				fmt.Sprintf("a fleet report is at most %d bytes", fleet.MaxReportBytes))
			return
		}
		writeError(w, http.StatusBadRequest, manifest.CodeInvalid, "decoding the fleet report: "+err.Error())
		return
	}
	if err := rep.Validate(); err != nil {
		writeError(w, http.StatusBadRequest, manifest.CodeInvalid, err.Error())
		return
	}
	if err := st.Put(r.Context(), rep, time.Now().UTC()); err != nil {
		s.log.Error("storing a fleet report", "instance", rep.Instance, "error", err)
		writeError(w, http.StatusInternalServerError, "internal_error", "the report could not be stored")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) fleetStatus(w http.ResponseWriter, r *http.Request, st FleetStore) {
	// The revision is read before the reports, so a proxy reporting in
	// between shows a lag of 0 or less, never a stale positive one.
	rev := s.o.DB.Revision()
	list, err := st.List(r.Context())
	if err != nil {
		s.log.Error("listing fleet reports", "error", err)
		writeError(w, http.StatusInternalServerError, "internal_error", "the fleet could not be listed")
		return
	}
	for i := range list {
		list[i].Lag = int64(rev) - int64(list[i].Revision)
		if list[i].Plugins == nil {
			list[i].Plugins = []fleet.Plugin{}
		}
	}
	slices.SortFunc(list, func(a, b fleet.Proxy) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Instance, b.Instance))
	})
	writeJSON(w, http.StatusOK, fleet.Status{Revision: rev, Proxies: list})
}
