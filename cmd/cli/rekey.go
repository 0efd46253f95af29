package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

func init() { register(rekeyCmd) }

func rekeyCmd(a *app) *cobra.Command {
	var newKeyEnv string
	cmd := &cobra.Command{
		Use:   "rekey [--new-key-env NAME]",
		Short: "Re-seal the token database: move it to the current key derivation, or to a new key",
		Long: `Re-encrypts every stored policy of storage.db_path in one transaction.

Without --new-key-env it keeps the key (the variable named by
security.encryption_key_env) and moves a database created by an older build,
whose passphrase was stretched with one unsalted SHA-256, to scrypt with a
random salt stored in the database. With --new-key-env it rotates to the key
in that variable: 64 hex digits or base64 of 32 random bytes, or a
passphrase of at least 16 characters (stretched with scrypt).

Stop the servers using the database first (the file is locked while they
run). Token hashes, revisions and synced proxies are not affected: proxies
keep their own database and key.`,
		Example: `  tokenomics rekey
  TOKENOMICS_NEW_KEY=$(openssl rand -hex 32) tokenomics rekey --new-key-env TOKENOMICS_NEW_KEY`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			cur, err := cfg.EncryptionSecret()
			if err != nil {
				return err
			}
			if cur == nil {
				return errors.New("security.encryption_key_env is not set: the database is not encrypted, there is nothing to rekey")
			}
			next := cur
			if newKeyEnv != "" {
				if next, err = cfg.KeySecret(newKeyEnv); err != nil {
					return fmt.Errorf("--new-key-env: %w", err)
				}
			}
			db, err := openStore(cfg, a.cliLogger())
			if err != nil {
				return err
			}
			defer db.Close()
			wasLegacy := db.LegacyKDF()
			n, err := db.Rekey(next.Raw, next.Passphrase)
			if err != nil {
				return fmt.Errorf("rekeying %s: %w", db.Path(), err)
			}
			derivation := "raw 32-byte key"
			if next.Passphrase != nil {
				derivation = "passphrase stretched with scrypt (salt stored in the database)"
			}
			fmt.Fprintf(a.stdout, "Re-sealed %d records in %s\nKey: %s\n", n, db.Path(), derivation)
			if wasLegacy {
				fmt.Fprintln(a.stdout, "The legacy SHA-256 derivation is no longer used.")
			}
			if newKeyEnv != "" {
				fmt.Fprintf(a.stdout, "From now on set %s to the new key (the value of %s).\n", cfg.Security.EncryptionKeyEnv, newKeyEnv)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&newKeyEnv, "new-key-env", "", "environment variable holding the new key (default: keep the key, upgrade the derivation)")
	return cmd
}
