package spec

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/distribution/reference"
)

// FieldError is one problem with one field of a RunSpec.
type FieldError struct {
	// Field names the field, e.g. "image", "env[2].name", "limits.memory".
	Field string
	// Value is the offending value, quoted in the message; empty when there
	// is none or it must not be shown (environment values may be secrets).
	Value string
	// Reason says what is wrong and, where it helps, what would be right.
	Reason string
}

// Error reads `spec: FIELD "VALUE": REASON`.
func (e *FieldError) Error() string {
	if e.Value == "" {
		return "spec: " + e.Field + ": " + e.Reason
	}
	return fmt.Sprintf("spec: %s %q: %s", e.Field, e.Value, e.Reason)
}

var (
	// namePattern is docker's rule for container and network names.
	namePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)
	// idPattern is namePattern allowing a single character.
	idPattern      = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)
	envNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	userPattern    = regexp.MustCompile(`^([0-9]+)(?::([0-9]+))?$`)
	runtimePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.+-]*$`)
)

// MinMemory is the smallest memory limit Docker accepts (6 MiB since Engine
// 23; older engines accept 4 MiB). Refusing less early turns a late daemon
// error into one that names the option.
const MinMemory = 6 << 20

// Validate reports every problem with s, each as a *FieldError joined with
// errors.Join, or nil. It is pure: whether Workspace exists is checked by
// ValidateHost. An empty Network.Mode means Public.
//
// Env values may not contain newlines: the engine would accept them, but Args
// must stay a command a person can paste, and `-e NAME=VALUE` cannot carry a
// newline through a terminal safely.
func (s RunSpec) Validate() error {
	var v validator
	v.spec(s)
	return errors.Join(v.errs...)
}

// validator collects the problems of one spec.
type validator struct {
	errs []error
}

func (v *validator) spec(s RunSpec) {
	v.image(s.Image)
	for i, arg := range s.Command {
		if strings.ContainsRune(arg, 0) {
			v.add(fmt.Sprintf("command[%d]", i), "", "contains a NUL byte")
		}
	}
	v.identifier("run-id", s.RunID, idPattern)
	v.identifier("name", s.Name, namePattern)
	v.workspace(s.Workspace)
	v.mounts(s.Mounts, s.role())
	v.masks(s.Masks, s.role())
	v.env(s.Env, s.reservedEnv())
	v.user(s.User, s.Relax.Root)
	v.network(s.Network)
	v.role(s.role(), s)
	v.limits(s.Limits)
	if s.Runtime != "" && !runtimePattern.MatchString(s.Runtime) {
		v.add("runtime", s.Runtime, "must be a runtime name such as runsc (letters, digits, '_', '.', '+', '-')")
	}
	if s.Timeout < 0 {
		v.add("timeout", s.Timeout.String(), "must not be negative")
	}
	v.labelValue("sandbox-type", s.SandboxType)
	v.labelValue("bundle", s.Bundle)
	v.labelValue("created-by", s.CreatedBy)
	v.labelValue("origin", s.Origin)
	v.labels(s.Labels)
}

func (v *validator) add(field, value, reason string) {
	v.errs = append(v.errs, &FieldError{Field: field, Value: value, Reason: reason})
}

func (v *validator) image(image string) {
	switch {
	case image == "":
		v.add("image", "", "required")
	case strings.HasPrefix(image, "-"):
		v.add("image", image, `must not start with "-"`)
	case strings.IndexFunc(image, isSpaceOrControl) >= 0:
		v.add("image", image, "must not contain whitespace or control characters")
	default:
		// ParseAnyReference accepts what docker run accepts: a name with an
		// optional tag and digest, or an image ID.
		if _, err := reference.ParseAnyReference(image); err != nil {
			v.add("image", image, "not a valid image reference: "+err.Error())
		}
	}
}

func (v *validator) identifier(field, value string, pattern *regexp.Regexp) {
	switch {
	case value == "":
		v.add(field, "", "required")
	case !pattern.MatchString(value):
		v.add(field, value, "must match "+pattern.String())
	}
}

func (v *validator) workspace(ws string) {
	switch {
	case ws == "":
		v.add("workspace", "", "required")
	case strings.IndexFunc(ws, unicode.IsControl) >= 0:
		v.add("workspace", ws, "must not contain control characters")
	case !filepath.IsAbs(ws):
		v.add("workspace", ws, "must be an absolute path")
	case filepath.Clean(ws) == "/":
		v.add("workspace", ws, "refusing to mount the host's root directory")
	}
}

func (v *validator) env(env []EnvVar, reserved map[string]bool) {
	seen := map[string]int{}
	for i, e := range env {
		field := fmt.Sprintf("env[%d].name", i)
		switch {
		case e.Name == "":
			v.add(field, "", "required")
			continue
		case strings.ContainsAny(e.Name, "=\x00\n"):
			v.add(field, e.Name, `must not contain "=", NUL or newline`)
			continue
		case !envNamePattern.MatchString(e.Name):
			v.add(field, e.Name, "must match "+envNamePattern.String())
			continue
		case reserved[e.Name]:
			v.add(field, e.Name, "is set by the sandbox itself")
		case ForbiddenEnv(e.Name):
			v.add(field, e.Name, "is a GitHub credential, which never enters the sandbox (GitHub writes are made outside it)")
		case seen[e.Name] > 0:
			v.add(field, e.Name, fmt.Sprintf("duplicate of env[%d]", seen[e.Name]-1))
		}
		seen[e.Name] = i + 1
		// The value is never shown: it may be a secret.
		switch {
		case strings.ContainsRune(e.Value, 0):
			v.add("env."+e.Name, "", "value contains a NUL byte")
		case strings.ContainsAny(e.Value, "\n\r"):
			v.add("env."+e.Name, "", "value contains a line break, which a pasted docker run command cannot carry; "+
				"pass multi-line data in a workspace file instead")
		}
	}
}

func (v *validator) user(user string, rootAllowed bool) {
	if user == "" {
		if !rootAllowed {
			v.add("user", "", `required ("UID:GID", normally the workspace owner); it may be empty only with Relax.Root`)
		}
		return
	}
	if err := CheckUser(user); err != nil {
		v.add("user", user, err.Error())
		return
	}
	uid, _, _ := strings.Cut(user, ":")
	if n, _ := strconv.ParseUint(uid, 10, 32); n == 0 && !rootAllowed {
		v.add("user", user, "runs as root; that needs Relax.Root")
	}
}

// role checks that the container's role, network mode and egress fit
// together: only the sandbox mounts the workspace and runs under the
// forwarder; the proxy's container serves the run's volume from the
// default bridge.
func (v *validator) role(role string, s RunSpec) {
	switch role {
	case RoleSandbox:
		if s.Network.mode() == Private && (s.Egress == nil || !s.Egress.Proxy) {
			v.add("egress", "", "private mode needs the egress proxy's socket (the sandbox has no other way out)")
		}
		if s.Egress != nil {
			v.egress(*s.Egress, len(s.Command) == 0)
		}
	case RoleProxy:
		if s.Network.mode() != Public {
			v.add("role", role, "the proxy's container is on the default bridge (public network mode)")
		}
		if s.Egress == nil || !s.Egress.Volume {
			v.add("egress", "", "the proxy's container serves the run's volume")
		}
	default:
		v.add("role", role, fmt.Sprintf("unknown; use %q or %q", RoleSandbox, RoleProxy))
	}
}

func (v *validator) egress(e Egress, noCommand bool) {
	switch {
	case e.Source == "":
		v.add("egress.source", "", "required: the run's socket directory or volume")
	case e.Volume && !namePattern.MatchString(e.Source):
		v.add("egress.source", e.Source, "a volume name must match "+namePattern.String())
	case !e.Volume && (!filepath.IsAbs(e.Source) || strings.IndexFunc(e.Source, unicode.IsControl) >= 0):
		v.add("egress.source", e.Source, "must be an absolute host path")
	}
	if e.Forwarder != "" && (!filepath.IsAbs(e.Forwarder) || strings.IndexFunc(e.Forwarder, unicode.IsControl) >= 0) {
		v.add("egress.forwarder", e.Forwarder, "must be an absolute host path")
	}
	if !e.Proxy && !e.Gateway {
		v.add("egress", "", "uses neither the proxy nor the gateway")
	}
	if noCommand && len(e.Entrypoint) == 0 && len(e.ImageCmd) == 0 {
		v.add("command", "", "nothing to run: no command, and the image's ENTRYPOINT and CMD are not known (the forwarder runs them itself)")
	}
}

func (v *validator) network(n Network) {
	switch n.mode() {
	case Public:
		if len(n.NoProxy) > 0 {
			v.add("network.no-proxy", strings.Join(n.NoProxy, ","), "only used in private mode")
		}
	case Private:
		for i, h := range n.NoProxy {
			if h == "" || strings.IndexFunc(h, isSpaceOrControl) >= 0 || strings.Contains(h, ",") {
				v.add(fmt.Sprintf("network.no-proxy[%d]", i), h, "must be a host name or address without spaces or commas")
			}
		}
	default:
		v.add("network.mode", string(n.Mode), fmt.Sprintf("unknown; use %q or %q", Public, Private))
	}
}

func (v *validator) limits(l Limits) {
	for _, f := range []struct {
		field string
		n     int64
	}{{"limits.memory", l.MemoryBytes}, {"limits.cpus", l.NanoCPUs}, {"limits.pids", l.PidsLimit}} {
		if f.n < 0 {
			v.add(f.field, strconv.FormatInt(f.n, 10), "must not be negative (0 means the daemon's default)")
		}
	}
	if l.MemoryBytes > 0 && l.MemoryBytes < MinMemory {
		v.add("limits.memory", strconv.FormatInt(l.MemoryBytes, 10), "below docker's minimum of 6 MiB")
	}
}

// labelValue checks a value that becomes a label: it must print on one line.
func (v *validator) labelValue(field, value string) {
	if strings.IndexFunc(value, unicode.IsControl) >= 0 {
		v.add(field, value, "must not contain control characters")
	}
}

func (v *validator) labels(labels map[string]string) {
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		switch {
		case k == "" || strings.ContainsRune(k, '=') || strings.IndexFunc(k, isSpaceOrControl) >= 0:
			v.add("labels", k, `key must be non-empty, without "=", whitespace or control characters`)
		case strings.HasPrefix(k, LabelPrefix) && k != LabelTest:
			v.add("labels", k, fmt.Sprintf("keys starting with %q are reserved for the labels the sandbox sets", LabelPrefix))
		}
		v.labelValue(fmt.Sprintf("labels[%q]", k), labels[k])
	}
}

func isSpaceOrControl(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }

// CheckUser checks a user as the sandbox takes it: numeric "UID" or
// "UID:GID". Names are refused because they depend on the image's
// /etc/passwd, which a scratch or distroless image does not have.
func CheckUser(user string) error {
	m := userPattern.FindStringSubmatch(user)
	if m == nil {
		return errors.New(`must be numeric "UID" or "UID:GID"`)
	}
	for _, id := range m[1:] {
		if _, err := strconv.ParseUint(id, 10, 32); id != "" && err != nil {
			return fmt.Errorf("%s is out of range for a UID or GID", id)
		}
	}
	return nil
}
