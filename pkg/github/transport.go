package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofri/go-github-ratelimit/v2/github_ratelimit"
	"github.com/gofri/go-github-ratelimit/v2/github_ratelimit/github_primary_ratelimit"
	"github.com/gofri/go-github-ratelimit/v2/github_ratelimit/github_secondary_ratelimit"
)

// GiveUpError is returned when a request kept failing with a retryable answer
// (5xx, a rate limit, a broken connection) until retrying again would pass the
// deadline or the retry budget.
type GiveUpError struct {
	Method, URL string
	Attempts    int
	// Status is the last HTTP status, 0 after a transport error.
	Status int
	// Message is GitHub's message in the last answer, or the last transport
	// error.
	Message string
	// Wait is how long GitHub (or the backoff) asked to wait next.
	Wait time.Duration
	// Why names what stopped the retries.
	Why string
}

func (e *GiveUpError) Error() string {
	what := e.Message
	if e.Status != 0 {
		what = fmt.Sprintf("HTTP %d %s", e.Status, e.Message)
	}
	return fmt.Sprintf("%s %s: gave up after %d attempts (%s): %s", e.Method, e.URL, e.Attempts, e.Why, strings.TrimSpace(what))
}

// retryTransport retries what GitHub says is worth retrying: 5xx with
// exponential backoff, and 403/429 rate limits after the time GitHub names
// (Retry-After, x-ratelimit-reset). It never waits past its deadline: a run
// has a budget and the status comment must still be finalised inside it.
//
// Under it sits go-github-ratelimit, which already sleeps through secondary
// rate limits; it is told per request not to sleep past the deadline, and
// what it hands back is handled here.
type retryTransport struct {
	next       http.RoundTripper
	deadline   time.Time
	minBackoff time.Duration
	maxBackoff time.Duration
	maxRetries int
	logf       func(format string, args ...any)
	now        func() time.Time
}

func newTransport(base http.RoundTripper, o Options) *retryTransport {
	if base == nil {
		base = http.DefaultTransport
	}
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	limited := github_ratelimit.New(rewind{base},
		github_secondary_ratelimit.WithLimitDetectedCallback(func(cc *github_secondary_ratelimit.CallbackContext) {
			if cc.Request != nil && cc.ResetTime != nil {
				logf("github: %s %s: secondary rate limit; waiting until %s", cc.Request.Method, cc.Request.URL.Path, cc.ResetTime.Format(time.RFC3339))
			}
		}))
	t := &retryTransport{
		next:       limited,
		deadline:   o.Deadline,
		minBackoff: o.MinBackoff,
		maxBackoff: 30 * time.Second,
		maxRetries: o.MaxRetries,
		logf:       logf,
		now:        time.Now,
	}
	if t.minBackoff <= 0 {
		t.minBackoff = time.Second
	}
	if t.maxRetries <= 0 {
		t.maxRetries = 6
	}
	return t
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	deadline := t.deadline
	if d, ok := ctx.Deadline(); ok && (deadline.IsZero() || d.Before(deadline)) {
		deadline = d
	}
	if req.Body != nil && req.GetBody == nil {
		// Every request go-github makes has GetBody; anything else is read
		// once so that it can be sent again.
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(string(b))), nil }
		req.Body, _ = req.GetBody()
	}
	for attempt := 1; ; attempt++ {
		r := req.Clone(ctx)
		if !deadline.IsZero() {
			// The rate limiter below sleeps through secondary limits by
			// itself; it must not sleep past what this run has left.
			left := max(deadline.Sub(t.now()), 0)
			r = r.WithContext(github_ratelimit.WithOverrideConfig(ctx, github_secondary_ratelimit.WithSingleSleepLimit(left, nil)))
		}
		if req.GetBody != nil {
			b, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			r.Body = b
		}
		resp, err := t.next.RoundTrip(r)
		wait, why, retry := t.classify(resp, err, attempt)
		if !retry {
			return resp, err
		}
		giveUp := &GiveUpError{Method: req.Method, URL: req.URL.Redacted(), Attempts: attempt, Wait: wait}
		if resp != nil {
			giveUp.Status = resp.StatusCode
			giveUp.Message = apiMessage(resp)
			resp.Body.Close()
		} else {
			giveUp.Message = err.Error()
		}
		switch {
		case attempt > t.maxRetries:
			giveUp.Why = fmt.Sprintf("retry budget of %d spent", t.maxRetries)
			return nil, giveUp
		case !deadline.IsZero() && t.now().Add(wait).After(deadline):
			giveUp.Why = fmt.Sprintf("waiting %s more would pass the deadline", wait.Round(time.Millisecond))
			return nil, giveUp
		}
		t.logf("github: %s %s: %s; retrying in %s (attempt %d)", req.Method, req.URL.Path, why, wait.Round(time.Millisecond), attempt+1)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, ctx.Err()
		case <-timer.C:
		}
	}
}

