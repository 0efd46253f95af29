package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// writeConfig writes config.yaml (and providers.yaml when providers != "")
// into a fresh directory and returns the config path.
func writeConfig(t testing.TB, config, providers string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte(config), 0o600))
	if providers != "" {
		require.NoError(t, os.WriteFile(filepath.Join(dir, ProvidersFile), []byte(providers), 0o600))
	}
	return path
}

// fieldErrors flattens a (joined) error into its *FieldErrors.
func fieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		var fe *FieldError
		if errors.As(err, &fe) && fe == err {
			out = append(out, fe)
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// fieldsOfErr lists the Field of every *FieldError in err.
func fieldsOfErr(err error) []string {
	var out []string
	for _, fe := range fieldErrors(err) {
		out = append(out, fe.Field)
	}
	return out
}

// findField returns the *FieldError for field, failing the test if absent.
func findField(t *testing.T, err error, field string) *FieldError {
	t.Helper()
	for _, fe := range fieldErrors(err) {
		if fe.Field == field {
			return fe
		}
	}
	require.Failf(t, "no error for field", "want a *FieldError for %q in:\n%v", field, err)
	return nil
}

// noEnv is an empty environment, so tests never see the developer's.
var noEnv = []string{}
