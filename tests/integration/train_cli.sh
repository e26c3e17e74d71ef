#!/usr/bin/env bash
# End-to-end tests of `nascent train` and `nascent build-table` (real training on Fashion-MNIST,
# tiny settings): every metric printed; a table identical for 1 and 2 threads; resuming after an
# interruption (rows cut off, a half-written row) gives the byte-identical table; a restart with
# other settings is refused; bad input is one line on stderr and exit code 2.
# Usage: train_cli.sh PATH/TO/nascent DATA_DIR
set -u
nascent=$1
data=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/common.sh"

tiny=(--train-subset 200 --eval-subset 200 --batch 50)
best='|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|'

# train: every metric of the evaluation.
out=$("$nascent" train --arch "$best" --epochs 1 "${tiny[@]}" --threads 2)
rc=$?
if [[ $rc -eq 0 ]]; then pass; else fail "train exit $rc"; fi
for key in "arch           $best" "epochs         1" "status         ok" train_acc valid_acc test_acc \
           train_loss valid_loss train_seconds "params         68882"; do
    if [[ $out == *"$key"* ]]; then pass; else fail "train output lacks '$key': $out"; fi
done
out=$("$nascent" train --space nb101 --arch '0101100111000110000100000:input|conv1x1-bn-relu|maxpool3x3|conv3x3-bn-relu|output' \
      --channels 16 "${tiny[@]}" --threads 1)
if [[ $? -eq 0 && $out == *"status         ok"* && $out == *"params         11789"* ]]; then pass; else
    fail "train nb101: $out"; fi
# An OFA MobileNetV3 subnet at width 0.25: params equal the cost model's (156,738 for 1 input
# channel, 10 classes), and a table of MBConv genotypes is resumable like the others.
smallest='k3e3-k3e3|k3e3-k3e3|k3e3-k3e3|k3e3-k3e3|k3e3-k3e3'
out=$("$nascent" train --space mbconv --arch "$smallest" "${tiny[@]}" --threads 2)
if [[ $? -eq 0 && $out == *"status         ok"* && $out == *"params         156738"* ]]; then pass; else
    fail "train mbconv: $out"; fi
mb=(build-table --space mbconv --sample 2 --epochs 0.25 "${tiny[@]}" --out "$tmp/mb.csv")
"$nascent" "${mb[@]}" >/dev/null 2>&1 || fail "build-table mbconv"
out=$("$nascent" "${mb[@]}" 2>&1)
if [[ $(head -1 "$tmp/mb.csv") == arch,train_acc* && $(wc -l <"$tmp/mb.csv") -eq 3 && $out == *"2 already there"* ]]; then
    pass; else fail "mbconv table: $out"; fi
expect_error "bad mbconv arch" "stage" train --space mbconv --arch 'k3e3|k3e3'
out=$("$nascent" train --arch "$best" --input-channels 3 "${tiny[@]}")
if [[ $? -eq 0 && $out == *"params         69026"* ]]; then pass; else fail "train --input-channels 3: $out"; fi
# Divergence is a result (a failed evaluation), not an error.
out=$("$nascent" train --arch "$best" --lr 1e30 "${tiny[@]}")
if [[ $? -eq 0 && $out == *"status         failed (non-finite loss)"* ]]; then pass; else fail "diverged train: $out"; fi

# build-table from a list: the same file for 1 and 2 threads; official indices from the table.
printf '%s\n' '|nor_conv_1x1~0|+|skip_connect~0|avg_pool_3x3~1|+|none~0|skip_connect~1|skip_connect~2|' \
    '' "$best" '|skip_connect~0|+|avg_pool_3x3~0|skip_connect~1|+|none~0|none~1|none~2|' >"$tmp/archs.txt"
list=(--archs "$tmp/archs.txt" --epochs 1 "${tiny[@]}" --seed 5)
table=(build-table --data "$data" "${list[@]}")
"$nascent" "${table[@]}" --out "$tmp/full.csv" --threads 2 >/dev/null || fail "build-table --threads 2"
"$nascent" "${table[@]}" --out "$tmp/one.csv" --threads 1 >/dev/null || fail "build-table --threads 1"
if cmp -s "$tmp/full.csv" "$tmp/one.csv"; then pass; else fail "tables differ between 1 and 2 threads"; fi
if [[ $(head -1 "$tmp/full.csv") == "index,arch,train_acc,valid_acc,test_acc,train_loss,valid_loss,params" ]]; then
    pass; else fail "header: $(head -1 "$tmp/full.csv")"; fi
if [[ $(wc -l <"$tmp/full.csv") -eq 4 ]]; then pass; else fail "expected header + 3 rows"; fi
if [[ $(sed -n 3p "$tmp/full.csv") == "6111,$best,"* ]]; then pass; else
    fail "row 2 should be official index 6111: $(sed -n 3p "$tmp/full.csv")"; fi
if [[ -f "$tmp/full.csv.settings" ]]; then pass; else fail "no settings file beside the table"; fi
if ! grep -q ',,' "$tmp/full.csv"; then pass; else fail "empty metrics in ok rows"; fi

