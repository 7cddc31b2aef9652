package engine

import (
	"context"
	"debug/elf"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

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
// them; Choose decides, without I/O.
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
	// Runtime is the sandbox's OCI runtime ("" for the default) and
	// RuntimeArgs the daemon's arguments for it.
	Runtime     string
	RuntimeArgs []string
}

// goArch maps docker info's Architecture (uname -m) to GOARCH.
var goArch = map[string]string{
	"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le",
	"s390x": "s390x", "riscv64": "riscv64", "i686": "386",
}

// Choose picks the host transport when the daemon's host is this machine
// and can run this binary, and the sandbox's runtime can reach host unix
// sockets; the container transport otherwise.
func (f TransportFacts) Choose() Transport {
	container := func(why string) Transport { return Transport{Name: spec.TransportContainer, Reason: why} }
	arch := goArch[f.DaemonArch]
	if arch == "" {
		arch = f.DaemonArch
	}
	switch {
	case f.DockerHost != "" && !strings.HasPrefix(f.DockerHost, "unix://"):
		return container("the daemon is remote (DOCKER_HOST=" + f.DockerHost + ")")
	case f.ClientOS != "linux" || f.DaemonOS != "linux":
		return container(fmt.Sprintf("the daemon does not share this %s machine", f.ClientOS))
	case strings.Contains(f.OperatingSystem, "Docker Desktop"):
		return container("Docker Desktop runs the daemon in a VM")
	case arch != f.BinaryArch:
		return container(fmt.Sprintf("this binary is %s, the daemon's host %s", f.BinaryArch, arch))
	case !f.BinaryStatic:
		return container("this binary is dynamically linked and cannot run inside a sandbox image")
	case f.Runtime == "runsc" && !slices.ContainsFunc(f.RuntimeArgs, func(a string) bool {
		return a == "--host-uds=open" || a == "--host-uds=all"
	}):
		return container("gVisor (runsc) without --host-uds=open cannot reach host sockets")
	}
	return Transport{Name: spec.TransportHost, Reason: "the daemon is local"}
}

// Facts gathers what Choose needs about the daemon and binary (the
// `sandbox` program the host proxy and forwarder would run).
func (e *Engine) Facts(ctx context.Context, binary, runtimeName string) (TransportFacts, error) {
	f := TransportFacts{DockerHost: os.Getenv("DOCKER_HOST"), ClientOS: runtime.GOOS, Runtime: runtimeName}
	info, err := e.c.Info(ctx, client.InfoOptions{})
	if err != nil {
		return f, fmt.Errorf("docker info: %w", err)
	}
	f.DaemonOS, f.DaemonArch, f.OperatingSystem = info.Info.OSType, info.Info.Architecture, info.Info.OperatingSystem
	if rt, ok := info.Info.Runtimes[runtimeName]; ok && runtimeName != "" {
		f.RuntimeArgs = rt.Args
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
