"""``terraform validate`` attaches every stack to one provider process per provider (infra/terraform_cli.py): a
provider that cannot be served so is left to Terraform, and nothing served outlives the validation. Fake provider
programs stand in for real ones here; tests/infra/test_terraform.py validates with the real AWS provider."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from infra import terraform_cli
from infra.terraform_cli import SharedProviders

# A provider in debug mode says where it listens, then serves until interrupted (SIGINT, which a Go provider
# handles even when its parent ignores it, as a shell's background job does).
SERVED = f"""#!{sys.executable}
import json, os, signal, sys, time
signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
address = {{"Protocol": "grpc", "ProtocolVersion": 5, "Pid": os.getpid(), "Test": True,
           "Addr": {{"Network": "unix", "String": "/tmp/plugin-$NAME"}}}}
print("Provider started. To attach Terraform CLI, set the TF_REATTACH_PROVIDERS environment variable with the following:")
print()
print("\\tTF_REATTACH_PROVIDERS='" + json.dumps({{"registry.terraform.io/acme/$NAME": address}}) + "'", flush=True)
time.sleep(600)
"""
NO_DEBUG_MODE = "#!/bin/sh\necho 'flag provided but not defined: -debug' >&2\nexit 2\n"
SILENT = "#!/bin/sh\nexec sleep 600\n"


def install(providers: Path, name: str, program: str) -> Path:
    directory = providers / "registry.terraform.io" / "acme" / name / "1.0.0" / "linux_amd64"
    directory.mkdir(parents=True)
    binary = directory / f"terraform-provider-{name}_v1.0.0"
    binary.write_text(program.replace("$NAME", name))
    binary.chmod(0o755)
    return binary


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_each_provider_is_attached_where_it_says_and_stopped_after(tmp_path: Path) -> None:
    providers = tmp_path / "providers"
    install(providers, "one", SERVED)
    install(providers, "two", SERVED)
    shared = SharedProviders(tmp_path)
    reattach = shared._serve(providers)
    assert set(reattach) == {"registry.terraform.io/acme/one", "registry.terraform.io/acme/two"}
    assert reattach["registry.terraform.io/acme/one"]["Addr"] == {"Network": "unix", "String": "/tmp/plugin-one"}
    pids = [server.pid for server in shared._served]
    assert all(running(pid) for pid in pids)
    shared.close()
    assert not any(running(pid) for pid in pids)


@pytest.mark.parametrize("program", [NO_DEBUG_MODE, SILENT], ids=["no-debug-mode", "silent"])
def test_a_provider_that_does_not_say_where_it_listens_is_left_to_terraform_and_stopped(
    program: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(terraform_cli, "PROVIDER_START_SECONDS", 1.0)
    providers = tmp_path / "providers"
    install(providers, "served", SERVED)
    install(providers, "other", program)
    shared = SharedProviders(tmp_path)
    reattach = shared._serve(providers)
    assert list(reattach) == ["registry.terraform.io/acme/served"]
    pids = {Path(server.args[0]).parent.parent.parent.name: server.pid for server in shared._served}
    assert not running(pids["other"]), "a provider that was not attached is stopped at once"
    shared.close()
    assert not running(pids["served"])


def a_stack_and_a_terraform_whose_init_installs_a_served_provider(tmp_path: Path) -> tuple[Path, str]:
    stack = tmp_path / "stacks" / "one"
    stack.mkdir(parents=True)
    (stack / "cdk.tf.json").write_text('{"terraform": {"required_providers": {"served": {"source": "acme/served"}}}}')
    terraform = tmp_path / "terraform"
    terraform.write_text(
        f"""#!{sys.executable}
import os
from pathlib import Path
directory = Path(os.environ["TF_DATA_DIR"], "providers/registry.terraform.io/acme/served/1.0.0/linux_amd64")
directory.mkdir(parents=True)
(directory / "terraform-provider-served_v1.0.0").write_text({SERVED.replace("$NAME", "served")!r})
(directory / "terraform-provider-served_v1.0.0").chmod(0o755)
Path(".terraform.lock.hcl").write_text("")
"""
    )
    terraform.chmod(0o755)
    return stack, str(terraform)


def test_the_stacks_validate_against_the_served_provider_unless_the_user_attached_their_own(tmp_path: Path) -> None:
    stack, terraform = a_stack_and_a_terraform_whose_init_installs_a_served_provider(tmp_path)
    shared = SharedProviders(tmp_path / "served")
    try:
        env, failed = shared.prepare(stack, terraform, {"PATH": "/usr/bin:/bin"})
        assert failed is None
        assert list(json.loads(env["TF_REATTACH_PROVIDERS"])) == ["registry.terraform.io/acme/served"]
    finally:
        shared.close()

    theirs = '{"registry.terraform.io/acme/served": {"Protocol": "grpc", "Addr": {"Network": "unix", "String": "/tmp/x"}}}'
    (stack / ".terraform.lock.hcl").unlink()
    shared = SharedProviders(tmp_path / "theirs")
    try:
        env, failed = shared.prepare(stack, terraform, {"PATH": "/usr/bin:/bin", "TF_REATTACH_PROVIDERS": theirs})
        assert failed is None
        assert env["TF_REATTACH_PROVIDERS"] == theirs
        assert shared._served == [], "nothing served: the user's provider stays theirs"
    finally:
        shared.close()
