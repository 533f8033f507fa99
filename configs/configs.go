// Package configs embeds the default rules and watchlist, so the binary runs
// without the repository; files named in the config override them.
package configs

import _ "embed"

// Rules is the default detection rules file (rules.yaml).
//
//go:embed rules.yaml
var Rules []byte

// Watchlist is the default counterparty watchlist (watchlist.yaml).
//
//go:embed watchlist.yaml
var Watchlist []byte
