package limits

// Local counters as the failover's fallback: while Redis answers, each
// granted request mirrors the budgets' Redis totals into base, so local
// enforcement during an outage starts from what the fleet had spent; usage
// settled locally accrues in unsynced until the failover adds it to Redis.

// mirror records the Redis totals (used+reserved) of the request's budgets.
func (m *Memory) mirror(subject string, budgets []Budget, totals []int64) {
	sh := m.shard(subject)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	st := sh.subjects[subject]
	if st == nil {
		st = &subjectState{subject: subject}
		sh.subjects[subject] = st
	}
	for j := range budgets {
		if j >= len(totals) {
			return
		}
		slot := st.budget(budgets[j].Key)
		if slot < 0 {
			slot = st.addBudget(budgets[j].Key)
		}
		st.budgets[slot].base = totals[j]
	}
}

// syncBatch is one subject's usage owed to Redis.
type syncBatch struct {
	subject string
	id      string // makes the Redis call idempotent; set by the failover
	keys    []string
	deltas  []int64
}

// takeUnsynced hands over every subject's owed usage and counts it as
// synced from then on (moving it from used to base): the caller must deliver
// the batches, retrying until Redis has them.
func (m *Memory) takeUnsynced() []syncBatch {
	var out []syncBatch
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		for subject, st := range sh.dirty {
			var b syncBatch
			for k := range st.budgets {
				bs := &st.budgets[k]
				if bs.unsynced == 0 {
					continue
				}
				b.keys = append(b.keys, bs.key)
				b.deltas = append(b.deltas, bs.unsynced)
				bs.used -= bs.unsynced
				bs.base += bs.unsynced
				bs.unsynced = 0
			}
			delete(sh.dirty, subject)
			if len(b.keys) > 0 {
				b.subject = subject
				out = append(out, b)
			}
		}
		sh.mu.Unlock()
	}
	return out
}
