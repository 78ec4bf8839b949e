package harness

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func TestMissingVersionsAreTheNeededOnesTheLibcLacks(t *testing.T) {
	for _, tc := range []struct {
		name             string
		needed, provided []string
		want             string
	}{
		{"trixie provides all", []string{"GLIBC_2.38", "GLIBC_2.34", "GLIBC_2.2.5"}, []string{"GLIBC_2.2.5", "GLIBC_2.34", "GLIBC_2.38", "GLIBC_2.41"}, ""},
		{"rocky 9 lacks 2.38", []string{"GLIBC_2.38", "GLIBC_2.34"}, []string{"GLIBC_2.2.5", "GLIBC_2.34"}, "GLIBC_2.38"},
		{"bullseye lacks both", []string{"GLIBC_2.38", "GLIBC_2.34"}, []string{"GLIBC_2.2.5", "GLIBC_2.31"}, "GLIBC_2.34,GLIBC_2.38"},
		{"nothing needed", nil, nil, ""},
	} {
		if got := strings.Join(missingVersions(tc.needed, tc.provided), ","); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestNewestGlibcComparesNumerically(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{[]string{"GLIBC_2.2.5", "GLIBC_2.9", "GLIBC_2.10", "GLIBC_PRIVATE"}, "GLIBC_2.10"},
		{[]string{"GLIBC_2.34", "GLIBC_2.4"}, "GLIBC_2.34"},
		{[]string{"GLIBC_PRIVATE"}, ""},
	} {
		if got := newestGlibc(tc.in); got != tc.want {
			t.Errorf("newestGlibc(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestGnuArchNamesLibraryFolders(t *testing.T) {
	for in, want := range map[string]string{"amd64": "x86_64", "": "x86_64", "arm64": "aarch64", "s390x": "s390x"} {
		if got := gnuArch(in); got != want {
			t.Errorf("gnuArch(%q) = %q, want %q", in, got, want)
		}
	}
	if p := libcPaths("x86_64"); p[0] != "/lib/x86_64-linux-gnu/libc.so.6" || !slices.Contains(p, "/lib64/libc.so.6") {
		t.Errorf("libc paths: %v", p)
	}
}

func TestDefinedVersionsReadsARealGlibc(t *testing.T) {
	so, err := os.ReadFile("/lib/x86_64-linux-gnu/libc.so.6")
	if err != nil {
		t.Skip("no Debian amd64 glibc on this host")
	}
	vs, err := definedVersions(so)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(vs, "GLIBC_2.2.5") || newestGlibc(vs) == "" {
		t.Errorf("versions of the host's glibc: %v", vs)
	}
	if _, err := neededVersions(so, "libc.so.6"); err != nil {
		t.Errorf("needed versions of glibc itself: %v", err)
	}
}

func TestSidecarLabelsAreTheRunsWithoutTheNodeLabel(t *testing.T) {
	node := map[string]string{LabelRun: "r1", LabelNode: "n2", LabelOwnerPID: "42"}
	got := sidecarLabels(node, "n2")
	if got[LabelRun] != "r1" || got[LabelOwnerPID] != "42" || got[LabelSidecar] != "n2" {
		t.Errorf("labels: %v", got)
	}
	if _, ok := got[LabelNode]; ok {
		t.Errorf("a helper must not carry %s (Attach would take it for a node): %v", LabelNode, got)
	}
	if node[LabelNode] != "n2" {
		t.Error("the node's own labels were changed")
	}
}
