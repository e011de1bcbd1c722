#!/usr/bin/env bash
# Compile time against the number of models: a crate of N models in a star
# (each with a one-to-one to one hub model), built in debug, for N = 250, 500
# and 1,000. The time should grow linearly with N. Not run by CI (minutes).
#
#   bash benches/compile_time.sh [N...]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${TMPDIR:-/tmp}/orm-compile-time"
mkdir -p "$work"
export CARGO_TARGET_DIR="$work/target"
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(250 500 1000)
for n in "${sizes[@]}"; do
  dir="$work/star$n"
  mkdir -p "$dir/src"
  cat > "$dir/Cargo.toml" <<TOML
[package]
name = "star$n"
version = "0.0.0"
edition = "2021"
publish = false
[dependencies]
orm-core = { path = "$root/orm-core" }
[workspace]
TOML
  {
    echo "use orm_core::prelude::*;"
    echo "#[derive(Model, Debug, Clone)] #[model(app = \"star\")] pub struct Hub { pub id: Option<i64>, pub name: String }"
    for i in $(seq 1 "$n"); do
      echo "#[derive(Model, Debug, Clone)] #[model(app = \"star\")] pub struct M$i { pub id: Option<i64>, #[one_to_one(on_delete = \"cascade\", related_name = \"m$i\")] pub hub: OneToOne<Hub>, pub v: i64 }"
    done
    echo "pub fn touch() -> usize { orm_core::registry::models().len() }"
  } > "$dir/src/lib.rs"
  # Build the dependencies first, so only the models are timed.
  (cd "$dir" && echo "" >> src/lib.rs && cargo build -q 2>/dev/null || true)
  touch "$dir/src/lib.rs"
  start=$(date +%s.%N)
  (cd "$dir" && cargo build -q)
  end=$(date +%s.%N)
  printf "%5d models: %.1f s\n" "$n" "$(echo "$end - $start" | bc)"
done
