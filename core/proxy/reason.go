package proxy

import "github.com/tokenomics-dev/tokenomics/core/rules"

// blockReason is what a client is told about a block. A rule that failed
// to run (trap, timeout, bad result) blocks with an error text that may
// hold plugin internals; the client gets the rule's name and the request
// id to quote instead, and the log keeps the details.
func blockReason(v *rules.Verdict, reqID string) string {
	for _, f := range v.Findings {
		if f.Action == rules.FindingError && f.Rule == v.Rule {
			return "content rule \"" + v.Rule + "\" could not check this text (request id " + reqID + ")"
		}
	}
	return v.Reason
}
