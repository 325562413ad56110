# The commands a newcomer needs; the work of each lives in scripts/.
.PHONY: up test install lint

VENV := .venv
# Touched after a successful install, so pip runs again only when pyproject.toml changes
# (or when .venv is deleted, since the stamp lives inside it).
INSTALL_STAMP := $(VENV)/.installed

# All three services, their workers and (if none runs) Redis, with demo data; Ctrl-C stops them.
up:
	scripts/up.sh

# The test suite on SQLite and, side by side, on PostgreSQL when it can be had.
test:
	scripts/test.sh

# The virtualenv in .venv, with civicpanel installed editable and its test tools.
install: $(INSTALL_STAMP)

$(INSTALL_STAMP): pyproject.toml
	scripts/install.sh
	touch $@

lint: install
	$(VENV)/bin/ruff check .
