def pytest_addoption(parser):
    parser.addoption("--large", action="store_true", help="also benchmark 2**27 elements")


def pytest_generate_tests(metafunc):
    if "n" in metafunc.fixturenames:
        sizes = [1000, 65536, 1_000_000, 16_000_000]
        if metafunc.config.getoption("--large"):
            sizes.append(1 << 27)
        metafunc.parametrize("n", sizes, ids=lambda n: f"n={n}")
