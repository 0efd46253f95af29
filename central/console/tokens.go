package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/core/policy"
	"github.com/tokenomics-dev/tokenomics/core/store"
	"github.com/tokenomics-dev/tokenomics/core/tokenapi"
)

// expiryChoices are the lifetimes the forms offer.
var expiryChoices = []struct {
	Value, Label string
	D            time.Duration
}{
	{"24h", "1 day", 24 * time.Hour},
	{"7d", "7 days", 7 * 24 * time.Hour},
	{"30d", "30 days", 30 * 24 * time.Hour},
	{"90d", "90 days", 90 * 24 * time.Hour},
	{"1y", "1 year", 365 * 24 * time.Hour},
}

func expiryFor(v string, now time.Time) (*time.Time, bool) {
	for _, e := range expiryChoices {
		if e.Value == v {
			t := now.Add(e.D).UTC().Truncate(time.Second)
			return &t, true
		}
	}
	return nil, false
}

// tokenRow is one line of the token list.
type tokenRow struct {
	Hash     string
	Prefix   string
	Role     string
	Team     string
	Meta     string
	Created  time.Time
	Expires  *time.Time
	Expired  bool
	Requests int64
	Tokens   int64
	Refused  int64
}

type tokenListData struct {
	Rows                      []tokenRow
	Total                     int
	Q, Role, Expiry, UsageSel string
	Roles                     []string
	UsageSince                time.Time
	UsageSource               string
}

// meta reads a stored policy's metadata without the full parse.
func meta(raw json.RawMessage) map[string]string {
	var p struct {
		Metadata map[string]string `json:"metadata"`
	}
	_ = json.Unmarshal(raw, &p)
	return p.Metadata
}

func (c *Console) tokenList(w http.ResponseWriter, r *http.Request, s *session) {
	recs, err := c.o.Tokens.List(r.Context())
	if err != nil {
		c.fail(w, r, s, "listing tokens", err)
		return
	}
	q := r.URL.Query()
	d := tokenListData{Q: strings.TrimSpace(q.Get("q")), Role: q.Get("role"), Expiry: q.Get("expiry"), UsageSel: q.Get("usage"), Total: len(recs)}
	roles := map[string]bool{}
	now := c.now()
	view := c.view(r.Context(), now.Add(-usageKeep))
	for _, rec := range recs {
		m := meta(rec.Policy)
		if m["role"] != "" {
			roles[m["role"]] = true
		}
		row := tokenRow{Hash: rec.Hash, Prefix: events.HashPrefix(rec.Hash), Role: m["role"], Team: m["team"], Created: rec.CreatedAt,
			Expires: rec.ExpiresAt, Expired: rec.Expired(now)}
		var parts []string
		for _, k := range sortedKeys(m) {
			if k != "role" && k != "team" {
				parts = append(parts, k+"="+m[k])
			}
		}
		row.Meta = strings.Join(parts, ", ")
		if view != nil {
			tot, _ := view.tokenTotals(row.Prefix)
			row.Requests, row.Tokens, row.Refused = tot.Requests, tot.Input+tot.Output, tot.Refused
		}
		if !d.keep(row, m, now) {
			continue
		}
		d.Rows = append(d.Rows, row)
	}
	d.Roles = sortedKeys(roles)
	sort.SliceStable(d.Rows, func(i, j int) bool { return d.Rows[i].Created.After(d.Rows[j].Created) })
	if view != nil {
		d.UsageSince, d.UsageSource = view.from(), view.source()
	}
	c.render(w, r, s, http.StatusOK, "tokens", page{Title: "Tokens", Nav: "tokens", Data: d})
}

// keep applies the list's search and filters.
func (d *tokenListData) keep(row tokenRow, m map[string]string, now time.Time) bool {
	if d.Q != "" {
		hay := strings.ToLower(row.Hash + " " + row.Role + " " + row.Team + " " + row.Meta)
		if !strings.Contains(hay, strings.ToLower(d.Q)) {
			return false
		}
	}
	if d.Role != "" && m["role"] != d.Role {
		return false
	}
	switch d.Expiry {
	case "never":
		if row.Expires != nil {
			return false
		}
	case "week":
		if row.Expires == nil || row.Expired || row.Expires.After(now.Add(7*24*time.Hour)) {
			return false
		}
	case "expired":
		if !row.Expired {
			return false
		}
	}
	switch d.UsageSel {
	case "used":
		return row.Requests > 0
	case "unused":
		return row.Requests == 0
	case "refused":
		return row.Refused > 0
	}
	return true
}

