/**
 * Column output in the manner of util-linux tables: a header row, columns padded to their
 * widest cell, numbers aligned right.
 */

/**
 * @typedef {object} Column
 * @property {string} header
 * @property {(row: any) => string | number | boolean | null | undefined} value
 * @property {boolean} [right]  align right (numbers)
 */

/**
 * @param {Column[]} columns
 * @param {any[]} rows
 * @returns {string} the table, one line per row plus the header, ending with a newline
 */
export function formatTable(columns, rows) {
  const cells = rows.map((row) => columns.map((column) => cellText(column.value(row))));
  const widths = columns.map((column, i) =>
    Math.max(column.header.length, ...cells.map((line) => line[i].length)),
  );
  const render = (line) =>
    line
      .map((text, i) => (columns[i].right ? text.padStart(widths[i]) : text.padEnd(widths[i])))
      .join(" ")
      .trimEnd();
  const header = render(columns.map((column) => column.header));
  return [header, ...cells.map(render)].join("\n") + "\n";
}

/** Booleans print as losetup prints flags: 1 or 0. */
function cellText(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "boolean") return value ? "1" : "0";
  return String(value);
}
