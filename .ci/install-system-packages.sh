#!/usr/bin/env bash
# Installs the Debian packages the tests and gates use, if they are missing.
set -uo pipefail
need=()
command -v shellcheck >/dev/null || need+=(shellcheck)
command -v rg >/dev/null || need+=(ripgrep)
command -v tmux >/dev/null || need+=(tmux)
command -v dockerd >/dev/null || need+=(docker.io)
command -v docker-compose >/dev/null || need+=(docker-compose)
if [ "${#need[@]}" -gt 0 ]; then
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
