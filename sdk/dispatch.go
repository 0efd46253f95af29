package sdk

import "errors"

// dispatcher holds the guest-side state behind the exports: the configured
// checkers by id and the reused request and result. A guest instance serves
// one call at a time, so it needs no locking.
type dispatcher struct {
	checkers []Checker
	req      Request
	res      Result
	cfgOut   []byte
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
	case !decodeInput(in, &d.req):
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
