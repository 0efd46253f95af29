package abi

import (
	"strings"
	"testing"
)

func TestRoleKindRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		role string
		kind string
	}{
		{name: "user message", role: "user", kind: "message"},
		{name: "tool call", role: "assistant", kind: "tool_call"},
		{name: "delta", role: "assistant", kind: "delta"},
		{name: "unknown", role: "", kind: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := RoleName(RoleCode(tc.role)); got != tc.role {
				t.Fatalf("role %q became %q", tc.role, got)
			}
			if got := KindName(KindCode(tc.kind)); got != tc.kind {
				t.Fatalf("kind %q became %q", tc.kind, got)
			}
		})
	}
	if RoleCode("wizard") != RoleOther || RoleName(200) != "" {
		t.Fatal("unknown role must map to RoleOther and back to \"\"")
	}
}

func TestPack(t *testing.T) {
	t.Parallel()
	p, n := Unpack(Pack(0xdeadbeef, 42))
	if p != 0xdeadbeef || n != 42 {
		t.Fatalf("got %x %d", p, n)
	}
}

func FuzzDecodeList(f *testing.F) {
	f.Add(EncodeList(nil, []string{"a", "bc"}))
	f.Add([]byte{1, 0, 0, 0, 255, 255, 255, 255})
	f.Fuzz(func(t *testing.T, b []byte) {
		items, ok := DecodeList(b)
		if !ok {
			return
		}
		again := EncodeList(nil, items)
		if string(again) != string(b) {
			t.Fatalf("round trip changed the blob")
		}
	})
}

func TestTypedConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		blob []byte
		typ  string
		cfg  string
		ok   bool
	}{
		{name: "round trip", blob: AppendTypedConfig(nil, "pii", []byte(`{"detect":["email"]}`)), typ: "pii", cfg: `{"detect":["email"]}`, ok: true},
		{name: "empty config", blob: AppendTypedConfig(nil, "regex", nil), typ: "regex", ok: true},
		{name: "no type", blob: []byte(`{"pattern":"x"}`)},
		{name: "empty type", blob: AppendTypedConfig(nil, "", []byte("{}"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			typ, cfg, ok := SplitTypedConfig(tc.blob)
			if ok != tc.ok || (ok && (typ != tc.typ || string(cfg) != tc.cfg)) {
				t.Fatalf("got %q %q %v", typ, cfg, ok)
			}
		})
	}
}

func TestDecodeFields(t *testing.T) {
	t.Parallel()
	good := EncodeList(nil, AppendField(AppendField(nil, "detect", "ssn"), "detect", "email"))
	var got []string
	if err := DecodeFields(good, func(k, v string) bool { got = append(got, k+"="+v); return k == "detect" }); err != nil || len(got) != 2 || got[1] != "detect=email" {
		t.Fatalf("got %v %v", got, err)
	}
	for _, tc := range []struct {
		name string
		blob []byte
		want string
	}{
		{name: "unknown key", blob: EncodeList(nil, []string{"other", "1"}), want: `unknown field "other"`},
		{name: "odd items", blob: EncodeList(nil, []string{"detect"}), want: "malformed"},
		{name: "not a list", blob: []byte("{}"), want: "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := DecodeFields(tc.blob, func(k, _ string) bool { return k == "detect" })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}