// fieldProblem is one validation error, as the CLI prints it.
type fieldProblem struct {
	Path string `json:"path"`
	Msg  string `json:"message"`
	Text string `json:"text"`
}

// check runs the service's validator and splits its error into field
// problems (policy.FieldErrors): the same paths and messages the CLI shows.
func (c *Console) check(raw []byte) []fieldProblem {
	if !json.Valid(raw) {
		var v any
		err := json.Unmarshal(raw, &v)
		msg := "the policy is not valid JSON"
		if err != nil {
			msg += ": " + err.Error()
		}
		return []fieldProblem{{Msg: msg, Text: msg}}
	}
	_, err := c.o.Validate(raw)
	return problemsOf(err)
}

func problemsOf(err error) []fieldProblem {
	if err == nil {
		return nil
	}
	var out []fieldProblem
	for _, fe := range policy.FieldErrors(err) {
		out = append(out, fieldProblem{Path: fe.Path, Msg: fe.Msg, Text: fe.Error()})
	}
	if len(out) == 0 {
		out = append(out, fieldProblem{Msg: err.Error(), Text: err.Error()})
	}
	return out
}

type tokenNewData struct {
	Templates []policyTemplate
	Template  string
	Policy    string
	Expires   string
	Choices   any
	Problems  []fieldProblem
}

func (c *Console) tokenNew(w http.ResponseWriter, r *http.Request, s *session) {
	d := tokenNewData{Templates: c.tmpl, Template: r.URL.Query().Get("template"), Choices: expiryChoices, Expires: "30d"}
	for _, t := range c.tmpl {
		if t.Name == d.Template {
			d.Policy = t.Policy
		}
	}
	if d.Policy == "" {
		d.Template = ""
		d.Policy = "{\n  \"model_regex\": \"^gpt-4o\",\n  \"max_tokens\": 100000,\n  \"metadata\": {\"role\": \"\", \"team\": \"\"}\n}"
	}
	c.render(w, r, s, http.StatusOK, "token_new", page{Title: "New token", Nav: "tokens", Data: d})
}

// tokenValidate answers the form's live check: {"ok", "errors"}.
func (c *Console) tokenValidate(w http.ResponseWriter, r *http.Request, _ *session) {
	raw := []byte(r.PostFormValue("policy"))
	probs := c.check(raw)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": len(probs) == 0, "errors": probs})
}

type tokenCreatedData struct {
	Token  string
	Record store.Record
	Prefix string
}

func (c *Console) tokenCreate(w http.ResponseWriter, r *http.Request, s *session) {
	raw := strings.TrimSpace(r.PostFormValue("policy"))
	d := tokenNewData{Templates: c.tmpl, Template: r.PostFormValue("template"), Policy: raw, Expires: r.PostFormValue("expires"), Choices: expiryChoices}
	req := tokenapi.CreateRequest{Policy: json.RawMessage(raw)}
	if d.Expires != "never" {
		at, ok := expiryFor(d.Expires, c.now())
		if !ok {
			d.Problems = []fieldProblem{{Msg: "choose an expiry", Text: "choose an expiry"}}
		}
		req.ExpiresAt = at
	}
	if d.Problems == nil {
		d.Problems = c.check([]byte(raw))
	}
	if len(d.Problems) > 0 {
		c.render(w, r, s, http.StatusUnprocessableEntity, "token_new", page{Title: "New token", Nav: "tokens", Error: "The policy was not accepted.", Data: d})
		return
	}
	created, err := c.o.Tokens.Create(r.Context(), req)
	if err != nil {
		if errors.Is(err, tokenapi.ErrInvalidRequest) {
			d.Problems = problemsOf(err)
			c.render(w, r, s, http.StatusUnprocessableEntity, "token_new", page{Title: "New token", Nav: "tokens", Error: "The policy was not accepted.", Data: d})
			return
		}
		c.fail(w, r, s, "creating a token", err)
		return
	}
	detail := "from JSON"
	if d.Template != "" {
		detail = "from template " + d.Template
	}
	c.record(s, "token.create", events.HashPrefix(created.Record.Hash), detail, created.Record.Revision)
	c.render(w, r, s, http.StatusCreated, "token_created", page{Title: "Token created", Nav: "tokens",
		Data: tokenCreatedData{Token: created.Token, Record: created.Record, Prefix: events.HashPrefix(created.Record.Hash)}})
}

