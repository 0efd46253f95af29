# Built-in rule plugins. Included from the top-level Makefile:
#
#   -include plugins/plugins.mk
#   build: plugins
#   test: plugins
#
# Every plugins/<name>/ with a main.go becomes plugins/dist/<name>.wasm, the
# path plugins/embed.go embeds. A plugin is rebuilt when its sources or the
# SDK change. Run from the repository root.

PLUGIN_GO      ?= go
PLUGIN_NAMES   := $(patsubst plugins/%/main.go,%,$(wildcard plugins/*/main.go))
PLUGIN_WASM    := $(PLUGIN_NAMES:%=plugins/dist/%.wasm)
PLUGIN_SDK_SRC := $(wildcard sdk/*.go sdk/*/*.go)

.PHONY: plugins plugins-clean

plugins: $(PLUGIN_WASM)

define PLUGIN_RULE
plugins/dist/$(1).wasm: $(wildcard plugins/$(1)/*.go) $(PLUGIN_SDK_SRC)
	@mkdir -p plugins/dist
	GOOS=wasip1 GOARCH=wasm $(PLUGIN_GO) build -buildmode=c-shared -trimpath -ldflags=-s -o $$@ ./plugins/$(1)
endef
$(foreach p,$(PLUGIN_NAMES),$(eval $(call PLUGIN_RULE,$(p))))

plugins-clean:
	rm -f $(PLUGIN_WASM)
