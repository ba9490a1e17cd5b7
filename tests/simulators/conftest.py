"""Fixtures for the simulator tests: small generated businesses and clients for the app.

``business`` is shared by the tests of a module that only read; tests that change the business
(advancing days, writing to the CRM) build their own with ``new_business``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from puente.simulators import Business, Credentials, Faults, Limits, create_app


def small_business(seed: int = 5, customers: int = 150, history_days: int = 300, woocommerce: bool = False,
                   tiendanube: bool = False) -> Business:
    return Business(seed=seed, customers=customers, history_days=history_days, woocommerce=woocommerce,
                    tiendanube=tiendanube)


@pytest.fixture(scope="module")
def business() -> Business:
    return small_business()


@pytest.fixture
def new_business() -> Callable[..., Business]:
    return small_business


@pytest.fixture(scope="session")
def credentials() -> Credentials:
    return Credentials()


@pytest.fixture
def client_for(credentials: Credentials) -> Callable[..., TestClient]:
    """``client_for(business, limits=…, faults=…)``: an in-process client of the whole app."""

    def make(business: Business, limits: Limits | None = None, faults: Faults | None = None) -> TestClient:
        return TestClient(create_app(business, credentials, limits, faults))

    return make
