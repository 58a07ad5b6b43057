// Package redact replaces sensitive values (passwords, access keys, tokens) with
// "(sensitive value)" in everything nonstop prints or logs.
//
// A Redactor holds the secrets, which may be added while the program runs (the
// configuration is loaded after the logger exists). Its Writer wraps an output so
// that a secret split across two writes is still caught: the writer holds back the
// end of a write while it could be the start of a secret, and Flush releases it.
//
// A secret is replaced where it occurs as a value: as a whole token, not inside
// a longer word. An end of the secret that is a word character (an ASCII letter
// or digit, '_' or part of a multi-byte character) must not touch another word
// character, so with the password "main" the word "domain" is left alone while
// password=main, "main", main: and user:main@host are redacted. Rewriting the
// middle of a word would not hide the secret but tell it ("do(sensitive value)").
package redact
