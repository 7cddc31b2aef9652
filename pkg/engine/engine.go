// Package engine runs a spec.RunSpec on a Docker engine through the Engine
// API: image check, networks, create, attach, start, wait, stream, timeout,
// cancellation, cleanup, listing and garbage collection.
//
// The engine renders nothing itself: every container setting comes from
// spec.RunSpec.EngineConfig, the same description `sandbox cmd` prints as a
// `docker run` line.
package engine

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/moby/moby/client"
)

// Client is the part of the Docker Engine API the engine uses. The moby
// client satisfies it; tests use the real client against a real daemon.
type Client interface {
	Ping(context.Context, client.PingOptions) (client.PingResult, error)
	ServerVersion(context.Context, client.ServerVersionOptions) (client.ServerVersionResult, error)
	Info(context.Context, client.InfoOptions) (client.SystemInfoResult, error)
	ImageInspect(context.Context, string, ...client.ImageInspectOption) (client.ImageInspectResult, error)
	ImagePull(context.Context, string, client.ImagePullOptions) (client.ImagePullResponse, error)
	ContainerCreate(context.Context, client.ContainerCreateOptions) (client.ContainerCreateResult, error)
	ContainerAttach(context.Context, string, client.ContainerAttachOptions) (client.ContainerAttachResult, error)
	ContainerStart(context.Context, string, client.ContainerStartOptions) (client.ContainerStartResult, error)
	ContainerWait(context.Context, string, client.ContainerWaitOptions) client.ContainerWaitResult
	ContainerInspect(context.Context, string, client.ContainerInspectOptions) (client.ContainerInspectResult, error)
	ContainerStop(context.Context, string, client.ContainerStopOptions) (client.ContainerStopResult, error)
	ContainerRemove(context.Context, string, client.ContainerRemoveOptions) (client.ContainerRemoveResult, error)
	ContainerList(context.Context, client.ContainerListOptions) (client.ContainerListResult, error)
	ContainerStatPath(context.Context, string, client.ContainerStatPathOptions) (client.ContainerStatPathResult, error)
	NetworkCreate(context.Context, string, client.NetworkCreateOptions) (client.NetworkCreateResult, error)
	NetworkConnect(context.Context, string, client.NetworkConnectOptions) (client.NetworkConnectResult, error)
	NetworkRemove(context.Context, string, client.NetworkRemoveOptions) (client.NetworkRemoveResult, error)
	NetworkList(context.Context, client.NetworkListOptions) (client.NetworkListResult, error)
	VolumeCreate(context.Context, client.VolumeCreateOptions) (client.VolumeCreateResult, error)
	VolumeList(context.Context, client.VolumeListOptions) (client.VolumeListResult, error)
	VolumeInspect(context.Context, string, client.VolumeInspectOptions) (client.VolumeInspectResult, error)
	VolumeRemove(context.Context, string, client.VolumeRemoveOptions) (client.VolumeRemoveResult, error)
}

// CleanupBudget bounds stopping and removing everything a run created once it
// is cancelled. The GitHub runner sends SIGTERM 7.5 s after SIGINT, so the
// whole teardown must fit well inside that.
const CleanupBudget = 5 * time.Second

// stopGrace is how long a cancelled or timed-out agent gets to exit on
// SIGTERM before it is killed; it is part of CleanupBudget.
const stopGrace = 2 * time.Second

// Engine runs sandboxes on one Docker daemon.
type Engine struct {
	c       Client
	lockDir string
	// closer is the connection Open made, released by Close.
	closer io.Closer
}

// Option configures an Engine.
type Option func(*Engine)

// WithLockDir sets where per-workspace lock files live.
func WithLockDir(dir string) Option { return func(e *Engine) { e.lockDir = dir } }

// New returns an Engine using c.
func New(c Client, opts ...Option) *Engine {
	e := &Engine{c: c, lockDir: filepath.Join(os.TempDir(), "sandbox-action-locks")}
	for _, o := range opts {
		o(e)
	}
	return e
}

// Open connects to the daemon in the environment (see Connect) and returns
// an Engine that owns the connection until Close.
func Open(ctx context.Context, opts ...Option) (*Engine, error) {
	c, err := Connect(ctx)
	if err != nil {
		return nil, err
	}
	e := New(c, opts...)
	e.closer = c
	return e, nil
}

// Close releases the connection Open made; it does nothing for an Engine
// made with New, whose caller owns the client.
func (e *Engine) Close() error {
	if e.closer == nil {
		return nil
	}
	return e.closer.Close()
}

// Connect returns a moby client configured from the environment (DOCKER_HOST
// and friends) that has answered a ping. The client negotiates the API
// version, and fails clearly when the daemon is older than it supports.
func Connect(ctx context.Context) (*client.Client, error) {
	c, err := client.New(client.FromEnv)
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	ping, err := c.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
	switch {
	case err != nil && ping.APIVersion != "":
		_ = c.Close()
		return nil, fmt.Errorf("docker daemon at %s is too old: it speaks Engine API %s and sandbox needs %s or newer (Docker 19.03+): %w",
			c.DaemonHost(), ping.APIVersion, client.MinAPIVersion, err)
	case err != nil:
		_ = c.Close()
		return nil, fmt.Errorf("docker daemon at %s is not reachable (is dockerd running? is DOCKER_HOST right?): %w", c.DaemonHost(), err)
	}
	return c, nil
}
