# The fuzz targets and how each is run, shared by run.sh (CI's short runs) and campaign.sh (long
# runs). Sourced, not run.
# shellcheck shell=bash
targets="${FUZZ_TARGETS:-archive split decode pipeline redact serve mcp}"
export RUSTC_BOOTSTRAP=1
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

command -v cargo-fuzz >/dev/null || {
  echo "cargo-fuzz not found: cargo install cargo-fuzz --locked" >&2
  exit 1
}
command -v python3 >/dev/null || { echo "python3 not found (fuzz/seeds.py needs it)" >&2; exit 1; }

# Largest input per target (seeds.py keeps its seeds under these). `pipeline`'s is small: a
# run's cost grows with its bundle, and with 64 KB inputs the corpus grew to textual bundles
# averaging 16 KB that ran at a third of the rate of the grammar's (which stay under 8 KB).
max_len() {
  case "$1" in
    pipeline) echo 16384 ;;
    split | decode | redact | serve | mcp) echo 65536 ;;
    *) echo 131072 ;;
  esac
}
# Seconds one input may take. The first input of `mcp` also analyses its three samples once for
# the process (about 6.5 s under AddressSanitizer on a busy machine): it gets more room.
timeout_of() {
  case "$1" in
    mcp) echo 30 ;;
    *) echo 10 ;;
  esac
}
dicts() {
  case "$1" in
    split | decode) echo dict/yaml.dict ;;
    archive) echo dict/archive.dict ;;
    pipeline | redact) echo dict/bundle.dict dict/yaml.dict dict/archive.dict ;;
    serve) echo dict/serve.dict ;;
    mcp) echo dict/mcp.dict ;;
  esac
}
