#!/bin/bash
# PyPOTS's CSDI and SAITS (benchmarks/_pypots.py) beside tsdiff and the baselines on
# PM2.5 and PhysioNet 10 %, with the papers' settings, on a GPU machine without
# internet whose commands stop after 10 minutes: each call does at most about
# $STOP seconds of training or prediction and the same command run again resumes
# from $CKPT. It prints NEXT (run it again) or DONE.
#
# usage: [DATA=../shared/data] [RESULTS=benchmarks/results] [CKPT=.bench/pypots_ck]
#        [WHEELS=.bench/wheels] [STOP=360] [TSDIFF_COMMIT=sha] [EXTRA=options] \
#        bash benchmarks/peers_pypots.sh pm25|physionet
# (EXTRA: more options for every call, e.g. EXTRA=--smoke for a check on a CPU.)
#
# Per protocol, in order:
#  1. the peers alone (--no-tsdiff --no-baselines), SAITS then CSDI, until each has
#     its fit and its predictions in $CKPT (CSDI's 200 epochs outlast many calls);
#  2. one run of tsdiff (library defaults, resumable with --checkpoint), the
#     baselines and the peers (read back from $CKPT: their fit and predict seconds
#     are those measured in step 1, on the cards their records name), which
#     writes $RESULTS/pm25_pypots.json or physionet_10_pypots.json.
# pypots is installed offline first if it is missing: the wheels of
# benchmarks/requirements-pypots.txt in $WHEELS (see that file).
#
# On the device tool (a fresh machine per session, ../shared not copied): carry
# .bench/data (cp -r ../shared/data/{beijing_pm25_stmvl,physionet2012} .bench/data),
# the wheels and $CKPT, and pass DATA=.bench/data. The GPU image already has every
# unpinned package of the requirements, so a folder of the ten pinned wheels
# (pypots tsdb pygrinder benchpots nonlinear_benchmarks progressbar2 ai4ts
# transformers tokenizers huggingface_hub, 17 MB) will do as WHEELS. Where $OUT is
# set, $CKPT is packed into $OUT/pypots_ck.tar.part-* (files under 15 MiB: SAITS's
# PhysioNet weights, 20 MiB, stay behind, which is fine once its predictions are
# saved); unpack them with: mkdir -p .bench && cat PARTS | tar -x -C .bench
#
# Estimated on one H100 from the CSDI code's own times on our copies of the data
# (../shared/docs/BENCHMARKS.md: 12.6 s per PM2.5 epoch at batch 16, PhysioNet
# test 18-30 min; PyPOTS runs the same network and one-sample-at-a-time sampler):
#   pm25:      CSDI fit ~45 min, predict ~2 min; SAITS ~5 min; step 2 ~10 min
#   physionet: CSDI fit ~30 min, predict ~20 min; SAITS ~5 min; step 2 ~10 min
# about 11-12 calls per protocol, 2.5 hours of device time in all.
set -u
PROTOCOL=${1:?usage: bash benchmarks/peers_pypots.sh pm25|physionet}
DATA=${DATA:-../shared/data}; RESULTS=${RESULTS:-benchmarks/results}
CKPT=${CKPT:-.bench/pypots_ck}; WHEELS=${WHEELS:-.bench/wheels}; STOP=${STOP:-360}
read -r -a EXTRA <<< "${EXTRA:-}"; SMOKE=""
case " ${EXTRA[*]} " in *" --smoke "*) SMOKE=_smoke ;; esac
case $PROTOCOL in
  pm25) SCRIPT=pm25.py; NAME=pm25; ARGS=(--data "$DATA/beijing_pm25_stmvl") ;;
  physionet) SCRIPT=physionet.py; NAME=physionet_10
    ARGS=(--data "$DATA/physionet2012" --ratios 0.1 --peer-predict-batch 64) ;;
  *) echo "unknown protocol $PROTOCOL (pm25 or physionet)" >&2; exit 2 ;;
esac
ARGS+=("${EXTRA[@]}"); OUTPUT=$RESULTS/${NAME}_pypots$SMOKE.json
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
python3 -c "import pypots" 2>/dev/null || python3 -m pip install -q --no-index \
  --no-deps --find-links "$WHEELS" -r benchmarks/requirements-pypots.txt || exit 1
mkdir -p "$CKPT"
left() { local l=$((STOP - SECONDS)); echo $((l > 30 ? l : 30)); }  # seconds
pack() {
  [ -n "${OUT:-}" ] || return 0
  (cd "$(dirname "$CKPT")" && find "$(basename "$CKPT")" -type f -size -15M \
    | tar -c -T - | split -b 15m - "$OUT/pypots_ck.tar.part-")
  cp "$OUTPUT" "${OUTPUT%.json}.md" "$OUT/" 2>/dev/null || true
}
for model in SAITS CSDI; do  # step 1
  [ -f "$CKPT/${NAME}_$model.done" ] && continue
  python3 benchmarks/$SCRIPT "${ARGS[@]}" --no-tsdiff --no-baselines --peers pypots \
    --peer-models $model --peer-checkpoint "$CKPT" --peer-max-time "$(left)" \
    --tag "peers_$model" --results "$CKPT/alone" || exit 1
  if [ ! -f "$CKPT/alone/${NAME}_peers_$model$SMOKE.json" ]; then
    pack; echo "NEXT: $model is not finished; run the same command again"; exit 0
  fi
  touch "$CKPT/${NAME}_$model.done"
  if [ $((STOP - SECONDS)) -lt 120 ]; then pack; echo "NEXT: run the same command again"; exit 0; fi
done
python3 benchmarks/$SCRIPT "${ARGS[@]}" --peers pypots --peer-checkpoint "$CKPT" \
  --peer-max-time "$(left)" --checkpoint "$CKPT/tsdiff_$NAME.pt" \
  --max-fit-time "$(left)" --tag pypots --results "$RESULTS" || exit 1  # step 2
pack
if [ -f "$OUTPUT" ] && [ "$OUTPUT" -nt "$CKPT/${NAME}_CSDI.done" ]; then
  echo "DONE: $OUTPUT"
else
  echo "NEXT: tsdiff's fit is not finished; run the same command again"
fi
