package agent

import "sync"

// Tail is an io.Writer that keeps only the last bytes written to it, such as
// the end of an agent's standard error for Parser.Finish. It is safe for
// concurrent use.
type Tail struct {
	mu  sync.Mutex
	n   int
	buf []byte
}

// NewTail returns a Tail keeping the last n bytes.
func NewTail(n int) *Tail {
	return &Tail{n: n}
}

// Write keeps the end of b; it never fails.
func (t *Tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(b) >= t.n {
		t.buf = append(t.buf[:0], b[len(b)-t.n:]...)
		return len(b), nil
	}
	t.buf = append(t.buf, b...)
	// Compact only past twice the limit, so writes stay amortised O(len(b)).
	if len(t.buf) > 2*t.n {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.n:]...)
	}
	return len(b), nil
}

// Bytes returns a copy of the last n bytes written.
func (t *Tail) Bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buf
	if len(b) > t.n {
		b = b[len(b)-t.n:]
	}
	return append([]byte(nil), b...)
}
