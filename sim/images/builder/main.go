// Command builder assembles container images from plain directories and pushes
// them to a registry, without a Docker daemon: the simulated fleet needs its
// service images on a machine where nothing can be pulled and no daemon is
// meant to build.
//
//	builder push  -spec spec.json   build every image of the spec; push tags whose
//	                                digest in the registry differs (prints one JSON line per tag)
//	builder check -spec spec.json   exit 0 when every tag of the spec exists in the registry
//	builder tag -spec spec.json -repo R -from A -to B
//	                                point tag B of repository R at what tag A is (moves B),
//	                                e.g. to publish a "new release" under a tag a device already runs
//
// Layers are reproducible (sorted entries, fixed times and owners), so an
// unchanged input gives the same digest and nothing is pushed again.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

type Spec struct {
	Registry     string            `json:"registry"`
	Insecure     bool              `json:"insecure"`
	Username     string            `json:"username"`
	PasswordFile string            `json:"passwordFile"`
	Created      time.Time         `json:"created"`
	Layers       map[string]string `json:"layers"` // layer name -> directory
	Images       []ImageSpec       `json:"images"`
}

type ImageSpec struct {
	Repository string    `json:"repository"`
	Tags       []string  `json:"tags"`
	Layers     []string  `json:"layers"`
	Config     v1.Config `json:"config"`
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: builder push|check -spec FILE")
		os.Exit(2)
	}
	fset := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	specPath := fset.String("spec", "", "image spec (JSON)")
	repo := fset.String("repo", "", "tag: repository, e.g. vv-video-ai/agent_dvr")
	from := fset.String("from", "", "tag: existing tag")
	to := fset.String("to", "", "tag: tag to create or move")
	_ = fset.Parse(os.Args[2:])
	spec, err := loadSpec(*specPath)
	if err != nil {
		fail(err)
	}
	switch os.Args[1] {
	case "push":
		err = push(spec)
	case "check":
		err = check(spec)
	case "tag":
		err = retag(spec, *repo, *from, *to)
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "builder:", err)
	os.Exit(1)
}

func loadSpec(path string) (*Spec, error) {
	if path == "" {
		return nil, errors.New("-spec is required")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s Spec
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if s.Created.IsZero() {
		s.Created = time.Unix(0, 0).UTC()
	}
	return &s, nil
}
