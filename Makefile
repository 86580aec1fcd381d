# nsutils: one-command build, test, install and packaging.
#
#   make                      release binaries, man pages, shell completions
#   make test                 the README's test command (as root: see README)
#   make install              PREFIX=/usr/local DESTDIR= BIN_PREFIX= NSENTER_NAME=nsutils-nsenter
#   make uninstall            the same variables as install
#   make nsinit-static        nsinit linked statically (glibc crt-static, not PIE), like
#                             tini-static: what install puts at nsinit
#   make install-static       install only it, as nsinit and nsinit-static
#   make deb                  the Debian package, into target/debian/
#
# Everything generated (man pages, completions) comes from each tool's clap definition via
# the nsutils-gen workspace member, so it is regenerated on every run: it takes milliseconds,
# and it must follow BIN_PREFIX and NSENTER_NAME.
#
# util-linux owns `nsenter` on nearly every distribution, and a `nsenter` of ours earlier in
# PATH (/usr/local/bin) would silently change what existing scripts run. So `make install`
# installs ours as `nsutils-nsenter`, as the Debian package does, with a link named `nsenter`
# in $(NSUTILS_LIBDIR)/bin for scripts that want ours under its own name; only an explicit
# NSENTER_NAME=nsenter installs it as `nsenter`, and even then never over util-linux's.

PREFIX       ?= /usr/local
DESTDIR      ?=
BINDIR       ?= $(PREFIX)/bin
DATADIR      ?= $(PREFIX)/share
MANDIR       ?= $(DATADIR)/man
BASHCOMPDIR  ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR   ?= $(DATADIR)/zsh/site-functions
FISHCOMPDIR  ?= $(DATADIR)/fish/vendor_completions.d
NSUTILS_LIBDIR ?= $(PREFIX)/lib/nsutils

# Prepended to every installed command (and its man page and completions), e.g. nsutils-.
BIN_PREFIX   ?=
# nsenter alone can be renamed: util-linux has the name. Default: nsutils-nsenter (or
# $(BIN_PREFIX)nsenter when a prefix is given); `nsenter` only when asked for.
NSENTER_NAME ?= $(if $(BIN_PREFIX),$(BIN_PREFIX)nsenter,nsutils-nsenter)

CARGO        ?= cargo
CARGOFLAGS   ?= --locked
INSTALL      ?= install
# The static nsinit needs an explicit target so that RUSTFLAGS skip build scripts and proc
# macros (they cannot be linked statically); the host triple is the only one we build for.
HOST_TRIPLE  := $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
STATIC_TARGET ?= $(HOST_TRIPLE)

TOOLS        := nsrun nsenter nsls nsinit
RELEASE_DIR  := target/release
STATIC_BIN   := target/$(STATIC_TARGET)/release/nsinit
# The binary installed for each tool. nsinit's is the static build, as the smallest PID 1
# (bench/nsinit/RESULTS.md: below tini-static and catatonit; the dynamic one maps libc too).
bin_nsrun    := $(RELEASE_DIR)/nsrun
bin_nsenter  := $(RELEASE_DIR)/nsenter
bin_nsls     := $(RELEASE_DIR)/nsls
bin_nsinit   := $(STATIC_BIN)
GEN_OUT      := target/nsutils-gen
# The installed name of each tool.
name_nsrun   := $(BIN_PREFIX)nsrun
name_nsenter := $(NSENTER_NAME)
name_nsls    := $(BIN_PREFIX)nsls
name_nsinit  := $(BIN_PREFIX)nsinit
sect_nsrun   := 1
sect_nsenter := 1
sect_nsls    := 8
sect_nsinit  := 1
ALIAS_DIR    := $(if $(filter nsenter,$(NSENTER_NAME)),,$(NSUTILS_LIBDIR)/bin)

# Man page dates: the last commit's, so that rebuilding a commit gives the same pages.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null)
export SOURCE_DATE_EPOCH

.PHONY: all build gen man completions test install install-static uninstall \
	nsinit-static deb clean

all: build gen

