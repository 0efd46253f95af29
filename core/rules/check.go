package rules

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tokenomics-dev/tokenomics/sdk/abi"
)

// Check runs the rules whose scope covers phase over texts and leaves the
// outcome in v (reset first). The first blocking rule wins and stops the
// check; masks of several rules are merged; warn and log rules add findings.
// A failing plugin (trap, timeout, bad result) is decided by the rule's
// on_error: block, or allow with a Finding whose Action is "error".
//
// Check returns an error only when ctx is already done; rule failures are
// verdicts. Texts are not retained.
func (rs *RuleSet) Check(ctx context.Context, phase Phase, texts []Text, v *Verdict) error {
	v.Reset()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("checking rules: %w", err)
	}
	texts = v.normalized(texts) // rules read the detection view
	defer v.mapBack()
	budget := -1 // replacement bytes this check may add; computed on first use
	var batch [maxBatch]*rule
	for i := 0; i < len(rs.rules); {
		r := &rs.rules[i]
		i++
		if r.scope&phase == 0 {
			continue
		}
		// The rules of this phase right after r that the same built-in
		// module serves go with it: one guest call for all of them.
		b := append(batch[:0], r)
		for r.mod.trusted && !rs.oneByOne && i < len(rs.rules) && len(b) < maxBatch {
			n := &rs.rules[i]
			if n.scope&phase != 0 {
				if n.mod != r.mod {
					break
				}
				b = append(b, n)
			}
			i++
		}
		done := 0
		if len(b) > 1 {
			var blocked bool
			if done, blocked = runMany(ctx, phase, texts, v, &budget, b); blocked {
				return nil
			}
		}
		for _, r := range b[done:] {
			if err := r.run(ctx, phase, texts, v, &budget); err != nil {
				r.failed(err, v)
			}
			if v.Action == Block {
				return nil
			}
		}
	}
	v.finish()
	return nil
}

// maxBatch bounds the rules of one guest call (the batch lives on the stack).
const maxBatch = 8

// runMany runs rules b (consecutive, one trusted module) in one guest call
// and applies their results in order. It returns how many rules it decided
// (the caller runs the rest one by one) and whether one blocked. A call
// that fails or answers garbage decides none, or none after the rule whose
// result was bad: each rule then runs alone on a fresh instance, so one
// failing rule never takes its neighbours' verdicts with it.
func runMany(ctx context.Context, phase Phase, texts []Text, v *Verdict, budget *int, b []*rule) (done int, blocked bool) {
	m := b[0].mod
	if m.h.closed.Load() {
		return 0, false
	}
	start := time.Now()
	inst, err := m.pool.get(ctx, b[0].obs)
	if err != nil {
		for k, r := range b {
			r.obs.Call(time.Since(start), true)
			traceCall(ctx, r, start, err)
			r.failed(err, v)
			if v.Action == Block {
				return k + 1, true
			}
		}
		return len(b), false
	}
	defer m.pool.put(inst)
	if inst.checkManyFn == nil {
		return 0, false
	}
	for _, r := range b {
		if m.prepareOn(inst, r.cfg) != nil {
			return 0, false
		}
	}
	outs, err := inst.checkMany(b, uint32(phase), texts)
	if err != nil {
		return 0, false
	}
	// Every rule of the call took its time: one clock read for all.
	took := time.Since(start)
	// outs are views of guest memory: used before the instance goes back.
	for k, r := range b {
		var err error
		if outs[k] != nil {
			err = r.apply(outs[k], texts, v, budget)
		}
		r.obs.Call(took, err != nil)
		traceCall(ctx, r, start, err)
		if err != nil {
			inst.broken = true // a guest that returns garbage is not trusted again
			r.failed(err, v)
			return k + 1, v.Action == Block
		}
		if v.Action == Block {
			return k + 1, true
		}
	}
	return len(b), false
}

// growthBudget bounds the bytes one check's replacements may add beyond the
// spans they replace: 32 per input byte plus 4 KiB, so a keyword of one
// character can still be masked everywhere while a lying plugin cannot
// turn a short request into a large body (the proxy also holds the
// rewritten body to server.max_body_bytes).
func growthBudget(texts []Text) int {
	n := 0
	for i := range texts {
		n += len(texts[i].Data)
	}
	return 32*n + 4096
}

func (r *rule) run(ctx context.Context, phase Phase, texts []Text, v *Verdict, budget *int) error {
	if r.mod.h.closed.Load() {
		return ErrClosed
	}
	start := time.Now()
	inst, err := r.mod.pool.get(ctx, r.obs)
	if err != nil {
		r.obs.Call(time.Since(start), true)
		traceCall(ctx, r, start, err)
		return err
	}
	err = r.mod.prepareOn(inst, r.cfg)
	var out []byte
	if err == nil {
		out, err = inst.check(r.cfg, uint32(phase), r.flags, texts)
	}
	if err == nil && out != nil {
		// out is a view of guest memory: use it before the instance goes back.
		err = r.apply(out, texts, v, budget)
		if err != nil {
			inst.broken = true // a guest that returns garbage is not trusted again
		}
	}
	r.mod.pool.put(inst)
	r.obs.Call(time.Since(start), err != nil)
	traceCall(ctx, r, start, err)
	return err
}

