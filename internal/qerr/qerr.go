// Package qerr defines Quire's one error type. Its codes are the public
// extensions.code values of API.md, verbatim; the message is for the client and
// the wrapped cause is for the log only.
//
// Errors are named without stutter (qerr.NotFound, not qerr.ErrNotFound), the
// way pkgsite's derrors are: the package name already says "error".
package qerr

import (
	"errors"
	"fmt"
)

// Code is a public error code, sent to clients as extensions.code.
type Code string

// The codes of API.md. Nothing else ever reaches a client.
const (
	Unauthenticated Code = "UNAUTHENTICATED"
	Forbidden       Code = "FORBIDDEN"
	NotFound        Code = "NOT_FOUND"
	BadUserInput    Code = "BAD_USER_INPUT"
	Conflict        Code = "CONFLICT"
	OrgRequired     Code = "ORG_REQUIRED"
	RateLimited     Code = "RATE_LIMITED"
	QueryTooComplex Code = "QUERY_TOO_COMPLEX"
	Internal        Code = "INTERNAL"
)

// Error is an error a client may see. Message is written for the client;
// Err is the cause, logged but never shown. Permission and Reason explain a
// FORBIDDEN; Limit names the limit a QUERY_TOO_COMPLEX exceeded; Field names
// the offending input of a BAD_USER_INPUT.
type Error struct {
	Code       Code
	Message    string
	Permission string
	Reason     string
	Limit      string
	Field      string
	Err        error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with the given code and client message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error with the given code and client message that keeps err
// as its (hidden) cause.
func Wrap(err error, code Code, message string) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// Invalid returns a BAD_USER_INPUT naming the offending input field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: BadUserInput, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Denied returns a FORBIDDEN naming the missing permission (may be empty) and
// the policy's reason.
func Denied(permission, reason string) *Error {
	msg := "forbidden: " + reason
	return &Error{Code: Forbidden, Message: msg, Permission: permission, Reason: reason}
}

// As returns the *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// CodeOf returns the code of the *Error in err's chain; anything else is
// INTERNAL, and nil is "".
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	if e := As(err); e != nil {
		return e.Code
	}
	return Internal
}

// Is reports whether err carries the given code.
func Is(err error, code Code) bool { return CodeOf(err) == code }
