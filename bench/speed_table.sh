#!/usr/bin/env bash
# The speed table of issue #7, like llama-bench: prompt tokens/s (pp128,
# pp512), generation tokens/s (tg64), time to first token and peak resident
# memory, for each weight format and thread count, with the measured memory
# read bandwidth and the generation speed it bounds (bandwidth / weight bytes
# read per generated token). Through the library (gemma3n-decode-bench
# --suite, a process per row so its peak memory is its own) and, with
# --system, through the full gRPC system (gemma3n serve, text only). With
# --peer-bench, llama.cpp's llama-bench on GGUF conversions of the same
# weights, in the same sitting: each of its cells runs right after ours (same
# format and threads, a process each), and a second table gives the ratios.
#
#   bash bench/speed_table.sh CKPT_DIR [--formats "bf16 int8 int4"] [--threads "1 2"] [--system]
#        [--repetitions 3] [--preload]
#        [--peer-bench PATH/llama-bench --peer-gguf F16=FILE,Q8_0=FILE,Q4_0=FILE]
#
# The peer's formats at equal bits: bf16 <-> F16, int8 <-> Q8_0, int4 <-> Q4_0;
# a format without its GGUF has no peer row. llama-bench runs at its defaults
# but for -p 128,512 -n 64 -r REPETITIONS -t THREADS; its peak memory comes
# from GNU time, its JSON lines are read with jq. How to build llama.cpp and
# make the GGUF files: docs/performance.md.
#
# CKPT_DIR: e.g. from gemma3n-make-random-checkpoint. For --system the real
# tokenizer (scripts/fetch_tokenizer.sh) is linked in beside it when it has
# none. BUILD_DIR (default build) holds the binaries. Progress goes to
# stderr, the markdown table to stdout. Every process started here is
# stopped on exit or Ctrl-C.
set -euo pipefail
shopt -s inherit_errexit  # a failure inside $(...) stops the script too
cd "$(dirname "$0")/.."
usage() {
  echo "usage: bash bench/speed_table.sh CKPT_DIR [--formats \"bf16 int8 int4\"] [--threads \"1 2\"] [--system]" \
    "[--repetitions 3] [--preload] [--peer-bench PATH --peer-gguf F16=FILE,Q8_0=FILE,Q4_0=FILE]" >&2
  exit 2
}
[ $# -ge 1 ] || usage
CKPT=$(realpath "$1")
shift
FORMATS="bf16 int8 int4"
THREADS="1 2"
SYSTEM=0
REPS=3
PRELOAD=()
PEER_BENCH=""
PEER_GGUF=""
while [ $# -gt 0 ]; do
  case "$1" in
    --formats) FORMATS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --repetitions) REPS=$2; shift 2 ;;
    --system) SYSTEM=1; shift ;;
    --preload) PRELOAD=(--preload); shift ;;
    --peer-bench) PEER_BENCH=$(realpath "$2"); shift 2 ;;
    --peer-gguf) PEER_GGUF=$2; shift 2 ;;
    *) usage ;;
  esac
