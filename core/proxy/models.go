package proxy

import (
	"github.com/valyala/fasthttp"

	"github.com/tokenomics-dev/tokenomics/core"
)

// serveModels lists the models this token may use: those of the configured
// providers' model lists that its policy resolves. It authenticates like
// every other endpoint.
func (s *Server) serveModels(ctx *fasthttp.RequestCtx) {
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
	anthropicShape := len(ctx.Request.Header.Peek("Anthropic-Version")) > 0
	out := make([]byte, 0, 1024)
	if anthropicShape {
		out = append(out, `{"data":[`...)
	} else {
		out = append(out, `{"object":"list","data":[`...)
	}
	seen := map[string]bool{}
	var first, last string
	for _, p := range s.order {
		for _, m := range p.cfg.Models {
			if seen[m] {
				continue
			}
			seen[m] = true
			if _, rp, _, err := s.resolve(x.tok, m); err != nil || rp == nil {
				continue
			}
			if first == "" {
				first = m
			} else {
				out = append(out, ',')
			}
			last = m
			if anthropicShape {
				out = append(out, `{"type":"model","id":`...)
				out = core.AppendJSONString(out, m)
				out = append(out, `,"display_name":`...)
				out = core.AppendJSONString(out, m)
				out = append(out, `,"created_at":"1970-01-01T00:00:00Z"}`...)
			} else {
				out = append(out, `{"id":`...)
				out = core.AppendJSONString(out, m)
				out = append(out, `,"object":"model","created":0,"owned_by":`...)
				out = core.AppendJSONString(out, p.name)
				out = append(out, '}')
			}
		}
	}
	if anthropicShape {
		out = append(out, `],"has_more":false,"first_id":`...)
		out = core.AppendJSONString(out, first)
		out = append(out, `,"last_id":`...)
		out = core.AppendJSONString(out, last)
		out = append(out, '}')
	} else {
		out = append(out, "]}"...)
	}
	ctx.SetContentType("application/json")
	ctx.SetBody(out)
}
