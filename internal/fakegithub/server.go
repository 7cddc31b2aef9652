// Package fakegithub is a fake GitHub REST API for tests: the endpoints the
// action uses, backed by memory, recording every request and able to fail on
// demand (5xx, secondary rate limits, 422 on reviews). It runs inside a test
// (New, with httptest) or as a standalone server in a container for the
// end-to-end suite (see ./cmd), where /_fake/ endpoints seed and inspect it.
package fakegithub

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultToken authenticates as DefaultBot on a fake made by New.
const DefaultToken = "ghs_fake0000000000000000000000000000000"

// DefaultBot is the account GITHUB_TOKEN acts as.
var DefaultBot = User{Login: "github-actions[bot]", Type: "Bot", ID: 41898282, Token: DefaultToken}

// Fake is the fake API. Its methods are safe for concurrent use.
type Fake struct {
	mu       sync.Mutex
	state    State
	nextID   int64
	requests []Request
	faults   []*Fault
	handler  http.Handler
	now      func() time.Time
}

// NewFake returns a fake with DefaultBot as its only user.
func NewFake() *Fake {
	f := &Fake{nextID: 1000, now: time.Now}
	f.state.Users = []User{DefaultBot}
	mux := http.NewServeMux()
	f.routes(mux)
	// GitHub Enterprise serves the same API under /api/v3.
	mux.Handle("/api/v3/", http.StripPrefix("/api/v3", mux))
	f.handler = f.record(mux)
	return f
}

// Server is a fake running on a loopback httptest server.
type Server struct {
	*Fake
	*httptest.Server
}

// New starts a fake on loopback, closed when the test ends.
func New(t interface{ Cleanup(func()) }) *Server {
	f := NewFake()
	s := &Server{Fake: f, Server: httptest.NewServer(f)}
	t.Cleanup(s.Close)
	return s
}

// ServeHTTP serves the API and the /_fake/ control endpoints.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) { f.handler.ServeHTTP(w, r) }

// Seed replaces the state. Users without a token keep DefaultBot's
// existence: DefaultBot is added when absent.
func (f *Fake) Seed(s State) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.ContainsFunc(s.Users, func(u User) bool { return u.Login == DefaultBot.Login }) {
		s.Users = append([]User{DefaultBot}, s.Users...)
	}
	f.state = s
	for _, c := range append(append([]*Comment{}, s.Comments...), s.ReviewComments...) {
		f.nextID = max(f.nextID, c.ID)
	}
	for _, r := range s.Reviews {
		f.nextID = max(f.nextID, r.ID)
	}
	for _, r := range s.Reactions {
		f.nextID = max(f.nextID, r.ID)
	}
}

// State returns a deep copy of the current state.
func (f *Fake) State() State {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, _ := json.Marshal(f.state)
	var s State
	_ = json.Unmarshal(b, &s)
	return s
}

// AddUser adds an account.
func (f *Fake) AddUser(u User) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state.Users = append(f.state.Users, u)
}

// SetPermission gives login role ("none", "read", "triage", "write",
// "maintain", "admin") on repo ("owner/name").
func (f *Fake) SetPermission(repo, login, role string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.state.Permissions == nil {
		f.state.Permissions = map[string]map[string]string{}
	}
	if f.state.Permissions[repo] == nil {
		f.state.Permissions[repo] = map[string]string{}
	}
	f.state.Permissions[repo][login] = role
}

// AddPull adds a pull request.
func (f *Fake) AddPull(p *Pull) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state.Pulls = append(f.state.Pulls, p)
}

// AddComment adds an issue comment as user and returns its id.
func (f *Fake) AddComment(repo string, issue int, user, body string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := &Comment{ID: f.id(), Repo: repo, Issue: issue, User: user, Body: body, CreatedAt: f.now().UTC(), UpdatedAt: f.now().UTC()}
	f.state.Comments = append(f.state.Comments, c)
	return c.ID
}

// AddReviewComment adds a review comment (a comment on a diff line).
func (f *Fake) AddReviewComment(repo string, pull int, id int64, user, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state.ReviewComments = append(f.state.ReviewComments, &Comment{ID: id, Repo: repo, Issue: pull, User: user, Body: body, CreatedAt: f.now().UTC(), UpdatedAt: f.now().UTC()})
}

// Comments returns the issue comments of repo#issue, oldest first.
func (f *Fake) Comments(repo string, issue int) []Comment {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Comment
	for _, c := range f.state.Comments {
		if c.Repo == repo && c.Issue == issue {
			out = append(out, *c)
		}
	}
	return out
}

// Reviews returns the reviews of repo#pull.
func (f *Fake) Reviews(repo string, pull int) []Review {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Review
	for _, r := range f.state.Reviews {
		if r.Repo == repo && r.Pull == pull {
			out = append(out, *r)
		}
	}
	return out
}

// Reactions returns every reaction.
func (f *Fake) Reactions() []Reaction {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Reaction
	for _, r := range f.state.Reactions {
		out = append(out, *r)
	}
	return out
}

