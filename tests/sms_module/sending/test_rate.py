"""The cluster-wide per-number rate, against a real Redis."""

from __future__ import annotations

import multiprocessing

import pytest
import redis

from plugins.sms_module.sending.rate import SenderRate, breaches

NUMBER = "+14386013562"
OTHER = "+14386013492"
FOREVER = 1e6  # a max_wait no reservation reaches


@pytest.fixture
def client(redis_url):
    connection = redis.Redis.from_url(redis_url)
    connection.flushdb()
    yield connection
    connection.close()


def reserve_many(limiter, number, sizes, rate, max_wait=FOREVER):
    """Reserve ``sizes`` in order; return the granted (time, segments)."""
    log = []
    for size in sizes:
        slot = limiter.reserve(number, size, rate, max_wait)
        assert slot.send_at is not None
        log.append((slot.send_at, size))
    return log


def test_breaches_counts_overloaded_windows():
    assert breaches([(0.0, 1), (0.5, 1), (1.2, 1)], rate=2) == 0
    assert breaches([(0.0, 1), (0.5, 1), (0.9, 1)], rate=2) == 1
    assert breaches([(0.0, 2), (0.99, 1), (2.0, 3), (2.5, 1)], rate=2) == 2
    assert breaches([(0.0, 3)], rate=1) == 0  # an oversized message alone is allowed
    assert breaches({"a": [(0.0, 1), (0.1, 1)], "b": [(0.0, 1)]}, rate=1) == 1


def test_single_number_is_never_over_booked_and_windows_are_packed(client):
    limiter = SenderRate(client, margin_seconds=0)
    log = reserve_many(limiter, NUMBER, [1] * 50, rate=5)
    assert breaches(log, 5) == 0
    times = [t for t, _ in log]
    assert times == sorted(times)
    start = times[0]
    # Window k is full: 5 sends at start + k, so the throughput is exactly the rate.
    for k in range(10):
        group = [t for t in times if start + k - 1e-6 <= t < start + k + 0.5]
        assert len(group) == 5, (k, group)
    assert times[-1] - start == pytest.approx(9, abs=0.2)


def test_margin_widens_the_window(client):
    limiter = SenderRate(client, margin_seconds=0.03)
    log = reserve_many(limiter, NUMBER, [1] * 6, rate=2)
    times = [t for t, _ in log]
    # Each send waits for the one two places before it to leave its 1.03-second window.
    for i in range(2, 6):
        assert times[i] - times[i - 2] == pytest.approx(1.03, abs=1e-5)
    assert times[2] - times[1] > 0.9
    assert breaches(log, 2) == 0 and breaches(log, 1) == 3


def test_multi_segment_messages_count_their_segments(client):
    limiter = SenderRate(client, margin_seconds=0)
    sizes = [3, 2, 1, 3, 3, 1, 2, 2, 1, 3] * 6
    log = reserve_many(limiter, NUMBER, sizes, rate=4)
    assert breaches(log, 4) == 0
    # Packed in order: a window closes only when the next message does not fit in it.
    windows: dict[int, list[int]] = {}
    for t, size in log:
        windows.setdefault(round(t - log[0][0]), []).append(size)
    assert sorted(windows) == list(range(len(windows)))  # no idle second
    for k in range(len(windows) - 1):
        assert sum(windows[k]) + windows[k + 1][0] > 4, (k, windows[k], windows[k + 1])


def test_a_message_above_the_rate_goes_alone_and_holds_the_number(client):
    limiter = SenderRate(client, margin_seconds=0)
    first = limiter.reserve(NUMBER, 1, 1, FOREVER)
    big = limiter.reserve(NUMBER, 3, 1, FOREVER)
    after = limiter.reserve(NUMBER, 1, 1, FOREVER)
    assert big.send_at - first.send_at == pytest.approx(1, abs=1e-5)  # waits for an empty window
    assert after.send_at - big.send_at == pytest.approx(3, abs=1e-5)  # 3 segments at 1/s
    log = [(first.send_at, 1), (big.send_at, 3), (after.send_at, 1)]
    assert breaches(log, 1) == 0


