# gan_tf: `make train` and `make test` set everything up on a fresh machine.
# Variables pass through: make train EPOCHS=5 FRESH=1 DATASET=cifar10 (or DATA=path/to/folder) ARGS="--batch-size 64"
# and make sample NUM=100 DIGIT=7 (or LABEL=cat) SEED=3; on a text run also MODEL=lm|gan TEMPERATURE=0.8 PROMPT=... ACROSTIC=...

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CHECKPOINT_DIR ?= checkpoints
OUTPUT_DIR ?= outputs

# Optional flags, passed only when set.
train_flags = $(if $(EPOCHS),--epochs $(EPOCHS)) $(if $(FRESH),--fresh) $(if $(PRESET),--preset $(PRESET)) \
              $(if $(SEED),--seed $(SEED)) $(if $(DEVICE),--device $(DEVICE)) $(if $(EVAL_EVERY),--eval-every $(EVAL_EVERY))
data_flag = $(if $(DATA),--data $(DATA)) $(if $(DATASET),--dataset $(DATASET))
checkpoint_flag = $(if $(CHECKPOINT),--checkpoint $(CHECKPOINT))

.PHONY: train sample gif reconstruct interpolate evaluate tensorboard bench compare export play play-timing notebook \
        test quick-test lint format clean

# The virtual environment is rebuilt whenever requirements.txt changes.
$(VENV)/installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

train: $(VENV)/installed
	$(PY) -m gan_tf train --checkpoint-dir $(CHECKPOINT_DIR) --output-dir $(OUTPUT_DIR) $(train_flags) $(data_flag) $(checkpoint_flag) $(ARGS)

sample: $(VENV)/installed
	$(PY) -m gan_tf sample --checkpoint-dir $(CHECKPOINT_DIR) $(checkpoint_flag) --num $(or $(NUM),100) \
	  --seed $(or $(SEED),0) $(if $(DIGIT),--digit $(DIGIT)) $(if $(LABEL),--label $(LABEL)) --output-dir $(OUTPUT_DIR) \
	  $(if $(OUT),--out $(OUT)) $(if $(MODEL),--model $(MODEL)) $(if $(TEMPERATURE),--temperature $(TEMPERATURE)) \
	  $(if $(PROMPT),--prompt "$(PROMPT)") $(if $(ACROSTIC),--acrostic "$(ACROSTIC)") $(ARGS)

gif: $(VENV)/installed
	$(PY) -m gan_tf gif --output-dir $(OUTPUT_DIR)

reconstruct: $(VENV)/installed
	$(PY) -m gan_tf reconstruct --checkpoint-dir $(CHECKPOINT_DIR) $(checkpoint_flag) $(data_flag) \
	  --out $(or $(OUT),$(OUTPUT_DIR)/reconstruction.png) $(ARGS)

interpolate: $(VENV)/installed
	$(PY) -m gan_tf interpolate --checkpoint-dir $(CHECKPOINT_DIR) $(checkpoint_flag) $(data_flag) \
	  --out $(or $(OUT),$(OUTPUT_DIR)/interpolation.gif) $(ARGS)

evaluate: $(VENV)/installed
	$(PY) -m gan_tf evaluate --checkpoint-dir $(CHECKPOINT_DIR) $(checkpoint_flag) $(data_flag) \
	  --num $(or $(NUM),10000) --out $(or $(OUT),$(OUTPUT_DIR)/evaluation.json) $(ARGS)

# Every run's logs under OUTPUT_DIR: make train's in logs/, make compare's in compare/runs/*/logs/, overlaid.
tensorboard: $(VENV)/installed
	$(VENV)/bin/tensorboard --logdir $(OUTPUT_DIR)

bench: $(VENV)/installed
	$(PY) -m gan_tf bench --checkpoint-dir $(CHECKPOINT_DIR) $(data_flag) $(if $(TRIAL_MINUTES),--trial-minutes $(TRIAL_MINUTES)) $(ARGS)

