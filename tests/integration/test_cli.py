"""The command line as users script it: clear messages, non-zero exit codes, nothing half-done."""

import sqlalchemy as sa

from tests.demo_db import run_tiyan
from tiyan.store.db import Database


def fresh_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert run_tiyan("db", "upgrade", "--db", url).returncode == 0
    return url


def test_a_wrong_database_url_gets_one_clear_message(tmp_path):
    for url, fragment in (("nonsense", "not a database URL"),
                          ("mysql://x@localhost/db", "not supported"),
                          (f"sqlite:///{tmp_path}/missing/folder/x.db", "does not exist"),
                          ("postgresql://nobody@127.0.0.1:1/none", "cannot connect")):
        result = run_tiyan("db", "upgrade", "--db", url)
        assert result.returncode == 1, url
        assert result.stderr.startswith("error: ") and fragment in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_a_database_from_a_newer_tiyan_is_refused(tmp_path):
    url = fresh_sqlite(tmp_path)
    db = Database(url)
    with db.write() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
    db.dispose()
    for args in (("db", "upgrade"), ("token", "create", "--email", "a@b.cn")):
        result = run_tiyan(*args, "--db", url)
        assert result.returncode == 1
        assert "newer than this tiyan" in result.stderr


def test_an_unmigrated_database_says_to_run_db_upgrade(tmp_path):
    result = run_tiyan("token", "create", "--email", "a@b.cn", "--db",
                       f"sqlite:///{tmp_path / 'empty.db'}")
    assert result.returncode == 1 and "tiyan db upgrade" in result.stderr


def test_users_create_checks_role_and_unit_and_token_create_prints_a_working_token(tmp_path):
    url = fresh_sqlite(tmp_path)
    assert run_tiyan("generate", "--responses", "300", "--db", url).returncode == 0
    unknown_unit = run_tiyan("users", "create", "--email", "a@b.cn", "--password", "long enough",
                             "--role", "admin", "--unit", "atlantis", "--db", url)
    assert unknown_unit.returncode == 1 and 'no unit with code "atlantis"' in unknown_unit.stderr
    bad_role = run_tiyan("users", "create", "--email", "a@b.cn", "--password", "long enough",
                         "--role", "king", "--unit", "gen", "--db", url)
    assert bad_role.returncode == 1 and '"king" is not a role' in bad_role.stderr
    created = run_tiyan("users", "create", "--email", "a@b.cn", "--password", "long enough",
                        "--role", "admin", "--unit", "gen", "--db", url)
    assert created.returncode == 0, created.stderr
    again = run_tiyan("users", "create", "--email", "a@b.cn", "--password", "long enough",
                      "--role", "admin", "--unit", "gen", "--db", url)
    assert again.returncode == 1 and "already exists" in again.stderr
    token = run_tiyan("token", "create", "--email", "a@b.cn", "--db", url)
    assert token.returncode == 0 and token.stdout.strip().startswith("ty_")
    db = Database(url)
    with db.read() as conn:
        users = conn.execute(sa.text("SELECT count(*) FROM app_user")).scalar_one()
        responses = conn.execute(sa.text("SELECT count(*) FROM response")).scalar_one()
    db.dispose()
    assert users == 1 and responses == 300


def test_demo_refuses_a_database_holding_other_data(tmp_path):
    url = fresh_sqlite(tmp_path)
    assert run_tiyan("generate", "--responses", "10", "--db", url).returncode == 0
    result = run_tiyan("demo", "--db", url)
    assert result.returncode == 1 and "fills an empty database" in result.stderr


def test_demo_run_twice_adds_nothing_the_second_time(demo_db_url):
    result = run_tiyan("demo", "--db", demo_db_url)
    assert result.returncode == 0 and "already in this database" in result.stdout
    assert "admin@demo.tiyan.dev" in result.stdout


def test_units_create_builds_the_tree_and_refuses_duplicates_and_unknown_parents(tmp_path):
    url = fresh_sqlite(tmp_path)
    root = run_tiyan("units", "create", "--code", "hq", "--name-zh", "总部", "--name-en", "HQ",
                     "--kind", "company", "--db", url)
    assert root.returncode == 0, root.stderr
    store = ("units", "create", "--code", "s1", "--name-zh", "一店", "--name-en", "Store 1",
             "--kind", "store", "--parent", "hq", "--db", url)
    assert run_tiyan(*store).returncode == 0
    duplicate = run_tiyan(*store)
    assert duplicate.returncode == 1 and 'code "s1" already exists' in duplicate.stderr
    orphan = run_tiyan("units", "create", "--code", "s2", "--name-zh", "二店", "--name-en", "S2",
                       "--kind", "store", "--parent", "nowhere", "--db", url)
    assert orphan.returncode == 1 and 'no unit with code "nowhere"' in orphan.stderr
    second_root = run_tiyan("units", "create", "--code", "x", "--name-zh", "另", "--name-en", "X",
                            "--kind", "company", "--db", url)
    assert second_root.returncode == 1 and "already a root unit" in second_root.stderr
    admin = run_tiyan("users", "create", "--email", "boss@hq.cn", "--password", "long enough",
                      "--role", "admin", "--unit", "hq", "--db", url)
    assert admin.returncode == 0, admin.stderr
