"""One vocabulary per concept: routes are one list of terms, with the abbreviations files already use."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import ndx_glymphatic
from ndx_glymphatic.testing.mock import mock_DrugAdministrationsTable, mock_TracerInfusionsTable
from ndx_glymphatic.validators.checks import DOMAIN_CHECKS
from ndx_glymphatic.vocabulary import ROUTE_ALIASES, ROUTE_WORDS, ROUTES

SESSION_EXAMPLE = Path(ndx_glymphatic.__file__).parent / "session_example.yaml"
#: Every route the drug and infusion vocabularies allowed before there was one route vocabulary.
ROUTES_WRITTEN_BEFORE = (
    "i.p.", "s.c.", "p.o.", "i.v.", "i.c.v.", "i.m.", "intracisternal", "topical",
    "intravenous", "intraventricular", "intraparenchymal", "intraperitoneal",
)


def test_aliases_stand_for_terms_and_are_not_terms() -> None:
    assert set(ROUTE_ALIASES.values()) <= set(ROUTES)
    assert not set(ROUTE_ALIASES) & set(ROUTES)
    assert len(ROUTE_WORDS) == len(set(ROUTE_WORDS)) == len(ROUTES) + len(ROUTE_ALIASES)


def test_every_route_written_before_is_still_accepted() -> None:
    assert set(ROUTES_WRITTEN_BEFORE) <= set(ROUTE_WORDS)
    example = yaml.safe_load(SESSION_EXAMPLE.read_text())
    example_routes = {row["route"] for section in ("infusions", "drugs") for row in example.get(section, [])}
    assert example_routes and example_routes <= set(ROUTE_WORDS)


@pytest.mark.parametrize("route", ROUTE_WORDS)
def test_drug_and_infusion_tables_accept_every_route_word(route: str) -> None:
    assert DOMAIN_CHECKS["check_drug_route_vocabulary"](mock_DrugAdministrationsTable(route=route)) is None
    assert DOMAIN_CHECKS["check_infusion_route_vocabulary"](mock_TracerInfusionsTable(route=route)) is None


def test_route_checks_reject_other_words_and_name_the_terms() -> None:
    for name, table in (("check_drug_route_vocabulary", mock_DrugAdministrationsTable(route="ip")),
                        ("check_infusion_route_vocabulary", mock_TracerInfusionsTable(route="ip"))):
        message = DOMAIN_CHECKS[name](table)
        assert message is not None and "'ip'" in message.message and "'intraperitoneal'" in message.message


def test_an_abbreviated_route_gets_the_limits_of_its_term() -> None:
    check = DOMAIN_CHECKS["check_infusion_volume_and_rate_plausible_for_route"]
    too_much = {"volume_in_uL": 500.0, "rate_in_uL_per_min": 100.0, "stop_time": 605.0}
    by_term = check(mock_TracerInfusionsTable(route="intravenous", **too_much))
    by_alias = check(mock_TracerInfusionsTable(route="i.v.", **too_much))
    assert by_term is not None and by_alias is not None
    assert by_alias.message.replace("i.v.", "intravenous") == by_term.message
