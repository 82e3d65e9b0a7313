import pytest

from ansible_collections.vitality.aurora.plugins.module_utils.waiting import (
    WaitTimeout,
    check_wait_options,
    delays,
    wait_for,
    wait_or_fail,
)


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_backoff_doubles_up_to_a_bound():
    gen = delays(first=1, maximum=8)
    assert [next(gen) for _attempt in range(6)] == [1, 2, 4, 8, 8, 8]


def test_returns_the_state_that_satisfied_the_wait():
    states = iter([{"Status": "creating"}, {"Status": "backing-up"}, {"Status": "available"}])
    fake = FakeClock()
    state = wait_for(
        lambda: next(states),
        lambda s: s["Status"] == "available",
        "cluster c",
        "available",
        60,
        clock=fake.clock,
        sleep=fake.sleep,
    )
    assert state == {"Status": "available"}
    assert fake.sleeps == [1.0, 2.0]


def test_timeout_names_resource_last_state_and_time_waited():
    fake = FakeClock()
    with pytest.raises(WaitTimeout) as raised:
        wait_for(
            lambda: {"DBInstanceStatus": "modifying"},
            lambda s: False,
            "instance w",
            "available",
            30,
            clock=fake.clock,
            sleep=fake.sleep,
        )
    message = str(raised.value)
    assert "instance w" in message and "'modifying'" in message and "available" in message
    assert "Timed out after 30s" in message
    assert raised.value.waited == 30


@pytest.mark.parametrize("timeout", [15, 60, 61.5, 600])
def test_a_timeout_is_honoured_to_the_second_and_reported_truly(timeout):
    # Measured before: a 15 s timeout gave up at 7 s ("Timed out after 7s"), a 60 s one at 51 s.
    fake = FakeClock()
    reads = []

    def read():
        reads.append(fake.now)
        return {"Status": "modifying"}

    with pytest.raises(WaitTimeout) as raised:
        wait_for(read, lambda s: False, "cluster c", "available", timeout, clock=fake.clock, sleep=fake.sleep)
    # The last read is at the deadline, none after it, and the message says the time really waited.
    assert reads[-1] == timeout
    assert fake.now == timeout
    assert str(raised.value).startswith(f"Timed out after {timeout:.0f}s waiting for cluster c")
    # The backoff is kept until the deadline cuts the last pause short.
    assert fake.sleeps[:4] == [1.0, 2.0, 4.0, 8.0][: len(fake.sleeps[:4])]


def test_absent_resource_is_reported_as_absent():
    fake = FakeClock()
    with pytest.raises(WaitTimeout, match="'absent'"):
        wait_for(lambda: None, lambda s: s is not None, "cluster c", "available", 5, clock=fake.clock, sleep=fake.sleep)


def test_a_lower_poll_bound_reads_sooner_and_never_pauses_longer():
    states = iter([{"Status": "modifying"}] * 5 + [{"Status": "available"}])
    fake = FakeClock()
    wait_for(
        lambda: next(states),
        lambda s: s["Status"] == "available",
        "cluster c",
        "available",
        60,
        max_delay=0.25,
        clock=fake.clock,
        sleep=fake.sleep,
    )
    assert fake.sleeps == [0.25] * 5


@pytest.mark.parametrize(
    ("value", "valid"), [(0.1, True), (20.0, True), (300, True), (0, False), (0.05, False), (301, False)]
)
def test_poll_interval_rule_names_the_option_and_value(value, valid):
    class Module:
        params = {"wait_max_poll_interval": value}

        def fail_json(self, msg):
            raise AssertionError(msg)

    if valid:
        check_wait_options(Module())
    else:
        with pytest.raises(AssertionError) as raised:
            check_wait_options(Module())
        assert str(raised.value) == f"wait_max_poll_interval={value} is out of range: 0.1 to 300 seconds"


class Failed(Exception):
    pass


class WaitingModule:
    """The module side of wait_or_fail: its two wait options, and fail_json that stops."""

    def __init__(self, timeout):
        self.params = {"wait_timeout": timeout, "wait_max_poll_interval": 0.1}

    def fail_json(self, msg):
        raise Failed(msg)


def test_wait_or_fail_returns_the_state_that_satisfied_the_wait():
    states = iter([{"Status": "creating"}, {"Status": "available"}])
    state = wait_or_fail(
        WaitingModule(timeout=5), lambda: next(states), lambda s: s["Status"] == "available", "cluster c", "available"
    )
    assert state == {"Status": "available"}


def test_wait_or_fail_fails_the_module_with_the_timeout_or_a_better_message():
    def never_ready():
        return {"Status": "modifying"}

    with pytest.raises(Failed, match=r"waiting for cluster c to be available; its last state was 'modifying'"):
        wait_or_fail(WaitingModule(timeout=0.05), never_ready, lambda s: False, "cluster c", "available")
    with pytest.raises(Failed, match=r"^still waiting for: instance i \(modifying\) after 0s$"):
        wait_or_fail(
            WaitingModule(timeout=0.05),
            never_ready,
            lambda s: False,
            "cluster c",
            "available",
            timeout_message=lambda e: f"still waiting for: instance i ({e.last_state}) after {e.waited:.0f}s",
        )
