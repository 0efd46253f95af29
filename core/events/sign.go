package events

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
)

// Header names of the wire protocol (see the package doc).
const (
	HeaderEventID   = "X-Tokenomics-Event-Id"
	HeaderTimestamp = "X-Tokenomics-Timestamp"
	HeaderSignature = "X-Tokenomics-Signature"
	HeaderSecret    = "X-Tokenomics-Secret"
)

// sigScheme prefixes the signature value; a later protocol would add "v2=".
const sigScheme = "v1="

// Direction names which way a delivery goes between Tokenomics's own
// servers, so one signing key shared by both ends of a fleet (as the seed's
// configs share it) cannot make a message of one direction acceptable in
// the other: a central push captured on its way to a proxy is refused by
// central's event inbox, and a proxy's event is refused by a proxy's push
// receiver. See DirectionKey.
type Direction string

// The directions. "" is a delivery to anyone else (a collector, Slack):
// signed with the signing key alone, as the wire protocol documents.
const (
	// DirPush: central to a proxy's push receiver (token and plugin
	// changes).
	DirPush Direction = "central-to-proxy"
	// DirReport: a proxy to central's event inbox.
	DirReport Direction = "proxy-to-central"
)

// DirectionKey is the HMAC key of dir derived from signingKey:
// HKDF-SHA256(signingKey, no salt, info "tokenomics webhook v1 " + dir),
// 32 bytes. Another sender can compute it to reach a Tokenomics receiver.
func DirectionKey(signingKey string, dir Direction) (string, error) {
	k, err := hkdf.Key(sha256.New, []byte(signingKey), nil, "tokenomics webhook v1 "+string(dir), sha256.Size)
	if err != nil {
		return "", fmt.Errorf("deriving the %s signing key: %w", dir, err)
	}
	return string(k), nil
}

// Credentials are a webhook's seed fields: the shared secret sent in the
// clear (over TLS) and the key that signs the body. Either may be empty.
// With a Direction, the signature header carries a second v1 entry made
// with DirectionKey: the receiver of that direction accepts only it, any
// other receiver still finds the plain entry.
type Credentials struct {
	Secret     string
	SigningKey string
	Direction  Direction
}

// Sign returns the X-Tokenomics-Signature value for body signed at
// timestamp (unix seconds): "v1=" + hex(HMAC-SHA256(key, timestamp "." body)).
func Sign(signingKey string, timestamp int64, body []byte) string {
	var ts [20]byte
	return sigScheme + hex.EncodeToString(mac(signingKey, strconv.AppendInt(ts[:0], timestamp, 10), body))
}

// mac computes the raw HMAC over the signature base string. ts is the
// timestamp exactly as it appears in the header.
func mac(key string, ts, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(ts)
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// SignHeaders sets the protocol headers for one delivery attempt of the event
// eventID with body, signed at now. set is typically http.Header.Set. The
// signature header is set only with a signing key, the secret header only
// with a secret.
func SignHeaders(set func(key, value string), c Credentials, eventID string, now time.Time, body []byte) {
	ts := now.Unix()
	set(HeaderEventID, eventID)
	set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	if c.SigningKey != "" {
		sig := Sign(c.SigningKey, ts, body)
		if c.Direction != "" {
			// A key that cannot be derived (never: HKDF-SHA256 takes any
			// key) leaves the plain entry only, which the receiver of
			// the direction refuses: fail closed.
			if k, err := DirectionKey(c.SigningKey, c.Direction); err == nil {
				sig += "," + Sign(k, ts, body)
			}
		}
		set(HeaderSignature, sig)
	}
	if c.Secret != "" {
		set(HeaderSecret, c.Secret)
	}
}
