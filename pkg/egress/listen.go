package egress

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/org/sandbox-action/pkg/forwarder"
)

// The contract between `sandbox proxy` and whoever starts it (the engine,
// as a child process or a container) is kept here, in one place:
//
//   - argv: Command.Args; listen addresses as Listen reads them;
//   - ready: the proxy logs one JSON line with "msg":"listening" on stderr
//     once its listeners are bound (IsReadyLine);
//   - stats: on SIGTERM or SIGINT it prints its final Stats as one JSON line
//     on stdout (ParseStats).

// ReadyMessage is the msg of the log line the proxy prints once it listens.
const ReadyMessage = "listening"

var readyField = []byte(`"msg":"` + ReadyMessage + `"`)

// IsReadyLine reports whether a line of the proxy's stderr says it serves.
func IsReadyLine(line []byte) bool { return bytes.Contains(line, readyField) }

// ParseStats reads the JSON line the proxy prints on stdout when it stops.
func ParseStats(line []byte) (Stats, error) {
	var s Stats
	if err := json.Unmarshal(bytes.TrimSpace(line), &s); err != nil {
		return s, fmt.Errorf("egress stats: %w", err)
	}
	return s, nil
}

// Listen opens the listener an address names:
//
//   - "unix:/path": a unix socket, created (an old file at path is
//     replaced) with mode 0666: who may connect is decided by who may
//     reach the directory, which is the run's alone;
//   - "fd:N": a listening socket inherited as descriptor N, bound and
//     owned by the parent (the engine passes sockets it created for the
//     sandbox's user to a proxy that runs as nobody);
//   - anything else: TCP, as net.Listen("tcp", addr).
//
// A unix socket's listener takes over the TCP connections a sandbox's
// forwarder hands over on it (see forwarder.HandoverListener): the proxy
// then relays them to the upstream directly. It holds at most
// forwarder.MaxOpenConns connections open at once.
func Listen(addr string) (net.Listener, error) {
	switch {
	case strings.HasPrefix(addr, "unix:"):
		path := strings.TrimPrefix(addr, "unix:")
		if !strings.HasPrefix(path, "/") {
			return nil, fmt.Errorf("listen %s: the socket path must be absolute", addr)
		}
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			return nil, fmt.Errorf("listen %s: %w", addr, err)
		}
		ln, err := net.Listen("unix", path)
		if err != nil {
			return nil, err
		}
		if err := os.Chmod(path, 0o666); err != nil {
			ln.Close()
			return nil, fmt.Errorf("listen %s: %w", addr, err)
		}
		return forwarder.HandoverListener(ln), nil
	case strings.HasPrefix(addr, "fd:"):
		n, err := strconv.Atoi(strings.TrimPrefix(addr, "fd:"))
		if err != nil || n < 3 {
			return nil, fmt.Errorf("listen %s: want fd:N with N ≥ 3 (an inherited descriptor)", addr)
		}
		f := os.NewFile(uintptr(n), addr)
		if f == nil {
			return nil, fmt.Errorf("listen %s: no such descriptor", addr)
		}
		defer f.Close()
		ln, err := net.FileListener(f)
		if err != nil {
			return nil, fmt.Errorf("listen %s: not a listening socket: %w", addr, err)
		}
		if _, ok := ln.(*net.UnixListener); ok {
			return forwarder.HandoverListener(ln), nil
		}
		return ln, nil
	}
	return net.Listen("tcp", addr)
}
