package rules

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/tokenomics-dev/tokenomics/sdk/abi"
)

var hostSigs = map[string]sig{
	abi.FuncLog:              {[]api.ValueType{i32, i32, i32}, nil},
	abi.FuncMatcherCompile:   {[]api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32}},
	abi.FuncMatcherFind:      {[]api.ValueType{i32, i32, i32, i32, i32, i32}, []api.ValueType{i32}},
	abi.FuncLastError:        {[]api.ValueType{i32, i32}, []api.ValueType{i32}},
	abi.FuncMatcherFindTexts: {[]api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32}},
}

// instantiateHostModule registers the ABI's host functions in rt. They are
// Go module functions (no reflection) reading guest memory in place.
func (h *Host) instantiateHostModule(ctx context.Context, rt wazero.Runtime) error {
	b := rt.NewHostModuleBuilder(abi.ImportModule)
	add := func(name string, fn api.GoModuleFunc) {
		s := hostSigs[name]
		b.NewFunctionBuilder().WithGoModuleFunction(fn, s.params, s.results).Export(name)
	}
	add(abi.FuncLog, h.hostLog)
	add(abi.FuncMatcherCompile, h.hostMatcherCompile)
	add(abi.FuncMatcherFind, h.hostMatcherFind)
	add(abi.FuncMatcherFindTexts, h.hostMatcherFindTexts)
	add(abi.FuncLastError, h.hostLastError)
	_, err := b.Instantiate(ctx)
	return err
}

func (h *Host) hostLog(ctx context.Context, mod api.Module, stack []uint64) {
	msg, ok := mod.Memory().Read(uint32(stack[1]), uint32(stack[2]))
	if !ok {
		return
	}
	log := h.log
	if inst := instanceFrom(ctx); inst != nil {
		log = inst.m.log
	}
	level := hclog.Debug
	switch uint32(stack[0]) {
	case abi.LevelInfo:
		level = hclog.Info
	case abi.LevelWarn:
		level = hclog.Warn
	case abi.LevelError:
		level = hclog.Error
	}
	if log.GetLevel() <= level {
		log.Log(level, "plugin log", "message", string(msg))
	}
}

func (h *Host) hostMatcherCompile(ctx context.Context, mod api.Module, stack []uint64) {
	inst := instanceFrom(ctx)
	fail := func(err error) {
		if inst != nil {
			inst.lastErr = err.Error()
		}
		stack[0] = api.EncodeI32(-1)
	}
	kind, flags := uint32(stack[0]), uint32(stack[1])
	blob, ok := mod.Memory().Read(uint32(stack[2]), uint32(stack[3]))
	if !ok {
		fail(fmt.Errorf("pattern list out of guest memory"))
		return
	}
	handle, err := h.matchers.compile(kind, flags, blob)
	if err != nil {
		fail(err)
		return
	}
	if inst != nil {
		inst.compiled = append(inst.compiled, handle)
	}
	stack[0] = api.EncodeI32(handle)
}

// hostMatcherFind is the hot host function: it scans guest memory in place
// and writes match records straight into the guest's buffer.
func (h *Host) hostMatcherFind(ctx context.Context, mod api.Module, stack []uint64) {
	handle := api.DecodeI32(stack[0])
	flags := uint32(stack[1])
	mem := mod.Memory()
	text, ok1 := mem.Read(uint32(stack[2]), uint32(stack[3]))
	outCap := uint64(uint32(stack[5])) * abi.MatchRecordSize
	out, ok2 := mem.Read(uint32(stack[4]), uint32(min(outCap, 1<<31)))
	m := h.matchers.get(handle)
	if !ok1 || !ok2 || m == nil {
		stack[0] = api.EncodeI32(-1)
		return
	}
	inst := instanceFrom(ctx)
	if inst == nil {
		stack[0] = api.EncodeI32(-1)
		return
	}
	s := &inst.sink
	s.buf, s.n = out, 0
	m.find(text, flags&abi.FindFirst != 0, s)
	s.buf = nil
	stack[0] = api.EncodeI32(int32(min(s.n, 1<<31-1)))
}

