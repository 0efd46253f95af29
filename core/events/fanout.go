package events

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// fanoutBatch bounds how many emitted events share one outbox transaction.
const fanoutBatch = 256

// prepare marshals ev once and picks the targets that want it.
func (d *Dispatcher) prepare(ev Event) (*delivery, []*targetQueue, error) {
	var qs []*targetQueue
	for _, q := range d.queues {
		if Match(q.target.Events, ev.Type) {
			qs = append(qs, q)
		}
	}
	if len(qs) == 0 {
		return nil, nil, nil
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, nil, fmt.Errorf("marshalling %s event: %w", ev.Type, err)
	}
	return &delivery{eventID: ev.ID, eventType: ev.Type, body: body, created: d.cfg.clock.Now()}, qs, nil
}

func keysOf(qs []*targetQueue) [][]byte {
	keys := make([][]byte, len(qs))
	for i, q := range qs {
		keys[i] = q.key
	}
	return keys
}

// enqueue hands one event's new deliveries to their targets' queues.
func (d *Dispatcher) enqueue(seq uint64, proto *delivery, qs []*targetQueue, durable bool) {
	d.mu.Lock()
	// Before Start, and for records Start already counted, the outbox scan
	// owns the count.
	if d.started && seq > d.baseSeq {
		d.pending.Add(int64(len(qs)))
	}
	d.mu.Unlock()
	for _, q := range qs {
		dl := *proto
		dl.seq, dl.durable = seq, durable
		q.push(&dl)
	}
}

// fanout moves emitted events into the targets' queues, persisting them
// first in durable mode.
func (d *Dispatcher) fanout() {
	defer close(d.fanoutDone)
	batch := make([]Event, 0, fanoutBatch)
	for {
		select {
		case ev := <-d.ingress:
			batch = append(batch[:0], ev)
			batch = d.drainIngress(batch, fanoutBatch)
			d.dispatch(batch)
		case <-d.stopFanout:
			for {
				batch = d.drainIngress(batch[:0], fanoutBatch)
				if len(batch) == 0 {
					return
				}
				d.dispatch(batch)
			}
		}
	}
}

func (d *Dispatcher) drainIngress(batch []Event, max int) []Event {
	for len(batch) < max {
		select {
		case ev := <-d.ingress:
			batch = append(batch, ev)
		default:
			return batch
		}
	}
	return batch
}

type prepared struct {
	seq   uint64
	proto *delivery
	qs    []*targetQueue
}

// dispatch persists a batch in one transaction (durable mode) and queues it.
// If the outbox cannot be written the events still go out from memory. Each
// event leaves the queued count as it enters pending (or is done).
func (d *Dispatcher) dispatch(batch []Event) {
	ps := make([]prepared, 0, len(batch))
	for _, ev := range batch {
		proto, qs, err := d.prepare(ev)
		if err != nil {
			d.log.Warn("dropping unencodable event", "event_id", ev.ID, "event_type", ev.Type, "error", err)
			d.failed.Add(1)
			continue
		}
		if len(qs) > 0 {
			ps = append(ps, prepared{proto: proto, qs: qs})
		}
	}
	durable := false
	if d.outbox != nil && len(ps) > 0 {
		err := d.outbox.db.Update(func(tx *bolt.Tx) error {
			for i := range ps {
				seq, err := d.outbox.insert(tx, ps[i].proto, keysOf(ps[i].qs))
				if err != nil {
					return err
				}
				ps[i].seq = seq
			}
			return nil
		})
		if err != nil {
			d.log.Error("writing webhook outbox, delivering from memory only", "error", err)
		} else {
			durable = true
		}
	}
	for _, p := range ps {
		if !durable {
			p.seq = memSeqBit | d.memSeq.Add(1)
		}
		d.enqueue(p.seq, p.proto, p.qs, durable)
		d.queued.Add(-1) // counted in pending now
	}
	d.queued.Add(-int64(len(batch) - len(ps))) // failed, or wanted by no target
}
