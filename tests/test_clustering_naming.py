"""Cluster names and descriptions (codes CN*)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_clustering_core import build_store, two_circuits

from attribution_viewer.clustering import name_groups
from attribution_viewer.clustering.naming import (
    distinctive_terms,
    logit_influence,
    typical_texts,
    unique_name,
)


def test_cn1_ctfidf_scores_hand_worked() -> None:
    # A: capital x2, city; B: city, river. avg words 2.5; term totals capital 2, city 2, river 1
    terms = distinctive_terms(["capital city capital", "city river"], 2)
    idf_2, idf_1 = math.log1p(2.5 / 2), math.log1p(2.5 / 1)
    assert [t for t, _ in terms[0]] == ["capital", "city"]
    assert [s for _, s in terms[0]] == pytest.approx([2 / 3 * idf_2, 1 / 3 * idf_2])
    assert [t for t, _ in terms[1]] == ["river", "city"]
    assert [s for _, s in terms[1]] == pytest.approx([0.5 * idf_1, 0.5 * idf_2])


def test_cn2_background_counts_but_gets_no_terms() -> None:
    # "sport" is everywhere in the background, so "tennis" wins in the group
    terms = distinctive_terms(["sport tennis", "sport sport sport football"], 1)
    assert len(terms) == 1 and terms[0][0][0] == "tennis"
    assert distinctive_terms(["", " "], 2) == [[], []]
    assert distinctive_terms(["the and of"], 1) == [[]]  # stop words only


def test_cn3_names_from_descriptions() -> None:
    store = two_circuits()
    texts = [
        "capital city",
        "capital of France",
        "capital city",
        "Paris",
        "sport",
        "tennis sport",
        "sport",
        "ball",
    ]
    names = name_groups(store, [(0, 1, 2, 3), (4, 5, 6, 7)], texts=texts)
    assert [n.name for n in names] == ["capital / city", "sport / ball"]
    # influence on X: f3 1, f2 1/1.7, f1 0.7/1.7 + 2/3 * 1/1.7, f0 that + 1/3 * 1/1.7 = 1 -> 3.39
    # typical texts: the distinct member texts holding most of the group's term scores
    assert names[0].description == (
        "4 features on 'a' (position 0), layers 0-3; promotes 'X' most (influence +3.39); "
        'typical: "capital city", "capital of France", "Paris"'
    )


def test_cn4_structural_names_without_descriptions() -> None:
    store = build_store(
        [(0, 0, 1), (1, 0, 2), (2, 1, 3), (0, 2, 4)],
        [(0, 1, 1.0), (1, 2, 1.0), (2, 4, 1.0), (3, 4, -1.0)],
        tokens=("Dallas", " is", " in"),
        logits=(" Texas",),
    )
    names = name_groups(store, [(0, 1), (0, 1, 2), (3,), (0, 1, 2, 3)])
    assert names[0].name == "'Dallas' L0-1 → '·Texas'"
    assert names[0].description == (
        "2 features on 'Dallas' (position 0), layers 0-1; promotes '·Texas' most (influence +1.00)"
    )
    assert names[1].name == "'Dallas' + '·is' L0-2 → '·Texas'"
    # f3 suppresses the logit (half its input, negative)
    assert names[2] == (
        "'·in' L0 ⊣ '·Texas'",
        "1 feature on '·in' (position 2), layer 0; suppresses '·Texas' most (influence -0.50)",
    )
    # three token strings: first..last; +1.5 - 0.5
    assert names[3].name == "'Dallas'..'·in' L0-2 → '·Texas'"
    # no path to a logit: no arrow, no output
    lone = build_store([(0, 0, 1)], [], tokens=("Austin",))
    assert name_groups(lone, [(0,)])[0] == ("'Austin' L0", "1 feature on 'Austin' (position 0), layer 0")


def test_cn9_a_repeated_token_is_named_with_its_position() -> None:
    # '"' at positions 1 and 3: a group on one of them says which; a group on both does not
    store = build_store([(0, 1, 1), (1, 1, 2), (0, 3, 3), (0, 0, 4)], [], tokens=("a", '"', "b", '"'))
    names = name_groups(store, [(0, 1), (2,), (0, 2), (3,)])
    assert [n.name for n in names] == ["'\"'@1 L0-1", "'\"'@3 L0", "'\"' L0", "'a' L0"]


def test_cn5_names_unique() -> None:
    store = two_circuits()
    names = name_groups(store, [(0, 1), (0, 1), (0, 1)], taken={"'a' L0-1 → 'X' #2"})
    assert [n.name for n in names] == ["'a' L0-1 → 'X'", "'a' L0-1 → 'X' #3", "'a' L0-1 → 'X' #4"]
    used = {"x"}
    assert unique_name("x", used) == "x #2" and used == {"x", "x #2"}


def test_cn7_typical_texts_are_distinct_and_shortened() -> None:
    terms = [("cat", 2.0), ("animal", 1.0)]
    texts = ["cat", "cat", "an animal", "a cat animal " + "x" * 50, ""]
    assert typical_texts(texts, terms, 3) == ["a cat animal " + "x" * 26 + "…", "cat", "an animal"]


def test_cn6_logit_influence_sums_paths() -> None:
    # f0 -> f1 (w 1), f0 -> logit (w 1), f1 -> logit (w 3): logit input normalised to 1/4, 3/4
    store = build_store([(0, 0, 1), (1, 0, 2)], [(0, 1, 1.0), (0, 2, 1.0), (1, 2, 3.0)])
    infl = logit_influence(store)
    assert infl[:, 0].tolist() == pytest.approx([0.25 + 1.0 * 0.75, 0.75, 0.0])
    assert np.all(infl >= 0)


def test_cn8_typical_texts_distinct_as_shown() -> None:
    # two texts equal in their first 39 characters show once
    same = "x" * 39
    assert typical_texts([same + "a tail", same + "b tail", "cat"], [("cat", 1.0)], 3) == ["cat", same + "…"]
