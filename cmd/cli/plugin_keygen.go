package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tokenomics-dev/tokenomics/core/manifest"
)

func pluginKeygenCmd(a *app) *cobra.Command {
	var out string
	var force bool
	cmd := &cobra.Command{
		Use:   "keygen --out FILE",
		Short: "Create an ed25519 key pair for signing plugin manifests",
		Long: `Writes the private key to FILE (PKCS#8 PEM, mode 0600) and the public key to
FILE.pub (base64, the form plugins.trusted_keys takes). Keep the private key
off the proxies; give them the public key.`,
		Example: `  tokenomics plugin keygen --out signing.key`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pub, priv, err := manifest.GenerateKey()
			if err != nil {
				return err
			}
			pemKey, err := manifest.EncodePrivateKey(priv)
			if err != nil {
				return err
			}
			if err := writeNewFile(out, pemKey, 0o600, force); err != nil {
				return err
			}
			pubText := manifest.EncodePublicKey(pub)
			if err := writeNewFile(out+".pub", []byte(pubText+"\n"), 0o644, force); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Private key: %s (mode 0600; keep it secret)\nPublic key:  %s.pub\nKey id:      %s\n\n", out, out, manifest.KeyID(pub))
			fmt.Fprintf(a.stdout, "Trust it on every proxy (config.yaml):\n\nplugins:\n  trusted_keys:\n    - %s\n", pubText)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "private key file to write (the public key goes to FILE.pub)")
	cmd.Flags().BoolVar(&force, "force", false, "replace existing files")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}