// hostMatcherFindTexts is matcher_find over every text of the check in
// progress, read from the host's own copy: one guest-to-host call for all
// of them. Outside a check it answers -1.
func (h *Host) hostMatcherFindTexts(ctx context.Context, mod api.Module, stack []uint64) {
	handle := api.DecodeI32(stack[0])
	flags := uint32(stack[1])
	outCap := uint64(uint32(stack[3])) * abi.TextMatchRecordSize
	out, ok := mod.Memory().Read(uint32(stack[2]), uint32(min(outCap, 1<<31)))
	m := h.matchers.get(handle)
	inst := instanceFrom(ctx)
	if !ok || m == nil || inst == nil || !inst.checking {
		if inst != nil {
			inst.lastErr = "matcher_find_texts: bad handle or buffer, or no check in progress"
		}
		stack[0] = api.EncodeI32(-1)
		return
	}
	first := flags&abi.FindFirst != 0
	s := &inst.sink
	s.buf, s.n, s.texts = out, 0, true
	for i := range inst.cur {
		s.text = i
		m.find(inst.cur[i].Data, first, s)
	}
	s.buf, s.texts, s.text = nil, false, 0
	stack[0] = api.EncodeI32(int32(min(s.n, 1<<31-1)))
}

func (h *Host) hostLastError(ctx context.Context, mod api.Module, stack []uint64) {
	msg := ""
	if inst := instanceFrom(ctx); inst != nil {
		msg = inst.lastErr
	}
	ptr, n := uint32(stack[0]), uint32(stack[1])
	if buf, ok := mod.Memory().Read(ptr, n); ok {
		copy(buf, msg)
	}
	stack[0] = api.EncodeI32(int32(len(msg)))
}

// matcher is one host-side matcher: a regex set or a keyword automaton.
type matcher struct {
	re *regexSet
	kw *acMatcher
}

func (m *matcher) find(text []byte, first bool, s *sink) {
	if m.re != nil {
		m.re.find(text, first, s)
		return
	}
	m.kw.find(text, first, s)
}

func (m *matcher) maxLen() int {
	if m.re != nil {
		return m.re.maxLen
	}
	return m.kw.maxLen
}

// matcherTable holds every matcher the plugins compiled, deduplicated by
// kind, flags and patterns, so each pooled instance configuring the same
// rule gets the same handle and the heavy state exists once per host.
// Readers load the list without locking.
type matcherTable struct {
	mu    sync.Mutex
	byKey map[string]int32
	list  atomic.Pointer[[]*matcher]
}

const maxMatchers = 1 << 16

func (t *matcherTable) get(h int32) *matcher {
	l := t.list.Load()
	if l == nil || h < 0 || int(h) >= len(*l) {
		return nil
	}
	return (*l)[h]
}

func (t *matcherTable) compile(kind, flags uint32, blob []byte) (int32, error) {
	key := fmt.Sprintf("%d/%d/%s", kind, flags, blob)
	t.mu.Lock()
	defer t.mu.Unlock()
	if h, ok := t.byKey[key]; ok {
		return h, nil
	}
	items, ok := abi.DecodeList(blob)
	if !ok {
		return -1, fmt.Errorf("malformed pattern list")
	}
	m := &matcher{}
	switch kind {
	case abi.MatcherRegex:
		rs, err := compileRegexSet(items)
		if err != nil {
			return -1, err
		}
		m.re = rs
	case abi.MatcherKeywords:
		if len(items) == 0 {
			return -1, fmt.Errorf("compiling keywords: %w", ErrNoPatterns)
		}
		for _, k := range items {
			if k == "" {
				return -1, fmt.Errorf("compiling keywords: empty keyword")
			}
		}
		m.kw = newACMatcher(items, flags&abi.KeywordCaseInsensitive != 0, flags&abi.KeywordWholeWord != 0)
	default:
		return -1, fmt.Errorf("unknown matcher kind %d", kind)
	}
	var cur []*matcher
	if l := t.list.Load(); l != nil {
		cur = *l
	}
	if len(cur) >= maxMatchers {
		return -1, fmt.Errorf("too many matchers (%d)", maxMatchers)
	}
	next := append(cur[:len(cur):len(cur)], m)
	t.list.Store(&next)
	if t.byKey == nil {
		t.byKey = map[string]int32{}
	}
	h := int32(len(next) - 1)
	t.byKey[key] = h
	return h, nil
}

// maxLen is the longest match of the given matchers, capped at the
// unbounded marker.
func (t *matcherTable) maxLen(handles []int32) int {
	n := 0
	for _, h := range handles {
		m := t.get(h)
		if m == nil {
			continue
		}
		l := m.maxLen()
		if l == unbounded {
			return unbounded
		}
		n = max(n, l)
	}
	return n
}
