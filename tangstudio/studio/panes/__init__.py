"""The four panes of the studio, one module each."""
