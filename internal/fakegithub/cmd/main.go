// Command fakegithub serves the fake GitHub API on a port, for the
// end-to-end suite's containers. Seed it with -state FILE or POST
// /_fake/state; read what it received at GET /_fake/requests.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/org/sandbox-action/internal/fakegithub"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "fakegithub:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("fakegithub", flag.ContinueOnError)
	addr := fs.String("addr", ":8080", "address to listen on")
	statePath := fs.String("state", "", "JSON file with the initial state (fakegithub.State)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	f := fakegithub.NewFake()
	if *statePath != "" {
		b, err := os.ReadFile(*statePath)
		if err != nil {
			return err
		}
		var s fakegithub.State
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("%s: %w", *statePath, err)
		}
		f.Seed(s)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	// The ready line: tests wait for it before sending requests.
	fmt.Printf("fakegithub: listening on %s\n", ln.Addr())
	srv := &http.Server{Handler: f}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}
