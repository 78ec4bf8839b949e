package capability

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/docker"
	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/pgversion"
	"github.com/spockchaos/spockchaos/recovery/spock"
)

// ImageInfo is what `docker image inspect` says of an image.
type ImageInfo struct {
	Ref        string   `json:"image"`
	ID         string   `json:"id"`
	User       string   `json:"user"`
	Env        []string `json:"env,omitempty"`
	Entrypoint []string `json:"entrypoint,omitempty"`
	Cmd        []string `json:"cmd,omitempty"`
}

// Inspect reads an image's metadata; a missing image is one line.
func Inspect(ctx context.Context, ref string) (*ImageInfo, error) {
	cli, err := docker.Client(ctx)
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	ok, err := docker.ImageExists(ctx, cli, ref)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("image %s is not in the Docker engine, and spockchaos never pulls: load it first (docker load / docker pull)", ref)
	}
	insp, err := cli.ImageInspect(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("inspect image %s: %w", ref, err)
	}
	info := &ImageInfo{Ref: ref, ID: insp.ID}
	if c := insp.Config; c != nil {
		info.User, info.Env, info.Entrypoint, info.Cmd = c.User, c.Env, c.Entrypoint, c.Cmd
	}
	return info, nil
}

// Extension is one replication extension the server offers.
type Extension struct {
	Name      string `json:"name"`
	Default   string `json:"default_version"`
	Installed string `json:"installed_version,omitempty"`
}

// Report is what a probe node of an image showed.
type Report struct {
	Flavor     string            `json:"flavor"`
	Image      ImageInfo         `json:"image"`
	Version    string            `json:"postgresql"`
	VersionNum int               `json:"server_version_num"`
	Extensions []Extension       `json:"extensions"`
	Settings   map[string]string `json:"settings"`
	// ListSettings are list settings the harness adds items to at run
	// time, where the server knows them.
	ListSettings map[string][]string `json:"list_settings,omitempty"`
	RecoveryAPI  string              `json:"recovery_api"`
	// ServerUser is the OS user the server runs as (uid and name).
	ServerUser string `json:"server_user"`
	Have       Have   `json:"capabilities"`

	spockLoaded bool // a probe node created the spock extension
}

// probeTimeout bounds each query of a probe.
const probeTimeout = 30 * time.Second

// Probe starts one node of image for flavor, reads what it can do, and
// removes it (also when ctx is cancelled). pg is --pg (0: any).
func Probe(ctx context.Context, flavorName, image string, pg int, progress func(string)) (*Report, error) {
	flavor, err := harness.LookupFlavor(flavorName)
	if err != nil {
		return nil, err
	}
	if image == "" {
		image = harness.ImageFor(flavor, pg)
	}
	if image == "" {
		return nil, fmt.Errorf("flavor %s has no default image: name one with --image", flavorName)
	}
	if m, ok := docker.RecipeMajor(image); ok {
		if _, err := docker.EnsureImage(ctx, m, progressWriter(progress)); err != nil {
			return nil, err
		}
	}
	info, err := Inspect(ctx, image)
	if err != nil {
		return nil, err
	}
	rep := &Report{Flavor: flavorName, Image: *info, Settings: flavor.ServerSettings(harness.DefaultNodes)}
	if ls, ok := flavor.(interface{ ListSettings() []harness.ListSetting }); ok {
		rep.ListSettings = map[string][]string{}
		for _, s := range ls.ListSettings() {
			rep.ListSettings[s.Name] = s.Items
		}
	}
	// First a plain server (the flavor's library not preloaded): it starts
	// on any PostgreSQL image and says version, extensions and user.
	progress("starting one probe node of " + image)
	if err := rep.withProbe(ctx, harness.Config{Flavor: flavor, Image: image, PGMajor: pg}, true, rep.read); err != nil {
		return nil, err
	}
	have := rep.answers(flavorName)
	// Spock's recovery functions exist once its extension is created, which
	// needs it preloaded: a second probe node, started as a run's would be.
	if flavorName == "spock" && rep.hasExtension("spock") {
		progress("starting a probe node of " + image + " with spock preloaded")
		err := rep.withProbe(ctx, harness.Config{Flavor: flavor, Image: image, PGMajor: pg}, false, rep.readSpockAPI)
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, err
		case err != nil:
			have[FlavorExtension] = No("the server does not start or create the extension with spock preloaded: " + err.Error())
			have[SpockRecoveryAPI] = No("spock could not be loaded")
		default:
			have = rep.answers(flavorName)
		}
	}
	rep.Have = FromImage(flavorName, image, info.Env).Merge(have)
	if !rep.Have[ClockSkew].Known {
		if rep.Have[ClockSkew], err = ClockSkewAnswer(ctx, image); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// withProbe starts a probe node, runs read on it and removes it.
func (rep *Report) withProbe(ctx context.Context, cfg harness.Config, plain bool, read func(context.Context, *harness.Node) error) error {
	c, err := harness.StartProbe(ctx, cfg, plain)
	if err != nil {
		return err
	}
	defer c.Remove(context.WithoutCancel(ctx))
	return read(ctx, c.Nodes[0])
}

// read fills the server's part of the report from node n.
func (rep *Report) read(ctx context.Context, n *harness.Node) error {
	qctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	conn, err := n.Connect(qctx)
	if err != nil {
		return fmt.Errorf("probe %s: %w", rep.Image.Ref, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := conn.QueryRow(qctx, "SELECT version(), current_setting('server_version_num')::int").Scan(&rep.Version, &rep.VersionNum); err != nil {
		return fmt.Errorf("probe %s: read version on %s: %w", rep.Image.Ref, n.Name, err)
	}
	rows, err := conn.Query(qctx, `SELECT name, coalesce(default_version, ''), coalesce(installed_version, '')
FROM pg_available_extensions WHERE name IN ('pglogical', 'spock') ORDER BY name`)
	if err != nil {
		return fmt.Errorf("probe %s: read extensions on %s: %w", rep.Image.Ref, n.Name, err)
	}
	rep.Extensions, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Extension])
	if err != nil {
		return fmt.Errorf("probe %s: read extensions on %s: %w", rep.Image.Ref, n.Name, err)
	}
	rep.ServerUser = serverUser(qctx, conn)
	return rep.dropUnknownListSettings(qctx, conn)
}

// dropUnknownListSettings leaves out the list settings the server does not
// have (output_plugin_libraries exists on some minors only): the harness
// sets those only where the server knows them, so doctor must not say it
// will.
func (rep *Report) dropUnknownListSettings(ctx context.Context, conn *pgx.Conn) error {
	for name := range rep.ListSettings {
		var known bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_settings WHERE name = $1)", name).Scan(&known); err != nil {
			return fmt.Errorf("probe %s: read setting %s: %w", rep.Image.Ref, name, err)
		}
		if !known {
			delete(rep.ListSettings, name)
		}
	}
	return nil
}

