package engine

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/moby/moby/client"

	"github.com/org/sandbox-action/pkg/egress"
	"github.com/org/sandbox-action/pkg/spec"
)

// ProxyReadyTimeout bounds how long a private run waits for its egress
// proxy to come up.
const ProxyReadyTimeout = 15 * time.Second

// The proxy's container says it serves in its log (egress.IsReadyLine):
// watching the log needs no route from here to the proxy, which a laptop's
// Docker Desktop or a container action does not have.

// proxyLogTail is how much of the proxy's log a run keeps for diagnostics.
const proxyLogTail = 64 << 10

// proxyRun is a started egress proxy container.
type proxyRun struct {
	*attached
	ready   chan struct{}
	stdout  lockedBuffer // the final counts
	log     *logWatcher
	started time.Time
}

// createVolume creates the run's socket volume: a tmpfs, owned by the
// proxy's user, that the sandbox mounts read-only.
func (e *Engine) createVolume(ctx context.Context, r spec.Run) error {
	name := r.Sandbox.Egress.Source
	if _, err := e.c.VolumeCreate(uninterrupted(ctx), client.VolumeCreateOptions{
		Name: name, Driver: "local", DriverOpts: r.VolumeOptions(), Labels: r.VolumeLabels(),
	}); err != nil {
		return ctxErr(ctx, fmt.Errorf("create volume %s: %w", name, err))
	}
	return nil
}

// startProxy starts the proxy's container on the default bridge. It
// returns once the proxy is started; awaitReady waits for it to serve. A
// proxy that was created is returned even with an error, so the caller
// can remove it.
func (e *Engine) startProxy(ctx context.Context, p *spec.RunSpec) (*proxyRun, error) {
	px := &proxyRun{ready: make(chan struct{})}
	px.log = &logWatcher{ready: egress.IsReadyLine, onMarker: func() { close(px.ready) }}
	a, err := e.createAttached(ctx, *p, &px.stdout, px.log)
	px.attached = a
	if err != nil {
		return px, err
	}
	px.started = time.Now()
	if err := e.start(ctx, a); err != nil {
		return px, ctxErr(ctx, fmt.Errorf("start proxy: %w", err))
	}
	return px, nil
}

// awaitReady waits until the proxy serves, fails, or ctx ends.
func (px *proxyRun) awaitReady(ctx context.Context) error {
	timer := time.NewTimer(ProxyReadyTimeout)
	defer timer.Stop()
	select {
	case <-px.ready:
		return nil
	case st := <-px.wait.Result:
		return fmt.Errorf("egress proxy exited with code %d before it was ready:\n%s", st.StatusCode, px.log.tail())
	case err := <-px.wait.Error:
		return fmt.Errorf("egress proxy: %w", err)
	case <-timer.C:
		return fmt.Errorf("egress proxy not ready after %s:\n%s", ProxyReadyTimeout, px.log.tail())
	case <-ctx.Done():
		return ctxErr(ctx, ctx.Err())
	}
}

// stop asks the proxy to shut down, which makes it print its final counts,
// and returns them.
func (px *proxyRun) stop(e *Engine) ([]byte, error) {
	if _, err := e.stop(px.attached); err != nil {
		return nil, fmt.Errorf("egress proxy: %w", err)
	}
	if err := px.drain(); err != nil {
		return nil, fmt.Errorf("egress proxy output: %w", err)
	}
	return bytes.TrimSpace(px.stdout.Bytes()), nil
}

// logWatcher keeps the tail of a log stream and calls onMarker once, when a
// line for which ready is true has arrived (never when ready is nil).
type logWatcher struct {
	ready    func(line []byte) bool
	onMarker func()
	mu       sync.Mutex
	buf      []byte
	found    bool
	scanFrom int
}

func (w *logWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for !w.found && w.ready != nil {
		i := bytes.IndexByte(w.buf[w.scanFrom:], '\n')
		if i < 0 {
			break
		}
		line := w.buf[w.scanFrom : w.scanFrom+i]
		w.scanFrom += i + 1
		if w.ready(line) {
			w.found = true
			w.onMarker()
		}
	}
	if len(w.buf) > 2*proxyLogTail {
		drop := len(w.buf) - proxyLogTail
		w.buf = append(w.buf[:0], w.buf[drop:]...)
		w.scanFrom = max(0, w.scanFrom-drop)
	}
	return len(p), nil
}

func (w *logWatcher) tail() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.buf
	if len(b) > proxyLogTail {
		b = b[len(b)-proxyLogTail:]
	}
	return string(b)
}

// lockedBuffer is a bytes.Buffer safe for one writer and one reader.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > proxyLogTail {
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}
