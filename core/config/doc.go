// Package config loads, defaults and validates the configuration of the
// tokenomics binary: config.yaml (server, storage, sessions, security,
// logging, remote sync, events, CLI maps, memory, plugins) and
// providers.yaml (upstream LLM providers).
//
// # Loading
//
// [Load] follows one fixed flow: strict decode of config.yaml, strict decode
// of providers.yaml, environment overrides, [Config.SetDefaults], then
// [Config.Validate]. Every problem found in a step is reported together,
// each as a [*FieldError] naming the YAML path (and the file and line, or
// the environment variable, it came from), joined with [errors.Join].
//
// Decoding is strict: an unknown key, a duplicate key, a value of the wrong
// type or a second YAML document is an error. Anchors, aliases and merge
// keys (<<) work as in YAML.
//
// # Variables in values
//
// ${NAME} inside a string value is replaced by the environment variable
// NAME (an unset variable gives ""). $${ writes a literal ${. Expansion runs
// on each parsed scalar, never on the raw file text, so a variable's value
// is always exactly one string and cannot add keys or structure. A plain
// (unquoted) scalar is re-typed after expansion, so
//
//	http_port: ${PORT}
//
// decodes PORT=9000 as the integer 9000. Mapping keys are not expanded.
// Inside a flow collection ({...} or [...]) quote the value, "${NAME}",
// since YAML reads { and } there as structure.
//
// # Environment overrides
//
// TOKENOMICS_<PATH> sets a scalar field, where PATH is its YAML path
// upper-cased and joined with "_": TOKENOMICS_SERVER_HTTP_PORT=9000,
// TOKENOMICS_SESSION_REDIS_ADDR=redis:6379, TOKENOMICS_MEMORY_ALLOWED_DIRS=a,b
// (lists are comma separated). Overrides apply after the file and before
// defaults; an empty value clears the field so its default applies.
// TOKENOMICS_* variables that name no field (TOKENOMICS_HASH_KEY,
// TOKENOMICS_REMOTE_KEY, ...) are ignored. Providers, events.webhooks and
// cli_maps cannot be overridden this way.
//
// # Durations
//
// A [Duration] is written "30s", "5m", "1h30m", "7d" (days, possibly
// followed by a Go duration: "1d12h") or a plain integer of seconds.
//
// # Providers
//
// providers.yaml holds one mapping, providers, from name to [Provider]. The
// file's providers come first, in written order; the built-ins
// ([BuiltinProviders]) that the file does not name follow. A provider the
// file names replaces the built-in of that name entirely; only the generic
// defaults (auth scheme, header, chat path, format) fill its unset fields.
//
// # Secrets
//
// Secrets are never stored in the config: security.hash_key_env and friends
// name environment variables, read through [Config.Secret] from the
// environment given to [Load]. [Config.EncryptionSecret] documents how a key is
// derived from the variable's value.
//
// # Relative paths
//
// storage.db_path, server.tls.cert_dir, plugins.dir, plugins.cache_dir and
// memory.allowed_dirs keep the text written; [Config.Abs] resolves one
// against the process working directory when needed.
package config
