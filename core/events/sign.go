package events

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
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

// Credentials are a webhook's seed fields: the shared secret sent in the
// clear (over TLS) and the key that signs the body. Either may be empty.
type Credentials struct {
	Secret     string
	SigningKey string
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
		set(HeaderSignature, Sign(c.SigningKey, ts, body))
	}
	if c.Secret != "" {
		set(HeaderSecret, c.Secret)
	}
}
