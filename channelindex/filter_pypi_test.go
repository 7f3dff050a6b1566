package channelindex

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

const simpleHTML = `<!DOCTYPE html>
<html>
  <head><meta name="pypi:repository-version" content="1.1"><title>Simple index</title></head>
  <body>
    <a href="/ch/simple/frob/">Frob</a>
    <a href="/ch/simple/acme-tools/">Acme_Tools</a>
    <A HREF='/ch/simple/spam/' data-x="a>b">spam</A>
    <a href="/ch/simple/eggs/">eggs</a><br/>
    <a href="/ch/simple/z.z/">Z.Z</a>
  </body>
</html>
`

func TestFilterSimpleHTML(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		visible func(string) bool
		want    string
	}{
		{"nothing hidden", simpleHTML, hide("other"), simpleHTML},
		{"hide by normalized text", simpleHTML, hide("acme-tools", "z-z"), `<!DOCTYPE html>
<html>
  <head><meta name="pypi:repository-version" content="1.1"><title>Simple index</title></head>
  <body>
    <a href="/ch/simple/frob/">Frob</a>
    <A HREF='/ch/simple/spam/' data-x="a>b">spam</A>
    <a href="/ch/simple/eggs/">eggs</a><br/>
  </body>
</html>
`},
		{"uppercase tag and quoted >", simpleHTML, hide("spam", "eggs"), `<!DOCTYPE html>
<html>
  <head><meta name="pypi:repository-version" content="1.1"><title>Simple index</title></head>
  <body>
    <a href="/ch/simple/frob/">Frob</a>
    <a href="/ch/simple/acme-tools/">Acme_Tools</a>
    <a href="/ch/simple/z.z/">Z.Z</a>
  </body>
</html>
`},
		{"one line", `<a href="a/">a</a><br><a href="b/">b</a><br>`, hide("a"), `<a href="b/">b</a><br>`},
		{"href names a hidden project", `<a href="/simple/secret/">public</a>` + "\n", hide("secret"), ""},
		{"percent-encoded href", `<a href="/simple/s%65cret/">public</a>`, hide("secret"), ""},
		{"entity in text", `<a href="x/">se&#99;ret</a>`, hide("secret"), ""},
		{"abbr is not an anchor", `<abbr>secret</abbr>`, hide("secret"), `<abbr>secret</abbr>`},
		{"no anchors", `<html></html>`, hide("a"), `<html></html>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := FilterSimpleHTML([]byte(tt.in), tt.visible)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.want {
				t.Errorf("got\n%s\nwant\n%s", out, tt.want)
			}
		})
	}
	for _, in := range []string{`<a href="x">x`, `<a href="x`, `<a href="x/"></a>`, `<a href="x/">x</a`} {
		if out, err := FilterSimpleHTML([]byte(in), showAll); !errors.Is(err, ErrMalformedIndex) || out != nil {
			t.Errorf("%q: want an error, got %v", in, err)
		}
	}
}

func TestFilterSimpleJSON(t *testing.T) {
	in := `{"meta": {"api-version": "1.1", "_last-serial": 7}, "projects": [{"name": "Frob"}, {"name": "Acme_Tools", "x": [1]}, {"name": "s\u0065cret"}, {"name": "spam"}]}`
	out, err := FilterSimpleJSON([]byte(in), hide("acme-tools", "secret"))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"meta": {"api-version": "1.1", "_last-serial": 7}, "projects": [{"name": "Frob"}, {"name": "spam"}]}`
	if string(out) != want {
		t.Errorf("got %s", out)
	}
	var v map[string]any
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	if got := v["projects"].([]any); !reflect.DeepEqual(got, []any{map[string]any{"name": "Frob"}, map[string]any{"name": "spam"}}) {
		t.Errorf("projects %v", got)
	}
	// A duplicated name hides the project if either is hidden.
	out, err = FilterSimpleJSON([]byte(`{"projects":[{"name":"ok","name":"secret"}]}`), hide("secret"))
	if err != nil || string(out) != `{"projects":[]}` {
		t.Errorf("duplicate names: %s, %v", out, err)
	}
	for _, in := range []string{
		`{"projects": {}}`, `{"projects": [1]}`, `{"projects": [{}]}`, `{"projects": [{"name": 1}]}`,
		`{"projects": [{"name": "a"}]`, `[]`,
	} {
		if out, err := FilterSimpleJSON([]byte(in), showAll); !errors.Is(err, ErrMalformedIndex) || out != nil {
			t.Errorf("%s: want an error, got %v", in, err)
		}
	}
}
