"""scripts/matrix: the default scenarios over the whole Xen matrix, one
scripts/boot per cell, resumable, with a markdown and an HTML table."""