# Resume: cut to header + 1 row, rerun, byte-identical; the same with half a row left over.
cp "$tmp/full.csv" "$tmp/cut.csv"
cp "$tmp/full.csv.settings" "$tmp/cut.csv.settings"
head -2 "$tmp/full.csv" >"$tmp/cut.csv"
out=$("$nascent" "${table[@]}" --out "$tmp/cut.csv" --threads 2) || fail "resume"
if cmp -s "$tmp/full.csv" "$tmp/cut.csv"; then pass; else fail "resumed table differs"; fi
if [[ $out == *"3 cells, 1 already there, 2 rows written"* ]]; then pass; else fail "resume summary: $out"; fi
{ head -2 "$tmp/full.csv"; sed -n 3p "$tmp/full.csv" | head -c 40; } >"$tmp/cut.csv"
"$nascent" "${table[@]}" --out "$tmp/cut.csv" --threads 1 >/dev/null 2>"$tmp/err.txt" || fail "resume after half a row"
if cmp -s "$tmp/full.csv" "$tmp/cut.csv"; then pass; else fail "table resumed after half a row differs"; fi
if grep -q "dropping the unfinished last line" "$tmp/err.txt"; then pass; else fail "no note about the cut row"; fi
out=$("$nascent" "${table[@]}" --out "$tmp/cut.csv") || fail "rerun on a complete table"
if [[ $out == *"3 already there, 0 rows written"* ]] && cmp -s "$tmp/full.csv" "$tmp/cut.csv"; then pass; else
    fail "a complete table should stay as it is: $out"; fi

# A sample: distinct cells, reproducible from the seed, resumable the same way.
sample=(build-table --data "$data" --sample 3 --seed 9 --epochs 1 "${tiny[@]}")
"$nascent" "${sample[@]}" --out "$tmp/sample.csv" >/dev/null || fail "build-table --sample"
if [[ $(tail -n +2 "$tmp/sample.csv" | cut -d, -f2 | sort -u | wc -l) -eq 3 ]]; then pass; else
    fail "sample should hold 3 distinct cells"; fi
head -1 "$tmp/sample.csv" >"$tmp/sample_cut.csv"
cp "$tmp/sample.csv.settings" "$tmp/sample_cut.csv.settings"
"$nascent" "${sample[@]}" --out "$tmp/sample_cut.csv" --threads 1 >/dev/null || fail "resume sample"
if cmp -s "$tmp/sample.csv" "$tmp/sample_cut.csv"; then pass; else fail "resumed sample differs"; fi

# Restarting with other settings, another list or onto another file is refused.
expect_error "other settings" "was built with other settings" "${table[@]}" --out "$tmp/full.csv" --weight-decay 0
expect_error "other list" "not in this list" build-table --data "$data" --sample 3 --epochs 1 \
    "${tiny[@]}" --seed 5 --out "$tmp/full.csv"
printf 'a,b\n1,2\n' >"$tmp/other.csv"
expect_error "foreign file" "exists with another header" "${table[@]}" --out "$tmp/other.csv"
head -1 "$tmp/full.csv" >"$tmp/bare.csv"
expect_error "no settings file" "settings that built it are unknown" "${table[@]}" --out "$tmp/bare.csv"

# Bad input: one line, exit 2.
expect_error "bad arch" "invalid arch string '|conv9x9~0|" train --arch '|conv9x9~0|+|none~0|none~1|+|none~0|none~1|none~2|'
expect_error "bad nb101 arch" "invalid NAS-Bench-101 cell" train --space nb101 --arch '0110:input|output'
expect_error "missing arch" "--arch is required" train
expect_error "no Fashion-MNIST" "/nonexistent/fm/train-images-idx3-ubyte.gz" train --arch "$best" --fmnist /nonexistent/fm
expect_error "Debian path named" "/usr/share/datasets/fashion-mnist" train --arch "$best" --fmnist /nonexistent/fm
expect_error "--epochs 0" "--epochs: must be > 0, got 0" train --arch "$best" --epochs 0
expect_error "--lr text" "--lr: expected a number > 0, got 'fast'" train --arch "$best" --lr fast
expect_error "--threads 0" "--threads: must be >= 1, got 0" train --arch "$best" --threads 0
expect_error "--input-channels 2" "--input-channels 2 must be 1 or 3" train --arch "$best" --input-channels 2
expect_error "--space" "--space: nb999 not in {nb201,nb101,mbconv}" train --space nb999 --arch "$best"
expect_error "no list or sample" "build-table needs --sample N or --archs FILE" build-table --out "$tmp/x.csv"
expect_error "list and sample" "excludes" build-table --out "$tmp/x.csv" --sample 2 --archs "$tmp/archs.txt"
expect_error "--sample 0" "--sample: must be >= 1, got 0" build-table --out "$tmp/x.csv" --sample 0
expect_error "missing --out" "--out is required" build-table --sample 2
expect_error "missing list" "cannot read the arch list '$tmp/none.txt'" build-table --archs "$tmp/none.txt" --out "$tmp/x.csv"
printf '%s\n%s\n' "$best" '|nor_conv_3x3~0|+|bad|' >"$tmp/bad.txt"
expect_error "bad line" "$tmp/bad.txt:2: invalid arch string" build-table --archs "$tmp/bad.txt" --out "$tmp/x.csv"
printf '%s\n%s\n' "$best" "$best" >"$tmp/dup.txt"
expect_error "duplicate line" "$tmp/dup.txt:2: the same cell as line 1" build-table --archs "$tmp/dup.txt" --out "$tmp/x.csv"
expect_error "oversized sample" "--sample 20000 exceeds the 15625 NB201 cells" build-table --sample 20000 --out "$tmp/x.csv"
expect_error "missing data dir" "'/nonexistent/data' (from --data" build-table "${list[@]}" --out "$tmp/y.csv" --data /nonexistent/data
if [[ ! -e "$tmp/x.csv" && ! -e "$tmp/y.csv" ]]; then pass; else fail "a failed build-table left a file"; fi

echo "train_cli: $passes passed, $failures failed"
[[ $failures -eq 0 ]]
