"""The edge where outside data comes in (and goes out as files): one loader per kind of input.

- documents: YAML and JSON files and strings (load_document, parse_document -> Document,
  whose .error(path, ...) names file:line:column and field).
- csvfiles: CSV files, plain or gzip (read_csv -> CsvTable, whole columns, file:line errors).
- csvout: CSV output that spreadsheets cannot run (csv_writer, write_csv, safe_cell).
- paths: output paths checked before any work starts (check_output_file, check_output_dir).

Every problem is an InputError (exit 2). Modules are imported on demand: importing this
package costs nothing.
"""
