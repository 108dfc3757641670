"""Uploaded files live under TIYAN_DATA_DIR/files unless TIYAN_FILES_DIR says otherwise."""

from pathlib import Path

from tiyan.settings import load_settings


def test_files_default_to_the_data_folder_and_files_dir_overrides(monkeypatch):
    monkeypatch.delenv("TIYAN_FILES_DIR", raising=False)
    monkeypatch.setenv("TIYAN_DATA_DIR", "/srv/tiyan")
    assert load_settings().files_path() == Path("/srv/tiyan/files")
    monkeypatch.setenv("TIYAN_FILES_DIR", "/mnt/uploads")
    assert load_settings().files_path() == Path("/mnt/uploads")
    monkeypatch.setenv("TIYAN_FILES_DIR", "")
    assert load_settings().files_path() == Path("/srv/tiyan/files")
