// Package lang loads a directory of *.ns.hcl files into a typed, validated Config.
//
// It parses the nonstop language (see the design note language.md) with HCL,
// evaluates input variables, locals and the built-in functions, checks every rule
// of the language and reports all problems at once as diagnostics with source
// ranges. The per-instance expressions of deploy, health and verify are kept as
// HCL expressions and evaluated later, per instance, by EvalDeploy, EvalHealthURL
// and EvalVerify.
//
// lang is the ground floor of nonstop: it imports no other nonstop package except
// lang/diags.
package lang
