package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// DefaultShutdownTimeout is how long Run lets open requests and tunnels
// finish once asked to stop. Docker gives a container 10 s after SIGTERM by
// default, and a GitHub runner's cancel allows 7.5 s for everything.
const DefaultShutdownTimeout = 2 * time.Second

// MaxHeaderBytes bounds request headers; larger ones get 431 from net/http.
const MaxHeaderBytes = 64 << 10

// Server serves a Proxy and, optionally, a Gateway on their own listeners.
type Server struct {
	// Proxy and ProxyListener are required.
	Proxy         *Proxy
	ProxyListener net.Listener
	// Gateway is nil when the run has no credential gateway.
	Gateway         *Gateway
	GatewayListener net.Listener
	// ShutdownTimeout bounds the graceful shutdown; zero means
	// DefaultShutdownTimeout. After it, open tunnels and streams are cut.
	ShutdownTimeout time.Duration
}

// Run serves until ctx is done, then shuts down gracefully and returns nil.
// It returns an error only if a listener fails. The listeners are bound
// before Run is called, so a health check answered by either one means both
// are ready.
func (s *Server) Run(ctx context.Context) error {
	type served struct {
		srv *http.Server
		ln  net.Listener
	}
	errLog := s.Proxy.rec.errorLog()
	newServer := func(h http.Handler) *http.Server {
		return &http.Server{
			Handler: h,
			// Bound only what a slow or hostile client controls before the
			// request is known; bodies and streams may take as long as the
			// model does.
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    MaxHeaderBytes,
			ErrorLog:          errLog,
		}
	}
	all := []served{{newServer(s.Proxy), s.ProxyListener}}
	if s.Gateway != nil {
		all = append(all, served{newServer(s.Gateway), s.GatewayListener})
	}

	errc := make(chan error, len(all))
	for _, sv := range all {
		go func() {
			if err := sv.srv.Serve(sv.ln); !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("serve %s: %w", sv.ln.Addr(), err)
			}
		}()
	}
	var failed error
	select {
	case <-ctx.Done():
	case failed = <-errc:
	}

	timeout := s.ShutdownTimeout
	if timeout <= 0 {
		timeout = DefaultShutdownTimeout
	}
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, sv := range all {
		wg.Go(func() {
			if sv.srv.Shutdown(sctx) != nil {
				sv.srv.Close()
			}
		})
	}
	wg.Go(func() { s.Proxy.Shutdown(sctx) })
	wg.Wait()
	if s.Gateway != nil {
		s.Gateway.Close()
	}
	return failed
}
