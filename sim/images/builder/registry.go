// Registry side: credentials and references from the spec, and the push,
// check and tag commands.

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

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
