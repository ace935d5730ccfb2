"""The mixed-type benchmark query shared by the benches: six columns, ~10% NULLs each, made with DuckDB SQL."""

# BIGINT, DOUBLE, DECIMAL(18,2), VARCHAR, DATE, TIMESTAMP; nothing downloaded. Format with rows=N.
MIXED_QUERY = """
SELECT
  CASE WHEN hash(i, 1) % 10 = 0 THEN NULL ELSE (hash(i) % 1000000000)::BIGINT END AS id,
  CASE WHEN hash(i, 2) % 10 = 0 THEN NULL ELSE (hash(i, 3) % 100000) / 7.0 END::DOUBLE AS amount,
  CASE WHEN hash(i, 4) % 10 = 0 THEN NULL
       ELSE ((hash(i, 5) % 10000000000)::BIGINT / 100.0)::DECIMAL(18,2) END AS price,
  CASE WHEN hash(i, 6) % 10 = 0 THEN NULL ELSE 'customer_' || (hash(i, 7) % 50000)::VARCHAR END AS name,
  CASE WHEN hash(i, 8) % 10 = 0 THEN NULL ELSE DATE '1990-01-01' + (hash(i, 9) % 12000)::INTEGER END AS day,
  CASE WHEN hash(i, 10) % 10 = 0 THEN NULL
       ELSE TIMESTAMP '2000-01-01' + to_microseconds((hash(i, 11) % 800000000000000)::BIGINT) END AS ts
FROM range({rows}) t(i)
"""
