// Package redact replaces sensitive values (passwords, access keys, tokens) with
// "(sensitive value)" in everything nonstop prints or logs.
//
// A Redactor holds the secrets, which may be added while the program runs (the
// configuration is loaded after the logger exists). Its Writer wraps an output so
// that a secret split across two writes is still caught: the writer holds back the
// end of a write while it could be the start of a secret, and Flush releases it.
package redact
