package console

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"time"
)

// fleetReport is the answer of GET /api/v1/fleet: what each proxy last
// reported to the central server.
type fleetReport struct {
	Revision uint64       `json:"revision"`
	Proxies  []fleetProxy `json:"proxies"`
}

type fleetProxy struct {
	Instance    string        `json:"instance"`
	Name        string        `json:"name"`
	Version     string        `json:"version"`
	Revision    uint64        `json:"revision"`
	Ready       bool          `json:"ready"`
	LastContact time.Time     `json:"last_contact"`
	Lag         int64         `json:"lag"`
	Plugins     []fleetPlugin `json:"plugins"`
}

type fleetPlugin struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
	Tokens  int    `json:"tokens"`
	State   string `json:"state"`
	Error   string `json:"error"`
}

// fleet asks the REST API in-process; ok is false when this central server
// does not collect fleet reports (404).
func (c *Console) fleet(r *http.Request) (fleetReport, bool, error) {
	var rep fleetReport
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://central.inprocess/api/v1/fleet", nil)
	if err != nil {
		return rep, false, err
	}
	if c.o.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.o.APIKey)
	}
	resp, err := c.api.Do(req)
	if err != nil {
		return rep, false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return rep, false, nil
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return rep, false, fmt.Errorf("GET /api/v1/fleet answered %d: %s", resp.StatusCode, b)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(&rep); err != nil {
		return rep, false, fmt.Errorf("decoding the fleet report: %w", err)
	}
	sort.Slice(rep.Proxies, func(i, j int) bool {
		return rep.Proxies[i].Name+rep.Proxies[i].Instance < rep.Proxies[j].Name+rep.Proxies[j].Instance
	})
	return rep, true, nil
}

// applied says which proxies have reached a revision.
type applied struct {
	Revision uint64
	Done     int
	Total    int
	All      bool
	Pending  []string
}

func (f fleetReport) appliedAt(rev uint64) *applied {
	a := &applied{Revision: rev, Total: len(f.Proxies)}
	for _, p := range f.Proxies {
		if p.Revision >= rev {
			a.Done++
		} else {
			a.Pending = append(a.Pending, p.label())
		}
	}
	a.All = a.Total > 0 && a.Done == a.Total
	return a
}

// label names a proxy: its host name and instance id, since two proxies on
// one host share the name.
func (p fleetProxy) label() string {
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
	Report    fleetReport
	Err       string
	Watch     *applied
	WatchTok  string
	Now       time.Time
	Reporters []reporter
}

// reporter is a proxy seen only through the events it sent.
type reporter struct {
	Source string
	Last   time.Time
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
			d.Watch = rep.appliedAt(rev)
			d.WatchTok = r.URL.Query().Get("token")
			if len(d.WatchTok) > 16 {
				d.WatchTok = d.WatchTok[:16]
			}
			if !d.Watch.All {
				refresh = 2
			}
		}
	}
	if c.o.Usage != nil {
		seen := c.o.Usage.proxiesSeen()
		for _, k := range sortedKeys(seen) {
			d.Reporters = append(d.Reporters, reporter{Source: k, Last: seen[k]})
		}
	}
	c.render(w, r, s, http.StatusOK, "fleet", page{Title: "Fleet", Nav: "fleet", Refresh: refresh, Data: d})
}
