"""Tests that need ``../shared/seeds`` skip without it, and every run says so at its end."""

from __future__ import annotations

import pytest


def test_seed_skips_are_reported_in_the_summary(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_seedless="""
        import pytest
        from tests.conftest import SEEDS_ABSENT

        def test_one():
            pytest.skip(SEEDS_ABSENT)

        def test_two():
            pytest.skip(SEEDS_ABSENT)

        def test_other():
            pytest.skip("something else")
        """
    )
    result = pytester.runpytest_subprocess("-p", "tests.conftest", "-p", "no:cacheprovider")
    result.assert_outcomes(skipped=3)
    result.stdout.fnmatch_lines(["*= 2 skipped, seeds absent: * did not run =*"])
