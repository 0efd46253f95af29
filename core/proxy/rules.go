package proxy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/tokenomics-dev/tokenomics/core"
	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/core/metrics"
	"github.com/tokenomics-dev/tokenomics/core/rules"
	"github.com/tokenomics-dev/tokenomics/core/tracing"
)

// tokenRules is a compiled rule set, the phases it covers and whether its
// plugins have finished loading. Tokens (and route variants) with equal
// rules share one (see ruleSets).
type tokenRules struct {
	set           *rules.RuleSet
	input, output bool
	// settled is set, and done closed, once every rule's plugin has an
	// outcome: loaded and configured, or failed (then on_error decides at
	// check time, as for any rule that cannot run).
	settled atomic.Bool
	done    chan struct{}
	// err: the rules did not compile (found at start, see ruleSets.start);
	// the tokens are refused. set is nil then.
	err error
}

// checkRules runs one phase's rules on x.texts into x.verdict and reports
// what they found.
func (s *Server) checkRules(x *exchange, phase rules.Phase, label string) error {
	// The rule host bounds every plugin call itself (CallTimeout, watchdog),
	// so no per-request context timer is needed here.
	sp := x.stage(rulesStage(label))
	err := x.tok.rules.set.Check(x.rulesContext(sp, label), phase, x.texts, &x.verdict)
	tracing.Done(sp, err)
	if err != nil {
		return &core.Error{Status: 500, Type: core.TypeServer, Code: "rule_error",
			Message: "A content rule failed to run (request id " + x.reqID + ").", Err: err}
	}
	fs := &x.findings
	fs.reset()
	fs.add(&x.verdict)
	s.reportFindingSet(x.tok, x.reqID, label, fs)
	// A rule that could not run reaches the client through blockReason:
	// its name and the request id, never the cause.
	return nil
}

// rulesStage names a rules span without building the string per request.
func rulesStage(label string) string {
	switch label {
	case "request":
		return "rules request"
	case "response":
		return "rules response"
	case "error":
		return "rules error"
	}
	return "rules " + label
}

// findingSet gathers rule findings by rule and action, so a stream of
// masked deltas is one event, not one per chunk. An exchange keeps one
// across requests (reset reuses its slices): what leaves the request, an
// event's detector list, is copied.
type findingSet struct {
	items  []findingItem
	errors []rules.RuleError
}

type findingItem struct {
	rule, action string
	detectors    []string
}

func (fs *findingSet) add(v *rules.Verdict) {
	for _, f := range v.Findings {
		it := fs.item(f.Rule, f.Action)
		if f.Detector != "" && !slices.Contains(it.detectors, f.Detector) {
			it.detectors = append(it.detectors, f.Detector)
		}
	}
	if v.Action == rules.Block && v.Rule != "" {
		fs.item(v.Rule, "block")
	}
	fs.errors = append(fs.errors, v.Errors...)
}

func (fs *findingSet) item(rule, action string) *findingItem {
	for i := range fs.items {
		if fs.items[i].rule == rule && fs.items[i].action == action {
			return &fs.items[i]
		}
	}
	if n := len(fs.items); n < cap(fs.items) {
		fs.items = fs.items[:n+1] // an earlier request's item: keep its detectors' array
		it := &fs.items[n]
		it.rule, it.action, it.detectors = rule, action, it.detectors[:0]
		return it
	}
	fs.items = append(fs.items, findingItem{rule: rule, action: action})
	return &fs.items[len(fs.items)-1]
}

// reset empties the set, keeping its arrays for the next request.
func (fs *findingSet) reset() {
	fs.items = fs.items[:0]
	clear(fs.errors) // no error is kept alive past its request
	fs.errors = fs.errors[:0]
}

// eventForAction maps a finding's action to its event type.
func eventForAction(action string) string {
	switch action {
	case rules.FindingMask:
		return events.RuleMasked
	case rules.FindingWarn:
		return events.RuleWarning
	case rules.FindingLog:
		return events.RuleLogged
	}
	return events.RuleViolation // fail, block, error
}

// reportFindingSet logs and emits one event per rule and action. Events
// name rules and detectors, never the matched text.
func (s *Server) reportFindingSet(tok *tokenEntry, reqID, phase string, fs *findingSet) {
	for i := range fs.errors {
		s.reportRuleError(tok, reqID, phase, &fs.errors[i])
	}
	info := s.log.IsInfo()
	for _, it := range fs.items {
		s.met.ruleAction(it.action)
		if info {
			s.log.Info("content rule matched", "request_id", reqID, "token", tok.short, "rule", it.rule,
				"action", it.action, "phase", phase, "detectors", slices.Clone(it.detectors), "metadata", tok.policy.Metadata)
		}
		if !s.wants(eventForAction(it.action)) {
			continue
		}
		// The event outlives the set, whose arrays the next request reuses.
		s.emit(eventForAction(it.action), events.RuleData{TokenHashPrefix: events.HashPrefix(tok.hash), RequestID: reqID,
			Rule: it.rule, Action: it.action, Phase: phase, Findings: slices.Clone(it.detectors), Metadata: tok.policy.Metadata})
	}
}

