// Command webhook-collector receives Tokenomics webhook events, verifies
// them and prints one line per event. It is a debugging aid and an example
// of a receiver; it uses only the standard library and core/events.
//
//	go run ./examples/webhook-collector -secret "$S" -signing-key "$K" -addr :9091
//
// The secret and signing key may also come from TOKENOMICS_WEBHOOK_SECRET and
// TOKENOMICS_WEBHOOK_SIGNING_KEY, which keeps them out of the process list.
// At least one is required. Any path is accepted, so a proxy's
// events.webhooks url can be http://localhost:9091/webhook. Rejected requests
// are logged to stderr with their status and reason, never with a header
// value.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"

	"github.com/tokenomics-dev/tokenomics/core/events"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("webhook-collector", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", ":9091", "listen address")
	secret := fs.String("secret", os.Getenv("TOKENOMICS_WEBHOOK_SECRET"),
		"shared secret expected in X-Tokenomics-Secret (default $TOKENOMICS_WEBHOOK_SECRET)")
	key := fs.String("signing-key", os.Getenv("TOKENOMICS_WEBHOOK_SIGNING_KEY"),
		"HMAC key the signature must verify against (default $TOKENOMICS_WEBHOOK_SIGNING_KEY)")
	skew := fs.Duration("max-skew", events.DefaultMaxSkew, "accepted clock difference")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	logger := log.New(stderr, "webhook-collector: ", log.LstdFlags)

	v, err := events.NewVerifier(events.VerifierConfig{Secret: *secret, SigningKey: *key, MaxSkew: *skew})
	if err != nil {
		logger.Printf("%v (use -secret and/or -signing-key)", err)
		return 2
	}
	if *key == "" {
		logger.Printf("warning: no signing key, accepting the shared secret alone (weaker: bodies are not authenticated)")
	}

	p := &printer{w: stdout}
	handler := events.NewReceiverHandler(v, p.print,
		events.WithRejectHook(func(r *http.Request, status int, err error) {
			logger.Printf("rejected %s %s from %s: %d %v", r.Method, clean(r.URL.Path), r.RemoteAddr, status, err)
		}))
	srv := &http.Server{
		Addr:              *addr,
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	logger.Printf("listening on %s (signature required: %t, secret required: %t)", *addr, *key != "", *secret != "")

	select {
	case err := <-errc:
		logger.Printf("serving: %v", err)
		return 1
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Printf("shutting down: %v", err)
		return 1
	}
	return 0
}

// printer writes one line per event; handlers run concurrently.
type printer struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *printer) print(ev events.Event) {
	var b strings.Builder
	b.WriteString(ev.Time.UTC().Format(time.RFC3339))
	b.WriteByte(' ')
	b.WriteString(clean(ev.Type))
	b.WriteByte(' ')
	b.WriteString(clean(ev.ID))
	if ev.Source != "" {
		b.WriteString(" source=" + clean(ev.Source))
	}
	if ev.Revision != 0 {
		b.WriteString(" rev=" + strconv.FormatUint(ev.Revision, 10))
	}
	if len(ev.Data) > 0 {
		var data bytes.Buffer
		// Compact JSON has no raw newlines: strings keep theirs escaped.
		if err := json.Compact(&data, ev.Data); err == nil {
			b.WriteByte(' ')
			b.Write(data.Bytes())
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(p.w, b.String())
}

// clean quotes a value from the request if it could break the one-line
// format or the terminal.
func clean(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return strconv.Quote(s)
		}
	}
	return s
}
