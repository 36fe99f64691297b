"""This tree against a previous checkout, alternately in one run: ``scripts/bench.py``'s profile rows, and the same
numbers bit for bit (issue 18: "the ratios before and after, measured alternately against the previous main").

Each round runs ``bench.py --sections profile`` of the previous tree, then of this one, in fresh processes (so
the two compete for the same machine state, round after round); a row's figures are the medians over rounds,
and the speed-up is the median of the per-round ratios of the simulator's throughput. Before timing, a few
fixed runs of ``simulate`` (profile and order-statistic modes, duplicates, pools, several units) are summarised
by a fingerprint of their raw moments in each tree: equal fingerprints mean the same numbers to the bit.

    git worktree add /tmp/prev <commit>          # or: git archive <commit> | tar -x -C /tmp/prev
    python scripts/bench_against.py --previous /tmp/prev --rounds 3
    python scripts/bench_against.py --previous /tmp/prev --rounds 1 --seconds 0.5 --n 10   # quick
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve()
ROOT = HERE.parents[1]
#: (mechanisms, distribution, n, units, mode) of the fingerprinted runs
FINGERPRINT_RUNS = (
    (["spa", "spa:reserve=monopoly", "lottery", "myerson", "ks", "nash", "cross-nash", "spa:reserve=0.5",
      "mix:0.5*spa+0.5*lottery", "buyer-offer"], "exponential:rate=1", 10, 1, "profile"),
    (["spa", "spa:reserve=monopoly", "lottery"], "exponential:rate=1", 1000, 1, "profile"),
    (["spa", "lottery", "myerson"], "uniform:low=0,high=2", 7, 3, "profile"),
    (["ivickrey:bids=0-1/2/3-inf,reserve=0.5", "spa", "mix:0.5*spa+0.5*lottery"], "exponential:rate=1", 10, 1,
     "profile"),
    (["spa", "myerson", "lottery"], "pareto:shape=3,scale=1", 5, 1, "profile"),
    (["spa", "lottery", "spa:reserve=monopoly", "spa"], "exponential:rate=1", 10 ** 6, 1, "orderstat"),
)


def fingerprints() -> list[str]:
    """sha-256 (16 hex digits) of the raw moments of each of FINGERPRINT_RUNS, by the ``simulator`` this process
    imports."""
    from distributions import Market
    from simulator import simulate

    out = []
    for mechs, dist, n, m, mode in FINGERPRINT_RUNS:
        res = simulate(mechs, Market.iid(dist, n, m=m), samples=60_000, seed=11, mode=mode, exact=False,
                       benchmarks=False, progress=False)
        digest = hashlib.sha256(res.moments.mean.tobytes() + res.moments.comoment.tobytes())
        out.append(digest.hexdigest()[:16])
    return out


def _run(tree: Path, args: list[str]) -> str:
    """stdout of ``python args`` with ``tree`` first on the import path (its own packages), from ``tree``."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    done = subprocess.run([sys.executable, *args], cwd=tree, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{tree}: {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def bench_rows(tree: Path, ns: list[int], seconds: float) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rows.json"
        _run(tree, ["scripts/bench.py", "--sections", "profile", "--seconds", str(seconds), "--json", str(out),
                    "--n", *map(str, ns)])
        return json.loads(out.read_text())


def _key(row: dict) -> str:
    return f"ten@n={row['n']}" if "ten_over_three_cost" in row else f"n={row['n']}"


def summarise(rounds: list[tuple[list[dict], list[dict]]]) -> list[dict]:
    """Median figures per row over the rounds (previous, this)."""
    table = []
    for key in [_key(r) for r in rounds[0][1] if any(_key(o) == _key(r) for o in rounds[0][0])]:
        pairs = [(next(r for r in old if _key(r) == key), next(r for r in new if _key(r) == key))
                 for old, new in rounds]
        if key.startswith("ten"):
            table.append({"row": key, "previous_ten_over_three": statistics.median(o["ten_over_three_cost"]
                                                                                   for o, _ in pairs),
                          "ten_over_three": statistics.median(n["ten_over_three_cost"] for _, n in pairs),
                          "ten_distinct_over_three": statistics.median(n.get("ten_distinct_over_three_cost", 0.0)
                                                                       for _, n in pairs)})
            continue
        table.append({"row": key, "previous_ratio": statistics.median(o["ratio"] for o, _ in pairs),
                      "ratio": statistics.median(n["ratio"] for _, n in pairs),
                      "ratio_to_generator_limit": statistics.median(n["ratio_to_generator_limit"] for _, n in pairs),
                      "speedup": statistics.median(n["simulator_values_per_s"] / o["simulator_values_per_s"]
                                                   for o, n in pairs)})
    return table


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--previous", type=Path, help="a checkout of the previous main (its scripts/bench.py is run)")
    p.add_argument("--rounds", type=int, default=3, help="alternations (default 3)")
    p.add_argument("--seconds", type=float, default=1.5, help="least time per measurement (default 1.5)")
    p.add_argument("--n", type=int, nargs="+", default=[2, 5, 10, 1000, 100000], help="market sizes")
    p.add_argument("--json", metavar="FILE", help="also write the table as JSON")
    p.add_argument("--fingerprint", action="store_true", help=argparse.SUPPRESS)  # internal: one tree's prints
    args = p.parse_args(argv)
    if args.fingerprint:
        import simulator

        print(json.dumps({"source": str(Path(simulator.__file__).resolve().parents[1]), "runs": fingerprints()}))
        return 0
    if args.previous is None or not (args.previous / "scripts" / "bench.py").is_file():
        p.error("--previous: a checkout with scripts/bench.py is required")
    previous = args.previous.resolve()
    prints = [json.loads(_run(tree, [str(HERE), "--fingerprint"])) for tree in (previous, ROOT)]
    for tree, got in zip((previous, ROOT), prints):
        if Path(got["source"]) != tree:
            raise SystemExit(f"{tree}: imported the simulator of {got['source']} instead")
    same = [got["runs"] for got in prints]
    print("same numbers to the bit as the previous tree:", same[0] == same[1], flush=True)
    rounds = []
    for r in range(args.rounds):
        rounds.append((bench_rows(previous, args.n, args.seconds), bench_rows(ROOT, args.n, args.seconds)))
        print(f"round {r + 1} of {args.rounds} done", flush=True)
    table = summarise(rounds)
    for row in table:
        if "ten_over_three" in row:
            print(f"{row['row']:>10}  ten mechanisms cost {row['previous_ten_over_three']:5.2f}x -> "
                  f"{row['ten_over_three']:5.2f}x the three "
                  f"(ten distinct rules: {row['ten_distinct_over_three']:5.2f}x)")
        else:
            print(f"{row['row']:>10}  ratio to numpy {row['previous_ratio']:6.1f}x -> {row['ratio']:6.1f}x  "
                  f"({row['ratio_to_generator_limit']:4.2f} of the generator limit), speed-up {row['speedup']:5.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps({"bit_identical": same[0] == same[1], "rows": table}, indent=2))
    return 0 if same[0] == same[1] else 1


if __name__ == "__main__":
    raise SystemExit(main())
