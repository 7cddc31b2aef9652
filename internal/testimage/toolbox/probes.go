package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// batch runs several probes in one process, so that one sandbox run can
// check many things. Probes are separated by a "::" argument; each one's
// output is framed as
//
//	### N ARGS
//	<output>
//	### N ok            (or: ### N error: MESSAGE)
//
// and a failing probe does not stop the ones after it.
func batch(a []string) error {
	for i, probe := range splitBatch(a) {
		if len(probe) == 0 {
			return fmt.Errorf("probe %d is empty", i)
		}
		run, ok := commands[probe[0]]
		if !ok || probe[0] == "batch" {
			return fmt.Errorf("probe %d: unknown command %q", i, probe[0])
		}
		fmt.Printf("### %d %s\n", i, strings.Join(probe, " "))
		if err := run(probe[1:]); err != nil {
			fmt.Printf("\n### %d error: %v\n", i, err)
		} else {
			fmt.Printf("\n### %d ok\n", i)
		}
	}
	return nil
}

// batchSeparator separates the probes of a batch.
const batchSeparator = "::"

func splitBatch(a []string) [][]string {
	var out [][]string
	cur := []string{}
	for _, s := range a {
		if s == batchSeparator {
			out = append(out, cur)
			cur = []string{}
			continue
		}
		cur = append(cur, s)
	}
	return append(out, cur)
}

// fetchEnv is fetch with $VARIABLES in its arguments expanded from the
// environment: a sandbox's gateway URL and session token are only known
// inside it.
func fetchEnv(a []string) error {
	expanded := make([]string, len(a))
	for i, s := range a {
		expanded[i] = os.ExpandEnv(s)
	}
	return fetch(expanded)
}

// proxyConnect sends `CONNECT HOST:PORT` to the proxy named by $HTTPS_PROXY
// and prints the status line and the proxy's answer. A status other than
// 200 is an error.
func proxyConnect(a []string) error {
	target := arg(a, 0, "")
	proxy, err := url.Parse(os.Getenv("HTTPS_PROXY"))
	if err != nil || proxy.Host == "" {
		return fmt.Errorf("HTTPS_PROXY %q: not a proxy URL", os.Getenv("HTTPS_PROXY"))
	}
	c, err := net.DialTimeout("tcp", proxy.Host, 3*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: http.MethodConnect})
	if err != nil {
		return err
	}
	fmt.Println(resp.Status)
	if resp.StatusCode != http.StatusOK {
		body := make([]byte, 512)
		n, _ := resp.Body.Read(body)
		fmt.Print(string(body[:n]))
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}

// serveTLS serves HTTPS on ADDR with the PEM certificate and key in CERT and
// KEY, answering GET /bytes/N with N bytes (see serveBytes) and every other
// request with 200 and a small JSON body. It prints
// "listening" once bound, then one JSON line per request it receives
// (method, host, path, headers): what an upstream API really saw.
func serveTLS(a []string) error {
	ln, err := net.Listen("tcp", arg(a, 0, ":443"))
	if err != nil {
		return err
	}
	var mu sync.Mutex
	enc := json.NewEncoder(os.Stdout)
	srv := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			headers := map[string]string{}
			for k, v := range r.Header {
				headers[k] = strings.Join(slices.Clone(v), ", ")
			}
			mu.Lock()
			_ = enc.Encode(map[string]any{"method": r.Method, "host": r.Host, "path": r.URL.RequestURI(), "headers": headers})
			mu.Unlock()
			if serveBytes(w, r) {
				return
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintln(w, `{"ok":true}`)
		}),
	}
	fmt.Println("listening", ln.Addr())
	return srv.ServeTLS(ln, arg(a, 1, ""), arg(a, 2, ""))
}

// batch runs other commands, so it is added to the table after it is built.
func init() { commands["batch"] = batch }