// budgetRow is one budget or window of a token, with what proxies reported.
type budgetRow struct {
	Name   string
	Unit   string
	Limit  int64
	Used   int64
	Pct    int
	Window string
}

type tokenPageData struct {
	Record   store.Record
	Prefix   string
	Policy   string
	Meta     map[string]string
	Expired  bool
	Budgets  []budgetRow
	Totals   counts
	Models   map[string]counts
	Refusals []feedItem
	Since    time.Time
	Source   string
	HasUsage bool
	Applied  *applied
	Plugins  []string
}

func pretty(raw []byte) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return string(raw)
	}
	return buf.String()
}

func (c *Console) getToken(w http.ResponseWriter, r *http.Request, s *session) (store.Record, bool) {
	rec, err := c.o.Tokens.Get(r.Context(), r.PathValue("hash"))
	if err != nil {
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, tokenapi.ErrInvalidRequest) {
			c.renderError(w, r, s, http.StatusNotFound, "No such token (it may have been revoked).")
			return rec, false
		}
		var amb *store.AmbiguousError
		if errors.As(err, &amb) {
			c.renderError(w, r, s, http.StatusNotFound, "That prefix names several tokens; use a longer one.")
			return rec, false
		}
		c.fail(w, r, s, "reading a token", err)
		return rec, false
	}
	return rec, true
}

func (c *Console) tokenPage(w http.ResponseWriter, r *http.Request, s *session) {
	rec, ok := c.getToken(w, r, s)
	if !ok {
		return
	}
	d := tokenPageData{Record: rec, Prefix: events.HashPrefix(rec.Hash), Policy: pretty(rec.Policy), Meta: meta(rec.Policy), Expired: rec.Expired(c.now())}
	p, perr := policy.Parse(rec.Policy)
	// Budgets count from the token's creation: read the rollups since then.
	view := c.view(r.Context(), rec.CreatedAt.Truncate(time.Minute))
	if view != nil {
		d.HasUsage, d.Since, d.Source = true, view.from(), view.source()
		d.Totals, d.Models = view.tokenTotals(d.Prefix)
	}
	d.Refusals, _, _ = c.feed(r.Context(), refusalTypes, 20, func(f feedItem) bool { return f.Refusal && f.Token == d.Prefix })
	if perr == nil {
		d.Budgets = c.budgets(p, view, d.Prefix, d.Totals, d.Models)
		d.Plugins = pinned(p)
	}
	if rep, ok, err := c.fleet(r); err == nil && ok {
		d.Applied = appliedAt(rep, rec.Revision)
	}
	c.render(w, r, s, http.StatusOK, "token", page{Title: "Token " + d.Prefix, Nav: "tokens", Data: d})
}

