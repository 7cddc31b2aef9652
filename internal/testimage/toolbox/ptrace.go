package main

import (
	"fmt"
	"runtime"
	"strconv"
	"syscall"
)

// ptraceRequests are the ways to start tracing a process.
var ptraceRequests = map[string]int{
	"attach": syscall.PTRACE_ATTACH,
	"seize":  0x4206, // PTRACE_SEIZE, not named by package syscall
}

// ptraceProbe tries to trace PID (default 1) with MODE (attach or seize)
// and prints "traced" when the kernel allowed it. A traced process is let
// go at once, so a sandbox where ptrace works does not hang: after ATTACH
// the tracee stops, and is waited for and detached.
func ptraceProbe(a []string) error {
	mode := arg(a, 0, "attach")
	req, ok := ptraceRequests[mode]
	if !ok {
		return fmt.Errorf("mode %q: want attach or seize", mode)
	}
	pid, err := strconv.Atoi(arg(a, 1, "1"))
	if err != nil {
		return err
	}
	// ptrace requests must come from the thread that attached.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if _, _, e := syscall.Syscall6(syscall.SYS_PTRACE, uintptr(req), uintptr(pid), 0, 0, 0, 0); e != 0 {
		return fmt.Errorf("ptrace %s %d: %w", mode, pid, e)
	}
	fmt.Println("traced", pid)
	if mode == "attach" {
		var ws syscall.WaitStatus
		if _, err := syscall.Wait4(pid, &ws, 0x40000000 /* __WALL */, nil); err != nil {
			return fmt.Errorf("wait for %d: %w", pid, err)
		}
		return syscall.PtraceDetach(pid)
	}
	// A seized tracee keeps running; it is detached when this process exits.
	return nil
}
