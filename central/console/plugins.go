package console

import (
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"sort"
	"time"

	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/core/manifest"
	"github.com/tokenomics-dev/tokenomics/core/policy"
)

// maxUpload bounds an upload form: a plugin binary and its manifest.
const maxUpload = manifest.MaxUploadSize

type pluginRow struct {
	Entry   manifest.Entry
	Pinned  []string // token hash prefixes that name this binary
	ByName  []string // tokens that name the plugin without this sha256
	Proxies []string // "proxy: state"
}

type pluginsData struct {
	Rows     []pluginRow
	Revision uint64
	Fleet    bool
}

// pins maps plugin name and sha256 to the tokens whose policies name them.
func (c *Console) pins(ctx context.Context) (bySHA, byName map[string][]string, err error) {
	recs, err := c.o.Tokens.List(ctx)
	if err != nil {
		return nil, nil, err
	}
	bySHA, byName = map[string][]string{}, map[string][]string{}
	for _, rec := range recs {
		p, err := policy.Parse(rec.Policy)
		if err != nil {
			continue
		}
		prefix := events.HashPrefix(rec.Hash)
		each := func(rules []policy.Rule) {
			for _, r := range rules {
				if r.Type != "wasm" {
					continue
				}
				if r.SHA256 != "" {
					bySHA[r.SHA256] = append(bySHA[r.SHA256], prefix)
				} else {
					byName[r.Plugin] = append(byName[r.Plugin], prefix)
				}
			}
		}
		each(p.Rules)
		for _, g := range p.Providers {
			for _, e := range g.Entries {
				each(e.Rules)
			}
		}
	}
	return bySHA, byName, nil
}

func (c *Console) pluginData(r *http.Request) (pluginsData, error) {
	var d pluginsData
	list, err := c.plugins.List(r.Context())
	if err != nil {
		return d, err
	}
	bySHA, byName, err := c.pins(r.Context())
	if err != nil {
		return d, err
	}
	rep, fleetOK, _ := c.fleet(r)
	d.Revision, d.Fleet = list.Revision, fleetOK
	for _, e := range list.Plugins {
		row := pluginRow{Entry: e, Pinned: bySHA[e.SHA256], ByName: byName[e.Name]}
		for _, p := range rep.Proxies {
			for _, pl := range p.Plugins {
				if pl.SHA256 == e.SHA256 {
					st := label(p) + ": " + pl.State
					if pl.Error != "" {
						st += " (" + pl.Error + ")"
					}
					row.Proxies = append(row.Proxies, st)
				}
			}
		}
		d.Rows = append(d.Rows, row)
	}
	sort.SliceStable(d.Rows, func(i, j int) bool {
		a, b := d.Rows[i].Entry, d.Rows[j].Entry
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Revision > b.Revision
	})
	return d, nil
}

func (c *Console) pluginList(w http.ResponseWriter, r *http.Request, s *session) {
	d, err := c.pluginData(r)
	if err != nil {
		c.fail(w, r, s, "listing plugins", err)
		return
	}
	c.render(w, r, s, http.StatusOK, "plugins", page{Title: "Plugins", Nav: "plugins", Data: d})
}

func readPart(fh *multipart.FileHeader) ([]byte, error) {
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxUpload))
}

// pluginUpload stores a signed plugin through the REST API: the same
// signature, module and version checks and the same push as `plugin push`.
func (c *Console) pluginUpload(w http.ResponseWriter, r *http.Request, s *session) {
	again := func(status int, msg string) {
		d, err := c.pluginData(r)
		if err != nil {
			c.fail(w, r, s, "listing plugins", err)
			return
		}
		c.render(w, r, s, status, "plugins", page{Title: "Plugins", Nav: "plugins", Error: msg, Data: d})
	}
	if r.MultipartForm == nil || r.MultipartForm.File["wasm"] == nil || r.MultipartForm.File["manifest"] == nil {
		again(http.StatusBadRequest, "Choose both the plugin (.wasm) and its signed manifest (.manifest.json).")
		return
	}
	wasm, err := readPart(r.MultipartForm.File["wasm"][0])
	if err != nil {
		again(http.StatusBadRequest, "The plugin file could not be read.")
		return
	}
	env, err := readPart(r.MultipartForm.File["manifest"][0])
	if err != nil {
		again(http.StatusBadRequest, "The manifest file could not be read.")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Minute)
	defer cancel()
	entry, err := c.plugins.Upload(ctx, env, wasm)
	if err != nil {
		var api *manifest.APIError
		if errors.As(err, &api) && api.Status < 500 {
			again(http.StatusUnprocessableEntity, "The central server refused this plugin: "+api.Message)
			return
		}
		c.fail(w, r, s, "uploading a plugin", err)
		return
	}
	if entry.Existing {
		c.redirect(w, r, s, "/ui/plugins", "The registry already holds "+entry.Name+" "+entry.Version+"; nothing changed.")
		return
	}
	c.record(s, "plugin.upload", entry.Name+" "+entry.Version, "sha256 "+entry.SHA256, entry.Revision)
	c.redirect(w, r, s, "/ui/plugins", "Uploaded "+entry.Name+" "+entry.Version+" (registry revision "+itoa(int64(entry.Revision))+").")
}

func (c *Console) pluginBySHA(w http.ResponseWriter, r *http.Request, s *session) (pluginRow, bool) {
	d, err := c.pluginData(r)
	if err != nil {
		c.fail(w, r, s, "listing plugins", err)
		return pluginRow{}, false
	}
	for _, row := range d.Rows {
		if row.Entry.SHA256 == r.PathValue("sha") {
			return row, true
		}
	}
	c.renderError(w, r, s, http.StatusNotFound, "The registry holds no plugin with that sha256.")
	return pluginRow{}, false
}

func (c *Console) pluginWithdrawConfirm(w http.ResponseWriter, r *http.Request, s *session) {
	row, ok := c.pluginBySHA(w, r, s)
	if !ok {
		return
	}
	c.render(w, r, s, http.StatusOK, "plugin_withdraw", page{Title: "Withdraw " + row.Entry.Name + " " + row.Entry.Version, Nav: "plugins", Data: row})
}

func (c *Console) pluginWithdraw(w http.ResponseWriter, r *http.Request, s *session) {
	row, ok := c.pluginBySHA(w, r, s)
	if !ok {
		return
	}
	e, err := c.plugins.Delete(r.Context(), row.Entry.SHA256)
	if err != nil {
		c.fail(w, r, s, "withdrawing a plugin", err)
		return
	}
	c.record(s, "plugin.withdraw", row.Entry.Name+" "+row.Entry.Version, "sha256 "+row.Entry.SHA256, e.Revision)
	c.redirect(w, r, s, "/ui/plugins", "Withdrew "+row.Entry.Name+" "+row.Entry.Version+".")
}
