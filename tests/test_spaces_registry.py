"""Looking spaces up by name and recognising genotype text of either space."""

import json

import pytest

from nastransfer.errors import GenotypeError
from nastransfer.spaces import darts, get_space, graph, load_genotype, nb201, parse_any, space_names, space_of

ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"


def test_get_space_gives_each_space_its_own_parse_and_sample():
    assert space_names() == ["darts", "graph", "nb201"]
    for name, genotype_type in (("darts", darts.Genotype), ("graph", graph.GraphArch), ("nb201", nb201.Arch)):
        space = get_space(name)
        assert space.name == name and space.genotype_type is genotype_type
        drawn = space.sample(5)
        assert isinstance(drawn, genotype_type) and space.parse(str(drawn)) == drawn
        assert space_of(drawn) is space
        assert space.mutate(drawn, 0) in space.neighbours(drawn)
    with pytest.raises(GenotypeError, match="unknown search space 'nb101' \\(known: darts, graph, nb201\\)"):
        get_space("nb101")


def test_parse_any_recognises_names_darts_text_and_arch_strings():
    assert parse_any("DARTS_V2") is darts.PUBLISHED["DARTS_V2"]
    assert parse_any(str(darts.PUBLISHED["PDARTS"])) == darts.PUBLISHED["PDARTS"]
    assert parse_any(f"PDARTS = {darts.PUBLISHED['PDARTS']}") == darts.PUBLISHED["PDARTS"]
    assert parse_any(ARCH) == nb201.Arch.parse(ARCH)
    with pytest.raises(GenotypeError, match="'DARTS_V3' is not a published cell"):
        parse_any("DARTS_V3")


def test_load_genotype_reads_text_and_json_files(tmp_path):
    text_file = tmp_path / "cell.txt"
    text_file.write_text(f"{darts.PUBLISHED['DARTS_V1']}\n")
    json_file = tmp_path / "cell.json"
    json_file.write_text(json.dumps(darts.PUBLISHED["PC_DARTS_image"].to_dict()))
    arch_file = tmp_path / "arch.txt"
    arch_file.write_text(ARCH)
    assert load_genotype(str(text_file)) == darts.PUBLISHED["DARTS_V1"]
    assert load_genotype(str(json_file)) == darts.PUBLISHED["PC_DARTS_image"]
    assert load_genotype(str(arch_file)) == nb201.Arch.parse(ARCH)
    bad_file = tmp_path / "bad.txt"
    bad_file.write_text("|none~0|")
    with pytest.raises(GenotypeError, match=f"{bad_file}: NB201 arch string needs 3"):
        load_genotype(str(bad_file))
