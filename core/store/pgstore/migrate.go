package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// migrations are applied in order, each once, in one transaction with the
// bookkeeping row. Never edit a released one: append.
var migrations = []string{
	// 1: tokens, revision state, key checks, plugin registry.
	`CREATE TABLE tokenomics_meta (
		key   text PRIMARY KEY,
		value bytea NOT NULL
	);
	CREATE TABLE tokenomics_state (
		id              int PRIMARY KEY CHECK (id = 1),
		revision        bigint NOT NULL,
		pruned          bigint NOT NULL,
		plugin_revision bigint NOT NULL
	);
	INSERT INTO tokenomics_state VALUES (1, 0, 0, 0);
	-- value NULL is a tombstone; revision is the record's latest change.
	CREATE TABLE tokenomics_tokens (
		hash       text COLLATE "C" PRIMARY KEY,
		revision   bigint NOT NULL UNIQUE,
		value      bytea,
		deleted_at timestamptz
	);
	CREATE TABLE tokenomics_plugin_entries (
		key   text COLLATE "C" PRIMARY KEY,
		value bytea NOT NULL
	);
	CREATE TABLE tokenomics_plugin_blobs (
		sha  text PRIMARY KEY,
		wasm bytea NOT NULL
	);`,
	// 2: usage rollups, the event inbox, the console audit log. A batch id
	// and its rows commit together; the unique key counts it once.
	`CREATE TABLE tokenomics_usage_batches (
		id        text COLLATE "C" PRIMARY KEY,
		stored_at bigint NOT NULL
	);
	CREATE INDEX tokenomics_usage_batches_stored ON tokenomics_usage_batches (stored_at);
	CREATE TABLE tokenomics_usage_rows (
		minute              bigint NOT NULL,
		token               text COLLATE "C" NOT NULL,
		model               text COLLATE "C" NOT NULL,
		provider            text COLLATE "C" NOT NULL,
		requests            bigint NOT NULL,
		input_tokens        bigint NOT NULL,
		cached_input_tokens bigint NOT NULL,
		output_tokens       bigint NOT NULL,
		reasoning_tokens    bigint NOT NULL,
		cost_micros         bigint NOT NULL,
		PRIMARY KEY (minute, token, model, provider)
	);
	CREATE TABLE tokenomics_usage_refusals (
		minute   bigint NOT NULL,
		token    text COLLATE "C" NOT NULL,
		model    text COLLATE "C" NOT NULL,
		provider text COLLATE "C" NOT NULL,
		reason   text COLLATE "C" NOT NULL,
		n        bigint NOT NULL,
		PRIMARY KEY (minute, token, model, provider, reason)
	);
	-- event_id is unique so a delivery retried against another replica
	-- (whose replay cache never saw it) is stored once; NULL when absent.
	CREATE TABLE tokenomics_event_inbox (
		seq      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		event_id text UNIQUE,
		received timestamptz NOT NULL,
		type     text NOT NULL,
		body     bytea NOT NULL
	);
	CREATE INDEX tokenomics_event_inbox_received ON tokenomics_event_inbox (received);
	CREATE TABLE tokenomics_console_audit (
		seq   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		entry bytea NOT NULL
	);`,
	// 3: the proxies' latest fleet reports (central/pgfleet), so every
	// replica shows the whole fleet whichever replica a proxy reports to.
	`CREATE TABLE tokenomics_fleet (
		instance     text COLLATE "C" PRIMARY KEY,
		last_contact timestamptz NOT NULL,
		report       bytea NOT NULL
	);
	CREATE INDEX tokenomics_fleet_last_contact ON tokenomics_fleet (last_contact);`,
	// 4: console sign-in sessions, by the SHA-256 of the session id, so
	// every replica behind a load balancer knows them.
	`CREATE TABLE tokenomics_console_sessions (
		key     text COLLATE "C" PRIMARY KEY,
		expires timestamptz NOT NULL,
		value   bytea NOT NULL
	);
	CREATE INDEX tokenomics_console_sessions_expires ON tokenomics_console_sessions (expires);`,
	// 5: failed console sign-ins per source (by hash), so every replica
	// throttles a source by all its failures.
	`CREATE TABLE tokenomics_console_signins (
		key     text COLLATE "C" PRIMARY KEY,
		tokens  double precision NOT NULL,
		updated timestamptz NOT NULL
	);
	CREATE INDEX tokenomics_console_signins_updated ON tokenomics_console_signins (updated);`,
}

// migrationLock is the advisory lock key replicas take while migrating
// ("tknmigr" in ASCII).
const migrationLock int64 = 0x746b6e6d69677200

// SchemaVersion is the version this build migrates to.
func SchemaVersion() int { return len(migrations) }

// migrate brings the schema to SchemaVersion. Replicas starting at once
// wait on the advisory lock, then find nothing left to do.
func migrate(ctx context.Context, conn *pgx.Conn) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return fmt.Errorf("taking the migration lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS tokenomics_schema_migrations (
			version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("creating the migrations table: %w", err)
		}
		var have int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM tokenomics_schema_migrations`).Scan(&have); err != nil {
			return fmt.Errorf("reading the schema version: %w", err)
		}
		if have > len(migrations) {
			return fmt.Errorf("%w: the database has schema %d, this build knows up to %d", ErrSchemaTooNew, have, len(migrations))
		}
		for v := have + 1; v <= len(migrations); v++ {
			if _, err := tx.Exec(ctx, migrations[v-1]); err != nil {
				return fmt.Errorf("applying schema migration %d: %w", v, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO tokenomics_schema_migrations (version) VALUES ($1)`, v); err != nil {
				return fmt.Errorf("recording schema migration %d: %w", v, err)
			}
		}
		return nil
	})
}
