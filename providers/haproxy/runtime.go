package haproxy

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// runtimeAPI is HAProxy's runtime API (the stats socket at level admin), spoken in
// non-interactive mode: one connection per command, closed by HAProxy after the
// answer.
type runtimeAPI struct {
	network string // "unix" or "tcp"
	address string
	timeout time.Duration
}

// parseRuntimeAPI reads "unix:///path/admin.sock" or "tcp://host:port".
func parseRuntimeAPI(s string, timeout time.Duration) (runtimeAPI, error) {
	u, err := url.Parse(s)
	if err != nil {
		return runtimeAPI{}, fmt.Errorf("invalid runtime_api %q: %v", s, err)
	}
	switch {
	case u.Scheme == "unix" && u.Path != "" && u.Host == "":
		return runtimeAPI{network: "unix", address: u.Path, timeout: timeout}, nil
	case u.Scheme == "tcp" && u.Host != "" && (u.Path == "" || u.Path == "/"):
		if _, _, err := net.SplitHostPort(u.Host); err != nil {
			return runtimeAPI{}, fmt.Errorf("invalid runtime_api %q: %v", s, err)
		}
		return runtimeAPI{network: "tcp", address: u.Host, timeout: timeout}, nil
	}
	return runtimeAPI{}, fmt.Errorf("invalid runtime_api %q: want unix:///path or tcp://host:port", s)
}

// String returns the API's address as configured.
func (r runtimeAPI) String() string {
	if r.network == "unix" {
		return "unix://" + r.address
	}
	return "tcp://" + r.address
}

// runtimeAttempts is how many times a command is tried when a try fails in a
// way that is safe to repeat (see do).
const runtimeAttempts = 3

// runtimeBackoff is the pause before the second try; it doubles after each.
const runtimeBackoff = 200 * time.Millisecond

// do sends one command and returns HAProxy's answer without trailing newlines.
// Each try is bounded by the provider's timeout (connecting, sending and
// reading the answer). A try that could not connect (HAProxy reloading, its
// socket briefly gone) is repeated with backoff, whatever the command, since
// nothing reached HAProxy; a read ("show ...") is also repeated after it
// failed later on. A try that ran out of time is not repeated: a runtime API
// that does not answer within the timeout fails the command, naming the API
// and the bound.
func (r runtimeAPI) do(ctx context.Context, cmd string) (string, error) {
	if strings.ContainsAny(cmd, ";\n\r") {
		return "", fmt.Errorf("command %q contains a separator the runtime API would split on", cmd)
	}
	read := strings.HasPrefix(cmd, "show ")
	pause := runtimeBackoff
	for attempt := 1; ; attempt++ {
		out, sent, err := r.once(ctx, cmd)
		if err == nil {
			return out, nil
		}
		if attempt >= runtimeAttempts || ctx.Err() != nil || isTimeout(err) || (sent && !read) {
			return "", err
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", err
		case <-t.C:
		}
		pause *= 2
	}
}

// once makes one try of do; sent reports whether the command may have reached
// HAProxy.
func (r runtimeAPI) once(parent context.Context, cmd string) (out string, sent bool, err error) {
	ctx, cancel := context.WithTimeout(parent, r.bound())
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, r.network, r.address)
	if err != nil {
		return "", false, r.failed(parent, "connect", err)
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	if _, err := io.WriteString(conn, cmd+"\n"); err != nil {
		return "", true, r.failed(parent, fmt.Sprintf("send %q", cmd), err)
	}
	answer, err := io.ReadAll(conn)
	if err != nil {
		return "", true, r.failed(parent, fmt.Sprintf("read answer to %q", cmd), err)
	}
	return strings.TrimRight(string(answer), "\n"), true, nil
}

// failed names the API, what failed and, when the try ran out of its own
// time, the bound.
func (r runtimeAPI) failed(parent context.Context, what string, err error) error {
	if parent.Err() == nil && isTimeout(err) {
		return fmt.Errorf("runtime API %s: %s: no answer within %s (the provider's timeout): %w", r, what, r.bound(), err)
	}
	return fmt.Errorf("runtime API %s: %s: %w", r, what, err)
}

// bound is the time one try may take: the provider's timeout, 5s when unset.
func (r runtimeAPI) bound() time.Duration {
	if r.timeout <= 0 {
		return 5 * time.Second
	}
	return r.timeout
}

// isTimeout reports whether err is a deadline running out.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// server is one line of `show servers state`.
type server struct {
	name    string
	addr    string // host:port
	fqdn    string // host:port when the server was declared by name, else ""
	opState int
	admin   int
	uweight int
	// checked: active health checks are enabled on the server (srv_check_state
	// has CHK_ST_ENABLED); checkStatus is the last finished check's
	// srv_check_status (HAProxy's HCHK_STATUS_*). (srv_check_result is no use:
	// HAProxy resets it to "unknown" whenever a check starts.)
	checked     bool
	checkStatus int
}

