package cli

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokenomics-dev/tokenomics/core/manifest"
)

func pluginPushCmd(a *app) *cobra.Command {
	rf := &registryFlags{}
	var manifestPath string
	cmd := &cobra.Command{
		Use:   "push FILE.wasm [--manifest FILE.wasm.manifest.json] --remote URL",
		Short: "Upload a signed plugin to the central server",
		Long: `Uploads the binary and its signed manifest. The central server checks the
signature and the sha256, refuses a version lower than one it holds, and
pushes plugin.uploaded to the proxies, which verify the manifest against
their own trusted keys before loading it.`,
		Example: `  tokenomics plugin push orion.wasm --remote http://central:9090`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			wasm, err := os.ReadFile(args[0])
			if err != nil {
				return fmt.Errorf("reading plugin: %w", err)
			}
			if manifestPath == "" {
				manifestPath = manifest.SidecarPath(args[0])
			}
			env, err := os.ReadFile(manifestPath)
			if err != nil {
				return fmt.Errorf("reading manifest (sign the plugin first: tokenomics plugin sign): %w", err)
			}
			// Fail here, with a local message, rather than at the server.
			m, err := manifest.VerifySelfSigned(env)
			if err != nil {
				return fmt.Errorf("checking %s: %w", manifestPath, err)
			}
			if err := manifest.CheckBinary(m, wasm); err != nil {
				return fmt.Errorf("checking %s against %s: %w", args[0], manifestPath, err)
			}
			c, err := a.registry(cmd, rf)
			if err != nil {
				return err
			}
			e, err := c.Upload(cmd.Context(), env, wasm)
			if err != nil {
				return fmt.Errorf("uploading %s: %w", m.String(), err)
			}
			if rf.output == "json" {
				e.Manifest = nil
				return a.printJSON(e)
			}
			if e.Existing {
				fmt.Fprintf(a.stdout, "Already held %s@%s (uploaded %s): nothing changed\nsha256:   %s\nrevision: %d\n",
					e.Name, e.Version, e.UploadedAt.Format(time.RFC3339), e.SHA256, e.Revision)
				return nil
			}
			fmt.Fprintf(a.stdout, "Uploaded %s@%s\nsha256:   %s\nrevision: %d\n", e.Name, e.Version, e.SHA256, e.Revision)
			return nil
		},
	}
	rf.add(cmd, true)
	cmd.Flags().StringVar(&manifestPath, "manifest", "", "signed manifest (default FILE.wasm.manifest.json)")
	return cmd
}
