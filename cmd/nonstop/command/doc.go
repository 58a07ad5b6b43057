// Package command implements nonstop's subcommands: it parses their flags, wires
// configuration, providers and output together, and returns their exit codes.
//
// # Adding a command
//
// Every command is a Command value listed in the table in commands.go. To add
// `nonstop plan`, create plan.go:
//
//	var planCommand = &Command{
//		Name:     "plan",
//		Synopsis: "Show the steps a release would take",
//		Help:     planHelp, // const: usage line, description, "Exit codes:" section
//		Run:      runPlan,
//	}
//
//	func runPlan(m *Meta, args []string) int {
//		fs := m.FlagSet("plan", planHelp) // -help and -no-color come with it
//		var vars VarFlags
//		vars.Register(fs) // -var and -var-file, repeatable
//		if code, done := m.Parse(fs, args); done {
//			return code
//		}
//		cfg, ds := m.LoadConfig(dir, vars) // registers sensitive values
//		if ds.HasErrors() {
//			m.ShowDiagnostics(ds, Sources(cfg, dir))
//			return 1
//		}
//		log := m.Logger("plan")
//		...
//	}
//
// then add planCommand to the table in commands.go: that one line is the only
// change outside the new file. Its Help text must end with the exit codes.
//
// # What Meta shares
//
// Meta gives every command stdout and stderr that redact sensitive values, the
// logger (Meta.Logger, levelled by NONSTOP_LOG, writing to stderr through the
// redactor), colour, the environment, configuration loading (Meta.LoadConfig,
// which adds the configuration's sensitive values to the redactor before
// anything can print them), diagnostics rendering (Meta.ShowDiagnostics) and
// JSON output (Meta.PrintJSON). Commands print through Meta, never to os.Stdout
// directly, so that nothing escapes redaction.
package command