// readSpockAPI creates the spock extension on the (throwaway) node n and
// names the recovery API it offers (recovery/spock's detection).
func (rep *Report) readSpockAPI(ctx context.Context, n *harness.Node) error {
	qctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	conn, err := n.Connect(qctx)
	if err != nil {
		return fmt.Errorf("probe %s: %w", rep.Image.Ref, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(qctx, "CREATE EXTENSION IF NOT EXISTS spock"); err != nil {
		return fmt.Errorf("create extension spock on %s: %w", n.Name, err)
	}
	if rep.RecoveryAPI, err = spock.DetectSpockAPI(qctx, n.DSN, probeTimeout); err != nil {
		return fmt.Errorf("detect Spock recovery API on %s: %w", n.Name, err)
	}
	rep.spockLoaded = true
	return nil
}

// serverUser is the uid and name the server process runs as, read from
// /proc and /etc/passwd through the server itself (superuser's
// pg_read_file): nothing is needed inside the image. "unknown (why)" when
// it cannot be read.
func serverUser(ctx context.Context, conn *pgx.Conn) string {
	var status, passwd string
	if err := conn.QueryRow(ctx, "SELECT pg_read_file('/proc/self/status'), coalesce(pg_read_file('/etc/passwd', 0, 1048576, true), '')").Scan(&status, &passwd); err != nil {
		return "unknown (" + err.Error() + ")"
	}
	return UserOf(status, passwd)
}

// UserOf is "uid 26 (postgres)" from a /proc/<pid>/status and an
// /etc/passwd: the effective uid, and its name when passwd has it.
func UserOf(status, passwd string) string {
	var uid string
	for _, line := range strings.Split(status, "\n") {
		if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
			if f := strings.Fields(rest); len(f) >= 2 {
				uid = f[1]
			}
		}
	}
	if uid == "" {
		return "unknown (no Uid line in /proc/self/status)"
	}
	for _, line := range strings.Split(passwd, "\n") {
		f := strings.Split(line, ":")
		if len(f) >= 3 && f[2] == uid {
			return fmt.Sprintf("uid %s (%s)", uid, f[0])
		}
	}
	return "uid " + uid
}

func (rep *Report) hasExtension(name string) bool {
	return slices.ContainsFunc(rep.Extensions, func(e Extension) bool { return e.Name == name })
}

// answers are the capabilities the probe showed.
func (rep *Report) answers(flavor string) Have {
	h := Have{}
	if err := pgversion.Supported(rep.VersionNum); err != nil {
		h[SupportedMajor] = No(err.Error())
	} else {
		h[SupportedMajor] = Yes(fmt.Sprintf("PostgreSQL %d", pgversion.Major(rep.VersionNum)))
	}
	if rep.hasExtension(flavor) {
		h[FlavorExtension] = Yes("extension " + flavor + " is available")
	} else {
		h[FlavorExtension] = No("pg_available_extensions has no " + flavor)
	}
	switch {
	case rep.RecoveryAPI != "":
		h[SpockRecoveryAPI] = Yes(rep.RecoveryAPI + " API found in pg_proc")
	case rep.spockLoaded:
		h[SpockRecoveryAPI] = No("the spock extension has none of Spock's recovery APIs in pg_proc")
	case rep.hasExtension("spock"):
		h[SpockRecoveryAPI] = Unknown("spock is available but was not loaded by a probe")
	default:
		h[SpockRecoveryAPI] = No("no spock extension")
	}
	return h
}

// SettingNames are the report's settings in name order.
func (rep *Report) SettingNames() []string { return slices.Sorted(maps.Keys(rep.Settings)) }

type progressFunc func(string)

func (f progressFunc) Write(p []byte) (int, error) {
	f(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func progressWriter(f func(string)) progressFunc { return progressFunc(f) }

// ClockSkewAnswer asks harness.ClockSkewSupport whether clock-skew faults
// can run on image (it reads files of a created, never started, container
// of it: the glibc the preloaded libfaketime needs). A cancelled ctx is
// an error, not an answer.
func ClockSkewAnswer(ctx context.Context, image string) (Answer, error) {
	err := harness.ClockSkewSupport(ctx, image)
	switch {
	case err == nil:
		return Yes("a glibc that libfaketime can be preloaded into"), nil
	case ctx.Err() != nil:
		return Answer{}, err
	case errors.Is(err, harness.ErrClockSkewUnsupported):
		return No(err.Error()), nil
	}
	// The engine failed to show the image's files: not an answer, and the
	// nodes' start checks again.
	return Unknown("could not read the image's glibc: " + err.Error()), nil
}
