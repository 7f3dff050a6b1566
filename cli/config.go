package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/channelgate/channelgate/admin"
)

// cliConfig is what the CLI keeps between runs, in
// os.UserConfigDir()/channelgate/config.json (directory 0700, file 0600),
// or at $CHANNELGATE_CONFIG.
type cliConfig struct {
	// Site is the API URL of the last login.
	Site string `json:"site,omitempty"`
	// Username is the user of the last login.
	Username string `json:"username,omitempty"`
	// Token is the login token; it is sent to Site only.
	Token string `json:"token,omitempty"`
}

func (c *cli) configPath() (string, error) {
	if p := c.getenv("CHANNELGATE_CONFIG"); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no configuration directory (set CHANNELGATE_CONFIG): %w", err)
	}
	return filepath.Join(dir, "channelgate", "config.json"), nil
}

// loadConfig reads the configuration; a missing file is an empty one.
func (c *cli) loadConfig() (*cliConfig, error) {
	path, err := c.configPath()
	if err != nil {
		return nil, err
	}
	cfg := &cliConfig{}
	raw, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return cfg, nil
	case err != nil:
		return nil, err
	}
	if err := json.Unmarshal(raw, cfg); err != nil {
		return nil, fmt.Errorf("%s is not a channelgate configuration: %v", path, err)
	}
	return cfg, nil
}

// saveConfig writes the configuration readable by its owner only,
// replacing the file at once so that no reader sees half of it.
func (c *cli) saveConfig(cfg *cliConfig) error {
	path, err := c.configPath()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	raw, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config-*.json") // mode 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(raw, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// resolveSite is the API URL: --site, else $CHANNELGATE_SITE, else the
// last login's.
func (c *cli) resolveSite(cfg *cliConfig) (string, error) {
	site := c.site
	if site == "" {
		site = c.getenv("CHANNELGATE_SITE")
	}
	if site == "" {
		site = cfg.Site
	}
	if site == "" {
		return "", errors.New("no site: give --site URL (e.g. http://localhost:8080/api) or set CHANNELGATE_SITE")
	}
	u, err := url.Parse(site)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", fmt.Errorf("site %q must be an http or https URL without credentials, e.g. http://localhost:8080/api", site)
	}
	return strings.TrimSuffix(site, "/"), nil
}

// storedToken is the login token if it was made on site.
func storedToken(cfg *cliConfig, site string) string {
	if strings.TrimSuffix(cfg.Site, "/") != site {
		return ""
	}
	return cfg.Token
}

// client returns an API client for the resolved site, authenticated with
// $CHANNELGATE_TOKEN or else the login token of that site (if any), and
// the configuration it read.
func (c *cli) client() (*admin.Client, *cliConfig, error) {
	cfg, err := c.loadConfig()
	if err != nil {
		return nil, nil, err
	}
	site, err := c.resolveSite(cfg)
	if err != nil {
		return nil, nil, err
	}
	token := c.getenv("CHANNELGATE_TOKEN")
	if token == "" {
		token = storedToken(cfg, site)
	}
	return &admin.Client{BaseURL: site, Token: token, HTTP: c.httpClient}, cfg, nil
}
