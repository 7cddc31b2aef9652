package testimage

import (
	"context"
	"testing"
)

func TestToolboxImageIsBuilt(t *testing.T) {
	tag := Toolbox(t)
	res, err := NewClient(t).ImageInspect(context.Background(), tag)
	if err != nil {
		t.Fatalf("inspect %s: %v", tag, err)
	}
	if got := res.Config.Entrypoint; len(got) != 0 {
		t.Errorf("toolbox image has entrypoint %v, want none", got)
	}
}
