package spec

import (
	"maps"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/blkiodev"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
)

// option is one `docker run` flag together with the same setting in the
// Engine API create request. Args and EngineConfig both walk the list that
// options returns, so a flag cannot be rendered one way and not the other.
type option struct {
	// flag is the docker run flag, e.g. "--memory".
	flag string
	// value follows the flag as its own argument; "" marks a boolean flag.
	value string
	// apply makes the same setting in the create request; nil when the
	// setting is not part of the request body (the container name is a
	// query parameter of the create call).
	apply func(*request)
}

// request is the body of an Engine API container create call.
type request struct {
	config  *container.Config
	host    *container.HostConfig
	network *network.NetworkingConfig
}

// tmpfsOptions mount /tmp and HOME writable by any UID (the sandbox user is
// not known to the image) and executable, because agents build and run
// programs there; nosuid and nodev keep them inert otherwise.
const tmpfsOptions = "rw,exec,nosuid,nodev,mode=1777"

// maskOptions make a mask an empty directory nothing can be written to.
const maskOptions = "ro,noexec,nosuid,nodev,size=4k,mode=0555"

// homeTmpfsOptions also make HOME owned by the sandbox user. Docker copies an
// image directory's owner and mode onto a tmpfs mounted over it, so an image
// that already has the directory (root, 0755) would otherwise leave HOME
// unwritable whatever mode is asked for.
func (s RunSpec) homeTmpfsOptions() string {
	uid, gid, ok := strings.Cut(s.User, ":")
	if s.User == "" {
		return tmpfsOptions
	}
	if !ok {
		gid = uid
	}
	return tmpfsOptions + ",uid=" + uid + ",gid=" + gid
}

// options lists every docker run flag of s, in the order they are printed.
// This is the one place a flag comes from.
func (s RunSpec) options() []option {
	var opts []option
	add := func(flag, value string, apply func(*request)) {
		opts = append(opts, option{flag: flag, value: value, apply: apply})
	}

	if s.Remove {
		add("--rm", "", func(r *request) { r.host.AutoRemove = true })
	}
	if s.Name != "" {
		add("--name", s.Name, nil)
	}

	// Hardening; each one is dropped only by its Relax field.
	if !s.Relax.NoInit {
		add("--init", "", func(r *request) { r.host.Init = ptr(true) })
	}
	if s.User != "" {
		add("--user", s.User, func(r *request) { r.config.User = s.User })
	}
	if !s.Relax.WritableRoot {
		add("--read-only", "", func(r *request) { r.host.ReadonlyRootfs = true })
	}
	for _, m := range [][2]string{{TmpDir, tmpfsOptions}, {HomeDir, s.homeTmpfsOptions()}} {
		dir, opts := m[0], m[1]
		add("--tmpfs", dir+":"+opts, func(r *request) {
			if r.host.Tmpfs == nil {
				r.host.Tmpfs = map[string]string{}
			}
			r.host.Tmpfs[dir] = opts
		})
	}
	if !s.Relax.NewPrivileges {
		add("--security-opt", "no-new-privileges", func(r *request) {
			r.host.SecurityOpt = append(r.host.SecurityOpt, "no-new-privileges")
		})
	}
	if !s.Relax.Ptrace {
		// The CLI reads the profile from a file and sends its compact JSON;
		// the API request carries that JSON directly.
		add("--security-opt", "seccomp="+SeccompFile, func(r *request) {
			r.host.SecurityOpt = append(r.host.SecurityOpt, "seccomp="+string(seccompProfile))
		})
	}
	if !s.Relax.Capabilities {
		add("--cap-drop", "ALL", func(r *request) { r.host.CapDrop = append(r.host.CapDrop, "ALL") })
	}

	// Limits; zero leaves the daemon's default.
	if m := s.Limits.MemoryBytes; m > 0 {
		add("--memory", formatBytes(m), func(r *request) { r.host.Memory = m })
	}
	if n := s.Limits.NanoCPUs; n > 0 {
		add("--cpus", formatCPUs(n), func(r *request) { r.host.NanoCPUs = n })
	}
	if p := s.Limits.PidsLimit; p > 0 {
		add("--pids-limit", strconv.FormatInt(p, 10), func(r *request) { r.host.PidsLimit = ptr(p) })
	}
	if s.Runtime != "" {
		add("--runtime", s.Runtime, func(r *request) { r.host.Runtime = s.Runtime })
	}

	// Public mode keeps docker run's default network (see newRequest).
	// Private mode has none: only loopback, where the forwarder listens.
	if s.Network.mode() == Private {
		add("--network", networkNone, func(r *request) {
			r.host.NetworkMode = container.NetworkMode(networkNone)
			r.network.EndpointsConfig = map[string]*network.EndpointSettings{networkNone: {}}
		})
	}

	for _, e := range s.env() {
		pair := e.Name + "=" + e.Value
		shown := pair
		if e.Secret {
			// docker run copies the value from its own environment.
			shown = e.Name
		}
		add("-e", shown, func(r *request) { r.config.Env = append(r.config.Env, pair) })
	}

	if s.role() == RoleSandbox {
		src := s.workspaceSource()
		add("--mount", bindMountValue(src, WorkspaceDir, false), func(r *request) {
			r.host.Mounts = append(r.host.Mounts, mount.Mount{Type: mount.TypeBind, Source: src, Target: WorkspaceDir})
		})
		for _, m := range s.Mounts {
			mm := mount.Mount{Type: mount.TypeBind, Source: filepath.Clean(m.Source), Target: filepath.Clean(m.Target), ReadOnly: m.ReadOnly}
			add("--mount", m.mountValue(), func(r *request) { r.host.Mounts = append(r.host.Mounts, mm) })
		}
		for _, m := range s.Masks {
			dir := filepath.Clean(m)
			add("--tmpfs", dir+":"+maskOptions, func(r *request) {
				if r.host.Tmpfs == nil {
					r.host.Tmpfs = map[string]string{}
				}
				r.host.Tmpfs[dir] = maskOptions
			})
		}
		add("-w", WorkspaceDir, func(r *request) { r.config.WorkingDir = WorkspaceDir })
	}
	if e := s.Egress; e != nil {
		opts = append(opts, s.egressOptions(*e)...)
	}

	labels := s.ContainerLabels()
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		v := labels[k]
		add("--label", k+"="+v, func(r *request) { r.config.Labels[k] = v })
	}
	return opts
}

