package console

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/tokenomics-dev/tokenomics/central/clientaddr"
)

const (
	sessionCookie = "tokenomics_console"
	// signinCookie carries the sign-in form's double-submit token, so a
	// forged cross-site sign-in (login CSRF) fails too.
	signinCookie = "tokenomics_console_signin"
	// maxSessions bounds memory; the oldest session goes first.
	maxSessions = 1000
	// Failed sign-ins per source: signinBurst (Options.SigninAttempts),
	// then one per signinRefill.
	signinBurst  = 5
	signinRefill = 10 * time.Second
)

type session struct {
	id      string
	csrf    string
	who     string // "name (address)", for the audit log
	created time.Time
	last    time.Time
	// flash is the one-shot status message the next page of this session
	// shows; it never comes from the URL, so a crafted link cannot put
	// words in the console's mouth.
	flash string
}

// sessions are held in memory: a restart signs everyone out, which is the
// safe direction.
type sessions struct {
	idle time.Duration
	// max ends a session this long after sign-in however busy it is, so a
	// stolen cookie or a console left open does not stay signed in forever.
	max time.Duration
	now func() time.Time

	// store, when set, keeps the sessions (SessionStore); byID is then
	// unused, so every replica and a restarted server see the same ones.
	store SessionStore
	// signins, when set, keeps the failed sign-in allowances
	// (SigninStore); failures is then unused.
	signins SigninStore
	// burst is the failed sign-ins a source may make before it is locked
	// out (signinBurst unless Options.SigninAttempts says).
	burst float64
	log   hclog.Logger

	mu       sync.Mutex
	byID     map[string]*session
	failures map[string]*bucket
}

type bucket struct {
	tokens  float64
	updated time.Time
}

func newSessions(idle, max time.Duration, now func() time.Time, store SessionStore, log hclog.Logger) *sessions {
	return &sessions{idle: idle, max: max, now: now, store: store, log: log, burst: signinBurst,
		byID: map[string]*session{}, failures: map[string]*bucket{}}
}

func randomID() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (ss *sessions) create(who string) (*session, error) {
	now := ss.now()
	s := &session{id: randomID(), csrf: randomID(), who: who, created: now, last: now}
	if ss.store != nil {
		if err := ss.save(s); err != nil {
			return nil, err
		}
		return s, nil
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.byID) >= maxSessions {
		var oldest *session
		for _, x := range ss.byID {
			if oldest == nil || x.last.Before(oldest.last) {
				oldest = x
			}
		}
		delete(ss.byID, oldest.id)
	}
	ss.byID[s.id] = s
	return s, nil
}

// get returns the live session with id and marks it used; an idle one, or
// one older than the absolute lifetime, is ended.
func (ss *sessions) get(id string) *session {
	now := ss.now()
	if ss.store != nil {
		return ss.getStored(id, now)
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.byID[id]
	if s == nil {
		return nil
	}
	if now.Sub(s.last) > ss.idle || now.Sub(s.created) >= ss.max {
		delete(ss.byID, id)
		return nil
	}
	s.last = now
	return s
}

// getStored is get on a SessionStore. A store that cannot answer signs
// nobody in: the console fails closed.
func (ss *sessions) getStored(id string, now time.Time) *session {
	s, err := ss.load(id)
	if err != nil {
		ss.log.Error("reading a console session", "error", err)
		return nil
	}
	if s == nil {
		return nil
	}
	if now.Sub(s.last) > ss.idle || now.Sub(s.created) >= ss.max {
		if err := ss.delete(id); err != nil {
			ss.log.Warn("ending an expired console session", "error", err)
		}
		return nil
	}
	if now.Sub(s.last) >= touchEvery {
		s.last = now
		if err := ss.save(s); err != nil {
			ss.log.Warn("recording a console session's use", "error", err)
		}
	}
	return s
}

// setFlash leaves msg for the next page s renders.
func (ss *sessions) setFlash(s *session, msg string) {
	ss.mu.Lock()
	s.flash = msg
	ss.mu.Unlock()
	if ss.store != nil {
		if err := ss.save(s); err != nil {
			ss.log.Warn("storing a console status message", "error", err)
		}
	}
}

// takeFlash returns and clears s's pending status message.
func (ss *sessions) takeFlash(s *session) string {
	ss.mu.Lock()
	msg := s.flash
	s.flash = ""
	ss.mu.Unlock()
	if ss.store != nil && msg != "" {
		if err := ss.save(s); err != nil {
			ss.log.Warn("clearing a console status message", "error", err)
		}
	}
	return msg
}

func (ss *sessions) end(id string) {
	if ss.store != nil {
		if err := ss.delete(id); err != nil {
			ss.log.Error("ending a console session", "error", err)
		}
		return
	}
	ss.mu.Lock()
	delete(ss.byID, id)
	ss.mu.Unlock()
}

// takeSignin takes one try from src's allowance (by signinSource) before
// its key is compared, atomically across replicas; ok is false when none
// is left. A SigninStore that cannot answer lets nobody try (err set): the
// console fails closed.
func (ss *sessions) takeSignin(src string) (bool, error) {
	if ss.signins != nil {
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		defer cancel()
		return ss.signins.Take(ctx, signinKey(src), ss.now(), ss.burst, signinRefill)
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	b := ss.refill(signinSource(src))
	if b.tokens < 1 {
		return false, nil
	}
	b.tokens--
	return true, nil
}

// giveSignin returns the try takeSignin took: src's key was right.
func (ss *sessions) giveSignin(src string) error {
	if ss.signins != nil {
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		defer cancel()
		return ss.signins.Give(ctx, signinKey(src), ss.now(), ss.burst, signinRefill)
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	b := ss.refill(signinSource(src))
	b.tokens = min(ss.burst, b.tokens+1)
	return nil
}

func (ss *sessions) refill(src string) *bucket {
	now := ss.now()
	b := ss.failures[src]
	if b == nil {
		if len(ss.failures) > 10000 {
			clear(ss.failures)
		}
		b = &bucket{tokens: ss.burst, updated: now}
		ss.failures[src] = b
	}
	b.tokens = min(ss.burst, b.tokens+now.Sub(b.updated).Seconds()/signinRefill.Seconds())
	b.updated = now
	return b
}

// authed wraps h: no live session redirects to the sign-in page (GET) or
// answers 401/403; a POST must carry the session's CSRF token.
func (c *Console) authed(h func(http.ResponseWriter, *http.Request, *session)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var s *session
		if ck, err := r.Cookie(sessionCookie); err == nil {
			s = c.sessions.get(ck.Value)
		}
		if s == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/ui/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			c.renderError(w, r, nil, http.StatusUnauthorized, "Your session has ended. Sign in again.")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			limit := int64(2 << 20)
			if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
				limit = maxUpload + 1<<20
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			if !sameOrigin(r) || !c.csrfOK(r, s) {
				c.log.Warn("console request refused: missing or wrong CSRF token", "source", c.sourceAddr(r), "path", r.URL.Path)
				c.renderError(w, r, s, http.StatusForbidden, "This form has expired or did not come from the console. Reload the page and try again.")
				return
			}
		}
		h(w, r, s)
	})
}