// budgets lists the token's budgets and rate windows with what proxies
// reported against each.
func (c *Console) budgets(p *policy.Policy, view usageView, prefix string, tot counts, models map[string]counts) []budgetRow {
	var out []budgetRow
	add := func(b budgetRow) {
		if b.Limit > 0 {
			b.Pct = int(min(100, b.Used*100/b.Limit))
		}
		out = append(out, b)
	}
	if p.MaxTokens > 0 {
		add(budgetRow{Name: "whole token", Unit: "tokens", Limit: p.MaxTokens, Used: tot.Input + tot.Output})
	}
	for _, g := range p.Providers {
		for i, e := range g.Entries {
			if e.MaxTokens <= 0 {
				continue
			}
			var used int64
			for m, mc := range models {
				if res, err := p.Resolve(m); err == nil && res.GroupIndex >= 0 && p.Providers[res.GroupIndex].Name == g.Name && res.EntryIndex == i {
					used += mc.Input + mc.Output
				}
			}
			name := g.Name + " entry " + itoa(i)
			if e.Model != "" {
				name += " (" + e.Model + ")"
			} else if e.ModelRegex != "" {
				name += " (" + e.ModelRegex + ")"
			}
			add(budgetRow{Name: name, Unit: "tokens", Limit: e.MaxTokens, Used: used})
		}
	}
	if p.RateLimit != nil && view != nil {
		for _, rr := range p.RateLimit.Rules {
			win := view.window(prefix, rr.WindowDuration())
			if rr.Requests > 0 {
				add(budgetRow{Name: "requests per " + rr.Window, Unit: "requests", Limit: rr.Requests, Used: win.Requests, Window: rr.Window})
			} else {
				add(budgetRow{Name: "tokens per " + rr.Window, Unit: "tokens", Limit: rr.Tokens, Used: win.Input + win.Output, Window: rr.Window})
			}
		}
	}
	return out
}

// pinned lists the custom plugins a policy names, as "name sha256-prefix".
func pinned(p *policy.Policy) []string {
	var out []string
	each := func(rules []policy.Rule) {
		for _, r := range rules {
			if r.Type == "wasm" {
				out = append(out, r.Plugin+" "+short(r.SHA256))
			}
		}
	}
	each(p.Rules)
	for _, g := range p.Providers {
		for _, e := range g.Entries {
			each(e.Rules)
		}
	}
	return out
}

type tokenEditData struct {
	Record   store.Record
	Prefix   string
	Policy   string
	Patch    string
	Expires  string
	Choices  any
	Problems []fieldProblem
	Diff     []diffLine
	Changed  bool
}

func (c *Console) tokenEdit(w http.ResponseWriter, r *http.Request, s *session) {
	rec, ok := c.getToken(w, r, s)
	if !ok {
		return
	}
	d := tokenEditData{Record: rec, Prefix: events.HashPrefix(rec.Hash), Policy: pretty(rec.Policy), Patch: "{\n  \n}", Expires: "keep", Choices: expiryChoices}
	c.render(w, r, s, http.StatusOK, "token_edit", page{Title: "Change token " + d.Prefix, Nav: "tokens", Data: d})
}

// preview applies the patch to the current policy for display: the
// service applies it again, in its own transaction, on update.
func (c *Console) preview(rec store.Record, patch string) ([]byte, []fieldProblem) {
	patch = strings.TrimSpace(patch)
	if patch == "" {
		return rec.Policy, nil
	}
	if !json.Valid([]byte(patch)) {
		return nil, []fieldProblem{{Msg: "the merge patch is not valid JSON", Text: "the merge patch is not valid JSON"}}
	}
	next, err := c.o.Patch(rec.Policy, []byte(patch))
	if err != nil {
		return nil, problemsOf(err)
	}
	return next, c.check(next)
}

func (c *Console) tokenPreview(w http.ResponseWriter, r *http.Request, s *session) {
	rec, ok := c.getToken(w, r, s)
	if !ok {
		return
	}
	d := tokenEditData{Record: rec, Prefix: events.HashPrefix(rec.Hash), Policy: pretty(rec.Policy), Patch: r.PostFormValue("patch"),
		Expires: r.PostFormValue("expires"), Choices: expiryChoices}
	next, probs := c.preview(rec, d.Patch)
	d.Problems = probs
	if next != nil {
		d.Diff = lineDiff(pretty(rec.Policy), pretty(next))
		for _, l := range d.Diff {
			if l.Op != ' ' {
				d.Changed = true
			}
		}
	}
	if d.Expires != "keep" {
		d.Changed = true
	}
	status := http.StatusOK
	if len(probs) > 0 {
		status = http.StatusUnprocessableEntity
	}
	c.render(w, r, s, status, "token_preview", page{Title: "Review change to " + d.Prefix, Nav: "tokens", Data: d})
}

