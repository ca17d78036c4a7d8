#!/usr/bin/env bash
# Creates (once) the virtualenv the interop and resume tests run the official Python MCP SDK from, with the
# pinned version below, and prints the path of its python. Idempotent: a venv whose stamp matches the pin is
# reused as it is, so a warm run costs nothing.
#   scripts/python-venv.sh            -> prints e.g. /repo/.cache/python-mcp/bin/python
# env: MCP_PY_VERSION   the `mcp` package pin (default below)
#      PYTHON           the interpreter to build the venv from (default python3; needs >= 3.10)
set -euo pipefail
cd "$(dirname "$0")/.."
MCP_PY_VERSION=${MCP_PY_VERSION:-2.3.0}
PYTHON=${PYTHON:-python3}
venv=$PWD/.cache/python-mcp
want="mcp==$MCP_PY_VERSION"
if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.pin" 2>/dev/null)" = "$want" ]; then echo "$venv/bin/python"; exit 0; fi
command -v "$PYTHON" >/dev/null || { echo "python-venv: $PYTHON not found; install Python >= 3.10 (Debian: apt-get install python3 python3-venv)" >&2; exit 1; }
rm -rf "$venv"
"$PYTHON" -m venv "$venv" >&2 || { echo "python-venv: '$PYTHON -m venv' failed; on Debian: apt-get install python3-venv" >&2; exit 1; }
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$want" >&2
echo "$want" > "$venv/.pin"
echo "$venv/bin/python"
