"""The DARTS space: text round trip, canonical key, validation messages, sampling, published cells."""

import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nastransfer.errors import GenotypeError
from nastransfer.spaces import darts
from nastransfer.spaces.darts import OPS, PUBLISHED, Genotype, mutate, neighbours, sample

REFERENCE = Path("/work/shared/reference/published_genotypes.json")


@st.composite
def cells(draw):
    edges = []
    for node in range(4):
        inputs = draw(st.lists(st.integers(0, node + 1), min_size=2, max_size=2, unique=True))
        edges += [(draw(st.sampled_from(OPS)), index) for index in inputs]
    return edges


@st.composite
def genotypes(draw):
    concats = st.lists(st.integers(2, 5), min_size=1, max_size=4, unique=True)
    normal, normal_concat = draw(cells()), draw(concats)
    return Genotype(
        normal=normal, normal_concat=normal_concat, reduce=draw(cells()), reduce_concat=draw(concats)
    )


def swap_node_inputs(cell, node):
    cell = list(cell)
    cell[2 * node], cell[2 * node + 1] = cell[2 * node + 1], cell[2 * node]
    return cell


@settings(max_examples=200, deadline=None)
@given(genotypes())
def test_text_and_dict_round_trip(genotype):
    assert Genotype.parse(str(genotype)) == genotype
    assert Genotype.from_dict(json.loads(json.dumps(genotype.to_dict()))) == genotype
    assert hash(Genotype.parse(str(genotype))) == hash(genotype)


@settings(max_examples=200, deadline=None)
@given(genotypes(), st.integers(0, 3), st.sampled_from(["normal", "reduce"]))
def test_key_ignores_the_order_of_a_nodes_inputs(genotype, node, field):
    fields = genotype.to_dict()
    fields[field] = swap_node_inputs(fields[field], node)
    assert Genotype.from_dict(fields).key == genotype.key


@settings(max_examples=200, deadline=None)
@given(genotypes(), st.data())
def test_key_changes_with_any_one_edge_move(genotype, data):
    other = data.draw(st.sampled_from(neighbours(genotype)))
    assert other.key != genotype.key


def test_str_is_the_genotypes_py_form():
    text = str(PUBLISHED["DARTS_V2"])
    assert text.startswith("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ")
    assert text.endswith("('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])")
    assert "normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), " in text


def test_parse_accepts_range_concat_assignment_and_positional_fields():
    v1 = PUBLISHED["DARTS_V1"]
    normal, reduce = repr(list(v1.normal)), repr(list(v1.reduce))
    text = (
        f"DARTS_V1 = Genotype(normal={normal}, normal_concat=range(2, 6), "
        f"reduce={reduce}, reduce_concat=range(2, 6))"
    )
    assert Genotype.parse(text) == v1
    assert Genotype.parse(f"  Genotype({normal}, [2, 3, 4, 5], {reduce}, [2, 3, 4, 5])\n") == v1
    assert Genotype.parse(f"Genotype(normal={normal}, reduce={reduce})") == v1


def test_published_cells_match_the_reference_file():
    reference = {k: v for k, v in json.loads(REFERENCE.read_text()).items() if not k.startswith("_")}
    assert sorted(PUBLISHED) == ["DARTS_V1", "DARTS_V2", "PC_DARTS_cifar", "PC_DARTS_image", "PDARTS"]
    for name, fields in reference.items():
        assert PUBLISHED[name].to_dict() == fields
    assert len({g.key for g in PUBLISHED.values()}) == len(PUBLISHED)


def test_darts_parse_takes_a_published_name():
    assert darts.parse(" PDARTS ") is PUBLISHED["PDARTS"]


