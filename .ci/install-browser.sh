#!/usr/bin/env bash
# Install what tests/test_site.py drives: Debian's chromium + chromium-driver (headless browser and its
# WebDriver) and the selenium client. Does nothing for what is already there; never downloads a browser build
# of its own (selenium gets the driver path explicitly, so Selenium Manager does not run).
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
fi
python -c "import selenium" 2>/dev/null || python -m pip install -q selenium
python -c "import jupyter_server_mathjax" 2>/dev/null || python -m pip install -q jupyter-server-mathjax
chromium --version
chromedriver --version
