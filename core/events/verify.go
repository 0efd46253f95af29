package events

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Verifier defaults.
const (
	DefaultMaxSkew         = 5 * time.Minute
	DefaultReplayCacheSize = 65536
)

// Bounds on untrusted header values, so a hostile request costs little.
const (
	maxIDLen     = 128
	maxSigParts  = 8
	maxTimestamp = 20 // digits of an int64
)

// VerifierConfig configures a receiver. At least one of Secret and SigningKey
// must be set; with a SigningKey a valid signature is required.
type VerifierConfig struct {
	Secret     string
	SigningKey string
	// MaxSkew is how far a timestamp may be from the receiver's clock, either
	// way. Default DefaultMaxSkew. Seen ids are kept as long as a request
	// carrying them could still pass this check, so there is no separate
	// replay window to configure.
	MaxSkew time.Duration
	// ReplayCacheSize bounds the number of remembered event ids. Default
	// DefaultReplayCacheSize.
	ReplayCacheSize int
	// Direction, with a SigningKey, makes the verifier accept only
	// signatures made with DirectionKey(SigningKey, Direction): a proxy's
	// push receiver takes DirPush, central's event inbox DirReport, so a
	// delivery signed for one direction is refused in the other.
	Direction Direction
}

// Verifier checks incoming deliveries. It is safe for concurrent use.
type Verifier struct {
	secretSum [sha256.Size]byte
	hasSecret bool
	key       string
	maxSkew   time.Duration
	seen      *replayCache
}

// NewVerifier returns a Verifier for cfg.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	if cfg.Secret == "" && cfg.SigningKey == "" {
		return nil, ErrNoCredentials
	}
	if cfg.MaxSkew < 0 || cfg.ReplayCacheSize < 0 {
		return nil, fmt.Errorf("%w: negative max skew or replay cache size", ErrBadConfig)
	}
	if cfg.MaxSkew == 0 {
		cfg.MaxSkew = DefaultMaxSkew
	}
	if cfg.ReplayCacheSize == 0 {
		cfg.ReplayCacheSize = DefaultReplayCacheSize
	}
	key := cfg.SigningKey
	if key != "" && cfg.Direction != "" {
		var err error
		if key, err = DirectionKey(key, cfg.Direction); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadConfig, err)
		}
	}
	v := &Verifier{
		key:     key,
		maxSkew: cfg.MaxSkew,
		seen:    newReplayCache(cfg.ReplayCacheSize),
	}
	if cfg.Secret != "" {
		// Comparing digests keeps the comparison's time independent of the
		// secret's length as well as its content.
		v.secretSum = sha256.Sum256([]byte(cfg.Secret))
		v.hasSecret = true
	}
	return v, nil
}

// Verify checks one delivery: header returns a request header's value ("" if
// absent), body is the raw request body and now the receiver's clock. It
// returns the event id, or an error wrapping one of ErrMissingHeader,
// ErrMalformed, ErrBadSecret, ErrBadSignature, ErrStale or ErrReplay. The id
// is recorded as seen only when everything else passed.
func (v *Verifier) Verify(header func(string) string, body []byte, now time.Time) (string, error) {
	id := header(HeaderEventID)
	if id == "" {
		return "", fmt.Errorf("reading %s: %w", HeaderEventID, ErrMissingHeader)
	}
	if !validID(id) {
		return "", fmt.Errorf("parsing %s: %w", HeaderEventID, ErrMalformed)
	}
	tsRaw := header(HeaderTimestamp)
	if tsRaw == "" {
		return "", fmt.Errorf("reading %s: %w", HeaderTimestamp, ErrMissingHeader)
	}
	ts, err := parseTimestamp(tsRaw)
	if err != nil {
		return "", fmt.Errorf("parsing %s: %w", HeaderTimestamp, ErrMalformed)
	}

	if v.hasSecret {
		got := header(HeaderSecret)
		if got == "" {
			return "", fmt.Errorf("reading %s: %w", HeaderSecret, ErrMissingHeader)
		}
		sum := sha256.Sum256([]byte(got))
		if !hmac.Equal(sum[:], v.secretSum[:]) {
			return "", fmt.Errorf("checking %s: %w", HeaderSecret, ErrBadSecret)
		}
	}
	if v.key != "" {
		sig := header(HeaderSignature)
		if sig == "" {
			return "", fmt.Errorf("reading %s: %w", HeaderSignature, ErrMissingHeader)
		}
		if !v.signatureOK(sig, tsRaw, body) {
			return "", fmt.Errorf("checking %s: %w", HeaderSignature, ErrBadSignature)
		}
	}

	sent := time.Unix(ts, 0)
	if sent.Before(now.Add(-v.maxSkew)) || sent.After(now.Add(v.maxSkew)) {
		return "", fmt.Errorf("checking %s: %w", HeaderTimestamp, ErrStale)
	}

	// The id header is not signed; binding it to the signed body stops a
	// captured request from being replayed under a fresh id.
	var probe struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &probe); err != nil {
		return "", fmt.Errorf("decoding event body: %w", ErrMalformed)
	}
	if probe.ID != id {
		return "", fmt.Errorf("matching %s to the body's id: %w", HeaderEventID, ErrBadSignature)
	}

	if !v.seen.add(id, sent.Add(v.maxSkew), now) {
		return "", fmt.Errorf("checking event %s: %w", id, ErrReplay)
	}
	return id, nil
}

// signatureOK reports whether any v1 entry of the header matches.
func (v *Verifier) signatureOK(header, ts string, body []byte) bool {
	want := mac(v.key, []byte(ts), body)
	var got [sha256.Size]byte
	ok := false
	for i, part := range strings.Split(header, ",") {
		if i == maxSigParts {
			break
		}
		part = strings.TrimSpace(part)
		hexSig, found := strings.CutPrefix(part, sigScheme)
		if !found || len(hexSig) != 2*sha256.Size {
			continue
		}
		if _, err := hex.Decode(got[:], []byte(hexSig)); err != nil {
			continue
		}
		// No early return: every entry costs the same whatever matched.
		if hmac.Equal(got[:], want) {
			ok = true
		}
	}
	return ok
}

func parseTimestamp(s string) (int64, error) {
	if len(s) > maxTimestamp {
		return 0, ErrMalformed
	}
	return strconv.ParseInt(s, 10, 64)
}

// validID accepts short ids of letters, digits, '-' and '_'. Ours are hex;
// the looser rule leaves room for other senders without letting a header
// smuggle anything odd into logs.
func validID(id string) bool {
	if len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