// classify decides whether an answer is worth another attempt and how long
// to wait before it.
func (t *retryTransport) classify(resp *http.Response, err error, attempt int) (wait time.Duration, why string, retry bool) {
	if err != nil {
		var primary *github_primary_ratelimit.RateLimitReachedError
		switch {
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			return 0, "", false
		case errors.As(err, &primary):
			if primary.ResetTime == nil {
				return 0, "", false
			}
			return max(primary.ResetTime.Sub(t.now()), 0) + time.Second, "primary rate limit", true
		}
		return t.backoff(attempt), "transport error: " + err.Error(), true
	}
	switch s := resp.StatusCode; {
	case s == http.StatusInternalServerError, s == http.StatusBadGateway, s == http.StatusServiceUnavailable, s == http.StatusGatewayTimeout:
		if w, ok := retryAfter(resp.Header, t.now()); ok {
			return w, resp.Status, true
		}
		return t.backoff(attempt), resp.Status, true
	case s == http.StatusForbidden, s == http.StatusTooManyRequests:
		if w, ok := retryAfter(resp.Header, t.now()); ok {
			return w, "rate limited (" + resp.Status + ")", true
		}
		if resp.Header.Get("X-Ratelimit-Remaining") == "0" {
			if w, ok := resetAfter(resp.Header, t.now()); ok {
				return w, "rate limit exhausted (" + resp.Status + ")", true
			}
		}
		if s == http.StatusTooManyRequests {
			return t.backoff(attempt), resp.Status, true
		}
	}
	return 0, "", false
}

// backoff is exponential with a little jitter, so that parallel runs that
// failed together do not come back together.
func (t *retryTransport) backoff(attempt int) time.Duration {
	d := t.minBackoff << (attempt - 1)
	if d > t.maxBackoff || d <= 0 {
		d = t.maxBackoff
	}
	return d + time.Duration(rand.Int64N(int64(d)/10+1))
}

// retryAfter reads Retry-After: seconds (what GitHub sends) or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0), true
	}
	return 0, false
}

// resetAfter reads x-ratelimit-reset, the Unix time the limit resets at.
func resetAfter(h http.Header, now time.Time) (time.Duration, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-Ratelimit-Reset")), 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	// A second more: the reset is rounded down to whole seconds.
	return max(time.Unix(n, 0).Sub(now), 0) + time.Second, true
}

// apiMessage reads GitHub's "message" from an error answer, for the
// GiveUpError.
func apiMessage(resp *http.Response) string {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var m struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &m) == nil && m.Message != "" {
		return m.Message
	}
	return strings.TrimSpace(string(b))
}

// rewind gives every attempt a fresh body. go-github-ratelimit retries a
// request by sending it again, after the first attempt has drained its body;
// without this a retried POST would go out empty.
type rewind struct{ next http.RoundTripper }

func (r rewind) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.GetBody == nil || req.Body == nil || req.Body == http.NoBody {
		return r.next.RoundTrip(req)
	}
	b, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	req2 := req.Clone(req.Context())
	req2.Body = b
	return r.next.RoundTrip(req2)
}
