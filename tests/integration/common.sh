# Sourced by the CLI test scripts (cli.sh, train_cli.sh): pass/fail counting and the check that
# bad input gives exit code 2 and a one-line message on stderr. Needs $nascent.
failures=0
passes=0
env_args=() # VAR=value pairs for the next expect_error

pass() { passes=$((passes + 1)); }
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# expect_error "description" "message fragment" nascent-args...
expect_error() {
    local what=$1 fragment=$2
    shift 2
    local out rc
    out=$(env "${env_args[@]}" "$nascent" "$@" 2>&1 >/dev/null)
    rc=$?
    if [[ $rc -ne 2 ]]; then fail "$what: exit $rc, expected 2 ($out)"; return; fi
    if [[ $out != *"$fragment"* ]]; then fail "$what: message '$out' lacks '$fragment'"; return; fi
    if [[ $(printf '%s\n' "$out" | grep -c .) -ne 1 ]]; then fail "$what: not one line: $out"; return; fi
    pass
}
