package web

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/channelgate/channelgate/tokenstore"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// parsePages parses every page template with the layout and the parts
// pages share (partials.html): one *template.Template per page, named
// after its file without ".html".
func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", n)
		if err != nil {
			return nil, err
		}
		pages[name] = t
	}
	return pages, nil
}

var funcs = template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"day":   func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	"input": newInput,
	"bytes": func(n int64) string { return humanize.IBytes(uint64(max(n, 0))) },
}

// inputField is one labelled input of a form, for the "input" template:
// its error (from the page's fieldErrors) and hint are tied to it with
// aria-describedby.
type inputField struct {
	ID, Label, Type, Value, Autocomplete string
	Hint, Error                          string
}

func newInput(id, label, typ, value, autocomplete string, errs fieldErrors) inputField {
	return inputField{ID: id, Label: label, Type: typ, Value: value, Autocomplete: autocomplete, Error: errs[id]}
}

// WithHint adds a hint below the input.
func (f inputField) WithHint(hint string) inputField {
	f.Hint = hint
	return f
}

// Described lists the ids of the hint and error, if any.
func (f inputField) Described() string {
	var ids []string
	if f.Hint != "" {
		ids = append(ids, f.ID+"-hint")
	}
	if f.Error != "" {
		ids = append(ids, f.ID+"-error")
	}
	return strings.Join(ids, " ")
}

// view is what every page template gets.
type view struct {
	Title string
	// User is the logged-in user, nil for visitors.
	User *tokenstore.Account
	// CSRF is the form token for the page's forms.
	CSRF string
	// Notice is a one-line message above the page.
	Notice string
	// Page is the page's own data.
	Page any
}

// render answers with a page. The page is rendered to memory first, so a
// template error answers 500 instead of half a page.
func (q *request) render(status int, page, title string, data any) {
	v := view{Title: title, User: q.user, CSRF: q.formToken(), Page: data}
	if n, ok := data.(interface{ notice() string }); ok {
		v.Notice = n.notice()
	}
	q.h.write(q.w, q.r, status, page, v)
}

func (h *Handler) write(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	var buf bytes.Buffer
	if err := h.pages[page].Execute(&buf, v); err != nil {
		h.cfg.Logger.Error("channelgate web: template", "page", page, "error", err)
		http.Error(w, "page error", http.StatusInternalServerError)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// message is the data of the "message" page: a title and a line.
type message struct {
	Text string
	// Link and LinkText, when set, lead on.
	Link, LinkText string
}

// fail answers with a status and a one-line reason on a page of its own.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, status int, text string) {
	h.write(w, r, status, "message", view{Title: http.StatusText(status), Page: message{Text: text}})
}

// storeFailure answers 503: the store could not be read or written. The
// error goes to the log, not to the page.
func (h *Handler) storeFailure(w http.ResponseWriter, r *http.Request, err error) {
	h.cfg.Logger.Error("channelgate web: store failure", "path", r.URL.Path, "error", err)
	h.fail(w, r, http.StatusServiceUnavailable, "The account store is unavailable. Try again in a moment.")
}

// redirect sends the browser to a page of this site with 303 See Other.
func (q *request) redirect(to string) {
	http.Redirect(q.w, q.r, to, http.StatusSeeOther)
}

// static serves the stylesheet and scripts.
func (h *Handler) static(q *request) {
	name := q.r.PathValue("file")
	b, err := staticFS.ReadFile("static/" + name)
	if err != nil || strings.Contains(name, "/") {
		h.fail(q.w, q.r, http.StatusNotFound, "There is no such file.")
		return
	}
	q.w.Header().Set("Cache-Control", "public, max-age=3600")
	http.ServeContent(q.w, q.r, name, time.Time{}, bytes.NewReader(b))
}
