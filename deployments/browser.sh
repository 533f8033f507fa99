#!/usr/bin/env bash
# Installs what the browser tests need, and nothing is downloaded outside the
# distribution's and npm's registries: Debian's `chromium` package (when
# /usr/bin/chromium is missing) and playwright-core from e2e/package-lock.json.
# Playwright's own browser download is never used (no `playwright install`).
set -euo pipefail
cd "$(dirname "$0")/.."

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [[ ! -x "$CHROMIUM" ]]; then
	if [[ $(id -u) -ne 0 ]]; then
		SUDO=sudo
	else
		SUDO=
	fi
	echo "browser.sh: installing Debian chromium" >&2
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null
fi
"$CHROMIUM" --version >&2

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
cd e2e
if [[ -f package-lock.json ]]; then
	npm ci --no-audit --no-fund --loglevel=error
else
	npm install --no-audit --no-fund --loglevel=error
fi
