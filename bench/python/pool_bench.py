"""Python's side of fanout's Pool benchmark (bench/pool.ts runs it and reads its JSON).

Times multiprocessing.Pool.map, default chunking, on the same work as bench/tasks.ts:
the tiny task (x + 1 over N items) and the CPU-bound task (counting the primes in a range of
2000 numbers per item, by the same trial division). Prints one JSON object on stdout.
Each measurement runs once as a warm-up (not reported), then `--reps` times.
"""

import argparse
import json
import multiprocessing
import os
import platform
import sys
import time

PRIME_RANGE_WIDTH = 2000
PRIME_RANGE_BASE = 10_000_000


def add_one(x):
    return x + 1


def count_primes(item):
    start = PRIME_RANGE_BASE + item * PRIME_RANGE_WIDTH
    end = start + PRIME_RANGE_WIDTH
    count = 0
    for n in range(start | 1, end, 2):
        prime = True
        d = 3
        while d * d <= n:
            if n % d == 0:
                prime = False
                break
            d += 2
        if prime:
            count += 1
    return count


def timed(pool, fn, items, reps, check):
    """Seconds per pool.map call: one warm-up, then `reps` timed calls."""
    seconds = []
    for rep in range(reps + 1):
        start = time.perf_counter()
        results = pool.map(fn, items)
        elapsed = time.perf_counter() - start
        check(results)
        if rep > 0:
            seconds.append(elapsed)
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--items", type=int, default=1_000_000, help="tiny items per map (0: skip)")
    parser.add_argument("--cpu-items", type=int, default=160, help="CPU-bound items per map (0: skip)")
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()

    tiny_items = list(range(args.items))
    cpu_items = list(range(args.cpu_items))
    expected_tiny_last = args.items  # add_one(items - 1)

    def check_tiny(results):
        if len(results) != args.items or (results and results[-1] != expected_tiny_last):
            raise SystemExit("pool_bench.py: wrong results from the tiny map")

    expected_cpu = None

    def check_cpu(results):
        nonlocal expected_cpu
        if len(results) != args.cpu_items:
            raise SystemExit("pool_bench.py: wrong results from the CPU-bound map")
        if expected_cpu is None:
            expected_cpu = results
        elif results != expected_cpu:
            raise SystemExit("pool_bench.py: the CPU-bound map gave different results")

    cpu_one, cpu_pool = [], []
    with multiprocessing.Pool(args.processes) as pool:
        tiny = timed(pool, add_one, tiny_items, args.reps, check_tiny) if args.items > 0 else []
        if args.cpu_items > 0:
            cpu_pool = timed(pool, count_primes, cpu_items, args.reps, check_cpu)
    if args.cpu_items > 0:
        with multiprocessing.Pool(1) as pool:
            cpu_one = timed(pool, count_primes, cpu_items, args.reps, check_cpu)

    json.dump(
        {
            "python": platform.python_version(),
            "startMethod": multiprocessing.get_start_method(),
            "processes": args.processes,
            "cores": os.cpu_count(),
            "tiny": {"items": args.items, "seconds": tiny},
            "cpu": {"items": args.cpu_items, "onePoolSeconds": cpu_one, "poolSeconds": cpu_pool},
        },
        sys.stdout,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
