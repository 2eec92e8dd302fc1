#!/usr/bin/env bash
# `soma report` renders: two short runs, one page about both, opened in
# headless Chromium. The screenshot must not be blank and must show the
# charts' lines in the runs' colours; the page must hold every chart, the
# confusion matrix, the labelled misclassified grid and every setting, and
# load nothing from outside (no network, no scripts).
# Skipped (exit 77) without chromium (Debian package `chromium`, scripts/setup.sh).
# Run by CTest with SOMA_BIN, SOMA_SOURCE_DIR and PNG_INK (tests/tools/png_ink.c).
set -euo pipefail

source "${SOMA_SOURCE_DIR:?set SOMA_SOURCE_DIR to the repository root}/tests/support/cli.sh"
ink=${PNG_INK:?set PNG_INK to the png_ink tool}
browser=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $browser ]]; then
    echo "cli_report_render: SKIP: no chromium on PATH (apt-get install chromium)"
    exit 77
fi
good=$src/tests/corpus/good
tiny=("$good/tiny.cfg" --data "$good" --batch 8 --threads 1 --quiet --epochs 3)

run train "${tiny[@]}" --out "$tmp/sgd" --opt sgd --lr 0.002 # slow: it makes mistakes
check "train sgd (rc=$rc): $(cat "$tmp/err")" test "$rc" -eq 0
run train "${tiny[@]}" --out "$tmp/adam" --opt adam --lr 0.01
check "train adam (rc=$rc): $(cat "$tmp/err")" test "$rc" -eq 0
run report "$tmp/sgd" "$tmp/adam" --out "$tmp/report.html"
check "report (rc=$rc): $(cat "$tmp/err")" test "$rc" -eq 0
page=$tmp/report.html

# ---- the page: every part, nothing from outside
check "five charts (loss, accuracy, lr, step loss, gradient norm)" \
    test "$(grep -c '<svg ' "$page")" -eq 5
for title in Loss Accuracy "Learning rate" "Loss of each step" "Gradient norm"; do
    check "chart '$title'" grep -q ">$title" "$page"
done
check "both runs in the legend" grep -q ">sgd train<" "$page"
check "... and the other" grep -q ">adam val<" "$page"
check "the confusion matrix" grep -q 'class="confusion"' "$page"
check "accuracy per class" grep -q 'class="perclass"' "$page"
check "the misclassified grid is embedded" grep -q 'url(data:image/png;base64,iVBOR' "$page"
check "the tiles are labelled" grep -q '<span>true [0-9]*<br>said [0-9]*' "$page"
check "the model table" grep -q 'conv2d' "$page"
for key in optimizer lr batch seed init schedule val_split command; do
    check "setting $key" grep -q "<tr><th>$key</th>" "$page"
done
check "timing" grep -q "<h3>Timing</h3>" "$page"
check "no scripts" bash -c "! grep -qi '<script' '$page'"
check "nothing fetched from outside" bash -c "! grep -qiE '(src|href)=\"(https?:)?//' '$page'"

# ---- the rendering
shot=$tmp/shot.png
set +e
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --screenshot="$shot" --window-size=1200,1400 "file://$page" >"$tmp/chromium.log" 2>&1
set -e
check "chromium wrote a screenshot: $(tail -3 "$tmp/chromium.log")" test -s "$shot"
if [[ -s $shot ]]; then
    # width height ink, then the pixels near the first run's blue and the second's vermilion
    read -r w h ink_px blue orange < <("$ink" "$shot" 0072b2 d55e00)
    echo "screenshot ${w}x$h: $ink_px pixels not white, $blue blue, $orange vermilion"
    check "screenshot is ${w}x$h" test "$w" -eq 1200 -a "$h" -eq 1400
    check "the page is not blank ($ink_px drawn pixels)" test "$ink_px" -gt $((w * h / 50))
    check "the first run's lines rendered ($blue pixels)" test "$blue" -gt 500
    check "the second run's lines rendered ($orange pixels)" test "$orange" -gt 500
fi

# ---- a blank page is told apart: the check above can fail
printf '<!DOCTYPE html><html><body></body></html>\n' >"$tmp/blank.html"
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --screenshot="$tmp/blank.png" --window-size=1200,1400 "file://$tmp/blank.html" >/dev/null 2>&1 || true
if [[ -s $tmp/blank.png ]]; then
    read -r _ _ blank_ink _ < <("$ink" "$tmp/blank.png" 0072b2)
    check "a blank page has no ink ($blank_ink)" test "$blank_ink" -lt 100
fi
finish cli_report_render
