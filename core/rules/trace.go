package rules

import (
	"context"
	"time"
)

// CallTracer receives every rule call of a check whose context carries it
// (WithCallTracer), so a request's trace can show one span per rule. The
// proxy sets it only on traced requests: without it a check pays one
// context lookup per rule.
type CallTracer interface {
	RuleCall(plugin, rule string, start time.Time, d time.Duration, err error)
}

type callTracerKey struct{}

// WithCallTracer returns ctx carrying t.
func WithCallTracer(ctx context.Context, t CallTracer) context.Context {
	return context.WithValue(ctx, callTracerKey{}, t)
}

func traceCall(ctx context.Context, r *rule, start time.Time, err error) {
	if t, ok := ctx.Value(callTracerKey{}).(CallTracer); ok {
		t.RuleCall(r.plugin, r.name, start, time.Since(start), err)
	}
}
