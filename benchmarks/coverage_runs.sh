#!/bin/bash
# The runs behind the coverage table of benchmarks/README.md ("Coverage with the
# defaults"): library-default fits of the named protocols, started together on one
# GPU (their times are not timings: each file records --shared-device), each scored
# with and without the calibration a prediction applies, each resumable from its
# checkpoint (and log) in $CKPT. Every job stops $STOP seconds after the start (default: none).
#
# usage: [DATA=../shared/data] [RESULTS=benchmarks/results] [CKPT=.bench/ck] \
#        [STOP=seconds] bash benchmarks/coverage_runs.sh JOB...
# jobs: ettm1 pm25 physio exchange elec traffic ili
set -u
DATA=${DATA:-../shared/data}; RESULTS=${RESULTS:-benchmarks/results}
CKPT=${CKPT:-.bench/ck}; STOP=${STOP:-0}
mkdir -p "$RESULTS" "$CKPT"
F="dpmpp_2m:10,dpmpp_2m:10:rate=none"  # forecasters: adaptive calibration off
I="dpmpp_2m:10,dpmpp_2m:10:cal=none"   # imputers: no calibration on the input
job() {
  case $1 in
  ettm1) echo forecasting.py ettm1 --horizon 96 --context 336 --data $DATA/ett --samplers $F --tag c336_defaults_rate1 ;;
  pm25) echo pm25.py --samplers $I --no-baselines --tag coverage --data $DATA/beijing_pm25_stmvl ;;
  physio) echo physionet.py --samplers $I --no-baselines --tag coverage --data $DATA/physionet2012 ;;
  exchange) echo forecasting.py exchange_rate --data $DATA/exchange_rate --no-baselines --samplers $F --tag coverage ;;
  elec) echo forecasting.py electricity_weekly --data $DATA/monash --no-baselines --samplers $F --tag coverage ;;
  traffic) echo forecasting.py traffic_weekly --data $DATA/monash --no-baselines --samplers $F --tag coverage ;;
  ili) echo forecasting.py ili --data $DATA/ili --no-baselines --samplers $F --tag coverage ;;
  *) echo "unknown job $1" >&2; exit 2 ;;
  esac
}
for j in "$@"; do
  limit=(); [ "$STOP" -gt 0 ] && limit=(timeout "$STOP")
  "${limit[@]}" python benchmarks/$(job $j) --shared-device $# --results "$RESULTS" \
    --checkpoint "$CKPT/$j.pt" > "$CKPT/log_$j.txt" 2>&1 &
done
wait
