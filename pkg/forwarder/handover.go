package forwarder

import (
	"errors"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// Handing over a connection: rather than relay every byte through a unix
// socket (two more copies through the kernel, and a process on the path),
// the forwarder sends the proxy the accepted TCP connection itself, as a
// descriptor (SCM_RIGHTS), and steps out of its way. The proxy then relays
// between that connection and the upstream directly, TCP to TCP, and the
// sandbox's loopback is still the only network it has.
//
// On one new connection to the socket, the forwarder sends one byte,
// handoverMarker, carrying the descriptor, and waits for one byte back:
// handoverAccepted (the proxy holds the connection; the forwarder closes
// its copy) or handoverRefused (no usable descriptor arrived; the rest of
// the stream is an ordinary relayed connection). When the descriptor cannot
// be sent at all (gVisor, whose host sockets carry no descriptors), nothing
// is sent and the forwarder relays as before. A client that starts with any
// other byte is an ordinary connection, untouched.
//
// The proxy and the forwarder are always the same binary (the host proxy's
// own, or the one the proxy container copies out), so both speak this.
const (
	handoverMarker   byte = 0
	handoverAccepted byte = 'A'
	handoverRefused  byte = 'R'
)

// handoverTimeout bounds the wait for the other side's part of a handover.
const handoverTimeout = 10 * time.Second

// HandOver tries to pass c to the proxy over u. It reports true when the
// proxy took it; false means u is an ordinary connection to relay c over
// (nothing was sent, or the proxy refused), and an error that neither is
// possible.
func HandOver(u *net.UnixConn, c *net.TCPConn) (bool, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return false, nil
	}
	var sendErr error
	if err := raw.Control(func(fd uintptr) {
		_, _, sendErr = u.WriteMsgUnix([]byte{handoverMarker}, syscall.UnixRights(int(fd)), nil)
	}); err != nil || sendErr != nil {
		// Nothing was sent: a kernel or sandbox that passes no
		// descriptors over this socket.
		return false, nil
	}
	var b [1]byte
	u.SetReadDeadline(time.Now().Add(handoverTimeout))
	_, err = u.Read(b[:])
	u.SetReadDeadline(time.Time{})
	switch {
	case err != nil:
		return false, err
	case b[0] == handoverAccepted:
		return true, nil
	case b[0] == handoverRefused:
		return false, nil
	}
	return false, errors.New("unexpected answer to a handover")
}

// MaxOpenConns bounds the connections a HandoverListener holds open at
// once, from its accept until the connection returned is closed. Whoever
// can reach the socket (the sandbox, not only its forwarder) could
// otherwise open connections until the proxy, a host process outside the
// sandbox's limits, runs out of memory or descriptors; past the bound new
// connections wait in the kernel's queue. Agents' tools open tens at once.
const MaxOpenConns = 1024

// HandoverListener wraps a unix socket listener so that a connection over
// which a forwarder hands over its TCP connection is accepted as that TCP
// connection (a Conn around the *net.TCPConn, which io.Copy splices); every
// other connection is accepted as it is (a Conn around the *net.UnixConn).
// Accept returns connections in the order they are sorted out, which a
// client that says nothing can delay only for itself. At most MaxOpenConns
// are open at once.
func HandoverListener(ln net.Listener) net.Listener {
	h := &handoverListener{Listener: ln, conns: make(chan net.Conn), done: make(chan struct{}),
		slots: make(chan struct{}, MaxOpenConns)}
	go h.acceptLoop()
	return h
}

// Conn is a connection a HandoverListener accepted: the *net.TCPConn handed
// over or the *net.UnixConn itself, whose methods it has. Its Close gives
// the listener its slot back.
type Conn interface {
	net.Conn
	// NetConn returns the *net.TCPConn or *net.UnixConn, for io.Copy to
	// splice (it recognises only those).
	NetConn() net.Conn
}

// tcpConn is a TCP connection handed over. The sandbox may keep a copy of
// the socket and change it after the handover, as it likes, so its Close
// undoes what would make closing wait on the sandbox:
//
//   - SO_LINGER, which blocks the closing thread until the sandbox reads
//     what is queued, or for the linger time;
//   - a blocking socket (O_NONBLOCK belongs to the open file, which the
//     copies share): a read or write of the proxy's then blocks a thread,
//     deaf to deadlines, and Close would wait for it; shutdown(2) ends it.
type tcpConn struct {
	*net.TCPConn
	release func()
}

func (c *tcpConn) NetConn() net.Conn { return c.TCPConn }

func (c *tcpConn) Close() error {
	c.TCPConn.CloseRead()
	c.TCPConn.CloseWrite()
	// Right before the close: the sandbox's copy could set it again in
	// between, and a close that still lingers keeps the connection's slot,
	// so at most MaxOpenConns threads (the Go runtime dies at 10 000).
	c.TCPConn.SetLinger(-1)
	err := c.TCPConn.Close()
	c.release()
	return err
}

// unixConn is a connection that handed nothing over.
type unixConn struct {
	*net.UnixConn
	release func()
}

