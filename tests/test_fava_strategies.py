"""The Strategies page over Fava's own app (Flask test client): a long list is cut with a "show all" link, and a
broken strategies.yaml is a message naming its line, on the page and as a 400 from the JSON endpoint."""

from __future__ import annotations

import re

import pytest

from fava.application import create_app

from beanflex.fava_ext import strategies as page_mod
from test_strategies import workspace


@pytest.fixture()
def served(tmp_path):
    main = workspace(tmp_path, "wheel.xml", "rolls.xml")
    client = create_app([str(main)], load=True).test_client()
    slug = client.get("/").headers["Location"].strip("/").split("/")[0]
    return client, f"/{slug}/extension/BeanflexStrategies/", tmp_path


def rows(html: str) -> list[str]:
    return re.findall(r'<tr data-bf-strategy="([^"]+)"', html)


def test_a_long_list_shows_the_first_groups_and_a_show_all_link(served, monkeypatch):
    client, base, _ = served
    monkeypatch.setattr(page_mod, "LIST_LIMIT", 2)
    html = client.get(base).get_data(as_text=True)
    assert rows(html) == ["U7/trade/R01", "U7/trade/W01"] and "show all 4 groups" in html
    assert len(rows(client.get(base + "?all=1").get_data(as_text=True))) == 4


def test_a_broken_strategies_yaml_is_a_message_naming_its_line(served):
    client, base, root = served
    (root / "strategies.yaml").write_text("groups:\n  U7/trade/R01:\n    nmae: x\n", encoding="utf-8")
    html = client.get(base).get_data(as_text=True)
    assert "strategies.yaml:3: unknown group key &#39;nmae&#39;" in html and 'class="bf-bad"' in html
    answer = client.get(base + "strategies")
    assert answer.status_code == 400 and "strategies.yaml:3" in answer.get_json()["error"]
    (root / "strategies.yaml").write_text('groups:\n  U7/trade/R01: {name: Puts}\n', encoding="utf-8")
    assert "Puts" in client.get(base).get_data(as_text=True)  # read again: no Fava restart needed
