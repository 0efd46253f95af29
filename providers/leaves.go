package providers

// StringLeaves appends to dst a reference to every string value (member
// names excluded) of the JSON document body, to any depth the scanner
// accepts, with role and kind set on each. It is for bodies whose shape
// the gateway does not model, such as a provider's error answer, which may
// quote the request back.
func StringLeaves(dst []TextRef, body []byte, role, kind string) ([]TextRef, error) {
	s := NewScanner(body)
	dst = appendLeaves(dst, &s, role, kind)
	if err := s.Finish(); err != nil {
		return dst, err
	}
	return dst, nil
}

func appendLeaves(dst []TextRef, s *Scanner, role, kind string) []TextRef {
	switch s.Peek() {
	case KindString:
		v := s.Value()
		return append(dst, v.Ref(role, kind, -1, len(dst)))
	case KindObject:
		obj := s.Object()
		for {
			if _, ok := obj.Next(); !ok {
				break
			}
			dst = appendLeaves(dst, s, role, kind)
		}
	case KindArray:
		arr := s.Array()
		for arr.Next() {
			dst = appendLeaves(dst, s, role, kind)
		}
	default:
		s.Skip()
	}
	return dst
}
