package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// cleanups runs the functions that stop what the demo started, the last added
// first, once: at the end of the run or on Ctrl-C, whichever comes first.
type cleanups struct {
	mu   sync.Mutex
	fs   []func()
	once sync.Once
}

func (c *cleanups) add(f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fs = append(c.fs, f)
}

func (c *cleanups) run() {
	c.once.Do(func() {
		c.mu.Lock()
		fs := slices.Clone(c.fs)
		c.mu.Unlock()
		for _, f := range slices.Backward(fs) {
			f()
		}
	})
}

// runner runs the nonstop binary for the demo and keeps what must be stopped.
type runner struct {
	o        options
	ctx      context.Context
	clean    *cleanups
	children sync.WaitGroup // nonstop processes running
}

// nonstop runs the nonstop binary with args, its output on ours (filtered
// unless -verbose, see filterLine), and returns its whole output. plan exits 2
// when it has changes only with -detailed-exitcode, so any non-zero exit is an
// error. On Ctrl-C it gets SIGINT (it stops promptly and records the
// interruption in its journal) and up to 15 seconds to exit.
func (r *runner) nonstop(args ...string) (string, error) {
	r.children.Add(1)
	defer r.children.Done()
	cmd := exec.CommandContext(r.ctx, r.o.nonstop, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	cmd.WaitDelay = 15 * time.Second
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	var all bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		blank := false
		for sc.Scan() {
			line := sc.Text()
			all.WriteString(line + "\n")
			if !r.o.verbose {
				var keep bool
				if line, keep = filterLine(line); !keep {
					continue
				}
			}
			if strings.TrimSpace(line) == "" {
				if blank {
					continue
				}
				blank = true
			} else {
				blank = false
			}
			fmt.Println("    " + line)
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	err := cmd.Run()
	pw.Close()
	<-done
	if err != nil {
		return all.String(), fmt.Errorf("nonstop %s: %v", strings.Join(args, " "), err)
	}
	return all.String(), nil
}

var (
	planStepLine  = regexp.MustCompile(`^\s+\d+\. `)
	serviceHeader = regexp.MustCompile(`^\s+# \S+$`)
	eventLine     = regexp.MustCompile(`^\d{4}-\d\d-\d\dT(\d\d:\d\d:\d\d)Z (\w+)\s+(.*)$`)
)

// filterLine shortens nonstop's output for the demo: the numbered steps of a
// plan (`make demo` shows them once, before the first release) and the
// "Starting..." line of each step are left out, and event lines keep only the
// time of day (and their level unless it is info). -verbose shows everything.
func filterLine(line string) (string, bool) {
	switch {
	case planStepLine.MatchString(line), serviceHeader.MatchString(line),
		strings.TrimSpace(line) == "Steps:", strings.HasSuffix(line, ": Starting..."):
		return "", false
	}
	if m := eventLine.FindStringSubmatch(line); m != nil {
		if m[2] == "info" {
			return m[1] + "  " + m[3], true
		}
		return m[1] + "  " + strings.ToUpper(m[2]) + " " + m[3], true
	}
	return line, true
}

// step prints a section header.
func step(format string, args ...any) { fmt.Printf("\n==> "+format+"\n", args...) }

// say prints an indented line.
func say(format string, args ...any) { fmt.Printf("    "+format+"\n", args...) }

// sleep waits d or until ctx ends, false then.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
