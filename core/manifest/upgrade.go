package manifest

import "fmt"

// CheckUpgrade decides whether next may replace current (nil: nothing held
// yet) for the same plugin name. It returns nil when next is newer or the
// same binary again, ErrRollback when next is older, and ErrVersionReused
// when next reuses current's version for another binary.
func CheckUpgrade(current *Manifest, next Manifest) error {
	if current == nil {
		return nil
	}
	if current.Name != next.Name {
		return fmt.Errorf("%w: comparing %q with %q", ErrMalformed, current.Name, next.Name)
	}
	c, err := CompareVersions(next.Version, current.Version)
	if err != nil {
		return err
	}
	switch {
	case c < 0:
		return fmt.Errorf("%w: %s is older than %s", ErrRollback, next.String(), current.String())
	case c == 0 && next.SHA256 != current.SHA256:
		return fmt.Errorf("%w: %s and %s", ErrVersionReused, next.String(), current.String())
	}
	return nil
}