// csrfOK compares the request's token with the session's. Multipart forms
// are parsed here (bounded) so the token can come from a file upload form.
func (c *Console) csrfOK(r *http.Request, s *session) bool {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
			if err := r.ParseMultipartForm(maxUpload); err != nil {
				return false
			}
		}
		got = r.PostFormValue("csrf")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.csrf)) == 1
}

// sameOrigin refuses a change whose Origin header (sent by browsers on
// every POST) names another site. A missing header passes: the CSRF token
// still has to match.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, name, value, path string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: true, Secure: r.TLS != nil || c.o.SecureCookies, SameSite: http.SameSiteStrictMode})
}

type signinData struct {
	Next  string
	Token string
	Name  string
}

func (c *Console) signinPage(w http.ResponseWriter, r *http.Request) {
	tok := randomID()
	c.setCookie(w, r, signinCookie, tok, "/ui/signin", 600)
	c.render(w, r, nil, http.StatusOK, "signin", page{Title: "Sign in", Data: signinData{Next: safeNext(r.URL.Query().Get("next")), Token: tok}})
}

func (c *Console) signin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	src := c.sourceAddr(r)
	next := safeNext(r.PostFormValue("next"))
	name := strings.TrimSpace(r.PostFormValue("name"))
	again := func(status int, msg string) {
		tok := randomID()
		c.setCookie(w, r, signinCookie, tok, "/ui/signin", 600)
		c.render(w, r, nil, status, "signin", page{Title: "Sign in", Error: msg, Data: signinData{Next: next, Token: tok, Name: name}})
	}
	ck, err := r.Cookie(signinCookie)
	form := r.PostFormValue("signin_token")
	if err != nil || form == "" || !sameOrigin(r) || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(form)) != 1 {
		again(http.StatusForbidden, "The sign-in form expired. Try again.")
		return
	}
	key := r.PostFormValue("key")
	// The try is taken before the key is compared, so guesses sent at
	// once (to any replica) cannot all pass before a failure is counted.
	ok, err := c.sessions.takeSignin(src)
	if err != nil {
		c.log.Error("taking a console sign-in try", "error", err)
		again(http.StatusServiceUnavailable, "The console could not check sign-in attempts. Try again shortly.")
		return
	}
	if !ok {
		again(http.StatusTooManyRequests, "Too many failed sign-ins from this address. Wait a minute and try again.")
		return
	}
	right := subtle.ConstantTimeCompare([]byte(key), []byte(c.o.Key)) == 1
	if right {
		if err := c.sessions.giveSignin(src); err != nil {
			c.log.Error("giving back a console sign-in try", "error", err)
		}
	}
	if !right {
		c.log.Warn("console sign-in failed", "source", src, "peer", clientaddr.Peer(r))
		again(http.StatusUnauthorized, "That key is not right.")
		return
	}
	if name == "" {
		name = "operator"
	}
	if len(name) > 64 {
		name = name[:64]
	}
	s, err := c.sessions.create(name + " (" + src + ")")
	if err != nil {
		c.log.Error("storing a console session", "error", err)
		again(http.StatusServiceUnavailable, "The console could not start a session. Try again shortly.")
		return
	}
	c.setCookie(w, r, signinCookie, "", "/ui/signin", -1)
	c.setCookie(w, r, sessionCookie, s.id, "/ui/", 0)
	c.log.Info("console sign-in", "who", s.who)
	c.record(s, "signin", "", "", 0)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *Console) signout(w http.ResponseWriter, r *http.Request, s *session) {
	c.sessions.end(s.id)
	c.setCookie(w, r, sessionCookie, "", "/ui/", -1)
	http.Redirect(w, r, "/ui/signin", http.StatusSeeOther)
}

// safeNext keeps redirects after sign-in inside the console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/ui/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/ui/tokens"
	}
	return next
}

// sourceAddr is the client the sign-in allowance and the audit log count:
// the TCP peer, or, behind a trusted proxy (Options.ClientAddr), the client
// it forwards for. Never "".
func (c *Console) sourceAddr(r *http.Request) string {
	return c.o.ClientAddr.Client(r)
}
