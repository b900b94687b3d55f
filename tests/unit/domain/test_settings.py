import pytest

from switchboard.core.settings import SettingsError, StoreSettings


def test_settings_name_the_missing_variable():
    with pytest.raises(SettingsError, match="TABLE_NAME: missing"):
        StoreSettings.from_environ({"AWS_REGION": "us-east-1"})


def test_empty_variables_count_as_missing():
    with pytest.raises(SettingsError, match="AWS_REGION: missing"):
        StoreSettings.from_environ({"TABLE_NAME": "switchboard", "AWS_REGION": ""})


def test_settings_read_from_the_environment():
    settings = StoreSettings.from_environ(
        {"TABLE_NAME": "switchboard", "AWS_REGION": "us-east-1", "DYNAMODB_ENDPOINT": "http://127.0.0.1:8000"}
    )
    assert settings.dynamodb_endpoint == "http://127.0.0.1:8000"


def test_every_problem_is_named_at_once():
    from switchboard.core.settings import DeploymentSettings

    with pytest.raises(SettingsError, match=r"ENVIRONMENT: must be one of local, demo, prod"):
        DeploymentSettings.from_environ({"ENVIRONMENT": "staging"})
    with pytest.raises(SettingsError, match=r"TABLE_NAME: must be at least 3 characters; AWS_REGION: missing"):
        StoreSettings.from_environ({"TABLE_NAME": "sb"})


def test_settings_are_frozen():
    settings = StoreSettings.from_environ({"TABLE_NAME": "switchboard", "AWS_REGION": "us-east-1"})
    assert settings.dynamodb_endpoint is None
    with pytest.raises(AttributeError):
        settings.table_name = "other"  # type: ignore[misc]
