package spec

import (
	"encoding/csv"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
)

// Args returns the `docker run` argv, starting with "docker", "run", that
// creates the same container as EngineConfig. Secret values are not in it:
// they appear as `-e NAME`, which makes docker copy the value from its own
// environment (a name missing there is left out of the container's).
//
// Like every rendering, Args is pure and cannot fail; call Validate first,
// since an invalid spec renders a command docker refuses. Timeout has no
// docker run flag: the engine enforces it.
func (s RunSpec) Args() []string {
	args := []string{"docker", "run"}
	for _, o := range s.options() {
		args = append(args, o.flag)
		if o.value != "" {
			args = append(args, o.value)
		}
	}
	args = append(args, s.Image)
	return append(args, s.argv()...)
}

// CommandLine returns Args quoted for bash, as one line a person can paste.
func (s RunSpec) CommandLine() string {
	return quoteArgs(s.Args())
}

// EngineConfig returns the Engine API create request for the container Args
// describes. The container name is not part of it: pass s.Name as
// client.ContainerCreateOptions.Name.
func (s RunSpec) EngineConfig() (*container.Config, *container.HostConfig, *network.NetworkingConfig) {
	r := newRequest(s)
	for _, o := range s.options() {
		if o.apply != nil {
			o.apply(r)
		}
	}
	return r.config, r.host, r.network
}

// workspaceSource is the bind mount's source: Workspace cleaned, so that a
// trailing slash does not make the two renderings differ.
func (s RunSpec) workspaceSource() string {
	if s.Workspace == "" {
		return ""
	}
	return filepath.Clean(s.Workspace)
}

// bindMountValue renders a bind mount as a --mount value.
func bindMountValue(src, dst string, readOnly bool) string {
	return mountValue(mount.Mount{Type: mount.TypeBind, Source: src, Target: dst, ReadOnly: readOnly})
}

// mountValue renders m as a --mount value. docker reads it as one CSV
// record, so a path with a comma or a quote is quoted the CSV way by
// encoding/csv, the same package docker parses it with.
func mountValue(m mount.Mount) string {
	fields := []string{"type=" + string(m.Type), "src=" + m.Source, "dst=" + m.Target}
	if m.ReadOnly {
		fields = append(fields, "readonly")
	}
	if o := m.VolumeOptions; o != nil {
		if o.NoCopy {
			fields = append(fields, "volume-nocopy")
		}
		for _, k := range slices.Sorted(maps.Keys(o.Labels)) {
			fields = append(fields, "volume-label="+k+"="+o.Labels[k])
		}
	}
	var b strings.Builder
	w := csv.NewWriter(&b)
	// Write only fails when the writer's io.Writer does; a Builder does not.
	_ = w.Write(fields)
	w.Flush()
	return strings.TrimSuffix(b.String(), "\n")
}
