package cli

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// instanceID returns this proxy's stable id, kept in <db>.instance next to
// its database and created on first start. Redis lease ids start with it,
// so a proxy restarted after a crash recognises, and frees at once, the
// leases its previous run left behind.
func instanceID(dbPath string) (string, error) {
	path := dbPath + ".instance"
	b, err := os.ReadFile(path)
	if err == nil {
		id := strings.TrimSpace(string(b))
		if id != "" && !strings.ContainsAny(id, ".\n{}") {
			return id, nil
		}
		return "", fmt.Errorf("%s holds no usable instance id; delete it to make a new one", path)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("reading the instance id: %w", err)
	}
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", fmt.Errorf("making an instance id: %w", err)
	}
	id := "px" + hex.EncodeToString(rnd[:])
	if err := os.WriteFile(path, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("writing the instance id: %w", err)
	}
	return id, nil
}
