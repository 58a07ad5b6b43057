package planner

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"testing"
)

// TestZZEquiv writes a digest of many plans (temporary, for the optimisation work).
func TestZZEquiv(t *testing.T) {
	out := os.Getenv("EQUIV_OUT")
	if out == "" {
		t.Skip()
	}
	h := sha256.New()
	dump := func(p *Plan, ds any) {
		b, _ := json.Marshal(p)
		h.Write(b)
		fmt.Fprintf(h, "%v\n", ds)
	}
	cfg, live := benchFleet()
	p, ds := MakePlan(cfg, live, Options{})
	dump(p, ds)
	fmt.Fprintf(h, "%v", CheckSafety(cfg, live, p))
	r := rand.New(rand.NewSource(7))
	for range 3000 {
		cfg, live, opts := randomFleet(r)
		p, ds := MakePlan(cfg, live, opts)
		dump(p, ds)
		if p != nil {
			fmt.Fprintf(h, "%v", CheckSafety(cfg, live, p))
		}
	}
	os.WriteFile(out, []byte(fmt.Sprintf("%x\n", h.Sum(nil))), 0o644)
}
