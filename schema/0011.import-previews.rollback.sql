-- Undo 0011: previews go; their files stay until retention finds them unreferenced.
DROP TABLE import_previews;
