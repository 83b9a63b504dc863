// T5 peer: DuckDB reads the CSV and writes it as Parquet.
const { DuckDBInstance } = require("@duckdb/node-api");
(async () => {
  const db = await DuckDBInstance.create(":memory:");
  const con = await db.connect();
  await con.run(`COPY (SELECT * FROM read_csv('${process.argv[2]}')) TO '${process.argv[3]}' (FORMAT parquet)`);
  console.log("ok");
})();
