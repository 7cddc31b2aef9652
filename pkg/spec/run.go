package spec

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
)

// RoleVolume is the role label value of a run's socket volume.
const RoleVolume = "volume"

// VolumeName is the name of the socket volume of the run whose sandbox
// container is called sandbox.
func VolumeName(sandbox string) string { return sandbox + "-egress" }

// Transports: where a run's egress proxy runs.
const (
	// TransportHost runs `sandbox proxy` as a child process of the caller,
	// serving sockets in a host directory. It needs a local Linux daemon.
	TransportHost = "host"
	// TransportContainer runs it in a container of this project's image on
	// the default bridge, serving sockets in the run's volume.
	TransportContainer = "container"
)

// LabelTransport records a run's transport on its sandbox.
const LabelTransport = LabelPrefix + "proxy-transport"

// Run is everything one sandbox run starts: the sandbox and, when it has
// Egress, the egress proxy serving its sockets, either as a host process
// (HostProxy) or as a container (Proxy).
type Run struct {
	Sandbox RunSpec
	// Proxy is the egress proxy's container (container transport).
	Proxy *RunSpec
	// HostProxy is the egress proxy as a child process (host transport).
	HostProxy *HostProxy
}

// HostProxy is `sandbox proxy` run as a child process, on sockets in a host
// directory.
type HostProxy struct {
	// Binary is the `sandbox` program to run as the proxy.
	Binary string
	// Dir is the socket directory as the caller sees it. The sandbox
	// mounts its host path, Sandbox.Egress.Source (the two differ when the
	// caller itself runs in a container).
	Dir string
	// Args are the `sandbox proxy` arguments, without the listen addresses
	// (ProxyArgs adds them).
	Args []string
	// Env is the proxy's whole environment: the model key and the session
	// token, nothing else.
	Env []EnvVar
}

// ProxyArgs returns the proxy's argv after the program name, listening on
// proxy and, when gateway is set, on gateway.
func (h HostProxy) ProxyArgs(proxy, gateway string) []string {
	args := []string{h.Args[0], "--listen", proxy}
	if gateway != "" {
		args = append(args, "--gateway-listen", gateway)
	}
	return append(args, h.Args[1:]...)
}

// Transport names where the egress proxy runs; "" without one.
func (r Run) Transport() string {
	switch {
	case r.HostProxy != nil:
		return TransportHost
	case r.Proxy != nil:
		return TransportContainer
	}
	return ""
}

// Validate checks both containers and that they describe one run.
func (r Run) Validate() error {
	errs := []error{r.Sandbox.Validate()}
	e := r.Sandbox.Egress
	switch {
	case e != nil && r.Proxy == nil && r.HostProxy == nil:
		errs = append(errs, errors.New("spec: the sandbox's egress needs a proxy (a host process or a container)"))
	case e == nil && (r.Proxy != nil || r.HostProxy != nil):
		errs = append(errs, errors.New("spec: an egress proxy is only used with the sandbox's egress"))
	case r.Proxy != nil && r.HostProxy != nil:
		errs = append(errs, errors.New("spec: the egress proxy runs either on the host or in a container, not both"))
	case r.HostProxy != nil:
		h := r.HostProxy
		if e.Volume {
			errs = append(errs, errors.New("spec: a host proxy serves a host directory, not a volume"))
		}
		if !filepath.IsAbs(h.Dir) || !filepath.IsAbs(h.Binary) {
			errs = append(errs, fmt.Errorf("spec: host proxy: directory %q and binary %q must be absolute paths", h.Dir, h.Binary))
		}
		if len(h.Args) == 0 || h.Args[0] != "proxy" {
			errs = append(errs, fmt.Errorf("spec: host proxy: arguments %q must start with \"proxy\"", h.Args))
		}
	case r.Proxy != nil:
		p := r.Proxy
		errs = append(errs, p.Validate())
		if p.role() != RoleProxy {
			errs = append(errs, fmt.Errorf("spec: proxy has role %q", p.role()))
		}
		if p.RunID != r.Sandbox.RunID {
			errs = append(errs, fmt.Errorf("spec: proxy run id %q differs from the sandbox's %q", p.RunID, r.Sandbox.RunID))
		}
		if p.Egress == nil || !e.Volume || p.Egress.Source != e.Source {
			errs = append(errs, errors.New("spec: the proxy container and the sandbox must share the run's volume"))
		}
	}
	return errors.Join(errs...)
}

// VolumeLabels are the labels of the run's socket volume.
func (r Run) VolumeLabels() map[string]string { return r.Sandbox.volumeLabels() }

// VolumeOptions are the local driver's options for the run's socket
// volume: a small tmpfs owned by the proxy's user, which others may only
// traverse. It holds the sockets and the forwarder binary, and vanishes
// with the volume.
func (r Run) VolumeOptions() map[string]string {
	uid, gid, ok := strings.Cut(r.Proxy.User, ":")
	if r.Proxy.User == "" {
		uid, gid = "0", "0"
	} else if !ok {
		gid = uid
	}
	return map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "uid=" + uid + ",gid=" + gid + ",mode=0711,size=64m"}
}

