package forwarder

import (
	"os"
	"strconv"
	"syscall"
	"testing"
	"unsafe"

	"gotest.tools/v3/assert"
)

// openPTY opens a pseudo-terminal pair the way posix_openpt, unlockpt and
// ptsname do, with nothing but the kernel's ioctls.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	assert.NilError(t, err)
	t.Cleanup(func() { m.Close() })
	var unlock int32
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock)))
	assert.Assert(t, errno == 0, "unlockpt: %v", errno)
	var n uint32
	_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n)))
	assert.Assert(t, errno == 0, "ptsname: %v", errno)
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	assert.NilError(t, err)
	return m, s
}
