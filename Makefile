# SPIE platform — every command a developer needs. See README.md and DEVELOPERS.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements/base.txt requirements/dev.txt | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
ONLY ?=

.PHONY: install run test e2e lint format bench eval-matching migrations-check clean

$(STAMP): requirements/base.txt requirements/dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "→ Installation des dépendances verrouillées dans $(VENV)…"
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/base.txt -r requirements/dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

run: install
	@$(BIN)/python manage.py migrate --noinput -v 0
	@$(BIN)/python manage.py load_referentials
	@$(BIN)/python manage.py load_frameworks
	@$(BIN)/python manage.py seed_demo --if-empty
	@$(BIN)/python manage.py demo_logins --url http://$(HOST):$(PORT)
	@echo "→ Tâches de fond (imports, convocations, rappels) : manage.py db_worker, journal dans var/worker.log"
	@SITE_URL=http://$(HOST):$(PORT) $(BIN)/python manage.py db_worker --interval 1 --no-reload > var/worker.log 2>&1 & WORKER=$$!; \
	  trap 'kill $$WORKER 2>/dev/null' EXIT INT TERM; \
	  SITE_URL=http://$(HOST):$(PORT) SPIE_DEMO_SKIP_2FA=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install
	@$(BIN)/python -m pytest -p no:cacheprovider -n 2 --dist loadfile $(PYTEST_ARGS)

e2e: install
	@$(BIN)/python -m pytest -p no:cacheprovider -m e2e tests/e2e $(PYTEST_ARGS)

lint: install
	@$(BIN)/ruff check .

format: install
	@$(BIN)/ruff check --fix . && $(BIN)/ruff format .

migrations-check: install
	@$(BIN)/python manage.py makemigrations --check --dry-run

bench: install
	@$(BIN)/python bench/run.py $(if $(ONLY),--only $(ONLY),)

eval-matching: install
	@$(BIN)/python bench/eval_matching.py

clean:
	rm -rf $(VENV) var/spie.sqlite3*
