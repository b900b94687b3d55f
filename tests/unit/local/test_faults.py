"""The local stack's own fault plan: what it accepts, what it refuses, and draws that repeat for a seed."""

import pytest

from local.faults import KINDS, FaultPlan, Faults

pytestmark = pytest.mark.no_aws


@pytest.mark.parametrize(("document", "field"), [
    ({"queue_send_failure": 1.5}, "queue_send_failure"),
    ({"stream_redelivery": "often"}, "stream_redelivery"),
    ({"crash_after_carrier_accept": True}, "crash_after_carrier_accept"),
    ({"seed": 1.5}, "seed"),
    ({"lose_everything": 0.5}, "lose_everything"),
])
def test_a_bad_plan_is_refused_naming_the_field(document, field):
    with pytest.raises(ValueError, match=f"^{field}: "):
        FaultPlan.parse(document)


def test_the_same_seed_injects_the_same_faults_and_counts_them():
    def draws(faults: Faults) -> list[bool]:
        faults.set(FaultPlan.parse({"seed": 7, "queue_redelivery": 0.3}))
        return [faults.strikes("queue_redelivery") for _ in range(200)]

    first, again = Faults(), Faults()
    assert draws(first) == draws(again)
    report = first.report()
    assert report["injected"]["queue_redelivery"] == sum(draws(Faults())) > 0
    assert set(report["injected"]) == set(KINDS)
    assert not any(first.strikes("queue_send_failure") for _ in range(50))  # not in the plan: never