// Requests returns the requests received so far (not /_fake/ ones).
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

// Writes returns the requests that were not GETs.
func (f *Fake) Writes() []Request {
	var out []Request
	for _, r := range f.Requests() {
		if r.Method != http.MethodGet {
			out = append(out, r)
		}
	}
	return out
}

// Fail adds faults.
func (f *Fake) Fail(faults ...Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ft := range faults {
		ft := ft
		if ft.Times <= 0 {
			ft.Times = 1
		}
		f.faults = append(f.faults, &ft)
	}
}

// ServerError fails the first times requests matching method and pattern
// with 500.
func ServerError(method, pattern string, times int) Fault {
	return Fault{Method: method, Path: pattern, Times: times, Status: http.StatusInternalServerError}
}

// SecondaryRateLimit answers a matching request with GitHub's secondary
// rate limit: 403, its message, and Retry-After seconds.
func SecondaryRateLimit(method, pattern string, retryAfter int) Fault {
	return Fault{
		Method: method, Path: pattern, Status: http.StatusForbidden,
		Headers: map[string]string{"Retry-After": strconv.Itoa(retryAfter)},
		Body:    `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`,
	}
}

// ReviewUnprocessable answers a review whose request body contains
// bodyContains with 422 and GitHub's messages (as strings, the way GitHub
// sends them for reviews).
func ReviewUnprocessable(bodyContains string, messages ...string) Fault {
	if len(messages) == 0 {
		messages = []string{"Line could not be resolved"}
	}
	b, _ := json.Marshal(map[string]any{
		"message":           "Unprocessable Entity",
		"errors":            messages,
		"documentation_url": "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request",
		"status":            "422",
	})
	return Fault{Method: http.MethodPost, Path: "/repos/*/*/pulls/*/reviews", BodyContains: bodyContains, Status: http.StatusUnprocessableEntity, Body: string(b)}
}

// fault returns the first live fault matching the request and spends it.
func (f *Fake) fault(method, p string, body []byte) *Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, ft := range f.faults {
		if ft.Method != "" && ft.Method != method {
			continue
		}
		if ft.Path != "" {
			if ok, _ := path.Match(ft.Path, p); !ok {
				continue
			}
		}
		if ft.BodyContains != "" && !bytes.Contains(body, []byte(ft.BodyContains)) {
			continue
		}
		ft.Times--
		if ft.Times <= 0 {
			f.faults = slices.Delete(f.faults, i, i+1)
		}
		c := *ft
		return &c
	}
	return nil
}

// record logs every API request with its body and the status answered, and
// applies faults before the API sees the request.
func (f *Fake) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/_fake/") {
			f.control(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		apiPath := strings.TrimPrefix(r.URL.Path, "/api/v3")
		if ft := f.fault(r.Method, apiPath, body); ft != nil {
			for k, v := range ft.Headers {
				rw.Header().Set(k, v)
			}
			msg := ft.Body
			if msg == "" {
				msg = fmt.Sprintf(`{"message":%q}`, http.StatusText(ft.Status))
			}
			rw.Header().Set("Content-Type", "application/json; charset=utf-8")
			rw.WriteHeader(ft.Status)
			_, _ = io.WriteString(rw, msg)
		} else {
			next.ServeHTTP(rw, r)
		}
		f.mu.Lock()
		f.requests = append(f.requests, Request{
			Method: r.Method, Path: apiPath, Query: r.URL.RawQuery, Accept: r.Header.Get("Accept"),
			Body: string(body), Status: rw.status, Time: f.now().UTC(),
		})
		f.mu.Unlock()
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(s int) {
	w.status = s
	w.ResponseWriter.WriteHeader(s)
}

// control serves /_fake/: requests (GET), state (GET, POST to seed),
// faults (POST a Fault or a list), reset (POST: forget requests and faults).
func (f *Fake) control(w http.ResponseWriter, r *http.Request) {
	switch r.Method + " " + r.URL.Path {
	case "GET /_fake/requests":
		writeJSON(w, http.StatusOK, f.Requests())
	case "GET /_fake/state":
		writeJSON(w, http.StatusOK, f.State())
	case "POST /_fake/state":
		var s State
		if err := json.NewDecoder(r.Body).Decode(&s); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": "state: " + err.Error()})
			return
		}
		f.Seed(s)
		w.WriteHeader(http.StatusNoContent)
	case "POST /_fake/faults":
		b, _ := io.ReadAll(r.Body)
		var list []Fault
		if err := json.Unmarshal(b, &list); err != nil {
			var one Fault
			if err := json.Unmarshal(b, &one); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"message": "faults: want a fault or a list: " + err.Error()})
				return
			}
			list = []Fault{one}
		}
		f.Fail(list...)
		w.WriteHeader(http.StatusNoContent)
	case "POST /_fake/reset":
		f.mu.Lock()
		f.requests, f.faults = nil, nil
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "unknown control endpoint " + r.Method + " " + r.URL.Path})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// id returns a fresh id; f.mu is held.
func (f *Fake) id() int64 {
	f.nextID++
	return f.nextID
}
