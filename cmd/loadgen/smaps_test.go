package main

import (
	"strings"
	"testing"
)

func TestReadSmaps(t *testing.T) {
	const bin = "/w/bin/tokenomics"
	text := `00400000-015a4000 r-xp 00000000 fe:01 123 /w/bin/tokenomics
Size:              18064 kB
Rss:               10900 kB
Pss:               10900 kB
015a4000-029e9000 r--p 011a4000 fe:01 123 /w/bin/tokenomics
Size:              20756 kB
Rss:               13700 kB
029e9000-02af7000 rw-p 025e9000 fe:01 123 /w/bin/tokenomics
Rss:                 900 kB
c000000000-c002400000 rw-p 00000000 00:00 0
Size:              36864 kB
Rss:               28800 kB
VmFlags: rd wr mr mw me ac sd
7f0000000000-7f00007c0000 r-xp 00000000 00:00 0
Rss:                7936 kB
7f1000000000-7f1000100000 r--s 00000000 fe:01 99 /w/tokens.db
Rss:                 512 kB
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]
Rss:                  32 kB
`
	m, err := readSmaps(strings.NewReader(text), bin)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{
		"binary text": 10900 << 10, "binary rodata": 13700 << 10, "binary data": 900 << 10,
		"anon rw (Go heap, stacks, guest memories)": 28800 << 10, "anon exec (compiled guest code)": 7936 << 10,
		"file /w/tokens.db": 512 << 10, "main stack": 32 << 10,
	}
	var total int64
	for k, v := range want {
		if m.Kinds[k] != v {
			t.Errorf("%s: %d, want %d", k, m.Kinds[k], v)
		}
		total += v
	}
	if m.Total != total || len(m.Kinds) != len(want) {
		t.Errorf("total %d over %d kinds, want %d over %d", m.Total, len(m.Kinds), total, len(want))
	}
	if len(m.Big) != 2 || m.Big[0].Rss != 28800<<10 || m.Big[0].Size != 36864<<10 {
		t.Errorf("largest anonymous mappings: %+v", m.Big)
	}
	if _, err := readSmaps(strings.NewReader("garbage\n"), bin); err == nil {
		t.Error("a malformed header: want an error")
	}
}

func TestOnlyFlag(t *testing.T) {
	o, err := parseFlags([]string{"-only", "contractor-stream-c128"}, new(strings.Builder))
	if err != nil {
		t.Fatal(err)
	}
	if !o.only.MatchString("proxy-contractor-stream-c128") || o.only.MatchString("proxy-contractor-c128") {
		t.Errorf("-only matched the wrong cells")
	}
	if _, err := parseFlags([]string{"-only", "("}, new(strings.Builder)); err == nil {
		t.Error("-only with a bad expression: want an error")
	}
}
