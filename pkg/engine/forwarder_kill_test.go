package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/pkg/features"
	"github.com/org/sandbox-action/pkg/spec"
)

// An agent that turns on its forwarder cuts only its own way out. In the
// sandbox docker-init is PID 1, the forwarder its child and the agent the
// forwarder's child, all as the sandbox's user: the agent may signal the
// forwarder. PID 1 is another matter under runc: the kernel drops a
// signal sent from inside its namespace to its init unless init handles
// it, and SIGKILL and SIGSTOP cannot be handled; kill(2) still returns
// success. gVisor's kernel delivers it: SIGKILL to PID 1 ends the sandbox,
// which only ends the agent's own run. What each case shows is asserted as
// it is.
//
// The forwarder hands each accepted connection to the proxy and steps
// aside, so a connection it has handed over is the proxy's: it outlives a
// stopped forwarder (and, for as long as the sandbox does, a killed one),
// and still reaches only what the allowlist allows. What the forwarder
// cuts is every new connection. "fetch-new" opens one; "fetch" may reuse
// the one an earlier fetch kept.
//
// Each case runs, under runc and gVisor on both transports, beside a
// second private run with its own sandbox and proxy, which reaches its
// allowlisted host before the cut and after it; both runs end, and leave
// no container, volume or socket directory.
func TestForwarderKilledByTheAgentCutsOnlyItsOwnRun(t *testing.T) {
	e, c := newTestEngine(t)
	o := newOutside(t, c)
	const (
		ok    = "ok"    // the probe ran and succeeded
		fails = "fails" // the probe ran and failed
		// cut: the sandbox ended under the probe, or it ran and failed.
		cut = "cut"
		// sent: the probe sent its signal, and the sandbox may have
		// ended before it said so.
		sent = "sent"
	)
	type probe struct {
		args []string
		want string
		// out is text the probe's output must hold when it ran.
		out string
	}
	// The forwarder's command line, wherever its binary is mounted.
	const forwarder = "forward --route "
	type forwarderCase struct {
		name   string
		noInit bool
		probes []probe
		// pause: the agent prints "cut" after its probes and waits for
		// the test before the rest (the bystander runs meanwhile).
		pause    []probe
		wantExit int
	}
	eachPrivateRun(t, e, transports, func(t *testing.T, iso isolation, transport string) {
		// Under gVisor the forwarder cannot hand connections over (its host
		// sockets carry no descriptors): it relays each one itself, and a
		// stopped forwarder holds the kept connection too.
		handedOver := ok
		if iso.gVisor() {
			handedOver = fails
		}
		// What the agent's signals to PID 1 (which target names it)
		// do: nothing under runc; under gVisor SIGKILL ends the sandbox,
		// while the agent sleeps.
		pid1 := func(target, cmdline string) ([]probe, int) {
			if iso.gVisor() {
				return []probe{
					{[]string{"signal", target, "KILL"}, sent, cmdline},
					{[]string{"sleep", "20s"}, cut, ""},
					{[]string{"fetch-new", "10s", "@a-after"}, cut, ""},
				}, 128 + 9
			}
			return []probe{
				{[]string{"signal", target, "KILL"}, ok, cmdline},
				{[]string{"signal", target, "STOP"}, ok, cmdline},
				{[]string{"fetch-new", "10s", "@a-after"}, ok, "200 OK"},
			}, 0
		}
		initProbes, initExit := pid1("1", "pid 1: /sbin/docker-init")
		forwarderProbes, forwarderExit := pid1("parent", "pid 1: /run/sandbox")
		for i, tc := range []forwarderCase{
			{
				// docker-init exits with its child's status, and the kernel
				// then kills the rest of the sandbox, the agent too.
				name: "SIGKILL to the forwarder ends the sandbox",
				probes: []probe{
					{[]string{"fetch", "@a-before"}, ok, "200 OK"},
					{[]string{"signal", "parent", "KILL"}, sent, forwarder},
					{[]string{"fetch-new", "2s", "@a-after"}, cut, ""},
				},
				wantExit: 128 + 9,
			},
			{
				// The forwarder passes SIGTERM on to its child, the agent,
				// which it ends while it sleeps.
				name: "SIGTERM to the forwarder reaches the agent",
				probes: []probe{
					{[]string{"fetch", "@a-before"}, ok, "200 OK"},
					{[]string{"signal", "parent", "TERM"}, sent, forwarder},
					{[]string{"sleep", "20s"}, cut, ""},
					{[]string{"fetch-new", "2s", "@a-after"}, cut, ""},
				},
				wantExit: 128 + 15,
			},
			{
				// A forwarder that lives but accepts nothing: the agent's new
				// connections time out, the one handed over earlier still
				// works, and all works again once the forwarder runs.
				name: "SIGSTOP to the forwarder stops only the agent's new connections",
				probes: []probe{
					{[]string{"fetch", "@a-before"}, ok, "200 OK"},
					{[]string{"signal", "parent", "STOP"}, ok, forwarder},
					{[]string{"fetch-new", "2s", "@a-stopped"}, fails, ""},
					{[]string{"fetch", "@a-handed-over"}, handedOver, ""},
				},
				pause: []probe{
					{[]string{"signal", "parent", "CONT"}, ok, ""},
					{[]string{"fetch-new", "10s", "@a-resumed"}, ok, "200 OK"},
				},
			},
			{
				name:     "SIGKILL and SIGSTOP to docker-init, PID 1",
				probes:   initProbes,
				wantExit: initExit,
			},
			{
				name:     "SIGKILL and SIGSTOP to the forwarder as PID 1, without docker-init",
				noInit:   true,
				probes:   forwarderProbes,
				wantExit: forwarderExit,
			},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var settings features.Settings
				if tc.noInit {
					yes := true
					settings.Relax.NoInit = &yes
				}
				// A probe's "@NAME" is a URL of the outside, whose path is
				// NAME under the subtest's own prefix: the outside is
				// shared.
				prefix := fmt.Sprintf("/%s-%s-%d-", iso.name, transport, i)
				path := func(arg string) (string, bool) {
					name, ok := strings.CutPrefix(arg, "@")
					return prefix + name, ok
				}
				url := func(name string) string { p, _ := path("@" + name); return "https://" + o.name + p }
				probes := slices.Clone(tc.probes)
				if tc.pause != nil {
					probes = append(probes, probe{[]string{"echo", "cut"}, ok, ""},
						probe{[]string{"await-file", spec.WorkspaceDir + "/resume"}, ok, ""})
					probes = append(probes, tc.pause...)
				}
				var argv [][]string
				for _, p := range probes {
					args := slices.Clone(p.args)
					for i, a := range args {
						if _, ok := path(a); ok {
							args[i] = "https://" + o.name + prefix + a[1:]
						}
					}
					argv = append(argv, args)
				}
				// seenNow checks which of probes' requests the outside has
				// seen: those that got through, and none that did not.
				seenNow := func(t *testing.T, probes []probe) {
					t.Helper()
					seen := map[string]bool{}
					for _, r := range o.requests(t) {
						seen[r.Path] = true
					}
					for _, p := range probes {
						for _, a := range p.args {
							if pth, isURL := path(a); isURL {
								assert.Check(t, is.Equal(seen[pth], p.want == ok), "the outside saw %s: %v", pth, seen[pth])
							}
						}
					}
				}
				agent := outsideRun(t, iso, transport, o, settings, batchArgs(argv...))
				bystander := outsideRun(t, iso, transport, o, features.Settings{}, batchArgs(
					[]string{"fetch", url("b-before")},
					[]string{"echo", "ready"},
					[]string{"await-file", spec.WorkspaceDir + "/go"},
					[]string{"fetch-new", "10s", url("b-after")},
				))

				bOut := newLineWriter("\nready\n")
				b := startRun(e, bystander, RunOptions{Stdout: bOut, Stderr: bOut})
				b.awaitOutput(t, bOut, 60*time.Second)

				aOut := newLineWriter("\ncut\n")
				a := startRun(e, agent, RunOptions{Stdout: aOut, Stderr: aOut})
				var aDone runOutcome
				if tc.pause != nil {
					a.awaitOutput(t, aOut, 60*time.Second)
				} else {
					aDone = a.wait(t, 60*time.Second)
				}

				// The agent's way out is cut now: the bystander's still works.
				touch(t, bystander.Sandbox.Workspace, "go")
				bDone := b.wait(t, 60*time.Second)
				assert.Check(t, bDone.err)
				assert.Check(t, is.Equal(bDone.res.ExitCode, 0), "bystander:\n%s", bOut)
				for i, r := range parseBatch(bOut.String(), 4) {
					assert.Check(t, r.ran && r.err == "", "bystander probe %d: %+v\n%s", i, r, bOut)
				}
				// What reached the outside while the agent's way out was
				// cut: everything the bystander sent, and of the agent's
				// requests only those that got through.
				seenNow(t, append([]probe{{[]string{"@b-before"}, ok, ""}, {[]string{"@b-after"}, ok, ""}}, tc.probes...))

				if tc.pause != nil {
					touch(t, agent.Sandbox.Workspace, "resume")
					aDone = a.wait(t, 60*time.Second)
				}
				t.Logf("the agent's run ended with %d:\n%s", aDone.res.ExitCode, aOut)
				assert.Check(t, aDone.err)
				assert.Check(t, is.Equal(aDone.res.ExitCode, tc.wantExit), "agent:\n%s", aOut)
				results := parseBatch(aOut.String(), len(probes))
				for i, p := range probes {
					r := results[i]
					switch p.want {
					case ok:
						assert.Check(t, r.ran && r.err == "", "probe %d %q should succeed: %+v\n%s", i, p.args, r, aOut)
					case fails:
						assert.Check(t, r.ran && r.err != "", "probe %d %q should fail: %+v\n%s", i, p.args, r, aOut)
					case cut:
						assert.Check(t, !r.ran || r.err != "", "probe %d %q should not get through: %+v\n%s", i, p.args, r, aOut)
					case sent:
						assert.Check(t, r.err == "", "probe %d %q: %+v\n%s", i, p.args, r, aOut)
					}
					if p.out != "" && (r.ran || p.want == sent) {
						assert.Check(t, is.Contains(aOut.String(), p.out), "probe %d %q", i, p.args)
					}
				}

				if tc.pause != nil {
					seenNow(t, tc.pause)
				}

				for _, r := range []spec.Run{agent, bystander} {
					assertNothingLeft(t, c, r.Sandbox.RunID)
					assertNoSocketDir(t, r)
				}
			})
		}
	})
}

