package proxy

import (
	"context"
	"slices"

	"github.com/tokenomics-dev/tokenomics/core"
	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/core/rules"
)

// tokenRules is a token's compiled rule set and the phases it covers.
type tokenRules struct {
	set           *rules.RuleSet
	input, output bool
}

// checkRules runs one phase's rules on x.texts into x.verdict and reports
// what they found.
func (s *Server) checkRules(x *exchange, phase rules.Phase, label string) error {
	// The rule host bounds every plugin call itself (CallTimeout, watchdog),
	// so no per-request context timer is needed here.
	err := x.tok.rules.set.Check(context.Background(), phase, x.texts, &x.verdict)
	if err != nil {
		return &core.Error{Status: 500, Type: core.TypeServer, Code: "rule_error",
			Message: "A content rule failed to run (request id " + x.reqID + ").", Err: err}
	}
	var fs findingSet
	fs.add(&x.verdict)
	s.reportFindingSet(x.tok, x.reqID, label, &fs)
	return nil
}

// findingSet gathers rule findings by rule and action, so a stream of
// masked deltas is one event, not one per chunk.
type findingSet struct {
	items []findingItem
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
}

func (fs *findingSet) item(rule, action string) *findingItem {
	for i := range fs.items {
		if fs.items[i].rule == rule && fs.items[i].action == action {
			return &fs.items[i]
		}
	}
	fs.items = append(fs.items, findingItem{rule: rule, action: action})
	return &fs.items[len(fs.items)-1]
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
	info := s.log.IsInfo()
	for _, it := range fs.items {
		s.met.ruleAction(it.action)
		if info {
			s.log.Info("content rule matched", "request_id", reqID, "token", tok.short, "rule", it.rule,
				"action", it.action, "phase", phase, "detectors", it.detectors, "metadata", tok.policy.Metadata)
		}
		if !s.wants(eventForAction(it.action)) {
			continue
		}
		s.emit(eventForAction(it.action), events.RuleData{TokenHashPrefix: events.HashPrefix(tok.hash), RequestID: reqID,
			Rule: it.rule, Action: it.action, Phase: phase, Findings: it.detectors, Metadata: tok.policy.Metadata})
	}
}