func (c *Console) tokenUpdate(w http.ResponseWriter, r *http.Request, s *session) {
	rec, ok := c.getToken(w, r, s)
	if !ok {
		return
	}
	prefix := events.HashPrefix(rec.Hash)
	if r.PostFormValue("revision") != itoa(int64(rec.Revision)) {
		c.renderError(w, r, s, http.StatusConflict, "The token changed after you previewed this change. Review it again.")
		return
	}
	patch := strings.TrimSpace(r.PostFormValue("patch"))
	req := tokenapi.UpdateRequest{}
	if patch != "" && patch != "{}" {
		req.Policy = json.RawMessage(patch)
	}
	switch ex := r.PostFormValue("expires"); ex {
	case "keep", "":
	case "never":
		req.ClearExpiry = true
	default:
		req.ExpiresAt, _ = expiryFor(ex, c.now())
	}
	if req.Policy == nil && req.ExpiresAt == nil && !req.ClearExpiry {
		c.redirect(w, r, s, "/ui/tokens/"+rec.Hash, "Nothing to change.")
		return
	}
	upd, err := c.o.Tokens.Update(r.Context(), rec.Hash, req)
	if err != nil {
		if errors.Is(err, tokenapi.ErrInvalidRequest) {
			d := tokenEditData{Record: rec, Prefix: prefix, Policy: pretty(rec.Policy), Patch: patch, Expires: r.PostFormValue("expires"), Choices: expiryChoices, Problems: problemsOf(err)}
			c.render(w, r, s, http.StatusUnprocessableEntity, "token_edit", page{Title: "Change token " + prefix, Nav: "tokens", Error: "The change was not accepted.", Data: d})
			return
		}
		c.fail(w, r, s, "updating a token", err)
		return
	}
	detail := "merge patch " + compact(patch)
	if req.ClearExpiry {
		detail += "; expiry cleared"
	} else if req.ExpiresAt != nil {
		detail += "; expires " + req.ExpiresAt.Format(time.RFC3339)
	}
	c.record(s, "token.update", prefix, detail, upd.Revision)
	c.redirect(w, r, s, "/ui/tokens/"+rec.Hash, "Token "+prefix+" updated at revision "+itoa(int64(upd.Revision))+".")
}

func compact(s string) string {
	var buf bytes.Buffer
	if json.Compact(&buf, []byte(s)) != nil {
		return ""
	}
	out := buf.String()
	if len(out) > 500 {
		out = out[:500] + "…"
	}
	return out
}

func (c *Console) tokenRevokeConfirm(w http.ResponseWriter, r *http.Request, s *session) {
	rec, ok := c.getToken(w, r, s)
	if !ok {
		return
	}
	d := tokenPageData{Record: rec, Prefix: events.HashPrefix(rec.Hash), Meta: meta(rec.Policy)}
	c.render(w, r, s, http.StatusOK, "token_revoke", page{Title: "Revoke token " + d.Prefix, Nav: "tokens", Data: d})
}

func (c *Console) tokenRevoke(w http.ResponseWriter, r *http.Request, s *session) {
	rec, ok := c.getToken(w, r, s)
	if !ok {
		return
	}
	if _, err := c.o.Tokens.Delete(r.Context(), rec.Hash); err != nil {
		c.fail(w, r, s, "revoking a token", err)
		return
	}
	// The tombstone's revision is at most the current one; watching the
	// current one is the safe side.
	rev := c.o.Revision()
	prefix := events.HashPrefix(rec.Hash)
	c.record(s, "token.revoke", prefix, "", rev)
	c.redirect(w, r, s, "/ui/fleet?watch="+itoa(int64(rev))+"&token="+prefix, "Token "+prefix+" revoked at revision "+itoa(int64(rev))+".")
}

// fail answers an unexpected error: logged here, generic to the browser.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, s *session, what string, err error) {
	c.log.Error("console request failed", "doing", what, "path", r.URL.Path, "error", err)
	c.renderError(w, r, s, http.StatusInternalServerError, "Something went wrong while "+what+"; the server log has the details.")
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
