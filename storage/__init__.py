"""Storage: tortoise models, schema migrations, importers and the queries the engine needs."""
