package web

import (
	"crypto/sha256"
	"math/bits"
	"strconv"
)

// The sign-up's not-a-robot check calls no outside service. With script,
// the browser solves a proof of work (static/pow.js): a number that, after
// the form token and a colon, hashes with SHA-256 to Config.PowBits leading
// zero bits, which costs a browser a second or two and a bulk sign-up
// script as much per account. Without script, the form passes if its
// honeypot field (hidden from people, not from form-filling robots) is
// empty and it was open at least Config.MinFillTime.

// Fields of the robot check.
const (
	powField      = "pow"
	honeypotField = "website"
)

// robotCheck says why the form looks sent by a robot, or "".
func (h *Handler) robotCheck(formToken, pow, honeypot string) string {
	if h.cfg.RobotCheckOff {
		return ""
	}
	if honeypot != "" {
		return "The form was filled in by a robot (the hidden website field is not empty)."
	}
	if pow != "" && validPow(formToken, pow, h.cfg.PowBits) {
		return ""
	}
	issued, ok := h.formIssued(formToken)
	if !ok || h.cfg.Now().Sub(issued) < h.cfg.MinFillTime {
		return "The form was sent too quickly. Wait a few seconds and send it again."
	}
	return ""
}

// validPow reports whether SHA-256(token ":" pow) starts with n zero bits.
func validPow(token, pow string, n int) bool {
	if _, err := strconv.ParseUint(pow, 10, 64); err != nil {
		return false
	}
	return leadingZeros(sha256.Sum256([]byte(token+":"+pow))) >= n
}

func leadingZeros(sum [sha256.Size]byte) int {
	n := 0
	for _, b := range sum {
		if b != 0 {
			return n + bits.LeadingZeros8(b)
		}
		n += 8
	}
	return n
}
