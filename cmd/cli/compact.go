package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/tokenomics-dev/tokenomics/core/config"
	"github.com/tokenomics-dev/tokenomics/core/store"
)

func init() { register(compactCmd) }

func compactCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "compact",
		Short: "Rewrite the token database file to the size its data needs",
		Long: `Copies the live data of the token database serve uses with this config
(storage.db_path, or its .proxy copy with remote.url) into a new file beside
it and renames that over it. bbolt reuses freed pages but never shrinks its
file; every writable open already does this by itself when at least half
the file, and 4 MiB, is free (after an upgrade from the old layout, or mass
deletes). This command does it whatever is free, and fails if it cannot.

Stop the servers using the database first (the file is locked while they
run). Tokens, revisions and encryption are unchanged; the file keeps its
mode and owner. An interruption leaves the old file or the new one.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			if cfg.Remote.URL == "" && cfg.Storage.Backend == config.StoragePostgres {
				return errors.New("storage.backend is postgres: there is no token file to compact")
			}
			cfg = withProxyStore(cfg)
			path := cfg.Storage.DBPath
			fi, err := os.Stat(path)
			if err != nil {
				return fmt.Errorf("compacting: %w", err)
			}
			db, err := openStoreWith(cfg, a.cliLogger(), func(o *store.Options) { o.CompactAlways = true })
			if err != nil {
				return err
			}
			defer db.Close()
			after, err := os.Stat(path)
			if err != nil {
				return fmt.Errorf("compacting: %w", err)
			}
			fmt.Fprintf(a.stdout, "Compacted %s: %d → %d bytes\n", path, fi.Size(), after.Size())
			return nil
		},
	}
}
