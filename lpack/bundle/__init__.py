"""Install for the target into a cached tree, select files, write the zip."""
