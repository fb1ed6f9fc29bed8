import gc

import pytest

from hpsweep.training.garbage_collection import startup_objects_frozen


def test_what_exists_before_training_is_left_out_of_collections_until_it_ends() -> None:
    before = [[]]  # a list: tracked by the collector (a bare object is not)
    assert gc.get_freeze_count() == 0
    with startup_objects_frozen():
        # everything alive at the start, this test's objects with it, is frozen
        assert gc.get_freeze_count() > 0
        assert not any(o is before for o in gc.get_objects())
        during = [[]]  # made while training: still collected
        assert any(o is during for o in gc.get_objects())
    assert gc.get_freeze_count() == 0  # collected as before once the run ends


def test_the_freeze_ends_when_the_run_raises() -> None:
    with pytest.raises(KeyboardInterrupt), startup_objects_frozen():
        raise KeyboardInterrupt
    assert gc.get_freeze_count() == 0


def test_an_applications_own_freeze_is_kept() -> None:
    gc.freeze()
    try:
        with startup_objects_frozen():
            pass
        # not unfrozen by the run (the count itself falls as frozen objects are freed)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
