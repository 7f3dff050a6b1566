package caddymodule

import (
	"fmt"
	"strings"
)

// defaultStoragePath keeps the request layout: /<channel>[/label/<l>]/<rest>.
const defaultStoragePath = "/{channel}{label_path}/{rest}"

// storageTemplate is a parsed StoragePath: literals and placeholders,
// rendered without a replacer on the hot path.
type storageTemplate []templatePart

type templatePart struct {
	literal string
	field   string // "" for a literal
}

var templateFields = map[string]bool{"channel": true, "label": true, "label_path": true, "rest": true}

func parseStorageTemplate(s string) (storageTemplate, error) {
	if s == "" {
		s = defaultStoragePath
	}
	if !strings.HasPrefix(s, "/") {
		return nil, fmt.Errorf("storage_path must start with /: %q", s)
	}
	var t storageTemplate
	for s != "" {
		open := strings.IndexByte(s, '{')
		if open < 0 {
			t = append(t, templatePart{literal: s})
			break
		}
		if open > 0 {
			t = append(t, templatePart{literal: s[:open]})
		}
		end := strings.IndexByte(s[open:], '}')
		if end < 0 {
			return nil, fmt.Errorf("storage_path has an unclosed {: %q", s)
		}
		name := s[open+1 : open+end]
		if !templateFields[name] {
			return nil, fmt.Errorf("storage_path placeholder {%s} is unknown; use {channel}, {label}, {label_path} or {rest}", name)
		}
		t = append(t, templatePart{field: name})
		s = s[open+end+1:]
	}
	return t, nil
}

// render builds the storage path of a parsed request. When it is the
// request path itself (the default template without /label/main), that
// string is returned and nothing is allocated.
func (t storageTemplate) render(tg *target) string {
	var buf [256]byte
	b := buf[:0]
	for _, p := range t {
		switch p.field {
		case "":
			b = append(b, p.literal...)
		case "channel":
			b = append(b, tg.channel...)
		case "label":
			if tg.label == "" {
				b = append(b, "main"...)
			} else {
				b = append(b, tg.label...)
			}
		case "label_path":
			if tg.label != "" {
				b = append(b, "/label/"...)
				b = append(b, tg.label...)
			}
		case "rest":
			b = append(b, tg.rest...)
		}
	}
	if string(b) == tg.clientPath {
		return tg.clientPath
	}
	return string(b)
}
