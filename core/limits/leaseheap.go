package limits

// A subject's in-flight memory leases form a min-heap on expiry, so expired
// leases are found from the top without scanning, and len is the number of
// parallel slots in use. Guarded by the subject's shard lock.

func (st *subjectState) push(l *Lease) {
	l.heapIdx = len(st.leases)
	st.leases = append(st.leases, l)
	st.up(l.heapIdx)
}

func (st *subjectState) pop() *Lease {
	l := st.leases[0]
	st.remove(l)
	return l
}

func (st *subjectState) remove(l *Lease) {
	i := l.heapIdx
	if i < 0 || i >= len(st.leases) || st.leases[i] != l {
		return
	}
	last := len(st.leases) - 1
	st.swap(i, last)
	st.leases[last] = nil
	st.leases = st.leases[:last]
	l.heapIdx = -1
	if i < last {
		st.fix(i)
	}
}

func (st *subjectState) fix(i int) {
	if !st.down(i) {
		st.up(i)
	}
}

func (st *subjectState) swap(i, j int) {
	h := st.leases
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx = i
	h[j].heapIdx = j
}

func (st *subjectState) up(i int) {
	h := st.leases
	for i > 0 {
		p := (i - 1) / 2
		if h[p].expiry <= h[i].expiry {
			return
		}
		st.swap(i, p)
		i = p
	}
}

// down reports whether the element moved.
func (st *subjectState) down(i0 int) bool {
	h := st.leases
	i := i0
	for {
		c := 2*i + 1
		if c >= len(h) {
			break
		}
		if r := c + 1; r < len(h) && h[r].expiry < h[c].expiry {
			c = r
		}
		if h[i].expiry <= h[c].expiry {
			break
		}
		st.swap(i, c)
		i = c
	}
	return i > i0
}
