"""What the tests share, as plain modules: fakes, sample data and helpers. Fixtures live in the conftests and
build on these; no test module imports another test module or a conftest."""