// failed records a rule that could not run. The client sees only a generic
// reason; the cause goes to v.Errors for the operator. A configuration the
// plugin refused blocks whatever on_error says: the rule never ran.
func (r *rule) failed(err error, v *Verdict) {
	v.Findings = append(v.Findings, r.errFinding)
	block := r.blockOnError || errors.Is(err, ErrBadRule)
	v.Errors = append(v.Errors, RuleError{Rule: r.name, Plugin: r.plugin, Version: r.mod.sha, Blocked: block, Err: err})
	if block {
		v.block(r.name, r.failReason)
		v.Failed = true
	}
}

// apply turns a guest Result into edits, findings or a block. Any result
// that breaks the ABI or a host cap is a plugin error.
func (r *rule) apply(out []byte, texts []Text, v *Verdict, budget *int) error {
	if len(out) < abi.ResultHeaderSize {
		return fmt.Errorf("%w: short result", ErrPluginFailed)
	}
	flags, count := abi.U32(out, 0), int(abi.U32(out, 4))
	msgOff, msgLen := int(abi.U32(out, 8)), int(abi.U32(out, 12))
	if count < 0 || count > (len(out)-abi.ResultHeaderSize)/abi.ResultMatchSize ||
		msgOff < 0 || msgLen < 0 || msgOff > len(out) || msgLen > len(out)-msgOff {
		return fmt.Errorf("%w: malformed result", ErrPluginFailed)
	}
	msg := out[msgOff : msgOff+msgLen]
	if flags&abi.ResultError != 0 {
		return fmt.Errorf("%w: the plugin reported: %s", ErrPluginFailed, clip(msg, r.mod.h.cfg.MaxReasonBytes))
	}
	if flags&abi.ResultBlock != 0 && len(msg) > r.mod.h.cfg.MaxReasonBytes {
		return fmt.Errorf("%w: block reason of %d bytes (cap %d)", ErrPluginFailed, len(msg), r.mod.h.cfg.MaxReasonBytes)
	}
	detectors, repl := r.cfg.detectors, r.cfg.repl
	// Validate every record before acting on any.
	grow := 0
	for i := 0; i < count; i++ {
		o := abi.ResultHeaderSize + i*abi.ResultMatchSize
		t, s, e, d := int(abi.U32(out, o)), int(abi.U32(out, o+4)), int(abi.U32(out, o+8)), int(abi.U32(out, o+12))
		if t < 0 || t >= len(texts) || s < 0 || e < s || e > len(texts[t].Data) || d < 0 || d >= len(repl) {
			return fmt.Errorf("%w: match %d out of range", ErrPluginFailed, i)
		}
		rl := len(repl[d])
		if ro, n := abi.U32(out, o+16), abi.U32(out, o+20); ro != abi.NoReplacement {
			if int(ro) > len(out) || int(n) > len(out)-int(ro) {
				return fmt.Errorf("%w: replacement %d out of range", ErrPluginFailed, i)
			}
			if int(n) > r.mod.h.cfg.MaxReplacementBytes {
				return fmt.Errorf("%w: replacement %d of %d bytes (cap %d)", ErrPluginFailed, i, n, r.mod.h.cfg.MaxReplacementBytes)
			}
			rl = int(n)
		}
		if r.action == FindingMask {
			grow += rl
		}
	}
	if grow > 0 {
		if *budget < 0 {
			*budget = growthBudget(texts)
		}
		if grow > *budget {
			return fmt.Errorf("%w: replacements of %d bytes exceed the check's cap of %d", ErrPluginFailed, grow, *budget)
		}
		*budget -= grow
	}
	for i := 0; i < count; i++ {
		o := abi.ResultHeaderSize + i*abi.ResultMatchSize
		t, s, e, d := int(abi.U32(out, o)), int(abi.U32(out, o+4)), int(abi.U32(out, o+8)), int(abi.U32(out, o+12))
		v.Findings = append(v.Findings, Finding{Rule: r.name, Detector: detectors[d], Action: r.action, Text: t, Start: s, End: e})
		switch r.action {
		case FindingFail:
			if v.Action != Block {
				v.block(r.name, fmt.Sprintf("content rule %q matched %s", r.name, detectors[d]))
			}
		case FindingMask:
			rp := repl[d]
			if ro, rl := abi.U32(out, o+16), abi.U32(out, o+20); ro != abi.NoReplacement {
				start := len(v.arena)
				v.arena = append(v.arena, out[ro:ro+rl]...)
				rp = v.arena[start:len(v.arena):len(v.arena)]
			}
			v.Edits = append(v.Edits, Edit{Text: t, Start: s, End: e, Replacement: rp})
		}
	}
	if flags&abi.ResultBlock != 0 {
		// A plugin's own decision has no span; warn and log rules record it.
		v.Findings = append(v.Findings, Finding{Rule: r.name, Detector: "block", Action: r.action, Text: -1})
		if r.action == FindingFail || r.action == FindingMask {
			v.block(r.name, fmt.Sprintf("content rule %q: %s", r.name, sanitize(msg)))
		}
	}
	return nil
}
