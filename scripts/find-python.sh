#!/usr/bin/env bash
# Print the path of a Python >= 3.12 interpreter (ansible-core 2.21 needs it).
# Order: python3, python3.13, python3.12 on PATH (each must really run: pyenv
# shims exist on PATH even when their version is not selected), then the newest
# pyenv install under $HOME/.pyenv/versions/3.1[23]*.
set -uo pipefail

ok() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

resolve() {
    # Print the real interpreter path behind a command (shims resolve through sys.executable).
    "$1" -c 'import sys; print(sys.executable)' 2>/dev/null
}

for cand in python3 python3.13 python3.12; do
    if command -v "$cand" >/dev/null 2>&1 && ok "$cand"; then
        resolve "$cand"
        exit 0
    fi
done

newest=""
shopt -s nullglob
pyenv_pythons=("${HOME}"/.pyenv/versions/3.1[23]*/bin/python3.1[23])
shopt -u nullglob
if [ "${#pyenv_pythons[@]}" -gt 0 ]; then
    while IFS= read -r cand; do
        if ok "$cand"; then
            newest="$cand"
        fi
    done < <(printf '%s\n' "${pyenv_pythons[@]}" | sort -V)
fi
if [ -n "$newest" ]; then
    echo "$newest"
    exit 0
fi

echo "find-python: no Python >= 3.12 found (tried python3, python3.13, python3.12 and" \
    "${HOME}/.pyenv/versions/3.1[23]*); install one or run make with PYTHON=/path/to/python3.12+" >&2
exit 1
