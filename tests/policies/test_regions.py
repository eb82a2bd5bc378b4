"""The vendored Region list matches botocore's endpoint data for the commercial partition."""

from __future__ import annotations

import botocore.session

from policies.regions import AWS_REGIONS, DEFAULT_ENABLED_REGIONS, OPT_IN_REGIONS


def test_vendored_regions_match_botocore() -> None:
    endpoints = botocore.session.get_session().get_component("data_loader").load_data("endpoints")
    commercial = next(p for p in endpoints["partitions"] if p["partition"] == "aws")
    assert set(commercial["regions"]) == AWS_REGIONS, "update policies/regions.py from botocore's endpoints.json"


def test_every_region_is_either_enabled_by_default_or_opt_in() -> None:
    assert not set(DEFAULT_ENABLED_REGIONS) & set(OPT_IN_REGIONS)
    assert set(DEFAULT_ENABLED_REGIONS) | set(OPT_IN_REGIONS) == AWS_REGIONS, "classify every new Region in policies/regions.py"
