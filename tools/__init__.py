"""Developer tools, not shipped with the package: fitting the shipped files and studies."""