// Check bits and statuses of `show servers state` (HAProxy's CHK_ST_* and the
// HCHK_STATUS_* values of a passed check, stable since HAProxy 1.5).
const (
	checkEnabled = 0x04
	statusIni    = 1  // initialising: no check has finished; HAProxy assumes the server up
	statusL4OK   = 6  // a TCP connect passed
	statusL6OK   = 9  // an SSL handshake passed
	statusL7OK   = 15 // an HTTP (or other L7) check passed
	statusL7OKC  = 16 // passed conditionally (disable-on-404)
)

// checkPassed reports whether a status is that of a passed check.
func checkPassed(status int) bool {
	return status == statusL4OK || status == statusL6OK || status == statusL7OK || status == statusL7OKC
}

// Admin state bits of srv_admin_state (HAProxy's SRV_ADMF_*).
const (
	adminMaintMask = 0x01 | 0x02 | 0x04 | 0x20 | 0x40 // forced, inherited, configured, resolution, hostname
	adminDrainMask = 0x08 | 0x10                      // forced, inherited
)

// parseServersState reads the answer of `show servers state BACKEND` (format 1).
func parseServersState(out string) ([]server, error) {
	lines := strings.Split(out, "\n")
	if len(lines) < 2 || strings.TrimSpace(lines[0]) != "1" || !strings.HasPrefix(lines[1], "# ") {
		return nil, fmt.Errorf("%s", firstLine(out))
	}
	cols := map[string]int{}
	for i, c := range strings.Fields(strings.TrimPrefix(lines[1], "# ")) {
		cols[c] = i
	}
	for _, c := range []string{"srv_name", "srv_addr", "srv_port", "srv_op_state", "srv_admin_state", "srv_uweight", "srv_fqdn"} {
		if _, ok := cols[c]; !ok {
			return nil, fmt.Errorf("show servers state has no %s column", c)
		}
	}
	var out2 []server
	for _, l := range lines[2:] {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		if len(f) < len(cols) {
			return nil, fmt.Errorf("short servers state line %q", l)
		}
		s := server{name: f[cols["srv_name"]], addr: net.JoinHostPort(f[cols["srv_addr"]], f[cols["srv_port"]])}
		if fq := f[cols["srv_fqdn"]]; fq != "-" {
			s.fqdn = net.JoinHostPort(fq, f[cols["srv_port"]])
		}
		var err error
		for col, dst := range map[string]*int{"srv_op_state": &s.opState, "srv_admin_state": &s.admin, "srv_uweight": &s.uweight} {
			if *dst, err = strconv.Atoi(f[cols[col]]); err != nil {
				return nil, fmt.Errorf("servers state line %q: bad %s", l, col)
			}
		}
		if ci, si := cols["srv_check_state"], cols["srv_check_status"]; ci > 0 && si > 0 {
			state, err1 := strconv.Atoi(f[ci])
			status, err2 := strconv.Atoi(f[si])
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("servers state line %q: bad srv_check_state or srv_check_status", l)
			}
			s.checked, s.checkStatus = state&checkEnabled != 0, status
		}
		out2 = append(out2, s)
	}
	return out2, nil
}

// statLine is what nonstop reads of one server's `show stat` line.
type statLine struct {
	scur   int
	status string // "UP", "DOWN", "UP 1/2", "DRAIN", "MAINT", "no check"
	check  string // check_status: "L7OK", "L7STS", "L4CON", ...
}

// parseStat reads `show stat` CSV and returns the lines of servers by name.
func parseStat(out string) (map[string]statLine, error) {
	if !strings.HasPrefix(out, "# ") {
		return nil, fmt.Errorf("%s", firstLine(out))
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "# ")))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("show stat: %v", err)
	}
	cols := map[string]int{}
	for i, c := range recs[0] {
		cols[c] = i
	}
	sv, okSv := cols["svname"]
	scur, okScur := cols["scur"]
	if !okSv || !okScur {
		return nil, fmt.Errorf("show stat has no svname or scur column")
	}
	field := func(rec []string, col string) string {
		if i, ok := cols[col]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	lines := map[string]statLine{}
	for _, rec := range recs[1:] {
		if len(rec) <= max(sv, scur) || rec[sv] == "BACKEND" || rec[sv] == "FRONTEND" {
			continue
		}
		n, err := strconv.Atoi(rec[scur])
		if err != nil {
			return nil, fmt.Errorf("show stat: server %s has scur %q", rec[sv], rec[scur])
		}
		lines[rec[sv]] = statLine{scur: n, status: field(rec, "status"), check: field(rec, "check_status")}
	}
	return lines, nil
}

// firstLine returns the first non-empty line of an answer, HAProxy's error text.
func firstLine(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return "empty answer"
}
