"""10^5 ask/tell calls from Python: resident memory stays flat."""

import nascent


def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def test_no_leak_over_1e5_ask_tell(evaluator):
    s = nascent.strategy("rea", population=20)
    gen = nascent.Generator(0)

    def steps(n):
        for i in range(n):
            cell = s.ask(gen)
            if i % 3 == 0:
                s.tell(cell, evaluator(cell))  # a dict of metrics
            elif i % 3 == 1:
                s.tell(cell, 50.0 + (i % 7))
            else:
                s.tell(cell, None)  # failed

    steps(20_000)  # warm up allocator pools and interned names
    before = rss_kib()
    steps(100_000)
    grown = rss_kib() - before
    # A leak of even one cell (8 bytes) per call would add > 780 KiB.
    assert grown < 512, f"RSS grew by {grown} KiB over 10^5 ask/tell"
