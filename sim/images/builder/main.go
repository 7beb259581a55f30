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
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
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

func (s *Spec) options() ([]remote.Option, []name.Option, error) {
	var nameOpts []name.Option
	if s.Insecure {
		nameOpts = append(nameOpts, name.Insecure)
	}
	auth := authn.Anonymous
	if s.Username != "" {
		pw, err := os.ReadFile(s.PasswordFile)
		if err != nil {
			return nil, nil, fmt.Errorf("registry password: %w", err)
		}
		auth = &authn.Basic{Username: s.Username, Password: strings.TrimRight(string(pw), "\r\n")}
	}
	return []remote.Option{remote.WithAuth(auth)}, nameOpts, nil
}

func (s *Spec) ref(repo, tag string, opts []name.Option) (name.Tag, error) {
	return name.NewTag(s.Registry+"/"+repo+":"+tag, opts...)
}

func check(s *Spec) error {
	ropts, nopts, err := s.options()
	if err != nil {
		return err
	}
	for _, img := range s.Images {
		for _, tag := range img.Tags {
			ref, err := s.ref(img.Repository, tag, nopts)
			if err != nil {
				return err
			}
			if _, err := remote.Head(ref, ropts...); err != nil {
				return fmt.Errorf("%s: %w", ref, err)
			}
		}
	}
	return nil
}

func retag(s *Spec, repo, from, to string) error {
	if repo == "" || from == "" || to == "" {
		return errors.New("tag needs -repo, -from and -to")
	}
	ropts, nopts, err := s.options()
	if err != nil {
		return err
	}
	src, err := s.ref(repo, from, nopts)
	if err != nil {
		return err
	}
	dst, err := s.ref(repo, to, nopts)
	if err != nil {
		return err
	}
	desc, err := remote.Get(src, ropts...)
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	if err := remote.Tag(dst, desc, ropts...); err != nil {
		return fmt.Errorf("tag %s: %w", dst, err)
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"ref": dst.String(), "digest": desc.Digest.String(), "from": src.String()})
}

func push(s *Spec) error {
	ropts, nopts, err := s.options()
	if err != nil {
		return err
	}
	layers := map[string]v1.Layer{}
	for lname, dir := range s.Layers {
		l, err := layerFromDir(dir, s.Created)
		if err != nil {
			return fmt.Errorf("layer %s: %w", lname, err)
		}
		layers[lname] = l
	}
	out := json.NewEncoder(os.Stdout)
	for _, is := range s.Images {
		img, err := buildImage(s, is, layers)
		if err != nil {
			return fmt.Errorf("%s: %w", is.Repository, err)
		}
		digest, err := img.Digest()
		if err != nil {
			return err
		}
		for _, tag := range is.Tags {
			ref, err := s.ref(is.Repository, tag, nopts)
			if err != nil {
				return err
			}
			pushed := false
			desc, err := remote.Head(ref, ropts...)
			var terr *transport.Error
			switch {
			case err == nil && desc.Digest == digest:
			case err == nil || (errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound):
				if err := remote.Write(ref, img, ropts...); err != nil {
					return fmt.Errorf("push %s: %w", ref, err)
				}
				pushed = true
			default:
				return fmt.Errorf("%s: %w", ref, err)
			}
			_ = out.Encode(map[string]any{"ref": ref.String(), "digest": digest.String(), "pushed": pushed})
		}
	}
	return nil
}

func buildImage(s *Spec, is ImageSpec, layers map[string]v1.Layer) (v1.Image, error) {
	img := empty.Image
	for _, lname := range is.Layers {
		l, ok := layers[lname]
		if !ok {
			return nil, fmt.Errorf("unknown layer %q", lname)
		}
		var err error
		img, err = mutate.Append(img, mutate.Addendum{
			Layer:   l,
			History: v1.History{Created: v1.Time{Time: s.Created}, CreatedBy: "edge-fleet sim builder: layer " + lname},
		})
		if err != nil {
			return nil, err
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Architecture = runtime.GOARCH
	cf.OS = "linux"
	cf.Created = v1.Time{Time: s.Created}
	cf.Config = is.Config
	return mutate.ConfigFile(img, cf)
}

// layerFromDir tars dir reproducibly: entries in lexical order, owner root,
// one fixed time; modes and symlinks as on disk.
func layerFromDir(dir string, mtime time.Time) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == "." {
			return err
		}
		info, err := os.Lstat(path)
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(path); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		if info.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
		hdr.ModTime, hdr.AccessTime, hdr.ChangeTime = mtime, time.Time{}, time.Time{}
		hdr.PAXRecords = nil
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			if _, err := io.Copy(tw, f); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	})
}
