package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/go-hclog"
	"go.etcd.io/bbolt"

	"github.com/tokenomics-dev/tokenomics/core/config"
	"github.com/tokenomics-dev/tokenomics/core/store"
	"github.com/tokenomics-dev/tokenomics/core/store/pgstore"
)

// centralStore is what `remote` keeps its state in: the bbolt file of
// storage.db_path, or PostgreSQL (storage.backend: postgres) shared with
// other replicas, plus a private spool file for the pushes this replica
// makes.
type centralStore struct {
	backend store.Backend
	plugins store.PluginStore
	bolt    *store.DB      // nil with postgres
	pg      *pgstore.Store // nil with bolt
	spool   *bbolt.DB      // the push spool with postgres
	dir     string         // the spool's temporary directory
}

func openCentralStore(ctx context.Context, cfg *config.Config, log hclog.Logger) (*centralStore, error) {
	if cfg.Storage.Backend != config.StoragePostgres {
		db, err := openServerStore(cfg, log)
		if err != nil {
			return nil, err
		}
		ps, err := store.NewBoltPlugins(db.Bolt())
		if err != nil {
			_ = db.Close()
			return nil, err
		}
		return &centralStore{backend: db, plugins: ps, bolt: db}, nil
	}
	pg, err := openPostgres(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	// Pending pushes are per replica and die with it (the next lease
	// holder announces the current revision), so a temporary file does.
	dir, err := os.MkdirTemp("", "tokenomics-remote-spool-")
	if err != nil {
		_ = pg.Close()
		return nil, fmt.Errorf("creating the push spool: %w", err)
	}
	spool, err := bbolt.Open(filepath.Join(dir, "spool.db"), 0o600, &bbolt.Options{NoSync: true})
	if err != nil {
		_ = pg.Close()
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("creating the push spool: %w", err)
	}
	return &centralStore{backend: pg, plugins: pg, pg: pg, spool: spool, dir: dir}, nil
}

// openPostgres opens storage.postgres with the config's keys.
func openPostgres(ctx context.Context, cfg *config.Config, log hclog.Logger) (*pgstore.Store, error) {
	hashKey, enc, err := storeKeys(cfg, log)
	if err != nil {
		return nil, err
	}
	o := pgstore.Options{DSN: cfg.Storage.Postgres.DSN, HashKey: hashKey, Logger: log}
	if enc != nil {
		o.EncryptionKey, o.EncryptionPassphrase = enc.Raw, enc.Passphrase
	}
	s, err := pgstore.Open(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("storage.postgres: %w", err)
	}
	return s, nil
}

func (c *centralStore) Close() error {
	err := c.backend.Close()
	if c.spool != nil {
		err = errors.Join(err, c.spool.Close())
		_ = os.RemoveAll(c.dir)
	}
	return err
}
