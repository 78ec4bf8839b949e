package campaign

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// MergeReport says what a merge did.
type MergeReport struct {
	// Copied cells per source directory; Duplicates are cells found in
	// more than one source (the one that finished last is kept).
	Copied     map[string]int
	Duplicates []string
}

// Merge combines the campaign directories sources (shards of one
// campaign, from any machines) into dir: every done cell's folder is
// copied under dir/cells/, then campaign.json and the reports are built
// for the whole matrix (cells no source ran are pending). Sources must
// hold the same campaign (same matrix fingerprint); dir may be new or a
// previous merge of that campaign, never one of the sources.
func Merge(dir string, sources []string) (*Campaign, MergeReport, error) {
	rep := MergeReport{Copied: map[string]int{}}
	if len(sources) == 0 {
		return nil, rep, fmt.Errorf("merge: no campaign directory given")
	}
	var m Matrix
	var fp string
	done := map[string]CellResult{}
	from := map[string]string{}
	for _, src := range sources {
		if same(src, dir) {
			return nil, rep, fmt.Errorf("merge: %s is both a source and the output; give another --out", src)
		}
		c, err := LoadIndex(src)
		if err != nil {
			return nil, rep, fmt.Errorf("merge: %w", err)
		}
		if fp == "" {
			m, fp = c.Matrix, c.Fingerprint
		} else if c.Fingerprint != fp {
			return nil, rep, fmt.Errorf("merge: %s is another campaign (fingerprint %s, %s has %s): merge shards of one campaign only", src, c.Fingerprint, sources[0], fp)
		}
		cells, err := doneCells(src)
		if err != nil {
			return nil, rep, fmt.Errorf("merge: %w", err)
		}
		for id, r := range cells {
			if old, dup := done[id]; dup {
				rep.Duplicates = append(rep.Duplicates, id)
				if !r.Started.After(old.Started) {
					continue
				}
			}
			done[id], from[id] = r, src
		}
	}
	if m.Fingerprint() != fp {
		return nil, rep, fmt.Errorf("merge: %s: the matrix does not match its fingerprint (edited by hand?)", sources[0])
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, rep, fmt.Errorf("merge: create %s: %w", dir, err)
	}
	if err := checkSameCampaign(dir, m); err != nil {
		return nil, rep, fmt.Errorf("merge: %w", err)
	}
	ids := make([]string, 0, len(done))
	for id := range done {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		dst := CellDir(dir, id)
		if err := os.RemoveAll(dst); err != nil {
			return nil, rep, fmt.Errorf("merge: replace %s: %w", dst, err)
		}
		if err := copyTree(CellDir(from[id], id), dst); err != nil {
			return nil, rep, fmt.Errorf("merge: copy cell %s from %s: %w", id, from[id], err)
		}
		rep.Copied[from[id]]++
	}
	slices.Sort(rep.Duplicates)
	camp, err := Index(dir, m, Shard{})
	if err != nil {
		return nil, rep, fmt.Errorf("merge: %w", err)
	}
	camp.Sources = slices.Clone(sources)
	if err := WriteReports(dir, camp); err != nil {
		return nil, rep, err
	}
	return camp, rep, nil
}

// same reports whether a and b are the same existing folder.
func same(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// copyTree copies the folder src to dst: files, folders and symlinks
// (the run directories' latest links) as they are.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			return copyFile(p, target)
		}
		return nil // sockets and the like: not part of a run
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
