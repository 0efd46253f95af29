package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/tokenomics-dev/tokenomics/central"
	"github.com/tokenomics-dev/tokenomics/central/console"
	"github.com/tokenomics-dev/tokenomics/central/pginbox"
	"github.com/tokenomics-dev/tokenomics/core/rollup"
	"github.com/tokenomics-dev/tokenomics/core/store/pgstore"
)

// history counts what migrateHistory copied.
type history struct {
	usageRows, events, audit int
	auditSkipped             bool // the target's audit log held entries already
}

// migrationBatchRows is the size of the usage batches a migration writes;
// far below rollup.MaxBatchRows so each is a modest transaction.
const migrationBatchRows = 5000

// migrationEventPage is how many inbox events a migration reads at a time.
const migrationEventPage = 1000

// migrateHistory copies a bbolt central's usage rollups, event inbox and
// console audit log into PostgreSQL. Every part can run again without
// doubling anything: usage goes in batches whose ids are the hash of their
// rows (PostgreSQL stores a batch id once), events keep their ids (stored
// once across replicas), and the audit log is copied only into an empty
// one.
func migrateHistory(ctx context.Context, src *bbolt.DB, dst *pgstore.Store) (history, error) {
	var h history
	var err error
	if h.usageRows, err = migrateUsage(ctx, src, dst.Usage()); err != nil {
		return h, err
	}
	if h.events, err = migrateEvents(ctx, src, pginbox.New(dst.Pool(), pgstore.DefaultQueryTimeout)); err != nil {
		return h, err
	}
	entries, err := console.ReadAudit(src)
	if err != nil {
		return h, err
	}
	if len(entries) > 0 {
		done, err := dst.AuditLog().Import(ctx, entries)
		if err != nil {
			return h, err
		}
		h.audit, h.auditSkipped = len(entries), !done
		if !done {
			h.audit = 0
		}
	}
	return h, nil
}

func migrateUsage(ctx context.Context, src *bbolt.DB, dst *pgstore.Usage) (int, error) {
	if !hasBucket(src, centralUsageBucket) {
		return 0, nil
	}
	from, err := rollup.NewBoltStore(src, centralUsageBucket)
	if err != nil {
		return 0, err
	}
	rows, err := from.Query(ctx, time.Time{})
	if err != nil {
		return 0, fmt.Errorf("reading usage rollups: %w", err)
	}
	for start := 0; start < len(rows); start += migrationBatchRows {
		chunk := rows[start:min(start+migrationBatchRows, len(rows))]
		sum, err := json.Marshal(chunk)
		if err != nil {
			return 0, err
		}
		h := sha256.Sum256(sum)
		b := &rollup.Batch{ID: "migrate-" + hex.EncodeToString(h[:16]), Instance: "migrate",
			Created: time.Now().UTC(), Rows: chunk}
		if _, err := dst.Add(ctx, b); err != nil {
			return 0, fmt.Errorf("copying usage rollups: %w", err)
		}
	}
	ids, err := from.BatchIDs()
	if err != nil {
		return 0, err
	}
	if err := dst.RememberBatches(ctx, ids); err != nil {
		return 0, err
	}
	return len(rows), nil
}

func migrateEvents(ctx context.Context, src *bbolt.DB, dst central.EventStore) (int, error) {
	if !hasBucket(src, central.InboxBucket) {
		return 0, nil
	}
	from, err := central.NewBoltEventStore(src)
	if err != nil {
		return 0, err
	}
	n := 0
	var after uint64
	for {
		page, err := from.List(ctx, central.EventQuery{After: after, Limit: migrationEventPage})
		if err != nil {
			return n, err
		}
		for _, se := range page {
			if _, err := dst.Append(ctx, se.Event, se.Received); err != nil {
				return n, fmt.Errorf("copying the event inbox: %w", err)
			}
			after = se.Seq
			n++
		}
		if len(page) < migrationEventPage {
			return n, nil
		}
	}
}

func hasBucket(db *bbolt.DB, name string) bool {
	found := false
	_ = db.View(func(tx *bbolt.Tx) error {
		found = tx.Bucket([]byte(name)) != nil
		return nil
	})
	return found
}
