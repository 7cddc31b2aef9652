package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// signalNames are the signals `signal` sends by name.
var signalNames = map[string]syscall.Signal{
	"KILL": syscall.SIGKILL, "TERM": syscall.SIGTERM, "STOP": syscall.SIGSTOP, "CONT": syscall.SIGCONT,
}

// signalProc sends SIG to TARGET ("parent", or a process id) and prints the
// target's command line and the result of kill(2): what an agent can do to
// the processes around it in its sandbox.
func signalProc(a []string) error {
	target := arg(a, 0, "parent")
	pid := os.Getppid()
	if target != "parent" {
		var err error
		if pid, err = strconv.Atoi(target); err != nil {
			return fmt.Errorf("target %q: want parent or a process id", target)
		}
	}
	sig, ok := signalNames[arg(a, 1, "")]
	if !ok {
		return fmt.Errorf("signal %q: want KILL, TERM, STOP or CONT", arg(a, 1, ""))
	}
	cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	fmt.Printf("pid %d: %s\n", pid, strings.TrimSpace(string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))))
	if err := syscall.Kill(pid, sig); err != nil {
		return fmt.Errorf("kill %d %s: %w", pid, sig, err)
	}
	fmt.Printf("kill %d %s: ok\n", pid, arg(a, 1, ""))
	return nil
}

// awaitFile waits until PATH exists (at most TIMEOUT): a test outside the
// sandbox says "go on" by creating it in the workspace.
func awaitFile(a []string) error {
	limit, err := time.ParseDuration(arg(a, 1, "60s"))
	if err != nil {
		return err
	}
	deadline := time.Now().Add(limit)
	for {
		if _, err := os.Stat(arg(a, 0, "")); err == nil {
			fmt.Println("found", arg(a, 0, ""))
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not appear within %s", arg(a, 0, ""), limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fetchNew is fetch over a connection of its own, never one kept from an
// earlier fetch, within LIMIT: fetch-new LIMIT URL.
func fetchNew(a []string) error {
	limit, err := time.ParseDuration(arg(a, 0, "10s"))
	if err != nil {
		return err
	}
	tr := &http.Transport{Proxy: http.ProxyFromEnvironment, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	return fetchWith(&http.Client{Timeout: limit, Transport: tr}, a[min(1, len(a)):])
}
