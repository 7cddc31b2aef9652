// Command fakemodel serves the fake model API over TLS, for the end-to-end
// suite's containers. Its certificate, made at start for every address of
// the container and its host name, is signed by the CA the test passes in
// (-ca, -ca-key); read what it received at GET /_fake/requests.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/org/sandbox-action/internal/fakemodel"
	"github.com/org/sandbox-action/internal/testca"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "fakemodel:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("fakemodel", flag.ContinueOnError)
	addr := fs.String("addr", ":8443", "address to listen on")
	caFile := fs.String("ca", "/ca/ca.pem", "PEM file of the CA certificate that signs the server's")
	caKeyFile := fs.String("ca-key", "/ca/ca-key.pem", "PEM file of the CA's private key")
	if err := fs.Parse(args); err != nil {
		return err
	}
	caPEM, err := os.ReadFile(*caFile)
	if err != nil {
		return err
	}
	caKey, err := os.ReadFile(*caKeyFile)
	if err != nil {
		return err
	}
	hosts, err := fakemodel.LocalAddresses()
	if err != nil {
		return err
	}
	if name, err := os.Hostname(); err == nil {
		hosts = append(hosts, name)
	}
	ca, err := testca.Parse(caPEM, caKey)
	if err != nil {
		return err
	}
	certPEM, keyPEM, err := ca.Issue(hosts...)
	if err != nil {
		return err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	// The ready line: tests wait for it before sending requests.
	fmt.Printf("fakemodel: listening on %s for %v\n", ln.Addr(), hosts)
	srv := &http.Server{Handler: &fakemodel.Server{}, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		_ = srv.Close()
	}()
	if err := srv.ServeTLS(ln, "", ""); err != http.ErrServerClosed {
		return err
	}
	return nil
}
