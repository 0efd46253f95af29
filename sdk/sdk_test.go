//go:build !sdk_nojson

package sdk

import (
	"errors"
	"testing"

	"github.com/tokenomics-dev/tokenomics/sdk/abi"
)

// encodeInput builds the Input layout as the host does.
func encodeInput(texts ...string) []byte {
	n := abi.InputHeaderSize + len(texts)*abi.InputEntrySize
	b := abi.AppendU32(nil, uint32(len(texts)))
	off := n
	for _, t := range texts {
		b = abi.AppendU32(b, uint32(off))
		b = abi.AppendU32(b, uint32(len(t)))
		b = append(b, abi.RoleUser, abi.KindMessage, 0, 0)
		off += len(t)
	}
	for _, t := range texts {
		b = append(b, t...)
	}
	return b
}

type fakeChecker struct{ mode string }

func (f fakeChecker) Check(req *Request, res *Result) error {
	switch f.mode {
	case "match":
		for i, t := range req.Texts {
			if len(t.Data) > 2 {
				res.Match(i, 1, 3, 0)
			}
		}
		res.Replace(0, 0, 1, 1, []byte("##"))
	case "block":
		res.Block("no way")
	case "error":
		return errors.New("bad day")
	case "panic":
		panic("oops")
	}
	return nil
}

func withPlugin(t *testing.T) *dispatcher {
	t.Helper()
	old := registered
	t.Cleanup(func() { registered = old })
	registered = &Plugin{Configure: func(c *Config) (Checker, error) {
		var cfg struct{ Mode string }
		if err := c.Decode(&cfg); err != nil {
			return nil, err
		}
		c.Detector("a")
		c.Detector("b")
		c.Detector("a")
		c.SetMaxMatch(42)
		if cfg.Mode == "refuse" {
			return nil, errors.New("refused")
		}
		return fakeChecker{cfg.Mode}, nil
	}}
	return &dispatcher{}
}

func TestConfigure(t *testing.T) {
	d := withPlugin(t)
	out := d.configure(0, []byte(`{"Mode":"match"}`))
	if abi.U32(out, 0) != abi.ConfigOK || abi.U32(out, 4) != 42 {
		t.Fatalf("configure result %v", out)
	}
	dets, ok := abi.DecodeList(out[8:])
	if !ok || len(dets) != 2 || dets[0] != "a" || dets[1] != "b" {
		t.Fatalf("detectors %v %v", dets, ok)
	}
	for _, tc := range []struct{ name, cfg, want string }{
		{name: "refused", cfg: `{"Mode":"refuse"}`, want: "refused"},
		{name: "unknown field", cfg: `{"Other":1}`, want: "unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := d.configure(1, []byte(tc.cfg))
			if abi.U32(out, 0) != abi.ConfigError || !contains(string(out[4:]), tc.want) {
				t.Fatalf("got %q", out[4:])
			}
		})
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestCheck(t *testing.T) {
	d := withPlugin(t)
	for i, mode := range []string{"none", "match", "block", "error", "panic"} {
		d.configure(uint32(i), []byte(`{"Mode":"`+mode+`"}`))
	}
	in := encodeInput("hello", "x")
	if out := d.check(0, 1, 0, in); out != nil {
		t.Fatalf("allow must encode as nil, got %v", out)
	}

	out := d.check(1, 1, 0, in)
	if abi.U32(out, 0) != 0 || abi.U32(out, 4) != 2 {
		t.Fatalf("header %v", out[:16])
	}
	m0 := abi.ResultHeaderSize
	if abi.U32(out, m0) != 0 || abi.U32(out, m0+4) != 1 || abi.U32(out, m0+8) != 3 || abi.U32(out, m0+16) != abi.NoReplacement {
		t.Fatalf("first match %v", out[m0:m0+24])
	}
	m1 := m0 + abi.ResultMatchSize
	ro, rl := abi.U32(out, m1+16), abi.U32(out, m1+20)
	if string(out[ro:ro+rl]) != "##" || abi.U32(out, m1+12) != 1 {
		t.Fatalf("replacement %q", out[ro:ro+rl])
	}

	for _, tc := range []struct {
		name string
		id   uint32
		in   []byte
		flag uint32
		msg  string
	}{
		{name: "block", id: 2, in: in, flag: abi.ResultBlock, msg: "no way"},
		{name: "error", id: 3, in: in, flag: abi.ResultError, msg: "bad day"},
		{name: "panic", id: 4, in: in, flag: abi.ResultError, msg: "check panicked: oops"},
		{name: "unknown id", id: 9, in: in, flag: abi.ResultError, msg: "unknown configuration id"},
		{name: "malformed input", id: 1, in: []byte{5, 0, 0, 0}, flag: abi.ResultError, msg: "malformed input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := d.check(tc.id, 1, 0, tc.in)
			off, n := abi.U32(out, 8), abi.U32(out, 12)
			if abi.U32(out, 0) != tc.flag || string(out[off:off+n]) != tc.msg {
				t.Fatalf("flags %d msg %q", abi.U32(out, 0), out[off:off+n])
			}
		})
	}
}

