package engine

import (
	"context"
	"fmt"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// ImageMissingError says an image is not on the daemon and how to get it
// there. There may be no registry, so pulling is opt-in.
type ImageMissingError struct {
	Image string
}

func (e *ImageMissingError) Error() string {
	return fmt.Sprintf("image %q is not present on this Docker host; build it (docker build -t %s .) or load it (docker load -i image.tar), or pass --pull to fetch it from a registry", e.Image, e.Image)
}

// ensureImage checks that ref is present, pulling it only when pull is set.
func (e *Engine) ensureImage(ctx context.Context, ref string, pull bool) error {
	_, err := e.c.ImageInspect(ctx, ref)
	if err == nil {
		return nil
	}
	if !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("inspect image %s: %w", ref, err)
	}
	if !pull {
		return &ImageMissingError{Image: ref}
	}
	resp, err := e.c.ImagePull(ctx, ref, client.ImagePullOptions{})
	if err != nil {
		return fmt.Errorf("pull %s: %w", ref, err)
	}
	defer resp.Close()
	if err := resp.Wait(ctx); err != nil {
		return fmt.Errorf("pull %s: %w", ref, err)
	}
	if _, err := e.c.ImageInspect(ctx, ref); err != nil {
		return fmt.Errorf("pull %s: image still not present: %w", ref, err)
	}
	return nil
}

// ImageLabels returns the labels of a local image; it never pulls.
func (e *Engine) ImageLabels(ctx context.Context, ref string) (map[string]string, error) {
	res, err := e.c.ImageInspect(ctx, ref)
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return nil, &ImageMissingError{Image: ref}
		}
		return nil, fmt.Errorf("inspect image %s: %w", ref, err)
	}
	if res.Config == nil {
		return nil, nil
	}
	return res.Config.Labels, nil
}
