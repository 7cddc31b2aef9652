package engine

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/org/sandbox-action/pkg/gvisor"
	"github.com/org/sandbox-action/pkg/spec"
)

// Transport is where a run's egress proxy runs, and why.
type Transport struct {
	// Name is spec.TransportHost or spec.TransportContainer.
	Name string
	// Reason says why, for the run's summary.
	Reason string
}

// TransportFacts are what the choice of transport depends on. Facts reads
// them; Choose and Check decide, without I/O.
type TransportFacts struct {
	// DockerHost is $DOCKER_HOST ("" for the default local socket).
	DockerHost string
	// ClientOS is this process's OS.
	ClientOS string
	// DaemonOS, DaemonArch and OperatingSystem are docker info's OSType,
	// Architecture and OperatingSystem.
	DaemonOS, DaemonArch, OperatingSystem string
	// BinaryArch is the GOARCH of the `sandbox` binary the host proxy and
	// forwarder would be; BinaryStatic says it needs no dynamic loader.
	BinaryArch   string
	BinaryStatic bool
	// Runtime is the sandbox's OCI runtime as the daemon registers it
	// (an empty Name for the default).
	Runtime gvisor.Runtime
	// ProcessUID is this process's effective uid, and SandboxUser the
	// sandbox's "UID[:GID]" ("" when not known, as to doctor): the host
	// proxy's sockets must be the sandbox's user's alone, which only root
	// can arrange for another uid.
	ProcessUID  int
	SandboxUser string
}

// goArch maps docker info's Architecture (uname -m) to GOARCH.
var goArch = map[string]string{
	"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le",
	"s390x": "s390x", "riscv64": "riscv64", "i686": "386",
}

// Choose picks the host transport when the daemon's host is this machine
// and can run this binary; the container transport otherwise. It fails when
// the sandbox's runtime cannot reach the proxy's sockets on either.
func (f TransportFacts) Choose() (Transport, error) {
	if err := f.RuntimeReachesSockets(); err != nil {
		return Transport{}, err
	}
	if err := f.hostCannot(); err != nil {
		return Transport{Name: spec.TransportContainer, Reason: err.Error()}, nil
	}
	return Transport{Name: spec.TransportHost, Reason: "the daemon is local"}, nil
}

// Check says why the transport called name cannot serve a run with these
// facts; nil when it can.
func (f TransportFacts) Check(name string) error {
	if err := f.RuntimeReachesSockets(); err != nil {
		return err
	}
	switch name {
	case spec.TransportHost:
		return f.hostCannot()
	case spec.TransportContainer:
	default:
		return fmt.Errorf("unknown proxy transport %q (want %s or %s)", name, spec.TransportHost, spec.TransportContainer)
	}
	return nil
}

// hostCannot says why the daemon cannot run this binary beside it, as the
// host transport needs; nil when it can.
func (f TransportFacts) hostCannot() error {
	arch := goArch[f.DaemonArch]
	if arch == "" {
		arch = f.DaemonArch
	}
	switch {
	case f.DockerHost != "" && !strings.HasPrefix(f.DockerHost, "unix://"):
		return errors.New("the daemon is remote (DOCKER_HOST=" + f.DockerHost + ")")
	case f.ClientOS != "linux" || f.DaemonOS != "linux":
		return fmt.Errorf("the daemon does not share this %s machine", f.ClientOS)
	case strings.Contains(f.OperatingSystem, "Docker Desktop"):
		return errors.New("Docker Desktop runs the daemon in a VM")
	case arch != f.BinaryArch:
		return fmt.Errorf("this binary is %s, the daemon's host %s", f.BinaryArch, arch)
	case !f.BinaryStatic:
		return errors.New("this binary is dynamically linked and cannot run inside a sandbox image")
	}
	if uid, _ := userIDs(f.SandboxUser); f.SandboxUser != "" && f.ProcessUID != 0 && uid != f.ProcessUID {
		return fmt.Errorf("the sandbox runs as uid %d, and this process, uid %d and not root, cannot make a host socket that user's alone", uid, f.ProcessUID)
	}
	return nil
}

// RuntimeReachesSockets fails for a gVisor runtime that may not connect to
// host unix sockets. Both transports need it: to gVisor, the container
// transport's volume is a host mount like the host transport's directory,
// and runsc refuses a connect to a socket on either ("operation not
// permitted") unless --host-uds allows it.
func (f TransportFacts) RuntimeReachesSockets() error {
	if !f.Runtime.IsGVisor() {
		return nil
	}
	if ps := gvisor.ParseFlags(f.Runtime.Args).Problems(gvisor.Need{Sockets: true}); len(ps) > 0 {
		return fmt.Errorf("runtime %s cannot reach the egress proxy on either transport: %s", f.Runtime, strings.Join(ps, "; "))
	}
	return nil
}

// Facts gathers what Choose needs about the daemon and binary (the
// `sandbox` program the host proxy and forwarder would run).
func (e *Engine) Facts(ctx context.Context, binary, runtimeName string) (TransportFacts, error) {
	f := TransportFacts{DockerHost: os.Getenv("DOCKER_HOST"), ClientOS: runtime.GOOS, ProcessUID: os.Geteuid()}
	info, err := e.c.Info(ctx, client.InfoOptions{})
	if err != nil {
		return f, fmt.Errorf("docker info: %w", err)
	}
	f.DaemonOS, f.DaemonArch, f.OperatingSystem = info.Info.OSType, info.Info.Architecture, info.Info.OperatingSystem
	if runtimeName != "" {
		f.Runtime = gvisor.Runtime{Name: runtimeName}
		if rt, ok := info.Info.Runtimes[runtimeName]; ok {
			f.Runtime.Path, f.Runtime.Args = rt.Path, rt.Args
		}
	}
	f.BinaryArch, f.BinaryStatic = binaryKind(binary)
	return f, nil
}

// binaryKind reads an ELF binary's GOARCH and whether it is static (no
// PT_INTERP program header names a dynamic loader).
func binaryKind(path string) (arch string, static bool) {
	f, err := elf.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	arch = map[elf.Machine]string{
		elf.EM_X86_64: "amd64", elf.EM_AARCH64: "arm64", elf.EM_ARM: "arm", elf.EM_386: "386",
		elf.EM_PPC64: "ppc64le", elf.EM_S390: "s390x", elf.EM_RISCV: "riscv64",
	}[f.Machine]
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return arch, false
		}
	}
	return arch, true
}

// ImageConfig is the part of an image's configuration a forwarded sandbox
// runs itself: docker's --entrypoint replaces both.
type ImageConfig struct {
	Entrypoint, Cmd []string
}

// ImageConfig reads ref's ENTRYPOINT and CMD.
func (e *Engine) ImageConfig(ctx context.Context, ref string) (ImageConfig, error) {
	img, err := e.c.ImageInspect(ctx, ref)
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return ImageConfig{}, &ImageMissingError{Image: ref}
		}
		return ImageConfig{}, fmt.Errorf("inspect image %s: %w", ref, err)
	}
	if img.Config == nil {
		return ImageConfig{}, nil
	}
	return ImageConfig{Entrypoint: img.Config.Entrypoint, Cmd: img.Config.Cmd}, nil
}
