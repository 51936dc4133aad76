"""Loading and checking policies: every error names file, line, column and field."""

from __future__ import annotations

import pytest

from cloudctl.errors import InputError
from cloudctl.gateway.check import check_policy
from cloudctl.gateway.policy import load_policy
from tests.gateway.conftest import LAB_POLICY


def test_lab_policy_is_valid(make_policy):
    policy = make_policy(LAB_POLICY.read_text())
    assert check_policy(policy) == []
    assert len(policy.publications) == 7


def _problems(make_policy, data):
    policy = make_policy(data, validate=False)
    return [p.to_error(policy) for p in check_policy(policy)]


def _line_of(path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_yaml_syntax_error_names_line(write_policy):
    path = write_policy("gateway:\n  name: [unclosed\nzones: {}\n")
    with pytest.raises(InputError) as e:
        load_policy(path)
    assert e.value.file == str(path) and e.value.line == 3
    assert "not valid YAML" in e.value.message


def test_unknown_field_names_its_line(write_policy, lab_dict):
    lab_dict["publications"][2]["prots"] = [443]
    path = write_policy(lab_dict)
    with pytest.raises(InputError) as e:
        load_policy(path)
    assert e.value.field == "publications[2].prots"
    assert e.value.line == _line_of(path, "prots:")
    assert str(path) in e.value.render()


def test_hostname_is_never_an_address(write_policy, lab_dict):
    lab_dict["services"][0]["address"] = "api.example.gov"
    path = write_policy(lab_dict)
    with pytest.raises(InputError) as e:
        load_policy(path)
    assert e.value.field == "services[0].address"
    assert e.value.line == _line_of(path, "api.example.gov")
    assert "hostnames are not allowed" in e.value.message


def test_typo_address_like_nft_would_resolve(make_policy, lab_dict):
    lab_dict["portals"][0]["addresses"][0] = "172.30.0.300"
    errors = _problems(make_policy, lab_dict)
    assert [e.field for e in errors] == ["portals[0].addresses[0]"]


@pytest.mark.parametrize(("mutate", "field", "words"), [
    (lambda d: d["services"][0].update(address="10.99.0.5"), "services[0].address", "inside a public or dedicated"),
    (lambda d: d["portals"][1]["addresses"].append("10.10.0.9"), "portals[1].addresses[1]", "internet-access"),
    (lambda d: d["portals"][1]["addresses"].append("172.30.0.0/24"), "portals[1].addresses[1]", "whole zone"),
    (lambda d: d["portals"][1]["addresses"].append("any"), "portals[1].addresses[1]", "not allowed"),
    (lambda d: d["zones"]["tax"]["cidrs"].append("10.21.0.128/25"), "zones.tax.cidrs", "overlaps"),
    (lambda d: d["zones"]["public"]["cidrs"].append("10.40.0.1/16"), "zones.public.cidrs[2]", "host bits"),
    (lambda d: d["services"][0].update(ports=[0]), "services[0].ports[0]", "outside 1-65535"),
    (lambda d: d["services"][0].update(ports=["70000"]), "services[0].ports[0]", "outside 1-65535"),
    (lambda d: d["services"][0].update(ports=["90-80"]), "services[0].ports[0]", "reversed"),
    (lambda d: d["publications"][0].update(ports=[8443]), "publications[0].ports", "among the service's ports"),
    (lambda d: d["publications"][0].update(service="nope"), "publications[0].service", "unknown service"),
    (lambda d: d["publications"][0].update(portal="nope"), "publications[0].portal", "unknown portal"),
    (lambda d: d["publications"][1].update(name="citizen-https"), "publications[1].name", "duplicate"),
    (lambda d: d["gateway"]["interfaces"][4]["zones"].append("finance"), "gateway.interfaces[4].zones[1]",
     "already carried"),
    (lambda d: d["gateway"]["interfaces"][4]["zones"].append("moon"), "gateway.interfaces[4].zones[1]",
     "unknown zone"),
    (lambda d: d["gateway"]["interfaces"].pop(4), "zones.tax", "no interface carries"),
    (lambda d: d["gateway"]["interfaces"][0].update(name="ccgw-much-too-long"), "gateway.interfaces[0].name",
     "1-15"),
    (lambda d: d["gateway"]["interfaces"][1].update(addresses=["10.10.0.2/16"]),
     "gateway.interfaces[1].addresses[0]", "not inside a zone this interface carries"),
    (lambda d: d["departments"][0].update(access_class="A", subnets=["10.21.0.0/25"]), "departments[0].subnets[0]",
     "not department"),
    (lambda d: d["departments"][3].update(access_class="B"), "zones.finance.department", "no dedicated zone"),
    (lambda d: d["gateway"].pop("exit_address_v6"), "departments[3].subnets[1]", "exit_address_v6"),
    (lambda d: d["gateway"].update(exit_address="2001:db8::1"), "gateway.exit_address", "IPv4"),
    (lambda d: d["services"][2].update(department="tax"), "services[2].address", "not of 'tax'"),
    (lambda d: d["services"][0].update(department="ghost"), "services[0].department", "unknown department"),
    (lambda d: d["publications"][3].update(portal="portal-b"), "publications[3].portal", "IP version"),
    (lambda d: d["departments"][1].update(subnets=["10.10.3.0/25"]), "departments[1].subnets[0]",
     "overlaps a subnet"),
    (lambda d: d["zones"].update(other={"kind": "internet"}), "zones.other", "only one internet zone"),
])
def test_each_check_names_the_field(make_policy, lab_dict, mutate, field, words):
    mutate(lab_dict)
    errors = _problems(make_policy, lab_dict)
    matching = [e for e in errors if e.field == field]
    assert matching, f"expected a problem at {field}, got {[(e.field, e.message) for e in errors]}"
    assert any(words in e.message for e in matching), [e.message for e in matching]
    assert all(e.line is not None and e.column is not None for e in errors)


def test_load_policy_raises_first_problem_with_count(write_policy, lab_dict):
    lab_dict["services"][0]["address"] = "10.99.0.5"
    lab_dict["services"][1]["ports"] = [99999]
    path = write_policy(lab_dict)
    with pytest.raises(InputError) as e:
        load_policy(path)
    assert e.value.exit_code == 2
    assert e.value.field == "services[0].address"
    assert "and 1 more" in e.value.message


def test_division_keeps_leading_zeros_when_quoted(make_policy, lab_dict):
    lab_dict["gateway"]["division"] = "010100"
    assert make_policy(lab_dict).gateway.division == "010100"


def test_missing_file_is_input_error(tmp_path):
    with pytest.raises(InputError) as e:
        load_policy(tmp_path / "absent.yaml")
    assert e.value.exit_code == 2
