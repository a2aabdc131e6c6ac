"""One module per exercise notebook, each with a ``SPECS`` list (see ``dlcore.grading``)."""
