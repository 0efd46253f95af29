package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func addPolicySeeds(f *testing.F) [][]byte {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	var seeds [][]byte
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, data)
	}
	return append(seeds,
		[]byte(`{"rules":[{"name":"w","type":"wasm","plugin":"g","sha256":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","config":{"x":["<&>",1e2]}}]}`),
		[]byte(`{"rules":[{"name":"g","type":"prompt_guard","threshold":0.75,"action":"block"}]}`),
		[]byte(`{"providers":{"b":[{}],"a":[{"model":"m","max_tokens":1}]},"model_regex":"^m"}`),
		[]byte(`{"max_tokens":1,"max_tokens":2}`),
		[]byte(`{"metadata":{"\u00e9":"\ud800"}}`),
		[]byte(`[]`),
		[]byte(`{"rules":["(?i)x",{"pattern":"y"},{"type":"jailbreak","action":"mask"}],"default_provider":"openai"}`),
		[]byte(`{"providers":{"a":[{"prompts":[{"role":"system","content":"p"}],"rules":["z",{"type":"pii","detect":["SSN"]}]}]}}`),
		[]byte(`{"memory":{"enabled":true,"file_path":"m","file_name":"{date}/{session_id}.md","max_size_mb":-1,"redis":true}}`),
	)
}

func FuzzParse(f *testing.F) {
	for _, s := range addPolicySeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			if p != nil {
				t.Fatal("policy returned with an error")
			}
			return
		}
		out, err := p.Marshal()
		if err != nil {
			t.Fatalf("marshaling a parsed policy: %v", err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("re-parsing %s: %v", out, err)
		}
		out2, err := again.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, out2) {
			t.Fatalf("marshal not stable:\n%s\n%s", out, out2)
		}
		stripCompiled(p)
		stripCompiled(again)
		if !reflect.DeepEqual(p, again) {
			t.Fatalf("round trip changed the policy:\n%#v\n%#v", p, again)
		}
		for _, m := range []string{"gpt-4o", "m", "x"} {
			_, _ = again.Resolve(m)
		}
	})
}

// refMerge is RFC 7386's pseudocode over encoding/json values: the oracle
// for everything but key order.
func refMerge(target, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	tm, ok := target.(map[string]any)
	if !ok {
		tm = map[string]any{}
	}
	for k, v := range pm {
		if v == nil {
			delete(tm, k)
			continue
		}
		tm[k] = refMerge(tm[k], v)
	}
	return tm
}

func decodeAny(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

func FuzzMergePatch(f *testing.F) {
	seeds := [][2]string{
		{`{"a":"b"}`, `{"a":"c"}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`},
		{`[1,2]`, `{"a":"b","c":null}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`},
		{`{"e":null}`, `{"a":1}`},
		{`{"a":"foo"}`, `null`},
		{`{"max_tokens":1,"providers":{"b":[],"a":[]}}`, `{"providers":{"b":null,"c":[1]}}`},
	}
	for _, s := range seeds {
		f.Add([]byte(s[0]), []byte(s[1]))
	}
	f.Fuzz(func(t *testing.T, original, patch []byte) {
		got, err := MergePatch(original, patch)
		if err != nil {
			return
		}
		if !json.Valid(got) {
			t.Fatalf("invalid JSON result %q", got)
		}

		// Matches the RFC's algorithm, ignoring key order.
		o, err1 := decodeAny(original)
		p, err2 := decodeAny(patch)
		g, err3 := decodeAny(got)
		if err := errors.Join(err1, err2, err3); err != nil {
			t.Fatalf("encoding/json disagrees on validity: %v", err)
		}
		if want := refMerge(o, p); !reflect.DeepEqual(want, g) {
			t.Fatalf("merge of %s with %s:\n got %s\nwant %#v", original, patch, got, want)
		}

		// Merge patches are idempotent.
		twice, err := MergePatch(got, patch)
		if errors.Is(err, ErrTooLarge) {
			return
		}
		if err != nil {
			t.Fatalf("re-applying the patch: %v", err)
		}
		if !bytes.Equal(got, twice) {
			t.Fatalf("not idempotent:\n%s\n%s", got, twice)
		}
	})
}