def test_refused_reservation_records_nothing(client):
    limiter = SenderRate(client, margin_seconds=0)
    assert limiter.reserve(NUMBER, 1, 1, max_wait=0).wait == 0
    refused = limiter.reserve(NUMBER, 1, 1, max_wait=0.2)
    assert refused.send_at is None and not refused.granted
    assert 0.2 < refused.retry_after <= 1.0
    assert len(limiter.log(NUMBER)) == 1  # the refusal left no trace
    granted = limiter.reserve(NUMBER, 1, 1, max_wait=2)
    assert granted.granted and 0 < granted.wait <= refused.retry_after
    assert len(limiter.log(NUMBER)) == 2


def test_different_numbers_do_not_interfere(client):
    limiter = SenderRate(client, margin_seconds=0)
    a = limiter.reserve(NUMBER, 1, 1, max_wait=0)
    b = limiter.reserve(OTHER, 1, 1, max_wait=0)
    assert a.granted and b.granted and a.wait == b.wait == 0
    assert not limiter.reserve(NUMBER, 1, 1, max_wait=0).granted


def test_keys_expire_and_old_entries_are_pruned(client):
    limiter = SenderRate(client, margin_seconds=0)
    reserve_many(limiter, NUMBER, [1] * 3, rate=1)
    log_key, seq_key = SenderRate.keys(NUMBER)
    assert 0 < client.pttl(log_key) <= 4000 and 0 < client.pttl(seq_key) <= 4000


def test_bad_arguments_are_refused(client):
    limiter = SenderRate(client)
    with pytest.raises(ValueError):
        limiter.reserve(NUMBER, 0, 1, 1)
    with pytest.raises(ValueError):
        limiter.reserve(NUMBER, 1, 0, 1)


def _reserve_in_process(url, numbers, count, rate, queue):
    """Child process: reserve ``count`` sends round-robin on ``numbers``, report them."""
    connection = redis.Redis.from_url(url)
    limiter = SenderRate(connection)
    sizes = [1, 2, 3]
    out = []
    for i in range(count):
        number = numbers[i % len(numbers)]
        size = sizes[i % 3]
        slot = limiter.reserve(number, size, rate, FOREVER)
        out.append((number, slot.send_at, size))
    queue.put(out)


