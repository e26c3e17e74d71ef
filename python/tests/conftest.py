"""Shared fixtures: the tables, loaded once per session from $NASCENT_DATA (ctest sets it)."""

import pytest

import nascent


@pytest.fixture(scope="session")
def table():
    return nascent.NB201Table.load()


@pytest.fixture(scope="session")
def evaluator(table):
    return table.evaluator("cifar10", "valid_acc@12")