V2 = str(PUBLISHED["DARTS_V2"])
BAD_TEXTS = [
    ("Genotype(normal=[", "does not parse"),
    ("x = 1; y = 2", "holds 2 statements"),
    ("Genotype2(normal=[], reduce=[])", "expected a Genotype(...) call"),
    ("__import__('os').system('true')", "expected a Genotype(...) call"),
    (V2.replace("'dil_conv_3x3'", "'conv_7x7'"), "unknown op 'conv_7x7' at normal[7]"),
    (
        V2.replace("('dil_conv_3x3', 2)", "('dil_conv_3x3', 5)"),
        "input 5 out of range for node 3 at normal[7] (allowed 0..4)",
    ),
    (
        V2.replace(
            "('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat", "('skip_connect', 2)], reduce_concat"
        ),
        "reduce has 7 edges",
    ),
    (
        V2.replace("('skip_connect', 0), ('dil_conv_3x3', 2)", "('skip_connect', 0), ('skip_connect', 0)"),
        "repeated edge ('skip_connect', 0) for node 3 of normal",
    ),
    (V2.replace("normal_concat=[2, 3, 4, 5]", "normal_concat=[2, 6]"), "bad concat: normal_concat=[2, 6]"),
    (V2.replace("normal_concat=[2, 3, 4, 5]", "normal_concat=[2, 2]"), "bad concat"),
    (V2.replace("normal_concat=[2, 3, 4, 5]", "normal_concat=[]"), "bad concat"),
    (V2.replace("reduce_concat=[2, 3, 4, 5]", "reduce_concat=sorted([2])"), "bad concat: reduce_concat"),
    (V2.replace("normal_concat=", "extra=1, normal_concat="), "unknown genotype field 'extra'"),
    (V2.replace("reduce_concat=[2, 3, 4, 5]", "normal=[]"), "genotype field 'normal' given twice"),
    (V2.replace("('sep_conv_3x3', 0)", "('sep_conv_3x3', x)", 1), "is not a literal"),
    (V2.replace("('sep_conv_3x3', 0)", "('sep_conv_3x3', 0, 1)", 1), "normal[0] is ('sep_conv_3x3', 0, 1)"),
    (V2.replace("('sep_conv_3x3', 0)", "('sep_conv_3x3', '0')", 1), "normal[0] input is '0', not an integer"),
    ("Genotype(normal=[('sep_conv_3x3', 0)])", "lacks the 'reduce' cell"),
    ("Genotype(normal=5, reduce=[])", "normal is 5, not a list"),
]


@pytest.mark.parametrize(("text", "message"), BAD_TEXTS)
def test_malformed_text_gets_its_precise_one_line_error(text, message):
    with pytest.raises(GenotypeError) as caught:
        Genotype.parse(text)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_sample_is_seeded_valid_and_never_uses_none():
    assert sample(7) == sample(7)
    assert len({sample(seed).key for seed in range(200)}) == 200
    for seed in range(50):
        genotype = sample(seed)
        assert genotype.normal_concat == genotype.reduce_concat == (2, 3, 4, 5)
        assert all(op != "none" for op, _ in genotype.normal + genotype.reduce)


def test_sample_is_uniform_over_ops_and_inputs():
    ops, first_node_inputs, last_node_inputs = Counter(), Counter(), Counter()
    for seed in range(700):
        genotype = sample(seed)
        ops.update(op for op, _ in genotype.normal + genotype.reduce)
        first_node_inputs.update(index for _, index in genotype.normal[:2])
        last_node_inputs.update(index for _, index in genotype.normal[6:])
    # 700 draws x 16 edges over 7 ops: 1600 each; 5 standard deviations is about 190.
    assert set(ops) == set(OPS) - {"none"}
    assert all(abs(count - 1600) < 190 for count in ops.values())
    assert first_node_inputs == Counter({0: 700, 1: 700})
    # the last node picks 2 of 5 states: each 280 times in expectation.
    assert all(abs(last_node_inputs[i] - 280) < 80 for i in range(5))


def test_neighbours_are_exactly_one_edge_away():
    genotype = PUBLISHED["PC_DARTS_cifar"]
    around = neighbours(genotype)
    # per cell: 8 edges x 6 other ops, plus other free inputs: node i has i+2 states minus its 2 inputs.
    assert len(around) == 2 * (8 * 6 + sum(2 * i for i in range(4)))
    assert len(set(around)) == len(around)
    for other in around:
        changed = sum(
            a != b
            for a, b in zip(genotype.normal + genotype.reduce, other.normal + other.reduce, strict=True)
        )
        assert changed == 1


def test_mutate_is_seeded_and_moves_one_edge():
    genotype = PUBLISHED["DARTS_V2"]
    assert mutate(genotype, 3) == mutate(genotype, 3)
    for seed in range(30):
        assert mutate(genotype, seed) in neighbours(genotype)
