package web

import "net/http"

// A mailed link opens a page with one button that sends the link's code
// in a form: mail scanners that fetch links do not use them up, and the
// code is not in the URL of the request that acts.

// codePage is the data of pages reached from a mailed link.
type codePage struct {
	Code   string
	Errors fieldErrors
}

func (h *Handler) verifyPage(q *request) {
	noReferrer(q.w)
	q.render(http.StatusOK, "verify", "Verify your email address", codePage{Code: q.r.PathValue("code")})
}

// verify is POST /verify: the link's address becomes the account's,
// verified.
func (h *Handler) verify(q *request) {
	if _, err := h.store.ConfirmEmail(q.actor(), q.r.PostForm.Get("code")); err != nil {
		q.linkError(err)
		return
	}
	q.render(http.StatusOK, "message", "Address verified",
		message{Text: "Your email address is verified.", Link: "/login", LinkText: "Log in"})
}

// noReferrer keeps a mailed link's code out of the Referer of the page's
// own requests (the stylesheet), which access logs record.
func noReferrer(w http.ResponseWriter) { w.Header().Set("Referrer-Policy", "no-referrer") }
