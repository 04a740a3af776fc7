package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/assetops/assetops/harness/sim"
)

func cmdSim(ctx context.Context, args []string, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "serve" {
		return usagef("usage: assetops sim serve [--addr 127.0.0.1:PORT] [--scenarios PATH]")
	}
	fs := newFlags("sim serve", stderr)
	addr := fs.String("addr", "127.0.0.1:11435", "address to listen on")
	path := fs.String("scenarios", "", "scenarios whose gold trajectories the oracle plays (default: the embedded scenarios)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	ss, err := loadScenarios(*path)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	srv := &http.Server{
		Handler:           sim.New(sim.Policies(ss)),
		ReadHeaderTimeout: 10 * time.Second,
	}
	fmt.Fprintf(stderr, "simulator (policies: oracle, oracle-text) listening on http://%s; interrupt to stop\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("sim: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("sim: %w", err)
	}
	return nil
}
