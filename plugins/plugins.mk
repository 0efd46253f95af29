# Built-in rule plugins. Included from the top-level Makefile:
#
#   -include plugins/plugins.mk
#   build: plugins
#   test: plugins
#
# Every plugins/<name>/ with a main.go becomes plugins/dist/<name>.wasm, the
# path plugins/embed.go embeds: today only plugins/builtin, the one module
# that serves every built-in rule type (the other directories are the
# packages it imports). A module is rebuilt when any plugin source or the
# SDK changes. The tag sdk_nojson leaves encoding/json, fmt and os out of
# the module (see sdk.Config.Decode): 2.0 MB instead of 3.5 MB. Run from the
# repository root.

PLUGIN_GO      ?= go
PLUGIN_NAMES   := $(patsubst plugins/%/main.go,%,$(wildcard plugins/*/main.go))
PLUGIN_WASM    := $(PLUGIN_NAMES:%=plugins/dist/%.wasm)
PLUGIN_SRC     := $(wildcard plugins/*/*.go sdk/*.go sdk/*/*.go)
# Modules of an older layout (one per rule type) left in dist would be
# embedded too: go:embed takes the whole directory.
PLUGIN_STALE   := $(filter-out $(PLUGIN_WASM),$(wildcard plugins/dist/*.wasm))

.PHONY: plugins plugins-clean

plugins: $(PLUGIN_WASM)
ifneq ($(PLUGIN_STALE),)
	rm -f $(PLUGIN_STALE)
endif

define PLUGIN_RULE
plugins/dist/$(1).wasm: $(PLUGIN_SRC)
	@mkdir -p plugins/dist
	GOOS=wasip1 GOARCH=wasm $(PLUGIN_GO) build -buildmode=c-shared -trimpath -ldflags=-s -tags sdk_nojson -o $$@ ./plugins/$(1)
endef
$(foreach p,$(PLUGIN_NAMES),$(eval $(call PLUGIN_RULE,$(p))))

plugins-clean:
	rm -f $(PLUGIN_WASM)
