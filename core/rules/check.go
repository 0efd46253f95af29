package rules

import (
	"context"
	"fmt"

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
	for i := range rs.rules {
		r := &rs.rules[i]
		if r.scope&phase == 0 {
			continue
		}
		if err := r.run(ctx, phase, texts, v); err != nil {
			r.failed(err, v)
		}
		if v.Action == Block {
			return nil
		}
	}
	v.finish()
	return nil
}

func (r *rule) run(ctx context.Context, phase Phase, texts []Text, v *Verdict) error {
	if r.mod.h.closed.Load() {
		return ErrClosed
	}
	inst, err := r.mod.pool.get(ctx)
	if err != nil {
		return err
	}
	out, err := inst.check(r.cfg, uint32(phase), r.flags, texts)
	if err == nil && out != nil {
		// out is a view of guest memory: use it before the instance goes back.
		err = r.apply(out, texts, v)
		if err != nil {
			inst.broken = true // a guest that returns garbage is not trusted again
		}
	}
	r.mod.pool.put(inst)
	return err
}

func (r *rule) failed(err error, v *Verdict) {
	v.Findings = append(v.Findings, r.errFinding)
	if r.blockOnError {
		v.block(r.name, fmt.Sprintf("content rule %q failed: %v", r.name, err))
	}
}

// apply turns a guest Result into edits, findings or a block.
func (r *rule) apply(out []byte, texts []Text, v *Verdict) error {
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
		return fmt.Errorf("%w: %s", ErrPluginFailed, msg)
	}
	// Validate every record before acting on any.
	for i := 0; i < count; i++ {
		o := abi.ResultHeaderSize + i*abi.ResultMatchSize
		t, s, e, d := int(abi.U32(out, o)), int(abi.U32(out, o+4)), int(abi.U32(out, o+8)), int(abi.U32(out, o+12))
		if t < 0 || t >= len(texts) || s < 0 || e < s || e > len(texts[t].Data) || d < 0 || d >= len(r.repl) {
			return fmt.Errorf("%w: match %d out of range", ErrPluginFailed, i)
		}
		if ro, rl := abi.U32(out, o+16), abi.U32(out, o+20); ro != abi.NoReplacement && (int(ro) > len(out) || int(rl) > len(out)-int(ro)) {
			return fmt.Errorf("%w: replacement %d out of range", ErrPluginFailed, i)
		}
	}
	for i := 0; i < count; i++ {
		o := abi.ResultHeaderSize + i*abi.ResultMatchSize
		t, s, e, d := int(abi.U32(out, o)), int(abi.U32(out, o+4)), int(abi.U32(out, o+8)), int(abi.U32(out, o+12))
		v.Findings = append(v.Findings, Finding{Rule: r.name, Detector: r.cfg.detectors[d], Action: r.action, Text: t, Start: s, End: e})
		switch r.action {
		case FindingFail:
			if v.Action != Block {
				v.block(r.name, r.reasons[d])
			}
		case FindingMask:
			repl := r.repl[d]
			if ro, rl := abi.U32(out, o+16), abi.U32(out, o+20); ro != abi.NoReplacement {
				start := len(v.arena)
				v.arena = append(v.arena, out[ro:ro+rl]...)
				repl = v.arena[start:len(v.arena):len(v.arena)]
			}
			v.Edits = append(v.Edits, Edit{Text: t, Start: s, End: e, Replacement: repl})
		}
	}
	if flags&abi.ResultBlock != 0 {
		// A plugin's own decision has no span; warn and log rules record it.
		v.Findings = append(v.Findings, Finding{Rule: r.name, Detector: "block", Action: r.action, Text: -1})
		if r.action == FindingFail || r.action == FindingMask {
			v.block(r.name, fmt.Sprintf("content rule %q: %s", r.name, msg))
		}
	}
	return nil
}
