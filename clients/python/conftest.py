"""Command-line options of the tests (here, at the root, so that pytest knows them before it reads tests/)."""


def pytest_addoption(parser):
    parser.addoption("--server-jar", default=None,
                     help="the server jar to run (default: scripts/run-server, which builds it if needed)")
    parser.addoption("--java", default=None, help="the java executable for --server-jar (default: java on PATH)")
