from pathlib import Path

from tiyan.settings import Settings, settings_markdown

DOCS = Path(__file__).parents[3] / "docs"


def test_the_settings_page_is_generated_from_the_code():
    assert (DOCS / "settings.md").read_text(encoding="utf-8") == settings_markdown()


def test_every_setting_is_documented():
    assert all(field.description for field in Settings.model_fields.values())
