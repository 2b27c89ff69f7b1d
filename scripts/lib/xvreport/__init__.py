"""scripts/report's modules: tap (reading boots), figures (human units and
the telling figures per area), summary (the terminal text), plots (one
function per plot), page (the HTML), cli (the command line)."""