// outsideRun is a private run of command whose proxy allows the outside,
// which the sandbox reaches over HTTPS trusting the test CA.
func outsideRun(t *testing.T, iso isolation, transport string, o *outside, settings features.Settings, command []string) spec.Run {
	t.Helper()
	settings.Allow = []string{o.name}
	in := privateInput(t, transport, o, settings, command...)
	assert.NilError(t, os.WriteFile(filepath.Join(in.Workspace, "test-ca.pem"), theTestCA().PEM, 0o644))
	in.Env = []spec.EnvVar{{Name: "SSL_CERT_FILE", Value: spec.WorkspaceDir + "/test-ca.pem"}}
	r := buildPrivate(t, in).Run
	iso.apply(t, &r.Sandbox)
	return r
}

// touch creates name in dir: a sandbox's await-file goes on.
func touch(t *testing.T, dir, name string) {
	t.Helper()
	assert.NilError(t, os.WriteFile(filepath.Join(dir, name), nil, 0o644))
}

// wait waits for the run to end by itself.
func (b *backgroundRun) wait(t *testing.T, d time.Duration) runOutcome {
	t.Helper()
	select {
	case r := <-b.done:
		return r
	case <-time.After(d):
		b.stop()
		r := <-b.done
		t.Fatalf("run did not end within %s (cancelled: exit %d, %v)", d, r.res.ExitCode, r.err)
		return r
	}
}
