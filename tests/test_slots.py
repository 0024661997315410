"""Sandbox slots (``rnnlab_grader.slots``): runs at once on one machine never share a uid."""
from rnnlab_grader import slots


def test_slots_held_at_once_differ_and_a_freed_slot_is_taken_again():
    with slots.machine_slot(9000) as first, slots.machine_slot(9000) as second:
        assert (first, second) == (9000, 9001)
    with slots.machine_slot(9000) as again:
        assert again == 9000
