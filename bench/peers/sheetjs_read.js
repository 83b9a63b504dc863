// T4 peer: read every workbook of a folder with SheetJS in one process.
const fs = require("fs");
const path = require("path");
const XLSX = require("xlsx");
const dir = process.argv[2];
let rows = 0;
for (const name of fs.readdirSync(dir).sort()) {
  const wb = XLSX.readFile(path.join(dir, name));
  for (const s of wb.SheetNames) rows += XLSX.utils.sheet_to_json(wb.Sheets[s], { header: 1 }).length;
}
console.log(rows);
