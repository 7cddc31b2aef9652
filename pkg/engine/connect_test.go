package engine

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

func TestConnectWithoutDaemonSaysSo(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix://"+t.TempDir()+"/no-docker.sock")
	_, err := Connect(context.Background())
	assert.ErrorContains(t, err, "not reachable")
	assert.ErrorContains(t, err, "no-docker.sock")
}

func TestConnectToTooOldDaemonSaysSo(t *testing.T) {
	// A daemon from Docker 1.12 answers pings with API 1.24.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("API-Version", "1.24")
		w.Header().Set("OSType", "linux")
		if strings.HasSuffix(r.URL.Path, "/_ping") {
			_, _ = w.Write([]byte("OK"))
			return
		}
		http.Error(w, "unexpected request "+r.URL.Path, http.StatusTeapot)
	}))
	defer srv.Close()
	t.Setenv("DOCKER_HOST", "tcp://"+strings.TrimPrefix(srv.URL, "http://"))
	_, err := Connect(context.Background())
	assert.ErrorContains(t, err, "too old")
	assert.ErrorContains(t, err, "1.24")
}
