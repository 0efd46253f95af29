// Package console is the operators' web console that `tokenomics remote`
// serves under /ui/: tokens, fleet, plugins, usage, events and the audit
// log, as server-rendered HTML (html/template) with a little optional
// JavaScript (live policy validation). Everything it serves is embedded
// in the binary; it loads nothing from another origin.
//
// # Where the data comes from
//
// Tokens are read and changed through the same tokenapi.Manager the REST
// API uses, and policies are checked by the same validator, so the
// console's field-path errors are the CLI's. Plugins and the fleet view
// go through the REST API in-process (an http.Handler, no socket), which
// keeps signature checks, the module check and pushes in one place.
// Spend and the usage charts come from central's store of the usage
// rollups proxies send (rollup.Store, read in-process); refusals and the
// events feed from central's event inbox (GET /api/v1/events). A server
// that keeps neither (PostgreSQL storage, for now) gets pages that say so.
//
// # Security
//
// Sign-in takes the console key (console.key_env) or else the central API
// key, compared in constant time; sign-ins are throttled per source
// address (an IPv6 one by its /64), counted in the central database
// (SigninStore): a try is taken atomically before the key is compared and
// given back when it was right, so every replica sees every failure. A session is a random id in a cookie (HttpOnly,
// SameSite=Strict, Secure when the request came over TLS, Path=/ui/),
// held in memory and ended after console.idle_timeout without use or
// console.max_session after sign-in. Status messages after a change are
// kept in the session, never read from the URL. Every
// POST carries the session's CSRF token in a form field (or the
// X-CSRF-Token header for the validation call), compared in constant
// time; the sign-in form has its own double-submit token. Responses set a
// Content-Security-Policy without inline script or style, X-Frame-Options
// DENY, nosniff and a same-origin referrer policy. The key is never rendered, and a new
// token is shown exactly once, on a page that is not cached.
//
// Every change made in the console is appended to an audit log in the
// central database (bucket console_audit) with who (the name given at
// sign-in and the source address), what and the revision it produced, and
// is emitted as a console.audit event through the central server's events
// dispatcher.
package console
