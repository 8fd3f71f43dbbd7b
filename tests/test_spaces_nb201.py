"""The NAS-Bench-201 space: arch strings, indices, enumeration, sampling and one-edge moves."""

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nastransfer.errors import GenotypeError
from nastransfer.spaces.nb201 import EDGES, OPS, Arch, all_archs, mutate, neighbours, sample

EXAMPLE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"
archs = st.lists(st.sampled_from(OPS), min_size=6, max_size=6).map(lambda ops: Arch(tuple(ops)))


def test_constants_follow_nas_bench_201():
    assert OPS == ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
    assert EDGES == ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))


def test_arch_string_edge_order():
    arch = Arch.parse(EXAMPLE)
    ops = ("nor_conv_3x3", "nor_conv_3x3", "avg_pool_3x3", "skip_connect", "none", "nor_conv_1x1")
    assert arch.ops == ops
    assert str(arch) == arch.key == EXAMPLE
    assert arch.to_indices() == (3, 3, 4, 1, 0, 2)


@settings(max_examples=200, deadline=None)
@given(archs)
def test_string_and_index_round_trip(arch):
    assert Arch.parse(str(arch)) == arch
    assert Arch.from_indices(arch.to_indices()) == arch
    assert Arch.parse(f"  {arch}\n").key == arch.key


BAD_STRINGS = [
    ("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|", "needs 3 '+'-separated node groups, got 2"),
    ("none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "node 1 group 'none~0|' must be wrapped"),
    ("|none~0|+|none~0|+|none~0|none~1|none~2|", "node 2 needs 2 edges, got 1"),
    ("|none~0|+|none~0|none1|+|none~0|none~1|none~2|", "edge 'none1' of node 2 is not 'op~input'"),
    ("|none~0|+|none~0|none~1|+|none~0|none~2|none~2|", "edge 'none~2' of node 3 must read from ~1, not ~2"),
    ("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown op 'conv' on edge 0 (node 1 from 0)"),
    ("|none~0|+|none~0|none~1|+|none~0|none~1|max_pool_3x3~2|", "unknown op 'max_pool_3x3' on edge 5"),
]


@pytest.mark.parametrize(("text", "message"), BAD_STRINGS)
def test_malformed_string_gets_its_precise_error(text, message):
    with pytest.raises(GenotypeError) as caught:
        Arch.parse(text)
    assert message in str(caught.value)


def test_bad_indices_and_op_counts_are_rejected():
    with pytest.raises(GenotypeError, match="op index 5 at edge 2"):
        Arch.from_indices([0, 0, 5, 0, 0, 0])
    with pytest.raises(GenotypeError, match="needs 6 edge ops, got 5"):
        Arch(("none",) * 5)


def test_all_archs_enumerates_the_space_once():
    everything = list(all_archs())
    assert len(everything) == 15_625 == len({a.key for a in everything})
    assert everything[0].to_indices() == (0,) * 6 and everything[-1].to_indices() == (4,) * 6


def test_sample_is_seeded_and_uniform():
    assert sample(11) == sample(11)
    counts = Counter(op for seed in range(1000) for op in sample(seed).ops)
    # 6000 edges over 5 ops: 1200 each; 5 standard deviations is about 155.
    assert all(abs(counts[op] - 1200) < 155 for op in OPS)


@settings(max_examples=100, deadline=None)
@given(archs, st.integers(0, 2**32 - 1))
def test_neighbours_and_mutate_change_exactly_one_edge(arch, seed):
    around = neighbours(arch)
    assert len(around) == 24 == len(set(around))
    assert all(sum(a != b for a, b in zip(arch.ops, other.ops, strict=True)) == 1 for other in around)
    assert mutate(arch, seed) in around
    assert mutate(arch, seed) == mutate(arch, seed)


def test_canonical_key_merges_exactly_the_reference_isomorphism_classes():
    """Same partition of the 15,625 cells as NAS-Bench-201's `to_unique_str(consider_zero=True)`."""
    genotypes = pytest.importorskip("xautodl.models.cell_searchs.genotypes")
    ours: dict[str, set[str]] = {}
    reference: dict[str, set[str]] = {}
    for arch in all_archs():
        ours.setdefault(arch.canonical_key, set()).add(arch.key)
        structure = genotypes.Structure.str2structure(str(arch))
        reference.setdefault(structure.to_unique_str(consider_zero=True), set()).add(arch.key)
    assert len(ours) == len(reference) == 6466
    assert sorted(map(sorted, ours.values())) == sorted(map(sorted, reference.values()))


def test_canonical_key_examples():
    def key(text):
        return Arch.parse(text).canonical_key

    # Node 2 reaches the output through `none` only: whatever it computes, the function is the same.
    a = "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|nor_conv_1x1~0|avg_pool_3x3~1|none~2|"
    b = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|nor_conv_1x1~0|avg_pool_3x3~1|none~2|"
    assert key(a) == key(b)
    assert key(a) != key(a.replace("nor_conv_1x1~0", "nor_conv_3x3~0"))
    # A pool after a dead (zero) node is dead too.
    dead_1 = "|none~0|+|skip_connect~0|avg_pool_3x3~1|+|nor_conv_1x1~0|none~1|skip_connect~2|"
    dead_2 = "|none~0|+|skip_connect~0|nor_conv_3x3~1|+|nor_conv_1x1~0|avg_pool_3x3~1|skip_connect~2|"
    assert key(dead_1) == key(dead_2) and Arch.parse(dead_1).key != Arch.parse(dead_2).key
