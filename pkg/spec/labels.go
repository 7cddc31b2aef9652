package spec

import "maps"

// LabelTest marks objects created by test suites. It is the one label under
// LabelPrefix that Labels may set, so that tests can find and remove what
// they created.
const LabelTest = LabelPrefix + "test"

// The role label value of the sandbox container and of the egress proxy.
const (
	RoleSandbox = "sandbox"
	RoleProxy   = "proxy"
)

// ContainerLabels returns every label the sandbox container carries: the
// computed org.sandbox-action.* labels and the extra Labels. Empty optional
// fields (sandbox type, bundle, created-by) are left out.
func (s RunSpec) ContainerLabels() map[string]string {
	labels := make(map[string]string, len(s.Labels)+7)
	maps.Copy(labels, s.Labels)
	labels[LabelRunID] = s.RunID
	labels[LabelRole] = s.role()
	labels[LabelWorkspace] = s.workspaceSource()
	labels[LabelNetworkMode] = string(s.Network.mode())
	if s.forwarded() {
		labels[LabelTransport] = TransportHost
		if s.Egress.Volume {
			labels[LabelTransport] = TransportContainer
		}
	}
	for k, v := range map[string]string{
		LabelType:      s.SandboxType,
		LabelBundle:    s.Bundle,
		LabelCreatedBy: s.CreatedBy,
		LabelOrigin:    s.Origin,
	} {
		if v != "" {
			labels[k] = v
		}
	}
	return labels
}

// role returns Role; empty means RoleSandbox.
func (s RunSpec) role() string {
	if s.Role == "" {
		return RoleSandbox
	}
	return s.Role
}

// volumeLabels are the labels of the run's socket volume as s knows them.
// The volume's mounts carry them too: docker creates a volume a container
// names that does not exist yet, and gives it the mount's labels, so even
// a volume made that way (a pasted docker run line without its docker
// volume create) is found by its run's label and removed with the run.
func (s RunSpec) volumeLabels() map[string]string {
	labels := maps.Clone(s.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelRunID] = s.RunID
	labels[LabelRole] = RoleVolume
	labels[LabelWorkspace] = s.workspaceSource()
	if s.Origin != "" {
		labels[LabelOrigin] = s.Origin
	}
	if s.CreatedBy != "" {
		labels[LabelCreatedBy] = s.CreatedBy
	}
	return labels
}
