package proxy

import (
	"context"
	"maps"
	"slices"
	"strconv"

	"github.com/valyala/fasthttp"

	"github.com/tokenomics-dev/tokenomics/core"
)

// serveUsage tells a token holder what it has spent: GET /v1/usage answers
// each budget counter of the calling token (the token's own, key "", and
// each provider entry's) with its limit, settled usage and outstanding
// reservations, and for a token with dollar limits each dollar budget
// counter likewise in micro-dollars ("cost_budgets"). It shows nothing
// about other tokens.
func (s *Server) serveUsage(ctx *fasthttp.RequestCtx) {
	x := acquireExchange(s, 0)
	defer releaseExchange(x)
	x.reqID = s.requestID(ctx)
	if !ctx.IsGet() {
		writeError(ctx, errMethod)
		return
	}
	if err := x.authenticate(ctx); err != nil {
		s.observeRefusal(x, writeError(ctx, err))
		return
	}
	keys := make([]string, 0, len(x.tok.lim.budgets))
	for k := range x.tok.lim.budgets {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := []byte(`{"object":"usage","token_hash_prefix":`)
	out = core.AppendJSONString(out, x.tok.short)
	out = append(out, `,"budgets":[`...)
	for i, k := range keys {
		b := x.tok.lim.budgets[k]
		limit := b[len(b)-1].Limit
		used, reserved, err := s.limiter.Spent(context.Background(), x.tok.hash, k)
		if err != nil {
			writeError(ctx, &core.Error{Status: 503, Type: core.TypeServer, Code: "limits_unavailable", Message: "Usage could not be read.", Err: err})
			return
		}
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"key":`...)
		out = core.AppendJSONString(out, k)
		out = append(out, `,"limit":`...)
		out = strconv.AppendInt(out, limit, 10)
		out = append(out, `,"used":`...)
		out = strconv.AppendInt(out, used, 10)
		out = append(out, `,"reserved":`...)
		out = strconv.AppendInt(out, reserved, 10)
		out = append(out, '}')
	}
	out = append(out, ']')
	if x.tok.cost.any {
		var err error
		if out, err = s.appendCostBudgets(out, x.tok); err != nil {
			writeError(ctx, &core.Error{Status: 503, Type: core.TypeServer, Code: "limits_unavailable", Message: "Usage could not be read.", Err: err})
			return
		}
	}
	out = append(out, '}')
	ctx.SetContentType("application/json")
	ctx.SetBody(out)
}

// appendCostBudgets appends "cost_budgets": each dollar budget counter of
// the token (its own, key "", and each provider entry's), in micro-dollars.
func (s *Server) appendCostBudgets(out []byte, tok *tokenEntry) ([]byte, error) {
	out = append(out, `,"cost_budgets":[`...)
	for i, k := range slices.Sorted(maps.Keys(tok.cost.budgets)) {
		b := tok.cost.budgets[k]
		used, reserved, err := s.limiter.Spent(context.Background(), tok.cost.subject, k)
		if err != nil {
			return out, err
		}
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"key":`...)
		out = core.AppendJSONString(out, k)
		out = append(out, `,"limit_usd_micros":`...)
		out = strconv.AppendInt(out, b[len(b)-1].Limit, 10)
		out = append(out, `,"used_usd_micros":`...)
		out = strconv.AppendInt(out, used, 10)
		out = append(out, `,"reserved_usd_micros":`...)
		out = strconv.AppendInt(out, reserved, 10)
		out = append(out, '}')
	}
	return append(out, ']'), nil
}
