package caddymodule

import (
	"fmt"
	"os"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/channelgate/channelgate/admin"
)

// resolveOperatorSecret reads the operator secret at provision time, so
// that it never sits in Caddy's JSON configuration (which the admin
// endpoint serves at /config/ and autosave writes to disk): from
// OperatorSecretFile, or from OperatorSecret with Caddy's global
// placeholders replaced ({env.NAME}, {file.PATH}). Empty is no operator,
// with a warning. A secret shorter than admin.MinOperatorSecretLen is
// refused; one written into the configuration itself is warned about.
func (a *APIHandler) resolveOperatorSecret(logger *zap.Logger) (string, error) {
	secret := caddy.NewReplacer().ReplaceKnown(a.OperatorSecret, "")
	if a.OperatorSecretFile != "" {
		if a.OperatorSecret != "" {
			return "", fmt.Errorf("operator_secret and operator_secret_file exclude each other")
		}
		b, err := os.ReadFile(a.OperatorSecretFile)
		if err != nil {
			return "", fmt.Errorf("operator_secret_file: %v", err)
		}
		if secret = strings.TrimSpace(string(b)); secret == "" {
			return "", fmt.Errorf("operator_secret_file %s is empty", a.OperatorSecretFile)
		}
	}
	switch {
	case secret == "":
		logger.Warn("no operator secret configured: only site administrators can create users and organizations " +
			"(set operator_secret {env.CHANNELGATE_ADMIN_TOKEN} or operator_secret_file)")
	case len(secret) < admin.MinOperatorSecretLen:
		return "", fmt.Errorf("the operator secret must be at least %d characters long", admin.MinOperatorSecretLen)
	case secret == a.OperatorSecret:
		logger.Warn("the operator secret is written in Caddy's configuration, which the admin endpoint serves " +
			"and autosave writes to disk: give it as {env.NAME} or with operator_secret_file")
	}
	return secret, nil
}