# make compare [EPOCHS=1] [DATASET=name | DATA=path] [VARIANTS="conditional/default unconditional/hinge"]; on texts
# (DATASET=fortunes, DATA=poems.txt) VARIANTS="language-model default no-kl ...", EPOCHS of each after a shared language model.
compare: $(VENV)/installed
	$(PY) -m gan_tf compare --checkpoint-dir $(CHECKPOINT_DIR) --output-dir $(OUTPUT_DIR) $(data_flag) \
	  $(if $(EPOCHS),--epochs $(EPOCHS)) $(if $(VARIANTS),--variants $(VARIANTS)) $(ARGS)

# make export OUT=outputs/export: the generator and encoder as a SavedModel (a new or empty directory).
export: $(VENV)/installed
	$(PY) -m gan_tf export --checkpoint-dir $(CHECKPOINT_DIR) $(checkpoint_flag) --out $(or $(OUT),$(OUTPUT_DIR)/export) $(ARGS)

# make play [PORT=8000] [HOST=127.0.0.1] [EXPORT=outputs/export]: the page, at the address it prints.
play: $(VENV)/installed
	$(PY) -m gan_tf play --checkpoint-dir $(CHECKPOINT_DIR) $(checkpoint_flag) $(if $(EXPORT),--export $(EXPORT)) \
	  $(if $(PORT),--port $(PORT)) $(if $(HOST),--host $(HOST)) $(ARGS)

# The browser tests' Chromium, from Debian's packages (Playwright's own download cannot reach its servers), and a
# font with Chinese characters for the text page's screenshot.
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver fonts-wqy-zenhei

# How long a page update takes, timed in headless Chromium; SCREENSHOT=docs/play.png also saves the page,
# UPLOAD=picture.jpg reads that picture instead of a drawn 7.
play-timing: $(VENV)/installed $(CHROMIUM)
	PYTHONPATH=$(CURDIR) $(PY) -m tests.play_timing --checkpoint-dir $(CHECKPOINT_DIR) \
	  $(if $(EXPORT),--export $(EXPORT)) $(if $(SCREENSHOT),--screenshot $(SCREENSHOT)) $(if $(UPLOAD),--upload $(UPLOAD))

# Jupyter, only for `make notebook`: the tests run the notebook without it.
$(VENV)/notebook-installed: $(VENV)/installed requirements-notebook.txt
	$(PY) -m pip install --quiet -r requirements-notebook.txt
	touch $@

# Jupyter refuses to run as root unless told to (containers and CI machines often are root).
notebook: $(VENV)/notebook-installed
	PYTHONPATH=$(CURDIR) $(VENV)/bin/jupyter notebook notebooks/walkthrough.ipynb $(if $(filter 0,$(shell id -u)),--allow-root)

# The whole suite, in a worker process per core (pytest-xdist; an idle worker takes tests queued for the other),
# after the formatter's and linter's checks;
# --durations lists the slowest tests (the notebook's run among them).
test: lint $(CHROMIUM)
	$(PY) -m pytest -q -n auto --dist worksteal --durations=10 tests

# The suite without the tests marked slow (real processes, the notebook, kills, the browser): under a minute.
quick-test: $(VENV)/installed
	$(PY) -m pytest -q -n auto --dist worksteal -m "not slow" tests

# ruff, with the settings in pyproject.toml: the code is formatted, and passes the linter. `make format` formats it.
lint: $(VENV)/installed
	$(VENV)/bin/ruff format --check --quiet gan_tf tests
	$(VENV)/bin/ruff check --quiet gan_tf tests

format: $(VENV)/installed
	$(VENV)/bin/ruff format gan_tf tests
	$(VENV)/bin/ruff check --fix gan_tf tests

# Removes what runs produce, never the environment's source.
clean:
	rm -rf $(OUTPUT_DIR)/frames $(OUTPUT_DIR)/*.gif $(OUTPUT_DIR)/*.png