// reportRuleError tells the operator why a rule could not run: a WARN line
// and a rule.error event with the plugin, its version and the cause. The
// per-rule metrics come from the rule host's observer (ruleMetrics).
func (s *Server) reportRuleError(tok *tokenEntry, reqID, phase string, e *rules.RuleError) {
	outcome := "allowed (on_error: allow)"
	if e.Blocked {
		outcome = "blocked"
	}
	cause := rules.Cause(e.Err)
	s.log.Warn("content rule could not run", "request_id", reqID, "token", tok.short, "rule", e.Rule,
		"plugin", e.Plugin, "version", shortHash(e.Version), "phase", phase, "outcome", outcome, "cause", cause)
	if !s.wants(events.RuleError) {
		return
	}
	s.emit(events.RuleError, events.RuleErrorData{TokenHashPrefix: events.HashPrefix(tok.hash), RequestID: reqID,
		Rule: e.Rule, Plugin: e.Plugin, Version: e.Version, Phase: phase, Blocked: e.Blocked, Cause: cause})
}

// ruleMetrics exports the rule host's per-rule figures, labelled by plugin
// and rule: failures, call latency and waits for a free instance.
type ruleMetrics struct {
	errors   *metrics.CounterVec
	latency  *metrics.HistogramVec
	waits    *metrics.CounterVec
	waitTime *metrics.HistogramVec
}

// ruleBuckets cover plugin calls: tens of microseconds to a timeout.
var ruleBuckets = []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}

func newRuleMetrics(r *metrics.Registry) *ruleMetrics {
	return &ruleMetrics{
		errors:   r.NewCounter("tokenomics_rule_errors_total", "Content rule checks whose plugin failed (trap, timeout, bad result, not loaded).", "plugin", "rule"),
		latency:  r.NewHistogram("tokenomics_rule_call_seconds", "Content rule check time, waiting for an instance included.", ruleBuckets, "plugin", "rule"),
		waits:    r.NewCounter("tokenomics_rule_pool_waits_total", "Checks that found no idle plugin instance and waited.", "plugin", "rule"),
		waitTime: r.NewHistogram("tokenomics_rule_pool_wait_seconds", "Time checks waited for a plugin instance.", ruleBuckets, "plugin", "rule"),
	}
}

// Rule implements rules.Observer; the series are resolved once per rule.
func (m *ruleMetrics) Rule(plugin, _, rule string) rules.RuleObserver {
	return &ruleSeries{errors: m.errors.With(plugin, rule), latency: m.latency.With(plugin, rule),
		waits: m.waits.With(plugin, rule), waitTime: m.waitTime.With(plugin, rule)}
}

type ruleSeries struct {
	errors, waits     *metrics.Counter
	latency, waitTime *metrics.Histogram
}

func (s *ruleSeries) Call(d time.Duration, failed bool) {
	s.latency.Observe(d.Seconds())
	if failed {
		s.errors.Inc()
	}
}

func (s *ruleSeries) PoolWait(d time.Duration) {
	s.waits.Inc()
	s.waitTime.Observe(d.Seconds())
}

// pluginProblems lists the plugins that failed to load, for /ready.
func (s *Server) pluginProblems() []byte {
	if s.rulesHost == nil {
		return nil
	}
	type problem struct {
		Name   string `json:"name"`
		SHA256 string `json:"sha256"`
		Error  string `json:"error"`
	}
	var out []problem
	for _, st := range s.rulesHost.Plugins() {
		if !st.Ready && st.Error != "" {
			out = append(out, problem{Name: st.Name, SHA256: st.SHA256, Error: st.Error})
		}
	}
	if len(out) == 0 {
		return nil
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil
	}
	return b
}

// maskedFits holds a rewritten request body to server.max_body_bytes: the
// rules' replacements count as the rule's failure when they would make the
// body larger than the proxy accepts from a client.
func (s *Server) maskedFits(x *exchange, masked []byte) error {
	limit := s.cfg.Server.MaxBodyBytes
	if limit <= 0 || int64(len(masked)) <= limit {
		return nil
	}
	rule := x.verdict.Rule
	for _, f := range x.verdict.Findings {
		if f.Action == rules.FindingMask {
			rule = f.Rule
			break
		}
	}
	x.verdict.Errors = append(x.verdict.Errors[:0], rules.RuleError{Rule: rule, Blocked: true,
		Err: fmt.Errorf("the masked body of %d bytes exceeds server.max_body_bytes (%d)", len(masked), limit)})
	var fs findingSet
	fs.errors = x.verdict.Errors
	s.reportFindingSet(x.tok, x.reqID, "request", &fs)
	return &core.Error{Status: 403, Type: core.TypePermission, Code: "content_policy_violation",
		Message: "Request blocked: content rule " + strconv.Quote(rule) + " could not check this text (request id " + x.reqID + ")"}
}
