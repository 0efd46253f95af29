package events

// work is one worker of a target: it takes due deliveries and attempts them
// until the dispatcher stops.
func (q *targetQueue) work() {
	defer q.d.workers.Done()
	for {
		dl := q.next()
		if dl == nil {
			return
		}
		q.process(dl)
	}
}

// process makes one attempt and settles the delivery: done, rejected, dead,
// or rescheduled with the target paused for the backoff.
func (q *targetQueue) process(dl *delivery) {
	d := q.d
	if age := d.cfg.clock.Now().Sub(dl.created); age > d.cfg.MaxAge {
		q.finish(dl, result{}, "too old")
		return
	}
	r := q.attempt(dl)
	if r.outcome != outcomeCanceled {
		dl.attempts++
	}
	switch r.outcome {
	case outcomeDelivered:
		q.finish(dl, r, "")
		return
	case outcomeRejected:
		q.finish(dl, r, "rejected")
		return
	case outcomeCanceled:
		q.requeue(dl)
		return
	}

	now := d.cfg.clock.Now()
	if dl.attempts >= d.cfg.MaxAttempts || now.Sub(dl.created) >= d.cfg.MaxAge {
		q.finish(dl, r, "retries exhausted")
		return
	}
	wait := r.wait
	if !r.hasWait {
		wait = backoff(dl.attempts, d.cfg.BaseDelay, d.cfg.MaxDelay, d.cfg.jitter)
	}
	if dl.durable {
		if err := d.outbox.update(q.key, dl); err != nil {
			// The old count stays on disk; a restart may retry a little more.
			d.log.Error("recording webhook attempt", "target", q.name, "error", err)
		}
	}
	d.retried.Add(1)
	if d.log.IsDebug() {
		d.log.Debug("webhook attempt failed, retrying", append([]any{"target", q.name,
			"event_id", dl.eventID, "attempts", dl.attempts, "wait", wait}, r.logArgs()...)...)
	}
	q.pause(now.Add(wait))
	q.requeue(dl)
}

// finish removes a delivery for good. why is empty on success.
func (q *targetQueue) finish(dl *delivery, r result, why string) {
	d := q.d
	if dl.durable {
		if err := d.outbox.remove(q.key, dl.seq); err != nil {
			// It stays on disk and is sent again after a restart; receivers
			// take duplicates (409).
			d.log.Error("removing finished webhook delivery", "target", q.name, "error", err)
		}
	}
	q.done(dl)
	d.pending.Add(-1)
	if why == "" {
		d.delivered.Add(1)
		return
	}
	d.failed.Add(1)
	d.log.Warn("dropping undeliverable event", append([]any{"target", q.name, "event_id", dl.eventID,
		"event_type", dl.eventType, "reason", why, "attempts", dl.attempts}, r.logArgs()...)...)
}

// logArgs names the last response or network error, if any.
func (r result) logArgs() []any {
	var args []any
	if r.status != 0 {
		args = append(args, "status", r.status)
	}
	if r.err != nil {
		args = append(args, "error", r.err)
	}
	return args
}
