// Command buildimage builds the project's stand-in images on the local
// daemon: `buildimage -tag T replay` (the replay agent, used by the demo)
// or `buildimage -tag T toolbox`.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/moby/moby/client"

	"github.com/org/sandbox-action/internal/testimage"
)

func main() {
	tag := flag.String("tag", "", "image tag (default: the test tag)")
	flag.Parse()
	if err := build(*tag, flag.Args()); err != nil {
		fmt.Fprintf(os.Stderr, "buildimage: %v\n", err)
		os.Exit(1)
	}
}

func build(tag string, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: buildimage [-tag TAG] replay|toolbox")
	}
	var s testimage.Spec
	switch args[0] {
	case "replay":
		if tag == "" {
			tag = testimage.ReplayTag
		}
		var err error
		if s, err = testimage.ReplaySpec(tag); err != nil {
			return err
		}
	case "toolbox":
		if tag == "" {
			tag = testimage.ToolboxTag
		}
		s = testimage.ToolboxSpec(tag)
	default:
		return fmt.Errorf("unknown image %q (want replay or toolbox)", args[0])
	}
	c, err := client.New(client.FromEnv)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := testimage.Build(context.Background(), c, s); err != nil {
		return err
	}
	fmt.Println(tag)
	return nil
}