// Script returns a bash script that performs the same run by hand: just the
// docker run line without an egress proxy; otherwise also starting the
// proxy (a background process or a container), waiting for its sockets,
// and removing everything when the script ends. It stops at the first step
// that fails, and exits with the sandbox's status.
func (r Run) Script() string {
	if r.Transport() == "" {
		return r.Sandbox.CommandLine()
	}
	lines := []string{"set -euo pipefail"}
	var prefix []string
	for _, e := range r.Sandbox.Env {
		if e.Token == "" {
			continue
		}
		if !slices.Contains(lines, tokenLine(e.Token)) {
			lines = append(lines, tokenLine(e.Token))
		}
		prefix = append(prefix, e.Name+`="$`+e.Token+`"`)
	}
	if r.HostProxy != nil {
		lines = append(lines, r.hostProxyLines()...)
	} else {
		lines = append(lines, r.containerProxyLines()...)
	}
	lines = append(lines, strings.Join(append(prefix, r.Sandbox.CommandLine()), " "))
	return strings.Join(lines, "\n")
}

// hostProxyLines start the proxy in the background on sockets in the run's
// directory, with nothing in its environment but its secrets. The
// directory, not the sockets (which the proxy makes for anyone), keeps
// other users out: mode 0700, owned by the sandbox's user.
func (r Run) hostProxyLines() []string {
	h := r.HostProxy
	dir := shellQuote(h.Dir)
	gateway := ""
	if r.Sandbox.Egress.Gateway {
		gateway = "unix:" + h.Dir + "/" + GatewaySocket
	}
	proxy := []string{"env", "-i"}
	for _, e := range h.Env {
		if !e.Secret {
			// Not a secret (the model API's extra roots): its value.
			proxy = append(proxy, e.Name+"="+shellQuote(e.Value))
			continue
		}
		proxy = append(proxy, e.Name+`="$`+e.source()+`"`)
	}
	proxy = append(proxy, shellQuote(h.Binary))
	for _, a := range h.ProxyArgs("unix:"+h.Dir+"/"+ProxySocket, gateway) {
		proxy = append(proxy, shellQuote(a))
	}
	wait := `until [ -S ` + dir + `/` + ProxySocket + ` ]`
	if gateway != "" {
		wait += ` && [ -S ` + dir + `/` + GatewaySocket + ` ]`
	}
	uid, _, _ := strings.Cut(r.Sandbox.User, ":")
	if uid == "" {
		uid = "0"
	}
	return []string{
		"mkdir -m 0700 " + dir,
		// The trap must finish under set -eu, whatever has started.
		`trap 'if [ -n "${proxy:-}" ]; then kill "$proxy" 2>/dev/null || true; wait "$proxy" 2>/dev/null || true; fi; rm -rf ` + dir + `' EXIT`,
		// The proxy's sockets take any user who reaches them: the
		// directory is the sandbox's user's alone, which only root or
		// that user can arrange.
		"chown " + uid + " " + dir + ` || { echo "sandbox: only root or uid ` + uid + ` can give the sandbox's user the proxy's sockets alone: run this as either, or print it with --proxy-transport container" >&2; exit 125; }`,
		strings.Join(proxy, " ") + " >/dev/null &",
		"proxy=$!",
		wait + `; do kill -0 "$proxy" || exit 125; sleep 0.05; done`,
	}
}

// containerProxyLines create the run's volume and start the proxy container
// on it, then wait for its ready line.
func (r Run) containerProxyLines() []string {
	p := r.Proxy
	vol := r.Sandbox.Egress.Source
	create := []string{"docker", "volume", "create", "--driver", "local"}
	opts := r.VolumeOptions()
	for _, k := range slices.Sorted(maps.Keys(opts)) {
		create = append(create, "--opt", k+"="+opts[k])
	}
	labels := r.VolumeLabels()
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		create = append(create, "--label", k+"="+labels[k])
	}
	create = append(create, vol)
	proxy := p.Args()
	proxy = append(proxy[:2], append([]string{"-d"}, proxy[2:]...)...)
	var prefix []string
	for _, e := range p.Env {
		if e.Secret && e.source() != e.Name {
			prefix = append(prefix, e.Name+`="$`+e.source()+`"`)
		}
	}
	return []string{
		`trap 'docker rm -f ` + shellQuote(p.Name) + ` >/dev/null 2>&1 || true; docker volume rm ` + shellQuote(vol) + ` >/dev/null 2>&1 || true' EXIT`,
		quoteArgs(create) + " >/dev/null",
		strings.Join(append(prefix, quoteArgs(proxy)), " ") + " >/dev/null",
		`until docker logs ` + shellQuote(p.Name) + ` 2>&1 | grep -q '"msg":"listening"'; do [ "$(docker inspect -f '{{.State.Running}}' ` + shellQuote(p.Name) + `)" = true ] || exit 125; sleep 0.05; done`,
	}
}

func quoteArgs(args []string) string {
	words := make([]string, len(args))
	for i, a := range args {
		words[i] = shellQuote(a)
	}
	return strings.Join(words, " ")
}

// tokenLine makes a fresh random token for a pasted script.
func tokenLine(name string) string {
	return "export " + name + `="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"`
}
