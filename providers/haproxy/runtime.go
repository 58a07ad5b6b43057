package haproxy

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net"
	"net/url"
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

// do sends one command and returns HAProxy's answer without trailing newlines.
func (r runtimeAPI) do(ctx context.Context, cmd string) (string, error) {
	if strings.ContainsAny(cmd, ";\n\r") {
		return "", fmt.Errorf("command %q contains a separator the runtime API would split on", cmd)
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, r.network, r.address)
	if err != nil {
		return "", fmt.Errorf("runtime API %s: %v", r, err)
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	if _, err := io.WriteString(conn, cmd+"\n"); err != nil {
		return "", fmt.Errorf("runtime API %s: send %q: %v", r, cmd, err)
	}
	out, err := io.ReadAll(conn)
	if err != nil {
		return "", fmt.Errorf("runtime API %s: read answer to %q: %v", r, cmd, err)
	}
	return strings.TrimRight(string(out), "\n"), nil
}

// server is one line of `show servers state`.
type server struct {
	name    string
	addr    string // host:port
	fqdn    string // host:port when the server was declared by name, else ""
	opState int
	admin   int
	uweight int
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
