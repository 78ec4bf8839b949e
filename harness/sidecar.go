package harness

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/spockchaos/spockchaos/docker"
)

// Sidecars: the tools a fault needs (ip, nft, pg_isready, kill, cat,
// sh) never run inside a node, whose image may have none of them and
// runs as any user. Each call starts a short-lived helper container from
// the tools image (ToolsImage) that joins the node's namespaces:
//
//   - network: NetworkMode container:<node>, with CAP_NET_ADMIN, so that
//     routes and nftables rules it sets are the node's own. They belong to
//     the namespace and stay after the helper exits (what Inject wants);
//     Heal runs another helper to remove them.
//   - pid: PidMode container:<node>, so that pids read from
//     pg_stat_activity are the helper's too (kill, /proc/<pid>/stat), and
//     /proc/1/root is the node's root file system (with CAP_SYS_PTRACE,
//     since the node's processes run as another user).
//
// The helper runs as root in its own container, so the node needs no
// root, no capability and no package. It carries the run's labels (the
// node container's, with LabelSidecar instead of LabelNode), so that
// RemoveRun and `spockchaos clean` remove one left behind by a SIGKILL;
// every call is bounded by SidecarTimeout and removes its helper on every
// path, a cancelled context included.
//
// Cost, measured on the 2-core test machine (docker CLI, 5 runs each): a
// `docker run --rm` of `ip route` in a node's namespaces took 390 ms on
// average, a `docker exec` in a running container 120 ms. Faults run a
// handful of commands per phase, so one helper per command is kept: a
// long-lived helper would die with the node's pid namespace on every kill
// and need watching.

// LabelSidecar marks a helper container; its value is the node it serves.
const LabelSidecar = "spockchaos.sidecar"

// SidecarTimeout bounds one helper: create, start, run, read, remove.
const SidecarTimeout = 30 * time.Second

// ToolsImage is the image helpers run from: the project's own node image,
// which has iproute2, nftables, procps, postgresql-client and libfaketime.
func ToolsImage() string { return docker.DefaultImage() }

// Tool is one command to run next to a node.
type Tool struct {
	// Step names what the command is for, in errors ("add blackhole route").
	Step string
	// Cmd is the command and its arguments (no shell unless Cmd says sh).
	Cmd []string
	// Image runs the helper from another image than ToolsImage (the node
	// image of another PostgreSQL major, for its binaries); Timeout
	// replaces SidecarTimeout for a long command. Zero values: the defaults.
	Image   string
	Timeout time.Duration
}

// ToolResult is what a helper's command did.
type ToolResult struct {
	Code   int
	Output string // stdout and stderr, trimmed
}

// RunTool runs t next to n, in n's network and pid namespaces, as root,
// and returns its exit code and output. An error means the command could
// not run (the node is not running, the engine failed, the timeout
// passed); a command that ran and failed is a non-zero Code.
func RunTool(ctx context.Context, n *Node, t Tool) (ToolResult, error) {
	image, timeout := cmp.Or(t.Image, ToolsImage()), cmp.Or(t.Timeout, SidecarTimeout)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	fail := func(what string, err error) (ToolResult, error) {
		return ToolResult{}, fmt.Errorf("%s on %s: helper container: %s: %w", t.Step, n.Name, what, err)
	}
	cli, err := docker.Client(ctx)
	if err != nil {
		return fail("engine", err)
	}
	defer cli.Close()
	nodeID := n.Container.GetContainerID()
	node, err := cli.ContainerInspect(ctx, nodeID, client.ContainerInspectOptions{})
	if err != nil {
		return fail("inspect node container", err)
	}
	if node.Container.State == nil || !node.Container.State.Running {
		return fail("join namespaces", errors.New("the node's container is not running"))
	}
	id, err := createHelper(ctx, cli, "spockchaos-tool-"+n.Name, client.ContainerCreateOptions{
		Config: &container.Config{
			Image:      image,
			User:       "0:0",
			Entrypoint: t.Cmd[:1],
			Cmd:        t.Cmd[1:],
			Labels:     sidecarLabels(node.Container.Config.Labels, n.Name),
		},
		HostConfig: &container.HostConfig{
			NetworkMode: container.NetworkMode("container:" + nodeID),
			PidMode:     container.PidMode("container:" + nodeID),
			CapAdd:      []string{"NET_ADMIN", "SYS_PTRACE"},
		},
	})
	if cerrdefs.IsNotFound(err) {
		return fail("create", fmt.Errorf("the tools image %s is not in the engine: build it with `spockchaos image`", image))
	}
	if err != nil {
		return fail("create from "+image, err)
	}
	defer removeHelper(ctx, cli, id)
	wait := cli.ContainerWait(ctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	if _, err := cli.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		return fail("start", err)
	}
	var code int
	select {
	case res := <-wait.Result:
		if res.Error != nil {
			return fail("wait", errors.New(res.Error.Message))
		}
		code = int(res.StatusCode)
	case err := <-wait.Error:
		return fail(fmt.Sprintf("wait for %q (at most %s)", strings.Join(t.Cmd, " "), timeout), err)
	}
	logs, err := cli.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return fail("read output", err)
	}
	defer logs.Close()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, logs); err != nil {
		return fail("read output", err)
	}
	return ToolResult{Code: code, Output: strings.TrimSpace(out.String())}, nil
}

// RunToolOK is RunTool where a non-zero exit is an error too.
func RunToolOK(ctx context.Context, n *Node, t Tool) (string, error) {
	res, err := RunTool(ctx, n, t)
	if err != nil {
		return "", err
	}
	if res.Code != 0 {
		return res.Output, fmt.Errorf("%s on %s: %s: exit %d: %s", t.Step, n.Name, strings.Join(t.Cmd, " "), res.Code, res.Output)
	}
	return res.Output, nil
}

// sidecarLabels are the node's labels (the run's) with LabelSidecar in
// place of LabelNode: Attach and the node listings take only containers
// with LabelNode.
func sidecarLabels(nodeLabels map[string]string, node string) map[string]string {
	l := maps.Clone(nodeLabels)
	if l == nil {
		l = map[string]string{}
	}
	delete(l, LabelNode)
	l[LabelSidecar] = node
	return l
}

// removeHelper force-removes a helper container (by id or name) on a
// fresh context, so that a cancelled call still removes it.
func removeHelper(ctx context.Context, cli *testcontainers.DockerClient, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_, _ = cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true})
}
