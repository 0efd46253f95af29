package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/hashicorp/go-hclog"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run serves until ctx ends and returns the exit code: 2 for bad flags, 1 if
// the server cannot start.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fakeupstream", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	openAIKey := fs.String("openai-key", getenv("FAKEUPSTREAM_OPENAI_KEY"), "bearer key expected on OpenAI endpoints (empty: any)")
	anthropicKey := fs.String("anthropic-key", getenv("FAKEUPSTREAM_ANTHROPIC_KEY"), "x-api-key expected on /v1/messages (empty: any)")
	failModels := fs.String("fail-models", "", "comma-separated models that always get 503")
	record := fs.Int("record", fakeupstream.DefaultRecordLimit, "requests kept for GET /_fake/requests (negative: none)")
	verbose := fs.Bool("v", false, "log every request at debug level")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "fakeupstream: unexpected arguments %q\n", fs.Args())
		return 2
	}
	level := hclog.Info
	if *verbose {
		level = hclog.Debug
	}
	logger := hclog.New(&hclog.LoggerOptions{Output: stderr, Level: level})

	var fail []string
	for m := range strings.SplitSeq(*failModels, ",") {
		if m = strings.TrimSpace(m); m != "" {
			fail = append(fail, m)
		}
	}
	s := fakeupstream.New(fakeupstream.Options{
		OpenAIKey:    *openAIKey,
		AnthropicKey: *anthropicKey,
		FailModels:   fail,
		RecordLimit:  *record,
		Logger:       logger,
	})
	url, err := s.Start(*addr)
	if err != nil {
		logger.Error("starting", "error", err)
		return 1
	}
	fmt.Fprintln(stdout, url)
	logger.Info("serving", "url", url, "openai_key_set", *openAIKey != "", "anthropic_key_set", *anthropicKey != "")
	<-ctx.Done()
	if err := s.Close(); err != nil {
		logger.Error("closing", "error", err)
		return 1
	}
	logger.Info("stopped")
	return 0
}