build:
	$(CARGO) build $(CARGOFLAGS) --release $(addprefix -p ,$(TOOLS))

# The generator is built in the dev profile: a release build alongside the tools would unify
# its dependencies' clap features into the tools' binaries.
gen:
	$(CARGO) build $(CARGOFLAGS) -p nsutils-gen
	rm -rf $(GEN_OUT)
	target/debug/nsutils-gen --man $(GEN_OUT)/man --completions $(GEN_OUT)/completions \
		--man-src man --bin-prefix '$(BIN_PREFIX)' --nsenter-name '$(NSENTER_NAME)' \
		$(if $(ALIAS_DIR),--alias-dir '$(ALIAS_DIR)')

man completions: gen

test:
	$(CARGO) build --workspace && $(CARGO) test --workspace

# build/README.md documents this target with the rest of the start-up machinery (why, the
# measurements, how to re-measure); .ci/tripwires fails when a piece stops doing its job.
# Two links: an unstripped one to learn the mangled names of nsinit's hot functions
# (nsinit/link-order/hot.txt; same profile, since the profile enters the names' hashes and
# RUSTFLAGS do not), then the real one with those functions laid out first, which brings
# the init's resident memory below tini-static's (see nsinit/link-order/order). Without
# lld or nm, or if no name matches, the second link is simply not ordered.
# Not PIE (relocation-model=static), as tini-static and catatonit are: a static-PIE
# relocates ~2,100 pointers at start-up (dirtying its RELRO pages) and lands at a random
# address, so its 64 KB fault-around windows, hence its resident memory, change from run to
# run; see bench/nsinit/RESULTS.md.
ORDER_DIR    := target/nsinit-order
NSINIT_STATIC_FLAGS := -C target-feature=+crt-static -C relocation-model=static
nsinit-static:
	@test -n "$(STATIC_TARGET)" || { echo "make: cannot find the host triple (rustc -vV)" >&2; exit 1; }
	RUSTFLAGS="$$RUSTFLAGS $(NSINIT_STATIC_FLAGS) -C strip=none" \
		$(CARGO) build $(CARGOFLAGS) --release --target $(STATIC_TARGET) -p nsinit \
		--target-dir $(ORDER_DIR)
	order=$$(nsinit/link-order/order $(ORDER_DIR)/$(STATIC_TARGET)/release/nsinit \
		nsinit/link-order/hot.txt $(ORDER_DIR)) || order=; \
	RUSTFLAGS="$$RUSTFLAGS $(NSINIT_STATIC_FLAGS) $$order" \
		$(CARGO) build $(CARGOFLAGS) --release --target $(STATIC_TARGET) -p nsinit

install: all nsinit-static
	@f='$(DESTDIR)$(BINDIR)/$(NSENTER_NAME)'; \
	if [ -e "$$f" ] && "$$f" --version 2>/dev/null | grep -q util-linux; then \
		echo "make: $$f is util-linux's nsenter; not replacing it." >&2; \
		echo "make: install ours next to it under another NSENTER_NAME (default: nsutils-nsenter)" >&2; \
		exit 1; \
	fi
	$(INSTALL) -d '$(DESTDIR)$(BINDIR)' '$(DESTDIR)$(MANDIR)/man1' '$(DESTDIR)$(MANDIR)/man8' \
		'$(DESTDIR)$(BASHCOMPDIR)' '$(DESTDIR)$(ZSHCOMPDIR)' '$(DESTDIR)$(FISHCOMPDIR)'
	$(foreach t,$(TOOLS),\
		$(INSTALL) -m 755 $(bin_$(t)) '$(DESTDIR)$(BINDIR)/$(name_$(t))' && \
		$(INSTALL) -m 644 $(GEN_OUT)/man/$(name_$(t)).$(sect_$(t)) '$(DESTDIR)$(MANDIR)/man$(sect_$(t))/' && \
		$(INSTALL) -m 644 $(GEN_OUT)/completions/bash/$(name_$(t)) '$(DESTDIR)$(BASHCOMPDIR)/' && \
		$(INSTALL) -m 644 $(GEN_OUT)/completions/zsh/_$(name_$(t)) '$(DESTDIR)$(ZSHCOMPDIR)/' && \
		$(INSTALL) -m 644 $(GEN_OUT)/completions/fish/$(name_$(t)).fish '$(DESTDIR)$(FISHCOMPDIR)/' && ) true
