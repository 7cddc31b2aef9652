package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/org/sandbox-action/pkg/egress"
)

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

type proxyOptions struct {
	listen          string
	gatewayListen   string
	allow           []string
	ports           []int
	upstreams       map[string]string
	keyEnv          map[string]string
	tokenEnv        string
	envFD           int
	caFile          string
	copyForwarder   string
	addHosts        []string
	dialTimeout     time.Duration
	shutdownTimeout time.Duration
	// anyDestination turns the destination check off; see
	// egress.AnyDestination for why it exists.
	anyDestination bool
}

func newProxyCmd(s *streams) *cobra.Command {
	o := proxyOptions{}
	cmd := &cobra.Command{
		Use:   proxyCmdName,
		Short: "Run the egress proxy and credential gateway of a private-mode sandbox",
		Long: `Run the egress proxy and, with --gateway-listen, the credential gateway.

The proxy (--listen) tunnels CONNECT and forwards plain HTTP to the --allow
list only. The gateway serves /anthropic, /openai and /gemini: it accepts a
request only when its API key is the run's session token, swaps in the real
key and forwards over TLS. Secrets never come from argv: the token is read
from $SANDBOX_SESSION_TOKEN (--token-env), each real key from
$ANTHROPIC_API_KEY, $OPENAI_API_KEY, $GEMINI_API_KEY (--key-env); a vendor is
served when its key is set. Extra roots for the upstreams' certificates come
from --ca-file and from $SANDBOX_UPSTREAM_CA (PEM text, base64-encoded).

Both listeners answer GET /healthz. Decisions are logged to stderr as JSON
lines; on SIGTERM or SIGINT the command stops and prints the final counts as
one JSON line on stdout.`,
		Example: `  sandbox proxy --allow api.anthropic.com --allow '*.githubusercontent.com'
  sandbox proxy --gateway-listen :8080 --upstream anthropic=https://api.anthropic.com`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runProxy(cmd.Context(), s, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", ":"+strconv.Itoa(egress.ProxyPort), "address of the forward proxy: HOST:PORT, unix:/PATH or fd:N (an inherited listening socket)")
	f.StringVar(&o.gatewayListen, "gateway-listen", "", "address of the credential gateway, like --listen (none when empty)")
	f.StringSliceVar(&o.allow, "allow", nil, "allowed destination: host, *.suffix (subdomains only), host:port, an IP literal or a bundle such as @go (repeatable)")
	f.IntSliceVar(&o.ports, "port", egress.DefaultPorts, "ports allowed for --allow entries without a port")
	f.StringToStringVar(&o.upstreams, "upstream", nil, "vendor=https://base-url: a vendor's API (default: the vendor's real API)")
	f.StringToStringVar(&o.keyEnv, "key-env", nil, "vendor=NAME: variable holding the vendor's real API key (default: ANTHROPIC_API_KEY, OPENAI_API_KEY, GEMINI_API_KEY)")
	// The defaults above are per vendor and merged in newGateway; an empty
	// map's "[]" would only confuse --help.
	f.Lookup("upstream").DefValue = ""
	f.Lookup("key-env").DefValue = ""
	f.StringVar(&o.tokenEnv, "token-env", egress.TokenEnv, "variable holding the run's session token")
	f.StringArrayVar(&o.addHosts, "add-host", nil, "tests only (with --"+egress.TestAnyDestinationFlag+"): dial IP for NAME instead of resolving it (NAME:IP, repeatable)")
	_ = f.MarkHidden("add-host")
	f.StringVar(&o.copyForwarder, "copy-forwarder", "", "copy this binary to PATH before listening, for sandboxes that share the directory and run it as their forwarder")
	f.IntVar(&o.envFD, egress.EnvFDFlag, 0, "read variables (NUL-terminated NAME=VALUE, like /proc/PID/environ) from this inherited descriptor before anything else, so that secrets need not be in the environment")
	f.StringVar(&o.caFile, "ca-file", "", "PEM file of extra roots to trust for upstream TLS (SSL_CERT_FILE also works)")
	f.DurationVar(&o.dialTimeout, "dial-timeout", egress.DefaultDialTimeout, "limit for resolving and connecting to an upstream")
	f.DurationVar(&o.shutdownTimeout, "shutdown-timeout", egress.DefaultShutdownTimeout, "time open tunnels and streams get to finish on shutdown")
	f.BoolVar(&o.anyDestination, egress.TestAnyDestinationFlag, false, "tests only: connect to any address, loopback and this host's networks included")
	_ = f.MarkHidden(egress.TestAnyDestinationFlag)
	return cmd
}

func runProxy(ctx context.Context, s *streams, o proxyOptions) error {
	if err := undumpable(); err != nil {
		return err
	}
	if o.envFD != 0 {
		if err := readEnv(o.envFD); err != nil {
			return fmt.Errorf("--%s: %w", egress.EnvFDFlag, err)
		}
	}
	log := slog.New(slog.NewJSONHandler(s.err, nil))
	rec := egress.NewRecorder(log)
	allow, err := egress.ParseAllowlist(o.allow, o.ports)
	if err != nil {
		return err
	}
	dests := egress.AnyDestination()
	if !o.anyDestination {
		if dests, err = egress.HostDestinations(); err != nil {
			return err
		}
	}
	// A dialer replaces the destination check: --add-host is for tests.
	if len(o.addHosts) > 0 && !o.anyDestination {
		return fmt.Errorf("--add-host is for tests and needs --%s", egress.TestAnyDestinationFlag)
	}
	dial, err := hostsDialer(o.addHosts)
	if err != nil {
		return err
	}
	proxy := egress.NewProxy(egress.ProxyConfig{Allowlist: allow, Recorder: rec, DialTimeout: o.dialTimeout, Destinations: dests, Dial: dial})
	var gw *egress.Gateway
	if o.gatewayListen != "" {
		if gw, err = newGateway(o, rec, dests, dial); err != nil {
			return fmt.Errorf("gateway: %w", err)
		}
	} else if len(o.upstreams) > 0 || len(o.keyEnv) > 0 {
		return errors.New("--upstream and --key-env need --gateway-listen")
	}

	if o.copyForwarder != "" {
		if err := copySelf(o.copyForwarder); err != nil {
			return fmt.Errorf("--copy-forwarder: %w", err)
		}
	}
	srv := &egress.Server{Proxy: proxy, Gateway: gw, ShutdownTimeout: o.shutdownTimeout}
	if srv.ProxyListener, err = egress.Listen(o.listen); err != nil {
		return fmt.Errorf("proxy: %w", err)
	}
	attrs := []any{"proxy", srv.ProxyListener.Addr().String(), "allow", allow.String(), "ports", allow.Ports()}
	if o.anyDestination {
		attrs = append(attrs, "destination_check", "off (tests only)")
	}
	if gw != nil {
		if srv.GatewayListener, err = egress.Listen(o.gatewayListen); err != nil {
			srv.ProxyListener.Close()
			return fmt.Errorf("gateway: %w", err)
		}
		attrs = append(attrs, "gateway", srv.GatewayListener.Addr().String(), "vendors", gw.Vendors())
	}
	log.Info(egress.ReadyMessage, attrs...)

	err = srv.Run(ctx)
	stats := rec.Stats()
	log.Info("stopped", "allowed", stats.Proxy.Allowed+stats.Gateway.Allowed, "denied", stats.Proxy.Denied+stats.Gateway.Denied)
	if jerr := json.NewEncoder(s.out).Encode(stats); jerr != nil && err == nil {
		err = fmt.Errorf("write stats: %w", jerr)
	}
	return err
}

// newGateway builds the gateway from flags and the process environment.
func newGateway(o proxyOptions, rec *egress.Recorder, dests *egress.Destinations, dial egress.DialFunc) (*egress.Gateway, error) {
	keyEnv := map[egress.Vendor]string{}
	for _, v := range egress.Vendors {
		keyEnv[v] = v.KeyEnv()
	}
	for name, env := range o.keyEnv {
		v, err := egress.ParseVendor(name)
		if err != nil {
			return nil, fmt.Errorf("--key-env: %w", err)
		}
		if !envName.MatchString(env) {
			return nil, fmt.Errorf("--key-env %s: invalid variable name %q", v, env)
		}
		keyEnv[v] = env
	}
	upstreams := map[egress.Vendor]string{}
	for name, u := range o.upstreams {
		v, err := egress.ParseVendor(name)
		if err != nil {
			return nil, fmt.Errorf("--upstream: %w", err)
		}
		upstreams[v] = u
	}

	var cfg egress.GatewayConfig
	var names []string
	for _, v := range egress.Vendors {
		names = append(names, "$"+keyEnv[v])
		key := os.Getenv(keyEnv[v])
		if key == "" {
			if _, ok := upstreams[v]; ok {
				return nil, fmt.Errorf("--upstream %s: no API key in $%s", v, keyEnv[v])
			}
			continue
		}
		cfg.Upstreams = append(cfg.Upstreams, egress.Upstream{Vendor: v, URL: upstreams[v], Key: key})
	}
	if len(cfg.Upstreams) == 0 {
		return nil, fmt.Errorf("no API key set in %s", strings.Join(names, ", "))
	}
	if !envName.MatchString(o.tokenEnv) {
		return nil, fmt.Errorf("--token-env: invalid variable name %q", o.tokenEnv)
	}
	cfg.Token = os.Getenv(o.tokenEnv)
	if cfg.Token == "" {
		return nil, fmt.Errorf("session token: $%s is not set", o.tokenEnv)
	}
	if err := egress.ValidateSessionToken(cfg.Token); err != nil {
		return nil, fmt.Errorf("$%s: %w", o.tokenEnv, err)
	}
	roots, err := egress.LoadRootCAs(o.caFile)
	if err != nil {
		return nil, err
	}
	if v := os.Getenv(egress.CAEnv); v != "" {
		if err := egress.AppendCAEnv(roots, v); err != nil {
			return nil, fmt.Errorf("$%s: %w", egress.CAEnv, err)
		}
	}
	cfg.RootCAs, cfg.Recorder, cfg.DialTimeout, cfg.Destinations, cfg.Dial = roots, rec, o.dialTimeout, dests, dial
	return egress.NewGateway(cfg)
}

// copySelf copies the running binary to dst (mode 0755), through a
// temporary name so a sandbox never sees half a binary.
func copySelf(dst string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	in, err := os.Open(self)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".tmp"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// hostsDialer dials the --add-host address of a name it maps, and resolves
// any other name as usual; nil without mappings.
func hostsDialer(specs []string) (egress.DialFunc, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	hosts := map[string]string{}
	for _, s := range specs {
		name, ip, ok := strings.Cut(s, ":")
		if !ok || name == "" || net.ParseIP(ip) == nil {
			return nil, fmt.Errorf("--add-host %q: want NAME:IP", s)
		}
		hosts[strings.ToLower(name)] = ip
	}
	d := &net.Dialer{KeepAlive: 30 * time.Second}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err == nil {
			if ip, ok := hosts[strings.ToLower(host)]; ok {
				addr = net.JoinHostPort(ip, port)
			}
		}
		return d.DialContext(ctx, network, addr)
	}, nil
}

// maxEnvFD bounds what --env-fd reads: keys, a token and a CA bundle.
const maxEnvFD = 1 << 20

// readEnv sets the variables read from the inherited descriptor fd, NUL-
// terminated NAME=VALUE entries, and closes it. The host transport passes
// the model keys this way: the environment block a process starts with is
// readable in /proc by other processes of its uid until it makes itself
// undumpable, and stays readable by root.
func readEnv(fd int) error {
	if fd < 3 {
		return fmt.Errorf("want an inherited descriptor (3 or more), not %d", fd)
	}
	f := os.NewFile(uintptr(fd), "env")
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxEnvFD+1))
	if err != nil {
		return err
	}
	if len(b) > maxEnvFD {
		return fmt.Errorf("more than %d bytes", maxEnvFD)
	}
	for entry := range strings.SplitSeq(strings.TrimSuffix(string(b), "\x00"), "\x00") {
		if entry == "" {
			continue
		}
		name, value, ok := strings.Cut(entry, "=")
		if !ok || !envName.MatchString(name) {
			return errors.New("an entry is not NAME=VALUE")
		}
		if err := os.Setenv(name, value); err != nil {
			return err
		}
	}
	return nil
}
