package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"syscall"

	"github.com/moby/moby/client"
)

// Check is one line of `sandbox doctor`.
type Check struct {
	Name   string
	OK     bool
	Detail string
}

// minFreeBytes is the free space below which doctor warns: image layers and
// the agent's tmpfs spill need room.
const minFreeBytes = 2 << 30

// Doctor inspects the daemon the engine talks to: API version, the image a
// run would use, the OCI runtimes it offers and free disk space.
func (e *Engine) Doctor(ctx context.Context, image string) []Check {
	var checks []Check
	v, err := e.c.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		return append(checks, Check{Name: "daemon", Detail: err.Error()})
	}
	checks = append(checks, Check{Name: "daemon", OK: true,
		Detail: fmt.Sprintf("Docker %s, Engine API %s (client needs ≥ %s)", v.Version, v.APIVersion, client.MinAPIVersion)})

	if image != "" {
		if err := e.ensureImage(ctx, image, false); err != nil {
			checks = append(checks, Check{Name: "image", Detail: err.Error()})
		} else {
			checks = append(checks, Check{Name: "image", OK: true, Detail: image + " is present"})
		}
	}

	info, err := e.c.Info(ctx, client.InfoOptions{})
	if err != nil {
		return append(checks, Check{Name: "runtimes", Detail: err.Error()})
	}
	checks = append(checks, Check{Name: "runtimes", OK: true, Detail: strings.Join(Runtimes(info), ", ")})

	var st syscall.Statfs_t
	if err := syscall.Statfs(info.Info.DockerRootDir, &st); err != nil {
		checks = append(checks, Check{Name: "disk", OK: true,
			Detail: fmt.Sprintf("%s is not visible from here (remote daemon?): not checked", info.Info.DockerRootDir)})
	} else {
		free := st.Bavail * uint64(st.Bsize)
		checks = append(checks, Check{Name: "disk", OK: free >= minFreeBytes,
			Detail: fmt.Sprintf("%.1f GiB free in %s", float64(free)/(1<<30), info.Info.DockerRootDir)})
	}
	return checks
}

// Runtimes lists the OCI runtimes the daemon offers, sorted.
func Runtimes(info client.SystemInfoResult) []string {
	var names []string
	for name := range info.Info.Runtimes {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Host is what the daemon's machine offers a sandbox.
type Host struct {
	Runtimes []string
	NCPU     int
}

// Host asks the daemon for its runtimes and CPU count.
func (e *Engine) Host(ctx context.Context) (Host, error) {
	info, err := e.c.Info(ctx, client.InfoOptions{})
	if err != nil {
		return Host{}, fmt.Errorf("docker info: %w", err)
	}
	return Host{Runtimes: Runtimes(info), NCPU: info.Info.NCPU}, nil
}
