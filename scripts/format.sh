#!/usr/bin/env bash
# clang-format (Debian 12's clang-format-14, .clang-format) over every C++ file git tracks.
#   scripts/format.sh          rewrites the files in place
#   scripts/format.sh --check  changes nothing; lists each file that differs, with the diff, and
#                              fails (scripts/test.sh runs this as CI's first stage)
set -euo pipefail
cd "$(dirname "$0")/.."

formatter=$(command -v clang-format-14 || true)
if [ -z "$formatter" ]; then
  echo "format: clang-format-14 not found (scripts/install-deps.sh installs it)" >&2
  exit 1
fi
mapfile -t files < <(git ls-files -- '*.cc' '*.h')
if [ "${1:-}" != "--check" ]; then
  "$formatter" -i --style=file "${files[@]}"
  exit 0
fi
differ=0
for file in "${files[@]}"; do
  if ! "$formatter" --style=file "$file" | diff -u --label "$file" --label "$file (clang-format)" "$file" - ; then
    differ=$((differ + 1))
  fi
done
if [ "$differ" -gt 0 ]; then
  echo "format: $differ of ${#files[@]} files differ from .clang-format; run scripts/format.sh" >&2
  exit 1
fi
echo "format: ${#files[@]} files match .clang-format"
