package executor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
)

// Deploy defaults, as documented in the language.
const (
	defaultDeployTimeout = 10 * time.Minute
	// outputTail is how many of the last output lines a failed deploy reports.
	outputTail = 10
	// pipeGrace is how long a finished deploy command's output may stay open (a
	// service started in the background that inherited it) before it is closed.
	pipeGrace = 2 * time.Second
)

// deploy runs the service's deploy command for one instance: argv and env evaluated
// for the instance, env added to the environment, run in the configuration
// directory, bounded by the deploy timeout. Output goes to the logger line by line,
// prefixed "[service address]"; a non-zero exit fails with the last lines.
func (x *execution) deploy(ctx context.Context, st *planner.Step) error {
	svc, iv, err := x.instance(st)
	if err != nil {
		return err
	}
	if svc.Deploy == nil {
		return fmt.Errorf("service %s has no deploy block", svc.Name)
	}
	argv, env, d := svc.EvalDeploy(iv)
	if d.HasErrors() {
		return d.Err()
	}
	if len(argv) == 0 || argv[0] == "" {
		return errors.New("the deploy command is empty")
	}
	timeout := svc.Deploy.Timeout
	if timeout <= 0 {
		timeout = defaultDeployTimeout
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	out := &outputLog{log: x.log, prefix: fmt.Sprintf("[%s %s] ", st.Service, st.Args.Address)}
	cmd := exec.CommandContext(cctx, argv[0], argv[1:]...)
	if x.r.Config != nil {
		cmd.Dir = x.r.Config.Dir
	}
	cmd.Env = append(append(os.Environ(), deployContract(svc, iv)...), envList(env)...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = pipeGrace
	killGroupOnCancel(cmd)
	if svc.Registry != nil {
		x.guards.hold(ctx, st)
	}

	// A balancer that took the instance out of traffic may still be switching over.
	if err := x.settled(ctx, st.Args.Address); err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("deploy command %s: %w", argv[0], err)
	}
	if err := x.recordProcess(ctx, st, cmd.Process.Pid); err != nil {
		cancel() // a deploy the journal cannot find after a crash must not go on
		_ = cmd.Wait()
		return err
	}
	err = cmd.Wait()
	out.flush()
	switch {
	case err == nil:
		return nil
	case errors.Is(err, exec.ErrWaitDelay):
		x.log.Warn(out.prefix + "the deploy command exited but left its output open (a background process?); stopped reading it")
		return nil
	case cctx.Err() == context.DeadlineExceeded && ctx.Err() == nil:
		return fmt.Errorf("deploy command did not finish within %s%s", timeout, out.tail())
	case ctx.Err() != nil:
		return ctx.Err()
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return fmt.Errorf("deploy command %s exited with status %d%s", argv[0], exitErr.ExitCode(), out.tail())
	}
	return fmt.Errorf("deploy command %s: %w", argv[0], err)
}

// deployContract is the environment every deploy command gets, before the
// deploy block's own env (which may override it): what is deployed where, and, for
// a service in a registry, that the new process must register disabled. nonstop
// enables it once wait.healthy and verify have passed. NONSTOP_REGISTER_ENABLED is
// nonstop's name; SPRING_CLOUD_NACOS_DISCOVERY_INSTANCE_ENABLED is the same switch
// for Spring Cloud Alibaba (spring.cloud.nacos.discovery.instance-enabled).
func deployContract(svc *lang.Service, iv lang.InstanceVars) []string {
	env := []string{
		"NONSTOP_SERVICE=" + svc.Name,
		"NONSTOP_GROUP=" + iv.Group,
		"NONSTOP_ADDRESS=" + iv.Address.String(),
		"NONSTOP_VERSION=" + iv.Version,
	}
	if svc.Registry != nil {
		env = append(env, "NONSTOP_REGISTER_ENABLED=false", "SPRING_CLOUD_NACOS_DISCOVERY_INSTANCE_ENABLED=false")
	}
	return env
}

// envList renders env as sorted NAME=value entries.
func envList(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// outputLog is a command's stdout and stderr: it logs complete lines with a prefix
// and keeps the last few for the error message.
type outputLog struct {
	log    hclog.Logger
	prefix string

	mu      sync.Mutex
	partial []byte
	last    []string
}

// Write splits p into lines and logs each complete one.
func (o *outputLog) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.partial = append(o.partial, p...)
	for {
		i := bytes.IndexByte(o.partial, '\n')
		if i < 0 {
			break
		}
		o.line(string(o.partial[:i]))
		o.partial = o.partial[i+1:]
	}
	return len(p), nil
}

// flush logs an unterminated last line.
func (o *outputLog) flush() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.partial) > 0 {
		o.line(string(o.partial))
		o.partial = nil
	}
}

func (o *outputLog) line(s string) {
	s = strings.TrimRight(s, "\r")
	o.log.Info(o.prefix + s)
	o.last = append(o.last, s)
	if len(o.last) > outputTail {
		o.last = o.last[len(o.last)-outputTail:]
	}
}

// tail renders the last lines for an error message, "" when there was no output.
func (o *outputLog) tail() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.last) == 0 {
		return ""
	}
	return "; last output:\n  " + strings.Join(o.last, "\n  ")
}