done
BIN=$(realpath "${BUILD_DIR:-build}/bin")
TOKENIZER=${XDG_CACHE_HOME:-$HOME/.cache}/gemma3n-grpc/tokenizer-gemma3/tokenizer.json
[ -f "$CKPT/config.json" ] || { echo "no config.json in $CKPT" >&2; exit 2; }
# The peer's GGUF file for each of our formats (bf16 -> F16 ...), from --peer-gguf.
declare -A PEER_FILE PEER_TYPE=([bf16]=F16 [int8]=Q8_0 [int4]=Q4_0)
if [ -n "$PEER_BENCH" ] || [ -n "$PEER_GGUF" ]; then
  [ -n "$PEER_BENCH" ] && [ -n "$PEER_GGUF" ] || { echo "--peer-bench and --peer-gguf go together" >&2; exit 2; }
  [ -x "$PEER_BENCH" ] || { echo "--peer-bench $PEER_BENCH is not an executable" >&2; exit 2; }
  for tool in jq /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "--peer-bench needs $tool (apt-get install ${tool##*/})" >&2; exit 2; }
  done
  IFS=, read -ra pairs <<<"$PEER_GGUF"
  for pair in "${pairs[@]}"; do
    type=${pair%%=*} file=${pair#*=}
    ours=""
    for f in "${!PEER_TYPE[@]}"; do [ "${PEER_TYPE[$f]}" = "$type" ] && ours=$f; done
    [ -n "$ours" ] && [ "$pair" != "$type" ] || { echo "--peer-gguf: '$pair' is not F16=FILE, Q8_0=FILE or Q4_0=FILE" >&2; exit 2; }
    [ -f "$file" ] || { echo "--peer-gguf: no file $file" >&2; exit 2; }
    PEER_FILE[$ours]=$(realpath "$file")
  done
fi

WORK=$(mktemp -d /tmp/gemma3n-speed-table-XXXXXX)
CHILD=""  # the benchmark or server running now
cleanup() {
  if [ -n "$CHILD" ] && kill -0 "$CHILD" 2>/dev/null; then
    kill -TERM "$CHILD" 2>/dev/null || true
    wait "$CHILD" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
exec 3>&2  # the terminal's stderr, also while a command's stderr goes to a log
trap 'echo "interrupted" >&3; exit 130' INT TERM

# Long commands run in the background and are waited for: bash runs a trap
# only once the foreground command ends, so Ctrl-C would otherwise wait for a
# whole benchmark (and background commands ignore SIGINT: the trap stops them).
run() {
  "$@" &
  CHILD=$!
  local rc=0
  wait "$CHILD" || rc=$?
  CHILD=""
  return $rc
}
log() { echo "[$(date +%T), load $(cut -d' ' -f1 /proc/loadavg)] $*" >&3; }
# field FILE KEY: the value under KEY in a TSV header + row.
field() { awk -F'\t' -v k="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == k) c = i } NR == 2 && c { print $c }' "$1"; }
# Numbers on stdin (one a line) -> "mean ± sd" (sample sd) with $1 decimals; mean_of: the mean only.
mean_sd() {
  awk -v d="$1" '{ v[++n] = $1; s += $1 } END { m = s / n; q = 0; for (i = 1; i <= n; i++) q += (v[i] - m) ^ 2
    printf "%.*f ± %.*f", d, m, d, (n > 1 ? sqrt(q / (n - 1)) : 0) }'
}
mean_of() { awk '{ s += $1; n++ } END { printf "%.4f", s / n }'; }
fail() { echo "$1 failed; its log:" >&3; tail -20 "$2" >&3; exit 1; }

declare -A BW BYTES
ROWS=() RATIO_ROWS=()
# row PATH F T PP128 PP512 TG TG_MEAN TTFT PEAK: one table line, with the bound.
row() {
  local bw=${BW[$3]} bytes=${BYTES[$2]}
  local bound pct
  bound=$(awk -v b="$bw" -v n="$bytes" 'BEGIN { printf "%.1f", b * 1e9 / n }')
  pct=$(awk -v t="$7" -v b="$bw" -v n="$bytes" 'BEGIN { printf "%.0f", 100 * t / (b * 1e9 / n) }')
  ROWS+=("| $1 | $2 | $3 | $4 | $5 | $6 | $8 | $9 | $bw | $(awk -v n="$bytes" 'BEGIN { printf "%.3f", n / 1e9 }') | $bound | $pct |")
}

# peer_cell F T OURS_TSV: llama-bench on F's GGUF with T threads; its row in
# the table and the ratios (ours / llama.cpp) against our row in OURS_TSV.
peer_cell() {
  local f=$1 t=$2 ours=$3 type=${PEER_TYPE[$1]}
  local json=$WORK/peer-$f-$t.jsonl plog=$WORK/peer-$f-$t.log
  log "llama.cpp: $type, $t threads"
  run /usr/bin/time -f %M -o "$WORK/peer-$f-$t.rss" "$PEER_BENCH" -m "${PEER_FILE[$f]}" -p 128,512 -n 64 \
    -r "$REPS" -t "$t" -o jsonl >"$json" 2>"$plog" || fail llama-bench "$plog"
  # ts N P: "mean ± sd" tokens/s of the test with n_prompt N and n_gen P.
  ts() { jq -r --argjson p "$1" --argjson g "$2" \
    'select(.n_prompt == $p and .n_gen == $g) | "\(.avg_ts * 100 | round / 100) ± \(.stddev_ts * 100 | round / 100)"' "$json"; }
  tsm() { jq -r --argjson p "$1" --argjson g "$2" 'select(.n_prompt == $p and .n_gen == $g) | .avg_ts' "$json"; }
  local peak
  peak=$(awk '{ printf "%.2f", $1 / 1e6 }' "$WORK/peer-$f-$t.rss")  # KB -> GB
  ROWS+=("| llama.cpp | $type | $t | $(ts 128 0) | $(ts 512 0) | $(ts 0 64) | – | $peak | ${BW[$t]} | – | – | – |")
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
  RATIO_ROWS+=("| $f / $type | $t | $(field "$ours" pp128) / $(tsm 128 0 | xargs printf '%.2f') |\
 $(ratio "$(field "$ours" pp128)" "$(tsm 128 0)") | $(field "$ours" pp512) / $(tsm 512 0 | xargs printf '%.2f') |\
 $(ratio "$(field "$ours" pp512)" "$(tsm 512 0)") | $(field "$ours" tg64) / $(tsm 0 64 | xargs printf '%.2f') |\
 $(ratio "$(field "$ours" tg64)" "$(tsm 0 64)") | $(printf '%.2f' "$(field "$ours" peak_rss_gb)") / $peak |")
}

for t in $THREADS; do
  log "read bandwidth, $t threads"
  run "$BIN"/gemma3n-bandwidth --threads "$t" --format tsv >"$WORK/bw-$t.tsv" 2>"$WORK/bw-$t.log" ||
    fail gemma3n-bandwidth "$WORK/bw-$t.log"
  BW[$t]=$(field "$WORK/bw-$t.tsv" read_gb_s)
done

# A short run per converted format first, so that the weight cache
# (text_worker/model/weight_cache.h) exists and every measured row loads the
# same way rather than the first one converting (other time, other peak).
for f in $FORMATS; do
  [ "$f" = bf16 ] && continue
  log "weight cache for $f"
  run "$BIN"/gemma3n-decode-bench --model "$CKPT" --suite --format tsv --weights "$f" --pp 8 --tg 1 --repetitions 1 \
    >/dev/null 2>"$WORK/prepare-$f.log" || fail gemma3n-decode-bench "$WORK/prepare-$f.log"
done

for f in $FORMATS; do
  for t in $THREADS; do
    log "library: $f, $t threads"
    out=$WORK/lib-$f-$t.tsv
    run "$BIN"/gemma3n-decode-bench --model "$CKPT" --suite --format tsv --weights "$f" --threads "$t" \
      --pp 128,512 --tg 64 --repetitions "$REPS" "${PRELOAD[@]}" >"$out" 2>"$WORK/lib-$f-$t.log" ||
      fail gemma3n-decode-bench "$WORK/lib-$f-$t.log"
    BYTES[$f]=$(field "$out" bytes_per_token)
    ms() { echo "$(field "$out" "$1") ± $(field "$out" "$1_sd")"; }  # mean ± sd of a test
    row library "$f" "$t" "$(ms pp128)" "$(ms pp512)" "$(ms tg64)" "$(field "$out" tg64)" \
      "$(printf '%.0f ± %.0f' "$(field "$out" ttft_ms)" "$(field "$out" ttft_ms_sd)")" \
      "$(printf '%.2f' "$(field "$out" peak_rss_gb)")"
    [ -n "${PEER_FILE[$f]:-}" ] && peer_cell "$f" "$t" "$out"
  done
done

if ((SYSTEM)); then
  # The checkpoint's files, plus a tokenizer for the gateway when it has none.
  MODEL=$WORK/model
  mkdir "$MODEL"
  for file in "$CKPT"/*; do ln -s "$file" "$MODEL/"; done
  if ! ls "$CKPT"/tokenizer.* >/dev/null 2>&1; then
    [ -f "$TOKENIZER" ] || { echo "no tokenizer: run scripts/fetch_tokenizer.sh" >&2; exit 2; }
    ln -s "$TOKENIZER" "$MODEL/tokenizer.json"
  fi
  ADDR=unix:$WORK/gateway.sock
  chat() { "$BIN"/gemma3n chat --addr "$ADDR" --raw "$@"; }
  # One measured request; prints its usage line (on stderr from gemma3n chat):
  # [FINISH_REASON_LENGTH: prompt 128 tokens, generated 64, first token 3.210 s, 9.3 tokens/s]
  request() {
    chat --prompt "$1" --max-new "$2" --ignore-eos >/dev/null 2>"$WORK/chat.err" || fail "gemma3n chat" "$WORK/chat.err"
    tail -1 "$WORK/chat.err"
  }
  # A raw prompt of exactly $1 tokens: repeated words, their number corrected
  # by what CountTokens says (BOS and the word pieces).
  exact_prompt() {
    local words=$1 n prompt
    for _ in 1 2 3 4 5; do
      prompt=$(printf 'word %.0s' $(seq "$words"))
      n=$(chat --prompt "$prompt" --count | cut -d' ' -f1)
      [ "$n" -eq "$1" ] && { echo "$prompt"; return; }
      words=$((words - n + $1))
    done
    echo "cannot build a prompt of $1 tokens (last: $n)" >&2
    return 1
  }
  usage_field() { sed -n "s/.*$1 \([0-9.]*\).*/\1/p"; }
  for f in $FORMATS; do
    for t in $THREADS; do
      log "gRPC system: $f, $t threads"
      slog=$WORK/serve-$f-$t.log
      "$BIN"/gemma3n serve --model "$MODEL" --listen "$ADDR" --no-vision --no-audio --weights "$f" --threads "$t" \
        "${PRELOAD[@]}" >"$slog" 2>&1 &
      CHILD=$!
      for _ in $(seq 2400); do
        grep -q "ready on" "$slog" && break
        kill -0 "$CHILD" 2>/dev/null || fail "gemma3n serve" "$slog"
        sleep 0.25
      done
      grep -q "ready on" "$slog" || fail "gemma3n serve (not ready in 10 minutes)" "$slog"
      if [ -z "${P128:-}" ]; then
        P128=$(exact_prompt 128)
        P512=$(exact_prompt 512)
      fi
      request "$P128" 4 >/dev/null  # warm-up: the measured shape, pages and buffers hot
      : >"$WORK/pp128" && : >"$WORK/pp512" && : >"$WORK/tg" && : >"$WORK/ttft"
      for _ in $(seq "$REPS"); do
        u=$(request "$P128" 64)
        ttft=$(usage_field "first token" <<<"$u")
        awk -v s="$ttft" 'BEGIN { print 128 / s }' >>"$WORK/pp128"
        awk -v s="$ttft" 'BEGIN { print 1000 * s }' >>"$WORK/ttft"
        sed -n 's/.* \([0-9.]*\) tokens\/s.*/\1/p' <<<"$u" >>"$WORK/tg"
        u=$(request "$P512" 1)
        awk -v s="$(usage_field "first token" <<<"$u")" 'BEGIN { print 512 / s }' >>"$WORK/pp512"
      done
      # Peak resident memory of each process of the system (not the supervisor).
      declare -A peak=()
      for pid in $(cat "/proc/$CHILD/task/$CHILD/children"); do
        name=$(basename "$(tr '\0' ' ' <"/proc/$pid/cmdline" | cut -d' ' -f1)")
        peak[$name]=$(awk '/VmHWM/ { printf "%.2f", $2 / 1e6 }' "/proc/$pid/status")
      done
      peaks="text worker ${peak[gemma3n-text-worker]:-?} + PLE ${peak[gemma3n-ple-service]:-?} + gateway ${peak[gemma3n-gateway]:-?}"
      peaks="$peaks = $(printf '%s\n' "${peak[@]}" | awk '{ s += $1 } END { printf "%.2f", s }')"
      kill -TERM "$CHILD"
      wait "$CHILD" 2>/dev/null || true
      CHILD=""
      row gRPC "$f" "$t" "$(mean_sd 2 <"$WORK/pp128")" "$(mean_sd 2 <"$WORK/pp512")" "$(mean_sd 2 <"$WORK/tg")" \
        "$(mean_of <"$WORK/tg")" "$(mean_sd 0 <"$WORK/ttft")" "$peaks"
    done
  done
fi
log done

echo "$(basename "$CKPT"), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores;" \
  "$REPS repetitions (mean ± sd)${PRELOAD:+, weights preloaded}"
echo
echo "| path | weights | threads | pp128 t/s | pp512 t/s | tg64 t/s | TTFT ms | peak RSS GB | bandwidth GB/s | bytes/token GB | bound t/s | % of bound |"
echo "|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
echo
echo "TTFT: a 128-token prompt to its first token. Library: fresh cache, prefill + first token, after one" \
  "warm-up. gRPC: time from the gateway's request to the first token (gemma3n chat usage); ppN = N / TTFT" \
  "of an N-token prompt; tg64 = decode tokens/s of 64 new tokens. Bound = bandwidth / weight bytes read per" \
  "generated token (the rows a decode step reads: the activation-sparse layers' up and down projections" \
  "only at the channels the top-k keeps, bench/decode_weight_bytes.h; tables before issue #18 counted" \
  "them dense); bandwidth:" \
  "gemma3n-bandwidth, best of 5 passes over 2 GB with that many threads."
if ((${#RATIO_ROWS[@]})); then
  echo
  echo "Side by side, the same sitting: llama.cpp $("$PEER_BENCH" --version 2>&1 | grep -m1 -o 'version: .*' || echo '(version unknown)')" \
    "(llama-bench -p 128,512 -n 64 -r $REPS, its defaults otherwise), each cell right after ours; ratio = ours / llama.cpp."
  echo
  echo "| weights (ours / llama.cpp) | threads | pp128 t/s | ratio | pp512 t/s | ratio | tg64 t/s | ratio | peak RSS GB |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
  printf '%s\n' "${RATIO_ROWS[@]}"
fi
