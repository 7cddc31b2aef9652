//go:build linux

package main

import (
	"fmt"
	"syscall"
)

// undumpable makes this process undumpable: its /proc entries (environ,
// memory, maps) become root's and no process of its own user may trace it.
// The proxy needs that: it holds the real model keys, which arrive in its
// environment, and started as root it runs as nobody, a uid it shares with
// other processes of the host (daemons, other runs' proxies), which could
// otherwise read the keys out of it.
func undumpable() error {
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_DUMPABLE, 0, 0); errno != 0 {
		return fmt.Errorf("prctl(PR_SET_DUMPABLE): %w", errno)
	}
	return nil
}