// TestCheckMany: one call checks several configurations on one input and
// answers each one's Result, exactly what one check call per configuration
// answers; a malformed list answers nothing (the host fails the call).
func TestCheckMany(t *testing.T) {
	d := withPlugin(t)
	for i, mode := range []string{"none", "match", "block", "error", "panic"} {
		d.configure(uint32(i), []byte(`{"Mode":"`+mode+`"}`))
	}
	in := encodeInput("hello", "x")
	ids := []uint32{1, 0, 4, 2, 9, 3, 1}
	list := abi.AppendU32(nil, uint32(len(ids)))
	for _, id := range ids {
		list = abi.AppendU32(list, id)
		list = abi.AppendU32(list, 0)
	}
	var want [][]byte
	for _, id := range ids {
		want = append(want, append([]byte(nil), d.check(id, 1, 0, in)...))
	}
	out := d.checkMany(1, in, list)
	if int(abi.U32(out, 0)) != len(ids) {
		t.Fatalf("count %d", abi.U32(out, 0))
	}
	off := abi.ManyHeaderSize
	for i := range ids {
		n := int(abi.U32(out, off))
		got := out[off+4 : off+4+n]
		if string(got) != string(want[i]) {
			t.Fatalf("result %d: %v, one by one %v", i, got, want[i])
		}
		off += 4 + n
	}
	if off != len(out) {
		t.Fatalf("%d trailing bytes", len(out)-off)
	}
	for _, bad := range [][]byte{nil, {1, 0}, abi.AppendU32(nil, 2), abi.AppendU32(abi.AppendU32(nil, 0xFFFFFFFF), 1)} {
		if out := d.checkMany(1, in, bad); out != nil {
			t.Fatalf("list %v answered %v", bad, out)
		}
	}
}

// TestConfigureTyped: a module serving several rule types picks the plugin
// by the type the host names, and refuses a configuration without one.
func TestConfigureTyped(t *testing.T) {
	oldReg, oldTypes := registered, byType
	t.Cleanup(func() { registered, byType = oldReg, oldTypes })
	registered, byType = nil, nil
	for _, typ := range []string{"one", "two"} {
		RegisterType(typ, Plugin{Configure: func(c *Config) (Checker, error) {
			var cfg struct{ Mode string }
			if err := c.Decode(&cfg); err != nil {
				return nil, err
			}
			c.Detector(typ + "-" + cfg.Mode)
			return fakeChecker{cfg.Mode}, nil
		}})
	}
	d := &dispatcher{}
	for _, tc := range []struct {
		name, blob, detector, err string
	}{
		{name: "first type", blob: string(abi.AppendTypedConfig(nil, "one", []byte(`{"Mode":"a"}`))), detector: "one-a"},
		{name: "second type", blob: string(abi.AppendTypedConfig(nil, "two", []byte(`{"Mode":"b"}`))), detector: "two-b"},
		{name: "unknown type", blob: string(abi.AppendTypedConfig(nil, "three", []byte(`{}`))), err: `unknown rule type "three"`},
		{name: "no type", blob: `{"Mode":"a"}`, err: "names no rule type"},
		{name: "the plugin's own refusal", blob: string(abi.AppendTypedConfig(nil, "one", []byte(`{"Other":1}`))), err: "unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := d.configure(0, []byte(tc.blob))
			if tc.err != "" {
				if abi.U32(out, 0) != abi.ConfigError || !contains(string(out[4:]), tc.err) {
					t.Fatalf("got %q", out[4:])
				}
				return
			}
			dets, ok := abi.DecodeList(out[8:])
			if abi.U32(out, 0) != abi.ConfigOK || !ok || len(dets) != 1 || dets[0] != tc.detector {
				t.Fatalf("configure result %q", out)
			}
		})
	}
}

func TestRegisterTypePanics(t *testing.T) {
	oldReg, oldTypes := registered, byType
	t.Cleanup(func() { registered, byType = oldReg, oldTypes })
	ok := Plugin{Configure: func(*Config) (Checker, error) { return nil, nil }}
	for _, tc := range []struct {
		name string
		do   func()
	}{
		{name: "empty type", do: func() { RegisterType("", ok) }},
		{name: "nil configure", do: func() { RegisterType("a", Plugin{}) }},
		{name: "twice", do: func() { RegisterType("a", ok); RegisterType("a", ok) }},
		{name: "after Register", do: func() { Register(ok); RegisterType("a", ok) }},
		{name: "Register after", do: func() { RegisterType("a", ok); Register(ok) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			registered, byType = nil, nil
			defer func() {
				if recover() == nil {
					t.Fatal("want a panic")
				}
			}()
			tc.do()
		})
	}
}

func TestRegisterPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Register(nil Configure) must panic")
		}
	}()
	Register(Plugin{})
}

func TestNoHost(t *testing.T) {
	if _, err := CompileRegex("a"); err == nil {
		t.Fatal("want an error outside wasip1")
	}
	if _, err := CompileKeywords([]string{"a"}, KeywordOptions{}); err == nil {
		t.Fatal("want an error outside wasip1")
	}
}

func FuzzDecodeInput(f *testing.F) {
	f.Add(encodeInput("a", "bc"))
	f.Add([]byte{1, 0, 0, 0, 200, 0, 0, 0, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		var req Request
		if !decodeInput(in, &req) {
			return
		}
		for _, tx := range req.Texts {
			_ = len(tx.Data) // slices must be in range: decodeInput would have panicked
		}
	})
}