ifneq ($(ALIAS_DIR),)
	$(INSTALL) -d '$(DESTDIR)$(ALIAS_DIR)'
	ln -sfn "$$(realpath -m --relative-to='$(ALIAS_DIR)' '$(BINDIR)/$(NSENTER_NAME)')" \
		'$(DESTDIR)$(ALIAS_DIR)/nsenter'
endif
	$(install_static_links)

# The static nsinit alone (already built by `make nsinit-static`), for an image or a host
# that wants only the init: as nsinit, and as nsinit-static for the scripts and images that
# name it so (tini-static's habit). The man page is nsinit's.
install-static:
	@test -x $(STATIC_BIN) || { echo "make: run 'make nsinit-static' first" >&2; exit 1; }
	$(INSTALL) -d '$(DESTDIR)$(BINDIR)' '$(DESTDIR)$(MANDIR)/man1'
	$(INSTALL) -m 755 $(STATIC_BIN) '$(DESTDIR)$(BINDIR)/$(name_nsinit)'
	$(install_static_links)

define install_static_links
	ln -sfn $(name_nsinit) '$(DESTDIR)$(BINDIR)/$(name_nsinit)-static'
	ln -sfn $(name_nsinit).1 '$(DESTDIR)$(MANDIR)/man1/$(name_nsinit)-static.1'
endef

uninstall:
	rm -f $(foreach t,$(TOOLS),\
		'$(DESTDIR)$(BINDIR)/$(name_$(t))' \
		'$(DESTDIR)$(MANDIR)/man$(sect_$(t))/$(name_$(t)).$(sect_$(t))' \
		'$(DESTDIR)$(BASHCOMPDIR)/$(name_$(t))' \
		'$(DESTDIR)$(ZSHCOMPDIR)/_$(name_$(t))' \
		'$(DESTDIR)$(FISHCOMPDIR)/$(name_$(t)).fish')
	rm -f '$(DESTDIR)$(BINDIR)/$(name_nsinit)-static' '$(DESTDIR)$(MANDIR)/man1/$(name_nsinit)-static.1'
ifneq ($(ALIAS_DIR),)
	rm -f '$(DESTDIR)$(ALIAS_DIR)/nsenter'
	-rmdir '$(DESTDIR)$(ALIAS_DIR)' '$(DESTDIR)$(NSUTILS_LIBDIR)' 2>/dev/null
endif

# dpkg-buildpackage writes next to the source tree; the results are moved into target/debian.
# -d: the toolchain is usually rustup's, which dpkg cannot see as a build dependency.
# Its pre-clean (debian/rules clean) drops debhelper's stamps, so every run really builds;
# it keeps target/ (see debian/rules), so cargo rebuilds only what changed.
DEB_VERSION = $(shell dpkg-parsechangelog -S Version)
deb:
	dpkg-buildpackage -b -us -uc -d
	mkdir -p target/debian
	mv ../nsutils_$(DEB_VERSION)_*.deb ../nsutils_$(DEB_VERSION)_*.buildinfo \
		../nsutils_$(DEB_VERSION)_*.changes target/debian/
	@ls -l target/debian/*.deb

clean:
	$(CARGO) clean
	rm -rf debian/nsutils debian/.debhelper debian/debhelper-build-stamp debian/files \
		debian/nsutils.substvars

# The hardening report of issue 9: the injected-fault and stress tests at full size
# (NSUTILS_STRESS_SCALE=1: 500 concurrent nsrun and nsenter runs, 100,000 children under
# nsinit), the fd audits, and valgrind on every tool. As root; needs valgrind.
.PHONY: stress
stress:
	bench/stress/run
