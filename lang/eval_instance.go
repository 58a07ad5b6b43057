package lang

import (
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/lang/diags"
)

// EvalDeploy evaluates the deploy command and environment for one instance.
func (s *Service) EvalDeploy(iv InstanceVars) (argv []string, env map[string]string, d diags.Diagnostics) {
	if s.Deploy == nil || s.Deploy.Command == nil {
		return nil, nil, d.Append(diags.Sourceless(diags.Error, "Missing deploy block",
			"The service "+s.Name+" has no deploy command."))
	}
	ctx := instanceContext(s.ctx, iv)
	cmd, cd := evalPerInstance(s.Deploy.Command, ctx, "command", cty.List(cty.String))
	d = d.Append(cd)
	if !cd.HasErrors() && cmd.IsWhollyKnown() {
		for it := cmd.ElementIterator(); it.Next(); {
			_, e := it.Element()
			argv = append(argv, e.AsString())
		}
		if len(argv) == 0 {
			rng := s.Deploy.Command.Range()
			d = d.Append(diags.Errorf(&rng, "Empty argument", "The deploy command must have at least a program name."))
		}
	}
	if s.Deploy.Env != nil {
		ev, ed := evalPerInstance(s.Deploy.Env, ctx, "env", cty.Map(cty.String))
		d = d.Append(ed)
		if !ed.HasErrors() && ev.IsWhollyKnown() {
			env = map[string]string{}
			for it := ev.ElementIterator(); it.Next(); {
				k, e := it.Element()
				env[k.AsString()] = e.AsString()
			}
		}
	}
	if d.HasErrors() {
		return nil, nil, d
	}
	return argv, env, d
}

// EvalHealthURL evaluates the health check URL for one instance; "" when the
// service has no health block.
func (s *Service) EvalHealthURL(iv InstanceVars) (string, diags.Diagnostics) {
	if s.Health == nil || s.Health.HTTP == nil {
		return "", nil
	}
	v, d := evalPerInstance(s.Health.HTTP, instanceContext(s.ctx, iv), "http", cty.String)
	if d.HasErrors() || !v.IsKnown() {
		return "", d
	}
	return v.AsString(), d
}

// EvalVerify evaluates the verify URL and expected body text for one instance;
// both "" when the service has no verify block, contains "" when not set.
func (s *Service) EvalVerify(iv InstanceVars) (url string, contains string, d diags.Diagnostics) {
	if s.Verify == nil || s.Verify.HTTP == nil {
		return "", "", nil
	}
	ctx := instanceContext(s.ctx, iv)
	u, ud := evalPerInstance(s.Verify.HTTP, ctx, "http", cty.String)
	d = d.Append(ud)
	if s.Verify.Contains != nil {
		c, cd := evalPerInstance(s.Verify.Contains, ctx, "contains", cty.String)
		d = d.Append(cd)
		if !cd.HasErrors() && c.IsKnown() {
			contains = c.AsString()
		}
	}
	if d.HasErrors() || !u.IsKnown() {
		return "", "", d
	}
	return u.AsString(), contains, d
}

// Propagation returns how long to wait after disabling one of s's instances in
// the registry: drain.propagation, else the registry provider's propagation,
// else 30s.
func (c *Config) Propagation(s *Service) time.Duration {
	if s.Drain.Propagation != nil {
		return *s.Drain.Propagation
	}
	if s.Registry != nil {
		if p := c.Providers[s.Registry.Provider]; p != nil {
			if d, err := ParseDuration(stringAttr(p, "propagation")); err == nil && d > 0 {
				return d
			}
		}
	}
	return DefaultPropagation
}
