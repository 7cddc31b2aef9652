package egress

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

// On one long-lived connection the sandbox can pipeline requests and try
// to smuggle one inside another's body (Content-Length against chunked),
// or speak HTTP/2 without TLS: each request the gateway parses out of the
// stream is authenticated and checked on its own, and none of them brings
// the key anywhere but the upstream, or to a call other than the agent's.
func TestGatewayChecksEveryRequestOfAConnection(t *testing.T) {
	other := startFakeAPI(t, nil)
	otherHost := strings.TrimPrefix(other.srv.URL, "https://")
	api := startFakeAPI(t, nil)
	srv := gatewayTrustingBoth(t, api, other)
	auth := "X-Api-Key: " + testToken + "\r\n"

	for _, tc := range []struct {
		name   string
		stream string
		// statuses are the answers, in order, to the requests the
		// gateway reads from the stream.
		statuses []int
		// paths are what the upstream receives, in order.
		paths []string
	}{
		{"a request without the token after one with it",
			"GET /anthropic/v1/models HTTP/1.1\r\nHost: gw\r\n" + auth + "\r\n" +
				"GET " + other.srv.URL + "/anthropic/v1/models HTTP/1.1\r\nHost: " + otherHost + "\r\nConnection: close\r\n\r\n",
			[]int{200, 401}, []string{"/v1/models"}},
		{"a forbidden call after an allowed one",
			"GET /anthropic/v1/models HTTP/1.1\r\nHost: gw\r\n" + auth + "\r\n" +
				"POST /anthropic/v1/files HTTP/1.1\r\nHost: gw\r\n" + auth + "Content-Length: 0\r\nConnection: close\r\n\r\n",
			[]int{200, 403}, []string{"/v1/models"}},
		// The length is ignored (RFC 9112 6.3): the body ends with the
		// last chunk, and what follows is a request of its own.
		{"a request smuggled in a chunked body that also has a length",
			"POST /anthropic/v1/messages HTTP/1.1\r\nHost: gw\r\n" + auth + "Content-Length: 60\r\nTransfer-Encoding: chunked\r\n\r\n" +
				"0\r\n\r\nPOST /anthropic/v1/files HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n",
			[]int{200, 401}, []string{"/v1/messages"}},
		{"a request smuggled after a chunked body",
			"POST /anthropic/v1/messages HTTP/1.1\r\nHost: gw\r\n" + auth + "Transfer-Encoding: chunked\r\n\r\n" +
				"2\r\n{}\r\n0\r\n\r\nPOST /anthropic/v1/files HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n",
			[]int{200, 401}, []string{"/v1/messages"}},
		{"HTTP/2 with prior knowledge",
			"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := api.hits.Load()
			c, err := net.Dial("tcp", srv.Listener.Addr().String())
			assert.NilError(t, err)
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			_, err = io.WriteString(c, tc.stream)
			assert.NilError(t, err)
			br := bufio.NewReader(c)
			var statuses []int
			for {
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					break
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				statuses = append(statuses, resp.StatusCode)
			}
			if tc.statuses != nil {
				assert.DeepEqual(t, statuses, tc.statuses)
			} else {
				for _, s := range statuses {
					assert.Assert(t, s >= 400, "answered %d", s)
				}
			}
			assert.Equal(t, api.hits.Load()-before, int64(len(tc.paths)))
			for _, p := range tc.paths {
				got := <-api.seen
				assert.Equal(t, got.Path, p)
				assert.Equal(t, got.Header.Get("X-Api-Key"), realKeys[Anthropic])
			}
		})
	}
	assert.Equal(t, other.hits.Load(), int64(0), "the other host received a request")
}
