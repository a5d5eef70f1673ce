package config

import _ "embed"

// Sample is a minimal configuration for a pair of nginx nodes, for
// vipd -init. It loads without warnings.
//
//go:embed sample.conf
var Sample string
