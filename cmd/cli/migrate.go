package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tokenomics-dev/tokenomics/core/store"
	"github.com/tokenomics-dev/tokenomics/core/store/pgstore"
)

func init() { register(migrateCmd) }

func migrateCmd(a *app) *cobra.Command {
	var dsn string
	cmd := &cobra.Command{
		Use:   "migrate [--dsn DSN]",
		Short: "Move a central server's bbolt database to PostgreSQL, revisions included",
		Long: `Copies the central token database of storage.db_path (tokens with their
sealed policies, revisions and tombstones, and the plugin registry) into the
PostgreSQL database of storage.postgres.dsn, or --dsn, in one transaction,
and the history kept beside it: the fleet's usage rollups, the received
events and the console's audit log.

Every revision is kept, so proxies synced from the old central server go on
with since= pulls from the new one, without a full resync. The target must
hold no tokens yet; its schema is created or upgraded first. The history is
copied before the tokens, in a way that never counts anything twice, so a
run that failed can be repeated. Both stores are
opened with the config's hash and encryption keys.

Stop the central server first (the file is locked while it runs), then set
storage.backend: postgres and start the replicas.`,
		Example: `  TOKENOMICS_POSTGRES_DSN=postgres://tokenomics@db/tokenomics tokenomics migrate
  tokenomics migrate --dsn "$TOKENOMICS_POSTGRES_DSN"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			if dsn != "" {
				cfg.Storage.Postgres.DSN = dsn
			}
			if cfg.Storage.Postgres.DSN == "" {
				return errors.New("no PostgreSQL to migrate to: give --dsn or set storage.postgres.dsn")
			}
			log := a.cliLogger()
			src, err := openStore(cfg, log)
			if err != nil {
				return err
			}
			defer src.Close()
			ex, err := src.Export()
			if err != nil {
				return err
			}
			dst, err := openPostgres(cmd.Context(), cfg, log)
			if err != nil {
				return err
			}
			defer dst.Close()
			if rev := dst.Revision(); rev != 0 {
				return fmt.Errorf("migrating %s: %w (revision %d)", src.Path(), pgstore.ErrNotEmpty, rev)
			}
			// Plugins and history first: copying them again is harmless
			// (a failed run can simply be repeated), tokens go once.
			bp, err := store.NewBoltPlugins(src.Bolt())
			if err != nil {
				return err
			}
			plugins, err := store.CopyPlugins(dst, bp)
			if err != nil {
				return fmt.Errorf("migrating the plugin registry: %w", err)
			}
			h, err := migrateHistory(cmd.Context(), src.Bolt(), dst)
			if err != nil {
				return fmt.Errorf("migrating the history of %s: %w", src.Path(), err)
			}
			if err := dst.Import(ex); err != nil {
				return fmt.Errorf("migrating %s: %w", src.Path(), err)
			}
			fmt.Fprintf(a.stdout, "Migrated %d changes up to revision %d and %d plugin entries from %s to PostgreSQL.\n",
				len(ex.Changes), ex.Revision, plugins, src.Path())
			fmt.Fprintf(a.stdout, "History: %d usage rows, %d received events, %d console audit entries.\n", h.usageRows, h.events, h.audit)
			if h.auditSkipped {
				fmt.Fprintln(a.stdout, "The console audit log was not copied: the PostgreSQL one holds entries already.")
			}
			fmt.Fprintln(a.stdout, "Set storage.backend: postgres and start the central replicas.")
			return nil
		},
	}
	cmd.Flags().StringVar(&dsn, "dsn", "", "PostgreSQL DSN to migrate to (default storage.postgres.dsn)")
	return cmd
}
