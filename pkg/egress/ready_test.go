package egress

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

func TestWaitReadyPollsUntilHealthy(t *testing.T) {
	var polls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if polls.Add(1) < 3 {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		healthz(w)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	assert.NilError(t, WaitReady(ctx, srv.URL+HealthPath, 10*time.Millisecond))
	assert.Equal(t, polls.Load(), int64(3))
}

func TestWaitReadyGivesUp(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "starting", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := WaitReady(ctx, srv.URL+HealthPath, 0)
	assert.Assert(t, errors.Is(err, context.DeadlineExceeded))
	assert.ErrorContains(t, err, "last attempt: status 503 Service Unavailable")
}

func TestWaitReadyRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "proxy:3128/healthz", "ftp://proxy/healthz", "http:///healthz"} {
		err := WaitReady(context.Background(), u, 0)
		assert.ErrorContains(t, err, "invalid health URL")
	}
}

// The real proxy answers its own health check through Server.Run.
func TestWaitReadyAgainstProxy(t *testing.T) {
	tp := startProxy(t, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	assert.NilError(t, WaitReady(ctx, "http://"+tp.addr+HealthPath, 0))
}