func (c *unixConn) NetConn() net.Conn { return c.UnixConn }

func (c *unixConn) Close() error {
	err := c.UnixConn.Close()
	c.release()
	return err
}

// otherConn is a connection of a listener other than a unix socket's.
type otherConn struct {
	net.Conn
	release func()
}

func (c *otherConn) NetConn() net.Conn { return c.Conn }

func (c *otherConn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}

type handoverListener struct {
	net.Listener
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
	// slots holds a token for each connection open (see MaxOpenConns).
	slots chan struct{}

	mu  sync.Mutex
	err error
}

func (h *handoverListener) acceptLoop() {
	for {
		select {
		case h.slots <- struct{}{}:
		case <-h.done:
			return
		}
		c, err := h.Listener.Accept()
		if err != nil {
			<-h.slots
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if !errors.Is(err, net.ErrClosed) {
				// Out of descriptors or similar: back off, as net/http
				// would, rather than give up serving.
				select {
				case <-time.After(10 * time.Millisecond):
					continue
				case <-h.done:
				}
			}
			h.mu.Lock()
			h.err = err
			h.mu.Unlock()
			h.Close()
			return
		}
		go func() {
			var once sync.Once
			release := func() { once.Do(func() { <-h.slots }) }
			var conn net.Conn
			switch c := takeOver(c).(type) {
			case nil:
				release()
				return
			case *net.TCPConn:
				conn = &tcpConn{TCPConn: c, release: release}
			case *net.UnixConn:
				conn = &unixConn{UnixConn: c, release: release}
			default:
				conn = &otherConn{Conn: c, release: release}
			}
			select {
			case h.conns <- conn:
			case <-h.done:
				conn.Close()
			}
		}()
	}
}

// Accept returns the next connection, handed over or not.
func (h *handoverListener) Accept() (net.Conn, error) {
	select {
	case c := <-h.conns:
		return c, nil
	case <-h.done:
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.err != nil && !errors.Is(h.err, net.ErrClosed) {
			return nil, h.err
		}
		return nil, net.ErrClosed
	}
}

// Close closes the listener; connections not yet accepted are closed.
func (h *handoverListener) Close() error {
	var err error
	h.once.Do(func() {
		close(h.done)
		err = h.Listener.Close()
	})
	return err
}

// takeOver sorts out a new connection: the TCP connection handed over on
// it, or the connection itself. It returns nil when the connection failed
// in the middle of a handover.
func takeOver(c net.Conn) net.Conn {
	u, ok := c.(*net.UnixConn)
	if !ok {
		return c
	}
	if first, err := peekByte(u); err != nil || first != handoverMarker {
		// Anything else, an early end or a silent client included, is
		// for the server to handle.
		return u
	}
	var b [1]byte
	oob := make([]byte, syscall.CmsgSpace(4*4))
	u.SetReadDeadline(time.Now().Add(handoverTimeout))
	n, oobn, _, _, err := u.ReadMsgUnix(b[:], oob)
	u.SetReadDeadline(time.Time{})
	if err != nil || n != 1 {
		u.Close()
		return nil
	}
	tcp := receivedTCP(oob[:oobn])
	if tcp == nil {
		// The marker came without a usable descriptor (a security module
		// may drop it): the rest is an ordinary connection.
		if _, err := u.Write([]byte{handoverRefused}); err != nil {
			u.Close()
			return nil
		}
		return u
	}
	_, err = u.Write([]byte{handoverAccepted})
	u.Close()
	if err != nil {
		tcp.Close()
		return nil
	}
	return tcp
}

// peekByte waits up to handoverTimeout for the first byte of u without
// consuming it.
func peekByte(u *net.UnixConn) (byte, error) {
	raw, err := u.SyscallConn()
	if err != nil {
		return 0, err
	}
	var b [1]byte
	var n int
	var perr error
	u.SetReadDeadline(time.Now().Add(handoverTimeout))
	defer u.SetReadDeadline(time.Time{})
	err = raw.Read(func(fd uintptr) bool {
		n, _, perr = syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK)
		return perr != syscall.EAGAIN
	})
	switch {
	case err != nil:
		return 0, err
	case perr != nil:
		return 0, perr
	case n == 0:
		return 0, errors.New("closed before its first byte")
	}
	return b[0], nil
}

// receivedTCP turns the descriptors in a control message into the TCP
// connection handed over: exactly one descriptor, of a TCP socket. Any
// other descriptor is closed.
func receivedTCP(oob []byte) *net.TCPConn {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return nil
	}
	var fds []int
	for _, m := range msgs {
		if got, err := syscall.ParseUnixRights(&m); err == nil {
			fds = append(fds, got...)
		}
	}
	if len(fds) != 1 {
		for _, fd := range fds {
			syscall.Close(fd)
		}
		return nil
	}
	f := os.NewFile(uintptr(fds[0]), "handed-over")
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		return nil
	}
	tcp, ok := c.(*net.TCPConn)
	if !ok {
		c.Close()
		return nil
	}
	return tcp
}
