package proxy

import (
	"strconv"

	"github.com/tokenomics-dev/tokenomics/core"
	"github.com/tokenomics-dev/tokenomics/core/limits"
)

// Output caps above these are refused with 400: no model generates them,
// and accepting them would only feed overflow attacks on the reservation.
const (
	maxCapPerChoice = 1 << 24 // tokens
	maxChoices      = 128     // OpenAI's own ceiling for n
)

// checkCaps refuses absurd output caps and choice counts.
func checkCaps(capPer, choices int64) error {
	if capPer > maxCapPerChoice {
		return &core.Error{Status: 400, Type: core.TypeInvalidRequest, Code: "invalid_value", Param: "max_tokens",
			Message: "The output cap " + strconv.FormatInt(capPer, 10) + " is above the largest the gateway accepts (" +
				strconv.Itoa(maxCapPerChoice) + " tokens)."}
	}
	if choices > maxChoices {
		return &core.Error{Status: 400, Type: core.TypeInvalidRequest, Code: "invalid_value", Param: "n",
			Message: "n (or best_of) " + strconv.FormatInt(choices, 10) + " is above the largest the gateway accepts (" +
				strconv.Itoa(maxChoices) + ")."}
	}
	return nil
}

// setReserve fills the reservation of x.limReq. Far from the end of every
// budget and token window the estimate plus the output cap is reserved;
// near the end the limiter grants what is left as long as it covers the
// guaranteed prompt bound and one output token per choice, and grant lowers
// the output cap to fit (see core/limits: Request.Floor and Worst).
func (x *exchange) setReserve() {
	x.limReq.Reserve = limits.SatAdd(x.estimate, x.outCap)
	x.limReq.Worst = limits.SatAdd(x.bound, x.outCap)
	if x.ep == epEmbeddings {
		x.limReq.Floor = x.bound // nothing to clamp
	} else {
		x.limReq.Floor = limits.SatAdd(x.bound, x.choices)
	}
	x.capLimit = 0
	x.limReq.LeaseTTL = x.s.cfg.Session.LeaseTTL.D()
	// Until the first renewal, a lease left behind bills the prompt: what
	// the provider charges for a request that never answered.
	x.limReq.Report = x.estimate
}

// grant takes the lease and, when the limiter granted less than the worst
// case, clamps the output cap per choice to what the grant leaves after the
// prompt bound.
func (x *exchange) grant(l *limits.Lease) {
	x.lease = l
	x.s.flight.hold(l)
	if x.ep == epEmbeddings || !l.Clamped() {
		return
	}
	g := l.Reserved()
	per := (g - x.bound) / x.choices
	if per >= 1 && per < x.capPer {
		x.capLimit = per
	}
}

// sentCap is the output cap per choice the upstream request carries.
func (x *exchange) sentCap() int64 {
	if x.capLimit > 0 {
		return x.capLimit
	}
	return x.capPer
}
