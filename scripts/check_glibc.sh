#!/usr/bin/env bash
# Every Lambda artifact must start on provided.al2023, whose glibc is 2.34: reads the highest
# GLIBC_ symbol version each bootstrap asks for and fails if any is newer.
set -euo pipefail
dir=${1:-target/lambda}
max=${GLIBC_MAX:-2.34}
status=0
count=0
for bin in "$dir"/*/bootstrap; do
  [ -e "$bin" ] || { echo "no artifacts under $dir: run make build" >&2; exit 1; }
  count=$((count + 1))
  need=$(objdump -T "$bin" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
  need=${need:-none}
  name=$(basename "$(dirname "$bin")")
  if [ "$need" != none ] && [ "$(printf '%s\n%s\n' "$need" "$max" | sort -V | tail -1)" != "$max" ]; then
    printf '%-24s GLIBC_%s  > %s\n' "$name" "$need" "$max"
    status=1
  else
    printf '%-24s GLIBC_%s\n' "$name" "$need"
  fi
done
[ "$status" = 0 ] && echo "all $count artifacts need glibc ≤ $max" || echo "some artifacts need a glibc newer than $max" >&2
exit $status
