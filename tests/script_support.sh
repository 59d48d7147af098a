# shellcheck shell=bash
# tests/script_support.sh - what the shell tests share, sourced: say and skip. The script sets
# test_name (the prefix of its messages) and require_var (the environment variable that, set to
# 1, turns a skip into a failure) before it sources this.
say() { echo "$test_name: $*" >&2; }
skip() {
    if [ "${!require_var:-}" = 1 ]; then
        say "FAILED ($require_var=1): $*"
        exit 1
    fi
    say "skipped: $*"
    exit 77
}
