// Package fakemodel is a stand-in for a model API (a vendor's, or a LiteLLM
// or corporate gateway in front of them) for the end-to-end suite: it
// serves TLS with a certificate from a test CA, answers the calls the
// agent CLIs make with small valid responses, and records every request it
// received, with the credentials it carried, at GET /_fake/requests.
package fakemodel

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
)

// RequestsPath lists what the server received, oldest first (JSON
// []Request). It is not recorded itself.
const RequestsPath = "/_fake/requests"

// credentialHeaders are the headers a model API takes its key in.
var credentialHeaders = []string{"X-Api-Key", "Authorization", "X-Goog-Api-Key"}

// Request is one request the server received.
type Request struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Query  string `json:"query,omitempty"`
	Host   string `json:"host"`
	// Credentials are the credential headers it carried (X-Api-Key,
	// Authorization, X-Goog-Api-Key), by canonical name.
	Credentials map[string]string `json:"credentials,omitempty"`
	// Headers are the names of every header it carried.
	Headers []string `json:"headers"`
}

// Server is the fake API's handler.
type Server struct {
	mu   sync.Mutex
	reqs []Request
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == RequestsPath {
		s.mu.Lock()
		b, err := json.Marshal(append([]Request{}, s.reqs...))
		s.mu.Unlock()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
	rq := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Host: r.Host}
	for name := range r.Header {
		rq.Headers = append(rq.Headers, name)
	}
	for _, h := range credentialHeaders {
		if v := r.Header.Get(h); v != "" {
			if rq.Credentials == nil {
				rq.Credentials = map[string]string{}
			}
			rq.Credentials[h] = v
		}
	}
	s.mu.Lock()
	s.reqs = append(s.reqs, rq)
	s.mu.Unlock()

	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/v1/messages"):
		io.WriteString(w, `{"id":"msg_fake","type":"message","role":"assistant","model":"fake-model",`+
			`"content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1}}`)
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/v1/responses"):
		io.WriteString(w, `{"id":"resp_fake","object":"response","status":"completed","model":"fake-model",`+
			`"output":[{"type":"message","role":"assistant","content":[{"type":"output_text","text":"ok"}]}]}`)
	case r.Method == http.MethodPost && strings.Contains(r.URL.Path, ":generateContent"):
		io.WriteString(w, `{"candidates":[{"content":{"role":"model","parts":[{"text":"ok"}]},"finishReason":"STOP"}]}`)
	default:
		io.WriteString(w, `{"data":[]}`)
	}
}

// LocalAddresses are the addresses of this machine's interfaces, for a
// certificate valid wherever a container is reached.
func LocalAddresses() ([]string, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			out = append(out, ipn.IP.String())
		}
	}
	return out, nil
}
