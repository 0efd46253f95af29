package console

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/tokenomics-dev/tokenomics/core/fleet"
)

// fleet asks the REST API in-process (GET /api/v1/fleet, through
// core/fleet's client). ok is false when the server does not answer it.
func (c *Console) fleet(r *http.Request) (fleet.Status, bool, error) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	st, err := c.fleetClient.Status(ctx)
	if err != nil {
		return st, false, err
	}
	return st, true, nil
}

// applied says which proxies have reached a revision.
type applied struct {
	Revision uint64
	Done     int
	Total    int
	All      bool
	Pending  []string
}

// appliedAt says which proxies of st have applied revision rev.
func appliedAt(st fleet.Status, rev uint64) *applied {
	a := &applied{Revision: rev, Total: len(st.Proxies)}
	for _, p := range st.Proxies {
		if p.Revision >= rev {
			a.Done++
		} else {
			a.Pending = append(a.Pending, label(p))
		}
	}
	a.All = a.Total > 0 && a.Done == a.Total
	return a
}

// label names a proxy: its host name and instance id, since two proxies on
// one host share the name.
func label(p fleet.Proxy) string {
	switch {
	case p.Name == "":
		return p.Instance
	case p.Instance == "":
		return p.Name
	}
	return p.Name + " (" + short(p.Instance) + ")"
}

type fleetPageData struct {
	Available bool
	Report    fleet.Status
	Err       string
	Watch     *applied
	WatchTok  string
	Now       time.Time
}

func (c *Console) fleetPage(w http.ResponseWriter, r *http.Request, s *session) {
	d := fleetPageData{Now: c.now()}
	rep, ok, err := c.fleet(r)
	if err != nil {
		c.log.Warn("reading the fleet report", "error", err)
		d.Err = "The fleet report could not be read; see the server log."
	}
	d.Available, d.Report = ok, rep
	refresh := 0
	if v := r.URL.Query().Get("watch"); v != "" && ok {
		if rev, err := strconv.ParseUint(v, 10, 64); err == nil {
			d.Watch = appliedAt(rep, rev)
			d.WatchTok = r.URL.Query().Get("token")
			if len(d.WatchTok) > 16 {
				d.WatchTok = d.WatchTok[:16]
			}
			if !d.Watch.All {
				refresh = 2
			}
		}
	}
	c.render(w, r, s, http.StatusOK, "fleet", page{Title: "Fleet", Nav: "fleet", Refresh: refresh, Data: d})
}
