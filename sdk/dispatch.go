package sdk

import (
	"errors"

	"github.com/tokenomics-dev/tokenomics/sdk/abi"
)

// dispatcher holds the guest-side state behind the exports: the configured
// checkers by id and the reused request and result. A guest instance serves
// one call at a time, so it needs no locking.
type dispatcher struct {
	checkers []Checker
	req      Request
	res      Result
	cfgOut   []byte
	manyOut  []byte
}

var disp dispatcher

// configure prepares configuration id from raw.
func (d *dispatcher) configure(id uint32, raw []byte) (out []byte) {
	c := &Config{Raw: raw}
	defer func() {
		if p := recover(); p != nil {
			out = encodeConfigResult(d.cfgOut, c, errors.New("configure panicked: "+panicText(p)))
			d.cfgOut = out
		}
	}()
	var ch Checker
	p, cfg, err := pluginFor(raw)
	if err == nil {
		c.Raw = cfg
		ch, err = p.Configure(c)
		if err == nil && ch == nil {
			err = errors.New("Configure returned a nil Checker")
		}
	}
	if err == nil {
		for int(id) >= len(d.checkers) {
			d.checkers = append(d.checkers, nil)
		}
		d.checkers[id] = ch
	}
	d.cfgOut = encodeConfigResult(d.cfgOut, c, err)
	return d.cfgOut
}

// check runs configuration id on the input; nil means allow with nothing found.
func (d *dispatcher) check(id, phase, flags uint32, in []byte) (out []byte) {
	ok := decodeInput(in, &d.req)
	return d.run(id, phase, flags, ok)
}

// run checks the decoded request (ok false: the input was malformed) with
// configuration id; nil means allow with nothing found.
func (d *dispatcher) run(id, phase, flags uint32, ok bool) (out []byte) {
	res := &d.res
	res.reset()
	defer func() {
		if p := recover(); p != nil {
			res.fail("check panicked: " + panicText(p))
			out = res.encode()
		}
	}()
	switch {
	case int(id) >= len(d.checkers) || d.checkers[id] == nil:
		res.fail("unknown configuration id")
	case !ok:
		res.fail("malformed input")
	default:
		d.req.Phase = Phase(phase)
		d.req.First = flags&1 != 0
		if err := d.checkers[id].Check(&d.req, res); err != nil {
			res.fail(err.Error())
		}
	}
	if res.empty() {
		return nil
	}
	return res.encode()
}

// checkMany runs every configuration of the CheckList list on one input,
// decoded once, and answers a Many layout: one Result per entry, in order.
// A malformed list answers nil, which the host treats as a failed call.
func (d *dispatcher) checkMany(phase uint32, in, list []byte) []byte {
	if len(list) < 4 {
		return nil
	}
	n := int(abi.U32(list, 0))
	if n < 0 || n > (len(list)-4)/abi.CheckListEntrySize {
		return nil
	}
	ok := decodeInput(in, &d.req)
	out := abi.AppendU32(d.manyOut[:0], uint32(n))
	for i := 0; i < n; i++ {
		e := 4 + i*abi.CheckListEntrySize
		r := d.run(abi.U32(list, e), phase, abi.U32(list, e+4), ok)
		out = abi.AppendU32(out, uint32(len(r)))
		out = append(out, r...)
	}
	d.manyOut = out
	return out
}

// panicText describes a recovered panic value without fmt (which the
// built-in module leaves out, see Config.Decode).
func panicText(p any) string {
	switch v := p.(type) {
	case string:
		return v
	case error:
		return v.Error()
	case interface{ String() string }:
		return v.String()
	}
	return "a non-string panic value"
}
