package policy

import "fmt"

// MergePatch applies an RFC 7386 JSON merge patch to original and returns
// the result as compact JSON.
//
// A patch object merges into the target recursively and a null member
// deletes; any other patch replaces the target whole. Unlike a merge through
// map[string]any, object keys keep the original's order and new keys are
// appended in the patch's order, so a patched policy resolves providers in
// the same order as before. Number literals are kept as written. Both
// documents are limited to MaxSize, and duplicate keys are errors.
func MergePatch(original, patch []byte) ([]byte, error) {
	target, err := decodeDocument(original)
	if err != nil {
		return nil, fmt.Errorf("decoding merge target: %w", err)
	}
	pv, err := decodeDocument(patch)
	if err != nil {
		return nil, fmt.Errorf("decoding merge patch: %w", err)
	}
	merged := merge(target, &pv)
	return merged.appendJSON(make([]byte, 0, len(original)+len(patch))), nil
}

func merge(target value, patch *value) value {
	if patch.kind != kindObject {
		return *patch
	}
	if target.kind != kindObject {
		target = value{kind: kindObject}
	}
	obj := target.obj
	// Deletions are marked and removed at the end, so indices stay valid.
	gone := make([]bool, len(obj), len(obj)+len(patch.obj))
	var index map[string]int
	if len(obj) > indexAbove {
		index = make(map[string]int, len(obj))
		for i := range obj {
			index[obj[i].key] = i
		}
	}
	find := func(k string) int {
		if index != nil {
			if i, ok := index[k]; ok {
				return i
			}
			return -1
		}
		for i := range obj {
			if !gone[i] && obj[i].key == k {
				return i
			}
		}
		return -1
	}

	for pi := range patch.obj {
		m := &patch.obj[pi]
		i := find(m.key)
		switch {
		case m.val.kind == kindNull:
			if i >= 0 {
				gone[i] = true
				if index != nil {
					delete(index, m.key)
				}
			}
		case i >= 0:
			obj[i].val = merge(obj[i].val, &m.val)
		default:
			// A nested patch object still merges into "nothing", which drops
			// its null members as RFC 7386 requires.
			obj = append(obj, member{key: m.key, val: merge(value{}, &m.val)})
			gone = append(gone, false)
			if index != nil {
				index[m.key] = len(obj) - 1
			}
		}
	}
	kept := obj[:0]
	for i := range obj {
		if !gone[i] {
			kept = append(kept, obj[i])
		}
	}
	target.obj = kept
	return target
}
