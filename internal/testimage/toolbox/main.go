// Command toolbox is the only program in the tests' scratch image. Each
// subcommand is one probe a test runs inside a sandbox; results go to stdout
// and failures set a non-zero exit code, so tests assert on what the sandbox
// really allowed.
package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

var commands = map[string]func(args []string) error{
	"echo":   func(a []string) error { fmt.Println(strings.Join(a, " ")); return nil },
	"stderr": func(a []string) error { fmt.Fprintln(os.Stderr, strings.Join(a, " ")); return nil },
	"exit":   exitWith,
	"sleep":  sleep,
	"stream": stream,
	"id":     func([]string) error { fmt.Printf("%d:%d\n", os.Getuid(), os.Getgid()); return nil },
	"pwd":    func([]string) error { d, err := os.Getwd(); fmt.Println(d); return err },
	"env":    func([]string) error { fmt.Println(strings.Join(os.Environ(), "\n")); return nil },
	"caps":   caps,
	"write":  write,
	"append": appendTo,
	"mkdir":  func(a []string) error { return os.Mkdir(arg(a, 0, "/probe"), 0o755) },
	"rename": func(a []string) error { return os.Rename(arg(a, 0, ""), arg(a, 1, "")) },
	"cat":    cat,
	"alloc":  alloc,
	"dial":   dial,
	"lookup": lookup,
	// lookup-fails-within NAME LIMIT: succeeds when resolving NAME fails
	// within LIMIT (a sandbox without network must not hang on DNS).
	"lookup-fails-within": lookupFailsWithin,
	"fetch":               fetch,
	"trap":                trap,
	// Added for private mode: see probes.go.
	"fetch-env":     fetchEnv,
	"proxy-connect": proxyConnect,
	// Added for the forwarder's escape tests: see signal.go.
	"fetch-new":  fetchNew,
	"signal":     signalProc,
	"await-file": awaitFile,
	"serve-tls":  serveTLS,
	// For the throughput benchmark: see bulk.go.
	"serve-bulk": serveBulk,
	"download":   download,
	// Added for the seccomp profile: see ptrace.go.
	"ptrace": ptraceProbe,
}

func main() {
	// Installed as tail, it is a job container's `tail -f /dev/null`
	// (what nektos/act starts a job container with): it runs until stopped.
	if filepath.Base(os.Args[0]) == "tail" {
		os.Args = []string{os.Args[0], "trap"}
	}
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: toolbox COMMAND [ARGS...]")
		os.Exit(2)
	}
	run, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "toolbox: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
	if err := run(os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "toolbox %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func exitWith(a []string) error {
	code, err := strconv.Atoi(arg(a, 0, "0"))
	if err != nil {
		return err
	}
	os.Exit(code)
	return nil
}

func sleep(a []string) error {
	d, err := time.ParseDuration(arg(a, 0, "1s"))
	if err != nil {
		return err
	}
	time.Sleep(d)
	return nil
}

// stream writes N numbered lines alternately to stdout and stderr, pausing
// between them, so tests can see output arrive live and in order.
func stream(a []string) error {
	n, err := strconv.Atoi(arg(a, 0, "3"))
	if err != nil {
		return err
	}
	pause, err := time.ParseDuration(arg(a, 1, "0s"))
	if err != nil {
		return err
	}
	for i := 1; i <= n; i++ {
		if i%2 == 0 {
			fmt.Fprintf(os.Stderr, "err %d\n", i)
		} else {
			fmt.Fprintf(os.Stdout, "out %d\n", i)
		}
		time.Sleep(pause)
	}
	return nil
}

// caps prints the effective capability mask of the process.
func caps([]string) error {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "CapEff:"); ok {
			fmt.Println(strings.TrimSpace(v))
			return nil
		}
	}
	return fmt.Errorf("no CapEff line")
}

func write(a []string) error {
	return os.WriteFile(arg(a, 0, "/probe"), []byte(arg(a, 1, "probe")), 0o644)
}

// appendTo appends DATA to FILE, creating it if needed, as a planted
// configuration line would be added.
func appendTo(a []string) error {
	f, err := os.OpenFile(arg(a, 0, "/probe"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(arg(a, 1, "probe")); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func cat(a []string) error {
	data, err := os.ReadFile(arg(a, 0, ""))
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(data)
	return err
}

// alloc touches N MiB of memory, so a memory limit ends it with an OOM kill.
func alloc(a []string) error {
	n, err := strconv.Atoi(arg(a, 0, "64"))
	if err != nil {
		return err
	}
	var keep [][]byte
	for i := 0; i < n; i++ {
		b := make([]byte, 1<<20)
		for j := range b {
			b[j] = byte(j)
		}
		keep = append(keep, b)
	}
	fmt.Println("allocated", len(keep), "MiB")
	return nil
}

func dial(a []string) error {
	c, err := net.DialTimeout("tcp", arg(a, 0, ""), 3*time.Second)
	if err != nil {
		return err
	}
	fmt.Println("connected", c.RemoteAddr())
	return c.Close()
}

func lookupFailsWithin(a []string) error {
	limit, err := time.ParseDuration(arg(a, 1, "100ms"))
	if err != nil {
		return err
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, arg(a, 0, ""))
	took := time.Since(start)
	switch {
	case err == nil:
		return fmt.Errorf("resolved to %s", strings.Join(addrs, " "))
	case took > limit:
		return fmt.Errorf("failed only after %s (limit %s): %v", took, limit, err)
	}
	fmt.Printf("failed after %s: %v\n", took.Round(time.Millisecond), err)
	return nil
}

func lookup(a []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, arg(a, 0, ""))
	if err != nil {
		return err
	}
	fmt.Println(strings.Join(addrs, " "))
	return nil
}

// fetch GETs a URL (or sends "METHOD URL") through the environment's proxy
// settings and prints the status line and body. Extra args are
// "Header: value" pairs.
func fetch(a []string) error { return fetchWith(&http.Client{Timeout: 10 * time.Second}, a) }

func fetchWith(c *http.Client, a []string) error {
	// "POST http://..." sends an empty POST; a bare URL is a GET.
	method, target := http.MethodGet, arg(a, 0, "")
	if m, u, ok := strings.Cut(target, " "); ok {
		method, target = m, u
	}
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		return err
	}
	for _, h := range a[min(1, len(a)):] {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status)
	_, err = io.Copy(os.Stdout, resp.Body)
	if resp.StatusCode >= 400 {
		return fmt.Errorf("status %s", resp.Status)
	}
	return err
}

// trap prints "ready", then waits for SIGTERM/SIGINT and exits with 0 after
// printing which one arrived: tests use it to see graceful stops.
func trap([]string) error {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	fmt.Println("ready")
	s := <-ch
	fmt.Println("got", s)
	return nil
}

func arg(a []string, i int, def string) string {
	if i < len(a) {
		return a[i]
	}
	return def
}