def test_processes_reserving_at_once_never_over_book(client, redis_url):
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    numbers, rate, per_process = [NUMBER, OTHER], 20, 120
    processes = [
        context.Process(
            target=_reserve_in_process, args=(redis_url, numbers, per_process, rate, queue)
        )
        for _ in range(4)
    ]
    for process in processes:
        process.start()
    results = [queue.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    logs: dict[str, list[tuple[float, int]]] = {n: [] for n in numbers}
    for result in results:
        for number, at, size in result:
            logs[number].append((at, size))
    assert sum(len(v) for v in logs.values()) == 4 * per_process
    assert breaches(logs, rate) == 0
    for number, log in logs.items():
        # In order, a window loses at most 2 of its 20 segments to a 3-segment message.
        segments = sum(size for _, size in log)
        span = max(t for t, _ in log) - min(t for t, _ in log)
        assert segments / rate * 1.03 - 1.1 <= span <= segments / (rate - 2) * 1.03, number


def test_a_released_reservation_gives_its_room_back(client):
    limiter = SenderRate(client, margin_seconds=0)
    kept = limiter.reserve(NUMBER, 1, 2, max_wait=0)
    unused = limiter.reserve(NUMBER, 1, 2, max_wait=0)
    assert kept.granted and unused.granted and unused.entry
    assert not limiter.reserve(NUMBER, 1, 2, max_wait=0).granted  # the window is full
    limiter.release(NUMBER, unused)
    assert limiter.log(NUMBER) == [(kept.send_at, 1)]
    again = limiter.reserve(NUMBER, 1, 2, max_wait=0)
    assert again.granted and again.wait == 0  # the room went to the next send
    assert breaches([(kept.send_at, 1), (again.send_at, 1)], 2) == 0


def test_a_lead_puts_the_slot_after_the_callers_work(client):
    limiter = SenderRate(client, margin_seconds=0)
    slot = limiter.reserve(NUMBER, 1, 5, max_wait=1, lead=0.2)
    assert slot.granted and slot.wait == pytest.approx(0.2, abs=0.01)
    # A lead beyond max_wait is refused and records nothing.
    refused = limiter.reserve(OTHER, 1, 5, max_wait=0.1, lead=0.2)
    assert not refused.granted and refused.retry_after == pytest.approx(0.2, abs=0.01)
    assert limiter.log(OTHER) == []


def _exit(client, number, reservation):
    return client.zscore(SenderRate.keys(number)[0], reservation.entry)


def test_a_settled_send_counts_from_when_the_carrier_took_it(client):
    """Booked with a wide margin, a send settled at once frees its room 1 s after it left,
    not 1 s plus the margin after its slot."""
    limiter = SenderRate(client, margin_seconds=0.5)
    sent = limiter.reserve(NUMBER, 1, 1, max_wait=0)
    assert _exit(client, NUMBER, sent) == pytest.approx(sent.send_at + 1.5, abs=1e-5)
    # The carrier took the send before it was settled: the clock read before the settle is
    # no later than the send (read after, a busy machine could put it past the send).
    seconds, micros = client.time()
    now = seconds + micros / 1e6
    settled = limiter.settle(NUMBER, sent)
    assert settled == pytest.approx(now + 1.001, abs=0.05)
    assert settled < sent.send_at + 1.5 - 0.3
    assert _exit(client, NUMBER, sent) == pytest.approx(settled, abs=1e-5)
    following = limiter.reserve(NUMBER, 1, 1, max_wait=FOREVER)
    assert following.send_at == pytest.approx(settled, abs=1e-5)
    # The carrier's window (t − 1, t] of the following send cannot hold the settled one.
    assert breaches([(now, 1), (following.send_at, 1)], 1) == 0


def test_a_settled_oversized_message_keeps_the_number_for_its_segments(client):
    limiter = SenderRate(client, margin_seconds=0.5)
    big = limiter.reserve(NUMBER, 3, 1, max_wait=0)
    settled = limiter.settle(NUMBER, big)
    after = limiter.reserve(NUMBER, 1, 1, max_wait=FOREVER)
    assert after.send_at == pytest.approx(settled, abs=1e-5)
    assert after.send_at - big.send_at == pytest.approx(3.001, abs=0.05)


def test_a_late_send_pushes_its_window_later(client):
    """With no margin any send settles after its booked exit: the exit moves later, and what
    is booked from then on makes room for it."""
    limiter = SenderRate(client, margin_seconds=0)
    sent = limiter.reserve(NUMBER, 1, 1, max_wait=0)
    booked_exit = _exit(client, NUMBER, sent)
    settled = limiter.settle(NUMBER, sent)
    assert settled > booked_exit
    following = limiter.reserve(NUMBER, 1, 1, max_wait=FOREVER)
    assert following.send_at == pytest.approx(settled, abs=1e-5)


def test_settling_what_is_gone_does_nothing(client):
    limiter = SenderRate(client, margin_seconds=0.03)
    gone = limiter.reserve(NUMBER, 1, 2, max_wait=0)
    limiter.release(NUMBER, gone)
    assert limiter.settle(NUMBER, gone) is None
    assert limiter.log(NUMBER) == []
    assert limiter.settle(NUMBER, type(gone)(send_at=None, wait=0, retry_after=1)) is None
