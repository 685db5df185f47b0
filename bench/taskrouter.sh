#!/usr/bin/env bash
# TaskRouter benchmarks (Go benchmarks in taskrouter/bench_test.go):
#
#   BenchmarkAssignmentDecisions     decisions/s with 10,000 waiting tasks and 1,000 busy workers
#                                    (complete → the engine picks the worker's next task → accept,
#                                    and a new task arrives)
#   BenchmarkTaskToReservation       task creation → reservation, in process, with 10,000 tasks
#                                    waiting and 1,000 free workers: p50 and p99
#   BenchmarkRESTTaskToReservation   the same through POST …/Tasks over loopback HTTP (1,000 free workers)
#   BenchmarkRESTTaskToReservationSQLite   … with the SQLite store behind the router
#
#   bench/taskrouter.sh                 # 5000 operations each
#   BENCHTIME=20000x bench/taskrouter.sh
set -euo pipefail
cd "$(dirname "$0")/.."
go test ./taskrouter -run '^$' -bench 'AssignmentDecisions|TaskToReservation' \
	-benchtime "${BENCHTIME:-5000x}" -benchmem