// newRequest returns the create request docker run (CLI 28) sends before any
// flag is applied. The engine treats these values like Go's zero values, but
// `docker inspect` shows the difference (RestartPolicy "no" against "", []
// against null), so the API rendering starts from the same request to create
// the very container the pasted command creates.
func newRequest(s RunSpec) *request {
	var cmd []string
	if argv := s.argv(); len(argv) > 0 {
		cmd = slices.Clone(argv)
	}
	return &request{
		config: &container.Config{
			// docker run without -d or -a attaches stdout and stderr.
			AttachStdout: true,
			AttachStderr: true,
			Image:        s.Image,
			Cmd:          cmd,
			Labels:       map[string]string{},
		},
		host: &container.HostConfig{
			NetworkMode:   network.NetworkDefault,
			RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyDisabled},
			PortBindings:  network.PortMap{},
			DNS:           []netip.Addr{},
			DNSOptions:    []string{},
			DNSSearch:     []string{},
			Resources: container.Resources{
				BlkioWeightDevice:    []*blkiodev.WeightDevice{},
				BlkioDeviceReadBps:   []*blkiodev.ThrottleDevice{},
				BlkioDeviceWriteBps:  []*blkiodev.ThrottleDevice{},
				BlkioDeviceReadIOps:  []*blkiodev.ThrottleDevice{},
				BlkioDeviceWriteIOps: []*blkiodev.ThrottleDevice{},
				Devices:              []container.DeviceMapping{},
				Ulimits:              []*container.Ulimit{},
			},
		},
		network: &network.NetworkingConfig{
			EndpointsConfig: map[string]*network.EndpointSettings{network.NetworkDefault: {}},
		},
	}
}

// formatBytes renders n for --memory exactly, with the largest binary unit
// that divides it (docker reads "512m" as 512 MiB).
func formatBytes(n int64) string {
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10}} {
		if n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

// formatCPUs renders nano-CPUs as the exact decimal --cpus expects.
func formatCPUs(n int64) string {
	const nano = 1_000_000_000
	whole := strconv.FormatInt(n/nano, 10)
	frac := strings.TrimRight(strconv.FormatInt(n%nano+nano, 10)[1:], "0")
	if frac == "" {
		return whole
	}
	return whole + "." + frac
}

func ptr[T any](v T) *T { return &v }
