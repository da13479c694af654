"""The simulated EI-412's replay fraud: every n-th run repeats the previous run's channel-1 reading."""

from __future__ import annotations

from firmware_sim.enzyme import EnzymeSimulator


def test_every_third_run_repeats_the_previous_channel_one_reading_under_a_new_code():
    sim = EnzymeSimulator(seed=4, replay_every=3)
    plans = [sim.plan_run() for _ in range(7)]
    for earlier, replayed in ((plans[1], plans[2]), (plans[4], plans[5])):
        assert replayed.control_delta_a == earlier.control_delta_a
        assert replayed.channels[0].sample_delta_a == earlier.channels[0].sample_delta_a
        assert replayed.channels[0].sample_code == f"9{replayed.run:05d}"
    assert plans[3].channels[0].sample_delta_a != plans[2].channels[0].sample_delta_a
    honest = EnzymeSimulator(seed=4)
    assert [p.channels[0].sample_delta_a for p in (honest.plan_run() for _ in range(3))] != [
        p.channels[0].sample_delta_a for p in plans[:3]]
