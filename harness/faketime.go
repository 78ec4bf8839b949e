package harness

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/spockchaos/spockchaos/docker"
)

// fakeTimeCache holds the libraries read from images, once per process
// and image.
var fakeTimeCache struct {
	sync.Mutex
	lib map[string][]byte
}

// fakeTimeLibrary is the libfaketimeMT to preload on nodes of image, and
// the image it comes from: image's own at FakeTimeSource when it has one
// (the recipe's images of every major: its glibc matches), else
// ToolsImage's.
func fakeTimeLibrary(ctx context.Context, image string, labels map[string]string) ([]byte, string, error) {
	fakeTimeCache.Lock()
	defer fakeTimeCache.Unlock()
	for _, from := range []string{image, ToolsImage()} {
		if lib, ok := fakeTimeCache.lib[from]; ok {
			return lib, from, nil
		}
		var lib []byte
		err := withImageFiles(ctx, from, labels, func(f *imageFiles) error {
			var err error
			lib, err = f.read(ctx, FakeTimeSource)
			return err
		})
		if errors.Is(err, errNoFile) && from != ToolsImage() {
			continue
		}
		if err != nil {
			return nil, "", fmt.Errorf("clock skew: read libfaketime from %s: %w", from, err)
		}
		if fakeTimeCache.lib == nil {
			fakeTimeCache.lib = map[string][]byte{}
		}
		fakeTimeCache.lib[from] = lib
		return lib, from, nil
	}
	panic("unreachable: the tools image either has the library or is an error")
}

// ErrClockSkewUnsupported is wrapped by ClockSkewSupport's answer when the
// image cannot run clock skew (as opposed to an engine failure).
var ErrClockSkewUnsupported = errors.New("clock skew unsupported")

// unsupported is a one-line refusal that errors.Is ErrClockSkewUnsupported.
type unsupported struct{ msg string }

func (u *unsupported) Error() string        { return u.msg }
func (u *unsupported) Is(target error) bool { return target == ErrClockSkewUnsupported }

func refuse(format string, args ...any) error { return &unsupported{msg: fmt.Sprintf(format, args...)} }

// ClockSkewSupport says whether clock-skew faults can run on image (nil)
// or why not, in one line: the image must have a glibc that defines every
// symbol version the preloaded libfaketime needs (the image's own at
// FakeTimeSource, else the tools image's, Debian 13's: glibc 2.38). musl
// images cannot preload it. It
// creates (never starts) one container of each image and reads files
// only, so it needs nothing inside the image. A refusal wraps
// ErrClockSkewUnsupported; any other error is the engine's.
func ClockSkewSupport(ctx context.Context, image string) error {
	if _, err := docker.EnsureDefaultImage(ctx, io.Discard); err != nil {
		return err
	}
	labels := runLabels("probe-"+NewRunID(), "", false)
	return clockSkewSupport(ctx, image, labels)
}

func clockSkewSupport(ctx context.Context, image string, labels map[string]string) error {
	lib, from, err := fakeTimeLibrary(ctx, image, labels)
	if err != nil {
		return err
	}
	needed, err := neededVersions(lib, "libc.so.6")
	if err != nil {
		return fmt.Errorf("clock skew: read libfaketime from %s: %w", from, err)
	}
	var libc []byte
	err = withImageFiles(ctx, image, labels, func(f *imageFiles) error {
		arch, err := imageArch(ctx, f)
		if err != nil {
			return err
		}
		for _, p := range libcPaths(arch) {
			if libc, err = f.read(ctx, p); err == nil {
				return nil
			} else if !errors.Is(err, errNoFile) {
				return err
			}
		}
		for _, p := range muslPaths(arch) {
			if _, err := f.read(ctx, p); err == nil {
				return refuse("clock skew cannot run on image %s: it has musl (%s), not glibc, and libfaketime needs glibc", image, p)
			}
		}
		return refuse("clock skew cannot run on image %s: no glibc found (looked for %s)", image, strings.Join(libcPaths(arch), ", "))
	})
	if err != nil {
		return err
	}
	provided, err := definedVersions(libc)
	if err != nil {
		return fmt.Errorf("clock skew on image %s: read its glibc: %w", image, err)
	}
	if missing := missingVersions(needed, provided); len(missing) > 0 {
		newest := newestGlibc(provided)
		if newest == "" {
			newest = "no GLIBC_ version"
		}
		return refuse("clock skew cannot run on image %s: its glibc (up to %s) lacks %s, which libfaketime from %s needs",
			image, newest, strings.Join(missing, ", "), from)
	}
	return nil
}

// imageArch is the image's architecture as GNU names it (x86_64, aarch64).
func imageArch(ctx context.Context, f *imageFiles) (string, error) {
	res, err := f.cli.ImageInspect(ctx, f.image)
	if err != nil {
		return "", fmt.Errorf("inspect image %s: %w", f.image, err)
	}
	return gnuArch(res.Architecture), nil
}

// gnuArch maps an OCI architecture to the GNU name in library paths.
func gnuArch(oci string) string {
	switch oci {
	case "amd64", "":
		return "x86_64"
	case "arm64":
		return "aarch64"
	}
	return oci
}

// libcPaths are where distributions keep glibc: Debian's multiarch
// folders, then Red Hat's lib64, then plain lib.
func libcPaths(arch string) []string {
	return []string{
		"/lib/" + arch + "-linux-gnu/libc.so.6", "/usr/lib/" + arch + "-linux-gnu/libc.so.6",
		"/lib64/libc.so.6", "/usr/lib64/libc.so.6", "/lib/libc.so.6", "/usr/lib/libc.so.6",
	}
}

func muslPaths(arch string) []string {
	return []string{"/lib/ld-musl-" + arch + ".so.1", "/lib/libc.musl-" + arch + ".so.1"}
}

// neededVersions lists the symbol versions lib needs from library.
func neededVersions(lib []byte, library string) ([]string, error) {
	f, err := elf.NewFile(bytes.NewReader(lib))
	if err != nil {
		return nil, err
	}
	syms, err := f.ImportedSymbols()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range syms {
		if s.Library == library && s.Version != "" && !slices.Contains(out, s.Version) {
			out = append(out, s.Version)
		}
	}
	sort.Strings(out)
	return out, nil
}

// definedVersions lists the symbol versions a shared object defines.
func definedVersions(so []byte) ([]string, error) {
	f, err := elf.NewFile(bytes.NewReader(so))
	if err != nil {
		return nil, err
	}
	vs, err := f.DynamicVersions()
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		out = append(out, v.Name)
	}
	return out, nil
}

// missingVersions are the needed versions not provided, sorted.
func missingVersions(needed, provided []string) []string {
	var out []string
	for _, n := range needed {
		if !slices.Contains(provided, n) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// newestGlibc is the highest GLIBC_x.y among versions ("" if none).
func newestGlibc(versions []string) string {
	best, bestKey := "", [2]int{-1, -1}
	for _, v := range versions {
		var major, minor int
		if _, err := fmt.Sscanf(v, "GLIBC_%d.%d", &major, &minor); err != nil {
			continue
		}
		if k := [2]int{major, minor}; k[0] > bestKey[0] || (k[0] == bestKey[0] && k[1] > bestKey[1]) {
			best, bestKey = v, k
		}
	}
	return best
}
