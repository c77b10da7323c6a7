"""The question batcher alone: a normal client's embedding latency beside four clients sending
1,000-character questions, with and without the long questions' share (``short_share``).

The real question encoder (ONNX Runtime, default settings) behind two batchers in one
process: one as the service runs it, one with ``short_share=0`` (the order before the share:
cheapest first, anticipation, patience). Rounds alternate between them; in each, a normal
client embeds new seed-like questions back to back, with a fixed pause between answer and
next question standing for its HTTP round trip and ranking (``THINK``), **alone** and then
**with load** (four threads embedding distinct 1,000-character questions, cut to the token
cap, back to back). Reported: the normal client's p50 with load ÷ p50 alone for each batcher
(median over the rounds) and the long questions' answers per second. No HTTP, no event loop:
what is left is the scheduler and the cores.

``--simulated`` replaces the model by a pause as long as a batch takes on a quiet machine
(``BASE + PER_TOKEN`` × its padded tokens: about 4 ms for one short question, 20 ms for one at
the 128-token cap), so the scheduler's policy is measured apart from how busy the cores are.

    python -m bench.batcher_fairness [--quick] [--simulated]
"""

from __future__ import annotations

import itertools
import statistics
import threading
import time
from typing import Any

from bench.common import bench_parser, print_rows, row, seed_questions, warmup_questions, write_result
from bench.expensive_clients import _long_questions

THINK = 0.003
SECONDS = 8.0
BASE, PER_TOKEN = 0.0016, 0.00014  # seconds a simulated batch takes: fixed, per padded token


def _phase(batcher: Any, encoder: Any, short: Any, long: Any, seconds: float,
           loaded: bool, think: float = THINK) -> tuple[list[float], int]:
    until = time.perf_counter() + seconds
    done = [0]

    def expensive() -> None:
        while time.perf_counter() < until:
            text = encoder.bounded(next(long))
            batcher.submit(text, encoder.tokens(text)).result()
            done[0] += 1

    threads = [threading.Thread(target=expensive) for _ in range(4 if loaded else 0)]
    for t in threads:
        t.start()
    latencies = []
    while time.perf_counter() < until:
        text = next(short)
        t0 = time.perf_counter()
        batcher.submit(text, encoder.tokens(text)).result()
        latencies.append((time.perf_counter() - t0) * 1000)
        time.sleep(think)
    for t in threads:
        t.join()
    return latencies, done[0]


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--think", type=float, default=THINK, metavar="SECONDS",
                        help=f"the normal client's pause between answer and next question "
                             f"(default {THINK})")
    parser.add_argument("--simulated", action="store_true",
                        help="a pause as long as the model would take instead of the model")
    args = parser.parse_args()
    from qa.embed.question_batcher import QueryBatcher
    from qa.embed.question_encoder import open_question_encoder
    from qa.settings import Settings

    encoder = open_question_encoder(Settings().embed)
    cap = encoder.max_tokens
    embed: Any = encoder.embed_many
    if args.simulated:
        def simulated(texts: list[str]) -> list[None]:
            time.sleep(BASE + PER_TOKEN * len(texts) * max(encoder.tokens(t) for t in texts))
            return [None] * len(texts)

        embed = simulated

    batchers = {"with the share (served)": QueryBatcher(embed, budget=4 * cap, alone=cap // 2),
                "without (short_share=0)": QueryBatcher(embed, budget=4 * cap, alone=cap // 2,
                                                        short_share=0.0)}
    short = (f"{q} ({i})" for i, q in enumerate(itertools.cycle(warmup_questions(200))))
    long = _long_questions(seed_questions())
    seconds = 3.0 if args.quick else SECONDS
    for batcher in batchers.values():
        _phase(batcher, encoder, short, long, 1.0, True)  # warm-up
    found: dict[str, list[dict[str, float]]] = {name: [] for name in batchers}
    for _ in range(2 if args.quick else 3):
        for name, batcher in batchers.items():
            alone, _ = _phase(batcher, encoder, short, long, seconds, False, args.think)
            loaded, answered = _phase(batcher, encoder, short, long, seconds, True, args.think)
            found[name].append({"alone_p50": statistics.median(alone),
                                "loaded_p50": statistics.median(loaded),
                                "ratio": statistics.median(loaded) / statistics.median(alone),
                                "long_per_s": answered / seconds})
    rows = []
    for name, rounds in found.items():
        ratios = [r["ratio"] for r in rounds]
        rows.append(row(f"normal p50 with load ÷ alone, {name}", round(statistics.median(ratios), 2),
                        "×", "rounds: " + ", ".join(f"{r:.2f}" for r in ratios)))
        rows.append(row(f"normal p50 alone / with load, {name}",
                        f"{statistics.median(r['alone_p50'] for r in rounds):.1f} / "
                        f"{statistics.median(r['loaded_p50'] for r in rounds):.1f}", "ms",
                        "embedding only"))
        rows.append(row(f"long questions answered per second, {name}",
                        round(statistics.median(r["long_per_s"] for r in rounds), 1), "q/s", ""))
    print_rows(f"The batcher beside four clients sending 1,000-character questions "
               f"(think {args.think * 1000:g} ms{', simulated' if args.simulated else ''})", rows)
    name = ("batcher_fairness" + ("+simulated" if args.simulated else "")
            + (f"+think={args.think:g}" if args.think != THINK else ""))
    write_result(name, {"think_seconds": args.think, "seconds": seconds, "simulated": args.simulated,
                        "rounds": found, "summary": rows}, args.quick)


if __name__ == "__main__":
    main()
